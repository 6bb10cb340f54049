"""What the directive renders and where it warns: the table's classes and box, the diagram node
in each builder, MyST pages (warnings at the declaration's own line), the role below depth 1,
and warnings that name the directive's options.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from .test_sphinx import html_tables, warnings, with_models

if TYPE_CHECKING:
    from sphinx.testing.util import SphinxTestApp

TORCHVISION = Path(__file__).resolve().parent / "data" / "torchvision"


def symbolic_conv() -> onnx.ModelProto:
    """x[1, 1, H, 8] -> a 3x3 conv of 4 maps named ``conv``: H must be bound."""
    w = numpy_helper.from_array(np.zeros((4, 1, 3, 3), np.float32), "conv.weight")
    node = helper.make_node("Conv", ["x", "conv.weight"], ["y"], name="/conv/Conv",
                            kernel_shape=[3, 3])
    graph = helper.make_graph(
        [node], "symbolic", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                           [1, 1, "H", 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


@pytest.mark.sphinx("html", testroot="render", freshenv=True)
def test_warnings_name_the_directive_option_and_the_role_reaches_deeper_layers(
        app: SphinxTestApp) -> None:
    with_models(app)
    models = Path(app.srcdir) / "models"
    onnx.save(symbolic_conv(), models / "symbolic.onnx")
    shutil.copyfile(TORCHVISION / "resnet18.torchscript.onnx", models / "resnet18.onnx")
    app.build()
    lines = warnings(app)
    # The CLI's advice is --dim H=SIZE; inside Sphinx it is the directive's option.
    assert any(":4: WARNING: models/symbolic.onnx: input 'x' has symbolic dim 'H' at axis 2; "
               "bind it with :dim: H=SIZE, or give the whole shape with :input-shape: "
               "x=1x1xSIZEx8 [cnncount.error]" in line for line in lines), lines
    assert not any("--dim" in line for line in lines)
    page = Path(app.outdir, "index.html").read_text(encoding="utf8")
    assert f'<span class="cnncount">{(64 * 128 * 1 * 1) + 4 * 128:,}</span>' in page  # 8,704
    assert f'<span class="cnncount">{2 * (3 * 3 * 64 * 64 + 4 * 64):,}</span>' in page  # 74,240
    assert '<span class="cnncount">1,516</span>' in page
    (deep,) = [line for line in lines if "downsample" in line]
    assert ("models/resnet18.onnx: no layer 'layer2.0.downsample' at depth 2 (layers: conv1, "
            in deep and "another depth: models/resnet18.onnx@DEPTH:layer2.0.downsample.params"
            in deep and "[cnncount.reference]" in deep)
    assert len(lines) == 2, lines


@pytest.mark.sphinx("html", testroot="myst", freshenv=True)
def test_myst_warnings_point_at_the_declarations_line(app: SphinxTestApp) -> None:
    pytest.importorskip("myst_parser")
    with_models(app)
    app.build()
    where = [(int(m.group(1)), m.group(2)) for line in warnings(app)
             if (m := re.search(r"index\.md:(\d+): WARNING: (.*)$", line))]
    source = Path(app.srcdir, "index.md").read_text().splitlines()

    def line_of(text: str, start: int = 0) -> int:
        return next(i for i, line in enumerate(source, 1) if i > start and text in line)

    assert where == [
        (line_of("C3 params=1,500"), "C3: params declared 1,500, model has 1,516 "
                                      "[cnncount.mismatch]"),
        (line_of("C9 params=1"), "C9: declared layer does not exist in the model (layers: C1, "
                                 "S2, C3, S4, C5, F6, OUTPUT) [cnncount.mismatch]"),
        (line_of("S2 params=13"), "S2: params declared 13, model has 12 [cnncount.mismatch]"),
        (line_of("C5 params=2"), "C5: params declared 2, model has 48,120 [cnncount.mismatch]"),
        (line_of("C8.params"), "models/lenet5.onnx: no layer 'C8' at depth 1 (layers: C1, S2, "
                               "C3, S4, C5, F6, OUTPUT); another depth: "
                               "models/lenet5.onnx@DEPTH:C8.params [cnncount.reference]"),
    ]
    page = Path(app.outdir, "index.html")
    assert len(html_tables(page)) == 3  # the literal fence's example is not rendered
    assert "<svg" in page.read_text(encoding="utf8")


@pytest.mark.sphinx("html", testroot="basic", freshenv=True)
def test_html_table_classes_box_and_ids(app: SphinxTestApp) -> None:
    with_models(app)
    app.build()
    page = Path(app.outdir, "index.html").read_text(encoding="utf8")
    assert "align-right" not in page  # themes float it (furo, sphinx-rtd-theme)
    assert '<td class="cnncount-num">156</td>' in page
    assert '<th class="head cnncount-num">Params</th>' in page
    assert '<th scope="row">C1</th>' in page  # a layer's name heads its row
    box = page.index('<div class="cnncount-table-box docutils container">')
    assert box < page.index('<table class="cnncount-table docutils align-default" id="lenet-table">')
    assert page.count('id="lenet-table"') == 1
    # The diagram: an SVG in a box of its own, colours from the page.
    assert '<figure class="cnncount-diagram-figure"><div class="cnncount-figure"><svg ' in page
    svg = re.search(r"<svg .*?</svg>", page, re.S).group(0)
    assert 'fill="currentColor"' in svg and 'class="cnncount-plane"' in svg
    # No hard-coded ink: a fill given for viewers without the stylesheet is on a shape whose
    # class the stylesheet fills from the page's background.
    for element in re.findall(r"<[a-z]+ [^>]*>", svg):
        if re.search(r'(fill|stroke)="#', element):
            assert re.search(r'class="cnncount-(plane|bar|box)"', element), element
            assert 'stroke="currentColor"' in element
    assert re.search(r"min-width:\d+px", svg)
    css = Path(app.outdir, "_static", "cnncount.css").read_text()
    assert "td.cnncount-num" in css and "--cnncount-background" in css


@pytest.mark.sphinx("html", testroot="basic", freshenv=True,
                    confoverrides={"html_theme": "furo"})
def test_furo_writes_each_id_once(app: SphinxTestApp) -> None:
    pytest.importorskip("furo")
    with_models(app)
    app.build()
    page = Path(app.outdir, "index.html").read_text(encoding="utf8")
    assert page.count('id="lenet-table"') == 1
    # furo's own wrapper, a scroll box around every table, is not put inside the table's box
    assert '<div class="table-wrapper' not in page
    assert re.search(r'<div class="cnncount-table-box docutils container">\s*'
                     r'<table class="cnncount-table', page)


@pytest.mark.sphinx("text", testroot="basic", freshenv=True)
def test_text_builder_skips_the_diagram(app: SphinxTestApp) -> None:
    with_models(app)
    app.build()
    assert warnings(app) == []
    text = Path(app.outdir, "index.txt").read_text(encoding="utf8")
    assert "C1" in text and "<svg" not in text and "tikz" not in text


@pytest.mark.sphinx("latex", testroot="basic", freshenv=True)
def test_latex_builder_draws_the_diagram(app: SphinxTestApp) -> None:
    with_models(app)
    app.build()
    assert warnings(app) == []
    tex = next(Path(app.outdir).glob("*.tex")).read_text(encoding="utf8")
    assert tex.count(r"\begin{tikzpicture}") == 1  # the keras table has :diagram: none
    assert r"{C1:}" in tex and r"{feature maps}" in tex
    assert r"\begin{tabulary}{\linewidth}[t]{LLLRRR}" in tex
