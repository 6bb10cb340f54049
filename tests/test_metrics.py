"""Receptive field, backward (training) MACs and activation memory."""

from __future__ import annotations

import pytest
from onnx import helper

from sphinx_cnncount.api import analyze

from .conftest import EXAMPLES
from .helpers import ints, model, summarize, weight

mk = helper.make_node


def test_lenet5_receptive_fields_match_the_paper():
    s = analyze(EXAMPLES / "lenet5.onnx")
    rf = {layer.name: layer.receptive_field for layer in s.layers}
    assert rf == {
        "C1": {"size": [5, 5], "stride": [1, 1]},
        "S2": {"size": [6, 6], "stride": [2, 2]},
        "C3": {"size": [14, 14], "stride": [2, 2]},
        "S4": {"size": [16, 16], "stride": [4, 4]},
        "C5": {"size": [32, 32], "stride": [4, 4]},
        "F6": None,  # after the flatten a unit sees everything: no field to speak of
        "OUTPUT": None,
    }


def test_keras_receptive_fields_through_the_nhwc_transpose():
    s = analyze(EXAMPLES / "keras_cnn.onnx")
    sizes = [(layer.name, layer.receptive_field) for layer in s.layers][:6]
    # 3/1; pool 3+1=4/2; conv 4+2*2=8/2; pool 8+2=10/4; conv 10+2*4=18/4; pool 18+4=22/8
    assert [(n, f["size"][0], f["stride"][0]) for n, f in sizes] == [
        ("conv2d", 3, 1), ("max_pooling2d", 4, 2), ("conv2d_1", 8, 2),
        ("max_pooling2d_1", 10, 4), ("conv2d_2", 18, 4), ("max_pooling2d_2", 22, 8)]


def test_receptive_field_takes_the_largest_path_and_dilation(tmp_path):
    nodes = [
        mk("Conv", ["x", "w1"], ["a"], kernel_shape=[3, 3], pads=[2, 2, 2, 2], dilations=[2, 2]),
        mk("Conv", ["x", "w2"], ["b"], kernel_shape=[1, 1]),
        mk("Add", ["a", "b"], ["y"]),
    ]
    s = summarize(tmp_path, model(nodes, {"x": [1, 1, 8, 8]}, ["y"],
                                  [weight("w1", 1, 1, 3, 3), weight("w2", 1, 1, 1, 1)]))
    assert s.layers[-1].receptive_field == {"size": [5, 5], "stride": [1, 1]}  # 1 + 2*(3-1)


@pytest.mark.parametrize("pool", ["GlobalAveragePool", "GlobalMaxPool"])
@pytest.mark.parametrize("side, stride, pad, field", [
    # 11 -> 5 (floor((11 - 3) / 2) + 1); the conv's units see 3/2; the pool takes all 5:
    # 3 + (5 - 1)*2 = 11, the whole input, stride 2*5 = 10
    (11, 2, 0, {"size": [11, 11], "stride": [10, 10]}),
    # 8 -> 8 (padded); 3/1, then 3 + (8 - 1)*1 = 10 > 8: padding included, as resnet18's
    # 435 px over its 224 px input; stride 1*8
    (8, 1, 1, {"size": [10, 10], "stride": [8, 8]}),
])
def test_a_global_pool_sees_its_whole_map(tmp_path, pool, side, stride, pad, field):
    """A global pool is a window as large as its input map, of that stride: the classic
    recurrence with k = n, s = n (size += (n - 1)*stride_in, stride *= n)."""
    nodes = [mk("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3], strides=[stride] * 2,
                pads=[pad] * 4, name="/conv/Conv"),
             mk(pool, ["c"], ["y"], name=f"/pool/{pool}")]
    s = summarize(tmp_path, model(nodes, {"x": [1, 2, side, side]}, ["y"],
                                  [weight("w", 4, 2, 3, 3)]))
    assert s.layer("conv").receptive_field == {"size": [3, 3], "stride": [stride, stride]}
    assert s.layer("pool").output_shape == (1, 4, 1, 1)
    assert s.layer("pool").receptive_field == field


def test_a_mean_over_the_map_sees_it_as_a_global_pool_does(tmp_path):
    """The first case above, the pool written as ReduceMean(axes=[2, 3], keepdims=1)."""
    nodes = [mk("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3], strides=[2, 2],
                name="/conv/Conv"),
             mk("ReduceMean", ["c", "axes"], ["y"], keepdims=1, name="/pool/ReduceMean")]
    s = summarize(tmp_path, model(nodes, {"x": [1, 2, 11, 11]}, ["y"],
                                  [weight("w", 4, 2, 3, 3), ints("axes", [2, 3])]))
    assert s.layer("pool").output_shape == (1, 4, 1, 1)
    assert s.layer("pool").receptive_field == {"size": [11, 11], "stride": [10, 10]}


