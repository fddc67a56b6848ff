"""The board's TFLM library built for Cortex-M4F and run under QEMU (bench/bench_board_arm.py)
computes the committed default model exactly as the same library built for the laptop.

Needs the board library's sources; skips, naming where they were looked for, without them (the
sources are not a tool: NANOGEST_REQUIRE_TOOLCHAINS=1 does not turn that skip into a failure).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from toolchains import need_tools

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_the_default_model_on_cortex_m4f_equals_the_board_kernels_on_the_laptop():
    from converter.board import board_tflm

    try:
        board_tflm.find_sources()
    except board_tflm.BoardSourcesMissing as e:
        pytest.skip(f"needs the board's TFLM library sources: {e}")
    need_tools("arm-none-eabi-g++", "arm-none-eabi-size", "qemu-system-arm", "g++")
    proc = subprocess.run([sys.executable, "bench/bench_board_arm.py", "--invokes", "2"], cwd=REPO,
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    outputs = re.findall(r"^output p\d o\d+ .*$", proc.stdout, re.M)
    assert len(outputs) == 2 and all("== board kernels on the laptop, == PyPI tflite-micro" in o for o in outputs), proc.stdout
    arena, header = (int(v) for v in re.search(r"arena_used_bytes \(32-bit\)\s+(\d+)\s+\(header kArenaBytes (\d+)",
                                                proc.stdout).groups())
    assert 0 < arena <= header
    insns = int(re.search(r"instructions per invoke\s+([\d,]+)", proc.stdout).group(1).replace(",", ""))
    assert insns > 100_000  # a real invoke of a ~300 k MAC model, not an empty loop
