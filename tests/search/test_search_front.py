"""The search's bookkeeping without training: budgets as constraints, the front, the choice,
pruning by dominance, and fit's default model as a point of the space."""

from __future__ import annotations

import optuna
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState, create_trial

from training import TrainingError
from training.fit import FitOptions
from search.report import best_fitting, pareto_front, smallest_seen
from search.space import Space, baseline_params, fit_options
from search.trial import PRUNE_MARGIN, Budgets, dominated_by


def _trial(number, acc, model_bytes, ram_bytes, latency_ms, refused=None, state=TrialState.COMPLETE):
    attrs = {"accuracy_int8": acc, "accuracy_float": acc, "model_bytes": model_bytes, "arena_bytes": ram_bytes,
             "ram_bytes": ram_bytes, "latency_ms": latency_ms, "folds_run": 3, "folds": 3,
             "converter_refused": refused}
    t = create_trial(state=state, values=[acc, model_bytes, latency_ms] if state == TrialState.COMPLETE else None,
                     params={"arch": "conv1d"}, distributions={"arch": CategoricalDistribution(["conv1d"])},
                     user_attrs=attrs)
    t.number = number
    return t


TRIALS = [
    _trial(0, 0.95, 13_000, 7_000, 18.0),   # the accurate one
    _trial(1, 0.90, 6_000, 5_000, 1.0),     # small and fast
    _trial(2, 0.85, 9_000, 6_000, 5.0),     # dominated by 1
    _trial(3, 0.97, 40_000, 20_000, 30.0),  # most accurate, over a 16 KB budget
    _trial(4, 0.99, 5_000, 4_000, 0.5, refused="int8 loses windows"),  # refused by the converter
]


def test_budgets_are_constraints_and_refusals_are_infeasible():
    b = Budgets(flash_kb=16, arena_kb=10, latency_ms=20)
    assert all(v <= 0 for v in b.constraints(TRIALS[0].user_attrs))
    assert b.constraints(TRIALS[3].user_attrs)[0] > 0 and b.constraints(TRIALS[3].user_attrs)[1] > 0
    assert b.constraints(TRIALS[3].user_attrs)[2] > 0  # 30 ms > 20 ms
    assert b.constraints(TRIALS[4].user_attrs)[3] > 0
    assert "model 40,000 B > --flash-kb 16" in b.violations(TRIALS[3].user_attrs)[0]


def test_front_and_choice_respect_the_budgets():
    wide = Budgets(flash_kb=704, arena_kb=160)
    assert [t.number for t in pareto_front(TRIALS, wide)] == [1, 0, 3]
    assert best_fitting(TRIALS, wide).number == 3
    small = Budgets(flash_kb=16, arena_kb=10)
    assert [t.number for t in pareto_front(TRIALS, small)] == [1, 0]
    assert best_fitting(TRIALS, small).number == 0
    assert best_fitting(TRIALS, Budgets(flash_kb=4, arena_kb=4)) is None
    assert smallest_seen(TRIALS).number == 4  # infeasible ones count as seen


def test_a_trial_is_pruned_only_by_a_fitting_smaller_faster_and_clearly_better_one():
    b = Budgets(flash_kb=704, arena_kb=160)
    assert dominated_by(TRIALS, 0.90 - PRUNE_MARGIN - 0.01, 7_000, 2.0, b).number == 1
    assert dominated_by(TRIALS, 0.90 - PRUNE_MARGIN + 0.01, 7_000, 2.0, b) is None  # not far enough behind
    assert dominated_by(TRIALS, 0.10, 4_000, 0.2, b) is None  # smaller than every fitting trial: may be on the front


def test_baseline_is_fits_default_model():
    space = Space()
    o = fit_options(baseline_params(space))
    d = FitOptions()
    for field in ("arch", "width", "epochs", "learning_rate", "copies_per_epoch", "window_seconds", "hop_seconds",
                  "augment"):
        assert getattr(o, field) == getattr(d, field), field
    with pytest.raises(TrainingError, match="outside the searched"):
        baseline_params(Space(widths=[4, 8]))


def test_every_suggested_point_becomes_valid_fit_options():
    from training.fit import check_options

    space = Space()
    study = optuna.create_study(directions=["maximize", "minimize", "minimize"],
                                sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(40):
        trial = study.ask()
        check_options(fit_options(space.suggest(trial)))
        study.tell(trial, state=TrialState.PRUNED)
    archs = {t.params["arch"] for t in study.trials}
    assert archs == set(space.archs)
