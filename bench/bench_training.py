"""Training on built-in data, split by person: accuracy, macro-F1, size, MACs and time per architecture.

    python bench/bench_training.py [--subjects 6] [--takes 10] [--rate-hz 119] [--seeds 0,1,2]
                                   [--settings conv1d,ds-conv1d,gru,cnn-gru,...] [--odd-mount-share 0.125]
                                   [--mount-share P]

Writes a synthetic dataset (every label, ``--takes`` takes per person) to a temporary
directory, trains each setting with a few seeds (each seed holds out different people)
and prints one table row per run, then the mean per setting, on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from capture.synth import LABELS, write_dataset  # noqa: E402
from training.fit import FitOptions, fit  # noqa: E402

SETTINGS = {
    "conv1d": {},
    "ds-conv1d": {"arch": "ds-conv1d"},
    "gru": {"arch": "gru"},
    "cnn-gru": {"arch": "cnn-gru"},
    "conv1d-no-augment": {"augment": ()},
    "conv1d-width-8": {"width": 8},
    # the augmentation before 'mount' existed, to measure what mount costs on built-in people
    "conv1d-no-mount": {"augment": ("rotate", "scale", "warp", "shift", "noise")},
    # mount by any angle whatever the people's spread (the default before the spread was measured)
    "conv1d-mount-any": {"mount_deg": 180.0},
    # the last epoch's weights instead of the mean of the last quarter (conv1d's default before)
    "conv1d-last-epoch": {"average_last": 0.0},
    "ds-conv1d-last-epoch": {"arch": "ds-conv1d", "average_last": 0.0},
}
DEFAULT_SETTINGS = "conv1d,ds-conv1d,gru,cnn-gru"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--subjects", type=int, default=6, help="simulated people (default 6)")
    p.add_argument("--takes", type=int, default=10, help="takes per label per person (default 10)")
    p.add_argument("--rate-hz", type=float, default=119.0, help="sample rate (default 119, the Rev1 board)")
    p.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    p.add_argument("--epochs", type=int, default=40, help="maximum epochs (default 40, as 'training fit')")
    p.add_argument("--odd-mount-share", type=float, default=0.0, metavar="SHARE",
                   help="simulated people wearing the board flipped or turned (default 0; 0.125 as in real recordings)")
    p.add_argument("--mount-share", type=float, default=None, metavar="P",
                   help="share of training windows 'mount' turns, as FitOptions.mount_share (default: the arch's)")
    p.add_argument("--settings", default=DEFAULT_SETTINGS,
                   help=f"comma-separated settings from {', '.join(SETTINGS)} (default {DEFAULT_SETTINGS})")
    a = p.parse_args(argv)
    seeds = [int(s) for s in a.seeds.split(",")]
    names = [n.strip() for n in a.settings.split(",") if n.strip()]
    unknown = [n for n in names if n not in SETTINGS]
    if unknown:
        print(f"error: unknown setting(s) {', '.join(unknown)}; choose from {', '.join(SETTINGS)}", file=sys.stderr)
        return 2
    people = [f"p{i + 1}" for i in range(a.subjects)]
    rows = []
    with tempfile.TemporaryDirectory(prefix="nanogest-bench-") as tmp:
        data = Path(tmp) / "data"
        started = time.monotonic()
        write_dataset(data, people, a.takes, a.rate_hz, odd_mount_share=a.odd_mount_share)
        print(f"dataset: {a.subjects} people x {len(LABELS)} labels x {a.takes} takes at {a.rate_hz:g} Hz "
              f"written in {time.monotonic() - started:.1f} s", file=sys.stderr)
        for name in names:
            for seed in seeds:
                extra = {"mount_share": a.mount_share} if a.mount_share is not None else {}
                options = FitOptions(seed=seed, epochs=a.epochs, **{**SETTINGS[name], **extra})
                started = time.monotonic()
                with contextlib.redirect_stderr(io.StringIO()):
                    s = fit(data, Path(tmp) / f"run-{len(rows)}", options)
                wall = time.monotonic() - started
                rows.append((name, seed, "+".join(s["test_groups"]), s["n_test"], s["accuracy"], s["macro_f1"],
                             s["params"], s["macs"], s["epochs_run"], s["train_seconds"], wall))
                print(f"  {name} seed {seed}: accuracy {s['accuracy']:.3f} ({wall:.1f} s)", file=sys.stderr, flush=True)
    fmt = "{:18s} {:>4} {:>11s} {:>6} {:>8} {:>8} {:>6} {:>8} {:>6} {:>7} {:>6}"
    print(fmt.format("arch / setting", "seed", "test people", "n_test", "accuracy", "macro-F1", "params", "MACs",
                     "epochs", "train s", "wall s"))
    for r in rows:
        print(fmt.format(r[0], r[1], r[2], r[3], f"{r[4]:.3f}", f"{r[5]:.3f}", r[6], r[7], r[8], f"{r[9]:.1f}",
                         f"{r[10]:.1f}"))
    for name in names:
        mine = [r for r in rows if r[0] == name]
        mean = lambda i: sum(r[i] for r in mine) / len(mine)  # noqa: E731
        print(fmt.format(name, "mean", "", "", f"{mean(4):.3f}", f"{mean(5):.3f}", mine[0][6], mine[0][7],
                         f"{mean(8):.0f}", f"{mean(9):.1f}", f"{mean(10):.1f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
