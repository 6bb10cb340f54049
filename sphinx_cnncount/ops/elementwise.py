"""Elementwise arithmetic, activations and reductions, and onnxruntime's quantized and fused
ones (com.microsoft).

Elementwise ops add no connections (an activation, or a coefficient, scales connections that
already exist), except that adding a parameter tensor is a bias: +1 per output unit. A
reduction connects each output unit to every input unit it reduces.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..shapes import Shape
from .base import (CONNECTING, TRAINABLE, Axes, Cost, Field, NodeView, Role, entry)
from .rules import (broadcast_shape, div_dims, elementwise_shape, in_shape, outs, reduce_shape,
                    same_shape)

MS = "com.microsoft"
_QUNARY = (1, 2, 3, 4)  # X_scale, X_zero_point, Y_scale, Y_zero_point


def pointwise(flops_per_unit: int):
    def cost(v: NodeView) -> Cost:
        """``flops_per_unit`` FLOPs per output unit, no connections."""
        return Cost(flops=flops_per_unit * v.out_numel())

    return cost


def add(v: NodeView) -> Cost:
    """One FLOP per output unit; adding a parameter tensor is a bias, +1 connection per unit."""
    units = v.out_numel()
    return Cost(flops=units, connections=units if v.reads_param() else 0)


def reduction(v: NodeView) -> Cost:
    """Each output unit reads every input unit it reduces: one FLOP and connection per input."""
    n = v.numel(0)
    return Cost(flops=n, connections=n)


def softmax(v: NodeView) -> Cost:
    """exp, sum and divide: three FLOPs per unit; an activation, no connections."""
    return Cost(flops=3 * v.out_numel())


def qlinear_add(v: NodeView) -> Cost:
    """One FLOP per output unit; adding a parameter tensor (A or B) is a bias: +1 per unit."""
    units = v.out_numel()
    return Cost(flops=units, connections=units if v.reads_param(0) or v.reads_param(3) else 0)


def bias_activation(flops_per_unit: int, bias: int):
    def cost(v: NodeView) -> Cost:
        """``flops_per_unit`` FLOPs per output unit; a parameter bias: +1 connection per unit."""
        units = v.out_numel()
        return Cost(flops=flops_per_unit * units, connections=units if v.reads_param(bias) else 0)

    return cost


def fast_gelu(v: NodeView) -> Cost:
    """The optional bias add (1) and the activation (1) per unit; a parameter bias: +1."""
    units = v.out_numel()
    return Cost(flops=units * (1 + v.has(1)), connections=units if v.reads_param(1) else 0)


def bias_split_gelu(v: NodeView) -> Cost:
    """X + bias over all D, then left * gelu(right) on D/2: numel(X) + 2 FLOPs per output unit;
    a parameter bias is +1 connection per biased unit (numel(X))."""
    n = v.numel(0)  # (N, S, D) biased units
    units = v.out_numel()  # (N, S, D/2)
    return Cost(flops=n + 2 * units, connections=n if v.reads_param(1) else 0)


def bias_split_gelu_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Y is (N, S, D/2): X is (N, S, D), split in halves after the bias."""
    x = in_shape(v, 0)
    return outs(v, None if x is None else (*x[:-1], div_dims(x[-1], 2)))


