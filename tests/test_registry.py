"""Every op of onnx's standard domains has a registry entry; what the new families cost, as
arithmetic; and RAFT (GridSample) counted exactly against onnxruntime's shapes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from sphinx_cnncount.count import count
from sphinx_cnncount.load import load
from sphinx_cnncount.ops import REGISTRY, Role, lookup

from .helpers import ints, model, summarize, weight

mk = helper.make_node
DATA = Path(__file__).resolve().parent / "data"

# onnx's standard domains, the preview and training ones included: a handful of ops, and a
# model that uses them should count like any other.
STANDARD = ("", "ai.onnx.ml", "ai.onnx.preview", "ai.onnx.preview.training")


def schemas():
    return [s for s in onnx.defs.get_all_schemas_with_history() if s.domain in STANDARD]


def test_every_op_of_every_standard_opset_has_an_entry():
    names = {(s.domain, s.name) for s in schemas()}
    assert len(names) > 200
    missing = sorted(name for name in names if lookup(*name) is None)
    assert missing == []


def test_every_op_version_onnx_cannot_infer_has_a_shape_rule():
    """Where onnx's schema has no inference function (early opsets, some function ops, the
    ai.onnx.ml estimators), the counter's own rule gives the shapes."""
    blind = sorted({(s.domain, s.name) for s in schemas()
                    if not s.has_type_and_shape_inference_function})
    assert blind  # the test means something
    assert [name for name in blind if lookup(*name).shape is None] == []


def test_only_products_have_macs():
    """MACs are the multiply-accumulates of products (with learnt weights, or attention's):
    every other standard op's cost is FLOPs at most, so it never leaves the MACs unknown."""
    with_macs = {op for (domain, op), e in REGISTRY.items()
                 if domain in STANDARD and "macs" in e.metrics}
    assert with_macs == {
        "Conv", "ConvTranspose", "ConvInteger", "QLinearConv", "DeformConv",
        "CausalConvWithState", "Gemm", "MatMul", "MatMulInteger", "QLinearMatMul", "Einsum",
        "LSTM", "GRU", "RNN", "Attention", "LinearAttention", "FlexAttention", "LinearClassifier",
        "LinearRegressor", "SVMClassifier", "SVMRegressor", "Gradient"}
    products = {op for (domain, op), e in REGISTRY.items()
                if domain in STANDARD and e.role is Role.LINEAR}
    assert products <= with_macs


def test_an_op_without_macs_never_makes_the_macs_total_partial(tmp_path):
    """ImageDecoder's output size is the image's (unknown here): its FLOPs are unknown, the
    MACs of the model are still exact."""
    nodes = [mk("ImageDecoder", ["jpeg"], ["pixels"], name="decode"),
             mk("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3], name="conv")]
    g = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("jpeg", TensorProto.UINT8, [100]),
                     helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 5, 5])],
        [helper.make_tensor_value_info("pixels", TensorProto.UINT8, None),
         helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [weight("w", 2, 1, 3, 3)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 20)])
    s = summarize(tmp_path, m)
    assert s.totals.macs == 2 * 3 * 3 * 3 * 3  # the conv's: 2 maps of 3x3, 9 MACs each
    assert s.layer("decode").macs == 0
    assert s.layer("decode").flops is None and s.totals.flops is None
    assert s.status == "partial"


@pytest.mark.parametrize("stem", ["raft_small.dynamo", "raft_small.torchscript", "warp.dynamo",
                                  "warp.torchscript"])
def test_gridsample_networks_count_exactly(stem):
    """RAFT's 48 GridSample nodes cost no MACs: the total is onnxruntime's, to the unit (the
    dynamo export's frozen first convflow2, a Conv on a constant, runs and counts)."""
    oracle = json.loads((DATA / "gridsample" / f"{stem}.json").read_text())
    s = count(load(DATA / "gridsample" / f"{stem}.onnx"))
    assert s.status == "complete"
    assert s.totals.macs == oracle["macs_from_ort_shapes"]
    assert s.totals.macs == {"raft_small.dynamo": 2_851_012_608,
                             "raft_small.torchscript": 2_852_618_240}.get(stem, 48_384)


def one(tmp_path, node, inputs, inits=(), opset=22, outputs=None, domains=()):
    m = model([node], inputs, outputs or list(node.output[:1]), inits, opset=opset,
              extra_opsets=[helper.make_opsetid(d, 1) for d in domains])
    return summarize(tmp_path, m)


