"""Replay with an unknown label: the virtual board reports a window as the unknown label when its
rule fires (ng_postprocess), and the laptop side of ``nanogest replay`` predicts the same frame
(converter.postprocess.reported_top), so board and laptop agree on every window."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from boardtools.replay import input_tensors, replay
from converter.postprocess import reported_top, settings_from_contract

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RUN = ROOT / "firmware" / "build" / "host" / "default_run"
LSM = (0.000122, 0.07)  # the virtual board's LSM9DS1 scales (g, deg/s per count)


@pytest.fixture(scope="module")
def synth_data(tmp_path_factory) -> Path:
    from capture.synth import write_dataset

    data = tmp_path_factory.mktemp("synth") / "data"
    write_dataset(data, subjects=["p7"], takes_per_label=1, rate_hz=119.0, take_seconds=2.0, seed=13)
    return data


def test_board_and_laptop_agree_on_unknown_windows(host_build, synth_data, tmp_path):
    from capture.dataset import list_takes, read_take
    from contract.resample import values_to_counts
    from converter.int8.flatbuffer import read_io
    from converter.int8.tflm import run_tflm

    run = tmp_path / "run"
    shutil.copytree(DEFAULT_RUN, run)
    contract = json.loads((run / "contract.json").read_text())
    model = (run / "model_int8.tflite").read_bytes()
    inp, out = read_io(model)
    host = np.concatenate([run_tflm(model, input_tensors(values_to_counts(read_take(p).values, *LSM), contract, LSM,
                                                         (inp.scale, inp.zero_point), 119000))  # resampled as the board does
                           for p in list_takes(synth_data)])
    # A trained label stands in for "unknown" (what matters is the rule): the one most often above the
    # lowest score while another label is top, with the threshold just above that lowest score.
    top = host.argmax(axis=1)
    candidates = [j for j in range(host.shape[1]) if contract["labels"][j] != contract["idle_label"]]
    unknown = max(candidates, key=lambda j: int(np.sum((top != j) & (host[:, j] > -128))))
    threshold = float(np.float32(out.scale) * np.float32(-127 - out.zero_point))
    contract.update(contract_version=2, unknown_label=contract["labels"][unknown], unknown_threshold=threshold)
    (run / "contract.json").write_text(json.dumps(contract))
    post = settings_from_contract(contract, (out.scale, out.zero_point))
    label, _ = reported_top(host, post)
    by_threshold = int(np.sum((label == unknown) & (top != unknown)))
    assert by_threshold >= 3  # the threshold, not only the top-1, makes windows unknown here

    summary = replay(run, synth_data)
    assert summary["windows"] == len(host)
    assert summary["agreement"] == 1.0 and summary["label_agreement"] == 1.0
