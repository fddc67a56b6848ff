"""``python -m boardtools calibrate RUN_DIR DATA_DIR``: the post-processing chosen on people the model
did not train on.

A model is far more confident on the people it trained on than on anyone new (docs/decisions.md,
"Calibration on held-out training people"), so thresholds chosen on its own training windows reject new
people's gestures first. Here the training people are held out in turn: for each group of people, a model
is trained as RUN_DIR's was (its run.json options) on the others, converted to int8 with the converter,
and the held-out people's takes are laid into streams (boardtools.streams) and scored by that int8 model
in TFLM (a GRU run's one-step model stepped as its board steps it). The streams hold their gestures, their
recorded other motions (any take whose label the model lacks), and, since most people record none,
stand-in other motions made from their own gestures (training.negatives: reversed, redirected, two halves
joined, wandering). ``stream_eval.tune`` then chooses the threshold, agreement, refractory time, motion
gate, unknown threshold and the novelty gate's level (RUN_DIR's gate on every group's
windows) on all groups' streams together, and the choice and its figures go into RUN_DIR/contract.json
(``postprocess_calibration``); ``converter convert`` puts both in the header.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from boardtools.replay import board_windows, host_window_parts, input_tensors, load_run
from boardtools.stream_eval import (DEFAULT_TARGET_FA, StreamRun, load_takes, log, low_recall_warning, step_stream_run,
                                   tune)
from boardtools.streams import Stream, build_stream, rest_stream, window_ends
from capture.errors import CaptureError
from contract.document import Contract, ContractError
from contract.pipeline import IDLE_LABEL, UNKNOWN_LABEL
from contract.resample import IMU_SCALES, values_to_counts
from contract.run_dir import RUN_FILE, read_contract, read_record, write_contract

DEFAULT_GROUPS = 3
DEFAULT_REST_MINUTES = 3.0  # of rest alone per group
STAND_IN_KINDS = ("reverse", "redirect", "chimera", "wander")
STAND_IN_PREFIX = "made:"  # the label of a stand-in other motion: made:reverse, ...
STREAM_SCALES = IMU_SCALES["LSM9DS1"]  # the counts the streams are scored in (the motion gate reads them)


def person_groups(subjects: list[str], groups: int, seed: int) -> list[list[str]]:
    """``subjects`` shuffled by ``seed`` and dealt into ``groups`` groups (fewer when there are fewer people),
    as the novelty gate deals them (training.novelty.person_groups); fewer than 2 people is an error here."""
    from training.novelty import person_groups as dealt

    dealt_groups = dealt(subjects, groups, seed)
    if not dealt_groups:
        raise CaptureError(f"calibration holds people out in turn and needs at least 2 people; the data has "
                           f"{len(subjects)} ({', '.join(subjects) or 'none'}): record more people, or tune with "
                           "`python -m boardtools stream --tune` on people the model never saw")
    return dealt_groups


def stand_in_others(gestures: list[tuple[np.ndarray, str]], rng: np.random.Generator,
                    kinds=STAND_IN_KINDS) -> list[tuple[np.ndarray, str]]:
    """One other motion made from each gesture (samples, label), the kinds in turn; (samples, made:KIND)."""
    from training import negatives  # training's numpy-only module; keeps Keras off this import

    out = []
    for i, (samples, label) in enumerate(gestures):
        kind = kinds[i % len(kinds)]
        x, y = samples[None].astype(np.float32), None
        if kind == "chimera":  # joined with another label's gesture, cut to the shorter of the two
            partners = [s for s, lab in gestures if lab != label] or [s for s, _ in gestures]
            partner = partners[int(rng.integers(len(partners)))]
            n = min(len(samples), len(partner))
            x, y = np.stack([samples[:n], partner[:n]]).astype(np.float32), np.array([0, 1])
        made = negatives.make_kind(kind, x, rng, y)[0]
        out.append((made, STAND_IN_PREFIX + kind))
    return out


def calibration_streams(takes, gestures: list[str], rate_hz: float, rng: np.random.Generator, resample,
                        stand_ins=STAND_IN_KINDS, idle_label: str = IDLE_LABEL) -> list[Stream]:
    """One stream per person: their gestures, their recorded other motions and (``stand_ins``) one made
    other motion per gesture, in random order between rest."""
    by_subject: dict[str, list] = {}
    for take in takes:
        if take.meta.label != idle_label:
            by_subject.setdefault(take.meta.subject, []).append(take)
    streams = []
    for subject in sorted(by_subject):
        pieces = [(resample(t, rate_hz), t.meta.label, "gesture" if t.meta.label in gestures else "other",
                   str(t.csv_path)) for t in by_subject[subject]]
        mine = [(p[0], p[1]) for p in pieces if p[2] == "gesture"]
        if stand_ins and mine:
            pieces += [(s, label, "other", "stand-in") for s, label in stand_in_others(mine, rng, tuple(stand_ins))]
        order = rng.permutation(len(pieces))
        streams.append(build_stream([pieces[i] for i in order], rate_hz, rng, subject))
    return streams


def scored_runs(streams: list[Stream], contract: Contract, score, accel_weight: float) -> list[StreamRun]:
    """Each stream with its windows' int8 scores, ``score(stream, counts)`` (or, for tuning the novelty gate's
    level, host_window_parts' three), and the motion measure the board's gate reads, without a board (the
    streams' counts are STREAM_SCALES's)."""
    from converter.postprocess import window_motion

    window, hop = contract.window, contract.hop
    runs = []
    for s in streams:
        counts = values_to_counts(s.samples, *STREAM_SCALES)
        motion = window_motion(board_windows(counts, window, hop), *STREAM_SCALES, accel_weight)
        scored = score(s, counts)
        scores, model_q, ratio = scored if isinstance(scored, tuple) else (scored, None, None)
        runs.append(StreamRun(s, scores, motion, window_ends(len(counts), window, hop), [], model_q, ratio))
    return runs


def laptop_runs(streams: list[Stream], contract: Contract, model_bytes: bytes, accel_weight: float) -> list[StreamRun]:
    """Each stream scored by the int8 model in the laptop's TFLM, as the board would score it (no board); a
    step model (a GRU) stepped as its board steps it (stream_eval.step_stream_run)."""
    from converter.gru.stepping import step_settings
    from converter.int8.flatbuffer import read_io

    step = step_settings(model_bytes, contract)
    if step is not None:
        return [step_stream_run(s, values_to_counts(s.samples, *STREAM_SCALES), contract, STREAM_SCALES, model_bytes,
                                step, accel_weight) for s in streams]
    inp, _ = read_io(model_bytes)

    def score(_stream, counts):
        x = input_tensors(counts, contract, STREAM_SCALES, (inp.scale, inp.zero_point))
        return host_window_parts(model_bytes, x, contract, (inp.scale, inp.zero_point))

    return scored_runs(streams, contract, score, accel_weight)


def fold_options(run_dir: Path, group: list[str], epochs: int | None, rate_hz: float | None = None):
    """RUN_DIR's training options (run.json) with ``group`` held out and no final model, at the rate and
    width RUN_DIR's model came to (fit's defaults may have changed since it was trained)."""
    from training.fit import FitOptions

    path = run_dir / RUN_FILE
    try:
        described = read_record(run_dir, RUN_FILE)
        config, resolved = described["config"], described.get("resolved") or {}
    except (ContractError, KeyError, TypeError, AttributeError) as e:
        raise CaptureError(f"{path}: cannot read the run's training options ({e}); calibrate a run made by "
                           "`python -m training fit`") from None
    known = {f.name for f in dataclasses.fields(FitOptions)}
    options = {k: v for k, v in config.items() if k in known}
    if isinstance(options.get("negatives"), list):
        options["negatives"] = tuple(options["negatives"])
    options.update(test_subjects=list(group), final=False, overwrite=True)
    if rate_hz is not None:
        options["rate_hz"] = float(rate_hz)
    if options.get("width") is None and resolved.get("width") is not None:
        options["width"] = int(resolved["width"])
    if epochs is not None:
        options["epochs"] = epochs
    return FitOptions(**options)


def fold_model(data_dir: Path, run_dir: Path, group: list[str], work: Path, epochs: int | None,
               run_contract: Contract) -> bytes:
    """The int8 model of RUN_DIR's recipe trained without ``group``, read and quantized as ``nanogest convert``
    reads and quantizes the run (converter.run_dir, the run's kind from converter.path: a windowed model, or a
    GRU's one-step model)."""
    from converter import ConverterError
    from converter.path import model_kind
    from converter.run_dir import load_contract, load_model, load_windows, normalize
    from training import TrainingError
    from training.fit import fit

    fold_dir = work / ("without_" + "_".join(group))
    try:
        fit(data_dir, fold_dir, fold_options(run_dir, group, epochs, run_contract.rate_hz), log=sys.stderr)
    except TrainingError as e:
        raise CaptureError(f"training without {', '.join(group)}: {e}") from None
    try:
        contract = load_contract(fold_dir)
        shape = lambda c: (c.rate_hz, c.window, c.hop, list(c.labels), c.gru)  # noqa: E731
        if shape(contract) != shape(run_contract):
            raise CaptureError(f"the model trained without {', '.join(group)} reads {shape(contract)[:3]} (rate, "
                               f"window, hop), labels {contract.labels} and GRU {contract.gru}, RUN_DIR's "
                               f"{shape(run_contract)[:3]}, {run_contract.labels} and {run_contract.gru}: calibrate "
                               "RUN_DIR on the dataset it was trained on")
        model, windows = load_model(fold_dir, contract), load_windows(fold_dir, contract)
        return model_kind(contract, model).quantize(model, contract, normalize(windows.x_train, contract)).model_bytes
    except ConverterError as e:
        raise CaptureError(str(e)) from None


def class_scores(model_bytes: bytes):
    """The int8 model's class-score tensor: a windowed model's output, a step model's scores output."""
    from converter.gru.stepping import is_step_model, read_step_io
    from converter.int8.flatbuffer import read_io

    return read_step_io(model_bytes).scores if is_step_model(model_bytes) else read_io(model_bytes)[1]


def calibrate(run_dir: Path, data_dir: Path, groups: int = DEFAULT_GROUPS, target_fa: float = DEFAULT_TARGET_FA,
              rest_minutes: float = DEFAULT_REST_MINUTES, seed: int = 0, stand_ins=STAND_IN_KINDS,
              epochs: int | None = None, work_dir: Path | None = None) -> dict:
    """Choose RUN_DIR's post-processing on its training people held out in turn, and write it into
    RUN_DIR/contract.json; the summary."""
    from converter.postprocess import settings_from_contract
    from training.data import resample

    contract, model_bytes = load_run(run_dir)
    out = class_scores(model_bytes)
    base = settings_from_contract(contract, (out.scale, out.zero_point))
    labels = list(contract.labels)
    idle = contract.idle_label or IDLE_LABEL
    gestures = [label for label in labels if label not in (idle, UNKNOWN_LABEL)]
    takes = load_takes(data_dir, labels)
    people = person_groups(sorted({t.meta.subject for t in takes if t.meta.label in gestures}), groups, seed)
    rng = np.random.default_rng(seed)
    runs = []
    with tempfile.TemporaryDirectory(prefix="nanogest-calibrate-") as tmp:
        work = Path(work_dir) if work_dir is not None else Path(tmp)
        for k, group in enumerate(people, 1):
            log(f"group {k}/{len(people)}: training without {', '.join(group)}")
            fold_bytes = fold_model(data_dir, run_dir, group, work, epochs, contract)
            fold_out = class_scores(fold_bytes)
            if (fold_out.scale, fold_out.zero_point) != (out.scale, out.zero_point):
                raise CaptureError("a held-out model's output quantization differs from RUN_DIR's model's; "
                                   "their thresholds would not mean the same")
            held = [t for t in takes if t.meta.subject in group]
            streams = calibration_streams(held, gestures, contract.rate_hz, rng, resample, stand_ins, idle)
            if rest_minutes > 0:
                streams.append(rest_stream(rest_minutes * 60.0, contract.rate_hz, rng))
            runs += laptop_runs(streams, contract, fold_bytes, base.motion_accel_weight)
            log(f"group {k}/{len(people)}: {sum(len(s.items) for s in streams)} motions scored")
    chosen, points = tune(base, contract, runs, target_fa)
    met = (chosen["false_activations_per_other"] or 0) <= target_fa and chosen["false_activations_in_rest"] == 0
    record = {"method": "training people held out in turn", "groups": people, "data": str(data_dir),
              "stand_in_other_motions": list(stand_ins), "target_false_activations_per_other": target_fa,
              "target_met": met, "figures": {k: chosen[k] for k in ("recall", "wrong_or_repeat_per_gesture",
                                                                     "false_activations_per_other",
                                                                     "false_activations_in_rest")}}
    write_calibration(run_dir, chosen, record, base.unknown_index >= 0)
    return {"run_dir": str(run_dir), "groups": people, "chosen": chosen, "target_met": met,
            "windows": int(sum(len(r.ends) for r in runs)), "points": len(points)}


def write_calibration(run_dir: Path, chosen: dict, record: dict, has_unknown: bool) -> None:
    """The chosen post-processing, and how it was chosen, into RUN_DIR/contract.json (atomically)."""
    from boardtools.stream_eval import apply_choice

    contract = apply_choice(read_contract(run_dir), chosen, has_unknown)
    write_contract(run_dir, contract.replace(postprocess_calibration=record))


def main_calibrate(a) -> int:
    if a.target_fa < 0:
        raise CaptureError(f"--target-fa is a rate of false activations per other motion (0 or more), not {a.target_fa}")
    kinds = () if a.stand_ins == "none" else tuple(k for k in a.stand_ins.split(",") if k)
    bad = [k for k in kinds if k not in STAND_IN_KINDS + ("shake",)]
    if bad:
        raise CaptureError(f"unknown stand-in kind(s) {', '.join(bad)}; choose from "
                           f"{','.join(STAND_IN_KINDS + ('shake',))} or 'none'")
    s = calibrate(a.run_dir, a.data_dir, a.groups, a.target_fa, a.rest_minutes, a.seed, kinds, a.epochs)
    c = s["chosen"]
    log(("chose" if s["target_met"] else f"no setting reaches {a.target_fa:g} false activations per other motion; "
         "chose the fewest mistakes:")
        + f" threshold {c['score_threshold']:g}, agreement {c['agreement']}, refractory {c['refractory_s']:g} s, "
        f"motion gate {c['motion_gate']:g}, unknown threshold {c['unknown_threshold']}, novelty gate's level "
        f"x{c['gate_factor']:g}; on the held-out people: recall "
        f"{c['recall']:.3f}, wrong or repeated {c['wrong_or_repeat_per_gesture']:.3f} per gesture, "
        f"{c['false_activations_per_other']:.3f} false activations per other motion, {c['false_activations_in_rest']} in rest. "
        f"Written to {a.run_dir / 'contract.json'}; run `nanogest convert {a.run_dir}` to put it in the header")
    if warning := low_recall_warning(c, "the held-out people"):
        log(warning)
    print(json.dumps(s))
    return 0


def add_calibrate_parser(sub) -> None:
    p = sub.add_parser("calibrate", help="choose the post-processing on the training people held out in turn "
                                         "(trains one model per group) and write it into the contract",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="example: nanogest calibrate runs/first data --target-fa 0.1   (then: nanogest convert runs/first)")
    p.add_argument("run_dir", type=Path, help="a converted run directory (python -m converter convert)")
    p.add_argument("data_dir", type=Path, help="the dataset RUN_DIR was trained on")
    p.add_argument("--groups", type=int, default=DEFAULT_GROUPS,
                   help=f"groups of people held out in turn; one model is trained per group (default {DEFAULT_GROUPS})")
    p.add_argument("--target-fa", type=float, default=DEFAULT_TARGET_FA,
                   help=f"false activations per other motion to reach, none in rest (default {DEFAULT_TARGET_FA:g}); "
                        "when none reaches it, the setting with the fewest mistakes is chosen")
    p.add_argument("--stand-ins", default=",".join(STAND_IN_KINDS), metavar="KINDS",
                   help="other motions made from the held-out people's gestures, beside any they recorded "
                        f"(default {','.join(STAND_IN_KINDS)}; 'none': recorded ones only)")
    p.add_argument("--rest-minutes", type=float, default=DEFAULT_REST_MINUTES,
                   help=f"minutes of rest alone per group (default {DEFAULT_REST_MINUTES:g})")
    p.add_argument("--epochs", type=int, help="epochs of the held-out models (default: RUN_DIR's)")
    p.add_argument("--seed", type=int, default=0, help="the groups, the order of the motions and the stand-ins")
    p.set_defaults(func=main_calibrate)
