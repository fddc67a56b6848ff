"""The built-in gesture generator: plausible 6-axis IMU takes for simulated people.

A take is ``(n, 6)`` floats in ``CHANNELS`` order (aX, aY, aZ in g including gravity,
gX, gY, gZ in deg/s), ``n = round(rate_hz * take_seconds)``. The board's nominal frame
has x along the forearm (forward), y to the left and z up, so a board held flat at rest
reads about (0, 0, +1) g.

Each gesture is built from a linear acceleration and an angular velocity in that frame;
the orientation is integrated from the angular velocity, so gravity swings between axes
exactly as the board turns. Then the whole motion is rotated by the wrist orientation
(how the board sits on this person's wrist, plus a little per take), and bias, noise and
the sensor's clipping (±4 g, ±2000 dps) are applied.

A person (``subject``) has a style drawn once from the subject name: preferred speed and
amplitude, how the board is mounted on the wrist, how early in the motion a take starts, sensor
noise, and a few shape quirks per gesture. Takes of one person vary less than people do, so a
split by person is meaningful.

The spreads are matched to recordings of nine people made with the IMU_Capture sketch
(``bench/bench_synth_vs_real.py`` prints both): the board sits tilted about 25 degrees nose-up
on average, tens of degrees apart between people (with ``odd_mount_share=0.125`` one person in
eight wears it flipped or turned, as one of the nine real wearers does; off by default until the
default recipe handles it); a take starts when the motion does (the sketch triggers on
acceleration), often after the first part of the gesture; a punch twists the forearm at several
hundred deg/s; people's peak rates and noise differ by a factor of two or more.

Every number is drawn from a numpy Generator seeded by (subject, session, label, take_index,
seed): the same arguments always give the same take.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from capture.dataset import TakeMeta, write_take
from contract.pipeline import CHANNELS, UNKNOWN_LABEL

LABELS = ("punch", "flex", "wave", "circle", "idle")
# Besides LABELS the generator performs UNKNOWN_LABEL: each take one everyday motion that is none
# of the gestures (OTHER_MOTIONS), so `nanogest record --label unknown --port sim://...` works.
OTHER_MOTIONS = ("reach", "scratch", "turn", "look")
ACCEL_RANGE_G = 4.0
GYRO_RANGE_DPS = 2000.0
STANDARD_GRAVITY_MS2 = 9.80665
FOREARM_RADIUS_M = 0.25  # elbow to wrist, for the centripetal/tangential part of a curl

# Nominal gesture durations in seconds at speed 1.0 (a person's speed factor divides them).
BASE_DURATION_S = {"punch": 0.42, "flex": 0.7, "wave": 0.82, "circle": 0.78, "idle": 1.0, UNKNOWN_LABEL: 0.75}


class SynthError(ValueError):
    """An argument the generator cannot use (unknown label, bad rate or length)."""


def _seed_words(*parts) -> list[int]:
    return [zlib.crc32(str(p).encode("utf-8")) for p in parts]


def _rng(*parts) -> np.random.Generator:
    return np.random.default_rng(_seed_words(*parts))


def rotation_matrix(rotvec) -> np.ndarray:
    """Rotation matrix of a rotation vector (axis * angle in radians), Rodrigues' formula."""
    rotvec = np.asarray(rotvec, dtype=np.float64)
    angle = float(np.linalg.norm(rotvec))
    if angle < 1e-12:
        return np.eye(3)
    kx, ky, kz = rotvec / angle
    k = np.array([[0.0, -kz, ky], [kz, 0.0, -kx], [-ky, kx, 0.0]])
    return np.eye(3) + np.sin(angle) * k + (1.0 - np.cos(angle)) * (k @ k)


@dataclass(frozen=True)
class PersonStyle:
    speed: float  # > 1 performs faster (shorter gestures)
    amplitude: float  # scales accelerations and rotation rates
    wrist_rotvec: np.ndarray  # mean orientation of the board on the wrist (radians)
    mount_turn_rotvec: np.ndarray  # zero, or a half / quarter turn: the board worn flipped or turned
    lead: float  # share of the gesture already done when the take starts (a motion-triggered capture)
    noise_scale: float  # this board's noise relative to the nominal
    punch_twist_dps: float  # forearm rotation rate during a punch
    idle_rotvec: np.ndarray  # how this person holds the hand when not gesturing
    punch_direction: np.ndarray  # unit vector, mostly +x
    punch_stop_ratio: float  # deceleration peak relative to the acceleration peak
    flex_angle_deg: float
    flex_axis: np.ndarray  # unit vector, mostly +y
    wave_cycles: float
    wave_roll_mix: float  # roll about x relative to the yaw about z
    circle_cycles: float
    circle_aspect: float  # ellipse height / width
    circle_direction: float  # +1 or -1


