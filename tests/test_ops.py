"""Per-op counts on one-node models: expected values written as the arithmetic that gives them."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from sphinx_cnncount.load import ModelError

from .helpers import ints, model, summarize, weight

mk = helper.make_node


def one(tmp_path, node, inputs, inits=(), opset=21, **kw):
    s = summarize(tmp_path, model([node], inputs, list(node.output[:1]), inits, opset=opset), **kw)
    return s


# op, node, inputs, inits, (output shape, params, macs, connections)
CASES = {
    "conv": (
        mk("Conv", ["x", "w", "b"], ["y"], kernel_shape=[3, 3]),
        {"x": [1, 3, 8, 8]}, [weight("w", 4, 3, 3, 3), weight("b", 4)],
        ((1, 4, 6, 6), (3 * 3 * 3 + 1) * 4, 3 * 3 * 3 * 4 * 6 * 6, (3 * 3 * 3 + 1) * 4 * 6 * 6)),
    "conv-no-bias-stride-pad": (
        mk("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        {"x": [2, 3, 9, 9]}, [weight("w", 8, 3, 3, 3)],
        ((2, 8, 5, 5), 3 * 3 * 3 * 8, 2 * 3 * 3 * 3 * 8 * 5 * 5, 2 * 3 * 3 * 3 * 8 * 5 * 5)),
    "conv-grouped": (
        mk("Conv", ["x", "w", "b"], ["y"], kernel_shape=[3, 3], group=4, pads=[1, 1, 1, 1]),
        {"x": [1, 8, 7, 7]}, [weight("w", 16, 2, 3, 3), weight("b", 16)],
        ((1, 16, 7, 7), (3 * 3 * 8 // 4 + 1) * 16, 3 * 3 * 2 * 16 * 7 * 7,
         (3 * 3 * 2 + 1) * 16 * 7 * 7)),
    "conv-depthwise": (
        mk("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3], group=32, pads=[1, 1, 1, 1]),
        {"x": [1, 32, 112, 112]}, [weight("w", 32, 1, 3, 3)],
        ((1, 32, 112, 112), 3 * 3 * 32, 3 * 3 * 32 * 112 * 112, 3 * 3 * 32 * 112 * 112)),
    "conv-dilated": (
        mk("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3], dilations=[2, 2]),
        {"x": [1, 1, 10, 10]}, [weight("w", 1, 1, 3, 3)],
        ((1, 1, 6, 6), 9, 9 * 6 * 6, 9 * 6 * 6)),
    "conv-same-upper": (
        mk("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER"),
        {"x": [1, 2, 11, 11]}, [weight("w", 4, 2, 3, 3)],
        ((1, 4, 6, 6), 3 * 3 * 2 * 4, 3 * 3 * 2 * 4 * 6 * 6, 3 * 3 * 2 * 4 * 6 * 6)),
    "conv-valid": (
        mk("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3], strides=[2, 2], auto_pad="VALID"),
        {"x": [1, 2, 11, 11]}, [weight("w", 4, 2, 3, 3)],
        ((1, 4, 5, 5), 3 * 3 * 2 * 4, 3 * 3 * 2 * 4 * 5 * 5, 3 * 3 * 2 * 4 * 5 * 5)),
    "conv1d": (
        mk("Conv", ["x", "w", "b"], ["y"], kernel_shape=[5]),
        {"x": [1, 4, 100]}, [weight("w", 8, 4, 5), weight("b", 8)],
        ((1, 8, 96), (5 * 4 + 1) * 8, 5 * 4 * 8 * 96, (5 * 4 + 1) * 8 * 96)),
    "conv3d": (
        mk("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3, 3]),
        {"x": [1, 2, 6, 6, 6]}, [weight("w", 4, 2, 3, 3, 3)],
        ((1, 4, 4, 4, 4), 27 * 2 * 4, 27 * 2 * 4 * 64, 27 * 2 * 4 * 64)),
    "conv-transpose": (
        mk("ConvTranspose", ["x", "w", "b"], ["y"], kernel_shape=[4, 4], strides=[2, 2],
           pads=[1, 1, 1, 1]),
        {"x": [1, 8, 7, 7]}, [weight("w", 8, 4, 4, 4), weight("b", 4)],
        ((1, 4, 14, 14), 8 * 4 * 16 + 4, 8 * 7 * 7 * 4 * 16, 8 * 7 * 7 * 4 * 16 + 4 * 14 * 14)),
    "conv-transpose-output-padding": (
        mk("ConvTranspose", ["x", "w"], ["y"], kernel_shape=[3, 3], strides=[2, 2],
           output_padding=[1, 1]),
        {"x": [1, 2, 5, 5]}, [weight("w", 2, 3, 3, 3)],
        ((1, 3, 12, 12), 2 * 3 * 9, 2 * 5 * 5 * 3 * 9, 2 * 5 * 5 * 3 * 9)),
    "conv-transpose-output-shape": (
        mk("ConvTranspose", ["x", "w"], ["y"], kernel_shape=[3, 3], strides=[2, 2],
           output_shape=[10, 10]),
        {"x": [1, 2, 5, 5]}, [weight("w", 2, 3, 3, 3)],
        ((1, 3, 10, 10), 2 * 3 * 9, 2 * 5 * 5 * 3 * 9, 2 * 5 * 5 * 3 * 9)),
    "gemm": (
        mk("Gemm", ["x", "w", "b"], ["y"], transB=1),
        {"x": [2, 120]}, [weight("w", 84, 120), weight("b", 84)],
        ((2, 84), (120 + 1) * 84, 2 * 120 * 84, 2 * (120 + 1) * 84)),
    "gemm-transA": (
        mk("Gemm", ["x", "w"], ["y"], transA=1),
        {"x": [120, 3]}, [weight("w", 120, 10)],
        ((3, 10), 120 * 10, 3 * 10 * 120, 3 * 10 * 120)),
    "matmul-weight": (
        mk("MatMul", ["x", "w"], ["y"]),
        {"x": [1, 196, 768]}, [weight("w", 768, 3072)],
        ((1, 196, 3072), 768 * 3072, 196 * 768 * 3072, 196 * 768 * 3072)),
    "matmul-batched-broadcast": (
        mk("MatMul", ["a", "b"], ["y"]),
        {"a": [2, 12, 197, 64], "b": [1, 12, 64, 197]}, [],
        ((2, 12, 197, 197), 0, 2 * 12 * 197 * 197 * 64, 2 * 12 * 197 * 197 * 64)),
    "einsum": (
        mk("Einsum", ["a", "b"], ["y"], equation="bij,bjk->bik"),
        {"a": [3, 4, 5], "b": [3, 5, 6]}, [],
        ((3, 4, 6), 0, 3 * 4 * 5 * 6, 3 * 4 * 5 * 6)),
    "einsum-ellipsis": (
        mk("Einsum", ["a", "b"], ["y"], equation="...ij,...jk->...ik"),
        {"a": [2, 3, 4, 5], "b": [2, 3, 5, 6]}, [],
        ((2, 3, 4, 6), 0, 2 * 3 * 4 * 5 * 6, 2 * 3 * 4 * 5 * 6)),
    "maxpool": (
        mk("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], strides=[2, 2]),
        {"x": [1, 64, 11, 11]}, [], ((1, 64, 5, 5), 0, 0, 2 * 2 * 64 * 5 * 5)),
    "maxpool-ceil": (
        mk("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
        {"x": [1, 1, 8, 8]}, [], ((1, 1, 4, 4), 0, 0, 9 * 16)),
    "avgpool-pads": (
        mk("AveragePool", ["x"], ["y"], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1],
           count_include_pad=1),
        {"x": [1, 2, 5, 5]}, [], ((1, 2, 5, 5), 0, 0, 9 * 2 * 25)),
    "lppool": (
        mk("LpPool", ["x"], ["y"], kernel_shape=[2], strides=[2], p=2),
        {"x": [1, 3, 10]}, [], ((1, 3, 5), 0, 0, 2 * 3 * 5)),
    "global-avgpool": (
        mk("GlobalAveragePool", ["x"], ["y"]),
        {"x": [1, 512, 7, 7]}, [], ((1, 512, 1, 1), 0, 0, 512 * 7 * 7)),
    "batchnorm": (
        mk("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"]),
        {"x": [1, 16, 4, 4]}, [weight("s", 16), weight("b", 16), weight("m", 16), weight("v", 16)],
        ((1, 16, 4, 4), 4 * 16, 0, 16 * 4 * 4)),
    "layernorm": (
        mk("LayerNormalization", ["x", "s", "b"], ["y"], axis=-1),
        {"x": [1, 197, 768]}, [weight("s", 768), weight("b", 768)],
        ((1, 197, 768), 2 * 768, 0, 197 * 768)),
    "instancenorm": (
        mk("InstanceNormalization", ["x", "s", "b"], ["y"]),
        {"x": [1, 8, 4, 4]}, [weight("s", 8), weight("b", 8)], ((1, 8, 4, 4), 16, 0, 8 * 16)),
    "groupnorm": (
        mk("GroupNormalization", ["x", "s", "b"], ["y"], num_groups=2),
        {"x": [1, 8, 4, 4]}, [weight("s", 8), weight("b", 8)], ((1, 8, 4, 4), 16, 0, 8 * 16)),
    "prelu": (
        mk("PRelu", ["x", "slope"], ["y"]),
        {"x": [1, 8, 4, 4]}, [weight("slope", 8, 1, 1)], ((1, 8, 4, 4), 8, 0, 0)),
    "prelu-single-slope": (
        mk("PRelu", ["x", "slope"], ["y"]),
        {"x": [1, 8, 4, 4]}, [weight("slope", 1)], ((1, 8, 4, 4), 1, 0, 0)),
    "relu": (mk("Relu", ["x"], ["y"]), {"x": [1, 8, 4, 4]}, [], ((1, 8, 4, 4), 0, 0, 0)),
    "bias-add": (
        mk("Add", ["x", "b"], ["y"]), {"x": [1, 10]}, [weight("b", 10)], ((1, 10), 10, 0, 10)),
    "scalar-mul-is-no-param": (
        mk("Mul", ["x", "k"], ["y"]), {"x": [1, 10]},
        [numpy_helper.from_array(np.array(0.125, np.float32), "k")], ((1, 10), 0, 0, 0)),
    "reduce-sum": (
        mk("ReduceSum", ["x", "axes"], ["y"], keepdims=0), {"x": [1, 10, 84]},
        [ints("axes", [-1])], ((1, 10), 0, 0, 10 * 84)),
    "softmax": (mk("Softmax", ["x"], ["y"]), {"x": [1, 10]}, [], ((1, 10), 0, 0, 0)),
    "lstm": (
        mk("LSTM", ["x", "w", "r", "b"], ["y"], hidden_size=20),
        {"x": [7, 2, 10]}, [weight("w", 1, 80, 10), weight("r", 1, 80, 20), weight("b", 1, 160)],
        ((7, 1, 2, 20), 80 * 10 + 80 * 20 + 160, 7 * 2 * 80 * (10 + 20),
         7 * 2 * 80 * (10 + 20) + 7 * 2 * 80)),
    "gru-bidirectional": (
        mk("GRU", ["x", "w", "r"], ["y"], hidden_size=16, direction="bidirectional"),
        {"x": [5, 1, 8]}, [weight("w", 2, 48, 8), weight("r", 2, 48, 16)],
        ((5, 2, 1, 16), 2 * 48 * 8 + 2 * 48 * 16, 5 * 2 * 48 * (8 + 16), 5 * 2 * 48 * (8 + 16))),
    "rnn": (
        mk("RNN", ["x", "w", "r", "b"], ["y"], hidden_size=4),
        {"x": [3, 1, 2]}, [weight("w", 1, 4, 2), weight("r", 1, 4, 4), weight("b", 1, 8)],
        ((3, 1, 1, 4), 8 + 16 + 8, 3 * 4 * (2 + 4), 3 * 4 * (2 + 4) + 3 * 4)),
    "resize": (
        mk("Resize", ["x", "", "scales"], ["y"], mode="nearest"), {"x": [1, 3, 4, 4]},
        [numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")],
        ((1, 3, 8, 8), 0, 0, 0)),
    "pad": (
        mk("Pad", ["x", "pads"], ["y"]), {"x": [1, 3, 4, 4]},
        [ints("pads", [0, 0, 1, 1, 0, 0, 1, 1])], ((1, 3, 6, 6), 0, 0, 0)),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_op(tmp_path, case):
    node, inputs, inits, (shape, params, macs, connections) = CASES[case]
    s = one(tmp_path, node, inputs, inits)
    assert s.diagnostics == ()
    [layer] = s.layers
    assert (layer.output_shape, layer.params, layer.macs, layer.connections) == (
        shape, params, macs, connections)
    assert s.totals.params == params


def test_batchnorm_mean_and_variance_are_not_trainable(tmp_path):
    node, inputs, inits, _ = CASES["batchnorm"]
    t = one(tmp_path, node, inputs, inits).totals
    assert (t.trainable_params, t.non_trainable_params) == (32, 32)


def test_flops_are_twice_macs_plus_bias_for_linear_ops(tmp_path):
    node, inputs, inits, _ = CASES["conv"]
    layer = one(tmp_path, node, inputs, inits).layers[0]
    assert layer.flops == 2 * layer.macs + 4 * 6 * 6


# FLOPs per unit by the README's definitions: BatchNormalization at inference is y = x*a + b
# per channel (a multiply and an add); the other normalizations compute their statistics
# (subtract the mean, square, mean, divide) and then scale and shift: 5; softmax is exp, sum
# and divide: 3, whichever axis it runs over. op: node, inputs, inits, FLOPs
FLOPS = {
    "batchnorm": (CASES["batchnorm"][:3], 2 * 16 * 4 * 4),
    "batchnorm-1d": ((mk("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"]),
                      {"x": [2, 6, 5]}, [weight(n, 6) for n in "sbmv"]), 2 * 2 * 6 * 5),
    "layernorm": (CASES["layernorm"][:3], 5 * 197 * 768),
    "instancenorm": (CASES["instancenorm"][:3], 5 * 8 * 4 * 4),
    "groupnorm": (CASES["groupnorm"][:3], 5 * 8 * 4 * 4),
    "softmax": (CASES["softmax"][:3], 3 * 10),
    "softmax-axis-1": ((mk("Softmax", ["x"], ["y"], axis=1), {"x": [2, 4, 3, 3]}, []),
                       3 * 2 * 4 * 3 * 3),
    "logsoftmax": ((mk("LogSoftmax", ["x"], ["y"]), {"x": [3, 7]}, []), 3 * 3 * 7),
}


@pytest.mark.parametrize("case", FLOPS, ids=list(FLOPS))
def test_normalization_and_softmax_flops(tmp_path, case):
    (node, inputs, inits), flops = FLOPS[case]
    s = one(tmp_path, node, inputs, inits)
    [layer] = s.layers
    assert (layer.macs, layer.flops, s.totals.flops) == (0, flops, flops)


def test_quantized_dequantize_linear_weight_is_a_parameter(tmp_path):
    """QDQ: an int8 weight dequantized into a Conv counts once, as the int8 tensor's elements."""
    wq = numpy_helper.from_array(np.zeros((4, 3, 3, 3), np.int8), "wq")
    scale = numpy_helper.from_array(np.array(0.1, np.float32), "ws")
    zp = numpy_helper.from_array(np.array(0, np.int8), "wz")
    nodes = [
        mk("DequantizeLinear", ["wq", "ws", "wz"], ["w"]),
        mk("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3]),
    ]
    s = summarize(tmp_path, model(nodes, {"x": [1, 3, 8, 8]}, ["y"], [wq, scale, zp]))
    assert s.totals.params == 4 * 3 * 3 * 3
    assert s.totals.macs == 3 * 3 * 3 * 4 * 6 * 6
    assert len(s.layers) == 1  # the dequantize of a constant is folded, not a layer


def test_qlinearconv(tmp_path):
    def q(name, *shape, dtype=np.uint8):
        return numpy_helper.from_array(np.zeros(shape, dtype), name)

    def f(name):
        return numpy_helper.from_array(np.array(0.5, np.float32), name)

    node = mk("QLinearConv", ["x", "xs", "xz", "w", "wsc", "wz", "ys", "yz", "b"], ["y"],
              kernel_shape=[3, 3])
    inits = [f("xs"), q("xz"), q("w", 8, 2, 3, 3, dtype=np.int8), f("wsc"), q("wz", dtype=np.int8),
             f("ys"), q("yz"), numpy_helper.from_array(np.zeros(8, np.int32), "b")]
    g = helper.make_graph([node], "g",
                          [helper.make_tensor_value_info("x", TensorProto.UINT8, [1, 2, 6, 6])],
                          [helper.make_tensor_value_info("y", TensorProto.UINT8, None)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)])
    s = summarize(tmp_path, m)
    layer = s.layers[0]
    assert (layer.output_shape, layer.params, layer.macs, layer.connections) == (
        (1, 8, 4, 4), 8 * 2 * 9 + 8, 2 * 9 * 8 * 16, (2 * 9 + 1) * 8 * 16)


