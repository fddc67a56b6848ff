"""Augmentation kinds, each switchable, and the automatic default."""

import numpy as np
import pytest

from training import TrainingError, augment
from training.augment import AUGMENT_KINDS, DEFAULT_AUGMENT, augment_windows, parse_augment, resolve_augment


def _windows(n=6, window=60):
    rng = np.random.default_rng(3)
    t = np.linspace(0, 2 * np.pi, window)
    accel = np.stack([np.sin(t), np.cos(t), 1 + 0.2 * np.sin(2 * t)], axis=1)
    gyro = np.stack([100 * np.sin(t), 50 * np.cos(3 * t), 20 * t], axis=1)
    base = np.concatenate([accel, gyro], axis=1).astype(np.float32)
    return np.stack([base * rng.uniform(0.8, 1.2) for _ in range(n)])


def test_parse_and_resolve():
    assert parse_augment("noise,rotate") == ("rotate", "noise")
    assert parse_augment("all") == AUGMENT_KINDS and parse_augment("none") == ()
    with pytest.raises(TrainingError, match="unknown --augment kind.*mirror"):
        parse_augment("rotate,mirror")
    assert resolve_augment(None, 1999) == DEFAULT_AUGMENT and resolve_augment(None, 2000) == ()
    assert "mount" in DEFAULT_AUGMENT and "mount" not in resolve_augment(None, 100, n_train_people=1)
    assert resolve_augment("mount", 100, n_train_people=1) == ("mount",)  # asked for: kept
    assert resolve_augment(False, 10) == () and resolve_augment(True, 10**6) == AUGMENT_KINDS
    assert resolve_augment(("scale",), 10) == ("scale",)


def test_no_kind_changes_nothing():
    x = _windows()
    assert np.array_equal(augment_windows(x, np.random.default_rng(0), ()), x)


def test_rotate_keeps_the_length_of_every_vector():
    x = _windows()
    y = augment_windows(x, np.random.default_rng(0), ("rotate",))
    assert not np.allclose(y, x)
    for sl in (slice(0, 3), slice(3, 6)):
        assert np.allclose(np.linalg.norm(y[..., sl], axis=-1), np.linalg.norm(x[..., sl], axis=-1), rtol=1e-4)


def test_mount_turns_accel_and_gyro_together_in_the_board_plane():
    x = _windows(n=200)
    y = augment_windows(x, np.random.default_rng(0), ("mount",))
    assert np.allclose(y[..., [2, 5]], x[..., [2, 5]])  # the board's normal (z) is unchanged
    for sl in (slice(0, 2), slice(3, 5)):  # lengths in the board plane are kept
        assert np.allclose(np.linalg.norm(y[..., sl], axis=-1), np.linalg.norm(x[..., sl], axis=-1), rtol=1e-4)
    # One turn per window for both sensors: the angle between accel and gyro is kept...
    dot = lambda w: np.sum(w[..., :3] * w[..., 3:], axis=-1)  # noqa: E731
    assert np.allclose(dot(y), dot(x), rtol=1e-3, atol=1e-2)
    # ... about MOUNT_PROBABILITY of the windows are turned, by angles spread over the circle.
    turned = ~np.all(np.isclose(y, x, atol=1e-4), axis=(1, 2))
    assert abs(turned.mean() - augment.MOUNT_PROBABILITY) < 0.1
    angle = np.degrees(np.arctan2(y[turned, 0, 1], y[turned, 0, 0]) - np.arctan2(x[turned, 0, 1], x[turned, 0, 0])) % 360
    assert np.histogram(angle, bins=4, range=(0, 360))[0].min() >= 10


def test_adapting_keeps_the_board_the_way_the_person_wears_it():
    from training.adapt_fit import ADAPT_KINDS

    assert "mount" not in ADAPT_KINDS and set(ADAPT_KINDS) == set(AUGMENT_KINDS) - {"mount"}


def test_scale_multiplies_motion_by_one_factor_per_window():
    x = _windows()
    y = augment_windows(x, np.random.default_rng(0), ("scale",))
    gx, gy = x[..., 3:].reshape(len(x), -1), y[..., 3:].reshape(len(x), -1)
    factor = (gx * gy).sum(axis=1) / (gx * gx).sum(axis=1)
    assert np.allclose(gy, factor[:, None] * gx, rtol=1e-4, atol=1e-3)
    assert np.all((factor >= 0.8) & (factor <= 1.25)) and np.ptp(factor) > 0
    assert np.allclose(y[..., :3].mean(axis=1), x[..., :3].mean(axis=1), atol=1e-4)  # gravity stays


