"""Label names: kept as the user wrote them, and the C names the firmware header derives from them.

A label travels as written (Unicode, NFC; one word) through the dataset, contract.json, reports, the
header's ``kLabels`` strings and the board's DEVICE_INFO (UTF-8 bytes). Only C identifiers must
be ASCII: ``c_identifier`` folds accents (``Círculo`` -> ``kCirculo``), spells other letters by
their code point (``圆`` -> ``kU5706``) and joins words in CamelCase (``wave_left`` ->
``kWaveLeft``). ``c_identifiers`` refuses two labels that would get the same C name.
"""

from __future__ import annotations

import unicodedata


class LabelError(ValueError):
    """A label cannot be used as given; the message names it and says what to change."""


def label_name(text: str) -> str:
    """The label as written, in one Unicode form (NFC), as one word: the board prints it in lines of
    words (``gesture <label> score ...``), so spaces inside become '_' (``wave left`` -> ``wave_left``)."""
    name = "_".join(unicodedata.normalize("NFC", str(text)).split())
    if not name:
        raise LabelError(f"{text!r} cannot be a label: give it a name")
    return name


def c_identifier(label: str) -> str:
    """The ASCII C identifier (``k`` + CamelCase) the generated header uses for ``label``."""
    words, word = [], ""
    for ch in unicodedata.normalize("NFKD", label):
        if unicodedata.combining(ch):  # the accent of a letter folded above
            continue
        if ch.isascii() and ch.isalnum():
            word += ch
            continue
        if word:
            words.append(word)
            word = ""
        if ch.isalnum():  # a letter or digit with no ASCII form: spelled by its code point
            words.append(f"U{ord(ch):04X}")
    if word:
        words.append(word)
    if not words:
        raise LabelError(f"label {label!r} has no letter or digit to make a C name of; rename it")
    return "k" + "".join(w[0].upper() + w[1:] for w in words)


def c_identifiers(labels) -> dict[str, str]:
    """label -> C identifier for every label; two labels with the same C name are refused."""
    names: dict[str, str] = {}
    for label in labels:
        name = c_identifier(label)
        other = next((k for k, v in names.items() if v == name), None)
        if other is not None:
            raise LabelError(f"labels {other!r} and {label!r} both become the C name {name} in the firmware "
                             "header; rename one of them")
        names[label] = name
    return names
