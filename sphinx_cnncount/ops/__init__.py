"""The operator handler table.

Handler contract (stated once, as fvcore does): a handler is a pure function of a
:class:`NodeView` (the node with the shapes of its inputs and outputs, all dims bound) that
returns a :class:`Cost`. It reads the node only through ``attr()``: the counter costs each
distinct (op, attributes, shapes, parameter flags) once and reuses the result. It counts over the whole output tensor, batch included, with exact
Python ints. It raises :class:`UnknownShape` when a shape it needs is not known; the counter
then reports the node and counts it as zero. Which inputs are parameters is declared next to the
handler (:class:`OpSpec`), not computed by it.

An op in :data:`ZERO_COST` moves or reshapes data and costs nothing. An op in neither table is
reported once per model as unsupported and counted as zero; the rest of the model still counts.
"""

from __future__ import annotations

from .base import Cost, NodeView, OpSpec, UnknownShape, zero_cost
from . import conv, elementwise, gemm, norm, pool, quant, recurrent, shape

HANDLERS: dict[str, OpSpec] = {
    **conv.OPS,
    **gemm.OPS,
    **pool.OPS,
    **norm.OPS,
    **elementwise.OPS,
    **recurrent.OPS,
    **quant.OPS,
    **shape.OPS,
}

ZERO_COST: frozenset[str] = frozenset(op for op, spec in HANDLERS.items() if spec.cost is zero_cost)

# Domains whose ops the table speaks for. Ops of any other domain are unsupported.
DOMAINS = frozenset({"", "ai.onnx", "com.microsoft"})


def spec_for(domain: str, op_type: str) -> OpSpec | None:
    """The handler entry of an op, or None when the table has no rule for it."""
    if domain not in DOMAINS:
        return None
    return HANDLERS.get(op_type)


__all__ = ["Cost", "NodeView", "OpSpec", "UnknownShape", "HANDLERS", "ZERO_COST", "spec_for"]
