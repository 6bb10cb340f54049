"""Walk the layer graph, apply the op handlers, aggregate layers -> Summary.

The walk calls the rooms that know each part: ``params.py`` what a parameter is, ``ops/`` what
each node costs, ``bodies.py`` how often a body runs, ``receptive.py`` and ``memory.py`` the
per-tensor metrics. A figure that could not be computed is None (shown as ``?``), never a zero
that looks real, and the summary says why it is partial.
"""

from __future__ import annotations

import os
from math import prod
from typing import Any

import onnx

from . import bodies
from . import graph as graphmod
from .layers import group_layers
from .layout import channel_axes, layout_name
from .infer import Inference
from .load import LoadedModel, load
from .memory import MemoryWalk, tensor_bytes
from .ops import Cost, NodeView, OpSpec, UnknownShape, spec_for
from .ops.base import zero_cost
from .params import FLOAT_TYPES, INT_TYPES, NUMERIC_TYPES, param_leaves, param_slot
from .receptive import FieldWalk, spatial_field
from .shapes import Diagnostic, Shape, all_known, numel
from .summary import ControlFlow, Layer, Summary, TensorInfo, Totals

__all__ = ["ControlFlow", "Diagnostic", "FLOAT_TYPES", "INT_TYPES", "Layer", "NUMERIC_TYPES",
           "Summary", "TensorInfo", "Totals", "analyze", "count"]

METRICS = ("macs", "flops", "connections")


def analyze(
    path: str | os.PathLike[str],
    depth: int = 1,
    dims: dict[str, int] | None = None,
    input_shapes: dict[str, tuple[int, ...]] | None = None,
    input_values: dict[str, tuple[int | float, ...]] | None = None,
) -> Summary:
    """Read the ONNX model at ``path`` and count it, layer by layer.

    ``depth``: the module depth a layer is (1: ``layer1``, 2: ``layer1.0``). ``dims`` binds
    symbolic dims (``{"batch": 8}``), ``input_shapes`` gives inputs their whole shape
    (``{"x": (1, 3, 224, 224)}``) and ``input_values`` the value of a small input that is a
    setting (``{"sr": (16000,)}``), as ``--dim``, ``--input-shape`` and ``--input-value`` do.
    A leading symbolic dim left unbound is 1 (said in ``Summary.notes``).

    Raises :class:`~sphinx_cnncount.ModelError` for a file that cannot be counted (its message
    says what is wrong and what to do); ops with no rule are ``Summary.diagnostics`` and leave
    the figures they touch None.
    """
    return count(load(path, dims, input_shapes, input_values=input_values), depth)


class _Tally:
    """MACs, FLOPs and connections being summed, with the metrics some term left unknown."""

    __slots__ = ("macs", "flops", "connections", "backward", "unknown")

    def __init__(self) -> None:
        self.macs = self.flops = self.connections = self.backward = 0
        self.unknown: set[str] = set()

    def add(self, cost: Cost, times: int = 1, backward: int = 0) -> None:
        self.macs += cost.macs * times
        self.flops += cost.flops * times
        self.connections += cost.connections * times
        self.backward += backward * times

    def merge(self, other: _Tally, times: int = 1) -> None:
        self.add(Cost(other.macs, other.flops, other.connections), times, other.backward)
        self.unknown |= other.unknown

    def value(self, metric: str) -> int | None:
        if metric in self.unknown or (metric == "backward" and "macs" in self.unknown):
            return None
        return getattr(self, metric)

    @property
    def key(self) -> tuple[int, int]:
        return (self.macs, self.flops)


