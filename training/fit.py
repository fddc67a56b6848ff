"""``nanogest fit``: dataset directory in, run directory out.

Steps: load takes, decide the contract (rate, window, hop, labels), split by group,
cut windows (optionally drawing idle windows from still stretches), normalize with
training statistics, train with augmentation (training/trainer.py; a validation side and early
stopping on its loss only when asked for: ``patience``), score it on the test split and write the run
directory described in docs/architecture.md (training/run_files.py). What each option left unset
comes to is its model family's (training/families/, resolved by training/recipe.py).
With ``final``, the deployable model is then trained on every take (training/final.py).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from contract.document import Contract, gru_shape
from contract.pipeline import HOP_SECONDS, IDLE_LABEL, UNKNOWN_LABEL, WINDOW_SECONDS
from training import TrainingError
from training.augment import resolve_augment
from training.check import check_dataset
from training.data import base_contract, load_dataset, normalization_from, windows_for
from training.families import GRU_UNITS, MAX_GRU_UNITS, family, stepped_names
from training.final import all_windows, train_final
from training.idle import windows_with_still_idle
from training.macs import describe_size
from training.negatives import DEFAULT_NEGATIVE_SHARE
from training.run_files import write_run_files
from training.run_info import run_description
from training.split import TEST_FRACTION, Split, split_dataset
# fit's options resolved and its Keras side, named here too for the callers that import them from fit
from training.recipe import (DEFAULT_LEARNING_RATE, average_last_for, clipnorm_for, learning_rate_for,  # noqa: F401
                             rate_for, resolve_mount, supervised_share_for, supervised_steps_for, width_for)
from training.trainer import (_keras, _last_steps_loss, _progress, _training_data, averaging_callbacks,  # noqa: F401
                              compile_on_last_steps, compiled_model, deployable_model, optimizer_for, score, train_model)

CHECKPOINT_NAME = ".best.keras"


@dataclass
class FitOptions:
    arch: str = "conv1d"
    seed: int = 0
    epochs: int = 40
    # Early stopping (and keeping the best epoch) on validation loss after this many epochs without
    # improvement; None trains every epoch, keeps the last and holds no validation side out (those
    # takes train too). Off by default: one or two validation people are too few windows to choose an
    # epoch by (docs/decisions.md, "No early stopping by default").
    patience: int | None = None
    copies_per_epoch: int = 4  # augmented copies of every training window per epoch (docs/decisions.md, "Augmentation kinds")
    batch_size: int = 32
    learning_rate: float | None = None  # None: the family's (training/families/), else DEFAULT_LEARNING_RATE
    average_last: float | None = None  # keep the mean weights of this share of the epochs, the last; None: the family's (0: the last epoch's)
    width: int | None = None  # filters of the first convolution; None: the family's (training/families/)
    gru_units: int = GRU_UNITS  # units of the GRU (the GRU families: gru, cnn-gru)
    augment: bool | str | tuple | None = None  # None: every kind for small datasets, none for large ones
    # Largest turn of 'mount' (degrees either way; 180: any angle). None: from the training takes,
    # as far as the people's boards are turned against each other (training/augment.py).
    mount_deg: float | None = None
    mount_share: float | None = None  # of the windows 'mount' turns; None: the family's, else training/augment.py's
    idle_from_still: bool = False  # label still stretches of gesture takes as idle
    negatives: tuple = ()  # kinds of generated negatives training an unknown class (training/negatives.py); () none
    negative_share: float = DEFAULT_NEGATIVE_SHARE  # generated unknown windows per gesture window of the training side
    test_subjects: list[str] | None = None
    test_fraction: float = TEST_FRACTION  # of the people (else sessions, else each label's takes) held out for testing
    overwrite: bool = False
    force: bool = False  # train even if the dataset checker finds errors
    include_flagged: bool = False  # also train on takes flagged for losses or cut short
    final: bool = False  # after the split evaluation, train the deployable model on every take (training/final.py)
    window_seconds: float = WINDOW_SECONDS  # window length and hop of the contract (training search varies them)
    hop_seconds: float = HOP_SECONDS
    model_options: dict | None = None  # more builder arguments (kernel, depth, front_layers): training.models.build_model
    rate_hz: float | None = None  # the model's rate; None: the family's (at most the dataset's), else the dataset's most common (takes are resampled to it)
    clipnorm: float | None = None  # Adam's gradient clipping by norm; None: the family's, else none
    supervised_steps: float | None = None  # gru, cnn-gru: share of the window's last steps trained on its label; None: the family's (0: the last step)
    gate: bool = True  # the novelty gate (training/novelty.py): unlike windows report unknown
    gate_keep: float | None = None  # the gate's level: % of held-out training people's windows kept; None: novelty.KEEP_PERCENT
    gate_statistics: str | None = None  # what the gate measures (novelty.STATISTICS); None: novelty.STATISTICS_DEFAULT


def check_options(o: FitOptions) -> None:
    """Refuse impossible options before any data is read."""
    spec = family(o.arch)
    if o.patience is not None and o.patience < 1:
        raise TrainingError(f"--patience must be at least 1 epoch, got {o.patience}")
    if o.epochs < 1:
        raise TrainingError(f"--epochs must be at least 1, got {o.epochs}")
    if o.clipnorm is not None and not o.clipnorm >= 0:
        raise TrainingError(f"the gradient clipping norm must be 0 (off) or positive, got {o.clipnorm}")
    if o.learning_rate is not None and not o.learning_rate > 0:
        raise TrainingError(f"the learning rate must be positive, got {o.learning_rate}")
    if o.supervised_steps is not None and not 0 <= o.supervised_steps <= 1:
        raise TrainingError(f"the share of a GRU's steps trained on the label must be between 0 and 1, got {o.supervised_steps}")
    if o.supervised_steps and not spec.steps_a_gru:
        raise TrainingError(f"only {stepped_names()} are trained on their last steps; {o.arch} scores the window as a whole")
    if o.gate and o.gate_statistics == "window" and spec.steps_a_gru:
        raise TrainingError(f"--gate-statistics window needs a whole window, which {o.arch}'s board never holds (it "
                            "steps the model); use lengths (the default), which it gathers step by step, or --no-gate")
    if o.gate_keep is not None and not 50 <= o.gate_keep <= 100:
        raise TrainingError(f"--gate-keep is the share of held-out windows the gate keeps, 50 to 100 (%), got {o.gate_keep:g}")
    if o.average_last is not None and not 0 <= o.average_last <= 1:
        raise TrainingError(f"the share of epochs to average must be between 0 and 1, got {o.average_last}")
    if o.mount_share is not None and not 0.0 <= o.mount_share <= 1.0:
        raise TrainingError(f"the share of windows 'mount' turns must be between 0 and 1, got {o.mount_share}")
    if o.mount_deg is not None and not 0.0 <= o.mount_deg <= 180.0:
        raise TrainingError(f"the largest 'mount' turn must be between 0 and 180 degrees, got {o.mount_deg}")
    if (o.width is not None and o.width < 1) or o.batch_size < 1:
        raise TrainingError(f"--width and --batch-size must be at least 1, got {o.width} and {o.batch_size}")
    if spec.steps_a_gru and not 1 <= o.gru_units <= MAX_GRU_UNITS:
        raise TrainingError(f"--gru-units must be between 1 and {MAX_GRU_UNITS} (the board runs the GRU every sample), got {o.gru_units}")


def _check_run_dir(run_dir: Path, overwrite: bool) -> None:
    if run_dir.exists() and not run_dir.is_dir():
        raise TrainingError(f"{run_dir} is a file; --out needs a directory")
    if (run_dir / "model.keras").exists() and not overwrite:
        raise TrainingError(f"{run_dir} already holds a model; choose another --out or pass --overwrite")


def load_checked(data_dir, o: FitOptions, log) -> list:
    """The dataset's usable takes, after ``training check`` (its errors stop training unless forced)."""
    report = check_dataset(data_dir)
    if not o.force:
        report.raise_if_errors()
    if report.warnings or report.errors:
        print(f"dataset check: {len(report.errors)} error(s), {len(report.warnings)} warning(s); "
              f"details: nanogest check {data_dir}", file=log)
    return load_dataset(data_dir, include_flagged=o.include_flagged)


