"""A GRU run on the virtual board: the core steps the one-step model (x_t, h) -> (h', scores),
carrying h itself, and every window's scores equal the laptop's TFLM stepping
(converter.gru.stepping) byte for byte. Tiny data and a few epochs: the model need not be good,
board and laptop must agree. The run is tests/conftest.py's gru_run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from boardtools.replay import replay
from run_programs import as_float32, settings_in_header
from training.families import family

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 120.0


def board_settings(model: Path) -> dict:
    """The settings the virtual board built for ``model`` runs with."""
    proc = subprocess.run([str(ROOT / "firmware/build/host/virtual_board"), "--model", str(model), "--python",
                           sys.executable, "--print-settings"], capture_output=True, text=True, timeout=WAIT_S)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_the_virtual_board_for_a_gru_run_compiles_in_its_step_settings(gru_run):
    run_dir, _ = gru_run
    settings = board_settings(run_dir)
    report = json.loads((run_dir / "report.json").read_text())
    gru = report["gru"]
    contract = json.loads((run_dir / "contract.json").read_text())
    assert contract["rate_hz"] == min(family("gru").rate_hz or 119.0, 119.0)  # fit's rate for gru on 119 Hz takes
    assert settings["step_model"] is True and settings["state_size"] == gru["units"]
    assert settings["steps_per_window"] == gru["steps_per_window"] == contract["window"]
    assert settings["step_input_samples"] == 1 and settings["step_stride_samples"] == 1
    assert settings["state_input_zero_point"] == gru["state_input"]["zero_point"]
    assert settings["state_carried_as_int8"] == gru["state_carried_as_int8"]
    converted = (Path(report["header_dir"]) / "model_settings.h").read_text()  # what the board is built from
    assert as_float32(settings) == as_float32(settings_in_header(converted))


def test_board_stepping_equals_host_tflm_stepping_on_every_window(gru_run):
    run_dir, data = gru_run
    summary = replay(run_dir, data)
    assert summary["windows"] == 3 * 2 * 2  # one window per 1-s take (one step per sample at the model's rate)
    assert summary["agreement"] == 1.0  # label and raw int8 score of every window
    assert summary["accuracy_board"] == summary["accuracy_host"]


def test_a_gru_model_without_its_header_gets_the_same_step_settings(gru_run, tmp_path):
    """The GRU's .tflite and contract.json alone (no converted header): the header the converter's generator
    writes from the model's tensors states the same settings as the one convert wrote."""
    from boardtools.virtual_build import run_header

    run_dir, _ = gru_run
    for name in ("model_int8.tflite", "contract.json"):
        (tmp_path / name).write_bytes((run_dir / name).read_bytes())
    converted = Path(json.loads((run_dir / "report.json").read_text())["header_dir"]) / "model_settings.h"
    generated = settings_in_header(run_header(tmp_path / "model_int8.tflite"))
    stated = settings_in_header(converted.read_text())
    assert "arena_measured_bytes" not in generated  # no report.json beside the model: not measured
    stated.pop("arena_measured_bytes")
    assert generated["step_model"] is True and as_float32(generated) == as_float32(stated)
    assert board_settings(tmp_path / "model_int8.tflite")["state_size"] == stated["state_size"]


def test_a_step_model_on_a_rev2_board_steps_the_resampled_stream_like_the_laptop(gru_run, tmp_path):
    from capture.synth import write_dataset

    run_dir, _ = gru_run
    data = tmp_path / "data"
    write_dataset(data, subjects=["p3"], takes_per_label=2, rate_hz=100.0, labels=("punch", "wave", "idle"),
                  take_seconds=2.5, seed=9, imu="BMI270")
    summary = replay(run_dir, data, imu="bmi270")
    assert summary["board_resamples"] is True and summary["imu_rate_hz"] == 100.0
    assert summary["windows"] == 3 * 2 * 2  # 2.5 s of 100 Hz samples resampled to the model's rate: two 1-s windows
    assert summary["agreement"] == 1.0


def test_a_gru_run_carries_the_lengths_gate_from_fit_through_convert_to_its_board(gru_run):
    """The default `fit` gives a GRU the gate of the vector lengths; `convert` accepts it and writes it beside
    the step constants; the virtual board built from that header reads it (--print-settings)."""
    from contract.input import step_window_samples
    from converter.gate import gate_constants
    from converter.gru.stepping import step_settings
    from converter.run_dir import load_contract

    run_dir, _ = gru_run
    contract = load_contract(run_dir)
    assert contract.novelty_gate.statistics == "lengths" and contract.unknown_label in contract.labels
    report = json.loads((run_dir / "report.json").read_text())
    header = (Path(report["header_dir"]) / "model_settings.h").read_text()
    assert "constexpr bool kIsStepModel = true;" in header and "constexpr bool kGateLengths = true;" in header
    step = step_settings((run_dir / "model_int8.tflite").read_bytes(), contract)
    settings = board_settings(run_dir)
    level = gate_constants(contract, (step.io.x.scale, step.io.x.zero_point)).level
    assert settings["novelty_gate"] == "lengths" and np.float32(settings["gate_level"]) == level
    # the samples the board's gate reads, by the converter's step model and by the contract alone (fit's view)
    gru = contract.gru
    assert np.array_equal(step.window_samples, step_window_samples(gru.chunk_samples, gru.stride_samples,
                                                                   step.steps_per_window))


