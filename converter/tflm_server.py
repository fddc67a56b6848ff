"""``python -m converter.tflm_server RUN_DIR``: run an int8 model in the real TFLM interpreter
for the virtual board, which delegates only the model invocation to this child process.

On start it writes the model's settings to stdout as UTF-8 lines (``key value...``,
ending with ``end``), read from the same run's files as the converter reads them:
``contract.json`` (labels, idle label, threshold, rate, window, hop, normalization, and the
post-processing: agreement, refractory period, motion gate, unknown label index and threshold,
-1 and 2 when there is none; converter/postprocess.py) and
the int8 model's own tensors (input/output scale and zero point, shapes), plus the
FNV-1a hash of the model bytes. Then it serves invocations, binary on stdin/stdout:

    request:  uint32 LE n, then n int8 input values (n = 0: exit)
    response: uint32 LE m, then m int8 output values (m = 0: the request was refused;
              the reason is on stderr)

A GRU one-step model (inputs x_t and h, outputs h' and scores) adds its step settings
(``step_model 1``, ``state_size``, ``step_input_samples``, ``step_stride_samples``,
``steps_per_window``, the state's scales and zero points, ``state_carried_as_int8``;
see converter/gru/stepping.py) and serves one step per request: the request holds x_t then h,
the response h' then the scores. ``input_scale`` / ``output_scale`` are x_t's and the scores'.

``--arena-bytes N`` creates the interpreter with an N-byte tensor arena (default: the
converter's generous verification arena), to see how the board reacts to a model that does
not fit: the server then exits with an error (or TFLM crashes it) right after the settings,
and the virtual board reports that as ERROR model_failed.

``--print-settings`` writes the settings block and exits (tests compare it with the
firmware's generated model_settings.h).

The model runs in the board's own TFLM library built for the host (converter/board/board_tflm.py:
``--board-tflm DIR``, $NANOGEST_BOARD_TFLM or PlatformIO's installed lib_deps) when its sources
are found, else in PyPI tflite-micro; a line on stderr says which. ``--laptop-tflm`` forces PyPI.
"""

from __future__ import annotations

import argparse
import struct
import sys
from pathlib import Path

import numpy as np

from converter import ConverterError
from converter.board import board_tflm
from converter.int8.flatbuffer import read_io
from converter.headers import fnv1a32
from converter.postprocess import settings_from_contract
from converter.run_dir import load_contract
from converter.gru.stepping import is_step_model, read_step_io, step_settings
from converter.int8.tflm import VERIFY_ARENA_BYTES, make_interpreter

SETTINGS_VERSION = 1
_LENGTH = struct.Struct("<I")
MODEL_NAME = "model_int8.tflite"


def find_model(path: Path, contract: Path | None) -> tuple[Path, Path]:
    """(model .tflite, contract.json) from a run directory or a .tflite path."""
    if path.is_dir():
        model, contract = path / MODEL_NAME, contract or path / "contract.json"
        if not model.is_file():
            raise ConverterError(f"{path}: has no {MODEL_NAME}; convert the run first with `nanogest convert {path}`")
    else:
        model, contract = path, contract or path.with_name("contract.json")
        if not model.is_file():
            raise ConverterError(f"{path}: no such model file; pass a run directory or a .tflite path")
    if not contract.is_file():
        raise ConverterError(f"{contract}: missing; the board needs the run's contract.json next to the model "
                             "(or pass --contract PATH)")
    return model, contract


