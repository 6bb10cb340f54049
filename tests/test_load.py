"""What files spell several ways, read as one: local functions, sparse and old-IR initializers,
symbol binding."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from sphinx_cnncount.cli import main
from sphinx_cnncount.load import ModelError

from .helpers import model, summarize, weight

mk = helper.make_node


def test_model_local_functions_are_inlined(tmp_path):
    """torch's export_modules_as_functions writes such models; onnx's inliner expands them."""
    fn = helper.make_function(
        "mydom", "ConvRelu", ["X", "W", "B"], ["Y"],
        [mk("Conv", ["X", "W", "B"], ["C"]), mk("Relu", ["C"], ["Y"])],
        [helper.make_opsetid("", 17)])
    m = model([mk("ConvRelu", ["x", "w", "b"], ["y"], domain="mydom")], {"x": [1, 3, 8, 8]},
              ["y"], [weight("w", 4, 3, 3, 3), weight("b", 4)], opset=17,
              extra_opsets=[helper.make_opsetid("mydom", 1)])
    m.functions.append(fn)
    s = summarize(tmp_path, m)
    assert s.diagnostics == ()
    assert s.tensors["y"] == (1, 4, 6, 6)
    assert (s.totals.params, s.totals.macs, s.totals.connections) == (
        (3 * 3 * 3 + 1) * 4, 3 * 3 * 3 * 4 * 6 * 6, (3 * 3 * 3 + 1) * 4 * 6 * 6)


def test_sparse_initializer_counts_its_dense_dims(tmp_path):
    values = numpy_helper.from_array(np.array([1.0, 2.0], np.float32), "w")
    indices = numpy_helper.from_array(np.array([0, 5], np.int64), "w_idx")
    sparse = helper.make_sparse_tensor(values, indices, [4, 3])
    g = helper.make_graph([mk("MatMul", ["x", "w"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          sparse_initializer=[sparse])
    s = summarize(tmp_path, helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]))
    assert (s.tensors["y"], s.totals.params, s.totals.macs) == ((2, 3), 4 * 3, 2 * 3 * 4)


def test_old_ir_initializer_inputs_take_the_tensors_dims(tmp_path):
    """An initializer also listed as an input, with symbolic dims in its value info."""
    m = model([mk("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3])],
              {"x": [1, 3, 8, 8], "w": ["a", "b", "c", "d"]}, ["y"], [weight("w", 2, 3, 3, 3)])
    s = summarize(tmp_path, m)
    assert (s.tensors["y"], s.totals.macs) == ((1, 2, 6, 6), 3 * 3 * 3 * 2 * 6 * 6)
    assert [t.name for t in s.inputs] == ["x"]


def test_a_defaulted_batch_symbol_binds_everywhere(tmp_path):
    m = model([mk("Add", ["a", "b"], ["y"])], {"a": ["N", 4], "b": [1, "N", 4]}, ["y"])
    s = summarize(tmp_path, m)
    assert s.tensors["y"] == (1, 1, 4)
    assert s.notes == ('note: batch dim N of input \'a\' set to 1 (bind it with dims={"N": SIZE})',)


@pytest.mark.parametrize("argv, message", [
    (["--input-shape", "x=1x3x5"], "input 'x' has 4 dims, but --input-shape x gives 3"),
    (["--input-shape", "x=1x0x5x5"],
     "--input-shape x: dims must be positive integers below 2^63, got 0"),
    (["--dim", "H=99999999999999999999"],
     "--dim H: dims must be positive integers below 2^63, got 99999999999999999999"),
])
def test_bad_bindings_are_one_line_errors(tmp_path, capsys, argv, message):
    m = model([mk("Relu", ["x"], ["y"])], {"x": [1, 3, "H", "W"]}, ["y"])
    path = tmp_path / "m.onnx"
    onnx.save(m, path)
    assert main(["summary", str(path), "--dim", "W=4", *argv]) == 2
    assert capsys.readouterr().err == f"cnncount: error: {path}: {message}\n"


def test_model_error_names_the_path():
    err = ModelError("a/b.onnx", "is empty")
    assert (str(err), err.reason) == ("a/b.onnx: is empty", "is empty")
