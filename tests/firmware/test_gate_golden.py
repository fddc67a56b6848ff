"""The novelty gate: the core's ng_gate (firmware/host/gate_vectors, on the host and on Cortex-M4F in
QEMU) computes every statistic, distance, firing and overridden score exactly as converter/gate.py,
and the recognition path built with a converter-written header with a gate (postprocess_vectors, the
real InferencePipeline) reports unknown for exactly the windows converter/gate.py makes unknown."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

import numpy as np
import pytest

from boardtools.replay import board_windows, input_tensors
from capture.errors import CaptureError
from contract.fields import NoveltyGate
from converter.gate import (MEAN_SCALE, GateConstants, LengthGateConstants, gate_constants, gate_distances,
                            gate_fires, override, window_statistics)
from converter.postprocess import detections, reported_top, settings_from_contract, window_motion
from run_programs import compiled_settings, default_header, header_with, programs
from toolchains import FIRMWARE, need_tools

FEATURES = 24  # 4 statistics x 6 channels
QEMU_FLAGS = ["-M", "mps2-an386", "-nographic", "-semihosting-config", "enable=on,target=native", "-monitor", "none"]


@dataclass
class Block:
    """Windows checked against one set of gate constants."""

    c: GateConstants | LengthGateConstants
    zero_point: int
    q: np.ndarray  # (n, W, 6) int8
    scores: np.ndarray  # (n, labels) int8


def edge_windows(w: int, z: int) -> np.ndarray:
    """The int8 extremes: all -128, all 127, all at the zero point, alternating -128/127, one spike."""
    alternating = np.where(np.arange(w)[:, None] % 2 == 0, -128, 127) * np.ones((1, 6), int)
    spike = np.full((w, 6), z)
    spike[w // 2, ::2] = 127
    spike[w // 2, 1::2] = -128
    flat = [np.full((w, 6), v) for v in (-128, 127, z)]
    return np.stack([*flat, alternating, spike]).astype(np.int8)


def random_windows(rng, n: int, w: int, z: int) -> np.ndarray:
    """Half spread over the whole int8 range, half close to the zero point (small statistics)."""
    wide = rng.integers(-128, 128, (n - n // 2, w, 6))
    near = np.clip(z + rng.integers(-6, 7, (n // 2, w, 6)), -128, 127)
    return np.concatenate([wide, near]).astype(np.int8)


def constants(weights, bias, level: int, unknown: int) -> GateConstants:
    return GateConstants(np.asarray(weights, np.int16).reshape(FEATURES, FEATURES), np.asarray(bias, np.int64),
                         int(level), unknown)


def random_block(rng, w: int, z: int, labels: int, unknown: int) -> Block:
    """Random constants over the whole int16 range, the level at the median distance: some fire, some not."""
    q = np.concatenate([random_windows(rng, 40, w, z), edge_windows(w, z)])
    c = constants(rng.integers(-32767, 32768, FEATURES * FEATURES), rng.integers(-10**9, 10**9, FEATURES), 0, unknown)
    level = int(np.median(gate_distances(q, z, c)))
    scores = rng.integers(-128, 128, (len(q), labels)).astype(np.int8)
    return Block(constants(c.weights, c.bias, level, unknown), z, q, scores)


def level_edge_blocks(block: Block) -> list[Block]:
    """The same windows with the level at one window's distance (it does not fire) and one below it
    (d = level + 1: it fires)."""
    d = gate_distances(block.q, block.zero_point, block.c)
    i = int(np.argsort(d)[len(d) // 3])
    return [Block(constants(block.c.weights, block.c.bias, level, block.c.unknown_index), block.zero_point, block.q,
                  block.scores) for level in (d[i], d[i] - 1)]


def overflow_blocks(rng, labels: int) -> list[Block]:
    """Every weight at +-32767 and the largest statistics: distances far past int32, and biases of 1e15."""
    blocks = []
    for sign, z in ((1, -128), (-1, 127)):
        q = np.concatenate([edge_windows(64, z), random_windows(rng, 6, 64, z)])
        bias = rng.integers(-10**15, 10**15, FEATURES)
        c = constants(np.full(FEATURES * FEATURES, sign * 32767), bias, 0, labels - 1)
        level = int(np.median(gate_distances(q, z, c)))
        blocks.append(Block(constants(c.weights, bias, level, labels - 1), z, q,
                            rng.integers(-128, 128, (len(q), labels)).astype(np.int8)))
    return blocks


def golden_blocks() -> list[Block]:
    rng = np.random.default_rng(11)
    blocks = [random_block(rng, 119, -3, 6, 5), random_block(rng, 1, 127, 4, 0), random_block(rng, 2, -128, 5, 2),
              random_block(rng, 7, 0, 6, 3), random_block(rng, 512, 40, 6, 5)]
    return blocks + level_edge_blocks(blocks[0]) + level_edge_blocks(blocks[3]) + overflow_blocks(rng, 6)


def vectors_text(blocks: list[Block]) -> str:
    """The words firmware/host/gate_vectors reads."""
    lines = []
    for b in blocks:
        n, w, _ = b.q.shape
        lines += [f"gate {MEAN_SCALE} {b.c.level} {b.zero_point} {w} {b.scores.shape[1]} {b.c.unknown_index}",
                  "weights " + " ".join(map(str, b.c.weights.ravel().tolist())),
                  "bias " + " ".join(map(str, b.c.bias.tolist()))]
        lines += window_lines(b)
    return "\n".join(lines) + "\n"


def window_lines(b) -> list[str]:
    """A block's windows and scores as gate_vectors reads them."""
    return ["window " + " ".join(map(str, q.ravel().tolist())) + " " + " ".join(map(str, s.tolist()))
            for q, s in zip(b.q, b.scores)]


