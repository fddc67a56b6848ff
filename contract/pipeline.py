"""The values of the pipeline contract (contract.json) that are not decided from the data.

Training writes them into every run's contract.json (``training.data.base_contract``); the
converter writes them into the board's settings header; a contract.json without the
post-processing keys gets these defaults, as does the firmware for a header without them
(``ng_model_defaults.h``). The firmware's copies are generated from here
(``nanogest gen-contract-header``, contract/board_header.py).
"""

from __future__ import annotations

# 2: the unknown class (unknown_label, unknown_threshold). A contract without contract_version, or
# version 1, is read as before it: no unknown label (contract/document.py says so in one line).
CONTRACT_VERSION = 2
# Channel order of a sample (a SAMPLE payload, a take's CSV columns, a window's last axis), and
# their physical units after scaling.
CHANNELS = ("aX", "aY", "aZ", "gX", "gY", "gZ")
UNITS = {"accel": "g", "gyro": "dps"}
WINDOW_SECONDS = 1.0
HOP_SECONDS = 0.25
DEFAULT_SCORE_THRESHOLD = 0.6
# Post-processing on the board (ng_postprocess), chosen with bench/bench_inference.py: a detection
# needs DEFAULT_AGREEMENT confident windows in a row, DEFAULT_REFRACTORY_S seconds after the last,
# and a window that moves (the motion gate; docs/architecture.md). A contract without these keys
# gets the same values (contract/document.py).
DEFAULT_AGREEMENT = 2
DEFAULT_REFRACTORY_S = 1.0
# The gate's one measure: per window, gyro RMS (dps) + weight x accel RMS (g) (ng::window_motion).
MOTION_MEASURE = "gyro_rms_dps+weight*accel_rms_g"
DEFAULT_MOTION_GATE = {"measure": MOTION_MEASURE, "accel_weight_dps_per_g": 100.0, "threshold": 40.0}
IDLE_LABEL = "idle"
# The label of motions unlike every taught gesture. A window whose top-1 is this label, or whose
# score for it reaches the contract's unknown_threshold (when not null), is "unknown": it reports
# this label and never detects (ng_postprocess, converter/postprocess.py).
UNKNOWN_LABEL = "unknown"
# ng::kUnknownThresholdOff: an unknown threshold above 1 is off (scores are probabilities), so only a
# top-1 unknown label makes a window unknown. The header carries it for null.
UNKNOWN_THRESHOLD_OFF = 2.0
