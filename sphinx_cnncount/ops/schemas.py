"""onnx schemas for the ops onnx has none for (onnxruntime's contrib ops), whose type and shape
inference functions are this package's shape rules (``ops.shape_rule``).

With them registered, onnx's own ``infer_shapes`` carries shapes through a contrib op in the
same pass as every other op, so a transformer of 48 contrib nodes is inferred once, not in 48
rounds. They are registered only around one inference (:func:`registered`) and removed after
it, so that nothing else in the process sees them (onnx's reference evaluator, for one,
refuses an op name two domains share), and only for ops onnx does not already know (a newer
onnx, or a schema someone else registered, wins). The inference function never raises: a rule
that cannot tell leaves the outputs to the counter's own rounds and diagnostics.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import onnx
from onnx import defs, helper

from ..shapes import Shape, shape_of
from . import MS_DOMAIN, REGISTRY, ShapeRule
from .base import NodeView

# Every tensor element type: the schemas accept whatever the file says; types are not checked.
_ALL_TYPES = [f"tensor({t})" for t in (
    "float", "float16", "double", "bfloat16", "int8", "uint8", "int16", "uint16", "int32",
    "uint32", "int64", "uint64", "bool", "string")]

# The element type of an output, where it is not the first input's: (op, output) -> (the input
# slot whose type it has, or None; the type when that slot is absent).
_ELEM_TYPES: dict[tuple[str, int], tuple[int | None, int]] = {
    ("EmbedLayerNormalization", 0): (3, onnx.TensorProto.FLOAT),  # the embeddings', not the ids'
    ("EmbedLayerNormalization", 1): (None, onnx.TensorProto.INT32),
    ("EmbedLayerNormalization", 2): (3, onnx.TensorProto.FLOAT),
    ("QEmbedLayerNormalization", 0): (None, onnx.TensorProto.FLOAT),
    ("QEmbedLayerNormalization", 1): (None, onnx.TensorProto.INT32),
    ("MatMulIntegerToFloat", 0): (2, onnx.TensorProto.FLOAT),  # a_scale's
    ("QAttention", 0): (3, onnx.TensorProto.FLOAT),  # input_scale's
    ("QAttention", 1): (3, onnx.TensorProto.FLOAT),
    ("DequantizeLinear", 0): (1, onnx.TensorProto.FLOAT),  # the scale's
    ("QuantizeLinear", 0): (2, onnx.TensorProto.UINT8),  # the zero point's
    ("QGemm", 0): (7, onnx.TensorProto.FLOAT),  # the output zero point's: else float
}


@contextmanager
def registered(domains: set[str]) -> Iterator[None]:
    """The schemas of the ops of ``domains`` (the model's opset imports) that have a shape rule
    and no onnx schema, registered for the duration of the block."""
    # onnx's reference evaluator (folding's) refuses, when first imported, an op name that two
    # domains share: it is imported before any contrib schema is registered.
    import onnx.reference  # noqa: F401

    added: list[tuple[str, int, str]] = []
    try:
        for (domain, op), entry in REGISTRY.items():
            if domain not in domains or entry.shape is None or domain not in _DOMAINS:
                continue
            if defs.has(op, domain):
                continue
            schema = defs.OpSchema(
                op, domain, 1,
                inputs=[_variadic("inputs", 0)], outputs=[_variadic("outputs", 1)],
                type_constraints=[("T", _ALL_TYPES, "any tensor")])
            schema.set_type_and_shape_inference_function(_inference(op, entry.shape))
            try:
                defs.register_schema(schema)
            except Exception:  # someone registered it meanwhile: theirs stands
                continue
            added.append((op, 1, domain))
        yield
    finally:
        for op, version, domain in reversed(added):
            defs.deregister_schema(op, version, domain)


# onnxruntime's contrib ops, and the one it registers in the default domain (opset 1): RMSNorm.
# (LayerNormalization below opset 17 keeps to the counter's own pass: an onnx schema of
# LayerNormalization exists, for later opsets.)
_DOMAINS = (MS_DOMAIN, "")


def _variadic(name: str, min_arity: int) -> defs.OpSchema.FormalParameter:
    return defs.OpSchema.FormalParameter(
        name, "T", param_option=defs.OpSchema.FormalParameterOption.Variadic,
        is_homogeneous=False, min_arity=min_arity)


@dataclass(frozen=True)
class _ContextView(NodeView):
    """A NodeView over onnx's inference context: attributes are read from it by name."""

    context: Any = None

    def attr(self, name: str, default: Any = None) -> Any:
        a = self.context.get_attribute(name)
        return default if a is None else helper.get_attribute_value(a)


def _inference(op: str, rule: ShapeRule):
    def infer(ctx: Any) -> None:
        try:
            _apply(op, rule, ctx)
        except Exception:  # a rule that cannot tell: the outputs stay unknown, onnx goes on
            return

    return infer


def _apply(op: str, rule: ShapeRule, ctx: Any) -> None:
    types = [ctx.get_input_type(i) if ctx.has_input(i) else None
             for i in range(ctx.get_num_inputs())]
    shapes = tuple(_shape(t) for t in types)
    node = onnx.NodeProto(op_type=op, output=[f"out{i}" if ctx.has_output(i) else ""
                                              for i in range(ctx.get_num_outputs())])
    out = rule(_ContextView(node, shapes, (), (), context=ctx))
    for i, shape in enumerate(out):
        if i >= ctx.get_num_outputs() or not ctx.has_output(i):
            continue
        elem = _elem(op, i, types)
        if not elem:
            continue
        tp = helper.make_tensor_type_proto(
            elem, None if shape is None else [d if isinstance(d, (int, str)) else None
                                              for d in shape])
        ctx.set_output_type(i, tp)


def _shape(t: onnx.TypeProto | None) -> Shape | None:
    return None if t is None else shape_of(t)


def _elem(op: str, i: int, types: list[onnx.TypeProto | None]) -> int:
    slot, fallback = _ELEM_TYPES.get((op, i), (0, 0))
    t = types[slot] if slot is not None and slot < len(types) else None
    if t is not None and t.HasField("tensor_type") and t.tensor_type.elem_type:
        return t.tensor_type.elem_type
    return fallback
