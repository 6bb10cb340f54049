"""Activation memory: the bytes of the tensors a layer hands on, and the peak live set."""

from __future__ import annotations


import onnx

from .graph import Graph, LayerGroup
from .load import Shape, numel

# Bits per element of each ONNX element type (sub-byte types pack two to a byte).
_BITS = {
    onnx.TensorProto.FLOAT: 32, onnx.TensorProto.DOUBLE: 64, onnx.TensorProto.FLOAT16: 16,
    onnx.TensorProto.BFLOAT16: 16, onnx.TensorProto.INT8: 8, onnx.TensorProto.UINT8: 8,
    onnx.TensorProto.INT16: 16, onnx.TensorProto.UINT16: 16, onnx.TensorProto.INT32: 32,
    onnx.TensorProto.UINT32: 32, onnx.TensorProto.INT64: 64, onnx.TensorProto.UINT64: 64,
    onnx.TensorProto.BOOL: 8, onnx.TensorProto.COMPLEX64: 64, onnx.TensorProto.COMPLEX128: 128,
    **{getattr(onnx.TensorProto, n): 8 for n in (
        "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "FLOAT8E8M0")
       if hasattr(onnx.TensorProto, n)},
    **{getattr(onnx.TensorProto, n): 4 for n in ("INT4", "UINT4", "FLOAT4E2M1")
       if hasattr(onnx.TensorProto, n)},
}


def tensor_bytes(shape: Shape | None, dtype: int | None) -> int:
    """Bytes of one tensor; 0 when its shape or element type is unknown."""
    n = numel(shape)
    if n is None or dtype not in _BITS:
        return 0
    return -(-n * _BITS[dtype] // 8)  # ceil


def activation_bytes(g: Graph, groups: tuple[LayerGroup, ...], layer_of: dict[int, int],
                     shapes: dict[str, Shape], dtypes: dict[str, int]) -> list[int]:
    """Per layer: the bytes of the tensors it produces that another layer or the caller reads."""
    outputs = set(g.outputs)
    constants, consumers, layer = g.constants, g.consumers, layer_of.get
    out = [0] * len(groups)
    for li, group in enumerate(groups):
        for i in group.nodes:
            for t in g.outputs_of[i]:
                if not t or t in constants:
                    continue
                # Read by another layer (a constant node belongs to none: None), or an output.
                if t in outputs or any(layer(c, li) != li for c in consumers.get(t, ())):
                    out[li] += tensor_bytes(shapes.get(t), dtypes.get(t))
    return out


def peak_activation_bytes(g: Graph, shapes: dict[str, Shape], dtypes: dict[str, int]) -> int:
    """The most activation bytes live at once when the nodes run in topological order: a tensor
    lives from the node that makes it (or the start, for an input) to its last reader, or to
    the end for a graph output. A Shape node reads the dims, not the data: not a use.

    Each tensor is an interval of steps; the live bytes are the running sum of their starts and
    ends (step 0 is the start, node i is step i + 1).
    """
    n = len(g.nodes)
    constant_nodes, consumers = g.constant_nodes, g.consumers
    keep = set(g.outputs)
    delta = [0] * (n + 3)

    def last_use(t: str) -> int:  # the last node (not folded at export) that reads t, else -1
        for r in reversed(consumers.get(t, ())):
            if r not in constant_nodes:
                return r
        return -1

    for t in dict.fromkeys(g.inputs):
        end = last_use(t)
        size = tensor_bytes(shapes.get(t), dtypes.get(t))
        delta[0] += size
        # An input nothing (but a folded node) reads is never freed.
        delta[n + 1 if t in keep or end < 0 else end + 2] -= size
    constants = g.constants
    for i, outs in enumerate(g.outputs_of):
        if i in constant_nodes:
            continue
        for t in outs:
            if not t or t in constants:
                continue
            size = tensor_bytes(shapes.get(t), dtypes.get(t))
            delta[i + 1] += size
            delta[n + 1 if t in keep else max(i, last_use(t)) + 2] -= size
    peak = current = 0
    for d in delta:
        current += d
        if current > peak:
            peak = current
    return peak
