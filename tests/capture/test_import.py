"""python -m capture import on files written here in the shapes people bring."""

import json
import subprocess
import sys

import numpy as np
import pytest

from capture.dataset import list_takes, read_take

G = 9.80665


def gesture(n, seed, rate_hz=119.0):
    """(n, 6) in g and deg/s: gravity on z, a swing on x and the gyroscope turning hundreds of deg/s."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate_hz
    swing = np.sin(2 * np.pi * 1.5 * t + seed)
    accel = np.column_stack([0.8 * swing, 0.1 * np.cos(3 * t), 1.0 + 0.3 * swing]) + rng.normal(0, 0.002, (n, 3))
    gyro = np.column_stack([250 * swing, -120 * np.cos(2 * t + seed), 40 * swing]) + rng.normal(0, 0.3, (n, 3))
    return np.round(np.column_stack([accel, gyro]), 3)


def fmt(row, quote=""):
    return ",".join(f"{quote}{v:.3f}{quote}" for v in row)


def run_import(*args):
    return subprocess.run([sys.executable, "-m", "capture", "import", *map(str, args)], capture_output=True, text=True)


def takes_in(data_dir):
    return [read_take(p) for p in list_takes(data_dir)]


def ok(proc):
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout)


def test_quoted_values_with_rows_of_empty_quoted_cells_between_takes(tmp_path):
    lengths = [119, 117, 121, 119, 118, 120, 119, 116, 119, 122]  # not whole multiples of anything
    lines = ['"aX","aY","aZ","gX","gY","gZ"']
    takes = [gesture(n, seed) for seed, n in enumerate(lengths)]
    for i, take in enumerate(takes):
        if i:
            lines.append('"","","","","",""')  # a blank line as a spreadsheet saves it
        lines += [fmt(r, quote='"') for r in take]
    src = tmp_path / "wave.csv"
    src.write_text("\n".join(lines) + "\n")
    summary = ok(run_import(src, "--label", "wave", "--subject", "ann", "--out", tmp_path / "d"))
    got = takes_in(tmp_path / "d")
    assert summary["takes"] == 10 and [len(t.values) for t in got] == lengths
    np.testing.assert_allclose(got[3].values, takes[3], atol=1e-6)
    rep = summary["reports"][0]
    assert rep["lines_ignored"] == 0 and rep["new_take_at"] == {"start of file": 1, "blank line": 9}


def test_one_file_per_take_with_timestamp_ms_in_folders_per_person(tmp_path):
    root = tmp_path / "rec"
    expected = {}
    for subject, labels in (("ann", ("Punch", "Flex")), ("bob", ("Punch",))):
        (root / subject).mkdir(parents=True)
        for label in labels:
            for k in range(1, 4):
                values = gesture(100 + k, hash((subject, label, k)) % 1000, rate_hz=100)
                t_ms = 345_000 + 10 * np.arange(len(values))  # absolute millis() of the sketch, 100 Hz
                rows = [f"{t}," + fmt(r) for t, r in zip(t_ms, values)]
                (root / subject / f"{label}_{k:02d}.csv").write_text("timestamp_ms,ax,ay,az,gx,gy,gz\n" + "\n".join(rows) + "\n")
                expected[(subject, label, k)] = values
    summary = ok(run_import(root, "--layout", "{subject}/{label}_{n}.csv", "--out", tmp_path / "d"))
    assert summary["takes"] == 9 and summary["files"] == 9
    got = takes_in(tmp_path / "d")
    assert {(t.meta.subject, t.meta.label, t.meta.extra["source_take"]) for t in got} == set(expected)
    for t in got:
        np.testing.assert_allclose(t.values, expected[(t.meta.subject, t.meta.label, t.meta.extra["source_take"])], atol=1e-6)
        assert t.meta.rate_hz == 100 and t.t_us[:3].tolist() == [0, 10_000, 20_000]
    assert all(r["rate_from"] == "from the time column" for r in summary["reports"])


def test_crlf_paste_with_a_blank_line_after_every_row(tmp_path):
    """IMU_Capture output pasted from the Serial Monitor: CRLF, a blank line after each row, double blank between takes."""
    takes = [gesture(119, s) for s in range(3)]
    parts = ["aX,aY,aZ,gX,gY,gZ", ""]
    for take in takes:
        for r in take:
            parts += [fmt(r), ""]
        parts.append("")
    src = tmp_path / "flex.csv"
    src.write_bytes("\r\n".join(parts).encode())
    summary = ok(run_import(src, "--label", "flex", "--out", tmp_path / "d"))
    got = takes_in(tmp_path / "d")
    assert summary["takes"] == 3 and [len(t.values) for t in got] == [119] * 3
    np.testing.assert_allclose(got[2].values, takes[2], atol=1e-6)
    # the same paste without the double blank lines: cut every 119 rows, as IMU_Capture prints them
    src.write_bytes("\r\n".join(["aX,aY,aZ,gX,gY,gZ", ""] + [x for r in np.vstack(takes) for x in (fmt(r), "")]).encode())
    summary = ok(run_import(src, "--label", "flex", "--out", tmp_path / "e"))
    assert [len(t.values) for t in takes_in(tmp_path / "e")] == [119] * 3


def test_header_aliases_and_units_are_found_stated_and_can_be_forced(tmp_path):
    values = gesture(200, 7)
    si = values * np.array([G] * 3 + [np.pi / 180] * 3)  # m/s^2 and rad/s
    src = tmp_path / "log.csv"
    src.write_text("time,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z,mag_x\n"
                   + "\n".join(f"{i * 0.01:.2f}," + ",".join(f"{v:.6f}" for v in r) + ",12.5" for i, r in enumerate(si)) + "\n")
    proc = run_import(src, "--label", "circle", "--out", tmp_path / "d")
    rep = ok(proc)["reports"][0]
    assert (rep["accel_units"], rep["gyro_units"], rep["rate_hz"]) == ("ms2", "rads", 100)
    assert "accelerometer ms2" in proc.stderr and "gyroscope rads" in proc.stderr
    (take,) = takes_in(tmp_path / "d")
    np.testing.assert_allclose(take.values, values, atol=1e-4)
    forced = ok(run_import(src, "--label", "circle", "--gyro-units", "dps", "--out", tmp_path / "e"))["reports"][0]
    assert forced["gyro_units"] == "dps"
    (take,) = takes_in(tmp_path / "e")
    np.testing.assert_allclose(take.values[:, 3:], si[:, 3:], atol=1e-4)


@pytest.mark.parametrize("header", ["AccX,AccY,AccZ,GyroX,GyroY,GyroZ", "accelerometerX;accelerometerY;accelerometerZ;"
                                    "gyroscopeX;gyroscopeY;gyroscopeZ"])
def test_other_header_spellings_and_excel_semicolons_with_decimal_commas(tmp_path, header):
    values = gesture(119, 3)
    sep = ";" if ";" in header else ","
    body = [sep.join(f"{v:.3f}".replace(".", ",") if sep == ";" else f"{v:.3f}" for v in r) for r in values]
    src = tmp_path / "x.csv"
    src.write_text(header + "\n" + "\n".join(body) + "\n")
    ok(run_import(src, "--label", "x", "--out", tmp_path / "d"))
    (take,) = takes_in(tmp_path / "d")
    np.testing.assert_allclose(take.values, values, atol=1e-6)


def test_time_gaps_and_restarting_timestamps_start_takes_and_small_gaps_are_kept(tmp_path):
    a, b, c = gesture(120, 1), gesture(110, 2), gesture(100, 3)
    t_a = 10_000_000 + 8403 * np.arange(120)
    t_a[60:] += 8403 * 2  # two samples lost inside the take: kept, reported
    t_b = t_a[-1] + 2_000_000 + 8403 * np.arange(110)  # a 2 s pause: a new take
    t_c = 8403 * np.arange(100)  # the clock restarts: a new take
    rows = [f"{t}," + fmt(r) for t, r in zip(np.r_[t_a, t_b, t_c], np.vstack([a, b, c]))]
    src = tmp_path / "s.csv"
    src.write_text("t_us,aX,aY,aZ,gX,gY,gZ\n" + "\n".join(rows) + "\n")
    proc = run_import(src, "--label", "punch", "--out", tmp_path / "d")
    rep = ok(proc)["reports"][0]
    got = takes_in(tmp_path / "d")
    assert [len(t.values) for t in got] == [120, 110, 100]
    assert rep["new_take_at"] == {"start of file": 1, "time gap": 1, "time went back": 1}
    assert rep["rate_hz"] == 119 and "about 2 samples missing" in proc.stderr
    assert got[0].t_us[61] - got[0].t_us[59] == 4 * 8403


def test_label_column_and_fixed_take_length(tmp_path):
    values = gesture(300, 4)
    labels = ["punch"] * 200 + ["flex"] * 100
    src = tmp_path / "labelled.csv"
    src.write_text("ax,ay,az,gx,gy,gz,label\n" + "\n".join(fmt(r) + f",{lab}" for r, lab in zip(values, labels)) + "\n")
    ok(run_import(src, "--take-samples", "100", "--subject", "cy", "--out", tmp_path / "d"))
    got = takes_in(tmp_path / "d")
    assert sorted((t.meta.label, len(t.values)) for t in got) == [("flex", 100), ("punch", 100), ("punch", 100)]


def test_rev2_board_rate_and_bmi270_chip_axes(tmp_path):
    values = gesture(100, 5, rate_hz=100)
    src = tmp_path / "rev2.csv"
    src.write_text("aX,aY,aZ,gX,gY,gZ\n" + "\n".join(fmt(r) for r in values) + "\n")
    ok(run_import(src, "--board", "rev2", "--label", "wave", "--axes", "bmi270-chip", "--out", tmp_path / "d"))
    (take,) = takes_in(tmp_path / "d")
    assert take.meta.rate_hz == 100 and take.meta.imu == "BMI270" and take.meta.board == "nano33ble_rev2"
    np.testing.assert_allclose(take.values[:, [0, 1, 2, 3, 4, 5]], np.column_stack(
        [-values[:, 1], -values[:, 0], values[:, 2], -values[:, 4], -values[:, 3], values[:, 5]]), atol=1e-6)


def test_a_file_it_cannot_understand_gets_one_error_and_nothing_is_overwritten(tmp_path):
    good = tmp_path / "in" / "punch.csv"
    good.parent.mkdir()
    good.write_text("aX,aY,aZ,gX,gY,gZ\n" + "\n".join(fmt(r) for r in gesture(119, 0)) + "\n")
    (tmp_path / "in" / "notes.txt").write_text("temperature,humidity\n21.5,40\n22.0,41\n")
    data = tmp_path / "d"
    ok(run_import(good, "--out", data))
    before = {p: p.read_bytes() for p in data.rglob("*")  if p.is_file()}
    proc = run_import(tmp_path / "in", "--out", data)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "notes.txt" in errors[0] and "expected" in errors[0] and "'temperature,humidity'" in errors[0]
    assert "already imported" in proc.stderr  # punch.csv again: skipped, not duplicated
    assert {p: p.read_bytes() for p in data.rglob("*") if p.is_file()} == before
    again = ok(run_import(good, "--again", "--out", data))
    assert again["takes"] == 1 and len(takes_in(data)) == 2
    assert {p: p.read_bytes() for p in before} == before  # the first take untouched


def test_bad_lines_are_reported_with_their_line_numbers(tmp_path):
    rows = [fmt(r) for r in gesture(10, 0)]
    src = tmp_path / "m.csv"
    src.write_text("\n".join(["timestamp,ax,ay,az,gx,gy,gz"] + [f"{i * 10},{r}" for i, r in enumerate(rows[:5])]
                             + ["oops", "50,1,2,3,4,5,6,7,8"] + [f"{(i + 5) * 10},{r}" for i, r in enumerate(rows[5:])]) + "\n")
    proc = run_import(src, "--label", "x", "--out", tmp_path / "d")
    rep = ok(proc)["reports"][0]
    assert f"{src}:7: ignored: expected 7 comma-separated numbers, found 1 fields" in proc.stderr
    assert f"{src}:8: ignored: expected 7 comma-separated numbers, found 9 fields" in proc.stderr
    assert rep["rows_used"] == 10 and rep["lines_ignored"] == 2 and rep["takes"] == 1


def test_pandas_resave_with_an_index_column_and_empty_cells_for_blank_lines(tmp_path):
    """IMU_Capture output read by pandas with its blank lines and written back with to_csv: "12,,,,,," between takes."""
    takes = [gesture(n, s) for s, n in enumerate([119, 115, 121])]
    lines, i = [",aX,aY,aZ,gX,gY,gZ"], 0
    for k, take in enumerate(takes):
        if k:
            lines.append(f"{i},,,,,,")
            i += 1
        for r in take:
            lines.append(f"{i}," + ",".join(repr(float(v)) for v in r))
            i += 1
    src = tmp_path / "resaved.csv"
    src.write_text("\n".join(lines) + "\n")
    summary = ok(run_import(src, "--label", "flex", "--out", tmp_path / "d"))
    got = takes_in(tmp_path / "d")
    assert summary["reports"][0]["lines_ignored"] == 0 and [len(t.values) for t in got] == [119, 115, 121]
    np.testing.assert_allclose(got[1].values, takes[1], atol=1e-9)


def test_other_sketch_log_with_mpu_style_names_datetime_stamps_and_repeated_headers(tmp_path):
    a, b = gesture(104, 1, rate_hz=52), gesture(96, 2, rate_hz=52)
    start = np.datetime64("2024-03-01T12:00:00.000")
    stamps = [start + np.timedelta64(int(round(k * 1e6 / 52)), "us") for k in range(200)]
    header = "Time, AcX, AcY, AcZ, GyX, GyY, GyZ, Temp"
    rows = [f"{str(t).replace('T', ' ')}, " + ", ".join(f"{v:.3f}" for v in r) + ", 24.1" for t, r in zip(stamps, np.vstack([a, b]))]
    src = tmp_path / "mpu.txt"
    src.write_text("\n".join(["Booting...", header] + rows[:104] + [header] + rows[104:]) + "\n")
    proc = run_import(src, "--label", "wave", "--out", tmp_path / "d")
    rep = ok(proc)["reports"][0]
    got = takes_in(tmp_path / "d")
    assert [len(t.values) for t in got] == [104, 96] and rep["rate_hz"] == 52
    assert rep["new_take_at"] == {"start of file": 1, "repeated header": 1}
    assert f"{src}:1: ignored:" in proc.stderr and rep["lines_ignored"] == 1
    np.testing.assert_allclose(got[1].values, b, atol=1e-6)
    assert got[1].t_us[1] == 19231


def test_rev2_imu_capture_takes_pasted_back_to_back_with_trailing_commas(tmp_path):
    """The Rev2's IMU_Capture prints 119 rows per take at 100 Hz; pasted with no blank line, each row ending in ','."""
    takes = [gesture(119, s, rate_hz=100) for s in range(4)]
    src = tmp_path / "rev2.csv"
    src.write_text("aX,aY,aZ,gX,gY,gZ,\n" + "\n".join(fmt(r) + "," for r in np.vstack(takes)) + "\n")
    rep = ok(run_import(src, "--board", "rev2", "--label", "flex", "--subject", "dee", "--out", tmp_path / "d"))["reports"][0]
    got = takes_in(tmp_path / "d")
    assert [len(t.values) for t in got] == [119] * 4 and rep["rate_hz"] == 100 and rep["lines_ignored"] == 0
    assert rep["new_take_at"] == {"start of file": 1, "every 119 rows": 3}
    np.testing.assert_allclose(got[3].values, takes[3], atol=1e-6)
    assert got[0].t_us[1] == 10_000


