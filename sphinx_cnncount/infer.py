"""Shapes for every tensor: onnx's shape inference, and the few things it needs help with.

onnx's ``infer_shapes`` (with data propagation) does the work. This module prepares the model
for it (the bytes of large tensors are dropped, their dims kept) and fills what it leaves:

* ops whose output has their input's shape but that inference skips (GroupNormalization and
  other function ops at some opsets);
* shape arithmetic that data propagation gives up on (Shape, Gather, Where, Equal, Concat over
  bound dims), evaluated with onnx's reference evaluator;
* the pooling rule it misses: with ceil_mode, a window that would start in the padding is
  dropped.

These are the only shape rules written here by hand.
"""

from __future__ import annotations

import os
from math import prod

import onnx

from .shapes import (ModelError, NodeRows, Shape, all_known, dims_of, is_known, node_rows,
                     numel, shape_of)


def infer(path: str | os.PathLike[str], model: onnx.ModelProto, rows: NodeRows | None = None
          ) -> tuple[onnx.ModelProto, dict[str, Shape], dict[str, int], set[str]]:
    """Infer the shapes of ``model`` (whose inputs are bound), in place where it can: the
    inferred model, the shape and element type of every tensor, and its non-tensor values.
    ``rows``: the model's nodes, when the caller has read them."""
    if rows is None:
        rows = node_rows(model.graph)
    stored = _drop_weight_bytes(model)
    graph = model.graph
    # Stale annotations may carry the unbound symbols; inference recomputes them all.
    declared_outputs = {vi.name: shape_of(vi.type) for vi in graph.output}
    del graph.value_info[:]
    for vi in graph.output:
        if vi.type.HasField("tensor_type"):
            vi.type.tensor_type.ClearField("shape")
    inferred = _infer(path, model)
    if _correct_ceil_pools(inferred.graph, rows):
        inferred = _infer(path, inferred)
    shapes, dtypes, non_tensors = _annotations(inferred.graph, stored)
    if _has_gaps(rows, shapes):
        for _ in range(3):  # each round lets onnx carry a filled gap further downstream
            if not _fill_gaps(inferred.graph):
                break
            inferred = _infer(path, inferred)
        shapes, dtypes, non_tensors = _annotations(inferred.graph, stored)
        folded = _fold_shape_values(path, inferred) if _has_gaps(rows, shapes) else None
        if folded is not None:  # the folded copy knows more shapes; the original keeps its nodes
            more, _, _ = _annotations(folded.graph)
            shapes.update((name, shape) for name, shape in more.items()
                          if is_known(shape) and not is_known(shapes.get(name)))
    for i, op in enumerate(rows.op_types):
        if op == "Constant" and rows.domains[i] in ("", "ai.onnx"):
            node = inferred.graph.node[i]
            for a in node.attribute:
                if a.name == "value" and a.type == onnx.AttributeProto.TENSOR:
                    shapes.setdefault(node.output[0], tuple(int(d) for d in a.t.dims))
                    dtypes.setdefault(node.output[0], a.t.data_type)
    for name, shape in declared_outputs.items():
        if name not in shapes and is_known(shape):
            shapes[name] = shape
    shapes.pop("", None)  # "" is an absent optional input or output, never a tensor
    return inferred, shapes, dtypes, non_tensors


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
    try:
        return onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    except Exception as exc:  # onnx raises several types here; each means the same to a user
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(path, f"onnx shape inference failed: {first}") from None


# Ops whose first output has the shape of their first input. onnx's inference leaves some of
# them unknown (GroupNormalization and other function ops at some opsets).
SAME_SHAPE_OPS = frozenset({
    "GroupNormalization", "LayerNormalization", "InstanceNormalization", "BatchNormalization",
    "Relu", "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Gelu", "Mish",
    "Elu", "Selu", "Celu", "Softplus", "Softsign", "Softmax", "LogSoftmax", "Swish", "Clip",
    "Dropout", "Identity", "LRN",
})


