"""What the columns of someone else's recording mean: header aliases, units, boards and axes.

A header cell is reduced to lower-case letters and digits with any unit in brackets or as a
suffix taken off (``AccX [m/s^2]`` -> ``accx`` with unit ``m/s2``), then looked up in
``ALIASES``: ``aX``, ``ax``, ``acc_x``, ``AccX``, ``accelerometerX``, ``accel_x_g`` all name
the accelerometer's x axis; ``gX``, ``gyr_x``, ``gyroX``, ``gyroscope_x``, ``rot_x`` the
gyroscope's. Time columns (``timestamp``, ``time_ms``, ``millis``, ``t_us``, ...) and label or
subject columns are recognised the same way.

Units are taken from the header when it names them, else guessed from the values (the
accelerometer's median magnitude is gravity: about 1 in g, 9.8 in m/s^2, 1000 in mg; a
gyroscope that never passes 20 while the accelerometer moves is in rad/s), and can always
be overridden. The dataset stores g and deg/s (``capture.dataset``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from capture.errors import CaptureError
from capture.wire import protocol_spec as spec
from contract.pipeline import CHANNELS
from contract.resample import IMU_RATES_MHZ, IMU_SCALES

IMU_CAPTURE_SAMPLES = 119  # the IMU_Capture sketch's numSamples: rows per take, on the Rev2 (100 Hz) too
STANDARD_GRAVITY = 9.80665
ACCEL_UNITS = {"g": 1.0, "ms2": 1.0 / STANDARD_GRAVITY, "mg": 0.001, "counts": None}  # factor to g (counts: the board's)
GYRO_UNITS = {"dps": 1.0, "rads": 180.0 / np.pi, "mdps": 0.001, "counts": None}  # factor to deg/s
TIME_UNITS = {"s": 1e6, "ms": 1e3, "us": 1.0}  # factor to microseconds

_AXIS_WORDS = {
    "accel": ("a", "ac", "acc", "accel", "accl", "accelerometer", "acceleration", "imuacc", "imuaccel", "rawacc"),
    "gyro": ("g", "gy", "gyr", "gyro", "gyroscope", "rot", "rotation", "angularvelocity", "angvel", "imugyro", "w",
             "rawgyro"),
}
ALIASES: dict[str, str] = {}
for _kind, _words in _AXIS_WORDS.items():
    for _word in _words:
        for _axis in "xyz":
            ALIASES[_word + _axis] = _kind[0] + _axis
            if len(_word) > 2:
                ALIASES[_axis + _word] = _kind[0] + _axis  # x_acc, xgyro
ALIASES.update({
    "t": "time", "time": "time", "timestamp": "time", "ts": "time", "millis": "time", "micros": "time",
    "elapsed": "time", "seconds": "time",
    "label": "label", "class": "label", "gesture": "label", "activity": "label", "target": "label",
    "subject": "subject", "person": "subject", "user": "subject", "participant": "subject",
})
CHANNEL_KEYS = ("ax", "ay", "az", "gx", "gy", "gz")  # CHANNELS order, as ALIASES names them
assert len(CHANNEL_KEYS) == len(CHANNELS)

# Unit words people put in headers, and the unit they mean.
_UNIT_WORDS = {
    "g": "g", "gs": "g", "mg": "mg", "ms2": "ms2", "mss": "ms2", "mps2": "ms2", "ms^2": "ms2",
    "dps": "dps", "degs": "dps", "deg": "dps", "degps": "dps", "mdps": "mdps", "rads": "rads", "radps": "rads",
    "rad": "rads", "ms": "ms", "us": "us", "s": "s", "sec": "s",
}
_IMPLIED_UNIT = {"millis": "ms", "micros": "us", "seconds": "s"}
_BRACKET = re.compile(r"[\(\[\{](.*?)[\)\]\}]")


@dataclass(frozen=True)
class Column:
    role: str  # ax..gz, time, label, subject, or "" (not used)
    unit: str = ""  # from the header, "" when it names none


def unit_word(text: str) -> str:
    """The unit a word names (``m/s2`` -> ms2, ``deg/s`` -> dps), '' if none."""
    return _UNIT_WORDS.get(_squash(text.replace("^", "")), "")


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def parse_header_cell(cell: str) -> Column:
    """What one header cell names, with the unit it states (if any)."""
    text = cell.strip().strip("\"'").strip()
    unit = ""
    bracket = _BRACKET.search(text)
    if bracket:
        unit = _UNIT_WORDS.get(_squash(bracket.group(1).replace("^", "").replace("/", "")), "")
        text = _BRACKET.sub("", text)
    key = _squash(text)
    # a unit as the last word: accel_x_g, gyro_x_dps, ax_ms2, time_ms, timestamp_us
    parts = [p for p in re.split(r"[^a-z0-9^]+", text.lower()) if p]
    if len(parts) >= 2 and _UNIT_WORDS.get(parts[-1].replace("^", "")):
        stem = _squash("".join(parts[:-1]))
        if stem in ALIASES:
            return Column(ALIASES[stem], unit or _UNIT_WORDS[parts[-1].replace("^", "")])
    if key in ALIASES:
        return Column(ALIASES[key], unit or _IMPLIED_UNIT.get(key, ""))
    for suffix in ("ms", "us"):  # timems, tus, timestampus
        if key.endswith(suffix) and ALIASES.get(key[:-2]) == "time":
            return Column("time", suffix)
    return Column("")


def map_header(cells: list[str]) -> dict[str, tuple[int, str]] | None:
    """``role -> (column index, unit)`` if the cells name all six channels, else None."""
    found: dict[str, tuple[int, str]] = {}
    for i, cell in enumerate(cells):
        col = parse_header_cell(cell)
        if col.role and col.role not in found:
            found[col.role] = (i, col.unit)
    return found if all(k in found for k in CHANNEL_KEYS) else None


def parse_columns_option(text: str) -> list[str]:
    """``--columns t,ax,ay,az,gx,gy,gz``: the role of each column of a file without a header."""
    roles = []
    for name in text.split(","):
        name = name.strip()
        col = parse_header_cell(name)
        if not col.role and name not in ("", "-", "skip"):
            raise CaptureError(f"--columns: {name!r} is not a column name; use ax,ay,az,gx,gy,gz, t and '-' to skip")
        roles.append(col.role)
    if not all(k in roles for k in CHANNEL_KEYS):
        raise CaptureError(f"--columns {text!r} must name all six channels (ax,ay,az,gx,gy,gz)")
    return roles


# -- units ------------------------------------------------------------------------------

def guess_accel_unit(accel: np.ndarray) -> tuple[str, str]:
    """(unit, why) from the median magnitude of the accelerometer (gravity at rest)."""
    gravity = float(np.median(np.linalg.norm(accel, axis=1))) if len(accel) else 0.0
    for unit, low, high in (("g", 0.5, 4.9), ("ms2", 4.9, 20.0), ("mg", 500.0, 2000.0), ("counts", 4000.0, 20000.0)):
        if low <= gravity <= high:
            return unit, f"median |a| {gravity:.4g}"
    raise CaptureError(f"cannot tell the accelerometer's units: its median magnitude is {gravity:.4g}, expected "
                       "about 1 (g), 9.8 (m/s^2), 1000 (mg) or 8192 (raw counts at ±4 g) with gravity included; "
                       "pass --accel-units")


def guess_gyro_unit(gyro: np.ndarray, accel_g: np.ndarray) -> tuple[str, str]:
    """(unit, why): rad/s when the gyroscope stays small while the accelerometer moves."""
    if not len(gyro):
        return "dps", "no rows"
    p99 = float(np.percentile(np.abs(gyro), 99))
    moving = float(np.std(np.linalg.norm(accel_g, axis=1)))
    if p99 > 5000:
        return "mdps", f"99th percentile |gyro| {p99:.4g}, beyond any deg/s range"
    if p99 < 20.0 and moving > 0.1:
        return "rads", f"99th percentile |gyro| {p99:.3g} while |a| varies by {moving:.2f} g"
    return "dps", f"99th percentile |gyro| {p99:.4g}"


def check_unit(name: str, unit: str, table: dict) -> str:
    key = _UNIT_WORDS.get(_squash(unit.replace("^", "")), unit)
    if key not in table:
        raise CaptureError(f"--{name}-units {unit!r} is not one of {', '.join(table)}")
    return key


# -- boards and axes --------------------------------------------------------------------

@dataclass(frozen=True)
class Board:
    name: str  # TakeMeta.board
    imu: str
    rate_hz: float  # the IMU_Capture sketch's rate on that board
    accel_g_per_count: float  # raw counts at ±4 g
    gyro_dps_per_count: float  # raw counts at ±2000 dps
    counts_on_chip_axes: bool  # raw counts come on the chip's own axes, not the library's


# Rates and LSM9DS1 scales as the firmware runs them (contract/resample.py). Raw BMI270 counts are what
# Arduino_BMI270_BMM150 returned before 1.1.0 (February 2023), on the chip's axes; 1.1.0 and later
# return g and deg/s (count / 8192, count / 16.384) on the board's axes.
BOARDS = {
    "rev1": Board(spec.BOARD_NAMES[spec.BOARD_REV1], spec.IMU_NAMES[spec.IMU_LSM9DS1], IMU_RATES_MHZ["LSM9DS1"] / 1000,
                  *IMU_SCALES["LSM9DS1"], False),
    "rev2": Board(spec.BOARD_NAMES[spec.BOARD_REV2], spec.IMU_NAMES[spec.IMU_BMI270], IMU_RATES_MHZ["BMI270"] / 1000,
                  1.0 / 8192.0, 1.0 / 16.384, True),
}
# The BMI270's own axes, turned as Arduino_BMI270_BMM150 turns them on the Rev2 (x = -y_chip,
# y = -x_chip), which is what the firmware and IMU_Capture record on that board.
AXES_PRESETS = {"board": "x,y,z", "bmi270-chip": "-y,-x,z"}


def parse_axes(text: str) -> tuple[tuple[int, float], ...]:
    """``--axes -y,-x,z``: for each output axis, (source axis index, sign); applied to both sensors."""
    text = AXES_PRESETS.get(text, text)
    out = []
    for part in text.split(","):
        part = part.strip().lower()
        sign = -1.0 if part.startswith("-") else 1.0
        axis = part.lstrip("+-")
        if axis not in ("x", "y", "z"):
            raise CaptureError(f"--axes {text!r}: each of the three entries must be x, y or z with an optional '-' "
                               f"(e.g. -y,-x,z), or one of {', '.join(AXES_PRESETS)}")
        out.append(("xyz".index(axis), sign))
    if len(out) != 3 or sorted(a for a, _ in out) != [0, 1, 2]:
        raise CaptureError(f"--axes {text!r} must name x, y and z once each (e.g. -y,-x,z)")
    return tuple(out)


def apply_axes(values: np.ndarray, axes: tuple[tuple[int, float], ...]) -> np.ndarray:
    """The six channels with the accelerometer and gyroscope axes remapped alike."""
    out = np.empty_like(values)
    for dst, (src, sign) in enumerate(axes):
        out[:, dst] = sign * values[:, src]
        out[:, 3 + dst] = sign * values[:, 3 + src]
    return out
