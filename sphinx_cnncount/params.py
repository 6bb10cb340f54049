"""What a parameter is: stored data that a learnable slot reads.

* Stored data: an initializer, a Constant node, a constant subgraph over them (a transposed
  weight, a weight norm's ``g * v / |v|``, a ConstantOfShape with a stored shape), counted as
  the stored tensors it is made of; the integer tensor behind a DequantizeLinear or a
  ``Cast(int8) * scale`` counts as the weight it stands for. A run-time constant, made from an
  activation's shape (``ConstantOfShape(Shape(x))``, a Range grid, a zero initial state, an
  anchor grid), is never a parameter, however it is built.
* A learnable slot: one an op's table entry declares (a Conv weight and bias, a norm's scale and
  shift, BatchNormalization's running statistics as non-trainable), or any other slot that reads
  a non-scalar float constant (the bias Add of a decomposed layer, a class token, an RBF layer's
  centres) or 8-bit or narrower integers (a quantized embedding table behind a Gather).
  int32/int64 and bool constants (shapes, axes, indices) and scalars (epsilons, ``1/sqrt(d)``,
  zero points) never are; nor are the scales and zero points of a quantized weight.
"""

from __future__ import annotations

from math import prod

import onnx

from .control import Decision, subgraphs
from .graph import Graph
from .memory import tensor_bytes
from .ops import Op, lookup
from .shapes import Diagnostic, Shape, numel

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
# The element types of a quantized weight: never shapes, axes or indices (those are int32/int64),
# so a tensor of them that a node reads (an embedding table behind a Gather) is a weight.
QUANTIZED_TYPES = frozenset({
    onnx.TensorProto.INT8, onnx.TensorProto.UINT8,
    *(getattr(onnx.TensorProto, n) for n in ("INT4", "UINT4", "INT2", "UINT2")
      if hasattr(onnx.TensorProto, n)),
})

# Ops whose output is a stored tensor in its own right (its input, if any, is only a shape).
STORED_OPS = frozenset({"Constant", "ConstantOfShape"})
_DEQUANTIZE_OPS = frozenset({"DequantizeLinear", "QuantizeLinear"})
# The arithmetic of a hand-written dequantization: (Cast(q) - zero_point) * scale.
_DEQUANTIZE_ARITHMETIC = frozenset({"Mul", "Div", "Sub", "Add"})


def param_slot(spec: Op | None, slot: int, t: str, shapes: dict[str, Shape],
               dtypes: dict[str, int]) -> bool | None:
    """Whether constant input ``t`` at ``slot`` reads parameters: None if not, else whether
    trainable. (Which stored tensors it reads, if any, is :func:`param_leaves`'s to say: a
    run-time constant reads none.)"""
    if spec is not None and slot in spec.params:
        # A weight slot holds numbers: float, or the integers of a quantized weight. A string,
        # bool or untyped tensor there is no parameter (the file is malformed).
        return spec.params[slot] if dtypes.get(t) in NUMERIC_TYPES else None
    if spec is not None and slot in spec.fixed:
        return None
    if dtypes.get(t) not in FLOAT_TYPES and dtypes.get(t) not in QUANTIZED_TYPES:
        return None  # shapes, axes, indices: never parameters
    n = numel(shapes.get(t))
    if n is None or n <= 1:
        return None  # a scalar constant (epsilon, 1/sqrt(d), an exponent, a zero point)
    return True


