"""`python -m capture record` end to end over a real pty against the virtual board."""

import json
import os
import re
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest

from capture.dataset import list_takes, read_take

HEADER = "aX,aY,aZ,gX,gY,gZ"
LSM9DS1_SCALE = np.array([0.000122] * 3 + [0.07] * 3)  # g and dps per count, as the board announces
RATE_HZ = 100


def write_replay(path, takes):
    blocks = ["\n".join(",".join(f"{v:.6f}" for v in row) for row in take) for take in takes]
    path.write_text(HEADER + "\n" + "\n\n".join(blocks) + "\n")
    return path


def make_takes(n_takes, n_rows, seed=0):
    rng = np.random.default_rng(seed)
    takes = []
    for i in range(n_takes):
        accel = rng.uniform(-3.5, 3.5, size=(n_rows, 3))
        gyro = rng.uniform(-1500, 1500, size=(n_rows, 3))
        accel[0, 0] = i  # each take starts with its own index, so misalignment shows
        takes.append(np.hstack([accel, gyro]))
    return takes


def record(*args):
    cmd = [sys.executable, "-m", "capture", "record", "--countdown", "0", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def clipped_to_int16_counts(values):
    """The physical values an LSM9DS1 can report (int16 counts on its scale)."""
    return np.clip(values, -32768 * LSM9DS1_SCALE, 32767 * LSM9DS1_SCALE)


def test_record_replay_file_gives_the_file_takes_within_one_count(host_build, tmp_path):
    takes = make_takes(3, 30)
    replay = write_replay(tmp_path / "replay.csv", takes)
    out = tmp_path / "data"
    proc = record("--port", f"sim://?replay={replay}&rate={RATE_HZ}&speed=20", "--label", "punch", "--takes", 3,
                  "--seconds", 0.3, "--out", out, "--subject", "ann", "--session", "s2")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary == {"takes": 3, "samples": 90, "samples_lost": 0, "frames_corrupt": 0, "out": str(out),
                       "samples_dropped_by_device": 0, "takes_flagged": 0, "takes_incomplete": 0, "reconnects": 0,
                       "loss_pct": 0.0, "jitter_us_std": 0.0, "jitter_us_max": 0.0}
    recorded = [read_take(p) for p in list_takes(out)]
    assert [t.meta.take for t in recorded] == ["ann-s2-001", "ann-s2-002", "ann-s2-003"]
    for take, source in zip(recorded, takes):
        m = take.meta
        assert (m.label, m.subject, m.session, m.source) == ("punch", "ann", "s2", "capture")
        assert (m.board, m.imu, m.rate_hz, m.samples, m.samples_lost, m.complete) == ("virtual", "LSM9DS1", 100, 30, 0, True)
        assert m.flagged == "" and m.extra["loss_pct"] == 0 and m.extra["timing"]["period_us_mean"] == 10000
        assert np.all(np.abs(take.values - source) <= LSM9DS1_SCALE * 1.0001), "more than one count away"
        assert take.t_us[0] == 0 and np.all(np.diff(take.t_us) > 0)
        assert np.median(np.diff(take.t_us)) == pytest.approx(1e6 / RATE_HZ, rel=0.01)


def test_record_from_the_simulated_person(host_build, tmp_path):
    from capture import synth

    out = tmp_path / "data"
    proc = record("--port", "sim://?subject=p1&session=s1&speed=40", "--label", "wave", "--takes", 2,
                  "--out", out, "--subject", "p1")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["samples_lost"] == 0
    recorded = [read_take(p) for p in list_takes(out)]
    assert len(recorded) == 2
    for i, take in enumerate(recorded):
        assert take.meta.samples == 119 and take.meta.rate_hz == pytest.approx(119)
        source = synth.make_take("wave", 119.0, "p1", i, "s1", 1.0, 0)
        assert np.all(np.abs(take.values - clipped_to_int16_counts(source)) <= LSM9DS1_SCALE * 1.0001)


def test_unplugging_mid_take_keeps_a_partial_take_and_says_so(host_build, tmp_path):
    replay = write_replay(tmp_path / "long.csv", make_takes(1, 1000))
    out = tmp_path / "data"
    cmd = [sys.executable, "-m", "capture", "record", "--countdown", "0", "--port", f"sim://?replay={replay}&rate=100&speed=1",
           "--label", "flex", "--takes", 1, "--seconds", 10, "--out", out]
    proc = subprocess.Popen(list(map(str, cmd)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    board_pid, stderr_lines = None, []
    try:
        for line in proc.stderr:  # wait until the board is streaming, then pull the plug
            stderr_lines.append(line)
            found = re.search(r"virtual board on .* \(pid (\d+)", line)
            if found:
                board_pid = int(found.group(1))
            progress = re.search(r"(\d+)/1000 samples", line)
            if progress and int(progress.group(1)) > 0:
                break
        assert board_pid, "".join(stderr_lines)
        os.kill(board_pid, signal.SIGKILL)
        _, rest = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr = "".join(stderr_lines) + rest
    assert proc.returncode == 2
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("error: take 1 of 1 ('flex') stopped early:"), stderr
    assert "marked complete=false" in last and "Traceback" not in stderr
    assert "disconnected" in last or "exited" in last
    (take,) = [read_take(p) for p in list_takes(out)]
    assert take.meta.complete is False and 0 < take.meta.samples < 1000
    assert f"wrote the {take.meta.samples} samples received" in last


def test_port_that_does_not_exist(tmp_path):
    proc = record("--port", tmp_path / "ttyNONE", "--label", "x", "--out", tmp_path / "d")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"error: cannot open port {tmp_path / 'ttyNONE'}: no such device; " \
                                  "list boards with: nanogest ports"


def test_silent_port_is_a_clear_timeout(tmp_path):
    master, slave = os.openpty()  # a real pty with nobody answering on the other side
    try:
        proc = record("--port", os.ttyname(slave), "--label", "x", "--out", tmp_path / "d")
    finally:
        os.close(master)
        os.close(slave)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert "no reply to 'mode capture' within 2 s" in last and "nanogest firmware" in last
    assert not (tmp_path / "d").exists()


def test_a_port_sending_text_instead_of_frames_is_named(tmp_path):
    master, slave = os.openpty()
    done = threading.Event()

    def sketch():  # IMU_Capture-style text lines, as a board running another sketch would send
        while not done.wait(0.05):
            os.write(master, b"0.01,0.02,0.98,1.0,2.0,3.0\n")

    writer = threading.Thread(target=sketch)
    writer.start()
    try:
        proc = record("--port", os.ttyname(slave), "--label", "x", "--out", tmp_path / "d")
    finally:
        done.set()
        writer.join()
        os.close(master)
        os.close(slave)
    assert proc.returncode == 2
    assert "bytes that were not nanogest frames" in proc.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("url, message", [
    ("sim://?colour=red", "unknown sim:// option 'colour'"),
    ("sim://?replay=/nonexistent/takes.csv", "replay file /nonexistent/takes.csv does not exist"),
    ("sim://?imu=mpu6050", "imu must be one of"),
    ("tcp://host:1", "unknown port kind"),
])
def test_bad_port_urls(tmp_path, url, message):
    proc = record("--port", url, "--label", "x", "--out", tmp_path / "d")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert message in proc.stderr.strip().splitlines()[-1]
