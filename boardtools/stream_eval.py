"""``python -m boardtools stream RUN_DIR DATA_DIR``: the model as a wearer lives it.

Builds continuous streams from DATA_DIR's takes (boardtools.streams: per person, the model's gestures and
any other motions in random order between rest, and a stretch of rest alone), streams them through a
board's recognition path (the virtual board unless ``--port``), and matches every detection the board
reports to the gesture or motion it falls in. It prints gesture recall, wrong-label and repeated
detections per gesture, and false activations per other motion and per minute of rest, and draws a
stream's timeline and the curve of false activations against missed gestures (``--plots DIR``).

A windowed model (conv1d, ds-conv1d) is scored a window every hop; a GRU's one-step model (gru, cnn-gru)
is stepped as its board steps it (windows one after another without overlap, each from h = 0, reported
at its last step: boardtools.replay.host_step_parts), and its motion is measured over the samples the
window's steps read, as its board gathers it step by step.

The laptop computes every window's int8 scores in TFLM too (checked against the board's frames), so
``--tune`` can choose the post-processing (score threshold, agreement, refractory time, motion gate, unknown
threshold, and a lower level for the novelty gate) with the board's own rules (converter.postprocess,
converter.gate) for a target rate of false activations per other motion, and write the choice into
RUN_DIR/contract.json; ``converter convert`` then puts it into the board's header. Tune on people the model
did not train on, and judge on yet others.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import sys
from pathlib import Path

import numpy as np

from boardtools.replay import (BoardLink, board_predictions, board_windows, chunk_samples, enter_replay,
                               host_step_parts, host_window_parts, input_tensors, load_run, open_board,
                               to_model_rate, virtual_board_runner)
from boardtools.streams import Figures, match, person_streams, rest_stream, window_ends
from capture.dataset import DatasetError, list_takes, read_take
from capture.errors import CaptureError
from contract.document import DEFAULT_GATE, Contract, MotionGate
from contract.pipeline import IDLE_LABEL, UNKNOWN_LABEL
from contract.run_dir import read_contract, write_contract
from contract.resample import rate_mhz, resample_counts, values_to_counts

DEFAULT_REST_MINUTES = 10.0
DEFAULT_TARGET_FA = 0.10  # false activations per other motion
# What --tune tries (every combination); the refractory time and agreement are the board's.
TUNE_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
TUNE_AGREEMENT = (1, 2, 3)
TUNE_REFRACTORY_S = (1.0, 1.5, 2.0)
TUNE_MOTION_GATE = (0.0, 40.0, 80.0)
TUNE_UNKNOWN = (None, 0.2, 0.4)
# The novelty gate's level times these (a model with a gate): a lower level rejects more windows.
TUNE_GATE_FACTORS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)  # docs/decisions.md, "Calibrating the gate's level"
LOW_RECALL = 0.5  # a tuned choice detecting fewer gestures than this is warned about


def log(message: str) -> None:
    print(f"[stream] {message}", file=sys.stderr, flush=True)


@dataclasses.dataclass
class StreamRun:
    stream: object
    scores_q: np.ndarray  # (windows, labels) laptop TFLM int8
    motion: np.ndarray  # window_motion per window (a step model's over the samples its steps read)
    ends: np.ndarray  # last sample of each window (0-based, model rate)
    board: list  # PREDICTION fields per window from the board
    model_q: np.ndarray | None = None  # the model's own int8 scores, before the novelty gate
    gate_ratio: np.ndarray | None = None  # each window's gate distance over the gate's level; None: no gate
    span: int | None = None  # samples a window reads, up to its end; None: the contract's window

    def window_span(self, contract: Contract) -> int:
        return self.span or contract.window

    def scores_at(self, gate_factor: float, unknown_index: int) -> np.ndarray:
        """The scores the board would hand its post-processing with the gate's level times ``gate_factor``."""
        from converter.gate import override

        if gate_factor == 1.0 or self.gate_ratio is None:
            return self.scores_q
        return override(self.model_q, self.gate_ratio > gate_factor, unknown_index)


