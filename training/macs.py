"""Parameters and multiply-accumulates of one inference, counted layer by layer.

Counted: Dense, Conv1D, SeparableConv1D, DepthwiseConv1D and GRU (per step times the
steps it runs over). Pooling, activations, batch normalization (folded into the
convolution by the converter) and element-wise work are left out: they cost little next
to the multiplies counted here.
"""

from __future__ import annotations


def _steps(shape) -> int:
    """Time steps of a ``(batch, steps, channels)`` output (1 for ``(batch, features)``)."""
    return int(shape[1]) if len(shape) == 3 else 1


def layer_macs(layer) -> int:
    """Multiply-accumulates of one layer for one input (batch 1)."""
    kind = type(layer).__name__
    if kind == "Dense":
        in_features = int(layer.input.shape[-1])
        return _steps(layer.output.shape) * in_features * int(layer.units)
    if kind == "Conv1D":
        in_ch = int(layer.input.shape[-1])
        k = int(layer.kernel_size[0])
        return _steps(layer.output.shape) * k * (in_ch // int(layer.groups)) * int(layer.filters)
    if kind == "DepthwiseConv1D":
        in_ch = int(layer.input.shape[-1])
        return _steps(layer.output.shape) * int(layer.kernel_size[0]) * in_ch * int(layer.depth_multiplier)
    if kind == "SeparableConv1D":
        in_ch = int(layer.input.shape[-1])
        steps = _steps(layer.output.shape)
        depthwise = steps * int(layer.kernel_size[0]) * in_ch * int(layer.depth_multiplier)
        pointwise = steps * in_ch * int(layer.depth_multiplier) * int(layer.filters)
        return depthwise + pointwise
    if kind == "GRU":
        in_features = int(layer.input.shape[-1])
        units = int(layer.units)
        steps = int(layer.input.shape[1])
        return steps * 3 * (in_features * units + units * units)
    return 0


def count_macs(model) -> int:
    """Multiply-accumulates of one inference of ``model`` (nested models are walked)."""
    total = 0
    for layer in model.layers:
        total += count_macs(layer) if hasattr(layer, "layers") else layer_macs(layer)
    return int(total)


def describe_size(model) -> dict:
    return {"params": int(model.count_params()), "macs": count_macs(model)}
