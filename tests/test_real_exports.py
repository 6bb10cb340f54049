"""What real exports do that hand-made models do not, each on a small onnx.helper model with
the expected figures written out: control flow at any depth, shape arithmetic folded to a fixed
point, the exporter's annotations, integer data in an external file, run-time constants, a
status that says what was not counted, and bindings no run could have."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from sphinx_cnncount.cli import main
from sphinx_cnncount.api import analyze
from sphinx_cnncount.load import ModelError

from .conftest import EXAMPLES
from .helpers import ints, model, summarize, weight

mk = helper.make_node
EXPORTS = Path(__file__).resolve().parent / "data" / "keras"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def shape_gate(then_branch: onnx.GraphProto, else_branch: onnx.GraphProto, rank_of: str = "x",
               name: str = "gate") -> list[onnx.NodeProto]:
    """The common exporter pattern: If(Equal(Gather(Shape(x), 0), 1))."""
    return [mk("Shape", [rank_of], [f"{name}_s"]),
            mk("Gather", [f"{name}_s", "zero"], [f"{name}_b"], axis=0),
            mk("Equal", [f"{name}_b", "one"], [f"{name}_c"]),
            mk("If", [f"{name}_c"], [f"{name}_y"], name=name, then_branch=then_branch,
               else_branch=else_branch)]


SCALARS = [numpy_helper.from_array(np.array(0, np.int64), "zero"),
           numpy_helper.from_array(np.array(1, np.int64), "one")]


def matmul_branch(name: str, k: int, inner: list[onnx.NodeProto] | None = None,
                  source: str = "x") -> onnx.GraphProto:
    nodes = [mk("Constant", [], [f"{name}_w"],
                value=numpy_helper.from_array(np.ones((8, k), np.float32), f"{name}_wv")),
             mk("MatMul", [source, f"{name}_w"], [f"{name}_y"], name=f"{name}_matmul")]
    out = f"{name}_y"
    if inner:
        nodes += inner
        out = inner[-1].output[0]
    return helper.make_graph(nodes, name, [], [helper.make_tensor_value_info(
        out, TensorProto.FLOAT, None)])


# ---------------------------------------------------------------------------------------------
# 1. Control flow, any depth


def test_an_if_on_the_batch_dim_counts_the_branch_that_runs(tmp_path):
    nodes = shape_gate(matmul_branch("then", 4), matmul_branch("else", 16))
    s = summarize(tmp_path, model(nodes, {"x": [1, 8]}, ["gate_y"], SCALARS))
    assert s.totals.macs == 1 * 4 * 8  # batch 1: then_branch, a [1, 8] x [8, 4] MatMul
    # the weights of both branches (Constant nodes): the model's, whichever runs
    assert s.totals.params == 8 * 4 + 8 * 16
    assert s.tensors["gate_y"] == (1, 4)
    assert (s.status, [c.counted for c in s.control_flow]) == ("complete", ["then_branch"])
    s = summarize(tmp_path, model(nodes, {"x": [3, 8]}, ["gate_y"], SCALARS))
    assert (s.totals.macs, s.tensors["gate_y"]) == (3 * 16 * 8, (3, 16))  # batch 3: else


def test_an_if_nested_in_a_branch_is_decided_too(tmp_path):
    inner = shape_gate(matmul_branch("in_then", 2, source="outer_y"),
                       matmul_branch("in_else", 32, source="outer_y"), rank_of="x", name="inner")
    # The inner gate reads the outer x; its branches multiply the outer branch's [1, 8].
    outer_then = matmul_branch("outer", 8, inner)
    nodes = shape_gate(outer_then, matmul_branch("other", 16))
    s = summarize(tmp_path, model(nodes, {"x": [1, 8]}, ["gate_y"], SCALARS))
    assert s.totals.macs == 8 * 8 + 8 * 2  # outer then (8x8), inner then (8x2)
    assert s.totals.params == 8 * 8 + 8 * 2 + 8 * 32 + 8 * 16  # every branch's weights
    assert s.tensors["gate_y"] == (1, 2)
    assert [c.counted for c in s.control_flow] == ["then_branch", "then_branch"]


def test_an_undecided_if_infers_and_counts_its_nested_bodies(tmp_path):
    """The outer condition is data; inside each branch, a Shape-decided If is decided, a
    body's shape arithmetic folded, and parameters inside counted once each."""
    inner_then = shape_gate(matmul_branch("a", 2, source="t_y"), matmul_branch("b", 6,
                            source="t_y"), name="inner")
    outer_then = matmul_branch("t", 8, inner_then)
    nodes = [mk("ReduceMax", ["x"], ["m"], keepdims=0), mk("Greater", ["m", "zf"], ["c"]),
             mk("If", ["c"], ["y"], name="data_gate", then_branch=outer_then,
                else_branch=matmul_branch("e", 4))]
    zf = numpy_helper.from_array(np.array(0.0, np.float32), "zf")
    s = summarize(tmp_path, model(nodes, {"x": [1, 8]}, ["y"], [*SCALARS, zf]))
    gate = s.layer("data_gate")
    assert gate.macs == 8 * 8 + 8 * 2  # then (costlier: 80 MACs against else's 32)
    assert gate.params == 8 * 8 + 8 * 2 + 8 * 6 + 8 * 4  # every branch's weights, at any depth
    assert s.status == "partial"
    assert any(c.approximation and c.counted == "then_branch" for c in s.control_flow)


