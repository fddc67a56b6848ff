"""capture show (each label's takes overlaid) and the Edge Impulse format in and out."""

import json
import subprocess
import sys

import numpy as np

from capture.dataset import TakeMeta, list_takes, read_take, write_take
from capture.importing.edge_impulse import export_dataset
from capture.importing.importer import ImportOptions, import_paths
from capture.show import show

RATE_HZ = 119.0


def gesture(n, seed, kind):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / RATE_HZ
    s = np.sin(2 * np.pi * (1.2 if kind == "punch" else 2.5) * t)
    accel = np.column_stack([0.8 * s, 0.1 * s, 1.0 - 0.2 * s]) if kind == "punch" else np.column_stack([0.1 * s, 0.9 * s, 1.0 + 0.0 * s])
    gyro = np.column_stack([300 * s, 20 * s, -50 * s]) if kind == "punch" else np.column_stack([-20 * s, -350 * s, 200 * s])
    return np.column_stack([accel + rng.normal(0, 0.003, (n, 3)), gyro + rng.normal(0, 2, (n, 3))])


def write(data, label, values, subject="ann"):
    t_us = np.round(np.arange(len(values)) * 1e6 / RATE_HZ).astype(np.int64)
    return write_take(data, TakeMeta(label=label, rate_hz=RATE_HZ, subject=subject, source="synth"), t_us, values)


def test_show_draws_a_png_per_label_and_names_the_mislabeled_take(tmp_path):
    data = tmp_path / "d"
    for k in range(5):
        write(data, "punch", gesture(119, k, "punch"))
        write(data, "wave", gesture(119, 10 + k, "wave"))
    wrong = write(data, "punch", gesture(119, 99, "wave"), subject="zed")  # a wave saved as punch
    summary = show(data)
    assert [p.rsplit("/", 1)[1] for p in summary["files"]] == ["punch.png", "wave.png"]
    png = (data / ".show" / "punch.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert summary["least_like_the_others"]["punch"]["take"] == str(wrong)
    proc = subprocess.run([sys.executable, "-m", "capture", "show", str(data), "--label", "wave", "--out", str(tmp_path / "p")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["files"] == [str(tmp_path / "p" / "wave.png")]
    assert list_takes(data) and not list((data / ".show").glob("*.csv"))  # plots are not takes


def test_edge_impulse_json_and_csv_round_trip(tmp_path):
    data = tmp_path / "d"
    originals = {}
    for k, (label, subject) in enumerate([("punch", "ann"), ("punch", "bob"), ("wave", "ann")]):
        path = write(data, label, np.round(gesture(119 + k, k, label), 4), subject=subject)
        originals[(label, subject)] = read_take(path)
    for fmt in ("json", "csv"):
        out = tmp_path / f"ei-{fmt}"
        summary = export_dataset(data, out, fmt=fmt)
        assert summary["takes"] == 3 and sorted(p.name for p in out.iterdir()) == [
            f"punch.ann-s1-001.{fmt}", f"punch.bob-s1-001.{fmt}", f"wave.ann-s1-001.{fmt}"]
        if fmt == "json":
            doc = json.loads((out / "punch.ann-s1-001.json").read_text())
            assert doc["protected"]["ver"] == "v1" and doc["payload"]["interval_ms"] == 1000 / RATE_HZ
            assert [s["name"] for s in doc["payload"]["sensors"]][:4] == ["accX", "accY", "accZ", "gyrX"]
            assert doc["payload"]["sensors"][0]["units"] == "m/s2"
        back = tmp_path / f"back-{fmt}"
        rep = import_paths([out], back, ImportOptions(layout="{label}.{subject}-{session}-{n}." + fmt))
        assert rep["takes"] == 3 and rep["files_failed"] == 0
        for take in [read_take(p) for p in list_takes(back)]:
            orig = originals[(take.meta.label, take.meta.subject)]
            assert take.meta.rate_hz == RATE_HZ and len(take.values) == len(orig.values)
            np.testing.assert_allclose(take.values, orig.values, atol=1e-5)
            assert np.abs(take.t_us - orig.t_us).max() <= 1
        assert {r["accel_units"] for r in rep["reports"]} == {"ms2"}
    # a second export into the same folder refuses instead of overwriting
    try:
        export_dataset(data, tmp_path / "ei-json")
        raise AssertionError("expected a refusal")
    except Exception as e:
        assert "already exists" in str(e)


def test_edge_impulse_sample_with_rad_per_second_and_label_from_its_name(tmp_path):
    values = gesture(100, 1, "wave")
    doc = {"protected": {"ver": "v1", "alg": "none"}, "signature": "0",
           "payload": {"device_type": "NANO33BLE", "interval_ms": 10,
                       "sensors": [{"name": n, "units": u} for n, u in [("accX", "g"), ("accY", "g"), ("accZ", "g"),
                                                                        ("gyrX", "rad/s"), ("gyrY", "rad/s"), ("gyrZ", "rad/s")]],
                       "values": (values * np.r_[np.ones(3), np.full(3, np.pi / 180)]).tolist()}}
    src = tmp_path / "wave.s3k2j1.json"
    src.write_text(json.dumps(doc))
    rep = import_paths([src], tmp_path / "d", ImportOptions(subject="eve"))
    (take,) = [read_take(p) for p in list_takes(tmp_path / "d")]
    assert take.meta.label == "wave" and take.meta.rate_hz == 100 and rep["reports"][0]["gyro_units"] == "rads"
    np.testing.assert_allclose(take.values, values, atol=1e-5)
    (tmp_path / "bad.json").write_text('{"payload": {"values": [[1, 2]]}}')
    rep = import_paths([tmp_path / "bad.json"], tmp_path / "d", ImportOptions(label="x"))
    assert rep["files_failed"] == 1 and "payload.sensors" in rep["reports"][0]["error"]