def load_takes(data_dir: Path, labels: list[str]):
    try:
        takes = [read_take(p) for p in list_takes(data_dir)]
    except DatasetError as e:
        raise CaptureError(str(e)) from None
    if not any(t.meta.label in labels for t in takes):
        found = sorted({t.meta.label for t in takes}) or ["none"]
        raise CaptureError(f"{data_dir}: no takes of the model's labels ({', '.join(labels)}); found {', '.join(found)}")
    return takes


def step_stream_run(stream, counts: np.ndarray, contract: Contract, scales: tuple[float, float], model_bytes: bytes,
                    step, accel_weight: float, imu_rate_mhz: int | None = None, board: list | None = None) -> StreamRun:
    """One stream's counts (at ``imu_rate_mhz``; None: the model's rate) through a step model (a GRU) on the
    laptop as its board runs it: windows one after another without overlap, each ending at its last step,
    its motion (``accel_weight`` dps per g) over the samples its steps read (ng_inference.cpp push_step)."""
    from converter.postprocess import window_motion

    scores, model_q, ratio = host_step_parts(counts, contract, scales, model_bytes, step, imu_rate_mhz)
    at_model = to_model_rate(counts, contract, imu_rate_mhz)
    motion = window_motion(step.read_windows(at_model), *scales, accel_weight)
    return StreamRun(stream, scores, motion, step.window_ends(len(at_model)), board or [], model_q, ratio,
                     step.window_span_samples)


def run_streams(run_dir: Path, data_dir: Path, port: str | None = None, rest_minutes: float = DEFAULT_REST_MINUTES,
                seed: int = 0, board_tflm: Path | None = None):
    """Every stream through the board and the laptop's TFLM; (contract, the board's post-processing
    settings as converter.postprocess reads them, runs)."""
    from converter import ConverterError
    from converter.int8.flatbuffer import read_io  # tflite-micro (its schema) stays off the fast path
    from converter.postprocess import settings_from_contract, window_motion
    from converter.gru.stepping import step_settings
    from training.data import resample

    contract, model_bytes = load_run(run_dir)
    try:
        step = step_settings(model_bytes, contract)  # None: a windowed model
        inp, out = read_io(model_bytes) if step is None else (step.io.x, step.io.scores)
        post = settings_from_contract(contract, (out.scale, out.zero_point))
    except ConverterError as e:
        raise CaptureError(str(e)) from None
    labels = list(contract.labels)
    takes = load_takes(data_dir, labels)
    rate = contract.rate_hz
    rng = np.random.default_rng(seed)
    idle = contract.idle_label or IDLE_LABEL
    streams = person_streams(takes, [l for l in labels if l not in (idle, UNKNOWN_LABEL)], rate, rng, resample, idle)
    if rest_minutes > 0:
        streams.append(rest_stream(rest_minutes * 60.0, rate, rng))
    window, hop = contract.window, contract.hop
    period = hop if step is None else step.window_period_samples  # model samples per window
    kernels, against, env = virtual_board_runner(board_tflm) if port is None else (None, f"the board on {port}", None)
    log(against)
    runs = []
    with open_board(port, run_dir, env) as board:
        link = BoardLink(board)
        info = enter_replay(link, labels, model_bytes, run_dir)
        scales = (float(info["accel_g_per_count"]), float(info["gyro_dps_per_count"]))
        imu_mhz = int(info["rate_mhz"])
        for i, s in enumerate(streams, 1):
            counts = resample_counts(values_to_counts(s.samples, *scales), rate_mhz(rate), imu_mhz)
            frames = board_predictions(link, counts, chunk_samples(period, imu_mhz, rate_mhz(rate)))
            if step is not None:
                run = step_stream_run(s, counts, contract, scales, model_bytes, step, post.motion_accel_weight,
                                      imu_mhz, frames)
            else:
                x = input_tensors(counts, contract, scales, (inp.scale, inp.zero_point), imu_mhz)
                host, model_q, ratio = host_window_parts(model_bytes, x, contract, (inp.scale, inp.zero_point))
                at_model = to_model_rate(counts, contract, imu_mhz)
                motion = window_motion(board_windows(at_model, window, hop), *scales, post.motion_accel_weight)
                run = StreamRun(s, host, motion, window_ends(len(at_model), window, hop), frames, model_q, ratio)
            if len(frames) != len(run.scores_q):
                raise CaptureError(f"stream {i} ({s.subject}): the board answered {len(frames)} windows, "
                                   f"expected {len(run.scores_q)}")
            runs.append(run)
            log(f"stream {i}/{len(streams)} ({s.subject}): {len(s.items)} motions, {len(s.samples) / rate:.0f} s, "
                f"{sum(1 for f in frames if f.get('detected'))} detections")
        link.command("mode capture")
    return contract, post, runs


