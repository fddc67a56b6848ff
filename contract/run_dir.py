"""The run directory (RUN_DIR, docs/architecture.md): its file names, and the one reader and writer of
its contract.json, windows.npz and JSON records.

``nanogest fit``, ``adapt``, the search's trials, the converter and the board tools all go through
here; problems are one ``ContractError`` line naming the file, which each stage re-raises as its own.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from contract.document import Contract
from contract.fields import ContractError

MODEL_FILE = "model.keras"
SPLIT_MODEL_FILE = "model_split.keras"  # --final: the split run's model, the one metrics.json scores
CONTRACT_FILE = "contract.json"
WINDOWS_FILE = "windows.npz"
SPLIT_FILE = "split.json"
METRICS_FILE = "metrics.json"
RUN_FILE = "run.json"
ADAPT_FILE = "adapt.json"
REPORT_FILE = "report.json"  # written by the converter
INT8_MODEL_FILE = "model_int8.tflite"  # written by the converter
WINDOW_ARRAYS = ("x_train", "y_train", "x_test", "y_test")


def contract_path(run_dir) -> Path:
    return Path(run_dir) / CONTRACT_FILE


def check_run_dir(run_dir: Path) -> None:
    """A run directory written by ``nanogest fit``: the model and the contract are there."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ContractError(f"{run_dir}: no such run directory; train one with `nanogest fit`")
    for name in (MODEL_FILE, CONTRACT_FILE):
        if not (run_dir / name).is_file():
            raise ContractError(f"{run_dir}: has no {name}; a run directory is written by `nanogest fit` "
                                "and needs model.keras, contract.json and windows.npz")


def read_contract(run_dir) -> Contract:
    """RUN_DIR/contract.json, checked (``ContractError`` naming the file and the field)."""
    return read_contract_file(contract_path(run_dir))


def read_contract_file(path: Path) -> Contract:
    path = Path(path)
    return Contract.from_dict(_read_json(path, "; re-run `nanogest fit` to write it"), str(path))


def write_contract(run_dir, contract: Contract) -> Path:
    """RUN_DIR/contract.json, replaced atomically (a reader never sees half a file)."""
    return _write_json(contract_path(run_dir), contract.to_dict())


def copy_contract(from_dir, to_dir) -> Contract:
    """``from_dir``'s contract.json into ``to_dir`` byte for byte (adapt keeps its base run's), once it reads."""
    contract = read_contract(from_dir)
    shutil.copyfile(contract_path(from_dir), contract_path(to_dir))
    return contract


@dataclass
class Windows:
    """Raw (un-normalized) windows in g and deg/s with integer labels (windows.npz)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def write_windows(run_dir, train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray]) -> None:
    """windows.npz: ``train`` the windows the model was trained on (the converter calibrates on them),
    ``test`` the windows it is scored on."""
    (x_train, y_train), (x_test, y_test) = train, test
    np.savez_compressed(Path(run_dir) / WINDOWS_FILE, x_train=x_train.astype(np.float32), y_train=y_train.astype(np.int32),
                        x_test=x_test.astype(np.float32), y_test=y_test.astype(np.int32))


def read_windows(run_dir, contract: Contract) -> Windows:
    """windows.npz, checked against the contract's window, channels and labels."""
    path = Path(run_dir) / WINDOWS_FILE
    if not path.is_file():
        raise ContractError(f"{path}: missing; the converter calibrates and verifies on it (re-run `nanogest fit`)")
    try:
        with np.load(path) as npz:
            missing = [k for k in WINDOW_ARRAYS if k not in npz.files]
            if missing:
                raise ContractError(f"{path}: missing arrays {', '.join(missing)}")
            w = Windows(*(np.asarray(npz[k]) for k in WINDOW_ARRAYS))
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise ContractError(f"{path}: unreadable ({e}); re-run `nanogest fit`") from None
    _check_windows(path, w, contract)
    return Windows(w.x_train.astype(np.float32), w.y_train.astype(np.int64),
                   w.x_test.astype(np.float32), w.y_test.astype(np.int64))


def _check_windows(path: Path, w: Windows, contract: Contract) -> None:
    shape = (contract.window, len(contract.channels))
    for name in ("x_train", "x_test"):
        x = getattr(w, name)
        if x.ndim != 3 or x.shape[1:] != shape:
            raise ContractError(f"{path}: {name} has shape {x.shape}, expected (n, {shape[0]}, {shape[1]}) from the contract")
    if len(w.x_train) == 0 or len(w.x_test) == 0:
        raise ContractError(f"{path}: x_train and x_test must each hold at least one window")
    n_labels = len(contract.labels)
    for name in ("y_train", "y_test"):
        y = getattr(w, name)
        if y.size and (y.min() < 0 or y.max() >= n_labels):
            raise ContractError(f"{path}: {name} holds label indices outside 0..{n_labels - 1}")


def write_record(run_dir, name: str, content: dict) -> Path:
    """One of the run's JSON records (split.json, metrics.json, run.json, adapt.json, ...)."""
    return _write_json(Path(run_dir) / name, content)


def read_record(run_dir, name: str) -> dict:
    """One of the run's JSON records; ``ContractError`` naming the file when it is missing or not JSON."""
    return _read_json(Path(run_dir) / name)


def _read_json(path: Path, when_missing: str = ""):
    """The JSON in ``path``; ``ContractError`` naming it when it is missing (then ``when_missing`` follows),
    unreadable or not JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ContractError(f"{path}: missing{when_missing}") from None
    except json.JSONDecodeError as e:
        raise ContractError(f"{path}:{e.lineno}: not valid JSON ({e.msg})") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ContractError(f"{path}: cannot be read ({e})") from None


def _write_json(path: Path, content) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(content, indent=2) + "\n")
    os.replace(tmp, path)
    return path