def person_style(subject: str, odd_mount_share: float = 0.0) -> PersonStyle:
    """The style of one simulated person, drawn from the subject name alone.

    ``odd_mount_share``: the share of people who wear the board flipped (half of them) or turned a
    quarter (the others); one in nine of the real recordings' wearers does (0.125 matches them).
    Every other trait of a person is the same whatever the share."""
    rng = _rng("person", subject)
    deg = np.deg2rad
    tilt = lambda s: rng.normal(0.0, s, 2)  # noqa: E731
    punch_dir = np.array([1.0, *tilt(0.18)])
    flex_axis = np.array([0.0, 1.0, 0.0]) + np.array([rng.normal(0, 0.15), 0.0, rng.normal(0, 0.15)])
    odd, quarter_sign = rng.random(), rng.choice([-1.0, 1.0])
    mount_turn = np.zeros(3)
    if odd < odd_mount_share:  # worn flipped (board under the wrist) or turned a quarter
        mount_turn = np.array([np.pi, 0.0, 0.0] if odd < odd_mount_share / 2 else [0.0, 0.0, np.pi / 2 * quarter_sign])
    return PersonStyle(
        speed=float(np.clip(np.exp(rng.normal(0.0, 0.25)), 0.6, 1.4)),
        amplitude=float(np.clip(np.exp(rng.normal(0.0, 0.25)), 0.6, 1.6)),
        wrist_rotvec=rng.normal([0.0, deg(25.0), 0.0], deg(18.0), 3),  # nose-up tilt about y on average
        mount_turn_rotvec=mount_turn,
        lead=float(rng.uniform(0.0, 0.35)),
        noise_scale=float(np.exp(rng.normal(0.0, 0.6))),
        punch_twist_dps=float(rng.uniform(150.0, 650.0)),
        idle_rotvec=rng.normal(0.0, deg(25.0), 3),
        punch_direction=punch_dir / np.linalg.norm(punch_dir),
        punch_stop_ratio=float(rng.uniform(0.7, 1.1)),
        flex_angle_deg=float(rng.uniform(70.0, 115.0)),
        flex_axis=flex_axis / np.linalg.norm(flex_axis),
        wave_cycles=float(rng.uniform(2.0, 3.0)),
        wave_roll_mix=float(rng.uniform(0.15, 0.6)),
        circle_cycles=float(rng.uniform(1.1, 1.5)),
        circle_aspect=float(rng.uniform(0.7, 1.3)),
        circle_direction=float(rng.choice([-1.0, 1.0])),
    )


def _phase(t: np.ndarray, start: float, duration: float) -> np.ndarray:
    """Progress through the gesture, 0..1 inside it, clamped outside."""
    return np.clip((t - start) / duration, 0.0, 1.0)


def _envelope(u: np.ndarray, ramp: float = 0.2) -> np.ndarray:
    """Smooth 0 -> 1 -> 0 window over u in 0..1 with cosine ramps of width ``ramp``."""
    up = np.clip(u / ramp, 0.0, 1.0)
    down = np.clip((1.0 - u) / ramp, 0.0, 1.0)
    return 0.25 * (1 - np.cos(np.pi * up)) * (1 - np.cos(np.pi * down))


def _punch(t, start, dur, amp, style, rng):
    peak_g = 3.0 * min(amp, 1.25) * rng.uniform(0.9, 1.15)  # the strongest clip at 4 g for a few samples
    sigma = 0.13 * dur
    push = np.exp(-0.5 * ((t - start - 0.3 * dur) / sigma) ** 2)
    stop = np.exp(-0.5 * ((t - start - 0.72 * dur) / (sigma * 1.1)) ** 2)
    profile = peak_g * (push - style.punch_stop_ratio * stop)
    direction = style.punch_direction + rng.normal(0.0, 0.04, 3)
    lin_g = profile[:, None] * (direction / np.linalg.norm(direction))[None, :]
    # The forearm twists (pronates) during the strike, about its own axis x, with some wobble.
    twist = style.punch_twist_dps * amp * rng.uniform(0.8, 1.2)
    wobble = rng.normal(0.0, 25.0 * amp, 3) + np.array([twist, 0.0, 0.0])
    gyro = (push - stop)[:, None] * wobble[None, :]
    return lin_g, gyro


