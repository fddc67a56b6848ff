"""Shared, session-scoped fixtures: one tiny trained run directory, converted twice through the CLI."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from converter_helpers import run_cli  # noqa: E402
from converter_run_fixture import make_run_dir  # noqa: E402


@dataclass
class Conversion:
    run_dir: Path
    header_dir: Path
    report: dict
    stdout: str
    stderr: str


@pytest.fixture(scope="session")
def fixture_run(tmp_path_factory) -> Path:
    return make_run_dir(tmp_path_factory.mktemp("run") / "run")


def _convert(run_dir: Path, header_dir: Path | None) -> Conversion:
    """Convert through the CLI; ``header_dir`` None: the converter's default, RUN_DIR/generated."""
    args = ["--header-dir", str(header_dir)] if header_dir is not None else []
    proc = run_cli("convert", str(run_dir), *args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    header_dir = header_dir if header_dir is not None else run_dir / "generated"
    return Conversion(run_dir, header_dir, json.loads((run_dir / "report.json").read_text()), proc.stdout, proc.stderr)


@pytest.fixture(scope="session")
def converted(fixture_run) -> Conversion:
    """The fixture run converted with the default header folder."""
    return _convert(fixture_run, None)


@pytest.fixture(scope="session")
def converted_again(converted, tmp_path_factory) -> Conversion:
    return _convert(converted.run_dir, tmp_path_factory.mktemp("headers_b"))


def _converted_arch(arch: str, tmp_path_factory) -> Conversion:
    run = make_run_dir(tmp_path_factory.mktemp(f"run_{arch}") / "run", arch=arch, epochs=12)
    return _convert(run, tmp_path_factory.mktemp(f"headers_{arch}"))


@pytest.fixture(scope="session")
def converted_gru(tmp_path_factory) -> Conversion:
    """A tiny trained GRU network (Input -> GRU "gru" -> Dense "classifier"), converted through the CLI."""
    return _converted_arch("gru", tmp_path_factory)


@pytest.fixture(scope="session")
def converted_cnn_gru(tmp_path_factory) -> Conversion:
    """A tiny trained CNN-GRU (Conv1D front end "front_conv1/2" -> GRU -> Dense), converted through the CLI."""
    return _converted_arch("cnn-gru", tmp_path_factory)
