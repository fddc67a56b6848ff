"""`python -m converter convert` on a real (tiny) trained run: the .tflite, the report, the refusals."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from converter_helpers import run_cli

from converter import arena
from converter.flatbuffer import read_io, read_ops
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
    assert "points below float accuracy" in proc.stderr and "allowed drop: -5 points" in proc.stderr
    assert not (tmp_path / "h").exists()
    report = json.loads((run / "report.json").read_text())  # the numbers are kept for the user to read
    assert report["headers_written"] is False and report["accuracy_int8"] >= 0.9


@pytest.mark.parametrize("command", ["convert", "evaluate"])
def test_help(command):
    proc = run_cli(command, "--help")
    assert proc.returncode == 0
    assert "RUN_DIR" in proc.stdout
    assert ("--header-dir" in proc.stdout) == (command == "convert")
