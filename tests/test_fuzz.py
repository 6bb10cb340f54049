"""Mutated models get a result or the one-line error (exit 2), never an uncaught exception, in
every front end (summary, lint, the Sphinx rendering core), and never read a file beside them.

Protobuf-level mutations of valid models: nodes dropped and duplicated, dims and attributes
changed, tensor-valued attributes added (some pointing at external data), attribute types
swapped, names made invalid UTF-8, initializer dims made negative, bytes cut. CI runs 300 cases
(``CNNCOUNT_FUZZ_EXAMPLES`` sets more, as a hand run of 5,000 does).
"""

from __future__ import annotations

import os

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from sphinx_cnncount.cli import main

from .conftest import EXAMPLES
from .hostile_models import (HOSTILE_NAMES, calls_in_a_branch, lying_constant_of_shape,
                             named_chain, nested_ifs, nested_loops)

SECRET = b"FUZZSECR"  # 8 bytes beside every fuzzed model: never a dim


def _control_flow_model() -> onnx.ModelProto:
    """An If on a folded shape, a Loop, Constant nodes: what the counter's rounds walk."""
    mk = helper.make_node

    def branch(name, k):
        return helper.make_graph(
            [mk("Constant", [], [f"{name}_w"], value=numpy_helper.from_array(
                np.ones((4, k), np.float32), f"{name}_wv")),
             mk("MatMul", ["x", f"{name}_w"], [f"{name}_y"])], name, [],
            [helper.make_tensor_value_info(f"{name}_y", TensorProto.FLOAT, [1, k])])

    body = helper.make_graph(
        [mk("Relu", ["h_in"], ["h_out"]), mk("Identity", ["c_in"], ["c_out"])], "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("c_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("h_in", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("c_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("h_out", TensorProto.FLOAT, [1, 4])])
    nodes = [mk("Shape", ["x"], ["s"]), mk("Gather", ["s", "zero"], ["b"], axis=0),
             mk("Equal", ["b", "one"], ["cond"]),
             mk("If", ["cond"], ["y"], then_branch=branch("t", 3), else_branch=branch("e", 5)),
             mk("Loop", ["trips", "true", "x"], ["h"], body=body),
             mk("Reshape", ["h", "shape"], ["z"])]
    inits = [numpy_helper.from_array(np.array(0, np.int64), "zero"),
             numpy_helper.from_array(np.array(1, np.int64), "one"),
             numpy_helper.from_array(np.array(3, np.int64), "trips"),
             numpy_helper.from_array(np.array(True), "true"),
             numpy_helper.from_array(np.array([2, 2], np.int64), "shape")]
    g = helper.make_graph(nodes, "cf", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                      [1, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
                           helper.make_tensor_value_info("z", TensorProto.FLOAT, None)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m


SOURCES = {name: onnx.load(EXAMPLES / f"{name}.onnx") for name in ("lenet5", "keras_cnn")}
SOURCES["control_flow"] = _control_flow_model()
# The second round's hostile shapes: a ConstantOfShape whose declared output lies, function
# calls inside a branch, Ifs and Loops nested deep, names made of control characters.
SOURCES["declared_lie"] = lying_constant_of_shape(2)
SOURCES["calls_in_branch"] = calls_in_a_branch(6)
SOURCES["nested_ifs"] = nested_ifs(8)
SOURCES["nested_loops"] = nested_loops(6)
SOURCES["hostile_names"] = named_chain(HOSTILE_NAMES)

_ATTR_TYPES = [onnx.AttributeProto.INT, onnx.AttributeProto.INTS, onnx.AttributeProto.FLOAT,
               onnx.AttributeProto.STRING, onnx.AttributeProto.TENSOR, onnx.AttributeProto.GRAPH]


def _tensor(draw, name: str) -> onnx.TensorProto:
    dtype = draw(st.sampled_from([TensorProto.INT64, TensorProto.FLOAT, TensorProto.BOOL,
                                  TensorProto.INT8, TensorProto.STRING]))
    dims = draw(st.lists(st.sampled_from([0, 1, 2, 3, -1, 2**20]), max_size=3))
    t = onnx.TensorProto(name=name, data_type=dtype, dims=dims)
    if draw(st.booleans()):  # said to live in a file: the secret beside the model, or anywhere
        t.data_location = TensorProto.EXTERNAL
        for key, value in (("location", draw(st.sampled_from(["secret.bin", "../secret.bin",
                                                              "/etc/passwd", "missing.bin"]))),
                           ("offset", "0"), ("length", draw(st.sampled_from(["8", "", "99"])))):
            entry = t.external_data.add()
            entry.key, entry.value = key, value
    elif dtype != TensorProto.STRING and all(d >= 0 for d in dims) and np.prod(dims) < 64:
        t.raw_data = bytes(int(np.prod(dims)) * 8)[:draw(st.integers(0, 64))]
    return t


@st.composite
def mutated(draw):
    name = draw(st.sampled_from(sorted(SOURCES)))
    m = onnx.ModelProto()
    m.CopyFrom(SOURCES[name])
    nodes = m.graph.node
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(
            ["drop", "duplicate", "dim", "attr", "input", "initializer", "opset",
             "tensor-attr", "attr-type", "negative-dim", "declared-lie", "many-ints",
             "hostile-name", "hidden-data"]))
        node = nodes[draw(st.integers(0, len(nodes) - 1))] if len(nodes) else None
        if kind == "drop" and len(nodes) > 1:
            del nodes[draw(st.integers(0, len(nodes) - 1))]
        elif kind == "duplicate" and node is not None:
            nodes.append(node)
        elif kind == "dim":
            dims = m.graph.input[0].type.tensor_type.shape.dim
            d = dims[draw(st.integers(0, len(dims) - 1))]
            d.Clear()
            choice = draw(st.sampled_from(["value", "param", "none"]))
            if choice == "value":
                d.dim_value = draw(st.sampled_from([-1, 0, 1, 2, 3, 7, 2**40]))
            elif choice == "param":
                d.dim_param = draw(st.sampled_from(["N", "H", "W"]))
        elif kind == "attr" and node is not None and node.attribute:
            a = node.attribute[draw(st.integers(0, len(node.attribute) - 1))]
            if a.ints:
                a.ints[draw(st.integers(0, len(a.ints) - 1))] = draw(
                    st.sampled_from([-3, 0, 1, 5, 99]))
            elif a.type == onnx.AttributeProto.INT:
                a.i = draw(st.sampled_from([-3, 0, 1, 5, 99]))
            else:
                del a.ints[:]
        elif kind == "input" and node is not None and node.input:
            node.input[draw(st.integers(0, len(node.input) - 1))] = draw(
                st.sampled_from(["", "ghost", node.output[0] if node.output else ""]))
        elif kind == "initializer" and m.graph.initializer:
            inits = m.graph.initializer
            t = inits[draw(st.integers(0, len(inits) - 1))]
            if t.dims:
                t.dims[draw(st.integers(0, len(t.dims) - 1))] = draw(
                    st.sampled_from([0, 1, 3, 999]))
        elif kind == "negative-dim" and m.graph.initializer:
            t = m.graph.initializer[draw(st.integers(0, len(m.graph.initializer) - 1))]
            if t.dims:
                t.dims[0] = -draw(st.integers(1, 6))
        elif kind == "declared-lie" and node is not None and node.output:
            # the file declares a shape for a node's output that inference may not give it
            m.graph.value_info.append(helper.make_tensor_value_info(
                node.output[0], draw(st.sampled_from([TensorProto.INT64, TensorProto.FLOAT])),
                draw(st.sampled_from([[1], [2**40], [0], [3, 2**31]]))))
        elif kind == "many-ints":
            # many inline integer tensors, each copied by a node (folded when the pass runs)
            count = draw(st.integers(1, 200))
            m.graph.initializer.append(numpy_helper.from_array(
                np.arange(draw(st.sampled_from([1, 4096, 65536])), dtype=np.int64), "fz_ints"))
            nodes.extend(helper.make_node("Identity", ["fz_ints"], [f"fz_copy{k}"])
                         for k in range(count))
            m.graph.output.append(helper.make_tensor_value_info(f"fz_copy{count - 1}",
                                                                TensorProto.INT64, None))
        elif kind == "hostile-name" and node is not None:
            node.name = "/" + draw(st.sampled_from(HOSTILE_NAMES)) + "/" + node.op_type
        elif kind == "hidden-data" and m.graph.initializer:
            t = m.graph.initializer[draw(st.integers(0, len(m.graph.initializer) - 1))]
            del t.external_data[:]
            t.ClearField("raw_data")
            t.data_location = TensorProto.EXTERNAL
            for key, value in (("location", ".secret.bin"), ("offset", "0"), ("length", "8")):
                entry = t.external_data.add()
                entry.key, entry.value = key, value
        elif kind == "opset":
            m.opset_import[0].version = draw(st.sampled_from([1, 7, 13, 99]))
        elif kind == "tensor-attr" and node is not None:
            # a Constant's or ConstantOfShape's value, or a tensor where none belongs
            target = draw(st.sampled_from(["value", "sparse_value", "kernel_shape"]))
            for a in list(node.attribute):
                if a.name == target:
                    node.attribute.remove(a)
            t = _tensor(draw, "fuzz")
            if target == "sparse_value":
                indices = numpy_helper.from_array(np.array([0], np.int64), "i")
                node.attribute.append(helper.make_attribute(
                    target, helper.make_sparse_tensor(t, indices, [1])))
            else:
                node.attribute.append(helper.make_attribute(target, t))
        elif kind == "attr-type" and node is not None and node.attribute:
            a = node.attribute[draw(st.integers(0, len(node.attribute) - 1))]
            new = draw(st.sampled_from(_ATTR_TYPES))
            name_ = a.name
            a.Clear()
            a.name, a.type = name_, new
            if new == onnx.AttributeProto.INT:
                a.i = 3
            elif new == onnx.AttributeProto.INTS:
                a.ints.extend([3, 3])
            elif new == onnx.AttributeProto.FLOAT:
                a.f = 0.5
            elif new == onnx.AttributeProto.STRING:
                a.s = b"x"
            elif new == onnx.AttributeProto.TENSOR:
                a.t.CopyFrom(_tensor(draw, "t"))
            else:
                a.g.CopyFrom(helper.make_graph([], "g", [], []))
    data = m.SerializeToString()
    if draw(st.booleans()) and m.graph.node:  # a name that is not UTF-8
        victim = m.graph.node[draw(st.integers(0, len(m.graph.node) - 1))].op_type.encode()
        if victim:
            data = data.replace(victim, b"\xff" * len(victim), 1)
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return data


EXAMPLES_N = int(os.environ.get("CNNCOUNT_FUZZ_EXAMPLES", "300"))


def _one_line(code: int, out: str, err: str, structured: bool = True) -> None:
    assert code in (0, 1, 2), (code, err)
    assert "Traceback" not in err
    assert "internal error" not in err, err
    assert SECRET.decode() not in out + err
    assert str(int.from_bytes(SECRET, "little")) not in out + err


@settings(max_examples=EXAMPLES_N, deadline=20_000, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=mutated())
def test_mutated_models_never_crash(tmp_path, capsys, monkeypatch, data):
    from sphinx_cnncount.api import analyze
    from sphinx_cnncount.load import ModelError
    from sphinx_cnncount.render.svg import Diagram, render
    from sphinx_cnncount.sphinx_ext import table_node

    monkeypatch.chdir(tmp_path)
    (tmp_path / "secret.bin").write_bytes(SECRET)
    (tmp_path / ".secret.bin").write_bytes(SECRET)
    path = tmp_path / "fuzz.onnx"
    path.write_bytes(data)
    code = main(["summary", str(path), "--format", "json"])
    out, err = capsys.readouterr()
    _one_line(code, out, err)
    assert code in (0, 2)
    if code == 2:
        errors = [line for line in err.splitlines() if line.startswith("cnncount: error:")]
        assert len(errors) == 1 and errors[0] == err.splitlines()[-1]
        assert out == ""
        return
    assert out.startswith("{")
    code = main(["lint", str(path), "--isolated", "--format", "sarif"])
    out, err = capsys.readouterr()
    _one_line(code, out, err)
    # Names reach a terminal or a CI log only as printable text.
    for argv in (["summary", str(path), "--format", "csv"], ["summary", str(path)],
                 ["lint", str(path), "--isolated", "--format", "github", "--select", "ALL"]):
        code = main(argv)
        out, err = capsys.readouterr()
        _one_line(code, out, err)
        assert all(c.isprintable() or c == "\n" for c in out + err), repr(out + err)
        if "github" in argv:
            assert all(line.startswith("::") for line in out.splitlines())
        else:
            assert not any(line.startswith("::") for line in (out + err).splitlines())
    # The Sphinx rendering core: the table's nodes and both diagrams.
    try:
        s = analyze(path)
    except (ModelError, ValueError):
        return
    table_node(s, __import__("sphinx_cnncount.render", fromlist=["DEFAULT_COLUMNS"]).DEFAULT_COLUMNS)
    for kind in (Diagram.LENET, Diagram.GRAPH):
        assert render(kind, s, tuple((i, i + 1) for i in range(len(s.layers) - 1))) is not None


@pytest.mark.parametrize("cut", [1, 10, 100, 1000, 10_000])
def test_truncated_bytes(tmp_path, capsys, cut):
    data = (EXAMPLES / "lenet5.onnx").read_bytes()[:cut]
    path = tmp_path / "cut.onnx"
    path.write_bytes(data)
    assert main(["summary", str(path)]) == 2
    assert capsys.readouterr().err.startswith(f"cnncount: error: {path}: ")
