"""Check a dataset directory before training: ``nanogest check DATA_DIR [--json]``.

Every take is read with ``capture.dataset`` and looked at on its own (broken files,
non-finite values, timestamps, length, stuck channels, clipping, units and noise of the
still parts), then the dataset as a whole (sample rates, duplicates, labels). Each
problem is a ``Finding`` (training/check_report.py): an error (training would learn from wrong
data or fail) or a warning (training works, but the user should know). ``training fit``
refuses a dataset with errors unless it is forced.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from capture.dataset import DatasetError, Take, in_label_folder, list_takes, read_take, unusable_reason
from capture.other_motions import missing_note
from capture.show import plot_path
from contract.pipeline import CHANNELS, UNKNOWN_LABEL, WINDOW_SECONDS  # a take shorter than half a window is too short
from training import TrainingError
from training.check_report import ERROR, NOTE, WARNING, CheckReport, Finding, LabelStats, plural  # noqa: F401

ACCEL_RANGE_G = 4.0
GYRO_RANGE_DPS = 2000.0
ACCEL_SATURATION_TOLERANCE_G = 0.01  # LSM9DS1 full scale reads 3.9976 g
GYRO_SATURATION_MIN_DPS = 1995.0
GYRO_SATURATION_MAX_DPS = 2300.0  # the LSM9DS1's 70 mdps/count reaches 2293.7 dps
# Real punches and fast curls clip at ±4 g for a few samples; warn only when a large part
# of the take is clipped (the built-in generator reaches ~12% for some people).
SATURATED_FRACTION_WARN = 0.15
CONSTANT_STD = {"accel": 1e-4, "gyro": 0.01}  # below one count of either IMU
# An accelerometer axis holding one value in most samples while the gyroscope turns fast is not a
# sensor at rest (turning moves every axis): it was stuck or not read.
STUCK_SHARE = 0.8
STUCK_GYRO_DPS = 500.0
STUCK_MIN_SAMPLES = 20
STILL_SECONDS = 0.25  # length of the stretches searched for stillness
STILL_ACCEL_REL_STD = 0.03  # |a| varies by less than 3% of its median ...
STILL_GYRO_STD = 10.0  # ... and no gyroscope channel varies by more than 10 (dps)
STILL_LABELS = ("idle", "still", "rest", "none", "noise")
GRAVITY_RANGE_G = (0.7, 1.3)
MIN_ACCEL_NOISE_G = 0.0005  # real MEMS accelerometers show 1-3 mg of noise at rest
RATE_TOLERANCE = 0.05  # timestamps may deviate 5% from the stated rate
GAP_FRACTION_WARN = 0.05
# A gesture take whose peak rate of turn is below NO_MOTION_GYRO_SHARE of its label's typical peak
# (median of the person's takes of that label, or of the label's when the person has fewer than
# NO_MOTION_MIN_TAKES), and whose acceleration moves less than NO_MOTION_ACCEL_SHARE of the typical,
# holds no gesture (docs/decisions.md, "A gesture take without motion").
NO_MOTION_GYRO_SHARE = 0.15
NO_MOTION_ACCEL_SHARE = 0.5
NO_MOTION_MIN_TAKES = 3
IMBALANCE_RATIO = 3.0
MIN_TAKES_PER_LABEL = 2
MIN_LABELS = 2


class _Collector:
    """Findings about one take, with its path and label filled in."""

    def __init__(self, out: list[Finding], take: Take):
        self.out, self.take = out, take

    def __call__(self, severity: str, code: str, message: str, line: int | None = None) -> None:
        self.out.append(Finding(severity, code, message, str(self.take.csv_path), self.take.meta.label, line))


def _still_mask(values: np.ndarray, rate_hz: float, saturated: np.ndarray) -> np.ndarray:
    """Samples inside stretches where the sensor hardly moves (judged without assuming units).

    A stretch with a clipped sample is never still: a plateau at the range is not rest."""
    n = len(values)
    w = max(8, int(round(STILL_SECONDS * rate_hz)))
    mask = np.zeros(n, dtype=bool)
    if n < w:
        return mask
    magnitude = np.linalg.norm(values[:, :3], axis=1)
    for start in range(0, n - w + 1, max(1, w // 2)):
        seg = slice(start, start + w)
        m = magnitude[seg]
        if saturated[seg].any():
            continue
        if m.std() <= STILL_ACCEL_REL_STD * max(float(np.median(m)), 1e-9) and values[seg, 3:].std(axis=0).max() <= STILL_GYRO_STD:
            mask[seg] = True
    return mask


def _units_hint(gravity_g: float) -> str:
    if 7.0 <= gravity_g <= 12.5:
        return "it looks like m/s^2: divide the accelerometer columns by 9.80665"
    if gravity_g > 100.0:
        return ("it looks like raw counts: multiply by the IMU's scale (LSM9DS1 ±4 g: 0.000122 g per count, "
                "BMI270 ±4 g: 1/8192 g per count), or import the file again with 'nanogest import FILE "
                "--board rev1' (or rev2), which does")
    if gravity_g < GRAVITY_RANGE_G[0]:
        return "gravity seems to be missing (linear acceleration?) or the scale is wrong; the columns must be in g including gravity"
    return "the accelerometer scale is wrong; the columns must be in g including gravity"


def _check_samples(take: Take, add: _Collector, rate_hz: float) -> int:
    """Checks that look at one take's values; returns its number of saturated samples."""
    values = np.asarray(take.values, dtype=np.float64)
    finite = np.isfinite(values).all(axis=1)
    if not finite.all():
        first = int(np.argmin(finite)) + 2
        add(ERROR, "non_finite", f"{int((~finite).sum())} samples hold NaN or infinite values (first on line {first}); "
            "delete the take or record it again", line=first)
        values = values[finite]
    if len(values) < 2:
        return 0
    stuck = [name for c, name in enumerate(CHANNELS)
             if values[:, c].std() < CONSTANT_STD["accel" if c < 3 else "gyro"]]
    gyro_peak = float(np.abs(values[:, 3:]).max())
    turning = f" while the gyroscope reaches ±{gyro_peak:.0f} deg/s" if gyro_peak >= STUCK_GYRO_DPS else ""
    if stuck:
        at = ", ".join(f"{name}={values[0, CHANNELS.index(name)]:g}" for name in stuck)
        add(ERROR, "constant_channel", f"channel{'s' if len(stuck) > 1 else ''} {', '.join(stuck)} never change ({at})"
            f"{turning if any(n in CHANNELS[:3] for n in stuck) else ''}: the sensor was stuck or not read; record the take again")
    if turning and len(values) >= STUCK_MIN_SAMPLES:
        for c, name in enumerate(CHANNELS[:3]):
            if name in stuck:
                continue
            held, share = _modal_share(values[:, c])
            if share >= STUCK_SHARE:
                stuck.append(name)
                add(ERROR, "accel_axis_stuck", f"{name} holds {held:g} in {100 * share:.0f}% of the samples{turning}: "
                    "a board turning that fast moves every accelerometer axis, so the accelerometer was stuck or not "
                    "read (a corrupted recording); delete the take or record it again")
    accel, gyro = np.abs(values[:, :3]), np.abs(values[:, 3:])
    saturated = ((np.abs(accel - ACCEL_RANGE_G) <= ACCEL_SATURATION_TOLERANCE_G).any(axis=1)
                 | ((gyro >= GYRO_SATURATION_MIN_DPS) & (gyro <= GYRO_SATURATION_MAX_DPS)).any(axis=1))
    n_saturated = int(saturated.sum())
    if n_saturated > SATURATED_FRACTION_WARN * len(values):
        add(WARNING, "saturated", f"{100.0 * n_saturated / len(values):.0f}% of the samples are at the sensor's range "
            f"(±{ACCEL_RANGE_G:g} g / ±{GYRO_RANGE_DPS:g} dps): the gesture was clipped; perform it a little gentler")
    units_error = _check_still(values, saturated, add, rate_hz, still_label=take.meta.label.lower() in STILL_LABELS,
                               accel_stuck=any(name in stuck for name in CHANNELS[:3]))
    beyond = []
    if not units_error and (accel > ACCEL_RANGE_G + ACCEL_SATURATION_TOLERANCE_G).any():
        beyond.append(f"accelerometer up to {accel.max():.4g} (range ±{ACCEL_RANGE_G:g} g)")
    if (gyro > GYRO_SATURATION_MAX_DPS).any():
        beyond.append(f"gyroscope up to {gyro.max():.4g} (range ±{GYRO_RANGE_DPS:g} dps)")
    if beyond:
        add(WARNING, "beyond_range", f"values beyond the sensor's range: {'; '.join(beyond)}; check the units "
            "(g and deg/s) and the range setting")
    return n_saturated