def gated(o: FitOptions) -> bool:
    """Whether the run gets a novelty gate: asked for (a GRU family's only of the lengths, check_options)."""
    return o.gate


def make_contract(takes, o: FitOptions) -> Contract:
    extra = ((IDLE_LABEL,) if o.idle_from_still else ()) + ((UNKNOWN_LABEL,) if o.negatives or gated(o) else ())
    return base_contract(takes, o.arch, window_seconds=o.window_seconds, hop_seconds=o.hop_seconds,
                         extra_labels=extra, rate_hz=rate_for(takes, o))


def side_windows(takes, contract: Contract, o: FitOptions, rng) -> tuple[np.ndarray, np.ndarray, int]:
    """Raw windows, labels and the number of idle windows drawn from still stretches."""
    if not o.idle_from_still:
        x, y = windows_for(takes, contract)
        return x, y, 0
    return windows_with_still_idle(takes, contract, rng)


def split_windows(split: Split, contract: Contract, o: FitOptions) -> tuple[dict, Contract]:
    """Windows of every side of ``split``, and the contract with the training side's normalization."""
    rng = np.random.default_rng(o.seed)
    sides = {}
    for side in ("train", "validation", "test"):
        x, y, idle = side_windows(getattr(split, side), contract, o, rng)
        sides[side] = (x, y)
        sides[f"{side}_idle_from_still"] = idle
    had_idle = any(t.meta.label == IDLE_LABEL for t in split.train)
    if o.idle_from_still and not had_idle and sides["train_idle_from_still"] == 0:
        raise TrainingError(f"--idle-from-still found no still stretch as long as a window ({contract.window} "
                            "samples) in the training takes; record idle takes or leave still pauses in gesture takes")
    sides["train_negatives"] = 0
    if o.negatives:
        from training.negatives import make_negatives

        x, y = sides["train"]
        gesture = ~np.isin(y, [contract.labels.index(l) for l in (IDLE_LABEL, UNKNOWN_LABEL) if l in contract.labels])
        neg = make_negatives(x[gesture], y[gesture], rng, o.negative_share, o.negatives)
        unknown = contract.labels.index(UNKNOWN_LABEL)
        sides["train"] = (np.concatenate([x, neg]), np.concatenate([y, np.full(len(neg), unknown, np.int32)]))
        sides["train_negatives"] = int(len(neg))
    return sides, contract.replace(normalization=normalization_from(sides["train"][0]))


