"""A rate the search chose, through fit and the real converter: the chosen run's contract states
it, and the converter's MACs and latency follow from the shorter window."""

from __future__ import annotations

import json

import pytest
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState, create_trial

from capture.synth import write_dataset
from search.choose import build_chosen_run
from search.space import rate_choices
from search.trial import Budgets

pytestmark = pytest.mark.slow


def _chosen(number: int, rate_hz: float):
    params = {"arch": "ds-conv1d", "width": 6, "kernel": 5, "depth": 3, "rate_hz": rate_hz, "window_s": 1.0,
              "hop_s": 0.25, "augment": "none", "learning_rate": 0.005, "epochs": 10}
    t = create_trial(state=TrialState.COMPLETE, values=[0.5, 1000, 1.0], params=params,
                     distributions={k: CategoricalDistribution([v]) for k, v in params.items()})
    t.number = number
    return t


def test_the_chosen_runs_contract_has_the_searched_rate_and_the_converter_counts_its_window(tmp_path):
    data = tmp_path / "data"
    write_dataset(data, ["ann", "bob", "cem"], 6, 119, labels=("flex", "punch", "wave"), take_seconds=2.0)
    full, low = rate_choices(119.0)[0], rate_choices(119.0)[-1]
    runs = {}
    for number, rate in ((0, full), (1, low)):
        out = tmp_path / f"search{number}"
        summary = build_chosen_run(_chosen(number, rate), data, out, Budgets(flash_kb=704, arena_kb=160), seed=0)
        contract = json.loads((out / "run" / "contract.json").read_text())
        report = json.loads((out / "run" / "report.json").read_text())
        assert contract["rate_hz"] == rate and contract["window"] == round(rate * 1.0)
        assert summary["run_latency_ms"] == report["latency_ms_estimate"]
        runs[rate] = (contract, report)
    (c_full, r_full), (c_low, r_low) = runs[full], runs[low]
    # ds-conv1d's MACs grow with the window's samples: the same seconds at the lower rate cost less
    assert c_low["window"] < c_full["window"]
    assert r_low["macs"] < r_full["macs"] * (c_low["window"] + 4) / c_full["window"]
    assert r_low["latency_ms_estimate"] < r_full["latency_ms_estimate"]
    print(f"rate {full:g} Hz: window {c_full['window']}, {r_full['macs']:,} MACs, {r_full['model_bytes']:,} B, "
          f"{r_full['latency_ms_estimate']} ms; rate {low:g} Hz: window {c_low['window']}, {r_low['macs']:,} MACs, "
          f"{r_low['model_bytes']:,} B, {r_low['latency_ms_estimate']} ms")
