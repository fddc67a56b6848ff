"""``training fit --negatives``: an unknown class trained on motions made from the gestures."""

import json
import subprocess
import sys
from pathlib import Path

from capture.synth import write_dataset
from training.fit import FitOptions, fit

ROOT = Path(__file__).resolve().parents[2]


def test_fit_with_negatives_trains_an_unknown_label_the_contract_names(tmp_path):
    data = tmp_path / "data"
    write_dataset(data, ["ann", "bob", "cem"], 3, 119.0, labels=("punch", "flex"))
    run = tmp_path / "run"
    fit(data, run, FitOptions(epochs=2, negatives=("reverse", "shake")), log=open("/dev/null", "w"))
    contract = json.loads((run / "contract.json").read_text())
    assert contract["labels"] == ["flex", "punch", "unknown"] and contract["unknown_label"] == "unknown"
    metrics = json.loads((run / "metrics.json").read_text())
    gestures = metrics["n_train"] - metrics["negatives"]["train_windows"]
    assert metrics["negatives"] == {"kinds": ["reverse", "shake"], "train_windows": gestures}  # one per gesture window


def test_fit_refuses_an_unknown_negative_kind_with_one_error_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "training", "fit", str(tmp_path), "--out", str(tmp_path / "r"),
                           "--negatives", "mirror"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2
    assert [l for l in done.stderr.splitlines() if l.startswith("error:")] == [
        "error: unknown negative kind(s) mirror; choose from reverse, redirect, shake, chimera, wander or 'all'"]
