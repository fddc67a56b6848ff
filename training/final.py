"""``training fit --final``: after the split-based evaluation, the deployable model is trained on every take.

The split-based model (held-out people never seen) is what the accuracy figures describe; it is
kept as ``model_split.keras``. The deployable ``model.keras`` is then trained from fresh weights on
the windows of every take (train, validation and test sides) for as many epochs as the split run
trained (its best epoch when it stopped early with ``--patience``): without held-out data there
is nothing to stop early on, and that is the length of training scored on people the model had
not seen. Same seed, architecture,
augmentation and normalization (the contract's, from the split's training windows), so one
contract describes both models.
"""

from __future__ import annotations

import time

import numpy as np

from contract.document import Contract
from training.trainer import _keras, _progress, _training_data, averaging_callbacks, compiled_model, deployable_model

EPOCH_RULE = ("epochs = the split run's epochs (its best epoch on validation loss with --patience), "
              "from fresh weights, no early stopping")


def all_windows(sides: dict) -> tuple[np.ndarray, np.ndarray]:
    """The windows of every side of the split: every take of the dataset."""
    xs = [sides[s][0] for s in ("train", "validation", "test") if len(sides[s][0])]
    ys = [sides[s][1] for s in ("train", "validation", "test") if len(sides[s][0])]
    return np.concatenate(xs), np.concatenate(ys)


def train_final(sides: dict, contract: Contract, o, kinds: tuple, epochs: int, log, mount_deg: float = 180.0,
                mount_share: float | None = None):
    """The deployable model on every window; returns (model, description for run.json and metrics.json)."""
    keras = _keras()
    x, y = all_windows(sides)
    epochs = max(1, int(epochs))
    print(f"final fit on every take: {len(x)} windows, {epochs} epochs ({EPOCH_RULE})", file=log)
    model = compiled_model(keras, contract, o)
    started = time.monotonic()
    history = model.fit(_training_data(keras, x, y, contract, o.batch_size, kinds, o.copies_per_epoch, o.seed,
                                                       mount_deg, mount_share),
                        epochs=epochs, callbacks=[_progress(keras, epochs, log, "final ")] + averaging_callbacks(keras, o, epochs),
                        verbose=0).history
    seconds = time.monotonic() - started
    model = deployable_model(keras, model, o)
    return model, {
        "deployable_model": "model.keras",
        "evaluated_model": "model_split.keras",
        "epochs": epochs,
        "epoch_rule": EPOCH_RULE,
        "n_windows": int(len(x)),
        "windows_per_side": {s: int(len(sides[s][0])) for s in ("train", "validation", "test")},
        "final_loss": float(history["loss"][-1]),
        "train_seconds": round(seconds, 2),
        "test_windows_seen": True,
        "note": ("model.keras was trained on every take, including the test windows in windows.npz; the accuracy "
                 "in metrics.json is that of model_split.keras on people (or sessions, takes) it never saw"),
    }
