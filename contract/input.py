"""The model's input from raw windows, as the board's core computes it (ng_input.h):
``(x - mean) / std`` per channel in float32, then int8 with the input tensor's scale and zero point,
rounded half away from zero (``contract.resample.round_half_away``)."""

from __future__ import annotations

import numpy as np

from contract.document import Contract, as_contract
from contract.resample import round_half_away


def normalize(x: np.ndarray, contract: Contract | dict) -> np.ndarray:
    """``(x - mean) / std`` per channel, as the model's input expects."""
    contract = as_contract(contract)
    return ((np.asarray(x, dtype=np.float32) - contract.mean) / contract.std).astype(np.float32)


def quantize(x_normalized: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Normalized float32 -> int8 exactly as the board (ng_input) and TFLite's QUANTIZE do."""
    scaled = (np.asarray(x_normalized, dtype=np.float32) / np.float32(scale)).astype(np.float32)
    q = round_half_away(np.clip(scaled, -1000.0, 1000.0)) + int(zero_point)
    return np.clip(q, -128, 127).astype(np.int8)


def steps_per_window(chunk_samples: int, stride_samples: int, window: int) -> int:
    """Steps of a step model (a GRU) in one window: a step reads ``chunk_samples`` and the next starts
    ``stride_samples`` later, all within the window."""
    return (window - chunk_samples) // stride_samples + 1


def step_window_samples(chunk_samples: int, stride_samples: int, steps: int) -> np.ndarray:
    """The samples of a window (from its first) that a step model's steps read, in the order the board's
    novelty gate counts them: all of step 0's chunk, then each later step's last min(stride, chunk) samples
    (ng_gate.h step_new_samples), so each counts once."""
    new = min(stride_samples, chunk_samples)
    later = (np.arange(1, steps) * stride_samples)[:, None] + np.arange(chunk_samples - new, chunk_samples)[None, :]
    return np.concatenate([np.arange(chunk_samples), later.ravel()]).astype(np.int64)


def gate_window(x: np.ndarray, contract: Contract | dict) -> np.ndarray:
    """Windows (n, window, channels) as the board's novelty gate reads them: a windowed model's whole, a
    step model's (the contract's ``gru``) the samples its steps read (step_window_samples)."""
    contract = as_contract(contract)
    gru = contract.gru
    if gru is None or gru.chunk_samples is None or gru.stride_samples is None:
        return x
    chunk, stride = gru.chunk_samples, gru.stride_samples
    return np.asarray(x)[:, step_window_samples(chunk, stride, steps_per_window(chunk, stride, contract.window))]
