"""Training on built-in data, split by person: accuracy, macro-F1, size and time per setting.

    python bench/bench_training.py [--subjects 6] [--takes 10] [--rate-hz 119] [--seeds 0,1,2]

Writes a synthetic dataset (every label, ``--takes`` takes per person) to a temporary
directory, trains each setting with a few seeds (each seed holds out different people)
and prints one table row per run on stdout.
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
    "conv1d (default)": {},
    "conv1d no augment": {"augment": False},
    "conv1d width 8": {"width": 8},
}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--subjects", type=int, default=6, help="simulated people (default 6)")
    p.add_argument("--takes", type=int, default=10, help="takes per label per person (default 10)")
    p.add_argument("--rate-hz", type=float, default=119.0, help="sample rate (default 119, the Rev1 board)")
    p.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    p.add_argument("--settings", default=",".join(SETTINGS), help="comma-separated settings to run")
    a = p.parse_args(argv)
    seeds = [int(s) for s in a.seeds.split(",")]
    people = [f"p{i + 1}" for i in range(a.subjects)]
    rows = []
    with tempfile.TemporaryDirectory(prefix="nanogest-bench-") as tmp:
        data = Path(tmp) / "data"
        started = time.monotonic()
        write_dataset(data, people, a.takes, a.rate_hz)
        print(f"dataset: {a.subjects} people x {len(LABELS)} labels x {a.takes} takes at {a.rate_hz:g} Hz "
              f"written in {time.monotonic() - started:.1f} s", file=sys.stderr)
        for name in a.settings.split(","):
            for seed in seeds:
                options = FitOptions(seed=seed, **SETTINGS[name])
                started = time.monotonic()
                with contextlib.redirect_stderr(io.StringIO()):
                    s = fit(data, Path(tmp) / f"run-{len(rows)}", options)
                wall = time.monotonic() - started
                rows.append((name, seed, "+".join(s["test_groups"]), s["n_test"], s["accuracy"], s["macro_f1"],
                             s["params"], s["epochs_run"], s["train_seconds"], wall))
                print(f"  {name} seed {seed}: accuracy {s['accuracy']:.3f} ({wall:.1f} s)", file=sys.stderr)
    header = ("setting", "seed", "test people", "n_test", "accuracy", "macro-F1", "params", "epochs", "train s", "wall s")
    print(f"{header[0]:20s} {header[1]:>4s} {header[2]:>11s} {header[3]:>6s} {header[4]:>8s} {header[5]:>8s} "
          f"{header[6]:>6s} {header[7]:>6s} {header[8]:>7s} {header[9]:>6s}")
    for r in rows:
        print(f"{r[0]:20s} {r[1]:4d} {r[2]:>11s} {r[3]:6d} {r[4]:8.3f} {r[5]:8.3f} {r[6]:6d} {r[7]:6d} {r[8]:7.1f} {r[9]:6.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
