"""The records a count makes: a model's layers and totals, as frozen data.

``count.py`` makes them, the renderers (``render/``), the linter and the Sphinx extension read
them, and the Python API (``api.py``) adds its conveniences around them. This module imports
no renderer: a record is data (it pickles, for parallel Sphinx builds), and ``to_json`` is the
stable machine interface the README documents.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from fractions import Fraction
from typing import Any

from .shapes import Diagnostic, Shape, SizeRecord

__all__ = ["ControlFlow", "ConventionFigure", "Diagnostic", "Folding", "Formula", "Layer", "SizeRecord", "Summary", "TensorInfo",
           "Term", "Totals"]


@dataclass(frozen=True)
class TensorInfo:
    """A graph input or output: its name and shape (batch included)."""

    name: str
    shape: Shape | None


@dataclass(frozen=True)
class Totals:
    """The model's figures; None where some layer's could not be counted."""

    params: int | None
    trainable_params: int | None
    non_trainable_params: int | None
    connections: int | None
    macs: int | None
    flops: int | None
    backward_macs: int | None = 0
    training_macs: int | None = 0  # forward + backward
    activation_bytes: int | None = 0  # every layer's outputs, summed
    peak_activation_bytes: int | None = 0  # the most that is live at once, topological order
    param_bytes: int | None = 0  # what the parameters take as stored (4 per float32, 1 per int8)
    trainable_param_bytes: int | None = 0
    non_trainable_param_bytes: int | None = 0


@dataclass(frozen=True)
class Layer:
    """One row of the summary: the nodes of a module scope (or one node outside any). A figure
    is None when some node of the layer could not be counted."""

    name: str
    op_types: tuple[str, ...]  # distinct, in order of first appearance
    nodes: tuple[str, ...]
    output_shape: Shape | None
    params: int | None
    trainable_params: int | None
    non_trainable_params: int | None
    connections: int | None
    macs: int | None
    flops: int | None
    receptive_field: dict[str, list[int]] | None = None  # {"size": [h, w], "stride": [h, w]}
    backward_macs: int | None = 0  # gradient w.r.t. the input (when needed) and the weights
    activation_bytes: int | None = 0  # bytes of the tensors the layer hands on
    layout: str | None = None  # of the output: "NCHW", "NHWC" ..., where the graph tells
    kind: str | None = None  # the framework's class, where the file names it ("Conv2d")
    folded: tuple[str, ...] = ()  # layers the exporter folded into this one (a BatchNorm)


@dataclass(frozen=True)
class Folding:
    """What an exporter removed by folding BatchNorms into the layers before them (eval-mode
    constant folding): each had 2 trainable parameters (scale, shift) and 2 running statistics
    (mean, variance) per channel, none of which the file stores."""

    layers: int  # BatchNorms folded
    channels: int | None  # their channels, summed (None: a folded layer's width is unknown)
    biases: int | None  # bias values the file stores for the layers they were folded into
    # (each stored tensor once: an untrained model's zero biases may be shared or dropped)

    @property
    def trainable_params(self) -> int | None:
        """The folded BatchNorms' scales and shifts: 2 per channel (None: channels unknown)."""
        return None if self.channels is None else 2 * self.channels

    @property
    def running_stats(self) -> int | None:
        """Their running means and variances, buffers a framework counts as non-trainable."""
        return None if self.channels is None else 2 * self.channels


@dataclass(frozen=True)
class ControlFlow:
    """How a control-flow node was counted: which branch, how many iterations, and whether
    that is exact (``approximation`` None) or a stated guess."""

    node: str
    op_type: str
    layer: str | None
    counted: str  # "then_branch", "else_branch", "body x 12", ...
    reason: str
    approximation: bool = False


@dataclass(frozen=True)
class Term:
    """One term of a formula: an exact coefficient times the symbols to their powers."""

    coefficient: int | Fraction
    powers: tuple[tuple[str, int], ...] = ()  # (symbol, power), as the model spells it

    def __str__(self) -> str:
        c = self.coefficient
        number = f"{c:,}" if isinstance(c, int) else f"({c})"
        factors = [s if p == 1 else f"{s}^{p}" for s, p in self.powers]
        if not factors:
            return number
        return "*".join(factors if c == 1 else [number, *factors])


@dataclass(frozen=True)
class Formula:
    """A metric as an exact polynomial in the model's free symbols (``--symbolic``): ``str()``
    reads ``512*sequence^2 + 393,216*sequence + 16,384``; called with the symbols' values it
    gives the count."""

    metric: str
    terms: tuple[Term, ...]

    def __str__(self) -> str:
        return " + ".join(map(str, self.terms)) or "0"

    def __call__(self, **values: int) -> int | Fraction:
        total: int | Fraction = 0
        for t in self.terms:
            product: int | Fraction = t.coefficient
            for s, p in t.powers:
                product *= values[s] ** p
            total += product
        return int(total) if isinstance(total, Fraction) and total.denominator == 1 else total

    def to_json(self) -> list[list[Any]]:
        """``[[coefficient, {symbol: power}], ...]``; a coefficient that is no integer is the
        string ``"p/q"``."""
        return [[t.coefficient if isinstance(t.coefficient, int) else str(t.coefficient),
                 dict(t.powers)] for t in self.terms]


