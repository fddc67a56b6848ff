"""`training adapt`: make a trained run one person's with a few takes (real Keras training, tiny data)."""

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest

from capture import synth
from capture.dataset import list_takes, read_take
from training import TrainingError
from training.adapt import adapt
from training.adapt_fit import AdaptOptions
from training.fit import FitOptions, fit
from training.remount import remount, remount_dataset

LABELS = ("punch", "flex", "wave", "idle")
RATE_HZ = 50.0  # a short window keeps the test fast


@pytest.fixture(scope="module")
def base_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("adapt")
    synth.write_dataset(root / "base_data", ["a1", "a2", "a3", "a4"], 4, RATE_HZ, labels=LABELS)
    options = FitOptions(epochs=12, patience=12, test_subjects=["a4"], seed=0)
    fit(root / "base_data", root / "base_run", options)
    return root


@pytest.fixture(scope="module")
def adapted(base_run):
    """A new person who wears the board flipped (a half turn about the forearm; the built-in people's
    boards sit tens of degrees apart, so a quarter turn is no longer far enough from them to be hard):
    3 takes per label adapt the model, 4 are held out."""
    root = base_run
    synth.write_dataset(root / "person_plain", ["zoe"], 7, RATE_HZ, labels=LABELS)
    remount_dataset(root / "person_plain", root / "person", rotvec=(np.pi, 0.0, 0.0))
    options = AdaptOptions(takes_per_label=3, epochs=15, seed=0)
    summary = adapt(root / "base_run", root / "person", root / "adapted", options)
    return root, summary


def test_adapting_fixes_a_remounted_person_without_forgetting_the_others(adapted):
    _, s = adapted
    assert s["n_test"] == 4 * len(LABELS)
    assert s["takes_used"] == {label: 3 for label in sorted(LABELS)}
    assert s["base_accuracy"] <= 0.7, "the remounted person should be hard for the base model"
    assert s["adapted_accuracy"] >= 0.9
    assert s["adapted_accuracy"] >= s["base_accuracy"] + 0.25
    assert s["adapted_accuracy_on_base_test"] >= s["base_accuracy_on_base_test"] - 0.15


def test_the_adapted_run_dir_is_complete_and_keeps_the_contract(adapted):
    root, s = adapted
    run, base = root / "adapted", root / "base_run"
    for name in ("model.keras", "contract.json", "windows.npz", "split.json", "metrics.json", "run.json",
                 "adapt.json", "history.png", "confusion.png"):
        assert (run / name).is_file(), name
    assert not list(run.glob(".*.keras")), "no checkpoint left behind"
    contract, base_contract = (json.loads((d / "contract.json").read_text()) for d in (run, base))
    gate, base_gate = contract.pop("novelty_gate"), base_contract.pop("novelty_gate")
    assert contract == base_contract  # all but the novelty gate, as the base run's
    # the person wears the board turned, which changes no vector length the gate measures: it already keeps
    # their windows and stays as it was (test_novelty.py: a gate that would turn them away is widened)
    assert gate == base_gate and gate["statistics"] == "lengths"
    with np.load(run / "windows.npz") as w, np.load(base / "windows.npz") as b:
        assert w["x_test"].shape == (s["n_test"], contract["window"], 6)
        assert len(w["x_train"]) == s["n_adapt_windows"] + s["n_replay_windows"]
        assert s["n_replay_windows"] == len(b["x_train"])  # a small base run is replayed whole
        replayed = w["x_train"][s["n_adapt_windows"]:]
        assert np.array_equal(replayed, b["x_train"])
    from training.adapt_fit import ADAPT_LEARNING_RATE

    # the step the fine-tuning took, resolved (conv1d has no step of its own)
    assert json.loads((run / "run.json").read_text())["config"]["learning_rate"] == ADAPT_LEARNING_RATE
    record = json.loads((run / "adapt.json").read_text())
    assert record["base"]["model_keras_sha256"] == hashlib.sha256((base / "model.keras").read_bytes()).hexdigest()
    assert record["base"]["run_dir"] == str(base.resolve())
    assert record["takes_used"] == [f"{label}/zoe-s1-00{i}.csv" for label in sorted(LABELS) for i in (1, 2, 3)]
    assert len(record["takes_held_out"]) == 4 * len(LABELS)
    assert not set(record["takes_used"]) & set(record["takes_held_out"])
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["accuracy"] == s["adapted_accuracy"] and metrics["base_accuracy"] == s["base_accuracy"]

    import keras

    model = keras.models.load_model(str(run / "model.keras"))
    assert model.input_shape == (None, contract["window"], 6)
    assert model.output_shape == (None, len(LABELS) + 1) and "unknown" in contract["labels"]  # the gate's label


def test_remount_is_a_rotation_of_both_sensors():
    values = np.array([[0.0, 0.0, 1.0, 10.0, 20.0, 30.0]])
    turned = remount(values)
    assert np.allclose(turned, [[0.0, -1.0, 0.0, 10.0, -30.0, 20.0]], atol=1e-9)


def _person(root, labels, takes=2):
    synth.write_dataset(root, ["yan"], takes, RATE_HZ, labels=labels)
    return root


