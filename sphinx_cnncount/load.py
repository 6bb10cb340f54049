"""ONNX file -> model with bound dims and inferred shapes.

Weight bytes are never read: the file is parsed with ``load_external_data=False``, so an
external data file is never opened, whatever its location says. Every figure downstream comes
from tensor dims alone.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping
from itertools import chain
from dataclasses import dataclass, field
from math import prod
from pathlib import Path

import numpy as np
import onnx
import onnx.inliner
from google.protobuf.message import DecodeError

from .bodies import GRAPH_ATTRS
from .choices import parse_dims, parse_input_shapes, parse_input_values  # re-exported
from .infer import Inference, infer
from .shapes import (Dim, ModelError, NodeRows, Shape, all_known, dims_of, is_known,
                     may_have_bodies, node_rows, numel, shape_of)

__all__ = ["Dim", "LoadedModel", "ModelError", "NodeRows", "Shape", "all_known", "dims_of",
           "is_known", "load", "node_rows", "numel", "parse_dims", "parse_input_shapes",
           "read_model", "shape_of"]

PROTOBUF_LIMIT = 2**31 - 1  # protobuf cannot parse a message of 2 GiB or more


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


def bind_values(path: str | os.PathLike[str], model: onnx.ModelProto,
                values: dict[str, tuple[int | float, ...]], flags: Flags
                ) -> dict[str, np.ndarray]:
    """The given inputs' values as arrays of their element type and shape (a scalar input takes
    one value, an input of shape [n] takes n); the inputs stay inputs."""
    inputs = {vi.name: vi for vi in real_inputs(model.graph)}
    out: dict[str, np.ndarray] = {}
    for name, given in values.items():
        vi = inputs.get(name)
        if vi is None or not vi.type.HasField("tensor_type"):
            raise ModelError(path, f"{flags.input_value} names {name!r}, but the model's "
                                   f"tensor inputs are {sorted(inputs)}")
        try:
            dtype = onnx.helper.tensor_dtype_to_np_dtype(vi.type.tensor_type.elem_type)
        except (KeyError, ValueError, TypeError):
            raise ModelError(path, f"{flags.input_value} {name}: the input has no numeric "
                                   "element type") from None
        shape = shape_of(vi.type)
        if shape is None:
            shape = () if len(given) == 1 else (len(given),)
        if not is_known(shape) or numel(shape) != len(given):
            raise ModelError(path, f"{flags.input_value} {name}: the input has shape "
                                   f"{list(shape)}, which does not hold {len(given)} value(s)")
        out[name] = np.array(given, dtype=dtype).reshape(shape)  # type: ignore[arg-type]
    return out


def read_model(path: str | os.PathLike[str]) -> onnx.ModelProto:
    """Parse an ONNX file without its external data, or raise ModelError saying why not."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise ModelError(path, "no such file") from None
    except OSError as exc:
        raise ModelError(path, f"cannot read: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise ModelError(path, "is a directory, not an ONNX file")
    if not stat.S_ISREG(st.st_mode):
        raise ModelError(path, "is not a regular file")
    if st.st_size == 0:
        raise ModelError(path, "is empty, not an ONNX model")
    if st.st_size > PROTOBUF_LIMIT:
        raise ModelError(
            path,
            f"is {st.st_size:,} bytes, over protobuf's 2 GiB limit; "
            "save the model with its weights as external data",
        )
    try:
        model = onnx.load(os.fspath(p), load_external_data=False)
    except (DecodeError, RuntimeError, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise ModelError(path, f"is not a valid ONNX protobuf ({type(exc).__name__})") from None
    except OSError as exc:
        raise ModelError(path, f"cannot read: {exc.strerror or exc}") from None
    if not model.HasField("graph") or (not model.graph.node and not model.graph.output):
        raise ModelError(path, "parses as protobuf but holds no ONNX graph")
    check_opsets(path, model)
    return model


def check_opsets(path: str | os.PathLike[str], model: onnx.ModelProto) -> None:
    """Reject a default-domain opset the installed onnx does not know."""
    known = onnx.defs.onnx_opset_version()
    for opset in model.opset_import:
        if opset.domain in ("", "ai.onnx") and opset.version > known:
            raise ModelError(
                path,
                f"uses opset {opset.version}, newer than the installed onnx {onnx.__version__} "
                f"knows (up to {known}); upgrade onnx",
            )


NODE_LIMIT = 1_000_000  # nodes, after inlining: far above any real model, far below a bomb


def normalize(path: str | os.PathLike[str], model: onnx.ModelProto
              ) -> tuple[onnx.ModelProto, NodeRows]:
    """One form for what files spell several ways, and the checks that keep a hostile file from
    reaching the counter; the model and its nodes' rows. Model-local functions are inlined
    (onnx's inliner) once the nodes that would make are known to be within NODE_LIMIT,
    ``ai.onnx`` is written as the default domain, sparse initializers become dense ones (dims
    only: their values are weights), an initializer also listed as an input (old IR) gives that
    input its dims. Raises ModelError for names that are not UTF-8, negative initializer dims,
    and nodes whose attribute types or input counts contradict their ONNX schema (onnx's
    checker)."""
    if model.functions:
        _check_function_text(path, model)
        expanded = inlined_size(model)
        if expanded > NODE_LIMIT:
            raise ModelError(path, f"its functions expand to {expanded:,} nodes or more, over "
                                   f"the limit of {NODE_LIMIT:,}")
        try:
            model = onnx.inliner.inline_local_functions(model)
        except Exception as exc:  # onnx raises several types; each means the same here
            raise ModelError(path, f"cannot inline the model's functions: {exc}") from None
    elif len(model.graph.node) > NODE_LIMIT:
        raise ModelError(path, f"has {len(model.graph.node):,} nodes, over the limit of "
                               f"{NODE_LIMIT:,}")
    graph = model.graph
    rows = node_rows(graph)  # every node's fields, read once for what follows
    bodies = may_have_bodies(rows)
    for sparse in graph.sparse_initializer:
        dense = onnx.TensorProto(name=sparse.values.name or sparse.indices.name,
                                 data_type=sparse.values.data_type, dims=sparse.dims)
        graph.initializer.append(dense)
    del graph.sparse_initializer[:]
    _check_text(path, graph, rows, bodies)
    rows = _default_domain(model, rows, bodies)
    stored = initializer_table(graph)
    for name, (dims, _) in stored.items():
        if dims and min(dims) < 0:
            raise ModelError(path, f"initializer {name!r} has dims {list(dims)}; dims "
                                   "cannot be negative")
    for vi in graph.input:
        if vi.name in stored and vi.type.HasField("tensor_type"):
            shape = vi.type.tensor_type.shape
            shape.ClearField("dim")
            for d in stored[vi.name][0]:
                shape.dim.add().dim_value = d
    check_nodes(path, model, rows)
    return model, rows


def _stand_in(t: onnx.TensorProto) -> onnx.TensorProto:
    """A one-element inline tensor of ``t``'s type, for a check that never reads its data."""
    try:
        dtype = onnx.helper.tensor_dtype_to_np_dtype(t.data_type)
    except (KeyError, ValueError, TypeError):
        dtype = np.float32
    if dtype.kind in "OSU":  # strings
        return onnx.helper.make_tensor(t.name, onnx.TensorProto.STRING, [], [b""])
    return onnx.numpy_helper.from_array(np.zeros((), dtype=dtype), t.name)


def inlined_size(model: onnx.ModelProto) -> int:
    """How many nodes the main graph has once its calls of model-local functions are inlined
    (counted, not built: a function calling another twice, 20 deep, is a million nodes). A call
    cycle counts as over the limit."""
    functions = {(f.domain, f.name): f for f in model.functions}
    sizes: dict[tuple[str, str], int] = {}
    visiting: set[tuple[str, str]] = set()

    def size(nodes: Iterable[onnx.NodeProto]) -> int:
        total = 0
        for n in nodes:
            key = (n.domain, n.op_type)
            if key not in functions:
                total += 1
                continue
            if key not in sizes:
                if key in visiting:
                    return NODE_LIMIT + 1  # recursion: inlining would never end
                visiting.add(key)
                sizes[key] = size(functions[key].node)
                visiting.discard(key)
            total += sizes[key]
            if total > NODE_LIMIT:
                break
        return total

    return size(model.graph.node)


def _check_text(path: str | os.PathLike[str], graph: onnx.GraphProto, rows: NodeRows,
                bodies: bool) -> None:
    """Every name and op type is text: protobuf hands back invalid UTF-8 as bytes. The main
    graph's nodes are checked on their rows (read already), bodies when there may be any."""
    names = chain(rows.op_types, rows.domains, rows.names, chain.from_iterable(rows.inputs),
                  chain.from_iterable(rows.outputs),
                  initializer_table(graph),  # its names, read once for loading
                  (vi.name for vi in (*graph.input, *graph.output, *graph.value_info)))
    if bytes in set(map(type, names)):
        _not_text(path)
    if not bodies:
        return
    graphs = [a.g for n in graph.node for a in n.attribute if a.type == onnx.AttributeProto.GRAPH]
    graphs += [g for n in graph.node for a in n.attribute for g in a.graphs]
    for g in graphs:
        names = [t.name for t in g.initializer]
        names += [vi.name for vi in (*g.input, *g.output, *g.value_info)]
        for n in g.node:
            names += (n.op_type, n.domain, n.name, *n.input, *n.output)
            graphs += [a.g for a in n.attribute if a.type == onnx.AttributeProto.GRAPH]
            graphs += [b for a in n.attribute for b in a.graphs]
        if bytes in set(map(type, names)):
            _not_text(path)


def _not_text(path: str | os.PathLike[str]) -> None:
    raise ModelError(path, "holds a name or op type that is not UTF-8 text; re-export the model")


def _check_function_text(path: str | os.PathLike[str], model: onnx.ModelProto) -> None:
    for f in model.functions:
        names = [f.name, f.domain, *f.input, *f.output]
        for n in f.node:
            names += (n.op_type, n.domain, n.name, *n.input, *n.output)
        if bytes in set(map(type, names)):
            raise ModelError(path, f"function {f.name!r} holds a name that is not UTF-8 text")


_TENSOR_ATTRS = (onnx.AttributeProto.TENSOR, onnx.AttributeProto.TENSORS)


def _default_domain(model: onnx.ModelProto, rows: NodeRows, bodies: bool) -> NodeRows:
    """``ai.onnx`` is the default domain's other name: write it "" everywhere, as onnx's
    inference and onnxruntime read it; the rows with it."""
    for opset in model.opset_import:
        if opset.domain == "ai.onnx" and not any(o.domain == "" for o in model.opset_import):
            opset.domain = ""
    if "ai.onnx" in set(rows.domains):
        for i, d in enumerate(rows.domains):
            if d == "ai.onnx":
                model.graph.node[i].domain = ""
        rows = NodeRows(rows.op_types, tuple("" if d == "ai.onnx" else d for d in rows.domains),
                        rows.inputs, rows.outputs, rows.names, rows.attr_keys)
    if bodies:
        graphs = [b for n in model.graph.node for a in n.attribute
                  for b in ([a.g] if a.type == onnx.AttributeProto.GRAPH else a.graphs)]
        for g in graphs:
            for n in g.node:
                if n.domain == "ai.onnx":
                    n.domain = ""
                for a in n.attribute:
                    graphs += [a.g] if a.type == onnx.AttributeProto.GRAPH else list(a.graphs)
    return rows


def check_nodes(path: str | os.PathLike[str], model: onnx.ModelProto, rows: NodeRows) -> None:
    """onnx's checker on each distinct default-domain node of the main graph: attribute types
    (``strides`` as an INT, a graph where ints belong) and input and output counts that
    contradict the op's schema are a ModelError naming the node. Bodies are checked as
    subgraphs of their own, so a node's graph attributes are emptied for its check."""
    ctx = onnx.checker.C.CheckerContext()
    ctx.ir_version = model.ir_version or onnx.IR_VERSION
    ctx.opset_imports = {o.domain: o.version for o in model.opset_import}
    if "" not in ctx.opset_imports:
        return  # nothing to check against; inference says what is wrong
    seen: set[tuple] = set()
    for i, (op, domain, ins, outs, attrs) in enumerate(zip(
            rows.op_types, rows.domains, rows.inputs, rows.outputs, rows.attr_keys)):
        if domain != "":
            continue
        key = (op, tuple(map(bool, ins)), len(outs), attrs)
        if key in seen:
            continue
        seen.add(key)
        n = model.graph.node[i]
        probe = n
        if any(a.type in GRAPH_ATTRS or a.type in _TENSOR_ATTRS for a in n.attribute):
            probe = onnx.NodeProto()
            probe.CopyFrom(n)
            for a in probe.attribute:
                for g in [a.g] if a.type == onnx.AttributeProto.GRAPH else a.graphs:
                    g.Clear()
                    g.name = "body"  # the checker asks every graph for a name
                # The checker would look for an external tensor's file (relative to the working
                # directory): only the attribute's type is checked here, never its data.
                for t in [a.t] if a.type == onnx.AttributeProto.TENSOR else a.tensors:
                    if t.data_location == onnx.TensorProto.EXTERNAL:
                        t.CopyFrom(_stand_in(t))
        try:
            onnx.checker.check_node(probe, ctx)
        except onnx.checker.ValidationError as exc:
            what = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid"
            label = f"{n.name!r} ({n.op_type})" if n.name else f"#{i} ({n.op_type})"
            raise ModelError(path, f"node {label} does not fit the ONNX schema: {what}") from None


def real_inputs(graph: onnx.GraphProto) -> list[onnx.ValueInfoProto]:
    """Graph inputs that are not initializers (old exporters list weights as inputs too)."""
    inits = initializer_table(graph)
    return [vi for vi in graph.input if vi.name not in inits]


# The last graph whose initializers were read, with how many it had: loading reads the table
# several times (the inputs, inference), and 20,000 initializers take a while to read.
_TABLE: list = [None, -1, {}]


def initializer_table(graph: onnx.GraphProto) -> dict[str, tuple[tuple[int, ...], int]]:
    """Each initializer's dims and element type, read once per graph (the same graph object
    with as many initializers: normalizing appends to them, deciding an If adds some). The
    caller must not change it."""
    n = len(graph.initializer)
    if _TABLE[0] is graph and _TABLE[1] == n:
        return _TABLE[2]
    table = {t.name: (tuple(t.dims), t.data_type) for t in graph.initializer}
    _TABLE[:] = [graph, n, table]
    return table


INT64_MAX = 2**63 - 1  # an ONNX dim is an int64


@dataclass(frozen=True)
class Flags:
    """How the user binds dims where the message is read: the CLI's flags, the Sphinx
    directive's options. ``sources`` names where a symbol's or an input's binding came from
    when that was not the flag (``[tool.cnncount] dims`` in pyproject.toml, conf.py's
    ``cnncount_dims``): a message blames what the user wrote, and such a default binds only the
    models that have that symbol or input."""

    dim: str = "--dim"
    input_shape: str = "--input-shape"
    input_value: str = "--input-value"
    sources: Mapping[str, str] = field(default_factory=dict)

    def of_dim(self, sym: str) -> str:
        return self.sources.get(sym, self.dim)

    def of_shape(self, name: str) -> str:
        return self.sources.get(name, self.input_shape)

    def bind_dim(self, sym: str) -> str:
        return f"{self.dim} {sym}=SIZE"

    def bind_shape(self, name: str) -> str:
        return f"{self.input_shape} {name}=DxDx..."


CLI_FLAGS = Flags()


def bind_inputs(
    path: str | os.PathLike[str],
    model: onnx.ModelProto,
    dims: dict[str, int],
    input_shapes: dict[str, tuple[int, ...]],
    flags: Flags = CLI_FLAGS,
    strict: frozenset[str] | None = None,
) -> tuple[list[str], dict[str, int]]:
    """Give every real graph input concrete dims, in place; return the notes to show and the
    value each symbol was bound to.

    A leading symbolic dim (the batch) defaults to 1, and so does the same symbol wherever else
    it stands; any other unbound symbol is an error that names it and how to bind it. A symbol
    in ``strict`` (default: every one in ``dims`` but ``batch``) that no input has is an error
    too: a typo would otherwise be ignored.
    """
    notes: list[str] = []
    inputs = real_inputs(model.graph)
    names = {vi.name for vi in inputs}
    # A default from a configuration file binds only the models that have its input or symbol.
    input_shapes = {k: v for k, v in input_shapes.items()
                    if k in names or k not in flags.sources}
    for name, shape in input_shapes.items():
        if name not in names:
            raise ModelError(
                path, f"{flags.of_shape(name)} names {name!r}, but the model's inputs are "
                      f"{sorted(names)}")
        _check_dims(path, f"{flags.of_shape(name)} {name}", shape)
    for sym, value in dims.items():
        _check_dims(path, flags.of_dim(sym), (value,))
    symbols = {d.dim_param for vi in inputs if vi.type.HasField("tensor_type")
               for d in vi.type.tensor_type.shape.dim
               if not d.HasField("dim_value") and d.dim_param}
    chosen = {s for s in dims if s != "batch" and s not in flags.sources}
    for sym in sorted(chosen if strict is None else strict):
        if sym not in symbols:
            known = ", ".join(sorted(symbols)) or "none"
            raise ModelError(path, f"{flags.dim} {sym}: the model's inputs have no symbolic dim "
                                   f"{sym!r} (their symbols: {known})")
    bound = dict(dims)
    for vi in inputs:  # first the batch: a leading symbol nobody bound
        tt = vi.type.tensor_type
        if vi.name in input_shapes or not tt.HasField("shape") or not tt.shape.dim:
            continue
        d = tt.shape.dim[0]
        if not d.HasField("dim_value") and (d.dim_param or "") not in bound:
            bound[d.dim_param or ""] = bound.get("batch", 1)
            notes.append(
                f"note: batch dim {d.dim_param or '?'} of input {vi.name!r} set to "
                f"{bound[d.dim_param or '']} (bind it with "
                f"{flags.bind_dim(d.dim_param or 'batch')})"
            )
    for vi in inputs:
        if not vi.type.HasField("tensor_type"):
            continue
        tt = vi.type.tensor_type
        if vi.name in input_shapes:
            declared = len(tt.shape.dim) if tt.HasField("shape") else None
            if declared is not None and declared != len(input_shapes[vi.name]):
                raise ModelError(
                    path, f"input {vi.name!r} has {declared} dims, but "
                          f"{flags.of_shape(vi.name)} gives {len(input_shapes[vi.name])}")
            tt.ClearField("shape")
            for d in input_shapes[vi.name]:
                tt.shape.dim.add().dim_value = d
            continue
        if not tt.HasField("shape"):
            raise ModelError(
                path, f"input {vi.name!r} has no shape; give one with {flags.bind_shape(vi.name)}")
        for i, d in enumerate(tt.shape.dim):
            if d.HasField("dim_value"):
                if d.dim_value <= 0:
                    raise ModelError(
                        path,
                        f"input {vi.name!r} has dim {d.dim_value} at axis {i}; dims must be "
                        f"positive (bind it with {flags.bind_shape(vi.name)})",
                    )
                continue
            sym = d.dim_param
            if sym in bound and (sym or i == 0):
                value = bound[sym]
            elif sym:
                raise ModelError(
                    path,
                    f"input {vi.name!r} has symbolic dim {sym!r} at axis {i}; "
                    f"bind it with {flags.bind_dim(sym)}",
                )
            else:
                raise ModelError(
                    path,
                    f"input {vi.name!r} has an unnamed dim at axis {i}; "
                    f"give its shape with {flags.bind_shape(vi.name)}",
                )
            d.Clear()
            d.dim_value = value
    return notes, {k: v for k, v in bound.items() if k}


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


WINDOW_OPS = frozenset({"Conv", "ConvInteger", "QLinearConv", "MaxPool", "AveragePool",
                        "LpPool", "ConvTranspose"})


class WindowError(ModelError):
    """A window larger than its input: the bound input is too small for the model."""

    def __init__(self, path: str | os.PathLike[str], message: str, node: str = "") -> None:
        super().__init__(path, message)
        self.node = node


def check_shapes(path: str | os.PathLike[str], graph: onnx.GraphProto, rows: NodeRows,
                 shapes: dict[str, Shape], flags: Flags, bound_by_user: bool) -> None:
    """Shapes no real run could have are errors, never numbers: a negative dim anywhere, a
    window op whose output side is below 1 (its window is larger than its padded input), and,
    when the user bound the inputs, channels that contradict a convolution's weight."""
    checked: set[tuple] = set()  # a model repeats the same few windows on the same shapes
    for i, op in enumerate(rows.op_types):
        if op in WINDOW_OPS and op != "ConvTranspose" and rows.domains[i] in ("", "ai.onnx"):
            key = (op, rows.attr_keys[i], *(shapes.get(t) for t in rows.inputs[i][:4]))
            if key not in checked:
                checked.add(key)
                _check_window(path, graph.node[i], i, shapes)
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
            if op in WINDOW_OPS and rows.domains[i] in ("", "ai.onnx"):
                raise WindowError(path, f"{label}{_window_text(node, shapes)} is larger than "
                                        f"its padded input {_sides(x, node)}: output "
                                        f"{list(shape)}", node.name or f"{op}_{i}")
            if any(isinstance(d, int) and d < 0 for d in shape):
                raise ModelError(path, f"{label} gives {o!r} the shape {list(shape)}: dims "
                                       "cannot be negative")
    if not bound_by_user:
        return
    for i, op in enumerate(rows.op_types):
        if op not in ("Conv", "ConvInteger", "QLinearConv") or rows.domains[i] not in ("", "ai.onnx"):
            continue
        ins = rows.inputs[i]
        w_slot = 3 if op == "QLinearConv" else 1
        if len(ins) <= w_slot:
            continue
        x, w = shapes.get(ins[0]), shapes.get(ins[w_slot])
        node = graph.node[i]
        group = next((a.i for a in node.attribute if a.name == "group"), 1) or 1
        if (is_known(x) and is_known(w) and len(x) >= 2 and len(w) >= 2  # type: ignore[arg-type]
                and x[1] != w[1] * group):  # type: ignore[index,operator]
            label = f"{op} {node.name!r}" if node.name else f"{op} #{i}"
            raise ModelError(path, f"{label}: its input has {x[1]} channels, but its weight "
                                   f"{list(w)} reads {w[1] * group}; bind the inputs with "  # type: ignore
                                   f"channels that fit ({flags.input_shape})")


def _check_window(path: str | os.PathLike[str], node: onnx.NodeProto, i: int,
                  shapes: dict[str, Shape]) -> None:
    """A window longer than its padded input, on any axis, is a WindowError. (onnx's inference
    divides a negative span rounding toward zero, so such a window can get a side of 1.)"""
    x = shapes.get(node.input[0]) if node.input else None
    if x is None or len(x) < 3 or not is_known(x):
        return
    if _string(node, "auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        return  # SAME pads the input to fit
    kernel = _ints(node, "kernel_shape")
    w_slot = 3 if node.op_type == "QLinearConv" else 1
    if not kernel and len(node.input) > w_slot:
        w = shapes.get(node.input[w_slot])
        kernel = list(w[2:]) if w is not None and is_known(w) else []  # type: ignore[arg-type]
    n = len(x) - 2
    dilations = _ints(node, "dilations") or [1] * n
    pads = _ints(node, "pads") if _string(node, "auto_pad", "NOTSET") == "NOTSET" else []
    pads = pads or [0] * 2 * n
    if len(kernel) != n or len(dilations) != n or len(pads) != 2 * n:
        return  # attributes that do not fit: the counter reports the node
    for k in range(n):
        if dilations[k] * (kernel[k] - 1) + 1 > x[2 + k] + pads[k] + pads[k + n]:  # type: ignore
            out = shapes.get(node.output[0]) if node.output else None
            label = f"{node.op_type} {node.name!r}" if node.name else f"{node.op_type} #{i}"
            raise WindowError(path, f"{label}{_window_text(node, shapes)} is larger than its "
                                    f"padded input {_sides(x, node)}"
                                    + (f": output {list(out)}" if out is not None else ""),
                              node.name or f"{node.op_type}_{i}")


def _string(node: onnx.NodeProto, name: str, default: str) -> str:
    for a in node.attribute:
        if a.name == name and a.type == onnx.AttributeProto.STRING:
            return a.s.decode("utf-8", "replace")
    return default


def _ints(node: onnx.NodeProto, name: str) -> list[int]:
    return next((list(a.ints) for a in node.attribute if a.name == name), [])


def _window_text(node: onnx.NodeProto, shapes: dict[str, Shape]) -> str:
    """`` (5x5, stride 2)``: the window as the seed article writes it, where it is known."""
    kernel = _ints(node, "kernel_shape")
    w_slot = 3 if node.op_type == "QLinearConv" else 1
    if not kernel and node.op_type != "ConvTranspose" and len(node.input) > w_slot:
        w = shapes.get(node.input[w_slot])
        kernel = list(w[2:]) if w is not None and is_known(w) else []  # type: ignore[arg-type]
    if not kernel:
        return ""
    strides = set(_ints(node, "strides") or [1])
    stride = str(strides.pop()) if len(strides) == 1 else "x".join(map(str, _ints(node, "strides")))
    return f" ({'x'.join(map(str, kernel))}, stride {stride})"


def _sides(shape: Shape | None, node: onnx.NodeProto | None = None) -> str:
    """The spatial sides of a window's input, padded as its pads say."""
    if shape is None or len(shape) < 3:
        return "?" if shape is None else "x".join(map(str, shape))
    pads = _ints(node, "pads") if node is not None else []
    n = len(shape) - 2
    if len(pads) == 2 * n and all(isinstance(d, int) for d in shape[2:]):
        return "x".join(str(d + pads[k] + pads[k + n]) for k, d in enumerate(shape[2:]))  # type: ignore
    return "x".join(map(str, shape[2:]))


def _smallest_fit(path: str | os.PathLike[str], dims: dict[str, int] | None,
                  input_shapes: dict[str, tuple[int, ...]] | None, flags: Flags,
                  strict: frozenset[str] | None) -> str | None:
    """The smallest square input side for which every window fits, where the model has one
    input whose bound spatial dims are all equal; None otherwise. Searched by loading the model
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
    return f"{name}=" + "x".join(map(str, best))


def load(
    path: str | os.PathLike[str],
    dims: dict[str, int] | None = None,
    input_shapes: dict[str, tuple[int, ...]] | None = None,
    flags: Flags = CLI_FLAGS,
    strict: frozenset[str] | None = None,
    suggest: bool = True,
    input_values: dict[str, tuple[int | float, ...]] | None = None,
) -> LoadedModel:
    """Read ``path``, bind its input dims and infer every tensor's shape (``infer.py``).
    ``flags``: how the messages tell the user to bind a dim; ``strict``: the symbols the user
    named, each of which the model must have (default: all of ``dims`` but ``batch``).
    A window larger than its input is an error that says, where it can, the smallest input that
    fits (``suggest``). ``input_values``: values of inputs that are settings (a sample rate), so
    that what depends on them (an If on it) is decided."""
    try:
        return _load(path, dims, input_shapes, flags, strict, suggest, input_values)
    finally:
        _TABLE[:] = [None, -1, {}]  # the cache keeps no model alive


def _load(path: str | os.PathLike[str], dims: dict[str, int] | None,
          input_shapes: dict[str, tuple[int, ...]] | None, flags: Flags,
          strict: frozenset[str] | None, suggest: bool,
          input_values: dict[str, tuple[int | float, ...]] | None) -> LoadedModel:
    model, rows = normalize(path, read_model(path))
    file_inputs = {vi.name: shape_of(vi.type) for vi in real_inputs(model.graph)}
    notes, _ = bind_inputs(path, model, dict(dims or {}), dict(input_shapes or {}), flags,
                           strict)
    declared = declared_annotations(model.graph, file_inputs)
    given = bind_values(path, model, dict(input_values or {}), flags)
    inference = infer(path, model, rows, declared, given)  # keeps the nodes, unless it decides an If
    if inference.structure_changed:
        rows = node_rows(inference.model.graph)
    try:
        check_shapes(path, inference.model.graph, rows, inference.shapes, flags,
                     bool(dims or input_shapes))
    except WindowError as exc:
        fit = _smallest_fit(path, dims, input_shapes, flags, strict) if suggest else None
        if fit is None:
            raise
        raise WindowError(path, f"{exc.reason}; the smallest input that fits is "
                                f"{flags.input_shape} {fit}", exc.node) from None
    return LoadedModel(os.fspath(path), inference.model, inference.shapes, inference.dtypes,
                       tuple(notes), frozenset(inference.non_tensors), rows, inference)
