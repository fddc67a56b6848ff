"""Loading, resampling, windowing and normalization."""

import numpy as np
import pytest

from capture.synth import write_dataset
from contract.document import Contract, normalization_of
from contract.input import normalize
from training import TrainingError
from training.data import base_contract, cut_windows, dataset_rate_hz, load_dataset, normalization_from, resample, take_windows


def _contract(rate_hz=119.0, window=119, hop=30):
    return Contract(rate_hz=rate_hz, window=window, hop=hop, labels=["a", "b"], idle_label=None,
                    normalization=normalization_of([0.0] * 6, [1.0] * 6))


LSM_COUNT = np.array([0.000122] * 3 + [0.07] * 3)  # one count of the LSM9DS1, the default for takes without scales


def test_resample_interpolates_linearly_between_samples_in_counts(take_factory):
    n = 100
    t_s = np.arange(n) / 100.0
    ramp = np.stack([t_s * (c + 1) for c in range(6)], axis=1)
    take = take_factory(rate_hz=100.0, n=n, values=ramp)
    out = resample(take, 119.0)
    assert out.shape == (int(np.floor(0.99 * 119)) + 1, 6)
    grid = np.arange(len(out)) / 119.0
    # within one count: half a count from reading the values as counts, half from rounding the interpolation
    assert np.all(np.abs(out - np.stack([grid * (c + 1) for c in range(6)], axis=1)) <= LSM_COUNT)


def test_resample_is_the_boards_resampler_on_the_takes_counts(take_factory):
    from contract.resample import counts_to_values, resample_counts, values_to_counts

    values = np.random.default_rng(3).normal(size=(150, 6)) * [0.5, 0.5, 0.5, 100, 100, 100]
    take = take_factory(rate_hz=100.0, n=150, values=values)
    take.meta.imu = "BMI270"
    bmi = (1 / 8192, 1 / 16.4)
    expected = counts_to_values(resample_counts(values_to_counts(take.values, *bmi), 100000, 119000), *bmi)
    assert np.array_equal(resample(take, 119.0), expected)
    take.meta.extra = {"accel_g_per_count": 0.001, "gyro_dps_per_count": 0.5}  # what its board announced
    assert np.array_equal(resample(take, 50.0), counts_to_values(
        resample_counts(values_to_counts(take.values, 0.001, 0.5), 100000, 50000), 0.001, 0.5))


def test_resample_fills_lost_samples_on_the_takes_own_grid_first(take_factory):
    take = take_factory(rate_hz=100.0, n=5, values=np.tile(np.array([0, 1, 2, 3, 4], np.float32)[:, None] * 0.25, (1, 6)))
    take.t_us = np.array([0, 10_000, 20_000, 60_000, 70_000])  # a gap of 40 ms (3 samples lost)
    same = resample(take, 100.0)
    assert np.allclose(same[:, 0], np.array([0, 1, 2, 2.25, 2.5, 2.75, 3, 4]) * 0.25)
    up = resample(take, 119.0)
    assert len(up) == 9  # k * 100 <= 7 * 119
    assert np.all(np.abs(up[:, 0] - np.interp(np.arange(9) / 119.0, take.t_us / 1e6, take.values[:, 0])) <= 0.000122)


def test_resample_at_the_same_rate_keeps_the_samples(take_factory):
    take = take_factory(n=119, values=np.random.default_rng(0).normal(size=(119, 6)))
    assert np.array_equal(resample(take, 119.0), take.values)  # untouched, not through counts


def test_short_take_is_padded_with_its_edge_values_never_dropped(take_factory):
    take = take_factory(n=100, rate_hz=119.0)
    windows = take_windows(take, _contract())
    assert windows.shape == (1, 119, 6)
    w = windows[0, :, 0]
    assert np.all(w[:10] == 0) and np.all(w[-9:] == 99)  # 19 missing: 9 before, 10 after
    assert np.array_equal(w[9:109], np.arange(100))


def test_long_take_is_cut_with_hop_and_keeps_its_end():
    samples = np.tile(np.arange(300, dtype=np.float32)[:, None], (1, 6))
    windows = cut_windows(samples, 119, 30)
    starts = [int(w[0, 0]) for w in windows]
    assert starts == [0, 30, 60, 90, 120, 150, 180, 181]
    assert windows[-1, -1, 0] == 299
    assert windows.shape == (8, 119, 6)