def assert_rows_are(stdout: str, blocks: list, expected) -> None:
    """gate_vectors' rows are, per block, ``expected(block)``'s (statistics, distances) as the words it prints,
    whether the gate fires, and the scores after the override, as converter/gate.py has them."""
    rows = [line.split() for line in stdout.splitlines()]
    assert len(rows) == sum(len(b.q) for b in blocks)
    k = 0
    for b in blocks:
        got = np.array(rows[k:k + len(b.q)], dtype=np.int64)
        k += len(b.q)
        stats, distances = expected(b)
        n = stats.shape[1]
        fires = gate_fires(b.q, b.zero_point, b.c)
        assert np.array_equal(got[:, :n], stats) and np.array_equal(got[:, n], distances)
        assert np.array_equal(got[:, n + 1] == 1, fires)
        assert np.array_equal(got[:, n + 2:], override(b.scores, fires, b.c.unknown_index))


def assert_core_equals_python(stdout: str, blocks: list[Block]) -> None:
    assert_rows_are(stdout, blocks, lambda b: (window_statistics(b.q, b.zero_point),
                                               gate_distances(b.q, b.zero_point, b.c)))


def test_the_vectors_reach_the_edges():
    """What the golden tests below rest on: both sides of the level, exactly at it, and past int32."""
    blocks = golden_blocks()
    fires = np.concatenate([gate_fires(b.q, b.zero_point, b.c) for b in blocks])
    assert 0.3 < fires.mean() < 0.7
    at, above = (gate_distances(b.q, b.zero_point, b.c) - b.c.level for b in blocks[5:7])
    assert (at == 0).sum() >= 1 and (above == 1).sum() >= 1
    assert max(int(gate_distances(b.q, b.zero_point, b.c).max()) for b in blocks[-2:]) > 2**34
    assert max(abs(int(b.c.bias.max())) for b in blocks[-2:]) > 2**48


