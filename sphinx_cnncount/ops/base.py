"""The types every handler shares."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from math import prod
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import onnx

from ..shapes import Shape, is_known


class UnknownShape(Exception):
    """A handler needs a shape that inference left unknown or symbolic."""


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


@dataclass(frozen=True)
class OpSpec:
    """One row of the handler table.

    ``params`` maps the input slots that hold learnable tensors, when they are constants, to
    whether they are trainable (BatchNormalization's running mean and variance are not).
    ``fixed`` lists float input slots that are never parameters (scales, clip bounds, pads).
    Any other float constant input with more than one element counts as a trainable
    parameter: that is how a bias Add or a scale Mul of a decomposed layer is counted.
    ``metrics`` are the figures the op can have besides zero: when its cost cannot be computed
    (a shape is unknown) those are unknown and the others are still exactly zero (an unknown
    Sigmoid has unknown FLOPs and no MACs).
    """

    cost: Callable[[NodeView], Cost]
    params: Mapping[int, bool] = field(default_factory=lambda: MappingProxyType({}))
    fixed: frozenset[int] = frozenset()
    metrics: frozenset[str] = frozenset({"flops"})
    attr_params: tuple[str, ...] = ()  # attributes that hold learned numbers (ai.onnx.ml)


LINEAR = frozenset({"macs", "flops", "connections"})  # products: Conv, Gemm, MatMul, RNNs
CONNECTING = frozenset({"flops", "connections"})  # windows, reductions, biases, normalizations
ARITHMETIC = frozenset({"flops"})  # elementwise ops and activations


def spec(cost: Callable[[NodeView], Cost], params: Mapping[int, bool] | None = None,
         fixed: tuple[int, ...] = (), metrics: frozenset[str] = ARITHMETIC,
         attr_params: tuple[str, ...] = ()) -> OpSpec:
    return OpSpec(cost, MappingProxyType(dict(params or {})), frozenset(fixed), metrics,
                  attr_params)


TRAINABLE = True
NON_TRAINABLE = False
