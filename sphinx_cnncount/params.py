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

import onnx

from .graph import Graph
from .ops import Op
from .shapes import Shape, numel

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
