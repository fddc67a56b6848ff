"""bench/bench_motion_arm.py builds the core's motion measure for Cortex-M4F, runs it under QEMU and prints
its table: per window length, the instructions a step model spends gathering it step by step and a windowed
model's window_motion, both growing with the window. Takes about a second. The figures themselves are
measurements (docs/measurements.md), not asserted."""

from __future__ import annotations

import re
import subprocess
import sys

from toolchains import REPO, need_tools


def test_the_motion_bench_prints_a_row_per_window_with_its_cost():
    need_tools("arm-none-eabi-g++", "qemu-system-arm")
    proc = subprocess.run([sys.executable, "bench/bench_motion_arm.py", "--windows", "8,40"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = re.findall(r"^\| (\d+) \| ([\d,]+) \| ([\d.]+) \| [\d.]+ % \| ([\d,]+) \|$", proc.stdout, re.M)
    table = {int(w): (int(s.replace(",", "")), float(p), int(x.replace(",", ""))) for w, s, p, x in rows}
    assert sorted(table) == [8, 40], proc.stdout
    assert 0 < table[8][0] < table[40][0] and 0 < table[8][2] < table[40][2]
    assert abs(table[40][1] - table[40][0] / 40) < 0.1  # per step: a plain GRU steps once a sample
