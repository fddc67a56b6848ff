"""The contract's unknown class: versions, validation and the threshold's range (contract/document.py read
through converter/run_dir.py, converter/postprocess.py), as a user meets them through the converter's commands."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from converter_helpers import run_cli

from contract.pipeline import CONTRACT_VERSION, UNKNOWN_LABEL
from converter import ConverterError
from converter.postprocess import UNKNOWN_THRESHOLD_OFF, settings_from_contract
from converter.run_dir import load_contract

ROOT = Path(__file__).resolve().parents[2]
SOFTMAX = (1 / 256, -128)  # what TFLite gives a softmax output: scores 0 .. 255/256
V2 = {"contract_version": 2, "rate_hz": 50.0, "channels": ["aX", "aY", "aZ", "gX", "gY", "gZ"], "window": 25, "hop": 6,
      "labels": ["flex", "idle", "unknown", "wave"], "idle_label": "idle",
      "normalization": {"mean": [0.0] * 6, "std": [1.0] * 6}, "arch": "conv1d", "score_threshold": 0.6,
      "unknown_label": "unknown", "unknown_threshold": 0.5}


def write_contract(run: Path, contract: dict) -> Path:
    run.mkdir(parents=True, exist_ok=True)
    (run / "contract.json").write_text(json.dumps(contract))
    return run


def test_a_version_2_contract_names_its_unknown_label(tmp_path):
    c = load_contract(write_contract(tmp_path / "run", V2))
    assert (c.version, c.unknown_label, c.unknown_index, c.unknown_threshold) == (2, "unknown", 2, 0.5)
    assert c.version_note is None
    s = settings_from_contract(c, SOFTMAX)
    assert (s.unknown_index, s.unknown_threshold) == (2, 0.5)
    none = load_contract(write_contract(tmp_path / "none", {**V2, "unknown_label": None, "unknown_threshold": None}))
    assert (none.unknown_label, none.unknown_index, none.version_note) == (None, -1, None)
    absent = {k: v for k, v in V2.items() if k not in ("unknown_label", "unknown_threshold")}
    assert settings_from_contract(absent, SOFTMAX).unknown_index == -1
    assert CONTRACT_VERSION == 2 and UNKNOWN_LABEL == "unknown"


@pytest.mark.parametrize("version", [None, 1])
def test_an_old_contract_is_read_without_an_unknown_label_and_says_so(tmp_path, version):
    old = {k: v for k, v in V2.items() if k != "contract_version"}
    if version is not None:
        old["contract_version"] = version
    c = load_contract(write_contract(tmp_path / "run", old))  # even with the new keys, it never gets them
    assert (c.version, c.unknown_label, c.unknown_index) == (1, None, -1)
    assert c.version_note == (f"{tmp_path / 'run' / 'contract.json'} is version 1 (before the unknown class): read with "
                              "no unknown label; retrain with `nanogest fit` to get one")
    s = settings_from_contract(c, SOFTMAX)
    assert (s.unknown_index, s.unknown_threshold) == (-1, UNKNOWN_THRESHOLD_OFF)


def test_a_newer_contract_is_refused_by_name(tmp_path):
    with pytest.raises(ConverterError, match=r"contract_version 3 is newer than this nanogest reads \(up to 2\)"):
        load_contract(write_contract(tmp_path / "run", {"contract_version": 3}))


@pytest.mark.parametrize("bad,words", [
    ({"unknown_label": "other"}, "unknown_label must be null or one of the labels"),
    ({"unknown_label": "idle"}, "unknown_label 'idle' is the idle label"),
    ({"unknown_threshold": "high"}, "unknown_threshold must be null or a number"),
    ({"unknown_label": None}, "unknown_threshold is 0.5 but unknown_label is null"),
    ({"contract_version": "2"}, "contract_version must be a whole number"),
])
def test_bad_unknown_keys_name_the_file_and_key(tmp_path, bad, words):
    with pytest.raises(ConverterError) as e:
        load_contract(write_contract(tmp_path / "run", {**V2, **bad}))
    assert str(tmp_path / "run" / "contract.json") in str(e.value) and words in str(e.value)


@pytest.mark.parametrize("key,value", [("unknown_threshold", 1.0), ("unknown_threshold", -0.1),
                                       ("score_threshold", 1.2), ("score_threshold", -0.01)])
def test_a_threshold_outside_the_int8_output_is_refused_with_the_range(key, value):
    with pytest.raises(ConverterError) as e:
        settings_from_contract({**V2, key: value}, SOFTMAX, "run/contract.json")
    assert str(e.value) == (f"run/contract.json: {key} {value!r} is outside what the model's int8 output can represent "
                            "(0 .. 0.99609375); choose a threshold in that range")
    for edge in (0.0, 255 / 256):
        settings_from_contract({**V2, key: edge}, SOFTMAX)


def test_the_unknown_threshold_range_stops_at_1_where_the_board_reads_off():
    wide = (0.01, 0)  # a non-softmax output could represent -1.28 .. 1.27
    assert settings_from_contract({**V2, "unknown_threshold": -1.0}, wide).unknown_threshold == -1.0
    with pytest.raises(ConverterError, match=r"\(-1.27999997 .. 1\)"):
        settings_from_contract({**V2, "unknown_threshold": 1.2}, wide)


@pytest.mark.slow
def test_convert_refuses_an_unknown_threshold_the_model_cannot_output(tmp_path, fixture_run):
    run = tmp_path / "run"
    shutil.copytree(fixture_run, run)
    contract = json.loads((run / "contract.json").read_text())
    contract.update(contract_version=2, unknown_label="wave", unknown_threshold=1.5)
    (run / "contract.json").write_text(json.dumps(contract))
    proc = run_cli("convert", str(run), "--header-dir", str(tmp_path / "h"))
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {run / 'contract.json'}: unknown_threshold 1.5 is outside what the model's int8 output "
                      "can represent (0 .. 0.99609375); choose a threshold in that range"]
    assert "Traceback" not in proc.stderr and "verifying" not in proc.stderr  # refused before verification
    assert not (tmp_path / "h").exists()


@pytest.mark.slow
def test_convert_states_a_version_1_contract_in_one_line(converted):
    """The shared fixture run is a version-1 contract, as runs trained before the unknown class are."""
    notes = [line for line in converted.stderr.splitlines() if "before the unknown class" in line]
    assert notes == [f"{converted.run_dir / 'contract.json'} is version 1 (before the unknown class): read with no "
                     "unknown label; retrain with `nanogest fit` to get one"]
    assert "constexpr int kUnknownLabelIndex = -1;" in (converted.header_dir / "model_settings.h").read_text()
