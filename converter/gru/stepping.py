"""Running the int8 one-step GRU model through whole windows, as the firmware will.

Per window: h starts at zero (int8: the h input's zero point), then for each step the chunk
x_t is quantized with the x_t input's scale and zero point, the model is invoked, and h' is
carried into h. When the h input and h' output share scale and zero point (the converter
arranges this, see gru_step.representative_pairs) h' is copied as int8; otherwise it is
requantized: q_h = round((q_h' - zp_h') * scale_h' / scale_h) + zp_h. The class scores of the
window are those of its last step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from contract.document import Contract
from contract.input import step_window_samples, steps_per_window
from converter import ConverterError
from converter.postprocess import as_contract
from converter.int8.flatbuffer import TensorInfo, read_signature_io
from converter.int8.tflm import VERIFY_ARENA_BYTES, make_interpreter, preserving_pair, quantize_input


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
    real = ((h_next_q.astype(np.int32) - io.h_next.zero_point).astype(np.float32) * np.float32(io.h_next.scale))
    scaled = np.clip(real / np.float32(io.h.scale), -1000.0, 1000.0).astype(np.float64)
    q = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5) + io.h.zero_point  # C's roundf, as the firmware
    return np.clip(q, -128, 127).astype(np.int8)


@dataclass
class SteppedRun:
    scores: np.ndarray  # (n, labels) int8, the last step's scores of each window
    h_in: np.ndarray  # (n, steps, units) int8 fed at each step
    outputs: list  # per step: (h' (n, units), scores (n, labels)) int8


def run_tflm_steps(flatbuffer: bytes, x_steps: np.ndarray, io: StepIO) -> SteppedRun:
    """x_steps: normalized float step inputs (n, steps, *x_t shape). Steps every window in TFLM."""
    return run_tflm_steps_int8(flatbuffer, quantize_input(x_steps, io.x), io)


def run_tflm_steps_int8(flatbuffer: bytes, xq: np.ndarray, io: StepIO, kernels=None) -> SteppedRun:
    """xq: int8 step inputs (n, steps, *x_t shape), quantized by the caller (the board's rounding in
    nanogest replay). Steps every window in TFLM (the board's with ``kernels``, a
    converter.board.board_runtime.BoardKernels) from h = 0, carrying h' into h."""

    interpreter = make_interpreter(flatbuffer, VERIFY_ARENA_BYTES, kernels)
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


@dataclass
class ReferenceAgreement:
    """TFLM against the TFLite reference kernels, both fed the very same (x_t, h) at every step.

    ``kernel_max_lsb`` is the gate: the largest difference of any operator's output among the
    operators whose inputs were identical in both interpreters at that step, i.e. what a kernel
    itself computes differently. ``output_max_lsb`` (h' and scores) is what those one-LSB
    rounding differences grow to inside one step: a FULLY_CONNECTED that rounds its requantization
    one LSB apart feeds a LOGISTIC/TANH whose slope turns 1 input LSB into several output LSB. It is
    reported, not gated: it cannot compound over steps, since each step gets the same h."""

    kernel_max_lsb: int
    kernel_worst_op: str
    output_max_lsb: dict
    steps_compared: int
    op_runs_compared: int
    op_runs_with_different_inputs: int
    steps_with_output_diff: float

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def reference_agreement(flatbuffer: bytes, run: SteppedRun, io: StepIO, max_windows: int = 40,
                        tflm_flatbuffer: bytes | None = None) -> ReferenceAgreement:
    """Compare every operator of every step of the first ``max_windows`` windows (see ReferenceAgreement).

    ``tflm_flatbuffer`` (default: ``flatbuffer``) is what TFLM runs; a test passes a corrupted copy."""
    ref, ops, micro = preserving_pair(flatbuffer, tflm_flatbuffer)
    ins, outs = ref.get_input_details(), ref.get_output_details()
    activations = {int(d["index"]) for d in ins} | {int(t) for op in ops for t in op["outputs"]}

    def both(index: int) -> tuple[np.ndarray, np.ndarray]:
        mine = micro.GetTensor(index, 0)
        mine = mine["tensor_data"] if isinstance(mine, dict) else mine
        theirs = ref.get_tensor(index)
        return theirs.astype(np.int32).reshape(-1), np.asarray(mine).astype(np.int32).reshape(-1)

    xq = run.outputs[2]
    kernel_max, worst_op, compared, skipped, steps, steps_diff = 0, "", 0, 0, 0, 0
    out_max = {"h'": 0, "scores": 0}
    for i in range(min(max_windows, len(xq))):
        for t in range(xq.shape[1]):
            ref.set_tensor(ins[io.x_pos]["index"], xq[i, t][None, ...])
            ref.set_tensor(ins[io.h_pos]["index"], run.h_in[i, t][None, :])
            ref.invoke()
            micro.set_input(xq[i, t][None, ...], io.x_pos)
            micro.set_input(run.h_in[i, t][None, :], io.h_pos)
            micro.invoke()
            steps += 1
            for op in ops:
                if any(not np.array_equal(*both(int(k))) for k in op["inputs"] if int(k) in activations):
                    skipped += 1
                    continue
                compared += 1
                for k in op["outputs"]:
                    want, got = both(int(k))
                    diff = int(np.max(np.abs(want - got))) if want.size else 0
                    if diff > kernel_max:
                        kernel_max, worst_op = diff, f"{op['op_name']} (tensor {int(k)}, window {i}, step {t})"
            differs = False
            for name, pos in (("h'", io.h_next_pos), ("scores", io.scores_pos)):
                want, got = both(int(outs[pos]["index"]))
                diff = int(np.max(np.abs(want - got)))
                out_max[name] = max(out_max[name], diff)
                differs = differs or diff > 0
            steps_diff += int(differs)
    return ReferenceAgreement(kernel_max, worst_op, out_max, steps, compared, skipped,
                              round(steps_diff / steps, 4) if steps else 0.0)


