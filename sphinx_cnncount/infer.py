"""Shapes for every tensor: onnx's shape inference, and one pass for what it leaves.

1. onnx's ``infer_shapes`` (with data propagation) over the whole model, once: one call into
   onnx's C++ for every node. For most models that is all (the large weights' bytes are dropped
   first, their dims kept, so the copy it makes is cheap).
2. Where it leaves a gap, where the graph has control flow, where the user gave an input's
   value, or where a ceil-mode pool needs the rule onnx misses, one pass over the nodes in
   dataflow order, as onnxruntime's symbolic shape inference works:

   * a node whose inputs are now better known than they were, or whose outputs are unknown, is
     inferred again on its own (onnx's ``infer_node_outputs``, given the values of its inputs
     that are known); failing that, an op's shape rule (``ops.shape_rule``: onnxruntime's
     contrib ops, function ops), then the exporter's own annotation where the inputs are bound
     as the file declares them;
   * shape arithmetic whose inputs have values is evaluated (``fold.py``), its size bounded
     from those values before it runs;
   * an If whose condition is now known is replaced by its branch, whose nodes follow in the
     same pass; any other body (an If on data, Loop, Scan) is inferred as a graph of its own,
     once per distinct (body, shapes it is given), and gives its node's outputs their shapes.

   Work grows with the nodes that compute shapes and the bodies, never with rounds x model.
   The pooling rule onnx misses (ceil_mode) is the only shape rule written here by hand.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from . import control, fold
from .control import subgraphs
from .external import inline_integer_data
from .limits import MAX_DEPTH, SMALL_FLOAT, Budget
from .ops import REGISTRY, NodeView, lookup, schemas, shape_rule
from .ops.window import kernel_of, node_attr, sides, window_axes
from .shapes import (Diagnostic, ModelError, NodeRows, Shape, SizeRecord, all_known, dims_of,
                     is_known, may_have_bodies, numel, shape_of)

@dataclass
class Inference:
    """A graph's tensors as inference (and the pass after it) know them.

    ``model`` is the graph to count: the file's nodes with every decided If replaced by its
    branch. ``bodies`` holds, per control-flow node left (by its first output), the inference of
    each of its bodies (by attribute name).
    """

    model: onnx.ModelProto
    shapes: dict[str, Shape]
    dtypes: dict[str, int]
    non_tensors: set[str]
    values: dict[str, np.ndarray] = field(default_factory=dict)
    bodies: dict[str, dict[str, Inference]] = field(default_factory=dict)
    decisions: list[control.Decision] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    structure_changed: bool = False  # nodes differ from the file's (a decided If)
    sizes: dict[str, SizeRecord] = field(default_factory=dict)  # data-dependent, by symbol

    def all_sizes(self) -> dict[str, SizeRecord]:
        """The data-dependent sizes of this graph and of every body in it, by symbol."""
        found = dict(self.sizes)
        for bodies in self.bodies.values():
            for body in bodies.values():
                found.update(body.all_sizes())
        return found


def infer(path: str | os.PathLike[str], model: onnx.ModelProto, rows: NodeRows | None = None,
          declared: dict[str, Shape] | None = None,
          input_values: dict[str, np.ndarray] | None = None,
          budget: Budget | None = None, sizes: dict[str, int] | None = None) -> Inference:
    """Infer the shapes of ``model`` (whose inputs are bound), in place where it can.

    ``rows``: the model's nodes, when the caller has read them. ``declared``: the exporter's
    annotations (value_info and outputs) with their symbols bound, when the inputs are bound
    as the file declares them; they fill gaps and are checked against inference.
    ``input_values``: the values of inputs the user gave (settings such as a sample rate).
    ``budget``: the model's integer data budget (read and computed). ``sizes``: values the user
    gave data-dependent sizes (by symbol: :class:`~shapes.SizeRecord`); any other is counted
    at its cap, where it has one.
    """
    budget = budget or Budget(path)
    report = inline_integer_data(path, model, _may_have_bodies(rows), budget)
    with schemas.registered({o.domain for o in model.opset_import}):
        result = _Context(path, model, budget, sizes or {}).graph(model, rows, declared or {},
                                                     dict(input_values or {}), depth=0)
    result.diagnostics[:0] = [Diagnostic("external-data", m) for m in report.messages()]
    return result


def _may_have_bodies(rows: NodeRows | None) -> bool:
    return rows is None or may_have_bodies(rows)


class _Context:
    """What one model's inference shares across its graph and bodies: its opsets, its budget,
    the evaluators, the bodies already inferred."""

    def __init__(self, path: str | os.PathLike[str], model: onnx.ModelProto,
                 budget: Budget, sizes: dict[str, int]) -> None:
        self.path = path
        self.sizes = sizes  # the user's values of data-dependent sizes, by symbol
        self.opsets = list(model.opset_import)
        self.versions = {o.domain or "": o.version for o in model.opset_import}
        self.ir_version = model.ir_version or onnx.IR_VERSION
        self.budget = budget
        self.folder = fold.Folder(self.opsets, self.ir_version, budget)
        self._schemas: dict[tuple[str, str], onnx.defs.OpSchema | None] = {}
        self.bodies_done: dict[tuple[Any, ...], Inference] = {}

    def schema(self, node: onnx.NodeProto) -> onnx.defs.OpSchema | None:
        key = (node.domain, node.op_type)
        if key not in self._schemas:
            try:
                self._schemas[key] = onnx.defs.get_schema(
                    node.op_type, self.versions.get(node.domain, 1), node.domain)
            except onnx.defs.SchemaError:
                self._schemas[key] = None
        return self._schemas[key]

    def graph(self, model: onnx.ModelProto, rows: NodeRows | None, declared: dict[str, Shape],
              given: dict[str, np.ndarray], depth: int) -> Inference:
        """Infer one graph (the model's, or a body's as a model of its own)."""
        graph = model.graph
        has_bodies = _may_have_bodies(rows)
        stored = _drop_weight_bytes(graph, has_bodies)
        # Stale annotations may carry the unbound symbols; inference recomputes them all.
        declared_outputs = {vi.name: shape_of(vi.type) for vi in graph.output}
        del graph.value_info[:]
        for vi in graph.output:
            if vi.type.HasField("tensor_type"):
                vi.type.tensor_type.ClearField("shape")
        inferred = _infer(self.path, model)
        shapes, dtypes, others = _annotations(inferred.graph, stored)
        result = Inference(model, shapes, dtypes, set(others))
        control_flow = has_bodies and any(map(control.has_body, graph.node))
        if control_flow or given or _has_gaps(graph, rows, shapes) or _ceil_pools(graph, rows):
            result.values = {**fold.stored_values(graph, self.budget), **given}
            _Pass(self, result, others, stored, declared, depth).run(set(given))
        for name, shape in declared_outputs.items():
            if name not in result.shapes and is_known(shape):
                result.shapes[name] = shape
        result.shapes.pop("", None)  # "" is an absent optional input or output, never a tensor
        if declared:
            result.diagnostics += _disagreements(result.shapes, declared)
        return result

    def body(self, node: onnx.NodeProto, attr: str, body: onnx.GraphProto, outer: Inference,
             depth: int) -> Inference | None:
        """A body inferred as a graph of its own, once per distinct (body, shapes and values it
        is given)."""
        model = control.body_model(node, attr, body, outer.shapes, outer.dtypes, outer.values,
                                  self.opsets, self.ir_version)
        key = (id(body), tuple(_signature(vi) for vi in model.graph.input),
               tuple((t.name, t.SerializeToString()) for t in model.graph.initializer
                     if t.name not in {i.name for i in body.initializer}))
        done = self.bodies_done.get(key)
        if done is None:
            done = self.bodies_done[key] = self.graph(model, None, {}, {}, depth)
        return done


def _signature(vi: onnx.ValueInfoProto) -> tuple[Any, ...]:
    return (vi.name, vi.type.SerializeToString())


class _Pass:
    """One walk over a graph's nodes in dataflow order (the module's docstring, point 2)."""

    def __init__(self, ctx: _Context, result: Inference, others: dict[str, onnx.TypeProto],
                 stored: Stored, declared: dict[str, Shape], depth: int) -> None:
        self.ctx = ctx
        self.result = result
        self.others = others  # the TypeProtos of values that are not tensors (sequences)
        self.stored = stored
        self.declared = declared
        self.depth = depth
        self.changed: set[str] = set()  # tensors better known than the first inference knew
        self.taken: set[str] | None = None  # every name of the graph, once an If is decided
        self.position = 0  # of the node being visited, among the nodes kept so far
        self.producer: dict[str, onnx.NodeProto] = {}  # of each tensor, among the nodes visited
        self.unknown: set[str] = set()  # tensors whose value cannot be computed
        self.aliases: dict[str, str] = {}  # onnx's name for a data-dependent size -> ours

    def run(self, changed: set[str]) -> None:
        self.changed |= changed
        graph = self.result.model.graph
        work = deque(_dataflow_order(graph))
        kept: list[onnx.NodeProto] = []
        decided = False
        while work:
            node = work.popleft()
            self.position = len(kept)
            branch = self._decide(node)
            if branch is not None:
                work.extendleft(reversed(branch))
                decided = True
                continue
            kept.append(node)
            self.producer.update((o, node) for o in node.output if o)
            self._visit(node)
        if self.aliases:
            self._rename()
        if decided:
            del graph.node[:]
            graph.node.extend(kept)
            self.result.structure_changed = True

    # -- If nodes whose condition is known ----------------------------------------------------

    def _decide(self, node: onnx.NodeProto) -> list[onnx.NodeProto] | None:
        """The nodes of the branch a known condition picks, spliced in for the If; None when
        the node is not such an If."""
        result = self.result
        if node.op_type != "If" or node.domain != "" or not node.input:
            return None
        self._values(node.input[:1])
        cond = control.condition(node, result.values)
        if cond is None:
            return None
        graph = result.model.graph
        if self.taken is None:
            self.taken = control.all_names(graph) | {vi.name for vi in graph.output}
        n_inits = len(graph.initializer)
        spliced = control.splice_branch(graph, node, cond, self.taken, f"If_{self.position}")
        if spliced is None:
            return None
        nodes, decision = spliced
        result.decisions.append(decision)
        new = graph.initializer[n_inits:]
        for t in new:
            self.stored[t.name] = (tuple(t.dims), t.data_type)
            result.shapes[t.name] = tuple(t.dims)
            result.dtypes[t.name] = t.data_type
        branch_inits = onnx.GraphProto()
        branch_inits.initializer.extend(new)
        _drop_weight_bytes(branch_inits, True)
        del graph.initializer[n_inits:]
        graph.initializer.extend(branch_inits.initializer)
        result.values.update(fold.stored_values(branch_inits, self.ctx.budget))
        return nodes

    # -- every other node ---------------------------------------------------------------------

    def _visit(self, node: onnx.NodeProto) -> None:
        outs = [o for o in node.output if o]
        if not outs:
            return
        shapes = self.result.shapes
        if control.has_body(node):
            self._values(node.input[:2])  # a Loop's trip count and condition
            self._bodies(node)
            return
        if not self.changed.isdisjoint(node.input) or not all(
                is_known(shapes.get(o)) for o in outs):
            self._values(node.input)  # what the node's output shapes may depend on
            self._infer_node(node, outs)
        if _ceil_mode(node):
            self._ceil_pool(node)

    def _infer_node(self, node: onnx.NodeProto, outs: list[str]) -> None:
        """The node's outputs inferred again from what is known of its inputs now."""
        result = self.result
        shapes, dtypes, values = result.shapes, result.dtypes, result.values
        found: dict[str, onnx.TypeProto] = {}
        schema = self.ctx.schema(node)
        if schema is not None:
            types = {}
            for t in node.input:
                tp = self._type(t) if t else None
                if tp is not None:
                    types[t] = tp
            data = {t: numpy_helper.from_array(values[t], t) for t in node.input
                    if t and t in values}
            try:
                found = onnx.shape_inference.infer_node_outputs(
                    schema, node, types, data, opset_imports=self.ctx.opsets,
                    ir_version=self.ctx.ir_version)
            except Exception:  # shapes that contradict the op: the counter reports the node
                found = {}
        ruled: tuple[Shape | None, ...] | None = None
        for k, o in enumerate(node.output):
            if not o:
                continue
            tp = found.get(o)
            if tp is not None and tp.WhichOneof("value") not in (None, "tensor_type"):
                self.others[o] = tp
                result.non_tensors.add(o)
                continue
            new = shape_of(tp) if tp is not None else None
            if tp is not None and tp.tensor_type.elem_type:
                dtypes.setdefault(o, tp.tensor_type.elem_type)
            if not is_known(new) and not is_known(shapes.get(o)):
                if ruled is None:
                    ruled = self._rule(node)
                new = _better(new, ruled[k] if k < len(ruled) else None)
                if not is_known(new) and o in self.declared:
                    new = _better(new, self.declared[o])
                dtypes.setdefault(o, _elem_type(node, dtypes))
            self._set(o, new)
        entry = lookup(node.domain, node.op_type)
        if entry is not None and entry.size is not None:
            self._data_size(node, entry.size)

    def _data_size(self, node: onnx.NodeProto, rule: Any) -> None:
        """Name a size only the data decides after its node (``--dim NAME=N`` binds it), and
        give its axes the user's value, else its cap (the counts that follow are upper
        bounds), else the name."""
        result = self.result
        shapes, values = result.shapes, result.values
        view = NodeView(node, tuple(shapes.get(t) if t else None for t in node.input), (), (),
                        tuple(values.get(t) if t else None for t in node.input))
        try:
            size = rule(view)
        except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError):
            return
        if size is None:
            return
        symbol = node.name or next((o for o in node.output if o), node.op_type)
        given = self.ctx.sizes.get(symbol)
        value: int | str = given if given is not None else \
            size.cap if size.cap is not None else symbol
        source = "dim" if given is not None else "cap" if size.cap is not None else None
        result.sizes[symbol] = SizeRecord(symbol, node.name, node.op_type, size.what, size.cap,
                                          value if isinstance(value, int) else None, source)
        for slot, axis in size.axes:
            out = node.output[slot] if slot < len(node.output) else ""
            shape = shapes.get(out)
            if not out or shape is None or axis >= len(shape) or shape[axis] == value:
                continue
            if isinstance(shape[axis], str) and isinstance(value, str):
                self.aliases[shape[axis]] = value  # type: ignore[index]
            shapes[out] = (*shape[:axis], value, *shape[axis + 1:])
            self.changed.add(out)

    def _rename(self) -> None:
        """onnx's generated names of the data-dependent sizes that have no value, replaced by
        ours in every shape that carries them."""
        aliases, shapes = self.aliases, self.result.shapes
        for name, shape in shapes.items():
            if shape is not None and any(isinstance(d, str) and d in aliases for d in shape):
                shapes[name] = tuple(aliases.get(d, d) if isinstance(d, str) else d
                                     for d in shape)

    def _rule(self, node: onnx.NodeProto) -> tuple[Shape | None, ...]:
        rule = shape_rule(node.domain, node.op_type)
        if rule is None:
            return ()
        shapes = self.result.shapes
        try:
            return rule(NodeView(node, tuple(shapes.get(t) if t else None for t in node.input),
                                 ()))
        except (ArithmeticError, LookupError, TypeError, ValueError):
            return ()  # shapes that contradict the op: the counter reports the node

    def _type(self, name: str) -> onnx.TypeProto | None:
        if name in self.others:
            return self.others[name]
        elem = self.result.dtypes.get(name)
        if not elem:
            return None
        shape = self.result.shapes.get(name)
        return onnx.helper.make_tensor_type_proto(
            elem, None if shape is None else [d if isinstance(d, (int, str)) else None
                                              for d in shape])

    def _set(self, name: str, shape: Shape | None) -> None:
        """Record a shape found for ``name`` where it says more than the one known."""
        shapes = self.result.shapes
        old = shapes.get(name)
        new = _better(old, shape)
        if new is not None and new != old:
            shapes[name] = new
            self.changed.add(name)

    def _ceil_pool(self, node: onnx.NodeProto) -> None:
        """A ceil-mode pool's output as onnxruntime and onnx's reference evaluator compute it,
        where onnx's inference does not drop a window that would start in the end padding
        (MaxPool in=3, k=1, s=3 gives 1, not 2): the window function's sides."""
        shapes = self.result.shapes
        x = shapes.get(node.input[0]) if node.input else None
        out = node.output[0] if node.output else ""
        y = shapes.get(out)
        if x is None or y is None or len(x) < 3 or len(y) != len(x):
            return
        attr = node_attr(node)
        axes = window_axes(attr, x[2:], kernel_of(attr, None, len(x) - 2), pooling=True)
        if axes is None:
            return
        corrected = tuple(d if s is None else s for d, s in zip(y[2:], sides(axes), strict=True))
        if corrected != y[2:]:
            shapes[out] = (*y[:2], *corrected)
            self.changed.add(out)

    # -- values, on demand --------------------------------------------------------------------

    def _values(self, names: Iterable[str]) -> None:
        """Compute the values of ``names`` where they can be: shape arithmetic over bound dims
        and stored integers, folded node by node back through the nodes that make them
        (visited already: their shapes are final), each node once. Only the tensors that can
        decide a shape are followed: integers, bools and small floats."""
        values, stack = self.result.values, []
        waiting: set[str] = set()  # tensors whose inputs are on the stack above them
        for t in names:
            if t and t not in values and t not in self.unknown and self._may_decide(t):
                stack.append(t)
        open_: set[str] = set()  # tensors whose inputs are being computed: the path walked
        while stack:
            t = stack[-1]
            if t in values or t in self.unknown:
                stack.pop()
                waiting.discard(t)
                continue
            node = self.producer.get(t)
            if node is None or not self._foldable(node):
                self.unknown.add(t)
                stack.pop()
                waiting.discard(t)
                continue
            shape_of_input = node.op_type in ("Shape", "Size")
            if t not in open_ and not shape_of_input:
                open_.add(t)
                missing = [u for u in node.input if u and u not in values and u not in self.unknown]
                if not open_.isdisjoint(missing):  # a cycle (a malformed file): no value
                    self.unknown.add(t)
                    stack.pop()
                    waiting.discard(t)
                    continue
                if missing:
                    waiting.add(t)
                    stack.extend(missing)
                    continue
            waiting.discard(t)
            stack.pop()
            if not shape_of_input and any(u and u not in values for u in node.input):
                self.unknown.update(o for o in node.output if o)
                continue
            self._fold(node)

    def _may_decide(self, name: str) -> bool:
        """Whether a tensor's value can decide a shape: an integer or bool, or a float of a few
        elements (a scale); a tensor of no known type is tried."""
        dtype = self.result.dtypes.get(name)
        if dtype is None or dtype in fold.VALUE_TYPES:
            return True
        n = numel(self.result.shapes.get(name))
        return n is not None and n <= SMALL_FLOAT

    def _foldable(self, node: onnx.NodeProto) -> bool:
        return (node.op_type in ("Shape", "Size") and node.domain == "" and bool(node.input)) \
            or self.ctx.folder.foldable(node)

    def _fold(self, node: onnx.NodeProto) -> None:
        """The values of one node whose inputs have values (Shape and Size: whose input's
        shape is known); its outputs are unknown for good when they cannot be computed."""
        result = self.result
        values, shapes = result.values, result.shapes
        outs = [o for o in node.output if o]
        new = None
        if node.op_type in ("Shape", "Size"):
            shape = shapes.get(node.input[0])
            if is_known(shape):
                value = fold.shape_value(node.op_type, shape,  # type: ignore[arg-type]
                                         _int_attr(node, "start", 0),  # type: ignore[arg-type]
                                         _int_attr(node, "end", None))
                if value is not None:
                    self.ctx.budget.charge(value.nbytes)
                    new = {outs[0]: value}
        else:
            new = self.ctx.folder.run(node, [values[t] if t else None for t in node.input])
        if new is None:
            self.unknown.update(outs)
            return
        for name, value in new.items():
            values[name] = value
            self._set(name, tuple(int(d) for d in value.shape))
            result.dtypes.setdefault(name, onnx.helper.np_dtype_to_tensor_dtype(value.dtype))

    # -- bodies -------------------------------------------------------------------------------

    def _bodies(self, node: onnx.NodeProto) -> None:
        """Infer each body of a control-flow node left in the graph, then its outputs."""
        result = self.result
        if self.depth + 1 > MAX_DEPTH:
            result.diagnostics.append(Diagnostic(
                "control-flow", f"{node.op_type} {node.name!r}: bodies nested more than "
                f"{MAX_DEPTH} deep are not counted", node.name, node.op_type))
            return
        inferred: dict[str, Inference] = {}
        for attr, body in subgraphs(node):
            self._values(control.captured(body))  # what the body reads of this graph
            try:
                done = self.ctx.body(node, attr, body, result, self.depth + 1)
            except ModelError as exc:
                if "limit" in exc.reason:
                    raise
                result.diagnostics.append(Diagnostic(
                    "unknown-shape", f"{node.op_type} {node.name!r}: its {attr} could not be "
                    f"inferred ({exc.reason})", node.name, node.op_type))
                continue
            if done is not None:
                inferred[attr] = done
        result.bodies[node.output[0]] = inferred
        for name, shape in control.output_shapes(node, inferred, result).items():
            if not is_known(result.shapes.get(name)):
                self._set(name, shape)


