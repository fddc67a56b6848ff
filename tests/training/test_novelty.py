"""The novelty gate ``training fit`` gives every family (training/novelty.py): fitted on the training
people, its level from them held out in turn, carried in the contract."""

import json
from pathlib import Path

import numpy as np
import pytest

from capture.synth import write_dataset
from contract.document import Contract, ContractError
from contract.fields import NoveltyGate
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
    assert gate["statistics"] == "lengths" and len(gate["weights"]) == 8 and len(gate["bias"]) == 8
    assert gate["level"] > 0 and gate["keep_percent"] == novelty.KEEP_PERCENT
    contract = Contract.from_dict(raw)
    assert contract.to_dict() == raw  # read and written back unchanged
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert 0 <= metrics["novelty_gate"]["test_windows_kept"] <= 1
    assert metrics["novelty_gate"]["accuracy_gated"] <= metrics["accuracy"] + 1e-9


def test_fit_gives_the_window_statistics_gate_when_asked(tmp_path):
    data = tmp_path / "data"
    write_dataset(data, ["ann", "bob", "cem"], 2, 119.0, labels=("punch", "flex"))
    fit(data, tmp_path / "run", FitOptions(epochs=1, gate_statistics="window", gate_keep=95.0), log=DEVNULL)
    gate = Contract.from_dict(json.loads((tmp_path / "run" / "contract.json").read_text())).novelty_gate
    assert gate.statistics == "window" and len(gate.weights) == 24 and gate.record["keep_percent"] == 95.0


def test_the_length_statistics_do_not_change_when_the_board_is_turned():
    """The same motion with the board turned on the wrist (a rotation of all three axes of both sensors):
    the window statistics move, the vector lengths do not."""
    rng = np.random.default_rng(5)
    raw = np.concatenate([rng.normal(0, 0.5, (30, 60, 3)) + [0, 0, 1], rng.normal(0, 100, (30, 60, 3))], axis=2)
    turn, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    turn *= np.linalg.det(turn)  # a rotation, not a reflection
    turned = np.concatenate([raw[..., :3] @ turn.T, raw[..., 3:] @ turn.T], axis=2)
    mean, std = np.array([0.3, 0.1, 0.6, -4, -4, -4]), np.array([0.8, 0.5, 0.7, 110, 100, 80])
    lengths = [novelty.length_features((r - mean) / std, mean, std) for r in (raw, turned)]
    np.testing.assert_allclose(lengths[0], lengths[1], rtol=1e-9, atol=1e-9)
    window = [novelty.gate_features((r - mean) / std) for r in (raw, turned)]
    assert np.abs(window[0] - window[1]).max() > 0.5


def test_no_gate_leaves_the_contract_without_one(tmp_path):
    data = tmp_path / "data"
    write_dataset(data, ["ann", "bob", "cem"], 3, 119.0, labels=("punch", "flex"))
    fit(data, tmp_path / "plain", FitOptions(epochs=1, gate=False), log=DEVNULL)
    raw = json.loads((tmp_path / "plain" / "contract.json").read_text())
    assert "novelty_gate" not in raw and raw["labels"] == ["flex", "punch"]


def test_fit_gives_a_step_family_the_gate_of_the_lengths_over_the_samples_its_steps_read(tmp_path):
    """cnn-gru at 119 Hz: 16 samples a step every 4, 26 steps read 116 of a window's 119 samples; the gate is
    fitted on those, as the board gathers them."""
    from contract.input import gate_window, normalize
    from training.data import load_dataset, windows_for

    data = tmp_path / "data"
    write_dataset(data, ["ann", "bob", "cem"], 2, 119.0, labels=("punch", "flex"))
    fit(data, tmp_path / "run", FitOptions(arch="cnn-gru", epochs=1, rate_hz=119.0), log=DEVNULL)
    contract = Contract.from_dict(json.loads((tmp_path / "run" / "contract.json").read_text()))
    gate = contract.novelty_gate
    assert contract.window == 119 and (contract.gru.chunk_samples, contract.gru.stride_samples) == (16, 4)
    assert gate.statistics == "lengths" and contract.labels == ["flex", "punch", "unknown"]
    x, _ = windows_for(load_dataset(data), contract)
    seen = gate_window(normalize(x, contract), contract)
    assert seen.shape[1] == 116 and np.array_equal(seen, normalize(x, contract)[:, :116])
    whitened = novelty.length_features(seen, contract.normalization.mean, contract.normalization.std)
    w = whitened @ np.asarray(gate.weights).T + np.asarray(gate.bias)
    assert np.allclose(w.mean(0), 0, atol=1e-6)  # whitened on exactly these samples of every person's windows


