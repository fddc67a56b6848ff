"""The GRU step model's path (converter/kind.py): the GRU exported as one step (x_t, h) -> (h', scores),
one invoke per step, its state carried by the firmware between steps."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from converter import ConverterError
from converter.board import board_verify
from converter.gru import gru_step, stepping
from converter.int8 import flatbuffer, quantize, tflm
from converter.kind import Quantized

# Calibration (x_t, h) pairs for the one-step model: more, or other, pairs did not lose fewer windows; the
# export keeps the update n + z*(h - n) (docs/decisions.md, "GRU step model: calibration pairs and the
# state update").
MAX_STEP_PAIRS = 2000
MAX_STEP_FLOAT_DIFF = 1e-4
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
class StepQuantized(Quantized):
    plan: gru_step.StepPlan | None = None
    step_float: object = None  # the float one-step Keras model the int8 one is checked against
    laptop_run: stepping.SteppedRun | None = None  # every step of every test window in the laptop's TFLM
    gru: dict | None = None  # the step's figures: report.json's "gru", the header's step constants


def quantize_step_model(model, contract, x_train: np.ndarray) -> StepQuantized:
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
    return StepQuantized(model_bytes, len(pairs), names, plan=plan, step_float=step_float)


def verify_step_model(q: StepQuantized, model, x_test: np.ndarray) -> None:
    plan = q.plan
    io = stepping.read_step_io(q.model_bytes)
    for name, t in (("x_t", io.x), ("h", io.h), ("h'", io.h_next), ("scores", io.scores)):
        if t.type != "INT8":
            raise ConverterError(f"the one-step model's {name} tensor is {t.type}; expected INT8")
    log(f"verifying on {len(x_test)} test windows: Keras GRU float, float one-step, and the int8 one-step "
        f"stepped {plan.steps_per_window} times per window in TFLM ...")
    scores_keras = tflm.predict_float(model, x_test)
    scores_step, x_steps, _, _ = gru_step.run_float_steps(q.step_float, plan, x_test)
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
    q.gru = step_figures(plan, io, float_diff)


def step_figures(plan: gru_step.StepPlan, io: stepping.StepIO, float_diff: float) -> dict:
    """What the firmware needs to step the model (the header's step constants), as report.json's ``gru``."""

    def quant(t: flatbuffer.TensorInfo, position: int) -> dict:
        return {"scale": t.scale, "zero_point": t.zero_point, "position": position}

    return {
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


class GruStepKind:
    """A GRU network converted as a one-step model the board steps through each window."""

    name = "gru_one_step"
    description = "GRU one-step (x_t, h) -> (h', scores)"

    def quantize(self, model, contract, x_train: np.ndarray) -> StepQuantized:
        return quantize_step_model(model, contract, x_train)

    def scores(self, model_bytes: bytes) -> flatbuffer.TensorInfo:
        return stepping.read_step_io(model_bytes).scores

    def verify(self, q: StepQuantized, model, x_test: np.ndarray, kernels) -> dict | None:
        verify_step_model(q, model, x_test)
        return board_verify.check_step_model(kernels, q.model_bytes, q.laptop_run, stepping.read_step_io(q.model_bytes)) \
            if kernels else None

    def int8_scores(self, model_bytes: bytes, model, contract, x: np.ndarray) -> np.ndarray:
        """Each window stepped from h = 0, as the firmware does."""
        plan = gru_step.plan_steps(model, contract.window, len(contract.channels))
        xs = gru_step.step_inputs(x, plan)
        return stepping.run_tflm_steps(model_bytes, xs, stepping.read_step_io(model_bytes)).scores

    def step(self, q: StepQuantized) -> dict | None:
        return q.gru

    def state_bytes(self, q: StepQuantized) -> int:
        return q.gru["units"]

    def table_rows(self, report: dict) -> tuple[str, list[tuple[str, str]]]:
        gru = report["gru"]
        s_in, s_out = gru["state_input"], gru["state_output"]
        return f"window = {gru['steps_per_window']} steps", [
            ("GRU state", f"{gru['units']} int8 values, carried by the firmware between steps"),
            ("GRU step input", f"{gru['chunk_samples']} sample(s), a step every {gru['stride_samples']} sample(s)"),
            ("h in / h' out scale, zp", f"{s_in['scale']:.6g}, {s_in['zero_point']} / {s_out['scale']:.6g}, {s_out['zero_point']}"),
            ("state carry", gru["state_carry"]),
            ("state reset", gru["reset_rule"]),
        ]


GRU_STEP_KIND = GruStepKind()
