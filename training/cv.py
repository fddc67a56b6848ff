"""``python -m training cv DATA_DIR``: cross-validation by group for small datasets.

The groups (subjects when there are two or more, else sessions, else takes) are dealt into
K folds; each fold trains a fresh model on the other folds (validation for early stopping
carved from them as in ``fit``) and scores it on its own groups. Nothing is written to
disk but a temporary checkpoint; the result is one JSON object.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

import numpy as np

from training.augment import resolve_augment
from training.fit import (FitOptions, check_options, load_checked, make_contract, resolve_mount, score, split_windows,
                          train_model)
from training.split import cv_folds, fold_split

DEFAULT_FOLDS = 5


def cross_validate(data_dir, options: FitOptions | None = None, folds: int = DEFAULT_FOLDS, log=None) -> dict:
    """Per-fold and mean accuracy / macro-F1 (progress to ``log``, default stderr)."""
    log = log or sys.stderr
    o = options or FitOptions()
    check_options(o)
    takes = load_checked(data_dir, o, log)
    # One model per fold makes TensorFlow warn about retracing its predict function: expected here.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    kind, dealt = cv_folds(takes, folds, seed=o.seed)
    print(f"cross-validation by {kind}: {len(dealt)} folds over {sum(map(len, dealt))} {kind}s, arch {o.arch}",
          file=log)
    results = []
    with tempfile.TemporaryDirectory(prefix="nanogest-cv-") as tmp:
        for i, test_groups in enumerate(dealt):
            prefix = f"fold {i + 1}/{len(dealt)}: "
            contract = make_contract(takes, o)
            split = fold_split(takes, kind, test_groups, seed=o.seed + i, validation=o.patience is not None)
            sides, contract = split_windows(split, contract, o)
            kinds = resolve_augment(o.augment, len(sides["train"][0]), len({t.meta.subject for t in split.train}))
            mount = resolve_mount(o, split.train, kinds)
            print(f"{prefix}test {', '.join(test_groups[:6])}{' ...' if len(test_groups) > 6 else ''} "
                  f"({len(sides['test'][0])} windows), train {len(sides['train'][0])}", file=log, flush=True)
            model, history, seconds = train_model(sides, contract, o, kinds, Path(tmp) / f"fold{i}.keras", log, prefix,
                                                  mount_deg=mount["max_deg"] or 180.0, mount_share=mount["share"])
            m = score(model, *sides["test"], contract)
            print(f"{prefix}accuracy {m['accuracy']:.3f}, macro-F1 {m['macro_f1']:.3f} ({seconds:.1f} s)",
                  file=log, flush=True)
            results.append({"fold": i + 1, "test_groups": list(test_groups), "n_test": m["n_test"],
                            "accuracy": m["accuracy"], "macro_f1": m["macro_f1"],
                            "epochs_run": len(history.get(history["monitor"], [])),
                            "train_seconds": round(seconds, 2)})
    acc = np.array([r["accuracy"] for r in results])
    f1 = np.array([r["macro_f1"] for r in results])
    return {
        "kind": kind,
        "folds": results,
        "k": len(results),
        "arch": o.arch,
        "mean_accuracy": float(acc.mean()),
        "std_accuracy": float(acc.std()),
        "mean_macro_f1": float(f1.mean()),
        "std_macro_f1": float(f1.std()),
        "labels": make_contract(takes, o).labels,
    }