def test_an_if_on_data_inside_a_decided_branch_counts_its_costlier_branch(tmp_path):
    """The outer If is decided (batch 1: then); inside it, an If on the data whose branches
    multiply the outer branch's [1, 8] by [8, 2] (16 MACs) or [8, 32] (256 MACs): the
    costlier, else, is counted, and said to be an approximation."""
    inner = [mk("ReduceMax", ["outer_y"], ["in_m"], keepdims=0),
             mk("Greater", ["in_m", "zf"], ["in_c"]),
             mk("If", ["in_c"], ["in_y"], name="inner",
                then_branch=matmul_branch("in_then", 2, source="outer_y"),
                else_branch=matmul_branch("in_else", 32, source="outer_y"))]
    nodes = shape_gate(matmul_branch("outer", 8, inner), matmul_branch("other", 16))
    zf = numpy_helper.from_array(np.array(0.0, np.float32), "zf")
    s = summarize(tmp_path, model(nodes, {"x": [1, 8]}, ["gate_y"], [*SCALARS, zf]))
    assert s.totals.macs == 8 * 8 + 8 * 32  # outer then (8x8), inner else (8x32)
    assert s.totals.params == 8 * 8 + 8 * 2 + 8 * 32 + 8 * 16  # every branch's weights
    assert s.status == "partial"
    assert [(c.node, c.counted, c.approximation) for c in s.control_flow] == [
        ("gate", "then_branch", False), ("inner", "else_branch", True)]
    assert ("If 'inner': its condition depends on the data: the costlier branch (else_branch) "
            "is counted (then_branch: 16 MACs; else_branch: 256 MACs)") in s.incomplete


