"""Build the two models of the seed article with onnx.helper alone.

    python examples/make_examples.py        # writes examples/lenet5.onnx, examples/keras_cnn.onnx

* ``lenet5.onnx``: LeNet-5 as the 1998 paper describes it, named the way torch's TorchScript
  exporter names a module tree (``/C3/maps.0/Conv``): C1 conv 5x5; S2 trainable subsampling
  (sum of a 2x2 window, one coefficient and one bias per map, then the squashing function);
  C3 with the paper's partial connection table (one small Conv per output map over the S2 maps
  it reads, joined by Concat); S4 like S2; C5 conv 5x5; F6 dense; OUTPUT Euclidean RBF units,
  y_i = sum_j (x_j - w_ij)^2. The squashing function is the paper's f(a) = A tanh(S a).
* ``keras_cnn.onnx``: the seed's Keras CNN (28x28x1, three conv/max-pool stages, dense 64 and
  dense 10), named and laid out as tf2onnx writes a Keras ``Sequential``: NHWC input with an
  unknown batch, a Transpose into NCHW, Dense as MatMul plus BiasAdd.

Weights are random (seeded): only their dims matter to the counter, and real values let
onnxruntime or onnx's reference evaluator run the models.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent
RNG = np.random.default_rng(1998)

# LeNet-5, Table I: the S2 maps each C3 map reads.
C3_TABLE = [
    [0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 0], [5, 0, 1],
    [0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 0], [4, 5, 0, 1], [5, 0, 1, 2],
    [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5],
    [0, 1, 2, 3, 4, 5],
]


class Builder:
    """Collects nodes and initializers; names nodes the way the torch exporters do."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []

    def weight(self, name: str, *shape: int) -> str:
        self.inits.append(numpy_helper.from_array(
            (RNG.standard_normal(shape) * 0.1).astype(np.float32), name))
        return name

    def const(self, name: str, values: list[int] | list[float], dtype=np.int64) -> str:
        self.inits.append(numpy_helper.from_array(np.array(values, dtype=dtype), name))
        return name

    def scalar(self, name: str, value: float) -> str:
        self.inits.append(numpy_helper.from_array(np.array(value, dtype=np.float32), name))
        return name

    def op(self, op_type: str, name: str, inputs: list[str], **attrs) -> str:
        out = name.strip("/").replace("/", "_").replace(".", "_") + "_output_0"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=name, **attrs))
        return out


def squash(b: Builder, scope: str, x: str) -> str:
    """f(a) = A tanh(S a), A = 1.7159, S = 2/3 (the paper's Appendix A)."""
    s = b.scalar(f"{scope}.S", 2.0 / 3.0)
    a = b.scalar(f"{scope}.A", 1.7159)
    x = b.op("Mul", f"/{scope}/Mul", [x, s])
    x = b.op("Tanh", f"/{scope}/Tanh", [x])
    return b.op("Mul", f"/{scope}/Mul_1", [x, a])


def subsampling(b: Builder, scope: str, x: str, maps: int) -> str:
    """Sum of each 2x2 window, times a trainable coefficient, plus a trainable bias, squashed."""
    x = b.op("AveragePool", f"/{scope}/AveragePool", [x], kernel_shape=[2, 2], strides=[2, 2])
    x = b.op("Mul", f"/{scope}/Mul_sum", [x, b.scalar(f"{scope}.window", 4.0)])  # mean -> sum
    x = b.op("Mul", f"/{scope}/Mul_coef", [x, b.weight(f"{scope}.coefficient", 1, maps, 1, 1)])
    x = b.op("Add", f"/{scope}/Add", [x, b.weight(f"{scope}.bias", 1, maps, 1, 1)])
    return squash(b, scope, x)


def conv(b: Builder, scope: str, x: str, c_in: int, c_out: int, k: int) -> str:
    w = b.weight(f"{scope}.weight", c_out, c_in, k, k)
    bias = b.weight(f"{scope}.bias", c_out)
    return b.op("Conv", f"/{scope}/Conv", [x, w, bias], kernel_shape=[k, k])


