"""Counting conventions: each tool's figure for a network, computed from the ONNX file by the
tool's rules, against what the tool printed on the torch model (tests/data/conventions: the
hand-run oracle, tool versions in its README and its JSON files)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sphinx_cnncount import analyze
from sphinx_cnncount.cli import main
from sphinx_cnncount.conventions import Convention, printed

from .helpers import sphinx_build

DATA = Path(__file__).resolve().parent / "data" / "conventions"
MODELS = ["lenet5", "lenet5_tanh", "resnet18", "mobilenet_v3_small", "efficientnet_b0",
          "vit_tiny_patch16_224"]
EXPORTS = ["dynamo", "torchscript"]


def oracle(model: str) -> dict:
    return json.loads((DATA / f"{model}.conventions.json").read_text())


def expected(o: dict, name: str, exporter: str) -> int | None:
    """What the tool printed (onnx-tool: on this very export; torchvision: its published
    figure times 1e9, known to 5e5)."""
    if name == "onnx-tool":
        return o["onnx"][exporter]["onnx-tool"]["value"]
    tool = o["tools"].get(name)
    return None if tool is None else tool.get("total", tool["value"])


@pytest.fixture(scope="module")
def figures():
    """Every convention's figure for every model and export, counted once."""
    out = {}
    for model in MODELS:
        o = oracle(model)
        for exporter in EXPORTS:
            s = analyze(DATA / o["onnx"][exporter]["skeleton"], convention="all")
            out[model, exporter] = s
    return out


@pytest.mark.parametrize("exporter", EXPORTS)
@pytest.mark.parametrize("model", MODELS)
def test_every_tool_is_within_half_a_percent(figures, model, exporter):
    o, s = oracle(model), figures[model, exporter]
    assert [f.name for f in s.conventions] == [c.value for c in Convention]
    off = {}
    for f in s.conventions:
        want = expected(o, f.name, exporter)
        if want is None:  # torchvision publishes no figure for LeNet or timm's ViT
            assert f.total == s.totals.macs
            continue
        if f.name == "torchvision":  # published rounded to 3 decimals: compare as printed
            assert f.printed == f"{o['tools']['torchvision']['value']:.3f} GFLOPS"
            assert abs(f.total - want) <= 500_000
            continue
        if abs(f.total - want) > want * 0.005:
            off[f.name] = (f.total, want)
    assert off == {}


# Exact, where the rules leave nothing to chance (every figure of the torch tools is exact on
# these models, but the two the ONNX file cannot tell apart, marked in the notes below).
EXACT = {
    ("resnet18", "torchscript"): {"fvcore": 1_819_065_856, "ptflops": 1_825_313_768,
                                  "ptflops-aten": 1_814_074_344, "thop": 1_824_033_792,
                                  "torchinfo": 1_814_083_944, "calflops": 3_636_250_112,
                                  "torch-flop-counter": 3_628_146_688},
    ("vit_tiny_patch16_224", "dynamo"): {"fvcore": 1_079_579_328, "ptflops": 912_887_404,
                                         "thop": 1_074_851_328, "torchinfo": 34_470_760,
                                         "calflops": 2_156_283_840,
                                         "onnx-tool": 1_378_447_457},
    ("lenet5", "torchscript"): {"ptflops": 435_850, "calflops": 852_156,
                                "onnx-tool": 435_850},
    ("lenet5_tanh", "dynamo"): {"ptflops": 435_646, "thop": 418_096, "onnx-tool": 923_950},
}


# Where a figure is not the tool's to the unit, and why (each within half a percent above).
NOT_TO_THE_UNIT = {
    # the TorchScript export does not name timm's LayerNorm subclass (said in the notes)
    ("vit_tiny_patch16_224", "torchscript", "ptflops"),
    ("vit_tiny_patch16_224", "torchscript", "thop"),
    ("vit_tiny_patch16_224", "torchscript", "onnx-tool"),
}


