"""``nanogest verify-board`` (the last step of ``make flash``) against the virtual board
over real pseudo-terminals. The first step, ``nanogest install``, is tested in
tests/converter/test_converter_install.py.

The virtual board runs the committed default model (firmware/build/host/default_run); run
directories that match it or not are written into tmp_path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from boardtools.board_check import run_model
from converter.headers import fnv1a32

REPO = Path(__file__).resolve().parents[2]
LABELS = ["circle", "flex", "idle", "punch", "unknown", "wave"]  # the default model's (unknown: its novelty gate)
TIMEOUT_S = 120  # a guard against a hung process, not a speed expectation


def default_hash(host_build: Path) -> str:
    """The committed default model's hash, computed here from its bytes (not read from a header)."""
    return f"0x{fnv1a32((host_build / 'default_run' / 'model_int8.tflite').read_bytes()):08x}"


def make_run(dest: Path, host_build: Path, model_hash: int | None = None, labels=None, with_tflite=True) -> Path:
    """A converted run dir for the default model; ``model_hash``/``labels`` override what it claims."""
    src = host_build / "default_run"
    dest.mkdir(parents=True)
    contract = json.loads((src / "contract.json").read_text())
    if labels is not None:
        contract["labels"] = labels
    (dest / "contract.json").write_text(json.dumps(contract))
    model = (src / "model_int8.tflite").read_bytes()
    if with_tflite:
        (dest / "model_int8.tflite").write_bytes(model)
    report = {"model_hash": f"0x{(fnv1a32(model) if model_hash is None else model_hash):08x}", "headers_written": False}
    (dest / "report.json").write_text(json.dumps(report))
    return dest


def verify(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nanogest", "verify-board", *args], capture_output=True, text=True,
                          timeout=TIMEOUT_S, cwd=REPO)


@pytest.fixture(scope="module")
def board_pty(host_build):
    """A virtual board running the default model; yields its pty path (a /dev/pts/N device)."""
    proc = subprocess.Popen([str(host_build / "virtual_board"), "--model", str(host_build / "default_run"),
                             "--python", sys.executable], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    try:
        path = proc.stdout.readline().decode().strip()
        assert path.startswith("/dev/"), f"the virtual board printed {path!r} instead of its pty path"
        yield path
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_sim_board_with_the_default_model_matches_its_run(host_build, tmp_path):
    run = make_run(tmp_path / "run", host_build)
    proc = verify("--run", str(run), "--port", "sim://")
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["ok"] is True and result["labels_match"] is True
    assert result["model_hash_board"] == result["model_hash_run"] == default_hash(host_build)
    assert (result["board"], result["imu"], result["rate_hz"]) == ("virtual", "LSM9DS1", 119.0)
    model_rate = json.loads((run / "contract.json").read_text())["rate_hz"]
    assert result["model_rate_hz"] == model_rate and result["board_resamples"] is (model_rate != 119.0)
    assert ("resamples" in proc.stderr) is (model_rate != 119.0)
    assert "/dev/" in result["port"]


def test_a_rev2_board_says_it_resamples_to_the_models_rate(host_build, tmp_path):
    run = make_run(tmp_path / "run", host_build)
    proc = verify("--run", str(run), "--port", f"sim://?model={host_build / 'default_run'}&imu=bmi270")
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    model_rate = json.loads((run / "contract.json").read_text())["rate_hz"]
    assert (result["imu"], result["rate_hz"], result["model_rate_hz"]) == ("BMI270", 100.0, model_rate)
    assert result["board_resamples"] is True
    assert f"note: the IMU runs at 100 Hz and the model at {model_rate:g} Hz: the board resamples" in proc.stderr


def test_sim_board_refuses_a_run_converted_to_another_model(host_build, tmp_path):
    run = make_run(tmp_path / "other", host_build, model_hash=0x89ABCDEF, with_tflite=False)
    proc = verify("--run", str(run), "--port", "sim://")
    assert proc.returncode == 1
    result = json.loads(proc.stdout)
    expected = default_hash(host_build)
    assert result["ok"] is False and result["model_hash_board"] == expected and result["model_hash_run"] == "0x89abcdef"
    error = proc.stderr.strip().splitlines()[-1]
    assert expected in error and "0x89abcdef" in error and f"make flash RUN={run}" in error
    assert "Traceback" not in proc.stderr


def test_pty_path_board_with_other_labels_is_a_mismatch(host_build, board_pty, tmp_path):
    run = make_run(tmp_path / "relabelled", host_build, labels=["wave", "unknown", "punch", "idle", "flex", "circle"])
    proc = verify("--run", str(run), "--port", board_pty, "--wait", "5")
    assert proc.returncode == 1
    result = json.loads(proc.stdout)
    assert result["port"] == board_pty and result["labels_match"] is False and result["ok"] is False
    assert result["model_hash_board"] == result["model_hash_run"]
    assert "labels" in proc.stderr.strip().splitlines()[-1]


def test_waits_for_a_port_that_appears_after_the_upload(host_build, board_pty, tmp_path):
    run = make_run(tmp_path / "run", host_build)
    port = tmp_path / "ttyACM_after_upload"  # appears later, like a re-enumerated board
    timer = threading.Timer(4.0, os.symlink, (board_pty, port))  # after verify-board has started, even on a busy machine
    timer.start()
    try:
        proc = verify("--run", str(run), "--port", str(port), "--wait", "60")
    finally:
        timer.cancel()
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["ok"] is True
    assert "waiting up to 60 s" in proc.stderr


def test_a_port_that_never_appears_fails_with_one_sentence(host_build, tmp_path):
    run = make_run(tmp_path / "run", host_build)
    proc = verify("--run", str(run), "--port", str(tmp_path / "ttyACM9"), "--wait", "0.5")
    assert proc.returncode == 1 and proc.stdout == ""
    assert "did not appear within 0.5 s" in proc.stderr and "Traceback" not in proc.stderr


def test_without_port_and_without_a_board_says_so(host_build, tmp_path):
    from capture.wire.ports import find_ports

    if any(p.is_candidate for p in find_ports()):
        pytest.skip("a Nano 33 BLE is plugged in; this test needs none")
    run = make_run(tmp_path / "run", host_build)
    proc = verify("--run", str(run), "--wait", "0.3")
    assert proc.returncode == 1 and "no Nano 33 BLE" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("problem", ["missing", "no_report_no_model", "stale_report", "bad_hash"])
def test_unusable_run_dirs_exit_2_with_the_fix(host_build, tmp_path, problem):
    run = tmp_path / "run"
    if problem == "no_report_no_model":
        make_run(run, host_build, with_tflite=False)
        (run / "report.json").unlink()
    elif problem == "stale_report":
        make_run(run, host_build, model_hash=0x12345678)
    elif problem == "bad_hash":
        make_run(run, host_build)
        (run / "report.json").write_text('{"model_hash": "banana"}')
    proc = verify("--run", str(run), "--port", "sim://")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: ") and str(run) in proc.stderr and "Traceback" not in proc.stderr
    assert "convert" in proc.stderr or "no such run" in proc.stderr


def test_a_run_without_report_uses_its_model_file(host_build, tmp_path):
    run = make_run(tmp_path / "run", host_build)
    (run / "report.json").unlink()
    assert run_model(run) == (int(default_hash(host_build), 16), LABELS)
