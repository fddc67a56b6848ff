"""``python -m boardtools``: replay, monitor, verify-board, stream and demo (the board-side tools).

The first three are also ``python -m capture replay|monitor|verify-board``; ``demo`` is also
``python -m boardtools.demo`` and ``make demo``. Data goes to stdout, progress and errors to
stderr; a problem the user can fix ends with one ``error: ...`` line and exit status 2.
"""

from __future__ import annotations

import argparse
import sys

from boardtools import demo
from boardtools.board_check import add_verify_parser
from boardtools.monitor import add_monitor_parser
from boardtools.replay import add_replay_parser
from boardtools.stream_eval import add_stream_parser
from capture.dataset import DatasetError
from capture.errors import CaptureError


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m boardtools", description="The board-side tools: replay, monitor, verify-board, stream and demo.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_replay_parser(sub)
    add_monitor_parser(sub)
    add_verify_parser(sub)
    add_stream_parser(sub)
    sub.add_parser("demo", add_help=False, help="the whole pipeline on built-in data through the virtual board "
                                                "(options: python -m boardtools demo --help)")
    return p


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["demo"]:
        return demo.main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CaptureError, DatasetError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
