"""Convolutions: Conv, ConvTranspose, their quantized forms, and onnxruntime's fused and NHWC
convolutions (com.microsoft)."""

from __future__ import annotations

from math import prod

from .base import (LINEAR, TRAINABLE, Axes, Cost, Field, NodeView, Role, Window, entry)
from .rules import conv_shape

MS = "com.microsoft"


def conv_cost(w: int, b: int, channels_last: bool | None = False):
    """A convolution whose weight is input ``w`` and bias input ``b``; its input is NCHW, NHWC
    (``channels_last`` True: onnxruntime's NhwcConv) or says which in its ``channels_last``
    attribute (None: QLinearConv in onnxruntime's form)."""

    def cost(v: NodeView) -> Cost:
        """Each output unit reads k_h*k_w*C_in/groups inputs, plus one with a bias."""
        weight = v.shape(w)  # [C_out, C_in/groups, k_h, k_w]
        x = v.shape(0)
        last = bool(v.attr("channels_last", 0)) if channels_last is None else channels_last
        check_window(v, weight, channels=x[-1] if last else x[1], per_group=weight[1])
        fan_in = prod(weight[1:])  # C_in/groups * k_h * k_w
        units = v.out_numel()  # N * C_out * H_out * W_out
        macs = units * fan_in
        adds = units if v.has(b) else 0
        bias = units if v.reads_param(b) else 0  # +1: the bias, per output unit
        return Cost(macs=macs, flops=2 * macs + adds, connections=macs + bias)

    return cost


def conv_transpose(v: NodeView) -> Cost:
    """Each input unit is scattered onto k_h*k_w*C_out/groups output units."""
    weight = v.shape(1)  # [C_in, C_out/groups, k_h, k_w]
    check_window(v, weight, channels=v.shape(0)[1], per_group=None)
    fan_out = prod(weight[1:])
    macs = v.numel(0) * fan_out
    adds = v.out_numel() if v.has(2) else 0
    bias = v.out_numel() if v.reads_param(2) else 0
    return Cost(macs=macs, flops=2 * macs + adds, connections=macs + bias)


def check_window(v: NodeView, weight: tuple[int, ...], channels: int,
                 per_group: int | None) -> None:
    """Raise ValueError when the attributes contradict the weight (the counter reports the
    node as invalid): a kernel_shape other than the weight's, or channels that do not fit."""
    kernel = v.attr("kernel_shape")
    if kernel is not None and tuple(kernel) != tuple(weight[2:]):
        raise ValueError(f"kernel_shape {list(kernel)} but the weight is {list(weight)}")
    groups = int(v.attr("group", 1))
    if per_group is not None and channels != per_group * groups:
        raise ValueError(f"{channels} input channels but the weight reads {per_group} "
                         f"per group x {groups} groups")
    if per_group is None and channels != weight[0]:
        raise ValueError(f"{channels} input channels but the weight is {list(weight)}")


_conv = conv_cost(1, 2)


def deform_conv(v: NodeView) -> Cost:
    """A convolution (its MACs, bias and connections) whose every input value is first sampled
    at an offset position: a bilinear interpolation of 4 taps (7 FLOPs) per sampled value,
    times the mask when given (1)."""
    weight = v.shape(1)  # [C_out, C_in/group, k_h, k_w]
    out = v.out_shape(0)  # [N, C_out, H_out, W_out]
    samples = out[0] * v.shape(0)[1] * prod(weight[2:]) * prod(out[2:])
    return _deform(v) + Cost(flops=samples * (7 + v.has(4)))


_deform = conv_cost(1, 3)  # X, W, offset, B: the bias is input 3


