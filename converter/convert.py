"""`nanogest convert`: quantize, verify in TFLM, size the arena, write the headers."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from contract.document import ContractError
from contract.run_dir import REPORT_FILE, RUN_FILE, read_record, write_record
from converter import ConverterError, headers, install
from converter.int8 import arena, board_ops, cost, flatbuffer, rules
from converter.board import board_arm, board_verify
from converter.board.board_tflm import load_or_reason, pinned_library
from converter.kind import ModelKind, Quantized
from converter.path import model_kind
from converter.postprocess import settings_from_contract
from converter.run_dir import check_run_dir, load_contract, load_model, load_windows, normalize

DEFAULT_MAX_DROP_POINTS = rules.DEFAULT_MAX_DROP_POINTS
DEFAULT_MIN_AGREEMENT = rules.DEFAULT_MIN_AGREEMENT
DEFAULT_MAX_LSB = rules.DEFAULT_MAX_LSB


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def quantization_dict(t: flatbuffer.TensorInfo) -> dict:
    return {"type": t.type, "shape": list(t.shape), "scale": t.scale, "zero_point": t.zero_point}


def convert_run(run_dir: Path, header_dir: Path | None = None, max_drop_points: float = DEFAULT_MAX_DROP_POINTS,
                max_lsb: int = DEFAULT_MAX_LSB, flash_budget_kb: float = cost.DEFAULT_FLASH_BUDGET_KB,
                ram_budget_kb: float = cost.DEFAULT_RAM_BUDGET_KB, min_agreement: float = DEFAULT_MIN_AGREEMENT,
                board_tflm: Path | None = None, measure_on_arm: bool = False) -> dict:
    """Convert one run directory; return the report (also written to RUN_DIR/report.json).

    The headers go to ``header_dir``, by default RUN_DIR/generated; `python -m converter
    install RUN_DIR` puts them into the firmware.
    ``board_tflm``: the board TFLM library's directory (default: converter.board.board_tflm.find_sources).
    ``measure_on_arm``: also run the model in that library built for Cortex-M4F under QEMU
    (converter.board.board_arm): instructions per invoke, 32-bit arena, measured latency."""
    run_dir = Path(run_dir)
    header_dir = Path(header_dir) if header_dir is not None else install.run_header_dir(run_dir)
    check_run_dir(run_dir)
    board_library = pinned_library()
    kernels, board_reason = load_or_reason(board_tflm)
    if measure_on_arm and kernels is None:
        raise ConverterError(f"--measure-on-arm needs the board's TFLM sources: {board_reason}")
    contract = load_contract(run_dir)
    if contract.version_note:
        log(contract.version_note)
    model = load_model(run_dir, contract)
    windows = load_windows(run_dir, contract)
    x_train = normalize(windows.x_train, contract)
    x_test = normalize(windows.x_test, contract)

    kind = model_kind(contract, model)  # the one place the run's kind is chosen; the rest calls through it
    q = kind.quantize(model, contract, x_train)
    ops = check_before_verifying(q, kind, contract, flash_budget_kb, ram_budget_kb, board_library)
    tflite_path = run_dir / "model_int8.tflite"
    tflite_path.write_bytes(q.model_bytes)
    board = kind.verify(q, model, x_test, kernels)
    verdict = rules.accuracy_verdict(windows.y_test, q.pred_float, q.pred_int8, max_drop_points, min_agreement)

    log("measuring the smallest working tensor arena ...")
    sizes = arena.measure_arena(str(tflite_path))
    budget = cost.budget_report(len(q.model_bytes), sizes["arena_bytes"] + kind.state_bytes(q), flash_budget_kb,
                                ram_budget_kb)
    report = {
        **cost_report(q, kind, ops, sizes, budget),
        **accuracy_report(q, windows.y_test, contract.labels, verdict, max_lsb),
        **model_report(q, kind),
        "board_library": {**board_library, "pinned_in": "platformio.ini"},
        "board_kernels": board,
        "board_kernels_reason": None if board else board_reason,
        "arm_measurement": None,
        "labels": contract.labels,
        "header_dir": str(header_dir.resolve()),
        "headers_written": False,
        "tflite": str(tflite_path),
        **seen_windows_note(run_dir),
    }
    write_record(run_dir, REPORT_FILE, report)
    print_table(report, kind)

    refuse_if_untrustworthy(q, report, max_lsb, tflite_path)
    cost.check_budgets(budget)
    board_verify.refuse_if_different(board, tflite_path)
    if measure_on_arm:
        report["arm_measurement"] = measure_arm(kernels, Path(header_dir), q, kind, contract, ops, sizes)
        write_record(run_dir, REPORT_FILE, report)
        print_arm(report)
    written = headers.write_headers(Path(header_dir), q.model_bytes, contract, q.inp, q.out, ops, sizes["arena_bytes"],
                                    step=kind.step(q), arena_measured_bytes=sizes["arena_measured_bytes"],
                                    board_library=board_verify.board_label(board_library))
    log("wrote " + ", ".join(str(p) for p in written))
    report["headers_written"] = True
    write_record(run_dir, REPORT_FILE, report)
    return report


def check_before_verifying(q: Quantized, kind: ModelKind, contract, flash_budget_kb: float, ram_budget_kb: float,
                           board_library: dict) -> list[flatbuffer.OpInfo]:
    """What refuses the int8 model before verification spends time on it: thresholds its scores cannot represent,
    a model too big for flash, operators TFLM or the board's library lacks. Returns the model's operators."""
    scores = kind.scores(q.model_bytes)
    settings_from_contract(contract, (scores.scale, scores.zero_point))
    cost.check_budgets(cost.budget_report(len(q.model_bytes), 0, flash_budget_kb, ram_budget_kb))
    ops = flatbuffer.read_ops(q.model_bytes)
    layers = flatbuffer.op_layers(q.model_bytes, q.layer_names)
    board_ops.check_tflm_ops(ops, layers)
    board_ops.check_board_ops(q.model_bytes, layers, board_verify.board_label(board_library))
    return ops


def cost_report(q: Quantized, kind: ModelKind, ops: list[flatbuffer.OpInfo], sizes: dict, budget: dict) -> dict:
    """The report's sizes, operators and latency estimate."""
    return {
        "model_kind": kind.name,
        "model_bytes": len(q.model_bytes),
        "arena_bytes": sizes["arena_bytes"],
        "arena_measured_bytes": sizes["arena_measured_bytes"],
        "arena_margin_bytes": sizes["arena_margin_bytes"],
        "arena_recorded_bytes": sizes["arena_recorded_bytes"],
        "arena_probes": sizes["arena_probes"],
        "arena_note": "measured with the TFLM Python interpreter on a 64-bit host: an upper bound for the 32-bit board",
        **budget,
        "ops": [{"name": o.name, "version": o.version} for o in ops],
        "macs": q.macs_per_window,
        "macs_per_invoke": q.macs_per_invoke,
        "cycles_per_mac": cost.CYCLES_PER_MAC,
        "cpu_hz": cost.CPU_HZ,
        "latency_ms_estimate": round(cost.latency_ms(q.macs_per_window), 3),
        "latency_ms_per_invoke_estimate": round(cost.latency_ms(q.macs_per_invoke), 4),
        "latency_note": f"MACs x {cost.CYCLES_PER_MAC:g} cycles per MAC / {cost.CPU_HZ / 1e6:g} MHz "
                        "(FULLY_CONNECTED and convolutions only; an estimate, not a measurement)",
    }


