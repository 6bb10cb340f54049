"""Gemm, MatMul, Einsum and their quantized forms."""

from __future__ import annotations

from math import prod

from .base import LINEAR, TRAINABLE, Cost, NodeView, UnknownShape, spec


def gemm(v: NodeView) -> Cost:
    """Y = alpha*A'B' + beta*C: each of the M*N outputs reads K inputs, plus one with C."""
    a = v.shape(0)
    k = a[0] if v.attr("transA", 0) else a[1]
    units = v.out_numel()  # M * N
    macs = units * k
    adds = units if v.has(2) else 0
    bias = units if v.reads_param(2) else 0  # +1: the bias (C a parameter, not an activation)
    return Cost(macs=macs, flops=2 * macs + adds, connections=macs + bias)


def matmul_cost(a: int):
    def cost(v: NodeView) -> Cost:
        """Each output unit is a dot product over the shared dim K (broadcast batch dims too)."""
        k = v.shape(a)[-1]  # A is [..., M, K] (or [K])
        macs = v.out_numel() * k
        return Cost(macs=macs, flops=2 * macs, connections=macs)

    return cost


def einsum(v: NodeView) -> Cost:
    """A product of two or more operands: one MAC per point of the joint index space."""
    eq = v.attr("equation", b"").decode().replace(" ", "")
    lhs = eq.split("->")[0].split(",")
    shapes = [v.shape(i) for i in range(len(lhs))]
    sizes: dict[str, int] = {}
    ellipsis: list[int] = []
    for term, shape in zip(lhs, shapes, strict=True):
        letters = term.replace("...", "")
        if "..." in term:
            nell = len(shape) - len(letters)
            start = term.index("...")
            ell = list(shape[start:start + nell])
            # Broadcast the ellipsis dims of all operands (right-aligned).
            if len(ell) > len(ellipsis):
                ellipsis = [1] * (len(ell) - len(ellipsis)) + ellipsis
            off = len(ellipsis) - len(ell)
            for j, d in enumerate(ell):
                ellipsis[off + j] = max(ellipsis[off + j], d)
            dims = shape[:start] + shape[start + nell:]
        else:
            dims = shape
        if len(dims) != len(letters):
            raise UnknownShape(f"equation {eq!r} does not fit shape {list(shape)}")
        for c, d in zip(letters, dims, strict=True):
            sizes[c] = max(sizes.get(c, 1), d)
    space = prod(sizes.values()) * prod(ellipsis)
    if len(lhs) < 2:
        return Cost(flops=space)
    macs = space * (len(lhs) - 1)
    return Cost(macs=macs, flops=2 * macs, connections=macs)


OPS = {
    "Gemm": spec(gemm, {0: TRAINABLE, 1: TRAINABLE, 2: TRAINABLE}, metrics=LINEAR),
    "MatMul": spec(matmul_cost(0), {0: TRAINABLE, 1: TRAINABLE}, metrics=LINEAR),
    "Einsum": spec(einsum, metrics=LINEAR),
    # a, b, a_zero_point, b_zero_point
    "MatMulInteger": spec(matmul_cost(0), {0: TRAINABLE, 1: TRAINABLE}, fixed=(2, 3),
                          metrics=LINEAR),
    # a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp
    "QLinearMatMul": spec(matmul_cost(0), {0: TRAINABLE, 3: TRAINABLE}, fixed=(1, 2, 4, 5, 6, 7),
                          metrics=LINEAR),
}
