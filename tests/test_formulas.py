"""Cost as a formula of the input size (--symbolic): exact polynomials in the free symbols,
against the hand formulas and onnxruntime's runs of tests/data/symbolic."""

from __future__ import annotations

import json
import shutil
from fractions import Fraction
from pathlib import Path

import pytest

from sphinx_cnncount import analyze
from sphinx_cnncount.cli import main
from sphinx_cnncount.formula import free_symbols

from .helpers import sphinx_build

DATA = Path(__file__).resolve().parent / "data" / "symbolic"
EXPORTS = ["dynamo", "torchscript"]


def oracle(stem: str) -> dict:
    return json.loads((DATA / f"{stem}.json").read_text())


def terms(formula) -> dict:
    """A formula's terms as {powers: coefficient}, order aside."""
    return {tuple(sorted(t.powers)): t.coefficient for t in formula.terms}


def oracle_terms(o: dict) -> dict:
    return {tuple(sorted(powers.items())): c for c, powers in o["formula"]["terms"]}


@pytest.mark.parametrize("exporter", EXPORTS)
def test_bert_macs_in_the_sequence_length(exporter):
    """393,216*L + 512*L^2 + 16,384 (the projections and feed-forward per token, the scores
    per pair of tokens, the pooler once), for every L: no condition."""
    o = oracle(f"bert_tiny.{exporter}")
    s = analyze(DATA / f"bert_tiny.{exporter}.onnx", symbolic=True)
    macs = s.formula("macs")
    assert terms(macs) == oracle_terms(o) == {(("sequence", 2),): 512,
                                             (("sequence", 1),): 393_216, (): 16_384}
    assert str(macs) == "512*sequence^2 + 393,216*sequence + 16,384"
    assert s.formula_conditions == ()
    assert terms(s.formula("params")) == {(): 4_385_920}
    for run in o["runs"]:  # evaluated against onnxruntime's bound runs
        assert macs(**run["binding"]) == run["macs_from_ort_shapes"]


@pytest.mark.parametrize("exporter", EXPORTS)
def test_resnet18_macs_in_h_and_w(exporter):
    o = oracle(f"resnet18_hw.{exporter}")
    s = analyze(DATA / f"resnet18_hw.{exporter}.onnx", symbolic=True)
    macs = s.formula("macs")
    assert terms(macs) == oracle_terms(o) == {(("H", 1), ("W", 1)): 36_144, (): 512_000}
    assert s.formula_conditions == ("H and W multiples of 32",)
    for run in o["runs"]:
        h, w = run["binding"]["H"], run["binding"]["W"]
        if h % 32 == 0 and w % 32 == 0:
            assert macs(H=h, W=w) == run["macs_from_ort_shapes"]
        else:  # off the condition the count is a quasi-polynomial: the formula says so
            assert macs(H=h, W=w) == run["formula_macs"] != run["macs_from_ort_shapes"]


@pytest.mark.parametrize("stem", ["bert_tiny.dynamo", "resnet18_hw.torchscript"])
def test_every_formula_is_the_bound_count(stem):
    """Each metric's formula equals the counter's own figure at bindings it was not derived
    at."""
    s = analyze(DATA / f"{stem}.onnx", symbolic=True)
    symbols = free_symbols(DATA / f"{stem}.onnx", {})
    bindings = [{"sequence": 77}, {"sequence": 300}] if "bert" in stem else \
        [{"H": 288, "W": 416}, {"H": 480, "W": 96}]
    assert [f.metric for f in s.formulas] == ["params", "macs", "flops", "activation_bytes"]
    for dims in bindings:
        assert sorted(dims) == sorted(symbols)
        bound = analyze(DATA / f"{stem}.onnx", dims=dims).totals
        for f in s.formulas:
            assert f(**dims) == getattr(bound, f.metric), (f.metric, dims)


def test_a_coefficient_that_is_no_integer_stays_exact():
    """resnet18 (TorchScript, its BatchNorms kept) has FLOPs 144,969/2 per input pixel: exact
    on its condition, where H*W is a multiple of 1,024; JSON writes it "p/q"."""
    s = analyze(DATA / "resnet18_hw.torchscript.onnx", symbolic=True)
    flops = s.formula("flops")
    assert terms(flops) == {(("H", 1), ("W", 1)): Fraction(144_969, 2), (): 1_025_000}
    assert s.to_json()["formulas"]["flops"] == [["144969/2", {"H": 1, "W": 1}], [1025000, {}]]
    assert flops(H=64, W=96) == analyze(DATA / "resnet18_hw.torchscript.onnx",
                                        dims={"H": 64, "W": 96}).totals.flops


