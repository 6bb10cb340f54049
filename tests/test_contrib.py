"""onnxruntime's contrib ops: the shape rules give onnxruntime's real output shapes
(tests/data/contrib/cases.json, recorded by tests/data/make_contrib_cases.py, run by hand), and
the costs the values written out below as arithmetic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from onnx import helper

from sphinx_cnncount.ops import REGISTRY, base
from sphinx_cnncount.ops.attention import (attention_shape, group_query_attention_shape,
                                           multi_head_attention_shape)
from sphinx_cnncount.ops.base import Cost, NodeView, Op, UnknownShape
from sphinx_cnncount.ops.pool import qlinear_average_pool_shape

HERE = Path(__file__).resolve().parent
DATA = json.loads((HERE / "data" / "contrib" / "cases.json").read_text())
CASES = DATA["cases"]
MS = "com.microsoft"

# The ops the brief asks for (com.microsoft), and the default-domain ones.
REQUIRED = {
    "DynamicQuantizeLSTM", "DynamicQuantizeMatMul", "MatMulIntegerToFloat", "QGemm",
    "QLinearConv", "QLinearAdd", "QLinearMul", "QLinearSigmoid", "QLinearLeakyRelu",
    "QLinearAveragePool", "QLinearGlobalAveragePool", "QLinearConcat", "QLinearSoftmax",
    "FusedConv", "FusedGemm", "FusedMatMul", "NhwcConv", "Attention", "MultiHeadAttention",
    "GroupQueryAttention", "RotaryEmbedding", "SkipLayerNormalization",
    "SkipSimplifiedLayerNormalization", "EmbedLayerNormalization", "BiasGelu", "FastGelu",
    "Gelu", "QuickGelu", "BiasAdd", "BiasSplitGelu", "QuantizeLinear", "DequantizeLinear",
    "MatMulNBits",
}
# Further com.microsoft ops covered (met in onnxruntime-optimized and quantized models).
EXTRA = {"QAttention", "GemmFastGelu", "GroupNorm", "SkipGroupNorm", "QLinearReduceMean",
         "QLinearWhere", "QEmbedLayerNormalization"}
REQUIRED_DEFAULT = {"SimplifiedLayerNormalization", "LayerNormalization"}


def node(op: str, n_inputs: list[bool] | int, n_outputs: list[bool] | int, domain: str = MS,
         **attrs):
    """A node with inputs x0, x1... ("" where absent) and outputs y0, y1... ("" where not asked)."""
    ins = [True] * n_inputs if isinstance(n_inputs, int) else n_inputs
    outs = [True] * n_outputs if isinstance(n_outputs, int) else n_outputs
    return helper.make_node(op, [f"x{i}" if p else "" for i, p in enumerate(ins)],
                            [f"y{i}" if p else "" for i, p in enumerate(outs)], domain=domain,
                            **attrs)


MS_OPS = {op: entry for (domain, op), entry in REGISTRY.items() if domain == MS}


def rule_for(op: str, domain: str = MS):
    return REGISTRY[(domain, op)].shape


def spec_for(op: str, domain: str = MS) -> Op:
    return REGISTRY[(domain, op)]


# ----------------------------------------------------------------------------------------
# Shapes: exactly onnxruntime's


def _view(case: dict) -> NodeView:
    inputs = tuple(None if i is None else tuple(i["shape"]) for i in case["inputs"])
    n = node(case["op"], [i is not None for i in case["inputs"]], case["outputs_requested"],
             domain=case["domain"], **case["attrs"])
    return NodeView(n, inputs, ())


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_shape_is_onnxruntimes(case):
    got = rule_for(case["op"], case["domain"])(_view(case))
    assert len(got) == len(case["outputs_requested"])
    value_dependent = set(case.get("value_dependent_outputs", ()))
    for i, (want, asked) in enumerate(zip(case["outputs"], case["outputs_requested"])):
        if not asked:
            assert got[i] is None, f"output {i} is not asked for"
        elif i in value_dependent:
            continue  # see test_value_dependent_present
        else:
            assert got[i] is not None and list(got[i]) == want, (
                f"output {i}: rule {got[i]}, onnxruntime {want} ({case['source'][:60]})")


def test_value_dependent_present():
    """A shared KV buffer: onnxruntime gives present the buffer's length, max(P,
    total_sequence_length), a value; from shapes the rule gives P + L, the separate-buffer
    length, and says so in its docstring."""
    (case,) = [c for c in CASES if c.get("value_dependent_outputs")]
    assert case["op"] == "GroupQueryAttention"
    got = group_query_attention_shape(_view(case))
    past_len = case["inputs"][3]["shape"][2]
    assert case["outputs"][1][2] == past_len  # onnxruntime: the buffer's 12
    assert got[1][2] == past_len + case["inputs"][1]["shape"][1]  # the rule: 12 + 1
    assert got[0] == tuple(case["outputs"][0])


def test_every_case_source_is_stated():
    for case in CASES:
        assert case["source"].split(":")[0] in (
            "onnxruntime 1.32.0 CPUExecutionProvider", "equivalent", "inferred", "schema"), case
    by_source = {c["source"].split(":")[0].split(" ")[0] for c in CASES}
    assert "onnxruntime" in by_source


def test_cases_cover_every_op():
    ops = {c["op"] for c in CASES if c["domain"] == MS}
    assert REQUIRED | EXTRA <= ops
    assert set(MS_OPS) <= ops
    assert {c["op"] for c in CASES if c["domain"] == ""} == REQUIRED_DEFAULT


# Symbols: copied dims keep their names, computed ones become None.
SYMBOLIC = [
    ("Gelu", {}, [("batch", "seq", 768)], 1, [("batch", "seq", 768)]),
    ("SkipLayerNormalization", {}, [("B", "S", 8), ("B", "S", 8), (8,)], 4,
     [("B", "S", 8), ("B", "S", 1), ("B", "S", 1), ("B", "S", 8)]),
    ("Attention", {"num_heads": 12}, [("B", "S", 768), (768, 2304), (2304,)], 1,
     [("B", "S", 768)]),
    ("Attention", {"num_heads": 2}, [("B", 1, 8), (8, 24), (24,), None, (2, "B", 2, "P", 4)],
     2, [("B", 1, 8), (2, "B", 2, None, 4)]),
    ("MultiHeadAttention", {"num_heads": 2}, [("B", "S", 8), ("B", "L", 8), ("B", "L", 8)], 3,
     [("B", "S", 8), ("B", 2, "L", 4), ("B", 2, "L", 4)]),
    ("GroupQueryAttention", {"num_heads": 4, "kv_num_heads": 2},
     [("B", "S", 32), ("B", "S", 16), ("B", "S", 16), ("B", 2, "P", 8), ("B", 2, "P", 8),
      ("B",), ()], 3, [("B", "S", 32), ("B", 2, None, 8), ("B", 2, None, 8)]),
    ("QLinearConv", {"channels_last": 1},
     [("N", "H", 7, 3), (), (), (5, 3, 3, 3), (), (), (), ()], 1, [("N", None, 5, 5)]),
    ("QLinearAdd", {}, [("N", 1, 4), (), (), (3, 1), (), (), (), ()], 1, [("N", 3, 4)]),
    ("QLinearConcat", {"axis": 1}, [(), (), ("N", 3), (), (), ("N", "C"), (), ()], 1,
     [("N", None)]),
    ("FusedMatMul", {"transBatchA": 1}, [("M", "B", "K"), ("B", "K", 5)], 1, [("B", "M", 5)]),
    ("MatMulNBits", {"K": 64, "N": 32, "block_size": 32}, [("B", "S", 64), (32, 2, 16), (64,)],
     1, [("B", "S", 32)]),
    ("EmbedLayerNormalization", {}, [("B", "S"), None, (100, 8), (16, 8), None, (8,), (8,)],
     3, [("B", "S", 8), ("B",), ("B", "S", 8)]),
    ("DynamicQuantizeLSTM", {"hidden_size": 4}, [("T", "B", 3), (1, 3, 16), (1, 4, 16)], 3,
     [("T", 1, "B", 4), (1, "B", 4), (1, "B", 4)]),
]


@pytest.mark.parametrize("op, attrs, inputs, n_out, want", SYMBOLIC,
                         ids=[f"{s[0]}-{i}" for i, s in enumerate(SYMBOLIC)])
def test_symbols(op, attrs, inputs, n_out, want):
    v = NodeView(node(op, [s is not None for s in inputs], n_out, **attrs), tuple(inputs), ())
    assert rule_for(op)(v) == tuple(want)


def test_unknown_input_gives_unknown_output():
    v = NodeView(node("Attention", 3, 2, num_heads=2), (None, (8, 24), (24,)), ())
    assert attention_shape(v) == (None, None)
    v = NodeView(node("MultiHeadAttention", 3, 4, num_heads=2), (None, None, None), ())
    assert multi_head_attention_shape(v) == (None, None, None, None)


def test_ceil_mode_drops_a_window_that_starts_in_the_padding():
    # 5 wide, kernel 2, stride 2, pads 1+1, ceil_mode: windows at -1, 1, 3 (and 5, dropped)
    v = NodeView(node("QLinearAveragePool", 5, 1, kernel_shape=[2], strides=[2], pads=[1, 1],
                      ceil_mode=1), ((1, 1, 5), (), (), (), ()), ())
    assert qlinear_average_pool_shape(v) == ((1, 1, 3),)


# ----------------------------------------------------------------------------------------
# Costs


def cost_of(op: str, attrs: dict, inputs: list, params: tuple[bool, ...] = (),
            domain: str = MS) -> Cost:
    """The op's cost on these input shapes, its outputs from its own shape rule."""
    n = node(op, [s is not None for s in inputs], _n_outputs(op), domain=domain, **attrs)
    v = NodeView(n, tuple(inputs), (), params)
    outs = rule_for(op, domain)(v)
    return spec_for(op, domain).cost(NodeView(n, tuple(inputs), outs, params))


