"""Sizes only the data decides (NonMaxSuppression's boxes, NonZero's elements): named, bound
with --dim, and otherwise counted at the cap the graph states, as an upper bound. Oracles:
tests/data/detection (the tiny detector's hand formula, onnxruntime's runs, Faster R-CNN)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sphinx_cnncount import analyze
from sphinx_cnncount.cli import main
from sphinx_cnncount.declare import Declaration, check
from sphinx_cnncount.load import ModelError

DATA = Path(__file__).resolve().parent / "data" / "detection"
TINY = DATA / "tiny_detector.onnx"
FRCNN = DATA / "fasterrcnn_mobilenet_v3_large_320_fpn.torchscript.onnx"
ORACLE = json.loads((DATA / "tiny_detector.json").read_text())


def tiny_macs(k_a: int, k_b: int) -> int:
    """The README's formula: the backbone and objectness once, 384 MACs per box of head A
    (4x32 then 32x8), 64 per box of head B (4x16)."""
    return 28_672 + 384 * k_a + 64 * k_b


def test_the_tiny_detector_is_counted_at_its_caps_as_an_upper_bound():
    s = analyze(TINY)
    assert s.totals.macs == tiny_macs(10, 6) == ORACLE["macs_at_cap"] == 32_896
    assert s.totals.params == ORACLE["params"]
    assert s.upper_bound and s.status == "partial"
    caps = {(z.symbol, z.op_type, z.cap, z.value, z.source) for z in s.sizes}
    # head A: max_output_boxes_per_class = 10; head B: no cap of its own (INT64_MAX), the 64
    # boxes TopK gives it, then a Slice keeps 6
    assert caps == {("nms_a", "NonMaxSuppression", 10, 10, "cap"),
                    ("nms_b", "NonMaxSuppression", 64, 64, "cap")}
    assert s.incomplete == ("2 data-dependent sizes counted at their caps, so the figures are "
                            "upper bounds: nms_a <= 10 (boxes kept), nms_b <= 64 (boxes kept)",)
    assert s.tensors["out_a"] == (10, 8) and s.tensors["out_b"] == (6, 16)


@pytest.mark.parametrize("k_a, k_b", [(10, 32), (1, 1), (3, 4), (7, 64)])
def test_binding_the_sizes_gives_the_formula(k_a, k_b):
    """--dim binds the boxes each NMS keeps; head B runs on min(K', 6) boxes, as the Slice
    says."""
    s = analyze(TINY, dims={"nms_a": k_a, "nms_b": k_b})
    assert s.totals.macs == tiny_macs(k_a, min(k_b, 6))
    assert (s.status, s.upper_bound) == ("complete", False)
    assert {z.symbol: (z.value, z.source) for z in s.sizes} == {"nms_a": (k_a, "dim"),
                                                               "nms_b": (k_b, "dim")}


def test_the_oracle_runs_are_reproduced():
    for run in ORACLE["runs"]:
        s = analyze(TINY, dims={"nms_a": run["K_a"], "nms_b": run["nms_b_kept_before_slice"]})
        assert s.totals.macs == run["macs"]


def test_faster_rcnn_at_the_cap_and_at_the_run():
    """The box head runs once per proposal, at most 150 (the Slice after the RPN's NMS):
    718,998,400 + 150 x 14,359,552 MACs; bound to the 101 proposals onnxruntime kept, exactly
    what it computed."""
    oracle = json.loads(FRCNN.with_suffix(".json").read_text())
    s = analyze(FRCNN)
    assert s.totals.macs == oracle["macs_at_cap"] == 718_998_400 + 150 * 14_359_552
    assert s.upper_bound
    nms = [z for z in s.sizes if z.op_type == "NonMaxSuppression"]
    assert [(z.symbol, z.cap) for z in nms] == [("NonMaxSuppression_1641", 450),
                                                ("NonMaxSuppression_2103", 13_500)]
    run = analyze(FRCNN, dims={"NonMaxSuppression_1641": oracle["proposals_ort"]})
    assert run.totals.macs == oracle["macs_from_ort_shapes"] == 2_169_313_152


def test_the_cli_names_the_symbols_and_says_the_bound(capsys):
    assert main(["summary", str(TINY)]) == 0
    out, err = capsys.readouterr()
    assert "MACs: 32,896 (an upper bound)\n" in out
    assert ("cnncount: note: data-dependent size 'nms_a' (NonMaxSuppression 'nms_a': boxes "
            "kept) counted at its cap, 10 (an upper bound); bind it with --dim nms_a=SIZE\n") in err
    assert main(["summary", str(TINY), "--dim", "nms_a=2", "--dim", "nms_b=3",
                 "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["totals"]["macs"] == tiny_macs(2, 3)
    assert data["sizes"][0] == {"symbol": "nms_a", "node": "nms_a",
                                "op_type": "NonMaxSuppression", "what": "boxes kept", "cap": 10,
                                "value": 2, "source": "dim"}


def test_a_symbol_that_is_neither_an_input_nor_a_size_is_an_error():
    with pytest.raises(ModelError) as info:
        analyze(TINY, dims={"nms_c": 3})
    assert info.value.reason == ("dims[\"nms_c\"]: the model has no symbolic dim 'nms_c' (its "
                                 "inputs' symbols: none; its data-dependent sizes: nms_a, nms_b)")


def test_a_declared_figure_checked_against_an_upper_bound_says_so():
    s = analyze(TINY)
    [mismatch] = check(s, [Declaration("total", "macs", "30,000")])
    assert mismatch.message == ("total: macs declared 30,000, model has 32,896 (an upper bound: "
                                "data-dependent sizes counted at their caps)")
    assert check(s, [Declaration("total", "macs", "32,896")]) == []


@pytest.mark.parametrize("opset", [9, 17])  # 9: a version onnx's inference has no rule for
def test_compress_along_an_axis_keeps_the_other_dims(tmp_path, opset):
    """Compress(x (2, 5, 3), cond, axis=1): (2, pick, 3), pick at most the 5 slices of the
    axis; a MatMul by a (3, 4) weight after it costs 2*pick*3*4."""
    import numpy as np
    import onnx
    from onnx import TensorProto as T
    from onnx import helper as h
    from onnx import numpy_helper as nh

    nodes = [h.make_node("Compress", ["x", "cond"], ["y"], axis=1, name="pick"),
             h.make_node("MatMul", ["y", "w"], ["z"], name="mm")]
    g = h.make_graph(nodes, "g", [h.make_tensor_value_info("x", T.FLOAT, [2, 5, 3]),
                                  h.make_tensor_value_info("cond", T.BOOL, [5])],
                     [h.make_tensor_value_info("z", T.FLOAT, None)],
                     [nh.from_array(np.ones((3, 4), np.float32), "w")])
    path = tmp_path / "compress.onnx"
    onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", opset)]), path)
    s = analyze(path)
    assert (s.tensors["y"], s.totals.macs) == ((2, 5, 3), 2 * 5 * 3 * 4)
    assert [(z.symbol, z.cap, z.source) for z in s.sizes] == [("pick", 5, "cap")]
    bound = analyze(path, dims={"pick": 2})
    assert (bound.tensors["y"], bound.totals.macs) == ((2, 2, 3), 2 * 2 * 3 * 4)
