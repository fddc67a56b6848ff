"""Reading a recording's text into rows, line by line, on pandas.

``read_rows`` decodes the file (UTF-8 or UTF-16, byte-order mark dropped), takes off the
Serial Monitor's ``12:34:56.789 -> `` prefixes, sniffs the delimiter (comma, semicolon, tab
or spaces, decimal commas too) and finds the header (``capture.importing.columns``: any line that
names all six channels; without one the six numbers of IMU_Capture are assumed). Then
``pandas.read_csv`` reads every line as text in chunks of ``CHUNK_ROWS`` (the C engine,
blank lines kept so line numbers stay exact), the channel columns are converted with
``pandas.to_numeric``, and each line is classified:

- ``DATA``: every channel a finite number (and the time column, if any);
- ``BLANK``: a blank line or a row of empty cells (``"","",""`` as a spreadsheet writes one);
- ``HEADER``: a header again (a take boundary);
- ``IGNORED``: anything else, with the reason (``ignored``).

Cutting rows into takes is ``capture.importing.takes``' job.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from capture.errors import CaptureError
from capture.importing.columns import CHANNEL_KEYS, map_header, parse_header_cell

CHUNK_ROWS = 200_000
HEAD_BYTES = 1 << 18  # what the sniffer sees of a file read from disk
SNIFF_LINES = 400
DATA, BLANK, HEADER, IGNORED = 0, 1, 2, 3
IMU_CAPTURE_HEADER = "aX,aY,aZ,gX,gY,gZ"
EXAMPLE_ROW = "0.012,-0.981,0.034,1.22,-0.61,0.00"
_MONITOR_TIMESTAMP = re.compile(r"^[ \t]*\d{1,2}:\d{2}:\d{2}\.\d{3}\s*->[ \t]?", re.MULTILINE)
_SKIPPED = re.compile(r"Skipping line (\d+): expected \d+ fields, saw (\d+)")
_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")
_DELIMITER_WORDS = {",": "comma", ";": "semicolon", "\t": "tab", r"\s+": "space"}
_NON_FINITE = {"nan", "inf", "-inf", "+inf", "infinity", "-infinity"}


@dataclass
class Layout:
    """How a file's lines are split into cells, and what each cell is."""

    delimiter: str  # ",", ";", "\t" or r"\s+"
    quotechar: str
    decimal_comma: bool
    width: int  # cells in a row
    roles: dict  # role -> (column index, unit from the header)
    header_cells: tuple | None
    header_line: int | None  # 1-based, None without a header
    monitor_timestamps: bool


@dataclass
class Rows:
    """Every line of a file, classified; the DATA lines' values in file units."""

    layout: Layout
    kinds: np.ndarray  # (lines,) uint8, one of DATA/BLANK/HEADER/IGNORED
    values: np.ndarray  # (data, 6) float64, CHANNELS order, units as in the file
    time: np.ndarray | None  # (data,) float64, units as in the file
    labels: np.ndarray | None  # (data,) object: the label column, if any
    subjects: np.ndarray | None
    ignored: list = field(default_factory=list)  # (line, reason)

    @property
    def data_lines(self) -> np.ndarray:
        return np.flatnonzero(self.kinds == DATA) + 1


