"""Layers: which nodes make one row of the summary, named and typed as the framework shows them.

* By scope. A node's module path comes from the dynamo exporter's metadata, a TorchScript
  name (``/layer1/layer1.0/conv1/Conv``) or a tf2onnx/Keras name (``sequential/conv2d/Conv2D``);
  the nodes sharing a path at the asked depth are one layer. A node the exporter left without
  one takes it from what it writes or reads: its output tensor's name, the name of its weight
  (tf2onnx fuses a Conv with the BatchNormalization after it into ``Conv__435``), or the scope
  its neighbours agree on.
* Folded layers. An exporter that folds a BatchNormalization into the Conv or Linear before it
  leaves one node with two names: the conv's weight (``fc1.weight``) and the norm's scope (the
  dynamo exporter), or the conv's scope and the norm's output name (tf2onnx). The node is the
  conv's, and the row says which layer was folded into it (``LayerGroup.folded``).
* Automatic layers, for a model without scopes (Keras 3 on the torch backend writes none): each
  linear or pooling op with the scale, bias and activation that follow it; a normalization
  with its own parameters (also decomposed into Sub/Mul/Add over per-channel tensors) a row of
  its own, as Keras shows it; a Reshape or Flatten that changes the rank a row of its own; and
  layout ops (Transpose, Cast, Identity, Squeeze, Unsqueeze, a Reshape that keeps the rank)
  never a row: they join the layer around them. Layers follow the dataflow: a node joins the
  open layer only when it reads the layer's output and nothing outside reads the layer's
  intermediate tensors.
* Kind. Where the file names the framework's class (the dynamo exporter's
  ``pkg.torch.onnx.class_hierarchy``), a layer's kind is that class (``Conv2d``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .ops import Role, lookup
from .shapes import Shape

if TYPE_CHECKING:
    import onnx

    from .graph import Graph

SCOPE_KEY = "pkg.torch.onnx.name_scopes"
CLASS_KEY = "pkg.torch.onnx.class_hierarchy"
_SCOPE_TEXT_LIMIT = 1 << 16  # characters of one node's list; a deep model's are a few hundred


@dataclass(frozen=True)
class LayerGroup:
    name: str
    nodes: tuple[int, ...]  # node indices, topological order
    kind: str | None = None  # the framework's class, where the file names it
    folded: tuple[str, ...] = ()  # layers the exporter folded into this one (a BatchNorm)
    own: tuple[int, ...] = ()  # the nodes of its module call, whose output is the layer's
    # (the others are ops in no module that joined it: a functional relu); empty: all
    folds: tuple[int, ...] = ()  # its nodes a layer was folded into, one per folded layer


def parse_depth(value: object) -> int:
    """A layer depth as a user writes it (an option, a conf value): a whole number >= 1."""
    try:
        depth = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ValueError(f"depth must be a whole number, got {value!r}") from None
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    return depth


# ---------------------------------------------------------------------------------------------
# Scopes


def node_scopes(node: onnx.NodeProto, name: str | None = None) -> tuple[str, ...] | None:
    """The module path of a node, outermost first, as torch qualified names.

    Read from the dynamo exporter's metadata (``['', 'layer1', 'layer1.0', 'relu']``: the root,
    the cumulative module paths, the node's own name), else from a TorchScript-exporter name
    (``/layer1/layer1.0/conv1/Conv``), else from a tf2onnx/Keras name
    (``sequential/conv2d/Conv2D``); ``None`` when the node carries no scope at all.
    ``name``: the node's name, when already read.
    """
    scopes = _metadata(node, SCOPE_KEY) if node.metadata_props else None
    if scopes is not None:
        return tuple(s for s in scopes[1:-1] if s)
    name = node.name if name is None else name
    return name_scopes(name)


def name_scopes(name: str) -> tuple[str, ...] | None:
    """The scopes a node or tensor name's path spells (all but its last component)."""
    return _name_scopes(name.rpartition("/")[0]) if "/" in name else None


def node_classes(node: onnx.NodeProto) -> tuple[str, ...] | None:
    """The dynamo exporter's class of each scope of a node (``Conv2d``), outermost first."""
    classes = _metadata(node, CLASS_KEY) if node.metadata_props else None
    if classes is None:
        return None
    return tuple(c.rpartition(".")[2] for c in classes[1:-1])


def _metadata(node: onnx.NodeProto, key: str) -> tuple[str, ...] | None:
    for prop in node.metadata_props:
        if prop.key == key:
            return _string_list(prop.value)
    return None


