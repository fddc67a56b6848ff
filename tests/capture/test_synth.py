"""The built-in gesture generator: deterministic, physically sensible, person-specific."""

import numpy as np
import pytest

from capture.dataset import list_takes, read_take
from capture.synth import (ACCEL_RANGE_G, GYRO_RANGE_DPS, LABELS, SynthError, make_take, write_dataset,
                           write_replay_csv)

PEOPLE = ["p1", "p2", "p3", "p4", "p5", "p6"]


def test_same_arguments_give_the_same_take_and_others_differ():
    a = make_take("wave", 119, "p1", 3, session="s2")
    b = make_take("wave", 119, "p1", 3, session="s2")
    assert np.array_equal(a, b)
    assert not np.allclose(a, make_take("wave", 119, "p1", 4, session="s2"))
    assert not np.allclose(a, make_take("wave", 119, "p1", 3, session="s1"))
    assert not np.allclose(a, make_take("wave", 119, "p2", 3, session="s2"))
    assert not np.allclose(a, make_take("wave", 119, "p1", 3, session="s2", seed=1))


@pytest.mark.parametrize("rate_hz,expected", [(119, 119), (100, 100), (50, 100)])
def test_length_follows_rate_and_take_seconds(rate_hz, expected):
    seconds = expected / rate_hz
    for label in LABELS:
        take = make_take(label, rate_hz, "p1", 0, take_seconds=seconds)
        assert take.shape == (expected, 6)
        assert np.all(np.isfinite(take))


def test_values_stay_inside_the_sensor_ranges():
    for person in PEOPLE:
        for label in LABELS:
            take = make_take(label, 119, person, 0)
            assert np.abs(take[:, :3]).max() <= ACCEL_RANGE_G
            assert np.abs(take[:, 3:]).max() <= GYRO_RANGE_DPS


def test_fast_strong_punches_clip_at_4g():
    # Over many people and takes some punches exceed the range and must be clipped, not wrapped.
    peaks = [np.abs(make_take("punch", 119, f"q{i}", k)[:, :3]).max() for i in range(20) for k in range(3)]
    assert max(peaks) == pytest.approx(ACCEL_RANGE_G)
    assert min(peaks) > 1.2


def test_gravity_is_about_1g_when_holding_still():
    for person in PEOPLE:
        idle = make_take("idle", 119, person, 1)
        magnitude = np.linalg.norm(idle[:, :3], axis=1)
        assert 0.9 < np.median(magnitude) < 1.1
        # When the hand is at rest after a punch (a take starts with the motion, as IMU_Capture's).
        punch = make_take("punch", 119, person, 0)
        assert np.all(np.abs(np.linalg.norm(punch[-10:, :3], axis=1) - 1.0) < 0.15)


def test_gestures_have_their_physical_signature():
    gyro_peak = lambda t: np.abs(t[:, 3:]).max(axis=0)  # noqa: E731
    for person in PEOPLE[:3]:
        punch, flex = make_take("punch", 119, person, 0), make_take("flex", 119, person, 0)
        wave, idle = make_take("wave", 119, person, 0), make_take("idle", 119, person, 0)
        # Punch: big acceleration, and the forearm twists (real punches: 140-620 deg/s, bench_synth_vs_real).
        assert np.abs(punch[:, :3] - punch[-1, :3]).max() > 1.0
        assert 100 < np.linalg.norm(punch[:, 3:], axis=1).max() < 1000
        # Flex: a large rotation dominated by one axis; gravity moves between axes.
        assert gyro_peak(flex).max() > 150  # real flexes: 270-630 deg/s (p10-p90), a slow small one less
        # (about one fixed axis, whichever board axes it falls between as the board is worn)
        singular = np.linalg.svd(flex[:, 3:], compute_uv=False)
        assert singular[1] < 0.5 * singular[0]
        assert np.ptp(flex[:, :3], axis=0).max() > 0.8
        # Wave: the dominant gyro axis changes sign several times (2-3 cycles).
        axis = int(np.argmax(gyro_peak(wave)))
        strong = wave[np.abs(wave[:, 3 + axis]) > 0.3 * gyro_peak(wave)[axis], 3 + axis]
        assert np.count_nonzero(np.diff(np.sign(strong))) >= 3
        # Idle: small motion only.
        assert np.std(idle[:, 3:], axis=0).max() < 25


def _features(take):
    return np.concatenate([take.mean(axis=0) / [1, 1, 1, 100, 100, 100], take.std(axis=0) / [1, 1, 1, 100, 100, 100]])


