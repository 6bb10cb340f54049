"""A :class:`~sphinx_cnncount.render.drawing.Drawing` as SVG, written by this module alone.

Colours follow the page: text and outlines are ``currentColor`` (the page's text colour, when
the SVG is inline in HTML), and each filled shape carries a class of its own
(``cnncount-plane``, ``cnncount-bar``, ``cnncount-box``) that the extension's stylesheet fills
from the page's background colour. Presentation attributes give the same shapes black on white
where no stylesheet applies (a standalone file, a converter).

The figure keeps its labels readable: it may shrink to fit a column only as far as its smallest
label stays 9 px (``min-width``); in a narrower column it scrolls in its box instead.
"""

from __future__ import annotations

import math
from html import escape

from ..summary import Summary
from .diagram import Diagram, Edges, drawing, is_chain, parse_diagram, resolve
from .drawing import Anchor, Dot, Drawing, Ink, Path, Poly, Rect, Text, mixed

# to_svg and render are this module's; the rest re-exported for the callers of the SVG module.
__all__ = ["to_svg", "render", "Diagram", "Edges", "drawing", "is_chain", "parse_diagram",
           "resolve"]

# Fallback fills, where the stylesheet does not apply; the stylesheet's are the theme's.
_FILL = {Ink.PLANE: "#fff", Ink.BAR: "#e4e4e4", Ink.BOX: "#f2f2f2", Ink.LINE: "none",
         Ink.FAINT: "none", Ink.FRAME: "none"}


def _n(x: float) -> str:
    return f"{x:.1f}".removesuffix(".0")


def _rect(r: Rect) -> str:
    corner = f' rx="{_n(r.radius)}"' if r.radius else ""
    css = f' class="cnncount-{r.ink.value}"' if r.ink in (Ink.PLANE, Ink.BAR, Ink.BOX) else ""
    dash = ' stroke-dasharray="5 3" stroke-opacity="0.7"' if r.ink is Ink.FRAME else ""
    return (f'<rect{css} x="{_n(r.x)}" y="{_n(r.y)}" width="{_n(r.w)}" height="{_n(r.h)}"'
            f'{corner} fill="{_FILL[r.ink]}" stroke="currentColor" '
            f'stroke-width="{_n(r.stroke)}"{dash}/>')


def _poly(p: Poly) -> str:
    """A face of a block: its hue and face as classes (the stylesheet mixes them with the
    page's background), the same mixed with white as the fallback."""
    d = "M" + " L".join(f"{_n(x)},{_n(y)}" for x, y in p.points) + " Z"
    fill = "#{:02x}{:02x}{:02x}".format(*mixed(p.hue, p.face))
    return (f'<path class="cnncount-hue-{p.hue.value} cnncount-face-{p.face.value}" d="{d}" '
            f'fill="{fill}" stroke="currentColor" stroke-width="{_n(p.stroke)}" '
            'stroke-linejoin="round"/>')


def _path(p: Path, uid: str) -> str:
    first, *rest = p.points
    if p.curve:  # cubic segments: control, control, end
        d = f"M{_n(first[0])},{_n(first[1])}" + "".join(
            f" C{' '.join(f'{_n(x)},{_n(y)}' for x, y in rest[k:k + 3])}"
            for k in range(0, len(rest), 3))
    else:
        d = f"M{_n(first[0])},{_n(first[1])}" + "".join(f" L{_n(x)},{_n(y)}" for x, y in rest)
    faint = ' stroke-opacity="0.6"' if p.ink is Ink.FAINT else ""
    arrow = f' marker-end="url(#{uid}-arrow)"' if p.arrow else ""
    return (f'<path d="{d}" fill="none" stroke="currentColor"{faint} '
            f'stroke-width="{_n(p.stroke)}"{arrow}/>')


def _text(t: Text) -> str:
    bold = ' font-weight="bold"' if t.bold else ""
    anchor = "" if t.anchor is Anchor.START else f' text-anchor="{t.anchor.value}"'
    return (f'<text x="{_n(t.x)}" y="{_n(t.y)}" font-size="{_n(t.size)}"{anchor}{bold}>'
            f"{escape(t.text)}</text>")


def to_svg(picture: Drawing, uid: str = "cnncount") -> str:
    """The SVG of a drawing; ``uid`` prefixes its ids (several diagrams share one page)."""
    w, h = math.ceil(picture.width), math.ceil(picture.height)
    body = []
    for shape in picture.shapes:
        if isinstance(shape, Rect):
            body.append(_rect(shape))
        elif isinstance(shape, Path):
            body.append(_path(shape, uid))
        elif isinstance(shape, Poly):
            body.append(_poly(shape))
        elif isinstance(shape, Text):
            body.append(_text(shape))
        elif isinstance(shape, Dot):
            body.append(f'<circle cx="{_n(shape.x)}" cy="{_n(shape.y)}" r="{_n(shape.r)}"/>')
    defs = ""
    if any(isinstance(s, Path) and s.arrow for s in picture.shapes):
        defs = (f'<defs><marker id="{uid}-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
                'markerWidth="7" markerHeight="7" orient="auto">'
                '<path d="M0,0 L10,5 L0,10 z" fill="currentColor" fill-opacity="0.7"/>'
                "</marker></defs>")
    label = escape(picture.label)
    least = math.ceil(w * picture.min_scale)  # narrower would take a label below 9 px
    return "".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" class="cnncount-diagram" width="{w}" '
        f'height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{label}" '
        f'style="display:block;margin:0 auto;max-width:100%;min-width:{least}px;height:auto;'
        'font-family:sans-serif" fill="currentColor">',
        f"<title>{label}</title>", defs, *body, "</svg>",
    ])


def render(kind: Diagram, summary: Summary, edges: Edges, uid: str = "cnncount",
           max_width: float | None = None) -> str:
    """The SVG of ``kind`` (``auto`` resolved), or "" for ``none``; ``uid`` prefixes SVG ids.
    ``max_width`` is the column the figure must stay legible in (None: one row)."""
    picture = drawing(kind, summary, edges, max_width)
    return "" if picture is None else to_svg(picture, uid)
