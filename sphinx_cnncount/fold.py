"""Shape arithmetic evaluated: the values of the small integer tensors (Shape, Gather, Concat,
Equal, Where ... over bound dims) that onnx's data propagation gives up on, one node at a time,
so that the shapes they decide (Reshape targets, If conditions, Range lengths) become known.

What a node computes is bounded before it runs, from the values of its inputs themselves:
onnx's own inference of that one node, given those values (``infer_node_outputs``), says every
output's shape, and the node runs only when each is known and small. A shape the file declares
is never trusted here. Besides:

* only the default domain's shape-arithmetic ops run (the registry's ``Op.folds``:
  elementwise, indexing, reshaping and reducing ops whose work is linear in their inputs and
  outputs), never a product (MatMul, Conv), a random op or a node with a body;
* a node whose attributes hold external data never runs (onnx's reference evaluator would read
  its location, which names any file it likes);
* integer and bool outputs of at most :data:`~limits.VALUE_LIMIT` elements, float ones of at
  most :data:`~limits.SMALL_FLOAT` (a scale): a larger float tensor is a weight or an
  activation, and no shape depends on its values;
* every byte read or computed is charged to the model's :class:`~limits.Budget`.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from .limits import SMALL_FLOAT, VALUE_LIMIT, Budget
from .ops import lookup

INT64_MAX = 2**63 - 1

# Element types whose values can decide a shape: the integer types exporters write shapes,
# axes and indices in, and bool (an If's condition). Narrower integers are quantized weights.
VALUE_TYPES = frozenset({onnx.TensorProto.INT64, onnx.TensorProto.INT32, onnx.TensorProto.BOOL})
_FLOATS = frozenset({onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16,
                     onnx.TensorProto.BFLOAT16})

_TENSOR_ATTRS = frozenset({onnx.AttributeProto.TENSOR, onnx.AttributeProto.TENSORS,
                           onnx.AttributeProto.SPARSE_TENSOR, onnx.AttributeProto.SPARSE_TENSORS,
                           onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS})


def is_external(t: onnx.TensorProto) -> bool:
    return t.data_location == onnx.TensorProto.EXTERNAL or bool(t.external_data)


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
        if any(map(is_external, tensors)):
            return False
        for g in [a.g, *a.graphs]:
            stored = [*g.initializer, *(s for sp in g.sparse_initializer
                                        for s in (sp.values, sp.indices))]
            if any(map(is_external, stored)) or not all(map(inline_only, g.node)):
                return False
    return True


def stored_values(graph: onnx.GraphProto, budget: Budget) -> dict[str, np.ndarray]:
    """The inline initializers of a graph that can decide a shape (:data:`VALUE_TYPES`, at most
    VALUE_LIMIT elements), each charged to ``budget`` before it is read."""
    values = {}
    for t in graph.initializer:
        if t.data_location == onnx.TensorProto.EXTERNAL or t.data_type not in VALUE_TYPES:
            continue
        n = prod(t.dims)
        if n > VALUE_LIMIT:
            continue
        budget.charge(8 * n)
        try:
            values[t.name] = numpy_helper.to_array(t)
        except (ValueError, TypeError):  # bytes that do not fit the dims: not a value
            continue
    return values


def shape_value(op: str, shape: tuple[int, ...], start: int = 0, end: int | None = None
                ) -> np.ndarray | None:
    """What Shape (with its start and end) or Size computes from a known shape."""
    if op == "Size":
        n = prod(shape)
        return np.array(n, dtype=np.int64) if n <= INT64_MAX else None
    if max(shape, default=0) > INT64_MAX:
        return None
    return np.array(shape[start:end], dtype=np.int64)


class Folder:
    """Evaluates single nodes with the implementations of onnx's reference evaluator
    (``onnx.reference.ops``), one instance per distinct (op, attributes); and remembers each
    distinct computation (op, attributes, input values): a model repeats the same few shape
    computations in every block."""

    def __init__(self, opsets: Sequence[onnx.OperatorSetIdProto], ir_version: int,
                 budget: Budget) -> None:
        self.opsets = list(opsets)
        self.versions = {o.domain or "": o.version for o in opsets}
        self.ir_version = ir_version
        self.budget = budget
        self._ops: dict[tuple[Any, ...], Any] = {}
        self._schemas: dict[str, onnx.defs.OpSchema | None] = {}
        self._done: dict[tuple[Any, ...], dict[str, np.ndarray] | None] = {}

    def foldable(self, node: onnx.NodeProto) -> bool:
        if node.domain not in ("", "ai.onnx"):
            return False
        op = lookup("", node.op_type)
        return op is not None and op.folds and (not node.attribute or inline_only(node))

    def run(self, node: onnx.NodeProto, arrays: list[np.ndarray | None]
            ) -> dict[str, np.ndarray] | None:
        """The values of ``node``'s outputs computed from its inputs' values (None for an
        absent optional input), or None when they would be large, the op cannot tell their
        sizes from these values, or the evaluator fails."""
        attrs = tuple(a.SerializeToString() for a in node.attribute)
        key = (node.op_type, attrs, tuple(bool(o) for o in node.output),
               tuple(None if a is None else (a.dtype, a.shape, a.tobytes()) for a in arrays))
        if key in self._done:
            done = self._done[key]
            if done is None:
                return None
            self.budget.charge(sum(8 * a.size for a in done.values()))
            outs = [o for o in node.output if o]
            return dict(zip(outs, done.values(), strict=True))
        done = self._run(node, attrs, arrays)
        self._done[key] = done
        return done

    def _run(self, node: onnx.NodeProto, attrs: tuple[bytes, ...],
             arrays: list[np.ndarray | None]) -> dict[str, np.ndarray] | None:
        outs = [o for o in node.output if o]
        sizes = self._output_sizes(node, arrays)
        if sizes is None or len(sizes) != len(outs):
            return None
        nbytes = 0
        for n, dtype in sizes:
            if n > (VALUE_LIMIT if dtype in VALUE_TYPES else SMALL_FLOAT if dtype in _FLOATS
                     else 0):
                return None
            nbytes += 8 * n
        self.budget.charge(nbytes)
        results = self._evaluate(node, attrs, arrays)
        if results is None:
            return None
        out = {}
        for name, value, (n, _) in zip(node.output, results, sizes, strict=False):
            arr = np.asarray(value)
            if arr.dtype == object or arr.size != n:
                return None
            if name:
                out[name] = arr
        return out

    def _output_sizes(self, node: onnx.NodeProto, arrays: list[np.ndarray | None]
                      ) -> list[tuple[int, int]] | None:
        """(elements, element type) of each output, from onnx's inference of this node given
        its inputs' values: never from a shape the file declares."""
        if node.op_type == "Constant":
            return _constant_size(node)
        schema = self._schema(node.op_type)
        if schema is None:
            return None
        types, data = {}, {}
        for name, arr in zip(node.input, arrays, strict=False):
            if not name or arr is None:
                continue
            elem = onnx.helper.np_dtype_to_tensor_dtype(arr.dtype)
            types[name] = onnx.helper.make_tensor_type_proto(elem, arr.shape)
            data[name] = numpy_helper.from_array(arr, name)
        try:
            inferred = onnx.shape_inference.infer_node_outputs(
                schema, node, types, data, opset_imports=self.opsets, ir_version=self.ir_version)
        except Exception:  # onnx raises several types; each means: these values do not fit
            return None
        sizes = []
        for o in node.output:
            if not o:
                continue
            tp = inferred.get(o)
            if tp is None or not tp.HasField("tensor_type") or not tp.tensor_type.HasField("shape"):
                return None
            dims = tp.tensor_type.shape.dim
            if not all(d.HasField("dim_value") for d in dims):
                return None
            sizes.append((prod(d.dim_value for d in dims), tp.tensor_type.elem_type))
        return sizes

    def _schema(self, op: str) -> onnx.defs.OpSchema | None:
        if op not in self._schemas:
            try:
                self._schemas[op] = onnx.defs.get_schema(op, self.versions.get("", 1), "")
            except onnx.defs.SchemaError:
                self._schemas[op] = None
        return self._schemas[op]

    def _evaluate(self, node: onnx.NodeProto, attrs: tuple[bytes, ...],
                  arrays: list[np.ndarray | None]) -> list[Any] | None:
        version = self.versions.get("", 1)
        key = (node.op_type, attrs, version)
        op = self._ops.get(key)
        if op is None:
            op = self._ops[key] = _implementation(node, version)
        if op is False:
            return None
        try:
            return list(op.run(*arrays))
        except Exception:  # the values do not fit the op (a malformed file)
            return None


