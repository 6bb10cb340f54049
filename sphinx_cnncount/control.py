"""Control flow: the bodies of If, Loop and Scan, which branch runs and how often.

* An ``If`` whose condition is known (folded from dims and constants, as the common
  ``Equal(Gather(Shape(x)), k)`` is) is replaced by the branch that runs: its nodes join the
  graph (local names renamed where they would clash), its initializers become the graph's, its
  outputs are the If's. Inference, folding, layers and costs then see it as any other nodes,
  and a decided If inside it is decided in the same pass.
* Any other body is inferred, folded and counted as a graph of its own (:func:`body_model`
  builds it): its formal inputs get the shapes the op gives them, the outer tensors it reads
  are inputs (or initializers, when their values are known).
* How often a body runs (:func:`runs`): If once (the costlier branch when the condition is
  unknown, :func:`costlier`), Loop its trip count when that is a known value (else once,
  stated), Scan the length of its scanned axis; any other op's bodies once, stated.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from .shapes import Shape, is_known, shape_of

GRAPH_ATTRS = (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)


def subgraphs(node: onnx.NodeProto) -> Iterable[tuple[str, onnx.GraphProto]]:
    """(attribute name, body) of each body a node carries."""
    for a in node.attribute:
        if a.type == onnx.AttributeProto.GRAPH:
            yield a.name, a.g
        elif a.type == onnx.AttributeProto.GRAPHS:
            for k, g in enumerate(a.graphs):
                yield f"{a.name}[{k}]", g


# Default-domain ops that carry subgraphs; a custom-domain op may carry one too.
SUBGRAPH_OPS = frozenset({"If", "Loop", "Scan", "SequenceMap"})


def has_body(node: onnx.NodeProto) -> bool:
    if node.op_type not in SUBGRAPH_OPS and node.domain in ("", "ai.onnx"):
        return False  # skips reading the attributes of the 99% of nodes that have none
    return any(a.type in GRAPH_ATTRS for a in node.attribute)


def local_names(g: onnx.GraphProto) -> set[str]:
    """The names a graph defines: its inputs, initializers and node outputs."""
    names = {t.name for t in g.initializer} | {vi.name for vi in g.input}
    names.update(t.values.name for t in g.sparse_initializer)
    for n in g.node:
        names.update(o for o in n.output if o)
    names.discard("")
    return names


def captured(g: onnx.GraphProto) -> list[str]:
    """The outer tensors a body reads (its own bodies' reads included), in first-read order."""
    local = local_names(g)
    seen: dict[str, None] = {}
    for n in g.node:
        for t in n.input:
            if t and t not in local:
                seen.setdefault(t)
        for _, body in subgraphs(n):
            for t in captured(body):
                if t not in local:
                    seen.setdefault(t)
    return list(seen)


# ---------------------------------------------------------------------------------------------
# Deciding an If


@dataclass(frozen=True)
class Decision:
    """An If replaced by the branch its known condition picks."""

    node: str  # the If's display name
    branch: str  # "then_branch" or "else_branch"
    condition: bool
    outputs: tuple[str, ...] = ()  # the If's outputs, now written by the branch's nodes
    reads: tuple[str, ...] = ()  # what the If read: its condition, both branches' captures
    # the branch not taken: its weights are the model's all the same (its parameters count)
    untaken: onnx.GraphProto | None = field(default=None, compare=False, repr=False)


def condition(node: onnx.NodeProto, values: dict[str, np.ndarray]) -> bool | None:
    """The value of a default-domain If's condition, where it is known."""
    if node.op_type != "If" or node.domain not in ("", "ai.onnx") or not node.input:
        return None
    value = values.get(node.input[0])
    if value is None or np.asarray(value).size != 1:
        return None
    return bool(np.asarray(value).reshape(()))


def splice_branch(graph: onnx.GraphProto, node: onnx.NodeProto, cond: bool, taken: set[str],
                  label: str) -> tuple[list[onnx.NodeProto], Decision] | None:
    """The nodes of the branch ``cond`` picks, ready to stand where the If ``node`` stood (its
    initializers appended to ``graph``'s, local names that clash with ``taken`` renamed), and
    the record of the decision; None when the branch does not fit the If."""
    attr = "then_branch" if cond else "else_branch"
    branch = next((a.g for a in node.attribute if a.name == attr), None)
    if branch is None or len(branch.output) != len(node.output):
        return None
    nodes = _splice(graph, node, branch, taken)
    reads = [node.input[0], *(t for _, b in subgraphs(node) for t in captured(b))]
    other = next((a.g for a in node.attribute
                  if a.name == ("else_branch" if cond else "then_branch")), None)
    return nodes, Decision(node.name or label, attr, cond, tuple(node.output),
                           tuple(dict.fromkeys(reads)), other)


def all_names(g: onnx.GraphProto) -> set[str]:
    """Every name a graph and its bodies define or read."""
    return _all_names(g)


def _all_names(g: onnx.GraphProto) -> set[str]:
    names = local_names(g)
    for n in g.node:
        names.update(t for t in n.input if t)
        for _, body in subgraphs(n):
            names |= _all_names(body)
    return names


def _splice(graph: onnx.GraphProto, node: onnx.NodeProto, branch: onnx.GraphProto,
            taken: set[str]) -> list[onnx.NodeProto]:
    """The branch's nodes, ready to stand where ``node`` stood; its initializers are moved into
    ``graph``. Local names that clash with the graph's are renamed; ``taken`` grows by the
    names the branch brings."""
    outputs = list(node.output)
    produced = {o for n in branch.node for o in n.output if o}
    rename: dict[str, str] = {}
    # A branch output a branch node writes takes the If's output name (once per tensor).
    claimed: set[str] = set()
    for vi, out in zip(branch.output, outputs, strict=True):
        if vi.name in produced and vi.name not in claimed and out:
            rename[vi.name] = out
            claimed.add(vi.name)
    for name in sorted(local_names(branch) - rename.keys()):
        if name in taken:
            k = 1
            while f"{name}__{k}" in taken:
                k += 1
            rename[name] = f"{name}__{k}"
        taken.add(rename.get(name, name))
    nodes = []
    for n in branch.node:
        copy = onnx.NodeProto()
        copy.CopyFrom(n)
        _rename_node(copy, rename)
        nodes.append(copy)
    for t in branch.initializer:
        copy = onnx.TensorProto()
        copy.CopyFrom(t)
        copy.name = rename.get(t.name, t.name)
        graph.initializer.append(copy)
    for sparse in branch.sparse_initializer:  # dims only, as the loader keeps them
        name = sparse.values.name or sparse.indices.name
        graph.initializer.append(onnx.TensorProto(
            name=rename.get(name, name), data_type=sparse.values.data_type, dims=sparse.dims))
    for vi, out in zip(branch.output, outputs, strict=True):
        source = rename.get(vi.name, vi.name)
        if out and source != out:  # an outer tensor, an initializer, or a repeated output
            nodes.append(onnx.helper.make_node("Identity", [source], [out],
                                               name=f"{node.name or 'If'}/{vi.name}"))
    return nodes


def _rename_node(node: onnx.NodeProto, rename: dict[str, str]) -> None:
    for k, t in enumerate(node.input):
        if t in rename:
            node.input[k] = rename[t]
    for k, t in enumerate(node.output):
        if t in rename:
            node.output[k] = rename[t]
    for _, body in subgraphs(node):
        _rename_captures(body, rename)


def _rename_captures(g: onnx.GraphProto, rename: dict[str, str]) -> None:
    """Rename the outer names a nested body reads (names it defines itself shadow them)."""
    inner = {k: v for k, v in rename.items() if k not in local_names(g)}
    if not inner:
        return
    for n in g.node:
        for k, t in enumerate(n.input):
            if t in inner:
                n.input[k] = inner[t]
        for _, body in subgraphs(n):
            _rename_captures(body, inner)
    for vi in g.output:
        if vi.name in inner:  # a body output that is an outer tensor passed through
            vi.name = inner[vi.name]


# ---------------------------------------------------------------------------------------------
# A body as a model of its own


def body_model(node: onnx.NodeProto, attr: str, body: onnx.GraphProto,
               shapes: dict[str, Shape], dtypes: dict[str, int],
               values: dict[str, np.ndarray], opsets: Iterable[onnx.OperatorSetIdProto],
               ir_version: int) -> onnx.ModelProto:
    """``body`` as a model: its formal inputs with the shapes ``node`` gives them, the outer
    tensors it reads as inputs (initializers when their value is known), its own nodes and
    initializers."""
    inputs: list[onnx.ValueInfoProto] = []
    formal = _formal_shapes(node, body, shapes, dtypes)
    for vi, (shape, dtype) in zip(body.input, formal, strict=False):
        inputs.append(_value_info(vi.name, dtype or _elem(vi), shape if shape is not None
                                  else _declared(vi)))
    inits = [t for t in body.initializer]
    for name in captured(body):
        if name in values:
            inits.append(numpy_helper.from_array(np.asarray(values[name]), name))
        elif name in dtypes or name in shapes:
            inputs.append(_value_info(name, dtypes.get(name, 0), shapes.get(name)))
        else:
            inputs.append(onnx.helper.make_empty_tensor_value_info(name))
    g = onnx.helper.make_graph(list(body.node), body.name or attr, inputs,
                               [onnx.helper.make_empty_tensor_value_info(vi.name)
                                if not vi.type.HasField("tensor_type") else _output(vi)
                                for vi in body.output],
                               inits, sparse_initializer=list(body.sparse_initializer))
    m = onnx.helper.make_model(g, opset_imports=list(opsets))
    m.ir_version = ir_version
    return m


def _output(vi: onnx.ValueInfoProto) -> onnx.ValueInfoProto:
    out = onnx.ValueInfoProto()
    out.CopyFrom(vi)
    out.type.tensor_type.ClearField("shape")  # inference recomputes it from the bound inputs
    return out


def _elem(vi: onnx.ValueInfoProto) -> int:
    return vi.type.tensor_type.elem_type if vi.type.HasField("tensor_type") else 0


def _declared(vi: onnx.ValueInfoProto) -> Shape | None:
    return shape_of(vi.type)


def _value_info(name: str, dtype: int, shape: Shape | None) -> onnx.ValueInfoProto:
    if shape is None:
        return onnx.helper.make_tensor_value_info(name, dtype, None)
    return onnx.helper.make_tensor_value_info(
        name, dtype, [d if isinstance(d, (int, str)) else None for d in shape])


def _formal_shapes(node: onnx.NodeProto, body: onnx.GraphProto, shapes: dict[str, Shape],
                   dtypes: dict[str, int]) -> list[tuple[Shape | None, int]]:
    """(shape, element type) of each formal input of a body, as its op defines them."""
    ins = list(node.input)
    if node.op_type == "Loop":
        # (iteration number, condition, loop-carried values as they enter)
        carried = [(shapes.get(t), dtypes.get(t, 0)) if t else (None, 0) for t in ins[2:]]
        return [((), onnx.TensorProto.INT64), ((), onnx.TensorProto.BOOL), *carried]
    if node.op_type == "Scan":
        m = _int_attr(node, "num_scan_inputs", 0)
        states = ins[:len(ins) - m]
        scans = ins[len(ins) - m:]
        axes = _ints_attr(node, "scan_input_axes") or [0] * m
        out: list[tuple[Shape | None, int]] = [(shapes.get(t), dtypes.get(t, 0)) for t in states]
        for t, axis in zip(scans, axes, strict=False):
            s = shapes.get(t)
            if s is None:
                out.append((None, dtypes.get(t, 0)))
                continue
            axis = axis + len(s) if axis < 0 else axis
            out.append((tuple(d for k, d in enumerate(s) if k != axis), dtypes.get(t, 0)))
        return out
    return [(None, 0)] * len(body.input)


def _int_attr(node: onnx.NodeProto, name: str, default: int) -> int:
    for a in node.attribute:
        if a.name == name and a.type == onnx.AttributeProto.INT:
            return a.i
    return default


def _ints_attr(node: onnx.NodeProto, name: str) -> list[int]:
    for a in node.attribute:
        if a.name == name and a.type == onnx.AttributeProto.INTS:
            return list(a.ints)
    return []


def output_shapes(node: onnx.NodeProto, inferred: dict[str, Any],
                  outer: Any) -> dict[str, Shape]:
    """Shapes of a control-flow node's outputs read off its inferred bodies (``inferred``: an
    Inference per body attribute; ``outer``: the Inference of the graph the node is in): an
    If's output where every branch gives it the same shape; a carried value that leaves a
    Loop's or Scan's body with the shape it entered keeps it; a scanned output stacks the
    body's per-iteration shape."""
    found: dict[str, Shape] = {}
    if node.op_type == "If":
        for k, name in enumerate(node.output):
            seen = set()
            for attr, body in subgraphs(node):
                inference = inferred.get(attr)
                seen.add(inference.shapes.get(body.output[k].name)
                         if inference is not None and k < len(body.output) else None)
            if name and len(seen) == 1 and is_known(shape := seen.pop()):
                found[name] = shape
        return found
    inference = inferred.get("body")
    body = next((a.g for a in node.attribute if a.name == "body"), None)
    if node.op_type not in ("Loop", "Scan") or inference is None or body is None:
        return found
    shapes = [inference.shapes.get(vi.name) for vi in body.output]
    if node.op_type == "Loop":
        carried = len(node.input) - 2
        entered = [outer.shapes.get(t) for t in node.input[2:]]
        left = shapes[1:1 + carried]
        runs = loop_runs(node, outer.values)
        times = runs.times if runs.approximation is None else None
        stacked = [None if s is None or times is None else (times, *s)
                   for s in shapes[1 + carried:]]
    else:
        m = _int_attr(node, "num_scan_inputs", 0)
        carried = len(node.input) - m
        entered = [outer.shapes.get(t) for t in node.input[:carried]]
        left = shapes[:carried]
        runs = scan_runs(node, outer.shapes)
        axes = _ints_attr(node, "scan_output_axes") or [0] * len(shapes[carried:])
        stacked = []
        for s, axis in zip(shapes[carried:], axes, strict=False):
            if s is None or runs.approximation is not None:
                stacked.append(None)
                continue
            axis = axis + len(s) + 1 if axis < 0 else axis
            stacked.append((*s[:axis], runs.times, *s[axis:]))
    finals = [a if a is not None and is_known(a) and a == b else None
              for a, b in zip(left, entered, strict=False)]
    for name, shape in zip(node.output, [*finals, *stacked], strict=False):
        if name and shape is not None:
            found[name] = shape
    return found


# ---------------------------------------------------------------------------------------------
# How often a body runs


@dataclass(frozen=True)
class Runs:
    """How many times a body is counted, and what is approximate about it (None: exact)."""

    times: int
    approximation: str | None = None


def loop_runs(node: onnx.NodeProto, values: dict[str, np.ndarray]) -> Runs:
    """A Loop's trip count: its ``M`` input when that is a known value and no condition can end
    it sooner; otherwise one iteration, said."""
    m = node.input[0] if node.input else ""
    cond = node.input[1] if len(node.input) > 1 else ""
    trips = values.get(m) if m else None
    if trips is None or np.asarray(trips).size != 1:
        return Runs(1, "its trip count is not known: one iteration counted")
    n = int(np.asarray(trips).reshape(()))
    if cond and not (cond in values and bool(np.asarray(values[cond]).reshape(()))):
        return Runs(max(n, 0), f"up to {n:,} iterations counted; its condition may end it "
                               "sooner")
    return Runs(max(n, 0))


def scan_runs(node: onnx.NodeProto, shapes: dict[str, Shape]) -> Runs:
    """A Scan runs once per element of its scanned axis."""
    m = _int_attr(node, "num_scan_inputs", 0)
    if m < 1 or m > len(node.input):
        return Runs(1, "its scan length is not known: one iteration counted")
    first = node.input[len(node.input) - m]
    axes = _ints_attr(node, "scan_input_axes") or [0]
    s = shapes.get(first)
    axis = axes[0]
    if s is None or not -len(s) <= axis < len(s) or not isinstance(s[axis], int):
        return Runs(1, "its scan length is not known: one iteration counted")
    return Runs(s[axis])  # type: ignore[arg-type]


def runs(node: onnx.NodeProto, values: dict[str, np.ndarray], shapes: dict[str, Shape]) -> Runs:
    """How many times the bodies of a control-flow node other than an If are counted."""
    if node.op_type == "Loop" and node.domain == "":
        return loop_runs(node, values)
    if node.op_type == "Scan" and node.domain == "":
        return scan_runs(node, shapes)
    return Runs(1, f"a {node.op_type} of domain {node.domain or 'ai.onnx'}: its bodies are "
                   "counted once")


def costlier(costs: dict[str, tuple[int, int]]) -> str:
    """The branch of an If on data that is counted: the costlier by (MACs, FLOPs); of equal
    ones, the first."""
    return max(costs, key=lambda attr: costs[attr])
