"""The architecture checks of ``cnncount lint`` (the rule table itself is in :mod:`.codes`).

Check contract (stated once): a check is a pure function of a :class:`Context` (the loaded model,
its graph and its summary) that yields :class:`Finding` records; it never raises for a model the
counter could read, and it names the layer (and node) it speaks of. Declared-number findings
(CNC00x) come from :mod:`.expect` and :mod:`.docs`; the checks here are CNC1xx and CNC2xx.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from math import prod
from typing import Any

import onnx
from onnx import helper

from ..summary import Summary
from ..graph import Graph, has_subgraph
from ..graph import _node_inputs as node_inputs
from ..load import LoadedModel
from ..shapes import is_known
from ..render import fmt_int
from .codes import DEFAULT_THRESHOLDS, DIAGNOSTIC_RULES, Finding, Rule, Severity

__all__ = ["CHECKS", "Context", "Finding", "Rule", "Severity", "run_checks", "window_axes"]


@dataclass(frozen=True)
class Context:
    """What a check sees: the model as loaded, its node graph and its counted summary."""

    path: str  # the model path as the user gave it
    loaded: LoadedModel
    graph: Graph
    summary: Summary
    thresholds: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))

    @cached_property
    def _layers_by_node(self) -> dict[str, str]:
        return {node: layer.name for layer in reversed(self.summary.layers)
                for node in layer.nodes}

    @cached_property
    def decided_reads(self) -> frozenset[str]:
        """What the If nodes replaced by their branch read (their conditions, both branches'
        captures): used, as the file has them, though the counted graph no longer reads them."""
        inference = self.loaded.inference
        return frozenset(t for d in (inference.decisions if inference else ()) for t in d.reads)

    def layer_of(self, node_name: str) -> str | None:
        """The layer a node (by its display name) belongs to."""
        return self._layers_by_node.get(node_name)

    def finding(self, rule: Rule, message: str, node: str | None = None,
                layer: str | None = None) -> Finding:
        if layer is None and node is not None:
            layer = self.layer_of(node)
        return Finding(rule, message, self.path, self.path, None, layer, node)


# ---------------------------------------------------------------------------------------------
# Windows: the arithmetic the seed article teaches, per spatial axis.

WINDOW_OPS = frozenset({"Conv", "ConvInteger", "QLinearConv", "MaxPool", "AveragePool", "LpPool"})
_WEIGHT_SLOT = {"Conv": 1, "ConvInteger": 1, "QLinearConv": 3}


@dataclass(frozen=True)
class Axis:
    """One spatial axis of a window op: input side, pads, effective kernel, stride, output."""

    size: int  # input side
    pad_begin: int
    pad_end: int
    kernel: int  # effective: dilation*(k-1)+1
    stride: int
    out: int  # output side, as the op computes it

    @property
    def padded(self) -> int:
        return self.size + self.pad_begin + self.pad_end

    @property
    def uncovered(self) -> int:
        """Trailing padded positions past the last window that a further window would have read.

        With a stride longer than the window, the positions between windows are skipped by
        design; only those a next window would have reached are lost to the floor.
        """
        tail = self.padded - ((self.out - 1) * self.stride + self.kernel)
        gap = max(0, self.stride - self.kernel)
        return max(0, tail - gap)

    @property
    def dropped(self) -> int:
        """Input rows (not padding) never read: the uncovered tail minus the end padding."""
        return max(0, self.uncovered - self.pad_end)


def window_axes(node: onnx.NodeProto, x_shape: tuple, w_shape: tuple | None) -> list[Axis] | None:
    """The spatial axes of a Conv or pool node, or None when a dim or the kernel is unknown, or
    its attributes are not the int lists they should be (the counter reports such a node)."""
    try:
        return _window_axes(node, x_shape, w_shape)
    except (TypeError, ValueError):
        return None


def _window_axes(node: onnx.NodeProto, x_shape: tuple, w_shape: tuple | None
                 ) -> list[Axis] | None:
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    spatial = x_shape[2:]
    if not spatial or not is_known(spatial):
        return None
    n = len(spatial)
    kernel = list(attrs.get("kernel_shape", ()))
    if not kernel and w_shape is not None and is_known(w_shape[2:]):
        kernel = list(w_shape[2:])
    if len(kernel) != n:
        return None
    strides = list(attrs.get("strides", [1] * n))
    dilations = list(attrs.get("dilations", [1] * n))
    pads = list(attrs.get("pads", [0] * (2 * n)))
    if (len(strides), len(dilations), len(pads)) != (n, n, 2 * n) or min(strides) < 1:
        return None  # attributes that do not fit the input: the counter reports the node
    auto_pad = attrs.get("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else str(auto_pad)
    ceil_mode = bool(attrs.get("ceil_mode", 0))
    axes = []
    for i, size in enumerate(spatial):
        k = dilations[i] * (kernel[i] - 1) + 1  # the effective kernel
        s = strides[i]
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            out = -(-size // s)  # ceil(in / stride): SAME pads so that nothing is lost
            total = max(0, (out - 1) * s + k - size)
            small, large = total // 2, total - total // 2
            begin, end = (small, large) if auto_pad == "SAME_UPPER" else (large, small)
        else:
            begin, end = (pads[i], pads[i + n]) if auto_pad == "NOTSET" else (0, 0)
            span = size + begin + end - k
            if span < 0:
                out = 0
            elif ceil_mode:
                out = -(-span // s) + 1
                if (out - 1) * s >= size + begin:  # the last window may not start in end padding
                    out -= 1
            else:
                out = span // s + 1  # the floor the article's formula has
        axes.append(Axis(size, begin, end, k, s, out))
    return axes


def _window_nodes(ctx: Context) -> Iterator[tuple[int, onnx.NodeProto, list[Axis]]]:
    shapes = ctx.loaded.shapes
    for i, node in enumerate(ctx.graph.nodes):
        if node.op_type not in WINDOW_OPS or node.domain not in ("", "ai.onnx") or not node.input:
            continue
        x = shapes.get(node.input[0])
        slot = _WEIGHT_SLOT.get(node.op_type)
        w = shapes.get(node.input[slot]) if slot is not None and len(node.input) > slot else None
        if x is None:
            continue
        axes = window_axes(node, x, w)
        if axes:
            yield i, node, axes


_AXIS_WORDS = {1: [("position", "positions")],
               2: [("row", "rows"), ("column", "columns")],
               3: [("plane", "planes"), ("row", "rows"), ("column", "columns")]}


def _axis_words(n: int) -> list[tuple[str, str]]:
    return _AXIS_WORDS.get(n, [(f"axis-{i} slice", f"axis-{i} slices") for i in range(n)])


def _sides(values: Iterable[int]) -> str:
    return "x".join(str(v) for v in values)


def _window(node: onnx.NodeProto, name: str, axes: list[Axis]) -> str:
    """``MaxPool 'name' (2x2, stride 2)``."""
    strides = {a.stride for a in axes}
    stride = str(next(iter(strides))) if len(strides) == 1 else _sides(a.stride for a in axes)
    return f"{node.op_type} {name!r} ({_sides(a.kernel for a in axes)}, stride {stride})"


def check_floor_drop(ctx: Context) -> Iterator[Finding]:
    """Windows that stop short of the end of their input: the floor in the output formula."""
    for i, node, axes in _window_nodes(ctx):
        if any(a.out < 1 for a in axes) or not any(a.dropped for a in axes):
            continue
        words = _axis_words(len(axes))
        lost = [(a.dropped, words[j]) for j, a in enumerate(axes) if a.dropped]
        if all(n == 1 for n, _ in lost):
            what = "the last " + " and ".join(w[0] for _, w in lost)
        else:
            what = " and ".join(f"the last {n} {w[1] if n > 1 else w[0]}" for n, w in lost)
        per_axis = ", ".join(f"{a.dropped} of {a.size} {words[j][1]}"
                             for j, a in enumerate(axes) if a.dropped)
        units = prod(a.size for a in axes)
        kept = prod(a.size - a.dropped for a in axes)
        name = ctx.graph.names[i]
        yield ctx.finding(
            Rule.FLOOR_DROP,
            f"{ctx.layer_of(name) or name}: {_window(node, name, axes)} maps "
            f"{_sides(a.size for a in axes)} -> {_sides(a.out for a in axes)} and never reads "
            f"{what} of its input ({per_axis}; {fmt_int(units - kept)} of {fmt_int(units)} "
            "units per map)",
            node=name)


# Normalizations that subtract a per-channel mean, so a per-channel bias before them cancels.
MEAN_REMOVING_NORMS = frozenset({"BatchNormalization", "InstanceNormalization"})


def check_bias_before_norm(ctx: Context) -> Iterator[Finding]:
    """A Conv bias read only by a BatchNormalization: the normalization removes it."""
    g = ctx.graph
    for i, node in enumerate(g.nodes):
        if node.op_type != "Conv" or len(node.input) < 3 or not node.input[2]:
            continue
        if node.input[2] not in g.constants or not node.output:
            continue
        readers = g.consumers.get(node.output[0], ())
        if len(readers) != 1 or node.output[0] in g.outputs:
            continue
        norm = g.nodes[readers[0]]
        if norm.op_type not in MEAN_REMOVING_NORMS or norm.input[0] != node.output[0]:
            continue
        bias = ctx.loaded.shapes.get(node.input[2])
        size = prod(bias) if bias and all(isinstance(d, int) for d in bias) else None
        count = f" ({fmt_int(size)} params)" if size is not None else ""
        name = g.names[i]
        yield ctx.finding(
            Rule.BIAS_BEFORE_NORM,
            f"{ctx.layer_of(name) or name}: Conv {name!r} adds a bias{count} that "
            f"{norm.op_type} {g.names[readers[0]]!r} subtracts again; drop the bias "
            "(bias=False)",
            node=name)


def check_unused_initializers(ctx: Context) -> Iterator[Finding]:
    """Initializers that no node reads and that are not graph outputs."""
    g = ctx.graph
    for t in ctx.loaded.model.graph.initializer:
        if t.name in g.consumers or t.name in g.outputs or t.name in ctx.decided_reads:
            continue
        size = prod(int(d) for d in t.dims)
        yield ctx.finding(
            Rule.UNUSED_INITIALIZER,
            f"initializer {t.name!r} ({fmt_int(size)} values) is read by no node")


def check_dead_nodes(ctx: Context) -> Iterator[Finding]:
    """Nodes from which no graph output can be reached, one finding per layer."""
    g = ctx.graph
    wanted = [*g.outputs, *ctx.decided_reads]
    stack = [g.producer[t] for t in wanted if t in g.producer]
    live = set(stack)
    producer, reads = g.producer, g.rows.inputs
    # Every ancestor of the outputs, in one sweep over each node's inputs (networkx's
    # ancestors() would do the same walk, and importing it costs a lint run 0.1 s).
    while stack:
        i = stack.pop()
        node_reads = reads[i] if not has_subgraph(g.nodes[i]) \
            else node_inputs(g.nodes[i])  # what its bodies capture too
        for u in {producer[t] for t in node_reads if t in producer}:
            if u not in live:
                live.add(u)
                stack.append(u)
    groups: dict[str | None, list[int]] = {}
    for i in range(len(g.nodes)):
        if i not in live:
            groups.setdefault(ctx.layer_of(g.names[i]), []).append(i)
    for layer, members in groups.items():
        shown = ", ".join(f"{g.names[i]!r} ({g.nodes[i].op_type})" for i in members[:3])
        more = f" and {len(members) - 3} more" if len(members) > 3 else ""
        where = f"{layer}: " if layer else ""
        noun = "node computes a value" if len(members) == 1 else "nodes compute values"
        yield ctx.finding(
            Rule.DEAD_NODE,
            f"{where}{len(members)} {noun} no graph output uses: {shown}{more}",
            node=g.names[members[0]], layer=layer)


def check_param_share(ctx: Context) -> Iterator[Finding]:
    """A layer holding more than ``param-share`` of all parameters (LeNet's C5 holds 79%)."""
    s = ctx.summary
    total = s.totals.params
    limit = ctx.thresholds.get("param-share", DEFAULT_THRESHOLDS["param-share"])
    if not total or len(s.layers) < 2:  # None: some layer's parameters are unknown
        return
    for layer in s.layers:
        if layer.params is not None and layer.params > limit * total:
            yield ctx.finding(
                Rule.PARAM_SHARE,
                f"{layer.name}: holds {fmt_int(layer.params)} of the model's {fmt_int(total)} "
                f"params ({layer.params / total:.0%}), more than the param-share threshold "
                f"{limit:.0%}",
                layer=layer.name)


def check_diagnostics(ctx: Context) -> Iterator[Finding]:
    """What the counter could not count: unsupported ops (one finding per op type), subgraphs,
    and unknown shapes (one finding per layer: one missing shape hides those after it)."""
    unknown: dict[str | None, list[Any]] = {}
    for d in ctx.summary.diagnostics:
        rule = DIAGNOSTIC_RULES.get(d.kind)
        if rule is None:
            continue
        layer = ctx.layer_of(d.node) if d.node else None
        if rule is Rule.UNKNOWN_SHAPE:
            unknown.setdefault(layer, []).append(d)
            continue
        prefix = f"{layer}: " if layer and rule is not Rule.UNSUPPORTED_OP else ""
        yield ctx.finding(rule, prefix + d.message, node=d.node or None, layer=layer)
    for layer, diags in unknown.items():
        first = diags[0]
        more = (f" (and {len(diags) - 1} more unknown shape{'s' if len(diags) > 2 else ''} in "
                "this layer)") if len(diags) > 1 else ""
        prefix = f"{layer}: " if layer else ""
        yield ctx.finding(Rule.UNKNOWN_SHAPE, f"{prefix}{first.message}{more}",
                          node=first.node or None, layer=layer)


def check_control_flow(ctx: Context) -> Iterator[Finding]:
    """Control-flow nodes counted approximately, each named with how and why."""
    for c in ctx.summary.control_flow:
        if c.approximation:
            prefix = f"{c.layer}: " if c.layer else ""
            yield ctx.finding(Rule.CONTROL_FLOW_ESTIMATE,
                              f"{prefix}{c.op_type} {c.node!r}: {c.reason}", node=c.node,
                              layer=c.layer)


def check_partial(ctx: Context) -> Iterator[Finding]:
    """One finding for a count that is not complete, saying why (the findings above say
    where)."""
    s = ctx.summary
    if s.status != "complete":
        n = len(s.incomplete)
        yield ctx.finding(Rule.PARTIAL_COUNT,
                          f"the count is partial ({n} reason{'s' if n != 1 else ''}): "
                          + "; ".join(s.incomplete))


# The architecture checks, in the order their findings are reported.
# (CNC102 window-too-large is found while loading: such a model has no shapes to count.)
CHECKS: tuple[Callable[[Context], Iterable[Finding]], ...] = (
    check_floor_drop,
    check_bias_before_norm,
    check_unused_initializers,
    check_dead_nodes,
    check_param_share,
    check_diagnostics,
    check_control_flow,
    check_partial,
)


def run_checks(ctx: Context) -> list[Finding]:
    """Every architecture finding for one model."""
    return [f for check in CHECKS for f in check(ctx)]