def test_backward_macs_skip_the_input_gradient_of_the_first_layer():
    s = analyze(EXAMPLES / "lenet5.onnx")
    back = {layer.name: layer.backward_macs for layer in s.layers}
    assert back == {
        "C1": 5 * 5 * 6 * 28 * 28,  # weight gradient only: the image needs no gradient
        "S2": 0,
        "C3": 2 * 150_000,  # input gradient + weight gradient
        "S4": 0,
        "C5": 2 * 5 * 5 * 16 * 120,
        "F6": 2 * 120 * 84,
        "OUTPUT": 0,
    }
    t = s.totals
    assert t.backward_macs == 117_600 + 300_000 + 96_000 + 20_160
    assert t.training_macs == t.macs + t.backward_macs == 325_680 + 533_760


def test_attention_backward_needs_both_operand_gradients(tmp_path):
    nodes = [mk("MatMul", ["x", "w"], ["q"]), mk("Transpose", ["q"], ["qt"], perm=[0, 2, 1]),
             mk("MatMul", ["q", "qt"], ["y"])]
    s = summarize(tmp_path, model(nodes, {"x": [1, 5, 4]}, ["y"], [weight("w", 4, 4)]))
    # x@w: weight gradient only (5*4*4); q@q^T: both operands depend on w (2 * 5*5*4)
    assert s.totals.backward_macs == 5 * 4 * 4 + 2 * 5 * 5 * 4


@pytest.mark.parametrize("op, gates", [("LSTM", 4), ("GRU", 3), ("RNN", 1)])
@pytest.mark.parametrize("projected", [False, True])
def test_recurrent_backward_macs_add_the_input_gradient_only_after_a_parameter(
        tmp_path, op, gates, projected):
    """X is [seq 3, batch 2, input 4], hidden 5: forward MACs 3*2*(gates*5)*(4 + 5). The
    backward pass: the weight gradient, as many MACs as the forward product; when X is the
    output of a dense layer (a [4, 4] weight), also the gradient w.r.t. X, as many again.
    The dense layer itself: 3*2*4*4 MACs, and its weight gradient only (its input is the
    model's)."""
    source = "xp" if projected else "x"
    nodes = [mk(op, [source, "w", "r", "b"], ["y"], hidden_size=5, name=f"/rnn/{op}")]
    inits = [weight("w", 1, gates * 5, 4), weight("r", 1, gates * 5, 5),
             weight("b", 1, 2 * gates * 5)]
    if projected:
        nodes.insert(0, mk("MatMul", ["x", "wp"], ["xp"], name="/proj/MatMul"))
        inits.append(weight("wp", 4, 4))
    s = summarize(tmp_path, model(nodes, {"x": [3, 2, 4]}, ["y"], inits))
    forward = 3 * 2 * (gates * 5) * (4 + 5)
    rnn = s.layer("rnn")
    assert rnn.macs == forward
    assert rnn.backward_macs == (2 * forward if projected else forward)
    dense = 3 * 2 * 4 * 4
    assert s.totals.backward_macs == (dense + 2 * forward if projected else forward)
    assert s.totals.training_macs == s.totals.macs + s.totals.backward_macs == (
        dense + dense + 3 * forward if projected else 2 * forward)


# LeNet-5's FLOPs by the README's definitions: 2 per MAC, plus one per bias add, per
# elementwise op and per pooled input (a reduction: per input it reduces). The layers of
# examples/lenet5.onnx: C1, C3, C5 a conv with its bias, then x*S, tanh, x*A (LeCun's scaled
# tanh); S2, S4 a 2x2 average pool, then x*4 (the window's sum), x*coefficient, + bias, x*S,
# tanh, x*A; F6 a dense layer with its bias, then x*S, tanh, x*A; OUTPUT the RBF
# sum_j (x_j - w_ij)^2: a subtraction, a square and a sum over 84, per unit of [10, 84].
LENET5_FLOPS = {
    "C1": 2 * (5 * 5 * 1) * 6 * 28 * 28 + 6 * 28 * 28 + 3 * 6 * 28 * 28,
    "S2": 2 * 2 * 6 * 14 * 14 + 6 * 6 * 14 * 14,
    # maps 0-5 read 3 of S2's maps, 6-11 and 12-14 read 4, map 15 reads all 6
    "C3": 2 * (6 * 3 + 6 * 4 + 3 * 4 + 6) * 5 * 5 * 10 * 10 + 16 * 10 * 10 + 3 * 16 * 10 * 10,
    "S4": 2 * 2 * 16 * 5 * 5 + 6 * 16 * 5 * 5,
    "C5": 2 * (5 * 5 * 16) * 120 + 120 + 3 * 120,
    "F6": 2 * 120 * 84 + 84 + 3 * 84,
    "OUTPUT": 10 * 84 + 10 * 84 + 10 * 84,
}


