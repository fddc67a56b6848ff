"""Takes in, windows out: loading, resampling, windowing and normalization.

These functions are shared with the converter, which rebuilds windows from a dataset
with the run's contract (``take_windows`` + ``contract.input.normalize``) exactly as training did.
"""

from __future__ import annotations

import sys
from collections import Counter

import numpy as np

from capture.dataset import DatasetError, Take, is_usable, list_takes, read_take, take_scales
from contract.labels import LabelError, c_identifiers
from contract.document import Contract, Normalization, as_contract, normalization_of
from contract.pipeline import CHANNELS, HOP_SECONDS, IDLE_LABEL, UNKNOWN_LABEL, WINDOW_SECONDS
from contract.resample import ResampleError, counts_to_values, rate_mhz, resample_counts, values_to_counts
from training import TrainingError

SAME_GRID_TOLERANCE_US = 2.0  # timestamps rounded to whole microseconds still count as on the grid


def load_dataset(data_dir, include_flagged: bool = False) -> list[Take]:
    """Every usable take under ``data_dir`` (incomplete or flagged ones are left out unless
    ``include_flagged``, with a note on stderr, as ``training check`` reports); ``TrainingError``
    naming the file on any problem."""
    try:
        paths = list_takes(data_dir)
        takes = [read_take(p) for p in paths]
    except DatasetError as e:
        raise TrainingError(str(e)) from None
    excluded = [t for t in takes if not is_usable(t.meta, include_flagged)]
    if excluded:
        print(f"note: {len(excluded)} take(s) marked incomplete or flagged are left out of training "
              f"(see 'nanogest check {data_dir}')", file=sys.stderr)
        takes = [t for t in takes if t not in excluded]
    if not takes:
        raise TrainingError(f"{data_dir}: no takes found (expected DATA_DIR/<label>/<take>.csv); record some with 'nanogest record'")
    for take in takes:
        if len(take.values) == 0:
            raise TrainingError(f"{take.csv_path}: take has no samples; delete it (and its .json) or record it again")
        if not np.all(np.isfinite(take.values)):
            raise TrainingError(f"{take.csv_path}: take holds NaN or infinite values; delete it or record it again")
        if len(take.t_us) > 1 and np.any(np.diff(take.t_us) <= 0):
            bad = int(np.argmax(np.diff(take.t_us) <= 0)) + 3  # +1 header, +1 first row, +1 next
            raise TrainingError(f"{take.csv_path}:{bad}: t_us does not increase; the take's clock is broken, record it again")
        if not take.meta.rate_hz or take.meta.rate_hz <= 0:
            raise TrainingError(f"{take.csv_path.with_suffix('.json')}: rate_hz must be positive")
    return takes


def dataset_rate_hz(takes: list[Take]) -> float:
    """The run's sample rate: the most common rate among the takes (ties: the higher)."""
    counts = Counter(round(float(t.meta.rate_hz), 3) for t in takes)
    return max(counts, key=lambda r: (counts[r], r))


def on_own_grid(take: Take) -> np.ndarray:
    """The take's values on its own regular grid at ``meta.rate_hz``, float64: the samples as they are
    when their timestamps sit on that grid (every take a board streamed without loss), else linearly
    interpolated on t_us (samples lost on the way, an irregular clock)."""
    values = np.asarray(take.values, dtype=np.float64)
    rate = float(take.meta.rate_hz)
    t_s = (np.asarray(take.t_us, dtype=np.float64) - float(take.t_us[0])) / 1e6
    nominal_us = np.arange(len(values)) * 1e6 / rate
    if np.abs(t_s * 1e6 - nominal_us).max() <= SAME_GRID_TOLERANCE_US:
        return values
    n = int(np.floor(t_s[-1] * rate + 1e-6)) + 1
    grid = np.arange(n) / rate
    return np.stack([np.interp(grid, t_s, values[:, c]) for c in range(values.shape[1])], axis=1)


def resample(take: Take, rate_hz: float) -> np.ndarray:
    """The take's samples at ``rate_hz``, float32 g and deg/s: the board's own resampler
    (``contract.resample``, ng_resample.h) on the take's counts, so a window cut here from a 100 Hz
    take is the window a board at 100 Hz feeds a model of ``rate_hz``, byte for byte in int8.

    The take is first put on its own regular grid (``on_own_grid``: a no-op unless samples were
    lost). At the take's own rate its values are returned untouched; at another, they become the
    counts of the IMU that recorded them (``capture.dataset.take_scales``), are resampled as
    integers and turned back into float32 as the board does (``counts * scale``)."""
    values = np.asarray(take.values, dtype=np.float64)
    if len(values) < 2:
        return values.astype(np.float32)
    regular = on_own_grid(take)
    in_mhz, out_mhz = rate_mhz(take.meta.rate_hz), rate_mhz(rate_hz)
    if in_mhz == out_mhz:
        return regular.astype(np.float32)  # on the grid already: the samples exactly
    scales = take_scales(take.meta)
    try:
        counts = resample_counts(values_to_counts(regular, *scales), in_mhz, out_mhz)
    except ResampleError as e:
        raise TrainingError(f"{take.csv_path}: cannot resample {take.meta.rate_hz:g} Hz to {rate_hz:g} Hz: {e}") from None
    return counts_to_values(counts, *scales)


