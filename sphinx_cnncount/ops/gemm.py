"""Products: Gemm, MatMul, Einsum, their quantized forms, and onnxruntime's fused, quantized
and 4-bit ones (com.microsoft)."""

from __future__ import annotations

from math import prod

from ..shapes import Shape
from .base import LINEAR, TRAINABLE, Cost, NodeView, Role, UnknownShape, entry
from .rules import gemm_shape, in_shape, matmul_of, matmul_shape, outs

MS = "com.microsoft"


def gemm_cost(a: int, c: int):
    def cost(v: NodeView) -> Cost:
        """Y = alpha*A'B' + beta*C: each of the M*N outputs reads K inputs, plus one with C."""
        sa = v.shape(a)
        k = sa[0] if v.attr("transA", 0) else sa[1]
        units = v.out_numel()  # M * N
        macs = units * k
        adds = units if v.has(c) else 0
        bias = units if v.reads_param(c) else 0  # +1: the bias (C a parameter, not an activation)
        return Cost(macs=macs, flops=2 * macs + adds, connections=macs + bias)

    return cost


def matmul_cost(a: int):
    def cost(v: NodeView) -> Cost:
        """Each output unit is a dot product over the shared dim K (broadcast batch dims too)."""
        k = v.shape(a)[-1]  # A is [..., M, K] (or [K])
        macs = v.out_numel() * k
        return Cost(macs=macs, flops=2 * macs, connections=macs)

    return cost


def matmul_bias_cost(a: int, bias: int):
    product = matmul_cost(a)

    def cost(v: NodeView) -> Cost:
        """A @ B over the shared dim K, plus an optional bias (+1 connection per output unit)."""
        units = v.out_numel()
        adds = units if v.has(bias) else 0  # the bias add, per output unit
        connections = units if v.reads_param(bias) else 0  # +1: the bias
        return product(v) + Cost(flops=adds, connections=connections)

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


def _fused_operand(s: Shape, trans: int, trans_batch: int) -> Shape:
    """FusedMatMul's view of an operand: transBatch moves dim 0 behind the batch dims
    ([d0, b..., m] -> [b..., d0, m]), trans swaps the last two (onnxruntime's
    FusedMatMulShapeInference)."""
    if len(s) == 1:
        return s
    r = len(s)
    batch = s[1:r - 1] if trans_batch else s[:r - 2]
    rows, cols = (s[0], s[r - 1]) if trans_batch else (s[r - 2], s[r - 1])
    return (*batch, *((cols, rows) if trans else (rows, cols)))


def fused_matmul_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Y = alpha * A' @ B', A' and B' transposed as transA, transB, transBatchA, transBatchB say."""
    sa, sb = in_shape(v, 0), in_shape(v, 1)
    if sa is None or sb is None:
        return outs(v, None)
    a = _fused_operand(sa, v.attr("transA", 0), v.attr("transBatchA", 0))
    b = _fused_operand(sb, v.attr("transB", 0), v.attr("transBatchB", 0))
    return outs(v, matmul_of(a, b))


def fused_matmul(v: NodeView) -> Cost:
    """alpha * A' @ B': out_units * K MACs (K after the transposes), one FLOP per unit for alpha."""
    a = _fused_operand(v.shape(0), v.attr("transA", 0), v.attr("transBatchA", 0))
    k = a[-1]
    units = v.out_numel()
    macs = units * k  # a K-long dot product per output unit
    alpha = units if float(v.attr("alpha", 1.0)) != 1.0 else 0  # the alpha scaling
    return Cost(macs=macs, flops=2 * macs + alpha, connections=macs)


_gemm = gemm_cost(0, 2)


def fused_gemm(v: NodeView) -> Cost:
    """Gemm, then the fused activation: one FLOP per output unit."""
    units = v.out_numel()
    return _gemm(v) + Cost(flops=units if v.attr("activation", None) else 0)


def matmul_nbits_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Y = A @ dequantize(B): A is [..., K], Y is [..., N] with N the attribute."""
    a = in_shape(v, 0)
    return outs(v, None if a is None else (*a[:-1], int(v.attr("N"))))


