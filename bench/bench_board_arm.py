"""The generated model in the board's TFLM built for Cortex-M4F and run under QEMU: instructions per
invoke, the 32-bit arena, and the outputs against the same library built for the laptop.

    python bench/bench_board_arm.py [--header-dir DIR] [--board-tflm DIR] [--invokes N]

Needs the board library's sources (see converter/board_tflm.py), arm-none-eabi-gcc with newlib and
qemu-system-arm. Builds the library for Cortex-M4F (cached under firmware/build/board_tflm/), links
firmware/test/arm/board_tflm_bench.cpp with the core tests' startup and linker script and the
headers in DIR (default: the committed default model), and runs it in QEMU mps2-an386 with
``-icount shift=0``, where virtual time advances per instruction: a loop of known instruction
count turns SysTick ticks into instructions. Latency at 64 MHz is given for 1.0 and 1.5 cycles
per instruction (an assumption: QEMU does not model the Cortex-M4's pipeline or flash wait states).
Prints one table on stdout.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
FIRMWARE = REPO / "firmware"
GENERATED = FIRMWARE / "lib/nanogest_model/src/generated"
CPU_HZ = 64e6
QEMU_FLAGS = ["-M", "mps2-an386", "-nographic", "-semihosting-config", "enable=on,target=native", "-monitor", "none",
              "-icount", "shift=0"]


def model_bytes_of(header_dir: Path) -> bytes:
    text = (header_dir / "model_data.cc").read_text()
    return bytes(int(h, 16) for h in re.findall(r"0x([0-9a-f]{2})", text[text.index("{"):text.index("};")]))


def pattern(n: int, p: int) -> np.ndarray:
    """board_tflm_bench.cpp's input patterns."""
    if p == 0:
        return np.zeros(n, dtype=np.int8)
    return ((np.arange(n) * 37 + 11) % 256 - 128).astype(np.int8)


