"""The board's own TFLM kernels (the pinned library's sources built for the host) against the
laptop's PyPI tflite-micro, on real converted models.

Tests that need the board library's sources run where they are found ($NANOGEST_BOARD_TFLM or
PlatformIO's .pio/libdeps) and skip, naming where they looked, where they are not. The sources are
not a tool: NANOGEST_REQUIRE_TOOLCHAINS=1 does not turn that skip into a failure (CI has no
PlatformIO registry, so no sources).
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from converter_helpers import REPO, require_tool, run_cli
from converter_run_fixture import WINDOW, make_windows

from converter import ConverterError
from converter.int8 import board_ops, flatbuffer, quantize, tflm
from converter.gru import stepping
from converter.board import board_tflm, board_verify
from converter.run_dir import load_contract, load_model, load_windows, normalize


@pytest.fixture(scope="session")
def kernels():
    try:
        board_tflm.find_sources()
    except board_tflm.BoardSourcesMissing as e:
        pytest.skip(f"needs the board's TFLM library sources: {e}")
    require_tool("g++")
    require_tool("gcc")
    return board_tflm.load()


def test_the_converted_window_model_is_bit_identical_on_the_board_kernels(converted, kernels):
    model_bytes = (converted.run_dir / "model_int8.tflite").read_bytes()
    names = [o.name for o in flatbuffer.read_ops(model_bytes)]
    assert "MEAN" not in names and "AVERAGE_POOL_2D" in names  # GlobalAveragePooling1D, converted board-exact
    assert board_ops.board_differences(model_bytes) == []
    contract = load_contract(converted.run_dir)
    x = normalize(load_windows(converted.run_dir, contract).x_test, contract)
    x_q = tflm.quantize_input(x, flatbuffer.read_io(model_bytes)[0])
    laptop = tflm.run_tflm(model_bytes, x_q)
    board = tflm.run_tflm(model_bytes, x_q, kernels=kernels)
    assert len(board) == len(x) > 50 and np.array_equal(board, laptop)
    b = converted.report["board_kernels"]
    assert (b["identical"], b["n"], b["max_lsb"]) == (len(x), len(x), 0)
    assert b["library"] == "Chirale_TensorFLowLite" and b["version"] == "2.0.0"
    assert "bit-identical to the laptop's TFLM" in converted.stderr


def test_the_gru_step_model_is_bit_identical_on_the_board_kernels(converted_gru, kernels):
    b = converted_gru.report["board_kernels"]
    assert b["identical"] == b["n"] == converted_gru.report["n_test"] and b["max_lsb"] == 0
    model_bytes = (converted_gru.run_dir / "model_int8.tflite").read_bytes()
    assert board_ops.board_differences(model_bytes) == []
    io = stepping.read_step_io(model_bytes)
    rng = np.random.default_rng(4)
    xq = rng.integers(-128, 128, size=(6, WINDOW, *io.x.shape[1:]), dtype=np.int8)
    laptop = stepping.run_tflm_steps_int8(model_bytes, xq, io)
    board = stepping.run_tflm_steps_int8(model_bytes, xq, io, kernels=kernels)
    assert np.array_equal(board.outputs[0], laptop.outputs[0]) and np.array_equal(board.outputs[1], laptop.outputs[1])


def test_per_channel_dense_and_mean_differ_on_the_board_and_are_refused(converted, kernels):
    """The TFLite converter's default model of the same weights: the board's kernels really compute it
    differently, and the converter's board rules refuse it with the reason."""
    contract = load_contract(converted.run_dir)
    model = load_model(converted.run_dir, contract)
    windows = load_windows(converted.run_dir, contract)
    calibration = quantize.calibration_windows(normalize(windows.x_train, contract))
    default = quantize.quantize_int8(model, calibration, per_tensor_dense=False, pool_for_mean=False)
    assert {k for k, _ in board_ops.board_differences(default)} == {"FULLY_CONNECTED per-channel", "MEAN"}
    x_q = tflm.quantize_input(normalize(windows.x_test, contract), flatbuffer.read_io(default)[0])
    laptop, board = tflm.run_tflm(default, x_q), tflm.run_tflm(default, x_q, kernels=kernels)
    assert not np.array_equal(laptop, board)
    check = board_verify.check_window_model(kernels, default, x_q, laptop)  # the converter's own board check
    assert check["identical"] < check["n"] == len(x_q) and check["max_lsb"] > 0
    with pytest.raises(ConverterError, match=r"the board's kernels \(Chirale_TensorFLowLite 2\.0\.0\) compute \d+ of"):
        board_verify.refuse_if_different(check, Path("model_int8.tflite"))
    with pytest.raises(ConverterError) as err:
        board_ops.check_board_ops(default, flatbuffer.op_layers(default, {"gap": "gap"}), "Chirale_TensorFLowLite 2.0.0")
    text = str(err.value)
    assert "FULLY_CONNECTED per-channel" in text and "first output channel's weight scale" in text
    assert "MEAN" in text and "AVERAGE_POOL_2D" in text


