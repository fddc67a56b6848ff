"""Streaming integrity over a real pseudo-terminal: the virtual board -> capture's decoder.

Two measurements, printed as tables on stdout (progress on stderr):

1. Clean streams at 119 Hz (LSM9DS1) and 952 Hz (its fastest rate), at least 100,000
   samples each. The virtual board runs ``--speed`` times faster than real time so a run
   takes well under a minute; the host must keep up with ``rate_hz * speed`` samples per
   second. Lost samples (sequence gaps), the board's own drop counter (STATUS),
   CRC-rejected frames and the timing jitter measured from device timestamps.
2. A corrupted stream: a relay between the pty and the decoder flips bytes at random
   (1 in ``--corrupt-every`` bytes, fixed seed). The clean bytes are kept and split into
   frames, so every flipped byte is traced to its frame: how many frames were
   corrupted, how many the decoder rejected, and how many corrupted frames it
   accepted anyway (must be 0).

    python bench/bench_stream.py                      # both rates, then the corruption run
    python bench/bench_stream.py --rate-hz 952 --samples 200000 --speed 4
"""

from __future__ import annotations

import argparse
import struct
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from capture.wire import protocol_spec as spec
from capture.errors import CaptureError
from capture.wire.ports import open_port
from capture.wire.protocol import SampleTracker, encode_frame
from capture.wire.session import Session

