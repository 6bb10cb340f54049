"""The training ops of ``ai.onnx.preview.training``: the optimizers' updates, FLOPs per
element of the tensors they update; and Gradient, whose cost (the backward pass of the nodes
it differentiates) is not a property of the node: it is said, never guessed."""

from __future__ import annotations

from .base import Cost, NodeView, Uncountable, entry
from .rules import first_shapes

TRAINING = "ai.onnx.preview.training"


def optimizer(flops: int, groups: int):
    """R, T, then ``groups`` lists of n tensors (X..., G..., and the optimizer's state)."""

    def cost(v: NodeView) -> Cost:
        """``flops`` FLOPs per updated element: the regularised gradient, the state's update
        and the step."""
        n = (len(v.inputs) - 2) // groups
        return Cost(flops=flops * sum(v.numel(2 + i) for i in range(n)))

    return cost


def gradient(v: NodeView) -> Cost:
    """Not counted: a Gradient costs the backward pass of the nodes between its xs and y."""
    raise Uncountable("a Gradient costs the backward pass of the nodes it differentiates, "
                      "which the node does not say")


OPS = {
    # G_reg = norm*X + G (2), H += G_reg^2 (2), X -= r*G_reg/(sqrt(H)+eps) (5)
    (TRAINING, "Adagrad"): entry(optimizer(9, 3), fixed=(0, 1)),
    # G_reg (2), V = alpha*V + beta*G_reg (3), X -= R*V (2)
    (TRAINING, "Momentum"): entry(optimizer(7, 3), fixed=(0, 1)),
    # G_reg (2), V = a*V + (1-a)*G (3), H = b*H + (1-b)*G^2 (4), X -= R*V/(sqrt(H)+eps) (5),
    # the bias corrections (1)
    (TRAINING, "Adam"): entry(optimizer(15, 4), fixed=(0, 1)),
    # the i-th output is the gradient of the i-th input (an x), of its shape
    (TRAINING, "Gradient"): entry(gradient, metrics=frozenset({"macs", "flops"}),
                                  shape=first_shapes),
}
