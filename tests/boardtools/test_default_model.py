"""The committed default model is what `make default-model`'s recipe declares (boardtools/default_model.py),
checked without retraining: the recipe's version and options, the contract's version and architecture,
and the settings header today's converter writes for the committed model and contract."""

import json
import re

from boardtools.default_model import ARCH, CONTRACT_PATH, DEFAULT_RUN_DIR, RECIPE_PATH, recipe
from capture.synth import LABELS
from contract.pipeline import CONTRACT_VERSION
from converter.int8.flatbuffer import read_io
from converter.headers import fnv1a32, model_settings_h
from converter.install import FIRMWARE_HEADER_DIR
from converter.run_dir import load_contract

REGENERATE = "regenerate it with `make default-model` and commit what it writes"


def _committed_model() -> bytes:
    text = (FIRMWARE_HEADER_DIR / "model_data.cc").read_text()
    array = re.search(r"g_model_data\[\]\s*=\s*\{(.*?)\};", text, re.S).group(1)
    return bytes(int(h, 16) for h in re.findall(r"0x([0-9a-fA-F]{2})", array))


def _header_value(header: str, name: str) -> str | None:
    m = re.search(rf"constexpr [^=]* {name} = (.*?);", header)
    return m.group(1) if m else None


def test_the_committed_model_was_made_by_todays_recipe():
    assert RECIPE_PATH.is_file(), f"{RECIPE_PATH} is missing; {REGENERATE}"
    stamp = json.loads(RECIPE_PATH.read_text())
    declared = recipe()
    assert {k: stamp.get(k) for k in declared} == declared, f"the default model predates the recipe; {REGENERATE}"


def test_the_committed_contract_is_the_recipes():
    contract = json.loads(CONTRACT_PATH.read_text())
    assert contract["arch"] == ARCH, f"{CONTRACT_PATH} is a {contract['arch']} run, the recipe trains {ARCH}; {REGENERATE}"
    assert contract["contract_version"] == CONTRACT_VERSION, f"{CONTRACT_PATH} predates contract version {CONTRACT_VERSION}; {REGENERATE}"
    assert "novelty_gate" in contract, f"{CONTRACT_PATH} has no novelty gate, which fit gives conv1d; {REGENERATE}"
    assert set(contract["labels"]) == set(LABELS) | {contract["unknown_label"]}  # the gate's label
    rate = recipe()["family_defaults"]["rate_hz"]
    assert rate is None or contract["rate_hz"] == rate, f"{CONTRACT_PATH} runs at {contract['rate_hz']} Hz; {REGENERATE}"


def test_the_committed_header_is_what_todays_converter_writes_for_that_model():
    model = _committed_model()
    header = (FIRMWARE_HEADER_DIR / "model_settings.h").read_text()
    stamp = json.loads(RECIPE_PATH.read_text())
    assert stamp["model_hash"] == f"0x{fnv1a32(model):08x}" == "0x" + _header_value(header, "kModelHash")[2:-1], (
        f"recipe.json, model_settings.h and model_data.cc name different models; {REGENERATE}")
    inp, out = read_io(model)
    measured = _header_value(header, "kArenaMeasuredBytes")
    library = _header_value(header, "kBoardTflmLibrary")
    expected = model_settings_h(load_contract(DEFAULT_RUN_DIR), inp, out, int(_header_value(header, "kArenaBytes")[:-1]),
                                fnv1a32(model), None, int(measured[:-1]) if measured else None,
                                json.loads(library) if library else None)
    assert header == expected, f"the committed model_settings.h is not what today's converter writes; {REGENERATE}"
