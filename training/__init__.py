"""nanogest training: takes -> windows -> group-aware split -> model -> run directory."""


class TrainingError(Exception):
    """Training cannot go on: bad dataset, bad arguments or an unusable run directory."""
