"""The count: one walk over the graph's nodes in topological order, each metric a step of its
own, then the layers' records and the totals (``summary.py``).

Each step is the room that knows its metric: ``params.py`` (``ParamStep``) what a parameter
is, :class:`CostStep` what each node costs through the op registry (``ops/``) and how often a
body runs (``control.py``), :class:`EdgeStep` which layer feeds which, ``receptive.py``
(``FieldWalk``) and ``memory.py`` (``MemoryWalk``) the per-tensor metrics. A figure that could
not be computed is None (shown as ``?``), never a zero that looks real, and the summary says
why it is partial.
"""

from __future__ import annotations

import os
from typing import Any

import onnx

from . import control
from . import graph as graphmod
from .channels import channel_axes, layout_name
from .infer import Inference
from .layers import LayerGroup, group_layers
from .load import LoadedModel
from .memory import MemoryWalk
from .ops import Cost, NodeView, Op, Uncountable, UnknownShape, lookup, zero_cost
from .params import ParamStep
from .receptive import FieldWalk, spatial_field
from .shapes import Diagnostic, Shape, SizeRecord, all_known, numel
from .summary import ControlFlow, Folding, Layer, Summary, TensorInfo, Totals

__all__ = ["count"]

METRICS = ("macs", "flops", "connections")


def count(loaded: LoadedModel, depth: int = 1, g: graphmod.Graph | None = None) -> Summary:
    """Count a loaded model; pass ``g`` when the caller already built its graph."""
    if g is None:
        g = graphmod.build(loaded.path, loaded.model.graph, loaded.rows)
    groups = group_layers(g, depth, loaded.shapes, loaded.dtypes)
    layer_of = {i: li for li, group in enumerate(groups) for i in group.nodes}
    report = Report()
    edges = EdgeStep(g, layer_of)
    params = ParamStep(g, len(groups), loaded.shapes, loaded.dtypes, report.diagnostics)
    costs = CostStep(g, loaded, [group.name for group in groups], report)
    fields = FieldWalk(g, loaded.shapes)
    memory = MemoryWalk(g, layer_of, len(groups), loaded.shapes, loaded.dtypes)
    op_types, domains, inputs_of = g.rows.op_types, g.rows.domains, g.rows.inputs
    visit_field = fields.visit if fields.active else None
    for i in sorted(layer_of):  # node order; nodes folded at export time cost nothing
        li = layer_of[i]
        entry = lookup(domains[i], op_types[i])
        ins = inputs_of[i]
        operands = ins + edges.visit(i, li)  # a body's captures follow the node's own inputs
        flags = params.visit(i, li, entry, operands, len(ins))
        costs.visit(i, li, entry, flags, params)
        if visit_field is not None:
            visit_field(i, op_types[i])
        memory.visit(i, li)
    for decision in loaded.inference.decisions if loaded.inference else ():
        producer = g.producer.get(decision.outputs[0]) if decision.outputs else None
        if producer in layer_of:  # the untaken branch's weights: the layer now writing its output
            params.untaken(layer_of[producer], decision)
    return _summary(loaded, g, groups, layer_of, report, params, costs, fields, memory, edges)


def _bodies(inference: Inference | None, node: onnx.NodeProto) -> dict[str, Inference]:
    """The inferences of a control-flow node's bodies, by attribute (infer.py's)."""
    if inference is None or not node.output:
        return {}
    return inference.bodies.get(node.output[0], {})


