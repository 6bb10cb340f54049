"""Ops that move, copy, select, make or reshape data, and the control-flow ops (whose bodies
are counted, ``control.py``): zero cost, but for interpolation."""

from __future__ import annotations

from ..shapes import Dim, Shape
from .base import Axes, Cost, Field, NodeView, Role, entry, zero_cost
from .rules import add_dims, in_shape, outs, same_shape, where_shape

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


_MOVES = (
    "Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Concat", "Split",
    "Slice", "Gather", "GatherElements", "GatherND", "ScatterND", "ScatterElements", "Scatter",
    "Expand", "Tile", "Pad", "Cast", "CastLike", "Shape", "Size", "Constant", "ConstantOfShape",
    "DepthToSpace", "SpaceToDepth", "Dropout", "Where", "Range", "NonZero", "Compress",
    "ReverseSequence", "Trilu", "EyeLike", "OneHot", "SequenceConstruct", "SplitToSequence",
    "ConcatFromSequence", "SequenceAt", "SequenceInsert", "SequenceErase", "SequenceLength",
    "SequenceEmpty", "TopK", "Unique", "NonMaxSuppression", "StringNormalizer",
    "StringConcat", "StringSplit", "RegexFullMatch", "Optional", "OptionalGetElement",
    "OptionalHasElement",
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

OPS = {("", op): entry(zero_cost, fixed=_FIXED.get(op, ()), folds=op in _FOLDS,
                       deterministic=op != "Dropout",
                       shape=same_shape() if op in ("Dropout", "Identity") else None,
                       **_KNOWN.get(op, {}))
       for op in _MOVES}
OPS.update({
    ("", "Resize"): entry(resize, fixed=(1, 2, 3), axes=Axes.KEEP),
    ("", "Upsample"): entry(resize, fixed=(1,), axes=Axes.KEEP),
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
