"""``python -m capture import PATH... --out DATA_DIR``: recordings in whatever shape they come.

Each file is read by ``capture.importing.table_reader`` (or ``capture.importing.edge_impulse`` for Edge Impulse
JSON), cut into takes by ``capture.importing.takes``, converted to g and deg/s (``capture.importing.columns``),
and written with ``capture.dataset.write_take``, which never overwrites: new takes get the
next free number, and a file already imported into DATA_DIR (same bytes) is skipped unless
``again``. Label and subject come from the options, else from ``layout`` (a path pattern
such as ``{subject}/{label}_{n}.csv``), else from a label/subject column, else the label is
the file name (``punch_03.csv`` and ``punch.abc.json`` are ``punch``).

Every file gets a report on stderr: rows used, lines ignored and why (each with its line
number), takes found and what started them, the rate and where it came from, the units and
why. A file that cannot be understood gets one ``error:`` sentence and the others go on.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from capture.dataset import DatasetError, TakeMeta, list_takes, read_meta, write_take
from capture.errors import CaptureError
from capture.importing import columns as C
from capture.importing.columns import IMU_CAPTURE_SAMPLES
from capture.importing.edge_impulse import read_ei_json
from capture.importing.table_reader import EXAMPLE_ROW, IMU_CAPTURE_HEADER, Rows, read_path
from capture.importing.takes import CutOptions, FoundTake, cut_takes
from contract.labels import LabelError, label_name

SUFFIXES = (".csv", ".txt", ".tsv", ".log", ".json")
MAX_LINES_LISTED = 100


@dataclass
class ImportOptions:
    label: str | None = None
    subject: str | None = None
    session: str | None = None
    layout: str | None = None
    board: str | None = None  # rev1 | rev2; None: unknown, IMU_Capture's Rev1 rate assumed
    rate_hz: float | None = None
    take_samples: int | None = None  # fixed take length
    samples_per_take: int = IMU_CAPTURE_SAMPLES  # IMU_Capture's rows per take, on Rev2 boards too
    split_gap_s: float = 0.3
    accel_units: str | None = None
    gyro_units: str | None = None
    time_unit: str | None = None
    columns: list[str] | None = None
    axes: str | None = None
    again: bool = False
    source: str = "import"
    quiet_notes: bool = False


@dataclass
class FileReport:
    path: str
    takes: int = 0
    rows_used: int = 0
    lines_ignored: int = 0
    ignored_reasons: dict = field(default_factory=dict)
    take_rows: list = field(default_factory=list)
    new_take_at: dict = field(default_factory=dict)
    rate_hz: float | None = None
    rate_from: str = ""
    accel_units: str = ""
    gyro_units: str = ""
    units_from: str = ""
    labels: list = field(default_factory=list)
    subjects: list = field(default_factory=list)
    files: list = field(default_factory=list)
    skipped: str = ""
    error: str = ""


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- which files, which label -------------------------------------------------------------

def collect_files(paths: list[Path]) -> list[tuple[Path, Path]]:
    """(file, the folder its layout is matched from) for every path (folders searched)."""
    out = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUFFIXES
                           and not any(part.startswith(".") for part in f.relative_to(p).parts))
            if not found:
                raise CaptureError(f"{p}: no recordings found in this folder (looked for {', '.join(SUFFIXES)} files)")
            out += [(f, p) for f in found]
        elif p.exists():
            out.append((p, p.parent))
        else:
            raise CaptureError(f"cannot read {p} (No such file or directory)")
    return out


def layout_regex(layout: str) -> re.Pattern:
    """``{subject}/{label}_{n}.csv`` -> a regex over the end of a path ('*' and {any} match anything in a name)."""
    out, pos = "", 0
    fields = {"label": r"[^/]+?", "subject": r"[^/]+?", "session": r"[^/]+?", "n": r"\d+", "any": r"[^/]*?"}
    for m in re.finditer(r"\{(\w+)\}|\*", layout):
        out += re.escape(layout[pos:m.start()])
        name = m.group(1)
        if m.group(0) == "*":
            out += r"[^/]*?"
        elif name not in fields:
            raise CaptureError(f"--layout {layout!r}: {{{name}}} is not a field; use {{label}}, {{subject}}, "
                               "{session}, {n} or {any}")
        elif name == "any":
            out += fields[name]
        else:
            out += f"(?P<{name}>{fields[name]})"
        pos = m.end()
    out += re.escape(layout[pos:])
    return re.compile(r"(?:^|/)" + out + r"$", re.IGNORECASE)


def match_layout(layout: str, path: Path, base: Path) -> dict:
    try:
        rel = path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        rel = path.as_posix()
    full = path.resolve().as_posix()
    m = layout_regex(layout).search(rel) or layout_regex(layout).search(full)
    if not m:
        raise CaptureError(f"the path does not match --layout {layout!r} (seen {rel!r}); e.g. "
                           "--layout '{subject}/{label}_{n}.csv' matches ann/punch_01.csv")
    return {k: v for k, v in m.groupdict().items() if v is not None}


def label_from_name(path: Path) -> str:
    """``punch_03.csv`` -> punch; ``punch.2k3l.json`` (Edge Impulse) -> punch."""
    name = path.name.split(".")[0] if path.name.count(".") > 1 else path.stem
    return re.sub(r"[ _-]*\(?\d+\)?$", "", name) or name


# -- one file -----------------------------------------------------------------------------

def imported_digests(data_dir: Path) -> dict[str, list[str]]:
    """source_sha256 -> the takes imported from a file with those bytes, for every take in ``data_dir``."""
    found: dict[str, list[str]] = {}
    if not Path(data_dir).is_dir():
        return found
    for p in list_takes(data_dir):
        try:
            digest = (read_meta(p.with_suffix(".json")).extra or {}).get("source_sha256")
        except Exception:  # a broken take is training check's business, not a reason to stop importing
            continue
        if digest:
            found.setdefault(digest, []).append(str(p))
    return found


def _units(opts: ImportOptions, header_units: dict, values: np.ndarray) -> tuple[str, str, str]:
    """(accel unit, gyro unit, why) for the file's values."""
    whys = []
    if opts.accel_units:
        accel, why = C.check_unit("accel", opts.accel_units, C.ACCEL_UNITS), "as given"
    elif header_units.get("accel") in C.ACCEL_UNITS:
        accel, why = header_units["accel"], "named in the header"
    else:
        accel, why = C.guess_accel_unit(values[:, :3])
    whys.append(f"accelerometer {accel} ({why})")
    if opts.gyro_units:
        gyro, why = C.check_unit("gyro", opts.gyro_units, C.GYRO_UNITS), "as given"
    elif header_units.get("gyro") in C.GYRO_UNITS:
        gyro, why = header_units["gyro"], "named in the header"
    elif accel == "counts":
        gyro, why = "counts", "as the accelerometer"
    else:
        gyro, why = C.guess_gyro_unit(values[:, 3:], values[:, :3] * C.ACCEL_UNITS[accel])
    whys.append(f"gyroscope {gyro} ({why})")
    if "counts" in (accel, gyro) and not opts.board:
        raise CaptureError(f"the values look like raw sensor counts ({'; '.join(whys)}), whose scale depends on the IMU; "
                           "pass --board rev1 (LSM9DS1) or --board rev2 (BMI270), or --accel-units/--gyro-units")
    return accel, gyro, "; ".join(whys)