def _n_outputs(op: str) -> int:
    return {"DynamicQuantizeLSTM": 3, "Attention": 2, "QAttention": 2, "MultiHeadAttention": 3,
            "GroupQueryAttention": 3, "SkipGroupNorm": 2}.get(op, 1)


P = True  # "this slot reads a parameter"
_ = False

# BERT-base shapes: B=2, S=128, hidden 768, 12 heads of 64; GQA like a small Llama.
COSTS = [
    # --- attention
    ("Attention-bert", "Attention", {"num_heads": 12},
     [(2, 128, 768), (768, 2304), (2304,)], (_, P, P),
     Cost(macs=2 * 128 * 768 * 3 * 768 + 2 * 128 * 128 * 768 + 2 * 128 * 128 * 768,
          flops=2 * (2 * 128 * 768 * 3 * 768 + 2 * 2 * 128 * 128 * 768)
          + 2 * 128 * 2304 + 4 * 2 * 12 * 128 * 128,
          connections=2 * 128 * 768 * 3 * 768 + 2 * 2 * 128 * 128 * 768 + 2 * 128 * 2304)),
    ("Attention-mask-past", "Attention", {"num_heads": 12},
     [(2, 1, 768), (768, 2304), (2304,), (2, 11), (2, 2, 12, 10, 64)], (_, P, P),
     Cost(macs=2 * 1 * 768 * 2304 + 2 * 1 * 11 * 768 * 2,
          flops=2 * (2 * 1 * 768 * 2304 + 2 * 1 * 11 * 768 * 2) + 2 * 1 * 2304
          + 5 * 2 * 12 * 1 * 11,
          connections=2 * 1 * 768 * 2304 + 2 * 1 * 11 * 768 * 2 + 2 * 1 * 2304)),
    ("Attention-qkv-sizes-no-bias", "Attention",
     {"num_heads": 2, "qkv_hidden_sizes": [8, 8, 6]}, [(1, 3, 12), (12, 22)], (_, P),
     Cost(macs=1 * 3 * 12 * 22 + 1 * 3 * 3 * 8 + 1 * 3 * 3 * 6,
          flops=2 * (1 * 3 * 12 * 22 + 1 * 3 * 3 * 8 + 1 * 3 * 3 * 6) + 4 * 1 * 2 * 3 * 3,
          connections=1 * 3 * 12 * 22 + 1 * 3 * 3 * 8 + 1 * 3 * 3 * 6)),
    ("MHA-self", "MultiHeadAttention", {"num_heads": 12},
     [(2, 128, 768), (2, 128, 768), (2, 128, 768)], (),
     Cost(macs=2 * 12 * 128 * 128 * 64 * 2, flops=2 * 2 * 12 * 128 * 128 * 64 * 2
          + 4 * 2 * 12 * 128 * 128, connections=2 * 12 * 128 * 128 * 64 * 2)),
    ("MHA-cross-bias-past", "MultiHeadAttention", {"num_heads": 4},
     [(2, 3, 16), (2, 7, 16), (2, 7, 12), (44,), None, None, (2, 4, 5, 4), (2, 4, 5, 3)],
     (_, _, _, P),
     Cost(macs=2 * 4 * 3 * 12 * 4 + 2 * 4 * 3 * 12 * 3,
          flops=2 * (2 * 4 * 3 * 12 * 4 + 2 * 4 * 3 * 12 * 3) + (2 * 3 * 16 + 2 * 7 * 28)
          + 4 * 2 * 4 * 3 * 12,
          connections=2 * 4 * 3 * 12 * 4 + 2 * 4 * 3 * 12 * 3 + 2 * 3 * 16 + 2 * 7 * 28)),
    ("MHA-packed-qkv", "MultiHeadAttention", {"num_heads": 2}, [(2, 4, 2, 3, 8)], (),
     Cost(macs=2 * 2 * 4 * 4 * 8 * 2, flops=2 * 2 * 2 * 4 * 4 * 8 * 2 + 4 * 2 * 2 * 4 * 4,
          connections=2 * 2 * 4 * 4 * 8 * 2)),
    ("GQA-decode", "GroupQueryAttention", {"num_heads": 32, "kv_num_heads": 8, "do_rotary": 1},
     [(1, 1, 4096), (1, 1, 1024), (1, 1, 1024), (1, 8, 511, 128), (1, 8, 511, 128), (1,), (),
      (4096, 64), (4096, 64)], (),
     Cost(macs=2 * 1 * 32 * 1 * 512 * 128,
          flops=2 * 2 * 1 * 32 * 1 * 512 * 128 + 4 * 1 * 32 * 1 * 512
          + 3 * (1 * 1 * 32 * 128 + 1 * 1 * 8 * 128),
          connections=2 * 1 * 32 * 1 * 512 * 128)),
    ("GQA-packed-prompt", "GroupQueryAttention", {"num_heads": 6, "kv_num_heads": 2},
     [(1, 3, 80), None, None, None, None, (1,), ()], (),
     Cost(macs=2 * 1 * 6 * 3 * 3 * 8, flops=2 * 2 * 1 * 6 * 3 * 3 * 8 + 4 * 1 * 6 * 3 * 3,
          connections=2 * 1 * 6 * 3 * 3 * 8)),
    ("RotaryEmbedding-bsd", "RotaryEmbedding", {}, [(2, 4, 16), (2, 4), (8, 8), (8, 8)], (),
     Cost(flops=3 * 2 * 4 * 16)),
    ("RotaryEmbedding-partial", "RotaryEmbedding", {"num_heads": 2, "rotary_embedding_dim": 4},
     [(1, 3, 16), (1, 3), (6, 2), (6, 2)], (), Cost(flops=3 * 1 * 3 * 2 * 4)),
    # --- quantized linear ops
    ("QLinearConv-nchw", "QLinearConv", {},
     [(1, 3, 8, 8), (), (), (4, 3, 3, 3), (), (), (), (), (4,)], (_, _, _, P, _, _, _, _, P),
     Cost(macs=1 * 4 * 6 * 6 * 3 * 3 * 3, flops=2 * 1 * 4 * 6 * 6 * 27 + 1 * 4 * 6 * 6,
          connections=1 * 4 * 6 * 6 * 27 + 1 * 4 * 6 * 6)),
    ("QLinearConv-nhwc-groups", "QLinearConv", {"channels_last": 1, "group": 2},
     [(1, 7, 7, 4), (), (), (6, 2, 3, 3), (), (), (), ()], (_, _, _, P),
     Cost(macs=1 * 5 * 5 * 6 * 2 * 3 * 3, flops=2 * 1 * 5 * 5 * 6 * 18,
          connections=1 * 5 * 5 * 6 * 18)),
    ("QGemm-transB-bias", "QGemm", {"transB": 1},
     [(32, 128), (), (), (64, 128), (), (), (64,), (), ()], (_, _, _, P, _, _, P),
     Cost(macs=32 * 64 * 128, flops=2 * 32 * 64 * 128 + 32 * 64,
          connections=32 * 64 * 128 + 32 * 64)),
    ("DynamicQuantizeMatMul-bias", "DynamicQuantizeMatMul", {},
     [(2, 128, 768), (768, 3072), (), (), (3072,)], (_, P, _, _, P),
     Cost(macs=2 * 128 * 3072 * 768, flops=2 * 2 * 128 * 3072 * 768 + 2 * 128 * 3072,
          connections=2 * 128 * 3072 * 768 + 2 * 128 * 3072)),
    ("MatMulIntegerToFloat", "MatMulIntegerToFloat", {},
     [(2, 3, 8), (8, 6), (), (6,), None, None, None], (_, P),
     Cost(macs=2 * 3 * 6 * 8, flops=2 * 2 * 3 * 6 * 8, connections=2 * 3 * 6 * 8)),
    ("MatMulNBits-4bit-bias", "MatMulNBits", {"K": 4096, "N": 11008, "bits": 4,
                                              "block_size": 32},
     [(1, 7, 4096), (11008, 128, 16), (11008 * 128,), None, None, (11008,)],
     (_, P, _, _, _, P),
     Cost(macs=7 * 11008 * 4096, flops=2 * 7 * 11008 * 4096 + 7 * 11008,
          connections=7 * 11008 * 4096 + 7 * 11008)),
    ("DynamicQuantizeLSTM-bidir", "DynamicQuantizeLSTM",
     {"hidden_size": 5, "direction": "bidirectional"},
     [(4, 1, 6), (2, 6, 20), (2, 5, 20), (2, 40)], (_, P, P, P),
     Cost(macs=4 * 1 * 2 * 20 * (6 + 5), flops=2 * 4 * 2 * 20 * 11 + 4 * 2 * 20 + 2 * 4 * 2 * 20,
          connections=4 * 2 * 20 * 11 + 4 * 2 * 20)),
    ("QLinearAdd-bias", "QLinearAdd", {}, [(2, 3, 4), (), (), (4,), (), (), (), ()],
     (_, _, _, P), Cost(flops=2 * 3 * 4, connections=2 * 3 * 4)),
    ("QLinearAdd-activations", "QLinearAdd", {}, [(2, 3, 4), (), (), (2, 3, 4), (), (), (), ()],
     (), Cost(flops=2 * 3 * 4)),
    ("QLinearMul", "QLinearMul", {}, [(5, 1, 3), (), (), (1, 4, 1), (), (), (), ()], (),
     Cost(flops=5 * 4 * 3)),
    ("QLinearSigmoid", "QLinearSigmoid", {}, [(2, 3, 4), (), (), (), ()], (), Cost(flops=24)),
    ("QLinearLeakyRelu", "QLinearLeakyRelu", {"alpha": 0.1}, [(7,), (), None, (), None], (),
     Cost(flops=7)),
    ("QLinearSoftmax", "QLinearSoftmax", {"opset": 13}, [(2, 3, 5), (), (), (), ()], (),
     Cost(flops=3 * 2 * 3 * 5)),
    ("QLinearAveragePool", "QLinearAveragePool", {"kernel_shape": [2, 2], "strides": [2, 2],
                                                  "channels_last": 1},
     [(1, 8, 8, 3), (), (), (), ()], (),
     Cost(flops=1 * 4 * 4 * 3 * 2 * 2, connections=1 * 4 * 4 * 3 * 2 * 2)),
    ("QLinearGlobalAveragePool", "QLinearGlobalAveragePool", {},
     [(1, 3, 8, 8), (), (), (), ()], (), Cost(flops=3 * 8 * 8, connections=3 * 8 * 8)),
    ("QLinearConcat", "QLinearConcat", {"axis": 1},
     [(), (), (2, 3, 4), (), (), (2, 5, 4), (), ()], (), Cost()),
    ("QuantizeLinear", "QuantizeLinear", {}, [(2, 3, 4), (), ()], (), Cost(flops=2 * 24)),
    ("DequantizeLinear", "DequantizeLinear", {"axis": 1}, [(2, 3, 4), (3,), (3,)], (),
     Cost(flops=2 * 24)),
    # --- fused float ops
    ("FusedConv-relu-z", "FusedConv", {"activation": "Relu"},
     [(1, 2, 6, 6), (3, 2, 1, 1), (3,), (1, 3, 6, 6)], (_, P, P),
     Cost(macs=3 * 6 * 6 * 2, flops=2 * 3 * 36 * 2 + 3 * 36 + 3 * 36 + 3 * 36,
          connections=3 * 36 * 2 + 3 * 36)),
    ("FusedConv-no-activation", "FusedConv", {"strides": [2, 2], "pads": [1, 1, 1, 1]},
     [(1, 3, 8, 8), (4, 3, 3, 3)], (_, P),
     Cost(macs=4 * 4 * 4 * 27, flops=2 * 4 * 4 * 4 * 27, connections=4 * 4 * 4 * 27)),
    ("NhwcConv", "NhwcConv", {}, [(1, 8, 8, 3), (4, 3, 3, 3), (4,)], (_, P, P),
     Cost(macs=6 * 6 * 4 * 27, flops=2 * 6 * 6 * 4 * 27 + 6 * 6 * 4,
          connections=6 * 6 * 4 * 27 + 6 * 6 * 4)),
    ("FusedGemm-transA-relu", "FusedGemm", {"transA": 1, "activation": "Relu"},
     [(6, 3), (6, 7), (7,)], (_, P, P),
     Cost(macs=3 * 7 * 6, flops=2 * 3 * 7 * 6 + 3 * 7 + 3 * 7,
          connections=3 * 7 * 6 + 3 * 7)),
    ("FusedMatMul-transB-alpha", "FusedMatMul", {"transB": 1, "alpha": 0.125},
     [(2, 12, 128, 64), (2, 12, 128, 64)], (),
     Cost(macs=2 * 12 * 128 * 128 * 64, flops=2 * 2 * 12 * 128 * 128 * 64 + 2 * 12 * 128 * 128,
          connections=2 * 12 * 128 * 128 * 64)),
    ("FusedMatMul-transBatchA", "FusedMatMul", {"transBatchA": 1}, [(4, 2, 3), (2, 3, 5)], (),
     Cost(macs=2 * 4 * 5 * 3, flops=2 * 2 * 4 * 5 * 3, connections=2 * 4 * 5 * 3)),
    ("QAttention-int8-bert", "QAttention", {"num_heads": 12},
     [(2, 128, 768), (768, 2304), (2304,), (), (), (2,), (), ()], (_, P, P),
     Cost(macs=2 * 128 * 768 * 2304 + 2 * 2 * 128 * 128 * 768,
          flops=2 * (2 * 128 * 768 * 2304 + 2 * 2 * 128 * 128 * 768) + 2 * 128 * 2304
          + 5 * 2 * 12 * 128 * 128,
          connections=2 * 128 * 768 * 2304 + 2 * 2 * 128 * 128 * 768 + 2 * 128 * 2304)),
    ("QAttention-past", "QAttention", {"num_heads": 4},
     [(2, 1, 16), (16, 48), (48,), (), (), None, (), (), (2, 2, 4, 3, 4)], (_, P, P),
     Cost(macs=2 * 1 * 16 * 48 + 2 * 2 * 1 * 4 * 16,
          flops=2 * (2 * 1 * 16 * 48 + 2 * 2 * 1 * 4 * 16) + 2 * 1 * 48 + 4 * 2 * 4 * 1 * 4,
          connections=2 * 1 * 16 * 48 + 2 * 2 * 1 * 4 * 16 + 2 * 1 * 48)),
    ("GemmFastGelu", "GemmFastGelu", {}, [(2, 128, 768), (768, 3072), (3072,)], (_, P, P),
     Cost(macs=2 * 128 * 3072 * 768, flops=2 * 2 * 128 * 3072 * 768 + 2 * 2 * 128 * 3072,
          connections=2 * 128 * 3072 * 768 + 2 * 128 * 3072)),
    ("GroupNorm-silu", "GroupNorm", {"groups": 32, "activation": 1},
     [(2, 64, 64, 320), (320,), (320,)], (_, P, P),
     Cost(flops=6 * 2 * 64 * 64 * 320, connections=2 * 64 * 64 * 320)),
    ("SkipGroupNorm", "SkipGroupNorm", {"groups": 32, "activation": 0},
     [(2, 8, 8, 64), (64,), (64,), (2, 8, 8, 64), (64,)], (_, P, P, _, P),
     Cost(flops=(5 + 2) * 2 * 8 * 8 * 64, connections=2 * (2 * 8 * 8 * 64))),
    ("QLinearReduceMean", "QLinearReduceMean", {"axes": [2, 3], "keepdims": 0},
     [(2, 3, 4, 5), (), (), (), ()], (), Cost(flops=2 * 3 * 4 * 5, connections=2 * 3 * 4 * 5)),
    ("QLinearWhere", "QLinearWhere", {}, [(3, 1), (1, 4), (), (), (4,), (), (), (), ()], (),
     Cost()),
    # --- norms and activations
    ("SkipLayerNormalization", "SkipLayerNormalization", {},
     [(2, 128, 768), (2, 128, 768), (768,), (768,), (768,)], (_, _, P, P, P),
     Cost(flops=2 * 128 * 768 * (2 + 5), connections=2 * 128 * 768 + 2 * 128 * 768)),
    ("SkipLayerNormalization-no-beta-bias", "SkipLayerNormalization", {},
     [(2, 3, 8), (2, 3, 8), (8,)], (_, _, P), Cost(flops=2 * 3 * 8 * (1 + 5))),
    ("SkipSimplifiedLayerNormalization", "SkipSimplifiedLayerNormalization", {},
     [(1, 7, 4096), (1, 7, 4096), (4096,), (4096,)], (_, _, P, P),
     Cost(flops=7 * 4096 * (2 + 4), connections=7 * 4096)),
    ("EmbedLayerNormalization", "EmbedLayerNormalization", {},
     [(2, 128), (2, 128), (30522, 768), (512, 768), (2, 768), (768,), (768,), (2, 128)],
     (_, _, P, P, P, P, P),
     Cost(flops=2 * 128 * 768 * 2 + 5 * 2 * 128 * 768 + 2 * 128,
          connections=2 * 128 * 768)),
    ("QEmbedLayerNormalization", "QEmbedLayerNormalization", {},
     [(2, 128), (2, 128), (30522, 768), (512, 768), (2, 768), (768,), (768,), (2, 128)],
     (_, _, P, P, P, P, P),
     Cost(flops=2 * 128 * 768 * 2 + 5 * 2 * 128 * 768 + 2 * 128,
          connections=2 * 128 * 768)),
    ("BiasGelu", "BiasGelu", {}, [(2, 128, 3072), (3072,)], (_, P),
     Cost(flops=2 * 2 * 128 * 3072, connections=2 * 128 * 3072)),
    ("FastGelu-bias", "FastGelu", {}, [(2, 128, 3072), (3072,)], (_, P),
     Cost(flops=2 * 2 * 128 * 3072, connections=2 * 128 * 3072)),
    ("FastGelu", "FastGelu", {}, [(2, 128, 3072)], (), Cost(flops=2 * 128 * 3072)),
    ("Gelu", "Gelu", {}, [(2, 3, 8)], (), Cost(flops=48)),
    ("QuickGelu", "QuickGelu", {"alpha": 1.702}, [(2, 3, 8)], (), Cost(flops=48)),
    ("BiasAdd", "BiasAdd", {}, [(2, 4096, 320), (320,), (2, 4096, 320)], (_, P),
     Cost(flops=2 * 2 * 4096 * 320, connections=2 * 4096 * 320)),
    ("BiasSplitGelu", "BiasSplitGelu", {}, [(2, 4096, 2560), (2560,)], (_, P),
     Cost(flops=2 * 4096 * 2560 + 2 * 2 * 4096 * 1280, connections=2 * 4096 * 2560)),
]

