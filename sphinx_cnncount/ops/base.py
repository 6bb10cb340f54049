"""The types every handler shares."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from math import prod
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import onnx

from ..shapes import Shape, is_known


ShapeRule = Callable[["NodeView"], tuple[Shape | None, ...]]


class UnknownShape(Exception):
    """A handler needs a shape that inference left unknown or symbolic."""


class Uncountable(Exception):
    """An op whose cost the node does not determine (a Gradient: the backward pass of other
    nodes); the message says why."""


@dataclass(frozen=True)
class Cost:
    """What one node costs. ``connections`` is the LeNet paper's metric, ``macs`` counts
    multiply-accumulates of linear ops (bias excluded), ``flops`` every arithmetic op."""

    macs: int = 0
    flops: int = 0
    connections: int = 0

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.macs + other.macs, self.flops + other.flops,
                    self.connections + other.connections)


@dataclass(frozen=True)
class NodeView:
    """A node with the shapes around it, as a handler sees it."""

    node: onnx.NodeProto
    inputs: tuple[Shape | None, ...]  # one per input slot; None for an absent optional input
    outputs: tuple[Shape | None, ...]
    params: tuple[bool, ...] = ()  # per input slot: does it read a parameter tensor
    values: tuple[Any, ...] = ()  # per input slot: its value (a numpy array) where known

    def attr(self, name: str, default: Any = None) -> Any:
        # onnx is imported here, where a node is read, and not with the table: the renderers
        # read ZERO_COST from it, and a cached analysis is shown without importing onnx.
        from onnx.helper import get_attribute_value

        for a in self.node.attribute:
            if a.name == name:
                return get_attribute_value(a)
        return default

    def has(self, slot: int) -> bool:
        return slot < len(self.inputs) and self.inputs[slot] is not None

    def shape(self, slot: int) -> tuple[int, ...]:
        """The fully known shape of input ``slot``."""
        if slot >= len(self.inputs):
            raise UnknownShape(f"input {slot} is absent")
        return known(self.inputs[slot], f"input {slot}")

    def out_shape(self, slot: int = 0) -> tuple[int, ...]:
        if slot >= len(self.outputs):
            raise UnknownShape(f"output {slot} is absent")
        return known(self.outputs[slot], f"output {slot}")

    def numel(self, slot: int = 0) -> int:
        return prod(self.shape(slot))

    def out_numel(self, slot: int = 0) -> int:
        return prod(self.out_shape(slot))

    def value(self, slot: int) -> Any:
        """The value of input ``slot`` (a numpy array), or None where it is not known."""
        return self.values[slot] if slot < len(self.values) else None

    def reads_param(self, slot: int | None = None) -> bool:
        """Whether input ``slot`` (any input, by default) is a parameter tensor."""
        if slot is None:
            return any(self.params)
        return slot < len(self.params) and self.params[slot]


def known(shape: Shape | None, what: str) -> tuple[int, ...]:
    if shape is None:
        raise UnknownShape(f"{what} has no inferred shape")
    if not is_known(shape):
        raise UnknownShape(f"{what} has shape {list(shape)} with unknown dims")
    return shape  # type: ignore[return-value]


def zero_cost(v: NodeView) -> Cost:
    """Moves, copies or reshapes data: no arithmetic, no connections."""
    return Cost()


class Role(Enum):
    """What an op is to the layer it sits in: what makes a layer (a product, a pool), what
    follows one (a norm, an activation, a bias or a scale), what only moves data."""

    LINEAR = "linear"  # a product with learnt weights: Conv, Gemm, MatMul, the RNNs
    POOL = "pool"  # a window or a global reduction over a map
    NORM = "norm"
    ACTIVATION = "activation"
    ARITHMETIC = "arithmetic"  # Add, Sub, Mul, Div: a bias, a scale, or a join of two paths
    LAYOUT = "layout"  # the same data, re-typed or re-arranged: Transpose, Cast, (de)quantize
    RESHAPE = "reshape"  # Reshape, Flatten: a layout change, or a flatten before a dense layer
    CONTROL = "control"  # If, Loop, Scan: their bodies are counted
    OTHER = "other"  # selects, joins, makes or reduces data otherwise


class Axes(Enum):
    """How an op's tensors hold their channels (``channels.py``)."""

    CHANNELS_FIRST = "channels-first"  # the data input and first output are N, C, spatial...
    CHANNELS_LAST = "channels-last"  # N, spatial..., C
    KEEP = "keep"  # every tensor of the same rank shares one layout (elementwise, Concat, Pad)
    NONE = "none"  # says nothing of the channels


