"""``python -m boardtools.virtual_build RUN_DIR|MODEL.tflite``: the virtual board built for one run (its path on
stdout, build messages on stderr).

The virtual board takes its model settings the way the board does: the run's generated model_settings.h,
compiled in through the firmware's ng_header_settings.h (firmware/host/run_settings.cpp). The core and the
virtual board's host parts are built once (``make -C firmware host``); per run only that one file is
compiled and the programs linked (virtual_board, and the test programs input_vectors and
postprocess_vectors), by ``make -C firmware run-programs``, into firmware/build/host/runs/KEY/. KEY hashes
the header and everything the programs are linked from, so a run is built once and a changed core builds
anew. ``build/host/virtual_board --model RUN_DIR`` asks this module for that program and becomes it.

Which header: the one ``nanogest convert`` wrote for this model (report.json's header_dir, else
RUN_DIR/generated) when its kModelHash is the model's and contract.json has not changed since; otherwise
(a bare .tflite, a run whose conversion was refused or whose header is another model's, a contract
calibrated or edited after converting) the converter's generator writes one from contract.json and the
model's tensors, as ``nanogest convert`` would now (converter.headers.model_settings_h).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from capture.errors import CaptureError
from converter import ConverterError, headers, install
from converter.gru import stepping
from converter.int8.flatbuffer import read_io
from converter.gru.step_kind import RESET_RULE
from converter.run_dir import load_contract

FIRMWARE = Path(__file__).resolve().parents[1] / "firmware"
HOST_BUILD = FIRMWARE / "build" / "host"
RUNS = HOST_BUILD / "runs"
MODEL_NAME = "model_int8.tflite"
PROGRAMS = ("virtual_board", "input_vectors", "postprocess_vectors")
# What a run's programs are made of besides its header (firmware/Makefile, run-programs): a change to
# any of them makes a new cache key.
LINKED = ("libvboard.a", *(f"obj/host/{p}.o" for p in PROGRAMS))


def log(message: str) -> None:
    print(f"[virtual board] {message}", file=sys.stderr, flush=True)


def model_and_run(path: Path) -> tuple[Path, Path]:
    """(the .tflite, the directory holding its contract.json) of a run directory or a bare .tflite."""
    path = Path(path)
    model = path / MODEL_NAME if path.is_dir() else path
    if not model.is_file():
        raise CaptureError(f"{path}: no converted model there ({MODEL_NAME}); pass a run directory converted with "
                           f"`nanogest convert RUN_DIR`, or a .tflite with its contract.json beside it")
    return model, model.parent


def converted_header(run: Path, model_hash: int) -> Path | None:
    """The model_settings.h ``nanogest convert`` wrote for this model in ``run``, if it is there."""
    places = [install.run_header_dir(run)]
    try:
        header_dir = json.loads((run / "report.json").read_text()).get("header_dir")
    except (OSError, ValueError, AttributeError):
        header_dir = None
    if isinstance(header_dir, str):
        places.insert(0, Path(header_dir))
    for place in places:
        if install.settings_model_hash(place) == model_hash:
            return place / "model_settings.h"
    return None


def step_header_dict(step: stepping.StepSettings) -> dict:
    """A one-step model's constants for converter.headers, read from its tensors (as convert records them)."""
    io = step.io
    quant = lambda t, position: {"scale": t.scale, "zero_point": t.zero_point, "position": position}  # noqa: E731
    return {"units": step.state_size, "chunk_samples": step.chunk_samples, "stride_samples": step.stride_samples,
            "steps_per_window": step.steps_per_window, "x_input_position": io.x_pos,
            "scores_output_position": io.scores_pos, "state_input": quant(io.h, io.h_pos),
            "state_output": quant(io.h_next, io.h_next_pos), "state_carried_as_int8": io.state_carried_as_int8,
            "state_carry": "copy h' into h as int8" if io.state_carried_as_int8 else "requantize h' into h",
            "reset_rule": RESET_RULE}


