"""Post-processing: the core (firmware/host/postprocess_vectors, the real InferencePipeline) and
converter/postprocess.py give identical decisions and motion for the same counts and scores, and
the contract's post-processing keys reach the board the same way through the header and the
run directory."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from boardtools.replay import board_windows
from converter.postprocess import UNKNOWN_THRESHOLD_OFF, PostprocessSettings, detections, reported_top, window_motion
from converter.tflm_server import parse_settings

ROOT = Path(__file__).resolve().parents[2]
HOST = ROOT / "firmware" / "build" / "host"
DEFAULT_RUN = HOST / "default_run"
LSM = (0.000122, 0.07)
POST_KEYS = ("agreement", "refractory_samples", "motion_gate", "motion_accel_weight", "unknown_index",
             "unknown_threshold")



def server_text(run: Path) -> str:
    out = subprocess.run([sys.executable, "-m", "converter.tflm_server", str(run), "--print-settings"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def with_post(text: str, agreement: int, refractory: int, gate: float, weight: float, unknown_index: int = -1,
              unknown_threshold: float = UNKNOWN_THRESHOLD_OFF) -> str:
    values = {"agreement": str(agreement), "refractory_samples": str(refractory), "motion_gate": f"{gate:.9g}",
              "motion_accel_weight": f"{weight:.9g}", "unknown_index": str(unknown_index),
              "unknown_threshold": f"{np.float32(unknown_threshold):.9g}"}
    lines = [f"{line.split()[0]} {values[line.split()[0]]}" if line.split() and line.split()[0] in values else line
             for line in text.splitlines()]
    return "\n".join(lines) + "\n"


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


def core_decisions(host_build: Path, settings_text: str, takes, scores, window: int, hop: int):
    """(label_index, score_q, detected, motion) of every window, as firmware/host/postprocess_vectors (the
    core's InferencePipeline) decides them for ``takes`` of counts with the scripted int8 ``scores``."""
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
    out = subprocess.run([str(host_build / "postprocess_vectors"), *map(str, LSM)],
                         input=settings_text + "\n".join(lines) + "\n", capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    rows = [line.split() for line in out.stdout.splitlines()]
    return (np.array([int(r[1]) for r in rows]), np.array([int(r[2]) for r in rows]),
            np.array([r[3] == "1" for r in rows]), np.array([np.float32(r[4]) for r in rows], dtype=np.float32))


@pytest.mark.parametrize("agreement,refractory,gate", [(2, 119, "median"), (1, 1, 0.0), (3, 40, "median")])
def test_core_and_python_postprocessing_decide_every_window_alike(host_build, agreement, refractory, gate):
    rng = np.random.default_rng([5, agreement, refractory])
    base = parse_settings(server_text(DEFAULT_RUN).splitlines())
    window, hop, n_labels = int(base["window"][0]), int(base["hop"][0]), len(base["labels"])
    takes = takes_of_counts(rng, window)
    windows = [board_windows(t, window, hop) for t in takes]
    motion = [window_motion(w, *LSM, 100.0) for w in windows]
    all_motion = np.concatenate(motion)
    gate_value = float(np.sort(all_motion)[len(all_motion) // 2]) if gate == "median" else gate  # a window's own value: the edge
    scores = [scores_for_windows(rng, len(w), n_labels) for w in windows]
    settings = PostprocessSettings(n_labels, int(base["idle_index"][0]), float(base["score_threshold"][0]),
                                   float(base["output_scale"][0]), int(base["output_zero_point"][0]), agreement, refractory,
                                   gate_value, 100.0)
    text = with_post(server_text(DEFAULT_RUN), agreement, refractory, gate_value, 100.0)
    cpp_label, cpp_score, cpp_detected, cpp_motion = core_decisions(host_build, text, takes, scores, window, hop)
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
    base = parse_settings(server_text(DEFAULT_RUN).splitlines())
    window, hop, n_labels = int(base["window"][0]), int(base["hop"][0]), len(base["labels"])
    unknown = n_labels - 1
    assert unknown != int(base["idle_index"][0])
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
    settings = PostprocessSettings(n_labels, int(base["idle_index"][0]), float(base["score_threshold"][0]),
                                   float(base["output_scale"][0]), int(base["output_zero_point"][0]), 2, 30, 0.0, 100.0,
                                   unknown_index=index, unknown_threshold=threshold)
    text = with_post(server_text(DEFAULT_RUN), 2, 30, 0.0, 100.0, index, threshold)
    cpp_label, cpp_score, cpp_detected, _ = core_decisions(host_build, text, takes, scores, window, hop)
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


def test_the_settings_text_refuses_an_unknown_index_that_is_no_label_or_the_idle_one(host_build):
    base = server_text(DEFAULT_RUN)
    settings = parse_settings(base.splitlines())
    for index, words in ((len(settings["labels"]), "unknown_index is not a label index"),
                         (int(settings["idle_index"][0]), "unknown_index is the idle label's index"),
                         (-2, "line")):
        text = with_post(base, 2, 30, 0.0, 100.0, index, 0.5)
        out = subprocess.run([str(host_build / "postprocess_vectors"), *map(str, LSM)], input=text, capture_output=True,
                             text=True, timeout=60)
        assert out.returncode == 2 and words in out.stderr, (index, out.stderr)
    text = with_post(base, 2, 30, 0.0, 100.0, 1, 0.5).replace("unknown_threshold 0.5\n", "unknown_threshold nan\n")
    out = subprocess.run([str(host_build / "postprocess_vectors"), *map(str, LSM)], input=text, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2 and "(unknown_threshold) is malformed" in out.stderr


def default_model_settings(settings_h: str, tmp_path: Path) -> dict:
    """Settings printed by firmware/host/default_model compiled against ``settings_h`` (and the
    committed model data): what a board built with that header would use."""
    fw = ROOT / "firmware"
    gen = tmp_path / "generated"
    gen.mkdir()
    (gen / "model_settings.h").write_text(settings_h)
    for name in ("model_data.h", "model_data.cc"):
        shutil.copy(fw / "lib" / "nanogest_model" / "src" / "generated" / name, gen)
    exe = tmp_path / "default_model"
    subprocess.run(["g++", "-std=c++14", "-Wall", "-Wextra", "-Werror", f"-I{fw / 'lib/nanogest_core/src'}",
                    f"-I{fw / 'host'}", f"-I{gen}", "-o", str(exe), str(fw / "host/default_model.cpp"),
                    str(fw / "host/model_settings_text.cpp"), str(gen / "model_data.cc")], check=True, timeout=120)
    return parse_settings(subprocess.run([str(exe), "--print-settings"], capture_output=True, text=True,
                                         check=True).stdout.splitlines())


def test_header_and_run_directory_carry_the_same_postprocessing(host_build, tmp_path):
    """A header generated with non-default post-processing hides ng_model_defaults.h, and equals the
    settings the virtual board reads from the run directory with that contract."""
    from converter.int8.flatbuffer import read_io
    from converter.headers import fnv1a32, model_settings_h
    from converter.run_dir import load_contract

    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(DEFAULT_RUN / "model_int8.tflite", run)
    contract = json.loads((DEFAULT_RUN / "contract.json").read_text())
    contract.update(agreement=3, refractory_s=0.5,
                    motion_gate={"measure": "gyro_rms_dps+weight*accel_rms_g", "accel_weight_dps_per_g": 80.0,
                                 "threshold": 12.5},
                    contract_version=2, unknown_label=contract["labels"][-1], unknown_threshold=0.45)
    (run / "contract.json").write_text(json.dumps(contract))
    model = (run / "model_int8.tflite").read_bytes()
    inp, out = read_io(model)
    header = default_model_settings(model_settings_h(load_contract(run), inp, out, 8000, fnv1a32(model)), tmp_path)
    served = parse_settings(server_text(run).splitlines())
    unknown = str(len(contract["labels"]) - 1)
    assert [header[k] for k in POST_KEYS] == [served[k] for k in POST_KEYS]
    from converter.postprocess import refractory_samples

    half_second = str(refractory_samples(float(contract["rate_hz"]), 0.5))
    assert [header[k] for k in POST_KEYS] == [["3"], [half_second], ["12.5"], ["80"], [unknown], ["0.449999988"]]


def test_default_model_header_gets_the_documented_defaults(host_build):
    header = parse_settings(subprocess.run([str(host_build / "default_model"), "--print-settings"], capture_output=True,
                                           text=True, check=True).stdout.splitlines())
    from contract.pipeline import DEFAULT_AGREEMENT, DEFAULT_MOTION_GATE, DEFAULT_REFRACTORY_S

    assert header["agreement"] == [str(DEFAULT_AGREEMENT)]
    rate = json.loads((DEFAULT_RUN / "contract.json").read_text())["rate_hz"]  # the default model's
    assert header["refractory_samples"] == [str(round(rate * DEFAULT_REFRACTORY_S))]
    assert np.float32(header["motion_gate"][0]) == np.float32(DEFAULT_MOTION_GATE["threshold"])
    assert np.float32(header["motion_accel_weight"][0]) == np.float32(DEFAULT_MOTION_GATE["accel_weight_dps_per_g"])
    assert header["unknown_index"] == ["-1"] and np.float32(header["unknown_threshold"][0]) == UNKNOWN_THRESHOLD_OFF


def test_a_header_without_postprocessing_falls_back_to_the_contract_defaults(host_build, tmp_path):
    """ng_model_defaults.h stands in for a header written before the contract carried
    post-processing; its values must be training's documented defaults."""
    from contract.pipeline import DEFAULT_AGREEMENT, DEFAULT_MOTION_GATE, DEFAULT_REFRACTORY_S

    committed = (ROOT / "firmware" / "lib" / "nanogest_model" / "src" / "generated" / "model_settings.h").read_text()
    dropped = ("kAgreement", "kRefractorySamples", "kMotionGate", "kMotionAccelWeight", "kUnknownLabelIndex",
               "kUnknownThreshold")
    old = "".join(line for line in committed.splitlines(keepends=True)
                  if not any(f" {name} =" in line for name in dropped))
    assert old != committed
    header = default_model_settings(old, tmp_path)
    assert header["agreement"] == [str(DEFAULT_AGREEMENT)]
    rate = json.loads((DEFAULT_RUN / "contract.json").read_text())["rate_hz"]  # the default model's
    assert header["refractory_samples"] == [str(round(rate * DEFAULT_REFRACTORY_S))]
    assert np.float32(header["motion_gate"][0]) == np.float32(DEFAULT_MOTION_GATE["threshold"])
    assert np.float32(header["motion_accel_weight"][0]) == np.float32(DEFAULT_MOTION_GATE["accel_weight_dps_per_g"])
    assert header["unknown_index"] == ["-1"] and np.float32(header["unknown_threshold"][0]) == UNKNOWN_THRESHOLD_OFF