def board_figures(contract: Contract, runs: list[StreamRun]) -> tuple[Figures, list[list[str]]]:
    """The figures of what the board itself detected (its frames' ``detected``)."""
    labels, total, verdicts = list(contract.labels), Figures(), []
    for r in runs:
        det = [k for k, f in enumerate(r.board) if f.get("detected")]
        f, v = match(r.stream, r.ends[det], [labels[r.board[k]["label_index"]] for k in det], r.window_span(contract))
        total.add(f)
        verdicts.append(v)
    return total, verdicts


def laptop_figures(settings, contract: Contract, runs: list[StreamRun], gate_factor: float = 1.0) -> Figures:
    """The figures the board's rules (converter.postprocess) give with ``settings`` on the laptop's scores
    (with the novelty gate's level times ``gate_factor``)."""
    from converter.postprocess import detections

    labels, total = list(contract.labels), Figures()
    for r in runs:
        scores = r.scores_at(gate_factor, settings.unknown_index)
        det = np.flatnonzero(detections(scores, r.ends + 1, r.motion, settings))
        top = scores.argmax(axis=1)
        f, _ = match(r.stream, r.ends[det], [labels[int(top[k])] for k in det], r.window_span(contract))
        total.add(f)
    return total


def tune(base, contract: Contract, runs: list[StreamRun], target_fa: float, log_every: int = 50) -> tuple[dict, list]:
    """Every combination of TUNE_* in place of the post-processing settings ``base``; the chosen one
    (most gestures right, fewest wrong or repeated, false activations per other motion at most
    ``target_fa`` and none in rest; when none reaches that, the fewest mistakes of all kinds) and all points."""
    from converter.postprocess import UNKNOWN_THRESHOLD_OFF, refractory_samples

    has_unknown = base.unknown_index >= 0
    gated = bool(runs) and all(r.gate_ratio is not None for r in runs)
    grid = list(itertools.product(TUNE_THRESHOLDS, TUNE_AGREEMENT, TUNE_REFRACTORY_S, TUNE_MOTION_GATE,
                                  TUNE_UNKNOWN if has_unknown else (None,), TUNE_GATE_FACTORS if gated else (1.0,)))
    points = []
    for n, (thr, agree, refr, gate, unk, factor) in enumerate(grid, 1):
        change = {"score_threshold": thr, "agreement": agree, "motion_gate": gate,
                  "refractory_samples": refractory_samples(contract.rate_hz, refr)}
        if has_unknown:
            change["unknown_threshold"] = UNKNOWN_THRESHOLD_OFF if unk is None else unk
        s = laptop_figures(dataclasses.replace(base, **change), contract, runs, factor).summary()
        points.append({"score_threshold": thr, "agreement": agree, "refractory_s": refr, "motion_gate": gate,
                       "unknown_threshold": unk, "gate_factor": factor, **{k: s[k] for k in ("recall", "wrong_or_repeat_per_gesture",
                                                                     "false_activations_per_other",
                                                                     "false_activations_in_rest")}})
        if n % log_every == 0 or n == len(grid):
            log(f"tuning: {n}/{len(grid)} settings tried")
    ok = [p for p in points if (p["false_activations_per_other"] or 0) <= target_fa and p["false_activations_in_rest"] == 0]
    key = lambda p: ((p["recall"] or 0) - (p["wrong_or_repeat_per_gesture"] or 0), -(p["false_activations_per_other"] or 0))  # noqa: E731
    if ok:
        return max(ok, key=key), points
    # Out of reach: the fewest mistakes, a missed gesture, a wrong or repeated detection and a false
    # activation counting alike (the fewest false activations alone would miss nearly every gesture).
    quiet = [p for p in points if p["false_activations_in_rest"] == 0] or points
    mistakes = lambda p: (key(p)[0] - (p["false_activations_per_other"] or 0), key(p)[1])  # noqa: E731
    chosen = max(quiet, key=mistakes)
    return chosen, points