def test_a_time_column_coarser_than_the_samples_and_duplicated_lines(tmp_path):
    values = gesture(119, 8)
    t_s = np.floor(np.arange(119) / 119 * 100) / 100  # seconds with two decimals at 119 Hz: repeats
    rows = [f"{t:.2f}," + fmt(r) for t, r in zip(t_s, values)]
    rows.insert(50, rows[49])  # one line pasted twice
    src = tmp_path / "coarse.csv"
    src.write_text("time_s,ax,ay,az,gx,gy,gz\n" + "\n".join(rows) + "\n")
    proc = run_import(src, "--label", "x", "--out", tmp_path / "d")
    rep = ok(proc)["reports"][0]
    (take,) = takes_in(tmp_path / "d")
    assert len(take.values) == 119 and rep["lines_ignored"] == 1 and f"{src}:52: ignored: repeats line 51" in proc.stderr
    assert abs(rep["rate_hz"] - 119) <= 1.5 and (np.diff(take.t_us) > 0).all()
    assert "spaced evenly" in proc.stderr


def test_raw_bmi270_counts_from_the_old_rev2_library_are_scaled_and_turned_to_the_board_axes(tmp_path):
    """Arduino_BMI270_BMM150 before 1.1.0 printed raw counts on the chip's axes (8192 per g, 16.384 per deg/s)."""
    values = gesture(119, 6, rate_hz=100)  # in g and deg/s, on the board's axes as the library gives them now
    chip = np.column_stack([-values[:, 1], -values[:, 0], values[:, 2], -values[:, 4], -values[:, 3], values[:, 5]])
    counts = np.round(chip * np.r_[np.full(3, 8192.0), np.full(3, 16.384)]).astype(int)
    src = tmp_path / "old_rev2.csv"
    src.write_text("aX,aY,aZ,gX,gY,gZ\n" + "\n".join(",".join(map(str, r)) for r in counts) + "\n")
    proc = run_import(src, "--label", "flex", "--out", tmp_path / "d")
    assert proc.returncode == 2 and "raw sensor counts" in proc.stderr and "--board rev2" in proc.stderr
    proc = run_import(src, "--label", "flex", "--board", "rev2", "--out", tmp_path / "d")
    rep = ok(proc)["reports"][0]
    (take,) = takes_in(tmp_path / "d")
    assert rep["accel_units"] == "counts" and take.meta.extra["axes"] == "bmi270-chip" and "chip's axes" in proc.stderr
    np.testing.assert_allclose(take.values[:, :3], values[:, :3], atol=1 / 8192)
    np.testing.assert_allclose(take.values[:, 3:], values[:, 3:], atol=1 / 16.384)