@lru_cache(maxsize=8192)
def _string_list(value: str) -> tuple[str, ...] | None:
    """The exporter's list of strings, written as a Python literal; cached: the nodes of one
    module carry the same text (and parsing it is most of what reading the scopes costs)."""
    if len(value) > _SCOPE_TEXT_LIMIT or not value.startswith("["):
        return None  # no exporter writes this; reading it could take long
    try:
        scopes = ast.literal_eval(value)
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        return None
    if isinstance(scopes, list) and all(isinstance(s, str) for s in scopes):
        return tuple(scopes)
    return None


@lru_cache(maxsize=4096)
def _name_scopes(prefix: str) -> tuple[str, ...]:
    """The scopes a name's path spells, each component qualified by its parent as torch names
    modules; cached: a block's nodes share a path."""
    if not prefix:
        return ()
    parent, _, last = prefix.rpartition("/")
    qualified = list(_name_scopes(parent))
    if last:
        if qualified and not last.startswith(qualified[-1] + "."):
            last = f"{qualified[-1]}.{last}"
        qualified.append(last)
    return tuple(qualified)


def _module_path(tensor: str) -> tuple[str, ...] | None:
    """``layer1.0.conv1.weight`` -> the cumulative module path of a torch parameter's name (a
    bias the dynamo exporter made by folding a BatchNorm is ``conv1.weight_bias``)."""
    if "/" in tensor or ":" in tensor or not tensor.endswith((".weight", ".bias",
                                                               ".weight_bias")):
        return None
    parts = tensor.split(".")[:-1]
    if not parts or not all(parts):
        return None
    return tuple(".".join(parts[:k]) for k in range(1, len(parts) + 1))


def _strip_common_root(scopes: dict[int, tuple[str, ...]], *others: dict[int, tuple[str, ...]]
                       ) -> list[dict[int, tuple[str, ...]]]:
    """tf2onnx names start with the model's own scope (``sequential/...``, shared by every node);
    drop such leading components so that depth 1 is the model's layers, as Keras shows them
    (from ``scopes``, and from the other scope maps given, as in ``scopes``)."""
    paths = [s for s in scopes.values() if s]
    k = 0
    while paths and all(len(p) > k + 1 and p[k] == paths[0][k] for p in paths):
        k += 1
    if k == 0:
        return [scopes, *others]
    prefix = paths[0][k - 1] + "."

    def strip(s: tuple[str, ...]) -> tuple[str, ...]:
        if s[:k] != paths[0][:k]:
            return s  # not under the root (a name of another kind): kept
        return tuple(c.removeprefix(prefix) for c in s[k:])

    return [{i: strip(s) for i, s in m.items()} for m in (scopes, *others)]


# ---------------------------------------------------------------------------------------------
# Grouping


def group_layers(g: Graph, depth: int = 1, shapes: dict[str, Shape] | None = None,
                 dtypes: dict[str, int] | None = None) -> tuple[LayerGroup, ...]:
    """Partition the non-constant nodes into layers, in dataflow order (see the module's
    docstring). ``shapes`` and ``dtypes``, where known, let automatic layers tell a parameter
    from a scalar and a flattening Reshape from a layout one."""
    if depth < 1:
        raise ValueError("depth must be at least 1")
    shapes = shapes or {}
    live = [i for i in range(len(g.nodes)) if i not in g.constant_nodes]
    # (A nameless node's display name, op_index, has no "/": no scope, as for its own name.)
    scopes = {i: node_scopes(g.nodes[i], g.names[i]) for i in live}
    if not any(scopes.values()):
        return _ordered(g, _absorb_layout(g, _auto_layers(g, live, shapes, dtypes or {}),
                                          shapes))
    folded = _scoped(g, live, scopes)
    keys = _keys(live, scopes, depth)
    calls = _calls(g, live, keys)
    members = _place_loose(g, live, calls, shapes, dtypes or {})
    kinds = _kinds(g, members, scopes, folded, depth)
    layers = tuple(LayerGroup(name, tuple(sorted(nodes)), kinds.get(name),
                              _folded(nodes, folded), tuple(calls.get(name, ())),
                              tuple(sorted(i for i in nodes if i in folded)))
                   for name, nodes in members.items())
    return _ordered(g, _absorb_layout(g, layers, shapes))


