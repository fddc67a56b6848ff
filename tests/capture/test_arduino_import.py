"""import-arduino on clean and messy IMU_Capture output, and on unusable files."""

import json
import subprocess
import sys

import numpy as np
import pytest

from capture.importing.arduino_import import import_file, parse_imu_capture
from capture.dataset import list_takes, read_take
from capture.errors import CaptureError

HEADER = "aX,aY,aZ,gX,gY,gZ"


def rows(n, offset=0.0):
    return [f"{0.01 * i + offset:.3f},{-0.5:.3f},{0.98:.3f},{i * 1.5:.2f},{-2.25:.2f},{offset:.2f}" for i in range(n)]


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "capture", *map(str, args)], capture_output=True, text=True)


def test_clean_file_gives_one_take_per_blank_separated_block(tmp_path):
    src = tmp_path / "punch.csv"
    src.write_text("\n".join([HEADER, *rows(119), "", *rows(119, 1.0), ""]) + "\n")
    proc = run_cli("import-arduino", src, "--label", "punch", "--out", tmp_path / "data", "--subject", "ann")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["takes"] == 2 and summary["samples"] == 238 and summary["lines_ignored"] == 0
    takes = [read_take(p) for p in list_takes(tmp_path / "data")]
    assert [t.meta.take for t in takes] == ["ann-s1-001", "ann-s1-002"]
    second = takes[1]
    assert second.meta.source == "arduino-import" and second.meta.rate_hz == 119 and second.meta.complete
    assert second.values[5].tolist() == pytest.approx([1.05, -0.5, 0.98, 7.5, -2.25, 1.0])
    assert second.t_us[:3].tolist() == [0, 8403, 16807]


def test_messy_paste_is_tolerated_and_every_bad_line_reported(tmp_path):
    good = rows(6)
    lines = [
        "\ufeffaX,aY,aZ,gX,gY,gZ",
        good[0],
        '"' + good[1].replace(",", '","') + '"',  # quoted values
        "Started recording",  # stray text: line 4
        good[2],
        "",
        HEADER,  # repeated header
        good[3],
        "1.0,2.0,3.0",  # too few fields: line 9
        good[4],
        "nan,0,0,0,0,0",  # line 11
        good[5],
    ]
    src = tmp_path / "messy.csv"
    src.write_bytes("\r\n".join(lines).encode() + b"\r\n")
    proc = run_cli("import-arduino", src, "--label", "wave", "--out", tmp_path / "d")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["takes"] == 2
    for n in (4, 9, 11):
        assert f"messy.csv:{n}: ignored" in proc.stderr
    takes = [read_take(p) for p in list_takes(tmp_path / "d")]
    assert [len(t.values) for t in takes] == [3, 3]
    assert takes[0].values[1, 0] == pytest.approx(0.01)  # the quoted row


def test_blank_line_after_every_row_is_cut_by_samples_per_take(tmp_path):
    src = tmp_path / "spaced.csv"
    src.write_text(HEADER + "\n\n" + "\n\n".join(rows(25)) + "\n\n")
    summary = import_file(src, tmp_path / "d", "flex", samples_per_take=10, rate_hz=100)
    assert summary["takes"] == 3
    takes = [read_take(p) for p in list_takes(tmp_path / "d")]
    assert [len(t.values) for t in takes] == [10, 10, 5]
    assert [t.meta.complete for t in takes] == [True, True, False]
    assert takes[1].values[0, 3] == pytest.approx(15.0)  # row 10 starts the second take


def test_double_blank_lines_separate_takes_when_every_row_is_spaced():
    text = HEADER + "\n\n" + "\n\n".join(rows(4)) + "\n\n\n" + "\n\n".join(rows(3)) + "\n"
    parsed = parse_imu_capture(text, samples_per_take=119)
    assert parsed.every_row_separated and [len(t.rows) for t in parsed.takes] == [4, 3]


def test_file_without_usable_rows_is_an_error_naming_it(tmp_path):
    src = tmp_path / "notes.csv"
    src.write_text("hello\nthis is not data\n")
    proc = run_cli("import-arduino", src, "--label", "x", "--out", tmp_path / "d")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith(f"error: {src}: no usable rows")
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "d").exists()


