"""boardtools.virtual_build: the virtual board built per run with the run's model_settings.h compiled in,
cached by hash, safe to build from two processes at once, and one-line errors when it cannot be built."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from boardtools import virtual_build
from capture.errors import CaptureError
from run_programs import default_header, header_with

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RUN = ROOT / "firmware" / "build" / "host" / "default_run"


def build(model: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "boardtools.virtual_build", str(model)], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


def test_a_run_is_built_once_and_its_header_is_the_one_convert_wrote(host_build):
    first, again = build(DEFAULT_RUN), build(DEFAULT_RUN)
    assert first.returncode == again.returncode == 0, first.stderr
    binary = Path(first.stdout.strip())
    assert binary == Path(again.stdout.strip()) and binary.parent.parent == virtual_build.RUNS
    assert (binary.parent / "model_settings.h").read_text() == default_header()
    assert "writing one from its contract.json" not in first.stderr  # default_run/generated holds the header


def test_two_processes_building_the_same_new_header_both_get_a_whole_program(host_build, tmp_path):
    header = header_with(default_header(), kAgreement=7)  # a header no other test builds
    script = ("import sys; from boardtools.virtual_build import programs_for_header; "
              "print(programs_for_header(sys.stdin.read()))")
    procs = [subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=ROOT) for _ in range(2)]
    outs = [p.communicate(header, timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outs]
    dirs = {Path(out.strip()) for out, _ in outs}
    assert len(dirs) == 1
    built = dirs.pop()
    got = subprocess.run([str(built / "virtual_board"), "--print-settings"], capture_output=True, text=True, check=True)
    assert json.loads(got.stdout)["agreement"] == 7
    assert not [p for p in virtual_build.RUNS.iterdir() if p.name.startswith(".build-")]


def test_without_a_compiler_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setenv("CXX", "no-such-g++")
    with pytest.raises(CaptureError, match=r"make and g\+\+, and no-such-g\+\+ is not installed"):
        virtual_build.programs_for_header(default_header())


def test_a_run_without_a_header_gets_its_unknown_label_and_an_old_contract_is_stated_once(host_build, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(DEFAULT_RUN, run, ignore=shutil.ignore_patterns("generated"))
    contract = json.loads((run / "contract.json").read_text())
    labels = contract["labels"]
    new = {**contract, "contract_version": 2, "unknown_label": labels[-1], "unknown_threshold": 0.4}
    (run / "contract.json").write_text(json.dumps(new))

    def settings() -> tuple[dict, str]:
        proc = subprocess.run([str(host_build / "virtual_board"), "--model", str(run), "--python", sys.executable,
                               "--print-settings"], capture_output=True, text=True, timeout=300, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout), proc.stderr

    board, err = settings()
    assert (board["unknown_index"], board["unknown_threshold"]) == (len(labels) - 1, 0.400000006)
    assert "version 1" not in err
    old = {k: v for k, v in new.items() if k != "contract_version"}
    (run / "contract.json").write_text(json.dumps(old))
    board, err = settings()
    assert (board["unknown_index"], board["unknown_threshold"]) == (-1, 2)
    notes = [line for line in err.splitlines() if "before the unknown class" in line]
    assert notes == [f"[virtual board] {run / 'contract.json'} is version 1 (before the unknown class): read with no "
                     "unknown label; retrain with `nanogest fit` to get one"]


def test_a_model_that_does_not_match_its_contract_is_refused_in_one_line(host_build, tmp_path):
    (tmp_path / "model.tflite").write_bytes((DEFAULT_RUN / "model_int8.tflite").read_bytes())
    contract = json.loads((DEFAULT_RUN / "contract.json").read_text())
    (tmp_path / "contract.json").write_text(json.dumps({**contract, "window": contract["window"] + 1}))
    proc = build(tmp_path / "model.tflite")
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr
    assert len(errors) == 1 and "model and contract are from different runs" in errors[0]
