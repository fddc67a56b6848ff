"""The dataset checker: a clean synthetic dataset passes, each injected problem is found."""

import json

import numpy as np
import pytest

from capture.dataset import TakeMeta, write_take
from capture.synth import make_take, write_dataset
from training import TrainingError
from contract.pipeline import UNKNOWN_LABEL
from training.check import ERROR, WARNING, check_dataset, main_check

RATE_HZ = 119.0
LABELS = ("punch", "idle", "wave")


def t_us_for(n, rate_hz=RATE_HZ):
    return np.round(np.arange(n) * 1e6 / rate_hz).astype(np.int64)


def add_take(data_dir, label, values, rate_hz=RATE_HZ, subject="zed", t_us=None, **meta):
    values = np.asarray(values, dtype=np.float64)
    t_us = t_us_for(len(values), rate_hz) if t_us is None else t_us
    return write_take(data_dir, TakeMeta(label=label, rate_hz=rate_hz, subject=subject, source="synth", **meta),
                      t_us, values)


def synth(label, index=0, subject="zed", rate_hz=RATE_HZ, seconds=1.0):
    return make_take(label, rate_hz, subject, index, take_seconds=seconds)


def found(report, code):
    return [f for f in report.findings if f.code == code]


@pytest.fixture
def clean_dir(tmp_path):
    data = tmp_path / "data"
    write_dataset(data, ["ann", "bob"], 2, RATE_HZ, labels=LABELS)
    return data


def test_clean_synthetic_dataset_has_no_findings(tmp_path):
    data = tmp_path / "data"
    write_dataset(data, ["ann", "bob", "cem", "dan"], 2, RATE_HZ)  # every built-in label
    write_dataset(data, ["eve"], 2, RATE_HZ, sessions=("s2",), take_seconds=2.0)
    report = check_dataset(data)
    assert [f.code for f in report.findings] == ["no_other_motions"], report.render()  # a note, nothing wrong
    assert report.ok and report.errors == [] and report.warnings == []
    assert report.per_label == {label: 10 for label in ("circle", "flex", "idle", "punch", "wave")}
    assert report.rate_hz == RATE_HZ
    assert report.labels["idle"].samples == 8 * 119 + 2 * 238


def test_a_dataset_without_other_motions_gets_a_note_naming_what_it_costs_and_how_to_record_them(clean_dir):
    report = check_dataset(clean_dir)
    (note,) = found(report, "no_other_motions")
    assert note.severity == "note" and "nanogest record --label unknown" in note.message
    assert "false activations per other motion" in note.message
    for i in range(3):
        add_take(clean_dir, "unknown", synth("wave", i)[::-1])
    assert found(check_dataset(clean_dir), "no_other_motions") == []


def test_clean_dataset_at_another_rate_has_no_findings(tmp_path):
    write_dataset(tmp_path, ["p1", "p2", "p3"], 2, 100.0)
    report = check_dataset(tmp_path)
    assert [f for f in report.findings if f.severity != "note"] == [], report.render()


def test_saturated_take_is_a_warning_on_that_take(clean_dir):
    values = synth("punch", 5)
    values[20:60, 0] = 4.0  # a third of the take clipped at +4 g
    path = add_take(clean_dir, "punch", values)
    report = check_dataset(clean_dir)
    hits = found(report, "saturated")
    assert [(f.take, f.severity) for f in hits] == [(str(path), WARNING)]
    assert "34%" in hits[0].message
    assert report.ok


def test_constant_gyroscope_is_an_error(clean_dir):
    values = synth("wave", 5)
    values[:, 3:] = 0.0  # a gyroscope that was never read
    path = add_take(clean_dir, "wave", values)
    report = check_dataset(clean_dir)
    hits = found(report, "constant_channel")
    assert [(f.take, f.severity) for f in hits] == [(str(path), ERROR)]
    assert "gX, gY, gZ" in hits[0].message
    assert not report.ok


