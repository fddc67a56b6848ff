"""nanogest converter: int8 quantization, TFLM verification, arena sizing, firmware headers.

Reads a run directory written by ``nanogest fit`` (see docs/architecture.md)
and writes ``model_int8.tflite``, ``report.json`` and the generated firmware headers.
"""


class ConverterError(Exception):
    """A run directory, model or dataset cannot be converted; the message says why and how to fix it."""
