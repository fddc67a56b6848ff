"""Talking to a board: ``BoardLink`` (commands out, frames in, on an open ``capture.wire.ports.Port``), the
flow control that streams a take as ``sample`` lines in replay mode without losing a frame to the board's TX
ring (``chunk_samples``, ``BoardLink.send_samples``, ``board_predictions``), and a virtual board started on a
model (``start_virtual_board``; ``virtual_board_runner``: which TFLM it runs). Replay, monitor, verify-board
and stream talk to boards through it.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import serial

from capture.wire import protocol_spec as spec
from capture.errors import CaptureError
from capture.wire.ports import BAUD, Port, open_port
from capture.wire.protocol import FrameDecoder, command_line
from converter import ConverterError
from converter.board import board_tflm
from boardtools.virtual_build import board_for

REPLY_TIMEOUT_S = 30.0  # a guard against a silent board, not a speed expectation
# Windows a chunk of ``sample`` lines may complete before the host reads their PREDICTION frames
# (26 bytes each): 16 use a tenth of the board's 4 KiB TX ring, which drops frames once full.
CHUNK_WINDOWS = 16
# Samples per chunk when the model's hop is not known: even a hop of 1 sample, resampled up by the
# most the board allows (4x), completes 64 windows, under half of that ring.
ANY_HOP_CHUNK_SAMPLES = 16


def log(message: str) -> None:
    print(f"[replay] {message}", file=sys.stderr, flush=True)


class BoardLink:
    """Commands out, frames in, on an open ``capture.wire.ports.Port``."""

    def __init__(self, port) -> None:
        self.port = port
        self.decoder = FrameDecoder()
        self.pending: list = []

    def send(self, text: str) -> None:
        self.port.write(command_line(text))

    def frames(self, timeout_s: float = REPLY_TIMEOUT_S):
        """Yield frames as they arrive; CaptureError after ``timeout_s`` of silence."""
        quiet_since = time.monotonic()
        while True:
            while self.pending:
                quiet_since = time.monotonic()
                yield self.pending.pop(0)
            data = self.port.read()
            if data:
                self.pending.extend(self.decoder.feed(data))
            elif time.monotonic() - quiet_since > timeout_s:
                raise CaptureError(f"the board on {self.port.name} sent nothing for {timeout_s:g} s; is it running nanogest firmware?")

    def until_ack(self, command: str, collect=None) -> None:
        """Read up to the ACK of ``command``; other frames go to ``collect`` (ERROR raises)."""
        for frame in self.frames():
            if frame.type == spec.MSG_ERROR:
                f = frame.fields()
                raise CaptureError(f"the board refused '{command}': {f['message']} "
                                   f"({spec.ERROR_NAMES.get(f['code'], f['code'])})")
            if frame.type == spec.MSG_ACK and frame.fields()["command"] == command.split()[0]:
                return
            if collect is not None:
                collect(frame)

    def command(self, text: str, collect=None) -> None:
        self.send(text)
        self.until_ack(text, collect)

    def send_samples(self, counts: np.ndarray, chunk_samples: int, collect=None) -> None:
        """Send ``counts`` as ``sample`` lines (replay mode), ``chunk_samples`` at a time. After each
        chunk a ``ping``, and its frames are read up to the ping's ACK (to ``collect``): the board
        holds what the host has not read yet in a small TX ring and drops frames once it is full,
        and the ACK of a later ping means every earlier sample was processed (protocol_spec)."""
        for start in range(0, len(counts), chunk_samples):
            self.port.write(sample_lines(counts[start:start + chunk_samples]))
            self.command("ping", collect)

    def device_info(self) -> dict:
        got = []
        self.command("info", got.append)
        infos = [f for f in got if f.type == spec.MSG_DEVICE_INFO]
        if not infos:
            raise CaptureError("the board answered 'info' without a DEVICE_INFO frame")
        return infos[-1].fields()

    def quiet(self) -> None:
        """Stop any stream and forget what was in flight."""
        self.send("stop")
        self.until_ack("stop")


def virtual_board_runner(board_tflm_dir: Path | None = None) -> tuple[dict | None, str, dict]:
    """Which TFLM the virtual board's model child will run (converter.tflm_server): (the board
    kernels' description or None, a sentence for the summary, the environment to start it with).
    The board library is built here (cached), so the child starts at once."""
    env = dict(os.environ)
    try:
        kernels, reason = board_tflm.load_or_reason(board_tflm_dir)
    except ConverterError as e:
        raise CaptureError(str(e)) from None
    if kernels is None:
        env[board_tflm.ENV_VAR] = ""  # the child looks where this process looked, and falls back as it did
        return None, ("agreement measured against PyPI tflite-micro, not the board's kernels (sources not found at "
                      f"{board_tflm.searched_places(board_tflm_dir)})"), env
    env[board_tflm.ENV_VAR] = str(kernels.sources.root)
    return kernels.describe(), f"agreement measured against the board's kernels ({kernels.label}, built from {kernels.sources.root})", env


VIRTUAL_IMUS = ("lsm9ds1", "bmi270")  # the virtual board's --imu: Rev1 at 119 Hz, Rev2 at 100 Hz


def start_virtual_board(model: Path, replay_csv: Path | None = None, speed: float = 1.0, env: dict | None = None,
                        imu: str | None = None):
    """A virtual board running ``model`` (RUN_DIR or .tflite), as a ``capture.wire.ports.Port``: the program built
    with the run's model settings (boardtools.virtual_build). ``env``: its environment (virtual_board_runner), default
    this process's; ``imu``: one of VIRTUAL_IMUS (default lsm9ds1)."""
    try:
        binary = board_for(model)
    except ConverterError as e:
        raise CaptureError(str(e)) from None
    cmd = [str(binary), "--model", str(model), "--python", sys.executable, "--speed", f"{speed:g}"]
    if replay_csv is not None:
        cmd += ["--replay", str(replay_csv)]
    if imu is not None:
        if imu not in VIRTUAL_IMUS:
            raise CaptureError(f"the virtual board emulates {' or '.join(VIRTUAL_IMUS)}, not {imu!r}")
        cmd += ["--imu", imu]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=sys.stderr, env=env)
    line = b""
    deadline = time.monotonic() + REPLY_TIMEOUT_S
    while not line.endswith(b"\n"):
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(proc.stdout.fileno(), 1) if ready else b""
        if not chunk:
            proc.kill()
            code = proc.wait()
            raise CaptureError(f"the virtual board did not start with --model {model} (status {code}); see its message above")
        line += chunk
    pty_path = line.decode().strip()
    try:
        ser = serial.Serial(pty_path, BAUD, timeout=0.05, write_timeout=REPLY_TIMEOUT_S)
    except (serial.SerialException, OSError) as e:
        proc.kill()
        proc.wait()
        raise CaptureError(f"cannot open the virtual board's pty {pty_path} ({e})") from None
    log(f"virtual board on {pty_path} (pid {proc.pid}) running {model}")
    return Port(ser, f"virtual board ({pty_path})", process=proc)


