"""`python -m converter convert` on a real (tiny) trained run: the .tflite, the report, the refusals."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from converter_helpers import run_cli
from converter.int8 import arena
from converter.int8.flatbuffer import read_io, read_ops
from converter.headers import fnv1a32

pytestmark = pytest.mark.slow


def test_convert_writes_a_full_int8_tflite(converted):
    model_bytes = (converted.run_dir / "model_int8.tflite").read_bytes()
    inp, out = read_io(model_bytes)
    assert (inp.type, out.type) == ("INT8", "INT8")
    assert inp.shape == (1, 25, 6) and out.shape == (1, 3)
    assert inp.scale > 0 and out.scale > 0
    from tflite_micro.python.tflite_micro import runtime

    interpreter = runtime.Interpreter.from_bytes(model_bytes, arena_size=1 << 16)
    assert interpreter.get_input_details(0)["dtype"] == np.int8
    assert interpreter.get_output_details(0)["dtype"] == np.int8


def test_convert_writes_the_headers_into_the_run_not_the_firmware(converted):
    from converter.headers import HEADER_FILES
    from converter.install import FIRMWARE_HEADER_DIR, settings_model_hash

    generated = converted.run_dir / "generated"
    assert converted.report["header_dir"] == str(generated.resolve()) and converted.report["headers_written"]
    assert all((generated / name).stat().st_size > 0 for name in HEADER_FILES)
    model_hash = int(converted.report["model_hash"], 16)
    assert settings_model_hash(generated) == model_hash
    assert settings_model_hash(FIRMWARE_HEADER_DIR) != model_hash  # the committed default was not replaced


def test_report_numbers_are_consistent(converted):
    report = converted.report
    model_bytes = (converted.run_dir / "model_int8.tflite").read_bytes()
    assert json.loads(converted.stdout) == report  # data on stdout, the same as report.json
    assert report["model_bytes"] == len(model_bytes)
    assert report["model_hash"] == f"0x{fnv1a32(model_bytes):08x}"
    assert report["ops"] == [{"name": o.name, "version": o.version} for o in read_ops(model_bytes)]
    assert {o["name"] for o in report["ops"]} >= {"CONV_2D", "FULLY_CONNECTED", "SOFTMAX"}
    assert report["n_test"] == 90
    assert report["accuracy_float"] >= 0.9 and report["accuracy_int8"] >= 0.9
    assert report["top1_agreement"] >= 0.95
    assert report["max_output_diff_lsb"] <= 1
    assert report["arena_bytes"] == arena.round_up(report["arena_measured_bytes"] + report["arena_margin_bytes"], 16)
    inp, out = read_io(model_bytes)
    assert report["input_quantization"]["scale"] == inp.scale
    assert report["output_quantization"]["zero_point"] == out.zero_point
    assert report["headers_written"] is True
    assert "accuracy int8 (TFLM)" in converted.stderr  # the table
    assert "oneDNN" not in converted.stderr and "Saved artifact" not in converted.stderr  # TF's chatter is muted


def test_measured_arena_is_the_smallest_that_works(converted):
    path = str(converted.run_dir / "model_int8.tflite")
    measured = converted.report["arena_measured_bytes"]
    assert arena._probe(path, measured)[0]
    assert not arena._probe(path, measured - arena.RESOLUTION_BYTES)[0]


def test_missing_model_is_refused(tmp_path, fixture_run):
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(fixture_run / "contract.json", run)
    proc = run_cli("convert", str(run), "--header-dir", str(tmp_path / "h"))
    assert proc.returncode == 2
    assert "has no model.keras" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "h").exists()


def test_missing_run_dir_is_refused(tmp_path):
    proc = run_cli("convert", str(tmp_path / "nope"))
    assert proc.returncode == 2
    assert "no such run directory" in proc.stderr


def test_label_count_mismatch_is_refused(tmp_path, fixture_run):
    run = tmp_path / "run"
    shutil.copytree(fixture_run, run)
    contract = json.loads((run / "contract.json").read_text())
    contract["labels"] = contract["labels"] + ["punch"]
    (run / "contract.json").write_text(json.dumps(contract))
    proc = run_cli("convert", str(run), "--header-dir", str(tmp_path / "h"))
    assert proc.returncode == 2
    assert "contract.json lists 4 labels but the model has 3 outputs" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "h").exists()


def test_accuracy_drop_over_the_limit_is_refused(tmp_path, fixture_run):
    # A negative allowance makes even a lossless conversion "too lossy": the refusal path, for real.
    run = tmp_path / "run"
    shutil.copytree(fixture_run, run)
    (run / "report.json").unlink(missing_ok=True)
    proc = run_cli("convert", str(run), "--header-dir", str(tmp_path / "h"), "--max-drop", "-5")
    assert proc.returncode == 2
    assert "error: int8 accuracy" in proc.stderr and "more than the allowed --max-drop -5 points" in proc.stderr
    assert not (tmp_path / "h").exists()
    report = json.loads((run / "report.json").read_text())  # the numbers are kept for the user to read
    assert report["headers_written"] is False and report["accuracy_int8"] >= 0.9


@pytest.mark.parametrize("command", ["convert", "evaluate"])
def test_help(command):
    proc = run_cli(command, "--help")
    assert proc.returncode == 0
    assert "RUN_DIR" in proc.stdout
    assert ("--header-dir" in proc.stdout) == (command == "convert")


def test_unsupported_op_is_refused_naming_op_and_layer(tmp_path):
    """GELU converts to the int8 builtin GELU, which TFLM's resolver cannot register."""
    import keras
    from converter_run_fixture import LABELS, WINDOW, make_run_dir

    inputs = keras.Input((WINDOW, 6))
    h = keras.layers.Dense(8, activation="gelu", name="fancy_dense")(inputs)
    h = keras.layers.Flatten(name="flat")(h)
    model = keras.Model(inputs, keras.layers.Dense(len(LABELS), activation="softmax", name="head")(h))
    run = make_run_dir(tmp_path / "run", epochs=1, model=model)
    proc = run_cli("convert", str(run), "--header-dir", str(tmp_path / "h"))
    assert proc.returncode == 2
    assert "GELU (from layer 'fancy_dense')" in proc.stderr and "Microcontrollers cannot run" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "h").exists()


