"""Receptive field: what part of the model's first spatial input each output unit sees.

Tracked per tensor and per axis as (size, stride) on the input, the classic recurrence
(size_out = size_in + dilation*(k-1)*stride_in, stride_out = stride_in * s), through window ops
(Conv, pools), layout ops that keep or permute axes, and joins (the largest over paths). Ops that
mix positions across axes (Flatten, Reshape, MatMul) end it: the field is None after them, as it
is for ops whose field is fractional (ConvTranspose, Resize).
"""

from __future__ import annotations

import onnx

from .graph import Graph
from .ops import Field, Op, lookup
from .shapes import Shape, is_known

Reach = tuple[tuple[int, int] | None, ...] | None  # per axis: (size, stride), None = no field

class FieldWalk:
    """The receptive fields, one node at a time: ``visit(i, op)`` for every node that is not
    folded at export, in topological order (counting's walk calls it as it passes each node);
    ``fields`` then holds every activation's field."""

    __slots__ = ("g", "shapes", "fields", "active", "_windows")

    def __init__(self, g: Graph, shapes: dict[str, Shape]) -> None:
        self.g, self.shapes = g, shapes
        self.fields: dict[str, Reach] = {}
        self._windows: dict[tuple[bytes, ...], dict[str, list[int]]] = {}  # attrs -> ints
        seed = next((t for t in g.inputs if len(shapes.get(t) or ()) >= 3), None)
        self.active = seed is not None  # no spatial input: no field anywhere
        if seed is not None:
            self.fields[seed] = (None, *(((1, 1),) * (len(shapes[seed]) - 1)))

    def visit(self, i: int, op: str) -> None:
        g, fields = self.g, self.fields
        get, constants = fields.get, g.constants
        ins = [get(t) for t in g.rows.inputs[i] if t not in constants]  # "": no field
        if ins.count(None) == len(ins):
            return
        entry = lookup(g.rows.domains[i], op)
        how = entry.receptive if entry is not None else Field.NONE
        if how is Field.SAME:  # the common case, without a call
            joined = ins if None not in ins else [f for f in ins if f is not None]
            out = joined[0] if len(joined) == 1 else _join(joined)
        else:
            window = None
            if how is Field.WINDOW:
                key = g.rows.attr_keys[i]
                window = self._windows.get(key)
                if window is None:
                    window = self._windows[key] = _window_attrs(g.nodes[i])
            out = _propagate(g.nodes[i], entry, ins, self.shapes, window)
        for t in g.rows.outputs[i]:
            if t:
                fields[t] = out


def _window_attrs(node: onnx.NodeProto) -> dict[str, list[int]]:
    return {a.name: list(a.ints) for a in node.attribute}


def _propagate(node: onnx.NodeProto, entry: Op | None, ins: list[Reach],
               shapes: dict[str, Shape], window: dict[str, list[int]] | None = None) -> Reach:
    """The field of a node's outputs; ``window``: its attributes' ints, when already read."""
    if entry is None:
        return None
    how = entry.receptive
    x = ins[0] if ins else None
    if how is Field.WINDOW:
        if x is None:
            return None
        attrs = window if window is not None else _window_attrs(node)
        spatial = len(x) - 2
        k = attrs.get("kernel_shape") or _kernel_from_weight(node, entry, shapes, spatial)
        if k is None:
            return None
        s = attrs.get("strides") or [1] * spatial
        d = attrs.get("dilations") or [1] * spatial
        if not len(k) == len(s) == len(d) == spatial:
            return None  # attributes that do not fit the input (a malformed model)
        out: list[tuple[int, int] | None] = [None, None]
        for j in range(spatial):
            f = x[2 + j]
            out.append(None if f is None else (f[0] + d[j] * (k[j] - 1) * f[1], f[1] * s[j]))
        return tuple(out)
    if how is Field.GLOBAL:
        if x is None:
            return None
        extent = shapes.get(node.input[0])
        if (extent is None or len(extent) != len(x)
                or not is_known(extent)):
            return None
        return (None, None, *(
            None if f is None else (f[0] + (n - 1) * f[1], f[1] * n)  # type: ignore[operator]
            for f, n in zip(x[2:], extent[2:], strict=True)))
    if how is Field.REDUCE:  # a mean over the map keeping its axes is a global pool
        before, after = shapes.get(node.input[0]), shapes.get(node.output[0])
        if x is None or not is_known(before) or after is None \
                or not len(x) == len(before) == len(after):  # type: ignore[arg-type]
            return None  # its axes dropped (keepdims=0): no map is left to see
        return tuple(f if m == n or f is None else (f[0] + (m - 1) * f[1], f[1] * m)
                     for f, m, n in zip(x, before, after, strict=True))  # type: ignore[arg-type]
    if how is Field.PERMUTE:
        perm = next((list(a.ints) for a in node.attribute if a.name == "perm"), None)
        if x is None:
            return None
        perm = perm or list(reversed(range(len(x))))
        if sorted(perm) != list(range(len(x))):
            return None  # not a permutation of the axes (a malformed model)
        return tuple(x[p] for p in perm)
    if how is Field.SAME:
        return _join([f for f in ins if f is not None])
    if how is Field.MOVE:
        return _moved(node, x, shapes)
    if how in (Field.SELECT, Field.STATS):
        if x is None:
            return None
        if how is Field.STATS and entry.stats is not None:
            attrs = {a.name: a.i for a in node.attribute}
            lost = entry.stats(len(x), attrs)
        else:
            before, after = shapes.get(node.input[0]), shapes.get(node.output[0])
            if before is None or after is None or len(before) != len(after):
                return None
            lost = {j for j, (m, n) in enumerate(zip(before, after, strict=True)) if m != n}
        return tuple(None if j in lost else f for j, f in enumerate(x))
    return None


