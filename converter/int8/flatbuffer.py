"""Reading a .tflite flatbuffer: its operators (with versions) and its input/output quantization,
and the list of builtin operators TFLM's MicroMutableOpResolver can register."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from converter import ConverterError

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

_BUILTIN_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
_TENSOR_TYPES = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}


@dataclass(frozen=True)
class OpInfo:
    name: str
    version: int

    @property
    def resolver_method(self) -> str:
        return TFLM_RESOLVER_METHODS[self.name]


@dataclass(frozen=True)
class TensorInfo:
    type: str  # "INT8", "FLOAT32", ...
    shape: tuple
    scale: float
    zero_point: int


def _model(flatbuffer: bytes):
    try:
        return schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(flatbuffer, 0))
    except Exception as e:
        raise ConverterError(f"not a readable .tflite flatbuffer ({type(e).__name__}: {e})") from None


def read_ops(flatbuffer: bytes) -> list[OpInfo]:
    """Distinct operators used by any subgraph, in order of first use, with their versions."""
    model = _model(flatbuffer)
    codes = model.operatorCodes or []
    seen: dict[int, OpInfo] = {}
    for subgraph in model.subgraphs or []:
        for op in subgraph.operators or []:
            if op.opcodeIndex in seen:
                continue
            seen[op.opcodeIndex] = OpInfo(name=_op_name(model, op), version=int(codes[op.opcodeIndex].version))
    ops: list[OpInfo] = []
    for info in seen.values():  # one entry per name even if two opcode slots share it
        if info.name not in [o.name for o in ops]:
            ops.append(info)
    return ops


def _op_name(model, op) -> str:
    code = model.operatorCodes[op.opcodeIndex]
    builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
    if builtin == schema.BuiltinOperator.CUSTOM:
        return "CUSTOM:" + (code.customCode.decode() if isinstance(code.customCode, bytes) else str(code.customCode))
    return _BUILTIN_NAMES.get(builtin, f"BUILTIN_{builtin}")


def _layer_of(tensor_name: str, layer_names: dict[str, str]) -> str | None:
    """The Keras layer named in a converted tensor name such as
    ``functional_1/fancy_dense_1/Gelu/mul;functional_1/fancy_dense_1/Gelu/Erfc`` (Keras adds ``_N``
    suffixes to the names it traces); None when no path component names a known layer."""
    for part in tensor_name.replace(";", "/").split("/"):
        candidate = part
        while True:
            if candidate in layer_names:
                return layer_names[candidate]
            stem, sep, suffix = candidate.rpartition("_")
            if not sep or not suffix.isdigit() or not stem:
                break
            candidate = stem
    return None


def op_layers(flatbuffer: bytes, layer_names: dict[str, str]) -> dict[str, list[str]]:
    """Operator name -> the Keras layers that produced it (best effort, read from the output tensors'
    names; 'unknown layer' when a name carries no layer, e.g. a model output)."""
    model = _model(flatbuffer)
    found: dict[str, list[str]] = {}
    for subgraph in model.subgraphs or []:
        for op in subgraph.operators or []:
            layer = None
            for index in op.outputs if op.outputs is not None else []:
                name = subgraph.tensors[index].name
                layer = _layer_of(name.decode(errors="replace") if isinstance(name, bytes) else str(name), layer_names)
                if layer:
                    break
            entry = found.setdefault(_op_name(model, op), [])
            if (layer or "unknown layer") not in entry:
                entry.append(layer or "unknown layer")
    return found


def check_tflm_ops(ops: list[OpInfo], layers: dict[str, list[str]] | None = None) -> None:
    """Refuse a model that uses an operator TFLM's MicroMutableOpResolver cannot register, naming
    the operator and (when ``layers`` from op_layers() is given) the Keras layer that produced it."""
    unsupported = [o.name for o in ops if o.name not in TFLM_RESOLVER_METHODS]
    if unsupported:
        named = [f"{name} (from layer {', '.join(repr(n) if n != 'unknown layer' else n for n in layers[name])})"
                 if layers and layers.get(name) else name for name in unsupported]
        raise ConverterError(
            f"the int8 model uses operator(s) {'; '.join(named)} that TensorFlow Lite for "
            "Microcontrollers cannot run; change the model's layers so they convert to supported builtins "
            "(Conv1D, DepthwiseConv1D, pooling, Dense, ReLU, sigmoid, tanh, softmax)"
        )


def _tensor_info(model, subgraph, index: int) -> TensorInfo:
    t = subgraph.tensors[index]
    q = t.quantization
    scale = float(q.scale[0]) if q is not None and q.scale is not None and len(q.scale) else 0.0
    zp = int(q.zeroPoint[0]) if q is not None and q.zeroPoint is not None and len(q.zeroPoint) else 0
    shape = tuple(int(d) for d in (t.shape if t.shape is not None else []))
    return TensorInfo(type=_TENSOR_TYPES.get(t.type, str(t.type)), shape=shape, scale=scale, zero_point=zp)


def read_io(flatbuffer: bytes) -> tuple[TensorInfo, TensorInfo]:
    """The (first) input and output tensor of the main subgraph, with their quantization."""
    model = _model(flatbuffer)
    sg = model.subgraphs[0]
    return _tensor_info(model, sg, int(sg.inputs[0])), _tensor_info(model, sg, int(sg.outputs[0]))


def read_signature_io(flatbuffer: bytes) -> tuple[dict[str, tuple[int, TensorInfo]], dict[str, tuple[int, TensorInfo]]]:
    """Inputs and outputs by signature name (Keras input names; outputs ``output_0``, ``output_1`` in
    the Keras model's order) -> (position in the interpreter's input/output list, tensor).
    The converter orders a multi-input model's tensors its own way, so positions must be looked up."""
    model = _model(flatbuffer)
    sg = model.subgraphs[0]
    if not model.signatureDefs:
        raise ConverterError("the .tflite model has no signature; cannot tell its inputs and outputs apart")
    sig = model.signatureDefs[0]
    in_pos = [int(i) for i in sg.inputs]
    out_pos = [int(i) for i in sg.outputs]

    def table(entries, positions):
        return {(e.name.decode() if isinstance(e.name, bytes) else str(e.name)):
                (positions.index(int(e.tensorIndex)), _tensor_info(model, sg, int(e.tensorIndex))) for e in entries}

    return table(sig.inputs, in_pos), table(sig.outputs, out_pos)


