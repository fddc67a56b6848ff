"""``training fit --final``: the deployable model is trained on every take; the run records both models."""

import json
import subprocess
import sys

import numpy as np
import pytest

from capture.synth import write_dataset

LABELS = ("flex", "punch", "wave")


def _train(*args):
    return subprocess.run([sys.executable, "-m", "training", *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def final_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("final")
    data = root / "data"
    write_dataset(data, ["ann", "bob", "cem"], 4, 119, labels=LABELS)
    proc = _train("fit", data, "--out", root / "run", "--epochs", 6, "--seed", 0, "--test-subject", "cem", "--final")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return data, root / "run", proc


@pytest.mark.slow
def test_final_model_is_trained_on_every_take_and_the_split_model_is_kept(final_run):
    import keras

    from contract.input import normalize

    _, run, proc = final_run
    metrics = json.loads((run / "metrics.json").read_text())
    run_info = json.loads((run / "run.json").read_text())
    final = run_info["final_fit"]
    assert metrics["final_fit"] == final and run_info["config"]["final"] is True
    assert final["deployable_model"] == "model.keras" and final["evaluated_model"] == "model_split.keras"
    assert final["epochs"] == metrics["best_epoch"] >= 1 and final["test_windows_seen"] is True
    assert f"final epoch {final['epochs']}/{final['epochs']}" in proc.stderr

    w = np.load(run / "windows.npz")
    sides = final["windows_per_side"]
    # The deployable model's training windows (the converter calibrates on them) are every take's windows.
    assert len(w["x_train"]) == final["n_windows"] == sides["train"] + sides["validation"] + sides["test"]
    assert sides["test"] == len(w["x_test"]) == metrics["n_test"] > 0
    test_rows = {row.tobytes() for row in w["x_test"]}
    assert test_rows <= {row.tobytes() for row in w["x_train"]}

    # metrics.json's accuracy is the split model's, on the held-out person; model.keras is another model.
    contract = json.loads((run / "contract.json").read_text())
    x_test = normalize(w["x_test"], contract)
    split_model = keras.models.load_model(run / "model_split.keras")
    deployable = keras.models.load_model(run / "model.keras")
    pred = split_model.predict(x_test, verbose=0).argmax(axis=1)
    assert float((pred == w["y_test"]).mean()) == metrics["accuracy"]
    assert not all(np.array_equal(a, b) for a, b in zip(split_model.get_weights(), deployable.get_weights()))
    assert json.loads(proc.stdout)["final_fit"]["deployable_model"] == "model.keras"


@pytest.mark.slow
def test_the_converter_flags_test_windows_the_final_model_saw(final_run, tmp_path):
    _, run, _ = final_run
    proc = subprocess.run([sys.executable, "-m", "converter", "convert", str(run), "--header-dir", str(tmp_path / "h"),
                           "--max-drop", "100", "--min-agreement", "0"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((run / "report.json").read_text())
    assert report["test_windows_seen_by_model"] is True and "model_split.keras" in report["test_windows_note"]


def test_without_final_there_is_one_model(tmp_path):
    data = tmp_path / "data"
    write_dataset(data, ["ann", "bob"], 2, 119, labels=("flex", "punch"))
    run = tmp_path / "run"
    run.mkdir()
    (run / "model_split.keras").write_bytes(b"left by an earlier --final run")
    proc = _train("fit", data, "--out", run, "--epochs", 1, "--overwrite")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not (run / "model_split.keras").exists()
    assert "final_fit" not in json.loads((run / "run.json").read_text())
    assert "final_fit" not in json.loads(proc.stdout)


def test_help_describes_final():
    proc = _train("fit", "--help")
    assert proc.returncode == 0 and "--final" in proc.stdout and "model_split.keras" in proc.stdout