def host_gate_vectors(host_build, text: str) -> str:
    """What the host's gate_vectors prints for these vectors."""
    out = subprocess.run([str(host_build / "gate_vectors")], input=text, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def qemu_gate_vectors(tmp_path, text: str) -> str:
    """What gate_vectors built for Cortex-M4F prints for these vectors under QEMU."""
    need_tools("make", "arm-none-eabi-g++", "qemu-system-arm")
    build = subprocess.run(["make", "-C", str(FIRMWARE), "gate-vectors-arm"], capture_output=True, text=True,
                           timeout=600)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    (tmp_path / "gate_vectors.txt").write_text(text)
    out = subprocess.run(["qemu-system-arm", *QEMU_FLAGS, "-kernel", str(FIRMWARE / "build/arm/gate_vectors.elf")],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    return out.stdout


def test_core_gate_equals_converter_gate_on_the_host(host_build):
    blocks = golden_blocks()
    assert_core_equals_python(host_gate_vectors(host_build, vectors_text(blocks)), blocks)


def test_core_gate_equals_converter_gate_on_cortex_m4_in_qemu(tmp_path):
    blocks = golden_blocks()
    assert_core_equals_python(qemu_gate_vectors(tmp_path, vectors_text(blocks)), blocks)


# ------------------------------------------------------------------ the recognition path

LSM = (0.000122, 0.07)
DEFAULT_RUN = FIRMWARE / "build" / "host" / "default_run"


def gated_contract_and_header(counts: list[np.ndarray], statistics: str = "window"):
    """The default run's contract with an unknown label and a gate of these ``statistics`` whose level falls
    mid-way through these takes' windows, and the model_settings.h the converter writes for it (the
    committed model's tensors)."""
    from converter.headers import fnv1a32, model_settings_h
    from converter.int8.flatbuffer import read_io
    from converter.run_dir import load_contract

    model = (DEFAULT_RUN / "model_int8.tflite").read_bytes()
    inp, out = read_io(model)
    base = load_contract(DEFAULT_RUN)
    rng = np.random.default_rng(3)
    n = FEATURES if statistics == "window" else 8
    weights = tuple(tuple(float(v) for v in row) for row in rng.normal(0.0, 1.0, (n, n)))
    bias = tuple(float(v) for v in rng.normal(0.0, 1.0, n))
    record = {"statistics": statistics, "keep_percent": 95.0, "held_out_groups": 3, "held_out_windows": 1234}
    labels = base.labels if "unknown" in base.labels else [*base.labels, "unknown"]
    contract = base.replace(labels=labels, unknown_label="unknown", novelty_gate=NoveltyGate(weights, bias, 1.0, record))
    c = gate_constants(contract, (inp.scale, inp.zero_point))
    q = np.concatenate([input_tensors(x, contract, LSM, (inp.scale, inp.zero_point)) for x in counts])
    median = float(np.median(gate_distances(q, inp.zero_point, c)))  # in the header's numbers, for level 1.0
    contract = contract.replace(novelty_gate=NoveltyGate(weights, bias, median / float(c.level), record))
    return contract, model_settings_h(contract, inp, out, 8192, fnv1a32(model)), (inp.scale, inp.zero_point)


@pytest.mark.parametrize("statistics", ["lengths", "window"])
def test_the_pipeline_reports_unknown_for_the_windows_the_gate_fires_on(host_build, statistics):
    """Takes of counts through the core's InferencePipeline built with the converter's header for a contract
    with a gate: its decisions are converter/postprocess.py's on the scores converter/gate.py overrides."""
    from test_postprocess_golden import core_decisions, scores_for_windows, takes_of_counts

    rng = np.random.default_rng(9)
    base = load_default_contract()
    takes = takes_of_counts(rng, base.window)
    contract, header, input_q = gated_contract_and_header(takes, statistics)
    assert ("kGateLengths = true" in header) == (statistics == "lengths")
    c = gate_constants(contract, input_q)
    printed = compiled_settings(programs(header))  # virtual_board --print-settings names the gate and its level
    level = np.float32(printed["gate_level"]) if statistics == "lengths" else int(printed["gate_level"])
    assert printed["novelty_gate"] == statistics and level == c.level
    assert compiled_settings(programs(header_with(header, kGateEnabled="false")))["novelty_gate"] == "none"
    c = gate_constants(contract, input_q)
    n_labels, unknown = len(contract.labels), contract.unknown_index
    scores = [scores_for_windows(rng, len(board_windows(t, contract.window, contract.hop)), n_labels) for t in takes]
    cpp_label, cpp_score, cpp_detected, _ = core_decisions(header, takes, scores, contract.window, contract.hop)

    settings = settings_from_contract(contract, (1 / 256, -128))
    fires = [gate_fires(input_tensors(t, contract, LSM, input_q), input_q[1], c) for t in takes]
    gated = [override(sc, f, unknown) for sc, f in zip(scores, fires)]
    motion = [window_motion(board_windows(t, contract.window, contract.hop), *LSM, settings.motion_accel_weight)
              for t in takes]
    ends = [contract.window + contract.hop * np.arange(len(sc)) for sc in gated]
    py_label, py_score = reported_top(np.concatenate(gated), settings)
    py_detected = np.concatenate([detections(sc, e, m, settings) for sc, e, m in zip(gated, ends, motion)])
    all_fires = np.concatenate(fires)
    assert 0.2 < all_fires.mean() < 0.8  # the gate really splits these windows
    assert np.array_equal(cpp_label, py_label) and np.array_equal(cpp_score, py_score)
    assert np.array_equal(cpp_detected, py_detected)
    assert (cpp_label[all_fires] == unknown).all() and not cpp_detected[all_fires].any()
    ungated_label, _ = reported_top(np.concatenate(scores), settings)  # what it lets through keeps the model's say
    assert np.array_equal(cpp_label[~all_fires], ungated_label[~all_fires]) and cpp_detected[~all_fires].sum() >= 1


def load_default_contract():
    from converter.run_dir import load_contract

    return load_contract(DEFAULT_RUN)


def test_a_gate_without_an_unknown_label_does_not_build(host_build, capsys):
    """ng_header_settings.h refuses a header whose gate has no label to report, for the virtual board as for
    the board."""
    gated = header_with(default_header(), kGateEnabled="true")  # the default model's own gate, or one switched on
    with pytest.raises(CaptureError, match="building the virtual board failed"):
        programs(header_with(gated, kUnknownLabelIndex=-1))
    assert "the novelty gate reports its windows as the unknown label" in capsys.readouterr().err
