"""Counting conventions: the figure each popular tool prints for the same network, computed
from the counted model (``cnncount summary --convention NAME``).

Every tool counts by its own rules (tests/data/conventions/README.md has them, observed on
the torch models): fvcore counts a multiply-add as one "flop" and adds normalizations and
adaptive pooling; ptflops adds biases, ReLU-type activations and pooling; thop counts a
BatchNorm at 4 per element; torchinfo counts a dense layer once per sequence; calflops and
torch's FlopCounterMode count 2 per MAC; onnx-tool weighs every ONNX op. Here those rules are
data: each node of the graph is given a *kind* (a conv, a dense layer, an attention product,
a BatchNorm, a ReLU, an adaptive pool...) and the few facts the rules read (its MACs, its
output and input elements, its bias, its kernel, its parameters, whether torch called it as
a module or a function, whether its module is the exact torch class); a convention maps each
kind to a sum of those facts. What the ONNX file cannot tell (a BatchNorm the exporter folded
into its conv, which products ``scaled_dot_product_attention`` made, a torch subclass) is
reconstructed where the file keeps a trace of it and said in the figure's notes either way.

Sits after ``count``: it reads the loaded model and the summary's layers, and adds a
:class:`~summary.ConventionFigure` to the summary.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from math import prod

import onnx

from . import graph as graphmod
from .load import LoadedModel
from .ops import NodeView, lookup
from .shapes import Shape, is_known
from .choices import ALL, Convention, parse_convention
from .summary import ConventionFigure, Summary

__all__ = ["ALL", "Convention", "apply", "figures", "parse_convention"]


@dataclass(frozen=True)
class Tool:
    """How a tool names and prints its figure."""

    label: str  # the figure's name, as the tool prints it
    counts: str  # what it counts, in a few words (the reconciliation table's last column)


TOOLS = {
    Convention.TORCHVISION: Tool("GFLOPS", "MACs of every product (convs, dense layers, "
                                 "attention), as published in torchvision's weights"),
    Convention.FVCORE: Tool("flops", "one per multiply-add, + norms, adaptive pooling; no "
                            "activations, no fused attention"),
    Convention.PTFLOPS: Tool("MACs", "MACs + biases, ReLU-type activations, pooling, norms"),
    Convention.PTFLOPS_ATEN: Tool("MACs", "MACs + biases of aten convolution, mm, addmm, "
                                  "bmm"),
    Convention.THOP: Tool("MACs", "MACs of nn modules + 4 per BatchNorm element, pooling"),
    Convention.TORCHINFO: Tool("Total mult-adds", "conv MACs + bias; a dense layer's or a "
                               "norm's parameters, once"),
    Convention.CALFLOPS: Tool("fwd FLOPs", "2 per MAC + conv biases, norms, activations, "
                              "pooling"),
    Convention.ONNX_TOOL: Tool("Forward_MACs", "MACs + biases, every ONNX op at its own "
                               "weight (Sigmoid 32, Softmax 36, BatchNorm 31 per element)"),
    Convention.TORCH_FLOP_COUNTER: Tool("FLOP", "2 per MAC of aten convolution, mm, addmm, "
                                        "bmm"),
}


# ---------------------------------------------------------------------------------------------
# What each node is, to the tools


@dataclass(frozen=True)
class Facts:
    """One node as the rules read it. ``kind`` is what torch-side tools see (``""``: nothing
    they count); ``op`` the ONNX op onnx-tool weighs."""

    node: int  # index in the graph
    op: str
    kind: str
    macs: int = 0
    out: int = 0  # output elements
    inp: int = 0  # elements of the data input
    bias: bool = False  # a bias torch's module has (not one the exporter folded in)
    onnx_bias: bool = False  # a bias input in the ONNX node (Conv B, Gemm C)
    kernel: int = 0  # a pool's window area
    reduce: int | None = 0  # a conv's weight dims after the first, multiplied (onnx-tool's)
    params: int | None = 0  # the parameters of the module (a dense layer's weight and bias)
    rows: int = 1  # a LayerNormalization's rows (output elements / normalized size)
    module: bool = True  # torch called it as a module (nn.ReLU), not a function (F.relu)
    exact: bool | None = True  # its module is the exact torch class (None: not known)
    attention: bool = False  # inside an attention module (timm's Attention) whose Linears
    # ptflops leaves out
    batch: int = 1  # the output's first dim (torchinfo counts a dense layer once per batch)
    folded: bool = False  # a BatchNorm the exporter folded into the conv before it


# The kinds torch-side tools tell apart, by ONNX op; others are found from the graph (a dense
# layer is a product with a weight, an attention product one of two activations, SiLU a
# Sigmoid times its input, GELU an Erf).
_KINDS = {
    "Conv": "conv", "ConvTranspose": "conv", "BatchNormalization": "bn",
    "LayerNormalization": "ln", "Relu": "relu", "LeakyRelu": "relu", "PRelu": "relu",
    "Elu": "relu", "Gelu": "gelu", "Erf": "gelu", "Clip": "relu6", "Sigmoid": "sigmoid",
    "Tanh": "tanh", "HardSigmoid": "hardsigmoid", "HardSwish": "hardswish",
    "MaxPool": "maxpool", "AveragePool": "avgpool", "GlobalAveragePool": "gap",
    "GlobalMaxPool": "gmp", "Softmax": "softmax",
}


def _numel(shape: Shape | None) -> int | None:
    return prod(shape) if shape is not None and is_known(shape) else None  # type: ignore[arg-type]


def _reduce(weight: Shape | None) -> int | None:
    """A conv weight's dims after the first, multiplied; None when its shape is unknown."""
    return None if weight is None else _numel(weight[1:])