def test_over_budget_model_is_refused_with_its_numbers(tmp_path, converted):
    proc = run_cli("convert", str(converted.run_dir), "--header-dir", str(tmp_path / "h"), "--flash-budget-kb", "4")
    assert proc.returncode == 2
    size = converted.report["model_bytes"]
    assert f"the model needs {size} bytes of flash but the budget is 4096 bytes (4 KB, --flash-budget-kb)" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "h").exists()


def test_report_states_budgets_macs_latency_and_per_class(converted):
    from converter.int8 import cost

    report = converted.report
    assert report["flash_budget_bytes"] == (1024 - cost.FLASH_ALLOWANCE_KB) * 1024
    assert report["ram_budget_bytes"] == (256 - cost.RAM_ALLOWANCE_KB) * 1024
    assert report["ram_used_bytes"] == report["arena_bytes"] and report["gru"] is None
    # conv 8x5x6 over 21 steps, conv 8x3x8 over 8 steps, dense 8->3 (see converter_run_fixture.build_model)
    assert report["macs"] == 21 * 8 * 5 * 6 + 8 * 8 * 3 * 8 + 8 * 3
    assert report["latency_ms_estimate"] == round(report["macs"] * 4 / 64e6 * 1000, 3)
    assert set(report["per_class"]) == {"flex", "idle", "wave"}
    assert sum(c["n"] for c in report["per_class"].values()) == report["n_test"]
    assert "4 cycles/MAC (assumed)" in converted.stderr
