"""A real, throw-away PostgreSQL server for tests: Debian's ``postgresql`` binaries, a temporary
data directory, a free TCP port on 127.0.0.1, trust authentication, stopped and removed after.

initdb refuses to run as root, so as root the server runs as the ``postgres`` user (``runuser``).
A missing server skips the test with the reason, or fails it when NANOGEST_REQUIRE_TOOLCHAINS=1
(CI installs the package, see .ci/run).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest


def _missing(message: str):
    if os.environ.get("NANOGEST_REQUIRE_TOOLCHAINS") == "1":
        pytest.fail(message + " (NANOGEST_REQUIRE_TOOLCHAINS=1)")
    pytest.skip(message)


def find_bin_dir() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl."""
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(Path(d).parent.name)
                  if Path(d).parent.name.isdigit() else 0)
    for d in reversed(dirs):
        if (Path(d) / "initdb").is_file() and (Path(d) / "pg_ctl").is_file():
            return Path(d)
    if shutil.which("initdb") and shutil.which("pg_ctl"):
        return Path(shutil.which("initdb")).parent
    _missing("missing PostgreSQL server binaries (initdb, pg_ctl): apt-get install postgresql")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgres_server():
    """Yields ``postgresql://postgres@127.0.0.1:PORT/postgres`` of a fresh server."""
    bin_dir = find_bin_dir()
    as_root = os.geteuid() == 0
    prefix: list[str] = []
    if as_root:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            _missing("running as root and there is no 'postgres' user to run the server as")
        if shutil.which("runuser") is None:
            _missing("running as root and runuser is missing")
        prefix = ["runuser", "-u", "postgres", "--"]
    root = Path(tempfile.mkdtemp(prefix="nanogest-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    if as_root:
        for p in (root, sockets):
            os.chown(p, pw.pw_uid, pw.pw_gid)
    port = _free_port()

    def run(*cmd, timeout=120):
        proc = subprocess.run(prefix + [str(c) for c in cmd], capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            pytest.fail(f"{' '.join(map(str, cmd))} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
        return proc

    started = False
    try:
        run(bin_dir / "initdb", "-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
        run(bin_dir / "pg_ctl", "-D", data, "-l", root / "server.log", "-w", "-t", "60", "-o",
            f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        started = True
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if started:
            subprocess.run(prefix + [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                           capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
