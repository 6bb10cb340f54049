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
    f_old, f_new = 2 * 9 * 4 * 36 + 4 * 36, 2 * 9 * 8 * 36 + 8 * 36  # 2 per MAC, 1 per bias
    assert capsys.readouterr().out.splitlines() == [
        f"{old} -> {new}",
        "=" * 61,
        "Layer  Metric              Old         New   Change         %",
        "=" * 61,
        "conv1  output            4@6x6       8@6x6",
        f"conv1  params               {c1_old}          {c1_new}      +40  +100.00%",
        f"conv1  connections       {c1_old * 36:,}       {c1_new * 36:,}   +1,440  +100.00%",
        f"conv1  macs              {9 * 4 * 36:,}       {9 * 8 * 36:,}   +1,296  +100.00%",
        f"conv1  flops             {f_old:,}       {f_new:,}   +2,736  +100.00%",
        # a removed layer after its old predecessor, an added one where the new model has it
        "conv3  layer        Conv 8@6x6              removed",
        f"conv3  params               {c3}                  -40  -100.00%",
        f"conv3  macs              {4 * 8 * 36:,}               -1,152  -100.00%",
        "conv2  layer                    Conv 8@6x6    added",
        f"conv2  params                           {c2}      +72       new",
        f"conv2  macs                          {8 * 8 * 36:,}   +2,304       new",
        "=" * 61,
        f"Total  params               {c1_old + c3}         {c1_new + c2}      +72   +90.00%",
        "Total  connections       2,880       5,472   +2,592   +90.00%",
        "Total  macs              2,448       4,896   +2,448  +100.00%",
        # flops: conv3's 2,304 + 288 and the ReLU's 288 out, conv2's 4,608 + 288 in
        "Total  flops             5,616      10,656   +5,040   +89.74%",
        "=" * 61,
        "1 layer unchanged.",
    ]


def test_markdown(pair, capsys):
    old, new = pair
    assert main(["diff", old, new, "--format", "markdown"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:4] == [f"**{old}** → **{new}**", "",
                         "| Layer | Metric | Old | New | Change | % |",
                         "| :--- | :--- | ---: | ---: | ---: | ---: |"]
    assert "| conv1 | params | 40 | 80 | +40 | +100.00% |" in lines
    assert "| conv2 | layer |  | Conv 8@6x6 | added |  |" in lines
    assert lines[-3:] == ["| **Total** | flops | 5,616 | 10,656 | +5,040 | +89.74% |", "",
                          "1 layer unchanged."]


def test_budgets(pair, capsys):
    old, new = pair
    assert main(["diff", old, new, "--fail-on", "params=+100%,macs=+100%"]) == 0
    capsys.readouterr()
    assert main(["diff", old, new, "--fail-on", "params=+5%", "--fail-on", "flops=+5000"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-2:] == [
        "Budget exceeded: params grew by +72 (+90.00%), more than params=+5% allows (+4).",
        "Budget exceeded: flops grew by +5,040 (+89.74%), more than flops=+5000 allows (+5,000).",
    ]
    assert main(["diff", new, old, "--fail-on", "params=+0"]) == 0  # shrinking is within budget


def test_a_budget_on_a_figure_not_counted_fails(pair, tmp_path, capsys):
    """An op with no rule leaves MACs unknown: the budget on them cannot pass unseen."""
    old, _ = pair
    m = convs(4, False, True)
    m.graph.node.append(helper.make_node("Mystery", ["y"], ["z"], name="/x/Mystery",
                                         domain="example.custom"))
    m.opset_import.append(helper.make_opsetid("example.custom", 1))
    m.graph.output[0].name = "z"
    odd = tmp_path / "odd.onnx"
    onnx.save(m, odd)
    assert main(["diff", old, str(odd), "--fail-on", "macs=+100%,params=+0"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert ["Total", "macs", "2,448", "?", "?", "?"] in [line.split() for line in out]
    assert ["x", "macs", "?", "?", "?"] in [line.split() for line in out]  # new, not counted
    assert out[-1] == ("Budget not checked: macs could not be counted in the new model "
                       "(macs=+100%); a budget not checked fails.")
    assert main(["diff", old, str(odd), "--format", "json", "--fail-on", "macs=+1"]) == 1
    d = json.loads(capsys.readouterr().out)
    assert d["totals"]["macs"] == {"old": 2448, "new": None, "delta": None}
    assert d["budgets"] == [{"key": "macs", "budget": "macs=+1", "allowance": None,
                             "delta": None, "exceeded": False, "checked": False}]


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
                             "delta": 2448, "exceeded": True, "checked": True}]


def test_same_model(capsys):
    assert main(["diff", LENET, LENET, "--fail-on", "params=+0,connections=0"]) == 0
    assert capsys.readouterr().out.splitlines()[4:] == [
        "Total  params        60,840   60,840       0  +0.00%",
        "Total  connections  340,908  340,908       0  +0.00%",
        "Total  macs         325,680  325,680       0  +0.00%",
        "Total  flops        695,672  695,672       0  +0.00%",
        "=" * 52,
        "7 layers unchanged.",
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