def test_accelerometer_in_m_per_s2_is_an_error_naming_the_cause(clean_dir):
    values = synth("idle", 5)
    values[:, :3] *= 9.80665
    path = add_take(clean_dir, "idle", values)
    report = check_dataset(clean_dir)
    hits = found(report, "accel_units")
    assert [(f.take, f.severity) for f in hits] == [(str(path), ERROR)]
    assert "m/s^2" in hits[0].message
    assert found(report, "saturated") == [] and found(report, "beyond_range") == []


def test_raw_counts_in_a_gesture_take_are_found_in_its_still_part(clean_dir):
    values = synth("punch", 6)
    values[:, :3] /= 0.000122  # LSM9DS1 counts at ±4 g
    path = add_take(clean_dir, "punch", values)
    hits = found(check_dataset(clean_dir), "accel_units")
    assert [f.take for f in hits] == [str(path)]
    assert "raw counts" in hits[0].message


def test_flat_synthetic_still_data_is_a_warning(clean_dir):
    n = 119
    values = np.zeros((n, 6))
    values[:, 2] = 1.0 + 0.003 * np.sin(np.arange(n) / 10)  # gravity and a slow sway, no sensor noise at all
    values[:, :2] = 0.004 * np.cos(np.arange(n) / 15)[:, None]
    values[:, 3:] = np.random.default_rng(0).normal(0.0, 0.5, (n, 3))
    path = add_take(clean_dir, "idle", values)
    report = check_dataset(clean_dir)
    assert [f.take for f in found(report, "accel_too_clean")] == [str(path)]
    assert found(report, "constant_channel") == []


def test_nan_is_an_error_with_its_line(clean_dir):
    values = synth("wave", 5)
    values[10, 2] = np.nan
    path = add_take(clean_dir, "wave", values)
    hits = found(check_dataset(clean_dir), "non_finite")
    assert [(f.take, f.severity, f.line) for f in hits] == [(str(path), ERROR, 12)]


def test_duplicate_under_two_labels_is_an_error_naming_both(clean_dir):
    values = synth("wave", 7)
    first = add_take(clean_dir, "punch", values)
    second = add_take(clean_dir, "wave", values)
    hits = found(check_dataset(clean_dir), "duplicate_take")
    assert len(hits) == 1 and hits[0].severity == ERROR
    assert hits[0].take == str(second) and hits[0].label == "wave"
    assert str(first) in hits[0].message and "'punch'" in hits[0].message


def test_takes_at_another_rate_are_warned_about_and_expected_rate_wins(clean_dir):
    odd = [add_take(clean_dir, "wave", synth("wave", i, rate_hz=100.0), rate_hz=100.0) for i in range(2)]
    report = check_dataset(clean_dir)
    assert report.rate_hz == RATE_HZ
    assert sorted(f.take for f in found(report, "rate_mismatch")) == sorted(map(str, odd))
    assert all(f.severity == WARNING for f in found(report, "rate_mismatch")) and report.ok
    assert report.labels["wave"].rates_hz.count(100.0) == 2
    forced = check_dataset(clean_dir, expected_rate_hz=100.0)
    assert len(found(forced, "rate_mismatch")) == len(LABELS) * 4


def test_timestamps_that_disagree_with_the_stated_rate(clean_dir):
    values = synth("wave", 5)
    path = add_take(clean_dir, "wave", values, t_us=t_us_for(len(values), 100.0))  # says 119 Hz, ticks at 100 Hz
    hits = found(check_dataset(clean_dir), "t_us_rate_mismatch")
    assert [f.take for f in hits] == [str(path)] and "100.0 Hz" in hits[0].message


def test_timestamps_going_back_are_an_error(clean_dir):
    values = synth("wave", 5)
    t_us = t_us_for(len(values))
    t_us[30] = t_us[28]
    path = add_take(clean_dir, "wave", values, t_us=t_us)
    hits = found(check_dataset(clean_dir), "t_us_not_increasing")
    assert [(f.take, f.line) for f in hits] == [(str(path), 32)]


def test_short_take_is_a_warning(clean_dir):
    path = add_take(clean_dir, "punch", synth("punch", 5, seconds=0.3))
    report = check_dataset(clean_dir)
    assert [(f.take, f.severity) for f in found(report, "short_take")] == [(str(path), WARNING)]


