"""The built-in generator against real recordings: one table of take statistics, real vs synth.

    python bench/bench_synth_vs_real.py [--data DIR] [--subjects 9] [--takes 20] [--labels punch,flex]

``--data`` (default ``../shared/data/real`` when it exists) holds ``PERSON/LABEL.csv`` files as the
IMU_Capture sketch prints them; they are imported with ``python -m capture import-arduino`` into a
temporary dataset. The generator writes ``--subjects`` people with ``--takes`` takes per label.
Per take: the gravity direction at rest (the 10 quietest samples), peak acceleration and rotation
rate, the active span (samples whose motion exceeds a quarter of the take's peak) and its place in
the take, and the sensor noise in the quietest stretch. Per person: medians; the table prints the
median over people and the spread between people.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from capture.dataset import read_take, list_takes  # noqa: E402
from capture.synth import write_dataset  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "real"
QUIET = 10  # samples taken as the rest pose
TAKE_SAMPLES = 119  # IMU_Capture records 119 samples (1 s) per take


def take_stats(values: np.ndarray) -> dict:
    """Statistics of one take: (n, 6) in g and deg/s."""
    accel, gyro = values[:, :3], values[:, 3:]
    gyro_mag = np.linalg.norm(gyro, axis=1)
    quiet = np.argsort(gyro_mag)[:QUIET]
    g_rest = accel[quiet].mean(axis=0)
    motion = gyro_mag / 500.0 + np.linalg.norm(accel - g_rest, axis=1)  # 500 dps ~ 1 g of motion
    active = np.flatnonzero(motion > 0.25 * motion.max())
    start, end = (int(active[0]), int(active[-1])) if len(active) else (0, 0)
    # Noise: sample-to-sample change in the quietest 10-sample stretch.
    k = int(np.argmin([gyro_mag[i:i + QUIET].sum() for i in range(len(values) - QUIET)]))
    return {
        "gravity": g_rest / max(np.linalg.norm(g_rest), 1e-9),
        "accel_peak_g": float(np.linalg.norm(accel, axis=1).max()),
        "gyro_peak_dps": float(gyro_mag.max()),
        "active_samples": end - start + 1,
        "active_start": start,
        "active_centre": (start + end) / 2,
        "gyro_noise_dps": float(np.std(np.diff(gyro[k:k + QUIET], axis=0)) / np.sqrt(2)),
        "accel_noise_g": float(np.std(np.diff(accel[k:k + QUIET], axis=0)) / np.sqrt(2)),
    }


def angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)), -1, 1))))


def board_turn_between_people(label: str, people: dict) -> list[float] | None:
    """Per person, the angle (deg) between their main rotation axis in the board plane (averaged
    over their takes of ``label``) and the people's mean axis: how far their boards are turned
    against each other; training/augment.py turns training windows by as much."""
    from training.augment import _axis_in_plane

    axes = {p: [z for z in (_axis_in_plane(np.asarray(v)[:, 3:6]) for v in vs) if z is not None] for p, vs in people.items()}
    unit = [np.mean(zs) / abs(np.mean(zs)) for zs in axes.values() if zs and abs(np.mean(zs)) > 1e-9]
    if len(unit) < 2:
        return None
    mean = np.mean(unit)
    return [abs(float(np.degrees(np.angle(u / mean)))) / 2 for u in unit]


def summarize(takes) -> dict:
    """{label: {statistic: (median over people, spread between people)}}; takes: (person, label, values)."""
    by, people_values = {}, {}
    for person, label, values in takes:
        by.setdefault(label, {}).setdefault(person, []).append(take_stats(values))
        people_values.setdefault(label, {}).setdefault(person, []).append(values)
    out = {}
    for label, people in sorted(by.items()):
        rows = {}
        person_gravity = {p: np.mean([s["gravity"] for s in ss], axis=0) for p, ss in people.items()}
        overall = np.mean(list(person_gravity.values()), axis=0)
        between = [angle_deg(g, overall) for g in person_gravity.values()]
        within = [angle_deg(s["gravity"], person_gravity[p]) for p, ss in people.items() for s in ss]
        rows["rest gravity, mean direction"] = ("(" + ", ".join(f"{v:+.2f}" for v in overall / np.linalg.norm(overall)) + ")", "")
        rows["rest gravity, person to mean (deg)"] = (f"{np.median(between):.0f}", f"max {np.max(between):.0f}")
        rows["rest gravity, take to person (deg)"] = (f"{np.median(within):.0f}", "")
        turn = board_turn_between_people(label, people_values[label])
        if turn is not None:
            rows["gesture axis in the board plane, person to mean (deg)"] = (f"{np.median(turn):.0f}", f"max {np.max(turn):.0f}")
        for key, fmt in (("accel_peak_g", "{:.2f}"), ("gyro_peak_dps", "{:.0f}"), ("active_samples", "{:.0f}"),
                         ("active_start", "{:.0f}"), ("active_centre", "{:.0f}"), ("gyro_noise_dps", "{:.2f}"),
                         ("accel_noise_g", "{:.4f}")):
            medians = np.array([np.median([s[key] for s in ss]) for ss in people.values()])
            takes_all = np.array([s[key] for ss in people.values() for s in ss])
            spread = f"people {fmt.format(np.min(medians))}-{fmt.format(np.max(medians))}, " \
                     f"takes p10-p90 {fmt.format(np.percentile(takes_all, 10))}-{fmt.format(np.percentile(takes_all, 90))}"
            rows[key] = (fmt.format(np.median(medians)), spread)
        rows["people / takes"] = (f"{len(people)} / {sum(len(v) for v in people.values())}", "")
        out[label] = rows
    return out


def load_dataset_takes(data_dir: Path):
    """(person, label, values) per take; a file without blank lines between takes imports as one long
    take, cut back here into the sketch's 119-sample takes."""
    for path in list_takes(data_dir):
        take = read_take(path)
        n = len(take.values)
        chunks = [take.values[i:i + TAKE_SAMPLES] for i in range(0, n, TAKE_SAMPLES)] if n % TAKE_SAMPLES == 0 \
            else [take.values]
        for values in chunks:
            yield take.meta.subject, take.meta.label, values


