"""Confirming the search's best before choosing: the top trials scored again with other seeds.

A trial's score is the mean int8 accuracy over a few folds of people dealt with ONE seed; with
few people that number is noisy (a candidate can top the folds and lose on the next split). So
before ``search`` chooses, the ``--confirm K`` most accurate finished trials that fit the budgets,
and fit's default model when the study has it (``--baseline``), are trained and scored again
exactly as a trial is (search/trial.py ``fold_reports``) with each of ``--confirm-seeds`` further
seeds: a new seed deals the people into other folds (``training.split.cv_folds``) and draws other
weights and augmentation. The choice is the best mean over all of a candidate's scorings (the
search's own counts as one).

A candidate that the converter refuses, or that fails to train or convert, in any of its
scorings is not chosen (a refusal is a trial's infeasibility too); its row says why.

Every scoring is kept in the study's storage as soon as it ends (a study user attribute
``confirm:TRIAL:SEED`` holding the trial's parameters and the score), so the same command again,
from any machine on the same storage, reuses it instead of training again, and Ctrl-C loses only
the scoring that was running.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import sys
import time

import numpy as np

from converter import ConverterError
from search.space import describe
from search.trial import Budgets, fits, fold_reports
from training import TrainingError

DEFAULT_CONFIRM = 3  # trials confirmed (plus fit's default model when the study has it)
DEFAULT_CONFIRM_SEEDS = 1  # further seeds per confirmed trial
NOISE_SE = 2.0  # 'within noise': the difference of two means is at most this many standard errors
LIGHTER_FACTOR = 2.0  # lighter_note: at least this many times smaller or faster than the pick
LIGHTER_MAX_LOSS = 0.02  # lighter_note: at most this much below the pick's confirmed mean (and within noise)
ATTR_PREFIX = "confirm:"


def confirm_seeds(study_seed: int, n: int) -> list[int]:
    """The seeds of the confirmation: the ``n`` after the study's own."""
    return [int(study_seed) + 1 + i for i in range(n)]


def candidates(done: list, budgets: Budgets, k: int) -> list:
    """The ``k`` most accurate finished trials that fit (by the search's score; ties: smaller, faster,
    earlier) other than fit's default model, then the default (a ``--baseline`` trial) when the study
    has it: the default never takes a candidate's place."""
    ok = sorted((t for t in done if fits(t.user_attrs, budgets) and not t.user_attrs.get("baseline")),
                key=lambda t: (-t.user_attrs["accuracy_int8"], t.user_attrs["model_bytes"],
                               t.user_attrs["latency_ms"], t.number))
    base = [t for t in done if t.user_attrs.get("baseline")][:1]
    return ok[:k] + base


def real_scorer(takes, folds: int, log):
    """The scorer the command uses: ``params`` trained and converted on ``folds`` folds dealt with
    ``seed``, as a trial is; returns the mean int8 and float accuracy and each fold's."""
    from training.split import cv_folds

    def score(params: dict, seed: int, tag: str) -> dict:
        kind, dealt = cv_folds(takes, folds, seed=seed)
        accs, accs_float, refused = [], [], None
        with contextlib.closing(fold_reports(takes, params, kind, dealt, seed, log, tag)) as reports:
            for _, report, why, _ in reports:
                accs.append(float(report["accuracy_int8"]))
                accs_float.append(float(report["accuracy_float"]))
                refused = refused or why
        return {"accuracy_int8": float(np.mean(accs)), "accuracy_float": float(np.mean(accs_float)),
                "fold_accuracy_int8": accs, "test_groups": dealt, "converter_refused": refused}

    return score


def _key(number: int, seed: int) -> str:
    return f"{ATTR_PREFIX}{number}:{seed}"


def stored_scorings(study, trial, seeds: list[int]) -> dict[int, dict]:
    """The confirmation scorings of ``trial`` already in the storage, by seed (only those of the
    trial's own parameters: a trial number reused in another study cannot pass for it)."""
    attrs = study.user_attrs
    out = {}
    for seed in seeds:
        s = attrs.get(_key(trial.number, seed))
        if s and s.get("params") == dict(trial.params):
            out[seed] = s
    return out


def _stderr_of(values: list[float]) -> float:
    if len(values) < 2:
        return float("nan")
    return float(np.std(values, ddof=1) / math.sqrt(len(values)))


