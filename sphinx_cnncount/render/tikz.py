"""A :class:`~sphinx_cnncount.render.drawing.Drawing` as a TikZ picture, for LaTeX and the PDF.

The same drawing as the SVG, coordinate for coordinate: one px is 0.75 pt (CSS's 96 px per
inch), y points down as in the SVG, text is set in the document's sans-serif face, black on
white. :func:`to_latex` wraps the picture so that it never overflows the text width.
"""

from __future__ import annotations

from .drawing import Anchor, Dot, Drawing, Ink, Path, Poly, Rect, Shape, Text, mixed

PT_PER_PX = 0.75
_ANCHOR = {Anchor.START: "base west", Anchor.MIDDLE: "base", Anchor.END: "base east"}
_STYLE = {Ink.PLANE: "draw, fill=white", Ink.BAR: "draw, fill=black!12",
          Ink.BOX: "draw, fill=black!5", Ink.LINE: "draw", Ink.FAINT: "draw=black!60",
          Ink.FRAME: "draw=black!70, dashed"}
_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
            "#": r"\#", "^": r"\textasciicircum{}", "_": r"\_", "%": r"\%",
            "~": r"\textasciitilde{}", "<": r"\textless{}", ">": r"\textgreater{}",
            "|": r"\textbar{}", '"': r"\textquotedbl{}", "-": "-{}"}


def tex_escape(text: str, unicode: bool = False) -> str:
    """Text safe in any LaTeX engine: specials escaped, characters beyond Latin-1 (which
    pdfLaTeX's fonts may not have) shown as ``?``; with ``unicode`` (XeLaTeX, LuaLaTeX, a
    translated page's words) kept as they are."""
    return "".join(_SPECIAL.get(ch, ch if 32 <= ord(ch) < 127 or 0xA0 <= ord(ch) <= 0xFF
                                or (unicode and ord(ch) > 0xFF) else "?") for ch in text)


