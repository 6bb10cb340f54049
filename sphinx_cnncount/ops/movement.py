"""Ops that move, copy, select, make or reshape data, and the control-flow ops (whose bodies
are counted, ``control.py``): zero cost, but for interpolation."""

from __future__ import annotations

from math import prod

from ..shapes import Dim, Shape, is_known
from .base import Axes, Cost, DataSize, Field, NodeView, Role, entry, zero_cost
from .rules import (add_dims, compress_shape, concat_shape, in_shape, outs, pad_shape,
                    reshape_attr_shape, same_shape, scaled_shape, split_shape, where_shape)

MS = "com.microsoft"


def resize(v: NodeView) -> Cost:
    """Interpolation: one FLOP per output unit for nearest, four per 2-D linear tap set."""
    mode = v.attr("mode", b"nearest")
    per_unit = 1 if mode == b"nearest" else 4
    return Cost(flops=per_unit * v.out_numel())


def qlinear_concat_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Y = concat(inputs 2, 5, 8... along ``axis``), each followed by its scale and zero point."""
    parts = [in_shape(v, i) for i in range(2, len(v.inputs), 3)]
    if not parts or any(p is None for p in parts):
        return outs(v, None)
    rank = len(parts[0])  # type: ignore[arg-type]
    axis = int(v.attr("axis")) % rank
    side: Dim = 0
    for p in parts:
        side = add_dims(side, p[axis])  # type: ignore[index]
    first = parts[0]
    return outs(v, (*first[:axis], side, *first[axis + 1:]))  # type: ignore[index]


def _axis(v: NodeView, rank: int, default: int | None = 0) -> int | None:
    axis = v.attr("axis", default)
    return None if axis is None else int(axis) % rank


def nonzero_size(v: NodeView) -> DataSize | None:
    """NonZero's [rank, K]: K, the non-zero elements, at most every element of X."""
    x = in_shape(v, 0)
    return DataSize(((0, 1),), prod(x) if is_known(x) else None,  # type: ignore[arg-type]
                    "non-zero elements")


def unique_size(v: NodeView) -> DataSize | None:
    """Unique's Y, indices and counts: the distinct values (or slices along ``axis``), at most
    every element (every slice) of X."""
    x = in_shape(v, 0)
    if x is None:
        return DataSize(((0, 0), (1, 0), (3, 0)), None, "distinct values")
    axis = _axis(v, len(x), None)
    side = prod(x) if axis is None and is_known(x) else None if axis is None else x[axis]  # type: ignore
    return DataSize(((0, 0 if axis is None else axis), (1, 0), (3, 0)),
                    side if isinstance(side, int) else None, "distinct values")


def compress_size(v: NodeView) -> DataSize | None:
    """Compress's output along ``axis`` (flattened without one): the selected slices, at most
    the condition's length and the input's side."""
    x, cond = in_shape(v, 0), in_shape(v, 1)
    if x is None:
        return DataSize(((0, 0),), None, "selected slices")
    axis = _axis(v, len(x), None)
    side = (prod(x) if is_known(x) else None) if axis is None else x[axis]  # type: ignore
    sides = [d for d in (side, cond[0] if cond else None) if isinstance(d, int)]
    return DataSize(((0, 0 if axis is None else axis),), min(sides) if sides else None,
                    "selected slices")


def topk_size(v: NodeView) -> DataSize | None:
    """TopK's k when the data gives it (a constant k fixes the shape: None): at most X's side
    along ``axis``."""
    if not v.has(1) or v.value(1) is not None:
        return None
    x = in_shape(v, 0)
    if x is None:
        return DataSize(((0, 0), (1, 0)), None, "top elements")
    axis = _axis(v, len(x), -1)
    side = x[axis]  # type: ignore[index]
    return DataSize(((0, axis), (1, axis)), side if isinstance(side, int) else None,
                    "top elements")


def nms_size(v: NodeView) -> DataSize | None:
    """NonMaxSuppression's [K, 3]: K, the boxes kept, at most batch x classes x
    min(max_output_boxes_per_class, boxes) (onnx: an absent max_output_boxes_per_class is 0,
    no box); boxes are [batch, boxes, 4], scores [batch, classes, boxes]."""
    boxes, scores = in_shape(v, 0), in_shape(v, 1)
    limit: int | None = 0
    if v.has(2):
        value = v.value(2)
        limit = int(value.reshape(-1)[0]) if value is not None and value.size else None
    dims = [boxes[0] if boxes else None, scores[1] if scores else None,
            boxes[1] if boxes else None]
    if not all(isinstance(d, int) for d in dims):
        return DataSize(((0, 0),), 0 if limit == 0 else None, "boxes kept")
    batch, classes, n = dims
    per_class = n if limit is None else min(limit, n)  # type: ignore[type-var]
    return DataSize(((0, 0),), batch * classes * per_class, "boxes kept")  # type: ignore


