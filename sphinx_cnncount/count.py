"""Walk the layer graph, apply the op handlers, aggregate layers -> Summary."""

from __future__ import annotations

import os
from math import prod
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import onnx

from . import graph as graphmod
from .load import LoadedModel, load
from .shapes import Shape, all_known, numel, shape_of
from .memory import activation_memory
from .ops import Cost, NodeView, OpSpec, UnknownShape, spec_for
from .ops.base import zero_cost
from .receptive import receptive_fields, spatial_field

FLOAT_TYPES = frozenset({
    onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE,
    onnx.TensorProto.BFLOAT16, *(getattr(onnx.TensorProto, n) for n in (
        "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "FLOAT4E2M1")
        if hasattr(onnx.TensorProto, n)),
})

# The integer element types a quantized weight (or its int32 bias) is stored in.
INT_TYPES = frozenset({
    onnx.TensorProto.INT8, onnx.TensorProto.UINT8, onnx.TensorProto.INT16,
    onnx.TensorProto.UINT16, onnx.TensorProto.INT32, onnx.TensorProto.UINT32,
    onnx.TensorProto.INT64, onnx.TensorProto.UINT64,
    *(getattr(onnx.TensorProto, n) for n in ("INT4", "UINT4", "INT2", "UINT2")
      if hasattr(onnx.TensorProto, n)),
})
NUMERIC_TYPES = FLOAT_TYPES | INT_TYPES


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: Shape | None


@dataclass(frozen=True)
class Totals:
    params: int
    trainable_params: int
    non_trainable_params: int
    connections: int
    macs: int
    flops: int
    backward_macs: int = 0
    training_macs: int = 0  # forward + backward
    activation_bytes: int = 0  # every layer's outputs, summed
    peak_activation_bytes: int = 0  # the most that is live at once in a topological schedule


@dataclass(frozen=True)
class Layer:
    """One row of the summary: the nodes of a module scope (or one node outside any)."""

    name: str
    op_types: tuple[str, ...]  # distinct, in order of first appearance
    nodes: tuple[str, ...]
    output_shape: Shape | None
    params: int
    trainable_params: int
    non_trainable_params: int
    connections: int
    macs: int
    flops: int
    receptive_field: dict[str, list[int]] | None = None  # {"size": [h, w], "stride": [h, w]}
    backward_macs: int = 0  # gradient w.r.t. the input (when needed) and the weights
    activation_bytes: int = 0  # bytes of the tensors the layer hands on


@dataclass(frozen=True)
class Diagnostic:
    """Something the counter could not do fully; the rest of the model is still counted."""

    kind: str  # "unsupported-op" | "unknown-shape" | "invalid-node" | "empty-output" | "subgraph"
    message: str
    node: str = ""
    op_type: str = ""


@dataclass(frozen=True)
class Summary:
    model: str
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    totals: Totals
    layers: tuple[Layer, ...]
    tensors: dict[str, Shape | None] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()

    def layer(self, name: str) -> Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    def to_json(self, *, tensor_lists: bool = True) -> dict[str, Any]:
        """The stable machine interface (documented in README.md). ``tensor_lists=False``
        leaves the tensor shapes as tuples (the JSON renderer formats them itself)."""
        def shape(s: Shape | None) -> list[Any] | None:
            return None if s is None else list(s)

        totals = self.totals
        return {
            "model": self.model,
            "inputs": [{"name": t.name, "shape": shape(t.shape)} for t in self.inputs],
            "outputs": [{"name": t.name, "shape": shape(t.shape)} for t in self.outputs],
            "totals": {f.name: getattr(totals, f.name) for f in fields(totals)},
            "layers": [
                {**{f.name: getattr(layer, f.name) for f in fields(layer)},
                 "op_types": list(layer.op_types), "nodes": list(layer.nodes),
                 "output_shape": shape(layer.output_shape)}
                for layer in self.layers
            ],
            "tensors": {name: None if s is None else list(s) for name, s in self.tensors.items()}
            if tensor_lists else self.tensors,
            "diagnostics": [asdict(d) for d in self.diagnostics],
        }


def analyze(
    path: str | os.PathLike[str],
    depth: int = 1,
    dims: dict[str, int] | None = None,
    input_shapes: dict[str, tuple[int, ...]] | None = None,
) -> Summary:
    """Load ``path`` and count it: the one call the CLI, the linter and Sphinx make."""
    return count(load(path, dims, input_shapes), depth)


def count(loaded: LoadedModel, depth: int = 1, g: graphmod.Graph | None = None) -> Summary:
    """Count a loaded model; pass ``g`` when the caller already built its graph."""
    if g is None:
        g = graphmod.build(loaded.path, loaded.model.graph, loaded.rows)
    groups = graphmod.group_layers(g, depth)
    layer_of = {i: li for li, group in enumerate(groups) for i in group.nodes}
    shapes, dtypes = loaded.shapes, loaded.dtypes
    diagnostics: list[Diagnostic] = []
    macs, flops, connections = [0] * len(groups), [0] * len(groups), [0] * len(groups)
    backward = [0] * len(groups)
    needs_grad: set[str] = set()  # activations that depend on a trainable parameter
    params = [[0, 0] for _ in groups]  # per layer: trainable, non-trainable
    owner: set[str] = set()
    unsupported: dict[tuple[str, str], list[str]] = {}
    # Handlers are pure functions of (op, attributes, shapes, parameter flags): a model repeats
    # the same few layers many times, so each distinct node is costed once.
    costed: dict[tuple[Any, ...], Cost | Diagnostic] = {}
    constants, producer, initializers, shape_get = g.constants, g.producer, g.initializers, shapes.get
    live = sorted(layer_of)  # node order; nodes folded at export time cost nothing
    op_types, domains, inputs_of, outputs_of = g.rows.op_types, g.rows.domains, g.rows.inputs, \
        g.rows.outputs
    subgraph_ops = graphmod.SUBGRAPH_OPS

    for i in live:  # the hot loop of a large model: what it reads is bound to locals above
        li = layer_of[i]
        op, domain, ins, outs = op_types[i], domains[i], inputs_of[i], outputs_of[i]
        spec = spec_for(domain, op)
        # A control-flow body reads outer tensors without listing them as inputs: they are
        # operands too (slots past the node's own, so only the default rule applies to them).
        control_flow = (op in subgraph_ops or domain not in ("", "ai.onnx")) \
            and graphmod.has_subgraph(g.nodes[i])
        operands = ins
        if control_flow:
            operands += tuple(t for t in graphmod._node_inputs(g.nodes[i]) if t not in ins)
        flags = [False] * len(ins)  # per input slot: does it read a parameter?
        for slot, t in enumerate(operands) if not constants.isdisjoint(operands) else ():
            trainable = _param_slot(spec, slot, t, shapes, dtypes) if t in constants else None
            if trainable is None:
                continue
            if slot < len(ins):
                flags[slot] = True
            # A stored tensor is its own leaf; a computed constant is made of its leaves.
            for root in _param_leaves(g, t, dtypes) if t in producer else (t,):
                if root in owner:
                    continue
                n = prod(shape_get(root)) if root in initializers else numel(shape_get(root))
                if root != t and (n or 0) <= 1:
                    continue  # a scalar folded into the weight (an epsilon, a scale)
                owner.add(root)
                if n is None:
                    diagnostics.append(Diagnostic(
                        "unknown-shape", f"parameter {root!r} has no known shape; "
                        "counted as zero", g.names[i], op))
                    continue
                params[li][0 if trainable else 1] += n
        if control_flow:  # weights stored inside the bodies
            for attr in g.nodes[i].attribute:
                for body in graphmod._subgraphs(attr):
                    for t in body.initializer:
                        key = f"{g.names[i]}/{body.name}/{t.name}"
                        n = numel(tuple(t.dims))
                        if t.data_type in FLOAT_TYPES and n is not None and n > 1 \
                                and key not in owner:
                            owner.add(key)
                            params[li][0] += n
        if spec is None:
            if control_flow:
                sub = _count_subgraphs(g.nodes[i], shapes)
                macs[li] += sub.macs
                flops[li] += sub.flops
                connections[li] += sub.connections
                diagnostics.append(Diagnostic(
                    "subgraph", f"{op} {g.names[i]!r}: its body is counted once",
                    g.names[i], op))
            else:
                unsupported.setdefault((domain or "ai.onnx", op), []).append(g.names[i])
            continue
        if any(flags) or not needs_grad.isdisjoint(ins):
            needs_grad.update(outs)
            needs_grad.discard("")
        if spec.cost is zero_cost:
            continue
        node = g.nodes[i]
        key = (op, domain, g.rows.attr_keys[i],
               tuple(map(shape_get, ins)), tuple(map(shape_get, outs)), tuple(flags))
        cost = costed.get(key)
        if cost is None:
            cost = costed[key] = _cost(spec, NodeView(node, key[3], key[4], key[5]))
        if type(cost) is Diagnostic:
            diagnostics.append(Diagnostic(
                cost.kind, f"{op} {g.names[i]!r}: {cost.message}", g.names[i], op))
            continue
        if cost.macs:
            macs[li] += cost.macs
            backward[li] += cost.macs * _gradient_operands(op, ins, flags, needs_grad)
        flops[li] += cost.flops
        connections[li] += cost.connections
    for (domain, op), names in sorted(unsupported.items()):
        where = ", ".join(repr(n) for n in names[:3]) + (", ..." if len(names) > 3 else "")
        diagnostics.append(Diagnostic(
            "unsupported-op",
            f"no rule for op {op} (domain {domain}), {len(names)} node(s): {where}; "
            "counted as zero",
            names[0], op))
    diagnostics += _output_shape_diagnostics(g, live, loaded)

    fields = receptive_fields(g, shapes)
    handed_on, peak = activation_memory(g, layer_of, len(groups), shapes, dtypes)
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
        op_types = tuple(dict.fromkeys([g.rows.op_types[i] for i in group.nodes]))
        trainable, non_trainable = params[li]
        layers.append(Layer(
            name=name,
            op_types=op_types,
            nodes=tuple([g.names[i] for i in group.nodes]),
            output_shape=shapes.get(out) if out else None,
            params=trainable + non_trainable,
            trainable_params=trainable,
            non_trainable_params=non_trainable,
            connections=connections[li],
            macs=macs[li],
            flops=flops[li],
            receptive_field=spatial_field(fields.get(out)) if out else None,
            backward_macs=backward[li],
            activation_bytes=handed_on[li],
        ))
    totals = Totals(
        params=sum(layer.params for layer in layers),
        trainable_params=sum(layer.trainable_params for layer in layers),
        non_trainable_params=sum(layer.non_trainable_params for layer in layers),
        connections=sum(layer.connections for layer in layers),
        macs=sum(layer.macs for layer in layers),
        flops=sum(layer.flops for layer in layers),
        backward_macs=sum(backward),
        training_macs=sum(layer.macs for layer in layers) + sum(backward),
        activation_bytes=sum(handed_on),
        peak_activation_bytes=peak,
    )
    tensor_names = dict.fromkeys([*g.inputs, *sorted(g.initializers),
                                  *(t for outs in g.rows.outputs for t in outs)])
    tensor_names.pop("", None)  # an absent optional output
    return Summary(
        model=os.path.basename(loaded.path),
        inputs=tuple(TensorInfo(t, shapes.get(t)) for t in g.inputs),
        outputs=tuple(TensorInfo(t, shapes.get(t)) for t in g.outputs),
        totals=totals,
        layers=tuple(layers),
        tensors=dict(zip(tensor_names, map(shapes.get, tensor_names))),
        notes=loaded.notes,
        diagnostics=tuple(diagnostics),
    )


def _cost(spec: OpSpec, view: NodeView) -> Cost | Diagnostic:
    """A handler's cost, or the diagnostic (without the node's name) for why there is none."""
    try:
        return spec.cost(view)
    except UnknownShape as exc:
        return Diagnostic("unknown-shape", f"{exc}; counted as zero")
    except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError) as exc:
        # Attributes that contradict the shapes (a malformed or hand-edited model).
        return Diagnostic("invalid-node", f"attributes do not fit its inputs "
                          f"({type(exc).__name__}: {exc}); counted as zero")