@pytest.mark.parametrize("exporter", EXPORTS)
@pytest.mark.parametrize("model", MODELS)
def test_every_other_figure_is_the_tools_to_the_unit(figures, model, exporter):
    o = oracle(model)
    got = {f.name: f.total for f in figures[model, exporter].conventions
           if f.name != "torchvision" and (model, exporter, f.name) not in NOT_TO_THE_UNIT}
    assert got == {name: expected(o, name, exporter) for name in got}
    assert len(got) >= 5


@pytest.mark.parametrize("case", list(EXACT))
def test_exact_figures(figures, case):
    got = {f.name: f.total for f in figures[case].conventions if f.name in EXACT[case]}
    assert got == EXACT[case]


def test_lenet_relu_counts_once_as_a_function_twice_as_a_module(figures):
    """ptflops: the tutorial's LeNet calls F.relu and F.max_pool2d (once each); the Sequential
    one has nn.Tanh (not counted) and nn.AvgPool2d (module and function: twice)."""
    relu = 6 * 28 * 28 + 16 * 10 * 10 + 120 + 84  # once each, as functions
    pooled = 6 * 28 * 28 + 16 * 10 * 10  # max pool: 1 per input element
    macs = 357_600 + 58_920
    biases = 6 * 28 * 28 + 16 * 10 * 10 + 120 + 84 + 10
    for exporter in EXPORTS:
        got = {f.name: f.total for f in figures["lenet5", exporter].conventions}
        assert got["ptflops"] == macs + biases + relu + pooled
        tanh = {f.name: f.total for f in figures["lenet5_tanh", exporter].conventions}
        assert tanh["ptflops"] == macs + biases + 2 * pooled


def test_what_the_file_cannot_say_is_said(figures):
    """A BatchNorm folded by the exporter is reconstructed from its conv and said; fused
    attention's products count 0 in fvcore and are said; a LayerNorm's class unknown (the
    TorchScript export) is assumed torch's and said, with what a subclass would change."""
    notes = {f.name: f.notes for f in figures["resnet18", "dynamo"].conventions}
    assert notes["fvcore"] == ("20 BatchNorms the exporter folded into their convs are "
                               "counted as fvcore counts a BatchNorm, from the convs' outputs "
                               "(+4,967,424)",)
    assert notes["onnx-tool"] == ("20 BatchNorms the exporter folded into their convs are not "
                                  "in this file, so onnx-tool does not count them (on an export "
                                  "that keeps them: +76,995,072)",)
    assert notes["ptflops-aten"][0].endswith("the biases the exporter gave those convs are not: "
                                             "torch's convs have none")
    assert figures["resnet18", "torchscript"].conventions[1].notes == ()
    vit = {f.name: f.notes for f in figures["vit_tiny_patch16_224", "torchscript"].conventions}
    assert vit["fvcore"] == ("24 attention products made by scaled_dot_product_attention "
                             "(178,831,872 MACs) count 0, as fvcore counts that function",)
    assert vit["thop"] == ("25 LayerNorms taken to be torch's nn.LayerNorm (the file does not "
                           "name the class); thop counts a subclass (timm's) as 0: -3,782,400",)
    dynamo = {f.name: f.notes for f in figures["vit_tiny_patch16_224", "dynamo"].conventions}
    assert dynamo["thop"] == ()  # the dynamo export names timm's LayerNorm: counted 0, no guess


