"""A fixed-budget ``nanogest search`` against fit's default model, and one worker against two.

    python bench/bench_search.py [--data DIR] [--parts lopo,martin,workers,builtin] [--trials 10] [--folds 3]
                                 [--epochs 10-40] [--confirm 3] [--confirm-seeds 1] [--worker-trials 6] [--out DIR]

- ``lopo``: the real IMU_Capture recordings' punch and flex of every person who recorded both
  (``../shared/data/real``, imported with ``capture import-arduino`` into a temporary dataset as
  bench/bench_real.py does), searched with folds by person (``--folds`` groups of people, each held
  out once); fit's default conv1d is trial 0 (``search --baseline``), scored by the same folds.
- ``martin``: martin's five gestures (one person: folds by take).
- ``workers``: built-in data (5 simulated people), one PostgreSQL study (a throw-away server, as the
  tests start it): one ``search-worker`` pinned to core 0 against two pinned to cores 0 and 1
  (``taskset``), the wall time until the study has ``--worker-trials`` finished trials, every trial
  the same candidate.
- ``builtin``: a search with every default (``--trials`` trials) on the demo's built-in people,
  ``search`` and one ``search-worker`` sharing its SQLite study: the wall time.

For lopo and martin the tables give the front, the default model, and the most accurate trial
under the board's default budgets, under 16 KB model / 10 KB arena and under 8 KB / 6 KB (all
from the one study, whose sampler was steered by the default budgets), each with the search's
score and, for the trials ``search --confirm`` scored again with further seeds, the confirmed mean
over all scorings; the chosen run (picked by the confirmed mean) and fit's default model are both
trained again on fit's own split. The verdict is stated from the confirmed scores: the chosen
model beats the default on accuracy (by more than the noise ``search`` names: 2 standard errors of
the difference), or is at least 2x smaller or faster at equal accuracy (within that noise), or
neither. Accuracies are int8 (TFLM). Markdown on stdout, progress on stderr. Wall times are on
whatever else the machine is running. ``--out DIR`` keeps the studies: the same command again
continues them and reuses every stored confirmation.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from bench_real import CROSS_LABELS, DEFAULT_DATA, import_people  # noqa: E402
from search.trial import Budgets  # noqa: E402

EQUAL_POINTS = 0.01  # 'equal accuracy': within 1 point of the default's
BUDGETS = (("board default", None), ("16 KB / 10 KB arena", Budgets(16, 10)), ("8 KB / 6 KB arena", Budgets(8, 6)))


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def search(data: Path, out: Path, args, extra=()) -> dict:
    cmd = [sys.executable, "-m", "nanogest", "search", str(data), "--out", str(out), "--trials", str(args.trials),
           "--folds", str(args.folds), "--epochs", args.epochs, "--baseline", "--confirm", str(args.confirm),
           "--confirm-seeds", str(args.confirm_seeds), *extra]
    log("$ " + " ".join(cmd))
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr.splitlines():
        if line.startswith(("trial ", "error:", "chosen:", "search:", "confirm ", "pick:", "note:")):
            log("  " + line[:220])
    if proc.returncode != 0:
        raise SystemExit(f"search failed:\n{proc.stderr[-3000:]}")
    return {"summary": json.loads(proc.stdout), "wall_s": time.monotonic() - started}


def trials_of(out: Path) -> list:
    import optuna
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name="nanogest", storage=f"sqlite:///{out / 'study.db'}")
    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def row(name: str, t, confirmed: dict) -> str:
    from search.space import describe

    if t is None:
        return f"| {name} | none fits | | | | | |"
    a = t.user_attrs
    c = confirmed.get(t.number)
    cell = f"{c['confirmed_accuracy_int8']:.3f} ({c['scorings']})" if c else "-"
    return (f"| {name} | {a['accuracy_int8']:.3f} | {cell} | {a['model_bytes']:,} | {a['ram_bytes']:,} | "
            f"{a['latency_ms']:.2f} | #{t.number} {describe(t.params)} |")


def verdict(base, chosen, confirmed: dict) -> str:
    """Which target holds, from the confirmed scores (search/confirm.py's noise)."""
    from search.confirm import noise_of

    if base is None or chosen is None:
        return "no verdict (the default or the search found nothing that fits)"
    if chosen.number == base.number:
        return "neither: after confirmation fit's default model is the most accurate that fits; no candidate beat it"
    b, s = base.user_attrs, chosen.user_attrs
    cb, cs = confirmed.get(base.number), confirmed.get(chosen.number)
    if cb is None or cs is None:
        return "no verdict (the default or the chosen trial was not confirmed: run with --confirm)"
    gap, noise = cs["confirmed_accuracy_int8"] - cb["confirmed_accuracy_int8"], noise_of(cs, cb)
    smaller, faster = b["model_bytes"] / s["model_bytes"], b["latency_ms"] / s["latency_ms"]
    sizes = f"{smaller:.1f}x smaller, {faster:.1f}x faster"
    scores = (f"confirmed {cs['confirmed_accuracy_int8']:.3f} over {cs['scorings']} scorings vs the default's "
              f"{cb['confirmed_accuracy_int8']:.3f} over {cb['scorings']}: {gap:+.3f}, noise (2 standard errors) {noise:.3f}")
    if gap > noise:
        return f"the searched model beats the default on int8 accuracy ({scores}), and is {sizes}"
    if smaller >= 2 or faster >= 2:
        return f"equal accuracy within the noise ({scores}) and at least 2x smaller or faster: {sizes}"
    return f"neither: equal accuracy within the noise ({scores}) and only {sizes}"


def equal_and_smaller(base, trials, confirmed: dict) -> str:
    """The 2x target's own reading: the smallest confirmed candidate whose confirmed mean is within
    EQUAL_POINTS of the default's ('equal accuracy'), and how much smaller / faster it is."""
    if base is None or base.number not in confirmed:
        return ""
    b = confirmed[base.number]["confirmed_accuracy_int8"]
    close = [t for t in trials if t.number in confirmed and t.number != base.number
             and not confirmed[t.number].get("not_chosen")
             and confirmed[t.number]["confirmed_accuracy_int8"] >= b - EQUAL_POINTS]
    if not close:
        best = max((confirmed[n]["confirmed_accuracy_int8"] for n in confirmed if n != base.number), default=None)
        return (f"no confirmed candidate is within {100 * EQUAL_POINTS:g} point of the default's confirmed {b:.3f}"
                + (f" (the closest: {best:.3f})" if best is not None else ""))
    t = min(close, key=lambda t: (t.user_attrs["model_bytes"], t.user_attrs["latency_ms"]))
    a, d = t.user_attrs, base.user_attrs
    return (f"smallest confirmed within {100 * EQUAL_POINTS:g} point of the default: #{t.number}, "
            f"{d['model_bytes'] / a['model_bytes']:.1f}x smaller, {d['latency_ms'] / a['latency_ms']:.1f}x faster "
            f"({confirmed[t.number]['confirmed_accuracy_int8']:.3f} confirmed)")


def target_reading(base, chosen, trials, confirmed: dict) -> str:
    """The search's first target, read from the confirmed scores: the chosen model beats the default
    beyond the noise, or some confirmed candidate the search holds is at least 2x smaller or faster
    within EQUAL_POINTS of the default's confirmed mean."""
    if base is None or base.number not in confirmed:
        return "no reading (the default was not confirmed)"
    cb = confirmed[base.number]
    if chosen is not None and chosen.number in confirmed and chosen.number != base.number:
        from search.confirm import noise_of

        gap = confirmed[chosen.number]["confirmed_accuracy_int8"] - cb["confirmed_accuracy_int8"]
        if gap > noise_of(confirmed[chosen.number], cb):
            return f"met: the chosen #{chosen.number} beats the default by {gap:+.3f}, beyond the noise"
    d = base.user_attrs
    lighter = [t for t in trials if t.number in confirmed and t.number != base.number
               and not confirmed[t.number].get("not_chosen")
               and confirmed[t.number]["confirmed_accuracy_int8"] >= cb["confirmed_accuracy_int8"] - EQUAL_POINTS
               and max(d["model_bytes"] / t.user_attrs["model_bytes"], d["latency_ms"] / t.user_attrs["latency_ms"]) >= 2]
    if not lighter:
        return "not met: no candidate beats the default beyond the noise, none is 2x smaller or faster at equal accuracy"
    t = min(lighter, key=lambda t: (t.user_attrs["latency_ms"], t.user_attrs["model_bytes"],
                                    -confirmed[t.number]["confirmed_accuracy_int8"]))
    a = t.user_attrs
    start = " (one of the study's starting points)" if a.get("start_point") else ""
    return (f"met by #{t.number}{start}: {confirmed[t.number]['confirmed_accuracy_int8']:.3f} confirmed against the "
            f"default's {cb['confirmed_accuracy_int8']:.3f} (within {100 * EQUAL_POINTS:g} point), "
            f"{d['model_bytes'] / a['model_bytes']:.1f}x smaller and {d['latency_ms'] / a['latency_ms']:.1f}x faster")


def fit_split_row(name: str, built: dict) -> str:
    groups = built["run_test_groups"]
    shown = ", ".join(groups) if len(groups) <= 4 else f"{len(groups)} {built['run_split']}s"
    return (f"| {name} | fit's split by {built['run_split']} (test {shown}) | {built['run_accuracy_int8']:.3f} | "
            f"{built['run_model_bytes']:,} | {built['run_arena_bytes']:,} | {built['run_latency_ms']:.2f} |")


def report(title: str, out: Path, data: Path, result: dict) -> None:
    from search.choose import build_chosen_run
    from search.report import best_fitting, front_table, pareto_front

    trials = trials_of(out)
    s = result["summary"]
    default_budgets = Budgets(**s["budgets"])
    confirmation = s.get("confirmation") or {"candidates": [], "seeds": [], "scored_here": 0, "reused": 0}
    confirmed = {r["trial"]: r for r in confirmation["candidates"]}
    base = next((t for t in trials if t.user_attrs.get("baseline")), None)
    chosen_row = s.get("chosen")
    chosen = next((t for t in trials if chosen_row and t.number == chosen_row["trial"]), None)
    print(f"\n### {title}\n")
    print(f"{s['complete'] + s['pruned'] + s['failed']} trials ({s['complete']} complete, {s['pruned']} pruned, "
          f"{s['failed']} failed), {s['infeasible']} infeasible; confirmation: {len(confirmed)} trials x seeds "
          f"{confirmation['seeds']} ({confirmation['scored_here']} scorings trained now, {confirmation['reused']} "
          f"stored); wall {result['wall_s'] / 60:.1f} min\n")
    print("| model | int8, search's folds | confirmed mean (scorings) | model bytes | arena bytes | est. ms / window | trial |")
    print("|---|---|---|---:|---:|---:|---|")
    print(row("fit's default conv1d", base, confirmed))
    if chosen is not None:
        print(row(f"chosen ({chosen_row['chosen_by']})", chosen, confirmed))
    for name, budgets in BUDGETS:
        print(row(f"best search score under {name}", best_fitting(trials, budgets or default_budgets), confirmed))
    print(f"\nVerdict (board budgets, confirmed scores): {verdict(base, chosen, confirmed)}; "
          f"{equal_and_smaller(base, trials, confirmed)}.")
    print(f"\nTarget (beats the default, or at least 2x smaller or faster at equal accuracy): "
          f"{target_reading(base, chosen, trials, confirmed)}.")
    for key in ("note", "lighter_note"):
        if chosen_row and chosen_row.get(key):
            print(f"search said: {chosen_row[key]}")
    if confirmed:
        from search.report import confirm_table

        by_number = {t.number: t for t in trials}
        print("\nConfirmation (the search's seed, then each further seed: new folds of people, weights, augmentation):\n")
        print(confirm_table([by_number[n] for n in confirmed], confirmed, chosen.number if chosen else None))
        if base is not None and base.number in confirmed:
            from search.confirm import NOISE_SE, noise_of

            cb = confirmed[base.number]
            parts = [f"#{n} {c['confirmed_accuracy_int8'] - cb['confirmed_accuracy_int8']:+.3f} (noise {noise_of(c, cb):.3f})"
                     for n, c in confirmed.items() if n != base.number]
            print(f"\nConfirmed mean minus the default's, and {NOISE_SE:g} standard errors of that difference: "
                  + ", ".join(parts) + ".")
    if chosen_row:
        print("\n| retrained on fit's own split | split | int8 accuracy | model bytes | arena bytes | est. ms / window |")
        print("|---|---|---:|---:|---:|---:|")
        print(fit_split_row(f"chosen, #{chosen_row['trial']}", chosen_row))
        if base is not None and chosen is not None and base.number != chosen.number:
            log(f"training fit's default (trial {base.number}) on fit's split for comparison")
            built = build_chosen_run(base, data, out / "default", default_budgets, seed=0)
            print(fit_split_row(f"fit's default, #{base.number}", built))
        raw = best_fitting(trials, default_budgets)  # what the search's score alone would have chosen
        if raw is not None and chosen is not None and raw.number != chosen.number and (base is None or raw.number != base.number):
            log(f"training the best search score (trial {raw.number}) on fit's split for comparison")
            built = build_chosen_run(raw, data, out / "search-best", default_budgets, seed=0)
            print(fit_split_row(f"best search score, #{raw.number} (the pick without --confirm)", built))
    print("\nPareto front (board budgets):\n")
    print(front_table(pareto_front(trials, default_budgets), chosen.number if chosen else None, confirmed))
    sys.stdout.flush()


def workers(tmp: Path, n_trials: int) -> None:
    """Wall time to n finished trials: one worker on core 0, then two on cores 0 and 1 (new study each)."""
    from capture.synth import write_dataset
    from postgres_server import postgres_server

    if shutil.which("taskset") is None:
        log("workers: taskset is missing, skipped")
        return
    data = tmp / "builtin"
    write_dataset(data, ["p1", "p2", "p3", "p4", "p5"], 6, 119)
    space = ["--folds", "2"]
    # Every trial is the same candidate (fit's default model, 10 epochs), enqueued, so that one worker and
    # two do exactly the same work: random candidates differ in cost by up to 8x.
    from search.space import Space, baseline_params

    same = {**baseline_params(Space()), "epochs": 10}
    rows = []
    with postgres_server() as url:
        for n_workers in (1, 2):
            study = f"w{n_workers}"
            subprocess.run([sys.executable, "-m", "nanogest", "search", str(data), "--out", str(tmp / study),
                            "--trials", str(n_trials), "--storage", url, "--study", study, "--create-only", *space],
                           cwd=ROOT, capture_output=True, text=True, check=True)
            import optuna

            queued = optuna.load_study(study_name=study, storage=url.replace("postgresql://", "postgresql+psycopg://"))
            for _ in range(n_trials):
                queued.enqueue_trial(same)
            started = time.monotonic()
            procs = [subprocess.Popen(["taskset", "-c", str(core), sys.executable, "-m", "nanogest", "search-worker",
                                       "--storage", url, "--study", study], cwd=ROOT, stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL, text=True) for core in range(n_workers)]
            from optuna.trial import TrialState

            wall = None
            while wall is None:  # the time to n finished trials (a worker that starts one more is not waited for)
                done = [t for t in queued.get_trials(deepcopy=False) if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
                if len(done) >= n_trials:
                    wall = time.monotonic() - started
                elif all(p.poll() is not None for p in procs):
                    raise SystemExit(f"the workers ended with {len(done)} of {n_trials} trials")
                time.sleep(0.5)
            outs = [json.loads(p.communicate()[0]) for p in procs]
            per = [len(o["trials_finished_here"]) for o in outs]
            rows.append((n_workers, wall, per, outs[-1]["complete"] + outs[-1]["pruned"] + outs[-1]["failed"]))
            log(f"  workers {n_workers}: {wall:.0f} s, trials per worker {per}")
    print(f"\n### One PostgreSQL study, {n_trials} trials on built-in data (5 people, 2 folds; every trial fit's "
          "default conv1d for 10 epochs)\n")
    print("| workers | cores (taskset) | wall time | trials per worker | finished trials |")
    print("|---|---|---:|---|---:|")
    for n, wall, per, done in rows:
        print(f"| {n} | {','.join(str(c) for c in range(n))} | {wall:.0f} s | {per} | {done} |")
    if len(rows) == 2:
        print(f"\nTwo workers took {rows[1][1] / rows[0][1]:.2f}x the wall time of one (target about 0.5).")
    sys.stdout.flush()


def builtin(tmp: Path, n_trials: int) -> None:
    """A default search (every option at its default) of n trials on the demo's built-in people: ``search``
    and one ``search-worker`` on its SQLite study, the wall time until ``search`` has built the chosen run."""
    from capture.synth import write_dataset

    data = tmp / "builtin-demo"
    if not data.exists():
        write_dataset(data, ["p1", "p2", "p3"], 8, 119)
        write_dataset(data, ["p4"], 8, 100)  # the demo's Rev2 person
    out = tmp / "builtin-search"
    started = time.monotonic()
    search_proc = subprocess.Popen([sys.executable, "-m", "nanogest", "search", str(data), "--out", str(out),
                                    "--trials", str(n_trials)], cwd=ROOT, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True)
    worker = subprocess.Popen([sys.executable, "-m", "nanogest", "search-worker", "--storage",
                               f"sqlite:///{out.resolve() / 'study.db'}", "--wait", "120"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    s = json.loads(search_proc.communicate()[0])
    wall = time.monotonic() - started
    w = json.loads(worker.communicate()[0])
    log(f"  builtin: {wall:.0f} s")
    chosen = s["chosen"]
    print(f"\n### A default search of {n_trials} trials on built-in data (4 people, 5 labels; search + 1 worker)\n")
    print(f"{wall / 60:.1f} min wall until the chosen run was built; trials by search {len(s['trials_run_here'])}, "
          f"by the worker {len(w['trials_finished_here'])}; {s['complete']} complete, {s['pruned']} pruned, "
          f"{s['failed']} failed; confirmation (search's default --confirm): "
          f"{s.get('confirmation', {}).get('scored_here', 0)} scorings with seeds {s.get('confirmation', {}).get('seeds')}. "
          f"Chosen ({chosen['chosen_by']}): #{chosen['trial']} {chosen['describe']}: {chosen['accuracy_int8']:.3f} int8 "
          f"in the folds" + (f", {chosen['confirmed_accuracy_int8']:.3f} confirmed over {chosen['scorings']} scorings"
                             if "confirmed_accuracy_int8" in chosen else "")
          + f", {chosen['model_bytes']:,} B, arena {chosen['ram_bytes']:,} B, {chosen['latency_ms']:.2f} ms.")
    sys.stdout.flush()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA,
                   help=f"folder of <person>/<label>.csv IMU_Capture recordings (default {DEFAULT_DATA})")
    p.add_argument("--parts", default="lopo,martin,workers,builtin",
                   help="comma-separated from lopo, martin, workers, builtin (default all; see the top of this file)")
    p.add_argument("--trials", type=int, default=10, help="trials of each search (default 10)")
    p.add_argument("--folds", type=int, default=3, help="search --folds K: cross-validation folds per trial (default 3)")
    p.add_argument("--epochs", default="10-40", help="search --epochs MIN-MAX (default 10-40)")
    p.add_argument("--confirm", type=int, default=3, help="search --confirm K: trials scored again before choosing")
    p.add_argument("--confirm-seeds", type=int, default=1, help="search --confirm-seeds N: further seeds each")
    p.add_argument("--worker-trials", type=int, default=6,
                   help="workers part: finished trials the study must reach, timed for one worker and for two (default 6)")
    p.add_argument("--out", type=Path, default=None, help="keep the searches here (default: a temporary directory)")
    args = p.parse_args()
    parts = args.parts.split(",")
    tmp = args.out or Path(tempfile.mkdtemp(prefix="nanogest-bench-search-"))
    tmp.mkdir(parents=True, exist_ok=True)
    if {"lopo", "martin"} & set(parts) and not args.data.is_dir():
        log(f"{args.data} not found: the real-recording parts are skipped")
        parts = [x for x in parts if x not in ("lopo", "martin")]
    if "lopo" in parts:
        data = tmp / "cross"
        if not data.exists():
            import_people(args.data, data, labels=CROSS_LABELS)
        report(f"Punch and flex, {args.folds} folds of people ({args.trials} trials, epochs {args.epochs})",
               tmp / "lopo", data, search(data, tmp / "lopo", args))
    if "martin" in parts:
        data = tmp / "martin"
        if not data.exists():
            import_people(args.data, data, people=["martin"])
        report(f"martin's five gestures, {args.folds} folds of takes ({args.trials} trials, epochs {args.epochs})",
               tmp / "martin-search", data, search(data, tmp / "martin-search", args))
    if "workers" in parts:
        workers(tmp, args.worker_trials)
    if "builtin" in parts:
        builtin(tmp, args.trials)


if __name__ == "__main__":
    main()