class _Walk:
    """The state of one count: handler results memoized, parameters owned, what was missed."""

    def __init__(self, g: graphmod.Graph, loaded: LoadedModel) -> None:
        self.g = g
        self.shapes, self.dtypes = loaded.shapes, loaded.dtypes
        # Handlers are pure functions of (op, attributes, shapes, parameter flags): a model
        # repeats the same few layers many times, so each distinct node is costed once.
        self.costed: dict[tuple[Any, ...], Cost | Diagnostic] = {}
        self.owner: set[str] = set()  # parameter tensors already counted
        self.diagnostics: list[Diagnostic] = []
        self.unsupported: dict[tuple[str, str], list[str]] = {}
        self.control_flow: list[ControlFlow] = []
        self.param_bytes: list[int | None] = [0, 0]  # trainable, non-trainable

    def add_bytes(self, k: int, n: int, dtype: int | None) -> None:
        """Bytes of ``n`` parameter elements of ``dtype`` (None: unknown, and so the total)."""
        size = tensor_bytes((n,), dtype)
        if size is None or self.param_bytes[k] is None:
            self.param_bytes[k] = None
        else:
            self.param_bytes[k] += size  # type: ignore[operator]

    def cost(self, spec: OpSpec, node: onnx.NodeProto, key: tuple[Any, ...],
             ins: tuple[Shape | None, ...], outs: tuple[Shape | None, ...],
             flags: tuple[bool, ...], name: str, tally: _Tally, backward: int | None = None
             ) -> Cost | None:
        """Add one node's cost to ``tally``; None (and the metrics it could have marked
        unknown, with a diagnostic) when the handler cannot cost it."""
        cost = self.costed.get(key)
        if cost is None:
            cost = self.costed[key] = _cost(spec, NodeView(node, ins, outs, flags))
        if type(cost) is Diagnostic:
            op = node.op_type
            self.diagnostics.append(Diagnostic(cost.kind, f"{op} {name!r}: {cost.message}",
                                               name, op))
            tally.unknown |= spec.metrics
            return None
        tally.add(cost)  # type: ignore[arg-type]
        return cost  # type: ignore[return-value]


