"""One rendering core: the columns, how a cell reads, and the rows of a summary table.

The text, markdown and CSV printers (``render.text``) and the Sphinx docutils table
(``sphinx_ext``) all take their rows from :func:`table_rows`, so every front end prints the same
figures in the same words.
"""

from __future__ import annotations

import difflib
from enum import Enum

from .. import escape
from ..summary import Layer, Summary
from ..shapes import Shape
from ..ops import ANCHORS, RETYPING, ZERO_COST


class Column(str, Enum):
    """The columns a summary table can show; the value is the name users type."""

    LAYER = "layer"
    TYPE = "type"
    OPS = "ops"  # the layer's ONNX ops, where Type shows the framework's class
    OUTPUT = "output"
    PARAMS = "params"
    TRAINABLE_PARAMS = "trainable_params"
    NON_TRAINABLE_PARAMS = "non_trainable_params"
    CONNECTIONS = "connections"
    MACS = "macs"
    FLOPS = "flops"
    RECEPTIVE_FIELD = "receptive_field"
    BACKWARD_MACS = "backward_macs"
    ACTIVATION_BYTES = "activation_bytes"
    CONVENTION = "convention"  # a counting tool's figure (--convention), titled as it names it

    @property
    def title(self) -> str:
        return _TITLES[self]

    @property
    def numeric(self) -> bool:
        return self not in (Column.LAYER, Column.TYPE, Column.OPS, Column.OUTPUT,
                            Column.RECEPTIVE_FIELD)


_TITLES = {
    Column.LAYER: "Layer",
    Column.TYPE: "Type",
    Column.OPS: "ONNX ops",
    Column.OUTPUT: "Output",
    Column.PARAMS: "Params",
    Column.TRAINABLE_PARAMS: "Trainable",
    Column.NON_TRAINABLE_PARAMS: "Non-trainable",
    Column.CONNECTIONS: "Connections",
    Column.MACS: "MACs",
    Column.FLOPS: "FLOPs",
    Column.RECEPTIVE_FIELD: "RF size/stride",
    Column.BACKWARD_MACS: "Backward MACs",
    Column.ACTIVATION_BYTES: "Activation bytes",
    Column.CONVENTION: "Convention",
}

DEFAULT_COLUMNS = (Column.LAYER, Column.TYPE, Column.OUTPUT, Column.PARAMS,
                   Column.CONNECTIONS, Column.MACS)


def parse_columns(text: str | list[str] | tuple[str, ...]) -> tuple[Column, ...]:
    """``"layer, output, params"`` -> columns; an unknown name is a ValueError listing them."""
    names = text.split(",") if isinstance(text, str) else list(text)
    cols = []
    for name in (n.strip().lower().replace("-", "_") for n in names):
        if not name:
            continue
        try:
            cols.append(Column(name))
        except ValueError:
            names = [c.value for c in Column]
            match = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
            hint = f", did you mean {match[0]}?" if match else ""
            raise ValueError(f"unknown column {name!r}{hint} (choose from {', '.join(names)})"
                             ) from None
    if not cols:
        raise ValueError("no columns given")
    return tuple(cols)


def fmt_int(n: int | None) -> str:
    """Thousands separators, exact: 340908 -> '340,908'; a figure not counted reads '?'."""
    return "?" if n is None else f"{n:,}"


_SI = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K"))


def fmt_units(n: int | None) -> str:
    """A count with an SI unit, two decimals, as Keras and torchinfo users read it: 1814073344 ->
    '1.81 G', 60840 -> '60.84 K'; below a thousand, exact."""
    if n is None:
        return "?"
    for size, unit in _SI:
        if abs(n) >= size:
            return f"{n / size:.2f} {unit}"
    return str(n)


def fmt_bytes(n: int | None) -> str:
    """Bytes as Keras prints them (powers of 1024): 243360 -> '237.66 KB'."""
    if n is None:
        return "?"
    value, unit = float(n), "B"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            break
        value /= 1024
    return f"{n} B" if unit == "B" else f"{value:.2f} {unit}"


