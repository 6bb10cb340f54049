"""Shapes for every tensor: onnx's shape inference, and what it needs help with.

onnx's ``infer_shapes`` (with data propagation) does the work. This module prepares the model
for it (the bytes of large tensors are dropped, their dims kept; small integer tensors stored in
an external data file are read, ``external.py``) and, where it leaves gaps, repeats rounds until
one learns nothing new:

* shape rules for the ops onnx has no schema for (onnxruntime's contrib ops) or leaves unknown
  (function ops), ``ops.shape_rule``, and the exporter's own annotations where the inputs are
  bound as the file declares them;
* the values of shape arithmetic that data propagation gives up on, ``fold.py``;
* If nodes whose condition is now known, replaced by their branch, ``bodies.py``.

Bodies that stay (an If whose condition depends on data, Loop, Scan) are inferred the same way
as graphs of their own. The pooling rule onnx misses (ceil_mode) is corrected after every
inference. These are the only shape rules written here by hand.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import onnx

from . import bodies, fold
from .bodies import subgraphs
from .external import ExternalReport, inline_integer_data
from .ops import NodeView, schemas, shape_rule
from .shapes import (Diagnostic, ModelError, NodeRows, Shape, all_known, dims_of, is_known,
                     may_have_bodies, node_rows, shape_of)

ROUNDS = 16  # rounds of rules, folding and decided branches; real models settle in two or three


@dataclass
class Inference:
    """A graph's tensors as inference (and the rounds after it) know them.

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
    decisions: list[bodies.Decision] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    external: ExternalReport | None = None
    structure_changed: bool = False  # nodes differ from the file's (a decided If)


def infer(path: str | os.PathLike[str], model: onnx.ModelProto, rows: NodeRows | None = None,
          declared: dict[str, Shape] | None = None,
          input_values: dict[str, np.ndarray] | None = None) -> Inference:
    """Infer the shapes of ``model`` (whose inputs are bound), in place where it can.

    ``rows``: the model's nodes, when the caller has read them. ``declared``: the exporter's
    annotations (value_info and outputs) with their symbols bound, when the inputs are bound
    as the file declares them; they fill gaps and are checked against inference.
    ``input_values``: the values of inputs the user gave (settings such as a sample rate).
    """
    report = inline_integer_data(path, model, _may_have_bodies(rows))
    result = _infer_graph(path, model, rows, declared or {}, depth=0,
                          given=dict(input_values or {}))
    result.external = report
    result.diagnostics[:0] = [Diagnostic("external-data", m) for m in report.messages()]
    return result


def _infer_graph(path: str | os.PathLike[str], model: onnx.ModelProto, rows: NodeRows | None,
                 declared: dict[str, Shape], depth: int,
                 given: dict[str, np.ndarray] | None = None) -> Inference:
    graph = model.graph
    stored = _drop_weight_bytes(graph, _may_have_bodies(rows))
    # Stale annotations may carry the unbound symbols; inference recomputes them all.
    declared_outputs = {vi.name: shape_of(vi.type) for vi in graph.output}
    del graph.value_info[:]
    for vi in graph.output:
        if vi.type.HasField("tensor_type"):
            vi.type.tensor_type.ClearField("shape")
    inferred = _infer_pass(path, model)
    shapes, dtypes, non_tensors = _annotations(inferred.graph, stored)
    result = Inference(model, shapes, dtypes, non_tensors)
    control_flow = _may_have_bodies(rows) and any(map(bodies.has_body, graph.node))
    if control_flow or given or _has_gaps(graph, rows, shapes):
        filled: dict[str, onnx.ValueInfoProto] = {}
        result.values = {**fold.stored_values(graph), **(given or {})}
        _rounds(path, model, stored, declared, result, filled)
        rows = None  # the rounds may have replaced an If by its branch
        control_flow = any(map(bodies.has_body, graph.node))
        for _ in range(4):  # a body's outputs can give its node's outputs their shapes
            if not control_flow:
                break
            _infer_all_bodies(path, model, result, depth)
            if not _body_outputs(graph, result, filled):
                break
            _rounds(path, model, stored, declared, result, filled, force=True)
            control_flow = any(map(bodies.has_body, graph.node))
    for name, shape in declared_outputs.items():
        if name not in result.shapes and is_known(shape):
            result.shapes[name] = shape
    result.shapes.pop("", None)  # "" is an absent optional input or output, never a tensor
    if declared:
        result.diagnostics += _disagreements(result.shapes, declared)
    if control_flow:
        _infer_all_bodies(path, model, result, depth)
    return result


