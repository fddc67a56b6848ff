"""``nanogest monitor --replay FILE``: a take of a dataset (``t_us,aX,...``, written by the project's own
writer) plays on the virtual board like an IMU_Capture CSV, at the emulated IMU's rate; a file that
is neither gets one ``error:`` line.

The board's windows are checked against the laptop's TFLM on the counts the take should arrive as,
so a take that reached the board in other units, at another rate or shifted would fail.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from boardtools.replay import input_tensors, load_run
from capture.dataset import TakeMeta, read_take, write_take
from contract.resample import IMU_RATES_MHZ, IMU_SCALES, rate_mhz, resample_counts, values_to_counts

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RUN = ROOT / "firmware" / "build" / "host" / "default_run"
TIMEOUT_S = 120  # a guard against a hung process, not a speed expectation


def recorded_take(data: Path, rate_hz: float, imu: str) -> Path:
    from capture.synth import make_take

    values = make_take("wave", rate_hz, "p5", 0, "s1", 3.0)
    t_us = np.round(np.arange(len(values)) * 1e6 / rate_hz).astype(np.int64)
    meta = TakeMeta(label="wave", rate_hz=rate_hz, subject="p5", imu=imu, source="synth")
    return write_take(data, meta, t_us, values)


def monitor(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nanogest", "monitor", "--model", str(DEFAULT_RUN), *args],
                          capture_output=True, text=True, timeout=TIMEOUT_S, cwd=ROOT)


@pytest.mark.parametrize("take_rate_hz,take_imu,imu", [
    (119.0, "LSM9DS1", "lsm9ds1"),  # the virtual IMU's own rate: played as recorded
    (100.0, "BMI270", "lsm9ds1"),   # a Rev2 take on a Rev1 board: resampled to 119 Hz first
    (119.0, "LSM9DS1", "bmi270"),   # a Rev1 take on a Rev2 board: resampled to 100 Hz, and back by the board
])
def test_monitor_plays_a_recorded_take_and_the_board_sees_its_samples(host_build, tmp_path, take_rate_hz, take_imu, imu):
    from converter.gate import gated_scores
    from converter.int8.flatbuffer import read_io
    from converter.int8.tflm import run_tflm

    take_csv = recorded_take(tmp_path / "data", take_rate_hz, take_imu)
    proc = monitor("--replay", str(take_csv), "--imu", imu, "--speed", "20", "--seconds", "2", "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    chip = imu.upper()
    imu_hz = IMU_RATES_MHZ[chip] / 1000
    notes = [line for line in proc.stderr.splitlines() if line.startswith(f"[monitor] {take_csv}")]
    if take_rate_hz == imu_hz:
        assert notes == [f"[monitor] {take_csv}: a take recorded at {take_rate_hz:g} Hz, the virtual {chip}'s rate"]
    else:
        assert notes == [f"[monitor] {take_csv}: a take recorded at {take_rate_hz:g} Hz, resampled to {imu_hz:g} Hz, "
                         f"the virtual {chip}'s rate"]
    records = [json.loads(line) for line in proc.stdout.splitlines()]

    contract, model_bytes = load_run(DEFAULT_RUN)
    inp = read_io(model_bytes)[0]
    scales = IMU_SCALES[chip]
    take = read_take(take_csv)
    counts = resample_counts(values_to_counts(take.values, *scales), rate_mhz(take_rate_hz), IMU_RATES_MHZ[chip])
    q = input_tensors(counts, contract, scales, (inp.scale, inp.zero_point), IMU_RATES_MHZ[chip])
    host = gated_scores(run_tflm(model_bytes, q), q, contract, (inp.scale, inp.zero_point))  # what the board reports
    # The virtual board loops the take; the windows of its first pass lie wholly inside it.
    first = [r for r in records if r["window_index"] < len(host)]
    assert len(host) >= 6 and len(first) == len(host), f"{len(records)} predictions"
    assert [r["label_index"] for r in first] == host.argmax(axis=1).tolist()
    assert [r["score_q"] for r in first] == host.max(axis=1).tolist()


@pytest.mark.parametrize("text,why", [
    ("hello,world\n1,2\n", "neither an IMU_Capture CSV"),
    ("", "neither an IMU_Capture CSV"),
    ("t_us,aX,aY,aZ,gX,gY,gZ\n0,0,0,1,0,0,0\n", "metadata file is missing"),  # a take without its .json
])
def test_monitor_refuses_a_file_that_is_neither_with_one_error_line(tmp_path, text, why):
    path = tmp_path / "odd.csv"
    path.write_text(text)
    proc = monitor("--replay", str(path), "--seconds", "1")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and why in lines[0], proc.stderr
    assert "odd" in lines[0]