def test_fit_refuses_the_window_statistics_for_a_step_family_in_one_line(tmp_path):
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "training", "fit", str(tmp_path), "--out", str(tmp_path / "r"),
                           "--arch", "gru", "--gate-statistics", "window"], cwd=root, capture_output=True, text=True)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert [line for line in done.stderr.splitlines() if line.startswith("error:")] == [
        "error: --gate-statistics window needs a whole window, which gru's board never holds (it steps the model); "
        "use lengths (the default), which it gathers step by step, or --no-gate"]


def gated_contract(tmp_path: Path) -> dict:
    data = tmp_path / "data"
    write_dataset(data, ["ann", "bob", "cem"], 2, 119.0, labels=("punch", "flex"))
    fit(data, tmp_path / "run", FitOptions(epochs=1), log=DEVNULL)
    return json.loads((tmp_path / "run" / "contract.json").read_text())


def test_the_contract_refuses_a_gate_of_the_wrong_shape_or_without_an_unknown_label(tmp_path):
    raw = gated_contract(tmp_path)
    for change, message in [
        (lambda g, r: g["weights"].pop(), "novelty_gate.weights must be 8 rows of 8 numbers"),
        (lambda g, r: g["bias"].append(0.0), "novelty_gate.bias must be 8 numbers"),
        (lambda g, r: g.update(statistics="window"), "novelty_gate.weights must be 24 rows of 24 numbers"),
        (lambda g, r: g.update(statistics="spectra"), "novelty_gate.statistics must be 'window' or 'lengths', got 'spectra'"),
        (lambda g, r: r.update(channels=["aX", "aY", "aZ", "gZ", "gY", "gX"]),
         r"novelty_gate.statistics 'lengths' needs the channels \['aX', 'aY', 'aZ', 'gX', 'gY', 'gZ'\]"),
        (lambda g, r: g.update(level=-1), "novelty_gate.level must be a positive number"),
        (lambda g, r: r.update(unknown_label=None), "novelty_gate needs an unknown_label"),
        (lambda g, r: (g.update(statistics="window"), r.update(gru={"units": 8, "front_end": None})),
         "a GRU run's novelty_gate must read the vector lengths"),
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


def test_adapting_widens_a_gate_that_turns_the_person_away_and_leaves_one_that_keeps_them():
    """A person who wears the board turned: the window statistics' gate would reject most of their
    windows, so adapting raises its level (recorded); the vector lengths' gate keeps them as they are."""
    from contract.document import normalization_of

    rng = np.random.default_rng(8)
    mean, std = np.array([0.0, 0.0, 1.0, 0.0, 0.0, 0.0]), np.array([0.5, 0.5, 0.5, 100.0, 100.0, 100.0])
    normalization = normalization_of(mean.tolist(), std.tolist())

    def raw(n):
        return np.concatenate([rng.normal(0, 0.3, (n, 40, 3)) + [0, 0, 1], rng.normal(0, 80, (n, 40, 3))], axis=2)

    people = {f"p{i}": raw(60) for i in range(5)}
    turned = raw(60)[..., [2, 0, 1, 5, 3, 4]] * [1, -1, 1, 1, -1, 1]  # gravity along x: the board turned
    for statistics, widened in (("window", True), ("lengths", False)):
        g = novelty.fit_gate(lambda ss: np.concatenate([(people[s] - mean) / std for s in ss]), sorted(people), 0,
                             99.0, statistics, normalization)
        gate = NoveltyGate(tuple(map(tuple, g.a.tolist())), tuple(g.b.tolist()), g.level, g.description())
        wider = novelty.widened_gate(gate, (turned - mean) / std, normalization)
        assert (wider is not None) == widened, statistics
        if widened:
            assert wider.level > gate.level and wider.record["widened_for_adapting"]["level_before"] == gate.level
            assert wider.record["widened_for_adapting"]["person_windows_kept_before"] < 0.5
