"""Conv, ConvTranspose and their quantized forms."""

from __future__ import annotations

from math import prod

from .base import LINEAR, TRAINABLE, Cost, NodeView, spec


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


OPS = {
    "Conv": spec(conv_cost(1, 2), {1: TRAINABLE, 2: TRAINABLE}, metrics=LINEAR),
    "ConvTranspose": spec(conv_transpose, {1: TRAINABLE, 2: TRAINABLE}, metrics=LINEAR),
    # x, w, x_zero_point, w_zero_point
    "ConvInteger": spec(conv_cost(1, 99), {1: TRAINABLE}, fixed=(2, 3), metrics=LINEAR),
    # x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B
    "QLinearConv": spec(conv_cost(3, 8), {3: TRAINABLE, 8: TRAINABLE}, fixed=(1, 2, 4, 5, 6, 7),
                        metrics=LINEAR),
}
