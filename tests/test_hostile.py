"""Hostile and broken input: a model never makes cnncount read a file beside it, names never
reach a terminal or a CI log raw, and what cannot be used is the one-line error, in bounded
time and memory."""

from __future__ import annotations

import json
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from sphinx_cnncount.cli import main
from sphinx_cnncount.count import analyze

from .helpers import ints, model, weight

mk = helper.make_node

# ---------------------------------------------------------------------------------------------
# Every file cnncount opens while a test watches (an audit hook cannot be removed: it records
# only while a test asks it to).

_OPENED: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    if event == "open" and _OPENED is not None and isinstance(args[0], (str, bytes)):
        _OPENED.append(args[0] if isinstance(args[0], str) else args[0].decode(errors="replace"))


sys.addaudithook(_audit)


@pytest.fixture
def opened():
    global _OPENED
    _OPENED = []
    try:
        yield _OPENED
    finally:
        _OPENED = None


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def external(name: str, location: str, dtype=TensorProto.INT64, dims=(1,), length="8"
             ) -> onnx.TensorProto:
    """A tensor whose bytes are said to be in ``location``."""
    t = onnx.TensorProto(name=name, data_type=dtype, dims=list(dims))
    t.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", length)):
        if value is not None:
            entry = t.external_data.add()
            entry.key, entry.value = key, value
    return t


def gap_model(value_node: onnx.NodeProto, extra=(), functions=()) -> onnx.ModelProto:
    """A Reshape whose target shape comes from ``value_node`` (output ``c``), beside a custom
    op that leaves a shape gap (so the shape fold runs)."""
    nodes = [mk("Constant", [], ["s"], value=helper.make_tensor("sv", TensorProto.INT64, [1],
                                                                [1])),
             value_node,
             mk("Foo", ["x"], ["z"], domain="custom"),
             mk("Reshape", ["x", "c"], ["y"]), *extra]
    m = model(nodes, {"x": [1, 4]}, ["y", "z"], opset=17,
              extra_opsets=[helper.make_opsetid("custom", 1)])
    m.functions.extend(functions)
    return m


SECRET = b"SECRET12"  # 8 bytes: as an int64 dim, 3616764632464835923


def _secret_dim() -> int:
    return int.from_bytes(SECRET, "little")


@pytest.mark.parametrize("case", ["constant-of-shape", "constant", "sparse", "if-body",
                                  "function", "no-length"])
def test_a_tensor_attribute_in_external_data_is_never_read(tmp_path, capsys, opened,
                                                           monkeypatch, case):
    """The bytes of a file beside the model (or in the working directory) never become a dim."""
    (tmp_path / "secret.txt").write_bytes(SECRET)
    monkeypatch.chdir(tmp_path)
    secret = external("v", "secret.txt", length=None if case == "no-length" else "8")
    functions = []
    if case in ("constant-of-shape", "no-length"):
        node = mk("ConstantOfShape", ["s"], ["c"], value=secret)
    elif case == "constant":
        node = mk("Constant", [], ["c"], value=secret)
    elif case == "sparse":
        indices = numpy_helper.from_array(np.array([0], np.int64), "i")
        node = mk("Constant", [], ["c"], sparse_value=helper.make_sparse_tensor(secret, indices,
                                                                                 [1]))
    elif case == "if-body":
        body = helper.make_graph([mk("Constant", [], ["b"], value=secret)], "then", [],
                                 [helper.make_tensor_value_info("b", TensorProto.INT64, [1])])
        node = mk("If", ["cond"], ["c"], then_branch=body, else_branch=body)
    else:
        node = mk("Shapes", [], ["c"], domain="local")
        functions = [helper.make_function("local", "Shapes", [], ["c"],
                                          [mk("Constant", [], ["c"], value=secret)],
                                          [helper.make_opsetid("", 17)])]
    m = gap_model(node, functions=functions)
    if case == "if-body":
        m.graph.initializer.append(numpy_helper.from_array(np.array(True), "cond"))
    if functions:
        m.opset_import.append(helper.make_opsetid("local", 1))
    onnx.save(m, tmp_path / "evil.onnx")
    opened.clear()  # what the test itself wrote
    for fmt in ("json", "table"):
        code, out, err = run(capsys, "summary", "evil.onnx", "--format", fmt)
        assert code == 0, err
        assert str(_secret_dim()) not in out + err
        assert f"{_secret_dim():,}" not in out + err
    assert not [p for p in opened if p.endswith("secret.txt")]


# ---------------------------------------------------------------------------------------------
# Names reach human-readable outputs printable


