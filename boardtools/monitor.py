"""``nanogest monitor``: live predictions of a board running inference.

Switches the board to ``inference`` mode, starts its IMU stream and prints one line per
window (label, score, inference time; detections marked) on stderr, or JSON lines on
stdout with ``--json``. When the board's IMU rate differs from its model's (DEVICE_INFO) it says
so first: the board resamples. Without ``--port``, ``--model RUN_DIR --replay FILE.csv``
monitors a virtual board that plays FILE.csv through the model: an IMU_Capture CSV as it is, or a
take of a dataset (``capture.dataset``) turned into one first (``replay_file``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

from boardtools.replay import VIRTUAL_IMUS, BoardLink, start_virtual_board
from capture.wire import protocol_spec as spec
from capture.dataset import CSV_HEADER, DatasetError, read_take
from capture.errors import CaptureError
from capture.wire.ports import open_port
from contract.pipeline import CHANNELS
from contract.resample import (IMU_RATES_MHZ, IMU_SCALES, ResampleError, rate_mhz, rates_note, resample_counts,
                               values_to_counts)

IMU_CAPTURE_HEADER = ",".join(CHANNELS)  # what the virtual board's --replay reads (firmware/host/replay_imu.cpp)
TAKE_HEADER = ",".join(CSV_HEADER)


def log(message: str) -> None:
    print(f"[monitor] {message}", file=sys.stderr, flush=True)


def first_line(path: Path) -> str:
    """The file's first non-blank line without spaces, as the virtual board compares headers."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as f:
            for line in f:
                compact = "".join(line.split())
                if compact:
                    return compact
    except OSError as e:
        raise CaptureError(f"{path}: cannot read ({e.strerror})") from None
    return ""


def replay_file(path: Path, work_dir: Path, imu: str | None) -> Path:
    """The IMU_Capture CSV the virtual board plays for ``path``: ``path`` itself when it is one,
    else a take of a dataset (t_us,aX,..; its .json beside it) written to ``work_dir`` as one:
    g and deg/s at the emulated IMU's rate (``imu``, default lsm9ds1), the rate IMU_Capture
    itself runs at on that board. A take recorded at another rate is resampled in the IMU's
    counts as ``nanogest replay`` resamples it."""
    header = first_line(path)
    if header == IMU_CAPTURE_HEADER:
        return path
    if header != TAKE_HEADER:
        raise CaptureError(f"{path}: neither an IMU_Capture CSV (header {IMU_CAPTURE_HEADER}) nor a take of a dataset "
                           f"(header {TAKE_HEADER}); its first line is {header[:60]!r}")
    if imu is not None and imu not in VIRTUAL_IMUS:
        raise CaptureError(f"the virtual board emulates {' or '.join(VIRTUAL_IMUS)}, not {imu!r}")
    chip = (imu or VIRTUAL_IMUS[0]).upper()
    scales, imu_mhz = IMU_SCALES[chip], IMU_RATES_MHZ[chip]
    try:
        take = read_take(path)
    except DatasetError as e:
        raise CaptureError(str(e)) from None
    if not len(take.values):
        raise CaptureError(f"{path}: the take has no samples")
    counts = values_to_counts(take.values, *scales)
    take_mhz = rate_mhz(take.meta.rate_hz)
    if take_mhz != imu_mhz:
        try:
            counts = resample_counts(counts, take_mhz, imu_mhz)
        except ResampleError as e:
            raise CaptureError(f"{path}: cannot play a {take.meta.rate_hz:g} Hz take on a {imu_mhz / 1000:g} Hz "
                               f"IMU: {e}") from None
        log(f"{path}: a take recorded at {take.meta.rate_hz:g} Hz, resampled to {imu_mhz / 1000:g} Hz, the virtual "
            f"{chip}'s rate")
    else:
        log(f"{path}: a take recorded at {take.meta.rate_hz:g} Hz, the virtual {chip}'s rate")
    values = counts.astype(np.float64) * np.array([scales[0]] * 3 + [scales[1]] * 3)
    out = work_dir / f"{path.stem}.imu_capture.csv"
    out.write_text(IMU_CAPTURE_HEADER + "\n" + "".join(",".join(f"{v:.10g}" for v in row) + "\n" for row in values))
    return out


def prediction_record(frame, labels: list[str], output_q: tuple[float, int] | None) -> dict:
    """One PREDICTION frame as a dict with the label name (and score when the scale is known)."""
    f = frame.fields()
    index = f["label_index"]
    record = {"t_us": frame.t_us, "label": labels[index] if index < len(labels) else f"#{index}", **f}
    if output_q is not None:
        record["score"] = round(output_q[0] * (f["score_q"] - output_q[1]), 4)
    return record


