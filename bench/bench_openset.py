"""The open world on real recordings: people left out of training, their gestures and other motions
in continuous streams.

    python bench/bench_openset.py [--data DIR] [--archs conv1d,ds-conv1d] [--methods none,reverse,...]
                                  [--seeds 0] [--epochs 40] [--rest-minutes 3] [--calibrate [FA]]
                                  [--label-smoothing EPS] [--mixup ALPHA]

DIR holds the published IMU_Capture recordings, one folder per person (default ``../shared/data/real``
beside the project; the bench says so and stops when it is missing). They are imported with
``python -m capture import`` into a temporary dataset. Three folds leave three gesture people out
each (habits, chiahong, cvasilak / martin, spazio, neethu / adam, yankun, rawalc); the model trains on
the other six people's punch and flex, with the training recipe of ``training fit`` (mount and
rotate, four copies per epoch, the mean of the last quarter's weights). The people left out, and
samy and muhammed (who recorded only other motions, never trained on), are laid into streams
(``boardtools.streams``: per person, gestures and other motions in random order between rest, and
minutes of rest alone), every window is scored in float, its softmax quantized to int8 as the
board's output (scale 1/256, zero point -128), and the board's post-processing
(``converter.postprocess.detections``) decides the detections.

Rows: each arch and rejection method; columns: labelled accuracy on the left-out people's gesture
takes, then for two post-processing settings (the default; and strict: threshold 0.9, 3 windows
agreeing, 2 s refractory, motion gate 80) recall with the right label, wrong-label and repeated
detections per gesture, false activations per other motion and in rest. Methods:

- ``none``: the classifier alone;
- ``reverse``, ``redirect``, ``shake``, ``chimera``, ``wander``: an unknown class trained on that kind of
  generated negatives (``training.negatives``, 0.15 windows per gesture window);
- ``generated``: all five kinds, one window per gesture window;
- ``recorded``: an unknown class from the training people's own recordings of other motions
  (habits' clap and wave, martin's circ/hori/vert, adam's upper_cut, when they train).
- ``gate``: the classifier alone behind the novelty gate ``nanogest fit`` gives it (training/novelty.py,
  fitted on the fold's training people, its level at ``--gate-keep``, its statistics ``--gate-statistics``:
  ``lengths``, ``window``, or ``lengths+window``, both gates); ``recorded+gate``: both.

``--calibrate`` adds a third post-processing: the one ``nanogest calibrate`` would choose on the
fold's training people (two groups held out in turn, their gestures and stand-in other motions
made from them), judged on the fold's people left out. ``--scores`` adds the classifier alone gated by
scores beside it (feature distances, window statistics, logits; bench/openset_scores.py), each at
several levels: points on each score's curve of recall against false activations. ``--trigger`` adds
the classifier run as the official tutorial runs it, one window from each accelerometer trigger.

Training against overconfidence (a bench try; training/*.py is untouched): ``--label-smoothing EPS``
trains on the targets (1 - EPS) one-hot + EPS/K (K classes), ``--mixup ALPHA`` mixes each batch's
windows and one-hot targets (after the augmentation and normalization) with a shuffled copy of the
batch, lambda ~ Beta(ALPHA, ALPHA) per batch; either makes the loss a categorical cross-entropy on
one-hot targets instead of fit's sparse one (GRUs trained on their last steps are not supported).
The rows' ``train`` column says which. A method and its ``+gate`` share one trained model per fold
and seed (the gate comes after training), so ``none,gate`` trains once.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

FOLDS = [["habits", "chiahong", "cvasilak"], ["martin", "spazio", "neethu"], ["adam", "yankun", "rawalc"]]
GESTURES = ["flex", "punch"]
ONLY_OTHER = ("samy", "muhammed")
METHODS = ("none", "gate", "reverse", "redirect", "shake", "chimera", "wander", "generated", "recorded", "recorded+gate")
STRICT = {"score_threshold": 0.9, "agreement": 3, "refractory_s": 2.0, "motion_gate": 80.0}
OUTPUT_Q = (1.0 / 256.0, -128)


def log(text: str) -> None:
    print(f"[openset] {text}", file=sys.stderr, flush=True)


def import_real(src: Path, out: Path) -> None:
    subprocess.run([sys.executable, "-m", "capture", "import", str(src), "--out", str(out),
                    "--layout", "{subject}/{label}.csv"], cwd=ROOT, check=True, capture_output=True)


def against_overconfidence(keras, model, data, o, n_classes: int, seed: int, smoothing: float, mixup: float):
    """The compiled ``model`` and its training ``data`` changed to train with label smoothing and/or mixup:
    one-hot targets (mixed with a shuffled copy of the batch, lambda ~ Beta(mixup, mixup), when ``mixup``)
    and a categorical cross-entropy against (1 - smoothing) one-hot + smoothing / K."""
    if len(model.output.shape) != 2:
        raise SystemExit("bench_openset: --label-smoothing/--mixup support models scoring a window, not a GRU's steps")
    from training.fit import optimizer_for

    model.compile(optimizer=optimizer_for(keras, o),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=smoothing),
                  metrics=["categorical_accuracy"])

    class OneHotMixed(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(10_000 + seed)

        def __len__(self):
            return len(data)

        def __getitem__(self, i):
            xb, yb = data[i]
            xb = np.asarray(xb, np.float32)
            tb = np.eye(n_classes, dtype=np.float32)[np.asarray(yb, np.int64)]
            if mixup > 0:
                lam = np.float32(self.rng.beta(mixup, mixup))
                perm = self.rng.permutation(len(xb))
                xb = lam * xb + (1 - lam) * xb[perm]
                tb = lam * tb + (1 - lam) * tb[perm]
            return xb, tb

        def on_epoch_end(self):
            data.on_epoch_end()

    return OneHotMixed()


def train_fold(takes, fold, arch: str, method: str, seed: int, epochs: int, shape: dict | None = None,
               smoothing: float = 0.0, mixup: float = 0.0):
    from training.augment import board_turn_spread_deg, mount_max_deg
    from training.data import base_contract, normalization_from, take_windows, windows_for
    from training.fit import FitOptions, _keras, _training_data, averaging_callbacks, compiled_model
    from training.negatives import NEGATIVE_KINDS, make_negatives

    train = [t for t in takes if t.meta.label in GESTURES and t.meta.subject not in fold + list(ONLY_OTHER)]
    method = method.removesuffix("+gate")  # the gate comes after training (fold_gate)
    unknown = method not in ("none", "gate")
    shape = shape or {}
    contract = base_contract(train, arch, extra_labels=("unknown",) if unknown else (), rate_hz=shape.get("rate_hz"))
    x, y = windows_for(train, contract)
    rng = np.random.default_rng(seed)
    if unknown:
        if method == "recorded":
            others = [t for t in takes if t.meta.label not in GESTURES and t.meta.subject not in fold + list(ONLY_OTHER)]
            neg = np.concatenate([take_windows(t, contract) for t in others])
        elif method == "generated":
            neg = make_negatives(x, y, rng, 1.0, NEGATIVE_KINDS)
        else:
            neg = make_negatives(x, y, rng, 0.15, (method,))
        x = np.concatenate([x, neg])
        y = np.concatenate([y, np.full(len(neg), contract.labels.index("unknown"), np.int32)])  # its unknown_label
    contract = contract.replace(normalization=normalization_from(x))
    keras = _keras()
    o = FitOptions(arch=arch, seed=seed, epochs=epochs, **{k: v for k, v in shape.items() if k == "width"})
    model = compiled_model(keras, contract, o)
    spread = board_turn_spread_deg(train)
    data = _training_data(keras, x, y, contract, o.batch_size, ("mount", "rotate"), o.copies_per_epoch, seed,
                          mount_max_deg(spread["deg"]), None)
    if smoothing > 0 or mixup > 0:
        data = against_overconfidence(keras, model, data, o, len(contract.labels), seed, smoothing, mixup)
    model.fit(data, epochs=epochs, verbose=0, callbacks=averaging_callbacks(keras, o, epochs))
    return model, contract


def fold_gate(takes, fold, contract, seed: int, keep_percent: float, statistics: str):
    """The novelty gate ``nanogest fit`` gives a model of this fold's training people (training/novelty.py);
    for ``lengths+window``, both gates, a window passing only when both keep it."""
    from training.novelty import contract_gate

    if "+" in statistics:
        return [fold_gate(takes, fold, contract, seed, keep_percent, s) for s in statistics.split("+")]

    train = [t for t in takes if t.meta.label in GESTURES and t.meta.subject not in fold + list(ONLY_OTHER)]
    return contract_gate(train, contract, seed, keep_percent, statistics)


def kept_by(gate, x_normalized: np.ndarray, contract) -> np.ndarray:
    """Which normalized windows the gate (or every gate of a list) keeps."""
    from training.novelty import gate_kept

    gates = gate if isinstance(gate, list) else [gate]
    return np.logical_and.reduce([gate_kept(g, x_normalized, contract.normalization) for g in gates])


def float_runs(model, contract, streams, scorer=None, window_scores=None, gate=None):
    """Each stream's windows scored in float, the softmax quantized as the board's output (OUTPUT_Q);
    with ``scorer`` (openset_scores.Scorer), each stream's rejection scores appended to ``window_scores``;
    with ``gate`` (training.novelty, in float), the windows it rejects are not confident, and a single gate's
    distance over its level is kept with the model's own scores, so a tuner can try lower levels."""
    from boardtools.calibrate import scored_runs  # its counts are the LSM9DS1's, the recordings' board
    from boardtools.replay import board_windows
    from contract.input import normalize
    from converter.postprocess import settings_from_contract

    w, hop = contract.window, contract.hop

    def score(stream, _counts):  # the float windows themselves, not rounded to counts
        raw = board_windows(stream.samples, w, hop)
        x = normalize(raw, contract)
        scores = model.predict(x, verbose=0, batch_size=512)
        if scorer is not None:
            window_scores.append(scorer(x, raw))
        q = np.clip(np.round(scores / OUTPUT_Q[0]) + OUTPUT_Q[1], -128, 127).astype(np.int8)
        if gate is None:
            return q
        if isinstance(gate, list):
            q[~kept_by(gate, x, contract)] = -128
            return q
        from training.novelty import window_distances

        d = window_distances(gate, x, contract.normalization)  # once: what it rejects, and how far past its level
        gated = q.copy()
        gated[d > gate.level] = -128
        return gated, q, d / gate.level

    return scored_runs(streams, contract, score, settings_from_contract(contract, OUTPUT_Q).motion_accel_weight)


