"""Recording labelled takes from a board (or the virtual board) into a dataset directory.

The session: ``stop`` and ``mode capture`` (so a board left streaming is quiet), ``info``
(DEVICE_INFO: IMU, rate, count scales), then for each take a countdown on stderr,
``start``, read ``round(rate_hz * seconds)`` samples, ``stop``, drain, and write the take
with ``capture.dataset.write_take`` in g and deg/s. If the port disappears or the board
goes silent mid-take, what arrived is written with ``complete=false`` before the error.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from capture import protocol_spec as spec
from capture.dataset import TakeMeta, write_take
from capture.errors import CaptureError, PortGone, ReadTimeout
from capture.ports import Port
from capture.protocol import Frame, FrameDecoder, SampleBlock, SampleTracker, command_line

NO_SAMPLES_TIMEOUT_S = 2.0
REPLY_TIMEOUT_S = 2.0
PROGRESS_EVERY_S = 0.5


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@dataclass
class DeviceInfo:
    board: str
    imu: str
    rate_hz: float
    accel_g_per_count: float
    gyro_dps_per_count: float
    fields: dict

    @classmethod
    def from_frame(cls, frame: Frame) -> DeviceInfo:
        f = frame.fields()
        if f["protocol_version"] != spec.PROTOCOL_VERSION:
            raise CaptureError(f"the board speaks protocol version {f['protocol_version']}, this capture speaks "
                               f"{spec.PROTOCOL_VERSION}; flash the matching firmware or update nanogest")
        if f["rate_mhz"] <= 0 or not (f["accel_g_per_count"] > 0 and f["gyro_dps_per_count"] > 0):
            raise CaptureError(f"the board announced an unusable rate or scale: {f}")
        return cls(
            board=spec.BOARD_NAMES.get(f["board_rev"], f"board_rev_{f['board_rev']}"),
            imu=spec.IMU_NAMES.get(f["imu"], f"imu_{f['imu']}"),
            rate_hz=f["rate_mhz"] / 1000.0,
            accel_g_per_count=float(f["accel_g_per_count"]),
            gyro_dps_per_count=float(f["gyro_dps_per_count"]),
            fields=f,
        )

    @property
    def scale(self) -> np.ndarray:
        return np.array([self.accel_g_per_count] * 3 + [self.gyro_dps_per_count] * 3, dtype=np.float64)


@dataclass
class TakeBuffer:
    """Samples of one take as they arrive (kept on errors so a partial take can be saved)."""

    wanted: int
    tracker: SampleTracker
    t_us: list = field(default_factory=list)
    counts: list = field(default_factory=list)
    received: int = 0

    def add(self, seq: np.ndarray, t_us: np.ndarray, counts: np.ndarray) -> None:
        take = min(len(seq), self.wanted - self.received)
        if take <= 0:
            return
        self.t_us.append(self.tracker.update_block(seq[:take], t_us[:take]))
        self.counts.append(np.asarray(counts[:take], dtype=np.int64))
        self.received += take

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.received:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 6), dtype=np.int64)
        return np.concatenate(self.t_us), np.concatenate(self.counts)


class Session:
    """One connection to a board: commands, replies and sample streams."""

    def __init__(self, port: Port):
        self.port = port
        self.decoder = FrameDecoder()
        self.info: DeviceInfo | None = None

    def send(self, command: str) -> None:
        self.port.write(command_line(command))

    def _pump(self) -> list:
        return self.decoder.feed_blocks(self.port.read())

    def wait_for(self, ftype: int, command: str, timeout_s: float = REPLY_TIMEOUT_S) -> Frame:
        """Send ``command`` and return the first frame of ``ftype`` (an ERROR reply raises)."""
        self.send(command)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for item in self._pump():
                if isinstance(item, SampleBlock):
                    continue
                if item.type == ftype and (ftype != spec.MSG_ACK or item.payload.split(b" ")[0] == command.split()[0].encode()):
                    return item
                if item.type == spec.MSG_ERROR:
                    f = item.fields()
                    raise CaptureError(f"the board refused {command!r}: "
                                       f"{spec.ERROR_NAMES.get(f['code'], f['code'])} {f['message']}".strip())
        if self.decoder.bytes_skipped:
            hint = (f"received {self.decoder.bytes_skipped} bytes that were not nanogest frames; is another sketch "
                    "(e.g. IMU_Capture) running? flash the nanogest firmware")
        else:
            hint = "is the nanogest firmware running on this port?"
        raise ReadTimeout(f"{self.port.name}: no reply to {command!r} within {timeout_s:g} s; {hint}")

    def drain(self, quiet_s: float = 0.15, limit_s: float = 2.0) -> None:
        """Read and discard until the port has been quiet for ``quiet_s``."""
        start = last = time.monotonic()
        while time.monotonic() - last < quiet_s and time.monotonic() - start < limit_s:
            data = self.port.read()
            if data:
                self.decoder.feed_blocks(data)
                last = time.monotonic()

    def hello(self) -> DeviceInfo:
        self.send("stop")
        try:
            self.wait_for(spec.MSG_ACK, "mode capture")
        except ReadTimeout:
            raise
        except CaptureError:
            pass  # a refusal still proves the board speaks the protocol; info decides
        self.drain()
        self.info = DeviceInfo.from_frame(self.wait_for(spec.MSG_DEVICE_INFO, "info"))
        return self.info

    def samples_dropped_by_device(self) -> int | None:
        try:
            return int(self.wait_for(spec.MSG_STATUS, "status", timeout_s=1.0).fields()["samples_dropped"])
        except (ReadTimeout, CaptureError):
            return None

    def record_take(self, buf: TakeBuffer) -> None:
        """``start``, fill ``buf``, ``stop``; raises PortGone / ReadTimeout with ``buf`` partly filled."""
        self.send("start")
        last_progress = last_report = time.monotonic()
        while buf.received < buf.wanted:
            if time.monotonic() - last_report >= PROGRESS_EVERY_S:
                log(f"[record]   {buf.received}/{buf.wanted} samples")
                last_report = time.monotonic()
            for item in self._pump():
                if isinstance(item, SampleBlock):
                    buf.add(item.seq, item.t_us, item.counts)
                elif item.type == spec.MSG_SAMPLE:
                    c = np.frombuffer(item.payload[:12], dtype="<i2").reshape(1, 6)
                    buf.add(np.array([item.seq], np.uint32), np.array([item.t_us], np.uint32), c)
                elif item.type == spec.MSG_ERROR:
                    f = item.fields()
                    raise CaptureError(f"the board reported an error while streaming: "
                                       f"{spec.ERROR_NAMES.get(f['code'], f['code'])} {f['message']}".strip())
                elif buf.received < buf.wanted:
                    buf.tracker.other_frame(item.seq)  # responses share the frame counter
                last_progress = time.monotonic()
            if time.monotonic() - last_progress > NO_SAMPLES_TIMEOUT_S:
                raise ReadTimeout(f"{self.port.name}: no samples for {NO_SAMPLES_TIMEOUT_S:g} s "
                                  f"(got {buf.received} of {buf.wanted})")
        self.send("stop")
        self.drain()


def record(port: Port, data_dir: Path, label: str, takes: int, seconds: float = 1.0, subject: str = "unknown",
           session: str = "s1", countdown_s: float = 3.0, max_lost: int | None = None) -> dict:
    """Record ``takes`` takes of ``label``; return the summary (see ``python -m capture record``)."""
    if takes < 1 or seconds <= 0:
        raise CaptureError("--takes must be at least 1 and --seconds positive")
    s = Session(port)
    info = s.hello()
    wanted = int(round(info.rate_hz * seconds))
    log(f"[record] {info.board} with {info.imu} at {info.rate_hz:g} Hz on {port.name}; "
        f"{takes} take(s) of '{label}', {wanted} samples each")
    summary = {"takes": 0, "samples": 0, "samples_lost": 0, "frames_corrupt": 0, "out": str(data_dir)}
    dropped_before = s.samples_dropped_by_device()
    for i in range(1, takes + 1):
        _countdown(label, i, takes, countdown_s)
        buf = TakeBuffer(wanted, SampleTracker(info.rate_hz))
        rejected_before = s.decoder.frames_rejected
        failure = None
        try:
            s.record_take(buf)
        except (PortGone, ReadTimeout) as e:
            failure = e
        except KeyboardInterrupt:
            failure = "interrupted (Ctrl-C)"
        dropped_now = s.samples_dropped_by_device() if failure is None else None
        dropped = (dropped_now - dropped_before) if None not in (dropped_now, dropped_before) else 0
        dropped_before = dropped_now
        meta = TakeMeta(
            label=label, rate_hz=info.rate_hz, subject=subject, session=session, board=info.board, imu=info.imu,
            source="capture", samples_lost=buf.tracker.samples_lost,
            frames_corrupt=s.decoder.frames_rejected - rejected_before, samples_dropped_by_device=max(0, dropped),
            complete=failure is None, extra={"timing": buf.tracker.timing(), "port": port.name},
        )
        path = None
        if buf.received or failure is None:
            t_us, counts = buf.arrays()
            path = write_take(data_dir, meta, t_us, counts * info.scale)
            summary["takes"] += 1
            summary["samples"] += buf.received
            summary["samples_lost"] += meta.samples_lost
            summary["frames_corrupt"] += meta.frames_corrupt
        if failure is not None:
            saved = f"wrote the {buf.received} samples received to {path} marked complete=false" if path else "nothing was saved"
            raise CaptureError(f"take {i} of {takes} ('{label}') stopped early: {failure}; {saved}. "
                               "Check the cable/board and run record again for the remaining takes.")
        log(f"[record] take {i}/{takes} '{label}': {buf.received} samples, {meta.samples_lost} lost, "
            f"{meta.frames_corrupt} corrupt frames -> {path}")
        if max_lost is not None and summary["samples_lost"] > max_lost:
            raise CaptureError(f"{summary['samples_lost']} samples lost so far, more than --max-lost {max_lost}; "
                               "use a shorter/better USB cable or close other programs reading the port")
    return summary


def _countdown(label: str, i: int, takes: int, countdown_s: float) -> None:
    if countdown_s <= 0:
        log(f"[record] take {i}/{takes}: perform '{label}' now")
        return
    log(f"[record] take {i}/{takes}: get ready to perform '{label}'")
    left = countdown_s
    while left > 0:
        log(f"[record]   {left:g}...")
        time.sleep(min(1.0, left))
        left -= 1.0
    log("[record]   go!")
