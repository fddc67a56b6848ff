"""`nanogest completion bash` in a real bash: the script it prints completes commands and options."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from nanogest.cli import build_parser
from nanogest.completion import bash_script, command_options, subcommands

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


def complete(words: list[str]) -> list[str]:
    """COMPREPLY of the printed script for the command line ``words`` (the last one being completed)."""
    script = subprocess.run([sys.executable, "-m", "nanogest", "completion", "bash"], capture_output=True,
                            text=True, check=True).stdout
    line = " ".join(f"'{w}'" for w in words)
    probe = f'{script}\nCOMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; COMPREPLY=(); _nanogest\n' \
            'printf "%s\\n" "${COMPREPLY[@]}"\n'
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True).stdout
    return [w for w in out.split("\n") if w]


def test_commands_complete_from_their_first_letters():
    assert complete(["nanogest", "ver"]) == ["verify-board"]
    assert set(complete(["nanogest", "im"])) == {"import", "import-arduino"}


def test_a_command_completes_its_own_options_only():
    assert complete(["nanogest", "fit", "DATA", "--ar"]) == ["--arch"]
    assert "--arch" not in complete(["nanogest", "record", "--"])
    assert "--port" in complete(["nanogest", "record", "--"])


def test_a_word_that_is_no_option_is_left_to_the_shell():
    assert complete(["nanogest", "fit", "da"]) == []


def test_every_command_and_option_of_the_parser_is_in_the_script():
    commands = subcommands(build_parser())
    options, script = command_options(commands), bash_script(commands)
    assert "completion" in options and "fit" in options
    for name, opts in options.items():
        assert f'{name}) opts="{" ".join(opts)}"' in script
