"""Every real recording imports with the generic command as with import-arduino.

For each ``<person>/<label>.csv`` under ``../shared/data/real`` (relative to the project
root; skipped with a note when it is missing), runs

    python -m capture import-arduino FILE --label LABEL --subject PERSON --out A
    python -m capture import FILE --label LABEL --subject PERSON --out B

into temporary folders (never into the project) and compares the takes: count, rows per
take, values (to 1e-6), rate and t_us; and the takes with those of the hand-rolled parser that
import-arduino had before it moved onto the generic reader (commit ``BEFORE`` of
bench_import_speed.py, read from git). Prints a table; exit status 1 if any file differs.

    .venv/bin/python bench/bench_import_real.py [--src DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_import_speed import BEFORE, old_parser  # noqa: E402
from capture.dataset import list_takes, read_take  # noqa: E402


def run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "capture", *args], capture_output=True, text=True, cwd=ROOT)


def takes_of(data_dir: Path) -> list:
    return [read_take(p) for p in list_takes(data_dir)] if data_dir.exists() else []


def compare(a: list, b: list) -> str:
    if len(a) != len(b):
        return f"{len(a)} vs {len(b)} takes"
    for x, y in zip(a, b):
        if len(x.values) != len(y.values):
            return f"{x.meta.take}: {len(x.values)} vs {len(y.values)} rows"
        if not np.allclose(x.values, y.values, atol=1e-6):
            return f"{x.meta.take}: values differ"
        if x.meta.rate_hz != y.meta.rate_hz or not np.array_equal(x.t_us, y.t_us):
            return f"{x.meta.take}: rate or t_us differ ({x.meta.rate_hz} vs {y.meta.rate_hz})"
        if x.meta.complete != y.meta.complete:
            return f"{x.meta.take}: complete differs"
    return "same"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--src", type=Path, default=ROOT.parent / "shared" / "data" / "real")
    a = p.parse_args()
    files = sorted(a.src.glob("*/*.csv")) if a.src.is_dir() else []
    if not files:
        print(f"no recordings under {a.src}; nothing to measure")
        return 0
    parse_old = old_parser()
    print(f"| file | import-arduino takes | import takes | old parser ({BEFORE}) takes | rows ignored | rate Hz | units found | result |")
    print("|---|---|---|---|---|---|---|---|")
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for n, f in enumerate(files):
            person, label = f.parent.name, f.stem
            out_a, out_b = Path(tmp) / f"a{n}", Path(tmp) / f"b{n}"
            pa = run(["import-arduino", str(f), "--label", label, "--subject", person, "--out", str(out_a)])
            pb = run(["import", str(f), "--label", label, "--subject", person, "--out", str(out_b)])
            ta, tb = takes_of(out_a), takes_of(out_b)
            if pb.returncode != 0:
                result = "import failed: " + (pb.stderr.strip().splitlines() or ["?"])[-1]
                units = rate = ignored = "-"
            else:
                rep = json.loads(pb.stdout)["reports"][0]
                result = compare(ta, tb) if pa.returncode == 0 else "import-arduino failed"
                units = f"{rep['accel_units']}, {rep['gyro_units']}"
                rate, ignored = f"{rep['rate_hz']:g}", rep["lines_ignored"]
            old = "-"
            if parse_old is not None:
                parsed = parse_old(f.read_bytes().decode("utf-8", errors="replace"), 119)
                old = str(len(parsed.takes))
                same_old = len(parsed.takes) == len(tb) and all(
                    len(p.rows) == len(t.values) and np.allclose([v for _, v in p.rows], t.values, atol=1e-6)
                    for p, t in zip(parsed.takes, tb))
                if result == "same" and not same_old:
                    result = "differs from the old parser"
            bad += result != "same"
            print(f"| {person}/{f.name} | {len(ta)} | {len(tb)} | {old} | {ignored} | {rate} | {units} | {result} |")
    print(f"\n{len(files) - bad} of {len(files)} files give the same takes with both commands")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
