"""Quantize and dequantize: a scale and a zero point per element, never parameters."""

from __future__ import annotations

from .base import Cost, NodeView, spec


def requantize(v: NodeView) -> Cost:
    """A scale and a zero point: two FLOPs per unit."""
    return Cost(flops=2 * v.out_numel())


OPS = {
    "QuantizeLinear": spec(requantize, fixed=(1, 2)),
    "DequantizeLinear": spec(requantize, fixed=(1, 2)),
    "DynamicQuantizeLinear": spec(requantize),
}
