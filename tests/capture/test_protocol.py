"""FrameDecoder, encoders and SampleTracker: round trips, resync after corruption, split feeds."""

import random
import struct

import numpy as np
import pytest

from capture.wire import protocol_spec as spec
from capture.wire.protocol import (
    SAMPLE_FRAME_BYTES, Frame, FrameDecoder, ProtocolError, SampleBlock, SampleTracker, command_line, crc16,
    encode_ack, encode_device_info, encode_error, encode_frame, encode_prediction, encode_sample,
    encode_samples, encode_status,
)

DEVICE_INFO = dict(protocol_version=spec.PROTOCOL_VERSION, fw_major=0, fw_minor=3, fw_patch=7, board_rev=spec.BOARD_REV1,
                   imu=spec.IMU_LSM9DS1, accel_range_g=4, gyro_range_dps=2000, rate_mhz=119000,
                   accel_g_per_count=0.000122, gyro_dps_per_count=0.07, model_hash=0xDEADBEEF, mode=0,
                   model_rate_mhz=100000)


def mixed_stream(n_frames: int, seed: int) -> list[bytes]:
    """Frames of every type with random contents, mostly samples (as on the wire)."""
    rng = random.Random(seed)
    frames = []
    for i in range(n_frames):
        kind = rng.random()
        seq, t_us = rng.getrandbits(32), rng.getrandbits(32)
        if kind < 0.8:
            frames.append(encode_sample(seq, t_us, [rng.randint(-32768, 32767) for _ in range(6)]))
        elif kind < 0.85:
            frames.append(encode_device_info(seq, t_us, **DEVICE_INFO))
        elif kind < 0.9:
            frames.append(encode_status(seq, t_us, samples_produced=i, samples_dropped=1, command_errors=2, mode=0))
        elif kind < 0.95:
            frames.append(encode_ack(seq, t_us, rng.choice(["start", "stop", "info", "mode"])))
        else:
            frames.append(encode_error(seq, t_us, spec.ERR_UNKNOWN_COMMAND, "x" * rng.randint(0, spec.MAX_PAYLOAD - 1)))
    return frames


def decode_all(decoder: FrameDecoder, chunks) -> list[Frame]:
    out = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    return out


def test_crc16_is_ccitt_false():
    assert crc16(b"123456789") == 0x29B1  # the catalogue check value of CRC-16/CCITT-FALSE
    assert crc16(b"") == 0xFFFF


def test_round_trip_every_message_type():
    stream = [
        encode_sample(1, 10, [1, -2, 3, -32768, 32767, 0]),
        encode_device_info(2, 20, **DEVICE_INFO),
        encode_status(3, 30, samples_produced=100, samples_dropped=4, command_errors=1, mode=spec.MODE_TEXT),
        encode_prediction(4, 40, label_index=3, score_q=-17, inference_us=2500),
        encode_ack(5, 50, "start"),
        encode_error(6, 60, spec.ERR_BAD_ARGUMENT, "mode needs a name"),
    ]
    frames = FrameDecoder().feed(b"".join(stream))
    assert [f.type for f in frames] == [2, 1, 3, 4, 5, 6]
    assert [(f.seq, f.t_us) for f in frames] == [(i, 10 * i) for i in range(1, 7)]
    assert frames[0].fields() == dict(ax=1, ay=-2, az=3, gx=-32768, gy=32767, gz=0)
    info = frames[1].fields()
    assert info["rate_mhz"] == 119000 and info["model_hash"] == 0xDEADBEEF
    assert info["accel_g_per_count"] == pytest.approx(0.000122) and info["gyro_dps_per_count"] == pytest.approx(0.07)
    assert frames[2].fields()["samples_dropped"] == 4
    assert frames[3].fields() == dict(label_index=3, score_q=-17, inference_us=2500)
    assert frames[4].fields() == {"command": "start"}
    assert frames[5].fields() == {"code": spec.ERR_BAD_ARGUMENT, "message": "mode needs a name"}