def test_label_imbalance_is_a_warning(tmp_path):
    write_dataset(tmp_path, ["ann"], 2, RATE_HZ, labels=("idle",))
    write_dataset(tmp_path, ["ann", "bob", "cem"], 3, RATE_HZ, labels=("wave",))  # 9 > 3 x 2
    report = check_dataset(tmp_path)
    hits = found(report, "label_imbalance")
    assert len(hits) == 1 and hits[0].severity == WARNING and "'idle'" in hits[0].message
    assert report.ok and report.per_label == {"idle": 2, "wave": 9}


def test_single_label_and_single_take_are_errors(tmp_path):
    write_dataset(tmp_path, ["ann"], 2, RATE_HZ, labels=("wave",))
    report = check_dataset(tmp_path)
    assert [f.severity for f in found(report, "too_few_labels")] == [ERROR]
    add_take(tmp_path, "punch", synth("punch"))
    report = check_dataset(tmp_path)
    assert found(report, "too_few_labels") == []
    assert [(f.label, f.severity) for f in found(report, "too_few_takes")] == [("punch", ERROR)]


def test_malformed_csv_names_file_and_line_and_checking_goes_on(clean_dir):
    path = add_take(clean_dir, "wave", synth("wave", 5))
    lines = path.read_text().splitlines()
    lines[4] = lines[4].replace(",", ",oops", 1)
    path.write_text("\n".join(lines) + "\n")
    values = synth("wave", 6)
    values[:, 3:] = 0.0
    stuck = add_take(clean_dir, "wave", values)
    report = check_dataset(clean_dir)
    hits = found(report, "malformed_take")
    assert [(f.take, f.line, f.severity) for f in hits] == [(str(path), 5, ERROR)]
    assert "oops" in hits[0].message
    assert [f.take for f in found(report, "constant_channel")] == [str(stuck)]
    assert report.per_label["wave"] == 5 and report.takes_read == 14


def test_incomplete_take_is_warned_about_and_excluded(clean_dir):
    path = add_take(clean_dir, "idle", synth("idle", 5), complete=False)
    report = check_dataset(clean_dir)
    assert [(f.take, f.severity) for f in found(report, "incomplete_take")] == [(str(path), WARNING)]
    assert report.per_label["idle"] == 4 and report.labels["idle"].excluded == 1
    assert report.ok and report.warnings == found(report, "incomplete_take")


def test_label_with_only_excluded_takes_is_a_warning_not_an_error(clean_dir):
    add_take(clean_dir, "circle", synth("circle", 0), complete=False)
    add_take(clean_dir, "circle", synth("circle", 1), extra={"flagged": True})
    report = check_dataset(clean_dir)
    assert len(found(report, "incomplete_take")) == 2
    assert [(f.label, f.severity) for f in found(report, "no_usable_takes")] == [("circle", WARNING)]
    assert report.ok and report.per_label["circle"] == 0 and report.labels["circle"].excluded == 2


def test_render_and_json(clean_dir):
    add_take(clean_dir, "wave", np.tile(synth("wave", 5)[:1], (119, 1)))  # every channel stuck
    report = check_dataset(clean_dir)
    text = report.render()
    assert "wave" in text and "constant_channel" in text and "zed-s1-001.csv" in text
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is False and data["errors"] == len(report.errors) >= 1
    assert data["labels"]["wave"]["takes"] == 5
    with pytest.raises(TrainingError, match="--force"):
        report.raise_if_errors()


