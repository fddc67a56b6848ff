"""Running the int8 model: in the real TFLM interpreter, and in TFLite's reference kernels."""

from __future__ import annotations

import warnings

import numpy as np

from contract.input import quantize  # the board's int8 input rounding, stated once (ng_input.h)
from converter import ConverterError
from converter.int8.flatbuffer import TensorInfo

# Generous arena for verification runs on the host; the firmware's size is measured by converter.int8.arena.
VERIFY_ARENA_BYTES = 1 << 20


def quantize_input(x_normalized: np.ndarray, tensor: TensorInfo) -> np.ndarray:
    """Float model inputs -> int8 with the input tensor's own scale and zero point."""
    if tensor.scale <= 0:
        raise ConverterError("the model's input tensor has no quantization scale; it is not a full-int8 model")
    return quantize(x_normalized, tensor.scale, tensor.zero_point)


def dequantize(q: np.ndarray, tensor: TensorInfo) -> np.ndarray:
    return (q.astype(np.float32) - tensor.zero_point) * np.float32(tensor.scale)


def make_interpreter(flatbuffer: bytes, arena_bytes: int = VERIFY_ARENA_BYTES, kernels=None):
    """A TFLM interpreter for the model: the laptop's (PyPI tflite-micro) or, with ``kernels`` (a
    converter.board.board_runtime.BoardKernels), the board library's own, both with set_input / invoke / get_output."""
    if kernels is not None:
        return kernels.interpreter(flatbuffer, arena_bytes)
    from tflite_micro.python.tflite_micro import runtime

    try:
        return runtime.Interpreter.from_bytes(flatbuffer, arena_size=arena_bytes)
    except RuntimeError as e:
        raise ConverterError(f"the TFLM interpreter refuses the int8 model: {e}") from None


def run_tflm(flatbuffer: bytes, x_int8: np.ndarray, arena_bytes: int = VERIFY_ARENA_BYTES, kernels=None) -> np.ndarray:
    """int8 outputs (n, labels) of the TFLM interpreter (the board's with ``kernels``), one window per invoke."""
    interpreter = make_interpreter(flatbuffer, arena_bytes, kernels)
    outputs = []
    for window in x_int8:
        interpreter.set_input(window[None, ...], 0)
        interpreter.invoke()
        outputs.append(np.array(interpreter.get_output(0)).reshape(-1))
    return np.stack(outputs).astype(np.int8)


def run_tflite_reference(flatbuffer: bytes, x_int8: np.ndarray) -> np.ndarray:
    """int8 outputs (n, labels) of tf.lite.Interpreter with the reference (non-optimized) kernels."""
    import tensorflow as tf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the interpreter's deprecation notice
        interpreter = tf.lite.Interpreter(
            model_content=flatbuffer,
            experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF,
        )
    interpreter.allocate_tensors()
    in_index = interpreter.get_input_details()[0]["index"]
    out_index = interpreter.get_output_details()[0]["index"]
    outputs = []
    for window in x_int8:
        interpreter.set_tensor(in_index, window[None, ...])
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(out_index).reshape(-1).copy())
    return np.stack(outputs).astype(np.int8)


def preserving_pair(flatbuffer: bytes, tflm_flatbuffer: bytes | None = None):
    """The TFLite reference-kernel interpreter (allocated, with its ops) and a TFLM interpreter, both
    keeping every intermediate tensor, for comparing a model operator by operator.

    ``tflm_flatbuffer`` (default: ``flatbuffer``) is what TFLM runs; a test passes a corrupted copy.
    Returns ``(reference, reference_ops, micro)``."""
    import tensorflow as tf
    from tflite_micro.python.tflite_micro import runtime

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = tf.lite.Interpreter(model_content=flatbuffer, experimental_preserve_all_tensors=True,
                                  experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF)
        ops = ref._get_ops_details()
    ref.allocate_tensors()
    try:
        micro = runtime.Interpreter.from_bytes(tflm_flatbuffer or flatbuffer, arena_size=VERIFY_ARENA_BYTES,
                                               intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
    except RuntimeError as e:
        raise ConverterError(f"the TFLM interpreter refuses the int8 model: {e}") from None
    return ref, ops, micro


def predict_float(model, x_normalized: np.ndarray) -> np.ndarray:
    """Softmax scores (n, labels) of the Keras float model."""
    return np.asarray(model.predict(x_normalized, batch_size=256, verbose=0), dtype=np.float32)
