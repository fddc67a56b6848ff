"""How much of new people's gestures the novelty gate keeps when they wear the board turned.

    python bench/bench_gate_turn.py [--data DIR] [--seeds 0,1,2] [--keep 99.5] [--degrees 30,60,90]

For each of bench_openset's three folds, the gate ``nanogest fit`` gives (training/novelty.py) is fitted
on the other people's punch and flex windows (60 Hz, fit's windows and normalization), once per kind of
statistics: ``lengths`` (the accelerometer's and gyroscope's vector lengths) and ``window`` (each
channel's extremes and the means of its positive and negative parts). Then the fold's own people's
gesture windows are scored as recorded, and with the board turned about each of its axes by each of
``--degrees`` (both sensors, every sample: a board strapped on at another angle). Prints, per kind of
statistics and turn, the share of the fold's people's windows the gate keeps (the rest report unknown
and can never be detected), mean over folds and seeds, with the range over seeds.

No model is trained: the gate alone decides which windows reach the classifier. DIR holds the
published IMU_Capture recordings (default ``../shared/data/real``; skipped when missing).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench_openset import FOLDS, GESTURES, ONLY_OTHER, import_real  # noqa: E402  the same people and folds

RATE_HZ = 60.0  # the default conv1d's rate (training/families)


def turn(raw: np.ndarray, axis: int, degrees: float) -> np.ndarray:
    """Windows (n, W, 6) with the board turned by ``degrees`` about its ``axis`` (both sensors)."""
    a = np.radians(degrees)
    i, j = [k for k in range(3) if k != axis]
    r = np.eye(3)
    r[i, i], r[i, j], r[j, i], r[j, j] = np.cos(a), -np.sin(a), np.sin(a), np.cos(a)
    return np.concatenate([raw[..., :3] @ r.T, raw[..., 3:] @ r.T], axis=-1)


def kept_shares(takes, fold, seed: int, keep: float, degrees: list[float]) -> dict:
    """{(statistics, turn name): share of the fold's people's gesture windows the fold's gate keeps}."""
    from contract.input import normalize
    from training.data import base_contract, normalization_from, windows_for
    from training.novelty import contract_gate, gate_kept

    train = [t for t in takes if t.meta.label in GESTURES and t.meta.subject not in fold + list(ONLY_OTHER)]
    held = [t for t in takes if t.meta.label in GESTURES and t.meta.subject in fold]
    contract = base_contract(train, "conv1d", extra_labels=("unknown",), rate_hz=RATE_HZ)
    x, _ = windows_for(train, contract)
    contract = contract.replace(normalization=normalization_from(x))
    raw, _ = windows_for(held, contract)
    turns = {"as recorded": raw}
    for d in degrees:
        for axis, name in enumerate("xyz"):
            turns[f"{d:g} deg about {name}"] = turn(raw, axis, d)
    out = {}
    for statistics in ("lengths", "window"):
        gate = contract_gate(train, contract, seed, keep, statistics)
        for name, r in turns.items():
            out[(statistics, name)] = float(gate_kept(gate, normalize(r, contract), contract.normalization).mean())
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "real")
    p.add_argument("--seeds", default="0,1,2", help="the gate's seeds (which people it holds out together)")
    p.add_argument("--keep", type=float, default=None, help="the share of held-out windows the level keeps "
                                                           "(default: training/novelty.py's)")
    p.add_argument("--degrees", default="30,60,90", help="the turns, in degrees about each axis")
    a = p.parse_args(argv)
    if not a.data.is_dir():
        print(f"bench_gate_turn: no real recordings at {a.data}; skipped", file=sys.stderr)
        return 0
    from training.data import load_dataset
    from training.novelty import KEEP_PERCENT

    keep = KEEP_PERCENT if a.keep is None else a.keep
    degrees = [float(d) for d in a.degrees.split(",") if d]
    with tempfile.TemporaryDirectory() as tmp:
        import_real(a.data, Path(tmp) / "real")
        takes = load_dataset(Path(tmp) / "real")
    per_seed: dict = {}
    for seed in [int(s) for s in a.seeds.split(",")]:
        folds = []
        for fold in FOLDS:
            print(f"[gate_turn] seed {seed}: gates without {', '.join(fold)}", file=sys.stderr, flush=True)
            folds.append(kept_shares(takes, fold, seed, keep, degrees))
        for k in folds[0]:
            per_seed.setdefault(k, []).append(np.mean([f[k] for f in folds]))
    print(f"Share of new people's gesture windows the gate keeps (level keeping {keep:g} % of held-out training "
          "people's), mean over folds; mean (range) over seeds:\n")
    names = list(dict.fromkeys(name for _, name in per_seed))
    print("| turn | lengths | window |")
    print("|---|---|---|")
    for name in names:
        cells = [f"{np.mean(per_seed[(s, name)]):.3f} ({min(per_seed[(s, name)]):.3f}-{max(per_seed[(s, name)]):.3f})"
                 for s in ("lengths", "window")]
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