def test_conv_integer_and_matmul_integer(tmp_path):
    nodes = [
        mk("ConvInteger", ["x", "w"], ["c"], kernel_shape=[3, 3]),
        mk("Flatten", ["c"], ["f"]),
        mk("MatMulInteger", ["a", "w2"], ["y"]),
    ]
    inits = [numpy_helper.from_array(np.zeros((4, 1, 3, 3), np.int8), "w"),
             numpy_helper.from_array(np.zeros((16, 5), np.int8), "w2")]
    g = helper.make_graph(nodes, "g", [
        helper.make_tensor_value_info("x", TensorProto.INT8, [1, 1, 5, 5]),
        helper.make_tensor_value_info("a", TensorProto.INT8, [2, 16])],
        [helper.make_tensor_value_info("f", TensorProto.INT32, None),
         helper.make_tensor_value_info("y", TensorProto.INT32, None)], inits)
    s = summarize(tmp_path, helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)]))
    assert s.totals.params == 4 * 9 + 16 * 5
    assert s.totals.macs == 9 * 4 * 3 * 3 + 2 * 5 * 16


def test_qlinear_matmul(tmp_path):
    def u8(name, *shape):
        return numpy_helper.from_array(np.zeros(shape, np.uint8), name)

    def f(name):
        return numpy_helper.from_array(np.array(0.5, np.float32), name)

    node = mk("QLinearMatMul", ["a", "as", "az", "b", "bs", "bz", "ys", "yz"], ["y"])
    inits = [f("as"), u8("az"), u8("b", 64, 10), f("bs"), u8("bz"), f("ys"), u8("yz")]
    g = helper.make_graph([node], "g",
                          [helper.make_tensor_value_info("a", TensorProto.UINT8, [3, 64])],
                          [helper.make_tensor_value_info("y", TensorProto.UINT8, None)], inits)
    s = summarize(tmp_path, helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)]))
    assert (s.totals.params, s.totals.macs) == (64 * 10, 3 * 10 * 64)


