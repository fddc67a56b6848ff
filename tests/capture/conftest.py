"""Shared fixtures: the host build of the firmware core (virtual board, frame_vectors)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIRMWARE = REPO / "firmware"
HOST_BUILD = FIRMWARE / "build" / "host"
REQUIRE_TOOLCHAINS = os.environ.get("NANOGEST_REQUIRE_TOOLCHAINS") == "1"


def missing(reason: str):
    """Skip with a reason, or fail when NANOGEST_REQUIRE_TOOLCHAINS=1."""
    if REQUIRE_TOOLCHAINS:
        pytest.fail(f"{reason} (NANOGEST_REQUIRE_TOOLCHAINS=1)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def host_build() -> Path:
    """``make -C firmware host`` once per test session; returns firmware/build/host."""
    for tool in ("make", "g++"):
        if shutil.which(tool) is None:
            missing(f"{tool} is not installed; it builds the virtual board")
    if not (FIRMWARE / "host" / "virtual_board.cpp").is_file():
        missing("firmware/host/virtual_board.cpp is not in this tree yet")
    proc = subprocess.run(["make", "-C", str(FIRMWARE), "host"], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"`make -C firmware host` failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return HOST_BUILD
