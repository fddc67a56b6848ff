"""``nanogest fit``: dataset directory in, run directory out.

Steps: load takes, decide the contract (rate, window, hop, labels), split by group,
cut windows (optionally drawing idle windows from still stretches), normalize with
training statistics, train with augmentation (a validation side and early stopping on
its loss only when asked for: ``patience``), score it on the test split and write the run directory
described in docs/architecture.md (plus run.json: versions, dataset hash, options).
With ``final``, the deployable model is then trained on every take (training/final.py).
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from contract.input import normalize
from contract.pipeline import HOP_SECONDS, IDLE_LABEL, UNKNOWN_LABEL, WINDOW_SECONDS
from training import ARCHITECTURES, GRU_UNITS, TrainingError
from training.augment import (MOUNT_PROBABILITY_BY_ARCH, augment_windows, board_turn_spread_deg, mount_max_deg,
                              resolve_augment)
from training.check import check_dataset
from training.data import base_contract, dataset_rate_hz, load_dataset, normalization_from, windows_for
from training.idle import windows_with_still_idle
from training.negatives import DEFAULT_NEGATIVE_SHARE
from training.macs import describe_size
from training.report import classification_metrics, plot_confusion, plot_history
from training.run_info import run_description
from training.split import TEST_FRACTION, Split, split_dataset

RUN_FILES = ("model.keras", "contract.json", "windows.npz", "split.json", "metrics.json", "run.json",
             "history.png", "confusion.png")
CHECKPOINT_NAME = ".best.keras"
DEFAULT_LEARNING_RATE = 3e-3
# Adam's step per arch where it differs from DEFAULT_LEARNING_RATE; none does now
# (docs/decisions.md, "Learning rate per architecture").
ARCH_LEARNING_RATE: dict[str, float] = {}
# Keep the mean weights of this last share of the epochs, not one noisy epoch's; the GRUs keep the last
# (docs/decisions.md, "The weights kept: the mean of the last quarter of the epochs").
ARCH_AVERAGE_LAST_SHARE = {"conv1d": 0.25, "ds-conv1d": 0.25}  # of the epochs, so a shorter run (training search) averages fewer
# Adam's gradient clipping by norm per arch; none helped (docs/decisions.md, "Gradient clipping").
ARCH_CLIPNORM: dict[str, float] = {}
# The model's rate per arch, never above the dataset's: fewer, more informative GRU steps per window,
# the board resampling its IMU to it (docs/decisions.md, "Model rate per architecture").
ARCH_RATE_HZ = {"gru": 40.0, "cnn-gru": 60.0}
# The share of a GRU window's last steps trained on its label, so h holds the class once seen; the board
# still reads the last step (docs/decisions.md, "GRU trained on its last steps").
ARCH_SUPERVISED_STEPS_SHARE = {"gru": 0.75}


@dataclass
class FitOptions:
    arch: str = "conv1d"
    seed: int = 0
    epochs: int = 40
    # Early stopping (and keeping the best epoch) on validation loss after this many epochs without
    # improvement; None trains every epoch, keeps the last and holds no validation side out (those
    # takes train too). Off by default: one or two validation people are too few windows to choose an
    # epoch by (docs/decisions.md, "No early stopping by default").
    patience: int | None = None
    copies_per_epoch: int = 4  # augmented copies of every training window per epoch (docs/decisions.md, "Augmentation kinds")
    batch_size: int = 32
    learning_rate: float | None = None  # None: ARCH_LEARNING_RATE for the arch, else DEFAULT_LEARNING_RATE
    average_last: float | None = None  # keep the mean weights of this share of the epochs, the last; None: ARCH_AVERAGE_LAST_SHARE (else 0: the last epoch's)
    width: int = 16  # filters of the convolutions
    gru_units: int = GRU_UNITS  # units of the GRU (gru, cnn-gru)
    augment: bool | str | tuple | None = None  # None: every kind for small datasets, none for large ones
    # Largest turn of 'mount' (degrees either way; 180: any angle). None: from the training takes,
    # as far as the people's boards are turned against each other (training/augment.py).
    mount_deg: float | None = None
    mount_share: float | None = None  # of the windows 'mount' turns; None: the arch's (training/augment.py)
    idle_from_still: bool = False  # label still stretches of gesture takes as idle
    negatives: tuple = ()  # kinds of generated negatives training an unknown class (training/negatives.py); () none
    negative_share: float = DEFAULT_NEGATIVE_SHARE  # generated unknown windows per gesture window of the training side
    test_subjects: list[str] | None = None
    test_fraction: float = TEST_FRACTION  # of the people (else sessions, else each label's takes) held out for testing
    overwrite: bool = False
    force: bool = False  # train even if the dataset checker finds errors
    include_flagged: bool = False  # also train on takes flagged for losses or cut short
    final: bool = False  # after the split evaluation, train the deployable model on every take (training/final.py)
    window_seconds: float = WINDOW_SECONDS  # window length and hop of the contract (training search varies them)
    hop_seconds: float = HOP_SECONDS
    model_options: dict | None = None  # more builder arguments (kernel, depth, front_layers): training.models.build_model
    rate_hz: float | None = None  # the model's rate; None: ARCH_RATE_HZ, else the dataset's most common (takes are resampled to it)
    clipnorm: float | None = None  # Adam's gradient clipping by norm; None: ARCH_CLIPNORM for the arch, else none
    supervised_steps: float | None = None  # gru, cnn-gru: share of the window's last steps trained on its label; None: ARCH_SUPERVISED_STEPS_SHARE, else 0 (the last step)


def _keras():
    """Import Keras with TensorFlow's own log noise turned down.

    oneDNN's reordered float sums are turned off too: they announce themselves on stderr
    and make two runs with the same seed differ in the last bits.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import keras

    return keras


