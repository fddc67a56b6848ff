"""After the trials: the summary of a search (the front, the confirmation of the best trials), the order in
which its candidates are chosen, and the chosen run, trained as ``fit`` does and converted; when the
converter refuses that run, the next candidate's is built instead."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path

from contract.run_dir import METRICS_FILE, REPORT_FILE, read_record
from training import TrainingError
from search.study import counts, fail_dead_trials, settings_of, shown_url
from search.confirm import DEFAULT_CONFIRM_SEEDS, confirm, confirm_seeds, lighter_note, noise_note, real_scorer
from search.confirm import pick as pick_confirmed
from search.report import (best_fitting, confirm_table, finished, front_table, pareto_front, plot_pareto, smallest_seen,
                           trial_row)
from search.space import describe, fit_options
from search.trial import Budgets, fits

CHOSEN_RUN = "run"
# When the converter refuses the chosen trial's run (trained as fit does, on its split), the next candidates
# built before giving up: each costs one fit and one conversion.
MAX_FALLBACKS = 2
# study attribute RUN_REFUSED_ATTR + trial number: a refused run's params, seed and the converter's reason
RUN_REFUSED_ATTR = "run_refused:"


class ChosenRunRefused(TrainingError):
    """The chosen trial, trained as ``fit`` does, was refused by the converter: the next candidate is built."""


def summarize(study, url: str, data_dir: Path, search_dir: Path, takes, pick: int | None, mine: list[int], log=None,
              confirm_k: int = 0, confirm_n: int = DEFAULT_CONFIRM_SEEDS) -> dict:
    """The front, the confirmation of the best trials (``confirm_k`` of them, ``confirm_n`` more seeds
    each, search/confirm.py), the choice and its run."""
    # A trial whose worker died is marked failed and queued again now, not left 'running' in the study:
    # another worker may end its trials after this process's last one.
    fail_dead_trials(study)
    s = settings_of(study)
    budgets = Budgets(**s["budgets"])
    done = finished(study)
    front = pareto_front(done, budgets)
    if pick is not None and not any(t.number == pick for t in done):
        raise TrainingError(f"--pick {pick}: no finished trial with that number; the front is trials "
                            f"{', '.join(str(t.number) for t in front) or '(none)'}")
    confirmed, scored_here, seeds = {}, 0, confirm_seeds(s["seed"], confirm_n)
    if confirm_k > 0 and any(fits(t.user_attrs, budgets) for t in done):
        with open(os.devnull, "w") if log is None else contextlib.nullcontext(log) as out:
            confirmed, scored_here = confirm(study, budgets, confirm_k, seeds, real_scorer(takes, int(s["folds"]), out),
                                             sys.stderr)
    order = choices(done, budgets, confirmed, pick)
    chosen = order[0][0] if order else None
    plot_pareto(done, front, budgets, search_dir / "pareto.png", chosen.number if chosen else None)
    print(front_table(front, chosen.number if chosen else None, confirmed), file=sys.stderr)
    summary = {"study": study.study_name, "storage": shown_url(url), "search_dir": str(search_dir),
               "budgets": s["budgets"], "trials_target": s["trials"], **counts(study), "trials_run_here": mine,
               "infeasible": sum(1 for t in done if not fits(t.user_attrs, budgets)),
               "front": [trial_row(t, confirmed) for t in front], "pareto_png": str(search_dir / "pareto.png")}
    if confirm_k > 0:
        summary["confirmation"] = confirmation(done, confirmed, confirm_k, seeds, scored_here,
                                               chosen.number if chosen else None)
    if chosen is None:
        (search_dir / "search.json").write_text(json.dumps(summary, indent=2) + "\n")
        raise nothing_fits(study, done, budgets)
    if not fits(chosen.user_attrs, budgets):
        print(f"note: trial {chosen.number} breaks the budgets ({'; '.join(budgets.violations(chosen.user_attrs))})",
              file=sys.stderr)
    return build_in_order(order, summary, study, data_dir, search_dir, budgets, int(s["seed"]), confirmed, done, front)


def confirmation(done: list, confirmed: dict, confirm_k: int, seeds: list[int], scored_here: int,
                 chosen_number: int | None) -> dict:
    """The summary's ``confirmation``: the confirmed candidates by their mean; their table on stderr."""
    by_number = {t.number: t for t in done}
    rows = sorted((trial_row(by_number[n], confirmed) for n in confirmed),
                  key=lambda r: (-r["confirmed_accuracy_int8"], r["model_bytes"], r["trial"]))
    if rows:
        print("\nconfirmed (the search's seed and " + ", ".join(f"seed {x}" for x in seeds) + "):\n"
              + confirm_table([by_number[r["trial"]] for r in rows], confirmed, chosen_number), file=sys.stderr)
    return {"trials": confirm_k, "seeds": seeds, "scored_here": scored_here,
            "reused": len(confirmed) * len(seeds) - scored_here, "candidates": rows}


