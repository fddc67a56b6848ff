"""Imported labels and subjects keep the names the user wrote (Spanish accents included), in the
takes' metadata, the dataset's folders and file names, the import report and training's check."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata

import numpy as np

from capture.dataset import TakeMeta, in_label_folder, list_takes, read_take, write_take


def gesture(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 119.0
    swing = np.sin(2 * np.pi * 1.5 * t + seed)
    accel = np.column_stack([0.8 * swing, 0.1 * np.cos(3 * t), 1.0 + 0.3 * swing]) + rng.normal(0, 0.002, (n, 3))
    gyro = np.column_stack([250 * swing, -120 * np.cos(2 * t), 40 * swing]) + rng.normal(0, 0.3, (n, 3))
    return np.round(np.column_stack([accel, gyro]), 3)


def test_a_folder_of_spanish_labels_keeps_its_names(tmp_path):
    root = tmp_path / "grabaciones"
    # Folder and file names as macOS hands them over: decomposed accents (NFD).
    subject_dir = root / unicodedata.normalize("NFD", "Adrián")
    subject_dir.mkdir(parents=True)
    for k, label in enumerate(("Círculo", "Ola", "Círculo")):
        rows = "\n".join(",".join(f"{v:.3f}" for v in r) for r in gesture(119, k))
        name = unicodedata.normalize("NFD", f"{label}_{k + 1:02d}.csv")
        (subject_dir / name).write_text("aX,aY,aZ,gX,gY,gZ\n" + rows + "\n", encoding="utf-8")
    out = tmp_path / "datos"
    proc = subprocess.run([sys.executable, "-m", "capture", "import", str(root), "--layout", "{subject}/{label}_{n}.csv",
                           "--out", str(out)], capture_output=True, text=True, encoding="utf-8")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["takes"] == 3
    assert "label Círculo, subject Adrián" in proc.stderr

    takes = [read_take(p) for p in list_takes(out)]
    assert sorted((t.meta.label, t.meta.subject) for t in takes) == [("Círculo", "Adrián")] * 2 + [("Ola", "Adrián")]
    assert sorted(p.name for p in out.iterdir()) == ["Círculo", "Ola"]
    assert sorted(t.csv_path.name for t in takes) == ["Adrián-s1-001.csv", "Adrián-s1-001.csv", "Adrián-s1-002.csv"]
    assert '"label": "Círculo"' in (out / "Círculo" / "Adrián-s1-001.json").read_text(encoding="utf-8")

    check = subprocess.run([sys.executable, "-m", "training", "check", str(out)], capture_output=True, text=True,
                           encoding="utf-8")
    assert "label_mismatch" not in check.stdout + check.stderr
    assert "Traceback" not in check.stderr


def test_takes_written_before_labels_kept_their_letters_still_match_their_folder(tmp_path):
    assert in_label_folder("Círculo", "C_rculo")  # the folder name the ASCII-only rule gave
    assert in_label_folder("Círculo", unicodedata.normalize("NFD", "Círculo"))
    assert not in_label_folder("Círculo", "Ola")
    path = write_take(tmp_path, TakeMeta(label="wave left", rate_hz=119.0, subject="Adrián"), np.arange(3),
                      np.zeros((3, 6)))
    assert read_take(path).meta.label == "wave_left" and path.parent.name == "wave_left"
    assert path.name == "Adrián-s1-001.csv"
