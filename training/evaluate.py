"""``python -m training evaluate RUN_DIR DATA_DIR``: score a run's float model on a dataset it never saw.

Every take of DATA_DIR is resampled to the run's rate and cut into windows with its
contract, normalized with the run's statistics and classified by ``model.keras``. A label
the contract does not know is refused: the model cannot be right about it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from contract.document import Contract, ContractError
from contract.run_dir import MODEL_FILE, read_contract
from training import TrainingError
from training.data import load_dataset, take_windows
from training.fit import _keras, score


def _read_contract(run_dir: Path) -> Contract:
    if not (run_dir / MODEL_FILE).is_file() or not (run_dir / "contract.json").is_file():
        raise TrainingError(f"{run_dir}: not a run directory (model.keras and contract.json are written by "
                            "'nanogest fit')")
    try:
        return read_contract(run_dir)
    except ContractError as e:
        raise TrainingError(str(e)) from None


def evaluate_run(run_dir, data_dir, include_flagged: bool = False) -> dict:
    """n, accuracy, macro_f1 and per-class recall of the run's float model on DATA_DIR."""
    run_dir = Path(run_dir)
    contract = _read_contract(run_dir)
    takes = load_dataset(data_dir, include_flagged=include_flagged)
    index = {label: i for i, label in enumerate(contract.labels)}
    unknown = sorted({t.meta.label for t in takes} - set(index))
    if unknown:
        first = next(t for t in takes if t.meta.label in unknown)
        raise TrainingError(f"label(s) {', '.join(unknown)} (e.g. {first.csv_path}) are not in the run's contract "
                            f"({', '.join(contract.labels)}); evaluate on takes of those labels only")
    xs, ys = [], []
    for take in takes:
        w = take_windows(take, contract)
        xs.append(w)
        ys.append(np.full(len(w), index[take.meta.label], dtype=np.int32))
    model = _keras().models.load_model(str(run_dir / "model.keras"))
    m = score(model, np.concatenate(xs), np.concatenate(ys), contract)
    present = sorted({t.meta.label for t in takes}, key=index.get)
    return {
        "n": m["n_test"],
        "accuracy": m["accuracy"],
        "macro_f1": m["macro_f1"],
        "recall": {label: m["per_class"][label]["recall"] for label in present},
        "labels": list(contract.labels),
        "takes": len(takes),
    }
