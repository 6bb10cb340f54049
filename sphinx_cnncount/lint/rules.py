"""The architecture checks of ``cnncount lint`` (the rule table itself is in :mod:`.codes`).

Check contract (stated once): a check is a pure function of a :class:`Context` (the loaded model,
its graph and its summary) that yields :class:`Finding` records; it never raises for a model the
counter could read, and it names the layer (and node) it speaks of. Declared-number findings
(CNC00x) come from :mod:`.expect` and :mod:`.docs`; the checks here are CNC1xx and CNC2xx.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from math import prod
from typing import Any

import onnx

from ..summary import Summary
from ..graph import Graph, has_subgraph
from ..graph import _node_inputs as node_inputs
from ..load import LoadedModel
from ..ops import Axes, lookup
from ..ops.window import Axis, kernel_of, node_attr, window_axes
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

def _window_nodes(ctx: Context) -> Iterator[tuple[int, onnx.NodeProto, list[Axis]]]:
    """Each window node (a Conv, a pool: the registry's ``Op.window``) whose input's spatial
    sides are known, with its axes (ops/window.py)."""
    shapes = ctx.loaded.shapes
    for i, node in enumerate(ctx.graph.nodes):
        entry = lookup(node.domain, node.op_type)
        if entry is None or entry.window is None or entry.window.transposed or not node.input:
            continue
        attr = node_attr(node)
        if entry.axes is not Axes.CHANNELS_FIRST or attr("channels_last", 0):
            continue  # the axes below are N, C, spatial...
        x = shapes.get(node.input[0])
        if x is None or len(x) < 3 or not is_known(x[2:]):
            continue
        slot = entry.window.weight
        w = shapes.get(node.input[slot]) if slot is not None and len(node.input) > slot else None
        axes = window_axes(attr, x[2:], kernel_of(attr, w, len(x) - 2), entry.window.pooling)
        if axes and all(a is not None for a in axes):
            yield i, node, axes  # type: ignore[misc]


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


def check_bias_before_norm(ctx: Context) -> Iterator[Finding]:
    """A convolution's bias read only by a normalization that subtracts a per-channel mean
    (BatchNormalization, InstanceNormalization: the registry's ``Op.removes_mean``), which
    removes it again."""
    g = ctx.graph
    for i, node in enumerate(g.nodes):
        entry = lookup(node.domain, node.op_type)
        slot = entry.bias if entry is not None and entry.window is not None else None
        if slot is None or len(node.input) <= slot or not node.input[slot]:
            continue
        bias_name = node.input[slot]
        if bias_name not in g.constants or not node.output:
            continue
        readers = g.consumers.get(node.output[0], ())
        if len(readers) != 1 or node.output[0] in g.outputs:
            continue
        norm = g.nodes[readers[0]]
        norm_entry = lookup(norm.domain, norm.op_type)
        if norm_entry is None or not norm_entry.removes_mean or norm.input[0] != node.output[0]:
            continue
        bias = ctx.loaded.shapes.get(bias_name)
        size = prod(bias) if bias and all(isinstance(d, int) for d in bias) else None
        count = f" ({fmt_int(size)} params)" if size is not None else ""
        name = g.names[i]
        yield ctx.finding(
            Rule.BIAS_BEFORE_NORM,
            f"{ctx.layer_of(name) or name}: {node.op_type} {name!r} adds a bias{count} that "
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
    # the threshold as the decimal it was written as: 0.29 of 100 is 29, not 28.999999999999996
    share = Fraction(str(limit))
    if not total or len(s.layers) < 2:  # None: some layer's parameters are unknown
        return
    for layer in s.layers:
        if layer.params is not None and layer.params > share * total:
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