def test_printed_as_each_tool_prints_it():
    assert [printed(c, 1_814_073_344) for c in Convention] == [
        "1.814 GFLOPS", "1.814G", "1.81 GMac", "1.81 GMac", "1.814G",
        "Total mult-adds (G): 1.81", "1.81 GFLOPS", "1814073344", "1814.073M"]
    assert printed(Convention.TORCH_FLOP_COUNTER, 3_628_146_688) == "3628.147M"
    # the units' edges, as each tool's code draws them
    assert [printed(c, 100_000) for c in Convention][1:7] == [
        "100K", "100.0 KMac", "100.0 KMac", "100.000K", "Total mult-adds (M): 0.10",
        "100 KFLOPS"]
    assert [printed(c, 999) for c in Convention][1:5] == ["0.999K", "999 Mac", "999 Mac",
                                                          "999.000B"]
    assert printed(Convention.FVCORE, 100) == "100"
    assert printed(Convention.TORCHINFO, 1_000_000_000) == "Total mult-adds (G): 1"
    assert printed(Convention.TORCHINFO, 10**12) == "Total mult-adds (T): 1"
    assert printed(Convention.TORCHINFO, 10**12 - 1) == "Total mult-adds (G): 1,000.00"
    assert [printed(Convention.FVCORE, n) for n in (10**8, 10**8 + 1, 10**11 + 1, 10**14 + 1)] \
        == ["100M", "0.1G", "0.1T", "0.1P"]
    assert [printed(Convention.THOP, n) for n in (10**6, 10**9 + 1, 10**12 + 1)] == [
        "1000.000K", "1.000G", "1.000T"]
    assert printed(Convention.CALFLOPS, 10**9) == "1 GFLOPS"
    assert printed(Convention.CALFLOPS, 3 * 10**12) == "3 TFLOPS"
    assert printed(Convention.CALFLOPS, 999) == "999 FLOPS"
    assert printed(Convention.PTFLOPS, 3 * 10**12) == "3000.0 GMac"  # ptflops stops at giga


def _tool_printed(model: str, exporter: str, name: str) -> str:
    """The figure in what the tool printed on the torch model (the oracle keeps its output)."""
    o = oracle(model)
    text = (o["onnx"][exporter]["onnx-tool"] if name == "onnx-tool" else o["tools"][name])[
        "printed"]
    if name == "fvcore":  # its table's model row, #flops column
        return next(r for r in text.splitlines() if r.startswith("| model ")).split("|")[3].strip()
    if name == "torchinfo":  # torchinfo 1.8 on Python 3.11 prints its unit enum's name
        return text.replace("Units.MEGABYTES", "M").replace("Units.GIGABYTES", "G")
    if name == "calflops":
        return next(r for r in text if r.startswith("fwd FLOPs:")).split(":", 1)[1].strip()
    if name == "onnx-tool":  # its CSV's Total row: the MACs column
        return text.split(",")[2]
    if name == "torch-flop-counter":  # its table's first row, FLOP column
        return text.splitlines()[2].split()[1]
    return text


@pytest.mark.parametrize("exporter", EXPORTS)
@pytest.mark.parametrize("model", MODELS)
def test_each_figure_is_printed_as_the_tool_printed_it(figures, model, exporter):
    got = {f.name: f.printed for f in figures[model, exporter].conventions
           if f.name != "torchvision" and (model, exporter, f.name) not in NOT_TO_THE_UNIT}
    assert got == {name: _tool_printed(model, exporter, name) for name in got}


def test_per_layer_figures_add_up(figures):
    s = figures["resnet18", "torchscript"]
    fvcore = s.conventions[1]
    assert len(fvcore.per_layer) == len(s.layers) and sum(fvcore.per_layer) == fvcore.total
    by_module = oracle("resnet18")["tools"]["fvcore"]["per_layer"]
    layers = {layer.name: v for layer, v in zip(s.layers, fvcore.per_layer, strict=True)}
    assert {k: layers[k] for k in ("layer1", "layer2", "layer3", "layer4", "fc", "avgpool")} == \
        {k: by_module[k] for k in ("layer1", "layer2", "layer3", "layer4", "fc", "avgpool")}