def check_options(o: FitOptions) -> None:
    """Refuse impossible options before any data is read."""
    if o.arch not in ARCHITECTURES:
        raise TrainingError(f"unknown --arch {o.arch!r}; choose one of {', '.join(ARCHITECTURES)}")
    if o.patience is not None and o.patience < 1:
        raise TrainingError(f"--patience must be at least 1 epoch, got {o.patience}")
    if o.epochs < 1:
        raise TrainingError(f"--epochs must be at least 1, got {o.epochs}")
    if o.clipnorm is not None and not o.clipnorm >= 0:
        raise TrainingError(f"the gradient clipping norm must be 0 (off) or positive, got {o.clipnorm}")
    if o.learning_rate is not None and not o.learning_rate > 0:
        raise TrainingError(f"the learning rate must be positive, got {o.learning_rate}")
    if o.supervised_steps is not None and not 0 <= o.supervised_steps <= 1:
        raise TrainingError(f"the share of a GRU's steps trained on the label must be between 0 and 1, got {o.supervised_steps}")
    if o.supervised_steps and o.arch not in ("gru", "cnn-gru"):
        raise TrainingError(f"only gru and cnn-gru are trained on their last steps; {o.arch} scores the window as a whole")
    if o.average_last is not None and not 0 <= o.average_last <= 1:
        raise TrainingError(f"the share of epochs to average must be between 0 and 1, got {o.average_last}")
    if o.mount_share is not None and not 0.0 <= o.mount_share <= 1.0:
        raise TrainingError(f"the share of windows 'mount' turns must be between 0 and 1, got {o.mount_share}")
    if o.mount_deg is not None and not 0.0 <= o.mount_deg <= 180.0:
        raise TrainingError(f"the largest 'mount' turn must be between 0 and 180 degrees, got {o.mount_deg}")
    if o.width < 1 or o.batch_size < 1:
        raise TrainingError(f"--width and --batch-size must be at least 1, got {o.width} and {o.batch_size}")
    if o.arch in ("gru", "cnn-gru") and not 1 <= o.gru_units <= 32:
        raise TrainingError(f"--gru-units must be between 1 and 32 (the board runs the GRU every sample), got {o.gru_units}")


def _check_run_dir(run_dir: Path, overwrite: bool) -> None:
    if run_dir.exists() and not run_dir.is_dir():
        raise TrainingError(f"{run_dir} is a file; --out needs a directory")
    if (run_dir / "model.keras").exists() and not overwrite:
        raise TrainingError(f"{run_dir} already holds a model; choose another --out or pass --overwrite")