def accuracy_report(q: Quantized, y_test: np.ndarray, labels: list[str], verdict: dict,
                    max_lsb: int) -> dict:
    """The report's float and int8 accuracy, the accuracy rule's verdict and the kernel rule's figures."""
    accuracy_float = float(np.mean(q.pred_float == y_test))
    accuracy_int8 = float(np.mean(q.pred_int8 == y_test))
    return {
        "accuracy_float": accuracy_float,
        "accuracy_int8": accuracy_int8,
        "accuracy_drop_points": round(100.0 * (accuracy_float - accuracy_int8), 4),
        "top1_agreement": float(np.mean(q.pred_float == q.pred_int8)),
        "per_class": per_class_accuracy(y_test, q.pred_float, q.pred_int8, labels),
        "accuracy_check": verdict,
        "max_output_diff_lsb": q.max_lsb,  # the gate: an operator fed identical inputs in TFLM and reference
        "max_output_diff_lsb_allowed": max_lsb + q.extra_lsb,
        "model_output_max_lsb": q.max_lsb if q.output_max_lsb is None else q.output_max_lsb,
        "kernel_rule": rules.KERNEL_RULE,
        "n_test": int(len(y_test)),
        "n_calibration": q.n_calibration,
    }


def model_report(q: Quantized, kind: ModelKind) -> dict:
    """The report's model hash, tensor quantization, GRU step figures and what the model's path adds."""
    return {
        "model_hash": f"0x{headers.fnv1a32(q.model_bytes):08x}",
        "input_quantization": quantization_dict(q.inp),
        "output_quantization": quantization_dict(q.out),
        "gru": kind.step(q),
        **q.extra,
    }


