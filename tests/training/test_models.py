"""Model builders: shapes the converter relies on, sizes and hand-counted multiply-accumulates."""

import keras
import pytest
from keras import layers

from training import TrainingError
from training.families import names
from training.macs import count_macs
from training.models import build_cnn_gru, build_gru, build_model, gru_description

SHAPE = (119, 6)


@pytest.mark.parametrize("arch", names())
def test_every_arch_maps_a_window_to_class_scores(arch):
    model = build_model(arch, SHAPE, 5)
    assert model.input_shape == (None, 119, 6) and model.output_shape == (None, 5)
    assert model.layers[-1].get_config()["activation"] == "softmax"


def test_ds_conv1d_is_the_smallest():
    params = {arch: build_model(arch, SHAPE, 5).count_params() for arch in names()}
    assert min(params, key=params.get) == "ds-conv1d", params
    macs = {arch: count_macs(build_model(arch, SHAPE, 5)) for arch in names()}
    assert min(macs, key=macs.get) == "ds-conv1d", macs


def test_gru_is_exactly_input_gru_classifier():
    model = build_gru(SHAPE, 4, units=20)
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "GRU", "Dense"]
    gru = model.get_layer("gru").get_config()
    assert gru["units"] == 20 and gru["reset_after"] is True and gru["return_sequences"] is False
    assert (gru["activation"], gru["recurrent_activation"], gru["use_bias"]) == ("tanh", "sigmoid", True)
    assert model.get_layer("classifier").get_config()["activation"] == "softmax"
    assert gru_description(model) == {"units": 20, "front_end": None}


def test_cnn_gru_front_end_shortens_the_sequence_and_is_described():
    model = build_cnn_gru(SHAPE, 3, width=8, units=16)
    names = [layer.name for layer in model.layers[1:]]
    assert names == [f"front_{kind}{i}" for i in (1, 2) for kind in ("conv", "bn", "relu", "pool")] + ["gru", "classifier"]
    assert model.get_layer("gru").input.shape[1] == 26  # 119 -> 115 -> 57 -> 53 -> 26: kernel 5 'valid', pool 2
    front = gru_description(model)["front_end"]
    assert [f["name"] for f in front] == ["front_conv1", "front_pool1", "front_conv2", "front_pool2"]
    assert [f["stride"] for f in front] == [1, 2, 1, 2]  # the GRU steps every 4 samples
    assert all(f["kernel"] == 5 and f["filters"] == 8 and f["padding"] == "valid" for f in front[::2])
    assert gru_description(build_model("conv1d", SHAPE, 3)) is None


def test_gru_units_are_kept_small_and_unknown_archs_refused():
    with pytest.raises(TrainingError, match="between 1 and 32"):
        build_gru(SHAPE, 3, units=64)
    with pytest.raises(TrainingError, match="unknown --arch 'lstm'"):
        build_model("lstm", SHAPE, 3)


def test_macs_of_the_default_conv1d_by_hand():
    # conv1 119*5*6*16 + conv2 59*5*16*32 + conv3 29*3*32*32 + dense 32*5 (pooling and BN not counted)
    assert count_macs(build_model("conv1d", SHAPE, 5)) == 57120 + 151040 + 89088 + 160


def test_macs_of_each_counted_layer_kind():
    x = keras.Input((50, 4))
    dense = keras.Model(x, layers.Dense(7)(layers.Flatten()(x)))
    assert count_macs(dense) == 200 * 7
    conv = keras.Model(x, layers.Conv1D(8, 3, strides=2, padding="valid")(x))  # 24 steps out
    assert count_macs(conv) == 24 * 3 * 4 * 8
    depthwise = keras.Model(x, layers.DepthwiseConv1D(5, depth_multiplier=2, padding="same")(x))
    assert count_macs(depthwise) == 50 * 5 * 4 * 2
    separable = keras.Model(x, layers.SeparableConv1D(6, 3, padding="same")(x))
    assert count_macs(separable) == 50 * 3 * 4 + 50 * 4 * 6
    gru = keras.Model(x, layers.GRU(10)(x))
    assert count_macs(gru) == 50 * 3 * (4 * 10 + 10 * 10)
    pooled = keras.Model(x, layers.GlobalAveragePooling1D()(layers.MaxPooling1D(2)(x)))
    assert count_macs(pooled) == 0


def test_gru_dropouts_reach_the_layer_and_leave_the_deployed_shape_alone():
    model = build_model("gru", SHAPE, 3, gru_dropout=0.1, gru_recurrent_dropout=0.2)
    gru = model.get_layer("gru").get_config()
    assert (gru["dropout"], gru["recurrent_dropout"]) == (0.1, 0.2)
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "GRU", "Dense"]
    cnn = build_model("cnn-gru", SHAPE, 3, gru_recurrent_dropout=0.3).get_layer("gru").get_config()
    assert cnn["recurrent_dropout"] == 0.3
    with pytest.raises(TrainingError, match="must be in \\[0, 1\\)"):
        build_gru(SHAPE, 3, recurrent_dropout=1.0)