def matmul_nbits(v: NodeView) -> Cost:
    """A @ dequantize(B) + bias: out_units * K MACs (K the attribute), +1 per unit for the bias."""
    units = v.out_numel()  # [..., N]
    macs = units * int(v.attr("K"))
    adds = units if v.has(5) else 0  # the bias add
    bias = units if v.reads_param(5) else 0  # +1: the bias
    return Cost(macs=macs, flops=2 * macs + adds, connections=macs + bias)


_matmul_bias = matmul_bias_cost(0, 2)


def gemm_fast_gelu(v: NodeView) -> Cost:
    """X @ W (K MACs per output unit), the bias add, FastGelu (1 per unit); a parameter bias +1."""
    return _matmul_bias(v) + Cost(flops=v.out_numel())


def _product(cost, params=None, fixed=(), *, weight: int | None = 1, factors=(0, 1), shape=None):
    """A product's entry: a linear layer whose weight names it."""
    return entry(cost, params, fixed, metrics=LINEAR, role=Role.LINEAR, weight=weight,
                 factors=factors, shape=shape, keras="dense")


OPS = {
    ("", "Gemm"): _product(gemm_cost(0, 2), {0: TRAINABLE, 1: TRAINABLE, 2: TRAINABLE},
                           shape=gemm_shape(0, 1)),
    ("", "MatMul"): _product(matmul_cost(0), {0: TRAINABLE, 1: TRAINABLE}),
    # every operand of an Einsum is a factor
    ("", "Einsum"): _product(einsum, weight=None, factors=()),
    # a, b, a_zero_point, b_zero_point
    ("", "MatMulInteger"): _product(matmul_cost(0), {0: TRAINABLE, 1: TRAINABLE}, (2, 3)),
    # a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp
    ("", "QLinearMatMul"): _product(matmul_cost(0), {0: TRAINABLE, 3: TRAINABLE},
                                    (1, 2, 4, 5, 6, 7), weight=3, factors=(0, 3)),
    # A, B, b_scale, b_zero_point, bias
    (MS, "DynamicQuantizeMatMul"): _product(matmul_bias_cost(0, 4), {1: TRAINABLE, 4: TRAINABLE},
                                            (2, 3), shape=matmul_shape(0, 1)),
    # A, B, a_scale, b_scale, a_zero_point, b_zero_point, bias
    (MS, "MatMulIntegerToFloat"): _product(matmul_bias_cost(0, 6),
                                           {0: TRAINABLE, 1: TRAINABLE, 6: TRAINABLE},
                                           (2, 3, 4, 5), shape=matmul_shape(0, 1)),
    # A, a_scale, a_zp, B, b_scale, b_zp, C (int32), y_scale, y_zp
    (MS, "QGemm"): _product(gemm_cost(0, 6), {0: TRAINABLE, 3: TRAINABLE, 6: TRAINABLE},
                            (1, 2, 4, 5, 7, 8), weight=3, factors=(0, 3),
                            shape=gemm_shape(0, 3)),
    # A, B, C
    (MS, "FusedGemm"): _product(fused_gemm, {0: TRAINABLE, 1: TRAINABLE, 2: TRAINABLE},
                                shape=gemm_shape(0, 1)),
    (MS, "FusedMatMul"): _product(fused_matmul, {0: TRAINABLE, 1: TRAINABLE},
                                  shape=fused_matmul_shape),
    # A, B (packed uint8, N x k_blocks x blob), scales, zero_points, g_idx, bias
    (MS, "MatMulNBits"): _product(matmul_nbits, {1: TRAINABLE, 5: TRAINABLE}, (2, 3, 4),
                                  shape=matmul_nbits_shape),
    # X, W, bias
    (MS, "GemmFastGelu"): _product(gemm_fast_gelu, {1: TRAINABLE, 2: TRAINABLE},
                                   shape=matmul_shape(0, 1)),
}