def decode(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace")
    return raw.decode("utf-8", errors="replace").lstrip("\ufeff")


def _split(line: str, delimiter: str) -> list[str]:
    parts = line.split() if delimiter == r"\s+" else line.split(delimiter)
    cells = [p.strip().strip("\"'").strip() for p in parts]
    while len(cells) > 1 and not cells[-1]:  # a trailing delimiter
        cells.pop()
    return cells


def _is_number(cell: str, decimal_comma: bool) -> bool:
    try:
        float(cell.replace(",", ".") if decimal_comma else cell)
        return True
    except ValueError:
        return False


def sniff(text: str, roles_option: list[str] | None = None) -> Layout:
    """Delimiter, quoting, header and columns from the first lines."""
    head = []
    for number, line in enumerate(io.StringIO(text, newline=None), start=1):
        if line.strip():
            head.append((number, line.rstrip("\n")))
        if len(head) >= SNIFF_LINES:
            break
    if not head:
        raise CaptureError(f"no usable rows: the file is empty; expected a header such as {IMU_CAPTURE_HEADER} and rows like {EXAMPLE_ROW}")
    best = None
    for delimiter in (",", ";", "\t", r"\s+"):
        widths = [len(_split(line, delimiter)) for _, line in head]
        score = sum(w >= len(CHANNEL_KEYS) for w in widths)
        if score and (best is None or score > best[0]):
            best = (score, delimiter)
    partial = _partial_header(head)
    if partial:
        raise CaptureError(f"no usable rows: {partial}")
    if best is None:
        first = head[0][1].strip()[:60]
        raise CaptureError(f"no usable rows: no line has six or more values; expected a header such as {IMU_CAPTURE_HEADER} and "
                           f"rows like {EXAMPLE_ROW}, but line {head[0][0]} is {first!r}")
    delimiter = best[1]
    quotechar = "'" if sum(line.lstrip().startswith("'") for _, line in head) > len(head) / 2 else '"'
    header = None
    for number, line in head:
        cells = _split(line, delimiter)
        roles = map_header(cells)
        if roles:
            header = (number, tuple(cells), roles)
            break
    data_cells = [_split(line, delimiter) for _, line in head]
    decimal_comma = delimiter != "," and any(_DECIMAL_COMMA.match(c) for cells in data_cells for c in cells)
    monitor = False  # read_rows takes the Serial Monitor's prefixes off before sniffing
    if header:
        number, cells, roles = header
        return Layout(delimiter, quotechar, decimal_comma, len(cells), roles, cells, number, monitor)
    if roles_option:
        roles = {role: (i, "") for i, role in enumerate(roles_option) if role}
        return Layout(delimiter, quotechar, decimal_comma, len(roles_option), roles, None, None, monitor)
    numeric = [c for c in data_cells if all(_is_number(x, decimal_comma) for x in c)]
    if numeric and all(len(c) == len(CHANNEL_KEYS) for c in numeric):
        roles = {role: (i, "") for i, role in enumerate(CHANNEL_KEYS)}
        return Layout(delimiter, quotechar, decimal_comma, len(CHANNEL_KEYS), roles, None, None, monitor)
    first = head[0][1].strip()[:60]
    raise CaptureError(f"no usable rows: no header names the six channels and the rows are not six numbers; expected a header "
                       f"such as {IMU_CAPTURE_HEADER} or timestamp,accX,accY,accZ,gyrX,gyrY,gyrZ, but line "
                       f"{head[0][0]} is {first!r}; name the columns with --columns (e.g. t,ax,ay,az,gx,gy,gz)")


def _partial_header(head: list) -> str:
    """A sentence when no line names all six channels but one names some of them, else ''."""
    best = (0, None, [])
    for number, line in head[:20]:
        for delimiter in (",", ";", "\t", r"\s+"):
            roles = [parse_header_cell(c).role for c in _split(line, delimiter)]
            named = [r for r in CHANNEL_KEYS if r in roles]
            if len(named) > best[0]:
                best = (len(named), number, named)
    count, number, named = best
    if count == 0 or count == len(CHANNEL_KEYS) or map_header_any(head):
        return ""
    missing = [r for r in CHANNEL_KEYS if r not in named]
    return (f"the header on line {number} names {', '.join(named)} but not {', '.join(missing)}; expected an "
            "accelerometer and a gyroscope on three axes each (aX,aY,aZ,gX,gY,gZ or accX..gyrZ)")


def map_header_any(head: list) -> bool:
    return any(map_header(_split(line, d)) for _, line in head[:50] for d in (",", ";", "\t", r"\s+"))


def _numeric(col: pd.Series, decimal_comma: bool) -> np.ndarray:
    if decimal_comma:
        col = col.str.replace(",", ".", regex=False)
    return pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64)


def _chunks(reader):
    """pandas' chunks, its parser errors (a quote never closed, ...) turned into one sentence."""
    try:
        yield from reader
    except pd.errors.ParserError as e:
        raise CaptureError(f"the file cannot be split into cells ({str(e).strip()}); expected one row of "
                           "comma-separated numbers per line") from None


