"""The novelty gate ``training fit`` gives windowed models (training/novelty.py): fitted on the training
people, its level from them held out in turn, carried in the contract."""

import json
from pathlib import Path

import numpy as np
import pytest

from capture.synth import write_dataset
from contract.document import Contract, ContractError
from training import novelty
from training.fit import FitOptions, fit

DEVNULL = open("/dev/null", "w")


def people_windows(seed=0, n=120):
    """Six people's normalized windows, each person's a little shifted and scaled."""
    rng = np.random.default_rng(seed)
    return {f"p{i}": rng.normal(0.1 * i, 1 + 0.05 * i, size=(n, 30, 6)) for i in range(6)}


def test_the_level_keeps_the_share_of_held_out_windows_and_rejects_what_is_far():
    people = people_windows()
    gate = novelty.fit_gate(lambda ss: np.concatenate([people[s] for s in ss]), sorted(people), seed=0)
    assert gate.keep_percent == novelty.KEEP_PERCENT
    groups = gate.held_out["held_out_groups"]
    assert sorted(sum(groups, [])) == sorted(people) and len(groups) == novelty.GROUPS
    everyone = np.concatenate(list(people.values()))
    d = novelty.gate_distances(novelty.gate_features(everyone), gate.a, gate.b)
    assert 0.9 <= (d <= gate.level).mean() <= 1.0  # its own people: about what held out people kept
    far = 4.0 * np.random.default_rng(1).normal(size=(50, 30, 6))  # four times the motion
    assert (novelty.gate_distances(novelty.gate_features(far), gate.a, gate.b) > gate.level).all()


def test_the_whitening_gives_the_training_statistics_identity_covariance():
    f = novelty.gate_features(np.concatenate(list(people_windows().values())))
    a, b = novelty.whitening(f)
    w = f @ a.T + b
    assert np.allclose(w.mean(0), 0, atol=1e-6)
    assert np.allclose(np.cov(w.T), np.eye(f.shape[1]), atol=0.05)


def test_one_person_gets_no_gate():
    people = people_windows()
    assert novelty.fit_gate(lambda ss: np.concatenate([people[s] for s in ss]), ["p0"], seed=0) is None


def test_fit_gives_a_windowed_run_a_gate_and_an_unknown_label_the_contract_carries(tmp_path):
    data = tmp_path / "data"
    write_dataset(data, ["ann", "bob", "cem", "dan"], 3, 119.0, labels=("punch", "flex"))
    fit(data, tmp_path / "run", FitOptions(epochs=2), log=DEVNULL)
    raw = json.loads((tmp_path / "run" / "contract.json").read_text())
    assert raw["labels"] == ["flex", "punch", "unknown"] and raw["unknown_label"] == "unknown"
    gate = raw["novelty_gate"]
    assert len(gate["weights"]) == 24 and len(gate["bias"]) == 24 and gate["level"] > 0
    assert gate["keep_percent"] == novelty.KEEP_PERCENT
    contract = Contract.from_dict(raw)
    assert contract.to_dict() == raw  # read and written back unchanged
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert 0 <= metrics["novelty_gate"]["test_windows_kept"] <= 1
    assert metrics["novelty_gate"]["accuracy_gated"] <= metrics["accuracy"] + 1e-9


def test_no_gate_and_the_step_families_leave_the_contract_without_one(tmp_path):
    data = tmp_path / "data"
    write_dataset(data, ["ann", "bob", "cem"], 3, 119.0, labels=("punch", "flex"))
    fit(data, tmp_path / "plain", FitOptions(epochs=1, gate=False), log=DEVNULL)
    fit(data, tmp_path / "gru", FitOptions(arch="gru", epochs=1), log=DEVNULL)
    for run in ("plain", "gru"):
        raw = json.loads((tmp_path / run / "contract.json").read_text())
        assert "novelty_gate" not in raw and raw["labels"] == ["flex", "punch"], run


def gated_contract(tmp_path: Path) -> dict:
    data = tmp_path / "data"
    write_dataset(data, ["ann", "bob", "cem"], 2, 119.0, labels=("punch", "flex"))
    fit(data, tmp_path / "run", FitOptions(epochs=1), log=DEVNULL)
    return json.loads((tmp_path / "run" / "contract.json").read_text())


def test_the_contract_refuses_a_gate_of_the_wrong_shape_or_without_an_unknown_label(tmp_path):
    raw = gated_contract(tmp_path)
    for change, message in [
        (lambda g, r: g["weights"].pop(), "novelty_gate.weights must be 24 rows of 24 numbers"),
        (lambda g, r: g["bias"].append(0.0), "novelty_gate.bias must be 24 numbers"),
        (lambda g, r: g.update(level=-1), "novelty_gate.level must be a positive number"),
        (lambda g, r: r.update(unknown_label=None), "novelty_gate needs an unknown_label"),
    ]:
        bad = json.loads(json.dumps(raw))
        change(bad["novelty_gate"], bad)
        with pytest.raises(ContractError, match=message):
            Contract.from_dict(bad, "run/contract.json")


def test_fit_refuses_a_gate_level_outside_50_to_100_percent_in_one_line(tmp_path):
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "training", "fit", str(tmp_path), "--out", str(tmp_path / "r"),
                           "--gate-keep", "101"], cwd=root, capture_output=True, text=True)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert [line for line in done.stderr.splitlines() if line.startswith("error:")] == [
        "error: --gate-keep is the share of held-out windows the gate keeps, 50 to 100 (%), got 101"]
