"""Normalizations: a per-channel scale (adds no connections) and shift (adds one); and
onnxruntime's fused ones (com.microsoft, and two it registers in the default domain)."""

from __future__ import annotations

from collections.abc import Mapping

from ..shapes import Shape
from .base import (CONNECTING, NON_TRAINABLE, TRAINABLE, Axes, Cost, Field, NodeView, Role,
                   entry)
from .rules import in_shape, outs, same_shape

MS = "com.microsoft"


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


def lp_norm(v: NodeView) -> Cost:
    """Each unit divided by the p-norm along an axis: a square (or abs), a sum and a division
    per unit (the root per norm is in the noise)."""
    return Cost(flops=3 * v.out_numel())


def rms_norm(v: NodeView) -> Cost:
    """Square, mean, divide and scale: 4 FLOPs per unit; a scale, no shift: no connections."""
    return Cost(flops=4 * v.out_numel())


def mean_variance(v: NodeView) -> Cost:
    """(X - mean) / sqrt(variance) over ``axes``: the mean, the subtraction, the square, the
    variance's mean and the division: 5 FLOPs per unit; no scale or shift: no connections."""
    return Cost(flops=5 * v.out_numel())


def mvn_axes(rank: int, attrs: Mapping[str, int]) -> set[int]:
    """MeanVarianceNormalization's statistics run over N and the spatial axes (its default
    ``axes``, [0, 2, 3]): every axis but the channels'."""
    return {a for a in range(rank) if a != 1}


def skip_layer_norm(simplified: bool):
    beta = None if simplified else 3
    bias = 3 if simplified else 4

    def cost(v: NodeView) -> Cost:
        """input + skip (+ bias), then the norm (5 FLOPs per unit, RMS norm 4); the shift
        beta and a parameter bias each add a connection per unit."""
        units = v.out_numel()
        adds = units * (1 + v.has(bias))  # + skip, + bias
        norm = units * (4 if simplified else 5)
        shift = units if beta is not None and v.has(beta) else 0  # beta, as affine_cost counts it
        biased = units if v.reads_param(bias) else 0  # +1: the fused dense layer's bias
        return Cost(flops=adds + norm, connections=shift + biased)

    return cost


def group_norm(skip: bool):
    def cost(v: NodeView) -> Cost:
        """The norm (5 FLOPs per unit), SiLU when ``activation`` is 1, SkipGroupNorm's skip and
        bias adds; the shift beta adds a connection per unit, a parameter bias another."""
        units = v.out_numel()
        adds = units * (1 + v.has(4)) if skip else 0  # + skip, + bias
        silu = units if v.attr("activation", 0) else 0
        biased = units if skip and v.reads_param(4) else 0  # +1: the bias
        return Cost(flops=5 * units + adds + silu, connections=units + biased)

    return cost


def embed_layer_norm(v: NodeView) -> Cost:
    """word + position (+ segment) embeddings, then LayerNormalization (5 FLOPs per unit, beta
    one connection per unit); the mask index sums the mask."""
    units = v.out_numel()  # B * S * D
    adds = units * (1 + v.has(4))  # + position, + segment
    mask = v.numel(7) if v.has(7) else 0  # mask_index: one add per mask element
    return Cost(flops=adds + 5 * units + mask, connections=units)


def _stats_shape(x: Shape, axis: int) -> Shape:
    """The shape of a normalization's saved statistics: x's dims before ``axis``, then ones."""
    axis %= len(x)
    return (*x[:axis], *(1,) * (len(x) - axis))


def layer_norm_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Y has X's shape; the saved statistics (Mean, InvStdDev; SimplifiedLayerNormalization's
    only one, inv_std_var) keep X's dims before ``axis`` and set the rest to 1."""
    x = in_shape(v, 0)
    if x is None:
        return outs(v, None, None, None)
    stats = _stats_shape(x, int(v.attr("axis", -1)))
    return outs(v, x, stats, stats)


def skip_layer_norm_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """output and input_skip_bias_sum have the input's shape; mean and inv_std_var its shape
    with the last dim 1."""
    x = in_shape(v, 0)
    if x is None:
        return outs(v, None, None, None, None)
    return outs(v, x, _stats_shape(x, -1), _stats_shape(x, -1), x)


def embed_layer_norm_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """output and embedding_sum are (B, S, D); mask_index is (B). input_ids is (B, S),
    word_embedding (vocab, D)."""
    ids, word = in_shape(v, 0), in_shape(v, 2)
    if ids is None:
        return outs(v, None, None, None)
    out = (ids[0], ids[1], word[1] if word is not None else None)
    return outs(v, out, (ids[0],), out)


