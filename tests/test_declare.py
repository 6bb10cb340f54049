"""Declared numbers: the spellings the directive and lint accept, and the check."""

from __future__ import annotations

import pytest

from sphinx_cnncount.api import analyze
from sphinx_cnncount.declare import (
    DeclarationError, check, parse_lines, parse_number, parse_shape, quote)

from .conftest import EXAMPLES


@pytest.mark.parametrize("text, actual, holds", [
    ("1.81G", 1_814_073_344, True),  # 1.814G rounds to 1.81G
    ("1.82G", 1_814_073_344, False),
    ("1.814G", 1_814_073_344, True),
    ("1.8141G", 1_814_073_344, True),
    ("1.8140G", 1_814_073_344, False),  # 1.81407 rounds to 1.8141
    ("11.7M", 11_689_512, True),
    ("60,840", 60_840, True),
    ("340_908", 340_908, True),
    ("340,907", 340_908, False),
    (60840, 60_840, True),
])
def test_numbers_match_to_the_precision_written(text, actual, holds):
    assert parse_number(text).matches(actual) is holds


@pytest.mark.parametrize("bad", ["1.5", "abc", "1.2.3", "nan"])
def test_unreadable_numbers(bad):
    with pytest.raises(DeclarationError):
        parse_number(bad)


def test_shapes_and_comments():
    assert parse_shape("6@28x28") == parse_shape("6x28x28") == (6, 28, 28)
    decls = parse_lines(["C1 params=156 output=6@28x28  # the first layer", "# nothing",
                         "a#2 params=36"])
    assert [(d.target, d.key, d.value, d.line) for d in decls] == [
        ("C1", "params", "156", 0), ("C1", "output", "6@28x28", 0), ("a#2", "params", "36", 2)]


def test_check_reports_each_mismatch_and_missing_layer():
    s = analyze(EXAMPLES / "lenet5.onnx")
    decls = parse_lines(["C3 params=1,500 connections=151,600 receptive_field=14x14/2x2",
                         "C9 params=1", "total macs=325k training_macs=859,440"])
    assert [m.message for m in check(s, decls)] == [
        "C3: params declared 1,500, model has 1,516",
        "C9: declared layer does not exist in the model",
        "total: macs declared 325k, model has 325,680",  # 325.68k rounds to 326k
    ]


def test_quote_is_what_the_tables_print():
    s = analyze(EXAMPLES / "lenet5.onnx")
    assert [quote(s, "C3", "params"), quote(s, "C1", "output"), quote(s, "S4", "receptive_field"),
            quote(s, "total", "connections")] == ["1,516", "6@28x28", "16/4", "340,908"]
    with pytest.raises(DeclarationError, match="total has no output shape"):
        quote(s, "total", "output")
    with pytest.raises(KeyError):
        quote(s, "C9", "params")