def test_the_cli_table_json_and_reconciliation(capsys):
    path = str(DATA.parent / "torchvision" / "resnet18.torchscript.onnx")
    assert main(["summary", path, "--convention", "fvcore", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["totals"]["convention"] == {"name": "fvcore", "label": "flops",
                                            "total": 1_819_065_856, "printed": "1.819G",
                                            "notes": []}
    assert sum(layer["convention"] for layer in data["layers"]) == 1_819_065_856
    assert main(["summary", path, "--convention", "thop"]) == 0
    out = capsys.readouterr().out
    assert "thop MACs" in out.splitlines()[2]  # the column, titled as thop names its figure
    assert "thop MACs: 1,824,033,792 (as thop prints it: 1.824G)\n" in out
    assert main(["summary", path, "--convention", "all"]) == 0
    out = capsys.readouterr().out
    assert "calflops            fwd FLOPs        3,636,250,112  3.64 GFLOPS" in out
    with pytest.raises(SystemExit):
        main(["summary", path, "--convention", "nope"])
    assert "invalid choice: 'nope'" in capsys.readouterr().err
    assert main(["summary", path, "--columns", "layer,convention"]) == 2
    assert "the convention column needs --convention NAME" in capsys.readouterr().err


def test_a_plain_summary_computes_no_convention():
    s = analyze(DATA / "lenet5.torchscript.onnx")
    assert s.conventions == () and "convention" not in s.to_json()["totals"]


def test_the_directive_shows_the_figure_and_the_reconciliation(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text("extensions = ['sphinx_cnncount']\n")
    model = "resnet18.onnx"
    shutil.copy(DATA.parent / "torchvision" / "resnet18.torchscript.onnx", src / model)
    (src / "index.rst").write_text(
        "Models\n======\n\n"
        f".. cnncount:: {model}\n   :convention: fvcore\n\n"
        f".. cnncount:: {model}\n   :convention: all\n   :diagram: none\n")
    warnings = sphinx_build(src, tmp_path / "out")
    assert "ERROR" not in warnings
    html = (tmp_path / "out" / "index.html").read_text()
    assert "fvcore flops: 1,819,065,856 (as fvcore prints it: 1.819G)" in html
    assert "cnncount-conventions" in html and "3,636,250,112" in html
    # the figure a number of its own (right-aligned), its label a column; the table in a box
    # that scrolls on a narrow screen
    assert '<td class="cnncount-num"><p>3,636,250,112</p></td>' in html
    assert "<td><p>fwd FLOPs</p></td>" in html
    # five columns; what each tool counts is prose, in the list under the table
    head = html[html.index('<table class="cnncount-conventions'):]
    assert head[:head.index("</thead>")].count("<th ") == 5
    assert "<p>fvcore: one per multiply-add, + norms, adaptive pooling; no activations, no " \
           "fused attention</p>" in html
    table = html.index('<table class="cnncount-conventions')
    box = html.rindex('<div class="cnncount-table-box', 0, table)
    assert html.find("</div>", box, table) == -1


def test_one_folded_batchnorm_is_said_in_the_singular():
    from sphinx_cnncount.conventions import _folded_phrase

    assert _folded_phrase(1) == ("1 BatchNorm the exporter folded into its conv is", "it")
    assert _folded_phrase(1_200) == (
        "1,200 BatchNorms the exporter folded into their convs are", "them")


def test_a_fact_the_file_leaves_unknown_leaves_the_figure_unknown():
    """A folded BatchNorm whose conv's width is unknown has unknown parameters: torchinfo's
    figure, which counts them, is None (never a 0 that looks real); fvcore's, which reads its
    output elements, is still known."""
    from sphinx_cnncount.conventions import Facts, _value

    bn = Facts(0, "", "bn", out=100, params=None, folded=True)
    assert _value(Convention.TORCHINFO, bn) is None
    assert _value(Convention.FVCORE, bn) == 200  # 2 per element


def test_a_product_after_a_softmax_of_a_dense_layer_is_no_attention(tmp_path):
    """softmax(x W) @ x: the product's scores come from a dense layer, not from Q.K^T, so it is
    a plain torch.matmul, which fvcore counts (it counts scaled_dot_product_attention's 0)."""
    from onnx import helper as h

    from .helpers import model, weight

    nodes = [h.make_node("MatMul", ["x", "w"], ["s"]), h.make_node("Softmax", ["s"], ["p"]),
             h.make_node("MatMul", ["p", "x"], ["y"])]
    path = tmp_path / "m.onnx"
    import onnx

    onnx.save(model(nodes, {"x": [1, 4, 8]}, ["y"], [weight("w", 8, 4)]), path)
    s = analyze(path, convention="fvcore")
    assert s.totals.macs == 4 * 8 * 4 + 4 * 4 * 8
    assert s.conventions[0].total == s.totals.macs


def test_attention_through_a_cast_after_the_softmax_is_still_attention(tmp_path):
    """The TorchScript exporter's scaled_dot_product_attention (Q and K^T each times the square
    root of the scale, then Q.K^T, softmax, attn.V), with a Cast between the softmax and attn.V
    as a mixed-precision export has: both products are the function's, which fvcore counts 0;
    the three projections are dense layers."""
    import onnx
    from onnx import helper as h

    from .helpers import model, weight

    nodes = [h.make_node("MatMul", ["x", f"w{n}"], [n]) for n in "qkv"]
    nodes += [h.make_node("Transpose", ["k"], ["kt"], perm=[0, 2, 1]),
              h.make_node("Sqrt", ["scale"], ["root"]),
              h.make_node("Mul", ["q", "root"], ["qs"]), h.make_node("Mul", ["kt", "root"], ["ks"]),
              h.make_node("MatMul", ["qs", "ks"], ["scores"]),
              h.make_node("Softmax", ["scores"], ["p"], axis=-1),
              h.make_node("Cast", ["p"], ["pc"], to=onnx.TensorProto.FLOAT),
              h.make_node("MatMul", ["pc", "v"], ["y"])]
    inits = [weight(f"w{n}", 8, 8) for n in "qkv"]
    inits.append(onnx.numpy_helper.from_array(__import__("numpy").array(0.125, "float32"),
                                              "scale"))
    path = tmp_path / "m.onnx"
    onnx.save(model(nodes, {"x": [1, 5, 8]}, ["y"], inits), path)
    s = analyze(path, convention="fvcore")
    projections, products = 3 * 5 * 8 * 8, 2 * 5 * 5 * 8
    assert s.totals.macs == projections + products
    assert s.conventions[0].total == projections
    assert s.conventions[0].notes == (
        f"2 attention products made by scaled_dot_product_attention ({products:,} MACs) count "
        "0, as fvcore counts that function",)


def test_onnx_tool_costs_a_conv_transpose_as_if_it_were_a_conv(tmp_path):
    """onnx-tool 1.0.1 (hand-run on this very model: 10,164) costs a ConvTranspose as each
    output element times its weight's dims after the first, plus the bias: 3 maps of 11x11
    from 4 of 5x5 (kernel 3, stride 2) is 363 * (3*3*3 + 1), where the product as it runs is
    25 * 4 * 3 * 9 MACs."""
    import numpy as np
    import onnx
    from onnx import helper as h

    from .helpers import model, weight

    node = h.make_node("ConvTranspose", ["x", "w", "b"], ["y"], kernel_shape=[3, 3],
                       strides=[2, 2])
    path = tmp_path / "convt.onnx"
    onnx.save(model([node], {"x": [1, 4, 5, 5]}, ["y"], [weight("w", 4, 3, 3, 3),
                                                        weight("b", 3)], opset=17), path)
    s = analyze(path, convention="onnx-tool")
    assert s.totals.macs == 25 * 4 * 3 * 9
    assert s.conventions[0].total == 363 * (3 * 3 * 3 + 1) == 10_164
    assert np.prod(s.tensors["y"]) == 363


def test_onnx_tool_on_the_papers_lenet5():
    """onnx-tool 1.0.1 on examples/lenet5.onnx (hand-run): 976,292, its trainable subsampling's
    arithmetic and the RBF output's ReduceSum (one per input element: 840) included."""
    from .conftest import EXAMPLES

    s = analyze(EXAMPLES / "lenet5.onnx", convention="onnx-tool")
    assert s.conventions[0].total == 976_292
