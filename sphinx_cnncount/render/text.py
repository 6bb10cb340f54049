"""Plain-text renderings of a Summary: an aligned table, markdown, CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
from json.encoder import encode_basestring_ascii as quote  # what json.dumps uses for a str
from enum import Enum
from typing import Callable

from .. import escape
from ..summary import Folding, Layer, Summary
from ..shapes import all_known
from . import (DEFAULT_COLUMNS, Column, fmt_bytes, fmt_field, fmt_full_shape, fmt_int, layer_type,
               table_rows)


class Format(str, Enum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"
    HTML = "html"


def render(summary: Summary, fmt: Format, columns: tuple[Column, ...] | None = None,
           units: bool = False) -> str:
    """``columns`` None: each format's default (CSV and JSON give every metric). ``units``: the
    table's, markdown's and HTML's numbers with SI units (JSON and CSV are exact integers)."""
    check_options(fmt, columns, units)
    if fmt in (Format.JSON, Format.CSV):
        return _RENDERERS[fmt](summary, columns)
    return _RENDERERS[fmt](summary, columns or DEFAULT_COLUMNS, units)


def check_options(fmt: Format, columns: tuple[Column, ...] | None, units: bool) -> None:
    """ValueError for options the format has no use for (before a model is read)."""
    if columns is not None and fmt is Format.JSON:
        raise ValueError("--columns does not apply to --format json: it has every figure")
    if units and fmt in (Format.JSON, Format.CSV):
        raise ValueError(f"--units does not apply to --format {fmt.value}: its numbers are "
                         "exact integers")


def _inputs_line(summary: Summary) -> str:
    return ", ".join(f"{escape.name(t.name)} {fmt_full_shape(t.shape)}" for t in summary.inputs)


def table(summary: Summary, columns: tuple[Column, ...] = DEFAULT_COLUMNS,
          units: bool = False) -> str:
    """A Keras-summary-like table: aligned columns, a rule, the rows, a totals row, then the
    totals as Keras prints them (with the parameters' size)."""
    header, body, total = table_rows(summary, columns, units)
    widths = [max(len(r[i]) for r in [header, total, *body]) for i in range(len(columns))]

    def line(cells: list[str]) -> str:
        parts = [c.rjust(w) if col.numeric else c.ljust(w)
                 for c, w, col in zip(cells, widths, columns, strict=True)]
        return "  ".join(parts).rstrip()

    rule_width = sum(widths) + 2 * (len(widths) - 1)
    t = summary.totals
    # at most: some data-dependent size counted at its cap
    most = " (an upper bound)" if summary.upper_bound else ""
    out = [
        f'Model: "{escape.printable(summary.model)}"    input: {_inputs_line(summary)}',
        "=" * rule_width,
        line(header),
        "=" * rule_width,
        *(line(r) for r in body),
        "=" * rule_width,
        line(total),
        "=" * rule_width,
        f"Total params: {fmt_int(t.params)} ({fmt_bytes(t.param_bytes)})",
        f"Trainable params: {fmt_int(t.trainable_params)} ({fmt_bytes(t.trainable_param_bytes)})",
        f"Non-trainable params: {fmt_int(t.non_trainable_params)} "
        f"({fmt_bytes(t.non_trainable_param_bytes)})",
        f"Connections: {fmt_int(t.connections)}{most}",
        f"MACs: {fmt_int(t.macs)}{most}",
        f"FLOPs: {fmt_int(t.flops)}{most}",
        f"Training MACs (forward + backward): {fmt_int(t.training_macs)}{most}",
        f"Activation bytes: {fmt_int(t.activation_bytes)} (peak live "
        f"{fmt_int(t.peak_activation_bytes)}){most}",
    ]
    if summary.folding is not None:
        out.append(folding_line(summary.folding))
    out += convention_lines(summary) + formula_lines(summary)
    if summary.status != "complete":
        out.append(partial_line(summary))
    return "\n".join(out) + "\n"


# What the exporter folded away (translated in a Sphinx project: messages.py lists them).
FOLDED = ("Folded at export: {count} BatchNorm ({channels} channels) into the layer before it; "
          "its {trainable} trainable parameters and {stats} running statistics are not in "
          "this file.",
          "Folded at export: {count} BatchNorms ({channels} channels) into the layers before "
          "them; their {trainable} trainable parameters and {stats} running statistics are not "
          "in this file.")
FOLDED_BIASES = ("It stores {biases} bias values for the layers they were folded into (new "
                 "ones, unless those layers had a bias before).")
FOLDED_NO_BIAS = ("It stores no bias for the layers they were folded into (zero biases are "
                  "dropped).")


