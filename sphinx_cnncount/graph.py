"""networkx graph of an ONNX model's nodes; what is constant (and what is a run-time constant).

Layers, the rows made of these nodes, are ``layers.py``'s."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import onnx

from .control import SUBGRAPH_OPS, captured, subgraphs
from .control import has_body as has_subgraph
from .ops import Role, lookup
from .shapes import ModelError, NodeRows, node_rows

# Ops whose output depends only on the (bound, static) shape of their input.
_SHAPE_OPS = frozenset({"Shape", "Size"})



if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True)
class Graph:
    """The model's nodes, in a deterministic topological order, with what each tensor is.

    Besides the node protos, ``rows`` keeps each node's op type, domain, inputs, outputs and
    attributes as plain tuples (``rows.op_types[i]``, ``rows.inputs[i]`` ...): what the counting
    passes read (a protobuf field read costs several times a tuple lookup).
    """

    nodes: tuple[onnx.NodeProto, ...]  # topological order
    names: tuple[str, ...]  # display name per node (node.name, or op_type_index)
    producer: dict[str, int]  # tensor -> index of the node that writes it
    consumers: dict[str, list[int]]  # tensor -> indices of the nodes that read it, ascending
    constants: frozenset[str]  # tensors fixed at export time (weights, shapes, folded values)
    initializers: frozenset[str]
    inputs: tuple[str, ...]  # real graph inputs
    outputs: tuple[str, ...]
    rows: NodeRows  # each node's fields, in the same order as ``nodes``

    constant_nodes: frozenset[int] = frozenset()  # nodes whose outputs are all constants
    runtime: frozenset[str] = frozenset()  # constants made from an activation's shape

    @cached_property
    def edges(self) -> dict[tuple[int, int], list[str]]:
        """(producer, consumer) -> the tensors between them, in consumer order."""
        edges: dict[tuple[int, int], list[str]] = {}
        producer = self.producer
        for i, node in enumerate(self.nodes):
            for t in _node_inputs(node):
                a = producer.get(t)
                if a is not None:
                    edges.setdefault((a, i), []).append(t)
        return edges

    @cached_property
    def dag(self) -> nx.DiGraph:
        """The node DAG (node index -> node index, edge attribute ``tensors``), built on first
        use: counting does not need it, so ``cnncount summary`` never imports networkx."""
        import networkx as nx

        dag = nx.DiGraph()
        dag.add_nodes_from(range(len(self.nodes)))
        dag.add_edges_from((a, b, {"tensors": ts}) for (a, b), ts in self.edges.items())
        return dag


def build(path: str, graph: onnx.GraphProto, rows: NodeRows | None = None) -> Graph:
    """Build the node DAG; a cycle, a missing producer or a doubly written tensor is an error.
    ``rows``: the graph's nodes as :func:`load.node_rows` reads them, when already read."""
    initializers = frozenset([t.name for t in graph.initializer])
    inputs = tuple(vi.name for vi in graph.input if vi.name not in initializers)
    available = initializers.union(inputs)
    nodes = list(graph.node)
    if rows is None:
        rows = node_rows(graph)
    # The loops below are the hot path of a large model: they leave what they can to set
    # operations and read the rows, not protobuf.
    op_types, domains, outputs_of = rows.op_types, rows.domains, rows.outputs
    producer: dict[str, int] = {}
    for i, outs in enumerate(outputs_of):
        for out in outs:
            producer[out] = i
    producer.pop("", None)
    if len(producer) != sum(len(outs) - outs.count("") for outs in outputs_of) or \
            not available.isdisjoint(producer):
        _written_twice(path, nodes, outputs_of, available)
    reads = [ins if op not in SUBGRAPH_OPS and domain in ("", "ai.onnx")
             else tuple(_node_inputs(nodes[i]))  # what its subgraphs capture is read too
             for i, (op, domain, ins) in enumerate(zip(op_types, domains, rows.inputs))]
    consumers: dict[str, list[int]] = {}
    readers_of = consumers.get
    defined = set(available)
    defined.add("")
    unsorted = False
    for i, ins in enumerate(reads):
        for t in ins:
            readers = readers_of(t)
            if readers is None:
                consumers[t] = [i]
            else:
                readers.append(i)
        if not unsorted and not defined.issuperset(ins):
            unsorted = True  # a tensor read before it is written, or by no one
        defined.update(outputs_of[i])
    consumers.pop("", None)
    if unsorted:
        missing = consumers.keys() - producer.keys() - available
        if missing:
            i = min(consumers[t][0] for t in missing)
            t = next(t for t in reads[i] if t in missing)
            raise ModelError(
                path,
                f"node {_label(nodes[i], i)} reads tensor {t!r}, which no node, input "
                "or initializer provides",
            )
    for vi in graph.output:
        if vi.name not in producer and vi.name not in available:
            raise ModelError(path, f"graph output {vi.name!r} is produced by no node, input or "
                                   "initializer")
    if unsorted:  # ONNX asks for topological order; not every file has it
        nodes, rows, producer, consumers = _sorted(path, nodes, rows, producer, consumers)
    names = tuple(name or f"{op}_{i}" for i, (op, name) in enumerate(zip(rows.op_types,
                                                                          rows.names)))
    constants, constant_nodes, runtime = _constant_tensors(nodes, rows, initializers)
    return Graph(
        nodes=tuple(nodes),
        names=names,
        producer=producer,
        consumers=consumers,
        constants=constants,
        initializers=initializers,
        inputs=inputs,
        outputs=tuple(vi.name for vi in graph.output),
        constant_nodes=constant_nodes,
        runtime=runtime,
        rows=rows,
    )


