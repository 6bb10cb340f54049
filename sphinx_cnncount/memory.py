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
    out = [0] * len(groups)
    for li, group in enumerate(groups):
        for i in group.nodes:
            for t in g.nodes[i].output:
                if not t or t in g.constants:
                    continue
                readers = {layer_of.get(c) for c in g.consumers.get(t, ())}
                if t in outputs or readers - {li, None}:
                    out[li] += tensor_bytes(shapes.get(t), dtypes.get(t))
    return out


def peak_activation_bytes(g: Graph, shapes: dict[str, Shape], dtypes: dict[str, int]) -> int:
    """The most activation bytes live at once when the nodes run in topological order: a tensor
    lives from the node that makes it (or the start, for an input) to its last reader."""
    last_use: dict[str, int] = {}
    for t, readers in g.consumers.items():
        if t not in g.constants:  # a Shape node reads the dims, not the data: not a use
            last_use[t] = max((r for r in readers if r not in g.constant_nodes), default=-1)
    keep = set(g.outputs)
    live = {t: tensor_bytes(shapes.get(t), dtypes.get(t)) for t in g.inputs}
    current = peak = sum(live.values())
    for i, node in enumerate(g.nodes):
        if g.is_constant_node(i):
            continue
        for t in node.output:
            if t and t not in g.constants and t not in live:
                live[t] = tensor_bytes(shapes.get(t), dtypes.get(t))
                current += live[t]
        peak = max(peak, current)
        for t in [t for t in (*dict.fromkeys(node.input), *node.output) if t in live]:
            if last_use.get(t, -1) <= i and t not in keep:
                current -= live.pop(t)
    return peak