def group_norm_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Y (and SkipGroupNorm's sum S) has X's shape."""
    x = in_shape(v, 0)
    return outs(v, x, x)


def _axis(axis: int, rank: int) -> int:
    return axis + rank if axis < 0 else axis


def spatial_axes(rank: int, attrs: Mapping[str, int]) -> set[int]:
    """Statistics over every spatial axis (InstanceNormalization, GroupNormalization)."""
    return set(range(2, rank))


def trailing_axes(rank: int, attrs: Mapping[str, int]) -> set[int]:
    """Statistics from ``axis`` to the last (LayerNormalization)."""
    return set(range(_axis(attrs.get("axis", -1), rank), rank))


def _norm(cost, params, fixed=(), *, axes: Axes = Axes.NONE, receptive: Field = Field.NONE,
          stats=None, shape=None, removes_mean: bool = False, keras: str | None = None):
    return entry(cost, params, fixed, metrics=CONNECTING, role=Role.NORM, axes=axes,
                 receptive=receptive, stats=stats, shape=shape, removes_mean=removes_mean,
                 keras=keras)


_AFFINE = {1: TRAINABLE, 2: TRAINABLE}

OPS = {
    # X, scale, B, input_mean, input_var: at inference y = x*a + b per channel.
    ("", "BatchNormalization"): _norm(
        affine_cost(2, None), {1: TRAINABLE, 2: TRAINABLE, 3: NON_TRAINABLE, 4: NON_TRAINABLE},
        axes=Axes.CHANNELS_FIRST, receptive=Field.SAME, shape=same_shape(), removes_mean=True,
        keras="batch_normalization"),
    # The statistics are computed: subtract, square, mean, divide, then scale and shift.
    ("", "InstanceNormalization"): _norm(
        affine_cost(5, 2), _AFFINE, axes=Axes.CHANNELS_FIRST, receptive=Field.STATS,
        stats=spatial_axes, shape=same_shape(), removes_mean=True),
    # onnx has LayerNormalization from opset 17; onnxruntime registers it below that: the rule
    ("", "LayerNormalization"): _norm(affine_cost(5, 2), _AFFINE, receptive=Field.STATS,
                                      stats=trailing_axes, shape=layer_norm_shape,
                                      keras="layer_normalization"),
    ("", "GroupNormalization"): _norm(affine_cost(5, 2), _AFFINE, receptive=Field.STATS,
                                      stats=spatial_axes, shape=same_shape(),
                                      keras="group_normalization"),
    ("", "LRN"): entry(lrn, role=Role.NORM, axes=Axes.CHANNELS_FIRST, receptive=Field.SAME,
                       shape=same_shape()),
    ("", "LpNormalization"): entry(lp_norm, role=Role.NORM, shape=same_shape()),
    # X; onnx's inference has no rule for it: the counter's
    ("", "MeanVarianceNormalization"): entry(mean_variance, role=Role.NORM,
                                             axes=Axes.CHANNELS_FIRST, receptive=Field.STATS,
                                             stats=mvn_axes, shape=same_shape()),
    # onnx's RMSNormalization (opset 23): X, scale
    ("", "RMSNormalization"): entry(rms_norm, {1: TRAINABLE}, role=Role.NORM,
                                    receptive=Field.STATS, stats=trailing_axes,
                                    shape=same_shape()),
    # onnxruntime's RMSNorm, registered in the default domain (opset 1): X, scale
    ("", "SimplifiedLayerNormalization"): entry(rms_norm, {1: TRAINABLE}, role=Role.NORM,
                                                shape=layer_norm_shape),
    # input, skip, gamma, beta, bias
    (MS, "SkipLayerNormalization"): _norm(skip_layer_norm(False),
                                          {2: TRAINABLE, 3: TRAINABLE, 4: TRAINABLE},
                                          shape=skip_layer_norm_shape),
    # input, skip, gamma, bias
    (MS, "SkipSimplifiedLayerNormalization"): _norm(skip_layer_norm(True),
                                                    {2: TRAINABLE, 3: TRAINABLE},
                                                    shape=skip_layer_norm_shape),
    # input_ids, segment_ids, word_embedding, position_embedding, segment_embedding, gamma,
    # beta, mask, position_ids
    (MS, "EmbedLayerNormalization"): _norm(
        embed_layer_norm, {2: TRAINABLE, 3: TRAINABLE, 4: TRAINABLE, 5: TRAINABLE, 6: TRAINABLE},
        shape=embed_layer_norm_shape),
    # The quantized form: input_ids, segment_ids, the three embedding tables, gamma and beta
    # (uint8), mask, then their scales (8-12) and zero points (13-17).
    (MS, "QEmbedLayerNormalization"): _norm(
        embed_layer_norm, {2: TRAINABLE, 3: TRAINABLE, 4: TRAINABLE, 5: TRAINABLE, 6: TRAINABLE},
        tuple(range(8, 18)), shape=embed_layer_norm_shape),
    # X, gamma, beta (NHWC by default)
    (MS, "GroupNorm"): _norm(group_norm(False), _AFFINE, shape=group_norm_shape),
    # X, gamma, beta, skip, bias
    (MS, "SkipGroupNorm"): _norm(group_norm(True), {1: TRAINABLE, 2: TRAINABLE, 4: TRAINABLE},
                                 shape=group_norm_shape),
}
