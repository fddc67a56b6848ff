"""Full-integer post-training quantization of the float model with the TensorFlow Lite converter."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import warnings

import numpy as np

from converter import ConverterError
from converter.int8.board_ops import ask_per_tensor_dense, board_exact_layer

MAX_CALIBRATION_WINDOWS = 300


@contextlib.contextmanager
def quiet_native_output():
    """The TF converter prints pages of diagnostics to file descriptors 1 and 2: keep stdout for our
    data and stderr readable. What it printed is yielded as a list filled in on exit."""
    sys.stdout.flush()
    sys.stderr.flush()
    captured: list[str] = []
    saved = (os.dup(1), os.dup(2))
    with tempfile.TemporaryFile(mode="w+b") as sink:
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            yield captured
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            sink.seek(0)
            captured.extend(sink.read().decode(errors="replace").splitlines())


def batch1_copy(model, pool_for_mean: bool = True):
    """The same layers and weights with the input batch size fixed to 1 (static shapes for TFLM), and
    (``pool_for_mean``) GlobalAveragePooling1D as a full-length average pool (board_ops.board_exact_layer)."""
    import keras

    shape = tuple(model.inputs[0].shape[1:])
    inp = keras.Input(batch_shape=(1,) + shape, dtype="float32")
    try:
        copy = keras.models.clone_model(model, input_tensors=inp, clone_function=board_exact_layer if pool_for_mean else None)
    except Exception as e:
        raise ConverterError(f"cannot rebuild the model with batch size 1 ({type(e).__name__}: {e})") from None
    copy.set_weights(model.get_weights())
    return copy


def calibration_windows(x_train_normalized: np.ndarray, limit: int = MAX_CALIBRATION_WINDOWS) -> np.ndarray:
    """Up to ``limit`` windows spread evenly over the training set (deterministic)."""
    n = len(x_train_normalized)
    idx = np.unique(np.linspace(0, n - 1, num=min(n, limit)).round().astype(int))
    return x_train_normalized[idx]


def quantize_int8(model, calibration: np.ndarray, per_tensor_dense: bool = True, pool_for_mean: bool = True) -> bytes:
    """Convert to a .tflite flatbuffer with int8 weights, activations, input and output. Turning off
    ``per_tensor_dense`` / ``pool_for_mean`` gives what the TFLite converter makes by default (per-channel
    FULLY_CONNECTED, MEAN), which the board computes differently: for measurements and tests only."""
    b1 = batch1_copy(model, pool_for_mean)

    def representative():
        for w in calibration:
            yield [w[None, ...].astype(np.float32)]

    return convert_full_int8(b1, representative, per_tensor_dense)


def quantize_step_int8(step_model_batch1, pairs, per_tensor_dense: bool = True) -> bytes:
    """The one-step GRU model (inputs named x_t and h) to full int8, calibrated on (x_t, h) pairs."""

    def representative():
        for x_t, h in pairs:
            yield {"x_t": x_t, "h": h}

    return convert_full_int8(step_model_batch1, representative, per_tensor_dense)


def convert_full_int8(model_batch1, representative, per_tensor_dense: bool = True) -> bytes:
    """The TFLite converter with int8 everything (builtins only), its chatter kept off the terminal."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model_batch1)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    ask_per_tensor_dense(converter, per_tensor_dense)  # the board's FULLY_CONNECTED (board_ops.BOARD_DIFFERENCES)
    try:
        with quiet_native_output(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            flatbuffer = converter.convert()
    except Exception as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConverterError(f"the TensorFlow Lite converter cannot make a full-int8 model of this network: {first}") from None
    return bytes(flatbuffer)