def _infer_all_bodies(path: str | os.PathLike[str], model: onnx.ModelProto, result: Inference,
                      depth: int) -> None:
    result.bodies = {}
    for node in model.graph.node:
        if bodies.has_body(node) and node.output:
            _infer_bodies(path, model, node, result, depth)


def _body_outputs(graph: onnx.GraphProto, result: Inference,
                  filled: dict[str, onnx.ValueInfoProto]) -> bool:
    """Shapes of control-flow outputs read off their inferred bodies, where onnx's inference
    leaves them unknown: an If's output where every branch gives it the same shape; a carried
    value that leaves a Loop's or Scan's body with the shape it entered keeps it; a scanned
    output stacks the body's per-iteration shape. True if any was found."""
    found = False
    for node in graph.node:
        if node.op_type == "If" and node.output:
            found |= _if_outputs(node, result, filled)
            continue
        if node.op_type not in ("Loop", "Scan") or not node.output:
            continue
        inferred = result.bodies.get(node.output[0], {}).get("body")
        body = next((a.g for a in node.attribute if a.name == "body"), None)
        if inferred is None or body is None:
            continue
        shapes = [inferred.shapes.get(vi.name) for vi in body.output]
        if node.op_type == "Loop":
            carried = len(node.input) - 2
            entered = [result.shapes.get(t) for t in node.input[2:]]
            left = shapes[1:1 + carried]
            runs = bodies.loop_runs(node, result.values)
            times = runs.times if runs.approximation is None else None
            stacked = [None if s is None or times is None else (times, *s)
                       for s in shapes[1 + carried:]]
        else:
            m = bodies._int_attr(node, "num_scan_inputs", 0)
            carried = len(node.input) - m
            entered = [result.shapes.get(t) for t in node.input[:carried]]
            left = shapes[:carried]
            runs = bodies.scan_runs(node, result.shapes)
            axes = bodies._ints_attr(node, "scan_output_axes") or [0] * len(shapes[carried:])
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
            if not name or shape is None or is_known(result.shapes.get(name)) or name in filled:
                continue
            elem = result.dtypes.get(name) or inferred.dtypes.get(
                body.output[list(node.output).index(name) + (1 if node.op_type == "Loop" else 0)].name,
                onnx.TensorProto.FLOAT)
            filled[name] = onnx.helper.make_tensor_value_info(name, elem, list(shape))
            found = True
    return found


def _may_have_bodies(rows: NodeRows | None) -> bool:
    return rows is None or may_have_bodies(rows)


def _rounds(path: str | os.PathLike[str], model: onnx.ModelProto, stored: Stored,
            declared: dict[str, Shape], result: Inference,
            filled: dict[str, onnx.ValueInfoProto], force: bool = False) -> None:
    """Rules, folding and decided branches, each round inferring again, until a round learns
    nothing new. ``filled``: the shapes given to inference as annotations (kept across calls);
    ``force``: infer again at least once (``filled`` grew since the last inference)."""
    graph = model.graph
    values = result.values
    opsets = list(model.opset_import)
    for _ in range(ROUNDS):
        learned = _fill(graph, result.shapes, result.dtypes, declared, filled) or force
        force = False
        new = fold.evaluate(graph, opsets, result.shapes, values, result.dtypes)
        values.update(new)
        names = {i: n.name for i, n in enumerate(graph.node)}
        decided = bodies.decide_ifs(graph, values, names)
        if decided:
            result.decisions += decided
            result.structure_changed = True
            stored.update(_drop_weight_bytes(graph))  # the branches' initializers
            values.update(fold.stored_values(graph))
        if not (learned or new or decided):
            break
        work = _work_copy(model, values, filled)
        inferred = _infer_pass(path, work)
        result.shapes, result.dtypes, result.non_tensors = _annotations(inferred.graph, stored)
        if not _has_gaps(graph, None, result.shapes) and not any(
                n.op_type == "If" for n in graph.node):
            break


