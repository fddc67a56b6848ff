"""Integrity accounting of `python -m capture record`: lost samples, corrupt frames,
device drops, jitter and the flag that keeps a lossy take out of training.

A scripted board on a real pty sends exactly the gaps, corrupted bytes and timestamp
jitter the test chooses, so the recorder's numbers can be checked to the sample."""

import json
import subprocess
import sys

import numpy as np
import pytest

from capture.dataset import TakeMeta, is_usable, list_takes, read_meta, read_take
from scripted_board import ACCEL_G_PER_COUNT, GYRO_DPS_PER_COUNT, ScriptedBoard, ScriptedTake

SCALE = np.array([ACCEL_G_PER_COUNT] * 3 + [GYRO_DPS_PER_COUNT] * 3)


def record(*args):
    cmd = [sys.executable, "-m", "capture", "record", "--countdown", "0", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


@pytest.fixture
def board():
    boards = []

    def make(takes):
        boards.append(ScriptedBoard(takes))
        return boards[-1]

    yield make
    for b in boards:
        b.close()


def test_losses_corruption_drops_and_jitter_land_in_each_take_and_the_summary(board, tmp_path):
    b = board([ScriptedTake(130, jitter_us=((20, 40),)),
               ScriptedTake(130, skip=(10, 11, 12), corrupt=(50,), device_dropped=3)])
    out = tmp_path / "data"
    proc = record("--port", b.path, "--label", "punch", "--takes", 2, "--out", out, "--subject", "ann",
                  "--session", "s3")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert {k: summary[k] for k in ("takes", "samples", "samples_lost", "frames_corrupt", "samples_dropped_by_device",
                                    "takes_flagged", "takes_incomplete")} == \
        {"takes": 2, "samples": 200, "samples_lost": 4, "frames_corrupt": 1, "samples_dropped_by_device": 3,
         "takes_flagged": 1, "takes_incomplete": 0}
    assert summary["loss_pct"] == pytest.approx(100 * 4 / 204, abs=1e-3)
    assert summary["jitter_us_max"] == pytest.approx(40, abs=1)

    clean, lossy = [read_take(p) for p in list_takes(out)]
    assert (clean.meta.subject, clean.meta.session, lossy.meta.take) == ("ann", "s3", "ann-s3-002")
    assert clean.meta.samples_lost == 0 and clean.meta.flagged == "" and is_usable(clean.meta)
    assert clean.meta.extra["timing"]["jitter_us_max_vs_nominal"] == pytest.approx(40, abs=1e-6)
    np.testing.assert_allclose(clean.values, b.counts_sent[0][:100] * SCALE, atol=1e-6)

    m = lossy.meta
    assert (m.samples, m.samples_lost, m.frames_corrupt, m.samples_dropped_by_device) == (100, 4, 1, 3)
    assert m.extra["loss_pct"] == pytest.approx(100 * 4 / 104, abs=1e-3)
    assert m.flagged.startswith("4 of 104 samples lost (3.85%") and "--max-loss-pct 1%" in m.flagged
    assert not is_usable(m) and is_usable(m, include_flagged=True)
    kept = [k for k in range(104) if k not in (10, 11, 12, 50)]
    np.testing.assert_allclose(lossy.values, b.counts_sent[1][kept] * SCALE, atol=1e-6)
    np.testing.assert_array_equal(lossy.t_us, np.array(kept) * 10000)  # gaps stay visible in device time
    assert "FLAGGED: 4 of 104 samples lost" in proc.stderr


def test_a_higher_loss_threshold_keeps_the_take_usable(board, tmp_path):
    b = board([ScriptedTake(130, skip=(5, 6))])
    proc = record("--port", b.path, "--label", "wave", "--out", tmp_path, "--max-loss-pct", 5)
    assert proc.returncode == 0, proc.stderr
    (path,) = list_takes(tmp_path)
    meta = read_meta(path.with_suffix(".json"))
    assert meta.samples_lost == 2 and meta.flagged == "" and is_usable(meta)
    assert json.loads(proc.stdout)["takes_flagged"] == 0


def test_max_lost_stops_recording_with_one_clear_line(board, tmp_path):
    b = board([ScriptedTake(130, skip=(1, 2, 3))])
    proc = record("--port", b.path, "--label", "wave", "--takes", 3, "--out", tmp_path, "--max-lost", 2)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "3 samples lost so far, more than --max-lost 2" in proc.stderr.strip().splitlines()[-1]
    assert len(list_takes(tmp_path)) == 1  # the take that crossed the line is kept (and flagged)


def test_takes_written_before_the_flagged_field_existed_still_load_and_are_usable(tmp_path):
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"label": "punch", "rate_hz": 119.0, "samples": 119, "samples_lost": 0,
                               "complete": True, "format": 1}))
    meta = read_meta(old)
    assert meta.flagged == "" and is_usable(meta)
    assert not is_usable(TakeMeta(label="punch", rate_hz=119.0, flagged="too lossy"))
