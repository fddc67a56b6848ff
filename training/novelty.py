"""The novelty gate: a window unlike every training window is reported unknown, from the default commands.

A window's statistics are whitened with the training windows' mean and covariance; the gate's distance
is the L1 norm of the result. By default the statistics are 8 of the accelerometer's and gyroscope's
vector lengths (max, min, mean and std over the window, in g and dps), which no way of wearing the board
changes (``lengths``); runs fitted before them have 24 of the normalized input (each channel's max, minus
its min, and the means of its positive and negative parts: ``window``). Above ``level`` the board reports the window as unknown, whatever
the model scored, and its post-processing never detects it. The level keeps ``keep_percent`` of the
gesture windows of people held out in turn, never the windows the whitening is fitted on: statistics are
far closer to the people they came from than to anyone new (docs/decisions.md, "The novelty gate").

The gate is fitted here in float and written into the contract (``novelty_gate``); the converter
carries it into the int8 input's whole numbers (converter/gate.py, the board's ng_gate exactly) and the
header. A window the gate rejects scores unknown on the board, so the model has an unknown label that
no training window carries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from contract.checks import GATE_STATISTICS
from contract.fields import NoveltyGate

# docs/decisions.md, "The gate of the vector lengths": at 99.5 % it costs new people half a point of
# labelled accuracy, and lets fewer other motions through than the window statistics' gate at 99 %
KEEP_PERCENT = 99.5
GROUPS = 3  # training people held out in turn
COVARIANCE_FLOOR = 1e-3


@dataclass(frozen=True)
class Gate:
    """Whitening ``w = a @ s + b`` of a window's statistics ``s`` and the level on ``sum(|w|)``."""

    a: np.ndarray  # (24, 24)
    b: np.ndarray  # (24,)
    level: float
    keep_percent: float
    held_out: dict  # how the level was chosen, for the contract
    statistics: str = "window"

    def description(self) -> dict:
        what = ("max, -min, means of the positive and negative parts" if self.statistics == "window" else
                "max, min, mean and std of the accelerometer's and the gyroscope's vector length")
        return {"statistics": self.statistics, "score": f"L1 norm of the whitened window statistics ({what})",
                "keep_percent": self.keep_percent, **self.held_out}


def gate_features(x_normalized: np.ndarray) -> np.ndarray:
    """(windows, 24): each channel's max, minus its min, and the means of its positive and negative parts."""
    x = np.asarray(x_normalized, dtype=np.float64)
    return np.concatenate([x.max(1), -x.min(1), np.maximum(x, 0).mean(1), np.maximum(-x, 0).mean(1)], axis=1)


def length_features(x_normalized: np.ndarray, mean, std) -> np.ndarray:
    """(windows, 8): the max, min, mean and std over the window of the accelerometer's and of the
    gyroscope's vector length, in the sensors' units (the normalization ``mean``, ``std`` undone): no turn
    of the board on the wrist changes them."""
    raw = np.asarray(x_normalized, dtype=np.float64) * np.asarray(std)[None, None, :] + np.asarray(mean)[None, None, :]
    out = []
    for sensor in (raw[..., :3], raw[..., 3:6]):
        n = np.sqrt((sensor ** 2).sum(-1))
        out += [n.max(1), n.min(1), n.mean(1), n.std(1)]
    return np.stack(out, axis=1)


STATISTICS = GATE_STATISTICS  # lengths: length_features; window: gate_features
STATISTICS_DEFAULT = "lengths"  # docs/decisions.md, "The gate of the vector lengths"


def statistics_of(statistics: str, normalization=None):
    """The function from normalized windows to the gate's statistics of that name (the lengths undo
    ``normalization``, the contract's)."""
    if statistics == "lengths":
        return lambda x: length_features(x, normalization.mean, normalization.std)
    return gate_features


