"""Finding the smallest tensor arena the TFLM interpreter accepts for a model.

A too-small arena can crash the process (TFLM may write past what it was given), so each
try runs in a child Python: ``python -m converter.int8.arena MODEL.tflite ARENA_BYTES`` creates the
interpreter with that arena, invokes once on zeros (every input) and prints ``ok`` (exit 0) or fails.

The size is measured on this 64-bit host; on the 32-bit Cortex-M4 pointers and TFLM's
bookkeeping structs are smaller, so it is an upper bound for the board. The firmware gets
``measured + ARENA_MARGIN_BYTES`` rounded up to ``ARENA_ALIGN_BYTES``: the margin covers the
TFLM version on the board differing from the host's (kernel scratch buffers, persistent
structs) without claiming a large share of the nRF52840's 256 KB of RAM.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from converter import ConverterError

ARENA_MARGIN_BYTES = 1024
ARENA_ALIGN_BYTES = 16
RESOLUTION_BYTES = 16
MAX_ARENA_BYTES = 1 << 22  # 4 MiB: far beyond the board's RAM
_TOTAL = re.compile(r"Arena allocation total (\d+) bytes")


def _probe(model_path: str, arena_bytes: int, timeout_s: float = 60.0) -> tuple[bool, str]:
    """Does an interpreter with this arena allocate and invoke? Returns (ok, stderr)."""
    env = dict(os.environ)
    package_parent = str(Path(__file__).resolve().parents[2])  # so the child finds this converter
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH", "")) if p)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "converter.int8.arena", model_path, str(arena_bytes)],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return False, "timed out"
    return proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def round_up(n: int, align: int) -> int:
    return (n + align - 1) // align * align


def measure_arena(model_path: str) -> dict:
    """Smallest working arena (to RESOLUTION_BYTES) and the firmware's size with its margin."""
    ok, stderr = _probe(model_path, MAX_ARENA_BYTES)
    if not ok:
        tail = stderr.strip().splitlines()[-1] if stderr.strip() else "no message"
        raise ConverterError(f"the TFLM interpreter cannot run the model even with a {MAX_ARENA_BYTES}-byte arena ({tail})")
    match = _TOTAL.search(stderr)
    recorded = int(match.group(1)) if match else None
    probes = 1
    # Coarse bracket around TFLM's own recorded total: `lo` fails, `hi` works.
    guess = recorded if recorded else 4096
    hi = round_up(guess + 1024, RESOLUTION_BYTES)
    while True:
        probes += 1
        if _probe(model_path, hi)[0]:
            break
        hi *= 2
        if hi > MAX_ARENA_BYTES:
            hi = MAX_ARENA_BYTES
            break
    lo = max(RESOLUTION_BYTES, round_up(guess // 2, RESOLUTION_BYTES))
    while lo < hi:
        probes += 1
        if not _probe(model_path, lo)[0]:
            break
        hi, lo = lo, max(0, lo // 2)
    # Bisection: invariant `lo` fails (or is 0), `hi` works.
    while hi - lo > RESOLUTION_BYTES:
        mid = round_up((lo + hi) // 2, RESOLUTION_BYTES)
        if mid >= hi:
            break
        probes += 1
        if _probe(model_path, mid)[0]:
            hi = mid
        else:
            lo = mid
    return {
        "arena_measured_bytes": hi,
        "arena_margin_bytes": ARENA_MARGIN_BYTES,
        "arena_bytes": round_up(hi + ARENA_MARGIN_BYTES, ARENA_ALIGN_BYTES),
        "arena_recorded_bytes": recorded,
        "arena_probes": probes,
    }


def _child(model_path: str, arena_bytes: int) -> int:
    import numpy as np
    from tflite_micro.python.tflite_micro import runtime

    with open(model_path, "rb") as f:
        flatbuffer = f.read()
    from converter.int8.flatbuffer import input_count  # tflite-micro, like the runtime above, only when measuring

    interpreter = runtime.Interpreter.from_bytes(flatbuffer, arena_size=arena_bytes)
    for position in range(input_count(flatbuffer)):  # a GRU step model has two inputs: x_t and h
        details = interpreter.get_input_details(position)
        interpreter.set_input(np.zeros(tuple(details["shape"]), dtype=details["dtype"]), position)
    interpreter.invoke()
    interpreter.print_allocations()
    print("ok", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1], int(sys.argv[2])))
