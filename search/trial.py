"""One trial of ``nanogest search``: train a candidate fold by fold, convert it, score it on int8.

The folds are ``training cv``'s (``cv_folds`` / ``fold_split``: by person where there are
people, else by session, else by take) and the fold's windows, normalization and training are
``fit``'s own functions. Each fold's model is written as a run directory (model.keras,
contract.json, windows.npz) and converted by ``converter.convert.convert_run``, the converter
the user runs: the score is the mean int8 (TFLM) accuracy over the folds' held-out groups, and
model bytes, arena bytes (plus a GRU's state, as the converter's RAM budget counts them) and the
estimated latency per window are the converter's report's.

Budgets are Optuna constraints (``constraints``): a candidate over one is still a finished
trial, infeasible, and since its size does not depend on the fold it stops after the first.
Pruning: Optuna's pruners do not work with several objectives, so the rule is ours and knows the
front: after a fold, a trial stops (PRUNED) when its accuracy so far is no better than chance, or
when a finished trial that fits is at most as large and as slow and at least ``PRUNE_MARGIN``
more accurate.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from contract.document import Contract, gru_shape
from contract.run_dir import MODEL_FILE, REPORT_FILE, read_record, write_contract, write_windows
from training import TrainingError
from training.augment import resolve_augment
from training.fit import check_options, make_contract, split_windows, train_model
from search.space import Space, fit_options, too_short
from training.split import cv_folds, fold_split

PRUNE_MARGIN = 0.2  # accuracy points (of 1) a smaller, faster finished trial must lead by to prune
CHANCE_MARGIN = 0.05  # 'no better than chance': accuracy below 1 / labels + this
ATTR_KEYS = ("accuracy_int8", "accuracy_float", "model_bytes", "arena_bytes", "ram_bytes", "latency_ms")


@dataclass
class Budgets:
    """What the model may use on the board: flash for the model, RAM for arena (+ GRU state), ms per window."""

    flash_kb: float
    arena_kb: float
    latency_ms: float | None = None

    def to_dict(self) -> dict:
        return {"flash_kb": self.flash_kb, "arena_kb": self.arena_kb, "latency_ms": self.latency_ms}

    def violations(self, attrs: dict) -> list[str]:
        """Sentences naming each budget ``attrs`` (a trial's user attributes) breaks."""
        out = []
        if attrs["model_bytes"] > self.flash_kb * 1024:
            out.append(f"model {attrs['model_bytes']:,} B > --flash-kb {self.flash_kb:g}")
        if attrs["ram_bytes"] > self.arena_kb * 1024:
            out.append(f"arena {attrs['ram_bytes']:,} B > --arena-kb {self.arena_kb:g}")
        if self.latency_ms is not None and attrs["latency_ms"] > self.latency_ms:
            out.append(f"latency {attrs['latency_ms']:.2f} ms > --latency-ms {self.latency_ms:g}")
        if attrs.get("converter_refused"):
            out.append("the converter refused it: " + attrs["converter_refused"])
        return out

    def constraints(self, attrs: dict) -> tuple[float, ...]:
        """Optuna's constraint values (feasible when every one is <= 0)."""
        if "model_bytes" not in attrs:
            return (1.0, 1.0, 1.0, 1.0)
        latency = attrs["latency_ms"] - self.latency_ms if self.latency_ms is not None else -1.0
        return (float(attrs["model_bytes"] - self.flash_kb * 1024), float(attrs["ram_bytes"] - self.arena_kb * 1024),
                float(latency), 1.0 if attrs.get("converter_refused") else -1.0)


def fits(attrs: dict, budgets: Budgets) -> bool:
    return "model_bytes" in attrs and not budgets.violations(attrs)


def dominated_by(finished: list, acc: float, model_bytes: int, latency_ms: float, budgets: Budgets):
    """The first finished trial that fits and is at most as large and slow and PRUNE_MARGIN more accurate."""
    for t in finished:
        a = t.user_attrs
        if fits(a, budgets) and a["model_bytes"] <= model_bytes and a["latency_ms"] <= latency_ms \
                and a["accuracy_int8"] >= acc + PRUNE_MARGIN:
            return t
    return None


def _write_fold_run(run_dir: Path, model, contract: Contract, sides: dict) -> None:
    """The files the converter reads: model.keras, contract.json, windows.npz (as ``fit`` writes them)."""
    from training.models import gru_description

    run_dir.mkdir(parents=True, exist_ok=True)
    gru = gru_description(model)
    if gru is not None:
        contract = contract.replace(gru=gru_shape(gru))
    model.save(run_dir / MODEL_FILE)
    write_contract(run_dir, contract)
    write_windows(run_dir, sides["train"], sides["test"])


def convert_fold(run_dir: Path, log) -> tuple[dict, str | None]:
    """The converter's report for one fold's run (no budget of its own: the search's are constraints),
    and why it refused the model, if it did."""
    from converter import ConverterError
    from converter.convert import convert_run

    refused = None
    with contextlib.redirect_stderr(log):
        try:
            report = convert_run(run_dir, header_dir=run_dir / "generated", flash_budget_kb=1e9, ram_budget_kb=1e9)
        except ConverterError as e:
            if not (run_dir / "report.json").is_file():
                raise
            report, refused = read_record(run_dir, REPORT_FILE), str(e)
    return report, refused


def fold_reports(takes, params: dict, kind: str, dealt: list[list[str]], seed: int, log, tag: str):
    """Train ``params`` (a point of the space) on each fold of ``dealt`` with ``seed`` (fit's options,
    split, augmentation and weights) and convert it: yields (fold index, converter report, refusal,
    number of labels) fold by fold, so the caller may stop early (close the generator, or let it go).
    The trials and their confirmation (search/confirm.py) both score through here."""
    o = fit_options(params, seed=seed)
    check_options(o)
    short = too_short(params, make_contract(takes, o).window)
    if short:
        raise TrainingError(short)  # a FAILED trial with this sentence, before any training
    with tempfile.TemporaryDirectory(prefix=f"nanogest-{tag.replace(' ', '')}-") as tmp:
        for i, test_groups in enumerate(dealt):
            contract = make_contract(takes, o)
            split = fold_split(takes, kind, test_groups, seed=seed + i, validation=False)
            sides, contract = split_windows(split, contract, o)
            kinds = resolve_augment(o.augment, len(sides["train"][0]), len({t.meta.subject for t in split.train}))
            fold_dir = Path(tmp) / f"fold{i + 1}"
            print(f"{tag} fold {i + 1}/{len(dealt)} seed {seed}: {params}", file=log, flush=True)
            model, _, _ = train_model(sides, contract, o, kinds, Path(tmp) / f"fold{i + 1}.keras", log,
                                      prefix=f"{tag} fold {i + 1}: ")
            _write_fold_run(fold_dir, model, contract, sides)
            report, refused = convert_fold(fold_dir, log)
            yield i, report, refused, len(contract.labels)


class Objective:
    """Optuna's objective: (mean int8 accuracy, model bytes, latency ms); details in user attributes."""

    def __init__(self, takes, space: Space, budgets: Budgets, folds: int, seed: int, log):
        self.takes, self.space, self.budgets, self.folds, self.seed, self.log = takes, space, budgets, folds, seed, log
        self.kind, self.dealt = cv_folds(takes, folds, seed=seed)

    def __call__(self, trial):
        started = time.monotonic()
        params = self.space.suggest(trial)
        accs, accs_float = [], []
        folds = fold_reports(self.takes, params, self.kind, self.dealt, self.seed, self.log, f"trial {trial.number}")
        with contextlib.closing(folds):
            for i, report, refused, n_labels in folds:
                accs.append(float(report["accuracy_int8"]))
                accs_float.append(float(report["accuracy_float"]))
                attrs = self._record(trial, report, refused, accs, accs_float, i + 1, started, params)
                if i + 1 == len(self.dealt) or not fits(attrs, self.budgets):
                    break  # over a budget after one fold: more folds would not change its size
                self._maybe_prune(trial, attrs, n_labels)
        return attrs["accuracy_int8"], attrs["model_bytes"], attrs["latency_ms"]

    def _record(self, trial, report, refused, accs, accs_float, folds_run, started, params) -> dict:
        attrs = {
            "accuracy_int8": float(np.mean(accs)), "accuracy_float": float(np.mean(accs_float)),
            "fold_accuracy_int8": accs, "folds_run": folds_run, "folds": len(self.dealt), "fold_kind": self.kind,
            "model_bytes": int(report["model_bytes"]), "arena_bytes": int(report["arena_bytes"]),
            "ram_bytes": int(report["ram_used_bytes"]), "latency_ms": float(report["latency_ms_estimate"]),
            "macs": int(report["macs"]), "model_kind": report["model_kind"], "converter_refused": refused,
            "seconds": round(time.monotonic() - started, 1), "seed": self.seed,
            "worker": f"{socket.gethostname()}:{os.getpid()}",
        }
        for key, value in attrs.items():
            trial.set_user_attr(key, value)
        return attrs

    def _maybe_prune(self, trial, attrs: dict, n_labels: int) -> None:
        import optuna
        from optuna.trial import TrialState

        acc = attrs["accuracy_int8"]
        reason = None
        if acc < 1.0 / n_labels + CHANCE_MARGIN:
            reason = f"int8 accuracy {acc:.3f} after {attrs['folds_run']} fold(s) is no better than chance"
        else:
            finished = trial.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            better = dominated_by(finished, acc, attrs["model_bytes"], attrs["latency_ms"], self.budgets)
            if better is not None:
                reason = (f"int8 accuracy {acc:.3f} after {attrs['folds_run']} fold(s); trial {better.number} fits, is "
                          f"as small and fast and scored {better.user_attrs['accuracy_int8']:.3f}")
        if reason:
            trial.set_user_attr("pruned", reason)
            raise optuna.TrialPruned(reason)


def run_trial_safely(objective: Objective, trial):
    """The objective, with a training or converter error kept in the trial (state FAIL) as a sentence."""
    from converter import ConverterError

    try:
        return objective(trial)
    except (TrainingError, ConverterError) as e:
        trial.set_user_attr("error", str(e))
        raise