def _better(old: Shape | None, new: Shape | None) -> Shape | None:
    """Of two shapes for the same tensor, the one that says more: per dim a number over a
    symbol or nothing; where both are numbers, the newer (it saw better-known inputs)."""
    if new is None:
        return old
    if old is None or len(old) != len(new):
        return new if is_known(new) or old is None else old
    return tuple(n if isinstance(n, int) else o for o, n in zip(old, new, strict=True))


def _elem_type(node: onnx.NodeProto, dtypes: dict[str, int]) -> int:
    """An output's element type where inference gave none: its first typed input's."""
    return next((dtypes[t] for t in node.input if t in dtypes), onnx.TensorProto.FLOAT)


def _int_attr(node: onnx.NodeProto, name: str, default: int | None) -> int | None:
    for a in node.attribute:
        if a.name == name and a.type == onnx.AttributeProto.INT:
            return a.i
    return default


def _dataflow_order(graph: onnx.GraphProto) -> list[onnx.NodeProto]:
    """The graph's nodes in dataflow order: as stored when that is one (ONNX asks for it),
    else networkx's topological sort (a cycle is for the graph builder to report)."""
    nodes = list(graph.node)
    produced = {o: i for i, n in enumerate(nodes) for o in n.output if o}
    reads = [[t for t in (*n.input, *(c for _, b in subgraphs(n) for c in control.captured(b)))
              if t in produced] for n in nodes]
    if all(produced[t] < i for i, ts in enumerate(reads) for t in ts):
        return nodes
    import networkx as nx  # only for a file stored out of order

    dag = nx.DiGraph()
    dag.add_nodes_from(range(len(nodes)))
    dag.add_edges_from((produced[t], i) for i, ts in enumerate(reads) for t in ts
                       if produced[t] != i)
    try:
        return [nodes[i] for i in nx.lexicographical_topological_sort(dag)]
    except nx.NetworkXUnfeasible:
        return nodes


