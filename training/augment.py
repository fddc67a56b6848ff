"""Light augmentation of raw training windows (g and deg/s), done in numpy before normalizing.

Each window gets: a time stretch (people gesture faster or slower), a small random rotation of both the accelerometer and the gyroscope
triplet (the board sits a little differently on the wrist), an amplitude scale of the
motion (accel around its window mean, and gyro), a little sensor noise, and a time shift
that repeats the edge values (the gesture starts a little earlier or later).
"""

from __future__ import annotations

import numpy as np

from capture.synth import rotation_matrix

MAX_ROTATION_DEG = 20.0
SCALE_RANGE = (0.8, 1.25)
ACCEL_NOISE_G = 0.01
GYRO_NOISE_DPS = 1.0
MAX_SHIFT_FRACTION = 0.1
STRETCH_RANGE = (0.8, 1.25)


def _stretch(w: np.ndarray, factor: float) -> np.ndarray:
    """Play the window ``factor`` times slower around its centre, repeating edge values."""
    n = len(w)
    centre = (n - 1) / 2
    source = np.clip(centre + (np.arange(n) - centre) / factor, 0, n - 1)
    out = np.empty_like(w)
    for c in range(w.shape[1]):
        out[:, c] = np.interp(source, np.arange(n), w[:, c])
    return out


def augment_windows(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A randomly perturbed copy of ``x`` ``(n, window, 6)``."""
    x = np.array(x, dtype=np.float32, copy=True)
    n, window, _ = x.shape
    max_shift = int(round(window * MAX_SHIFT_FRACTION))
    for i in range(n):
        rot = rotation_matrix(rng.normal(0.0, np.deg2rad(MAX_ROTATION_DEG) / 2, 3)).astype(np.float32)
        accel = x[i, :, :3] @ rot.T
        gyro = x[i, :, 3:] @ rot.T
        scale = rng.uniform(*SCALE_RANGE)
        mean = accel.mean(axis=0, keepdims=True)
        accel = mean + scale * (accel - mean) + rng.normal(0.0, ACCEL_NOISE_G, accel.shape)
        gyro = scale * gyro + rng.normal(0.0, GYRO_NOISE_DPS, gyro.shape)
        w = np.concatenate([accel, gyro], axis=1)
        w = _stretch(w, float(np.exp(rng.uniform(*np.log(STRETCH_RANGE)))))
        shift = int(rng.integers(-max_shift, max_shift + 1)) if max_shift else 0
        if shift > 0:
            w = np.concatenate([np.repeat(w[:1], shift, axis=0), w[:-shift]])
        elif shift < 0:
            w = np.concatenate([w[-shift:], np.repeat(w[-1:], -shift, axis=0)])
        x[i] = w
    return x
