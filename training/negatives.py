"""Motions that are not the taught gestures, made from the gesture windows themselves.

Nobody records "other": every public gesture dataset holds the taught gestures only. A model
trained on them alone names every motion of the wrist one of its gestures. The unknown class is
trained on windows built from the training gestures so that they are motions of the same kind
(same person, same board, same strength) but none of the taught ones:

- ``reverse``: the gesture played backwards (the gyroscope changes sign): the way back of a punch
  is a pull;
- ``redirect``: the motion (the accelerometer about its window mean, and the gyroscope) turned by
  a large angle while gravity stays where it was: the same stroke in another direction;
- ``shake``: the gesture twice as fast, twice over;
- ``chimera``: the first half of one gesture and the second half of another;
- ``wander``: slow, smooth random turns and pushes of the wrist, of the gestures' own strength.

Which kinds the default uses, and how many windows, is measured in docs/decisions.md.
"""

from __future__ import annotations

import numpy as np

from capture.synth import rotation_matrix
from training import TrainingError

NEGATIVE_KINDS = ("reverse", "redirect", "shake", "chimera", "wander")
DEFAULT_NEGATIVE_SHARE = 1.0  # unknown windows per gesture window of the training side
REDIRECT_MIN_DEG = 60.0  # smaller turns are what 'mount' and 'rotate' teach as the gesture itself


def _random_axes(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.normal(size=(n, 3))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def reverse(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = x[:, ::-1].copy()
    out[..., 3:] *= -1.0
    return out


def redirect(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = np.empty_like(x)
    axes = _random_axes(rng, len(x))
    angles = np.radians(rng.uniform(REDIRECT_MIN_DEG, 180.0, len(x)))
    for i, w in enumerate(x):
        r = rotation_matrix(axes[i] * angles[i]).astype(np.float32)
        gravity = w[:, :3].mean(axis=0)
        out[i, :, :3] = gravity + (w[:, :3] - gravity) @ r.T
        out[i, :, 3:] = w[:, 3:] @ r.T
    return out


def shake(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = x.shape[1]
    fast = x[:, ::2]
    reps = np.concatenate([fast, fast], axis=1)[:, :n]
    if reps.shape[1] < n:
        reps = np.concatenate([reps, np.repeat(reps[:, -1:], n - reps.shape[1], axis=1)], axis=1)
    return reps


def chimera(x: np.ndarray, rng: np.random.Generator, y: np.ndarray | None = None) -> np.ndarray:
    n = x.shape[1]
    half = n // 2
    if y is not None and len(np.unique(y)) > 1:
        partners = np.array([rng.choice(np.flatnonzero(y != label)) for label in y])
    else:
        partners = rng.permutation(len(x))
    out = x.copy()
    out[:, half:] = x[partners, half:]
    # keep the join smooth: the second half is moved to start where the first ended
    out[:, half:] += (x[:, half - 1] - x[partners, half])[:, None, :]
    return out


def wander(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    k, n, _ = x.shape
    t = np.linspace(0.0, 1.0, n, dtype=np.float32)
    out = np.repeat(x[:, :, :3].mean(axis=1, keepdims=True), n, axis=1)
    out = np.concatenate([out, np.zeros((k, n, 3), np.float32)], axis=2)
    gyro_peak = np.abs(x[:, :, 3:]).max(axis=(1, 2))
    accel_peak = np.abs(x[:, :, :3] - x[:, :, :3].mean(axis=1, keepdims=True)).max(axis=(1, 2))
    for i in range(k):
        for c in range(6):
            waves = rng.integers(1, 4)  # up to three slow components per channel in the window
            freq = rng.uniform(0.5, 3.0, waves)
            phase = rng.uniform(0, 2 * np.pi, waves)
            amp = rng.uniform(0.2, 1.0, waves)
            signal = (amp[:, None] * np.sin(2 * np.pi * freq[:, None] * t[None, :] + phase[:, None])).sum(axis=0)
            signal /= max(float(np.abs(signal).max()), 1e-6)
            peak = gyro_peak[i] if c >= 3 else accel_peak[i]
            out[i, :, c] += rng.uniform(0.3, 1.0) * peak * signal
    return out


_MAKERS = {"reverse": reverse, "redirect": redirect, "shake": shake, "wander": wander}


def make_kind(kind: str, x: np.ndarray, rng: np.random.Generator, y: np.ndarray | None = None) -> np.ndarray:
    """Windows of ``kind`` made from the gesture windows ``x`` (labels ``y``: chimera joins halves of
    different labels when given)."""
    return chimera(x, rng, y) if kind == "chimera" else _MAKERS[kind](x, rng)


def make_negatives(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, share: float = DEFAULT_NEGATIVE_SHARE,
                   kinds=NEGATIVE_KINDS) -> np.ndarray:
    """About ``share * len(x)`` unknown windows made from the gesture windows ``x`` (labels ``y``),
    the kinds in equal parts."""
    kinds = tuple(kinds)
    total = int(round(share * len(x)))
    if total == 0 or not kinds or len(x) == 0:
        return np.zeros((0,) + x.shape[1:], np.float32)
    parts = []
    for j, kind in enumerate(kinds):
        count = total // len(kinds) + (1 if j < total % len(kinds) else 0)
        if count == 0:
            continue
        pick = rng.choice(len(x), count, replace=count > len(x))
        src = x[pick]
        made = make_kind(kind, src, rng, y[pick])
        parts.append(made.astype(np.float32))
    return np.concatenate(parts)


def parse_negatives(text: str | None) -> tuple:
    """``--negatives`` KINDS (comma-separated, or 'all') as a tuple; None or '' -> ()."""
    if not text:
        return ()
    kinds = NEGATIVE_KINDS if text.strip() == "all" else tuple(k.strip() for k in text.split(",") if k.strip())
    bad = [k for k in kinds if k not in NEGATIVE_KINDS]
    if bad:
        raise TrainingError(f"unknown negative kind(s) {', '.join(bad)}; choose from {', '.join(NEGATIVE_KINDS)} or 'all'")
    return kinds
