"""Hostile model builders shared by the hostile-input tests and the fuzzer's generator."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .helpers import model

mk = helper.make_node

HOSTILE_NAMES = [
    "\x1b]0;owned\x07\x1b[31mred",  # OSC (a window title) and an ESC colour
    "a\x85b\x9bc",  # C1 controls: NEL, CSI
    "x\nline::add-mask::secret",  # a workflow command at the start of a line
    "y\n::error file=forged.py,line=1::forged",
    "=1+1\rsplit",  # a bare CR: a new row, then a formula
    "\u202eevil\u202c\u2066iso\u2069",  # bidi overrides and isolates
    "zero\u200bwidth\u200d\ufeffbom",  # zero-width characters and the BOM
    "sep\u2028line\u2029para",  # line and paragraph separators
]


def lying_constant_of_shape(copies: int) -> onnx.ModelProto:
    """ConstantOfShape of Abs([300000000]) whose output the file declares [1], beside an op
    with no rule (which sends the nodes through the pass that folds)."""
    nodes, declared = [], []
    for k in range(copies):
        nodes += [mk("Constant", [], [f"c{k}"], value=helper.make_tensor(
                      f"cv{k}", TensorProto.INT64, [1], [300_000_000])),
                  mk("Abs", [f"c{k}"], [f"a{k}"]),
                  mk("ConstantOfShape", [f"a{k}"], [f"z{k}"])]
        declared += [helper.make_tensor_value_info(f"a{k}", TensorProto.INT64, [1]),
                     helper.make_tensor_value_info(f"z{k}", TensorProto.FLOAT, [1])]
    nodes.append(mk("Foo", ["x"], ["f"], domain="custom"))
    m = model(nodes, {"x": [1, 4]}, ["f", *(f"z{k}" for k in range(copies))], opset=17,
              extra_opsets=[helper.make_opsetid("custom", 1)])
    m.graph.value_info.extend(declared)
    return m


def calls_in_a_branch(levels: int) -> onnx.ModelProto:
    """The only call of F<levels> sits in an If branch; F<k> calls F<k-1> twice."""
    functions = [helper.make_function("b", "F0", ["a"], ["b"], [mk("Relu", ["a"], ["b"])],
                                      [helper.make_opsetid("", 17)])]
    for k in range(1, levels + 1):
        functions.append(helper.make_function(
            "b", f"F{k}", ["a"], ["b"],
            [mk(f"F{k - 1}", ["a"], ["m"], domain="b"), mk(f"F{k - 1}", ["m"], ["b"], domain="b")],
            [helper.make_opsetid("", 17), helper.make_opsetid("b", 1)]))
    then = helper.make_graph([mk(f"F{levels}", ["x"], ["t"], domain="b")], "then", [],
                             [helper.make_tensor_value_info("t", TensorProto.FLOAT, [1, 4])])
    other = helper.make_graph([mk("Identity", ["x"], ["e"])], "else", [],
                              [helper.make_tensor_value_info("e", TensorProto.FLOAT, [1, 4])])
    m = model([mk("If", ["c"], ["y"], then_branch=then, else_branch=other)], {"x": [1, 4]},
              ["y"], opset=17, extra_opsets=[helper.make_opsetid("b", 1)])
    m.graph.input.append(helper.make_tensor_value_info("c", TensorProto.BOOL, []))
    m.functions.extend(functions)
    return m


def nested_ifs(depth: int) -> onnx.ModelProto:
    """Ifs nested ``depth`` deep on an input condition: each then-branch holds the next If,
    each else-branch a Neg; the innermost then-branch a Relu."""
    def level(d: int, name: str) -> onnx.GraphProto:
        out = helper.make_tensor_value_info(f"{name}_o", TensorProto.FLOAT, [1, 4])
        if d == 0:
            return helper.make_graph([mk("Relu", ["x"], [f"{name}_o"])], name, [], [out])
        other = helper.make_graph(
            [mk("Neg", ["x"], [f"{name}_e"])], name + "e", [],
            [helper.make_tensor_value_info(f"{name}_e", TensorProto.FLOAT, [1, 4])])
        inner = mk("If", ["c"], [f"{name}_o"], then_branch=level(d - 1, name + "t"),
                   else_branch=other)
        return helper.make_graph([inner], name, [], [out])

    top = level(depth, "g")
    m = model(list(top.node), {"x": [1, 4]}, {"g_o": [1, 4]}, opset=17)
    m.graph.input.append(helper.make_tensor_value_info("c", TensorProto.BOOL, []))
    return m


def nested_loops(depth: int) -> onnx.ModelProto:
    """Loops nested ``depth`` deep, each running its body twice; the innermost body a Relu."""
    def body(d: int, name: str) -> onnx.GraphProto:
        inner = [mk("Relu", [f"{name}_h"], [f"{name}_r"])] if d == 1 else \
            [mk("Loop", ["trips", "", f"{name}_h"], [f"{name}_r"], body=body(d - 1, name + "l"))]
        return helper.make_graph(
            inner + [mk("Identity", [f"{name}_c"], [f"{name}_co"])], name,
            [helper.make_tensor_value_info(f"{name}_i", TensorProto.INT64, []),
             helper.make_tensor_value_info(f"{name}_c", TensorProto.BOOL, []),
             helper.make_tensor_value_info(f"{name}_h", TensorProto.FLOAT, [1, 4])],
            [helper.make_tensor_value_info(f"{name}_co", TensorProto.BOOL, []),
             helper.make_tensor_value_info(f"{name}_r", TensorProto.FLOAT, [1, 4])])

    return model([mk("Loop", ["trips", "", "x"], ["y"], body=body(depth, "b"))], {"x": [1, 4]},
                 ["y"], [numpy_helper.from_array(np.array(2, np.int64), "trips")], opset=17)


def named_chain(names: list[str]) -> onnx.ModelProto:
    nodes = [mk("Relu", ["x" if k == 0 else f"t{k}"], [f"t{k + 1}"], name=f"/{n}/Relu")
             for k, n in enumerate(names)]
    return model(nodes, {"x": [1, 4]}, [f"t{len(names)}"])


def huge_rank_model() -> onnx.ModelProto:
    """An input of rank 250, every dim 2^62: 15,500 bits of elements (4,667 digits)."""
    return model([mk("Relu", ["x"], ["y"], name="/act/Relu")], {"x": [2**62] * 250}, ["y"])