def _metadata(node: onnx.NodeProto) -> dict[str, str]:
    return {p.key: p.value for p in node.metadata_props} if node.metadata_props else {}


def _classes(node: onnx.NodeProto) -> list[str]:
    """The dynamo exporter's module classes around the node, outermost first ([] when the
    file does not say)."""
    text = _metadata(node).get("pkg.torch.onnx.class_hierarchy", "")
    return [c.strip(" '\"") for c in text.strip("[]").split(",") if c.strip(" '\"")]


def _scope(name: str) -> str:
    """A TorchScript-exporter node's module scope: ``/layer1/layer1.0/relu/Relu`` ->
    ``/layer1/layer1.0/relu``."""
    return name.rpartition("/")[0] if name.startswith("/") else ""


class _Graph:
    """The graph as the facts read it: producers, consumers, constants, shapes, scopes."""

    def __init__(self, loaded: LoadedModel, g: graphmod.Graph) -> None:
        self.g, self.shapes = g, loaded.shapes
        self.scope_kinds: dict[str, set[str]] = {}  # TorchScript scope -> the ops inside it
        for i, name in enumerate(g.names):
            self.scope_kinds.setdefault(_scope(name), set()).add(g.rows.op_types[i])
        self.containers = {_scope(s) for s in self.scope_kinds}  # scopes with scopes inside

    def shape(self, t: str) -> Shape | None:
        return self.shapes.get(t) if t else None

    def producer_op(self, t: str) -> str:
        p = self.g.producer.get(t)
        return self.g.rows.op_types[p] if p is not None else ""

    def producer_inputs(self, t: str) -> tuple[str, ...]:
        p = self.g.producer.get(t)
        return self.g.rows.inputs[p] if p is not None else ()

    def constant(self, t: str) -> bool:
        return t in self.g.constants

    def consumers(self, t: str) -> list[int]:
        return self.g.consumers.get(t, [])


_PRODUCTS = {"Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization",
             "LayerNormalization", "MaxPool", "AveragePool", "GlobalAveragePool"}