def test_gridsample_flops_per_tap(tmp_path):
    grid = mk("GridSample", ["x", "grid"], ["y"], mode="linear")
    s = one(tmp_path, grid, {"x": [1, 3, 8, 8], "grid": [1, 4, 5, 2]})
    assert s.tensors["y"] == (1, 3, 4, 5)
    assert (s.totals.macs, s.totals.flops) == (0, 3 * 4 * 5 * 4)  # 4 taps in 2-D
    cubic = mk("GridSample", ["x", "grid"], ["y"], mode="cubic")
    assert one(tmp_path, cubic, {"x": [1, 3, 8, 8], "grid": [1, 4, 5, 2]}).totals.flops == \
        3 * 4 * 5 * 16


def test_deform_conv_is_a_conv_plus_its_sampling(tmp_path):
    node = mk("DeformConv", ["x", "w", "offset", "b"], ["y"], kernel_shape=[3, 3])
    s = one(tmp_path, node, {"x": [1, 2, 6, 6], "offset": [1, 18, 4, 4]},
            [weight("w", 4, 2, 3, 3), weight("b", 4)])
    units = 4 * 4 * 4  # 4 maps of 4x4
    assert s.tensors["y"] == (1, 4, 4, 4)
    assert s.totals.params == 4 * 2 * 3 * 3 + 4
    assert s.totals.macs == units * 2 * 3 * 3
    samples = 2 * 3 * 3 * 4 * 4  # every input channel at every kernel tap, per output position
    assert s.totals.flops == 2 * units * 2 * 3 * 3 + units + 7 * samples


def test_col2im_adds_every_column_value(tmp_path):
    node = mk("Col2Im", ["x", "image", "block"], ["y"])
    s = one(tmp_path, node, {"x": [1, 2 * 2 * 2, 9]}, [ints("image", [4, 4]), ints("block", [2, 2])])
    assert s.tensors["y"] == (1, 2, 4, 4)
    assert (s.totals.macs, s.totals.flops) == (0, 8 * 9)


def test_dft_and_stft_cost_an_fft(tmp_path):
    dft = mk("DFT", ["x", "", "axis"], ["y"])
    axis = onnx.numpy_helper.from_array(np.array(1, dtype=np.int64), "axis")  # a scalar
    s = one(tmp_path, dft, {"x": [2, 16, 1]}, [axis], opset=20)
    assert s.tensors["y"] == (2, 16, 2)
    assert (s.totals.macs, s.totals.flops) == (0, 2 * 5 * 16 * 4)  # two FFTs of 16: 5 n log2 n
    stft = mk("STFT", ["signal", "step", "window"], ["y"])
    s = one(tmp_path, stft, {"signal": [1, 64, 1]}, [ints("step", [8]), weight("window", 16)],
            opset=17)
    assert s.tensors["y"] == (1, 7, 16, 2)  # (64 - 16) / 8 + 1 frames
    assert s.totals.flops == 7 * (16 + 5 * 16 * 4)
    assert s.totals.params == 0  # the window is a setting


def test_onnx_attention_has_the_products_of_its_scores(tmp_path):
    node = mk("Attention", ["q", "k", "v"], ["y"])
    s = one(tmp_path, node, {"q": [1, 2, 5, 8], "k": [1, 2, 7, 8], "v": [1, 2, 7, 4]}, opset=23)
    scores = 1 * 2 * 5 * 7
    assert s.tensors["y"] == (1, 2, 5, 4)
    assert s.totals.macs == scores * 8 + scores * 4  # Q.K^T, then attn.V
    assert s.totals.flops == 2 * s.totals.macs + 4 * scores


def test_mean_variance_normalization_has_a_shape_rule(tmp_path):
    """onnx's schema has no inference function for it: the counter's rule gives the shape."""
    s = one(tmp_path, mk("MeanVarianceNormalization", ["x"], ["y"]), {"x": [1, 3, 4, 4]},
            opset=13)
    assert s.tensors["y"] == (1, 3, 4, 4)
    assert (s.totals.macs, s.totals.flops, s.status) == (0, 5 * 48, "complete")


def test_rms_normalization_scale_is_a_parameter(tmp_path):
    s = one(tmp_path, mk("RMSNormalization", ["x", "g"], ["y"], axis=-1), {"x": [1, 5, 8]},
            [weight("g", 8)], opset=23)
    assert (s.totals.params, s.totals.flops, s.totals.macs) == (8, 4 * 40, 0)


