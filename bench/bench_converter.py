"""Converter measurements per architecture: model bytes, arena bytes, MACs, float vs int8 accuracy.

    python bench/bench_converter.py [RUN_DIR ...] [--archs conv1d,gru] [--header-dir DIR]

With RUN_DIRs, converts those runs. Without, it writes a built-in synthetic dataset
(capture.synth), trains each architecture on it with `python -m training fit` and converts
each run. Headers go where `convert` puts them (RUN_DIR/generated) unless --header-dir is
given; nothing is installed into the firmware. A refused conversion is still measured (its
report.json is written before the refusal) and marked. Prints one table on stdout, then the
default conv1d against its targets.
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
ARCHS = ("conv1d", "ds-conv1d", "gru", "cnn-gru")
# Targets for the default conv1d (the converter issue).
TARGET_MODEL_BYTES = 16 * 1024
TARGET_ARENA_BYTES = 10 * 1024
TARGET_MAX_DROP_POINTS = 0.5
TARGET_AGREEMENT = 0.99


def run(args: list[str], must_pass: bool = True) -> tuple[float, int]:
    """Run a pipeline command (its progress goes to our stderr); return (wall seconds, exit code)."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, *args], cwd=REPO, stdout=subprocess.DEVNULL)
    if must_pass and proc.returncode != 0:
        sys.exit(f"error: `python {' '.join(args)}` failed with exit code {proc.returncode}")
    return time.perf_counter() - start, proc.returncode


def write_data(work: Path, subjects: int, takes_per_label: int) -> Path:
    sys.path.insert(0, str(REPO))
    from capture.synth import write_dataset

    data_dir = work / "data"
    write_dataset(data_dir, subjects=[f"p{i + 1}" for i in range(subjects)], takes_per_label=takes_per_label,
                  rate_hz=119.0, take_seconds=1.0, seed=0)  # 1 s takes, as recorded by default
    return data_dir


def measure(run_dir: Path, header_dir: Path | None, name: str, train_s: float | None) -> dict:
    print(f"== converting {name} ({run_dir})", file=sys.stderr, flush=True)
    (run_dir / "report.json").unlink(missing_ok=True)
    where = ["--header-dir", str(header_dir)] if header_dir is not None else []
    convert_s, code = run(["-m", "converter", "convert", str(run_dir), *where], must_pass=False)
    path = run_dir / "report.json"
    if not path.is_file():
        return {"name": name, "refused": True, "convert_s": convert_s, "train_s": train_s}
    return {"name": name, **json.loads(path.read_text()), "refused": code != 0, "convert_s": convert_s,
            "train_s": train_s}


def print_table(rows: list[dict]) -> None:
    columns = [
        ("run", lambda r: r["name"] + (" (REFUSED)" if r["refused"] else "")),
        ("model B", lambda r: r.get("model_bytes", "-")),
        ("arena B", lambda r: r.get("arena_bytes", "-")),
        ("MACs/window", lambda r: r.get("macs", "-")),
        ("ms/window*", lambda r: f"{r['latency_ms_estimate']:.2f}" if "latency_ms_estimate" in r else "-"),
        ("float %", lambda r: f"{100 * r['accuracy_float']:.2f}" if "accuracy_float" in r else "-"),
        ("int8 %", lambda r: f"{100 * r['accuracy_int8']:.2f}" if "accuracy_int8" in r else "-"),
        ("top-1 agree %", lambda r: f"{100 * r['top1_agreement']:.2f}" if "top1_agreement" in r else "-"),
        ("ref LSB", lambda r: r.get("max_output_diff_lsb", "-")),
        ("GRU state", lambda r: (f"{r['gru']['units']} x int8, "
                                 + ("copied" if r["gru"]["state_carried_as_int8"] else "requantized"))
                                if r.get("gru") else "-"),
        ("steps", lambda r: r["gru"]["steps_per_window"] if r.get("gru") else 1),
        ("convert s", lambda r: f"{r['convert_s']:.1f}"),
        ("train s", lambda r: f"{r['train_s']:.1f}" if r.get("train_s") is not None else "-"),
    ]
    cells = [[str(get(r)) for _, get in columns] for r in rows]
    widths = [max(len(title), *(len(c[i]) for c in cells)) for i, (title, _) in enumerate(columns)]
    print("  ".join(title.ljust(w) for (title, _), w in zip(columns, widths)))
    print("  ".join("-" * w for w in widths))
    for c in cells:
        print("  ".join(v.ljust(w) for v, w in zip(c, widths)))
    if rows and "cycles_per_mac" in rows[0]:
        print(f"* estimate: MACs x {rows[0]['cycles_per_mac']:g} cycles/MAC at {rows[0]['cpu_hz'] / 1e6:g} MHz (assumed), "
              f"test windows: {rows[0]['n_test']}")


def print_targets(row: dict) -> None:
    if "model_bytes" not in row:
        print(f"targets: {row['name']} was refused before it could be measured")
        return
    drop = 100 * (row["accuracy_float"] - row["accuracy_int8"])
    checks = [
        (f"model <= {TARGET_MODEL_BYTES} B", row["model_bytes"] <= TARGET_MODEL_BYTES, row["model_bytes"]),
        (f"arena <= {TARGET_ARENA_BYTES} B", row["arena_bytes"] <= TARGET_ARENA_BYTES, row["arena_bytes"]),
        (f"int8 within {TARGET_MAX_DROP_POINTS} points of float", drop <= TARGET_MAX_DROP_POINTS, f"{drop:+.2f} points drop"),
        (f"top-1 agreement >= {100 * TARGET_AGREEMENT:g} %", row["top1_agreement"] >= TARGET_AGREEMENT,
         f"{100 * row['top1_agreement']:.2f} %"),
    ]
    print(f"\ntargets for {row['name']}:")
    for what, ok, value in checks:
        print(f"  {'met   ' if ok else 'MISSED'}  {what:<32} {value}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dirs", nargs="*", type=Path, help="run directories to convert (default: train each --archs)")
    parser.add_argument("--archs", default=",".join(ARCHS), help="architectures to train on built-in data (default: %(default)s)")
    parser.add_argument("--header-dir", type=Path, help="where to write the headers (default: each RUN_DIR/generated)")
    parser.add_argument("--subjects", type=int, default=6, help="simulated people in the built-in dataset (default 6)")
    parser.add_argument("--takes-per-label", type=int, default=10, help="takes per gesture and person (default 10)")
    parser.add_argument("--epochs", type=int, default=40, help="training epochs for the built-in runs (default 40)")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_converter_") as tmp:
        work = Path(tmp)
        header_dir = args.header_dir
        if args.run_dirs:
            for run_dir in args.run_dirs:
                rows.append(measure(run_dir, header_dir, str(run_dir), None))
        else:
            data_dir = write_data(work, args.subjects, args.takes_per_label)
            for arch in [a.strip() for a in args.archs.split(",") if a.strip()]:
                run_dir = work / f"run-{arch}"
                print(f"== training {arch}", file=sys.stderr, flush=True)
                train_s, _ = run(["-m", "training", "fit", str(data_dir), "--out", str(run_dir), "--arch", arch,
                                  "--epochs", str(args.epochs), "--seed", "0"])
                rows.append(measure(run_dir, header_dir, arch, train_s))
    print_table(rows)
    default = next((r for r in rows if r["name"] == "conv1d"), None)
    if default:
        print_targets(default)
    return 0


if __name__ == "__main__":
    sys.exit(main())
