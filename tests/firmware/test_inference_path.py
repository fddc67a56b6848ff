"""The on-device recognition path: the settings compiled in from the header, the int8 input tensor byte for byte,
replay through the virtual board against the laptop's TFLM, and the protocol around it.

Uses the committed default model (firmware/lib/nanogest_model/src/generated) as the run
directory `make -C firmware host` assembles in firmware/build/host/default_run.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from capture.wire import protocol_spec as spec
from boardtools.replay import BoardLink, input_tensors, replay, start_virtual_board, values_to_counts
from contract.input import quantize
from run_programs import as_float32, compiled_settings, default_header, header_with, programs, settings_in_header

ROOT = Path(__file__).resolve().parents[2]
HOST = ROOT / "firmware" / "build" / "host"
DEFAULT_RUN = HOST / "default_run"
LSM = (0.000122, 0.07)  # the virtual board's LSM9DS1 scales (g, deg/s per count)
WAIT_S = 30.0



@pytest.fixture(scope="module")
def synth_data(tmp_path_factory) -> Path:
    from capture.synth import write_dataset

    data = tmp_path_factory.mktemp("synth") / "data"
    write_dataset(data, subjects=["p5", "p6"], takes_per_label=1, rate_hz=119.0, take_seconds=2.0, seed=11)
    return data


def default_contract() -> dict:
    return json.loads((DEFAULT_RUN / "contract.json").read_text())


def windows_per_take(imu_rate_hz: float, seconds: float = 2.0) -> int:
    """The windows the board completes on one synth_data take (``seconds`` long) sent at ``imu_rate_hz``:
    resampled to the default model's rate, as the board does, then windowed."""
    from boardtools.streams import window_ends
    from contract.resample import output_count, rate_mhz

    c = default_contract()
    n = output_count(int(round(seconds * imu_rate_hz)), rate_mhz(imu_rate_hz), rate_mhz(c["rate_hz"]))
    return len(window_ends(n, int(c["window"]), int(c["hop"])))


