"""The contract's error and its small value types (contract/document.py holds the contract itself)."""

from __future__ import annotations

from dataclasses import dataclass

from contract.pipeline import DEFAULT_MOTION_GATE, MOTION_MEASURE


class ContractError(Exception):
    """A contract that cannot be used as it is; one line naming the file and the field. Higher layers
    re-raise it as their own error (ConverterError, TrainingError, CaptureError)."""


@dataclass(frozen=True)
class Normalization:
    """The model's input is ``(x - mean) / std`` per channel (the training windows' statistics)."""

    mean: tuple[float, ...]
    std: tuple[float, ...]


@dataclass(frozen=True)
class MotionGate:
    """A window whose motion (gyro RMS in dps + weight x accel RMS in g) is below ``threshold`` cannot detect."""

    accel_weight_dps_per_g: float
    threshold: float
    measure: str = MOTION_MEASURE


DEFAULT_GATE = MotionGate(float(DEFAULT_MOTION_GATE["accel_weight_dps_per_g"]), float(DEFAULT_MOTION_GATE["threshold"]))


@dataclass(frozen=True)
class NoveltyGate:
    """A window whose statistics (training.novelty: each channel's max, minus its min, and the means of
    its positive and negative parts, on the normalized input) lie farther than ``level`` from the
    training windows' is unknown: the L1 norm of ``weights @ s + bias`` (the training statistics'
    whitening). ``record`` says how the level was chosen (kept as written)."""

    weights: tuple[tuple[float, ...], ...]
    bias: tuple[float, ...]
    level: float
    record: dict

    @property
    def statistics(self) -> str:
        """Which statistics the gate reads (one of contract.checks.GATE_STATISTICS): ``window``, the 4 per channel
        above, in contracts that do not say; ``lengths``, the accelerometer's and gyroscope's vector
        lengths' max, min, mean and std."""
        return self.record.get("statistics", "window")

    def document(self) -> dict:
        return {"weights": [list(r) for r in self.weights], "bias": list(self.bias), "level": self.level,
                **self.record}


@dataclass(frozen=True)
class FrontEndLayer:
    """One layer of a GRU's Conv1D front end (``filters`` and ``activation`` are None for a pooling layer)."""

    name: str
    kernel: int | None
    stride: int | None  # None only in contracts written before strides were recorded
    filters: int | None
    padding: str | None
    activation: str | None


@dataclass(frozen=True)
class GruShape:
    """The ``gru`` entry of a GRU run: its units and front end, from which the converter builds the step model."""

    units: int
    # None: the GRU reads the samples themselves. A layer given by its name alone (str) is one of a
    # contract written before the front end's layers were described.
    front_end: tuple[FrontEndLayer | str, ...] | None

    @property
    def stride_samples(self) -> int | None:
        """Samples between two GRU steps (the product of the front end's strides); None when one is not recorded."""
        stride = 1
        for layer in self.front_end or ():
            if isinstance(layer, str) or layer.stride is None:
                return None
            stride *= layer.stride
        return stride

    @property
    def chunk_samples(self) -> int | None:
        """Samples one step reads (the front end's receptive field: each layer's kernel less one times the strides
        before it, plus one; cnn-gru's layers have no dilation); None when a layer's kernel or stride is not recorded.
        The converter reads it from the step model's x_t (tests/converter/test_step_gate.py ties the two)."""
        chunk, stride = 1, 1
        for layer in self.front_end or ():
            if isinstance(layer, str) or layer.kernel is None or layer.stride is None:
                return None
            chunk += (layer.kernel - 1) * stride
            stride *= layer.stride
        return chunk

    @property
    def front_end_names(self) -> list[str]:
        return [layer if isinstance(layer, str) else layer.name for layer in self.front_end or ()]
