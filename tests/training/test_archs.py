"""Every --arch trains end to end (one epoch), records its size, and the cv / evaluate commands."""

import dataclasses
import io
import json
import subprocess
import sys

import numpy as np
import pytest

from capture.synth import write_dataset
from training.__main__ import main
from training.augment import DEFAULT_AUGMENT
from training.fit import FitOptions, fit

LABELS = ("flex", "punch", "wave")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("archs")
    write_dataset(root / "data", ["ann", "bob", "cem"], 3, 119, labels=LABELS)
    write_dataset(root / "other", ["zed"], 2, 100, labels=("flex", "wave"))  # a new person on a Rev2 board
    write_dataset(root / "unknown", ["zed"], 1, 119, labels=("flex", "circle"))
    return root


@pytest.fixture(scope="module")
def runs(data):
    settings = {"ds-conv1d": {}, "gru": {"augment": ()}, "cnn-gru": {"augment": ("rotate", "warp")}}
    out = {}
    for arch, extra in settings.items():
        options = FitOptions(arch=arch, epochs=1, seed=0, **extra)
        out[arch] = fit(data / "data", data / f"run-{arch}", options, log=io.StringIO())
    return out


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["ds-conv1d", "gru", "cnn-gru"])
def test_arch_writes_a_run_with_its_size(data, runs, arch):
    import keras

    from training.macs import count_macs

    run = data / f"run-{arch}"
    summary = runs[arch]
    model = keras.models.load_model(run / "model.keras")
    assert summary["params"] == model.count_params() > 0
    assert summary["macs"] == count_macs(model) > summary["params"]
    metrics = json.loads((run / "metrics.json").read_text())
    assert (metrics["params"], metrics["macs"], metrics["arch"]) == (summary["params"], summary["macs"], arch)
    contract = json.loads((run / "contract.json").read_text())
    assert contract["arch"] == arch
    assert contract["window"] == round(contract["rate_hz"])  # a 1-s window at the arch's rate
    pred = model.predict(np.zeros((1, contract["window"], 6), np.float32), verbose=0)
    # every family gets the novelty gate of the vector lengths and its unknown label (a GRU's board gathers
    # them step by step)
    assert contract["novelty_gate"]["statistics"] == "lengths" and "unknown" in contract["labels"]
    assert pred.shape == (1, 4) and abs(float(pred.sum()) - 1) < 1e-4
    if arch == "ds-conv1d":
        assert "gru" not in contract and metrics["supervised_steps"] is None
        return
    gru = model.get_layer("gru")
    assert contract["gru"]["units"] == gru.units == 24
    assert not gru.return_sequences  # what is saved scores the window's last step, whatever it was trained on
    steps = metrics["supervised_steps"]["steps"]
    assert steps == int(gru.input.shape[1])
    assert metrics["supervised_steps"]["trained"] == 1  # neither GRU family trains more than its last step
    if arch == "gru":
        assert steps == contract["window"]
        assert contract["gru"]["front_end"] is None
    else:
        front = contract["gru"]["front_end"]
        assert [f["name"] for f in front] == ["front_conv1", "front_pool1", "front_conv2", "front_pool2"]
        assert [f["stride"] for f in front] == [model.get_layer(f["name"]).strides[0] for f in front]


@pytest.mark.slow
def test_run_json_records_versions_dataset_and_every_option(data, runs):
    from training.data import load_dataset
    from training.run_info import dataset_sha256

    run = json.loads((data / "run-cnn-gru" / "run.json").read_text())
    assert set(run["versions"]) == {"python", "numpy", "tensorflow", "keras"}
    assert run["dataset"]["sha256"] == dataset_sha256(data / "data", load_dataset(data / "data"))
    assert run["dataset"]["sha256"] == runs["cnn-gru"]["dataset_sha256"] and run["dataset"]["takes"] == 27
    assert set(run["config"]) == {f.name for f in dataclasses.fields(FitOptions)}
    assert run["config"]["arch"] == "cnn-gru" and run["config"]["augment"] == ["rotate", "warp"]
    assert run["resolved"]["augment"] == ["rotate", "warp"]
    assert json.loads((data / "run-gru" / "run.json").read_text())["resolved"]["augment"] == []
    auto = json.loads((data / "run-ds-conv1d" / "run.json").read_text())
    assert auto["config"]["augment"] is None
    assert auto["resolved"]["augment"] == list(DEFAULT_AUGMENT) and "mount" in DEFAULT_AUGMENT  # small dataset: on


