"""Attention: onnxruntime's fused attention ops (com.microsoft), whose products are the QKV
projection (when the op holds it), Q.K^T and attn.V."""

from __future__ import annotations

from collections.abc import Sequence

from ..shapes import Dim, Shape
from .base import LINEAR, TRAINABLE, Cost, NodeView, Role, ShapeRule, UnknownShape, entry
from .rules import add_dims, div_dims, in_shape, is_int, mul_dims, outs, same_shape

MS = "com.microsoft"


def _attention_sizes(v: NodeView) -> tuple[Dim, Dim, Dim]:
    """Attention's (hidden_size of Q, of K, of V): the qkv_hidden_sizes attribute, or a third
    each of the packed weight's (or bias's) width (input 1 and 2, in QAttention too)."""
    sizes = v.attr("qkv_hidden_sizes", None)
    if sizes:
        return int(sizes[0]), int(sizes[1]), int(sizes[2])
    w, b = in_shape(v, 1), in_shape(v, 2)
    total = b[0] if b is not None else (w[1] if w is not None else None)
    third = div_dims(total, 3)
    return third, third, third


def attention_shape_at(past_slot: int) -> ShapeRule:
    def rule(v: NodeView) -> tuple[Shape | None, ...]:
        """output (B, S, Dv); present (2, B, N, P + S, Dk/N), past's shape with a shared buffer."""
        x, past = in_shape(v, 0), in_shape(v, past_slot)
        if x is None:
            return outs(v, None, None)
        heads = int(v.attr("num_heads"))
        _, dk, dv = _attention_sizes(v)
        if past is not None:
            present = past if v.attr("past_present_share_buffer", 0) else \
                (*past[:3], add_dims(past[3], x[1]), past[4])
        else:
            present = (2, x[0], heads, x[1], div_dims(dk, heads))
        return outs(v, (x[0], x[1], dv), present)

    return rule


attention_shape = attention_shape_at(4)  # past is input 4 (QAttention's is input 8)


def _mha_layout(v: NodeView) -> dict[str, Dim] | None:
    """MultiHeadAttention's sizes from its query, key and value, packed or not: batch B, query
    length S, key length L, heads N, head sizes H (Q, K) and Hv (V)."""
    q, k, val = in_shape(v, 0), in_shape(v, 1), in_shape(v, 2)
    if q is None:
        return None
    heads = int(v.attr("num_heads"))
    if len(q) == 5:  # packed QKV (B, S, N, 3, H)
        return {"B": q[0], "S": q[1], "L": q[1], "N": heads, "H": q[4], "Hv": q[4]}
    head = div_dims(q[2], heads)
    kv_len: Dim = q[1]
    v_head: Dim = head
    if k is not None:
        kv_len = k[2] if len(k) == 4 else k[1]  # (B, N, L, H), else (B, L, ...)
    if val is not None:
        v_head = val[3] if len(val) == 4 else div_dims(val[2], heads)
    return {"B": q[0], "S": q[1], "L": kv_len, "N": heads, "H": head, "Hv": v_head}


def _mha_total(v: NodeView, kv_len: Dim) -> Dim:
    """Keys attended to: past_key's length plus L, or past_key's (buffer) length when
    past_sequence_length is given (past and present share one buffer)."""
    past = in_shape(v, 6)
    if past is None:
        return kv_len
    return past[2] if v.has(8) else add_dims(past[2], kv_len)


def multi_head_attention_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """output (B, S, N*Hv); present_key/value (B, N, T, H or Hv), T = P + L; qk (B, N, S, T)."""
    lay = _mha_layout(v)
    if lay is None:
        return outs(v, None, None, None, None)
    q, val = in_shape(v, 0), in_shape(v, 2)
    if len(q) == 5:  # type: ignore[arg-type]
        out: Shape = (lay["B"], lay["S"], mul_dims(q[2], q[4]))  # type: ignore[index]
    elif val is not None and len(val) == 3:
        out = (q[0], q[1], val[2])  # type: ignore[index]
    elif val is not None:
        out = (q[0], q[1], mul_dims(val[1], val[3]))  # type: ignore[index]
    else:
        out = q  # type: ignore[assignment]
    past = in_shape(v, 6)
    total = _mha_total(v, lay["L"])
    b, n = (past[0], past[1]) if past is not None else (lay["B"], lay["N"])
    return outs(v, out, (b, n, total, lay["H"]), (b, n, total, lay["Hv"]),
                 (lay["B"], lay["N"], lay["S"], total))


