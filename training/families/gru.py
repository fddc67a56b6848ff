"""gru: one GRU layer over the samples, run one sample at a time on the board.

A GRU family is trained on whole windows but deployed by the converter as a one-step model
(x_t, h) -> (h', scores) built from the trained weights, so its shape is fixed (training/models.py):
Input -> [front end] -> GRU "gru" -> Dense "classifier" (softmax).
"""

from __future__ import annotations

from training import TrainingError
from training.families.spec import GRU_STEP, GRU_UNITS, MAX_GRU_UNITS, FamilySpec


def gru_and_classifier(x, num_classes: int, units: int, dropout: float = 0.0, recurrent_dropout: float = 0.0):
    """GRU "gru" and the softmax "classifier". ``dropout`` / ``recurrent_dropout`` act in training only
    (on the GRU's inputs / on h), so the one-step model the converter builds from the weights is the same."""
    from keras import layers  # Keras stays off the fast path (options, command line)

    if not 1 <= units <= MAX_GRU_UNITS:
        raise TrainingError(f"--gru-units must be between 1 and {MAX_GRU_UNITS}, got {units}")
    if not (0.0 <= dropout < 1.0 and 0.0 <= recurrent_dropout < 1.0):
        raise TrainingError(f"GRU dropout and recurrent dropout must be in [0, 1), got {dropout} and {recurrent_dropout}")
    x = layers.GRU(units, activation="tanh", recurrent_activation="sigmoid", use_bias=True, reset_after=True,
                   dropout=dropout, recurrent_dropout=recurrent_dropout, return_sequences=False, name="gru")(x)
    return layers.Dense(num_classes, activation="softmax", name="classifier")(x)


def gru_dropouts(gru_dropout: float | None, gru_recurrent_dropout: float | None) -> dict:
    """The GRU's training-time dropouts given (fit's model options), as the builders name them."""
    return {k: v for k, v in (("dropout", gru_dropout), ("recurrent_dropout", gru_recurrent_dropout)) if v is not None}


def build_gru(input_shape, num_classes: int, units: int = GRU_UNITS, dropout: float = 0.0,
              recurrent_dropout: float = 0.0):
    """One GRU layer over the normalized samples, then a softmax: deployable one sample at a time."""
    import keras  # Keras stays off the fast path (options, command line)

    inputs = keras.Input(shape=tuple(input_shape), name="window")
    return keras.Model(inputs, gru_and_classifier(inputs, num_classes, units, dropout, recurrent_dropout), name="gru")


def build(input_shape, num_classes: int, *, gru_units: int, gru_dropout: float | None = None,
          gru_recurrent_dropout: float | None = None, **_):
    return build_gru(input_shape, num_classes, units=gru_units, **gru_dropouts(gru_dropout, gru_recurrent_dropout))


SPEC = FamilySpec(
    name="gru",
    summary="gru (runs one sample at a time on the board)",
    build=build,
    conversion=GRU_STEP,
    # fewer, more informative steps per window, the board resampling its IMU to it (docs/decisions.md,
    # "Per-family constants re-checked on the nested bench (issue 22)")
    rate_hz=40.0,
    adapt_learning_rate=3e-3,  # docs/decisions.md, "Adapting the GRU families: a larger step"
    search=(("gru_units", None),),
)