def _time_kind(col: pd.Series) -> str:
    """'datetime' when the time column holds dates and times (2024-03-01 12:00:00.125) rather than numbers."""
    sample = col[col.str.strip() != ""].head(200)
    if not len(sample) or pd.to_numeric(sample, errors="coerce").notna().mean() >= 0.5:
        return "number"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return "datetime" if parsed.notna().mean() >= 0.5 else "number"


def _times(col: pd.Series, kind: str, decimal_comma: bool) -> np.ndarray:
    if kind != "datetime":
        return _numeric(col, decimal_comma)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(col, errors="coerce", format="mixed")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert(None)
    us = parsed.to_numpy(dtype="datetime64[us]").astype(np.int64).astype(np.float64)
    return np.where(parsed.isna().to_numpy(), np.nan, us)


def _reason(cells: list[str], layout: Layout) -> str | None:
    """Why a non-data line is not data; None for a blank line or a repeated header."""
    cells = [c.strip().strip("\"'").strip() for c in cells]
    while cells and not cells[-1]:
        cells.pop()
    if not any(cells):
        return None
    if map_header(cells):
        return "header"
    if len(cells) != layout.width:
        return f"expected {layout.width} {_DELIMITER_WORDS[layout.delimiter]}-separated numbers, found {len(cells)} fields"
    wanted = [cells[i] if i < len(cells) else "" for i, _ in layout.roles.values()]
    if any(c.lower() in _NON_FINITE for c in wanted):
        return "not a finite number (nan/inf)"
    return "not numbers"


def read_path(path: Path, roles_option: list[str] | None = None) -> Rows:
    """``read_rows`` on a file, streamed from disk in chunks when it is UTF-8 without Serial Monitor prefixes."""
    with open(path, "rb") as f:
        head_raw = f.read(HEAD_BYTES)
        more = bool(f.read(1))
    if not more or head_raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return read_rows(decode(Path(path).read_bytes()), roles_option)
    head = decode(head_raw.rsplit(b"\n", 1)[0] + b"\n")
    if _MONITOR_TIMESTAMP.search(head[:4096]):
        return read_rows(decode(Path(path).read_bytes()), roles_option)
    return read_rows(head, roles_option, source=path)


def read_rows(text: str, roles_option: list[str] | None = None, source: Path | None = None) -> Rows:
    """Classify every line of ``text``, or of the file ``source`` when given (``text`` is then its head, for
    sniffing); see the module docstring."""
    monitor = bool(_MONITOR_TIMESTAMP.search(text[:4096]))
    if monitor:
        text = _MONITOR_TIMESTAMP.sub("", text)
    layout = sniff(text, roles_option)
    layout.monitor_timestamps = monitor
    roles = layout.roles
    value_cols = [roles[k][0] for k in CHANNEL_KEYS]
    time_col = roles["time"][0] if "time" in roles else None
    text_cols = {roles[k][0] for k in ("label", "subject") if k in roles}
    width = layout.width + 1  # one spare cell shows a line with too many fields
    skipped: dict[int, int] = {}
    kinds, values, times, labels, subjects, ignored = [], [], [], [], [], []
    row0 = 0
    time_kind = None  # "number" or "datetime", judged on the first chunk
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reader = pd.read_csv(
            source if source is not None else io.StringIO(text), encoding="utf-8-sig", encoding_errors="replace",
            sep=layout.delimiter, header=None, names=range(width), dtype=str, na_filter=False,
            skip_blank_lines=False, skipinitialspace=True, quotechar=layout.quotechar, on_bad_lines="warn",
            engine="c", chunksize=CHUNK_ROWS)
        for chunk in _chunks(reader):
            n = len(chunk)
            cols = value_cols + ([time_col] if time_col is not None else [])
            if time_col is not None and time_kind is None:
                time_kind = _time_kind(chunk[time_col])
            nums = np.column_stack([_numeric(chunk[c], layout.decimal_comma) for c in value_cols]
                                   + ([_times(chunk[time_col], time_kind, layout.decimal_comma)] if time_col is not None else []))
            ok = np.isfinite(nums).all(axis=1) & (chunk[layout.width].to_numpy() == "")
            kind = np.full(n, DATA, dtype=np.uint8)
            bad = np.flatnonzero(~ok)
            if len(bad):
                ignored += [(row0 + j, why) for j, why in _classify_rejected(chunk, bad, nums, kind, layout, cols, text_cols)]
            data = kind == DATA
            kinds.append(kind)
            values.append(nums[data, :6])
            if time_col is not None:
                times.append(nums[data, 6])
            if "label" in roles:
                labels.append(chunk[roles["label"][0]].to_numpy(dtype=object)[data])
            if "subject" in roles:
                subjects.append(chunk[roles["subject"][0]].to_numpy(dtype=object)[data])
            row0 += n
    for w in caught:  # pandas names each line with too many fields in a ParserWarning
        for line, saw in _SKIPPED.findall(str(w.message)):
            skipped[int(line)] = int(saw)
    kind = np.concatenate(kinds) if kinds else np.zeros(0, dtype=np.uint8)
    line_of_row = np.arange(1, len(kind) + len(skipped) + 1)
    if skipped:
        line_of_row = np.delete(line_of_row, np.array(sorted(skipped)) - 1)
    all_kinds = np.full(len(kind) + len(skipped), IGNORED, dtype=np.uint8)
    all_kinds[line_of_row - 1] = kind
    if layout.header_line:
        all_kinds[layout.header_line - 1] = HEADER
    reasons = [(int(line_of_row[r]), why) for r, why in ignored if int(line_of_row[r]) != layout.header_line]
    word = _DELIMITER_WORDS[layout.delimiter]
    reasons += [(line, f"expected {layout.width} {word}-separated numbers, found {saw} fields") for line, saw in skipped.items()]
    cat = (lambda parts: np.concatenate(parts) if parts else None)
    if time_kind == "datetime":
        layout.roles["time"] = (layout.roles["time"][0], "us")  # date-times are read as microseconds
    return Rows(layout, all_kinds, np.concatenate(values) if values else np.zeros((0, 6)), cat(times),
                cat(labels), cat(subjects), sorted(reasons))