COSTS_DEFAULT = [
    ("SimplifiedLayerNormalization", "SimplifiedLayerNormalization", {"axis": -1},
     [(1, 7, 4096), (4096,)], (_, P), Cost(flops=4 * 7 * 4096)),
]


@pytest.mark.parametrize("op, attrs, inputs, params, want", [c[1:] for c in COSTS],
                         ids=[c[0] for c in COSTS])
def test_cost(op, attrs, inputs, params, want):
    assert cost_of(op, attrs, inputs, params) == want


@pytest.mark.parametrize("op, attrs, inputs, params, want", [c[1:] for c in COSTS_DEFAULT],
                         ids=[c[0] for c in COSTS_DEFAULT])
def test_cost_default_domain(op, attrs, inputs, params, want):
    assert cost_of(op, attrs, inputs, params, domain="") == want


def test_costs_cover_every_op():
    assert {c[1] for c in COSTS} == set(MS_OPS)


def test_cost_raises_unknown_shape_on_symbols():
    n = node("Attention", 3, 2, num_heads=2)
    v = NodeView(n, (("B", 3, 8), (8, 24), (24,)), ((None, 3, 8), None))
    with pytest.raises(UnknownShape):
        MS_OPS["Attention"].cost(v)


def test_counts_are_python_ints():
    got = cost_of("MatMulNBits", {"K": 64, "N": 8, "block_size": 16},
                  [(1, 64), (8, 4, 8), (32,)], (_, P))
    assert all(type(x) is int for x in (got.macs, got.flops, got.connections))


