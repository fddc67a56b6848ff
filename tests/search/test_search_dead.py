"""A worker that dies leaves no trial 'running' for good: on Optuna's real SQLite storage, a trial whose
heartbeat went stale and one that never beat (its worker killed between creating it and the first
heartbeat) are failed and queued again once; live and just-started trials are left alone."""

from __future__ import annotations

import time

import optuna
import pytest
from optuna.trial import TrialState

from search.study import fail_dead_trials, open_storage

GRACE_S = 1
# study.ask() outside study.optimize, on a storage with heartbeats: what a worker does in its first instants
pytestmark = pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")


def test_stale_and_never_beating_trials_are_failed_and_queued_again_live_ones_are_left(tmp_path):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(f"sqlite:///{tmp_path / 'study.db'}", GRACE_S)
    study = optuna.create_study(study_name="s", storage=storage, directions=["maximize", "minimize", "minimize"])
    never_beat = study.ask()
    stale = study.ask()
    storage.record_heartbeat(stale._trial_id)
    alive = study.ask()
    time.sleep(GRACE_S + 1.0)
    storage.record_heartbeat(alive._trial_id)
    just_started = study.ask()  # no heartbeat yet, but younger than the grace period

    failed = fail_dead_trials(study)

    assert failed == sorted([never_beat.number, stale.number])
    state = {t.number: t.state for t in study.get_trials(deepcopy=False)}
    assert state[never_beat.number] == state[stale.number] == TrialState.FAIL
    assert state[alive.number] == state[just_started.number] == TrialState.RUNNING
    retries = sorted(t.system_attrs["failed_trial"] for t in study.get_trials(deepcopy=False, states=(TrialState.WAITING,)))
    assert retries == failed  # each queued again, once
    assert fail_dead_trials(study) == []  # nothing more to fail: the two live trials stay as they are