def generated_header(model_bytes: bytes, run: Path) -> str:
    """model_settings.h as ``nanogest convert`` writes it, from ``run``/contract.json and the model's tensors
    (the arena sizes from ``run``/report.json when it has them: only an error message uses them)."""
    contract_path = run / "contract.json"
    if not contract_path.is_file():
        raise CaptureError(f"{contract_path}: missing; the virtual board needs the run's contract.json next to the model")
    contract = load_contract(run)
    if contract.version_note:
        log(contract.version_note)
    step = stepping.step_settings(model_bytes, contract)
    inp, out = read_io(model_bytes) if step is None else (step.io.x, step.io.scores)
    if inp.type != "INT8" or out.type != "INT8":
        raise CaptureError(f"the model's input/output are {inp.type}/{out.type}, not INT8; convert it with "
                           "`nanogest convert`")
    want = (1, contract.window, len(contract.channels)) if step is None else tuple(step.io.x.shape)
    if tuple(inp.shape) != want or tuple(out.shape) != (1, len(contract.labels)):
        raise CaptureError(f"the model's tensors {tuple(inp.shape)} -> {tuple(out.shape)} do not match {contract_path} "
                           f"(window {contract.window}, {len(contract.labels)} labels): model and contract are from "
                           "different runs")
    try:
        report = json.loads((run / "report.json").read_text())
    except (OSError, ValueError):
        report = {}
    report = report if isinstance(report, dict) else {}
    measured = report.get("arena_measured_bytes")
    return headers.model_settings_h(contract, inp, out, int(report.get("arena_bytes") or 0), headers.fnv1a32(model_bytes),
                                    None if step is None else step_header_dict(step),
                                    measured if isinstance(measured, int) else None)


def run_header(path: Path) -> str:
    """The text of the model_settings.h the virtual board for ``path`` (RUN_DIR or .tflite) is built with."""
    model, run = model_and_run(path)
    model_bytes = model.read_bytes()
    model_hash = headers.fnv1a32(model_bytes)
    converted = converted_header(run, model_hash) if model.name == MODEL_NAME else None
    contract = run / "contract.json"
    if converted is not None and not (contract.is_file() and contract.stat().st_mtime > converted.stat().st_mtime):
        return converted.read_text(encoding="utf-8")
    if converted is not None:  # calibrate, stream --tune or a hand edit since: follow the contract, as replay does
        log(f"note: {contract} changed after {converted} was written: the virtual board is built with the header "
            f"convert would write now; run `nanogest convert {run}` before flashing a board")
    else:
        log(f"{run} has no header `nanogest convert` wrote for model 0x{model_hash:08x}: writing one from its "
            "contract.json and the model, as convert does")
    return generated_header(model_bytes, run)


def need_compiler() -> None:
    for tool in ((os.environ.get("CXX") or "g++").split()[0], "make"):  # CXX may be "ccache g++"
        if shutil.which(tool) is None:
            raise CaptureError(f"the virtual board is built for each model with make and g++, and {tool} is not "
                               "installed (Debian/Ubuntu: sudo apt-get install make g++)")


def make(*args: str) -> None:
    proc = subprocess.run(["make", "-s", "-C", str(FIRMWARE), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise CaptureError(f"building the virtual board failed (`make -C firmware {args[0]}`; its output is above)")


def programs_for_header(header_text: str) -> Path:
    """The directory of PROGRAMS built with ``header_text`` as model_settings.h (built now unless cached)."""
    need_compiler()
    make("host")  # the objects every run links: a no-op when they are current
    key = hashlib.sha256(header_text.encode("utf-8"))
    for name in LINKED:
        key.update((HOST_BUILD / name).read_bytes())
    out = RUNS / key.hexdigest()[:16]
    if all((out / p).is_file() for p in PROGRAMS):
        return out
    RUNS.mkdir(parents=True, exist_ok=True)
    # Built under a private name and renamed: two processes building the same run never share a file.
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=RUNS))
    try:
        (tmp / "model_settings.h").write_text(header_text, encoding="utf-8", newline="\n")
        make("run-programs", f"RUN_OUT={tmp}")
        try:
            tmp.rename(out)
        except OSError:
            if not all((out / p).is_file() for p in PROGRAMS):  # not another process's finished build
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def board_for(path: Path) -> Path:
    """The virtual board program built for the run (or .tflite) at ``path``."""
    return programs_for_header(run_header(path)) / "virtual_board"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m boardtools.virtual_build",
                                description="Build (or find in the cache) the virtual board for one converted run "
                                            "and print its path.",
                                epilog="example: python -m boardtools.virtual_build runs/first")
    p.add_argument("model", type=Path, metavar="RUN_DIR|MODEL.tflite",
                   help="a converted run directory, or a .tflite with its contract.json beside it")
    a = p.parse_args(argv)
    try:
        print(board_for(a.model))
    except (CaptureError, ConverterError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
