"""The architecture rules on small onnx.helper models and on the two examples."""

from __future__ import annotations

import json

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from sphinx_cnncount.count import count
from sphinx_cnncount.graph import build
from sphinx_cnncount.lint.rules import CHECKS, Context, Rule, Severity, run_checks
from sphinx_cnncount.ops.window import kernel_of, node_attr, window_axes
from sphinx_cnncount.load import load

from .conftest import EXAMPLES
from .helpers import model, weight


def lint(tmp_path: Path, m: onnx.ModelProto, thresholds: dict | None = None, **kw):
    path = tmp_path / "m.onnx"
    onnx.save(m, path)
    loaded = load(path, **kw)
    g = build(loaded.path, loaded.model.graph)
    ctx = Context(str(path), loaded, g, count(loaded, 1, g), thresholds or {"param-share": 0.5})
    return run_checks(ctx)


def lint_example(name: str):
    path = str(EXAMPLES / name)
    loaded = load(path)
    g = build(path, loaded.model.graph)
    return run_checks(Context(path, loaded, g, count(loaded, 1, g)))


def codes(findings, *only: Rule):
    return [(f.code, f.layer) for f in findings if not only or f.rule in only]


# ---------------------------------------------------------------------------------------------
# The rule table


def test_rule_table_is_one_source_of_truth():
    rules = list(Rule)
    assert len({r.code for r in rules}) == len(rules)
    assert len({r.kebab for r in rules}) == len(rules)
    for r in rules:
        assert r.code.startswith("CNC") and len(r.code) == 6
        assert r.kebab == r.kebab.lower() and " " not in r.kebab
        assert isinstance(r.severity, Severity)
        assert r.summary
    assert Rule.lookup("CNC101") == [Rule.FLOOR_DROP]
    assert Rule.lookup("floor-drop") == [Rule.FLOOR_DROP]
    assert set(Rule.lookup("CNC0")) == {Rule.ANALYSIS_ERROR, Rule.DECLARED_MISMATCH,
                                        Rule.UNKNOWN_LAYER, Rule.BAD_DECLARATION,
                                        Rule.UNCHECKED_DECLARATION}
    assert Rule.lookup("ALL") == rules
    with pytest.raises(ValueError, match="unknown rule"):
        Rule.lookup("CNC999")


def test_every_check_has_a_one_line_docstring():
    for check in CHECKS:
        assert check.__doc__ and check.__doc__.strip()


# ---------------------------------------------------------------------------------------------
# The window arithmetic: dropped input rows per axis, written as the article would.


def axis(size, k, s=1, pads=(0, 0), dilation=1, auto_pad=None, ceil_mode=0, op="MaxPool"):
    attrs = dict(kernel_shape=[k], strides=[s], dilations=[dilation])
    if op == "MaxPool":
        attrs["ceil_mode"] = ceil_mode
    if auto_pad:
        attrs["auto_pad"] = auto_pad
    else:
        attrs["pads"] = list(pads)
    node = helper.make_node(op, ["x"], ["y"], **attrs)
    attr = node_attr(node)
    (a,) = window_axes(attr, (size,), kernel_of(attr, None, 1), pooling=op == "MaxPool")
    return a