def _scoped(g: Graph, live: list[int], scopes: dict[int, tuple[str, ...] | None]
            ) -> dict[int, tuple[str, ...]]:
    """Complete the nodes' scopes as each exporter leaves them (in place); the scopes of the
    layers folded into a node (a BatchNorm into its Conv), by node."""
    dynamo = any(g.nodes[i].metadata_props for i in live)
    torchscript = any(g.nodes[i].name.startswith("/") for i in live)
    folded: dict[int, tuple[str, ...]] = {}
    if dynamo or torchscript:
        _weight_scopes(g, live, scopes, folded, fold=dynamo)
    else:
        _tensor_scopes(g, live, scopes, folded)
        stripped, folded = _strip_common_root({i: s or () for i, s in scopes.items()}, folded)
        scopes.update(stripped)
    if dynamo:
        _neighbour_scopes(g, live, scopes)
    if torchscript:
        _torchscript_folds(g, live, scopes, folded)
    return folded


LOOSE = ""  # the key of a node that is in no module at the depth asked


def _keys(live: list[int], scopes: dict[int, tuple[str, ...] | None], depth: int
          ) -> dict[int, str]:
    """Each node's layer at ``depth``: its module there, or its deepest module when that is
    a leaf (a top-level conv at depth 3); LOOSE for a node outside every module, or in a
    container only (a functional relu of a residual block, at the depth of its convs)."""
    containers = {s[:k] for s in scopes.values() if s for k in range(1, len(s))}
    keys = {}
    for i in live:
        s = scopes[i] or ()
        if len(s) >= depth:
            keys[i] = s[depth - 1]
        elif s and s not in containers:
            keys[i] = s[-1]
        else:
            keys[i] = LOOSE
    return keys


def _calls(g: Graph, live: list[int], keys: dict[int, str]) -> dict[str, list[int]]:
    """The module calls: a module called twice (a pool, a relu) is one scope in the dynamo
    exporter's metadata, but two calls, each a row with its own output and cost, named
    ``pool`` and ``pool_1`` as the TorchScript exporter names them. A call is a connected
    part of the module's nodes (through nodes in no module, such as a quantizer's); a part
    that depends on the one before through other modules' nodes is the next call, one that
    does not (a module with two independent outputs) the same call."""
    groups: dict[str, list[int]] = {}
    for i in live:
        if keys[i] != LOOSE:
            groups.setdefault(keys[i], []).append(i)
    calls: dict[str, list[int]] = {}
    for key, nodes in groups.items():
        parts = _components(g, nodes, keys) if len(nodes) > 1 else [nodes]
        call = parts[0]
        n = 0
        for part in parts[1:]:
            if _reaches(g, call, part):
                calls[key if n == 0 else f"{key}_{n}"] = call
                n += 1
                call = part
            else:
                call = sorted(call + part)
        calls[key if n == 0 else f"{key}_{n}"] = call
    return calls


def _components(g: Graph, nodes: list[int], keys: dict[int, str]) -> list[list[int]]:
    """The connected parts of a module's nodes (through the tensors they pass each other,
    directly or through nodes in no module), in order of their first node."""
    parent = {i: i for i in nodes}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in nodes:
        for p in _module_producers(g, i, keys):
            if p in parent:
                parent[root(i)] = root(p)
    parts: dict[int, list[int]] = {}
    for i in nodes:
        parts.setdefault(root(i), []).append(i)
    return sorted(parts.values(), key=lambda part: part[0])


def _module_producers(g: Graph, i: int, keys: dict[int, str]) -> set[int]:
    """The nodes in a module that node ``i``'s inputs come from, looking through nodes in no
    module."""
    found: set[int] = set()
    stack, seen = [i], {i}
    while stack:
        j = stack.pop()
        for t in g.rows.inputs[j]:
            p = g.producer.get(t)
            if p is None or p in seen or p not in keys:
                continue
            seen.add(p)
            if keys[p] == LOOSE:
                stack.append(p)
            else:
                found.add(p)
    return found


def _reaches(g: Graph, sources: list[int], targets: list[int]) -> bool:
    """Whether some node of ``targets`` depends on some node of ``sources`` (node indices are
    a topological order: the walk stops past the last target)."""
    goal, last = set(targets), max(targets)
    seen, stack = set(sources), list(sources)
    while stack:
        i = stack.pop()
        for t in g.rows.outputs[i]:
            for c in g.consumers.get(t, ()):
                if c in goal:
                    return True
                if c not in seen and c <= last:
                    seen.add(c)
                    stack.append(c)
    return False


