"""Model building: ``build_model`` asks the family's builder (training/families/), and the GRU families'
training and deployed forms. Each builder takes explicit shapes and returns an uncompiled Keras model.

Windowed classifiers use only layers that the TFLM int8 path supports: Conv1D lowers to
EXPAND_DIMS / CONV_2D / RESHAPE, SeparableConv1D to DEPTHWISE_CONV_2D + CONV_2D, batch
normalization folds into the convolution, pooling and the softmax head map to
MAX_POOL_2D, MEAN and FULLY_CONNECTED / SOFTMAX.

The GRU models are trained on whole windows but deployed by the converter as a one-step
model (x_t, h) -> (h', scores) built from the trained weights, so their shape is fixed:
Input -> [front end: "front_conv1", "front_bn1", "front_relu1", "front_pool1", ...] -> GRU "gru"
-> Dense "classifier" (softmax). ``gru_description`` writes that shape into the contract (the
convolutions and poolings, whose strides give the samples between two steps).
"""

from __future__ import annotations

import keras

from training import TrainingError
from training.families import GRU_UNITS, MAX_GRU_UNITS, family
from training.families.cnn_gru import build_cnn_gru
from training.families.conv1d import build_conv1d
from training.families.ds_conv1d import build_ds_conv1d
from training.families.gru import build_gru

__all__ = ["MAX_GRU_UNITS", "build_cnn_gru", "build_conv1d", "build_ds_conv1d", "build_gru", "build_model",
           "gru_description", "scoring_every_step"]


def build_model(arch: str, input_shape, num_classes: int, width: int = 16, gru_units: int = GRU_UNITS,
                **model_options) -> keras.Model:
    """The model for ``--arch``, built by its family (training/families/); ``width`` sizes the convolutions,
    ``gru_units`` the GRU. ``model_options`` given (not None) replace the builder's defaults (training search
    varies them): ``kernel`` and ``depth`` (conv1d, ds-conv1d), ``kernel`` and ``front_layers`` (cnn-gru),
    ``gru_dropout`` and ``gru_recurrent_dropout`` (the GRU's training-time dropouts: gru, cnn-gru); a family
    ignores those it does not use."""
    given = {k: v for k, v in model_options.items() if v is not None}
    return family(arch).build(input_shape, num_classes, width=width, gru_units=gru_units, **given)


def scoring_every_step(model: keras.Model, every_step: bool = True) -> keras.Model:
    """A GRU model as the same layers, by name, with the same weights, whose classifier scores every
    step's h, (batch, steps, classes) (``every_step``; the form training on the last steps uses:
    training/fit.py ``compiled_model``, training/adapt_fit.py), or only the last h, (batch, classes):
    the form that is saved, converted and deployed."""
    config = model.get_config()
    grus = [layer for layer in config["layers"] if layer["config"].get("name") == "gru"]
    if not grus:
        raise TrainingError(f"{model.name} has no GRU to score every step of")
    grus[0]["config"]["return_sequences"] = bool(every_step)
    other = keras.Model.from_config(config)
    other.set_weights(model.get_weights())
    return other


def gru_description(model: keras.Model) -> dict | None:
    """The contract's ``gru`` entry: GRU units and the Conv1D front end in order (None for
    windowed models). The converter rebuilds the one-step model from this and the weights."""
    names = [layer.name for layer in model.layers]
    if "gru" not in names:
        return None
    front = []
    for layer in model.layers:
        c = layer.get_config()
        if layer.name.startswith("front_conv"):
            front.append({"name": layer.name, "kernel": int(c["kernel_size"][0]), "stride": int(c["strides"][0]),
                          "filters": int(c["filters"]), "padding": c["padding"], "activation": c["activation"]})
        elif layer.name.startswith("front_pool"):
            front.append({"name": layer.name, "kernel": int(c["pool_size"][0]), "stride": int(c["strides"][0]),
                          "filters": None, "padding": c["padding"], "activation": None})
    return {"units": int(model.get_layer("gru").units), "front_end": front or None}
