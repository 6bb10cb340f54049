"""``graph``: the layer DAG of a branching model (residual skips, Inception branches).

A layered drawing that reads like text: the layers flow left to right in columns, one column
per topological generation (``networkx.topological_generations``), the branches of a column
stacked under each other; the columns wrap into bands no wider than a documentation column,
one band under the other, so a deep network is as wide as the page and no taller than it needs
(ResNet-18's 66 layers at depth 3: about 1.5 times as tall as wide, not 9 times).

networkx gives the generations; what it does not offer is hand-written here: the order within a
column (the barycentre of the predecessors, so that a branch stays beside the layer it leaves),
where the bands break (preferably where one tensor alone crosses, as between two residual
blocks) and the routing of the edges: between neighbouring columns a curve, a skip over
columns an elbow along a lane above (or below) its band, an edge into a later band out of the
band's right side, along the gap between bands, into the next band from the left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..summary import Summary
from ..escape import name as shown_name
from ..escape import printable
from . import layer_shape
from .chain import common_prefix, lanes, period, run_name, signature, wrap_name
from .drawing import MIN_TEXT_PX, Anchor, Drawing, Ink, Path, Rect, Shape, Text, text_width
from .vocabulary import Translate, Word, layer_kind, same

if TYPE_CHECKING:
    import networkx as nx

FONT_SIZE = 12.0  # a layer's name, bold
SMALL = 11.0  # what it does, its output
LINE = 14.0  # px between two lines of a box
PAD = 7.0  # px between a box's text and its outline
COL_GAP = 30.0  # px between columns: room for the curves
SLOT_GAP = 10.0  # px between the boxes of a column
BAND_GAP = 22.0  # px between bands, besides the lanes of the edges that cross
LANE = 7.0  # px between two routed edges side by side
MARGIN = 8.0
FLAT = 3.0  # a figure wider than this many times its height goes on more bands
TALL = 3.0  # a figure taller than this many times its width draws its repeated blocks once
FRAME_PAD = 5.0  # px between a folded block's frame and its boxes
NAME_LINE = 13  # characters of a name per line (broken after a separator)
WORDS_LINE = 14  # characters of what a layer does per line


@dataclass(frozen=True)
class _Layout:
    """Where everything is: column and slot of each layer, the columns of each band."""

    col: dict[int, int]
    slot: dict[int, int]
    bands: list[list[int]]  # column indices
    col_w: list[float]
    box_h: float
    lines: list[tuple[tuple[str, ...], tuple[str, ...]]]  # per layer: bold lines, plain lines


def _box_lines(summary: Summary, i: int, translate: Translate = same
               ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A box's text: its name (bold), what it does, its output; narrow, on more lines."""
    layer = summary.layers[i]
    kind, shape = translate(layer_kind(layer).noun), layer_shape(layer)
    if len(kind) + len(shape) + 1 <= WORDS_LINE:
        plain: tuple[str, ...] = (f"{kind} {shape}",)
    else:
        plain = (*_words(kind), shape)
    return wrap_name(shown_name(layer.name), NAME_LINE), plain


def _words(text: str) -> tuple[str, ...]:
    """Words on lines of at most :data:`WORDS_LINE` characters."""
    lines = [""]
    for word in text.split(" "):
        if lines[-1] and len(lines[-1]) + 1 + len(word) > WORDS_LINE:
            lines.append(word)
        else:
            lines[-1] = f"{lines[-1]} {word}".strip()
    return tuple(lines)


def _columns(dag: nx.DiGraph) -> tuple[dict[int, int], dict[int, int], list[list[int]]]:
    """Each layer's column (its generation) and slot in it: in the order of its predecessors'
    mean slot, as close to it as the column allows."""
    import networkx as nx  # only a graph figure needs it: Sphinx and the CLI start without it

    col: dict[int, int] = {}
    slot: dict[int, int] = {}
    columns: list[list[int]] = []
    for c, gen in enumerate(nx.topological_generations(dag)):
        def bary(v: int) -> tuple[float, int]:
            preds = [slot[u] for u in dag.predecessors(v)]
            return (sum(preds) / len(preds) if preds else 0.0, v)

        taken = -1
        for v in sorted(gen, key=bary):
            slot[v] = taken = max(round(bary(v)[0]), taken + 1)
            col[v] = c
        columns.append(sorted(gen, key=lambda v: slot[v]))
    return col, slot, columns


