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


@pytest.mark.parametrize("text", ["60840.0", "60,840.000", "60_840.00"])
def test_zeros_after_the_point_say_nothing_finer(text):
    """``60840.0`` is the whole number 60,840, exactly: not 608,400 (the zero read as a
    digit) nor 6,084 (the zero dropped with the point kept)."""
    declared = parse_number(text)
    assert (declared.digits, declared.unit) == (60_840, 1)
    assert [declared.matches(n) for n in (60_839, 60_840, 60_841)] == [False, True, False]


def test_a_fraction_of_a_unit_is_an_error_not_a_rounding():
    with pytest.raises(DeclarationError) as info:
        parse_number("60840.5")
    assert str(info.value) == ("'60840.5' is not a whole number; use an SI suffix for a "
                               "rounded figure")


def test_declared_numbers_with_zeros_after_the_point_check_lenet5():
    """LeNet-5: 60,840 params in all, C3 1,516 (6*(3*25+1) + 6*(4*25+1) + 3*(4*25+1) +
    (6*25+1)), as the directive's content lines write them."""
    s = analyze(EXAMPLES / "lenet5.onnx")
    assert check(s, parse_lines(["total params=60840.0", "C3 params=1516.00"])) == []
    assert [m.message for m in check(s, parse_lines(["total params=60841.0"]))] == [
        "total: params declared 60,841, model has 60,840"]
    with pytest.raises(DeclarationError, match="'60840.5' is not a whole number"):
        check(s, parse_lines(["total params=60840.5"]))


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


def test_a_declared_count_may_have_80_digits_not_81():
    """The bound on a declared number is on its digits, the SI suffix's included."""
    assert parse_number("9" * 80).digits == 10**80 - 1
    assert parse_number(10**80 - 1).digits == 10**80 - 1
    assert parse_number("1" + "0" * 70 + "G").matches(10**79)
    for too_long in ("1" + "0" * 80, "1" + "0" * 71 + "G", 10**80):
        with pytest.raises(DeclarationError, match="too large to be a count"):
            parse_number(too_long)