def fold_figures(model, contract, takes, fold, seed: int, rest_minutes: float, settings_list, scored: dict | None = None,
                 triggered: dict | None = None, gate=None, gate_factors=None):
    """Labelled accuracy and figures per settings; with ``scored`` (``--scores``), also its ``figures``
    gated by every rejection score (openset_scores.gated_figures) added to its running totals; with
    ``triggered`` (``--trigger``), the onset-triggered figures (openset_trigger) likewise."""
    from boardtools.stream_eval import laptop_figures
    from boardtools.streams import person_streams, rest_stream
    from contract.input import normalize
    from training.data import resample, windows_for

    test = [t for t in takes if t.meta.subject in fold or t.meta.subject in ONLY_OTHER]
    xt, yt = windows_for([t for t in test if t.meta.label in GESTURES], contract)
    right = model.predict(normalize(xt, contract), verbose=0).argmax(1) == yt
    if gate is not None:  # a window the gate rejects is no right answer
        right &= kept_by(gate, normalize(xt, contract), contract)
    accuracy = float(right.mean())
    rng = np.random.default_rng(1000 + seed)
    streams = person_streams(test, GESTURES, contract.rate_hz, rng, resample)
    streams.append(rest_stream(rest_minutes * 60, contract.rate_hz, rng))
    if triggered is not None:
        from openset_trigger import trigger_figures

        for key, f in trigger_figures(model, contract, streams).items():
            triggered.setdefault(key, type(f)()).add(f)
    scorer, window_scores = None, []
    if scored is not None:
        from boardtools.calibrate import person_groups
        from openset_scores import Scorer, gated_figures, held_out_levels
        from training.fit import _keras

        train = [t for t in takes if t.meta.label in GESTURES and t.meta.subject not in fold + list(ONLY_OTHER)]
        xr, yr = windows_for(train, contract)
        scorer = Scorer(_keras(), model, normalize(xr, contract), xr, yr)
        people = sorted({t.meta.subject for t in train})
        held_out = held_out_levels(train, contract, windows_for, person_groups(people, 3, seed), normalize)
    runs = float_runs(model, contract, streams, scorer, window_scores, gate)
    if scorer is not None:
        for key, f in gated_figures(runs, window_scores, contract, settings_list, laptop_figures,
                                    held_out).items():
            scored.setdefault(key, type(f)()).add(f)
    factors = gate_factors or [1.0] * len(settings_list)  # each settings' gate level, times the gate's own
    return accuracy, [laptop_figures(s, contract, runs, f) for s, f in zip(settings_list, factors)]