@dataclass(frozen=True)
class StepSettings:
    """How the board steps a one-step model: read from the model's tensors and the run's contract."""

    io: StepIO
    chunk_samples: int
    stride_samples: int
    steps_per_window: int

    @property
    def state_size(self) -> int:
        return int(np.prod(self.io.h.shape))

    @property
    def window_period_samples(self) -> int:
        """Samples from one window's first step to the next window's (windows do not overlap)."""
        return self.steps_per_window * self.stride_samples

    def step_starts(self, n_samples: int) -> np.ndarray:
        """First sample of every step of every whole window in a take of ``n_samples``: (windows, steps)."""
        if n_samples < self.chunk_samples:
            return np.zeros((0, self.steps_per_window), dtype=np.int64)
        n_steps = (n_samples - self.chunk_samples) // self.stride_samples + 1
        n_windows = n_steps // self.steps_per_window
        steps = np.arange(n_windows * self.steps_per_window) * self.stride_samples
        return steps.reshape(n_windows, self.steps_per_window)

    @property
    def window_span_samples(self) -> int:
        """Samples from a window's first step's first sample to its last step's last (at most the contract's window)."""
        return (self.steps_per_window - 1) * self.stride_samples + self.chunk_samples

    def window_ends(self, n_samples: int) -> np.ndarray:
        """The last sample (0-based) of every whole window in a take of ``n_samples``: its last step's, where the
        board completes the window and reports it."""
        return self.step_starts(n_samples)[:, -1] + (self.chunk_samples - 1)

    @property
    def window_samples(self) -> np.ndarray:
        """The samples of a window (from its first) its steps read, in the order the board's novelty gate
        counts them (contract.input.step_window_samples)."""
        return step_window_samples(self.chunk_samples, self.stride_samples, self.steps_per_window)

    def read_windows(self, samples: np.ndarray) -> np.ndarray:
        """What every whole window's steps read of a take's samples (samples, channels), in window_samples' order:
        of the model inputs, what the novelty gate reads; of the counts, what the motion gate measures."""
        return np.asarray(samples)[self.step_starts(len(samples))[:, 0][:, None] + self.window_samples[None, :]]


def is_step_model(flatbuffer: bytes) -> bool:
    inputs, _ = read_signature_io(flatbuffer)
    return "x_t" in inputs and "h" in inputs


def step_settings(flatbuffer: bytes, contract: Contract | dict, where: str | None = None) -> StepSettings | None:
    """The step settings of a one-step model (None for a windowed model). The samples per step come
    from x_t's shape; the stride from the contract's GRU front end (the product of its strides). A
    parsed contract.json (a dict, as tests and scripts hold it) is read with Contract.from_dict."""
    contract = as_contract(contract, where)
    where = where or contract.source
    try:
        if not is_step_model(flatbuffer):
            return None
    except ConverterError:
        return None  # no signature: a windowed model
    io = read_step_io(flatbuffer)
    chunk = int(io.x.shape[1]) if len(io.x.shape) == 3 else 1
    stride = contract.gru.stride_samples if contract.gru is not None else 1
    if stride is None:
        names = ", ".join(contract.gru.front_end_names)
        raise ConverterError(f"{where}: the GRU's front end ({names}) does not state each layer's stride; "
                             "retrain with the current `nanogest fit`")
    window = contract.window
    if chunk > window:
        raise ConverterError(f"{where}: the one-step model reads {chunk} samples per step, more than a window ({window})")
    return StepSettings(io, chunk, stride, steps_per_window(chunk, stride, window))