def test_lenet5_flops_follow_from_the_definitions():
    s = analyze(EXAMPLES / "lenet5.onnx")
    assert {layer.name: layer.flops for layer in s.layers} == LENET5_FLOPS
    assert s.totals.flops == sum(LENET5_FLOPS.values()) == 695_672  # the README's figure


def test_lenet5_peak_activation_memory_follows_from_the_definitions():
    """A tensor is live from the node that makes it (the image: from the start) to its last
    reader, float32 (4 bytes a unit). The live bytes as each stage runs, at its fullest:"""
    f32 = 4
    live = {
        "C1's conv": f32 * (32 * 32 + 6 * 28 * 28),  # the image (read only here) and its output
        "C1's x*S, tanh, x*A": f32 * 2 * 6 * 28 * 28,  # each one's input and output
        "S2's pool": f32 * (6 * 28 * 28 + 6 * 14 * 14),
        "S2's elementwise ops": f32 * 2 * 6 * 14 * 14,
        # S2's output, read by all 16 Gathers; the 15 maps made so far, 6 channels gathered
        "C3's last Gather": f32 * (6 * 14 * 14 + 15 * 10 * 10 + 6 * 14 * 14),
        "C3's Concat": f32 * 2 * 16 * 10 * 10,
        "C3's elementwise ops": f32 * 2 * 16 * 10 * 10,
        "S4's pool": f32 * (16 * 10 * 10 + 16 * 5 * 5),
        "C5's conv": f32 * (16 * 5 * 5 + 120),
        "F6's dense layer": f32 * (120 + 84),
        "OUTPUT's x - w": f32 * (84 + 10 * 84),
        "OUTPUT's square": f32 * 2 * 10 * 84,
    }
    peak = max(live.values())
    assert peak == live["C1's x*S, tanh, x*A"] == 37_632  # the README's figure
    assert analyze(EXAMPLES / "lenet5.onnx").totals.peak_activation_bytes == peak


def test_activation_bytes_and_peak_on_a_skip(tmp_path):
    """x (64 B) -> a=Relu(x) -> b=Relu(a) -> y=Add(a, b): a lives until the Add."""
    nodes = [mk("Relu", ["x"], ["a"], name="r1"), mk("Relu", ["a"], ["b"], name="r2"),
             mk("Add", ["a", "b"], ["y"], name="add")]
    s = summarize(tmp_path, model(nodes, {"x": [1, 1, 4, 4]}, ["y"]))
    assert [layer.activation_bytes for layer in s.layers] == [16 * 4, 16 * 4, 16 * 4]
    assert s.totals.activation_bytes == 3 * 64
    # after r1: x and a (x then freed); after r2: a, b; after add: a, b, y -> 3 * 64
    assert s.totals.peak_activation_bytes == 3 * 64


def test_lenet5_activation_bytes_are_float32_outputs():
    s = analyze(EXAMPLES / "lenet5.onnx")
    assert [layer.activation_bytes for layer in s.layers] == [
        4 * 6 * 28 * 28, 4 * 6 * 14 * 14, 4 * 16 * 10 * 10, 4 * 16 * 5 * 5, 4 * 120, 4 * 84,
        4 * 10]


def test_a_shape_read_does_not_keep_a_tensor_alive(tmp_path):
    """x (4,000 B) is read by Shape at the end: only its dims, so x dies after the first Relu."""
    nodes = [mk("Relu", ["x"], ["r"]), mk("Shape", ["x"], ["s"]), mk("Relu", ["r"], ["r2"]),
             mk("Relu", ["r2"], ["r3"]), mk("Reshape", ["r3", "s"], ["y"])]
    s = summarize(tmp_path, model(nodes, {"x": [1, 1000]}, ["y"]))
    assert s.totals.peak_activation_bytes == 2 * 4 * 1000