def test_attention_from_matmul_and_softmax(tmp_path):
    """Q K^T, softmax, times V: the activation-activation MatMuls have MACs and no params."""
    d, n = 64, 197
    nodes = [
        mk("MatMul", ["x", "wq"], ["q"]), mk("MatMul", ["x", "wk"], ["k"]),
        mk("MatMul", ["x", "wv"], ["v"]), mk("Transpose", ["k"], ["kt"], perm=[0, 2, 1]),
        mk("MatMul", ["q", "kt"], ["s"]), mk("Mul", ["s", "scale"], ["ss"]),
        mk("Softmax", ["ss"], ["p"], axis=-1), mk("MatMul", ["p", "v"], ["y"]),
    ]
    inits = [weight("wq", d, d), weight("wk", d, d), weight("wv", d, d),
             numpy_helper.from_array(np.array(0.125, np.float32), "scale")]
    s = summarize(tmp_path, model(nodes, {"x": [1, n, d]}, ["y"], inits))
    assert s.totals.params == 3 * d * d
    assert s.totals.macs == 3 * n * d * d + n * n * d + n * n * d
    assert s.tensors["y"] == (1, n, d)


def test_shared_weight_counts_once(tmp_path):
    nodes = [mk("MatMul", ["x", "w"], ["h"], name="a"), mk("MatMul", ["h", "w"], ["y"], name="b")]
    s = summarize(tmp_path, model(nodes, {"x": [1, 8]}, ["y"], [weight("w", 8, 8)]))
    assert [layer.params for layer in s.layers] == [64, 0]
    assert s.totals.params == 64


