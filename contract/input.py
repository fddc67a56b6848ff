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
