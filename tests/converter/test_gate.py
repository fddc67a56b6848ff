"""converter/gate.py: the contract's float novelty gate carried into the int8 input's whole numbers, as
the board computes it; it must decide as the float gate that training measured."""

import numpy as np

from contract.document import Contract
from contract.fields import NoveltyGate
from contract.input import normalize, quantize
from converter import gate as board_gate
from training import novelty

INPUT_Q = (0.0625, -3)  # an int8 input: scale, zero point


def base_contract() -> Contract:
    from contract.document import normalization_of

    return Contract(rate_hz=60.0, window=40, hop=10, labels=["flex", "punch", "unknown"], idle_label=None,
                    normalization=normalization_of([0.0] * 6, [1.0] * 6), unknown_label="unknown")


def fitted(rng) -> tuple[Contract, np.ndarray]:
    """A contract whose gate was fitted on five people's windows, and those windows (normalized)."""
    people = {f"p{i}": rng.normal(0.2 * i, 1 + 0.1 * i, size=(80, 40, 6)) for i in range(5)}
    g = novelty.fit_gate(lambda ss: np.concatenate([people[s] for s in ss]), sorted(people), seed=0)
    gate = NoveltyGate(tuple(map(tuple, g.a.tolist())), tuple(g.b.tolist()), g.level, g.description())
    return base_contract().replace(novelty_gate=gate), np.concatenate(list(people.values()))


def test_the_integer_gate_decides_as_the_float_gate_away_from_the_level():
    rng = np.random.default_rng(0)
    contract, x = fitted(rng)
    x = np.concatenate([x, 2.5 * rng.normal(size=(200, 40, 6)), rng.normal(size=(200, 40, 6)) + 1.5])
    q = quantize(normalize(x, contract), *INPUT_Q)
    seen = normalize(INPUT_Q[0] * (q.astype(np.float64) - INPUT_Q[1]), contract.replace())  # what the board sees
    d_float = novelty.gate_distances(novelty.gate_features(seen), np.asarray(contract.novelty_gate.weights),
                                     np.asarray(contract.novelty_gate.bias))
    c = board_gate.gate_constants(contract, INPUT_Q)
    fires = board_gate.gate_fires(q, INPUT_Q[1], c)
    clear = np.abs(d_float / contract.novelty_gate.level - 1) > 0.01
    assert clear.mean() > 0.9 and fires.any() and (~fires).any()
    assert np.array_equal(fires[clear], d_float[clear] > contract.novelty_gate.level)
    # the whole-number distance is the float one in steps of r
    r = contract.novelty_gate.level / c.level
    assert np.abs(board_gate.gate_distances(q, INPUT_Q[1], c) * r / d_float - 1).max() < 0.005


def test_the_constants_fill_int16_and_carry_the_unknown_label():
    contract, _ = fitted(np.random.default_rng(1))
    c = board_gate.gate_constants(contract, INPUT_Q)
    assert c.weights.dtype == np.int16 and c.weights.shape == (24, 24) and np.abs(c.weights).max() == 32767
    assert c.bias.dtype == np.int64 and c.level > 0 and c.unknown_index == 2
    assert board_gate.gate_constants(base_contract(), INPUT_Q) is None


def test_statistics_are_whole_numbers_of_the_int8_window():
    q = np.full((1, 4, 6), 5, np.int8)  # zero point -3: every sample 8 above it
    q[0, 1, 0], q[0, 2, 0] = -10, 20
    s = board_gate.window_statistics(q, -3)
    assert s[0, 0] == 23 and s[0, 6] == 7  # channel 0: max 23 above, min 7 below the zero point
    m = board_gate.MEAN_SCALE
    assert s[0, 12] == (m * (8 + 23 + 8) + 2) // 4 and s[0, 18] == (m * 7 + 2) // 4  # rounded means
    assert s[0, 1] == 8 and s[0, 7] == -8 and s[0, 13] == m * 8 and s[0, 19] == 0


def test_a_window_the_gate_fires_on_scores_unknown_and_nothing_else():
    scores = np.array([[100, -100, -128], [10, 20, -128]], np.int8)
    out = board_gate.override(scores, np.array([False, True]), 2)
    assert out[0].tolist() == [100, -100, -128] and out[1].tolist() == [-128, -128, 127]
    assert np.array_equal(board_gate.gated_scores(scores, np.zeros((2, 40, 6), np.int8), base_contract(), INPUT_Q),
                          scores)  # no gate: the model's scores


def test_the_length_gate_decides_on_the_board_as_the_float_gate_away_from_the_level():
    """A gate of the vector lengths, fitted in float on five people's windows in g and dps: the float32
    gate of converter/gate.py on their int8 input decides as the float one wherever it is 1 % clear of
    the level, and its distance is the float one to 0.1 %."""
    from contract.document import normalization_of

    rng = np.random.default_rng(4)
    mean, std = [0.3, 0.1, 0.6, -4.0, -4.0, -4.0], [0.8, 0.5, 0.7, 110.0, 100.0, 80.0]
    contract = base_contract().replace(normalization=normalization_of(mean, std))
    people = {f"p{i}": rng.normal(0.1 * i, 1 + 0.1 * i, size=(80, 40, 6)) for i in range(5)}  # normalized
    g = novelty.fit_gate(lambda ss: np.concatenate([people[s] for s in ss]), sorted(people), 0, 99.0, "lengths",
                         contract.normalization)
    gate = NoveltyGate(tuple(map(tuple, g.a.tolist())), tuple(g.b.tolist()), g.level, g.description())
    contract = contract.replace(novelty_gate=gate)
    assert gate.statistics == "lengths" and len(gate.bias) == 8
    x = np.concatenate([*people.values(), 2.5 * rng.normal(size=(200, 40, 6)), rng.normal(size=(200, 40, 6)) + 1.5])
    q = quantize(x, *INPUT_Q)
    seen = INPUT_Q[0] * (q.astype(np.float64) - INPUT_Q[1])  # the normalized window the board's int8 input holds
    d_float = novelty.window_distances(gate, seen, contract.normalization)
    c = board_gate.gate_constants(contract, INPUT_Q)
    assert isinstance(c, board_gate.LengthGateConstants) and c.weights.dtype == np.float32
    fires = board_gate.gate_fires(q, INPUT_Q[1], c)
    clear = np.abs(d_float / gate.level - 1) > 0.01
    assert clear.mean() > 0.9 and fires.any() and (~fires).any()
    assert np.array_equal(fires[clear], d_float[clear] > gate.level)
    assert np.abs(board_gate.gate_distances(q, INPUT_Q[1], c) / d_float - 1).max() < 0.001