def test_constant_of_shape_weights_are_parameters(tmp_path):
    """Weights made at run time by ConstantOfShape (as in onnx's light models) still count."""
    value = helper.make_tensor("v", TensorProto.FLOAT, [1], [0.0])
    nodes = [
        mk("ConstantOfShape", ["wshape"], ["w"], value=value),
        mk("Conv", ["x", "w"], ["y"], kernel_shape=[5, 5]),
    ]
    s = summarize(tmp_path, model(nodes, {"x": [1, 3, 32, 32]}, ["y"],
                                  [ints("wshape", [6, 3, 5, 5])]))
    assert s.totals.params == 6 * 3 * 25
    assert s.layers[0].output_shape == (1, 6, 28, 28)


def test_constant_node_weight_and_integer_constants(tmp_path):
    """A Constant node's float tensor is a parameter; the int64 shape of a Reshape is not."""
    w = helper.make_tensor("wv", TensorProto.FLOAT, [10, 4], [0.0] * 40)
    nodes = [
        mk("Constant", [], ["w"], value=w),
        mk("Reshape", ["x", "shape"], ["f"]),
        mk("MatMul", ["f", "w"], ["y"]),
    ]
    s = summarize(tmp_path, model(nodes, {"x": [1, 2, 5]}, ["y"], [ints("shape", [1, 10])]))
    assert s.totals.params == 40
    assert s.tensors["y"] == (1, 4)


