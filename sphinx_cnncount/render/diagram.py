"""The diagrams of a summary, laid out once and written as SVG, TikZ, PDF or PNG.

* ``lenet``: the LeNet-5 paper's Figure 2 for a chain of layers: each feature map layer a stack of
  offset planes sized by its spatial size, each dense layer a vertical bar, labelled the way the
  paper labels them (``C1: feature maps`` / ``6@28x28``) and captioned with the paper's words for
  what happens between them (``convolutions``, ``subsampling``, ``full connection``). A chain too
  long for a column (``max_width``) first folds its runs of identical blocks into one drawing
  marked ``(x2)``, then wraps onto several rows.
* ``graph``: a layered drawing of the layer DAG for branching models (residual skips, Inception
  branches): one row per topological generation, skips drawn as arcs beside the main flow.

Both are pure functions from a :class:`~sphinx_cnncount.count.Summary` and its layer edges
(``Summary.edges``) to a
:class:`~sphinx_cnncount.render.drawing.Drawing`; :func:`render_diagram` writes one in a
:class:`Format`. SVG and TikZ are written by this package; PDF and PNG are converted from the SVG
by ``rsvg-convert`` (librsvg), when it is installed.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from ..choices import Diagram, Format, parse_diagram  # noqa: F401 (re-exported)
from ..summary import Layer, Summary
from ..escape import name as shown_name
from ..escape import printable
from ..shapes import Shape
from . import fmt_shape, layer_shape
from .drawing import Anchor, Dot, Drawing, Ink, Path, Rect, Shape as Drawn, Text, text_width
from .vocabulary import Kind, Link, kind_of, ops_text

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


def same(text: str) -> str:
    return text


def drawing(kind: Diagram, summary: Summary, edges: Edges,
            max_width: float | None = MAX_WIDTH,
            translate: Callable[[str], str] = same) -> Drawing | None:
    """The drawing of ``kind`` (``auto`` resolved), or None for ``none`` or a model without
    layers. ``max_width`` (px) is the column a ``lenet`` chain must fit, None for one row.
    ``translate`` gives each of the figure's words in the page's language (the Sphinx
    extension's message catalog); layer names and sizes are drawn as they are."""
    kind = resolve(kind, summary, edges)
    if not summary.layers:
        return None
    if kind is Diagram.LENET:
        return lenet(summary, max_width, translate)
    if kind is Diagram.GRAPH:
        return graph(summary, edges, translate)
    return None


# ---------------------------------------------------------------------------------------------
# Files


CONVERTER = "rsvg-convert"  # librsvg's command line tool: SVG -> PDF, PNG


class ConverterMissing(ValueError):
    """PDF or PNG asked for and ``rsvg-convert`` is not installed."""


def render_diagram(summary: Summary, edges: Edges, kind: Diagram = Diagram.AUTO,
                   fmt: Format = Format.SVG, max_width: float | None = MAX_WIDTH,
                   zoom: float = 2.0) -> bytes:
    """The diagram of a summary as the bytes of a file in ``fmt``; ``zoom`` scales a PNG.

    A ValueError when there is nothing to draw (``none``, no layers) or, for PDF and PNG, when
    ``rsvg-convert`` is not installed (:class:`ConverterMissing`).
    """
    from .svg import to_svg
    from .tikz import to_tikz

    picture = drawing(kind, summary, edges, max_width)
    if picture is None:
        raise ValueError(f"{printable(summary.model)}: nothing to draw "
                         f"({'no layers' if not summary.layers else 'diagram none'})")
    if fmt is Format.TIKZ:
        return (f"% {picture.label}\n% needs \\usepackage{{tikz}}\n"
                f"{to_tikz(picture)}\n").encode()
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


# ---------------------------------------------------------------------------------------------
# lenet: the paper's Figure 2

FONT_SIZE = 12.0
CAPTION_SIZE = 11.0
PLANE_MAX = 120.0  # px: the side of the largest feature map
PLANE_MIN = 8.0  # px: the smallest side drawn
STACK_MAX = 8  # planes drawn per layer at most
STACK_STEP = 6.0  # px between stacked planes, at most (a quarter of a small plane's side)
BAR_W = 14.0
BAR_MIN, BAR_MAX = 24.0, PLANE_MAX + 30
GAP_MIN = 36.0  # px between drawings
MARGIN = 8.0
LEAD = 44.0  # px: the arrow that brings a wrapped chain into its next row
STUB = 22.0  # px: the arrow that takes it out of a row
ROW_GAP = 18.0  # px between rows
LINE = FONT_SIZE + 3.0  # px from one label line to the next
LABEL_ONE_LINE = 18  # characters: a longer "name: feature maps" gets a line per part
CAPTION_H = 40.0  # up to two caption lines below the drawings


@dataclass(frozen=True)
class _Item:
    """One drawn layer (or run of identical layers): ``planes`` stacked planes of ``w`` x ``h``
    px, or a bar (``planes`` 0)."""

    label: tuple[str, ...]  # lines, the last the output's size
    caption: tuple[str, ...]  # what happens on the way in, shown under the gap before it
    link: Link  # how it connects to the item before
    planes: int
    w: float
    h: float

    @property
    def label_w(self) -> float:
        return max(text_width(line, FONT_SIZE) for line in self.label)

    @property
    def caption_w(self) -> float:
        return max((text_width(line, CAPTION_SIZE) for line in self.caption), default=0.0)

    @property
    def step(self) -> float:
        return min(STACK_STEP, max(2.0, min(self.w, self.h) / 4))

    @property
    def width(self) -> float:
        return self.w + (self.planes - 1) * self.step if self.planes else self.w

    @property
    def height(self) -> float:
        return self.h + (self.planes - 1) * self.step if self.planes else self.h

    @property
    def extent(self) -> float:
        """Half the width the item needs: its drawing or its label, whichever is wider."""
        return max(self.width, self.label_w) / 2


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


@dataclass(frozen=True)
class _Spec:
    """What one item shows, before it is sized: a layer, a run of identical ones, the input."""

    name: str
    kind: Kind | None
    ops: str  # the caption of a layer of no known kind
    shape: Shape | None
    channels_last: bool = False
    repeat: int = 1
    is_input: bool = False


def _signature(layer: Layer) -> tuple[object, ...]:
    return (layer.op_types, layer.output_shape, layer.layout, layer.params, layer.connections, layer.macs)


def _spec(layer: Layer) -> _Spec:
    channels_last = layer.layout is not None and len(layer.layout) == 4 \
        and layer.layout.endswith("C")
    return _Spec(shown_name(layer.name), kind_of(layer.op_types, layer.output_shape),
                 shown_name(ops_text(layer.op_types)), layer.output_shape, channels_last)


def _folded(layers: tuple[Layer, ...]) -> list[_Spec]:
    """Runs of identical consecutive layers (same ops, output, params, connections, MACs) as one
    spec each, named by the run's first and last layer: ``layer1.0-1``."""
    out: list[_Spec] = []
    i = 0
    while i < len(layers):
        j = i + 1
        while j < len(layers) and _signature(layers[j]) == _signature(layers[i]):
            j += 1
        spec = _spec(layers[i])
        if j - i > 1:
            spec = _Spec(_run_name(shown_name(layers[i].name), shown_name(layers[j - 1].name)),
                         spec.kind, spec.ops, spec.shape, spec.channels_last, repeat=j - i)
        out.append(spec)
        i = j
    return out


def _run_name(first: str, last: str) -> str:
    """``layer1.0`` .. ``layer1.1`` -> ``layer1.0-1``: the last name after their common prefix
    (up to a separator)."""
    k = 0
    for a, b in zip(first, last):
        if a != b:
            break
        k += 1
    cut = max((i + 1 for i, ch in enumerate(first[:k]) if ch in "._/-:"), default=0)
    return f"{first}-{last[cut:]}"


def _items(specs: list[_Spec], translate: Callable[[str], str] = same) -> list[_Item]:
    spatial = [m[1:] for s in specs if (m := _maps(s.shape, s.channels_last))]
    scale = PLANE_MAX / max((d for hw in spatial for d in hw), default=1)
    units = [u for s in specs if not _maps(s.shape, s.channels_last) and (u := _units(s.shape))]
    max_units = max(units, default=1)
    items = []
    for s in specs:
        name = f"{s.name} (x{s.repeat})" if s.repeat > 1 else s.name
        caption = () if s.is_input else _caption(s, translate)
        link = s.kind.link if s.kind else Link.ONE_TO_ONE
        if (m := _maps(s.shape, s.channels_last)) is not None:
            c, h, w = m
            size = f"{h}x{w}" if s.is_input and c == 1 else f"{c}@{h}x{w}"
            items.append(_Item(_label(name, "" if s.is_input else translate("feature maps"), size), caption,
                               link, min(c, STACK_MAX), max(PLANE_MIN, w * scale),
                               max(PLANE_MIN, h * scale)))
        elif (u := _units(s.shape)) is not None:
            bar = BAR_MIN + (BAR_MAX - BAR_MIN) * math.sqrt(u / max_units)  # area-like growth
            items.append(_Item(_label(name, "" if s.is_input else translate("layer"), f"{u:,}"), caption,
                               link, 0, BAR_W, bar))
        else:
            items.append(_Item((name, fmt_shape(s.shape)), caption, link, 0, BAR_W, BAR_MIN))
    return items


def _label(name: str, kind: str, size: str) -> tuple[str, ...]:
    """``C1: feature maps`` over ``6@28x28``, as the paper writes it; a long name on its own."""
    if not kind:
        return (name, size)
    head = f"{name}: {kind}"
    return (head, size) if len(head) <= LABEL_ONE_LINE else (f"{name}:", kind, size)


def _caption(spec: _Spec, translate: Callable[[str], str] = same) -> tuple[str, ...]:
    """The paper's word for the layer's operation (its ops when the kind is not known), on two
    lines when long."""
    text = translate(spec.kind.value) if spec.kind else spec.ops
    breaks = [i + 1 for i, ch in enumerate(text) if ch in " +"]
    if len(text) <= 12 or not breaks:
        return (text,)
    cut = min(breaks, key=lambda i: abs(2 * i - len(text)))
    return (text[:cut].strip(), text[cut:])


@dataclass(frozen=True)
class _Placed:
    item: _Item
    x: float  # centre
    gap: float  # centre of the gap before it, where its caption goes
    lead: bool  # the first item of a continued row: an arrow comes in from the left


def _place(items: list[_Item], max_width: float | None) -> list[list[_Placed]]:
    """Centres left to right, in rows no wider than ``max_width``: drawings, labels and captions
    each clear their neighbours."""
    rows: list[list[_Placed]] = [[]]
    for i, item in enumerate(items):
        for attempt in (0, 1):
            row = rows[-1]
            if not row:
                if i == 0:
                    placed = _Placed(item, item.extent + MARGIN, 0.0, False)
                else:  # a continued row: the caption sits under the arrow coming in
                    lead = max(LEAD, item.caption_w + 12)
                    x = max(MARGIN + lead + item.width / 2, MARGIN + item.extent)
                    placed = _Placed(item, x, (MARGIN + x - item.width / 2) / 2, True)
            else:
                prev = row[-1]
                x_prev, p = prev.x, prev.item
                x = max(x_prev + p.width / 2 + GAP_MIN + item.width / 2,
                        x_prev + (p.label_w + item.label_w) / 2 + 12)
                if len(row) > 1 or prev.lead:
                    need = prev.gap + (p.caption_w + item.caption_w) / 2 + 12
                    x = max(x, 2 * need - (x_prev + p.width / 2) + item.width / 2)
                placed = _Placed(item, x, ((x_prev + p.width / 2) + (x - item.width / 2)) / 2,
                                 False)
                right = x + item.extent + MARGIN + (STUB if i < len(items) - 1 else 0)
                if max_width is not None and attempt == 0 and right > max_width:
                    rows.append([])
                    continue
            row.append(placed)
            break
    return rows


def _row_width(row: list[_Placed], last: bool) -> float:
    end = row[-1]
    return end.x + max(end.item.extent, end.item.width / 2 + (0 if last else STUB)) + MARGIN


def lenet(summary: Summary, max_width: float | None = MAX_WIDTH,
          translate: Callable[[str], str] = same) -> Drawing:
    """Stacked feature-map planes and dense bars, labelled as in the paper's Figure 2."""
    in_shape, nhwc = _input_shape(summary)
    head = _Spec(translate("INPUT"), None, "", in_shape, nhwc, is_input=True)
    specs = [head, *(_spec(layer) for layer in summary.layers)]
    rows = _place(_items(specs, translate), None)
    if max_width is not None and _row_width(rows[0], True) > max_width:
        items = _items([head, *_folded(summary.layers)], translate)
        rows = _place(items, max_width)
        # As many rows, as even as they can be: the narrowest limit that needs no more of them.
        lo, hi = max_width / (len(rows) + 1), max_width
        for _ in range(12):
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if len(_place(items, mid)) <= len(rows) else (mid, hi)
        rows = _place(items, hi)

    shapes: list[Drawn] = []
    top = 0.0
    width = 0.0
    prev_box: tuple[float, float, float, float, bool] | None = None
    for r, row in enumerate(rows):
        last_row = r == len(rows) - 1
        width = max(width, _row_width(row, last_row))
        lines = max(len(p.item.label) for p in row)
        tallest = max(p.item.height for p in row)
        label_top = top + 14
        mid_y = top + lines * LINE + 14 + tallest / 2
        caption_y = mid_y + tallest / 2 + 16
        for k, placed in enumerate(row):
            item, cx = placed.item, placed.x
            x0, y0 = cx - item.width / 2, mid_y - item.height / 2
            for n, line in enumerate(item.label, start=lines - len(item.label)):  # bottom-aligned
                shapes.append(Text(cx, label_top + n * LINE, line, FONT_SIZE))
            if item.planes:
                for n in range(item.planes):  # back to front, each down and to the right
                    shapes.append(Rect(x0 + n * item.step, y0 + n * item.step, item.w, item.h))
                step = (item.planes - 1) * item.step
                box = (x0 + step, y0 + step, item.w, item.h, True)
            else:
                shapes.append(Rect(x0, y0, item.w, item.h, Ink.BAR))
                box = (x0, y0, item.w, item.h, False)
            if placed.lead:  # the chain comes in from the row above
                shapes.append(Path(((MARGIN, box[1] + box[3] / 2),
                                    (x0 - 2, box[1] + box[3] / 2)), arrow=True))
            elif prev_box is not None:
                shapes.extend(_connection(prev_box, box, item.link))
            for n, line in enumerate(item.caption):
                shapes.append(Text(placed.gap, caption_y + n * (CAPTION_SIZE + 2), line,
                                   CAPTION_SIZE))
            prev_box = box
            if k == len(row) - 1 and not last_row:  # and leaves for the row below
                ex = x0 + item.width + 2
                shapes.append(Path(((ex, mid_y), (ex + STUB - 4, mid_y)), arrow=True))
        top = caption_y + CAPTION_H - 16 + ROW_GAP
    height = top - ROW_GAP
    label = f"{printable(summary.model)}: " + ", ".join(
        " ".join(p.item.label) for row in rows for p in row)
    return Drawing(math.ceil(width), math.ceil(height), label, tuple(shapes))


def _connection(src: tuple[float, float, float, float, bool],
                dst: tuple[float, float, float, float, bool], link: Link) -> list[Drawn]:
    """From the source's front plane (or bar) to one unit of the destination: a receptive
    field and its two converging edges (LOCAL), edges from the whole source (FULL), or an arrow
    (ONE_TO_ONE: the same units re-arranged, as a Flatten; no fan it does not have)."""
    sx, sy, sw, sh, planes = src
    dx, dy, dw, dh, _ = dst
    if link is Link.ONE_TO_ONE:
        y = (max(sy, dy) + min(sy + sh, dy + dh)) / 2 if sy < dy + dh and dy < sy + sh \
            else dy + dh / 2
        return [Path(((sx + sw + 2, y), (dx - 2, y)), arrow=True)]
    out: list[Drawn] = []
    if link is Link.LOCAL and planes:  # a small square in the lower right, as the paper draws it
        side = max(4.0, min(sw, sh) * 0.22)
        fx, fy = sx + sw * 0.72 - side / 2, sy + sh * 0.62 - side / 2
        out.append(Rect(fx, fy, side, side, Ink.LINE, stroke=0.8))
        top, bottom, right = fy, fy + side, fx + side
    else:  # every unit of the source feeds the unit
        top, bottom, right = sy, sy + sh, sx + sw
    tx, ty = dx + min(dw * 0.3, 6.0), dy + dh * 0.55
    out.append(Path(((right, top), (tx, ty), (right, bottom))))
    out.append(Dot(tx, ty, 1.6))
    return out


# ---------------------------------------------------------------------------------------------
# graph: the layer DAG, one row per topological generation

BOX_H = 38.0
BOX_ROW_GAP = 30.0
COL_GAP = 24.0
ARC = 22.0  # px: how far a skip arc bows out beside the boxes, per arc


def _box_line(layer: Layer, translate: Callable[[str], str] = same) -> str:
    kind = kind_of(layer.op_types, layer.output_shape)
    words = translate(kind.noun) if kind else shown_name(ops_text(layer.op_types))
    return f"{words}  {layer_shape(layer)}"


def graph(summary: Summary, edges: Edges, translate: Callable[[str], str] = same) -> Drawing:
    """Boxes per layer in rows by topological generation; edges as curves, skips as arcs."""
    import networkx as nx  # here: a chain's figure and the CLI need none of it

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

    lines = [(shown_name(layer.name), _box_line(layer, translate)) for layer in summary.layers]
    box_w = max(120.0, *(max(text_width(a, FONT_SIZE), text_width(b, CAPTION_SIZE)) + 16
                         for a, b in lines))
    widest = max(len(row) for row in rows)
    skips = [(u, v) for u, v in dag.edges if row_of[v] - row_of[u] > 1]
    pitch = box_w + COL_GAP
    # Skips that do not overlap in rows share a lane of arcs; nested ones bow out further.
    lane_of: dict[tuple[int, int], int] = {}
    ends: list[int] = []  # the last row of each lane
    for u, v in sorted(skips, key=lambda e: (row_of[e[0]], -row_of[e[1]])):
        lane = next((k for k, end in enumerate(ends) if end < row_of[u]), len(ends))
        if lane == len(ends):
            ends.append(0)
        ends[lane] = row_of[v]
        lane_of[u, v] = lane
    width = widest * pitch + (ARC * (len(ends) + 1) + 8 if skips else 0)  # arcs on the right
    centre = widest * pitch / 2
    height = len(rows) * (BOX_H + BOX_ROW_GAP) - BOX_ROW_GAP + 16

    def pos(v: int) -> tuple[float, float]:
        return centre + slot[v] * pitch, 8 + row_of[v] * (BOX_H + BOX_ROW_GAP)

    shapes: list[Drawn] = []
    for u, v in dag.edges:
        (x1, y1), (x2, y2) = pos(u), pos(v)
        if (u, v) in lane_of:  # a skip: out of the right side, around, into the right side
            xa, xb = x1 + box_w / 2, x2 + box_w / 2
            bend = max(xa, xb) + ARC * (lane_of[u, v] + 1)
            ya, yb = y1 + BOX_H / 2, y2 + BOX_H / 2
            points = ((xa, ya), (bend, ya), (bend, yb), (xb, yb))
        else:
            ya, yb = y1 + BOX_H, y2
            k = (yb - ya) / 2
            points = ((x1, ya), (x1, ya + k), (x2, yb - k), (x2, yb))
        shapes.append(Path(points, stroke=1.2, curve=True, arrow=True))
    for v in range(n):
        x, y = pos(v)
        shapes.append(Rect(x - box_w / 2, y, box_w, BOX_H, Ink.BOX, radius=5))
        shapes.append(Text(x, y + 16, lines[v][0], FONT_SIZE, Anchor.MIDDLE, bold=True))
        shapes.append(Text(x, y + 31, lines[v][1], CAPTION_SIZE))
    label = f"{printable(summary.model)}: layer graph of {n} layers"
    return Drawing(math.ceil(width), math.ceil(height), label, tuple(shapes))
