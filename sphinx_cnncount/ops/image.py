"""Sampling images at computed positions and rearranging patches: GridSample, AffineGrid,
Col2Im, CenterCropPad, ImageDecoder. Interpolation and patch sums are FLOPs; none of them
multiplies by learnt weights, so none has MACs."""

from __future__ import annotations

from math import prod

from .base import Axes, Cost, Field, NodeView, entry, zero_cost


def _taps(mode: bytes | str, dims: int) -> int:
    """The input values one output value reads: 1 (nearest), 2^d (linear), 4^d (cubic)."""
    mode = mode.decode() if isinstance(mode, bytes) else str(mode)
    if mode == "nearest":
        return 1
    return 4 ** dims if mode in ("cubic", "bicubic") else 2 ** dims


def grid_sample(v: NodeView) -> Cost:
    """Each output value interpolates the taps around its grid position: one FLOP per tap (as
    Resize's linear mode counts 4 in 2-D); no MACs, no connections (the positions are data)."""
    dims = len(v.out_shape(0)) - 2  # Y is (N, C, H_out, W_out) or (N, C, D_out, H_out, W_out)
    return Cost(flops=v.out_numel() * _taps(v.attr("mode", b"linear"), dims))


def affine_grid(v: NodeView) -> Cost:
    """Each coordinate of the grid is a row of theta times (x, y[, z], 1): d+1 multiplies and
    d adds, 2*(d+1) FLOPs counted per coordinate."""
    d = v.out_shape(0)[-1]  # grid is (N, H, W, 2) or (N, D, H, W, 3)
    return Cost(flops=2 * (d + 1) * v.out_numel())


def col2im(v: NodeView) -> Cost:
    """Every column value is added into its place in the image: one FLOP per input value."""
    return Cost(flops=v.numel(0))


def image_decoder(v: NodeView) -> Cost:
    """One FLOP per decoded value (the colour conversion); the entropy decoding, which depends
    on the bytes, is not counted. The decoded size is the data's: unknown unless bound."""
    return Cost(flops=prod(v.out_shape(0)))


OPS = {
    # X (N, C, H, W), grid (N, H_out, W_out, 2)
    ("", "GridSample"): entry(grid_sample, fixed=(1,), axes=Axes.CHANNELS_FIRST,
                              receptive=Field.NONE),
    # theta (N, 2, 3) or (N, 3, 4), size
    ("", "AffineGrid"): entry(affine_grid, fixed=(0,)),
    # input, image_shape, block_shape
    ("", "Col2Im"): entry(col2im, axes=Axes.CHANNELS_FIRST),
    ("", "CenterCropPad"): entry(zero_cost, axes=Axes.KEEP),
    ("", "ImageDecoder"): entry(image_decoder),
}