@pytest.mark.parametrize("size, k, s, kw, out, dropped", [
    (11, 2, 2, {}, (11 - 2) // 2 + 1, (11 - 2) % 2),  # the Keras CNN: 11 -> 5, row 10 lost
    (3, 2, 2, {}, (3 - 2) // 2 + 1, (3 - 2) % 2),  # 3 -> 1: a third of the rows
    (28, 2, 2, {}, 14, 0),  # LeNet S2
    (32, 5, 1, {}, 28, 0),  # stride 1 never drops
    (13, 4, 4, {}, 3, (13 - 4) % 4),  # 13 -> 3, the last row lost
    (12, 4, 4, {"pads": (0, 1)}, 3, 0),  # the one uncovered position is padding
    (224, 7, 2, {"pads": (3, 3)}, 112, 0),  # resnet conv1: padding absorbs the remainder
    (224, 7, 2, {}, 109, (224 - 7) % 2),  # squeezenet1_0 conv1 loses row 223
    (56, 1, 2, {}, 28, 0),  # a 1x1 stride-2 shortcut skips odd rows by design, not by the floor
    (7, 2, 3, {}, 2, 1),  # windows 0-1, 3-4; a third would start at row 6
    (8, 3, 2, {"dilation": 2}, 2, (8 - (2 * (3 - 1) + 1)) % 2),  # effective kernel 5
    (7, 3, 2, {"dilation": 2}, 2, 0),
    (11, 2, 2, {"auto_pad": "SAME_UPPER"}, 6, 0),  # SAME pads to cover the input
    (11, 2, 2, {"auto_pad": "SAME_LOWER"}, 6, 0),
    (11, 2, 2, {"ceil_mode": 1}, 6, 0),  # ceil mode adds a partial window
    (11, 2, 2, {"auto_pad": "VALID"}, 5, 1),
])
def test_window_axis(size, k, s, kw, out, dropped):
    a = axis(size, k, s, **kw)
    assert (a.out, a.dropped) == (out, dropped)


def test_conv_kernel_from_weight_shape():
    node = helper.make_node("Conv", ["x", "w"], ["y"], strides=[2, 2])
    attr = node_attr(node)
    axes = window_axes(attr, (11, 12), kernel_of(attr, (8, 3, 2, 2), 2))
    assert [(a.kernel, a.out, a.dropped) for a in axes] == [(2, 5, 1), (2, 6, 0)]


# ---------------------------------------------------------------------------------------------
# CNC101 floor-drop, CNC102 window-too-large


def pool_model(size, k, s, **attrs):
    node = helper.make_node("MaxPool", ["x"], ["y"], name="pool", kernel_shape=[k, k],
                            strides=[s, s], **attrs)
    return model([node], {"x": [1, 2, size, size]}, ["y"])


def test_floor_drop_names_layer_node_and_rows(tmp_path):
    (f,) = lint(tmp_path, pool_model(5, 2, 2))
    assert (f.code, f.rule.kebab, f.level, f.node) == ("CNC101", "floor-drop", Severity.WARNING,
                                                      "pool")
    assert f.message == ("pool: MaxPool 'pool' (2x2, stride 2) maps 5x5 -> 2x2 and never reads "
                         "the last row and column of its input (1 of 5 rows, 1 of 5 columns; "
                         f"{5 * 5 - 4 * 4} of 25 units per map)")


def test_floor_drop_counts_several_rows(tmp_path):
    node = helper.make_node("AveragePool", ["x"], ["y"], name="p", kernel_shape=[3, 3],
                            strides=[4, 4])
    (f,) = lint(tmp_path, model([node], {"x": [1, 1, 14, 12]}, ["y"]))
    # rows: windows at 0, 4, 8 end at row 10; rows 12-13 would start a fourth -> 2 lost
    # columns: windows at 0, 4, 8 end at column 10; column 11 is the stride's own gap -> none
    assert "the last 2 rows of its input (2 of 14 rows;" in f.message
    assert f"{14 * 12 - 12 * 12} of 168 units" in f.message


@pytest.mark.parametrize("attrs", [
    dict(kernel_shape=[2, 2], strides=[2, 2]),  # tiles 6x6 exactly
    dict(kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
    dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
    dict(kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER"),
])
def test_no_floor_drop(tmp_path, attrs):
    node = helper.make_node("MaxPool", ["x"], ["y"], name="pool", **attrs)
    assert lint(tmp_path, model([node], {"x": [1, 1, 6, 6]}, ["y"])) == []


def test_window_too_large_is_an_error_and_not_a_floor_drop(tmp_path, capsys):
    """Found while loading (the model has no shapes to count), said as CNC102 with what fits."""
    from sphinx_cnncount.cli import main

    onnx.save(pool_model(3, 5, 2), tmp_path / "m.onnx")
    assert main(["lint", str(tmp_path / "m.onnx"), "--isolated", "--format", "json"]) == 1
    (f,) = json.loads(capsys.readouterr().out)
    assert (f["code"], f["severity"], f["node"]) == ("CNC102", "error", "pool")
    assert f["message"] == ("MaxPool 'pool' (5x5, stride 2) is larger than its padded input 3x3: "
                            "output [1, 2, 0, 0]; the smallest input that fits is --input-shape "
                            "x=1x2x5x5")


def test_conv_floor_drop(tmp_path):
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], name="/conv1/Conv",
                            kernel_shape=[3, 3], strides=[2, 2])
    m = model([node], {"x": [1, 1, 8, 8]}, ["y"], [weight("w", 4, 1, 3, 3), weight("b", 4)])
    assert codes(lint(tmp_path, m)) == [("CNC101", "conv1")]


# ---------------------------------------------------------------------------------------------
# CNC103 bias-before-norm


def conv_bn(with_bias: bool, between: str | None = None):
    conv_in = ["x", "w", "b"] if with_bias else ["x", "w"]
    nodes = [helper.make_node("Conv", conv_in, ["c"], name="/block/conv/Conv",
                              kernel_shape=[1, 1])]
    t = "c"
    if between:
        nodes.append(helper.make_node(between, ["c"], ["r"], name="/block/act"))
        t = "r"
    nodes.append(helper.make_node("BatchNormalization", [t, "s", "bb", "m", "v"], ["y"],
                                  name="/block/bn/BatchNormalization"))
    inits = [weight("w", 4, 2, 1, 1), weight("s", 4), weight("bb", 4), weight("m", 4),
             weight("v", 4)] + ([weight("b", 4)] if with_bias else [])
    return model(nodes, {"x": [1, 2, 4, 4]}, ["y"], inits)


def test_bias_before_norm(tmp_path):
    (f,) = [f for f in lint(tmp_path, conv_bn(True)) if f.rule is not Rule.PARAM_SHARE]
    # TorchScript names: the depth-1 module is the layer ("block"), as torch names it
    assert (f.code, f.layer, f.node) == ("CNC103", "block", "/block/conv/Conv")
    assert f.message == ("block: Conv '/block/conv/Conv' adds a bias (4 params) that "
                         "BatchNormalization '/block/bn/BatchNormalization' subtracts again; "
                         "drop the bias (bias=False)")


@pytest.mark.parametrize("with_bias, between", [(False, None), (True, "Relu")])
def test_no_bias_before_norm(tmp_path, with_bias, between):
    assert codes(lint(tmp_path, conv_bn(with_bias, between)), Rule.BIAS_BEFORE_NORM) == []


# ---------------------------------------------------------------------------------------------
# CNC104 unused-initializer, CNC105 dead-node


def test_unused_initializer(tmp_path):
    node = helper.make_node("Relu", ["x"], ["y"], name="relu")
    m = model([node], {"x": [1, 4]}, ["y"], [weight("stale", 3, 5)])
    (f,) = lint(tmp_path, m)
    assert (f.code, f.layer) == ("CNC104", None)
    assert f.message == f"initializer 'stale' ({3 * 5} values) is read by no node"


def test_dead_nodes_grouped_by_layer(tmp_path):
    nodes = [
        helper.make_node("Relu", ["x"], ["y"], name="/live/Relu"),
        helper.make_node("Sigmoid", ["x"], ["d1"], name="/aux/Sigmoid"),
        helper.make_node("Tanh", ["d1"], ["d2"], name="/aux/Tanh"),
    ]
    (f,) = lint(tmp_path, model(nodes, {"x": [1, 4]}, ["y"]))
    assert (f.code, f.layer, f.node) == ("CNC105", "aux", "/aux/Sigmoid")
    assert f.message == ("aux: 2 nodes compute values no graph output uses: "
                         "'/aux/Sigmoid' (Sigmoid), '/aux/Tanh' (Tanh)")


def test_a_node_feeding_an_output_through_another_is_live(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["h"], name="a"),
             helper.make_node("Relu", ["h"], ["y"], name="b")]
    assert lint(tmp_path, model(nodes, {"x": [1, 4]}, ["y"])) == []


# ---------------------------------------------------------------------------------------------
# CNC106 param-share


def two_dense(units1=30, units2=2):
    nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], name="/fc1/Gemm", transB=1),
             helper.make_node("Gemm", ["h", "w2", "b2"], ["y"], name="/fc2/Gemm", transB=1)]
    inits = [weight("w1", units1, 10), weight("b1", units1), weight("w2", units2, units1),
             weight("b2", units2)]
    return model(nodes, {"x": [1, 10]}, ["y"], inits)