def count(loaded: LoadedModel, depth: int = 1, g: graphmod.Graph | None = None) -> Summary:
    """Count a loaded model; pass ``g`` when the caller already built its graph."""
    if g is None:
        g = graphmod.build(loaded.path, loaded.model.graph, loaded.rows)
    groups = group_layers(g, depth, loaded.shapes, loaded.dtypes)
    layer_of = {i: li for li, group in enumerate(groups) for i in group.nodes}
    walk = _Walk(g, loaded)
    shapes, dtypes, shape_get = walk.shapes, walk.dtypes, walk.shapes.get
    tallies = [_Tally() for _ in groups]
    needs_grad: set[str] = set()  # activations that depend on a trainable parameter
    params: list[list[int | None]] = [[0, 0] for _ in groups]  # trainable, non-trainable
    inference = loaded.inference
    constants, producer, initializers = g.constants, g.producer, g.initializers
    live = sorted(layer_of)  # node order; nodes folded at export time cost nothing
    op_types, domains, inputs_of, outputs_of = g.rows.op_types, g.rows.domains, g.rows.inputs, \
        g.rows.outputs
    subgraph_ops = graphmod.SUBGRAPH_OPS
    producer_get, layer_get = producer.get, layer_of.get
    layer_edges: set[tuple[int, int]] = set()
    # The receptive fields and the activation memory are worked out in this same walk, each by
    # its own module's step.
    field_walk = FieldWalk(g, shapes)
    visit_field = field_walk.visit if field_walk.active else None
    memory_walk = MemoryWalk(g, layer_of, len(groups), shapes, dtypes)
    visit_memory = memory_walk.visit

    for i in live:  # the hot loop of a large model: what it reads is bound to locals above
        li = layer_of[i]
        op, domain, ins, outs = op_types[i], domains[i], inputs_of[i], outputs_of[i]
        if visit_field is not None:
            visit_field(i, op)
        visit_memory(i, li)
        spec = spec_for(domain, op)
        # A control-flow body reads outer tensors without listing them as inputs: they are
        # operands too (slots past the node's own, so only the default rule applies to them).
        control_flow = (op in subgraph_ops or domain not in ("", "ai.onnx")) \
            and graphmod.has_subgraph(g.nodes[i])
        operands = ins
        if control_flow:
            operands += tuple(t for t in graphmod._node_inputs(g.nodes[i]) if t not in ins)
        for t in operands:  # the layer edges: where another layer's node feeds this one
            p = producer_get(t)
            if p is not None and (lp := layer_get(p, li)) != li:
                layer_edges.add((lp, li))
        flags = [False] * len(ins)  # per input slot: does it read a parameter?
        for slot, t in enumerate(operands) if not constants.isdisjoint(operands) else ():
            trainable = param_slot(spec, slot, t, shapes, dtypes) if t in constants else None
            if trainable is None:
                continue
            # A stored tensor is its own leaf; a computed constant is made of its leaves (none,
            # for a run-time constant: a zero state, a Range grid).
            leaves = param_leaves(g, t, dtypes) if t in producer else (t,)
            if slot < len(ins) and leaves:
                flags[slot] = True
            for root in leaves:
                if root in walk.owner:
                    continue
                n = prod(shape_get(root)) if root in initializers else numel(shape_get(root))
                if root != t and (n or 0) <= 1 and dtypes.get(root) in FLOAT_TYPES:
                    continue  # a scalar folded into the weight (an epsilon, a scale)
                walk.owner.add(root)
                if n is None:
                    walk.diagnostics.append(Diagnostic(
                        "unknown-shape", f"parameter {root!r} has no known shape; its "
                        "layer's parameters are unknown", g.names[i], op))
                    params[li][0 if trainable else 1] = None
                    continue
                k = 0 if trainable else 1
                if params[li][k] is not None:
                    params[li][k] += n  # type: ignore[operator]
                walk.add_bytes(k, n, dtypes.get(root))
        if control_flow:
            node_bodies = inference.bodies.get(outs[0], {}) if inference and outs else {}
            n_body = _body_params(g.nodes[i], g.names[i], walk, node_bodies, g)
            if params[li][0] is not None:
                params[li][0] += n_body  # type: ignore[operator]
            if spec is None:
                _count_bodies(walk, i, inference, tallies[li], groups[li].name)
                continue
        if spec is None:
            walk.unsupported.setdefault((domain or "ai.onnx", op), []).append(g.names[i])
            tallies[li].unknown.update(METRICS)
            continue
        if spec.attr_params and params[li][0] is not None:
            n_attr = sum(len(a.floats) for a in g.nodes[i].attribute
                         if a.name in spec.attr_params)
            params[li][0] += n_attr  # type: ignore[operator]
            walk.add_bytes(0, n_attr, onnx.TensorProto.FLOAT)
        if any(flags) or not needs_grad.isdisjoint(ins):
            needs_grad.update(outs)
            needs_grad.discard("")
        if spec.cost is zero_cost:
            continue
        node = g.nodes[i]
        in_shapes, out_shapes = tuple(map(shape_get, ins)), tuple(map(shape_get, outs))
        key = (op, domain, g.rows.attr_keys[i], in_shapes, out_shapes, tuple(flags))
        tally = tallies[li]
        cost = walk.cost(spec, node, key, in_shapes, out_shapes, tuple(flags), g.names[i], tally)
        if cost is not None and cost.macs:
            tally.backward += cost.macs * _gradient_operands(op, ins, flags, needs_grad)
    for (domain, op), names in sorted(walk.unsupported.items()):
        where = ", ".join(repr(n) for n in names[:3]) + (", ..." if len(names) > 3 else "")
        walk.diagnostics.append(Diagnostic(
            "unsupported-op",
            f"no rule for op {op} (domain {domain}), {len(names)} node(s): {where}; its cost "
            "is unknown", names[0], op))
    walk.diagnostics += _output_shape_diagnostics(g, live, loaded)
    if inference is not None:
        walk.diagnostics[:0] = inference.diagnostics
        for d in inference.decisions:
            walk.control_flow.insert(0, ControlFlow(
                d.node, "If", None, d.branch,
                f"its condition is known ({str(d.condition).lower()}): the branch that runs is "
                "counted as part of the graph"))

    fields_ = field_walk.fields
    axes = channel_axes(g, shapes)
    handed_on, peak, unsized = memory_walk.result()
    layers = []
    seen: dict[str, int] = {}
    for li, group in enumerate(groups):
        name = group.name
        if name in seen:
            seen[name] += 1
            name = f"{name}#{seen[name]}"
        else:
            seen[name] = 1
        out = next((t for t in g.rows.outputs[group.nodes[-1]] if t), "")
        types = tuple(dict.fromkeys([g.rows.op_types[i] for i in group.nodes]))
        trainable, non_trainable = params[li]
        tally = tallies[li]
        layers.append(Layer(
            name=name,
            op_types=types,
            nodes=tuple([g.names[i] for i in group.nodes]),
            output_shape=shapes.get(out) if out else None,
            params=_plus(trainable, non_trainable),
            trainable_params=trainable,
            non_trainable_params=non_trainable,
            connections=tally.value("connections"),
            macs=tally.value("macs"),
            flops=tally.value("flops"),
            receptive_field=spatial_field(fields_.get(out), axes.get(out)) if out else None,
            backward_macs=tally.value("backward"),
            activation_bytes=handed_on[li],
            layout=layout_name(len(shapes.get(out) or ()), axes.get(out)) if out else None,
            kind=group.kind,
            folded=group.folded,
        ))
    layer_names = {i: layers[li].name for i, li in layer_of.items()}
    walk.control_flow = [_with_layer(c, inference, layer_names, g) if c.layer is None else c
                         for c in walk.control_flow]
    macs, backward = _sum(layers, "macs"), _sum(layers, "backward_macs")
    totals = Totals(
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
        param_bytes=_plus(*walk.param_bytes),
        trainable_param_bytes=walk.param_bytes[0],
        non_trainable_param_bytes=walk.param_bytes[1],
    )
    tensor_names = dict.fromkeys([*g.inputs, *sorted(g.initializers),
                                  *(t for outs in g.rows.outputs for t in outs)])
    tensor_names.pop("", None)  # an absent optional output
    incomplete = _incomplete(walk, layers, loaded)
    if unsized and not any("shape" in line for line in incomplete):
        incomplete += (f"the sizes of {unsized} value{'s' if unsized != 1 else ''} (sequences, "
                       "or tensors of unknown type) are unknown: activation bytes are not "
                       "counted",)
    return Summary(
        model=os.path.basename(loaded.path),
        inputs=tuple(TensorInfo(t, shapes.get(t)) for t in g.inputs),
        outputs=tuple(TensorInfo(t, shapes.get(t)) for t in g.outputs),
        totals=totals,
        layers=tuple(layers),
        tensors=dict(zip(tensor_names, map(shapes.get, tensor_names))),
        notes=loaded.notes,
        diagnostics=tuple(walk.diagnostics),
        status="partial" if incomplete else "complete",
        incomplete=incomplete,
        control_flow=tuple(walk.control_flow),
        edges=tuple(sorted(layer_edges)),
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


def _incomplete(walk: _Walk, layers: list[Layer], loaded: LoadedModel) -> tuple[str, ...]:
    """One line per reason the count is partial: what was not counted, or only approximately."""
    out: list[str] = []
    kinds: dict[str, list[Diagnostic]] = {}
    for d in walk.diagnostics:
        kinds.setdefault(d.kind, []).append(d)
    out += [d.message for d in kinds.get("external-data", [])]  # the cause of what follows
    for (domain, op), names in sorted(walk.unsupported.items()):
        out.append(f"{len(names)} {op} node(s) (domain {domain}) have no rule: their cost is "
                   "unknown")
    if "unknown-shape" in kinds:
        n = len(kinds["unknown-shape"])
        out.append(f"{n} shape{'s' if n != 1 else ''} could not be determined: "
                   f"{kinds['unknown-shape'][0].message}" + (", ..." if n > 1 else ""))
    if "invalid-node" in kinds:
        n = len(kinds["invalid-node"])
        out.append(f"{n} node{'s' if n != 1 else ''} contradict their inputs: "
                   f"{kinds['invalid-node'][0].message}")
    out += [f"{c.op_type} {c.node!r}: {c.reason}" for c in walk.control_flow if c.approximation]
    out += [d.message for d in kinds.get("control-flow", [])]
    return tuple(out)


def _cost(spec: OpSpec, view: NodeView) -> Cost | Diagnostic:
    """A handler's cost, or the diagnostic (without the node's name) for why there is none."""
    try:
        return spec.cost(view)
    except UnknownShape as exc:
        return Diagnostic("unknown-shape", f"{exc}; its cost is unknown")
    except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError) as exc:
        # Attributes that contradict the shapes (a malformed or hand-edited model).
        return Diagnostic("invalid-node", f"attributes do not fit its inputs "
                          f"({type(exc).__name__}: {exc}); its cost is unknown")


