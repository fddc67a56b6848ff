"""Unplugging the board mid-take and plugging it back in, with real pseudo-terminals.

A serial device path is played by a symlink: "unplugging" removes it and kills the
virtual board behind it, "plugging in" starts a new virtual board and points the same
path at its new pty. The recorder must keep the partial take (complete=false), say
so, wait, reopen the path, read the device info again and record the rest."""

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from capture.dataset import list_takes, read_take

HEADER = "aX,aY,aZ,gX,gY,gZ"
LSM9DS1_SCALE = np.array([0.000122] * 3 + [0.07] * 3)
ROWS = 200  # --seconds 2 at 100 Hz


def write_replay(path, takes):
    blocks = ["\n".join(",".join(f"{v:.6f}" for v in row) for row in take) for take in takes]
    path.write_text(HEADER + "\n" + "\n\n".join(blocks) + "\n")
    return path


def board_takes(marker, n_takes, seed):
    rng = np.random.default_rng(seed)
    takes = [np.hstack([rng.uniform(-2, 2, (ROWS, 3)), rng.uniform(-500, 500, (ROWS, 3))]) for _ in range(n_takes)]
    for t in takes:
        t[:, 0] = marker  # which board played it
    return takes


class VirtualBoard:
    def __init__(self, binary, replay):
        self.proc = subprocess.Popen([str(binary), "--replay", str(replay), "--rate-hz", "100", "--speed", "1"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.pty = self.proc.stdout.readline().decode().strip()
        assert self.pty.startswith("/dev/"), self.pty

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


class LineReader:
    """stderr lines of a running process, waitable by pattern."""

    def __init__(self, stream):
        self.lines, self._queue = [], queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream):
        for line in stream:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, pattern, timeout_s=30, after=0):
        deadline = time.monotonic() + timeout_s
        while True:
            for line in self.lines[after:]:
                if re.search(pattern, line):
                    return len(self.lines)
            after = len(self.lines)
            try:
                line = self._queue.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                pytest.fail(f"no stderr line matching {pattern!r}:\n{''.join(self.lines)}")
            self.lines.append(line)

    def rest(self):
        while (line := self._queue.get(timeout=30)) is not None:
            self.lines.append(line)
        return "".join(self.lines)


def test_unplug_mid_take_then_plug_back_in_records_the_remaining_takes(host_build, tmp_path):
    binary = host_build / "virtual_board"
    first_takes, second_takes = board_takes(0.5, 3, seed=1), board_takes(-0.5, 3, seed=2)
    link = tmp_path / "ttyNANO"
    board = VirtualBoard(binary, write_replay(tmp_path / "first.csv", first_takes))
    os.symlink(board.pty, link)
    out = tmp_path / "data"
    cmd = [sys.executable, "-m", "capture", "record", "--countdown", "0", "--port", str(link), "--label", "flex",
           "--takes", "3", "--seconds", "2", "--out", str(out), "--wait-reconnect", "20"]
    rec = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    boards = [board]
    try:
        err = LineReader(rec.stderr)
        seen = err.wait_for(r"take 2/3: perform")
        err.wait_for(r"\s([1-9]\d*)/200 samples", after=seen)  # take 2 is streaming: pull the plug
        os.unlink(link)
        board.kill()
        err.wait_for(r"waiting up to 20 s for the board to come back on .*ttyNANO")
        boards.append(VirtualBoard(binary, write_replay(tmp_path / "second.csv", second_takes)))
        os.symlink(boards[-1].pty, link)
        rec.wait(timeout=60)
        stdout = rec.stdout.read()
        stderr = err.rest()
    finally:
        if rec.poll() is None:
            rec.kill()
        for b in boards:
            b.kill()
    assert rec.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert re.search(r"take 2 of 3 \('flex'\) stopped early: .*disconnected; wrote the \d+ samples received to "
                     r".*unknown-s1-002\.csv marked complete=false", stderr), stderr
    assert "the board is back: virtual with LSM9DS1 at 100 Hz" in stderr and "recording take 2 of 3 again" in stderr
    summary = json.loads(stdout)
    assert (summary["takes"], summary["takes_incomplete"], summary["reconnects"], summary["samples_lost"]) == (4, 1, 1, 0)

    takes = [read_take(p) for p in list_takes(out)]
    assert [t.meta.take for t in takes] == [f"unknown-s1-00{i}" for i in range(1, 5)]
    assert [t.meta.complete for t in takes] == [True, False, True, True]
    assert 0 < takes[1].meta.samples < ROWS and "disconnected" in takes[1].meta.extra["stopped_early"]
    expected = [first_takes[0], first_takes[1][:takes[1].meta.samples], second_takes[0], second_takes[1]]
    for take, source in zip(takes, expected):  # nothing received was lost; the new board's takes follow
        assert np.all(np.abs(take.values - source) <= LSM9DS1_SCALE * 1.0001)


def test_a_board_that_does_not_come_back_ends_with_one_clear_line(host_build, tmp_path):
    binary = host_build / "virtual_board"
    link = tmp_path / "ttyNANO"
    board = VirtualBoard(binary, write_replay(tmp_path / "only.csv", board_takes(0.5, 1, seed=3)))
    os.symlink(board.pty, link)
    cmd = [sys.executable, "-m", "capture", "record", "--countdown", "0", "--port", str(link), "--label", "flex",
           "--takes", "2", "--seconds", "2", "--out", str(tmp_path / "d"), "--wait-reconnect", "1"]
    rec = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        err = LineReader(rec.stderr)
        err.wait_for(r"\s([1-9]\d*)/200 samples")
        os.unlink(link)
        board.kill()
        rec.wait(timeout=30)
        stderr = err.rest()
    finally:
        if rec.poll() is None:
            rec.kill()
        board.kill()
    assert rec.returncode == 2 and "Traceback" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("error: take 1 of 2 ('flex') stopped early:") and "marked complete=false" in last
    assert f"{link} did not come back within 1 s" in last
    (take,) = [read_take(p) for p in list_takes(tmp_path / "d")]
    assert not take.meta.complete
