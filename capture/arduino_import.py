"""Importing the official IMU_Capture sketch output into a dataset directory.

IMU_Capture prints a header ``aX,aY,aZ,gX,gY,gZ`` and then one line per sample (g and
deg/s), with a blank line after each take. What people paste from the Serial Monitor is
messier, so this reader tolerates quoted values, CRLF, a byte-order mark, repeated
headers (taken as take boundaries), stray text lines (reported with their line number on
stderr and skipped), the Serial Monitor's ``12:34:56.789 -> `` timestamps, and a blank
line after *every* row (then a double blank line or a header separates takes, and
without either the rows are cut into takes of ``samples_per_take``). Takes pasted back to
back without a blank line (a block of exactly k * ``samples_per_take`` rows) are cut into
k takes, since the sketch prints that many rows per take.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from capture.dataset import TakeMeta, write_take
from capture.errors import CaptureError
from contract.pipeline import CHANNELS

_HEADER = tuple(c.lower() for c in CHANNELS)
_MONITOR_TIMESTAMP = re.compile(r"^\d{1,2}:\d{2}:\d{2}\.\d{3}\s*->\s?")  # Serial Monitor "Show timestamp"
EXAMPLE_ROW = "0.012,-0.981,0.034,1.22,-0.61,0.00"


@dataclass
class ParsedTake:
    rows: list  # list of (line_number, [6 floats])
    complete: bool = True


@dataclass
class ParseResult:
    takes: list
    ignored: list  # (line_number, reason)
    every_row_separated: bool


def _cells(line: str) -> list[str]:
    return [c.strip().strip("\"'").strip() for c in line.replace("\t", ",").replace(";", ",").split(",")]


def parse_imu_capture(text: str, samples_per_take: int) -> ParseResult:
    """Split IMU_Capture text into takes; every unusable line is listed in ``ignored``."""
    # (line_number, values, separator_before): the longest run of blank lines since the
    # previous row (a stray text line interrupts a run but does not separate takes), 2 for a header.
    rows = []
    ignored = []
    gap = run = 0
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").splitlines()
    for number, raw in enumerate(lines, start=1):
        line = _MONITOR_TIMESTAMP.sub("", raw.strip()).strip()
        if not line.strip("\"'"):
            run += 1
            gap = max(gap, run)
            continue
        run = 0
        cells = _cells(line)
        if tuple(c.lower() for c in cells) == _HEADER:
            gap = 2
            continue
        if len(cells) != len(CHANNELS):
            ignored.append((number, f"expected {len(CHANNELS)} comma-separated numbers, found {len(cells)} fields"))
            continue
        try:
            values = [float(c) for c in cells]
        except ValueError:
            ignored.append((number, "not numbers"))
            continue
        if not all(math.isfinite(v) for v in values):
            ignored.append((number, "not a finite number (nan/inf)"))
            continue
        rows.append((number, values, gap))
        gap = 0
    # A blank line after every row (Serial Monitor pastes): then only a double blank line or
    # a header separates takes, and without either the rows are cut by samples_per_take.
    every_row = len(rows) > 1 and all(g >= 1 for _, _, g in rows[1:])
    boundary = 2 if every_row else 1
    runs: list[list] = []
    for i, (number, values, g) in enumerate(rows):
        if i == 0 or g >= boundary:
            runs.append([])
        runs[-1].append((number, values))
    # IMU_Capture prints exactly samples_per_take rows per take, so a block of k whole takes with
    # no separator (takes pasted back to back) is k takes too; any other length stays one take.
    takes = []
    for run in runs:
        if every_row and len(runs) == 1:
            cut = [ParsedTake(run[i:i + samples_per_take]) for i in range(0, len(run), samples_per_take)]
            if len(cut[-1].rows) < samples_per_take:
                cut[-1].complete = False
        elif len(run) > samples_per_take and len(run) % samples_per_take == 0:
            cut = [ParsedTake(run[i:i + samples_per_take]) for i in range(0, len(run), samples_per_take)]
        else:
            cut = [ParsedTake(run)]
        takes += cut
    return ParseResult(takes, ignored, every_row)


def import_file(csv_path: Path | str, data_dir: Path | str, label: str, subject: str = "unknown",
                session: str = "s1", rate_hz: float = 119.0, samples_per_take: int = 119) -> dict:
    """Import one IMU_Capture file; return a summary dict. Raises CaptureError on unusable input."""
    csv_path = Path(csv_path)
    if rate_hz <= 0 or samples_per_take < 1:
        raise CaptureError("--rate-hz must be positive and --samples-per-take at least 1")
    try:
        text = csv_path.read_bytes().decode("utf-8", errors="replace")
    except OSError as e:
        raise CaptureError(f"cannot read {csv_path} ({e.strerror or e})") from None
    parsed = parse_imu_capture(text, samples_per_take)
    for number, reason in parsed.ignored:
        print(f"{csv_path}:{number}: ignored: {reason}", file=sys.stderr)
    if not parsed.takes:
        raise CaptureError(f"{csv_path}: no usable rows; expected IMU_Capture lines like {EXAMPLE_ROW} "
                           "under the header aX,aY,aZ,gX,gY,gZ")
    if parsed.every_row_separated:
        print(f"{csv_path}: every row is followed by a blank line; cutting takes of {samples_per_take} rows",
              file=sys.stderr)
    files = []
    samples = 0
    for take in parsed.takes:
        values = np.array([v for _, v in take.rows], dtype=np.float64)
        t_us = np.round(np.arange(len(values)) * 1e6 / rate_hz).astype(np.int64)
        if len(values) != samples_per_take:
            print(f"{csv_path}:{take.rows[0][0]}: take has {len(values)} rows, not {samples_per_take}"
                  + ("" if take.complete else "; marked complete=false"), file=sys.stderr)
        meta = TakeMeta(
            label=label, rate_hz=rate_hz, subject=subject, session=session, source="arduino-import",
            complete=take.complete, extra={"source_file": str(csv_path), "source_lines": [take.rows[0][0], take.rows[-1][0]]},
        )
        files.append(str(write_take(data_dir, meta, t_us, values)))
        samples += len(values)
    return {"takes": len(files), "samples": samples, "lines_ignored": len(parsed.ignored), "out": str(data_dir),
            "files": files}
