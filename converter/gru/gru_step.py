"""The GRU as a one-step model: (x_t, h) -> (h', class scores), sharing the trained weights.

A whole Keras 3 GRU does not convert to int8 for TFLM (docs: /work/shared/DESIGN.md, Models),
so the converter rebuilds the trained network as one recurrence step that the firmware calls
once per step, carrying the state ``h`` itself:

    x_t --[front end, if any]--> f_t
    z  = sigmoid(f_t W_z + b_z  + h U_z + c_z)
    r  = sigmoid(f_t W_r + b_r  + h U_r + c_r)
    n  = tanh(f_t W_n + b_n + r * (h U_n + c_n))       (reset_after: r scales h U_n + c_n)
    h' = n + z * (h - n)                                (= z * h + (1 - z) * n)
    scores = layers after the GRU (the classifier), applied to h'

Each product is its own Dense layer (FULLY_CONNECTED in TFLite) so every gate gets its own
int8 scale. For a Conv1D front end (cnn-gru) one step consumes a chunk of the front end's
receptive field (``chunk_samples``) and the next step starts ``stride_samples`` later; for a
plain GRU both are 1. ``h`` is zero at the start of every window, as in training.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from contract.input import steps_per_window
from converter import ConverterError

GRU_LAYER_TYPES = ("GRU",)
# Layers that act on each time step independently (receptive field 1, stride 1).
POINTWISE_TYPES = ("BatchNormalization", "ReLU", "Activation", "Dropout", "LeakyReLU", "SpatialDropout1D",
                   "GaussianNoise", "LayerNormalization")
WINDOWED_TYPES = ("Conv1D", "MaxPooling1D", "AveragePooling1D")
GATES = ("z", "r", "n")


@dataclass
class StepPlan:
    """How the trained GRU network is stepped: which layers, how many samples per step."""

    units: int
    channels: int
    window: int
    chunk_samples: int  # samples the one-step model reads per call (front end receptive field; 1 without)
    stride_samples: int  # samples between two calls
    steps_per_window: int
    front_end: list[str] = field(default_factory=list)  # layer names before the GRU
    head: list[str] = field(default_factory=list)  # layer names after the GRU
    gru_layer: str = "gru"
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "units": self.units, "state_bytes_int8": self.units, "chunk_samples": self.chunk_samples,
            "stride_samples": self.stride_samples, "steps_per_window": self.steps_per_window,
            "front_end": self.front_end or None, "head": self.head, "gru_layer": self.gru_layer, "notes": self.notes,
        }


def find_gru(model):
    """The model's GRU layer, or None for a windowed (Conv1D) model."""
    found = [layer for layer in model.layers if type(layer).__name__ in GRU_LAYER_TYPES]
    if len(found) > 1:
        raise ConverterError(f"the model has {len(found)} GRU layers ({', '.join(l.name for l in found)}); "
                             "the one-step export takes exactly one GRU")
    return found[0] if found else None


def _chain(model):
    """The model's layers in order, checked to be a single chain input -> ... -> output."""
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    for before, after in zip(layers, layers[1:]):
        if after.input is not before.output and getattr(after.input, "name", None) != before.output.name:
            raise ConverterError(f"layer {after.name!r} does not take the output of {before.name!r}; the one-step "
                                 "export takes a GRU network built as a single chain of layers")
    return layers