def param_leaves(g: Graph, t: str, dtypes: dict[str, int]) -> list[str]:
    """The stored tensors a constant operand is made of: itself when stored, else the float
    tensors of the constant subgraph that computes it, or the integer tensor behind a
    dequantization. Shapes, axes, indices, quantization scales and zero points, and run-time
    constants feeding that subgraph are not parameters."""
    leaves: list[str] = []
    stack = [(t, False)]
    seen: set[str] = set()
    while stack:
        x, quantized = stack.pop()
        if x in seen or not x:
            continue
        seen.add(x)
        node = g.nodes[g.producer[x]] if x in g.producer else None
        if node is None or node.op_type in STORED_OPS or not any(node.input):
            if x in g.runtime:
                continue  # made at run time from an activation's shape: stores nothing
            if dtypes.get(x) in FLOAT_TYPES or (quantized and dtypes.get(x) in INT_TYPES) \
                    or x == t:
                leaves.append(x)  # (a quantized weight behind a Cast is 8-bit or narrower)
        elif node.op_type in _DEQUANTIZE_OPS:
            stack.append((node.input[0], True))  # the weight; not its scale and zero point
        elif node.op_type == "Cast" and dtypes.get(node.input[0]) in QUANTIZED_TYPES:
            stack.append((node.input[0], True))  # an 8-bit weight read as float
        elif node.op_type in _DEQUANTIZE_ARITHMETIC and any(
                _dequantized(g, u, dtypes) for u in node.input):
            # (Cast(q) - zero_point) * scale: the weight is q; the rest are its quantization
            stack.extend((u, True) for u in reversed(node.input) if _dequantized(g, u, dtypes))
        elif node.op_type not in ("Shape", "Size"):
            stack.extend((u, quantized) for u in reversed(node.input) if u in g.constants)
    return leaves


def _dequantized(g: Graph, x: str, dtypes: dict[str, int], depth: int = 0) -> bool:
    """Whether ``x`` is an integer tensor read as float: a Cast of one, or arithmetic on one."""
    i = g.producer.get(x)
    if i is None or depth > 8:
        return False
    node = g.nodes[i]
    if node.op_type == "Cast":
        return dtypes.get(node.input[0]) in QUANTIZED_TYPES
    if node.op_type in _DEQUANTIZE_ARITHMETIC:
        return any(_dequantized(g, u, dtypes, depth + 1) for u in node.input)
    return False


