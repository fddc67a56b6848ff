"""``nanogest verify-board --run RUN_DIR``: does the board run this run's model?

After ``make flash`` the board resets and re-enumerates, so the port is waited for (up to
``--wait`` seconds): an explicit ``--port`` path is polled until it exists and answers; without
``--port`` the single Nano 33 BLE is found by its USB ids. The board's DEVICE_INFO names the
FNV-1a hash of the model it runs and its labels; they must equal RUN_DIR/report.json's
``model_hash`` (written by the converter) and contract.json's ``labels``.

Exit status: 0 the board runs this run's model; 1 it does not, or no board answered in time
(one sentence on stderr says what to do); 2 unusable input (no such run, ambiguous ports).
One JSON object goes to stdout whenever the board answered.

``make flash RUN=RUN_DIR`` runs it last, after ``nanogest install RUN_DIR`` has put
the run's headers into the firmware and PlatformIO has uploaded it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from boardtools.replay import start_virtual_board
from capture.errors import CaptureError
from capture.wire.ports import ensure_virtual_board, find_ports, format_ports, open_port
from capture.wire.session import Session
from contract.document import ContractError
from contract.resample import rates_note
from contract.run_dir import CONTRACT_FILE, read_contract, read_record

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SIM_MODEL = REPO_ROOT / "firmware" / "build" / "host" / "default_run"
DEFAULT_WAIT_S = 30.0
POLL_S = 0.25
EXIT_OK, EXIT_MISMATCH, EXIT_BAD_INPUT = 0, 1, 2


class BoardCheckFailed(CaptureError):
    """The board does not run the run's model, or no board answered in time (exit status 1)."""


