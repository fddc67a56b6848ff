"""contract/run_dir.py: the one reader and writer of a run directory's contract, windows and records."""

from __future__ import annotations

import json

import numpy as np
import pytest

from contract.document import Contract, ContractError
from contract.run_dir import (copy_contract, read_contract, read_record, read_windows, write_contract, write_record,
                              write_windows)

RAW = {"contract_version": 2, "rate_hz": 50.0, "channels": ["aX", "aY", "aZ", "gX", "gY", "gZ"], "window": 4, "hop": 2,
       "labels": ["a", "b"], "idle_label": None, "normalization": {"mean": [0.0] * 6, "std": [1.0] * 6},
       "score_threshold": 0.6, "later_key": "kept"}


def test_a_contract_written_and_read_back_is_the_same_file(tmp_path):
    c = Contract.from_dict(RAW)
    path = write_contract(tmp_path, c)
    assert json.loads(path.read_text()) == RAW and path.read_text().endswith("}\n")
    assert not list(tmp_path.glob("*.tmp"))
    again = read_contract(tmp_path)
    assert again == c and again.source == str(path)
    (tmp_path / "copy").mkdir()
    copy_contract(tmp_path, tmp_path / "copy")
    assert (tmp_path / "copy" / "contract.json").read_bytes() == path.read_bytes()


def test_a_missing_or_broken_contract_file_is_one_line_naming_it(tmp_path):
    with pytest.raises(ContractError, match=r"contract.json: missing; re-run `nanogest fit` to write it"):
        read_contract(tmp_path)
    (tmp_path / "contract.json").write_text('{"rate_hz": 50.0,\n "window": }')
    with pytest.raises(ContractError) as e:
        read_contract(tmp_path)
    assert str(e.value).startswith(f"{tmp_path / 'contract.json'}:2: not valid JSON")


def test_windows_are_checked_against_the_contract(tmp_path):
    c = Contract.from_dict(RAW)
    x = np.zeros((3, 4, 6), np.float64)
    write_windows(tmp_path, (x, np.array([0, 1, 1])), (x[:1], np.array([1])))
    w = read_windows(tmp_path, c)
    assert (w.x_train.dtype, w.y_test.dtype, w.x_train.shape) == (np.float32, np.int64, (3, 4, 6))
    with pytest.raises(ContractError, match=r"x_train has shape \(3, 4, 6\), expected \(n, 5, 6\) from the contract"):
        read_windows(tmp_path, c.replace(window=5))
    write_windows(tmp_path, (x, np.array([0, 1, 2])), (x[:1], np.array([1])))
    with pytest.raises(ContractError, match=r"y_train holds label indices outside 0..1"):
        read_windows(tmp_path, c)


def test_records_are_json_with_a_newline(tmp_path):
    write_record(tmp_path, "metrics.json", {"accuracy": 0.5})
    assert (tmp_path / "metrics.json").read_text() == '{\n  "accuracy": 0.5\n}\n'
    assert read_record(tmp_path, "metrics.json") == {"accuracy": 0.5}
    with pytest.raises(ContractError, match="run.json: missing"):
        read_record(tmp_path, "run.json")


def test_a_damaged_windows_file_is_one_line_naming_it(tmp_path):
    (tmp_path / "windows.npz").write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(ContractError, match=r"windows.npz: unreadable \(.*\); re-run `nanogest fit`"):
        read_windows(tmp_path, Contract.from_dict(RAW))