def _flex(t, start, dur, amp, style, rng):
    fast = max(BASE_DURATION_S["flex"] / dur, 1.0)  # a quick curl is a shorter arc, as people do it
    angle = np.deg2rad(style.flex_angle_deg * rng.uniform(0.9, 1.1) * min(amp, 1.15) ** 0.5 / fast**0.5)
    u = _phase(t, start, dur)
    inside = (t >= start) & (t <= start + dur)
    # theta(u) = angle * sin^2(pi u): up and back down, smooth at both ends.
    rate = np.where(inside, angle * np.pi / dur * np.sin(2 * np.pi * u), 0.0)  # rad/s
    accel = np.where(inside, angle * 2 * (np.pi / dur) ** 2 * np.cos(2 * np.pi * u), 0.0)  # rad/s^2
    axis = style.flex_axis + rng.normal(0.0, 0.03, 3)
    axis /= np.linalg.norm(axis)
    gyro = np.rad2deg(rate)[:, None] * axis[None, :]
    # Wrist on a circle around the elbow: centripetal toward the elbow (-x), tangential on z.
    lin_g = np.zeros((len(t), 3))
    lin_g[:, 0] = -FOREARM_RADIUS_M * rate**2 / STANDARD_GRAVITY_MS2
    lin_g[:, 2] = FOREARM_RADIUS_M * accel / STANDARD_GRAVITY_MS2
    return lin_g, gyro


def _wave(t, start, dur, amp, style, rng):
    cycles = style.wave_cycles * rng.uniform(0.92, 1.08)
    u = _phase(t, start, dur)
    env = _envelope(u, 0.18)
    phase = 2 * np.pi * cycles * u
    yaw_dps = 260.0 * amp * rng.uniform(0.9, 1.1)
    gyro = np.zeros((len(t), 3))
    gyro[:, 2] = yaw_dps * np.sin(phase) * env
    gyro[:, 0] = style.wave_roll_mix * yaw_dps * np.sin(phase + 0.4) * env
    lin_g = np.zeros((len(t), 3))
    lin_g[:, 1] = -0.9 * amp * np.cos(phase) * env
    return lin_g, gyro


def _circle(t, start, dur, amp, style, rng):
    cycles = style.circle_cycles * rng.uniform(0.93, 1.07)
    u = _phase(t, start, dur)
    env = _envelope(u, 0.15)
    phase = style.circle_direction * 2 * np.pi * cycles * u + rng.uniform(-0.3, 0.3)
    radius_g = 0.95 * amp * rng.uniform(0.9, 1.1)
    lin_g = np.zeros((len(t), 3))
    lin_g[:, 0] = -radius_g * np.cos(phase) * env
    lin_g[:, 2] = -radius_g * style.circle_aspect * np.sin(phase) * env
    spin_dps = 150.0 * amp
    gyro = np.zeros((len(t), 3))
    gyro[:, 1] = spin_dps * np.sin(phase) * env
    gyro[:, 0] = 0.5 * spin_dps * np.cos(phase) * env
    gyro[:, 2] = 0.3 * spin_dps * style.circle_direction * env
    return lin_g, gyro


def _idle(t, start, dur, amp, style, rng):
    n = len(t)
    tremor_hz = rng.uniform(7.0, 12.0)
    phases = rng.uniform(0, 2 * np.pi, 6)
    gyro = rng.uniform(0.5, 3.0) * np.sin(2 * np.pi * tremor_hz * t[:, None] + phases[None, 3:])
    lin_g = rng.uniform(0.002, 0.015) * np.sin(2 * np.pi * tremor_hz * t[:, None] + phases[None, :3])
    # Slow drift: a smooth random turn of a few deg/s.
    gyro += rng.normal(0.0, 3.0, 3)[None, :] * np.sin(np.pi * t[:, None] / max(t[-1], 1e-3) + phases[None, :3])
    if rng.random() < 0.3 and n > 4:
        # A small non-gesture move: adjusting the hand, scratching, reaching a little.
        move_start = rng.uniform(0.0, max(t[-1] - 0.3, 0.0))
        env = _envelope(_phase(t, move_start, rng.uniform(0.2, 0.4)), 0.5)
        gyro += env[:, None] * rng.normal(0.0, 30.0, 3)[None, :]
        lin_g += env[:, None] * rng.normal(0.0, 0.12, 3)[None, :]
    return lin_g, gyro


