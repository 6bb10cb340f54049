"""onnxruntime's contrib operators (domain ``com.microsoft``): shape rules and costs.

onnx's shape inference has no schema for these ops (onnxruntime registers them in its own C++
schema registry), so a model that uses them comes out of ``onnx.shape_inference`` with unknown
shapes after the first contrib node. The rules here are written by hand, after onnxruntime's
``onnxruntime/python/tools/symbolic_shape_infer.py`` (installed as
``onnxruntime/tools/symbolic_shape_infer.py``) and the op schemas (ContribOperators.md), and are
checked against the output shapes onnxruntime's CPU provider really returns, case by case
(``cases.json``, recorded by ``make_cases.py``).

Two tables, to be merged by the engineer: :data:`OPS` maps op type to its cost entry
(:func:`spec`), :data:`SHAPES` maps op type to its shape rule. A shape rule is a pure function of
a :class:`NodeView` whose ``inputs`` are the input shapes (None for an absent optional input);
it reads attributes through ``attr()`` and returns one shape per output of the node (None for
an output it cannot tell or that the node does not ask for). Dims that are copied keep their
symbols; a dim computed from a symbol is None. A rule raises ValueError when the shapes
contradict each other (operands that do not broadcast, a K that differs), as
``conv.check_window`` does for a cost.

Quantized weights (int8, uint8, int4, packed 4-bit) count as parameters: their slots are in
``params``. Scales and zero points are ``fixed``. MatMulNBits's B holds ``bits`` bits per
weight packed into uint8: its element count is N*K*bits/8, not the N*K weights it stands for.

:data:`DEFAULT_DOMAIN_OPS` and :data:`DEFAULT_DOMAIN_SHAPES` hold the two ops onnxruntime
registers as contrib schemas in the DEFAULT domain (opset 1), not in com.microsoft:
SimplifiedLayerNormalization (RMSNorm) and LayerNormalization (a model below opset 17 that uses
it has no onnx schema for it). onnxruntime rejects a com.microsoft node of either ("is not a
registered function/op").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import prod

from dataclasses import replace

from .base import (CONNECTING, LINEAR, TRAINABLE, Cost, NodeView, OpSpec, UnknownShape, spec,
                   zero_cost)
from .conv import conv_cost
from .gemm import matmul_cost
from .pool import global_pool, window_pool
from .quant import requantize
from ..shapes import Dim, Shape

ShapeRule = Callable[[NodeView], tuple[Shape | None, ...]]


# ----------------------------------------------------------------------------------------
# Dims and shapes


def _in(v: NodeView, slot: int) -> Shape | None:
    """The shape of input ``slot``, None when it is absent or unknown."""
    return v.inputs[slot] if slot < len(v.inputs) else None


def _outs(v: NodeView, *shapes: Shape | None) -> tuple[Shape | None, ...]:
    """One shape per output of the node; None for an output the node leaves unnamed."""
    names = v.node.output
    return tuple(shapes[i] if i < len(shapes) and names[i] else None for i in range(len(names)))


def _int(d: Dim) -> bool:
    return isinstance(d, int)


def _add(a: Dim, b: Dim) -> Dim:
    return a + b if _int(a) and _int(b) else None  # type: ignore[operator]


def _mul(a: Dim, b: Dim) -> Dim:
    return a * b if _int(a) and _int(b) else None  # type: ignore[operator]


def _div(a: Dim, b: Dim) -> Dim:
    return a // b if _int(a) and _int(b) and b else None  # type: ignore[operator]


def _broadcast(*shapes: Shape) -> Shape:
    """Numpy broadcasting of shapes that may hold symbols: a 1 yields to anything, a number
    above 1 wins over a symbol, two different symbols give None."""
    rank = max(len(s) for s in shapes)
    out: list[Dim] = []
    for i in range(rank):
        dims = [s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0]
        big = {d for d in dims if _int(d) and d != 1}
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


def _matmul_shape(a: Shape, b: Shape) -> Shape:
    """Numpy matmul: [..., M, K] x [..., K, N] -> [..., M, N]; a vector operand loses its dim."""
    a2 = (1, *a) if len(a) == 1 else tuple(a)
    b2 = (*b, 1) if len(b) == 1 else tuple(b)
    if _int(a2[-1]) and _int(b2[-2]) and a2[-1] != b2[-2]:
        raise ValueError(f"matmul of {list(a)} and {list(b)}: K differs")
    out = [*_broadcast(a2[:-2], b2[:-2])]
    if len(a) != 1:
        out.append(a2[-2])
    if len(b) != 1:
        out.append(b2[-1])
    return tuple(out)


def _window(v: NodeView, spatial: Sequence[Dim], kernel: Sequence[int],
            dilations: Sequence[int] | None, ceil_mode: bool = False) -> list[Dim]:
    """The output sides of a conv or pool window over ``spatial`` (auto_pad, pads, strides,
    dilations, ceil_mode as onnx defines them); a symbolic side gives None."""
    n = len(spatial)
    strides = list(v.attr("strides", None) or [1] * n)
    dil = list(dilations or [1] * n)
    pads = list(v.attr("pads", None) or [0] * (2 * n))
    auto_pad = v.attr("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad
    out: list[Dim] = []
    for i, side in enumerate(spatial):
        if not _int(side):
            out.append(None)
            continue
        reach = dil[i] * (kernel[i] - 1) + 1  # the window's extent, dilation included
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            out.append(-(-side // strides[i]))  # ceil(in / stride)
        elif auto_pad == "VALID":
            out.append((side - reach) // strides[i] + 1)
        else:
            span = side + pads[i] + pads[i + n] - reach
            o = (-(-span // strides[i]) if ceil_mode else span // strides[i]) + 1
            if ceil_mode and (o - 1) * strides[i] >= side + pads[i]:
                o -= 1  # the last window would start in the end padding
            out.append(o)
    return out


# ----------------------------------------------------------------------------------------
# Shape rules


def same_shape(slot: int = 0) -> ShapeRule:
    def rule(v: NodeView) -> tuple[Shape | None, ...]:
        """Y has the shape of input ``slot``."""
        return _outs(v, _in(v, slot))

    return rule


def broadcast_shape(a: int, b: int) -> ShapeRule:
    def rule(v: NodeView) -> tuple[Shape | None, ...]:
        """Y = broadcast(A, B) (QLinearAdd, QLinearMul: A is input 0, B input 3)."""
        sa, sb = _in(v, a), _in(v, b)
        return _outs(v, _broadcast(sa, sb) if sa is not None and sb is not None else None)

    return rule


def matmul_shape(a: int, b: int) -> ShapeRule:
    def rule(v: NodeView) -> tuple[Shape | None, ...]:
        """Y = A @ B, numpy semantics: [..., M, K] x [..., K, N] -> [..., M, N]."""
        sa, sb = _in(v, a), _in(v, b)
        return _outs(v, _matmul_shape(sa, sb) if sa is not None and sb is not None else None)

    return rule


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
    sa, sb = _in(v, 0), _in(v, 1)
    if sa is None or sb is None:
        return _outs(v, None)
    a = _fused_operand(sa, v.attr("transA", 0), v.attr("transBatchA", 0))
    b = _fused_operand(sb, v.attr("transB", 0), v.attr("transBatchB", 0))
    return _outs(v, _matmul_shape(a, b))


def gemm_shape(a: int, b: int) -> ShapeRule:
    def rule(v: NodeView) -> tuple[Shape | None, ...]:
        """Y is (M, N): A is (M, K) or, with transA, (K, M); B is (K, N) or (N, K)."""
        sa, sb = _in(v, a), _in(v, b)
        if sa is None or sb is None:
            return _outs(v, None)
        m = sa[1] if v.attr("transA", 0) else sa[0]
        n = sb[0] if v.attr("transB", 0) else sb[1]
        return _outs(v, (m, n))

    return rule


def matmul_nbits_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Y = A @ dequantize(B): A is [..., K], Y is [..., N] with N the attribute."""
    a = _in(v, 0)
    return _outs(v, None if a is None else (*a[:-1], int(v.attr("N"))))


