"""Cutting a file's rows into takes, and what its time column says.

A new take starts at:

- a blank line or a row of empty cells (when *every* row is followed by a blank line, as
  Serial Monitor pastes often are, only a double blank line counts);
- a repeated header;
- a change in the label or subject column;
- the time column going back (relative timestamps restarting) or jumping by more than
  ``split_gap_s`` (and five median steps);
- every ``take_samples`` rows when a fixed take length is asked for.

Without a time column and without a fixed length, IMU_Capture's rule applies: the sketch
prints ``samples_per_take`` rows per take, so a block of exactly k times that many rows is
k takes pasted back to back, and a file where every row is followed by a blank line with
no double blank is cut into takes of that length (a shorter last one is marked incomplete).

The time column's unit (s, ms or us) comes from its header or the size of its steps; the
rate is the mean step within takes (steps beyond 1.5 median steps are gaps, counted as
missing samples). Timestamps stay absolute or relative as in the file until each take is
made relative to its own first sample.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from capture.errors import CaptureError
from capture.importing.columns import IMU_CAPTURE_SAMPLES, TIME_UNITS
from capture.importing.table_reader import BLANK, DATA, HEADER, IGNORED, Rows

_HARD = 1 << 30


@dataclass
class CutOptions:
    samples_per_take: int = IMU_CAPTURE_SAMPLES
    take_samples: int | None = None  # fixed take length, rows
    split_gap_s: float = 0.3
    time_unit: str | None = None  # s | ms | us; None: from the header or the steps


@dataclass
class FoundTake:
    lines: np.ndarray  # source line number of each row
    values: np.ndarray  # (n, 6) in the file's units
    t_us: np.ndarray | None  # from the time column, relative to the take's first row
    label: str | None = None
    subject: str | None = None
    complete: bool = True
    starts_at: str = "start of file"  # what made this take start


@dataclass
class Cut:
    takes: list[FoundTake]
    every_row_separated: bool = False
    time_unit: str | None = None
    time_unit_why: str = ""
    rate_hz: float | None = None  # measured from the time column
    gaps: int = 0
    samples_missing: int = 0
    ignored: list = field(default_factory=list)  # (line, reason) found here (repeated lines)
    evenly_spaced: int = 0  # takes whose time column repeats itself (too coarse): t_us spaced evenly
    boundaries: Counter = field(default_factory=Counter)


def _blank_gaps(kinds: np.ndarray, data_idx: np.ndarray) -> np.ndarray:
    """For each data row, the longest run of blank lines since the previous data row (_HARD for a header)."""
    blank = kinds == BLANK
    count = np.cumsum(blank)
    run = count - np.maximum.accumulate(np.where(blank, 0, count))
    run = np.where(kinds == HEADER, _HARD, run)
    gaps = np.zeros(len(data_idx), dtype=np.int64)
    if len(data_idx) > 1:
        seg = np.maximum.reduceat(run[: data_idx[-1] + 1], data_idx[:-1] + 1)
        gaps[1:] = seg
    return gaps


def _time_unit(t: np.ndarray, unit: str | None, header_unit: str) -> tuple[str, str]:
    if unit:
        return unit, "as given"
    if header_unit in TIME_UNITS:
        return header_unit, "named in the header"
    steps = np.diff(t)
    steps = steps[steps > 0]
    if not len(steps):
        raise CaptureError("the time column never increases; expected timestamps in s, ms or us")
    step = float(np.median(steps))
    unit = "s" if step < 0.5 else "ms" if step < 500 else "us"
    return unit, f"median step {step:g}"


def _time_cuts(t_us: np.ndarray, split_gap_s: float) -> tuple[np.ndarray, np.ndarray]:
    """(went_back, jumped) per row: the time column restarting, or a pause longer than a gap."""
    dt = np.diff(t_us, prepend=t_us[:1])
    forward = dt[dt > 0]
    median = float(np.median(forward)) if len(forward) else 0.0
    limit = max(split_gap_s * 1e6, 5.0 * median)
    return dt < 0, dt > limit


def _measure_rate(takes: list[FoundTake]) -> tuple[float | None, int, int]:
    steps = np.concatenate([np.diff(t.t_us) for t in takes if t.t_us is not None and len(t.t_us) > 1] or [np.zeros(0)])
    if not (steps > 0).any():
        return None, 0, 0
    median = float(np.median(steps[steps > 0]))
    regular = steps[steps <= 1.5 * median]
    mean = float(regular.mean())
    rate = 1e6 / mean
    rate = float(round(rate)) if abs(rate - round(rate)) <= 0.01 * rate else round(rate, 1)
    long = steps[steps > 1.5 * median]
    return rate, int(len(long)), int(np.maximum(np.round(long / mean) - 1, 0).sum())


def cut_takes(rows: Rows, opts: CutOptions) -> Cut:
    """The takes in ``rows`` (see the module docstring)."""
    kinds = rows.kinds.copy()
    data_idx = np.flatnonzero(kinds == DATA)
    values, labels, subjects = rows.values, rows.labels, rows.subjects
    cut = Cut([])
    t_us = None
    if rows.time is not None and len(data_idx):
        header_unit = rows.layout.roles["time"][1]
        cut.time_unit, cut.time_unit_why = _time_unit(rows.time, opts.time_unit, header_unit)
        t_us = rows.time * TIME_UNITS[cut.time_unit]
        dt = np.diff(t_us, prepend=np.nan)
        same_values = np.r_[False, (values[1:] == values[:-1]).all(axis=1)]
        repeat = (dt == 0) & same_values
        if repeat.any():  # the same line twice (time and values): a duplicate, not a sample
            for k in np.flatnonzero(repeat):
                cut.ignored.append((int(data_idx[k]) + 1, f"repeats line {int(data_idx[k - 1]) + 1} (same time and values)"))
            kinds[data_idx[repeat]] = IGNORED
            keep = ~repeat
            data_idx, values, t_us = data_idx[keep], values[keep], t_us[keep]
            labels = labels[keep] if labels is not None else None
            subjects = subjects[keep] if subjects is not None else None
    n = len(data_idx)
    if n == 0:
        return cut
    gaps = _blank_gaps(kinds, data_idx)
    soft = gaps[1:][gaps[1:] < _HARD]
    cut.every_row_separated = n > 1 and bool((gaps[1:] >= 1).all()) and len(soft) > 0 and bool((soft >= 1).all())
    starts: dict[int, str] = {0: "start of file"}

    def mark(mask: np.ndarray, why: str) -> None:
        for k in np.flatnonzero(mask):
            if k > 0 and k not in starts:
                starts[int(k)] = why

    mark(gaps >= _HARD, "repeated header")
    mark(gaps >= (2 if cut.every_row_separated else 1), "double blank line" if cut.every_row_separated else "blank line")
    for column, why in ((labels, "label change"), (subjects, "subject change")):
        if column is not None:
            mark(np.r_[False, column[1:] != column[:-1]], why)
    if t_us is not None:
        back, jumped = _time_cuts(t_us, opts.split_gap_s)
        mark(back, "time went back")
        mark(jumped, "time gap")
    bounds = sorted(starts) + [n]
    runs = [(bounds[i], bounds[i + 1], starts[bounds[i]]) for i in range(len(bounds) - 1)]
    pieces = _fixed_length(runs, opts, timed=t_us is not None, every_row=cut.every_row_separated)
    for a, b, why, complete in pieces:
        cut.boundaries[why] += 1
        take_t = None if t_us is None else (t_us[a:b] - t_us[a]).round().astype(np.int64)
        cut.takes.append(FoundTake(
            lines=data_idx[a:b] + 1, values=values[a:b], t_us=take_t,
            label=None if labels is None else str(labels[a]).strip(),
            subject=None if subjects is None else str(subjects[a]).strip(),
            complete=complete, starts_at=why))
    if t_us is not None:
        cut.rate_hz, cut.gaps, cut.samples_missing = _measure_rate(cut.takes)
        for take in cut.takes:  # a clock coarser than the sample interval repeats itself: space such takes evenly
            if len(take.t_us) > 1 and (np.diff(take.t_us) <= 0).any():
                span_us = float(take.t_us[-1])
                step = span_us / (len(take.t_us) - 1) if span_us > 0 else 1e6 / cut.rate_hz
                take.t_us = np.round(np.arange(len(take.t_us)) * step).astype(np.int64)
                cut.evenly_spaced += 1
    return cut


def _fixed_length(runs: list, opts: CutOptions, timed: bool, every_row: bool) -> list:
    """(start, stop, why, complete) after cutting runs by a fixed or IMU_Capture's take length."""
    out = []
    spt = opts.take_samples or opts.samples_per_take
    for a, b, why in runs:
        length = b - a
        if opts.take_samples:
            cut_here = length > spt
            last_incomplete = True
        elif not timed and ((every_row and len(runs) == 1) or (length > spt and length % spt == 0)):
            cut_here, last_incomplete = True, every_row and len(runs) == 1
        else:
            cut_here, last_incomplete = False, False
        if not cut_here:
            out.append((a, b, why, True))
            continue
        for start in range(a, b, spt):
            stop = min(start + spt, b)
            whole = stop - start == spt
            out.append((start, stop, why if start == a else f"every {spt} rows", whole or not last_incomplete))
    return out
