"""A GRU run on the virtual board: the core steps the one-step model (x_t, h) -> (h', scores),
carrying h itself, and every window's scores equal the laptop's TFLM stepping
(converter.gru.stepping) byte for byte. Tiny data and a few epochs: the model need not be good,
board and laptop must agree."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from boardtools.replay import replay
from converter.tflm_server import parse_settings
from training.families import family

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 120.0



def run(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, f"{args[:2]} failed:\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def gru_run(tmp_path_factory, host_build) -> tuple[Path, Path]:
    """(converted gru RUN_DIR, DATA_DIR): 3 labels x 2 people x 2 takes of 1 s, 3 epochs, 8 units."""
    from capture.synth import write_dataset

    base = tmp_path_factory.mktemp("gru_path")
    data, run_dir = base / "data", base / "run"
    write_dataset(data, subjects=["p1", "p2"], takes_per_label=2, rate_hz=119.0, labels=("punch", "wave", "idle"),
                  take_seconds=1.0, seed=4)
    run("training", "fit", str(data), "--out", str(run_dir), "--arch", "gru", "--epochs", "3", "--gru-units", "8",
        "--no-augment")
    # no accuracy rule: three epochs make a poor model; this test is about board == laptop, not accuracy
    run("converter", "convert", str(run_dir), "--header-dir", str(base / "headers"), "--max-drop", "100",
        "--min-agreement", "0")
    return run_dir, data


def test_tflm_server_announces_the_step_settings(gru_run):
    run_dir, _ = gru_run
    settings = parse_settings(run("converter.tflm_server", str(run_dir), "--print-settings").stdout.splitlines())
    report = json.loads((run_dir / "report.json").read_text())
    gru = report["gru"]
    contract = json.loads((run_dir / "contract.json").read_text())
    assert contract["rate_hz"] == min(family("gru").rate_hz or 119.0, 119.0)  # fit's rate for gru on 119 Hz takes
    assert settings["step_model"] == ["1"] and settings["state_size"] == [str(gru["units"])]
    assert settings["steps_per_window"] == [str(gru["steps_per_window"])] == [str(contract["window"])]
    assert settings["step_input_samples"] == ["1"] and settings["step_stride_samples"] == ["1"]
    assert int(settings["state_input_zero_point"][0]) == gru["state_input"]["zero_point"]
    assert settings["state_carried_as_int8"] == [str(int(gru["state_carried_as_int8"]))]


def test_board_stepping_equals_host_tflm_stepping_on_every_window(gru_run):
    run_dir, data = gru_run
    summary = replay(run_dir, data)
    assert summary["windows"] == 3 * 2 * 2  # one window per 1-s take (one step per sample at the model's rate)
    assert summary["agreement"] == 1.0  # label and raw int8 score of every window
    assert summary["accuracy_board"] == summary["accuracy_host"]


def test_generated_step_header_gives_the_same_settings_as_the_run(gru_run, tmp_path):
    """default_model built against the converter's headers of this run (what the real board is built
    from) prints the same step settings as tflm_server reads from the run's files."""
    import numpy as np

    run_dir, _ = gru_run
    headers = run_dir.parent / "headers"
    fw = ROOT / "firmware"
    exe = tmp_path / "default_model"
    subprocess.run(["g++", "-std=c++14", "-Wall", "-Wextra", "-Werror", "-I", str(fw / "lib/nanogest_core/src"),
                    "-I", str(fw / "host"), "-I", str(headers), "-o", str(exe), str(fw / "host/default_model.cpp"),
                    str(fw / "host/model_settings_text.cpp"), str(headers / "model_data.cc")],
                   check=True, capture_output=True, text=True, timeout=WAIT_S)
    board = parse_settings(subprocess.run([str(exe), "--print-settings"], capture_output=True, text=True,
                                          check=True).stdout.splitlines())
    host = parse_settings(run("converter.tflm_server", str(run_dir), "--print-settings").stdout.splitlines())
    assert board.keys() == host.keys() and "step_model" in board
    for key in board:
        if key in ("labels", "model_hash"):
            assert board[key] == host[key], key
        else:
            assert np.array_equal(np.float32([float(v) for v in board[key]]), np.float32([float(v) for v in host[key]])), key


def test_a_step_model_on_a_rev2_board_steps_the_resampled_stream_like_the_laptop(gru_run, tmp_path):
    from capture.synth import write_dataset

    run_dir, _ = gru_run
    data = tmp_path / "data"
    write_dataset(data, subjects=["p3"], takes_per_label=2, rate_hz=100.0, labels=("punch", "wave", "idle"),
                  take_seconds=2.5, seed=9, imu="BMI270")
    summary = replay(run_dir, data, imu="bmi270")
    assert summary["board_resamples"] is True and summary["imu_rate_hz"] == 100.0
    assert summary["windows"] == 3 * 2 * 2  # 2.5 s of 100 Hz samples resampled to the model's rate: two 1-s windows
    assert summary["agreement"] == 1.0