# (No "/" in it: a node name's slashes are its module scopes.)
EVIL = "a\n::error file=forged.py,line=1::x\x1b[2J\x1b]0;title\x07\x1b]8;;x\x07\u202e"


def evil_model() -> onnx.ModelProto:
    return model([mk("Conv", ["x", "w"], ["c"], name=f"/{EVIL}/Conv"),
                  mk("Relu", ["c"], ["y"], name=f"/{EVIL}/Relu"),
                  mk(f"Op{EVIL}", ["y"], ["z"], name=f"/{EVIL}2/Op", domain="custom")],
                 {"x": [1, 1, 4, 4]}, ["z"], [weight("w", 2, 1, 3, 3)], opset=17,
                 extra_opsets=[helper.make_opsetid("custom", 1)])


def assert_clean(text: str) -> None:
    """Nothing but printable characters and newlines; no line a workflow command."""
    assert all(c.isprintable() or c == "\n" for c in text), repr(text)
    assert not any(line.startswith("::") for line in text.splitlines())


@pytest.mark.parametrize("argv", [["summary", "{m}"], ["summary", "{m}", "--format", "markdown"],
                                  ["lint", "{m}"], ["diff", "{m}", "{m2}"]])
def test_names_are_printable_in_every_text_output(tmp_path, capsys, argv):
    path = tmp_path / "m.onnx"
    onnx.save(evil_model(), path)
    other = evil_model()
    other.graph.node[0].name = f"/{EVIL}x/Conv"
    onnx.save(other, tmp_path / "m2.onnx")
    code, out, err = run(capsys, *(a.format(m=path, m2=tmp_path / "m2.onnx") for a in argv))
    assert code in (0, 1), err
    assert_clean(out)
    assert_clean(err)
    assert "\\n::error file=forged.py" in out + err  # shown, as its escape


def test_an_error_naming_a_bad_input_is_printable(tmp_path, capsys):
    m = model([mk("Relu", [EVIL], ["y"])], {EVIL: ["H", 4]}, ["y"])
    m.graph.input[0].type.tensor_type.shape.dim[0].dim_param = ""
    m.graph.input[0].type.tensor_type.shape.dim[1].dim_param = EVIL
    m.graph.input[0].type.tensor_type.shape.dim[1].ClearField("dim_value")
    onnx.save(m, tmp_path / "m.onnx")
    code, out, err = run(capsys, "summary", str(tmp_path / "m.onnx"))
    assert code == 2
    assert_clean(err)
    assert len(err.splitlines()) == 1


def test_markdown_cells_are_text_and_csv_cells_are_not_formulas(tmp_path, capsys):
    names = ["<script>alert(1)<script>", "<img src=x onerror=alert(1)>", "a|b\nc",
             "=HYPERLINK(\"x\")", "+cmd|' -C calc'!A0", "-2+3", "@SUM(A1)"]
    nodes = [mk("Relu", ["x" if k == 0 else f"t{k}"], [f"t{k + 1}"], name=n)
             for k, n in enumerate(names)]
    m = model(nodes, {"x": [1, 4]}, [f"t{len(names)}"])
    onnx.save(m, tmp_path / "m.onnx")
    code, out, _ = run(capsys, "summary", str(tmp_path / "m.onnx"), "--format", "markdown")
    assert code == 0
    assert "<script>" not in out and "<img" not in out
    assert "&lt;script&gt;alert(1)&lt;script&gt;" in out
    body = out.splitlines()
    assert len(body) == 2 + len(names) + 1  # header, rule, one line per layer, totals
    assert all(line.count(" | ") == 5 for line in body[2:])  # six cells each, | escaped
    code, out, _ = run(capsys, "summary", str(tmp_path / "m.onnx"), "--format", "csv")
    import csv
    import io

    rows = list(csv.reader(io.StringIO(out)))
    layer_cells = [r[0] for r in rows[1:-1]]
    assert layer_cells == ["<script>alert(1)<script>", "<img src=x onerror=alert(1)>",
                           "a|b\nc", "'=HYPERLINK(\"x\")", "'+cmd|' -C calc'!A0",
                           "'-2+3", "'@SUM(A1)"]


def test_sarif_uris_are_percent_encoded(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    m = model([mk("Relu", ["x"], ["y"]), mk("Neg", ["x"], ["dead"])], {"x": [1, 4]}, ["y"])
    onnx.save(m, tmp_path / "a b#c%20.onnx")
    code, out, _ = run(capsys, "lint", "a b#c%20.onnx", "--format", "sarif")
    assert code == 1
    log = json.loads(out)
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
            for r in log["runs"][0]["results"] for loc in r["locations"]}
    assert uris == {"a%20b%23c%2520.onnx"}