def plan_steps(model, window: int, channels: int) -> StepPlan:
    gru = find_gru(model)
    layers = _chain(model)
    at = layers.index(gru)
    front, head = layers[:at], layers[at + 1:]
    problems = []
    if not gru.reset_after:
        problems.append("reset_after=False")
    if gru.return_sequences or gru.return_state or gru.go_backwards or gru.stateful:
        problems.append("return_sequences/return_state/go_backwards/stateful")
    if not gru.use_bias:
        problems.append("use_bias=False")
    if gru.activation.__name__ != "tanh" or gru.recurrent_activation.__name__ != "sigmoid":
        problems.append(f"activations {gru.activation.__name__}/{gru.recurrent_activation.__name__}")
    if problems:
        raise ConverterError(f"GRU layer {gru.name!r} has {', '.join(problems)}; the one-step export supports "
                             "GRU(units, reset_after=True, use_bias=True, activation='tanh', "
                             "recurrent_activation='sigmoid', return_sequences=False)")
    chunk, stride, notes = 1, 1, []
    for layer in front:
        kind = type(layer).__name__
        if kind in POINTWISE_TYPES:
            continue
        if kind not in WINDOWED_TYPES:
            raise ConverterError(f"front-end layer {layer.name!r} ({kind}) mixes time steps in a way the one-step "
                                 "export cannot stream; use Conv1D, pooling, batch normalization and activations")
        if kind == "Conv1D":
            k, s, d = layer.kernel_size[0], layer.strides[0], layer.dilation_rate[0]
        else:
            k, s, d = layer.pool_size[0], layer.strides[0], 1
        if getattr(layer, "padding", "valid") != "valid":
            notes.append(f"{layer.name} uses padding={layer.padding!r}: streamed steps see only whole chunks, "
                         "so the window's edge steps differ from training")
        chunk += (k - 1) * d * stride
        stride *= s
    if window < chunk:
        raise ConverterError(f"the front end needs {chunk} samples per step but a window has only {window}")
    steps = steps_per_window(chunk, stride, window)
    return StepPlan(units=int(gru.units), channels=channels, window=window, chunk_samples=chunk,
                    stride_samples=stride, steps_per_window=steps, front_end=[l.name for l in front],
                    head=[l.name for l in head], gru_layer=gru.name, notes=notes)


def step_layer_names(plan: StepPlan) -> dict[str, str]:
    """Names of layers in the one-step model -> the layer of model.keras they come from."""
    names = {f"{plan.gru_layer}_{src}_{g}": plan.gru_layer for src in ("x", "h") for g in GATES}
    names.update({f"{plan.gru_layer}_{part}": plan.gru_layer for part in ("z", "r", "n", "state")})
    names.update({n: n for n in plan.front_end + plan.head})
    return names


def build_step_model(model, plan: StepPlan, batch_size: int | None = None):
    """A Keras model with inputs x_t and h and outputs h' and scores, sharing ``model``'s weights."""
    import keras
    from keras import layers as L

    gru = model.get_layer(plan.gru_layer)
    kernel, recurrent, bias = (np.asarray(w) for w in gru.get_weights())
    u = plan.units
    x_shape = (plan.channels,) if not plan.front_end else (plan.chunk_samples, plan.channels)
    x_t = keras.Input(batch_shape=(batch_size, *x_shape), name="x_t")
    h = keras.Input(batch_shape=(batch_size, u), name="h")
    f = x_t
    for name in plan.front_end:
        f = model.get_layer(name)(f)
    if plan.front_end:
        f = L.Reshape((int(f.shape[-1]),), name=f"{plan.gru_layer}_input")(f)

    def dense(source, weights, b, name):
        layer = L.Dense(u, name=name)
        layer.build((None, weights.shape[0]))
        layer.set_weights([weights, b])
        return layer(source)

    proj = {}
    for i, g in enumerate(GATES):
        cols = slice(i * u, (i + 1) * u)
        proj["x", g] = dense(f, kernel[:, cols], bias[0, cols], f"{plan.gru_layer}_x_{g}")
        proj["h", g] = dense(h, recurrent[:, cols], bias[1, cols], f"{plan.gru_layer}_h_{g}")
    name = plan.gru_layer
    z = L.Activation("sigmoid", name=f"{name}_z")(L.Add()([proj["x", "z"], proj["h", "z"]]))
    r = L.Activation("sigmoid", name=f"{name}_r")(L.Add()([proj["x", "r"], proj["h", "r"]]))
    n = L.Activation("tanh", name=f"{name}_n")(L.Add()([proj["x", "n"], L.Multiply()([r, proj["h", "n"]])]))
    h_next = L.Add(name=f"{name}_state")([n, L.Multiply()([z, L.Subtract()([h, n])])])
    scores = h_next
    for layer_name in plan.head:
        scores = model.get_layer(layer_name)(scores)
    return keras.Model([x_t, h], [h_next, scores], name="one_step")