def conv_shape(x: int, w: int, channels_last: bool | None) -> ShapeRule:
    """A convolution of input ``x`` with weight ``w`` [M, C/group, k...]; NHWC when
    ``channels_last`` (None: as the node's channels_last attribute says)."""

    def rule(v: NodeView) -> tuple[Shape | None, ...]:
        """Y is (N, M, out...) or, channels last, (N, out..., M); out as Conv's."""
        sx, sw = _in(v, x), _in(v, w)
        if sx is None or sw is None:
            return _outs(v, None)
        last = bool(v.attr("channels_last", 0)) if channels_last is None else channels_last
        spatial = sx[1:-1] if last else sx[2:]
        kernel = v.attr("kernel_shape", None) or sw[2:]
        if not all(_int(k) for k in kernel):
            return _outs(v, None)
        sides = _window(v, spatial, kernel, v.attr("dilations", None))
        return _outs(v, (sx[0], *sides, sw[0]) if last else (sx[0], sw[0], *sides))

    return rule


def qlinear_average_pool_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Y is AveragePool's shape, (N, C, out...) or, channels last, (N, out..., C)."""
    sx = _in(v, 0)
    if sx is None:
        return _outs(v, None)
    last = bool(v.attr("channels_last", 0))
    spatial = sx[1:-1] if last else sx[2:]
    sides = _window(v, spatial, v.attr("kernel_shape"), None, bool(v.attr("ceil_mode", 0)))
    return _outs(v, (sx[0], *sides, sx[-1]) if last else (sx[0], sx[1], *sides))


def qlinear_global_average_pool_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Y keeps N and C and sets every spatial side to 1 (channels first or last)."""
    sx = _in(v, 0)
    if sx is None:
        return _outs(v, None)
    ones = (1,) * (len(sx) - 2)
    return _outs(v, (sx[0], *ones, sx[-1]) if v.attr("channels_last", 0) else
                 (sx[0], sx[1], *ones))


def qlinear_concat_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Y = concat(inputs 2, 5, 8... along ``axis``), each followed by its scale and zero point."""
    parts = [_in(v, i) for i in range(2, len(v.inputs), 3)]
    if not parts or any(p is None for p in parts):
        return _outs(v, None)
    rank = len(parts[0])  # type: ignore[arg-type]
    axis = int(v.attr("axis")) % rank
    side: Dim = 0
    for p in parts:
        side = _add(side, p[axis])  # type: ignore[index]
    first = parts[0]
    return _outs(v, (*first[:axis], side, *first[axis + 1:]))  # type: ignore[index]


