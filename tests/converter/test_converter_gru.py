"""GRU and CNN-GRU: the one-step export (x_t, h) -> (h', scores), stepped through windows in TFLM."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
from converter_helpers import require_tool
from converter_run_fixture import LABELS, WINDOW, build_model, make_windows
from converter.gru import stepping
from converter.int8.tflm import quantize_input
from converter.int8.board_ops import TFLM_RESOLVER_METHODS
from converter.int8.flatbuffer import read_ops
from converter.gru.gru_step import build_step_model, plan_steps, run_float_steps

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("arch, chunk, stride, steps", [("gru", 1, 1, WINDOW), ("cnn-gru", 7, 2, 10)])
def test_stepping_the_float_one_step_model_gives_the_keras_scores(arch, chunk, stride, steps):
    import keras

    keras.utils.set_random_seed(3)
    model = build_model(WINDOW, len(LABELS), arch, gru_units=6)
    x, y = make_windows(48, seed=5)
    x = (x - x.reshape(-1, 6).mean(0)) / x.reshape(-1, 6).std(0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)  # weights that are not the initial ones
    plan = plan_steps(model, WINDOW, 6)
    assert (plan.chunk_samples, plan.stride_samples, plan.steps_per_window) == (chunk, stride, steps)
    stepped, _, h_in, h_out = run_float_steps(build_step_model(model, plan), plan, x.astype(np.float32))
    keras_scores = model.predict(x, verbose=0)
    np.testing.assert_allclose(stepped, keras_scores, atol=1e-5)
    assert np.all(h_in[:, 0] == 0) and np.array_equal(h_in[:, 1:], h_out[:, :-1])  # h reset, then carried


def check_conversion(conv, chunk: int, steps: int) -> None:
    report = conv.report
    gru = report["gru"]
    assert report["model_kind"] == "gru_one_step" and report["headers_written"] is True
    assert gru["units"] == 8 and gru["chunk_samples"] == chunk and gru["steps_per_window"] == steps
    assert report["accuracy_float"] >= 0.9 and report["accuracy_int8"] >= 0.9
    assert report["accuracy_drop_points"] <= 1.0
    assert report["macs"] == report["macs_per_invoke"] * steps
    assert report["ram_used_bytes"] == report["arena_bytes"] + gru["units"]
    assert gru["reset_rule"].startswith("set h to zero") and "kStepsPerWindow" in gru["reset_rule"]
    ops = read_ops((conv.run_dir / "model_int8.tflite").read_bytes())
    assert all(o.name in TFLM_RESOLVER_METHODS for o in ops)
    assert {"FULLY_CONNECTED", "LOGISTIC", "TANH", "MUL", "SOFTMAX"} <= {o.name for o in ops}
    assert "WHILE" not in {o.name for o in ops}
    assert "GRU state" in conv.stderr and "state reset" in conv.stderr  # the printed table


def test_gru_converts_to_a_one_step_int8_model(converted_gru):
    check_conversion(converted_gru, chunk=1, steps=WINDOW)
    # 3 gates x (6 inputs + 8 state) x 8 units + 8 x 3 labels multiply-accumulates per step
    assert converted_gru.report["macs_per_invoke"] == 3 * (6 * 8 + 8 * 8) + 8 * 3


def test_cnn_gru_converts_with_a_chunked_front_end(converted_cnn_gru):
    check_conversion(converted_cnn_gru, chunk=7, steps=10)
    assert converted_cnn_gru.report["gru"]["stride_samples"] == 2
    assert converted_cnn_gru.report["gru"]["front_end"] == ["front_conv1", "front_conv2"]


def test_state_is_carried_as_int8_and_the_int8_accuracy_is_reproducible(converted_gru):
    """h and h' share scale and zero point (forced by calibration), and stepping the .tflite again in
    TFLM with plain int8 copies of h' gives exactly the accuracy in the report."""
    conv = converted_gru
    model_bytes = (conv.run_dir / "model_int8.tflite").read_bytes()
    io = stepping.read_step_io(model_bytes)
    assert io.state_carried_as_int8 and conv.report["gru"]["state_carried_as_int8"]
    assert (io.h.scale, io.h.zero_point) == (io.h_next.scale, io.h_next.zero_point)
    from converter.run_dir import load_contract, load_windows, normalize
    from tflite_micro.python.tflite_micro import runtime

    contract = load_contract(conv.run_dir)
    windows = load_windows(conv.run_dir, contract)
    x = quantize_input(normalize(windows.x_test, contract), io.x)
    interpreter = runtime.Interpreter.from_bytes(model_bytes, arena_size=conv.report["arena_measured_bytes"])
    right = 0
    for window, label in zip(x, windows.y_test):
        h = np.full((1, 8), io.h.zero_point, dtype=np.int8)
        for sample in window:
            interpreter.set_input(sample[None, :], io.x_pos)
            interpreter.set_input(h, io.h_pos)
            interpreter.invoke()
            h = np.asarray(interpreter.get_output(io.h_next_pos), dtype=np.int8).reshape(1, 8)
        right += int(np.argmax(interpreter.get_output(io.scores_pos)) == label)
    assert right / len(x) == conv.report["accuracy_int8"]


