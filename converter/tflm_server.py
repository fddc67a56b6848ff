"""``python -m converter.tflm_server RUN_DIR``: run an int8 model in the real TFLM interpreter
for the virtual board, which delegates only the model invocation to this child process (its settings
are compiled in from the run's generated model_settings.h: boardtools/virtual_build.py).

It serves invocations, binary on stdin/stdout:

    request:  uint32 LE n, then n int8 input values (n = 0: exit)
    response: uint32 LE m, then m int8 output values (m = 0: the request was refused;
              the reason is on stderr)

A GRU one-step model (inputs x_t and h, outputs h' and scores; converter/gru/stepping.py) serves one
step per request: the request holds x_t then h, the response h' then the scores.

``--arena-bytes N`` creates the interpreter with an N-byte tensor arena (default: the
converter's generous verification arena), to see how the board reacts to a model that does
not fit: the server then exits with an error (or TFLM crashes it) as it starts, and the
virtual board reports that as ERROR model_failed.

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
from converter.gru.stepping import is_step_model, read_step_io
from converter.int8.tflm import VERIFY_ARENA_BYTES, make_interpreter

_LENGTH = struct.Struct("<I")
MODEL_NAME = "model_int8.tflite"


def find_model(path: Path) -> Path:
    """The .tflite of a run directory, or ``path`` itself."""
    model = path / MODEL_NAME if path.is_dir() else path
    if not model.is_file():
        raise ConverterError(f"{path}: has no {MODEL_NAME}; convert the run first with `nanogest convert {path}`"
                             if path.is_dir() else f"{path}: no such model file; pass a run directory or a .tflite path")
    return model


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
    # A bare .tflite (no contract, no Keras model) has no family to pick its kind (converter/path.py): its signature tells.
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
                   help="a converted run directory (its model_int8.tflite) or a .tflite file")
    p.add_argument("--arena-bytes", type=_positive_int, default=None, metavar="N",
                   help="create the TFLM interpreter with an N-byte tensor arena (default: a 1 MiB arena)")
    p.add_argument("--board-tflm", type=Path, default=None, metavar="DIR",
                   help="run the model in the board's TFLM library built from DIR (default: $NANOGEST_BOARD_TFLM, else "
                        "PlatformIO's .pio/libdeps/nano33ble/Chirale_TensorFLowLite*; without sources: PyPI tflite-micro)")
    p.add_argument("--laptop-tflm", action="store_true",
                   help="run the model in PyPI tflite-micro even where the board's TFLM sources exist")
    a = p.parse_args(argv)
    try:
        model_bytes = find_model(a.model).read_bytes()
        kernels, runner = choose_runner(a.board_tflm, a.laptop_tflm)
        print(f"tflm_server: running the model in {runner}", file=sys.stderr, flush=True)
        return serve(model_bytes, sys.stdin.buffer, sys.stdout.buffer, a.arena_bytes, kernels)
    except ConverterError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (BrokenPipeError, KeyboardInterrupt):
        return 0


if __name__ == "__main__":
    sys.exit(main())
