"""On-device recognition through the virtual board: agreement, detection latency, false detections.

    python bench/bench_inference.py [RUN_DIR] [--subjects 4] [--reps 5] [--idle-minutes 3]
                                    [--threshold X]

The virtual board runs RUN_DIR's model (default: the committed default model,
firmware/build/host/default_run) in replay mode; continuous streams built from the built-in
generator (capture.synth, subjects the default model never saw) are streamed to it as
``sample`` lines and every window's PREDICTION frame is collected. Measured:

1. Agreement: every window's top-1 label and int8 score on the board against the laptop's
   TFLM on the same counts (target: 100 %).
2. Detection latency: gesture streams are idle - gesture - idle - gesture ... Where each
   gesture ends is known in samples (the generator's own timing, checked against the motion
   energy). Latency = device time of the first window with ``detected=1`` of the right label
   after the gesture starts, minus the gesture's end (time of a window = its last sample;
   negative: the board fired before the gesture was over). Device time = samples / rate_hz.
3. False detections per minute of idle motion (several minutes of synthetic idle per subject,
   hand tremor, drift and small non-gesture moves): detections of any non-idle label
   (target < 1 per minute).

The board's post-processing (score threshold, ``agreement`` windows in a row, refractory period,
motion gate; all from the run's contract.json) is re-run on the board's own per-window scores with
converter.postprocess, which must reproduce the board's ``detected`` flags exactly; then other
settings are swept (the virtual board itself can be given another threshold: ``--threshold``).
Tables go to stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from capture import synth
from capture.errors import CaptureError
from boardtools.replay import (BoardLink, board_predictions, board_windows, chunk_samples, input_tensors,
                               start_virtual_board, values_to_counts)
from contract.resample import rate_mhz
from contract.run_dir import read_contract, write_contract
from converter.postprocess import PostprocessSettings, detections_of_top, refractory_samples, settings_from_contract, window_motion

REPO = Path(__file__).resolve().parent.parent
DEFAULT_RUN = REPO / "firmware" / "build" / "host" / "default_run"
CROSSFADE_S = 0.4  # blend between joined takes, so a pose change is not a step
GESTURE_TAKE_S = 1.6
IDLE_TAKE_S = 5.0


def log(message: str) -> None:
    print(f"[bench_inference] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ built-in streams


def motion_share_inside(take: np.ndarray, start: int, end: int) -> float:
    """Share of the take's gyroscope motion energy between samples start and end (a span check)."""
    energy = np.sum((take[:, 3:] - np.median(take[:, 3:], axis=0)) ** 2, axis=1)
    return float(energy[start:end].sum() / max(energy.sum(), 1e-9))


class Stream:
    """Takes joined end to end with a crossfade; remembers where each gesture lies."""

    def __init__(self, rate_hz: float, subject: str):
        self.rate_hz = rate_hz
        self.subject = subject
        self.values = np.zeros((0, 6))
        self.gestures: list[tuple[str, float, float]] = []  # (label, start sample, end sample)

    def add(self, take: np.ndarray, label: str | None = None, span_s: tuple[float, float] | None = None) -> None:
        fade = min(int(CROSSFADE_S * self.rate_hz), len(self.values), len(take))
        offset = len(self.values) - fade
        if fade:
            w = np.linspace(0.0, 1.0, fade + 2)[1:-1, None]
            self.values[-fade:] = (1 - w) * self.values[-fade:] + w * take[:fade]
        self.values = np.concatenate([self.values, take[fade:]])
        if label is not None:
            self.gestures.append((label, offset + span_s[0] * self.rate_hz, offset + span_s[1] * self.rate_hz))


