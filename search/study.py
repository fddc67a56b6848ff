"""``nanogest search`` and ``search-worker``: the most accurate model that fits the board.

An Optuna study (several objectives: int8 accuracy up, model bytes and estimated latency down;
budgets as constraints; search/trial.py runs one trial) lives in a storage that every
worker shares: by default ``SEARCH_DIR/study.db`` (SQLite, nothing to install; every finished
trial is committed at once, so Ctrl-C or a crash loses only the trial that was running, and the
same command again continues the study), or any SQLAlchemy URL given with ``--storage``, such as
``postgresql://user@host/db`` (driver: psycopg 3, ``postgresql+psycopg://`` is used for a plain
``postgresql://``), which ``search-worker`` processes on any machine join with ``--study NAME``.
What the study searches (data, budgets, space, folds, trials) is stored with it, so a worker
needs only the storage and the study's name.

Workers beat a heartbeat into the storage; a trial whose worker fell silent for ``--grace``
seconds is marked FAIL by the next worker that asks for a trial and run again once, and so is a
trial whose worker died before its first heartbeat (``fail_dead_trials``).
When the study has its number of finished trials, ``search`` confirms the best that fit with
further seeds (search/confirm.py), picks the best confirmed mean (or ``--pick N``), trains it as a normal ``fit`` run in SEARCH_DIR/run, converts it with the
board's budgets, and writes the front (table on stderr, SEARCH_DIR/pareto.png, JSON on stdout).
"""

from __future__ import annotations

import os
import socket
import sys
import time
import warnings
from pathlib import Path

from training import TrainingError
from search.report import best_fitting, finished
from search.space import Space, describe
from search.trial import Budgets, Objective, run_trial_safely

STUDY_ATTR = "nanogest_search"
SEARCH_VERSION = 2
DEFAULT_STUDY = "nanogest"
DEFAULT_TRIALS = 20
DEFAULT_FOLDS = 3
DEFAULT_GRACE_S = 120
SETTINGS_THAT_MUST_MATCH = ("dataset_sha256", "budgets", "space", "folds", "seed")


def _optuna():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # our own line per trial replaces Optuna's
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", category=FutureWarning, module="optuna")
    return optuna


def storage_url(storage: str | None, search_dir: Path | None) -> str:
    if storage is None:
        if search_dir is None:
            raise TrainingError("give --storage URL (the study's database) or SEARCH_DIR")
        return f"sqlite:///{(Path(search_dir) / 'study.db').resolve()}"
    if storage.startswith("postgresql://"):
        return "postgresql+psycopg://" + storage[len("postgresql://"):]
    return storage


