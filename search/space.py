"""What ``nanogest search`` varies, and how one point of it becomes ``fit``'s options.

The space covers what sets accuracy, size and speed on the board: the architecture family and the
model parameters its spec names with their choices (training/families/: widths, depth, kernel sizes,
GRU units, the widths and GRU units from the study's own lists), the rate the model runs at,
the window length and hop of the contract, augmentation (which kinds, and how many augmented copies of each window an
epoch sees), learning rate and epochs. The strength inside each augmentation kind is
training/augment.py's (its constants), not searched.

The rate: the dataset's own and fractions of it (``RATE_FRACTIONS``, whole Hz), never above it.
``fit --rate-hz`` resamples the takes to it (contract/resample.py) and the contract states it;
the board's core resamples its IMU's stream with the same integer arithmetic (ng_resample.h),
which tests/firmware/test_inference_path.py proves byte for byte for every rate this space
offers. A window of the same seconds at a lower rate has fewer samples, so the converter's MACs,
latency and (for cnn-gru and gru) the steps follow from the rate.

A point is a plain dict of Optuna parameter names to values (``trial.params``), so any
worker, on any machine, rebuilds the same ``FitOptions`` from the stored trial alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from training import TrainingError
from training.families import FAMILIES, MAX_GRU_UNITS, family, names
from training.fit import FitOptions, learning_rate_for, width_for

WIDTHS = (4, 6, 8, 12, 16, 24, 32)
STUDY_LISTS = ("width", "gru_units")  # model parameters whose choices are the study's (--widths, --gru-units)
GRU_UNIT_CHOICES = (8, 12, 16, 24, 32)
WINDOW_SECONDS = (0.75, 1.0, 1.25)
HOP_SECONDS = (0.125, 0.25)
AUGMENT_CHOICES = ("auto", "none", "rotate", "mount,rotate", "all")  # 'auto': fit's default for the data
COPIES = (1, 2, 4)
LEARNING_RATE = (1e-3, 1e-2)  # log-uniform
EPOCHS = (10, 40)
EPOCH_STEP = 5
RATE_FRACTIONS = (1, 1 / 2, 2 / 5, 1 / 3)  # of the dataset's rate: 119 Hz -> 119, 60, 48, 40; 100 Hz -> 100, 50, 40, 33
MIN_RATE_HZ = 10.0
STARTING_WIDTH_DIVISORS = (2, 4)  # starting_points: fit's default with 2x and 4x fewer filters


def rate_choices(data_rate_hz: float) -> list[float]:
    """The rates searched for a dataset at ``data_rate_hz``: that rate, then its ``RATE_FRACTIONS``
    rounded to whole Hz and the families' own rates below it, so fit's default of every family is in
    the space (highest first, none below ``MIN_RATE_HZ``)."""
    full = round(float(data_rate_hz), 3)
    lower = {float(round(full * f)) for f in RATE_FRACTIONS[1:]}
    lower |= {float(f.rate_hz) for f in FAMILIES.values() if f.rate_hz is not None}
    return [full] + sorted((r for r in lower if MIN_RATE_HZ <= r < full), reverse=True)


def parse_rates(text: str, data_rate_hz: float) -> list[float]:
    """``--rates``: 'full,50' -> [dataset's rate, 50.0]; each at most the dataset's rate."""
    full = round(float(data_rate_hz), 3)
    rates = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            rate = full if part == "full" else float(part)
        except ValueError:
            raise TrainingError(f"--rates must be comma-separated Hz or 'full', got {text!r}") from None
        if not MIN_RATE_HZ <= rate <= full:
            raise TrainingError(f"--rates: {part} Hz is outside {MIN_RATE_HZ:g}..{full:g} Hz (the dataset's rate): the "
                                "model may run at or below the rate the takes were recorded at")
        rates.append(rate)
    if not rates:
        raise TrainingError("--rates is empty")
    return sorted(set(rates), reverse=True)


@dataclass
class Space:
    """The ranges a study searches; stored with the study so every worker searches the same."""

    archs: list[str] = field(default_factory=lambda: list(names()))
    widths: list[int] = field(default_factory=lambda: list(WIDTHS))
    gru_units: list[int] = field(default_factory=lambda: list(GRU_UNIT_CHOICES))
    rates_hz: list[float] = field(default_factory=list)  # empty: the dataset's rate only (studies before the rate)
    min_epochs: int = EPOCHS[0]
    max_epochs: int = EPOCHS[1]

    def check(self) -> None:
        unknown = [a for a in self.archs if a not in names()]
        if unknown or not self.archs:
            raise TrainingError(f"unknown --arch {','.join(unknown) or '(none)'}; choose from {', '.join(names())}")
        if not self.widths or min(self.widths) < 1:
            raise TrainingError(f"--widths must be positive filter counts, got {self.widths}")
        if not self.gru_units or not all(1 <= u <= MAX_GRU_UNITS for u in self.gru_units):
            raise TrainingError(f"--gru-units must be between 1 and {MAX_GRU_UNITS}, got {self.gru_units}")
        if any(r <= 0 for r in self.rates_hz):
            raise TrainingError(f"--rates must be positive Hz, got {self.rates_hz}")
        if not 1 <= self.min_epochs <= self.max_epochs:
            raise TrainingError(f"--epochs must be MIN-MAX with 1 <= MIN <= MAX, got {self.min_epochs}-{self.max_epochs}")

    def to_dict(self) -> dict:
        return {"archs": list(self.archs), "widths": list(self.widths), "gru_units": list(self.gru_units),
                "rates_hz": list(self.rates_hz), "min_epochs": self.min_epochs, "max_epochs": self.max_epochs}

    @classmethod
    def from_dict(cls, d: dict) -> "Space":
        return cls(**d)

    def suggest(self, trial) -> dict:
        """Draw one point with Optuna's ``trial``; returns ``trial.params``."""
        arch = trial.suggest_categorical("arch", self.archs)
        study = {"width": self.widths, "gru_units": self.gru_units}
        for name, choices in family(arch).search:
            trial.suggest_categorical(name, list(study[name] if choices is None else choices))
        if self.rates_hz:
            trial.suggest_categorical("rate_hz", list(self.rates_hz))
        trial.suggest_categorical("window_s", list(WINDOW_SECONDS))
        trial.suggest_categorical("hop_s", list(HOP_SECONDS))
        augment = trial.suggest_categorical("augment", list(AUGMENT_CHOICES))
        if augment != "none":
            trial.suggest_categorical("copies", list(COPIES))
        trial.suggest_float("learning_rate", *LEARNING_RATE, log=True)
        step = EPOCH_STEP if self.max_epochs - self.min_epochs >= EPOCH_STEP else 1
        high = self.min_epochs + (self.max_epochs - self.min_epochs) // step * step
        trial.suggest_int("epochs", self.min_epochs, high, step=step)
        return dict(trial.params)


def baseline_params(space: "Space", data_rate_hz: float | None = None, width: int | None = None) -> dict:
    """fit's default model (``python -m training fit`` without options) as a point of the space, so a
    search can score it exactly as its candidates (``search --baseline``); when the space searches rates
    it runs at its family's rate, at most the dataset's ``data_rate_hz``, as fit does. ``width``: the same model with
    that many filters instead (``starting_points``)."""
    import inspect

    from training.models import build_conv1d

    o = FitOptions() if width is None else FitOptions(width=width)
    shape = inspect.signature(build_conv1d).parameters
    params = {"arch": o.arch, "width": width_for(o), "kernel": shape["kernel"].default, "depth": shape["depth"].default,
              "window_s": o.window_seconds, "hop_s": o.hop_seconds, "augment": "auto", "copies": o.copies_per_epoch,
              "learning_rate": learning_rate_for(o), "epochs": o.epochs}
    checks = [("arch", o.arch in space.archs), ("width", width_for(o) in space.widths),
              ("epochs", space.min_epochs <= o.epochs <= space.max_epochs)]
    if space.rates_hz:  # fit's default runs at its family's rate, at most the dataset's
        own = family(o.arch).rate_hz
        full = round(float(data_rate_hz), 3) if data_rate_hz is not None else None
        rate = min(float(own), full) if own is not None and full is not None else full
        params["rate_hz"] = rate
        checks.append(("rates", rate in space.rates_hz))
    outside = [k for k, ok in checks if not ok]
    if outside:
        raise TrainingError(f"--baseline: fit's default model ({o.arch}, width {width_for(o)}, {o.epochs} epochs) lies "
                            f"outside the searched {', '.join(outside)}; widen --arch / --widths / --epochs / --rates "
                            "(fit's default runs at its family's rate, at most the dataset's)")
    return params


def starting_points(space: "Space", data_rate_hz: float | None = None) -> list[dict]:
    """The first candidates of a new study (``search --start-points``, on by default): fit's default
    model with ``STARTING_WIDTH_DIVISORS`` times fewer filters, those of them that lie in the space.
    They are ordinary candidates: a short search then holds a known-sound model at 2x and 4x fewer
    filters beside whatever the sampler draws, and the sampler learns from them (docs/decisions.md,
    "The default conv1d: width 8 at 60 Hz", for what fewer filters cost on new people)."""
    points = []
    for divisor in STARTING_WIDTH_DIVISORS:
        width = width_for(FitOptions()) // divisor
        try:
            points.append(baseline_params(space, data_rate_hz, width=width))
        except TrainingError:
            continue  # outside the searched widths, epochs or rates
    return points


def fit_options(params: dict, seed: int = 0, **extra) -> FitOptions:
    """``fit``'s options for one point of the space (``extra``: more FitOptions fields)."""
    arch = params["arch"]
    model_options = {k: params[k] for k, _ in family(arch).search if k not in STUDY_LISTS and k in params}
    augment = params.get("augment", "auto")
    return FitOptions(
        arch=arch, seed=seed, epochs=int(params["epochs"]), learning_rate=float(params["learning_rate"]),
        # a point that does not draw a size gets the family's own (FitOptions' None / GRU_UNITS), as fit would
        width=int(params["width"]) if "width" in params else None,
        **({"gru_units": int(params["gru_units"])} if "gru_units" in params else {}),
        augment=None if augment == "auto" else (() if augment == "none" else augment),
        copies_per_epoch=int(params.get("copies", 1)),
        window_seconds=float(params["window_s"]), hop_seconds=float(params["hop_s"]),
        rate_hz=float(params["rate_hz"]) if "rate_hz" in params else None, model_options=model_options or None, **extra)


def too_short(params: dict, window: int) -> str | None:
    """Why a window of ``window`` samples (the point's rate times its seconds) is too short for the
    point's model (its family's ``window_check``: cnn-gru's front blocks of a 'valid' convolution and max
    pooling), else None."""
    check = family(params["arch"]).window_check
    return check(params, window) if check is not None else None


def describe(params: dict) -> str:
    """One short line: 'conv1d w16 d3 k5, 60 Hz, window 1 s hop 0.25 s, aug mount,rotate x4, lr 0.003, 30 ep'
    (the rate only when the study searches it)."""
    shape = [params["arch"]]
    tags = {"width": "w", "depth": "d", "front_layers": "f", "kernel": "k", "gru_units": "u"}
    spec = FAMILIES.get(params["arch"])  # a study's stored point may name a family no longer registered
    for key in [*tags, *(k for k, _ in (spec.search if spec else ()) if k not in tags)]:
        if key in params:
            shape.append(f"{tags.get(key, key + ' ')}{params[key]}")
    aug = params.get("augment", "auto")
    aug_text = aug if aug == "none" else f"{aug} x{params.get('copies', 1)}"
    rate = f", {params['rate_hz']:g} Hz" if "rate_hz" in params else ""
    return (f"{' '.join(shape)}{rate}, window {params['window_s']:g} s hop {params['hop_s']:g} s, aug {aug_text}, "
            f"lr {params['learning_rate']:.2g}, {params['epochs']} ep")


def parse_int_list(text: str, what: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise TrainingError(f"{what} must be comma-separated whole numbers, got {text!r}") from None
    if not values:
        raise TrainingError(f"{what} is empty")
    return values


def parse_epochs(text: str) -> tuple[int, int]:
    """'10-40' -> (10, 40); '3' -> (3, 3)."""
    parts = text.split("-")
    try:
        lo, hi = (int(parts[0]), int(parts[-1])) if len(parts) <= 2 else (None, None)
    except ValueError:
        lo = hi = None
    if lo is None:
        raise TrainingError(f"--epochs must be MIN-MAX or N, got {text!r}")
    return lo, hi