def _output_shape_diagnostics(g: graphmod.Graph, live: list[int],
                              loaded: LoadedModel) -> list[Diagnostic]:
    """Outputs that something reads whose shape is unknown."""
    diagnostics = []
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


# The operand slots whose gradient a linear op's backward pass computes (each costs as many MACs
# as the forward product): the data and the weight of Conv, Gemm and MatMul; every operand of
# Einsum; for recurrent ops, the input and the weights, approximated as two.


def _gradient_operands(op: str, ins: tuple[str, ...], params: list[bool],
                       needs_grad: set[str]) -> int:
    """How many operands of a linear op need a gradient: its parameters always; an activation
    only when it depends on a parameter (no input-gradient for the model's input)."""
    if op in ("LSTM", "GRU", "RNN", "DynamicQuantizeLSTM"):
        return 1 + (ins[0] in needs_grad)
    if op == "Einsum":
        slots: range | tuple[int, ...] = range(len(ins))
    else:  # the two factors of the product: data and weight
        slots = _FACTORS.get(op, (0, 1))
    return sum(1 for j in slots if j < len(ins)
               and ((j < len(params) and params[j]) or ins[j] in needs_grad))


# Input slots of the two factors of a product, where they are not the first two inputs.
_FACTORS = {"QLinearConv": (0, 3), "QLinearMatMul": (0, 3), "QGemm": (0, 3)}


