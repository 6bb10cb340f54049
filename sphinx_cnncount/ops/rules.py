"""The building blocks of shape rules, for the ops onnx's inference has no rule for.

A shape rule is a pure function of a :class:`NodeView` whose ``inputs`` are the input shapes
(None for an absent optional input); it reads attributes through ``attr()`` and returns one
shape per output of the node (None for an output it cannot tell or that the node does not ask
for). Dims that are copied keep their symbols; a dim computed from a symbol is None. A rule
raises ValueError when the shapes contradict each other (operands that do not broadcast, a K
that differs).
"""

from __future__ import annotations

from ..shapes import Dim, Shape
from .base import NodeView, ShapeRule
from .window import kernel_of, sides, window_axes


def in_shape(v: NodeView, slot: int) -> Shape | None:
    """The shape of input ``slot``, None when it is absent or unknown."""
    return v.inputs[slot] if slot < len(v.inputs) else None


def outs(v: NodeView, *shapes: Shape | None) -> tuple[Shape | None, ...]:
    """One shape per output of the node; None for an output the node leaves unnamed."""
    names = v.node.output
    return tuple(shapes[i] if i < len(shapes) and names[i] else None for i in range(len(names)))


def is_int(d: Dim) -> bool:
    return isinstance(d, int)


def add_dims(a: Dim, b: Dim) -> Dim:
    return a + b if is_int(a) and is_int(b) else None  # type: ignore[operator]


def mul_dims(a: Dim, b: Dim) -> Dim:
    return a * b if is_int(a) and is_int(b) else None  # type: ignore[operator]


def div_dims(a: Dim, b: Dim) -> Dim:
    return a // b if is_int(a) and is_int(b) and b else None  # type: ignore[operator]


def broadcast(*shapes: Shape) -> Shape:
    """Numpy broadcasting of shapes that may hold symbols: a 1 yields to anything, a number
    above 1 wins over a symbol, two different symbols give None."""
    rank = max(len(s) for s in shapes)
    out: list[Dim] = []
    for i in range(rank):
        dims = [s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0]
        big = {d for d in dims if is_int(d) and d != 1}
        if len(big) > 1:
            raise ValueError(f"shapes {[list(s) for s in shapes]} do not broadcast")
        if big:
            out.append(big.pop())
            continue
        rest = [d for d in dims if d != 1]
        if not rest:
            out.append(1)
        elif all(d == rest[0] for d in rest) and rest[0] is not None:
            out.append(rest[0])
        else:
            out.append(None)
    return tuple(out)


def matmul_of(a: Shape, b: Shape) -> Shape:
    """Numpy matmul: [..., M, K] x [..., K, N] -> [..., M, N]; a vector operand loses its dim."""
    a2 = (1, *a) if len(a) == 1 else tuple(a)
    b2 = (*b, 1) if len(b) == 1 else tuple(b)
    if is_int(a2[-1]) and is_int(b2[-2]) and a2[-1] != b2[-2]:
        raise ValueError(f"matmul of {list(a)} and {list(b)}: K differs")
    out = [*broadcast(a2[:-2], b2[:-2])]
    if len(a) != 1:
        out.append(a2[-2])
    if len(b) != 1:
        out.append(b2[-1])
    return tuple(out)


def same_shape(slot: int = 0) -> ShapeRule:
    def rule(v: NodeView) -> tuple[Shape | None, ...]:
        """Y has the shape of input ``slot``."""
        return outs(v, in_shape(v, slot))

    return rule


def broadcast_shape(a: int, b: int) -> ShapeRule:
    def rule(v: NodeView) -> tuple[Shape | None, ...]:
        """Y = broadcast(A, B) (QLinearAdd, QLinearMul: A is input 0, B input 3)."""
        sa, sb = in_shape(v, a), in_shape(v, b)
        return outs(v, broadcast(sa, sb) if sa is not None and sb is not None else None)

    return rule


def matmul_shape(a: int, b: int) -> ShapeRule:
    def rule(v: NodeView) -> tuple[Shape | None, ...]:
        """Y = A @ B, numpy semantics: [..., M, K] x [..., K, N] -> [..., M, N]."""
        sa, sb = in_shape(v, a), in_shape(v, b)
        return outs(v, matmul_of(sa, sb) if sa is not None and sb is not None else None)

    return rule


def gemm_shape(a: int, b: int) -> ShapeRule:
    def rule(v: NodeView) -> tuple[Shape | None, ...]:
        """Y is (M, N): A is (M, K) or, with transA, (K, M); B is (K, N) or (N, K)."""
        sa, sb = in_shape(v, a), in_shape(v, b)
        if sa is None or sb is None:
            return outs(v, None)
        m = sa[1] if v.attr("transA", 0) else sa[0]
        n = sb[0] if v.attr("transB", 0) else sb[1]
        return outs(v, (m, n))

    return rule


def conv_shape(x: int, w: int, channels_last: bool | None) -> ShapeRule:
    """A convolution of input ``x`` with weight ``w`` [M, C/group, k...]; NHWC when
    ``channels_last`` (None: as the node's channels_last attribute says)."""

    def rule(v: NodeView) -> tuple[Shape | None, ...]:
        """Y is (N, M, out...) or, channels last, (N, out..., M); out as Conv's."""
        sx, sw = in_shape(v, x), in_shape(v, w)
        if sx is None or sw is None:
            return outs(v, None)
        last = bool(v.attr("channels_last", 0)) if channels_last is None else channels_last
        spatial = sx[1:-1] if last else sx[2:]
        kernel = kernel_of(v.attr, sw, len(spatial))
        axes = window_axes(v.attr, spatial, kernel)
        if axes is None:
            return outs(v, None)
        return outs(v, (sx[0], *sides(axes), sw[0]) if last else (sx[0], sw[0], *sides(axes)))

    return rule


