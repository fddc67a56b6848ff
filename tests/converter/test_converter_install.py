"""``python -m converter install RUN_DIR``: the one step that puts a run's headers into the firmware.

Most tests build a converted run from the committed default model (its .tflite written by the
host build from model_data.cc, so independent of the parser under test) and install into a
directory under tmp_path, never into the tracked firmware folder.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from converter_helpers import REPO, run_cli

from converter.headers import HEADER_FILES, fnv1a32
from converter.install import FIRMWARE_HEADER_DIR, model_data_hash, settings_model_hash

COMMITTED = REPO / "firmware" / "lib" / "nanogest_model" / "src" / "generated"


def default_run(dest: Path, host_build: Path, headers_written: bool = True) -> tuple[Path, int]:
    """A run directory converted like `convert` does by default: headers in RUN_DIR/generated."""
    src = host_build / "default_run"
    dest.mkdir(parents=True)
    model = (src / "model_int8.tflite").read_bytes()
    (dest / "model_int8.tflite").write_bytes(model)
    shutil.copy(src / "contract.json", dest / "contract.json")
    shutil.copytree(COMMITTED, dest / "generated")
    model_hash = fnv1a32(model)
    report = {"model_hash": f"0x{model_hash:08x}", "headers_written": headers_written,
              "header_dir": str((dest / "generated").resolve())}
    (dest / "report.json").write_text(json.dumps(report))
    return dest, model_hash


def install(run: Path, dest: Path):
    return run_cli("install", str(run), "--dest", str(dest), timeout=60)


def test_the_firmware_folder_is_the_default_destination():
    assert FIRMWARE_HEADER_DIR.resolve() == COMMITTED.resolve()


def test_install_copies_the_four_files_and_says_so(host_build, tmp_path):
    run, model_hash = default_run(tmp_path / "run", host_build)
    dest = tmp_path / "firmware_generated"
    proc = install(run, dest)
    assert proc.returncode == 0, proc.stderr
    assert f"installed model 0x{model_hash:08x}" in proc.stdout and "into an empty directory" in proc.stdout
    for name in HEADER_FILES:
        assert (dest / name).read_bytes() == (run / "generated" / name).read_bytes(), name
        assert f"-> {dest / name}" in proc.stdout
    assert settings_model_hash(dest) == model_data_hash(dest) == model_hash
    assert not list(dest.glob("*.part"))


def test_install_names_the_model_it_replaces(host_build, tmp_path):
    run, model_hash = default_run(tmp_path / "run", host_build)
    dest = tmp_path / "firmware_generated"
    shutil.copytree(COMMITTED, dest)
    settings = dest / "model_settings.h"
    settings.write_text(settings.read_text().replace(f"0x{model_hash:08x}", "0x0badf00d"))
    proc = install(run, dest)
    assert proc.returncode == 0, proc.stderr
    assert "replacing model 0x0badf00d" in proc.stdout
    assert settings_model_hash(dest) == model_hash


def test_a_moved_run_installs_from_its_own_generated_folder(host_build, tmp_path):
    run, model_hash = default_run(tmp_path / "run", host_build)
    moved = tmp_path / "moved"
    run.rename(moved)  # report.json still names the old place
    proc = install(moved, tmp_path / "dest")
    assert proc.returncode == 0, proc.stderr
    assert settings_model_hash(tmp_path / "dest") == model_hash


@pytest.mark.parametrize("problem", ["not_written", "tampered_data", "other_settings", "missing_file", "no_report",
                                     "tflite_changed", "no_run"])
def test_install_refuses_and_leaves_the_destination_alone(host_build, tmp_path, problem):
    run, model_hash = default_run(tmp_path / "run", host_build, headers_written=problem != "not_written")
    generated = run / "generated"
    if problem == "tampered_data":
        text = (generated / "model_data.cc").read_text()
        i = text.index("0x", text.index("{"))
        (generated / "model_data.cc").write_text(text[:i] + ("0xff" if text[i:i + 4] != "0xff" else "0x00") + text[i + 4:])
    elif problem == "other_settings":
        s = generated / "model_settings.h"
        s.write_text(s.read_text().replace(f"0x{model_hash:08x}", "0x12345678"))
    elif problem == "missing_file":
        (generated / "op_resolver.h").unlink()
    elif problem == "no_report":
        (run / "report.json").unlink()
    elif problem == "tflite_changed":
        (run / "model_int8.tflite").write_bytes(b"TFL3" + bytes(100))
    elif problem == "no_run":
        shutil.rmtree(run)
    dest = tmp_path / "firmware_generated"
    shutil.copytree(COMMITTED, dest)
    before = {name: (dest / name).read_bytes() for name in HEADER_FILES}
    proc = install(run, dest)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    assert str(run) in proc.stderr
    assert {name: (dest / name).read_bytes() for name in HEADER_FILES} == before


@pytest.mark.slow
def test_a_real_conversion_installs(converted, tmp_path):
    # `converted` used convert's default header folder, RUN_DIR/generated.
    dest = tmp_path / "dest"
    proc = install(converted.run_dir, dest)
    assert proc.returncode == 0, proc.stderr
    for name in HEADER_FILES:
        assert (dest / name).read_bytes() == (converted.run_dir / "generated" / name).read_bytes(), name
    assert model_data_hash(dest) == fnv1a32((converted.run_dir / "model_int8.tflite").read_bytes())