# ---------------------------------------------------------------------------------------------
# Bodies: their parameters once, their cost as often as they run


def _body_params(node: onnx.NodeProto, name: str, walk: _Walk,
                 inferred: dict[str, Inference], outer: graphmod.Graph,
                 enclosing: dict[str, tuple[tuple[int, ...], int, str]] | None = None) -> int:
    """The parameters a node's bodies read, at any depth, each counted once: what the same rule
    as the main graph's finds (``params.param_slot``) when it reads a tensor stored in the body
    or an enclosing one (an initializer, a Constant node) or a stored tensor of the outer graph
    it captures. A body is read as its inference left it: a decided If inside it is its branch.
    ``enclosing``: the stored tensors of the bodies around this one (dims, type, key)."""
    total = 0
    for attr, raw in bodies.subgraphs(node):
        inference = inferred.get(attr)
        body = inference.model.graph if inference is not None else raw
        stored = dict(enclosing or {})
        stored.update((t.name, (tuple(t.dims), t.data_type, f"{name}/{attr}/{t.name}"))
                      for t in raw.initializer)
        stored.update((t.name, (tuple(t.dims), t.data_type, f"{name}/{attr}/{t.name}"))
                      for t in body.initializer)
        stored.update((n.output[0], (tuple(a.t.dims), a.t.data_type, f"{name}/{attr}/{n.output[0]}"))
                      for n in body.node
                      if n.op_type == "Constant" and n.output for a in n.attribute
                      if a.name == "value" and a.type == onnx.AttributeProto.TENSOR)
        for inner in body.node:
            spec = spec_for(inner.domain, inner.op_type)
            for slot, t in enumerate(inner.input):
                if t in stored:
                    dims, dtype, key = stored[t]
                elif t in outer.initializers:
                    dims, dtype = walk.shapes.get(t), walk.dtypes.get(t)
                    key = t
                else:
                    continue
                if key in walk.owner or dims is None:
                    continue
                local = {t: dims}
                trainable = param_slot(spec, slot, t, local, {t: dtype})
                if trainable is None or (numel(dims) or 0) < 1:
                    continue
                walk.owner.add(key)
                total += numel(dims)  # type: ignore[operator]
                walk.add_bytes(0, numel(dims), dtype)  # type: ignore[arg-type]
            if bodies.has_body(inner):
                sub = inference.bodies.get(inner.output[0], {}) if inference and inner.output \
                    else {}
                total += _body_params(inner, f"{name}/{attr}/{inner.name or inner.op_type}",
                                      walk, sub, outer, stored)
    return total


