"""The confirmation before the choice (search/confirm.py) without training: finished trials are
injected into a real SQLite study with chosen scores, and the scorer is a counting stand-in with
chosen results, so the test can say which trial the confirmed mean must pick. The real scorer (fit's
training and the real converter on new folds) runs end to end in tests/search/test_search.py."""

from __future__ import annotations

import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState, create_trial

from search.confirm import candidates, confirm, noise_note, pick, stored_scorings
from search.report import best_fitting, confirm_table, finished, front_table, pareto_front
from search.trial import Budgets

BUDGETS = Budgets(flash_kb=16, arena_kb=10)


def _add(study, acc: float, folds: list[float], model_bytes: int, width: int, baseline=False):
    params = {"arch": "conv1d", "width": width, "window_s": 1.0, "hop_s": 0.25, "augment": "none",
              "learning_rate": 0.003, "epochs": 20}
    dists = {k: CategoricalDistribution([v]) for k, v in params.items()}
    dists["width"] = CategoricalDistribution([4, 6, 8, 16, 24, 99])
    dists["learning_rate"] = FloatDistribution(1e-3, 1e-2, log=True)
    attrs = {"accuracy_int8": acc, "accuracy_float": acc, "fold_accuracy_int8": folds, "folds_run": 3, "folds": 3,
             "model_bytes": model_bytes, "arena_bytes": 5000, "ram_bytes": 5000, "latency_ms": model_bytes / 1000,
             "converter_refused": None, "baseline": baseline}
    study.add_trial(create_trial(state=TrialState.COMPLETE, values=[acc, model_bytes, model_bytes / 1000],
                                 params=params, distributions=dists, user_attrs=attrs))


def _study(path):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="confirm", storage=f"sqlite:///{path}",
                                directions=["maximize", "minimize", "minimize"], load_if_exists=True)
    if not study.trials:
        _add(study, 0.90, [0.82, 0.90, 0.98], 13_000, 16, baseline=True)  # 0: fit's default, spread folds
        _add(study, 0.95, [0.99, 0.93, 0.93], 4_000, 6)   # 1: the search's best, lucky folds
        _add(study, 0.93, [0.92, 0.93, 0.94], 9_000, 24)  # 2: steady
        _add(study, 0.92, [0.90, 0.92, 0.94], 6_000, 8)   # 3: third
        _add(study, 0.80, [0.80, 0.80, 0.80], 5_000, 4)   # 4: not in the top 3
        _add(study, 0.99, [0.99, 0.99, 0.99], 40_000, 99)  # 5: most accurate, over the flash budget
    return study


class Scorer:
    """A stand-in for the retraining: each (width, seed) has a chosen score; every call is counted."""

    SCORES = {(16, 1): 0.91, (6, 1): 0.70, (24, 1): 0.92, (8, 1): 0.90,
              (16, 2): 0.90, (6, 2): 0.72, (24, 2): 0.93, (8, 2): 0.91}

    def __init__(self):
        self.calls = []

    def __call__(self, params, seed, tag):
        self.calls.append((params["width"], seed))
        acc = self.SCORES[(params["width"], seed)]
        return {"accuracy_int8": acc, "accuracy_float": acc, "fold_accuracy_int8": [acc - 0.01, acc, acc + 0.01],
                "converter_refused": None}


