"""The contract's one command, ``nanogest gen-contract-header``: regenerate the firmware's copies of
the contract's values (contract/board_header.py)."""

from __future__ import annotations

import sys
from pathlib import Path

from contract.board_header import CORE_DIR, HEADER_NAMES, write_headers


def add_contract_header_parser(sub) -> None:
    g = sub.add_parser("gen-contract-header",
                       help="regenerate the firmware's contract headers (defaults, IMU scales, resample limit)",
                       description=f"Write {', '.join(HEADER_NAMES)} into firmware/lib/nanogest_core/src/ from "
                                   "contract/ (post-processing defaults, neutral step constants, IMU scales, ranges "
                                   "and rates, the resampler's limit).",
                       epilog="example: %(prog)s --dir /tmp/contract-headers")
    g.add_argument("--dir", type=Path, default=None, help="write into this folder instead of the firmware tree")
    g.set_defaults(func=_cmd_contract_header)


def _cmd_contract_header(a) -> int:
    for path in write_headers(a.dir or CORE_DIR):
        print(f"[contract] wrote {path}", file=sys.stderr)
        print(str(path))
    return 0


def run(args) -> int:
    """Run a parsed contract command (writing files is its only failure: an OSError)."""
    try:
        return args.func(args)
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
