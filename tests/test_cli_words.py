"""A command line (and an API) that says what to do: every unbound dim in one error, in the
words of the front end that reads it; typos answered with the likely option; help for every
option; CSV cells a spreadsheet reads as they are."""

from __future__ import annotations

import argparse
import csv
import io

import onnx
import pytest
from onnx import helper

from sphinx_cnncount import BindingError, Unbound, analyze
from sphinx_cnncount.cli import COLUMNS, build_parser, main
from sphinx_cnncount.render import Column

from .conftest import EXAMPLES
from .helpers import model, weight

LENET = str(EXAMPLES / "lenet5.onnx")
mk = helper.make_node


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def two_sides(tmp_path) -> str:
    """A conv net whose image has a free height and width, and a second input with an unnamed
    dim."""
    nodes = [mk("Conv", ["image", "w"], ["y"], kernel_shape=[3, 3]), mk("Relu", ["mask"], ["m"])]
    m = model(nodes, {"image": ["N", 3, "height", "width"], "mask": [1, ""]}, ["y", "m"],
              [weight("w", 8, 3, 3, 3)])
    path = tmp_path / "net.onnx"
    onnx.save(m, path)
    return str(path)


# ---------------------------------------------------------------------------------------------
# Every unbound dim in one error, worded for the CLI, the API and the directive


def test_the_cli_names_every_unbound_dim_at_once(capsys, two_sides):
    code, out, err = run(capsys, "summary", two_sides)
    assert (code, out) == (2, "")
    assert err == (f"cnncount: error: {two_sides}: input 'image' has symbolic dims 'height' "
                   "(axis 2) and 'width' (axis 3); input 'mask' has an unnamed dim at axis 1; "
                   "bind 'height', 'width' with --dim height=SIZE --dim width=SIZE and give "
                   "'mask' its whole shape with --input-shape mask=1xSIZE\n")


def test_bound_as_the_error_says_it_runs(capsys, two_sides):
    code, out, _ = run(capsys, "summary", two_sides, "--dim", "height=10", "--dim", "width=12",
                       "--input-shape", "mask=1x5", "--format", "json")
    assert code == 0 and '"y": [1, 8, 8, 10],' in out


def test_the_api_names_its_own_arguments(two_sides):
    with pytest.raises(BindingError) as info:
        analyze(two_sides)
    assert info.value.reason == (
        "input 'image' has symbolic dims 'height' (axis 2) and 'width' (axis 3); input 'mask' "
        "has an unnamed dim at axis 1; bind 'height', 'width' with dims={\"height\": SIZE, "
        "\"width\": SIZE} and give 'mask' its whole shape with input_shapes={\"mask\": (1, SIZE)}")
    assert "--" not in str(info.value)
    assert info.value.unbound == (Unbound("image", 2, "height"), Unbound("image", 3, "width"),
                                  Unbound("mask", 1, ""))
    assert info.value.shapes == {"image": (1, 3, None, None), "mask": (1, None)}
    # ... and what it suggests works
    s = analyze(two_sides, dims={"height": 10, "width": 12}, input_shapes={"mask": (1, 5)})
    assert s.totals.macs == 3 * 3 * 3 * 8 * 8 * 10


def test_the_api_words_every_binding_message(tmp_path):
    m = model([mk("Relu", ["x"], ["y"])], {"x": [1, 3, "H", "W"]}, ["y"])
    onnx.save(m, tmp_path / "m.onnx")
    cases = [
        ({"dims": {"H": 0, "W": 4}}, 'dims["H"]: dims must be positive integers below 2^63, '
                                     "got 0"),
        ({"dims": {"Q": 4}}, "dims[\"Q\"]: the model's inputs have no symbolic dim 'Q' (their "
                             "symbols: H, W)"),
        ({"input_shapes": {"x": (1, 3, 4)}}, "input 'x' has 4 dims, but input_shapes[\"x\"] gives "
                                             "3"),
        ({"input_shapes": {"z": (1,)}}, "input_shapes names 'z', but the model's inputs are "
                                        "['x']"),
        ({"dims": {"H": 4}}, "input 'x' has symbolic dim 'W' at axis 3; bind it with "
                             "dims={\"W\": SIZE}, or give the whole shape with "
                             "input_shapes={\"x\": (1, 3, 4, SIZE)}"),
    ]
    for kw, reason in cases:
        with pytest.raises(Exception) as info:
            analyze(tmp_path / "m.onnx", **kw)
        assert info.value.reason == reason, kw


def test_the_api_note_on_the_batch_names_dims(tmp_path):
    m = model([mk("Relu", ["x"], ["y"])], {"x": ["N", 3]}, ["y"])
    onnx.save(m, tmp_path / "m.onnx")
    assert analyze(tmp_path / "m.onnx").notes == (
        "note: batch dim N of input 'x' set to 1 (bind it with dims={\"N\": SIZE})",)


