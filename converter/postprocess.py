"""The board's post-processing (firmware ng_postprocess), exactly, in Python.

From each window's int8 class scores to "a gesture happened": the top-1 label must score at
least ``score_threshold`` (dequantized in float32), be the top-1 of ``agreement`` confident
windows in a row, not be the idle label, come ``refractory_samples`` samples after the previous
detection, and (with a motion gate) come from a window whose motion is at least ``motion_gate``.
A window's motion is computed from its raw int16 counts like ``ng::window_motion``: per channel
``n^2 * variance`` in exact integers, then float32 operations in the core's order.

With an unknown label (contract version 2, ``unknown_label``), a window whose top-1 is that label,
or whose score for it reaches ``unknown_threshold``, is unknown: the board reports the unknown
label with its own score (``reported_top``), and the window counts as not confident.

``settings_from_contract`` takes the post-processing fields of the typed contract (``agreement``,
``refractory_s``, ``motion_gate``, ``unknown_label``, ``unknown_threshold``; contract/document.py
gives a contract written before they existed the documented defaults, ``contract.pipeline.DEFAULT_*``,
no unknown label), as the firmware does for a header without them (``ng_model_defaults.h``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from contract import document
from contract.document import Contract
from contract.fields import DEFAULT_GATE, ContractError
from contract.pipeline import MOTION_MEASURE, UNKNOWN_THRESHOLD_OFF  # noqa: F401 (named here too)
from converter import ConverterError


@dataclass(frozen=True)
class PostprocessSettings:
    """What ng::PostprocessParams holds (plus the motion measure's accelerometer weight)."""

    label_count: int
    idle_index: int  # -1: no idle label
    score_threshold: float
    output_scale: float
    output_zero_point: int
    agreement: int
    refractory_samples: int
    motion_gate: float  # 0: no gate
    motion_accel_weight: float  # dps per g
    unknown_index: int = -1  # -1: no unknown label
    unknown_threshold: float = UNKNOWN_THRESHOLD_OFF  # > 1: only a top-1 unknown label is unknown


def output_range(output_q: tuple[float, int]) -> tuple[float, float]:
    """The lowest and highest dequantized score the int8 output can represent (float32, as the board)."""
    scale, zero_point = np.float32(output_q[0]), int(output_q[1])
    return float(scale * np.float32(-128 - zero_point)), float(scale * np.float32(127 - zero_point))


def check_threshold(key: str, value: float, low: float, high: float, where: str) -> None:
    if not (isinstance(value, (int, float)) and not isinstance(value, bool) and low <= np.float32(value) <= high):
        raise ConverterError(f"{where}: {key} {value!r} is outside what the model's int8 output can represent "
                             f"({low:.9g} .. {high:.9g}); choose a threshold in that range")


def refractory_samples(rate_hz: float, refractory_s: float) -> int:
    """The refractory period in whole samples at ``rate_hz`` (rounded half up, like ng_model_defaults.h;
    at least 1, since 0 means "the core's default" on the board)."""
    return max(1, int(np.floor(rate_hz * refractory_s + 0.5)))


def settings_from_contract(contract: Contract | dict, output_q: tuple[float, int],
                           where: str | None = None) -> PostprocessSettings:
    """The board's post-processing settings for a contract and the model's output quantization; the
    thresholds are checked against what that output can represent (ConverterError naming the file).
    A parsed contract.json (a dict, as tests and scripts hold it) is read with Contract.from_dict."""
    contract = as_contract(contract, where)
    where = where or contract.source
    low, high = output_range(output_q)
    check_threshold("score_threshold", contract.score_threshold, low, high, where)
    if contract.unknown_threshold is not None:  # above 1 means off on the board: probabilities never reach it
        check_threshold("unknown_threshold", contract.unknown_threshold, low, min(high, 1.0), where)
    gate = contract.motion_gate
    return PostprocessSettings(
        label_count=len(contract.labels), idle_index=contract.idle_index,
        score_threshold=float(contract.score_threshold), output_scale=float(output_q[0]),
        output_zero_point=int(output_q[1]), agreement=contract.agreement,
        refractory_samples=refractory_samples(contract.rate_hz, contract.refractory_s),
        motion_gate=0.0 if gate is None else gate.threshold,
        motion_accel_weight=(DEFAULT_GATE if gate is None else gate).accel_weight_dps_per_g,
        unknown_index=contract.unknown_index,
        unknown_threshold=UNKNOWN_THRESHOLD_OFF if contract.unknown_threshold is None else contract.unknown_threshold)


def as_contract(contract: Contract | dict, where: str | None = None) -> Contract:
    """``contract`` itself, or a contract.json dict read and checked; ContractError becomes ConverterError."""
    try:
        return document.as_contract(contract, where or "contract.json")
    except ContractError as e:
        raise ConverterError(str(e)) from None


def window_motion(windows_counts: np.ndarray, accel_g_per_count: float, gyro_dps_per_count: float,
                  accel_weight_dps_per_g: float) -> np.ndarray:
    """``ng::window_motion`` of each window of int16 counts ``(k, n, 6)``, float32, bit for bit."""
    c = np.asarray(windows_counts, dtype=np.int64)
    if c.ndim != 3 or c.shape[2] != 6:
        raise ValueError(f"expected windows of counts shaped (k, n, 6), got {c.shape}")
    n = c.shape[1]
    spread = n * np.sum(c * c, axis=1) - np.sum(c, axis=1) ** 2  # (k, 6): n^2 * variance, exact
    var = spread.astype(np.float32) / (np.float32(n) * np.float32(n))
    accel = ((np.float32(0) + var[:, 0]) + var[:, 1]) + var[:, 2]
    gyro = ((np.float32(0) + var[:, 3]) + var[:, 4]) + var[:, 5]
    a, g = np.float32(accel_g_per_count), np.float32(gyro_dps_per_count)
    accel_rms = np.sqrt(accel * (a * a)).astype(np.float32)
    gyro_rms = np.sqrt(gyro * (g * g)).astype(np.float32)
    return (gyro_rms + np.float32(accel_weight_dps_per_g) * accel_rms).astype(np.float32)


def detections(scores_q: np.ndarray, end_sample: np.ndarray, motion: np.ndarray | None,
               s: PostprocessSettings) -> np.ndarray:
    """``detected`` per window like ``ng::Postprocess::update`` on one take (from reset).

    scores_q: (k, label_count) int8 scores; end_sample: the sample count at each window's end
    (as the board counts them since the take began, first sample = 1); motion: window_motion
    per window (None: no measure, the gate stays open)."""
    return detections_of_top(*reported_top(scores_q, s), end_sample, motion, s)


def reported_top(scores_q: np.ndarray, s: PostprocessSettings) -> tuple[np.ndarray, np.ndarray]:
    """(label_index, score_q) per window as the board reports them in PREDICTION frames, from the
    int8 score rows ``(k, label_count)``: the top-1 (ties: the lower index, like the core), or the
    unknown label with its own score when the window is unknown (its top-1, or its score at least
    ``unknown_threshold``)."""
    scores_q = np.asarray(scores_q, dtype=np.int32).reshape(-1, s.label_count)
    top = scores_q.argmax(axis=1)
    top_q = scores_q[np.arange(len(top)), top]
    if s.unknown_index < 0:
        return top, top_q
    unknown_q = scores_q[:, s.unknown_index]
    unknown = top == s.unknown_index
    threshold = np.float32(s.unknown_threshold)
    if threshold <= np.float32(1.0):
        unknown |= dequantize(unknown_q, s) >= threshold
    return np.where(unknown, s.unknown_index, top), np.where(unknown, unknown_q, top_q)


def dequantize(q: np.ndarray, s: PostprocessSettings) -> np.ndarray:
    """``output_scale * (q - output_zero_point)`` in float32, as the core computes a score."""
    return np.float32(s.output_scale) * (np.asarray(q, dtype=np.int32) - s.output_zero_point).astype(np.float32)


def detections_of_top(top: np.ndarray, top_q: np.ndarray, end_sample: np.ndarray, motion: np.ndarray | None,
                      s: PostprocessSettings) -> np.ndarray:
    """``detections`` from what PREDICTION frames carry: each window's reported label and its int8
    score (``reported_top``). A window reported as the unknown label is not confident."""
    top = np.asarray(top, dtype=np.int64)
    top_q = np.asarray(top_q, dtype=np.int32)
    score = dequantize(top_q, s)
    gate = np.float32(s.motion_gate)
    still = (motion < gate) if (gate > 0 and motion is not None) else np.zeros(len(top), dtype=bool)
    agreement = max(1, s.agreement)
    threshold = np.float32(s.score_threshold)
    detected = np.zeros(len(top), dtype=bool)
    streak_label, streak, last = -1, 0, None
    for k in range(len(top)):
        label = int(top[k])
        if score[k] < threshold or still[k] or label == s.unknown_index:
            streak_label, streak = -1, 0
            continue
        if label == streak_label:
            streak = min(streak + 1, agreement)
        else:
            streak_label, streak = label, 1
        if label == s.idle_index or streak < agreement:
            continue
        end = int(end_sample[k])
        if last is not None and (end - last) % (1 << 32) < s.refractory_samples:
            continue
        detected[k], last, streak_label, streak = True, end, -1, 0
    return detected