def test_an_if_on_data_inside_a_loop_body_counts_its_costlier_branch_each_iteration(tmp_path):
    """A Loop of 3 iterations (a constant trip count: exact) whose body multiplies its
    [1, 8] state by [8, 8], then, on the data, by [8, 16] and [16, 8] (256 MACs) or by
    [8, 8] (64 MACs): 3 * (64 + 256) MACs, the If said to be an approximation. (The
    costlier branch is then_branch here, else_branch in the test above: neither "always
    then" nor "always the first attribute" passes both.)"""
    def branch(name: str, widths: list[int]) -> onnx.GraphProto:
        nodes, source = [], "h1"
        for k, (a, b) in enumerate(zip(widths, widths[1:])):
            w = numpy_helper.from_array(np.ones((a, b), np.float32), f"{name}_v{k}")
            nodes += [mk("Constant", [], [f"{name}_w{k}"], value=w),
                      mk("MatMul", [source, f"{name}_w{k}"], [f"{name}_y{k}"])]
            source = f"{name}_y{k}"
        return helper.make_graph(nodes, name, [], [
            helper.make_tensor_value_info(source, TensorProto.FLOAT, [1, 8])])

    body = helper.make_graph(
        [mk("MatMul", ["h_in", "w"], ["h1"]), mk("ReduceMax", ["h1"], ["m"], keepdims=0),
         mk("Greater", ["m", "zf"], ["c"]),
         mk("If", ["c"], ["h_out"], name="gate", then_branch=branch("dear", [8, 16, 8]),
            else_branch=branch("cheap", [8, 8])),
         mk("Identity", ["c_in"], ["c_out"])], "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("c_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("h_in", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("c_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("h_out", TensorProto.FLOAT, [1, 8])])
    inits = [numpy_helper.from_array(np.array(3, np.int64), "trips"),
             numpy_helper.from_array(np.array(True), "true"), weight("w", 8, 8),
             numpy_helper.from_array(np.array(0.0, np.float32), "zf")]
    nodes = [mk("Loop", ["trips", "true", "x"], ["y"], body=body, name="loop")]
    s = summarize(tmp_path, model(nodes, {"x": [1, 8]}, ["y"], inits))
    # lint's finding is in that row too (the If itself is in no row of the main graph)
    from .test_lint_rules import lint

    (finding,) = [f for f in lint(tmp_path, model(nodes, {"x": [1, 8]}, ["y"], inits))
                  if f.code == "CNC203"]
    assert (finding.layer, finding.node) == ("loop", "gate")
    assert s.totals.macs == 3 * (8 * 8 + (8 * 16 + 16 * 8))
    assert s.totals.params == 8 * 8 + 8 * 8 + 8 * 16 + 16 * 8
    assert s.status == "partial"
    # both records in the row that holds the Loop
    assert [(c.node, c.layer, c.counted, c.approximation) for c in s.control_flow] == [
        ("gate", "loop", "then_branch", True), ("loop", "loop", "body x 3", False)]
    assert s.incomplete == ("If 'gate': inside 'loop': its condition depends on the data: the "
                            "costlier branch (then_branch) is counted",)


def test_a_loop_whose_trip_count_is_data_counts_one_iteration_and_says_so(tmp_path):
    body = helper.make_graph(
        [mk("MatMul", ["h_in", "w"], ["h_out"]), mk("Identity", ["c_in"], ["c_out"])], "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("c_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("h_in", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("c_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("h_out", TensorProto.FLOAT, [1, 8])])
    nodes = [mk("ReduceMax", ["x"], ["m"], keepdims=0), mk("Cast", ["m"], ["trips"], to=7),
             mk("Loop", ["trips", "true", "x"], ["y"], body=body, name="loop")]
    inits = [numpy_helper.from_array(np.array(True), "true"), weight("w", 8, 8)]
    s = summarize(tmp_path, model(nodes, {"x": [1, 8]}, ["y"], inits))
    assert s.totals.macs == 8 * 8
    (c,) = s.control_flow
    assert (c.counted, c.approximation) == ("body x 1", True)
    assert c.reason == "its trip count is not known: one iteration counted"
    assert s.status == "partial"


# ---------------------------------------------------------------------------------------------
# 2. Shape folding to a fixed point


def test_a_second_and_third_shape_chain_resolve(tmp_path):
    """Each Reshape's target comes from the shape of the previous Reshape's output, which only
    the previous round's fold makes known (behind a custom op that leaves a gap)."""
    nodes = [mk("Foo", ["x"], ["gap"], domain="c")]
    prev = "x"
    for k in range(3):
        nodes += [mk("Shape", [prev], [f"s{k}"]),
                  mk("Gather", [f"s{k}", "zero"], [f"b{k}"], axis=0),
                  mk("Unsqueeze", [f"b{k}", "axes"], [f"bu{k}"]),
                  mk("Concat", [f"bu{k}", "minus1"], [f"t{k}"], axis=0),
                  mk("Reshape", [prev, f"t{k}"], [f"r{k}"]),
                  mk("MatMul", [f"r{k}", f"w{k}"], [f"m{k}"])]
        prev = f"m{k}"
    inits = [*SCALARS, ints("axes", [0]), ints("minus1", [-1]),
             weight("w0", 24, 12), weight("w1", 12, 6), weight("w2", 6, 3)]
    m = model(nodes, {"x": [2, 3, 8]}, ["m2", "gap"], inits,
              extra_opsets=[helper.make_opsetid("c", 1)])
    s = summarize(tmp_path, m)
    assert [s.tensors[f"m{k}"] for k in range(3)] == [(2, 12), (2, 6), (2, 3)]
    assert s.layer("dense_2").macs == 2 * 3 * 6  # the third unnamed MatMul: Keras's dense_2


# ---------------------------------------------------------------------------------------------
# 3. The exporter's annotations


def annotated(shape: list[int]) -> onnx.ModelProto:
    """A custom op inference cannot see through, with the exporter's value_info for its output."""
    nodes = [mk("Mystery", ["x"], ["h"], domain="acme"), mk("MatMul", ["h", "w"], ["y"])]
    m = model(nodes, {"x": ["N", 8]}, ["y"], [weight("w", 16, 4)],
              extra_opsets=[helper.make_opsetid("acme", 1)])
    m.graph.value_info.append(helper.make_tensor_value_info("h", TensorProto.FLOAT, shape))
    return m


def test_the_exporters_value_info_fills_a_gap(tmp_path):
    s = summarize(tmp_path, annotated(["N", 16]))
    assert s.tensors["h"] == (1, 16)  # the symbol bound as the input's
    assert s.layer("dense").macs == 1 * 4 * 16


def test_value_info_is_not_trusted_for_other_input_shapes(tmp_path):
    s = summarize(tmp_path, annotated(["N", 16]), input_shapes={"x": (1, 9)})
    assert s.tensors["h"] is None  # the file declares x as [N, 8]: its annotations do not hold
    assert s.status == "partial"


def test_value_info_that_disagrees_with_inference_is_said(tmp_path):
    m = model([mk("Relu", ["x"], ["y"]), mk("Neg", ["y"], ["z"])], {"x": [1, 8]}, ["z"])
    m.graph.value_info.append(helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 9]))
    s = summarize(tmp_path, m)
    assert s.tensors["y"] == (1, 8)
    assert [d.message for d in s.diagnostics if d.kind == "annotation-mismatch"] == [
        "the exporter annotated 'y' as [1, 9], inference gives [1, 8]; inference's shape is "
        "used"]


# ---------------------------------------------------------------------------------------------
# 4. Integer tensors in external data


def external_shape_model(tmp_path: Path, location: str = "m.data", offset: int = 0,
                         length: int | None = 16) -> Path:
    """A Reshape whose int64 target [2, -1] lives in ``location``."""
    shape = onnx.TensorProto(name="shape", data_type=TensorProto.INT64, dims=[2])
    shape.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", str(offset)),
                       ("length", None if length is None else str(length))):
        if value is not None:
            entry = shape.external_data.add()
            entry.key, entry.value = key, value
    m = model([mk("Reshape", ["x", "shape"], ["r"]), mk("MatMul", ["r", "w"], ["y"])],
              {"x": [1, 2, 12]}, ["y"], [shape, weight("w", 12, 5)])
    path = tmp_path / "m.onnx"
    onnx.save(m, path)
    return path


def write_shape(path: Path, offset: int = 0) -> None:
    path.write_bytes(bytes(offset) + np.array([2, -1], np.int64).tobytes())


def test_integer_data_in_the_models_external_file_is_read(tmp_path):
    write_shape(tmp_path / "m.data")
    s = analyze(external_shape_model(tmp_path))
    assert (s.tensors["r"], s.totals.macs, s.status) == ((2, 12), 2 * 5 * 12, "complete")


def test_a_missing_external_file_is_one_partial_diagnostic(tmp_path):
    s = analyze(external_shape_model(tmp_path))
    assert s.tensors["r"] is None or not all(isinstance(d, int) for d in s.tensors["r"])
    assert s.status == "partial"
    assert s.incomplete[0].startswith("external data file 'm.data' is missing: 1 integer "
                                      "tensor (shapes, axes, indices) could not be read")


@pytest.mark.parametrize("case, why", [
    ("outside", "lies outside the model's directory"),
    ("absolute", "is not a relative path"),
    ("fifo", "is not a regular file"),
    ("past-end", "lie past the end of"),
    ("length", "does not hold 2 element(s) of 8 byte(s)"),
])
def test_integer_data_the_rules_refuse_is_never_read(tmp_path, case, why):
    inner = tmp_path / "model"
    inner.mkdir()
    location, length = "m.data", 16
    if case == "outside":
        write_shape(tmp_path / "secret.data")
        location = "../secret.data"
    elif case == "absolute":
        write_shape(tmp_path / "secret.data")
        location = str(tmp_path / "secret.data")
    elif case == "fifo":
        os.mkfifo(inner / "m.data")
    elif case == "past-end":
        (inner / "m.data").write_bytes(b"\x00" * 8)
    else:
        write_shape(inner / "m.data")
        length = 12
    s = analyze(external_shape_model(inner, location, length=length))
    assert s.status == "partial"
    assert any(why in line for line in s.incomplete), s.incomplete


def test_a_symlink_out_of_the_models_directory_is_refused(tmp_path):
    inner = tmp_path / "model"
    inner.mkdir()
    write_shape(tmp_path / "secret.data")
    (inner / "m.data").symlink_to(tmp_path / "secret.data")
    s = analyze(external_shape_model(inner))
    assert any("lies outside the model's directory" in line for line in s.incomplete)


def test_a_dynamo_export_with_its_integers_in_the_data_file(tmp_path):
    """torch's dynamo exporter, its tensors all in one external file (the int64 Reshape target
    among them): exact with the file, and without it complete too, every shape known from the
    exporter's value_info: the unread integers decided no figure, so the missing file is a note
    and the count is not partial (lint's CNC201/CNC205 do not fire)."""
    record = json.loads((EXPORTS / "torch_cnn.dynamo_external.json").read_text())
    with_file = analyze(EXPORTS / "torch_cnn.dynamo_external" / "torch_cnn.dynamo_external.onnx")
    assert (with_file.status, with_file.incomplete) == ("complete", ())
    assert with_file.totals.macs == int(record["macs"]) == 164_768
    shapes = record.get("shapes", {})
    assert all(with_file.tensors.get(k) == tuple(v) for k, v in shapes.items())
    shutil.copy(EXPORTS / "torch_cnn.dynamo_external.onnx", tmp_path / "alone.onnx")
    alone = analyze(tmp_path / "alone.onnx")
    assert (alone.status, alone.incomplete) == ("complete", ())
    assert alone.notes == ("note: external data file 'torch_cnn.dynamo_external.onnx.data' is "
                           "missing: 1 integer tensor (shapes, axes, indices) could not be read "
                           "('val_19'); the count is complete without it",)
    assert alone.diagnostics == ()
    assert all(alone.tensors[k] == with_file.tensors[k] for k in with_file.tensors)
    assert alone.totals.macs == 164_768  # the exporter's value_info shaped the Reshape
    # The exported graph folds the three BatchNorms into their convolutions (eval mode): their
    # 112 scales and shifts are no tensors of the file.
    assert with_file.totals.params == record["totals"]["trainable"] - 112


# ---------------------------------------------------------------------------------------------
# 5. Run-time constants are not parameters


def test_constants_made_from_an_activations_shape_are_not_parameters(tmp_path):
    nodes = [mk("Shape", ["x"], ["s"]),
             mk("ConstantOfShape", ["s"], ["zeros"],
                value=numpy_helper.from_array(np.array([0.5], np.float32))),
             mk("Add", ["x", "zeros"], ["a"]),  # a zero state, sized like the input
             mk("Gather", ["s", "one"], ["n"], axis=0),
             mk("Range", ["zero", "n", "one"], ["grid"]),  # an index grid
             mk("Cast", ["grid"], ["gridf"], to=1),
             mk("Add", ["a", "gridf"], ["b"]),
             mk("Add", ["b", "bias"], ["y"])]  # a real bias: stored data
    s = summarize(tmp_path, model(nodes, {"x": [1, 6]}, ["y"],
                                  [*SCALARS, weight("bias", 1, 6)]))
    assert s.totals.params == 6  # only the stored bias
    assert s.totals.connections == 6  # and only its Add is a bias (+1 per unit)


# ---------------------------------------------------------------------------------------------
# 7. Never a silent wrong number


def test_a_partial_count_shows_question_marks_and_says_why(tmp_path, capsys):
    nodes = [mk("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3], name="/conv/Conv"),
             mk("Mystery", ["c"], ["y"], domain="acme", name="/odd/Mystery")]
    m = model(nodes, {"x": [1, 1, 8, 8]}, ["y"], [weight("w", 2, 1, 3, 3)],
              extra_opsets=[helper.make_opsetid("acme", 1)])
    onnx.save(m, tmp_path / "m.onnx")
    code, out, _ = run(capsys, "summary", str(tmp_path / "m.onnx"))
    assert code == 0
    rows = out.splitlines()
    conv = next(r for r in rows if r.startswith("conv "))
    odd = next(r for r in rows if r.startswith("odd "))
    assert conv.split()[-1] == f"{3 * 3 * 2 * 6 * 6:,}"
    assert odd.split()[-3:] == ["0", "?", "?"]  # no parameters, known; its cost is not
    assert "MACs: ?" in rows
    assert rows[-1] == ("Partial count: 1 Mystery node(s) (domain acme) have no rule: their "
                        "cost is unknown; 1 shape could not be determined: shape inference could "
                        "not determine the shape of 'y' (Mystery '/odd/Mystery')")
    code, out, _ = run(capsys, "summary", str(tmp_path / "m.onnx"), "--format", "json")
    data = json.loads(out)
    assert (data["status"], data["totals"]["macs"], data["layers"][1]["macs"]) == (
        "partial", None, None)
    assert data["incomplete"][0].startswith("1 Mystery node(s)")


# ---------------------------------------------------------------------------------------------
# 8. Impossible bindings are errors, not numbers


def test_a_window_larger_than_the_bound_input_is_an_error_with_what_fits(capsys):
    code, out, err = run(capsys, "summary", str(EXAMPLES / "lenet5.onnx"), "--input-shape",
                         "image=1x1x8x8")
    assert (code, out) == (2, "")
    assert err == (f"cnncount: error: {EXAMPLES / 'lenet5.onnx'}: Conv '/C3/maps.0/Conv' "
                   "(5x5, stride 1) is larger than its padded input 2x2: output [1, 1, -2, -2]; "
                   "the smallest input that fits is --input-shape image=1x1x32x32\n")


def test_channels_that_contradict_the_weights_are_an_error(capsys):
    code, _, err = run(capsys, "summary", str(EXAMPLES / "lenet5.onnx"), "--input-shape",
                       "image=1x3x32x32")
    assert code == 2
    assert err.endswith("its input has 3 channels, but its weight [6, 1, 5, 5] reads 1; bind "
                        "the inputs with channels that fit (--input-shape)\n")


def test_a_dim_symbol_the_model_does_not_have_is_an_error(tmp_path, capsys):
    m = model([mk("Relu", ["x"], ["y"])], {"x": ["N", 3, "H", "W"]}, ["y"])
    onnx.save(m, tmp_path / "m.onnx")
    code, _, err = run(capsys, "summary", str(tmp_path / "m.onnx"), "--dim", "H=4", "--dim",
                       "W=4", "--dim", "Height=4")
    assert code == 2
    assert err.endswith("--dim Height: the model's inputs have no symbolic dim 'Height' (their "
                        "symbols: H, N, W)\n")