def gesture_stream(subject: str, labels: list[str], reps: int, rate_hz: float) -> Stream:
    rng = np.random.default_rng([7, len(subject), *subject.encode()])
    order = [label for label in labels for _ in range(reps)]
    rng.shuffle(order)
    s, idle_k = Stream(rate_hz, subject), 0
    for i, label in enumerate(order):
        s.add(synth.make_take("idle", rate_hz, subject, idle_k, "bench-idle", rng.uniform(1.5, 3.0)))
        idle_k += 1
        take = synth.make_take(label, rate_hz, subject, i, "bench", GESTURE_TAKE_S, placement="whole")
        span = synth.gesture_span(label, rate_hz, subject, i, "bench", GESTURE_TAKE_S, placement="whole")
        share = motion_share_inside(take, int(span[0] * rate_hz), int(np.ceil(span[1] * rate_hz)))
        if share < 0.7:
            raise SystemExit(f"error: only {share:.0%} of a synthetic {label}'s motion lies in its computed span; "
                             "capture.synth's gesture_span no longer matches make_take")
        s.add(take, label, span)
    s.add(synth.make_take("idle", rate_hz, subject, idle_k, "bench-idle", 3.0))
    return s


def idle_stream(subject: str, minutes: float, rate_hz: float) -> Stream:
    s = Stream(rate_hz, subject)
    k = 0
    while len(s.values) < minutes * 60 * rate_hz:
        s.add(synth.make_take("idle", rate_hz, subject, k, "bench-idle-long", IDLE_TAKE_S))
        k += 1
    return s


# --------------------------------------------------------------------- board and host


@dataclass
class Post:
    """Post-processing settings to replay (the board's own come from the run's contract)."""

    threshold: float
    agreement: int = 2
    refractory_s: float = 1.0
    motion_gate: float = 0.0  # window_motion below this never detects (0: no gate)
    accel_weight: float = 100.0


def simulate(p: dict, post: Post, meta: dict) -> np.ndarray:
    """``detected`` per window of one take, by converter.postprocess (the core's exact mirror)."""
    s = PostprocessSettings(len(meta["labels"]), meta["idle_index"], post.threshold, meta["output_q"][0],
                            meta["output_q"][1], post.agreement, refractory_samples(meta["rate_hz"], post.refractory_s),
                            post.motion_gate, post.accel_weight)
    motion = p["motion"] if post.accel_weight == meta["accel_weight"] else window_motion(
        p["windows"], *meta["scales"], post.accel_weight)
    return detections_of_top(p["label_index"], p["score_q"], p["end_count"], motion, s)


# -------------------------------------------------------------------------- scoring


def latencies(stream: Stream, labels: list[str], label_index, detected, end_count) -> tuple[list, int, int]:
    """([(ms from gesture end, ms from its start)] per detected gesture, missed, wrong-label detections)."""
    out, missed, wrong = [], 0, 0
    t_window = end_count - 1  # sample index of each window's last sample
    for g, (label, start, end) in enumerate(stream.gestures):
        until = stream.gestures[g + 1][1] if g + 1 < len(stream.gestures) else np.inf
        hits = np.flatnonzero(detected & (t_window >= start) & (t_window < until))
        right = [k for k in hits if labels[label_index[k]] == label]
        wrong += len(hits) - len(right)
        if right:
            out.append((1000.0 * (t_window[right[0]] - end) / stream.rate_hz,
                        1000.0 * (t_window[right[0]] - start) / stream.rate_hz))
        else:
            missed += 1
    return out, missed, wrong


def score_setting(post: Post | None, runs: dict, meta: dict) -> dict:
    """Latency and false detections with ``post`` replayed in Python (None: the board's own flags)."""
    lat, missed, wrong, false, idle_s, by = [], 0, 0, 0, 0.0, {}
    for kind, stream, p in runs["streams"]:
        det = p["detected"] if post is None else simulate(p, post, meta)
        if kind == "gesture":
            ms, m, w = latencies(stream, meta["labels"], p["label_index"], det, p["end_count"])
            lat += ms
            missed += m
            wrong += w
        else:
            fired = det & (p["label_index"] != meta["idle_index"])
            false += int(np.sum(fired))
            for k in np.flatnonzero(fired):
                key = (stream.subject, meta["labels"][p["label_index"][k]])
                by[key] = by.get(key, 0) + 1
            idle_s += len(stream.values) / stream.rate_hz
    n = len(lat) + missed
    from_end = [x[0] for x in lat]
    nan = float("nan")
    return {"post": post, "false_per_min": false / (idle_s / 60), "false_by": by, "false": false, "idle_min": idle_s / 60,
            "detected": len(lat), "gestures": n, "missed": missed, "wrong": wrong,
            "latency_median_ms": float(np.median(from_end)) if lat else nan,
            "latency_p95_ms": float(np.percentile(from_end, 95)) if lat else nan,
            "from_start_median_ms": float(np.median([x[1] for x in lat])) if lat else nan}


