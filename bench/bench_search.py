"""A fixed-budget ``training search`` against fit's default model, and one worker against two.

    python bench/bench_search.py [--data DIR] [--parts lopo,martin,workers,builtin] [--trials 10] [--folds 3]
                                 [--epochs 10-40] [--worker-trials 6] [--out DIR]

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
from the one study, whose sampler was steered by the default budgets), and which target holds:
more accurate than the default, or at least 2x smaller or faster within 1 point of its accuracy.
Accuracies are int8 (TFLM) means over the folds' held-out people or takes. Markdown on stdout,
progress on stderr. Wall times are on whatever else the machine is running.
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
    cmd = [sys.executable, "-m", "training", "search", str(data), "--out", str(out), "--trials", str(args.trials),
           "--folds", str(args.folds), "--epochs", args.epochs, "--baseline", *extra]
    log("$ " + " ".join(cmd))
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr.splitlines():
        if line.startswith(("trial ", "error:", "chosen:", "search:")):
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


def row(name: str, t) -> str:
    from search.space import describe

    if t is None:
        return f"| {name} | none fits | | | | |"
    a = t.user_attrs
    return (f"| {name} | {a['accuracy_int8']:.3f} | {a['model_bytes']:,} | {a['ram_bytes']:,} | {a['latency_ms']:.2f} | "
            f"#{t.number} {describe(t.params)} |")


def verdict(base, best) -> str:
    if base is None or best is None:
        return "no verdict (the default or the search found nothing that fits)"
    b, s = base.user_attrs, best.user_attrs
    if best.number == base.number:
        return "the default model is the search's best: no candidate beat it"
    if s["accuracy_int8"] > b["accuracy_int8"] + 1e-9:
        return (f"the searched model is more accurate than the default ({s['accuracy_int8']:.3f} vs {b['accuracy_int8']:.3f} "
                f"int8), {b['model_bytes'] / s['model_bytes']:.1f}x smaller, {b['latency_ms'] / s['latency_ms']:.1f}x faster")
    return (f"the searched model is {s['accuracy_int8'] - b['accuracy_int8']:+.3f} in accuracy, "
            f"{b['model_bytes'] / s['model_bytes']:.1f}x smaller, {b['latency_ms'] / s['latency_ms']:.1f}x faster")


def small_equal(base, trials) -> str:
    """The smallest trial within EQUAL_POINTS of the default's accuracy, and how much smaller / faster."""
    if base is None:
        return ""
    b = base.user_attrs
    close = [t for t in trials if t.user_attrs["accuracy_int8"] >= b["accuracy_int8"] - EQUAL_POINTS
             and not t.user_attrs.get("converter_refused")]
    t = min(close, key=lambda t: (t.user_attrs["model_bytes"], t.user_attrs["latency_ms"]))
    a = t.user_attrs
    return (f"smallest within {100 * EQUAL_POINTS:g} point of the default: #{t.number}, "
            f"{b['model_bytes'] / a['model_bytes']:.1f}x smaller, {b['latency_ms'] / a['latency_ms']:.1f}x faster "
            f"({a['accuracy_int8']:.3f} int8)")


def report(title: str, out: Path, result: dict) -> None:
    from search.report import best_fitting, front_table, pareto_front

    trials = trials_of(out)
    s = result["summary"]
    default_budgets = Budgets(**s["budgets"])
    base = next((t for t in trials if t.user_attrs.get("baseline")), None)
    print(f"\n### {title}\n")
    print(f"{s['complete'] + s['pruned'] + s['failed']} trials ({s['complete']} complete, {s['pruned']} pruned, "
          f"{s['failed']} failed), {s['infeasible']} infeasible; wall {result['wall_s'] / 60:.1f} min\n")
    print("| model | int8 accuracy (folds) | model bytes | arena bytes | est. ms / window | trial |")
    print("|---|---|---:|---:|---:|---|")
    print(row("fit's default conv1d", base))
    bests = {}
    for name, budgets in BUDGETS:
        bests[name] = best_fitting(trials, budgets or default_budgets)
        print(row(f"best under {name}", bests[name]))
    print(f"\nVerdict (board budgets): {verdict(base, bests['board default'])}; {small_equal(base, trials)}.")
    chosen = s.get("chosen")
    if chosen:
        groups = chosen["run_test_groups"]
        shown = ", ".join(groups) if len(groups) <= 4 else f"{len(groups)} {chosen['run_split']}s"
        print(f"Chosen run ({chosen['run_dir']}): fit's split by {chosen['run_split']} (test {shown}), int8 {chosen['run_accuracy_int8']:.3f}, "
              f"{chosen['run_model_bytes']:,} B, arena {chosen['run_arena_bytes']:,} B.")
    print("\nPareto front (board budgets):\n")
    print(front_table(pareto_front(trials, default_budgets), chosen["trial"] if chosen else None))
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
            subprocess.run([sys.executable, "-m", "training", "search", str(data), "--out", str(tmp / study),
                            "--trials", str(n_trials), "--storage", url, "--study", study, "--create-only", *space],
                           cwd=ROOT, capture_output=True, text=True, check=True)
            import optuna

            queued = optuna.load_study(study_name=study, storage=url.replace("postgresql://", "postgresql+psycopg://"))
            for _ in range(n_trials):
                queued.enqueue_trial(same)
            started = time.monotonic()
            procs = [subprocess.Popen(["taskset", "-c", str(core), sys.executable, "-m", "training", "search-worker",
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
    search_proc = subprocess.Popen([sys.executable, "-m", "training", "search", str(data), "--out", str(out),
                                    "--trials", str(n_trials)], cwd=ROOT, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True)
    worker = subprocess.Popen([sys.executable, "-m", "training", "search-worker", "--storage",
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
          f"{s['failed']} failed. Chosen: #{chosen['trial']} {chosen['describe']}: {chosen['accuracy_int8']:.3f} int8 "
          f"in the folds, {chosen['model_bytes']:,} B, arena {chosen['ram_bytes']:,} B, {chosen['latency_ms']:.2f} ms.")
    sys.stdout.flush()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--parts", default="lopo,martin,workers,builtin")
    p.add_argument("--trials", type=int, default=10)
    p.add_argument("--folds", type=int, default=3)
    p.add_argument("--epochs", default="10-40")
    p.add_argument("--worker-trials", type=int, default=6)
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
               tmp / "lopo", search(data, tmp / "lopo", args))
    if "martin" in parts:
        data = tmp / "martin"
        if not data.exists():
            import_people(args.data, data, people=["martin"])
        report(f"martin's five gestures, {args.folds} folds of takes ({args.trials} trials, epochs {args.epochs})",
               tmp / "martin-search", search(data, tmp / "martin-search", args))
    if "workers" in parts:
        workers(tmp, args.worker_trials)
    if "builtin" in parts:
        builtin(tmp, args.trials)


if __name__ == "__main__":
    main()
