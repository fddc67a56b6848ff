"""A replay of any length loses no frame: a 45,000-sample take (over six minutes at 119 Hz) through
the virtual board over its real pseudo-terminal, every window's PREDICTION against the laptop's TFLM.

Before the samples were sent in chunks, each followed by a ``ping`` whose ACK the host reads up to,
such a take stopped with "the board answered 1092 windows, expected 1468; frames were lost": the
board's TX ring (8 KiB on the virtual board, 4 KiB on the board) filled while the host only wrote.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from boardtools.replay import (BoardLink, board_predictions, chunk_samples, input_tensors, load_run, replay,
                               start_virtual_board)
from capture.dataset import TakeMeta, write_take
from contract.resample import IMU_RATES_MHZ, IMU_SCALES, output_count, values_to_counts

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RUN = ROOT / "firmware" / "build" / "host" / "default_run"
RATE_HZ = 119.0
SAMPLES = 45_000
LABELS = ("idle", "punch", "flex", "wave", "circle")


def long_stream() -> np.ndarray:
    """SAMPLES samples of synthetic gestures and idle, 4 s takes end to end (g and deg/s)."""
    from capture.synth import make_take

    takes, n = [], 0
    while n < SAMPLES:
        takes.append(make_take(LABELS[len(takes) % len(LABELS)], RATE_HZ, "long", len(takes), "s1", 4.0))
        n += len(takes[-1])
    return np.concatenate(takes)[:SAMPLES]


@pytest.fixture(scope="module")
def long_data(tmp_path_factory) -> Path:
    """A dataset of one 45,000-sample take, written by the project's own writer."""
    data = tmp_path_factory.mktemp("long") / "data"
    t_us = np.round(np.arange(SAMPLES) * 1e6 / RATE_HZ).astype(np.int64)
    write_take(data, TakeMeta(label="idle", rate_hz=RATE_HZ, subject="long", imu="LSM9DS1", source="synth"), t_us,
               long_stream())
    return data


def model_mhz() -> int:
    return round(json.loads((DEFAULT_RUN / "contract.json").read_text())["rate_hz"] * 1000)


def windows_of(n_imu: int, imu_mhz: int = 119000) -> int:
    """The default model's windows on ``n_imu`` samples at ``imu_mhz``, resampled to its rate as the board does."""
    contract = json.loads((DEFAULT_RUN / "contract.json").read_text())
    n = output_count(n_imu, imu_mhz, model_mhz())
    return (n - int(contract["window"])) // int(contract["hop"]) + 1


@pytest.mark.parametrize("imu", ["lsm9ds1", "bmi270"])
def test_a_45000_sample_take_replays_with_every_window_answered_and_equal_to_the_laptop(host_build, long_data, imu):
    summary = replay(DEFAULT_RUN, long_data, imu=imu)
    if imu == "lsm9ds1":
        expected = windows_of(SAMPLES)
    else:  # sent at the BMI270's 100 Hz, resampled to the model's rate by the board
        mhz = IMU_RATES_MHZ["BMI270"]
        expected = windows_of(output_count(SAMPLES, 119000, mhz), mhz)
    assert expected > 1450
    assert summary["windows"] == expected  # replay itself refuses a count that differs from the laptop's
    assert summary["agreement"] == 1.0  # label and int8 score of every window


def test_the_board_answers_every_window_of_a_long_stream_in_order(host_build):
    from converter.gate import gated_scores
    from converter.int8.flatbuffer import read_io
    from converter.int8.tflm import run_tflm

    contract, model_bytes = load_run(DEFAULT_RUN)
    inp = read_io(model_bytes)[0]
    scales = IMU_SCALES["LSM9DS1"]
    counts = values_to_counts(long_stream(), *scales)
    per_chunk = chunk_samples(contract.hop, IMU_RATES_MHZ["LSM9DS1"], model_mhz())
    assert per_chunk < SAMPLES // 10  # many chunks, each answered before the next is sent
    with start_virtual_board(DEFAULT_RUN) as board:
        link = BoardLink(board)
        link.quiet()
        link.command("mode replay")
        got = board_predictions(link, counts, per_chunk)
        again = board_predictions(link, counts[:5000])  # the default chunk, safe for any hop
        link.command("mode capture")
    q = input_tensors(counts, contract, scales, (inp.scale, inp.zero_point), IMU_RATES_MHZ["LSM9DS1"])
    host = gated_scores(run_tflm(model_bytes, q), q, contract, (inp.scale, inp.zero_point))  # what the board reports
    assert [p["window_index"] for p in got] == list(range(windows_of(SAMPLES))) == list(range(len(host)))
    assert [p["label_index"] for p in got] == host.argmax(axis=1).tolist()
    assert [p["score_q"] for p in got] == host.max(axis=1).tolist()
    assert [(p["label_index"], p["score_q"]) for p in again] == [(p["label_index"], p["score_q"])
                                                                 for p in got[:windows_of(5000)]]
