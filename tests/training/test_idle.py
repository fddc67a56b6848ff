"""Idle windows drawn from still stretches of gesture takes."""

import numpy as np

from capture.synth import write_dataset
from contract.document import Contract, normalization_of
from training.data import base_contract, load_dataset
from training.idle import split_still, still_mask, windows_with_still_idle


def _still_then_moving(rate_hz=100.0, still_s=2.0, moving_s=1.0):
    rng = np.random.default_rng(0)
    n_still, n_moving = int(still_s * rate_hz), int(moving_s * rate_hz)
    still = np.concatenate([rng.normal([0, 0, 1], 0.003, (n_still, 3)), rng.normal(0, 0.5, (n_still, 3))], axis=1)
    t = np.arange(n_moving) / rate_hz
    moving = np.stack([np.sin(12 * t), 0 * t, 1 + np.cos(12 * t), 300 * np.sin(9 * t), 0 * t, 0 * t], axis=1)
    return np.concatenate([still, moving, still]).astype(np.float32)


def test_still_mask_marks_rest_and_not_motion():
    samples = _still_then_moving()
    mask = still_mask(samples, 100.0)
    assert mask[:190].all() and mask[-190:].all()
    assert not mask[210:290].any()


def test_gesture_takes_give_idle_windows_only_where_still(tmp_path, take_factory):
    take = take_factory("wave", rate_hz=100.0, n=500, values=_still_then_moving())
    take.meta.rate_hz = 100.0
    contract = Contract(rate_hz=100.0, window=100, hop=25, labels=["idle", "wave"], idle_label="idle",
                        normalization=normalization_of([0.0] * 6, [1.0] * 6))
    moving, still = split_still(take, contract)
    assert len(still) >= 6 and len(moving) >= 3
    assert np.all(still[..., 3:].std(axis=1) < 5)  # every idle window is at rest
    assert np.all(moving[..., 3:].std(axis=1).max(axis=1) > 20)  # every gesture window holds motion


def test_idle_windows_are_added_and_capped(tmp_path):
    write_dataset(tmp_path, ["ann"], 3, 119, labels=("wave", "punch"), take_seconds=3.0)
    takes = load_dataset(tmp_path)
    contract = base_contract(takes, "conv1d", extra_labels=("idle",))
    assert contract.labels == ["idle", "punch", "wave"] and contract.idle_label == "idle"
    x, y, drawn = windows_with_still_idle(takes, contract, np.random.default_rng(0))
    counts = np.bincount(y, minlength=3)
    assert drawn == counts[0] > 0
    assert counts[0] <= max(counts[1:])
    assert len(x) == len(y) and x.shape[1:] == (119, 6)