def lenet5() -> onnx.ModelProto:
    b = Builder()
    x = conv(b, "C1", "image", 1, 6, 5)  # 6@28x28
    x = squash(b, "C1", x)
    s2 = subsampling(b, "S2", x, 6)  # 6@14x14
    maps = []
    for k, table in enumerate(C3_TABLE):
        scope = f"C3/maps.{k}"
        picked = b.op("Gather", f"/{scope}/Gather", [s2, b.const(f"C3.maps.{k}.table", table)],
                      axis=1)
        maps.append(conv(b, scope, picked, len(table), 1, 5))  # 1@10x10
    x = b.op("Concat", "/C3/Concat", maps, axis=1)  # 16@10x10
    x = squash(b, "C3", x)
    x = subsampling(b, "S4", x, 16)  # 16@5x5
    x = conv(b, "C5", x, 16, 120, 5)  # 120@1x1
    x = squash(b, "C5", x)
    x = b.op("Flatten", "/F6/Flatten", [x], axis=1)  # 120
    x = b.op("Gemm", "/F6/Gemm", [x, b.weight("F6.weight", 84, 120), b.weight("F6.bias", 84)],
             transB=1)  # 84
    x = squash(b, "F6", x)
    # OUTPUT: Euclidean RBF units, y_i = sum_j (x_j - w_ij)^2.
    x = b.op("Unsqueeze", "/OUTPUT/Unsqueeze", [x, b.const("OUTPUT.axes", [1])])  # [N, 1, 84]
    d = b.op("Sub", "/OUTPUT/Sub", [x, b.weight("OUTPUT.centres", 10, 84)])  # [N, 10, 84]
    sq = b.op("Mul", "/OUTPUT/Mul", [d, d])
    y = b.op("ReduceSum", "/OUTPUT/ReduceSum", [sq, b.const("OUTPUT.reduce_axes", [-1])],
             keepdims=0)  # [N, 10]
    b.nodes[-1].output[0] = "rbf"
    graph = helper.make_graph(
        b.nodes, "lenet5",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, 32, 32])],
        [helper.make_tensor_value_info("rbf", TensorProto.FLOAT, [1, 10])],
        b.inits,
    )
    assert y
    return finish(graph, "LeNet-5 (LeCun et al. 1998), built with onnx.helper")


def keras_cnn() -> onnx.ModelProto:
    b = Builder()
    x = b.op("Transpose", "sequential/conv2d/Conv2D__6", ["input_1"], perm=[0, 3, 1, 2])
    c_in = 1
    for i, c_out in enumerate((32, 64, 128)):
        suffix = f"_{i}" if i else ""
        conv_name, pool_name = f"conv2d{suffix}", f"max_pooling2d{suffix}"
        x = b.op("Conv", f"sequential/{conv_name}/Conv2D",
                 [x, b.weight(f"sequential/{conv_name}/kernel", c_out, c_in, 3, 3),
                  b.weight(f"sequential/{conv_name}/bias", c_out)],
                 kernel_shape=[3, 3], strides=[1, 1], pads=[0, 0, 0, 0])
        x = b.op("Relu", f"sequential/{conv_name}/Relu", [x])
        x = b.op("MaxPool", f"sequential/{pool_name}/MaxPool", [x], kernel_shape=[2, 2],
                 strides=[2, 2])
        c_in = c_out
    x = b.op("Transpose", "sequential/flatten/Reshape__24", [x], perm=[0, 2, 3, 1])
    x = b.op("Reshape", "sequential/flatten/Reshape",
             [x, b.const("sequential/flatten/Const", [-1, 128])])
    units_in = 128
    for i, (units, act) in enumerate(((64, "Relu"), (10, "Softmax"))):
        name = "dense_1" if i else "dense"
        x = b.op("MatMul", f"sequential/{name}/MatMul",
                 [x, b.weight(f"sequential/{name}/kernel", units_in, units)])
        x = b.op("Add", f"sequential/{name}/BiasAdd", [x, b.weight(f"sequential/{name}/bias", units)])
        x = b.op(act, f"sequential/{name}/{act}", [x])
        units_in = units
    b.nodes[-1].output[0] = "dense_1"
    graph = helper.make_graph(
        b.nodes, "sequential",
        [helper.make_tensor_value_info("input_1", TensorProto.FLOAT, ["unk__32", 28, 28, 1])],
        [helper.make_tensor_value_info("dense_1", TensorProto.FLOAT, ["unk__33", 10])],
        b.inits,
    )
    return finish(graph, "The seed article's Keras CNN, laid out as tf2onnx writes it")


def finish(graph: onnx.GraphProto, doc: str) -> onnx.ModelProto:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="sphinx_cnncount examples")
    model.ir_version = 8
    model.doc_string = doc
    onnx.checker.check_model(model, full_check=True)
    return model


def main() -> None:
    for name, build in (("lenet5", lenet5), ("keras_cnn", keras_cnn)):
        path = HERE / f"{name}.onnx"
        onnx.save(build(), path)
        print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")


if __name__ == "__main__":
    main()
