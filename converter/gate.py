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

A gate of the vector lengths (``statistics`` "lengths", what ``nanogest fit`` gives) is computed in
float32 instead, step for step as ng_gate's LengthGateSettings: each channel taken back to g or dps as
``(q - z) * input_scale[c] + input_offset[c]`` (``input_scale`` the input scale times the normalization's
std, ``input_offset`` its mean), the accelerometer's and gyroscope's vector lengths per sample, their max,
min, mean and std (in one pass, of each length less the first sample's), then
``d = sum_k |bias[k] + sum_j weights[k][j] s[j]|``; every sum in the order the core adds
(``LengthGateConstants``, ``length_statistics``).

A step model (a GRU) has only the gate of the vector lengths: its board never holds a window, and gathers
the statistics step by step over the samples the window's steps read (ng_gate.h length_gate_add_step), so
its windows here are those samples in that order (converter.gru.stepping.StepSettings.read_windows,
contract.input.step_window_samples), and every function below applies unchanged.

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


@dataclass(frozen=True)
class LengthGateConstants:
    """What the header carries for a gate of the vector lengths (model_settings.h kGateInputScale ...),
    all float32."""

    input_scale: np.ndarray  # (channels,)
    input_offset: np.ndarray  # (channels,)
    weights: np.ndarray  # (8, 8)
    bias: np.ndarray  # (8,)
    level: np.float32
    unknown_index: int


def gate_constants(contract: Contract, input_q: tuple[float, int]) -> GateConstants | LengthGateConstants | None:
    """The contract's gate in the whole numbers of the int8 input ``input_q`` (scale, zero point), or in
    float32 for the vector lengths; None without a gate."""
    gate = contract.novelty_gate
    if gate is None:
        return None
    scale = float(input_q[0])
    if gate.statistics == "lengths":
        f32 = np.float32
        return LengthGateConstants((scale * np.asarray(contract.normalization.std, np.float64)).astype(f32),
                                   np.asarray(contract.normalization.mean, np.float64).astype(f32),
                                   np.asarray(gate.weights, np.float64).astype(f32),
                                   np.asarray(gate.bias, np.float64).astype(f32), f32(gate.level),
                                   contract.unknown_index)
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


def length_statistics(q: np.ndarray, zero_point: int, c: LengthGateConstants) -> np.ndarray:
    """(windows, 8) float32: the accelerometer's then the gyroscope's vector length's max, min, mean and
    std over each int8 window (windows, W, channels), as ng::length_gate_statistics computes them."""
    f32 = np.float32
    v = (np.asarray(q, np.int32) - int(zero_point)).astype(f32) * c.input_scale + c.input_offset
    w = v.shape[1]
    out = []
    for first in (0, 3):
        total = np.zeros(v.shape[:2], f32)
        for ch in range(first, first + 3):  # the core adds the squares in channel order
            total = total + v[..., ch] * v[..., ch]
        n = np.sqrt(total)
        origin = n[:, 0]
        s, squares = np.zeros(len(v), f32), np.zeros(len(v), f32)
        for t in range(1, w):  # sums in sample order, not numpy's pairwise order, of each length less the first's
            d = n[:, t] - origin
            s = s + d
            squares = squares + d * d
        shift = s / f32(w)
        variance = squares / f32(w) - shift * shift
        std = np.sqrt(np.maximum(variance, f32(0)))  # 0 where the variance is not above 0, as the core
        out += [n.max(1), n.min(1), origin + shift, std]
    return np.stack(out, axis=1)


def length_distances(stats: np.ndarray, c: LengthGateConstants) -> np.ndarray:
    """The float32 distance of each window's length statistics, as ng::length_gate_distance computes it."""
    d = np.zeros(len(stats), np.float32)
    for k in range(len(c.bias)):
        w = np.full(len(stats), c.bias[k], np.float32)
        for j in range(stats.shape[1]):
            w = w + c.weights[k, j] * stats[:, j]
        d = d + np.abs(w)
    return d


def gate_distances(q: np.ndarray, zero_point: int, c: GateConstants | LengthGateConstants) -> np.ndarray:
    """The distance of each int8 window, as ng::gate_distance (int64) or ng::length_gate_distance
    (float32) computes it."""
    if isinstance(c, LengthGateConstants):
        return length_distances(length_statistics(q, zero_point, c), c)
    if len(q) == 0:
        return np.zeros(0, np.int64)
    w = window_statistics(q, zero_point) @ c.weights.astype(np.int64).T + c.bias[None, :]
    return np.abs(w).sum(1)


def gate_fires(q: np.ndarray, zero_point: int, c: GateConstants | LengthGateConstants | None) -> np.ndarray:
    """Which int8 windows the gate makes unknown (none without a gate)."""
    if c is None:
        return np.zeros(len(q), bool)
    return gate_distances(q, zero_point, c) > c.level


def override(scores_q: np.ndarray, fires: np.ndarray, unknown_index: int) -> np.ndarray:
    """The int8 scores the board hands its post-processing: a window the gate fires on scores -128 for
    every label and 127 for the unknown one (none without an unknown label, as ng::gate_override)."""
    out = np.array(scores_q, dtype=np.int8, copy=True)
    out[fires] = -128
    if 0 <= unknown_index < out.shape[1]:
        out[fires, unknown_index] = 127
    return out


def gated_scores_and_ratios(scores_q: np.ndarray, q: np.ndarray, contract: Contract,
                            input_q: tuple[float, int]) -> tuple[np.ndarray, np.ndarray | None]:
    """The board's scores for int8 input windows ``q`` and the model's int8 ``scores_q`` (the model's, with
    the windows the contract's gate fires on made unknown), and each window's gate distance over the
    gate's level (None without a gate), from which a tuner reads what a lower level would reject."""
    c = gate_constants(contract, input_q)
    if c is None:
        return np.asarray(scores_q), None
    d = gate_distances(q, int(input_q[1]), c)
    return override(scores_q, d > c.level, c.unknown_index), d.astype(np.float64) / float(c.level)


def gated_scores(scores_q: np.ndarray, q: np.ndarray, contract: Contract, input_q: tuple[float, int]) -> np.ndarray:
    """The board's scores for int8 input windows ``q`` and the model's int8 ``scores_q``: the model's,
    with the windows the contract's gate fires on made unknown."""
    return gated_scores_and_ratios(scores_q, q, contract, input_q)[0]
