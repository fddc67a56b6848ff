"""Fixtures shared by every test suite."""

from pathlib import Path

import pytest

from toolchains import build_host


@pytest.fixture(scope="session")
def host_build() -> Path:
    """The firmware core built for the host, once per test session: firmware/build/host."""
    return build_host()
