"""Instruction counts of the firmware core on Cortex-M4F, for the ARM benches (bench_resample.py,
bench_gate_arm.py): a bench program under firmware/test/arm built with the board's flags (platformio.ini's
-O level, hard float) and the core tests' startup, run under QEMU mps2-an386 with
``-icount shift=0`` (virtual time advances once per instruction, so SysTick ticks become
instructions through the program's ``CALIBRATION insns ticks`` line, a loop of known length).
Cycles per instruction are assumed (QEMU models neither the pipeline nor flash wait states).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIRMWARE = REPO / "firmware"
CORE = FIRMWARE / "lib/nanogest_core/src"
sys.path.insert(0, str(REPO))
from converter.board.board_tflm import board_optimization  # noqa: E402 (platformio.ini's -O level)

ARM_OPT = board_optimization()
ARM_FLAGS = ["-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard", "-std=c++14", ARM_OPT, "-Wall",
             "-Wextra", "-Wvla", "-Werror", "-fno-exceptions", "-fno-rtti", "-ffp-contract=off", "-ffunction-sections",
             "-fdata-sections"]
QEMU_FLAGS = ["-M", "mps2-an386", "-nographic", "-semihosting-config", "enable=on,target=native", "-monitor", "none",
              "-icount", "shift=0"]
CYCLES_PER_INSTRUCTION = (1.0, 1.5)
CPU_HZ = 64e6
TOOLS = ("arm-none-eabi-g++", "qemu-system-arm")


def tool(name: str, skip_hint: str = "") -> str:
    """The path of ``name``; exits naming the packages to install when it is missing."""
    path = shutil.which(name)
    if path is None:
        sys.exit(f"error: {name} is missing (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi "
                 f"libstdc++-arm-none-eabi-newlib qemu-system-arm){skip_hint}")
    return path


def compile_core(source: str, obj: Path, log) -> None:
    """The core's ``source`` (a file name under CORE) compiled with the board's flags into ``obj``."""
    run([tool("arm-none-eabi-g++"), *ARM_FLAGS, f"-I{CORE}", "-c", "-o", obj, CORE / source], log)


def run(cmd: list, log) -> str:
    """``cmd``'s stdout; exits with its stderr when it fails."""
    log(" ".join(str(c) for c in cmd))
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=REPO, timeout=600)
    if proc.returncode != 0:
        sys.exit(f"error: {' '.join(str(c) for c in cmd)} failed (status {proc.returncode}):\n"
                 f"{proc.stdout[-1500:]}{proc.stderr[-3000:]}")
    return proc.stdout


def build_bench(elf: Path, bench_cpp: Path, parts: list[Path], log, extra_flags: list[str] = ()) -> None:
    """Link ``bench_cpp`` (under firmware/test/arm) with ``parts`` (the core's sources or objects) into
    ``elf``, and its link map beside it (``elf`` with suffix .map)."""
    run([tool("arm-none-eabi-g++"), *ARM_FLAGS, *extra_flags, f"-I{CORE}", f"-I{FIRMWARE / 'test'}",
         "--specs=rdimon.specs", "-nostartfiles", "-T", FIRMWARE / "test/arm/mps2_an386.ld", "-Wl,--gc-sections",
         f"-Wl,-Map={elf.with_suffix('.map')}", "-o", elf, FIRMWARE / "test/arm/startup.cpp", bench_cpp,
         *parts], log)


def run_bench(elf: Path, log) -> tuple[str, float]:
    """The program's stdout and its instructions per SysTick tick (from its CALIBRATION line)."""
    out = run([tool("qemu-system-arm"), *QEMU_FLAGS, "-kernel", elf], log)
    m = re.search(r"^CALIBRATION (\d+) (\d+)", out, re.M)
    if m is None:
        sys.exit(f"error: {elf.name} printed no CALIBRATION line:\n{out[-1500:]}")
    return out, int(m.group(1)) / int(m.group(2))


def us_at_64mhz(instructions: float) -> list[float]:
    """Microseconds at 64 MHz for each of CYCLES_PER_INSTRUCTION."""
    return [1e6 * instructions * cpi / CPU_HZ for cpi in CYCLES_PER_INSTRUCTION]
