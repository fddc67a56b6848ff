"""Recordings of other motions: `record` and `import` say when a dataset has none, and `record --label
unknown` records them from the virtual board (over a real pty) as motions the checker accepts."""

import json
import subprocess
import sys

import numpy as np

from capture import synth
from capture.dataset import TakeMeta, list_takes, read_take, write_take
from capture.other_motions import lacks_other_motions, missing_note
from contract.pipeline import UNKNOWN_LABEL

HEADER = "aX,aY,aZ,gX,gY,gZ"
NOTE = missing_note("X").split(":")[0]  # "no takes labelled 'unknown'"


def run(*args, timeout=180):
    return subprocess.run([sys.executable, "-m", "nanogest", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def notes(proc):
    return [line for line in proc.stderr.splitlines() if NOTE in line]


def imu_capture_file(path, takes):
    blocks = ["\n".join(",".join(f"{v:.4f}" for v in row) for row in take) for take in takes]
    path.write_text(HEADER + "\n" + "\n\n".join(blocks) + "\n")
    return path


def test_the_note_names_the_label_the_cost_and_the_command():
    note = missing_note("data")
    assert note.startswith(f"no takes labelled {UNKNOWN_LABEL!r}: ")
    assert "false activations per other motion" in note and "reaching" in note
    assert f"nanogest record --label {UNKNOWN_LABEL} --takes 20 --out data" in note
    assert "\n" not in note


def test_a_recording_without_other_motions_ends_with_the_note_and_one_of_them_silences_it(host_build, tmp_path):
    out = tmp_path / "data"
    proc = run("record", "--countdown", "0", "--port", "sim://?subject=p3&speed=40", "--label", "punch",
               "--takes", 2, "--subject", "p3", "--out", out)
    assert proc.returncode == 0, proc.stderr
    (line,) = notes(proc)
    assert line.startswith("[record] note: ") and f"--out {out}" in line
    assert proc.stderr.rstrip().endswith(line), "the note is the session's last word"
    assert json.loads(proc.stdout)["takes"] == 2, "stdout stays the JSON summary alone"

    proc = run("record", "--countdown", "0", "--port", "sim://?subject=p3&speed=40", "--label", UNKNOWN_LABEL,
               "--takes", 6, "--subject", "p3", "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert notes(proc) == [] and not lacks_other_motions(out)
    other = [read_take(p) for p in list_takes(out) if read_take(p).meta.label == UNKNOWN_LABEL]
    assert len(other) == 6 and all(t.meta.complete and not t.meta.flagged for t in other)
    peak_dps = [float(np.linalg.norm(t.values[:, 3:], axis=1).max()) for t in other]
    assert min(peak_dps) > 30, "every other motion moves the wrist"


def test_the_simulated_person_performs_everyday_motions_that_are_not_gestures():
    takes = [synth.make_take(UNKNOWN_LABEL, 119.0, f"p{i}", k) for i in range(4) for k in range(6)]
    assert all(t.shape == (119, 6) and np.isfinite(t).all() for t in takes)
    assert len({t.tobytes() for t in takes}) == len(takes)
    np.testing.assert_array_equal(takes[0], synth.make_take(UNKNOWN_LABEL, 119.0, "p0", 0))
    assert synth.LABELS == ("punch", "flex", "wave", "circle", "idle"), "the default dataset stays the gestures"


def test_check_takes_recorded_other_motions_as_other_motions(tmp_path):
    from training.check import check_dataset

    synth.write_dataset(tmp_path, [f"p{i}" for i in range(4)], 6, 119.0, labels=("punch", "flex", UNKNOWN_LABEL))
    codes = [f.code for f in check_dataset(tmp_path).findings]
    assert "no_motion" not in codes and "no_other_motions" not in codes, codes


def test_import_without_other_motions_ends_with_the_note(tmp_path):
    rng = np.random.default_rng(0)
    gesture = imu_capture_file(tmp_path / "punch.csv", [rng.normal(0, 0.5, (119, 6)) for _ in range(2)])
    for command in ("import", "import-arduino"):
        out = tmp_path / command
        proc = run(command, gesture, "--label", "punch", "--out", out)
        assert proc.returncode == 0, proc.stderr
        (line,) = notes(proc)
        assert line.startswith("[import] note: ") and f"--out {out}" in line
        other = imu_capture_file(tmp_path / "other.csv", [rng.normal(0, 0.5, (119, 6))])
        proc = run(command, other, "--label", UNKNOWN_LABEL, "--out", out)
        assert proc.returncode == 0, proc.stderr
        assert notes(proc) == []


def test_a_failed_import_into_an_empty_folder_says_nothing_of_other_motions(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("hello\nworld\n")
    proc = run("import", bad, "--label", "punch", "--out", tmp_path / "d")
    assert proc.returncode == 2 and notes(proc) == []


def test_flagged_other_motions_do_not_count(tmp_path):
    t_us = np.arange(119) * 8403
    values = np.zeros((119, 6))
    write_take(tmp_path, TakeMeta(label="punch", rate_hz=119.0), t_us, values)
    assert lacks_other_motions(tmp_path)
    write_take(tmp_path, TakeMeta(label=UNKNOWN_LABEL, rate_hz=119.0, flagged="too many samples lost"), t_us, values)
    assert lacks_other_motions(tmp_path), "a flagged take stays out of training"
    write_take(tmp_path, TakeMeta(label=UNKNOWN_LABEL, rate_hz=119.0), t_us, values)
    assert not lacks_other_motions(tmp_path)
    assert not lacks_other_motions(tmp_path / "none"), "no dataset, no note"
