"""What each model kind gives `nanogest convert`: one path through quantize, verify, report and headers.

A run's model is converted as one of two kinds (converter/path.py picks it from the family's
``conversion``): a windowed classifier, one invoke per window (converter/int8/window_kind.py), or a GRU
exported as a one-step model the board steps through the window (converter/gru/step_kind.py). Each kind
quantizes, names its class-score tensor, verifies in TFLM (and the board's kernels), and says what the
report and the settings header need beyond what every model has; convert.py does what is common (operator
and budget checks, arena, report, headers) and never asks which kind it holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from converter.int8.flatbuffer import TensorInfo


@dataclass
class Quantized:
    """An int8 model, how it was calibrated, and what the verification found (a kind adds its own fields)."""

    model_bytes: bytes
    n_calibration: int
    layer_names: dict[str, str]
    inp: TensorInfo | None = None  # model input (x or x_t)
    out: TensorInfo | None = None  # class scores
    pred_float: np.ndarray | None = None
    pred_int8: np.ndarray | None = None
    max_lsb: int = 0  # the gate: largest difference of an operator fed identical inputs in TFLM and reference
    output_max_lsb: int | None = None  # the model outputs' largest difference (reported); None: as max_lsb
    extra_lsb: int = 0  # allowed on top of --max-lsb (activation kernels that differ by design)
    macs_per_window: int = 0
    macs_per_invoke: int = 0
    extra: dict = field(default_factory=dict)  # report fields the kind's verification adds


class ModelKind(Protocol):
    """One model kind's path through the converter."""

    name: str  # report.json's model_kind
    description: str  # the table's "model kind" line

    def quantize(self, model, contract, x_train: np.ndarray) -> Quantized:
        """The int8 model, calibrated on the normalized training windows."""

    def scores(self, model_bytes: bytes) -> TensorInfo:
        """The class-score tensor (its quantization bounds the contract's thresholds), read before verifying."""

    def verify(self, q: Quantized, model, x_test: np.ndarray, kernels) -> dict | None:
        """Fill ``q`` from the laptop's TFLM on the test windows; the board kernels' check with ``kernels``, else None."""

    def int8_scores(self, model_bytes: bytes, model, contract, x: np.ndarray) -> np.ndarray:
        """The converted model's int8 class scores of normalized windows, as the board computes them."""

    def step(self, q: Quantized) -> dict | None:
        """The one-step model's figures (report.json's ``gru``, the header's step constants); None: none."""

    def state_bytes(self, q: Quantized) -> int:
        """RAM the firmware keeps beside the arena between invokes."""

    def table_rows(self, report: dict) -> tuple[str, list[tuple[str, str]]]:
        """What one invoke's figures are per (the table's unit), and the kind's own table rows."""