def _fill_gaps(graph: onnx.GraphProto) -> bool:
    """Annotate same-shape ops whose output inference left unknown; True if any was filled."""
    known = {vi.name: vi for vi in list(graph.input) + list(graph.value_info)}
    known.update((vi.name, vi) for vi in graph.output if vi.type.tensor_type.HasField("shape"))
    for t in graph.initializer:
        known.setdefault(t.name, onnx.helper.make_tensor_value_info(t.name, t.data_type, t.dims))
    filled = False
    for node in graph.node:
        if node.op_type not in SAME_SHAPE_OPS or node.domain not in ("", "ai.onnx"):
            continue
        if not node.input or not node.output or node.output[0] in known:
            continue
        src = known.get(node.input[0])
        if src is None or not src.type.tensor_type.HasField("shape"):
            continue
        vi = onnx.ValueInfoProto()
        vi.CopyFrom(src)
        vi.name = node.output[0]
        graph.value_info.append(vi)
        known[vi.name] = vi
        filled = True
    return filled


_INT_TYPES = frozenset({
    onnx.TensorProto.INT64, onnx.TensorProto.INT32, onnx.TensorProto.INT16,
    onnx.TensorProto.INT8, onnx.TensorProto.UINT8, onnx.TensorProto.BOOL,
})
_FOLD_LIMIT = 1 << 16  # elements: shape arithmetic is small; weights are not folded


def _has_gaps(rows: NodeRows, shapes: dict[str, Shape]) -> bool:
    """Whether inference left some node output without a fully known shape."""
    return not all_known([shapes.get(o) for outs in rows.outputs for o in outs if o])


def _fold_shape_values(path: str | os.PathLike[str], model: onnx.ModelProto) -> onnx.ModelProto | None:
    """Evaluate the shape arithmetic onnx's data propagation gives up on (Shape, Gather, Where,
    Equal, Concat ... over bound dims and inline integer constants) with onnx's reference
    evaluator, then infer again on a copy where those values are constants.

    Only values derived from dims and from integer constants stored inline in the file are
    evaluated: float tensors (weights) and external data never enter, and nothing larger than
    _FOLD_LIMIT elements is computed.
    """
    from onnx import numpy_helper
    from onnx.reference import ReferenceEvaluator

    graph = model.graph
    shapes = {vi.name: shape_of(vi.type) for vi in list(graph.input) + list(graph.value_info)}
    values: dict[str, object] = {}
    for t in graph.initializer:
        if (t.data_location != onnx.TensorProto.EXTERNAL and t.data_type in _INT_TYPES
                and prod(t.dims) <= _FOLD_LIMIT):
            values[t.name] = numpy_helper.to_array(t)
    pending: set[str] = set()  # outputs of the nodes the evaluator will compute
    nodes: list[onnx.NodeProto] = []
    import numpy as np

    for node in graph.node:
        if node.domain not in ("", "ai.onnx") or any(
                a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
                for a in node.attribute):
            continue
        if node.attribute and not inline_only(node):
            continue  # its value would be read from a file beside the model (or anywhere)
        if node.op_type in ("Shape", "Size"):
            shape = shapes.get(node.input[0])
            if not is_known(shape):
                continue
            attrs = {a.name: a.i for a in node.attribute}
            dims = list(shape)[attrs.get("start", 0):attrs.get("end", len(shape))] \
                if "end" in attrs else list(shape)[attrs.get("start", 0):]
            values[node.output[0]] = (np.array(dims, dtype=np.int64) if node.op_type == "Shape"
                                      else np.array(numel(shape), dtype=np.int64))
            continue
        if node.op_type.startswith("Random") or node.op_type in ("Dropout", "Bernoulli"):
            continue
        ins = [t for t in node.input if t]
        if not all(t in values or t in pending for t in ins):
            continue
        if node.op_type == "Constant" and not _is_int_constant(node):
            continue
        out_shapes = [shapes.get(o) for o in node.output if o]
        if any((numel(s) or 0) > _FOLD_LIMIT for s in out_shapes):
            continue
        if node.op_type == "ConstantOfShape" and not all(is_known(s) for s in out_shapes):
            continue
        nodes.append(node)
        pending.update(o for o in node.output if o)
    if not nodes:
        return None
    needed = {t for n in nodes for t in n.input if t and t in values}
    sub = onnx.helper.make_graph(
        nodes, "shape_values", [],
        [onnx.helper.make_empty_tensor_value_info(o) for o in pending],
        [numpy_helper.from_array(np.asarray(values[t]), t) for t in sorted(needed)],
    )
    submodel = onnx.helper.make_model(sub, opset_imports=list(model.opset_import))
    try:
        results = ReferenceEvaluator(submodel).run(None, {})
    except Exception:  # the evaluator cannot run some op here; keep what inference found
        return None
    outputs = [o.name for o in sub.output]
    computed = {}
    for name, value in zip(outputs, results, strict=True):
        arr = np.asarray(value)
        if arr.size > _FOLD_LIMIT:
            return None
        computed[name] = arr
    folded = onnx.ModelProto()
    folded.CopyFrom(model)
    drop = {id(n) for n in nodes}
    keep = [n for n in graph.node if id(n) not in drop
            and not (n.op_type in ("Shape", "Size") and n.output[0] in values)]
    del folded.graph.node[:]
    folded.graph.node.extend(keep)
    del folded.graph.value_info[:]
    produced = {o for n in keep for o in n.output}
    static = {**{k: v for k, v in values.items() if k not in produced}, **computed}
    existing = {t.name for t in folded.graph.initializer}
    for name, value in static.items():
        if name not in existing:
            folded.graph.initializer.append(numpy_helper.from_array(np.asarray(value), name))
    try:
        return _infer(path, folded)
    except ModelError:
        return None


