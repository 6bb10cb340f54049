"""Rows against the frameworks' own: torchinfo's rows (one per module call, execution order) for
exports from both torch exporters, the float model's rows for its quantized files, every folded
BatchNorm said; and, over every model in the repository, layer edges that never go backwards.

The oracles are tests/data/rows/*.json, taken from torch, torchinfo and onnxruntime by
tests/data/make_rows.py (run by hand; see tests/data/rows/README.md), never from this project.
"""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import onnx
import pytest

from sphinx_cnncount import analyze
from sphinx_cnncount.load import BindingError

ROOT = Path(__file__).resolve().parent.parent
ROWS = ROOT / "tests" / "data" / "rows"
TORCH = sorted(p.stem for p in ROWS.glob("*.json")
               if p.with_suffix(".onnx").exists() and "_q" not in p.stem
               and "keras" not in p.stem)
QUANTIZED = sorted(p.stem for p in ROWS.glob("*_q*.json"))


def oracle(stem: str) -> dict:
    return json.loads((ROWS / f"{stem}.json").read_text(encoding="utf8"))


def call_name(row: dict) -> str:
    """The row name of a module call: torchinfo's second call of ``pool`` is ``pool_1``."""
    return row["qualified_name"] + (f"_{row['call']}" if row["call"] else "")


def leaves(data: dict, depth: int) -> list[dict]:
    return [r for r in data["torchinfo"][f"depth_{depth}"]["rows"]
            if r["depth"] > 0 and r["is_leaf"]]


def no_node(data: dict, row: dict) -> bool:
    """A call that has no node in the file: a BatchNorm the exporter folded into its conv, a
    Dropout (dropped in eval mode), an empty Sequential (its output is its input)."""
    folded = {b["bn"] for b in data.get("bn_folding", {}).get("rows", []) if b["folded"]}
    return (row["qualified_name"] in folded or row["class_name"] == "Dropout"
            or (row["class_name"] == "Sequential" and row["params_subtree"] == 0
                and row["macs"] == 0))


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("stem", TORCH)
def test_rows_are_torchinfos_calls(stem: str, depth: int) -> None:
    """Every module call torchinfo shows at the depth is a row with its name (a second call
    ``_1``), torchinfo's output size and MACs, in torchinfo's order; the only rows torchinfo
    has not are flattens (torch.flatten or view, in no module, before a dense layer); the
    calls with no row are those with no node in the file."""
    data = oracle(stem)
    summary = analyze(ROWS / f"{stem}.onnx", depth=depth)
    ours = {layer.name: layer for layer in summary.layers}
    expected = [r for r in leaves(data, depth) if not no_node(data, r)]
    for r in expected:
        layer = ours[call_name(r)]
        assert list(layer.output_shape) == r["output_size"], call_name(r)
        assert layer.macs == r["macs"], call_name(r)
    names = [call_name(r) for r in expected]
    assert [n for n in ours if n in names] == names  # execution order
    assert {n for n in ours if n not in names} <= {"flatten"}


@pytest.mark.parametrize("stem", [s for s in TORCH if "resnet" in s])
def test_every_folded_batchnorm_is_said(stem: str) -> None:
    """Both exporters fold every BatchNorm of resnet18 and of the CIFAR ResNet into its conv:
    each is said in its conv's row (by name from dynamo; TorchScript's file does not name it),
    and the summary's folding line holds what reconciles the file with torch's count."""
    data = oracle(stem)
    folding = data["bn_folding"]
    bns = [b["bn"] for b in folding["rows"]]
    assert folding["folded"] == len(bns)
    for depth in (1, 3):
        summary = analyze(ROWS / f"{stem}.onnx", depth=depth)
        said = [f for layer in summary.layers for f in layer.folded]
        if "dynamo" in stem:
            assert sorted(said) == sorted(bns)
        else:
            assert said == ["BatchNorm"] * len(bns)
        if depth == 3:  # each conv's row (or its Sequential's, deeper) names its BatchNorm
            for b in folding["rows"]:
                row, = (layer for layer in summary.layers
                        if b["conv"] == layer.name or b["conv"].startswith(layer.name + "."))
                assert (b["bn"] if "dynamo" in stem else "BatchNorm") in row.folded
    f = summary.folding
    assert (f.layers, f.channels, f.trainable_params, f.running_stats, f.biases) == (
        folding["folded"], folding["folded_channels"], folding["dropped_trainable_params"],
        folding["dropped_running_stats"], folding["new_conv_bias_elements_stored"])
    params = summary.totals.params
    assert params == data["stored"]["float_elements"]
    # the file's count, without the biases the folding made, with the BatchNorms': torch's
    assert params - f.biases + f.trainable_params == data["torch"]["trainable"]
    assert data["torch"]["float_buffers"] == f.running_stats


def test_the_folding_line() -> None:
    from sphinx_cnncount.render.text import render, Format

    table = render(analyze(ROWS / "resnet18.torchscript.onnx"), Format.TABLE)
    assert ("Folded at export: 20 BatchNorms (4,800 channels) into the layers before them; "
            "their 9,600 trainable parameters and 9,600 running statistics are not in this "
            "file. It stores 4,800 bias values for the layers they were folded into (new ones, "
            "unless those layers had a bias before).") in table.splitlines()
    untrained = render(analyze(ROWS / "resnet18_untrained.dynamo.onnx"), Format.TABLE)
    assert untrained.splitlines()[-1].endswith(
        "It stores no bias for the layers they were folded into (zero biases are dropped).")
    assert "Folded" not in render(analyze(ROWS / "small_cnn.dynamo.onnx"), Format.TABLE)
    assert analyze(ROWS / "small_cnn.dynamo.onnx").to_json()["folding"] is None


