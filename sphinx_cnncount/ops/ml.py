"""Classic machine-learning ops (domain ``ai.onnx.ml``, as skl2onnx and OnnxMLTools write them).

Their learned numbers live in attributes (a linear model's ``coefficients`` and ``intercepts``),
so their entries name those attributes as parameters (``Op.attr_params``). An SVM's kernel
products are MACs; a tree ensemble's comparisons are FLOPs, counted along each tree's longest
path (a row may stop sooner: the path it takes depends on the data).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..shapes import Shape
from .base import LINEAR, Cost, NodeView, Role, entry, zero_cost
from .rules import in_shape, outs, same_shape

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


def _rows(v: NodeView) -> int:
    x = v.shape(0)
    return x[0] if len(x) > 1 else 1


def svm(v: NodeView) -> Cost:
    """Per row, a kernel product with each support vector (their floats: n_sv x features MACs)
    and the weighted sum of the kernel values (one MAC per coefficient); a linear SVM (no
    support vectors) is a dot product per coefficient."""
    vectors = len(v.attr("support_vectors", ()) or ())
    coefficients = len(v.attr("coefficients", ()) or ())
    macs = _rows(v) * (vectors + coefficients)
    return Cost(macs=macs, flops=2 * macs, connections=macs)


def _longest(children: dict[int, Sequence[int]], root: int) -> int:
    """The comparisons on the longest path from ``root`` (a node without children: a leaf)."""
    depth, stack, seen = 0, [(root, 0)], set()
    while stack:
        node, d = stack.pop()
        kids = children.get(node, ())
        if not kids or node in seen:
            depth = max(depth, d)
            continue
        seen.add(node)
        stack.extend((k, d + 1) for k in kids)
    return depth


def _tree_paths(v: NodeView) -> int:
    """Comparisons per row, each tree along its longest path (the classic ``nodes_*``
    attributes, or TreeEnsemble's ``tree_roots`` and leaf flags)."""
    roots = v.attr("tree_roots", None)
    if roots is not None:  # TreeEnsemble (ai.onnx.ml 5): children index nodes unless leaves
        trues, falses = v.attr("nodes_truenodeids", ()), v.attr("nodes_falsenodeids", ())
        true_leaf = v.attr("nodes_trueleafs", ()) or [0] * len(trues)
        false_leaf = v.attr("nodes_falseleafs", ()) or [0] * len(falses)
        children = {i: [c for c, leaf in ((t, tl), (f, fl)) if not leaf] or [-1]
                    for i, (t, f, tl, fl) in enumerate(zip(trues, falses, true_leaf,
                                                           false_leaf, strict=True))}
        return sum(_longest(children, r) + 1 for r in roots)
    trees = v.attr("nodes_treeids", ())
    ids, modes = v.attr("nodes_nodeids", ()), v.attr("nodes_modes", ())
    trues, falses = v.attr("nodes_truenodeids", ()), v.attr("nodes_falsenodeids", ())
    total = 0
    for tree in dict.fromkeys(trees):
        kids = {n: (t, f) for tr, n, m, t, f in zip(trees, ids, modes, trues, falses, strict=True)
                if tr == tree and m not in (b"LEAF", "LEAF")}
        total += _longest(kids, min(n for tr, n in zip(trees, ids, strict=True) if tr == tree))
    return total


def tree_ensemble(v: NodeView) -> Cost:
    """Per row, one comparison per node of each tree's longest path, and one add per output
    value per tree for the leaves' weights."""
    trees = len(dict.fromkeys(v.attr("nodes_treeids", ()) or ())) or \
        len(v.attr("tree_roots", ()) or ())
    values = v.out_shape(len(v.outputs) - 1)  # the scores: (N, targets or classes)
    width = values[-1] if len(values) > 1 else 1
    return Cost(flops=_rows(v) * (_tree_paths(v) + trees * width))


def svm_regressor_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Y is (N, 1): one score per row."""
    x = in_shape(v, 0)
    return outs(v, None if x is None else (x[0], 1))


def _classes(v: NodeView) -> int:
    return len(v.attr("classlabels_int64s", ()) or v.attr("classlabels_strings", ()) or ())


def tree_classifier_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Y (N): a label per row; Z (N, classes): the scores."""
    x = in_shape(v, 0)
    return outs(v, None, None) if x is None else outs(v, (x[0],), (x[0], _classes(v)))


def tree_regressor_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Y (N, n_targets)."""
    x = in_shape(v, 0)
    return outs(v, None if x is None else (x[0], int(v.attr("n_targets", 1))))


def feature_vectorizer_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Y (N, sum of ``inputdimensions``)."""
    x = in_shape(v, 0)
    dims = v.attr("inputdimensions", None)
    return outs(v, None if x is None or dims is None else (x[0], sum(int(d) for d in dims)))


def linear_regressor_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """Y (N, targets)."""
    x = in_shape(v, 0)
    return outs(v, None if x is None else (x[0] if len(x) > 1 else 1,
                                           int(v.attr("targets", 1))))


def tfidf(v: NodeView) -> Cost:
    """Each position starts an n-gram of each length and skip: one count (an add) each, and a
    weight multiply per output value when weighted."""
    grams = int(v.attr("max_gram_length", 1)) - int(v.attr("min_gram_length", 1)) + 1
    skips = int(v.attr("max_skip_count", 0)) + 1
    weighted = v.out_numel() if v.attr("weights", None) else 0
    return Cost(flops=v.numel(0) * grams * skips + weighted)


_SVM = ("support_vectors", "coefficients", "rho", "prob_a", "prob_b")
_TREES = ("nodes_values", "class_weights", "target_weights", "base_values", "nodes_splits",
          "leaf_weights")

OPS = {
    (ML, "SVMClassifier"): entry(svm, metrics=LINEAR, role=Role.LINEAR, attr_params=_SVM),
    (ML, "SVMRegressor"): entry(svm, metrics=LINEAR, role=Role.LINEAR, attr_params=_SVM,
                                shape=svm_regressor_shape),
    (ML, "TreeEnsembleClassifier"): entry(tree_ensemble, attr_params=_TREES,
                                          shape=tree_classifier_shape),
    (ML, "TreeEnsembleRegressor"): entry(tree_ensemble, attr_params=_TREES,
                                         shape=tree_regressor_shape),
    (ML, "TreeEnsemble"): entry(tree_ensemble, attr_params=_TREES),
    # a missing value replaced: one comparison per unit
    (ML, "Imputer"): entry(per_unit(1), attr_params=("imputed_value_floats",),
                           shape=same_shape()),
    ("", "TfIdfVectorizer"): entry(tfidf, attr_params=("weights",)),
    (ML, "FeatureVectorizer"): entry(zero_cost, shape=feature_vectorizer_shape),
    (ML, "LinearClassifier"): entry(linear_model, metrics=LINEAR, role=Role.LINEAR,
                                    attr_params=("coefficients", "intercepts")),
    (ML, "LinearRegressor"): entry(linear_model, metrics=LINEAR, role=Role.LINEAR,
                                   attr_params=("coefficients", "intercepts"),
                                   shape=linear_regressor_shape),
    # onnx's inference leaves these unknown: each output has its input's shape.
    (ML, "Normalizer"): entry(normalizer, shape=same_shape()),
    (ML, "Scaler"): entry(per_unit(2), attr_params=("offset", "scale"),  # (x - offset) * scale
                          shape=same_shape()),
    (ML, "Binarizer"): entry(per_unit(1), shape=same_shape()),
    **{(ML, op): entry(zero_cost) for op in (
        "ZipMap", "ArrayFeatureExtractor", "CastMap", "LabelEncoder",
        "OneHotEncoder", "CategoryMapper", "DictVectorizer")},
}
