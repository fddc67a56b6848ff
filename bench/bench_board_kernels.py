"""The board's TFLM kernels against the laptop's, per architecture: how many test windows give
bit-identical int8 outputs, before and after the converter's board-exact rules.

    python bench/bench_board_kernels.py [--archs conv1d,ds-conv1d,gru] [--board-tflm DIR]

Needs the board library's sources (--board-tflm DIR, $NANOGEST_BOARD_TFLM or PlatformIO's
.pio/libdeps; see converter/board/board_tflm.py). Writes the built-in synthetic dataset
(capture.synth), trains each architecture with `python -m training fit` and converts it with
`python -m converter convert` (headers to a temporary directory). Then, for each run, the test
windows (a GRU: every step of every test window, the state carried by each interpreter) go
through PyPI tflite-micro and through the board's kernels, for two int8 models of the same
weights:
  - "per-channel + MEAN": what the TFLite converter emits by default (per-channel FULLY_CONNECTED
    weights; GlobalAveragePooling1D as MEAN; a GRU step model has no MEAN: "per-channel"),
  - "per-tensor + MEAN": per-tensor FULLY_CONNECTED weights only,
  - "converter": the converter's model (per-tensor FULLY_CONNECTED, AVERAGE_POOL_2D).
"PyPI vs PyPI" is what replay agreement measured before the board's kernels ran on the laptop.
Prints one table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ARCHS = ("conv1d", "ds-conv1d", "gru", "cnn-gru")


def run(args: list[str], must_pass: bool = True) -> int:
    proc = subprocess.run([sys.executable, *args], cwd=REPO, stdout=subprocess.DEVNULL)
    if must_pass and proc.returncode != 0:
        sys.exit(f"error: `python {' '.join(args)}` failed with exit code {proc.returncode}")
    return proc.returncode


def compare(laptop: np.ndarray, board: np.ndarray) -> dict:
    diff = np.abs(laptop.astype(np.int32) - board.astype(np.int32)).reshape(len(laptop), -1)
    return {"n": len(laptop), "identical": int((diff.max(axis=1) == 0).sum()), "max_lsb": int(diff.max()),
            "values": int(diff.size), "values_differing": int((diff > 0).sum())}


def outputs(model_bytes: bytes, inputs, kernels, step_io):
    """Every output the comparison looks at: window scores, or h' and scores of every step."""
    from converter.int8 import tflm
    from converter.gru import stepping

    if step_io is None:
        return tflm.run_tflm(model_bytes, inputs, kernels=kernels)
    r = stepping.run_tflm_steps_int8(model_bytes, inputs, step_io, kernels=kernels)
    return np.concatenate([r.outputs[0].reshape(len(inputs), -1), r.outputs[1].reshape(len(inputs), -1)], axis=1)


def measure(run_dir: Path, arch: str, kernels) -> list[dict]:
    from converter.int8 import board_ops, flatbuffer, quantize, tflm
    from converter.gru import gru_step, step_kind, stepping
    from converter.run_dir import load_contract, load_model, load_windows, normalize

    contract = load_contract(run_dir)
    model = load_model(run_dir, contract)
    windows = load_windows(run_dir, contract)
    x_train, x_test = normalize(windows.x_train, contract), normalize(windows.x_test, contract)
    converted = (run_dir / "model_int8.tflite").read_bytes()
    if gru_step.find_gru(model) is None:
        calibration = quantize.calibration_windows(x_train)
        models = {"per-channel + MEAN": quantize.quantize_int8(model, calibration, False, False),
                  "per-tensor + MEAN": quantize.quantize_int8(model, calibration, True, False),
                  "converter": converted}
        inputs = {k: tflm.quantize_input(x_test, flatbuffer.read_io(m)[0]) for k, m in models.items()}
        ios = {k: None for k in models}
    else:
        plan = gru_step.plan_steps(model, contract.window, len(contract.channels))
        step_b1 = gru_step.build_step_model(model, plan, batch_size=1)
        pairs = gru_step.representative_pairs(gru_step.build_step_model(model, plan), plan,
                                              quantize.calibration_windows(x_train), step_kind.MAX_STEP_PAIRS)
        models = {"per-channel": quantize.quantize_step_int8(step_b1, pairs, per_tensor_dense=False),
                  "converter": converted}
        x_steps = gru_step.step_inputs(x_test, plan)
        ios = {k: stepping.read_step_io(m) for k, m in models.items()}
        inputs = {k: tflm.quantize_input(x_steps, io.x) for k, io in ios.items()}
    rows = []
    for variant, model_bytes in models.items():
        ops = [o.name for o in flatbuffer.read_ops(model_bytes)]
        laptop = outputs(model_bytes, inputs[variant], None, ios[variant])
        board = outputs(model_bytes, inputs[variant], kernels, ios[variant])
        differences = sorted({k for k, _ in board_ops.board_differences(model_bytes)})
        rows.append({"arch": arch, "variant": variant, "ops": ops, "differences": differences,
                     "pypi_vs_pypi": compare(laptop, laptop), "board": compare(laptop, board),
                     "top1_changed": int(np.sum(laptop.reshape(len(laptop), -1)[:, -len(contract.labels):].argmax(1)
                                                != board.reshape(len(board), -1)[:, -len(contract.labels):].argmax(1)))})
    return rows


