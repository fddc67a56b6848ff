"""converter/postprocess.py: contract keys, documented defaults, and the mirror's own rules."""

from __future__ import annotations

import numpy as np
import pytest

from converter import ConverterError
from converter.postprocess import PostprocessSettings, detections, settings_from_contract, window_motion
from contract.pipeline import DEFAULT_AGREEMENT, DEFAULT_MOTION_GATE, DEFAULT_REFRACTORY_S

BASE = {"labels": ["idle", "one", "two"], "idle_label": "idle", "score_threshold": 0.6, "rate_hz": 119.0}


def test_a_contract_without_the_keys_gets_the_documented_defaults():
    s = settings_from_contract(dict(BASE), (1 / 256, -128))
    assert (s.agreement, s.refractory_samples) == (DEFAULT_AGREEMENT, round(119 * DEFAULT_REFRACTORY_S))
    assert (s.motion_gate, s.motion_accel_weight) == (DEFAULT_MOTION_GATE["threshold"], DEFAULT_MOTION_GATE["accel_weight_dps_per_g"])
    assert s.idle_index == 0 and s.label_count == 3


def test_contract_keys_are_read_and_null_disables_the_gate():
    s = settings_from_contract({**BASE, "agreement": 3, "refractory_s": 0.5, "motion_gate": None}, (1 / 256, -128))
    assert (s.agreement, s.refractory_samples, s.motion_gate) == (3, 60, 0.0)
    assert settings_from_contract({**BASE, "refractory_s": 0}, (1 / 256, -128)).refractory_samples == 1


@pytest.mark.parametrize("bad", [{"agreement": 0}, {"agreement": 1.5}, {"refractory_s": -1},
                                 {"motion_gate": {"measure": "peak", "threshold": 4, "accel_weight_dps_per_g": 1}},
                                 {"motion_gate": {**DEFAULT_MOTION_GATE, "threshold": "high"}}, {"motion_gate": 40}])
def test_bad_postprocessing_keys_name_the_file_and_key(bad):
    with pytest.raises(ConverterError) as e:
        settings_from_contract({**BASE, **bad}, (1 / 256, -128), "run/contract.json")
    assert "run/contract.json" in str(e.value) and next(iter(bad)) in str(e.value)


def test_window_motion_of_known_signals():
    w = np.zeros((2, 4, 6), np.int16)
    w[0, :, 3] = [100, -100, 100, -100]  # gyro RMS 100 counts = 10 dps at 0.1 dps/count
    w[0, :, 1] = [1010, 990, 1010, 990]  # accel RMS 10 counts = 0.01 g at 0.001 g/count
    w[1] += 1234  # constant: no motion
    m = window_motion(w, 0.001, 0.1, 100.0)
    assert m.dtype == np.float32 and abs(m[0] - 11.0) < 1e-4 and m[1] == 0.0


def test_detections_follow_threshold_agreement_gate_idle_and_refractory():
    s = PostprocessSettings(3, 0, 0.6, 1 / 256, -128, agreement=2, refractory_samples=100, motion_gate=5.0,
                            motion_accel_weight=100.0)
    hi = [-128, 110, -128]  # label 1 at 0.93
    idle = [110, -128, -128]
    scores = np.array([hi, hi, hi, hi, hi, hi, idle, idle, hi, hi], np.int8)
    ends = np.arange(1, 11) * 30
    motion = np.array([9, 9, 9, 9, 9, 9, 9, 9, 1, 9], np.float32)
    got = detections(scores, ends, motion, s)
    # fires at window 1 (2 in a row, sample 60); windows 3 and 4 agree but fall in the refractory
    # period (until sample 160); window 5 (180) fires; idle never fires; window 8 is still, so
    # window 9 only starts a new streak.
    assert got.tolist() == [False, True, False, False, False, True, False, False, False, False]
    assert detections(scores, ends, None, s)[8:].tolist() == [False, True]
