"""The paper's words for a layer, from its ONNX ops (never from the table's Type column)."""

from __future__ import annotations

import pytest

from sphinx_cnncount.render.vocabulary import Kind, Link, kind_of, ops_text


@pytest.mark.parametrize("ops, shape, kind", [
    (("Conv", "Mul", "Tanh"), (1, 6, 28, 28), Kind.CONVOLUTION),  # LeNet C1
    (("AveragePool", "Mul", "Add", "Tanh"), (1, 6, 14, 14), Kind.SUBSAMPLING),  # S2
    (("Gather", "Conv", "Concat", "Mul", "Tanh"), (1, 16, 10, 10), Kind.CONVOLUTION),  # C3
    (("Flatten", "Gemm", "Mul", "Tanh"), (1, 84), Kind.FULL_CONNECTION),  # F6
    (("Unsqueeze", "Sub", "Mul", "ReduceSum"), (1, 10), Kind.GAUSSIAN_CONNECTIONS),  # OUTPUT
    (("Transpose", "Reshape"), (1, 128), Kind.FLATTEN),  # Keras' Flatten
    (("Flatten",), (1, 512), Kind.FLATTEN),
    (("Reshape",), (1, 4, 8, 8), Kind.RESHAPE),
    (("MatMul", "Add", "Softmax"), (1, 10), Kind.FULL_CONNECTION),  # Keras' Dense
    (("MaxPool",), (1, 32, 13, 13), Kind.MAX_POOLING),
    (("GlobalAveragePool",), (1, 512, 1, 1), Kind.GLOBAL_POOLING),
    (("ConvTranspose", "Relu"), (1, 8, 32, 32), Kind.TRANSPOSED_CONVOLUTION),
    (("BatchNormalization",), (1, 64, 112, 112), Kind.NORMALIZATION),
    (("Relu",), (1, 64, 112, 112), Kind.ACTIVATION),
    (("Add", "Relu"), (1, 64, 56, 56), Kind.SUM),  # a residual join
    (("Concat",), (1, 256, 28, 28), Kind.CONCATENATION),  # an Inception join
    (("LSTM", "Squeeze"), (1, 20, 64), Kind.RECURRENT),
    (("Einsum",), (1, 64), Kind.FULL_CONNECTION),
    (("TopK", "Gather"), (1, 5), None),  # not known: the figure shows the ops
    ((), None, None),
])
def test_kind_of(ops: tuple[str, ...], shape: tuple[int, ...] | None, kind: Kind | None) -> None:
    assert kind_of(ops, shape) is kind


def test_links_and_words() -> None:
    assert Kind.CONVOLUTION.link is Link.LOCAL and Kind.SUBSAMPLING.link is Link.LOCAL
    assert Kind.FULL_CONNECTION.link is Link.FULL
    assert Kind.FLATTEN.link is Link.ONE_TO_ONE  # a reshape connects no units: no fan
    assert Kind.CONVOLUTION.value == "convolutions" and Kind.CONVOLUTION.noun == "convolution"
    assert Kind.GAUSSIAN_CONNECTIONS.value == "Gaussian connections"
    assert ops_text(("Gather", "Erf", "Identity")) == "Erf"  # the ops that cost something
    assert ops_text(("Gather", "Identity")) == "Gather+Identity"  # else all of them