def whitening(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) with ``a @ s + b`` of zero mean and identity covariance over ``features``."""
    mean, std = features.mean(0), features.std(0) + 1e-6
    z = (features - mean) / std
    cov = np.cov(z.T) + COVARIANCE_FLOOR * np.eye(z.shape[1])
    lower = np.linalg.cholesky(np.linalg.inv(cov))  # z' P z = |L' z|^2
    a = lower.T / std[None, :]
    return a, -a @ mean


def gate_distances(features: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(features @ a.T + b).sum(1)


def person_groups(subjects: list[str], groups: int, seed: int) -> list[list[str]]:
    """``subjects`` shuffled by ``seed`` and dealt into ``groups`` groups (at least 2; [] for one person)."""
    if len(subjects) < 2:
        return []
    order = [subjects[i] for i in np.random.default_rng(seed).permutation(len(subjects))]
    k = max(2, min(groups, len(subjects)))
    return [sorted(order[i::k]) for i in range(k)]


def fit_gate(windows_of, subjects: list[str], seed: int, keep_percent: float = KEEP_PERCENT,
             statistics: str = "window", normalization=None) -> Gate | None:
    """The gate on the ``statistics`` (statistics_of; ``normalization`` the windows', which the lengths undo)
    of the normalized gesture windows of ``subjects`` (``windows_of(list of subjects)``), its level from each
    group of them held out in turn; None with fewer than 2 people (nobody to hold out)."""
    features = statistics_of(statistics, normalization)
    groups = person_groups(sorted(subjects), GROUPS, seed)
    if not groups:
        return None
    held = []
    for group in groups:
        rest = [s for s in subjects if s not in group]
        a, b = whitening(features(windows_of(rest)))
        held.append(gate_distances(features(windows_of(group)), a, b))
    pooled = np.concatenate(held)
    a, b = whitening(features(windows_of(list(subjects))))
    return Gate(a, b, float(np.percentile(pooled, keep_percent)), float(keep_percent),
                {"held_out_groups": groups, "held_out_windows": int(len(pooled))}, statistics)


def gesture_takes(takes, contract):
    """The takes of the taught gestures (not idle, not unknown)."""
    other = {contract.idle_label, contract.unknown_label}
    return [t for t in takes if t.meta.label not in other]


def subject_windows(takes, contract):
    """``windows_of(subjects)``: the normalized windows of those people's takes, as the board's gate reads
    them (a step model's, the samples its steps read: contract.input.gate_window)."""
    from contract.input import gate_window, normalize
    from training.data import windows_for

    def windows_of(subjects):
        x, _ = windows_for([t for t in takes if t.meta.subject in set(subjects)], contract)
        return gate_window(normalize(x, contract), contract)

    return windows_of


def contract_gate(takes, contract, seed: int, keep_percent: float = KEEP_PERCENT,
                  statistics: str = STATISTICS_DEFAULT) -> NoveltyGate | None:
    """The contract's novelty gate from the gesture takes a model trained on; None for fewer than 2 people."""
    takes = gesture_takes(takes, contract)
    gate = fit_gate(subject_windows(takes, contract), sorted({t.meta.subject for t in takes}), seed, keep_percent,
                    statistics, contract.normalization)
    if gate is None:
        return None
    return NoveltyGate(tuple(tuple(float(v) for v in row) for row in gate.a), tuple(float(v) for v in gate.b),
                       float(gate.level), gate.description())


def window_distances(gate: NoveltyGate, x_normalized: np.ndarray, normalization) -> np.ndarray:
    """The float distance of each normalized window under the contract's gate (``normalization``: the
    contract's, which the vector lengths undo)."""
    f = statistics_of(gate.statistics, normalization)(x_normalized)
    return gate_distances(f, np.asarray(gate.weights), np.asarray(gate.bias))


def gate_kept(gate: NoveltyGate, x_normalized: np.ndarray, normalization) -> np.ndarray:
    """Which windows the float gate lets through to the classifier."""
    return window_distances(gate, x_normalized, normalization) <= gate.level


def gate_metrics(model, gate: NoveltyGate, x_test_normalized: np.ndarray, y_test: np.ndarray, normalization,
                 x_gate: np.ndarray | None = None) -> dict:
    """The test windows the gate keeps, and the accuracy when a window it rejects counts as wrong (``x_gate``:
    the windows as the gate reads them, contract.input.gate_window; None: the model's)."""
    if len(x_test_normalized) == 0:
        return {}
    kept = gate_kept(gate, x_test_normalized if x_gate is None else x_gate, normalization)
    right = model.predict(x_test_normalized, verbose=0, batch_size=512).argmax(1) == y_test
    return {"test_windows_kept": round(float(kept.mean()), 4), "accuracy_gated": round(float((right & kept).mean()), 4),
            "accuracy_of_kept": round(float(right[kept].mean()), 4) if kept.any() else None}


def widened_gate(gate: NoveltyGate | None, x_person_normalized: np.ndarray, normalization) -> NoveltyGate | None:
    """The gate for a run adapted to one person (training/adapt.py): its level raised, when needed, so it
    keeps the gate's share of that person's windows, who is no stranger once adapted to; None when it
    already does (or there is no gate or no window)."""
    if gate is None or len(x_person_normalized) == 0:
        return None
    d = window_distances(gate, x_person_normalized, normalization)
    level = float(np.percentile(d, gate.record.get("keep_percent", KEEP_PERCENT)))
    if level <= gate.level:
        return None
    record = {**gate.record, "widened_for_adapting": {"level_before": gate.level,
                                                      "person_windows_kept_before": round(float((d <= gate.level).mean()), 4)}}
    return NoveltyGate(gate.weights, gate.bias, level, record)
