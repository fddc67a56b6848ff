"""Tries at recognition that holds on new people, on bench_real's nested split (issue 22).

    python bench/bench_generalize.py [--data DIR] [--seeds 0,1,2] [--tries base,distill,gravity-frame,wearer-scale,pretrain]
                                     [--teachers 3] [--teacher-width 16] [--soft-share 0.5]
                                     [--pretext masked|contrastive] [--pretrain-epochs 5] [--mask-spans 2]
                                     [--mask-span 12]

The people with punch and flex other than neethu, rawalc and yankun are dealt into three folds;
each fold's model trains on the others (adam's punch always in) and is scored on the fold's people
(choosing folds); one model on all of them is scored on each of neethu, rawalc and yankun
(confirmation). conv1d at fit's recipe (its family's width and 60 Hz, mount and rotate, four copies
per epoch, the mean of the last quarter's weights, 40 epochs), scored in float. Tries:

- ``base``: the recipe as it is;
- ``distill``: first ``--teachers`` conv1d of ``--teacher-width`` filters (other seeds) train on the
  same windows; the model then learns from targets that are ``--soft-share`` the teachers' mean
  softmax on each freshly augmented window and the rest its label;
- ``gravity-frame``: every person's samples turned so that the mean of their accelerometer over all
  their takes points along +z (a frame a board could keep from a wearer's long-run average),
  before anything else;
- ``wearer-scale``: every person's motion scaled to one strength (the gyroscope, and the accelerometer
  about each take's mean, divided by the RMS of the person's gyroscope over all their takes): a
  normalization per wearer that a board could keep without labels;
- ``pretrain``: before the recipe, the conv1d body (its layers up to ``conv3``; the pooling and
  dropout before ``scores`` have no weights) learns a pretext task for ``--pretrain-epochs`` epochs
  on unlabelled windows of every take, gesture or other motion, of the people the model may train
  on (samy and muhammed, never judged, always); then the recipe as ``base`` from those weights.
  ``--pretext masked``: ``--mask-spans`` spans of ``--mask-span`` samples of a mount+rotate copy set
  to the channel mean, the normalized samples under them predicted by a small decoder;
  ``contrastive``: two mount+rotate copies of each window told apart from the batch's other
  windows (NT-Xent, temperature 0.2, on a small projection of the pooled features). The fine-tuned
  model is built after pretraining, so ``--pretrain-epochs 0`` gives exactly ``base``'s figures.

DIR holds the published IMU_Capture recordings (default ``../shared/data/real``; skipped when missing).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

GESTURES = ("flex", "punch")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_real import NESTED_CONFIRM_PEOPLE as CONFIRM, NESTED_FOLDS as FOLDS  # noqa: E402  the same split
from training.families import family  # noqa: E402

RATE_HZ = family("conv1d").rate_hz  # the default model's rate, as fit trains it
TRIES = ("base", "distill", "gravity-frame", "wearer-scale", "pretrain")


def log(text: str) -> None:
    print(f"[generalize] {text}", file=sys.stderr, flush=True)


def turn_to_z(g: np.ndarray) -> np.ndarray:
    """The smallest rotation taking the direction of ``g`` to +z."""
    g = g / np.linalg.norm(g)
    axis, c = np.cross(g, [0.0, 0.0, 1.0]), float(g[2])
    if np.linalg.norm(axis) < 1e-9:
        return np.eye(3) if c > 0 else np.diag([1.0, -1.0, -1.0])
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + k + k @ k / (1.0 + c)


def gravity_frame(takes):
    """Each person's takes turned so their mean accelerometer points along +z (both sensors turned)."""
    out = []
    for person in sorted({t.meta.subject for t in takes}):
        mine = [t for t in takes if t.meta.subject == person]
        r = turn_to_z(np.concatenate([t.values[:, :3] for t in mine]).mean(axis=0)).astype(np.float32)
        for t in mine:
            v = np.array(t.values, dtype=np.float32)
            v[:, :3], v[:, 3:] = v[:, :3] @ r.T, v[:, 3:] @ r.T
            out.append(dataclasses.replace(t, values=v))
    return out


