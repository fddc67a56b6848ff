"""Helpers for the converter tests (a uniquely named module: tests/*/ are not packages)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m converter ARGS`` as a user runs it."""
    return subprocess.run([sys.executable, "-m", "converter", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("NANOGEST_REQUIRE_TOOLCHAINS") == "1":
            pytest.fail(f"{name} is required (NANOGEST_REQUIRE_TOOLCHAINS=1) but not on PATH")
        pytest.skip(f"{name} not on PATH")
    return path