def refuse_if_untrustworthy(q: Quantized, report: dict, max_lsb: int, tflite_path: Path) -> None:
    """The kernel rule, then the accuracy rule (converter/int8/rules.py): either refuses the headers."""
    if q.max_lsb > max_lsb + q.extra_lsb:
        allowed = f"{max_lsb}" if not q.extra_lsb else f"{max_lsb} + {q.extra_lsb} for the GRU's sigmoid/tanh kernels"
        raise ConverterError(
            f"TFLM and the TFLite reference kernels disagree by {q.max_lsb} LSB at {worst_op(q)}, fed identical "
            f"inputs in both (allowed: {allowed}); the int8 model in {tflite_path} is not trustworthy on the board"
        )
    verdict = report["accuracy_check"]
    if verdict["refused"]:
        raise ConverterError(
            f"int8 accuracy {100 * report['accuracy_int8']:.1f}% vs float {100 * report['accuracy_float']:.1f}% on "
            f"{report['n_test']} test windows: {'; '.join(verdict['refused'])}; headers not written. Check the "
            "calibration data or the model, or raise --max-drop / lower --min-agreement"
        )


def worst_op(q: Quantized) -> str:
    """Where the kernel check found its largest difference (the operator, window and step)."""
    return (q.extra.get("reference_agreement") or {}).get("kernel_worst_op") or "some output"


def seen_windows_note(run_dir: Path) -> dict:
    """Whether the deployable model was trained on the test windows (``training fit --final``)."""
    try:
        final = read_record(run_dir, RUN_FILE).get("final_fit")
    except (ContractError, AttributeError):
        final = None
    if not final:
        return {"test_windows_seen_by_model": False}
    return {"test_windows_seen_by_model": True,
            "test_windows_note": ("model.keras was trained on every take (training fit --final), test windows "
                                  "included: accuracy_float / accuracy_int8 here check quantization only; the "
                                  "accuracy on unseen data is metrics.json's, of model_split.keras")}


def measure_arm(kernels, header_dir: Path, q: Quantized, kind: ModelKind, contract, ops, sizes) -> dict:
    """The model in the board's TFLM on Cortex-M4F (QEMU); refuses outputs that differ from the laptop's."""
    import tempfile

    log(f"measuring on Cortex-M4F in QEMU ({kernels.label}; the first build takes minutes) ...")
    with tempfile.TemporaryDirectory(prefix="ng_arm_headers_") as tmp:
        headers.write_headers(Path(tmp), q.model_bytes, contract, q.inp, q.out, ops, sizes["arena_bytes"], step=kind.step(q),
                              arena_measured_bytes=sizes["arena_measured_bytes"])
        m = board_arm.measure(kernels.sources, Path(tmp))
    laptop = board_arm.laptop_outputs(q.model_bytes)
    m["outputs_equal_laptop_tflm"] = m["outputs"] == laptop
    if not m["outputs_equal_laptop_tflm"]:
        raise ConverterError(f"the board's TFLM on Cortex-M4F gives {m['outputs']} where the laptop's TFLM gives {laptop} "
                             "for the same fixed inputs; headers not written")
    if m["arena_used_bytes"] > sizes["arena_bytes"]:
        raise ConverterError(f"the board's TFLM uses {m['arena_used_bytes']} arena bytes on Cortex-M4F, more than the "
                             f"{sizes['arena_bytes']} the header would give it; headers not written")
    return m