def folding_line(folding: Folding, gettext: Callable[[str], str] = str,
                 ngettext: Callable[[str, str, int], str] | None = None) -> str:
    """The line that says what the exporter folded away, enough to reconcile the file's params
    with the framework's (torchinfo's, Keras's): the framework counts the BatchNorms' scales
    and shifts and, as buffers, their running statistics; the file stores the folded layers'
    biases, which the folding may have added. ``gettext`` and ``ngettext`` translate it."""
    n = folding.layers
    line = (ngettext(*FOLDED, n) if ngettext else FOLDED[n != 1]).format(
        count=fmt_int(n), channels=fmt_int(folding.channels),
        trainable=fmt_int(folding.trainable_params), stats=fmt_int(folding.running_stats))
    if folding.biases == 0:
        return f"{line} {gettext(FOLDED_NO_BIAS)}"
    if folding.biases is not None:
        return f"{line} {gettext(FOLDED_BIASES).format(biases=fmt_int(folding.biases))}"
    return line


def convention_lines(summary: Summary) -> list[str]:
    """One tool's figure (``--convention NAME``), or every tool's in one reconciliation table
    (``all``): the figure as the tool labels and prints it, and against the MACs."""
    figures = summary.conventions
    if not figures:
        return []
    if len(figures) == 1:
        f = figures[0]
        return [f"{f.name} {f.label}: {fmt_int(f.total)} (as {f.name} prints it: {f.printed})",
                *(f"  note: {escape.printable(n)}" for n in f.notes)]
    macs = summary.totals.macs
    rows = [["Convention", "Label", "Figure", "Printed", "x MACs", "Counts"]]
    for f in figures:
        ratio = f"{f.total / macs:.3f}" if f.total is not None and macs else "?"
        rows.append([f.name, f.label, fmt_int(f.total), f.printed, ratio, f.counts])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = ["", "Counting conventions (what each tool prints for this model):"]
    for r in rows:
        cells = [c.rjust(w) if i in (2, 4) else c.ljust(w)
                 for i, (c, w) in enumerate(zip(r, widths, strict=False))]
        lines.append("  ".join([*cells, r[-1]]).rstrip())
    notes = [f"  {f.name}: {escape.printable(n)}" for f in figures for n in f.notes]
    return lines + (["Notes:", *notes] if notes else [])


def formula_lines(summary: Summary) -> list[str]:
    """The formulas (``--symbolic``), one per metric, and where they hold."""
    if not summary.formulas:
        return []
    where = "; ".join(summary.formula_conditions) or "every binding"
    names = {"params": "Params", "macs": "MACs", "flops": "FLOPs",
             "activation_bytes": "Activation bytes"}
    return ["", f"Formulas (for {where}):",
            *(f"  {names.get(f.metric, f.metric)} = {escape.printable(str(f))}"
              for f in summary.formulas)]


def partial_line(summary: Summary) -> str:
    """The line that ends a partial count's table: what was not counted, and why."""
    return escape.message(f"Partial count: {'; '.join(summary.incomplete)}")


def markdown(summary: Summary, columns: tuple[Column, ...] = DEFAULT_COLUMNS,
             units: bool = False) -> str:
    """A GitHub-flavoured markdown table with a bold totals row; names are text, never markup
    or HTML."""
    header, body, total = table_rows(summary, columns, units)

    def row(cells: list[str]) -> str:
        return "| " + " | ".join(cells) + " |"

    def escaped(cells: list[str]) -> list[str]:
        return [escape.markdown(c) for c in cells]

    align = ["---:" if c.numeric else ":---" for c in columns]
    bold = [f"**{c}**" if c else c for c in escaped(total)]
    return "\n".join([row(escaped(header)), "| " + " | ".join(align) + " |",
                      *(row(escaped(r)) for r in body), row(bold)]) + "\n"