def test_huge_feature_map_is_exact(tmp_path):
    """2^40 x 2^40 spatial dims: exact Python ints, no int64 overflow, no floats."""
    side = 2**40
    node = mk("Conv", ["x", "w"], ["y"], kernel_shape=[1, 1])
    s = one(tmp_path, node, {"x": [1, 3, side, side]}, [weight("w", 8, 3, 1, 1)])
    assert s.totals.macs == 3 * 8 * side * side
    assert s.totals.macs == 29014219670751100192948224
    assert s.totals.flops == 2 * 24 * 2**80


def test_unsupported_op_is_reported_and_the_rest_counted(tmp_path):
    nodes = [
        mk("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3], name="conv"),
        mk("FancyOp", ["c"], ["f"], domain="custom.ops", name="fancy"),
        mk("Relu", ["c"], ["y"], name="relu"),
    ]
    m = model(nodes, {"x": [1, 1, 5, 5]}, ["y", "f"], [weight("w", 2, 1, 3, 3)],
              extra_opsets=[helper.make_opsetid("custom.ops", 1)])
    s = summarize(tmp_path, m)
    assert s.layer("conv").macs == 9 * 2 * 3 * 3
    assert s.layer("relu").flops == 2 * 3 * 3
    fancy = s.layer("fancy")
    assert (fancy.macs, fancy.flops, fancy.connections) == (None, None, None)  # shown as ?
    assert (s.totals.macs, s.totals.flops) == (None, None)
    assert s.status == "partial"
    assert s.incomplete[0] == ("1 FancyOp node(s) (domain custom.ops) have no rule: their cost "
                               "is unknown")
    kinds = [(d.kind, d.op_type) for d in s.diagnostics]
    assert ("unsupported-op", "FancyOp") in kinds
    msg = next(d.message for d in s.diagnostics if d.kind == "unsupported-op")
    assert msg == ("no rule for op FancyOp (domain custom.ops), 1 node(s): 'fancy'; its cost is "
                   "unknown")


def if_branch(name, k):
    n = mk("MatMul", ["x", f"{name}_w"], [f"{name}_y"], name=f"{name}_matmul")
    return helper.make_graph([n], name, [], [
        helper.make_tensor_value_info(f"{name}_y", TensorProto.FLOAT, [1, k])],
        [weight(f"{name}_w", 8, k)])


def test_an_if_with_a_known_condition_counts_the_branch_that_runs(tmp_path):
    cond = numpy_helper.from_array(np.array(True), "cond")
    node = mk("If", ["cond"], ["y"], name="gate", then_branch=if_branch("then", 4),
              else_branch=if_branch("else", 16))
    s = summarize(tmp_path, model([node], {"x": [1, 8]}, ["y"], [cond]))
    assert s.totals.macs == 8 * 4  # the branch that runs
    # but the weights of both: the model's parameters, whichever branch runs; in the row of
    # the node now writing the If's output
    assert s.totals.params == s.layers[0].params == 8 * 4 + 8 * 16
    assert s.tensors["y"] == (1, 4)
    assert (s.status, s.diagnostics) == ("complete", ())
    (c,) = s.control_flow
    assert (c.node, c.counted, c.layer, c.approximation) == ("gate", "then_branch",
                                                             "then_matmul", False)


def test_an_if_with_a_data_condition_counts_the_costlier_branch_and_says_so(tmp_path):
    nodes = [mk("ReduceSum", ["x"], ["total"], keepdims=0),
             mk("Greater", ["total", "zero"], ["cond"]),
             mk("If", ["cond"], ["y"], name="gate", then_branch=if_branch("then", 4),
                else_branch=if_branch("else", 16))]
    zero = numpy_helper.from_array(np.array(0.0, np.float32), "zero")
    s = summarize(tmp_path, model(nodes, {"x": [1, 8]}, ["y"], [zero]))
    assert s.layer("gate").macs == 8 * 16  # else_branch: 8 x 16 against 8 x 4
    assert s.totals.params == 8 * 4 + 8 * 16  # both branches hold weights
    (c,) = s.control_flow
    assert (c.counted, c.approximation) == ("else_branch", True)
    assert c.reason == ("its condition depends on the data: the costlier branch (else_branch) "
                        "is counted (then_branch: 32 MACs; else_branch: 128 MACs)")
    assert s.status == "partial"
    assert f"If 'gate': {c.reason}" in s.incomplete


def test_a_loop_with_a_constant_trip_count_counts_its_body_that_often(tmp_path):
    """Five iterations of a MatMul with an 8x8 weight."""
    body = helper.make_graph(
        [mk("MatMul", ["h_in", "w"], ["h_out"]), mk("Identity", ["cond_in"], ["cond_out"])],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("h_in", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("h_out", TensorProto.FLOAT, [1, 8])])
    inits = [numpy_helper.from_array(np.array(5, np.int64), "trips"),
             numpy_helper.from_array(np.array(True), "cond"), weight("w", 8, 8)]
    node = mk("Loop", ["trips", "cond", "x"], ["y"], body=body, name="loop")
    s = summarize(tmp_path, model([node], {"x": [1, 8]}, ["y"], inits))
    assert s.totals.macs == 5 * 8 * 8
    assert s.totals.params == 8 * 8  # the weight the body captures from the outer graph
    (c,) = s.control_flow
    assert (c.counted, c.approximation) == ("body x 5", False)
    assert s.tensors["y"] == (1, 8)  # the carried value keeps its shape through the body


def test_scan_body_is_counted_once(tmp_path):
    body = helper.make_graph(
        [mk("Add", ["s_in", "x_t"], ["s_out"]), mk("Identity", ["s_out"], ["y_t"])],
        "body",
        [helper.make_tensor_value_info("s_in", TensorProto.FLOAT, [4]),
         helper.make_tensor_value_info("x_t", TensorProto.FLOAT, [4])],
        [helper.make_tensor_value_info("s_out", TensorProto.FLOAT, [4]),
         helper.make_tensor_value_info("y_t", TensorProto.FLOAT, [4])])
    node = mk("Scan", ["s0", "xs"], ["s", "ys"], body=body, num_scan_inputs=1, name="scan")
    s = summarize(tmp_path, model([node], {"s0": [4], "xs": [6, 4]}, ["s", "ys"]))
    assert s.totals.flops == 6 * 4  # one Add of 4 units per element of the scanned axis
    assert s.tensors["ys"] == (6, 4)
    assert (s.status, s.diagnostics) == ("complete", ())
    (c,) = s.control_flow
    assert (c.counted, c.approximation) == ("body x 6", False)


# Data-movement ops: no arithmetic, no connections, no parameters; the shape is onnx's.
MOVES = {
    "split": (mk("Split", ["x", "parts"], ["y", "z"], axis=1), [ints("parts", [2, 6])],
              (1, 2, 4, 4)),
    "slice": (mk("Slice", ["x", "starts", "ends", "axes"], ["y"]),
              [ints("starts", [1]), ints("ends", [3]), ints("axes", [2])], (1, 8, 2, 4)),
    "gather": (mk("Gather", ["x", "idx"], ["y"], axis=1), [ints("idx", [0, 2, 5])],
               (1, 3, 4, 4)),
    "reshape": (mk("Reshape", ["x", "shape"], ["y"]), [ints("shape", [1, -1])], (1, 128)),
    "flatten": (mk("Flatten", ["x"], ["y"], axis=2), [], (8, 16)),
    "transpose": (mk("Transpose", ["x"], ["y"], perm=[0, 2, 3, 1]), [], (1, 4, 4, 8)),
    "concat": (mk("Concat", ["x", "x"], ["y"], axis=1), [], (1, 16, 4, 4)),
    "expand": (mk("Expand", ["x", "to"], ["y"]), [ints("to", [2, 8, 4, 4])], (2, 8, 4, 4)),
    "depth-to-space": (mk("DepthToSpace", ["x"], ["y"], blocksize=2), [], (1, 2, 8, 8)),
}


@pytest.mark.parametrize("case", MOVES, ids=list(MOVES))
def test_data_movement_costs_nothing(tmp_path, case):
    node, inits, shape = MOVES[case]
    s = summarize(tmp_path, model([node], {"x": [1, 8, 4, 4]}, [node.output[0]], inits))
    t = s.totals
    assert (t.params, t.macs, t.flops, t.connections) == (0, 0, 0, 0)
    assert s.tensors[node.output[0]] == shape
    assert s.diagnostics == ()


def test_upsample_opset9(tmp_path):
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")
    node = mk("Upsample", ["x", "scales"], ["y"], mode="nearest")
    s = summarize(tmp_path, model([node], {"x": [1, 3, 4, 4]}, ["y"], [scales], opset=9))
    assert s.tensors["y"] == (1, 3, 8, 8)
    assert (s.totals.params, s.totals.flops) == (0, 3 * 8 * 8)  # scales are not parameters


def test_gemm_adding_an_activation_is_no_bias(tmp_path):
    """Gemm's C is a bias only when it is a parameter: a residual C adds no connections."""
    node = mk("Gemm", ["x", "w", "r"], ["y"], transB=1)
    s = summarize(tmp_path, model([node], {"x": [2, 8], "r": [2, 8]}, ["y"], [weight("w", 8, 8)]))
    assert (s.totals.connections, s.totals.flops) == (2 * 8 * 8, 2 * (2 * 8 * 8) + 2 * 8)


def test_layer_output_is_the_first_output_produced(tmp_path):
    """An LSTM that gives only Y_h: the layer's output shape is Y_h's."""
    node = mk("LSTM", ["x", "w", "r"], ["", "yh"], hidden_size=8)
    s = summarize(tmp_path, model([node], {"x": [7, 3, 10]}, {"yh": [1, 3, 8]},
                                  [weight("w", 1, 32, 10), weight("r", 1, 32, 8)]))
    assert s.layers[0].output_shape == (1, 3, 8)


@pytest.mark.parametrize("attrs, x, message", [
    (dict(kernel_shape=[5, 5]), [1, 3, 8, 8],
     "kernel_shape [5, 5] but the weight is [2, 3, 3, 3]"),
    (dict(kernel_shape=[3, 3]), [1, 4, 8, 8],
     "4 input channels but the weight reads 3 per group x 1 groups"),
])
def test_conv_attributes_contradicting_the_weight_are_reported(tmp_path, attrs, x, message):
    node = mk("Conv", ["x", "w"], ["y"], name="conv", **attrs)
    s = summarize(tmp_path, model([node], {"x": x}, ["y"], [weight("w", 2, 3, 3, 3)]))
    kinds = {d.kind: d.message for d in s.diagnostics}
    assert kinds["invalid-node"] == (f"Conv 'conv': attributes do not fit its inputs "
                                     f"(ValueError: {message}); its cost is unknown")
    assert s.totals.macs is None and s.status == "partial"
    assert s.incomplete == (f"1 node contradicts its inputs: {kinds['invalid-node']}",)


def test_two_contradicting_nodes_are_said_in_the_plural(tmp_path):
    nodes = [mk("Conv", ["x", "w"], ["y"], name="a", kernel_shape=[5, 5]),
             mk("Conv", ["x", "w2"], ["z"], name="b", kernel_shape=[5, 5])]
    s = summarize(tmp_path, model(nodes, {"x": [1, 3, 8, 8]}, ["y", "z"],
                                  [weight("w", 3, 3, 3, 3), weight("w2", 2, 3, 3, 3)]))
    assert s.incomplete[0].startswith("2 nodes contradict their inputs: Conv 'a': ")


def test_an_unknown_op_with_a_body_has_its_body_counted_once_and_said(tmp_path):
    """A node of a domain no rule knows that holds a graph (a custom decoder, a beam search):
    what its body computes is counted once (how often the op runs it, only the op knows), and
    said; the rest of the model is still counted."""
    body = helper.make_graph([mk("MatMul", ["x", "w"], ["y"])], "body", [],
                             [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    node = mk("Decoder", ["x"], ["out"], domain="com.example", name="dec", body=body)
    m = model([node], {"x": [1, 8]}, {"out": [1, 4]}, [weight("w", 8, 4)],
              extra_opsets=[helper.make_opsetid("com.example", 1)])
    s = summarize(tmp_path, m)
    assert (s.totals.macs, s.totals.params) == (8 * 4, 8 * 4)
    assert s.incomplete == ("Decoder 'dec': a Decoder of domain com.example: its bodies are "
                            "counted once",)


def test_a_window_larger_than_its_input_is_an_error_that_says_what_fits(tmp_path):
    node = mk("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=[3, 3])
    with pytest.raises(ModelError) as info:
        summarize(tmp_path, model([node], {"x": [1, 3, 2, 2]}, ["y"],
                                  [weight("w", 2, 3, 3, 3)]))
    assert info.value.reason == ("Conv 'conv' (3x3, stride 1) is larger than its padded input "
                                 "2x2: output [1, 2, 0, 0]; the smallest input that fits is "
                                 "input_shapes={\"x\": (1, 3, 3, 3)}")  # load()'s own words


def test_weight_norm_counts_both_of_its_tensors(tmp_path):
    """w = g * v / |v| computed in the graph: the parameters are g and v, not w."""
    nodes = [
        mk("ReduceL2", ["v", "axes"], ["norm"], keepdims=1),
        mk("Div", ["v", "norm"], ["unit"]),
        mk("Mul", ["g", "unit"], ["w"]),
        mk("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3]),
    ]
    inits = [weight("v", 8, 3, 3, 3), weight("g", 8, 1, 1, 1), ints("axes", [1, 2, 3])]
    s = summarize(tmp_path, model(nodes, {"x": [1, 3, 6, 6]}, ["y"], inits))
    assert s.totals.params == 8 * 3 * 3 * 3 + 8
    assert len(s.layers) == 1


def test_quantized_conv_backward_uses_its_weight_slot(tmp_path):
    def q(name, *shape, dtype=np.uint8):
        return numpy_helper.from_array(np.zeros(shape, dtype), name)

    def f(name):
        return numpy_helper.from_array(np.array(0.5, np.float32), name)

    nodes = [mk("QLinearConv", ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz"], ["a"],
                kernel_shape=[1, 1]),
             mk("QLinearConv", ["a", "xs", "xz", "w", "ws", "wz", "ys", "yz"], ["y"],
                kernel_shape=[1, 1])]
    inits = [f("xs"), q("xz"), q("w", 2, 2, 1, 1, dtype=np.int8), f("ws"),
             q("wz", dtype=np.int8), f("ys"), q("yz")]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.UINT8,
                                                                     [1, 2, 4, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.UINT8, None)], inits)
    s = summarize(tmp_path, helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)]))
    macs = 2 * 2 * 4 * 4
    # first conv: the weight gradient; second: the weight and its input (which depends on w)
    assert s.totals.backward_macs == macs + 2 * macs


def test_broadcasting_with_symbols_follows_numpy():
    """A 1 yields to anything (a symbol too), a size above 1 wins over a symbol, equal symbols
    stay, two different symbols are unknown, two different sizes do not broadcast."""
    from sphinx_cnncount.ops.rules import broadcast

    assert broadcast((1, "T", 8), ("B", 1, 8)) == ("B", "T", 8)
    assert broadcast(("T",), (1,), ("T",)) == ("T",)
    assert broadcast(("S",), (4,)) == (4,)
    assert broadcast(("S",), ("T",)) == (None,)
    assert broadcast((1,), (1,)) == (1,)
    with pytest.raises(ValueError, match="do not broadcast"):
        broadcast((2, 3), (4, 3))


def test_upsample_1_scales_height_and_width_by_its_attributes(tmp_path):
    """Upsample as opset 1 wrote it (height_scale, width_scale), which onnx cannot infer."""
    node = mk("Upsample", ["x"], ["y"], height_scale=2.0, width_scale=3.0, mode="nearest")
    s = summarize(tmp_path, model([node], {"x": [1, 2, 4, 5]}, ["y"], opset=1))
    assert s.tensors["y"] == (1, 2, 8, 15) and s.status == "complete"
