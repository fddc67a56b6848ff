"""The wire protocol as pure functions and classes: no I/O, bytes in, frames out.

``FrameDecoder`` turns an arbitrary byte stream (fed in pieces of any size) into
frames, resynchronising after any corruption: it searches for the sync bytes, checks
the length, verifies the CRC, and on any failure skips one byte and searches again. A
frame whose CRC fails is never returned. Runs of SAMPLE frames take a vectorised fast
path (numpy) and come back as one ``SampleBlock`` from ``feed_blocks``; ``feed``
returns plain ``Frame`` objects for callers that want one object per frame.

``SampleTracker`` counts lost samples from gaps in SAMPLE sequence numbers, unwraps
the device's 32-bit microsecond clock, and measures the timing jitter.

Encoders for every message live here too (the tests and the C++ comparison use them).
Layouts come from ``capture.wire.protocol_spec``, the single source of truth.
"""

from __future__ import annotations

import binascii
import struct
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from capture.errors import CaptureError
from capture.wire import protocol_spec as spec

_SYNC = bytes(spec.SYNC)
_HEADER = struct.Struct(spec.HEADER_FORMAT)
_CRC = struct.Struct("<H")
_SAMPLE_PAYLOAD = struct.Struct(spec.PAYLOADS[spec.MSG_SAMPLE][0])
SAMPLE_FRAME_BYTES = spec.HEADER_BYTES + _SAMPLE_PAYLOAD.size + spec.CRC_BYTES
_FAST_MIN_FRAMES = 4  # below this many queued sample frames the plain path is as fast
_U32 = 1 << 32

# One SAMPLE frame as a packed numpy record, for the fast path.
_SAMPLE_DTYPE = np.dtype(
    [("sync", "u1", 2), ("len", "<u2"), ("type", "u1"), ("seq", "<u4"), ("t_us", "<u4"),
     ("counts", "<i2", 6), ("crc", "<u2")]
)
assert _SAMPLE_DTYPE.itemsize == SAMPLE_FRAME_BYTES
_SAMPLE_PREFIX = np.array([*spec.SYNC, _SAMPLE_PAYLOAD.size, 0, spec.MSG_SAMPLE], dtype=np.uint8)
_CRC_AT = SAMPLE_FRAME_BYTES - spec.CRC_BYTES