def mount_text(mount: dict) -> str:
    """' (mount: ...)' for the split line of the log, '' without mount."""
    if mount["max_deg"] is None:
        return ""
    turn = "by any angle" if mount["max_deg"] >= 180 else f"up to {mount['max_deg']:g} deg either way"
    return (f" (mount: training boards turned up to {mount['spread']['deg']:g} deg from the people's mean, "
            f"{100 * mount['share']:.0f} % of windows turned {turn})")



@dataclass
class Prepared:
    """What a run trains and tests on, decided before any training."""

    takes: list
    contract: Contract
    split: Split
    sides: dict  # split_windows
    kinds: tuple  # augmentation kinds
    mount: dict  # resolve_mount


def prepare(data_dir, o: FitOptions, log) -> Prepared:
    """Takes, contract, split, windows and augmentation of a run, each stated on ``log``."""
    takes = load_checked(data_dir, o, log)
    contract = make_contract(takes, o)
    split = split_dataset(takes, seed=o.seed, test_subjects=o.test_subjects, test_fraction=o.test_fraction,
                          validation=o.patience is not None)
    sides, contract = split_windows(split, contract, o)
    kinds = resolve_augment(o.augment, len(sides["train"][0]), len({t.meta.subject for t in split.train}))
    p = Prepared(takes, contract, split, sides, kinds, resolve_mount(o, split.train, kinds))
    _log_prepared(p, o, log)
    if len(sides["test"][0]) == 0:
        raise TrainingError("the test split is empty; record more takes or subjects")
    return p


def _log_prepared(p: Prepared, o: FitOptions, log) -> None:
    contract, split, sides = p.contract, p.split, p.sides
    print(f"dataset: {len(p.takes)} takes, labels {', '.join(contract.labels)}, {contract.rate_hz:g} Hz, "
          f"window {contract.window}, hop {contract.hop}", file=log)
    print(f"split by {split.kind}: test {', '.join(split.test_groups[:8])}{' ...' if len(split.test_groups) > 8 else ''}; "
          f"windows train {len(sides['train'][0])}, validation {len(sides['validation'][0])} ({split.validation_kind}), "
          f"test {len(sides['test'][0])}; augment {','.join(p.kinds) or 'off'}{mount_text(p.mount)}", file=log)
    if o.negatives:
        print(f"unknown: {sides['train_negatives']} windows made from the training gestures ({', '.join(o.negatives)})",
              file=log)
    if o.idle_from_still:
        print(f"idle from still stretches: train {sides['train_idle_from_still']}, validation "
              f"{sides['validation_idle_from_still']}, test {sides['test_idle_from_still']} windows", file=log)


