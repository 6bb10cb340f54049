"""Pooling: windows and global reductions. No parameters, no MACs."""

from __future__ import annotations

from math import prod

from .base import CONNECTING, Cost, NodeView, spec


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


OPS = {
    "MaxPool": spec(window_pool, metrics=CONNECTING),
    "AveragePool": spec(window_pool, metrics=CONNECTING),
    "LpPool": spec(window_pool, metrics=CONNECTING),
    "GlobalAveragePool": spec(global_pool, metrics=CONNECTING),
    "GlobalMaxPool": spec(global_pool, metrics=CONNECTING),
    "GlobalLpPool": spec(global_pool, metrics=CONNECTING),
    "MaxRoiPool": spec(roi_pool),
    "RoiAlign": spec(roi_pool),
}