_SIZES = {"NonZero": nonzero_size, "Unique": unique_size, "Compress": compress_size,
          "TopK": topk_size, "NonMaxSuppression": nms_size}

_MOVES = (
    "Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Concat", "Split",
    "Slice", "Gather", "GatherElements", "GatherND", "ScatterND", "ScatterElements", "Scatter",
    "Expand", "Tile", "Pad", "Cast", "CastLike", "Shape", "Size", "Constant", "ConstantOfShape",
    "DepthToSpace", "SpaceToDepth", "Dropout", "Where", "Range", "NonZero", "Compress",
    "ReverseSequence", "Trilu", "EyeLike", "OneHot", "SequenceConstruct", "SplitToSequence",
    "ConcatFromSequence", "SequenceAt", "SequenceInsert", "SequenceErase", "SequenceLength",
    "SequenceEmpty", "TopK", "Unique", "NonMaxSuppression", "StringNormalizer",
    "StringConcat", "StringSplit", "RegexFullMatch", "Optional", "OptionalGetElement",
    "OptionalHasElement", "TensorScatter", "BitCast", "MaxUnpool",
)
# The movements exporters compute shapes with (fold.py evaluates them).
_FOLDS = {"Constant", "Identity", "Cast", "CastLike", "Where", "Gather", "GatherElements",
          "GatherND", "Slice", "Concat", "Split", "Squeeze", "Unsqueeze", "Reshape", "Flatten",
          "Transpose", "Expand", "Tile", "ConstantOfShape", "Range", "Pad", "Trilu", "OneHot",
          "ScatterND", "ScatterElements"}
# What each movement is to its layer and how it treats channels and positions (the default:
# other, nothing said).
_KNOWN = {
    **dict.fromkeys(("Transpose",), dict(role=Role.LAYOUT, receptive=Field.PERMUTE)),
    **dict.fromkeys(("Identity", "Cast", "CastLike"),
                    dict(role=Role.LAYOUT, axes=Axes.KEEP, receptive=Field.SAME)),
    "Dropout": dict(role=Role.LAYOUT, axes=Axes.KEEP, receptive=Field.SAME, keras="dropout"),
    **dict.fromkeys(("Squeeze", "Unsqueeze"), dict(role=Role.LAYOUT, receptive=Field.MOVE)),
    "Reshape": dict(role=Role.RESHAPE, receptive=Field.MOVE, keras="flatten"),
    "Flatten": dict(role=Role.RESHAPE, keras="flatten"),
    "Concat": dict(axes=Axes.KEEP, receptive=Field.SAME, keras="concatenate"),
    **dict.fromkeys(("Pad", "Where"), dict(axes=Axes.KEEP, receptive=Field.SAME)),
    **dict.fromkeys(("Slice", "Split"), dict(axes=Axes.KEEP, receptive=Field.SELECT)),
    "Gather": dict(receptive=Field.SELECT),
    **dict.fromkeys(("DepthToSpace", "SpaceToDepth"), dict(axes=Axes.CHANNELS_FIRST)),
}
# Float slots that are never parameters: pads and their value, Where's branches, a ratio.
_FIXED = {"Pad": (1, 2, 3), "Where": (1, 2), "Dropout": (1,)}

# Shape rules for the versions onnx's inference has none for (opsets 1 to 10, mostly).
_SHAPES = {"Dropout": same_shape(), "Identity": same_shape(), "Cast": same_shape(),
           "Concat": concat_shape, "Pad": pad_shape, "Reshape": reshape_attr_shape,
           "Split": split_shape, "Compress": compress_shape}

OPS = {("", op): entry(zero_cost, fixed=_FIXED.get(op, ()), folds=op in _FOLDS,
                       deterministic=op != "Dropout", shape=_SHAPES.get(op),
                       size=_SIZES.get(op), **_KNOWN.get(op, {}))
       for op in _MOVES}
OPS.update({
    ("", "Resize"): entry(resize, fixed=(1, 2, 3), axes=Axes.KEEP),
    ("", "Upsample"): entry(resize, fixed=(1,), axes=Axes.KEEP, shape=scaled_shape),
    # Random data: made at run time, never a value to fold or a constant.
    **{("", op): entry(zero_cost, deterministic=False) for op in (
        "RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike", "Multinomial",
        "Bernoulli")},
    # Control flow: what the bodies cost is counted as often as they run (control.py).
    **{("", op): entry(None, role=Role.CONTROL) for op in ("If", "Loop", "Scan", "SequenceMap")},
    # Y_scale, Y_zp, then (X, X_scale, X_zp) per input; the scales are per-tensor scalars and
    # the zero points integers, never parameters by the default rule.
    (MS, "QLinearConcat"): entry(zero_cost, fixed=(0, 1), shape=qlinear_concat_shape),
    # condition, X, x_scale, x_zp, Y, y_scale, y_zp, z_scale, z_zp: a selection
    (MS, "QLinearWhere"): entry(zero_cost, fixed=(2, 3, 5, 6, 7, 8), shape=where_shape),
})
