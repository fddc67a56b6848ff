"""``nanogest search`` / ``search-worker`` against the real parts: TensorFlow training,
the real converter and TFLM, Optuna's SQLite storage, and a real PostgreSQL server shared by
worker processes. Small data (the demo's shape) and 20-epoch conv1d trials keep each test to a minute or two."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from capture.synth import write_dataset
from postgres_server import postgres_server
from search.study import load_takes
from training.split import cv_folds

pytestmark = pytest.mark.slow
# conv1d only, 20 epochs: these tests (of interrupting, resuming and sharing a study) must not depend on
# what the sampler draws, and a study whose every trial was pruned at chance (or whose chosen run the converter
# refused) has nothing to build. Measured on the data below, 8 trials each: in 8 epochs half of the draws
# stayed near chance on people they never saw; in 20, 5 of 8 finished at 0.87-0.99 and 3 were pruned after
# one fold. ds-conv1d w6 without augmentation can stay at chance and be refused. The rate: test_search_rate.py.
CHEAP = ["--folds", "2", "--epochs", "20-20", "--arch", "conv1d", "--widths", "6,8", "--rates", "full"]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}


def _nanogest(*args, **kw) -> list[str]:
    return [sys.executable, "-m", "nanogest", *map(str, args)]


def _run(*args, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run(_nanogest(*args), capture_output=True, text=True, timeout=timeout, env=ENV)


def _start(*args, log: Path) -> subprocess.Popen:
    return subprocess.Popen(_nanogest(*args), stdout=subprocess.PIPE, stderr=open(log, "w"), text=True, env=ENV)


def _study(url: str, name: str = "nanogest"):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # the driver the search uses for a plain postgresql:// URL (search/study.py)
    return optuna.load_study(study_name=name, storage=url.replace("postgresql://", "postgresql+psycopg://"))


def _poll(url: str, name: str, states=("COMPLETE", "PRUNED")) -> list[tuple[int, str]]:
    """(number, worker) of the study's trials in ``states``, read with plain SQL so that polling never
    creates the storage's tables while the search is creating them."""
    sql = ("SELECT t.number, a.value_json FROM trials t JOIN studies s ON s.study_id = t.study_id "
           "LEFT JOIN trial_user_attributes a ON a.trial_id = t.trial_id AND a.key = 'worker' "
           f"WHERE s.study_name = '{name}' AND t.state IN ({', '.join(repr(x) for x in states)})")
    if url.startswith("sqlite:///"):
        import sqlite3

        path = url[len("sqlite:///"):]
        if not Path(path).is_file():
            return []
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as c:
            rows = c.execute(sql).fetchall()
    else:
        import psycopg

        with psycopg.connect(url) as c:
            rows = c.execute(sql).fetchall()
    return [(n, json.loads(w) if w else None) for n, w in rows]


def _trials(url: str, name: str = "nanogest") -> list:
    return _study(url, name).get_trials(deepcopy=False)


def _wait_for(predicate, what: str, procs=(), timeout=300):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception as e:  # noqa: BLE001 - the storage may not hold the study yet
            last = e
        for p in procs:
            assert p.poll() is None, f"a search process ended (status {p.returncode}) before {what} (last error: {last!r})"
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what} (last error: {last!r})")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("search") / "data"
    # the demo's shape (4 people, 8 one-second takes per label): 3 people with 4 takes, or 2-s takes whose
    # gesture sits anywhere in the take, left most draws at 0.40-0.75 on people they never saw, and such weak
    # models are the ones whose int8 copy changes labels and is refused
    write_dataset(d, ["p1", "p2", "p3", "p4"], 8, 119, labels=("flex", "punch", "wave"))
    return d


@pytest.fixture(scope="module")
def pg_url():
    with postgres_server() as url:
        yield url


