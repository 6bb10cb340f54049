"""The arithmetic of a sliding window (Conv, the pools), per spatial axis, as the seed article
teaches it: ``out = floor((in + pad_begin + pad_end - dilation*(k-1) - 1) / stride) + 1``.

One function for every reader: the shape rules of the contrib convolutions and pools, the
loader's check that a window fits its input, the ceil-mode rule onnx's inference misses, the
receptive fields and the floor-drop lint rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..shapes import Dim

if TYPE_CHECKING:
    import onnx


@dataclass(frozen=True)
class Axis:
    """One spatial axis of a window op: input side, pads, effective kernel, stride, output."""

    size: int  # input side
    pad_begin: int
    pad_end: int
    kernel: int  # effective: dilation*(k-1)+1
    stride: int
    out: int  # output side, as onnxruntime computes it (0: the window does not fit)
    dilation: int = 1
    raw_kernel: int = 0  # k, before dilation

    @property
    def padded(self) -> int:
        return self.size + self.pad_begin + self.pad_end

    @property
    def fits(self) -> bool:
        """Whether the window fits in its padded input at least once."""
        return self.kernel <= self.padded

    @property
    def uncovered(self) -> int:
        """Trailing padded positions past the last window that a further window would have
        read. With a stride longer than the window, the positions between windows are skipped
        by design; only those a next window would have reached are lost to the floor."""
        tail = self.padded - ((self.out - 1) * self.stride + self.kernel)
        gap = max(0, self.stride - self.kernel)
        return max(0, tail - gap)

    @property
    def dropped(self) -> int:
        """Input rows (not padding) never read: the uncovered tail minus the end padding."""
        return max(0, self.uncovered - self.pad_end)


Attr = Callable[[str, Any], Any]  # (name, default) -> the attribute's value


def node_attr(node: onnx.NodeProto) -> Attr:
    """An attribute reader over a NodeProto, for :func:`window_axes`."""
    # onnx is imported here, where a node is read, and not with the op table: the renderers
    # read the table, and a cached analysis is shown without importing onnx.
    from onnx.helper import get_attribute_value

    values = {a.name: get_attribute_value(a) for a in node.attribute}
    return lambda name, default=None: values.get(name, default)


def kernel_of(attr: Attr, weight: Sequence[Dim] | None, n: int) -> list[int] | None:
    """The window's kernel: its ``kernel_shape``, else the spatial dims of its weight."""
    kernel = attr("kernel_shape", None)
    if kernel:
        return [int(k) for k in kernel]
    if weight is not None and len(weight) == n + 2 and all(isinstance(d, int)
                                                              for d in weight[2:]):
        return list(weight[2:])  # type: ignore[arg-type]
    return None


def window_axes(attr: Attr, spatial: Sequence[Dim], kernel: Sequence[int] | None,
                pooling: bool = False) -> list[Axis | None] | None:
    """The axes of a window over ``spatial`` (None for a side that is not a number), as onnx
    defines auto_pad, pads, strides, dilations and ceil_mode; None when the attributes do not
    fit the input (the counter reports such a node). ``pooling``: a pool, where ceil_mode
    drops a last window that would start in the end padding (onnx's inference misses it)."""
    n = len(spatial)
    if kernel is None or len(kernel) != n:
        return None
    try:
        strides = [int(s) for s in attr("strides", None) or [1] * n]
        dilations = [int(d) for d in attr("dilations", None) or [1] * n]
        pads = [int(p) for p in attr("pads", None) or [0] * (2 * n)]
    except (TypeError, ValueError):
        return None
    if (len(strides), len(dilations), len(pads)) != (n, n, 2 * n) or min(strides, default=1) < 1:
        return None
    auto_pad = attr("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else str(auto_pad)
    ceil_mode = pooling and bool(attr("ceil_mode", 0))
    axes: list[Axis | None] = []
    for i, size in enumerate(spatial):
        if not isinstance(size, int):
            axes.append(None)
            continue
        k = dilations[i] * (kernel[i] - 1) + 1  # the effective kernel
        s = strides[i]
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            out = -(-size // s)  # ceil(in / stride): SAME pads so that nothing is lost
            total = max(0, (out - 1) * s + k - size)
            small, large = total // 2, total - total // 2
            begin, end = (small, large) if auto_pad == "SAME_UPPER" else (large, small)
        else:
            begin, end = (pads[i], pads[i + n]) if auto_pad == "NOTSET" else (0, 0)
            span = size + begin + end - k
            if span < 0:
                out = 0
            elif ceil_mode:
                out = -(-span // s) + 1
                if (out - 1) * s >= size + begin:  # the last window may not start in end padding
                    out -= 1
            else:
                out = span // s + 1  # the floor the article's formula has
        axes.append(Axis(size, begin, end, k, s, out, dilations[i], kernel[i]))
    return axes


def sides(axes: Sequence[Axis | None]) -> list[Dim]:
    """The output sides of a window's axes (None where the input side is not a number)."""
    return [None if a is None else a.out for a in axes]


def text(kernel: Sequence[int], strides: Sequence[int]) -> str:
    """``5x5, stride 2``: the window as the seed article writes it."""
    s = set(strides)
    stride = str(s.pop()) if len(s) == 1 else "x".join(map(str, strides))
    return f"{'x'.join(map(str, kernel))}, stride {stride}"
