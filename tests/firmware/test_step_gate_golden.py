"""The novelty gate of a step model (a GRU): the core gathers the vector lengths step by step as
InferencePipeline feeds them (ng::length_gate_add_step on each step's chunk, firmware/host/gate_vectors
`lsteps`, on the host and on Cortex-M4F in QEMU), and every float32 statistic, distance, firing and
overridden score equals converter/gate.py's on the samples the window's steps read
(contract.input.step_window_samples), bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from contract.input import step_window_samples
from converter.gate import gate_distances, gate_fires
from test_gate_golden import Block, host_gate_vectors, qemu_gate_vectors
from test_length_gate_golden import assert_core_equals_python, block, level_edge_blocks, vectors_text

# (samples per step, stride, steps): a plain GRU; cnn-gru's default front end (16 every 4); steps that
# overlap; a stride past the chunk (samples no step reads); a chunk equal to the stride
PLANS = [(1, 1, 60), (16, 4, 12), (3, 2, 4), (1, 2, 5), (5, 5, 3)]


def span(chunk: int, stride: int, steps: int) -> int:
    """Samples from a window's first step's first to its last step's last."""
    return (steps - 1) * stride + chunk


def read(b: Block, plan) -> Block:
    """The block as the gate reads it: each window's samples its steps read, in the order they are counted."""
    return Block(b.c, b.zero_point, b.q[:, step_window_samples(*plan)], b.scores)


def step_blocks() -> list[tuple[tuple, Block]]:
    """(plan, block of whole spans): random constants, the level at the median distance of what the gate reads,
    and the first plan's windows again with the level at one window's distance and the float32 below it."""
    rng = np.random.default_rng(20)
    out = []
    for plan in PLANS:
        b = block(rng, span(*plan), int(rng.integers(-128, 128)), 6, 5)
        seen = read(b, plan)
        level = np.float32(np.median(gate_distances(seen.q, b.zero_point, b.c)))
        c = type(b.c)(b.c.input_scale, b.c.input_offset, b.c.weights, b.c.bias, level, b.c.unknown_index)
        out.append((plan, Block(c, b.zero_point, b.q, b.scores)))
    first_plan, first = out[0]
    edges = level_edge_blocks(read(first, first_plan))  # the level computed on what the gate reads
    out += [(first_plan, Block(e.c, first.zero_point, first.q, first.scores)) for e in edges]
    return out


def steps_text(blocks) -> str:
    """gate_vectors' words: each block's gate, `lsteps`, then its windows."""
    text = []
    for (chunk, stride, _), b in blocks:
        lines = vectors_text([b]).splitlines()
        first_window = next(i for i, line in enumerate(lines) if line.startswith("window "))
        text += lines[:first_window] + [f"lsteps {chunk} {stride}"] + lines[first_window:]
    return "\n".join(text) + "\n"


def assert_steps_equal_python(stdout: str, blocks) -> None:
    assert_core_equals_python(stdout, [read(b, plan) for plan, b in blocks])


def test_the_step_vectors_fire_and_keep():
    """What the golden tests below rest on: each plan's windows on both sides of the level, and a window exactly
    at the level (kept) that fires one float32 below it."""
    blocks = step_blocks()
    for plan, b in blocks[:len(PLANS)]:
        fires = gate_fires(read(b, plan).q, b.zero_point, b.c)
        assert 0 < fires.sum() < len(fires), plan
    (plan, at), (_, below) = blocks[-2:]
    d = gate_distances(read(at, plan).q, at.zero_point, at.c)
    assert (d == at.c.level).sum() >= 1 and (d > below.c.level).sum() > (d > at.c.level).sum()


def test_the_samples_a_step_model_reads():
    assert step_window_samples(3, 2, 4).tolist() == list(range(9))  # overlapping chunks: each sample once
    assert step_window_samples(1, 2, 5).tolist() == [0, 2, 4, 6, 8]  # a stride past the chunk skips samples
    assert step_window_samples(16, 4, 12).tolist() == list(range(60))


def test_core_step_gate_equals_converter_gate_on_the_host(host_build):
    blocks = step_blocks()
    assert_steps_equal_python(host_gate_vectors(host_build, steps_text(blocks)), blocks)


def test_core_step_gate_equals_converter_gate_on_cortex_m4_in_qemu(tmp_path):
    blocks = step_blocks()
    assert_steps_equal_python(qemu_gate_vectors(tmp_path, steps_text(blocks)), blocks)


@pytest.mark.parametrize("words", ["lsteps 0 1", "lsteps 4 3"])
def test_a_bad_steps_word_is_named(host_build, words):
    """A chunk of 0, or windows no whole number of steps long (60 samples: never 4 + 3k), are refused."""
    import subprocess

    b = step_blocks()[0][1]
    text = vectors_text([b]).replace("window ", f"{words}\nwindow ", 1)
    out = subprocess.run([str(host_build / "gate_vectors")], input=text, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "cannot read 'lsteps'" in out.stderr