def _fill(graph: onnx.GraphProto, shapes: dict[str, Shape], dtypes: dict[str, int],
          declared: dict[str, Shape], filled: dict[str, onnx.ValueInfoProto]) -> bool:
    """Shapes for node outputs inference left unknown: an op's shape rule, else the exporter's
    annotation. True if any was found."""
    found = False
    for node in graph.node:
        outs = [o for o in node.output if o]
        if not outs or all(is_known(shapes.get(o)) or o in filled for o in outs):
            continue
        rule = shape_rule(node.domain, node.op_type)
        ruled: tuple[Shape | None, ...] = ()
        if rule is not None:
            try:
                ruled = rule(NodeView(node, tuple(shapes.get(t) if t else None
                                                  for t in node.input), ()))
            except (ArithmeticError, LookupError, TypeError, ValueError):
                ruled = ()  # shapes that contradict the op: the counter reports the node
        for k, o in enumerate(node.output):
            if not o or o in filled or is_known(shapes.get(o)):
                continue
            shape = ruled[k] if k < len(ruled) and ruled[k] is not None else declared.get(o)
            if shape is None or (not is_known(shape) and shape == shapes.get(o)):
                continue
            elem = dtypes.get(o) or _elem_type(node, dtypes)
            filled[o] = onnx.helper.make_tensor_value_info(
                o, elem, [d if isinstance(d, (int, str)) else None for d in shape])
            found = True
    return found


def _elem_type(node: onnx.NodeProto, dtypes: dict[str, int]) -> int:
    """An output's element type where inference gave none: its first typed input's."""
    return next((dtypes[t] for t in node.input if t in dtypes), onnx.TensorProto.FLOAT)


def _work_copy(model: onnx.ModelProto, values: dict[str, np.ndarray],
               filled: dict[str, onnx.ValueInfoProto]) -> onnx.ModelProto:
    """What inference sees in a round: the model with every folded node replaced by Constant
    nodes of its values, and the filled shapes as annotations."""
    work = onnx.ModelProto()
    work.CopyFrom(model)
    nodes = []
    for node in work.graph.node:
        outs = [o for o in node.output if o]
        if outs and all(o in values for o in outs) and node.op_type != "Constant":
            nodes.extend(fold.constant_nodes(node, values))
        else:
            nodes.append(node)
    del work.graph.node[:]
    work.graph.node.extend(nodes)
    work.graph.value_info.extend(filled.values())
    return work


def _infer_pass(path: str | os.PathLike[str], model: onnx.ModelProto) -> onnx.ModelProto:
    """onnx's inference, then the ceil_mode pooling rule it misses (and again if that changed
    a shape, so the corrected shape reaches downstream)."""
    inferred = _infer(path, model)
    if _correct_ceil_pools(inferred.graph):
        inferred = _infer(path, inferred)
    return inferred


def _has_gaps(graph: onnx.GraphProto, rows: NodeRows | None, shapes: dict[str, Shape]) -> bool:
    """Whether inference left some node output without a fully known shape."""
    outputs = rows.outputs if rows is not None else (tuple(n.output) for n in graph.node)
    return not all_known([shapes.get(o) for outs in outputs for o in outs if o])


