"""The vocabulary every room of the counter shares: shapes and dims, each node's fields read
once, and the error a model that cannot be analysed raises.

Imports nothing of the package: load -> infer -> graph -> count all build on it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from math import prod
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: a cached Summary is read without importing onnx
    import onnx

# One dim of a shape: an int when known, a str for a symbol inference could not resolve,
# None for a dim nobody named.
Dim = int | str | None
Shape = tuple[Dim, ...]


def is_known(shape: Shape | None) -> bool:
    """Whether a shape is there and every dim of it is a number."""
    if shape is None:
        return False
    try:
        sum(shape)  # type: ignore[arg-type]  # raises on a symbol or None, in C
    except TypeError:
        return False
    return True


def all_known(shapes: Iterable[Shape | None]) -> bool:
    """Whether every shape is there and fully known: :func:`is_known` over many shapes, in one
    pass in C (the check a large model makes for each of its tensors)."""
    try:
        sum(map(sum, shapes))  # type: ignore[arg-type]  # TypeError on None or a symbol
    except TypeError:
        return False
    return True


def numel(shape: Shape | None) -> int | None:
    """The element count of a fully known shape, else None (exact: Python ints)."""
    return prod(shape) if is_known(shape) else None  # type: ignore[arg-type]


@dataclass(frozen=True)
class Diagnostic:
    """Something the counter could not do fully; the rest of the model is still counted."""

    kind: str  # "unsupported-op", "unknown-shape", "invalid-node", "control-flow", ...
    message: str
    node: str = ""
    op_type: str = ""


@dataclass(frozen=True)
class SizeRecord:
    """A size only the data decides (the boxes a NonMaxSuppression keeps), named ``symbol`` for
    ``--dim`` to bind: the node that makes it, what it counts, the most it can be (``cap``,
    None when nothing bounds it), and the value it was counted at: the user's binding
    (``source`` "dim"), its cap ("cap": the figures that depend on it are upper bounds), or
    none (None: what depends on it is unknown)."""

    symbol: str
    node: str
    op_type: str
    what: str
    cap: int | None
    value: int | None
    source: str | None


class ModelError(Exception):
    """A model that cannot be analysed; the message says what is wrong and what to do."""

    def __init__(self, path: str | os.PathLike[str], message: str) -> None:
        super().__init__(f"{os.fspath(path)}: {message}")
        self.path = os.fspath(path)
        self.reason = message


@dataclass(frozen=True)
class NodeRows:
    """Each node's op type, domain, inputs, outputs, name and serialized attributes, read from
    protobuf once: the passes over a large model read these tuples instead (a protobuf field
    read costs several times a tuple lookup)."""

    op_types: tuple[str, ...]
    domains: tuple[str, ...]
    inputs: tuple[tuple[str, ...], ...]  # node.input, "" for an absent optional input
    outputs: tuple[tuple[str, ...], ...]
    names: tuple[str, ...]  # node.name, possibly ""
    attr_keys: tuple[tuple[bytes, ...], ...]  # equal keys, equal attributes (for memoizing)

    def reorder(self, order: list[int]) -> NodeRows:
        return NodeRows(*(tuple(column[i] for i in order) for column in (
            self.op_types, self.domains, self.inputs, self.outputs, self.names, self.attr_keys)))


def node_rows(graph: onnx.GraphProto) -> NodeRows:
    rows = [(n.op_type, n.domain, tuple(n.input), tuple(n.output), n.name,
             tuple([a.SerializeToString() for a in n.attribute]) if n.attribute else ())
            for n in graph.node]
    if not rows:
        return NodeRows((), (), (), (), (), ())
    return NodeRows(*map(tuple, zip(*rows)))


def may_have_bodies(rows: NodeRows) -> bool:
    """Whether some node may carry a body (the default domain's If, Loop, Scan, SequenceMap;
    any op of another domain may), read from the rows without touching protobuf."""
    return bool(set(rows.domains) - {"", "ai.onnx"}) or \
        bool({"If", "Loop", "Scan", "SequenceMap"} & set(rows.op_types))


def shape_of(tp: onnx.TypeProto) -> Shape | None:
    if not tp.HasField("tensor_type") or not tp.tensor_type.HasField("shape"):
        return None
    return dims_of(tp.tensor_type.shape.dim)


def dims_of(dims: Iterable[onnx.TensorShapeProto.Dimension]) -> Shape:
    """A TensorShapeProto's dims: ints, symbols (str) and unnamed dims (None)."""
    values = tuple([d.dim_value for d in dims])
    if 0 not in values:  # the common case, read in one pass: every dim is a number
        return values
    # An unset dim_value reads 0 too: tell a symbol or an unnamed dim from a real 0.
    return tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in dims)


