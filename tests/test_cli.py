"""The cnncount command: formats, golden output, and one-line errors (exit 2) for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from sphinx_cnncount.cli import main

from .conftest import EXAMPLES
from .helpers import model, weight
from .test_metrics import LENET5_FLOPS  # the hand derivation from the README's definitions

LENET = str(EXAMPLES / "lenet5.onnx")
KERAS = str(EXAMPLES / "keras_cnn.onnx")
mk = helper.make_node


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_table_golden(capsys, golden):
    code, out, err = run(capsys, "summary", LENET)
    assert (code, err) == (0, "")
    golden("lenet5.table.txt", out)


def test_json_golden_and_exact_values(capsys, golden):
    code, out, _ = run(capsys, "summary", LENET, "--format", "json")
    assert code == 0
    golden("lenet5.json", out)
    data = json.loads(out)
    assert data["totals"] == {"params": 60_840, "trainable_params": 60_840,
                              "non_trainable_params": 0, "connections": 340_908,
                              "macs": 325_680, "flops": sum(LENET5_FLOPS.values()),
                              "backward_macs": 533_760, "training_macs": 325_680 + 533_760,
                              "activation_bytes": 32_376, "peak_activation_bytes": 37_632,
                              # float32 weights: 4 bytes each
                              "param_bytes": 60_840 * 4, "trainable_param_bytes": 60_840 * 4,
                              "non_trainable_param_bytes": 0}
    assert data["inputs"] == [{"name": "image", "shape": [1, 1, 32, 32]}]
    assert data["outputs"] == [{"name": "rbf", "shape": [1, 10]}]
    c3 = next(layer for layer in data["layers"] if layer["name"] == "C3")
    assert (c3["params"], c3["connections"], c3["output_shape"]) == (1516, 151_600, [1, 16, 10, 10])
    assert data["tensors"]["C1_Conv_output_0"] == [1, 6, 28, 28]
    assert set(data["layers"][0]) == {
        "name", "op_types", "nodes", "output_shape", "params", "trainable_params",
        "non_trainable_params", "connections", "macs", "flops", "receptive_field",
        "backward_macs", "activation_bytes", "layout", "kind", "folded"}
    assert (data["layers"][0]["layout"], data["status"], data["incomplete"]) == (
        "NCHW", "complete", [])
    assert list(data) == ["model", "status", "incomplete", "inputs", "outputs", "totals",
                          "layers", "control_flow", "sizes", "edges", "folding", "tensors",
                          "diagnostics"]


def test_json_is_byte_identical_across_processes():
    cmd = [sys.executable, "-m", "sphinx_cnncount", "summary", KERAS, "--format", "json"]
    env = {**os.environ, "PYTHONHASHSEED": "random"}
    a = subprocess.run(cmd, capture_output=True, check=True, env=env).stdout
    b = subprocess.run(cmd, capture_output=True, check=True, env=env).stdout
    assert a == b and a


def test_markdown_and_csv(capsys, golden):
    code, out, err = run(capsys, "summary", KERAS, "--format", "markdown")
    assert code == 0
    assert err == ("cnncount: note: batch dim unk__32 of input 'input_1' set to 1 "
                   "(bind it with --dim unk__32=SIZE)\n")
    golden("keras_cnn.md", out)
    code, out, _ = run(capsys, "summary", KERAS, "--format", "csv", "--dim", "unk__32=2")
    lines = out.splitlines()
    assert lines[0].startswith("layer,type,op_types,output_shape,params,")
    assert lines[1] == "conv2d,Conv,Transpose+Conv+Relu,2x32x26x26,320,320,0,{},{},{},{},{},3/1".format(
        2 * (3 * 3 + 1) * 32 * 26 * 26, 2 * 9 * 32 * 26 * 26,
        # 2 FLOPs per MAC, the bias add, the ReLU
        2 * (2 * 9 * 32 * 26 * 26) + 2 * 32 * 26 * 26 + 2 * 32 * 26 * 26,
        2 * 9 * 32 * 26 * 26,  # backward: the weight gradient only; the input needs none
        2 * 32 * 26 * 26 * 4)  # the float32 activations conv2d hands to max_pooling2d
    assert lines[-1].startswith("total,,,,101578,101578,0,")


def test_columns_and_depth(capsys):
    code, out, _ = run(capsys, "summary", LENET, "--depth", "2", "--columns", "layer,params")
    assert code == 0
    rows = [line.split() for line in out.splitlines()]
    assert ["C3.maps.0", "76"] in rows and ["C3.maps.15", "151"] in rows


def test_input_shape_rebinds(capsys):
    code, out, _ = run(capsys, "summary", KERAS, "--input-shape", "input_1=1x56x56x1",
                       "--format", "json")
    data = json.loads(out)
    assert data["layers"][0]["output_shape"] == [1, 32, 54, 54]


def test_python_dash_m():
    r = subprocess.run([sys.executable, "-m", "sphinx_cnncount", "summary", LENET,
                        "--columns", "layer,params"], capture_output=True, text=True)
    assert r.returncode == 0 and ["C3", "1,516"] in [line.split() for line in r.stdout.splitlines()]


# ---------------------------------------------------------------------------------------------
# Bad input: one line on stderr, exit 2, no traceback.


def save(tmp_path, m, name="bad.onnx"):
    p = tmp_path / name
    onnx.save(m, p)
    return str(p)


def conv_model(**kw):
    nodes = [mk("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3])]
    return model(nodes, kw.get("inputs", {"x": [1, 1, 8, 8]}), ["y"], [weight("w", 2, 1, 3, 3)])


def cases(tmp_path):
    d = tmp_path
    (d / "empty.onnx").write_bytes(b"")
    (d / "random.onnx").write_bytes(np.random.default_rng(0).bytes(4096))
    (d / "text.onnx").write_text("this is not a model\n")
    full = onnx.load(LENET).SerializeToString()
    (d / "truncated.onnx").write_bytes(full[: len(full) // 2])
    (d / "tensor.onnx").write_bytes(numpy_helper.from_array(np.zeros(3, np.float32), "t")
                                    .SerializeToString())
    os.mkdir(d / "dir.onnx")
    cyc = model([mk("Relu", ["b"], ["a"], name="r1"), mk("Relu", ["a"], ["b"], name="r2"),
                 mk("Relu", ["x"], ["y"])], {"x": [1]}, ["y"])
    missing = model([mk("Add", ["x", "ghost"], ["y"], name="add")], {"x": [1]}, ["y"])
    twice = model([mk("Relu", ["x"], ["y"], name="r1"), mk("Sigmoid", ["x"], ["y"], name="r2")],
                  {"x": [1]}, ["y"])
    orphan = model([mk("Relu", ["x"], ["y"])], {"x": [1]}, ["y", "z"])
    zero = conv_model(inputs={"x": [1, 0, 8, 8]})
    unbound = conv_model(inputs={"x": [1, 1, "H", "W"]})
    newer = conv_model()
    newer.opset_import[0].version = onnx.defs.onnx_opset_version() + 5
    return {
        "missing path": (str(d / "nope.onnx"), "no such file"),
        "directory": (str(d / "dir.onnx"), "is a directory, not an ONNX file"),
        "empty": (str(d / "empty.onnx"), "is empty, not an ONNX model"),
        "random bytes": (str(d / "random.onnx"), "is not an ONNX model (it does not parse as "
                                                 "one)"),
        "text file": (str(d / "text.onnx"), None),
        "truncated": (str(d / "truncated.onnx"), "is not a readable ONNX model: it starts like "
                                                 "one but does not parse (truncated or "
                                                 "damaged?); export or download it again"),
        "protobuf not a model": (str(d / "tensor.onnx"), None),
        "cycle": (save(d, cyc, "cycle.onnx"),
                  "the graph has a cycle ('r1' (Relu) -> 'r2' (Relu)); it cannot be evaluated"),
        "missing producer": (save(d, missing, "missing.onnx"),
                             "node 'add' (Add) reads tensor 'ghost', which no node, input or "
                             "initializer provides"),
        "written twice": (save(d, twice, "twice.onnx"),
                          "tensor 'y' is written twice (by node 'r1' (Relu) and node 'r2' "
                          "(Sigmoid)); re-export the model"),
        "output nobody writes": (save(d, orphan, "orphan.onnx"),
                                 "graph output 'z' is produced by no node, input or initializer"),
        "zero dim": (save(d, zero, "zero.onnx"),
                     "input 'x' has dim 0 at axis 1 (not a size); give its whole shape with "
                     "--input-shape x=1xSIZEx8x8"),
        "unbound symbol": (save(d, unbound, "unbound.onnx"),
                           "input 'x' has symbolic dims 'H' (axis 2) and 'W' (axis 3); bind "
                           "them with --dim H=SIZE --dim W=SIZE, or give the whole shape with "
                           "--input-shape x=1x1xSIZExSIZE"),
        "opset too new": (save(d, newer, "newer.onnx"),
                          f"uses opset {onnx.defs.onnx_opset_version() + 5}, newer than the "
                          f"installed onnx {onnx.__version__} knows (up to "
                          f"{onnx.defs.onnx_opset_version()}); upgrade onnx"),
    }


CASE_NAMES = ["missing path", "directory", "empty", "random bytes", "text file", "truncated",
              "protobuf not a model", "cycle", "missing producer", "written twice",
              "output nobody writes", "zero dim",
              "unbound symbol", "opset too new"]


@pytest.mark.parametrize("case", CASE_NAMES)
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, case):
    path, reason = cases(tmp_path)[case]
    code, out, err = run(capsys, "summary", path)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"cnncount: error: {path}: ")
    if reason is not None:
        assert err == f"cnncount: error: {path}: {reason}\n"


def test_unbound_symbol_bound_with_dim(tmp_path, capsys):
    path, _ = cases(tmp_path)["unbound symbol"]
    code, out, _ = run(capsys, "summary", path, "--dim", "H=10", "--dim", "W=12", "--format",
                       "json")
    assert code == 0
    assert json.loads(out)["layers"][0]["output_shape"] == [1, 2, 8, 10]


def test_bad_flags_are_one_line(capsys):
    code, _, err = run(capsys, "summary", LENET, "--dim", "H")
    assert (code, err) == (2, "cnncount: error: --dim expects SYMBOL=N, got 'H'\n")
    code, _, err = run(capsys, "summary", LENET, "--columns", "layer,bogus")
    assert code == 2 and err.startswith("cnncount: error: unknown column 'bogus'")
    code, _, err = run(capsys, "summary", LENET, "--input-shape", "nope=1x2")
    assert (code, err) == (2, f"cnncount: error: {LENET}: --input-shape names 'nope', but the "
                              "model's inputs are ['image']\n")


def test_external_data_is_never_opened(tmp_path, capsys):
    """Weights point at a FIFO and at ../../etc/passwd: counting uses dims, opens neither."""
    m = conv_model()
    w = m.graph.initializer[0]
    w.ClearField("raw_data")
    w.ClearField("float_data")
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", "../../etc/passwd"), ("offset", "0"), ("length", "72")):
        w.external_data.add(key=k, value=v)
    p = save(tmp_path, m, "ext.onnx")
    os.mkfifo(tmp_path / "fifo")
    code, out, err = run(capsys, "summary", p, "--format", "json")
    assert code == 0, err
    assert json.loads(out)["totals"]["params"] == 2 * 9
    w.external_data[0].value = str(tmp_path / "fifo")
    p = save(tmp_path, m, "fifo.onnx")
    code, out, _ = run(capsys, "summary", p, "--format", "json")  # would block if opened
    assert code == 0 and json.loads(out)["totals"]["params"] == 2 * 9


def test_warning_for_unsupported_op_goes_to_stderr(tmp_path, capsys):
    nodes = [mk("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3]),
             mk("Mystery", ["c"], ["y"], domain="acme", name="m")]
    m = model(nodes, {"x": [1, 1, 8, 8]}, ["y"], [weight("w", 2, 1, 3, 3)],
              extra_opsets=[helper.make_opsetid("acme", 1)])
    code, out, err = run(capsys, "summary", save(tmp_path, m), "--format", "json")
    assert code == 0
    assert "cnncount: warning:" in err and "no rule for op Mystery (domain acme)" in err
    data = json.loads(out)
    assert data["layers"][0]["macs"] == 9 * 2 * 6 * 6
    assert (data["totals"]["macs"], data["status"]) == (None, "partial")


def test_help_does_not_import_heavy_modules():
    code = ("import sys; from sphinx_cnncount.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('onnx', 'networkx', 'sphinx') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"


def test_protobuf_over_2_gib_is_refused_before_reading(tmp_path, capsys):
    """protobuf cannot parse a message of 2 GiB; a sparse file says so without being read."""
    big = tmp_path / "big.onnx"
    with open(big, "wb") as f:
        f.truncate(2**31)
    code, out, err = run(capsys, "summary", str(big))
    assert code == 2
    assert err == (f"cnncount: error: {big}: is {2**31:,} bytes, over protobuf's 2 GiB limit; "
                   "save the model with its weights as external data\n")


def test_csv_takes_the_columns_asked_for(capsys):
    code, out, _ = run(capsys, "summary", LENET, "--format", "csv", "--columns",
                       "layer,output,params,receptive_field")
    assert code == 0
    assert out.splitlines()[:3] == ["layer,output_shape,params,receptive_field",
                                    f"C1,1x6x28x28,{(5 * 5 + 1) * 6},5/1",
                                    f"S2,1x6x14x14,{6 + 6},6/2"]
    assert out.splitlines()[-1] == "total,,60840,"
