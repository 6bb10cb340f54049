"""Figures a researcher puts in a paper, measured: deep nets stay readable (map sides and
channel depths on their scales, never under 12 px), the classic in one row, rows that follow
the network's stages, compact graphs, token sequences, and 3D blocks generated from the model.

Every figure is measured as a documentation column shows it: 680 px wide, the SVG shrunk to
fit it (never below its 9 px text) when wider.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sphinx_cnncount import analyze
from sphinx_cnncount.summary import Summary
from sphinx_cnncount.render import blocks, chain, diagram, graph, lenet, svg, tikz
from sphinx_cnncount.render.chain import Scale
from sphinx_cnncount.render.drawing import HUES, SHARE, Drawing, Face, Hue, Ink, Path as Line, \
    Poly, Rect, Text, mixed

from .conftest import EXAMPLES
from .test_sphinx import warnings, with_models

ROOT = Path(__file__).resolve().parent.parent
TV = Path(__file__).resolve().parent / "data" / "torchvision"
WILD = Path(__file__).resolve().parent / "data" / "wild"
COLUMN = diagram.MAX_WIDTH
NS = {"s": "http://www.w3.org/2000/svg"}


def shown(picture: Drawing) -> float:
    """How much a figure is scaled in the 680 px column (it never grows)."""
    return min(1.0, COLUMN / picture.width)


def stacks(picture: Drawing) -> list[tuple[float, float, float]]:
    """Each stack of planes, in drawing order: (its plane's width, height, depth in px)."""
    out: list[tuple[float, float, float]] = []
    run: list[Rect] = []
    for s in [*picture.shapes, None]:
        plane = isinstance(s, Rect) and s.ink is Ink.PLANE
        if run and (not plane or (s.w, s.h) != (run[0].w, run[0].h) or s.x <= run[-1].x):
            out.append((run[0].w, run[0].h, run[-1].x - run[0].x))
            run = []
        if plane:
            run.append(s)
    return out


def map_layers(summary: Summary) -> list[tuple[int, int, int]]:
    """(channels, height, width) of the input and each layer of maps, in order."""
    steps = chain.chain(summary).steps
    return [(m.channels, m.height, m.width) for s in steps if (m := chain.maps(s))]


# ---------------------------------------------------------------------------------------------
# 1. Deep nets stay readable


@pytest.mark.parametrize("model, depth", [("resnet18", 2), ("mobilenet_v3_small", 2),
                                          ("vgg11", 2), ("efficientnet_b0", 3)])
def test_maps_and_channels_stay_distinguishable(model: str, depth: int) -> None:
    """Before, every map of 14x14 or less was the same 8 px square (resnet18 at depth 2: 32 of
    91 planes; mobilenet_v3_small: 56 of 91), and at most 8 planes made 64 and 576 channels
    look alike."""
    summary = analyze(TV / f"{model}.torchscript.onnx", depth)
    picture = lenet.lenet(summary)
    scale = shown(picture)
    drawn = stacks(picture)
    sides = {min(w, h) for w, h, _ in drawn}
    assert min(sides) * scale >= 12  # the smallest plane, as the column shows it
    assert picture.min_text * scale >= 9  # and the smallest text
    # A map's side is drawn on a square-root scale: 224 -> 100 px, 7 -> 17.7 px.
    longest = max(max(h, w) for _, h, w in map_layers(summary))
    for c, h, w in map_layers(summary):
        assert any(math.isclose(pw, max(15, 100 * math.sqrt(w / longest)))
                   and math.isclose(ph, max(15, 100 * math.sqrt(h / longest)))
                   for pw, ph, _ in drawn), (c, h, w)
    # as many plane sizes as map sizes, and as many stack depths as channel counts
    maps = set(map_layers(summary))
    assert len(sides) == len({min(h, w) for _, h, w in maps})
    assert {round(d, 6) for *_, d in drawn if d} == {
        round(6 * math.log2(c), 6) for c, *_ in maps if Scale.planes(c) > 1}


def test_a_doubling_of_channels_is_six_px_of_depth() -> None:
    assert Scale.depth(64) == 36 and Scale.depth(576) == pytest.approx(6 * math.log2(576))
    assert Scale.depth(576) - Scale.depth(64) == pytest.approx(6 * math.log2(9))  # 19 px
    assert [Scale.planes(c) for c in (1, 3, 6, 16, 64, 576)] == [1, 3, 6, 9, 12, 12]


# ---------------------------------------------------------------------------------------------
# 2. The classic in one row; wrapping only when one row cannot stay legible


def rows(picture: Drawing) -> int:
    """How many rows a LeNet figure has: one more than the arrows that leave a row."""
    leaving = [s for s in picture.shapes if isinstance(s, Line) and s.arrow
               and s.points[1][0] - s.points[0][0] == lenet.STUB - 4]
    return 1 + len(leaving)


def test_lenet5_is_one_row_in_the_column() -> None:
    """Before: two rows at 680 px (965 px in one row, 7.75 px text if scaled)."""
    picture = lenet.lenet(analyze(EXAMPLES / "lenet5.onnx"))
    assert rows(picture) == 1
    assert picture.width * picture.min_scale <= COLUMN  # it fits, shrunk at most to 9 px text
    assert picture.min_text * shown(picture) >= 9
    assert picture.min_text * shown(picture) == pytest.approx(11 * COLUMN / 788)  # 9.49 px
    labels = [s.text for s in picture.shapes if isinstance(s, Text) and s.size == 12]
    assert labels[:5] == ["INPUT", "32x32", "C1:", "feature maps", "6@28x28"]
    # nothing folded, nothing merged: the paper's seven layers
    assert [t for t in labels if t.endswith(":") or ": " in t] == [
        "C1:", "S2:", "C3:", "S4:", "C5: layer", "F6: layer", "OUTPUT:"]


@pytest.mark.parametrize("model, depth, most", [("resnet18", 2, 2), ("vgg11", 2, 4),
                                                ("resnet18", 3, 5)])
def test_rows_follow_the_stages(model: str, depth: int, most: int) -> None:
    """Before: resnet18 at depth 2 took 3 rows, vgg11 6. A row starts where the maps change
    size (a stage), where one fits; every row is legible in the column."""
    summary = analyze(TV / f"{model}.torchscript.onnx", depth)
    picture = lenet.lenet(summary)
    assert rows(picture) <= most
    assert picture.min_text * shown(picture) >= 9
    c = chain.chain(summary, merge=True, fold=True)
    items = lenet._items(c)
    placed = lenet._rows(items, c, COLUMN * lenet.CAPTION_SIZE / 9)
    starts = [sum(len(r) for r in placed[:k]) for k in range(1, len(placed))]
    for k in starts:  # the first of a row and the last of the row before differ in size
        assert chain.stage_key(c.steps[k]) != chain.stage_key(c.steps[k - 1]) \
            or c.group_at(k) is not None


def test_vgg11_folds_its_identical_blocks() -> None:
    summary = analyze(TV / "vgg11.torchscript.onnx", 2)
    c = chain.chain(summary, merge=True, fold=True)
    names = [(s.name, s.repeat) for s in c.steps]
    # each convolution and its ReLU drawn once; two identical conv-ReLU pairs as one, (x2)
    assert ("features.0-1", 1) in names and ("features.16-19", 2) in names
    assert len(c.steps) == 18 and len(summary.layers) == 28


# ---------------------------------------------------------------------------------------------
# 5. The graph kind: bands that read like text, a bounded aspect ratio


@pytest.mark.parametrize("path, depth, bound", [
    (TV / "resnet18.torchscript.onnx", 3, 2.0),  # before: 462 x 4270 px, ratio 9.2
    (TV / "resnet18.dynamo.onnx", 3, 2.0),
    # a chain at depth 3 (its residual adds join their blocks' layers): wide, not tall
    (TV / "mobilenet_v3_small.torchscript.onnx", 3, 3.0),
    (TV / "efficientnet_b0.torchscript.onnx", 4, 2.0),
    (TV / "mobilenet_v2.torchscript.onnx", 4, 3.0),
    (TV / "vit_b_16.torchscript.onnx", 4, 3.0),
    (EXAMPLES / "lenet5.onnx", 2, 2.0),  # before: 3,175 px wide, its text 2.4 px in the column
    (ROOT / "docs" / "models" / "yolov8n.onnx", 1, 2.0),
])
def test_the_graph_is_compact_and_legible(path: Path, depth: int, bound: float) -> None:
    summary = analyze(path, depth)
    picture = graph.graph(summary, summary.edges)
    assert max(picture.width, picture.height) / min(picture.width, picture.height) <= bound
    assert picture.min_text * shown(picture) >= 9
    assert picture.width * picture.min_scale <= COLUMN
    boxes = [s for s in picture.shapes if isinstance(s, Rect) and s.ink is Ink.BOX]
    assert len(boxes) == len(summary.layers)
    for a in boxes:  # no two boxes overlap
        assert not any(a is not b and a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h
                       and b.y < a.y + a.h for b in boxes)


def test_a_graph_too_deep_for_the_page_draws_its_repeated_blocks_once() -> None:
    """ResNet-50 at depth 3: 171 layers, 4,021 px tall at a legible width (ratio 5.2). Its
    identical bottleneck blocks (each stage's after the first) are drawn once, framed."""
    summary = analyze(TV / "resnet50.torchscript.onnx", 3)
    picture = graph.graph(summary, summary.edges)
    titles = [s.text for s in picture.shapes if isinstance(s, Text) and s.anchor.value == "start"]
    assert titles == ["layer1.1-2 (x2)", "layer2.1-3 (x3)", "layer3.1-5 (x5)", "layer4.1-2 (x2)"]
    boxes = [s for s in picture.shapes if isinstance(s, Rect) and s.ink is Ink.BOX]
    # conv1, bn1, relu, conv2, bn2, relu_1, conv3, bn3 (the residual sum, in no module at
    # depth 3, joins the layer it works on), relu_2
    per_block = 9
    assert len(boxes) == len(summary.layers) - (1 + 2 + 4 + 1) * per_block
    assert picture.height / picture.width < 3.2 and picture.min_text * shown(picture) >= 9
    # ResNet-18 at depth 3 fits without folding: every layer drawn
    small = analyze(TV / "resnet18.torchscript.onnx", 3)
    assert sum(isinstance(s, Rect) and s.ink is Ink.BOX
               for s in graph.graph(small, small.edges).shapes) == len(small.layers)


def test_the_bands_break_where_one_tensor_crosses() -> None:
    """ResNet-18 at depth 3: most bands end after a block's output, the one tensor that
    feeds everything after it."""
    import networkx as nx

    summary = analyze(TV / "resnet18.torchscript.onnx", 3)
    dag = nx.DiGraph()
    dag.add_nodes_from(range(len(summary.layers)))
    dag.add_edges_from(summary.edges)
    lay = graph._layout(summary, dag, COLUMN * graph.SMALL / 9)
    clean = [len(graph._crossing(dag, lay.col, cols[-1])) == 1 for cols in lay.bands[:-1]]
    assert sum(clean) >= len(clean) / 2


# ---------------------------------------------------------------------------------------------
# 6. Token sequences as tokens x width, encoder blocks folded


def test_a_vit_draws_its_token_sequences_and_folds_its_encoder() -> None:
    """Before: 197x192 tokens were a bar labelled "37,824", and 12 encoder blocks wrapped."""
    summary = analyze(TV / "vit_b_16.torchscript.onnx", 3)
    picture = lenet.lenet(summary)
    labels = [s.text for s in picture.shapes if isinstance(s, Text)]
    i = labels.index("encoder.layers.")  # one drawing for the twelve blocks
    assert labels[i:i + 5] == ["encoder.layers.", "encoder_layer_", "0-11 (x12):", "sequence",
                               "197x768"]
    assert labels.count("197x768") == 4 and "151,296" not in labels
    assert labels.count("sequence") == 5  # Reshape's 768x196 too
    # a sequence is a column of token rows: 12 rules across it
    rules = [s for s in picture.shapes if isinstance(s, Line) and not s.arrow
             and len(s.points) == 2 and s.points[0][1] == s.points[1][1]]
    assert len(rules) == 5 * (lenet.SEQUENCE_ROWS - 1)
    captions = [s.text for s in picture.shapes if isinstance(s, Text) and s.size == 11]
    # (the class token's selection, in no module, is in the final norm's row)
    assert captions == ["convolutions", "reshape", "concatenation", "position", "embedding",
                        "transformer", "block", "layer", "normalization", "full",
                        "connection"]
    assert rows(picture) == 1 and picture.min_text * shown(picture) >= 9


def test_repeated_blocks_of_several_layers_fold_in_a_frame() -> None:
    summary = analyze(TV / "vit_b_16.torchscript.onnx", 4)
    c = chain.chain(summary, merge=True, fold=True)
    assert len(c.groups) == 1
    group = c.groups[0]
    assert (group.name, group.repeat) == ("encoder.layers.encoder_layer_0-11", 12)
    assert [s.name for s in c.steps[group.start:group.end]] == [
        "ln_1", "self_attention", "ln_2", "mlp"]
    picture = lenet.lenet(summary)
    frames = [s for s in picture.shapes if isinstance(s, Rect) and s.ink is Ink.FRAME]
    titles = [s.text for s in picture.shapes if isinstance(s, Text) and s.bold]
    assert len(frames) == 1 and titles == ["encoder.layers.encoder_layer_0-11 (x12)"]


def test_bert_folds_its_three_layers() -> None:
    summary = analyze(WILD / "minilm_l3.onnx", 5, {"sequence_length": 128})
    c = chain.chain(summary, fold=True)
    names = [(s.name, s.repeat) for s in c.steps]
    assert ("model.0.auto_model.encoder.layer.0-2", 3) in names
    tokens = [chain.tokens(s) for s in c.steps]
    # the word, token type and position embeddings (each its module's row), LayerNorm, encoder
    assert tokens.count(chain.Tokens(128, 384)) == 5


# ---------------------------------------------------------------------------------------------
# 7. 3D blocks generated from the model


def faces(picture: Drawing, face: Face) -> list[Poly]:
    return [s for s in picture.shapes if isinstance(s, Poly) and s.face is face]


def test_lenet5_as_blocks() -> None:
    summary = analyze(EXAMPLES / "lenet5.onnx")
    picture = blocks.blocks(summary, summary.edges)
    sides = faces(picture, Face.SIDE)  # one per box
    assert len(sides) == 1 + 7  # the input and the seven layers
    assert [s.hue for s in sides] == [Hue.OTHER, Hue.CONVOLUTION, Hue.POOLING, Hue.CONVOLUTION,
                                      Hue.POOLING, Hue.CONVOLUTION, Hue.DENSE, Hue.DENSE]
    # under each box its name (bold) and its output's shape, as the table prints it
    texts = [s.text for s in picture.shapes if isinstance(s, Text)]
    shapes = [s.text for s in picture.shapes if isinstance(s, Text) and not s.bold
              and s.anchor.value == "middle"]
    assert shapes == ["32x32", "6@28x28", "6@14x14", "16@10x10", "16@5x5", "120", "84", "10"]
    assert [s.text for s in picture.shapes if isinstance(s, Text) and s.bold] == [
        "INPUT", "C1", "S2", "C3", "S4", "C5", "F6", "OUTPUT"]
    # a legend for the colours used, in the vocabulary's words
    assert [s.text for s in picture.shapes if isinstance(s, Text) and s.anchor.value == "start"
            ] == ["convolution", "pooling", "full connection", "other"]
    assert len(faces(picture, Face.FRONT)) == 8 + 4  # the boxes' fronts and the swatches
    # thickness = channels (log-scaled), face = the map (square-root scale), depth receding
    c1 = next(p for p in sides if p.hue is Hue.CONVOLUTION)
    (x0, y0), (x1, y1), _, (x3, y3) = c1.points
    assert y3 - y0 == pytest.approx(100 * math.sqrt(28 / 32))  # C1's 28 rows
    assert x1 - x0 == pytest.approx(100 * math.sqrt(28 / 32) * blocks.SKEW)  # its 28 columns
    assert "".join(texts).count("(x") == 0


def test_blocks_merge_norm_and_activation_into_their_convolution() -> None:
    summary = analyze(TV / "resnet18.torchscript.onnx", 2)
    picture = blocks.blocks(summary, summary.edges)
    fronts = faces(picture, Face.FRONT)
    sides = faces(picture, Face.SIDE)
    # conv1, bn1 and relu: one box of three bands (conv, norm, activation), its side the last
    first = [p.hue for p in fronts[1:4]]
    assert first == [Hue.CONVOLUTION, Hue.NORMALIZATION, Hue.ACTIVATION]
    assert sides[1].hue is Hue.ACTIVATION
    names = [s.text for s in picture.shapes if isinstance(s, Text) and s.bold]
    assert names[:4] == ["INPUT", "conv1-relu", "maxpool", "layer1.0-1 (x2)"]
    # 1 input, conv1-relu, maxpool, layer1 (x2), 6 blocks, avgpool-flatten, fc
    assert len(sides) == 1 + 1 + 1 + 1 + 6 + 1 + 1


def test_blocks_draw_sums_and_skips() -> None:
    """A Keras ResNet50's Add layers (rows of their own, as Keras shows them) are circled
    plus signs, its shortcuts arcs; torch's residual add is in no module (torchinfo shows no
    row for it): it joins its block's last layer, and the shortcut arcs onto that box."""
    keras = analyze(ROOT / "tests" / "data" / "keras" / "resnet50.tf2onnx.onnx",
                    dims={"unk__615": 1})
    picture = blocks.blocks(keras, keras.edges)
    sums = [s for s in picture.shapes if isinstance(s, Rect) and s.ink is Ink.BOX
            and s.radius == s.w / 2]
    assert sum(layer.op_types == ("Add",) for layer in keras.layers) == 16
    assert len(sums) == 1 + 1 + 1 + 1 + 2 * 2  # per stage the first block and the rest folded
    frames = [s for s in picture.shapes if isinstance(s, Rect) and s.ink is Ink.FRAME]
    assert len(frames) == 4
    summary = analyze(TV / "resnet18.torchscript.onnx", 3)
    picture = blocks.blocks(summary, summary.edges)
    assert not [s for s in picture.shapes if isinstance(s, Rect) and s.ink is Ink.BOX
                and s.radius == s.w / 2]
    arcs = [s for s in picture.shapes if isinstance(s, Line) and s.arrow and len(s.points) >= 3]
    assert len(arcs) == 1 + 3 * 2  # layer1's folded pair once, two blocks per later stage
    frames = [s for s in picture.shapes if isinstance(s, Rect) and s.ink is Ink.FRAME]
    assert len(frames) == 1  # layer1.0-1 (x2)
    assert picture.min_text * shown(picture) >= 9


def test_blocks_in_svg_and_tikz_share_their_colours() -> None:
    summary = analyze(EXAMPLES / "lenet5.onnx")
    picture = blocks.blocks(summary, summary.edges)
    root = ET.fromstring(svg.to_svg(picture))
    paths = root.findall("s:path[@class]", NS)
    assert len(paths) == sum(isinstance(s, Poly) for s in picture.shapes)
    conv = [p for p in paths if p.get("class") == "cnncount-hue-conv cnncount-face-front"]
    fill = "#{:02x}{:02x}{:02x}".format(*mixed(Hue.CONVOLUTION, Face.FRONT))
    assert len(conv) == 3 + 1 and {p.get("fill") for p in conv} == {fill}  # C1, C3, C5, swatch
    tex = tikz.to_tikz(picture)
    r, g, b = mixed(Hue.CONVOLUTION, Face.FRONT)
    assert tex.count(f"fill={{rgb,255:red,{r};green,{g};blue,{b}}}") == 3 + 1
    assert tex.count("-- cycle;") == len(paths)


def test_the_stylesheet_mixes_the_same_hues_with_the_page() -> None:
    """Dark and light themes: each face is its share of the hue over the page's background."""
    css = (ROOT / "sphinx_cnncount" / "static" / "cnncount.css").read_text()
    for hue, (r, g, b) in HUES.items():
        assert f".cnncount-hue-{hue.value} {{ --cnncount-hue: rgb({r}, {g}, {b}); }}" in css
    for face, share in SHARE.items():
        assert (f".cnncount-face-{face.value} {{ fill: color-mix(in srgb, var(--cnncount-hue) "
                f"{round(share * 100)}%, var(--cnncount-bg)); }}") in css


def test_blocks_from_the_api_and_the_cli(tmp_path: Path) -> None:
    from sphinx_cnncount.cli import main

    summary = analyze(EXAMPLES / "lenet5.onnx")
    assert b"cnncount-hue-conv" in summary.diagram(kind="blocks")
    assert main(["diagram", str(EXAMPLES / "lenet5.onnx"), "--kind", "blocks", "-o",
                 str(tmp_path / "b.tex")]) == 0
    assert "rgb,255:red" in (tmp_path / "b.tex").read_text()
    assert re.search(r"3D blocks of 7 layers", summary.diagram(kind="blocks").decode())


# ---------------------------------------------------------------------------------------------
# The directive: :kind: (the CLI's name for :diagram:), :table: no for a figure alone


@pytest.mark.sphinx("html", testroot="blocks", freshenv=True)
def test_the_directive_draws_blocks_alone(app) -> None:
    with_models(app)
    app.build()
    found = warnings(app)
    assert len(found) == 2, found
    assert "index.rst:18: WARNING: models/lenet5.onnx: :kind: and :diagram: are one option: " \
           "give one of them [cnncount.error]" in found[0]
    assert "index.rst:24: WARNING: models/lenet5.onnx: :caption: titles the table, and " \
           ":table: no leaves none [cnncount.error]" in found[1]
    page = Path(app.outdir, "index.html").read_text(encoding="utf8")
    first, second = re.findall(r"<svg .*?</svg>", page, re.S)
    # labelled with the directive's description of the model (its alt text)
    assert "cnncount-hue-conv cnncount-face-side" in first \
        and "Diagram of lenet5.onnx: 7 layers in a chain" in first
    assert ">C1:<" in second and "cnncount-hue" not in second
    assert page.count('<table class="cnncount-table') == 1  # the figure alone, then both


@pytest.mark.sphinx("latex", testroot="blocks", freshenv=True)
def test_the_latex_builder_draws_blocks(app) -> None:
    with_models(app)
    app.build()
    tex = next(Path(app.outdir).glob("*.tex")).read_text(encoding="utf8")
    r, g, b = mixed(Hue.POOLING, Face.SIDE)
    assert tex.count(f"fill={{rgb,255:red,{r};green,{g};blue,{b}}}") == 2  # S2, S4
    assert tex.count(tikz.MARK) == 2 and tex.count(tikz.BEGIN) == 2