def causal_conv(v: NodeView) -> Cost:
    """A depthwise 1-D convolution: k MACs per output unit (weight (C, 1, k)), the bias add,
    the fused SiLU (one FLOP) when asked."""
    k = v.shape(1)[2]
    units = v.out_numel()
    macs = units * k
    adds = units if v.has(2) else 0
    bias = units if v.reads_param(2) else 0  # +1: the bias
    act = units if v.attr("activation", None) else 0
    return Cost(macs=macs, flops=2 * macs + adds + act, connections=macs + bias)


def fused_conv(v: NodeView) -> Cost:
    """Conv + bias, then Z (a residual activation, no connection) added, then the activation."""
    units = v.out_numel()
    z = units if v.has(3) else 0  # the sum input Z, one add per output unit
    act = units if v.attr("activation", None) else 0  # one FLOP per unit, as elementwise.py
    return _conv(v) + Cost(flops=z + act)


def _convolution(cost, params, fixed=(), *, weight: int, bias: int | None = None,
                 channels_last: bool | None = False, transposed: bool = False, shape=None):
    """A convolution's entry: a product over a window. Its channels and receptive field are
    read as channels first unless it is channels-last (``channels_last`` None: as its
    attribute says, which is almost always channels first); a transposed one's field is
    fractional: none."""
    return entry(cost, params, fixed, metrics=LINEAR, role=Role.LINEAR,
                 axes=Axes.CHANNELS_LAST if channels_last else Axes.CHANNELS_FIRST,
                 receptive=Field.NONE if transposed or channels_last else Field.WINDOW,
                 window=Window(weight, channels_last, transposed=transposed), weight=weight,
                 bias=bias, factors=(0, weight), shape=shape,
                 keras="conv{n}d_transpose" if transposed else "conv{n}d")


OPS = {
    # X, W, offset, B, mask: the offsets and the mask are computed, never parameters
    ("", "DeformConv"): _convolution(deform_conv, {1: TRAINABLE, 3: TRAINABLE}, (2, 4), weight=1,
                                     bias=3),
    # input, weight (C, 1, k), bias, past_state (opset 27)
    ("", "CausalConvWithState"): entry(causal_conv, {1: TRAINABLE, 2: TRAINABLE}, (3,),
                                       metrics=LINEAR, role=Role.LINEAR,
                                       axes=Axes.CHANNELS_FIRST, weight=1, bias=2,
                                       factors=(0, 1)),
    ("", "Conv"): _convolution(conv_cost(1, 2), {1: TRAINABLE, 2: TRAINABLE}, weight=1, bias=2),
    ("", "ConvTranspose"): _convolution(conv_transpose, {1: TRAINABLE, 2: TRAINABLE}, weight=1,
                                 bias=2, transposed=True),
    # x, w, x_zero_point, w_zero_point
    ("", "ConvInteger"): _convolution(conv_cost(1, 99), {1: TRAINABLE}, (2, 3), weight=1),
    # x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B
    ("", "QLinearConv"): _convolution(conv_cost(3, 8), {3: TRAINABLE, 8: TRAINABLE},
                               (1, 2, 4, 5, 6, 7), weight=3, bias=8),
    # onnxruntime's form: the same slots, and a channels_last attribute
    (MS, "QLinearConv"): _convolution(conv_cost(3, 8, channels_last=None),
                               {3: TRAINABLE, 8: TRAINABLE}, (1, 2, 4, 5, 6, 7), weight=3,
                               bias=8, channels_last=None,
                               shape=conv_shape(0, 3, channels_last=None)),
    # X, W, B, Z (the sum input)
    (MS, "FusedConv"): _convolution(fused_conv, {1: TRAINABLE, 2: TRAINABLE}, weight=1, bias=2,
                             shape=conv_shape(0, 1, channels_last=False)),
    # X (N, H, W, C), W (M, C/group, kH, kW), B
    (MS, "NhwcConv"): _convolution(conv_cost(1, 2, channels_last=True), {1: TRAINABLE, 2: TRAINABLE},
                            weight=1, bias=2, channels_last=True,
                            shape=conv_shape(0, 1, channels_last=True)),
}