def import_real(src: Path, labels: list[str], dest: Path) -> None:
    for person_dir in sorted(p for p in src.iterdir() if p.is_dir()):
        for label in labels:
            csv = person_dir / f"{label}.csv"
            if csv.is_file():
                proc = subprocess.run([sys.executable, "-m", "capture", "import-arduino", str(csv), "--label", label,
                                       "--subject", person_dir.name, "--out", str(dest)],
                                      capture_output=True, text=True, cwd=REPO)
                if proc.returncode != 0:
                    raise SystemExit(f"error: importing {csv} failed: {proc.stderr.strip()[-300:]}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA if DEFAULT_DATA.is_dir() else None,
                   help="real recordings, PERSON/LABEL.csv (default ../shared/data/real when it exists)")
    p.add_argument("--subjects", type=int, default=9, help="simulated people (default 9)")
    p.add_argument("--takes", type=int, default=20, help="simulated takes per label per person (default 20)")
    p.add_argument("--labels", default="punch,flex", help="gestures to compare (default punch,flex)")
    p.add_argument("--odd-mount-share", type=float, default=0.0, metavar="SHARE",
                   help="simulated people wearing the board flipped or turned (default 0, the generator's default; "
                   "0.125 matches the real recordings)")
    p.add_argument("--json", action="store_true", help="print the numbers as JSON instead of a table")
    a = p.parse_args(argv)
    labels = [s.strip() for s in a.labels.split(",") if s.strip()]
    if a.data is None:  # `make bench` on a machine without the recordings: nothing to compare with
        print("skipped: no real recordings at ../shared/data/real; pass --data DIR (PERSON/LABEL.csv)", file=sys.stderr)
        return 0
    if not a.data.is_dir():
        print(f"error: {a.data} is not a directory of real recordings (PERSON/LABEL.csv)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="nanogest-synth-vs-real-") as tmp:
        real_dir, synth_dir = Path(tmp) / "real", Path(tmp) / "synth"
        import_real(a.data, labels, real_dir)
        write_dataset(synth_dir, [f"sim{i + 1}" for i in range(a.subjects)], a.takes, 119.0, labels=labels,
                      odd_mount_share=a.odd_mount_share)
        real, synth = summarize(load_dataset_takes(real_dir)), summarize(load_dataset_takes(synth_dir))
    if a.json:
        print(json.dumps({"real": real, "synth": synth}, indent=2))
        return 0
    for label in labels:
        if label not in real or label not in synth:
            continue
        print(f"\n{label}")
        print("| statistic | real | real spread | synth | synth spread |\n|---|---|---|---|---|")
        for key in real[label]:
            r, s = real[label][key], synth[label][key]
            print(f"| {key} | {r[0]} | {r[1]} | {s[0]} | {s[1]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
