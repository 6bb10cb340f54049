"""Classic machine-learning ops (domain ``ai.onnx.ml``, as skl2onnx and OnnxMLTools write them).

Their learned numbers live in attributes (a linear model's ``coefficients`` and ``intercepts``),
so their specs name those attributes as parameters (``OpSpec.attr_params``). Tree ensembles,
SVMs and the like have no rule: what they cost depends on the data.
"""

from __future__ import annotations

from .base import LINEAR, Cost, NodeView, Role, entry, zero_cost
from .rules import same_shape

ML = "ai.onnx.ml"


def linear_model(v: NodeView) -> Cost:
    """Each of the N rows is a dot product with every class's (or target's) coefficients:
    N x len(coefficients) MACs, plus one add per output score for its intercept."""
    coefficients = len(v.attr("coefficients", ()) or ())
    rows = v.shape(0)[0] if len(v.shape(0)) > 1 else 1
    features = v.shape(0)[-1]
    targets = coefficients // features if features else 0
    macs = rows * coefficients
    adds = rows * targets if v.attr("intercepts", None) else 0
    return Cost(macs=macs, flops=2 * macs + adds, connections=macs + adds)


def per_unit(flops: int):
    def cost(v: NodeView) -> Cost:
        """``flops`` FLOPs per output unit."""
        return Cost(flops=flops * v.out_numel())

    return cost


def normalizer(v: NodeView) -> Cost:
    """Each row divided by its norm: a square (or abs) and a sum per unit, then a division."""
    return Cost(flops=3 * v.numel(0))


OPS = {
    (ML, "LinearClassifier"): entry(linear_model, metrics=LINEAR, role=Role.LINEAR,
                                    attr_params=("coefficients", "intercepts")),
    (ML, "LinearRegressor"): entry(linear_model, metrics=LINEAR, role=Role.LINEAR,
                                   attr_params=("coefficients", "intercepts")),
    # onnx's inference leaves these unknown: each output has its input's shape.
    (ML, "Normalizer"): entry(normalizer, shape=same_shape()),
    (ML, "Scaler"): entry(per_unit(2), attr_params=("offset", "scale"),  # (x - offset) * scale
                          shape=same_shape()),
    (ML, "Binarizer"): entry(per_unit(1), shape=same_shape()),
    **{(ML, op): entry(zero_cost) for op in (
        "ZipMap", "ArrayFeatureExtractor", "FeatureVectorizer", "CastMap", "LabelEncoder",
        "OneHotEncoder")},
}
