"""Post-processing: the core (firmware/host/postprocess_vectors, the real InferencePipeline) and
converter/postprocess.py give identical decisions and motion for the same counts and scores, and
the contract's post-processing keys reach the board through the generated header, which the virtual
board built for a run compiles in as the board does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from boardtools.replay import board_windows
from converter.postprocess import UNKNOWN_THRESHOLD_OFF, PostprocessSettings, detections, reported_top, window_motion
from capture.errors import CaptureError
from run_programs import c_float, compiled_settings, default_header, header_with, programs, settings_in_header

ROOT = Path(__file__).resolve().parents[2]
HOST = ROOT / "firmware" / "build" / "host"
DEFAULT_RUN = HOST / "default_run"
LSM = (0.000122, 0.07)
POST_KEYS = ("agreement", "refractory_samples", "motion_gate", "motion_accel_weight", "unknown_index",
             "unknown_threshold")



def with_post(agreement: int, refractory: int, gate: float, weight: float, unknown_index: int = -1,
              unknown_threshold: float = UNKNOWN_THRESHOLD_OFF) -> str:
    """The default model's header with these post-processing constants, its novelty gate off (these
    tests are the post-processing's; tests/firmware/test_gate_golden.py is the gate's)."""
    return header_with(default_header(), kGateEnabled="false", kAgreement=agreement, kRefractorySamples=f"{refractory}u",
                       kMotionGate=c_float(gate), kMotionAccelWeight=c_float(weight), kUnknownLabelIndex=unknown_index,
                       kUnknownThreshold=c_float(unknown_threshold))


def takes_of_counts(rng, window: int) -> list[np.ndarray]:
    """Takes alternating still (sensor noise) and moving stretches, in counts."""
    takes = []
    for n in (30 * window, 12 * window):
        still = rng.random(n // 120 + 1) < 0.5
        amplitude = np.where(np.repeat(still, 120)[:n], 6.0, 3000.0)[:, None]
        counts = rng.normal(0.0, 1.0, (n, 6)) * amplitude + np.array([0, 0, 8197, 0, 0, 0])
        takes.append(np.clip(np.round(counts), -32768, 32767).astype(np.int16))
    return takes


def scores_for_windows(rng, k: int, label_count: int) -> np.ndarray:
    """Runs of one confident label, some below threshold, ties now and then."""
    labels = np.repeat(rng.integers(0, label_count, k // 4 + 1), 4)[:k]
    top = np.where(rng.random(k) < 0.8, rng.integers(40, 127, k), rng.integers(-128, 40, k))
    scores = rng.integers(-128, -60, (k, label_count))
    scores[np.arange(k), labels] = top
    tie = rng.random(k) < 0.05
    scores[tie, 0] = top[tie]  # a tie: the lower index wins, like argmax
    return scores.astype(np.int8)


def core_decisions(header: str, takes, scores, window: int, hop: int):
    """(label_index, score_q, detected, motion) of every window, as firmware/host/postprocess_vectors (the
    core's InferencePipeline) built with ``header`` decides them for ``takes`` of counts with the scripted
    int8 ``scores``."""
    lines = []
    for counts, sc in zip(takes, scores):
        ends = set(range(window, len(counts) + 1, hop))
        k = 0
        for i, row in enumerate(counts.tolist(), 1):
            if i in ends:
                lines.append("q " + " ".join(map(str, sc[k].tolist())))
                k += 1
            lines.append(" ".join(map(str, row)))
        lines.append("")
    out = subprocess.run([str(programs(header) / "postprocess_vectors"), *map(str, LSM)],
                         input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    rows = [line.split() for line in out.stdout.splitlines()]
    return (np.array([int(r[1]) for r in rows]), np.array([int(r[2]) for r in rows]),
            np.array([r[3] == "1" for r in rows]), np.array([np.float32(r[4]) for r in rows], dtype=np.float32))


@pytest.mark.parametrize("agreement,refractory,gate", [(2, 119, "median"), (1, 1, 0.0), (3, 40, "median")])
def test_core_and_python_postprocessing_decide_every_window_alike(host_build, agreement, refractory, gate):
    rng = np.random.default_rng([5, agreement, refractory])
    base = settings_in_header(default_header())
    window, hop, n_labels = base["window"], base["hop"], len(base["labels"])
    takes = takes_of_counts(rng, window)
    windows = [board_windows(t, window, hop) for t in takes]
    motion = [window_motion(w, *LSM, 100.0) for w in windows]
    all_motion = np.concatenate(motion)
    gate_value = float(np.sort(all_motion)[len(all_motion) // 2]) if gate == "median" else gate  # a window's own value: the edge
    scores = [scores_for_windows(rng, len(w), n_labels) for w in windows]
    settings = PostprocessSettings(n_labels, base["idle_index"], base["score_threshold"], base["output_scale"],
                                   base["output_zero_point"], agreement, refractory, gate_value, 100.0)
    header = with_post(agreement, refractory, gate_value, 100.0)
    cpp_label, cpp_score, cpp_detected, cpp_motion = core_decisions(header, takes, scores, window, hop)
    py_detected = np.concatenate([detections(sc, window + hop * np.arange(len(sc)), m, settings)
                                  for sc, m in zip(scores, motion)])
    all_scores = np.concatenate(scores)
    assert len(cpp_label) == len(all_scores) == sum(len(w) for w in windows)
    assert np.array_equal(cpp_label, all_scores.argmax(axis=1))
    assert np.array_equal(cpp_score, all_scores.max(axis=1))
    assert np.array_equal(cpp_motion, all_motion)  # bit for bit
    assert np.array_equal(cpp_detected, py_detected)
    assert 3 <= py_detected.sum() < len(py_detected)  # a real mix, neither all false nor all true
    if gate:
        ungated = detections(all_scores, window + hop * np.arange(len(all_scores)), None, settings)
        assert ungated.sum() > py_detected.sum()  # the gate held some detections back
        assert (all_motion == np.float32(gate_value)).sum() >= 1


EDGE_Q = -40  # the unknown threshold below is exactly this int8 score: (-40 + 128) / 256 = 0.34375


@pytest.mark.parametrize("mode", ["threshold", "top", "none"])
def test_core_and_python_decide_unknown_windows_alike(host_build, mode):
    """The unknown label (the default run's last label here) wins as top-1, or (mode threshold) when its
    score reaches the threshold while a gesture is top; off ("top"): only as top-1; "none": no unknown label."""
    rng = np.random.default_rng([7, len(mode)])
    base = settings_in_header(default_header())
    window, hop, n_labels = base["window"], base["hop"], len(base["labels"])
    unknown = n_labels - 1
    assert unknown != base["idle_index"]
    takes = takes_of_counts(rng, window)
    scores = []
    for w in (board_windows(t, window, hop) for t in takes):
        sc = scores_for_windows(rng, len(w), n_labels).astype(np.int32)
        doubt = rng.random(len(w)) < 0.35
        sc[doubt, unknown] = rng.integers(-128, 128, doubt.sum())  # sometimes top, sometimes over the threshold
        sc[rng.random(len(w)) < 0.05, unknown] = EDGE_Q
        sc[rng.random(len(w)) < 0.05, unknown] = EDGE_Q - 1
        scores.append(sc.astype(np.int8))
    index = {"threshold": unknown, "top": unknown, "none": -1}[mode]
    threshold = (EDGE_Q + 128) / 256 if mode == "threshold" else UNKNOWN_THRESHOLD_OFF
    settings = PostprocessSettings(n_labels, base["idle_index"], base["score_threshold"], base["output_scale"],
                                   base["output_zero_point"], 2, 30, 0.0, 100.0, unknown_index=index,
                                   unknown_threshold=threshold)
    header = with_post(2, 30, 0.0, 100.0, index, threshold)
    cpp_label, cpp_score, cpp_detected, _ = core_decisions(header, takes, scores, window, hop)
    all_scores = np.concatenate(scores)
    py_label, py_score = reported_top(all_scores, settings)
    py_detected = np.concatenate([detections(sc, window + hop * np.arange(len(sc)), None, settings) for sc in scores])
    assert np.array_equal(cpp_label, py_label) and np.array_equal(cpp_score, py_score)
    assert np.array_equal(cpp_detected, py_detected)
    assert 3 <= py_detected.sum() < len(py_detected)
    top = all_scores.argmax(axis=1)
    over = all_scores[:, unknown] >= EDGE_Q
    if mode == "none":
        assert np.array_equal(cpp_label, top) and (cpp_detected & (top == unknown)).sum() >= 1
        return
    assert not (cpp_detected & (cpp_label == unknown)).any()  # an unknown window never detects
    assert np.array_equal(cpp_score[cpp_label == unknown], all_scores[cpp_label == unknown, unknown])
    assert (top == unknown).sum() >= 3 and (cpp_label[top == unknown] == unknown).all()
    gesture_top_over = (top != unknown) & over
    assert gesture_top_over.sum() >= 3
    if mode == "threshold":  # a gesture on top gives way to an unknown score at the threshold, not one under
        assert (cpp_label[gesture_top_over] == unknown).all()
        assert (cpp_label[(top != unknown) & (all_scores[:, unknown] == EDGE_Q)] == unknown).sum() >= 1
        assert (cpp_label[(top != unknown) & ~over] != unknown).all()
    else:
        assert (cpp_label[top != unknown] == top[top != unknown]).all()


def test_a_header_whose_unknown_index_is_no_label_or_the_idle_one_does_not_build(host_build, capsys):
    """ng_header_settings.h refuses it at compile time, for the virtual board as for the board."""
    base = settings_in_header(default_header())
    for index, words in ((len(base["labels"]), "the unknown label must be a label"),
                         (base["idle_index"], "the unknown label cannot be the idle label"),
                         (-2, "the unknown label must be a label")):
        with pytest.raises(CaptureError, match="building the virtual board failed"):
            programs(with_post(2, 30, 0.0, 100.0, index, 0.5))
        assert words in capsys.readouterr().err, index


def test_a_run_with_its_own_postprocessing_runs_it_on_the_virtual_board(host_build, tmp_path):
    """A contract with non-default post-processing (and no converted header): the virtual board built for the
    run compiles in what the converter's generator writes from it."""
    from converter.postprocess import refractory_samples

    run = tmp_path / "run"
    run.mkdir()
    (run / "model_int8.tflite").write_bytes((DEFAULT_RUN / "model_int8.tflite").read_bytes())
    contract = json.loads((DEFAULT_RUN / "contract.json").read_text())
    contract.update(agreement=3, refractory_s=0.5,
                    motion_gate={"measure": "gyro_rms_dps+weight*accel_rms_g", "accel_weight_dps_per_g": 80.0,
                                 "threshold": 12.5},
                    contract_version=2, unknown_label=contract["labels"][-1], unknown_threshold=0.45)
    (run / "contract.json").write_text(json.dumps(contract))
    out = subprocess.run([str(host_build / "virtual_board"), "--model", str(run), "--python", sys.executable,
                          "--print-settings"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    board = json.loads(out.stdout)
    half_second = refractory_samples(float(contract["rate_hz"]), 0.5)
    assert [board[k] for k in POST_KEYS[:-1]] == [3, half_second, 12.5, 80, len(contract["labels"]) - 1]
    assert np.float32(board["unknown_threshold"]) == np.float32(0.45)


def assert_documented_defaults(header: dict, unknown_index: int = -1) -> None:
    """The compiled post-processing settings are training's documented defaults (at the default model's rate;
    ``unknown_index``: its unknown label's, -1 for a header from before the unknown class)."""
    from contract.pipeline import DEFAULT_AGREEMENT, DEFAULT_MOTION_GATE, DEFAULT_REFRACTORY_S

    assert header["agreement"] == DEFAULT_AGREEMENT
    rate = json.loads((DEFAULT_RUN / "contract.json").read_text())["rate_hz"]  # the default model's
    assert header["refractory_samples"] == round(rate * DEFAULT_REFRACTORY_S)
    assert np.float32(header["motion_gate"]) == np.float32(DEFAULT_MOTION_GATE["threshold"])
    assert np.float32(header["motion_accel_weight"]) == np.float32(DEFAULT_MOTION_GATE["accel_weight_dps_per_g"])
    assert header["unknown_index"] == unknown_index and np.float32(header["unknown_threshold"]) == UNKNOWN_THRESHOLD_OFF


def test_default_model_header_gets_the_documented_defaults(host_build):
    header = compiled_settings(programs(default_header()))
    contract = json.loads((DEFAULT_RUN / "contract.json").read_text())
    assert_documented_defaults(header, contract["labels"].index(contract["unknown_label"]))  # the gate's label


def test_a_header_without_postprocessing_falls_back_to_the_contract_defaults(host_build):
    """ng_model_defaults.h stands in for a header written before the contract carried
    post-processing; its values must be training's documented defaults."""
    committed = header_with(default_header(), kGateEnabled="false")  # nor the novelty gate, which needs the label
    dropped = ("kAgreement", "kRefractorySamples", "kMotionGate", "kMotionAccelWeight", "kUnknownLabelIndex",
               "kUnknownThreshold")
    old = "".join(line for line in committed.splitlines(keepends=True)
                  if not any(f" {name} =" in line for name in dropped))
    assert old != committed
    header = compiled_settings(programs(old))
    assert_documented_defaults(header)
