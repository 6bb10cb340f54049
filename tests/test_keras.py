"""Oracle 4: Keras models as Keras shows them, on every export route.

tests/data/keras/ holds the seed CNN, a BatchNormalization CNN, MobileNetV2 and ResNet50
(``keras.applications``, weights=None) exported by tf2onnx from tf.keras, by Keras 3's
``export(format="onnx")`` on the TensorFlow backend, and on the torch backend through both torch
exporters; beside each, Keras's own ``summary()`` rows (name, class, output shape, params) and,
found by comparing values in onnxruntime, the ONNX node that makes each layer's output.
tests/data/make_keras.py made them by hand.

The summary must have one row per Keras layer that has parameters or changes the shape, in
Keras's order, with Keras's output shape and param count, or the count the file really stores
where the exporter changed what is stored, as each route does:

* a BatchNormalization right after a Conv is folded into it by tf2onnx (the row says so): the
  norm's four tensors are gone, and a conv without a bias gains one per output channel;
* any other BatchNormalization is a row of its own: the op with its four tensors per channel,
  or, decomposed, its scale and shift (2 per channel: tf2onnx and Keras on TensorFlow) or its
  mean, scale and shift (3 per channel: Keras on torch).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sphinx_cnncount.api import analyze
from sphinx_cnncount.summary import Layer

DATA = Path(__file__).resolve().parent / "data" / "keras"
ROUTES = ("keras_tf", "keras_torch", "keras_torch_static", "tf2onnx")
CASES = sorted(p.stem for p in DATA.glob("*.json") if p.stem.rpartition(".")[2] in ROUTES)
# Tensors a decomposed BatchNormalization leaves in the file per channel, by route.
STORED_BN = {"keras_tf": 2, "keras_torch": 3, "keras_torch_static": 3, "tf2onnx": 2}


def oracle(case: str) -> dict:
    return json.loads((DATA / f"{case}.json").read_text())


@pytest.fixture(scope="module")
def summaries():
    out = {}
    for case in CASES:
        inp = oracle(case)["onnx_input"][0]
        shape = tuple(d if isinstance(d, int) else 1 for d in inp["shape"])
        out[case] = analyze(DATA / f"{case}.onnx", 1, None, {inp["name"]: shape})
    return out


def keras_rows(case: str) -> list[dict]:
    """Keras's layers that have parameters or change the shape (the input layer aside)."""
    return [layer for layer in oracle(case)["layers"] if layer["class"] != "InputLayer"
            and (layer["params"] or layer["input_shape"] != layer["output_shape"])]


def logical(shape) -> tuple:
    """A Keras shape (None, H, W, C) as channels then spatial, batch dropped."""
    dims = tuple(shape[1:])
    return (dims[-1], *dims[:-1]) if len(dims) >= 3 else dims


def row_shape(layer: Layer) -> tuple:
    shape, layout = layer.output_shape, layer.layout
    dims = tuple(shape)
    c = layout.index("C") if layout else 1
    return (dims[c], *(d for k, d in enumerate(dims) if k not in (0, c))) if len(dims) >= 4 \
        else dims[1:]


def assign(case: str, s) -> list[tuple[Layer, list[dict]]]:
    """Each row with the Keras layers it shows: the layer whose output its nodes make, and any
    layer with no output of its own in the file (folded into it by the exporter): the conv
    whose scope the fused node carries, else the padding just before it."""
    row_of = {node: layer for layer in s.layers for node in layer.nodes}
    rows: list[tuple[Layer, list[dict]]] = []
    pending: dict[str, dict] = {}
    for k in keras_rows(case):
        node = k["onnx"]["node"]
        if node is None:
            pending[k["name"]] = k  # a conv whose norm was fused into it, a padding into its conv
            continue
        owner = k["onnx"].get("other_layer_name_in_scope")
        takes = [pending.pop(owner)] if owner in pending else []
        if not takes and pending and not any(
                p for p in keras_rows(case) if p.get("onnx", {}).get("other_layer_name_in_scope")
                in pending):
            takes = list(pending.values())
            pending.clear()
        row = row_of[node]
        if rows and rows[-1][0] is row:
            rows[-1][1].extend([*takes, k])
        else:
            rows.append((row, [*takes, k]))
    assert pending == {}
    return rows


def expected_params(case: str, layers: list[dict], row: Layer) -> int:
    """What a row should hold: its Keras layers' params, as the route stores them."""
    stored = STORED_BN[case.rpartition(".")[2]]
    total = 0
    for n, k in enumerate(layers):
        channels = k["output_shape"][-1]
        if k["class"] != "BatchNormalization":
            total += k["params"]
            norm = layers[n + 1] if n + 1 < len(layers) else None
            if norm is not None and norm["class"] == "BatchNormalization" and not has_bias(k):
                total += channels  # the folded norm's shift is a bias the conv did not have
        elif n > 0:
            continue  # folded into the conv before it, in the same row
        elif "BatchNormalization" in row.op_types:
            total += k["params"]
        else:
            total += stored * channels
    return total