# ----------------------------------------------------------------------------- main


def prepare_run(run_dir: Path, threshold: float | None, tmp: Path) -> Path:
    if threshold is None:
        return run_dir
    copy = tmp / "run"
    copy.mkdir()
    shutil.copy(run_dir / "model_int8.tflite", copy)
    write_contract(copy, read_contract(run_dir).replace(score_threshold=threshold))
    return copy


def measure(run_dir: Path, subjects: list[str], reps: int, idle_minutes: float) -> tuple[dict, dict]:
    from boardtools.replay import load_run
    from converter.int8.flatbuffer import read_io
    from converter.int8.tflm import run_tflm

    contract, model_bytes = load_run(run_dir)
    inp, out = read_io(model_bytes)
    labels, rate_hz = list(contract.labels), contract.rate_hz
    idle_index = contract.idle_index
    board_post = settings_from_contract(contract, (out.scale, out.zero_point))
    meta = {"labels": labels, "rate_hz": rate_hz, "idle_index": idle_index, "output_q": (out.scale, out.zero_point),
            "threshold": contract.score_threshold, "accel_weight": board_post.motion_accel_weight,
            "board": Post(board_post.score_threshold, board_post.agreement, board_post.refractory_samples / rate_hz,
                          board_post.motion_gate, board_post.motion_accel_weight)}
    gesture_labels = [x for x in labels if x != contract.idle_label and x in synth.LABELS]
    window, hop = contract.window, contract.hop
    streams = []
    for subject in subjects:
        streams.append(("gesture", gesture_stream(subject, gesture_labels, reps, rate_hz)))
        streams.append(("idle", idle_stream(subject, idle_minutes, rate_hz)))
    runs = {"streams": [], "windows": 0, "same": 0, "same_label": 0, "flags_same": 0, "inference_us": []}
    with start_virtual_board(run_dir) as board:
        link = BoardLink(board)
        link.quiet()
        link.command("mode replay")
        info = link.device_info()
        scales = (float(info["accel_g_per_count"]), float(info["gyro_dps_per_count"]))
        per_chunk = chunk_samples(hop, int(info["rate_mhz"]), rate_mhz(rate_hz))
        for i, (kind, stream) in enumerate(streams, 1):
            counts = values_to_counts(stream.values, *scales)
            got = board_predictions(link, counts, per_chunk)
            host = run_tflm(model_bytes, input_tensors(counts, contract, scales, (inp.scale, inp.zero_point)))
            if len(got) != len(host):
                raise CaptureError(f"the board answered {len(got)} windows, the laptop computed {len(host)}")
            p = {"label_index": np.array([g["label_index"] for g in got]),
                 "score_q": np.array([g["score_q"] for g in got]),
                 "end_count": window + hop * np.array([g["window_index"] for g in got]),
                 "detected": np.array([bool(g["detected"]) for g in got])}
            p["windows"] = board_windows(counts, window, hop)[:len(got)]
            p["motion"] = window_motion(p["windows"], *scales, meta["accel_weight"])
            meta["scales"] = scales
            sim = simulate(p, meta["board"], meta)
            runs["windows"] += len(got)
            runs["same_label"] += int(np.sum(p["label_index"] == host.argmax(axis=1)))
            runs["same"] += int(np.sum((p["label_index"] == host.argmax(axis=1)) & (p["score_q"] == host.max(axis=1))))
            runs["flags_same"] += int(np.sum(sim == p["detected"]))
            runs["inference_us"] += [g["inference_us"] for g in got]
            runs["streams"].append((kind, stream, p))
            log(f"{i}/{len(streams)} {kind} stream: {len(counts)} samples, {len(got)} windows, "
                f"{int(p['detected'].sum())} detections")
        link.command("mode capture")
    return runs, meta


