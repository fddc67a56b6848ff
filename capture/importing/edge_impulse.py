"""Edge Impulse's data acquisition format, in and out.

In: a JSON sample (``{"protected": ..., "signature": ..., "payload": {"interval_ms", "sensors":
[{"name", "units"}], "values": [[...], ...]}}``) is one take; its sensor names are matched by
``capture.importing.columns`` (``accX``, ``gyrX``, ...) and its units read from ``sensors[].units``
(``m/s2``, ``dps``, ``rad/s``, ``g``). Edge Impulse's CSV (``timestamp`` in ms, then the sensor
columns) is read by the generic reader. Edge Impulse names files ``<label>.<id>.<ext>``, so
without ``--label`` the label is the name before the first dot.

Out: ``nanogest export-ei DATA_DIR --out DIR`` writes one unsigned sample (``alg``
``none``) per take as ``<label>.<take>.json`` (or ``.csv``), accelerometer in m/s2 and
gyroscope in deg/s, ready for Edge Impulse's uploader; importing that folder back with
``--layout '{label}.{subject}-{session}-{n}.json'`` gives the same takes.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import numpy as np

from capture.dataset import is_usable, list_takes, read_take, safe_name
from capture.errors import CaptureError
from capture.importing import columns as C
from capture.importing.takes import FoundTake

EI_SENSORS = (("accX", "m/s2"), ("accY", "m/s2"), ("accZ", "m/s2"), ("gyrX", "dps"), ("gyrY", "dps"), ("gyrZ", "dps"))
EI_EXAMPLE = '{"payload": {"interval_ms": 10, "sensors": [{"name": "accX", "units": "m/s2"}, ...], "values": [[...]]}}'


def read_ei_json(path: Path, raw: bytes):
    """One take from an Edge Impulse JSON sample, in the importer's ``read_file`` shape."""
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CaptureError(f"{path}: not valid JSON ({e}); expected an Edge Impulse sample like {EI_EXAMPLE}") from None
    payload = doc.get("payload") if isinstance(doc, dict) else None
    if not isinstance(payload, dict) or "values" not in payload or "sensors" not in payload:
        keys = ", ".join(sorted(doc)[:6]) if isinstance(doc, dict) else type(doc).__name__
        raise CaptureError(f"{path}: expected an Edge Impulse sample with payload.sensors and payload.values "
                           f"({EI_EXAMPLE}), found {keys}")
    names = [str(s.get("name", "")) for s in payload["sensors"]]
    roles = C.map_header(names)
    if not roles:
        raise CaptureError(f"{path}: the sensors are {', '.join(names)}; expected an accelerometer and a gyroscope "
                           "on three axes each (accX..accZ, gyrX..gyrZ)")
    values = np.asarray(payload["values"], dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != len(names):
        raise CaptureError(f"{path}: payload.values must be rows of {len(names)} numbers, one per sensor")
    interval_ms = float(payload.get("interval_ms") or 0)
    if not interval_ms > 0:
        raise CaptureError(f"{path}: payload.interval_ms is {payload.get('interval_ms')!r}; expected the sample "
                           "interval in milliseconds")
    cols = [roles[k][0] for k in C.CHANNEL_KEYS]
    finite = np.isfinite(values[:, cols]).all(axis=1)
    ignored = [(int(i) + 1, "not a finite number (nan/inf)") for i in np.flatnonzero(~finite)]
    units = {}
    for kind, key in (("accel", "ax"), ("gyro", "gx")):
        unit = str(payload["sensors"][roles[key][0]].get("units", ""))
        units[kind] = C.unit_word(unit)
    rows = values[finite][:, cols]
    t_us = np.round(np.arange(len(rows)) * interval_ms * 1000.0).astype(np.int64)
    take = FoundTake(lines=np.flatnonzero(finite) + 1, values=rows, t_us=t_us, starts_at="one sample per file")
    rate = 1000.0 / interval_ms
    rate = float(round(rate)) if abs(rate - round(rate)) < 0.01 * rate else round(rate, 1)
    notes = [f"Edge Impulse sample from {payload.get('device_type', 'an unnamed device')}, interval {interval_ms:g} ms"]
    return ([take] if len(rows) else []), units, rate, notes, ignored, Counter({"one sample per file": 1})


def export_dataset(data_dir: Path | str, out_dir: Path | str, fmt: str = "json", label: str | None = None,
                   include_flagged: bool = False) -> dict:
    """Write every usable take of ``data_dir`` as an Edge Impulse sample; never overwrites."""
    if fmt not in ("json", "csv"):
        raise CaptureError(f"--format {fmt!r} is not json or csv")
    out_dir = Path(out_dir)
    takes = [read_take(p) for p in list_takes(data_dir)]
    if label:
        takes = [t for t in takes if t.meta.label == label]
    takes = [t for t in takes if is_usable(t.meta, include_flagged)]
    if not takes:
        raise CaptureError(f"{data_dir}: no usable takes to export" + (f" with label {label!r}" if label else ""))
    out_dir.mkdir(parents=True, exist_ok=True)
    scale = np.array([C.STANDARD_GRAVITY] * 3 + [1.0] * 3)
    written = []
    for take in takes:
        path = out_dir / f"{safe_name(take.meta.label)}.{take.meta.take or take.csv_path.stem}.{fmt}"
        if path.exists():
            raise CaptureError(f"{path} already exists; export into an empty folder")
        values = np.asarray(take.values, dtype=np.float64) * scale
        if fmt == "json":
            interval_ms = 1000.0 / float(take.meta.rate_hz)
            doc = {"protected": {"ver": "v1", "alg": "none", "iat": int(time.time())}, "signature": "0" * 64,
                   "payload": {"device_type": take.meta.board if take.meta.board != "unknown" else "NANO33BLE",
                               "interval_ms": interval_ms,
                               "sensors": [{"name": n, "units": u} for n, u in EI_SENSORS],
                               "values": [[round(float(v), 6) for v in row] for row in values]}}
            path.write_text(json.dumps(doc) + "\n")
        else:
            t_ms = np.asarray(take.t_us, dtype=np.float64) / 1000.0
            lines = ["timestamp," + ",".join(n for n, _ in EI_SENSORS)]
            lines += [f"{t:.3f}," + ",".join(f"{v:.6f}" for v in row) for t, row in zip(t_ms, values)]
            path.write_text("\n".join(lines) + "\n")
        written.append(str(path))
    return {"takes": len(written), "out": str(out_dir), "format": fmt, "files": written}