def test_a_window_too_large_suggests_the_api_shape(tmp_path):
    m = model([mk("Conv", ["x", "w"], ["y"], kernel_shape=[5, 5])], {"x": [1, 1, 4, 4]}, ["y"],
              [weight("w", 2, 1, 5, 5)])
    onnx.save(m, tmp_path / "m.onnx")
    with pytest.raises(Exception) as info:
        analyze(tmp_path / "m.onnx")
    assert str(info.value).endswith(
        "the smallest input that fits is input_shapes={\"x\": (1, 1, 5, 5)}")


def test_a_directive_names_its_options(tmp_path, capsys, two_sides):
    (tmp_path / "conf.py").write_text("")
    (tmp_path / "index.rst").write_text(".. cnncount:: net.onnx\n   :dim: height=10\n")
    assert main(["lint", "--isolated", "--docs", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert ("input 'image' has symbolic dim 'width' at axis 3; input 'mask' has an unnamed dim "
            "at axis 1; bind 'width' with :dim: width=SIZE and give 'mask' its whole shape with "
            ":input-shape: mask=1xSIZE") in out


# ---------------------------------------------------------------------------------------------
# Typos: the subcommand's usage and the likely option


def test_a_mistyped_option_gets_the_subcommands_usage_and_a_suggestion(capsys):
    code, out, err = run(capsys, "summary", LENET, "--colums", "layer")
    assert (code, out) == (2, "")
    assert err.startswith("usage: cnncount summary [-h]")
    assert err.endswith("cnncount summary: error: unrecognized arguments: --colums layer; did "
                        "you mean --columns?\n")


def test_options_are_never_abbreviated(capsys):
    code, _, err = run(capsys, "summary", LENET, "--col", "layer")
    assert code == 2 and err.endswith("unrecognized arguments: --col layer; did you mean "
                                      "--columns?\n")


def test_a_mistyped_subcommand_and_choice(capsys):
    code, _, err = run(capsys, "sumary", LENET)
    assert code == 2 and err.endswith("; did you mean summary?\n")
    code, _, err = run(capsys, "lint", LENET, "--format", "sarf")
    assert code == 2 and err.startswith("usage: cnncount lint") and err.endswith(
        "; did you mean sarif?\n")


def test_a_mistyped_column(capsys):
    code, _, err = run(capsys, "summary", LENET, "--columns", "layer,parms")
    assert code == 2
    assert err == ("cnncount: error: unknown column 'parms', did you mean params? (choose from "
                   + ", ".join(c.value for c in Column) + ")\n")


def _options(parser: argparse.ArgumentParser):
    for name, sub in parser.commands.items():
        for action in sub._actions:  # argparse lists a parser's arguments nowhere public
            yield name, action


def test_every_option_has_help():
    parser = build_parser()
    assert sorted(parser.commands) == ["diagram", "diff", "lint", "summary"]
    missing = [(name, a.dest) for name, a in _options(parser) if not (a.help or "").strip()]
    assert missing == []


def test_the_columns_help_names_every_column():
    assert COLUMNS == ", ".join(c.value for c in Column)
    (columns,) = [a for name, a in _options(build_parser())
                  if name == "summary" and "--columns" in a.option_strings]
    assert "ops" in columns.help and COLUMNS in columns.help


# ---------------------------------------------------------------------------------------------
# CSV


def test_csv_an_empty_receptive_field_is_an_empty_cell(capsys):
    code, out, _ = run(capsys, "summary", LENET, "--format", "csv")
    assert code == 0 and "'-" not in out
    rows = {r[0]: r for r in csv.reader(io.StringIO(out))}
    # F6 follows a Flatten: its units see the whole input, a field of no size.
    assert rows["C5"][-1] == "32/4" and rows["F6"][-1] == "" and rows["total"][-1] == ""


# ---------------------------------------------------------------------------------------------
# The docs' command-line reference: generated from the parser, so it cannot drift


def test_the_cli_reference_lists_every_option_the_parser_has(tmp_path):
    import html
    import re
    import shutil

    from .conftest import ROOT
    from .helpers import sphinx_build

    pytest.importorskip("sphinxarg")
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(ROOT / "docs" / "cli.rst", src / "index.rst")
    conf = (ROOT / "docs" / "conf.py").read_text()
    (src / "conf.py").write_text(conf)
    warnings = sphinx_build(src, tmp_path / "out")
    assert "WARNING" not in warnings and "ERROR" not in warnings, warnings
    page = html.unescape(re.sub(r"<[^>]+>", "", (tmp_path / "out" / "index.html").read_text()))
    page = page.translate(str.maketrans("\u2018\u2019\u201c\u201d", "''\"\""))  # smartquotes
    page = page.replace("\u2026", "...")
    parser = build_parser()
    for name, action in _options(parser):
        assert f"cnncount {name} [-h]" in page  # each subcommand's usage
        if isinstance(action, argparse._HelpAction):  # -h: in the usage only
            continue
        for option in action.option_strings:
            assert option in page, (name, option)
        if action.help:  # the help, as the parser has it (argparse's %% is a %)
            assert " ".join(action.help.replace("%%", "%").split()) in " ".join(page.split()), \
                (name, action.dest)
