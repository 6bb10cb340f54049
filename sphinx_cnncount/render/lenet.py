"""``lenet``: the LeNet-5 paper's Figure 2 for a chain of layers.

Each layer of maps is a stack of offset planes sized by its spatial size, each layer of units a
vertical bar, each sequence of tokens a column of token rows; labelled the way the paper labels
them (``C1: feature maps`` / ``6@28x28``) and captioned with the paper's words for what happens
between them (``convolutions``, ``subsampling``, ``full connection``).

The figure stays legible in a column of ``max_width`` px: its smallest text may shrink to
9 px there, no further. A chain too long for one such row first folds its repeats (identical
layers drawn once, ``(x2)``; repeated blocks drawn once in a frame, ``x12``), then also draws
each shape-keeping layer (an activation, a normalization) with the layer before it, and only
then wraps onto rows, a stage (maps of one size) kept on one row where it fits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from ..summary import Summary
from ..escape import printable
from . import fmt_shape
from .chain import Chain, Scale, Step, chain, maps, named, scale_of, stage_key, tokens, \
    units
from .drawing import MIN_TEXT_PX, Dot, Drawing, Ink, Path, Rect, Shape, Text, \
    text_width
from .vocabulary import Link, Translate, Word, same

FONT_SIZE = 12.0
CAPTION_SIZE = 11.0
BAR_W = 14.0
BAR_MIN, BAR_MAX = 24.0, 150.0
SEQUENCE_ROWS = 12  # token rows drawn in a sequence, at most
GAP_MIN = 24.0  # px between drawings
LABEL_GAP = 8.0  # px between labels
CAPTION_GAP = 6.0  # px between captions
MARGIN = 8.0
LEAD = 40.0  # px: the arrow that brings a wrapped chain into its next row
STUB = 20.0  # px: the arrow that takes it out of a row
ROW_GAP = 16.0  # px between rows
LINE = FONT_SIZE + 3.0  # px from one label line to the next
LABEL_ONE_LINE = 12  # characters: a longer "name: feature maps" gets a line per part
CAPTION_LINE = 12  # characters: a longer caption goes on two lines
FRAME_PAD = 5.0  # px between a repeated group's frame and what it encloses


class Look(str, Enum):
    STACK = "stack"  # planes
    BAR = "bar"  # units
    SEQUENCE = "sequence"  # token rows
    UNKNOWN = "unknown"  # a shape not known: a small bar and the shape as text


@dataclass(frozen=True)
class _Item:
    """One drawing: ``planes`` planes of ``w`` x ``h`` px, ``depth`` px from the first to the
    last (a stack), or one shape of ``w`` x ``h`` (a bar, a sequence)."""

    label: tuple[str, ...]  # lines, the last the output's size
    caption: tuple[str, ...]  # what happens on the way in, shown under the gap before it
    link: Link  # how it connects to the item before
    look: Look
    w: float
    h: float
    planes: int = 1
    depth: float = 0.0
    rows: int = 0  # a sequence's token rows drawn

    @property
    def label_w(self) -> float:
        return max(text_width(line, FONT_SIZE) for line in self.label)

    @property
    def caption_w(self) -> float:
        return max((text_width(line, CAPTION_SIZE) for line in self.caption), default=0.0)

    @property
    def width(self) -> float:
        return self.w + self.depth

    @property
    def height(self) -> float:
        return self.h + self.depth

    @property
    def extent(self) -> float:
        """Half the width the item needs: its drawing or its label, whichever is wider."""
        return max(self.width, self.label_w) / 2


def _items(c: Chain, translate: Translate = same) -> list[_Item]:
    scale = scale_of(c.steps)
    return [_item(s, scale, translate) for s in c.steps]


def _item(s: Step, scale: Scale, translate: Translate = same) -> _Item:
    name = translate(s.name) if s.is_input else s.name  # "INPUT"
    caption = () if s.kind is None else _caption(translate(s.kind.caption))
    link = Link.ONE_TO_ONE if s.kind is None else s.kind.link
    if (m := maps(s)) is not None:
        size = f"{m.height}x{m.width}" if s.is_input and m.channels == 1 \
            else f"{m.channels}@{m.height}x{m.width}"
        planes = Scale.planes(m.channels)
        depth = Scale.depth(m.channels) if planes > 1 else 0.0
        return _Item(_label(name, s.repeat, translate(Word.FEATURE_MAPS.value), size,
                            s.is_input), caption, link,
                     Look.STACK, scale.side(m.width), scale.side(m.height), planes, depth)
    if (t := tokens(s)) is not None:
        return _Item(_label(name, s.repeat, translate(Word.SEQUENCE.value),
                            f"{t.tokens}x{t.width}", s.is_input),
                     caption,
                     link, Look.SEQUENCE, max(BAR_W, Scale.depth(t.width)),
                     scale.side(t.tokens), rows=min(t.tokens, SEQUENCE_ROWS))
    if (u := units(s)) is not None:
        return _Item(_label(name, s.repeat, translate(Word.LAYER.value), f"{u:,}", s.is_input), caption, link,
                     Look.BAR,
                     BAR_W, scale.bar(u, BAR_MIN, BAR_MAX))
    return _Item((*named(name, s.repeat), fmt_shape(s.shape)), caption, link, Look.UNKNOWN,
                 BAR_W, BAR_MIN)


def _label(name: str, repeat: int, word: str, size: str, is_input: bool) -> tuple[str, ...]:
    """``C1: feature maps`` over ``6@28x28``, as the paper writes it; on a line per part when
    long, a long name broken at its dots."""
    if is_input:
        return (name, size)
    head = f"{name}: {word}"
    if len(head) <= LABEL_ONE_LINE and repeat == 1:
        return (head, size)
    lines = named(name, repeat)
    return (*lines[:-1], f"{lines[-1]}:", word, size)


def _caption(text: str) -> tuple[str, ...]:
    """A caption, on two lines when long."""
    breaks = [i + 1 for i, ch in enumerate(text) if ch == " "]
    if len(text) <= CAPTION_LINE or not breaks:
        return (text,)
    cut = min(breaks, key=lambda i: abs(2 * i - len(text)))
    return (text[:cut].strip(), text[cut:])


# ---------------------------------------------------------------------------------------------
# Placing items in rows


@dataclass(frozen=True)
class _Placed:
    item: _Item
    x: float  # centre
    gap: float  # centre of the gap before it, where its caption goes
    lead: bool  # the first item of a continued row: an arrow comes in from the left


def _row(items: list[_Item], lead: bool) -> list[_Placed]:
    """Centres left to right: drawings, labels and captions each clear their neighbours."""
    row: list[_Placed] = []
    for item in items:
        if not row and not lead:
            row.append(_Placed(item, item.extent + MARGIN, 0.0, False))
            continue
        if not row:  # a continued row: the caption sits under the arrow coming in
            room = max(LEAD, item.caption_w + CAPTION_GAP)
            x = max(MARGIN + room + item.width / 2, MARGIN + item.extent)
            row.append(_Placed(item, x, (MARGIN + x - item.width / 2) / 2, True))
            continue
        prev = row[-1]
        p = prev.item
        x = max(prev.x + p.width / 2 + GAP_MIN + item.width / 2,
                prev.x + (p.label_w + item.label_w) / 2 + LABEL_GAP)
        if len(row) > 1 or prev.lead:  # this caption clears the one before
            need = prev.gap + (p.caption_w + item.caption_w) / 2 + CAPTION_GAP
            x = max(x, 2 * need - (prev.x + p.width / 2) + item.width / 2)
        row.append(_Placed(item, x, ((prev.x + p.width / 2) + (x - item.width / 2)) / 2, False))
    return row


def _row_width(row: list[_Placed], last: bool) -> float:
    end = row[-1]
    return end.x + max(end.item.extent, end.item.width / 2 + (0 if last else STUB)) + MARGIN


def _rows(items: list[_Item], c: Chain, limit: float) -> list[list[_Placed]]:
    """Rows no wider than ``limit``: whole stages (and whole repeated groups) where they fit,
    a stage too long for a row broken where the row is full."""
    stages: list[tuple[object, list[int]]] = []
    for i, step in enumerate(c.steps):
        group = c.group_at(i)
        key = ("group", group.start) if group else stage_key(step)
        if i == 1 or (stages and key == stages[-1][0]):  # the input opens the first stage
            stages[-1] = (key, [*stages[-1][1], i])
        else:
            stages.append((key, [i]))
    out: list[list[int]] = [[]]

    def fits(idx: list[int]) -> bool:
        last = idx[-1] == len(items) - 1
        return _row_width(_row([items[k] for k in idx], bool(idx[0])), last) <= limit

    for _, members in stages:
        if fits(out[-1] + members):
            out[-1] += members
            continue
        if out[-1]:
            out.append([])
        for k in members:  # the stage on rows of its own, as many as it needs
            if out[-1] and not fits(out[-1] + [k]):
                out.append([])
            out[-1].append(k)
    return [_row([items[k] for k in idx], bool(idx[0])) for idx in out if idx]


# ---------------------------------------------------------------------------------------------
# The figure


def lenet(summary: Summary, max_width: float | None = 680.0,
          translate: Translate = same) -> Drawing:
    """Stacked feature-map planes, dense bars and token sequences, labelled as in the paper's
    Figure 2, legible in a column of ``max_width`` px (None: one row, nothing folded)."""
    limit = None if max_width is None else max_width * CAPTION_SIZE / MIN_TEXT_PX
    for merge, fold in ((False, False), (False, True), (True, True)):
        c = chain(summary, merge, fold)
        items = _items(c, translate)
        rows = [_row(items, False)]
        if limit is None or _row_width(rows[0], True) <= limit:
            break
    else:
        rows = _rows(items, c, limit)
    return _draw(summary, c, rows)


_Box = tuple[float, float, float, float, bool]  # x, y, w, h of the front plane; a stack?


def _draw(summary: Summary, c: Chain, rows: list[list[_Placed]]) -> Drawing:
    shapes: list[Shape] = []
    top = 0.0
    width = 0.0
    prev_box: _Box | None = None
    index = 0  # the step of the first item of the row
    for r, row in enumerate(rows):
        last_row = r == len(rows) - 1
        width = max(width, _row_width(row, last_row))
        framed = any(c.group_at(index + k) for k in range(len(row)))
        lines = max(len(p.item.label) for p in row)
        label_top = top + 14 + (LINE + FRAME_PAD if framed else 0)
        mid_y = label_top + (lines - 1) * LINE + 14 + max(p.item.height for p in row) / 2
        tallest = max(p.item.height for p in row)
        caption_y = mid_y + tallest / 2 + 16
        for k, placed in enumerate(row):
            box = _draw_item(shapes, placed, label_top, lines, mid_y, caption_y)
            if placed.lead:  # the chain comes in from the row above
                y = box[1] + box[3] / 2
                shapes.append(Path(((MARGIN, y), (placed.x - placed.item.width / 2 - 2, y)),
                                   arrow=True))
            elif prev_box is not None:
                shapes.extend(_connection(prev_box, box, placed.item.link))
            prev_box = box
            if k == len(row) - 1 and not last_row:  # and leaves for the row below
                ex = placed.x + placed.item.width / 2 + 2
                shapes.append(Path(((ex, mid_y), (ex + STUB - 4, mid_y)), arrow=True))
        if framed:
            _frames(shapes, c, index, row, label_top - FONT_SIZE, caption_y - 12)
        index += len(row)
        caption_lines = max((len(p.item.caption) for p in row), default=1)
        top = caption_y + (caption_lines - 1) * (CAPTION_SIZE + 2) + 6 + ROW_GAP
    label = f"{printable(summary.model)}: " + ", ".join(
        " ".join(p.item.label) for row in rows for p in row)
    return Drawing(math.ceil(width), math.ceil(top - ROW_GAP), label, tuple(shapes))


def _draw_item(shapes: list[Shape], placed: _Placed, label_top: float, lines: int,
               mid_y: float, caption_y: float) -> _Box:
    """Label, drawing and caption of one item; the box a connection reaches."""
    item, cx = placed.item, placed.x
    x0, y0 = cx - item.width / 2, mid_y - item.height / 2
    for n, line in enumerate(item.label, start=lines - len(item.label)):  # bottom-aligned
        shapes.append(Text(cx, label_top + n * LINE, line, FONT_SIZE))
    for n, line in enumerate(item.caption):
        shapes.append(Text(placed.gap, caption_y + n * (CAPTION_SIZE + 2), line, CAPTION_SIZE))
    if item.look is Look.STACK:
        step = item.depth / (item.planes - 1) if item.planes > 1 else 0.0
        for n in range(item.planes):  # back to front, each down and to the right
            shapes.append(Rect(x0 + n * step, y0 + n * step, item.w, item.h))
        return (x0 + item.depth, y0 + item.depth, item.w, item.h, True)
    if item.look is Look.SEQUENCE:  # a column of token rows
        shapes.append(Rect(x0, y0, item.w, item.h))
        pitch = item.h / item.rows
        for n in range(1, item.rows):
            y = y0 + n * pitch
            shapes.append(Path(((x0, y), (x0 + item.w, y)), Ink.FAINT, stroke=0.6))
        return (x0, y0, item.w, item.h, True)
    shapes.append(Rect(x0, y0, item.w, item.h, Ink.BAR))
    return (x0, y0, item.w, item.h, False)


def _frames(shapes: list[Shape], c: Chain, index: int, row: list[_Placed], top: float,
            bottom: float) -> None:
    """A dashed frame around each repeated group's items in the row, titled ``name (xN)``."""
    for group in c.groups:
        members = [p for k, p in enumerate(row) if group.start <= index + k < group.end]
        if not members:
            continue
        left = min(p.x - p.item.extent for p in members) - FRAME_PAD
        right = max(p.x + p.item.extent for p in members) + FRAME_PAD
        shapes.append(Rect(left, top - FRAME_PAD, right - left, bottom - top + FRAME_PAD,
                           Ink.FRAME, radius=6))
        shapes.append(Text((left + right) / 2, top - FRAME_PAD - 5,
                           f"{group.name} (x{group.repeat})", FONT_SIZE, bold=True))


def _connection(src: _Box, dst: _Box, link: Link) -> list[Shape]:
    """From the source's front plane (or bar) to one unit of the destination: a receptive
    field and its two converging edges (LOCAL), edges from the whole source (FULL), or an arrow
    (ONE_TO_ONE: the same units re-arranged, as a Flatten; no fan it does not have)."""
    sx, sy, sw, sh, planes = src
    dx, dy, dw, dh, _ = dst
    if link is Link.ONE_TO_ONE:
        y = (max(sy, dy) + min(sy + sh, dy + dh)) / 2 if sy < dy + dh and dy < sy + sh \
            else dy + dh / 2
        return [Path(((sx + sw + 2, y), (dx - 2, y)), arrow=True)]
    out: list[Shape] = []
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
