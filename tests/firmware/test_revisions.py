"""One model on both board revisions, on the virtual board: a gesture recorded on Rev1 (LSM9DS1,
119 Hz) and replayed as a Rev2 board's counts (BMI270 scales, 100 Hz) gives the same windows,
and the chip scales the laptop assumes are the ones each emulated IMU announces.

Both emulations take the recording's values in the board's axes (docs/architecture.md, "Two
revisions, one model": what each driver returns), so a take needs no axis remapping between them;
what differs is the count scale and the rate, which the board resamples.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from boardtools.replay import BoardLink, board_predictions, input_tensors, start_virtual_board
from boardtools.streams import window_ends
from contract.resample import IMU_RATES_MHZ, IMU_SCALES, resample_counts, values_to_counts
from run_programs import default_header, settings_in_header

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RUN = ROOT / "firmware" / "build" / "host" / "default_run"


@pytest.fixture(scope="module")
def rev1_takes(tmp_path_factory):
    from capture.dataset import list_takes, read_take
    from capture.synth import write_dataset

    data = tmp_path_factory.mktemp("rev1") / "data"
    write_dataset(data, subjects=["p5", "p6"], takes_per_label=1, rate_hz=119.0, take_seconds=2.5, seed=21,
                  imu="LSM9DS1")
    return [read_take(p) for p in list_takes(data)]


@pytest.mark.parametrize("imu,chip", [("lsm9ds1", "LSM9DS1"), ("bmi270", "BMI270")])
def test_each_emulated_imu_announces_the_scales_and_rate_the_laptop_assumes(host_build, imu, chip):
    with start_virtual_board(DEFAULT_RUN, imu=imu) as board:
        info = BoardLink(board).device_info()
    assert (np.float32(info["accel_g_per_count"]), np.float32(info["gyro_dps_per_count"])) == tuple(
        np.float32(v) for v in IMU_SCALES[chip])
    assert info["rate_mhz"] == IMU_RATES_MHZ[chip]


def test_a_rev1_gesture_replayed_as_rev2_counts_gives_the_same_windows(host_build, rev1_takes):
    contract = json.loads((DEFAULT_RUN / "contract.json").read_text())
    s = settings_in_header(default_header())  # what the virtual board for DEFAULT_RUN compiles in
    input_q = (s["input_scale"], s["input_zero_point"])
    lsm, bmi = IMU_SCALES["LSM9DS1"], IMU_SCALES["BMI270"]
    rev1_counts = [values_to_counts(t.values, *lsm) for t in rev1_takes]  # what the Rev1 board recorded
    rev1_values = [c * np.array([lsm[0]] * 3 + [lsm[1]] * 3) for c in rev1_counts]  # the take's g and deg/s
    rev2_counts = [resample_counts(values_to_counts(v, *bmi), 119000, 100000) for v in rev1_values]

    labels = {}
    for imu, takes in (("lsm9ds1", rev1_counts), ("bmi270", rev2_counts)):
        with start_virtual_board(DEFAULT_RUN, imu=imu) as board:
            link = BoardLink(board)
            link.quiet()
            link.command("mode replay")
            labels[imu] = [[p["label_index"] for p in board_predictions(link, c)] for c in takes]
            link.command("mode capture")
    # The same windows: as many, ending at the same times, with the same labels on the board.
    assert [len(w) for w in labels["lsm9ds1"]] == [len(w) for w in labels["bmi270"]]
    at_model = len(resample_counts(rev1_counts[0], 119000, round(contract["rate_hz"] * 1000)))  # as the board resamples
    assert all(len(w) == len(window_ends(at_model, contract["window"], contract["hop"])) > 3 for w in labels["lsm9ds1"])
    assert [len(c) for c in rev2_counts] == [250] * len(rev2_counts)  # 297 samples again on the board
    same = sum(a == b for wa, wb in zip(labels["lsm9ds1"], labels["bmi270"]) for a, b in zip(wa, wb))
    total = sum(len(w) for w in labels["lsm9ds1"])
    assert same / total >= 0.9, f"{same} of {total} windows got the same label"
    # ... and the same int8 input tensors but for rounding: the Rev2 stream went 119 -> 100 Hz on the
    # way and the board resampled it to the model's rate, by linear interpolation each time.
    x1 = np.concatenate([input_tensors(c, contract, lsm, input_q, 119000) for c in rev1_counts]).astype(int)
    x2 = np.concatenate([input_tensors(c, contract, bmi, input_q, 100000) for c in rev2_counts]).astype(int)
    assert x1.shape == x2.shape
    within_one = np.mean(np.abs(x1 - x2) <= 1)
    assert within_one >= 0.98, f"only {within_one:.3f} of the int8 inputs within 1 LSB"
    assert np.mean(x1 == x2) >= 0.6
    # The axes are the same axes: every channel's windows correlate across the revisions.
    for c in range(6):
        r = np.corrcoef(x1[..., c].ravel(), x2[..., c].ravel())[0, 1]
        assert r > 0.99, f"channel {c}: correlation {r:.3f}"
