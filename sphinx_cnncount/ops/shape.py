"""Ops that move, copy, select or reshape data: zero cost."""

from __future__ import annotations

from .base import Cost, NodeView, spec, zero_cost


def resize(v: NodeView) -> Cost:
    """Interpolation: one FLOP per output unit for nearest, four per 2-D linear tap set."""
    mode = v.attr("mode", b"nearest")
    per_unit = 1 if mode == b"nearest" else 4
    return Cost(flops=per_unit * v.out_numel())


_MOVES = (
    "Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Concat", "Split",
    "Slice", "Gather", "GatherElements", "GatherND", "ScatterND", "ScatterElements", "Scatter",
    "Expand", "Tile", "Pad", "Cast", "CastLike", "Shape", "Size", "Constant", "ConstantOfShape",
    "DepthToSpace", "SpaceToDepth", "Dropout", "Where", "Range", "NonZero", "Compress",
    "ReverseSequence", "Trilu", "EyeLike", "OneHot", "SequenceConstruct", "SplitToSequence",
    "ConcatFromSequence", "SequenceAt", "SequenceInsert", "SequenceErase", "SequenceLength",
    "SequenceEmpty", "SequenceMap", "TopK", "Unique", "NonMaxSuppression", "StringNormalizer",
    "StringConcat", "StringSplit", "RegexFullMatch", "Optional", "OptionalGetElement",
    "OptionalHasElement",
)

OPS = {op: spec(zero_cost) for op in _MOVES}
OPS.update({
    "Pad": spec(zero_cost, fixed=(1, 2, 3)),
    "Where": spec(zero_cost, fixed=(1, 2)),
    "Dropout": spec(zero_cost, fixed=(1,)),
    "Resize": spec(resize, fixed=(1, 2, 3)),
    "Upsample": spec(resize, fixed=(1,)),
})
