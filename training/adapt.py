"""``python -m training adapt BASE_RUN_DIR PERSON_DATA_DIR --out RUN_DIR``: make a trained model one person's.

A model trained on other people can be near chance for the next person (another style,
a board strapped on another way) while a few of that person's takes are enough to fix
it. Adapting keeps the base run's contract unchanged (labels, rate, channel order,
window, normalization: ``contract.json`` is copied byte for byte; only a novelty gate that would turn
away more of the person's windows than of its own people's gets a higher level), so the adapted run
converts and flashes like any run. Of every label the first ``takes_per_label`` takes
(in recording order) fine-tune the base model (``training.adapt_fit``); the person's
other takes are held out, and both the base and the adapted model are scored on them,
and on the base run's own test windows (does the model forget the people it knew?).

The run directory holds the files of ``training fit`` (model.keras, contract.json,
windows.npz, split.json, metrics.json, run.json, history.png, confusion.png) and
adapt.json: the base run (path, model hash) and the takes used and held out.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from contract.document import Contract, ContractError
from contract.run_dir import (ADAPT_FILE, CONTRACT_FILE, METRICS_FILE, MODEL_FILE, REPORT_FILE, RUN_FILE, SPLIT_FILE,
                              WINDOWS_FILE,
                              Windows, copy_contract, read_contract, read_record, read_windows, write_record,
                              write_windows)
from training import TrainingError
from training.adapt_fit import (ADAPT_LEARNING_RATE, TRAIN_LAYERS, AdaptOptions, adapt_learning_rate, check_adapt_options,
                                fine_tune, replay_pool)
from training.data import load_dataset, windows_for
from training.trainer import _keras, score
from training.report import plot_confusion, plot_history
from training.run_info import dataset_sha256, library_versions

CHECKPOINT_NAME = ".adapted.keras"


# ------------------------------------------------------------------------- base run


def read_base_run(base_dir: Path) -> tuple[Contract, Windows]:
    """The base run's contract and its windows.npz arrays; ``TrainingError`` if it is not a run."""
    for name in (MODEL_FILE, CONTRACT_FILE, WINDOWS_FILE):
        if not (base_dir / name).is_file():
            raise TrainingError(f"{base_dir}: has no {name}; BASE_RUN_DIR must be a run directory written by "
                                "'nanogest fit'")
    try:
        contract = read_contract(base_dir)
        return contract, read_windows(base_dir, contract)
    except ContractError as e:
        raise TrainingError(f"{e} (train the base run again)") from None


def base_last_steps(base_dir: Path) -> int:
    """The last steps of a GRU window the base run trained on the label (metrics.json
    ``supervised_steps``): the fine-tuning learns the same way; 1 for windowed models and older runs."""
    try:
        supervised = read_record(base_dir, METRICS_FILE).get("supervised_steps") or {}
    except (ContractError, AttributeError):
        return 1
    return max(1, int(supervised.get("trained") or 1))


def base_model_identity(base_dir: Path) -> dict:
    """Path and hash of the base model: report.json's ``model_hash`` (of the int8 model the converter
    made) when the run was converted, else the sha256 of model.keras (always recorded too)."""
    sha = hashlib.sha256((base_dir / "model.keras").read_bytes()).hexdigest()
    identity = {"run_dir": str(base_dir.resolve()), "model_keras_sha256": sha,
                "model_hash": sha, "model_hash_kind": "sha256 of model.keras"}
    if (base_dir / REPORT_FILE).is_file():
        try:
            model_hash = read_record(base_dir, REPORT_FILE).get("model_hash")
        except (ContractError, AttributeError):  # a damaged report: the sha256 of model.keras stands
            model_hash = None
        if model_hash:
            identity.update(model_hash=model_hash, model_hash_kind="report.json model_hash (FNV-1a of model_int8.tflite)")
    return identity


# ------------------------------------------------------------------- person's takes


def choose_takes(takes: list, contract: Contract, takes_per_label: int) -> tuple[list, list, list[str]]:
    """(takes to adapt on, takes held out, base labels without any take). Labels the base model
    does not know are refused, naming them and one of their files."""
    known = set(contract.labels)
    unknown = sorted({t.meta.label for t in takes} - known)
    if unknown:
        first = next(t for t in takes if t.meta.label in unknown)
        raise TrainingError(f"label(s) {', '.join(unknown)} (e.g. {first.csv_path}) are not known to the base model "
                            f"({', '.join(contract.labels)}); adapting cannot add labels: move those takes out "
                            "of PERSON_DATA_DIR, or train a new run with them")
    used, held = [], []
    for label in contract.labels:
        mine = sorted((t for t in takes if t.meta.label == label), key=lambda t: (t.meta.session, str(t.csv_path)))
        used += mine[:takes_per_label]
        held += mine[takes_per_label:]
    missing = [label for label in contract.labels if not any(t.meta.label == label for t in takes)]
    return used, held, missing


