"""Shape arithmetic evaluated: the values of the small integer tensors (Shape, Gather, Concat,
Equal, Where ... over bound dims) that onnx's data propagation gives up on, computed with onnx's
reference evaluator, so that the shapes they decide (Reshape targets, If conditions, Range
lengths) become known.

One call is one round; the inference driver repeats rounds until one learns nothing new.
What a round evaluates is bounded before anything runs:

* only default-domain ops, never random ones, never a node with a body;
* only values derived from bound dims and from tensors stored inline in the file: a node whose
  attributes hold external data is never evaluated (the evaluator would read its location);
* only nodes whose every output has a shape inference already knows, of at most
  :data:`FOLD_LIMIT` elements: a Range or ConstantOfShape whose length is not known yet waits
  for the round after its inputs are folded, when inference sees it; and integer outputs, or
  float ones of a few elements (a scale): a float tensor larger than that is a weight or an
  activation, and no shape depends on its values.
"""

from __future__ import annotations

from math import prod

import numpy as np
import onnx
from onnx import numpy_helper

from .bodies import has_body
from .shapes import Shape, is_known

FOLD_LIMIT = 1 << 16  # elements: shape arithmetic is small; weights are never folded
INT64_MAX = 2**63 - 1

INT_TYPES = frozenset({
    onnx.TensorProto.INT64, onnx.TensorProto.INT32, onnx.TensorProto.INT16,
    onnx.TensorProto.INT8, onnx.TensorProto.UINT8, onnx.TensorProto.BOOL,
    onnx.TensorProto.UINT16, onnx.TensorProto.UINT32, onnx.TensorProto.UINT64,
})
_SMALL_CONSTANT = 64  # elements of a float Constant folded too (a 0.5 in size arithmetic)
_NEVER = frozenset({"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike",
                    "Multinomial", "Bernoulli", "Dropout"})

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


def stored_values(graph: onnx.GraphProto) -> dict[str, np.ndarray]:
    """The inline integer initializers of a graph small enough to fold with."""
    values = {}
    for t in graph.initializer:
        if (t.data_location != onnx.TensorProto.EXTERNAL and t.data_type in INT_TYPES
                and prod(t.dims) <= FOLD_LIMIT):
            try:
                values[t.name] = numpy_helper.to_array(t)
            except (ValueError, TypeError):  # bytes that do not fit the dims: not a value
                continue
    return values


def _constant_value(node: onnx.NodeProto) -> bool:
    """Whether a Constant node holds a value worth folding: integers, or a small float."""
    for a in node.attribute:
        if a.name == "value" and a.type == onnx.AttributeProto.TENSOR:
            return a.t.data_type in INT_TYPES or prod(a.t.dims) <= _SMALL_CONSTANT
        if a.name in ("value_int", "value_ints", "value_float", "value_floats"):
            return True
    return False


def evaluate(graph: onnx.GraphProto, opsets: list[onnx.OperatorSetIdProto],
             shapes: dict[str, Shape], values: dict[str, np.ndarray],
             dtypes: dict[str, int] | None = None) -> dict[str, np.ndarray]:
    """One round: the values this round can compute, beyond ``values`` (which it reads: the
    graph's stored integers and what earlier rounds computed). ``dtypes``: the element types
    inference knows; a float output of more than a few elements is a weight or an activation,
    whose values decide no shape, and is not computed (a weight made by ConstantOfShape)."""
    dtypes = dtypes or {}
    known = set(values)
    new: dict[str, np.ndarray] = {}
    nodes: list[onnx.NodeProto] = []
    for node in graph.node:
        outs = [o for o in node.output if o]
        if not outs or all(o in known for o in outs):
            continue
        if node.domain not in ("", "ai.onnx") or node.op_type in _NEVER:
            continue
        if has_body(node):
            continue  # control flow: the driver inlines a branch it can decide
        if node.attribute and not inline_only(node):
            continue  # its value would be read from a file beside the model (or anywhere)
        if node.op_type in ("Shape", "Size"):
            value = _shape_value(node, shapes.get(node.input[0]) if node.input else None)
            if value is not None:
                new[outs[0]] = value
                known.add(outs[0])
            continue
        if not all(t in known for t in node.input if t):
            continue
        if node.op_type == "Constant" and not _constant_value(node):
            continue
        # Sizes are checked before anything runs: every output's shape is known and small.
        out_shapes = [shapes.get(o) for o in outs]
        if not all(is_known(s) and prod(s) <= FOLD_LIMIT for s in out_shapes):  # type: ignore[arg-type]
            continue
        if any(o in dtypes and dtypes[o] not in INT_TYPES and prod(s) > _SMALL_CONSTANT
               for o, s in zip(outs, out_shapes)):  # type: ignore[arg-type]
            continue
        nodes.append(node)
        known.update(outs)
    if nodes:
        new.update(_run(nodes, opsets, {**values, **new}))
    return new


def _shape_value(node: onnx.NodeProto, shape: Shape | None) -> np.ndarray | None:
    """Shape (with its start and end) or Size of a tensor whose shape is known."""
    if not is_known(shape):
        return None
    dims = list(shape)  # type: ignore[arg-type]
    if node.op_type == "Size":
        n = prod(dims)
        return np.array(n, dtype=np.int64) if n <= INT64_MAX else None
    attrs = {a.name: a.i for a in node.attribute if a.type == onnx.AttributeProto.INT}
    start, end = attrs.get("start", 0), attrs.get("end", len(dims))
    if max(dims, default=0) > INT64_MAX:
        return None
    return np.array(dims[start:end], dtype=np.int64)


def _run(nodes: list[onnx.NodeProto], opsets: list[onnx.OperatorSetIdProto],
         values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Evaluate ``nodes`` (in order) with onnx's reference evaluator; if the batch fails (an op
    the evaluator cannot run), each node that can still run on its own."""
    results = _evaluate(nodes, opsets, values)
    if results is not None:
        return results
    out: dict[str, np.ndarray] = {}
    for node in nodes:
        if not all(t in values or t in out for t in node.input if t):
            continue
        one = _evaluate([node], opsets, {**values, **out})
        if one:
            out.update(one)
    return out


def _evaluate(nodes: list[onnx.NodeProto], opsets: list[onnx.OperatorSetIdProto],
              values: dict[str, np.ndarray]) -> dict[str, np.ndarray] | None:
    from onnx.reference import ReferenceEvaluator

    produced = [o for n in nodes for o in n.output if o]
    own = set(produced)
    needed = sorted({t for n in nodes for t in n.input if t and t not in own})
    sub = onnx.helper.make_graph(
        nodes, "shape_values", [],
        [onnx.helper.make_empty_tensor_value_info(o) for o in produced],
        [numpy_helper.from_array(np.asarray(values[t]), t) for t in needed],
    )
    submodel = onnx.helper.make_model(sub, opset_imports=opsets)
    try:
        results = ReferenceEvaluator(submodel).run(None, {})
    except Exception:  # the evaluator cannot run some op here (or the values do not fit it)
        return None
    out = {}
    for name, value in zip(produced, results, strict=True):
        arr = np.asarray(value)
        if arr.size > FOLD_LIMIT or arr.dtype == object:
            return None
        out[name] = arr
    return out


def constant_nodes(node: onnx.NodeProto, values: dict[str, np.ndarray]) -> list[onnx.NodeProto]:
    """A folded node as the Constant nodes of its outputs' values (for inference's copy)."""
    return [onnx.helper.make_node("Constant", [], [o], name=node.name,
                                  value=numpy_helper.from_array(np.asarray(values[o]), o))
            for o in node.output if o]
