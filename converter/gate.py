"""The novelty gate as the board computes it (firmware ng_gate), exactly, in Python.

The contract's gate (contract.fields.NoveltyGate) is in float on the normalized window. The board
has the int8 model input ``q`` (scale ``s``, zero point ``z``), so the gate is carried over to it
once, here, for the header and for every laptop path that scores windows as the board does:

- statistics in whole numbers, per channel c over the window's W samples, in this order:
  ``max(q) - z``, ``z - min(q)``, ``(MEAN_SCALE * sum(max(q - z, 0)) + W / 2) / W`` and the same of
  ``max(z - q, 0)`` (means rounded to 1/MEAN_SCALE steps, integer division of non-negative numbers):
  the float statistics are these times ``s`` (the first two) and ``s / MEAN_SCALE`` (the means);
- the whitening with those factors folded into its columns, scaled by ``r`` so its largest entry is
  32767, rounded to int16 (``weights``); the bias and the level divided by ``r``, rounded to int64;
- ``d = sum_k |weights[k] . stats + bias[k]|`` in int64; the gate fires when ``d > level``.

A window the gate fires on is unknown: every class score becomes -128 and the unknown label's 127,
before the post-processing (``override``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from contract.document import Contract

INT16_MAX = 32767
# the means' steps per input step: rounding them and the int16 weights then costs at most 0.3 % of the
# distance (tests/converter/test_gate.py); fewer steps round the means coarser, more the weights
MEAN_SCALE = 64


@dataclass(frozen=True)
class GateConstants:
    """What the header carries (model_settings.h kGate*)."""

    weights: np.ndarray  # (features, features) int16
    bias: np.ndarray  # (features,) int64
    level: int
    unknown_index: int


def gate_constants(contract: Contract, input_q: tuple[float, int]) -> GateConstants | None:
    """The contract's gate in the whole numbers of the int8 input ``input_q`` (scale, zero point); None
    without a gate."""
    gate = contract.novelty_gate
    if gate is None:
        return None
    scale = float(input_q[0])
    a = np.asarray(gate.weights, dtype=np.float64)
    n = a.shape[1] // 2
    factors = np.concatenate([np.full(n, scale), np.full(n, scale / MEAN_SCALE)])
    folded = a * factors[None, :]
    r = np.abs(folded).max() / INT16_MAX
    return GateConstants(np.round(folded / r).astype(np.int16),
                         np.round(np.asarray(gate.bias, dtype=np.float64) / r).astype(np.int64),
                         int(np.round(gate.level / r)), contract.unknown_index)


def window_statistics(q: np.ndarray, zero_point: int) -> np.ndarray:
    """(windows, 4 x channels) int64 statistics of int8 windows (windows, W, channels)."""
    d = np.asarray(q, dtype=np.int64) - int(zero_point)
    w = d.shape[1]
    return np.concatenate([d.max(1), -d.min(1), (MEAN_SCALE * np.maximum(d, 0).sum(1) + w // 2) // w,
                           (MEAN_SCALE * np.maximum(-d, 0).sum(1) + w // 2) // w], axis=1)


def gate_distances(q: np.ndarray, zero_point: int, c: GateConstants) -> np.ndarray:
    """The int64 distance of each int8 window, as ng::gate_distance computes it."""
    if len(q) == 0:
        return np.zeros(0, np.int64)
    w = window_statistics(q, zero_point) @ c.weights.astype(np.int64).T + c.bias[None, :]
    return np.abs(w).sum(1)


def gate_fires(q: np.ndarray, zero_point: int, c: GateConstants | None) -> np.ndarray:
    """Which int8 windows the gate makes unknown (none without a gate)."""
    if c is None:
        return np.zeros(len(q), bool)
    return gate_distances(q, zero_point, c) > c.level


def override(scores_q: np.ndarray, fires: np.ndarray, unknown_index: int) -> np.ndarray:
    """The int8 scores the board hands its post-processing: a window the gate fires on scores -128 for
    every label and 127 for the unknown one."""
    out = np.array(scores_q, dtype=np.int8, copy=True)
    out[fires] = -128
    out[fires, unknown_index] = 127
    return out


def gated_scores(scores_q: np.ndarray, q: np.ndarray, contract: Contract, input_q: tuple[float, int]) -> np.ndarray:
    """The board's scores for int8 input windows ``q`` and the model's int8 ``scores_q``: the model's,
    with the windows the contract's gate fires on made unknown."""
    c = gate_constants(contract, input_q)
    if c is None:
        return np.asarray(scores_q)
    return override(scores_q, gate_fires(q, int(input_q[1]), c), c.unknown_index)