def test_param_share(tmp_path):
    (f,) = lint(tmp_path, two_dense())
    fc1, fc2 = (10 + 1) * 30, (30 + 1) * 2
    assert (f.code, f.level, f.layer) == ("CNC106", Severity.INFO, "fc1")
    assert f.message == (f"fc1: holds {fc1:,} of the model's {fc1 + fc2:,} params "
                         f"({fc1 / (fc1 + fc2):.0%}), more than the param-share threshold 50%")
    assert lint(tmp_path, two_dense(), {"param-share": 0.9}) == []
    assert codes(lint(tmp_path, two_dense(), {"param-share": 0.1})) == [("CNC106", "fc1"),
                                                                          ("CNC106", "fc2")]


def biases(*sizes: int) -> onnx.ModelProto:
    """One layer per size, a, b, c: each adds a bias of that many parameters to its own
    input; the model's params are their sum."""
    names = "abc"[:len(sizes)]
    nodes = [helper.make_node("Add", [f"x{n}", f"p{n}"], [f"y{n}"], name=f"/{n}/Add")
             for n in names]
    return model(nodes, {f"x{n}": [1, k] for n, k in zip(names, sizes)},
                 [f"y{n}" for n in names], [weight(f"p{n}", k) for n, k in zip(names, sizes)])


