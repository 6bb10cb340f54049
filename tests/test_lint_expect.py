"""Expectation files (MODEL.cnncount.toml): reading, line numbers, mismatches."""

from __future__ import annotations

from pathlib import Path

import pytest

from sphinx_cnncount.api import analyze
from sphinx_cnncount.lint.expect import (ExpectError, check_expectations, default_path, key_lines,
                                         load_expectations)
from sphinx_cnncount.lint.rules import Rule

from .conftest import EXAMPLES

LENET = str(EXAMPLES / "lenet5.onnx")


def write(tmp_path: Path, text: str, name: str = "m.cnncount.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_default_path():
    assert default_path("examples/lenet5.onnx") == Path("examples/lenet5.cnncount.toml")


def test_key_lines_follow_tables_and_quoted_names():
    text = ('[total]\nparams = 1\n\n[layers."layer1.0"]  # a dotted torch name\n'
            "macs = '1M'\n[layers]\nC3 = { params = 3 }\nlayers.C4.params = 5\n")
    lines = key_lines(text)
    assert lines[("total", "params")] == 2
    assert lines[("layers", "layer1.0")] == 4
    assert lines[("layers", "layer1.0", "macs")] == 5
    assert lines[("layers", "C3")] == 7


@pytest.mark.parametrize("name", ["lenet5", "keras_cnn"])
def test_example_expectations_hold(name):
    model = str(EXAMPLES / f"{name}.onnx")
    exp = load_expectations(default_path(model))
    layers = {d.target for d in exp.declarations} - {"total"}
    summary = analyze(model)
    assert layers == {layer.name for layer in summary.layers}  # every layer is declared
    for layer in layers:
        keys = {d.key for d in exp.declarations if d.target == layer}
        assert {"params", "connections", "output_shape"} <= keys
    assert check_expectations(summary, exp, model) == []


def test_mismatches_name_model_layer_key_and_toml_line(tmp_path):
    p = write(tmp_path, """\
[total]
params = 60840
macs = "326k"           # 325,680 rounds to 326k

[layers.C3]
params = 1500
output_shape = "16x10x10"
connections = "150k"     # 151,600 rounds to 152k

[layers.S4]
output_shape = [16, 4, 4]

[layers.RBF]
params = 840
""")
    findings = check_expectations(analyze(LENET), load_expectations(p), LENET)
    got = [(f.code, f.file, f.line, f.layer, f.declared, f.actual) for f in findings]
    assert got == [
        ("CNC001", str(p), 6, "C3", "1,500", "1,516"),
        ("CNC001", str(p), 8, "C3", "150k", "151,600"),
        ("CNC001", str(p), 11, "S4", "16x4x4", "16@5x5"),
        ("CNC002", str(p), 14, "RBF", "840", None),
    ]
    assert findings[0].message == "lenet5.onnx: C3: params declared 1,500, model has 1,516"
    assert findings[0].model == LENET
    assert findings[3].message.startswith("lenet5.onnx: RBF: declared layer does not exist in "
                                          "the model (its layers: C1, S2, C3")
    assert findings[3].rule is Rule.UNKNOWN_LAYER


def test_every_key_of_the_layer_record(tmp_path):
    p = write(tmp_path, """\
[layers.C1]
params = 156
trainable_params = 156
non_trainable_params = 0
connections = "122.3k"
macs = 117600
flops = "254k"
output_shape = "6@28x28"
op_types = ["Conv", "Mul", "Tanh"]
nodes = ["/C1/Conv", "/C1/Mul", "/C1/Tanh", "/C1/Mul_1"]
[layers.C5]
op_types = "Conv+Relu"
""")
    (f,) = check_expectations(analyze(LENET), load_expectations(p), LENET)
    assert (f.code, f.line, f.message) == (
        "CNC001", 12, "lenet5.onnx: C5: op_types declared Conv+Relu, model has Conv+Mul+Tanh")


def test_a_quoted_number_with_zeros_after_the_point_is_the_whole_number(tmp_path):
    """``"60840.0"`` holds for LeNet-5's 60,840 params (a TOML float, unquoted, is refused
    above: ``write an exact int``); ``"1516.00"`` for C3's 1,516; ``"1517.0"`` is 1,517."""
    p = write(tmp_path, '[total]\nparams = "60840.0"\n[layers.C3]\nparams = "1516.00"\n'
                        '[layers.C5]\nparams = "48121.0"\n')
    exp = load_expectations(p)
    assert exp.problems == ()  # every value readable
    findings = check_expectations(analyze(LENET), exp, LENET)
    assert [(f.code, f.line, f.layer, f.declared, f.actual) for f in findings] == [
        ("CNC001", 6, "C5", "48,121", "48,120")]


def test_depth_in_the_file(tmp_path):
    p = write(tmp_path, "depth = 2\n[total]\nparams = 60840\n")
    assert load_expectations(p).depth == 2


@pytest.mark.parametrize("text, message", [
    ("[total\n", "not valid TOML"),
    ("[totals]\nparams = 1\n", ":1: unknown table or key 'totals'"),
    ("[layers.C3]\nparms = 1\n", ":2: C3: unknown key 'parms'"),
    ("[total]\noutput_shape = '1x2'\n", ":2: total: unknown key 'output_shape'"),
    ("[layers.C3]\nparams = 1.5e3\n", ":2: params = 1500.0: write an exact int"),
    ("[layers.C3]\nparams = 'lots'\n", ":2: C3: params: 'lots' is not a number"),
    ("[layers.C3]\noutput = '16 by 10'\n", ":2: C3: output: '16 by 10' is not a shape"),
    ("depth = 0\n", ":1: depth must be an int >= 1"),
])
def test_unusable_files_say_where(tmp_path, text, message):
    """A file that cannot be used as a whole raises; a declaration that cannot be read is a
    problem of its own, and the rest of the file is still read."""
    p = write(tmp_path, text + "[layers.C1]\nparams = 156\n" if "[" in text[:1] else text)
    try:
        exp = load_expectations(p)
    except ExpectError as exc:
        problems = [exc]
    else:
        problems = list(exp.problems)
        assert [(d.target, d.key, d.value) for d in exp.declarations] == [("C1", "params", 156)]
    (problem,) = problems
    assert str(problem).startswith(str(p))
    assert message in str(problem)


def test_missing_file():
    with pytest.raises(ExpectError, match="no such expectation file"):
        load_expectations("/nonexistent/x.cnncount.toml")


def test_an_unquoted_dotted_layer_name_says_to_quote_it(tmp_path, capsys):
    from sphinx_cnncount.cli import main

    from .conftest import EXAMPLES

    toml = tmp_path / "e.toml"
    toml.write_text("[layers.layer1.0]\nparams = 288\n")
    assert main(["lint", "--isolated", str(EXAMPLES / "lenet5.onnx"), "--expect", str(toml)]) == 1
    assert capsys.readouterr().out.splitlines()[0] == (
        f"{toml}:1: CNC003 [error] [layers.layer1.0] is a table inside [layers.layer1]; "
        'quote a layer name with a dot: [layers."layer1.0"]')