def _take_names(takes: list, data_dir: Path) -> list[str]:
    root = Path(data_dir).resolve()
    names = []
    for t in takes:
        p = Path(t.csv_path).resolve()
        names.append(p.relative_to(root).as_posix() if p.is_relative_to(root) else str(p))
    return names


# --------------------------------------------------------------------------- adapt


def _accuracy(model, x, y, contract) -> dict | None:
    return score(model, x, y, contract) if len(x) else None


def _widen_gate(run_dir, contract: Contract, x_new: np.ndarray, log) -> None:
    """The adapted run's novelty gate keeps the person's windows as it kept its own people's."""
    from contract.input import gate_window, normalize
    from contract.run_dir import write_contract
    from training.novelty import widened_gate

    gate = widened_gate(contract.novelty_gate, gate_window(normalize(x_new, contract), contract) if len(x_new) else x_new,
                        contract.normalization)
    if gate is None:
        return
    write_contract(run_dir, contract.replace(novelty_gate=gate))
    before = gate.record["widened_for_adapting"]
    print(f"novelty gate: it kept {100 * before['person_windows_kept_before']:.0f} % of the person's windows; its level "
          f"goes from {before['level_before']:.1f} to {gate.level:.1f} so it keeps {gate.record['keep_percent']:g} % "
          "(contract.json's novelty_gate)", file=log)


def taught_labels(contract, y_train: np.ndarray) -> list[str]:
    """The labels training windows taught: all but an unknown label only the novelty gate reports."""
    gate_only = contract.novelty_gate is not None and not (np.asarray(y_train) == contract.unknown_index).any()
    return [label for label in contract.labels if not (gate_only and label == contract.unknown_label)]


