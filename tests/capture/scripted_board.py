"""A scripted board on a real pseudo-terminal, for integrity tests.

It answers the protocol's commands with frames built by ``capture.wire.protocol`` and, on
each ``start``, streams the next scripted take: sample frames with chosen sequence
gaps (lost on the way), corrupted bytes (the CRC must reject them), timestamp jitter,
and a device drop counter that STATUS reports. What the recorder makes of it is then
compared with the script.
"""

from __future__ import annotations

import os
import select
import threading
import tty
from dataclasses import dataclass, field

import numpy as np

from capture.wire import protocol as proto
from capture.wire import protocol_spec as spec

ACCEL_G_PER_COUNT = 0.000122
GYRO_DPS_PER_COUNT = 0.07


@dataclass
class ScriptedTake:
    samples: int  # samples the board produces (numbered consecutively)
    skip: tuple = ()  # sample indices never sent (a gap in the sequence numbers)
    corrupt: tuple = ()  # sample indices sent with one byte flipped
    jitter_us: tuple = ()  # (index, offset_us) pairs added to the device time
    device_dropped: int = 0  # added to STATUS.samples_dropped after this take


@dataclass
class ScriptedBoard:
    takes: list
    rate_hz: float = 100.0
    seq: int = 0
    dropped: int = 0
    take_index: int = 0
    counts_sent: list = field(default_factory=list)  # per take: (n, 6) counts of every produced sample

    def __post_init__(self):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self):
        self._stop.set()
        self._thread.join(timeout=5)
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass

    def _frame(self, encode, *args, **kwargs) -> bytes:
        data = encode(self.seq, self.seq * 1000, *args, **kwargs)
        self.seq += 1
        return data

    def _reply(self, line: str) -> bytes:
        word = line.split()[0] if line.split() else ""
        out = b""
        if word == "info":
            out += self._frame(proto.encode_device_info, protocol_version=spec.PROTOCOL_VERSION, fw_major=9,
                               fw_minor=8, fw_patch=7, board_rev=spec.BOARD_REV1, imu=spec.IMU_LSM9DS1,
                               accel_range_g=4, gyro_range_dps=2000, rate_mhz=int(self.rate_hz * 1000),
                               accel_g_per_count=ACCEL_G_PER_COUNT, gyro_dps_per_count=GYRO_DPS_PER_COUNT,
                               model_hash=0, mode=spec.MODE_CAPTURE,
                               model_rate_mhz=0)
        elif word == "status":
            out += self._frame(proto.encode_status, samples_produced=0, samples_dropped=self.dropped,
                               command_errors=0, mode=spec.MODE_CAPTURE)
        out += self._frame(proto.encode_ack, line)
        if word == "start":
            out += self._take_bytes()
        return out

    def _take_bytes(self) -> bytes:
        take = self.takes[min(self.take_index, len(self.takes) - 1)]
        self.take_index += 1
        rng = np.random.default_rng(self.take_index)
        counts = rng.integers(-3000, 3000, size=(take.samples, 6))
        self.counts_sent.append(counts)
        jitter = dict(take.jitter_us)
        period_us = 1e6 / self.rate_hz
        t0 = self.seq * 1000
        out = bytearray()
        for k in range(take.samples):
            frame = bytearray(proto.encode_sample(self.seq, int(t0 + k * period_us + jitter.get(k, 0)), counts[k]))
            self.seq += 1
            if k in take.skip:
                continue
            if k in take.corrupt:
                frame[15] ^= 0x40  # a payload byte: only the CRC can tell
            out += frame
        self.dropped += take.device_dropped
        return bytes(out)

    def _serve(self):
        pending = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                pending += os.read(self.master, 256)
            except OSError:
                return
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                line = line.decode("ascii", "replace").strip()
                if line:
                    self._write_all(self._reply(line))

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self._stop.is_set():
            try:
                view = view[os.write(self.master, view):]
            except OSError:
                return
