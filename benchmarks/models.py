"""Synthetic residual chains for the benchmarks: blocks of Conv-BN-ReLU-Conv-BN-Add-ReLU."""

from __future__ import annotations

import argparse
from pathlib import Path

C, SIDE = 64, 56


def chain(blocks: int, path: Path, weights: str = "external", data_size: int = 0) -> Path:
    """Write a chain of ``blocks`` residual blocks (7 nodes each) to ``path``.

    weights: "external" -> every float initializer references ``<stem>.data``; the file is
    created sparse with ``data_size`` bytes (0: not created at all, a weight-free skeleton);
    "inline" -> real (random) weights stored inside the .onnx file.
    """
    import numpy as np  # here, not at the top: bench.py imports params_of and stays small
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []
    x = "input"
    rng = np.random.default_rng(0)
    offset = 0
    location = path.stem + ".data"

    def tensor(name: str, *shape: int) -> str:
        nonlocal offset
        if weights == "inline":
            inits.append(numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name))
        else:
            t = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=shape)
            t.data_location = TensorProto.EXTERNAL
            n = 4 * int(np.prod(shape))
            for k, v in (("location", location), ("offset", str(offset)), ("length", str(n))):
                t.external_data.add(key=k, value=v)
            offset += n
            inits.append(t)
        return name

    for b in range(blocks):
        p = f"layer.{b}"
        skip = x
        for j in (1, 2):
            w = tensor(f"{p}.conv{j}.weight", C, C, 3, 3)
            bn = [tensor(f"{p}.bn{j}.{k}", C) for k in ("weight", "bias", "running_mean", "running_var")]
            nodes.append(helper.make_node("Conv", [x, w], [f"{p}.c{j}"], kernel_shape=[3, 3],
                                          pads=[1, 1, 1, 1], name=f"/layer/{p}/conv{j}/Conv"))
            nodes.append(helper.make_node("BatchNormalization", [f"{p}.c{j}", *bn], [f"{p}.b{j}"],
                                          name=f"/layer/{p}/bn{j}/BatchNormalization"))
            x = f"{p}.b{j}"
            if j == 1:
                nodes.append(helper.make_node("Relu", [x], [f"{p}.r1"], name=f"/layer/{p}/relu/Relu"))
                x = f"{p}.r1"
        nodes.append(helper.make_node("Add", [x, skip], [f"{p}.add"], name=f"/layer/{p}/Add"))
        nodes.append(helper.make_node("Relu", [f"{p}.add"], [f"{p}.out"], name=f"/layer/{p}/relu_1/Relu"))
        x = f"{p}.out"
    g = helper.make_graph(nodes, "chain",
                          [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, C, SIDE, SIDE])],
                          [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, C, SIDE, SIDE])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, path)
    data = path.parent / location
    if weights == "external" and data_size:
        with open(data, "wb") as f:  # sparse: no blocks written
            f.truncate(data_size)
    return path


def params_of(blocks: int) -> int:
    """Hand count: per block two 3x3 convs (no bias) and two BatchNorms (4 vectors each)."""
    return blocks * 2 * (C * C * 3 * 3 + 4 * C)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="write a synthetic residual chain")
    ap.add_argument("blocks", type=int, help="residual blocks (7 nodes each)")
    ap.add_argument("path", type=Path, help="the .onnx file to write")
    ap.add_argument("--weights", choices=("external", "inline"), default="external")
    ap.add_argument("--data-size", type=int, default=0, metavar="BYTES",
                    help="size of the sparse external data file (default: none written)")
    args = ap.parse_args()
    print(chain(args.blocks, args.path, args.weights, args.data_size))