@dataclass(frozen=True)
class ConventionFigure:
    """A counting tool's headline figure for the model (``--convention``), computed by the
    tool's rules from the counted model: labelled and printed as the tool prints it, per layer
    (aligned with ``Summary.layers``), and what the file could not say (``notes``)."""

    name: str  # the convention: "fvcore", "ptflops", ...
    label: str  # the tool's name for the figure: "flops", "MACs", "Total mult-adds", ...
    total: int | None
    printed: str  # as the tool prints it: "1.819G", "1.83 GMac"
    per_layer: tuple[int | None, ...] = ()
    notes: tuple[str, ...] = ()
    counts: str = ""  # what the tool counts, in a few words

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "total": self.total,
                "printed": self.printed, "notes": list(self.notes)}


@dataclass(frozen=True, repr=False)
class Summary:
    """A model's layers and totals, as ``cnncount summary`` shows them."""

    model: str
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    totals: Totals
    layers: tuple[Layer, ...]
    tensors: dict[str, Shape | None] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    status: str = "complete"  # or "partial": see ``incomplete``
    incomplete: tuple[str, ...] = ()  # what was not counted, or only approximately, and why
    control_flow: tuple[ControlFlow, ...] = ()
    # (from, to) indices into ``layers``: wherever a node of one layer feeds a node of another
    edges: tuple[tuple[int, int], ...] = ()
    folding: Folding | None = None  # BatchNorms the exporter folded away, if any
    # sizes only the data decides (NonMaxSuppression's boxes), by the symbol that binds them
    sizes: tuple[SizeRecord, ...] = ()
    # with --symbolic: the metrics as polynomials in the free symbols, and where they hold
    formulas: tuple[Formula, ...] = ()
    formula_conditions: tuple[str, ...] = ()
    # with --convention: counting tools' figures for the model
    conventions: tuple[ConventionFigure, ...] = ()

    def formula(self, metric: str) -> Formula:
        """The formula of ``metric`` (``"macs"``, ``"params"``, ``"flops"``,
        ``"activation_bytes"``); a KeyError when there is none (not asked for with
        ``symbolic=True``, or no polynomial)."""
        for f in self.formulas:
            if f.metric == metric:
                return f
        raise KeyError(metric)

    @property
    def upper_bound(self) -> bool:
        """Whether the figures are upper bounds: some data-dependent size counted at its cap."""
        return any(s.source == "cap" for s in self.sizes)

    def layer(self, name: str) -> Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    def __repr__(self) -> str:
        t = self.totals
        figures = ", ".join(f"{k}={'?' if v is None else f'{v:,}'}"
                            for k, v in (("params", t.params), ("macs", t.macs)))
        return (f"<Summary of {self.model!r}: {len(self.layers)} layers, {figures}, "
                f"{self.status}>")

    def to_json(self, *, tensor_lists: bool = True) -> dict[str, Any]:
        """The stable machine interface (documented in README.md). ``tensor_lists=False``
        leaves the tensor shapes as tuples (the JSON renderer formats them itself)."""
        def shape(s: Shape | None) -> list[Any] | None:
            return None if s is None else list(s)

        totals = {f.name: getattr(self.totals, f.name) for f in fields(self.totals)}
        single = self.conventions[0] if len(self.conventions) == 1 else None
        if single is not None:  # --convention NAME: the tool's figure, and per layer
            totals["convention"] = single.to_json()
        elif self.conventions:  # --convention all
            totals["conventions"] = [c.to_json() for c in self.conventions]
        return {
            "model": self.model,
            "status": self.status,
            "incomplete": list(self.incomplete),
            "inputs": [{"name": t.name, "shape": shape(t.shape)} for t in self.inputs],
            "outputs": [{"name": t.name, "shape": shape(t.shape)} for t in self.outputs],
            "totals": totals,
            "layers": [
                {**{f.name: getattr(layer, f.name) for f in fields(layer)},
                 "op_types": list(layer.op_types), "nodes": list(layer.nodes),
                 "output_shape": shape(layer.output_shape), "folded": list(layer.folded),
                 **({"convention": single.per_layer[i]} if single is not None else {})}
                for i, layer in enumerate(self.layers)
            ],
            "control_flow": [asdict(c) for c in self.control_flow],
            "sizes": [asdict(s) for s in self.sizes],
            "edges": [list(e) for e in self.edges],
            "folding": None if self.folding is None else {
                **asdict(self.folding), "trainable_params": self.folding.trainable_params,
                "running_stats": self.folding.running_stats},
            "tensors": {name: None if s is None else list(s) for name, s in self.tensors.items()}
            if tensor_lists else self.tensors,
            "diagnostics": [asdict(d) for d in self.diagnostics],
            **({"formulas": {f.metric: f.to_json() for f in self.formulas},
                "formula_conditions": list(self.formula_conditions)}
               if self.formulas else {}),
        }
