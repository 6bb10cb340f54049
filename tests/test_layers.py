"""Layer grouping on the naming conventions of both torch exporters and of tf2onnx."""

from __future__ import annotations

from onnx import helper

from .helpers import model, summarize, weight

mk = helper.make_node


def dynamo(op, ins, outs, scopes, **kw):
    """A node as torch's dynamo exporter writes it: scope in metadata, a flat name."""
    n = mk(op, ins, outs, name=f"node_{outs[0]}", **kw)
    n.metadata_props.add(key="pkg.torch.onnx.name_scopes", value=repr(["", *scopes, outs[0]]))
    return n


def residual_block(style):
    """Conv -> Relu -> Conv -> Add(skip) -> Relu inside layer1.0, then a head Gemm in fc."""
    if style == "torchscript":
        nodes = [
            mk("Conv", ["x", "w1"], ["c1"], kernel_shape=[3, 3], pads=[1] * 4,
               name="/layer1/layer1.0/conv1/Conv"),
            mk("Relu", ["c1"], ["r1"], name="/layer1/layer1.0/relu/Relu"),
            mk("Conv", ["r1", "w2"], ["c2"], kernel_shape=[3, 3], pads=[1] * 4,
               name="/layer1/layer1.0/conv2/Conv"),
            mk("Add", ["c2", "x"], ["a"], name="/layer1/layer1.0/Add"),
            mk("Relu", ["a"], ["r2"], name="/layer1/layer1.0/relu_1/Relu"),
            mk("GlobalAveragePool", ["r2"], ["p"], name="/avgpool/GlobalAveragePool"),
            mk("Flatten", ["p"], ["f"], name="Flatten"),
            mk("Gemm", ["f", "fw", "fb"], ["y"], transB=1, name="/fc/Gemm"),
        ]
    else:
        nodes = [
            dynamo("Conv", ["x", "w1"], ["c1"], ["layer1", "layer1.0", "layer1.0.conv1"],
                   kernel_shape=[3, 3], pads=[1] * 4),
            dynamo("Relu", ["c1"], ["r1"], ["layer1", "layer1.0", "layer1.0.relu"]),
            dynamo("Conv", ["r1", "w2"], ["c2"], ["layer1", "layer1.0", "layer1.0.conv2"],
                   kernel_shape=[3, 3], pads=[1] * 4),
            dynamo("Add", ["c2", "x"], ["a"], ["layer1", "layer1.0"]),
            dynamo("Relu", ["a"], ["r2"], ["layer1", "layer1.0", "layer1.0.relu"]),
            dynamo("GlobalAveragePool", ["r2"], ["p"], ["avgpool"]),
            dynamo("Flatten", ["p"], ["f"], []),
            dynamo("Gemm", ["f", "fw", "fb"], ["y"], ["fc"], transB=1),
        ]
    inits = [weight("w1", 4, 4, 3, 3), weight("w2", 4, 4, 3, 3), weight("fw", 10, 4),
             weight("fb", 10)]
    return model(nodes, {"x": [1, 4, 8, 8]}, ["y"], inits)


def rows(s):
    return [(layer.name, layer.op_types, layer.params) for layer in s.layers]


def test_torchscript_names_depth_1(tmp_path):
    """The modules at depth 1; torch.flatten, in no module, is a row of its own before the
    dense layer, named as Keras would name it (never by its node name)."""
    s = summarize(tmp_path, residual_block("torchscript"))
    assert rows(s) == [
        ("layer1", ("Conv", "Relu", "Add"), 2 * 4 * 4 * 9),
        ("avgpool", ("GlobalAveragePool",), 0),
        ("flatten", ("Flatten",), 0),
        ("fc", ("Gemm",), (4 + 1) * 10),
    ]


def test_torchscript_names_depth_3_are_qualified(tmp_path):
    """At depth 3 the block's own Add (in no module at that depth, as torchinfo shows it)
    joins the layer whose output it works on, conv2's; relu is called twice: relu, relu_1."""
    s = summarize(tmp_path, residual_block("torchscript"), depth=3)
    assert [layer.name for layer in s.layers] == [
        "layer1.0.conv1", "layer1.0.relu", "layer1.0.conv2", "layer1.0.relu_1", "avgpool",
        "flatten", "fc"]
    assert s.layer("layer1.0.conv2").nodes == ("/layer1/layer1.0/conv2/Conv",
                                               "/layer1/layer1.0/Add")
    # the conv's output is the row's, as torchinfo shows it: the Add's is the same shape here
    assert s.layer("layer1.0.conv2").output_shape == (1, 4, 8, 8)


def test_dynamo_metadata_depth_2(tmp_path):
    s = summarize(tmp_path, residual_block("dynamo"), depth=2)
    assert rows(s) == [
        ("layer1.0", ("Conv", "Relu", "Add"), 2 * 4 * 4 * 9),
        ("avgpool", ("GlobalAveragePool",), 0),
        ("flatten", ("Flatten",), 0),
        ("fc", ("Gemm",), (4 + 1) * 10),
    ]


def test_dynamo_metadata_depth_3(tmp_path):
    """The relu module is called twice: one scope in the metadata, two calls, each a row in
    dataflow order with its own output, named as the TorchScript exporter names them: the
    same rows from both exporters."""
    s = summarize(tmp_path, residual_block("dynamo"), depth=3)
    assert [layer.name for layer in s.layers] == [
        "layer1.0.conv1", "layer1.0.relu", "layer1.0.conv2", "layer1.0.relu_1", "avgpool",
        "flatten", "fc"]
    assert s.layer("layer1.0.relu").nodes == ("node_r1",)
    assert s.layer("layer1.0.relu_1").nodes == ("node_r2",)
    assert s.edges == tuple((k, k + 1) for k in range(6))  # a chain: no cycle


