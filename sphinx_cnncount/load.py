"""ONNX file -> model with bound dims and inferred shapes: reading and its checks
(``read.py``), binding the inputs (``bind.py``), inference (``infer.py``), then the checks of
the bound shapes.

Weight bytes are never read: every figure downstream comes from tensor dims alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import onnx

from .bind import (BindingError, SizeError, Unbound, WindowError, bind_inputs, bind_values, check_shapes,
                   declared_annotations)
from .infer import Inference, infer
from .control import subgraphs
from .limits import Budget
from .ops import lookup
from .read import _TABLE, normalize, read_model, real_inputs
from .shapes import ModelError, NodeRows, Shape, is_known, node_rows, shape_of
from .spelling import PYTHON, Arg, Spelling

__all__ = ["BindingError", "LoadedModel", "ModelError", "SizeError", "Unbound", "WindowError",
           "load"]


@dataclass(frozen=True)
class LoadedModel:
    """A parsed model whose graph inputs have concrete dims and whose tensors carry shapes."""

    path: str
    model: onnx.ModelProto
    shapes: dict[str, Shape]
    dtypes: dict[str, int]
    notes: tuple[str, ...] = field(default=())
    non_tensors: frozenset[str] = frozenset()  # sequence, map and optional values
    rows: NodeRows | None = None  # the nodes of ``model.graph``, read once
    inference: Inference | None = None  # folded values, bodies, decided branches, diagnostics


def _smallest_fit(path: str | os.PathLike[str], dims: dict[str, int] | None,
                  input_shapes: dict[str, tuple[int, ...]] | None, flags: Spelling,
                  strict: frozenset[str] | None) -> tuple[str, tuple[int, ...]] | None:
    """The input and its shape with the smallest square side for which every window fits,
    where the model has one input whose bound spatial dims are all equal; None otherwise. Searched by loading the model
    at other sides (the error path only)."""
    model, _ = normalize(path, read_model(path))
    inputs = real_inputs(model.graph)
    if len(inputs) != 1:
        return None
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    bind_inputs(path, probe, dict(dims or {}), dict(input_shapes or {}), flags, strict)
    shape = shape_of(real_inputs(probe.graph)[0].type)
    if shape is None or len(shape) < 3 or not is_known(shape):
        return None
    channels_last = len(shape) == 4 and shape[3] in (1, 3, 4) and shape[1] > 4  # type: ignore
    axes = range(1, len(shape) - 1) if channels_last else range(2, len(shape))
    side = shape[axes[0]]
    if any(shape[a] != side for a in axes):
        return None
    name = inputs[0].name

    def fits(s: int) -> bool:
        trial = list(shape)
        for a in axes:
            trial[a] = s
        try:
            load(path, dims, {**(input_shapes or {}), name: tuple(trial)}, flags, strict,
                 suggest=False)  # type: ignore[arg-type]
        except WindowError:
            return False
        except ModelError:
            return True  # fits the windows; some other problem is for that load to say
        return True

    lo, hi = side, max(2 * side, 2)  # type: ignore[operator]
    while not fits(hi):
        lo, hi = hi, 2 * hi
        if hi > 1 << 20:
            return None
    while hi - lo > 1:  # lo does not fit, hi does
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if fits(mid) else (mid, hi)
    best = list(shape)
    for a in axes:
        best[a] = hi
    return name, tuple(best)


def _own_shapes(path: str | os.PathLike[str], file_inputs: dict[str, Shape | None],
                flags: Spelling, strict: frozenset[str] | None
                ) -> dict[str, tuple[int, ...]] | None:
    """The input shapes the file declares, where they are fixed and the model takes them (the
    size it was exported at); None otherwise."""
    if not file_inputs or not all(is_known(s) for s in file_inputs.values()):
        return None
    own = {name: tuple(s) for name, s in file_inputs.items()}  # type: ignore[arg-type]
    try:
        load(path, None, own, flags, strict, suggest=False)
    except ModelError:
        return None
    return own
def _input_symbols(model: onnx.ModelProto) -> frozenset[str]:
    """The symbolic dims of the model's real inputs."""
    return frozenset(d.dim_param for vi in real_inputs(model.graph)
                     if vi.type.HasField("tensor_type")
                     for d in vi.type.tensor_type.shape.dim
                     if not d.HasField("dim_value") and d.dim_param)


def _may_size(graph: onnx.GraphProto) -> bool:
    """Whether some node of the graph or of a body in it may make a size only the data
    decides (an op whose entry has a size rule)."""
    for node in graph.node:
        entry = lookup(node.domain, node.op_type)
        if entry is not None and entry.size is not None:
            return True
        if any(_may_size(body) for _, body in subgraphs(node)):
            return True
    return False


