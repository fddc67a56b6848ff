"""``nanogest replay RUN_DIR DATA_DIR``: the board's recognition path against the laptop's.

Every take of DATA_DIR is streamed to a board in replay mode as ``sample`` lines of
int16 counts at the board's IMU rate (its own scales and rate, from DEVICE_INFO; a take
recorded at another rate is resampled to it first with ``contract.resample``), in chunks
of about CHUNK_WINDOWS windows, each answered before the next is sent (so a take of any
length loses no frame to the board's TX ring: ``BoardLink.send_samples``); the board
resamples them to the model's rate, windows, normalizes, quantizes, runs the model and
answers one PREDICTION frame per window. The laptop computes the same windows from the
same counts (``input_tensors``: the same resampler to the model's rate, counts -> g and
deg/s in float32, windows every hop, ``contract.input.normalize``, TFLite's int8 rounding)
and runs them in the TFLM Python interpreter (``converter.int8.tflm.run_tflm``). A GRU one-step
model is stepped instead (``host_step_scores``, ``converter.gru.stepping``): windows follow each
other without overlap, each from h = 0, as the board runs it. The summary (agreement,
accuracy, inference time) is one JSON object on stdout.

Without ``--port`` a virtual board is started with ``--model RUN_DIR`` and ``--imu`` (lsm9ds1:
Rev1 at 119 Hz, bmi270: Rev2 at 100 Hz). Talking to the board (the link, its flow control, the
virtual board) is ``boardtools.board_link``'s.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

# Talking to the board is board_link's; monitor, verify-board, stream, the benches and tests import these names
# from here too (start_virtual_board only for them).
from boardtools.board_link import (VIRTUAL_IMUS, BoardLink, board_predictions, chunk_samples,  # noqa: F401
                                   enter_replay, log, open_board, start_virtual_board, virtual_board_runner)
from capture.wire import protocol_spec as spec
from capture.dataset import DatasetError, list_takes, read_take
from capture.errors import CaptureError
from contract.input import normalize, quantize
from contract.resample import counts_to_values, rate_mhz, resample_counts, values_to_counts
from contract.document import Contract, ContractError, as_contract
from contract.run_dir import INT8_MODEL_FILE, read_contract
from converter import ConverterError

MODEL_NAME = INT8_MODEL_FILE


# ------------------------------------------------------------------ the laptop side


def board_windows(samples: np.ndarray, window: int, hop: int) -> np.ndarray:
    """The windows the board completes: after ``window`` samples, then every ``hop``."""
    starts = range(0, len(samples) - window + 1, hop) if len(samples) >= window else range(0)
    return np.stack([samples[s:s + window] for s in starts]) if len(starts) else np.zeros((0, window, 6), np.float32)


def to_model_rate(counts: np.ndarray, contract: Contract, imu_rate_mhz: int | None) -> np.ndarray:
    """IMU counts at ``imu_rate_mhz`` as the board resamples them to the contract's rate (None: already there)."""
    if imu_rate_mhz is None:
        return counts
    return resample_counts(counts, imu_rate_mhz, rate_mhz(contract.rate_hz))


def input_tensors(counts: np.ndarray, contract: Contract | dict, scales: tuple[float, float], input_q: tuple[float, int],
                  imu_rate_mhz: int | None = None) -> np.ndarray:
    """The int8 input tensors (n, window, 6) of every board window of one take's counts (an IMU
    stream at ``imu_rate_mhz``, resampled to the model's rate as the board does; None: at that rate)."""
    contract = as_contract(contract)
    counts = to_model_rate(counts, contract, imu_rate_mhz)
    windows = board_windows(counts_to_values(counts, *scales), contract.window, contract.hop)
    return quantize(normalize(windows, contract), *input_q)


