"""bench/bench_gate_arm.py builds the core's novelty gate for Cortex-M4F, runs it under QEMU and prints
its table: a row per kind of gate (the vector lengths, the default, and the window statistics) and window
length (the committed default model's and the asked one), with instructions that grow with the window,
and flash = ng_gate's kept code (the same for both kinds: gate_fires picks one at run time) + that kind's
constants, 340 bytes of floats or 1,352 of int16/int64. Takes about a second. The figures themselves are
measurements (docs/measurements.md), not asserted."""

from __future__ import annotations

import re
import subprocess
import sys

from toolchains import REPO, need_tools


def test_the_gate_bench_prints_a_row_per_kind_and_window_with_its_cost():
    need_tools("arm-none-eabi-g++", "arm-none-eabi-size", "arm-none-eabi-nm", "qemu-system-arm")
    proc = subprocess.run([sys.executable, "bench/bench_gate_arm.py", "--windows", "8"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = re.findall(r"^\| (lengths|window)(?: \(default\))? \| (\d+)(?: \(default model\))? \| ([\d,]+) \| "
                      r"[\d.]+-[\d.]+ \| [\d.]+ % \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \|$", proc.stdout, re.M)
    table = {(kind, int(w)): [int(v.replace(",", "")) for v in rest] for kind, w, *rest in rows}
    # 60: the committed default model's window
    assert sorted(table) == [("lengths", 8), ("lengths", 60), ("window", 8), ("window", 60)], proc.stdout
    assert "| lengths (default) |" in proc.stdout  # the kind `nanogest fit` gives
    codes = set()
    # lengths: 6 + 6 input scales/offsets, 8x8 weights, 8 biases and the level, float32;
    # window: 576 int16 weights, 24 int64 biases and an int64 level (converter/headers.py)
    for kind, consts_expected in (("lengths", 4 * (6 + 6 + 64 + 8 + 1)), ("window", 576 * 2 + 24 * 8 + 8)):
        (insns_8, code, consts, flash), (insns_60, *_) = table[kind, 8], table[kind, 60]
        assert 0 < insns_8 < insns_60, kind  # the statistics grow with the window; the distance does not
        assert consts == consts_expected and 0 < code and flash == code + consts, kind
        codes.add(code)
    assert len(codes) == 1  # one link keeps both kinds' code
