"""The whole pipeline, as `make demo` (``nanogest demo``) runs it, in miniature: virtual board over a pty ->
nanogest record -> fit -> convert (TFLM) -> evaluate-int8 -> replay -> stream -> adapt."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEADERS = ("model_data.h", "model_data.cc", "model_settings.h", "op_resolver.h")


@pytest.mark.slow
def test_demo_runs_every_stage_and_reports_honest_numbers(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.run(
        # 30 epochs: training keeps its last epoch and turns half the windows by a random mount angle, so
        # 15 epochs on 60 takes under-train (the new person scored 0.4 at 15 epochs, 0.9 at 30).
        [sys.executable, "-m", "nanogest", "demo", "--out", str(out), "--takes", "3", "--epochs", "30", "--speed", "60"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    # 4 people x 5 labels x 3 takes for training, one new person x 5 labels x 4 takes.
    assert summary["takes_recorded"] == 4 * 5 * 3 + 5 * 4
    assert summary["samples_lost"] == 0 and summary["frames_corrupt"] == 0
    # Chance is 0.2; a pipeline that scrambles labels, channels or quantization cannot pass this.
    assert summary["accuracy_int8_heldout"] >= 0.6
    assert summary["accuracy_int8_new_person"] >= 0.6
    assert abs(summary["accuracy_int8_heldout"] - summary["accuracy_float_heldout"]) <= 0.1
    assert summary["board_agreement_with_host_tflm"] == 1.0
    # The new person's gestures (16, idle is rest) and 12 untaught motions streamed between rest.
    for key in ("stream_recall", "stream_wrong_or_repeat_per_gesture", "stream_false_activations_per_other"):
        assert isinstance(summary[key], float) and summary[key] >= 0
    assert summary["stream_recall"] >= 0.5 and summary["stream_false_activations_in_rest"] >= 0
    assert Path(summary["stream_timeline"]).read_bytes()[:4] == b"\x89PNG"
    # Adapting is scored on the new person's takes it did not use (2 of 4 per label).
    assert summary["new_person_after_adapt"] >= 0.6
    assert 0 < summary["model_bytes"] <= 64 * 1024 and 0 < summary["arena_bytes"] <= 64 * 1024
    header_dir = Path(summary["header_dir"])
    for name in HEADERS:
        assert (header_dir / name).stat().st_size > 0
    report = json.loads((Path(summary["run_dir"]) / "report.json").read_text())
    assert report["model_bytes"] == summary["model_bytes"]
    # Data recorded through the protocol is on disk in the documented layout.
    data = out / "data"
    assert sorted(p.name for p in data.iterdir()) == sorted(["circle", "flex", "idle", "punch", "wave"])
    meta = json.loads(next((data / "punch").glob("p4-*.json")).read_text())
    assert meta["imu"] == "BMI270" and meta["rate_hz"] == pytest.approx(100.0)


def test_demo_help_explains_itself():
    proc = subprocess.run([sys.executable, "-m", "boardtools.demo", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0 and "virtual board" in proc.stdout
