"""A real fit on a small built-in dataset through the command line, and its bad inputs."""

import json
import subprocess
import sys

import numpy as np
import pytest

from capture.synth import write_dataset

RUN_FILES = ("model.keras", "contract.json", "windows.npz", "split.json", "metrics.json", "history.png", "confusion.png")
LABELS = ("flex", "punch", "wave")


def _train(*args):
    return subprocess.run([sys.executable, "-m", "training", *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    root = tmp_path_factory.mktemp("fit")
    data = root / "data"
    write_dataset(data, ["ann", "bob"], 6, 119, labels=LABELS)
    write_dataset(data, ["cem"], 6, 100, labels=LABELS)  # a Rev2 person: resampled to 119 Hz
    proc = _train("fit", data, "--out", root / "run", "--epochs", 40, "--seed", 0, "--test-subject", "cem")
    return data, root / "run", proc


@pytest.mark.slow
def test_fit_writes_every_run_file_and_reports_json(fitted):
    _, run, proc = fitted
    assert proc.returncode == 0, proc.stderr
    for name in RUN_FILES:
        assert (run / name).is_file() and (run / name).stat().st_size > 0, name
    assert not (run / ".best.keras").exists()
    summary = json.loads(proc.stdout)
    assert summary["run_dir"] == str(run)
    assert 0.0 <= summary["macro_f1"] <= 1.0
    assert "epoch 1/40" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_contract_matches_the_data(fitted):
    _, run, _ = fitted
    contract = json.loads((run / "contract.json").read_text())
    assert contract["contract_version"] == 2
    # the novelty gate's label (training/novelty.py); the threshold stays off: only a top-1 unknown counts
    assert contract["unknown_label"] == "unknown" and contract["unknown_threshold"] is None
    assert contract["labels"] == sorted(LABELS + ("unknown",)) and "novelty_gate" in contract
    # conv1d runs at its family's 60 Hz: the 119 Hz takes are resampled as the board resamples its IMU
    assert contract["rate_hz"] == 60.0 and contract["window"] == 60 and contract["hop"] == 15
    assert contract["idle_label"] is None
    assert contract["channels"] == ["aX", "aY", "aZ", "gX", "gY", "gZ"]
    assert contract["units"] == {"accel": "g", "gyro": "dps"} and contract["arch"] == "conv1d"
    assert 0 < contract["score_threshold"] < 1
    w = np.load(run / "windows.npz")
    assert w["x_train"].shape[1:] == (60, 6) and w["x_test"].shape[1:] == (60, 6)
    assert len(w["x_test"]) == 3 * 6 and set(w["y_test"].tolist()) == {contract["labels"].index(l) for l in LABELS}
    # Normalization comes from the training windows only (not test, not validation).
    flat = w["x_train"].reshape(-1, 6).astype(np.float64)
    assert np.allclose(contract["normalization"]["mean"], flat.mean(axis=0), atol=1e-4)
    assert np.allclose(contract["normalization"]["std"], flat.std(axis=0), rtol=1e-4)
    everything = np.concatenate([w["x_train"], w["x_test"]]).reshape(-1, 6)
    assert not np.allclose(contract["normalization"]["mean"], everything.mean(axis=0), atol=1e-4)


@pytest.mark.slow
def test_model_learns_well_above_chance_on_a_held_out_person(fitted):
    _, run, proc = fitted
    metrics = json.loads((run / "metrics.json").read_text())
    split = json.loads((run / "split.json").read_text())
    assert split["kind"] == "subject" and split["test_groups"] == ["cem"]
    assert all(t.startswith(tuple(f"{l}/cem-" for l in LABELS)) for t in split["takes"]["test"])
    assert not any("cem-" in t for t in split["takes"]["train"] + split["takes"]["validation"])
    assert metrics["n_test"] == 18 and metrics["split"] == "subject"
    assert metrics["accuracy"] >= 0.8, metrics  # chance is 0.33
    assert set(metrics["per_class"]) == set(LABELS) | {"unknown"}  # the gate's label: no test window
    assert json.loads(proc.stdout)["accuracy"] == metrics["accuracy"]


@pytest.mark.slow
def test_run_records_how_far_mount_turned_the_training_windows(fitted):
    from capture.dataset import list_takes, read_take
    from training.augment import board_turn_spread_deg, mount_max_deg

    data, run, proc = fitted
    metrics = json.loads((run / "metrics.json").read_text())
    assert "mount" in metrics["augment"]
    train = [read_take(p) for p in list_takes(data) if read_take(p).meta.subject != "cem"]
    spread = board_turn_spread_deg(train)
    assert metrics["mount"] == {"max_deg": mount_max_deg(spread["deg"]), "share": 1.0, "spread": spread}
    assert json.loads((run / "run.json").read_text())["resolved"]["mount"] == metrics["mount"]
    assert "from the people's mean" in proc.stderr
    resolved = json.loads((run / "run.json").read_text())["resolved"]
    assert resolved["average_last_epochs"] == 10  # of 40
    assert "clipnorm" in metrics and resolved["clipnorm"] == metrics["clipnorm"]  # what the fit used, both files


@pytest.mark.slow
def test_saved_model_reproduces_the_reported_accuracy(fitted):
    import keras

    from contract.input import normalize
    from contract.run_dir import read_contract

    _, run, _ = fitted
    contract = read_contract(run)
    w = np.load(run / "windows.npz")
    model = keras.models.load_model(run / "model.keras")
    pred = model.predict(normalize(w["x_test"], contract), verbose=0).argmax(axis=1)
    assert float((pred == w["y_test"]).mean()) == json.loads((run / "metrics.json").read_text())["accuracy"]


@pytest.mark.slow
def test_refuses_to_overwrite_a_run(fitted):
    data, run, _ = fitted
    before = (run / "model.keras").read_bytes()
    proc = _train("fit", data, "--out", run, "--epochs", 1)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"error: {run} already holds a model; choose another --out or pass --overwrite"]
    assert (run / "model.keras").read_bytes() == before


def _one_error_line(proc):
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert proc.stdout == ""
    return lines[0]


def test_missing_dataset(tmp_path):
    assert "no such dataset directory" in _one_error_line(_train("fit", tmp_path / "nope", "--out", tmp_path / "run"))


def test_empty_dataset(tmp_path):
    (tmp_path / "data").mkdir()
    assert "no usable takes found" in _one_error_line(_train("fit", tmp_path / "data", "--out", tmp_path / "run"))


def test_single_label(tmp_path):
    write_dataset(tmp_path / "data", ["ann", "bob"], 2, 50, labels=("wave",))
    assert "1 label (wave)" in _one_error_line(_train("fit", tmp_path / "data", "--out", tmp_path / "run"))


def test_malformed_csv_names_file_and_line(tmp_path):
    paths = write_dataset(tmp_path / "data", ["ann", "bob"], 2, 50, labels=("wave", "idle"))
    text = paths[3].read_text().splitlines()
    text[2] = text[2] + ",7"
    paths[3].write_text("\n".join(text) + "\n")
    line = _one_error_line(_train("fit", tmp_path / "data", "--out", tmp_path / "run"))
    assert f"{paths[3]}:3: expected 7 values, found 8" in line
    assert not (tmp_path / "run").exists()


def test_help_describes_the_command():
    top = _train("--help")
    assert top.returncode == 0 and "fit" in top.stdout
    fit_help = _train("fit", "--help")
    assert fit_help.returncode == 0
    for option in ("--out", "--arch", "--seed", "--epochs", "--test-subject", "--overwrite", "--no-augment"):
        assert option in fit_help.stdout


def test_checker_errors_stop_training_unless_forced(tmp_path):
    paths = write_dataset(tmp_path / "data", ["ann", "bob"], 2, 50, labels=("wave", "idle"))
    lines = paths[0].read_text().splitlines()
    lines[4] = lines[4].split(",", 1)[0] + ",nan,0,1,0,0,0"
    paths[0].write_text("\n".join(lines) + "\n")
    line = _one_error_line(_train("fit", tmp_path / "data", "--out", tmp_path / "run"))
    assert "wave/ann-s1-001.csv" in line and "line 5" in line and "--force" in line


def test_incomplete_takes_are_left_out_with_a_note(tmp_path):
    import json as _json

    from training.data import load_dataset

    paths = write_dataset(tmp_path, ["ann"], 2, 50, labels=("wave", "idle"))
    meta = paths[0].with_suffix(".json")
    meta.write_text(_json.dumps({**_json.loads(meta.read_text()), "complete": False}))
    takes = load_dataset(tmp_path)
    assert len(takes) == 3 and paths[0] not in [t.csv_path for t in takes]


def test_mount_share_is_the_archs_unless_asked_for(monkeypatch):
    import dataclasses

    from training.families import FAMILIES, family
    from training.fit import FitOptions, resolve_mount

    kinds = ("mount", "rotate")
    assert resolve_mount(FitOptions(), [], kinds)["share"] == 1.0
    assert resolve_mount(FitOptions(arch="cnn-gru"), [], kinds)["share"] == 1.0  # no family sets its own today
    monkeypatch.setitem(FAMILIES, "cnn-gru", dataclasses.replace(family("cnn-gru"), mount_share=0.5))
    assert resolve_mount(FitOptions(arch="cnn-gru"), [], kinds)["share"] == 0.5
    assert resolve_mount(FitOptions(arch="cnn-gru", mount_share=0.25), [], kinds)["share"] == 0.25
    assert resolve_mount(FitOptions(), [], ("rotate",)) == {"max_deg": None, "share": None, "spread": None}
    from training import TrainingError
    from training.fit import check_options

    with pytest.raises(TrainingError, match="between 0 and 1"):
        check_options(FitOptions(mount_share=1.5))
    with pytest.raises(TrainingError, match="between 0 and 180"):
        check_options(FitOptions(mount_deg=-1.0))


def test_learning_rate_is_the_archs_unless_asked_for(monkeypatch):
    from training import TrainingError
    from dataclasses import replace

    from training.families import FAMILIES
    from training.fit import DEFAULT_LEARNING_RATE, FitOptions, check_options, learning_rate_for

    assert learning_rate_for(FitOptions()) == DEFAULT_LEARNING_RATE
    assert learning_rate_for(FitOptions(arch="gru")) == (FAMILIES["gru"].learning_rate or DEFAULT_LEARNING_RATE)
    monkeypatch.setitem(FAMILIES, "gru", replace(FAMILIES["gru"], learning_rate=1e-2))  # a family with a step of its own
    assert learning_rate_for(FitOptions(arch="gru")) == 1e-2 and learning_rate_for(FitOptions()) == DEFAULT_LEARNING_RATE
    assert learning_rate_for(FitOptions(arch="gru", learning_rate=1e-3)) == 1e-3
    with pytest.raises(TrainingError, match="learning rate must be positive"):
        check_options(FitOptions(learning_rate=0.0))


def test_weights_kept_are_the_mean_of_the_last_epochs():
    from training.fit import _keras, averaging_callbacks, FitOptions

    keras = _keras()
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int32)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.BatchNormalization(),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
    seen = []

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append([np.array(w) for w in self.model.get_weights()])

    o = FitOptions(epochs=8, average_last=0.5)
    model.fit(x, y, epochs=8, batch_size=16, verbose=0, callbacks=[Record()] + averaging_callbacks(keras, o, 8))
    for kept, *last in zip(model.get_weights(), *seen[-4:]):
        np.testing.assert_allclose(kept, np.mean(last, axis=0), rtol=1e-5, atol=1e-6)
    assert not np.allclose(model.get_weights()[0], seen[-1][0])  # not simply the last epoch's