def resolved_options(o: FitOptions, p: Prepared, size: dict, supervised: dict | None) -> dict:
    """What the options left to the family or to the data came to (metrics.json and run.json's ``resolved``)."""
    return {"augment": list(p.kinds), "mount": p.mount, "width": width_for(o), "learning_rate": learning_rate_for(o),
            "clipnorm": clipnorm_for(o), "average_last_epochs": average_last_for(o), "supervised_steps": supervised,
            "params": size["params"], "macs": size["macs"]}


def run_metrics(best, history: dict, train_seconds: float, o: FitOptions, p: Prepared, resolved: dict) -> dict:
    """metrics.json: the kept model scored on the test side, and how it was trained."""
    (x_train, _), (x_val, _), (x_test, y_test) = p.sides["train"], p.sides["validation"], p.sides["test"]
    metrics = score(best, x_test, y_test, p.contract)
    monitored = history.get(history.pop("monitor"), [])
    metrics.update({
        "split": p.split.kind,
        "test_groups": p.split.test_groups,
        "n_train": int(len(x_train)),
        "n_validation": int(len(x_val)),
        "epochs_run": len(monitored),
        "best_epoch": (int(np.argmin(monitored)) + 1 if o.patience is not None else len(monitored)) if monitored else 0,
        "early_stopping": o.patience is not None,
        "params": resolved["params"],
        "macs": resolved["macs"],
        "train_seconds": round(train_seconds, 2),
        "arch": o.arch,
        "seed": o.seed,
        "augment": resolved["augment"],
        "mount": resolved["mount"],
        "learning_rate": resolved["learning_rate"],
        "average_last_epochs": resolved["average_last_epochs"],
        "clipnorm": resolved["clipnorm"],
        "supervised_steps": resolved["supervised_steps"],
        "idle_from_still": {side: p.sides[f"{side}_idle_from_still"] for side in ("train", "validation", "test")},
        "negatives": {"kinds": list(o.negatives), "train_windows": p.sides["train_negatives"]},
    })
    return metrics


def fit(data_dir, run_dir, options: FitOptions | None = None, log=None) -> dict:
    """Train one model; return the summary printed by the command (progress goes to ``log``, default stderr)."""
    log = log or sys.stderr
    o = options or FitOptions()
    check_options(o)
    run_dir = Path(run_dir)
    _check_run_dir(run_dir, o.overwrite)
    p = prepare(data_dir, o, log)
    run_dir.mkdir(parents=True, exist_ok=True)

    best, history, train_seconds = train_model(p.sides, p.contract, o, p.kinds, run_dir / CHECKPOINT_NAME, log,
                                               mount_deg=p.mount["max_deg"] or 180.0, mount_share=p.mount["share"])
    os.replace(run_dir / CHECKPOINT_NAME, run_dir / "model.keras")
    from training.models import gru_description  # Keras (training.models) stays off the fast path

    size = describe_size(best)
    gru = gru_description(best)
    if gru is not None:
        p.contract = p.contract.replace(gru=gru_shape(gru))
    # a GRU: {"steps": its window's, "trained": the last ones trained on the label}; windowed models: None
    steps = int(best.get_layer("gru").input.shape[1]) if gru is not None else None
    supervised = {"steps": steps, "trained": supervised_steps_for(o, steps)} if steps else None
    resolved = resolved_options(o, p, size, supervised)
    metrics = run_metrics(best, history, train_seconds, o, p, resolved)
    run = run_description(o, data_dir, p.takes, resolved)
    calibration = p.sides["train"]
    if o.final:
        calibration = _train_final(run_dir, metrics, run, o, p, log)
    else:
        (run_dir / "model_split.keras").unlink(missing_ok=True)  # left by an earlier --final run in this dir
    if gated(o):
        _add_gate(best, metrics, o, p, log)
    write_run_files(run_dir, p.contract, p.split, metrics, run, calibration, p.sides["test"], history)
    _log_result(metrics, o, train_seconds, log)
    return summary(metrics, run, p, o, run_dir)


