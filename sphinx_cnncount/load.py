"""ONNX file -> model with bound dims and inferred shapes.

Weight bytes are never read: the file is parsed with ``load_external_data=False``, so an
external data file is never opened, whatever its location says. Every figure downstream comes
from tensor dims alone.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from math import prod
from pathlib import Path

import onnx
import onnx.inliner
from google.protobuf.message import DecodeError

from .shapes import (Dim, ModelError, NodeRows, Shape, all_known, dims_of, is_known, node_rows,
                     numel, shape_of)

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


def parse_input_shapes(specs: list[str] | tuple[str, ...]) -> dict[str, tuple[int, ...]]:
    """``["image=1x3x224x224"]`` -> ``{"image": (1, 3, 224, 224)}``."""
    shapes: dict[str, tuple[int, ...]] = {}
    for spec in specs:
        name, sep, dims = spec.rpartition("=")
        if not sep or not name or not dims:
            raise ValueError(f"--input-shape expects NAME=DxDx..., got {spec!r}")
        try:
            shapes[name] = tuple(int(d) for d in dims.replace(",", "x").split("x"))
        except ValueError:
            raise ValueError(f"--input-shape expects NAME=DxDx..., got {spec!r}") from None
    return shapes


def parse_dims(specs: list[str] | tuple[str, ...]) -> dict[str, int]:
    """``["batch=1", "H=224"]`` -> ``{"batch": 1, "H": 224}``."""
    dims: dict[str, int] = {}
    for spec in specs:
        for part in spec.split(","):
            name, sep, value = part.strip().partition("=")
            try:
                dims[name.strip()] = int(value)
            except ValueError:
                raise ValueError(f"--dim expects SYMBOL=N, got {part.strip()!r}") from None
            if not sep or not name.strip():
                raise ValueError(f"--dim expects SYMBOL=N, got {part.strip()!r}")
    return dims


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


def normalize(path: str | os.PathLike[str], model: onnx.ModelProto) -> onnx.ModelProto:
    """One form for what files spell several ways, and the checks that keep a hostile file from
    reaching the counter: model-local functions inlined (onnx's inliner) once the nodes that
    would make are known to be within NODE_LIMIT, ``ai.onnx`` as the default domain's other
    name, sparse initializers as dense ones (dims only: their values are weights), the dims of
    an initializer that is also listed as an input (old IR) taken from the tensor. Raises
    ModelError for names that are not UTF-8, negative initializer dims, and nodes whose
    attribute types or input counts contradict their ONNX schema (onnx's checker)."""
    _check_text(path, model)
    if model.functions:
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
    _default_domain(model)
    graph = model.graph
    for sparse in graph.sparse_initializer:
        dense = onnx.TensorProto(name=sparse.values.name or sparse.indices.name,
                                 data_type=sparse.values.data_type, dims=sparse.dims)
        graph.initializer.append(dense)
    del graph.sparse_initializer[:]
    for t in graph.initializer:
        if t.dims and min(t.dims) < 0:
            raise ModelError(path, f"initializer {t.name!r} has dims {list(t.dims)}; dims "
                                   "cannot be negative")
    listed = {vi.name for vi in graph.input}
    inits = {t.name: t for t in graph.initializer if t.name in listed}
    for vi in graph.input:
        if vi.name in inits and vi.type.HasField("tensor_type"):
            shape = vi.type.tensor_type.shape
            shape.ClearField("dim")
            for d in inits[vi.name].dims:
                shape.dim.add().dim_value = d
    check_nodes(path, model, graph)
    return model


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


def _check_text(path: str | os.PathLike[str], model: onnx.ModelProto) -> None:
    """Every name and op type is text: protobuf hands back invalid UTF-8 as bytes."""
    graphs = [model.graph]
    for g in graphs:
        names = [t.name for t in g.initializer]
        names += [vi.name for vi in (*g.input, *g.output, *g.value_info)]
        for n in g.node:
            names += (n.op_type, n.domain, n.name, *n.input, *n.output)
            for a in n.attribute:
                names.append(a.name)
                graphs += [a.g, *a.graphs] if a.type in _GRAPH_ATTRS else []
        if not all(type(v) is str for v in names):
            bad = next(v for v in names if type(v) is not str)
            raise ModelError(path, f"holds a name or op type that is not UTF-8 text ({bad[:40]!r})")
    for f in model.functions:
        names = [f.name, f.domain, *f.input, *f.output]
        for n in f.node:
            names += (n.op_type, n.domain, n.name, *n.input, *n.output)
        if not all(type(v) is str for v in names):
            raise ModelError(path, f"function {f.name!r} holds a name that is not UTF-8 text")


_GRAPH_ATTRS = (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)


def _default_domain(model: onnx.ModelProto) -> None:
    """``ai.onnx`` is the default domain's other name: write it "" everywhere, as onnx's
    inference and onnxruntime read it."""
    for opset in model.opset_import:
        if opset.domain == "ai.onnx":
            if any(o.domain == "" for o in model.opset_import):
                continue
            opset.domain = ""
    graphs = [model.graph]
    for g in graphs:
        for n in g.node:
            if n.domain == "ai.onnx":
                n.domain = ""
            for a in n.attribute:
                if a.type in _GRAPH_ATTRS:
                    graphs += [a.g, *a.graphs]


def check_nodes(path: str | os.PathLike[str], model: onnx.ModelProto,
                graph: onnx.GraphProto) -> None:
    """onnx's checker on each distinct default-domain node of ``graph``: attribute types
    (``strides`` as an INT, a graph where ints belong) and input and output counts that
    contradict the op's schema are a ModelError naming the node. Bodies are checked as
    subgraphs of their own, so a node's graph attributes are emptied for its check."""
    ctx = onnx.checker.C.CheckerContext()
    ctx.ir_version = model.ir_version or onnx.IR_VERSION
    ctx.opset_imports = {o.domain: o.version for o in model.opset_import}
    if "" not in ctx.opset_imports:
        return  # nothing to check against; inference says what is wrong
    seen: set[tuple] = set()
    for i, n in enumerate(graph.node):
        if n.domain != "":
            continue
        key = (n.op_type, tuple(map(bool, n.input)), len(n.output),
               tuple(a.SerializeToString() for a in n.attribute if a.type not in _GRAPH_ATTRS),
               tuple(a.name for a in n.attribute if a.type in _GRAPH_ATTRS))
        if key in seen:
            continue
        seen.add(key)
        probe = n
        if any(a.type in _GRAPH_ATTRS for a in n.attribute):
            probe = onnx.NodeProto()
            probe.CopyFrom(n)
            for a in probe.attribute:
                for g in [a.g] if a.type == onnx.AttributeProto.GRAPH else a.graphs:
                    g.Clear()
                    g.name = "body"  # the checker asks every graph for a name
        try:
            onnx.checker.check_node(probe, ctx)
        except onnx.checker.ValidationError as exc:
            what = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid"
            label = f"{n.name!r} ({n.op_type})" if n.name else f"#{i} ({n.op_type})"
            raise ModelError(path, f"node {label} does not fit the ONNX schema: {what}") from None


def real_inputs(graph: onnx.GraphProto) -> list[onnx.ValueInfoProto]:
    """Graph inputs that are not initializers (old exporters list weights as inputs too)."""
    listed = {vi.name for vi in graph.input}
    inits = {name for t in graph.initializer if (name := t.name) in listed}
    return [vi for vi in graph.input if vi.name not in inits]


INT64_MAX = 2**63 - 1  # an ONNX dim is an int64


def bind_inputs(
    path: str | os.PathLike[str],
    model: onnx.ModelProto,
    dims: dict[str, int],
    input_shapes: dict[str, tuple[int, ...]],
) -> list[str]:
    """Give every real graph input concrete dims, in place; return the notes to show.

    A leading symbolic dim (the batch) defaults to 1, and so does the same symbol wherever else
    it stands; any other unbound symbol is an error that names it and the flag that binds it.
    """
    notes: list[str] = []
    inputs = real_inputs(model.graph)
    names = {vi.name for vi in inputs}
    for name, shape in input_shapes.items():
        if name not in names:
            raise ModelError(
                path, f"--input-shape names {name!r}, but the model's inputs are {sorted(names)}"
            )
        _check_dims(path, f"--input-shape {name}", shape)
    _check_dims(path, "--dim", tuple(dims.values()))
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
                f"{bound[d.dim_param or '']} (bind it with --dim {d.dim_param or 'batch'}=SIZE)"
            )
    for vi in inputs:
        if not vi.type.HasField("tensor_type"):
            continue
        tt = vi.type.tensor_type
        if vi.name in input_shapes:
            declared = len(tt.shape.dim) if tt.HasField("shape") else None
            if declared is not None and declared != len(input_shapes[vi.name]):
                raise ModelError(
                    path, f"input {vi.name!r} has {declared} dims, but --input-shape gives "
                          f"{len(input_shapes[vi.name])}")
            tt.ClearField("shape")
            for d in input_shapes[vi.name]:
                tt.shape.dim.add().dim_value = d
            continue
        if not tt.HasField("shape"):
            raise ModelError(
                path,
                f"input {vi.name!r} has no shape; give one with --input-shape {vi.name}=DxDx...",
            )
        for i, d in enumerate(tt.shape.dim):
            if d.HasField("dim_value"):
                if d.dim_value <= 0:
                    raise ModelError(
                        path,
                        f"input {vi.name!r} has dim {d.dim_value} at axis {i}; dims must be "
                        f"positive (bind it with --input-shape {vi.name}=DxDx...)",
                    )
                continue
            sym = d.dim_param
            if sym in bound and (sym or i == 0):
                value = bound[sym]
            elif sym:
                raise ModelError(
                    path,
                    f"input {vi.name!r} has symbolic dim {sym!r} at axis {i}; "
                    f"bind it with --dim {sym}=SIZE",
                )
            else:
                raise ModelError(
                    path,
                    f"input {vi.name!r} has an unnamed dim at axis {i}; "
                    f"give its shape with --input-shape {vi.name}=DxDx...",
                )
            d.Clear()
            d.dim_value = value
    return notes


def _check_dims(path: str | os.PathLike[str], flag: str, values: tuple[int, ...]) -> None:
    for v in values:
        if not 0 < v <= INT64_MAX:
            raise ModelError(path, f"{flag}: dims must be positive integers below 2^63, got {v}")


def load(
    path: str | os.PathLike[str],
    dims: dict[str, int] | None = None,
    input_shapes: dict[str, tuple[int, ...]] | None = None,
) -> LoadedModel:
    """Read ``path``, bind its input dims and infer every tensor's shape (``infer.py``)."""
    from .infer import infer  # infer.py builds on this module's types

    model = normalize(path, read_model(path))
    notes = bind_inputs(path, model, dict(dims or {}), dict(input_shapes or {}))
    rows = node_rows(model.graph)  # inference keeps the nodes as they are
    inferred, shapes, dtypes, non_tensors = infer(path, model, rows)
    return LoadedModel(os.fspath(path), inferred, shapes, dtypes, tuple(notes),
                       frozenset(non_tensors), rows)