def has_bias(layer: dict) -> bool:
    """Whether a Keras Conv or Dense has a bias: its params exceed its kernel, whose size is its
    MACs per output position (C_in*k*k*C_out, or C*k*k for a depthwise conv)."""
    positions = 1
    for d in layer["output_shape"][1:-1]:
        positions *= d
    return layer["params"] > layer["macs"] // positions


def layer_dag(case: str):
    """The rows' dataflow: row -> row where a node of one feeds a node of the other."""
    import networkx as nx

    inp = oracle(case)["onnx_input"][0]
    s = analyze(DATA / f"{case}.onnx", input_shapes={inp["name"]: tuple(
        d if isinstance(d, int) else 1 for d in inp["shape"])})
    dag = nx.DiGraph(s.edges)
    dag.add_nodes_from(range(len(s.layers)))
    return dag


@pytest.mark.parametrize("case", CASES)
def test_one_row_per_keras_layer_in_keras_order(summaries, case):
    """Distinct layers are distinct rows, and Keras's order of them is the rows' dataflow order
    (where neither depends on the other, as a residual block's two paths, any order is one)."""
    import networkx as nx

    s = summaries[case]
    shown = [row for row, _ in assign(case, s)]
    assert len(set(map(id, shown))) == len(shown)  # no row shows two layers of its own
    index = {id(layer): k for k, layer in enumerate(s.layers)}
    positions = [index[id(row)] for row in shown]
    dag = layer_dag(case)
    reach = {v: nx.descendants(dag, v) for v in positions}
    for a, later in enumerate(positions):
        for earlier in positions[:a]:
            assert earlier not in reach[later], (s.layers[later].name, s.layers[earlier].name)


@pytest.mark.parametrize("case", CASES)
def test_each_row_has_keras_output_shape(summaries, case):
    wrong = [(row.name, row_shape(row), logical(ks[-1]["output_shape"]))
             for row, ks in assign(case, summaries[case])
             if row_shape(row) != logical(ks[-1]["output_shape"])]
    assert wrong == []


@pytest.mark.parametrize("case", CASES)
def test_each_row_has_keras_params_or_what_the_file_stores(summaries, case):
    wrong = [(row.name, row.params, expected_params(case, ks, row), [k["name"] for k in ks])
             for row, ks in assign(case, summaries[case])
             if row.params != expected_params(case, ks, row)]
    assert wrong == []


@pytest.mark.parametrize("case", [c for c in CASES if c.endswith(".tf2onnx")])
def test_tf2onnx_rows_carry_keras_names_and_say_what_was_folded(summaries, case):
    for row, ks in assign(case, summaries[case]):
        computing = [k for k in ks if k["class"] not in ("BatchNormalization", "ZeroPadding2D")]
        assert row.name == (computing or ks)[0]["name"]
        folded = [k["name"] for k in ks if k["class"] == "BatchNormalization"
                  and "BatchNormalization" not in row.op_types and len(ks) > 1]
        assert list(row.folded) == folded


SEED_FIELDS = ["3/1", "4/2", "8/2", "10/4", "18/4", "22/8", "-", "-", "-"]  # 3x3 convs, 2x2 pools


@pytest.mark.parametrize("route", ROUTES)
def test_receptive_fields_on_nhwc_tensors(summaries, route):
    """The seed CNN's fields on every route: size 1 + 2 per conv times the stride so far, the
    stride doubled by each pool; also where tf2onnx reshapes the one-channel input to NCHW and
    where the tensors between layers are NHWC."""
    from sphinx_cnncount.render import fmt_field

    s = summaries[f"seed.{route}"]
    assert [fmt_field(layer.receptive_field) for layer in s.layers] == SEED_FIELDS


def test_the_table_names_the_real_channels_of_nhwc_outputs(capsys):
    from sphinx_cnncount.cli import main

    main(["summary", str(DATA / "seed.keras_torch.onnx"), "--columns", "layer,output,params"])
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[4:13]]
    assert [r[1] for r in rows] == ["32@26x26", "32@13x13", "64@11x11", "64@5x5", "128@3x3",
                                    "128@1x1", "128", "64", "10"]
    assert [r[2] for r in rows] == ["320", "0", "18,496", "0", "73,856", "0", "0", "8,256",
                                    "650"]


def test_dynamo_rows_show_torch_classes_and_the_folded_norm(capsys):
    from sphinx_cnncount.cli import main

    s = analyze(DATA / "torch_cnn.dynamo.onnx", 2)
    kinds = {layer.name: (layer.kind, layer.folded) for layer in s.layers}
    assert kinds["features.0"] == (None, ("features.1",))  # the Conv2d, BatchNorm2d folded in
    assert kinds["features.3"] == ("MaxPool2d", ())
    assert kinds["flatten"] == ("Flatten", ())
    assert kinds["fc1"] == (None, ("bn",))
    assert kinds["fc2"] == ("Linear", ())
    main(["summary", str(DATA / "torch_cnn.dynamo.onnx"), "--columns", "layer,type"])
    out = capsys.readouterr().out
    assert "fc1       Gemm (+bn folded)" in out and "fc2       Linear" in out