def _scale(accel: str, gyro: str, board: C.Board) -> np.ndarray:
    a = board.accel_g_per_count if accel == "counts" else C.ACCEL_UNITS[accel]
    g = board.gyro_dps_per_count if gyro == "counts" else C.GYRO_UNITS[gyro]
    return np.array([a] * 3 + [g] * 3)


def _digest(path: Path) -> tuple[str, bytes]:
    """(sha256 of the file, its first bytes), reading it in blocks."""
    h, head = hashlib.sha256(), b""
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            head = head or block[:4096]
            h.update(block)
    return h.hexdigest(), head


def read_file(path: Path, head: bytes, opts: ImportOptions):
    """(takes in file units, header units, measured rate or None, notes, ignored lines, what started the takes)."""
    if path.suffix.lower() == ".json" or head.lstrip()[:1] == b"{":
        return read_ei_json(path, path.read_bytes())
    rows: Rows = read_path(path, opts.columns)
    cut = cut_takes(rows, CutOptions(samples_per_take=opts.samples_per_take, take_samples=opts.take_samples,
                                     split_gap_s=opts.split_gap_s, time_unit=opts.time_unit))
    roles = rows.layout.roles
    header_units = {"accel": roles["ax"][1], "gyro": roles["gx"][1]}
    notes = []
    if rows.layout.header_line is None:
        notes.append(f"no header: columns taken as {IMU_CAPTURE_HEADER}" if not opts.columns
                     else "no header: columns as given by --columns")
    if rows.layout.monitor_timestamps:
        notes.append("Serial Monitor timestamps taken off")
    if cut.every_row_separated:
        notes.append("every row is followed by a blank line: only double blank lines separate takes")
    if cut.time_unit:
        notes.append(f"time column in {cut.time_unit} ({cut.time_unit_why})")
        if cut.evenly_spaced:
            notes.append(f"the time column repeats values within {cut.evenly_spaced} take(s) (coarser than the sample "
                         "interval): their t_us are spaced evenly over the take's span")
        if cut.gaps:
            notes.append(f"time column shows {cut.gaps} gap(s), about {cut.samples_missing} samples missing (kept in "
                         "t_us; training check reports them)")
    return cut.takes, header_units, cut.rate_hz, notes, sorted(rows.ignored + cut.ignored), cut.boundaries