def _crossing(dag: nx.DiGraph, col: dict[int, int], after: int) -> set[int]:
    """The sources of the edges that cross from column ``after`` to a later one."""
    return {u for u, v in dag.edges if col[u] <= after < col[v]}


def _bands(dag: nx.DiGraph, col: dict[int, int], col_w: list[float], limit: float
           ) -> list[list[int]]:
    """Columns in bands no wider than ``limit``; a band ends, where it can, after a column
    that only one tensor leaves (its last layer feeds everything after it)."""
    bands: list[list[int]] = [[]]
    width = 2 * MARGIN + 2 * LANE
    for c, w in enumerate(col_w):
        if bands[-1] and width + w > limit:
            band = bands[-1]
            clean = [k for k, cc in enumerate(band) if len(_crossing(dag, col, cc)) == 1
                     and k >= len(band) // 3]
            cut = clean[-1] + 1 if clean else len(band)
            bands[-1], rest = band[:cut], band[cut:]
            bands.append(rest)
            width = 2 * MARGIN + 2 * LANE + sum(col_w[k] + COL_GAP for k in rest)
        bands[-1].append(c)
        width += w + COL_GAP
    return bands


def _layout(summary: Summary, dag: nx.DiGraph, limit: float, translate: Translate = same
            ) -> _Layout:
    col, slot, columns = _columns(dag)
    lines = [_box_lines(summary, i, translate) for i in range(len(summary.layers))]
    box_h = max(len(a) + len(b) for a, b in lines) * LINE + 2 * PAD - 3
    col_w = [max(_text_w(lines[v]) for v in column) + 2 * PAD for column in columns]
    bands = _bands(dag, col, col_w, limit)
    band_of = {c: b for b, cols in enumerate(bands) for c in cols}
    least: dict[int, int] = {}  # each band's boxes start at its top
    for v in dag:
        b = band_of[col[v]]
        least[b] = min(least.get(b, slot[v]), slot[v])
    slot = {v: slot[v] - least[band_of[col[v]]] for v in dag}
    return _Layout(col, slot, bands, col_w, box_h, lines)


def _text_w(lines: tuple[tuple[str, ...], tuple[str, ...]]) -> float:
    return max(max(text_width(t, FONT_SIZE) for t in lines[0]),
               max(text_width(t, SMALL) for t in lines[1]))


def graph(summary: Summary, edges: tuple[tuple[int, int], ...],
          max_width: float | None = 680.0, translate: Translate = same) -> Drawing:
    """Boxes per layer in columns by generation, wrapped into bands; edges routed."""
    import networkx as nx  # only a graph figure needs it: Sphinx and the CLI start without it

    n = len(summary.layers)
    dag = nx.DiGraph()
    dag.add_nodes_from(range(n))
    dag.add_edges_from((u, v) for u, v in edges if u < v)  # layers are in node order
    limit = math.inf if max_width is None else max_width * SMALL / MIN_TEXT_PX
    groups: list[_Group] = []
    lay, routes = _fit(summary, dag, limit, translate=translate)
    if routes.height > TALL * routes.width:  # too deep for the page: draw repeats once
        dag, groups = _folded(summary, dag)
        if groups:
            lay, routes = _fit(summary, dag, limit, groups, translate)
    if routes.width > FLAT * routes.height:  # a long strip: fold it onto more bands
        for share in (0.75, 0.6, 0.5, 0.4, 0.3):
            lay2, routes2 = _fit(summary, dag, routes.width * share, groups, translate)
            if len(lay2.bands) > len(lay.bands):
                lay, routes = lay2, routes2
            if routes.width <= FLAT * routes.height:
                break
    shapes: list[Shape] = []
    boxes = routes.place()
    for v, (x, y, w) in boxes.items():
        shapes.append(Rect(x, y, w, lay.box_h, Ink.BOX, radius=5))
        bold, plain = lay.lines[v]
        for k, text in enumerate(bold):
            shapes.append(Text(x + w / 2, y + PAD + 10 + k * LINE, text, FONT_SIZE, bold=True))
        for k, text in enumerate(plain, start=len(bold)):
            shapes.append(Text(x + w / 2, y + PAD + 10 + k * LINE, text, SMALL, Anchor.MIDDLE))
    shapes.extend(routes.paths(boxes))
    shapes.extend(_frames(groups, boxes, lay))
    label = f"{printable(summary.model)}: {Word.LAYER_GRAPH.value.format(n=n)}"
    return Drawing(math.ceil(routes.width), math.ceil(routes.height), label, tuple(shapes))


@dataclass(frozen=True)
class _Group:
    """Layers drawn once for ``repeat`` identical blocks in a row (the first block's)."""

    members: tuple[int, ...]
    name: str
    repeat: int


def _folded(summary: Summary, dag: nx.DiGraph) -> tuple[nx.DiGraph, list[_Group]]:
    """The graph with each run of identical blocks drawn once: blocks of the same layers,
    wired alike inside, each fed only by the one before it and feeding only the next (the
    last one feeds on, from the first block's boxes)."""
    import networkx as nx  # only a graph figure needs it: Sphinx and the CLI start without it

    names = [shown_name(layer.name) for layer in summary.layers]
    sigs = [signature(layer) for layer in summary.layers]
    edges = set(dag.edges)
    groups: list[_Group] = []
    i = 0
    while i < len(sigs):
        p, r = period(sigs, i, [(name,) for name in names])
        if r > 1 and _wired_alike(edges, i, p, r):
            last = i + (r - 1) * p
            edges = {(u - (last - i) if last <= u < i + p * r else u, v) for u, v in edges
                     if not (i + p <= v < i + p * r)}  # the first block's outputs go on
            groups.append(_Group(tuple(range(i, i + p)), run_name(
                common_prefix(names[i:i + p]) or names[i],
                common_prefix(names[last:last + p]) or names[last]), r))
        i += p * r
    dropped = {v for g in groups for k in range(1, g.repeat) for v in
               range(g.members[0] + k * len(g.members), g.members[-1] + 1 + k * len(g.members))}
    folded = nx.DiGraph()
    folded.add_nodes_from(v for v in dag if v not in dropped)
    folded.add_edges_from((u, v) for u, v in edges if u not in dropped and v not in dropped)
    return folded, groups


def _wired_alike(edges: set[tuple[int, int]], i: int, p: int, r: int) -> bool:
    """Whether blocks i, i+p, ... (r of them) are wired alike, and to each other only as a
    chain of blocks."""
    inside: list[set[tuple[int, int]]] = [set() for _ in range(r)]
    between: list[set[tuple[int, int]]] = [set() for _ in range(r - 1)]
    end = i + p * r
    for u, v in edges:
        if not (i <= v < end or i <= u < end):
            continue
        if not i <= u < end:  # from before: into the first block only
            if v >= i + p:
                return False
        elif not i <= v < end:  # onwards: from the last block only
            if u < end - p:
                return False
        else:
            a, b = (u - i) // p, (v - i) // p
            if a == b:
                inside[a].add((u - a * p, v - a * p))
            elif b == a + 1:
                between[a].add((u - a * p, v - b * p))
            else:
                return False
    return all(x == inside[0] for x in inside) and all(x == between[0] for x in between)


def _frames(groups: list[_Group], boxes: dict[int, tuple[float, float, float]],
            lay: _Layout) -> list[Shape]:
    """A dashed frame around each folded block's boxes (one per band it spans), titled with
    the blocks it stands for: ``layer3.1-5 (x5)``."""
    out: list[Shape] = []
    band_of = {c: b for b, cols in enumerate(lay.bands) for c in cols}
    for g in groups:
        spans: dict[int, list[tuple[float, float, float]]] = {}
        for v in g.members:
            x, y, w = boxes[v]
            spans.setdefault(band_of[lay.col[v]], []).append((x, y, w))
        for k, parts in enumerate(spans.values()):
            left = min(x for x, _, _ in parts) - FRAME_PAD
            right = max(x + w for x, _, w in parts) + FRAME_PAD
            top = min(y for _, y, _ in parts) - FRAME_PAD
            bottom = max(y for _, y, _ in parts) + lay.box_h + FRAME_PAD
            out.append(Rect(left, top, right - left, bottom - top, Ink.FRAME, radius=7))
            if k == 0:
                out.append(Text(left, bottom + SMALL + 2, f"{g.name} (x{g.repeat})", SMALL,
                                Anchor.START, bold=True))
    return out


def _fit(summary: Summary, dag: nx.DiGraph, limit: float, groups: list[_Group] | None = None,
         translate: Translate = same) -> tuple[_Layout, _Routes]:
    """The layout no wider than ``limit`` (the gutters depend on the bands: narrower bands
    until all fits)."""
    room = limit
    framed = {v for g in groups or () for v in g.members}
    while True:
        lay = _layout(summary, dag, room, translate)
        band_of = {c: b for b, cols in enumerate(lay.bands) for c in cols}
        routes = _Routes(dag, lay, band_of, {band_of[lay.col[v]] for v in framed})
        if routes.width <= limit or all(len(cols) == 1 for cols in lay.bands):
            return lay, routes
        room -= max(routes.width - limit, COL_GAP)


class _Routes:
    """The bands' geometry and the edges' lanes, then the boxes' places and the edges' paths."""

    def __init__(self, dag: nx.DiGraph, lay: _Layout, band_of: dict[int, int],
                 framed: set[int] = frozenset()) -> None:
        self.dag, self.lay, self.band_of = dag, lay, band_of
        col, slot = lay.col, lay.slot
        self.top_col = {c: min(slot[v] for v in dag if col[v] == c) for c in band_of}
        self.low_col = {c: max(slot[v] for v in dag if col[v] == c) for c in band_of}
        self.cross = {(u, v) for u, v in dag.edges if band_of[col[u]] != band_of[col[v]]}
        skips = [(u, v) for u, v in dag.edges
                 if band_of[col[u]] == band_of[col[v]] and col[v] - col[u] > 1]
        self.above = {e: self._side(e) for e in skips}
        self.lane = lanes([(col[u], col[v], (u, v)) for u, v in skips])
        # One lane per tensor that leaves a band, numbered per band: out of its right side,
        # along the gap under it, into a later band from the left.
        leaving: dict[int, list[int]] = {}
        for u in sorted({u for u, _ in self.cross}):
            leaving.setdefault(band_of[col[u]], []).append(u)
        self.gutter = {u: k for us in leaving.values() for k, u in enumerate(us)}
        self.lanes_out = max((len(us) for us in leaving.values()), default=0)
        gut = self.lanes_out * LANE + (LANE if self.lanes_out else 0.0)
        self.left = MARGIN + gut
        widths = [sum(lay.col_w[c] for c in cols) + COL_GAP * (len(cols) - 1)
                  for cols in lay.bands]
        self.width = self.left + max(widths) + gut + MARGIN
        self.band_y: list[float] = []  # the top of each band's boxes
        self.band_bottom: list[float] = []  # the bottom of its boxes
        self.gap_y: list[float] = []  # the first lane of the gap under it
        y = MARGIN
        for b, cols in enumerate(lay.bands):
            mine = [e for e in skips if band_of[col[e[0]]] == b]
            over = [self.lane[e] + 1 for e in mine if self.above[e]]
            under = [self.lane[e] + 1 for e in mine if not self.above[e]]
            y += max(over, default=0) * LANE + (4 if over else 0)
            self.band_y.append(y)
            y += (max(self.low_col[c] for c in cols) + 1) * (lay.box_h + SLOT_GAP) - SLOT_GAP
            self.band_bottom.append(y)
            y += max(under, default=0) * LANE + (4 if under else 0)
            y += FRAME_PAD + SMALL + 6 if b in framed else 0.0  # a frame and its title
            self.gap_y.append(y + BAND_GAP / 2)
            y += BAND_GAP + gut
        self.height = y - BAND_GAP - gut + MARGIN

    def _side(self, e: tuple[int, int]) -> bool:
        """Whether a skip goes over its band (both ends are their column's top box), else
        under it (both are the bottom box; else over, the best there is)."""
        u, v = e
        col, slot = self.lay.col, self.lay.slot
        if slot[u] == self.low_col[col[u]] and slot[v] == self.low_col[col[v]] \
                and not (slot[u] == self.top_col[col[u]] and slot[v] == self.top_col[col[v]]):
            return False
        return True

    def place(self) -> dict[int, tuple[float, float, float]]:
        """Each layer's box: left, top, width."""
        out = {}
        lay = self.lay
        for b, cols in enumerate(lay.bands):
            x = self.left
            for c in cols:
                for v in (v for v in self.dag if lay.col[v] == c):
                    out[v] = (x, self.band_y[b] + lay.slot[v] * (lay.box_h + SLOT_GAP),
                              lay.col_w[c])
                x += lay.col_w[c] + COL_GAP
        return out

    def paths(self, boxes: dict[int, tuple[float, float, float]]) -> list[Shape]:
        out: list[Shape] = []
        h = self.lay.box_h
        for u, v in self.dag.edges:
            (xu, yu, wu), (xv, yv, _) = boxes[u], boxes[v]
            if (u, v) in self.above:  # a skip: an elbow along its lane
                lane = self.lane[u, v] + 1
                b = self.band_of[self.lay.col[u]]
                if self.above[u, v]:
                    ly, ya, yb = self.band_y[b] - lane * LANE, yu, yv
                else:
                    ly, ya, yb = self.band_bottom[b] + lane * LANE, yu + h, yv + h
                xa, xb = xu + wu / 2 + 6, xv + boxes[v][2] / 2 - 6
                pts = ((xa, ya), (xa, ly), (xb, ly), (xb, yb))
                out.append(Path(pts, stroke=1.1, arrow=True))
            elif (u, v) in self.cross:
                out.append(Path(self._cross(u, v, boxes), stroke=1.1, arrow=True))
            else:  # neighbouring columns: a curve from side to side
                a, z = (xu + wu, yu + h / 2), (xv, yv + h / 2)
                k = (z[0] - a[0]) / 2
                out.append(Path((a, (a[0] + k, a[1]), (z[0] - k, z[1]), z), stroke=1.1,
                                curve=True, arrow=True))
        return out

    def _cross(self, u: int, v: int, boxes: dict[int, tuple[float, float, float]]
               ) -> tuple[tuple[float, float], ...]:
        """Out of the band's right side, down to the gap under it, back along the gap to the
        left side, down to the layer's band and into it."""
        lay, h = self.lay, self.lay.box_h
        (xu, yu, wu), (xv, yv, wv) = boxes[u], boxes[v]
        lane = self.gutter[u]
        bu, bv = self.band_of[lay.col[u]], self.band_of[lay.col[v]]
        right = self.width - MARGIN - (self.lanes_out - lane) * LANE
        left = MARGIN + (lane + 1) * LANE
        gap = self.gap_y[bu] + lane * LANE
        if lay.col[u] == lay.bands[bu][-1]:  # the band's last column: straight out
            pts = [(xu + wu, yu + h / 2), (right, yu + h / 2)]
        elif self._on_top(u):  # over the boxes after it
            pts = [(xu + wu / 2, yu), (xu + wu / 2, yu - 4), (right, yu - 4)]
        else:  # under them
            pts = [(xu + wu / 2, yu + h), (xu + wu / 2, yu + h + 4), (right, yu + h + 4)]
        pts += [(right, gap), (left, gap)]
        if lay.col[v] == lay.bands[bv][0]:  # the band's first column: straight in
            pts += [(left, yv + h / 2), (xv, yv + h / 2)]
        elif self._on_top(v):
            pts += [(left, yv - 4), (xv + wv / 2, yv - 4), (xv + wv / 2, yv)]
        else:
            pts += [(left, yv + h + 4), (xv + wv / 2, yv + h + 4), (xv + wv / 2, yv + h)]
        return tuple(pts)

    def _on_top(self, v: int) -> bool:
        """Whether a layer's box is the top one of its column (else the edge into or out of
        it passes under the band, when it is the bottom one)."""
        col, slot = self.lay.col, self.lay.slot
        return slot[v] == self.top_col[col[v]] or slot[v] != self.low_col[col[v]]
