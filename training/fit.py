"""``python -m training fit``: dataset directory in, run directory out.

Steps: load takes, decide the contract (rate, window, hop, labels), split by group,
cut windows, normalize with training statistics, train with light augmentation and
early stopping on validation loss, reload the best checkpoint, score it on the test
split and write the run directory described in docs/architecture.md.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training import TrainingError
from training.augment import augment_windows
from training.data import base_contract, load_dataset, normalization_from, normalize, windows_for
from training.report import classification_metrics, plot_confusion, plot_history
from training.split import split_dataset

RUN_FILES = ("model.keras", "contract.json", "windows.npz", "split.json", "metrics.json", "history.png", "confusion.png")
CHECKPOINT_NAME = ".best.keras"


@dataclass
class FitOptions:
    arch: str = "conv1d"
    seed: int = 0
    epochs: int = 40
    patience: int = 10
    copies_per_epoch: int = 4  # augmented copies of every training window per epoch
    batch_size: int = 32
    learning_rate: float = 3e-3
    width: int = 16
    augment: bool = True
    test_subjects: list[str] | None = None
    overwrite: bool = False
    force: bool = False  # train even if the dataset checker finds errors
    include_flagged: bool = False  # also train on takes flagged for losses or cut short


def _keras():
    """Import Keras with TensorFlow's own log noise turned down.

    oneDNN's reordered float sums are turned off too: they announce themselves on stderr
    and make two runs with the same seed differ in the last bits.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import keras

    return keras


def _check_run_dir(run_dir: Path, overwrite: bool) -> None:
    if run_dir.exists() and not run_dir.is_dir():
        raise TrainingError(f"{run_dir} is a file; --out needs a directory")
    if (run_dir / "model.keras").exists() and not overwrite:
        raise TrainingError(f"{run_dir} already holds a model; choose another --out or pass --overwrite")


def _training_data(keras, x, y, contract, batch_size: int, augment: bool, copies: int, seed: int):
    """Training batches: ``copies`` freshly augmented versions of each window every epoch, normalized."""
    copies = copies if augment else 1
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
            raw = np.concatenate([augment_windows(x, self.rng) for _ in range(copies)]) if augment else x
            self.x_epoch = normalize(raw, contract)

    return AugmentedWindows()


def _progress(keras, epochs: int, log):
    class EpochLines(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            parts = [f"{k} {v:.4f}" for k, v in logs.items() if k in ("loss", "accuracy", "val_loss", "val_accuracy")]
            print(f"epoch {epoch + 1}/{epochs}: " + ", ".join(parts), file=log, flush=True)

    return EpochLines()


def fit(data_dir, run_dir, options: FitOptions | None = None, log=None) -> dict:
    """Train one model; return the summary printed by the command (progress goes to ``log``, default stderr)."""
    log = log or sys.stderr
    o = options or FitOptions()
    if o.epochs < 1:
        raise TrainingError(f"--epochs must be at least 1, got {o.epochs}")
    run_dir = Path(run_dir)
    _check_run_dir(run_dir, o.overwrite)
    from training.check import check_dataset

    report = check_dataset(data_dir)
    if not o.force:
        report.raise_if_errors()
    if report.warnings or report.errors:
        print(f"dataset check: {len(report.errors)} error(s), {len(report.warnings)} warning(s); "
              f"details: python -m training check {data_dir}", file=log)
    takes = load_dataset(data_dir, include_flagged=o.include_flagged)
    contract = base_contract(takes, o.arch)
    split = split_dataset(takes, seed=o.seed, test_subjects=o.test_subjects)
    x_train, y_train = windows_for(split.train, contract)
    x_val, y_val = windows_for(split.validation, contract)
    x_test, y_test = windows_for(split.test, contract)
    contract["normalization"] = normalization_from(x_train)
    print(f"dataset: {len(takes)} takes, labels {', '.join(contract['labels'])}, {contract['rate_hz']:g} Hz, "
          f"window {contract['window']}, hop {contract['hop']}", file=log)
    print(f"split by {split.kind}: test {', '.join(split.test_groups[:8])}{' ...' if len(split.test_groups) > 8 else ''}; "
          f"windows train {len(x_train)}, validation {len(x_val)} ({split.validation_kind}), test {len(x_test)}", file=log)
    if len(x_test) == 0:
        raise TrainingError("the test split is empty; record more takes or subjects")
    run_dir.mkdir(parents=True, exist_ok=True)

    keras = _keras()
    keras.utils.set_random_seed(o.seed)
    from training.models import build_model

    model = build_model(o.arch, (contract["window"], len(contract["channels"])), len(contract["labels"]), width=o.width)
    model.compile(optimizer=keras.optimizers.Adam(o.learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    has_val = len(x_val) > 0
    monitor = "val_loss" if has_val else "loss"
    checkpoint = run_dir / CHECKPOINT_NAME
    callbacks = [
        keras.callbacks.ModelCheckpoint(str(checkpoint), monitor=monitor, save_best_only=True),
        keras.callbacks.EarlyStopping(monitor=monitor, patience=o.patience),
        _progress(keras, o.epochs, log),
    ]
    started = time.monotonic()
    history = model.fit(
        _training_data(keras, x_train, y_train, contract, o.batch_size, o.augment, o.copies_per_epoch, o.seed),
        validation_data=(normalize(x_val, contract), y_val) if has_val else None,
        epochs=o.epochs, callbacks=callbacks, verbose=0,
    ).history
    train_seconds = time.monotonic() - started
    best = keras.models.load_model(str(checkpoint))
    os.replace(checkpoint, run_dir / "model.keras")

    y_pred = np.argmax(best.predict(normalize(x_test, contract), verbose=0), axis=1)
    metrics = classification_metrics(y_test, y_pred, contract["labels"])
    monitored = history.get(monitor, [])
    metrics.update({
        "split": split.kind,
        "test_groups": split.test_groups,
        "n_train": int(len(x_train)),
        "n_validation": int(len(x_val)),
        "epochs_run": len(monitored),
        "best_epoch": int(np.argmin(monitored)) + 1 if monitored else 0,
        "params": int(best.count_params()),
        "train_seconds": round(train_seconds, 2),
        "arch": o.arch,
        "seed": o.seed,
        "augment": o.augment,
    })

    (run_dir / "contract.json").write_text(json.dumps(contract, indent=2) + "\n")
    (run_dir / "split.json").write_text(json.dumps(split.describe(), indent=2) + "\n")
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    np.savez_compressed(run_dir / "windows.npz", x_train=x_train.astype(np.float32), y_train=y_train.astype(np.int32),
                        x_test=x_test.astype(np.float32), y_test=y_test.astype(np.int32))
    plot_history({k: [float(v) for v in vals] for k, vals in history.items()}, run_dir / "history.png")
    plot_confusion(np.array(metrics["confusion"]), contract["labels"], run_dir / "confusion.png",
                   f"test ({split.kind} split): accuracy {metrics['accuracy']:.3f}")
    print(f"test accuracy {metrics['accuracy']:.3f}, macro-F1 {metrics['macro_f1']:.3f} on {len(x_test)} windows "
          f"(best epoch {metrics['best_epoch']} of {metrics['epochs_run']}, {train_seconds:.1f} s)", file=log)
    return {
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro_f1"],
        "n_test": metrics["n_test"],
        "split": split.kind,
        "test_groups": split.test_groups,
        "params": metrics["params"],
        "epochs_run": metrics["epochs_run"],
        "train_seconds": metrics["train_seconds"],
        "rate_hz": contract["rate_hz"],
        "window": contract["window"],
        "labels": contract["labels"],
        "run_dir": str(run_dir),
    }