def _train_final(run_dir: Path, metrics: dict, run: dict, o: FitOptions, p: Prepared, log) -> tuple:
    """``--final``: model.keras trained on every take, the split's kept as model_split.keras; returns the
    windows it was trained on (the converter calibrates on them)."""
    final_model, final_fit = train_final(p.sides, p.contract, o, p.kinds, metrics["best_epoch"], log,
                                         mount_deg=p.mount["max_deg"] or 180.0, mount_share=p.mount["share"])
    os.replace(run_dir / "model.keras", run_dir / "model_split.keras")
    final_model.save(run_dir / "model.keras")
    metrics["final_fit"] = run["final_fit"] = final_fit
    return all_windows(p.sides)


def _add_gate(split_model, metrics: dict, o: FitOptions, p: Prepared, log) -> None:
    """The contract's novelty gate from every person of the dataset (more people hold out better; the
    model is never scored on them through it), and its figures on the split's test people from a gate of
    the split's training people only."""
    from contract.input import gate_window, normalize
    from training.novelty import KEEP_PERCENT, STATISTICS_DEFAULT, contract_gate, gate_metrics

    keep = KEEP_PERCENT if o.gate_keep is None else o.gate_keep
    statistics = o.gate_statistics or STATISTICS_DEFAULT
    gate = contract_gate(p.takes, p.contract, o.seed, keep, statistics)
    if gate is None:
        print("novelty gate: none (it holds people out in turn and needs at least 2)", file=log)
        return
    p.contract = p.contract.replace(novelty_gate=gate)
    split_gate = contract_gate(p.split.train, p.contract, o.seed, keep, statistics)
    x, y = p.sides["test"]
    x = normalize(x, p.contract)
    figures = (gate_metrics(split_model, split_gate, x, y, p.contract.normalization, gate_window(x, p.contract))
               if split_gate else {})
    metrics["novelty_gate"] = {"statistics": statistics, "keep_percent": keep,
                               "people": sum(map(len, gate.record["held_out_groups"])), **figures}
    if figures:
        print(f"novelty gate: a gate of the training people alone keeps {100 * figures['test_windows_kept']:.1f} % of "
              f"the test people's windows (accuracy with the rest counted wrong {figures['accuracy_gated']:.3f}); the "
              f"run's gate holds out all {metrics['novelty_gate']['people']} people in turn, keeping {keep:g} % of their "
              "windows", file=log)


def _log_result(metrics: dict, o: FitOptions, train_seconds: float, log) -> None:
    averaged = metrics["average_last_epochs"]
    kept = (f"weights: the mean of epochs {metrics['epochs_run'] - averaged + 1}-{metrics['epochs_run']}" if averaged > 1
            else f"best epoch {metrics['best_epoch']} of {metrics['epochs_run']}")
    print(f"test accuracy {metrics['accuracy']:.3f}, macro-F1 {metrics['macro_f1']:.3f} on {metrics['n_test']} windows "
          f"({kept}, {train_seconds:.1f} s; "
          f"{metrics['params']} parameters, {metrics['macs']} MACs per inference)", file=log)
    if o.final:
        print(f"that is model_split.keras; the deployable model.keras was trained on all {metrics['final_fit']['n_windows']} "
              f"windows of every take for {metrics['final_fit']['epochs']} epochs", file=log)


def summary(metrics: dict, run: dict, p: Prepared, o: FitOptions, run_dir: Path) -> dict:
    """The JSON ``nanogest fit`` prints."""
    return {
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro_f1"],
        "n_test": metrics["n_test"],
        "split": p.split.kind,
        "test_groups": p.split.test_groups,
        "arch": o.arch,
        "params": metrics["params"],
        "macs": metrics["macs"],
        "epochs_run": metrics["epochs_run"],
        "train_seconds": metrics["train_seconds"],
        "augment": list(p.kinds),
        "rate_hz": p.contract.rate_hz,
        "window": p.contract.window,
        "labels": list(p.contract.labels),
        "dataset_sha256": run["dataset"]["sha256"],
        "run_dir": str(run_dir),
        **({"final_fit": {k: metrics["final_fit"][k] for k in ("deployable_model", "evaluated_model", "epochs",
                                                               "n_windows")}} if o.final else {}),
    }
