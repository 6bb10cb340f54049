"""Mutated models get a result or the one-line error (exit 2), never an uncaught exception."""

from __future__ import annotations

import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sphinx_cnncount.cli import main

from .conftest import EXAMPLES

SOURCES = {name: onnx.load(EXAMPLES / f"{name}.onnx") for name in ("lenet5", "keras_cnn")}


@st.composite
def mutated(draw):
    name = draw(st.sampled_from(sorted(SOURCES)))
    m = onnx.ModelProto()
    m.CopyFrom(SOURCES[name])
    nodes = m.graph.node
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(
            ["drop", "duplicate", "dim", "attr", "input", "initializer", "opset"]))
        if kind == "drop" and len(nodes) > 1:
            del nodes[draw(st.integers(0, len(nodes) - 1))]
        elif kind == "duplicate":
            nodes.append(nodes[draw(st.integers(0, len(nodes) - 1))])
        elif kind == "dim":
            dims = m.graph.input[0].type.tensor_type.shape.dim
            d = dims[draw(st.integers(0, len(dims) - 1))]
            d.Clear()
            choice = draw(st.sampled_from(["value", "param", "none"]))
            if choice == "value":
                d.dim_value = draw(st.sampled_from([-1, 0, 1, 2, 3, 7, 2**40]))
            elif choice == "param":
                d.dim_param = draw(st.sampled_from(["N", "H", "W"]))
        elif kind == "attr":
            node = nodes[draw(st.integers(0, len(nodes) - 1))]
            if node.attribute:
                a = node.attribute[draw(st.integers(0, len(node.attribute) - 1))]
                if a.ints:
                    a.ints[draw(st.integers(0, len(a.ints) - 1))] = draw(
                        st.sampled_from([-3, 0, 1, 5, 99]))
                elif a.type == onnx.AttributeProto.INT:
                    a.i = draw(st.sampled_from([-3, 0, 1, 5, 99]))
                else:
                    del a.ints[:]
        elif kind == "input":
            node = nodes[draw(st.integers(0, len(nodes) - 1))]
            if node.input:
                node.input[draw(st.integers(0, len(node.input) - 1))] = draw(
                    st.sampled_from(["", "ghost", node.output[0]]))
        elif kind == "initializer":
            inits = m.graph.initializer
            t = inits[draw(st.integers(0, len(inits) - 1))]
            if t.dims:
                t.dims[draw(st.integers(0, len(t.dims) - 1))] = draw(st.sampled_from([0, 1, 3, 999]))
        elif kind == "opset":
            m.opset_import[0].version = draw(st.sampled_from([1, 7, 13, 99]))
    data = m.SerializeToString()
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return data


@settings(max_examples=150, deadline=10_000, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=mutated())
def test_mutated_models_never_crash(tmp_path, capsys, data):
    path = tmp_path / "fuzz.onnx"
    path.write_bytes(data)
    code = main(["summary", str(path), "--format", "json"])
    out, err = capsys.readouterr()
    assert code in (0, 2)
    assert "Traceback" not in err
    assert "internal error" not in err
    if code == 2:
        errors = [line for line in err.splitlines() if line.startswith("cnncount: error:")]
        assert len(errors) == 1 and errors[0] == err.splitlines()[-1]
        assert out == ""
    else:
        assert out.startswith("{")


@pytest.mark.parametrize("cut", [1, 10, 100, 1000, 10_000])
def test_truncated_bytes(tmp_path, capsys, cut):
    data = (EXAMPLES / "lenet5.onnx").read_bytes()[:cut]
    path = tmp_path / "cut.onnx"
    path.write_bytes(data)
    assert main(["summary", str(path)]) == 2
    assert capsys.readouterr().err.startswith(f"cnncount: error: {path}: ")
