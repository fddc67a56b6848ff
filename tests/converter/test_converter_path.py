"""The converter takes the path the run's model family names (training/families/)."""

from types import SimpleNamespace

import pytest

from converter import ConverterError
from converter.path import KINDS, conversion_path, model_kind
from training.families import CONVERSIONS


class GRU:  # what converter.gru.gru_step.find_gru recognises, by its type's name
    name = "gru"


class Dense:
    name = "scores"


def _model(*layers):
    return SimpleNamespace(layers=[layer() for layer in layers])


@pytest.mark.parametrize("arch, layers, path", [("conv1d", (Dense,), "window"), ("ds-conv1d", (Dense,), "window"),
                                                ("gru", (GRU, Dense), "gru_step"), ("cnn-gru", (GRU, Dense), "gru_step")])
def test_each_family_names_its_path(arch, layers, path):
    assert conversion_path(SimpleNamespace(arch=arch), _model(*layers)) == path


def test_an_arch_no_family_names_follows_the_models_layers():
    assert conversion_path(SimpleNamespace(arch="unknown"), _model(GRU, Dense)) == "gru_step"
    assert conversion_path(SimpleNamespace(arch="unknown"), _model(Dense)) == "window"


def test_a_contract_that_does_not_describe_its_model_is_refused():
    with pytest.raises(ConverterError, match="'conv1d' is converted as 'window', but the model has GRU layer"):
        conversion_path(SimpleNamespace(arch="conv1d"), _model(GRU, Dense))


def test_every_conversion_a_family_can_name_has_one_kind():
    assert set(KINDS) == set(CONVERSIONS)
    assert model_kind(SimpleNamespace(arch="conv1d"), _model(Dense)).name == "window"  # report.json's model_kind
    assert model_kind(SimpleNamespace(arch="gru"), _model(GRU, Dense)).name == "gru_one_step"
