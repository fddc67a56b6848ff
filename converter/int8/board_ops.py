"""The board's operator policy, the one place a new operator rule goes: which builtin operators the
board's TFLM resolver can register (``TFLM_RESOLVER_METHODS``, what op_resolver.h calls), which operator
forms the board's TFLM library (platformio.ini's pinned Chirale_TensorFLowLite, a tflite-micro snapshot of
January 2023) computes differently from the laptop's tflite-micro (``BOARD_DIFFERENCES``, how each is told
apart in a model, and the refusal naming it), and what the converter emits instead: per-tensor
FULLY_CONNECTED weights (``ask_per_tensor_dense``) and GlobalAveragePooling1D as a full-length average pool
(``board_exact_layer``). A rule found by measuring the board's kernels (bench/bench_board_kernels.py) is a
new entry here and, when the converter can avoid the form, a way out here too; flatbuffer.py only reads
the model, quantize.py only drives the TFLite converter.
"""

from __future__ import annotations

from converter import ConverterError
from converter.int8.flatbuffer import OpInfo, read_op_uses

# Builtin operator -> the MicroMutableOpResolver method that registers its TFLM kernel.
TFLM_RESOLVER_METHODS = {
    "ABS": "AddAbs",
    "ADD": "AddAdd",
    "ADD_N": "AddAddN",
    "ARG_MAX": "AddArgMax",
    "ARG_MIN": "AddArgMin",
    "AVERAGE_POOL_2D": "AddAveragePool2D",
    "BATCH_MATMUL": "AddBatchMatMul",
    "BATCH_TO_SPACE_ND": "AddBatchToSpaceNd",
    "CAST": "AddCast",
    "CEIL": "AddCeil",
    "CONCATENATION": "AddConcatenation",
    "CONV_2D": "AddConv2D",
    "COS": "AddCos",
    "CUMSUM": "AddCumSum",
    "DEPTH_TO_SPACE": "AddDepthToSpace",
    "DEPTHWISE_CONV_2D": "AddDepthwiseConv2D",
    "DEQUANTIZE": "AddDequantize",
    "DIV": "AddDiv",
    "ELU": "AddElu",
    "EQUAL": "AddEqual",
    "EXP": "AddExp",
    "EXPAND_DIMS": "AddExpandDims",
    "FILL": "AddFill",
    "FLOOR": "AddFloor",
    "FLOOR_DIV": "AddFloorDiv",
    "FLOOR_MOD": "AddFloorMod",
    "FULLY_CONNECTED": "AddFullyConnected",
    "GATHER": "AddGather",
    "GATHER_ND": "AddGatherNd",
    "GREATER": "AddGreater",
    "GREATER_EQUAL": "AddGreaterEqual",
    "HARD_SWISH": "AddHardSwish",
    "L2_NORMALIZATION": "AddL2Normalization",
    "L2_POOL_2D": "AddL2Pool2D",
    "LEAKY_RELU": "AddLeakyRelu",
    "LESS": "AddLess",
    "LESS_EQUAL": "AddLessEqual",
    "LOG": "AddLog",
    "LOG_SOFTMAX": "AddLogSoftmax",
    "LOGICAL_AND": "AddLogicalAnd",
    "LOGICAL_NOT": "AddLogicalNot",
    "LOGICAL_OR": "AddLogicalOr",
    "LOGISTIC": "AddLogistic",
    "MAX_POOL_2D": "AddMaxPool2D",
    "MAXIMUM": "AddMaximum",
    "MEAN": "AddMean",
    "MINIMUM": "AddMinimum",
    "MIRROR_PAD": "AddMirrorPad",
    "MUL": "AddMul",
    "NEG": "AddNeg",
    "NOT_EQUAL": "AddNotEqual",
    "PACK": "AddPack",
    "PAD": "AddPad",
    "PADV2": "AddPadV2",
    "PRELU": "AddPrelu",
    "QUANTIZE": "AddQuantize",
    "REDUCE_MAX": "AddReduceMax",
    "RELU": "AddRelu",
    "RELU6": "AddRelu6",
    "RESHAPE": "AddReshape",
    "RESIZE_BILINEAR": "AddResizeBilinear",
    "RESIZE_NEAREST_NEIGHBOR": "AddResizeNearestNeighbor",
    "ROUND": "AddRound",
    "RSQRT": "AddRsqrt",
    "SELECT_V2": "AddSelectV2",
    "SHAPE": "AddShape",
    "SIN": "AddSin",
    "SLICE": "AddSlice",
    "SOFTMAX": "AddSoftmax",
    "SPACE_TO_BATCH_ND": "AddSpaceToBatchNd",
    "SPACE_TO_DEPTH": "AddSpaceToDepth",
    "SPLIT": "AddSplit",
    "SPLIT_V": "AddSplitV",
    "SQRT": "AddSqrt",
    "SQUARE": "AddSquare",
    "SQUARED_DIFFERENCE": "AddSquaredDifference",
    "SQUEEZE": "AddSqueeze",
    "STRIDED_SLICE": "AddStridedSlice",
    "SUB": "AddSub",
    "SUM": "AddSum",
    "SVDF": "AddSvdf",
    "TANH": "AddTanh",
    "TRANSPOSE": "AddTranspose",
    "TRANSPOSE_CONV": "AddTransposeConv",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "AddUnidirectionalSequenceLSTM",
    "UNPACK": "AddUnpack",
    "ZEROS_LIKE": "AddZerosLike",
}


def resolver_method(op_name: str) -> str:
    """The MicroMutableOpResolver method op_resolver.h calls for a builtin operator."""
    return TFLM_RESOLVER_METHODS[op_name]