def _place_loose(g: Graph, live: list[int], calls: dict[str, list[int]],
                 shapes: dict[str, Shape], dtypes: dict[str, int]) -> dict[str, list[int]]:
    """The layers, with the nodes in no module placed as a user reads them:

    * a flatten before a dense layer is a row of its own, ``flatten``;
    * a node that reads a parameter of no module's (a class token, a position embedding) is
      a row named after the parameter (``encoder.pos_embedding``); one that reads a module's
      (a quantizer's bias ``Add`` of ``conv1.bias``) joins that module's layer;
    * any other joins the layer whose output it works on: of its inputs that are not
      scalars, the one made last (a join of two paths comes after both);
    * one that reads only the model's inputs or scalars (a transpose of the input, a
      quantizer's scale arithmetic) joins the layer it feeds; when it feeds several (an
      attention mask), it is a row of its own named after the input it is made from.
    """
    members = {name: list(nodes) for name, nodes in calls.items()}
    owner = {i: name for name, nodes in calls.items() for i in nodes}
    pending: list[int] = []
    for i in live:
        if i in owner:
            continue
        target = _loose_target(g, i, members, owner, shapes, dtypes)
        if target is None:
            pending.append(i)
            continue
        if target not in members:  # a row of its own: its output is this node's
            calls[target] = [i]
        members.setdefault(target, []).append(i)
        owner[i] = target
    for i in reversed(pending):
        feeds = {owner[c] for t in g.rows.outputs[i] for c in g.consumers.get(t, ())
                 if c in owner}
        if len(feeds) == 1:
            target = feeds.pop()
        else:  # feeds several layers, or none (an output passed through)
            source = _source_input(g, i)
            earlier = [j for j in owner if j < i]
            target = _unique(source, members) if source and feeds else \
                owner[max(earlier)] if earlier else _unique(g.rows.op_types[i].lower(),
                                                             members)
        if target not in members:
            calls[target] = [i]
        members.setdefault(target, []).append(i)
        owner[i] = target
    return {name: nodes for name, nodes in members.items() if nodes}


def _stored_parameter(g: Graph, t: str, shapes: dict[str, Shape], dtypes: dict[str, int]
                      ) -> str | None:
    """The stored float tensor of more than one element that a constant operand is (a class
    token) or is made from at export time (the same token expanded to the batch), else None."""
    for _ in range(8):
        if t in g.initializers:
            floats = dtypes.get(t) in _float_types() and not _scalar(shapes.get(t))
            return t if floats else None
        p = g.producer.get(t)
        if p is None or p not in g.constant_nodes or not g.rows.inputs[p]:
            return None
        t = g.rows.inputs[p][0]
    return None


def _source_input(g: Graph, i: int) -> str:
    """The model input a node's value is made from (through the nodes that make it), else ""."""
    stack, seen = [i], {i}
    while stack:
        j = stack.pop(0)
        for t in g.rows.inputs[j]:
            if t in g.inputs:
                return t
            p = g.producer.get(t)
            if p is not None and p not in seen:
                seen.add(p)
                stack.append(p)
    return ""


def _loose_target(g: Graph, i: int, members: dict[str, list[int]], owner: dict[int, str],
                  shapes: dict[str, Shape], dtypes: dict[str, int]) -> str | None:
    """Where a node in no module goes (see :func:`_place_loose`); None: it reads nothing
    made by a layer (placed by what it feeds)."""
    if _role(g, i, shapes, {}) == "reshape":
        return _unique("flatten", members)
    for u in g.rows.inputs[i]:
        t = _stored_parameter(g, u, shapes, dtypes)
        if t is None:
            continue
        path = _module_path(t.removesuffix("_quantized"))
        module = next((m for m in reversed(path or ()) if m in members), None)
        # a module's weight (an embedding table folded at export: the module has no node of
        # its own) names its module's row; a parameter of no module (a class token) its own
        return module if module is not None else _unique(path[-1] if path else t, members)
    rows = {owner[p] for t in g.rows.inputs[i] if t not in g.constants
            and not _scalar(shapes.get(t)) and (p := g.producer.get(t)) is not None and p in owner}
    # of the layers it reads, the one that starts last: the others come before it (taking the
    # one whose node came last could put a join of two branches before one of them)
    return max(rows, key=lambda r: (min(members[r]), r)) if rows else None


def _scalar(shape: Shape | None) -> bool:
    return shape is not None and all(d == 1 for d in shape)


