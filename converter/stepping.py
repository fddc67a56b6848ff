"""Running the int8 one-step GRU model through whole windows, as the firmware will.

Per window: h starts at zero (int8: the h input's zero point), then for each step the chunk
x_t is quantized with the x_t input's scale and zero point, the model is invoked, and h' is
carried into h. When the h input and h' output share scale and zero point (the converter
arranges this, see gru_step.representative_pairs) h' is copied as int8; otherwise it is
requantized: q_h = round((q_h' - zp_h') * scale_h' / scale_h) + zp_h. The class scores of the
window are those of its last step.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from converter import ConverterError
from converter.flatbuffer import TensorInfo, read_signature_io
from converter.tflm import VERIFY_ARENA_BYTES, quantize_input


@dataclass(frozen=True)
class StepIO:
    """Positions (in the interpreter's input / output lists) and tensors of the one-step model."""

    x_pos: int
    x: TensorInfo
    h_pos: int
    h: TensorInfo
    h_next_pos: int
    h_next: TensorInfo
    scores_pos: int
    scores: TensorInfo

    @property
    def state_carried_as_int8(self) -> bool:
        return self.h.scale == self.h_next.scale and self.h.zero_point == self.h_next.zero_point


def read_step_io(flatbuffer: bytes) -> StepIO:
    inputs, outputs = read_signature_io(flatbuffer)
    try:
        (xp, x), (hp, h) = inputs["x_t"], inputs["h"]
        (np_, hn), (sp, s) = outputs["output_0"], outputs["output_1"]
    except KeyError as e:
        raise ConverterError(f"the one-step model has no {e} tensor in its signature (has {sorted(inputs)} -> "
                             f"{sorted(outputs)})") from None
    return StepIO(xp, x, hp, h, np_, hn, sp, s)


def carry_state(h_next_q: np.ndarray, io: StepIO) -> np.ndarray:
    """h' (int8, output quantization) -> the next step's h (int8, input quantization)."""
    if io.state_carried_as_int8:
        return h_next_q.astype(np.int8)
    real = (h_next_q.astype(np.float32) - io.h_next.zero_point) * np.float32(io.h_next.scale)
    return quantize_input(real, io.h)


@dataclass
class SteppedRun:
    scores: np.ndarray  # (n, labels) int8, the last step's scores of each window
    h_in: np.ndarray  # (n, steps, units) int8 fed at each step
    outputs: list  # per step: (h' (n, units), scores (n, labels)) int8


def run_tflm_steps(flatbuffer: bytes, x_steps: np.ndarray, io: StepIO) -> SteppedRun:
    """x_steps: normalized float step inputs (n, steps, *x_t shape). Steps every window in TFLM."""
    from tflite_micro.python.tflite_micro import runtime

    try:
        interpreter = runtime.Interpreter.from_bytes(flatbuffer, arena_size=VERIFY_ARENA_BYTES)
    except RuntimeError as e:
        raise ConverterError(f"the TFLM interpreter refuses the int8 model: {e}") from None
    xq = quantize_input(x_steps, io.x)
    n, steps = xq.shape[:2]
    units = int(io.h.shape[-1])
    h_in = np.zeros((n, steps, units), dtype=np.int8)
    h_out = np.zeros((n, steps, units), dtype=np.int8)
    s_out = np.zeros((n, steps, int(io.scores.shape[-1])), dtype=np.int8)
    for i in range(n):
        h = np.full((1, units), io.h.zero_point, dtype=np.int8)  # h = 0
        for t in range(steps):
            h_in[i, t] = h[0]
            interpreter.set_input(xq[i, t][None, ...], io.x_pos)
            interpreter.set_input(h, io.h_pos)
            interpreter.invoke()
            h_out[i, t] = np.asarray(interpreter.get_output(io.h_next_pos)).reshape(-1)
            s_out[i, t] = np.asarray(interpreter.get_output(io.scores_pos)).reshape(-1)
            h = carry_state(h_out[i, t], io)[None, :]
    return SteppedRun(scores=s_out[:, -1], h_in=h_in, outputs=[h_out, s_out, xq])


def max_reference_diff_lsb(flatbuffer: bytes, run: SteppedRun, io: StepIO, max_windows: int = 40) -> int:
    """Largest |TFLM - TFLite reference kernels| over h' and scores, feeding both the very same
    (x_t, h) of every step of the first ``max_windows`` windows."""
    import tensorflow as tf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = tf.lite.Interpreter(model_content=flatbuffer,
                                  experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF)
    ref.allocate_tensors()
    ins, outs = ref.get_input_details(), ref.get_output_details()
    h_out, s_out, xq = run.outputs
    worst = 0
    for i in range(min(max_windows, len(xq))):
        for t in range(xq.shape[1]):
            ref.set_tensor(ins[io.x_pos]["index"], xq[i, t][None, ...])
            ref.set_tensor(ins[io.h_pos]["index"], run.h_in[i, t][None, :])
            ref.invoke()
            for pos, got in ((io.h_next_pos, h_out[i, t]), (io.scores_pos, s_out[i, t])):
                want = ref.get_tensor(outs[pos]["index"]).reshape(-1).astype(np.int32)
                worst = max(worst, int(np.max(np.abs(want - got.astype(np.int32)))))
    return worst