def test_svm_kernel_products_are_macs(tmp_path):
    node = mk("SVMClassifier", ["x"], ["label", "scores"], domain="ai.onnx.ml",
              classlabels_ints=[0, 1], support_vectors=[0.0] * (3 * 4), vectors_per_class=[1, 2],
              coefficients=[0.0] * 3, rho=[0.0], kernel_type="RBF")
    m = model([node], {"x": [5, 4]}, ["scores"], opset=17,
              extra_opsets=[helper.make_opsetid("ai.onnx.ml", 3)])
    s = summarize(tmp_path, m)
    assert s.totals.macs == 5 * (3 * 4 + 3)  # per row: 3 support vectors of 4, 3 coefficients
    assert s.totals.params == 3 * 4 + 3 + 1


def test_tree_ensemble_regressor_shape_and_longest_paths(tmp_path):
    """Tree 0: a root and two leaves (depth 1); tree 1: a root, an inner node, three leaves
    (depth 2): 3 comparisons per row at most, and one add per tree per target."""
    node = mk("TreeEnsembleRegressor", ["x"], ["y"], domain="ai.onnx.ml", n_targets=1,
              nodes_treeids=[0, 0, 0, 1, 1, 1, 1, 1], nodes_nodeids=[0, 1, 2, 0, 1, 2, 3, 4],
              nodes_modes=["BRANCH_LEQ", "LEAF", "LEAF", "BRANCH_LEQ", "BRANCH_LEQ", "LEAF",
                           "LEAF", "LEAF"],
              nodes_featureids=[0] * 8, nodes_values=[0.5] * 8,
              nodes_truenodeids=[1, 0, 0, 1, 3, 0, 0, 0], nodes_falsenodeids=[2, 0, 0, 2, 4, 0, 0, 0],
              target_treeids=[0, 0, 1, 1, 1], target_nodeids=[1, 2, 2, 3, 4],
              target_ids=[0] * 5, target_weights=[1.0] * 5)
    m = model([node], {"x": [6, 2]}, ["y"], opset=17,
              extra_opsets=[helper.make_opsetid("ai.onnx.ml", 3)])
    s = summarize(tmp_path, m)
    assert s.tensors["y"] == (6, 1)
    assert (s.totals.macs, s.totals.flops) == (0, 6 * ((1 + 2) + 2 * 1))
    assert s.totals.params == 8 + 5  # the thresholds and the leaves' weights


def test_an_opset_1_add_with_legacy_broadcast_has_a_shape(tmp_path):
    node = mk("Add", ["x", "b"], ["y"], broadcast=1, axis=1)
    s = one(tmp_path, node, {"x": [1, 3, 4, 4], "b": [3]}, opset=1)
    assert s.tensors["y"] == (1, 3, 4, 4)
    assert s.totals.flops == 48


def test_gradient_is_said_to_be_uncountable(tmp_path):
    node = mk("Gradient", ["x"], ["dx"], domain="ai.onnx.preview.training", xs=["x"], y="x")
    m = model([node], {"x": [2, 3]}, ["dx"], opset=17,
              extra_opsets=[helper.make_opsetid("ai.onnx.preview.training", 1)])
    s = summarize(tmp_path, m)
    assert s.tensors["dx"] == (2, 3)
    assert s.totals.macs is None
    assert s.incomplete == ("1 node cannot be costed from the file: Gradient 'Gradient_0': a "
                            "Gradient costs the backward pass of the nodes it differentiates, "
                            "which the node does not say; its cost is unknown",)
    assert not [d for d in s.diagnostics if d.kind == "unsupported-op"]


def test_deform_conv_offsets_and_mask_held_as_constants_are_not_parameters(tmp_path):
    """Offsets (input 2) and a mask (input 4) stored in the file are settings of the sampling,
    not learned weights; the mask costs one more FLOP per sampled value."""
    node = mk("DeformConv", ["x", "w", "offset", "b", "mask"], ["y"], kernel_shape=[3, 3])
    s = one(tmp_path, node, {"x": [1, 2, 6, 6]},
            [weight("w", 4, 2, 3, 3), weight("offset", 1, 18, 4, 4), weight("b", 4),
             weight("mask", 1, 9, 4, 4)])
    assert s.totals.params == 4 * 2 * 3 * 3 + 4
    units, samples = 4 * 4 * 4, 2 * 3 * 3 * 4 * 4
    assert s.totals.flops == 2 * units * 2 * 3 * 3 + units + 8 * samples


@pytest.mark.parametrize("rule, state_macs, decay", [
    ("linear", 1, 0), ("gated", 1, 1), ("delta", 2, 0), ("gated_delta", 2, 1),
    (None, 2, 1)])  # the schema's default: gated_delta
