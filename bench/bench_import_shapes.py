"""Real recordings rewritten in the shapes people bring them in, imported with the generic command.

Each ``<person>/<label>.csv`` under ``../shared/data/real`` is read with import-arduino (its
takes are the reference), then written into a temporary folder (never into the project) as:

- quoted: every value quoted, takes separated by a row of empty quoted cells (``"","",...``);
- re-saved: a pandas-style index column, blank lines as ``12,,,,,,``;
- monitor: a Serial Monitor paste with "Show timestamp" prefixes, CRLF, a blank line after every
  row and a double blank between takes;
- per-take: one ``timestamp_ms,ax,...`` file per take at 100 Hz in a folder per person, named
  ``<Label>_<NN>.csv``;
- log: one file ``millis,AccX,...,GyroZ`` in m/s^2 and rad/s, takes 1.5 s apart on the clock;
- excel: semicolons and decimal commas;
- edge-impulse: one data acquisition JSON per take, ``<label>.<id>.json``.

Every shape is imported with ``python -m capture import`` and nothing beyond ``--label`` /
``--subject`` (``--layout`` for the per-take folder), and its takes are compared with the
reference: count, rows per take, and values (to 1e-3 in the file's own units). Prints a table.

    nice -n 5 .venv/bin/python bench/bench_import_shapes.py [--src DIR]
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

from capture.dataset import list_takes, read_take  # noqa: E402

G = 9.80665
SHAPES = ("quoted", "re-saved", "monitor", "per-take", "log", "excel", "edge-impulse")


def run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "capture", *args], capture_output=True, text=True, cwd=ROOT)


def row(values, fmt="{:.3f}", sep=",", quote=""):
    return sep.join(quote + fmt.format(v) + quote for v in values)


def write_shape(shape: str, takes: list[np.ndarray], label: str, person: str, out: Path) -> Path:
    """Write the takes in one shape; the path to import."""
    out.mkdir(parents=True, exist_ok=True)
    if shape == "quoted":
        lines = ['"aX","aY","aZ","gX","gY","gZ"']
        for k, t in enumerate(takes):
            lines += (['"","","","","",""'] if k else []) + [row(r, quote='"') for r in t]
        path = out / f"{label}.csv"
        path.write_text("\n".join(lines) + "\n")
    elif shape == "re-saved":
        lines, i = [",aX,aY,aZ,gX,gY,gZ"], 0
        for k, t in enumerate(takes):
            if k:
                lines.append(f"{i},,,,,,")
                i += 1
            for r in t:
                lines.append(f"{i}," + ",".join(repr(float(v)) for v in r))
                i += 1
        path = out / f"{label}.csv"
        path.write_text("\n".join(lines) + "\n")
    elif shape == "monitor":
        lines, s = ["10:00:00.000 -> aX,aY,aZ,gX,gY,gZ", ""], 0
        for t in takes:
            for r in t:
                s += 1
                lines += [f"10:{s // 6000 % 60:02d}:{s // 100 % 60:02d}.{s % 100 * 10:03d} -> " + row(r), ""]
            lines.append("")
        path = out / f"{label}.csv"
        path.write_bytes("\r\n".join(lines).encode())
    elif shape == "per-take":
        folder = out / person
        folder.mkdir(exist_ok=True)
        for k, t in enumerate(takes, 1):
            t_ms = 52_000 + 10 * np.arange(len(t))
            body = "\n".join(f"{ms}," + row(r) for ms, r in zip(t_ms, t))
            (folder / f"{label.capitalize()}_{k:02d}.csv").write_text("timestamp_ms,ax,ay,az,gx,gy,gz\n" + body + "\n")
        path = out
    elif shape == "log":
        lines, clock = ["millis,AccX,AccY,AccZ,GyroX,GyroY,GyroZ"], 1000.0
        for t in takes:
            si = t * np.r_[np.full(3, G), np.full(3, np.pi / 180)]
            for r in si:
                lines.append(f"{int(round(clock))}," + row(r, "{:.5f}"))
                clock += 1000 / 119
            clock += 1500
        path = out / f"{label}.csv"
        path.write_text("\n".join(lines) + "\n")
    elif shape == "excel":
        lines = ["aX;aY;aZ;gX;gY;gZ"]
        for k, t in enumerate(takes):
            lines += ([";;;;;"] if k else []) + [row(r, sep=";").replace(".", ",") for r in t]
        path = out / f"{label}.csv"
        path.write_text("\r\n".join(lines) + "\r\n")
    elif shape == "edge-impulse":
        for k, t in enumerate(takes):
            doc = {"protected": {"ver": "v1", "alg": "none"}, "signature": "0" * 64,
                   "payload": {"device_type": "ARDUINO_NANO33BLE", "interval_ms": 1000 / 119,
                               "sensors": [{"name": n, "units": "m/s2" if n.startswith("acc") else "dps"}
                                           for n in ("accX", "accY", "accZ", "gyrX", "gyrY", "gyrZ")],
                               "values": (t * np.r_[np.full(3, G), np.ones(3)]).round(5).tolist()}}
            (out / f"{label}.{person}{k:03d}x.json").write_text(json.dumps(doc))
        path = out
    else:
        raise ValueError(shape)
    return path


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--src", type=Path, default=ROOT.parent / "shared" / "data" / "real")
    a = p.parse_args()
    files = sorted(a.src.glob("*/*.csv")) if a.src.is_dir() else []
    if not files:
        print(f"no recordings under {a.src}; nothing to measure")
        return 0
    right = {s: 0 for s in SHAPES}
    total_takes = 0
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for n, f in enumerate(files):
            person, label = f.parent.name, f.stem
            ref_dir = tmp / f"ref{n}"
            run(["import-arduino", str(f), "--label", label, "--subject", person, "--out", str(ref_dir)])
            ref = [read_take(q).values for q in list_takes(ref_dir)]
            total_takes += len(ref)
            for shape in SHAPES:
                path = write_shape(shape, ref, label, person, tmp / f"{shape}{n}")
                args = ["import", str(path), "--subject", person, "--out", str(tmp / f"out-{shape}{n}")]
                args += ["--layout", "{subject}/{label}_{n}.csv"] if shape == "per-take" else ["--label", label]
                proc = run(args)
                got = [read_take(q) for q in list_takes(tmp / f"out-{shape}{n}")] if proc.returncode == 0 else []
                if shape == "per-take":
                    got.sort(key=lambda t: t.meta.extra["source_take"])
                same = len(got) == len(ref) and all(
                    len(g.values) == len(r) and np.allclose(g.values, r, atol=1e-3) for g, r in zip(got, ref))
                right[shape] += same
                if not same:
                    why = proc.stderr.strip().splitlines()[-1] if proc.returncode else f"{len(got)} vs {len(ref)} takes"
                    failures.append(f"{person}/{f.name} as {shape}: {why}")
    print(f"| shape | files giving the reference takes (of {len(files)}) | takes |")
    print("|---|---|---|")
    for shape in SHAPES:
        print(f"| {shape} | {right[shape]} | {total_takes if right[shape] == len(files) else '-'} |")
    for line in failures:
        print(f"  differs: {line}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
