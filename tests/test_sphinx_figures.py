"""The diagram for those who cannot see it, and as a figure: layer names as row headers, a
description built from the model (``:alt:`` replaces it), a line with it where no picture can be
shown (text, man, texinfo), and the diagram numbered with the figures (``numfig``) when it has a
caption. Built with ``sphinx-build`` alone, as tests/test_builders.py, on every Sphinx version.
"""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from sphinx.cmd.build import build_main

from .test_builders import project

# tests/roots/test-figures. LeNet-5: INPUT 1x32x32 (the batch dropped), then C1, S2, C3, S4,
# C5, F6 and OUTPUT (10 units), each feeding the next.
LENET_ALT = ("Diagram of lenet5.onnx: 7 layers in a chain, from input 1@32x32 to output 10.")
# residual.onnx at depth 2 (tests/roots/test-graph/make_residual.py): stem, block.conv1,
# block.relu, block.conv2, block (the Add), block.relu_1, head.pool, head, head.fc. The stem's
# output goes to block.conv1 and to the Add, which takes it back with block.conv2's: one split,
# one merge.
RESIDUAL_ALT = ("Layer graph of residual.onnx: 8 layers, from input 3@16x16 to output 10. "
                "The data branches at 1 layer. Branches merge at 1 layer.")
OWN_ALT = "LeNet-5 in seven layers: two convolutions, two subsamplings, three full connections."


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """tests/roots/test-figures built with each builder, with -W."""
    where = tmp_path_factory.mktemp("figures")
    src = project(where, "test-figures")
    out = {}

    for builder in ("html", "latex", "text", "man", "texinfo"):
        assert build_main(["-q", "-W", "-b", builder, "-d", str(where / "doctrees"), str(src),
                           str(where / builder)]) == 0, builder
        out[builder] = where / builder
    return out


def svgs(page: str) -> list[str]:
    return re.findall(r"<svg .*?</svg>", page, re.S)


def test_layer_names_are_row_headers(built: dict[str, Path]) -> None:
    page = (built["html"] / "index.html").read_text(encoding="utf8")
    table = page[page.index('id="lenet-table"'):]
    table = table[:table.index("</table>")]
    assert re.findall(r'<th scope="row">([^<]*)</th>', table) == [
        "C1", "S2", "C3", "S4", "C5", "F6", "OUTPUT"]
    assert '<th scope="row"><strong>Total</strong></th>' in table
    assert table.count("<td") == 8 * 5  # the other five columns of the 7 layers and the totals


def test_the_diagram_is_described(built: dict[str, Path]) -> None:
    page = (built["html"] / "index.html").read_text(encoding="utf8")
    labels = [unescape(re.search(r'aria-label="([^"]*)"', svg).group(1)) for svg in svgs(page)]
    titles = [unescape(re.search(r"<title>(.*?)</title>", svg).group(1)) for svg in svgs(page)]
    assert labels == titles == [LENET_ALT, RESIDUAL_ALT, OWN_ALT]


def test_a_captioned_diagram_is_a_numbered_figure(built: dict[str, Path]) -> None:
    page = (built["html"] / "index.html").read_text(encoding="utf8")
    figures = re.findall(r'<figure class="cnncount-diagram-figure"( id="[^"]*")?>', page)
    assert figures[0] == ' id="lenet-figure"'
    assert re.fullmatch(r' id="cnncount-[0-9a-f]{8}-1"', figures[1])
    assert figures[2] == ""  # no caption, no name: no number
    captions = re.findall(r"<figcaption>\s*<p>(.*?)</p>\s*</figcaption>", page, re.S)
    assert [re.sub(r"<a class=\"headerlink\".*?</a>", "", c) for c in captions] == [
        '<span class="caption-number">Fig. 1 </span>'
        '<span class="caption-text">LeNet-5 as the paper draws it</span>',
        '<span class="caption-number">Fig. 2 </span>'
        '<span class="caption-text">A residual block</span>']
    assert '<span class="std std-numref">Fig. 1</span>' in page
    assert '<span class="std std-numref">LeNet-5 as the paper draws it</span>' in page
    assert '<span class="std std-numref">Table 1</span>' in page


def test_latex_numbers_the_figure(built: dict[str, Path]) -> None:
    tex = (built["latex"] / "figures.tex").read_text(encoding="utf8")
    assert (r"\captionof{figure}{LeNet\sphinxhyphen{}5 as the paper draws it}"
            r"\label{\detokenize{index:lenet-figure}}") in tex
    assert r"\captionof{figure}{A residual block}" in tex
    assert tex.count(r"\captionof{figure}") == 2 and tex.count(r"\begin{tikzpicture}") == 3
    assert (r"\hyperref[\detokenize{index:lenet-figure}]{Fig.\@ \ref{\detokenize{"
            r"index:lenet-figure}}}") in tex


@pytest.mark.parametrize("builder, name", [("text", "index.txt"), ("man", "figures.1"),
                                           ("texinfo", "figures.texi")])
def test_no_picture_a_line_in_its_place(built: dict[str, Path], builder: str,
                                        name: str) -> None:
    text = " ".join((built[builder] / name).read_text(encoding="utf8").split())
    if builder == "man":
        text = text.replace("\\-", "-").replace("\\@", "@").replace("\\(at", "@")
    if builder == "texinfo":
        text = text.replace("@@", "@")
    for alt in (LENET_ALT, RESIDUAL_ALT, OWN_ALT):
        assert f"[diagram: {alt}]" in text
    assert "LeNet-5 as the paper draws it" in text and "A residual block" in text


def test_the_text_builder_puts_the_caption_under_the_line(built: dict[str, Path]) -> None:
    text = (built["text"] / "index.txt").read_text(encoding="utf8")
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n")]
    k = paragraphs.index(f"[diagram: {LENET_ALT}]")
    assert paragraphs[k + 1] == "LeNet-5 as the paper draws it"
