"""Converter measurements for the default Conv1D: model bytes, arena bytes, float vs int8 accuracy.

    python bench/bench_converter.py [RUN_DIR] [--header-dir DIR]

With RUN_DIR, converts that run. Without, it writes a built-in synthetic dataset
(capture.synth), trains the default conv1d on it with `python -m training fit`, and converts
that. Headers go to a temporary directory unless --header-dir is given, so the committed
default model is never touched by a benchmark. Prints one table on stdout.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run(args: list[str]) -> float:
    """Run a pipeline command (its progress goes to our stderr); return its wall time in seconds."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, *args], cwd=REPO, stdout=subprocess.DEVNULL)
    if proc.returncode != 0:
        sys.exit(f"error: `python {' '.join(args)}` failed with exit code {proc.returncode}")
    return time.perf_counter() - start


def train_default(work: Path, subjects: int, takes_per_label: int, epochs: int) -> tuple[Path, float]:
    sys.path.insert(0, str(REPO))
    from capture.synth import write_dataset

    data_dir = work / "data"
    write_dataset(data_dir, subjects=[f"p{i + 1}" for i in range(subjects)], takes_per_label=takes_per_label,
                  rate_hz=119.0, take_seconds=2.0, seed=0)
    run_dir = work / "run"
    seconds = run(["-m", "training", "fit", str(data_dir), "--out", str(run_dir), "--arch", "conv1d",
                   "--epochs", str(epochs), "--seed", "0"])
    return run_dir, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", nargs="?", type=Path, help="a run directory to convert (default: train one on built-in data)")
    parser.add_argument("--header-dir", type=Path, help="where to write the headers (default: a temporary directory)")
    parser.add_argument("--subjects", type=int, default=4, help="simulated people in the built-in dataset (default 4)")
    parser.add_argument("--takes-per-label", type=int, default=8, help="takes per gesture and person (default 8)")
    parser.add_argument("--epochs", type=int, default=40, help="training epochs for the built-in run (default 40)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_converter_") as tmp:
        work = Path(tmp)
        train_s = None
        run_dir = args.run_dir
        if run_dir is None:
            run_dir, train_s = train_default(work, args.subjects, args.takes_per_label, args.epochs)
        header_dir = args.header_dir or work / "headers"
        convert_s = run(["-m", "converter", "convert", str(run_dir), "--header-dir", str(header_dir)])
        report = json.loads((Path(run_dir) / "report.json").read_text())

    rows = [
        ("run", str(args.run_dir) if args.run_dir else "built-in synth data, default conv1d"),
        ("model bytes (.tflite)", report["model_bytes"]),
        ("arena bytes (firmware)", report["arena_bytes"]),
        ("arena measured (64-bit host)", report["arena_measured_bytes"]),
        ("arena margin", report["arena_margin_bytes"]),
        ("ops", len(report["ops"])),
        ("test windows", report["n_test"]),
        ("accuracy float (Keras)", f"{100 * report['accuracy_float']:.2f}%"),
        ("accuracy int8 (TFLM)", f"{100 * report['accuracy_int8']:.2f}%"),
        ("top-1 agreement", f"{100 * report['top1_agreement']:.2f}%"),
        ("max |TFLM - TFLite ref| (LSB)", report["max_output_diff_lsb"]),
        ("convert wall time (s)", f"{convert_s:.1f}"),
    ]
    if train_s is not None:
        rows.append(("train wall time (s)", f"{train_s:.1f}"))
    width = max(len(k) for k, _ in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 12}")
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
