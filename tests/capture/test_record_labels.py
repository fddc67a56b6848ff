"""`python -m capture record --labels a,b,...`: a short calibration set in one go, over real ptys."""

import json
import subprocess
import sys

import numpy as np
import pytest

from capture.dataset import list_takes, read_take
from capture.errors import CaptureError
from capture.recorder import parse_labels

LSM9DS1_SCALE = np.array([0.000122] * 3 + [0.07] * 3)


def record(*args):
    cmd = [sys.executable, "-m", "capture", "record", "--countdown", "0", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def test_the_simulated_person_performs_each_label_in_turn(host_build, tmp_path):
    from capture import synth

    out = tmp_path / "cal"
    proc = record("--port", "sim://?subject=p7&session=s1&speed=40", "--labels", "punch,wave,idle", "--takes", 2,
                  "--out", out, "--subject", "p7")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["takes"] == 6 and summary["samples"] == 6 * 119 and summary["samples_lost"] == 0
    assert summary["labels"] == {"punch": 2, "wave": 2, "idle": 2}
    takes = [read_take(p) for p in list_takes(out)]
    assert sorted((t.meta.label, t.meta.take) for t in takes) == [
        (label, f"p7-s1-00{i}") for label in ("idle", "punch", "wave") for i in (1, 2)]
    for take in takes:
        i = int(take.meta.take[-3:]) - 1
        source = synth.make_take(take.meta.label, 119.0, "p7", i, "s1", 1.0, 0)
        clipped = np.clip(source, -32768 * LSM9DS1_SCALE, 32767 * LSM9DS1_SCALE)
        assert np.all(np.abs(take.values - clipped) <= LSM9DS1_SCALE * 1.0001), take.meta.label


def test_bad_label_lists_are_refused_before_recording(tmp_path):
    proc = record("--port", "sim://?subject=p7", "--labels", "punch,,idle", "--out", tmp_path / "d")
    assert proc.returncode == 2 and "empty name" in proc.stderr and "Traceback" not in proc.stderr
    proc = record("--port", "sim://?subject=p7", "--labels", "punch,idle", "--trigger", "motion", "--out", tmp_path / "d")
    assert proc.returncode == 2 and "'idle' is a still label" in proc.stderr
    assert not (tmp_path / "d").exists(), "nothing may be recorded when a later label is refused"
    proc = record("--port", "sim://?subject=p7", "--label", "punch", "--labels", "punch,idle", "--out", tmp_path / "d")
    assert proc.returncode == 2 and "not allowed with argument" in proc.stderr


def test_parse_labels():
    assert parse_labels(" punch, flex,idle ") == ["punch", "flex", "idle"]
    with pytest.raises(CaptureError, match="more than once"):
        parse_labels("punch,flex,punch")