def _size_notes(inference: Inference, flags: Spelling) -> list[str]:
    """One note per data-dependent size not bound: its cap, or that it has none, and how to
    bind it."""
    notes = []
    for s in inference.all_sizes().values():
        if s.source == "dim":
            continue
        where = f"{s.op_type} {s.node!r}: {s.what}" if s.node else f"{s.op_type}: {s.what}"
        at = f"counted at its cap, {s.cap:,} (an upper bound)" if s.source == "cap" else \
            "not bounded by the graph: what depends on it is unknown"
        notes.append(f"note: data-dependent size {s.symbol!r} ({where}) {at}; bind it with "
                     f"{flags.bind_dims([s.symbol])}")
    return notes


def _check_sizes_given(path: str | os.PathLike[str], sizes: set[str],
                       symbols: frozenset[str], inference: Inference, flags: Spelling) -> None:
    """A bound symbol that is neither an input's dim nor a data-dependent size of the model is
    an error that lists both (a typo would otherwise be ignored)."""
    found = inference.all_sizes()
    for sym in sorted(set(sizes) - set(found)):
        inputs = ", ".join(sorted(symbols)) or "none"
        data = ", ".join(sorted(found)) or "none"
        raise ModelError(path, f"{flags.given(Arg.DIM, sym)}: the model has no symbolic dim "
                               f"{sym!r} (its inputs' symbols: {inputs}; its data-dependent "
                               f"sizes: {data})")


def load(
    path: str | os.PathLike[str],
    dims: dict[str, int] | None = None,
    input_shapes: dict[str, tuple[int, ...]] | None = None,
    flags: Spelling = PYTHON,
    strict: frozenset[str] | None = None,
    suggest: bool = True,
    input_values: dict[str, tuple[int | float, ...]] | None = None,
) -> LoadedModel:
    """Read ``path``, bind its input dims and infer every tensor's shape (``infer.py``).
    ``flags``: the words the messages use for the binding arguments (default: this function's
    own, ``dims=``; the CLI passes its flags', the Sphinx directive its options');
    ``strict``: the symbols the user named, each of which the model must have (default: all
    of ``dims`` but ``batch``).
    A window larger than its input is an error that says, where it can, the smallest input that
    fits (``suggest``). ``input_values``: values of inputs that are settings (a sample rate), so
    that what depends on them (an If on it) is decided."""
    try:
        return _load(path, dims, input_shapes, flags, strict, suggest, input_values)
    finally:
        _TABLE[:] = [None, -1, {}]  # the cache keeps no model alive


def _load(path: str | os.PathLike[str], dims: dict[str, int] | None,
          input_shapes: dict[str, tuple[int, ...]] | None, flags: Spelling,
          strict: frozenset[str] | None, suggest: bool,
          input_values: dict[str, tuple[int | float, ...]] | None) -> LoadedModel:
    model, rows = normalize(path, read_model(path))
    file_inputs = {vi.name: shape_of(vi.type) for vi in real_inputs(model.graph)}
    dims = dict(dims or {})
    # A symbol no input has may name a size only the data decides (NonMaxSuppression's boxes):
    # inference binds those, and what it does not find is an error below.
    symbols = _input_symbols(model)
    named = strict if strict is not None else frozenset(
        s for s in dims if s != "batch" and s not in flags.sources)
    # (a default from a configuration file binds such a size too, where the model has it)
    sizes = {s: v for s, v in dims.items() if s not in symbols and s != "batch"}
    own = {s for s in sizes if s in named}  # the user's own: each must be found
    if own and not _may_size(model.graph):
        own = set()  # no op of the model makes such a size: binding checks every symbol named
    else:
        named = frozenset(named) & symbols
    notes, _ = bind_inputs(path, model, dims, dict(input_shapes or {}), flags,
                           frozenset(named))
    declared = declared_annotations(model.graph, file_inputs)
    given = bind_values(path, model, dict(input_values or {}), flags)
    # Inference keeps the nodes, unless it decides an If.
    inference = infer(path, model, rows, declared, given, Budget(path), sizes)
    _check_sizes_given(path, own, symbols, inference, flags)
    notes += _size_notes(inference, flags)
    if inference.structure_changed:
        rows = node_rows(inference.model.graph)
    try:
        check_shapes(path, inference.model.graph, rows, inference.shapes, flags,
                     bool(dims or input_shapes), inference.values)
    except WindowError as exc:
        fit = _smallest_fit(path, dims, input_shapes, flags, strict) if suggest else None
        if fit is None:
            raise
        raise WindowError(path, f"{exc.reason}; the smallest input that fits is "
                                f"{flags.bind_shapes(dict([fit]))}", exc.node) from None
    except SizeError as exc:
        own = _own_shapes(path, file_inputs, flags, strict) if suggest else None
        if own is None:
            raise SizeError(path, f"{exc.reason}; give the input a size the model takes "
                                  f"({flags.arg(Arg.SHAPE)})") from None
        raise SizeError(path, f"{exc.reason}; the input the file declares fits: "
                              f"{flags.bind_shapes(own)}") from None
    return LoadedModel(os.fspath(path), inference.model, inference.shapes, inference.dtypes,
                       tuple(notes), frozenset(inference.non_tensors), rows, inference)