def wearer_scale(takes):
    """Each person's motion scaled to one strength: the gyroscope, and the accelerometer about each take's
    mean, times 1 / the RMS of the person's gyroscope over all their takes (what a board could keep as a
    running figure of its wearer, without labels)."""
    out = []
    for person in sorted({t.meta.subject for t in takes}):
        mine = [t for t in takes if t.meta.subject == person]
        gyro = np.concatenate([np.asarray(t.values, dtype=np.float64)[:, 3:] for t in mine])
        k = np.float32(1.0 / np.sqrt(np.mean(np.sum(gyro * gyro, axis=1))))
        for t in mine:
            v = np.array(t.values, dtype=np.float32)
            mean = v[:, :3].mean(axis=0, keepdims=True)
            v[:, :3], v[:, 3:] = mean + k * (v[:, :3] - mean), k * v[:, 3:]
            out.append(dataclasses.replace(t, values=v))
    return out


def epoch_batches(keras, batch: int, seed: int, refill):
    """Batches of ``batch`` windows in a fresh order each epoch: ``refill(rng)`` gives the epoch's (x, y),
    then the order is drawn from the same generator (``default_rng(seed)``)."""

    class Batches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(seed)
            self.on_epoch_end()

        def __len__(self):
            return int(np.ceil(len(self.y) / batch))

        def __getitem__(self, i):
            sel = self.order[i * batch:(i + 1) * batch]
            return self.x[sel], self.y[sel]

        def on_epoch_end(self):
            self.x, self.y = refill(self.rng)
            self.order = self.rng.permutation(len(self.y))

    return Batches()


def training_batches(keras, x, y, contract, seed: int, mount_deg: float, teachers, soft_share: float):
    """Four freshly augmented copies of each window per epoch, with one-hot targets mixed with the
    teachers' mean softmax (none: the labels alone)."""
    from contract.input import normalize
    from training.augment import augment_windows

    n_labels = len(contract.labels)

    def refill(rng):
        xs = normalize(np.concatenate([augment_windows(x, rng, ("mount", "rotate"), mount_deg, None)
                                       for _ in range(4)]), contract)
        ys = np.eye(n_labels, dtype=np.float32)[np.tile(y, 4)]
        if teachers:
            soft = np.mean([t.predict(xs, verbose=0, batch_size=1024) for t in teachers], axis=0)
            ys = (1.0 - soft_share) * ys + soft_share * soft
        return xs, ys

    return epoch_batches(keras, 32, seed, refill)


def masked_batches(keras, x, contract, seed: int, mount_deg: float, spans: int, span: int):
    """One freshly augmented copy of each unlabelled window per epoch, normalized; inputs with
    ``spans`` random spans of ``span`` samples zeroed (the channel mean), targets the whole window
    with a seventh channel marking the masked samples (the loss counts only those)."""
    from contract.input import normalize
    from training.augment import augment_windows

    def refill(rng):
        target = normalize(augment_windows(x, rng, ("mount", "rotate"), mount_deg, None), contract)
        n, window, _ = target.shape
        starts = rng.integers(0, window - span + 1, size=(n, spans))
        t = np.arange(window)
        mask = ((t[None, None, :] >= starts[..., None]) & (t[None, None, :] < starts[..., None] + span)).any(1)
        return (np.where(mask[..., None], 0.0, target).astype(np.float32),
                np.concatenate([target, mask[..., None].astype(np.float32)], axis=-1))

    return epoch_batches(keras, 64, seed + 7919, refill)  # not the fine-tuning's stream


def view_pairs(keras, x, contract, seed: int, mount_deg: float):
    """Batches of 2 x 64 windows: 64 mount+rotate copies, then another copy of each in the same order
    (targets unused)."""
    from contract.input import normalize
    from training.augment import augment_windows

    class Batches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(seed + 7919)
            self.on_epoch_end()

        def __len__(self):
            return len(x) // 64  # whole batches only: the loss pairs row i with row i + 64

        def __getitem__(self, i):
            sel = self.order[i * 64:(i + 1) * 64]
            return np.concatenate([self.a[sel], self.b[sel]]), np.zeros(128, np.float32)

        def on_epoch_end(self):
            self.a, self.b = (normalize(augment_windows(x, self.rng, ("mount", "rotate"), mount_deg, None), contract)
                              for _ in range(2))
            self.order = self.rng.permutation(len(x))

    return Batches()


