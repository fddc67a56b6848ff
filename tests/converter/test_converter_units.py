"""Fast checks of the converter's pure functions (no model is trained or converted here)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from converter import ConverterError
from converter.int8.arena import round_up
from converter.int8.board_ops import TFLM_RESOLVER_METHODS, check_tflm_ops
from converter.int8.flatbuffer import OpInfo, TensorInfo
from converter.headers import c_float, fnv1a32, model_settings_h, op_resolver_h
from converter.int8.quantize import calibration_windows
from converter.run_dir import load_contract


def test_fnv1a_known_values():
    assert fnv1a32(b"") == 0x811C9DC5
    assert fnv1a32(b"a") == 0xE40C292C
    assert fnv1a32(b"foobar") == 0xBF9CF968


def test_float_literals_read_back_exactly():
    for v in (0.1, 1e-7, 3.0, 119.0, 0.00390625, 123456.79, -2.5e-12):
        assert np.float32(c_float(v).rstrip("f")) == np.float32(v)


def test_unsupported_op_is_refused_by_name():
    check_tflm_ops([OpInfo("CONV_2D", 3), OpInfo("SOFTMAX", 1)])
    with pytest.raises(ConverterError, match="CUSTOM:FlexErf"):
        check_tflm_ops([OpInfo("CONV_2D", 3), OpInfo("CUSTOM:FlexErf", 1)])
    with pytest.raises(ConverterError, match="RANDOM_UNIFORM"):
        check_tflm_ops([OpInfo("RANDOM_UNIFORM", 1)])
    assert all(m.startswith("Add") for m in TFLM_RESOLVER_METHODS.values())


def test_op_resolver_sizes_the_resolver_to_the_ops():
    text = op_resolver_h([OpInfo("CONV_2D", 3), OpInfo("SOFTMAX", 1)])
    assert "constexpr unsigned int kOpCount = 2;" in text
    assert "resolver.AddConv2D()" in text and "resolver.AddSoftmax()" in text


def test_calibration_windows_are_capped_and_spread():
    x = np.arange(1000, dtype=np.float32)[:, None, None]
    picked = calibration_windows(x, limit=300)
    assert len(picked) == 300
    assert picked[0, 0, 0] == 0 and picked[-1, 0, 0] == 999
    assert len(calibration_windows(x[:10], limit=300)) == 10


def test_round_up():
    assert [round_up(n, 16) for n in (0, 1, 16, 17)] == [0, 16, 16, 32]


def write_contract(run_dir, **changes) -> None:
    contract = {"contract_version": 1, "rate_hz": 119.0, "channels": ["aX", "aY", "aZ", "gX", "gY", "gZ"],
                "window": 119, "hop": 30, "labels": ["flex", "wave"], "idle_label": None,
                "normalization": {"mean": [0.0] * 6, "std": [1.0] * 6}, "arch": "conv1d", "score_threshold": 0.6}
    contract.update(changes)
    (run_dir / "contract.json").write_text(json.dumps(contract))


def test_contract_without_idle_label_gives_index_minus_one(tmp_path):
    write_contract(tmp_path)
    contract = load_contract(tmp_path)
    text = model_settings_h(contract, TensorInfo("INT8", (1, 119, 6), 0.05, 3), TensorInfo("INT8", (1, 2), 1 / 256, -128),
                            4096, 0x1234ABCD)
    assert "constexpr int kIdleLabelIndex = -1;" in text
    assert "constexpr uint32_t kSampleRateMilliHz = 119000u;" in text
    assert "constexpr uint32_t kModelHash = 0x1234abcdu;" in text


@pytest.mark.parametrize("changes, message", [
    ({"idle_label": "rest"}, "idle_label 'rest' is not one of the labels"),
    ({"normalization": {"mean": [0.0] * 5, "std": [1.0] * 6}}, "one per channel"),
    ({"normalization": {"mean": [0.0] * 6, "std": [1.0] * 5 + [0.0]}}, "std must be positive"),
    ({"labels": ["flex"]}, "at least two distinct names"),
])
def test_bad_contracts_are_refused_with_the_file_named(tmp_path, changes, message):
    write_contract(tmp_path, **changes)
    with pytest.raises(ConverterError, match=message) as info:
        load_contract(tmp_path)
    assert "contract.json" in str(info.value)


def test_broken_contract_json_names_the_line(tmp_path):
    (tmp_path / "contract.json").write_text('{"rate_hz": 119.0,\n "labels": [}\n')
    with pytest.raises(ConverterError, match=r"contract.json:2: not valid JSON"):
        load_contract(tmp_path)


def test_ops_are_mapped_back_to_keras_layers():
    from converter.int8.flatbuffer import _layer_of

    names = {"fancy_dense": "fancy_dense", "conv1": "conv1", "gru_x_z": "gru", "add_1": "add_1"}
    assert _layer_of("functional_1/fancy_dense_1/Gelu/mul;functional_1/fancy_dense_1/Gelu/Erfc", names) == "fancy_dense"
    assert _layer_of("functional_1_1/gru_x_z_1/MatMul;functional_1_1/gru_x_z_1/BiasAdd", names) == "gru"
    assert _layer_of("model/add_1_2/Add", names) == "add_1"
    assert _layer_of("StatefulPartitionedCall_1:0", names) is None
    with pytest.raises(ConverterError, match=r"GELU \(from layer 'fancy_dense'\); CUSTOM:Foo \(from layer unknown layer\)"):
        check_tflm_ops([OpInfo("GELU", 1), OpInfo("CUSTOM:Foo", 1), OpInfo("SOFTMAX", 1)],
                       {"GELU": ["fancy_dense"], "CUSTOM:Foo": ["unknown layer"], "SOFTMAX": ["unknown layer"]})


def test_ram_over_budget_is_refused_with_the_numbers():
    from converter.int8.cost import budget_report, check_budgets

    check_budgets(budget_report(10_000, 8_000, flash_budget_kb=704, ram_budget_kb=160))
    with pytest.raises(ConverterError, match=r"needs 9000 bytes of RAM \(tensor arena \+ state\) but the budget is 8192 bytes"):
        check_budgets(budget_report(10_000, 9_000, flash_budget_kb=704, ram_budget_kb=8))


def test_step_settings_in_the_header(tmp_path):
    write_contract(tmp_path)
    step = {"units": 16, "chunk_samples": 1, "stride_samples": 1, "steps_per_window": 119, "x_input_position": 1,
            "state_input": {"scale": 0.0078125, "zero_point": 0, "position": 0},
            "state_output": {"scale": 0.0078125, "zero_point": 0, "position": 1}, "scores_output_position": 0,
            "state_carried_as_int8": True, "state_carry": "copy", "reset_rule": "set h to zero"}
    text = model_settings_h(load_contract(tmp_path), TensorInfo("INT8", (1, 6), 0.05, 3),
                            TensorInfo("INT8", (1, 2), 1 / 256, -128), 4096, 1, step)
    for line in ("kIsStepModel = true;", "kGruStateSize = 16;", "kStepsPerWindow = 119;", "kStateInputScale = 0.0078125f;",
                 "kStateCarriedAsInt8 = true;", "kStateInputIndex = 0;", "kScoresOutputIndex = 0;"):
        assert line in text
    assert "kIsStepModel = false;" in model_settings_h(load_contract(tmp_path), TensorInfo("INT8", (1, 119, 6), 0.05, 3),
                                                      TensorInfo("INT8", (1, 2), 1 / 256, -128), 4096, 1)