def test_unreadable_file_is_one_clear_error(tmp_path):
    proc = run_cli("import-arduino", tmp_path / "missing.csv", "--label", "x", "--out", tmp_path / "d")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"error: cannot read {tmp_path / 'missing.csv'} (No such file or directory)"
    with pytest.raises(CaptureError, match="cannot read"):
        import_file(tmp_path, tmp_path / "d", "x")  # a directory


def test_values_survive_exactly(tmp_path):
    src = tmp_path / "one.csv"
    data = np.round(np.random.default_rng(0).uniform(-3, 3, size=(119, 6)), 3)
    src.write_text(HEADER + "\n" + "\n".join(",".join(f"{v:.3f}" for v in r) for r in data) + "\n\n")
    import_file(src, tmp_path / "d", "idle")
    (take,) = [read_take(p) for p in list_takes(tmp_path / "d")]
    np.testing.assert_allclose(take.values, data, atol=1e-6)


def test_everything_at_once_in_a_spaced_crlf_paste_with_line_numbers(tmp_path):
    """Blank line after every row, CRLF, quoted values, a repeated header and stray text together."""
    good = rows(7)
    lines = [
        HEADER, "",                                   # 1-2
        good[0], "",                                  # 3-4
        '"' + good[1].replace(",", '","') + '"', "",  # 5-6 quoted values
        "Waiting for motion...", "",                  # 7-8 stray text between rows: reported, no new take
        good[2], "",                                  # 9-10
        "'" + good[3].replace(",", "','") + "'", "",  # 11-12 single quotes
        HEADER, "",                                   # 13-14 repeated header: a new take
        good[4], "",                                  # 15-16
        "0.1,0.2,zero,0,0,0", "",                     # 17-18 not numbers
        good[5], "",                                  # 19-20
        "0.1,0.2,0.3,0.4,0.5,0.6,0.7", "",            # 21-22 seven fields
        good[6], "",                                  # 23-24
    ]
    src = tmp_path / "spaced.csv"
    src.write_bytes("\r\n".join(lines).encode())
    proc = run_cli("import-arduino", src, "--label", "circle", "--out", tmp_path / "d", "--samples-per-take", 4)
    assert proc.returncode == 0, proc.stderr
    reported = [line for line in proc.stderr.splitlines() if ": ignored: " in line]
    assert reported == [
        f"{src}:7: ignored: expected 6 comma-separated numbers, found 1 fields",
        f"{src}:17: ignored: not numbers",
        f"{src}:21: ignored: expected 6 comma-separated numbers, found 7 fields",
    ]
    assert json.loads(proc.stdout)["lines_ignored"] == 3
    takes = [read_take(p) for p in list_takes(tmp_path / "d")]
    assert [len(t.values) for t in takes] == [4, 3]  # split at the header, not by --samples-per-take
    assert takes[0].meta.extra["source_lines"] == [3, 11] and takes[1].meta.extra["source_lines"] == [15, 23]
    np.testing.assert_allclose(takes[0].values[3], [float(v) for v in good[3].split(",")])


def test_serial_monitor_timestamps_are_stripped(tmp_path):
    src = tmp_path / "stamped.csv"
    stamped = [f"10:15:{i // 10:02d}.{i % 10}00 -> {r}" for i, r in enumerate([HEADER, *rows(5)])]
    src.write_text("\n".join(stamped) + "\n")
    summary = import_file(src, tmp_path / "d", "punch", samples_per_take=5)
    assert summary["takes"] == 1 and summary["lines_ignored"] == 0
    (take,) = [read_take(p) for p in list_takes(tmp_path / "d")]
    np.testing.assert_allclose(take.values[:, 3], [0, 1.5, 3.0, 4.5, 6.0])


def test_takes_pasted_back_to_back_are_cut_when_the_block_is_whole_takes(tmp_path):
    src = tmp_path / "flex.csv"
    src.write_text("\r\n".join([HEADER, *rows(30), *rows(30, 1.0), *rows(30, 2.0), "", *rows(12, 3.0)]) + "\r\n")
    summary = import_file(src, tmp_path / "d", "flex", samples_per_take=30)
    takes = [read_take(p) for p in list_takes(tmp_path / "d")]
    assert summary["takes"] == 4 and [len(t.values) for t in takes] == [30, 30, 30, 12]
    assert [t.values[0, 5] for t in takes] == pytest.approx([0.0, 1.0, 2.0, 3.0])  # each take starts at its own row 0
    assert [t.meta.extra["source_lines"][0] for t in takes[:3]] == [2, 32, 62]