def test_a_bound_symbol_is_not_free():
    s = analyze(DATA / "resnet18_hw.dynamo.onnx", dims={"H": 224}, symbolic=True)
    assert terms(s.formula("macs")) == {(("W", 1),): 36_144 * 224, (): 512_000}
    assert s.formula_conditions == ("W a multiple of 32",)


def test_a_model_without_free_symbols_has_constant_formulas():
    s = analyze(DATA.parent / "conventions" / "lenet5.torchscript.onnx", symbolic=True)
    assert str(s.formula("macs")) == "416,520" and s.formula_conditions == ()


def test_the_cli_prints_and_writes_the_formulas(capsys):
    path = str(DATA / "resnet18_hw.dynamo.onnx")
    assert main(["summary", path, "--symbolic"]) == 0
    out, err = capsys.readouterr()
    assert "Formulas (for H and W multiples of 32):\n  Params = 11,684,712\n" \
           "  MACs = 36,144*H*W + 512,000\n" in out
    assert "note: the table is at H=32, W=32; the formulas hold for H and W multiples of 32" \
        in err
    assert main(["summary", path, "--symbolic", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["formulas"]["macs"] == [[36144, {"H": 1, "W": 1}], [512000, {}]]
    assert data["formula_conditions"] == ["H and W multiples of 32"]
    assert main(["summary", path, "--format", "json", "--dim", "H=64", "--dim", "W=64"]) == 0
    assert "formulas" not in json.loads(capsys.readouterr().out)  # only when asked


def test_the_directive_takes_symbolic(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text("extensions = ['sphinx_cnncount']\n")
    shutil.copy(DATA / "bert_tiny.dynamo.onnx", src / "bert.onnx")
    (src / "index.rst").write_text("BERT\n====\n\n.. cnncount:: bert.onnx\n   :symbolic:\n"
                                   "   :diagram: none\n")
    warnings = sphinx_build(src, tmp_path / "out")
    assert "ERROR" not in warnings
    html = (tmp_path / "out" / "index.html").read_text()
    assert "MACs = 512*sequence^2 + 393,216*sequence + 16,384" in html
    assert "Formulas (for every binding):" in html  # no condition: any sequence length


def test_a_staircase_the_strides_do_not_show_gets_no_formula():
    """silero VAD frames its audio with a Conv (256 wide, stride 128) after a Reshape: the
    input's receptive field shows no stride, and its MACs are flat for 128 samples at a time
    (308,224 from 192 to 319 samples, 423,808 from 320). Checked far from the grid as well as
    beside it, no polynomial is claimed; the table is at the smallest length that fits
    (191 samples are too few for the first window), with the batch at 1."""
    from .conftest import ROOT

    path = ROOT / "tests/data/wild/silero_vad_16k_op15.onnx"
    s = analyze(path, symbolic=True)
    assert s.formulas == ()
    assert [(i.name, i.shape) for i in s.inputs][0] == ("input", (1, 192))
    assert s.formula_conditions == ("sequence >= 192",)
    at = {n: analyze(path, dims={"batch": 1, "sequence": n}).totals.macs for n in (192, 319, 320)}
    assert at == {192: 308_224, 319: 308_224, 320: 423_808}


def test_a_staircase_that_starts_at_one_sample_gets_no_formula_either():
    """silero v4 is flat from 1 sample to the first frame's edge (154,103 MACs per batch item)
    and 764,616 at 512: a formula checked only beside its grid would say 154,103*batch. What
    is claimed holds at 512 samples too."""
    from .conftest import ROOT

    path = ROOT / "tests/data/wild/silero_vad_legacy_v4.onnx"
    s = analyze(path, symbolic=True)
    assert "macs" not in {f.metric for f in s.formulas}
    at = analyze(path, dims={"batch": 3, "sequence": 512}).totals
    assert at.macs == 3 * 764_616
    for f in s.formulas:
        assert f(batch=3, sequence=512) == getattr(at, f.metric)
