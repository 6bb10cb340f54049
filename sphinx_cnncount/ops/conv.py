"""Conv, ConvTranspose and their quantized forms."""

from __future__ import annotations

from math import prod

from .base import TRAINABLE, Cost, NodeView, spec


def conv_cost(w: int, b: int):
    """A convolution whose weight is input ``w`` and bias input ``b``."""

    def cost(v: NodeView) -> Cost:
        """Each output unit reads k_h*k_w*C_in/groups inputs, plus one with a bias."""
        fan_in = prod(v.shape(w)[1:])  # W is [C_out, C_in/groups, k_h, k_w]
        units = v.out_numel()  # N * C_out * H_out * W_out
        macs = units * fan_in
        bias = units if v.has(b) else 0  # +1: the bias, per output unit
        return Cost(macs=macs, flops=2 * macs + bias, connections=macs + bias)

    return cost


def conv_transpose(v: NodeView) -> Cost:
    """Each input unit is scattered onto k_h*k_w*C_out/groups output units."""
    fan_out = prod(v.shape(1)[1:])  # W is [C_in, C_out/groups, k_h, k_w]
    macs = v.numel(0) * fan_out
    bias = v.out_numel() if v.has(2) else 0
    return Cost(macs=macs, flops=2 * macs + bias, connections=macs + bias)


OPS = {
    "Conv": spec(conv_cost(1, 2), {1: TRAINABLE, 2: TRAINABLE}),
    "ConvTranspose": spec(conv_transpose, {1: TRAINABLE, 2: TRAINABLE}),
    # x, w, x_zero_point, w_zero_point
    "ConvInteger": spec(conv_cost(1, 99), {1: TRAINABLE}, fixed=(2, 3)),
    # x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B
    "QLinearConv": spec(conv_cost(3, 8), {3: TRAINABLE, 8: TRAINABLE}, fixed=(1, 2, 4, 5, 6, 7)),
}