def _unique(name: str, taken: dict[str, Any]) -> str:
    """``name``, or ``name_1``, ``name_2`` ... where it is taken (as Keras numbers layers)."""
    if name not in taken:
        return name
    k = 1
    while f"{name}_{k}" in taken:
        k += 1
    return f"{name}_{k}"


def _kinds(g: Graph, members: dict[str, list[int]], scopes: dict[int, tuple[str, ...] | None],
           folded: dict[int, tuple[str, ...]], depth: int) -> dict[str, str | None]:
    """The framework's class of each layer, where the dynamo exporter names it and every node
    of the layer that sat in the layer's module agrees."""
    kinds: dict[str, str | None] = {}
    for name, nodes in members.items():
        found: set[str | None] = set()
        for i in nodes:
            s = scopes[i] or ()
            if not s or i in folded or len(s) < min(depth, len(s)):
                continue
            found.add(_kind(g.nodes[i], min(depth, len(s))))
        kinds[name] = found.pop() if len(found) == 1 else None
    return kinds


def _folded(nodes: list[int], folded: dict[int, tuple[str, ...]]) -> tuple[str, ...]:
    """The layers folded into a layer's nodes (a BatchNorm into its Conv), by their module's
    qualified name, each once (``BatchNorm`` where the file does not name it, once per
    convolution)."""
    names = [folded[i][-1] if folded[i] else "BatchNorm" for i in sorted(nodes) if i in folded]
    named = list(dict.fromkeys(n for n in names if n != "BatchNorm"))
    return tuple(named + [n for n in names if n == "BatchNorm"])


def _ordered(g: Graph, layers: tuple[LayerGroup, ...]) -> tuple[LayerGroup, ...]:
    """The layers in dataflow order: a row never comes before a row that feeds it; of rows
    that do not depend on each other, the one whose first node comes first (networkx's
    lexicographical topological sort, only when the order by first node is not one)."""
    layers = tuple(sorted(layers, key=lambda layer: layer.nodes[0]))
    owner = {i: k for k, layer in enumerate(layers) for i in layer.nodes}
    # (readers, not inputs: a control-flow node reads what its bodies capture too)
    edges = {(k, owner[c]) for k, layer in enumerate(layers) for i in layer.nodes
             for t in g.rows.outputs[i] for c in g.consumers.get(t, ())
             if c in owner and owner[c] != k}
    if all(a < b for a, b in edges):
        return layers
    import networkx as nx  # only for rows that the node order does not already sort

    dag = nx.DiGraph()
    dag.add_nodes_from(range(len(layers)))
    dag.add_edges_from(edges)
    if not nx.is_directed_acyclic_graph(dag):  # rows that feed each other become one
        return _ordered(g, _merged(layers, nx.strongly_connected_components(dag)))
    return tuple(layers[k] for k in nx.lexicographical_topological_sort(dag))


def _merged(layers: tuple[LayerGroup, ...], parts: Iterable[set[int]]
            ) -> tuple[LayerGroup, ...]:
    """The layers with each part (rows that feed each other: a node in no module placed
    between two parts of a layer) merged into one row, named after its first module call's
    row; the rows of a model's layer graph never form a cycle."""
    out = []
    for part in parts:
        rows = sorted((layers[k] for k in part), key=lambda layer: layer.nodes[0])
        if len(rows) == 1:
            out.append(rows[0])
            continue
        first = next((layer for layer in rows if layer.own), rows[0])
        out.append(replace(first, nodes=tuple(sorted(i for layer in rows for i in layer.nodes)),
                           folded=tuple(f for layer in rows for f in layer.folded), own=(),
                           folds=tuple(sorted(i for layer in rows for i in layer.folds))))
    return tuple(out)


