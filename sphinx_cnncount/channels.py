"""Which axis of each tensor holds the channels, read off the graph.

ONNX does not say; the ops do (the registry's ``Op.axes``). The data input and output of a
convolution, a pool or a normalization are channels-first (axis 1); a Transpose moves that axis
where its ``perm`` says; elementwise ops, activations, padding and concatenation keep it. The known axes are carried
forward and backward through those ops until nothing changes, so a Keras export's NHWC tensors
(``[1, 26, 26, 32]`` between a Transpose and the next Conv) are known to hold 32 channels, and
the LeNet notation ``C@HxW`` names the real channel count.
"""

from __future__ import annotations

from .graph import Graph
from .ops import Axes, Field, lookup
from .shapes import Shape

_FIXED = (Axes.CHANNELS_FIRST, Axes.CHANNELS_LAST)  # ops that say where their channels are

_PASSES = 8  # each pass carries the known axes one op further, both ways; real graphs settle


def channel_axes(g: Graph, shapes: dict[str, Shape]) -> dict[str, int]:
    """The channel axis of every tensor of rank 3 or more that it can be told for."""
    axis: dict[str, int] = {}
    rank = {t: len(s) for t, s in shapes.items() if s is not None}
    ops, ins_of, outs_of = g.rows.op_types, g.rows.inputs, g.rows.outputs
    relevant = []
    permutes: set[int] = set()
    for i, (op, domain) in enumerate(zip(ops, g.rows.domains, strict=True)):
        entry = lookup(domain, op)
        if entry is None:
            continue
        ins, outs = ins_of[i], outs_of[i]
        first_in = ins[0] if ins else ""
        first_out = outs[0] if outs else ""
        if entry.axes in _FIXED:
            for t in (first_in, first_out):
                if rank.get(t, 0) >= 3:
                    axis[t] = 1 if entry.axes is Axes.CHANNELS_FIRST else rank[t] - 1
        elif entry.receptive is Field.PERMUTE:
            relevant.append(i)
            permutes.add(i)
        elif entry.axes is Axes.KEEP:
            relevant.append(i)
    perms = {i: _perm(g, i, rank) for i in permutes}
    # Each relevant node's tensors of rank 3 or more, read once.
    tensors_of = {i: ([t for t in ins_of[i] if t and rank.get(t, 0) >= 3],
                      [t for t in outs_of[i] if t and rank.get(t, 0) >= 3]) for i in relevant}
    relevant = [i for i in relevant if tensors_of[i][0] or tensors_of[i][1]]
    for _ in range(_PASSES):
        changed = False
        settled = []
        for i in relevant:
            ins, outs = tensors_of[i]
            if all(t in axis for t in ins) and all(t in axis for t in outs):
                settled.append(i)
                continue
            if i in permutes:
                perm = perms[i]
                if perm is None or not ins or not outs:
                    continue
                a, b = ins[0], outs[0]
                if a in axis and b not in axis:
                    axis[b] = perm.index(axis[a])
                    changed = True
                elif b in axis and a not in axis:
                    axis[a] = perm[axis[b]]
                    changed = True
                continue
            tensors = ins + outs
            known = {axis[t] - rank[t] for t in tensors if t in axis}  # counted from the end
            if len(known) != 1:
                continue  # none known, or they disagree (a broadcast of another layout)
            back = known.pop()
            for t in tensors:
                if t not in axis and rank[t] + back >= 1:
                    axis[t] = rank[t] + back
                    changed = True
        if not changed:
            break
        if settled:
            done = set(settled)
            relevant = [i for i in relevant if i not in done]
    return axis


def _perm(g: Graph, i: int, rank: dict[str, int]) -> list[int] | None:
    node = g.nodes[i]
    perm = next((list(a.ints) for a in node.attribute if a.name == "perm"), None)
    ins = g.rows.inputs[i]
    n = rank.get(ins[0]) if ins else None
    if n is None:
        return None
    perm = perm if perm is not None else list(reversed(range(n)))
    return perm if sorted(perm) == list(range(n)) else None


def layout_name(rank: int, channel: int | None) -> str | None:
    """``NCHW``, ``NHWC``, ``NCW``, ``NDHWC`` ...: the batch, the channels and the spatial axes
    (D, H, W from the last), or None when the channel axis is not known."""
    if channel is None or rank < 3 or not 1 <= channel < rank:
        return None
    spatial = "DHW"[-(rank - 2):] if rank - 2 <= 3 else "".join(f"S{k}" for k in range(rank - 2))
    letters = ["N"] + list(spatial)
    letters.insert(channel, "C")
    return "".join(letters)