def _is_module(node: onnx.NodeProto, name: str, gr: _Graph) -> bool:
    """Whether torch called the op as a module (nn.ReLU) rather than a function (F.relu): the
    dynamo exporter names the module's class; a TorchScript-exporter node is a module's when
    its scope is a leaf (no module inside) that holds no other layer (no product, norm or
    pool): a function called in a module's forward sits beside that module's children."""
    classes = _classes(node)
    if classes:
        return len(classes) >= 3 and classes[-2].startswith(
            ("torch.nn.modules.activation", "torch.nn.modules.pooling"))
    scope = _scope(name)
    return bool(scope) and scope not in gr.containers and not (
        (gr.scope_kinds.get(scope, set()) - {node.op_type}) & _PRODUCTS)


def _exact(node: onnx.NodeProto) -> bool | None:
    """Whether the node's module is torch's own class (``nn.LayerNorm``, not timm's subclass);
    None when the file does not say (the TorchScript exporter)."""
    classes = _classes(node)
    return classes[-2].startswith("torch.nn.modules") if len(classes) >= 2 else None


def _sdpa(i: int, node: onnx.NodeProto, gr: _Graph) -> str:
    """``qk``/``av`` for a product ``scaled_dot_product_attention`` made (the dynamo exporter
    names it; the TorchScript exporter scales both operands by the square root of the scale
    before Q.K^T), ``""`` for a plain product of two activations."""
    fx = _metadata(node).get("pkg.torch.onnx.fx_node", "")
    first = node.input[0]
    after_softmax = gr.producer_op(first) == "Softmax" or (
        gr.producer_op(first) in ("Cast", "Dropout")
        and gr.producer_op(gr.producer_inputs(first)[0]) == "Softmax")
    if "scaled_dot_product_attention" in fx:
        return "av" if after_softmax else "qk"
    scaled = all(gr.producer_op(t) == "Mul" and any(
        gr.producer_op(u) == "Sqrt" for u in gr.producer_inputs(t)) for t in node.input[:2])
    if scaled:
        return "qk"
    if after_softmax:
        scores = gr.producer_inputs(gr.producer_inputs(first)[0] if gr.producer_op(first)
                                    != "Softmax" else first)
        while scores and gr.producer_op(scores[0]) in ("Add", "Where", "Cast"):
            scores = gr.producer_inputs(scores[0])
        p = gr.g.producer.get(scores[0]) if scores else None
        if p is not None and gr.g.rows.op_types[p] == "MatMul" and \
                _sdpa(p, gr.g.nodes[p], gr) == "qk":
            return "av"
    return ""


def _in_attention(node: onnx.NodeProto, name: str, gr: _Graph) -> bool:
    """Whether a product sits in an attention module ptflops has a formula of its own for
    (timm's Attention: its qkv and proj Linears are not added). The dynamo exporter names the
    class; a TorchScript export, the scope: timm's ``attn`` with its Softmax, the product in
    it or in one of its Linears."""
    classes = _classes(node)
    if classes:
        return any(c.endswith("layers.attention.Attention") for c in classes)
    scope = _scope(name)
    return any(s.endswith("/attn") and "Softmax" in gr.scope_kinds.get(s, set())
               for s in (scope, _scope(scope)) if s)


def _macs(i: int, gr: _Graph) -> int | None:
    """A product's MACs, by its registry entry (the counter's own handler)."""
    g = gr.g
    entry = lookup(g.rows.domains[i], g.rows.op_types[i])
    try:
        view = NodeView(g.nodes[i], tuple(map(gr.shape, g.rows.inputs[i])),
                        tuple(map(gr.shape, g.rows.outputs[i])))
        return entry.cost(view).macs  # type: ignore[union-attr,misc]
    except Exception:  # an unknown shape: the figure is unknown (the summary says why)
        return None


def _linear_bias(i: int, gr: _Graph) -> int:
    """The elements of the bias a dense layer's MatMul hands its output to (an Add of a
    1-D constant), 0 when there is none."""
    g = gr.g
    out = g.rows.outputs[i][0]
    for c in gr.consumers(out):
        if g.rows.op_types[c] == "Add":
            other = [t for t in g.rows.inputs[c] if t != out]
            if other and gr.constant(other[0]) and len(gr.shape(other[0]) or ()) == 1:
                return _numel(gr.shape(other[0])) or 0
    return 0


