"""Firmware tests: the core's unit tests on the host (sanitizers) and on Cortex-M4 in
QEMU, and the virtual board end to end over a real pseudo-terminal.

Frames are parsed here with ``struct`` and the constants of ``capture.wire.protocol_spec``
only (not with capture's decoder), so this checks the firmware against the spec.
"""

from __future__ import annotations

import math
import re
import signal
import struct
import subprocess
import time
from pathlib import Path

import pytest
import serial

from capture.wire import protocol_spec as spec
from toolchains import need_tools

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
VIRTUAL_BOARD = FIRMWARE / "build" / "host" / "virtual_board"
LSM_ACCEL_G, LSM_GYRO_DPS = 0.000122, 0.07
WAIT_S = 20.0  # generous guard against a hung board; never an assertion about speed



def run_make(target: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-C", str(FIRMWARE), target], capture_output=True, text=True, timeout=600)


def assert_all_passed(result: subprocess.CompletedProcess) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    summary = re.findall(r"^(\d+) passed, (\d+) failed$", output, re.MULTILINE)
    assert summary, output[-4000:]
    passed, failed = map(int, summary[-1])
    assert failed == 0 and passed >= 20, output[-4000:]


def test_core_unit_tests_pass_on_host_with_sanitizers():
    need_tools("make", "g++")
    assert_all_passed(run_make("test-host"))


def test_core_unit_tests_pass_on_cortex_m4_in_qemu():
    need_tools("make", "arm-none-eabi-g++", "qemu-system-arm")
    assert_all_passed(run_make("test-arm"))


# --- the virtual board over a pty -------------------------------------------------


@pytest.fixture(scope="module")
def board_binary() -> Path:
    need_tools("make", "g++")
    result = run_make("host")
    assert result.returncode == 0, result.stderr[-4000:]
    assert VIRTUAL_BOARD.exists()
    return VIRTUAL_BOARD


def replay_takes(take_lengths=(20, 15)) -> list[list[tuple[float, ...]]]:
    """Takes of (aX..gZ) rows whose count conversion is never near a rounding tie."""
    takes, n = [], 0
    for length in take_lengths:
        rows = []
        for _ in range(length):
            counts = [(n * 37 + 11 * i) % 16000 - 8000 for i in range(6)]
            frac = ((n * 7 + 3) % 7 - 3) / 10.0  # -0.3 .. 0.3 of a count
            rows.append(tuple((c + frac) * (LSM_ACCEL_G if i < 3 else LSM_GYRO_DPS) for i, c in enumerate(counts)))
            n += 1
        takes.append(rows)
    return takes


def write_replay(path: Path, takes) -> Path:
    lines = ["aX,aY,aZ,gX,gY,gZ"]
    for rows in takes:
        lines += [",".join(repr(v) for v in row) for row in rows]
        lines.append("")
    path.write_text("\n".join(lines) + "\n")
    return path


def expected_counts(row) -> tuple[int, ...]:
    return tuple(round(v / (LSM_ACCEL_G if i < 3 else LSM_GYRO_DPS)) for i, v in enumerate(row))


class Board:
    """A running virtual board and a pyserial connection to its pty."""

    def __init__(self, binary: Path, replay: Path, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [str(binary), "--replay", str(replay), *extra],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.path = self.proc.stdout.readline().strip()
        assert self.path.startswith("/dev/"), self.proc.stderr.read()
        self.port = serial.Serial(self.path, baudrate=115200, timeout=0.05)
        self.buffer = b""

    def send(self, line: str) -> None:
        self.port.write(line.encode() + b"\n")

    def frames(self):
        """Yields (type, seq, t_us, payload) frames until WAIT_S passes without the caller stopping."""
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            self.buffer += self.port.read(4096)
            while True:
                start = self.buffer.find(bytes(spec.SYNC))
                if start < 0 or len(self.buffer) - start < spec.HEADER_BYTES:
                    break
                _, _, length, ftype, seq, t_us = struct.unpack_from(spec.HEADER_FORMAT, self.buffer, start)
                end = start + spec.HEADER_BYTES + length + spec.CRC_BYTES
                if len(self.buffer) < end:
                    break
                body = self.buffer[start + 2:end - 2]
                (crc,) = struct.unpack_from("<H", self.buffer, end - 2)
                assert crc == crc16(body), f"bad CRC in frame {self.buffer[start:end].hex()}"
                assert start == 0, f"unexpected bytes before a frame: {self.buffer[:start]!r}"
                self.buffer = self.buffer[end:]
                yield ftype, seq, t_us, body[spec.HEADER_BYTES - 2:]
        raise AssertionError(f"the board sent nothing more for {WAIT_S} s")

    def next_frame(self, ftype: int):
        for frame in self.frames():
            if frame[0] == ftype:
                return frame

    def close(self) -> int:
        self.port.close()
        self.proc.stdin.close()  # end of stdin: the board exits
        return self.proc.wait(timeout=WAIT_S)


def crc16(data: bytes) -> int:
    crc = spec.CRC_INIT
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ spec.CRC_POLY) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def payload_fields(ftype: int, payload: bytes) -> dict:
    fmt, names = spec.PAYLOADS[ftype]
    return dict(zip(names, struct.unpack_from(fmt, payload)))


@pytest.fixture
def board(board_binary, tmp_path):
    takes = replay_takes()
    b = Board(board_binary, write_replay(tmp_path / "replay.csv", takes), "--speed", "20")
    b.takes = takes
    yield b
    if b.proc.poll() is None:
        assert b.close() == 0


def test_virtual_board_streams_replayed_counts_with_consecutive_seq(board):
    board.send("info")
    _, _, _, payload = board.next_frame(spec.MSG_DEVICE_INFO)
    info = payload_fields(spec.MSG_DEVICE_INFO, payload)
    assert info["board_rev"] == spec.BOARD_VIRTUAL and info["imu"] == spec.IMU_LSM9DS1
    assert info["rate_mhz"] == 119000 and info["protocol_version"] == spec.PROTOCOL_VERSION
    assert math.isclose(info["accel_g_per_count"], LSM_ACCEL_G, rel_tol=1e-6)
    assert math.isclose(info["gyro_dps_per_count"], LSM_GYRO_DPS, rel_tol=1e-6)
    assert board.next_frame(spec.MSG_ACK)[3] == b"info"

    rows = board.takes[0] + board.takes[1]
    board.send("start")
    assert board.next_frame(spec.MSG_ACK)[3] == b"start"
    samples = []
    for ftype, seq, t_us, payload in board.frames():
        assert ftype == spec.MSG_SAMPLE
        samples.append((seq, t_us, struct.unpack_from(spec.PAYLOADS[spec.MSG_SAMPLE][0], payload)))
        if len(samples) == len(rows) + 5:  # through both takes and around the loop
            break
    board.send("stop")
    assert board.next_frame(spec.MSG_ACK)[3] == b"stop"  # skips samples sent before the stop arrived
    seqs = [s[0] for s in samples]
    assert seqs == list(range(seqs[0], seqs[0] + len(samples)))
    t0 = samples[0][1]
    assert [s[1] - t0 for s in samples] == [k * 1_000_000 // 119 for k in range(len(samples))]
    assert [s[2] for s in samples] == [expected_counts(r) for r in rows + rows[:5]]

    # The next start plays the next take from its beginning.
    board.send("start")
    first = board.next_frame(spec.MSG_SAMPLE)
    assert struct.unpack_from("<6h", first[3]) == expected_counts(board.takes[1][0])
    board.send("stop")
    assert board.close() == 0


def test_virtual_board_rejects_an_over_long_command_and_still_answers_ping(board):
    board.send("x" * (spec.COMMAND_MAX_BYTES + 40))
    _, _, _, payload = board.next_frame(spec.MSG_ERROR)
    assert payload_fields(spec.MSG_ERROR, payload)["code"] == spec.ERR_LINE_TOO_LONG
    assert b"64" in payload[1:]
    board.send("nonsense")
    _, _, _, payload = board.next_frame(spec.MSG_ERROR)
    assert payload[0] == spec.ERR_UNKNOWN_COMMAND
    board.send("ping")
    assert board.next_frame(spec.MSG_ACK)[3] == b"ping"
    board.send("status")
    _, _, _, payload = board.next_frame(spec.MSG_STATUS)
    assert payload_fields(spec.MSG_STATUS, payload)["command_errors"] == 2


def test_virtual_board_counts_drops_when_the_host_does_not_read(board_binary, tmp_path):
    b = Board(board_binary, write_replay(tmp_path / "r.csv", replay_takes()), "--speed", "200")
    try:
        b.send("start")
        time.sleep(0.5)  # not reading: ~12000 frames are due, far more than the pty and TX ring hold
        b.send("stop")
        b.send("status")
        seqs, samples = [], 0
        for ftype, seq, _, payload in b.frames():
            seqs.append(seq)  # one counter for every frame type
            samples += ftype == spec.MSG_SAMPLE
            if ftype == spec.MSG_STATUS:
                status = payload_fields(spec.MSG_STATUS, payload)
                break
        assert seqs[0] == 0  # the ACK of "start" is the board's first frame
        gaps = sum(later - earlier - 1 for earlier, later in zip(seqs, seqs[1:]))
        assert status["samples_dropped"] > 0
        assert gaps == status["samples_dropped"]  # every drop shows as a sequence gap, nothing else is lost
        assert samples + status["samples_dropped"] == status["samples_produced"]
    finally:
        assert b.close() == 0


def test_virtual_board_exits_cleanly_on_sigterm(board_binary, tmp_path):
    b = Board(board_binary, write_replay(tmp_path / "r.csv", replay_takes()))
    b.send("ping")
    assert b.next_frame(spec.MSG_ACK)[3] == b"ping"
    b.proc.send_signal(signal.SIGTERM)
    assert b.proc.wait(timeout=WAIT_S) == 0
    b.port.close()


@pytest.mark.parametrize(
    "content, where",
    [
        ("aX,aY,aZ,gX,gY,gZ\n0.1,0.2,0.3,1,2,3\n0.1,oops,0.3,1,2,3\n", ":3:"),
        ("aX,aY,aZ,gX,gY,gZ\n0.1,0.2,0.3,1,2\n", ":2:"),
        ("0.1,0.2,0.3,1,2,3\n", ":1:"),
        ("aX,aY,aZ,gX,gY,gZ\n\n", "no sample rows"),
    ],
)
def test_virtual_board_rejects_a_malformed_replay_file(board_binary, tmp_path, content, where):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    result = subprocess.run([str(board_binary), "--replay", str(path)], capture_output=True, text=True, timeout=WAIT_S)
    assert result.returncode == 2
    assert result.stdout == ""
    message = result.stderr.strip()
    assert str(path) in message and where in message and len(message.splitlines()) == 1


def test_virtual_board_rejects_a_missing_replay_file(board_binary, tmp_path):
    missing = tmp_path / "nope.csv"
    result = subprocess.run([str(board_binary), "--replay", str(missing)], capture_output=True, text=True, timeout=WAIT_S)
    assert result.returncode == 2 and str(missing) in result.stderr and "Traceback" not in result.stderr


def test_frame_vectors_decode_per_spec(board_binary):
    lines = subprocess.run([str(FIRMWARE / "build" / "host" / "frame_vectors")], capture_output=True, text=True,
                           check=True).stdout.split()
    assert len(lines) == 12
    frames = [bytes.fromhex(line) for line in lines]
    for frame in frames:
        _, _, length, ftype, _, _ = struct.unpack_from(spec.HEADER_FORMAT, frame)
        assert len(frame) == spec.HEADER_BYTES + length + spec.CRC_BYTES
        assert struct.unpack_from("<H", frame, len(frame) - 2)[0] == crc16(frame[2:-2])
    assert struct.unpack_from("<6h", frames[1], spec.HEADER_BYTES) == (-32768, 32767, -1, 1, 256, -256)
    info = payload_fields(spec.MSG_DEVICE_INFO, frames[4][spec.HEADER_BYTES:-2])
    assert info["model_hash"] == 0xDEADBEEF and info["rate_mhz"] == 119000


def test_virtual_board_emulates_the_bmi270(board_binary, tmp_path):
    rows = [(0.5, -1.0, 3.99, 100.0, -2500.0, 0.02), (-4.5, 0.0001, 1.0, -1999.9, 16.4, 0.0)]
    b = Board(board_binary, write_replay(tmp_path / "r.csv", [rows]), "--imu", "bmi270", "--speed", "10")
    try:
        b.send("info")
        info = payload_fields(spec.MSG_DEVICE_INFO, b.next_frame(spec.MSG_DEVICE_INFO)[3])
        assert info["imu"] == spec.IMU_BMI270 and info["rate_mhz"] == 100000
        assert info["accel_g_per_count"] == pytest.approx(1 / 8192) and info["gyro_dps_per_count"] == pytest.approx(1 / 16.4)
        b.send("start")
        got = [struct.unpack_from("<6h", b.next_frame(spec.MSG_SAMPLE)[3]) for _ in range(2)]
        # Rounded with the BMI270 scale, clipped at +/-4 g (int16) and +/-2000 dps.
        assert got == [(4096, -8192, 32686, 1640, -32767, 0), (-32767, 1, 8192, -32767, 269, 0)]
    finally:
        assert b.close() == 0


def test_virtual_board_text_mode_prints_imu_capture_csv(board):
    board.send("mode text")
    assert board.next_frame(spec.MSG_ACK)[3] == b"mode"
    board.send("start")
    assert board.next_frame(spec.MSG_ACK)[3] == b"start"
    text, deadline = board.buffer, time.monotonic() + WAIT_S
    while text.count(b"\r\n") < 11 and time.monotonic() < deadline:
        text += board.port.read(4096)
    board.send("stop")
    lines = text.decode("ascii").split("\r\n")
    assert lines[0] == "aX,aY,aZ,gX,gY,gZ"
    for line, row in zip(lines[1:11], board.takes[0]):
        assert re.fullmatch(r"-?\d+\.\d{3}(,-?\d+\.\d{3}){5}", line), line
        counts = expected_counts(row)
        for shown, count, scale in zip(line.split(","), counts, [LSM_ACCEL_G] * 3 + [LSM_GYRO_DPS] * 3):
            assert abs(float(shown) - count * scale) <= 0.0005 + 1e-9