def host_window_scores(model_bytes: bytes, x: np.ndarray, contract: Contract, input_q: tuple[float, int]) -> np.ndarray:
    """The int8 scores the board hands its post-processing for int8 input windows ``x``: the model's in
    the laptop's TFLM, with the windows the contract's novelty gate rejects made unknown (converter/gate.py)."""
    return host_window_parts(model_bytes, x, contract, input_q)[0]


def host_window_parts(model_bytes: bytes, x: np.ndarray, contract: Contract, input_q: tuple[float, int]):
    """(the board's int8 scores as host_window_scores, the model's own before the novelty gate, each window's
    gate distance over its level or None without a gate), for tuning the gate's level."""
    from converter.gate import gated_scores_and_ratios
    from converter.int8.tflm import run_tflm

    if not len(x):
        empty = np.zeros((0, len(contract.labels)), np.int8)
        return empty, empty, None if contract.novelty_gate is None else np.zeros(0)
    model_q = run_tflm(model_bytes, x)
    scores, ratio = gated_scores_and_ratios(model_q, x, contract, input_q)
    return scores, model_q, ratio


def step_input_samples(counts: np.ndarray, contract: Contract, scales: tuple[float, float], step,
                       imu_rate_mhz: int | None = None) -> np.ndarray:
    """Every sample of a take's counts (resampled to the model's rate as the board does) as a step model's
    int8 input (samples, channels): normalized and quantized per sample like the board."""
    counts = to_model_rate(counts, contract, imu_rate_mhz)
    return quantize(normalize(counts_to_values(counts, *scales), contract), step.io.x.scale, step.io.x.zero_point)


def host_step_scores(counts: np.ndarray, contract: Contract, scales: tuple[float, float], model_bytes: bytes,
                     step, imu_rate_mhz: int | None = None) -> np.ndarray:
    """A GRU one-step model's int8 window scores (n, labels), stepped as the board steps it
    (converter.gru.stepping.StepSettings): x_t quantized per sample like the board, a step every
    stride samples on the last chunk, h = 0 at each window's start, the last step's scores, with the
    windows the contract's novelty gate rejects over the samples the steps read made unknown."""
    return host_step_parts(counts, contract, scales, model_bytes, step, imu_rate_mhz)[0]


def host_step_parts(counts: np.ndarray, contract: Contract, scales: tuple[float, float], model_bytes: bytes,
                    step, imu_rate_mhz: int | None = None):
    """(host_step_scores' scores, the model's own before the novelty gate, each window's gate distance over its
    level or None without a gate): host_window_parts for a step model."""
    from converter.gate import gated_scores_and_ratios
    from converter.gru.stepping import run_tflm_steps_int8  # tflite-micro (its schema) stays off the fast path

    xq = step_input_samples(counts, contract, scales, step, imu_rate_mhz)
    starts = step.step_starts(len(xq))
    if not len(starts):
        empty = np.zeros((0, len(contract.labels)), np.int8)
        return empty, empty, None if contract.novelty_gate is None else np.zeros(0)
    if len(step.io.x.shape) == 3:  # a chunk of samples per step (Conv1D front end)
        steps_x = xq[starts[..., None] + np.arange(step.chunk_samples)]
    else:
        steps_x = xq[starts]
    model_q = run_tflm_steps_int8(model_bytes, steps_x, step.io).scores
    scores, ratio = gated_scores_and_ratios(model_q, step.read_windows(xq), contract,
                                            (step.io.x.scale, step.io.x.zero_point))
    return scores, model_q, ratio


# ----------------------------------------------------------------------- replay


def load_run(run_dir: Path) -> tuple[Contract, bytes]:
    """(contract, model bytes) of a converted run directory."""
    try:
        contract = read_contract(run_dir)
    except ContractError as e:
        raise CaptureError(str(e)) from None
    model = run_dir / MODEL_NAME
    if not model.is_file():
        raise CaptureError(f"{run_dir}: has no {MODEL_NAME}; convert it first with `nanogest convert {run_dir}`")
    return contract, model.read_bytes()


