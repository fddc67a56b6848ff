"""Writing a ``fit`` run directory's files (docs/architecture.md, "Run directory"), model.keras aside."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from training.report import plot_confusion, plot_history
from training.split import Split

RUN_FILES = ("model.keras", "contract.json", "windows.npz", "split.json", "metrics.json", "run.json",
             "history.png", "confusion.png")


def write_run_files(run_dir: Path, contract: dict, split: Split, metrics: dict, run: dict,
                    calibration: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray],
                    history: dict) -> None:
    """contract.json, split.json, metrics.json, run.json, windows.npz and the two plots. ``calibration``:
    the windows model.keras was trained on (the converter calibrates on them); ``test``: the split's test side."""
    for name, content in (("contract.json", contract), ("split.json", split.describe()), ("metrics.json", metrics),
                          ("run.json", run)):
        (run_dir / name).write_text(json.dumps(content, indent=2) + "\n")
    (x_calibration, y_calibration), (x_test, y_test) = calibration, test
    np.savez_compressed(run_dir / "windows.npz", x_train=x_calibration.astype(np.float32),
                        y_train=y_calibration.astype(np.int32),
                        x_test=x_test.astype(np.float32), y_test=y_test.astype(np.int32))
    plot_history(history, run_dir / "history.png")
    plot_confusion(np.array(metrics["confusion"]), contract["labels"], run_dir / "confusion.png",
                   f"test ({split.kind} split): accuracy {metrics['accuracy']:.3f}")
