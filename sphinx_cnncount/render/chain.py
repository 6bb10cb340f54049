"""A chain of layers as the figures draw it: steps, their folds and merges, their sizes.

The ``lenet`` and ``blocks`` figures draw a model's layers left to right in their order. A
:class:`Step` is what one drawing shows: the input, a layer, a run of identical layers drawn
once (``layer1.0-1 (x2)``), or a layer with the shape-keeping layers after it merged in (a
convolution with its BatchNorm and ReLU). A :class:`Group` marks steps that repeat as a whole
(a transformer's encoder block: drawn once in a frame, ``x12``).

Sizes are on scales that keep deep networks readable (said in the docs' *Diagrams* section):

* a map's side is proportional to the square root of its side in units: from 224 to 7 the
  drawn sides go 120, 85, 60, 42, 30, 21 px; never under :data:`SIDE_MIN` (12 px);
* a stack's depth (the channels) grows by :data:`DEPTH_PER_DOUBLING` px per doubling:
  64 channels are drawn 36 px deep, 576 channels 55 px;
* a layer of units is a bar whose height grows with the square root of its units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ..summary import Layer, Summary
from ..escape import name as shown_name
from ..shapes import Shape
from .vocabulary import Kind, layer_kind

SIDE_MAX = 100.0  # px: the side of the largest map
SIDE_MIN = 15.0  # px: the smallest side drawn: 12 px or more when shrunk to keep 9 px text
DEPTH_PER_DOUBLING = 6.0  # px of stack depth per doubling of the channels
PLANE_STEP_MIN = 3.0  # px between two drawn planes of a stack, at least
PLANES_MAX = 12  # planes drawn per stack, at most
MAX_PERIOD = 16  # the longest sequence of layers looked for as a repeated block


@dataclass(frozen=True)
class Step:
    """One drawing of a chain figure."""

    name: str  # shown (printable, elided)
    kind: Kind | None  # None for the input
    shape: Shape | None
    channels_last: bool = False
    repeat: int = 1  # identical consecutive layers drawn once
    merged: tuple[Kind, ...] = ()  # the shape-keeping layers drawn with it, in order
    layers: tuple[int, ...] = ()  # the summary's layers it stands for (all repeats)

    @property
    def is_input(self) -> bool:
        return self.kind is None


@dataclass(frozen=True)
class Group:
    """Steps ``start`` to ``end`` (exclusive) repeat ``repeat`` times as a whole; ``name`` says
    which layers (``encoder.layers.encoder_layer_0-11``)."""

    start: int
    end: int
    repeat: int
    name: str


@dataclass(frozen=True)
class Chain:
    steps: tuple[Step, ...]
    groups: tuple[Group, ...] = ()

    def group_at(self, i: int) -> Group | None:
        return next((g for g in self.groups if g.start <= i < g.end), None)


# ---------------------------------------------------------------------------------------------
# From a summary


def input_step(summary: Summary) -> Step:
    """The first input; channels-last when its last dim looks like colour channels (NHWC, as
    Keras exports it)."""
    shape = summary.inputs[0].shape if summary.inputs else None
    nhwc = (shape is not None and len(shape) == 4 and all(isinstance(d, int) for d in shape)
            and shape[3] in (1, 3, 4) and shape[1] > 4)  # type: ignore[operator]
    return Step("INPUT", None, shape, nhwc)


def layer_step(summary: Summary, i: int) -> Step:
    layer = summary.layers[i]
    channels_last = layer.layout is not None and len(layer.layout) == 4 \
        and layer.layout.endswith("C")
    return Step(shown_name(layer.name), layer_kind(layer), layer.output_shape, channels_last,
                layers=(i,))


def chain(summary: Summary, merge: bool = False, fold: bool = False) -> Chain:
    """The input and every layer, in order; with ``merge``, the shape-keeping layers merged
    into the drawing before them; with ``fold``, repeats drawn once. A step that stands for
    several layers is named by the first and the last (``conv1-relu``, ``layer1.0-1``)."""
    units = [(layer_step(summary, i), signature(summary.layers[i]))
             for i in range(len(summary.layers))]
    names = [shown_name(layer.name) for layer in summary.layers]
    if merge:
        units = _merged(units, _repetitions([sig for _, sig in units],
                                            [(names[i],) for i in range(len(names))]))

    def with_name(step: Step) -> Step:
        first, last = step.layers[0], step.layers[-1]
        return replace(step, name=run_name(names[first], names[last]))

    if not fold:
        return Chain((input_step(summary), *(with_name(s) for s, _ in units)))
    steps, groups = _folded(units, names)
    return Chain((input_step(summary), *steps),
                 tuple(replace(g, start=g.start + 1, end=g.end + 1) for g in groups))


def signature(layer: Layer) -> tuple[object, ...]:
    """What two layers share when they are the same layer repeated."""
    return (layer.op_types, layer.output_shape, layer.layout, layer.params, layer.connections,
            layer.macs)


# Layers that keep their input's shape and that a figure of blocks draws with the layer before.
MERGEABLE = frozenset({Kind.ACTIVATION, Kind.BATCH_NORMALIZATION, Kind.LAYER_NORMALIZATION,
                       Kind.NORMALIZATION, Kind.SCALE_AND_SHIFT, Kind.DROPOUT, Kind.IDENTITY,
                       Kind.CONVERSION, Kind.FLATTEN, Kind.RESHAPE})


def _same_drawing(a: Shape | None, b: Shape | None) -> bool:
    """The same units in the same arrangement, ones aside: [1, 512, 1, 1] and [1, 512]."""
    if a is None or b is None:
        return False
    return [d for d in a if d != 1] == [d for d in b if d != 1]


Unit = tuple[Step, tuple[object, ...]]  # a step and the signature that says it repeats


def _repetitions(sigs: list[tuple[object, ...]], names: list[tuple[str, ...]]
                 ) -> list[tuple[int, int] | None]:
    """For each unit, which repeat of which repeated run or block it is in (None: none): a
    merge never joins two of them, so that what repeats still repeats once merged."""
    out: list[tuple[int, int] | None] = [None] * len(sigs)
    i = 0
    while i < len(sigs):
        p, r = period(sigs, i, names)
        if r > 1:
            for k in range(p * r):
                out[i + k] = (i, k // p)
        i += p * r
    return out


# A transformer's sublayers: a norm after one is the next sublayer's (pre-)norm, not theirs.
_SUBLAYERS = frozenset({Kind.ATTENTION, Kind.TRANSFORMER_BLOCK})


def _merged(units: list[Unit], repeats: list[tuple[int, int] | None]) -> list[Unit]:
    out: list[Unit] = []
    for i, (step, sig) in enumerate(units):
        if out and step.kind in MERGEABLE and _same_drawing(out[-1][0].shape, step.shape) \
                and repeats[i] == repeats[i - 1] and out[-1][0].kind not in _SUBLAYERS:
            prev, prev_sig = out[-1]
            out[-1] = (replace(prev, shape=step.shape, channels_last=step.channels_last,
                               merged=(*prev.merged, step.kind), layers=prev.layers + step.layers),
                       (prev_sig, sig))
        else:
            out.append((step, sig))
    return out


def period(sigs: list[tuple[object, ...]], i: int, names: list[tuple[str, ...]]
            ) -> tuple[int, int]:
    """(period, repeats) of the longest repeated block that starts at ``i``: (1, 1) if none.
    A block of several units repeats only as modules of its own (``layer1.0``, ``layer1.1``:
    ``names`` gives each unit's layer names), not as any run of look-alike layers."""
    best = (1, 1)
    for p in range(1, min(MAX_PERIOD, (len(sigs) - i) // 2) + 1):
        r = 1
        while sigs[i + r * p:i + (r + 1) * p] == sigs[i:i + p]:
            r += 1
        if r > 1 and p * r > best[0] * best[1] and (p == 1 or _modules(
                [[n for u in range(i + j * p, i + (j + 1) * p) for n in names[u]]
                 for j in range(r)])):
            best = (p, r)
    return best


def _modules(repeats: list[list[str]]) -> bool:
    """Whether each repeat's layers share a module of their own, siblings of each other's."""
    heads = [common_prefix(names) for names in repeats]
    parents = {h[:max((i for i, ch in enumerate(h) if ch in "./:"), default=0)] for h in heads}
    return all(heads) and len(set(heads)) == len(heads) and len(parents) == 1


def _folded(units: list[Unit], names: list[str]) -> tuple[list[Step], list[Group]]:
    """Runs of identical units as one step (``layer1.0-1 (x2)``), repeated sequences of units
    as one sequence in a group (a transformer's encoder blocks, ``x12``); ``names``: the
    layers' shown names."""
    sigs = [sig for _, sig in units]
    layer_names = [tuple(names[k] for k in s.layers) for s, _ in units]
    steps: list[Step] = []
    groups: list[Group] = []
    i = 0
    while i < len(units):
        p, r = period(sigs, i, layer_names)
        span = [s for s, _ in units[i:i + p * r]]
        if p == 1:
            every = tuple(k for s in span for k in s.layers)
            steps.append(replace(span[0], name=run_name(names[every[0]], names[every[-1]]),
                                 repeat=r, layers=every))
        else:
            firsts = [run_name(names[s.layers[0]], names[s.layers[-1]]) for s in span[:p]]
            head = common_prefix(firsts)
            tail = common_prefix([names[s.layers[-1]] for s in span[-p:]])
            start = len(steps)
            for k in range(p):
                short = _inside(firsts[k], head)
                steps.append(replace(span[k], name=short, layers=tuple(
                    idx for j in range(r) for idx in span[j * p + k].layers)))
            groups.append(Group(start, len(steps), r, run_name(head or firsts[0],
                                                                   tail or names[-1])))
        i += p * r
    return steps, groups


def _inside(name: str, head: str) -> str:
    """A name in a repeated block, the block's own name taken away: ``layer1.0.conv1`` in
    ``layer1.0`` is ``conv1``, the block's own layer and the one after it, ``layer1.0-relu``,
    is ``relu``."""
    if not head or not name.startswith(head) or name == head:
        return name
    rest = name[len(head):]
    return rest[1:] if rest[0] in "./:-" else name


def common_prefix(names: list[str]) -> str:
    """The longest prefix of all ``names`` that ends at a separator or a name's end."""
    first = min(names, key=len)
    k = 0
    while k < len(first) and all(n[k] == first[k] for n in names):
        k += 1
    if all(len(n) == k or n[k] in "._/-:" for n in names):
        return first[:k]
    return first[:max((i for i, ch in enumerate(first[:k]) if ch in "._/-:"), default=0)]


NAME_LINE = 16  # characters: a longer name is broken after a separator


def wrap_name(name: str, line: int = NAME_LINE) -> tuple[str, ...]:
    """A name on lines of at most ``line`` characters, broken after a separator (a name with
    none stays whole)."""
    lines: list[str] = []
    rest = name
    while len(rest) > line:
        cut = max((i + 1 for i, ch in enumerate(rest[:line]) if ch in "._/"), default=0)
        if cut == 0:
            break
        lines.append(rest[:cut])
        rest = rest[cut:]
    return (*lines, rest)


def named(name: str, repeat: int = 1) -> tuple[str, ...]:
    """A step's name on its lines, ``(xN)`` after it when it stands for N repeats."""
    lines = wrap_name(name)
    if repeat == 1:
        return lines
    mark = f"(x{repeat})"
    if len(lines[-1]) + 1 + len(mark) <= NAME_LINE:
        return (*lines[:-1], f"{lines[-1]} {mark}")
    return (*lines, mark)


def run_name(first: str, last: str) -> str:
    """``layer1.0`` .. ``layer1.1`` -> ``layer1.0-1``: the last name after their common prefix
    (up to a separator); a module and one inside it: ``layer1.0`` .. ``layer1.0.relu`` ->
    ``layer1.0-relu``."""
    if first == last:
        return first
    if last.startswith(first) and last[len(first):len(first) + 1] in (".", "/", ":"):
        return f"{first}-{last[len(first) + 1:]}"
    k = 0
    for a, b in zip(first, last):
        if a != b:
            break
        k += 1
    cut = max((i + 1 for i, ch in enumerate(first[:k]) if ch in "._/-:"), default=0)
    return f"{first}-{last[cut:]}"


# ---------------------------------------------------------------------------------------------
# What a step's output is, and the scales it is drawn on


@dataclass(frozen=True)
class Maps:
    channels: int
    height: int
    width: int


@dataclass(frozen=True)
class Tokens:
    tokens: int  # the sequence's length
    width: int  # each token's units


def maps(step: Step) -> Maps | None:
    """Channels and the two spatial sides of a map output (batch dropped), else None; a 1x1
    map is a layer of units."""
    shape = step.shape
    if shape is None or len(shape) < 4 or not all(isinstance(d, int) and d > 0 for d in shape):
        return None  # unknown, or empty (a valid Slice to a zero side): nothing to draw
    c, h, w = (shape[3], shape[1], shape[2]) if step.channels_last else (shape[1], *shape[-2:])
    return None if h == w == 1 else Maps(c, h, w)  # type: ignore[arg-type]


def tokens(step: Step) -> Tokens | None:
    """A sequence output ``[batch, tokens, width]`` (both over 1), else None."""
    shape = step.shape
    if shape is None or len(shape) != 3 or not all(isinstance(d, int) and d > 1
                                                   for d in shape[1:]):
        return None
    return Tokens(shape[1], shape[2])  # type: ignore[arg-type]


def units(step: Step) -> int | None:
    """The size of any other known output (a vector; a 1x1 map counts as one), else None."""
    shape = step.shape
    if shape is None or not all(isinstance(d, int) and d > 0 for d in shape[1:]):
        return None
    return math.prod(shape[1:])  # type: ignore[arg-type]


@dataclass(frozen=True)
class Scale:
    """The scales of one figure: its largest side, and its largest layer of units."""

    longest: int
    most_units: int

    def side(self, n: int) -> float:
        """A map's (or a sequence's) side of ``n`` units, in px; a sequence longer than the
        longest side of the maps is drawn as long as it."""
        return max(SIDE_MIN, SIDE_MAX * min(1.0, math.sqrt(n / self.longest)))

    @staticmethod
    def depth(channels: int) -> float:
        """A stack's depth for ``channels``, in px: log-scaled."""
        return DEPTH_PER_DOUBLING * math.log2(max(1, channels))

    @staticmethod
    def planes(channels: int) -> int:
        """How many planes a stack of ``channels`` shows."""
        return max(1, min(channels, PLANES_MAX,
                          1 + int(Scale.depth(channels) / PLANE_STEP_MIN)))

    def bar(self, n: int, low: float, high: float) -> float:
        """A bar's height for ``n`` units between ``low`` and ``high`` px (area-like)."""
        return low + (high - low) * math.sqrt(n / self.most_units)


def scale_of(steps: tuple[Step, ...]) -> Scale:
    sides = [d for s in steps if (m := maps(s)) for d in (m.height, m.width)]
    sides = sides or [t.tokens for s in steps if (t := tokens(s))]
    flat = [u for s in steps if not maps(s) and not tokens(s) and (u := units(s))]
    return Scale(max(sides, default=1), max(flat, default=1))


def stage_key(step: Step) -> object:
    """Steps of one stage share it: the maps' sides, or sequences, or layers of units."""
    if (m := maps(step)) is not None:
        return (m.height, m.width)
    if tokens(step) is not None:
        return "tokens"
    return "units"


def lanes(spans: list[tuple[int, int, tuple[int, int]]]) -> dict[tuple[int, int], int]:
    """Lanes for edges spanning columns ``a`` to ``b``: spans that overlap take different
    lanes, the shorter nearer the drawings (interval colouring, first fit)."""
    out: dict[tuple[int, int], int] = {}
    held: list[list[tuple[int, int]]] = []  # per lane: the spans it holds
    for a, b, e in sorted(spans, key=lambda s: (s[1] - s[0], s[0])):
        k = next((k for k, taken in enumerate(held)
                  if all(b <= x or y <= a for x, y in taken)), len(held))
        if k == len(held):
            held.append([])
        held[k].append((a, b))
        out[e] = k
    return out
