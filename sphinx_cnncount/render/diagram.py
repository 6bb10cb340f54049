"""The diagrams of a summary, laid out once and written as SVG, TikZ, PDF or PNG.

* ``lenet`` (``render.lenet``): the LeNet-5 paper's Figure 2 for a chain of layers;
* ``graph`` (``render.graph``): the layer DAG of a branching model, in bands that read like
  text;
* ``blocks`` (``render.blocks``): the 3D boxes of PlotNeuralNet and NN-SVG, generated from the
  model.

Each is a pure function from a :class:`~sphinx_cnncount.count.Summary` and its layer edges
(``Summary.edges``) to a
:class:`~sphinx_cnncount.render.drawing.Drawing`; :func:`render_diagram` writes one in a
:class:`Format`. SVG and TikZ are written by this package; PDF and PNG are converted from the SVG
by ``rsvg-convert`` (librsvg), when it is installed.
"""

from __future__ import annotations

import shutil
import subprocess

from ..choices import Diagram, Format, parse_diagram  # noqa: F401 (re-exported)
from ..summary import Summary
from ..escape import printable
from .blocks import blocks
from .drawing import Drawing
from .graph import graph
from .lenet import lenet
from .svg import to_svg
from .tikz import to_tex_file
from .vocabulary import Translate, same

Edges = tuple[tuple[int, int], ...]  # (from layer, to layer), indices into summary.layers


def is_chain(n_layers: int, edges: Edges) -> bool:
    """Whether the layers form one path, each feeding only the next."""
    return set(edges) <= {(i, i + 1) for i in range(n_layers - 1)}


def resolve(kind: Diagram, summary: Summary, edges: Edges) -> Diagram:
    """``auto`` -> ``lenet`` for a chain, ``graph`` for a DAG; other kinds as given."""
    if kind is not Diagram.AUTO:
        return kind
    return Diagram.LENET if is_chain(len(summary.layers), edges) else Diagram.GRAPH


MAX_WIDTH = 680.0  # px: a documentation column (furo's, sphinx-rtd-theme's, alabaster's)
# px: a LaTeX article's text width, 345 pt, at TikZ's 0.75 pt per px: a picture laid out for
# it is set at its natural size there, its smallest text 9 px = 6.75 pt at the least.
TEX_WIDTH = 460.0


def drawing(kind: Diagram, summary: Summary, edges: Edges,
            max_width: float | None = MAX_WIDTH, translate: Translate = same) -> Drawing | None:
    """The drawing of ``kind`` (``auto`` resolved), or None for ``none`` or a model without
    layers. ``max_width`` (px) is the column the figure must stay legible in (its smallest
    text 9 px once shrunk to it); None: no column (a chain in one row, nothing folded).
    ``translate`` gives each of the figure's words in the page's language (the Sphinx
    extension's message catalog); names and sizes are drawn as they are."""
    kind = resolve(kind, summary, edges)
    if not summary.layers:
        return None
    if kind is Diagram.LENET:
        return lenet(summary, max_width, translate)
    if kind is Diagram.GRAPH:
        return graph(summary, edges, max_width, translate)
    if kind is Diagram.BLOCKS:
        return blocks(summary, edges, max_width, translate)
    return None


def render(kind: Diagram, summary: Summary, edges: Edges, uid: str = "cnncount",
           max_width: float | None = None) -> str:
    """The SVG of ``kind`` (``auto`` resolved), or "" for ``none``; ``uid`` prefixes SVG ids.
    ``max_width`` is the column the figure must stay legible in (None: one row)."""
    picture = drawing(kind, summary, edges, max_width)
    return "" if picture is None else to_svg(picture, uid)


# ---------------------------------------------------------------------------------------------
# Files


CONVERTER = "rsvg-convert"  # librsvg's command line tool: SVG -> PDF, PNG


class ConverterMissing(ValueError):
    """PDF or PNG asked for and ``rsvg-convert`` is not installed."""


def render_diagram(summary: Summary, edges: Edges, kind: Diagram = Diagram.AUTO,
                   fmt: Format = Format.SVG, max_width: float | None | str = "auto",
                   zoom: float = 2.0, natural: bool = False) -> bytes:
    """The diagram of a summary as the bytes of a file in ``fmt``; ``zoom`` scales a PNG.

    ``max_width`` (px) is the column the figure must stay legible in (None: one row; ``auto``:
    :data:`MAX_WIDTH` for SVG, PDF and PNG, a LaTeX article's :data:`TEX_WIDTH` for TikZ).
    TikZ is scaled down to ``\\linewidth`` where it is wider (``natural``: never).

    A ValueError when there is nothing to draw (``none``, no layers) or, for PDF and PNG, when
    ``rsvg-convert`` is not installed (:class:`ConverterMissing`).
    """
    if max_width == "auto":
        max_width = TEX_WIDTH if fmt is Format.TIKZ else MAX_WIDTH
    elif isinstance(max_width, str):
        raise ValueError(f"width: a number of px, None or 'auto', not {max_width!r}")
    picture = drawing(kind, summary, edges, max_width)
    if picture is None:
        raise ValueError(f"{printable(summary.model)}: nothing to draw "
                         f"({'no layers' if not summary.layers else 'diagram none'})")
    if fmt is Format.TIKZ:
        return to_tex_file(picture, natural).encode()
    svg = to_svg(picture, uid="cnncount").encode()
    if fmt is Format.SVG:
        return svg
    tool = shutil.which(CONVERTER)
    if tool is None:
        raise ConverterMissing(
            f"writing {fmt.value.upper()} needs {CONVERTER} (librsvg; Debian and Ubuntu: "
            f"apt-get install librsvg2-bin, macOS: brew install librsvg); .svg and .tex "
            "need nothing more")
    args = [tool, f"--format={fmt.value}"]
    if fmt is Format.PNG:
        args += [f"--zoom={zoom:g}", "--background-color=white"]
    done = subprocess.run(args, input=svg, capture_output=True, timeout=120, check=False)
    if done.returncode != 0 or not done.stdout:
        raise ValueError(f"{CONVERTER} failed ({done.returncode}): "
                         f"{done.stderr.decode(errors='replace').strip()[-300:]}")
    return done.stdout