def test_takes_start_with_the_motion_like_a_triggered_capture():
    """IMU_Capture starts a take when the acceleration passes a threshold: the motion is under way in
    the first samples."""
    for person in PEOPLE:
        for label in ("punch", "flex"):
            take = make_take(label, 119, person, 2)
            motion = np.linalg.norm(take[:, 3:], axis=1)
            active = np.flatnonzero(motion > 0.25 * motion.max())
            assert active[0] <= 12


def test_some_people_wear_the_board_flipped_or_turned():
    """The rest pose differs between people by tens of degrees, and for a few by far more."""
    from capture.synth import person_style

    people = [f"q{i}" for i in range(64)]
    turned = [p for p in people if np.linalg.norm(person_style(p, odd_mount_share=0.125).mount_turn_rotvec) > 1.0]
    assert 2 <= len(turned) <= 20
    assert not any(np.linalg.norm(person_style(p).mount_turn_rotvec) for p in people)  # off by default
    # Every other trait is the same whatever the share, so the option changes only the mounting.
    a, b = person_style(turned[0]), person_style(turned[0], odd_mount_share=0.125)
    assert a.speed == b.speed and np.array_equal(a.wrist_rotvec, b.wrist_rotvec)
    flipped = make_take("idle", 119, turned[0], 0, odd_mount_share=0.125)
    assert not np.allclose(flipped, make_take("idle", 119, turned[0], 0))
    tilts = [np.rad2deg(person_style(p).wrist_rotvec[1]) for p in people]
    assert 15 < np.mean(tilts) < 35 and np.std(tilts) > 10


def test_people_differ_more_than_takes_of_one_person():
    within, between = [], []
    for label in ("punch", "flex", "wave", "circle"):
        feats = {p: [_features(make_take(label, 119, p, k)) for k in range(6)] for p in PEOPLE}
        for p in PEOPLE:
            f = feats[p]
            within += [np.linalg.norm(f[i] - f[j]) for i in range(6) for j in range(i + 1, 6)]
        for i, p in enumerate(PEOPLE):
            for q in PEOPLE[i + 1:]:
                between.append(np.linalg.norm(np.mean(feats[p], axis=0) - np.mean(feats[q], axis=0)))
    assert np.mean(between) > 1.3 * np.mean(within)


def test_replay_csv_is_imu_capture_format(tmp_path):
    path = write_replay_csv(tmp_path / "wave.csv", "wave", 3, 100, "p2", session="s1")
    blocks = path.read_text().rstrip("\n").split("\n\n")
    assert blocks[0].splitlines()[0] == "aX,aY,aZ,gX,gY,gZ"
    assert [len(b.splitlines()) for b in blocks] == [101, 100, 100]
    second = np.array([[float(v) for v in line.split(",")] for line in blocks[1].splitlines()])
    assert np.allclose(second, make_take("wave", 100, "p2", 1), atol=1e-6)
    assert all(len(v.split(".")[1]) == 6 for v in blocks[2].splitlines()[0].split(","))


def test_write_dataset_round_trips_through_the_dataset_reader(tmp_path):
    paths = write_dataset(tmp_path, ["a", "b"], 2, 119, labels=("punch", "idle"))
    assert len(paths) == 8 and list_takes(tmp_path) == sorted(paths)
    take = read_take(paths[0])
    assert take.meta.source == "synth" and take.meta.rate_hz == 119.0
    assert take.values.shape == (119, 6)
    assert take.t_us[0] == 0 and take.t_us[-1] == round(118 * 1e6 / 119)
    assert np.allclose(take.values, make_take(take.meta.label, 119, take.meta.subject, 0), atol=1e-5)


def test_unknown_label_is_refused():
    with pytest.raises(SynthError, match="unknown gesture label"):
        make_take("jump", 119, "p1", 0)


@pytest.mark.parametrize("placement", ["triggered", "whole"])
def test_gesture_span_locates_the_motion(placement):
    from capture.synth import gesture_span

    for person in PEOPLE[:3]:
        for label in ("punch", "flex", "wave"):
            take = make_take(label, 119, person, 1, take_seconds=1.5, placement=placement)
            start, end = gesture_span(label, 119, person, 1, take_seconds=1.5, placement=placement)
            energy = np.sum((take[:, 3:] - np.median(take[:, 3:], axis=0)) ** 2, axis=1)
            inside = energy[max(0, int(start * 119)):int(np.ceil(end * 119)) + 1].sum() / energy.sum()
            assert inside > 0.8
            if placement == "whole":
                assert 0 < start < end < 1.5


def test_unknown_placement_is_refused():
    with pytest.raises(SynthError, match="unknown placement"):
        make_take("wave", 119, "p1", 0, placement="centred")