class Report:
    """What a count could not do, shared by its steps in the order the walk meets it."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []
        self.unsupported: dict[tuple[str, str], list[str]] = {}  # (domain, op) -> node names
        self.control_flow: list[ControlFlow] = []


class EdgeStep:
    """The layer edges: wherever a node of one layer reads what a node of another wrote."""

    def __init__(self, g: graphmod.Graph, layer_of: dict[int, int]) -> None:
        self.g, self.layer_of = g, layer_of
        self.edges: set[tuple[int, int]] = set()

    def visit(self, i: int, li: int) -> tuple[str, ...]:
        """Record node ``i``'s edges; the outer tensors its bodies read (captures), which are
        operands too, past its own inputs."""
        g = self.g
        ins = g.rows.inputs[i]
        captured: tuple[str, ...] = ()
        if (g.rows.op_types[i] in control.SUBGRAPH_OPS or g.rows.domains[i] != "") \
                and control.has_body(g.nodes[i]):
            captured = tuple(t for t in graphmod._node_inputs(g.nodes[i]) if t not in ins)
        producer, layer = g.producer.get, self.layer_of.get
        for t in ins + captured:
            p = producer(t)
            if p is not None and (lp := layer(p, li)) != li:
                self.edges.add((lp, li))
        return captured


class Tally:
    """MACs, FLOPs, connections and backward MACs being summed, with the metrics some term
    left unknown."""

    __slots__ = ("macs", "flops", "connections", "backward", "unknown")

    def __init__(self) -> None:
        self.macs = self.flops = self.connections = self.backward = 0
        self.unknown: set[str] = set()

    def add(self, cost: Cost, times: int = 1, backward: int = 0) -> None:
        self.macs += cost.macs * times
        self.flops += cost.flops * times
        self.connections += cost.connections * times
        self.backward += backward * times

    def merge(self, other: Tally, times: int = 1) -> None:
        self.add(Cost(other.macs, other.flops, other.connections), times, other.backward)
        self.unknown |= other.unknown

    def value(self, metric: str) -> int | None:
        if metric in self.unknown or (metric == "backward" and "macs" in self.unknown):
            return None
        return getattr(self, metric)

    @property
    def key(self) -> tuple[int, int]:
        return (self.macs, self.flops)


class CostStep:
    """MACs, FLOPs, connections and backward MACs per layer: each node through its registry
    entry's handler, a control-flow node's bodies as often as they run."""

    def __init__(self, g: graphmod.Graph, loaded: LoadedModel, layer_names: list[str],
                 report: Report) -> None:
        self.g, self.loaded, self.report = g, loaded, report
        self.shapes = loaded.shapes
        self.tallies = [Tally() for _ in layer_names]
        self.names = layer_names  # for the control-flow records
        # Handlers are pure functions of (op, attributes, shapes, parameter flags): a model
        # repeats the same few layers many times, so each distinct node is costed once.
        self.costed: dict[tuple[Any, ...], Cost | Diagnostic] = {}
        self.needs_grad: set[str] = set()  # activations that depend on a trainable parameter

    def visit(self, i: int, li: int, entry: Op | None, flags: list[bool],
              params: ParamStep) -> None:
        g = self.g
        node, name, op = g.nodes[i], g.names[i], g.rows.op_types[i]
        ins, outs = g.rows.inputs[i], g.rows.outputs[i]
        if (op in control.SUBGRAPH_OPS or g.rows.domains[i] != "") and control.has_body(node):
            params.bodies_of(li, node, name)
            if entry is None or entry.cost is None:
                self._bodies(node, name, _bodies(self.loaded.inference, node),
                             self.loaded.inference, self.tallies[li], self.names[li])
                return
        if entry is None or entry.cost is None:
            self.report.unsupported.setdefault((g.rows.domains[i] or "ai.onnx", op),
                                               []).append(name)
            self.tallies[li].unknown.update(METRICS)
            return
        params.attributes(li, node, entry)
        if any(flags) or not self.needs_grad.isdisjoint(ins):
            self.needs_grad.update(outs)
            self.needs_grad.discard("")
        if entry.cost is zero_cost:
            return
        shape = self.shapes.get
        in_shapes, out_shapes = tuple(map(shape, ins)), tuple(map(shape, outs))
        key = (op, g.rows.domains[i], g.rows.attr_keys[i], in_shapes, out_shapes, tuple(flags))
        values: tuple[Any, ...] = ()
        if entry.reads_values and self.loaded.inference is not None:
            values = tuple(map(self.loaded.inference.values.get, ins))
            key += tuple(None if v is None else v.tobytes() for v in values)
        tally = self.tallies[li]
        cost = self.cost(entry, node, key, in_shapes, out_shapes, tuple(flags), name, tally,
                         values)
        if cost is not None and cost.macs:
            tally.backward += cost.macs * _gradient_operands(entry, ins, flags, self.needs_grad)

    def cost(self, entry: Op, node: onnx.NodeProto, key: tuple[Any, ...],
             ins: tuple[Shape | None, ...], outs: tuple[Shape | None, ...],
             flags: tuple[bool, ...], name: str, tally: Tally,
             values: tuple[Any, ...] = ()) -> Cost | None:
        """Add one node's cost to ``tally``; None (and the metrics it could have marked
        unknown, with a diagnostic) when the handler cannot cost it."""
        cost = self.costed.get(key)
        if cost is None:
            cost = self.costed[key] = _cost(entry, NodeView(node, ins, outs, flags, values))
        if type(cost) is Diagnostic:
            op = node.op_type
            self.report.diagnostics.append(Diagnostic(cost.kind, f"{op} {name!r}: {cost.message}",
                                                      name, op))
            tally.unknown |= entry.metrics
            return None
        tally.add(cost)  # type: ignore[arg-type]
        return cost  # type: ignore[return-value]

    def _bodies(self, node: onnx.NodeProto, name: str, inferred: dict[str, Inference],
                outer: Inference | None, tally: Tally, layer: str | None,
                inside: str | None = None) -> None:
        """Add a control-flow node's bodies to ``tally``, as often as they run (control.py
        decides: the costlier branch of an If on data, a Loop's trip count, a Scan's length);
        ``inside``: the name of the node whose body this one is in."""
        costs = {attr: self._body(body, inferred.get(attr), name, layer)
                 for attr, body in control.subgraphs(node)}
        where = f"inside {inside!r}: " if inside else ""
        if node.op_type == "If" and costs:
            attr = control.costlier({a: t.key for a, t in costs.items()})
            tally.merge(costs[attr])
            others = "" if inside else " (" + "; ".join(
                f"{a}: {t.macs:,} MACs" for a, t in sorted(costs.items(), reverse=True)) + ")"
            self.report.control_flow.append(ControlFlow(
                name, "If", layer, attr, f"{where}its condition depends on the data: the "
                f"costlier branch ({attr}) is counted{others}", approximation=True))
            return
        values = outer.values if outer is not None else {}
        shapes = outer.shapes if outer is not None else self.shapes
        runs = control.runs(node, values, shapes)
        for t in costs.values():
            tally.merge(t, runs.times)
        if inside and runs.approximation is None:
            return  # an exact count inside a body is said by the body's own node
        looped = node.op_type in ("Loop", "Scan") and node.domain == ""
        self.report.control_flow.append(ControlFlow(
            name, node.op_type, layer, f"body x {runs.times:,}" if looped else "bodies once",
            f"{where}{runs.approximation or f'{runs.times:,} iterations'}",
            approximation=runs.approximation is not None))

    def _body(self, body: onnx.GraphProto, inferred: Inference | None, owner: str,
              layer: str | None) -> Tally:
        """One pass through a body: its nodes costed with the shapes its own inference found,
        nested bodies as often as they run (their records in ``layer``, the row that holds the
        outermost node)."""
        tally = Tally()
        shapes = inferred.shapes if inferred is not None else {}
        nodes = inferred.model.graph.node if inferred is not None else body.node
        for inner in nodes:
            name = inner.name or inner.op_type
            if control.has_body(inner):
                sub = _bodies(inferred, inner)
                self._bodies(inner, name, sub, inferred, tally, layer, inside=owner)
                continue
            entry = lookup(inner.domain, inner.op_type)
            if entry is None or entry.cost is None:
                self.report.unsupported.setdefault((inner.domain or "ai.onnx", inner.op_type),
                                                   []).append(name)
                tally.unknown.update(METRICS)
                continue
            if entry.cost is zero_cost:
                continue
            ins = tuple(shapes.get(t) if t else None for t in inner.input)
            outs = tuple(shapes.get(t) if t else None for t in inner.output)
            key = (inner.op_type, inner.domain,
                   tuple(a.SerializeToString() for a in inner.attribute), ins, outs, ())
            self.cost(entry, inner, key, ins, outs, (), name, tally)
        return tally


def _cost(entry: Op, view: NodeView) -> Cost | Diagnostic:
    """A handler's cost, or the diagnostic (without the node's name) for why there is none."""
    try:
        return entry.cost(view)  # type: ignore[misc]
    except UnknownShape as exc:
        return Diagnostic("unknown-shape", f"{exc}; its cost is unknown")
    except Uncountable as exc:
        return Diagnostic("uncountable", f"{exc}; its cost is unknown")
    except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError) as exc:
        # Attributes that contradict the shapes (a malformed or hand-edited model).
        return Diagnostic("invalid-node", f"attributes do not fit its inputs "
                          f"({type(exc).__name__}: {exc}); its cost is unknown")


def _gradient_operands(entry: Op, ins: tuple[str, ...], params: list[bool],
                       needs_grad: set[str]) -> int:
    """How many factors of a product need a gradient, each costing as many MACs as the forward
    product: its parameters always; an activation only when it depends on a parameter (no
    input-gradient for the model's input). The factors are the op's (``Op.factors``; none
    listed: every operand, as an Einsum's)."""
    slots = entry.factors or range(len(ins))
    return sum(1 for j in slots if j < len(ins)
               and ((j < len(params) and params[j]) or ins[j] in needs_grad))


# ---------------------------------------------------------------------------------------------
# The records


def _summary(loaded: LoadedModel, g: graphmod.Graph, groups: tuple[LayerGroup, ...],
             layer_of: dict[int, int], report: Report, params: ParamStep, costs: CostStep,
             fields: FieldWalk, memory: MemoryWalk, edges: EdgeStep) -> Summary:
    """The records of a finished walk."""
    shapes = loaded.shapes
    _diagnose(loaded, g, sorted(layer_of), report)
    handed_on, peak, unsized = memory.result()
    layers = _layers(g, groups, shapes, params, costs, fields, handed_on)
    names = {i: layers[li].name for i, li in layer_of.items()}
    control_flow = [_with_layer(c, loaded.inference, names, g) if c.layer is None else c
                    for c in report.control_flow]
    sizes = tuple(loaded.inference.all_sizes().values()) if loaded.inference else ()
    incomplete = _incomplete(report, control_flow) + _size_lines(sizes)
    if unsized and not any("shape" in line for line in incomplete):
        incomplete += (f"the sizes of {unsized} value{'s' if unsized != 1 else ''} (sequences, "
                       "or tensors of unknown type) are unknown: activation bytes are not "
                       "counted",)
    notes, diagnostics = loaded.notes, report.diagnostics
    if not incomplete:  # integers left unread (a missing data file) decided no figure
        notes += tuple(f"note: {d.message}; the count is complete without it"
                       for d in diagnostics if d.kind == "external-data")
        diagnostics = [d for d in diagnostics if d.kind != "external-data"]
    tensors = dict.fromkeys([*g.inputs, *sorted(g.initializers),
                             *(t for outs in g.rows.outputs for t in outs)])
    tensors.pop("", None)  # an absent optional output
    return Summary(
        model=os.path.basename(loaded.path),
        inputs=tuple(TensorInfo(t, shapes.get(t)) for t in g.inputs),
        outputs=tuple(TensorInfo(t, shapes.get(t)) for t in g.outputs),
        totals=_totals(layers, params, peak),
        layers=tuple(layers),
        tensors=dict(zip(tensors, map(shapes.get, tensors))),
        notes=notes,
        diagnostics=tuple(diagnostics),
        status="partial" if incomplete else "complete",
        incomplete=incomplete,
        control_flow=tuple(control_flow),
        edges=tuple(sorted(edges.edges)),
        folding=_folding(g, groups, shapes),
        sizes=sizes,
    )


# The operand that holds a layer's bias, by op (where a BatchNorm folded into it put its shift).
_BIAS_INPUT = {"Conv": 2, "ConvTranspose": 2, "Gemm": 2}


def _folding(g: graphmod.Graph, groups: tuple[LayerGroup, ...], shapes: dict[str, Shape]
             ) -> Folding | None:
    """What the exporter removed by folding BatchNorms: how many, their channels (the width of
    the layer each was folded into: a conv's output channels, a dense layer's features), and
    the bias values stored for those layers."""
    folds = [i for group in groups for i in group.folds]
    if not folds:
        return None
    channels: int | None = 0
    stored: dict[str, int | None] = {}
    for i in folds:
        op = g.rows.op_types[i]
        out = shapes.get(g.rows.outputs[i][0]) if g.rows.outputs[i] else None
        width = (out[1] if op.startswith("Conv") else out[-1]) if out else None
        channels = channels + width if isinstance(width, int) and channels is not None else None
        k = _BIAS_INPUT.get(op)
        if k is None:
            stored[f"?{i}"] = None  # a layer whose bias operand this does not know
        elif k < len(g.rows.inputs[i]) and g.rows.inputs[i][k]:
            t = _stored_tensor(g, g.rows.inputs[i][k])
            stored[t or f"?{i}"] = numel(shapes.get(t)) if t else None
    biases = None if None in stored.values() else sum(stored.values())  # type: ignore[arg-type]
    return Folding(len(folds), channels, biases)


def _stored_tensor(g: graphmod.Graph, t: str) -> str | None:
    """The initializer a constant operand is, through the constant nodes that pass it on (an
    Identity sharing one bias among convolutions), else None."""
    for _ in range(8):
        if t in g.initializers:
            return t
        p = g.producer.get(t)
        if p is None or p not in g.constant_nodes or not g.rows.inputs[p]:
            return None
        t = g.rows.inputs[p][0]
    return None


def _diagnose(loaded: LoadedModel, g: graphmod.Graph, live: list[int], report: Report) -> None:
    """The walk's diagnostics, completed: inference's first, then the ops with no rule once
    each, the outputs whose shapes are unknown; and the Ifs inference decided."""
    for (domain, op), names in sorted(report.unsupported.items()):
        where = ", ".join(repr(n) for n in names[:3]) + (", ..." if len(names) > 3 else "")
        report.diagnostics.append(Diagnostic(
            "unsupported-op",
            f"no rule for op {op} (domain {domain}), {len(names)} node(s): {where}; its cost "
            "is unknown", names[0], op))
    report.diagnostics += _output_shape_diagnostics(g, live, loaded)
    inference = loaded.inference
    if inference is not None:
        report.diagnostics[:0] = inference.diagnostics
        for d in inference.decisions:
            report.control_flow.insert(0, ControlFlow(
                d.node, "If", None, d.branch,
                f"its condition is known ({str(d.condition).lower()}): the branch that runs is "
                "counted as part of the graph"))


def _layers(g: graphmod.Graph, groups: tuple[LayerGroup, ...], shapes: dict[str, Shape],
            params: ParamStep, costs: CostStep, fields: FieldWalk,
            handed_on: list[int | None]) -> list[Layer]:
    """One record per layer, named uniquely (a repeated name gets ``#2``, ``#3``)."""
    axes = channel_axes(g, shapes)
    layers = []
    seen: dict[str, int] = {}
    for li, group in enumerate(groups):
        seen[group.name] = seen.get(group.name, 0) + 1
        name = group.name if seen[group.name] == 1 else f"{group.name}#{seen[group.name]}"
        out = _handed_on(g, group.own or group.nodes)
        trainable, non_trainable = params.params[li]
        tally = costs.tallies[li]
        layers.append(Layer(
            name=name,
            op_types=tuple(dict.fromkeys([g.rows.op_types[i] for i in group.nodes])),
            nodes=tuple([g.names[i] for i in group.nodes]),
            output_shape=shapes.get(out) if out else None,
            params=_plus(trainable, non_trainable),
            trainable_params=trainable,
            non_trainable_params=non_trainable,
            connections=tally.value("connections"),
            macs=tally.value("macs"),
            flops=tally.value("flops"),
            receptive_field=spatial_field(fields.fields.get(out), axes.get(out)) if out else None,
            backward_macs=tally.value("backward"),
            activation_bytes=handed_on[li],
            layout=layout_name(len(shapes.get(out) or ()), axes.get(out)) if out else None,
            kind=group.kind,
            folded=group.folded,
        ))
    return layers


def _handed_on(g: graphmod.Graph, nodes: tuple[int, ...]) -> str:
    """A layer's output: the first output of the last of ``nodes`` (its module call's) that
    hands it on (out of them, or out of the model); the last node's, where none does."""
    inside = set(nodes)
    outputs = set(g.outputs)
    for i in reversed(nodes):
        t = next((t for t in g.rows.outputs[i] if t), "")
        if t and (t in outputs or any(c not in inside for c in g.consumers.get(t, ()))):
            return t
    return next((t for t in g.rows.outputs[nodes[-1]] if t), "")


def _totals(layers: list[Layer], params: ParamStep, peak: int | None) -> Totals:
    macs, backward = _sum(layers, "macs"), _sum(layers, "backward_macs")
    return Totals(
        params=_sum(layers, "params"),
        trainable_params=_sum(layers, "trainable_params"),
        non_trainable_params=_sum(layers, "non_trainable_params"),
        connections=_sum(layers, "connections"),
        macs=macs,
        flops=_sum(layers, "flops"),
        backward_macs=backward,
        training_macs=_plus(macs, backward),
        activation_bytes=_sum(layers, "activation_bytes"),
        peak_activation_bytes=peak,
        param_bytes=_plus(*params.bytes),
        trainable_param_bytes=params.bytes[0],
        non_trainable_param_bytes=params.bytes[1],
    )


def _plus(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a + b


def _sum(layers: list[Layer], key: str) -> int | None:
    values = [getattr(layer, key) for layer in layers]
    return None if None in values else sum(values)


def _with_layer(c: ControlFlow, inference: Inference | None, layer_names: dict[int, str],
                g: graphmod.Graph) -> ControlFlow:
    """A decided If's record names the layer of the node that now writes its first output."""
    decision = next((d for d in (inference.decisions if inference else ())
                     if d.node == c.node and d.outputs), None)
    if decision is None:
        return c
    producer = g.producer.get(decision.outputs[0])
    layer = layer_names.get(producer) if producer is not None else None
    return ControlFlow(c.node, c.op_type, layer, c.counted, c.reason, c.approximation)


def _incomplete(report: Report, control_flow: list[ControlFlow]) -> tuple[str, ...]:
    """One line per reason the count is partial: what was not counted, or only approximately."""
    out: list[str] = []
    kinds: dict[str, list[Diagnostic]] = {}
    for d in report.diagnostics:
        kinds.setdefault(d.kind, []).append(d)
    for (domain, op), names in sorted(report.unsupported.items()):
        out.append(f"{len(names)} {op} node(s) (domain {domain}) have no rule: their cost is "
                   "unknown")
    if "unknown-shape" in kinds:
        n = len(kinds["unknown-shape"])
        out.append(f"{n} shape{'s' if n != 1 else ''} could not be determined: "
                   f"{kinds['unknown-shape'][0].message}" + (", ..." if n > 1 else ""))
    if "uncountable" in kinds:
        n = len(kinds["uncountable"])
        out.append(f"{n} node{'s' if n != 1 else ''} cannot be costed from the file: "
                   f"{kinds['uncountable'][0].message}")
    if "invalid-node" in kinds:
        n = len(kinds["invalid-node"])
        said = "1 node contradicts its inputs" if n == 1 else \
            f"{n:,} nodes contradict their inputs"
        out.append(f"{said}: {kinds['invalid-node'][0].message}")
    out += [f"{c.op_type} {c.node!r}: {c.reason}" for c in control_flow if c.approximation]
    out += [d.message for d in kinds.get("control-flow", [])]
    if out:  # integers a missing data file holds: the cause of what follows
        out[:0] = [d.message for d in kinds.get("external-data", [])]
    return tuple(out)


def _size_lines(sizes: tuple[SizeRecord, ...]) -> tuple[str, ...]:
    """What the data-dependent sizes leave partial: those counted at their caps (the figures
    are upper bounds) and those with no value at all."""
    capped = [s for s in sizes if s.source == "cap"]
    free = [s for s in sizes if s.source is None]
    out = []
    if capped:
        listed = ", ".join(f"{s.symbol} <= {s.cap:,} ({s.what})" for s in capped)
        out.append(f"{len(capped)} data-dependent size{'s' if len(capped) != 1 else ''} counted "
                   f"at {'their caps' if len(capped) != 1 else 'its cap'}, so the figures are "
                   f"upper bounds: {listed}")
    if free:
        listed = ", ".join(f"{s.symbol} ({s.op_type} {s.node!r}: {s.what})" for s in free)
        out.append(f"{len(free)} data-dependent size{'s' if len(free) != 1 else ''} with no "
                   f"bound: {listed}")
    return tuple(out)


def _output_shape_diagnostics(g: graphmod.Graph, live: list[int],
                              loaded: LoadedModel) -> list[Diagnostic]:
    """Outputs that something reads whose shape is unknown."""
    diagnostics: list[Diagnostic] = []
    graph_outputs, consumers, non_tensors = set(g.outputs), g.consumers, loaded.non_tensors
    if all_known([loaded.shapes.get(t) for i in live for t in g.rows.outputs[i] if t]):
        return diagnostics  # the common case, found without a loop in Python
    for i in live:
        for t in g.rows.outputs[i]:
            if not t or not (t in consumers or t in graph_outputs) or t in non_tensors:
                continue
            if numel(loaded.shapes.get(t)) is None:
                op, name = g.rows.op_types[i], g.names[i]
                diagnostics.append(Diagnostic(
                    "unknown-shape",
                    f"shape inference could not determine the shape of {t!r} "
                    f"({op} {name!r})", name, op))
    return diagnostics