def _count_bodies(walk: _Walk, i: int, inference: Inference | None, tally: _Tally,
                  layer: str) -> None:
    """Add a control-flow node's bodies to its layer's tally, as often as they run."""
    g = walk.g
    node, name = g.nodes[i], g.names[i]
    inferred = inference.bodies.get(node.output[0], {}) if inference and node.output else {}
    values = inference.values if inference else {}
    costs = {attr: _body_tally(walk, body, inferred.get(attr), name)
             for attr, body in bodies.subgraphs(node)}
    op = node.op_type
    if op == "If" and costs:
        attr, chosen = max(costs.items(), key=lambda kv: kv[1].key)
        others = "; ".join(f"{a}: {t.macs:,} MACs" for a, t in sorted(costs.items(), reverse=True))
        tally.merge(chosen)
        walk.control_flow.append(ControlFlow(
            name, op, layer, attr, f"its condition depends on the data: the costlier branch "
            f"({attr}) is counted ({others})", approximation=True))
        return
    if op == "Loop":
        runs = bodies.loop_runs(node, values)
    elif op == "Scan":
        runs = bodies.scan_runs(node, walk.shapes)
    else:
        runs = bodies.Runs(1, f"a {op} of domain {node.domain or 'ai.onnx'}: its bodies are "
                              "counted once")
    for t in costs.values():
        tally.merge(t, runs.times)
    counted = f"body x {runs.times:,}" if op in ("Loop", "Scan") else "bodies once"
    walk.control_flow.append(ControlFlow(
        name, op, layer, counted, runs.approximation or f"{runs.times:,} iterations",
        approximation=runs.approximation is not None))


def _body_tally(walk: _Walk, body: onnx.GraphProto, inferred: Inference | None,
                owner_name: str) -> _Tally:
    """One pass through a body: its nodes costed with the shapes its own inference found,
    nested bodies as often as they run."""
    tally = _Tally()
    shapes = inferred.shapes if inferred is not None else {}
    nodes = inferred.model.graph.node if inferred is not None else body.node
    for inner in nodes:
        spec = spec_for(inner.domain, inner.op_type)
        name = inner.name or inner.op_type
        if bodies.has_body(inner):
            sub_inference = inferred.bodies.get(inner.output[0], {}) if inferred and inner.output \
                else {}
            sub = {attr: _body_tally(walk, b, sub_inference.get(attr), name)
                   for attr, b in bodies.subgraphs(inner)}
            if inner.op_type == "If" and sub:
                attr, chosen = max(sub.items(), key=lambda kv: kv[1].key)
                tally.merge(chosen)
                walk.control_flow.append(ControlFlow(
                    name, "If", None, attr, f"inside {owner_name!r}: its condition depends on "
                    f"the data: the costlier branch ({attr}) is counted", approximation=True))
                continue
            runs = bodies.loop_runs(inner, inferred.values if inferred else {}) \
                if inner.op_type == "Loop" else bodies.scan_runs(inner, shapes) \
                if inner.op_type == "Scan" else bodies.Runs(1)
            for t in sub.values():
                tally.merge(t, runs.times)
            if runs.approximation:
                walk.control_flow.append(ControlFlow(
                    name, inner.op_type, None, f"body x {runs.times:,}",
                    f"inside {owner_name!r}: {runs.approximation}", approximation=True))
            continue
        if spec is None:
            walk.unsupported.setdefault((inner.domain or "ai.onnx", inner.op_type),
                                        []).append(name)
            tally.unknown.update(METRICS)
            continue
        if spec.cost is zero_cost:
            continue
        ins = tuple(shapes.get(t) if t else None for t in inner.input)
        outs = tuple(shapes.get(t) if t else None for t in inner.output)
        key = (inner.op_type, inner.domain, tuple(a.SerializeToString() for a in inner.attribute),
               ins, outs, ())
        walk.cost(spec, inner, key, ins, outs, (), name, tally)
    return tally
