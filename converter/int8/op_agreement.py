"""Operator by operator: the int8 windowed model in TFLM against the TFLite reference kernels.

Both interpreters keep every intermediate tensor; for every window and every operator the
outputs are compared. Where an operator's inputs were identical in both, a difference is what
that kernel computes differently (a rounding choice, or a wrong kernel / corrupted weights);
where its inputs already differed, the difference is inherited from upstream. The first is the
gate (``kernel_max_lsb``), the second is reported per operator so the report says which op
makes the output differ and by how much. An operator that never got identical inputs on any window
is gated on its output difference, as a whole-model comparison would.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from converter.int8.tflm import preserving_pair


@dataclass
class OpStats:
    """One operator of the graph over all compared windows."""

    index: int
    op: str
    runs_same_inputs: int = 0
    kernel_max_lsb: int = 0  # largest output difference when its inputs were identical in both
    kernel_values_differing: float = 0.0  # share of its output values that differed then
    inherited_max_lsb: int = 0  # largest output difference when its inputs already differed
    input_max_lsb: int = 0  # largest input difference it was fed
    _differing: int = 0
    _values: int = 0

    def as_dict(self) -> dict:
        return {"index": self.index, "op": self.op, "runs_same_inputs": self.runs_same_inputs,
                "kernel_max_lsb": self.kernel_max_lsb,
                "kernel_values_differing": round(self._differing / self._values, 5) if self._values else 0.0,
                "inherited_max_lsb": self.inherited_max_lsb, "input_max_lsb": self.input_max_lsb}


@dataclass
class WindowAgreement:
    """What ``compare_ops`` found; ``ops`` lists every operator in execution order."""

    kernel_max_lsb: int
    kernel_worst_op: str
    output_max_lsb: int
    windows_compared: int
    windows_with_output_diff: int
    ops: list[OpStats] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"kernel_max_lsb": self.kernel_max_lsb, "kernel_worst_op": self.kernel_worst_op,
                "output_max_lsb": self.output_max_lsb, "windows_compared": self.windows_compared,
                "windows_with_output_diff": self.windows_with_output_diff,
                "ops": [o.as_dict() for o in self.ops]}


def _max_abs(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.max(np.abs(a - b))) if a.size else 0


def compare_ops(flatbuffer: bytes, x_int8: np.ndarray, tflm_flatbuffer: bytes | None = None) -> WindowAgreement:
    """Run every window (int8, already quantized) through both interpreters and compare every operator.

    ``tflm_flatbuffer`` (default: ``flatbuffer``) is what TFLM runs; a test passes a corrupted copy."""
    ref, ops, micro = preserving_pair(flatbuffer, tflm_flatbuffer)
    inp, out = ref.get_input_details()[0], ref.get_output_details()[0]
    activations = {int(inp["index"])} | {int(t) for op in ops for t in op["outputs"]}
    stats = [OpStats(i, op["op_name"]) for i, op in enumerate(ops)]
    kernel_max, worst, out_max, differing_windows = 0, "", 0, 0

    for w, window in enumerate(x_int8):
        ref.set_tensor(inp["index"], window[None, ...])
        ref.invoke()
        micro.set_input(window[None, ...], 0)
        micro.invoke()
        cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

        def both(index: int) -> tuple[np.ndarray, np.ndarray]:
            if index not in cache:
                mine = micro.GetTensor(index, 0)
                mine = mine["tensor_data"] if isinstance(mine, dict) else mine
                cache[index] = (ref.get_tensor(index).astype(np.int32).reshape(-1),
                                np.asarray(mine).astype(np.int32).reshape(-1))
            return cache[index]

        for s, op in zip(stats, ops):
            in_diff = max((_max_abs(*both(int(k))) for k in op["inputs"] if int(k) in activations), default=0)
            for k in op["outputs"]:
                want, got = both(int(k))
                diff = _max_abs(want, got)
                if in_diff == 0:
                    s.runs_same_inputs += 1
                    s._differing += int(np.count_nonzero(want != got))
                    s._values += int(want.size)
                    if diff > s.kernel_max_lsb:
                        s.kernel_max_lsb = diff
                    if diff > kernel_max:
                        kernel_max, worst = diff, f"{op['op_name']} (operator {s.index}, window {w})"
                else:
                    s.input_max_lsb = max(s.input_max_lsb, in_diff)
                    s.inherited_max_lsb = max(s.inherited_max_lsb, diff)
        d = _max_abs(*both(int(out["index"])))
        out_max = max(out_max, d)
        differing_windows += int(d > 0)
    for s in stats:  # an operator never fed identical inputs cannot be told apart from its upstream: judge its output
        if s.runs_same_inputs == 0 and s.inherited_max_lsb > kernel_max:
            kernel_max, worst = s.inherited_max_lsb, f"{s.op} (operator {s.index}, never fed identical inputs)"
    return WindowAgreement(kernel_max, worst, out_max, len(x_int8), differing_windows, stats)