# Speed per rate: about 2,400 samples/s, so 100,000 samples take ~42 s.
DEFAULT_SPEED = {119.0: 20.0, 952.0: 2.5}
_HEADER = struct.Struct(spec.HEADER_FORMAT)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def write_replay(path: Path, rows: int = 1000, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    values = np.hstack([rng.uniform(-3.9, 3.9, (rows, 3)), rng.uniform(-1900, 1900, (rows, 3))])
    path.write_text("aX,aY,aZ,gX,gY,gZ\n" + "\n".join(",".join(f"{v:.4f}" for v in r) for r in values) + "\n")
    return path


def stream_run(replay: Path, rate_hz: float, speed: float, samples: int) -> dict:
    """Stream ``samples`` samples through Session.stream (the recorder's path) and count."""
    with open_port(f"sim://?replay={replay}&rate={rate_hz:g}&speed={speed:g}") as port:
        s = Session(port)
        s.hello()
        dropped_before = s.samples_dropped_by_device() or 0
        tracker = SampleTracker(rate_hz)
        got, t0, last_log = 0, time.monotonic(), time.monotonic()
        for chunk in s.stream():
            if chunk.other_seq is not None:
                if got:
                    tracker.other_frame(chunk.other_seq)
                continue
            n = min(len(chunk.seq), samples - got)
            tracker.update_block(chunk.seq[:n], chunk.t_us[:n])
            got += n
            if time.monotonic() - last_log > 5:
                log(f"[bench]   {rate_hz:g} Hz: {got}/{samples} samples")
                last_log = time.monotonic()
            if got >= samples:
                break
        wall_s = time.monotonic() - t0
        s.stop_stream()
        dropped = (s.samples_dropped_by_device() or 0) - dropped_before
        timing = tracker.timing()
        return {"rate_hz": rate_hz, "speed": speed, "samples": got, "lost": tracker.samples_lost,
                "device_drops": dropped, "crc_rejected": s.decoder.frames_rejected, "wall_s": wall_s,
                "jitter_us_std": timing["jitter_us_std"], "jitter_us_max": timing["jitter_us_max"]}


class CorruptingRelay:
    """Passes bytes through, XOR-ing each with a random non-zero value with probability 1/every."""

    def __init__(self, every: int, seed: int):
        self.rng = np.random.default_rng(seed)
        self.every = every
        self.offset = 0
        self.flipped_at: list[np.ndarray] = []

    def relay(self, data: bytes) -> bytes:
        buf = np.frombuffer(data, dtype=np.uint8).copy()
        hit = np.flatnonzero(self.rng.random(len(buf)) < 1.0 / self.every)
        buf[hit] ^= self.rng.integers(1, 256, size=len(hit), dtype=np.uint8)
        self.flipped_at.append(hit + self.offset)
        self.offset += len(buf)
        return buf.tobytes()


def split_frames(clean: bytes) -> list[tuple[int, int, bytes]]:
    """(start, end, frame bytes) of every frame in a clean stream; raises if it is not one."""
    frames, pos = [], 0
    while pos + spec.HEADER_BYTES <= len(clean):
        sync0, sync1, length, _, _, _ = _HEADER.unpack_from(clean, pos)
        if (sync0, sync1) != spec.SYNC:
            raise CaptureError(f"the clean stream is not frame after frame at byte {pos}")
        end = pos + spec.HEADER_BYTES + length + spec.CRC_BYTES
        if end > len(clean):
            break
        frames.append((pos, end, clean[pos:end]))
        pos = end
    return frames


def corruption_run(replay: Path, rate_hz: float, speed: float, samples: int, every: int, seed: int) -> dict:
    relay = CorruptingRelay(every, seed)
    clean = bytearray()
    decoded = []
    with open_port(f"sim://?replay={replay}&rate={rate_hz:g}&speed={speed:g}") as port:
        s = Session(port)
        s.hello()
        s.decoder = type(s.decoder)()  # count only what the relay corrupts
        tracker = SampleTracker(rate_hz)
        s.send("start")
        approx_bytes = samples * 27
        while len(clean) < approx_bytes:
            data = port.read()
            clean += data
            for frame in s.decoder.feed(relay.relay(data)):
                decoded.append(frame)
                if frame.type == spec.MSG_SAMPLE:
                    tracker.update(frame.seq, frame.t_us)
        s.send("stop")
        rejected = s.decoder.frames_rejected
    frames = split_frames(bytes(clean))
    starts = np.array([f[0] for f in frames])
    flipped = np.concatenate(relay.flipped_at)
    flipped = flipped[flipped < frames[-1][1]]  # bytes of the last, unfinished frame do not count
    hit = set(np.searchsorted(starts, flipped, side="right") - 1)
    original = {bytes(f[2]) for f in frames}
    delivered = [encode_frame(f.type, f.seq, f.t_us, f.payload) for f in decoded]
    accepted_bad = sum(1 for d in delivered if d not in original)
    delivered_set = set(delivered)
    corrupted_delivered = sum(1 for i in hit if frames[i][2] in delivered_set)
    clean_missing = sum(1 for i, f in enumerate(frames) if i not in hit and f[2] not in delivered_set)
    return {"rate_hz": rate_hz, "speed": speed, "frames": len(frames), "bytes": frames[-1][1],
            "bytes_flipped": len(flipped), "frames_corrupted": len(hit), "detected": len(hit) - corrupted_delivered,
            "accepted": accepted_bad, "clean_frames_lost": clean_missing, "crc_rejected": rejected,
            "samples_lost_seen": tracker.samples_lost}


def table(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    cells = [[fmt.format(r[key]) for key, fmt in columns] for r in rows]
    heads = [key for key, _ in columns]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]
    line = lambda vals: "| " + " | ".join(v.rjust(w) for v, w in zip(vals, widths)) + " |"  # noqa: E731
    return "\n".join([line(heads), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, cells)])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rate-hz", type=float, default=None, help="one rate only (default: 119 and 952)")
    p.add_argument("--speed", type=float, default=None,
                   help="virtual board speed factor (default: 20 at 119 Hz, 2.5 at 952 Hz: ~2,400 samples/s)")
    p.add_argument("--samples", type=int, default=100_000, help="samples per clean run (default 100000)")
    p.add_argument("--corrupt-every", type=int, default=10_000, help="flip 1 byte in N on the relay (default 10000)")
    p.add_argument("--corrupt-samples", type=int, default=100_000, help="samples in the corruption run (default 100000)")
    p.add_argument("--seed", type=int, default=1, help="seed of the corrupting relay (default 1)")
    p.add_argument("--skip-corruption", action="store_true", help="only the clean runs")
    a = p.parse_args(argv)
    rates = [a.rate_hz] if a.rate_hz else [119.0, 952.0]
    try:
        with tempfile.TemporaryDirectory(prefix="nanogest-bench-") as tmp:
            replay = write_replay(Path(tmp) / "replay.csv")
            runs = []
            for rate in rates:
                speed = a.speed or DEFAULT_SPEED.get(rate, 2400.0 / rate)
                log(f"[bench] clean stream: {a.samples} samples at {rate:g} Hz x{speed:g} over a pty")
                runs.append(stream_run(replay, rate, speed, a.samples))
            print("Clean streams (virtual board -> pty -> FrameDecoder; speed = device time / wall time)")
            print(table(runs, [("rate_hz", "{:g}"), ("speed", "{:g}"), ("samples", "{:d}"), ("lost", "{:d}"),
                               ("device_drops", "{:d}"), ("crc_rejected", "{:d}"), ("jitter_us_std", "{:.2f}"),
                               ("jitter_us_max", "{:.2f}"), ("wall_s", "{:.1f}")]))
            if not a.skip_corruption:
                rate = rates[-1]
                speed = a.speed or DEFAULT_SPEED.get(rate, 2400.0 / rate)
                log(f"[bench] corrupted stream: {a.corrupt_samples} samples at {rate:g} Hz x{speed:g}, "
                    f"1 byte in {a.corrupt_every} flipped (seed {a.seed})")
                bad = corruption_run(replay, rate, speed, a.corrupt_samples, a.corrupt_every, a.seed)
                print(f"\nCorrupted stream (relay flips 1 byte in {a.corrupt_every}, seed {a.seed})")
                print(table([bad], [("rate_hz", "{:g}"), ("speed", "{:g}"), ("frames", "{:d}"), ("bytes", "{:d}"),
                                    ("bytes_flipped", "{:d}"), ("frames_corrupted", "{:d}"), ("detected", "{:d}"),
                                    ("accepted", "{:d}"), ("clean_frames_lost", "{:d}"),
                                    ("samples_lost_seen", "{:d}")]))
    except CaptureError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    failed = [r for r in runs if r["lost"]] + ([bad] if not a.skip_corruption and bad["accepted"] else [])
    if failed:
        print("error: samples were lost or a corrupted frame was accepted (see the tables)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
