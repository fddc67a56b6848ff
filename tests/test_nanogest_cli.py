"""``nanogest``: one command over every stage, its subcommands in pipeline order, each with an example.

The installed console script is run for real (``.venv/bin/nanogest``, else ``python -m nanogest``).
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nanogest.cli import COMMANDS

REPO = Path(__file__).resolve().parents[1]
# The commands the user meets on the way from a board to a model on it, in that order.
PIPELINE = ("record", "import", "show", "check", "fit", "cv", "adapt", "evaluate", "convert", "install", "replay",
            "monitor", "verify-board", "stream", "search", "search-worker", "demo")
STAGE_CLIS = ("capture", "training", "converter", "boardtools")


def _nanogest() -> list[str]:
    script = Path(sys.executable).parent / "nanogest"
    if script.is_file():
        return [str(script)]
    found = shutil.which("nanogest")
    return [found] if found else [sys.executable, "-m", "nanogest"]


def _run(*args, cmd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "100"}
    return subprocess.run([*(cmd or _nanogest()), *map(str, args)], capture_output=True, text=True, timeout=120,
                          cwd=REPO, env=env)


def _listed(help_text: str) -> list[str]:
    """The subcommand names in a --help's command list, in the order shown."""
    block = help_text.split("positional arguments:", 1)[1].split("options:", 1)[0]
    return re.findall(r"^    (\S+)", block, flags=re.MULTILINE)


def test_help_lists_the_pipeline_in_order():
    proc = _run("--help")
    assert proc.returncode == 0, proc.stderr
    listed = _listed(proc.stdout)
    assert listed == [c.name for c in COMMANDS]
    assert [name for name in listed if name in PIPELINE] == list(PIPELINE)
    assert "example" in proc.stdout and "%%" not in proc.stdout


@pytest.mark.parametrize("name", [c.name for c in COMMANDS])
def test_every_command_has_help_with_an_example(name):
    proc = _run(name, "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"usage: nanogest {name}"), proc.stdout[:200]
    example = re.search(r"^examples?:.*$", proc.stdout, flags=re.MULTILINE)
    assert example, f"nanogest {name} --help shows no example:\n{proc.stdout}"
    assert f"nanogest {name}" in proc.stdout[example.start():], "the example runs the command itself"
    assert "%%" not in proc.stdout and "%(" not in proc.stdout


def test_no_help_of_any_stage_shows_an_unformatted_percent():
    """argparse formats help strings (so they say %%) but a description only when it names %(prog)s."""
    for cli in STAGE_CLIS:
        top = _run("--help", cmd=[sys.executable, "-m", cli])
        assert top.returncode == 0, top.stderr
        for name in [None, *_listed(top.stdout)]:
            proc = top if name is None else _run(name, "--help", cmd=[sys.executable, "-m", cli])
            assert proc.returncode == 0, (cli, name, proc.stderr)
            assert "%%" not in proc.stdout and "%(" not in proc.stdout, (cli, name)
    fit = _run("fit", "--help")
    assert "(about 25%)" in fit.stdout


def test_a_problem_is_one_error_line(tmp_path):
    proc = _run("fit", tmp_path / "missing", "--out", tmp_path / "run")
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [f"error: {tmp_path / 'missing'}: no such dataset directory"]
    assert proc.stdout == ""


def test_python_m_nanogest_is_the_same_command():
    proc = _run("--help", cmd=[sys.executable, "-m", "nanogest"])
    assert proc.returncode == 0, proc.stderr
    assert _listed(proc.stdout) == [c.name for c in COMMANDS]


def test_the_stages_no_longer_offer_the_tools_above_them():
    for cli, name in (("capture", "replay"), ("capture", "verify-board"), ("training", "search")):
        proc = _run(name, "--help", cmd=[sys.executable, "-m", cli])
        assert proc.returncode == 2 and "invalid choice" in proc.stderr, (cli, name)