_TENSOR_ATTRS = frozenset({onnx.AttributeProto.TENSOR, onnx.AttributeProto.TENSORS,
                           onnx.AttributeProto.SPARSE_TENSOR, onnx.AttributeProto.SPARSE_TENSORS,
                           onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS})


def inline_only(node: onnx.NodeProto) -> bool:
    """Whether every tensor a node's attributes hold (Constant's and ConstantOfShape's
    ``value``, sparse values, the initializers and nodes of its bodies) is stored inline in the
    file. A node that is not is never evaluated: onnx's reference evaluator would read the
    tensor's external location, which names any file it likes."""
    for a in node.attribute:
        if a.type not in _TENSOR_ATTRS:
            continue
        tensors = [a.t, *a.tensors]
        for sp in [a.sparse_tensor, *a.sparse_tensors]:
            tensors += [sp.values, sp.indices]
        if any(t.data_location == onnx.TensorProto.EXTERNAL or t.external_data
               for t in tensors):
            return False
        for g in [a.g, *a.graphs]:
            stored = [*g.initializer, *(s for sp in g.sparse_initializer
                                        for s in (sp.values, sp.indices))]
            if any(t.data_location == onnx.TensorProto.EXTERNAL or t.external_data
                   for t in stored) or not all(map(inline_only, g.node)):
                return False
    return True


def _is_int_constant(node: onnx.NodeProto) -> bool:
    for a in node.attribute:
        if a.name == "value":
            return a.t.data_type in _INT_TYPES and a.t.data_location != onnx.TensorProto.EXTERNAL
        if a.name in ("value_int", "value_ints"):
            return True
    return False


def _correct_ceil_pools(graph: onnx.GraphProto, rows: NodeRows) -> bool:
    """Apply the pooling rule onnx's shape inference misses: with ceil_mode, a window that would
    start in the right padding is dropped (MaxPool in=3, k=1, s=3 gives 1, not 2, as onnxruntime
    and onnx's reference evaluator compute). Rewrites the annotations, in place, so that a second
    inference carries the corrected shapes downstream; True if any shape changed."""
    pools = [graph.node[i] for i, op in enumerate(rows.op_types)
             if op in ("MaxPool", "AveragePool", "LpPool") and rows.outputs[i]]
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


def _drop_weight_bytes(model: onnx.ModelProto) -> Stored:
    """Forget the values of large weights stored in the file, keeping their dims and type, and
    return those (one pass over what may be tens of thousands of tensors).

    Nothing here reads them, and onnx's shape inference copies the whole model: without the
    weights that copy is cheap. Integer tensors (shapes, axes, indices) and small float ones
    (Resize's scales) keep their values: inference reads those.
    """
    stored: Stored = {}
    for t in model.graph.initializer:
        stored[t.name] = (tuple(t.dims), t.data_type)
        if t.data_location == onnx.TensorProto.EXTERNAL:
            # Where the bytes are is of no use here; dropped, it is not copied into inference.
            # The location stays EXTERNAL: no value is taken from an empty tensor.
            del t.external_data[:]
        elif t.data_type not in _INT_TYPES and t.ByteSize() > _KEEP_BYTES:
            for name in ("raw_data", "float_data", "double_data", "int32_data", "uint64_data"):
                t.ClearField(name)
    return stored
