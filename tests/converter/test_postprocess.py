"""converter/postprocess.py: contract keys, documented defaults, and the mirror's own rules."""

from __future__ import annotations

import numpy as np
import pytest

from converter import ConverterError
from converter.postprocess import (UNKNOWN_THRESHOLD_OFF, PostprocessSettings, detections, detections_of_top,
                                   reported_top, settings_from_contract, window_motion)
from contract.pipeline import DEFAULT_AGREEMENT, DEFAULT_MOTION_GATE, DEFAULT_REFRACTORY_S

BASE = {"labels": ["idle", "one", "two"], "idle_label": "idle", "score_threshold": 0.6, "rate_hz": 119.0,
        "channels": ["aX", "aY", "aZ", "gX", "gY", "gZ"], "window": 119, "hop": 30,
        "normalization": {"mean": [0.0] * 6, "std": [1.0] * 6}}


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


UNKNOWN = {**BASE, "labels": ["idle", "one", "two", "unknown"], "contract_version": 2, "unknown_label": "unknown"}


def unknown_settings(threshold: float | None) -> PostprocessSettings:
    return settings_from_contract({**UNKNOWN, "unknown_threshold": threshold, "motion_gate": None, "agreement": 1,
                                   "refractory_s": 0}, (1 / 256, -128))


def test_an_unknown_window_reports_the_unknown_label_and_its_score():
    s = unknown_settings(0.3)
    assert (s.unknown_index, np.float32(s.unknown_threshold)) == (3, np.float32(0.3))
    rows = np.array([[-128, 100, -128, 20],     # unknown over 0.3 while "one" is top: unknown
                     [-128, 100, -128, -60],    # unknown at 0.27: "one"
                     [-128, -20, -128, 50],     # unknown top: unknown
                     [-128, 60, 60, 60],        # a tie of three: unknown (over the threshold)
                     [-128, 100, -128, -52]],   # -52 is 0.296875, under 0.3
                    np.int8)
    label, score_q = reported_top(rows, s)
    assert label.tolist() == [3, 1, 3, 3, 1] and score_q.tolist() == [20, 100, 50, 60, 100]
    off = unknown_settings(None)
    assert off.unknown_threshold == UNKNOWN_THRESHOLD_OFF
    label, score_q = reported_top(rows, off)
    assert label.tolist() == [1, 1, 3, 1, 1] and score_q.tolist() == [100, 100, 50, 60, 100]
    plain = settings_from_contract(dict(BASE, labels=UNKNOWN["labels"]), (1 / 256, -128))
    assert reported_top(rows, plain)[0].tolist() == [1, 1, 3, 1, 1]  # no unknown label: plain top-1


def test_an_unknown_window_is_not_confident_and_breaks_the_streak():
    s = settings_from_contract({**UNKNOWN, "unknown_threshold": 0.3, "motion_gate": None, "agreement": 2,
                                "refractory_s": 0}, (1 / 256, -128))
    hi = [-128, 110, -128, -128]
    hi_doubt = [-128, 110, -128, 0]  # "one" top at 0.93, unknown at 0.5
    top_unknown = [-128, -128, -128, 120]
    scores = np.array([hi, hi_doubt, hi, hi, top_unknown, top_unknown, hi, hi], np.int8)
    ends = np.arange(1, 9) * 30
    assert detections(scores, ends, None, s).tolist() == [False, False, False, True, False, False, False, True]
    # From frames: the board reports the unknown label as top, so top == unknown is not confident.
    label, score_q = reported_top(scores, s)
    assert detections_of_top(label, score_q, ends, None, s).tolist() == detections(scores, ends, None, s).tolist()
    off = settings_from_contract({**UNKNOWN, "motion_gate": None, "agreement": 2, "refractory_s": 0}, (1 / 256, -128))
    assert detections(scores, ends, None, off).tolist() == [False, True, False, True, False, False, False, True]
