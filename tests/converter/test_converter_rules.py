"""The refusal rules: a couple of label flips on few windows pass, a broken model is refused.

The rule itself is checked on counts; then for real, through the converter and both interpreters:
test windows chosen on the float model's decision boundary (where int8 flips a label), a model
calibrated on the wrong data (wrong quantization), and TFLM running corrupted weights."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from converter_helpers import run_cli
from converter.int8 import flatbuffer, op_agreement, rules, tflm
from converter.run_dir import load_contract, load_model, load_windows, normalize


def _verdict(n: int, lost: int, gained: int = 0, **kw) -> dict:
    y = np.zeros(n, dtype=int)
    pred_float = y.copy()
    pred_float[:gained] = 1  # float wrong on these, int8 right
    pred_int8 = y.copy()
    pred_int8[gained:gained + lost] = 1  # float right on these, int8 wrong
    return rules.accuracy_verdict(y, pred_float, pred_int8, **kw)


@pytest.mark.parametrize("n, lost", [(43, 1), (43, 2), (84, 2), (84, 4), (300, 5)])
def test_a_few_lost_windows_pass(n, lost):
    v = _verdict(n, lost)
    assert v["refused"] == [] and v["windows_lost"] == lost and v["windows_changed"] == lost


@pytest.mark.parametrize("n, lost", [(43, 3), (84, 5), (10_000, 150)])
def test_more_lost_windows_than_noise_are_refused(n, lost):
    v = _verdict(n, lost)
    assert len(v["refused"]) >= 1 and f"{lost} of {n}" in v["refused"][0]
    assert v["lost_points_lower_bound"] > 1.0


def test_the_same_share_of_lost_windows_is_judged_by_how_many_windows_there_are():
    assert _verdict(60, 1)["refused"] == []  # 1.7 % of 60 windows: one window
    assert _verdict(6000, 100)["refused"]  # 1.7 % of 6000 windows: a real loss


def test_labels_changing_both_ways_are_refused_on_top1_agreement():
    v = _verdict(100, lost=2, gained=18)  # int8 even scores higher, but a fifth of the labels changed
    assert len(v["refused"]) == 1 and "top-1 agreement" in v["refused"][0]
    assert v["windows_changed"] == 20


def test_a_negative_allowance_refuses_even_a_lossless_conversion():
    assert _verdict(50, 0, max_drop_points=-1)["refused"]


def test_binomial_tail_is_exact_on_a_small_case():
    # P(X >= 2), X ~ Binomial(3, 0.5) = (3 + 1) / 8
    assert rules.binomial_tail(2, 3, 0.5) == pytest.approx(0.5)
    assert rules.binomial_tail(0, 3, 0.1) == 1.0 and rules.binomial_tail(4, 3, 0.1) == 0.0


def _int8_labels(model_bytes: bytes, x: np.ndarray) -> np.ndarray:
    inp, _ = flatbuffer.read_io(model_bytes)
    return tflm.run_tflm(model_bytes, tflm.quantize_input(x, inp)).argmax(axis=1)


@pytest.mark.slow
def test_a_couple_of_flips_on_few_windows_pass_the_converter(converted, tmp_path):
    """41 ordinary test windows and 2 on the float model's decision boundary, where int8 picks the other
    label: 2 of 43 windows (4.7 points) change label, which is rounding, not a broken model."""
    run = converted.run_dir
    contract = load_contract(run)
    w = load_windows(run, contract)
    model = load_model(run, contract)
    model_bytes = (run / "model_int8.tflite").read_bytes()
    # Walk from windows of one label to windows of another until float and int8 disagree.
    a, b = w.x_test[w.y_test == 0][:12], w.x_test[w.y_test == 2][:12]
    mix = np.linspace(0, 1, 121, dtype=np.float32)[:, None, None, None]
    x_raw = (a[None] * (1 - mix) + b[None] * mix).reshape(-1, *a.shape[1:])
    x = normalize(x_raw, contract)
    pred_float = tflm.predict_float(model, x).argmax(axis=1)
    flips = np.flatnonzero(pred_float != _int8_labels(model_bytes, x))
    assert len(flips) >= 2, "no window on the decision boundary where int8 picks another label"
    ordinary = np.flatnonzero(tflm.predict_float(model, normalize(w.x_test, contract)).argmax(axis=1) == w.y_test)[:41]
    x_test = np.concatenate([w.x_test[ordinary], x_raw[flips[:2]]])
    y_test = np.concatenate([w.y_test[ordinary], pred_float[flips[:2]]])  # float is right on every window

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    np.savez_compressed(copy / "windows.npz", x_train=w.x_train, y_train=w.y_train, x_test=x_test, y_test=y_test)
    proc = run_cli("convert", str(copy), "--header-dir", str(tmp_path / "h"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads((copy / "report.json").read_text())
    check = report["accuracy_check"]
    assert report["n_test"] == 43 and check["windows_lost"] == 2 and check["refused"] == []
    assert report["accuracy_drop_points"] == pytest.approx(100 * 2 / 43, abs=0.01)  # what the old rule refused
    assert report["headers_written"] is True


@pytest.mark.slow
def test_a_model_quantized_with_the_wrong_calibration_is_refused(fixture_run, tmp_path):
    """Calibrated on windows a hundredth of the real size: every activation's int8 range is far too small,
    TFLM and the reference kernels agree on the wrong answers, and the accuracy rule refuses."""
    run = tmp_path / "run"
    shutil.copytree(fixture_run, run)
    (run / "report.json").unlink(missing_ok=True)
    contract = load_contract(run)
    w = load_windows(run, contract)
    wrong = contract.mean + (w.x_train - contract.mean) * 0.01
    np.savez_compressed(run / "windows.npz", x_train=wrong, y_train=w.y_train, x_test=w.x_test, y_test=w.y_test)
    proc = run_cli("convert", str(run), "--header-dir", str(tmp_path / "h"))
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "error: int8 accuracy" in proc.stderr and "Traceback" not in proc.stderr
    report = json.loads((run / "report.json").read_text())
    assert report["accuracy_check"]["refused"] and report["max_output_diff_lsb"] <= 1
    assert not (tmp_path / "h").exists()


@pytest.mark.slow
def test_operator_comparison_on_the_genuine_model(converted):
    """Every operator was compared with identical inputs; the largest kernel difference is the gate."""
    report = converted.report["reference_agreement"]
    assert report["kernel_max_lsb"] <= 1 and converted.report["max_output_diff_lsb"] == report["kernel_max_lsb"]
    assert [o["op"] for o in report["ops"]][-1] == "SOFTMAX"
    assert all(o["runs_same_inputs"] > 0 for o in report["ops"])
    assert report["windows_compared"] == converted.report["n_test"]


@pytest.mark.slow
def test_operator_comparison_refuses_corrupted_convolution_weights(converted):
    """TFLM runs a copy whose convolution weights were negated (as a broken kernel or flash would compute):
    that operator, fed identical inputs, disagrees by far more than 1 LSB, and it is named."""
    import tensorflow as tf

    run = converted.run_dir
    contract = load_contract(run)
    model_bytes = (run / "model_int8.tflite").read_bytes()
    ref = tf.lite.Interpreter(model_content=model_bytes)
    weights = max((d for d in ref.get_tensor_details() if d["dtype"] == np.int8 and len(d["shape"]) == 4),
                  key=lambda d: int(np.prod(d["shape"])))
    data = ref.get_tensor(weights["index"]).tobytes()
    at = model_bytes.find(data)
    assert at > 0 and model_bytes.find(data, at + 1) < 0
    flipped = (-np.frombuffer(data, dtype=np.int8).astype(np.int16)).clip(-127, 127).astype(np.int8).tobytes()
    corrupted = model_bytes[:at] + flipped + model_bytes[at + len(data):]
    inp, _ = flatbuffer.read_io(model_bytes)
    x = tflm.quantize_input(normalize(load_windows(run, contract).x_test[:20], contract), inp)
    agreement = op_agreement.compare_ops(model_bytes, x, tflm_flatbuffer=corrupted)
    assert agreement.kernel_max_lsb > 10
    assert agreement.kernel_worst_op.startswith("CONV_2D")
