"""The generated model in the board's TFLM built for Cortex-M4F, run in QEMU mps2-an386: instructions
per invoke, the 32-bit arena_used_bytes and the outputs for two fixed inputs.

The library is built by converter.board.board_tflm (target CORTEX_M4F, cached), linked with
firmware/test/arm/board_tflm_bench.cpp and the core tests' startup and linker script, and run with
``-icount shift=0``: virtual time advances per instruction, so SysTick ticks become instructions
through a loop of known instruction count. Latency at 64 MHz is stated for 1.0 and 1.5 cycles per
instruction, an assumption (QEMU does not model the pipeline or flash wait states).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from converter import ConverterError
from converter.int8 import flatbuffer, tflm
from converter.board import board_tflm
from converter.board.board_runtime import BoardSources

FIRMWARE = board_tflm.REPO / "firmware"
CPU_HZ = 64e6
CYCLES_PER_INSTRUCTION = (1.0, 1.5)
QEMU_FLAGS = ["-M", "mps2-an386", "-nographic", "-semihosting-config", "enable=on,target=native", "-monitor", "none",
              "-icount", "shift=0"]
TOOLS = ("arm-none-eabi-g++", "arm-none-eabi-size", "qemu-system-arm")


def pattern(n: int, p: int) -> np.ndarray:
    """board_tflm_bench.cpp's input patterns: 0 zeros, 1 a fixed ramp."""
    if p == 0:
        return np.zeros(n, dtype=np.int8)
    return ((np.arange(n) * 37 + 11) % 256 - 128).astype(np.int8)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ConverterError(f"measuring on Cortex-M4F needs {name} (apt-get install gcc-arm-none-eabi "
                             "libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm)")
    return path


def measure(sources: BoardSources, header_dir: Path, invokes: int = 10) -> dict:
    """Build, link and run the headers in ``header_dir``; the measurement as a dict."""
    cxx, size, qemu = (_tool(t) for t in TOOLS)
    archive = board_tflm.build_library(sources, board_tflm.CORTEX_M4F)
    flags = [*board_tflm.CORTEX_M4F.flags, *board_tflm.CXX_FLAGS, *board_tflm._include_flags(sources.src),
             f"-I{header_dir}", f"-I{FIRMWARE / 'test'}", f"-DNG_BENCH_INVOKES={int(invokes)}"]
    ld = ["--specs=rdimon.specs", "-nostartfiles", "-T", str(FIRMWARE / "test/arm/mps2_an386.ld"), "-Wl,--gc-sections"]
    with tempfile.TemporaryDirectory(prefix="ng_board_arm_") as tmp:
        elf = Path(tmp) / "bench.elf"
        proc = subprocess.run([cxx, *flags, *ld, "-o", str(elf), str(FIRMWARE / "test/arm/startup.cpp"),
                               str(FIRMWARE / "test/arm/board_tflm_bench.cpp"), str(header_dir / "model_data.cc"),
                               str(archive), "-lm"], capture_output=True, text=True)
        if proc.returncode != 0:
            raise ConverterError(f"linking the Cortex-M4F bench failed:\n{proc.stderr[-3000:]}")
        text_bytes = int(subprocess.run([size, str(elf)], capture_output=True, text=True).stdout.splitlines()[1].split()[0])
        try:
            run = subprocess.run([qemu, *QEMU_FLAGS, "-kernel", str(elf)], capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            raise ConverterError("the Cortex-M4F bench did not finish in QEMU within 600 s") from None
    out = run.stdout
    if run.returncode != 0 or "CALIBRATION" not in out:
        raise ConverterError(f"the Cortex-M4F bench failed in QEMU (status {run.returncode}): {out[-1500:]} {run.stderr[-500:]}")
    lo, hi, mean = (int(v) for v in re.search(r"^TICKS_PER_INVOKE (\d+) (\d+) (\d+)", out, re.M).groups())
    cal_insns, cal_ticks = (int(v) for v in re.search(r"^CALIBRATION (\d+) (\d+)", out, re.M).groups())
    per_tick = cal_insns / cal_ticks
    insns = int(round(mean * per_tick))
    return {
        "library": sources.name, "version": sources.version, "cpu": "Cortex-M4F (QEMU mps2-an386)",
        "flags": " ".join(board_tflm.CORTEX_M4F.flags),
        "arena_used_bytes": int(re.search(r"^ARENA_USED (\d+)", out, re.M).group(1)),
        "instructions_per_invoke": insns,
        "systick_per_invoke": {"min": lo, "max": hi, "mean": mean}, "instructions_per_tick": per_tick,
        "calibration_instructions": cal_insns,
        "cpu_hz": CPU_HZ,
        "latency_ms_per_invoke": {f"{cpi:g}_cycles_per_instruction": round(1e3 * insns * cpi / CPU_HZ, 3)
                                  for cpi in CYCLES_PER_INSTRUCTION},
        "latency_note": "instructions counted in QEMU; cycles per instruction assumed (pipeline and flash wait "
                        "states not modelled)",
        "elf_text_bytes": text_bytes,
        "outputs": {f"p{m.group(1)} o{m.group(2)}": [int(v) for v in m.group(3).split()]
                    for m in re.finditer(r"^OUT p(\d) o(\d+):(.*)$", out, re.M)},
    }


def laptop_outputs(model: bytes, kernels=None) -> dict:
    """The bench's two inputs through the laptop's TFLM (the board's with ``kernels``): {"p0 o0": [...], ...}."""
    it = tflm.make_interpreter(model, tflm.VERIFY_ARENA_BYTES, kernels)
    shapes_in, n_out = flatbuffer.io_shapes(model)
    out = {}
    for p in range(2):
        for k, shape in enumerate(shapes_in):
            it.set_input(pattern(int(np.prod(shape)), p).reshape(shape), k)
        it.invoke()
        for j in range(n_out):
            out[f"p{p} o{j}"] = [int(v) for v in np.asarray(it.get_output(j)).reshape(-1)]
    return out