def test_board_rates_and_lsm9ds1_scales_match_the_firmware():
    """The firmware's IMU constants are generated from contract.resample (tests/contract/test_board_header.py)."""
    from capture.importing.columns import BOARDS
    from contract.resample import IMU_RATES_MHZ, IMU_SCALES

    assert BOARDS["rev1"].rate_hz * 1000 == IMU_RATES_MHZ["LSM9DS1"] and BOARDS["rev2"].rate_hz * 1000 == IMU_RATES_MHZ["BMI270"]
    assert (BOARDS["rev1"].accel_g_per_count, BOARDS["rev1"].gyro_dps_per_count) == IMU_SCALES["LSM9DS1"]
    assert BOARDS["rev2"].accel_g_per_count == IMU_SCALES["BMI270"][0]


def test_a_large_file_streamed_from_disk_reads_as_in_memory(tmp_path):
    from capture.importing.table_reader import HEAD_BYTES, decode, read_path, read_rows

    takes = [gesture(119, s) for s in range(80)]
    lines = ["\ufeffaX,aY,aZ,gX,gY,gZ"]
    for k, take in enumerate(takes):
        lines += [""] if k else []
        lines += [fmt(r, quote='"') for r in take]
    lines.insert(9000, "Waiting for motion, 3 2 1")  # a stray line far beyond what the sniffer sees
    src = tmp_path / "big.csv"
    src.write_bytes("\r\n".join(lines).encode() + b"\r\n")
    assert src.stat().st_size > 2 * HEAD_BYTES
    streamed, in_memory = read_path(src), read_rows(decode(src.read_bytes()))
    assert streamed.ignored == in_memory.ignored == [(9001, "expected 6 comma-separated numbers, found 2 fields")]
    np.testing.assert_array_equal(streamed.kinds, in_memory.kinds)
    np.testing.assert_array_equal(streamed.values, in_memory.values)
    summary = ok(run_import(src, "--label", "wave", "--out", tmp_path / "d"))
    assert summary["takes"] == 80 and summary["samples"] == 80 * 119