def check_tflm_ops(ops: list[OpInfo], layers: dict[str, list[str]] | None = None) -> None:
    """Refuse a model that uses an operator TFLM's MicroMutableOpResolver cannot register, naming
    the operator and (when ``layers`` from flatbuffer.op_layers() is given) the Keras layer that produced it."""
    unsupported = [o.name for o in ops if o.name not in TFLM_RESOLVER_METHODS]
    if unsupported:
        named = [f"{name} (from layer {', '.join(repr(n) if n != 'unknown layer' else n for n in layers[name])})"
                 if layers and layers.get(name) else name for name in unsupported]
        raise ConverterError(
            f"the int8 model uses operator(s) {'; '.join(named)} that TensorFlow Lite for "
            "Microcontrollers cannot run; change the model's layers so they convert to supported builtins "
            "(Conv1D, DepthwiseConv1D, pooling, Dense, ReLU, sigmoid, tanh, softmax)"
        )


# What the board's TFLM library computes differently from the laptop's tflite-micro, as measured by
# building both for the same CPU. Each entry: operator, what the board does, and what the converter emits
# instead; board_differences says how the affected use is told apart in a model.
BOARD_DIFFERENCES = {
    "FULLY_CONNECTED per-channel": {
        "op": "FULLY_CONNECTED",
        "board": "applies the first output channel's weight scale to every output (per-channel weights arrived "
                 "in TFLM's FULLY_CONNECTED later), so all other outputs are scaled wrongly",
        "instead": "per-tensor weights (one scale per FULLY_CONNECTED; the converter asks for them)",
    },
    "MEAN": {
        "op": "MEAN",
        "board": "rounds its int8 average differently (TFLM aligned MEAN with TFLite in April 2023): "
                 "outputs differ by 1 LSB on a share of the values",
        "instead": "GlobalAveragePooling1D is converted as AVERAGE_POOL_2D over the whole sequence; use "
                   "GlobalAveragePooling1D (channels_last, keepdims=False) or AveragePooling1D, not a reduce_mean",
    },
}


def board_differences(flatbuffer: bytes) -> list[tuple[str, int]]:
    """(BOARD_DIFFERENCES key, operator index) for every operator of the model the board computes differently."""
    found = []
    for use in read_op_uses(flatbuffer):
        if use.name == "MEAN":
            found.append(("MEAN", use.index))
        elif use.name == "FULLY_CONNECTED" and use.weight_scales > 1:
            found.append(("FULLY_CONNECTED per-channel", use.index))
    return found


def check_board_ops(flatbuffer: bytes, layers: dict[str, list[str]] | None = None, board_label: str = "the board's TFLM") -> None:
    """Refuse a model that uses an operator (or option) the board's TFLM computes differently from the
    laptop's (BOARD_DIFFERENCES), naming the operator, its layer, what the board does and the way out."""
    found = board_differences(flatbuffer)
    if not found:
        return
    reasons = []
    for key in dict.fromkeys(k for k, _ in found):
        d = BOARD_DIFFERENCES[key]
        where = ", ".join(layers.get(d["op"], [])) if layers else ""
        ops = ", ".join(f"op {i}" for k, i in found if k == key)
        reasons.append(f"{key} ({ops}{'; layer ' + where if where else ''}): {board_label} {d['board']}; "
                       f"instead: {d['instead']}")
    raise ConverterError("the int8 model uses what the board computes differently from the laptop's TFLM: "
                         + " | ".join(reasons))


DENSE_PER_TENSOR_ATTRIBUTE = "_experimental_disable_per_channel_quantization_for_dense_layers"


def ask_per_tensor_dense(converter, per_tensor_dense: bool = True) -> None:
    """Ask a tf.lite.TFLiteConverter for one scale per FULLY_CONNECTED weight tensor (BOARD_DIFFERENCES'
    "FULLY_CONNECTED per-channel"); ``per_tensor_dense=False`` leaves TFLite's per-channel default, for
    measurements and tests only."""
    if not hasattr(converter, DENSE_PER_TENSOR_ATTRIBUTE):
        import tensorflow as tf  # already loaded by whoever made ``converter``; only its version is named

        raise ConverterError(f"this TensorFlow ({tf.__version__}) has no TFLiteConverter.{DENSE_PER_TENSOR_ATTRIBUTE}; "
                             "the board needs per-tensor FULLY_CONNECTED weights (install the pinned tensorflow)")
    setattr(converter, DENSE_PER_TENSOR_ATTRIBUTE, per_tensor_dense)


def board_exact_layer(layer):
    """The layer the converter's batch-1 copy uses for ``layer``: GlobalAveragePooling1D (which converts to MEAN,
    BOARD_DIFFERENCES) becomes an AveragePooling1D over the whole sequence + Reshape, i.e. AVERAGE_POOL_2D: the
    same average, computed bit for bit the same by the board's and the laptop's TFLM (bench/bench_board_kernels.py)."""
    import keras  # heavy: only the converter's quantization gets here

    if type(layer).__name__ != "GlobalAveragePooling1D":
        return layer.__class__.from_config(layer.get_config())
    config = layer.get_config()
    if config.get("data_format", "channels_last") != "channels_last" or config.get("keepdims"):
        return layer.__class__.from_config(config)  # check_board_ops refuses the MEAN it makes
    length, channels = (int(d) for d in layer.input.shape[1:])
    return keras.Sequential([keras.layers.AveragePooling1D(pool_size=length, strides=length, padding="valid"),
                             keras.layers.Reshape((channels,))], name=layer.name)
