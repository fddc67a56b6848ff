"""Each model family is one spec (training/families/): its resolved options are pinned here as they were
before the families were gathered into one place, and adding a family is one module plus one registry line."""

import numpy as np
import pytest

from training.fit import (FitOptions, average_last_for, clipnorm_for, learning_rate_for, make_contract, resolve_mount,
                          supervised_share_for)

# Per family, what fit resolves when nothing is asked for (40 epochs, 119 Hz takes): learning rate, epochs
# averaged, clipnorm, share of a GRU's steps trained on the label, mount share, the model's rate.
PINNED = {
    "conv1d": (3e-3, 10, None, 0.0, 1.0, 60.0),
    "ds-conv1d": (3e-3, 0, None, 0.0, 1.0, 119.0),
    "gru": (3e-3, 0, None, 0.0, 1.0, 40.0),
    "cnn-gru": (3e-3, 0, None, 0.0, 1.0, 60.0),
}
# The model parameters search draws per family, in the order it draws them, with their choices (None: the
# study's own list, --widths / --gru-units).
PINNED_SEARCH = {
    "conv1d": [("width", None), ("kernel", [3, 5, 7]), ("depth", [2, 3, 4])],
    "ds-conv1d": [("width", None), ("kernel", [3, 5, 7]), ("depth", [2, 3, 4])],
    "gru": [("gru_units", None)],
    "cnn-gru": [("width", None), ("kernel", [3, 5, 7]), ("front_layers", [1, 2, 3]), ("gru_units", None)],
}


@pytest.mark.parametrize("arch", sorted(PINNED))
def test_every_familys_resolved_options_are_todays(arch, take_factory):
    takes = [take_factory(label=label, n=240) for label in ("punch", "flex")]
    o = FitOptions(arch=arch)
    resolved = (learning_rate_for(o), average_last_for(o), clipnorm_for(o), supervised_share_for(o),
                resolve_mount(o, [], ("mount",))["share"], make_contract(takes, o).rate_hz)
    assert resolved == PINNED[arch]


class Recorder:
    """An Optuna trial stand-in that answers every categorical with its first choice and records the calls."""

    def __init__(self):
        self.params, self.calls = {}, []

    def suggest_categorical(self, name, choices):
        self.calls.append((name, list(choices)))
        self.params[name] = list(choices)[0]
        return self.params[name]

    def suggest_float(self, name, low, high, log=False):
        self.calls.append((name, (low, high, log)))
        self.params[name] = low
        return low

    def suggest_int(self, name, low, high, step=1):
        self.calls.append((name, (low, high, step)))
        self.params[name] = low
        return low


@pytest.mark.parametrize("arch", sorted(PINNED_SEARCH))
def test_every_familys_search_space_is_todays(arch):
    from search.space import Space

    space = Space(archs=[arch], widths=[6, 8], gru_units=[8, 12], rates_hz=[119.0, 60.0])
    trial = Recorder()
    space.suggest(trial)
    study = {"width": [6, 8], "gru_units": [8, 12]}
    expected = [(name, study[name] if choices is None else choices) for name, choices in PINNED_SEARCH[arch]]
    assert trial.calls == [("arch", [arch])] + expected + [
        ("rate_hz", [119.0, 60.0]), ("window_s", [0.75, 1.0, 1.25]), ("hop_s", [0.125, 0.25]),
        ("augment", ["auto", "none", "rotate", "mount,rotate", "all"]), ("copies", [1, 2, 4]),
        ("learning_rate", (1e-3, 1e-2, True)), ("epochs", (10, 40, 5))]


def test_the_registry_names_each_family_by_its_own_name():
    from training.families import CONVERSIONS, FAMILIES

    assert list(FAMILIES) == ["conv1d", "ds-conv1d", "gru", "cnn-gru"]  # the order --arch lists them in
    for name, spec in FAMILIES.items():
        assert spec.name == name and spec.conversion in CONVERSIONS and callable(spec.build)
    assert [n for n, s in FAMILIES.items() if s.steps_a_gru] == ["gru", "cnn-gru"]


# A whole family in one module: what a contributor adds to training/families/.
TINY_DENSE = '''
from training.families.spec import FamilySpec


def build(input_shape, num_classes, *, width, hidden=8, **_):
    import keras

    inputs = keras.Input(shape=tuple(input_shape), name="window")
    x = keras.layers.Flatten(name="flat")(inputs)
    x = keras.layers.Dense(hidden * width // 4, activation="relu", name="hidden")(x)
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax", name="scores")(x))


SPEC = FamilySpec(name="tiny-dense", summary="tiny-dense (a test's family)", build=build, rate_hz=50.0,
                  learning_rate=1e-2, average_last_share=0.5, mount_share=0.25,
                  search=(("width", None), ("hidden", (4, 8))))
'''


@pytest.fixture
def tiny_dense(tmp_path, monkeypatch):
    """The tiny family's module on the path and its one registry line."""
    import importlib

    from training.families import FAMILIES

    (tmp_path / "tiny_dense.py").write_text(TINY_DENSE)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("tiny_dense")
    monkeypatch.setitem(FAMILIES, "tiny-dense", module.SPEC)
    yield module.SPEC
    import sys

    sys.modules.pop("tiny_dense", None)


@pytest.mark.slow
def test_a_new_family_is_one_module_and_one_registry_line(tiny_dense, tmp_path):
    import io
    import json

    from capture.synth import write_dataset
    from converter.path import conversion_path
    from converter.run_dir import load_contract, load_model
    from search.space import Space, describe, fit_options
    from training.__main__ import build_parser
    from training.fit import fit

    write_dataset(tmp_path / "data", ["ann", "bob", "cem"], 2, 119, labels=("flex", "punch", "wave"))
    o = FitOptions(arch="tiny-dense", epochs=2, width=4, model_options={"hidden": 4})
    resolved = (learning_rate_for(o), average_last_for(o), clipnorm_for(o), supervised_share_for(o),
                resolve_mount(o, [], ("mount",))["share"])
    assert resolved == (1e-2, 1, None, 0.0, 0.25)  # the family's own figures
    summary = fit(tmp_path / "data", tmp_path / "run", o, log=io.StringIO())
    assert summary["arch"] == "tiny-dense" and summary["rate_hz"] == 50.0 and summary["window"] == 50
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["learning_rate"] == 1e-2 and metrics["epochs_run"] == 2 and metrics["supervised_steps"] is None
    contract = load_contract(tmp_path / "run")
    model = load_model(tmp_path / "run", contract)
    assert model.get_layer("hidden").units == 4  # hidden * width // 4
    assert conversion_path(contract, model) == "window"

    space = Space(archs=["tiny-dense"], widths=[4, 8])
    trial = Recorder()
    params = space.suggest(trial)
    assert trial.calls[:3] == [("arch", ["tiny-dense"]), ("width", [4, 8]), ("hidden", [4, 8])]
    assert fit_options(params).model_options == {"hidden": 4} and "hidden 4" in describe(params)
    fit_args = build_parser().parse_args(["fit", str(tmp_path / "data"), "--out", "x", "--arch", "tiny-dense"])
    assert fit_args.arch == "tiny-dense"
