"""``cnncount diagram`` and ``render_diagram``: SVG and TikZ written by cnncount, PDF and PNG
converted by rsvg-convert (skipped where it is not installed)."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sphinx_cnncount.choices import Diagram, Format
from sphinx_cnncount.cli import main
from sphinx_cnncount.render import diagram
from sphinx_cnncount import analyze
from sphinx_cnncount.render.diagram import ConverterMissing, render_diagram

from .conftest import EXAMPLES
from .test_themes import screenshot_dir

RESNET18 = Path(__file__).resolve().parent / "data" / "torchvision" / "resnet18.torchscript.onnx"
RESIDUAL = Path(__file__).resolve().parent / "roots" / "test-graph" / "residual.onnx"
needs_rsvg = pytest.mark.skipif(shutil.which("rsvg-convert") is None,
                                reason="rsvg-convert (librsvg2-bin) is not installed")


def svg_texts(data: bytes) -> list[str]:
    root = ET.fromstring(data)
    return [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]


def test_svg_of_a_folded_wrapped_chain(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "resnet18.svg"
    assert main(["diagram", str(RESNET18), "--depth", "2", "-o", str(out)]) == 0
    root = ET.fromstring(out.read_bytes())
    # as wide as the column once shrunk to its 9 px text: min-width is at most the column
    least = int(re.search(r"min-width:(\d+)px", root.get("style")).group(1))
    assert least <= diagram.MAX_WIDTH < int(root.get("width"))
    labels = svg_texts(out.read_bytes())
    assert "layer1.0-1 (x2):" in labels  # two identical blocks drawn once
    assert "layer2.0:" in labels and "layer2.1:" in labels  # different blocks both drawn
    assert "conv1-relu:" in labels  # conv1, bn1 and relu drawn once, as one stack
    # conv1, layer1.0-1, then two of each later stage: 1 + 1 + 3 * 2
    assert labels.count("convolutions") == 1 + 1 + 3 * 2
    assert "avgpool-flatten:" in labels and "global" in labels and "flatten" not in labels
    assert capsys.readouterr() == ("", "")


def test_one_row_and_the_graph_kind(tmp_path: Path) -> None:
    one = tmp_path / "one.svg"
    assert main(["diagram", str(RESNET18), "--depth", "2", "--width", "0", "-o", str(one)]) == 0
    assert int(ET.fromstring(one.read_bytes()).get("width")) > 1500
    assert "layer1.0-1 (x2):" not in svg_texts(one.read_bytes())
    graph = tmp_path / "graph.svg"
    assert main(["diagram", str(RESIDUAL), "--depth", "2", "--kind", "graph", "-o",
                 str(graph)]) == 0
    texts = svg_texts(graph.read_bytes())
    assert "block.conv2" in texts and "block.relu_1" in texts  # the skip's join: boxes


def test_tikz(tmp_path: Path) -> None:
    out = tmp_path / "lenet.tex"
    assert main(["diagram", str(EXAMPLES / "lenet5.onnx"), "-o", str(out)]) == 0
    tex = out.read_text()
    assert tex.startswith("% lenet5.onnx: INPUT 32x32, C1: feature maps 6@28x28")
    # scaled down to the line (and a page) when larger, in a box as wide as the line
    assert r"\resizebox{\linewidth}{!}{\box0}" in tex and r"\makebox[\linewidth]" in tex
    assert tex.count(r"\begin{tikzpicture}") == 1
    assert "{Gaussian}" in tex and tex.count("{") == tex.count("}")
    natural = tmp_path / "natural.tex"
    assert main(["diagram", str(EXAMPLES / "lenet5.onnx"), "--natural-size", "-o",
                 str(natural)]) == 0
    tex = natural.read_text()
    assert r"\resizebox" not in tex and tex.rstrip().endswith(r"\end{tikzpicture}")


def test_stdout_and_format_errors(tmp_path: Path, capsysbinary: pytest.CaptureFixture) -> None:
    assert main(["diagram", str(EXAMPLES / "lenet5.onnx"), "-o", "-"]) == 0
    assert capsysbinary.readouterr().out.startswith(b"<svg ")
    assert main(["diagram", str(EXAMPLES / "lenet5.onnx"), "-o", str(tmp_path / "x.jpg")]) == 2
    assert capsysbinary.readouterr().err.decode() == (
        f"cnncount: error: cannot tell the format of '{tmp_path / 'x.jpg'}' from its suffix "
        "(choose from .svg, .tex, .pdf, .png, or give --format)\n")
    assert main(["diagram", str(EXAMPLES / "lenet5.onnx"), "--format", "svg", "-o",
                 str(tmp_path / "x.jpg")]) == 0
    assert main(["diagram", str(tmp_path / "none.onnx"), "-o", str(tmp_path / "x.svg")]) == 2
    assert b"no such file" in capsysbinary.readouterr().err


def test_pdf_and_png_need_the_converter(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                        capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no rsvg-convert
    summary = analyze(EXAMPLES / "lenet5.onnx")
    edges = summary.edges
    with pytest.raises(ConverterMissing, match="rsvg-convert .*librsvg2-bin"):
        render_diagram(summary, edges, fmt=Format.PNG)
    assert main(["diagram", str(EXAMPLES / "lenet5.onnx"), "-o", str(tmp_path / "x.pdf")]) == 2
    assert "writing PDF needs rsvg-convert" in capsys.readouterr().err
    assert render_diagram(summary, edges, fmt=Format.SVG).startswith(b"<svg ")  # no converter


def test_nothing_to_draw() -> None:
    summary = analyze(EXAMPLES / "lenet5.onnx")
    edges = summary.edges
    with pytest.raises(ValueError, match="nothing to draw"):
        render_diagram(summary, edges, kind=Diagram.NONE)


@needs_rsvg
def test_pdf_and_png(tmp_path: Path) -> None:
    pdf, png = tmp_path / "lenet.pdf", tmp_path / "resnet18.png"
    assert main(["diagram", str(EXAMPLES / "lenet5.onnx"), "-o", str(pdf)]) == 0
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert main(["diagram", str(RESNET18), "--depth", "2", "-o", str(png), "--zoom", "1.5"]) == 0
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width = int.from_bytes(data[16:20], "big")
    svg = analyze(RESNET18, 2).diagram()
    assert abs(width - int(ET.fromstring(svg).get("width")) * 1.5) <= 0.5
    shots = screenshot_dir()  # to be looked at
    shots.mkdir(parents=True, exist_ok=True)
    for name, model, depth in (("diagram-lenet5", EXAMPLES / "lenet5.onnx", 1),
                               ("diagram-keras", EXAMPLES / "keras_cnn.onnx", 1),
                               ("diagram-resnet18", RESNET18, 2),
                               ("diagram-residual", RESIDUAL, 2)):
        for kind in ("auto", "blocks"):
            assert main(["diagram", str(model), "--depth", str(depth), "--kind", kind, "-o",
                         str(shots / f"{name}-{kind}.png")]) == 0