def _has_gaps(graph: onnx.GraphProto, rows: NodeRows | None, shapes: dict[str, Shape]) -> bool:
    """Whether inference left some node output without a fully known shape."""
    outputs = rows.outputs if rows is not None else (tuple(n.output) for n in graph.node)
    return not all_known([shapes.get(o) for outs in outputs for o in outs if o])


def _ceil_mode(node: onnx.NodeProto) -> bool:
    """Whether a node is a pool that counts with ceil_mode (whose rule onnx's inference
    misses)."""
    op = lookup(node.domain, node.op_type)
    return (op is not None and op.window is not None and op.window.pooling
            and any(a.name == "ceil_mode" and a.i for a in node.attribute))


def _ceil_pools(graph: onnx.GraphProto, rows: NodeRows | None) -> bool:
    """Whether some pool of the graph counts with ceil_mode."""
    ops = rows.op_types if rows is not None else [n.op_type for n in graph.node]
    return any(op in _POOLING and _ceil_mode(graph.node[i]) for i, op in enumerate(ops))


_POOLING = frozenset(op for (_, op), e in REGISTRY.items() if e.window and e.window.pooling)


def _disagreements(shapes: dict[str, Shape], declared: dict[str, Shape]) -> list[Diagnostic]:
    """Where the exporter's annotation and inference both know a shape and differ: inference's
    is used, and the difference is said."""
    out = []
    for name, shape in declared.items():
        inferred = shapes.get(name)
        if is_known(shape) and is_known(inferred) and tuple(shape) != tuple(inferred):
            out.append(Diagnostic(
                "annotation-mismatch",
                f"the exporter annotated {name!r} as {list(shape)}, inference gives "
                f"{list(inferred)}; inference's shape is used"))  # type: ignore[arg-type]
    return out


