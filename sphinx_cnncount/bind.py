"""Binding a model's inputs: every symbolic dim given a size (or the batch its default of 1),
the inputs the user gave values, the exporter's annotations bound the same way; and, once
shapes are inferred, the shapes no real run could have (a window larger than its input,
channels that contradict a convolution's weight, a tensor too large to count) as errors, never
numbers.

Errors carry the facts (which input, axis, symbol: :class:`BindingError`); the caller's
:class:`~spelling.Spelling` gives them the words of its front end.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from math import prod

import numpy as np
import onnx

from .limits import DIGITS, too_many_digits
from .ops import Axes, Op, lookup, window
from .ops.window import Axis, kernel_of, node_attr, window_axes
from .read import real_inputs
from .shapes import (ModelError, NodeRows, Shape, all_known, is_known, numel, shape_of)
from .spelling import PYTHON, Arg, Spelling, unbound_message


def bind_values(path: str | os.PathLike[str], model: onnx.ModelProto,
                values: dict[str, tuple[int | float, ...]], flags: Spelling
                ) -> dict[str, np.ndarray]:
    """The given inputs' values as arrays of their element type and shape (a scalar input takes
    one value, an input of shape [n] takes n); the inputs stay inputs."""
    inputs = {vi.name: vi for vi in real_inputs(model.graph)}
    out: dict[str, np.ndarray] = {}
    for name, given in values.items():
        vi = inputs.get(name)
        if vi is None or not vi.type.HasField("tensor_type"):
            raise ModelError(path, f"{flags.arg(Arg.VALUE)} names {name!r}, but the model's "
                                   f"tensor inputs are {sorted(inputs)}")
        try:
            dtype = onnx.helper.tensor_dtype_to_np_dtype(vi.type.tensor_type.elem_type)
        except (KeyError, ValueError, TypeError):
            raise ModelError(path, f"{flags.given(Arg.VALUE, name)}: the input has no numeric "
                                   "element type") from None
        shape = shape_of(vi.type)
        if shape is None:
            shape = () if len(given) == 1 else (len(given),)
        if not is_known(shape) or numel(shape) != len(given):
            raise ModelError(path, f"{flags.given(Arg.VALUE, name)}: the input has shape "
                                   f"{list(shape)}, which does not hold {len(given)} value(s)")
        out[name] = np.array(given, dtype=dtype).reshape(shape)  # type: ignore[arg-type]
    return out


INT64_MAX = 2**63 - 1  # an ONNX dim is an int64


@dataclass(frozen=True)
class Unbound:
    """A dim of a model input that nothing bound."""

    input: str
    axis: int | None  # None: the input has no shape at all
    symbol: str = ""  # the file's name for the dim; "" when it has none
    value: int | None = None  # a dim the file gives that is no size (0, -1)


class BindingError(ModelError):
    """Inputs whose dims are not all bound: every such dim in ``unbound``, and in ``shapes``
    each of those inputs' dims as far as they are bound (None: a dim to choose; the whole
    entry None: no shape). The message names them all and the argument that binds them, in
    the words of the ``spelling`` given (the caller's: Python, the command line, a
    directive)."""

    def __init__(self, path: str | os.PathLike[str], unbound: Iterable[Unbound],
                 shapes: Mapping[str, tuple[int | None, ...] | None],
                 spelling: Spelling = PYTHON) -> None:
        self.unbound = tuple(unbound)
        self.shapes = dict(shapes)
        super().__init__(path, unbound_message(self.unbound, self.shapes, spelling))



def bind_inputs(
    path: str | os.PathLike[str],
    model: onnx.ModelProto,
    dims: dict[str, int],
    input_shapes: dict[str, tuple[int, ...]],
    flags: Spelling = PYTHON,
    strict: frozenset[str] | None = None,
) -> tuple[list[str], dict[str, int]]:
    """Give every real graph input concrete dims, in place; return the notes to show and the
    value each symbol was bound to.

    A leading symbolic dim (the batch) defaults to 1, and so does the same symbol wherever else
    it stands; every other dim left unbound is named in one BindingError, with how to bind
    them. A symbol in ``strict`` (default: every one in ``dims`` but ``batch``) that no input
    has is an error too: a typo would otherwise be ignored. ``flags``: the words of the
    messages (the caller's arguments).
    """
    inputs = real_inputs(model.graph)
    input_shapes = _check_given(path, inputs, dims, input_shapes, flags, strict)
    bound = dict(dims)
    notes = _bind_batch(inputs, input_shapes, bound, flags)
    unbound: list[Unbound] = []
    suggested: dict[str, tuple[int | None, ...] | None] = {}
    for vi in inputs:
        if vi.type.HasField("tensor_type"):
            missing, dims_now = _bind_input(path, vi, input_shapes.get(vi.name), bound, flags)
            if missing:
                unbound += missing
                suggested[vi.name] = dims_now
    if unbound:
        raise BindingError(path, unbound, suggested, flags)
    return notes, {k: v for k, v in bound.items() if k}


def _check_given(path: str | os.PathLike[str], inputs: list[onnx.ValueInfoProto],
                 dims: dict[str, int], input_shapes: dict[str, tuple[int, ...]],
                 flags: Spelling, strict: frozenset[str] | None
                 ) -> dict[str, tuple[int, ...]]:
    """The given shapes that apply to this model, once every given binding is checked: an input
    or a symbol the model does not have, a dim that is no size."""
    names = {vi.name for vi in inputs}
    # A default from a configuration file binds only the models that have its input or symbol.
    input_shapes = {k: v for k, v in input_shapes.items()
                    if k in names or k not in flags.sources}
    for name, shape in input_shapes.items():
        if name not in names:
            raise ModelError(
                path, f"{flags.source(Arg.SHAPE, name)} names {name!r}, but the model's inputs "
                      f"are {sorted(names)}")
        _check_dims(path, flags.given(Arg.SHAPE, name), shape)
    for sym, value in dims.items():
        _check_dims(path, flags.given(Arg.DIM, sym), (value,))
    symbols = {d.dim_param for vi in inputs if vi.type.HasField("tensor_type")
               for d in vi.type.tensor_type.shape.dim
               if not d.HasField("dim_value") and d.dim_param}
    chosen = {s for s in dims if s != "batch" and s not in flags.sources}
    for sym in sorted(chosen if strict is None else strict):
        if sym not in symbols:
            known = ", ".join(sorted(symbols)) or "none"
            raise ModelError(path, f"{flags.given(Arg.DIM, sym)}: the model's inputs have no "
                                   f"symbolic dim {sym!r} (their symbols: {known})")
    return input_shapes


def _bind_batch(inputs: list[onnx.ValueInfoProto], input_shapes: dict[str, tuple[int, ...]],
                bound: dict[str, int], flags: Spelling) -> list[str]:
    """Bind each input's leading symbol nobody bound (the batch) to ``batch``'s value, else 1,
    in ``bound`` ("" stands for an unnamed one); the notes that say so."""
    notes = []
    for vi in inputs:
        tt = vi.type.tensor_type
        if vi.name in input_shapes or not tt.HasField("shape") or not tt.shape.dim:
            continue
        d = tt.shape.dim[0]
        if not d.HasField("dim_value") and (d.dim_param or "") not in bound:
            bound[d.dim_param or ""] = bound.get("batch", 1)
            notes.append(
                f"note: batch dim {d.dim_param or '?'} of input {vi.name!r} set to "
                f"{bound[d.dim_param or '']} (bind it with "
                f"{flags.bind_dims([d.dim_param or 'batch'])})"
            )
    return notes


def _bind_input(path: str | os.PathLike[str], vi: onnx.ValueInfoProto,
                given: tuple[int, ...] | None, bound: dict[str, int], flags: Spelling
                ) -> tuple[list[Unbound], tuple[int | None, ...] | None]:
    """Give one input its dims, in place: its whole ``given`` shape, else each symbol's bound
    value. The dims left unbound, and the input's dims as far as they are bound (None for
    each dim to choose; None for an input with no shape)."""
    tt = vi.type.tensor_type
    if given is not None:
        declared = len(tt.shape.dim) if tt.HasField("shape") else None
        if declared is not None and declared != len(given):
            raise ModelError(path, f"input {vi.name!r} has {declared} dims, but "
                                   f"{flags.given(Arg.SHAPE, vi.name)} gives {len(given)}")
        tt.ClearField("shape")
        for d in given:
            tt.shape.dim.add().dim_value = d
        return [], given
    if not tt.HasField("shape"):
        return [Unbound(vi.name, None)], None
    missing: list[Unbound] = []
    dims: list[int | None] = []
    for i, d in enumerate(tt.shape.dim):
        sym = d.dim_param
        if d.HasField("dim_value"):
            if d.dim_value <= 0:
                missing.append(Unbound(vi.name, i, value=d.dim_value))
            dims.append(d.dim_value if d.dim_value > 0 else None)
        elif sym in bound and (sym or i == 0):
            value = bound[sym]
            d.Clear()
            d.dim_value = value
            dims.append(value)
        else:
            missing.append(Unbound(vi.name, i, sym))
            dims.append(None)
    return missing, tuple(dims)


def declared_annotations(graph: onnx.GraphProto, file_inputs: dict[str, Shape | None],
                         ) -> dict[str, Shape]:
    """The exporter's annotations (value_info) of a graph whose inputs are now bound, with the
    symbols they share with the inputs replaced by the bound values; empty when the inputs are
    not bound as the file declares them (a different --input-shape): then the annotations
    describe other shapes. (A graph output's declared shape is used only where inference has
    no entry at all for it: files declare a static guess there for data-dependent outputs.)"""
    if not graph.value_info:
        return {}
    values: dict[str, int] = {}
    for vi in real_inputs(graph):
        declared, bound = file_inputs.get(vi.name), shape_of(vi.type)
        if declared is None or bound is None or len(declared) != len(bound):
            return {}
        for d, b in zip(declared, bound, strict=True):
            if isinstance(d, int):
                if d != b:
                    return {}
            elif isinstance(d, str) and d:
                if values.setdefault(d, b) != b:  # type: ignore[arg-type]
                    return {}
    out: dict[str, Shape] = {}
    for vi in graph.value_info:
        shape = shape_of(vi.type)
        if shape is not None:
            out[vi.name] = tuple(values.get(d, d) if isinstance(d, str) else d for d in shape)
    return out


def _check_dims(path: str | os.PathLike[str], flag: str, values: tuple[int, ...]) -> None:
    for v in values:
        if not isinstance(v, int) or isinstance(v, bool) or not 0 < v <= INT64_MAX:
            raise ModelError(path, f"{flag}: dims must be positive integers below 2^63, got {v}")


class WindowError(ModelError):
    """A window larger than its input: the bound input is too small for the model."""

    def __init__(self, path: str | os.PathLike[str], message: str, node: str = "") -> None:
        super().__init__(path, message)
        self.node = node


def check_shapes(path: str | os.PathLike[str], graph: onnx.GraphProto, rows: NodeRows,
                 shapes: dict[str, Shape], flags: Spelling, bound_by_user: bool,
                 values: dict[str, Any] | None = None) -> None:
    """Shapes no real run could have are errors, never numbers: a negative dim anywhere, a
    window op whose output side is below 1 (its window is larger than its padded input), and,
    when the user bound the inputs, channels that contradict a convolution's weight and
    features that contradict a dense layer's (:class:`SizeError`). A tensor
    of more elements than a number of :data:`~limits.DIGITS` digits is refused: the counts made
    of it could not even be printed."""
    _check_sizes(path, shapes)
    checked: set[tuple] = set()  # a model repeats the same few windows on the same shapes
    windows = {i: entry for i, (op, domain) in enumerate(zip(rows.op_types, rows.domains))
               if (entry := _window_op(domain, op)) is not None}
    for i, entry in windows.items():
        key = (rows.op_types[i], rows.attr_keys[i], *(shapes.get(t) for t in rows.inputs[i]))
        if key not in checked:
            checked.add(key)
            _check_window(path, graph.node[i], entry, i, shapes)
    if all_known(shapes.get(o) for outs in rows.outputs for o in outs if o) and min(
            (min(s, default=1) for outs in rows.outputs for o in outs if o
             and (s := shapes.get(o)) is not None), default=1) >= 1:
        if not bound_by_user:
            return  # the common case: every shape known and positive
    for i, (op, outs) in enumerate(zip(rows.op_types, rows.outputs, strict=True)):
        for o in outs:
            shape = shapes.get(o)
            if not shape or not any(isinstance(d, int) and d < 1 for d in shape):
                continue
            node = graph.node[i]
            label = f"{op} {node.name!r}" if node.name else f"{op} #{i}"
            x = shapes.get(node.input[0]) if node.input else None
            if i in windows:
                raise WindowError(path, f"{label}{_window_text(node, windows[i], shapes)} is "
                                        f"larger than its padded input {_sides(x, node)}: "
                                        f"output {list(shape)}", node.name or f"{op}_{i}")
            if any(isinstance(d, int) and d < 0 for d in shape):
                raise ModelError(path, f"{label} gives {o!r} the shape {list(shape)}: dims "
                                       "cannot be negative")
    if not bound_by_user:
        return
    _check_dense(path, graph, rows, shapes, values or {})
    for i, entry in windows.items():
        w_slot = entry.window.weight  # type: ignore[union-attr]
        ins, op = rows.inputs[i], rows.op_types[i]
        if w_slot is None or len(ins) <= w_slot or entry.axes is not Axes.CHANNELS_FIRST:
            continue
        x, w = shapes.get(ins[0]), shapes.get(ins[w_slot])
        node = graph.node[i]
        group = next((a.i for a in node.attribute if a.name == "group"), 1) or 1
        if (is_known(x) and is_known(w) and len(x) >= 2 and len(w) >= 2  # type: ignore[arg-type]
                and x[1] != w[1] * group):  # type: ignore[index,operator]
            label = f"{op} {node.name!r}" if node.name else f"{op} #{i}"
            raise ModelError(path, f"{label}: its input has {x[1]} channels, but its weight "
                                   f"{list(w)} reads {w[1] * group}; bind the inputs with "  # type: ignore
                                   f"channels that fit ({flags.arg(Arg.SHAPE)})")


class SizeError(ModelError):
    """A dense layer's weight, or a flatten's fixed shape, that the bound input's size
    contradicts: the input size is not one the model takes."""


def _check_dense(path: str | os.PathLike[str], graph: onnx.GraphProto, rows: NodeRows,
                 shapes: dict[str, Shape], values: dict[str, Any]) -> None:
    """A Gemm or MatMul whose input's features are not what its weight reads, or a Reshape to
    a fixed shape of another element count, is a :class:`SizeError` (onnx's inference leaves
    such a shape unknown, or takes the weight's word for it)."""
    stored: dict[str, onnx.TensorProto] = {}
    for i, op in enumerate(rows.op_types):
        if op not in ("Gemm", "MatMul", "Reshape") or rows.domains[i] not in ("", "ai.onnx"):
            continue
        ins = rows.inputs[i]
        if len(ins) < 2:
            continue
        x, w = shapes.get(ins[0]), shapes.get(ins[1])
        if not is_known(x) or len(x) < 1:  # type: ignore[arg-type]
            continue
        node = graph.node[i]
        label = f"{op} {node.name!r}" if node.name else f"{op} #{i}"
        if op == "Reshape":
            target = values.get(ins[1])
            if target is None:
                target = _inline_ints(graph, ins[1], stored)
            if target is None or not all(int(d) > 0 for d in target.reshape(-1)):
                continue  # a -1 or a 0 (without allowzero) adapts to the input
            target = [int(d) for d in target.reshape(-1)]
            if prod(x) != prod(target):  # type: ignore[arg-type]
                raise SizeError(path, f"{label}: its input {list(x)} has {prod(x):,} elements, "  # type: ignore[arg-type]
                                      f"which cannot be reshaped to {target} ({prod(target):,})")
            continue
        if not is_known(w) or len(w) < 2 or (op == "MatMul" and ins[1] not in values  # type: ignore[arg-type]
                                             and ins[1] not in shapes):
            continue
        attr = node_attr(node)
        if op == "Gemm":
            k = x[0] if attr("transA", 0) else x[-1]
            reads = w[1] if attr("transB", 0) else w[0]  # type: ignore[index]
        else:
            k, reads = x[-1], w[-2]  # type: ignore[index]
        if k != reads:
            raise SizeError(path, f"{label}: its input {list(x)} has {k:,} features, but its "
                                  f"weight {list(w)} reads {reads:,}")  # type: ignore[arg-type]


def _inline_ints(graph: onnx.GraphProto, name: str, stored: dict[str, onnx.TensorProto]
                 ) -> np.ndarray | None:
    """A small int64 initializer's value, where the file holds it inline (a Reshape's fixed
    shape); never external data. ``stored``: the graph's initializers by name, filled once."""
    if not stored:
        stored.update((t.name, t) for t in graph.initializer)
        stored[""] = onnx.TensorProto()  # filled
    t = stored.get(name)
    if t is None or not name or t.data_type != onnx.TensorProto.INT64 \
            or t.data_location == onnx.TensorProto.EXTERNAL or len(t.dims) != 1 \
            or not 0 < t.dims[0] <= 8:
        return None
    return onnx.numpy_helper.to_array(t)


def _check_sizes(path: str | os.PathLike[str], shapes: dict[str, Shape]) -> None:
    shaped = [s for s in shapes.values() if s]
    try:  # the common case, in C: no dim is large enough, at any rank, to come near the bound
        if max(map(max, shaped), default=1).bit_length() * max(map(len, shaped), default=0) \
                <= 3 * DIGITS:
            return
    except TypeError:  # a symbol or an unknown dim somewhere: tensor by tensor
        pass
    for name, shape in shapes.items():
        if shape and is_known(shape) and too_many_digits(prod(shape)):  # type: ignore[arg-type]
            raise ModelError(path, f"tensor {name!r} would hold a number of elements of more "
                                   f"than {DIGITS} digits ({len(shape)} dims); cnncount counts "
                                   f"tensors of fewer than 10^{DIGITS} elements")


def _window_op(domain: str, op: str) -> Op | None:
    """The registry's entry of a window that reads its input (a Conv or a pool: not a
    transposed convolution, which scatters it), else None."""
    entry = lookup(domain, op)
    if entry is None or entry.window is None or entry.window.transposed:
        return None
    return entry


def _axes(node: onnx.NodeProto, entry: Op, shapes: dict[str, Shape]
          ) -> tuple[list[int], list[Axis | None] | None]:
    """A window node's kernel and axes (ops/window.py), where its input's shape is known."""
    x = shapes.get(node.input[0]) if node.input else None
    slot = entry.window.weight  # type: ignore[union-attr]
    w = shapes.get(node.input[slot]) if slot is not None and len(node.input) > slot else None
    if x is None or len(x) < 3 or not is_known(x):
        return [], None
    attr = node_attr(node)
    kernel = kernel_of(attr, w, len(x) - 2) or []
    return kernel, window_axes(attr, x[2:], kernel, entry.window.pooling)  # type: ignore


def _check_window(path: str | os.PathLike[str], node: onnx.NodeProto, entry: Op, i: int,
                  shapes: dict[str, Shape]) -> None:
    """A window longer than its padded input, on any axis, is a WindowError. (onnx's inference
    divides a negative span rounding toward zero, so such a window can get a side of 1.)"""
    kernel, axes = _axes(node, entry, shapes)
    if not axes or all(a is None or a.fits for a in axes):
        return
    out = shapes.get(node.output[0]) if node.output else None
    label = f"{node.op_type} {node.name!r}" if node.name else f"{node.op_type} #{i}"
    x = shapes.get(node.input[0])
    raise WindowError(path, f"{label}{_window_text(node, entry, shapes)} is larger than its "
                            f"padded input {_sides(x, node)}"
                            + (f": output {list(out)}" if out is not None else ""),
                      node.name or f"{node.op_type}_{i}")


def _window_text(node: onnx.NodeProto, entry: Op, shapes: dict[str, Shape]) -> str:
    """`` (5x5, stride 2)``: the window as the seed article writes it, where it is known."""
    kernel, axes = _axes(node, entry, shapes)
    if not kernel:
        return ""
    strides = [int(s) for s in node_attr(node)("strides", None) or [1] * len(kernel)]
    return f" ({window.text(kernel, strides)})"


def _sides(shape: Shape | None, node: onnx.NodeProto | None = None) -> str:
    """The spatial sides of a window's input, padded as its pads say."""
    if shape is None or len(shape) < 3:
        return "?" if shape is None else "x".join(map(str, shape))
    pads = list(node_attr(node)("pads", None) or []) if node is not None else []
    n = len(shape) - 2
    if len(pads) == 2 * n and all(isinstance(d, int) for d in shape[2:]):
        return "x".join(str(d + pads[k] + pads[k + n]) for k, d in enumerate(shape[2:]))  # type: ignore
    return "x".join(map(str, shape[2:]))