def test_the_top_trials_that_fit_and_the_default_are_scored_again_and_the_pick_follows_the_confirmed_mean(tmp_path, capsys):
    study = _study(tmp_path / "study.db")
    done = finished(study)
    assert best_fitting(done, BUDGETS).number == 1  # by the search's score alone, the lucky trial
    assert [t.number for t in candidates(done, BUDGETS, 3)] == [1, 2, 3, 0]  # top 3 that fit, then the default

    scorer = Scorer()
    confirmed, trained = confirm(study, BUDGETS, 3, [1], scorer)
    assert trained == 4 and sorted(scorer.calls) == [(6, 1), (8, 1), (16, 1), (24, 1)]
    assert confirmed[1]["confirmed_accuracy_int8"] == round((0.95 + 0.70) / 2, 4) and confirmed[1]["scorings"] == 2
    assert confirmed[2]["confirmed_accuracy_int8"] == round((0.93 + 0.92) / 2, 4)
    assert 4 not in confirmed and 5 not in confirmed  # not in the top 3; over the budget
    assert pick(done, BUDGETS, confirmed).number == 2  # the confirmed mean, not the raw best
    err = capsys.readouterr().err
    assert "confirm 1/4: trial 1 seed 1 (conv1d w6" in err and "confirm 1/4: trial 1 seed 1: int8 0.700" in err

    # What the command prints and writes says both scores and how many scorings
    table = front_table(pareto_front(done, BUDGETS), 2, confirmed)
    assert "| confirmed (scorings) |" in table.splitlines()[0] and "| 0.825 (2) |" in table
    ctable = confirm_table([t for t in done if t.number in confirmed], confirmed, 2)
    assert "| 1 | 0.950 | 0.700 | 0.825 (2) |" in ctable and "**(chosen)**" in ctable

    # The same command again (a new process: the study loaded from its file) trains nothing
    again = Scorer()
    reloaded = optuna.load_study(study_name="confirm", storage=f"sqlite:///{tmp_path / 'study.db'}")
    confirmed2, trained2 = confirm(reloaded, BUDGETS, 3, [1], again)
    assert again.calls == [] and trained2 == 0 and confirmed2 == confirmed
    assert "confirm 4/4: trial 0 seed 1: int8 0.910 (stored)" in capsys.readouterr().err

    # One more seed: only the new seed is trained, the first is reused; the pick still follows the mean
    more = Scorer()
    confirmed3, trained3 = confirm(reloaded, BUDGETS, 3, [1, 2], more)
    assert trained3 == 4 and {s for _, s in more.calls} == {2}
    assert confirmed3[2]["scorings"] == 3 and pick(finished(reloaded), BUDGETS, confirmed3).number == 2


def test_a_stored_scoring_of_other_parameters_is_not_reused(tmp_path):
    study = _study(tmp_path / "study.db")
    trial = finished(study)[2]
    study.set_user_attr("confirm:2:1", {"params": {**trial.params, "width": 8}, "accuracy_int8": 0.99})
    assert stored_scorings(study, trial, [1]) == {}
    scorer = Scorer()
    confirmed, _ = confirm(study, BUDGETS, 3, [1], scorer)
    assert (24, 1) in scorer.calls and confirmed[2]["confirmed_accuracy_int8"] == round((0.93 + 0.92) / 2, 4)


def test_the_note_says_when_the_default_is_within_noise_of_the_pick(tmp_path):
    study = _study(tmp_path / "study.db")
    done = finished(study)
    confirmed, _ = confirm(study, BUDGETS, 3, [1], Scorer())
    chosen = pick(done, BUDGETS, confirmed)
    note = noise_note(chosen, confirmed, done)  # 0.925 against the default's 0.905: its folds spread by 0.16
    assert note.startswith("note: fit's default model (trial 0, 0.905 int8 over 2 scorings) is within noise of trial 2")
    assert "'--pick 0' builds the default" in note

    # A clear gain is not called noise; the default as the pick says so
    clear = {**confirmed, 0: {**confirmed[0], "confirmed_accuracy_int8": 0.70}}
    assert noise_note(chosen, clear, done) is None
    base = next(t for t in done if t.number == 0)
    assert "no candidate beat it" in noise_note(base, confirmed, done)


def test_an_interrupted_confirmation_keeps_the_scorings_already_finished(tmp_path):
    study = _study(tmp_path / "study.db")

    class Interrupted(Scorer):
        def __call__(self, params, seed, tag):
            if len(self.calls) == 2:
                raise KeyboardInterrupt  # Ctrl-C during the third scoring
            return super().__call__(params, seed, tag)

    first = Interrupted()
    try:
        confirm(study, BUDGETS, 3, [1], first)
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("the interruption did not reach the caller")
    reloaded = optuna.load_study(study_name="confirm", storage=f"sqlite:///{tmp_path / 'study.db'}")
    rest = Scorer()
    confirmed, trained = confirm(reloaded, BUDGETS, 3, [1], rest)
    assert trained == 2 and set(rest.calls).isdisjoint(first.calls[:2])  # the two finished ones are not redone
    assert pick(finished(reloaded), BUDGETS, confirmed).number == 2


