"""A :class:`~sphinx_cnncount.render.drawing.Drawing` as a TikZ picture, for LaTeX and the PDF.

The same drawing as the SVG, coordinate for coordinate: one px is 0.75 pt (CSS's 96 px per
inch), y points down as in the SVG, text is set in the document's sans-serif face, black on
white. :func:`to_latex` wraps the picture so that it never overflows the text width.
"""

from __future__ import annotations

from .drawing import Anchor, Dot, Drawing, Ink, Path, Rect, Text

PT_PER_PX = 0.75
_ANCHOR = {Anchor.START: "base west", Anchor.MIDDLE: "base", Anchor.END: "base east"}
_STYLE = {Ink.PLANE: "draw, fill=white", Ink.BAR: "draw, fill=black!12",
          Ink.BOX: "draw, fill=black!5", Ink.LINE: "draw", Ink.FAINT: "draw=black!60"}
_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
            "#": r"\#", "^": r"\textasciicircum{}", "_": r"\_", "%": r"\%",
            "~": r"\textasciitilde{}", "<": r"\textless{}", ">": r"\textgreater{}",
            "|": r"\textbar{}", '"': r"\textquotedbl{}", "-": "-{}"}


def tex_escape(text: str) -> str:
    """Text safe in any LaTeX engine: specials escaped, characters beyond Latin-1 (which
    pdfLaTeX's fonts may not have) shown as ``?``."""
    return "".join(_SPECIAL.get(ch, ch if 32 <= ord(ch) < 127 or 0xA0 <= ord(ch) <= 0xFF
                                else "?") for ch in text)


def _n(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _pt(x: float, y: float) -> str:
    return f"({_n(x)},{_n(y)})"


def to_tikz(picture: Drawing) -> str:
    """The ``tikzpicture`` of a drawing (needs ``\\usepackage{tikz}``)."""
    out = [rf"\begin{{tikzpicture}}[x={PT_PER_PX}pt,y=-{PT_PER_PX}pt,line join=round,"
           r">=stealth]",
           # the drawing's own size, so that margins match the SVG's
           rf"\useasboundingbox (0,0) rectangle {_pt(picture.width, picture.height)};"]
    for s in picture.shapes:
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
                       rf"at {_pt(s.x, s.y)} {{{tex_escape(s.text)}}};")
        elif isinstance(s, Dot):
            out.append(rf"\fill {_pt(s.x, s.y)} circle ({_n(s.r * PT_PER_PX)}pt);")
    out.append(r"\end{tikzpicture}")
    return "\n".join(out)


def to_latex(picture: Drawing) -> str:
    """The picture centred, scaled down to the text width when it is wider."""
    return "\n".join([
        r"\begin{center}\begingroup",
        r"\setbox0=\hbox{%",
        to_tikz(picture) + "%",
        "}%",
        r"\ifdim\wd0>\linewidth\resizebox{\linewidth}{!}{\box0}\else\box0\fi",
        r"\endgroup\end{center}",
    ])