def nothing_fits(study, done: list, budgets: Budgets) -> TrainingError:
    """The error when no finished trial fits the budgets, naming the smallest model seen."""
    smallest = smallest_seen(study.get_trials(deepcopy=False))
    seen = ("no trial got as far as a converted model" if smallest is None else
            f"the smallest model seen was trial {smallest.number} ({describe(smallest.params)}): "
            f"{smallest.user_attrs['model_bytes']:,} model bytes, {smallest.user_attrs['ram_bytes']:,} arena bytes, "
            f"{smallest.user_attrs['latency_ms']:.2f} ms")
    refused = sum(1 for t in done if t.user_attrs.get("converter_refused"))
    refused_note = f" ({refused} of them refused by the converter)" if refused else ""
    return TrainingError(f"no candidate of {len(done)} finished trials{refused_note} fits flash {budgets.flash_kb:g} KB, arena "
                         f"{budgets.arena_kb:g} KB{f', latency {budgets.latency_ms:g} ms' if budgets.latency_ms else ''}: "
                         f"{seen}; raise the budgets, or search smaller --widths / --arch ds-conv1d")


def build_in_order(order: list, summary: dict, study, data_dir: Path, search_dir: Path, budgets: Budgets, seed: int,
                   confirmed: dict, done: list, front: list) -> dict:
    """Build the first of ``order`` (up to 1 + MAX_FALLBACKS of them) whose run the converter accepts, a run
    refused before with the same params and seed skipped; the summary with ``chosen``, written to
    SEARCH_DIR/search.json. TrainingError when every one tried was refused."""
    refused_runs = []
    for chosen, chosen_by in order[:1 + MAX_FALLBACKS]:
        row = trial_row(chosen, confirmed)
        score = f"int8 {row['accuracy_int8']:.3f} in the search's folds"
        if "confirmed_accuracy_int8" in row:
            score += f", {row['confirmed_accuracy_int8']:.3f} confirmed (mean of {row['scorings']} scorings)"
        print(f"pick: trial {chosen.number} by {chosen_by}: {score}", file=sys.stderr)
        note = noise_note(chosen, confirmed, done)
        lighter = lighter_note(chosen, confirmed, done, budgets) if chosen_by == "confirmed mean" else None
        for line in (note, lighter):
            if line:
                print(line, file=sys.stderr)
        key, mark = f"{RUN_REFUSED_ATTR}{chosen.number}", {"params": dict(chosen.params), "seed": seed}
        stored = study.user_attrs.get(key)
        if stored and {k: stored.get(k) for k in mark} == mark:  # the same fit again would give the same model
            refused_runs.append({"trial": chosen.number, "error": stored["error"], "stored": True})
            print(f"note: {stored['error']} (stored: refused when this study built it before)", file=sys.stderr)
            continue
        try:
            built = build_chosen_run(chosen, data_dir, search_dir, budgets, seed)
        except ChosenRunRefused as e:
            study.set_user_attr(key, {**mark, "error": str(e)})
            refused_runs.append({"trial": chosen.number, "error": str(e)})
            print(f"note: {e}", file=sys.stderr)
            continue
        if refused_runs:  # the front's mark follows the run that was built
            plot_pareto(done, front, budgets, search_dir / "pareto.png", chosen.number)
        summary["chosen"] = {**row, "chosen_by": chosen_by, "note": note, "lighter_note": lighter,
                             "refused_runs": refused_runs, **built}
        (search_dir / "search.json").write_text(json.dumps(summary, indent=2) + "\n")
        return summary
    summary["refused_runs"] = refused_runs
    (search_dir / "search.json").write_text(json.dumps(summary, indent=2) + "\n")
    message, earlier = refused_runs[-1]["error"], [str(r["trial"]) for r in refused_runs[:-1]]
    if earlier:
        message += f"; before it, the {'run of trial' if len(earlier) == 1 else 'runs of trials'} {' and '.join(earlier)} {'was' if len(earlier) == 1 else 'were'} refused too"
    untried = [str(t.number) for t, _ in order[len(refused_runs):]]
    if untried:
        message += f"; the next candidates are trials {', '.join(untried[:5])}: '--pick N' builds one"
    raise TrainingError(message)