def _absorb_layout(g: Graph, layers: tuple[LayerGroup, ...], shapes: dict[str, Shape]
                   ) -> tuple[LayerGroup, ...]:
    """A layer of layout ops alone (the Transpose an exporter puts before a Conv, under the
    scope of the norm after it) is no layer of the model: it joins the layer that reads what it
    writes, else the one that wrote what it reads."""
    def layout_only(layer: LayerGroup) -> bool:
        return all((role := _op_role(g, i)) is Role.LAYOUT or (
            role is Role.RESHAPE and _same_rank(g, i, shapes)) for i in layer.nodes)

    if len(layers) < 2 or not any(map(layout_only, layers)):
        return layers
    owner = {i: k for k, layer in enumerate(layers) for i in layer.nodes}
    target: dict[int, int] = {}
    for k, layer in enumerate(layers):
        if not layout_only(layer):
            continue
        mine = set(layer.nodes)
        readers = {owner[c] for i in layer.nodes for t in g.rows.outputs[i]
                   for c in g.consumers.get(t, ()) if c in owner and c not in mine}
        writers = {owner[g.producer[t]] for i in layer.nodes for t in g.rows.inputs[i]
                   if t in g.producer and g.producer[t] in owner and g.producer[t] not in mine}
        for candidates in (readers, writers):
            candidates = {c for c in candidates if not layout_only(layers[c])}
            if len(candidates) == 1:
                target[k] = candidates.pop()
                break
    if not target:
        return layers
    members: dict[int, list[int]] = {k: list(layer.nodes) for k, layer in enumerate(layers)}
    for k, t in target.items():
        members[t].extend(members.pop(k))
    out = [replace(layers[k], nodes=tuple(sorted(nodes))) for k, nodes in members.items()]
    return tuple(sorted(out, key=lambda layer: layer.nodes[0]))


def _same_rank(g: Graph, i: int, shapes: dict[str, Shape]) -> bool:
    ins, outs = g.rows.inputs[i], g.rows.outputs[i]
    before = shapes.get(ins[0]) if ins else None
    after = shapes.get(outs[0]) if outs else None
    return before is not None and after is not None and len(before) == len(after)


def _kind(node: onnx.NodeProto, depth: int) -> str | None:
    classes = node_classes(node)
    if not classes or depth > len(classes):
        return None
    return classes[depth - 1] or None


def _op_role(g: Graph, i: int) -> Role:
    entry = lookup(g.rows.domains[i], g.rows.op_types[i])
    return entry.role if entry is not None else Role.OTHER


def _weight(g: Graph, i: int) -> str | None:
    """The name of the learnt weight that names the layer a node computes (a Conv's or a
    Gemm's, ``layer1.0.conv1.weight``), where its op has one and it is stored: read through
    the nodes that only re-type or re-arrange it (a quantizer's DequantizeLinear, a Cast, a
    Transpose), with a quantizer's suffixes dropped (``conv1.weight_quantized``)."""
    entry = lookup(g.rows.domains[i], g.rows.op_types[i])
    ins = g.rows.inputs[i]
    if entry is None or entry.weight is None or len(ins) <= entry.weight:
        return None
    t = ins[entry.weight]
    for _ in range(8):
        p = g.producer.get(t)
        if p is None or p not in g.constant_nodes or not g.rows.inputs[p] \
                or _op_role(g, p) is not Role.LAYOUT:
            break
        t = g.rows.inputs[p][0]
    if not t or t not in g.constants:
        return None
    for suffix in ("_quantized", "_Transposed"):
        t = t.removesuffix(suffix)
    return t


def _weight_scopes(g: Graph, live: list[int], scopes: dict[int, tuple[str, ...] | None],
                   folded: dict[int, tuple[str, ...]], fold: bool) -> None:
    """torch: a Conv or Gemm with no scope (a quantizer's node) takes its weight's module;
    with ``fold`` (the dynamo exporter), one whose weight is named for another module
    (``fc1.weight`` under the scope of ``bn``: the norm was folded into the conv) is that
    module's, and the scope it had is a layer folded into it."""
    for i in live:
        own = scopes[i]
        if own and not fold:
            continue
        weight = _weight(g, i)
        path = _module_path(weight) if weight is not None else None
        if path is None or path == own:
            continue
        if own and (path[-1] in own or own[-1] in path):
            continue  # one module contains the other: the same layer
        if own:
            folded[i] = own
        scopes[i] = path


def _torchscript_folds(g: Graph, live: list[int], scopes: dict[int, tuple[str, ...] | None],
                       folded: dict[int, tuple[str, ...]]) -> None:
    """TorchScript: a convolution in a module whose weight and bias are the exporter's own
    tensors (``onnx::Conv_193``), where an untouched one reads ``conv1.weight``, had a
    BatchNorm folded into it by constant folding (which one, the file does not say)."""
    for i in live:
        entry = lookup(g.rows.domains[i], g.rows.op_types[i])
        if entry is None or entry.window is None or entry.bias is None or not scopes[i] \
                or i in folded:
            continue
        ins = g.rows.inputs[i]
        weight = _weight(g, i)
        bias = ins[entry.bias] if len(ins) > entry.bias else ""
        if weight and weight.startswith("onnx::") and bias.startswith("onnx::"):
            folded[i] = ()


