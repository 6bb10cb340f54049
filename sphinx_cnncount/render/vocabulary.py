"""The paper's words for what a layer does, read from the ONNX ops of the layer.

The LeNet-5 paper's Figure 2 names the operation between two layers "Convolutions",
"Subsampling", "Full connection" and "Gaussian connections"; the diagrams caption their layers
the same way. A layer's kind comes from its ONNX ops (``Layer.op_types``), never from the table's
Type column, which may show a framework's class name. A layer whose kind is not known is
captioned with its ops.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from ..ops import ZERO_COST
from ..shapes import Shape


class Link(str, Enum):
    """How a layer's units connect to the layer before, as the figure draws it."""

    LOCAL = "local"  # a window of the input: a receptive field and its two converging edges
    FULL = "full"  # every input unit: edges from the whole of the input
    ONE_TO_ONE = "one-to-one"  # the same units, re-arranged or rescaled: a plain arrow


class Kind(str, Enum):
    """What a layer does; the value is the caption the figure writes."""

    CONVOLUTION = "convolutions"
    TRANSPOSED_CONVOLUTION = "transposed convolutions"
    SUBSAMPLING = "subsampling"
    MAX_POOLING = "max pooling"
    GLOBAL_POOLING = "global pooling"
    FULL_CONNECTION = "full connection"
    GAUSSIAN_CONNECTIONS = "Gaussian connections"  # LeNet's Euclidean RBF output
    RECURRENT = "recurrent"
    FLATTEN = "flatten"
    RESHAPE = "reshape"
    CONCATENATION = "concatenation"
    SUM = "sum"
    NORMALIZATION = "normalization"
    ACTIVATION = "activation"

    @property
    def noun(self) -> str:
        """The word for one layer of the kind (a graph box): ``convolution``."""
        return _NOUNS.get(self, self.value)

    @property
    def link(self) -> Link:
        return _LINKS.get(self, Link.ONE_TO_ONE)


_NOUNS = {Kind.CONVOLUTION: "convolution",
          Kind.TRANSPOSED_CONVOLUTION: "transposed convolution"}
_LINKS = {Kind.CONVOLUTION: Link.LOCAL, Kind.TRANSPOSED_CONVOLUTION: Link.LOCAL,
          Kind.SUBSAMPLING: Link.LOCAL, Kind.MAX_POOLING: Link.LOCAL,
          Kind.GLOBAL_POOLING: Link.FULL, Kind.FULL_CONNECTION: Link.FULL,
          Kind.GAUSSIAN_CONNECTIONS: Link.FULL, Kind.RECURRENT: Link.FULL}

# The op that makes a layer what it is, first match in the layer's op order.
_BY_OP = {
    "Conv": Kind.CONVOLUTION, "ConvInteger": Kind.CONVOLUTION, "QLinearConv": Kind.CONVOLUTION,
    "ConvTranspose": Kind.TRANSPOSED_CONVOLUTION,
    "AveragePool": Kind.SUBSAMPLING, "LpPool": Kind.SUBSAMPLING,
    "MaxPool": Kind.MAX_POOLING, "MaxRoiPool": Kind.MAX_POOLING,
    "GlobalAveragePool": Kind.GLOBAL_POOLING, "GlobalMaxPool": Kind.GLOBAL_POOLING,
    "GlobalLpPool": Kind.GLOBAL_POOLING,
    "Gemm": Kind.FULL_CONNECTION, "MatMul": Kind.FULL_CONNECTION,
    "MatMulInteger": Kind.FULL_CONNECTION, "QLinearMatMul": Kind.FULL_CONNECTION,
    "QGemm": Kind.FULL_CONNECTION, "Einsum": Kind.FULL_CONNECTION,
    "LSTM": Kind.RECURRENT, "GRU": Kind.RECURRENT, "RNN": Kind.RECURRENT,
}
_MOVES = frozenset({"Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Identity",
                    "Dropout", "Cast"})
_NORMS = frozenset({"BatchNormalization", "InstanceNormalization", "LayerNormalization",
                    "GroupNormalization", "LRN", "LpNormalization"})
_ACTIVATIONS = frozenset({"Relu", "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid", "HardSwish",
                          "Tanh", "Softmax", "LogSoftmax", "Elu", "Selu", "Celu", "Gelu", "Mish",
                          "Softplus", "Softsign", "Clip", "ThresholdedRelu", "Swish"})
_SCALING = frozenset({"Mul", "Add", "Div", "Sub"})  # a learnt scale or bias beside the others


def kind_of(op_types: Iterable[str], output: Shape | None = None) -> Kind | None:
    """The kind of a layer made of ``op_types`` (its ONNX ops), or None when not known."""
    ops = tuple(op_types)
    for op in ops:
        if op in _BY_OP:
            return _BY_OP[op]
    present = set(ops)
    # LeNet's output: y_i = sum_j (x_j - w_ij)^2, a Sub, a square and a ReduceSum.
    if {"Sub", "ReduceSum"} <= present and present & {"Mul", "Pow"}:
        return Kind.GAUSSIAN_CONNECTIONS
    if present and present <= _MOVES:
        flat = output is not None and len(output) == 2
        return Kind.FLATTEN if flat or "Flatten" in present else Kind.RESHAPE
    if "Concat" in present and present <= _MOVES | {"Concat"} | _ACTIVATIONS:
        return Kind.CONCATENATION
    if present & _NORMS and present <= _NORMS | _ACTIVATIONS | _SCALING | _MOVES:
        return Kind.NORMALIZATION
    if present & _ACTIVATIONS and present <= _ACTIVATIONS | _MOVES:
        return Kind.ACTIVATION
    if "Add" in present and present <= {"Add", "Sum"} | _ACTIVATIONS | _MOVES or "Sum" in present:
        return Kind.SUM
    return None


def ops_text(op_types: Iterable[str]) -> str:
    """A layer of no known kind, by its ops: those that cost something, else all of them."""
    ops = tuple(op_types)
    costing = [op for op in ops if op not in ZERO_COST]
    return "+".join(costing or ops)
