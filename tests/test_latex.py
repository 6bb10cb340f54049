"""The LaTeX builder: the diagrams as TikZ pictures, numbers right-aligned, and a real PDF.

The .tex checks run everywhere; compiling it needs ``latexmk`` and a TeX distribution
(Debian: latexmk, texlive-latex-recommended, texlive-latex-extra, texlive-fonts-recommended)
and is skipped without them. A page of the PDF is rendered with ``pdftoppm`` (poppler-utils),
when present, into ``$CNNCOUNT_SCREENSHOTS`` (default build/screenshots) to be looked at.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from sphinx_cnncount import analyze
from sphinx_cnncount.choices import Diagram
from sphinx_cnncount.render import DEFAULT_COLUMNS
from sphinx_cnncount.render.tikz import tex_escape
from sphinx_cnncount.sphinx_ext import latex_colspec

from .conftest import EXAMPLES
from .helpers import sphinx_build
from .test_themes import SRC, screenshot_dir

TEX = "cnncount.tex"  # the root's project name


@pytest.fixture(scope="module")
def latex_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("latex")
    warnings = sphinx_build(SRC, out, "latex")
    assert "WARNING" not in warnings, warnings
    return out


def test_the_tex_has_the_diagrams_and_right_aligned_numbers(latex_dir: Path) -> None:
    tex = (latex_dir / TEX).read_text(encoding="utf-8")
    assert r"\usepackage{tikz}" in tex
    assert tex.count(r"\begin{tikzpicture}") == 3  # LeNet, ResNet-18, the residual graph
    assert "{C1: feature maps}" in tex and "{Gaussian}" in tex and "{connections}" in tex
    assert "{layer1.0-{}1 (x2):}" in tex  # the folded blocks ("-{}": no "--" ligature)
    # Layer, Type, Output left; Params, Connections, MACs right.
    assert tex.count(r"\begin{tabulary}{\linewidth}[t]{LLLRRR}") == 2
    wide = r">{\small}L" * 3 + r">{\small}R" * 4 + r">{\small}L"  # ... FLOPs, RF size/stride
    assert rf"\begin{{tabulary}}{{\linewidth}}[t]{{{wide}}}" in tex
    # A table too long for one page is a longtable: sized columns, numbers still right.
    spec = re.search(r"\\begin\{longtable\}\{(.*)\}", tex).group(1)
    assert spec.count(r"\raggedleft") == 3 and spec.count(r"\raggedright") == 3


def test_latex_colspec() -> None:
    assert latex_colspec(DEFAULT_COLUMNS, [6] * 6, rows=9) == "LLLRRR"
    # Sphinx makes a table of more than 30 rows (header and totals counted) a longtable.
    assert latex_colspec(DEFAULT_COLUMNS, [6] * 6, rows=30) == "LLLRRR"
    assert r"\X{" in latex_colspec(DEFAULT_COLUMNS, [6] * 6, rows=31)
    long = latex_colspec(DEFAULT_COLUMNS, [5, 4, 7, 6, 11, 7], rows=31)
    assert long.count(r"\X{") == 6 and r"\X{14}{58}" in long  # (11 + 3) of (40 + 6 * 3)


def test_tex_escape() -> None:
    assert tex_escape(r"a_b&c%d$e#f{g}h~i^j\k<l>m|n") == (
        r"a\_b\&c\%d\$e\#f\{g\}h\textasciitilde{}i\textasciicircum{}j\textbackslash{}k"
        r"\textless{}l\textgreater{}m\textbar{}n")
    assert tex_escape("é卷") == "é?"  # beyond Latin-1: no font in pdfLaTeX promises it


@pytest.mark.skipif(shutil.which("latexmk") is None, reason="latexmk is not installed")
def test_the_pdf_compiles(latex_dir: Path) -> None:
    done = subprocess.run(["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error",
                           TEX], cwd=latex_dir, capture_output=True, text=True, timeout=600,
                          check=False)
    pdf = latex_dir / TEX.replace(".tex", ".pdf")
    assert done.returncode == 0 and pdf.is_file(), done.stdout[-3000:]
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                              text=True, check=True).stdout
        for words in ("C1: feature maps", "6@28x28", "Gaussian", "subsampling",
                      "layer1.0-1 (x2):", "60,840", "340,908"):
            assert words in text, words
    if shutil.which("pdftoppm"):  # the LeNet page, to be looked at
        shots = screenshot_dir()
        shots.mkdir(parents=True, exist_ok=True)
        page = next(n for n in range(1, 20) if "C1: feature maps" in subprocess.run(
            ["pdftotext", "-f", str(n), "-l", str(n), str(pdf), "-"], capture_output=True,
            text=True, check=False).stdout)
        subprocess.run(["pdftoppm", "-r", "90", "-png", "-f", str(page), "-l", str(page),
                        "-singlefile", str(pdf), str(shots / "latex-lenet")], check=True)
        assert (shots / "latex-lenet.png").stat().st_size > 10_000


def test_a_drawing_taller_than_a_page_goes_on_in_slices() -> None:
    from sphinx_cnncount.render import diagram, tikz
    from sphinx_cnncount.render.drawing import Rect, Text

    resnet18 = Path(__file__).resolve().parent / "data" / "torchvision" / \
        "resnet18.torchscript.onnx"
    picture = diagram.drawing(Diagram.AUTO, (s := analyze(resnet18, 3)), s.edges)
    bands = tikz.bands(picture)
    assert len(bands) >= picture.height / tikz.PAGE_PX
    assert bands[0][0] == 0 and bands[-1][1] == picture.height
    assert all(b - a <= tikz.PAGE_PX for a, b in bands)
    assert all(bands[k][1] == bands[k + 1][0] for k in range(len(bands) - 1))
    boxes = [(s.y, s.y + s.h) for s in picture.shapes if isinstance(s, Rect)]
    labels = [(s.y - s.size, s.y) for s in picture.shapes if isinstance(s, Text)]
    for _, cut in bands[:-1]:  # no box or label cut in two
        assert not any(a < cut < b for a, b in boxes + labels)
    latex = tikz.to_latex(picture)
    assert latex.count(r"\begin{tikzpicture}") == len(bands) and latex.count(r"\clip") == len(bands)
    lenet = diagram.drawing(Diagram.AUTO, (s := analyze(EXAMPLES / "lenet5.onnx")), s.edges)
    assert tikz.bands(lenet) == [(0.0, lenet.height)] and r"\clip" not in tikz.to_latex(lenet)