def _product_kind(i: int, gr: _Graph) -> tuple[str, int, bool]:
    """A Gemm's or MatMul's kind (a dense layer, an attention product, a plain product), its
    parameters and whether it has a bias."""
    g = gr.g
    op, ins = g.rows.op_types[i], g.rows.inputs[i]
    weights = [t for t in ins[:2] if gr.constant(t) and len(gr.shape(t) or ()) >= 2]
    if op == "Gemm" or weights:
        bias = _numel(gr.shape(ins[2])) or 0 if op == "Gemm" and len(ins) > 2 and ins[2] \
            else _linear_bias(i, gr) if op == "MatMul" else 0
        return "linear", sum(_numel(gr.shape(t)) or 0 for t in weights) + bias, bool(bias)
    which = _sdpa(i, g.nodes[i], gr) if op == "MatMul" else ""
    return (f"sdpa_{which}" if which else "matmul"), 0, False


def _after_attention(t: str, gr: _Graph) -> bool:
    """Whether ``t`` is the scores of a Q.K^T that scaled_dot_product_attention made (through
    a mask's Add or Where)."""
    g = gr.g
    while gr.producer_op(t) in ("Add", "Where", "Cast"):
        t = gr.producer_inputs(t)[0]
    p = g.producer.get(t)
    return p is not None and g.rows.op_types[p] == "MatMul" and _sdpa(p, g.nodes[p], gr) == "qk"


def _is_silu(i: int, gr: _Graph) -> bool:
    """A Sigmoid whose output multiplies its own input: x * sigmoid(x), SiLU."""
    g = gr.g
    x, out = g.rows.inputs[i][0], g.rows.outputs[i][0]
    return any(g.rows.op_types[c] == "Mul" and x in g.rows.inputs[c] for c in gr.consumers(out))


def _kind(i: int, gr: _Graph) -> tuple[str, int, bool]:
    """(kind, parameters, torch bias) of node ``i``."""
    g = gr.g
    op, ins = g.rows.op_types[i], g.rows.inputs[i]
    if op in ("Gemm", "MatMul", "Einsum"):
        return _product_kind(i, gr) if op != "Einsum" else ("matmul", 0, False)
    if op == "Sigmoid" and _is_silu(i, gr):
        return "silu", 0, False
    if op == "Softmax" and _after_attention(ins[0], gr):
        return "", 0, False  # inside scaled_dot_product_attention: no function of its own
    if op in ("BatchNormalization", "LayerNormalization"):
        return _KINDS[op], sum(_numel(gr.shape(t)) or 0 for t in ins[1:3] if t), False
    if op == "ReduceMean":
        x, y = gr.shape(ins[0]), gr.shape(g.rows.outputs[i][0])
        spatial = x is not None and y is not None and len(x) == 4 and tuple(y[:2]) == \
            tuple(x[:2]) and all(d == 1 for d in y[2:])
        return ("gap" if spatial else ""), 0, False
    if op in ("Conv", "ConvTranspose"):
        return "conv", 0, len(ins) > 2 and bool(ins[2])
    return _KINDS.get(op, ""), 0, False