def import_one(path: Path, base: Path, data_dir: Path, opts: ImportOptions, known: dict | None = None) -> FileReport:
    """Import one file; ``known`` (``imported_digests``) is updated with what it wrote."""
    rep = FileReport(str(path))
    board = C.BOARDS[opts.board or "rev1"]
    try:
        digest, head = _digest(path)
    except OSError as e:
        raise CaptureError(f"cannot read {path} ({e.strerror or e})") from None
    if known is None:
        known = {} if opts.again else imported_digests(data_dir)
    if not opts.again:
        before = known.get(digest)
        if before:
            rep.skipped = f"already imported into {data_dir} ({len(before)} takes, e.g. {before[0]}); --again imports it again"
            return rep
    names = match_layout(opts.layout, path, base) if opts.layout else {}
    takes, header_units, measured_rate, notes, ignored, boundaries = read_file(path, head, opts)
    rep.lines_ignored = len(ignored)
    rep.ignored_reasons = dict(Counter(why for _, why in ignored))
    for number, why in ignored[:MAX_LINES_LISTED]:
        log(f"{path}:{number}: ignored: {why}")
    if len(ignored) > MAX_LINES_LISTED:
        log(f"{path}: ... and {len(ignored) - MAX_LINES_LISTED} more ignored lines")
    if not takes:
        seen = ", ".join(f"{n} {why}" for why, n in rep.ignored_reasons.items()) or "no rows at all"
        raise CaptureError(f"no usable rows ({seen}); expected rows of six numbers like {EXAMPLE_ROW} under a header "
                           f"such as {IMU_CAPTURE_HEADER} or timestamp_ms,ax,ay,az,gx,gy,gz")
    values_all = np.concatenate([t.values for t in takes])
    accel, gyro, rep.units_from = _units(opts, header_units, values_all)
    if opts.rate_hz:
        rate, rep.rate_from = float(opts.rate_hz), "as given"
        if measured_rate and abs(measured_rate / rate - 1) > 0.05:
            notes.append(f"the time column says {measured_rate:g} Hz but --rate-hz is {rate:g}; using {rate:g}")
    elif measured_rate:
        rate, rep.rate_from = measured_rate, "from the time column"
    else:
        rate, rep.rate_from = board.rate_hz, (f"IMU_Capture's rate on {opts.board or 'rev1'} (no time column; "
                                              "--rate-hz or --board to change)")
    axes_text = opts.axes
    if not axes_text and accel == "counts" and board.counts_on_chip_axes:
        axes_text = "bmi270-chip"
        notes.append("raw BMI270 counts (Arduino_BMI270_BMM150 before 1.1.0) are on the chip's axes: turned to the "
                     "library's (x=-y, y=-x) as 1.1.0 and later report them; --axes board keeps them")
    axes = C.parse_axes(axes_text) if axes_text else None
    scale = _scale(accel, gyro, board)
    metas = []
    for take in takes:
        metas.append((_meta(take, path, names, opts, board, rate, digest, axes_text), take))
    for meta, take in metas:  # every take of the file is understood before any is written
        values = take.values * scale
        if axes:
            values = C.apply_axes(values, axes)
        t_us = take.t_us if take.t_us is not None else np.round(np.arange(len(values)) * 1e6 / rate).astype(np.int64)
        rep.files.append(str(write_take(data_dir, meta, t_us, values)))
        rep.take_rows.append(len(values))
    known.setdefault(digest, []).extend(rep.files)
    rep.takes, rep.rows_used = len(takes), int(sum(rep.take_rows))
    rep.rate_hz, rep.accel_units, rep.gyro_units = rate, accel, gyro
    rep.new_take_at = dict(boundaries)
    rep.labels = sorted({m.label for m, _ in metas})
    rep.subjects = sorted({m.subject for m, _ in metas})
    _log_report(rep, notes, opts, takes)
    return rep