def settings_lines(model_bytes: bytes, contract_path: Path) -> list[str]:
    """The settings block for ``model_bytes`` and the contract at ``contract_path``."""
    contract = load_contract(contract_path.parent) if contract_path.name == "contract.json" else None
    if contract is None:
        raise ConverterError(f"{contract_path}: the contract file must be named contract.json")
    step = step_settings(model_bytes, contract.raw, str(contract_path))  # None: a windowed model
    inp, out = read_io(model_bytes) if step is None else (step.io.x, step.io.scores)
    if inp.type != "INT8" or out.type != "INT8":
        raise ConverterError(f"the model's input/output are {inp.type}/{out.type}, not INT8; convert it with `nanogest convert`")
    want = (1, contract.window, len(contract.channels)) if step is None else tuple(step.io.x.shape)
    if tuple(inp.shape) != want or tuple(out.shape) != (1, len(contract.labels)):
        raise ConverterError(f"the model's tensors {tuple(inp.shape)} -> {tuple(out.shape)} do not match the contract "
                             f"(window {contract.window}, {len(contract.labels)} labels); model and contract are from different runs")
    for label in contract.labels:
        if any(c.isspace() for c in label) or "\0" in label or not label:
            raise ConverterError(f"{contract_path}: label {label!r} must be one word (no spaces) to travel to the board")
    floats = lambda values: " ".join(c_float(v) for v in values)  # noqa: E731
    post = settings_from_contract(contract.raw, (out.scale, out.zero_point), str(contract_path))

    return [
        f"nanogest-settings {SETTINGS_VERSION}",
        "labels " + " ".join(contract.labels),
        f"idle_index {contract.idle_index}",
        f"score_threshold {c_float(contract.score_threshold)}",
        f"rate_mhz {int(round(contract.rate_hz * 1000))}",
        f"window {contract.window}",
        f"hop {contract.hop}",
        f"mean {floats(contract.mean)}",
        f"std {floats(contract.std)}",
        f"input_scale {c_float(inp.scale)}",
        f"input_zero_point {inp.zero_point}",
        f"output_scale {c_float(out.scale)}",
        f"output_zero_point {out.zero_point}",
        f"model_hash 0x{fnv1a32(model_bytes):08x}",
        *(step.lines(c_float) if step is not None else []),
        f"agreement {post.agreement}",
        f"refractory_samples {post.refractory_samples}",
        f"motion_gate {c_float_g(post.motion_gate)}",
        f"motion_accel_weight {c_float_g(post.motion_accel_weight)}",
        f"unknown_index {post.unknown_index}",
        f"unknown_threshold {c_float_g(post.unknown_threshold)}",
        "end",
    ]


def c_float(value: float) -> str:
    """The float32 nearest to ``value``, printed so that C's strtof reads it back exactly."""
    return repr(float(np.float32(value)))


def c_float_g(value: float) -> str:
    """The float32 nearest to ``value`` as C's ``%.9g`` prints it (how the board writes these keys)."""
    return f"{float(np.float32(value)):.9g}"


def parse_settings(lines) -> dict:
    """The settings block as a dict of strings / lists (for tests and the replay host)."""
    out = {}
    for line in lines:
        key, _, rest = line.strip().partition(" ")
        if key == "end":
            break
        out[key] = rest.split()
    return out


