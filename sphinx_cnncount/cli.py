"""``cnncount``: the command-line front end.

Kept thin and cheap to start: onnx, networkx and Sphinx are imported only inside the commands
that need them, so ``cnncount --help`` answers at once. Commands: ``summary``, ``diagram``, and
``lint`` and ``diff`` (lint.cli).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .command import PROG, Parser, add_model_options, guarded
from .lint.cli import register as register_lint
from .version import __version__

if TYPE_CHECKING:
    from .summary import Summary

def analyzed(args: argparse.Namespace) -> Summary:
    """The summary of ``args.model`` with the model options given (and, for ``summary``, the
    conventions and formulas asked for); its notes and warnings said on stderr."""
    from .count import count
    from .escape import message as line
    from .load import load
    from .spelling import parse_dims, parse_input_shapes, parse_input_values
    from .spelling import CLI

    dims, shapes = parse_dims(args.dim), parse_input_shapes(args.input_shape)
    values = parse_input_values(args.input_value)
    chosen = getattr(args, "convention", None)
    if chosen or getattr(args, "symbolic", False):
        summary = _beyond(args, dims, shapes, values, chosen)
    else:
        summary = count(load(args.model, dims, shapes, CLI, input_values=values), args.depth)
    for note in summary.notes:
        print(f"{PROG}: {line(note)}", file=sys.stderr)
    for d in summary.diagnostics:
        print(f"{PROG}: warning: {line(f'{args.model}: {d.message}')}", file=sys.stderr)
    return summary


def _beyond(args: argparse.Namespace, dims: dict[str, int], shapes: dict[str, tuple[int, ...]],
            values: dict[str, tuple[int | float, ...]], chosen: str | None) -> Summary:
    """The summary with a convention's figures (``--convention``) or the formulas in the free
    symbols (``--symbolic``): work a plain summary does not do."""
    from .choices import parse_convention
    from .conventions import apply
    from .count import count
    from .formula import symbolic
    from .load import load
    from .spelling import CLI

    conventions = parse_convention(chosen) if chosen else ()

    def finish(loaded, summary):  # type: ignore[no-untyped-def]
        return apply(loaded, summary, conventions) if conventions else summary

    if args.symbolic:
        return symbolic(args.model, dims, args.depth, CLI, finish=finish, input_shapes=shapes,
                        input_values=values)
    loaded = load(args.model, dims, shapes, CLI, input_values=values)
    return finish(loaded, count(loaded, args.depth))


def summary_command(args: argparse.Namespace) -> int:
    from .render import parse_columns
    from .render.text import CSV_COLUMNS, Format, check_options, render

    from .choices import ALL, parse_convention
    from .render import DEFAULT_COLUMNS, Column

    columns = parse_columns(args.columns) if args.columns is not None else None
    check_options(Format(args.format), columns, args.units)
    one = args.convention is not None and len(parse_convention(args.convention)) == 1
    if columns is not None and Column.CONVENTION in columns and not one:
        raise ValueError("the convention column shows one tool's figure: give --convention "
                         f"NAME (not {ALL})" if args.convention else
                         "the convention column needs --convention NAME")
    if one and columns is None and Format(args.format) is not Format.JSON:
        base = CSV_COLUMNS if Format(args.format) is Format.CSV else DEFAULT_COLUMNS
        columns = (*base, Column.CONVENTION)
    summary = analyzed(args)
    sys.stdout.write(render(summary, Format(args.format), columns, args.units))
    return 0


def diagram_command(args: argparse.Namespace) -> int:
    from .choices import Diagram, Format
    from .render.diagram import render_diagram

    if args.format:
        fmt = Format(args.format)
    else:  # stdout: SVG unless told
        fmt = Format.SVG if args.output == "-" else Format.of_path(args.output)
    summary = analyzed(args)
    width = "auto" if args.width is None else (args.width or None)
    data = render_diagram(summary, summary.edges, Diagram(args.kind), fmt, max_width=width,
                          zoom=args.zoom, natural=args.natural_size)
    if args.output == "-":
        sys.stdout.buffer.write(data)
    else:
        try:
            with open(args.output, "wb") as f:
                f.write(data)
        except OSError as exc:
            raise ValueError(f"cannot write {args.output}: {exc.strerror}") from None
    return 0


# The columns of ``summary --columns``, as render.Column names them (tests/test_cli.py checks
# that the two agree: render imports onnx, which the parser must not wait for).
COLUMNS = ("layer, type, ops, output, params, trainable_params, non_trainable_params, "
           "connections, macs, flops, receptive_field, backward_macs, activation_bytes, "
           "convention")


def build_parser() -> Parser:
    """The ``cnncount`` parser: every subcommand and option, with its help (the CLI reference
    in the documentation is generated from it)."""
    parser = Parser(
        prog=PROG,
        description="Per-layer output shapes, parameters, LeNet connections and MACs of an "
                    "ONNX model, computed from the file itself.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("summary", help="print the per-layer table of a model",
                       description="Print the per-layer table of an ONNX model.")
    p.add_argument("model", help="path to an .onnx file")
    p.add_argument("--format", choices=["table", "json", "csv", "markdown", "html"],
                   default="table",
                   help="table: aligned text, as Keras and torchinfo print it; json: every "
                        "figure, exact, with the tensors' shapes; csv: one row per layer, every "
                        "metric; markdown: a table for a model card or a pull request; html: a "
                        "table element (default: table)")
    p.add_argument("--columns", default=None, metavar="COLS",
                   help="comma-separated (default: layer,type,output,params,connections,macs; "
                        f"CSV: every metric), from: {COLUMNS}")
    p.add_argument("--units", action="store_true",
                   help="numbers with SI units (1.81 G) and bytes in KB/MB in the table, "
                        "markdown and HTML (JSON and CSV stay exact)")
    from .choices import ALL, Convention

    p.add_argument("--convention", choices=[c.value for c in Convention] + [ALL], default=None,
                   metavar="NAME",
                   help="also the figure a counting tool prints for this network, by its "
                        "rules, labelled as it labels it (a column and a line): "
                        + ", ".join(c.value for c in Convention)
                        + f"; {ALL}: every one, in one reconciliation table")
    p.add_argument("--symbolic", action="store_true",
                   help="also params, MACs, FLOPs and activation bytes as exact polynomials "
                        "in the input symbols no --dim binds, with where they hold (the table "
                        "is then at the first binding they were derived at)")
    add_model_options(p)
    p.set_defaults(func=guarded(summary_command))

    from .choices import Diagram, Format

    p = sub.add_parser(
        "diagram", help="draw a model as the LeNet paper's figure, its layer graph or 3D blocks",
        description="Draw an ONNX model: the LeNet-5 paper's Figure 2 for a chain of layers "
                    "(lenet), boxes and edges for a branching one (graph), or 3D blocks as "
                    "PlotNeuralNet and NN-SVG draw them (blocks). SVG and TikZ (.tex) are "
                    "written by cnncount itself; PDF and PNG are converted from the SVG by "
                    "rsvg-convert (librsvg), which must be installed for them.")
    p.add_argument("model", help="path to an .onnx file")
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="the file to write, its format from the suffix: "
                        + ", ".join(f".{f.value}" for f in Format) + " (- for stdout)")
    p.add_argument("--kind", choices=[d.value for d in Diagram if d is not Diagram.NONE],
                   default=Diagram.AUTO.value,
                   help="lenet, graph, blocks, or auto: lenet for a chain, graph for a "
                        "DAG (default: auto)")
    p.add_argument("--format", choices=[f.value for f in Format], default=None,
                   help="the format, when the suffix does not say it")
    p.add_argument("--width", type=int, default=None, metavar="PX",
                   help="the column the figure must stay legible in (its smallest text 9 px): "
                        "a longer chain folds repeated blocks and wraps onto rows, a graph "
                        "onto bands (default: 680; 460 for .tex, a LaTeX article's 345 pt "
                        "column; 0: one row)")
    p.add_argument("--natural-size", action="store_true",
                   help=".tex only: the tikzpicture at its own size (1 px = 0.75 pt) instead "
                        "of scaled down to the line's width when wider")
    p.add_argument("--zoom", type=float, default=2.0, metavar="Z",
                   help="scale of a PNG, pixels per drawing px (default: 2)")
    add_model_options(p)
    p.set_defaults(func=guarded(diagram_command))

    register_lint(sub)
    parser.commands = dict(sub.choices)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:  # `cnncount summary big.onnx | head`
        return 0


def entry() -> None:
    """The ``cnncount`` command: :func:`main` without the cycle collector, then an exit that
    does not free every object one by one.

    A large model makes hundreds of thousands of short-lived objects. They form no cycles
    (reference counting frees them; a 14,000-node summary leaves under a thousand objects in
    cycles), yet the collector would scan them all again and again: a tenth of the run. The
    interpreter's teardown would then free the rest one at a time, another tenth. Once the
    output is flushed nothing is left to do, so the process ends at once, as mypy's does.
    """
    gc.disable()
    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # `cnncount summary big.onnx | head`
        pass
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
