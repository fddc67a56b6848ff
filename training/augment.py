"""Augmentation of raw training windows (g and deg/s), done in numpy before normalizing.

Each kind can be switched on or off (``--augment mount,rotate,scale,warp,shift,noise``):

- ``mount``: the windows (a share of them for some model families, training/families/) turned by a random angle in the board's own plane (about its
  z axis, the board's normal), accelerometer and gyroscope alike: people strap the board
  flat but turned any way (in the real recordings one person's x and y axes are swapped
  against everyone else's);
- ``rotate``: a small random rotation of both the accelerometer and the gyroscope triplet
  (the board sits a little differently on the wrist);
- ``scale``: an amplitude scale of the motion (accel around its window mean, and gyro);
- ``warp``: a time stretch around the window's centre (people gesture faster or slower);
- ``shift``: a time shift that repeats the edge values (the gesture starts earlier or later);
- ``noise``: a little sensor noise.
"""

from __future__ import annotations

import numpy as np

from capture.synth import rotation_matrix
from training import TrainingError

AUGMENT_KINDS = ("mount", "rotate", "scale", "warp", "shift", "noise")
AUTO_AUGMENT_MAX_WINDOWS = 2000  # 'auto' augments only datasets smaller than this (training windows)
# What 'auto' uses for several people (docs/decisions.md, "Augmentation kinds").
DEFAULT_AUGMENT = ("mount", "rotate")
# 'auto' when every training take is one person's: turning one wearer's board in its plane confuses
# gestures told apart by direction (docs/decisions.md, "One person's augmentation").
ONE_PERSON_AUGMENT = ("rotate", "scale", "warp", "shift", "noise")
# 'mount' turns MOUNT_PROBABILITY of the windows (a family may set its own share: training/families/), by
# up to the measured spread (below) or by any angle (or by whole steps of MOUNT_STEP_DEG when that is not
# 0) (docs/decisions.md, "Rotation augmentation: how far and how often `mount` turns").
MOUNT_STEP_DEG = 0.0
MOUNT_PROBABILITY = 1.0
# How far 'mount' turns: as far as the training people's boards are turned against each other,
# measured from the data (``board_turn_spread_deg``: each take's main rotation axis in the board plane,
# averaged per person and gesture; a gesture's spread is the largest angle between a person's axis and
# the people's mean axis; the dataset's is the median over gestures). From MOUNT_ANY_ANGLE_FROM_DEG on,
# the turn is any angle: an axis is only known up to a half turn, and past halfway to a quarter turn no
# direction is settled. Below it, windows turn by up to the spread either way (docs/decisions.md,
# "Rotation augmentation: how far and how often `mount` turns").
MOUNT_ANY_ANGLE_FROM_DEG = 45.0
MIN_GESTURE_PEAK_DPS = 100.0  # takes whose rotation rate never reaches this hold no gesture to take an axis from
MAX_ROTATION_DEG = 20.0
SCALE_RANGE = (0.8, 1.25)
ACCEL_NOISE_G = 0.01
GYRO_NOISE_DPS = 1.0
MAX_SHIFT_FRACTION = 0.1
STRETCH_RANGE = (0.8, 1.25)


def parse_augment(text: str) -> tuple[str, ...]:
    """``'rotate,noise'`` -> ('rotate', 'noise'); 'all' and 'none' are accepted too."""
    words = [w.strip().lower() for w in text.split(",") if w.strip()]
    if words == ["all"]:
        return AUGMENT_KINDS
    if words == ["none"] or not words:
        return ()
    unknown = [w for w in words if w not in AUGMENT_KINDS]
    if unknown:
        raise TrainingError(f"unknown --augment kind(s) {', '.join(unknown)}; choose from {','.join(AUGMENT_KINDS)}, "
                            "'all' or 'none'")
    return tuple(k for k in AUGMENT_KINDS if k in words)


def resolve_augment(requested, n_train_windows: int, n_train_people: int = 2) -> tuple[str, ...]:
    """The kinds a run uses: ``None`` (auto) means ``DEFAULT_AUGMENT`` (``ONE_PERSON_AUGMENT``
    when the training takes are one person's) for fewer than ``AUTO_AUGMENT_MAX_WINDOWS``
    training windows, else none; True/False mean all/none."""
    if requested is None:
        if n_train_windows >= AUTO_AUGMENT_MAX_WINDOWS:
            return ()
        return DEFAULT_AUGMENT if n_train_people >= 2 else ONE_PERSON_AUGMENT
    if requested is True:
        return AUGMENT_KINDS
    if requested is False:
        return ()
    if isinstance(requested, str):
        return parse_augment(requested)
    return parse_augment(",".join(requested))


def _axis_in_plane(gyro_dps: np.ndarray) -> complex | None:
    """The take's main rotation axis in the board plane as ``share * exp(2i*angle)`` (an axis has
    no sign, hence the doubled angle; share: how much of the axis lies in the plane); None for a
    take without a gesture."""
    rate = np.linalg.norm(gyro_dps, axis=1)
    if len(rate) < 2 or rate.max() < MIN_GESTURE_PEAK_DPS:
        return None
    axis = np.linalg.svd(gyro_dps[rate > 0.25 * rate.max()], full_matrices=False)[2][0]
    return complex(np.hypot(axis[0], axis[1]) * np.exp(2j * np.arctan2(axis[1], axis[0])))