def _classify_rejected(chunk: pd.DataFrame, bad: np.ndarray, nums: np.ndarray, kind: np.ndarray, layout: Layout,
                       cols: list[int], text_cols: set[int]) -> list[tuple[int, str]]:
    """Sort a chunk's rows that did not read as numbers (``bad``) into blank, header, numbers after all
    (``nums`` filled in) or ignored, in place in ``kind``; (row in chunk, why) of each ignored one."""
    value_cols = cols[:len(CHANNEL_KEYS)]
    # blank: a blank line, "","","", or no channel value beside numbers only (a re-saved index or time)
    empty = (chunk.iloc[bad] == "").all(axis=1).to_numpy().copy()
    rest = bad[~empty]
    if len(rest):
        sub = chunk.iloc[rest]
        no_channels = (sub[value_cols].apply(lambda c: c.str.strip(" \"'")) == "").all(axis=1).to_numpy()
        for j in np.flatnonzero(no_channels):
            others = [c.strip(" \"'") for i, c in enumerate(sub.iloc[j].tolist()) if i not in text_cols]
            if all(not c or _is_number(c, layout.decimal_comma) for c in others):
                empty[np.searchsorted(bad, rest[j])] = True
    kind[bad[empty]] = BLANK
    ignored = []
    for j in bad[~empty]:
        cells = chunk.iloc[j].tolist()
        second = _second_chance(cells, cols, layout)
        if second is not None:
            nums[j] = second
            continue
        why = _reason(cells, layout)
        if why is None:
            kind[j] = BLANK
        elif why == "header":
            kind[j] = HEADER
        else:
            kind[j] = IGNORED
            ignored.append((int(j), why))
    return ignored


def _second_chance(cells: list[str], cols: list[int], layout: Layout) -> np.ndarray | None:
    """The row's numbers once stray quotes and spaces are taken off (a mixed-quote paste), else None."""
    if cells[layout.width] != "":
        return None
    out = np.empty(len(cols))
    for i, c in enumerate(cols):
        cell = cells[c].strip().strip("\"'").strip()
        if layout.decimal_comma:
            cell = cell.replace(",", ".")
        try:
            out[i] = float(cell)
        except ValueError:
            return None
    return out if np.isfinite(out).all() else None
