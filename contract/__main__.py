"""``python -m contract gen-contract-header``: the contract's own command (also ``nanogest gen-contract-header``)."""

from __future__ import annotations

import argparse
import sys

from contract.cli import add_contract_header_parser, run


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m contract", description="The pipeline contract's tools.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_contract_header_parser(sub)
    return run(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