def test_conv_weight_contradicting_channels_is_invalid():
    with pytest.raises(ValueError):
        cost_of("QLinearConv", {"channels_last": 1},
                [(1, 3, 7, 7), (), (), (5, 3, 3, 3), (), (), (), ()], (_, _, _, P))


# ----------------------------------------------------------------------------------------
# The tables


def test_tables_match():
    assert set(MS_OPS) == REQUIRED | EXTRA
    assert all(entry.shape is not None for entry in MS_OPS.values())
    assert all(REGISTRY[("", op)].shape is not None for op in REQUIRED_DEFAULT)


def test_entries_are_registry_entries():
    for op, entry in {**MS_OPS, "SimplifiedLayerNormalization":
                      REGISTRY[("", "SimplifiedLayerNormalization")]}.items():
        assert isinstance(entry, Op), op
        assert not set(entry.params) & entry.fixed, op
        assert callable(entry.cost), op


def test_scales_and_zero_points_are_fixed_weights_are_params():
    assert MS_OPS["QLinearConv"].params == {3: base.TRAINABLE, 8: base.TRAINABLE}
    assert MS_OPS["QLinearConv"].fixed == frozenset({1, 2, 4, 5, 6, 7})
    assert set(MS_OPS["MatMulNBits"].params) == {1, 5} and MS_OPS["MatMulNBits"].fixed == {2, 3, 4}
    assert MS_OPS["RotaryEmbedding"].fixed == {1, 2, 3}  # cos/sin caches are tables
    assert set(MS_OPS["GroupQueryAttention"].fixed) >= {7, 8}


def test_a_fused_matmul_with_a_stored_first_operand_counts_it_as_a_parameter(tmp_path):
    """FusedMatMul(W, x) with W (4, 8) stored and x (8, 3) given: W's 32 values are the
    parameters (either operand may be the weight), 4*8*3 MACs."""
    from .helpers import model, summarize, weight

    n = helper.make_node("FusedMatMul", ["w", "x"], ["y"], domain=MS, alpha=1.0)
    m = model([n], {"x": [8, 3]}, {"y": [4, 3]}, [weight("w", 4, 8)],
              extra_opsets=[helper.make_opsetid(MS, 1)])
    s = summarize(tmp_path, m)
    assert (s.totals.params, s.totals.macs) == (32, 4 * 8 * 3)
