"""Import speed: samples/s reading a 1 M-row file, the old hand-rolled parser against the pandas reader.

Writes files of ``--rows`` samples into a temporary folder (never into the project) in four
shapes: IMU_Capture (takes of 119 rows separated by a blank line), the same pasted from the
Serial Monitor (CRLF, a blank line after every row), pasted with the Serial Monitor's
timestamps (read in memory, not streamed), and a ``timestamp_ms,ax,...`` log. Each
is parsed into takes (rows classified, line numbers kept, takes cut; writing the dataset is
the same code for both and left out) by

- before: ``parse_imu_capture`` of ``capture/arduino_import.py`` at commit ``BEFORE`` (read
  from git; that parser cannot read the timestamp log);
- after: ``capture.importing.table_reader.read_path`` (streamed from disk in chunks) + ``capture.importing.takes.cut_takes``.

Best of ``--repeat`` runs. Prints a table.

    nice -n 5 .venv/bin/python bench/bench_import_speed.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from capture.importing.table_reader import read_path  # noqa: E402
from capture.importing.takes import CutOptions, cut_takes  # noqa: E402

BEFORE = "12aa994"  # the last commit with the hand-rolled IMU_Capture parser


def old_parser():
    try:
        src = subprocess.run(["git", "show", f"{BEFORE}:capture/arduino_import.py"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    mod = types.ModuleType("old_arduino_import")
    sys.modules[mod.__name__] = mod  # dataclasses look their module up
    exec(compile(src, "old_arduino_import.py", "exec"), mod.__dict__)
    return mod.parse_imu_capture


def make_files(folder: Path, rows: int) -> dict:
    rng = np.random.default_rng(0)
    values = np.round(rng.normal(0, [0.5, 0.5, 0.5, 200, 200, 200], size=(rows, 6)) + [0, 0, 1, 0, 0, 0], 3)
    lines = [",".join(f"{v:.3f}" for v in r) for r in values]
    blocks = ["\n".join(lines[i:i + 119]) for i in range(0, rows, 119)]
    files = {}
    files["IMU_Capture (blank line between takes)"] = folder / "imu_capture.csv"
    files["IMU_Capture (blank line between takes)"].write_text("aX,aY,aZ,gX,gY,gZ\n" + "\n\n".join(blocks) + "\n")
    files["Serial Monitor paste (CRLF, blank after every row)"] = folder / "spaced.csv"
    files["Serial Monitor paste (CRLF, blank after every row)"].write_bytes(
        ("aX,aY,aZ,gX,gY,gZ\r\n\r\n" + "\r\n\r\n".join(lines) + "\r\n").encode())
    files["Serial Monitor paste with its timestamps"] = folder / "stamped.csv"
    files["Serial Monitor paste with its timestamps"].write_text(
        "10:00:00.000 -> aX,aY,aZ,gX,gY,gZ\n" + "".join(
            f"10:{i // 60000 % 60:02d}:{i // 1000 % 60:02d}.{i % 1000:03d} -> {line}\n" + ("\n" if i % 119 == 118 else "")
            for i, line in enumerate(lines)))
    files["timestamp_ms log"] = folder / "log.csv"
    files["timestamp_ms log"].write_text("timestamp_ms,ax,ay,az,gx,gy,gz\n"
                                         + "\n".join(f"{10 * i},{line}" for i, line in enumerate(lines)) + "\n")
    return files


def best(fn, repeat: int) -> tuple[float, int]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    parse_old = old_parser()
    print(f"| file shape ({a.rows:,} rows) | before: hand-rolled, samples/s | after: pandas, samples/s | speed-up | takes (before / after) |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for shape, path in make_files(Path(tmp), a.rows).items():
            def new():
                rows = read_path(path)
                return len(cut_takes(rows, CutOptions(samples_per_take=119)).takes)

            t_new, n_new = best(new, a.repeat)
            if parse_old is not None and shape != "timestamp_ms log":
                t_old, n_old = best(lambda: len(parse_old(path.read_bytes().decode("utf-8", errors="replace"), 119).takes), a.repeat)
                old_rate, ratio, n_old_s = f"{a.rows / t_old:,.0f}", f"{t_old / t_new:.2f}x", str(n_old)
            else:
                old_rate, ratio, n_old_s = ("cannot read it" if parse_old else "git history missing"), "-", "-"
            print(f"| {shape} | {old_rate} | {a.rows / t_new:,.0f} | {ratio} | {n_old_s} / {n_new} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