class Field(Enum):
    """How an op's output units see its input's positions (``receptive.py``)."""

    SAME = "same"  # the same axes, broadcast joins included: the largest field over inputs
    WINDOW = "window"  # a sliding window: size += dilation*(k-1)*stride, stride *= s
    GLOBAL = "global"  # the whole map
    REDUCE = "reduce"  # a reduction keeping its axes: the whole of each axis it reduces
    PERMUTE = "permute"  # Transpose: the axes re-ordered
    MOVE = "move"  # adds, drops or moves axes of one element (Reshape, Squeeze, Unsqueeze)
    SELECT = "select"  # keeps the axes it leaves whole (a channel Gather), loses the others
    STATS = "stats"  # statistics over some axes (a LayerNormalization): those axes are lost
    NONE = "none"  # mixes positions (Flatten, MatMul) or makes fractional ones: no field


@dataclass(frozen=True)
class DataSize:
    """A size only the data decides (the boxes NonMaxSuppression keeps, the elements NonZero
    finds): the output axes that have it, as (output slot, axis), and the most it can be where
    the node's inputs say (None: no bound)."""

    axes: tuple[tuple[int, int], ...]
    cap: int | None
    what: str  # what the size counts, in a few words: "boxes kept", "non-zero elements"


SizeRule = Callable[["NodeView"], DataSize | None]


@dataclass(frozen=True)
class Window:
    """A sliding window's operands: the input slot of its weight, whose spatial dims are the
    kernel when there is no ``kernel_shape`` (None for a pool); and whether its data is
    channels-last (None: as the node's ``channels_last`` attribute says)."""

    weight: int | None = None
    channels_last: bool | None = False
    pooling: bool = False  # a pool: ceil_mode applies
    transposed: bool = False  # ConvTranspose: the window is scattered, not read


@dataclass(frozen=True)
class Op:
    """Everything the counter knows about one op: one entry of the registry (``ops/``).

    ``cost`` is the handler (the contract above). ``params`` maps the input slots that hold
    learnable tensors, when they are constants, to whether they are trainable (BatchNorm's
    running mean and variance are not); ``fixed`` lists float input slots that are never
    parameters (scales, clip bounds, pads). Any other float constant input with more than one
    element counts as a trainable parameter: that is how a bias Add or a scale Mul of a
    decomposed layer is counted. ``metrics`` are the figures the op can have besides zero: when
    its cost cannot be computed (a shape is unknown) those are unknown and the others are still
    exactly zero (an unknown Sigmoid has unknown FLOPs and no MACs). ``attr_params``: attributes
    that hold learned numbers (ai.onnx.ml).

    ``shape`` is the op's shape rule where onnx's inference has none (onnxruntime's contrib
    ops, function ops below some opset). ``role`` is what the op is to its layer; ``axes`` and
    ``receptive`` how it treats channels and positions; ``window`` its sliding window; ``weight``
    the input slot of the learnt weight that names its layer (``layer1.0.conv1.weight``);
    ``bias`` the slot of a bias a following normalization may cancel; ``factors`` the operands
    of its product (a backward pass computes a gradient for each; empty: every input);
    ``removes_mean``: a normalization that subtracts a per-channel mean; ``stats``: the axes a
    STATS op computes statistics over, from its rank and int attributes; ``folds``: shape
    arithmetic, evaluated when its inputs have values (``fold.py``); ``deterministic``: its
    output is fixed by its inputs (random ops and Dropout's mask are not); ``size``: an
    output size only the data decides, and its cap (:class:`DataSize`; None returned when the
    inputs fix it, as a constant k does TopK's); ``keras``: the name Keras gives a layer that
    this op makes (``conv{n}d``, ``{n}`` its spatial rank), for a file that names no layers.
    """

    cost: Callable[[NodeView], Cost] | None
    params: Mapping[int, bool] = field(default_factory=lambda: MappingProxyType({}))
    fixed: frozenset[int] = frozenset()
    metrics: frozenset[str] = frozenset({"flops"})
    attr_params: tuple[str, ...] = ()
    shape: ShapeRule | None = None
    role: Role = Role.OTHER
    axes: Axes = Axes.NONE
    receptive: Field = Field.NONE
    window: Window | None = None
    weight: int | None = None
    bias: int | None = None
    factors: tuple[int, ...] = (0, 1)
    removes_mean: bool = False
    stats: Callable[[int, Mapping[str, int]], set[int]] | None = None
    folds: bool = False
    deterministic: bool = True
    keras: str | None = None
    size: SizeRule | None = None
    reads_values: bool = False  # its cost reads the values of small integer inputs (DFT's axis)


LINEAR = frozenset({"macs", "flops", "connections"})  # products: Conv, Gemm, MatMul, RNNs
CONNECTING = frozenset({"flops", "connections"})  # windows, reductions, biases, normalizations
ARITHMETIC = frozenset({"flops"})  # elementwise ops and activations


def entry(cost: Callable[[NodeView], Cost] | None, params: Mapping[int, bool] | None = None,
          fixed: tuple[int, ...] = (), metrics: frozenset[str] = ARITHMETIC, **known: Any) -> Op:
    """An entry, with the slots written as plain dicts and tuples (``known``: the other
    fields of :class:`Op`)."""
    return Op(cost, MappingProxyType(dict(params or {})), frozenset(fixed), metrics, **known)


TRAINABLE = True
NON_TRAINABLE = False
