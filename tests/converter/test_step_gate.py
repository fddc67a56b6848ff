"""Which samples a step model's novelty gate reads: `fit` works them out from the contract's GRU front end
(contract.fields.GruShape.chunk_samples, contract.input.gate_window), the converter from the model it plans
and exports (converter.gru.gru_step.plan_steps, StepSettings.window_samples); both must name the same."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from contract.document import gru_shape
from contract.input import step_window_samples
from converter.gru.gru_step import plan_steps

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("window, kernel, front_layers", [(119, 5, 2), (60, 5, 2), (119, 3, 3), (45, 7, 1)])
def test_the_contract_and_the_converters_plan_agree_on_a_steps_samples(window, kernel, front_layers):
    from training.families.cnn_gru import build_cnn_gru
    from training.models import gru_description

    model = build_cnn_gru((window, 6), 3, width=2, units=2, kernel=kernel, front_layers=front_layers)
    gru = gru_shape(gru_description(model))
    plan = plan_steps(model, window, 6)
    assert (gru.chunk_samples, gru.stride_samples) == (plan.chunk_samples, plan.stride_samples)
    reads = step_window_samples(plan.chunk_samples, plan.stride_samples, plan.steps_per_window)
    last = (plan.steps_per_window - 1) * plan.stride_samples + plan.chunk_samples
    assert np.array_equal(reads, np.arange(last)) and window - plan.stride_samples < last <= window


def test_a_plain_gru_reads_every_sample_of_its_window():
    assert gru_shape({"units": 8, "front_end": None}).chunk_samples == 1
    assert np.array_equal(step_window_samples(1, 1, 40), np.arange(40))


def test_a_front_end_without_its_kernels_leaves_the_whole_window_to_the_gate():
    """A contract from before the front end's layers were described names them alone: no chunk to count."""
    from contract.input import gate_window
    from converter.run_dir import load_contract

    contract = load_contract(REPO / "firmware" / "host" / "default_run").replace(
        gru=gru_shape({"units": 8, "front_end": ["front_conv1"]}))
    assert contract.gru.chunk_samples is None
    x = np.zeros((2, contract.window, 6))
    assert gate_window(x, contract) is x