def _output_shape_diagnostics(g: graphmod.Graph, live: list[int],
                              loaded: LoadedModel) -> list[Diagnostic]:
    """Outputs that something reads whose shape is unknown, or has a side below 1."""
    diagnostics = []
    graph_outputs, consumers, non_tensors = set(g.outputs), g.consumers, loaded.non_tensors
    if _all_known_positive([loaded.shapes.get(t) for i in live for t in g.rows.outputs[i] if t]):
        return diagnostics  # the common case, found without a loop in Python
    for i in live:
        for t in g.rows.outputs[i]:
            if not t or not (t in consumers or t in graph_outputs) or t in non_tensors:
                continue
            shape = loaded.shapes.get(t)
            op, name = g.rows.op_types[i], g.names[i]
            if numel(shape) is None:
                diagnostics.append(Diagnostic(
                    "unknown-shape",
                    f"shape inference could not determine the shape of {t!r} "
                    f"({op} {name!r})", name, op))
            elif min(shape, default=1) < 1:  # type: ignore[arg-type,type-var]
                diagnostics.append(Diagnostic(
                    "empty-output",
                    f"{op} {name!r} gives {t!r} the shape {list(shape)}, "  # type: ignore[arg-type]
                    "with a side below 1: its window is larger than its input", name, op))
    return diagnostics


