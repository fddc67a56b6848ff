"""contract.json as a typed document: read, validated, versioned and written back in one place.

``Contract.from_dict`` checks a parsed contract.json and gives its fields; ``to_dict`` gives the
document back with every key the file held, in the file's order, keys this version does not know
kept as they were. A key an older file lacks comes back only once it holds something other than
what its absence means (``ABSENT``), so reading and writing a file changes nothing in it.

Versions (``contract.pipeline.CONTRACT_VERSION``): a contract without ``contract_version``, or with
version 1, is read as before the unknown class: no unknown label nor novelty gate, whatever it holds (those keys are
kept as unknown ones); ``version_note`` says so in one line. A newer version is refused by name.
Every problem is one ``ContractError`` line naming the file and the field.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field

import numpy as np

from contract.checks import checked_fields, checked_gru
# The value types and the error, named from here too: callers import the contract's parts from one module.
from contract.fields import (DEFAULT_GATE, ContractError, FrontEndLayer, GruShape, MotionGate, Normalization,  # noqa: F401
                             NoveltyGate)
from contract.pipeline import (CHANNELS, CONTRACT_VERSION, DEFAULT_AGREEMENT, DEFAULT_MOTION_GATE, DEFAULT_REFRACTORY_S,
                               DEFAULT_SCORE_THRESHOLD, UNITS)

# Every key in the order ``nanogest fit`` writes them; the last three only when they hold something.
KEYS = ("contract_version", "rate_hz", "channels", "units", "window", "hop", "labels", "idle_label", "normalization",
        "arch", "score_threshold", "agreement", "refractory_s", "motion_gate", "unknown_label", "unknown_threshold",
        "gru", "novelty_gate", "postprocess_tuning", "postprocess_calibration")
WRITTEN_WHEN_SET = ("gru", "novelty_gate", "postprocess_tuning", "postprocess_calibration")
UNKNOWN_CLASS_KEYS = ("unknown_label", "unknown_threshold")  # version 2


# What a missing key means, as the document would hold it; to_dict writes a key the file lacked only
# once it holds something else.
ABSENT = {"contract_version": 1, "units": None, "arch": None, "agreement": DEFAULT_AGREEMENT,
          "refractory_s": DEFAULT_REFRACTORY_S, "motion_gate": dict(DEFAULT_MOTION_GATE), "unknown_label": None,
          "unknown_threshold": None, "gru": None, "novelty_gate": None, "postprocess_tuning": None,
          "postprocess_calibration": None}


@dataclass(frozen=True)
class Contract:
    """The pipeline contract decided by training (contract.json), as every stage reads it. Frozen:
    ``replace`` gives a changed copy, checked like a file."""

    rate_hz: float
    window: int  # samples
    hop: int  # samples
    labels: list[str]
    idle_label: str | None  # None when the dataset has no idle gesture
    normalization: Normalization
    score_threshold: float = DEFAULT_SCORE_THRESHOLD
    arch: str | None = None  # the model family (training/families/); None in contracts that predate it
    channels: list[str] = field(default_factory=lambda: list(CHANNELS))
    units: dict | None = field(default_factory=lambda: dict(UNITS))
    version: int = CONTRACT_VERSION  # contract_version (1: written before the unknown class)
    agreement: int = DEFAULT_AGREEMENT  # confident windows in a row before a detection
    refractory_s: float = DEFAULT_REFRACTORY_S
    motion_gate: MotionGate | None = DEFAULT_GATE  # None: no gate
    unknown_label: str | None = None  # None: no unknown class (always so for version 1)
    unknown_threshold: float | None = None  # None: a window is unknown only when that label is top-1
    gru: GruShape | None = None  # GRU runs only
    novelty_gate: NoveltyGate | None = None  # None: every window is scored by the classifier alone
    # How ``nanogest calibrate`` / ``stream --tune`` chose the post-processing: a record for people, kept as written.
    postprocess_calibration: dict | None = None
    postprocess_tuning: dict | None = None
    extra: dict = field(default_factory=dict)  # keys this version does not know, as read
    source: str = field(default="contract.json", compare=False)  # the file it was read from, for messages
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)  # the file's keys; () built here

    # ------------------------------------------------------------------ derived values

    @property
    def mean(self) -> np.ndarray:
        return np.asarray(self.normalization.mean, dtype=np.float32)

    @property
    def std(self) -> np.ndarray:
        return np.asarray(self.normalization.std, dtype=np.float32)

    @property
    def idle_index(self) -> int:
        """Index of the idle label, or -1 when the contract has none."""
        return self.labels.index(self.idle_label) if self.idle_label is not None else -1

    @property
    def unknown_index(self) -> int:
        """Index of the unknown label, or -1 when the contract has none."""
        return self.labels.index(self.unknown_label) if self.unknown_label is not None else -1

    @property
    def version_note(self) -> str | None:
        """The one line saying the contract is read with older behaviour, or None for a current one."""
        if self.version >= 2:
            return None
        return (f"{self.source} is version 1 (before the unknown class): read with no unknown label; "
                "retrain with `nanogest fit` to get one")

    @property
    def postprocess_record(self) -> dict | None:
        """How the post-processing was chosen (calibrate's record first, else stream --tune's), or None."""
        return self.postprocess_calibration or self.postprocess_tuning

    def replace(self, **changes) -> Contract:
        """A copy with ``changes`` (field names), checked like a contract read from a file."""
        changed = dataclasses.replace(self, **changes)
        return Contract.from_dict(changed.to_dict(), self.source)

    # ------------------------------------------------------------------ the document

    @classmethod
    def from_dict(cls, raw, where: str = "contract.json") -> Contract:
        """The contract of a parsed contract.json; ``ContractError`` naming ``where`` and the field."""
        if not isinstance(raw, dict):
            raise ContractError(f"{where}: not a contract (a JSON object), got {type(raw).__name__}")
        fields = checked_fields(raw, where)
        known = set(KEYS) if fields["version"] >= 2 else set(KEYS) - set(UNKNOWN_CLASS_KEYS) - {"novelty_gate"}
        extra = {k: copy.deepcopy(v) for k, v in raw.items() if k not in known}
        return cls(**fields, extra=extra, source=where, key_order=tuple(raw))

    def to_dict(self) -> dict:
        """contract.json's document: the file's keys in its order, then keys set since, then keys added to ``extra``."""
        values = self._known_values()
        present = self.key_order or tuple(k for k in KEYS if k not in WRITTEN_WHEN_SET)
        out = {}
        for key in present:
            if key in self.extra:
                out[key] = copy.deepcopy(self.extra[key])
            elif key in values:
                out[key] = values[key]
        for key in KEYS:
            if key not in out and key not in self.extra and values[key] != ABSENT.get(key):
                out[key] = values[key]
        out.update((k, copy.deepcopy(v)) for k, v in self.extra.items() if k not in out)
        return out

    def _known_values(self) -> dict:
        gate = self.motion_gate
        return {
            "contract_version": self.version, "rate_hz": float(self.rate_hz), "channels": list(self.channels),
            "units": copy.deepcopy(self.units), "window": int(self.window), "hop": int(self.hop),
            "labels": list(self.labels), "idle_label": self.idle_label,
            "normalization": {"mean": list(self.normalization.mean), "std": list(self.normalization.std)},
            "arch": self.arch, "score_threshold": self.score_threshold, "agreement": self.agreement,
            "refractory_s": self.refractory_s,
            "motion_gate": None if gate is None else {"measure": gate.measure, "accel_weight_dps_per_g":
                                                      gate.accel_weight_dps_per_g, "threshold": gate.threshold},
            "unknown_label": self.unknown_label, "unknown_threshold": self.unknown_threshold,
            "gru": None if self.gru is None else _gru_document(self.gru),
            "novelty_gate": None if self.novelty_gate is None else self.novelty_gate.document(),
            "postprocess_tuning": copy.deepcopy(self.postprocess_tuning),
            "postprocess_calibration": copy.deepcopy(self.postprocess_calibration),
        }


def _gru_document(gru: GruShape) -> dict:
    front = None if gru.front_end is None else [layer if isinstance(layer, str) else dataclasses.asdict(layer)
                                                for layer in gru.front_end]
    return {"units": gru.units, "front_end": front}


def as_contract(contract: Contract | dict, where: str = "contract.json") -> Contract:
    """``contract`` itself, or a parsed contract.json read and checked (scripts and tests that hold the
    file's dict pass it to the functions that take a contract)."""
    return contract if isinstance(contract, Contract) else Contract.from_dict(contract, where)


def normalization_of(mean, std) -> Normalization:
    """A Normalization of two sequences of numbers, kept as Python floats (written back exactly)."""
    return Normalization(tuple(float(v) for v in mean), tuple(float(v) for v in std))


def gru_shape(description: dict | None) -> GruShape | None:
    """The GruShape of ``training.models.gru_description``'s dict (None for a windowed model)."""
    return checked_gru(description, "the model's GRU description")