def fmt_shape(shape: Shape | None, layout: str | None = None) -> str:
    """A shape as the LeNet paper writes it, batch dropped: [1, 6, 28, 28] -> '6@28x28'; with
    its layout known, the channels wherever they are: [1, 26, 26, 32] in NHWC -> '32@26x26'."""
    if shape is None:
        return "?"
    dims = ["?" if d is None else str(d) for d in shape]
    if len(dims) <= 1:
        return "x".join(dims) or "scalar"
    c = layout.index("C") if layout and len(layout) == len(dims) and "C" in layout else 1
    rest = dims[1:]  # drop the batch
    if len(rest) >= 3:  # channels @ spatial dims
        spatial = [d for k, d in enumerate(dims) if k not in (0, c)]
        return f"{dims[c]}@{'x'.join(spatial)}"
    return "x".join(rest)


def layer_shape(layer: Layer) -> str:
    """A layer's output shape in the LeNet notation, read in the layer's layout."""
    return fmt_shape(layer.output_shape, layer.layout)


def fmt_full_shape(shape: Shape | None) -> str:
    """All dims, batch included: [1, 6, 28, 28] -> '1x6x28x28'."""
    if shape is None:
        return "?"
    return "x".join("?" if d is None else str(d) for d in shape) or "scalar"


def fmt_field(field: dict[str, list[int]] | None) -> str:
    """A receptive field as size/stride on the input: '14/2', or '14x10/2x1' when not square."""
    if field is None:
        return "-"

    def side(values: list[int]) -> str:
        return str(values[0]) if len(set(values)) == 1 else "x".join(map(str, values))

    return f"{side(field['size'])}/{side(field['stride'])}"


def layer_type(layer: Layer) -> str:
    """What the layer is: the framework's class where the file names it (``Conv2d``), else the
    ops that make it what it is (its linear/pooling ops, else its costing ops); and the layers
    the exporter folded into it."""
    kind = layer.kind or op_kind(layer)
    if not layer.folded:
        return kind
    if len(layer.folded) == 1:
        return f"{kind} (+{layer.folded[0]} folded)"
    return f"{kind} (+{len(layer.folded)} BatchNorms folded)"


def op_kind(layer: Layer) -> str:
    """The ONNX ops that make the layer what it is."""
    anchors = [op for op in layer.op_types if op in ANCHORS]
    if anchors:
        return "+".join(anchors)
    costing = [op for op in layer.op_types if op not in ZERO_COST and op not in RETYPING]
    return "+".join(costing or [op for op in layer.op_types if op not in RETYPING]
                    or list(layer.op_types))


def cell(layer: Layer, column: Column, units: bool = False) -> str:
    """A layer's cell as every table shows it; names printable and elided (JSON and CSV keep
    them whole)."""
    if column is Column.LAYER:
        return escape.name(layer.name)
    if column is Column.TYPE:
        return escape.name(layer_type(layer))
    if column is Column.OPS:
        return escape.name("+".join(layer.op_types))
    if column is Column.OUTPUT:
        return layer_shape(layer)
    if column is Column.RECEPTIVE_FIELD:
        return fmt_field(layer.receptive_field)
    if column is Column.CONVENTION:  # the summary's, not the layer's: table_rows fills it
        return ""
    return _number(getattr(layer, column.value), column, units)


def _number(n: int | None, column: Column, units: bool) -> str:
    if not units:
        return fmt_int(n)
    return fmt_bytes(n) if column is Column.ACTIVATION_BYTES else fmt_units(n)


def total_cell(summary: Summary, column: Column, units: bool = False) -> str:
    if column is Column.LAYER:
        return "Total"
    if column.numeric and hasattr(summary.totals, column.value):
        return _number(getattr(summary.totals, column.value), column, units)
    return ""


def table_rows(summary: Summary, columns: tuple[Column, ...] = DEFAULT_COLUMNS,
               units: bool = False) -> tuple[list[str], list[list[str]], list[str]]:
    """(header, body rows, totals row) as display strings; ``units``: numbers with an SI unit
    (``1.81 G``), bytes in KB and MB, instead of exact integers."""
    header = [c.title for c in columns]
    body = [[cell(layer, c, units) for c in columns] for layer in summary.layers]
    total = [total_cell(summary, c, units) for c in columns]
    if Column.CONVENTION in columns:  # one tool's figure: its name and label, per layer
        k = columns.index(Column.CONVENTION)
        figure = summary.conventions[0] if len(summary.conventions) == 1 else None
        header[k] = f"{figure.name} {figure.label}" if figure else "Convention"
        values = figure.per_layer if figure else (None,) * len(summary.layers)
        for row, value in zip(body, values, strict=True):
            row[k] = _number(value, Column.CONVENTION, units)
        total[k] = _number(figure.total if figure else None, Column.CONVENTION, units)
    return header, body, total
