"""Pooling: windows and global reductions, and onnxruntime's quantized ones (com.microsoft).
No parameters, no MACs."""

from __future__ import annotations

from math import prod

from ..shapes import Shape
from .base import CONNECTING, Axes, Cost, Field, NodeView, Role, Window, entry
from .rules import global_pool_shape, in_shape, outs, pool_shape
from .window import sides, window_axes

MS = "com.microsoft"
_QUNARY = (1, 2, 3, 4)  # X_scale, X_zero_point, Y_scale, Y_zero_point


def window_pool(v: NodeView) -> Cost:
    """Each output unit reads the k_h*k_w units of its window (no bias: no +1)."""
    window = prod(v.attr("kernel_shape", ()))
    units = v.out_numel()
    return Cost(flops=units * window, connections=units * window)


def global_pool(v: NodeView) -> Cost:
    """Each output unit reads the whole H*W map of its channel: every input unit once."""
    n = v.numel(0)
    return Cost(flops=n, connections=n)


def roi_pool(v: NodeView) -> Cost:
    """Max over each region; the regions depend on data, so only the output is counted."""
    return Cost(flops=v.out_numel())


def qlinear_average_pool_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Y is AveragePool's shape, (N, C, out...) or, channels last, (N, out..., C)."""
    sx = in_shape(v, 0)
    if sx is None:
        return outs(v, None)
    last = bool(v.attr("channels_last", 0))
    spatial = sx[1:-1] if last else sx[2:]
    axes = window_axes(v.attr, spatial, v.attr("kernel_shape"), pooling=True)
    if axes is None:
        return outs(v, None)
    return outs(v, (sx[0], *sides(axes), sx[-1]) if last else (sx[0], sx[1], *sides(axes)))


def qlinear_global_average_pool_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Y keeps N and C and sets every spatial side to 1 (channels first or last)."""
    sx = in_shape(v, 0)
    if sx is None:
        return outs(v, None)
    ones = (1,) * (len(sx) - 2)
    return outs(v, (sx[0], *ones, sx[-1]) if v.attr("channels_last", 0) else
                (sx[0], sx[1], *ones))


_WINDOW = dict(role=Role.POOL, axes=Axes.CHANNELS_FIRST, receptive=Field.WINDOW,
               window=Window(pooling=True))
_GLOBAL = dict(role=Role.POOL, axes=Axes.CHANNELS_FIRST, receptive=Field.GLOBAL)

OPS = {
    ("", "MaxPool"): entry(window_pool, metrics=CONNECTING, keras="max_pooling{n}d",
                           **_WINDOW),
    ("", "AveragePool"): entry(window_pool, metrics=CONNECTING, keras="average_pooling{n}d",
                               **_WINDOW),
    ("", "LpPool"): entry(window_pool, metrics=CONNECTING, shape=pool_shape, **_WINDOW),
    ("", "GlobalAveragePool"): entry(global_pool, metrics=CONNECTING,
                                     keras="global_average_pooling{n}d", **_GLOBAL),
    ("", "GlobalMaxPool"): entry(global_pool, metrics=CONNECTING,
                                 keras="global_max_pooling{n}d", **_GLOBAL),
    ("", "GlobalLpPool"): entry(global_pool, metrics=CONNECTING, shape=global_pool_shape,
                                **_GLOBAL),
    ("", "MaxRoiPool"): entry(roi_pool, role=Role.POOL),
    ("", "RoiAlign"): entry(roi_pool),
    (MS, "QLinearAveragePool"): entry(
        window_pool, fixed=_QUNARY, metrics=CONNECTING, role=Role.POOL,
        axes=Axes.CHANNELS_FIRST, window=Window(channels_last=None, pooling=True),
        shape=qlinear_average_pool_shape),
    (MS, "QLinearGlobalAveragePool"): entry(
        global_pool, fixed=_QUNARY, metrics=CONNECTING, role=Role.POOL,
        axes=Axes.CHANNELS_FIRST, shape=qlinear_global_average_pool_shape),
}