def _other_motion(t, start, dur, amp, style, rng):
    """One everyday motion that is none of the gestures, chosen per take: reaching for something (a slow
    push and pull with a little pitch), scratching (a small quick rub), turning the wrist (a roll about
    the forearm), or raising the wrist to look at it (pitch and roll at once, gravity swinging)."""
    kind = OTHER_MOTIONS[int(rng.integers(len(OTHER_MOTIONS)))]
    u = _phase(t, start, dur)
    env = _envelope(u, 0.3)
    inside = (t >= start) & (t <= start + dur)
    lin_g, gyro = np.zeros((len(t), 3)), np.zeros((len(t), 3))
    if kind == "reach":
        direction = np.array([1.0, rng.normal(0.0, 0.4), rng.normal(0.3, 0.3)])
        push_pull = np.sin(2 * np.pi * u) * inside
        lin_g += (0.7 * amp * rng.uniform(0.7, 1.2) * push_pull)[:, None] * (direction / np.linalg.norm(direction))
        gyro[:, 1] = 70.0 * amp * rng.uniform(0.6, 1.4) * np.sin(np.pi * u) * env
    elif kind == "scratch":
        rub = np.sin(2 * np.pi * rng.uniform(4.0, 6.0) * (t - start))
        lin_g[:, 1] = 0.5 * amp * rng.uniform(0.7, 1.3) * rub * env
        gyro[:, 2] = 140.0 * amp * rng.uniform(0.7, 1.3) * rub * env
    elif kind == "turn":
        angle = np.deg2rad(rng.uniform(60.0, 150.0)) * rng.choice([-1.0, 1.0])
        rate = np.where(inside, angle * np.pi / dur * np.sin(np.pi * u) / 2, 0.0)  # theta = angle (1 - cos pi u) / 2
        gyro[:, 0] = np.rad2deg(rate) * amp ** 0.5
    else:  # look at the wrist: the forearm rises and rolls toward the face, and back
        rate = np.where(inside, np.pi / dur * np.sin(2 * np.pi * u), 0.0)
        gyro[:, 1] = -np.rad2deg(rate) * np.deg2rad(rng.uniform(40.0, 70.0))
        gyro[:, 0] = np.rad2deg(rate) * np.deg2rad(rng.uniform(30.0, 70.0))
        lin_g[:, 2] = 0.3 * amp * np.sin(2 * np.pi * u) * inside
    gyro += rng.normal(0.0, 8.0, 3)[None, :] * env[:, None]  # no motion of a person is on one axis only
    return lin_g, gyro


_GESTURES = {"punch": _punch, "flex": _flex, "wave": _wave, "circle": _circle, "idle": _idle,
             UNKNOWN_LABEL: _other_motion}


def _gravity_in_sensor(gyro_dps: np.ndarray, rate_hz: float, start_rotvec) -> np.ndarray:
    """World 'up' (1 g) seen from the board, integrating its rotation sample by sample."""
    world_from_sensor = rotation_matrix(start_rotvec)
    up = np.array([0.0, 0.0, 1.0])
    step_rad = np.deg2rad(gyro_dps) / rate_hz
    gravity = np.empty_like(gyro_dps)
    for k in range(len(gyro_dps)):
        gravity[k] = world_from_sensor.T @ up
        world_from_sensor = world_from_sensor @ rotation_matrix(step_rad[k])
    return gravity


PLACEMENTS = ("triggered", "whole")


def _timing(label: str, style: PersonStyle, rng: np.random.Generator, take_seconds: float,
            placement: str) -> tuple[float, float, float, float]:
    """(speed, amplitude, start_s, duration_s) of one take; the first draws of its generator."""
    speed = style.speed * np.exp(rng.normal(0.0, 0.07))
    amp = style.amplitude * np.exp(rng.normal(0.0, 0.07))
    duration = min(BASE_DURATION_S[label] / speed, 0.95 * take_seconds)
    if label == "idle":
        return speed, amp, 0.0, take_seconds
    if placement == "triggered":
        # The take starts when the motion does: a share of the gesture may be done already, or it
        # begins a little after the start (as IMU_Capture's acceleration trigger records it).
        lead = np.clip(style.lead + rng.normal(0.0, 0.08), 0.0, 0.5)
        start = -lead * duration + abs(rng.normal(0.0, 0.04)) * take_seconds
        return speed, amp, min(start, take_seconds - duration), duration
    # The whole gesture somewhere inside the take (a gesture between still stretches of a stream).
    margin = 0.03 * take_seconds
    slack = take_seconds - duration - 2 * margin
    return speed, amp, margin + (rng.uniform(0.0, slack) if slack > 0 else max(slack, -margin) / 2), duration


def gesture_span(label: str, rate_hz: float, subject: str, take_index: int, session: str = "s1",
                 take_seconds: float = 1.0, seed: int = 0, placement: str = "triggered",
                 odd_mount_share: float = 0.0) -> tuple[float, float]:
    """(start, end) in seconds of the gesture in ``make_take``'s take with the same arguments (start < 0:
    the take began after the gesture did)."""
    rng = _rng("take", subject, session, label, take_index, seed)
    _, _, start, duration = _timing(label, person_style(subject, odd_mount_share), rng, take_seconds, placement)
    return start, start + duration


