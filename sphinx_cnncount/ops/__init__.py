"""The operator handler table.

Handler contract (stated once, as fvcore does): a handler is a pure function of a
:class:`NodeView` (the node with the shapes of its inputs and outputs, all dims bound) that
returns a :class:`Cost`. It reads the node only through ``attr()``: the counter costs each
distinct (op, attributes, shapes, parameter flags) once and reuses the result. It counts over the whole output tensor, batch included, with exact
Python ints. It raises :class:`UnknownShape` when a shape it needs is not known; the counter
then reports the node and counts it as zero. Which inputs are parameters is declared next to the
handler (:class:`OpSpec`), not computed by it.

An op in :data:`ZERO_COST` moves or reshapes data and costs nothing. An op in neither table is
reported once per model as unsupported, its cost unknown; the rest of the model still counts.

Shape rules (:func:`shape_rule`) are a second, smaller table: for the ops onnx's shape inference
has no schema for (onnxruntime's contrib ops, ``ops/contrib.py``) or leaves unknown at some
opsets (function ops such as GroupNormalization). A rule is a pure function of a NodeView
whose ``inputs`` are the input shapes, returning one shape per output.
"""

from __future__ import annotations

from collections.abc import Callable

from ..shapes import Shape
from .base import Cost, NodeView, OpSpec, UnknownShape, zero_cost
from . import contrib, conv, elementwise, gemm, ml, norm, pool, quant, recurrent, shape

HANDLERS: dict[str, OpSpec] = {
    **conv.OPS,
    **gemm.OPS,
    **pool.OPS,
    **norm.OPS,
    **elementwise.OPS,
    **recurrent.OPS,
    **quant.OPS,
    **shape.OPS,
    **contrib.DEFAULT_DOMAIN_OPS,
}
CONTRIB_HANDLERS: dict[str, OpSpec] = contrib.OPS  # domain com.microsoft
ML_HANDLERS: dict[str, OpSpec] = ml.OPS  # domain ai.onnx.ml

ZERO_COST: frozenset[str] = frozenset(op for op, spec in HANDLERS.items() if spec.cost is zero_cost)

MS_DOMAIN = "com.microsoft"
ML_DOMAIN = "ai.onnx.ml"


def spec_for(domain: str, op_type: str) -> OpSpec | None:
    """The handler entry of an op, or None when the table has no rule for it (ops of any
    domain but the default one and com.microsoft are unsupported)."""
    if domain in ("", "ai.onnx"):
        return HANDLERS.get(op_type)
    if domain == MS_DOMAIN:
        return CONTRIB_HANDLERS.get(op_type)
    if domain == ML_DOMAIN:
        return ML_HANDLERS.get(op_type)
    return None


ShapeRule = Callable[[NodeView], tuple[Shape | None, ...]]

# Default-domain ops whose first output has the shape of their first input, which onnx's
# inference leaves unknown at some opsets (GroupNormalization and other function ops).
SAME_SHAPE_OPS = frozenset({
    "GroupNormalization", "LayerNormalization", "InstanceNormalization", "BatchNormalization",
    "Relu", "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Gelu", "Mish",
    "Elu", "Selu", "Celu", "Softplus", "Softsign", "Softmax", "LogSoftmax", "Swish", "Clip",
    "Dropout", "Identity", "LRN",
})
_SHAPES: dict[str, dict[str, ShapeRule]] = {
    "": {**{op: contrib.same_shape() for op in SAME_SHAPE_OPS}, **contrib.DEFAULT_DOMAIN_SHAPES},
    MS_DOMAIN: contrib.SHAPES,
    # onnx's inference leaves these unknown: each output has its input's shape.
    ML_DOMAIN: {op: contrib.same_shape() for op in ("Normalizer", "Scaler", "Binarizer")},
}


def shape_rule(domain: str, op_type: str) -> ShapeRule | None:
    """The shape rule of an op onnx's inference does not know, or None."""
    return _SHAPES.get("" if domain == "ai.onnx" else domain, {}).get(op_type)


__all__ = ["Cost", "NodeView", "OpSpec", "UnknownShape", "HANDLERS", "CONTRIB_HANDLERS",
           "ZERO_COST", "spec_for", "shape_rule"]