def contrastive_body(keras, model, x, contract, seed: int, mount_deg: float, _a):
    """The pretext model and batches of NT-Xent: two copies of a window told apart from the rest of
    the batch (chance: log 127 = 4.84), through a projection head thrown away after."""
    from keras import layers, ops

    h = layers.Dense(32, activation="relu")(model.get_layer("gap").output)
    pretext = keras.Model(model.input, layers.Dense(16)(h))

    def nt_xent(_, z):
        z = z / (ops.norm(z, axis=1, keepdims=True) + 1e-8)
        n = ops.shape(z)[0] // 2
        sim = ops.matmul(z, ops.transpose(z)) / 0.2 - 1e9 * ops.eye(2 * n)  # a window is not its own pair
        partner = ops.concatenate([ops.arange(n, 2 * n), ops.arange(0, n)])
        return ops.mean(keras.losses.sparse_categorical_crossentropy(partner, sim, from_logits=True))

    pretext.compile(optimizer=keras.optimizers.Adam(1e-3), loss=nt_xent)
    return pretext, view_pairs(keras, x, contract, seed, mount_deg)


def masked_body(keras, model, x, contract, seed: int, mount_deg: float, a):
    """The pretext model and batches of masked reconstruction: a decoder upsampling ``conv3``'s
    4x pooled features back to the window (two convolutions), thrown away after."""
    from keras import layers

    features = model.get_layer("gap").input  # conv3's output, before the weightless pooling and dropout
    h = layers.UpSampling1D(contract.window // int(features.shape[1]))(features)
    h = layers.Conv1D(16, 5, padding="same", activation="relu")(h)
    pretext = keras.Model(model.input, layers.Conv1D(len(contract.channels), 1)(h))

    def masked_mse(y_true, y_pred):  # mean squared error over the masked samples only (about 1.0: the mean)
        mask = y_true[..., -1:]
        squared = keras.ops.sum(mask * keras.ops.square(y_true[..., :-1] - y_pred))
        return squared / (keras.ops.sum(mask) * y_pred.shape[-1])

    pretext.compile(optimizer=keras.optimizers.Adam(1e-3), loss=masked_mse)
    return pretext, masked_batches(keras, x, contract, seed, mount_deg, a.mask_spans, a.mask_span)


def pretrained_body(keras, contract, o, x, mount_deg: float, a) -> dict:
    """The weights, by layer name, of a fresh ``o`` model's layers up to ``conv3`` after ``a.pretext``
    on unlabelled windows ``x`` (0 epochs: as built, so the try is then exactly ``base``)."""
    from training.fit import compiled_model

    model = compiled_model(keras, contract, o)  # the same seeded start as the model fine-tuned after
    build = contrastive_body if a.pretext == "contrastive" else masked_body
    pretext, batches = build(keras, model, x, contract, o.seed, mount_deg, a)
    if a.pretrain_epochs:
        loss = pretext.fit(batches, epochs=a.pretrain_epochs, verbose=0).history["loss"]
        log(f"{a.pretext} pretext on {len(x)} windows: loss {loss[0]:.3f} -> {loss[-1]:.3f}")
    body = model.layers[1:[layer.name for layer in model.layers].index("gap")]
    return {layer.name: layer.get_weights() for layer in body}


def train(keras, takes, seed: int, width=None, teachers=None, soft_share: float = 0.0, unlabelled=None, a=None):
    from training.augment import board_turn_spread_deg, mount_max_deg
    from training.data import base_contract, normalization_from, take_windows, windows_for
    from training.fit import FitOptions, averaging_callbacks, compiled_model

    contract = base_contract(takes, "conv1d", rate_hz=RATE_HZ)
    x, y = windows_for(takes, contract)
    contract = contract.replace(normalization=normalization_from(x))
    o = FitOptions(arch="conv1d", seed=seed, width=width)
    mount = mount_max_deg(board_turn_spread_deg(takes)["deg"])
    body = {}
    if unlabelled:  # the labelled windows' normalization, so the body sees what fine-tuning will feed it
        body = pretrained_body(keras, contract, o, np.concatenate([take_windows(t, contract) for t in unlabelled]),
                               mount, a)
    # built after pretraining, so every random stream of the fine-tuning is base's (one extra draw
    # moves a model's accuracy on a person by up to 14 points)
    model = compiled_model(keras, contract, o)
    for name, weights in body.items():
        model.get_layer(name).set_weights(weights)
    model.compile(optimizer=model.optimizer, loss="categorical_crossentropy")  # soft targets
    model.fit(training_batches(keras, x, y, contract, seed, mount, teachers, soft_share), epochs=o.epochs, verbose=0,
              callbacks=averaging_callbacks(keras, o, o.epochs))
    return model, contract


def accuracy(model, contract, takes, person: str) -> float:
    from contract.input import normalize
    from training.data import windows_for

    x, y = windows_for([t for t in takes if t.meta.subject == person], contract)
    return float((model.predict(normalize(x, contract), verbose=0).argmax(1) == y).mean())


def nested_row(keras, takes, try_: str, seed: int, a, every_take=()) -> dict:
    people = sorted({t.meta.subject for t in takes if t.meta.label == "flex"} & {t.meta.subject for t in takes if t.meta.label == "punch"})
    choosing = [p for p in people if p not in CONFIRM]
    folds = [choosing[i::FOLDS] for i in range(FOLDS)]

    def model_without(out):
        kept = [t for t in takes if t.meta.subject not in out]
        # every take of a person the model may train on; the judged people's never
        unlabelled = [t for t in every_take if t.meta.subject not in out] if try_ == "pretrain" else None
        teachers = None
        if try_ == "distill":
            teachers = [train(keras, kept, 100 * seed + k + 1, width=a.teacher_width)[0] for k in range(a.teachers)]
        return train(keras, kept, seed, teachers=teachers, soft_share=a.soft_share if teachers else 0.0,
                     unlabelled=unlabelled, a=a)

    choose, per_person = [], {}
    for fold in folds:
        model, contract = model_without(list(fold) + list(CONFIRM))
        scores = {p: accuracy(model, contract, takes, p) for p in fold}
        per_person.update(scores)
        choose.append(float(np.mean(list(scores.values()))))
    model, contract = model_without(list(CONFIRM))
    confirm = {p: accuracy(model, contract, takes, p) for p in CONFIRM}
    return {"choose": float(np.mean(choose)), "confirm": float(np.mean(list(confirm.values()))), "confirm_people": confirm,
            "choose_people": per_person}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "real")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--tries", default=",".join(TRIES), help=f"comma-separated from {','.join(TRIES)}")
    p.add_argument("--teachers", type=int, default=3)
    p.add_argument("--teacher-width", type=int, default=16)
    p.add_argument("--soft-share", type=float, default=0.5, help="of the target that is the teachers' (distill)")
    p.add_argument("--pretext", choices=("masked", "contrastive"), default="masked", help="(pretrain)")
    p.add_argument("--pretrain-epochs", type=int, default=5, help="of the pretext task (pretrain; 0: base's figures)")
    p.add_argument("--mask-spans", type=int, default=2, help="masked spans per window (pretrain)")
    p.add_argument("--mask-span", type=int, default=12, help="samples in each masked span (pretrain)")
    a = p.parse_args(argv)
    tries = [t for t in a.tries.split(",") if t]
    bad = [t for t in tries if t not in TRIES]
    if bad:
        p.error(f"unknown tries {', '.join(bad)}; choose from {', '.join(TRIES)}")
    if not a.data.is_dir():
        print(f"bench_generalize: no real recordings at {a.data}; skipped", file=sys.stderr)
        return 0
    from training.data import load_dataset
    from training.fit import _keras

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "capture", "import", str(a.data), "--out", str(Path(tmp) / "real"),
                        "--layout", "{subject}/{label}.csv"], cwd=ROOT, check=True, capture_output=True)
        every_take = load_dataset(Path(tmp) / "real")  # other motions too: pretrain's unlabelled windows
    takes = [t for t in every_take if t.meta.label in GESTURES]
    keras = _keras()
    print("| try | seed | choosing folds | confirmation | " + " | ".join(CONFIRM) + " |")
    print("|---|---|---:|---:|" + "---:|" * len(CONFIRM))
    summary = {}
    for try_ in tries:
        data = {"gravity-frame": gravity_frame, "wearer-scale": wearer_scale}.get(try_, list)(takes)
        for seed in [int(s) for s in a.seeds.split(",")]:
            log(f"{try_} seed {seed}")
            r = nested_row(keras, data, try_, seed, a, every_take)
            summary.setdefault(try_, []).append(r)
            print(f"| {try_} | {seed} | {r['choose']:.3f} | {r['confirm']:.3f} | "
                  + " | ".join(f"{r['confirm_people'][c]:.3f}" for c in CONFIRM) + " |", flush=True)
    print("\n| try | choosing folds: mean (range) | confirmation: mean (range) |\n|---|---|---|")
    for try_, rows in summary.items():
        c, f = [r["choose"] for r in rows], [r["confirm"] for r in rows]
        print(f"| {try_} | {np.mean(c):.3f} ({min(c):.3f}-{max(c):.3f}) | {np.mean(f):.3f} ({min(f):.3f}-{max(f):.3f}) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
