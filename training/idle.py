"""An idle class from the still parts of gesture takes (``--idle-from-still``).

Continuous recognition needs a class for "no gesture". When nobody recorded idle takes
(or to add to them), windows lying wholly inside still stretches of gesture takes are
labelled idle instead of the take's gesture. A sample is still when a stretch of
``STILL_SECONDS`` around it hardly moves: the accelerometer magnitude varies by less than
3% and no gyroscope channel by more than 10 deg/s (the thresholds of ``training check``).
The idle windows drawn are capped at about one gesture label's count, so long pauses do
not swamp the gestures.
"""

from __future__ import annotations

import numpy as np

from capture.dataset import Take
from contract.document import Contract
from contract.pipeline import IDLE_LABEL
from training.check import STILL_ACCEL_REL_STD, STILL_GYRO_STD, STILL_SECONDS
from training.data import resample, take_windows, window_starts


def _rolling_std(values: np.ndarray, w: int) -> np.ndarray:
    """Standard deviation of every stretch ``values[s:s+w]`` (axis 0), s = 0 .. n-w."""
    v = np.asarray(values, dtype=np.float64)
    c1 = np.concatenate([np.zeros((1,) + v.shape[1:]), np.cumsum(v, axis=0)])
    c2 = np.concatenate([np.zeros((1,) + v.shape[1:]), np.cumsum(v * v, axis=0)])
    mean = (c1[w:] - c1[:-w]) / w
    return np.sqrt(np.maximum((c2[w:] - c2[:-w]) / w - mean * mean, 0.0))


def still_mask(samples: np.ndarray, rate_hz: float) -> np.ndarray:
    """True for samples inside a still stretch (``samples``: ``(n, 6)`` in g and deg/s)."""
    n = len(samples)
    w = max(4, int(round(STILL_SECONDS * rate_hz)))
    mask = np.zeros(n, dtype=bool)
    if n < w:
        return mask
    magnitude = np.linalg.norm(samples[:, :3], axis=1)
    still_from = (_rolling_std(magnitude, w) <= STILL_ACCEL_REL_STD * max(float(np.median(magnitude)), 1e-9)) & (
        _rolling_std(samples[:, 3:], w).max(axis=1) <= STILL_GYRO_STD)
    # A sample is still if any still stretch covers it: count the stretches covering each sample.
    cover = np.zeros(n + 1)
    starts = np.flatnonzero(still_from)
    np.add.at(cover, starts, 1)
    np.add.at(cover, starts + w, -1)
    return np.cumsum(cover[:n]) > 0


def split_still(take: Take, contract: Contract) -> tuple[np.ndarray, np.ndarray]:
    """The take's windows as (windows with motion, windows wholly inside still stretches)."""
    window, hop = contract.window, contract.hop
    samples = resample(take, contract.rate_hz)
    if len(samples) < window:
        return take_windows(take, contract), np.zeros((0, window, samples.shape[1]), np.float32)
    mask = still_mask(samples, contract.rate_hz)
    moving, still = [], []
    for s in window_starts(len(samples), window, hop):
        (still if mask[s:s + window].all() else moving).append(samples[s:s + window])
    empty = np.zeros((0, window, samples.shape[1]), np.float32)
    return (np.stack(moving).astype(np.float32) if moving else empty,
            np.stack(still).astype(np.float32) if still else empty)


def windows_with_still_idle(takes: list[Take], contract: Contract, rng: np.random.Generator):
    """Raw windows and labels like ``windows_for``, with still windows of gesture takes labelled
    idle (at most about as many as the largest gesture label has); returns (x, y, idle_drawn)."""
    index = {label: i for i, label in enumerate(contract.labels)}
    idle = index[IDLE_LABEL]
    xs, ys, still_parts = [], [], []
    for take in takes:
        if take.meta.label == IDLE_LABEL:
            w = take_windows(take, contract)
        else:
            w, still = split_still(take, contract)
            still_parts.append(still)
        xs.append(w)
        ys.append(np.full(len(w), index[take.meta.label], dtype=np.int32))
    window = contract.window
    still = np.concatenate(still_parts) if still_parts else np.zeros((0, window, 6), np.float32)
    counts = np.bincount(np.concatenate(ys) if ys else np.zeros(0, int), minlength=len(index))
    cap = int(max((c for i, c in enumerate(counts) if i != idle), default=0))
    if len(still) > cap:
        still = still[np.sort(rng.choice(len(still), cap, replace=False))]
    xs.append(still)
    ys.append(np.full(len(still), idle, dtype=np.int32))
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys), int(len(still))