def low_recall_warning(chosen: dict, people: str) -> str | None:
    """A warning when the chosen settings miss most gestures, as the fewest mistakes can for a weak model."""
    recall = chosen.get("recall") or 0.0
    return None if recall >= LOW_RECALL else (
        f"warning: these settings detect {recall:.0%} of {people}'s gestures, so the board will miss most of them; a "
        "looser --target-fa trades false activations back for gestures, and recordings of other motions (labelled "
        "unknown) or of more people make the model itself better")


def apply_choice(contract: Contract, chosen: dict, has_unknown: bool) -> Contract:
    """``contract`` with the chosen post-processing (a tuning point) in place of its own. A gate of 0 on a
    contract without one stays no gate."""
    change = dict(score_threshold=chosen["score_threshold"], agreement=chosen["agreement"],
                  refractory_s=chosen["refractory_s"])
    gate = contract.motion_gate
    if gate is not None or chosen["motion_gate"]:
        change["motion_gate"] = MotionGate((gate or DEFAULT_GATE).accel_weight_dps_per_g, chosen["motion_gate"])
    if has_unknown:
        change["unknown_threshold"] = chosen["unknown_threshold"]
    factor = chosen.get("gate_factor", 1.0)
    if contract.novelty_gate is not None and factor != 1.0:
        g = contract.novelty_gate
        record = {**g.record, "tuned": {"level_before": g.level, "factor": factor}}
        change["novelty_gate"] = dataclasses.replace(g, level=g.level * factor, record=record)
    return contract.replace(**change)


def write_tuning(run_dir: Path, chosen: dict, target_fa: float, data_dir: Path, met: bool, has_unknown: bool) -> None:
    """The chosen post-processing, and how it was chosen, into RUN_DIR/contract.json (atomically)."""
    contract = apply_choice(read_contract(run_dir), chosen, has_unknown)
    record = {"data": str(data_dir), "target_false_activations_per_other": target_fa, "target_met": met,
              "figures": {k: chosen[k] for k in ("recall", "wrong_or_repeat_per_gesture",
                                                 "false_activations_per_other", "false_activations_in_rest")}}
    write_contract(run_dir, contract.replace(postprocess_tuning=record))


