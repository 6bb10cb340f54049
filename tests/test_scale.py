"""What makes a large model fast stays exact: memoized costs, one-pass checks, interval memory,
and the command's exit without teardown."""

from __future__ import annotations

import json
import subprocess
import sys

import onnx
import pytest
from onnx import TensorProto, helper

import sphinx_cnncount.count as countmod
from sphinx_cnncount.shapes import all_known

from .helpers import model, summarize, weight

mk = helper.make_node


def conv_chain(blocks: int) -> onnx.ModelProto:
    """``blocks`` x (3x3 Conv 4->4 with bias, Relu) on 1x4x8x8: the same two nodes repeated."""
    nodes, inits, x = [], [], "x"
    for b in range(blocks):
        inits += [weight(f"w{b}", 4, 4, 3, 3), weight(f"b{b}", 4)]
        nodes += [mk("Conv", [x, f"w{b}", f"b{b}"], [f"c{b}"], kernel_shape=[3, 3],
                     pads=[1, 1, 1, 1], name=f"/block{b}/conv/Conv"),
                  mk("Relu", [f"c{b}"], [f"r{b}"], name=f"/block{b}/relu/Relu")]
        x = f"r{b}"
    return model(nodes, {"x": [1, 4, 8, 8]}, [x], inits)


def test_each_distinct_node_is_costed_once_and_every_node_counts(tmp_path, monkeypatch):
    calls = []
    real = countmod._cost
    monkeypatch.setattr(countmod, "_cost", lambda spec, view: calls.append(view) or real(spec, view))
    s = summarize(tmp_path, conv_chain(50))
    assert len(calls) == 2  # one Conv, one Relu: the other 98 nodes reuse their costs
    per_conv = 4 * 8 * 8 * (4 * 3 * 3)  # output units x fan-in
    assert s.totals.macs == 50 * per_conv
    assert s.totals.connections == 50 * (per_conv + 4 * 8 * 8)  # +1 per unit: the bias
    assert s.totals.params == 50 * (4 * 4 * 3 * 3 + 4)
    assert [layer.macs for layer in s.layers] == [per_conv] * 50


def test_the_same_attributes_share_a_cost_and_different_ones_do_not(tmp_path):
    nodes = [mk("MaxPool", ["x"], ["a"], kernel_shape=[2, 2], strides=[2, 2], name="p1"),
             mk("MaxPool", ["x"], ["b"], kernel_shape=[2, 2], strides=[2, 2], name="p2"),
             mk("MaxPool", ["x"], ["c"], kernel_shape=[4, 4], strides=[2, 2], pads=[1, 1, 1, 1],
                name="p3")]
    s = summarize(tmp_path, model(nodes, {"x": [1, 1, 8, 8]}, ["a", "b", "c"]))
    # 4x4 = 16 output units each ((8 + 2 - 4) / 2 + 1 = 4 for p3), each reading its window
    assert [layer.connections for layer in s.layers] == [16 * 2 * 2, 16 * 2 * 2, 16 * 4 * 4]


def test_a_memoized_failure_is_reported_for_every_node(tmp_path):
    """Two identical Convs whose kernel_shape contradicts the weight: two diagnostics, each
    naming its node."""
    nodes = [mk("Conv", ["x", "w"], ["a"], kernel_shape=[5, 5], name="first"),
             mk("Conv", ["x", "w"], ["b"], kernel_shape=[5, 5], name="second")]
    m = model(nodes, {"x": [1, 1, 8, 8]}, {"a": [1, 1, 6, 6], "b": [1, 1, 6, 6]},
              [weight("w", 1, 1, 3, 3)])
    s = summarize(tmp_path, m)
    invalid = [d for d in s.diagnostics if d.kind == "invalid-node"]
    assert [d.node for d in invalid] == ["first", "second"]
    assert all(d.message.startswith(f"Conv {d.node!r}: attributes do not fit") for d in invalid)


@pytest.mark.parametrize("shapes, expected", [
    ([(1, 3, 224, 224), (64,), ()], True),  # a scalar is known too
    ([(1, 3), None], False),  # no shape at all
    ([(1, "batch", 4)], False),  # a symbol
    ([(1, None)], False),  # an unnamed dim
    ([], True),
])
def test_all_known_is_is_known_over_many(shapes, expected):
    assert all_known(shapes) is expected


def test_a_tensor_read_inside_a_branch_is_freed_after_the_branch(tmp_path):
    """x -> a = Relu(x) -> If(cond) whose branches read ``a`` from the outer scope -> y.
    a (64 B) lives until the If; at the If, cond (1 B), a and the If's output (64 B) are live."""
    then = helper.make_graph([mk("Identity", ["a"], ["t"])], "then", [],
                             [helper.make_tensor_value_info("t", TensorProto.FLOAT, [1, 1, 4, 4])])
    other = helper.make_graph([mk("Neg", ["a"], ["e"])], "else", [],
                              [helper.make_tensor_value_info("e", TensorProto.FLOAT, [1, 1, 4, 4])])
    nodes = [mk("Relu", ["x"], ["a"], name="relu"),
             mk("If", ["cond"], ["b"], then_branch=then, else_branch=other, name="branch"),
             mk("Relu", ["b"], ["y"], name="out")]
    m = model(nodes, {"x": [1, 1, 4, 4]}, ["y"])
    m.graph.input.append(helper.make_tensor_value_info("cond", TensorProto.BOOL, []))
    s = summarize(tmp_path, m)
    # start: x + cond = 65; relu: + a = 129, x freed; If: + b = 129, cond and a freed;
    # out: b + y = 128.
    assert s.totals.peak_activation_bytes == 64 + 1 + 64


def test_the_command_flushes_everything_before_its_fast_exit(tmp_path):
    """``cnncount`` ends with os._exit: the whole JSON still arrives through a pipe, and the
    exit status is the command's."""
    path = tmp_path / "chain.onnx"
    onnx.save(conv_chain(1500), path)  # about 250 KB of JSON: more than a pipe's buffer
    r = subprocess.run([sys.executable, "-m", "sphinx_cnncount", "summary", str(path),
                        "--format", "json"], capture_output=True)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["totals"]["params"] == 1500 * (4 * 4 * 3 * 3 + 4)
    assert len(data["tensors"]) == 1 + 2 * 1500 + 2 * 1500  # input, weights and biases, outputs
    bad = subprocess.run([sys.executable, "-m", "sphinx_cnncount", "summary",
                          str(tmp_path / "missing.onnx")], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "no such file" in bad.stderr


def test_a_reader_that_stops_early_is_not_an_error(tmp_path):
    """``cnncount summary big.onnx | head -1``: exit 0, nothing on stderr."""
    path = tmp_path / "chain.onnx"
    onnx.save(conv_chain(1500), path)
    proc = subprocess.Popen([sys.executable, "-m", "sphinx_cnncount", "summary", str(path),
                             "--format", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline() == b"{\n"
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait() == 0 and err == b""