def open_board(port: str | None, model: Path, env: dict | None = None, imu: str | None = None):
    if port is None:
        return start_virtual_board(model, env=env, imu=imu)
    return open_port(port)


def enter_replay(link: BoardLink, labels: list[str], model_bytes: bytes, run_dir: Path) -> dict:
    """Put the board in replay mode and check it runs ``model_bytes`` (labels and hash); its DEVICE_INFO."""
    from converter.headers import fnv1a32

    link.quiet()
    link.command("mode replay")
    info = link.device_info()
    if info.get("labels") != labels or info["model_hash"] != fnv1a32(model_bytes):
        raise CaptureError(f"the board runs another model (hash 0x{info['model_hash']:08x}, labels {info.get('labels')}) "
                           f"than {run_dir} (hash 0x{fnv1a32(model_bytes):08x}); flash the matching firmware")
    return info


def sample_lines(counts: np.ndarray) -> bytes:
    """``sample`` command lines of int16 counts, one per row."""
    rows = np.asarray(counts).astype(np.int64).tolist()
    return "".join(f"sample {' '.join(map(str, row))}\n" for row in rows).encode("ascii")


def chunk_samples(hop: int, imu_rate_mhz: int, model_rate_mhz: int) -> int:
    """IMU samples per chunk so that a chunk completes at most about CHUNK_WINDOWS windows: the
    board resamples them to the model's rate and completes a window every ``hop`` of those."""
    return max(1, CHUNK_WINDOWS * int(hop) * int(imu_rate_mhz) // int(model_rate_mhz))


def board_predictions(link: BoardLink, counts: np.ndarray,
                      samples_per_chunk: int = ANY_HOP_CHUNK_SAMPLES) -> list[dict]:
    """Stream one take in replay mode (in chunks, BoardLink.send_samples), so a take of any length
    loses no frame; the PREDICTION fields of its windows, in order. ``samples_per_chunk``: the
    model's ``chunk_samples`` (the default suits any model, at a ping every 16 samples)."""
    got = []
    collect = lambda f: got.append(f.fields()) if f.type == spec.MSG_PREDICTION else None  # noqa: E731
    link.command("start", collect)
    link.send_samples(counts, samples_per_chunk, collect)
    link.command("stop", collect)
    return got
