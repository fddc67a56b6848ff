"""``python -m boardtools calibrate``: the post-processing chosen on the training people held out in
turn, with real training, the real TF converter and the TFLM interpreter; the choice lands in the
contract and the board's header."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from boardtools.calibrate import STAND_IN_PREFIX, calibration_streams, person_groups, stand_in_others
from capture.errors import CaptureError

ROOT = Path(__file__).resolve().parents[2]
RATE = 119.0


def test_every_person_is_held_out_exactly_once():
    people = [f"p{i}" for i in range(7)]
    groups = person_groups(people, 3, seed=4)
    assert len(groups) == 3 and sorted(p for g in groups for p in g) == people
    assert max(map(len, groups)) - min(map(len, groups)) <= 1
    assert person_groups(people, 3, seed=4) == groups  # the seed decides
    assert len(person_groups(["a", "b"], 5, seed=0)) == 2  # never more groups than people
    with pytest.raises(CaptureError, match="at least 2 people"):
        person_groups(["solo"], 3, seed=0)


def _gesture(label: str, seed: int, n: int = 119) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 6), np.float32)
    x[:, 2] = 1.0
    x[:, 3] = 250 * np.sin(np.linspace(0, np.pi, n)) * (1 if label == "punch" else -1)
    x[:, 0] = 0.8 * np.sin(np.linspace(0, 2 * np.pi, n))
    return x + rng.normal(0, 0.01, x.shape).astype(np.float32)


def test_stand_ins_are_other_motions_made_from_the_gestures():
    gestures = [(_gesture("punch", 1), "punch"), (_gesture("flex", 2), "flex"), (_gesture("punch", 3, 130), "punch"),
                (_gesture("flex", 4), "flex")]
    made = stand_in_others(gestures, np.random.default_rng(0))
    assert [label for _, label in made] == [STAND_IN_PREFIX + k for k in ("reverse", "redirect", "chimera", "wander")]
    for (samples, _), (other, _) in zip(gestures, made):
        assert other.shape[1] == 6 and len(other) <= len(samples)
        assert not np.allclose(other, samples[:len(other)], atol=0.05)
    reversed_punch = made[0][0]
    np.testing.assert_allclose(reversed_punch[:, 3], -gestures[0][0][::-1, 3], atol=1e-5)


class _Meta:
    def __init__(self, label, subject):
        self.label, self.subject = label, subject


class _Take:
    def __init__(self, label, subject, samples):
        self.meta, self.samples, self.csv_path = _Meta(label, subject), samples, f"{subject}-{label}.csv"


def test_each_held_out_person_gets_one_stream_with_their_motions_and_one_stand_in_per_gesture():
    takes = [_Take("punch", "ann", _gesture("punch", 1)), _Take("flex", "ann", _gesture("flex", 2)),
             _Take("wave", "ann", _gesture("flex", 5)), _Take("idle", "ann", np.zeros((119, 6), np.float32)),
             _Take("punch", "bob", _gesture("punch", 3))]
    streams = calibration_streams(takes, ["punch", "flex"], RATE, np.random.default_rng(0), lambda t, rate: t.samples)
    assert [s.subject for s in streams] == ["ann", "bob"]
    ann = streams[0].items
    assert sorted(it.label for it in ann if it.kind == "gesture") == ["flex", "punch"]
    others = sorted(it.label for it in ann if it.kind == "other")
    assert "wave" in others and sum(lab.startswith(STAND_IN_PREFIX) for lab in others) == 2 and len(others) == 3
    assert len(calibration_streams(takes, ["punch", "flex"], RATE, np.random.default_rng(0), lambda t, r: t.samples,
                                   stand_ins=())[0].items) == 3  # idle is rest, not an item


def _run(*args, timeout=900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def converted_run(tmp_path_factory):
    from capture.synth import write_dataset

    tmp = tmp_path_factory.mktemp("calibrate")
    data, run = tmp / "data", tmp / "run"
    write_dataset(data, ["ann", "bob", "cem", "dan"], 3, RATE, labels=("punch", "flex"))
    fitted = _run("training", "fit", data, "--out", run, "--epochs", "3")
    assert fitted.returncode == 0, fitted.stderr[-2000:]
    converted = _run("converter", "convert", run)
    assert converted.returncode == 0, converted.stderr[-2000:]
    return data, run


def test_calibrate_holds_people_out_writes_the_choice_and_the_header_records_it(converted_run):
    data, run = converted_run
    done = _run("boardtools", "calibrate", run, data, "--groups", "2", "--epochs", "2", "--rest-minutes", "0.2",
                "--target-fa", "0.5")
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert sorted(p for g in summary["groups"] for p in g) == ["ann", "bob", "cem", "dan"]
    assert summary["windows"] > 0 and "training without" in done.stderr
    contract = json.loads((run / "contract.json").read_text())
    chosen, record = summary["chosen"], contract["postprocess_calibration"]
    assert contract["score_threshold"] == chosen["score_threshold"] and contract["agreement"] == chosen["agreement"]
    assert contract["refractory_s"] == chosen["refractory_s"]
    assert record["groups"] == summary["groups"] and record["target_met"] == summary["target_met"]
    assert record["figures"]["recall"] == chosen["recall"]
    reconverted = _run("converter", "convert", run)
    assert reconverted.returncode == 0, reconverted.stderr[-2000:]
    header = (run / "generated" / "model_settings.h").read_text()
    assert "// Chosen by training people held out in turn" in header
    assert f"constexpr int kAgreement = {chosen['agreement']};" in header
    assert f"novelty gate's level x{chosen['gate_factor']:g}" in done.stderr  # the run's gate, its level tuned too
    from boardtools.stream_eval import LOW_RECALL

    assert ("warning: these settings detect" in done.stderr) == (chosen["recall"] < LOW_RECALL)
    if chosen["gate_factor"] != 1.0:
        assert contract["novelty_gate"]["tuned"]["factor"] == chosen["gate_factor"]
        assert "Then tuned on streams (stream --tune or calibrate)" in header


def test_a_run_without_its_training_options_or_with_one_person_gets_one_error_line(converted_run, tmp_path):
    import shutil

    data, run = converted_run
    solo = tmp_path / "solo"
    for take in sorted(data.rglob("ann-*")):  # the takes' .csv and .json
        (solo / take.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy(take, solo / take.parent.name / take.name)
    done = _run("boardtools", "calibrate", run, solo, timeout=300)
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 2 and len(errors) == 1 and "at least 2 people" in errors[0]
    bare = tmp_path / "bare"
    shutil.copytree(run, bare)
    (bare / "run.json").unlink()
    done = _run("boardtools", "calibrate", bare, data, timeout=300)
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 2 and len(errors) == 1 and "training options" in errors[0]


def test_held_out_models_are_trained_at_the_runs_rate_and_width_not_todays_defaults(tmp_path):
    from boardtools.calibrate import fold_options

    (tmp_path / "run.json").write_text(json.dumps({"config": {"arch": "conv1d", "seed": 3, "width": None, "rate_hz": None,
                                                              "negatives": ["reverse"], "no_such_option": 1},
                                                   "resolved": {"width": 12}}))
    o = fold_options(tmp_path, ["ann"], 5, rate_hz=119.0)
    assert (o.arch, o.seed, o.epochs, o.rate_hz, o.width) == ("conv1d", 3, 5, 119.0, 12)
    assert o.test_subjects == ["ann"] and o.final is False and o.negatives == ("reverse",)


def test_held_out_models_of_a_gru_run_keep_its_gru_options(tmp_path):
    from boardtools.calibrate import fold_options

    (tmp_path / "run.json").write_text(json.dumps({"config": {"arch": "cnn-gru", "gru_units": 12, "supervised_steps": 0.5,
                                                              "gate_statistics": "lengths", "width": None},
                                                   "resolved": {"width": 8}}))
    o = fold_options(tmp_path, ["ann"], 2, rate_hz=40.0)
    assert (o.arch, o.gru_units, o.supervised_steps, o.gate_statistics, o.width) == ("cnn-gru", 12, 0.5, "lengths", 8)
    assert (o.rate_hz, o.epochs, o.test_subjects, o.final) == (40.0, 2, ["ann"], False)


def test_calibrate_a_gru_run_on_its_step_models_held_out_writes_a_contract_the_converter_accepts(gru_run, tmp_path):
    """The shared small gru run (tests/conftest.py; two people): one step model trained per person held out,
    the other's streams stepped as the board steps them, their motion measured over the samples the steps read."""
    import shutil

    run, data = tmp_path / "run", gru_run[1]
    shutil.copytree(gru_run[0], run)
    before = json.loads((run / "contract.json").read_text())
    done = _run("boardtools", "calibrate", run, data, "--groups", "2", "--epochs", "1", "--rest-minutes", "0.1",
                "--target-fa", "0.5")
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["groups"] == [["p1"], ["p2"]] and summary["windows"] > 0
    assert "one step" in done.stderr  # the held-out models were exported as the board's step model
    contract, chosen = json.loads((run / "contract.json").read_text()), summary["chosen"]
    assert contract["score_threshold"] == chosen["score_threshold"]
    assert contract["motion_gate"] == {**before["motion_gate"], "threshold": chosen["motion_gate"]}
    assert contract["novelty_gate"]["level"] == pytest.approx(before["novelty_gate"]["level"] * chosen["gate_factor"],
                                                              rel=1e-12)
    converted = _run("converter", "convert", run, "--max-drop", "100", "--min-agreement", "0")
    assert converted.returncode == 0, converted.stderr[-2000:]
    header = (run / "generated" / "model_settings.h").read_text()
    assert "constexpr bool kIsStepModel = true;" in header and "// Chosen by training people held out in turn" in header
