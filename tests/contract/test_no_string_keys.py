"""Only contract/ reads contract.json's keys: every other module of the packages uses the typed Contract's
fields (contract/document.py), so a key is named, checked and versioned in one place."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("capture", "training", "converter", "search", "boardtools", "nanogest")  # every one above contract/
# None: converter/tflm_server.py, excepted while the board-settings work rewrote it, no longer reads the contract.
EXCEPTED: set[str] = set()
INDEXING = re.compile(r"""contract\[\s*["']|contract\.get\(""")


def string_key_lookups(root: Path, packages=PACKAGES, excepted=frozenset(EXCEPTED)) -> list[str]:
    """'path:line: text' of every contract["key"] or contract.get( in the packages' modules."""
    found = []
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if rel in excepted:
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if INDEXING.search(line):
                    found.append(f"{rel}:{n}: {line.strip()}")
    return found


def test_no_module_outside_contract_indexes_the_contract_by_string_keys():
    found = string_key_lookups(REPO)
    assert not found, ("contract.json indexed by string keys outside contract/ (use the Contract's fields, "
                       "contract/document.py):\n" + "\n".join(found))


def test_a_lookup_is_named_by_file_and_line(tmp_path):
    (tmp_path / "training").mkdir()
    (tmp_path / "training" / "ok.py").write_text("window = contract.window\n")
    (tmp_path / "training" / "bad.py").write_text("x = 1\nrate = run_contract['rate_hz']\nidle = contract.get('idle_label')\n")
    assert string_key_lookups(tmp_path, ("training",), frozenset()) == [
        "training/bad.py:2: rate = run_contract['rate_hz']",
        "training/bad.py:3: idle = contract.get('idle_label')",
    ]