def not_chosen_because(scorings: dict[int, dict]) -> str | None:
    """Why a candidate cannot be chosen after its confirmation scorings (the first seed's reason), else None."""
    for seed in sorted(scorings):
        s = scorings[seed]
        if s.get("failed"):
            return f"seed {seed} failed: {s['failed']}"
        if s.get("converter_refused"):
            return f"the converter refused seed {seed}'s model: {s['converter_refused']}"
    return None


def summary_of(trial, scorings: dict[int, dict]) -> dict:
    """One candidate: the search's score, each seed's, the mean over all scorings and its standard
    error (over the folds of every scoring: held-out people and seeds both vary), and why it cannot
    be chosen (``not_chosen``: a scoring failed or was refused) or None. A failed scoring has no score."""
    a = trial.user_attrs
    scored = [s for s in sorted(scorings) if scorings[s].get("accuracy_int8") is not None]
    scores = [float(a["accuracy_int8"])] + [float(scorings[s]["accuracy_int8"]) for s in scored]
    folds = list(a.get("fold_accuracy_int8") or [a["accuracy_int8"]])
    for s in scored:
        folds += list(scorings[s].get("fold_accuracy_int8") or [scorings[s]["accuracy_int8"]])
    return {"trial": trial.number, "search_accuracy_int8": round(float(a["accuracy_int8"]), 4),
            "confirm_accuracy_int8": {str(s): round(float(scorings[s]["accuracy_int8"]), 4) for s in scored},
            "confirmed_accuracy_int8": round(float(np.mean(scores)), 4), "scorings": len(scores),
            "confirmed_stderr": round(_stderr_of(folds), 4) if len(folds) > 1 else None,
            "baseline": bool(a.get("baseline")), "not_chosen": not_chosen_because(scorings)}


def confirm(study, budgets: Budgets, k: int, seeds: list[int], scorer, stderr=None) -> tuple[dict[int, dict], int]:
    """Score the candidates (``candidates``) with every seed of ``seeds`` that the storage does not hold
    yet, storing each scoring as it ends. ``scorer(params, seed, tag)`` returns a scoring (``real_scorer``).
    Returns ``summary_of`` each candidate by trial number, and how many scorings this call trained."""
    from search.report import finished

    stderr = stderr or sys.stderr
    todo = candidates(finished(study), budgets, k) if k > 0 else []
    total = len(todo) * len(seeds)
    n, scored_here, out = 0, 0, {}
    for trial in todo:
        have = stored_scorings(study, trial, seeds)
        for seed in seeds:
            n += 1
            head = f"confirm {n}/{total}: trial {trial.number} seed {seed}"
            if seed in have:
                stored = ("failed" if have[seed].get("accuracy_int8") is None
                          else f"int8 {have[seed]['accuracy_int8']:.3f}")
                print(f"{head}: {stored} (stored)", file=stderr, flush=True)
                continue
            print(f"{head} ({describe(trial.params)}) ...", file=stderr, flush=True)
            started = time.monotonic()
            try:
                result = scorer(dict(trial.params), seed, f"confirm trial {trial.number} seed {seed}")
            except (TrainingError, ConverterError) as e:  # this candidate only: the others are still confirmed
                result = {"accuracy_int8": None, "failed": str(e).splitlines()[0] if str(e) else type(e).__name__}
            record = {**result, "params": dict(trial.params), "seed": seed, "seconds": round(time.monotonic() - started, 1),
                      "worker": f"{socket.gethostname()}:{os.getpid()}"}
            study.set_user_attr(_key(trial.number, seed), record)  # kept at once: Ctrl-C loses only the next
            have[seed] = record
            scored_here += 1
            if result.get("failed"):
                print(f"{head}: failed, so trial {trial.number} is not chosen: {result['failed']}", file=stderr, flush=True)
                continue
            folds = ", ".join(f"{x:.2f}" for x in result.get("fold_accuracy_int8", []))
            refused = (f"; the converter refused it, so trial {trial.number} is not chosen: {result['converter_refused']}"
                       if result.get("converter_refused") else "")
            print(f"{head}: int8 {result['accuracy_int8']:.3f} (folds {folds}), {record['seconds']:.0f} s "
                  f"(search's seed: {trial.user_attrs['accuracy_int8']:.3f}){refused}", file=stderr, flush=True)
        out[trial.number] = summary_of(trial, have)
    return out, scored_here