def _constant_shapes(graph: onnx.GraphProto, rows: NodeRows | None, result: Inference) -> None:
    """Constant nodes' outputs have the dims of their tensor, whatever inference says."""
    ops = rows.op_types if rows is not None else [n.op_type for n in graph.node]
    for i, op in enumerate(ops):
        node = graph.node[i]
        if op != "Constant" or node.domain not in ("", "ai.onnx") or not node.output:
            continue
        for a in node.attribute:
            if a.name == "value" and a.type == onnx.AttributeProto.TENSOR:
                result.shapes.setdefault(node.output[0], tuple(int(d) for d in a.t.dims))
                result.dtypes.setdefault(node.output[0], a.t.data_type)


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


def _if_outputs(node: onnx.NodeProto, result: Inference,
                filled: dict[str, onnx.ValueInfoProto]) -> bool:
    branches = result.bodies.get(node.output[0], {})
    found = False
    for k, name in enumerate(node.output):
        if not name or name in filled or is_known(result.shapes.get(name)):
            continue
        shapes = set()
        for attr, body in bodies.subgraphs(node):
            inferred = branches.get(attr)
            if inferred is None or k >= len(body.output):
                shapes.add(None)
                continue
            shapes.add(inferred.shapes.get(body.output[k].name))
        if len(shapes) == 1 and is_known(shape := shapes.pop()):
            elem = result.dtypes.get(name) or onnx.TensorProto.FLOAT
            filled[name] = onnx.helper.make_tensor_value_info(name, elem, list(shape))
            found = True
    return found


def _infer_bodies(path: str | os.PathLike[str], model: onnx.ModelProto, node: onnx.NodeProto,
                  result: Inference, depth: int) -> None:
    """Infer each body of a control-flow node left in the graph, as a graph of its own."""
    if depth + 1 > bodies.MAX_DEPTH:
        result.diagnostics.append(Diagnostic(
            "control-flow", f"{node.op_type} {node.name!r}: bodies nested more than "
            f"{bodies.MAX_DEPTH} deep are not counted", node.name, node.op_type))
        return
    inferred: dict[str, Inference] = {}
    for attr, body in bodies.subgraphs(node):
        sub = bodies.body_model(node, attr, body, result.shapes, result.dtypes, result.values,
                                model.opset_import, model.ir_version)
        try:
            inferred[attr] = _infer_graph(path, sub, None, {}, depth + 1)
        except ModelError as exc:
            result.diagnostics.append(Diagnostic(
                "unknown-shape", f"{node.op_type} {node.name!r}: its {attr} could not be "
                f"inferred ({exc.reason})", node.name, node.op_type))
    result.bodies[node.output[0]] = inferred


Stored = dict[str, tuple[tuple[int, ...], int]]  # initializer -> dims, element type


def _annotations(g: onnx.GraphProto, stored: Stored | None = None
                 ) -> tuple[dict[str, Shape], dict[str, int], set[str]]:
    """Shapes and element types of every tensor the graph annotates, and its non-tensor values.
    ``stored``: the graph's initializers, when already read."""
    if stored is None:
        stored = {t.name: (tuple(t.dims), t.data_type) for t in g.initializer}
    shapes: dict[str, Shape] = {name: dims for name, (dims, _) in stored.items()}
    dtypes: dict[str, int] = {name: dtype for name, (_, dtype) in stored.items()}
    non_tensors: set[str] = set()
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
                    non_tensors.add(name)
                continue
            tt = tp.tensor_type
            if tt.elem_type and name not in dtypes:
                dtypes[name] = tt.elem_type
            if name in shapes or not tt.HasField("shape"):
                continue
            shapes[name] = dims_of(tt.shape.dim)
    return shapes, dtypes, non_tensors


def _infer(path: str | os.PathLike[str], model: onnx.ModelProto) -> onnx.ModelProto:
    # The contrib ops' shape rules, as onnx schemas for the duration of this inference.
    domains = {o.domain for o in model.opset_import}
    try:
        with schemas.registered(domains):
            return onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    except Exception as exc:  # onnx raises several types here; each means the same to a user
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(path, f"onnx shape inference failed: {first}") from None


