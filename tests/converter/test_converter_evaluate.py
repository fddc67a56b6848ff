"""`python -m converter evaluate` on a dataset directory written by capture.dataset."""

from __future__ import annotations

import json

import numpy as np
import pytest
from converter_helpers import run_cli
from converter_run_fixture import LABELS, write_dataset

from capture.dataset import TakeMeta, write_take

pytestmark = pytest.mark.slow


def test_evaluate_prints_scores_as_json(converted, tmp_path):
    data = write_dataset(tmp_path / "data", takes_per_label=2, seconds=2.0)
    proc = run_cli("evaluate", str(converted.run_dir), str(data))
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    for key in ("n", "accuracy_float", "accuracy_int8", "macro_f1_int8", "recall_int8", "top1_agreement"):
        assert key in result
    # 2 s at 50 Hz = 100 samples; windows of 25 every 6 -> 13 full-hop starts + 1 ending at the end = 14 per take
    assert result["n"] == 3 * 2 * 14
    assert result["n_takes"] == 6
    assert set(result["recall_int8"]) == set(LABELS)
    assert result["accuracy_int8"] >= 0.9 and result["macro_f1_int8"] >= 0.9
    # the board's answers: the gate only turns answers into unknown, never into another gesture
    contract = json.loads((converted.run_dir / "contract.json").read_text())
    rejected = result["novelty_gate_rejected"]
    assert (rejected is None) == ("novelty_gate" not in contract)
    assert result["accuracy_int8"] - (rejected or 0) - 1e-9 <= result["accuracy_board"] <= result["accuracy_int8"]


def test_evaluate_refuses_labels_outside_the_contract(converted, tmp_path):
    data = write_dataset(tmp_path / "data", takes_per_label=1)
    write_take(data, TakeMeta(label="punch", rate_hz=50.0), np.arange(60) * 20000, np.zeros((60, 6)))
    proc = run_cli("evaluate", str(converted.run_dir), str(data))
    assert proc.returncode == 2
    assert "punch" in proc.stderr and "not in the run's contract" in proc.stderr
    assert proc.stdout == ""
