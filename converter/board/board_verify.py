"""The converter's board check: every test window through the board library's own TFLM kernels
(converter/board/board_tflm.py), compared with the laptop's TFLM. The target is bit-identical int8
outputs; any difference refuses the model.

The board library's name and version come from platformio.ini's pinned lib_deps entry (the
firmware links that library); sources found elsewhere must be that same version.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from converter import ConverterError
from converter.int8 import tflm
from converter.gru import stepping


def board_label(library: dict) -> str:
    return f"{library['name']} {library['version']}"


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _summary(kernels, laptop: np.ndarray, board: np.ndarray, unit: str) -> dict:
    """laptop, board: (n, ...) int8 outputs of the same inputs."""
    diff = np.abs(laptop.astype(np.int32) - board.astype(np.int32)).reshape(len(laptop), -1)
    same = diff.max(axis=1) == 0 if diff.size else np.ones(len(laptop), dtype=bool)
    return {**kernels.describe(), "compared": unit, "n": int(len(laptop)), "identical": int(same.sum()),
            "identical_fraction": float(same.mean()) if len(same) else 1.0,
            "max_lsb": int(diff.max()) if diff.size else 0,
            "values_differing": int((diff > 0).sum())}


def check_window_model(kernels, model_bytes: bytes, x_q: np.ndarray, laptop_out: np.ndarray) -> dict:
    """Every test window (int8, as the laptop's TFLM got it) through the board's kernels."""
    _log(f"running the {len(x_q)} test windows through the board's kernels ({kernels.label}) ...")
    board_out = tflm.run_tflm(model_bytes, x_q, kernels=kernels)
    return _summary(kernels, laptop_out, board_out, "scores of every test window")


def check_step_model(kernels, model_bytes: bytes, laptop: stepping.SteppedRun, io: stepping.StepIO) -> dict:
    """Every step of every test window through the board's kernels, the board carrying its own h; the
    h' and scores of every step are compared (identical everywhere = identical state all along)."""
    xq = laptop.outputs[2]
    _log(f"stepping the {len(xq)} test windows ({xq.shape[1]} steps each) through the board's kernels ({kernels.label}) ...")
    board = stepping.run_tflm_steps_int8(model_bytes, xq, io, kernels=kernels)
    both = [np.concatenate([a.reshape(len(a), -1), b.reshape(len(b), -1)], axis=1)
            for a, b in ((laptop.outputs[0], laptop.outputs[1]), (board.outputs[0], board.outputs[1]))]
    return _summary(kernels, both[0], both[1], "h' and scores of every step of every test window")


def refuse_if_different(check: dict | None, tflite_path: Path) -> None:
    if check is None or check["identical"] == check["n"]:
        return
    raise ConverterError(
        f"the board's kernels ({check['library']} {check['version']}) compute {check['n'] - check['identical']} of "
        f"{check['n']} test windows differently from the laptop's TFLM (max {check['max_lsb']} LSB, "
        f"{check['values_differing']} values); the board would not compute what was verified. Headers not written "
        f"(the model is in {tflite_path}; docs/architecture.md lists the known differences)")
