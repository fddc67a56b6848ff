"""``nanogest import-arduino``: the official IMU_Capture sketch's output, on the generic reader.

IMU_Capture prints a header ``aX,aY,aZ,gX,gY,gZ`` and then one line per sample (g and
deg/s), with a blank line after each take. What people paste from the Serial Monitor is
messier; the generic reader (``capture.importing.table_reader``, ``capture.importing.takes``) tolerates quoted
values, CRLF, a byte-order mark, repeated headers and rows of empty cells (take
boundaries), stray text lines (reported with their line number on stderr and skipped), the
Serial Monitor's ``12:34:56.789 -> `` timestamps, and a blank line after *every* row (then a
double blank line or a header separates takes, and without either the rows are cut into
takes of ``samples_per_take``). Takes pasted back to back without a blank line (a block of
exactly k * ``samples_per_take`` rows) are cut into k takes.

This front fixes what the official format says (g, deg/s, ``rate_hz``) instead of guessing;
``nanogest import`` is the same reader with everything detected.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from capture.errors import CaptureError
from capture.importing.importer import ImportOptions, import_one
from capture.importing.table_reader import read_rows
from capture.importing.takes import CutOptions, cut_takes


@dataclass
class ParsedTake:
    rows: list  # list of (line_number, [6 floats])
    complete: bool = True


@dataclass
class ParseResult:
    takes: list
    ignored: list  # (line_number, reason)
    every_row_separated: bool


def parse_imu_capture(text: str, samples_per_take: int) -> ParseResult:
    """Split IMU_Capture text into takes; every unusable line is listed in ``ignored``."""
    rows = read_rows(text)
    cut = cut_takes(rows, CutOptions(samples_per_take=samples_per_take))
    takes = [ParsedTake([(int(n), v.tolist()) for n, v in zip(t.lines, t.values)], t.complete) for t in cut.takes]
    return ParseResult(takes, sorted(rows.ignored + cut.ignored), cut.every_row_separated)


def import_file(csv_path: Path | str, data_dir: Path | str, label: str, subject: str = "unknown",
                session: str = "s1", rate_hz: float = 119.0, samples_per_take: int = 119) -> dict:
    """Import one IMU_Capture file; return a summary dict. Raises CaptureError on unusable input."""
    csv_path = Path(csv_path)
    if rate_hz <= 0 or samples_per_take < 1:
        raise CaptureError("--rate-hz must be positive and --samples-per-take at least 1")
    opts = ImportOptions(label=label, subject=subject, session=session, rate_hz=rate_hz,
                         samples_per_take=samples_per_take, accel_units="g", gyro_units="dps", again=True,
                         source="arduino-import")
    try:
        rep = import_one(csv_path, csv_path.parent, Path(data_dir), opts)
    except CaptureError as e:
        msg = str(e)
        if msg.startswith("cannot read"):
            raise
        raise CaptureError(f"{csv_path}: {msg}") from None
    return {"takes": rep.takes, "samples": rep.rows_used, "lines_ignored": rep.lines_ignored, "out": str(data_dir),
            "files": rep.files}