def test_averaged_epochs_follow_the_arch_the_share_and_early_stopping():
    from training import TrainingError
    from training.families import family
    from training.fit import FitOptions, average_last_for, check_options

    share = family("conv1d").average_last_share
    assert average_last_for(FitOptions(epochs=40)) == round(share * 40) > 1
    assert average_last_for(FitOptions(epochs=12)) == round(share * 12)
    assert average_last_for(FitOptions(arch="ds-conv1d", epochs=40)) == 0  # its last epoch, as measured
    assert average_last_for(FitOptions(arch="ds-conv1d", average_last=0.25, epochs=40)) == 10  # unless asked
    assert average_last_for(FitOptions(arch="gru")) == 0  # keeps the last epoch until measured
    assert average_last_for(FitOptions(average_last=0.0)) == 0
    assert average_last_for(FitOptions(patience=5)) == 0  # early stopping keeps its best epoch
    with pytest.raises(TrainingError, match="between 0 and 1"):
        check_options(FitOptions(average_last=2.0))


def test_gradient_clipping_is_the_archs_unless_asked_for():
    from training import TrainingError
    from training.families import family
    from training.fit import FitOptions, _keras, check_options, clipnorm_for, optimizer_for

    assert clipnorm_for(FitOptions()) is None and clipnorm_for(FitOptions(clipnorm=0.0)) is None
    assert clipnorm_for(FitOptions(arch="gru", clipnorm=2.5)) == 2.5
    assert clipnorm_for(FitOptions(arch="gru")) == family("gru").clipnorm
    assert optimizer_for(_keras(), FitOptions(clipnorm=2.5)).clipnorm == 2.5
    assert optimizer_for(_keras(), FitOptions(clipnorm=0.0)).clipnorm is None
    with pytest.raises(TrainingError, match="clipping norm"):
        check_options(FitOptions(clipnorm=-1.0))


def test_the_models_rate_is_the_archs_never_above_the_datasets(take_factory):
    from training.families import FAMILIES
    from training.fit import FitOptions, make_contract

    rates = {name: spec.rate_hz for name, spec in FAMILIES.items() if spec.rate_hz is not None}
    fast = [take_factory(label=label, n=240) for label in ("punch", "flex")]
    slow = [take_factory(label=label, rate_hz=25.0, n=60) for label in ("punch", "flex")]
    assert rates  # else the loop below proves nothing
    assert make_contract(fast, FitOptions(arch="ds-conv1d")).rate_hz == 119.0  # a family without a rate keeps the dataset's
    for arch, rate in rates.items():
        contract = make_contract(fast, FitOptions(arch=arch))
        assert contract.rate_hz == rate < 119.0 and contract.window == round(rate)  # a 1-s window
        assert make_contract(slow, FitOptions(arch=arch)).rate_hz == 25.0
        assert make_contract(fast, FitOptions(arch=arch, rate_hz=119.0)).rate_hz == 119.0