def load_checked(data_dir, o: FitOptions, log) -> list:
    """The dataset's usable takes, after ``training check`` (its errors stop training unless forced)."""
    report = check_dataset(data_dir)
    if not o.force:
        report.raise_if_errors()
    if report.warnings or report.errors:
        print(f"dataset check: {len(report.errors)} error(s), {len(report.warnings)} warning(s); "
              f"details: nanogest check {data_dir}", file=log)
    return load_dataset(data_dir, include_flagged=o.include_flagged)


def rate_for(takes, o: FitOptions) -> float | None:
    """The model's rate: the one asked for, else the arch's (ARCH_RATE_HZ, at most the dataset's),
    else None (base_contract then takes the dataset's)."""
    if o.rate_hz is not None or o.arch not in ARCH_RATE_HZ or not takes:
        return o.rate_hz
    return min(float(ARCH_RATE_HZ[o.arch]), dataset_rate_hz(takes))


def make_contract(takes, o: FitOptions) -> dict:
    extra = ((IDLE_LABEL,) if o.idle_from_still else ()) + ((UNKNOWN_LABEL,) if o.negatives else ())
    return base_contract(takes, o.arch, window_seconds=o.window_seconds, hop_seconds=o.hop_seconds,
                         extra_labels=extra, rate_hz=rate_for(takes, o))


def side_windows(takes, contract: dict, o: FitOptions, rng) -> tuple[np.ndarray, np.ndarray, int]:
    """Raw windows, labels and the number of idle windows drawn from still stretches."""
    if not o.idle_from_still:
        x, y = windows_for(takes, contract)
        return x, y, 0
    return windows_with_still_idle(takes, contract, rng)


def split_windows(split: Split, contract: dict, o: FitOptions) -> dict:
    """Windows of every side of ``split``; the contract's normalization is set from the training side."""
    rng = np.random.default_rng(o.seed)
    sides = {}
    for side in ("train", "validation", "test"):
        x, y, idle = side_windows(getattr(split, side), contract, o, rng)
        sides[side] = (x, y)
        sides[f"{side}_idle_from_still"] = idle
    had_idle = any(t.meta.label == IDLE_LABEL for t in split.train)
    if o.idle_from_still and not had_idle and sides["train_idle_from_still"] == 0:
        raise TrainingError(f"--idle-from-still found no still stretch as long as a window ({contract['window']} "
                            "samples) in the training takes; record idle takes or leave still pauses in gesture takes")
    sides["train_negatives"] = 0
    if o.negatives:
        from training.negatives import make_negatives

        x, y = sides["train"]
        gesture = ~np.isin(y, [contract["labels"].index(l) for l in (IDLE_LABEL, UNKNOWN_LABEL) if l in contract["labels"]])
        neg = make_negatives(x[gesture], y[gesture], rng, o.negative_share, o.negatives)
        unknown = contract["labels"].index(UNKNOWN_LABEL)
        sides["train"] = (np.concatenate([x, neg]), np.concatenate([y, np.full(len(neg), unknown, np.int32)]))
        sides["train_negatives"] = int(len(neg))
    contract["normalization"] = normalization_from(sides["train"][0])
    return sides


def learning_rate_for(o: FitOptions) -> float:
    """Adam's learning rate of a run: the one asked for, else the arch's default."""
    if o.learning_rate is not None:
        return float(o.learning_rate)
    return ARCH_LEARNING_RATE.get(o.arch, DEFAULT_LEARNING_RATE)


def average_last_for(o: FitOptions, epochs: int | None = None) -> int:
    """Epochs whose weights the kept model averages (0 or 1: the last epoch's); never with early stopping."""
    if o.patience is not None:
        return 0
    share = o.average_last if o.average_last is not None else ARCH_AVERAGE_LAST_SHARE.get(o.arch, 0.0)
    epochs = int(epochs if epochs is not None else o.epochs)
    return max(0, min(int(round(float(share) * epochs)), epochs))


