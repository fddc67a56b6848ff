"""The model families (``--arch``): one module per family holding its builder and its ``FamilySpec``
(training/families/spec.py), and the registry below, in the order the command line lists them.

Adding a family is one module with a ``SPEC`` and one line in ``FAMILIES``: fit, augmentation, the
command line's choices, ``nanogest search``'s space and the converter's path all read it from here.
"""

from __future__ import annotations

from training import TrainingError
from training.families import cnn_gru, conv1d, ds_conv1d, gru
from training.families.spec import CONVERSIONS, GRU_STEP, GRU_UNITS, MAX_GRU_UNITS, WINDOW, FamilySpec

FAMILIES: dict[str, FamilySpec] = {
    "conv1d": conv1d.SPEC,
    "ds-conv1d": ds_conv1d.SPEC,
    "gru": gru.SPEC,
    "cnn-gru": cnn_gru.SPEC,
}

__all__ = ["CONVERSIONS", "FAMILIES", "GRU_STEP", "GRU_UNITS", "MAX_GRU_UNITS", "WINDOW", "FamilySpec", "family",
           "names", "stepped_names"]


def names() -> tuple[str, ...]:
    """The ``--arch`` values, in the registry's order."""
    return tuple(FAMILIES)


def family(name: str) -> FamilySpec:
    """The spec of ``--arch name``."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise TrainingError(f"unknown --arch {name!r}; choose one of {', '.join(FAMILIES)}") from None


def stepped_names() -> str:
    """'gru and cnn-gru': the families run one GRU step at a time, for messages."""
    stepped = [n for n, spec in FAMILIES.items() if spec.steps_a_gru]
    return " and ".join([", ".join(stepped[:-1]), stepped[-1]] if len(stepped) > 1 else stepped)