def test_gru_headers_state_the_step_contract_and_compile(converted_gru, tmp_path):
    conv = converted_gru
    text = (conv.header_dir / "model_settings.h").read_text()
    io = stepping.read_step_io((conv.run_dir / "model_int8.tflite").read_bytes())
    values = dict(re.findall(r"constexpr [^=]*?\b(k\w+) = (.+?);", text))
    assert values["kIsStepModel"] == "true" and values["kGruStateSize"] == "8"
    assert values["kStepsPerWindow"] == str(WINDOW) and values["kStepInputSamples"] == "1"
    assert int(values["kStateInputIndex"]) == io.h_pos and int(values["kStepInputIndex"]) == io.x_pos
    assert int(values["kStateOutputIndex"]) == io.h_next_pos and int(values["kScoresOutputIndex"]) == io.scores_pos
    assert np.float32(values["kStateInputScale"].rstrip("f")) == np.float32(io.h.scale)
    assert int(values["kStateOutputZeroPoint"]) == io.h_next.zero_point
    assert values["kStateCarriedAsInt8"] == "true"
    assert "Reset: set h to zero" in text
    gxx = require_tool("g++")
    (tmp_path / "use.cc").write_text(
        '#include "model_settings.h"\n'
        "static_assert(ng::model::kIsStepModel, \"step model\");\n"
        "static int8_t state[ng::model::kGruStateSize];\n"
        "int main() { return state[0] + ng::model::kStepsPerWindow - ng::model::kWindowSamples; }\n")
    subprocess.run([gxx, "-std=c++14", "-Wall", "-Werror", "-I", str(conv.header_dir), str(tmp_path / "use.cc"),
                    "-o", str(tmp_path / "use")], check=True, capture_output=True, text=True)


def test_evaluate_steps_a_gru_run_through_every_window(converted_gru, tmp_path):
    import json

    from converter_helpers import run_cli
    from converter_run_fixture import write_dataset

    data = write_dataset(tmp_path / "data", takes_per_label=1, seconds=2.0)
    proc = run_cli("evaluate", str(converted_gru.run_dir), str(data))
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["n"] == 3 * 14 and result["n_takes"] == 3
    assert result["accuracy_int8"] >= 0.9 and result["top1_agreement"] >= 0.9


def _step_run(conv):
    from converter.run_dir import load_contract, load_windows, normalize

    model_bytes = (conv.run_dir / "model_int8.tflite").read_bytes()
    io = stepping.read_step_io(model_bytes)
    contract = load_contract(conv.run_dir)
    x = normalize(load_windows(conv.run_dir, contract).x_test[:4], contract)
    plan = conv.report["gru"]
    steps = np.arange(plan["steps_per_window"]) * plan["stride_samples"]
    return model_bytes, io, stepping.run_tflm_steps(model_bytes, x[:, steps, :], io)


def test_reference_check_compares_each_operator_on_the_same_step_inputs(converted_gru):
    """The gate: operators whose inputs are identical in TFLM and the reference kernels agree within
    1 LSB; h' and scores (where a 1-LSB FULLY_CONNECTED rounding grows through LOGISTIC/TANH) are reported."""
    agreement = converted_gru.report["reference_agreement"]
    assert agreement["kernel_max_lsb"] <= 1 and converted_gru.report["max_output_diff_lsb"] <= 1
    assert agreement["steps_compared"] > 0 and agreement["op_runs_compared"] > agreement["op_runs_with_different_inputs"]
    assert set(agreement["output_max_lsb"]) == {"h'", "scores"}
    model_bytes, io, run = _step_run(converted_gru)
    again = stepping.reference_agreement(model_bytes, run, io, max_windows=4)
    assert again.kernel_max_lsb <= 1


def test_reference_check_refuses_a_corrupted_model(converted_gru):
    """TFLM runs a copy whose recurrent weights were flipped (as a broken kernel or flash would compute):
    the operator fed identical inputs now disagrees by far more than 1 LSB, and it is named."""
    import tensorflow as tf

    model_bytes, io, run = _step_run(converted_gru)
    ref = tf.lite.Interpreter(model_content=model_bytes)
    weights = next(d for d in ref.get_tensor_details()
                   if "gru_h_n" in d["name"] and d["dtype"] == np.int8 and len(d["shape"]) == 2)
    data = ref.get_tensor(weights["index"]).tobytes()
    at = model_bytes.find(data)
    assert at > 0 and model_bytes.find(data, at + 1) < 0
    flipped = (-np.frombuffer(data, dtype=np.int8).astype(np.int16)).clip(-127, 127).astype(np.int8).tobytes()
    corrupted = model_bytes[:at] + flipped + model_bytes[at + len(data):]
    agreement = stepping.reference_agreement(model_bytes, run, io, max_windows=2, tflm_flatbuffer=corrupted)
    assert agreement.kernel_max_lsb > 10
    assert agreement.kernel_worst_op.startswith("FULLY_CONNECTED")
