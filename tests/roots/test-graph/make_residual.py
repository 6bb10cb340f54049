"""Write residual.onnx: a small residual network, named the way torch's TorchScript exporter
names a module tree, for the ``graph`` diagram tests.

    python tests/roots/test-graph/make_residual.py

stem (conv 3x3, 3->8, pad 1) -> block: conv1 (3x3, 8->8, pad 1), relu, conv2 (3x3, 8->8, pad 1),
add the block's input (the skip), relu -> head: global average pool, flatten, fc (8->10).
Input 1x3x16x16. At depth 1 the layers are a chain (stem, block, head); at depth 2 the skip
makes the layer graph a DAG.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent


def residual() -> onnx.ModelProto:
    inits = []

    def weight(name: str, *shape: int) -> str:
        inits.append(numpy_helper.from_array(np.zeros(shape, np.float32), name))
        return name

    def node(op: str, name: str, inputs: list[str], **attrs) -> str:
        out = name.strip("/").replace("/", "_") + "_output_0"
        nodes.append(helper.make_node(op, inputs, [out], name=name, **attrs))
        return out

    nodes: list[onnx.NodeProto] = []
    conv3 = {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}
    x = node("Conv", "/stem/Conv", ["x", weight("stem.weight", 8, 3, 3, 3),
                                     weight("stem.bias", 8)], **conv3)
    skip = node("Relu", "/stem/Relu", [x])
    y = node("Conv", "/block/conv1/Conv", [skip, weight("block.conv1.weight", 8, 8, 3, 3),
                                            weight("block.conv1.bias", 8)], **conv3)
    y = node("Relu", "/block/relu/Relu", [y])
    y = node("Conv", "/block/conv2/Conv", [y, weight("block.conv2.weight", 8, 8, 3, 3),
                                           weight("block.conv2.bias", 8)], **conv3)
    y = node("Add", "/block/Add", [y, skip])
    y = node("Relu", "/block/relu_1/Relu", [y])
    y = node("GlobalAveragePool", "/head/pool/GlobalAveragePool", [y])
    y = node("Flatten", "/head/Flatten", [y], axis=1)
    nodes.append(helper.make_node("Gemm", [y, weight("head.fc.weight", 10, 8),
                                           weight("head.fc.bias", 10)], ["logits"],
                                  name="/head/fc/Gemm", transB=1))
    graph = helper.make_graph(
        nodes, "residual",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="sphinx_cnncount tests")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


if __name__ == "__main__":
    onnx.save(residual(), HERE / "residual.onnx")
