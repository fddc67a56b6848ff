"""bench/bench_board_size.py on a small PlatformIO-shaped build: what setup()/loop() reach is
counted in the right row, what they do not reach is not (the real link's --gc-sections)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from toolchains import need_tools

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import bench_board_size as size  # noqa: E402

FLAGS = [*size.CPU, "-Os", "-ffunction-sections", "-fdata-sections", "-fno-exceptions", "-fno-rtti", "-c"]

MAIN = """
extern int core_step(int);
extern const unsigned char g_model_data[];
namespace { unsigned char tx_storage[4096]; }
extern "C" void setup();  // C linkage, as Arduino.h declares them
extern "C" void loop();
void setup() { tx_storage[0] = 1; }
void loop() { tx_storage[1] = static_cast<unsigned char>(core_step(tx_storage[0]) + g_model_data[3]); }
"""
CORE = """
const unsigned char kTable[1000] = {1, 2, 3};
int core_step(int i) { return kTable[i % 1000]; }
const unsigned char kNeverUsed[3000] = {4, 5, 6};
int never_called(int i) { return kNeverUsed[i % 3000]; }
"""
MODEL = "alignas(16) extern const unsigned char g_model_data[] = {" + ", ".join(["7"] * 2048) + "};\n"


def compile_to(cxx: str, source: str, obj: Path) -> None:
    src = obj.with_suffix(".cpp")
    src.write_text(source)
    subprocess.run([cxx, *FLAGS, str(src), "-o", str(obj)], check=True)


def test_counts_what_setup_and_loop_reach(tmp_path):
    cxx, ar = need_tools("arm-none-eabi-g++", "arm-none-eabi-ar")
    build = tmp_path / "nano33ble"
    (build / "src").mkdir(parents=True)
    compile_to(cxx, MAIN, build / "src" / "main.cpp.o")
    for lib, source in (("libnanogest_core.a", CORE), ("libnanogest_model.a", MODEL)):
        d = build / ("lib_" + lib[3:-2])
        d.mkdir()
        compile_to(cxx, source, d / (lib[3:-2] + ".o"))
        subprocess.run([ar, "rcs", str(d / lib), str(d / (lib[3:-2] + ".o"))], check=True)
    rows = size.measure(build)
    core_flash, core_ram = rows[size.LIBRARIES[0][0]]
    assert 1000 <= core_flash < 1000 + 200 and core_ram == 0  # kTable and core_step, not kNeverUsed
    assert rows[size.LIBRARIES[1][0]] == [2048, 0]
    assert rows[size.BUFFERS][1] == 4096
    assert rows[size.GLUE][0] > 0 and rows[size.GLUE][1] == 0