def dynamic_quantize_lstm_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Y is (seq, dirs, batch, H); Y_h and Y_c are (dirs, batch, H). X is (seq, batch, I)."""
    x, r = _in(v, 0), _in(v, 2)
    if x is None:
        return _outs(v, None, None, None)
    hidden = v.attr("hidden_size", None) or (r[1] if r is not None else None)
    direction = v.attr("direction", b"forward")
    dirs = 2 if direction in (b"bidirectional", "bidirectional") else 1
    state = (dirs, x[1], hidden)
    return _outs(v, (x[0], dirs, x[1], hidden), state, state)


def _attention_sizes(v: NodeView) -> tuple[Dim, Dim, Dim]:
    """Attention's (hidden_size of Q, of K, of V): the qkv_hidden_sizes attribute, or a third
    each of the packed weight's (or bias's) width (input 1 and 2, in QAttention too)."""
    sizes = v.attr("qkv_hidden_sizes", None)
    if sizes:
        return int(sizes[0]), int(sizes[1]), int(sizes[2])
    w, b = _in(v, 1), _in(v, 2)
    total = b[0] if b is not None else (w[1] if w is not None else None)
    third = _div(total, 3)
    return third, third, third


def attention_shape_at(past_slot: int) -> ShapeRule:
    def rule(v: NodeView) -> tuple[Shape | None, ...]:
        """output (B, S, Dv); present (2, B, N, P + S, Dk/N), past's shape with a shared buffer."""
        x, past = _in(v, 0), _in(v, past_slot)
        if x is None:
            return _outs(v, None, None)
        heads = int(v.attr("num_heads"))
        _, dk, dv = _attention_sizes(v)
        if past is not None:
            present = past if v.attr("past_present_share_buffer", 0) else \
                (*past[:3], _add(past[3], x[1]), past[4])
        else:
            present = (2, x[0], heads, x[1], _div(dk, heads))
        return _outs(v, (x[0], x[1], dv), present)

    return rule


attention_shape = attention_shape_at(4)  # past is input 4 (QAttention's is input 8)


def _mha_layout(v: NodeView) -> dict[str, Dim] | None:
    """MultiHeadAttention's sizes from its query, key and value, packed or not: batch B, query
    length S, key length L, heads N, head sizes H (Q, K) and Hv (V)."""
    q, k, val = _in(v, 0), _in(v, 1), _in(v, 2)
    if q is None:
        return None
    heads = int(v.attr("num_heads"))
    if len(q) == 5:  # packed QKV (B, S, N, 3, H)
        return {"B": q[0], "S": q[1], "L": q[1], "N": heads, "H": q[4], "Hv": q[4]}
    head = _div(q[2], heads)
    kv_len: Dim = q[1]
    v_head: Dim = head
    if k is not None:
        kv_len = k[2] if len(k) == 4 else k[1]  # (B, N, L, H), else (B, L, ...)
    if val is not None:
        v_head = val[3] if len(val) == 4 else _div(val[2], heads)
    return {"B": q[0], "S": q[1], "L": kv_len, "N": heads, "H": head, "Hv": v_head}


def _mha_total(v: NodeView, kv_len: Dim) -> Dim:
    """Keys attended to: past_key's length plus L, or past_key's (buffer) length when
    past_sequence_length is given (past and present share one buffer)."""
    past = _in(v, 6)
    if past is None:
        return kv_len
    return past[2] if v.has(8) else _add(past[2], kv_len)


def multi_head_attention_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """output (B, S, N*Hv); present_key/value (B, N, T, H or Hv), T = P + L; qk (B, N, S, T)."""
    lay = _mha_layout(v)
    if lay is None:
        return _outs(v, None, None, None, None)
    q, val = _in(v, 0), _in(v, 2)
    if len(q) == 5:  # type: ignore[arg-type]
        out: Shape = (lay["B"], lay["S"], _mul(q[2], q[4]))  # type: ignore[index]
    elif val is not None and len(val) == 3:
        out = (q[0], q[1], val[2])  # type: ignore[index]
    elif val is not None:
        out = (q[0], q[1], _mul(val[1], val[3]))  # type: ignore[index]
    else:
        out = q  # type: ignore[assignment]
    past = _in(v, 6)
    total = _mha_total(v, lay["L"])
    b, n = (past[0], past[1]) if past is not None else (lay["B"], lay["N"])
    return _outs(v, out, (b, n, total, lay["H"]), (b, n, total, lay["Hv"]),
                 (lay["B"], lay["N"], lay["S"], total))


def _gqa_layout(v: NodeView) -> dict[str, Dim] | None:
    """GroupQueryAttention's sizes: B, S, L (new keys), N and Nkv heads, head size H, and the
    total length T of the keys attended to (see :func:`group_query_attention_shape`)."""
    q, k, past = _in(v, 0), _in(v, 1), _in(v, 3)
    if q is None:
        return None
    heads, kv_heads = int(v.attr("num_heads")), int(v.attr("kv_num_heads"))
    packed = not v.has(1)
    head = _div(q[2], heads + 2 * kv_heads) if packed else _div(q[2], heads)
    kv_len = q[1] if packed or k is None else k[1]
    if past is None:
        total = kv_len
    elif v.attr("sliding_window_cache", 0):
        total = past[2]
    else:
        total = _add(past[2], kv_len)
    return {"B": q[0], "S": q[1], "L": kv_len, "N": heads, "Nkv": kv_heads, "H": head,
            "T": total, "packed": packed}


