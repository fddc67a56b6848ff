"""What the novelty gate costs on the board per window: instructions and flash on Cortex-M4F.

    python bench/bench_gate_arm.py [--windows 60,119] [--header-dir DIR]

Times what InferencePipeline runs after each invoke when the model has a gate: ``gate_fires`` and
``gate_override``, for both kinds of gate ng_gate.h has (the table's ``statistics`` column):

- ``lengths`` (LengthGateSettings, what ``nanogest fit`` gives): per sample the accelerometer's and
  gyroscope's vector length in float32, their max/min/mean/std over the window (one pass), the
  8x8 float whitening, the L1 sum, the comparison; and below the table, the same gathered as a GRU's
  step model's pipeline does (``length_gate_add_step`` once a sample, ``length_gate_fires`` when the
  window's last step completes it);
- ``window`` (what runs fitted before carry): the 24 statistics of the int8 window, the int16 24x24
  whitening in int64, the L1 sum, the comparison.

The core's ng_gate.cpp is built with the board's flags (platformio.ini's -O level, hard float,
-ffp-contract=off) and run under QEMU mps2-an386 with ``-icount shift=0``
(firmware/test/arm/gate_bench.cpp; bench/arm_qemu.py). Every window fires (level 0), so the
override is always counted. Windows: the committed default model's (kWindowSamples of
DIR/model_settings.h) and ``--windows``.

Flash: ng_gate's code the bench link keeps (it calls what InferencePipeline calls, with
--gc-sections as the board's link) plus that kind's constants as converter/headers.py writes them.
The code is the same for both rows: gate_fires picks the kind at run time (GateSettings::lengths),
so the board keeps both kinds' code whichever the model carries. Constants: ``lengths`` 6 + 6 input
scales and offsets, 8x8 weights, 8 biases and the level, all float (340 bytes); ``window``
kGateStatistics^2 int16 weights, kGateStatistics int64 biases and one int64 level (1,352 bytes).

The share is of the default classifier's instructions per invoke, measured by
bench/bench_board_arm.py (CLASSIFIER_INSTRUCTIONS; --classifier-instructions to change). The
issue's limits: 10 % time per window and 2 KB flash. Prints one markdown table on stdout, progress
on stderr. Needs arm-none-eabi-g++ with newlib, arm-none-eabi-size and -nm, and qemu-system-arm.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

from arm_qemu import (ARM_OPT, CYCLES_PER_INSTRUCTION, FIRMWARE, build_bench, compile_core, run, run_bench, tool,
                      us_at_64mhz)

GENERATED = FIRMWARE / "lib/nanogest_model/src/generated"
# bench/bench_board_arm.py on the committed default conv1d (60 samples x 6 channels), docs/measurements.md
CLASSIFIER_INSTRUCTIONS = 196_080  # at platformio.ini's -O2 (252,430 at -Os)
IMU_CHANNELS = 6  # ng_gate's statistics are per channel of ng::kImuChannels
LIMIT_SHARE = 0.10
LIMIT_FLASH_BYTES = 2048


def log(message: str) -> None:
    print(f"[bench_gate_arm] {message}", file=sys.stderr, flush=True)


def default_window(header_dir: Path) -> int:
    """kWindowSamples of the generated header; exits if its channels are not the gate's six."""
    text = (header_dir / "model_settings.h").read_text()
    samples, channels = (int(re.search(rf"constexpr int {k} = (\d+);", text).group(1))
                         for k in ("kWindowSamples", "kChannelCount"))
    if channels != IMU_CHANNELS:
        sys.exit(f"error: {header_dir / 'model_settings.h'}: kChannelCount {channels}, the gate needs {IMU_CHANNELS}")
    return samples


# The table's kinds of gate, the default first: the bench's output tag for each.
KINDS = {"lengths": "LGATE", "window": "GATE"}
STEPPED = "SGATE"  # the lengths gathered step by step, a plain GRU's one sample a step
# What each kind's per-sample and fixed instructions are, for the note under the table.
PARTS = {"lengths": ("2 vector lengths, each 3 float multiply-adds and a vsqrt, and their sums",
                     "the 8x8 float distance, 4 float divisions, calls"),
         "window": ("24 channels' max/min/sums in 64 bits", "the 24x24 distance, the means' 12 64-bit divisions, calls")}
LENGTH_STATISTICS = 8  # ng::kLengthGateStatistics: max, min, mean, std of each sensor's vector length


def constant_bytes(kind: str, channels: int = IMU_CHANNELS) -> int:
    """The gate's constants in the generated header, as converter/headers.py writes them.

    lengths: kGateInputScale, kGateInputOffset, kGateLengthWeights, kGateLengthBias, kGateLengthLevel (float);
    window: kGateWeights (int16), kGateBias (int64), kGateLevel (int64)."""
    if kind == "lengths":
        n = LENGTH_STATISTICS
        return 4 * (2 * channels + n * n + n + 1)
    n = 4 * channels
    return 2 * n * n + 8 * n + 8


def kept_code_bytes(map_file: Path, obj_name: str) -> dict[str, int]:
    """Bytes of each .text/.rodata input section of ``obj_name`` the link kept, by section name."""
    text = map_file.read_text()
    text = text[text.index("Linker script and memory map"):]  # past the discarded input sections
    kept = {}
    for m in re.finditer(r"^ (\.(?:text|rodata)\S*)\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S+)$", text, re.M):
        if Path(m.group(3)).name == obj_name:
            kept[m.group(1)] = kept.get(m.group(1), 0) + int(m.group(2), 16)
    return kept


