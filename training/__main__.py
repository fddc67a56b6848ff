"""Command line: ``python -m training fit DATA_DIR --out RUN_DIR``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from training import TrainingError

EXIT_BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m training",
        description="Train a gesture classifier on a nanogest dataset directory and write a run directory "
        "(model.keras, contract.json, windows.npz, split.json, metrics.json, history.png, confusion.png).",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    f = sub.add_parser(
        "fit",
        help="train a model on DATA_DIR and write RUN_DIR",
        description="Train a model on DATA_DIR (DATA_DIR/<label>/<take>.csv + .json). The test split holds "
        "out whole people (about 25%%) when there are two or more, else whole sessions, else whole takes. "
        "Progress goes to stderr; a JSON summary (accuracy, macro_f1, run_dir, ...) to stdout.",
    )
    f.add_argument("data_dir", type=Path, metavar="DATA_DIR", help="dataset directory written by 'python -m capture record'")
    f.add_argument("--out", type=Path, required=True, metavar="RUN_DIR", help="run directory to write")
    f.add_argument("--arch", default="conv1d", help="model architecture (default conv1d)")
    f.add_argument("--seed", type=int, default=0, help="random seed for the split, augmentation and weights (default 0)")
    f.add_argument("--epochs", type=int, default=40, help="maximum epochs; early stopping may end sooner (default 40)")
    f.add_argument("--patience", type=int, default=10, help="epochs without a better validation loss before stopping (default 10)")
    f.add_argument("--batch-size", type=int, default=32, help="training batch size (default 32)")
    f.add_argument("--width", type=int, default=16, help="filters in the first layer; later layers use twice as many (default 16)")
    f.add_argument("--test-subject", default=None, metavar="NAME[,NAME...]",
                   help="hold out these subjects for testing instead of a seeded random choice")
    f.add_argument("--no-augment", action="store_true", help="train on the windows as recorded, without augmentation")
    f.add_argument("--overwrite", action="store_true", help="allow replacing a model already in RUN_DIR")
    f.add_argument("--force", action="store_true", help="train even if 'training check' finds errors in the dataset")
    f.add_argument("--include-flagged", action="store_true",
                   help="also train on takes flagged for lost samples or cut short (left out by default)")
    from training.check import CHECK_DESCRIPTION, add_arguments

    add_arguments(sub.add_parser("check", help="check a dataset directory before training", description=CHECK_DESCRIPTION))
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "check":
        from training.check import run_check

        return run_check(args)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    from training.fit import FitOptions, fit

    options = FitOptions(
        arch=args.arch, seed=args.seed, epochs=args.epochs, patience=args.patience, batch_size=args.batch_size,
        width=args.width, augment=not args.no_augment, overwrite=args.overwrite, force=args.force,
        include_flagged=args.include_flagged,
        test_subjects=[s.strip() for s in args.test_subject.split(",") if s.strip()] if args.test_subject else None,
    )
    try:
        summary = fit(args.data_dir, args.out, options)
    except TrainingError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as e:
        print(f"error: {e.filename or args.out}: {e.strerror or e}; check the path and free disk space", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