def _modal_share(column: np.ndarray) -> tuple[float, float]:
    """The most frequent value of a channel and the share of samples holding it."""
    held, counts = np.unique(np.round(column, 4), return_counts=True)
    i = int(np.argmax(counts))
    return float(held[i]), float(counts[i]) / len(column)


def _check_still(values: np.ndarray, saturated: np.ndarray, add: _Collector, rate_hz: float, still_label: bool, accel_stuck: bool) -> bool:
    """Gravity and noise where the sensor is still; True if the units are wrong."""
    mask = _still_mask(values, rate_hz, saturated)
    if not mask.any():
        if not still_label:
            return False
        mask[:] = True  # an idle take without a quiet stretch: judge the whole take
    still = values[mask, :3]
    gravity_g = float(np.median(np.linalg.norm(still, axis=1)))
    low, high = GRAVITY_RANGE_G
    if not low <= gravity_g <= high:
        add(ERROR, "accel_units", f"the accelerometer reads {gravity_g:.3g} at rest instead of about 1 g: {_units_hint(gravity_g)}")
        return True
    if accel_stuck or len(still) < 8:
        return False
    # Sample-to-sample differences ignore slow drift; /sqrt(2) turns them into the noise std.
    noise_g = float(np.median(np.diff(still, axis=0).std(axis=0)) / np.sqrt(2.0))
    if noise_g < MIN_ACCEL_NOISE_G:
        add(WARNING, "accel_too_clean", f"accelerometer noise at rest is {noise_g * 1000:.3f} mg, far below a real MEMS "
            f"sensor (1-3 mg): this looks like synthetic or flattened data, which trains a model that fails on the board")
    return False


