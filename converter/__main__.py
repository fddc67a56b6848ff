"""Command line: ``python -m converter convert RUN_DIR``, ``python -m converter install RUN_DIR``,
``python -m converter evaluate RUN_DIR DATA_DIR`` and ``python -m converter board-kernels`` (also
``nanogest convert|install|evaluate-int8|board-kernels``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter off the terminal

from converter import ConverterError  # noqa: E402
from converter.int8 import cost  # noqa: E402
from converter.convert import DEFAULT_MAX_DROP_POINTS, DEFAULT_MAX_LSB, DEFAULT_MIN_AGREEMENT  # noqa: E402
from converter.install import FIRMWARE_HEADER_DIR, RUN_HEADER_DIR_NAME  # noqa: E402
from converter.int8.rules import CONFIDENCE  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m converter",
        description="Quantize a trained run to int8, verify it in the TFLM interpreter, write the firmware headers "
                    "into the run, and install them into the firmware.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (add_convert_parser, add_evaluate_parser, add_install_parser, add_board_kernels_parser):
        add(sub)
    return parser


def add_convert_parser(sub) -> None:
    c = sub.add_parser(
        "convert",
        epilog="example: %(prog)s runs/r1   (then: nanogest install runs/r1)",
        help=f"RUN_DIR -> model_int8.tflite, report.json and the generated firmware headers in RUN_DIR/{RUN_HEADER_DIR_NAME}",
        description=(
            "Quantize RUN_DIR/model.keras to a full-int8 .tflite (calibrated on the run's training windows), "
            "check every operator is available in TFLM, compare TFLM with the TFLite reference kernels and "
            "the float model on the test windows, measure the smallest tensor arena, check the flash and RAM "
            "budgets, and write model_data.h/.cc, model_settings.h and op_resolver.h into the run "
            f"(RUN_DIR/{RUN_HEADER_DIR_NAME}/; `install` puts them into the firmware). A GRU network (arch gru, "
            "cnn-gru) is exported as a one-step model (x_t, h) -> (h', scores) and verified by stepping it "
            "through every test window in TFLM. Dense layers get per-tensor weights and GlobalAveragePooling1D "
            "becomes AVERAGE_POOL_2D, because the board's TFLM library computes per-channel FULLY_CONNECTED and "
            "MEAN differently (a model still using them is refused); where that library's sources are found "
            "(--board-tflm) every test window also runs in its own kernels and any output that is not "
            "bit-identical refuses the model. The report goes to RUN_DIR/report.json and stdout; the table "
            "to stderr. Any refusal exits with status 2 and leaves the headers untouched."
        ),
    )
    c.add_argument("run_dir", metavar="RUN_DIR", type=Path, help="run directory written by `nanogest fit`")
    c.add_argument("--header-dir", type=Path, default=None, metavar="DIR",
                   help=f"where to write the generated headers (default: RUN_DIR/{RUN_HEADER_DIR_NAME})")
    c.add_argument("--max-drop", type=float, default=DEFAULT_MAX_DROP_POINTS, metavar="POINTS",
                   help=f"refuse when, with {100 * CONFIDENCE:g}%% confidence (exact binomial bound on the number of "
                        "test windows), int8 gets more than this many percent of the windows wrong that float gets "
                        "right: 1-2 such windows of 43 pass, 3 are refused (default: %(default)s)")
    c.add_argument("--min-agreement", type=float, default=DEFAULT_MIN_AGREEMENT, metavar="FRACTION",
                   help=f"refuse when, with {100 * CONFIDENCE:g}%% confidence, float and int8 give the same label on "
                        "fewer than this share of the test windows (default: %(default)s)")
    c.add_argument("--flash-budget-kb", type=float, default=cost.DEFAULT_FLASH_BUDGET_KB, metavar="KB",
                   help=f"refuse a model larger than this (default: %(default)s = {cost.FLASH_TOTAL_KB} KB flash of the "
                        f"nRF52840 minus {cost.FLASH_ALLOWANCE_KB} KB for bootloader, core, drivers, TFLM and firmware)")
    c.add_argument("--ram-budget-kb", type=float, default=cost.DEFAULT_RAM_BUDGET_KB, metavar="KB",
                   help=f"refuse a model whose tensor arena (plus GRU state) is larger than this (default: %(default)s = "
                        f"{cost.RAM_TOTAL_KB} KB RAM minus {cost.RAM_ALLOWANCE_KB} KB for the core, USB, stacks and firmware)")
    c.add_argument("--board-tflm", type=Path, default=None, metavar="DIR",
                   help="the board's TFLM library (its root, with library.properties) to build for the host and run "
                        "every test window through, refusing any output that differs from the laptop's TFLM "
                        "(default: $NANOGEST_BOARD_TFLM, else PlatformIO's .pio/libdeps/nano33ble/Chirale_TensorFLowLite*; "
                        "without sources the report says board_kernels: null and why)")
    c.add_argument("--measure-on-arm", action="store_true",
                   help="also build the board's TFLM for Cortex-M4F (needs its sources, arm-none-eabi-gcc and "
                        "qemu-system-arm; minutes the first time) and run the model in QEMU: report.json's "
                        "arm_measurement gives instructions per invoke, the 32-bit arena and the latency at 64 MHz "
                        "for 1.0-1.5 cycles per instruction beside the MAC estimate; outputs that differ from the "
                        "laptop's, or an arena larger than the header's, refuse the model")
    c.add_argument("--max-lsb", type=int, default=DEFAULT_MAX_LSB, metavar="LSB",
                   help="refuse when an operator fed identical inputs in TFLM and the TFLite reference kernels "
                        "gives outputs more than this apart; every operator is compared on up to 400 test windows, and "
                        "what 1-LSB roundings grow to downstream (model outputs) is reported, not gated "
                        "(default: %(default)s)")
    c.set_defaults(func=_convert)


def add_install_parser(sub) -> None:
    i = sub.add_parser(
        "install",
        epilog="example: %(prog)s runs/r1   (then: make firmware, or make flash RUN=runs/r1)",
        help="put a converted RUN_DIR's headers into the firmware (the one step before building or flashing)",
        description=(
            "Check that RUN_DIR/report.json shows the converter wrote the run's headers, that model_int8.tflite, "
            "model_settings.h's kModelHash and the bytes of model_data.cc all hash to the report's model_hash, "
            "then copy model_data.h, model_data.cc, model_settings.h and op_resolver.h into the firmware's "
            "generated folder, which `make firmware` / `make flash` build. Prints what it copied. Exit status 2, "
            "nothing copied, when any check fails."
        ),
    )
    i.add_argument("run_dir", metavar="RUN_DIR", type=Path, help="a run directory converted by `nanogest convert`")
    i.add_argument("--dest", type=Path, default=FIRMWARE_HEADER_DIR, metavar="DIR",
                   help="where to put them (default: the firmware's %(default)s)")
    i.set_defaults(func=_install)


def add_board_kernels_parser(sub) -> None:
    b = sub.add_parser(
        "board-kernels",
        epilog="example: %(prog)s --board-tflm .pio/libdeps/nano33ble/Chirale_TensorFLowLite",
        help="build the board's TFLM library for the host (cached) and print what was built (JSON)",
        description=(
            "Find the board's TFLM library sources (--board-tflm DIR, else $NANOGEST_BOARD_TFLM, else PlatformIO's "
            ".pio/libdeps/nano33ble/Chirale_TensorFLowLite*), check they are the version platformio.ini pins, "
            "compile them for the host with g++/gcc (minutes the first time, progress on stderr; cached under "
            "firmware/build/board_tflm/) and print the library, version, sources and shared library as JSON. "
            "convert and the virtual board use the same build."
        ),
    )
    b.add_argument("--board-tflm", type=Path, default=None, metavar="DIR",
                   help="the board TFLM library's root directory (it holds library.properties)")
    b.set_defaults(func=_board_kernels)


def add_evaluate_parser(sub, name: str = "evaluate") -> None:
    """``evaluate`` here; ``nanogest`` names it ``evaluate-int8``, beside training's float-only ``evaluate``."""
    e = sub.add_parser(
        name,
        epilog="example: %(prog)s runs/r1 new-person-data",
        help="score the float and int8 models on every window of a dataset (JSON on stdout)",
        description=(
            "Cut every take of DATA_DIR into windows with the run's contract, run the Keras float model and "
            "the int8 model in the TFLM interpreter on each, and print one JSON object: n, accuracy_float, "
            "accuracy_int8, accuracy_board (after the novelty gate, as the board reports), top1_agreement, macro_f1_int8 and per-class recall. Run `convert` first."
        ),
    )
    e.add_argument("run_dir", metavar="RUN_DIR", type=Path, help="a converted run directory")
    e.add_argument("data_dir", metavar="DATA_DIR", type=Path, help="dataset directory (DATA_DIR/<label>/<take>.csv)")
    e.set_defaults(func=_evaluate)


