"""The Keras side of ``fit``: the compiled model of a run's options, its augmented batches, the
callbacks (progress lines, the mean of the last epochs' weights) and the training itself. ``o`` is
always the run's ``training.fit.FitOptions``."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from contract.document import Contract
from contract.input import normalize
from training.augment import augment_windows
from training.recipe import (average_last_for, clipnorm_for, learning_rate_for, supervised_share_for, supervised_steps_for,
                             width_for)
from training.report import classification_metrics


def _keras():
    """Import Keras with TensorFlow's own log noise turned down.

    oneDNN's reordered float sums are turned off too: they announce themselves on stderr
    and make two runs with the same seed differ in the last bits.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import keras

    return keras


def optimizer_for(keras, o):
    """Adam with the run's learning rate and gradient clipping."""
    clip = clipnorm_for(o)
    return keras.optimizers.Adam(learning_rate_for(o), **({"clipnorm": clip} if clip else {}))


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


def averaging_callbacks(keras, o, epochs: int) -> list:
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


def compiled_model(keras, contract: Contract, o):
    """The seeded, compiled, untrained model of ``o`` for ``contract`` (the split fit and the final fit).
    A GRU trained on its last steps (``supervised_steps_for``) is its every-step form;
    ``deployable_model`` turns it into the model that scores a window."""
    from training.models import build_model, scoring_every_step  # Keras (training.models) stays off the fast path

    keras.utils.set_random_seed(o.seed)
    model = build_model(o.arch, (contract.window, len(contract.channels)), len(contract.labels),
                        width=width_for(o), gru_units=o.gru_units, **(o.model_options or {}))
    if supervised_share_for(o) > 0:
        model = scoring_every_step(model)
        compile_on_last_steps(keras, model, supervised_steps_for(o, int(model.output.shape[1])), optimizer_for(keras, o))
    else:
        model.compile(optimizer=optimizer_for(keras, o), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def deployable_model(keras, model, o):
    """``model`` as it is saved and deployed: a GRU's every-step form becomes the same layers, with the
    same weights, scoring the last step only (what the converter's one-step model computes); any
    other model is returned as it is."""
    if len(model.output.shape) != 3:
        return model
    from training.models import scoring_every_step

    plain = scoring_every_step(model, every_step=False)
    plain.compile(optimizer=optimizer_for(keras, o), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return plain


def train_model(sides: dict, contract: Contract, o, kinds: tuple, checkpoint: Path, log, prefix: str = "",
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


def score(model, x: np.ndarray, y: np.ndarray, contract: Contract) -> dict:
    pred = np.argmax(model.predict(normalize(x, contract), verbose=0), axis=1) if len(x) else np.zeros(0, int)
    return classification_metrics(y, pred, list(contract.labels))