def test_the_virtual_board_for_the_default_run_compiles_in_the_committed_header(host_build):
    """build/host/virtual_board --model hands over to the program built with the run's model_settings.h, which
    runs with exactly the header's settings (as the board built from it would) and refuses another model."""
    from converter.headers import fnv1a32

    header = default_header()
    out = subprocess.run([str(host_build / "virtual_board"), "--model", str(DEFAULT_RUN), "--python", sys.executable,
                          "--print-settings"], capture_output=True, text=True, timeout=WAIT_S)
    assert out.returncode == 0, out.stderr
    printed = json.loads(out.stdout)
    stated = settings_in_header(header)
    assert len(stated) == len(printed) == 23 and as_float32(printed) == as_float32(stated)
    assert printed["novelty_gate"] == "lengths"  # what nanogest fit gives
    assert printed["labels"] == ["circle", "flex", "idle", "punch", "unknown", "wave"]  # unknown: the gate's
    assert printed["model_hash"] == fnv1a32((DEFAULT_RUN / "model_int8.tflite").read_bytes())
    board = programs(header) / "virtual_board"
    other = programs(header_with(header, kModelHash="0x12345678u")) / "virtual_board"
    assert compiled_settings(board.parent) == printed
    proc = subprocess.run([str(other), "--model", str(DEFAULT_RUN), "--python", sys.executable], capture_output=True,
                          text=True, timeout=WAIT_S, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "was built for model 0x12345678" in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_a_run_without_a_header_gets_the_one_convert_writes(host_build, tmp_path):
    """A bare .tflite with its contract.json (no converted header): the header the virtual board is built with
    is the converter's, byte for byte the committed one but for the TFLM library line convert adds."""
    from boardtools.virtual_build import run_header

    (tmp_path / "model.tflite").write_bytes((DEFAULT_RUN / "model_int8.tflite").read_bytes())
    (tmp_path / "contract.json").write_text((DEFAULT_RUN / "contract.json").read_text())
    (tmp_path / "report.json").write_text((DEFAULT_RUN / "report.json").read_text())
    committed = default_header()
    library = re.search(r"// The TFLM library the firmware links.*?kBoardTflmLibrary = [^\n]*\n\n", committed, re.S)
    assert library and run_header(tmp_path / "model.tflite") == committed.replace(library.group(0), "")


def test_core_input_tensor_equals_the_python_pipeline_byte_for_byte(host_build, synth_data):
    from capture.dataset import list_takes, read_take

    built = programs(default_header())
    s = compiled_settings(built)
    contract = json.loads((DEFAULT_RUN / "contract.json").read_text())
    input_q = (s["input_scale"], s["input_zero_point"])
    takes = [read_take(p) for p in list_takes(synth_data)]
    counts = [values_to_counts(t.values, *LSM) for t in takes]
    lines = "\n\n".join("\n".join(" ".join(map(str, row)) for row in c) for c in counts)
    out = subprocess.run([str(built / "input_vectors"), *map(str, LSM)], input=lines + "\n",
                         capture_output=True, text=True, timeout=WAIT_S, check=True).stdout.split()
    expected = np.concatenate([input_tensors(c, contract, LSM, input_q) for c in counts])
    w, h = int(contract["window"]), int(contract["hop"])
    assert len(out) == len(expected) == len(takes) * ((238 - w) // h + 1)  # 238 samples each, at the model's rate
    cpp = np.stack([np.frombuffer(bytes.fromhex(line), dtype=np.int8) for line in out])
    assert np.array_equal(cpp, expected.reshape(len(expected), -1))
    assert len(np.unique(cpp)) > 50  # real, varied tensors, not a constant that trivially matches


BMI = (1 / 8192, 1 / 16.4)  # the virtual board's BMI270 scales


def _searched_rates() -> list:
    """Every lower rate ``nanogest search`` offers for a dataset recorded on either IMU (search.space.
    rate_choices), fed by either IMU (a model searched on Rev1 data may run on a Rev2 board), as
    (take rate, IMU, model rate, window and hop of 1 s and 0.25 s): the board must decimate to each
    exactly as training resampled."""
    from contract.resample import IMU_RATES_MHZ
    from search.space import rate_choices

    lower = sorted({r for mhz in IMU_RATES_MHZ.values() for r in rate_choices(mhz / 1000)[1:]}, reverse=True)
    cases = []
    for imu, mhz in IMU_RATES_MHZ.items():
        for rate in lower:
            cases.append(pytest.param(mhz / 1000, imu, rate, round(rate), round(rate * 0.25),
                                      id=f"search-{imu}-{mhz / 1000:g}-to-{rate:g}"))
    return cases


SEARCHED_RATES = _searched_rates()


def with_rate(rate_hz: float, window: int, hop: int) -> str:
    """The default model's header for a model of another rate (the input tensor does not depend on the
    model's weights, only on rate, window, hop, normalization and input scale)."""
    return header_with(default_header(), kSampleRateMilliHz=f"{round(rate_hz * 1000)}u", kWindowSamples=window,
                       kHopSamples=hop)


@pytest.mark.parametrize("take_rate_hz,imu,model_rate_hz,window,hop", [
    (100.0, "BMI270", 119.0, 119, 30),   # a Rev2 board feeding the default 119 Hz model
    (119.0, "LSM9DS1", 100.0, 100, 25),  # a Rev1 board feeding a 100 Hz model
    (119.0, "LSM9DS1", 50.0, 50, 12),    # decimation by 119/50
    (100.0, "BMI270", 119.001, 119, 30),  # a ratio of 100000/119001: the core's 64-bit path
    *SEARCHED_RATES,
])  # equal rates: test_core_input_tensor_equals_the_python_pipeline_byte_for_byte (training keeps the values)
def test_training_windows_of_a_take_equal_the_boards_resampled_windows_byte_for_byte(
        host_build, tmp_path, take_rate_hz, imu, model_rate_hz, window, hop):
    from capture.dataset import list_takes, read_take
    from capture.synth import write_dataset
    from contract.input import normalize
    from training.data import resample, take_windows

    data = tmp_path / "data"
    write_dataset(data, subjects=["p7"], takes_per_label=1, rate_hz=take_rate_hz, take_seconds=2.5, seed=5, imu=imu)
    scales = BMI if imu == "BMI270" else LSM
    built = programs(with_rate(model_rate_hz, window, hop))
    s = compiled_settings(built)
    assert (s["rate_mhz"], s["window"], s["hop"]) == (round(model_rate_hz * 1000), window, hop)
    contract = json.loads((DEFAULT_RUN / "contract.json").read_text())
    contract.update(rate_hz=model_rate_hz, window=window, hop=hop)
    input_q = (s["input_scale"], s["input_zero_point"])
    takes = [read_take(p) for p in list_takes(data)]
    counts = [values_to_counts(t.values, *scales) for t in takes]  # what the board's IMU delivered
    lines = "\n\n".join("\n".join(" ".join(map(str, row)) for row in c) for c in counts)
    out = subprocess.run([str(built / "input_vectors"), *map(str, scales), f"{take_rate_hz:g}"],
                         input=lines + "\n", capture_output=True, text=True, timeout=WAIT_S,
                         check=True).stdout.split()
    cpp = np.stack([np.frombuffer(bytes.fromhex(line), dtype=np.int8) for line in out])
    expected, training_rows = [], []
    for take in takes:
        samples = resample(take, model_rate_hz)  # training's resampling of the recorded take
        starts = list(range(0, len(samples) - window + 1, hop))
        board_like = np.stack([samples[k:k + window] for k in starts])
        expected.append(quantize(normalize(board_like, contract), *input_q).reshape(len(starts), -1))
        cut = take_windows(take, contract)  # the windows training cuts: the same starts, then the take's end
        training_rows.append(quantize(normalize(cut[:len(starts)], contract), *input_q).reshape(len(starts), -1))
    expected = np.concatenate(expected)
    assert len(cpp) == len(expected) >= 3 * len(takes)
    assert np.array_equal(cpp, expected)
    assert np.array_equal(cpp, np.concatenate(training_rows))
    assert len(np.unique(cpp)) > 50


def test_quantize_rounds_ties_away_from_zero_like_the_core():
    x = np.array([0.5, -0.5, 2.5, -2.5, 126.6, -200.0], dtype=np.float32)
    assert quantize(x, 1.0, 0).tolist() == [1, -1, 3, -3, 127, -128]
    assert quantize(np.array([-0.5], np.float32), 1.0, 2).tolist() == [1]


def test_replay_through_the_virtual_board_agrees_with_host_tflm_on_every_window(host_build, synth_data):
    summary = replay(DEFAULT_RUN, synth_data)
    assert summary["windows"] == 10 * windows_per_take(119.0)
    assert summary["agreement"] == 1.0
    assert summary["inference_us_max"] >= summary["inference_us_median"] > 0


@pytest.mark.parametrize("imu,rate_hz", [("lsm9ds1", 119.0), ("bmi270", 100.0)])
def test_one_model_replays_on_both_revisions_and_the_board_agrees_with_the_laptop(host_build, synth_data, imu, rate_hz):
    summary = replay(DEFAULT_RUN, synth_data, imu=imu)
    model_rate = default_contract()["rate_hz"]
    assert summary["imu_rate_hz"] == rate_hz and summary["model_rate_hz"] == model_rate
    assert summary["board_resamples"] == (rate_hz != model_rate)
    # 2 s takes: 238 samples at 119 Hz, or 200 at 100 Hz on Rev2, which the board resamples to the model's rate
    assert summary["windows"] == 10 * windows_per_take(rate_hz)
    assert summary["agreement"] == 1.0
    assert summary["accuracy_board"] == summary["accuracy_host"]


def test_replay_command_prints_one_json_object(host_build, synth_data):
    proc = subprocess.run([sys.executable, "-m", "nanogest", "replay", str(DEFAULT_RUN), str(synth_data)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    assert summary["agreement"] == 1.0 and summary["windows"] == 10 * windows_per_take(119.0)


def test_replay_refuses_a_run_without_a_model(tmp_path, synth_data):
    (tmp_path / "contract.json").write_text((DEFAULT_RUN / "contract.json").read_text() if DEFAULT_RUN.exists() else "{}")
    proc = subprocess.run([sys.executable, "-m", "nanogest", "replay", str(tmp_path), str(synth_data)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and str(tmp_path) in proc.stderr


def test_virtual_board_announces_labels_and_refuses_bad_samples(host_build):
    with start_virtual_board(DEFAULT_RUN) as board:
        link = BoardLink(board)
        info = link.device_info()
        assert info["labels"] == ["circle", "flex", "idle", "punch", "unknown", "wave"]
        from converter.headers import fnv1a32

        assert info["model_hash"] == fnv1a32((DEFAULT_RUN / "model_int8.tflite").read_bytes())
        assert info["rate_mhz"] == 119000 and info["model_rate_mhz"] == round(default_contract()["rate_hz"] * 1000)
        link.send("sample 1 2 3 4 5 6")  # not in replay mode
        link.send("mode replay")
        link.send("sample 1 2 3")
        link.send("ping")
        got = []
        for frame in link.frames():
            if frame.type == spec.MSG_ACK and frame.fields()["command"] == "ping":
                break
            if frame.type == spec.MSG_ERROR:
                got.append(frame)
        assert [(f.type, f.fields()["code"]) for f in got] == [(spec.MSG_ERROR, spec.ERR_UNAVAILABLE),
                                                                (spec.MSG_ERROR, spec.ERR_BAD_ARGUMENT)]


def test_monitor_prints_json_lines_of_live_predictions(host_build, tmp_path):
    from capture.synth import write_replay_csv

    csv = tmp_path / "wave.csv"
    write_replay_csv(csv, "wave", 2, 119.0, "p5", "s1", 2.0, 0)
    proc = subprocess.run([sys.executable, "-m", "nanogest", "monitor", "--model", str(DEFAULT_RUN), "--replay", str(csv),
                           "--speed", "20", "--seconds", "2", "--json"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(records) >= 3
    labels = default_contract()["labels"]  # the gate's unknown among them: a window it fires on reports it
    assert all(r["label"] in labels and 0 <= r["score"] <= 1 for r in records)
    assert [r["window_index"] for r in records] == list(range(len(records)))
    model_rate = default_contract()["rate_hz"]
    if model_rate == 119.0:
        assert "resamples" not in proc.stderr  # a 119 Hz model on a 119 Hz IMU
    else:
        assert f"the IMU runs at 119 Hz and the model at {model_rate:g} Hz: the board resamples" in proc.stderr


def test_monitor_on_a_rev2_board_says_it_resamples(host_build, tmp_path):
    from capture.synth import write_replay_csv

    csv = tmp_path / "wave.csv"
    write_replay_csv(csv, "wave", 2, 100.0, "p5", "s1", 2.0, 0)
    proc = subprocess.run([sys.executable, "-m", "nanogest", "monitor", "--model", str(DEFAULT_RUN), "--replay", str(csv),
                           "--imu", "bmi270", "--speed", "20", "--seconds", "2", "--json"], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"the IMU runs at 100 Hz and the model at {default_contract()['rate_hz']:g} Hz: the board resamples" in proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(records) >= 3 and [r["window_index"] for r in records] == list(range(len(records)))


def test_virtual_board_with_a_missing_model_exits_with_one_line(host_build, tmp_path):
    proc = subprocess.run([str(host_build / "virtual_board"), "--model", str(tmp_path / "nope"), "--python", sys.executable],
                          capture_output=True, text=True, timeout=WAIT_S, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2 and proc.stdout == ""
    assert str(tmp_path / "nope") in proc.stderr and "Traceback" not in proc.stderr