def test_extra_payload_bytes_are_tolerated_and_short_payloads_rejected():
    payload = struct.pack("<6h", 1, 2, 3, 4, 5, 6) + b"\x99\x98"  # a newer firmware appended a field
    (frame,) = FrameDecoder().feed(encode_frame(spec.MSG_SAMPLE, 7, 8, payload))
    assert frame.fields() == dict(ax=1, ay=2, az=3, gx=4, gy=5, gz=6)
    (short,) = FrameDecoder().feed(encode_frame(spec.MSG_STATUS, 1, 1, b"\x01\x02"))
    with pytest.raises(ProtocolError, match="status payload has 2 bytes"):
        short.fields()
    (unknown,) = FrameDecoder().feed(encode_frame(0x7F, 1, 1, b"abc"))
    with pytest.raises(ProtocolError, match="0x7f"):
        unknown.fields()


def test_encoders_refuse_oversized_payloads_and_commands():
    with pytest.raises(ProtocolError):
        encode_frame(spec.MSG_ACK, 0, 0, b"x" * (spec.MAX_PAYLOAD + 1))
    with pytest.raises(ProtocolError):
        command_line("mode " + "x" * spec.COMMAND_MAX_BYTES)
    assert command_line(" start ") == b"start\n"


def test_vectorised_sample_encoder_matches_the_scalar_one():
    rng = np.random.default_rng(3)
    counts = rng.integers(-32768, 32768, size=(50, 6))
    seq = np.arange(50) + 2**32 - 25  # crosses the uint32 wrap
    t_us = np.arange(50) * 8403
    many = encode_samples(seq, t_us, counts)
    one_by_one = b"".join(encode_sample(int(s) % 2**32, int(t), c) for s, t, c in zip(seq, t_us, counts))
    assert many == one_by_one


def test_fast_path_blocks_match_per_frame_decoding():
    rng = np.random.default_rng(4)
    counts = rng.integers(-32768, 32768, size=(1000, 6))
    data = encode_samples(np.arange(1000), np.arange(1000) * 10, counts)
    blocks = FrameDecoder().feed_blocks(data)
    assert len(blocks) == 1 and isinstance(blocks[0], SampleBlock) and len(blocks[0]) == 1000
    np.testing.assert_array_equal(blocks[0].counts, counts)
    np.testing.assert_array_equal(blocks[0].seq, np.arange(1000))
    # one corrupt frame in the middle: two blocks around it, the bad frame is dropped
    bad = bytearray(data)
    bad[500 * SAMPLE_FRAME_BYTES + 15] ^= 0x40
    d = FrameDecoder()
    frames = d.feed(bytes(bad))
    assert [f.seq for f in frames] == [s for s in range(1000) if s != 500]
    assert d.crc_failures == 1 and d.frames_ok == 999


def test_split_feeds_at_every_byte_boundary():
    frames = mixed_stream(12, seed=5)
    stream = b"".join(frames)
    expected = FrameDecoder().feed(stream)
    assert len(expected) == len(frames)
    for cut in range(len(stream) + 1):
        d = FrameDecoder()
        assert decode_all(d, [stream[:cut], stream[cut:]]) == expected, f"cut at byte {cut}"
        assert d.bytes_skipped == 0 and d.frames_rejected == 0
    assert decode_all(FrameDecoder(), [stream[i:i + 1] for i in range(len(stream))]) == expected