def _check_timing(take: Take, add: _Collector) -> bool:
    """Stated rate and timestamps; False if the rate is unusable."""
    rate_hz = float(take.meta.rate_hz or 0)
    if not (np.isfinite(rate_hz) and rate_hz > 0):
        add(ERROR, "bad_rate", f"rate_hz in {take.csv_path.with_suffix('.json').name} is {take.meta.rate_hz!r}; "
            "it must be the positive sample rate in Hz")
        return False
    n = len(take.values)
    if n < WINDOW_SECONDS * rate_hz / 2:
        add(WARNING, "short_take", f"only {n} samples ({n / rate_hz:.2f} s), less than half a {WINDOW_SECONDS:g} s window: "
            "it will be padded; record longer takes")
    if n < 2:
        return True
    steps = np.diff(np.asarray(take.t_us, dtype=np.int64))
    if (steps <= 0).any():
        line = int(np.argmax(steps <= 0)) + 3  # header, first row, the row that goes back
        add(ERROR, "t_us_not_increasing", f"t_us does not increase at line {line}: the take's clock is broken; "
            "record it again", line=line)
        return True
    nominal_us = 1e6 / rate_hz
    median_us = float(np.median(steps))
    if abs(median_us / nominal_us - 1.0) > RATE_TOLERANCE:
        add(WARNING, "t_us_rate_mismatch", f"timestamps step {median_us:.0f} us ({1e6 / median_us:.1f} Hz) but the "
            f"take says {rate_hz:g} Hz; fix rate_hz in its .json or the device's clock")
        return True
    missing = int(np.maximum(np.round(steps / median_us) - 1, 0).sum())
    if missing > GAP_FRACTION_WARN * n:
        add(WARNING, "t_us_gaps", f"timestamps have gaps worth about {missing} samples ({100.0 * missing / n:.0f}%); "
            "they will be interpolated; check the USB link or record again")
    return True


def _read_all(data_dir: Path, findings: list[Finding]) -> tuple[list[Take], int]:
    try:
        paths = list_takes(data_dir)
    except DatasetError as e:
        raise TrainingError(str(e)) from None
    takes = []
    for path in paths:
        try:
            takes.append(read_take(path))
        except DatasetError as e:
            m = re.match(r"^.*?:(\d+): ", str(e))
            findings.append(Finding(ERROR, "malformed_take", f"{e}; fix or delete the file", str(path),
                                    path.parent.name, int(m.group(1)) if m else None))
    return takes, len(paths)