def determinant(v: NodeView) -> Cost:
    """An LU factorisation per n x n matrix: 2n^3/3 FLOPs (X is [..., n, n])."""
    x = v.shape(0)
    n = x[-1]
    return Cost(flops=v.numel(0) // (n * n) * (2 * n ** 3 // 3) if n else 0)


def swiglu(v: NodeView) -> Cost:
    """Swish(A) * B: the sigmoid, its product with A, the product with B: 3 FLOPs per unit."""
    return Cost(flops=3 * v.out_numel())


def last_axis(rank: int, attrs: Mapping[str, int]) -> set[int]:
    """Softmax's statistics run over its ``axis`` (the last, by default)."""
    axis = attrs.get("axis", -1)
    return {axis + rank if axis < 0 else axis}


_ONE = pointwise(1)
# Every tensor of an elementwise op has the same axes: its channels where its inputs' are, its
# receptive field the largest of its inputs'.
_SAME = dict(axes=Axes.KEEP, receptive=Field.SAME)
_ACTIVATION = dict(role=Role.ACTIVATION, keras="activation", **_SAME)

# FLOPs per output unit of each elementwise op; transcendental functions count as one, as
# fvcore and torch's flop counter do not count them at all and one keeps them visible.
_ACTIVATIONS = {
    "Relu": 1, "LeakyRelu": 1, "ThresholdedRelu": 1, "Elu": 1, "Selu": 1, "Celu": 1,
    "Sigmoid": 1, "HardSigmoid": 1, "Tanh": 1, "Softplus": 1, "Softsign": 1, "Swish": 1,
    "HardSwish": 2, "Mish": 1, "Gelu": 1, "Erf": 1, "Exp": 1, "Sqrt": 1, "Reciprocal": 1,
    "Neg": 1, "Abs": 1,
}
_POINTWISE = {
    "Max": 1, "Min": 1, "Mean": 1, "Mod": 1, "Log": 1, "Sin": 1, "Cos": 1, "Tan": 1,
    "Floor": 1, "Ceil": 1, "Round": 1, "Sign": 1, "Shrink": 1, "IsNaN": 1, "IsInf": 1,
    "BitShift": 1, "Not": 1, "And": 1, "Or": 1, "Xor": 1, "Acos": 1, "Acosh": 1, "Asin": 1,
    "Asinh": 1, "Atan": 1, "Atanh": 1, "Cosh": 1, "Sinh": 1, "BitwiseAnd": 1, "BitwiseOr": 1,
    "BitwiseXor": 1, "BitwiseNot": 1,
}
# The elementwise ops exporters compute shapes with (fold.py evaluates them).
_FOLDS = {"Add", "Sub", "Mul", "Div", "Mod", "Neg", "Abs", "Sign", "Floor", "Ceil", "Round",
          "Sqrt", "Reciprocal", "Pow", "Min", "Max", "Sum", "Clip", "Equal", "Less",
          "LessOrEqual", "Greater", "GreaterOrEqual", "Not", "And", "Or", "Xor", "CumSum",
          "ReduceProd", "ReduceSum", "ReduceMin", "ReduceMax", "ReduceMean", "ArgMax", "ArgMin"}
# Ops whose output has their input's shape, which onnx's inference leaves unknown at some
# opsets (function ops): the counter's own rule.
_SAME_SHAPE = {"Relu", "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh",
               "Gelu", "Mish", "Elu", "Selu", "Celu", "Softplus", "Softsign", "Softmax",
               "LogSoftmax", "Swish", "Clip"}


# Ops whose early versions (opsets 1 to 6, some function ops) onnx's inference has no rule for.
_UNARY_SHAPE = {"Abs", "Ceil", "Exp", "Floor", "Log", "Neg", "Reciprocal", "Sqrt"}
_BROADCAST_SHAPE = {"Add", "Sub", "Mul", "Div", "Max", "Min", "Mean", "Sum", "GreaterOrEqual",
                    "LessOrEqual"}


def _shape_rule(name: str):
    if name in _SAME_SHAPE or name in _UNARY_SHAPE:
        return same_shape()
    return elementwise_shape if name in _BROADCAST_SHAPE else None


def _elementwise(cost, params=None, fixed=(), metrics=None, **known):
    return lambda name: entry(cost, params, fixed, **({"metrics": metrics} if metrics else {}),
                              folds=name in _FOLDS, shape=_shape_rule(name), **known)


_TABLE = {
    **{op: _elementwise(pointwise(n), **_ACTIVATION) for op, n in _ACTIVATIONS.items()},
    **{op: _elementwise(pointwise(n), **_SAME) for op, n in _POINTWISE.items()},
    "Add": _elementwise(add, metrics=CONNECTING, role=Role.ARITHMETIC, keras="add", **_SAME),
    "Sum": _elementwise(add, metrics=CONNECTING, **_SAME),
    "Sub": _elementwise(_ONE, role=Role.ARITHMETIC, **_SAME),
    "Mul": _elementwise(_ONE, role=Role.ARITHMETIC, **_SAME),
    "Div": _elementwise(_ONE, role=Role.ARITHMETIC, **_SAME),
    # Comparisons and clip bounds read constants that are thresholds, not parameters.
    **{op: _elementwise(_ONE, fixed=(0, 1), **_SAME) for op in
       ("Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual")},
    "Clip": _elementwise(_ONE, fixed=(1, 2), **_ACTIVATION),
    "Pow": _elementwise(_ONE, fixed=(1,), **_ACTIVATION),
    "PRelu": _elementwise(_ONE, {1: TRAINABLE}, **_ACTIVATION),
    "Softmax": _elementwise(softmax, role=Role.ACTIVATION, receptive=Field.STATS,
                            stats=last_axis, keras="softmax"),
    "LogSoftmax": _elementwise(softmax, role=Role.ACTIVATION, receptive=Field.STATS,
                               stats=last_axis),
    "Hardmax": _elementwise(_ONE),
    "CumSum": _elementwise(_ONE, fixed=(1,)),  # one add per unit along the axis; 1 is the axis
    "CumProd": _elementwise(_ONE, fixed=(1,)),  # one multiply per unit along the axis
    "Det": _elementwise(determinant),
    "SwiGLU": _elementwise(swiglu, **_ACTIVATION),  # A (the gate), B
    **{op: _elementwise(reduction, metrics=CONNECTING, receptive=Field.REDUCE) for op in (
        "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
        "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare", "ArgMax", "ArgMin")},
}
OPS = {("", name): make(name) for name, make in _TABLE.items()}

OPS.update({
    # A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp: a constant A or B is a quantized
    # parameter (the bias of an Add, the coefficient of a Mul).
    (MS, "QLinearAdd"): entry(qlinear_add, {0: TRAINABLE, 3: TRAINABLE}, (1, 2, 4, 5, 6, 7),
                              metrics=CONNECTING, shape=broadcast_shape(0, 3), **_SAME),
    (MS, "QLinearMul"): entry(_ONE, {0: TRAINABLE, 3: TRAINABLE}, (1, 2, 4, 5, 6, 7),
                              shape=broadcast_shape(0, 3), **_SAME),
    (MS, "QLinearSigmoid"): entry(_ONE, fixed=_QUNARY, shape=same_shape(), **_ACTIVATION),
    (MS, "QLinearLeakyRelu"): entry(_ONE, fixed=_QUNARY, shape=same_shape(), **_ACTIVATION),
    (MS, "QLinearSoftmax"): entry(softmax, fixed=_QUNARY, shape=same_shape(),
                                  role=Role.ACTIVATION),
    # A, B (bias): the bias add and the activation
    (MS, "BiasGelu"): entry(bias_activation(2, 1), {1: TRAINABLE}, metrics=CONNECTING,
                            shape=same_shape(), **_ACTIVATION),
    # X, bias (optional)
    (MS, "FastGelu"): entry(fast_gelu, {1: TRAINABLE}, metrics=CONNECTING, shape=same_shape(),
                            **_ACTIVATION),
    (MS, "Gelu"): entry(_ONE, shape=same_shape(), **_ACTIVATION),
    # x * sigmoid(alpha * x): an activation, one FLOP as Swish
    (MS, "QuickGelu"): entry(_ONE, shape=same_shape(), **_ACTIVATION),
    # X, bias, skip: X + bias + skip
    (MS, "BiasAdd"): entry(bias_activation(2, 1), {1: TRAINABLE}, metrics=CONNECTING,
                           shape=same_shape(), **_SAME),
    # X, bias
    (MS, "BiasSplitGelu"): entry(bias_split_gelu, {1: TRAINABLE}, metrics=CONNECTING,
                                 role=Role.ACTIVATION, shape=bias_split_gelu_shape),
    # data, data_scale, data_zp, reduced_scale, reduced_zp
    (MS, "QLinearReduceMean"): entry(reduction, fixed=_QUNARY, metrics=CONNECTING,
                                     shape=reduce_shape),
})