def corrupt(frames: list[bytes], rng: random.Random):
    """Damage ~8% of frames and insert junk between ~3%; return the stream and the intact frames."""
    out, intact = [], []
    for frame in frames:
        if rng.random() < 0.03:  # junk between frames, sometimes looking like a frame start
            junk = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 40)))
            out.append(rng.choice([junk, bytes(spec.SYNC) + junk, bytes(spec.SYNC) + b"\xf0\x00" + junk]))
        r = rng.random()
        if r < 0.04:  # one byte changed
            b = bytearray(frame)
            i = rng.randrange(len(b))
            b[i] ^= rng.randint(1, 255)
            out.append(bytes(b))
        elif r < 0.06:  # truncated (bytes lost on the wire)
            out.append(frame[:rng.randrange(1, len(frame))])
        elif r < 0.08:  # bytes inserted inside the frame
            i = rng.randrange(1, len(frame))
            out.append(frame[:i] + bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 5))) + frame[i:])
        else:
            out.append(frame)
            intact.append(frame)
    return b"".join(out), intact


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_resync_after_random_corruption(seed):
    rng = random.Random(seed)
    frames = mixed_stream(3000, seed)
    stream, intact = corrupt(frames, rng)
    assert len(intact) < len(frames)
    originals = set(frames)
    chunks, pos = [], 0
    while pos < len(stream):  # random feed sizes, so the fast path starts and stops anywhere
        n = rng.choice([1, 7, 27, 100, 1000, 5000])
        chunks.append(stream[pos:pos + n])
        pos += n
    d = FrameDecoder()
    got = decode_all(d, chunks)
    got_bytes = [encode_frame(f.type, f.seq, f.t_us, f.payload) for f in got]
    assert all(b in originals for b in got_bytes), "a corrupted frame was accepted"
    assert got_bytes == intact, "an intact frame was not recovered"
    assert d.frames_rejected > 0 and d.bytes_skipped > 0
    assert d.frames_ok == len(intact)
    # the whole stream in one feed gives the same frames
    assert FrameDecoder().feed(stream) == got


def test_garbage_only_is_skipped_and_counted():
    d = FrameDecoder()
    assert d.feed(bytes(range(256)) * 4) == []
    assert d.bytes_skipped >= 1000 and d.pending_bytes < spec.HEADER_BYTES + spec.MAX_PAYLOAD + 2


def test_tracker_counts_gaps_including_uint32_wrap():
    t = SampleTracker(119)
    seq = np.array([2**32 - 3, 2**32 - 2, 2**32 - 1, 0, 1, 4, 5], dtype=np.uint32)  # 2 and 3 lost
    t_us = (np.array([0, 1, 2, 3, 4, 7, 8]) * 8403 + 2**32 - 20000) % 2**32
    rel = t.update_block(seq, t_us.astype(np.uint32))
    assert t.samples_lost == 2 and t.samples == 7 and t.seq_restarts == 0
    np.testing.assert_array_equal(rel, np.array([0, 1, 2, 3, 4, 7, 8]) * 8403)  # unwrapped over t_us wrap
    timing = t.timing()
    assert timing["period_us_mean"] == pytest.approx(8403) and timing["jitter_us_std"] == pytest.approx(0)


def test_tracker_across_calls_one_at_a_time_and_jitter():
    t = SampleTracker(100)
    times = [0, 10000, 20500, 29500, 40000]
    rel = [t.update(s, tt) for s, tt in zip([10, 11, 12, 14, 15], times)]
    assert rel == times
    assert t.samples_lost == 1
    timing = t.timing()
    # periods: 10000, 10500, 9000/2 per lost-sample-adjusted step = 4500, 10500
    assert timing["jitter_us_max_vs_nominal"] == pytest.approx(5500)
    t.update(3, 50000)  # device restarted its counter: not a loss
    assert t.seq_restarts == 1 and t.samples_lost == 1


def test_tracker_does_not_count_responses_between_samples_as_lost():
    # the device numbers all frames from one counter: ACK(start)=40, samples 41.., a STATUS reply at 44
    t = SampleTracker(100)
    t.other_frame(40)
    t.update_block(np.array([41, 42, 43], np.uint32), np.array([0, 10000, 20000], np.uint32))
    t.other_frame(44)
    t.update_block(np.array([45, 47], np.uint32), np.array([30000, 50000], np.uint32))  # 46 lost
    assert t.samples_lost == 1 and t.samples == 5
    assert t.timing()["period_us_mean"] == pytest.approx(10000)
    t2 = SampleTracker()
    t2.other_frame(7)
    t2.update(9, 0)  # the first sample after the ACK was lost
    assert t2.samples_lost == 1