Stored = dict[str, tuple[tuple[int, ...], int]]  # initializer -> dims, element type


def _annotations(g: onnx.GraphProto, stored: Stored
                 ) -> tuple[dict[str, Shape], dict[str, int], dict[str, onnx.TypeProto]]:
    """Shapes and element types of every tensor the graph annotates, and the types of its
    values that are not tensors. ``stored``: the graph's initializers."""
    shapes: dict[str, Shape] = {name: dims for name, (dims, _) in stored.items()}
    dtypes: dict[str, int] = {name: dtype for name, (_, dtype) in stored.items()}
    others: dict[str, onnx.TypeProto] = {}
    # The hot loop of a large model (one pass per tensor): protobuf fields are read once each.
    for infos in (g.input, g.value_info, g.output):
        for vi in infos:
            name = vi.name
            if name in shapes and name in dtypes:
                continue
            tp = vi.type
            kind = tp.WhichOneof("value")
            if kind != "tensor_type":
                if kind is not None:
                    others[name] = tp
                continue
            tt = tp.tensor_type
            if tt.elem_type and name not in dtypes:
                dtypes[name] = tt.elem_type
            if name in shapes or not tt.HasField("shape"):
                continue
            shapes[name] = dims_of(tt.shape.dim)
    return shapes, dtypes, others