def csv_text(summary: Summary, columns: tuple[Column, ...] | None = None) -> str:
    """Plain values for a spreadsheet: integers without separators, shapes as NxCxHxW, the
    given columns (by default every metric), one row a layer and a totals row."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    cols = columns or CSV_COLUMNS
    w.writerow(["output_shape" if c is Column.OUTPUT else "op_types" if c is Column.OPS
                else c.value for c in cols])
    figure = summary.conventions[0] if len(summary.conventions) == 1 else None
    for i, layer in enumerate(summary.layers):
        w.writerow([escape.spreadsheet(_csv_number(figure.per_layer[i] if figure else None)
                                       if c is Column.CONVENTION else _csv_cell(layer, c))
                    for c in cols])
    w.writerow(["total" if c is Column.LAYER else _csv_number(figure.total if figure else None)
                if c is Column.CONVENTION else _csv_number(getattr(summary.totals, c.value))
                if c.numeric and hasattr(summary.totals, c.value) else "" for c in cols])
    return buf.getvalue()


CSV_COLUMNS = (Column.LAYER, Column.TYPE, Column.OPS, Column.OUTPUT, Column.PARAMS,
               Column.TRAINABLE_PARAMS,
               Column.NON_TRAINABLE_PARAMS, Column.CONNECTIONS, Column.MACS, Column.FLOPS,
               Column.BACKWARD_MACS, Column.ACTIVATION_BYTES, Column.RECEPTIVE_FIELD)


def _csv_cell(layer: Layer, column: Column) -> object:
    if column is Column.LAYER:
        return layer.name
    if column is Column.TYPE:
        return layer_type(layer)
    if column is Column.OPS:
        return "+".join(layer.op_types)
    if column is Column.OUTPUT:
        return fmt_full_shape(layer.output_shape)
    if column is Column.RECEPTIVE_FIELD:  # none (after a Flatten): an empty cell
        return fmt_field(layer.receptive_field) if layer.receptive_field is not None else ""
    return _csv_number(getattr(layer, column.value))


def _csv_number(n: int | None) -> object:
    return "?" if n is None else n


def json_text(summary: Summary, columns: tuple[Column, ...] = DEFAULT_COLUMNS) -> str:
    """The stable JSON interface; exact integers, byte-identical for the same model.

    One top-level key per line, one layer and one tensor per line: readable, diffable, and
    written by json's C encoder (an indented dump of a 14,000-node model is 10x slower).
    """
    def encode(v: object) -> str:
        if type(v) is list:  # a shape: str() of a list of ints is its JSON
            text = str(v)
            if "'" not in text and '"' not in text and "N" not in text:  # no symbol, no None
                return text
        return json.dumps(v)

    def items(key: str, obj: dict | list) -> list[str]:
        if key == "tensors":  # the longest section, every tensor of the model: shapes as tuples
            if all_known(obj.values()):  # type: ignore[union-attr]
                return [f"{quote(k)}: {list(v)}" for k, v in obj.items()]  # type: ignore[union-attr]
            return [f"{quote(k)}: {encode(None if v is None else list(v))}"
                    for k, v in obj.items()]  # type: ignore[union-attr]
        if isinstance(obj, dict):
            return [f"{quote(k)}: {encode(v)}" for k, v in obj.items()]
        return [json.dumps(v) for v in obj]

    lines = ["{"]
    data = summary.to_json(tensor_lists=False)
    for n, (key, value) in enumerate(data.items()):
        comma = "," if n < len(data) - 1 else ""
        if isinstance(value, (dict, list)) and key in ("layers", "tensors", "diagnostics",
                                                       "control_flow", "incomplete",
                                                       "sizes"):
            open_, close = ("{", "}") if isinstance(value, dict) else ("[", "]")
            body = items(key, value)
            if body:
                lines.append(f"  {json.dumps(key)}: {open_}")
                lines.append("    " + ",\n    ".join(body))
                lines.append(f"  {close}{comma}")
            else:
                lines.append(f"  {json.dumps(key)}: {open_}{close}{comma}")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def html(summary: Summary, columns: tuple[Column, ...] = DEFAULT_COLUMNS,
         units: bool = False) -> str:
    """An HTML table (what Jupyter shows): names escaped, numbers right-aligned, the totals in
    bold, and below it the totals lines and, for a partial count, why."""
    header, body, total = table_rows(summary, columns, units)

    def cells(tag: str, row: list[str], strong: bool = False) -> str:
        out = []
        for column, text in zip(columns, row, strict=True):
            style = ' style="text-align: right"' if column.numeric else ""
            content = escape.html(text)
            out.append(f"<{tag}{style}>{f'<b>{content}</b>' if strong and text else content}"
                       f"</{tag}>")
        return "<tr>" + "".join(out) + "</tr>"

    t = summary.totals
    lines = [f"Total params: {fmt_int(t.params)} ({fmt_bytes(t.param_bytes)})",
             f"MACs: {fmt_int(t.macs)}",
             f"FLOPs: {fmt_int(t.flops)}"]
    if summary.folding is not None:
        lines.append(folding_line(summary.folding))
    if summary.status != "complete":
        lines.append(partial_line(summary))
    return "".join([
        '<table class="cnncount-table">',
        f"<caption>{escape.html(escape.printable(summary.model))}: "
        f"{escape.html(_inputs_line(summary))}</caption>",
        "<thead>", cells("th", header), "</thead><tbody>",
        *(cells("td", row) for row in body), cells("td", total, strong=True),
        "</tbody></table>",
        "<p>" + "<br>".join(escape.html(line) for line in lines) + "</p>",
    ])


_RENDERERS = {
    Format.TABLE: table,
    Format.JSON: json_text,
    Format.CSV: csv_text,
    Format.MARKDOWN: markdown,
    Format.HTML: html,
}
