"""A :class:`~sphinx_cnncount.render.drawing.Drawing` as a TikZ picture, for LaTeX and the PDF.

The same drawing as the SVG, coordinate for coordinate: one px is 0.75 pt (CSS's 96 px per
inch), y points down as in the SVG, text is set in the document's sans-serif face, black on
white. :func:`to_latex` wraps the picture so that it never overflows the text width.
"""

from __future__ import annotations

from .drawing import Anchor, Dot, Drawing, Ink, Path, Rect, Shape, Text

PT_PER_PX = 0.75
_ANCHOR = {Anchor.START: "base west", Anchor.MIDDLE: "base", Anchor.END: "base east"}
_STYLE = {Ink.PLANE: "draw, fill=white", Ink.BAR: "draw, fill=black!12",
          Ink.BOX: "draw, fill=black!5", Ink.LINE: "draw", Ink.FAINT: "draw=black!60"}
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
    ys = [y for _, y in s.points]
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
        elif isinstance(s, Dot):
            out.append(rf"\fill {_pt(s.x, s.y)} circle ({_n(s.r * PT_PER_PX)}pt);")
    out.append(r"\end{tikzpicture}")
    return "\n".join(out)


PAGE_PX = 800.0  # px of drawing per slice: 600 pt, under the text height of a letter or A4 page


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


def to_latex(picture: Drawing, unicode: bool = False) -> str:
    """The picture centred, scaled down to the text width when wider, in page-sized slices
    when taller than a page (LaTeX breaks pages between them)."""
    parts = []
    slices = bands(picture)
    for band in slices:
        parts += [r"\begin{center}\begingroup",
                  r"\setbox0=\hbox{%",
                  to_tikz(picture, band if len(slices) > 1 else None, unicode) + "%",
                  "}%",
                  r"\ifdim\wd0>\linewidth\resizebox{\linewidth}{!}{\box0}\else\box0\fi",
                  r"\endgroup\end{center}"]
    return "\n".join(parts)