def _infer(path: str | os.PathLike[str], model: onnx.ModelProto) -> onnx.ModelProto:
    try:
        return onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    except Exception as exc:  # onnx raises several types here; each means the same to a user
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(path, f"onnx shape inference failed: {first}") from None


_KEEP_BYTES = 4096  # tensors up to this size keep their values: shapes, axes, scales


def _drop_weight_bytes(graph: onnx.GraphProto, with_bodies: bool = True) -> Stored:
    """Forget the values of large weights stored in the file, keeping their dims and type, and
    return those (one pass over what may be tens of thousands of tensors).

    Nothing here reads them, and onnx's shape inference copies the whole model: without the
    weights that copy is cheap. Integer tensors (shapes, axes, indices) and small float ones
    (Resize's scales) keep their values: inference reads those.
    """
    stored: Stored = {t.name: (tuple(t.dims), t.data_type) for t in graph.initializer}
    for t in graph.initializer:
        if t.data_location == onnx.TensorProto.EXTERNAL:
            # Where the bytes are is of no use here; dropped, it is not copied into inference.
            # The location stays EXTERNAL: no value is taken from an empty tensor.
            del t.external_data[:]
        elif t.data_type not in fold.VALUE_TYPES and t.ByteSize() > _KEEP_BYTES:
            for name in ("raw_data", "float_data", "double_data", "int32_data", "uint64_data",
                         "int64_data"):
                t.ClearField(name)
    if with_bodies:  # the bodies' weights too: inference copies them every pass
        for node in graph.node:
            for _, body in subgraphs(node) if node.attribute else ():
                _drop_weight_bytes(body)
    return stored
