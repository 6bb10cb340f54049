"""``blocks``: 3D boxes, the figures PlotNeuralNet and NN-SVG draw by hand, generated here from
the model.

Each drawing of the chain (``render.chain``: shape-keeping layers merged into the layer before,
repeats folded) is a box seen from the front and a little above and to the right:

* its face is the map: the height its rows, the receding side its columns, both on the
  square-root scale of the other figures (a sequence: its tokens; a layer of units: a bar);
* its thickness is the channels, log-scaled (6 px per doubling; a sequence: its width);
* its colour says what the layer does: convolution, pooling, normalization, activation, full
  connection, attention, embedding, anything else (a legend under the figure names those
  present); a normalization or activation merged into a layer is a band of its own colour at
  the box's end, as PlotNeuralNet draws a convolution and its ReLU;
* a sum (a residual join) is a circled plus; an edge that skips boxes arcs over them.

Under each box its name and its shape in the paper's notation; folded repeats are named
``layer1.0-1 (x2)``, a repeated sequence is framed and titled ``(x12)``. Rows wrap as the
``lenet`` figure's do. Colours follow the page's theme in HTML, and are light tints in TikZ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..summary import Summary
from ..escape import printable
from . import fmt_shape
from .chain import Chain, Scale, Step, chain, lanes, maps, named, scale_of, stage_key, tokens, \
    units
from .drawing import MIN_TEXT_PX, Anchor, Drawing, Face, Hue, Ink, Path, Poly, Rect, Shape, \
    Text, text_width
from .vocabulary import Kind, Translate, Word, same

FONT_SIZE = 11.0
NAME_SIZE = 11.0
LINE = FONT_SIZE + 3.0
SKEW = 0.35  # the receding side, projected: this share of its length right and up
THIN = 8.0  # px: the thickness of a layer of units, the depth of a sequence
BAR_MIN, BAR_MAX = 24.0, 130.0
BAND_SHARE = 0.2  # of a box's thickness, per merged normalization or activation
BAND_MIN = 3.0
SUM_R = 8.0  # px: the radius of a sum's circle
GAP = 22.0  # px between two boxes
LABEL_GAP = 8.0  # px between two labels
MARGIN = 8.0
LANE = 7.0  # px between two skip arcs
STUB = 18.0  # px: the arrows out of and into a wrapped row
ROW_GAP = 14.0
FRAME_PAD = 5.0
SWATCH = 10.0  # px: a legend's colour square

HUE_OF: dict[Kind, Hue] = {
    Kind.CONVOLUTION: Hue.CONVOLUTION, Kind.TRANSPOSED_CONVOLUTION: Hue.CONVOLUTION,
    Kind.SUBSAMPLING: Hue.POOLING, Kind.MAX_POOLING: Hue.POOLING,
    Kind.GLOBAL_POOLING: Hue.POOLING,
    Kind.BATCH_NORMALIZATION: Hue.NORMALIZATION, Kind.LAYER_NORMALIZATION: Hue.NORMALIZATION,
    Kind.NORMALIZATION: Hue.NORMALIZATION, Kind.SCALE_AND_SHIFT: Hue.NORMALIZATION,
    Kind.ACTIVATION: Hue.ACTIVATION,
    Kind.FULL_CONNECTION: Hue.DENSE, Kind.GAUSSIAN_CONNECTIONS: Hue.DENSE,
    Kind.RECURRENT: Hue.DENSE,
    Kind.ATTENTION: Hue.ATTENTION, Kind.TRANSFORMER_BLOCK: Hue.ATTENTION,
    Kind.SQUEEZE_AND_EXCITATION: Hue.ATTENTION,
    Kind.EMBEDDING: Hue.EMBEDDING, Kind.POSITION_EMBEDDING: Hue.EMBEDDING,
}
BANDED = (Hue.NORMALIZATION, Hue.ACTIVATION)  # merged layers that show as a band
# The legend's word for each hue.
LEGEND: dict[Hue, str] = {
    Hue.CONVOLUTION: Kind.CONVOLUTION.noun, Hue.POOLING: Word.POOLING.value,
    Hue.NORMALIZATION: Kind.NORMALIZATION.noun, Hue.ACTIVATION: Kind.ACTIVATION.noun,
    Hue.DENSE: Kind.FULL_CONNECTION.noun, Hue.ATTENTION: Kind.ATTENTION.noun,
    Hue.EMBEDDING: Kind.EMBEDDING.noun, Hue.OTHER: Word.OTHER.value,
}


def hue(kind: Kind | None) -> Hue:
    return Hue.OTHER if kind is None else HUE_OF.get(kind, Hue.OTHER)


@dataclass(frozen=True)
class _Block:
    """One box: ``thick`` px along the flow, ``h`` px tall, its receding side projected
    ``skew`` px right and up; ``bands``: the hues of its parts, first the layer's own, with
    their thicknesses. A sum is a circle (``thick`` its diameter)."""

    label: tuple[str, ...]  # name lines, then the shape
    thick: float
    h: float
    skew: float
    bands: tuple[tuple[Hue, float], ...]
    is_sum: bool = False

    @property
    def width(self) -> float:
        return self.thick + self.skew

    @property
    def label_w(self) -> float:
        return max(text_width(t, FONT_SIZE) for t in self.label)

    @property
    def extent(self) -> float:
        """The width it needs, label included."""
        return max(self.width, self.label_w)


def _block(s: Step, scale: Scale, translate: Translate = same) -> _Block:
    name = named(translate(s.name) if s.is_input else s.name, s.repeat)  # "INPUT"
    own = hue(s.kind)
    if s.kind is Kind.SUM:
        d = 2 * SUM_R
        return _Block((*name, _size(s)), d, d, 0.0, ((Hue.OTHER, d),), True)
    if (m := maps(s)) is not None:
        thick, h, skew = max(THIN / 2, Scale.depth(m.channels)), scale.side(m.height), \
            scale.side(m.width) * SKEW
    elif (t := tokens(s)) is not None:
        thick, h, skew = max(THIN / 2, Scale.depth(t.width)), scale.side(t.tokens), THIN * SKEW
    elif (u := units(s)) is not None:
        thick, h, skew = THIN, scale.bar(u, BAR_MIN, BAR_MAX), THIN * SKEW
    else:
        thick, h, skew = THIN, BAR_MIN, THIN * SKEW
    extra = [hue(k) for k in s.merged if hue(k) in BANDED]
    band = max(BAND_MIN, thick * BAND_SHARE)
    thick += band * len(extra) * 0.5  # the bands add a little: the box stays readable
    own_w = thick - band * len(extra)
    return _Block((*name, _size(s)), thick, h, skew,
                  ((own, own_w), *((e, band) for e in extra)))


def _size(s: Step) -> str:
    if (m := maps(s)) is not None:
        return f"{m.height}x{m.width}" if s.is_input and m.channels == 1 \
            else f"{m.channels}@{m.height}x{m.width}"
    if (t := tokens(s)) is not None:
        return f"{t.tokens}x{t.width}"
    if (u := units(s)) is not None:
        return f"{u:,}"
    return fmt_shape(s.shape)


# ---------------------------------------------------------------------------------------------
# Rows


def _edges(summary: Summary, c: Chain, edges: tuple[tuple[int, int], ...]
           ) -> list[tuple[int, int]]:
    """The layer edges between steps (each step stands for one or more layers); the input
    feeds the first step."""
    step_of = {i: k for k, s in enumerate(c.steps) for i in s.layers}
    out = {(step_of[u], step_of[v]) for u, v in edges
           if u in step_of and v in step_of and step_of[u] < step_of[v]}
    fed = {v for _, v in out}
    out |= {(0, k) for k in range(1, len(c.steps)) if k not in fed and k == 1}
    return sorted(out)


def _rows(c: Chain, items: list[_Block], limit: float) -> list[list[int]]:
    """Steps in rows no wider than ``limit``, a stage (a repeated group) kept whole where
    it fits."""
    stages: list[tuple[object, list[int]]] = []
    for i, step in enumerate(c.steps):
        group = c.group_at(i)
        key = ("group", group.start) if group else stage_key(step)
        if i == 1 or (stages and key == stages[-1][0]):
            stages[-1] = (key, [*stages[-1][1], i])
        else:
            stages.append((key, [i]))
    rows: list[list[int]] = [[]]

    def width(idx: list[int]) -> float:
        return 2 * MARGIN + 2 * STUB + sum(items[k].extent + GAP for k in idx)

    for _, members in stages:
        if width(rows[-1] + members) <= limit:
            rows[-1] += members
            continue
        if rows[-1]:
            rows.append([])
        for k in members:
            if rows[-1] and width(rows[-1] + [k]) > limit:
                rows.append([])
            rows[-1].append(k)
    return [r for r in rows if r]


def blocks(summary: Summary, edges: tuple[tuple[int, int], ...],
           max_width: float | None = 680.0, translate: Translate = same) -> Drawing:
    """The model's layers as 3D boxes, left to right, legible in ``max_width`` px."""
    c = chain(summary, merge=True, fold=True)
    scale = scale_of(c.steps)
    items = [_block(s, scale, translate) for s in c.steps]
    limit = math.inf if max_width is None else max_width * FONT_SIZE / MIN_TEXT_PX
    rows = _rows(c, items, limit)
    links = _edges(summary, c, edges)
    painter = _Painter(c, items, links, translate)
    for r, row in enumerate(rows):
        painter.row(row, first=r == 0, last=r == len(rows) - 1)
    painter.legend(max(painter.width, min(limit, 400.0)))
    n = len(summary.layers)
    label = f"{printable(summary.model)}: {Word.BLOCKS.value.format(n=n)}: " + ", ".join(
        " ".join(item.label) for item in items)
    return Drawing(math.ceil(painter.width), math.ceil(painter.top), label,
                   tuple(painter.shapes))