def test_normalize_uses_the_contract_statistics():
    x = np.random.default_rng(1).normal(3.0, 2.0, size=(50, 119, 6)).astype(np.float32)
    norm = normalization_from(x)
    flat = x.reshape(-1, 6)
    assert np.allclose(norm.mean, flat.mean(axis=0), atol=1e-4)
    assert np.allclose(norm.std, flat.std(axis=0), atol=1e-4)
    z = normalize(x, _contract().replace(normalization=norm)).reshape(-1, 6)
    assert np.allclose(z.mean(axis=0), 0, atol=1e-4) and np.allclose(z.std(axis=0), 1, atol=1e-3)


def test_constant_channel_does_not_divide_by_zero():
    x = np.zeros((4, 10, 6), np.float32)
    norm = normalization_from(x)
    assert min(norm.std) > 0
    assert np.all(np.isfinite(normalize(x, _contract().replace(normalization=norm))))


def test_contract_takes_the_most_common_rate_and_sorted_labels(take_factory):
    takes = [take_factory("wave", rate_hz=119.0), take_factory("punch", rate_hz=100.0), take_factory("idle", rate_hz=119.0)]
    assert dataset_rate_hz(takes) == 119.0
    c = base_contract(takes, "conv1d")
    assert c.labels == ["idle", "punch", "wave"] and c.idle_label == "idle"
    assert (c.rate_hz, c.window, c.hop) == (119.0, 119, 30)
    assert c.channels == ["aX", "aY", "aZ", "gX", "gY", "gZ"]
    assert base_contract([take_factory("wave", rate_hz=100.0), take_factory("flex", rate_hz=100.0)], "conv1d").window == 100


def test_a_single_label_is_refused(take_factory):
    with pytest.raises(TrainingError, match="only one label"):
        base_contract([take_factory("wave"), take_factory("wave")], "conv1d")


def test_load_dataset_reports_the_file_and_line_of_a_malformed_csv(tmp_path):
    paths = write_dataset(tmp_path, ["p1"], 1, 50, labels=("wave", "idle"))
    lines = paths[0].read_text().splitlines()
    lines[5] = "1000,0.1,oops,0.3,0,0,0"
    paths[0].write_text("\n".join(lines) + "\n")
    with pytest.raises(TrainingError, match=rf"{paths[0].name}:6: not a number"):
        load_dataset(tmp_path)


def test_load_dataset_refuses_missing_and_empty_directories(tmp_path):
    with pytest.raises(TrainingError, match="no such dataset directory"):
        load_dataset(tmp_path / "nope")
    with pytest.raises(TrainingError, match="no takes found"):
        load_dataset(tmp_path)


def test_a_contract_may_choose_a_rate_below_the_takes_and_windows_follow_it(take_factory):
    takes = [take_factory(rate_hz=119.0, n=238, label=label) for label in ("a", "b")]
    contract = base_contract(takes, "conv1d", rate_hz=50.0)
    assert (contract.rate_hz, contract.window, contract.hop) == (50.0, 50, 12)
    windows = take_windows(takes[0], contract)
    assert windows.shape[1:] == (50, 6) and len(windows) == 6  # 238 samples at 119 Hz -> 100 at 50 Hz
    with pytest.raises(TrainingError, match="--rate-hz"):
        base_contract(takes, "conv1d", rate_hz=0.0)


def test_contract_names_the_unknown_label_only_when_the_run_adds_it(take_factory):
    from contract.pipeline import CONTRACT_VERSION, UNKNOWN_LABEL

    takes = [take_factory("wave"), take_factory("punch")]
    c = base_contract(takes, "conv1d")
    assert (c.version, c.unknown_label, c.unknown_threshold) == (CONTRACT_VERSION, None, None)
    c = base_contract(takes, "conv1d", extra_labels=(UNKNOWN_LABEL,))
    assert UNKNOWN_LABEL in c.labels and c.unknown_label == UNKNOWN_LABEL and c.unknown_threshold is None
