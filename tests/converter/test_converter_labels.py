"""Labels as written in the generated header: UTF-8 strings in kLabels, ASCII C names for their
indices, and two labels that would share a C name refused with one error line."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from converter_helpers import REPO, require_tool

from capture.dataset import TakeMeta, write_take
from converter import ConverterError
from converter.int8.flatbuffer import TensorInfo
from converter.headers import model_settings_h
from converter.run_dir import load_contract

LABELS = ["Círculo", "idle", "Ola", "圆"]


def write_contract(run_dir, labels) -> None:
    contract = {"contract_version": 2, "rate_hz": 119.0, "channels": ["aX", "aY", "aZ", "gX", "gY", "gZ"],
                "window": 119, "hop": 30, "labels": labels, "idle_label": "idle",
                "normalization": {"mean": [0.0] * 6, "std": [1.0] * 6}, "arch": "conv1d", "score_threshold": 0.6}
    (run_dir / "contract.json").write_text(json.dumps(contract, ensure_ascii=False), encoding="utf-8")


PRINT_LABELS = r"""
#include <cstdio>
#include "model_settings.h"
namespace m = ng::model;
static_assert(m::label_index::kCirculo == 0 && m::label_index::kU5706 == 3, "label indices");
int main() {
  const int order[] = {m::label_index::kCirculo, m::label_index::kIdle, m::label_index::kOla, m::label_index::kU5706};
  for (int i : order) std::printf("%s\n", m::kLabels[i]);
  return m::kLabels[m::kIdleLabelIndex] == m::kLabels[m::label_index::kIdle] ? 0 : 1;
}
"""


def test_unicode_labels_compile_and_print_as_written(tmp_path):
    gxx = require_tool("g++")
    write_contract(tmp_path, LABELS)
    text = model_settings_h(load_contract(tmp_path), TensorInfo("INT8", (1, 119, 6), 0.05, 3),
                            TensorInfo("INT8", (1, 4), 1 / 256, -128), 4096, 0x1234ABCD)
    (tmp_path / "model_settings.h").write_text(text, encoding="utf-8")
    (tmp_path / "main.cc").write_text(PRINT_LABELS)
    exe = tmp_path / "labels"
    subprocess.run([gxx, "-std=c++14", "-Wall", "-Wextra", "-Werror", "-I", str(tmp_path), str(tmp_path / "main.cc"),
                    "-o", str(exe)], check=True, capture_output=True, text=True)
    out = subprocess.run([str(exe)], capture_output=True, check=True).stdout
    assert out.decode("utf-8").splitlines() == LABELS
    identifiers = [line.split()[2] for line in text.splitlines() if line.startswith("constexpr int k") and "//" in line
                   and "label_index" not in line]
    assert all(name.isascii() for name in identifiers)


def test_labels_sharing_a_c_name_are_refused_when_the_contract_is_read(tmp_path):
    write_contract(tmp_path, ["Círculo", "circulo", "idle"])
    with pytest.raises(ConverterError, match=r"contract.json: labels 'Círculo' and 'circulo' both become the C name "
                                             r"kCirculo"):
        load_contract(tmp_path)


def test_fit_refuses_labels_sharing_a_c_name_with_one_error_line(tmp_path):
    data = tmp_path / "data"
    rng = np.random.default_rng(0)
    for label in ("Círculo", "circulo"):
        for subject in ("ana", "luis", "marta"):
            write_take(data, TakeMeta(label=label, rate_hz=119.0, subject=subject), np.arange(119) * 8403,
                       rng.normal(0, 1, (119, 6)) + [0, 0, 1, 0, 0, 0])
    proc = subprocess.run([sys.executable, "-m", "training", "fit", str(data), "--out", str(tmp_path / "run"), "--force"],
                          cwd=REPO, capture_output=True, text=True, encoding="utf-8", timeout=300)
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: labels 'Círculo' and 'circulo' both become the C name kCirculo in the firmware header; "
                      "rename one of them"], proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "run" / "model.keras").exists()
