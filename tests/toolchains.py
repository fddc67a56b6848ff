"""What every test suite needs from the machine: compilers and emulators, and the host build
of the firmware core (virtual board, golden-vector programs, the default model's run dir).

A missing tool skips the test with the reason, or fails it when NANOGEST_REQUIRE_TOOLCHAINS=1
(CI sets it, so a missing install step can never pass as a skip).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIRMWARE = REPO / "firmware"
HOST_BUILD = FIRMWARE / "build" / "host"


def need_tools(*tools: str) -> list[str]:
    """The paths of ``tools``; skip (or fail, see above) naming any that are missing."""
    paths = [shutil.which(t) for t in tools]
    missing = [t for t, p in zip(tools, paths) if p is None]
    if missing:
        message = f"missing tool(s): {', '.join(missing)}"
        if os.environ.get("NANOGEST_REQUIRE_TOOLCHAINS") == "1":
            pytest.fail(message + " (NANOGEST_REQUIRE_TOOLCHAINS=1)")
        pytest.skip(message)
    return paths


def build_host() -> Path:
    """``make -C firmware host``; returns firmware/build/host."""
    need_tools("make", "g++")
    proc = subprocess.run(["make", "-C", str(FIRMWARE), "host"], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        pytest.fail(f"`make -C firmware host` failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return HOST_BUILD
