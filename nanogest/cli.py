"""``nanogest COMMAND``: every stage's commands under one name, in the order a user goes through them.

The stages keep their own command lines (``python -m capture``, ``training``, ``converter``,
``boardtools``) and each offers its commands as ``add_*_parser(sub)`` functions and a ``run(args)``
that runs a parsed command with the stage's error handling (one ``error:`` line, its exit status).
This module only puts them in order: a new command is one line in ``COMMANDS``. It imports every
stage and no stage imports it (tests/test_import_graph.py).
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
from typing import Callable, NamedTuple

import boardtools.__main__ as boardtools_cli
import boardtools.default_model as default_model_cli
import capture.__main__ as capture_cli
import contract.cli as contract_cli
import nanogest.completion as completion_cli
import converter.__main__ as converter_cli
import search.cli as search_cli
import training.__main__ as training_cli


class Command(NamedTuple):
    name: str
    add_parser: Callable  # add_parser(subparsers) adds the command named ``name``
    run: Callable  # run(args) -> exit status: the owning stage's error handling around args.func


COMMANDS = (
    # find the board and record
    Command("ports", capture_cli.add_ports_parser, capture_cli.run),
    Command("record", capture_cli.add_record_parser, capture_cli.run),
    Command("import", capture_cli.add_import_parser, capture_cli.run),
    Command("import-arduino", capture_cli.add_import_arduino_parser, capture_cli.run),
    Command("show", capture_cli.add_show_parser, capture_cli.run),
    Command("export-ei", capture_cli.add_export_ei_parser, capture_cli.run),
    # train
    Command("check", training_cli.add_check_parser, training_cli.run),
    Command("fit", training_cli.add_fit_parser, training_cli.run),
    Command("cv", training_cli.add_cv_parser, training_cli.run),
    Command("adapt", training_cli.add_adapt_parser, training_cli.run),
    Command("evaluate", training_cli.add_evaluate_parser, training_cli.run),
    # convert and put on the board
    Command("convert", converter_cli.add_convert_parser, converter_cli.run),
    Command("evaluate-int8", partial(converter_cli.add_evaluate_parser, name="evaluate-int8"), converter_cli.run),
    Command("install", converter_cli.add_install_parser, converter_cli.run),
    # the board's side
    Command("replay", boardtools_cli.add_replay_parser, boardtools_cli.run),
    Command("monitor", boardtools_cli.add_monitor_parser, boardtools_cli.run),
    Command("verify-board", boardtools_cli.add_verify_parser, boardtools_cli.run),
    Command("stream", boardtools_cli.add_stream_command, boardtools_cli.run),
    Command("calibrate", boardtools_cli.add_calibrate_parser, boardtools_cli.run),
    # search for a model, the whole pipeline at once, tools
    Command("search", search_cli.add_search_parser, training_cli.run),
    Command("search-worker", search_cli.add_worker_parser, training_cli.run),
    Command("demo", boardtools_cli.add_demo_parser, boardtools_cli.run),
    Command("board-kernels", converter_cli.add_board_kernels_parser, converter_cli.run),
    Command("gen-protocol-header", capture_cli.add_protocol_header_parser, capture_cli.run),
    Command("gen-contract-header", contract_cli.add_contract_header_parser, contract_cli.run),
    Command("default-model", default_model_cli.add_default_model_parser, default_model_cli.run),
    Command("completion", completion_cli.add_completion_parser, completion_cli.run),
)
RUNS = {c.name: c.run for c in COMMANDS}

DESCRIPTION = """Gesture recognition for the Arduino Nano 33 BLE Sense: record, train, convert, flash.

The usual path: nanogest record (or import) -> check -> fit -> convert -> install -> make flash
-> verify-board. Each command's --help has an example."""

EPILOG = """example (the whole pipeline on built-in data through the virtual board):
  nanogest demo --out demo-out"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nanogest", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
        if command.name not in sub.choices:
            raise RuntimeError(f"COMMANDS: {command.add_parser} did not add the command {command.name!r}")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return RUNS[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
