"""What a model family is: one frozen ``FamilySpec`` per family (training/families/)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

WINDOW = "window"  # converted as one model that scores a whole window
GRU_STEP = "gru_step"  # converted as a one-step model (x_t, h) -> (h', scores) the board steps through the window
CONVERSIONS = (WINDOW, GRU_STEP)

GRU_UNITS = 24  # default units of a GRU family's GRU (fit --gru-units)
MAX_GRU_UNITS = 32  # the one-step model keeps h in RAM and runs every sample: keep it tiny


@dataclass(frozen=True)
class FamilySpec:
    """Everything that sets one ``--arch`` apart. Options left at None in ``FitOptions`` resolve to these
    (training/recipe.py); each tuned value names its entry in docs/decisions.md where it is set.

    ``build(input_shape, num_classes, *, width, gru_units, **model_options)`` returns the uncompiled Keras
    model (keyword arguments it does not use are ignored; Keras is imported inside it, off the fast path).
    ``search``: the model parameters ``nanogest search`` draws for the family, in the order drawn, each with
    its choices (None: the study's own list, ``--widths`` / ``--gru-units``); every one but ``width`` and
    ``gru_units`` reaches ``build`` as a model option. ``window_check(params, window)``: why a window of
    ``window`` samples is too short for the model those parameters build, or None (None: any window fits)."""

    name: str
    summary: str  # a few words for --arch's help
    build: Callable
    conversion: str = WINDOW
    rate_hz: float | None = None  # the model's rate (never above the dataset's); None: the dataset's
    width: int = 16  # filters of the first convolution when fit is not asked for another (--width)
    learning_rate: float | None = None  # Adam's step; None: training.recipe.DEFAULT_LEARNING_RATE
    adapt_learning_rate: float | None = None  # adapt's Adam step; None: training.adapt_fit.ADAPT_LEARNING_RATE
    average_last_share: float = 0.0  # of the epochs whose mean weights are kept; 0: the last epoch's
    clipnorm: float | None = None  # Adam's gradient clipping by norm; None: none
    supervised_steps_share: float = 0.0  # GRU_STEP: share of the window's last steps trained on its label
    mount_share: float | None = None  # of the windows 'mount' turns; None: training.augment.MOUNT_PROBABILITY
    search: tuple[tuple[str, tuple | None], ...] = ()
    window_check: Callable[[dict, int], str | None] | None = None

    @property
    def steps_a_gru(self) -> bool:
        """The model is a GRU run one step at a time on the board (gru units and last-step training apply)."""
        return self.conversion == GRU_STEP
