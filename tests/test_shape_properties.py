"""Property tests: the shapes we report for Conv, ConvTranspose and pooling are the shapes the
operators actually produce, over random strides, pads, dilations, groups, auto_pad, ceil_mode and
1-D/2-D/3-D inputs.

Two runtimes are the oracles: onnxruntime for every case, and onnx's reference evaluator as a
second opinion for Conv and ConvTranspose with explicit or VALID padding. Elsewhere the reference
evaluator differs from onnxruntime (and from onnx's shape inference) in windows that hypothesis
found: MaxPool with asymmetric pads (in=3x3, k=2, pads w 1+1: 3x3 instead of 2x4), with
ceil_mode (in=3, k=2, s=1, pads 1+1: 3 instead of 4), with SAME_LOWER (in=3, k=2, s=2: 1 instead
of 2), and ConvTranspose/SAME_UPPER (in=3, k=1, s=2: 6 instead of 5).
"""

from __future__ import annotations

import warnings
from math import prod

import numpy as np
import onnx
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

ort = __import__("pytest").importorskip("onnxruntime")

from sphinx_cnncount.count import count
from sphinx_cnncount.load import load

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def out_side(n, k, s, d, p0, p1, ceil=False):
    """The article's formula: floor((in + pads - dilation*(k-1) - 1) / stride) + 1."""
    num = n + p0 + p1 - d * (k - 1) - 1
    return (-(-num // s) if ceil else num // s) + 1


@st.composite
def window_config(draw, transpose=False, pool=False):
    rank = draw(st.integers(1, 3))
    sides = [draw(st.integers(3, 9)) for _ in range(rank)]
    kernel = [draw(st.integers(1, 3)) for _ in range(rank)]
    strides = [draw(st.integers(1, 3)) for _ in range(rank)]
    dil = [1] * rank if pool else [draw(st.integers(1, 2)) for _ in range(rank)]
    auto_pad = draw(st.sampled_from(["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"]))
    pads = [draw(st.integers(0, k - 1)) for k in kernel] * 2 if auto_pad == "NOTSET" else None
    groups = 1 if pool else draw(st.sampled_from([1, 2]))
    c_in = groups * draw(st.integers(1, 2))
    c_out = groups * draw(st.integers(1, 2))
    ceil = pool and draw(st.booleans())
    return dict(rank=rank, sides=sides, kernel=kernel, strides=strides, dil=dil,
                auto_pad=auto_pad, pads=pads, groups=groups, c_in=c_in, c_out=c_out, ceil=ceil)


def run_both(tmp_path, node, x_shape, inits, c):
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 19)])
    m.ir_version = 9
    path = tmp_path / "m.onnx"
    onnx.save(m, path)
    x = {"x": np.ones(x_shape, np.float32)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            (reference,) = ReferenceEvaluator(m).run(None, x)
            session = ort.InferenceSession(m.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
            (runtime,) = session.run(None, x)
        except Exception:
            assume(False)  # a configuration the operator rejects; not a shape to compare
    if node.op_type.startswith("Conv") and not c["auto_pad"].startswith("SAME"):
        assert reference.shape == runtime.shape
    s = count(load(path))
    return s, tuple(runtime.shape)


def attrs(c, pool):
    a = dict(kernel_shape=c["kernel"], strides=c["strides"], auto_pad=c["auto_pad"])
    if c["pads"] is not None:
        a["pads"] = c["pads"]
    if pool:
        a["ceil_mode"] = int(c["ceil"])
    else:
        a["dilations"] = c["dil"]
        a["group"] = c["groups"]
    return a


@SETTINGS
@given(c=window_config())
def test_conv_shape_and_macs(tmp_path, c):
    if c["auto_pad"] == "NOTSET":
        for i in range(c["rank"]):
            assume(out_side(c["sides"][i], c["kernel"][i], c["strides"][i], c["dil"][i],
                            c["pads"][i], c["pads"][i + c["rank"]]) >= 1)
    else:
        assume(all(n >= d * (k - 1) + 1 for n, k, d in zip(c["sides"], c["kernel"], c["dil"])))
    w = numpy_helper.from_array(
        np.ones([c["c_out"], c["c_in"] // c["groups"], *c["kernel"]], np.float32), "w")
    node = helper.make_node("Conv", ["x", "w"], ["y"], **attrs(c, pool=False))
    s, actual = run_both(tmp_path, node, [1, c["c_in"], *c["sides"]], [w], c)
    assert s.tensors["y"] == actual
    # MACs: every output unit reads k_h*k_w*C_in/groups inputs.
    assert s.totals.macs == prod(actual) * (c["c_in"] // c["groups"]) * prod(c["kernel"])


@SETTINGS
@given(c=window_config(pool=True), op=st.sampled_from(["MaxPool", "AveragePool", "LpPool"]))
def test_pool_shape_and_connections(tmp_path, c, op):
    if op == "LpPool":
        c = {**c, "ceil": False}
    a = attrs(c, pool=op != "LpPool")
    if op == "LpPool":
        a.pop("ceil_mode", None)
    assume(all(n >= k for n, k in zip(c["sides"], c["kernel"])))
    node = helper.make_node(op, ["x"], ["y"], **a)
    s, actual = run_both(tmp_path, node, [1, c["c_in"], *c["sides"]], [], c)
    assert s.tensors["y"] == actual
    assert s.totals.connections == prod(actual) * prod(c["kernel"])


@SETTINGS
@given(c=window_config(), output_padding=st.booleans())
def test_conv_transpose_shape_and_macs(tmp_path, c, output_padding):
    a = attrs(c, pool=False)
    if output_padding and c["auto_pad"] == "NOTSET":
        a["output_padding"] = [min(1, s - 1) if s > 1 else 0 for s in c["strides"]]
    w = numpy_helper.from_array(
        np.ones([c["c_in"], c["c_out"] // c["groups"], *c["kernel"]], np.float32), "w")
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], **a)
    x_shape = [1, c["c_in"], *c["sides"]]
    s, actual = run_both(tmp_path, node, x_shape, [w], c)
    assume(all(d >= 1 for d in actual))
    assert s.tensors["y"] == actual
    # MACs: every input unit is scattered onto k_h*k_w*C_out/groups output units.
    assert s.totals.macs == prod(x_shape) * (c["c_out"] // c["groups"]) * prod(c["kernel"])


def test_ceil_mode_drops_a_window_that_starts_in_the_padding(tmp_path):
    """onnx's shape inference keeps it (2 units); the pooling rule and both runtimes drop it:
    windows start at 0 and 3, and 3 is past the last input index of a 3-wide row with no pads.
    The corrected shape carries on downstream."""
    nodes = [helper.make_node("MaxPool", ["x"], ["p"], kernel_shape=[1], strides=[3], ceil_mode=1),
             helper.make_node("Relu", ["p"], ["y"])]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 19)])
    onnx.save(m, tmp_path / "m.onnx")
    s = count(load(tmp_path / "m.onnx"))
    assert (s.tensors["p"], s.tensors["y"]) == ((1, 2, 1), (1, 2, 1))
    assert s.totals.connections == 1 * 2 * 1  # one window of one unit per channel
