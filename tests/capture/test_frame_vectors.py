"""Bytes encoded by the C++ core (firmware/build/host/frame_vectors) == bytes from capture/wire/protocol.py."""

import subprocess

import pytest

from capture.wire import protocol_spec as spec
from capture.wire.protocol import (
    FrameDecoder, encode_ack, encode_device_info, encode_error, encode_sample, encode_status,
)


def info(seq, t_us, fw, board, imu, rate_mhz, accel, gyro, model_hash, mode, model_rate_mhz):
    return encode_device_info(
        seq, t_us, protocol_version=spec.PROTOCOL_VERSION, fw_major=fw[0], fw_minor=fw[1], fw_patch=fw[2],
        board_rev=board, imu=imu, accel_range_g=4, gyro_range_dps=2000, rate_mhz=rate_mhz,
        accel_g_per_count=accel, gyro_dps_per_count=gyro, model_hash=model_hash, mode=mode,
        model_rate_mhz=model_rate_mhz)


# The same fixed inputs as the table at the top of firmware/host/frame_vectors.cpp, in order.
PYTHON_FRAMES = [
    encode_sample(0, 0, [0, 0, 0, 0, 0, 0]),
    encode_sample(1, 8403, [-32768, 32767, -1, 1, 256, -256]),
    encode_sample(0xFFFFFFFF, 0xFFFFFFFF, [32767, 32767, 32767, -32768, -32768, -32768]),
    encode_sample(2, 16806, [8197, -8197, 1000, 28571, -28571, 12345]),
    info(3, 100, (0, 1, 0), spec.BOARD_VIRTUAL, spec.IMU_LSM9DS1, 119000, 0.000122, 0.07, 0xDEADBEEF, spec.MODE_CAPTURE, 119000),
    info(4, 200, (1, 2, 3), spec.BOARD_REV2, spec.IMU_BMI270, 100000, 1 / 8192, 1 / 16.4, 0, spec.MODE_TEXT, 0),
    encode_status(5, 300, samples_produced=1000, samples_dropped=7, command_errors=2, mode=spec.MODE_CAPTURE),
    encode_status(6, 0x80000000, samples_produced=0xFFFFFFFF, samples_dropped=0, command_errors=0, mode=spec.MODE_REPLAY),
    encode_ack(7, 400, "ping"),
    encode_ack(8, 500, "mode"),
    encode_error(9, 600, spec.ERR_LINE_TOO_LONG, "command line longer than 64 bytes, ignored"),
    encode_error(10, 700, spec.ERR_UNKNOWN_COMMAND, ""),
]


@pytest.fixture(scope="module")
def cpp_lines(host_build):
    proc = subprocess.run([str(host_build / "frame_vectors")], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_cpp_and_python_encode_identical_bytes(cpp_lines):
    assert len(cpp_lines) == len(PYTHON_FRAMES), "frame_vectors' list and this test's list differ in length"
    for i, (cpp, py) in enumerate(zip(cpp_lines, PYTHON_FRAMES), start=1):
        assert cpp == py.hex(), f"vector #{i} differs:\n  C++    {cpp}\n  Python {py.hex()}"


def test_python_decoder_reads_every_cpp_frame(cpp_lines):
    stream = b"".join(bytes.fromhex(line) for line in cpp_lines)
    d = FrameDecoder()
    frames = d.feed(stream)
    assert [f.seq for f in frames] == [0, 1, 0xFFFFFFFF, *range(2, 11)]
    assert [f.type for f in frames] == [2, 2, 2, 2, 1, 1, 3, 3, 5, 5, 6, 6]
    assert d.frames_rejected == 0 and d.bytes_skipped == 0
    assert frames[5].fields()["gyro_dps_per_count"] == pytest.approx(1 / 16.4, rel=1e-7)
    assert frames[10].fields()["message"] == "command line longer than 64 bytes, ignored"
