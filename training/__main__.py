"""Command line: ``python -m training check|fit|cv|adapt|evaluate`` (also ``nanogest COMMAND``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from contract.checks import GATE_STATISTICS
from training import TrainingError
from training.adapt import add_adapt_parser as _add_adapt_arguments, run_adapt
from training.augment import (AUGMENT_KINDS, AUTO_AUGMENT_MAX_WINDOWS, DEFAULT_AUGMENT, MOUNT_ANY_ANGLE_FROM_DEG,
                              ONE_PERSON_AUGMENT)
from training.check import CHECK_DESCRIPTION, add_arguments as _add_check_arguments, run_check
from training.families import FAMILIES, GRU_UNITS, MAX_GRU_UNITS, stepped_names

EXIT_BAD_INPUT = 2
AUGMENT_HELP = (f"augmentation kinds, comma-separated from {','.join(AUGMENT_KINDS)} (or 'all', 'none'); "
                f"default: {','.join(DEFAULT_AUGMENT)} (the board turned in its plane as far as the training people's boards are "
                f"turned against each other, any angle from {MOUNT_ANY_ANGLE_FROM_DEG:g} deg, and tilted a little; {','.join(ONE_PERSON_AUGMENT)} when the training takes are one person's) when there are "
                f"fewer than {AUTO_AUGMENT_MAX_WINDOWS} training windows, else none")


def _add_training_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("data_dir", type=Path, metavar="DATA_DIR", help="dataset directory written by 'nanogest record' or 'nanogest import'")
    p.add_argument("--arch", default="conv1d", choices=tuple(FAMILIES),
                   help="model: " + ", ".join(spec.summary for spec in FAMILIES.values()))
    p.add_argument("--seed", type=int, default=0, help="random seed for the split, augmentation and weights (default 0)")
    p.add_argument("--epochs", type=int, default=40, help="maximum epochs; early stopping may end sooner (default 40)")
    p.add_argument("--patience", type=int, default=None, help="stop after this many epochs without a better validation "
                   "loss and keep the best epoch (default: off, every epoch is trained and the last kept; small "
                   "validation sets choose epochs badly)")
    p.add_argument("--batch-size", type=int, default=32, help="training batch size (default 32)")
    p.add_argument("--width", type=int, default=None,
                   help="filters in the first convolution; later layers use twice as many (default: the family's, "
                        "conv1d 8, the others 16)")
    p.add_argument("--gru-units", type=int, default=GRU_UNITS,
                   help=f"units of the GRU for {stepped_names()}, at most {MAX_GRU_UNITS} (default {GRU_UNITS})")
    aug = p.add_mutually_exclusive_group()
    aug.add_argument("--augment", default=None, metavar="KINDS", help=AUGMENT_HELP)
    aug.add_argument("--no-augment", action="store_true", help="train on the windows as recorded, without augmentation")
    p.add_argument("--idle-from-still", action="store_true",
                   help="label windows lying in still stretches of gesture takes as 'idle' (adds the label if the "
                   "dataset has none), for continuous recognition")
    p.add_argument("--negatives", default=None, metavar="KINDS",
                   help="train an 'unknown' class on motions made from the gestures (training/negatives.py: "
                        "reverse,redirect,shake,chimera,wander, or 'all'); off by default: on the real recordings it cost "
                        "new people's gestures more than it saved (docs/decisions.md). Takes labelled 'unknown' (your "
                        "recordings of other motions) train that class without this option")
    p.add_argument("--no-gate", action="store_true",
                   help="no novelty gate: by default a run reports 'unknown' for a window whose "
                        "statistics lie farther from the training windows' than the training people's own windows did "
                        "when held out in turn (training/novelty.py; docs/decisions.md, \"The novelty gate\")")
    p.add_argument("--gate-keep", type=float, default=None, metavar="PERCENT",
                   help="the novelty gate's level: it keeps this share of the held-out training people's windows "
                        "(default 99.5; 95 cuts false activations further and costs new people more labelled accuracy)")
    p.add_argument("--gate-statistics", choices=GATE_STATISTICS, default=None,
                   help="what the novelty gate measures: 'lengths' (default), the accelerometer's and gyroscope's vector "
                        "lengths over the window, which no way of wearing the board changes; 'window', each channel's "
                        "extremes and means, the gate of earlier runs (conv1d and ds-conv1d only: a GRU's board never holds a "
                        "whole window)")
    p.add_argument("--rate-hz", type=float, default=None, metavar="HZ",
                   help="the model's sample rate (default: the dataset's most common; gru and cnn-gru run lower, "
                        "their family's rate in training/families/, when the dataset is faster); takes at another rate are "
                        "resampled to it with the board's resampler, and the board resamples its IMU to it "
                        "(e.g. 50 for a cheaper model on a 119 Hz Rev1 or 100 Hz Rev2 board)")
    p.add_argument("--force", action="store_true", help="train even if 'training check' finds errors in the dataset")
    p.add_argument("--include-flagged", action="store_true",
                   help="also train on takes flagged for lost samples or cut short (left out by default)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m training",
        description="Train a gesture classifier on a nanogest dataset directory and write a run directory "
        "(model.keras, contract.json, windows.npz, split.json, metrics.json, run.json, history.png, confusion.png).",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (add_check_parser, add_fit_parser, add_cv_parser, add_adapt_parser, add_evaluate_parser):
        add(sub)
    return p


def add_fit_parser(sub) -> None:
    f = sub.add_parser(
        "fit",
        help="train a model on DATA_DIR and write RUN_DIR",
        description="Train a model on DATA_DIR (DATA_DIR/<label>/<take>.csv + .json). The test split holds "
        "out whole people (about 25%) when there are two or more, else whole sessions, else whole takes. "
        "Progress goes to stderr; a JSON summary (accuracy, macro_f1, params, macs, run_dir, ...) to stdout.",
        epilog="example: %(prog)s data --out runs/r1",
    )
    _add_training_options(f)
    f.add_argument("--out", type=Path, required=True, metavar="RUN_DIR", help="run directory to write")
    f.add_argument("--test-subject", default=None, metavar="NAME[,NAME...]",
                   help="hold out these subjects for testing instead of a seeded random choice")
    f.add_argument("--overwrite", action="store_true", help="allow replacing a model already in RUN_DIR")
    f.add_argument("--final", action="store_true",
                   help="after the split-based evaluation, train the deployable model.keras on every take (all "
                   "people) for the split run's best number of epochs; the evaluated model is kept as "
                   "model_split.keras and metrics.json's accuracy is its, on data it never saw; run.json and "
                   "metrics.json record the final fit (final_fit). The converter still verifies int8 against "
                   "float on the split's test windows, which the final model has seen")
    f.set_defaults(func=_fit)


def add_cv_parser(sub) -> None:
    c = sub.add_parser(
        "cv", help="cross-validate by group on a small dataset (JSON on stdout)",
        description="Cross-validation by group: subjects when there are two or more, else sessions, else takes, "
        "dealt into K folds; each fold is tested by a model trained on the others. Prints per-fold and mean "
        "accuracy and macro-F1 as JSON on stdout; progress on stderr. Writes no run directory.",
        epilog="example: %(prog)s data --folds 4 --arch ds-conv1d",
    )
    _add_training_options(c)
    c.add_argument("--folds", type=int, default=5, metavar="K", help="number of folds, at most the number of groups (default 5)")
    c.set_defaults(func=_cv)


def add_evaluate_parser(sub) -> None:
    e = sub.add_parser(
        "evaluate", help="score a run's float model on a dataset it never saw (JSON on stdout)",
        description="Cut every take of DATA_DIR into windows with RUN_DIR's contract (resampled to its rate), "
        "classify them with RUN_DIR/model.keras and print n, accuracy, macro_f1 and per-class recall as JSON. "
        "Labels that the run does not know are refused.",
        epilog="example: %(prog)s runs/r1 new-person-data",
    )
    e.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="run directory written by 'nanogest fit'")
    e.add_argument("data_dir", type=Path, metavar="DATA_DIR", help="dataset directory to score")
    e.add_argument("--include-flagged", action="store_true", help="also score takes flagged for lost samples or cut short")
    e.set_defaults(func=_evaluate)


def add_check_parser(sub) -> None:
    c = sub.add_parser("check", help="check a dataset directory before training", description=CHECK_DESCRIPTION,
                       epilog="example: %(prog)s data --json")
    _add_check_arguments(c).set_defaults(func=run_check)  # prints its own report and returns the exit status


def add_adapt_parser(sub) -> None:
    _add_adapt_arguments(sub).set_defaults(func=run_adapt)


def _options(args):
    from training.augment import parse_augment
    from training.fit import FitOptions
    from training.negatives import parse_negatives

    augment = () if args.no_augment else (parse_augment(args.augment) if args.augment is not None else None)
    return FitOptions(
        arch=args.arch, seed=args.seed, epochs=args.epochs, patience=args.patience, batch_size=args.batch_size,
        width=args.width, gru_units=args.gru_units, augment=augment, idle_from_still=args.idle_from_still,
        negatives=parse_negatives(getattr(args, "negatives", None)),
        overwrite=getattr(args, "overwrite", False), force=args.force, include_flagged=args.include_flagged,
        final=getattr(args, "final", False), rate_hz=getattr(args, "rate_hz", None),
        gate=not getattr(args, "no_gate", False), gate_keep=getattr(args, "gate_keep", None),
        gate_statistics=getattr(args, "gate_statistics", None),
        test_subjects=[s.strip() for s in args.test_subject.split(",") if s.strip()]
        if getattr(args, "test_subject", None) else None,
    )


def _fit(args) -> dict:
    from training.fit import fit

    return fit(args.data_dir, args.out, _options(args))


def _cv(args) -> dict:
    from training.cv import cross_validate

    return cross_validate(args.data_dir, _options(args), folds=args.folds)


def _evaluate(args) -> dict:
    from training.evaluate import evaluate_run

    return evaluate_run(args.run_dir, args.data_dir, include_flagged=args.include_flagged)


def run(args: argparse.Namespace) -> int:
    """Run a parsed training command (also the search's): ``args.func`` returns the JSON summary to print, or
    the exit status when it printed its own report (check). A ``TrainingError`` ends in one ``error:`` line and
    its ``exit_status`` (2 unless it says otherwise)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    try:
        result = args.func(args)
    except TrainingError as e:
        print(f"error: {e}", file=sys.stderr)
        return getattr(e, "exit_status", EXIT_BAD_INPUT)
    except OSError as e:
        where = e.filename or getattr(args, "out", None) or getattr(args, "data_dir", None)
        print(f"error: {where}: {e.strerror or e}; check the path and free disk space", file=sys.stderr)
        return EXIT_BAD_INPUT
    if isinstance(result, int):
        return result
    print(json.dumps(result))
    return 0


def main(argv=None) -> int:
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