def object_code_bytes(obj: Path) -> int:
    """text of ``obj`` by arm-none-eabi-size: every function, kept or not."""
    out = run([tool("arm-none-eabi-size"), obj], log)
    return int(out.splitlines()[1].split()[0])


def measure(windows: list[int]) -> dict:
    """Instructions per gate evaluation by kind and window length, and ng_gate's code bytes."""
    with tempfile.TemporaryDirectory(prefix="ng_gate_arm_") as tmp:
        obj, elf = Path(tmp) / "ng_gate.o", Path(tmp) / "gate_bench.elf"
        compile_core("ng_gate.cpp", obj, log)
        build_bench(elf, FIRMWARE / "test/arm/gate_bench.cpp", [obj], log,
                    [f"-DNG_GATE_BENCH_WINDOWS={','.join(str(w) for w in windows)}"])
        out, per_tick = run_bench(elf, log)
        kept = kept_code_bytes(elf.with_suffix(".map"), obj.name)
        object_bytes = object_code_bytes(obj)
        calls = run([tool("arm-none-eabi-nm"), "-u", obj], log).split()[1::2]
    instructions = {kind: {} for kind in (*KINDS, STEPPED)}
    for kind, tag in (*KINDS.items(), (STEPPED, STEPPED)):
        for m in re.finditer(rf"^{tag} (\d+) (\d+) (\d+) (\d+)", out, re.M):
            samples, n, ticks, fired = (int(v) for v in m.groups())
            if fired != n:
                sys.exit(f"error: gate_bench ({kind}) fired on {fired} of {n} windows of {samples} samples; "
                         "level 0 fires on all")
            instructions[kind][samples] = ticks * per_tick / n
        if sorted(instructions[kind]) != sorted(set(windows)):
            sys.exit(f"error: gate_bench measured the {kind} gate on windows {sorted(instructions[kind])}, "
                     f"asked for {windows}:\n{out[-1500:]}")
    return {"instructions": instructions, "kept": kept, "object_bytes": object_bytes, "calls": calls}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--header-dir", type=Path, default=GENERATED, help="generated headers (default: %(default)s)")
    p.add_argument("--windows", default="119", help="more window lengths in samples, comma-separated (default 119)")
    p.add_argument("--classifier-instructions", type=int, default=CLASSIFIER_INSTRUCTIONS,
                   help="the classifier's instructions per invoke (default %(default)s, bench_board_arm.py)")
    a = p.parse_args()

    default = default_window(a.header_dir)
    windows = [default, *(int(w) for w in a.windows.split(",") if w.strip() and int(w) != default)]
    m = measure(windows)
    code = sum(m["kept"].values())  # both kinds' code: gate_fires dispatches at run time

    print(f"\n**The novelty gate on Cortex-M4F** (`bench/bench_gate_arm.py`; ng_gate.cpp {ARM_OPT}, QEMU mps2-an386 "
          f"instruction count; per window = gate_fires + gate_override; share of the default classifier's "
          f"{a.classifier_instructions:,} instructions per invoke)\n")
    cpi = "-".join(f"{c:.1f}" for c in CYCLES_PER_INSTRUCTION)
    print(f"| statistics | window (samples x 6) | instructions per window | µs at 64 MHz ({cpi} cycles/instr) | "
          "share of the classifier | code bytes | constant bytes | flash bytes |")
    print("|---|---|---|---|---|---|---|---|")
    for kind in KINDS:
        consts = constant_bytes(kind)
        for samples in windows:
            insns = m["instructions"][kind][samples]
            us = us_at_64mhz(insns)
            kind_note = " (default)" if kind == "lengths" else ""
            default_note = " (default model)" if samples == default else ""
            print(f"| {kind}{kind_note} | {samples}{default_note} | {insns:,.0f} | {us[0]:.1f}-{us[1]:.1f} | "
                  f"{100 * insns / a.classifier_instructions:.2f} % | {code:,} | {consts:,} | {code + consts:,} |")
    if len(windows) >= 2:
        w0, w1 = windows[0], windows[1]
        print()
        for kind in KINDS:
            i0, i1 = m["instructions"][kind][w0], m["instructions"][kind][w1]
            per_sample = (i1 - i0) / (w1 - w0)
            print(f"{kind}: per window sample {per_sample:.1f} instructions ({PARTS[kind][0]}); fixed part "
                  f"{i0 - per_sample * w0:,.0f} instructions ({PARTS[kind][1]})")
        # QEMU counts instructions, not cycles: the FPU's vsqrt.f32 and vdiv.f32 take 14 cycles each.
        stepped = m["instructions"][STEPPED]
        print(f"lengths gathered step by step (a GRU's step model, one sample a step): "
              + ", ".join(f"{stepped[w]:,.0f} instructions per window of {w} ({stepped[w] / w:.1f} per step, "
                          f"{stepped[w] - m['instructions']['lengths'][w]:+,.0f} against the whole window's)"
                          for w in windows))
        print("lengths: QEMU counts each vsqrt.f32 (2 per sample) as one instruction; on the Cortex-M4F it takes "
              "14 cycles, about 26 more cycles per sample than the cycles/instr range assumes")
    print("code kept by the link (gate_fires, gate_override and what they call; both kinds', since gate_fires "
          "picks the kind at run time, so a board with either kind keeps both): "
          + ", ".join(f"{name} {size}" for name, size in sorted(m["kept"].items()))
          + f"; the whole object's text: {m['object_bytes']:,} bytes; outside it, it calls {', '.join(m['calls'])} "
          "(libgcc, libm, libc: not counted)")
    print(f"limits (the issue): {100 * LIMIT_SHARE:.0f} % time per window, {LIMIT_FLASH_BYTES:,} bytes flash")
    return 0


if __name__ == "__main__":
    sys.exit(main())