def fit_length(samples: np.ndarray, window: int) -> np.ndarray:
    """Pad a short sequence to ``window`` samples by repeating its edge values (centred)."""
    missing = window - len(samples)
    if missing <= 0:
        return samples
    before = missing // 2
    return np.pad(samples, ((before, missing - before), (0, 0)), mode="edge")


def window_starts(n_samples: int, window: int, hop: int) -> list[int]:
    """First sample of every window of a sequence at least ``window`` long; the last ends at the end."""
    starts = list(range(0, n_samples - window + 1, hop))
    if starts[-1] != n_samples - window:
        starts.append(n_samples - window)
    return starts


def cut_windows(samples: np.ndarray, window: int, hop: int) -> np.ndarray:
    """Windows of ``window`` samples every ``hop``; the last one always ends at the end."""
    samples = fit_length(samples, window)
    return np.stack([samples[s:s + window] for s in window_starts(len(samples), window, hop)]).astype(np.float32)


def take_windows(take: Take, contract: Contract | dict) -> np.ndarray:
    """The take as ``(k, window, 6)`` raw windows at the contract's rate."""
    contract = as_contract(contract)
    samples = resample(take, contract.rate_hz)
    return cut_windows(samples, contract.window, contract.hop)


def normalization_from(x_train: np.ndarray) -> Normalization:
    """Per-channel mean and std of the training windows (std floored to avoid dividing by ~0)."""
    flat = np.asarray(x_train, dtype=np.float64).reshape(-1, x_train.shape[-1])
    std = np.maximum(flat.std(axis=0), 1e-3)
    return normalization_of(flat.mean(axis=0), std)


def base_contract(takes: list[Take], arch: str, window_seconds: float = WINDOW_SECONDS,
                  hop_seconds: float = HOP_SECONDS, extra_labels=(), rate_hz: float | None = None) -> Contract:
    """Everything of the contract except the normalization, decided from the dataset
    (``extra_labels``: labels the run adds itself, such as idle drawn from still stretches;
    ``rate_hz``: the model's rate, default the dataset's most common; every take at another rate
    is resampled to it as the board resamples its IMU, which may be at most 4x below the model's)."""
    labels = sorted({t.meta.label for t in takes} | set(extra_labels))
    if len(labels) < 2:
        only = labels[0] if labels else "none"
        raise TrainingError(f"the dataset has only one label ({only}); record at least two gestures to train a classifier")
    try:
        c_identifiers(labels)  # the firmware header names each label's index; refused now, not after training
    except LabelError as e:
        raise TrainingError(str(e)) from None
    if rate_hz is None:
        rate_hz = dataset_rate_hz(takes)
    elif not (rate_hz > 0 and np.isfinite(rate_hz)):
        raise TrainingError(f"--rate-hz must be a positive number of Hz, not {rate_hz!r}")
    # The post-processing starts at contract/pipeline.py's defaults (the Contract's own); the unknown
    # class (version 2) is named when the run trains one, its threshold stays null (unknown only as
    # top-1) until a calibration sets it. The normalization is the training side's (split_windows).
    return Contract(
        rate_hz=float(rate_hz), window=max(2, int(round(rate_hz * window_seconds))),
        hop=max(1, int(round(rate_hz * hop_seconds))), labels=labels,
        idle_label=IDLE_LABEL if IDLE_LABEL in labels else None,
        normalization=normalization_of([0.0] * len(CHANNELS), [1.0] * len(CHANNELS)), arch=arch,
        unknown_label=UNKNOWN_LABEL if UNKNOWN_LABEL in labels else None)


def windows_for(takes: list[Take], contract: Contract) -> tuple[np.ndarray, np.ndarray]:
    """Raw windows and integer labels for a list of takes."""
    index = {label: i for i, label in enumerate(contract.labels)}
    xs, ys = [], []
    for take in takes:
        w = take_windows(take, contract)
        xs.append(w)
        ys.append(np.full(len(w), index[take.meta.label], dtype=np.int32))
    if not xs:
        return np.zeros((0, contract.window, len(CHANNELS)), np.float32), np.zeros(0, np.int32)
    return np.concatenate(xs), np.concatenate(ys)
