"""The novelty gate of the vector lengths: the core's ng_gate (firmware/host/gate_vectors, on the host and
on Cortex-M4F in QEMU) computes every float32 statistic and distance, the firing and the overridden
scores bit for bit as converter/gate.py."""

from __future__ import annotations

import subprocess

import numpy as np

from converter.gate import LengthGateConstants, gate_distances, gate_fires, length_statistics
from test_gate_golden import (Block, assert_rows_are, edge_windows, host_gate_vectors, qemu_gate_vectors,
                              random_windows, window_lines)

STATS = 8
# A default model's input scale times the recordings' channel std (g, dps), and their means.
SCALE = 0.0314 * np.array([0.83, 0.46, 0.72, 116.0, 110.0, 79.5])
OFFSET = np.array([0.36, 0.086, 0.65, -4.76, -4.18, -4.07])


def constants(rng, scale=SCALE, offset=OFFSET, unknown: int = 5) -> LengthGateConstants:
    f32 = np.float32
    return LengthGateConstants(np.asarray(scale, f32), np.asarray(offset, f32),
                               rng.normal(0.0, 1.0, (STATS, STATS)).astype(f32), rng.normal(0.0, 5.0, STATS).astype(f32),
                               f32(0.0), unknown)


def with_level(c: LengthGateConstants, level) -> LengthGateConstants:
    return LengthGateConstants(c.input_scale, c.input_offset, c.weights, c.bias, np.float32(level), c.unknown_index)


def block(rng, w: int, z: int, labels: int, unknown: int, **kw) -> Block:
    """Random constants, the level at the median distance: some windows fire, some not."""
    q = np.concatenate([random_windows(rng, 40, w, z), edge_windows(w, z)])
    c = constants(rng, unknown=unknown, **kw)
    c = with_level(c, np.median(gate_distances(q, z, c)))
    return Block(c, z, q, rng.integers(-128, 128, (len(q), labels)).astype(np.int8))


def level_edge_blocks(b: Block) -> list[Block]:
    """The same windows with the level at one window's distance (it does not fire) and at the float32 just
    below it (it fires)."""
    d = gate_distances(b.q, b.zero_point, b.c)
    at = d[int(np.argsort(d)[len(d) // 3])]
    return [Block(with_level(b.c, level), b.zero_point, b.q, b.scores)
            for level in (at, np.nextafter(at, np.float32(-np.inf)))]


def golden_blocks() -> list[Block]:
    rng = np.random.default_rng(21)
    blocks = [block(rng, 60, -3, 6, 5), block(rng, 1, 127, 4, 0), block(rng, 2, -128, 5, 2), block(rng, 119, 0, 6, 3),
              block(rng, 512, 40, 6, 5),
              # zero offsets and tiny scales: lengths near zero; wide scales: lengths in the thousands
              block(rng, 60, 0, 6, 5, scale=np.full(6, 1e-4), offset=np.zeros(6)),
              block(rng, 60, -128, 6, 5, scale=np.full(6, 30.0), offset=np.full(6, -500.0))]
    return blocks + level_edge_blocks(blocks[0]) + level_edge_blocks(blocks[3])


def bits(values) -> list[int]:
    return np.asarray(values, np.float32).ravel().view(np.uint32).tolist()


def vectors_text(blocks: list[Block]) -> str:
    """The words firmware/host/gate_vectors reads for a length gate."""
    lines = []
    for b in blocks:
        n, w, _ = b.q.shape
        lines += [f"lgate {bits(b.c.level)[0]} {b.zero_point} {w} {b.scores.shape[1]} {b.c.unknown_index}",
                  *(f"{word} " + " ".join(map(str, bits(v))) for word, v in
                    (("lscale", b.c.input_scale), ("loffset", b.c.input_offset), ("lweights", b.c.weights),
                     ("lbias", b.c.bias)))]
        lines += window_lines(b)
    return "\n".join(lines) + "\n"


def assert_core_equals_python(stdout: str, blocks: list[Block]) -> None:
    """Statistics and distances compared as their float32 bits."""
    assert_rows_are(stdout, blocks, lambda b: (
        np.asarray(bits(length_statistics(b.q, b.zero_point, b.c)), np.int64).reshape(-1, STATS),
        np.asarray(bits(gate_distances(b.q, b.zero_point, b.c)), np.int64)))


def test_the_vectors_reach_the_edges():
    """What the golden tests below rest on: both sides of the level, exactly at it, and the float32 below."""
    blocks = golden_blocks()
    fires = np.concatenate([gate_fires(b.q, b.zero_point, b.c) for b in blocks])
    assert 0.3 < fires.mean() < 0.7
    at, below = (gate_distances(b.q, b.zero_point, b.c) for b in blocks[7:9])
    assert (at == blocks[7].c.level).sum() >= 1 and (below > blocks[8].c.level).sum() > (at > blocks[7].c.level).sum()


def test_the_statistics_are_the_vector_lengths():
    """A window whose accelerometer reads (0.6, 0, 0.8) g and gyroscope (3, 4, 0) dps in every sample, and
    one that alternates two lengths: the statistics are what the lengths make of them, to float32."""
    c = LengthGateConstants(np.full(6, 0.1, np.float32), np.zeros(6, np.float32), np.eye(STATS, dtype=np.float32),
                            np.zeros(STATS, np.float32), np.float32(1.0), 0)
    steady = np.tile(np.array([6, 0, 8, 30, 40, 0], np.int8), (10, 1))
    alternating = np.array([[3, 4, 0, 0, 0, 0], [6, 8, 0, 0, 0, 0]] * 5, np.int8)
    s = length_statistics(np.stack([steady, alternating]), 0, c)
    np.testing.assert_allclose(s[0], [1, 1, 1, 0, 5, 5, 5, 0], atol=1e-6)
    np.testing.assert_allclose(s[1], [1, 0.5, 0.75, 0.25, 0, 0, 0, 0], atol=1e-6)
    turned = np.stack([steady[:, [1, 2, 0, 4, 3, 5]]])  # the same vectors, the board's axes permuted
    assert np.array_equal(length_statistics(turned, 0, c), s[:1])


def test_core_length_gate_equals_converter_gate_on_the_host(host_build):
    blocks = golden_blocks()
    assert_core_equals_python(host_gate_vectors(host_build, vectors_text(blocks)), blocks)


def test_core_length_gate_equals_converter_gate_on_cortex_m4_in_qemu(tmp_path):
    blocks = golden_blocks()
    assert_core_equals_python(qemu_gate_vectors(tmp_path, vectors_text(blocks)), blocks)


def test_a_bad_length_vector_word_is_named(host_build):
    out = subprocess.run([str(host_build / "gate_vectors")], input="lgate 1065353216 0 60 6\n", capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 1 and "cannot read 'lgate'" in out.stderr
