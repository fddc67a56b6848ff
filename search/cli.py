"""The ``search`` and ``search-worker`` commands (``nanogest search|search-worker``): their options, opening
the study and running its trials; the summary and the chosen run are search/choose.py's. Their errors are
training's (``training.__main__.run``)."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

from training import TrainingError
from training.data import dataset_rate_hz
from search.choose import summarize
from search.study import (DEFAULT_FOLDS, DEFAULT_GRACE_S, DEFAULT_STUDY, DEFAULT_TRIALS, SEARCH_VERSION, counts,
                          dataset_hash, load_takes, open_study, settings_of, shown_url, storage_url, work)
from search.confirm import DEFAULT_CONFIRM, DEFAULT_CONFIRM_SEEDS
from search.space import (EPOCHS, GRU_UNIT_CHOICES, RATE_FRACTIONS, WIDTHS, Space, describe, parse_epochs, parse_int_list,
                          parse_rates, rate_choices)
from search.trial import Budgets

EXIT_INTERRUPTED = 130


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--timeout", type=float, default=None, metavar="MIN",
                   help="stop starting trials after this many minutes (the running one finishes)")
    p.add_argument("--grace", type=int, default=DEFAULT_GRACE_S, metavar="S",
                   help=f"a running trial whose worker has been silent this long is failed and run again once "
                        f"(default {DEFAULT_GRACE_S})")
    p.add_argument("--log", type=Path, default=None, metavar="FILE",
                   help="append each trial's training and converter output here (search: default SEARCH_DIR/trials.log; "
                        "search-worker: default discarded)")


def add_search_parser(sub) -> None:
    s = sub.add_parser(
        "search", help="search for the most accurate model that fits the board (Optuna; JSON on stdout)",
        epilog="example: %(prog)s data --out searches/s1 --trials 20 --flash-kb 200",
        description="Each trial trains a candidate (architecture, widths, depth, kernels, GRU units, the model's rate, "
        "window and hop, "
        "augmentation, learning rate, epochs) with fit's rules, cross-validated by person where there are people "
        "(else session, else take), converts every fold's model with the real converter and scores int8 (TFLM) "
        "accuracy, model bytes, arena bytes and estimated latency. Budgets are Optuna constraints: a candidate over "
        "one stays in the study as infeasible. The front of accuracy against model bytes and latency is printed as a "
        "table on stderr and drawn in SEARCH_DIR/pareto.png. Before choosing, the --confirm best trials that fit "
        "(and fit's default with --baseline) are scored again with --confirm-seeds further seeds (other folds of people), "
        "since one seed's folds are noisy; the best mean over all scorings (or --pick N) is "
        "trained again as a normal run in SEARCH_DIR/run and converted, ready for 'converter install' and 'make "
        "flash'. The study is kept in SEARCH_DIR/study.db (SQLite): the same command again continues it, and an "
        "interruption loses only the running trial. With --storage postgresql://... and --study NAME, any number "
        "of 'search-worker' processes on any machines join the study. The model's rate is searched at and below the "
        "dataset's (see --rates); the board resamples its IMU's stream to the chosen run's rate. One line per trial on stderr; a JSON summary on stdout.")
    s.add_argument("data_dir", type=Path, metavar="DATA_DIR", help="dataset directory written by 'nanogest record' or 'nanogest import'")
    s.add_argument("--out", type=Path, required=True, metavar="SEARCH_DIR",
                   help="where the study (study.db), pareto.png, search.json and the chosen run go")
    s.add_argument("--trials", type=int, default=DEFAULT_TRIALS, metavar="N",
                   help=f"finished trials the study should have, counted over every worker and earlier runs "
                        f"(default {DEFAULT_TRIALS})")
    s.add_argument("--flash-kb", type=float, default=None, metavar="KB",
                   help="flash budget of the int8 model (default: the converter's, --flash-budget-kb)")
    s.add_argument("--arena-kb", type=float, default=None, metavar="KB",
                   help="RAM budget of the tensor arena plus a GRU's state (default: the converter's --ram-budget-kb)")
    s.add_argument("--latency-ms", type=float, default=None, metavar="MS",
                   help="budget of the converter's estimated latency per window at 64 MHz (default: none)")
    s.add_argument("--arch", default=",".join(Space().archs), metavar="LIST",
                   help=f"architecture families to search, comma-separated (default {','.join(Space().archs)})")
    s.add_argument("--widths", default=",".join(map(str, WIDTHS)), metavar="LIST",
                   help=f"filter counts of the first convolution to choose from (default {','.join(map(str, WIDTHS))})")
    s.add_argument("--gru-units", default=",".join(map(str, GRU_UNIT_CHOICES)), metavar="LIST",
                   help=f"GRU sizes to choose from (default {','.join(map(str, GRU_UNIT_CHOICES))})")
    fractions = ", ".join(f"{f:.2g}" for f in RATE_FRACTIONS[1:])
    s.add_argument("--rates", default=None, metavar="LIST",
                   help=f"rates in Hz the model may run at, comma-separated, 'full' for the dataset's own; none above "
                        f"the dataset's (default: the dataset's rate and {fractions} of it in whole Hz, e.g. 119 Hz -> "
                        f"{','.join(f'{r:g}' for r in rate_choices(119.0))}). The chosen run's contract states the rate "
                        "and the board resamples its IMU's stream to it")
    s.add_argument("--epochs", default=f"{EPOCHS[0]}-{EPOCHS[1]}", metavar="MIN-MAX",
                   help=f"range of training epochs, in steps of 5 when wide enough (default {EPOCHS[0]}-{EPOCHS[1]})")
    s.add_argument("--folds", type=int, default=DEFAULT_FOLDS, metavar="K",
                   help=f"cross-validation folds per trial, at most the number of people (default {DEFAULT_FOLDS})")
    s.add_argument("--seed", type=int, default=0, help="seed of the folds, augmentation and weights of every trial (default 0)")
    s.add_argument("--pick", type=int, default=None, metavar="N",
                   help="build the chosen run from trial N (any finished trial, e.g. a point of the front) instead of the "
                        "one the confirmation chooses")
    s.add_argument("--confirm", type=int, default=DEFAULT_CONFIRM, metavar="K",
                   help=f"before choosing, train and score again the K most accurate trials that fit, plus fit's default "
                        f"model when the study has it (--baseline), with --confirm-seeds further seeds (other folds of "
                        f"people, weights and augmentation), and choose by the mean over all scorings; the scorings are "
                        f"kept in the study, so running the command again reuses them (default {DEFAULT_CONFIRM}; 0: "
                        "choose by the search's score alone)")
    s.add_argument("--confirm-seeds", type=int, default=DEFAULT_CONFIRM_SEEDS, metavar="N",
                   help=f"further seeds per confirmed trial: the study's --seed plus 1, 2, ... (default "
                        f"{DEFAULT_CONFIRM_SEEDS})")
    s.add_argument("--baseline", action="store_true",
                   help="when the study is new, score fit's default model (conv1d, width 16) first, exactly as the "
                        "candidates: the front then shows whether the search beats it")
    s.add_argument("--no-start-points", dest="start_points", action="store_false",
                   help="when the study is new, do not start it from fit's default model at 2x and 4x fewer filters "
                        "(width 8 and 4: known-sound small candidates the sampler then learns from; they count as trials)")
    s.add_argument("--create-only", action="store_true",
                   help="create the study (or check an existing one's settings) and exit: 'search-worker' processes "
                        "then run its trials; 'search' with the same options afterwards reports and builds the run")
    s.add_argument("--storage", default=None, metavar="URL",
                   help="the study's database, shared by workers: postgresql://USER[:PASSWORD]@HOST[:PORT]/DB (psycopg 3), "
                        "or any SQLAlchemy URL (default: sqlite:///SEARCH_DIR/study.db)")
    s.add_argument("--study", default=DEFAULT_STUDY, metavar="NAME", help=f"the study's name (default {DEFAULT_STUDY})")
    _common(s)
    s.set_defaults(func=run_search)


def add_worker_parser(sub) -> None:
    w = sub.add_parser(
        "search-worker", help="join a search's study and run trials until it has its number of trials",
        epilog="example: %(prog)s --storage postgresql://me@db-host/searches --study s1",
        description="Join study NAME in the shared --storage (started by 'nanogest search ... --storage URL "
        "--study NAME') and run its trials: the data, budgets, space and trial count are the study's own. The dataset "
        "must be at the study's path, or give --data-dir; its hash must match. One line per trial on stderr; the "
        "trials this worker finished as JSON on stdout.")
    w.add_argument("--storage", required=True, metavar="URL", help="the study's database, as given to 'search'")
    w.add_argument("--study", default=DEFAULT_STUDY, metavar="NAME", help=f"the study's name (default {DEFAULT_STUDY})")
    w.add_argument("--data-dir", type=Path, default=None, metavar="DIR", help="the dataset, when not at the study's path")
    w.add_argument("--wait", type=float, default=0, metavar="S",
                   help="wait up to S seconds for the study to be created (workers started before 'search'; default 0)")
    _common(w)
    w.set_defaults(func=run_worker)


def _budgets(args) -> Budgets:
    from converter.int8 import cost

    b = Budgets(flash_kb=args.flash_kb if args.flash_kb is not None else float(cost.DEFAULT_FLASH_BUDGET_KB),
                arena_kb=args.arena_kb if args.arena_kb is not None else float(cost.DEFAULT_RAM_BUDGET_KB),
                latency_ms=args.latency_ms)
    if b.flash_kb <= 0 or b.arena_kb <= 0 or (b.latency_ms is not None and b.latency_ms <= 0):
        raise TrainingError("--flash-kb, --arena-kb and --latency-ms must be positive")
    return b


def _space(args) -> Space:
    lo, hi = parse_epochs(args.epochs)
    space = Space(archs=[a.strip() for a in args.arch.split(",") if a.strip()],
                  widths=parse_int_list(args.widths, "--widths"), gru_units=parse_int_list(args.gru_units, "--gru-units"),
                  min_epochs=lo, max_epochs=hi)
    space.check()
    return space


@contextlib.contextmanager
def _log_file(path: Path | None):
    if path is None:
        with open("/dev/null", "w") as f:
            yield f
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        yield f


def run_search(args) -> dict:
    if args.trials < 0 or args.folds < 2:
        raise TrainingError(f"--trials must be 0 or more and --folds at least 2, got {args.trials} and {args.folds}")
    if args.confirm < 0 or args.confirm_seeds < 1:
        raise TrainingError(f"--confirm must be 0 or more and --confirm-seeds at least 1, got {args.confirm} and "
                            f"{args.confirm_seeds}")
    budgets, space = _budgets(args), _space(args)
    search_dir = Path(args.out)
    search_dir.mkdir(parents=True, exist_ok=True)
    takes = load_takes(args.data_dir, sys.stderr)
    data_rate_hz = dataset_rate_hz(takes)
    space.rates_hz = parse_rates(args.rates, data_rate_hz) if args.rates else rate_choices(data_rate_hz)
    settings = {"version": SEARCH_VERSION, "data_dir": str(Path(args.data_dir).resolve()),
                "dataset_sha256": dataset_hash(args.data_dir, takes), "budgets": budgets.to_dict(),
                "space": space.to_dict(), "folds": args.folds, "seed": args.seed, "trials": args.trials}
    url = storage_url(args.storage, search_dir)
    study = open_study(url, args.study, args.grace, settings)
    before = counts(study)
    if not study.get_trials(deepcopy=False):
        from search.space import baseline_params, starting_points

        if args.baseline:
            study.enqueue_trial(baseline_params(space, data_rate_hz), user_attrs={"baseline": True})
        for point in starting_points(space, data_rate_hz) if args.start_points else []:
            study.enqueue_trial(point, user_attrs={"start_point": True})
            print(f"search: starting point {describe(point)} (fit's default with fewer filters)", file=sys.stderr)
    if args.create_only:
        return {"study": args.study, "storage": shown_url(url), "created": True, **counts(study)}
    print(f"search: study {args.study!r} in {shown_url(url)}: {before['complete'] + before['pruned'] + before['failed']} "
          f"of {args.trials} trials finished; budgets flash {budgets.flash_kb:g} KB, arena {budgets.arena_kb:g} KB"
          f"{f', latency {budgets.latency_ms:g} ms' if budgets.latency_ms else ''}; {args.folds} folds per trial",
          file=sys.stderr, flush=True)
    with _log_file(args.log or search_dir / "trials.log") as log:
        try:
            mine = work(study, takes, log, timeout_min=args.timeout)
        except KeyboardInterrupt:
            c = counts(study)
            raise SearchInterrupted(f"interrupted: {c['complete'] + c['pruned']} finished trials are kept in "
                                    f"{shown_url(url)}; run the same command again to continue") from None
        try:
            return summarize(study, url, args.data_dir, search_dir, takes, args.pick, mine, log=log,
                             confirm_k=args.confirm, confirm_n=args.confirm_seeds)
        except KeyboardInterrupt:
            raise SearchInterrupted(f"interrupted while confirming or building the chosen run; the study in "
                                    f"{shown_url(url)} keeps its trials and every finished confirmation, run the same "
                                    "command again to go on") from None


class SearchInterrupted(TrainingError):
    """Ctrl-C during a search: the finished trials are in the storage."""

    exit_status = EXIT_INTERRUPTED


def run_worker(args) -> dict:
    url = storage_url(args.storage, None)
    deadline = time.monotonic() + args.wait
    while True:
        try:
            study = open_study(url, args.study, args.grace)
            break
        except TrainingError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(1.0)
    s = settings_of(study)
    data_dir = args.data_dir or Path(s["data_dir"])
    takes = load_takes(data_dir, sys.stderr)
    if dataset_hash(data_dir, takes) != s["dataset_sha256"]:
        raise TrainingError(f"{data_dir} is not the dataset study {args.study!r} searches (its hash differs); give "
                            "--data-dir with a copy of that dataset")
    with _log_file(args.log) as log:
        try:
            mine = work(study, takes, log, timeout_min=args.timeout)
        except KeyboardInterrupt:
            raise SearchInterrupted(f"interrupted: this worker's finished trials are kept in {shown_url(url)}") from None
    c = counts(study)
    return {"study": args.study, "storage": shown_url(url), "trials_finished_here": mine, **c}
