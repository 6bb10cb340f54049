"""``cnncount diff``: added, removed and changed layers, totals, budgets."""

from __future__ import annotations

import json
from fractions import Fraction

import onnx
import pytest
from onnx import helper

from sphinx_cnncount.lint.cli import main
from sphinx_cnncount.lint.diff import parse_budgets

from .conftest import EXAMPLES
from .helpers import model, weight

LENET = str(EXAMPLES / "lenet5.onnx")


def convs(maps1: int, second: bool, third: bool):
    """conv1 (3x3, ``maps1`` maps) on 1x1x8x8, then optionally conv2 (3x3, 8 maps), conv3."""
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["h1"], name="/conv1/Conv",
                              kernel_shape=[3, 3])]
    inits = [weight("w1", maps1, 1, 3, 3), weight("b1", maps1)]
    x, c = "h1", maps1
    for name, keep in (("conv2", second), ("conv3", third)):
        if keep:
            nodes.append(helper.make_node("Conv", [x, f"w_{name}", f"b_{name}"], [name],
                                          name=f"/{name}/Conv", kernel_shape=[1, 1]))
            inits += [weight(f"w_{name}", 8, c, 1, 1), weight(f"b_{name}", 8)]
            x, c = name, 8
    nodes.append(helper.make_node("Relu", [x], ["y"], name="/act/Relu"))
    return model(nodes, {"x": [1, 1, 8, 8]}, ["y"], inits)


@pytest.fixture
def pair(tmp_path):
    old, new = tmp_path / "old.onnx", tmp_path / "new.onnx"
    onnx.save(convs(4, False, True), old)
    onnx.save(convs(8, True, False), new)
    return str(old), str(new)


def test_text(pair, capsys):
    old, new = pair
    assert main(["diff", old, new]) == 0
    c1_old, c1_new = (3 * 3 + 1) * 4, (3 * 3 + 1) * 8
    c2, c3 = (8 + 1) * 8, (4 + 1) * 8
    assert capsys.readouterr().out.splitlines() == [
        f"{old} -> {new}",
        f"~ conv1  output 4@6x6 -> 8@6x6; params {c1_old} -> {c1_new} (+40); connections "
        f"{c1_old * 36:,} -> {c1_new * 36:,} (+1,440); macs {9 * 4 * 36:,} -> {9 * 8 * 36:,} "
        f"(+1,296); flops {2 * 9 * 4 * 36 + 4 * 36:,} -> {2 * 9 * 8 * 36 + 8 * 36:,} (+2,736)",
        f"- conv3  Conv 8@6x6; params {c3}; macs {4 * 8 * 36:,}",  # after its old predecessor
        f"+ conv2  Conv 8@6x6; params {c2}; macs {8 * 8 * 36:,}",
        "  (1 layer unchanged)",
        f"total: params {c1_old + c3} -> {c1_new + c2} (+72, +90.00%); connections 2,880 -> "
        "5,472 (+2,592, +90.00%); macs 2,448 -> 4,896 (+2,448, +100.00%); flops 5,616 -> "
        "10,656 (+5,040, +89.74%)",  # flops: 2 per MAC, 1 per bias, 1 per ReLU output
    ]


def test_budgets(pair, capsys):
    old, new = pair
    assert main(["diff", old, new, "--fail-on", "params=+100%,macs=+100%"]) == 0
    capsys.readouterr()
    assert main(["diff", old, new, "--fail-on", "params=+5%", "--fail-on", "flops=+5000"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-2:] == [
        "budget exceeded: params grew by +72 (+90.00%), more than params=+5% allows (+4)",
        "budget exceeded: flops grew by +5,040 (+89.74%), more than flops=+5000 allows (+5,000)",
    ]
    assert main(["diff", new, old, "--fail-on", "params=+0"]) == 0  # shrinking is within budget


def test_json(pair, capsys):
    old, new = pair
    assert main(["diff", old, new, "--format", "json", "--fail-on", "macs=+1k"]) == 1
    d = json.loads(capsys.readouterr().out)
    assert [(c["name"], c["status"]) for c in d["layers"]] == [
        ("conv1", "changed"), ("conv3", "removed"), ("conv2", "added"), ("act", "unchanged")]
    conv1 = d["layers"][0]
    assert conv1["old"]["output_shape"] == [1, 4, 6, 6]
    assert conv1["delta"]["params"] == 40 and conv1["delta"]["macs"] == 1296
    assert d["layers"][2]["old"] is None and d["layers"][2]["delta"] is None
    assert d["totals"]["macs"] == {"old": 2448, "new": 4896, "delta": 2448}
    assert d["budgets"] == [{"key": "macs", "budget": "macs=+1k", "allowance": 1000,
                             "delta": 2448, "exceeded": True}]


def test_same_model(capsys):
    assert main(["diff", LENET, LENET, "--fail-on", "params=+0,connections=0"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        "  (7 layers unchanged)",
        "total: params 60,840; connections 340,908; macs 325,680; flops 695,672",
    ]


@pytest.mark.parametrize("spec, key, amount, percent", [
    ("params=+5%", "params", Fraction(5), True),
    ("macs=+1.5M", "macs", Fraction(1_500_000), False),
    ("flops=10", "flops", Fraction(10), False),
    ("trainable-params=+0.5%", "trainable_params", Fraction(1, 2), True),
])
def test_parse_budgets(spec, key, amount, percent):
    (b,) = parse_budgets([spec])
    assert (b.key, b.amount, b.percent) == (key, amount, percent)


@pytest.mark.parametrize("spec, message", [
    ("params", "--fail-on expects KEY=+N%"),
    ("params=+5%M", "--fail-on expects KEY=+N%"),
    ("parms=+5%", "unknown key 'parms'"),
])
def test_bad_budgets_exit_2(spec, message, capsys):
    assert main(["diff", LENET, LENET, "--fail-on", spec]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cnncount: error: ") and message in err


def test_unreadable_model_exit_2(tmp_path, capsys):
    assert main(["diff", LENET, str(tmp_path)]) == 2
    assert capsys.readouterr().err == (f"cnncount: error: {tmp_path}: is a directory, not an "
                                       "ONNX file\n")