def plot_timeline(run: StreamRun, contract: Contract, verdicts: list[str], post, path: Path, seconds: float = 60.0) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s, rate = run.stream, contract.rate_hz
    n = min(len(s.samples), int(seconds * rate))
    t = np.arange(n) / rate
    labels = list(contract.labels)
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(12, 5.5), sharex=True)
    ax1.plot(t, s.samples[:n, 3:], lw=0.7)
    ax1.set_ylabel("gyro (deg/s)")
    for it in s.items:
        if it.start / rate < seconds:
            ax1.axvspan(it.start / rate, min(it.end, n) / rate, color="tab:green" if it.kind == "gesture" else "tab:gray", alpha=0.2)
            ax1.text(it.start / rate, ax1.get_ylim()[1] * 0.85, it.label, fontsize=7)
    keep = run.ends < n
    for j, label in enumerate(labels):
        ax2.plot(run.ends[keep] / rate, post.output_scale * (run.scores_q[keep, j].astype(float) - post.output_zero_point),
                 lw=0.9, label=label)
    colors = {"hit": "tab:green", "repeat": "tab:orange", "wrong": "tab:red", "false activation": "tab:red", "rest": "tab:purple"}
    det = [k for k, f in enumerate(run.board) if f.get("detected")]
    for k, v in zip(det, verdicts):
        if run.ends[k] < n:
            ax2.axvline(run.ends[k] / rate, color=colors.get(v, "k"), lw=1.5)
            ax2.text(run.ends[k] / rate, 1.02, f"{labels[run.board[k]['label_index']]} ({v})", fontsize=7, rotation=30)
    ax2.axhline(contract.score_threshold, color="k", ls=":", lw=0.8)
    ax2.set_ylabel("score")
    ax2.set_xlabel("seconds (shaded: green gestures, gray other motions; lines: detections)")
    ax2.legend(fontsize=7, loc="lower right")
    fig.suptitle(f"{s.subject}: the first {t[-1]:.0f} s of a stream")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_curve(points: list, chosen: dict | None, path: Path, target_fa: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fa = np.array([p["false_activations_per_other"] or 0 for p in points])
    miss = np.array([1 - (p["recall"] or 0) for p in points])
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.scatter(fa, miss, s=8, alpha=0.4, label="settings tried")
    order = np.argsort(fa)
    best = np.minimum.accumulate(miss[order])
    ax.step(fa[order], best, where="post", color="tab:blue", label="best miss rate at that rate")
    if chosen is not None:
        ax.scatter([chosen["false_activations_per_other"] or 0], [1 - (chosen["recall"] or 0)], color="tab:red", zorder=3,
                   label="chosen")
    ax.axvline(target_fa, color="k", ls=":", lw=0.8, label=f"target {target_fa:g}")
    ax.set_xlabel("false activations per other motion")
    ax.set_ylabel("gestures missed (share)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def evaluate(run_dir: Path, data_dir: Path, port: str | None = None, rest_minutes: float = DEFAULT_REST_MINUTES,
             seed: int = 0, plots: Path | None = None, tune_target: float | None = None,
             board_tflm: Path | None = None) -> dict:
    contract, post, runs = run_streams(run_dir, data_dir, port, rest_minutes, seed, board_tflm)
    figures, verdicts = board_figures(contract, runs)
    windows = sum(len(r.board) for r in runs)
    same = sum(1 for r in runs for k, f in enumerate(r.board) if int(r.scores_q[k, f["label_index"]]) == f["score_q"])
    unknown = post.unknown_index
    summary = {"run_dir": str(run_dir), "data_dir": str(data_dir), "streams": len(runs), "on": port or "virtual board",
               **figures.summary(), "windows": windows, "board_scores_as_laptop": same / windows if windows else None,
               # what the board said unknown for: the novelty gate or an unknown class (never a detection)
               "windows_unknown": sum(1 for r in runs for f in r.board if unknown >= 0 and f["label_index"] == unknown)}
    points, chosen = None, None
    if tune_target is not None:
        chosen, points = tune(post, contract, runs, tune_target)
        met = (chosen["false_activations_per_other"] or 0) <= tune_target and chosen["false_activations_in_rest"] == 0
        write_tuning(run_dir, chosen, tune_target, data_dir, met, post.unknown_index >= 0)
        summary["tuned"] = {**chosen, "target_met": met}
        log(("chose" if met else f"no setting reaches {tune_target:g} false activations per other motion; chose the fewest mistakes:")
            + f" threshold {chosen['score_threshold']:g}, agreement {chosen['agreement']}, refractory {chosen['refractory_s']:g} s, "
            f"motion gate {chosen['motion_gate']:g}, unknown threshold {chosen['unknown_threshold']}, novelty gate's "
            f"level x{chosen['gate_factor']:g} -> written to "
            f"{run_dir / 'contract.json'}; run `python -m converter convert {run_dir}` to put it in the board's header")
        if warning := low_recall_warning(chosen, "the streamed people"):
            log(warning)
    if plots is not None:
        plots.mkdir(parents=True, exist_ok=True)
        busiest = max(range(len(runs)), key=lambda i: len(runs[i].stream.items))
        plot_timeline(runs[busiest], contract, verdicts[busiest], post, plots / "timeline.png")
        summary["plots"] = [str(plots / "timeline.png")]
        if points is not None:
            plot_curve(points, chosen, plots / "false_activations_vs_missed.png", tune_target)
            summary["plots"].append(str(plots / "false_activations_vs_missed.png"))
    return summary


def print_table(s: dict, out=sys.stderr) -> None:
    fmt = lambda v: "-" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))  # noqa: E731
    rows = [("gestures", s["gestures"]), ("recall (right label)", s["recall"]),
            ("wrong-label per gesture", s["wrong_label_per_gesture"]), ("repeats per gesture", s["repeats_per_gesture"]),
            ("other motions", s["other_motions"]), ("false activations per other motion", s["false_activations_per_other"]),
            ("minutes of rest", s["rest_minutes"]), ("false activations in rest", s["false_activations_in_rest"]),
            ("windows the board reported unknown", f"{s['windows_unknown']} of {s['windows']}")]
    for name, v in rows:
        print(f"  {name:38s} {fmt(v)}", file=out)
    for label, v in s["false_activations_per_other_label"].items():
        print(f"    false activations per {label:24s} {v:.3f}", file=out)