def step_inputs(x_windows: np.ndarray, plan: StepPlan) -> np.ndarray:
    """Normalized windows (n, window, channels) -> per-step model inputs (n, steps, *x_t shape)."""
    starts = np.arange(plan.steps_per_window) * plan.stride_samples
    if not plan.front_end:
        return x_windows[:, starts, :]
    idx = starts[:, None] + np.arange(plan.chunk_samples)[None, :]
    return x_windows[:, idx, :]


def run_float_steps(step_model, plan: StepPlan, x_windows: np.ndarray):
    """Step the float one-step model over every window from h = 0.

    Returns (final scores (n, labels), inputs (n, steps, ...), states in (n, steps, units), states out)."""
    xs = step_inputs(x_windows, plan)
    n = len(xs)
    h = np.zeros((n, plan.units), dtype=np.float32)
    h_in, h_out = [], []
    scores = None
    for t in range(plan.steps_per_window):
        h_in.append(h)
        h_next, scores = step_model([xs[:, t], h], training=False)
        h = np.asarray(h_next, dtype=np.float32)
        h_out.append(h)
    return np.asarray(scores, dtype=np.float32), xs, np.stack(h_in, axis=1), np.stack(h_out, axis=1)


def representative_pairs(step_model, plan: StepPlan, x_windows: np.ndarray, limit: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Calibration (x_t, h) pairs met while stepping the float model over training windows.

    Pairs are picked evenly (deterministic) from all steps of all windows. Then the h input's range
    is made equal to the h' output's range, so that the converter gives both the same int8 scale and
    zero point and the firmware can copy h' into h as int8: for an h value beyond the outputs, the
    step that produced it is added; for an output beyond the h values, a pair whose h holds that
    value is added."""
    _, xs, h_in, _ = run_float_steps(step_model, plan, x_windows)
    flat_x = xs.reshape((-1,) + xs.shape[2:])
    flat_h = h_in.reshape(-1, plan.units)
    steps = plan.steps_per_window
    picked = list(np.unique(np.linspace(0, len(flat_x) - 1, num=min(len(flat_x), limit)).round().astype(int)))
    made: list[np.ndarray] = []  # h vectors holding an output extreme (paired with the first picked x_t)
    for _ in range(16):
        xs_p = np.stack([flat_x[k] for k in picked] + [flat_x[picked[0]]] * len(made))
        hs_p = np.stack([flat_h[k] for k in picked] + made)
        out = np.asarray(step_model([xs_p, hs_p], training=False)[0])
        lo_out, hi_out, lo_in, hi_in = float(out.min()), float(out.max()), float(hs_p.min()), float(hs_p.max())
        if (lo_in, hi_in) == (lo_out, hi_out):
            break
        for value, beyond in ((lo_in, lo_in < lo_out), (hi_in, hi_in > hi_out)):
            # an h no calibration step produces: add the step that produced it (h is 0 only at a window's start)
            k = next((k for k in picked if value in flat_h[k] and k % steps), None) if beyond and value else None
            if k is not None:
                picked.append(k - 1)
        for value, beyond in ((lo_out, lo_out < lo_in), (hi_out, hi_out > hi_in)):
            if beyond:
                made.append(np.full(plan.units, value, dtype=np.float32))
    return [(x[None, ...].astype(np.float32), h[None, :].astype(np.float32)) for x, h in zip(xs_p, hs_p)]
