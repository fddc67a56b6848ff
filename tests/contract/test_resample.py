"""The laptop's copy of the board's resampler (contract/resample.py): its stated arithmetic, and the
one constant it shares with ng_resample.h (generated: tests/contract/test_board_header.py). The
byte-for-byte comparison with the core is in tests/firmware/test_inference_path.py."""

import re
from pathlib import Path

import numpy as np
import pytest

from contract.resample import (MAX_RESAMPLE_OUTPUTS, ResampleError, output_count, rate_mhz, rates_note, ratio,
                              resample_counts)

CORE = Path(__file__).resolve().parents[2] / "firmware/lib/nanogest_core/src"


def test_the_upsampling_limit_is_the_cores():
    cpp = int(re.search(r"constexpr size_t kMaxResampleOutputs = (\d+);", (CORE / "ng_contract_defs.h").read_text()).group(1))
    assert MAX_RESAMPLE_OUTPUTS == cpp
    assert "kMaxResampleOutputs = contract::kMaxResampleOutputs;" in (CORE / "ng_resample.h").read_text()


def test_equal_rates_return_the_counts_untouched():
    x = np.random.default_rng(0).integers(-32768, 32768, size=(57, 6)).astype(np.int16)
    assert np.array_equal(resample_counts(x, 119000, 119000), x)


def test_each_output_is_the_stated_interpolation():
    rng = np.random.default_rng(1)
    x = rng.integers(-32768, 32768, size=(40, 6))
    step, den = ratio(100000, 119000)
    assert (step, den) == (100, 119)
    y = resample_counts(x, 100000, 119000)
    assert len(y) == output_count(40, 100000, 119000) == 39 * 119 // 100 + 1
    for k in range(len(y)):
        i, r = divmod(k * step, den)
        x0 = x[i].astype(int)
        x1 = x[min(i + 1, len(x) - 1)].astype(int)
        exact = (x1 - x0) * r / den  # the rounding is of this quotient, half away from zero
        expected = x0 + np.sign(exact) * np.floor(np.abs(exact) + 0.5)
        assert np.array_equal(y[k], expected), k


def test_decimation_keeps_input_zero_and_every_grid_point():
    x = np.arange(240)[:, None].repeat(6, axis=1) * 100
    y = resample_counts(x, 119000, 50000)
    assert len(y) == 239 * 50 // 119 + 1
    assert y[0, 0] == 0 and y[50, 0] == 11900  # output 50 is input 119


def test_rates_the_board_cannot_reach_are_refused_and_said():
    with pytest.raises(ResampleError, match="at most 4x"):
        ratio(10000, 119000)
    with pytest.raises(ResampleError):
        ratio(0, 119000)
    assert "refuses" in rates_note(10000, 119000)
    assert rates_note(119000, 119000) == "" and rates_note(100000, 0) == ""
    assert "the board resamples" in rates_note(rate_mhz(100.0), rate_mhz(119.0))
