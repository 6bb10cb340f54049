"""Hostile and broken input: a model never makes cnncount read a file beside it, names never
reach a terminal or a CI log raw, and what cannot be used is the one-line error, in bounded
time and memory."""

from __future__ import annotations

import json
import re
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from sphinx_cnncount.cli import main
from sphinx_cnncount.api import analyze

from .helpers import ints, model, weight
from .hostile_models import (HOSTILE_NAMES, calls_in_a_branch, huge_rank_model,
                             lying_constant_of_shape, named_chain, nested_ifs, nested_loops)

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
    nodes = [mk("Relu", ["x" if k == 0 else f"t{k}"], [f"t{k + 1}"], name=f"/{n}/Relu")
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
                           "a|b\\nc", "'=HYPERLINK(\"x\")", "'+cmd|' -C calc'!A0",
                           "'-2+3", "'@SUM(A1)"]


# A "|" that markdown reads as a cell boundary: one not escaped by a backslash, i.e. preceded by
# an even number of them (none, or "\\" pairs that are escaped backslashes).
_CELL_BOUNDARY = re.compile(r"(?<!\\)(?:\\\\)*\|")


def test_a_pipe_in_a_layer_name_stays_inside_its_markdown_cell(tmp_path, capsys):
    r"""``a|b`` is written ``a\|b``; ``c\|d`` (a backslash of its own before the pipe) is
    ``c\\\|d``: the backslash escaped too, else ``\\|`` would end the cell. Every line has
    as many cell boundaries as the header: 6 columns, 7 pipes."""
    names = ["a|b", "c\\|d"]
    nodes = [mk("Relu", ["x" if k == 0 else f"t{k}"], [f"t{k + 1}"], name=f"/{n}/Relu")
             for k, n in enumerate(names)]
    onnx.save(model(nodes, {"x": [1, 4]}, [f"t{len(names)}"]), tmp_path / "m.onnx")
    code, out, _ = run(capsys, "summary", str(tmp_path / "m.onnx"), "--format", "markdown")
    assert code == 0
    lines = out.splitlines()
    assert len(_CELL_BOUNDARY.findall(lines[0])) == 6 + 1
    assert [len(_CELL_BOUNDARY.findall(line)) for line in lines] == [6 + 1] * (2 + 2 + 1)
    assert [line.split(" | ")[0] for line in lines[2:4]] == ["| a\\|b", "| c\\\\\\|d"]


def test_sarif_uris_are_percent_encoded(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    m = model([mk("Relu", ["x"], ["y"]), mk("Neg", ["x"], ["dead"])], {"x": [1, 4]}, ["y"])
    onnx.save(m, tmp_path / "a b#c%20.onnx")
    code, out, _ = run(capsys, "lint", "a b#c%20.onnx", "--format", "sarif")
    assert code == 0  # a dead node is a warning: reported, not failing
    log = json.loads(out)
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
            for r in log["runs"][0]["results"] for loc in r["locations"]}
    assert uris == {"a%20b%23c%2520.onnx"}


# ---------------------------------------------------------------------------------------------
# Bounded runs: a regression fails instead of taking the machine down.

import os  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

MEMORY = 3 * 2**30  # bytes of address space a bounded run may take