def test_the_board_reports_unknown_for_the_step_windows_the_gate_rejects(gru_run, tmp_path):
    """The run's gate with its level moved between two windows' distances, mid-way through the takes: the
    virtual board (InferencePipeline's step path) agrees with the laptop on every window's label and score, and
    the laptop's (converter/gate.py's) rejected windows are reported unknown, the rest as the model scored them."""
    from boardtools.replay import host_step_scores, step_input_samples
    from capture.dataset import list_takes, read_take
    from contract.document import Contract
    from contract.resample import IMU_SCALES, rate_mhz, values_to_counts
    from converter.gate import gate_constants, gate_distances
    from converter.gru.stepping import step_settings
    from converter.postprocess import reported_top, settings_from_contract

    run_dir, data = gru_run
    for name in ("model_int8.tflite", "contract.json"):
        (tmp_path / name).write_bytes((run_dir / name).read_bytes())
    raw = json.loads((tmp_path / "contract.json").read_text())
    model_bytes = (tmp_path / "model_int8.tflite").read_bytes()
    step = step_settings(model_bytes, Contract.from_dict(raw))
    scales = IMU_SCALES["LSM9DS1"]
    takes = [(values_to_counts(t.values, *scales), rate_mhz(t.meta.rate_hz)) for t in map(read_take, list_takes(data))]

    def reported(contract):  # the laptop's label per window; the virtual board's IMU runs at the takes' rate
        scores = np.concatenate([host_step_scores(c, contract, scales, model_bytes, step, mhz) for c, mhz in takes])
        return reported_top(scores, settings_from_contract(contract, (step.io.scores.scale, step.io.scores.zero_point)))[0]

    contract = Contract.from_dict(raw)
    input_q = (step.io.x.scale, step.io.x.zero_point)
    d = gate_distances(np.concatenate([step.read_windows(step_input_samples(c, contract, scales, step, mhz))
                                       for c, mhz in takes]), input_q[1], gate_constants(contract, input_q))
    ordered = np.sort(d)
    middle = np.arange(len(d) // 4, 3 * len(d) // 4)
    k = middle[np.argmax(ordered[middle + 1] - ordered[middle])]  # the widest gap mid-way: no rounding crosses it
    raw["novelty_gate"]["level"] = float((ordered[k] + ordered[k + 1]) / 2)
    (tmp_path / "contract.json").write_text(json.dumps(raw))
    gated = Contract.from_dict(raw)
    fires = d > raw["novelty_gate"]["level"]
    unknown = gated.labels.index(gated.unknown_label)
    laptop, ungated = reported(gated), reported(gated.replace(novelty_gate=None))
    assert 0 < fires.sum() < len(d) and (laptop[fires] == unknown).all()
    assert np.array_equal(laptop[~fires], ungated[~fires]) and (ungated[fires] != unknown).any()
    summary = replay(tmp_path, data)
    assert summary["agreement"] == 1.0 and summary["windows"] == len(d)
    assert summary["unknown_windows"] == (laptop == unknown).sum()


def test_evaluate_reports_what_the_step_models_board_reports_after_its_gate(gru_run):
    """converter/evaluate's board top-1 for a GRU run: the gate over the samples the window's steps read (the
    replay test above checks those against the board) makes a rejected window unknown, the rest keep the
    model's top-1."""
    from contract.fields import NoveltyGate
    from contract.input import normalize
    from converter.evaluate import board_predictions
    from converter.gate import gate_constants, gate_distances
    from converter.gru.stepping import step_settings
    from converter.int8.tflm import quantize_input
    from converter.run_dir import load_contract
    from training.data import load_dataset, windows_for

    run_dir, data = gru_run
    contract = load_contract(run_dir)
    model_bytes = (run_dir / "model_int8.tflite").read_bytes()
    step = step_settings(model_bytes, contract)
    x = normalize(windows_for(load_dataset(data), contract)[0], contract)
    input_q = (step.io.x.scale, step.io.x.zero_point)
    d = gate_distances(quantize_input(x, step.io.x)[:, step.window_samples], input_q[1], gate_constants(contract, input_q))
    gate = contract.novelty_gate
    contract = contract.replace(novelty_gate=NoveltyGate(gate.weights, gate.bias, float(np.median(d)), gate.record))
    scores = np.random.default_rng(2).integers(-128, 128, (len(x), len(contract.labels))).astype(np.int8)
    predicted, fires = board_predictions(scores, x, contract, model_bytes), d > np.float32(np.median(d))
    assert 0 < fires.sum() < len(x) and (predicted[fires] == contract.labels.index(contract.unknown_label)).all()
    assert np.array_equal(predicted[~fires], scores[~fires].argmax(axis=1))
