"""One connection to a board: commands and replies, device info, and sample streams.

``Session.hello()`` quiets a board that was left streaming (``stop``, ``mode capture``)
and reads DEVICE_INFO. ``Session.stream()`` sends ``start`` and yields the samples as
they arrive (sequence numbers, device times, raw counts), raising ``PortGone`` when the
port disappears and ``ReadTimeout`` when the board goes silent; the caller decides
when it has enough and calls ``stop_stream()``. ``TakeBuffer`` collects one take's
samples and its integrity counters (lost samples, timing) as they arrive, so a take
cut short by an unplugged cable can still be saved.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from capture.errors import CaptureError, ReadTimeout
from capture.wire import protocol_spec as spec
from capture.wire.ports import Port
from capture.wire.protocol import Frame, FrameDecoder, SampleBlock, SampleTracker, command_line

NO_SAMPLES_TIMEOUT_S = 2.0
REPLY_TIMEOUT_S = 2.0


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
        """Counts -> g (three accelerometer channels) and deg/s (three gyroscope channels)."""
        return np.array([self.accel_g_per_count] * 3 + [self.gyro_dps_per_count] * 3, dtype=np.float64)

    @property
    def firmware(self) -> str:
        f = self.fields
        return f"{f['fw_major']}.{f['fw_minor']}.{f['fw_patch']}"

    def describe(self) -> str:
        return f"{self.board} with {self.imu} at {self.rate_hz:g} Hz (firmware {self.firmware})"


@dataclass
class TakeBuffer:
    """Samples of one take as they arrive (kept on errors so a partial take can be saved)."""

    wanted: int
    tracker: SampleTracker
    t_us: list = field(default_factory=list)
    counts: list = field(default_factory=list)
    received: int = 0

    def add(self, seq: np.ndarray, t_us: np.ndarray, counts: np.ndarray) -> int:
        """Add up to the missing number of samples; return how many were taken."""
        take = min(len(seq), self.wanted - self.received)
        if take <= 0:
            return 0
        self.t_us.append(self.tracker.update_block(seq[:take], t_us[:take]))
        self.counts.append(np.asarray(counts[:take], dtype=np.int64))
        self.received += take
        return take

    @property
    def full(self) -> bool:
        return self.received >= self.wanted

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.received:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 6), dtype=np.int64)
        return np.concatenate(self.t_us), np.concatenate(self.counts)


@dataclass
class StreamChunk:
    """Samples that arrived together (``seq``/``t_us`` uint32, ``counts`` (n, 6) int16),
    or, when ``other_seq`` is set, the sequence number of a non-sample frame."""

    seq: np.ndarray | None = None
    t_us: np.ndarray | None = None
    counts: np.ndarray | None = None
    other_seq: int | None = None


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
        """Quiet the board, select capture mode and read its DEVICE_INFO."""
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
        """The board's own count of samples it could not send (None if it does not answer)."""
        try:
            return int(self.wait_for(spec.MSG_STATUS, "status", timeout_s=1.0).fields()["samples_dropped"])
        except (ReadTimeout, CaptureError):
            return None

    def stream(self, what: str = "samples") -> Iterator[StreamChunk]:
        """``start`` and yield what arrives until the caller stops iterating.

        Raises ``PortGone`` if the port disappears, ``ReadTimeout`` after
        ``NO_SAMPLES_TIMEOUT_S`` without a frame (``what`` names the wait in the message),
        ``CaptureError`` if the board reports an error.
        """
        self.send("start")
        last_frame = time.monotonic()
        while True:
            for item in self._pump():
                last_frame = time.monotonic()
                if isinstance(item, SampleBlock):
                    yield StreamChunk(item.seq, item.t_us, item.counts)
                elif item.type == spec.MSG_SAMPLE:
                    counts = np.frombuffer(item.payload[:12], dtype="<i2").reshape(1, 6)
                    yield StreamChunk(np.array([item.seq], np.uint32), np.array([item.t_us], np.uint32), counts)
                elif item.type == spec.MSG_ERROR:
                    f = item.fields()
                    raise CaptureError(f"the board reported an error while streaming: "
                                       f"{spec.ERROR_NAMES.get(f['code'], f['code'])} {f['message']}".strip())
                else:
                    yield StreamChunk(other_seq=item.seq)  # responses share the frame counter
            if time.monotonic() - last_frame > NO_SAMPLES_TIMEOUT_S:
                raise ReadTimeout(f"{self.port.name}: no samples for {NO_SAMPLES_TIMEOUT_S:g} s ({what})")

    def stop_stream(self) -> None:
        self.send("stop")
        self.drain()
