"""``python -m boardtools``: replay, monitor, verify-board, stream and demo (the board-side tools).

The same commands are ``nanogest replay|monitor|verify-board|stream|demo``; ``demo`` is also
``python -m boardtools.demo`` and ``make demo``. Data goes to stdout, progress and errors to
stderr; a problem the user can fix ends with one ``error: ...`` line and exit status 2.
"""

from __future__ import annotations

import argparse
import sys

from boardtools.board_check import add_verify_parser
from boardtools.calibrate import add_calibrate_parser
from boardtools.demo import add_demo_parser
from boardtools.monitor import add_monitor_parser
from boardtools.replay import add_replay_parser
from boardtools.stream_eval import add_stream_parser
from capture.dataset import DatasetError
from capture.errors import CaptureError
from contract.document import ContractError

STREAM_EPILOG = """examples:
  %(prog)s runs/r1 new-people --rest-minutes 5 --plots stream-plots
  %(prog)s runs/r1 tuning-people --tune 0.1   (then: nanogest convert runs/r1)"""


def add_stream_command(sub) -> None:
    """``stream`` with an example (stream_eval's parser has none yet)."""
    add_stream_parser(sub)
    sub.choices["stream"].epilog = STREAM_EPILOG


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m boardtools", description="The board-side tools: replay, monitor, verify-board, stream and demo.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (add_replay_parser, add_monitor_parser, add_verify_parser, add_stream_command, add_calibrate_parser,
                add_demo_parser):
        add(sub)
    return p


def run(args: argparse.Namespace) -> int:
    """Run a parsed board-side command (``args.func``); a problem the user can fix ends in one ``error:`` line."""
    try:
        return args.func(args)
    except (CaptureError, ContractError, DatasetError) as e:  # ContractError: writing the chosen post-processing
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


def main(argv=None) -> int:
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