class _Painter:
    """Paints row after row, top to bottom; remembers where each step's box is."""

    def __init__(self, c: Chain, items: list[_Block], links: list[tuple[int, int]],
                 translate: Translate = same) -> None:
        self.c, self.items, self.links, self.translate = c, items, links, translate
        self.shapes: list[Shape] = []
        self.top = MARGIN
        self.width = 0.0
        self.at: dict[int, tuple[float, float]] = {}  # step -> (front left x, mid y)
        self.row_of: dict[int, int] = {}
        self.rows = 0

    def row(self, idx: list[int], first: bool, last: bool) -> None:
        items = self.items
        mine = set(idx)
        skips = [(u, v) for u, v in self.links if v in mine and v - u > 1
                 and (u in mine or not first)]
        lane = lanes([(max(u, idx[0] - 1), v, (u, v)) for u, v in skips])
        framed = any(self.c.group_at(k) for k in idx)
        top = self.top + (LINE + FRAME_PAD if framed else 0.0)
        top += (max(lane.values()) + 1) * LANE + 6 if lane else 0.0
        rise = max(items[k].skew for k in idx)
        tallest = max(items[k].h for k in idx)
        mid = top + rise + tallest / 2
        x = MARGIN + (0.0 if first else STUB)
        for k in idx:
            b = items[k]
            left = x + (b.extent - b.width) / 2
            self.at[k] = (left, mid)
            self.row_of[k] = self.rows
            self._box(b, left, mid)
            lines = len(b.label)
            for n, text in enumerate(b.label):
                y = mid + tallest / 2 + 14 + n * LINE
                self.shapes.append(Text(x + b.extent / 2, y, text,
                                        FONT_SIZE if n == lines - 1 else NAME_SIZE,
                                        bold=n < lines - 1))
            x += b.extent + GAP
        self._arrows(idx, first, last, lane, top, mid)
        lines = max(len(items[k].label) for k in idx)
        bottom = mid + tallest / 2 + 14 + (lines - 1) * LINE + 4
        if framed:
            self._frames(idx, self.top + LINE, bottom)
        self.width = max(self.width, x - GAP + (0.0 if last else STUB) + MARGIN)
        self.top = bottom + ROW_GAP
        self.rows += 1

    def _box(self, b: _Block, left: float, mid: float) -> None:
        y0 = mid - b.h / 2
        if b.is_sum:
            r = b.thick / 2
            self.shapes.append(Rect(left, mid - r, 2 * r, 2 * r, Ink.BOX, radius=r, stroke=1.0))
            self.shapes.append(Path(((left + 4, mid), (left + 2 * r - 4, mid)), Ink.LINE, 1.2))
            self.shapes.append(Path(((left + r, mid - r + 4), (left + r, mid + r - 4)),
                                    Ink.LINE, 1.2))
            return
        s = b.skew
        x = left
        for h_, w in b.bands:
            front = ((x, y0), (x + w, y0), (x + w, y0 + b.h), (x, y0 + b.h))
            top = ((x, y0), (x + w, y0), (x + w + s, y0 - s), (x + s, y0 - s))
            self.shapes.append(Poly(top, h_, Face.TOP))
            self.shapes.append(Poly(front, h_, Face.FRONT))
            x += w
        end = b.bands[-1][0]
        side = ((x, y0), (x + s, y0 - s), (x + s, y0 + b.h - s), (x, y0 + b.h))
        self.shapes.append(Poly(side, end, Face.SIDE))

    def _arrows(self, idx: list[int], first: bool, last: bool, lane: dict[tuple[int, int], int],
                top: float, mid: float) -> None:
        items = self.items
        for u, v in self.links:
            if v not in idx:
                continue
            xv, yv = self.at[v]
            if u == v - 1 and u in self.at and self.row_of.get(u) == self.row_of[v]:
                xu, yu = self.at[u]
                self.shapes.append(Path(((xu + items[u].thick + 2, yu), (xv - 2, yv)),
                                        arrow=True))
            elif (u, v) in lane:  # over the boxes in between, along its lane
                ly = top - (lane[u, v] + 1) * LANE
                if u in self.at and self.row_of.get(u) == self.row_of[v]:
                    xu, yu = self.at[u]
                    start = ((xu + items[u].thick / 2, yu - items[u].h / 2),)
                    xa = xu + items[u].thick / 2
                else:  # from an earlier row: in from the left
                    xa = MARGIN
                    start = ()
                end = xv + items[v].thick / 2
                self.shapes.append(Path((*start, (xa, ly), (end, ly),
                                         (end, yv - items[v].h / 2 - 2)), arrow=True))
            elif u == v - 1 and not first and v == idx[0]:  # the row continues the one above
                self.shapes.append(Path(((MARGIN, yv), (xv - 2, yv)), arrow=True))
        if not last:
            k = idx[-1]
            xk, yk = self.at[k]
            x = xk + items[k].width + 2
            self.shapes.append(Path(((x, yk), (x + STUB - 4, yk)), arrow=True))

    def _frames(self, idx: list[int], top: float, bottom: float) -> None:
        for group in self.c.groups:
            members = [k for k in idx if group.start <= k < group.end]
            if not members:
                continue
            left = min(self.at[k][0] - (self.items[k].extent - self.items[k].width) / 2
                       for k in members) - FRAME_PAD
            right = max(self.at[k][0] + self.items[k].width
                        + (self.items[k].extent - self.items[k].width) / 2
                        for k in members) + FRAME_PAD
            self.shapes.append(Rect(left, top, right - left, bottom - top, Ink.FRAME, radius=6))
            self.shapes.append(Text((left + right) / 2, top - 4,
                                    f"{group.name} (x{group.repeat})", NAME_SIZE, bold=True))

    def legend(self, width: float) -> None:
        """A swatch and a word for each colour the figure uses, on as many lines as needed."""
        used = list(dict.fromkeys(h for b in self.items if not b.is_sum for h, _ in b.bands))
        order = [h for h in Hue if h in used]
        x, y = MARGIN, self.top + SWATCH
        for h in order:
            word = self.translate(LEGEND[h])
            need = SWATCH + 5 + text_width(word, FONT_SIZE) + 14
            if x > MARGIN and x + need > width:
                x, y = MARGIN, y + LINE + 2
            square = ((x, y - SWATCH), (x + SWATCH, y - SWATCH), (x + SWATCH, y), (x, y))
            self.shapes.append(Poly(square, h, Face.FRONT))
            self.shapes.append(Text(x + SWATCH + 5, y - 1, word, FONT_SIZE, Anchor.START))
            x += need
        self.width = max(self.width, min(width, x))
        self.top = y + MARGIN
