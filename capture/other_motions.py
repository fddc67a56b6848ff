"""Recordings of other motions: whether a dataset has them, and the one sentence that says what their
absence costs and how to record them.

A model taught only the user's gestures names every motion of the wrist one of them. Takes labelled
``UNKNOWN_LABEL`` (everyday motions that are none of the gestures) train an unknown class that the
board reports and never detects (training/fit.py, docs/architecture.md). ``nanogest record`` and
``import`` end with ``missing_note`` when the dataset has none; ``nanogest check`` says the same in
its note ``no_other_motions``.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from capture.dataset import DatasetError, in_label_folder, is_usable, list_takes, read_meta
from contract.pipeline import UNKNOWN_LABEL

# The figure is the classifier alone on people never seen (docs/decisions.md, "The open world").
COST = ("the model will call every other motion one of your gestures (1.7-2.4 false activations per other "
        "motion on new people)")
EXAMPLES = "reaching, scratching, turning the wrist"


def how_to_record(data_dir: str | Path = "DATA_DIR") -> str:
    """The command that records other motions into ``data_dir``, and what to perform."""
    return (f"record everyday motions that are none of them ({EXAMPLES}): "
            f"nanogest record --label {UNKNOWN_LABEL} --takes 20 --out {shlex.quote(str(data_dir))}")


def missing_note(data_dir: str | Path = "DATA_DIR") -> str:
    """One line: the dataset has no other motions, what that costs, how to record them."""
    return f"no takes labelled {UNKNOWN_LABEL!r}: {COST}; {how_to_record(data_dir)}"


def lacks_other_motions(data_dir: str | Path) -> bool:
    """Whether ``data_dir`` holds takes but no usable one labelled ``UNKNOWN_LABEL`` (as training counts
    them: a flagged or cut-short take does not teach the unknown class)."""
    try:
        paths = list_takes(data_dir)
    except DatasetError:
        return False
    for csv_path in paths:
        if not in_label_folder(UNKNOWN_LABEL, csv_path.parent.name):
            continue
        try:
            meta = read_meta(csv_path.with_suffix(".json"))
        except DatasetError:
            continue
        if meta.label == UNKNOWN_LABEL and is_usable(meta):
            return False
    return bool(paths)
