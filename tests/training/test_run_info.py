"""The dataset hash recorded in run.json."""

import shutil

from capture.synth import write_dataset
from training.data import load_dataset
from training.run_info import dataset_sha256, library_versions


def test_hash_depends_on_content_and_names_not_on_location(tmp_path):
    write_dataset(tmp_path / "a", ["ann"], 2, 50, labels=("wave", "idle"))
    first = dataset_sha256(tmp_path / "a", load_dataset(tmp_path / "a"))
    assert len(first) == 64 and first == dataset_sha256(tmp_path / "a", load_dataset(tmp_path / "a"))
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    assert dataset_sha256(tmp_path / "b", load_dataset(tmp_path / "b")) == first

    csv = sorted((tmp_path / "b" / "wave").glob("*.csv"))[0]
    csv.write_bytes(csv.read_bytes().replace(b"0", b"1", 1))
    assert dataset_sha256(tmp_path / "b", load_dataset(tmp_path / "b")) != first

    shutil.rmtree(tmp_path / "b")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    meta = sorted((tmp_path / "b" / "idle").glob("*.json"))[0]
    meta.write_text(meta.read_text().replace('"ann"', '"bea"'))
    assert dataset_sha256(tmp_path / "b", load_dataset(tmp_path / "b")) != first

    takes = load_dataset(tmp_path / "a")
    assert dataset_sha256(tmp_path / "a", takes[1:]) != first  # a take left out


def test_versions_name_every_library():
    v = library_versions()
    assert set(v) == {"python", "numpy", "tensorflow", "keras"} and all(v.values())