def log(message: str) -> None:
    print(f"[verify-board] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------- the run's side


def _read_json(path: Path) -> dict:
    try:
        data = read_record(path.parent, path.name)
    except ContractError as e:
        raise CaptureError(f"{e}; re-run `nanogest convert {path.parent}`") from None
    if not isinstance(data, dict):
        raise CaptureError(f"{path}: expected a JSON object")
    return data


def parse_hash(value, where: str) -> int:
    """A model hash as the converter writes it ("0x1234abcd"), or an int."""
    try:
        h = int(value, 16) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise CaptureError(f"{where}: model_hash {value!r} is not a hex number like 0x1234abcd; re-run the converter") from None
    if not 0 <= h <= 0xFFFFFFFF:
        raise CaptureError(f"{where}: model_hash {value!r} does not fit in 32 bits")
    return h


def run_model(run_dir: Path) -> tuple[int, list[str]]:
    """(model hash, labels) a board flashed with ``run_dir`` must report.

    The hash comes from report.json (the converter's record of what it wrote to the
    headers); a run without a report falls back to hashing model_int8.tflite."""
    from converter.headers import fnv1a32  # tflite-micro (its schema) stays off the fast path

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise CaptureError(f"{run_dir}: no such run directory; pass the RUN_DIR you converted "
                           "(nanogest convert RUN_DIR)")
    contract_path = run_dir / CONTRACT_FILE
    if not contract_path.is_file():
        raise CaptureError(f"{contract_path}: missing; RUN_DIR must be a run written by `nanogest fit`")
    try:
        labels = list(read_contract(run_dir).labels)
    except ContractError as e:
        raise CaptureError(str(e)) from None
    report_path, tflite = run_dir / "report.json", run_dir / "model_int8.tflite"
    tflite_hash = fnv1a32(tflite.read_bytes()) if tflite.is_file() else None
    if report_path.is_file():
        model_hash = parse_hash(_read_json(report_path).get("model_hash"), str(report_path))
        if tflite_hash is not None and tflite_hash != model_hash:
            raise CaptureError(f"{report_path} says model 0x{model_hash:08x} but {tflite} hashes to 0x{tflite_hash:08x}: "
                               f"the run was changed after converting; re-run `nanogest convert {run_dir}`")
        return model_hash, labels
    if tflite_hash is None:
        raise CaptureError(f"{run_dir}: has no report.json; convert it first with `nanogest convert {run_dir}`")
    log(f"{run_dir} has no report.json; using the FNV-1a hash of {tflite.name}")
    return tflite_hash, labels


# ----------------------------------------------------------------- the board's side


def _open_sim(url: str):
    """``sim://`` (the committed default model) or ``sim://?model=RUN_DIR[&imu=bmi270]``: a virtual board."""
    query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    unknown = sorted(set(query) - {"model", "imu"})
    if unknown:
        raise CaptureError(f"{url}: verify-board's sim:// takes only ?model=RUN_DIR (the model the virtual board "
                           f"runs) and &imu=lsm9ds1|bmi270, not {unknown[0]!r}")
    model = Path(query["model"]).expanduser() if "model" in query else DEFAULT_SIM_MODEL
    if "model" not in query and not model.is_dir():
        ensure_virtual_board()
        if not model.is_dir():  # the binary existed but the default run was not assembled yet
            subprocess.run(["make", "-C", str(REPO_ROOT / "firmware"), "host"], stdout=sys.stderr, stderr=sys.stderr)
    if not model.exists():
        raise CaptureError(f"{url}: the virtual board's model {model} does not exist; build it with `make -C firmware host`")
    return start_virtual_board(model, imu=query.get("imu"))


def wait_for_port(port: str | None, wait_s: float) -> str:
    """The port to open: an explicit path once it exists, else the single Nano 33 BLE by USB ids."""
    deadline = time.monotonic() + wait_s
    said = False
    while True:
        if port is not None:
            if os.path.exists(port):
                return port
        else:
            ports = find_ports()
            candidates = [p for p in ports if p.is_candidate]
            if len(candidates) == 1:
                log(f"found {candidates[0].device} ({candidates[0].note})")
                return candidates[0].device
            if len(candidates) > 1:
                print(format_ports(ports), file=sys.stderr)
                raise CaptureError(f"{len(candidates)} Nano 33 BLE boards found; choose one with --port PATH")
        if time.monotonic() >= deadline:
            break
        if not said:
            log(f"waiting up to {wait_s:g} s for {port or 'a Nano 33 BLE'} to appear ...")
            said = True
        time.sleep(POLL_S)
    if port is not None:
        raise BoardCheckFailed(f"{port} did not appear within {wait_s:g} s; check the cable (press reset once if the "
                               "LED pulses: the board is in its bootloader), or list boards with: nanogest ports")
    raise BoardCheckFailed(f"no Nano 33 BLE running a sketch appeared within {wait_s:g} s; check the cable, press reset "
                           "once if the LED pulses (bootloader), or pass --port PATH")


def read_device_info(url: str, wait_s: float):
    """(port name, DeviceInfo) of the board at ``url``; retries opening and asking until ``wait_s`` passed."""
    if url.startswith("sim://"):
        with _open_sim(url) as board:
            return board.name, Session(board).hello()
    deadline = time.monotonic() + wait_s
    while True:
        try:
            with open_port(url) as board:
                return board.name, Session(board).hello()
        except CaptureError as e:  # just re-enumerated: not openable or not answering yet
            reason = str(e)
        if time.monotonic() >= deadline:
            raise BoardCheckFailed(f"the board on {url} did not answer within {wait_s:g} s ({reason})")
        time.sleep(POLL_S)


# ------------------------------------------------------------------------ the check


def compare(info, port_name: str, run_dir: Path, model_hash_run: int, labels_run: list[str]) -> tuple[dict, str | None]:
    """The verify-board JSON object, and the sentence that says what is wrong (None: all good)."""
    board_hash = int(info.fields.get("model_hash", 0))
    labels_board = info.fields.get("labels")
    labels_match = labels_board == labels_run
    model_rate_mhz = int(info.fields.get("model_rate_mhz", 0))
    result = {"port": port_name, "board": info.board, "imu": info.imu, "rate_hz": info.rate_hz,
              "model_rate_hz": model_rate_mhz / 1000 if model_rate_mhz else None,
              "board_resamples": bool(model_rate_mhz) and model_rate_mhz != int(info.fields["rate_mhz"]),
              "rates_note": rates_note(info.fields["rate_mhz"], model_rate_mhz),
              "firmware": info.firmware, "model_hash_board": f"0x{board_hash:08x}",
              "model_hash_run": f"0x{model_hash_run:08x}", "labels_match": labels_match,
              "labels_board": labels_board, "labels_run": labels_run}
    problem = None
    if not labels_board and board_hash == 0:
        problem = (f"the board on {port_name} runs nanogest firmware without a model; flash one with: "
                   f"make flash RUN={run_dir}")
    elif board_hash != model_hash_run:
        problem = (f"the board runs model 0x{board_hash:08x} but {run_dir} was converted to 0x{model_hash_run:08x}: "
                   f"flash again with make flash RUN={run_dir}")
    elif not labels_match:
        problem = (f"the board runs {run_dir}'s model 0x{board_hash:08x} but announces labels {labels_board}, while "
                   f"its contract.json has {labels_run}: the headers came from another contract; re-run "
                   f"`nanogest convert {run_dir}` and make flash RUN={run_dir}")
    result["ok"] = problem is None
    return result, problem


def verify_board(run_dir: Path, port: str | None = None, wait_s: float = DEFAULT_WAIT_S) -> tuple[dict, str | None]:
    model_hash_run, labels_run = run_model(run_dir)
    url = port if port is not None and port.startswith("sim://") else wait_for_port(port, wait_s)
    port_name, info = read_device_info(url, wait_s)
    return compare(info, port_name, run_dir, model_hash_run, labels_run)


def main_verify(a) -> int:
    if a.wait < 0:
        raise CaptureError(f"--wait must be 0 or more seconds, not {a.wait:g}")
    try:
        result, problem = verify_board(a.run, a.port, a.wait)
    except BoardCheckFailed as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_MISMATCH
    print(json.dumps(result))
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_MISMATCH
    log(f"ok: {result['port']} runs model {result['model_hash_board']} with labels {', '.join(result['labels_run'])}")
    if result["rates_note"]:
        log(f"note: {result['rates_note']}")
    return EXIT_OK


VERIFY_EPILOG = """examples:
  %(prog)s --run runs/r1
  %(prog)s --run runs/r1 --port /dev/ttyACM0 --wait 60
  %(prog)s --run firmware/build/host/default_run --port sim://   (the virtual board)"""


def add_verify_parser(sub) -> None:
    v = sub.add_parser("verify-board", help="check that the board runs RUN_DIR's model (after make flash)",
                       description=textwrap.fill(
                           "Wait for the board's port to (re)appear, read its DEVICE_INFO and check that the model "
                           "hash and labels it reports equal RUN_DIR/report.json's model_hash and contract.json's "
                           "labels. Prints one JSON object (port, board, imu, rate_hz, model_rate_hz, board_resamples, "
                           "model_hash_board, model_hash_run, labels_match, ok) on stdout. Exit status 0: they match; "
                           "1: they do not, or no board answered in time; 2: unusable input.", 100),
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=VERIFY_EPILOG)
    v.add_argument("--run", type=Path, required=True, metavar="RUN_DIR",
                   help="the converted run directory that was flashed (report.json, contract.json)")
    v.add_argument("--port", default=None,
                   help="serial device (e.g. /dev/ttyACM0, COM5), polled until it exists; or sim:// "
                        "(a virtual board with the committed default model) or sim://?model=RUN_DIR[&imu=bmi270]; "
                        "default: the single Nano 33 BLE found by its USB ids")
    v.add_argument("--wait", type=float, default=DEFAULT_WAIT_S, metavar="S",
                   help=f"seconds to wait for the board to (re)appear and answer (default {DEFAULT_WAIT_S:g})")
    v.set_defaults(func=main_verify)
