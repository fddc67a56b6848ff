"""``nanogest completion bash``: a bash completion script made from the parser itself.

Commands and their options are read from the parser ``nanogest`` itself runs (the subcommands this
command was added among) when the script is made, so it never lists a command or an option the
parser does not have; arguments that are not options (files, folders, ports) fall back to bash's own
file completion. zsh runs it through ``bashcompinit``.
"""

from __future__ import annotations

import argparse
import sys

SHELLS = ("bash",)


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """{command: its parser} of a parser with subcommands."""
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices  # argparse keeps them here


def command_options(commands: dict[str, argparse.ArgumentParser]) -> dict[str, list[str]]:
    """{command: its long and short options}, in the parsers' order."""
    return {name: [o for a in command._actions for o in a.option_strings] for name, command in commands.items()}


def bash_script(commands: dict[str, argparse.ArgumentParser]) -> str:
    options = command_options(commands)
    cases = "\n".join(f"        {name}) opts=\"{' '.join(opts)}\" ;;" for name, opts in options.items())
    return f"""# nanogest completion for bash (made by `nanogest completion bash`; remake it after an upgrade)
_nanogest() {{
    local cur="${{COMP_WORDS[COMP_CWORD]}}" command="" opts="" i
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${{COMP_WORDS[i]}}" in -*) ;; *) command="${{COMP_WORDS[i]}}"; break ;; esac
    done
    if [[ -z "$command" ]]; then
        COMPREPLY=($(compgen -W "{' '.join(options)} --help" -- "$cur"))
        return
    fi
    case "$command" in
{cases}
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    fi
}}
complete -o default -F _nanogest nanogest
"""


def add_completion_parser(sub) -> None:
    p = sub.add_parser("completion", help="print a shell completion script",
                       description="Print a completion script for SHELL: commands and their options complete on "
                                   "Tab, files and ports as the shell does.",
                       epilog="example: nanogest completion bash > ~/.nanogest-completion.bash\n"
                              "  then add `source ~/.nanogest-completion.bash` to ~/.bashrc (zsh: to ~/.zshrc, after\n"
                              "  `autoload -U bashcompinit && bashcompinit`)",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("shell", choices=SHELLS)
    # sub.choices holds every command by the time this one runs, those added after it too
    p.set_defaults(func=lambda args: print_script(sub.choices))


def print_script(commands: dict[str, argparse.ArgumentParser]) -> int:
    sys.stdout.write(bash_script(commands))
    return 0


def run(args) -> int:
    return args.func(args)
