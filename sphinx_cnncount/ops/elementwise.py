"""Elementwise arithmetic, activations and reductions.

Elementwise ops add no connections (an activation, or a coefficient, scales connections that
already exist), except that adding a parameter tensor is a bias: +1 per output unit. A
reduction connects each output unit to every input unit it reduces.
"""

from __future__ import annotations

from .base import CONNECTING, TRAINABLE, Cost, NodeView, spec


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


_ONE = pointwise(1)

# FLOPs per output unit of each elementwise op; transcendental functions count as one, as
# fvcore and torch's flop counter do not count them at all and one keeps them visible.
_POINTWISE = {
    "Sub": 1, "Mul": 1, "Div": 1, "Pow": 1, "Mod": 1, "Max": 1, "Min": 1, "Mean": 1,
    "Neg": 1, "Abs": 1, "Sqrt": 1, "Reciprocal": 1, "Exp": 1, "Log": 1, "Erf": 1,
    "Sin": 1, "Cos": 1, "Tan": 1, "Floor": 1, "Ceil": 1, "Round": 1, "Sign": 1,
    "Relu": 1, "LeakyRelu": 1, "ThresholdedRelu": 1, "Elu": 1, "Selu": 1, "Celu": 1,
    "Sigmoid": 1, "HardSigmoid": 1, "Tanh": 1, "Softplus": 1, "Softsign": 1, "Swish": 1,
    "HardSwish": 2, "Mish": 1, "Gelu": 1, "Clip": 1, "PRelu": 1, "Shrink": 1,
    "Equal": 1, "Less": 1, "LessOrEqual": 1, "Greater": 1, "GreaterOrEqual": 1,
    "And": 1, "Or": 1, "Xor": 1, "Not": 1, "IsNaN": 1, "IsInf": 1, "BitShift": 1,
}

OPS = {op: spec(pointwise(n)) for op, n in _POINTWISE.items()}
OPS.update({
    "Add": spec(add, metrics=CONNECTING),
    "Sum": spec(add, metrics=CONNECTING),
    # Comparisons and clip bounds read constants that are thresholds, not parameters.
    **{op: spec(_ONE, fixed=(0, 1)) for op in
       ("Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual")},
    "Clip": spec(_ONE, fixed=(1, 2)),
    "Pow": spec(_ONE, fixed=(1,)),
    "PRelu": spec(_ONE, {1: TRAINABLE}),
    "Softmax": spec(softmax),
    "LogSoftmax": spec(softmax),
    "Hardmax": spec(_ONE),
    "CumSum": spec(_ONE, fixed=(1,)),  # one add per unit along the axis; input 1 is the axis
    **{op: spec(reduction, metrics=CONNECTING) for op in (
        "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
        "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare", "ArgMax", "ArgMin")},
})