def count_macs(flatbuffer: bytes) -> int:
    """Multiply-accumulates of one invoke: FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D and BATCH_MATMUL
    (elementwise ops, activations and pooling are not counted)."""
    model = _model(flatbuffer)
    total = 0
    for sg in model.subgraphs or []:
        def shape(i):
            return [int(d) for d in (sg.tensors[i].shape if sg.tensors[i].shape is not None else [])]

        for op in sg.operators or []:
            name = _op_name(model, op)
            out = shape(op.outputs[0])
            out_n = int(np.prod(out)) if out else 0
            if name == "FULLY_CONNECTED":
                total += out_n * shape(op.inputs[1])[-1]
            elif name == "CONV_2D":
                _, kh, kw, cin = shape(op.inputs[1])
                total += out_n * kh * kw * cin
            elif name == "DEPTHWISE_CONV_2D":
                _, kh, kw, _ = shape(op.inputs[1])
                total += out_n * kh * kw
            elif name == "BATCH_MATMUL":
                total += out_n * shape(op.inputs[0])[-1]
    return int(total)


def input_count(flatbuffer: bytes) -> int:
    return len(_model(flatbuffer).subgraphs[0].inputs)


# What the board's TFLM library (platformio.ini's pinned lib_deps entry: Chirale_TensorFLowLite 2.0.0,
# a tflite-micro snapshot of January 2023) computes differently from the laptop's tflite-micro, as
# measured by building both for the same CPU. Each entry: operator, how to tell the affected use in a
# model, what the board does, and what the converter emits instead.
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
    model = _model(flatbuffer)
    found = []
    for subgraph in model.subgraphs or []:
        for i, op in enumerate(subgraph.operators or []):
            name = _op_name(model, op)
            if name == "MEAN":
                found.append(("MEAN", i))
            elif name == "FULLY_CONNECTED" and op.inputs is not None and len(op.inputs) > 1:
                q = subgraph.tensors[int(op.inputs[1])].quantization
                if q is not None and q.scale is not None and len(q.scale) > 1:
                    found.append(("FULLY_CONNECTED per-channel", i))
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


def io_shapes(flatbuffer: bytes) -> tuple[list[tuple], int]:
    """The main subgraph's input shapes (in the interpreter's order) and its number of outputs."""
    sg = _model(flatbuffer).subgraphs[0]
    return [tuple(int(d) for d in sg.tensors[int(i)].shape) for i in sg.inputs], len(sg.outputs)