def _facts_of(i: int, gr: _Graph) -> list[Facts]:
    """The facts of node ``i``: one record, and a second for a BatchNorm the exporter folded
    into it (the dynamo exporter names the BatchNorm's class on the Conv)."""
    g = gr.g
    node, op, name = g.nodes[i], g.rows.op_types[i], g.names[i]
    ins, outs = g.rows.inputs[i], g.rows.outputs[i]
    if g.rows.domains[i] not in ("", "ai.onnx") or not outs or not outs[0]:
        return [Facts(i, op, "")]
    kind, params, bias = _kind(i, gr)
    y = gr.shape(outs[0])
    out, inp = _numel(y), _numel(gr.shape(ins[0])) if ins and ins[0] else 0
    classes = _classes(node)
    folded = kind == "conv" and len(classes) >= 2 and "batchnorm" in classes[-2].lower()
    macs = _macs(i, gr) if kind in ("conv", "linear", "matmul", "sdpa_qk", "sdpa_av") else 0
    axis = next((a.i for a in node.attribute if a.name == "axis"), -1)
    facts = Facts(
        i, op, kind, macs, out, inp, bias=bias and not folded,
        onnx_bias=op in ("Conv", "ConvTranspose", "Gemm") and len(ins) > 2 and bool(ins[2]),
        kernel=prod(next((a.ints for a in node.attribute if a.name == "kernel_shape"), [])),
        reduce=_reduce(gr.shape(ins[1]) if len(ins) > 1 else None) if kind == "conv" else 0,
        params=params, module=_is_module(node, name, gr), exact=_exact(node),
        attention=_in_attention(node, name, gr) if kind.startswith(("linear", "sdpa")) else False,
        batch=y[0] if y and isinstance(y[0], int) else 1,
        rows=(out // (_numel(y[axis:]) or 1)) if kind == "ln" and out and y else 1)
    if not folded:
        return [facts]
    channels = y[1] if y and len(y) > 1 and isinstance(y[1], int) else None
    # its scale and shift; unknown (so is what a rule reads of them) when the width is
    return [facts, Facts(i, "", "bn", out=out, params=None if channels is None else 2 * channels,
                         folded=True)]


def node_facts(loaded: LoadedModel, summary: Summary) -> tuple[list[Facts], dict[int, int]]:
    """Every counted node's facts, and the layer of each node (by its index)."""
    g = graphmod.build(loaded.path, loaded.model.graph, loaded.rows)
    gr = _Graph(loaded, g)
    index = {name: i for i, name in enumerate(g.names)}
    layer_of = {index[n]: li for li, layer in enumerate(summary.layers) for n in layer.nodes
                if n in index}
    facts = [f for i in sorted(layer_of) for f in _facts_of(i, gr)]
    return facts, layer_of


# ---------------------------------------------------------------------------------------------
# The rules, as data: per convention, per kind, the facts summed (each with its factor)

Rule = tuple[tuple[str, int], ...]  # (quantity, factor), summed


def _quantity(f: Facts, name: str) -> int:
    """One quantity of a node's facts, as the rules name them."""
    if name == "macs":
        return f.macs
    if name in ("out", "inp", "params", "rows"):
        return getattr(f, name) * (f.batch if name == "params" else 1)
    if name == "bias":  # a bias torch's module has: one add per output element
        return f.out if f.bias else 0
    if name == "onnx_bias":  # a bias input of the ONNX node
        return f.out if f.onnx_bias else 0
    if name == "out_reduce":  # onnx-tool's conv: each output element times the weight's rest
        return f.out * f.reduce  # type: ignore[operator]
    if name == "kernel":  # a window's area per output element
        return f.kernel * f.out
    if name == "module_out":  # a module's hook and the function it calls both count
        return f.out * (2 if f.module else 1)
    if name == "module_inp":
        return f.inp * (2 if f.module else 1)
    if name == "exact_out":  # dispatch by exact class: a subclass counts nothing
        return f.out if f.exact is not False else 0
    if name == "linear_outside":  # ptflops: an attention module's own Linears are not added
        return 0 if f.attention else f.macs + (f.out if f.bias else 0)
    if name == "attention_qk":  # ptflops' attention formula: Q.K^T and the softmax
        return f.macs + f.out if f.attention else 0
    if name == "attention_av":  # attn.V, and the scaling of Q (one per element of the output)
        return f.macs + f.out if f.attention else 0
    raise KeyError(name)


_MACS: Rule = (("macs", 1),)
_TWICE: Rule = (("macs", 2),)
_BIASED: Rule = (("macs", 1), ("bias", 1))

RULES: dict[Convention, dict[str, Rule]] = {
    # the dispatch-mode counter behind torchvision's published figures: every product
    Convention.TORCHVISION: {k: _MACS for k in ("conv", "linear", "matmul", "sdpa_qk",
                                                 "sdpa_av")},
    Convention.FVCORE: {
        "conv": _MACS, "linear": _MACS, "matmul": _MACS,  # scaled_dot_product_attention: 0
        "bn": (("out", 2),), "ln": (("out", 5),), "gap": (("inp", 1),)},
    Convention.PTFLOPS: {
        "conv": _BIASED, "linear": (("linear_outside", 1),), "matmul": _MACS,
        "sdpa_qk": (("attention_qk", 1),), "sdpa_av": (("attention_av", 1),),
        "bn": (("out", 2),), "ln": (("exact_out", 1),), "silu": (("out", 1),),
        "relu6": (("out", 1),),  # nn.ReLU6's hook; F.hardtanh, which it calls, is not patched
        **{k: (("module_out", 1),) for k in ("relu", "gelu")},
        **{k: (("module_inp", 1),) for k in ("maxpool", "avgpool", "gap", "gmp")}},
    Convention.PTFLOPS_ATEN: {"conv": _BIASED, "linear": _BIASED, "matmul": _MACS},
    Convention.THOP: {
        "conv": _MACS, "linear": _MACS, "bn": (("out", 4),), "ln": (("exact_out", 4),),
        "avgpool": (("out", 1),), "gap": (("inp", 1), ("out", 1))},
    Convention.TORCHINFO: {"conv": _BIASED, "linear": (("params", 1),),
                           "bn": (("params", 1),), "ln": (("params", 1),)},
    Convention.CALFLOPS: {
        "conv": (("macs", 2), ("bias", 1)), "linear": _TWICE, "matmul": _TWICE,
        "bn": (("out", 2),), "ln": (("out", 5),), "softmax": (("inp", 1),),
        **{k: (("out", 1),) for k in ("relu", "gelu", "silu")},  # not F.hardtanh (ReLU6)
        **{k: (("inp", 1),) for k in ("maxpool", "avgpool", "gap", "gmp")}},
    Convention.TORCH_FLOP_COUNTER: {"conv": _TWICE, "linear": _TWICE, "matmul": _TWICE},
}

# onnx-tool weighs each ONNX op (its per-op weights, observed: tests/data/conventions): per
# output element unless said; ops it hides (Reshape, Concat, Gather, ...) and the rest 0.
ONNX_TOOL: dict[str, Rule] = {
    # a ConvTranspose as if it were a Conv: each output unit times its weight's dims after the
    # first (C_out/group x kernel), not C_in x kernel per input unit as it runs
    "Conv": (("macs", 1), ("onnx_bias", 1)), "ConvTranspose": (("out_reduce", 1), ("onnx_bias", 1)),
    "Gemm": (("macs", 1), ("onnx_bias", 1)), "MatMul": _MACS,
    **{op: (("out", 1),) for op in ("Relu", "Add", "Sub", "Mul", "Equal", "Mod")},
    "Clip": (("out", 2),), "HardSigmoid": (("out", 4),), "Div": (("out", 4),),
    "HardSwish": (("out", 5),), "Sqrt": (("out", 24),), "BatchNormalization": (("out", 31),),
    "Sigmoid": (("out", 32),), "Exp": (("out", 32),), "Gelu": (("out", 34),),
    "Softmax": (("out", 36),), "Tanh": (("out", 76),),
    "LayerNormalization": (("out", 7), ("rows", 29)),  # 7 per element, 29 per row
    "MaxPool": (("kernel", 1),), "AveragePool": (("kernel", 1),),
    # a global average: an add per input element, a division (4) per output element
    "GlobalAveragePool": (("inp", 1), ("out", 4)),
    **{op: (("inp", 1),) for op in ("ReduceMean", "ReduceSum", "ReduceProd", "ReduceMin",
                                    "ReduceMax")},
}


def _value(convention: Convention, f: Facts) -> int | None:
    """What ``convention`` counts for one node; None when a fact it needs is unknown."""
    rule = ONNX_TOOL.get(f.op, ()) if convention is Convention.ONNX_TOOL else \
        RULES[convention].get(f.kind, ())
    if convention is Convention.ONNX_TOOL and f.folded:
        rule = ()  # not in the file: onnx-tool never sees it
    try:
        return sum(_quantity(f, q) * k for q, k in rule)
    except TypeError:  # an unknown shape (None) in a quantity it needs
        return None


# ---------------------------------------------------------------------------------------------
# The figures


# How each tool turns its figure into text, as its own code does (the figure is exact; only
# the display rounds, in floats, as the tool does).

def _fvcore(value: int) -> str:
    """fvcore's ``flop_count_table`` (``_format_size``, 3 decimals, trailing zeros dropped):
    ``1.819G``, ``59.65M``, ``0.417M``; the unit is the first whose threshold (1e2, 1e5, 1e8,
    1e11, 1e14) the value exceeds."""
    for threshold, scale, unit in ((1e14, 1e15, "P"), (1e11, 1e12, "T"), (1e8, 1e9, "G"),
                                   (1e5, 1e6, "M"), (1e2, 1e3, "K")):
        if abs(value) > threshold:
            return f"{value / scale:.3f}".rstrip("0").rstrip(".") + unit
    return str(value)


def _ptflops(value: int) -> str:
    """ptflops' ``flops_to_string`` (precision 2): ``str(round(x, 2))``, so ``410.2 MMac``;
    the unit is the largest the value's integer division reaches, up to giga."""
    for k, unit in ((9, "G"), (6, "M"), (3, "K")):
        if value // 10**k > 0:
            return f"{round(value / 10.0**k, 2)} {unit}Mac"
    return f"{value} Mac"


def _calflops(value: int) -> str:
    """calflops' ``number_to_string`` (precision 2) as ``flops_to_string`` prints it:
    ``f"{round(x, 2):g}"``, so ``3.64 GFLOPS`` and ``1 GFLOPS``; units up to tera."""
    for scale, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if value >= scale:
            return f"{round(value / scale, 2):g} {unit}FLOPS"
    return f"{round(value, 2):g} FLOPS"


def _thop(value: int) -> str:
    """thop's ``clever_format(x, "%.3f")``: ``1.824G``, ``416.520K``, ``512.000B``."""
    for scale, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if value > scale:
            return f"{value / scale:.3f}{unit}"
    return f"{value:.3f}B"


def _torchinfo(value: int) -> str:
    """torchinfo's summary line (``format_output_num``): mega below a giga (``0.42``), else
    giga or tera; 2 decimals and thousands separators, none for a whole number. (torchinfo 1.8
    under Python 3.11 prints the unit as ``Units.MEGABYTES``: its enum's name; this is the
    unit it means.)"""
    scale, unit = (1e12, "T") if value >= 1e12 else (1e9, "G") if value >= 1e9 else (1e6, "M")
    converted = value / scale
    shown = f"{int(converted):,d}" if converted.is_integer() else f"{converted:,.2f}"
    return f"Total mult-adds ({unit}): {shown}"


def _flop_counter(value: int) -> str:
    """torch's FlopCounterMode table: the suffix from the number of digits (3628.147M)."""
    suffixes = ("", "K", "M", "B", "T")
    k = max(0, min(len(suffixes) - 1, (len(str(value)) - 2) // 3))
    return f"{value / 1000 ** k:.3f}{suffixes[k]}"


def printed(convention: Convention, total: int | None) -> str:
    """The figure as the tool prints it (its unit, its decimals)."""
    if total is None:
        return "?"
    c = Convention
    forms = {
        c.TORCHVISION: lambda: f"{total / 1e9:.3f} GFLOPS",
        c.FVCORE: lambda: _fvcore(total),
        c.PTFLOPS: lambda: _ptflops(total),
        c.PTFLOPS_ATEN: lambda: _ptflops(total),
        c.THOP: lambda: _thop(total),
        c.TORCHINFO: lambda: _torchinfo(total),
        c.CALFLOPS: lambda: _calflops(total),
        c.ONNX_TOOL: lambda: str(total),
        c.TORCH_FLOP_COUNTER: lambda: _flop_counter(total),
    }
    return forms[convention]()


def _folded_phrase(n: int) -> tuple[str, str]:
    """``20 BatchNorms the exporter folded into their convs are``, or one's; and them or it."""
    if n == 1:
        return "1 BatchNorm the exporter folded into its conv is", "it"
    return f"{n:,} BatchNorms the exporter folded into their convs are", "them"


def _notes(convention: Convention, facts: list[Facts], values: list[int | None]) -> list[str]:
    """What the ONNX file could not say and how the figure dealt with it."""
    name, out = convention.value, []
    folded = [(f, v) for f, v in zip(facts, values, strict=True) if f.folded]
    said, them = _folded_phrase(len(folded))
    if folded and convention is Convention.ONNX_TOOL:
        out.append(f"{said} not in this file, so onnx-tool does not count {them} (on an "
                   f"export that keeps {them}: +{31 * sum(f.out or 0 for f, _ in folded):,})")
    elif folded:
        added = sum(v or 0 for _, v in folded)
        counted = (f"counted as {name} counts a BatchNorm, from the convs' outputs "
                   f"(+{added:,})") if added else f"not counted ({name} counts no BatchNorm)"
        biased = "bias" in str(RULES[convention].get("conv", ()))
        out.append(f"{said} {counted}" + ("; the biases the exporter gave those convs are not: "
                                         "torch's convs have none" if biased else ""))
    sdpa = [f for f in facts if f.kind.startswith("sdpa")]
    if sdpa and not RULES.get(convention, {}).get("sdpa_qk") and convention not in (
            Convention.ONNX_TOOL, Convention.THOP, Convention.TORCHINFO):
        out.append(f"{len(sdpa)} attention products made by scaled_dot_product_attention "
                   f"({sum(f.macs or 0 for f in sdpa):,} MACs) count 0, as {name} counts "
                   "that function")
    unknown = [f for f in facts if f.kind == "ln" and f.exact is None]
    if unknown and convention in (Convention.THOP, Convention.PTFLOPS):
        factor = 4 if convention is Convention.THOP else 1
        out.append(f"{len(unknown):,} LayerNorm{'s' if len(unknown) != 1 else ''} taken to be "
                   f"torch's nn.LayerNorm (the file does not name the class); {name} counts a "
                   f"subclass (timm's) as 0: "
                   f"-{factor * sum(f.out or 0 for f in unknown):,}")
    if convention is Convention.TORCHVISION:
        out.append("torchvision publishes this figure in billions, rounded to 3 decimals")
    return out


def figure(convention: Convention, facts: list[Facts], layer_of: dict[int, int],
           layers: int) -> ConventionFigure:
    """One convention's figure over the counted nodes, per layer and in all."""
    values = [_value(convention, f) for f in facts]
    per_layer: list[int | None] = [0] * layers
    for f, v in zip(facts, values, strict=True):
        li = layer_of[f.node]
        per_layer[li] = None if v is None or per_layer[li] is None else per_layer[li] + v  # type: ignore[operator]
    total = None if None in values else sum(values)  # type: ignore[arg-type]
    return ConventionFigure(convention.value, TOOLS[convention].label, total,
                            printed(convention, total), tuple(per_layer),
                            tuple(_notes(convention, facts, values)), TOOLS[convention].counts)


def figures(loaded: LoadedModel, summary: Summary,
            conventions: Iterable[Convention]) -> tuple[ConventionFigure, ...]:
    """The figures of ``conventions`` for a counted model."""
    facts, layer_of = node_facts(loaded, summary)
    return tuple(figure(c, facts, layer_of, len(summary.layers)) for c in conventions)


def apply(loaded: LoadedModel, summary: Summary,
          conventions: Iterable[Convention]) -> Summary:
    """``summary`` with the figures of ``conventions``."""
    return replace(summary, conventions=figures(loaded, summary, conventions))

