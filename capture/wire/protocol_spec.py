"""The nanogest wire protocol, defined once.

This module is the single source of truth for every constant and payload layout of
the protocol between the board (or the virtual board) and the host. The firmware's
C++ copy, ``firmware/lib/nanogest_core/src/ng_protocol_defs.h``, is generated from it
by ``python -m capture gen-protocol-header``; a test regenerates it and fails on any
difference, and another compares bytes encoded by the C++ core with this module's.

Frame (all integers little-endian):

    offset size field
    0      2    sync        0xA5 0x5A
    2      2    payload_len bytes of payload (0..MAX_PAYLOAD)
    4      1    type        one of MSG_*
    5      4    seq         one counter for all frame types (uint32, wraps)
    9      4    t_us        device time in microseconds (uint32, wraps after ~71 min)
    13     n    payload     layout given by PAYLOADS[type]
    13+n   2    crc         CRC-16/CCITT-FALSE of bytes 2 .. 13+n-1 (len, type, seq, t_us, payload)

Sample frames carry raw int16 counts; the scale factors that turn counts into g and
deg/s are announced once in the DEVICE_INFO frame. Sequence numbers count every
frame the device *produced*, so a gap on the host side means frames were lost on the
way (or dropped by the device, which also reports its drop counter in STATUS).

Host -> device commands are ASCII lines (terminated by '\\n', '\\r' ignored) of at most
COMMAND_MAX_BYTES bytes, so people can type them in a serial monitor. Every command is
answered by an ACK frame (payload: the command word) or an ERROR frame, except
``sample`` (see below).

Inference. In modes ``inference`` and ``text-inference`` the board feeds its IMU
samples to the recognition path (window -> normalize -> int8 -> model -> postprocess);
in mode ``replay`` the host feeds samples instead, one ASCII line each:
``sample ax ay az gx gy gz`` (int16 counts of the announced scales). A ``sample`` line
is NOT acknowledged (one ACK per sample would double the traffic); only a bad one is
answered with an ERROR. Commands are handled in order, so the ACK of a later ``ping``
or ``stop`` means every sample before it has been processed and its PREDICTION frames
are queued before that ACK. In replay mode ``start`` begins a take: it empties the
window and resets the postprocessing (the IMU is not streamed).
Every complete window produces one PREDICTION frame (top-1 label, its raw int8 score,
the model's invoke time, and whether the postprocessing fired a detection on it).
In ``text-inference`` mode each detection is printed as a readable line instead:
``gesture <label> score <0.00..1.00> inference_us <n>\r\n``.

DEVICE_INFO: ``rate_mhz`` is the IMU's output data rate, the rate of SAMPLE frames and of
``sample`` lines in replay mode; ``model_rate_mhz`` is the rate the flashed model was trained
at (0: no model). When they differ the board resamples its IMU's stream to the model's rate
before windowing (ng_resample.h, contract/resample.py).

DEVICE_INFO tail: a board with a model appends ``label_count`` (uint8) and the label
names as written (UTF-8), each NUL-terminated, in label-index order (a board without a model
sends the fixed part only). Names that would not fit in MAX_PAYLOAD are left out and
not counted.
"""

# 2: DEVICE_INFO's fixed part ends with model_rate_mhz (the labels tail follows it).
PROTOCOL_VERSION = 2

SYNC = (0xA5, 0x5A)
HEADER_FORMAT = "<BBHBII"  # sync0, sync1, payload_len, type, seq, t_us
HEADER_BYTES = 13
CRC_BYTES = 2
CRC_POLY = 0x1021
CRC_INIT = 0xFFFF
MAX_PAYLOAD = 240

# Message types (device -> host).
MSG_DEVICE_INFO = 0x01
MSG_SAMPLE = 0x02
MSG_STATUS = 0x03
MSG_PREDICTION = 0x04
MSG_ACK = 0x05
MSG_ERROR = 0x06