def calibrated_settings(takes, fold, arch: str, method: str, seed: int, epochs: int, contract, target_fa: float,
                        shape: dict | None = None, smoothing: float = 0.0, mixup: float = 0.0, gate=None):
    """The post-processing boardtools.calibrate would choose on this fold's training people, held out
    two groups in turn, with their gestures and stand-in other motions only (a user who recorded no
    other motion); the settings and the figures it expected."""
    from boardtools.calibrate import calibration_streams, person_groups
    from boardtools.stream_eval import apply_choice, tune
    from boardtools.streams import rest_stream
    from converter.postprocess import settings_from_contract
    from training.data import resample

    trained = sorted({t.meta.subject for t in takes if t.meta.label in GESTURES} - set(fold) - set(ONLY_OTHER))
    rng = np.random.default_rng(2000 + seed)
    runs = []
    for group in person_groups(trained, 2, seed):
        log(f"  calibrating: training without {', '.join(fold + group)}")
        inner, inner_contract = train_fold(takes, fold + group, arch, method, seed, epochs, shape, smoothing, mixup)
        held = [t for t in takes if t.meta.subject in group and t.meta.label in GESTURES]
        streams = calibration_streams(held, GESTURES, contract.rate_hz, rng, resample)
        streams.append(rest_stream(60.0, contract.rate_hz, rng))
        runs += float_runs(inner, inner_contract, streams, gate=gate)  # the fold's gate, as calibrate uses RUN_DIR's
    base = settings_from_contract(contract, OUTPUT_Q)
    chosen, _ = tune(base, contract, runs, target_fa, log_every=10 ** 9)
    return settings_from_contract(apply_choice(contract, chosen, base.unknown_index >= 0), OUTPUT_Q), chosen