def test_noise_is_small_and_zero_mean():
    x = _windows(n=40)
    d = augment_windows(x, np.random.default_rng(0), ("noise",)) - x
    assert 0.005 < d[..., :3].std() < 0.02 and 0.5 < d[..., 3:].std() < 2.0
    assert abs(d[..., 3:].mean()) < 0.05


def test_shift_moves_the_window_and_repeats_an_edge():
    x = _windows(n=20)
    y = augment_windows(x, np.random.default_rng(1), ("shift",))
    moved = 0
    for a, b in zip(x, y):
        for s in range(-6, 7):
            if s >= 0 and np.array_equal(b[s:], a[:len(a) - s]) and np.all(b[:s] == a[0]):
                moved += s != 0
                break
            if s < 0 and np.array_equal(b[:s], a[-s:]) and np.all(b[s:] == a[-1]):
                moved += 1
                break
        else:
            pytest.fail("window is not a shifted copy of the original")
    assert moved > 0


def test_warp_stretches_time_around_the_centre():
    x = _windows(n=10)
    y = augment_windows(x, np.random.default_rng(2), ("warp",))
    centre = (x.shape[1] - 1) // 2
    assert not np.allclose(y, x)
    assert np.allclose(y[:, centre], x[:, centre], atol=0.2 * np.abs(x).max())
    assert np.all(y.max(axis=1) <= x.max(axis=1) + 1e-4) and np.all(y.min(axis=1) >= x.min(axis=1) - 1e-4)


def _takes(tmp_path, people, turned=None):
    """Built-in takes of punch and flex; ``turned``'s board turned a quarter turn in its plane."""
    from capture.dataset import list_takes, read_take
    from capture.synth import write_dataset
    from training.remount import remount_dataset

    write_dataset(tmp_path / "data", people, 4, 119.0, labels=("punch", "flex"))
    takes = [read_take(p) for p in list_takes(tmp_path / "data")]
    if turned:
        write_dataset(tmp_path / "odd", [turned], 4, 119.0, labels=("punch", "flex"))
        remount_dataset(tmp_path / "odd", tmp_path / "odd-turned", rotvec=(0.0, 0.0, np.pi / 2))
        takes += [read_take(p) for p in list_takes(tmp_path / "odd-turned")]
    return takes


def test_mount_spread_is_small_for_people_who_wear_the_board_alike(tmp_path):
    spread = augment.board_turn_spread_deg(_takes(tmp_path, ["ann", "bob", "cem", "dan"]))
    assert set(spread["per_label"]) == {"punch", "flex"}
    assert 0 < spread["deg"] < augment.MOUNT_ANY_ANGLE_FROM_DEG
    assert augment.mount_max_deg(spread["deg"]) == spread["deg"]


def test_one_person_with_the_board_turned_makes_mount_turn_by_any_angle(tmp_path):
    spread = augment.board_turn_spread_deg(_takes(tmp_path, ["ann", "bob", "cem"], turned="dan"))
    assert spread["deg"] >= augment.MOUNT_ANY_ANGLE_FROM_DEG
    assert augment.mount_max_deg(spread["deg"]) == 180.0


def test_mount_spread_needs_two_people_and_a_gesture(tmp_path):
    takes = _takes(tmp_path, ["ann"])
    assert augment.board_turn_spread_deg(takes) == {"deg": 0.0, "per_label": {}}
    still = np.zeros((119, 6))
    still[:, 3:] = np.random.default_rng(0).normal(0, 2.0, (119, 3))  # noise only: no axis to measure
    assert augment._axis_in_plane(still[:, 3:]) is None


def test_mount_turns_the_share_of_windows_asked_for():
    x = _windows(n=400)
    y = augment_windows(x, np.random.default_rng(0), ("mount",), mount_share=0.5)
    turned = ~np.all(np.isclose(y, x, atol=1e-4), axis=(1, 2))
    assert abs(turned.mean() - 0.5) < 0.1


def test_mount_turns_no_further_than_asked():
    x = _windows(n=300)
    y = augment_windows(x, np.random.default_rng(0), ("mount",), mount_deg=20.0)
    turned = ~np.all(np.isclose(y, x, atol=1e-4), axis=(1, 2))
    assert abs(turned.mean() - augment.MOUNT_PROBABILITY) < 0.1
    angle = np.degrees(np.arctan2(y[turned, 0, 1], y[turned, 0, 0]) - np.arctan2(x[turned, 0, 1], x[turned, 0, 0]))
    angle = (angle + 180) % 360 - 180
    assert np.abs(angle).max() <= 20.0 + 1e-3 and np.abs(angle).max() > 15.0
