"""The LaTeX builder: the diagrams as TikZ pictures, numbers right-aligned, and a real PDF.

The .tex checks run everywhere; compiling it needs ``latexmk`` and a TeX distribution
(Debian: latexmk, texlive-latex-recommended, texlive-latex-extra, texlive-fonts-recommended,
tex-gyre) and is skipped, with the reason, without them. A page of the PDF is rendered with
``pdftoppm`` (poppler-utils), when present, into ``$CNNCOUNT_SCREENSHOTS`` (default
build/screenshots) to be looked at.
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
from sphinx_cnncount.render import tikz
from sphinx_cnncount.render.tikz import tex_escape
from sphinx_cnncount.sphinx_ext import latex_colspec

from .conftest import EXAMPLES
from .helpers import sphinx_build
from .latex_log import MARK, overfull
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
    # LeNet, ResNet-18, the residual graph, ResNet-18's blocks (taller than a slice: in two)
    assert tex.count(tikz.BEGIN) == 4 and tex.count(r"\begin{tikzpicture}") == 5
    assert "{C1:}" in tex and "{feature maps}" in tex and "{Gaussian}" in tex
    assert "{connections}" in tex
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


# Sphinx's LaTeX preamble (its default ``fontpkg`` for pdflatex) loads these; Debian puts them
# in the tex-gyre package, which texlive-fonts-recommended only recommends.
FONT_PACKAGES = ("tgtermes.sty", "tgheros.sty")


def _no_pdf_toolchain() -> str | None:
    """Why this machine cannot compile Sphinx's LaTeX output to a PDF, else None."""
    if shutil.which("latexmk") is None:
        return "latexmk is not installed"
    kpsewhich = shutil.which("kpsewhich")
    missing = [sty for sty in FONT_PACKAGES if kpsewhich is None or not subprocess.run(
        [kpsewhich, sty], capture_output=True, text=True, check=False).stdout.strip()]
    if missing:
        return (f"TeX has no {' or '.join(missing)}, which Sphinx's LaTeX loads "
                "(Debian: apt-get install tex-gyre)")
    return None


NO_PDF = _no_pdf_toolchain()


