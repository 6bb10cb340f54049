"""Activation memory: the bytes of the tensors a layer hands on, and the peak live set."""

from __future__ import annotations

from collections.abc import Sequence

import onnx

from .graph import Graph
from .shapes import Shape, numel

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


def tensor_bytes(shape: Shape | None, dtype: int | None) -> int | None:
    """Bytes of one tensor; None when its shape or element type is unknown."""
    n = numel(shape)
    if n is None or dtype not in _BITS:
        return None
    return -(-n * _BITS[dtype] // 8)  # ceil


class MemoryWalk:
    """Activation memory, one node at a time: ``visit(i, li)`` for every node that is not folded
    at export (``li``: its layer), in topological order, as counting's walk passes it; then
    ``result()``: per layer, the bytes of the tensors it hands on (that another layer or the
    caller reads); the most activation bytes live at once when the nodes run in topological
    order; and how many tensors' sizes are unknown (a layer handing one on, and the peak, are
    then None).

    A tensor lives from the node that makes it (or the start, for an input) to its last reader,
    or to the end for a graph output; a node folded at export time (a Shape reading the dims)
    is not a use. Each tensor is an interval of steps, and the live bytes are the running sum
    of their starts and ends (step 0 is the start, node i is step i + 1).
    """

    __slots__ = ("g", "layer_of", "shapes", "dtypes", "keep", "handed_on", "delta", "unknown",
                 "_sizes")

    def __init__(self, g: Graph, layer_of: dict[int, int], n_layers: int,
                 shapes: dict[str, Shape], dtypes: dict[str, int]) -> None:
        self.g, self.layer_of, self.shapes, self.dtypes = g, layer_of, shapes, dtypes
        n = len(g.nodes)
        self.keep = set(g.outputs)
        self.handed_on: list[int | None] = [0] * n_layers
        self.delta = [0] * (n + 3)
        self.unknown = 0
        # Most activations share a shape and type: their size is computed once.
        self._sizes: dict[tuple[Shape | None, int | None], int | None] = {}
        for t in dict.fromkeys(g.inputs):
            end = self._last_use(g.consumers.get(t, ()))
            size = tensor_bytes(shapes.get(t), dtypes.get(t))
            if size is None:
                self.unknown += 1
                continue
            self.delta[0] += size
            # An input nothing (but a folded node) reads is never freed.
            self.delta[n + 1 if t in self.keep or end < 0 else end + 2] -= size

    def _last_use(self, readers: Sequence[int]) -> int:
        """The last reader not folded at export, else -1."""
        for r in reversed(readers):
            if r not in self.g.constant_nodes:
                return r
        return -1

    def visit(self, i: int, li: int) -> None:
        g, keep, delta = self.g, self.keep, self.delta
        for t in g.rows.outputs[i]:
            if not t or t in g.constants:
                continue
            key = (self.shapes.get(t), self.dtypes.get(t))
            if key in self._sizes:
                size = self._sizes[key]
            else:
                size = self._sizes[key] = tensor_bytes(*key)
            readers = g.consumers.get(t, ())
            layer = self.layer_of.get
            handed = t in keep or any(layer(c, li) != li for c in readers)
            if size is None:
                self.unknown += 1
                if handed:
                    self.handed_on[li] = None
                continue
            delta[i + 1] += size
            if handed and self.handed_on[li] is not None:
                self.handed_on[li] += size  # type: ignore[operator]
            if t in keep:
                delta[-2] -= size
                continue
            last = readers[-1] if readers else -1
            if last in g.constant_nodes:
                last = self._last_use(readers)
            delta[max(i, last) + 2] -= size

    def result(self) -> tuple[list[int | None], int | None, int]:
        peak = current = 0
        for d in self.delta:
            current += d
            if current > peak:
                peak = current
        return self.handed_on, (peak if not self.unknown else None), self.unknown
