"""What the motion gate's measure costs on the board: instructions on Cortex-M4F, a step model's and a window's.

    python bench/bench_motion_arm.py [--windows 40,119] [--step-instructions N]

A step model (gru, cnn-gru) gathers each window's motion step by step (ng_postprocess.h MotionAccumulator:
motion_add of each step's new samples, int64 sums and sums of squares per channel, motion_finish at the
window's last step); a windowed model computes window_motion over its whole window once. Both are timed
(firmware/test/arm/motion_bench.cpp: a plain GRU, one sample a step) with ng_postprocess.cpp and
ng_window.cpp built with the board's flags, under QEMU mps2-an386 with ``-icount shift=0``
(bench/arm_qemu.py). The step model's figure is the motion's alone: the same loop pushing the samples
without measuring is subtracted. The share is of the default gru's instructions per step
(docs/measurements.md, "The lengths gathered step by step"; --step-instructions to change). Prints one
markdown table on stdout, progress on stderr. Needs arm-none-eabi-g++ with newlib and qemu-system-arm.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

from arm_qemu import ARM_OPT, FIRMWARE, build_bench, compile_core, run_bench

STEP_INSTRUCTIONS = 60_640  # the default gru's instructions per step (docs/measurements.md)


def log(message: str) -> None:
    print(f"[bench_motion_arm] {message}", file=sys.stderr, flush=True)


def measure(windows: list[int]) -> tuple[dict, dict]:
    """({samples: instructions per window gathered step by step}, {samples: window_motion's per window})."""
    with tempfile.TemporaryDirectory(prefix="ng_motion_arm_") as tmp:
        objs = [Path(tmp) / f"{name}.o" for name in ("ng_postprocess", "ng_window")]
        for obj in objs:
            compile_core(f"{obj.stem}.cpp", obj, log)
        elf = Path(tmp) / "motion_bench.elf"
        build_bench(elf, FIRMWARE / "test/arm/motion_bench.cpp", objs, log,
                    [f"-DNG_MOTION_BENCH_WINDOWS={','.join(str(w) for w in windows)}"])
        out, per_tick = run_bench(elf, log)
    stepped = {int(s): (int(t) - int(b)) * per_tick / int(n)
               for s, n, t, b in re.findall(r"^MSTEP (\d+) (\d+) (\d+) (\d+)", out, re.M)}
    whole = {int(s): int(t) * per_tick / int(n) for s, n, t in re.findall(r"^MWIN (\d+) (\d+) (\d+)", out, re.M)}
    if sorted(stepped) != sorted(windows) or sorted(whole) != sorted(windows):
        sys.exit(f"error: motion_bench measured windows {sorted(stepped)} / {sorted(whole)}, asked for {windows}:\n"
                 f"{out[-1500:]}")
    return stepped, whole


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--windows", default="40,119", help="window lengths in samples, comma-separated (default 40,119)")
    p.add_argument("--step-instructions", type=int, default=STEP_INSTRUCTIONS,
                   help="the step model's instructions per step (default %(default)s)")
    a = p.parse_args()
    windows = sorted({int(w) for w in a.windows.split(",") if w.strip()})
    stepped, whole = measure(windows)
    print(f"\n**The motion gate's measure on Cortex-M4F** (`bench/bench_motion_arm.py`; ng_postprocess.cpp {ARM_OPT}, "
          f"QEMU mps2-an386 instruction count; share of a step model's {a.step_instructions:,} instructions per step)\n")
    print("| window (samples) | step by step: instructions per window | per step | share of a step | "
          "whole window (window_motion): instructions |")
    print("|---|---|---|---|---|")
    for w in windows:
        print(f"| {w} | {stepped[w]:,.0f} | {stepped[w] / w:.1f} | {100 * stepped[w] / w / a.step_instructions:.2f} % | "
              f"{whole[w]:,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
