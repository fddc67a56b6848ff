"""A label as the user wrote it (UTF-8) travels to the virtual board and back: the board announces
it in DEVICE_INFO, replay matches it against the contract and the takes, and board and laptop agree."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from boardtools.replay import replay

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RUN = ROOT / "firmware" / "build" / "host" / "default_run"
RENAMED = {"circle": "Círculo", "wave": "Ola ñandú"}  # 'Ola ñandú' is stored as one word: Ola_ñandú


def test_unicode_labels_round_trip_through_the_virtual_board(host_build, tmp_path):
    from capture.dataset import TakeMeta, list_takes, read_take, write_take
    from capture.synth import write_dataset
    from contract.labels import label_name

    run = tmp_path / "run"
    shutil.copytree(DEFAULT_RUN, run)
    contract = json.loads((run / "contract.json").read_text())
    renamed = {old: label_name(new) for old, new in RENAMED.items()}
    contract["labels"] = [renamed.get(label, label) for label in contract["labels"]]
    (run / "contract.json").write_text(json.dumps(contract, ensure_ascii=False), encoding="utf-8")

    synth, data = tmp_path / "synth", tmp_path / "data"
    write_dataset(synth, subjects=["p7"], takes_per_label=1, rate_hz=119.0, take_seconds=1.0, seed=13)
    for path in list_takes(synth):
        take = read_take(path)
        if take.meta.label in renamed:
            meta = TakeMeta(**{**take.meta.__dict__, "label": RENAMED[take.meta.label], "take": "", "subject": "Adrián"})
            write_take(data, meta, take.t_us, take.values)
    assert sorted(p.name for p in data.iterdir()) == ["Círculo", "Ola_ñandú"]

    summary = replay(run, data)  # refused unless the board's DEVICE_INFO names the contract's labels as written
    assert summary["windows"] > 0
    assert summary["agreement"] == 1.0 and summary["accuracy_board"] == summary["accuracy_host"] > 0