def adapt(base_dir, person_dir, run_dir, options: AdaptOptions | None = None, log=None) -> dict:
    """Adapt the base run to the person; write ``run_dir`` and return the summary printed on stdout."""
    log = log or sys.stderr
    o = options or AdaptOptions()
    check_adapt_options(o)
    base_dir, run_dir = Path(base_dir), Path(run_dir)
    if run_dir.resolve() == base_dir.resolve():
        raise TrainingError(f"--out {run_dir} is the base run itself; choose a new directory")
    if run_dir.exists() and not run_dir.is_dir():
        raise TrainingError(f"{run_dir} is a file; --out needs a directory")
    if (run_dir / "model.keras").exists() and not o.overwrite:
        raise TrainingError(f"{run_dir} already holds a model; choose another --out or pass --overwrite")
    contract, base = read_base_run(base_dir)
    o = replace(o, learning_rate=adapt_learning_rate(o, contract.arch))  # resolved, so run.json records the step taken
    takes = load_dataset(person_dir, include_flagged=o.include_flagged)
    used, held, missing = choose_takes(takes, contract, o.takes_per_label)
    taught = taught_labels(contract, base.y_train)
    missing = [label for label in missing if label in taught]
    subjects = sorted({t.meta.subject for t in takes})
    if len(subjects) > 1:
        print(f"note: PERSON_DATA_DIR holds {len(subjects)} subjects ({', '.join(subjects)}); adapting to all of "
              "them as one person", file=log)
    if missing:
        print(f"note: no takes of {', '.join(missing)} in {person_dir}; the model keeps what the base run learned "
              f"for {'it' if len(missing) == 1 else 'them'} (record some to adapt those too)", file=log)
    x_new, y_new = windows_for(used, contract)
    x_test, y_test = windows_for(held, contract)
    rng = np.random.default_rng(o.seed)
    x_replay, y_replay = replay_pool(base.x_train, base.y_train, o.replay_windows, rng)
    takes_used = {label: sum(t.meta.label == label for t in used) for label in taught}
    takes_held = {label: sum(t.meta.label == label for t in held) for label in taught}
    print(f"adapting {base_dir} to {', '.join(subjects)}: {len(used)} takes ({len(x_new)} windows) to adapt on, "
          f"{len(held)} held out ({len(x_test)} windows), {len(x_replay)} base windows replayed; "
          f"train layers: {o.train_layers}", file=log)

    keras = _keras()
    base_model = keras.models.load_model(str(base_dir / "model.keras"))
    before = _accuracy(base_model, x_test, y_test, contract)
    before_base = _accuracy(base_model, base.x_test, base.y_test, contract)
    model = keras.models.load_model(str(base_dir / "model.keras"))
    last_steps = base_last_steps(base_dir)
    history, trainable, seconds = fine_tune(model, x_new, y_new, x_replay, y_replay, contract, o, log,
                                            last_steps=last_steps)
    after = _accuracy(model, x_test, y_test, contract)
    after_base = _accuracy(model, base.x_test, base.y_test, contract)

    run_dir.mkdir(parents=True, exist_ok=True)
    model.save(str(run_dir / CHECKPOINT_NAME))
    os.replace(run_dir / CHECKPOINT_NAME, run_dir / "model.keras")
    copy_contract(base_dir, run_dir)  # unchanged, byte for byte, unless the novelty gate widens
    _widen_gate(run_dir, contract, x_new, log)
    no_test = len(x_test) == 0
    if no_test:
        print("note: every take was used to adapt, none is left to measure the adapted model on the person; "
              f"record more than {o.takes_per_label} takes per label to see the gain (x_test in windows.npz holds "
              "the base run's test windows so the run still converts)", file=log)
    x_test_saved, y_test_saved = (base.x_test, base.y_test) if no_test else (x_test, y_test)
    write_windows(run_dir, (np.concatenate([x_new, x_replay]), np.concatenate([y_new, y_replay])),
                  (x_test_saved, y_test_saved))
    acc = lambda m: None if m is None else m["accuracy"]  # noqa: E731
    summary = {
        "base_accuracy": acc(before), "adapted_accuracy": acc(after), "last_steps_trained": last_steps,
        "base_accuracy_on_base_test": acc(before_base), "adapted_accuracy_on_base_test": acc(after_base),
        "takes_used": takes_used, "takes_held_out": takes_held, "labels_without_takes": missing,
        "n_test": int(len(x_test)), "n_adapt_windows": int(len(x_new)), "n_replay_windows": int(len(x_replay)),
        "subjects": subjects, "train_layers": trainable, "train_seconds": round(seconds, 2),
        "base_run": str(base_dir), "run_dir": str(run_dir),
    }
    _write_records(run_dir, base_dir, person_dir, contract, o, used, held, takes, missing, summary,
                   before, after, history, x_test_saved, y_test_saved, model)
    print(f"accuracy on the person's {len(held)} held-out takes: base {_fmt(acc(before))} -> adapted "
          f"{_fmt(acc(after))}; on the base run's test windows: {_fmt(acc(before_base))} -> {_fmt(acc(after_base))} "
          f"({seconds:.1f} s)", file=log)
    return summary


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _write_records(run_dir, base_dir, person_dir, contract, o, used, held, takes, missing, summary,
                   before, after, history, x_test, y_test, model) -> None:
    adapt_record = {
        "base": base_model_identity(base_dir),
        "person_data": {"dir": str(Path(person_dir).resolve()), "sha256": dataset_sha256(person_dir, takes),
                        "subjects": summary["subjects"]},
        "takes_used": _take_names(used, person_dir),
        "takes_held_out": _take_names(held, person_dir),
        "takes_per_label": o.takes_per_label,
        "labels_without_takes": missing,
        "options": asdict(o),
    }
    write_record(run_dir, ADAPT_FILE, adapt_record)
    split = {"kind": "adapt", "adapt_takes": adapt_record["takes_used"], "test_takes": adapt_record["takes_held_out"],
             "test": "the person's held-out takes" if held else "the base run's test windows (no take held out)",
             "replayed_base_windows": summary["n_replay_windows"]}
    write_record(run_dir, SPLIT_FILE, split)
    run = {"versions": library_versions(),
           "dataset": {"dir": adapt_record["person_data"]["dir"], "sha256": adapt_record["person_data"]["sha256"],
                       "takes": len(takes)},
           "config": {"command": "adapt", **asdict(o)}, "adapted_from": adapt_record["base"]}
    write_record(run_dir, RUN_FILE, run)
    metrics = after if after is not None else score(model, x_test, y_test, contract)
    metrics = dict(metrics, split="adapt", base_accuracy=summary["base_accuracy"],
                   base_accuracy_on_base_test=summary["base_accuracy_on_base_test"],
                   adapted_accuracy_on_base_test=summary["adapted_accuracy_on_base_test"],
                   base_per_class=None if before is None else before["per_class"],
                   n_train=summary["n_adapt_windows"] + summary["n_replay_windows"],
                   epochs_run=o.epochs, train_seconds=summary["train_seconds"], arch=contract.arch,
                   seed=o.seed, takes_used=summary["takes_used"])
    write_record(run_dir, METRICS_FILE, metrics)
    plot_history(history, run_dir / "history.png")
    title = (f"adapted, person's held-out takes: accuracy {metrics['accuracy']:.3f}" if held
             else f"adapted, base run's test windows: accuracy {metrics['accuracy']:.3f}")
    plot_confusion(np.array(metrics["confusion"]), contract.labels, run_dir / "confusion.png", title)