def summarize_times(inference_us: list[int]) -> dict:
    if not inference_us:
        return {}
    t = np.asarray(inference_us, dtype=np.float64)
    return {"inference_us_mean": float(t.mean()), "inference_us_median": float(np.median(t)),
            "inference_us_p95": float(np.percentile(t, 95)), "inference_us_max": float(t.max())}


def replay(run_dir: Path, data_dir: Path, port: str | None = None, board_tflm: Path | None = None,
           imu: str | None = None) -> dict:
    """Replay every take of ``data_dir`` through a board and compare with the laptop's TFLM. A virtual
    board (emulating ``imu``, default lsm9ds1) runs the model in the board library's own kernels where
    their sources are found (``board_tflm`` or converter.board.board_tflm's search), else in PyPI tflite-micro;
    the summary says which, and the IMU's and the model's rates."""
    from converter.int8.flatbuffer import read_io  # tflite-micro (its schema) stays off the fast path
    from converter.postprocess import reported_top, settings_from_contract
    from converter.gru.stepping import step_settings

    contract, model_bytes = load_run(run_dir)
    try:
        step = step_settings(model_bytes, contract)  # None: a windowed model
    except ConverterError as e:
        raise CaptureError(str(e)) from None
    inp, out = read_io(model_bytes) if step is None else (step.io.x, step.io.scores)
    try:  # the laptop reports each window as the board does (the unknown label when it is unknown)
        post = settings_from_contract(contract, (out.scale, out.zero_point))
    except ConverterError as e:
        raise CaptureError(str(e)) from None
    try:
        takes = [read_take(p) for p in list_takes(data_dir)]
    except DatasetError as e:
        raise CaptureError(str(e)) from None
    if not takes:
        raise CaptureError(f"{data_dir}: no takes found (expected DATA_DIR/<label>/<take>.csv)")
    labels = list(contract.labels)
    if port is not None and imu is not None:
        raise CaptureError("--imu chooses the virtual board's IMU; a real board on --port has its own")
    if port is None:
        kernels, against, env = virtual_board_runner(board_tflm)
    else:
        kernels, against, env = None, f"agreement measured against the board on {port}", None
    log(against)
    with open_board(port, run_dir, env, imu) as board:
        link = BoardLink(board)
        info = enter_replay(link, labels, model_bytes, run_dir)
        scales = (float(info["accel_g_per_count"]), float(info["gyro_dps_per_count"]))
        imu_mhz, model_mhz = int(info["rate_mhz"]), rate_mhz(contract.rate_hz)
        period = contract.hop if step is None else step.window_period_samples  # model samples per window
        per_chunk = chunk_samples(period, imu_mhz, model_mhz)
        if imu_mhz != model_mhz:
            log(f"the board's IMU runs at {imu_mhz / 1000:g} Hz, the model at {model_mhz / 1000:g} Hz: the board resamples")
        rows, times = [], []
        for i, take in enumerate(takes, 1):
            if take.meta.label not in labels:
                log(f"skipping {take.csv_path}: label {take.meta.label!r} is not one of the model's")
                continue
            counts = values_to_counts(take.values, *scales)  # the take as this board's IMU reports it
            try:
                counts = resample_counts(counts, rate_mhz(take.meta.rate_hz), imu_mhz)  # at its rate
            except ValueError as e:
                raise CaptureError(f"{take.csv_path}: cannot replay a {take.meta.rate_hz:g} Hz take on a "
                                   f"{imu_mhz / 1000:g} Hz board: {e}") from None
            board = board_predictions(link, counts, per_chunk)
            if step is not None:
                host = host_step_scores(counts, contract, scales, model_bytes, step, imu_mhz)
            else:
                x = input_tensors(counts, contract, scales, (inp.scale, inp.zero_point), imu_mhz)
                host = host_window_scores(model_bytes, x, contract, (inp.scale, inp.zero_point))
            if len(board) != len(host):
                raise CaptureError(f"{take.csv_path}: the board answered {len(board)} windows, expected {len(host)}; "
                                   "frames were lost (check the connection) or the board uses another window/hop")
            host_label, host_q = reported_top(host, post)
            for k, b in enumerate(board):
                rows.append((take.meta.label, labels[b["label_index"]], b["score_q"], labels[int(host_label[k])],
                             int(host_q[k]), b.get("detected", 0)))
                times.append(b["inference_us"])
            log(f"{i}/{len(takes)} {take.meta.label}/{take.csv_path.name}: {len(board)} windows")
        link.command("mode capture")
    summary = summarize(rows, times, run_dir, data_dir)
    summary["unknown_windows"] = (None if contract.unknown_label is None else  # what the board called unknown
                                  sum(1 for r in rows if r[1] == contract.unknown_label))
    summary.update({"agreement_against": against, "board_kernels": kernels,
                    "imu": spec.IMU_NAMES.get(info["imu"], str(info["imu"])), "imu_rate_hz": imu_mhz / 1000,
                    "model_rate_hz": model_mhz / 1000, "board_resamples": imu_mhz != model_mhz})
    return summary