def _tensor_scopes(g: Graph, live: list[int], scopes: dict[int, tuple[str, ...] | None],
                   folded: dict[int, str]) -> None:
    """tf2onnx: a node without a scope takes, if it is a Conv or Gemm, its weight's scope, else
    its data input's (the layer it computes names what feeds it); any other node its output
    tensor's. A node whose output is named for another layer (the BatchNormalization fused into
    a Conv) keeps its own, and that layer is folded into it."""
    for i in live:
        node = g.nodes[i]
        out = name_scopes(node.output[0]) if node.output and node.output[0] else None
        weighted = _weight(g, i) is not None
        if scopes[i]:
            if out and out != scopes[i] and weighted:
                folded[i] = out
            continue
        if weighted:
            weights = [s for t in node.input[1:] if t in g.constants and (s := name_scopes(t))]
            data = name_scopes(node.input[0]) if node.input and node.input[0] else None
            own = weights[0] if weights else data  # the conv's own weight, or what feeds it
            if own:
                scopes[i] = own
                others = [s for s in [*weights[1:], out] if s and s != own]
                if others:
                    folded[i] = others[0]  # a norm's shift, or its output's name
                continue
        if out:
            scopes[i] = out


def _neighbour_scopes(g: Graph, live: list[int],
                      scopes: dict[int, tuple[str, ...] | None]) -> None:
    """dynamo: a node the exporter's optimizer added without metadata, between nodes of one
    scope (what it reads is written there, what it writes is read there), takes that scope.
    (A TorchScript node without a scope is a functional call between modules: a row.)"""
    live_set = set(live)
    for i in live:
        if scopes[i]:
            continue
        before = {scopes[g.producer[t]] for t in g.rows.inputs[i]
                  if t in g.producer and g.producer[t] in live_set}
        after = {scopes[c] for t in g.rows.outputs[i] for c in g.consumers.get(t, ())
                 if c in live_set}
        if len(before) == 1 and before == after and None not in before:
            scopes[i] = before.pop()


# ---------------------------------------------------------------------------------------------
# Automatic layers



@lru_cache(maxsize=1)
def _float_types() -> frozenset[int]:
    """onnx's float element types. onnx is imported here, when a model is grouped into layers,
    not with this module: the renderers read the layer vocabulary, and a cached analysis is
    shown without importing onnx."""
    import onnx

    return frozenset({onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE,
                      onnx.TensorProto.BFLOAT16})


# The states of an open automatic layer, by what it has taken in so far.
_LAYOUT, _LINEAR, _SCALED, _BIASED, _ACTIVATED, _NORM, _OTHER, _RESHAPED = range(8)


def _role(g: Graph, i: int, shapes: dict[str, Shape], dtypes: dict[str, int]) -> str:
    """What a node is to an automatic layer: linear, norm (also a Sub of a parameter: the
    x - mean of a decomposed normalization), layout, reshape, scale (a Mul or Div by a
    parameter), bias (an Add of one), activation (an activation op, or arithmetic over scalars
    only), or other."""
    op = g.rows.op_types[i]
    role = _op_role(g, i)
    if role in (Role.LINEAR, Role.POOL):
        return "linear"
    if role is Role.NORM:
        return "norm"
    if role is Role.LAYOUT:
        return "layout"
    if role is Role.RESHAPE:
        # The same rank: a layout change, not a Flatten.
        return "layout" if _same_rank(g, i, shapes) else "reshape"
    if role is Role.ARITHMETIC:
        params = [t for t in g.rows.inputs[i] if t in g.constants and _parameter(t, shapes, dtypes)]
        if not params:
            acts = [t for t in g.rows.inputs[i] if t and t not in g.constants]
            return "activation" if len(acts) <= 1 else "other"
        # x - mean starts a normalization; a bias is added
        return {"Mul": "scale", "Div": "scale", "Add": "bias"}.get(op, "norm")
    if role is Role.ACTIVATION:
        return "activation"
    return "other"


def _parameter(t: str, shapes: dict[str, Shape], dtypes: dict[str, int]) -> bool:
    """A float constant of more than one element (a per-channel scale or shift), not a scalar."""
    shape = shapes.get(t)
    if dtypes and dtypes.get(t) not in _float_types():
        return False
    if shape is None:
        return True
    n = 1
    for d in shape:
        n *= d if isinstance(d, int) else 2
    return n > 1


