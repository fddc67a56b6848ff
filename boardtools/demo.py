"""`make demo`: the whole pipeline on built-in data, through the real command lines.

Records labelled takes from the virtual board (simulated people performing each
gesture, streamed over a pseudo-terminal in the real protocol), trains the default
model, converts it to int8, verifies it in the TFLM interpreter, writes the firmware
headers, scores the model on a person it never saw, replays that person's takes through
the virtual board's on-device inference path and compares every window with the laptop,
streams that person's gestures, motions the model was never taught and rest through the virtual
board and counts what it detects (``boardtools stream``), adapts the model to that person with two takes per label (scored on the others), and
prints a summary.

Each step is one of the documented ``nanogest`` commands run as a subprocess (``python -m
nanogest``: a command line, not an import of the layer above), so the demo proves the command
lines work, not just the library functions behind them.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from capture.synth import LABELS  # the gestures the built-in people perform

# (subject, IMU emulated by the virtual board). p4 wears a Rev2 board (BMI270, 100 Hz)
# so the dataset mixes rates the way real ones do.
TRAIN_PEOPLE = (("p1", "lsm9ds1"), ("p2", "lsm9ds1"), ("p3", "lsm9ds1"), ("p4", "bmi270"))
# The new person wears the board within the training people's range of tilts and moves at an
# ordinary tempo: the demo shows every stage working; bench/ measures how far a model generalizes.
NEW_PERSON = ("p12", "lsm9ds1")


class DemoError(Exception):
    pass


def _run(step: str, args: list[str], log) -> dict:
    """Run ``nanogest ARGS``; return its stdout JSON (last JSON line)."""
    cmd = [sys.executable, "-m", "nanogest", *args]
    print(f"[demo] {step}: nanogest {' '.join(args)}", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log.write(f"$ {' '.join(cmd)}\n{proc.stderr}\n{proc.stdout}\n")
    log.flush()
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        raise DemoError(f"step '{step}' failed (exit {proc.returncode}):\n{tail}")
    text = proc.stdout.strip()
    candidates = [text] + [line.strip() for line in reversed(text.splitlines()) if line.strip().startswith("{")]
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            continue
    raise DemoError(f"step '{step}' printed no JSON summary on stdout")


def _record(people, data_dir: Path, takes: int, speed: int, log) -> dict:
    totals = {"takes": 0, "samples": 0, "samples_lost": 0, "frames_corrupt": 0}
    for subject, imu in people:
        for label in LABELS:
            port = f"sim://?subject={subject}&session=s1&imu={imu}&speed={speed}"
            out = _run(
                f"record {label} from {subject} ({imu})",
                ["record", "--port", port, "--label", label, "--takes", str(takes),
                 "--out", str(data_dir), "--subject", subject, "--session", "s1", "--countdown", "0"],
                log,
            )
            for key in totals:
                totals[key] += int(out.get(key, 0))
    return totals


OTHER_MOTIONS = ("twist", "shake")  # motions the built-in people were never taught, for the streams


def _other_motions(data_dir: Path, subject: str, per_motion: int, rate_hz: float = 119.0) -> int:
    """Takes of motions the model was not taught (a fast wrist twist, a side-to-side shake) by the new person."""
    import numpy as np

    from capture.dataset import TakeMeta, write_take

    rng = np.random.default_rng(12)
    n = int(1.5 * rate_hz)
    t = np.arange(n) / rate_hz
    envelope = np.sin(np.pi * t / t[-1]) ** 2
    for motion in OTHER_MOTIONS:
        for _ in range(per_motion):
            x = np.zeros((n, 6))
            x[:, 2] = 1.0
            f = rng.uniform(2.0, 3.5)
            if motion == "twist":  # about the forearm: the gyroscope's x, gravity swinging in y and z
                angle = np.radians(rng.uniform(40, 70)) * envelope * np.sin(2 * np.pi * f * t)
                x[:, 1], x[:, 2] = np.sin(angle), np.cos(angle)
                x[:, 3] = np.degrees(np.gradient(angle) * rate_hz)
            else:  # side to side: the accelerometer's y, a little yaw
                x[:, 1] = rng.uniform(0.8, 1.5) * envelope * np.sin(2 * np.pi * f * t)
                x[:, 5] = 60 * envelope * np.cos(2 * np.pi * f * t)
            x += rng.normal(0, [0.01] * 3 + [1.0] * 3, x.shape)
            write_take(data_dir, TakeMeta(label=motion, rate_hz=rate_hz, subject=subject, imu="LSM9DS1", source="synth"),
                       np.round(t * 1e6).astype(np.int64), x)
    return len(OTHER_MOTIONS) * per_motion


def run_demo(out_dir: Path, takes: int, speed: int, epochs: int | None) -> dict:
    t0 = time.monotonic()
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    data_dir, new_dir = out_dir / "data", out_dir / "new-person"
    run_dir = out_dir / "run"
    with open(out_dir / "demo.log", "w") as log:
        recorded = _record(TRAIN_PEOPLE, data_dir, takes, speed, log)
        unseen = _record((NEW_PERSON,), new_dir, max(4, takes // 2), speed, log)
        fit_args = ["fit", str(data_dir), "--out", str(run_dir), "--seed", "1"]
        if epochs:
            fit_args += ["--epochs", str(epochs)]
        fit = _run("train conv1d", fit_args, log)
        conv = _run("convert to int8 + verify in TFLM", ["convert", str(run_dir)], log)
        ev = _run("evaluate on a person never seen", ["evaluate-int8", str(run_dir), str(new_dir)], log)
        rp = _run("replay the new person through the virtual board's inference path",
                  ["replay", str(run_dir), str(new_dir)], log)
        stream_dir = out_dir / "new-person-streams"
        shutil.copytree(new_dir, stream_dir)
        others = _other_motions(stream_dir, NEW_PERSON[0], 6)
        st = _run(f"stream the new person's gestures, {others} other motions and rest through the virtual board",
                  ["stream", str(run_dir), str(stream_dir), "--rest-minutes", "2",
                   "--plots", str(out_dir / "stream")], log)
        ad = _run("adapt the model to the new person with 2 takes per label",
                  ["adapt", str(run_dir), str(new_dir), "--out", str(out_dir / "run-adapted"),
                   "--takes-per-label", "2", "--seed", "1"], log)
    return {
        "takes_recorded": recorded["takes"] + unseen["takes"],
        "samples_recorded": recorded["samples"] + unseen["samples"],
        "samples_lost": recorded["samples_lost"] + unseen["samples_lost"],
        "frames_corrupt": recorded["frames_corrupt"] + unseen["frames_corrupt"],
        "accuracy_float_heldout": conv.get("accuracy_float", fit.get("accuracy")),
        "accuracy_int8_heldout": conv.get("accuracy_int8"),
        "n_heldout_windows": conv.get("n_test"),
        "accuracy_float_new_person": ev.get("accuracy_float"),
        "accuracy_int8_new_person": ev.get("accuracy_int8"),
        "n_new_person": ev.get("n"),
        "new_person_before_adapt": ad.get("base_accuracy"),
        "new_person_after_adapt": ad.get("adapted_accuracy"),
        "stream_recall": st.get("recall"),
        "stream_wrong_or_repeat_per_gesture": st.get("wrong_or_repeat_per_gesture"),
        "stream_false_activations_per_other": st.get("false_activations_per_other"),
        "stream_false_activations_in_rest": st.get("false_activations_in_rest"),
        "stream_windows_unknown": st.get("windows_unknown"),
        "stream_timeline": (st.get("plots") or [None])[0],
        "board_agreement_with_host_tflm": rp.get("agreement"),
        "board_agreement_against": rp.get("agreement_against"),
        "board_inference_us_mean": rp.get("inference_us_mean"),
        "model_bytes": conv.get("model_bytes"),
        "arena_bytes": conv.get("arena_bytes"),
        "run_dir": str(run_dir),
        "header_dir": conv.get("header_dir"),
        "elapsed_s": round(time.monotonic() - t0, 1),
    }


def _fmt(v) -> str:
    return f"{v:.3f}" if isinstance(v, float) else str(v)


DEMO_DESCRIPTION = ("Run the whole nanogest pipeline on built-in data through the virtual board and print a summary "
                    "(JSON on stdout, a table on stderr).")


def add_demo_options(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--out", type=Path, default=Path("demo-out"), help="output directory (replaced on each run; default demo-out)")
    p.add_argument("--takes", type=int, default=8, help="takes per label per person (default 8)")
    p.add_argument("--speed", type=int, default=40, help="virtual board speed, times real time (default 40)")
    p.add_argument("--epochs", type=int, default=None, help="training epochs (default: the trainer's)")
    return p


def add_demo_parser(sub) -> None:
    d = sub.add_parser("demo", help="the whole pipeline on built-in data through the virtual board (make demo)",
                       description=DEMO_DESCRIPTION, epilog="example: %(prog)s --out demo-out --takes 4")
    add_demo_options(d).set_defaults(func=run_demo_command)


def run_demo_command(a) -> int:
    try:
        summary = run_demo(a.out, a.takes, a.speed, a.epochs)
    except DemoError as e:
        print(f"error: {e}\n(full log: {a.out / 'demo.log'})", file=sys.stderr)
        return 2
    print("\nnanogest demo summary", file=sys.stderr)
    for k, v in summary.items():
        print(f"  {k:28s} {_fmt(v)}", file=sys.stderr)
    print(f"  put this model into the firmware with: nanogest install {summary['run_dir']}", file=sys.stderr)
    print(json.dumps(summary))
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m boardtools.demo", description=DEMO_DESCRIPTION)
    return run_demo_command(add_demo_options(p).parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
