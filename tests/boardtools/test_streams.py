"""Continuous streams: how they are built, how detections are matched, and ``python -m boardtools
stream`` end to end through the virtual board over its pseudo-terminal."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from boardtools.streams import Item, Stream, build_stream, match, rest_stream, window_ends
from capture.dataset import TakeMeta, write_take
from contract.resample import IMU_SCALES

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RUN = ROOT / "firmware" / "build" / "host" / "default_run"
RATE = 119.0


def _take(label: str, n: int = 119, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 6))
    x[:, 2] = 1.0
    x[:, 3] = 200 * np.sin(np.linspace(0, np.pi, n)) * (1 if label == "a" else -1)
    x[:, :3] += rng.normal(0, 0.01, (n, 3))
    return x


def test_a_stream_lays_each_item_between_rest_and_joins_them_without_jolts():
    rng = np.random.default_rng(1)
    pieces = [(_take("a"), "a", "gesture", "t1"), (_take("b"), "b", "other", "t2"), (_take("a", seed=2), "a", "gesture", "t3")]
    s = build_stream(pieces, RATE, rng, "p")
    assert [it.label for it in s.items] == ["a", "b", "a"]
    assert [it.kind for it in s.items] == ["gesture", "other", "gesture"]
    for it, (samples, *_rest) in zip(s.items, pieces):
        np.testing.assert_allclose(s.samples[it.start:it.end], samples, atol=1e-6)  # the take itself, untouched
        assert it.end <= it.settled  # the return to rest belongs to the item when matching
    gaps = [s.items[0].start] + [b.start - a.end for a, b in zip(s.items, s.items[1:])] + [len(s.samples) - s.items[-1].end]
    assert min(gaps) >= int(1.5 * RATE)
    assert s.rest_samples == sum(gaps)
    # at every join the signal moves no more than within the takes themselves
    step = np.abs(np.diff(s.samples, axis=0)).max(axis=1)
    inside = max(np.abs(np.diff(p[0], axis=0)).max() for p in pieces)
    assert step.max() <= inside + 1.0


def test_rest_alone_barely_moves():
    from converter.postprocess import window_motion

    s = rest_stream(120, RATE, np.random.default_rng(0))
    assert len(s.samples) == 120 * RATE and s.items == [] and s.rest_samples == len(s.samples)
    ends = window_ends(len(s.samples), 119, 30)
    scales = IMU_SCALES["LSM9DS1"]
    counts = np.round(np.concatenate([s.samples[..., :3] / scales[0], s.samples[..., 3:] / scales[1]], axis=-1))
    wins = np.stack([counts[e - 118:e + 1] for e in ends])
    assert window_motion(wins, *scales, 100.0).max() < 40  # under the default motion gate


def test_detections_are_matched_to_the_item_they_fall_in():
    items = [Item(200, 319, "a", "gesture", settled=400), Item(600, 719, "b", "other", settled=800),
             Item(1000, 1119, "b", "gesture", settled=1200)]
    s = Stream(np.zeros((1500, 6), np.float32), items, RATE, "p", rest_samples=1500 - 3 * 119)
    ends = np.array([300, 340, 650, 700, 1100, 1460])
    labels = ["a", "a", "a", "b", "a", "a"]
    f, verdicts = match(s, ends, labels, 119)
    assert verdicts == ["hit", "repeat", "false activation", "false activation", "wrong", "rest"]
    summary = f.summary()
    assert (f.gestures, f.hits, f.repeats, f.wrong, f.others, f.false_activations, f.rest_false_activations) == (2, 1, 1, 1, 1, 2, 1)
    assert summary["recall"] == 0.5 and summary["false_activations_per_other"] == 2.0
    assert summary["false_activations_per_other_label"] == {"b": 2.0}


@pytest.fixture(scope="module")
def stream_data(tmp_path_factory) -> Path:
    """Two built-in people's punch and flex, and a motion the model was not taught (a fast twist)."""
    from capture.synth import make_take

    data = tmp_path_factory.mktemp("streams") / "data"
    rng = np.random.default_rng(3)
    for subject in ("ana", "ben"):
        for i in range(4):
            for label in ("punch", "flex"):
                x = make_take(label, RATE, subject, i, take_seconds=1.5, placement="whole")
                write_take(data, TakeMeta(label=label, rate_hz=RATE, subject=subject, imu="LSM9DS1", source="synth"),
                           np.round(np.arange(len(x)) * 1e6 / RATE).astype(np.int64), x)
            twist = np.zeros((150, 6))
            twist[:, 2] = 1.0
            twist[:, 5] = 300 * np.sin(np.linspace(0, 6 * np.pi, 150)) + rng.normal(0, 2, 150)
            write_take(data, TakeMeta(label="twist", rate_hz=RATE, subject=subject, imu="LSM9DS1", source="synth"),
                       np.round(np.arange(150) * 1e6 / RATE).astype(np.int64), twist)
    return data