def settings_for(contract):
    from contract.document import MotionGate
    from converter.postprocess import settings_from_contract

    default = settings_from_contract(contract, OUTPUT_Q)
    gate = MotionGate(contract.motion_gate.accel_weight_dps_per_g, STRICT["motion_gate"])
    strict = contract.replace(score_threshold=STRICT["score_threshold"], agreement=STRICT["agreement"],
                              refractory_s=STRICT["refractory_s"], motion_gate=gate)
    return [default, settings_from_contract(strict, OUTPUT_Q)]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "real")
    p.add_argument("--archs", default="conv1d")
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--seeds", default="0")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--rest-minutes", type=float, default=3.0, help="of rest alone per fold")
    p.add_argument("--calibrate", type=float, metavar="FA", nargs="?", const=0.10,
                   help="also the post-processing calibrated on each fold's training people held out in turn "
                        "(boardtools calibrate's recipe, target FA per other motion, default 0.10): two more "
                        "models per fold")
    p.add_argument("--scores", action="store_true",
                   help="also the classifier alone gated by each rejection score of bench/openset_scores.py, at "
                        "levels keeping 95..50 %% of the windows (points of each score's curve)")
    p.add_argument("--trigger", action="store_true",
                   help="also the classifier alone run as the official tutorial runs it: one window from each "
                        "accelerometer trigger (bench/openset_trigger.py)")
    p.add_argument("--gate-factors", metavar="F,F,...",
                   help="with --calibrate: the novelty gate's levels the tuner tries, times its own (default: "
                        "boardtools/stream_eval.py's TUNE_GATE_FACTORS)")
    p.add_argument("--gate-keep", type=float, default=None, metavar="PERCENT",
                   help="the 'gate' method's level: the share of the held-out training people's windows it keeps "
                        "(default: training/novelty.py's)")
    p.add_argument("--gate-statistics", choices=("window", "lengths", "lengths+window"), default=None,
                   help="the 'gate' method's statistics (training/novelty.py; default: fit's); lengths+window: both "
                        "gates, each at --gate-keep")
    p.add_argument("--width", type=int, help="the model's width (default: fit's)")
    p.add_argument("--rate-hz", type=float, help="the model's rate (default: the recordings')")
    p.add_argument("--label-smoothing", type=float, default=0.0, metavar="EPS",
                   help="train on (1 - EPS) one-hot + EPS/K targets (a categorical loss; default 0: fit's)")
    p.add_argument("--mixup", type=float, default=0.0, metavar="ALPHA",
                   help="mix each training batch with a shuffled copy of itself, lambda ~ Beta(ALPHA, ALPHA) "
                        "(default 0: none)")
    a = p.parse_args(argv)
    if a.gate_keep is None:
        from training.novelty import KEEP_PERCENT

        a.gate_keep = KEEP_PERCENT
    if a.gate_statistics is None:
        from training.novelty import STATISTICS_DEFAULT

        a.gate_statistics = STATISTICS_DEFAULT
    if a.gate_factors:
        import boardtools.stream_eval as stream_eval

        stream_eval.TUNE_GATE_FACTORS = tuple(float(f) for f in a.gate_factors.split(","))
    shape = {k: v for k, v in (("width", a.width), ("rate_hz", a.rate_hz)) if v is not None}
    if not a.data.is_dir():
        print(f"bench_openset: no real recordings at {a.data}; skipped", file=sys.stderr)
        return 0
    methods = [m for m in a.methods.split(",") if m]
    bad = [m for m in methods if m not in METHODS]
    if bad:
        p.error(f"unknown method(s) {', '.join(bad)}; choose from {', '.join(METHODS)}")
    from training.data import load_dataset

    with tempfile.TemporaryDirectory() as tmp:
        import_real(a.data, Path(tmp) / "real")
        takes = load_dataset(Path(tmp) / "real")
    tried = {"smoothing": a.label_smoothing, "mixup": a.mixup}
    train_tag = ", ".join(f"{k} {v:g}" for k, v in tried.items() if v > 0) or "fit's"
    print(f"training: {train_tag}\n")
    columns = ["default", "strict"] + (["calibrated"] if a.calibrate is not None else [])
    print("| arch | method | train | seed | labelled acc | " + " | ".join(
        f"{c}: recall | wrong/g | repeat/g | FA/other | FA rest" for c in columns) + " |")
    print("|---" * (5 + 5 * len(columns)) + "|")
    trained = {}  # (arch, method without +gate, seed, fold) -> (model, contract): the gate comes after training
    for arch in a.archs.split(","):
        for method in methods:
            for seed in [int(s) for s in a.seeds.split(",")]:
                accs, totals = [], None
                scored = {} if a.scores and method == "none" else None
                triggered = {} if a.trigger and method == "none" else None
                for fold in FOLDS:
                    log(f"{arch} {method} seed {seed}: training without {', '.join(fold)}")
                    key = (arch, "none" if method == "gate" else method.removesuffix("+gate"), seed, tuple(fold))
                    if key not in trained:
                        trained[key] = train_fold(takes, fold, arch, method, seed, a.epochs, shape,
                                                  a.label_smoothing, a.mixup)
                    else:
                        log("  the same trained model as without the gate")
                    model, contract = trained[key]
                    settings = settings_for(contract)
                    gate = (fold_gate(takes, fold, contract, seed, a.gate_keep, a.gate_statistics)
                            if method.endswith("gate") else None)
                    factors = [1.0] * len(settings)
                    if a.calibrate is not None:
                        calibrated, chosen = calibrated_settings(takes, fold, arch, method, seed, a.epochs, contract,
                                                                 a.calibrate, shape, a.label_smoothing, a.mixup, gate)
                        log(f"  calibrated: {', '.join(f'{k} {v}' for k, v in chosen.items())}")
                        settings.append(calibrated)
                        factors.append(chosen.get("gate_factor", 1.0))
                    acc, figs = fold_figures(model, contract, takes, fold, seed, a.rest_minutes, settings, scored,
                                             triggered, gate, factors)
                    accs.append(acc)
                    if totals is None:
                        totals = figs
                    else:
                        for t, f in zip(totals, figs):
                            t.add(f)
                cells = [arch, method, train_tag, str(seed), f"{np.mean(accs):.3f}"]
                for t in totals:
                    s = t.summary()
                    cells += [f"{s['recall']:.3f}", f"{s['wrong_label_per_gesture']:.3f}", f"{s['repeats_per_gesture']:.3f}",
                              f"{s['false_activations_per_other']:.3f}", str(s["false_activations_in_rest"])]
                print("| " + " | ".join(cells) + " |", flush=True)
                if scored:
                    print_scored(arch, seed, scored, columns)
                if triggered:
                    print_triggered(arch, seed, triggered)
    return 0


