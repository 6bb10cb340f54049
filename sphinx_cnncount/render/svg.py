"""SVG diagrams of a summary, drawn by this module alone (no external binary).

* ``lenet``: the LeNet-5 paper's Figure 2 for a chain of layers: each feature map layer a stack of
  offset planes sized by its spatial size, each dense layer a vertical bar, labelled the way the
  paper labels them (``C1: feature maps`` / ``6@28x28``).
* ``graph``: a layered drawing of the layer DAG for branching models (residual skips, Inception
  branches): one row per topological generation, skips drawn as arcs beside the main flow.

Both are pure functions from a :class:`~sphinx_cnncount.count.Summary` and its layer edges to an
SVG string.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from html import escape

import networkx as nx

from ..escape import name as shown_name
from ..escape import printable
from ..count import Layer, Summary
from ..graph import Graph
from ..layers import LayerGroup
from ..shapes import Shape
from . import fmt_shape, layer_shape, layer_type

Edges = tuple[tuple[int, int], ...]  # (from layer, to layer), indices into summary.layers


class Diagram(str, Enum):
    """The diagrams a summary can be drawn as; the value is the name users type."""

    AUTO = "auto"  # lenet for a chain, graph for a DAG
    LENET = "lenet"
    GRAPH = "graph"
    NONE = "none"


def parse_diagram(value: str) -> Diagram:
    """A diagram name as a user writes it; a ValueError lists the choices."""
    try:
        return Diagram(value.strip().lower())
    except ValueError:
        choices = ", ".join(d.value for d in Diagram)
        raise ValueError(f"unknown diagram {value.strip()!r} (choose from {choices})") from None


def layer_edges(g: Graph, groups: tuple[LayerGroup, ...]) -> Edges:
    """Layer -> layer edges: wherever a node of one layer feeds a node of another."""
    layer_of = {i: li for li, group in enumerate(groups) for i in group.nodes}
    return tuple(sorted({
        (layer_of[u], layer_of[v]) for u, v in g.dag.edges
        if u in layer_of and v in layer_of and layer_of[u] != layer_of[v]
    }))


def is_chain(n_layers: int, edges: Edges) -> bool:
    """Whether the layers form one path, each feeding only the next."""
    return set(edges) <= {(i, i + 1) for i in range(n_layers - 1)}


def resolve(kind: Diagram, summary: Summary, edges: Edges) -> Diagram:
    """``auto`` -> ``lenet`` for a chain, ``graph`` for a DAG; other kinds as given."""
    if kind is not Diagram.AUTO:
        return kind
    return Diagram.LENET if is_chain(len(summary.layers), edges) else Diagram.GRAPH


def render(kind: Diagram, summary: Summary, edges: Edges, uid: str = "cnncount") -> str:
    """The SVG of ``kind`` (``auto`` resolved), or "" for ``none``; ``uid`` prefixes SVG ids."""
    kind = resolve(kind, summary, edges)
    if not summary.layers:
        return ""
    if kind is Diagram.LENET:
        return lenet_svg(summary)
    if kind is Diagram.GRAPH:
        return graph_svg(summary, edges, uid)
    return ""


# ---------------------------------------------------------------------------------------------
# Shared drawing helpers

FONT = "font-family:sans-serif"
INK = "#222"
FONT_SIZE = 12
CHAR_W = 0.6  # average glyph width of a sans-serif face, in ems: a good enough text measure


def _n(x: float) -> str:
    return f"{x:.1f}".removesuffix(".0")


def _text_w(text: str, size: float = FONT_SIZE) -> float:
    return len(text) * size * CHAR_W


def _text(x: float, y: float, text: str, size: float = FONT_SIZE, anchor: str = "middle",
          weight: str = "normal") -> str:
    bold = ' font-weight="bold"' if weight != "normal" else ""
    return (f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}" text-anchor="{anchor}"'
            f'{bold}>{escape(text)}</text>')


def _svg(width: float, height: float, label: str, body: list[str], defs: str = "") -> str:
    w, h = math.ceil(width), math.ceil(height)
    return "".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" class="cnncount-diagram" width="{w}" '
        f'height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{escape(label)}" '
        f'style="display:block;margin:0 auto;max-width:100%;height:auto;{FONT}" fill="{INK}">',
        f"<title>{escape(label)}</title>",
        f"<defs>{defs}</defs>" if defs else "",
        *body,
        "</svg>",
    ])


# ---------------------------------------------------------------------------------------------
# lenet: the paper's Figure 2

PLANE_MAX = 120.0  # px: the side of the largest feature map
PLANE_MIN = 8.0  # px: the smallest side drawn
STACK_MAX = 8  # planes drawn per layer at most
STACK_STEP = 6.0  # px between stacked planes, at most (a quarter of a small plane's side)
BAR_W = 14.0
BAR_MIN, BAR_MAX = 24.0, PLANE_MAX + 30
GAP_MIN = 36.0  # px between drawings
LINE = FONT_SIZE + 3.0  # px from one label line to the next
LABEL_ONE_LINE = 18  # characters: a longer "name: feature maps" gets a line per part
CAPTION_H = 40.0  # up to two caption lines below them
CAPTION_SIZE = FONT_SIZE - 1

# How the paper names what happens on the way into a layer, by the layer's type.
_VERBS = {
    "Conv": "convolutions", "ConvTranspose": "transposed convolutions",
    "AveragePool": "subsampling", "MaxPool": "max pooling", "LpPool": "subsampling",
    "GlobalAveragePool": "global pooling", "GlobalMaxPool": "global pooling",
    "Gemm": "full connection", "MatMul": "full connection",
}


@dataclass(frozen=True)
class _Item:
    """One drawn layer: ``planes`` stacked planes of ``w`` x ``h`` px, or a bar (``planes`` 0)."""

    label: tuple[str, ...]  # lines, the last the output's size
    caption: tuple[str, ...]  # what happens on the way in, shown under the gap before it
    planes: int
    w: float
    h: float

    @property
    def label_w(self) -> float:
        return max(_text_w(line) for line in self.label)

    @property
    def caption_w(self) -> float:
        return max((_text_w(line, CAPTION_SIZE) for line in self.caption), default=0.0)

    @property
    def step(self) -> float:
        return min(STACK_STEP, max(2.0, min(self.w, self.h) / 4))

    @property
    def width(self) -> float:
        return self.w + (self.planes - 1) * self.step if self.planes else self.w

    @property
    def height(self) -> float:
        return self.h + (self.planes - 1) * self.step if self.planes else self.h


def _maps(shape: Shape | None, channels_last: bool = False) -> tuple[int, int, int] | None:
    """(channels, height, width) of a feature-map output (batch dropped), else None."""
    if shape is None or len(shape) < 4 or not all(isinstance(d, int) and d > 0 for d in shape):
        return None  # unknown, or empty (a valid Slice to a zero side): nothing to draw
    c, h, w = (shape[3], shape[1], shape[2]) if channels_last else (shape[1], *shape[-2:])
    return None if h == w == 1 else (c, h, w)  # type: ignore[return-value]


def _units(shape: Shape | None) -> int | None:
    """The size of a vector output (a 1x1 map counts as one), else None."""
    if shape is None or not all(isinstance(d, int) and d > 0 for d in shape[1:]):
        return None
    return math.prod(shape[1:])  # type: ignore[arg-type]


def _input_shape(summary: Summary) -> tuple[Shape | None, bool]:
    """The first input, and whether it is channels-last (NHWC, as Keras exports it)."""
    shape = summary.inputs[0].shape if summary.inputs else None
    nhwc = (shape is not None and len(shape) == 4 and all(isinstance(d, int) for d in shape)
            and shape[3] in (1, 3, 4) and shape[1] > 4)  # type: ignore[operator]
    return shape, nhwc


def lenet_svg(summary: Summary) -> str:
    """Stacked feature-map planes and dense bars, labelled as in the paper's Figure 2."""
    in_shape, nhwc = _input_shape(summary)
    specs: list[tuple[str, tuple[str, ...], Shape | None, bool]] = [
        ("INPUT", (), in_shape, nhwc)]
    for layer in summary.layers:
        specs.append((shown_name(layer.name), _caption(layer), layer.output_shape, False))
    spatial = [m[1:] for _, _, s, cl in specs if (m := _maps(s, cl))]
    scale = PLANE_MAX / max((d for hw in spatial for d in hw), default=1)
    units = [u for _, _, s, cl in specs if not _maps(s, cl) and (u := _units(s))]
    max_units = max(units, default=1)

    items = []
    for i, (name, caption, shape, cl) in enumerate(specs):
        is_input = i == 0
        if (m := _maps(shape, cl)) is not None:
            c, h, w = m
            size = f"{h}x{w}" if is_input and c == 1 else f"{c}@{h}x{w}"
            items.append(_Item(_label(name, "" if is_input else "feature maps", size), caption,
                               min(c, STACK_MAX), max(PLANE_MIN, w * scale),
                               max(PLANE_MIN, h * scale)))
        elif (u := _units(shape)) is not None:
            bar = BAR_MIN + (BAR_MAX - BAR_MIN) * math.sqrt(u / max_units)  # area-like growth
            items.append(_Item(_label(name, "" if is_input else "layer", f"{u:,}"), caption,
                               0, BAR_W, bar))
        else:
            items.append(_Item((name, fmt_shape(shape)), caption, 0, BAR_W, BAR_MIN))

    # Centres left to right: drawings, labels and captions must each clear their neighbours.
    centres: list[float] = []
    mids: list[float] = []  # the centre of the gap before each item (captions sit there)
    for i, item in enumerate(items):
        if i == 0:
            centres.append(max(item.width, item.label_w) / 2 + 8)
            mids.append(0.0)
            continue
        prev, x_prev = items[i - 1], centres[-1]
        x = max(x_prev + prev.width / 2 + GAP_MIN + item.width / 2,
                x_prev + (prev.label_w + item.label_w) / 2 + 12)
        if i > 1:
            need = mids[-1] + (items[i - 1].caption_w + item.caption_w) / 2 + 12
            x = max(x, 2 * need - (x_prev + prev.width / 2) + item.width / 2)
        centres.append(x)
        mids.append(((x_prev + prev.width / 2) + (x - item.width / 2)) / 2)
    last = items[-1]
    width = centres[-1] + max(last.width, last.label_w) / 2 + 8
    tallest = max(item.height for item in items)
    lines = max(len(item.label) for item in items)
    top = lines * LINE + 14  # the labels, then the drawings
    mid_y = top + tallest / 2
    height = top + tallest + CAPTION_H

    body = []
    boxes = []  # per item: (x0, y0) of the front plane or the bar, and its size
    for item, cx in zip(items, centres):
        x0, y0 = cx - item.width / 2, mid_y - item.height / 2
        for k, line in enumerate(item.label, start=lines - len(item.label)):  # bottom-aligned
            body.append(_text(cx, 14 + k * LINE, line))
        if item.planes:
            for k in range(item.planes):  # back to front, each down and to the right
                body.append(
                    f'<rect x="{_n(x0 + k * item.step)}" y="{_n(y0 + k * item.step)}" '
                    f'width="{_n(item.w)}" height="{_n(item.h)}" fill="#fff" stroke="{INK}" '
                    'stroke-width="1"/>')
            step = (item.planes - 1) * item.step
            boxes.append((x0 + step, y0 + step, item.w, item.h, True))
        else:
            body.append(f'<rect x="{_n(x0)}" y="{_n(y0)}" width="{_n(item.w)}" '
                        f'height="{_n(item.h)}" fill="#e8e8e8" stroke="{INK}" stroke-width="1"/>')
            boxes.append((x0, y0, item.w, item.h, False))
    for i in range(1, len(items)):
        body.extend(_connection(boxes[i - 1], boxes[i]))
        for k, line in enumerate(items[i].caption):
            body.append(_text(mids[i], height - 24 + k * (CAPTION_SIZE + 2), line,
                              size=CAPTION_SIZE))
    label = f"{printable(summary.model)}: " + ", ".join(" ".join(item.label)
                                                               for item in items)
    return _svg(width, height, label, body)


