"""TFLM against the TFLite reference kernels, operator by operator, on converted run directories.

    python bench/bench_reference_ops.py RUN_DIR [RUN_DIR ...] [--windows train,test]

For each converted run (``python -m converter convert`` wrote its model_int8.tflite) every operator
of the int8 model is compared on the run's windows: the largest difference when the operator's
inputs were identical in both interpreters (what its kernel computes differently; the converter's
gate) and the share of its values that differed then, and the largest difference it inherited
from upstream. Then the converter's accuracy rule on the test windows. One table row per
operator that ever differs, and one line per run. A GRU one-step model is compared step by step
(``converter.gru.stepping.reference_agreement``) and reported on one line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from converter import ConverterError  # noqa: E402
from converter.int8 import flatbuffer, op_agreement, rules, tflm  # noqa: E402
from converter.gru import gru_step, stepping  # noqa: E402
from converter.run_dir import load_contract, load_model, load_windows, normalize  # noqa: E402


def measure(run_dir: Path, sides: list[str]) -> tuple[dict, list[dict]]:
    contract = load_contract(run_dir)
    w = load_windows(run_dir, contract)
    model_bytes = (run_dir / "model_int8.tflite").read_bytes()
    model = load_model(run_dir, contract)
    x_test = normalize(w.x_test, contract)
    pred_float = tflm.predict_float(model, x_test).argmax(axis=1)
    if gru_step.find_gru(model) is not None:
        plan = gru_step.plan_steps(model, contract.window, len(contract.channels))
        io = stepping.read_step_io(model_bytes)
        run = stepping.run_tflm_steps(model_bytes, gru_step.step_inputs(x_test, plan), io)
        agreement = stepping.reference_agreement(model_bytes, run, io)
        verdict = rules.accuracy_verdict(w.y_test, pred_float, run.scores.argmax(axis=1))
        return {"run": run_dir.name, "kind": "gru step", "kernel_max_lsb": agreement.kernel_max_lsb,
                "worst": agreement.kernel_worst_op, "output_max_lsb": max(agreement.output_max_lsb.values()),
                "windows": min(40, len(x_test)), "verdict": verdict}, []
    inp, _ = flatbuffer.read_io(model_bytes)
    x = np.concatenate([normalize(getattr(w, f"x_{side}"), contract) for side in sides])
    xq = tflm.quantize_input(x, inp)
    agreement = op_agreement.compare_ops(model_bytes, xq)
    pred_int8 = tflm.run_tflm(model_bytes, tflm.quantize_input(x_test, inp)).argmax(axis=1)
    verdict = rules.accuracy_verdict(w.y_test, pred_float, pred_int8)
    ops = [o.as_dict() for o in agreement.ops if o.kernel_max_lsb or o.inherited_max_lsb]
    return {"run": run_dir.name, "kind": "window", "kernel_max_lsb": agreement.kernel_max_lsb,
            "worst": agreement.kernel_worst_op, "output_max_lsb": agreement.output_max_lsb,
            "windows": agreement.windows_compared, "verdict": verdict}, ops


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run_dirs", nargs="*", type=Path, metavar="RUN_DIR", help="converted run directories")
    p.add_argument("--windows", default="test,train", help="which windows of windows.npz to compare (default test,train)")
    p.add_argument("--json", action="store_true", help="print the numbers as JSON")
    a = p.parse_args(argv)
    sides = [s.strip() for s in a.windows.split(",") if s.strip() in ("train", "test")]
    if not a.run_dirs:  # `make bench` runs every script without arguments
        print("skipped: pass converted RUN_DIRs (python bench/bench_reference_ops.py RUN_DIR ...)", file=sys.stderr)
        return 0
    rows = []
    for run_dir in a.run_dirs:
        if not (run_dir / "model_int8.tflite").is_file():
            print(f"error: {run_dir}: no model_int8.tflite; run `python -m converter convert {run_dir}` first",
                  file=sys.stderr)
            return 2
        try:
            rows.append(measure(run_dir, sides))
        except ConverterError as e:
            print(f"error: {run_dir}: {e}", file=sys.stderr)
            return 2
    if a.json:
        print(json.dumps([{**r, "ops": ops} for r, ops in rows], indent=2))
        return 0
    print("| run | kind | windows | kernel max LSB (where) | output max LSB | lost / gained / changed of n | refused |")
    print("|---|---|---|---|---|---|---|")
    for r, _ in rows:
        v = r["verdict"]
        print(f"| {r['run']} | {r['kind']} | {r['windows']} | {r['kernel_max_lsb']} ({r['worst'] or '-'}) | "
              f"{r['output_max_lsb']} | {v['windows_lost']} / {v['windows_gained']} / {v['windows_changed']} of "
              f"{v['n_test']} | {'yes' if v['refused'] or r['kernel_max_lsb'] > rules.DEFAULT_MAX_LSB else 'no'} |")
    print("\n| run | operator | runs with identical inputs | kernel max LSB | values differing | inherited max LSB |")
    print("|---|---|---|---|---|---|")
    for r, ops in rows:
        for o in ops:
            print(f"| {r['run']} | {o['index']} {o['op']} | {o['runs_same_inputs']} | {o['kernel_max_lsb']} | "
                  f"{100 * o['kernel_values_differing']:.2f} % | {o['inherited_max_lsb']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
