"""Fine-tuning a trained model on a few takes of one person (used by ``training adapt``).

With a handful of windows a model forgets quickly and overfits easily, so each epoch mixes
the person's windows, repeated ``oversample`` times and strongly augmented (every kind but
``mount``, applied twice), with as many windows replayed from the base run's training windows
(augmented once), so the people the base model knew are not forgotten. Batch
normalization keeps the base run's statistics (it runs in inference mode), the learning
rate is lower than for training from scratch, and ``train_layers`` chooses what may
change: ``all``, ``late`` (the first weighted layer stays frozen) or ``head`` (only the
classifier). The number of epochs is fixed: there is no validation data to stop on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from contract.document import Contract
from contract.input import normalize
from training import TrainingError
from training.augment import AUGMENT_KINDS, augment_windows
from training.trainer import _keras, compile_on_last_steps

TRAIN_LAYERS = ("all", "late", "head")
# Every augmentation but ``mount``: the person adapted to wears the board one way, so the model
# need not stay blind to how the board is turned in its plane.
ADAPT_KINDS = tuple(k for k in AUGMENT_KINDS if k != "mount")


ADAPT_LEARNING_RATE = 1e-3  # adapt's Adam step unless the family has its own (FamilySpec.adapt_learning_rate)


@dataclass
class AdaptOptions:
    takes_per_label: int = 3
    epochs: int = 30
    oversample: int = 8  # copies of each of the person's windows per epoch
    replay_windows: int = 400  # base training windows kept for replay (all of them if fewer)
    batch_size: int = 32
    learning_rate: float | None = None  # None: the family's (adapt_learning_rate)
    train_layers: str = "all"
    seed: int = 0
    overwrite: bool = False
    include_flagged: bool = False


def check_adapt_options(o: AdaptOptions) -> None:
    if o.takes_per_label < 1:
        raise TrainingError(f"--takes-per-label must be at least 1, got {o.takes_per_label}")
    if o.epochs < 1 or o.oversample < 1 or o.batch_size < 1:
        raise TrainingError("--epochs, --oversample and --batch-size must be at least 1")
    if o.replay_windows < 0:
        raise TrainingError(f"--replay must be 0 or more windows, got {o.replay_windows}")
    if o.learning_rate is not None and not o.learning_rate > 0:
        raise TrainingError(f"--learning-rate must be positive, got {o.learning_rate}")
    if o.train_layers not in TRAIN_LAYERS:
        raise TrainingError(f"--train-layers must be one of {', '.join(TRAIN_LAYERS)}, not {o.train_layers!r}")


def adapt_learning_rate(o: AdaptOptions, arch: str | None) -> float:
    """Adam's step of the fine-tuning: the one asked for, else the base run's family's, else ADAPT_LEARNING_RATE
    (a contract written before it named its arch)."""
    from training.families import family

    if o.learning_rate is not None:
        return float(o.learning_rate)
    own = family(arch).adapt_learning_rate if arch else None
    return ADAPT_LEARNING_RATE if own is None else own


def replay_pool(x_base: np.ndarray, y_base: np.ndarray, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """``n`` base training windows drawn without replacement (all of them if there are fewer)."""
    if len(x_base) <= n:
        return x_base, y_base
    pick = np.sort(rng.choice(len(x_base), n, replace=False))
    return x_base[pick], y_base[pick]


def _weighted_layers(model) -> list:
    return [layer for layer in model.layers if layer.weights]


def set_trainable(model, train_layers: str) -> list[str]:
    """Freeze what ``train_layers`` says; batch normalization always keeps the base statistics.
    Returns the names of the layers that may change."""
    weighted = [layer for layer in _weighted_layers(model) if "batch_normalization" not in type(layer).__name__.lower()]
    if train_layers == "head":
        trainable = set(weighted[-1:])
    elif train_layers == "late":
        trainable = set(weighted[1:])
    else:
        trainable = set(weighted)
    for layer in model.layers:
        if "batchnormalization" in type(layer).__name__.lower():
            layer.trainable = False  # Keras 3: a frozen BatchNormalization runs in inference mode
        elif layer.weights:
            layer.trainable = layer in trainable
    return [layer.name for layer in model.layers if layer.weights and layer.trainable]


def _epoch_batches(keras, x_new, y_new, x_replay, y_replay, contract, o: AdaptOptions):
    """Each epoch: the person's windows ``oversample`` times (augmented twice over) plus as many
    replayed base windows (augmented once), shuffled and normalized."""
    kinds = ADAPT_KINDS
    n_new = len(x_new) * o.oversample
    n_replay = n_new if len(x_replay) else 0
    n = n_new + n_replay
    batch_size = o.batch_size

    class MixedWindows(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(o.seed)
            self.on_epoch_end()

        def __len__(self):
            return int(np.ceil(n / batch_size))

        def __getitem__(self, i):
            sel = self.order[i * batch_size:(i + 1) * batch_size]
            return self.x_epoch[sel], self.y_epoch[sel]

        def on_epoch_end(self):
            rng = self.rng
            new = np.repeat(x_new, o.oversample, axis=0)
            new = augment_windows(augment_windows(new, rng, kinds), rng, kinds)
            xs, ys = [new], [np.repeat(y_new, o.oversample)]
            if n_replay:
                pick = rng.choice(len(x_replay), n_replay, replace=n_replay > len(x_replay))
                xs.append(augment_windows(x_replay[pick], rng, kinds))
                ys.append(y_replay[pick])
            self.x_epoch = normalize(np.concatenate(xs), contract)
            self.y_epoch = np.concatenate(ys).astype(np.int32)
            self.order = rng.permutation(n)

    return MixedWindows()


def fine_tune(model, x_new, y_new, x_replay, y_replay, contract: Contract, o: AdaptOptions, log, last_steps: int = 1):
    """Fine-tune ``model`` in place; returns (history, trainable layer names, seconds). ``last_steps``
    > 1: a GRU learns the label at each of its window's last steps, as its base run did
    (training/fit.py ``compile_on_last_steps``), through its every-step form, whose weights are then
    ``model``'s."""
    keras = _keras()
    keras.utils.set_random_seed(o.seed)
    if len(x_new) == 0:
        raise TrainingError("no windows of the person to adapt to")
    target = model
    if last_steps > 1:
        from training.models import scoring_every_step

        model = scoring_every_step(target)
    trainable = set_trainable(model, o.train_layers)
    if last_steps > 1:
        compile_on_last_steps(keras, model, last_steps, keras.optimizers.Adam(o.learning_rate))
    else:
        model.compile(optimizer=keras.optimizers.Adam(o.learning_rate), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])

    class EpochLines(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            if epoch == 0 or (epoch + 1) % 5 == 0 or epoch + 1 == o.epochs:
                print(f"adapt epoch {epoch + 1}/{o.epochs}: loss {logs.get('loss', 0):.4f}, "
                      f"accuracy {logs.get('accuracy', 0):.4f}", file=log, flush=True)

    started = time.monotonic()
    history = model.fit(_epoch_batches(keras, x_new, y_new, x_replay, y_replay, contract, o), epochs=o.epochs,
                        callbacks=[EpochLines()], verbose=0).history
    seconds = time.monotonic() - started
    if model is not target:
        target.set_weights(model.get_weights())
        model = target
    for layer in model.layers:  # save a model that loads like the base one: all trainable, a fresh optimizer
        layer.trainable = True
    model.compile(optimizer=keras.optimizers.Adam(o.learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.optimizer.build(model.trainable_variables)
    return {k: [float(v) for v in vals] for k, vals in history.items()}, trainable, seconds
