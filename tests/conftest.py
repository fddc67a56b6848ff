"""Fixtures shared by every test suite."""

import subprocess
import sys
from pathlib import Path

import pytest

from toolchains import build_host


@pytest.fixture(scope="session")
def host_build() -> Path:
    """The firmware core built for the host, once per test session: firmware/build/host."""
    return build_host()


REPO = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, f"{args[:2]} failed:\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="session")
def gru_run(tmp_path_factory, host_build) -> tuple[Path, Path]:
    """(converted gru RUN_DIR, DATA_DIR): 3 labels x 2 people x 2 takes of 1 s, 3 epochs, 8 units. Shared by the
    GRU's board tests (tests/firmware/test_gru_path.py) and stream's and calibrate's (tests/boardtools); a test
    that changes the run works on a copy."""
    from capture.synth import write_dataset

    base = tmp_path_factory.mktemp("gru_path")
    data, run_dir = base / "data", base / "run"
    write_dataset(data, subjects=["p1", "p2"], takes_per_label=2, rate_hz=119.0, labels=("punch", "wave", "idle"),
                  take_seconds=1.0, seed=4)
    _run("training", "fit", str(data), "--out", str(run_dir), "--arch", "gru", "--epochs", "3", "--gru-units", "8",
         "--no-augment")
    # no accuracy rule: three epochs make a poor model; this test is about board == laptop, not accuracy
    _run("converter", "convert", str(run_dir), "--header-dir", str(base / "headers"), "--max-drop", "100",
         "--min-agreement", "0")
    return run_dir, data
