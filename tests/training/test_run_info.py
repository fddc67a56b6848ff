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


def test_hash_accepts_takes_that_are_symlinks_to_files_elsewhere(tmp_path):
    original = tmp_path / "original"
    write_dataset(original, subjects=["ann"], takes_per_label=1, rate_hz=119.0, labels=["punch", "wave"])
    linked = tmp_path / "linked"
    for path in original.glob("*/*"):
        (linked / path.parent.name).mkdir(parents=True, exist_ok=True)
        (linked / path.parent.name / path.name).symlink_to(path)
    # Same names and bytes, reached through links: the same dataset, the same hash.
    assert dataset_sha256(linked, load_dataset(linked)) == dataset_sha256(original, load_dataset(original))
