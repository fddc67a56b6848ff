"""When the converter refuses an int8 model: the accuracy rule and the kernel rule, stated once.

Accuracy. Quantization changes the label of a few windows near a decision boundary; on a few
dozen test windows one such window is 1-2 points of accuracy, which says nothing about the model.
So the rule is judged on the windows that change label, with their count in mind:

- *lost*: windows the float model gets right and the int8 model gets wrong. Refused when, with
  99 % confidence (exact one-sided binomial bound), the int8 model loses more than ``max_drop``
  points of windows this way: P(X >= lost | X ~ Binomial(n, max_drop / 100)) < 0.01.
- *changed*: windows whose top-1 label differs between float and int8 (right or wrong). Refused
  when, with 99 % confidence, top-1 agreement is below ``min_agreement``.

On thousands of windows the first rule tends to "refuse a drop of more than max_drop points";
on 43 windows it passes 1-2 lost windows and refuses 3 or more, and a broken model (most labels
changing) is refused at any size.

Kernels. See ``KERNEL_RULE``: every operator whose inputs are identical in TFLM and the TFLite
reference kernels must agree within --max-lsb; what that rounding grows to downstream is reported.
"""

from __future__ import annotations

import math

import numpy as np

CONFIDENCE = 0.99
DEFAULT_MAX_DROP_POINTS = 1.0
DEFAULT_MIN_AGREEMENT = 0.95
DEFAULT_MAX_LSB = 1

ACCURACY_RULE = (
    f"refuse when, with {100 * CONFIDENCE:g} % confidence (exact binomial bound on the test windows), int8 loses more "
    "than --max-drop points of windows the float model gets right, or top-1 agreement between float and int8 is "
    "below --min-agreement")
KERNEL_RULE = (
    "every operator whose inputs are identical in TFLM and the TFLite reference kernels must give outputs within "
    "--max-lsb; the differences those roundings grow to downstream (model outputs) are reported, not gated")


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), exact (log-space sum)."""
    if k <= 0:
        return 1.0
    if k > n or p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    lp, lq = math.log(p), math.log1p(-p)
    terms = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * lp + (n - i) * lq
             for i in range(k, n + 1)]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


def rate_lower_bound(k: int, n: int, confidence: float = CONFIDENCE) -> float:
    """One-sided lower confidence bound of a rate seen k times in n (Clopper-Pearson)."""
    if k <= 0 or n <= 0:
        return 0.0
    lo, hi = 0.0, k / n
    for _ in range(60):  # the tail grows with p: find p where P(X >= k | p) = 1 - confidence
        mid = (lo + hi) / 2
        if binomial_tail(k, n, mid) < 1.0 - confidence:
            lo = mid
        else:
            hi = mid
    return lo


def accuracy_verdict(y: np.ndarray, pred_float: np.ndarray, pred_int8: np.ndarray,
                     max_drop_points: float = DEFAULT_MAX_DROP_POINTS,
                     min_agreement: float = DEFAULT_MIN_AGREEMENT) -> dict:
    """The accuracy rule on one set of test windows: counts, bounds and the reasons to refuse (if any)."""
    n = int(len(y))
    float_right, int8_right = pred_float == y, pred_int8 == y
    lost = int(np.sum(float_right & ~int8_right))
    gained = int(np.sum(~float_right & int8_right))
    changed = int(np.sum(pred_float != pred_int8))
    lost_bound = rate_lower_bound(lost, n)
    changed_bound = rate_lower_bound(changed, n)
    reasons = []
    if n and (lost_bound > max_drop_points / 100.0 or max_drop_points < 0):
        reasons.append(
            f"int8 gets {lost} of {n} test windows wrong that float gets right ({gained} the other way): with "
            f"{100 * CONFIDENCE:g} % confidence it loses at least {100 * lost_bound:.1f} points, more than the "
            f"allowed --max-drop {max_drop_points:g} points")
    if n and 1.0 - changed_bound < min_agreement:
        reasons.append(
            f"int8 and float disagree on the label of {changed} of {n} test windows: with {100 * CONFIDENCE:g} % "
            f"confidence top-1 agreement is at most {100 * (1 - changed_bound):.1f}%, below --min-agreement "
            f"{100 * min_agreement:g}%")
    return {
        "rule": ACCURACY_RULE,
        "n_test": n,
        "windows_lost": lost,
        "windows_gained": gained,
        "windows_changed": changed,
        "lost_points_lower_bound": round(100 * lost_bound, 3),
        "top1_agreement_upper_bound": round(1 - changed_bound, 5),
        "max_drop_points": max_drop_points,
        "min_agreement": min_agreement,
        "confidence": CONFIDENCE,
        "refused": reasons,
    }