def _meta(take: FoundTake, path: Path, names: dict, opts: ImportOptions, board: C.Board, rate: float,
          digest: str, axes_text: str | None) -> TakeMeta:
    label = opts.label or names.get("label") or take.label or label_from_name(path)
    try:
        label = label_name(label)  # as written: 'Círculo' stays 'Círculo'
    except LabelError as e:
        raise CaptureError(f"{path}: {e}") from None
    subject = opts.subject or names.get("subject") or take.subject or "unknown"
    session = opts.session or names.get("session") or "s1"
    extra = {"source_file": str(path), "source_lines": [int(take.lines[0]), int(take.lines[-1])],
             "source_sha256": digest, "take_started_by": take.starts_at}
    if "n" in names:
        extra["source_take"] = int(names["n"])
    if axes_text:
        extra["axes"] = axes_text
    return TakeMeta(label=label, rate_hz=rate, subject=subject, session=session,
                    board=board.name if opts.board else "unknown", imu=board.imu if opts.board else "unknown",
                    source=opts.source, complete=take.complete, extra=extra)


def _log_report(rep: FileReport, notes: list, opts: ImportOptions, takes: list) -> None:
    lengths = Counter(rep.take_rows)
    shape = ", ".join(f"{n} of {rows} rows" for rows, n in sorted(lengths.items(), key=lambda kv: -kv[1]))
    starts = ", ".join(f"{n} {why}" for why, n in rep.new_take_at.items() if why != "start of file")
    who = f"label {'/'.join(rep.labels)}, subject {'/'.join(rep.subjects)}"
    log(f"[import] {rep.path}: {rep.rows_used} rows used, {rep.lines_ignored} lines ignored"
        + (f" ({', '.join(f'{n} {why}' for why, n in rep.ignored_reasons.items())})" if rep.ignored_reasons else "")
        + f"; {rep.takes} takes ({shape}; new take at: {starts or 'none'}); {who}")
    log(f"[import] {rep.path}: rate {rep.rate_hz:g} Hz ({rep.rate_from}); units {rep.units_from}")
    for take in takes:
        if not take.complete:
            log(f"{rep.path}:{int(take.lines[0])}: take has {len(take.values)} rows, shorter than the others; "
                "marked complete=false")
    for note in notes:
        log(f"[import] {rep.path}: {note}")


def import_paths(paths: list[Path], data_dir: Path, opts: ImportOptions) -> dict:
    """Import every file under ``paths``; a JSON-ready summary. Raises CaptureError only if no file imports."""
    if opts.board is not None and opts.board not in C.BOARDS:
        raise CaptureError(f"--board {opts.board!r} is not one of {', '.join(C.BOARDS)}")
    for name, value in (("rate-hz", opts.rate_hz), ("take-samples", opts.take_samples),
                        ("samples-per-take", opts.samples_per_take)):
        if value is not None and value <= 0:
            raise CaptureError(f"--{name} must be positive")
    if opts.axes:
        C.parse_axes(opts.axes)
    if opts.layout:
        layout_regex(opts.layout)
    reports = []
    known = imported_digests(Path(data_dir))
    for path, base in collect_files(paths):
        try:
            rep = import_one(path, base, Path(data_dir), opts, known)
        except (CaptureError, DatasetError) as e:
            msg = str(e) if str(e).startswith(str(path)) or str(e).startswith("cannot read") else f"{path}: {e}"
            log(f"error: {msg}")
            rep = FileReport(str(path), error=msg)
        if rep.skipped:
            log(f"[import] {path}: skipped, {rep.skipped}")
        reports.append(rep)
    ok = [r for r in reports if not r.error]
    summary = {"takes": sum(r.takes for r in ok), "samples": sum(r.rows_used for r in ok),
               "files": len(reports), "files_failed": len(reports) - len(ok),
               "files_skipped": sum(bool(r.skipped) for r in reports), "out": str(data_dir),
               "reports": [r.__dict__ for r in reports]}
    return summary