@pytest.mark.slow
def test_evaluate_scores_a_new_person(data, runs, capsys):
    from training.data import load_dataset, take_windows

    assert main(["evaluate", str(data / "run-ds-conv1d"), str(data / "other")]) == 0
    result = json.loads(capsys.readouterr().out)
    contract = json.loads((data / "run-ds-conv1d" / "contract.json").read_text())
    n = sum(len(take_windows(t, contract)) for t in load_dataset(data / "other"))
    assert result["n"] == n == 4
    assert set(result["recall"]) == {"flex", "wave"}
    assert 0 <= result["accuracy"] <= 1 and 0 <= result["macro_f1"] <= 1
    assert result["accuracy"] * n == pytest.approx(sum(result["recall"].values()) * 2)  # 2 windows per label


@pytest.mark.slow
def test_evaluate_refuses_labels_the_run_does_not_know(data, runs, capsys):
    assert main(["evaluate", str(data / "run-gru"), str(data / "unknown")]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert captured.out == "" and len(lines) == 1
    assert lines[0].startswith("error: label(s) circle") and "flex, punch, unknown, wave" in lines[0]


@pytest.mark.slow
def test_cv_tests_every_person_once(data, capsys):
    assert main(["cv", str(data / "data"), "--folds", "2", "--epochs", "1", "--arch", "ds-conv1d"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["kind"] == "subject" and result["k"] == 2
    assert sorted(g for f in result["folds"] for g in f["test_groups"]) == ["ann", "bob", "cem"]
    assert sorted(f["n_test"] for f in result["folds"]) == [9, 18]  # 3 takes x 3 labels per person
    assert result["mean_accuracy"] == pytest.approx(np.mean([f["accuracy"] for f in result["folds"]]))
    assert result["mean_macro_f1"] == pytest.approx(np.mean([f["macro_f1"] for f in result["folds"]]))
    assert "fold 2/2: accuracy" in captured.err


@pytest.mark.slow
def test_idle_from_still_adds_the_idle_label(tmp_path):
    write_dataset(tmp_path / "data", ["ann", "bob"], 2, 119, labels=("flex", "wave"), take_seconds=3.0)
    summary = fit(tmp_path / "data", tmp_path / "run", FitOptions(epochs=1, idle_from_still=True), log=io.StringIO())
    contract = json.loads((tmp_path / "run" / "contract.json").read_text())
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert summary["labels"] == contract["labels"] == ["flex", "idle", "unknown", "wave"]  # unknown: the gate's
    assert contract["idle_label"] == "idle"
    assert metrics["idle_from_still"]["train"] > 0 and metrics["idle_from_still"]["test"] > 0
    w = np.load(tmp_path / "run" / "windows.npz")
    idle = w["x_train"][w["y_train"] == 1]
    assert len(idle) == metrics["idle_from_still"]["train"] and np.all(idle[..., 3:].std(axis=1) < 10)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "training", *map(str, args)], capture_output=True, text=True)


@pytest.mark.parametrize("args, message", [
    (["--augment", "rotate,mirror"], "unknown --augment kind(s) mirror"),
    (["--arch", "gru", "--gru-units", "64"], "--gru-units must be between 1 and 32"),
])
def test_bad_training_options_get_one_line(tmp_path, args, message):
    proc = _cli("fit", tmp_path, "--out", tmp_path / "run", *args)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and message in proc.stderr


def test_help_of_cv_and_evaluate():
    cv = _cli("cv", "--help")
    assert cv.returncode == 0 and "--folds" in cv.stdout and "--arch" in cv.stdout
    ev = _cli("evaluate", "--help")
    assert ev.returncode == 0 and "RUN_DIR" in ev.stdout and "DATA_DIR" in ev.stdout
    fit_help = _cli("fit", "--help")
    for option in ("--augment", "--no-augment", "--idle-from-still", "ds-conv1d", "cnn-gru", "--gru-units"):
        assert option in fit_help.stdout