# What an open layer in each state takes in next, and the state it is then in.
_NEXT: dict[int, dict[str, int]] = {
    _LAYOUT: {},  # a layer of layout ops takes in anything: it becomes that node's layer
    _LINEAR: {"scale": _SCALED, "bias": _BIASED, "activation": _ACTIVATED},
    _SCALED: {"bias": _BIASED, "activation": _ACTIVATED},
    _BIASED: {"activation": _ACTIVATED},
    _ACTIVATED: {"activation": _ACTIVATED},
    _NORM: {"scale": _NORM, "bias": _NORM, "activation": _ACTIVATED},
    _OTHER: {"activation": _ACTIVATED},
    _RESHAPED: {},
}
_START = {"linear": _LINEAR, "norm": _NORM, "scale": _NORM, "bias": _NORM, "layout": _LAYOUT,
          "reshape": _RESHAPED, "activation": _OTHER, "other": _OTHER}


def _auto_layers(g: Graph, live: list[int], shapes: dict[str, Shape],
                 dtypes: dict[str, int]) -> tuple[LayerGroup, ...]:
    layers: list[list[int]] = []
    states: list[int] = []
    heads: list[int] = []  # the node that names each layer: its first one that is not layout
    produced: list[set[str]] = []  # tensors each layer writes
    tail: str | None = None  # the open layer's output
    constant_nodes = g.constant_nodes
    for i in live:
        role = _role(g, i, shapes, dtypes)
        ins = [t for t in g.rows.inputs[i] if t and t not in g.constants]
        joins = False
        if layers and tail is not None and tail in ins and set(ins) <= produced[-1] \
                and _enclosed(g, produced[-1], layers[-1], i, constant_nodes):
            state = states[-1]
            if state == _LAYOUT and role != "layout":
                states[-1] = _START[role]
                heads[-1] = i
                joins = True
            elif role == "layout":
                joins = True
            elif role in _NEXT[state]:
                states[-1] = _NEXT[state][role]
                joins = True
        if joins:
            layers[-1].append(i)
            produced[-1].update(t for t in g.rows.outputs[i] if t)
        else:
            layers.append([i])
            states.append(_START[role])
            heads.append(i)
            produced.append({t for t in g.rows.outputs[i] if t})
        outs = [t for t in g.rows.outputs[i] if t]
        tail = outs[0] if outs else None
    # A layout-only layer that nothing followed (trailing Transposes) joins the one before it.
    merged: list[tuple[list[int], int]] = []
    for members, state, head in zip(layers, states, heads, strict=True):
        if state == _LAYOUT and merged and _reads(g, members[0], merged[-1][0]):
            merged[-1][0].extend(members)
        else:
            merged.append((members, head))
    names: dict[str, None] = {}
    out = []
    for members, head in merged:
        own = g.rows.names[head]
        name = own if own and not _op_derived(own, g.rows.op_types[head]) else \
            _keras_name(g, head, shapes)
        name = _unique(name, names)
        names[name] = None
        out.append(LayerGroup(name, tuple(members)))
    return tuple(out)


def _op_derived(name: str, op: str) -> bool:
    """Whether a node's name only repeats its op type, as an exporter writes it for a node
    it has no name for (``/Conv``, ``/MaxPool_1``, ``Conv_3``): no layer name at all."""
    base = name.lstrip("/")
    stem, _, number = base.rpartition("_")
    return base == op or (number.isdigit() and stem == op)


def _keras_name(g: Graph, i: int, shapes: dict[str, Shape]) -> str:
    """What Keras would call a layer this node makes (``conv2d``, ``max_pooling2d``,
    ``dense``, ``flatten``: the registry's ``Op.keras``, ``{n}`` the spatial rank of its
    input), else its op type in lower case."""
    entry = lookup(g.rows.domains[i], g.rows.op_types[i])
    ins = g.rows.inputs[i]
    x = shapes.get(ins[0]) if ins else None
    if entry is None or entry.keras is None or ("{n}" in entry.keras and not x):
        return g.rows.op_types[i].lower()
    return entry.keras.format(n=max(len(x or ()) - 2, 1))


def _enclosed(g: Graph, produced: set[str], members: list[int], i: int,
              constant_nodes: Iterable[int]) -> bool:
    """Whether nothing but the layer itself and node ``i`` reads what the layer wrote."""
    inside = set(members)
    inside.add(i)
    folded = set(constant_nodes)
    return all(c in inside or c in folded for t in produced for c in g.consumers.get(t, ()))


def _reads(g: Graph, i: int, members: list[int]) -> bool:
    written = {t for j in members for t in g.rows.outputs[j]}
    return any(t in written for t in g.rows.inputs[i])
