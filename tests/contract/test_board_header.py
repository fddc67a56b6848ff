"""The firmware's copies of the contract's values are exactly what contract/board_header.py renders."""

import subprocess
import sys

import numpy as np

from contract.board_header import CORE_DIR, HEADER_NAMES, render_contract_defs, render_headers
from contract.resample import IMU_RATES_MHZ, IMU_SCALES, MAX_RESAMPLE_OUTPUTS


def test_committed_headers_match_the_contract():
    for name, text in render_headers().items():
        assert (CORE_DIR / name).read_text() == text, (
            f"{CORE_DIR / name} is out of date with contract/; run `nanogest gen-contract-header` (make contract-header)")


def test_gen_contract_header_command_writes_the_same_text(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "contract", "gen-contract-header", "--dir", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(tmp_path / name) for name in HEADER_NAMES]
    for name, text in render_headers().items():
        assert (tmp_path / name).read_text() == text


def test_the_literals_read_back_as_the_contracts_values():
    """Each IMU's scales as doubles and the limit, parsed back from the rendered header."""
    text = render_contract_defs()

    def value(name):
        line = next(line for line in text.splitlines() if f" {name} = " in line)
        return line.split(" = ", 1)[1].split(";", 1)[0].rstrip("uf")

    assert int(value("kMaxResampleOutputs")) == MAX_RESAMPLE_OUTPUTS
    for chip, (accel, gyro) in IMU_SCALES.items():
        prefix = chip[:1] + chip[1:].lower()
        assert float(value(f"k{prefix}AccelGPerCount")) == accel
        assert float(value(f"k{prefix}GyroDpsPerCount")) == gyro
        assert int(value(f"k{prefix}RateMilliHz")) == IMU_RATES_MHZ[chip]
    assert np.float32(value("kUnknownThresholdOff")) == np.float32(2.0)