def _moved(node: onnx.NodeProto, x: Reach, shapes: dict[str, Shape]) -> Reach:
    """The field after an op that may only add, drop or move axes of size 1 (tf2onnx turns a
    one-channel NHWC input into NCHW with a Reshape, not a Transpose): it follows the axes of
    more than one element, in order; None when the op merges or splits them (a Flatten of a
    map)."""
    if x is None or not node.input or not node.output:
        return None
    before, after = shapes.get(node.input[0]), shapes.get(node.output[0])
    if before is None or after is None or not is_known(before) or not is_known(after) \
            or len(before) != len(x):
        return None
    src = [k for k, d in enumerate(before) if d != 1]
    dst = [k for k, d in enumerate(after) if d != 1]
    if [before[k] for k in src] != [after[k] for k in dst]:
        return None
    out: list[tuple[int, int] | None] = [None] * len(after)
    for a, b in zip(dst, src, strict=True):
        out[a] = x[b]
    # An axis of one element keeps the field it had when it stays where it was.
    for k, d in enumerate(after):
        if d == 1 and k < len(before) and before[k] == 1 and k not in dst:
            out[k] = x[k]
    return tuple(out)


def _kernel_from_weight(node: onnx.NodeProto, entry: Op, shapes: dict[str, Shape],
                        spatial: int) -> list[int] | None:
    slot = entry.window.weight if entry.window is not None else None
    w = shapes.get(node.input[slot]) if slot is not None and len(node.input) > slot else None
    if w is None or len(w) != spatial + 2 or not is_known(w):
        return None
    return list(w[2:])  # type: ignore[arg-type]


def _join(fields: list[Reach]) -> Reach:
    """Broadcast join, right-aligned: per axis the largest field over the inputs."""
    if not fields:
        return None
    rank = max(len(f) for f in fields)  # type: ignore[arg-type]
    out: list[tuple[int, int] | None] = []
    for axis in range(rank):
        cands = []
        for f in fields:
            j = axis - (rank - len(f))  # type: ignore[arg-type]
            if j >= 0 and f[j] is not None:  # type: ignore[index]
                cands.append(f[j])  # type: ignore[index]
        out.append(max(cands) if cands else None)
    return tuple(out)


def spatial_field(f: Reach, channel: int | None = None) -> dict[str, list[int]] | None:
    """The JSON form of a field: size and stride of the spatial axes (all but the batch and the
    channels, axis ``channel``, 1 when not known), else None."""
    c = 1 if channel is None else channel
    if f is None or len(f) < 3:
        return None
    spatial = [a for k, a in enumerate(f) if k not in (0, c)]
    if any(a is None for a in spatial):
        return None
    return {"size": [a[0] for a in spatial], "stride": [a[1] for a in spatial]}  # type: ignore
