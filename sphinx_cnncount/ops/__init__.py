"""The op registry: everything the counter knows about an op, one entry per (domain, op).

Handler contract (stated once, as fvcore does): a handler (``Op.cost``) is a pure function of
a :class:`NodeView` (the node with the shapes of its inputs and outputs, all dims bound) that
returns a :class:`Cost`. It reads the node only through ``attr()``: the counter costs each
distinct (op, attributes, shapes, parameter flags) once and reuses the result. It counts over
the whole output tensor, batch included, with exact Python ints. It raises
:class:`UnknownShape` when a shape it needs is not known; the counter then reports the node and
leaves the figures it could have (``Op.metrics``) unknown (None), never zero. Which inputs are
parameters is declared in the entry (``Op.params``, ``Op.fixed``), not computed by the handler.

Each family of ops has its file (``conv.py``, ``gemm.py``, ``pool.py``, ``norm.py``,
``elementwise.py``, ``attention.py``, ``recurrent.py``, ``quant.py``, ``movement.py``,
``ml.py``, ``image.py``, ``signal.py``, ``loss.py``, ``training.py``), for the standard domains
(every op of onnx's schemas, in every opset: ``tests/test_registry.py`` checks it) and
onnxruntime's contrib ops (``com.microsoft``) alike; the
rest of the counter looks entries up here (:func:`lookup`), never by op name. An op with no
entry is reported once per model as unsupported, its cost unknown; the rest of the model still
counts.
"""

from __future__ import annotations

from .base import (Axes, Cost, DataSize, Field, NodeView, Op, Role, ShapeRule, Uncountable,
                   UnknownShape, Window, zero_cost)
from . import (attention, conv, elementwise, gemm, image, loss, ml, movement, norm, pool, quant,
               recurrent, signal, training)

MS_DOMAIN = "com.microsoft"
ML_DOMAIN = "ai.onnx.ml"

REGISTRY: dict[tuple[str, str], Op] = {}
for _family in (conv, gemm, pool, norm, elementwise, attention, recurrent, quant, movement, ml,
                image, signal, loss, training):
    for _key, _entry in _family.OPS.items():
        assert _key not in REGISTRY, _key  # one entry per op
        REGISTRY[_key] = _entry

ZERO_COST: frozenset[str] = frozenset(op for (domain, op), e in REGISTRY.items()
                                      if domain == "" and e.cost is zero_cost)
# The ops that only re-type or re-arrange data (a quantizer's, a Transpose): never a layer's Type.
RETYPING: frozenset[str] = frozenset(op for (_, op), e in REGISTRY.items()
                                     if e.role is Role.LAYOUT)
# The ops that make a layer what it is (a product, a pool): the table's Type names them.
ANCHORS: frozenset[str] = frozenset(op for (_, op), e in REGISTRY.items()
                                    if e.role in (Role.LINEAR, Role.POOL))


def lookup(domain: str, op_type: str) -> Op | None:
    """The registry's entry of an op, or None when it has none (``ai.onnx`` is the default
    domain's other name)."""
    return REGISTRY.get(("" if domain == "ai.onnx" else domain, op_type))


def shape_rule(domain: str, op_type: str) -> ShapeRule | None:
    """The shape rule of an op onnx's inference does not know, or None."""
    e = lookup(domain, op_type)
    return None if e is None else e.shape


__all__ = ["ANCHORS", "RETYPING", "Axes", "Cost", "DataSize", "Field", "NodeView", "Op", "REGISTRY", "Role",
           "Uncountable", "UnknownShape", "Window", "ZERO_COST", "lookup", "shape_rule"]