def _implementation(node: onnx.NodeProto, version: int) -> Any:
    """An instance of onnx's reference implementation of ``node`` (False where it has none)."""
    from onnx.reference import ReferenceEvaluator
    from onnx.reference.ops import load_op

    params = {"log": lambda *args: None, "opsets": {"": version}, "verbose": 0,
              "new_ops": None, "existing_functions": {}, "evaluator_cls": ReferenceEvaluator}
    try:
        return load_op("", node.op_type, version)(node, params)
    except Exception:  # an op or attribute the evaluator cannot load
        return False


def _constant_size(node: onnx.NodeProto) -> list[tuple[int, int]] | None:
    """A Constant's size, from its attribute (inline, checked by :func:`inline_only`)."""
    for a in node.attribute:
        if a.name == "value" and a.type == onnx.AttributeProto.TENSOR:
            return [(prod(a.t.dims), a.t.data_type)]
        if a.name == "value_int":
            return [(1, onnx.TensorProto.INT64)]
        if a.name == "value_ints":
            return [(len(a.ints), onnx.TensorProto.INT64)]
        if a.name == "value_float":
            return [(1, onnx.TensorProto.FLOAT)]
        if a.name == "value_floats":
            return [(len(a.floats), onnx.TensorProto.FLOAT)]
    return None
