"""The search's bookkeeping without training: budgets as constraints, the front, the choice,
pruning by dominance, and fit's default model as a point of the space."""

from __future__ import annotations

import optuna
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState, create_trial

from training import TrainingError
from training.fit import FitOptions, learning_rate_for, width_for
from search.report import best_fitting, pareto_front, smallest_seen
from search.space import Space, baseline_params, describe, fit_options
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
    for field in ("arch", "epochs", "copies_per_epoch", "window_seconds", "hop_seconds", "augment"):
        assert getattr(o, field) == getattr(d, field), field
    assert o.width == width_for(d) == 8  # the family's width, asked for explicitly
    assert learning_rate_for(o) == learning_rate_for(d)  # fit's default: the arch's learning rate
    with pytest.raises(TrainingError, match="outside the searched"):
        baseline_params(Space(widths=[4, 6]))


def test_a_new_study_starts_from_fits_default_with_fewer_filters_where_the_space_holds_them():
    from search.space import starting_points

    d = FitOptions()
    points = starting_points(Space(widths=[2, 4, 8, 16], rates_hz=[119.0, 60.0]), 119.0)
    assert [p["width"] for p in points] == [width_for(d) // 2, width_for(d) // 4]
    for p in points:  # the default in every other respect, at its family's rate (under the dataset's)
        o = fit_options(p)
        assert (o.arch, o.epochs, o.window_seconds, o.hop_seconds, o.augment, p["rate_hz"]) == \
            (d.arch, d.epochs, d.window_seconds, d.hop_seconds, d.augment, 60.0)
        assert learning_rate_for(o) == learning_rate_for(d)
    assert [p["width"] for p in starting_points(Space(widths=[4, 6]))] == [4]  # only those the space holds
    assert starting_points(Space(min_epochs=5, max_epochs=10)) == []  # the default's 40 epochs are outside
    assert starting_points(Space(archs=["gru"])) == []


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


def test_the_space_draws_rates_at_and_below_the_datasets_rate():
    from search.space import RATE_FRACTIONS, parse_rates, rate_choices
    from training.families import FAMILIES

    for data_rate in (119.0, 100.0):
        rates = rate_choices(data_rate)
        assert rates[0] == data_rate and all(r < data_rate for r in rates[1:])
        own = {float(f.rate_hz) for f in FAMILIES.values() if f.rate_hz is not None and f.rate_hz < data_rate}
        assert rates[1:] == sorted({float(round(data_rate * f)) for f in RATE_FRACTIONS[1:]} | own, reverse=True)
        assert 60.0 in rates  # fit's default conv1d runs there, so the space holds it
    space = Space(rates_hz=rate_choices(119.0))
    assert Space.from_dict(space.to_dict()) == space  # every worker searches the same rates
    study = optuna.create_study(directions=["maximize", "minimize", "minimize"],
                                sampler=optuna.samplers.RandomSampler(seed=1))
    drawn = set()
    for _ in range(40):
        trial = study.ask()
        params = space.suggest(trial)
        assert fit_options(params).rate_hz == params["rate_hz"]
        assert f"{params['rate_hz']:g} Hz" in describe(params)
        drawn.add(params["rate_hz"])
        study.tell(trial, state=TrialState.PRUNED)
    assert drawn == set(space.rates_hz)
    assert parse_rates("full,50", 119.0) == [119.0, 50.0]
    with pytest.raises(TrainingError, match="outside 10..119 Hz"):
        parse_rates("120", 119.0)
    assert baseline_params(space, 119.0)["rate_hz"] == 60.0  # fit's default runs at conv1d's own rate
    assert baseline_params(Space(rates_hz=rate_choices(50.0)), 50.0)["rate_hz"] == 50.0  # never above the dataset's
    with pytest.raises(TrainingError, match="outside the searched rates"):
        baseline_params(Space(rates_hz=[119.0]), 119.0)


def test_a_window_too_short_for_a_cnn_gru_front_is_named_not_trained():
    from search.space import too_short

    point = {"arch": "cnn-gru", "kernel": 7, "front_layers": 3}
    assert too_short(point, 89) is None  # 0.75 s at 119 Hz: 89 -> 41 -> 17 -> 5 steps
    assert "too short" in too_short(point, 30)  # 0.75 s at 40 Hz: 30 -> 12 -> 3, too few for kernel 7
    assert too_short({"arch": "conv1d"}, 30) is None


@pytest.mark.parametrize("arch", ["conv1d", "gru"])
def test_a_point_without_sizes_gets_the_family_own(arch):
    from training.fit import FitOptions
    from training.recipe import width_for

    o = fit_options({"arch": arch, "epochs": 3, "learning_rate": 0.003, "window_s": 1.0, "hop_s": 0.25})
    assert width_for(o) == width_for(FitOptions(arch=arch))
    assert o.gru_units == FitOptions(arch=arch).gru_units