def supervised_share_for(o: FitOptions) -> float:
    """The share of a GRU's last steps trained on the window's label (0: the last step only), asked for
    or the arch's default; 0 for the windowed models."""
    if o.arch not in ("gru", "cnn-gru"):
        return 0.0
    return float(o.supervised_steps if o.supervised_steps is not None else ARCH_SUPERVISED_STEPS_SHARE.get(o.arch, 0.0))


def supervised_steps_for(o: FitOptions, steps: int) -> int:
    """How many of a GRU window's ``steps`` last steps carry the label in training (at least the last)."""
    return max(1, min(int(steps), int(round(supervised_share_for(o) * steps))))


def clipnorm_for(o: FitOptions) -> float | None:
    """Adam's gradient clipping (by norm) of a run: the one asked for (0: none), else the arch's default."""
    if o.clipnorm is not None:
        return float(o.clipnorm) or None
    return ARCH_CLIPNORM.get(o.arch)


def optimizer_for(keras, o: FitOptions):
    """Adam with the run's learning rate and gradient clipping."""
    clip = clipnorm_for(o)
    return keras.optimizers.Adam(learning_rate_for(o), **({"clipnorm": clip} if clip else {}))


def resolve_mount(o: FitOptions, train_takes, kinds: tuple) -> dict:
    """{"max_deg": the turn 'mount' uses, "share": of the windows, "spread": the measured spread}
    (max_deg and share None without mount)."""
    if "mount" not in kinds:
        return {"max_deg": None, "share": None, "spread": None}
    from training import augment

    spread = board_turn_spread_deg(train_takes)
    share = o.mount_share if o.mount_share is not None else MOUNT_PROBABILITY_BY_ARCH.get(o.arch, augment.MOUNT_PROBABILITY)
    return {"max_deg": float(o.mount_deg) if o.mount_deg is not None else mount_max_deg(spread["deg"]),
            "share": float(share), "spread": spread}


def mount_text(mount: dict) -> str:
    """' (mount: ...)' for the split line of the log, '' without mount."""
    if mount["max_deg"] is None:
        return ""
    turn = "by any angle" if mount["max_deg"] >= 180 else f"up to {mount['max_deg']:g} deg either way"
    return (f" (mount: training boards turned up to {mount['spread']['deg']:g} deg from the people's mean, "
            f"{100 * mount['share']:.0f} % of windows turned {turn})")


