"""The two ways a trained run becomes an int8 model: a windowed classifier (Conv1D: one invoke per
window) or a GRU network exported as a one-step model (one invoke per step, state carried by the
firmware). Each quantizes and verifies; convert.py does what is common (ops, arena, budgets,
report, headers)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np

from converter import ConverterError

# Calibration (x_t, h) pairs for the one-step model: more, or other, pairs did not lose fewer windows; the

from converter.int8 import flatbuffer, op_agreement, quantize, rules, tflm
from converter.gru import gru_step, stepping
# export keeps the update n + z*(h - n) (docs/decisions.md, "GRU step model: calibration pairs and the
# state update").
MAX_STEP_PAIRS = 2000
MAX_STEP_FLOAT_DIFF = 1e-4
MAX_OP_WINDOWS = 400  # test windows compared operator by operator (every window's outputs are compared)
# TFLM vs the TFLite reference kernels on a step model: both get the same x_t and h at every step, and
# every operator whose inputs were identical in both must agree within --max-lsb (stepping.reference_agreement).
# The h' / scores outputs themselves are only reported: a FULLY_CONNECTED that rounds one LSB apart grows
# through LOGISTIC/TANH inside one step, which is rounding, not a wrong kernel (docs/decisions.md, "GRU step
# model: calibration pairs and the state update"). The accuracy is measured in TFLM itself.
REFERENCE_RULE = ("per step both interpreters get the same x_t and h; every operator whose inputs are identical in "
                  "both must give outputs within --max-lsb; h' and scores differences are reported, not gated")
RESET_RULE = ("set h to zero (int8: the h input's zero point) when a take or stream starts and after every "
              "kStepsPerWindow steps; the class scores of the step that completes a window are the window's scores")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Quantized:
    """An int8 model, how it was calibrated, and what the verification found."""

    model_bytes: bytes
    n_calibration: int
    layer_names: dict[str, str]
    inp: flatbuffer.TensorInfo | None = None  # model input (x or x_t)
    out: flatbuffer.TensorInfo | None = None  # class scores
    pred_float: np.ndarray | None = None
    pred_int8: np.ndarray | None = None
    max_lsb: int = 0  # the gate: largest difference of an operator fed identical inputs in TFLM and reference
    output_max_lsb: int | None = None  # the model outputs' largest difference (reported); None: as max_lsb
    extra_lsb: int = 0  # allowed on top of --max-lsb (activation kernels that differ by design)
    macs_per_window: int = 0
    macs_per_invoke: int = 0
    gru: dict | None = None
    extra: dict = field(default_factory=dict)
    x_q: np.ndarray | None = None  # windowed model: the int8 test windows the laptop's TFLM ran
    laptop_out: np.ndarray | None = None  # windowed model: their int8 scores in the laptop's TFLM
    laptop_run: stepping.SteppedRun | None = None  # step model: every step of every test window


def quantize_window_model(model, x_train: np.ndarray) -> Quantized:
    calibration = quantize.calibration_windows(x_train)
    log(f"quantizing to int8 with {len(calibration)} calibration windows ...")
    model_bytes = quantize.quantize_int8(model, calibration)
    return Quantized(model_bytes, len(calibration), {layer.name: layer.name for layer in model.layers})


def verify_window_model(q: Quantized, model, x_test: np.ndarray) -> None:
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


def quantize_step_model(model, contract, x_train: np.ndarray) -> tuple[Quantized, gru_step.StepPlan, object]:
    plan = gru_step.plan_steps(model, contract.window, len(contract.channels))
    step_float = gru_step.build_step_model(model, plan)
    step_b1 = gru_step.build_step_model(model, plan, batch_size=1)
    calibration = quantize.calibration_windows(x_train)
    pairs = gru_step.representative_pairs(step_float, plan, calibration, MAX_STEP_PAIRS)
    log(f"GRU: exporting one step ({plan.units} units, {plan.steps_per_window} steps of {plan.chunk_samples} "
        f"sample(s) every {plan.stride_samples} per window); quantizing with {len(pairs)} (x_t, h) pairs "
        f"from {len(calibration)} training windows ...")
    model_bytes = quantize.quantize_step_int8(step_b1, pairs)
    names = {layer.name: layer.name for layer in model.layers}
    names.update(gru_step.step_layer_names(plan))
    return Quantized(model_bytes, len(pairs), names), plan, step_float


def verify_step_model(q: Quantized, model, plan: gru_step.StepPlan, step_float, x_test: np.ndarray) -> None:
    io = stepping.read_step_io(q.model_bytes)
    for name, t in (("x_t", io.x), ("h", io.h), ("h'", io.h_next), ("scores", io.scores)):
        if t.type != "INT8":
            raise ConverterError(f"the one-step model's {name} tensor is {t.type}; expected INT8")
    log(f"verifying on {len(x_test)} test windows: Keras GRU float, float one-step, and the int8 one-step "
        f"stepped {plan.steps_per_window} times per window in TFLM ...")
    scores_keras = tflm.predict_float(model, x_test)
    scores_step, x_steps, _, _ = gru_step.run_float_steps(step_float, plan, x_test)
    float_diff = float(np.max(np.abs(scores_step - scores_keras)))
    if float_diff > MAX_STEP_FLOAT_DIFF and not plan.notes:
        raise ConverterError(f"stepping the float one-step model gives scores up to {float_diff:.2g} away from the "
                             f"Keras GRU (allowed {MAX_STEP_FLOAT_DIFF:g}); the export is wrong for this network")
    run = stepping.run_tflm_steps(q.model_bytes, x_steps, io)
    q.laptop_run = run
    log("comparing every operator of every step with the TFLite reference kernels (same x_t and h in both) ...")
    agreement = stepping.reference_agreement(q.model_bytes, run, io)
    q.max_lsb = agreement.kernel_max_lsb
    q.output_max_lsb = max(agreement.output_max_lsb.values())
    q.extra["reference_agreement"] = {**agreement.as_dict(), "rule": REFERENCE_RULE}
    q.inp, q.out = io.x, io.scores
    q.pred_float = scores_keras.argmax(axis=1)
    q.pred_int8 = run.scores.argmax(axis=1)
    q.macs_per_invoke = flatbuffer.count_macs(q.model_bytes)
    q.macs_per_window = q.macs_per_invoke * plan.steps_per_window
    q.extra["top1_agreement_float_step"] = float(np.mean(scores_step.argmax(axis=1) == q.pred_int8))

    def quant(t: flatbuffer.TensorInfo, position: int) -> dict:
        return {"scale": t.scale, "zero_point": t.zero_point, "position": position}

    q.gru = {
        **plan.as_dict(),
        "state_input": quant(io.h, io.h_pos),
        "state_output": quant(io.h_next, io.h_next_pos),
        "x_input_position": io.x_pos,
        "scores_output_position": io.scores_pos,
        "state_carried_as_int8": io.state_carried_as_int8,
        "state_carry": ("copy h' into h as int8 (same scale and zero point)" if io.state_carried_as_int8 else
                        "requantize h' into h: q_h = round((q_h' - zp_h') * scale_h' / scale_h) + zp_h"),
        "reset_rule": RESET_RULE,
        "step_float_max_score_diff": float_diff,
    }
