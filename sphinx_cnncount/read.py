"""Reading an ONNX file, and the checks that keep a hostile or broken one from reaching the
counter.

Weight bytes are never read: the file is parsed with ``load_external_data=False``, so its
external data file is not opened here (the one reader of what lies beside a model, for its
small integer tensors, is ``external.py``). A file that is not an ONNX model is named by its
first bytes (``sniff.py``), with what to do.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from itertools import chain
from pathlib import Path

import numpy as np
import onnx
import onnx.inliner
from google.protobuf.message import DecodeError

from . import sniff
from .control import GRAPH_ATTRS, has_body, subgraphs
from .limits import NODE_LIMIT
from .shapes import ModelError, NodeRows, may_have_bodies, node_rows

PROTOBUF_LIMIT = 2**31 - 1  # protobuf cannot parse a message of 2 GiB or more


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
        raise ModelError(path, sniff.directory(path))
    if not stat.S_ISREG(st.st_mode):
        raise ModelError(path, "is not a regular file")
    if st.st_size == 0:
        raise ModelError(path, "is empty, not an ONNX model")
    head = sniff.read_head(p)
    kind = sniff.before_parsing(p, head)  # a zip, HDF5 or pickle: never protobuf
    if kind is not None:
        raise ModelError(path, kind)
    if st.st_size > PROTOBUF_LIMIT:
        raise ModelError(
            path,
            f"is {st.st_size:,} bytes, over protobuf's 2 GiB limit; "
            "save the model with its weights as external data",
        )
    try:
        model = onnx.load(os.fspath(p), load_external_data=False)
    except (DecodeError, RuntimeError, ValueError, TypeError, UnicodeDecodeError):
        raise ModelError(path, sniff.after_parsing(p, head)) from None
    except OSError as exc:
        raise ModelError(path, f"cannot read: {exc.strerror or exc}") from None
    if not model.HasField("graph") or (not model.graph.node and not model.graph.output):
        raise ModelError(path, sniff.after_parsing(p, head))
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
        what = "its functions expand to" if model.functions else "it has"
        raise ModelError(path, f"{what} {expanded:,} nodes or more, over the limit of "
                               f"{NODE_LIMIT:,}")
    if model.functions:
        try:
            model = onnx.inliner.inline_local_functions(model)
        except Exception as exc:  # onnx raises several types; each means the same here
            raise ModelError(path, f"cannot inline the model's functions: {exc}") from None
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
    """How many nodes the model has once every call of a model-local function is inlined: in
    the main graph, in every body and inside the functions (counted, not built: a function
    calling another twice, 20 deep, is a million nodes). A call cycle counts as over the limit;
    the count stops once it is over."""
    functions = {(f.domain, f.name): f for f in model.functions}
    sizes: dict[tuple[str, str], int] = {}
    visiting: set[tuple[str, str]] = set()

    def size(nodes: Iterable[onnx.NodeProto]) -> int:
        total = 0
        for n in nodes:
            key = (n.domain, n.op_type)
            if key not in functions:
                total += 1
            else:
                if key not in sizes:
                    if key in visiting:
                        return NODE_LIMIT + 1  # recursion: inlining would never end
                    visiting.add(key)
                    sizes[key] = size(functions[key].node)
                    visiting.discard(key)
                total += sizes[key]
            if has_body(n):
                total += sum(size(body.node) for _, body in subgraphs(n))
            if total > NODE_LIMIT:
                break
        return total

    if not functions and not any(map(has_body, model.graph.node)):
        return len(model.graph.node)  # the common case, without a loop in Python
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
