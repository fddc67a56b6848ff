"""Model builders. Each takes explicit shapes and returns an uncompiled Keras model.

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
from keras import layers

from training import ARCHITECTURES, GRU_UNITS, TrainingError

MAX_GRU_UNITS = 32  # the one-step model keeps h in RAM and runs every sample: keep it tiny


def build_conv1d(input_shape, num_classes: int, width: int = 16, kernel: int = 5, depth: int = 3) -> keras.Model:
    """A small Conv1D classifier: about 6.5 k parameters at width 16 (int8: ~10 KB flatbuffer).

    ``depth`` convolutions: the first ``depth - 1`` (``kernel`` wide; ``width`` filters, then twice
    as many) each followed by batch normalization, ReLU and pooling by 2, the last 3 wide."""
    if depth < 2:
        raise TrainingError(f"conv1d needs a depth of at least 2 convolutions, got {depth}")
    inputs = keras.Input(shape=tuple(input_shape), name="window")
    x = inputs
    for i in range(1, depth):
        x = layers.Conv1D(width if i == 1 else 2 * width, kernel, padding="same", use_bias=False, name=f"conv{i}")(x)
        x = layers.BatchNormalization(name=f"bn{i}")(x)
        x = layers.ReLU(name=f"relu{i}")(x)
        x = layers.MaxPooling1D(2, name=f"pool{i}")(x)
    x = layers.Conv1D(2 * width, 3, padding="same", activation="relu", name=f"conv{depth}")(x)
    x = layers.GlobalAveragePooling1D(name="gap")(x)
    x = layers.Dropout(0.2, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="scores")(x)
    return keras.Model(inputs, outputs, name="conv1d")


def build_ds_conv1d(input_shape, num_classes: int, width: int = 16, kernel: int = 5, depth: int = 3) -> keras.Model:
    """Depthwise-separable Conv1D: each layer filters every channel on its own in time, then mixes
    channels with a 1x1 convolution. The smallest model (~1.5 k parameters at width 16).
    ``depth`` and ``kernel`` as in ``build_conv1d``."""
    if depth < 2:
        raise TrainingError(f"ds-conv1d needs a depth of at least 2 convolutions, got {depth}")
    inputs = keras.Input(shape=tuple(input_shape), name="window")
    x = inputs
    for i in range(1, depth):
        x = layers.SeparableConv1D(width if i == 1 else 2 * width, kernel, padding="same", activation="relu",
                                   name=f"sep{i}")(x)
        x = layers.MaxPooling1D(2, name=f"pool{i}")(x)
    x = layers.SeparableConv1D(2 * width, 3, padding="same", activation="relu", name=f"sep{depth}")(x)
    x = layers.GlobalAveragePooling1D(name="gap")(x)
    x = layers.Dropout(0.1, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="scores")(x)
    return keras.Model(inputs, outputs, name="ds_conv1d")


def _gru_and_classifier(x, num_classes: int, units: int, dropout: float = 0.0, recurrent_dropout: float = 0.0):
    """GRU "gru" and the softmax "classifier". ``dropout`` / ``recurrent_dropout`` act in training only
    (on the GRU's inputs / on h), so the one-step model the converter builds from the weights is the same."""
    if not 1 <= units <= MAX_GRU_UNITS:
        raise TrainingError(f"--gru-units must be between 1 and {MAX_GRU_UNITS}, got {units}")
    if not (0.0 <= dropout < 1.0 and 0.0 <= recurrent_dropout < 1.0):
        raise TrainingError(f"GRU dropout and recurrent dropout must be in [0, 1), got {dropout} and {recurrent_dropout}")
    x = layers.GRU(units, activation="tanh", recurrent_activation="sigmoid", use_bias=True, reset_after=True,
                   dropout=dropout, recurrent_dropout=recurrent_dropout, return_sequences=False, name="gru")(x)
    return layers.Dense(num_classes, activation="softmax", name="classifier")(x)


def build_gru(input_shape, num_classes: int, units: int = GRU_UNITS, dropout: float = 0.0,
              recurrent_dropout: float = 0.0) -> keras.Model:
    """One GRU layer over the normalized samples, then a softmax: deployable one sample at a time."""
    inputs = keras.Input(shape=tuple(input_shape), name="window")
    return keras.Model(inputs, _gru_and_classifier(inputs, num_classes, units, dropout, recurrent_dropout), name="gru")


def build_cnn_gru(input_shape, num_classes: int, width: int = 16, units: int = GRU_UNITS,
                  kernel: int = 5, pool: int = 2, front_layers: int = 2, dropout: float = 0.0,
                  recurrent_dropout: float = 0.0) -> keras.Model:
    """A Conv1D front end feeding a GRU: ``front_layers`` blocks of a 'valid' convolution, batch
    normalization, ReLU and max pooling by ``pool`` (as the conv1d model's blocks), so the GRU runs
    about 4x fewer steps than ``build_gru`` on normalized features.

    Trained on 4 real people's punch and flex and tested on 5 others (int8, seeds 0 / 1 / 2;
    bench/bench_real.py --parts split), this front end scores 0.837 / 0.721 / 0.837 where the earlier
    one (two stride-2 convolutions with ReLU, no normalization) scored 0.798 / 0.462 / 0.750."""
    inputs = keras.Input(shape=tuple(input_shape), name="window")
    x = inputs
    for i in range(1, front_layers + 1):
        x = layers.Conv1D(width, kernel, padding="valid", use_bias=False, name=f"front_conv{i}")(x)
        x = layers.BatchNormalization(name=f"front_bn{i}")(x)
        x = layers.ReLU(name=f"front_relu{i}")(x)
        x = layers.MaxPooling1D(pool, name=f"front_pool{i}")(x)
    return keras.Model(inputs, _gru_and_classifier(x, num_classes, units, dropout, recurrent_dropout), name="cnn_gru")


def build_model(arch: str, input_shape, num_classes: int, width: int = 16, gru_units: int = GRU_UNITS,
                kernel: int | None = None, depth: int | None = None, front_layers: int | None = None,
                gru_dropout: float | None = None, gru_recurrent_dropout: float | None = None) -> keras.Model:
    """The model for ``--arch``; ``width`` sizes the convolutions, ``gru_units`` the GRU; ``kernel``
    and ``depth`` (conv1d, ds-conv1d) or ``kernel`` and ``front_layers`` (cnn-gru), when given,
    replace the builders' defaults (training search varies them); ``gru_dropout`` and
    ``gru_recurrent_dropout``, when given, replace the GRU's training-time dropouts (gru, cnn-gru)."""
    shape = {k: v for k, v in (("kernel", kernel), ("depth", depth)) if v is not None}
    drops = {k: v for k, v in (("dropout", gru_dropout), ("recurrent_dropout", gru_recurrent_dropout)) if v is not None}
    if arch == "conv1d":
        return build_conv1d(input_shape, num_classes, width=width, **shape)
    if arch == "ds-conv1d":
        return build_ds_conv1d(input_shape, num_classes, width=width, **shape)
    if arch == "gru":
        return build_gru(input_shape, num_classes, units=gru_units, **drops)
    if arch == "cnn-gru":
        front = {k: v for k, v in (("kernel", kernel), ("front_layers", front_layers)) if v is not None}
        return build_cnn_gru(input_shape, num_classes, width=width, units=gru_units, **front, **drops)
    raise TrainingError(f"unknown --arch {arch!r}; choose one of {', '.join(ARCHITECTURES)}")


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
