"""The dataset directory: ``DATA_DIR/<label>/<take>.csv`` with ``<take>.json`` beside it.

CSV columns are ``t_us`` (device microseconds since the take's first sample) followed by
the six channels in ``CHANNELS`` order, accelerometer in g (gravity included) and
gyroscope in deg/s. The JSON holds the take's metadata (see ``TakeMeta``); a take whose
``flagged`` says why (e.g. too many samples lost) is left out by ``is_usable``. Writing never
overwrites: a new take gets the next free number for its subject and session, and both
files are written to a temporary name first and renamed into place.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from contract.labels import LabelError, label_name
from contract.pipeline import CHANNELS
from contract.resample import DEFAULT_IMU, IMU_SCALES

CSV_HEADER = ("t_us",) + CHANNELS
DATASET_FORMAT = 1
_SAFE = re.compile(r"[^\w.-]+")  # \w: letters and digits of any script, and '_'
_SAFE_BEFORE_UNICODE = re.compile(r"[^A-Za-z0-9_.-]+")  # folder names written before labels kept their letters


class DatasetError(Exception):
    """A dataset file is missing, malformed or would be overwritten."""


@dataclass
class TakeMeta:
    label: str
    rate_hz: float
    subject: str = "unknown"
    session: str = "s1"
    board: str = "unknown"
    imu: str = "unknown"
    source: str = "capture"  # capture | arduino-import | synth
    samples: int = 0
    samples_lost: int = 0
    frames_corrupt: int = 0
    samples_dropped_by_device: int = 0
    complete: bool = True
    take: str = ""
    extra: dict = field(default_factory=dict)
    format: int = DATASET_FORMAT
    flagged: str = ""  # why this take should stay out of training ("" = fine); absent in older files


def unusable_reason(meta: TakeMeta) -> str:
    """Why training leaves this take out by default ('' when it is usable)."""
    if meta.flagged:
        return f"flagged: {meta.flagged}"
    if (meta.extra or {}).get("flagged"):
        return f"flagged: {meta.extra['flagged']}"
    if not meta.complete:
        return "incomplete: the recording was cut short (cable pulled or board reset)"
    return ""


def is_usable(meta: TakeMeta, include_flagged: bool = False) -> bool:
    """Whether training uses this take: not flagged (e.g. too many samples lost) and not cut
    short, unless ``include_flagged`` asks for every take. Every sample in an incomplete take
    is real, but the gesture in it is usually cut off, so it is left out by default."""
    return include_flagged or not unusable_reason(meta)


@dataclass
class Take:
    meta: TakeMeta
    t_us: np.ndarray  # (n,) int64
    values: np.ndarray  # (n, 6) float32, CHANNELS order, g and deg/s
    csv_path: Path


def take_scales(meta: TakeMeta) -> tuple[float, float]:
    """``(accel_g_per_count, gyro_dps_per_count)`` of the IMU that recorded the take: the scales its
    board announced (``capture record`` keeps them in ``extra``), else its chip's
    (``contract.resample.IMU_SCALES``), else the LSM9DS1's (the IMU_Capture sketch's chip). Training
    resamples a take in these counts, as the board resamples its own."""
    extra = meta.extra or {}
    accel, gyro = extra.get("accel_g_per_count"), extra.get("gyro_dps_per_count")
    if accel and gyro and accel > 0 and gyro > 0:
        return float(accel), float(gyro)
    return IMU_SCALES.get(str(meta.imu).upper(), IMU_SCALES[DEFAULT_IMU])


def safe_name(text: str) -> str:
    """The file or folder name for a label, subject or session: its letters and digits of any
    script kept (``Círculo``, ``Adrián``), anything else (spaces, slashes) turned into '_'."""
    cleaned = _SAFE.sub("_", unicodedata.normalize("NFC", str(text))).strip("._")
    if not cleaned:
        raise DatasetError(f"{text!r} cannot be used as a name: use letters, digits, '-', '_' or '.'")
    return cleaned


def in_label_folder(label: str, folder: str) -> bool:
    """Whether a take of ``label`` sits in the folder named for it (also as named before labels kept
    their letters, e.g. ``C_rculo`` for ``Círculo``)."""
    folder = unicodedata.normalize("NFC", folder)
    return folder in (safe_name(label), _SAFE_BEFORE_UNICODE.sub("_", str(label)).strip("._"))


def next_take_name(label_dir: Path, subject: str, session: str) -> str:
    """The first unused ``<subject>-<session>-<NNN>`` in ``label_dir``."""
    stem = f"{safe_name(subject)}-{safe_name(session)}-"
    used = set()
    if label_dir.is_dir():
        for p in label_dir.iterdir():
            if p.name.startswith(stem) and p.suffix in (".csv", ".json"):
                tail = p.stem[len(stem):]
                if tail.isdigit():
                    used.add(int(tail))
    n = 1
    while n in used:
        n += 1
    return f"{stem}{n:03d}"


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    if path.exists():
        tmp.unlink()
        raise DatasetError(f"{path} already exists; refusing to overwrite it")
    os.replace(tmp, path)


def render_csv(t_us: np.ndarray, values: np.ndarray) -> str:
    buf = io.StringIO()
    buf.write(",".join(CSV_HEADER) + "\n")
    for t, row in zip(np.asarray(t_us, dtype=np.int64), np.asarray(values, dtype=np.float64)):
        buf.write(f"{int(t)}," + ",".join(f"{v:.6f}" for v in row) + "\n")
    return buf.getvalue()


def write_take(data_dir: Path | str, meta: TakeMeta, t_us, values) -> Path:
    """Write one take; return the CSV path. ``meta.take`` is chosen if empty."""
    values = np.asarray(values, dtype=np.float64)
    t_us = np.asarray(t_us, dtype=np.int64)
    if values.ndim != 2 or values.shape[1] != len(CHANNELS):
        raise DatasetError(f"a take needs {len(CHANNELS)} channels per sample, got shape {values.shape}")
    if len(t_us) != len(values):
        raise DatasetError("a take needs one timestamp per sample")
    try:
        meta.label = label_name(meta.label)  # as written, in one Unicode form
    except LabelError as e:
        raise DatasetError(str(e)) from None
    meta.subject, meta.session = (unicodedata.normalize("NFC", str(v)) for v in (meta.subject, meta.session))
    label_dir = Path(data_dir) / safe_name(meta.label)
    label_dir.mkdir(parents=True, exist_ok=True)
    if not meta.take:
        meta.take = next_take_name(label_dir, meta.subject, meta.session)
    meta.samples = int(len(values))
    csv_path = label_dir / f"{meta.take}.csv"
    json_path = csv_path.with_suffix(".json")
    if csv_path.exists() or json_path.exists():
        raise DatasetError(f"{csv_path} already exists; refusing to overwrite it")
    _atomic_write(csv_path, render_csv(t_us, values))
    _atomic_write(json_path, json.dumps(asdict(meta), indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return csv_path


def read_meta(json_path: Path) -> TakeMeta:
    try:
        raw = json.loads(Path(json_path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"{json_path}: metadata file is missing (every take needs a .json beside its .csv)") from None
    except json.JSONDecodeError as e:
        raise DatasetError(f"{json_path}:{e.lineno}: not valid JSON ({e.msg})") from None
    known = {k: raw[k] for k in TakeMeta.__dataclass_fields__ if k in raw}
    if "label" not in known or "rate_hz" not in known:
        raise DatasetError(f"{json_path}: metadata needs at least 'label' and 'rate_hz'")
    return TakeMeta(**known)


def read_take(csv_path: Path | str) -> Take:
    """Read one take, naming the file and line of anything malformed."""
    csv_path = Path(csv_path)
    meta = read_meta(csv_path.with_suffix(".json"))
    try:
        text = csv_path.read_text()
    except OSError as e:
        raise DatasetError(f"{csv_path}: cannot read ({e.strerror})") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise DatasetError(f"{csv_path}:1: file is empty; expected header {','.join(CSV_HEADER)}")
    header = tuple(c.strip() for c in rows[0])
    if header != CSV_HEADER:
        raise DatasetError(f"{csv_path}:1: header is {','.join(header)!r}, expected {','.join(CSV_HEADER)!r}")
    t_us = np.empty(len(rows) - 1, dtype=np.int64)
    values = np.empty((len(rows) - 1, len(CHANNELS)), dtype=np.float32)
    for i, row in enumerate(rows[1:]):
        if len(row) != len(CSV_HEADER):
            raise DatasetError(f"{csv_path}:{i + 2}: expected {len(CSV_HEADER)} values, found {len(row)}")
        try:
            t_us[i] = int(row[0])
            values[i] = [float(v) for v in row[1:]]
        except ValueError:
            raise DatasetError(f"{csv_path}:{i + 2}: not a number in {','.join(row)!r}") from None
    return Take(meta=meta, t_us=t_us, values=values, csv_path=csv_path)


def list_takes(data_dir: Path | str) -> list[Path]:
    """Every take CSV under ``data_dir``, sorted by label then name."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DatasetError(f"{data_dir}: no such dataset directory")
    return sorted(p for p in data_dir.glob("*/*.csv") if not p.name.endswith(".part"))