def make_take(label: str, rate_hz: float, subject: str, take_index: int, session: str = "s1",
              take_seconds: float = 1.0, seed: int = 0, placement: str = "triggered",
              odd_mount_share: float = 0.0) -> np.ndarray:
    """One take of ``label`` performed by ``subject``: ``(n, 6)`` float64 in g and deg/s.

    ``placement``: "triggered" (default) starts the take with the motion, as IMU_Capture does;
    "whole" puts the whole gesture inside the take, for streams of gestures between still stretches.
    ``odd_mount_share``: see ``person_style``."""
    if label not in _GESTURES:
        raise SynthError(f"unknown gesture label {label!r}; the generator knows {', '.join(_GESTURES)}")
    if placement not in PLACEMENTS:
        raise SynthError(f"unknown placement {placement!r}; choose one of {', '.join(PLACEMENTS)}")
    if not (rate_hz > 0 and np.isfinite(rate_hz)):
        raise SynthError(f"rate_hz must be a positive number, got {rate_hz!r}")
    n = int(round(rate_hz * take_seconds))
    if n < 2:
        raise SynthError(f"a take of {take_seconds} s at {rate_hz} Hz has fewer than 2 samples")
    style = person_style(subject, odd_mount_share)
    rng = _rng("take", subject, session, label, take_index, seed)
    t = np.arange(n) / rate_hz
    speed, amp, start, duration = _timing(label, style, rng, take_seconds, placement)
    lin_g, gyro = _GESTURES[label](t, start, duration, amp, style, rng)

    pose = style.idle_rotvec if label == "idle" else np.zeros(3)
    pose = pose + rng.normal(0.0, np.deg2rad(12.0 if label == "idle" else 5.0), 3)
    accel = lin_g + _gravity_in_sensor(gyro, rate_hz, pose)

    wrist = rotation_matrix(style.wrist_rotvec + rng.normal(0.0, np.deg2rad(4.0), 3)) @ rotation_matrix(style.mount_turn_rotvec)
    accel = accel @ wrist.T
    gyro = gyro @ wrist.T

    noise = style.noise_scale
    accel += rng.normal(0.0, 0.012, 3) + rng.normal(0.0, noise * rng.uniform(0.004, 0.014), (n, 3))
    gyro += rng.normal(0.0, 1.5, 3) + rng.normal(0.0, noise * rng.uniform(0.45, 1.4), (n, 3))
    accel = np.clip(accel, -ACCEL_RANGE_G, ACCEL_RANGE_G)
    gyro = np.clip(gyro, -GYRO_RANGE_DPS, GYRO_RANGE_DPS)
    return np.concatenate([accel, gyro], axis=1)


def write_replay_csv(path: Path | str, label: str, n_takes: int, rate_hz: float, subject: str,
                     session: str = "s1", take_seconds: float = 1.0, seed: int = 0) -> Path:
    """Write ``n_takes`` takes in IMU_Capture CSV format (blank line between takes)."""
    path = Path(path)
    lines = [",".join(CHANNELS)]
    for i in range(n_takes):
        if i:
            lines.append("")
        take = make_take(label, rate_hz, subject, i, session, take_seconds, seed)
        lines.extend(",".join(f"{v:.6f}" for v in row) for row in take)
    path.write_text("\n".join(lines) + "\n")
    return path


def write_dataset(data_dir: Path | str, subjects, takes_per_label: int, rate_hz: float,
                  labels=LABELS, sessions=("s1",), take_seconds: float = 1.0, seed: int = 0,
                  board: str = "virtual", imu: str = "synth", odd_mount_share: float = 0.0) -> list[Path]:
    """Write takes straight into a dataset directory (``source='synth'``); return CSV paths.
    ``odd_mount_share``: see ``person_style``."""
    paths = []
    t_us = np.round(np.arange(int(round(rate_hz * take_seconds))) * 1e6 / rate_hz).astype(np.int64)
    for subject in subjects:
        for session in sessions:
            for label in labels:
                for i in range(takes_per_label):
                    values = make_take(label, rate_hz, subject, i, session, take_seconds, seed,
                                       odd_mount_share=odd_mount_share)
                    meta = TakeMeta(label=label, rate_hz=float(rate_hz), subject=subject, session=session,
                                    board=board, imu=imu, source="synth")
                    paths.append(write_take(data_dir, meta, t_us[: len(values)], values))
    return paths