def crc16(data, crc: int = spec.CRC_INIT) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor)."""
    # binascii.crc_hqx is exactly this CRC (the XMODEM polynomial, MSB first) with a
    # caller-chosen start value.
    return binascii.crc_hqx(data, crc)


_ROW_TABLES: dict[int, tuple[np.ndarray, int]] = {}


def _row_tables(k: int) -> tuple[np.ndarray, int]:
    """Per-position CRC tables for messages of ``k`` bytes.

    The CRC is affine over GF(2): crc(msg) = crc(k zero bytes) ^ XOR_j T[j][msg[j]], where
    T[j][v] is the zero-init CRC of byte v followed by k-1-j zero bytes.
    """
    if k not in _ROW_TABLES:
        tables = np.array([[binascii.crc_hqx(bytes([v]) + bytes(k - 1 - j), 0) for v in range(256)] for j in range(k)],
                          dtype=np.uint16)
        _ROW_TABLES[k] = (tables, binascii.crc_hqx(bytes(k), spec.CRC_INIT))
    return _ROW_TABLES[k]


def crc16_rows(rows: np.ndarray) -> np.ndarray:
    """CRC-16/CCITT-FALSE of every row of a (n, k) uint8 array, vectorised over rows."""
    tables, const = _row_tables(rows.shape[1])
    contributions = tables[np.arange(rows.shape[1]), rows]  # (n, k)
    return np.bitwise_xor.reduce(contributions, axis=1) ^ np.uint16(const)


class Frame(NamedTuple):
    type: int
    seq: int
    t_us: int
    payload: bytes

    @property
    def name(self) -> str:
        return spec.MESSAGE_NAMES.get(self.type, f"unknown_0x{self.type:02x}")

    def fields(self) -> dict:
        """The payload's fixed fields by name (extra trailing bytes are ignored).

        ACK adds ``command`` and ERROR adds ``message`` (their ASCII tails). An unknown
        type or a payload shorter than its layout raises ``ProtocolError``.
        """
        if self.type not in spec.PAYLOADS:
            raise ProtocolError(f"frame type 0x{self.type:02x} is not in this protocol version")
        fmt, names = spec.PAYLOADS[self.type]
        size = struct.calcsize(fmt) if fmt else 0
        if len(self.payload) < size:
            raise ProtocolError(f"{self.name} payload has {len(self.payload)} bytes, its layout needs {size}")
        out = dict(zip(names, struct.unpack_from(fmt, self.payload))) if fmt else {}
        if self.type == spec.MSG_ACK:
            out["command"] = self.payload.decode("ascii", "replace")
        elif self.type == spec.MSG_ERROR:
            out["message"] = self.payload[size:].decode("ascii", "replace")
        elif self.type == spec.MSG_PREDICTION and len(self.payload) >= size + _PREDICTION_TAIL.size:
            out.update(zip(spec.PREDICTION_TAIL[1], _PREDICTION_TAIL.unpack_from(self.payload, size)))
        elif self.type == spec.MSG_DEVICE_INFO and len(self.payload) > size:
            out["labels"] = decode_label_tail(self.payload[size:])
        return out


@dataclass
class SampleBlock:
    """A run of consecutive SAMPLE frames, decoded at once."""

    seq: np.ndarray  # (n,) uint32
    t_us: np.ndarray  # (n,) uint32
    counts: np.ndarray  # (n, 6) int16, CHANNELS order

    def __len__(self) -> int:
        return len(self.seq)

    def frames(self) -> list[Frame]:
        payloads = self.counts.astype("<i2").tobytes()
        step = _SAMPLE_PAYLOAD.size
        return [
            Frame(spec.MSG_SAMPLE, s, t, payloads[i * step:(i + 1) * step])
            for i, (s, t) in enumerate(zip(self.seq.tolist(), self.t_us.tolist()))
        ]


class ProtocolError(CaptureError):
    """A frame or field does not follow the protocol."""


_PREDICTION_TAIL = struct.Struct(spec.PREDICTION_TAIL[0])
_LABEL_COUNT = struct.Struct(spec.DEVICE_INFO_TAIL_COUNT_FORMAT)


def decode_label_tail(tail: bytes) -> list[str]:
    """The label names of a DEVICE_INFO tail (label_count, then NUL-terminated names)."""
    (count,) = _LABEL_COUNT.unpack_from(tail)
    names = tail[_LABEL_COUNT.size:].split(b"\0")
    if count > len(names) - 1:  # each name ends with a NUL, so one more piece than names
        raise ProtocolError(f"device_info announces {count} labels but carries {len(names) - 1} names")
    return [n.decode("utf-8", "replace") for n in names[:count]]  # labels as written (contract.labels)


def encode_label_tail(labels) -> bytes:
    """The DEVICE_INFO tail for ``labels`` (what a board with a model appends)."""
    return _LABEL_COUNT.pack(len(labels)) + b"".join(label.encode("utf-8") + b"\0" for label in labels)


class FrameDecoder:
    """Bytes in, frames out; survives any corruption and counts what it dropped.

    Counters: ``frames_ok``, ``bytes_skipped`` (bytes discarded while searching for a
    frame), ``frames_rejected`` (candidate frames dropped: ``crc_failures`` +
    ``bad_lengths``).
    """

    def __init__(self) -> None:
        self._buf = b""
        self.frames_ok = 0
        self.bytes_skipped = 0
        self.crc_failures = 0
        self.bad_lengths = 0

    @property
    def frames_rejected(self) -> int:
        return self.crc_failures + self.bad_lengths

    @property
    def pending_bytes(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[Frame]:
        """Decode what ``data`` completes; one ``Frame`` per frame, in stream order."""
        out: list[Frame] = []
        for item in self.feed_blocks(data):
            if isinstance(item, SampleBlock):
                out.extend(item.frames())
            else:
                out.append(item)
        return out

    def feed_blocks(self, data: bytes) -> list[Frame | SampleBlock]:
        """Like ``feed`` but runs of SAMPLE frames come back as one ``SampleBlock``."""
        buf = self._buf + bytes(data) if self._buf else bytes(data)
        out: list[Frame | SampleBlock] = []
        pos, end = 0, len(buf)
        while True:
            at = buf.find(_SYNC, pos)
            if at < 0:
                # Keep a trailing first sync byte: its partner may be in the next feed.
                keep = 1 if end > pos and buf[end - 1] == _SYNC[0] else 0
                self.bytes_skipped += end - pos - keep
                pos = end - keep
                break
            self.bytes_skipped += at - pos
            pos = at
            if end - pos < spec.HEADER_BYTES:
                break
            _, _, length, ftype, seq, t_us = _HEADER.unpack_from(buf, pos)
            if length > spec.MAX_PAYLOAD:
                self.bad_lengths += 1
                self.bytes_skipped += 1
                pos += 1
                continue
            if ftype == spec.MSG_SAMPLE and length == _SAMPLE_PAYLOAD.size and (end - pos) >= _FAST_MIN_FRAMES * SAMPLE_FRAME_BYTES:
                block = self._sample_run(buf, pos, (end - pos) // SAMPLE_FRAME_BYTES)
                if block is not None:
                    out.append(block)
                    pos += len(block) * SAMPLE_FRAME_BYTES
                    continue
            frame_end = pos + spec.HEADER_BYTES + length + spec.CRC_BYTES
            if frame_end > end:
                break
            body_end = frame_end - spec.CRC_BYTES
            if crc16(memoryview(buf)[pos + 2:body_end]) != _CRC.unpack_from(buf, body_end)[0]:
                self.crc_failures += 1
                self.bytes_skipped += 1
                pos += 1
                continue
            out.append(Frame(ftype, seq, t_us, buf[pos + spec.HEADER_BYTES:body_end]))
            self.frames_ok += 1
            pos = frame_end
        self._buf = buf[pos:]
        return out

    def _sample_run(self, buf: bytes, pos: int, n: int) -> SampleBlock | None:
        """Decode the longest run of intact SAMPLE frames starting at ``pos`` (None if < 2)."""
        raw = np.frombuffer(buf, dtype=np.uint8, count=n * SAMPLE_FRAME_BYTES, offset=pos).reshape(n, SAMPLE_FRAME_BYTES)
        shape_ok = (raw[:, :5] == _SAMPLE_PREFIX).all(axis=1)
        run = n if shape_ok.all() else int(np.argmin(shape_ok))
        if run < 2:
            return None
        raw = raw[:run]
        crc_ok = crc16_rows(raw[:, 2:_CRC_AT]) == raw[:, _CRC_AT:].copy().view("<u2")[:, 0]
        if not crc_ok.all():
            run = int(np.argmin(crc_ok))
            if run < 2:
                return None
            raw = raw[:run]
        self.frames_ok += run
        return SampleBlock(seq=raw[:, 5:9].copy().view("<u4")[:, 0], t_us=raw[:, 9:13].copy().view("<u4")[:, 0],
                           counts=raw[:, 13:_CRC_AT].copy().view("<i2"))


# ---------------------------------------------------------------------------- encoders


def encode_frame(ftype: int, seq: int, t_us: int, payload: bytes = b"") -> bytes:
    if len(payload) > spec.MAX_PAYLOAD:
        raise ProtocolError(f"payload of {len(payload)} bytes exceeds MAX_PAYLOAD={spec.MAX_PAYLOAD}")
    head = _HEADER.pack(spec.SYNC[0], spec.SYNC[1], len(payload), ftype, seq % _U32, t_us % _U32)
    body = head + bytes(payload)
    return body + _CRC.pack(crc16(body[2:]))


def _payload(ftype: int, **values) -> bytes:
    fmt, names = spec.PAYLOADS[ftype]
    missing = [n for n in names if n not in values]
    if missing:
        raise ProtocolError(f"{spec.MESSAGE_NAMES[ftype]} needs {', '.join(missing)}")
    return struct.pack(fmt, *(values[n] for n in names))


def encode_sample(seq: int, t_us: int, counts) -> bytes:
    return encode_frame(spec.MSG_SAMPLE, seq, t_us, _SAMPLE_PAYLOAD.pack(*(int(c) for c in counts)))


def encode_samples(seq, t_us, counts) -> bytes:
    """Many SAMPLE frames at once (vectorised); arrays of n seqs, n times, (n, 6) counts."""
    seq = np.asarray(seq, dtype=np.uint64) % _U32
    rec = np.zeros(len(seq), dtype=_SAMPLE_DTYPE)
    rec["sync"] = spec.SYNC
    rec["len"] = _SAMPLE_PAYLOAD.size
    rec["type"] = spec.MSG_SAMPLE
    rec["seq"] = seq
    rec["t_us"] = np.asarray(t_us, dtype=np.uint64) % _U32
    rec["counts"] = np.asarray(counts, dtype=np.int16)
    raw = rec.view(np.uint8).reshape(len(seq), SAMPLE_FRAME_BYTES)
    rec["crc"] = crc16_rows(raw[:, 2:SAMPLE_FRAME_BYTES - spec.CRC_BYTES])
    return rec.tobytes()


def encode_device_info(seq: int, t_us: int, labels=None, **fields) -> bytes:
    tail = b"" if labels is None else encode_label_tail(labels)
    return encode_frame(spec.MSG_DEVICE_INFO, seq, t_us, _payload(spec.MSG_DEVICE_INFO, **fields) + tail)


def encode_status(seq: int, t_us: int, **fields) -> bytes:
    return encode_frame(spec.MSG_STATUS, seq, t_us, _payload(spec.MSG_STATUS, **fields))


def encode_prediction(seq: int, t_us: int, detected=None, window_index=None, **fields) -> bytes:
    """A PREDICTION frame; with ``detected`` and ``window_index`` it carries the tail too."""
    tail = b"" if detected is None else _PREDICTION_TAIL.pack(int(detected), int(window_index or 0))
    return encode_frame(spec.MSG_PREDICTION, seq, t_us, _payload(spec.MSG_PREDICTION, **fields) + tail)


def encode_ack(seq: int, t_us: int, command: str) -> bytes:
    return encode_frame(spec.MSG_ACK, seq, t_us, command.encode("ascii"))


def encode_error(seq: int, t_us: int, code: int, message: str = "") -> bytes:
    return encode_frame(spec.MSG_ERROR, seq, t_us, _payload(spec.MSG_ERROR, code=code) + message.encode("ascii"))


def command_line(command: str) -> bytes:
    """A host command as the bytes to send (ASCII line, at most COMMAND_MAX_BYTES)."""
    line = command.strip().encode("ascii") + b"\n"
    if len(line) > spec.COMMAND_MAX_BYTES:
        raise ProtocolError(f"command {command!r} is longer than {spec.COMMAND_MAX_BYTES} bytes")
    return line


# ---------------------------------------------------------------------- sample tracker


class SampleTracker:
    """Lost samples from SAMPLE sequence gaps (uint32 wrap), unwrapped time, jitter.

    The device numbers every frame it produces from one counter, so a response (ACK,
    STATUS...) in the middle of a stream also uses a number: pass those to
    ``other_frame`` so they are not taken for lost samples. A frame lost on the way
    cannot be told apart from a lost sample and counts as one.

    A sequence number that goes backwards by up to half the uint32 range (device
    restart, replayed frame) is counted in ``seq_restarts`` and not as a loss; further
    back is a wrap.
    """

    def __init__(self, nominal_rate_hz: float | None = None) -> None:
        self.nominal_rate_hz = nominal_rate_hz
        self.samples = 0
        self.samples_lost = 0
        self.seq_restarts = 0
        self._last_seq: int | None = None
        self._last_t: int | None = None  # raw uint32
        self._last_unwrapped: int | None = None
        self._periods: list[np.ndarray] = []

    def update(self, seq: int, t_us: int) -> int:
        """Account one sample; return its unwrapped time relative to the first sample."""
        return int(self.update_block(np.array([seq], dtype=np.uint32), np.array([t_us], dtype=np.uint32))[0])

    def update_block(self, seq: np.ndarray, t_us: np.ndarray) -> np.ndarray:
        """Account a run of samples; return their unwrapped times (int64 us from the first sample)."""
        seq = np.asarray(seq, dtype=np.int64)
        t_raw = np.asarray(t_us, dtype=np.int64)
        if len(seq) == 0:
            return np.zeros(0, dtype=np.int64)
        prev_seq = np.concatenate(([seq[0] - 1 if self._last_seq is None else self._last_seq], seq[:-1]))
        step = (seq - prev_seq) % _U32  # 1 when nothing was lost
        backwards = step > (_U32 // 2)
        self.seq_restarts += int(backwards.sum())
        gaps = np.where(backwards, 0, step - 1)
        self.samples_lost += int(gaps.sum())
        prev_t = np.concatenate(([t_raw[0] if self._last_t is None else self._last_t], t_raw[:-1]))
        dt = (t_raw - prev_t) % _U32
        base = 0 if self._last_unwrapped is None else self._last_unwrapped
        t_unwrapped = base + np.cumsum(dt)
        periods = (dt / (gaps + 1))[~backwards]
        if self._last_t is None:
            periods = periods[1:]
        self._periods.append(periods)
        self._last_seq = int(seq[-1])
        self._last_t = int(t_raw[-1])
        self._last_unwrapped = int(t_unwrapped[-1])
        self.samples += len(seq)
        return t_unwrapped.astype(np.int64)

    def other_frame(self, seq: int) -> None:
        """A non-SAMPLE frame arrived: its number is accounted, not counted as lost."""
        if self._last_seq is not None:
            step = (int(seq) - self._last_seq) % _U32
            if step > _U32 // 2:
                self.seq_restarts += 1
            else:
                self.samples_lost += step - 1
        self._last_seq = int(seq)

    def timing(self) -> dict:
        """Measured sample period and jitter in microseconds (empty before two samples)."""
        periods = np.concatenate(self._periods) if self._periods else np.zeros(0)
        if len(periods) == 0:
            return {}
        out = {
            "period_us_mean": float(periods.mean()),
            "jitter_us_std": float(periods.std()),
            "jitter_us_max": float(np.abs(periods - periods.mean()).max()),
            "rate_hz_measured": 1e6 / float(periods.mean()) if periods.mean() > 0 else 0.0,
        }
        if self.nominal_rate_hz:
            nominal = 1e6 / self.nominal_rate_hz
            out["jitter_us_max_vs_nominal"] = float(np.abs(periods - nominal).max())
        return out