def _import_tensorflow_quietly() -> None:
    """TensorFlow's native start-up messages are not for our users; import it once with them muted."""
    from converter.int8.quantize import quiet_native_output

    with quiet_native_output():
        import tensorflow  # noqa: F401


# Each command imports its modules in its function: install never loads TensorFlow, the others only
# after _import_tensorflow_quietly has muted its start-up messages.
def _install(args) -> int:
    from converter.install import install_headers

    print("\n".join(install_headers(args.run_dir, args.dest)))
    return 0


def _convert(args) -> int:
    _import_tensorflow_quietly()
    from converter.convert import convert_run

    return _print(convert_run(args.run_dir, header_dir=args.header_dir, max_drop_points=args.max_drop,
                              max_lsb=args.max_lsb, flash_budget_kb=args.flash_budget_kb,
                              ram_budget_kb=args.ram_budget_kb, min_agreement=args.min_agreement,
                              board_tflm=args.board_tflm, measure_on_arm=args.measure_on_arm))


def _board_kernels(args) -> int:
    _import_tensorflow_quietly()
    from converter.board import board_tflm

    return _print(board_tflm.load(args.board_tflm).describe())


def _evaluate(args) -> int:
    _import_tensorflow_quietly()
    from converter.evaluate import evaluate_run

    return _print(evaluate_run(args.run_dir, args.data_dir))


def _print(report: dict) -> int:
    print(json.dumps(report, indent=2))
    return 0


def run(args: argparse.Namespace) -> int:
    """Run a parsed converter command (``args.func``); a refusal ends in one ``error:`` line and status 2."""
    try:
        return args.func(args)
    except ConverterError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


def main(argv: list[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
