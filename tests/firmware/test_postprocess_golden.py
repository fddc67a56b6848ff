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
from converter.postprocess import PostprocessSettings, detections, window_motion
from converter.tflm_server import parse_settings

ROOT = Path(__file__).resolve().parents[2]
HOST = ROOT / "firmware" / "build" / "host"
DEFAULT_RUN = HOST / "default_run"
LSM = (0.000122, 0.07)
POST_KEYS = ("agreement", "refractory_samples", "motion_gate", "motion_accel_weight")



def server_text(run: Path) -> str:
    out = subprocess.run([sys.executable, "-m", "converter.tflm_server", str(run), "--print-settings"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def with_post(text: str, agreement: int, refractory: int, gate: float, weight: float) -> str:
    values = {"agreement": str(agreement), "refractory_samples": str(refractory), "motion_gate": f"{gate:.9g}",
              "motion_accel_weight": f"{weight:.9g}"}
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
    lines = []
    for t, (counts, sc) in enumerate(zip(takes, scores)):
        ends = set(range(window, len(counts) + 1, hop))
        k = 0
        for i, row in enumerate(counts.tolist(), 1):
            if i in ends:
                lines.append("q " + " ".join(map(str, sc[k].tolist())))
                k += 1
            lines.append(" ".join(map(str, row)))
        lines.append("")
    text = with_post(server_text(DEFAULT_RUN), agreement, refractory, gate_value, 100.0) + "\n".join(lines) + "\n"
    out = subprocess.run([str(host_build / "postprocess_vectors"), *map(str, LSM)], input=text, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    rows = [line.split() for line in out.stdout.splitlines()]
    cpp_label = np.array([int(r[1]) for r in rows])
    cpp_score = np.array([int(r[2]) for r in rows])
    cpp_detected = np.array([r[3] == "1" for r in rows])
    cpp_motion = np.array([np.float32(r[4]) for r in rows], dtype=np.float32)
    py_detected = np.concatenate([detections(sc, window + hop * np.arange(len(sc)), m, settings)
                                  for sc, m in zip(scores, motion)])
    all_scores = np.concatenate(scores)
    assert len(rows) == len(all_scores) == sum(len(w) for w in windows)
    assert np.array_equal(cpp_label, all_scores.argmax(axis=1))
    assert np.array_equal(cpp_score, all_scores.max(axis=1))
    assert np.array_equal(cpp_motion, all_motion)  # bit for bit
    assert np.array_equal(cpp_detected, py_detected)
    assert 3 <= py_detected.sum() < len(py_detected)  # a real mix, neither all false nor all true
    if gate:
        ungated = detections(all_scores, window + hop * np.arange(len(all_scores)), None, settings)
        assert ungated.sum() > py_detected.sum()  # the gate held some detections back
        assert (all_motion == np.float32(gate_value)).sum() >= 1


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
    from converter.flatbuffer import read_io
    from converter.headers import fnv1a32, model_settings_h
    from converter.run_dir import load_contract

    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(DEFAULT_RUN / "model_int8.tflite", run)
    contract = json.loads((DEFAULT_RUN / "contract.json").read_text())
    contract.update(agreement=3, refractory_s=0.5,
                    motion_gate={"measure": "gyro_rms_dps+weight*accel_rms_g", "accel_weight_dps_per_g": 80.0,
                                 "threshold": 12.5})
    (run / "contract.json").write_text(json.dumps(contract))
    model = (run / "model_int8.tflite").read_bytes()
    inp, out = read_io(model)
    header = default_model_settings(model_settings_h(load_contract(run), inp, out, 8000, fnv1a32(model)), tmp_path)
    served = parse_settings(server_text(run).splitlines())
    assert [header[k] for k in POST_KEYS] == [served[k] for k in POST_KEYS] == [["3"], ["60"], ["12.5"], ["80"]]


def test_default_model_header_gets_the_documented_defaults(host_build):
    header = parse_settings(subprocess.run([str(host_build / "default_model"), "--print-settings"], capture_output=True,
                                           text=True, check=True).stdout.splitlines())
    from contract.pipeline import DEFAULT_AGREEMENT, DEFAULT_MOTION_GATE, DEFAULT_REFRACTORY_S

    assert header["agreement"] == [str(DEFAULT_AGREEMENT)]
    assert header["refractory_samples"] == [str(round(119 * DEFAULT_REFRACTORY_S))]
    assert np.float32(header["motion_gate"][0]) == np.float32(DEFAULT_MOTION_GATE["threshold"])
    assert np.float32(header["motion_accel_weight"][0]) == np.float32(DEFAULT_MOTION_GATE["accel_weight_dps_per_g"])


def test_a_header_without_postprocessing_falls_back_to_the_contract_defaults(host_build, tmp_path):
    """ng_model_defaults.h stands in for a header written before the contract carried
    post-processing; its values must be training's documented defaults."""
    from contract.pipeline import DEFAULT_AGREEMENT, DEFAULT_MOTION_GATE, DEFAULT_REFRACTORY_S

    committed = (ROOT / "firmware" / "lib" / "nanogest_model" / "src" / "generated" / "model_settings.h").read_text()
    dropped = ("kAgreement", "kRefractorySamples", "kMotionGate", "kMotionAccelWeight")
    old = "".join(line for line in committed.splitlines(keepends=True)
                  if not any(f" {name} =" in line for name in dropped))
    assert old != committed
    header = default_model_settings(old, tmp_path)
    assert header["agreement"] == [str(DEFAULT_AGREEMENT)]
    assert header["refractory_samples"] == [str(round(119 * DEFAULT_REFRACTORY_S))]
    assert np.float32(header["motion_gate"][0]) == np.float32(DEFAULT_MOTION_GATE["threshold"])
    assert np.float32(header["motion_accel_weight"][0]) == np.float32(DEFAULT_MOTION_GATE["accel_weight_dps_per_g"])