def test_cli_exit_codes(clean_dir, tmp_path, capsys):
    assert main_check([str(clean_dir)]) == 0
    assert "0 errors, 0 warnings" in capsys.readouterr().out
    values = synth("wave", 5)
    values[3, 0] = np.inf
    add_take(clean_dir, "wave", values)
    assert main_check([str(clean_dir), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert [f["code"] for f in out["findings"] if f["severity"] != "note"] == ["non_finite"]
    assert main_check([str(tmp_path / "missing")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("error: ") and captured.err.count("\n") == 1


def _stuck_accel_file(path, stuck_value, exact):
    """An IMU_Capture-shaped file: aX stuck at one value while the gyroscope swings to ±2000 deg/s."""
    n, rows = 119, []
    rng = np.random.default_rng(3)
    for take in range(3):
        t = np.arange(n) / RATE_HZ
        ax = np.full(n, stuck_value)
        if not exact:
            ax[rng.choice(n, 6, replace=False)] += 0.002  # a few samples off the stuck value
        ay, az = 0.4 * np.sin(6 * t + take), 0.9 + 0.3 * np.cos(5 * t)
        g = np.clip(2300 * np.sin(2 * np.pi * 2 * t + take), -2000, 2000)
        rows += [f"{a:.4f},{b:.3f},{c:.3f},{x:.2f},{-0.7 * x:.2f},{0.4 * x:.2f}" for a, b, c, x in zip(ax, ay, az, g)]
        rows.append("")
    path.write_text("aX,aY,aZ,gX,gY,gZ\n" + "\n".join(rows) + "\n")


@pytest.mark.parametrize("stuck_value,exact", [(-4.0, False), (0.0312, False), (3.9976, True)])
def test_accelerometer_axis_stuck_while_the_gyroscope_swings_to_2000_dps_is_an_error(clean_dir, tmp_path, stuck_value, exact):
    from capture.importing.importer import ImportOptions, import_paths

    src = tmp_path / "corrupt.csv"
    _stuck_accel_file(src, stuck_value, exact)
    assert import_paths([src], clean_dir, ImportOptions(label="punch", subject="cy"))["takes"] == 3
    report = check_dataset(clean_dir)
    hits = [f for f in report.errors if f.take and "cy-" in f.take]
    assert len(hits) == 3, report.render()
    assert all(f.code in ("accel_axis_stuck", "constant_channel") and "aX" in f.message and "2000 deg/s" in f.message
               for f in hits)
    assert not [f for f in report.errors if f.take and "cy-" not in f.take]  # the clean takes are not flagged
    assert "(plot: " in report.render() and report.to_dict()["plots"]["punch"].endswith(".show/punch.png")


def test_gesture_take_without_motion_is_a_warning_on_that_take_only(tmp_path):
    data = tmp_path / "data"
    write_dataset(data, ["ann", "bob", "cem"], 2, RATE_HZ, labels=LABELS)
    still = synth("idle", index=7, subject="bob")  # a person at rest, filed as a punch
    path = add_take(data, "punch", still, subject="bob")
    report = check_dataset(data)
    flagged = found(report, "no_motion")
    assert [f.take for f in flagged] == [str(path)], report.render()
    assert flagged[0].severity == WARNING and "'punch'" in flagged[0].message and "deg/s" in flagged[0].message
    assert report.ok  # a warning: the user decides


def test_gentle_gestures_of_one_person_are_judged_against_that_persons_takes(tmp_path):
    data = tmp_path / "data"
    write_dataset(data, ["ann", "bob"], 3, RATE_HZ, labels=LABELS)
    for i in range(3):  # cem makes every punch at a fifth of the others' speed: his way, not a missing gesture
        values = synth("punch", index=i, subject="cem")
        values = np.asarray(values, dtype=np.float64)
        mean = values[:, :3].mean(axis=0)
        values[:, :3] = mean + 0.2 * (values[:, :3] - mean)
        values[:, 3:] *= 0.12
        add_take(data, "punch", values, subject="cem")
    assert found(check_dataset(data), "no_motion") == []


def test_a_small_other_motion_is_not_a_gesture_without_motion(tmp_path):
    data = tmp_path / "data"
    write_dataset(data, ["ann", "bob", "cem"], 2, RATE_HZ, labels=LABELS)
    for i in range(3):  # other motions of every size under one label: waves, then a hand hardly moving
        add_take(data, UNKNOWN_LABEL, synth("wave", index=10 + i, subject="bob"), subject="bob")
    still = np.tile([0.0, 0.0, 1.0, 0.0, 0.0, 0.0], (119, 1)) + np.random.default_rng(0).normal(0, 0.002, (119, 6))
    add_take(data, UNKNOWN_LABEL, still, subject="bob")
    report = check_dataset(data)
    assert found(report, "no_motion") == [], report.render()
    assert found(report, "no_other_motions") == []  # they are there
