"""The windowed model's path (converter/kind.py): one invoke scores a whole window (the Conv1D families)."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from converter import ConverterError
from converter.board import board_verify
from converter.int8 import flatbuffer, op_agreement, quantize, rules, tflm
from converter.kind import Quantized

MAX_OP_WINDOWS = 400  # test windows compared operator by operator (every window's outputs are compared)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class WindowQuantized(Quantized):
    x_q: np.ndarray | None = None  # the int8 test windows the laptop's TFLM ran
    laptop_out: np.ndarray | None = None  # their int8 scores in the laptop's TFLM


def quantize_window_model(model, x_train: np.ndarray) -> WindowQuantized:
    calibration = quantize.calibration_windows(x_train)
    log(f"quantizing to int8 with {len(calibration)} calibration windows ...")
    model_bytes = quantize.quantize_int8(model, calibration)
    return WindowQuantized(model_bytes, len(calibration), {layer.name: layer.name for layer in model.layers})


def verify_window_model(q: WindowQuantized, model, x_test: np.ndarray) -> None:
    inp, out = flatbuffer.read_io(q.model_bytes)
    if inp.type != "INT8" or out.type != "INT8":
        raise ConverterError(f"the converted model's input is {inp.type} and output {out.type}; expected INT8 for both")
    log(f"verifying on {len(x_test)} test windows (Keras float, TFLM int8, TFLite reference int8) ...")
    x_q = tflm.quantize_input(x_test, inp)
    out_tflm = tflm.run_tflm(q.model_bytes, x_q)
    out_ref = tflm.run_tflite_reference(q.model_bytes, x_q)
    q.inp, q.out = inp, out
    q.x_q, q.laptop_out = x_q, out_tflm
    q.max_lsb = int(np.max(np.abs(out_tflm.astype(np.int32) - out_ref.astype(np.int32))))
    log(f"comparing every operator with the TFLite reference kernels on {min(len(x_q), MAX_OP_WINDOWS)} windows ...")
    agreement = op_agreement.compare_ops(q.model_bytes, x_q[:MAX_OP_WINDOWS])
    q.output_max_lsb, q.max_lsb = q.max_lsb, agreement.kernel_max_lsb
    q.extra["reference_agreement"] = {**agreement.as_dict(), "rule": rules.KERNEL_RULE}
    q.pred_float = tflm.predict_float(model, x_test).argmax(axis=1)
    q.pred_int8 = out_tflm.argmax(axis=1)
    q.macs_per_invoke = q.macs_per_window = flatbuffer.count_macs(q.model_bytes)


class WindowKind:
    """A model that scores a whole window in one invoke."""

    name = "window"
    description = "windowed classifier"

    def quantize(self, model, contract, x_train: np.ndarray) -> WindowQuantized:
        return quantize_window_model(model, x_train)

    def scores(self, model_bytes: bytes) -> flatbuffer.TensorInfo:
        return flatbuffer.read_io(model_bytes)[1]

    def verify(self, q: WindowQuantized, model, x_test: np.ndarray, kernels) -> dict | None:
        verify_window_model(q, model, x_test)
        return board_verify.check_window_model(kernels, q.model_bytes, q.x_q, q.laptop_out) if kernels else None

    def int8_scores(self, model_bytes: bytes, model, contract, x: np.ndarray) -> np.ndarray:
        return tflm.run_tflm(model_bytes, tflm.quantize_input(x, flatbuffer.read_io(model_bytes)[0]))

    def step(self, q: Quantized) -> None:
        return None

    def state_bytes(self, q: Quantized) -> int:
        return 0

    def table_rows(self, report: dict) -> tuple[str, list[tuple[str, str]]]:
        return "window", []


WINDOW_KIND = WindowKind()
