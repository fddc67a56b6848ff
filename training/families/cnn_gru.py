"""cnn-gru: a Conv1D front end feeding a GRU, stepped on the board a chunk of samples at a time."""

from __future__ import annotations

import inspect

from contract.pipeline import CHANNELS
from training.families.conv1d import KERNELS
from training.families.gru import gru_and_classifier, gru_dropouts
from training.families.spec import GRU_STEP, GRU_UNITS, FamilySpec

FRONT_LAYERS = (1, 2, 3)  # blocks in front of the GRU, as search draws them


def build_cnn_gru(input_shape, num_classes: int, width: int = 16, units: int = GRU_UNITS,
                  kernel: int = 5, pool: int = 2, front_layers: int = 2, dropout: float = 0.0,
                  recurrent_dropout: float = 0.0):
    """A Conv1D front end feeding a GRU: ``front_layers`` blocks of a 'valid' convolution, batch
    normalization, ReLU and max pooling by ``pool`` (as the conv1d model's blocks), so the GRU runs
    about 4x fewer steps than ``build_gru`` on normalized features (docs/decisions.md, "The cnn-gru
    front end")."""
    import keras  # Keras stays off the fast path (options, command line)
    from keras import layers

    inputs = keras.Input(shape=tuple(input_shape), name="window")
    x = inputs
    for i in range(1, front_layers + 1):
        x = layers.Conv1D(width, kernel, padding="valid", use_bias=False, name=f"front_conv{i}")(x)
        x = layers.BatchNormalization(name=f"front_bn{i}")(x)
        x = layers.ReLU(name=f"front_relu{i}")(x)
        x = layers.MaxPooling1D(pool, name=f"front_pool{i}")(x)
    return keras.Model(inputs, gru_and_classifier(x, num_classes, units, dropout, recurrent_dropout), name="cnn_gru")


def build(input_shape, num_classes: int, *, width: int, gru_units: int, kernel: int | None = None,
          front_layers: int | None = None, gru_dropout: float | None = None, gru_recurrent_dropout: float | None = None,
          **_):
    front = {k: v for k, v in (("kernel", kernel), ("front_layers", front_layers)) if v is not None}
    return build_cnn_gru(input_shape, num_classes, width=width, units=gru_units, **front,
                         **gru_dropouts(gru_dropout, gru_recurrent_dropout))


def window_check(params: dict, window: int) -> str | None:
    """Why a window of ``window`` samples is too short for the front end of ``params`` (blocks of a 'valid'
    convolution and max pooling), else None. The front is built, untrained, so its geometry is stated only
    in ``build_cnn_gru``."""
    defaults = inspect.signature(build_cnn_gru).parameters
    kernel = int(params.get("kernel", defaults["kernel"].default))
    layers = int(params.get("front_layers", defaults["front_layers"].default))
    try:
        build_cnn_gru((window, len(CHANNELS)), 2, width=2, units=2, kernel=kernel, front_layers=layers)
    except ValueError:  # Keras: "Computed output size would be zero or negative"
        return (f"a window of {window} samples is too short for cnn-gru's {layers} front blocks of a kernel "
                f"{kernel} convolution and pooling by {defaults['pool'].default}; the point is skipped")
    return None


SPEC = FamilySpec(
    name="cnn-gru",
    summary="cnn-gru (Conv1D front end, then a GRU)",
    build=build,
    conversion=GRU_STEP,
    # under at 119 Hz on every seed, on people never used to choose (docs/decisions.md, "Per-family constants
    # re-checked on the nested bench (issue 22)")
    rate_hz=60.0,
    search=(("width", None), ("kernel", KERNELS), ("front_layers", FRONT_LAYERS), ("gru_units", None)),
    window_check=window_check,
)