def _training_data(keras, x, y, contract, batch_size: int, kinds: tuple, copies: int, seed: int,
                   mount_deg: float = 180.0, mount_share: float | None = None):
    """Training batches: ``copies`` freshly augmented versions of each window every epoch, normalized."""
    copies = copies if kinds else 1
    y = np.tile(y, copies)

    class AugmentedWindows(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(seed)
            self.on_epoch_end()

        def __len__(self):
            return int(np.ceil(len(y) / batch_size))

        def __getitem__(self, i):
            sel = self.order[i * batch_size:(i + 1) * batch_size]
            return self.x_epoch[sel], y[sel]

        def on_epoch_end(self):
            self.order = self.rng.permutation(len(y))
            raw = np.concatenate([augment_windows(x, self.rng, kinds, mount_deg, mount_share) for _ in range(copies)]) \
                if kinds else x
            self.x_epoch = normalize(raw, contract)

    return AugmentedWindows()


def _average_last(keras, epochs: int, last: int):
    """A callback: after the last epoch the model's weights become the mean of its last ``last`` epochs'."""
    class AverageLast(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.sum, self.n = None, 0

        def on_epoch_end(self, epoch, logs=None):
            if epoch >= epochs - last:
                w = [np.asarray(v, dtype=np.float64) for v in self.model.get_weights()]
                self.sum = w if self.sum is None else [a + b for a, b in zip(self.sum, w)]
                self.n += 1

        def on_train_end(self, logs=None):
            if self.n > 1:
                self.model.set_weights([(a / self.n).astype(np.float32) for a in self.sum])

    return AverageLast()


def averaging_callbacks(keras, o: FitOptions, epochs: int) -> list:
    """[the weight-averaging callback] when the run averages its last epochs, else []."""
    n = average_last_for(o, epochs)
    return [_average_last(keras, epochs, n)] if n > 1 else []


def _progress(keras, epochs: int, log, prefix: str):
    class EpochLines(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            parts = [f"{k} {v:.4f}" for k, v in logs.items() if k in ("loss", "accuracy", "val_loss", "val_accuracy")]
            print(f"{prefix}epoch {epoch + 1}/{epochs}: " + ", ".join(parts), file=log, flush=True)

    return EpochLines()


def _last_steps_loss(keras, k: int):
    """Cross-entropy of the window's label against the class scores of each of the last ``k`` steps
    (y_pred: batch, steps, classes), averaged."""
    def loss(y_true, y_pred):
        y = keras.ops.cast(keras.ops.reshape(y_true, (-1, 1)), "int32")
        return keras.ops.mean(keras.losses.sparse_categorical_crossentropy(keras.ops.repeat(y, k, axis=1),
                                                                           y_pred[:, -k:, :]))
    return loss


def _last_step_accuracy(keras):
    """Accuracy of the last step's scores: the window's prediction, as the board makes it."""
    def accuracy(y_true, y_pred):
        return keras.metrics.sparse_categorical_accuracy(keras.ops.reshape(y_true, (-1,)), y_pred[:, -1, :])
    return accuracy


def compile_on_last_steps(keras, model, k: int, optimizer) -> None:
    """Compile a GRU's every-step form (``training.models.scoring_every_step``) to learn the window's
    label at each of its last ``k`` steps; its accuracy is the last step's (the window's prediction)."""
    model.compile(optimizer=optimizer, loss=_last_steps_loss(keras, k), metrics=[_last_step_accuracy(keras)])


def compiled_model(keras, contract: dict, o: FitOptions):
    """The seeded, compiled, untrained model of ``o`` for ``contract`` (the split fit and the final fit).
    A GRU trained on its last steps (``supervised_steps_for``) is its every-step form;
    ``deployable_model`` turns it into the model that scores a window."""
    from training.models import build_model, scoring_every_step  # Keras (training.models) stays off the fast path

    keras.utils.set_random_seed(o.seed)
    model = build_model(o.arch, (contract["window"], len(contract["channels"])), len(contract["labels"]),
                        width=o.width, gru_units=o.gru_units, **(o.model_options or {}))
    if supervised_share_for(o) > 0:
        model = scoring_every_step(model)
        compile_on_last_steps(keras, model, supervised_steps_for(o, int(model.output.shape[1])), optimizer_for(keras, o))
    else:
        model.compile(optimizer=optimizer_for(keras, o), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def deployable_model(keras, model, o: FitOptions):
    """``model`` as it is saved and deployed: a GRU's every-step form becomes the same layers, with the
    same weights, scoring the last step only (what the converter's one-step model computes); any
    other model is returned as it is."""
    if len(model.output.shape) != 3:
        return model
    from training.models import scoring_every_step

    plain = scoring_every_step(model, every_step=False)
    plain.compile(optimizer=optimizer_for(keras, o), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return plain


def train_model(sides: dict, contract: dict, o: FitOptions, kinds: tuple, checkpoint: Path, log, prefix: str = "",
                mount_deg: float = 180.0, mount_share: float | None = None):
    """Build, train and reload the best checkpoint; returns (model, history, train_seconds)."""
    keras = _keras()
    (x_train, y_train), (x_val, y_val) = sides["train"], sides["validation"]
    model = compiled_model(keras, contract, o)
    monitor = "val_loss" if len(x_val) else "loss"
    callbacks = [_progress(keras, o.epochs, log, prefix)] + averaging_callbacks(keras, o, o.epochs)
    if o.patience is not None:
        callbacks += [keras.callbacks.ModelCheckpoint(str(checkpoint), monitor=monitor, save_best_only=True),
                      keras.callbacks.EarlyStopping(monitor=monitor, patience=o.patience)]
    started = time.monotonic()
    history = model.fit(
        _training_data(keras, x_train, y_train, contract, o.batch_size, kinds, o.copies_per_epoch, o.seed,
                       mount_deg, mount_share),
        validation_data=(normalize(x_val, contract), y_val) if len(x_val) else None,
        epochs=o.epochs, callbacks=callbacks, verbose=0,
    ).history
    seconds = time.monotonic() - started
    history = {k: [float(v) for v in vals] for k, vals in history.items()}
    history["monitor"] = monitor
    if o.patience is None:
        deployable_model(keras, model, o).save(str(checkpoint))  # the last epoch's, as a best checkpoint
    elif len(model.output.shape) == 3:  # the best epoch's checkpoint holds the GRU's training form
        best = keras.models.load_model(str(checkpoint), compile=False)
        deployable_model(keras, best, o).save(str(checkpoint))
    return keras.models.load_model(str(checkpoint)), history, seconds


def score(model, x: np.ndarray, y: np.ndarray, contract: dict) -> dict:
    pred = np.argmax(model.predict(normalize(x, contract), verbose=0), axis=1) if len(x) else np.zeros(0, int)
    return classification_metrics(y, pred, contract["labels"])


def fit(data_dir, run_dir, options: FitOptions | None = None, log=None) -> dict:
    """Train one model; return the summary printed by the command (progress goes to ``log``, default stderr)."""
    log = log or sys.stderr
    o = options or FitOptions()
    check_options(o)
    run_dir = Path(run_dir)
    _check_run_dir(run_dir, o.overwrite)
    takes = load_checked(data_dir, o, log)
    contract = make_contract(takes, o)
    split = split_dataset(takes, seed=o.seed, test_subjects=o.test_subjects, test_fraction=o.test_fraction,
                          validation=o.patience is not None)
    sides = split_windows(split, contract, o)
    (x_train, y_train), (x_val, _), (x_test, y_test) = sides["train"], sides["validation"], sides["test"]
    kinds = resolve_augment(o.augment, len(x_train), len({t.meta.subject for t in split.train}))
    mount = resolve_mount(o, split.train, kinds)
    print(f"dataset: {len(takes)} takes, labels {', '.join(contract['labels'])}, {contract['rate_hz']:g} Hz, "
          f"window {contract['window']}, hop {contract['hop']}", file=log)
    print(f"split by {split.kind}: test {', '.join(split.test_groups[:8])}{' ...' if len(split.test_groups) > 8 else ''}; "
          f"windows train {len(x_train)}, validation {len(x_val)} ({split.validation_kind}), test {len(x_test)}; "
          f"augment {','.join(kinds) or 'off'}{mount_text(mount)}", file=log)
    if o.negatives:
        print(f"unknown: {sides['train_negatives']} windows made from the training gestures ({', '.join(o.negatives)})",
              file=log)
    if o.idle_from_still:
        print(f"idle from still stretches: train {sides['train_idle_from_still']}, validation "
              f"{sides['validation_idle_from_still']}, test {sides['test_idle_from_still']} windows", file=log)
    if len(x_test) == 0:
        raise TrainingError("the test split is empty; record more takes or subjects")
    run_dir.mkdir(parents=True, exist_ok=True)

    best, history, train_seconds = train_model(sides, contract, o, kinds, run_dir / CHECKPOINT_NAME, log,
                                               mount_deg=mount["max_deg"] or 180.0, mount_share=mount["share"])
    os.replace(run_dir / CHECKPOINT_NAME, run_dir / "model.keras")
    from training.models import gru_description  # Keras (training.models) stays off the fast path

    size = describe_size(best)
    gru = gru_description(best)
    if gru is not None:
        contract["gru"] = gru
    metrics = score(best, x_test, y_test, contract)
    # a GRU: {"steps": its window's, "trained": the last ones trained on the label}; windowed models: None
    steps = int(best.get_layer("gru").input.shape[1]) if gru is not None else None
    supervised = {"steps": steps, "trained": supervised_steps_for(o, steps)} if steps else None
    monitored = history.get(history.pop("monitor"), [])
    metrics.update({
        "split": split.kind,
        "test_groups": split.test_groups,
        "n_train": int(len(x_train)),
        "n_validation": int(len(x_val)),
        "epochs_run": len(monitored),
        "best_epoch": (int(np.argmin(monitored)) + 1 if o.patience is not None else len(monitored)) if monitored else 0,
        "early_stopping": o.patience is not None,
        "params": size["params"],
        "macs": size["macs"],
        "train_seconds": round(train_seconds, 2),
        "arch": o.arch,
        "seed": o.seed,
        "augment": list(kinds),
        "mount": mount,
        "learning_rate": learning_rate_for(o),
        "average_last_epochs": average_last_for(o),
        "clipnorm": clipnorm_for(o),
        "supervised_steps": supervised,
        "idle_from_still": {side: sides[f"{side}_idle_from_still"] for side in ("train", "validation", "test")},
        "negatives": {"kinds": list(o.negatives), "train_windows": sides["train_negatives"]},
    })

    run = run_description(o, data_dir, takes, {"augment": list(kinds), "mount": mount, "learning_rate": learning_rate_for(o), "clipnorm": clipnorm_for(o), "average_last_epochs": average_last_for(o), "supervised_steps": supervised, "params": size["params"], "macs": size["macs"]})
    x_calibration, y_calibration = x_train, y_train
    if o.final:
        from training.final import all_windows, train_final  # training.final imports this module

        final_model, final_fit = train_final(sides, contract, o, kinds, metrics["best_epoch"], log,
                                             mount_deg=mount["max_deg"] or 180.0, mount_share=mount["share"])
        os.replace(run_dir / "model.keras", run_dir / "model_split.keras")
        final_model.save(run_dir / "model.keras")
        x_calibration, y_calibration = all_windows(sides)
        metrics["final_fit"] = run["final_fit"] = final_fit
    else:
        (run_dir / "model_split.keras").unlink(missing_ok=True)  # left by an earlier --final run in this dir
    (run_dir / "contract.json").write_text(json.dumps(contract, indent=2) + "\n")
    (run_dir / "split.json").write_text(json.dumps(split.describe(), indent=2) + "\n")
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    (run_dir / "run.json").write_text(json.dumps(run, indent=2) + "\n")
    # x_train: the windows model.keras was trained on (the converter calibrates on them); x_test: the split's test side
    np.savez_compressed(run_dir / "windows.npz", x_train=x_calibration.astype(np.float32),
                        y_train=y_calibration.astype(np.int32),
                        x_test=x_test.astype(np.float32), y_test=y_test.astype(np.int32))
    plot_history(history, run_dir / "history.png")
    plot_confusion(np.array(metrics["confusion"]), contract["labels"], run_dir / "confusion.png",
                   f"test ({split.kind} split): accuracy {metrics['accuracy']:.3f}")
    averaged = metrics["average_last_epochs"]
    kept = (f"weights: the mean of epochs {metrics['epochs_run'] - averaged + 1}-{metrics['epochs_run']}" if averaged > 1
            else f"best epoch {metrics['best_epoch']} of {metrics['epochs_run']}")
    print(f"test accuracy {metrics['accuracy']:.3f}, macro-F1 {metrics['macro_f1']:.3f} on {len(x_test)} windows "
          f"({kept}, {train_seconds:.1f} s; "
          f"{size['params']} parameters, {size['macs']} MACs per inference)", file=log)
    if o.final:
        print(f"that is model_split.keras; the deployable model.keras was trained on all {metrics['final_fit']['n_windows']} "
              f"windows of every take for {metrics['final_fit']['epochs']} epochs", file=log)
    return {
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro_f1"],
        "n_test": metrics["n_test"],
        "split": split.kind,
        "test_groups": split.test_groups,
        "arch": o.arch,
        "params": size["params"],
        "macs": size["macs"],
        "epochs_run": metrics["epochs_run"],
        "train_seconds": metrics["train_seconds"],
        "augment": list(kinds),
        "rate_hz": contract["rate_hz"],
        "window": contract["window"],
        "labels": contract["labels"],
        "dataset_sha256": run["dataset"]["sha256"],
        "run_dir": str(run_dir),
        **({"final_fit": {k: metrics["final_fit"][k] for k in ("deployable_model", "evaluated_model", "epochs",
                                                               "n_windows")}} if o.final else {}),
    }
