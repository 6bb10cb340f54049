"""The drawing every diagram format is written from: shapes in px, y pointing down.

The layouts (``render.diagram``) produce a :class:`Drawing`; the writers (``render.svg``,
``render.tikz``) turn it into an SVG string or a TikZ picture. Shapes carry no colour, only an
:class:`Ink`, what they are painted as: each writer maps an ink to colours (the SVG to the page's
own text and background colours, so that a diagram follows the theme, light or dark; TikZ to
black on white). Everything here is a frozen dataclass, so a drawing pickles with a doctree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from unicodedata import east_asian_width

CHAR_W = 0.6  # average glyph width of a sans-serif face, in ems: a good enough text measure
MIN_TEXT_PX = 9.0  # no label is ever shown smaller: below this the figure scrolls instead


class Ink(str, Enum):
    """What a shape is painted as."""

    LINE = "line"  # outlines and dots: the text colour
    FAINT = "faint"  # connections: the text colour, lighter
    PLANE = "plane"  # a feature map: the page's background, outlined
    BAR = "bar"  # a layer of units: a tint of the text colour over the background, outlined
    BOX = "box"  # a node of the layer graph: a lighter tint, outlined
    FRAME = "frame"  # around a repeated group: a dashed outline, no fill


class Hue(str, Enum):
    """The colour of a 3D block, by what its layer does (PlotNeuralNet's and NN-SVG's
    convention: one colour per kind of layer)."""

    CONVOLUTION = "conv"
    POOLING = "pool"
    NORMALIZATION = "norm"
    ACTIVATION = "act"
    DENSE = "dense"
    ATTENTION = "attn"
    EMBEDDING = "embed"
    OTHER = "other"


class Face(str, Enum):
    """Which face of a block a polygon is: lit differently, so that the block reads as 3D."""

    FRONT = "front"
    TOP = "top"
    SIDE = "side"


# The hues as sRGB, and how much of each face is the hue (the rest is the background): the
# SVG's stylesheet mixes them with the page's own background, the fallbacks and TikZ with white.
HUES: dict[Hue, tuple[int, int, int]] = {
    Hue.CONVOLUTION: (233, 162, 59), Hue.POOLING: (214, 82, 78),
    Hue.NORMALIZATION: (77, 150, 214), Hue.ACTIVATION: (196, 110, 20),
    Hue.DENSE: (150, 118, 204), Hue.ATTENTION: (46, 170, 160),
    Hue.EMBEDDING: (110, 176, 90), Hue.OTHER: (150, 150, 150),
}
SHARE: dict[Face, float] = {Face.FRONT: 0.55, Face.TOP: 0.3, Face.SIDE: 0.8}


def mixed(hue: Hue, face: Face, background: tuple[int, int, int] = (255, 255, 255)
          ) -> tuple[int, int, int]:
    """A face's colour over ``background``."""
    share = SHARE[face]
    return tuple(round(c * share + b * (1 - share))  # type: ignore[return-value]
                 for c, b in zip(HUES[hue], background))


class Anchor(str, Enum):
    """Where a text's x is: its start, middle or end (SVG's ``text-anchor`` values)."""

    START = "start"
    MIDDLE = "middle"
    END = "end"


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    ink: Ink = Ink.PLANE
    radius: float = 0.0
    stroke: float = 1.0


@dataclass(frozen=True)
class Text:
    """One line of text in the text colour; ``y`` is its baseline."""

    x: float
    y: float
    text: str
    size: float
    anchor: Anchor = Anchor.MIDDLE
    bold: bool = False


@dataclass(frozen=True)
class Path:
    """An open line through ``points``; with ``curve``, cubic Bezier segments (start, then
    control, control, end for each segment). ``arrow`` puts an arrow head at the end."""

    points: tuple[tuple[float, float], ...]
    ink: Ink = Ink.FAINT
    stroke: float = 0.8
    curve: bool = False
    arrow: bool = False


@dataclass(frozen=True)
class Poly:
    """A closed polygon filled with a face of a hue, outlined: a face of a 3D block, a band
    on it, a legend's swatch."""

    points: tuple[tuple[float, float], ...]
    hue: Hue
    face: Face = Face.FRONT
    stroke: float = 0.8


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    r: float


Shape = Rect | Text | Path | Poly | Dot


@dataclass(frozen=True)
class Drawing:
    """A diagram: its size in px, a one-line description (the SVG's title, for screen readers)
    and its shapes, back to front."""

    width: float
    height: float
    label: str
    shapes: tuple[Shape, ...]

    @property
    def min_text(self) -> float:
        """The smallest font size used, in px."""
        return min((s.size for s in self.shapes if isinstance(s, Text)), default=MIN_TEXT_PX)

    @property
    def min_scale(self) -> float:
        """How far the drawing may shrink before its smallest label drops below 9 px."""
        return min(1.0, MIN_TEXT_PX / self.min_text)


def text_width(text: str, size: float) -> float:
    if text.isascii():
        return len(text) * size * CHAR_W
    wide = sum(east_asian_width(ch) in "WF" for ch in text)  # a CJK character: a whole em
    return (len(text) - wide) * size * CHAR_W + wide * size
