"""Labels keep the user's names; only the header's C identifiers are ASCII, and two labels that would
share one are refused."""

from __future__ import annotations

import unicodedata

import pytest

from contract.labels import LabelError, c_identifier, c_identifiers, label_name


@pytest.mark.parametrize("label, name", [
    ("punch", "kPunch"), ("Círculo", "kCirculo"), ("ñandú", "kNandu"), ("wave_left", "kWaveLeft"),
    ("wave-left", "kWaveLeft"), ("1punch", "k1punch"), ("圆", "kU5706"), ("Straße", "kStraU00DFE"),
])
def test_c_identifiers_are_ascii_and_named_from_the_label(label, name):
    assert c_identifier(label) == name
    assert name.isascii() and name.isidentifier()


def test_labels_keep_their_letters_in_one_unicode_form():
    decomposed = unicodedata.normalize("NFD", "Círculo")
    assert decomposed != "Círculo" and label_name(decomposed) == "Círculo"
    assert label_name("  Adrián ") == "Adrián"
    assert label_name("wave left") == "wave_left"  # one word: the board prints labels in lines of words
    with pytest.raises(LabelError):
        label_name("   ")


def test_two_labels_with_one_c_name_are_refused_naming_both():
    assert c_identifiers(["Círculo", "idle", "punch"]) == {"Círculo": "kCirculo", "idle": "kIdle", "punch": "kPunch"}
    with pytest.raises(LabelError, match=r"labels 'Círculo' and 'circulo' both become the C name kCirculo"):
        c_identifiers(["Círculo", "circulo"])
    with pytest.raises(LabelError, match="no letter or digit"):
        c_identifiers(["punch", "--"])