def test_the_board_exact_copy_computes_the_same_float_model(converted):
    contract = load_contract(converted.run_dir)
    model = load_model(converted.run_dir, contract)
    copy = quantize.batch1_copy(model)
    assert "GlobalAveragePooling1D" not in {type(layer).__name__ for layer in copy.layers}
    x = normalize(make_windows(8, seed=9)[0], contract)
    want = model.predict(x, verbose=0)
    got = np.concatenate([copy.predict(w[None], verbose=0) for w in x])
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_the_virtual_boards_model_server_runs_the_board_kernels(converted, kernels):
    model_bytes = (converted.run_dir / "model_int8.tflite").read_bytes()
    inp, _ = flatbuffer.read_io(model_bytes)
    window = np.random.default_rng(2).integers(-128, 128, size=inp.shape, dtype=np.int8)
    env = {**os.environ, board_tflm.ENV_VAR: str(kernels.sources.root)}
    request = struct.pack("<I", window.size) + window.tobytes() + struct.pack("<I", 0)
    proc = subprocess.run([sys.executable, "-m", "converter.tflm_server", str(converted.run_dir)], input=request,
                          capture_output=True, cwd=REPO, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert "running the model in the board's kernels: Chirale_TensorFLowLite 2.0.0" in proc.stderr.decode()
    body = proc.stdout  # only the model's answers: the settings are compiled into the virtual board
    (m,) = struct.unpack("<I", body[:4])
    assert np.array_equal(np.frombuffer(body[4:4 + m], dtype=np.int8), tflm.run_tflm(model_bytes, window[None], kernels=kernels)[0])


def test_sources_of_another_version_than_the_pin_are_refused(tmp_path, kernels):
    other = tmp_path / "lib"
    other.mkdir()
    (other / "src").symlink_to(kernels.sources.src)
    (other / "library.properties").write_text("name=Chirale_TensorFLowLite\nversion=1.9.0\n")
    with pytest.raises(ConverterError, match=r"are Chirale_TensorFLowLite 1\.9\.0, but platformio.ini pins "
                                             r"Chirale_TensorFLowLite 2\.0\.0"):
        board_tflm.load(other)


def test_without_sources_the_search_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv(board_tflm.ENV_VAR, "")
    monkeypatch.setattr(board_tflm, "PIO_LIBDEPS", tmp_path / ".pio" / "libdeps" / "nano33ble")
    kernels, reason = board_tflm.load_or_reason()
    assert kernels is None
    assert str(tmp_path / ".pio/libdeps/nano33ble/Chirale_TensorF[lL]owLite*") in reason and "pio pkg install" in reason
    from boardtools.replay import virtual_board_runner

    described, against, env = virtual_board_runner()
    assert described is None and env[board_tflm.ENV_VAR] == ""
    assert against.startswith("agreement measured against PyPI tflite-micro, not the board's kernels (sources not found at ")
    from converter.tflm_server import choose_runner

    assert choose_runner(None, False)[1].startswith("PyPI tflite-micro, not the board's kernels (")


def test_a_named_directory_that_is_not_the_library_is_a_clear_error(tmp_path):
    with pytest.raises(ConverterError, match="has no library.properties"):
        board_tflm.find_sources(tmp_path)
    (tmp_path / "library.properties").write_text("name=x\nversion=1\n")
    with pytest.raises(ConverterError, match="not a TFLM library"):
        board_tflm.find_sources(tmp_path)


def test_the_conversion_report_says_which_kernels_checked_it(converted):
    """Where the sources exist the report has the board check; where not, null and the reason."""
    r = converted.report
    assert r["board_library"] == {"name": "Chirale_TensorFLowLite", "version": "2.0.0", "pinned_in": "platformio.ini"}
    if r["board_kernels"] is None:
        assert "were not found at" in r["board_kernels_reason"] and "not checked" in converted.stderr
    else:
        assert r["board_kernels_reason"] is None and r["board_kernels"]["identical"] == r["board_kernels"]["n"]
    settings = (converted.header_dir / "model_settings.h").read_text()
    assert 'kBoardTflmLibrary = "Chirale_TensorFLowLite 2.0.0";' in settings


def test_the_board_kernels_command_builds_and_names_the_library(kernels):
    proc = subprocess.run([sys.executable, "-m", "converter", "board-kernels", "--board-tflm", str(kernels.sources.root)],
                          capture_output=True, text=True, cwd=REPO, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert (out["library"], out["version"], out["found_by"]) == ("Chirale_TensorFLowLite", "2.0.0", "--board-tflm")
    assert Path(out["built"]).is_file()


def test_the_sources_platformio_installs_are_found(tmp_path, monkeypatch, kernels):
    """`pio pkg install` puts the pinned library in .pio/libdeps/nano33ble/ under its manifest name."""
    libdeps = tmp_path / ".pio" / "libdeps" / "nano33ble"
    libdeps.mkdir(parents=True)
    (libdeps / "Chirale_TensorFLowLite").symlink_to(kernels.sources.root)
    monkeypatch.setenv(board_tflm.ENV_VAR, "")
    monkeypatch.setattr(board_tflm, "PIO_LIBDEPS", libdeps)
    found = board_tflm.find_sources()
    assert (found.found_by, found.name, found.version) == ("platformio", "Chirale_TensorFLowLite", "2.0.0")


def test_measure_on_arm_reports_instructions_arena_and_latency(converted, kernels, tmp_path):
    require_tool("arm-none-eabi-g++")
    require_tool("qemu-system-arm")
    run = tmp_path / "run"
    shutil.copytree(converted.run_dir, run)
    proc = run_cli("convert", str(run), "--header-dir", str(tmp_path / "headers"), "--measure-on-arm",
                   "--board-tflm", str(kernels.sources.root), timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((run / "report.json").read_text())
    m = report["arm_measurement"]
    assert m["outputs_equal_laptop_tflm"] is True and set(m["outputs"]) == {"p0 o0", "p1 o0"}
    assert 0 < m["arena_used_bytes"] <= report["arena_bytes"]
    assert m["instructions_per_invoke"] > report["macs"] // 2  # SMLAD, CMSIS-NN's widest MAC, does two per instruction
    assert m["latency_ms_per_invoke"]["1.5_cycles_per_instruction"] > m["latency_ms_per_invoke"]["1_cycles_per_instruction"] > 0
    assert "measured on Cortex-M4F" in proc.stderr