def _label(name: str, kind: str, size: str) -> tuple[str, ...]:
    """``C1: feature maps`` over ``6@28x28``, as the paper writes it; a long name on its own."""
    if not kind:
        return (name, size)
    head = f"{name}: {kind}"
    return (head, size) if len(head) <= LABEL_ONE_LINE else (f"{name}:", kind, size)


def _caption(layer: Layer) -> tuple[str, ...]:
    """The paper's word for the layer's operation, on two lines when long."""
    kind = layer_type(layer)
    text = _VERBS.get(kind, shown_name(kind))
    breaks = [i + 1 for i, ch in enumerate(text) if ch in " +"]
    if len(text) <= 12 or not breaks:
        return (text,)
    cut = min(breaks, key=lambda i: abs(2 * i - len(text)))
    return (text[:cut].strip(), text[cut:])


def _connection(src: tuple[float, float, float, float, bool],
                dst: tuple[float, float, float, float, bool]) -> list[str]:
    """A receptive field on the source's front plane, its two edges converging on one unit."""
    sx, sy, sw, sh, planes = src
    dx, dy, dw, dh, _ = dst
    if planes:  # a small square in the lower right of the front plane, as the paper draws it
        side = max(4.0, min(sw, sh) * 0.22)
        fx, fy = sx + sw * 0.72 - side / 2, sy + sh * 0.62 - side / 2
        field = [f'<rect x="{_n(fx)}" y="{_n(fy)}" width="{_n(side)}" height="{_n(side)}" '
                 f'fill="none" stroke="{INK}" stroke-width="0.8"/>']
        top, bottom, right = fy, fy + side, fx + side
    else:  # a dense layer: every unit feeds the next
        field, top, bottom, right = [], sy, sy + sh, sx + sw
    tx, ty = dx + min(dw * 0.3, 6.0), dy + dh * 0.55
    return [*field,
            f'<path d="M{_n(right)},{_n(top)} L{_n(tx)},{_n(ty)} L{_n(right)},{_n(bottom)}" '
            'fill="none" stroke="#888" stroke-width="0.8"/>',
            f'<circle cx="{_n(tx)}" cy="{_n(ty)}" r="1.6" fill="{INK}"/>']


