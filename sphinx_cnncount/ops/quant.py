"""Quantize and dequantize (and onnxruntime's forms of them, com.microsoft): a scale and a zero
point per element, never parameters. The data is the same data, re-typed: a layout op."""

from __future__ import annotations

from .base import Axes, Cost, Field, NodeView, Role, entry
from .rules import same_shape

MS = "com.microsoft"


def requantize(v: NodeView) -> Cost:
    """A scale and a zero point: two FLOPs per unit."""
    return Cost(flops=2 * v.out_numel())


_RETYPE = dict(role=Role.LAYOUT, axes=Axes.KEEP, receptive=Field.SAME)

# x, scale, zero_point; a DequantizeLinear's int8 input is a parameter the counter finds by
# its own rule (params.py: the integer tensor behind a DequantizeLinear).
OPS = {
    ("", "QuantizeLinear"): entry(requantize, fixed=(1, 2), **_RETYPE),
    ("", "DequantizeLinear"): entry(requantize, fixed=(1, 2), **_RETYPE),
    ("", "DynamicQuantizeLinear"): entry(requantize, role=Role.LAYOUT),
    (MS, "QuantizeLinear"): entry(requantize, fixed=(1, 2), shape=same_shape(), **_RETYPE),
    (MS, "DequantizeLinear"): entry(requantize, fixed=(1, 2), shape=same_shape(), **_RETYPE),
}
