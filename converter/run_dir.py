"""The converter's view of a run directory: contract/run_dir.py reads it (its errors become ConverterError),
and the float model is loaded and checked against the contract here."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from contract import input as model_input
from contract import run_dir as run_files
from contract.document import Contract  # noqa: F401 (the converter's callers name it from here)
from contract.fields import ContractError
from contract.run_dir import Windows  # noqa: F401
from converter import ConverterError


def check_run_dir(run_dir: Path) -> None:
    try:
        run_files.check_run_dir(run_dir)
    except ContractError as e:
        raise ConverterError(str(e)) from None


def load_contract(run_dir: Path) -> Contract:
    """RUN_DIR/contract.json as contract/ reads and checks it; ConverterError naming the file and field."""
    try:
        return run_files.read_contract(run_dir)
    except ContractError as e:
        raise ConverterError(str(e)) from None


def load_windows(run_dir: Path, contract: Contract) -> Windows:
    try:
        return run_files.read_windows(run_dir, contract)
    except ContractError as e:
        raise ConverterError(str(e)) from None


def normalize(x: np.ndarray, contract: Contract) -> np.ndarray:
    """The model's input: ``(x - mean) / std`` per channel, as the contract says (contract.input.normalize)."""
    return model_input.normalize(x, contract)


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