@pytest.mark.parametrize("sizes, fired", [
    ((9, 6, 5), []),  # 9 of 20: 45%
    ((10, 5, 5), []),  # 10 of 20: exactly 0.5 * 20, not more than it
    ((11, 5, 4), [("CNC106", "a")]),  # 11 of 20: 55%
])
def test_param_share_is_more_than_the_threshold_not_equal_to_it(tmp_path, sizes, fired):
    """20 params in all at threshold 0.5: the boundary is 10; a layer must hold more."""
    assert sum(sizes) == 20
    assert codes(lint(tmp_path, biases(*sizes), {"param-share": 0.5})) == fired


@pytest.mark.parametrize("limit, sizes, fired", [
    (0.29, (29, 71), [("CNC106", "b")]),  # a: 29 of 100, exactly 29%; b: 71%
    (0.57, (57, 43), []),  # a: 57 of 100, exactly 57%; b: 43%
])
def test_param_share_at_a_threshold_floats_cannot_hold_exactly(tmp_path, limit, sizes, fired):
    """A threshold as a user writes it (``--threshold param-share=0.29``): a layer holding
    exactly that share holds no more than it."""
    assert codes(lint(tmp_path, biases(*sizes), {"param-share": limit})) == fired


# ---------------------------------------------------------------------------------------------
# CNC201 unknown-shape, CNC202 unsupported-op