@pytest.fixture()
def run_copy(host_build, tmp_path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(DEFAULT_RUN, run)
    return run


def _stream_cmd(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "boardtools", "stream", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def test_the_board_detects_what_the_laptop_rules_detect_on_every_stream(run_copy, stream_data):
    from boardtools.stream_eval import board_figures, laptop_figures, run_streams
    from converter.int8.flatbuffer import read_io
    from converter.postprocess import settings_from_contract

    contract, _, runs = run_streams(run_copy, stream_data, rest_minutes=0.5)
    assert len(runs) == 3  # two people and the rest
    assert sum(len(r.stream.items) for r in runs) == 2 * 12
    for r in runs:
        assert len(r.board) == len(r.scores_q) == len(r.ends)
        assert [f["score_q"] for f in r.board] == [int(r.scores_q[k, f["label_index"]]) for k, f in enumerate(r.board)]
    on_board, _ = board_figures(contract, runs)
    out = read_io((run_copy / "model_int8.tflite").read_bytes())[1]
    on_laptop = laptop_figures(settings_from_contract(contract, (out.scale, out.zero_point)), contract, runs)
    assert on_board.summary() == on_laptop.summary()
    assert on_board.gestures == 16 and on_board.others == 8


def test_stream_command_reports_tunes_into_the_contract_and_draws(run_copy, stream_data, tmp_path):
    plots = tmp_path / "plots"
    before = json.loads((run_copy / "contract.json").read_text())
    done = _stream_cmd(run_copy, stream_data, "--rest-minutes", "0.5", "--plots", plots, "--tune", "0.5")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["gestures"] == 16 and summary["other_motions"] == 8
    assert 0 <= summary["recall"] <= 1 and summary["false_activations_in_rest"] >= 0
    assert "false activations per other motion" in done.stderr
    for name in ("timeline.png", "false_activations_vs_missed.png"):
        assert (plots / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    after = json.loads((run_copy / "contract.json").read_text())
    tuned = summary["tuned"]
    assert after["score_threshold"] == tuned["score_threshold"] and after["agreement"] == tuned["agreement"]
    assert after["refractory_s"] == tuned["refractory_s"]
    gate_before, gate_after = before["novelty_gate"], after["novelty_gate"]  # the default run's gate: its level tuned too
    assert gate_after["level"] == pytest.approx(gate_before["level"] * tuned["gate_factor"], rel=1e-12)
    assert tuned["gate_factor"] == 1.0 or gate_after["tuned"]["level_before"] == gate_before["level"]
    assert after["postprocess_tuning"]["target_false_activations_per_other"] == 0.5
    assert after["labels"] == before["labels"] and after["normalization"] == before["normalization"]
    from boardtools.stream_eval import LOW_RECALL

    assert ("warning: these settings detect" in done.stderr) == (tuned["recall"] < LOW_RECALL)


def test_a_choice_that_misses_most_gestures_is_warned_about():
    from boardtools.stream_eval import LOW_RECALL, low_recall_warning

    warning = low_recall_warning({"recall": 0.138}, "the held-out people")
    assert warning.startswith("warning:") and "14% of the held-out people's gestures" in warning
    assert "--target-fa" in warning
    assert low_recall_warning({"recall": LOW_RECALL}, "the held-out people") is None
    assert low_recall_warning({"recall": None}, "x") is not None  # no gesture to measure on: nothing detected


def test_a_dataset_without_the_models_labels_gets_one_error_line(run_copy, tmp_path):
    data = tmp_path / "other"
    write_take(data, TakeMeta(label="twist", rate_hz=RATE, subject="x", imu="LSM9DS1", source="synth"),
               np.arange(200, dtype=np.int64) * 8403, np.tile([0, 0, 1, 0, 0, 0], (200, 1)).astype(float))
    done = _stream_cmd(run_copy, data)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "no takes of the model's labels" in errors[0]


def test_tuning_a_model_with_an_unknown_class_chooses_its_unknown_threshold_too(host_build, stream_data, tmp_path):
    from capture.synth import write_dataset
    from training.fit import FitOptions, fit

    data = tmp_path / "data"
    write_dataset(data, ["ann", "bob", "cem"], 3, RATE, labels=("punch", "flex"))
    run = tmp_path / "run"
    fit(data, run, FitOptions(epochs=2, negatives=("reverse",)), log=open("/dev/null", "w"))
    converted = subprocess.run([sys.executable, "-m", "converter", "convert", str(run)], cwd=ROOT,
                               capture_output=True, text=True, timeout=600)
    assert converted.returncode == 0, converted.stderr[-2000:]
    done = _stream_cmd(run, stream_data, "--rest-minutes", "0.2", "--tune", "0.5")
    assert done.returncode == 0, done.stderr[-2000:]
    tuned = json.loads(done.stdout.strip().splitlines()[-1])["tuned"]
    contract = json.loads((run / "contract.json").read_text())
    assert contract["unknown_label"] == "unknown"
    assert contract["unknown_threshold"] == tuned["unknown_threshold"] and tuned["unknown_threshold"] in (None, 0.2, 0.4)


def test_tuning_lowers_the_novelty_gates_level_when_only_that_rejects_an_other_motion():
    """An other motion the model scores as a gesture, its windows farther from the training windows than the
    gestures' but under the gate's level: no post-processing setting tells them apart, a lower level does, and
    tune chooses it; apply_choice writes the lowered level and how it came."""
    from boardtools.stream_eval import StreamRun, apply_choice, tune
    from contract.document import Contract, normalization_of
    from contract.fields import NoveltyGate
    from converter.postprocess import settings_from_contract

    gate = NoveltyGate(tuple(tuple(float(i == j) for j in range(8)) for i in range(8)), (0.0,) * 8, 10.0,
                       {"statistics": "lengths", "keep_percent": 99.5})
    contract = Contract(rate_hz=60.0, window=60, hop=15, labels=["flex", "punch", "unknown"], idle_label=None,
                        normalization=normalization_of([0.0] * 6, [1.0] * 6), unknown_label="unknown",
                        novelty_gate=gate)
    items = [Item(200, 260, "punch", "gesture", settled=400), Item(600, 660, "wave", "other", settled=800),
             Item(1000, 1060, "flex", "gesture", settled=1200)]
    stream = Stream(np.zeros((1500, 6), np.float32), items, 60.0, "p", rest_samples=1500 - 3 * 200)
    ends = window_ends(1500, 60, 15)
    model_q = np.tile(np.array([-100, -100, -128], np.int8), (len(ends), 1))
    for lo, hi, label in ((200, 330, 1), (600, 730, 1), (1000, 1130, 0)):  # punch, the wave as punch, flex
        model_q[(ends >= lo) & (ends < hi), label] = 127
    ratio = np.where((ends >= 600) & (ends < 730), 0.85, 0.5)  # the wave's windows: far, yet under the level
    run = StreamRun(stream, model_q, np.full(len(ends), 100.0), ends, [], model_q, ratio)
    base = settings_from_contract(contract, (1 / 256, -128))
    chosen, points = tune(base, contract, [run], 0.1)
    assert all(p["false_activations_per_other"] >= 1 for p in points if p["gate_factor"] == 1.0)
    assert chosen["gate_factor"] <= 0.8 and chosen["false_activations_per_other"] == 0 and chosen["recall"] == 1.0
    tuned = apply_choice(contract, chosen, has_unknown=True).novelty_gate
    assert tuned.level == 10.0 * chosen["gate_factor"] and tuned.weights == gate.weights
    assert tuned.record["tuned"] == {"level_before": 10.0, "factor": chosen["gate_factor"]}


@pytest.fixture()
def gru_copy(gru_run, tmp_path) -> Path:
    """A copy of the shared small gru run (tests/conftest.py), its score threshold low enough that its
    three-epoch model detects something."""
    from contract.run_dir import read_contract, write_contract

    run = tmp_path / "gru_run"
    shutil.copytree(gru_run[0], run)
    write_contract(run, read_contract(run).replace(score_threshold=0.4, agreement=1))
    return run


def test_a_gru_run_streams_with_its_board_and_the_laptop_agreeing_on_every_window(gru_copy, stream_data):
    """The step model's windows follow each other without overlap, each reported at its last step; the board
    measures their motion step by step over the samples their steps read, and its detections are the laptop's
    (converter.postprocess, motion gate included) on the laptop's stepped scores: the rest alone yields none."""
    from boardtools.stream_eval import board_figures, laptop_figures, run_streams
    from contract.run_dir import read_contract
    from converter.gate import override
    from converter.gru.stepping import step_settings
    from converter.postprocess import detections

    contract, post, runs = run_streams(gru_copy, stream_data, rest_minutes=0.3)
    step = step_settings((gru_copy / "model_int8.tflite").read_bytes(), read_contract(gru_copy))
    assert len(runs) == 3 and sum(len(r.stream.items) for r in runs) == 2 * 12
    detected = gate_held = 0
    for r in runs:
        assert len(r.board) == len(r.scores_q) == len(r.ends) > 0
        assert len(r.motion) == len(r.ends) and r.span == step.window_span_samples
        assert r.ends[0] == step.window_span_samples - 1 and set(np.diff(r.ends)) == {step.window_period_samples}
        assert [f["score_q"] for f in r.board] == [int(r.scores_q[k, f["label_index"]]) for k, f in enumerate(r.board)]
        # the gate's ratio a tuner lowers the level by: at the run's own level it rejects what the board rejected
        assert np.array_equal(override(r.model_q, r.gate_ratio > 1.0, post.unknown_index), r.scores_q)
        laptop = detections(r.scores_q, r.ends + 1, r.motion, post)
        assert [bool(f.get("detected")) for f in r.board] == laptop.tolist()
        detected += int(laptop.sum())
        gate_held += int(detections(r.scores_q, r.ends + 1, None, post).sum() - laptop.sum())
    assert detected > 0 and gate_held > 0  # the motion gate is in play: it held detections back
    rest = runs[-1]
    assert rest.stream.subject == "rest" and not any(f.get("detected") for f in rest.board)
    assert (rest.motion < post.motion_gate).all()
    on_board, _ = board_figures(contract, runs)
    assert on_board.summary() == laptop_figures(post, contract, runs).summary()
    assert on_board.gestures == 8 and on_board.others == 16  # punch is the model's; flex and twist are not


def test_stream_tune_on_a_gru_run_writes_a_contract_the_converter_accepts(gru_copy, stream_data):
    before = json.loads((gru_copy / "contract.json").read_text())
    done = _stream_cmd(gru_copy, stream_data, "--rest-minutes", "0.2", "--tune", "0.5")
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["board_scores_as_laptop"] == 1.0 and summary["windows"] > 0
    assert summary["gestures"] == 8 and summary["other_motions"] == 16 and 0 <= summary["recall"] <= 1
    assert 0 <= summary["windows_unknown"] <= summary["windows"]
    after = json.loads((gru_copy / "contract.json").read_text())
    tuned = summary["tuned"]
    assert after["score_threshold"] == tuned["score_threshold"] and after["refractory_s"] == tuned["refractory_s"]
    assert after["motion_gate"] == {**before["motion_gate"], "threshold": tuned["motion_gate"]}  # tuned as a window's
    assert after["novelty_gate"]["level"] == pytest.approx(before["novelty_gate"]["level"] * tuned["gate_factor"],
                                                           rel=1e-12)
    converted = subprocess.run([sys.executable, "-m", "converter", "convert", str(gru_copy), "--max-drop", "100",
                                "--min-agreement", "0"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert converted.returncode == 0, converted.stderr[-2000:]
    header = (gru_copy / "generated" / "model_settings.h").read_text()
    assert "constexpr bool kIsStepModel = true;" in header and f"kAgreement = {tuned['agreement']};" in header