def pick(done: list, budgets: Budgets, confirmed: dict[int, dict]):
    """The confirmed trial that fits, none of whose scorings failed or was refused, with the best mean
    over its scorings (ties: smaller, faster, earlier); None when no such trial was confirmed."""
    by_number = {t.number: t for t in done}
    ok = [by_number[n] for n in confirmed if n in by_number and fits(by_number[n].user_attrs, budgets)
          and not confirmed[n].get("not_chosen")]
    if not ok:
        return None
    return min(ok, key=lambda t: (-confirmed[t.number]["confirmed_accuracy_int8"], t.user_attrs["model_bytes"],
                                  t.user_attrs["latency_ms"], t.number))


def noise_note(chosen, confirmed: dict[int, dict], done: list) -> str | None:
    """A ``note:`` sentence on the chosen trial against fit's default model, when the study has it."""
    base = next((t for t in done if t.user_attrs.get("baseline") and t.number in confirmed), None)
    if base is None or chosen is None or chosen.number not in confirmed:
        return None
    c, b = confirmed[chosen.number], confirmed[base.number]
    if chosen.number == base.number:
        return (f"note: fit's default model (trial {base.number}) is the most accurate after confirmation "
                f"({b['confirmed_accuracy_int8']:.3f} int8 over {b['scorings']} scorings): no candidate beat it")
    gap, noise = c["confirmed_accuracy_int8"] - b["confirmed_accuracy_int8"], noise_of(c, b)
    if gap <= noise:
        return (f"note: fit's default model (trial {base.number}, {b['confirmed_accuracy_int8']:.3f} int8 over "
                f"{b['scorings']} scorings) is within noise of trial {chosen.number} ({c['confirmed_accuracy_int8']:.3f} "
                f"over {c['scorings']}): {gap:+.3f}, while {NOISE_SE:g} standard errors are {noise:.3f}; the chosen run is "
                f"not shown to be more accurate than the default (it is {base.user_attrs['model_bytes'] / chosen.user_attrs['model_bytes']:.1f}x "
                f"smaller, {base.user_attrs['latency_ms'] / chosen.user_attrs['latency_ms']:.1f}x faster); "
                f"'--pick {base.number}' builds the default")
    return None


def noise_of(a: dict, b: dict) -> float:
    """``NOISE_SE`` standard errors of the difference of two confirmed means (``summary_of`` rows): the
    gap within which they are 'within noise'."""
    ses = [x for x in (a["confirmed_stderr"], b["confirmed_stderr"]) if x is not None and not math.isnan(x)]
    return NOISE_SE * math.sqrt(sum(x * x for x in ses)) if ses else 0.0


def lighter_note(chosen, confirmed: dict[int, dict], done: list, budgets: Budgets) -> str | None:
    """A ``note:`` naming the fastest confirmed trial that fits, within noise of the chosen one's mean and
    at most ``LIGHTER_MAX_LOSS`` below it, no larger or slower than it and at least ``LIGHTER_FACTOR``
    times smaller or faster, else None: the pick is the best mean, and a user may rather have the same
    accuracy in a fraction of the board."""
    if chosen is None or chosen.number not in confirmed:
        return None
    c, a = confirmed[chosen.number], chosen.user_attrs
    lighter = []
    for t in done:
        d = confirmed.get(t.number)
        if d is None or t.number == chosen.number or d.get("not_chosen") or not fits(t.user_attrs, budgets):
            continue
        b = t.user_attrs
        if b["model_bytes"] > a["model_bytes"] or b["latency_ms"] > a["latency_ms"]:
            continue
        if max(a["model_bytes"] / b["model_bytes"], a["latency_ms"] / b["latency_ms"]) < LIGHTER_FACTOR:
            continue
        gap = c["confirmed_accuracy_int8"] - d["confirmed_accuracy_int8"]
        if gap <= noise_of(c, d) and gap <= LIGHTER_MAX_LOSS:
            lighter.append(t)
    if not lighter:
        return None
    t = min(lighter, key=lambda t: (t.user_attrs["latency_ms"], t.user_attrs["model_bytes"],
                                    -confirmed[t.number]["confirmed_accuracy_int8"], t.number))
    d, b = confirmed[t.number], t.user_attrs
    return (f"note: trial {t.number} ({describe(t.params)}{', fit' + chr(39) + 's default' if d['baseline'] else ''}) "
            f"is within noise of the pick ({d['confirmed_accuracy_int8']:.3f} against {c['confirmed_accuracy_int8']:.3f} "
            f"int8, 2 standard errors {noise_of(c, d):.3f}) and {a['model_bytes'] / b['model_bytes']:.1f}x smaller, "
            f"{a['latency_ms'] / b['latency_ms']:.1f}x faster ({b['model_bytes']:,} B, {b['latency_ms']:.2f} ms); "
            f"'--pick {t.number}' builds it")