def group_query_attention_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """output (B, S, N*H); present_key/value (B, Nkv, P + L, H); output_qk (B, N, S, P + L)."""
    # onnxruntime's present length is max(P, total_sequence_length), a value, not a shape.
    # P + L is that value when past and present are separate buffers (past holds only the
    # past); when they share one buffer of the maximum length it is P, which shapes cannot
    # tell. With sliding_window_cache the buffer is the window: present has past's shape.
    lay = _gqa_layout(v)
    if lay is None:
        return _outs(v, None, None, None, None)
    q, past = _in(v, 0), _in(v, 3)
    out = (q[0], q[1], _mul(lay["N"], lay["H"])) if lay["packed"] else q  # type: ignore[index]
    b = past[0] if past is not None else lay["B"]
    present = (b, lay["Nkv"], lay["T"], lay["H"])
    if past is not None and v.attr("sliding_window_cache", 0):
        present = past
    return _outs(v, out, present, present, (lay["B"], lay["N"], lay["S"], lay["T"]))


def reduce_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """ReduceMean's shape: the ``axes`` dims become 1 (keepdims) or go."""
    x = _in(v, 0)
    if x is None:
        return _outs(v, None)
    axes = {a % len(x) for a in v.attr("axes", None) or range(len(x))}
    keep = int(v.attr("keepdims", 1))
    return _outs(v, tuple(1 if i in axes else d for i, d in enumerate(x) if keep or i not in axes))


def where_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Z = broadcast(condition, X, Y): QLinearWhere's condition is input 0, X 1, Y 4."""
    shapes = [_in(v, 0), _in(v, 1), _in(v, 4)]
    return _outs(v, None if any(s is None for s in shapes) else _broadcast(*shapes))