def print_arm(report: dict) -> None:
    m = report["arm_measurement"]
    lat = ", ".join(f"{v:.2f} ms at {k.split('_')[0]} cycles/instruction" for k, v in m["latency_ms_per_invoke"].items())
    for key, value in (("measured on Cortex-M4F", f"{m['instructions_per_invoke']:,} instructions per invoke (QEMU)"),
                       ("  latency per invoke", f"{lat} at {m['cpu_hz'] / 1e6:g} MHz (assumed CPI); estimate "
                                                f"{report['latency_ms_per_invoke_estimate']} ms"),
                       ("  arena_used_bytes 32-bit", f"{m['arena_used_bytes']} (firmware arena {report['arena_bytes']})")):
        log(f"  {key:<26}  {value}")


def board_line(report: dict) -> str:
    """The table's board-kernels line: what the board library's own kernels gave, or why they did not run."""
    lib = board_verify.board_label(report["board_library"])
    b = report.get("board_kernels")
    if not b:
        return f"{lib}: not checked ({report.get('board_kernels_reason')})"
    if b["identical"] == b["n"]:
        return f"{lib}: bit-identical to the laptop's TFLM on {b['identical']}/{b['n']} test windows"
    return (f"{lib}: DIFFERENT from the laptop's TFLM (max {b['max_lsb']} LSB); identical on "
            f"{b['identical']}/{b['n']} test windows")


def per_class_accuracy(y: np.ndarray, pred_float: np.ndarray, pred_int8: np.ndarray, labels: list[str]) -> dict:
    """Per label: test windows, and the share of them the float and the int8 model classify right."""
    out = {}
    for i, label in enumerate(labels):
        mask = y == i
        n = int(mask.sum())
        out[label] = {"n": n,
                      "accuracy_float": float(np.mean(pred_float[mask] == i)) if n else None,
                      "accuracy_int8": float(np.mean(pred_int8[mask] == i)) if n else None}
    return out


def print_table(report: dict, kind: ModelKind) -> None:
    """The report as a table on stderr (stdout carries the JSON)."""
    q_in, q_out = report["input_quantization"], report["output_quantization"]
    per, kind_rows = kind.table_rows(report)
    rows = [
        ("model kind", kind.description),
        ("model bytes", f"{report['model_bytes']}  (flash budget {report['flash_budget_bytes']})"),
        ("arena bytes (firmware)", f"{report['arena_bytes']}  (RAM used {report['ram_used_bytes']}, "
                                   f"budget {report['ram_budget_bytes']})"),
        ("arena measured / margin", f"{report['arena_measured_bytes']} + {report['arena_margin_bytes']} (64-bit host)"),
        ("ops", ", ".join(f"{o['name']}/v{o['version']}" for o in report["ops"])),
        (f"MACs per {per}", f"{report['macs']}"),
        ("latency estimate", f"{report['latency_ms_estimate']:.3f} ms per {per} at {report['cpu_hz'] / 1e6:g} MHz, "
                             f"{report['cycles_per_mac']:g} cycles/MAC (assumed)"),
        ("accuracy float (Keras)", f"{100 * report['accuracy_float']:.2f}%"),
        ("accuracy int8 (TFLM)", f"{100 * report['accuracy_int8']:.2f}%"),
        ("top-1 agreement", f"{100 * report['top1_agreement']:.2f}%"),
        ("windows lost / gained / changed", f"{report['accuracy_check']['windows_lost']} / "
         f"{report['accuracy_check']['windows_gained']} / {report['accuracy_check']['windows_changed']}  "
         f"(loss >= {report['accuracy_check']['lost_points_lower_bound']:.2f} points at "
         f"{100 * report['accuracy_check']['confidence']:g} % confidence)"),
        ("max |TFLM - TFLite ref|", f"{report['max_output_diff_lsb']} LSB per operator fed identical inputs; "
                                    f"model outputs {report['model_output_max_lsb']} LSB"),
        ("board kernels", board_line(report)),
        ("test windows", f"{report['n_test']}"),
        ("input scale / zero point", f"{q_in['scale']:.6g} / {q_in['zero_point']}"),
        ("output scale / zero point", f"{q_out['scale']:.6g} / {q_out['zero_point']}"),
    ]
    for label, c in report["per_class"].items():
        if c["n"]:
            rows.append((f"  {label} (n={c['n']})", f"float {100 * c['accuracy_float']:.1f}%, int8 {100 * c['accuracy_int8']:.1f}%"))
    rows += kind_rows
    rows.append(("model hash (FNV-1a)", report["model_hash"]))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        log(f"  {key:<{width}}  {value}")