def main_stream(a) -> int:
    if a.tune is not None and not 0 <= a.tune:
        raise CaptureError(f"--tune is a rate of false activations per other motion (0 or more), not {a.tune}")
    summary = evaluate(a.run_dir, a.data_dir, a.port, a.rest_minutes, a.seed, a.plots, a.tune, a.board_tflm)
    print_table(summary)
    print(json.dumps(summary))
    return 0


def add_stream_parser(sub) -> None:
    p = sub.add_parser("stream", help="continuous streams of gestures, other motions and rest through the board: "
                                      "recall, wrong-label, repeats, false activations; --tune the post-processing",
                       description=__doc__, formatter_class=__import__("argparse").RawDescriptionHelpFormatter)
    p.add_argument("run_dir", type=Path, help="a converted run directory (python -m converter convert)")
    p.add_argument("data_dir", type=Path, help="takes of people the model never trained on: the model's gestures, "
                                               "and other motions under any other label")
    p.add_argument("--port", help="a real board's serial port (default: a virtual board running RUN_DIR)")
    p.add_argument("--rest-minutes", type=float, default=DEFAULT_REST_MINUTES,
                   help=f"minutes of rest alone to stream as well (default {DEFAULT_REST_MINUTES:g})")
    p.add_argument("--seed", type=int, default=0, help="the order of the motions and the rest's noise")
    p.add_argument("--plots", type=Path, help="write timeline.png (and with --tune the curve) into this directory")
    p.add_argument("--tune", type=float, metavar="FA", nargs="?", const=DEFAULT_TARGET_FA,
                   help="choose the post-processing (and the novelty gate's level) for at most FA false activations "
                        f"per other motion (default {DEFAULT_TARGET_FA:g}) and none in rest, and write it into "
                        "RUN_DIR/contract.json")
    p.add_argument("--board-tflm", type=Path, help="the board's TFLM library sources for the virtual board")
    p.set_defaults(func=main_stream)