def test_a_candidate_whose_scoring_fails_or_is_refused_is_not_chosen_and_the_others_are_still_confirmed(tmp_path, capsys):
    from converter import ConverterError

    study = _study(tmp_path / "study.db")
    done = finished(study)

    class Troubled(Scorer):
        def __call__(self, params, seed, tag):
            if params["width"] == 24:  # trial 2, the one the confirmed mean would pick
                self.calls.append((24, seed))
                raise ConverterError("the model could not be converted: WHILE is not supported")
            result = super().__call__(params, seed, tag)
            if params["width"] == 8:  # trial 3: converted, but refused
                result["converter_refused"] = "int8 lost 9 of 40 windows"
            return result

    scorer = Troubled()
    confirmed, trained = confirm(study, BUDGETS, 3, [1], scorer)
    assert trained == 4 and sorted(scorer.calls) == [(6, 1), (8, 1), (16, 1), (24, 1)]  # the failure stops nothing
    assert confirmed[2]["not_chosen"].startswith("seed 1 failed: the model could not be converted")
    assert confirmed[2]["scorings"] == 1 and confirmed[2]["confirm_accuracy_int8"] == {}  # no score from a failure
    assert "refused" in confirmed[3]["not_chosen"] and confirmed[1]["not_chosen"] is None
    chosen = pick(done, BUDGETS, confirmed)
    assert chosen.number == 0  # default 0.905 beats trial 1's 0.825; 2 and 3 cannot be chosen
    err = capsys.readouterr().err
    assert "confirm 2/4: trial 2 seed 1: failed, so trial 2 is not chosen: the model could not be converted" in err
    assert "the converter refused it, so trial 3 is not chosen" in err
    table = confirm_table([t for t in done if t.number in confirmed], confirmed, chosen.number)
    assert "(not chosen: seed 1 failed: the model could not be converted" in table

    # Stored: the same command again trains nothing and still does not choose them
    again = Scorer()
    reloaded = optuna.load_study(study_name="confirm", storage=f"sqlite:///{tmp_path / 'study.db'}")
    confirmed2, trained2 = confirm(reloaded, BUDGETS, 3, [1], again)
    assert again.calls == [] and trained2 == 0 and pick(finished(reloaded), BUDGETS, confirmed2).number == 0
    assert "confirm 2/4: trial 2 seed 1: failed (stored)" in capsys.readouterr().err


def test_a_note_names_a_much_lighter_trial_within_noise_of_the_pick(tmp_path):
    from search.confirm import lighter_note

    study = _study(tmp_path / "study.db")
    done = finished(study)
    confirmed, _ = confirm(study, BUDGETS, 3, [1], Scorer())
    chosen = pick(done, BUDGETS, confirmed)  # trial 2: 9,000 B, 0.925 confirmed
    note = lighter_note(chosen, confirmed, done, BUDGETS)
    # trial 3 (6,000 B, 0.910) is within noise but only 1.5x smaller; trial 1 (4,000 B) is 2.25x smaller
    # and, its folds spread as they are, within noise, but 0.825 is 10 points under the pick: no note
    assert note is None
    close = {**confirmed, 1: {**confirmed[1], "confirmed_accuracy_int8": 0.92}}
    note = lighter_note(chosen, close, done, BUDGETS)
    assert note.startswith("note: trial 1 (conv1d w6") and "2.2x smaller, 2.2x faster" in note
    assert note.endswith("'--pick 1' builds it")
    # a trial that cannot be chosen is never suggested
    refused = {**close, 1: {**close[1], "not_chosen": "the converter refused seed 1's model: ..."}}
    assert lighter_note(chosen, refused, done, BUDGETS) is None


def test_the_trials_built_when_the_converter_refuses_the_picks_run_follow_the_confirmed_mean_then_the_score(tmp_path):
    """search/choose.py ``choices``: what ``search`` builds first, and next when the converter refuses a run."""
    from search.choose import choices

    study = _study(tmp_path / "study.db")
    done = finished(study)
    confirmed, _ = confirm(study, BUDGETS, 3, [1], Scorer())
    # confirmed means: 2 0.925, 3 0.910, 0 0.905, 1 0.825; then 4 by its score; 5 breaks the flash budget
    order = choices(done, BUDGETS, confirmed)
    assert [t.number for t, _ in order] == [2, 3, 0, 1, 4]
    assert {why for _, why in order[:4]} == {"confirmed mean"} and order[4][1].startswith("search score (no confirmed")
    assert [t.number for t, _ in choices(done, BUDGETS, {})] == [1, 2, 3, 0, 4]  # no confirmation: the score
    assert [(t.number, why) for t, why in choices(done, BUDGETS, confirmed, pick=5)] == [(5, "--pick")]  # only it
    refused = {**confirmed, 2: {**confirmed[2], "not_chosen": "the converter refused it"}}
    assert [t.number for t, _ in choices(done, BUDGETS, refused)] == [3, 0, 1, 4]  # a refused scoring: never built