def print_table(rows: list[dict], build_s: float, label: str) -> None:
    columns = [
        ("arch", lambda r: r["arch"]),
        ("model", lambda r: r["variant"] + (" (convert refused)" if r.get("refused") else "")),
        ("unit", lambda r: "window" if r["arch"] in ("conv1d", "ds-conv1d") else "window x steps"),
        ("windows", lambda r: r["board"]["n"]),
        ("PyPI vs PyPI identical %", lambda r: f"{100 * r['pypi_vs_pypi']['identical'] / r['pypi_vs_pypi']['n']:.1f}"),
        ("board vs PyPI identical %", lambda r: f"{100 * r['board']['identical'] / r['board']['n']:.1f}"),
        ("max LSB", lambda r: r["board"]["max_lsb"]),
        ("values differing", lambda r: f"{r['board']['values_differing']}/{r['board']['values']}"),
        ("top-1 changed", lambda r: r["top1_changed"]),
        ("board differences in model", lambda r: ", ".join(r["differences"]) or "-"),
    ]
    cells = [[str(get(r)) for _, get in columns] for r in rows]
    widths = [max(len(t), *(len(c[i]) for c in cells)) for i, (t, _) in enumerate(columns)]
    print(f"board kernels: {label}; built/loaded in {build_s:.1f} s")
    print("  ".join(t.ljust(w) for (t, _), w in zip(columns, widths)))
    print("  ".join("-" * w for w in widths))
    for c in cells:
        print("  ".join(v.ljust(w) for v, w in zip(c, widths)))
    print("GRU rows compare h' and scores of every step (each interpreter carries its own state).")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archs", default=",".join(ARCHS), help="architectures (default: %(default)s)")
    parser.add_argument("--board-tflm", type=Path, default=None, metavar="DIR", help="the board TFLM library's root")
    parser.add_argument("--subjects", type=int, default=6, help="simulated people in the built-in dataset (default 6)")
    parser.add_argument("--takes-per-label", type=int, default=10, help="takes per gesture and person (default 10)")
    parser.add_argument("--epochs", type=int, default=40, help="training epochs (default 40)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON to this file")
    args = parser.parse_args()

    from capture.synth import write_dataset
    from converter import ConverterError
    from converter.board import board_tflm

    start = time.perf_counter()
    try:
        kernels = board_tflm.load(args.board_tflm)
    except board_tflm.BoardSourcesMissing as e:
        print(f"board kernels: not measured ({e})")  # `make bench` goes on with the other scripts
        return 0
    except ConverterError as e:
        sys.exit(f"error: {e}")
    build_s = time.perf_counter() - start
    env_args = ["--board-tflm", str(kernels.sources.root)]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_board_kernels_") as tmp:
        work = Path(tmp)
        data_dir = work / "data"
        write_dataset(data_dir, subjects=[f"p{i + 1}" for i in range(args.subjects)],
                      takes_per_label=args.takes_per_label, rate_hz=119.0, take_seconds=1.0, seed=0)
        for arch in [a.strip() for a in args.archs.split(",") if a.strip()]:
            run_dir = work / f"run-{arch}"
            print(f"== training and converting {arch}", file=sys.stderr, flush=True)
            run(["-m", "training", "fit", str(data_dir), "--out", str(run_dir), "--arch", arch,
                 "--epochs", str(args.epochs), "--seed", "0"])
            refused = run(["-m", "converter", "convert", str(run_dir), "--header-dir", str(work / "headers"), *env_args],
                          must_pass=False) != 0
            if not (run_dir / "model_int8.tflite").is_file():
                sys.exit(f"error: converting {arch} failed before writing its model (see above)")
            for row in measure(run_dir, arch, kernels):
                rows.append({**row, "refused": refused and row["variant"] == "converter"})
    print_table(rows, build_s, f"{kernels.label} from {kernels.sources.root}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