def _dataset_rate(takes: list[Take]) -> float | None:
    """The most common rate (ties: the higher), as training picks it."""
    counts = Counter(round(float(t.meta.rate_hz), 3) for t in takes if float(t.meta.rate_hz or 0) > 0)
    return max(counts, key=lambda r: (counts[r], r)) if counts else None


def check_dataset(data_dir, expected_rate_hz: float | None = None) -> CheckReport:
    """Check every take under ``data_dir``; ``TrainingError`` only if it cannot be read at all."""
    data_dir = Path(data_dir)
    findings: list[Finding] = []
    takes, n_files = _read_all(data_dir, findings)
    labels: dict[str, LabelStats] = {}
    usable: list[Take] = []
    for take in takes:
        add = _Collector(findings, take)
        stats = labels.setdefault(take.meta.label, LabelStats())
        if not in_label_folder(take.meta.label, take.csv_path.parent.name):
            add(WARNING, "label_mismatch", f"the take's .json says label {take.meta.label!r} but it sits in folder "
                f"{take.csv_path.parent.name!r}; training uses the .json label")
        why = unusable_reason(take.meta)
        if why:
            add(WARNING, "incomplete_take", f"{why}; it is excluded from training (fit --include-flagged uses it)")
            stats.excluded += 1
            continue
        if len(take.values) == 0:
            add(ERROR, "empty_take", "the take has no samples; delete it (and its .json) or record it again")
            continue
        usable.append(take)
        stats.takes += 1
        stats.samples += len(take.values)
        if _check_timing(take, add):
            stats.rates_hz.append(float(take.meta.rate_hz))
            stats.seconds += len(take.values) / float(take.meta.rate_hz)
            stats.saturated_samples += _check_samples(take, add, float(take.meta.rate_hz))
    rate_hz = float(expected_rate_hz) if expected_rate_hz else _dataset_rate(usable)
    _check_dataset_level(usable, labels, rate_hz, findings, data_dir)
    plots = {label: str(plot_path(data_dir, label)) for label in sorted(labels)}
    return CheckReport(str(data_dir), rate_hz, n_files, findings, labels, plots)


def _check_dataset_level(takes: list[Take], labels: dict[str, LabelStats], rate_hz: float | None,
                         findings: list[Finding], data_dir: Path) -> None:
    seen: dict[str, Take] = {}
    for take in takes:
        add = _Collector(findings, take)
        take_rate = float(take.meta.rate_hz or 0)
        if rate_hz and take_rate > 0 and abs(take_rate - rate_hz) > 1e-3:
            add(WARNING, "rate_mismatch", f"recorded at {take_rate:g} Hz but the dataset's rate is {rate_hz:g} Hz: "
                "it will be resampled")
        digest = hashlib.sha1(np.ascontiguousarray(take.values, dtype=np.float32).tobytes()).hexdigest()
        if digest in seen:
            first = seen[digest]
            add(ERROR, "duplicate_take", f"same samples as {first.csv_path} (label {first.meta.label!r}): "
                "a copied file; delete one of them")
        else:
            seen[digest] = take
    _check_motion(takes, findings)
    counts = {label: s.takes for label, s in labels.items()}
    if not takes:
        findings.append(Finding(ERROR, "no_takes", "no usable takes found (expected DATA_DIR/<label>/<take>.csv); "
                                "record some with 'nanogest record'"))
        return
    for label, n in sorted(counts.items()):
        if n == 0:
            findings.append(Finding(WARNING, "no_usable_takes", f"label {label!r} has no usable takes: "
                                    "it will not be trained", label=label))
        elif n < MIN_TAKES_PER_LABEL:
            findings.append(Finding(ERROR, "too_few_takes", f"label {label!r} has {plural(n, 'usable take')}; "
                                    f"record at least {MIN_TAKES_PER_LABEL} so it can be trained and tested", label=label))
    present = {label: n for label, n in counts.items() if n > 0}
    if present and UNKNOWN_LABEL not in present:
        findings.append(Finding(NOTE, "no_other_motions", f"{missing_note(data_dir)}; check the result with "
                                "'nanogest stream RUN_DIR DATA_DIR'"))
    if len(present) < MIN_LABELS:
        only = ", ".join(sorted(present)) or "none"
        findings.append(Finding(ERROR, "too_few_labels", f"the dataset has {plural(len(present), 'label')} ({only}); "
                                f"record at least {MIN_LABELS} gestures to train a classifier"))
    elif max(present.values()) > IMBALANCE_RATIO * min(present.values()):
        most = max(present, key=present.get)
        least = min(present, key=present.get)
        findings.append(Finding(WARNING, "label_imbalance", f"label {most!r} has {present[most]} takes but {least!r} "
                                f"only {present[least]} (more than {IMBALANCE_RATIO:g}x): record more {least!r}"))


