"""A model that does not fit its tensor arena is reported over the protocol, not a hang:
the virtual board with the committed default model and ``--arena-bytes 512`` answers the
inference modes with ERROR model_failed naming both sizes (the measured one is the header's
kArenaMeasuredBytes, compiled in as on the board), and keeps serving capture."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path


from capture.wire import protocol_spec as spec

ROOT = Path(__file__).resolve().parents[2]
HOST = ROOT / "firmware" / "build" / "host"
DEFAULT_RUN = HOST / "default_run"
SETTINGS_H = ROOT / "firmware" / "lib" / "nanogest_model" / "src" / "generated" / "model_settings.h"
WAIT_S = 20.0



def header_constant(name: str) -> int:
    match = re.search(rf"constexpr unsigned int {name} = (\d+)u;", SETTINGS_H.read_text())
    assert match, f"{name} missing from {SETTINGS_H}"
    return int(match.group(1))


def test_default_run_report_carries_the_headers_arena_sizes(host_build):
    import json

    report = json.loads((DEFAULT_RUN / "report.json").read_text())
    assert report["arena_bytes"] == header_constant("kArenaBytes")
    assert report["arena_measured_bytes"] == header_constant("kArenaMeasuredBytes")
    assert 0 < report["arena_measured_bytes"] <= report["arena_bytes"]


def test_tflm_server_refuses_a_too_small_arena_with_one_sentence():
    out = subprocess.run([sys.executable, "-m", "converter.tflm_server", str(DEFAULT_RUN), "--arena-bytes", "512"],
                         input=b"", capture_output=True, timeout=WAIT_S)
    assert out.returncode == 2 and out.stdout == b""
    assert "refuses the model with a 512-byte arena" in out.stderr.decode()
    assert "Traceback" not in out.stderr.decode()


def test_too_small_arena_answers_model_failed_with_both_sizes_and_capture_still_streams(host_build, tmp_path):
    import serial

    from capture.wire.ports import Port
    from boardtools.replay import BoardLink

    measured = header_constant("kArenaMeasuredBytes")
    csv = tmp_path / "replay.csv"
    csv.write_text("aX,aY,aZ,gX,gY,gZ\n" + "0.0,0.0,1.0,0.0,0.0,0.0\n" * 200 + "\n")
    log = (tmp_path / "board.log").open("w")
    proc = subprocess.Popen([str(host_build / "virtual_board"), "--model", str(DEFAULT_RUN), "--replay", str(csv),
                             "--python", sys.executable, "--speed", "10", "--arena-bytes", "512"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
    try:
        pty_path = proc.stdout.readline().decode().strip()
        assert pty_path.startswith("/dev/"), (tmp_path / "board.log").read_text()
        link = BoardLink(Port(serial.Serial(pty_path, 115200, timeout=0.05), f"virtual board ({pty_path})"))
        for mode in ("inference", "replay"):
            link.send(f"mode {mode}")
            frame = next(link.frames(WAIT_S))
            assert frame.type == spec.MSG_ERROR
            fields = frame.fields()
            assert fields["code"] == spec.ERR_MODEL_FAILED
            assert "tensor arena of 512 bytes is too small" in fields["message"]
            assert f"measured {measured} bytes" in fields["message"]
        link.command("ping")
        link.command("mode capture")
        samples = []
        link.command("start")
        for frame in link.frames(WAIT_S):
            assert frame.type == spec.MSG_SAMPLE
            samples.append(frame)
            if len(samples) == 20:
                break
        link.send("stop")
        link.until_ack("stop", lambda f: None)
        assert len(samples) == 20
        assert "the model cannot run" in (tmp_path / "board.log").read_text()
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    assert proc.returncode == 0
