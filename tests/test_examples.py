"""The two tables of NUMBERS.md, reproduced to the unit from the example models."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx.reference import ReferenceEvaluator

from sphinx_cnncount.api import analyze

from .conftest import EXAMPLES

# The LeNet-5 paper's table: layer, output (batch 1), params, connections.
LENET = [
    ("C1", (1, 6, 28, 28), (5 * 5 * 1 + 1) * 6, (5 * 5 * 1 + 1) * 6 * 28 * 28),
    ("S2", (1, 6, 14, 14), 6 + 6, (2 * 2 + 1) * 6 * 14 * 14),
    ("C3", (1, 16, 10, 10), 6 * (3 * 25 + 1) + 6 * (4 * 25 + 1) + 3 * (4 * 25 + 1) + (6 * 25 + 1),
     (6 * (3 * 25 + 1) + 6 * (4 * 25 + 1) + 3 * (4 * 25 + 1) + (6 * 25 + 1)) * 10 * 10),
    ("S4", (1, 16, 5, 5), 16 + 16, (2 * 2 + 1) * 16 * 5 * 5),
    ("C5", (1, 120, 1, 1), (5 * 5 * 16 + 1) * 120, (5 * 5 * 16 + 1) * 120 * 1 * 1),
    ("F6", (1, 84), (120 + 1) * 84, (120 + 1) * 84),
    ("OUTPUT", (1, 10), 84 * 10, 84 * 10),
]

# The seed article's Keras CNN (28x28x1): layer, output, params, connections.
KERAS = [
    ("conv2d", (1, 32, 26, 26), (3 * 3 * 1 + 1) * 32, (3 * 3 * 1 + 1) * 32 * 26 * 26),
    ("max_pooling2d", (1, 32, 13, 13), 0, 2 * 2 * 32 * 13 * 13),
    ("conv2d_1", (1, 64, 11, 11), (3 * 3 * 32 + 1) * 64, (3 * 3 * 32 + 1) * 64 * 11 * 11),
    ("max_pooling2d_1", (1, 64, 5, 5), 0, 2 * 2 * 64 * 5 * 5),
    ("conv2d_2", (1, 128, 3, 3), (3 * 3 * 64 + 1) * 128, (3 * 3 * 64 + 1) * 128 * 3 * 3),
    ("max_pooling2d_2", (1, 128, 1, 1), 0, 2 * 2 * 128),
    ("flatten", (1, 128), 0, 0),
    ("dense", (1, 64), (128 + 1) * 64, (128 + 1) * 64),
    ("dense_1", (1, 10), (64 + 1) * 10, (64 + 1) * 10),
]


def test_lenet5_rows_match_the_paper():
    s = analyze(EXAMPLES / "lenet5.onnx")
    got = [(layer.name, layer.output_shape, layer.params, layer.connections) for layer in s.layers]
    assert got == LENET


def test_lenet5_totals_match_the_paper():
    t = analyze(EXAMPLES / "lenet5.onnx").totals
    assert (t.params, t.trainable_params, t.non_trainable_params) == (60_840, 60_840, 0)
    assert t.connections == 340_908


def test_lenet5_macs():
    s = analyze(EXAMPLES / "lenet5.onnx")
    macs = {layer.name: layer.macs for layer in s.layers}
    assert macs == {
        "C1": 5 * 5 * 1 * 6 * 28 * 28,
        "S2": 0,
        "C3": (6 * 3 + 6 * 4 + 3 * 4 + 6) * 25 * 10 * 10,
        "S4": 0,
        "C5": 5 * 5 * 16 * 120,
        "F6": 120 * 84,
        "OUTPUT": 0,
    }


def test_keras_cnn_rows_match_the_seed():
    s = analyze(EXAMPLES / "keras_cnn.onnx")
    got = [(layer.name, layer.output_shape, layer.params, layer.connections) for layer in s.layers]
    assert got == KERAS
    assert s.totals.params == 101_578
    assert s.notes == ("note: batch dim unk__32 of input 'input_1' set to 1 "
                       "(bind it with dims={\"unk__32\": SIZE})",)  # the API's own argument


def test_keras_cnn_batch_scales_counts_not_params():
    s = analyze(EXAMPLES / "keras_cnn.onnx", dims={"unk__32": 8})
    assert s.layer("conv2d").output_shape == (8, 32, 26, 26)
    assert s.totals.params == 101_578
    assert s.layer("conv2d").macs == 8 * 3 * 3 * 32 * 26 * 26
    assert s.notes == ()


@pytest.mark.parametrize("name", ["lenet5", "keras_cnn"])
def test_every_tensor_shape_matches_the_reference_evaluator(name):
    """onnx's reference evaluator actually runs the model: our shapes must be its shapes."""
    path = EXAMPLES / f"{name}.onnx"
    s = analyze(path)
    m = onnx.load(path)
    produced = [o for n in m.graph.node for o in n.output]
    del m.graph.output[:]
    m.graph.output.extend(onnx.helper.make_empty_tensor_value_info(o) for o in produced)
    inp = m.graph.input[0]
    shape = [d.dim_value or 1 for d in inp.type.tensor_type.shape.dim]
    results = ReferenceEvaluator(m).run(None, {inp.name: np.zeros(shape, np.float32)})
    actual = {name: tuple(r.shape) for name, r in zip(produced, results, strict=True)}
    assert {t: s.tensors[t] for t in produced} == actual
