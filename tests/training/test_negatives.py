"""Generated negatives: motions of the gestures' own kind that are none of them."""

import numpy as np
import pytest

from capture.synth import make_take
from training import TrainingError
from training.negatives import NEGATIVE_KINDS, make_negatives, parse_negatives, redirect, reverse, shake


def windows():
    x = np.stack([make_take(label, 119.0, "ann", i, take_seconds=1.0)[:119] for label in ("punch", "flex") for i in range(6)])
    return x.astype(np.float32), np.repeat([0, 1], 6)


def test_reverse_plays_the_gesture_backwards_with_the_turn_reversed():
    x, _ = windows()
    r = reverse(x, np.random.default_rng(0))
    np.testing.assert_array_equal(r[:, ::-1, :3], x[:, :, :3])
    np.testing.assert_array_equal(r[:, ::-1, 3:], -x[:, :, 3:])
    np.testing.assert_array_equal(reverse(r, None), x)


def test_redirect_turns_the_motion_but_leaves_gravity_and_strength():
    x, _ = windows()
    r = redirect(x, np.random.default_rng(0))
    np.testing.assert_allclose(r[:, :, :3].mean(axis=1), x[:, :, :3].mean(axis=1), atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(r[:, :, 3:], axis=2), np.linalg.norm(x[:, :, 3:], axis=2), rtol=1e-4, atol=1e-3)
    assert not np.allclose(r[:, :, 3:], x[:, :, 3:], atol=1.0)


def test_shake_is_the_gesture_twice_as_fast_twice():
    x, _ = windows()
    s = shake(x, None)
    np.testing.assert_array_equal(s[:, :59], x[:, ::2][:, :59])
    np.testing.assert_array_equal(s[:, 60:119], x[:, ::2][:, :59])


def test_make_negatives_gives_the_share_asked_for_in_equal_parts_of_each_kind():
    x, y = windows()
    neg = make_negatives(x, y, np.random.default_rng(1), share=2.0, kinds=NEGATIVE_KINDS)
    assert neg.shape == (24, 119, 6) and neg.dtype == np.float32 and np.isfinite(neg).all()
    assert make_negatives(x, y, np.random.default_rng(1), share=0.0).shape == (0, 119, 6)


def test_parse_negatives():
    assert parse_negatives(None) == () and parse_negatives("") == ()
    assert parse_negatives("all") == NEGATIVE_KINDS
    assert parse_negatives("reverse, shake") == ("reverse", "shake")
    with pytest.raises(TrainingError, match="unknown negative kind"):
        parse_negatives("reverse,mirror")
