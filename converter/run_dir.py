"""Reading a run directory: the contract, the raw windows and the float model."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from contract import input as model_input
from contract.labels import LabelError, c_identifiers
from converter import ConverterError
from converter.postprocess import contract_unknown, contract_version, version_note

# Required in every contract; version 2 adds unknown_label and unknown_threshold (null or absent: none).
CONTRACT_KEYS = ("rate_hz", "channels", "window", "hop", "labels", "idle_label", "normalization", "score_threshold")


@dataclass
class Contract:
    """The pipeline contract decided by training (contract.json)."""

    rate_hz: float
    channels: list[str]
    window: int
    hop: int
    labels: list[str]
    idle_label: str | None  # None when the dataset has no idle gesture
    mean: np.ndarray  # (channels,) float32
    std: np.ndarray  # (channels,) float32
    score_threshold: float
    arch: str
    raw: dict
    version: int = 1  # contract_version (1: written before the unknown class)
    unknown_label: str | None = None  # None: no unknown class (always so for version 1)
    unknown_threshold: float | None = None  # None: a window is unknown only when that label is top-1
    version_note: str | None = None  # one line for the user when the contract is read with older behaviour

    @property
    def idle_index(self) -> int:
        """Index of the idle label, or -1 when the contract has none."""
        return self.labels.index(self.idle_label) if self.idle_label is not None else -1

    @property
    def unknown_index(self) -> int:
        """Index of the unknown label, or -1 when the contract has none."""
        return self.labels.index(self.unknown_label) if self.unknown_label is not None else -1


@dataclass
class Windows:
    """Raw (un-normalized) windows in g and deg/s with integer labels (windows.npz)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def check_run_dir(run_dir: Path) -> None:
    if not run_dir.is_dir():
        raise ConverterError(f"{run_dir}: no such run directory; train one with `nanogest fit`")
    for name in ("model.keras", "contract.json"):
        if not (run_dir / name).is_file():
            raise ConverterError(
                f"{run_dir}: has no {name}; a run directory is written by `nanogest fit` "
                "and needs model.keras, contract.json and windows.npz"
            )


def load_contract(run_dir: Path) -> Contract:
    path = run_dir / "contract.json"
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConverterError(f"{path}: missing; re-run `nanogest fit` to write it") from None
    except json.JSONDecodeError as e:
        raise ConverterError(f"{path}:{e.lineno}: not valid JSON ({e.msg})") from None
    version = contract_version(raw, str(path))  # first: a newer contract may have other keys
    missing = [k for k in CONTRACT_KEYS if k not in raw]
    if missing:
        raise ConverterError(f"{path}: missing {', '.join(missing)}; see docs/architecture.md for the contract fields")
    norm = raw["normalization"]
    channels = list(raw["channels"])
    mean = np.asarray(norm.get("mean", []), dtype=np.float32)
    std = np.asarray(norm.get("std", []), dtype=np.float32)
    if mean.shape != (len(channels),) or std.shape != (len(channels),):
        raise ConverterError(
            f"{path}: normalization needs {len(channels)} mean and {len(channels)} std values "
            f"(one per channel), got {mean.size} and {std.size}"
        )
    if np.any(std <= 0):
        raise ConverterError(f"{path}: normalization std must be positive for every channel, got {std.tolist()}")
    labels = [str(label) for label in raw["labels"]]
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise ConverterError(f"{path}: labels must be at least two distinct names, got {labels}")
    try:
        c_identifiers(labels)  # the header names each label's index (converter/headers.py)
    except LabelError as e:
        raise ConverterError(f"{path}: {e}") from None
    if raw["idle_label"] is not None and raw["idle_label"] not in labels:
        raise ConverterError(f"{path}: idle_label {raw['idle_label']!r} is not one of the labels {labels}")
    window, hop = int(raw["window"]), int(raw["hop"])
    if window <= 0 or hop <= 0 or float(raw["rate_hz"]) <= 0:
        raise ConverterError(f"{path}: window, hop and rate_hz must be positive")
    unknown_label, unknown_threshold = contract_unknown({**raw, "labels": labels}, str(path))
    return Contract(
        rate_hz=float(raw["rate_hz"]),
        channels=channels,
        window=window,
        hop=hop,
        labels=labels,
        idle_label=None if raw["idle_label"] is None else str(raw["idle_label"]),
        mean=mean,
        std=std,
        score_threshold=float(raw["score_threshold"]),
        arch=str(raw.get("arch", "unknown")),
        raw=raw,
        version=version,
        unknown_label=unknown_label,
        unknown_threshold=unknown_threshold,
        version_note=version_note(raw, str(path)),
    )


def load_windows(run_dir: Path, contract: Contract) -> Windows:
    path = run_dir / "windows.npz"
    if not path.is_file():
        raise ConverterError(f"{path}: missing; the converter calibrates and verifies on it (re-run `nanogest fit`)")
    with np.load(path) as npz:
        missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in npz.files]
        if missing:
            raise ConverterError(f"{path}: missing arrays {', '.join(missing)}")
        w = Windows(*(np.asarray(npz[k]) for k in ("x_train", "y_train", "x_test", "y_test")))
    shape = (contract.window, len(contract.channels))
    for name in ("x_train", "x_test"):
        x = getattr(w, name)
        if x.ndim != 3 or x.shape[1:] != shape:
            raise ConverterError(f"{path}: {name} has shape {x.shape}, expected (n, {shape[0]}, {shape[1]}) from the contract")
    if len(w.x_train) == 0 or len(w.x_test) == 0:
        raise ConverterError(f"{path}: x_train and x_test must each hold at least one window")
    n_labels = len(contract.labels)
    for name in ("y_train", "y_test"):
        y = getattr(w, name)
        if y.size and (y.min() < 0 or y.max() >= n_labels):
            raise ConverterError(f"{path}: {name} holds label indices outside 0..{n_labels - 1}")
    w.x_train = w.x_train.astype(np.float32)
    w.x_test = w.x_test.astype(np.float32)
    w.y_train = w.y_train.astype(np.int64)
    w.y_test = w.y_test.astype(np.int64)
    return w


def normalize(x: np.ndarray, contract: Contract) -> np.ndarray:
    """The model's input: ``(x - mean) / std`` per channel, as the contract says (contract.input.normalize)."""
    return model_input.normalize(x, contract.raw)


def load_model(run_dir: Path, contract: Contract):
    """Load model.keras and check it against the contract (one input (window, channels), one output per label)."""
    import keras

    path = run_dir / "model.keras"
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as e:  # Keras raises many types for a damaged file
        raise ConverterError(f"{path}: cannot be loaded by Keras ({type(e).__name__}: {e})") from None
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ConverterError(
            f"{path}: has {len(model.inputs)} inputs and {len(model.outputs)} outputs; "
            "the converter takes a windowed classifier with one input and one output"
        )
    in_shape = tuple(model.inputs[0].shape[1:])
    want = (contract.window, len(contract.channels))
    if in_shape != want:
        raise ConverterError(f"{path}: input shape is {in_shape}, but the contract says windows of {want}")
    n_out = int(model.outputs[0].shape[-1])
    if n_out != len(contract.labels):
        raise ConverterError(
            f"{run_dir}: contract.json lists {len(contract.labels)} labels but the model has {n_out} outputs; "
            "the run directory is inconsistent, re-run `nanogest fit`"
        )
    return model