def board_turn_spread_deg(takes, skip_labels=("idle",)) -> dict:
    """How far the people's boards are turned against each other in the board plane, from their
    gestures' rotation axes: ``{"deg": median over gestures (0 with fewer than 2 people),
    "per_label": {label: largest person-to-mean angle}}``."""
    axes: dict = {}
    for take in takes:
        if take.meta.label in skip_labels:
            continue
        z = _axis_in_plane(np.asarray(take.values, dtype=np.float64)[:, 3:6])
        if z is not None and abs(z) > 0:
            axes.setdefault(take.meta.label, {}).setdefault(take.meta.subject, []).append(z)
    per_label = {}
    for label, people in sorted(axes.items()):
        if len(people) < 2:
            continue
        unit = [z / abs(z) for z in (np.mean(v) for v in people.values()) if abs(z) > 1e-9]
        mean = np.mean(unit)
        if len(unit) < 2 or abs(mean) < 1e-9:
            per_label[label] = 90.0  # the people's axes cancel out: every direction
            continue
        per_label[label] = round(max(abs(float(np.degrees(np.angle(u / mean)))) / 2 for u in unit), 1)
    deg = float(np.median(list(per_label.values()))) if per_label else 0.0
    return {"deg": round(deg, 1), "per_label": per_label}


def mount_max_deg(spread_deg: float) -> float:
    """The largest turn 'mount' applies for a measured spread: 180 (any angle) from
    ``MOUNT_ANY_ANGLE_FROM_DEG``, else the spread."""
    return 180.0 if spread_deg >= MOUNT_ANY_ANGLE_FROM_DEG else float(spread_deg)


def _mount_angle(rng: np.random.Generator, max_deg: float = 180.0) -> float:
    """A turn in the board's plane: any angle (``max_deg`` 180), up to ``max_deg`` either way, or
    a whole number of ``MOUNT_STEP_DEG`` steps."""
    if max_deg < 180.0:
        return float(np.deg2rad(rng.uniform(-max_deg, max_deg)))
    if not MOUNT_STEP_DEG:
        return float(rng.uniform(0.0, 2 * np.pi))
    return float(np.deg2rad(MOUNT_STEP_DEG * rng.integers(int(round(360 / MOUNT_STEP_DEG)))))


def about_z(angle_rad: float) -> np.ndarray:
    """Rotation matrix (float32) of ``angle_rad`` about the board's z axis (its normal)."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]], dtype=np.float32)


def _stretch(w: np.ndarray, factor: float) -> np.ndarray:
    """Play the window ``factor`` times slower around its centre, repeating edge values."""
    n = len(w)
    centre = (n - 1) / 2
    source = np.clip(centre + (np.arange(n) - centre) / factor, 0, n - 1)
    out = np.empty_like(w)
    for c in range(w.shape[1]):
        out[:, c] = np.interp(source, np.arange(n), w[:, c])
    return out


def _shift(w: np.ndarray, shift: int) -> np.ndarray:
    if shift > 0:
        return np.concatenate([np.repeat(w[:1], shift, axis=0), w[:-shift]])
    if shift < 0:
        return np.concatenate([w[-shift:], np.repeat(w[-1:], -shift, axis=0)])
    return w


def augment_windows(x: np.ndarray, rng: np.random.Generator, kinds=AUGMENT_KINDS,
                    mount_deg: float = 180.0, mount_share: float | None = None) -> np.ndarray:
    """A randomly perturbed copy of ``x`` ``(n, window, 6)`` using only ``kinds``; 'mount' turns
    ``mount_share`` of the windows (default MOUNT_PROBABILITY) by up to ``mount_deg`` either way
    (180: any angle)."""
    share = MOUNT_PROBABILITY if mount_share is None else mount_share
    kinds = set(kinds)
    x = np.array(x, dtype=np.float32, copy=True)
    n, window, _ = x.shape
    max_shift = int(round(window * MAX_SHIFT_FRACTION))
    for i in range(n):
        accel, gyro = x[i, :, :3], x[i, :, 3:]
        if "mount" in kinds and rng.random() < share:
            turn = about_z(_mount_angle(rng, mount_deg))
            accel, gyro = accel @ turn.T, gyro @ turn.T
        if "rotate" in kinds:
            rot = rotation_matrix(rng.normal(0.0, np.deg2rad(MAX_ROTATION_DEG) / 2, 3)).astype(np.float32)
            accel, gyro = accel @ rot.T, gyro @ rot.T
        if "scale" in kinds:
            scale = rng.uniform(*SCALE_RANGE)
            mean = accel.mean(axis=0, keepdims=True)
            accel, gyro = mean + scale * (accel - mean), scale * gyro
        if "noise" in kinds:
            accel = accel + rng.normal(0.0, ACCEL_NOISE_G, accel.shape)
            gyro = gyro + rng.normal(0.0, GYRO_NOISE_DPS, gyro.shape)
        w = np.concatenate([accel, gyro], axis=1)
        if "warp" in kinds:
            w = _stretch(w, float(np.exp(rng.uniform(*np.log(STRETCH_RANGE)))))
        if "shift" in kinds and max_shift:
            w = _shift(w, int(rng.integers(-max_shift, max_shift + 1)))
        x[i] = w
    return x