def _motion(values: np.ndarray) -> tuple[float, float]:
    """A take's peak rate of turn (norm of the gyroscope) and how far its acceleration's norm moves
    from its median."""
    values = values[np.isfinite(values).all(axis=1)]
    if len(values) == 0:
        return 0.0, 0.0
    accel = np.linalg.norm(values[:, :3], axis=1)
    return float(np.linalg.norm(values[:, 3:], axis=1).max()), float(np.abs(accel - np.median(accel)).max())


def _check_motion(takes: list[Take], findings: list[Finding]) -> None:
    """Warn about a gesture take with far less motion than its label's others (``no_motion``)."""
    # other motions (UNKNOWN_LABEL) are many motions under one label: a small one is no missing gesture
    gestures = [t for t in takes if t.meta.label.lower() not in STILL_LABELS and t.meta.label != UNKNOWN_LABEL]
    motion = {id(t): _motion(np.asarray(t.values, dtype=np.float64)) for t in gestures}
    groups: dict[tuple, list] = {}  # (label, subject) and (label, None): the takes' motions
    for t in gestures:
        groups.setdefault((t.meta.label, t.meta.subject), []).append(motion[id(t)])
        groups.setdefault((t.meta.label, None), []).append(motion[id(t)])
    typical = {key: tuple(np.median(np.array(ms), axis=0)) for key, ms in groups.items() if len(ms) >= NO_MOTION_MIN_TAKES}
    for t in gestures:
        own = (t.meta.label, t.meta.subject)
        key = own if own in typical else (t.meta.label, None)
        if key not in typical:
            continue
        gyro, accel = motion[id(t)]
        typical_gyro, typical_accel = (float(v) for v in typical[key])
        if gyro < NO_MOTION_GYRO_SHARE * typical_gyro and accel < NO_MOTION_ACCEL_SHARE * typical_accel:
            whose = f"{t.meta.subject}'s" if key == own and t.meta.subject else "the label's"
            _Collector(findings, t)(WARNING, "no_motion",
                f"the take turns at most {gyro:.0f} deg/s where {whose} other {t.meta.label!r} takes reach about "
                f"{typical_gyro:.0f}, and its acceleration hardly moves: it seems to hold no gesture (recorded "
                "too late or not performed); look at it in the label's plot, then delete it or record it again")


def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("data_dir", type=Path, metavar="DATA_DIR", help="dataset directory (DATA_DIR/<label>/<take>.csv + .json)")
    p.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    p.add_argument("--rate-hz", type=float, default=None,
                   help="the rate the dataset should have (default: the most common rate among its takes)")
    return p


CHECK_DESCRIPTION = (
    "Check a dataset before training: broken files, NaN, timestamps, short takes, stuck channels, clipping, gesture takes without motion, "
    "wrong units (m/s^2, raw counts), too-clean synthetic data, mixed rates, duplicate takes and label counts. "
    "Prints a table per label and the findings per take on stdout. Exit status: 0 no errors (warnings allowed), "
    "1 errors found, 2 DATA_DIR unusable.")


def run_check(args: argparse.Namespace) -> int:
    try:
        report = check_dataset(args.data_dir, expected_rate_hz=args.rate_hz)
    except TrainingError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: {e.filename or args.data_dir}: {e.strerror or e}; check the path and its permissions", file=sys.stderr)
        return 2
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.render())
    return 0 if report.ok else 1


def main_check(argv=None) -> int:
    """``nanogest check DATA_DIR [--json] [--rate-hz HZ]``; returns the exit status."""
    p = argparse.ArgumentParser(prog="python -m training check", description=CHECK_DESCRIPTION)
    return run_check(add_arguments(p).parse_args(argv))


if __name__ == "__main__":
    sys.exit(main_check())
