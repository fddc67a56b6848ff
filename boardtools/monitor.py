"""``python -m capture monitor``: live predictions of a board running inference.

Switches the board to ``inference`` mode, starts its IMU stream and prints one line per
window (label, score, inference time; detections marked) on stderr, or JSON lines on
stdout with ``--json``. When the board's IMU rate differs from its model's (DEVICE_INFO) it says
so first: the board resamples. Without ``--port``, ``--model RUN_DIR --replay FILE.csv``
monitors a virtual board that plays FILE.csv through the model.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from boardtools.replay import VIRTUAL_IMUS, BoardLink, start_virtual_board
from capture import protocol_spec as spec
from capture.errors import CaptureError
from capture.ports import open_port
from contract.resample import rates_note


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
        board = start_virtual_board(model, replay_csv, speed, imu=imu)
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
            print(f"[monitor] {note}", file=sys.stderr, flush=True)
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
                    print(f"[monitor] board error: {frame.fields()['message']}", file=sys.stderr, flush=True)
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
        from converter.flatbuffer import read_io  # tflite-micro (its schema) stays off the fast path

        out = read_io(path.read_bytes())[1]
        return float(out.scale), int(out.zero_point)
    except Exception:  # a display nicety only: fall back to raw scores
        return None


def main_monitor(a) -> int:
    n = monitor(a.port, a.model, a.replay, a.seconds, a.json, speed=a.speed, imu=a.imu)
    print(f"[monitor] {n} predictions", file=sys.stderr)
    return 0


def add_monitor_parser(sub) -> None:
    m = sub.add_parser("monitor", help="show a board's live predictions (label, score, inference time)",
                       description="Put the board in inference mode and print each window's prediction: label, "
                                   "score, inference time, and whether it was a detection. Lines go to stderr; "
                                   "--json prints JSON lines on stdout instead. Ctrl-C stops.",
                       epilog="examples: --port /dev/ttyACM0 | --model runs/default --replay takes.csv --speed 5")
    m.add_argument("--port", default=None, help="serial device of a board flashed with a model")
    m.add_argument("--model", type=Path, default=None,
                   help="run directory: with --replay, monitor a virtual board running this model; with --port, "
                        "only used to show scores as 0..1")
    m.add_argument("--replay", type=Path, default=None, metavar="FILE.csv",
                   help="IMU_Capture CSV the virtual board plays as its IMU")
    m.add_argument("--imu", choices=VIRTUAL_IMUS, default=None,
                   help="the virtual board's IMU: lsm9ds1 (Rev1, 119 Hz, default) or bmi270 (Rev2, 100 Hz)")
    m.add_argument("--speed", type=float, default=1.0, help="virtual board time factor (default 1)")
    m.add_argument("--seconds", type=float, default=None, help="stop after this many seconds (default: until Ctrl-C)")
    m.add_argument("--json", action="store_true", help="JSON lines on stdout instead of readable lines on stderr")
    m.set_defaults(func=main_monitor)
