"""nanogest training: takes -> windows -> group-aware split -> model -> run directory."""


class TrainingError(Exception):
    """Training cannot go on: bad dataset, bad arguments or an unusable run directory."""


ARCHITECTURES = ("conv1d", "ds-conv1d", "gru", "cnn-gru")  # --arch values; built by training.models
GRU_UNITS = 24  # default units of the GRU in gru and cnn-gru