def print_tables(runs: dict, meta: dict, board: dict, sweep: list[dict]) -> None:
    n = runs["windows"]
    t = np.asarray(runs["inference_us"], dtype=np.float64)
    print(f"\nBoard vs laptop TFLM ({n} windows; virtual board invoke time includes the TFLM child's pipe)")
    print(f"  {'agreement (label + int8 score)':<36} {100 * runs['same'] / n:8.2f} %   (target 100 %)")
    print(f"  {'agreement (label)':<36} {100 * runs['same_label'] / n:8.2f} %")
    print(f"  {'postprocess flags reproduced':<36} {100 * runs['flags_same'] / n:8.2f} %")
    print(f"  {'inference_us median / p95':<36} {np.median(t):8.0f} / {np.percentile(t, 95):.0f}")
    b = meta["board"]
    print(f"\nBoard detections (threshold {b.threshold:g}, agreement {b.agreement}, refractory {b.refractory_s:g} s, "
          f"motion gate {b.motion_gate:g})")
    print(f"  {'gestures detected':<36} {board['detected']} / {board['gestures']}  (missed {board['missed']}, "
          f"wrong-label detections {board['wrong']})")
    print(f"  {'latency from gesture end, median':<36} {board['latency_median_ms']:8.0f} ms")
    print(f"  {'latency from gesture end, p95':<36} {board['latency_p95_ms']:8.0f} ms")
    print(f"  {'from gesture start, median':<36} {board['from_start_median_ms']:8.0f} ms")
    print(f"  {'false detections in idle':<36} {board['false_per_min']:8.2f} per minute  ({board['false']} in "
          f"{board['idle_min']:.1f} min; target < 1)")
    if board["false_by"]:
        worst = sorted(board["false_by"].items(), key=lambda kv: -kv[1])
        print("  false detections by person/label: " + ", ".join(f"{s}/{lab} {n}" for (s, lab), n in worst))
    print("\nPostprocessing settings, replayed on the board's own window scores "
          "(gate: no detection while the window's motion, gyro RMS + 100 x accel RMS, is below this)")
    print(f"  {'threshold':>9} {'agree':>5} {'refr_s':>6} {'gate':>5} {'false/min':>9} {'detected':>9} {'wrong':>5} "
          f"{'lat_med_ms':>10} {'lat_p95_ms':>10}")
    for r in sweep:
        p = r["post"]
        print(f"  {p.threshold:9.2f} {p.agreement:5d} {p.refractory_s:6.1f} {p.motion_gate:5.0f} {r['false_per_min']:9.2f} "
              f"{r['detected']:4d}/{r['gestures']:<4d} {r['wrong']:5d} {r['latency_median_ms']:10.0f} "
              f"{r['latency_p95_ms']:10.0f}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run_dir", type=Path, nargs="?", default=DEFAULT_RUN, metavar="RUN_DIR",
                   help="converted run (default: the committed default model, firmware/build/host/default_run)")
    p.add_argument("--subjects", type=int, default=4, help="simulated people, never seen in training (default 4)")
    p.add_argument("--reps", type=int, default=5, help="repetitions of each gesture per person (default 5)")
    p.add_argument("--idle-minutes", type=float, default=3.0, help="minutes of idle motion per person (default 3)")
    p.add_argument("--threshold", type=float, default=None,
                   help="run the board with this score threshold instead of the contract's")
    a = p.parse_args(argv)
    if a.run_dir == DEFAULT_RUN and not DEFAULT_RUN.is_dir():
        import subprocess

        subprocess.run(["make", "-C", str(REPO / "firmware"), "host"], stdout=sys.stderr, check=False)
    subjects = [f"bench-{chr(ord('a') + i)}" for i in range(a.subjects)]
    try:
        with tempfile.TemporaryDirectory(prefix="nanogest-bench-") as tmp:
            runs, meta = measure(prepare_run(a.run_dir, a.threshold, Path(tmp)), subjects, a.reps, a.idle_minutes)
    except CaptureError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    board = score_setting(None, runs, meta)
    thresholds = sorted({meta["threshold"], 0.8, 0.9, 0.95})
    settings = [Post(t, n, r) for t in thresholds for n in (1, 2, 3) for r in (1.0, 2.0)]
    settings += [Post(t, n, 1.0, g) for t in (meta["threshold"], 0.9) for n in (1, 2)
                 for g in (15.0, 25.0, 40.0, 60.0)]
    sweep = [score_setting(post, runs, meta) for post in settings]
    print_tables(runs, meta, board, sweep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
