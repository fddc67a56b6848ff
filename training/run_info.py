"""What a run was made from: library versions, the dataset's hash and the full configuration
(``RUN_DIR/run.json``), so a result can be traced and repeated."""

from __future__ import annotations

import hashlib
import platform
from dataclasses import asdict
from pathlib import Path

from capture.dataset import Take


def library_versions() -> dict:
    import keras
    import numpy
    import tensorflow

    return {"python": platform.python_version(), "numpy": numpy.__version__,
            "tensorflow": tensorflow.__version__, "keras": keras.__version__}


def take_files(takes: list[Take]) -> list[Path]:
    """The CSV and JSON file of every take (a JSON that does not exist is left out)."""
    files = []
    for take in takes:
        files.append(Path(take.csv_path))
        meta = Path(take.csv_path).with_suffix(".json")
        if meta.is_file():
            files.append(meta)
    return files


def _relative(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` without following symlinks (a take may be a link to a
    file elsewhere; its name in the dataset is what identifies it)."""
    path = Path(path).absolute()
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def dataset_sha256(data_dir, takes: list[Take]) -> str:
    """sha256 over the used takes' files in sorted order of their path relative to ``data_dir``:
    for each file, its relative path (POSIX, UTF-8), a NUL byte, its size as decimal ASCII, a NUL
    byte, then its bytes. Renaming, editing, adding or leaving out a take changes the hash."""
    root = Path(data_dir).absolute()
    entries = sorted((_relative(p, root), p) for p in take_files(takes))
    h = hashlib.sha256()
    for rel, path in entries:
        data = path.read_bytes()
        h.update(rel.encode("utf-8") + b"\0" + str(len(data)).encode("ascii") + b"\0")
        h.update(data)
    return h.hexdigest()


def run_description(options, data_dir, takes: list[Take], resolved: dict) -> dict:
    """The content of run.json: versions, dataset identity, every option and what 'auto' became."""
    config = asdict(options)
    if isinstance(config.get("augment"), tuple):
        config["augment"] = list(config["augment"])
    return {
        "versions": library_versions(),
        "dataset": {"dir": str(Path(data_dir).resolve()), "sha256": dataset_sha256(data_dir, takes),
                    "takes": len(takes)},
        "config": config,
        "resolved": resolved,
    }