def choices(done: list, budgets: Budgets, confirmed: dict, pick: int | None = None) -> list:
    """(trial, why) in the order ``search`` builds them: the pick first, then the trials it falls back on
    when the converter refuses the pick's run. ``--pick N``: that trial only. Otherwise the confirmed
    trials by their mean (search/confirm.py ``pick``), then, once no confirmed trial is left (or none was
    confirmed), the others that fit by the search's score; a confirmed trial whose scoring failed or was
    refused comes in neither."""
    if pick is not None:
        return [(next(t for t in done if t.number == pick), "--pick")]
    order, left = [], list(done)
    while True:
        t = pick_confirmed(left, budgets, confirmed) if confirmed else None
        why = "confirmed mean"
        if t is None:
            rest = [x for x in left if not (confirmed.get(x.number) or {}).get("not_chosen")]
            t = best_fitting(rest, budgets)
            why = "search score"
            if confirmed:
                why += (" (no confirmed candidate left: each failed a scoring or its run was refused)" if order
                        else " (every confirmed candidate failed a scoring)")
        if t is None:
            return order
        order.append((t, why))
        left = [x for x in left if x.number != t.number]


def build_chosen_run(trial, data_dir: Path, search_dir: Path, budgets: Budgets, seed: int) -> dict:
    """``fit`` with the trial's options into SEARCH_DIR/run (split by person as fit does), then ``convert``
    with the budgets; kept when it already holds this trial's run."""
    from converter import ConverterError
    from converter.convert import convert_run
    from training.fit import fit

    run_dir = search_dir / CHOSEN_RUN
    marker = run_dir / "search_trial.json"
    mark = {"trial": trial.number, "params": dict(trial.params), "seed": seed}
    if marker.is_file() and json.loads(marker.read_text()) == mark and (run_dir / REPORT_FILE).is_file():
        report = read_record(run_dir, REPORT_FILE)
        print(f"chosen: trial {trial.number}, already built in {run_dir}", file=sys.stderr)
    else:
        marker.unlink(missing_ok=True)
        print(f"chosen: trial {trial.number} ({describe(trial.params)}); training it as a normal run in {run_dir}",
              file=sys.stderr, flush=True)
        fit(data_dir, run_dir, fit_options(trial.params, seed=seed, overwrite=True))
        try:
            report = convert_run(run_dir, flash_budget_kb=budgets.flash_kb, ram_budget_kb=budgets.arena_kb)
        except ConverterError as e:
            raise ChosenRunRefused(f"the run of trial {trial.number} was trained in {run_dir} but the converter "
                                   f"refused it: {e}") from None
        marker.write_text(json.dumps(mark) + "\n")
    metrics = read_record(run_dir, METRICS_FILE)
    return {"run_dir": str(run_dir), "run_split": metrics["split"], "run_test_groups": metrics["test_groups"],
            "run_accuracy_float": metrics["accuracy"], "run_accuracy_int8": report["accuracy_int8"],
            "run_model_bytes": report["model_bytes"], "run_arena_bytes": report["arena_bytes"],
            "run_latency_ms": report["latency_ms_estimate"], "headers_written": report["headers_written"],
            "next": f"nanogest install {run_dir}  (or: make flash RUN={run_dir})"}
