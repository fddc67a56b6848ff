"""How fast capture decodes samples, and what it does with corrupted bytes.

Prints two tables:
1. samples/s for FrameDecoder on N encoded SAMPLE frames (as SampleBlocks, and as one
   Frame object per sample), versus parsing the same samples as IMU_Capture text lines;
2. with bytes corrupted at a given rate: frames corrupted, detected (dropped), and
   accepted-corrupt (a corrupted frame handed to the caller: must be 0).

    python bench/bench_decoder.py [--n 200000] [--chunk 4096] [--error-rate 1e-4]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from capture.wire.protocol import SAMPLE_FRAME_BYTES, FrameDecoder, SampleBlock, encode_samples

SCALE = np.array([0.000122] * 3 + [0.07] * 3)


def chunks(data: bytes, size: int):
    for i in range(0, len(data), size):
        yield data[i:i + size]


def best_of(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def decode_blocks(data: bytes, chunk: int) -> int:
    d, n = FrameDecoder(), 0
    for c in chunks(data, chunk):
        for item in d.feed_blocks(c):
            n += len(item) if isinstance(item, SampleBlock) else 1
    return n


def decode_frames(data: bytes, chunk: int) -> int:
    d, n = FrameDecoder(), 0
    for c in chunks(data, chunk):
        n += len(d.feed(c))
    return n


def parse_text(text: bytes) -> int:
    n = 0
    for line in text.decode().splitlines():
        if line:
            [float(v) for v in line.split(",")]
            n += 1
    return n


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=200_000, help="samples (default 200000)")
    p.add_argument("--chunk", type=int, default=4096, help="bytes per feed, like serial reads (default 4096)")
    p.add_argument("--error-rate", type=float, default=1e-4, help="fraction of bytes corrupted (default 1e-4)")
    a = p.parse_args(argv)

    rng = np.random.default_rng(0)
    counts = rng.integers(-8000, 8000, size=(a.n, 6)).astype(np.int16)
    seq = np.arange(a.n, dtype=np.uint64)
    t_us = (seq * 8403) % 2**32
    frames = encode_samples(seq, t_us, counts)
    text = "".join(",".join(f"{v:.3f}" for v in row) + "\n" for row in counts * SCALE).encode()

    rows = [
        ("FrameDecoder.feed_blocks (numpy fast path)", len(frames), best_of(lambda: decode_blocks(frames, a.chunk))),
        (f"  same, fed {16 * a.chunk} bytes at a time", len(frames), best_of(lambda: decode_blocks(frames, 16 * a.chunk))),
        ("FrameDecoder.feed (one Frame per sample)", len(frames), best_of(lambda: decode_frames(frames, a.chunk), 1)),
        ("IMU_Capture text lines (float parse)", len(text), best_of(lambda: parse_text(text), 1)),
    ]
    assert decode_blocks(frames, a.chunk) == a.n and parse_text(text) == a.n
    print(f"decoding {a.n} samples, fed in chunks of {a.chunk} bytes")
    print(f"{'method':46s} {'bytes':>10s} {'seconds':>8s} {'samples/s':>12s}")
    for name, nbytes, secs in rows:
        print(f"{name:46s} {nbytes:10d} {secs:8.3f} {a.n / secs:12,.0f}")

    # Corruption: flip random bits in a fraction of the bytes.
    bad = np.frombuffer(frames, dtype=np.uint8).copy()
    hit = np.flatnonzero(rng.random(len(bad)) < a.error_rate)
    bad[hit] ^= rng.integers(1, 256, size=len(hit)).astype(np.uint8)
    corrupted_frames = np.unique(hit // SAMPLE_FRAME_BYTES)
    d = FrameDecoder()
    got = []
    for c in chunks(bad.tobytes(), a.chunk):
        got.extend(d.feed_blocks(c))
    accepted_seq = np.concatenate([b.seq for b in got if isinstance(b, SampleBlock)] +
                                  [np.array([f.seq for f in got if not isinstance(f, SampleBlock)], dtype=np.uint32)])
    accepted_counts = np.concatenate([b.counts for b in got if isinstance(b, SampleBlock)] +
                                     [np.frombuffer(f.payload, "<i2").reshape(1, 6) for f in got
                                      if not isinstance(f, SampleBlock)])
    in_range = accepted_seq < a.n
    accepted_corrupt = int((~in_range).sum())
    idx = accepted_seq[in_range].astype(np.int64)
    accepted_corrupt += int((accepted_counts[in_range] != counts[idx]).any(axis=1).sum())
    accepted_corrupt += int(np.isin(idx, corrupted_frames).sum())
    detected = len(corrupted_frames) - int(np.isin(corrupted_frames, idx).sum())
    print()
    print(f"corruption: {len(hit)} bytes changed (rate {a.error_rate:g}) in {len(frames)} bytes")
    print(f"{'frames sent':>12s} {'corrupted':>10s} {'detected':>9s} {'accepted-corrupt':>17s} {'intact lost':>12s} "
          f"{'bytes skipped':>14s}")
    intact_lost = a.n - len(corrupted_frames) - (len(idx) - int(np.isin(idx, corrupted_frames).sum()))
    print(f"{a.n:12d} {len(corrupted_frames):10d} {detected:9d} {accepted_corrupt:17d} {intact_lost:12d} "
          f"{d.bytes_skipped:14d}")
    if accepted_corrupt:
        print("FAIL: a corrupted frame was accepted", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
