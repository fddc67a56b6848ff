"""Model builders. Each takes explicit shapes and returns an uncompiled Keras model.

Only layers that the TFLM int8 path supports: Conv1D lowers to EXPAND_DIMS / CONV_2D /
RESHAPE, batch normalization folds into the convolution, pooling and the softmax head
map to MAX_POOL_2D, MEAN and FULLY_CONNECTED / SOFTMAX.
"""

from __future__ import annotations

import keras
from keras import layers

from training import TrainingError


def build_conv1d(input_shape, num_classes: int, width: int = 16) -> keras.Model:
    """A small Conv1D classifier: about 6.5 k parameters at width 16 (int8: ~10 KB flatbuffer)."""
    inputs = keras.Input(shape=tuple(input_shape), name="window")
    x = layers.Conv1D(width, 5, padding="same", use_bias=False, name="conv1")(inputs)
    x = layers.BatchNormalization(name="bn1")(x)
    x = layers.ReLU(name="relu1")(x)
    x = layers.MaxPooling1D(2, name="pool1")(x)
    x = layers.Conv1D(2 * width, 5, padding="same", use_bias=False, name="conv2")(x)
    x = layers.BatchNormalization(name="bn2")(x)
    x = layers.ReLU(name="relu2")(x)
    x = layers.MaxPooling1D(2, name="pool2")(x)
    x = layers.Conv1D(2 * width, 3, padding="same", activation="relu", name="conv3")(x)
    x = layers.GlobalAveragePooling1D(name="gap")(x)
    x = layers.Dropout(0.2, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="scores")(x)
    return keras.Model(inputs, outputs, name="conv1d")


ARCHITECTURES = {"conv1d": build_conv1d}


def build_model(arch: str, input_shape, num_classes: int, width: int = 16) -> keras.Model:
    try:
        builder = ARCHITECTURES[arch]
    except KeyError:
        raise TrainingError(f"unknown --arch {arch!r}; choose one of {', '.join(ARCHITECTURES)}") from None
    return builder(input_shape, num_classes, width=width)
