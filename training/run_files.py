"""Writing a ``fit`` run directory's files (docs/architecture.md, "Run directory"), model.keras aside."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from contract.document import Contract
from contract.run_dir import write_contract, write_record, write_windows
from training.report import plot_confusion, plot_history
from training.split import Split

RUN_FILES = ("model.keras", "contract.json", "windows.npz", "split.json", "metrics.json", "run.json",
             "history.png", "confusion.png")


def write_run_files(run_dir: Path, contract: Contract, split: Split, metrics: dict, run: dict,
                    calibration: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray],
                    history: dict) -> None:
    """contract.json, split.json, metrics.json, run.json, windows.npz and the two plots. ``calibration``:
    the windows model.keras was trained on (the converter calibrates on them); ``test``: the split's test side."""
    write_contract(run_dir, contract)
    for name, content in (("split.json", split.describe()), ("metrics.json", metrics), ("run.json", run)):
        write_record(run_dir, name, content)
    write_windows(run_dir, calibration, test)
    plot_history(history, run_dir / "history.png")
    plot_confusion(np.array(metrics["confusion"]), contract.labels, run_dir / "confusion.png",
                   f"test ({split.kind} split): accuracy {metrics['accuracy']:.3f}")