def laptop_outputs(model: bytes, kernels) -> dict:
    """The bench's two inputs through an interpreter: {"p0 o0": [...], ...}."""
    from converter import tflm

    it = tflm.make_interpreter(model, tflm.VERIFY_ARENA_BYTES, kernels)
    from converter.flatbuffer import _model  # noqa: PLC2701 (the model's tensor shapes)

    sg = _model(model).subgraphs[0]
    shapes_in = [tuple(sg.tensors[i].shape) for i in sg.inputs]
    out = {}
    for p in range(2):
        for k, shape in enumerate(shapes_in):
            it.set_input(pattern(int(np.prod(shape)), p).reshape(shape), k)
        it.invoke()
        for j in range(len(sg.outputs)):
            out[f"p{p} o{j}"] = [int(v) for v in np.asarray(it.get_output(j)).reshape(-1)]
    return out


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        sys.exit(f"error: this bench needs {name} (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi "
                 "libstdc++-arm-none-eabi-newlib qemu-system-arm)")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--header-dir", type=Path, default=GENERATED, help="generated headers (default: %(default)s)")
    parser.add_argument("--board-tflm", type=Path, default=None, metavar="DIR", help="the board TFLM library's root")
    parser.add_argument("--invokes", type=int, default=10, help="timed invokes (default 10)")
    args = parser.parse_args()

    from converter import ConverterError, board_tflm

    cxx, qemu, size = tool("arm-none-eabi-g++"), tool("qemu-system-arm"), tool("arm-none-eabi-size")
    try:
        sources = board_tflm.find_sources(args.board_tflm)
        board_tflm.check_pinned(sources)
        archive = board_tflm.build_library(sources, board_tflm.CORTEX_M4F)
        kernels = board_tflm.load(args.board_tflm)
    except board_tflm.BoardSourcesMissing as e:
        print(f"board kernels on Cortex-M4F: not measured ({e})")
        return 0
    except ConverterError as e:
        sys.exit(f"error: {e}")
    flags = [*board_tflm.CORTEX_M4F.flags, *board_tflm.CXX_FLAGS, *board_tflm._include_flags(sources.src),
             f"-I{args.header_dir}", f"-I{FIRMWARE / 'test'}", f"-DNG_BENCH_INVOKES={args.invokes}"]
    ld = ["--specs=rdimon.specs", "-nostartfiles", "-T", str(FIRMWARE / "test/arm/mps2_an386.ld"), "-Wl,--gc-sections"]
    with tempfile.TemporaryDirectory(prefix="bench_board_arm_") as tmp:
        elf = Path(tmp) / "bench.elf"
        proc = subprocess.run([cxx, *flags, *ld, "-o", str(elf), str(FIRMWARE / "test/arm/startup.cpp"),
                               str(FIRMWARE / "test/arm/board_tflm_bench.cpp"), str(args.header_dir / "model_data.cc"),
                               str(archive), "-lm"], capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"error: linking the bench failed:\n{proc.stderr[-3000:]}")
        text_bytes = int(subprocess.run([size, str(elf)], capture_output=True, text=True).stdout.splitlines()[1].split()[0])
        run = subprocess.run([qemu, *QEMU_FLAGS, "-kernel", str(elf)], capture_output=True, text=True, timeout=600)
    out = run.stdout
    if run.returncode != 0 or "CALIBRATION" not in out:
        sys.exit(f"error: the bench failed in QEMU (status {run.returncode}):\n{out[-2000:]}\n{run.stderr[-1000:]}")
    arena = int(re.search(r"^ARENA_USED (\d+)", out, re.M).group(1))
    lo, hi, mean = (int(v) for v in re.search(r"^TICKS_PER_INVOKE (\d+) (\d+) (\d+)", out, re.M).groups())
    cal_insns, cal_ticks = (int(v) for v in re.search(r"^CALIBRATION (\d+) (\d+)", out, re.M).groups())
    per_tick = cal_insns / cal_ticks
    insns = mean * per_tick
    arm_out = {f"p{m.group(1)} o{m.group(2)}": [int(v) for v in m.group(3).split()]
               for m in re.finditer(r"^OUT p(\d) o(\d+):(.*)$", out, re.M)}
    model = model_bytes_of(args.header_dir)
    host_board, pypi = laptop_outputs(model, kernels), laptop_outputs(model, None)
    settings = (args.header_dir / "model_settings.h").read_text()
    header_arena = int(re.search(r"kArenaBytes = (\d+)u;", settings).group(1))

    rows = [
        ("board library", f"{sources.label} ({sources.root}), Cortex-M4F -Os hard float"),
        ("model", f"{args.header_dir} ({len(model)} bytes)"),
        ("arena_used_bytes (32-bit)", f"{arena}  (header kArenaBytes {header_arena}, measured on the 64-bit host "
                                      f"+ margin)"),
        ("instructions per invoke", f"{insns:,.0f}  (SysTick {lo}..{hi}, mean {mean} ticks x {per_tick:.2f} "
                                    f"instructions per tick, from a {cal_insns:,}-instruction loop)"),
        ("latency at 64 MHz", f"{1e3 * insns / CPU_HZ:.1f} ms at 1.0 cycles/instruction .. "
                              f"{1.5e3 * insns / CPU_HZ:.1f} ms at 1.5 (assumed)"),
        ("bench ELF text", f"{text_bytes} bytes (TFLM kernels the model uses + model + libc; --gc-sections)"),
    ]
    for key in sorted(arm_out):
        same_host = arm_out[key] == host_board.get(key)
        same_pypi = arm_out[key] == pypi.get(key)
        rows.append((f"output {key}", f"{' '.join(map(str, arm_out[key]))}  "
                                      f"{'==' if same_host else '!='} board kernels on the laptop, "
                                      f"{'==' if same_pypi else '!='} PyPI tflite-micro"))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