def _n(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _pt(x: float, y: float) -> str:
    return f"({_n(x)},{_n(y)})"


def _span(s: Shape) -> tuple[float, float]:
    """The vertical extent of a shape, in px."""
    if isinstance(s, Rect):
        return s.y, s.y + s.h
    if isinstance(s, Text):
        return s.y - s.size, s.y + s.size * 0.3  # ascenders above the baseline, descenders below
    if isinstance(s, Dot):
        return s.y - s.r, s.y + s.r
    ys = [y for _, y in s.points]  # a path, a polygon
    return min(ys), max(ys)


def to_tikz(picture: Drawing, band: tuple[float, float] | None = None,
            unicode: bool = False) -> str:
    """The ``tikzpicture`` of a drawing (needs ``\\usepackage{tikz}``); with ``band``
    (top, bottom in px), only that horizontal slice of it."""
    top, bottom = band if band else (0.0, picture.height)
    out = [rf"\begin{{tikzpicture}}[x={PT_PER_PX}pt,y=-{PT_PER_PX}pt,line join=round,"
           r">=stealth]",
           # the drawing's own size, so that margins match the SVG's
           rf"\useasboundingbox {_pt(0, top)} rectangle {_pt(picture.width, bottom)};"]
    if band:
        out.append(rf"\clip {_pt(0, top)} rectangle {_pt(picture.width, bottom)};")
    for s in picture.shapes:
        if band:
            y0, y1 = _span(s)
            if y1 < top or y0 > bottom:
                continue
        if isinstance(s, Rect):
            corner = f", rounded corners={_n(s.radius * PT_PER_PX)}pt" if s.radius else ""
            out.append(rf"\path[{_STYLE[s.ink]}, line width={_n(s.stroke * PT_PER_PX)}pt"
                       rf"{corner}] {_pt(s.x, s.y)} rectangle {_pt(s.x + s.w, s.y + s.h)};")
        elif isinstance(s, Path):
            first, *rest = s.points
            if s.curve:
                segs = "".join(f" .. controls {_pt(*rest[k])} and {_pt(*rest[k + 1])} .. "
                               f"{_pt(*rest[k + 2])}" for k in range(0, len(rest), 3))
            else:
                segs = "".join(f" -- {_pt(*p)}" for p in rest)
            arrow = ", ->" if s.arrow else ""
            out.append(rf"\path[{_STYLE[s.ink]}, line width={_n(s.stroke * PT_PER_PX)}pt"
                       rf"{arrow}] {_pt(*first)}{segs};")
        elif isinstance(s, Text):
            size = s.size * PT_PER_PX
            font = rf"\sffamily\fontsize{{{_n(size)}}}{{{_n(size * 1.2)}}}\selectfont"
            if s.bold:
                font += r"\bfseries"
            out.append(rf"\node[anchor={_ANCHOR[s.anchor]}, inner sep=0pt, font={font}] "
                       rf"at {_pt(s.x, s.y)} {{{tex_escape(s.text, unicode)}}};")
        elif isinstance(s, Poly):
            r, g, b = mixed(s.hue, s.face)
            out.append(rf"\path[draw, fill={{rgb,255:red,{r};green,{g};blue,{b}}}, "
                       rf"line width={_n(s.stroke * PT_PER_PX)}pt] "
                       + " -- ".join(_pt(*p) for p in s.points) + " -- cycle;")
        elif isinstance(s, Dot):
            out.append(rf"\fill {_pt(s.x, s.y)} circle ({_n(s.r * PT_PER_PX)}pt);")
    out.append(r"\end{tikzpicture}")
    return "\n".join(out)


PAGE_PX = 700.0  # px of drawing per slice: 525 pt, under the text height of a letter or A4 page
ROOM = r"\dimexpr\textheight-4\baselineskip\relax"  # the tallest a picture is set: a page's text

# Box 0 holds a picture: at most as wide as the line and as tall as a page's text (scaled down
# if not, fonts with it), then set centred in a paragraph of its own, in a box exactly as wide
# as the line, so that it never overflows into the margin or the footer whatever the text
# around it or the paragraph's indentation.
_FIT = "\n".join([
    r"\ifdim\wd0>\linewidth\setbox0=\hbox{\resizebox{\linewidth}{!}{\box0}}\fi",
    rf"\ifdim\ht0>{ROOM}\setbox0=\hbox{{\resizebox*{{!}}{{{ROOM}}}{{\box0}}}}\fi",
    r"\par\noindent\makebox[\linewidth]{\box0}\par",
])
BEGIN, END = "%% cnncount: begin", "%% cnncount: end"  # what a log check looks between


def bands(picture: Drawing, page: float = PAGE_PX) -> list[tuple[float, float]]:
    """Horizontal slices of a drawing, each at most ``page`` px tall, cut where no box or label
    is cut (a drawing taller than a page goes on over the next ones, at the same scale)."""
    # Where a cut crosses nothing: the gaps between the merged extents of boxes and labels.
    cuts: list[float] = []
    end = -1.0
    for a, b in sorted(_span(s) for s in picture.shapes if not isinstance(s, Path)):
        if a > end + 1 and end >= 0:
            cuts.append((end + a) / 2)
        end = max(end, b)
    out = []
    top = 0.0
    k = 0
    while picture.height - top > page:
        while k < len(cuts) and cuts[k] <= top:
            k += 1
        j = k
        while j < len(cuts) and cuts[j] <= top + page:
            j += 1
        cut = cuts[j - 1] if j > k else top + page  # the lowest gap in this page, else its end
        out.append((top, cut))
        top = cut
    out.append((top, picture.height))
    return out


MARK = "cnncount: figure"  # written to the log as the picture's page ships out


def _fitted(tikz: str) -> str:
    """The picture, fitted; it says in the log which page it is on (a log check can then
    tell an overfull page of ours from any other)."""
    return "\n".join([r"\begingroup", rf"\setbox0=\hbox{{\write-1{{{MARK}}}%", tikz + "%",
                      "}%", _FIT, r"\endgroup"])


def to_latex(picture: Drawing, unicode: bool = False) -> str:
    """The picture centred, scaled down to the text width when wider, in page-sized slices
    when taller than a page (LaTeX breaks pages between them); each slice is scaled down
    further if it is still taller than a page's text."""
    parts = [BEGIN]
    slices = bands(picture)
    for band in slices:
        parts += [r"\begin{center}",
                  _fitted(to_tikz(picture, band if len(slices) > 1 else None, unicode)),
                  r"\end{center}"]
    parts.append(END)
    return "\n".join(parts)


def to_tex_file(picture: Drawing, natural: bool = False) -> str:
    """A file for ``\\input`` in a LaTeX document that loads ``tikz``: the picture scaled down
    to ``\\linewidth`` (and to a page's text height) when larger, set in a box as wide as the
    line; with ``natural``, the bare ``tikzpicture`` at its own size (1 px = 0.75 pt)."""
    head = [f"% {tex_comment(picture.label)}",
            r"% needs \usepackage{tikz} (which loads graphicx); made by cnncount diagram"]
    if natural:
        return "\n".join([*head, to_tikz(picture), ""])
    return "\n".join([*head, BEGIN, _fitted(to_tikz(picture)), END, ""])


def tex_comment(text: str) -> str:
    """Text for a ``%`` comment: one line, printable."""
    return "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)
