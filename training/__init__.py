"""nanogest training: takes -> windows -> group-aware split -> model -> run directory.

The model families (``--arch``) and what sets each apart are in training/families/."""


class TrainingError(Exception):
    """Training cannot go on: bad dataset, bad arguments or an unusable run directory."""