def test_automatic_layers_ignore_shape_readers(tmp_path):
    nodes = [mk("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3]), mk("Shape", ["c"], ["s"]),
             mk("Relu", ["c"], ["r"]), mk("Reshape", ["r", "s"], ["y"])]
    s = summarize(tmp_path, model(nodes, {"x": [1, 3, 8, 8]}, ["y"], [weight("w", 2, 3, 3, 3)]))
    # (A Reshape that keeps the rank is a layout op: it joins the layer.)
    assert [layer.op_types for layer in s.layers] == [("Conv", "Relu", "Reshape")]


def test_receptive_field_ends_where_it_is_not_known(tmp_path):
    """A Slice striding the map (its steps are data), or statistics over the map (instance
    norm, a spatial softmax), leave no field; a channel Gather keeps it (LeNet's C3)."""
    conv = mk("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3])
    cases = {
        "slice": ([conv, mk("Slice", ["c", "st", "en", "ax", "sp"], ["y"])],
                  [ints("st", [0, 0]), ints("en", [6, 6]), ints("ax", [2, 3]),
                   ints("sp", [2, 2])], None),
        "instance-norm": ([conv, mk("InstanceNormalization", ["c", "g", "b"], ["y"])],
                          [weight("g", 2), weight("b", 2)], None),
        "spatial-softmax": ([conv, mk("Softmax", ["c"], ["y"], axis=-1)], [], None),
        "channel-softmax": ([conv, mk("Softmax", ["c"], ["y"], axis=1)], [],
                            {"size": [3, 3], "stride": [1, 1]}),
        "channel-gather": ([conv, mk("Gather", ["c", "i"], ["y"], axis=1)], [ints("i", [1])],
                           {"size": [3, 3], "stride": [1, 1]}),
    }
    for name, (nodes, inits, expected) in cases.items():
        s = summarize(tmp_path, model(nodes, {"x": [1, 3, 8, 8]}, ["y"],
                                      [weight("w", 2, 3, 3, 3), *inits]), name=f"{name}.onnx")
        assert s.layers[-1].receptive_field == expected, name


def test_bytes_per_element_are_onnxs_for_every_type():
    """Each element type's width, against onnx's own mapping to numpy (ml_dtypes for the 8-bit
    floats); the 4-bit types are packed two to a byte (onnx stores them so)."""
    import onnx

    from sphinx_cnncount.memory import _BITS, tensor_bytes

    four = {getattr(onnx.TensorProto, n) for n in ("INT4", "UINT4", "FLOAT4E2M1")
            if hasattr(onnx.TensorProto, n)}
    for dtype, bits in _BITS.items():
        expected = 4 if dtype in four else \
            8 * onnx.helper.tensor_dtype_to_np_dtype(dtype).itemsize
        assert bits == expected, onnx.TensorProto.DataType.Name(dtype)
    assert tensor_bytes((3, 5), onnx.TensorProto.INT4) == 8  # 15 nibbles: 8 bytes
    assert tensor_bytes((3, 5), onnx.TensorProto.STRING) is None  # no fixed width


def _conv_on(tmp_path, weight_nodes, inits):
    nodes = [*weight_nodes, helper.make_node("Conv", ["x", "wc"], ["y"], name="conv")]
    return summarize(tmp_path, model(nodes, {"x": [1, 2, 6, 6]}, ["y"], inits))


def test_a_weight_times_a_stored_scalar_counts_the_weight_only(tmp_path):
    """Conv(x, w * s): the scalar s (a scale folded into the weight) is no parameter; w is."""
    import numpy as np
    from onnx import numpy_helper

    s = _conv_on(tmp_path, [helper.make_node("Mul", ["w", "s"], ["wc"])],
                 [weight("w", 4, 2, 3, 3), numpy_helper.from_array(np.array(0.5, np.float32), "s")])
    assert (s.totals.params, s.totals.macs) == (4 * 2 * 3 * 3, 4 * 4 * 4 * 2 * 3 * 3)


def test_an_8_bit_weight_read_through_a_cast_is_a_parameter(tmp_path):
    """Conv(x, Cast(w_int8)): the stored 8-bit tensor is the weight (72 values); the Cast is
    how the file reads it as float."""
    import numpy as np
    from onnx import TensorProto, numpy_helper

    s = _conv_on(tmp_path, [helper.make_node("Cast", ["w"], ["wc"], to=TensorProto.FLOAT)],
                 [numpy_helper.from_array(np.ones((4, 2, 3, 3), np.int8), "w")])
    assert s.totals.params == 4 * 2 * 3 * 3