def summarize(rows, times, run_dir: Path, data_dir: Path) -> dict:
    n = len(rows)
    same = sum(1 for r in rows if r[1] == r[3] and r[2] == r[4])
    summary = {
        "run_dir": str(run_dir), "data_dir": str(data_dir), "windows": n,
        "agreement": same / n if n else None,
        "label_agreement": sum(1 for r in rows if r[1] == r[3]) / n if n else None,
        "accuracy_board": sum(1 for r in rows if r[1] == r[0]) / n if n else None,
        "accuracy_host": sum(1 for r in rows if r[3] == r[0]) / n if n else None,
        "detections": sum(1 for r in rows if r[5]),
        "detections_correct": sum(1 for r in rows if r[5] and r[1] == r[0]),
    }
    summary.update(summarize_times(times))
    return summary


def main_replay(a) -> int:
    summary = replay(a.run_dir, a.data_dir, a.port, a.board_tflm, a.imu)
    log(f"{summary['windows']} windows: agreement {summary['agreement']}, board accuracy {summary['accuracy_board']}; "
        f"{summary['agreement_against']}")
    print(json.dumps(summary))
    return 0


def add_replay_parser(sub) -> None:
    r = sub.add_parser("replay", help="replay a dataset through the board's recognition path and compare with the laptop",
                       description="Stream every take of DATA_DIR to a board in replay mode (sample lines of counts), "
                                   "collect its PREDICTION frames per window and compare them with the laptop's TFLM "
                                   "run on the same windows. Prints one JSON object (agreement, accuracy, inference "
                                   "time) on stdout.",
                       epilog="example: %(prog)s runs/r1 new-person-data   (the virtual board; --port for a real one)")
    r.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="converted run directory (contract.json, model_int8.tflite)")
    r.add_argument("data_dir", type=Path, metavar="DATA_DIR", help="dataset directory of takes to replay")
    r.add_argument("--port", default=None,
                   help="a board flashed with this run's model (e.g. /dev/ttyACM0); default: a virtual board "
                        "started with --model RUN_DIR")
    r.add_argument("--imu", choices=VIRTUAL_IMUS, default=None,
                   help="the virtual board's IMU: lsm9ds1 (Rev1, 119 Hz, default) or bmi270 (Rev2, 100 Hz); the board "
                        "resamples its IMU's stream to the model's rate, and takes recorded at another rate are "
                        "resampled to the IMU's before they are sent")
    r.add_argument("--board-tflm", type=Path, default=None, metavar="DIR",
                   help="the virtual board runs the model in the board's TFLM library built from DIR (default: "
                        "$NANOGEST_BOARD_TFLM, else PlatformIO's .pio/libdeps/nano33ble/Chirale_TensorFLowLite*); "
                        "without sources it runs PyPI tflite-micro and the summary's agreement_against says so")
    r.set_defaults(func=main_replay)
