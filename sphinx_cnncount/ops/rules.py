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