# ------------------------------------------------------------------------- command


ADAPT_DESCRIPTION = (
    "Fine-tune BASE_RUN_DIR's model on a few takes of one person (PERSON_DATA_DIR, e.g. recorded with "
    "'nanogest record --labels punch,flex,wave,circle,idle --takes 5'). The first K takes of each label "
    "adapt the model (oversampled, strongly augmented, mixed with replayed base windows so other people are not "
    "forgotten); the rest are held out and scored with both the base and the adapted model. The contract is copied "
    "unchanged, so RUN_DIR converts and flashes like any run. JSON summary on stdout (base_accuracy, "
    "adapted_accuracy, base_accuracy_on_base_test, adapted_accuracy_on_base_test, takes_used, n_test, ...).")


def add_adapt_parser(sub) -> argparse.ArgumentParser:
    """Add the ``adapt`` command to a subparsers object; run it with ``run_adapt(args)``."""
    a = sub.add_parser("adapt", help="fine-tune a trained run on a few takes of one person", description=ADAPT_DESCRIPTION,
                       epilog="example: %(prog)s runs/r1 me --out runs/r1-me")
    a.add_argument("base_run", type=Path, metavar="BASE_RUN_DIR", help="run directory written by 'nanogest fit'")
    a.add_argument("person_data", type=Path, metavar="PERSON_DATA_DIR", help="the person's dataset directory")
    a.add_argument("--out", type=Path, required=True, metavar="RUN_DIR", help="run directory to write")
    d = AdaptOptions()
    a.add_argument("--takes-per-label", type=int, default=d.takes_per_label, metavar="K",
                   help=f"takes of each label used to adapt, in recording order; the rest are held out to measure "
                   f"(default {d.takes_per_label})")
    a.add_argument("--epochs", type=int, default=d.epochs, help=f"fine-tuning epochs (default {d.epochs})")
    a.add_argument("--oversample", type=int, default=d.oversample,
                   help=f"augmented copies of each of the person's windows per epoch (default {d.oversample})")
    a.add_argument("--replay", type=int, default=d.replay_windows, metavar="N",
                   help=f"base training windows replayed against forgetting; 0 for none (default {d.replay_windows})")
    a.add_argument("--train-layers", choices=TRAIN_LAYERS, default=d.train_layers,
                   help="what may change: all layers, late (first layer frozen) or head (classifier only) "
                   f"(default {d.train_layers})")
    a.add_argument("--learning-rate", type=float, default=d.learning_rate,
                   help=f"Adam learning rate of the fine-tuning (default: the base run's family's; "
                        f"{ADAPT_LEARNING_RATE:g} unless the family has its own)")
    a.add_argument("--batch-size", type=int, default=d.batch_size,
                   help=f"windows per training batch (default {d.batch_size})")
    a.add_argument("--seed", type=int, default=d.seed, help=f"random seed (default {d.seed})")
    a.add_argument("--overwrite", action="store_true", help="allow replacing a model already in RUN_DIR")
    a.add_argument("--include-flagged", action="store_true", help="also use takes flagged for lost samples or cut short")
    return a


def options_from_args(args) -> AdaptOptions:
    return AdaptOptions(takes_per_label=args.takes_per_label, epochs=args.epochs, oversample=args.oversample,
                        replay_windows=args.replay, batch_size=args.batch_size, learning_rate=args.learning_rate,
                        train_layers=args.train_layers, seed=args.seed, overwrite=args.overwrite,
                        include_flagged=args.include_flagged)


def run_adapt(args) -> dict:
    """The ``adapt`` command's result (raises ``TrainingError`` on bad input)."""
    return adapt(args.base_run, args.person_data, args.out, options_from_args(args))


def main_adapt(argv=None) -> int:
    """``python -m training.adapt ...`` (same as ``nanogest adapt ...``)."""
    p = argparse.ArgumentParser(prog="python -m training")
    add_adapt_parser(p.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = p.parse_args(["adapt", *(sys.argv[1:] if argv is None else argv)])
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    try:
        result = run_adapt(args)
    except TrainingError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: {e.filename or args.out}: {e.strerror or e}; check the path and free disk space", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main_adapt())
