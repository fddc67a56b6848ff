"""What a run's options come to: each option asked for in ``FitOptions``, else its family's value
(training/families/), else the house default."""

from __future__ import annotations

from training import augment
from training.data import dataset_rate_hz
from training.families import family

DEFAULT_LEARNING_RATE = 3e-3  # every family's today (docs/decisions.md, "Learning rate per architecture")


def rate_for(takes, o) -> float | None:
    """The model's rate: the one asked for, else the family's (at most the dataset's), else None
    (base_contract then takes the dataset's)."""
    rate = family(o.arch).rate_hz
    if o.rate_hz is not None or rate is None or not takes:
        return o.rate_hz
    return min(float(rate), dataset_rate_hz(takes))


def width_for(o) -> int:
    """The filters of the first convolution: the width asked for, else the family's."""
    return int(o.width) if o.width is not None else family(o.arch).width


def learning_rate_for(o) -> float:
    """Adam's learning rate of a run: the one asked for, else the family's, else DEFAULT_LEARNING_RATE."""
    if o.learning_rate is not None:
        return float(o.learning_rate)
    rate = family(o.arch).learning_rate
    return DEFAULT_LEARNING_RATE if rate is None else rate


def average_last_for(o, epochs: int | None = None) -> int:
    """Epochs whose weights the kept model averages (0 or 1: the last epoch's); never with early stopping."""
    if o.patience is not None:
        return 0
    share = o.average_last if o.average_last is not None else family(o.arch).average_last_share
    epochs = int(epochs if epochs is not None else o.epochs)
    return max(0, min(int(round(float(share) * epochs)), epochs))


def supervised_share_for(o) -> float:
    """The share of a GRU's last steps trained on the window's label (0: the last step only), asked for
    or the family's; 0 for the windowed models."""
    spec = family(o.arch)
    if not spec.steps_a_gru:
        return 0.0
    return float(o.supervised_steps if o.supervised_steps is not None else spec.supervised_steps_share)


def supervised_steps_for(o, steps: int) -> int:
    """How many of a GRU window's ``steps`` last steps carry the label in training (at least the last)."""
    return max(1, min(int(steps), int(round(supervised_share_for(o) * steps))))


def clipnorm_for(o) -> float | None:
    """Adam's gradient clipping (by norm) of a run: the one asked for (0: none), else the family's."""
    if o.clipnorm is not None:
        return float(o.clipnorm) or None
    return family(o.arch).clipnorm


def mount_share_for(o) -> float:
    """The share of windows 'mount' turns: the one asked for, else the family's, else augment's."""
    if o.mount_share is not None:
        return float(o.mount_share)
    share = family(o.arch).mount_share
    return float(augment.MOUNT_PROBABILITY if share is None else share)


def resolve_mount(o, train_takes, kinds: tuple) -> dict:
    """{"max_deg": the turn 'mount' uses, "share": of the windows, "spread": the measured spread}
    (max_deg and share None without mount)."""
    if "mount" not in kinds:
        return {"max_deg": None, "share": None, "spread": None}
    spread = augment.board_turn_spread_deg(train_takes)
    return {"max_deg": float(o.mount_deg) if o.mount_deg is not None else augment.mount_max_deg(spread["deg"]),
            "share": mount_share_for(o), "spread": spread}