def test_interrupted_embedded_study_keeps_its_trials_and_the_same_command_continues(data, tmp_path):
    out = tmp_path / "search"
    sqlite = f"sqlite:///{out / 'study.db'}"
    args = ["search", data, "--out", out, "--trials", 3, *CHEAP]
    first = _start(*args, log=tmp_path / "first.log")
    from optuna.trial import TrialState

    _wait_for(lambda: _poll(sqlite, "nanogest"), "a finished trial", [first])
    first.send_signal(signal.SIGINT)  # Ctrl-C
    first.wait(timeout=120)
    err = (tmp_path / "first.log").read_text()
    assert first.returncode == 130, err[-2000:]
    assert "interrupted:" in err and "run the same command again" in err
    kept = {t.number: (t.state, t.values) for t in _trials(sqlite) if t.state in (TrialState.COMPLETE, TrialState.PRUNED)}
    assert kept

    second = _run(*args)
    assert second.returncode == 0, second.stderr[-3000:]
    summary = json.loads(second.stdout)
    trials = _trials(sqlite)
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)]
    assert len(finished) >= 3 and summary["complete"] + summary["pruned"] + summary["failed"] == len(finished)
    for number, (state, values) in kept.items():  # the first run's trials are the same trials, untouched
        assert trials[number].state == state and trials[number].values == values
    assert summary["trials_run_here"] and not set(summary["trials_run_here"]) & set(kept)
    assert sum("trial " in line and "/3 (#" in line for line in second.stderr.splitlines()) == len(summary["trials_run_here"])

    # The chosen run is a normal, converted run directory with the chosen trial's contract.
    chosen = summary["chosen"]
    run = Path(chosen["run_dir"])
    report = json.loads((run / "report.json").read_text())
    contract = json.loads((run / "contract.json").read_text())
    assert report["headers_written"] and (run / "generated" / "model_data.cc").is_file()
    # the searched rate (119 Hz data: one of 119, 60, 48, 40 Hz) is the run's; the board resamples to it
    assert chosen["rate_hz"] == chosen["params"]["rate_hz"] == contract["rate_hz"] <= 119
    assert contract["window"] == round(contract["rate_hz"] * chosen["params"]["window_s"])
    assert contract["arch"] == chosen["params"]["arch"]
    assert (out / "pareto.png").stat().st_size > 5000

    # Before choosing, the (up to) 3 best trials that fit were trained again with seed 1 (the study's is 0):
    # the real fit and converter on new folds; the pick is the best mean of the two scorings
    conf = summary["confirmation"]
    fitting = sorted((t for t in trials if t.state == TrialState.COMPLETE and not t.user_attrs["converter_refused"]),
                     key=lambda t: (-t.values[0], t.values[1], t.values[2], t.number))[:3]
    takes = load_takes(data, io.StringIO())
    assert conf["seeds"] == [1] and conf["scored_here"] == len(fitting) == len(conf["candidates"]) and conf["reused"] == 0
    stored = _study(sqlite).user_attrs
    for t in fitting:
        s1 = stored[f"confirm:{t.number}:1"]
        assert s1["params"] == t.params and len(s1["fold_accuracy_int8"]) == 2 and 0 <= s1["accuracy_int8"] <= 1
        assert s1["test_groups"] == cv_folds(takes, 2, seed=1)[1]  # seed 1 dealt the people into the folds
        row = next(r for r in conf["candidates"] if r["trial"] == t.number)
        assert row["scorings"] == 2
        assert abs(row["confirmed_accuracy_int8"] - (t.values[0] + s1["accuracy_int8"]) / 2) < 1e-3
        assert f": trial {t.number} seed 1: int8 {s1['accuracy_int8']:.3f} (folds " in second.stderr
    assert chosen["chosen_by"] == "confirmed mean" and chosen["scorings"] == 2
    # the best confirmed mean whose run the converter took: a refused run (a model this cheap can score int8
    # apart from float) sends the choice to the next candidate, and the summary names it
    refused = {r["trial"] for r in chosen["refused_runs"]}
    assert chosen["trial"] not in refused and all(f"run of trial {t} " in second.stderr for t in refused)
    assert chosen["confirmed_accuracy_int8"] == max(r["confirmed_accuracy_int8"] for r in conf["candidates"]
                                                    if r["trial"] not in refused)
    assert f"pick: trial {chosen['trial']} by confirmed mean: int8 {chosen['accuracy_int8']:.3f} in the search's folds, " \
        f"{chosen['confirmed_accuracy_int8']:.3f} confirmed (mean of 2 scorings)" in second.stderr
    assert "| confirmed (scorings) |" in second.stderr

    # The same command again: every scoring is reused and the chosen run kept, nothing is trained
    third = _run(*args)
    assert third.returncode == 0, third.stderr[-3000:]
    again = json.loads(third.stdout)
    assert again["confirmation"]["scored_here"] == 0 and again["confirmation"]["reused"] == len(fitting)
    assert again["confirmation"]["candidates"] == conf["candidates"] and again["chosen"]["trial"] == chosen["trial"]
    assert third.stderr.count("(stored)") == len(fitting) and " ..." not in third.stderr
    assert f"chosen: trial {chosen['trial']}, already built" in third.stderr

    # --pick names a trial; an unknown one is refused with the front's numbers (no training needed)
    wrong = _run(*args, "--pick", 999)
    assert wrong.returncode == 2 and "error: --pick 999: no finished trial with that number; the front is trials " \
        f"{', '.join(str(r['trial']) for r in summary['front'])}" in wrong.stderr