def group_norm_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Y (and SkipGroupNorm's sum S) has X's shape."""
    x = _in(v, 0)
    return _outs(v, x, x)


def _stats(x: Shape, axis: int) -> Shape:
    """The shape of a normalization's saved statistics: x's dims before ``axis``, then ones."""
    axis %= len(x)
    return (*x[:axis], *(1,) * (len(x) - axis))


def skip_layer_norm_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """output and input_skip_bias_sum have the input's shape; mean and inv_std_var its shape
    with the last dim 1."""
    x = _in(v, 0)
    if x is None:
        return _outs(v, None, None, None, None)
    return _outs(v, x, _stats(x, -1), _stats(x, -1), x)


def layer_norm_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Y has X's shape; the saved statistics (Mean, InvStdDev; SimplifiedLayerNormalization's
    only one, inv_std_var) keep X's dims before ``axis`` and set the rest to 1."""
    x = _in(v, 0)
    if x is None:
        return _outs(v, None, None, None)
    stats = _stats(x, int(v.attr("axis", -1)))
    return _outs(v, x, stats, stats)


def embed_layer_norm_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """output and embedding_sum are (B, S, D); mask_index is (B). input_ids is (B, S),
    word_embedding (vocab, D)."""
    ids, word = _in(v, 0), _in(v, 2)
    if ids is None:
        return _outs(v, None, None, None)
    out = (ids[0], ids[1], word[1] if word is not None else None)
    return _outs(v, out, (ids[0],), out)


def bias_split_gelu_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Y is (N, S, D/2): X is (N, S, D), split in halves after the bias."""
    x = _in(v, 0)
    return _outs(v, None if x is None else (*x[:-1], _div(x[-1], 2)))


# ----------------------------------------------------------------------------------------
# Costs


def _act_flops(v: NodeView, units: int) -> int:
    """One FLOP per output unit for a fused activation, as elementwise.py counts one."""
    return units if v.attr("activation", None) else 0


_conv = conv_cost(1, 2)


def fused_conv(v: NodeView) -> Cost:
    """Conv + bias, then Z (a residual activation, no connection) added, then the activation."""
    units = v.out_numel()
    z = units if v.has(3) else 0  # the sum input Z, one add per output unit
    return _conv(v) + Cost(flops=z + _act_flops(v, units))


def gemm_cost(a: int, c: int):
    def cost(v: NodeView) -> Cost:
        """Y = alpha*A'B' + beta*C: each of the M*N outputs reads K inputs, plus one with C."""
        sa = v.shape(a)
        k = sa[0] if v.attr("transA", 0) else sa[1]
        units = v.out_numel()  # M * N
        macs = units * k
        adds = units if v.has(c) else 0
        bias = units if v.reads_param(c) else 0  # +1: the bias (C a parameter)
        return Cost(macs=macs, flops=2 * macs + adds, connections=macs + bias)

    return cost


_fused_gemm = gemm_cost(0, 2)


def fused_gemm(v: NodeView) -> Cost:
    """Gemm, then the fused activation: one FLOP per output unit."""
    return _fused_gemm(v) + Cost(flops=_act_flops(v, v.out_numel()))


def matmul_bias_cost(a: int, bias: int):
    product = matmul_cost(a)

    def cost(v: NodeView) -> Cost:
        """A @ B over the shared dim K, plus an optional bias (+1 connection per output unit)."""
        units = v.out_numel()
        adds = units if v.has(bias) else 0  # the bias add, per output unit
        connections = units if v.reads_param(bias) else 0  # +1: the bias
        return product(v) + Cost(flops=adds, connections=connections)

    return cost


_matmul_bias = matmul_bias_cost(0, 2)


def fused_matmul(v: NodeView) -> Cost:
    """alpha * A' @ B': out_units * K MACs (K after the transposes), one FLOP per unit for alpha."""
    a = _fused_operand(v.shape(0), v.attr("transA", 0), v.attr("transBatchA", 0))
    k = a[-1]
    units = v.out_numel()
    macs = units * k  # a K-long dot product per output unit
    alpha = units if float(v.attr("alpha", 1.0)) != 1.0 else 0  # the alpha scaling
    return Cost(macs=macs, flops=2 * macs + alpha, connections=macs)


def matmul_nbits(v: NodeView) -> Cost:
    """A @ dequantize(B) + bias: out_units * K MACs (K the attribute), +1 per unit for the bias."""
    units = v.out_numel()  # [..., N]
    macs = units * int(v.attr("K"))
    adds = units if v.has(5) else 0  # the bias add
    bias = units if v.reads_param(5) else 0  # +1: the bias
    return Cost(macs=macs, flops=2 * macs + adds, connections=macs + bias)


def dynamic_quantize_lstm(v: NodeView) -> Cost:
    """MACs = seq * batch * dirs * 4H * (I + H), as recurrent.py's LSTM (W is [dirs, I, 4H],
    R is [dirs, H, 4H] here); the bias adds one connection per gate unit."""
    seq, batch, _ = v.shape(0)  # X is [seq, batch, input]
    dirs, inputs, gate_units = v.shape(1)  # W is [num_directions, input, 4*hidden]
    hidden = v.shape(2)[1]  # R is [num_directions, hidden, 4*hidden]
    steps = seq * batch * dirs * gate_units
    macs = steps * (inputs + hidden)
    bias = steps if v.has(3) else 0
    # 2 FLOPs per MAC, the bias adds, and a gate nonlinearity and state update per unit.
    return Cost(macs=macs, flops=2 * macs + bias + 2 * steps, connections=macs + bias)


def _scores_flops(scores: int, v: NodeView, mask_slots: Sequence[int]) -> int:
    """Per attention score: the 1/sqrt(d) scaling (1) and softmax (3), plus one add per mask or
    attention bias given."""
    return scores * (4 + sum(1 for s in mask_slots if v.has(s)))


def attention_cost(past_slot: int, mask_slots: tuple[int, ...]):
    def attention(v: NodeView) -> Cost:
        """MACs = B*S*Din*(Dq+Dk+Dv) (QKV projection) + B*S*T*Dq (Q.K^T) + B*S*T*Dv (attn.V)."""
        # T = P + S keys (the past buffer's length when shared); N heads of Dq/N split Q.K^T
        # into B*N*S*T scores of Dq/N MACs each.
        batch, seq, din = v.shape(0)  # input is (B, S, Din)
        dq, dk, dv = _attention_sizes(v)
        if not (_int(dq) and _int(dk) and _int(dv)):
            raise UnknownShape("Attention's hidden sizes are not known")
        heads = int(v.attr("num_heads"))
        total = seq
        if v.has(past_slot):  # past is (2, B, N, P, H)
            past_len = v.shape(past_slot)[3]
            total = past_len if v.attr("past_present_share_buffer", 0) else past_len + seq
        width = dq + dk + dv  # type: ignore[operator]
        projection = batch * seq * din * width  # the dense QKV layer
        qk = batch * seq * total * dq  # Q.K^T: B*N*S*T scores, Dq/N MACs each
        av = batch * seq * total * dv  # attn.V: B*S*Dv outputs, T MACs each
        macs = projection + qk + av
        scores = batch * heads * seq * total
        adds = batch * seq * width if v.has(2) else 0  # the projection bias
        bias = batch * seq * width if v.reads_param(2) else 0  # +1: the bias, per projected unit
        rotary = 3 * batch * seq * (dq + dk) if v.attr("do_rotary", 0) else 0  # 2 mul + 1 add
        flops = 2 * macs + adds + _scores_flops(scores, v, mask_slots) + rotary
        return Cost(macs=macs, flops=flops, connections=macs + bias)

    return attention


def _known(lay: dict[str, Dim], *keys: str) -> list[int]:
    vals = [lay[k] for k in keys]
    if not all(_int(x) for x in vals):
        raise UnknownShape(f"attention sizes {dict(zip(keys, vals))} are not all known")
    return vals  # type: ignore[return-value]


def multi_head_attention(v: NodeView) -> Cost:
    """No weights: MACs = B*N*S*T*H (Q.K^T) + B*N*S*T*Hv (attn.V), T = P + L keys."""
    lay = _mha_layout(v)
    if lay is None:
        raise UnknownShape("MultiHeadAttention's query has no shape")
    b, s, kv, n, h, hv = _known(lay, "B", "S", "L", "N", "H", "Hv")
    total = _mha_total(v, kv)
    if not _int(total):
        raise UnknownShape("the past length is not known")
    scores = b * n * s * total  # type: ignore[operator]
    macs = scores * h + scores * hv  # Q.K^T, then attn.V
    # The input-projection bias (Dq + Dk + Dv) is added to Q (B*S*N*H) and to K and V (B*L*...).
    biased = b * s * n * h + b * kv * n * (h + hv) if v.has(3) else 0
    bias = biased if v.reads_param(3) else 0  # +1: the bias, per projected unit
    return Cost(macs=macs, flops=2 * macs + biased + _scores_flops(scores, v, (4, 5)),
                connections=macs + bias)


def group_query_attention(v: NodeView) -> Cost:
    """No weights: MACs = 2 * B*N*S*T*H (Q.K^T and attn.V, each of the N query heads reading
    its group's K/V head), T = P + L keys (an upper bound with a shared KV buffer)."""
    lay = _gqa_layout(v)
    if lay is None:
        raise UnknownShape("GroupQueryAttention's query has no shape")
    b, s, kv, n, nkv, h, t = _known(lay, "B", "S", "L", "N", "Nkv", "H", "T")
    scores = b * n * s * t
    macs = 2 * scores * h  # Q.K^T, then attn.V
    rotary = 3 * (b * s * n * h + b * kv * nkv * h) if v.attr("do_rotary", 0) else 0  # Q and K
    qk_norm = 4 * (b * s * n * h + b * kv * nkv * h) if v.has(14) else 0  # RMS norm of Q and K
    flops = 2 * macs + _scores_flops(scores, v, (10,)) + rotary + qk_norm
    return Cost(macs=macs, flops=flops, connections=macs)


def rotary_embedding(v: NodeView) -> Cost:
    """x*cos + rotate(x)*sin on the rotated part of each head: 3 FLOPs per rotated unit."""
    x = v.shape(0)  # (B, S, D) or (B, N, S, H)
    cache = v.shape(2)  # (max_seq, rotary_dim / 2)
    rot = int(v.attr("rotary_embedding_dim", 0)) or 2 * cache[1]
    heads = int(v.attr("num_heads", 0))
    head = x[3] if len(x) == 4 else (x[2] // heads if heads else rot)
    rotated = v.numel(0) * rot // head  # the units of the rotary dims
    return Cost(flops=3 * rotated)


def skip_layer_norm(simplified: bool):
    beta = None if simplified else 3
    bias = 3 if simplified else 4

    def cost(v: NodeView) -> Cost:
        """input + skip (+ bias), then the norm (5 FLOPs per unit, RMS norm 4); the shift
        beta and a parameter bias each add a connection per unit."""
        units = v.out_numel()
        adds = units * (1 + v.has(bias))  # + skip, + bias
        norm = units * (4 if simplified else 5)
        shift = units if beta is not None and v.has(beta) else 0  # beta, as norm.py counts it
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


def gemm_fast_gelu(v: NodeView) -> Cost:
    """X @ W (K MACs per output unit), the bias add, FastGelu (1 per unit); a parameter bias +1."""
    return _matmul_bias(v) + Cost(flops=v.out_numel())


def reduction(v: NodeView) -> Cost:
    """Each output unit reads every input unit it reduces: one FLOP and connection per input."""
    n = v.numel(0)
    return Cost(flops=n, connections=n)


def rms_norm(v: NodeView) -> Cost:
    """Square, mean, divide and scale: 4 FLOPs per unit; a scale, no shift: no connections."""
    return Cost(flops=4 * v.out_numel())


def embed_layer_norm(v: NodeView) -> Cost:
    """word + position (+ segment) embeddings, then LayerNormalization (5 FLOPs per unit, beta
    one connection per unit); the mask index sums the mask."""
    units = v.out_numel()  # B * S * D
    adds = units * (1 + v.has(4))  # + position, + segment
    mask = v.numel(7) if v.has(7) else 0  # mask_index: one add per mask element
    return Cost(flops=adds + 5 * units + mask, connections=units)


def bias_activation(flops_per_unit: int, bias: int):
    def cost(v: NodeView) -> Cost:
        """``flops_per_unit`` FLOPs per output unit; a parameter bias: +1 connection per unit."""
        units = v.out_numel()
        return Cost(flops=flops_per_unit * units, connections=units if v.reads_param(bias) else 0)

    return cost


def fast_gelu(v: NodeView) -> Cost:
    """The optional bias add (1) and the activation (1) per unit; a parameter bias: +1."""
    units = v.out_numel()
    return Cost(flops=units * (1 + v.has(1)), connections=units if v.reads_param(1) else 0)


def bias_split_gelu(v: NodeView) -> Cost:
    """X + bias over all D, then left * gelu(right) on D/2: numel(X) + 2 FLOPs per output unit;
    a parameter bias is +1 connection per biased unit (numel(X))."""
    n = v.numel(0)  # (N, S, D) biased units
    units = v.out_numel()  # (N, S, D/2)
    return Cost(flops=n + 2 * units, connections=n if v.reads_param(1) else 0)


def pointwise(flops_per_unit: int):
    def cost(v: NodeView) -> Cost:
        """``flops_per_unit`` FLOPs per output unit, no connections."""
        return Cost(flops=flops_per_unit * v.out_numel())

    return cost


def qlinear_add(v: NodeView) -> Cost:
    """One FLOP per output unit; adding a parameter tensor (A or B) is a bias: +1 per unit."""
    units = v.out_numel()
    return Cost(flops=units, connections=units if v.reads_param(0) or v.reads_param(3) else 0)


def softmax(v: NodeView) -> Cost:
    """exp, sum and divide: three FLOPs per unit; an activation, no connections."""
    return Cost(flops=3 * v.out_numel())


# ----------------------------------------------------------------------------------------
# The tables

_ONE = pointwise(1)
_QUNARY = (1, 2, 3, 4)  # X_scale, X_zero_point, Y_scale, Y_zero_point

OPS: dict[str, OpSpec] = {
    # X, W, R, B, sequence_lens, initial_h, initial_c, P, W_scale, W_zp, R_scale, R_zp
    "DynamicQuantizeLSTM": spec(dynamic_quantize_lstm,
                                {1: TRAINABLE, 2: TRAINABLE, 3: TRAINABLE, 7: TRAINABLE},
                                fixed=(5, 6, 8, 9, 10, 11)),
    # A, B, b_scale, b_zero_point, bias
    "DynamicQuantizeMatMul": spec(matmul_bias_cost(0, 4), {1: TRAINABLE, 4: TRAINABLE},
                                  fixed=(2, 3)),
    # A, B, a_scale, b_scale, a_zero_point, b_zero_point, bias
    "MatMulIntegerToFloat": spec(matmul_bias_cost(0, 6),
                                 {0: TRAINABLE, 1: TRAINABLE, 6: TRAINABLE}, fixed=(2, 3, 4, 5)),
    # A, a_scale, a_zp, B, b_scale, b_zp, C (int32), y_scale, y_zp
    "QGemm": spec(gemm_cost(0, 6), {0: TRAINABLE, 3: TRAINABLE, 6: TRAINABLE},
                  fixed=(1, 2, 4, 5, 7, 8)),
    # x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B (int32); channels_last attribute
    "QLinearConv": spec(conv_cost(3, 8, channels_last=None), {3: TRAINABLE, 8: TRAINABLE},
                        fixed=(1, 2, 4, 5, 6, 7)),
    # A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp: a constant A or B is a quantized
    # parameter (the bias of an Add, the coefficient of a Mul).
    "QLinearAdd": spec(qlinear_add, {0: TRAINABLE, 3: TRAINABLE}, fixed=(1, 2, 4, 5, 6, 7)),
    "QLinearMul": spec(_ONE, {0: TRAINABLE, 3: TRAINABLE}, fixed=(1, 2, 4, 5, 6, 7)),
    "QLinearSigmoid": spec(_ONE, fixed=_QUNARY),
    "QLinearLeakyRelu": spec(_ONE, fixed=_QUNARY),
    "QLinearSoftmax": spec(softmax, fixed=_QUNARY),
    "QLinearAveragePool": spec(window_pool, fixed=_QUNARY),
    "QLinearGlobalAveragePool": spec(global_pool, fixed=_QUNARY),
    # Y_scale, Y_zp, then (X, X_scale, X_zp) per input; the scales are per-tensor scalars and
    # the zero points integers, never parameters by the default rule.
    "QLinearConcat": spec(zero_cost, fixed=(0, 1)),
    # X, W, B, Z (the sum input)
    "FusedConv": spec(fused_conv, {1: TRAINABLE, 2: TRAINABLE}),
    # A, B, C
    "FusedGemm": spec(fused_gemm, {0: TRAINABLE, 1: TRAINABLE, 2: TRAINABLE}),
    "FusedMatMul": spec(fused_matmul, {0: TRAINABLE, 1: TRAINABLE}),
    # X (N, H, W, C), W (M, C/group, kH, kW), B
    "NhwcConv": spec(conv_cost(1, 2, channels_last=True), {1: TRAINABLE, 2: TRAINABLE}),
    # input, weights, bias, mask_index, past, attention_bias, past_sequence_length
    "Attention": spec(attention_cost(past_slot=4, mask_slots=(3, 5)),
                      {1: TRAINABLE, 2: TRAINABLE}),
    # input (uint8), weight (int8/uint8), bias, input_scale, weight_scale, mask_index,
    # input_zero_point, weight_zero_point, past
    "QAttention": spec(attention_cost(past_slot=8, mask_slots=(5,)), {1: TRAINABLE, 2: TRAINABLE},
                       fixed=(3, 4, 6, 7)),
    # query, key, value, bias, key_padding_mask, attention_bias, past_key, past_value,
    # past_sequence_length, cache_indirection
    "MultiHeadAttention": spec(multi_head_attention, {3: TRAINABLE}),
    # query, key, value, past_key, past_value, seqlens_k, total_sequence_length, cos_cache,
    # sin_cache, position_ids, attention_bias, head_sink, k_scale, v_scale, q_norm_weight,
    # k_norm_weight, query_seqlens
    "GroupQueryAttention": spec(group_query_attention,
                                {11: TRAINABLE, 14: TRAINABLE, 15: TRAINABLE},
                                fixed=(7, 8, 12, 13)),
    # input, position_ids, cos_cache, sin_cache: the caches are tables, not learned
    "RotaryEmbedding": spec(rotary_embedding, fixed=(1, 2, 3)),
    # input, skip, gamma, beta, bias
    "SkipLayerNormalization": spec(skip_layer_norm(False),
                                   {2: TRAINABLE, 3: TRAINABLE, 4: TRAINABLE}),
    # input, skip, gamma, bias
    "SkipSimplifiedLayerNormalization": spec(skip_layer_norm(True), {2: TRAINABLE, 3: TRAINABLE}),
    # input_ids, segment_ids, word_embedding, position_embedding, segment_embedding, gamma,
    # beta, mask, position_ids
    "EmbedLayerNormalization": spec(embed_layer_norm, {
        2: TRAINABLE, 3: TRAINABLE, 4: TRAINABLE, 5: TRAINABLE, 6: TRAINABLE}),
    # The quantized form: input_ids, segment_ids, the three embedding tables, gamma and beta
    # (uint8), mask, then their scales (8-12) and zero points (13-17).
    "QEmbedLayerNormalization": spec(embed_layer_norm, {
        2: TRAINABLE, 3: TRAINABLE, 4: TRAINABLE, 5: TRAINABLE, 6: TRAINABLE},
        fixed=tuple(range(8, 18))),
    # A, B (bias): the bias add and the activation
    "BiasGelu": spec(bias_activation(2, 1), {1: TRAINABLE}),
    # X, bias (optional)
    "FastGelu": spec(fast_gelu, {1: TRAINABLE}),
    "Gelu": spec(_ONE),
    "QuickGelu": spec(_ONE),  # x * sigmoid(alpha * x): an activation, one FLOP as Swish
    # X, bias, skip: X + bias + skip
    "BiasAdd": spec(bias_activation(2, 1), {1: TRAINABLE}),
    # X, bias
    "BiasSplitGelu": spec(bias_split_gelu, {1: TRAINABLE}),
    # x, scale, zero_point; a DequantizeLinear's int8 input is a parameter the counter finds
    # by its own rule (the int8 tensor behind a DequantizeLinear).
    "QuantizeLinear": spec(requantize, fixed=(1, 2)),
    "DequantizeLinear": spec(requantize, fixed=(1, 2)),
    # A, B (packed uint8, N x k_blocks x blob), scales, zero_points, g_idx, bias
    "MatMulNBits": spec(matmul_nbits, {1: TRAINABLE, 5: TRAINABLE}, fixed=(2, 3, 4)),
    # X, W, bias
    "GemmFastGelu": spec(gemm_fast_gelu, {1: TRAINABLE, 2: TRAINABLE}),
    # X, gamma, beta (NHWC by default)
    "GroupNorm": spec(group_norm(False), {1: TRAINABLE, 2: TRAINABLE}),
    # X, gamma, beta, skip, bias
    "SkipGroupNorm": spec(group_norm(True), {1: TRAINABLE, 2: TRAINABLE, 4: TRAINABLE}),
    # data, data_scale, data_zp, reduced_scale, reduced_zp
    "QLinearReduceMean": spec(reduction, fixed=_QUNARY),
    # condition, X, x_scale, x_zp, Y, y_scale, y_zp, z_scale, z_zp: a selection
    "QLinearWhere": spec(zero_cost, fixed=(2, 3, 5, 6, 7, 8)),
}

# What each op can cost beyond FLOPs (an op whose shape is unknown has these unknown): the
# products have MACs and connections, windows, norms and biases connections.
_METRICS = {
    **dict.fromkeys(("DynamicQuantizeLSTM", "DynamicQuantizeMatMul", "MatMulIntegerToFloat",
                     "QGemm", "QLinearConv", "FusedConv", "FusedGemm", "FusedMatMul", "NhwcConv",
                     "Attention", "QAttention", "MultiHeadAttention", "GroupQueryAttention",
                     "MatMulNBits", "GemmFastGelu"), LINEAR),
    **dict.fromkeys(("QLinearAdd", "QLinearAveragePool", "QLinearGlobalAveragePool",
                     "SkipLayerNormalization", "SkipSimplifiedLayerNormalization",
                     "EmbedLayerNormalization", "QEmbedLayerNormalization", "BiasGelu",
                     "FastGelu", "BiasAdd",
                     "BiasSplitGelu", "GroupNorm", "SkipGroupNorm", "QLinearReduceMean"),
                    CONNECTING),
}
OPS = {op: replace(entry, metrics=_METRICS.get(op, entry.metrics)) for op, entry in OPS.items()}

SHAPES: dict[str, ShapeRule] = {
    "DynamicQuantizeLSTM": dynamic_quantize_lstm_shape,
    "DynamicQuantizeMatMul": matmul_shape(0, 1),
    "MatMulIntegerToFloat": matmul_shape(0, 1),
    "QGemm": gemm_shape(0, 3),
    "QLinearConv": conv_shape(0, 3, channels_last=None),
    "QLinearAdd": broadcast_shape(0, 3),
    "QLinearMul": broadcast_shape(0, 3),
    "QLinearSigmoid": same_shape(),
    "QLinearLeakyRelu": same_shape(),
    "QLinearSoftmax": same_shape(),
    "QLinearAveragePool": qlinear_average_pool_shape,
    "QLinearGlobalAveragePool": qlinear_global_average_pool_shape,
    "QLinearConcat": qlinear_concat_shape,
    "FusedConv": conv_shape(0, 1, channels_last=False),
    "FusedGemm": gemm_shape(0, 1),
    "FusedMatMul": fused_matmul_shape,
    "NhwcConv": conv_shape(0, 1, channels_last=True),
    "Attention": attention_shape,
    "MultiHeadAttention": multi_head_attention_shape,
    "GroupQueryAttention": group_query_attention_shape,
    "RotaryEmbedding": same_shape(),
    "SkipLayerNormalization": skip_layer_norm_shape,
    "SkipSimplifiedLayerNormalization": skip_layer_norm_shape,
    "EmbedLayerNormalization": embed_layer_norm_shape,
    "QEmbedLayerNormalization": embed_layer_norm_shape,
    "BiasGelu": same_shape(),
    "FastGelu": same_shape(),
    "Gelu": same_shape(),
    "QuickGelu": same_shape(),
    "BiasAdd": same_shape(),
    "BiasSplitGelu": bias_split_gelu_shape,
    "QuantizeLinear": same_shape(),
    "DequantizeLinear": same_shape(),
    "MatMulNBits": matmul_nbits_shape,
    "QAttention": attention_shape_at(8),
    "GemmFastGelu": matmul_shape(0, 1),
    "GroupNorm": group_norm_shape,
    "SkipGroupNorm": group_norm_shape,
    "QLinearReduceMean": reduce_shape,
    "QLinearWhere": where_shape,
}

# Contrib schemas that onnxruntime registers in the DEFAULT domain (opset 1), for the
# default-domain table. LayerNormalization's cost is norm.py's; only its shape rule is new
# (onnx has no LayerNormalization below opset 17).
DEFAULT_DOMAIN_OPS: dict[str, OpSpec] = {
    # X, scale
    "SimplifiedLayerNormalization": spec(rms_norm, {1: TRAINABLE}),
}

DEFAULT_DOMAIN_SHAPES: dict[str, ShapeRule] = {
    "SimplifiedLayerNormalization": layer_norm_shape,
    "LayerNormalization": layer_norm_shape,
}

__all__ = ["OPS", "SHAPES", "DEFAULT_DOMAIN_OPS", "DEFAULT_DOMAIN_SHAPES"]