def test_tf2onnx_names_drop_the_model_scope(tmp_path):
    nodes = [
        mk("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3], name="sequential/conv2d/Conv2D"),
        mk("Relu", ["c"], ["r"], name="sequential/conv2d/Relu"),
        mk("MaxPool", ["r"], ["y"], kernel_shape=[2, 2], strides=[2, 2],
           name="sequential/max_pooling2d/MaxPool"),
    ]
    s = summarize(tmp_path, model(nodes, {"x": [1, 1, 8, 8]}, ["y"], [weight("w", 2, 1, 3, 3)]))
    assert [(layer.name, layer.output_shape) for layer in s.layers] == [
        ("conv2d", (1, 2, 6, 6)), ("max_pooling2d", (1, 2, 3, 3))]


def test_no_scopes_gives_automatic_layers(tmp_path):
    """Each linear/pooling op takes the scale, bias and activation that follow it; a
    normalization with parameters is a row of its own, as Keras shows it, and so is a
    Flatten."""
    nodes = [
        mk("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3], pads=[1] * 4),
        mk("BatchNormalization", ["c", "s", "b", "m", "v"], ["bn"]),
        mk("Relu", ["bn"], ["r"]),
        mk("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        mk("Flatten", ["p"], ["f"]),
        mk("MatMul", ["f", "fw"], ["mm"]),
        mk("Add", ["mm", "fb"], ["y"]),
    ]
    inits = [weight("w", 4, 1, 3, 3), weight("s", 4), weight("b", 4), weight("m", 4),
             weight("v", 4), weight("fw", 16, 10), weight("fb", 10)]
    s = summarize(tmp_path, model(nodes, {"x": [1, 1, 4, 4]}, ["y"], inits))
    assert rows(s) == [  # named as Keras names the layers, the file naming none
        ("conv2d", ("Conv",), 4 * 9),
        ("batch_normalization", ("BatchNormalization", "Relu"), 4 * 4),
        ("max_pooling2d", ("MaxPool",), 0),
        ("flatten", ("Flatten",), 0),
        ("dense", ("MatMul", "Add"), 16 * 10 + 10),
    ]
    assert s.layer("batch_normalization").non_trainable_params == 8


def test_automatic_layers_stop_at_a_branch(tmp_path):
    """A tensor read twice (a skip connection) ends the layer; the Add is a row of its own."""
    nodes = [
        mk("Conv", ["x", "w"], ["c"], kernel_shape=[1, 1]),
        mk("Relu", ["c"], ["r"]),
        mk("Conv", ["r", "w2"], ["c2"], kernel_shape=[1, 1]),
        mk("Add", ["c2", "r"], ["y"]),
    ]
    s = summarize(tmp_path, model(nodes, {"x": [1, 2, 4, 4]}, ["y"],
                                  [weight("w", 2, 2, 1, 1), weight("w2", 2, 2, 1, 1)]))
    assert [layer.op_types for layer in s.layers] == [("Conv", "Relu"), ("Conv",), ("Add",)]


def test_rows_are_deterministic_and_topological(tmp_path):
    """Nodes stored out of order are sorted; the same model gives the same rows every time."""
    m = residual_block("torchscript")
    nodes = list(m.graph.node)
    del m.graph.node[:]
    m.graph.node.extend(reversed(nodes))
    s = summarize(tmp_path, m)
    assert [layer.name for layer in s.layers] == ["layer1", "avgpool", "flatten", "fc"]


def test_rows_out_of_node_order_keep_independent_rows_in_first_node_order(tmp_path):
    """A row whose first node comes before the row that feeds it: the Transpose, in no module,
    joins the row it feeds (b's, through the Adds), so b's row starts at node 0 but reads a.
    Sorted by first node the rows are b, a, c, which puts b before a; in dataflow order a
    comes first. Of the orders that respect the one edge a -> b (a, b, c; a, c, b; c, a, b),
    the rows that do not depend on each other keep the order of their first nodes: b (node 0)
    before c (node 3), so a, b, c. (A plain topological sort takes the sources a and c
    first: a, c, b.)"""
    conv = dict(kernel_shape=[3, 3], pads=[1] * 4)
    nodes = [
        mk("Transpose", ["x"], ["t"], perm=[0, 1, 3, 2], name="/Transpose"),
        mk("Conv", ["x", "wa"], ["a"], name="/a/Conv", **conv),
        mk("Conv", ["x", "wb"], ["b"], name="/b/Conv", **conv),
        mk("Conv", ["x", "wc"], ["c"], name="/c/Conv", **conv),
        mk("Add", ["a", "b"], ["s"], name="/Add"),
        mk("Add", ["s", "t"], ["y"], name="/Add_1"),
    ]
    inits = [weight(w, 4, 4, 3, 3) for w in ("wa", "wb", "wc")]
    s = summarize(tmp_path, model(nodes, {"x": [1, 4, 8, 8]}, ["c", "y"], inits))
    assert [(layer.name, layer.nodes) for layer in s.layers] == [
        ("a", ("/a/Conv",)),
        ("b", ("/Transpose", "/b/Conv", "/Add", "/Add_1")),
        ("c", ("/c/Conv",)),
    ]
    assert s.edges == ((0, 1),)  # a feeds b; c feeds no row