def format_line(record: dict) -> str:
    score = f"{record['score']:.2f}" if "score" in record else f"q{record['score_q']}"
    mark = "  <== detected" if record.get("detected") else ""
    return f"[monitor] {record['label']:<12} score {score}  inference {record['inference_us']} us{mark}"


def monitor(port: str | None, model: Path | None, replay_csv: Path | None, seconds: float | None,
            as_json: bool, out=sys.stdout, speed: float = 1.0, imu: str | None = None) -> int:
    """Print predictions until ``seconds`` pass (None: until Ctrl-C); returns how many."""
    if port is None:
        if model is None or replay_csv is None:
            raise CaptureError("pass --port of a board running a model, or --model RUN_DIR --replay FILE.csv "
                               "for the virtual board")
        with tempfile.TemporaryDirectory(prefix="nanogest-monitor-") as tmp:  # read whole before the board is up
            board = start_virtual_board(model, replay_file(Path(replay_csv), Path(tmp), imu), speed, imu=imu)
    else:
        if imu is not None:
            raise CaptureError("--imu chooses the virtual board's IMU; a real board on --port has its own")
        board = open_port(port)
    output_q = _output_quantization(model)
    count = 0
    with board:
        link = BoardLink(board)
        link.quiet()
        link.command("mode inference")
        info = link.device_info()
        labels = info.get("labels", [])
        note = rates_note(info["rate_mhz"], info.get("model_rate_mhz", 0))
        if note:
            log(note)
        link.command("start")
        deadline = None if seconds is None else time.monotonic() + seconds
        try:
            for frame in link.frames():
                if frame.type == spec.MSG_PREDICTION:
                    record = prediction_record(frame, labels, output_q)
                    count += 1
                    if as_json:
                        print(json.dumps(record), file=out, flush=True)
                    else:
                        print(format_line(record), file=sys.stderr, flush=True)
                elif frame.type == spec.MSG_ERROR:
                    log(f"board error: {frame.fields()['message']}")
                if deadline is not None and time.monotonic() >= deadline:
                    break
        except KeyboardInterrupt:
            pass
        link.send("stop")
    return count


def _output_quantization(model: Path | None) -> tuple[float, int] | None:
    """The model's output (scale, zero point), when the run is at hand (else scores stay raw)."""
    if model is None:
        return None
    path = model / "model_int8.tflite" if model.is_dir() else model
    try:
        from converter.int8.flatbuffer import read_io  # tflite-micro (its schema) stays off the fast path

        out = read_io(path.read_bytes())[1]
        return float(out.scale), int(out.zero_point)
    except Exception:  # a display nicety only: fall back to raw scores
        return None


def main_monitor(a) -> int:
    n = monitor(a.port, a.model, a.replay, a.seconds, a.json, speed=a.speed, imu=a.imu)
    print(f"[monitor] {n} predictions", file=sys.stderr)
    return 0


MONITOR_EPILOG = """examples:
  %(prog)s --port /dev/ttyACM0
  %(prog)s --model runs/r1 --replay takes.csv --speed 5   (a virtual board playing takes.csv)"""


def add_monitor_parser(sub) -> None:
    m = sub.add_parser("monitor", help="show a board's live predictions (label, score, inference time)",
                       description=textwrap.fill(
                           "Put the board in inference mode and print each window's prediction: label, score, "
                           "inference time, and whether it was a detection. Lines go to stderr; --json prints JSON "
                           "lines on stdout instead. Ctrl-C stops.", 100),
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=MONITOR_EPILOG)
    m.add_argument("--port", default=None, help="serial device of a board flashed with a model")
    m.add_argument("--model", type=Path, default=None,
                   help="run directory: with --replay, monitor a virtual board running this model; with --port, "
                        "only used to show scores as 0..1")
    m.add_argument("--replay", type=Path, default=None, metavar="FILE.csv",
                   help="what the virtual board plays as its IMU, at the IMU's rate: an IMU_Capture CSV "
                        "(aX,aY,aZ,gX,gY,gZ in g and deg/s) or a take of a dataset (t_us,aX,...; its .json beside "
                        "it), resampled to that rate when it was recorded at another")
    m.add_argument("--imu", choices=VIRTUAL_IMUS, default=None,
                   help="the virtual board's IMU: lsm9ds1 (Rev1, 119 Hz, default) or bmi270 (Rev2, 100 Hz)")
    m.add_argument("--speed", type=float, default=1.0, help="virtual board time factor (default 1)")
    m.add_argument("--seconds", type=float, default=None, help="stop after this many seconds (default: until Ctrl-C)")
    m.add_argument("--json", action="store_true", help="JSON lines on stdout instead of readable lines on stderr")
    m.set_defaults(func=main_monitor)
