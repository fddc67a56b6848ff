"""The fixed-ratio resampler of the board's core (``firmware/lib/nanogest_core/src/ng_resample.h``),
on the laptop: a take's int16 counts at one rate -> the counts at another, exactly as the board
turns its IMU's stream into the model's rate.

The arithmetic, stated in ng_resample.h and mirrored here (integers only, so both give the
same int16): rates in millihertz, ``g = gcd(in, out)``, ``step = in / g``, ``den = out / g``;
output k lies at input position ``k * step / den``; with ``i = floor(k * step / den)`` and
``r = k * step - i * den``, ``y_k = x_i`` when ``r == 0``, else
``x_i + round_half_away((x_{i+1} - x_i) * r / den)``. A take of n samples gives every k with
``k * step <= (n - 1) * den``; equal rates return the counts untouched. Training resamples
recorded takes with this function (``training.data.resample``), replay predicts the board with it.
"""

from __future__ import annotations

from math import gcd

import numpy as np

MAX_RESAMPLE_OUTPUTS = 4  # ng::kMaxResampleOutputs (generated): the output rate may be at most 4x the input's


# The scales each chip's counts have on nanogest's boards (g and deg/s per count at +/-4 g and
# +/-2000 dps), as DEVICE_INFO announces them (ng_imu.h kLsm9ds1 / kBmi270, generated from these by
# contract/board_header.py; a test starts the virtual board with each IMU and compares). A take recorded by ``capture record`` keeps the scales
# its board announced; these are for takes that do not (imports, built-in data).
IMU_SCALES = {"LSM9DS1": (0.000122, 0.07), "BMI270": (1.0 / 8192.0, 1.0 / 16.4)}
IMU_RATES_MHZ = {"LSM9DS1": 119000, "BMI270": 100000}  # each chip's rate as the firmware runs it
IMU_ACCEL_RANGE_G = 4  # both chips' full scale as the firmware sets it, +/- g
IMU_GYRO_RANGE_DPS = 2000  # and +/- deg/s
DEFAULT_IMU = "LSM9DS1"  # the IMU_Capture sketch's chip (Rev1)


class ResampleError(ValueError):
    """Rates the board's resampler cannot use."""


def round_half_away(x) -> np.ndarray:
    """Round half away from zero (C's roundf, TFLite's quantizer, the firmware core), not numpy's
    half-to-even. Computed in float64, where |x| + 0.5 is exact for every float32 x below 2**24."""
    a = np.abs(np.asarray(x, dtype=np.float64))
    return np.sign(x) * np.floor(a + 0.5)


def values_to_counts(values, accel_g_per_count: float, gyro_dps_per_count: float) -> np.ndarray:
    """g / deg/s values as the int16 counts a board with these scales reports."""
    scale = np.array([accel_g_per_count] * 3 + [gyro_dps_per_count] * 3, dtype=np.float64)
    counts = round_half_away(np.asarray(values, dtype=np.float64) / scale)
    return np.clip(counts, -32768, 32767).astype(np.int16)


def counts_to_values(counts, accel_g_per_count: float, gyro_dps_per_count: float) -> np.ndarray:
    """Counts -> g / deg/s in float32, one multiplication, as the board computes them (ng_input.h)."""
    scale = np.array([accel_g_per_count] * 3 + [gyro_dps_per_count] * 3, dtype=np.float32)
    return (np.asarray(counts).astype(np.float32) * scale).astype(np.float32)


def rate_mhz(rate_hz: float) -> int:
    """A rate in Hz as the board's integer millihertz (DEVICE_INFO rate_mhz, the settings' kRateMilliHz)."""
    return int(round(float(rate_hz) * 1000.0))


def ratio(in_rate_mhz: int, out_rate_mhz: int) -> tuple[int, int]:
    """``(step, den)``: the reduced ratio of the two rates, as ``ng::Resampler::configure`` computes it."""
    in_rate_mhz, out_rate_mhz = int(in_rate_mhz), int(out_rate_mhz)
    if in_rate_mhz <= 0 or out_rate_mhz <= 0:
        raise ResampleError(f"rates must be positive, got {in_rate_mhz} and {out_rate_mhz} mHz")
    if out_rate_mhz > MAX_RESAMPLE_OUTPUTS * in_rate_mhz:
        raise ResampleError(f"the board resamples up by at most {MAX_RESAMPLE_OUTPUTS}x; "
                            f"{out_rate_mhz / 1000:g} Hz from {in_rate_mhz / 1000:g} Hz is more")
    g = gcd(in_rate_mhz, out_rate_mhz)
    return in_rate_mhz // g, out_rate_mhz // g


def output_count(n_in: int, in_rate_mhz: int, out_rate_mhz: int) -> int:
    """How many output samples n input samples give (every k with k * step <= (n - 1) * den)."""
    step, den = ratio(in_rate_mhz, out_rate_mhz)
    return 0 if n_in <= 0 else (n_in - 1) * den // step + 1


def resample_counts(counts, in_rate_mhz: int, out_rate_mhz: int) -> np.ndarray:
    """``(n, channels)`` int16 counts at ``in_rate_mhz`` -> ``(m, channels)`` int16 at ``out_rate_mhz``."""
    x = np.asarray(counts)
    if x.ndim != 2:
        raise ResampleError(f"counts must be (samples, channels), got shape {x.shape}")
    step, den = ratio(in_rate_mhz, out_rate_mhz)
    if step == den:
        return x.astype(np.int16, copy=True)
    n = len(x)
    if n == 0:
        return np.zeros((0, x.shape[1]), np.int16)
    k = np.arange(output_count(n, in_rate_mhz, out_rate_mhz), dtype=np.int64)
    position = k * step
    i = position // den
    r = (position - i * den)[:, None]
    x = x.astype(np.int64)
    x0 = x[i]
    x1 = x[np.minimum(i + 1, n - 1)]
    product = (x1 - x0) * r
    rounded = (2 * np.abs(product) + den) // (2 * den)
    return (x0 + np.sign(product) * rounded).astype(np.int16)


def rates_note(imu_rate_mhz: int, model_rate_mhz: int) -> str:
    """What DEVICE_INFO's two rates mean for the user ('' when they are equal or no model is flashed)."""
    imu_rate_mhz, model_rate_mhz = int(imu_rate_mhz), int(model_rate_mhz)
    if model_rate_mhz <= 0 or imu_rate_mhz <= 0 or imu_rate_mhz == model_rate_mhz:
        return ""
    try:
        ratio(imu_rate_mhz, model_rate_mhz)
    except ResampleError as e:
        return (f"the IMU runs at {imu_rate_mhz / 1000:g} Hz and the model at {model_rate_mhz / 1000:g} Hz, and {e}: "
                "the board refuses to run it; train the model at a lower rate")
    return (f"the IMU runs at {imu_rate_mhz / 1000:g} Hz and the model at {model_rate_mhz / 1000:g} Hz: the board "
            "resamples its IMU's stream to the model's rate before windowing, as training resampled the takes")
