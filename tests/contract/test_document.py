"""contract/document.py: the typed contract reads every key back as written, refuses a broken file in one
line naming the file and the field, and reads an old version as before while refusing a newer one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contract.document import Contract, ContractError, GruShape, MotionGate, Normalization
from contract.pipeline import CONTRACT_VERSION, DEFAULT_AGREEMENT, DEFAULT_MOTION_GATE, DEFAULT_REFRACTORY_S

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RUN = ROOT / "firmware" / "host" / "default_run" / "contract.json"
V2 = {"contract_version": 2, "rate_hz": 50.0, "channels": ["aX", "aY", "aZ", "gX", "gY", "gZ"],
      "units": {"accel": "g", "gyro": "dps"}, "window": 25, "hop": 6, "labels": ["flex", "idle", "unknown", "wave"],
      "idle_label": "idle", "normalization": {"mean": [0.1, 0.2, 0.3, 1.5, -2.5, 3.25], "std": [1.0] * 6},
      "arch": "cnn-gru", "score_threshold": 0.6, "agreement": 3, "refractory_s": 0.5, "motion_gate": None,
      "unknown_label": "unknown", "unknown_threshold": 0.5,
      "gru": {"units": 16, "front_end": [{"name": "front_conv1", "kernel": 5, "stride": 2, "filters": 8,
                                          "padding": "valid", "activation": "relu"}]},
      "postprocess_calibration": {"method": "training people held out in turn", "figures": {"recall": 0.9}}}


def test_the_committed_default_contract_reads_and_writes_back_byte_for_byte():
    text = DEFAULT_RUN.read_text()
    c = Contract.from_dict(json.loads(text), str(DEFAULT_RUN))
    assert json.dumps(c.to_dict(), indent=2) + "\n" == text
    assert (c.labels, c.idle_index, c.version, c.version_note, c.motion_gate) == (
        ["circle", "flex", "idle", "punch", "unknown", "wave"], 2, CONTRACT_VERSION, None, MotionGate(100.0, 40.0))
    assert c.unknown_label == "unknown" and c.novelty_gate is not None  # the default model's novelty gate
    assert c.mean.dtype.name == "float32" and c.mean.shape == (6,)


def test_every_field_round_trips_and_unknown_keys_survive():
    raw = {**V2, "made_by": {"tool": "tomorrow's nanogest"}, "zz_note": [1, 2]}
    c = Contract.from_dict(raw)
    assert c.to_dict() == raw and list(c.to_dict()) == list(raw)
    assert c.extra == {"made_by": {"tool": "tomorrow's nanogest"}, "zz_note": [1, 2]}
    assert (c.unknown_index, c.unknown_threshold, c.agreement, c.refractory_s, c.motion_gate) == (2, 0.5, 3, 0.5, None)
    assert c.gru.units == 16 and c.gru.stride_samples == 2 and c.gru.front_end[0].name == "front_conv1"
    assert c.postprocess_record == V2["postprocess_calibration"]
    assert Contract.from_dict(c.to_dict()) == c
    named = {**raw, "gru": {"units": 8, "front_end": ["front_conv1", "front_conv2"]}}  # before layers were described
    c = Contract.from_dict(named)
    assert c.to_dict() == named and c.gru.stride_samples is None and c.gru.front_end_names == ["front_conv1", "front_conv2"]


def test_a_change_is_checked_and_written_where_the_file_had_nothing():
    old = {k: v for k, v in V2.items() if k not in ("agreement", "refractory_s", "motion_gate", "gru",
                                                    "postprocess_calibration")}
    c = Contract.from_dict(old)
    assert c.to_dict() == old  # the defaults a missing key means are not written into the file
    assert (c.agreement, c.refractory_s, c.motion_gate.threshold) == (
        DEFAULT_AGREEMENT, DEFAULT_REFRACTORY_S, DEFAULT_MOTION_GATE["threshold"])
    changed = c.replace(agreement=4, motion_gate=MotionGate(100.0, 25.0), postprocess_tuning={"data": "d"})
    assert changed.to_dict() == {**old, "agreement": 4, "motion_gate": {**DEFAULT_MOTION_GATE, "threshold": 25.0},
                                 "postprocess_tuning": {"data": "d"}}
    assert c.agreement == DEFAULT_AGREEMENT  # frozen: replace gives a copy
    with pytest.raises(ContractError, match="agreement must be a whole number of windows from 1 to 1000, got 0"):
        c.replace(agreement=0)


def test_a_contract_built_in_code_writes_what_fit_writes():
    c = Contract(rate_hz=60.0, window=60, hop=15, labels=["a", "b"], idle_label=None, arch="conv1d",
                 normalization=Normalization((0.0,) * 6, (1.0,) * 6))
    assert list(c.to_dict()) == ["contract_version", "rate_hz", "channels", "units", "window", "hop", "labels",
                                 "idle_label", "normalization", "arch", "score_threshold", "agreement",
                                 "refractory_s", "motion_gate", "unknown_label", "unknown_threshold"]
    assert list(c.replace(gru=GruShape(8, None)).to_dict())[-1] == "gru"


@pytest.mark.parametrize("version", [None, 1])
def test_an_old_contract_is_read_without_an_unknown_label_and_keeps_what_it_holds(version):
    old = {k: v for k, v in V2.items() if k != "contract_version"}
    if version is not None:
        old["contract_version"] = version
    c = Contract.from_dict(old, "runs/old/contract.json")
    assert (c.version, c.unknown_label, c.unknown_index, c.unknown_threshold) == (1, None, -1, None)
    assert c.version_note == ("runs/old/contract.json is version 1 (before the unknown class): read with no unknown "
                              "label; retrain with `nanogest fit` to get one")
    assert c.to_dict() == old  # the keys it held come back as they were


def test_a_newer_contract_is_refused_by_name():
    with pytest.raises(ContractError) as e:
        Contract.from_dict({**V2, "contract_version": CONTRACT_VERSION + 1, "new_key": 1}, "run/contract.json")
    assert str(e.value) == (f"run/contract.json: contract_version {CONTRACT_VERSION + 1} is newer than this nanogest "
                            f"reads (up to {CONTRACT_VERSION}); update nanogest, or train the run again with this one")


@pytest.mark.parametrize("change, words", [
    ({"labels": None}, "missing labels; see docs/architecture.md for the contract fields"),
    ({"window": None, "hop": None}, "missing window, hop;"),
    ({"window": "25"}, "window must be a whole number of samples, got '25'"),
    ({"hop": 0}, "window, hop and rate_hz must be positive"),
    ({"rate_hz": "fast"}, "rate_hz must be a number, got 'fast'"),
    ({"labels": ["a", "a"]}, "labels must be at least two distinct names"),
    ({"labels": ["wave-left", "wave_left"], "idle_label": None, "unknown_label": None, "unknown_threshold": None},
     "both become the C name kWaveLeft"),
    ({"idle_label": "rest"}, "idle_label 'rest' is not one of the labels"),
    ({"normalization": {"mean": [0.0] * 5, "std": [1.0] * 6}}, "normalization needs 6 mean and 6 std values"),
    ({"normalization": {"mean": [0.0] * 6, "std": [1.0] * 5 + [0.0]}}, "normalization std must be positive"),
    ({"score_threshold": None}, "score_threshold must be a number, got None"),
    ({"agreement": 1.5}, "agreement must be a whole number of windows"),
    ({"refractory_s": -1}, "refractory_s must be seconds from 0 to 3600"),
    ({"motion_gate": 40}, "motion_gate must be null or"),
    ({"motion_gate": {**DEFAULT_MOTION_GATE, "threshold": "high"}}, "motion_gate needs numbers"),
    ({"unknown_label": "other"}, "unknown_label must be null or one of the labels"),
    ({"unknown_label": "idle"}, "unknown_label 'idle' is the idle label"),
    ({"unknown_label": None}, "unknown_threshold is 0.5 but unknown_label is null"),
    ({"contract_version": "2"}, "contract_version must be a whole number from 1, got '2'"),
    ({"gru": {"units": "many"}}, "gru must be null or"),
    ({"arch": 3}, "arch must be the name of a model family"),
])
def test_a_broken_contract_is_refused_in_one_line_naming_the_file_and_field(change, words):
    raw = {k: v for k, v in {**V2, **change}.items() if not (v is None and k in ("labels", "window", "hop"))}
    with pytest.raises(ContractError) as e:
        Contract.from_dict(raw, "runs/x/contract.json")
    message = str(e.value)
    assert message.startswith("runs/x/contract.json: ") and words in message and "\n" not in message


def test_a_document_that_is_not_an_object_is_refused():
    with pytest.raises(ContractError, match=r"^c.json: not a contract \(a JSON object\), got list$"):
        Contract.from_dict([1, 2], "c.json")
