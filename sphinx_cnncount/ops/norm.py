"""Normalizations: a per-channel scale (adds no connections) and shift (adds one)."""

from __future__ import annotations

from .base import CONNECTING, NON_TRAINABLE, TRAINABLE, Cost, NodeView, spec


def affine_cost(flops_per_unit: int, bias: int | None):
    def cost(v: NodeView) -> Cost:
        """A scale and a shift per unit; the shift is a bias: +1 connection per output unit."""
        units = v.out_numel()
        has_bias = bias is None or v.has(bias)
        return Cost(flops=flops_per_unit * units, connections=units if has_bias else 0)

    return cost


def lrn(v: NodeView) -> Cost:
    """Sum of squares over ``size`` neighbouring channels, then a power and a division."""
    units = v.out_numel()
    return Cost(flops=units * (int(v.attr("size", 1)) + 3))


OPS = {
    # X, scale, B, input_mean, input_var: at inference y = x*a + b per channel.
    "BatchNormalization": spec(affine_cost(2, None),
                               {1: TRAINABLE, 2: TRAINABLE, 3: NON_TRAINABLE, 4: NON_TRAINABLE},
                               metrics=CONNECTING),
    # The statistics are computed: subtract, square, mean, divide, then scale and shift.
    "InstanceNormalization": spec(affine_cost(5, 2), {1: TRAINABLE, 2: TRAINABLE},
                                  metrics=CONNECTING),
    "LayerNormalization": spec(affine_cost(5, 2), {1: TRAINABLE, 2: TRAINABLE},
                               metrics=CONNECTING),
    "GroupNormalization": spec(affine_cost(5, 2), {1: TRAINABLE, 2: TRAINABLE},
                               metrics=CONNECTING),
    "LRN": spec(lrn),
}