def _correct_ceil_pools(graph: onnx.GraphProto) -> bool:
    """Apply the pooling rule onnx's shape inference misses: with ceil_mode, a window that would
    start in the right padding is dropped (MaxPool in=3, k=1, s=3 gives 1, not 2, as onnxruntime
    and onnx's reference evaluator compute). Rewrites the annotations, in place, so that a second
    inference carries the corrected shapes downstream; True if any shape changed."""
    pools = [n for n in graph.node if n.op_type in ("MaxPool", "AveragePool", "LpPool")
             and n.output]
    pools = [n for n in pools if any(a.name == "ceil_mode" and a.i for a in n.attribute)]
    if not pools:
        return False
    annotated = {vi.name: vi for vi in list(graph.value_info) + list(graph.output)}
    corrected: dict[str, onnx.ValueInfoProto] = {}
    shapes = {vi.name: shape_of(vi.type) for vi in list(graph.input) + list(graph.value_info)}
    for node in pools:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in node.attribute}
        auto_pad = a.get("auto_pad", b"NOTSET")
        if not a.get("ceil_mode") or auto_pad not in (b"NOTSET", b"VALID"):
            continue
        x, vi = shapes.get(node.input[0]), annotated.get(node.output[0])
        if vi is None or not is_known(x):
            continue
        kernel = list(a.get("kernel_shape", []))
        rank = len(kernel)
        strides = list(a.get("strides", [1] * rank))
        pads = list(a.get("pads", [0] * 2 * rank)) if auto_pad == b"NOTSET" else [0] * 2 * rank
        dims = vi.type.tensor_type.shape.dim
        if len(x) != rank + 2 or len(dims) != rank + 2 or len(strides) != rank:
            continue
        for i in range(rank):
            d = dims[2 + i]
            if d.HasField("dim_value") and (d.dim_value - 1) * strides[i] >= x[2 + i] + pads[i]:
                d.dim_value -= 1
                corrected[vi.name] = vi
    if not corrected:
        return False
    keep = []
    for vi in graph.value_info:
        if vi.name in corrected:
            kept = onnx.ValueInfoProto()
            kept.CopyFrom(vi)
            keep.append(kept)
    del graph.value_info[:]
    graph.value_info.extend(keep)
    for vi in graph.output:
        if vi.name not in corrected and vi.type.HasField("tensor_type"):
            vi.type.tensor_type.ClearField("shape")
    return True


_KEEP_BYTES = 4096  # tensors up to this size keep their values: shapes, axes, scales


def _drop_weight_bytes(graph: onnx.GraphProto, bodies: bool = True) -> Stored:
    """Forget the values of large weights stored in the file, keeping their dims and type, and
    return those (one pass over what may be tens of thousands of tensors).

    Nothing here reads them, and onnx's shape inference copies the whole model: without the
    weights that copy is cheap. Integer tensors (shapes, axes, indices) and small float ones
    (Resize's scales) keep their values: inference reads those.
    """
    from .load import initializer_table

    stored: Stored = dict(initializer_table(graph))
    for t in graph.initializer:
        if t.data_location == onnx.TensorProto.EXTERNAL:
            # Where the bytes are is of no use here; dropped, it is not copied into inference.
            # The location stays EXTERNAL: no value is taken from an empty tensor.
            del t.external_data[:]
        elif t.data_type not in fold.INT_TYPES and t.ByteSize() > _KEEP_BYTES:
            for name in ("raw_data", "float_data", "double_data", "int32_data", "uint64_data"):
                t.ClearField(name)
    if bodies:  # the bodies' weights too: inference copies them every pass
        for node in graph.node:
            for _, body in subgraphs(node) if node.attribute else ():
                _drop_weight_bytes(body)
    return stored