def test_unsupported_op_and_unknown_shape(tmp_path):
    nodes = [helper.make_node("Mystery", ["x"], ["h"], name="/odd/Mystery", domain="com.example"),
             helper.make_node("Relu", ["h"], ["y"], name="/after/Relu")]
    m = model(nodes, {"x": [1, 4]}, ["y"], extra_opsets=[helper.make_opsetid("com.example", 1)])
    findings = lint(tmp_path, m)
    # one finding per unsupported op type, one per layer with unknown shapes
    assert codes(findings) == [("CNC202", "odd"), ("CNC201", "after"), ("CNC201", "odd"),
                               ("CNC205", None)]
    assert findings[0].message == ("no rule for op Mystery (domain com.example), 1 node(s): "
                                   "'/odd/Mystery'; its cost is unknown")
    # the Relu's own output, a graph output, is unknown too: grouped into the layer's finding
    assert findings[1].message == ("after: Relu '/after/Relu': output 0 has no inferred shape; "
                                   "its cost is unknown (and 1 more unknown shape in this layer)")
    assert findings[2].message == ("odd: shape inference could not determine the shape of 'h' "
                                   "(Mystery '/odd/Mystery')")
    assert all(f.level is Severity.WARNING for f in findings)


# ---------------------------------------------------------------------------------------------
# The examples: exact findings


def test_lenet5_has_only_the_param_share_info():
    findings = lint_example("lenet5.onnx")
    assert codes(findings) == [("CNC106", "C5")]
    assert findings[0].message == ("C5: holds 48,120 of the model's 60,840 params (79%), more "
                                   "than the param-share threshold 50%")


def test_keras_cnn_floors_away_two_pools():
    findings = lint_example("keras_cnn.onnx")
    assert codes(findings) == [("CNC101", "max_pooling2d_1"), ("CNC101", "max_pooling2d_2"),
                               ("CNC106", "conv2d_2")]
    first, second = (f.message for f in findings[:2])
    assert "maps 11x11 -> 5x5 and never reads the last row and column" in first
    assert "(1 of 11 rows, 1 of 11 columns; 21 of 121 units per map)" in first  # 121 - 10*10
    assert "maps 3x3 -> 1x1 and never reads the last row and column" in second
    assert "(1 of 3 rows, 1 of 3 columns; 5 of 9 units per map)" in second  # 9 - 2*2


def test_unused_initializer_on_a_real_layout(tmp_path):
    m = onnx.load(EXAMPLES / "lenet5.onnx")
    m.graph.initializer.append(numpy_helper.from_array(np.zeros((84, 10), np.float32), "old.fc"))
    assert codes(lint(tmp_path, m), Rule.UNUSED_INITIALIZER) == [("CNC104", None)]


# ---------------------------------------------------------------------------------------------
# CNC203 subgraph-counted-once


def if_model(cond_node=None):
    def branch(op):
        body = [helper.make_node(op, ["x"], [f"{op}_out"], name=f"{op}_in_branch")]
        return helper.make_graph(body, op, [], [helper.make_tensor_value_info(
            f"{op}_out", onnx.TensorProto.FLOAT, [1, 4])])

    nodes = [cond_node] if cond_node is not None else []
    nodes.append(helper.make_node("If", ["cond"], ["y"], name="/gate/If",
                                  then_branch=branch("Relu"), else_branch=branch("HardSwish")))
    inits = [] if cond_node is not None else [numpy_helper.from_array(np.array(True), "cond")]
    return model(nodes, {"x": [1, 4]}, ["y"], inits)


def test_a_decided_if_is_no_finding(tmp_path):
    assert codes(lint(tmp_path, if_model())) == []