def _gqa_layout(v: NodeView) -> dict[str, Dim] | None:
    """GroupQueryAttention's sizes: B, S, L (new keys), N and Nkv heads, head size H, and the
    total length T of the keys attended to (see :func:`group_query_attention_shape`)."""
    q, k, past = in_shape(v, 0), in_shape(v, 1), in_shape(v, 3)
    if q is None:
        return None
    heads, kv_heads = int(v.attr("num_heads")), int(v.attr("kv_num_heads"))
    packed = not v.has(1)
    head = div_dims(q[2], heads + 2 * kv_heads) if packed else div_dims(q[2], heads)
    kv_len = q[1] if packed or k is None else k[1]
    if past is None:
        total = kv_len
    elif v.attr("sliding_window_cache", 0):
        total = past[2]
    else:
        total = add_dims(past[2], kv_len)
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
        return outs(v, None, None, None, None)
    q, past = in_shape(v, 0), in_shape(v, 3)
    out = (q[0], q[1], mul_dims(lay["N"], lay["H"])) if lay["packed"] else q  # type: ignore[index]
    b = past[0] if past is not None else lay["B"]
    present = (b, lay["Nkv"], lay["T"], lay["H"])
    if past is not None and v.attr("sliding_window_cache", 0):
        present = past
    return outs(v, out, present, present, (lay["B"], lay["N"], lay["S"], lay["T"]))


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
        if not (is_int(dq) and is_int(dk) and is_int(dv)):
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
    if not all(is_int(x) for x in vals):
        raise UnknownShape(f"attention sizes {dict(zip(keys, vals))} are not all known")
    return vals  # type: ignore[return-value]


def multi_head_attention(v: NodeView) -> Cost:
    """No weights: MACs = B*N*S*T*H (Q.K^T) + B*N*S*T*Hv (attn.V), T = P + L keys."""
    lay = _mha_layout(v)
    if lay is None:
        raise UnknownShape("MultiHeadAttention's query has no shape")
    b, s, kv, n, h, hv = _known(lay, "B", "S", "L", "N", "H", "Hv")
    total = _mha_total(v, kv)
    if not is_int(total):
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


def _heads(shape: tuple[int, ...], heads_attr: int, rank4_heads: int) -> tuple[int, int, int,
                                                                                   int]:
    """(B, heads, length, head size) of an attention operand, 4-D (B, N, S, H) or packed 3-D
    (B, S, N*H) with N the attribute."""
    if len(shape) == 4:
        return shape[0], shape[rank4_heads], shape[2], shape[3]
    if not heads_attr:
        raise UnknownShape("a 3-D attention operand needs its heads attribute")
    return shape[0], heads_attr, shape[1], shape[2] // heads_attr


def onnx_attention(v: NodeView) -> Cost:
    """No weights: MACs = B*Nq*S*T*H (Q.K^T) + B*Nq*S*T*Hv (attn.V), T = P + L keys (past_key
    is (B, Nkv, P, H)); per score the scaling (1), softmax (3) and a mask add when given."""
    b, nq, s, h = _heads(v.shape(0), int(v.attr("q_num_heads", 0)), 1)
    _, _, length, hv = _heads(v.shape(2), int(v.attr("kv_num_heads", 0)), 1)
    total = length + (v.shape(4)[2] if v.has(4) else 0)
    scores = b * nq * s * total
    macs = scores * (h + hv)  # Q.K^T, then attn.V
    return Cost(macs=macs, flops=2 * macs + _scores_flops(scores, v, (3,)), connections=macs)


def flex_attention(v: NodeView) -> Cost:
    """Q (B, N, L, E), K (B, N, S, E), V (B, N, S, Ev): MACs = B*N*L*S*(E + Ev); the score
    and probability modifiers' own graphs are not counted (one FLOP per score for each)."""
    b, n, length, e = v.shape(0)
    s, ev = v.shape(2)[2], v.shape(2)[3]
    scores = b * n * length * s
    macs = scores * (e + ev)
    mods = scores * (bool(v.attr("score_mod", None)) + bool(v.attr("prob_mod", None)))
    return Cost(macs=macs, flops=2 * macs + 4 * scores + mods, connections=macs)


