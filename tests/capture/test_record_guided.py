"""Guided recording against the virtual board over a real pty: motion-triggered takes,
refusing them when nothing moves, and re-running without overwriting."""

import json
import subprocess
import sys

import numpy as np
import pytest

from capture.dataset import list_takes, read_take
from capture.motion import MotionTrigger

HEADER = "aX,aY,aZ,gX,gY,gZ"
LSM9DS1_SCALE = np.array([0.000122] * 3 + [0.07] * 3)
RATE_HZ = 100


def still_then_moving(still_rows, moving_rows, seed):
    """Rows of a board held still (1 g, small noise, a gyro bias), then a swing."""
    rng = np.random.default_rng(seed)
    still = np.column_stack([rng.normal(0.02, 0.004, still_rows), rng.normal(-0.01, 0.004, still_rows),
                             rng.normal(1.0, 0.004, still_rows), rng.normal([2.0, -1.5, 0.8], 0.5, (still_rows, 3))])
    t = np.arange(moving_rows) / RATE_HZ
    moving = np.column_stack([1.2 * np.sin(8 * t) + 0.02, 0.6 * np.sin(5 * t), 1.0 + 0.8 * np.sin(6 * t),
                              400 * np.sin(7 * t) + 50, 250 * np.cos(4 * t), 100 * np.sin(3 * t)])
    return np.vstack([still, moving])


def write_replay(path, takes):
    blocks = ["\n".join(",".join(f"{v:.6f}" for v in row) for row in take) for take in takes]
    path.write_text(HEADER + "\n" + "\n\n".join(blocks) + "\n")
    return path


def record(*args):
    cmd = [sys.executable, "-m", "capture", "record", "--countdown", "0", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_motion_trigger_finds_the_first_moving_sample():
    rows = still_then_moving(80, 40, seed=1)
    trigger = MotionTrigger(RATE_HZ, trigger_g=0.3, trigger_dps=60)
    found = [trigger.feed(rows[i:i + 7]) for i in range(0, len(rows), 7)]  # in chunks, as the stream arrives
    chunk = next(i for i, f in enumerate(found) if f is not None)
    assert chunk * 7 + found[chunk] == 80  # the gyroscope swings from the first moving sample
    assert trigger.accel_level_g == pytest.approx(1.0, abs=0.01)


def test_motion_triggered_takes_start_just_before_the_motion(host_build, tmp_path):
    sources = [still_then_moving(150, 200, seed=2), still_then_moving(90, 200, seed=3)]
    replay = write_replay(tmp_path / "replay.csv", sources)
    out = tmp_path / "data"
    proc = record("--port", f"sim://?replay={replay}&rate={RATE_HZ}&speed=10", "--label", "punch", "--takes", 2,
                  "--out", out, "--trigger", "motion", "--pre-trigger-s", 0.25, "--subject", "bo")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["takes"] == 2
    recorded = [read_take(p) for p in list_takes(out)]
    for take, source, moves_at in zip(recorded, sources, (150, 90)):
        first = moves_at - 25  # 0.25 s at 100 Hz before the first moving sample
        assert take.meta.samples == 100 and take.meta.complete
        assert take.meta.extra["trigger"]["pre_trigger_samples"] == 25
        assert np.all(np.abs(take.values - source[first:first + 100]) <= LSM9DS1_SCALE * 1.0001)
    assert "hold still, recording starts when you move" in proc.stderr and "motion (" in proc.stderr


def test_motion_trigger_refuses_when_nothing_moves(host_build, tmp_path):
    replay = write_replay(tmp_path / "still.csv", [still_then_moving(300, 0, seed=4)])
    proc = record("--port", f"sim://?replay={replay}&rate={RATE_HZ}&speed=20", "--label", "hold",
                  "--out", tmp_path / "d", "--trigger", "motion", "--trigger-timeout", 2)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: take 1 of 1 ('hold'): no motion within 2 s")
    assert "fixed-length takes: drop --trigger motion" in last
    assert not list(tmp_path.glob("d/*/*.csv"))


def test_motion_trigger_is_refused_for_the_idle_label(tmp_path):
    proc = record("--port", "sim://", "--label", "idle", "--out", tmp_path / "d", "--trigger", "motion")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        "error: 'idle' is a still label: nothing moves to trigger a take; record it with fixed-length takes "
        "(drop --trigger motion)")


@pytest.mark.parametrize("args, message", [
    (("--pre-trigger-s", 2), "--pre-trigger-s must be at least 0 and shorter than the take (1 s)"),
    (("--trigger-g", 0), "--trigger-g, --trigger-dps and --trigger-timeout must be positive"),
])
def test_bad_trigger_options(tmp_path, args, message):
    proc = record("--port", "sim://", "--label", "wave", "--out", tmp_path, "--trigger", "motion", *args)
    assert proc.returncode == 2 and proc.stderr.strip().splitlines()[-1] == f"error: {message}"


def test_running_again_adds_takes_and_never_touches_the_old_ones(host_build, tmp_path):
    out = tmp_path / "data"
    port = "sim://?subject=cy&session=s1&speed=40"
    first = record("--port", port, "--label", "wave", "--takes", 2, "--out", out, "--subject", "cy")
    assert first.returncode == 0, first.stderr
    before = {p.name: p.read_bytes() for p in (out / "wave").iterdir()}
    second = record("--port", port, "--label", "wave", "--takes", 2, "--out", out, "--subject", "cy")
    assert second.returncode == 0, second.stderr
    after = {p.name: p.read_bytes() for p in (out / "wave").iterdir()}
    assert sorted(after) == [f"cy-s1-00{i}.{ext}" for i in range(1, 5) for ext in ("csv", "json")]
    assert all(after[name] == data for name, data in before.items())
    assert [read_take(p).meta.subject for p in list_takes(out)] == ["cy"] * 4