def test_linear_attention_costs_its_state_updates_and_reads(tmp_path, rule, state_macs, decay):
    """B=1, T=5 tokens, 4 query heads and 2 KV heads of dk=8, dv=6: per token each KV head's
    8x6 state is updated (a delta rule also reads it: twice) and each query head reads one."""
    node = mk("LinearAttention", ["q", "k", "v"], ["y", "state"], q_num_heads=4, kv_num_heads=2,
              **({"update_rule": rule} if rule else {}))
    s = one(tmp_path, node, {"q": [1, 5, 32], "k": [1, 5, 16], "v": [1, 5, 12]}, opset=27)
    state = 2 * 8 * 6
    macs = 5 * (state * state_macs + 4 * 8 * 6)
    assert (s.totals.macs, s.totals.flops) == (macs, 2 * macs + decay * 5 * state)


def test_flex_attention_has_the_products_of_its_scores(tmp_path):
    node = mk("FlexAttention", ["q", "k", "v"], ["y"], domain="ai.onnx.preview")
    s = one(tmp_path, node, {"q": [2, 3, 5, 8], "k": [2, 3, 7, 8], "v": [2, 3, 7, 4]},
            domains=["ai.onnx.preview"])
    scores = 2 * 3 * 5 * 7
    assert s.totals.macs == scores * (8 + 4)
    assert s.totals.flops == 2 * scores * 12 + 4 * scores


def test_affine_grid_costs_a_row_of_theta_per_coordinate(tmp_path):
    """grid (N, H, W, 2): each of its N*H*W*2 coordinates is a row of theta (2x3) times
    (x, y, 1): 3 multiplies and 2 adds, counted as 2*(2+1) FLOPs."""
    node = mk("AffineGrid", ["theta", "size"], ["grid"])
    m = model([node], {"theta": [2, 2, 3]}, ["grid"], [ints("size", [2, 3, 5, 7])], opset=20)
    s = summarize(tmp_path, m)
    assert s.tensors["grid"] == (2, 5, 7, 2)
    assert (s.totals.macs, s.totals.flops) == (0, 6 * 2 * 5 * 7 * 2)


@pytest.mark.parametrize("activation, act", [(None, 0), ("silu", 1)])
def test_causal_conv_with_state_is_a_depthwise_conv(tmp_path, activation, act):
    """input (B, C, T) = (2, 4, 9), weight (C, 1, k) = (4, 1, 3), bias: k MACs per output unit,
    the bias add, one FLOP for the fused activation."""
    node = mk("CausalConvWithState", ["x", "w", "b"], ["y", "state"],
              **({"activation": activation} if activation else {}))
    s = one(tmp_path, node, {"x": [2, 4, 9]}, [weight("w", 4, 1, 3), weight("b", 4)], opset=27)
    units = 2 * 4 * 9
    assert s.totals.params == 4 * 3 + 4
    assert s.totals.macs == units * 3
    assert s.totals.flops == 2 * units * 3 + units + act * units
    # backward: the weight's gradient, as many MACs as the forward (x needs none)
    assert s.totals.training_macs == 2 * units * 3
    plain = one(tmp_path, mk("CausalConvWithState", ["x", "w"], ["y", "state"]), {"x": [2, 4, 9]},
                [weight("w", 4, 1, 3)], opset=27)
    assert (plain.totals.params, plain.totals.training_macs) == (4 * 3, 2 * units * 3)


def test_qlinear_conv_per_channel_scales_are_no_parameters(tmp_path):
    """QLinearConv with per-channel weight scales and zero points (4 output channels): the
    int8 weight and the int32 bias are the parameters; the scales and zero points (inputs 1,
    2, 4, 5, 6, 7) are the quantization's."""
    import numpy as np
    from onnx import TensorProto, numpy_helper

    arr = numpy_helper.from_array
    node = mk("QLinearConv", ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"], ["y"],
              kernel_shape=[3, 3])
    inits = [arr(np.array(0.1, np.float32), "xs"), arr(np.array(0, np.uint8), "xz"),
             arr(np.ones((4, 2, 3, 3), np.int8), "w"), arr(np.full(4, 0.2, np.float32), "ws"),
             arr(np.zeros(4, np.int8), "wz"), arr(np.array(0.3, np.float32), "ys"),
             arr(np.array(0, np.uint8), "yz"), arr(np.ones(4, np.int32), "b")]
    m = model([node], {}, ["y"], inits)
    m.graph.input.append(helper.make_tensor_value_info("x", TensorProto.UINT8, [1, 2, 6, 6]))
    s = summarize(tmp_path, m)
    assert s.totals.params == 4 * 2 * 3 * 3 + 4
    assert s.totals.macs == 4 * 4 * 4 * 2 * 3 * 3