def reduce_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """ReduceMean's shape: the ``axes`` dims become 1 (keepdims) or go."""
    x = in_shape(v, 0)
    if x is None:
        return outs(v, None)
    axes = {a % len(x) for a in v.attr("axes", None) or range(len(x))}
    keep = int(v.attr("keepdims", 1))
    return outs(v, tuple(1 if i in axes else d for i, d in enumerate(x) if keep or i not in axes))


def where_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Z = broadcast(condition, X, Y): QLinearWhere's condition is input 0, X 1, Y 4."""
    shapes = [in_shape(v, 0), in_shape(v, 1), in_shape(v, 4)]
    return outs(v, None if any(s is None for s in shapes) else broadcast(*shapes))


def elementwise_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Y = broadcast(inputs), numpy's rule; opsets before 7 broadcast B into A (``broadcast``
    attribute, with ``axis``): Y has A's shape."""
    shapes = [in_shape(v, i) for i in range(len(v.inputs))]
    if any(s is None for s in shapes) or not shapes:
        return outs(v, None)
    if v.attr("broadcast", None) is not None:
        return outs(v, shapes[0])
    return outs(v, broadcast(*shapes))  # type: ignore[arg-type]


def concat_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Y = the inputs joined along ``axis`` (1 by default before opset 4)."""
    parts = [in_shape(v, i) for i in range(len(v.inputs))]
    if not parts or any(p is None for p in parts):
        return outs(v, None)
    first = parts[0]
    axis = int(v.attr("axis", 1)) % len(first)  # type: ignore[arg-type]
    side: Dim = 0
    for p in parts:
        side = add_dims(side, p[axis])  # type: ignore[index]
    return outs(v, (*first[:axis], side, *first[axis + 1:]))  # type: ignore[index]


def global_pool_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Y keeps N and C, every spatial side 1."""
    x = in_shape(v, 0)
    return outs(v, None if x is None else (x[0], x[1], *(1,) * (len(x) - 2)))


def pool_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """A pool's (N, C, out...), out as the window function gives it."""
    x = in_shape(v, 0)
    if x is None:
        return outs(v, None)
    axes = window_axes(v.attr, x[2:], v.attr("kernel_shape"), pooling=True)
    return outs(v, None if axes is None else (x[0], x[1], *sides(axes)))


def pad_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Y's dims grow by the ``pads`` (``paddings`` in opset 1) at each end (opsets before 11)."""
    x = in_shape(v, 0)
    pads = v.attr("pads", None) or v.attr("paddings", None)
    if x is None or pads is None or len(pads) != 2 * len(x):
        return outs(v, None)
    n = len(x)
    return outs(v, tuple(add_dims(d, int(pads[i]) + int(pads[i + n])) for i, d in enumerate(x)))


def reshape_attr_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Reshape before opset 5: the ``shape`` attribute, 0 copying the input's dim, -1 the rest."""
    x, target = in_shape(v, 0), v.attr("shape", None)
    if x is None or target is None:
        return outs(v, None)
    dims = [x[i] if int(t) == 0 and i < len(x) else int(t) for i, t in enumerate(target)]
    if -1 in dims:
        known = [d for d in dims if d != -1]
        total = 1
        for d in x:
            total = mul_dims(total, d)  # type: ignore[assignment]
        rest = 1
        for d in known:
            rest = mul_dims(rest, d)  # type: ignore[assignment]
        dims[dims.index(-1)] = div_dims(total, rest)  # type: ignore[call-overload]
    return outs(v, tuple(dims))


def split_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Split before opset 2: the ``split`` sizes along ``axis``, else equal parts."""
    x = in_shape(v, 0)
    n = len(v.node.output)
    if x is None or not n or v.has(1):  # the sizes as an input (opset 13): onnx's rule
        return outs(v, *([None] * n))
    axis = int(v.attr("axis", 0)) % len(x)
    sizes = v.attr("split", None) or [div_dims(x[axis], n)] * n
    return outs(v, *((*x[:axis], None if s is None else int(s), *x[axis + 1:]) for s in sizes))


def scaled_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Upsample before opset 9: every dim times its ``scales`` (opset 1: ``height_scale`` and
    ``width_scale`` on the last two)."""
    x = in_shape(v, 0)
    if x is None:
        return outs(v, None)
    scales = v.attr("scales", None)
    if scales is None and v.attr("height_scale", None) is None:
        return outs(v, None)  # the scales as an input (opset 9): onnx's rule
    if scales is None:
        scales = [1.0] * (len(x) - 2) + [float(v.attr("height_scale", 1.0)),
                                         float(v.attr("width_scale", 1.0))]
    if len(scales) != len(x):
        return outs(v, None)
    return outs(v, tuple(int(d * float(s)) if is_int(d) else None
                         for d, s in zip(x, scales, strict=True)))


def compress_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Compress's rank: X's with the selected axis's side unknown (the data's), or one unknown
    side without ``axis`` (flattened)."""
    x = in_shape(v, 0)
    if x is None:
        return outs(v, None)
    axis = v.attr("axis", None)
    if axis is None:
        return outs(v, (None,))
    axis = int(axis) % len(x)
    return outs(v, (*x[:axis], None, *x[axis + 1:]))


def first_shapes(v: NodeView) -> tuple[Shape | None, ...]:
    """Output i has input i's shape (Gradient: the gradient of each x has its shape)."""
    return outs(v, *v.inputs)
