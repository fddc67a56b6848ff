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

``settings_from_contract`` reads the post-processing keys of a contract.json (``agreement``,
``refractory_s``, ``motion_gate``, ``unknown_label``, ``unknown_threshold``); a contract written
before they existed gets the documented defaults (``contract.pipeline.DEFAULT_*``, no unknown
label), as does the firmware for a header without them (``ng_model_defaults.h``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from contract.pipeline import (CONTRACT_VERSION, DEFAULT_AGREEMENT, DEFAULT_MOTION_GATE, DEFAULT_REFRACTORY_S,
                               UNKNOWN_THRESHOLD_OFF)
from converter import ConverterError

MOTION_MEASURE = "gyro_rms_dps+weight*accel_rms_g"


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


def contract_postprocess(contract: dict, where: str = "contract.json") -> tuple[int, float, float, float]:
    """(agreement, refractory_s, motion_gate threshold or 0, accel weight) of a contract dict,
    with the documented defaults for missing keys; ConverterError naming the bad key."""
    agreement = contract.get("agreement", DEFAULT_AGREEMENT)
    refractory_s = contract.get("refractory_s", DEFAULT_REFRACTORY_S)
    gate = contract["motion_gate"] if "motion_gate" in contract else DEFAULT_MOTION_GATE
    if not isinstance(agreement, int) or isinstance(agreement, bool) or not 1 <= agreement <= 1000:
        raise ConverterError(f"{where}: agreement must be a whole number of windows from 1 to 1000, got {agreement!r}")
    if not isinstance(refractory_s, (int, float)) or isinstance(refractory_s, bool) or not 0 <= refractory_s <= 3600:
        raise ConverterError(f"{where}: refractory_s must be seconds from 0 to 3600, got {refractory_s!r}")
    if gate is None:
        return agreement, float(refractory_s), 0.0, float(DEFAULT_MOTION_GATE["accel_weight_dps_per_g"])
    if not isinstance(gate, dict) or gate.get("measure") != MOTION_MEASURE:
        raise ConverterError(f"{where}: motion_gate must be null or {{\"measure\": \"{MOTION_MEASURE}\", "
                             f"\"accel_weight_dps_per_g\": W, \"threshold\": T}}, got {gate!r}")
    try:
        weight, threshold = float(gate["accel_weight_dps_per_g"]), float(gate["threshold"])
    except (KeyError, TypeError, ValueError):
        raise ConverterError(f"{where}: motion_gate needs numbers accel_weight_dps_per_g and threshold, got {gate!r}") from None
    if not (weight >= 0 and threshold >= 0 and np.isfinite(weight) and np.isfinite(threshold)):
        raise ConverterError(f"{where}: motion_gate's accel_weight_dps_per_g and threshold must be finite and >= 0")
    return agreement, float(refractory_s), threshold, weight


def contract_version(contract: dict, where: str = "contract.json") -> int:
    """The contract's version: 1 when it has none (written before versions were checked); a version
    newer than this code reads is refused by name."""
    version = contract.get("contract_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ConverterError(f"{where}: contract_version must be a whole number from 1, got {version!r}")
    if version > CONTRACT_VERSION:
        raise ConverterError(f"{where}: contract_version {version} is newer than this nanogest reads (up to "
                             f"{CONTRACT_VERSION}); update nanogest, or train the run again with this one")
    return version


def version_note(contract: dict, where: str = "contract.json") -> str | None:
    """The one line saying a contract is read with older behaviour, or None for a current one."""
    if contract_version(contract, where) >= 2:
        return None
    return (f"{where} is version 1 (before the unknown class): read with no unknown label; "
            "retrain with `nanogest fit` to get one")


def contract_unknown(contract: dict, where: str = "contract.json") -> tuple[str | None, float | None]:
    """(unknown_label or None, unknown_threshold or None) of a contract dict. A version-1 contract has
    neither, whatever it holds; ConverterError naming the bad key. The threshold's range depends on
    the model's output (``settings_from_contract`` checks it)."""
    if contract_version(contract, where) < 2:
        return None, None
    label, threshold = contract.get("unknown_label"), contract.get("unknown_threshold")
    labels = list(contract["labels"])
    if label is not None:
        if not isinstance(label, str) or label not in labels:
            raise ConverterError(f"{where}: unknown_label must be null or one of the labels {labels}, got {label!r}")
        if label == contract.get("idle_label"):
            raise ConverterError(f"{where}: unknown_label {label!r} is the idle label; they must be different labels")
    if threshold is not None:
        if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) or not np.isfinite(threshold):
            raise ConverterError(f"{where}: unknown_threshold must be null or a number, got {threshold!r}")
        if label is None:
            raise ConverterError(f"{where}: unknown_threshold is {threshold!r} but unknown_label is null; "
                                 "a threshold needs the unknown label it applies to")
        threshold = float(threshold)
    return label, threshold


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


def settings_from_contract(contract: dict, output_q: tuple[float, int], where: str = "contract.json") -> PostprocessSettings:
    """The board's post-processing settings for a contract dict and the model's output quantization."""
    labels = list(contract["labels"])
    idle = contract.get("idle_label")
    agreement, refractory_s, gate, weight = contract_postprocess(contract, where)
    unknown, unknown_threshold = contract_unknown(contract, where)
    low, high = output_range(output_q)
    check_threshold("score_threshold", contract["score_threshold"], low, high, where)
    if unknown_threshold is not None:  # above 1 means off on the board: probabilities never reach it
        check_threshold("unknown_threshold", unknown_threshold, low, min(high, 1.0), where)
    return PostprocessSettings(
        label_count=len(labels), idle_index=labels.index(idle) if idle is not None else -1,
        score_threshold=float(contract["score_threshold"]), output_scale=float(output_q[0]),
        output_zero_point=int(output_q[1]), agreement=agreement,
        refractory_samples=refractory_samples(float(contract["rate_hz"]), refractory_s),
        motion_gate=gate, motion_accel_weight=weight,
        unknown_index=labels.index(unknown) if unknown is not None else -1,
        unknown_threshold=UNKNOWN_THRESHOLD_OFF if unknown_threshold is None else unknown_threshold)


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
