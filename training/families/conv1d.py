"""conv1d, fit's default: a small Conv1D classifier scoring a whole window."""

from __future__ import annotations

from training import TrainingError
from training.families.spec import FamilySpec

KERNELS = (3, 5, 7)  # what search draws for conv1d, ds-conv1d and cnn-gru
DEPTHS = (2, 3, 4)  # convolutions (the default models have 3)


def build_conv1d(input_shape, num_classes: int, width: int = 16, kernel: int = 5, depth: int = 3):
    """A small Conv1D classifier: about 6.5 k parameters at width 16 (int8: ~10 KB flatbuffer).

    ``depth`` convolutions: the first ``depth - 1`` (``kernel`` wide; ``width`` filters, then twice
    as many) each followed by batch normalization, ReLU and pooling by 2, the last 3 wide."""
    import keras  # Keras stays off the fast path (options, command line)
    from keras import layers

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


def build(input_shape, num_classes: int, *, width: int, kernel: int | None = None, depth: int | None = None, **_):
    shape = {k: v for k, v in (("kernel", kernel), ("depth", depth)) if v is not None}
    return build_conv1d(input_shape, num_classes, width=width, **shape)


SPEC = FamilySpec(
    name="conv1d",
    summary="conv1d (default)",
    build=build,
    # 8 filters at 60 Hz: as accurate on the confirmation people as 16 at 119 Hz, in 58 % of the bytes and a
    # fifth of the instructions (docs/decisions.md, "The default conv1d: width 8 at 60 Hz")
    rate_hz=60.0,
    width=8,
    # the mean weights of the last quarter of the epochs (docs/decisions.md, "The weights kept: the mean
    # of the last quarter of the epochs"), a share so a shorter run (training search) averages fewer
    average_last_share=0.25,
    search=(("width", None), ("kernel", KERNELS), ("depth", DEPTHS)),
)
