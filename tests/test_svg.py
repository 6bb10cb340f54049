"""The diagrams: the LeNet paper's Figure 2 style for chains, a layered graph for DAGs; their
layout (folding, wrapping), vocabulary and colours, and the SVG and TikZ written from them."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from sphinx_cnncount.render import chain, diagram, lenet, svg
from sphinx_cnncount.render.diagram import Diagram
from sphinx_cnncount.sphinx_ext import Analysis, Options, analysis

if TYPE_CHECKING:
    from sphinx.testing.util import SphinxTestApp

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
RESIDUAL = Path(__file__).resolve().parent / "roots" / "test-graph" / "residual.onnx"
NS = {"s": "http://www.w3.org/2000/svg"}


def analysed(path: Path, depth: int = 1) -> Analysis:
    return analysis(str(path), Options(depth=depth))


def parse(text: str) -> ET.Element:
    root = ET.fromstring(text)  # well-formed, or this raises
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert int(root.get("width")) > 0 and int(root.get("height")) > 0
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    return root


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iterfind(".//s:text", NS)]


def test_lenet_diagram_follows_the_paper() -> None:
    a = analysed(EXAMPLES / "lenet5.onnx")
    assert diagram.resolve(Diagram.AUTO, a.summary, a.edges) is Diagram.LENET
    root = parse(svg.to_svg(lenet.lenet(a.summary, max_width=None)))
    labels = texts(root)
    for lines in (["INPUT", "32x32"], ["C1:", "feature maps", "6@28x28"],
                  ["S2:", "feature maps", "6@14x14"], ["C3:", "feature maps", "16@10x10"],
                  ["S4:", "feature maps", "16@5x5"], ["C5: layer", "120"], ["F6: layer", "84"],
                  ["OUTPUT:", "layer", "10"]):
        i = labels.index(lines[0])
        assert labels[i:i + len(lines)] == lines
    # The paper's words for each step: Figure 2's captions.
    assert labels.count("convolutions") == 3 and labels.count("subsampling") == 2
    pairs = [labels[i:i + 2] for i in range(len(labels))]
    assert ["full", "connection"] in pairs and ["Gaussian", "connections"] in pairs
    assert not [t for t in labels if "+" in t]  # no raw op lists
    rects = [(float(r.get("width")), float(r.get("height")))
             for r in root.iterfind("s:rect", NS) if r.get("class") == "cnncount-plane"]

    def side(n: int) -> float:  # the square-root scale, the input's 32 drawn 100 px
        return round(chain.SIDE_MAX * (n / 32) ** 0.5, 1)

    assert rects.count((side(32), side(32))) == 1  # INPUT, one plane
    assert rects.count((side(28), side(28))) == 6  # C1: six planes
    assert rects.count((side(14), side(14))) == 6  # S2
    # 16 maps: a stack 6 px deep per doubling, 24 px, planes 3 px apart: 9 of them
    assert rects.count((side(10), side(10))) == 1 + 24 // 3  # C3
    assert rects.count((side(5), side(5))) == 9  # S4
    bars = [float(r.get("height")) for r in root.iterfind("s:rect", NS)
            if r.get("class") == "cnncount-bar"]
    low, high = lenet.BAR_MIN, lenet.BAR_MAX  # heights grow with the square root of the units
    assert bars == [round(low + (high - low) * (n / 120) ** 0.5, 1) for n in (120, 84, 10)]


def test_keras_input_is_channels_last() -> None:
    a = analysed(EXAMPLES / "keras_cnn.onnx")
    labels = texts(parse(diagram.render(Diagram.AUTO, a.summary, a.edges)))
    # a label too long for one line ("conv2d: feature maps") gets a line per part
    assert labels[:5] == ["INPUT", "28x28", "conv2d:", "feature maps", "32@26x26"]
    assert labels.count("max pooling") == 3 and "flatten" in labels  # not "Transpose+Reshape"
    assert labels.count("convolutions") == 3 and labels.count("connection") == 2


def test_graph_diagram_of_a_residual_block() -> None:
    a = analysed(RESIDUAL, depth=2)
    names = [layer.name for layer in a.summary.layers]
    # the block's residual add (in no module at depth 2) is in block.conv2's row, whose output
    # it works on; torch.flatten in head (in no module either) a row of its own
    assert names == ["stem", "block.conv1", "block.relu", "block.conv2", "block.relu_1",
                     "head.pool", "flatten", "head.fc"]
    assert set(a.edges) == {(0, 1), (1, 2), (2, 3), (0, 3),  # (0, 3): the skip
                            (3, 4), (4, 5), (5, 6), (6, 7)}
    assert not diagram.is_chain(len(names), a.edges)
    assert diagram.resolve(Diagram.AUTO, a.summary, a.edges) is Diagram.GRAPH
    text = diagram.render(Diagram.AUTO, a.summary, a.edges, uid="t7")
    root = parse(text)
    boxes = root.findall("s:rect[@class='cnncount-box']", NS)
    assert len(boxes) == len(names)
    assert {t for t in texts(root)} >= {*names, "convolution", "8@16x16", "full",
                                        "connection", "flatten 8", "global pooling"}
    paths = root.findall("s:path[@marker-end]", NS)
    assert len(paths) == len(a.edges)
    assert all(p.get("marker-end") == "url(#t7-arrow)" for p in paths)
    assert root.find(".//s:marker", NS).get("id") == "t7-arrow"
    # stem is alone in the first band: the skip leaves its right side like the edge to
    # block.conv1, goes down the band's right side, back along the gap under it and into
    # block.conv2, two bands below, from the left.
    stem, block = ([float(b.get(k)) for k in ("x", "y", "width", "height")]
                   for b in (boxes[0], boxes[3]))
    skip = [tuple(map(float, xy.split(","))) for xy in re.findall(r"-?[\d.]+,-?[\d.]+",
                                                                  paths[1].get("d"))]
    assert skip[0] == (stem[0] + stem[2], stem[1] + stem[3] / 2)
    assert skip[1][0] > skip[0][0] and skip[2][1] > stem[1] + stem[3]  # right, then down
    assert block[1] > stem[1] + 2 * stem[3]  # block.conv2 is two bands below
    assert skip[-1] == (block[0], block[1] + block[3] / 2)


def test_depth_one_of_the_residual_model_is_a_chain() -> None:
    a = analysed(RESIDUAL, depth=1)
    assert a.edges == ((0, 1), (1, 2))
    assert diagram.resolve(Diagram.AUTO, a.summary, a.edges) is Diagram.LENET


def test_text_is_escaped_and_none_draws_nothing() -> None:
    a = analysed(EXAMPLES / "lenet5.onnx")
    odd = replace(a.summary, layers=(replace(a.summary.layers[0], name='a<b&"c"'),
                                     *a.summary.layers[1:]))
    for kind in (Diagram.LENET, Diagram.GRAPH):
        root = parse(diagram.render(kind, odd, a.edges))
        assert any(t.startswith('a<b&"c"') for t in texts(root))
    assert diagram.render(Diagram.NONE, a.summary, a.edges) == ""


@pytest.mark.sphinx("html", testroot="graph", freshenv=True)
def test_directive_picks_the_diagram_by_shape(app: SphinxTestApp) -> None:
    app.build()
    assert app.warning.getvalue() == ""
    page = Path(app.outdir, "index.html").read_text(encoding="utf8")
    graph, lenet = re.findall(r"<svg .*?</svg>", page, re.S)
    # depth 2: a DAG; its ids prefixed by the page's hash and the diagram's number in the page
    assert re.search(r'id="cnncount-[0-9a-f]{8}-0-arrow"', graph) and ">block.conv1<" in graph
    assert ">block:<" in lenet and "<marker" not in lenet  # depth 1: a chain
    assert f">{(3 * 3 * 8 + 1) * 8:,}<" in page  # block.conv1's params
    assert '<span class="caption-text">A residual block, layer by layer</span>' in page


def test_a_model_without_layers_draws_nothing() -> None:
    a = analysed(EXAMPLES / "lenet5.onnx")
    empty = replace(a.summary, layers=())
    assert [diagram.render(kind, empty, ()) for kind in Diagram] == [""] * len(Diagram)


# ---------------------------------------------------------------------------------------------
# Layout: folding, wrapping, sizes, colours


RESNET18 = Path(__file__).resolve().parent / "data" / "torchvision" / "resnet18.torchscript.onnx"


def test_a_long_chain_folds_and_wraps_within_the_column() -> None:
    from sphinx_cnncount.render.drawing import MIN_TEXT_PX, Text

    a = analysed(RESNET18, depth=2)
    one_row = lenet.lenet(a.summary, max_width=None)
    assert one_row.width > 2 * diagram.MAX_WIDTH  # 1,540 px in one row
    picture = lenet.lenet(a.summary)
    # Shown in the column, no label falls below 9 px; the SVG says how far it may shrink.
    assert picture.width * picture.min_scale <= diagram.MAX_WIDTH
    assert min(s.size for s in picture.shapes if isinstance(s, Text)) * picture.min_scale \
        >= MIN_TEXT_PX
    labels = [s.text for s in picture.shapes if isinstance(s, Text)]
    assert "layer1.0-1 (x2):" in labels and "layer1.0:" not in labels
    rows = sorted({s.y for s in picture.shapes if isinstance(s, Text) and s.text == "convolutions"})
    assert len(rows) == 2  # captions on two rows
    root = parse(svg.to_svg(picture))
    assert f"min-width:{-(-picture.width * picture.min_scale // 1):.0f}px" in root.get("style")


def test_a_chain_that_fits_is_one_row_and_unfolded() -> None:
    a = analysed(EXAMPLES / "keras_cnn.onnx")
    assert lenet.lenet(a.summary, max_width=2000) == lenet.lenet(a.summary, max_width=None)
    labels = texts(parse(svg.to_svg(lenet.lenet(a.summary, max_width=None))))
    assert not [t for t in labels if "(x" in t]


def test_flatten_is_an_arrow_not_a_fan() -> None:
    from sphinx_cnncount.render.drawing import Dot, Path as Line

    a = analysed(EXAMPLES / "keras_cnn.onnx")
    picture = lenet.lenet(a.summary, max_width=None)
    # A fan ends in a unit (a dot): 3 convolutions, 3 max pools, 2 dense; none for the flatten.
    assert sum(isinstance(s, Dot) for s in picture.shapes) == 3 + 3 + 2
    arrows = [s for s in picture.shapes if isinstance(s, Line) and s.arrow]
    assert len(arrows) == 1 and arrows[0].points[0][1] == arrows[0].points[1][1]  # level


def test_svg_colours_come_from_the_page() -> None:
    a = analysed(EXAMPLES / "lenet5.onnx")
    root = parse(diagram.render(Diagram.AUTO, a.summary, a.edges))
    assert root.get("fill") == "currentColor"
    for el in root.iter():
        if el.tag.endswith("text"):
            assert el.get("fill") is None  # the root's currentColor
        if el.get("stroke"):
            assert el.get("stroke") == "currentColor"
        if el.get("fill", "none") not in ("none", "currentColor"):
            assert el.get("class") in ("cnncount-plane", "cnncount-bar", "cnncount-box")
    # 3D blocks: each face names its hue and face, for the stylesheet to mix with the page's
    # background; the fill attribute is the same mixed with white, where no stylesheet applies.
    root = parse(diagram.render(Diagram.BLOCKS, a.summary, a.edges))
    faces = root.findall("s:path[@class]", NS)
    assert faces and all(re.fullmatch(r"cnncount-hue-\w+ cnncount-face-(front|top|side)",
                                      f.get("class")) for f in faces)
    assert all(f.get("stroke") == "currentColor" for f in faces)
