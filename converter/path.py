"""Which of the converter's two paths a run takes: the one its model family names (training/families/):
``WINDOW``, one model scoring a whole window, or ``GRU_STEP``, a one-step model the board steps through it;
``model_kind`` gives the path's object (converter/kind.py), which the converter then calls through."""

from __future__ import annotations

from converter import ConverterError
from converter.gru import gru_step
from converter.gru.step_kind import GRU_STEP_KIND
from converter.int8.window_kind import WINDOW_KIND
from converter.kind import ModelKind
from converter.run_dir import Contract
from training.families import FAMILIES, GRU_STEP, WINDOW

KINDS: dict[str, ModelKind] = {WINDOW: WINDOW_KIND, GRU_STEP: GRU_STEP_KIND}  # FamilySpec.conversion -> its kind


def conversion_path(contract: Contract, model) -> str:
    """``WINDOW`` or ``GRU_STEP`` for the run's family (``contract.arch``). A contract naming no registered
    family (written by hand, or by another tool) takes the path of the model's own layers: a GRU is stepped."""
    has_gru = gru_step.find_gru(model) is not None
    spec = FAMILIES.get(contract.arch)
    if spec is None:
        return GRU_STEP if has_gru else WINDOW
    if spec.steps_a_gru != has_gru:
        raise ConverterError(f"the contract's arch {contract.arch!r} is converted as {spec.conversion!r}, but the model "
                             f"{'has' if has_gru else 'has no'} GRU layer; the contract does not describe this model")
    return spec.conversion


def model_kind(contract: Contract, model) -> ModelKind:
    """The kind object of the run's path (conversion_path)."""
    return KINDS[conversion_path(contract, model)]
