"""Helpers for the converter tests (a uniquely named module: tests/*/ are not packages)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from toolchains import need_tools

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m converter ARGS`` as a user runs it."""
    return subprocess.run([sys.executable, "-m", "converter", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


def require_tool(name: str) -> str:
    """The path of a compiler a test needs (skips, or fails in CI, when it is missing)."""
    return need_tools(name)[0]