def _all_known_positive(shapes: list[Shape | None]) -> bool:
    """Whether every shape is known and has no side below 1 (in C: min over the dims)."""
    return all_known(shapes) and min(map(min, filter(None, shapes)), default=1) >= 1  # type: ignore[arg-type]


def _param_slot(spec: OpSpec | None, slot: int, t: str,
                shapes: dict[str, Shape], dtypes: dict[str, int]) -> bool | None:
    """Whether constant input ``t`` at ``slot`` is a parameter: None if not, else whether
    trainable."""
    if spec is not None and slot in spec.params:
        # A weight slot holds numbers: float, or the integers of a quantized weight. A string,
        # bool or untyped tensor there is no parameter (the file is malformed).
        return spec.params[slot] if dtypes.get(t) in NUMERIC_TYPES else None
    if spec is not None and slot in spec.fixed:
        return None
    if dtypes.get(t) not in FLOAT_TYPES:
        return None  # shapes, axes, indices: never parameters
    n = numel(shapes.get(t))
    if n is None or n <= 1:
        return None  # a scalar constant (epsilon, 1/sqrt(d), an exponent) is not learned
    return True


# The operand slots whose gradient a linear op's backward pass computes (each costs as many MACs
# as the forward product): the data and the weight of Conv, Gemm and MatMul; every operand of
# Einsum; for recurrent ops, the input and the weights, approximated as two.


