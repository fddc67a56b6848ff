"""When the converter refuses the chosen trial's run, ``search`` builds the next candidate instead of
ending a long search in an error. Real parts: the study as ``search --create-only`` writes it (SQLite),
``training fit`` and the real converter. Two finished trials are injected with chosen scores; the best
one claims a small model but is a conv1d of 64 filters, which the converter refuses for the 16 KB
flash budget when its run is built (its refusal of a model that loses accuracy in int8 is the same
ConverterError)."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import optuna
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState, create_trial

from capture.synth import write_dataset
from search.choose import summarize
from search.study import load_takes, open_study
from training import TrainingError

pytestmark = pytest.mark.slow


def _add(study, acc: float, width: int, model_bytes: int):
    params = {"arch": "conv1d", "width": width, "window_s": 1.0, "hop_s": 0.25, "augment": "none",
              "learning_rate": 0.005, "epochs": 4}
    dists = {k: CategoricalDistribution([v]) for k, v in params.items()}
    dists["width"] = CategoricalDistribution([6, 64])
    attrs = {"accuracy_int8": acc, "accuracy_float": acc, "fold_accuracy_int8": [acc, acc], "folds_run": 2, "folds": 2,
             "model_bytes": model_bytes, "arena_bytes": 5000, "ram_bytes": 5000, "latency_ms": 2.0,
             "converter_refused": None}
    study.add_trial(create_trial(state=TrialState.COMPLETE, values=[acc, model_bytes, 2.0], params=params,
                                 distributions=dists, user_attrs=attrs))


def test_a_refused_chosen_run_is_followed_by_the_next_candidate_and_a_refused_pick_is_an_error(tmp_path, capsys):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    data, out = tmp_path / "data", tmp_path / "search"
    write_dataset(data, ["p1", "p2", "p3", "p4"], 3, 119, labels=("flex", "punch", "wave"))
    made = subprocess.run([sys.executable, "-m", "nanogest", "search", str(data), "--out", str(out), "--trials", "2",
                           "--folds", "2", "--arch", "conv1d", "--flash-kb", "16", "--arena-kb", "10",
                           "--no-start-points", "--create-only"], capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr[-2000:]
    url = f"sqlite:///{out / 'study.db'}"
    study = open_study(url, "nanogest", 120)
    _add(study, 0.95, 64, 5_000)  # 0: the best by its (injected) score; its real model is far over 16 KB
    _add(study, 0.90, 6, 4_000)   # 1: the next
    takes = load_takes(data, io.StringIO())

    summary = summarize(study, url, data, out, takes, pick=None, mine=[], confirm_k=0)
    err = capsys.readouterr().err
    chosen = summary["chosen"]
    assert chosen["trial"] == 1 and [r["trial"] for r in chosen["refused_runs"]] == [0]
    assert "the run of trial 0 was trained in" in chosen["refused_runs"][0]["error"]
    assert "bytes of flash but the budget is 16384 bytes" in chosen["refused_runs"][0]["error"]
    assert "pick: trial 0 by search score" in err and "note: the run of trial 0 was trained in" in err
    assert err.index("note: the run of trial 0") < err.index("pick: trial 1 by search score")
    run = out / "run"
    assert chosen["headers_written"] and (run / "generated" / "model_data.cc").is_file()
    assert json.loads((run / "search_trial.json").read_text())["trial"] == 1
    assert json.loads((run / "contract.json").read_text())["arch"] == "conv1d"
    assert json.loads((out / "search.json").read_text())["chosen"]["refused_runs"][0]["trial"] == 0

    stored = study.user_attrs["run_refused:0"]
    assert stored["params"]["width"] == 64 and stored["seed"] == 0 and stored["error"] == chosen["refused_runs"][0]["error"]

    # --pick names one trial: its refusal ends the command with the converter's reason; the refusal is
    # stored, so nothing is trained again and the run built before stays
    with pytest.raises(TrainingError) as e:
        summarize(study, url, data, out, takes, pick=0, mine=[], confirm_k=0)
    assert str(e.value).startswith("the run of trial 0 was trained in") and "next candidates" not in str(e.value)
    err = capsys.readouterr().err
    assert "(stored: refused when this study built it before)" in err and "training it as a normal run" not in err
    assert json.loads((run / "search_trial.json").read_text())["trial"] == 1

    # the same command again: the stored refusal is passed over and the run of trial 1 kept, nothing trained
    again = summarize(study, url, data, out, takes, pick=None, mine=[], confirm_k=0)
    err = capsys.readouterr().err
    assert again["chosen"]["trial"] == 1 and again["chosen"]["refused_runs"][0]["stored"] is True
    assert "chosen: trial 1, already built in" in err and "training it as a normal run" not in err