def test_an_if_on_data_is_a_control_flow_estimate_and_a_partial_count(tmp_path):
    cond = helper.make_node("ReduceMax", ["x"], ["m"], keepdims=0, name="/gate/ReduceMax")
    positive = helper.make_node("Greater", ["m", "zero"], ["cond"], name="/gate/Greater")
    m = if_model(cond)
    m.graph.node.insert(1, positive)
    m.graph.initializer.append(numpy_helper.from_array(np.array(0.0, np.float32), "zero"))
    findings = lint(tmp_path, m)
    assert codes(findings) == [("CNC203", "gate"), ("CNC205", None)]
    f, partial = findings
    assert (f.level, f.node) == (Severity.WARNING, "/gate/If")
    assert f.message == ("gate: If '/gate/If': its condition depends on the data: the costlier "
                         "branch (else_branch) is counted (then_branch: 0 MACs; else_branch: 0 "
                         "MACs)")
    assert partial.message.startswith("the count is partial (1 reason): If '/gate/If': ")


@pytest.mark.parametrize("attrs", [dict(strides=[2]), dict(dilations=[1]), dict(pads=[1, 1])])
def test_attributes_that_do_not_fit_are_the_counters_finding(tmp_path, attrs):
    """A stride list shorter than the spatial axes: no window rule guesses; the counter
    reports the node, and lint says it once, without an internal error."""
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="/c/Conv", kernel_shape=[3, 3],
                            **attrs)
    m = model([node], {"x": [1, 3, 8, 8]}, ["y"], [weight("w", 2, 3, 3, 3)])
    findings = lint(tmp_path, m)
    assert {f.code for f in findings} <= {"CNC106", "CNC201", "CNC205"}


def test_invalid_node(tmp_path):
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="/c/Conv", kernel_shape=[5, 5])
    m = model([node], {"x": [1, 3, 8, 8]}, ["y"], [weight("w", 2, 3, 3, 3)])
    (f,) = [f for f in lint(tmp_path, m) if f.rule is Rule.INVALID_NODE]
    assert (f.code, f.layer, f.level) == ("CNC204", "c", Severity.ERROR)
    assert f.message == ("c: Conv '/c/Conv': attributes do not fit its inputs (ValueError: "
                         "kernel_shape [5, 5] but the weight is [2, 3, 3, 3]); its cost is "
                         "unknown")


def test_floor_drop_in_3d_names_planes_and_a_1d_one_positions(tmp_path):
    node = helper.make_node("MaxPool", ["x"], ["y"], name="p3", kernel_shape=[2, 2, 2],
                            strides=[2, 2, 2])
    (f,) = lint(tmp_path, model([node], {"x": [1, 1, 5, 4, 4]}, ["y"]))
    assert "never reads the last plane of its input (1 of 5 planes; 16 of 80 units" in f.message
    node = helper.make_node("MaxPool", ["x"], ["y"], name="p1", kernel_shape=[2], strides=[2])
    (f,) = lint(tmp_path, model([node], {"x": [1, 1, 7]}, ["y"]))
    assert "never reads the last position of its input (1 of 7 positions; 1 of 7 units" \
        in f.message


def test_no_bias_before_a_norm_that_keeps_the_mean(tmp_path):
    """LpNormalization divides by the norm and RMSNormalization by the root mean square;
    LayerNormalization over the channels subtracts a mean across them, which leaves each
    channel's own bias in place: none removes a conv's bias."""
    for norm, attrs, inputs, inits in (
            ("LayerNormalization", {"axis": 1}, ["c", "g"], [weight("g", 4, 4, 4)]),
            ("LpNormalization", {"axis": 1}, ["c"], []),
            ("RMSNormalization", {"axis": 1}, ["c", "g"], [weight("g", 4, 4, 4)])):
        nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv",
                                  kernel_shape=[1, 1]),
                 helper.make_node(norm, inputs, ["y"], name="norm", **attrs)]
        m = model(nodes, {"x": [1, 2, 4, 4]}, ["y"],
                  [weight("w", 4, 2, 1, 1), weight("b", 4), *inits], opset=23)
        assert codes(lint(tmp_path, m), Rule.BIAS_BEFORE_NORM) == [], norm
