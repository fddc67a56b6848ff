"""ds-conv1d: depthwise-separable Conv1D, the smallest model, scoring a whole window."""

from __future__ import annotations

from training import TrainingError
from training.families.conv1d import DEPTHS, KERNELS
from training.families.spec import FamilySpec


def build_ds_conv1d(input_shape, num_classes: int, width: int = 16, kernel: int = 5, depth: int = 3):
    """Depthwise-separable Conv1D: each layer filters every channel on its own in time, then mixes
    channels with a 1x1 convolution. The smallest model (~1.5 k parameters at width 16).
    ``depth`` and ``kernel`` as in ``build_conv1d``."""
    import keras  # Keras stays off the fast path (options, command line)
    from keras import layers

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


def build(input_shape, num_classes: int, *, width: int, kernel: int | None = None, depth: int | None = None, **_):
    shape = {k: v for k, v in (("kernel", kernel), ("depth", depth)) if v is not None}
    return build_ds_conv1d(input_shape, num_classes, width=width, **shape)


SPEC = FamilySpec(
    name="ds-conv1d",
    summary="ds-conv1d (depthwise-separable, smallest)",
    build=build,
    search=(("width", None), ("kernel", KERNELS), ("depth", DEPTHS)),
)