def test_unknown_labels_are_refused_by_name(base_run, tmp_path):
    person = _person(tmp_path / "p", ("punch", "circle"))
    with pytest.raises(TrainingError, match=r"label\(s\) circle .* not known to the base model"):
        adapt(base_run / "base_run", person, tmp_path / "out", AdaptOptions(epochs=1))
    assert not (tmp_path / "out").exists()
    proc = subprocess.run([sys.executable, "-m", "training.adapt", str(base_run / "base_run"), str(person),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "circle" in proc.stderr and "not known to the base model" in proc.stderr and proc.stdout == ""


def test_a_label_without_takes_is_reported_and_a_run_without_test_takes_still_converts(base_run, tmp_path):
    person = _person(tmp_path / "p", ("punch", "flex", "wave"), takes=1)
    s = adapt(base_run / "base_run", person, tmp_path / "out", AdaptOptions(epochs=1, takes_per_label=1))
    assert s["labels_without_takes"] == ["idle"]
    assert s["takes_used"] == {"flex": 1, "idle": 0, "punch": 1, "wave": 1}
    assert s["n_test"] == 0 and s["base_accuracy"] is None and s["adapted_accuracy"] is None
    with np.load(tmp_path / "out" / "windows.npz") as w, np.load(base_run / "base_run" / "windows.npz") as b:
        assert np.array_equal(w["x_test"], b["x_test"]) and len(w["x_test"]) > 0
    with pytest.raises(TrainingError, match="already holds a model"):
        adapt(base_run / "base_run", person, tmp_path / "out", AdaptOptions(epochs=1))


def test_remount_dataset_keeps_take_names(tmp_path):
    synth.write_dataset(tmp_path / "a", ["q"], 2, RATE_HZ, labels=("wave",))
    remount_dataset(tmp_path / "a", tmp_path / "b")
    a = [read_take(p) for p in list_takes(tmp_path / "a")]
    b = [read_take(p) for p in list_takes(tmp_path / "b")]
    assert [t.meta.take for t in a] == [t.meta.take for t in b]
    assert np.allclose(b[0].values, remount(a[0].values), atol=2e-6)


def test_the_base_model_is_named_by_the_converters_hash_when_it_was_converted(base_run, tmp_path):
    from training.adapt import base_model_identity

    base = tmp_path / "base"
    base.mkdir()
    (base / "model.keras").write_bytes((base_run / "base_run" / "model.keras").read_bytes())
    assert base_model_identity(base)["model_hash"] == hashlib.sha256((base / "model.keras").read_bytes()).hexdigest()
    (base / "report.json").write_text(json.dumps({"model_hash": "0x1234abcd"}))
    identity = base_model_identity(base)
    assert identity["model_hash"] == "0x1234abcd" and "report.json" in identity["model_hash_kind"]


def test_a_gru_is_adapted_on_the_last_steps_its_base_run_trained_on(base_run, tmp_path):
    import keras

    from training.adapt import base_last_steps

    root = base_run
    gru = tmp_path / "gru_run"
    fit(root / "base_data", gru, FitOptions(arch="gru", epochs=2, test_subjects=["a4"], seed=0, supervised_steps=0.75))
    trained = json.loads((gru / "metrics.json").read_text())["supervised_steps"]
    assert trained["trained"] > 1 and base_last_steps(gru) == trained["trained"]
    assert base_last_steps(root / "base_run") == 1  # conv1d: the window as a whole
    person = _person(tmp_path / "person", LABELS, takes=4)
    summary = adapt(gru, person, tmp_path / "adapted", AdaptOptions(takes_per_label=2, epochs=2, seed=0))
    assert summary["last_steps_trained"] == trained["trained"]
    from training.families import family

    assert json.loads((tmp_path / "adapted" / "run.json").read_text())["config"]["learning_rate"] == \
        family("gru").adapt_learning_rate  # the family's own step
    model = keras.models.load_model(tmp_path / "adapted" / "model.keras")
    # the labels and the novelty gate's unknown one
    assert tuple(model.output.shape[1:]) == (len(LABELS) + 1,) and not model.get_layer("gru").return_sequences
    base = keras.models.load_model(gru / "model.keras")
    assert any(not np.array_equal(a, b) for a, b in zip(model.get_weights(), base.get_weights()))  # it learned


def test_adapts_step_is_the_one_asked_for_else_the_familys_else_the_default(monkeypatch):
    from dataclasses import replace

    from training.adapt_fit import ADAPT_LEARNING_RATE, AdaptOptions, adapt_learning_rate, check_adapt_options
    from training.families import FAMILIES

    monkeypatch.setitem(FAMILIES, "conv1d", replace(FAMILIES["conv1d"], adapt_learning_rate=None))
    monkeypatch.setitem(FAMILIES, "gru", replace(FAMILIES["gru"], adapt_learning_rate=5e-3))
    assert adapt_learning_rate(AdaptOptions(), "conv1d") == ADAPT_LEARNING_RATE
    assert adapt_learning_rate(AdaptOptions(), "gru") == 5e-3
    assert adapt_learning_rate(AdaptOptions(), None) == ADAPT_LEARNING_RATE  # a contract that names no arch
    assert adapt_learning_rate(AdaptOptions(learning_rate=2e-4), "gru") == 2e-4
    with pytest.raises(TrainingError, match="--learning-rate must be positive"):
        check_adapt_options(AdaptOptions(learning_rate=0.0))