# ---------------------------------------------------------------------------------------------
# graph: the layer DAG, one row per topological generation

BOX_H = 38.0
ROW_GAP = 30.0
COL_GAP = 24.0
ARC = 22.0  # px: how far a skip arc bows out beside the boxes, per arc


def graph_svg(summary: Summary, edges: Edges, uid: str = "cnncount") -> str:
    """Boxes per layer in rows by topological generation; edges as curves, skips as arcs."""
    n = len(summary.layers)
    dag = nx.DiGraph()
    dag.add_nodes_from(range(n))
    dag.add_edges_from((u, v) for u, v in edges if u < v)  # layers are in node order
    rows: list[list[int]] = []
    slot: dict[int, float] = {}  # layer -> horizontal slot, centred on 0
    for gen in nx.topological_generations(dag):
        # Barycentre of the predecessors' slots keeps branches under the layer they leave.
        def bary(v: int) -> tuple[float, int]:
            preds = [slot[u] for u in dag.predecessors(v)]
            return (sum(preds) / len(preds) if preds else 0.0, v)

        row = sorted(gen, key=bary)
        for k, v in enumerate(row):
            slot[v] = k - (len(row) - 1) / 2
        rows.append(row)
    row_of = {v: r for r, row in enumerate(rows) for v in row}

    lines = [(shown_name(layer.name),
              f"{shown_name(layer_type(layer))}  {layer_shape(layer)}")
             for layer in summary.layers]
    box_w = max(120.0, *(max(_text_w(a, FONT_SIZE), _text_w(b, FONT_SIZE - 1)) + 16
                         for a, b in lines))
    widest = max(len(row) for row in rows)
    skips = [(u, v) for u, v in dag.edges if row_of[v] - row_of[u] > 1]
    pitch = box_w + COL_GAP
    width = widest * pitch + 2 * ARC * (len(skips) + 1)
    centre = widest * pitch / 2
    height = len(rows) * (BOX_H + ROW_GAP) - ROW_GAP + 16

    def pos(v: int) -> tuple[float, float]:
        return centre + slot[v] * pitch, 8 + row_of[v] * (BOX_H + ROW_GAP)

    body = []
    arc_of = {e: k for k, e in enumerate(sorted(skips, key=lambda e: row_of[e[1]] - row_of[e[0]]))}
    for u, v in dag.edges:
        (x1, y1), (x2, y2) = pos(u), pos(v)
        if (u, v) in arc_of:  # a skip: out of the right side, around, into the right side
            xa, xb = x1 + box_w / 2, x2 + box_w / 2
            bend = max(xa, xb) + ARC * (arc_of[u, v] + 1)
            ya, yb = y1 + BOX_H / 2, y2 + BOX_H / 2
            d = f"M{_n(xa)},{_n(ya)} C{_n(bend)},{_n(ya)} {_n(bend)},{_n(yb)} {_n(xb)},{_n(yb)}"
        else:
            ya, yb = y1 + BOX_H, y2
            k = (yb - ya) / 2
            d = (f"M{_n(x1)},{_n(ya)} C{_n(x1)},{_n(ya + k)} {_n(x2)},{_n(yb - k)} "
                 f"{_n(x2)},{_n(yb)}")
        body.append(f'<path d="{d}" fill="none" stroke="#666" stroke-width="1.2" '
                    f'marker-end="url(#{uid}-arrow)"/>')
    for v in range(n):
        x, y = pos(v)
        body.append(f'<rect x="{_n(x - box_w / 2)}" y="{_n(y)}" width="{_n(box_w)}" '
                    f'height="{_n(BOX_H)}" rx="5" fill="#f4f6fa" stroke="{INK}" '
                    'stroke-width="1"/>')
        body.append(_text(x, y + 16, lines[v][0], weight="bold"))
        body.append(_text(x, y + 31, lines[v][1], size=FONT_SIZE - 1))
    defs = (f'<marker id="{uid}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#666"/></marker>')
    label = f"{printable(summary.model)}: layer graph of {n} layers"
    return _svg(width, height, label, body, defs)