@pytest.mark.skipif(NO_PDF is not None, reason=NO_PDF or "")
def test_the_pdf_compiles(latex_dir: Path) -> None:
    done = subprocess.run(["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error",
                           TEX], cwd=latex_dir, capture_output=True, text=True, timeout=600,
                          check=False)
    pdf = latex_dir / TEX.replace(".tex", ".pdf")
    assert done.returncode == 0 and pdf.is_file(), done.stdout[-3000:]
    # no figure of ours runs into the margin or the footer (this root's tables are wider
    # than a page on purpose: the docs' own PDF is checked for tables too, by .ci/run)
    log = (latex_dir / TEX.replace(".tex", ".log")).read_text(errors="replace")
    assert overfull(log, (latex_dir / TEX).read_text(), tables=False) == []
    assert log.count(MARK) >= 3  # every diagram said on which page it is
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                              text=True, check=True).stdout
        for words in ("C1:", "feature maps", "6@28x28", "Gaussian", "subsampling",
                      "layer1.0-1 (x2):", "60,840", "340,908"):
            assert words in text, words
    if shutil.which("pdftoppm"):  # the LeNet page, to be looked at
        shots = screenshot_dir()
        shots.mkdir(parents=True, exist_ok=True)
        page = next(n for n in range(1, 20) if "6@28x28" in subprocess.run(
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


# ---------------------------------------------------------------------------------------------
# A figure in a paper: ``cnncount diagram -o fig.tex``, then ``\input{fig}`` in a plain article

TV = Path(__file__).resolve().parent / "data" / "torchvision"
ARTICLE = r"""\documentclass{article}
\usepackage{tikz}
\begin{document}
Reference text at the article's own size, 10 pt.

%s
\end{document}
"""
FIGURES = {  # file: (model, depth, kind)
    "lenet": (EXAMPLES / "lenet5.onnx", 1, "auto"),
    "blocks": (EXAMPLES / "lenet5.onnx", 1, "blocks"),
    "resnet": (TV / "resnet18.torchscript.onnx", 2, "auto"),
    "graph": (TV / "resnet18.torchscript.onnx", 3, "graph"),
    "vit": (TV / "vit_b_16.torchscript.onnx", 3, "auto"),
}


def _font_sizes(pdf: Path, pages: int) -> list[float]:
    """The smallest text of each page, in pt, from the words' boxes: a box is as tall as its
    font's ascent and descent, in the same ratio for every size of a face (the reference
    line, 10 pt, on every page, calibrates it)."""
    out = []
    for page in range(1, pages + 1):
        bbox = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf),
                               "-"], capture_output=True, text=True, check=True).stdout
        words = [(float(b) - float(a), w) for a, b, w in re.findall(
            r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)<', bbox)]
        reference = next(h for h, w in words if w == "Reference")
        out.append(10 * min(h for h, w in words if w not in ("Reference", "1", "2", "3", "4",
                                                             "5", "6")) / reference)
    return out


@pytest.mark.skipif(shutil.which("latexmk") is None, reason="latexmk is not installed")
def test_a_plain_article_inputs_the_tex_without_overfull_boxes(tmp_path: Path) -> None:
    """Before: LeNet-5 ran 100.5 pt into the margin, ResNet-18 92 pt. Now each picture scales
    itself down to \\linewidth (and a page) where larger, its text no smaller than 6.75 pt
    in the article's 345 pt column: it is laid out for that column."""
    from sphinx_cnncount.cli import main

    body = []
    for name, (model, depth, kind) in FIGURES.items():
        assert main(["diagram", str(model), "--depth", str(depth), "--kind", kind, "-o",
                     str(tmp_path / f"{name}.tex")]) == 0
        body.append(f"Some text before.\n\\input{{{name}.tex}}\nSome text after.\n"
                    "\\clearpage Reference\n")
    body.append("\\begin{figure}[h]\\centering\\input{blocks.tex}\\caption{In a float.}"
                "\\end{figure}")
    (tmp_path / "paper.tex").write_text(ARTICLE % "\n".join(body))
    done = subprocess.run(["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error",
                           "paper.tex"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:]
    log = (tmp_path / "paper.log").read_text(errors="replace")
    assert "Overfull" not in log and "Underfull" not in log
    if shutil.which("pdftotext"):
        sizes = dict(zip(FIGURES, _font_sizes(tmp_path / "paper.pdf", len(FIGURES))))
        # Every figure's text as readable as the column allows (9 px = 6.75 pt at 460 px)...
        assert all(size >= 6.5 for name, size in sizes.items() if name != "graph"), sizes
        # ... but ResNet-18's 66 layers at depth 3 fit a page only shrunk (a float cannot break)
        assert sizes["graph"] < 6.5
    natural = tmp_path / "natural.tex"
    assert main(["diagram", str(EXAMPLES / "lenet5.onnx"), "--natural-size", "--width", "0",
                 "-o", str(natural)]) == 0
    (tmp_path / "wide.tex").write_text(ARTICLE % "\\input{natural.tex}")
    subprocess.run(["latexmk", "-pdf", "-interaction=nonstopmode", "wide.tex"], cwd=tmp_path,
                   capture_output=True, timeout=600, check=False)
    assert "Overfull \\hbox" in (tmp_path / "wide.log").read_text(errors="replace")


@pytest.mark.skipif(shutil.which("latexmk") is None, reason="latexmk is not installed")
def test_the_log_check_tells_our_overfull_boxes(tmp_path: Path) -> None:
    """A picture taller than a page, and one wider than the line, not fitted: both ours; the
    same with cnncount's fitting: none; another's overfull line: not ours."""
    tall = r"\begin{tikzpicture}\draw (0,0) rectangle (5,26);\end{tikzpicture}"
    wide = r"\begin{tikzpicture}\draw (0,0) rectangle (16,1);\end{tikzpicture}"
    raw = "\n".join([tikz.BEGIN, rf"\hbox{{\write-1{{{MARK}}}{tall}}}", tikz.END,
                     tikz.BEGIN, wide, tikz.END, r"\par\noindent\hbox to 400pt{theirs}\par"])
    fitted = "\n".join(tikz.BEGIN + "\n" + tikz._fitted(pic) + "\n" + tikz.END
                       for pic in (tall, wide))
    for name, body, ours in (("raw", raw, 2), ("fitted", fitted, 0)):
        (tmp_path / f"{name}.tex").write_text(ARTICLE % body)
        subprocess.run(["latexmk", "-pdf", "-interaction=nonstopmode", f"{name}.tex"],
                       cwd=tmp_path, capture_output=True, timeout=600, check=False)
        log = (tmp_path / f"{name}.log").read_text(errors="replace")
        found = overfull(log, (tmp_path / f"{name}.tex").read_text())
        assert len(found) == ours, found
        assert log.count("Overfull") == ours + (name == "raw")  # theirs, not counted