def _sorted(path: str, nodes: list[onnx.NodeProto], rows: NodeRows, producer: dict[str, int],
            consumers: dict[str, list[int]]
            ) -> tuple[list[onnx.NodeProto], NodeRows, dict[str, int], dict[str, list[int]]]:
    """The nodes of a file stored out of dataflow order, renumbered so that index order is a
    topological order: networkx's lexicographical one, so that nodes keep their stored order
    wherever the dataflow allows it. A cycle is an error naming its nodes."""
    import networkx as nx  # only for a file stored out of order

    dag = nx.DiGraph()
    dag.add_nodes_from(range(len(nodes)))
    dag.add_edges_from((producer[t], b) for t, readers in consumers.items()
                       if t in producer for b in readers)
    try:
        order = list(nx.lexicographical_topological_sort(dag))
    except nx.NetworkXUnfeasible:
        cycle = nx.find_cycle(dag)
        where = " -> ".join(_label(nodes[a], a) for a, _ in cycle)
        raise ModelError(path, f"the graph has a cycle ({where}); it cannot be evaluated") \
            from None
    pos = {old: new for new, old in enumerate(order)}
    return ([nodes[old] for old in order], rows.reorder(order),
            {t: pos[i] for t, i in producer.items()},
            {t: sorted(pos[i] for i in c) for t, c in consumers.items()})


def _written_twice(path: str, nodes: list[onnx.NodeProto], outputs_of: tuple[tuple[str, ...], ...],
                  available: frozenset[str]) -> None:
    """Raise the error for the first tensor written twice (or both given and written)."""
    producer: dict[str, int] = {}
    for i, outs in enumerate(outputs_of):
        for out in outs:
            if not out:
                continue
            if out in producer or out in available:
                other = nodes[producer[out]] if out in producer else None
                what = f"node {_label(other, producer[out])}" if other is not None else "a graph input"
                raise ModelError(
                    path,
                    f"tensor {out!r} is written twice (by {what} and node {_label(nodes[i], i)}); "
                    "re-export the model",
                )
            producer[out] = i


def _node_inputs(node: onnx.NodeProto) -> list[str]:
    """The tensors a node reads, including those its subgraphs capture from outer scope."""
    names = [t for t in node.input if t]
    if not has_subgraph(node):
        return names
    for _, g in subgraphs(node):
        names.extend(sorted(captured(g)))
    seen: set[str] = set()
    return [t for t in names if not (t in seen or seen.add(t))]


def _label(node: onnx.NodeProto | None, i: int) -> str:
    if node is None:
        return f"#{i}"
    return f"{node.name!r} ({node.op_type})" if node.name else f"#{i} ({node.op_type})"


def _constant_tensors(nodes: list[onnx.NodeProto], rows: NodeRows,
                      initializers: frozenset[str]
                      ) -> tuple[frozenset[str], frozenset[int], frozenset[str]]:
    """Tensors fixed before any input arrives: initializers, Constant outputs, and the outputs of
    deterministic nodes other than products that read only constants (or only the static shape
    of a tensor); the
    nodes that compute them; and those of the constants that are made from an activation's
    shape (a Shape of the input, a Range grid, a zero state sized like the batch): run-time
    constants, never parameters."""
    const = set(initializers)
    const.add("")  # an absent optional input
    runtime: set[str] = set()
    folded = []
    for i, (op, domain, ins, outs) in enumerate(zip(rows.op_types, rows.domains, rows.inputs,
                                                    rows.outputs)):  # topological: one pass
        if domain not in ("", "ai.onnx") or (
                op in SUBGRAPH_OPS and has_subgraph(nodes[i])):
            continue
        entry = lookup("", op)
        if entry is not None and (not entry.deterministic or entry.role is Role.LINEAR):
            # random: made at run time, whatever its inputs; a product (a Conv on a state the
            # exporter froze) runs, and costs, whatever its inputs
            continue
        if op in _SHAPE_OPS or const.issuperset(ins):
            const.update(outs)
            if any(outs):
                folded.append(i)
            if (op in _SHAPE_OPS and ins and ins[0] not in const) or not runtime.isdisjoint(ins):
                runtime.update(outs)
    const.discard("")
    runtime.discard("")
    return frozenset(const), frozenset(folded), frozenset(runtime)