class ParamStep:
    """Parameters, one node at a time, as counting's walk passes each node (``visit``): which
    input slots of the node read parameters (returned: what the cost handler and the backward
    pass need), each stored tensor counted once in the layer that reads it first (``params``:
    per layer, trainable and non-trainable, None where a tensor's size is unknown), their bytes
    as stored (``bytes``), and the parameters a control-flow node's bodies read, at any depth.
    """

    def __init__(self, g: Graph, n_layers: int, shapes: dict[str, Shape],
                 dtypes: dict[str, int], diagnostics: list[Diagnostic]) -> None:
        self.g, self.shapes, self.dtypes = g, shapes, dtypes
        self.diagnostics = diagnostics
        self.owner: set[str] = set()  # the stored tensors already counted
        self.params: list[list[int | None]] = [[0, 0] for _ in range(n_layers)]
        self.bytes: list[int | None] = [0, 0]  # trainable, non-trainable

    def visit(self, i: int, li: int, entry: Op | None, operands: tuple[str, ...],
              n_inputs: int) -> list[bool]:
        """Count node ``i``'s parameters into layer ``li``; per input slot (of the first
        ``n_inputs`` of ``operands``: a body's captures follow), whether it reads one."""
        g, shapes, dtypes = self.g, self.shapes, self.dtypes
        flags = [False] * n_inputs
        if g.constants.isdisjoint(operands):
            return flags
        for slot, t in enumerate(operands):
            trainable = param_slot(entry, slot, t, shapes, dtypes) if t in g.constants else None
            if trainable is None:
                continue
            # A stored tensor is its own leaf; a computed constant is made of its leaves (none,
            # for a run-time constant: a zero state, a Range grid).
            leaves = param_leaves(g, t, dtypes) if t in g.producer else [t]
            if slot < n_inputs and leaves:
                flags[slot] = True
            for root in leaves:
                self._leaf(root, t, trainable, li, i)
        return flags

    def _leaf(self, root: str, t: str, trainable: bool, li: int, i: int) -> None:
        g, shapes, dtypes = self.g, self.shapes, self.dtypes
        if root in self.owner:
            return
        n = prod(shapes[root]) if root in g.initializers else numel(shapes.get(root))
        if root != t and (n or 0) <= 1 and dtypes.get(root) in FLOAT_TYPES:
            return  # a scalar folded into the weight (an epsilon, a scale)
        self.owner.add(root)
        k = 0 if trainable else 1
        if n is None:
            self.diagnostics.append(Diagnostic(
                "unknown-shape", f"parameter {root!r} has no known shape; its layer's "
                "parameters are unknown", g.names[i], g.rows.op_types[i]))
            self.params[li][k] = None
            return
        self._add(li, k, n, dtypes.get(root))

    def _add(self, li: int, k: int, n: int, dtype: int | None) -> None:
        """``n`` elements of ``dtype`` more in layer ``li`` (``k``: 0 trainable, 1 not)."""
        if self.params[li][k] is not None:
            self.params[li][k] += n  # type: ignore[operator]
        size = tensor_bytes((n,), dtype)
        if size is None or self.bytes[k] is None:
            self.bytes[k] = None
        else:
            self.bytes[k] += size  # type: ignore[operator]

    def attributes(self, li: int, node: onnx.NodeProto, entry: Op) -> None:
        """Numbers an op holds in its attributes (a linear model's coefficients, ai.onnx.ml)."""
        if entry.attr_params and self.params[li][0] is not None:
            n = sum(len(a.floats) or (prod(a.t.dims) if a.HasField("t") else 0)
                    for a in node.attribute if a.name in entry.attr_params)
            self._add(li, 0, n, onnx.TensorProto.FLOAT)

    def bodies_of(self, li: int, node: onnx.NodeProto, name: str) -> None:
        """The parameters a node's bodies read, every branch at any depth, counted in its layer
        (a model's weights are its parameters whichever branch runs, as a framework counts
        them)."""
        self._body_total(li, sum(self._graph_params(body, f"{name}/{attr}", {})
                                 for attr, body in subgraphs(node)))

    def untaken(self, li: int, decision: Decision) -> None:
        """The parameters of the branch a decided If did not take, counted in the layer that
        now writes the If's output."""
        if decision.untaken is not None:
            other = "then_branch" if decision.branch == "else_branch" else "else_branch"
            self._body_total(li, self._graph_params(decision.untaken,
                                                    f"{decision.node}/{other}", {}))

    def _body_total(self, li: int, n: int) -> None:
        if self.params[li][0] is not None:
            self.params[li][0] += n  # type: ignore[operator]

    def _graph_params(self, body: onnx.GraphProto, prefix: str,
                      enclosing: dict[str, tuple[tuple[int, ...], int, str]]) -> int:
        """The parameters a body reads, at any depth, each counted once: what the same rule as
        the main graph's finds (:func:`param_slot`) when it reads a tensor stored in the body
        or an enclosing one (an initializer, a Constant node) or a stored tensor of the outer
        graph it captures. The body as the file has it: both branches of an If inside it.
        ``enclosing``: the stored tensors of the bodies around this one (dims, type, key)."""
        stored = {**enclosing, **_stored(body, prefix)}
        total = 0
        for inner in body.node:
            total += self._body_node(inner, stored)
            for attr, sub in subgraphs(inner):
                total += self._graph_params(sub, f"{prefix}/{inner.name or inner.op_type}/{attr}",
                                            stored)
        return total

    def _body_node(self, inner: onnx.NodeProto,
                   stored: dict[str, tuple[tuple[int, ...], int, str]]) -> int:
        entry = lookup(inner.domain, inner.op_type)
        total = 0
        for slot, t in enumerate(inner.input):
            if t in stored:
                dims, dtype, key = stored[t]
            elif t in self.g.initializers:
                dims, dtype, key = self.shapes.get(t), self.dtypes.get(t), t  # type: ignore
            else:
                continue
            if key in self.owner or dims is None:
                continue
            trainable = param_slot(entry, slot, t, {t: dims}, {t: dtype})
            if trainable is None or (numel(dims) or 0) < 1:
                continue
            self.owner.add(key)
            total += numel(dims)  # type: ignore[operator]
            size = tensor_bytes((numel(dims),), dtype)
            self.bytes[0] = None if size is None or self.bytes[0] is None \
                else self.bytes[0] + size  # type: ignore[operator]
        return total


def _stored(g: onnx.GraphProto, prefix: str) -> dict[str, tuple[tuple[int, ...], int, str]]:
    """A body's stored tensors (initializers, Constant nodes): dims, type, a key unique to it."""
    out = {t.name: (tuple(t.dims), t.data_type, f"{prefix}/{t.name}") for t in g.initializer}
    out.update((n.output[0], (tuple(a.t.dims), a.t.data_type, f"{prefix}/{n.output[0]}"))
               for n in g.node if n.op_type == "Constant" and n.output for a in n.attribute
               if a.name == "value" and a.type == onnx.AttributeProto.TENSOR)
    return out
