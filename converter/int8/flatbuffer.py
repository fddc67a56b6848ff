"""Reading a .tflite flatbuffer: its operators (with versions and weight scales) and its input/output
quantization. What the board may run is judged in board_ops.py, from what this module reads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from converter import ConverterError

_BUILTIN_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
_TENSOR_TYPES = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}


@dataclass(frozen=True)
class OpInfo:
    name: str
    version: int


@dataclass(frozen=True)
class OpUse:
    """One operator of the graph: its position in its subgraph, its name, and how many scales its weights
    (input 1) carry: 0 without, 1 per-tensor, more per-channel."""

    index: int
    name: str
    weight_scales: int


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


def read_op_uses(flatbuffer: bytes) -> list[OpUse]:
    """Every operator of every subgraph, in order, with its weights' scale count."""
    model = _model(flatbuffer)
    uses = []
    for subgraph in model.subgraphs or []:
        for i, op in enumerate(subgraph.operators or []):
            weights = int(op.inputs[1]) if op.inputs is not None and len(op.inputs) > 1 else -1  # -1: none
            q = subgraph.tensors[weights].quantization if weights >= 0 else None
            scales = len(q.scale) if q is not None and q.scale is not None else 0
            uses.append(OpUse(i, _op_name(model, op), scales))
    return uses


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


def io_shapes(flatbuffer: bytes) -> tuple[list[tuple], int]:
    """The main subgraph's input shapes (in the interpreter's order) and its number of outputs."""
    sg = _model(flatbuffer).subgraphs[0]
    return [tuple(int(d) for d in sg.tensors[int(i)].shape) for i in sg.inputs], len(sg.outputs)