def _gradient_operands(op: str, ins: tuple[str, ...], params: list[bool],
                       needs_grad: set[str]) -> int:
    """How many operands of a linear op need a gradient: its parameters always; an activation
    only when it depends on a parameter (no input-gradient for the model's input)."""
    if op in ("LSTM", "GRU", "RNN"):
        return 1 + (ins[0] in needs_grad)
    if op == "Einsum":
        slots: range | tuple[int, ...] = range(len(ins))
    else:  # the two factors of the product: data and weight
        slots = _FACTORS.get(op, (0, 1))
    return sum(1 for j in slots if j < len(ins)
               and ((j < len(params) and params[j]) or ins[j] in needs_grad))


# Input slots of the two factors of a product, where they are not the first two inputs.
_FACTORS = {"QLinearConv": (0, 3), "QLinearMatMul": (0, 3)}


def _param_leaves(g: graphmod.Graph, t: str, dtypes: dict[str, int]) -> list[str]:
    """The stored tensors a constant operand is made of: itself when stored, else the float
    tensors of the constant subgraph that computes it (through Transpose, Reshape, a weight
    norm's ``g * v / |v|``), or the int8 tensor behind a DequantizeLinear. Shapes, axes and
    indices feeding that subgraph are not parameters."""
    leaves: list[str] = []
    stack = [(t, False)]
    seen: set[str] = set()
    while stack:
        x, quantized = stack.pop()
        if x in seen or not x:
            continue
        seen.add(x)
        node = g.nodes[g.producer[x]] if x in g.producer else None
        if node is None or node.op_type in _STORED or not any(node.input):
            if dtypes.get(x) in FLOAT_TYPES or quantized or x == t:
                leaves.append(x)
        elif node.op_type in ("DequantizeLinear", "QuantizeLinear"):
            stack.append((node.input[0], True))  # the weight; not its scale and zero point
        elif node.op_type not in ("Shape", "Size"):
            stack.extend((u, quantized) for u in reversed(node.input) if u in g.constants)
    return leaves


# Ops whose output is a stored tensor in its own right (its input, if any, is only a shape).
_STORED = frozenset({"Constant", "ConstantOfShape"})


def _count_subgraphs(node: onnx.NodeProto, shapes: dict[str, Shape]) -> Cost:
    """The cost of one pass through a control-flow node's bodies (If: its costlier branch)."""

    bodies = []
    for attr in node.attribute:
        for body in graphmod._subgraphs(attr):
            local = dict(shapes)
            for vi in list(body.input) + list(body.value_info) + list(body.output):
                s = shape_of(vi.type)
                if s is not None:
                    local[vi.name] = s
            for t in body.initializer:
                local[t.name] = tuple(int(d) for d in t.dims)
            total = Cost()
            for inner in body.node:
                spec = spec_for(inner.domain, inner.op_type)
                if spec is None:
                    continue
                view = NodeView(inner, tuple(local.get(t) if t else None for t in inner.input),
                                tuple(local.get(t) if t else None for t in inner.output))
                try:
                    total = total + spec.cost(view)
                except UnknownShape:
                    continue
            bodies.append(total)
    if node.op_type == "If":
        return max(bodies, key=lambda c: (c.macs, c.flops), default=Cost())
    return sum(bodies, Cost())