def bounded(argv: list[str], timeout: float = 60, cwd=None, memory: int = MEMORY
            ) -> tuple[int, str, str, float]:
    """``cnncount ARGV`` in a process of its own, with its memory and time capped."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    start = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "sphinx_cnncount", *argv], capture_output=True,
                       text=True, timeout=timeout, preexec_fn=limit, cwd=cwd,
                       env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    return p.returncode, p.stdout, p.stderr, time.monotonic() - start


from pathlib import Path  # noqa: E402


def one_line_error(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("cnncount: error: "), err
    assert "Traceback" not in err and "internal error" not in err
    return lines[0]


def failure(argv: list[str], out: str, err: str) -> str:
    """The one line that says a model could not be read: on stderr for ``summary``; for
    ``lint``, its CNC000 finding in the report (and nothing on stderr: said once)."""
    if argv[0] != "lint":
        return one_line_error(err)
    assert err == "" and "Traceback" not in out and "internal error" not in out
    (line,) = [line for line in out.splitlines() if " CNC000 [error] " in line]
    return line


# 5. Crashes: a valid Slice to a zero side, Pad with negative pads, drawn and rendered.

def zero_side_model(op: str) -> onnx.ModelProto:
    if op == "slice":
        nodes = [mk("Slice", ["x", "s", "e", "a"], ["y"], name="/cut/Slice"),
                 mk("Relu", ["y"], ["z"], name="/act/Relu")]
        inits = [ints("s", [0]), ints("e", [0]), ints("a", [2])]
    else:
        nodes = [mk("Pad", ["x", "p"], ["y"], name="/pad/Pad"),
                 mk("Relu", ["y"], ["z"], name="/act/Relu")]
        inits = [ints("p", [0, 0, -1, -1, 0, 0, -1, -1])]
    return model(nodes, {"x": [1, 2, 3, 3]}, ["z"], inits, opset=17)


@pytest.mark.parametrize("op", ["slice", "pad"])
def test_zero_and_shrunk_sides_are_drawn_without_a_crash(tmp_path, op):
    from sphinx_cnncount.render.diagram import Diagram, render

    onnx.save(zero_side_model(op), tmp_path / "m.onnx")
    s = analyze(tmp_path / "m.onnx")
    side = 0 if op == "slice" else 1
    assert s.tensors["z"] == ((1, 2, side, 3) if op == "slice" else (1, 2, 1, 1))
    for kind in (Diagram.LENET, Diagram.GRAPH):
        svg = render(kind, s, ((0, 1),))
        assert svg.startswith("<svg") and "nan" not in svg


# 6. Invalid UTF-8 in op types and names.

@pytest.mark.parametrize("field", ["name", "op_type", "input"])
def test_names_that_are_not_utf8_are_a_one_line_error(tmp_path, capsys, field):
    m = model([mk("Relu", ["x"], ["y"], name="okname")], {"x": [1, 4]}, ["y"])
    data = m.SerializeToString()
    target = {"name": b"okname", "op_type": b"Relu", "input": b"\x0a\x01x"}[field]
    bad = {"name": b"\xff\xfename", "op_type": b"\xff\xfe\xfd\xfc", "input": b"\x0a\x01\xff"}[field]
    (tmp_path / "m.onnx").write_bytes(data.replace(target, bad, 1))
    code, out, err = run(capsys, "summary", str(tmp_path / "m.onnx"))
    assert code == 2 and out == ""
    assert "not UTF-8" in one_line_error(err)


# 7 and 11. Declarations a decimal context would choke on, or that would take minutes.

@pytest.mark.parametrize("value, message", [
    ("0.0000000000000000000000000000608M", "is not a count to a whole unit"),
    ("1e10000000", "is too large to be a count"),
    ("9" * 5000, "is too long to be a count"),
])
def test_declared_numbers_that_are_no_count_are_bad_declarations(tmp_path, value, message):
    from sphinx_cnncount.declare import DeclarationError, parse_number

    start = time.monotonic()
    with pytest.raises(DeclarationError, match=message):
        parse_number(value)
    assert time.monotonic() - start < 1


def test_lint_reports_an_absurd_declaration_at_its_line(tmp_path, capsys):
    from .conftest import EXAMPLES

    (tmp_path / "e.toml").write_text('[total]\nparams = "1e10000000"\nmacs = 325680\n')
    code, out, _ = run(capsys, "lint", str(EXAMPLES / "lenet5.onnx"), "--expect",
                       str(tmp_path / "e.toml"), "--isolated", "--select", "CNC0")
    assert code == 1
    assert out.splitlines()[0] == (f"{tmp_path / 'e.toml'}:2: CNC003 [error] total: params: "
                                   "'1e10000000' is too large to be a count")


# 8. Attributes of the wrong type and other malformed nodes: a one-line error, never internal.

def conv(**attrs):
    return model([mk("Conv", ["x", "w"], ["y"], name="c", **attrs)], {"x": [1, 1, 8, 8]},
                 ["y"], [weight("w", 2, 1, 3, 3)], opset=17)


MALFORMED = {
    "strides-as-int": lambda: conv(strides=2),
    "kernel-shape-as-int": lambda: conv(kernel_shape=3),
    "graph-for-ints": lambda: conv(pads=helper.make_graph([], "g", [], [])),
    "tensor-for-ints": lambda: conv(dilations=helper.make_tensor("t", TensorProto.INT64, [2],
                                                                 [1, 1])),
    "shape-without-input": lambda: model([mk("Shape", [], ["s"])], {"x": [1]}, ["s"],
                                         opset=17),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_nodes_are_one_line_errors(tmp_path, capsys, case):
    onnx.save(MALFORMED[case](), tmp_path / "m.onnx")
    for argv in (["summary", str(tmp_path / "m.onnx")], ["lint", str(tmp_path / "m.onnx"),
                                                         "--isolated"]):
        code, out, err = run(capsys, *argv)
        assert code == 2, (case, out, err)
        assert "does not fit the ONNX schema" in failure(argv, out, err)


def test_size_of_a_huge_tensor_is_no_int64_overflow(tmp_path):
    side = 2**40
    nodes = [mk("Size", ["x"], ["n"]), mk("Relu", ["x"], ["y"])]
    onnx.save(model(nodes, {"x": [side, side, side]}, ["n", "y"], opset=17), tmp_path / "m.onnx")
    s = analyze(tmp_path / "m.onnx")
    assert s.totals.flops == side**3  # exact: Python ints


def test_a_huge_scope_metadata_string_is_ignored(tmp_path):
    node = mk("Relu", ["x"], ["y"], name="r")
    entry = node.metadata_props.add()
    entry.key, entry.value = "pkg.torch.onnx.name_scopes", "[" + "1+" * 50_000 + "1]"
    onnx.save(model([node], {"x": [1, 4]}, ["y"], opset=17), tmp_path / "m.onnx")
    s = analyze(tmp_path / "m.onnx")
    assert [layer.name for layer in s.layers] == ["r"]


@pytest.mark.parametrize("toml, message", [
    ('[tool.cnncount]\ninput-shapes = {image = 5}\n',
     'input-shapes.image must be a shape: "1x3x224x224" or [1, 3, 224, 224]'),
    ('tool = 5\n', "[tool] must be a table"),
    ('[tool.cnncount]\ndims = {H = 0}\n', "dims values must be positive ints below 2^63"),
])
def test_bad_configuration_values_are_one_line_errors(tmp_path, capsys, toml, message):
    from .conftest import EXAMPLES

    (tmp_path / "pyproject.toml").write_text(toml)
    code, out, err = run(capsys, "lint", str(EXAMPLES / "lenet5.onnx"), "--config",
                         str(tmp_path / "pyproject.toml"))
    assert code == 2
    assert message in one_line_error(err)


# 9. A function that calls the previous one twice, 20 and 24 levels deep.

def function_bomb(levels: int) -> onnx.ModelProto:
    functions = [helper.make_function("bomb", "F0", ["a"], ["b"], [mk("Relu", ["a"], ["b"])],
                                      [helper.make_opsetid("", 17)])]
    for k in range(1, levels + 1):
        functions.append(helper.make_function(
            "bomb", f"F{k}", ["a"], ["b"],
            [mk(f"F{k - 1}", ["a"], ["m"], domain="bomb"),
             mk(f"F{k - 1}", ["m"], ["b"], domain="bomb")], [helper.make_opsetid("", 17),
                                                              helper.make_opsetid("bomb", 1)]))
    m = model([mk(f"F{levels}", ["x"], ["y"], domain="bomb")], {"x": [1, 4]}, ["y"], opset=17,
              extra_opsets=[helper.make_opsetid("bomb", 1)])
    m.functions.extend(functions)
    return m


@pytest.mark.parametrize("levels", [20, 24, 60])
def test_a_function_bomb_is_refused_before_it_inlines(tmp_path, levels):
    onnx.save(function_bomb(levels), tmp_path / "bomb.onnx")
    assert (tmp_path / "bomb.onnx").stat().st_size < 20_000
    code, out, err, seconds = bounded(["summary", str(tmp_path / "bomb.onnx")])
    assert code == 2
    line = one_line_error(err)
    assert "its functions expand to" in line and "over the limit of 1,000,000" in line


def test_a_function_that_calls_itself_is_refused(tmp_path):
    m = function_bomb(1)
    m.functions[1].node[0].op_type = "F1"  # F1 calls F1
    onnx.save(m, tmp_path / "loop.onnx")
    code, _, err, _ = bounded(["summary", str(tmp_path / "loop.onnx")])
    assert code == 2 and "over the limit" in one_line_error(err)


# 10. A Range whose length inference cannot see is never evaluated before its size is known.

def test_a_huge_range_is_not_allocated(tmp_path):
    nodes = [mk("Shape", ["x"], ["s"]), mk("ReduceProd", ["s"], ["n"], keepdims=0),
             mk("Mul", ["n", "big"], ["limit"]),
             mk("Range", ["zero", "limit", "one"], ["r"]), mk("Foo", ["x"], ["z"], domain="c"),
             mk("Shape", ["r"], ["rs"])]
    inits = [numpy_helper.from_array(np.array(2**31, np.int64), "big"),
             numpy_helper.from_array(np.array(0, np.int64), "zero"),
             numpy_helper.from_array(np.array(1, np.int64), "one")]
    m = model(nodes, {"x": [1, 4]}, ["rs", "z"], inits, opset=17,
              extra_opsets=[helper.make_opsetid("c", 1)])
    (tmp_path / "range.onnx").write_bytes(m.SerializeToString())
    code, out, err, _ = bounded(["summary", str(tmp_path / "range.onnx"), "--format", "json"])
    assert code == 0, err
    assert json.loads(out)["tensors"]["r"] == [2**33]  # its length, known; no value made


# 12 and 13. Files that are not regular, and lines made to backtrack.

@pytest.mark.parametrize("kind", ["dev-zero", "fifo"])
def test_lint_docs_reads_only_regular_files(tmp_path, kind):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "conf.py").write_text("")
    if kind == "dev-zero":
        (docs / "page.rst").symlink_to("/dev/zero")
    else:
        os.mkfifo(docs / "page.rst")
    code, out, err, seconds = bounded(["lint", "--docs", str(docs), "--isolated"], timeout=60)
    assert code == 2
    assert "is not a regular file" in out + err


def test_expect_dev_zero_is_refused(tmp_path):
    from .conftest import EXAMPLES

    code, out, err, _ = bounded(["lint", str(EXAMPLES / "lenet5.onnx"), "--expect", "/dev/zero",
                                 "--isolated"], timeout=60)
    assert code == 2 and out == ""
    assert one_line_error(err) == "cnncount: error: /dev/zero: is not a regular file"


def test_a_line_of_spaces_is_read_in_linear_time(tmp_path):
    from sphinx_cnncount.lint.docs import parse_rst

    start = time.monotonic()
    for text in (".. cnncount:: m.onnx" + " " * 100_000 + "x",
                 ".. cnncount:: m.onnx\n   :depth:" + " " * 100_000 + "x",
                 " " * 100_000 + "x"):
        parse_rst(text)
    assert time.monotonic() - start < 2


# 14 and 15. A 1 MB name; quadratic passes over large models.

def test_a_megabyte_name_is_elided_in_the_table(tmp_path):
    name = "n" * 2**20
    nodes = [mk("Relu", ["x" if k == 0 else f"t{k}"], [f"t{k + 1}"],
                name=f"/{name}/Relu" if k == 1500 else f"/relu{k}/Relu") for k in range(3000)]
    onnx.save(model(nodes, {"x": [1, 4]}, ["t3000"], opset=17), tmp_path / "m.onnx")
    code, out, err, _ = bounded(["summary", str(tmp_path / "m.onnx")], timeout=300)
    assert code == 0, err
    assert len(out) < 3000 * 300  # every row a few dozen characters, never the name's million
    assert "\u2026" in out


def chain(n: int, dead_every: int = 0) -> onnx.ModelProto:
    nodes = []
    for k in range(n):
        nodes.append(mk("Relu", ["x" if k == 0 else f"t{k}"], [f"t{k + 1}"], name=f"/l{k}/Relu"))
        if dead_every and k % dead_every == 0:
            nodes.append(mk("Neg", [f"t{k + 1}"], [f"dead{k}"], name=f"/l{k}/Neg"))
    return model(nodes, {"x": [1, 4]}, [f"t{n}"], opset=17)


def test_lint_of_a_large_model_with_dead_nodes_is_not_quadratic(tmp_path):
    onnx.save(chain(20_000, dead_every=10), tmp_path / "m.onnx")
    code, out, err, seconds = bounded(["lint", str(tmp_path / "m.onnx"), "--isolated",
                                       "--select", "dead-node", "--fail-level", "warning"],
                                      timeout=120)
    assert code == 1, err
    assert out.count("CNC105") == 2000


def test_diff_of_two_large_models_is_not_quadratic(tmp_path):
    onnx.save(chain(30_000), tmp_path / "a.onnx")
    b = chain(30_000)
    for node in b.graph.node[::2]:
        node.name = node.name.replace("/l", "/m")
    onnx.save(b, tmp_path / "b.onnx")
    code, out, err, seconds = bounded(["diff", str(tmp_path / "a.onnx"), str(tmp_path / "b.onnx"),
                                       "--format", "json"], timeout=120)
    assert code == 0, err
    layers = json.loads(out)["layers"]
    assert sum(c["status"] == "removed" for c in layers) == 15_000
    assert sum(c["status"] == "added" for c in layers) == 15_000


# 16. Negative dims.

def test_negative_initializer_dims_are_an_error(tmp_path, capsys):
    w = onnx.TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[-6, 1, 5, 5])
    m = model([mk("Conv", ["x", "w"], ["y"])], {"x": [1, 1, 8, 8]}, ["y"], [w], opset=17)
    onnx.save(m, tmp_path / "m.onnx")
    (tmp_path / "m.cnncount.toml").write_text("[total]\nparams = -1000150\n")
    for argv in (["summary", str(tmp_path / "m.onnx")], ["lint", str(tmp_path / "m.onnx"),
                                                         "--isolated"]):
        code, out, err = run(capsys, *argv)
        assert code == 2
        assert "All checks passed" not in out
        assert ("initializer 'w' has dims [-6, 1, 5, 5]; dims cannot be negative"
                in failure(argv, out, err))


# 18. Weights of a type that holds no numbers.

@pytest.mark.parametrize("dtype", [TensorProto.STRING, TensorProto.BOOL, TensorProto.UNDEFINED])
def test_weights_of_no_number_type_are_no_parameters(tmp_path, dtype):
    w = onnx.TensorProto(name="w", data_type=dtype, dims=[2, 1, 3, 3])
    m = model([mk("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3])], {"x": [1, 1, 8, 8]}, ["y"],
              [w], opset=17)
    onnx.save(m, tmp_path / "m.onnx")
    s = analyze(tmp_path / "m.onnx")
    assert s.totals.params == 0


# 19. ai.onnx is the default domain's other name.

def test_the_ai_onnx_domain_is_the_default_one(tmp_path):
    m = model([mk("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3], domain="ai.onnx")],
              {"x": [1, 1, 8, 8]}, ["y"], [weight("w", 2, 1, 3, 3)], opset=17)
    onnx.save(m, tmp_path / "m.onnx")
    s = analyze(tmp_path / "m.onnx")
    assert (s.tensors["y"], s.totals.macs) == ((1, 2, 6, 6), 3 * 3 * 2 * 6 * 6)


# 20. Each model linted on its own; a model that cannot be read is said in every format.

@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif"])
def test_an_unreadable_model_does_not_stop_the_others(tmp_path, capsys, fmt):
    from .conftest import EXAMPLES

    (tmp_path / "bad.onnx").write_bytes(b"\x08\x07garbage")
    code, out, err = run(capsys, "lint", str(tmp_path / "bad.onnx"), str(EXAMPLES / "lenet5.onnx"),
                         "--isolated", "--format", fmt, "--extend-select", "param-share")
    assert code == 2
    if fmt == "text":  # said once: in the report
        assert err == "" and out.count("bad.onnx") == 1
    else:  # said on stderr too, where a person reads it
        assert err.count("cnncount: error:") == 1 and "bad.onnx" in err
    assert "All checks passed" not in out
    if fmt == "text":
        assert "CNC000" in out and "CNC106 [info] C5" in out  # the good model is still linted
    elif fmt == "json":
        assert {f["code"] for f in json.loads(out)} == {"CNC000", "CNC106"}
    elif fmt == "github":
        assert out.startswith("::error file=") and "CNC000" in out
    else:
        run_ = json.loads(out)["runs"][0]
        assert run_["invocations"][0]["executionSuccessful"] is False
        assert {r["ruleId"] for r in run_["results"]} == {"CNC000", "CNC106"}


def test_errors_while_folding_name_the_model(tmp_path, capsys):
    bad = onnx.TensorProto(name="shape", data_type=TensorProto.INT64, dims=[2],
                           raw_data=b"\x01")  # 1 byte for two int64s
    m = model([mk("Reshape", ["x", "shape"], ["y"]), mk("Foo", ["x"], ["z"], domain="c")],
              {"x": [1, 4]}, ["y", "z"], [bad], opset=17, extra_opsets=[helper.make_opsetid("c", 1)])
    onnx.save(m, tmp_path / "m.onnx")
    code, out, err = run(capsys, "summary", str(tmp_path / "m.onnx"))
    line = one_line_error(err) if code == 2 else ""
    assert code == 0 or str(tmp_path / "m.onnx") in line


# 21. TOML keys with escapes, and values blamed on where they were written.

def test_an_escaped_toml_key_is_reported_at_its_line(tmp_path, capsys):
    from .conftest import EXAMPLES

    (tmp_path / "e.toml").write_text('[total]\nparams = 60840\n\n[layers."a\\\\b"]\nparams = 5\n'
                                     'macs = "x"\n')
    code, out, _ = run(capsys, "lint", str(EXAMPLES / "lenet5.onnx"), "--expect",
                       str(tmp_path / "e.toml"), "--isolated", "--select", "CNC0")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == (f"{tmp_path / 'e.toml'}:6: CNC003 [error] a\\b: macs: 'x' is not a number "
                        "(write 60,840 or 1.81G)")
    assert lines[1].startswith(f"{tmp_path / 'e.toml'}:5: CNC002 [error] lenet5.onnx: a\\b: declared "
                               "layer does not exist")


def test_pyproject_values_are_blamed_on_pyproject(tmp_path, capsys):
    from .conftest import EXAMPLES

    (tmp_path / "pyproject.toml").write_text('[tool.cnncount]\ninput-shapes = {image = "1x1x8"}\n')
    code, out, err = run(capsys, "lint", str(EXAMPLES / "lenet5.onnx"), "--config",
                         str(tmp_path / "pyproject.toml"))
    assert code == 2 and err == ""
    assert ("input 'image' has 4 dims, but pyproject.toml [tool.cnncount] input-shapes image "
            "gives 3" in out)
    assert "--input-shape" not in out


# ---------------------------------------------------------------------------------------------
# Second round: small files that cost minutes and gigabytes, control characters in CSV and
# GitHub output, figures too long to print, globs that leave the project, hidden files.
# Each runs in a process of its own under 1 GB of address space (a normal run takes about
# 0.6 GB of it) and ends with the one-line error (exit 2) or a correct count.

GB = 2**30


def bounded_summary(path, *extra: str) -> tuple[int, str, str, float]:
    return bounded(["summary", str(path), *extra], timeout=60, memory=GB)


@pytest.mark.parametrize("copies", [1, 4])
def test_folding_sizes_come_from_values_never_from_declared_shapes(tmp_path, copies):
    onnx.save(lying_constant_of_shape(copies), tmp_path / "m.onnx")
    assert (tmp_path / "m.onnx").stat().st_size < 1000
    code, out, err, _ = bounded_summary(tmp_path / "m.onnx", "--format", "json")
    assert code == 0, err
    tensors = json.loads(out)["tensors"]
    # The real size, known from the value, with nothing allocated for it.
    assert [tensors[f"z{k}"] for k in range(copies)] == [[300_000_000]] * copies


def test_the_node_limit_counts_calls_inside_bodies(tmp_path):
    onnx.save(calls_in_a_branch(20), tmp_path / "m.onnx")
    assert (tmp_path / "m.onnx").stat().st_size < 2000
    code, _, err, _ = bounded_summary(tmp_path / "m.onnx")
    assert code == 2
    line = one_line_error(err)
    assert str(tmp_path / "m.onnx") in line
    # the If, 2^20 Relu in its then-branch, the Identity in its else-branch
    assert "its functions expand to 1,048,578 nodes or more, over the limit of 1,000,000" in line


def test_calls_inside_bodies_below_the_limit_are_counted(tmp_path):
    """The same structure, 2^4 Relu nodes in the branch: inlined and counted, the If's branch
    decided from --input-value."""
    onnx.save(calls_in_a_branch(4), tmp_path / "m.onnx")
    code, out, err, _ = bounded_summary(tmp_path / "m.onnx", "--format", "json",
                                        "--input-value", "c=1")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["status"] == "complete"
    assert sum(len(layer["nodes"]) for layer in summary["layers"]
               if layer["op_types"] == ["Relu"]) == 2**4
    assert summary["totals"]["flops"] == 2**4 * 4  # one per element of each 1x4 Relu


@pytest.mark.parametrize("depth", [15, 16])
def test_nested_ifs_cost_linear_time(tmp_path, depth):
    onnx.save(nested_ifs(depth), tmp_path / "m.onnx")
    code, out, err, seconds = bounded_summary(tmp_path / "m.onnx", "--format", "json")
    assert code == 0, err
    summary = json.loads(out)
    # The costlier branch at every level: the Neg (4 FLOPs) beats nothing deeper but the
    # innermost Relu (4 FLOPs too; the first of equal branches, then_branch, is taken).
    assert summary["totals"]["flops"] == 4
    assert summary["outputs"] == [{"name": "g_o", "shape": [1, 4]}]
    assert sum(c["approximation"] for c in summary["control_flow"]) == depth
    assert seconds < 30, seconds  # exponential work took minutes at this depth


@pytest.mark.parametrize("depth", [10, 12])
def test_nested_loops_cost_linear_time(tmp_path, depth):
    onnx.save(nested_loops(depth), tmp_path / "m.onnx")
    code, out, err, seconds = bounded_summary(tmp_path / "m.onnx", "--format", "json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["status"] == "complete"
    assert summary["totals"]["flops"] == 2**depth * 4  # the Relu of 4 elements, 2^depth times
    assert summary["outputs"] == [{"name": "y", "shape": [1, 4]}]
    assert seconds < 30, seconds


def test_csv_names_are_printable(tmp_path, capsys):
    onnx.save(named_chain(HOSTILE_NAMES), tmp_path / "m.onnx")
    code, out, _ = run(capsys, "summary", str(tmp_path / "m.onnx"), "--format", "csv")
    assert code == 0
    assert_clean(out)
    import csv
    import io

    rows = list(csv.reader(io.StringIO(out)))
    assert len(rows) == 1 + len(HOSTILE_NAMES) + 1  # header, one row a layer, totals
    layer_cells = [r[0] for r in rows[1:-1]]
    assert layer_cells == ["\\x1b]0;owned\\x07\\x1b[31mred", "a\\x85b\\x9bc",
                           "x\\nline::add-mask::secret",
                           "y\\n::error file=forged.py,line=1::forged", "'=1+1\\rsplit",
                           "\\u202eevil\\u202c\\u2066iso\\u2069",
                           "zero\\u200bwidth\\u200d\\ufeffbom", "sep\\u2028line\\u2029para"]


def test_github_annotations_are_printable(tmp_path, capsys):
    m = named_chain(HOSTILE_NAMES)
    m.graph.node.append(mk("Neg", ["x"], ["dead"], name="/" + "".join(HOSTILE_NAMES) + "/Neg"))
    onnx.save(m, tmp_path / "m.onnx")
    code, out, _ = run(capsys, "lint", str(tmp_path / "m.onnx"), "--format", "github",
                       "--select", "dead-node", "--isolated")
    assert code == 0  # a warning: reported, not failing at the default fail-level
    (line,) = out.splitlines()  # one workflow command, nothing else at a line's start
    assert all(c.isprintable() for c in line), repr(line)
    assert line.startswith("::warning file=")
    for escaped in ("\\x85", "\\x9b", "\\u2028", "\\u2029", "\\u202e", "\\u2066", "\\u200b",
                    "\\ufeff", "\\x1b"):
        assert escaped in line


@pytest.mark.parametrize("argv", [["summary", "{m}"], ["summary", "{m}", "--format", "json"],
                                  ["summary", "{m}", "--format", "csv"],
                                  ["summary", "{m}", "--format", "markdown"],
                                  ["diff", "{m}", "{m}"], ["lint", "{m}"]])
def test_figures_past_the_digit_bound_refuse_the_model(tmp_path, argv):
    path = tmp_path / "m.onnx"
    onnx.save(huge_rank_model(), path)
    code, out, err, _ = bounded([a.format(m=path) for a in argv], timeout=60, memory=GB)
    assert code == 2, (out, err)
    if argv[0] == "lint":  # said once, as the report's CNC000 finding
        assert err == ""
        err = "\n".join(line for line in out.splitlines() if " CNC000 " in line)
    lines = [line for line in err.splitlines() if line]
    assert lines and "Traceback" not in err and "internal error" not in err
    assert all(str(path) in line for line in lines), err
    assert "more than 80 digits" in err and "10^80" in err


def test_a_sphinx_role_on_a_model_past_the_digit_bound_warns(tmp_path):
    from .helpers import sphinx_build

    onnx.save(huge_rank_model(), tmp_path / "m.onnx")
    (tmp_path / "conf.py").write_text('extensions = ["sphinx_cnncount"]\n')
    (tmp_path / "index.rst").write_text("T\n=\n\nIt has :cnncount:`m.onnx:act.flops` FLOPs.\n")
    warnings = sphinx_build(tmp_path, tmp_path / "_build")
    assert "index.rst:4: WARNING:" in warnings and "more than 80 digits" in warnings
    assert (tmp_path / "_build" / "index.html").is_file()


def test_integer_data_read_has_one_budget(tmp_path):
    """2,000 external int64 tensors of 65,536 elements, all at offset 0 of one 512 KiB file:
    a 1 GiB read, refused once 32 MiB are used."""
    (tmp_path / "m.data").write_bytes(b"\x00" * 8 * 65536)
    inits = [external(f"t{k}", "m.data", dims=(65536,), length=str(8 * 65536))
             for k in range(2000)]
    m = model([mk("Relu", ["x"], ["y"])], {"x": [1, 4]}, ["y"], inits, opset=17)
    onnx.save(m, tmp_path / "m.onnx")
    assert (tmp_path / "m.onnx").stat().st_size < 300_000
    code, _, err, _ = bounded_summary(tmp_path / "m.onnx")
    assert code == 2
    line = one_line_error(err)
    assert str(tmp_path / "m.onnx") in line and "more than 32 MiB" in line


def test_integer_data_folded_has_one_budget(tmp_path):
    """2,000 Identity copies of one inline int64 tensor of 65,536 elements, all read by an op
    with no rule (whose shape the values might decide): 1 GiB folded."""
    nodes = [mk("Identity", ["big"], [f"c{k}"]) for k in range(2000)]
    nodes.append(mk("Foo", ["x", *(f"c{k}" for k in range(2000))], ["f"], domain="custom"))
    inits = [numpy_helper.from_array(np.arange(65536, dtype=np.int64), "big")]
    m = model(nodes, {"x": [1, 4]}, ["f"], inits, opset=17,
              extra_opsets=[helper.make_opsetid("custom", 1)])
    onnx.save(m, tmp_path / "m.onnx")
    assert (tmp_path / "m.onnx").stat().st_size < 700_000
    code, _, err, _ = bounded_summary(tmp_path / "m.onnx")
    assert code == 2
    line = one_line_error(err)
    assert str(tmp_path / "m.onnx") in line and "more than 32 MiB" in line


@pytest.mark.parametrize("pattern, why", [
    ("/**/*.onnx", "is an absolute path"),
    ("../../../../**/*.onnx", "leaves the project's directory"),
    ("models/../../*.onnx", "leaves the project's directory"),
])
def test_expect_patterns_stay_in_the_project(tmp_path, pattern, why):
    project = tmp_path / "a" / "b" / "c" / "project"
    project.mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        f'[tool.cnncount]\ndepth = 1\n\n[tool.cnncount.expect]\n"{pattern}" = "e.toml"\n')
    code, out, err, seconds = bounded(["lint", "pyproject.toml"], timeout=60, cwd=project,
                                      memory=GB)
    assert code == 1, err
    assert out.splitlines()[0] == (
        f"{project / 'pyproject.toml'}:5: CNC003 [error] [tool.cnncount.expect] {pattern!r}: "
        f"{why}; patterns are relative to the project and never leave it")


def test_an_expectation_file_outside_the_project_is_refused(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.cnncount.expect]\n"m.onnx" = "/etc/passwd"\n')
    code, out, err, _ = bounded(["lint", "pyproject.toml"], timeout=60, cwd=tmp_path, memory=GB)
    assert code == 1, err
    assert "CNC003" in out and "its expectation file is an absolute path" in out
    assert "root:" not in out + err


@pytest.mark.parametrize("location", [".secrets/token", "sub/.env", ".git/config"])
def test_hidden_files_never_feed_shapes(tmp_path, opened, location):
    secret = tmp_path / location
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_bytes(SECRET)
    nodes = [mk("Reshape", ["x", "shape"], ["y"])]
    m = model(nodes, {"x": [1, 4]}, ["y"], [external("shape", location)], opset=17)
    onnx.save(m, tmp_path / "m.onnx")
    opened.clear()  # what the test itself wrote
    s = analyze(tmp_path / "m.onnx")
    assert str(secret) not in opened and os.fspath(secret) not in opened
    assert s.status == "partial"
    assert any(f"location {location!r} names a hidden file or folder" in line
               for line in s.incomplete), s.incomplete
    assert str(_secret_dim()) not in json.dumps(s.to_json())


def test_a_cycle_in_shape_arithmetic_is_the_one_line_error(tmp_path):
    """A node that reads what it writes (found by the fuzzer: computing its value on demand
    grew without end) is the graph's cycle error, in bounded memory."""
    nodes = [mk("Shape", ["x"], ["s"]), mk("Add", ["s", "a"], ["a"]),
             mk("Reshape", ["x", "a"], ["y"]), mk("Foo", ["y"], ["z"], domain="c")]
    m = model(nodes, {"x": [1, 4]}, ["z"], opset=17, extra_opsets=[helper.make_opsetid("c", 1)])
    onnx.save(m, tmp_path / "m.onnx")
    code, _, err, _ = bounded_summary(tmp_path / "m.onnx")
    assert code == 2
    assert "the graph has a cycle (#1 (Add))" in one_line_error(err)
