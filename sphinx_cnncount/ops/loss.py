"""Losses (training graphs): negative log-likelihood and softmax cross-entropy. FLOPs only."""

from __future__ import annotations

from .base import Cost, NodeView, entry


def nll_loss(v: NodeView) -> Cost:
    """Per target: its class's score picked, negated and weighted, then summed: 2 FLOPs."""
    return Cost(flops=2 * v.numel(1))  # target is (N, d1, ...)


def softmax_cross_entropy(v: NodeView) -> Cost:
    """Softmax over the classes (3 FLOPs per score) and its log (1), then the NLL (2 per
    label)."""
    return Cost(flops=4 * v.numel(0) + 2 * v.numel(1))


OPS = {
    # input, target, weight (the classes' weights: a setting, not learnt)
    ("", "NegativeLogLikelihoodLoss"): entry(nll_loss, fixed=(2,)),
    # scores, labels, weights
    ("", "SoftmaxCrossEntropyLoss"): entry(softmax_cross_entropy, fixed=(2,)),
}
