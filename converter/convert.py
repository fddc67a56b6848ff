"""`python -m converter convert`: quantize, verify in TFLM, size the arena, write the headers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from converter import ConverterError, arena, flatbuffer, headers, quantize, tflm
from converter.run_dir import check_run_dir, load_contract, load_model, load_windows, normalize

DEFAULT_HEADER_DIR = Path(__file__).resolve().parent.parent / "firmware/lib/nanogest_model/src/generated"
DEFAULT_MAX_DROP_POINTS = 1.0
DEFAULT_MAX_LSB = 1


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def quantization_dict(t: flatbuffer.TensorInfo) -> dict:
    return {"type": t.type, "shape": list(t.shape), "scale": t.scale, "zero_point": t.zero_point}


def convert_run(run_dir: Path, header_dir: Path = DEFAULT_HEADER_DIR, max_drop_points: float = DEFAULT_MAX_DROP_POINTS,
                max_lsb: int = DEFAULT_MAX_LSB) -> dict:
    """Convert one run directory; return the report (also written to RUN_DIR/report.json)."""
    run_dir = Path(run_dir)
    check_run_dir(run_dir)
    contract = load_contract(run_dir)
    model = load_model(run_dir, contract)
    windows = load_windows(run_dir, contract)
    x_train = normalize(windows.x_train, contract)
    x_test = normalize(windows.x_test, contract)

    calibration = quantize.calibration_windows(x_train)
    log(f"quantizing to int8 with {len(calibration)} calibration windows ...")
    model_bytes = quantize.quantize_int8(model, calibration)
    ops = flatbuffer.read_ops(model_bytes)
    flatbuffer.check_tflm_ops(ops)
    inp, out = flatbuffer.read_io(model_bytes)
    if inp.type != "INT8" or out.type != "INT8":
        raise ConverterError(f"the converted model's input is {inp.type} and output {out.type}; expected INT8 for both")
    tflite_path = run_dir / "model_int8.tflite"
    tflite_path.write_bytes(model_bytes)

    log(f"verifying on {len(x_test)} test windows (Keras float, TFLM int8, TFLite reference int8) ...")
    scores_float = tflm.predict_float(model, x_test)
    x_q = tflm.quantize_input(x_test, inp)
    out_tflm = tflm.run_tflm(model_bytes, x_q)
    out_ref = tflm.run_tflite_reference(model_bytes, x_q)
    max_lsb_seen = int(np.max(np.abs(out_tflm.astype(np.int32) - out_ref.astype(np.int32))))
    pred_float = scores_float.argmax(axis=1)
    pred_int8 = out_tflm.argmax(axis=1)
    accuracy_float = float(np.mean(pred_float == windows.y_test))
    accuracy_int8 = float(np.mean(pred_int8 == windows.y_test))
    agreement = float(np.mean(pred_float == pred_int8))

    log("measuring the smallest working tensor arena ...")
    sizes = arena.measure_arena(str(tflite_path))
    model_hash = headers.fnv1a32(model_bytes)
    report = {
        "model_bytes": len(model_bytes),
        "arena_bytes": sizes["arena_bytes"],
        "arena_measured_bytes": sizes["arena_measured_bytes"],
        "arena_margin_bytes": sizes["arena_margin_bytes"],
        "arena_recorded_bytes": sizes["arena_recorded_bytes"],
        "arena_probes": sizes["arena_probes"],
        "arena_note": "measured with the TFLM Python interpreter on a 64-bit host: an upper bound for the 32-bit board",
        "ops": [{"name": o.name, "version": o.version} for o in ops],
        "accuracy_float": accuracy_float,
        "accuracy_int8": accuracy_int8,
        "accuracy_drop_points": round(100.0 * (accuracy_float - accuracy_int8), 4),
        "top1_agreement": agreement,
        "max_output_diff_lsb": max_lsb_seen,
        "n_test": int(len(x_test)),
        "n_calibration": int(len(calibration)),
        "model_hash": f"0x{model_hash:08x}",
        "input_quantization": quantization_dict(inp),
        "output_quantization": quantization_dict(out),
        "labels": contract.labels,
        "header_dir": str(header_dir),
        "headers_written": False,
        "tflite": str(tflite_path),
    }
    report_path = run_dir / "report.json"
    report_path.write_text(json.dumps(report, indent=2) + "\n")
    print_table(report)

    if max_lsb_seen > max_lsb:
        raise ConverterError(
            f"TFLM and the TFLite reference kernels disagree by {max_lsb_seen} LSB on some output (allowed: {max_lsb}); "
            f"the int8 model in {tflite_path} is not trustworthy on the board"
        )
    drop = 100.0 * (accuracy_float - accuracy_int8)
    if drop > max_drop_points:
        raise ConverterError(
            f"int8 accuracy {100 * accuracy_int8:.1f}% is {drop:.1f} points below float accuracy {100 * accuracy_float:.1f}% "
            f"on {len(x_test)} test windows (allowed drop: {max_drop_points:g} points); headers not written. "
            "Train on more varied data or raise --max-drop"
        )
    written = headers.write_headers(Path(header_dir), model_bytes, contract, inp, out, ops, sizes["arena_bytes"])
    log("wrote " + ", ".join(str(p) for p in written))
    report["headers_written"] = True
    report_path.write_text(json.dumps(report, indent=2) + "\n")
    return report


def print_table(report: dict) -> None:
    q_in, q_out = report["input_quantization"], report["output_quantization"]
    rows = [
        ("model bytes", f"{report['model_bytes']}"),
        ("arena bytes (firmware)", f"{report['arena_bytes']}"),
        ("arena measured / margin", f"{report['arena_measured_bytes']} + {report['arena_margin_bytes']} (64-bit host)"),
        ("ops", ", ".join(f"{o['name']}/v{o['version']}" for o in report["ops"])),
        ("accuracy float (Keras)", f"{100 * report['accuracy_float']:.2f}%"),
        ("accuracy int8 (TFLM)", f"{100 * report['accuracy_int8']:.2f}%"),
        ("top-1 agreement", f"{100 * report['top1_agreement']:.2f}%"),
        ("max |TFLM - TFLite ref|", f"{report['max_output_diff_lsb']} LSB"),
        ("test windows", f"{report['n_test']}"),
        ("input scale / zero point", f"{q_in['scale']:.6g} / {q_in['zero_point']}"),
        ("output scale / zero point", f"{q_out['scale']:.6g} / {q_out['zero_point']}"),
        ("model hash (FNV-1a)", report["model_hash"]),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        log(f"  {key:<{width}}  {value}")