def linear_attention(v: NodeView) -> Cost:
    """Per token: the state update k (x) v per KV head (dk*dv MACs, twice for the delta rules'
    S^T k), the read-out q^T S per query head (dk*dv MACs); the gated rules' decay one FLOP
    per state value."""
    b, t, qw = v.shape(0)
    nq, nkv = int(v.attr("q_num_heads")), int(v.attr("kv_num_heads"))
    dk, dv = qw // nq, v.shape(2)[2] // nkv
    rule = v.attr("update_rule", b"gated_delta")  # the schema's default
    rule = rule.decode() if isinstance(rule, bytes) else str(rule)
    state = nkv * dk * dv  # one state matrix per KV head
    macs = b * t * (state * (2 if "delta" in rule else 1) + nq * dk * dv)
    decay = b * t * state if "gated" in rule else 0
    return Cost(macs=macs, flops=2 * macs + decay, connections=macs)


def onnx_rotary(v: NodeView) -> Cost:
    """x*cos + rotate(x)*sin on the rotated part of each head: 3 FLOPs per rotated unit (X is
    (B, S, N*H) with num_heads, or (B, N, S, H))."""
    x = v.shape(0)
    heads = int(v.attr("num_heads", 0))
    head = x[3] if len(x) == 4 else x[2] // heads if heads else x[-1]
    rot = int(v.attr("rotary_embedding_dim", 0)) or head
    return Cost(flops=3 * (v.numel(0) // head) * rot)


OPS = {
    # Q, K, V, attn_mask, past_key, past_value, nonpad_kv_seqlen (onnx's, opset 23)
    ("", "Attention"): entry(onnx_attention, fixed=(3,), metrics=LINEAR),
    # query, key, value, past_state, decay, beta (opset 27)
    ("", "LinearAttention"): entry(linear_attention, metrics=LINEAR),
    # X, cos_cache, sin_cache, position_ids: the caches are tables, not learned (opset 23)
    ("", "RotaryEmbedding"): entry(onnx_rotary, fixed=(1, 2, 3)),
    ("ai.onnx.preview", "FlexAttention"): entry(flex_attention, metrics=LINEAR),
    # input, weights, bias, mask_index, past, attention_bias, past_sequence_length
    (MS, "Attention"): entry(attention_cost(past_slot=4, mask_slots=(3, 5)),
                             {1: TRAINABLE, 2: TRAINABLE}, metrics=LINEAR, role=Role.LINEAR,
                             weight=1, shape=attention_shape),
    # input (uint8), weight (int8/uint8), bias, input_scale, weight_scale, mask_index,
    # input_zero_point, weight_zero_point, past
    (MS, "QAttention"): entry(attention_cost(past_slot=8, mask_slots=(5,)),
                              {1: TRAINABLE, 2: TRAINABLE}, (3, 4, 6, 7), metrics=LINEAR,
                              role=Role.LINEAR, weight=1, shape=attention_shape_at(8)),
    # query, key, value, bias, key_padding_mask, attention_bias, past_key, past_value,
    # past_sequence_length, cache_indirection
    (MS, "MultiHeadAttention"): entry(multi_head_attention, {3: TRAINABLE}, metrics=LINEAR,
                                      shape=multi_head_attention_shape),
    # query, key, value, past_key, past_value, seqlens_k, total_sequence_length, cos_cache,
    # sin_cache, position_ids, attention_bias, head_sink, k_scale, v_scale, q_norm_weight,
    # k_norm_weight, query_seqlens
    (MS, "GroupQueryAttention"): entry(group_query_attention,
                                       {11: TRAINABLE, 14: TRAINABLE, 15: TRAINABLE},
                                       (7, 8, 12, 13), metrics=LINEAR,
                                       shape=group_query_attention_shape),
    # input, position_ids, cos_cache, sin_cache: the caches are tables, not learned
    (MS, "RotaryEmbedding"): entry(rotary_embedding, fixed=(1, 2, 3), shape=same_shape()),
}
