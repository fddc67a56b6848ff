"""The generated model in the board's TFLM built for Cortex-M4F and run under QEMU: instructions per
invoke, the 32-bit arena, and the outputs against the same library built for the laptop.

    python bench/bench_board_arm.py [--header-dir DIR] [--board-tflm DIR] [--invokes N]

Needs the board library's sources (see converter/board/board_tflm.py), arm-none-eabi-gcc with newlib and
qemu-system-arm. converter/board/board_arm.py builds the library for Cortex-M4F (cached), links it with
the headers in DIR (default: the committed default model) and runs it in QEMU. The outputs for the
bench's two fixed inputs are compared with the same library built for the laptop and with PyPI
tflite-micro. Prints one table on stdout.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
GENERATED = REPO / "firmware/lib/nanogest_model/src/generated"


def model_bytes_of(header_dir: Path) -> bytes:
    text = (header_dir / "model_data.cc").read_text()
    return bytes(int(h, 16) for h in re.findall(r"0x([0-9a-f]{2})", text[text.index("{"):text.index("};")]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--header-dir", type=Path, default=GENERATED, help="generated headers (default: %(default)s)")
    parser.add_argument("--board-tflm", type=Path, default=None, metavar="DIR", help="the board TFLM library's root")
    parser.add_argument("--invokes", type=int, default=10, help="timed invokes (default 10)")
    args = parser.parse_args()

    from converter import ConverterError
    from converter.board import board_arm, board_tflm

    try:
        sources = board_tflm.find_sources(args.board_tflm)
        board_tflm.check_pinned(sources)
        m = board_arm.measure(sources, args.header_dir, args.invokes)
        kernels = board_tflm.load(args.board_tflm)
    except board_tflm.BoardSourcesMissing as e:
        print(f"board kernels on Cortex-M4F: not measured ({e})")
        return 0
    except ConverterError as e:
        sys.exit(f"error: {e}")
    model = model_bytes_of(args.header_dir)
    host_board, pypi = board_arm.laptop_outputs(model, kernels), board_arm.laptop_outputs(model)
    settings = (args.header_dir / "model_settings.h").read_text()
    header_arena = int(re.search(r"kArenaBytes = (\d+)u;", settings).group(1))
    t, lat = m["systick_per_invoke"], m["latency_ms_per_invoke"]
    rows = [
        ("board library", f"{sources.label} ({sources.root}), {m['cpu']}, {m['flags']}"),
        ("model", f"{args.header_dir} ({len(model)} bytes)"),
        ("arena_used_bytes (32-bit)", f"{m['arena_used_bytes']}  (header kArenaBytes {header_arena}, measured on the "
                                      "64-bit host + margin)"),
        ("instructions per invoke", f"{m['instructions_per_invoke']:,}  (SysTick {t['min']}..{t['max']}, mean {t['mean']} "
                                    f"ticks x {m['instructions_per_tick']:.2f} instructions per tick, from a "
                                    f"{m['calibration_instructions']:,}-instruction loop)"),
        ("latency at 64 MHz", " .. ".join(f"{v:.1f} ms at {k.split('_')[0]} cycles/instruction" for k, v in lat.items())
         + " (assumed)"),
        ("bench ELF text", f"{m['elf_text_bytes']} bytes (TFLM kernels the model uses + model + libc; --gc-sections)"),
    ]
    for key, values in sorted(m["outputs"].items()):
        rows.append((f"output {key}", f"{' '.join(map(str, values))}  "
                                      f"{'==' if values == host_board.get(key) else '!='} board kernels on the laptop, "
                                      f"{'==' if values == pypi.get(key) else '!='} PyPI tflite-micro"))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
