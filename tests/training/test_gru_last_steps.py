"""A GRU trained on the class scores of its window's last steps (training/fit.py
``compiled_model`` / ``deployable_model``): the loss is the one stated, and the model saved and
converted is the same weights scoring the last step only."""

from __future__ import annotations

import numpy as np
import pytest

from contract.document import Contract, normalization_of
from training import TrainingError
from training.fit import (FitOptions, _keras, _last_steps_loss, check_options, compiled_model, deployable_model,
                          supervised_steps_for)

CONTRACT = Contract(rate_hz=40.0, window=40, hop=10, labels=["flex", "idle", "punch"], idle_label="idle",
                    normalization=normalization_of([0.0] * 6, [1.0] * 6))


def _softmax_ce(scores: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(-np.log(np.take_along_axis(scores, y[:, None, None].repeat(scores.shape[1], 1), 2))))


@pytest.mark.parametrize("arch, steps, k", [("gru", 40, 20), ("cnn-gru", 7, 4)])  # cnn-gru: 40 -> 36 -> 18 -> 14 -> 7
def test_the_training_form_scores_every_step_and_the_loss_is_the_last_steps_cross_entropy(arch, steps, k):
    keras = _keras()
    o = FitOptions(arch=arch, supervised_steps=0.5)
    model = compiled_model(keras, CONTRACT, o)
    assert tuple(model.output.shape[1:]) == (steps, 3)
    assert supervised_steps_for(o, steps) == k  # half of the steps, the last ones
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 40, 6)).astype(np.float32)
    y = rng.integers(0, 3, size=8)
    scores = model.predict(x, verbose=0)
    loss = float(_last_steps_loss(keras, k)(y.astype(np.float32), scores))
    assert loss == pytest.approx(_softmax_ce(scores[:, -k:], y), rel=1e-5)
    assert loss != pytest.approx(_softmax_ce(scores[:, -1:], y), rel=1e-3)  # not the last step's alone

    # What is saved and converted: the same layers by name, the same weights, the last step's scores
    plain = deployable_model(keras, model, o)
    assert tuple(plain.output.shape[1:]) == (3,)
    assert [layer.name for layer in plain.layers] == [layer.name for layer in model.layers]
    assert all(np.array_equal(a, b) for a, b in zip(plain.get_weights(), model.get_weights()))
    np.testing.assert_allclose(plain.predict(x, verbose=0), scores[:, -1], rtol=1e-5, atol=1e-6)


def test_without_it_a_gru_is_trained_on_its_last_step_and_windowed_models_cannot_ask_for_it():
    keras = _keras()
    model = compiled_model(keras, CONTRACT, FitOptions(arch="gru", supervised_steps=0.0))
    assert tuple(model.output.shape[1:]) == (3,)
    assert deployable_model(keras, model, FitOptions(arch="gru")) is model
    assert supervised_steps_for(FitOptions(arch="conv1d", supervised_steps=None), 40) == 1
    with pytest.raises(TrainingError, match="only gru and cnn-gru"):
        check_options(FitOptions(arch="conv1d", supervised_steps=0.5))
    with pytest.raises(TrainingError, match="between 0 and 1"):
        check_options(FitOptions(arch="gru", supervised_steps=1.5))
