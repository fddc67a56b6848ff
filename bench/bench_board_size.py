"""Flash and RAM of the firmware's own share, from a PlatformIO build of the board.

    python bench/bench_board_size.py [BUILD_DIR]     (default: .pio/build/nano33ble, after `make firmware`)

Links the project's objects and the libraries it names (firmware/src, nanogest_core,
nanogest_model, Chirale_TensorFlowLite, the two IMU drivers, Wire) into one relocatable
object with `-r --gc-sections`, keeping what setup() and loop() reach, exactly the
garbage collection of the real link; the mbed core, libc and libm stay outside (undefined
there). Each kept input section is counted from the link map: .text/.rodata in flash,
.data in flash and RAM, .bss in RAM. Alignment padding, the vector table, the mbed core,
its RTOS, USB stack and heap are not included, so this is the project's share, not the image.
Prints one table on stdout; without a build it says so and exits 0 (`make bench` runs it).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CPU = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=softfp", "-mfpu=fpv4-sp-d16"]
# (row, archive name or firmware/src object); the first match wins.
LIBRARIES = [("nanogest_core (portable core)", "libnanogest_core.a"),
             ("nanogest_model (g_model_data)", "libnanogest_model.a"),
             ("TFLM + CMSIS-NN (Chirale_TensorFlowLite)", "libChirale_TensorFlowLite.a"),
             ("IMU driver Arduino_BMI270_BMM150", "libArduino_BMI270_BMM150.a"),
             ("IMU driver Arduino_LSM9DS1", "libArduino_LSM9DS1.a"),
             ("Wire (mbed core library, used by both drivers)", "libWire.a")]
GLUE = "Arduino glue (firmware/src)"
ARENA = "tensor arena (tflm_runner.cpp)"
BUFFERS = "buffers and state (main.cpp: TX ring, window, model I/O)"
_ONE_LINE = re.compile(r"^ (\.\S+|COMMON)\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S.*)$")
_NAME_ONLY = re.compile(r"^ (\.\S+|COMMON)\s*$")
_ADDR_SIZE_FILE = re.compile(r"^\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S.*)$")


def input_sections(map_text: str):
    """(section, size, file) for every input section the link kept."""
    lines = map_text.split("Linker script and memory map", 1)[-1].splitlines()
    for i, line in enumerate(lines):
        m = _ONE_LINE.match(line)
        if m:
            yield m.group(1), int(m.group(2), 16), m.group(3)
            continue
        m = _NAME_ONLY.match(line)
        if m and i + 1 < len(lines):
            n = _ADDR_SIZE_FILE.match(lines[i + 1])
            if n:
                yield m.group(1), int(n.group(1), 16), n.group(2)


def row_of(section: str, origin: str) -> str | None:
    for row, archive in LIBRARIES:
        if archive in origin:
            return row
    if "/src/" in origin or origin.startswith("src/"):
        if "tensor_arena" in section:
            return ARENA
        if "main.cpp.o" in origin and section.startswith((".bss", ".data", "COMMON")):
            return BUFFERS
        return GLUE
    return None


def measure(build_dir: Path) -> dict[str, list[int]]:
    archives = [str(p) for _, name in LIBRARIES for p in sorted(build_dir.glob(f"lib*/{name}"))]
    objects = [str(p) for p in sorted((build_dir / "src").glob("*.o"))]
    cxx = shutil.which("arm-none-eabi-g++")
    if not cxx:
        raise SystemExit("error: arm-none-eabi-g++ not found; install gcc-arm-none-eabi")
    with tempfile.TemporaryDirectory() as tmp:
        map_path = Path(tmp) / "share.map"
        subprocess.run([cxx, *CPU, "-nostdlib", "-r", "-Wl,--gc-sections", "-Wl,-u,setup", "-Wl,-u,loop",
                        f"-Wl,-Map={map_path}", "-o", str(Path(tmp) / "share.o"), *objects,
                        "-Wl,--start-group", *archives, "-Wl,--end-group"], check=True)
        text = map_path.read_text(errors="replace")
    sizes: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # row -> [flash, ram]
    for section, size, origin in input_sections(text):
        row = row_of(section, origin)
        if row is None:
            continue
        if section.startswith((".text", ".rodata", ".ARM.exidx", ".ARM.extab", ".init_array", ".ctors")):
            sizes[row][0] += size
        elif section.startswith(".data"):
            sizes[row][0] += size
            sizes[row][1] += size
        elif section.startswith((".bss", "COMMON")):
            sizes[row][1] += size
    return sizes


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("build_dir", nargs="?", type=Path, default=REPO / ".pio" / "build" / "nano33ble",
                   help="a PlatformIO build directory of env nano33ble (default: %(default)s)")
    a = p.parse_args()
    if not (a.build_dir / "src" / "main.cpp.o").is_file():
        print(f"no PlatformIO build in {a.build_dir} (build one with `make firmware`); nothing measured", file=sys.stderr)
        return 0
    sizes = measure(a.build_dir)
    order = [GLUE, *(row for row, _ in LIBRARIES), ARENA, BUFFERS]
    print(f"| {'part':<58} | {'flash bytes':>11} | {'RAM bytes':>9} |")
    print(f"|{'-' * 60}|{'-' * 13}:|{'-' * 11}:|")
    for row in order:
        flash, ram = sizes.get(row, [0, 0])
        print(f"| {row:<58} | {flash:>11,} | {ram:>9,} |")
    total_flash = sum(v[0] for v in sizes.values())
    total_ram = sum(v[1] for v in sizes.values())
    print(f"| {'total':<58} | {total_flash:>11,} | {total_ram:>9,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