MESSAGE_NAMES = {
    MSG_DEVICE_INFO: "device_info",
    MSG_SAMPLE: "sample",
    MSG_STATUS: "status",
    MSG_PREDICTION: "prediction",
    MSG_ACK: "ack",
    MSG_ERROR: "error",
}

# Fixed payload layouts (struct format, field names). A payload may be longer than
# its fixed part (newer firmware appends fields); decoders ignore the extra bytes.
PAYLOADS = {
    MSG_SAMPLE: ("<6h", ("ax", "ay", "az", "gx", "gy", "gz")),
    MSG_DEVICE_INFO: (
        "<BBBBBBHHIffIBI",
        (
            "protocol_version",
            "fw_major",
            "fw_minor",
            "fw_patch",
            "board_rev",
            "imu",
            "accel_range_g",
            "gyro_range_dps",
            "rate_mhz",
            "accel_g_per_count",
            "gyro_dps_per_count",
            "model_hash",
            "mode",
            "model_rate_mhz",
        ),
    ),
    MSG_STATUS: ("<IIIB", ("samples_produced", "samples_dropped", "command_errors", "mode")),
    # label_index: top-1 label of the window; score_q: its raw int8 model output
    # (score = output_scale * (score_q - output_zero_point)); inference_us: model invoke time.
    MSG_PREDICTION: ("<BbI", ("label_index", "score_q", "inference_us")),
    MSG_ACK: ("", ()),  # payload: the acknowledged command word, ASCII
    MSG_ERROR: ("<B", ("code",)),  # followed by an ASCII message
}

# Board revisions (DEVICE_INFO.board_rev).
BOARD_VIRTUAL = 0
BOARD_REV1 = 1
BOARD_REV2 = 2
BOARD_NAMES = {BOARD_VIRTUAL: "virtual", BOARD_REV1: "nano33ble_rev1", BOARD_REV2: "nano33ble_rev2"}

# IMU chips (DEVICE_INFO.imu).
IMU_UNKNOWN = 0
IMU_LSM9DS1 = 1
IMU_BMI270 = 2
IMU_NAMES = {IMU_UNKNOWN: "unknown", IMU_LSM9DS1: "LSM9DS1", IMU_BMI270: "BMI270"}

# Modes (DEVICE_INFO.mode, STATUS.mode, "mode <name>" command).
MODE_CAPTURE = 0
MODE_TEXT = 1
MODE_INFERENCE = 2
MODE_REPLAY = 3
MODE_TEXT_INFERENCE = 4
MODE_NAMES = {MODE_CAPTURE: "capture", MODE_TEXT: "text", MODE_INFERENCE: "inference", MODE_REPLAY: "replay",
              MODE_TEXT_INFERENCE: "text-inference"}

# Error codes (ERROR.code).
ERR_LINE_TOO_LONG = 1
ERR_UNKNOWN_COMMAND = 2
ERR_BAD_ARGUMENT = 3
ERR_UNAVAILABLE = 4
ERR_MODEL_FAILED = 5  # the model could not be run on a window
ERROR_NAMES = {
    ERR_LINE_TOO_LONG: "line_too_long",
    ERR_UNKNOWN_COMMAND: "unknown_command",
    ERR_BAD_ARGUMENT: "bad_argument",
    ERR_UNAVAILABLE: "unavailable",
    ERR_MODEL_FAILED: "model_failed",
}

COMMAND_MAX_BYTES = 64
COMMANDS = ("ping", "info", "status", "start", "stop", "mode", "sample")

# Appended after fixed parts (see the module docstring); decoders that do not know
# them ignore them. The C++ encoder writes them right after k<Msg>PayloadBytes.
# PREDICTION: detected is 1 when the postprocessing fired a detection on this window
# (never for the idle label); window_index counts windows since the stream or the
# replay take started (from 0).
PREDICTION_TAIL = ("<BI", ("detected", "window_index"))
# DEVICE_INFO: label_count, then that many NUL-terminated UTF-8 names.
DEVICE_INFO_TAIL_COUNT_FORMAT = "<B"
# A SAMPLE payload's six channels are in the contract's order, contract.pipeline.CHANNELS.