def shown_url(url: str) -> str:
    """The URL without a password, for messages and the summary."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as given
        return url


def open_storage(url: str, grace_s: int):
    optuna = _optuna()
    from optuna.storages import RDBStorage

    retry = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None) or optuna.storages.RetryFailedTrialCallback
    kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {"pool_pre_ping": True}
    for attempt in range(5):  # two processes creating the tables of a new storage at once: one loses, tries again
        try:
            return RDBStorage(url, engine_kwargs=kwargs, heartbeat_interval=max(1, grace_s // 4), grace_period=grace_s,
                              heartbeat_stale_trial_callback=retry(max_retry=1))
        except Exception as e:  # noqa: BLE001 - SQLAlchemy and drivers raise many kinds; one sentence for all
            error = e
            time.sleep(1.0 + attempt)
    raise TrainingError(f"cannot open the study storage {shown_url(url)}: {str(error).splitlines()[0]}; check the "
                        "URL, that the server runs and accepts this user, or leave --storage out for "
                        "SEARCH_DIR/study.db")


def fail_dead_trials(study) -> list[int]:
    """Fail the running trials whose worker is gone, and queue each again once (the storage's retry
    callback); returns their numbers. Optuna's ``fail_stale_trials`` fails a trial whose heartbeat is
    older than the grace period, but not one that never beat: a worker killed between creating its
    trial and the first heartbeat leaves it 'running' for good. Such a trial, started more than the
    grace period ago with no heartbeat, is failed here too."""
    optuna = _optuna()
    from optuna.trial import TrialState

    storage = study._storage
    backend = getattr(storage, "_backend", storage)
    before = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))}
    optuna.storages.fail_stale_trials(study)
    engine, grace = getattr(backend, "engine", None), getattr(backend, "grace_period", None)
    if engine is not None and grace is not None:
        import datetime

        import sqlalchemy

        cutoff = datetime.datetime.now() - datetime.timedelta(seconds=grace)
        with engine.connect() as c:  # Optuna's own tables: trials and their heartbeats
            ids = [row[0] for row in c.execute(sqlalchemy.text(
                "SELECT t.trial_id FROM trials t LEFT JOIN trial_heartbeats h ON h.trial_id = t.trial_id "
                "WHERE t.study_id = :study AND t.state = 'RUNNING' AND h.trial_id IS NULL AND t.datetime_start < :cutoff"),
                {"study": study._study_id, "cutoff": cutoff})]
        callback = storage.get_heartbeat_stale_trial_callback()
        for trial_id in ids:
            try:
                if not storage.set_trial_state_values(trial_id, state=TrialState.FAIL):
                    continue
            except optuna.exceptions.UpdateFinishedTrialError:  # another process ended it first
                continue
            if callback is not None:
                callback(study, storage.get_trial(trial_id))
    return sorted({t.number for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))} - before)


def _sampler(budgets: Budgets, n_trials: int):
    optuna = _optuna()
    # No fixed seed: workers with one seed would draw the same candidates in the random start-up phase.
    return optuna.samplers.TPESampler(n_startup_trials=max(4, min(10, n_trials // 2)),
                                      constraints_func=lambda t: budgets.constraints(t.user_attrs))


def settings_of(study) -> dict:
    s = study.user_attrs.get(STUDY_ATTR)
    if not s:
        raise TrainingError(f"study {study.study_name!r} was not created by 'nanogest search'; "
                            "start it with 'nanogest search DATA_DIR --storage URL --study NAME'")
    return s


def open_study(url: str, name: str, grace_s: int, settings: dict | None = None):
    """The study ``name`` (created with ``settings`` if missing); refuses settings that differ from its own."""
    optuna = _optuna()
    storage = open_storage(url, grace_s)
    exists = name in [s.study_name for s in optuna.study.get_all_study_summaries(storage, include_best_trial=False)]
    if not exists and settings is None:
        raise TrainingError(f"no study {name!r} in {shown_url(url)}; start it with 'nanogest search "
                            f"DATA_DIR --out SEARCH_DIR --storage URL --study {name}'")
    stored = None
    if exists:
        stored = optuna.load_study(study_name=name, storage=storage).user_attrs.get(STUDY_ATTR)
        if stored is None and settings is None:
            raise TrainingError(f"study {name!r} in {shown_url(url)} was not created by 'nanogest search' "
                                "(or is being created right now)")
    budgets = Budgets(**(stored or settings)["budgets"])
    study = optuna.create_study(study_name=name, storage=storage, load_if_exists=True,
                                directions=["maximize", "minimize", "minimize"],
                                sampler=_sampler(budgets, (stored or settings)["trials"]))
    if stored is None:
        study.set_user_attr(STUDY_ATTR, settings)
    elif settings is not None:
        differ = [k for k in SETTINGS_THAT_MUST_MATCH if stored.get(k) != settings.get(k)]
        if differ:
            raise TrainingError(f"study {name!r} in {shown_url(url)} was started with other {', '.join(differ)} "
                                f"({', '.join(f'{k}={stored.get(k)}' for k in differ)}); run it with the same "
                                "options, or start a new study (another --out or --study)")
        if settings["trials"] != stored["trials"]:
            stored = {**stored, "trials": settings["trials"]}  # more (or fewer) trials: the new target holds
            study.set_user_attr(STUDY_ATTR, stored)
    return study


def load_takes(data_dir: Path, log):
    from training.fit import FitOptions, load_checked

    return load_checked(data_dir, FitOptions(), log)


def dataset_hash(data_dir: Path, takes) -> str:
    from training.run_info import dataset_sha256

    return dataset_sha256(data_dir, takes)


def counts(study) -> dict:
    from optuna.trial import TrialState

    states = [t.state for t in study.get_trials(deepcopy=False)]
    return {"complete": states.count(TrialState.COMPLETE), "pruned": states.count(TrialState.PRUNED),
            "failed": states.count(TrialState.FAIL), "running": states.count(TrialState.RUNNING)}


def progress_line(study, trial, budgets: Budgets, n_target: int) -> str:
    from optuna.trial import TrialState

    c = counts(study)
    done = c["complete"] + c["pruned"] + c["failed"]
    a = trial.user_attrs
    head = f"trial {done}/{n_target} (#{trial.number}, {a.get('seconds', '?')} s): {describe(trial.params)}: "
    if trial.state == TrialState.FAIL:
        body = "FAILED: " + a.get("error", "see the worker's log")
    else:
        body = (f"int8 {a['accuracy_int8']:.3f} ({a['folds_run']}/{a['folds']} folds), {a['model_bytes']:,} B, "
                f"arena {a['ram_bytes']:,} B, {a['latency_ms']:.2f} ms")
        over = budgets.violations(a)
        body += ("; PRUNED: " + a["pruned"]) if trial.state == TrialState.PRUNED else ""
        body += ("; infeasible: " + "; ".join(over)) if over else ""
    best = best_fitting(finished(study), budgets)
    tail = (f" | best that fits: {best.user_attrs['accuracy_int8']:.3f} (#{best.number}, "
            f"{best.user_attrs['model_bytes']:,} B)") if best else " | nothing fits yet"
    return head + body + tail


def work(study, takes, log, stderr=None, timeout_min: float | None = None) -> list[int]:
    """Run trials in this process until the study has its number of finished trials (any worker's)
    or ``timeout_min`` passes; returns the numbers of the trials this process finished."""
    import logging

    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # one model per fold: retracing warnings expected
    stderr = stderr or sys.stderr
    s = settings_of(study)
    budgets, n_target = Budgets(**s["budgets"]), int(s["trials"])
    objective = Objective(takes, Space.from_dict(s["space"]), budgets, int(s["folds"]), int(s["seed"]), log)
    mine: list[int] = []

    def finished_count() -> int:
        c = counts(study)
        return c["complete"] + c["pruned"] + c["failed"]

    def after(study_, trial):
        if interrupted:
            raise KeyboardInterrupt  # Ctrl-C that landed where Python ignores it (a finalizer): stop here
        mine.append(trial.number)
        print(progress_line(study_, trial, budgets, n_target), file=stderr, flush=True)
        if finished_count() >= n_target:
            study_.stop()

    if finished_count() >= n_target:
        return mine
    interrupted = []

    def on_sigint(signum, frame):
        interrupted.append(signum)
        raise KeyboardInterrupt

    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, on_sigint)
    study.set_user_attr(f"worker:{socket.gethostname()}:{os.getpid()}", time.time())
    fail_dead_trials(study)
    study.optimize(lambda trial: run_trial_safely(objective, trial), timeout=timeout_min * 60 if timeout_min else None,
                   callbacks=[after], catch=(TrainingError, _converter_error()), gc_after_trial=True)
    return mine


def _converter_error():
    from converter import ConverterError

    return ConverterError