def test_impossible_budget_ends_with_an_error_naming_the_smallest_model(data, tmp_path):
    out = tmp_path / "search"
    proc = _run("search", data, "--out", out, "--trials", 2, "--flash-kb", 1, "--arena-kb", 1, *CHEAP)
    assert proc.returncode == 2, proc.stderr[-3000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: no candidate of 2 finished trials") and "Traceback" not in proc.stderr
    trials = [t for t in _trials(f"sqlite:///{out / 'study.db'}") if "model_bytes" in t.user_attrs]
    smallest = min(trials, key=lambda t: t.user_attrs["model_bytes"])
    assert f"smallest model seen was trial {smallest.number} " in last
    assert f"{smallest.user_attrs['model_bytes']:,} model bytes" in last
    assert all(t.user_attrs["folds_run"] == 1 for t in trials)  # over budget after one fold: no more folds
    assert all(any(v > 0 for v in t.system_attrs["constraints"]) for t in trials)  # infeasible, not dropped


def test_two_workers_on_postgresql_finish_distinct_trials_and_a_killed_one_loses_none(data, tmp_path, pg_url):
    """A search and a search-worker share one study on a real PostgreSQL server; the worker is killed
    (SIGKILL) right after finishing a trial: its finished trials stay, the trial it was running is
    failed once its heartbeat is stale and run again, and the search completes the study."""
    from optuna.trial import TrialState

    out = tmp_path / "search"
    worker = _start("search-worker", "--storage", pg_url, "--study", "shared", "--wait", 120, "--grace", 4,
                    log=tmp_path / "worker.log")
    search = _start("search", data, "--out", out, "--trials", 5, "--storage", pg_url, "--study", "shared",
                    "--grace", 4, "--confirm", 1, *CHEAP, log=tmp_path / "search.log")
    worker_id = None

    def worker_finished_one():
        nonlocal worker_id
        for _, who in _poll(pg_url, "shared"):
            if who and who.endswith(f":{worker.pid}"):
                worker_id = who
                return True
        return False

    _wait_for(worker_finished_one, "a trial finished by the worker", [worker, search])
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    survived = {t.number: (t.state, t.values) for t in _trials(pg_url, "shared")
                if t.state in (TrialState.COMPLETE, TrialState.PRUNED) and t.user_attrs.get("worker") == worker_id}
    assert survived
    s_out, _ = search.communicate(timeout=600)
    assert search.returncode == 0, (tmp_path / "search.log").read_text()[-3000:]
    summary = json.loads(s_out)
    by_search = summary["trials_run_here"]
    # the confirmation's scoring is kept in the PostgreSQL study too
    best = summary["confirmation"]["candidates"][0]
    assert summary["confirmation"]["scored_here"] == 1 and f"confirm:{best['trial']}:1" in _study(pg_url, "shared").user_attrs
    assert by_search and not set(by_search) & set(survived)  # two processes, distinct trials
    trials = _trials(pg_url, "shared")
    for number, (state, values) in survived.items():
        assert trials[number].state == state and trials[number].values == values
    assert {t.user_attrs.get("worker") for t in trials if t.number in by_search} != {worker_id}
    assert not [t for t in trials if t.state == TrialState.RUNNING]  # a killed worker's trial does not hang on
    failed = [t.number for t in trials if t.state == TrialState.FAIL]
    retried = [t.system_attrs.get("failed_trial") for t in trials if t.system_attrs.get("failed_trial") is not None]
    assert set(failed) <= set(retried)  # the trial the worker was killed in is run again
    done = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)]
    assert len(done) >= 5


def test_a_new_study_is_started_from_fits_default_with_fewer_filters_and_then_left_to_the_sampler(data, tmp_path):
    """--create-only: the study's first trials wait to be run, fit's default (--baseline) first, then
    its copy with half the filters (a quarter, 2, lies outside the searched widths); the same command
    again does not queue them twice."""
    out = tmp_path / "search"
    args = ["search", data, "--out", out, "--trials", 5, "--folds", 2, "--arch", "conv1d,ds-conv1d", "--baseline",
            "--rates", "full,60", "--create-only"]
    proc = _run(*args)
    assert proc.returncode == 0, proc.stderr
    assert "search: starting point conv1d w4 d3 k5" in proc.stderr
    url = f"sqlite:///{out / 'study.db'}"
    waiting = [(t.system_attrs["fixed_params"], t.user_attrs) for t in _trials(url)]  # queued: not run yet
    assert [p["width"] for p, _ in waiting] == [8, 4]
    assert {p["rate_hz"] for p, _ in waiting} == {60.0}  # conv1d's own rate, as fit runs it
    assert waiting[0][1] == {"baseline": True} and all(a == {"start_point": True} for _, a in waiting[1:])
    assert {p["arch"] for p, _ in waiting} == {"conv1d"} and len({p["epochs"] for p, _ in waiting}) == 1
    assert _run(*args).returncode == 0 and len(_trials(url)) == 2

    none = tmp_path / "none"
    proc = _run("search", data, "--out", none, "--trials", 5, "--folds", 2, "--arch", "conv1d", "--no-start-points",
                "--create-only")
    assert proc.returncode == 0, proc.stderr
    assert _trials(f"sqlite:///{none / 'study.db'}") == []