def print_triggered(arch: str, seed: int, triggered: dict) -> None:
    """The ``--trigger`` rows: one window from each accelerometer trigger (openset_trigger)."""
    print(f"\n{arch} seed {seed}, one window from each accelerometer trigger (openset_trigger):\n")
    print("| trigger (g) | threshold | recall | wrong/g | repeat/g | FA/other | FA rest |")
    print("|---|---|---|---|---|---|---|")
    for (level, threshold), f in triggered.items():
        s = f.summary()
        print(f"| {level} | {threshold} | {s['recall']:.3f} | {s['wrong_label_per_gesture']:.3f} | "
              f"{s['repeats_per_gesture']:.3f} | {s['false_activations_per_other']:.3f} | {s['false_activations_in_rest']} |",
              flush=True)


def print_scored(arch: str, seed: int, scored: dict, columns: list[str]) -> None:
    """The ``--scores`` rows: the classifier alone, windows gated by a rejection score."""
    print(f"\n{arch} seed {seed}, the classifier gated by a rejection score (openset_scores):\n")
    print("| score | windows kept % | post-processing | recall | wrong/g | repeat/g | FA/other | FA rest |")
    print("|---|---|---|---|---|---|---|---|")
    for (name, keep, k), f in scored.items():
        s = f.summary()
        print(f"| {name} | {keep} | {columns[k]} | {s['recall']:.3f} | {s['wrong_label_per_gesture']:.3f} | "
              f"{s['repeats_per_gesture']:.3f} | {s['false_activations_per_other']:.3f} | {s['false_activations_in_rest']} |",
              flush=True)


if __name__ == "__main__":
    sys.exit(main())