def _read_exact(stream, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def choose_runner(board_tflm_dir: Path | None, laptop_only: bool):
    """(BoardKernels or None, a sentence saying which TFLM runs the model): the board library's own
    kernels when their sources are found (converter.board.board_tflm), else the laptop's PyPI tflite-micro."""
    if laptop_only:
        return None, "PyPI tflite-micro (--laptop-tflm), not the board's kernels"
    kernels, reason = board_tflm.load_or_reason(board_tflm_dir)
    if kernels is None:
        return None, f"PyPI tflite-micro, not the board's kernels ({reason})"
    return kernels, f"the board's kernels: {kernels.label} built from {kernels.sources.root}"


def serve(model_bytes: bytes, stdin, stdout, arena_bytes: int | None = None, kernels=None) -> int:
    """Answer invocation requests until a zero-length request or end of input. ``kernels``: a
    converter.board.board_runtime.BoardKernels to run the model in (default: PyPI tflite-micro)."""
    inp, _ = read_io(model_bytes)
    try:
        interpreter = make_interpreter(model_bytes, arena_bytes or VERIFY_ARENA_BYTES, kernels)
    except ConverterError as e:
        arena = f" with a {arena_bytes}-byte arena" if arena_bytes else ""
        raise ConverterError(f"the TFLM interpreter refuses the model{arena}: {e}") from None
    n_in = int(np.prod(inp.shape))
    try:
        io = read_step_io(model_bytes) if is_step_model(model_bytes) else None
    except ConverterError:
        io = None  # no signature: a windowed model
    if io is not None:  # a step model: [x_t | h] in, [h' | scores] out
        n_in = int(np.prod(io.x.shape)) + int(np.prod(io.h.shape))
    while True:
        head = _read_exact(stdin, _LENGTH.size)
        if head is None:
            return 0
        (n,) = _LENGTH.unpack(head)
        if n == 0:
            return 0
        data = _read_exact(stdin, n)
        if data is None:
            return 0
        if n != n_in:
            print(f"tflm_server: got {n} input values, the model takes {n_in}", file=sys.stderr, flush=True)
            stdout.write(_LENGTH.pack(0))
            stdout.flush()
            continue
        if io is None:
            x = np.frombuffer(data, dtype=np.int8).reshape(inp.shape)
            interpreter.set_input(x, 0)
            interpreter.invoke()
            y = np.asarray(interpreter.get_output(0), dtype=np.int8).reshape(-1).tobytes()
        else:
            values = np.frombuffer(data, dtype=np.int8)
            n_x = int(np.prod(io.x.shape))
            interpreter.set_input(values[:n_x].reshape(io.x.shape), io.x_pos)
            interpreter.set_input(values[n_x:].reshape(io.h.shape), io.h_pos)
            interpreter.invoke()
            y = b"".join(np.asarray(interpreter.get_output(pos), dtype=np.int8).reshape(-1).tobytes()
                         for pos in (io.h_next_pos, io.scores_pos))
        stdout.write(_LENGTH.pack(len(y)) + y)
        stdout.flush()


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of bytes")
    return value


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m converter.tflm_server", description=__doc__.splitlines()[0].split(": ", 1)[1])
    p.add_argument("model", type=Path, metavar="RUN_DIR|MODEL.tflite",
                   help="a converted run directory (model_int8.tflite + contract.json) or a .tflite file")
    p.add_argument("--contract", type=Path, default=None,
                   help="the run's contract.json (default: next to the model)")
    p.add_argument("--print-settings", action="store_true", help="print the settings block and exit")
    p.add_argument("--arena-bytes", type=_positive_int, default=None, metavar="N",
                   help="create the TFLM interpreter with an N-byte tensor arena (default: a 1 MiB arena)")
    p.add_argument("--board-tflm", type=Path, default=None, metavar="DIR",
                   help="run the model in the board's TFLM library built from DIR (default: $NANOGEST_BOARD_TFLM, else "
                        "PlatformIO's .pio/libdeps/nano33ble/Chirale_TensorFLowLite*; without sources: PyPI tflite-micro)")
    p.add_argument("--laptop-tflm", action="store_true",
                   help="run the model in PyPI tflite-micro even where the board's TFLM sources exist")
    a = p.parse_args(argv)
    try:
        model_path, contract_path = find_model(a.model, a.contract)
        model_bytes = model_path.read_bytes()
        lines = settings_lines(model_bytes, contract_path)
        note = load_contract(contract_path.parent).version_note
        if note and not a.print_settings:
            print(f"tflm_server: {note}", file=sys.stderr, flush=True)
        kernels = None
        if not a.print_settings:  # built (or taken from the cache) before the board gets its settings
            kernels, runner = choose_runner(a.board_tflm, a.laptop_tflm)
            print(f"tflm_server: running the model in {runner}", file=sys.stderr, flush=True)
        sys.stdout.buffer.write(("\n".join(lines) + "\n").encode("utf-8"))  # labels as written (UTF-8)
        sys.stdout.flush()
        if a.print_settings:
            return 0
        return serve(model_bytes, sys.stdin.buffer, sys.stdout.buffer, a.arena_bytes, kernels)
    except ConverterError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (BrokenPipeError, KeyboardInterrupt):
        return 0


if __name__ == "__main__":
    sys.exit(main())
