"""bench/bench_gate_arm.py builds the core's novelty gate for Cortex-M4F, runs it under QEMU and prints
its table: a row per window length (the committed default model's and the asked one) with
instructions that grow with the window, and flash = ng_gate's kept code + the 1,352 constant bytes.
Takes about a second. The figures themselves are measurements (docs/measurements.md), not asserted."""

from __future__ import annotations

import re
import subprocess
import sys

from toolchains import REPO, need_tools


def test_the_gate_bench_prints_a_row_per_window_with_its_cost():
    need_tools("arm-none-eabi-g++", "arm-none-eabi-size", "arm-none-eabi-nm", "qemu-system-arm")
    proc = subprocess.run([sys.executable, "bench/bench_gate_arm.py", "--windows", "8"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = re.findall(r"^\| (\d+)(?: \(default model\))? \| ([\d,]+) \| [\d.]+-[\d.]+ \| [\d.]+ % \| ([\d,]+) \| "
                      r"([\d,]+) \| ([\d,]+) \|$", proc.stdout, re.M)
    by_window = {int(w): [int(v.replace(",", "")) for v in rest] for w, *rest in rows}
    assert sorted(by_window) == [8, 60], proc.stdout  # 60: the committed default model's window
    (insns_8, code, consts, flash), (insns_60, *_) = by_window[8], by_window[60]
    assert 0 < insns_8 < insns_60  # the statistics grow with the window; the distance does not
    assert consts == 576 * 2 + 24 * 8 + 8 and 0 < code and flash == code + consts