@pytest.mark.parametrize("stem", QUANTIZED)
def test_quantized_rows_are_the_float_layers(stem: str) -> None:
    """A quantized file's rows are its float model's calls (torchinfo's), with their output
    shapes and MACs; its params are the float file's (each weight once, int8 or float; scales
    and zero points are not params) and its MACs the model's. The static quantizers remove
    every ReLU (the QuantizeLinear after the conv clamps instead): those calls have no row."""
    data = oracle(stem)
    summary = analyze(ROWS / f"{stem}.onnx")
    assert summary.totals.params == data["float_stored"]["float_elements"]
    assert summary.totals.macs == data["macs"]
    removed = "qdynamic" not in stem
    float_data = oracle(Path(data["float_file"]).stem)
    expected = [r for r in leaves(data, 1) if not no_node(float_data, r)
                and not (removed and r["class_name"] == "ReLU")]
    ours = {layer.name: layer for layer in summary.layers}
    for r in expected:
        layer = ours[call_name(r)]
        assert list(layer.output_shape) == r["output_size"], call_name(r)
        assert layer.macs == r["macs"], call_name(r)
    names = [call_name(r) for r in expected]
    assert [n for n in ours if n in names] == names
    assert {n for n in ours if n not in names} <= {"flatten"}


def bound(path: Path) -> dict[str, tuple[int, ...]]:
    """Every input's shape with its free sizes given: 1 for the batch, 512 for any other."""
    model = onnx.load(path, load_external_data=False)
    stored = {t.name for t in model.graph.initializer}
    return {v.name: tuple(d.dim_value if d.dim_value > 0 else 1 if k == 0 else 512
                          for k, d in enumerate(v.type.tensor_type.shape.dim))
            for v in model.graph.input
            if v.name not in stored and v.type.HasField("tensor_type")}


MODELS = sorted({*ROOT.glob("tests/data/**/*.onnx"), *ROOT.glob("examples/**/*.onnx")})


@pytest.mark.parametrize("path", MODELS, ids=lambda p: str(p.relative_to(ROOT)))
def test_rows_are_in_dataflow_order(path: Path) -> None:
    """Over every model in the repository (those that count), at depths 1 and 3: the layer
    edges form no cycle and a row never comes after a row it feeds."""
    try:
        analyze(path)
        shapes = None
    except BindingError:
        shapes = bound(path)
    except Exception:  # a hostile or broken file: its own tests say what it gets
        pytest.skip("not a model that counts")
    for depth in (1, 3):
        summary = analyze(path, depth=depth, input_shapes=shapes)
        dag = nx.DiGraph(summary.edges)
        assert nx.is_directed_acyclic_graph(dag)
        assert all(a < b for a, b in summary.edges)


@pytest.mark.parametrize("stem", ["dense64.dynamo", "dense64.torchscript"])
def test_an_input_size_the_dense_layer_cannot_take_is_an_error(stem: str) -> None:
    """dense64's Linear(4096, 10) takes the flattened 16 maps of 64x64 to 67x67 inputs only
    (the oracle's fitting sizes, from torch): any other size is one error naming the layer,
    both sizes and the input the file declares, never a table."""
    from sphinx_cnncount.load import SizeError

    data = oracle(stem)
    name, exported = data["input"]["name"], tuple(data["input"]["shape"])
    fits = []
    for side in range(60, 72):
        try:
            analyze(ROWS / f"{stem}.onnx", input_shapes={name: (1, 3, side, side)})
            fits.append(side)
        except SizeError as exc:
            assert str(exc).endswith(f'the input the file declares fits: input_shapes={{"{name}"'
                                     f": {exported}}}")
    assert fits == data["dense_fit"]["fitting_square_sizes"]
    with pytest.raises(SizeError) as caught:
        analyze(ROWS / f"{stem}.onnx", input_shapes={name: (1, 3, 32, 32)})
    message = str(caught.value)
    if "dynamo" in stem:  # the view is a Reshape to a fixed [1, 4096]
        assert "Reshape 'node_view': its input [1, 16, 8, 8] has 1,024 elements, which " \
               "cannot be reshaped to [1, 4096] (4,096)" in message
    else:  # a Flatten, then the Gemm
        assert "Gemm '/fc/Gemm': its input [1, 1024] has 1,024 features, but its weight " \
               "[10, 4096] reads 4,096" in message


def test_lenet5_at_64x64_is_one_error_line(capsys) -> None:
    from sphinx_cnncount.cli import main

    assert main(["summary", str(ROOT / "examples" / "lenet5.onnx"),
                 "--input-shape", "image=1x1x64x64"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"cnncount: error: {ROOT / 'examples' / 'lenet5.onnx'}: Gemm '/F6/Gemm': its input "
        "[1, 9720] has 9,720 features, but its weight [84, 120] reads 120; the input the file "
        "declares fits: --input-shape image=1x1x32x32"]


def test_keras_on_torch_rows_are_keras_layers() -> None:
    """Keras 3 on the torch backend exports no layer names: the rows are named, numbered and
    sized as Keras's own summary prints them (the oracle's keras_summary)."""
    data = oracle("two_conv.keras_torch")
    summary = analyze(ROWS / "two_conv.keras_torch.onnx")
    expected = [(r["name"], r["params"]) for r in data["keras_summary"]["rows"]]
    assert [(layer.name, layer.params) for layer in summary.layers] == expected
    for layer, r in zip(summary.layers, data["keras_summary"]["rows"], strict=True):
        keras_shape = [int(d) for d in r["output_shape"].strip("()").split(", ")[1:]]
        channels_last = layer.layout == "NHWC" or len(keras_shape) == 1
        ours = list(layer.output_shape[1:]) if channels_last else \
            [*layer.output_shape[2:], layer.output_shape[1]]
        assert ours == keras_shape, layer.name
