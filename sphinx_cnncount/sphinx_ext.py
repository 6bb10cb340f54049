"""The Sphinx front end: the ``cnncount`` directive and role, the analysis cache, config, setup.

The directive renders a model's summary as a docutils table (so every builder shows it) in a box
of its own that scrolls when the table is wider than the page, and a diagram: a
:class:`cnncount_diagram` node holding the drawing and its description, which the HTML builders
write as inline SVG, EPUB as an SVG image, LaTeX as a TikZ picture, and every other builder as a
line with the description in its place; with a caption it is a numbered figure (``numfig``).
Its content declares numbers that must match the model. The role quotes one figure in running
text. Every failure is a located warning with type ``cnncount`` and a subtype (``error``,
``mismatch``, ``diagnostic``, ``reference``) and the build goes on. The words the extension
writes itself are translated (:mod:`sphinx_cnncount.messages`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter
import hashlib
import html
import math
import os
import pickle
import posixpath
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:
    import fcntl
except ImportError:  # not on Windows: parallel processes may then analyse a model twice
    fcntl = None  # type: ignore[assignment]

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StateMachine
from docutils.utils import column_width
from sphinx import addnodes
from sphinx.config import ENUM
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective, SphinxRole

from . import escape
from .declare import (DeclarationError, check, has_layer, parse_lines, parse_reference, quote,
                      reference_depths)
from .choices import parse_convention
from .layers import parse_depth
from .spelling import parse_dims, parse_input_shapes, parse_input_values
from .version import __version__
from .render import DEFAULT_COLUMNS, Column, parse_columns, table_rows
from .escape import printable
from .messages import (CATALOG, CHAIN, GRAPH, JOINS, LOCALE_DIR, PERMALINK, PLACEHOLDER, SPLITS,
                       TOTAL, _, ngettext)
from .render import fmt_int, fmt_shape
from .render.diagram import MAX_WIDTH, Diagram, Edges, drawing, is_chain, parse_diagram
from .render.drawing import Drawing
from .render.svg import to_svg
from .render.text import folding_line
from .render.tikz import bands, to_latex
from .shapes import ModelError
from .spelling import Spelling, Syntax
from .summary import Layer, Summary, Totals

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sphinx.application import Sphinx
    from sphinx.config import Config
    from sphinx.environment import BuildEnvironment
    from sphinx.util.typing import ExtensionMetadata
    from sphinx.writers.html5 import HTML5Translator
    from sphinx.writers.latex import LaTeXTranslator

    from .summary import TensorInfo

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# Analysis, once per model file version and options in a process


@dataclass(frozen=True)
class Options:
    """What an analysis depends on besides the file."""

    depth: int = 1
    dims: tuple[tuple[str, int], ...] = ()
    input_shapes: tuple[tuple[str, tuple[int, ...]], ...] = ()
    input_values: tuple[tuple[str, tuple[int | float, ...]], ...] = ()
    defaults: tuple[str, ...] = ()  # symbols bound by conf.py's cnncount_dims, not the directive
    conventions: tuple[str, ...] = ()  # :convention: NAME (or all): tools' figures
    symbolic: bool = False  # :symbolic: the formulas in the free symbols


@dataclass(frozen=True)
class Analysis:
    summary: Summary
    edges: Edges  # layer -> layer, for the diagrams


def analysis(path: str, options: Options, cache_dir: str | None = None) -> Analysis:
    """The summary of the model at ``path`` (absolute); raises ModelError or ValueError.

    One analysis per model content and options per build: in memory for the pages one process
    reads, and in ``cache_dir`` (under the doctree directory) for the processes of a parallel
    build, which Sphinx forks before any page is read. Keyed by a hash of the file's bytes, so a
    model replaced by one of the same size and mtime (``cp -p``, ``rsync -a``) is read again.
    """
    return _analyze(*analysis_key(path, options, cache_dir))


def analysis_key(path: str, options: Options, cache_dir: str | None = None
                 ) -> tuple[str, str, Options, str | None]:
    """What an analysis is found by: the file, its content's hash, the options, the cache."""
    digest = model_digest(path)
    if digest is None:
        cache_dir = None  # the loader says what is wrong; nothing is cached for it
    return path, digest or "", options, cache_dir


@functools.lru_cache(maxsize=256)
def _digest(path: str, identity: tuple[int, ...]) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def model_digest(path: str) -> str | None:
    """The sha256 of a regular file's bytes (None if it is not one), hashed once per version of
    the file: its inode, size, mtime and ctime (writing a file always moves its ctime)."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            return None
        return _digest(path, (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
    except OSError:
        return None


# What a stored analysis is made of: a pickle of another shape of these (an older version of
# the code under the same version number) is never read back.
_SCHEMA = repr([(cls.__name__, [f.name for f in dataclasses.fields(cls)])
                for cls in (Summary, Layer, Totals, Analysis)])


@functools.lru_cache(maxsize=64)
def _analyze(path: str, digest: str, options: Options,
             cache_dir: str | None = None) -> Analysis:
    """Keyed by ``digest`` (the file's content) so that an edited model is read again."""
    if cache_dir is None:
        return _compute(path, options)
    key = hashlib.sha256(repr((__version__, _SCHEMA, path, digest, options)).encode()
                         ).hexdigest()[:24]
    stored = Path(cache_dir) / f"{digest[:16]}-{key}.pickle"  # pruned by the model's digest
    stored.parent.mkdir(parents=True, exist_ok=True)
    with open(stored.with_suffix(".lock"), "a") as lock:
        if fcntl is not None:  # the first process analyses, the others wait and read
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(stored, "rb") as f:
                return pickle.load(f)  # written by this build's own processes
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, TypeError):
            pass
        result = _compute(path, options)
        partial = stored.with_suffix(f".{os.getpid()}.tmp")
        with open(partial, "wb") as f:
            pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, stored)
        return result


@functools.lru_cache(maxsize=64)
def _drawing(key: tuple[str, str, Options, str | None], kind: Diagram,
             language: str | None) -> Drawing | None:
    """The drawing of an analysis (``analysis_key``), in ``language``: made once however many
    directives show it (by then the analysis is in memory)."""
    result = _analyze(*key)
    return drawing(kind, result.summary, result.edges, MAX_WIDTH, _)


def directive_options(given: dict[str, Any], config: Any) -> Options:
    """A directive's analysis options: its own, else the conf.py defaults."""
    defaults = _config_dims(config.cnncount_dims)
    own = parse_dims([given["dim"]]) if "dim" in given else {}
    dims = defaults | own
    # Several inputs are separated by spaces or semicolons (a comma may separate dims).
    shapes = parse_input_shapes(given.get("input-shape", "").replace(";", " ").split())
    values = parse_input_values(given.get("input-value", "").replace(";", " ").split())
    chosen = parse_convention(given["convention"]) if given.get("convention") else ()
    return Options(parse_depth(given.get("depth", config.cnncount_depth)),
                   tuple(sorted(dims.items())), tuple(sorted(shapes.items())),
                   tuple(sorted(values.items())), tuple(sorted(set(defaults) - set(own))),
                   tuple(c.value for c in chosen), "symbolic" in given)


def analyze_before_fork(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    """A parallel build reads documents in forked processes, each of which would wait for the
    analysis another one is making (or read it back from the cache files): the models the
    documents name are analysed here, once, before Sphinx forks, so every process starts with
    them in memory. Anything that goes wrong is left for the directive to report."""
    if app.parallel <= 1 or not docnames:
        return
    from .textfiles import FileProblem, read_text
    from .lint.docs import parse_page

    wanted: dict[tuple[str, Options], None] = {}
    for docname in docnames:
        source = os.fspath(env.doc2path(docname))
        try:
            found = parse_page(read_text(source), source)
        except (FileProblem, ValueError, RecursionError):
            continue
        for directive in found:
            try:
                rel, path = env.relfn2path(directive.model.strip(), docname)
                wanted[(os.fspath(path), directive_options(directive.options, app.config))] = None
            except Exception:  # an option the directive will report as it reads the page
                continue
    for path, options in wanted:
        try:
            analysis(path, options, _cache_dir(env))
        except Exception:  # the directive reports it, at its line
            continue


def _compute(path: str, options: Options) -> Analysis:
    # The one place the extension imports onnx (with the loader and the counter): a build whose
    # analyses are all in the cache, or that reads no page, never imports it.
    from .count import count
    from .load import load

    # Messages tell the user how to bind a dim the way the directive does.
    flags = Spelling(Syntax.DIRECTIVE, dict.fromkeys(options.defaults, "conf.py cnncount_dims"))
    if options.conventions or options.symbolic:
        summary = _beyond(path, options, flags)
        return Analysis(summary, summary.edges)
    loaded = load(path, dict(options.dims), dict(options.input_shapes), flags,
                  input_values=dict(options.input_values))
    summary = count(loaded, options.depth)
    return Analysis(summary, summary.edges)


def _beyond(path: str, options: Options, flags: Spelling) -> Summary:
    """The summary with the tools' figures (``:convention:``) or the formulas (``:symbolic:``),
    imported, like the counter, only for a directive that asks for them."""
    from .conventions import Convention, apply
    from .count import count
    from .formula import symbolic
    from .load import load

    chosen = tuple(Convention(c) for c in options.conventions)

    def finish(loaded, summary):  # type: ignore[no-untyped-def]
        return apply(loaded, summary, chosen) if chosen else summary

    if options.symbolic:
        return symbolic(path, dict(options.dims), options.depth, flags, finish=finish,
                        input_shapes=dict(options.input_shapes),
                        input_values=dict(options.input_values))
    loaded = load(path, dict(options.dims), dict(options.input_shapes), flags,
                  input_values=dict(options.input_values))
    return finish(loaded, count(loaded, options.depth))


def _cache_dir(env: BuildEnvironment) -> str:
    return os.path.join(env.doctreedir, "cnncount")


def _failure(rel: str, exc: Exception) -> str:
    """One line for a model that could not be analysed, naming it as the document does."""
    if isinstance(exc, ModelError):
        return f"{rel}: {exc.reason}"
    if isinstance(exc, ValueError):
        return f"{rel}: {exc}"
    return f"{rel}: analysis failed ({type(exc).__name__}: {exc})"


def _model_path(env: BuildEnvironment, text: str) -> tuple[str, str]:
    """(path as written relative to the source dir, absolute path); a dependency of the doc,
    by mtime as Sphinx tracks it and by content (``outdated_by_content``)."""
    rel, path = env.relfn2path(text.strip(), env.docname)
    env.note_dependency(rel)
    path = os.fspath(path)
    models = env.__dict__.setdefault("cnncount_models", {})
    models.setdefault(env.docname, {})[path] = model_digest(path)
    return rel, path


# Which model files (and their content's hash) each document read: a model replaced by one with
# an older mtime must still make its pages outdated. Kept on the environment, so purged and
# merged per document for parallel builds.


def outdated_by_content(app: Sphinx, env: BuildEnvironment, added: set[str],
                        changed: set[str], removed: set[str]) -> list[str]:
    """Documents whose model's bytes changed since they were read (Sphinx compares mtimes)."""
    models: dict[str, dict[str, str | None]] = getattr(env, "cnncount_models", {})
    return [doc for doc, used in models.items()
            if doc not in removed and any(model_digest(p) != d for p, d in used.items())]


def purge_doc(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    getattr(env, "cnncount_models", {}).pop(docname, None)


def merge_info(app: Sphinx, env: BuildEnvironment, docnames: set[str],
               other: BuildEnvironment) -> None:
    mine = env.__dict__.setdefault("cnncount_models", {})
    theirs = getattr(other, "cnncount_models", {})
    mine.update((doc, theirs[doc]) for doc in docnames if doc in theirs)


def start_cache(app: Sphinx) -> None:
    """A fresh environment (``-E``) starts with an empty analysis cache. (A fresh environment
    has read no document yet: ``Sphinx.fresh_env_used`` says the same from Sphinx 7.4 on.)"""
    cache = _cache_dir(app.env)
    if not app.env.all_docs and os.path.isdir(cache):
        shutil.rmtree(cache, ignore_errors=True)


def prune_cache(app: Sphinx, exception: BaseException | None) -> None:
    """Drop the cached analyses of model versions no document uses any more."""
    cache = Path(_cache_dir(app.env))
    if exception is not None or not cache.is_dir():
        return
    used = {d[:16] for models in getattr(app.env, "cnncount_models", {}).values()
            for d in models.values() if d}
    for entry in cache.iterdir():
        if entry.name.partition("-")[0] not in used:
            try:
                entry.unlink()
            except OSError:
                pass


def _config_dims(value: Any) -> dict[str, int]:
    """``cnncount_dims``: a dict ``{"H": 224}`` or strings ``["H=224, W=224"]``."""
    if isinstance(value, dict):
        return parse_dims([f"{k}={v}" for k, v in value.items()])
    return parse_dims([value] if isinstance(value, str) else list(value))


# ---------------------------------------------------------------------------------------------
# The table: docutils nodes, so every builder renders it

NUMERIC = "cnncount-num"  # a numeric cell: right-aligned (by the stylesheet, and LaTeX's spec)
# The formats whose writers show no picture, and lay out a table cell's text as paragraphs.
PLAIN_FORMATS = ("text", "man", "texinfo", "xml", "pseudoxml")


def parse_units(value: str | None) -> bool:
    """``:units:`` alone or ``yes``/``true`` turns units on, ``no``/``false`` off."""
    text = (value or "").strip().lower()
    if text in ("", "yes", "true", "on", "1"):
        return True
    if text in ("no", "false", "off", "0"):
        return False
    raise ValueError(f":units: expects nothing, yes or no, got {value!r}")


def parse_table(value: str | None, captioned: bool = False) -> bool:
    """``:table: no`` draws the diagram alone; ``yes`` (the default), the table too. A caption
    titles the table: with no table, it is an error rather than dropped."""
    try:
        shown = parse_units(value)
    except ValueError:
        raise ValueError(f":table: expects yes or no, got {value!r}") from None
    if not shown and captioned:
        raise ValueError(":caption: titles the table, and :table: no leaves none")
    return shown


class cnncount_row_header(nodes.entry):  # noqa: N801 (docutils names nodes so)
    """A layer's name: the header of its row (``<th scope="row">`` in HTML; elsewhere the
    builder's own cell, which Sphinx's translators find by the class it derives from)."""


def visit_row_header_html(self: HTML5Translator, node: cnncount_row_header) -> None:
    node.parent.column += 1  # as docutils' visit_entry counts the row's cells
    self.body.append(self.starttag(node, "th", "", scope="row"))


def depart_row_header_html(self: HTML5Translator, node: cnncount_row_header) -> None:
    self.body.append("</th>\n")


class cnncount_rows(nodes.General, nodes.Element):  # noqa: N801 (docutils names nodes so)
    """A table's cells, kept as data: ``cells`` (the classes of each column's cells), ``layer``
    (the layer-name column, or -1), ``header``, ``body`` and ``total`` (the rows' texts) and
    ``widths`` (in characters); its one child, the words of the names and types, is what the
    HTML search index reads.

    A table's cells are most of the nodes of a page, and each of them costs in every transform
    that walks the page (two dozen as it is read) and in the writer: kept as data, they are
    written as HTML rows at once (:func:`visit_rows_html`, the markup docutils writes), and made
    the docutils rows the other writers know as the page is written (:class:`TableRows`)."""


# The columns of words the search index keeps (the rest are numbers and shapes).
WORDS = (Column.LAYER, Column.TYPE, Column.OPS)


Cells = tuple[dict[str, Any], str]  # a cnncount_rows node's attributes, and its words


def table_cells(summary: Summary, columns: Sequence[Column], units: bool = False) -> Cells:
    """The table of a summary as data: header, one row per layer, a totals row; ``units``:
    numbers with SI units (1.52 K), as ``cnncount summary --units``. The headers and "Total"
    are in the page's language."""
    header, body, total = table_rows(summary, tuple(columns), units)
    header = [_(title) for title in header]
    total = [_(TOTAL) if c is Column.LAYER else t for c, t in zip(columns, total)]
    # The text builder wraps each cell at its column's width (CJK characters take two), and
    # writes strong text **so**.
    shown = [header, *body, [f"**{t}**" if t else t for t in total]]
    widths = tuple(max(len(r[k]) if r[k].isascii() else column_width(r[k]) for r in shown)
                   for k in range(len(columns)))
    words = " ".join(text for row in body for c, text in zip(columns, row) if c in WORDS)
    return {"cells": tuple((NUMERIC,) if c.numeric else () for c in columns),
            "layer": columns.index(Column.LAYER) if Column.LAYER in columns else -1,
            "header": tuple(header), "body": tuple(map(tuple, body)), "total": tuple(total),
            "widths": widths}, words


@functools.lru_cache(maxsize=256)
def _table_cells(key: tuple[str, str, Options, str | None], columns: tuple[Column, ...],
                 units: bool, language: str | None) -> Cells:
    """The cells of an analysis's table, made once however many directives show it."""
    return table_cells(_analyze(*key).summary, columns, units)


def _plain_table(rows: Sequence[Sequence[str]], widths: Sequence[int], numeric: set[int],
                 classes: Sequence[str]) -> nodes.table:
    """A docutils table of text cells, the first row its header, its columns ``widths`` parts
    of a PDF's line (with the column spec beside it: long cells wrap, none runs into the
    margin)."""
    tgroup = nodes.tgroup(cols=len(rows[0]))
    tgroup.extend(nodes.colspec(colwidth=w) for w in widths)

    def row(cells: Sequence[str]) -> nodes.row:
        return nodes.row("", *(nodes.entry("", nodes.paragraph(c, c), classes=(
            ["cnncount-num"] if k in numeric else [])) for k, c in enumerate(cells)))

    tgroup += nodes.thead("", row(rows[0]))
    tgroup += nodes.tbody("", *(row(r) for r in rows[1:]))
    # the widths are LaTeX's (its column spec); a browser sizes the columns to their text
    return nodes.table("", tgroup, classes=list(classes))


def extras(summary: Summary) -> list[nodes.Node]:
    """What a directive shows below its table: a tool's figure with its notes, the
    reconciliation table of every tool (``:convention: all``), the formulas
    (``:symbolic:``)."""
    out: list[nodes.Node] = []
    figures = summary.conventions
    if len(figures) == 1:
        f = figures[0]
        text = f"{f.name} {f.label}: {fmt_int(f.total)} (as {f.name} prints it: {f.printed})"
        out.append(nodes.paragraph(text, text, classes=["cnncount-convention"]))
    elif figures:
        macs = summary.totals.macs
        # What each tool counts is prose: in the list below the table, which then fits a
        # documentation column (a phone's too) without a word per line.
        rows = [[_("Convention"), _("Label"), _("Figure"), _("Printed"), _("x MACs")]]
        rows += [[f.name, f.label, fmt_int(f.total), f.printed,
                  f"{f.total / macs:.3f}" if f.total is not None and macs else "?"]
                 for f in figures]
        widths, numeric = (22, 20, 22, 22, 14), {2, 4}
        table = _plain_table(rows, widths, numeric, ["cnncount-conventions"])
        # LaTeX: the same widths, numbers right-aligned
        spec = "".join((r">{\raggedleft\arraybackslash}" if k in numeric else
                        r">{\raggedright\arraybackslash}") + rf"\X{{{w}}}{{{sum(widths)}}}"
                       for k, w in enumerate(widths))
        # in a box of its own, which scrolls on a narrow screen (the cells keep their width)
        out.append(nodes.container("", addnodes.tabular_col_spec(spec=spec), table,
                                   classes=["cnncount-table-box"]))
    notes = [n for f in figures
             for n in ([f"{f.name}: {f.counts}"] if len(figures) > 1 else [])
             + [f"{f.name}: {n}" if len(figures) > 1 else n for n in f.notes]]
    if notes:
        out.append(nodes.bullet_list("", *(nodes.list_item("", nodes.paragraph(n, n))
                                           for n in notes)))
    if summary.formulas:
        where = "; ".join(summary.formula_conditions) or _("every binding")
        head = _("Formulas (for {where}):").format(where=where)
        names = {"params": _("Params"), "macs": "MACs", "flops": "FLOPs",
                 "activation_bytes": _("Activation bytes")}
        out.append(nodes.paragraph(head, head, classes=["cnncount-formulas"]))
        out.append(nodes.bullet_list("", *(
            nodes.list_item("", nodes.paragraph(t, t)) for t in
            (f"{names.get(f.metric, f.metric)} = {f}" for f in summary.formulas))))
    return out


def table_node(summary: Summary, columns: Sequence[Column], units: bool = False,
               cells: Cells | None = None) -> nodes.table:
    """The summary as a docutils table, its cells (``table_cells``) kept as data. The layer
    names are row headers; the totals are bold."""
    attributes, words = cells or table_cells(summary, columns, units)
    return nodes.table("", cnncount_rows("", nodes.Text(words), **attributes),
                       classes=["cnncount-table", "colwidths-auto"])


def tgroup_of(node: cnncount_rows) -> nodes.tgroup:
    """The docutils rows of a table's cells: a cell holds its text alone (no paragraph), the
    layer's name is its row's header, the totals are bold."""
    kinds, layer = node["cells"], node["layer"]

    def row(cells: Sequence[str], strong: bool = False, classes: Sequence[str] = (),
            head: bool = False) -> nodes.row:
        tr = nodes.row(classes=list(classes))
        for k, text in enumerate(cells):
            inline = nodes.strong(text, text) if strong and text else nodes.Text(text)
            cell = cnncount_row_header if k == layer and not head else nodes.entry
            tr += cell("", inline, classes=list(kinds[k]))
        return tr

    tgroup = nodes.tgroup(cols=len(kinds))
    tgroup.extend(nodes.colspec(colwidth=w) for w in node["widths"])
    tgroup += nodes.thead("", row(node["header"], head=True))
    tgroup += nodes.tbody("", *(row(cells) for cells in node["body"]),
                          row(node["total"], strong=True, classes=["cnncount-total"]))
    return tgroup


def visit_rows_html(self: HTML5Translator, node: cnncount_rows) -> None:
    """The rows as docutils' and Sphinx's HTML writers write them (``tr.row-odd``, ``th.head``,
    a cell's classes), and a row header for the layer's name."""
    kinds, layer, out = node["cells"], node["layer"], self.body
    index = 0

    def row(cells: Sequence[str], classes: Sequence[str] = (), head: bool = False) -> None:
        nonlocal index
        index += 1
        out.append(f'<tr class="{" ".join([*classes, "row-odd" if index % 2 else "row-even"])}">')
        for k, text in enumerate(cells):
            shown = self.encode(text)
            if classes and text:  # the totals
                shown = f"<strong>{shown}</strong>"
            css = " ".join(["head", *kinds[k]] if head else kinds[k])
            attrs = f' class="{css}"' if css else ""
            if k == layer and not head:
                tag, attrs = "th", attrs + ' scope="row"'
            else:
                tag = "th" if head else "td"
            out.append(f"<{tag}{attrs}>{shown}</{tag}>\n")
        out.append("</tr>\n")

    out.append("<thead>\n")
    row(node["header"], head=True)
    out.append("</thead>\n<tbody>\n")
    for cells in node["body"]:
        row(cells)
    row(node["total"], ["cnncount-total"])
    out.append("</tbody>\n")
    raise nodes.SkipNode


class TableRows(SphinxPostTransform):
    """A table's cells become docutils rows for the writers but HTML's, as the page is written:
    after the post-transforms that walk every node and need not look into a cell (Sphinx's
    references, images and code languages), before those that do (LaTeX's footnotes, 600)."""

    default_priority = 550
    formats = ("latex", *PLAIN_FORMATS)

    def run(self, **kwargs: Any) -> None:
        for node in list(self.document.findall(cnncount_rows)):
            node.replace_self(tgroup_of(node))


LONGTABLE_ROWS = 30  # Sphinx's LaTeX writer makes a longer table a longtable
WIDE_COLUMNS = 6  # a table with more columns is set in a smaller size to fit the page


def latex_colspec(columns: Sequence[Column], widths: Sequence[int], rows: int) -> str:
    """LaTeX's column spec, numbers right-aligned: tabulary's ``L``/``R`` (widths found by
    LaTeX) for a table that fits a page, else columns sized by their longest cell (a longtable
    takes no tabulary letters), in a smaller size."""
    if rows <= LONGTABLE_ROWS:
        small = r">{\small}" if len(columns) > WIDE_COLUMNS else ""
        return "".join(small + ("R" if c.numeric else "L") for c in columns)
    weights = [w + 3 for w in widths]  # + 3: a cell's padding, in characters
    total = sum(weights)
    return "".join((r">{\small\raggedleft\arraybackslash}" if c.numeric else
                    r">{\small\raggedright\arraybackslash}") + rf"\X{{{w}}}{{{total}}}"
                   for c, w in zip(columns, weights))


def table_box(table: nodes.table, columns: Sequence[Column]) -> nodes.container:
    """The table in a box of its own (it scrolls there when wider than the page), after the
    column spec that right-aligns its numbers in LaTeX."""
    cells = table.next_node(cnncount_rows)
    rows = len(cells["body"]) + 2  # the header and the totals
    spec = addnodes.tabular_col_spec(spec=latex_colspec(columns, cells["widths"], rows))
    return nodes.container("", spec, table, classes=["cnncount-table-box"])


class OwnScrollBox(SphinxPostTransform):
    """The table scrolls in its box, and in no other: a container a theme wraps every table in
    (furo's ``table-wrapper``, 6 px wider than its parent, and a scroll box of its own) is
    dissolved inside the box. Such a wrapper also takes a copy of the table's ids, classes and
    names, which would put each id twice in the page."""

    formats = ("html",)
    default_priority = 900  # after the themes' own post-transforms (furo's runs at 500)

    def run(self, **kwargs: Any) -> None:
        for table in list(self.document.findall(nodes.table)):
            wrapper = table.parent
            ours = {"cnncount-table", "cnncount-conventions"} & set(table["classes"])
            if (ours and isinstance(wrapper, nodes.container)
                    and "cnncount-table-box" not in wrapper["classes"]
                    and len(wrapper.children) == 1
                    and isinstance(wrapper.parent, nodes.container)
                    and "cnncount-table-box" in wrapper.parent["classes"]):
                wrapper.replace_self(table)


# ---------------------------------------------------------------------------------------------
# The diagram: one drawing, written by each builder's visitor


class cnncount_diagram(nodes.General, nodes.Element):  # noqa: N801 (docutils names nodes so)
    """A diagram: ``drawing`` (a render.drawing.Drawing whose label is the description, pickled
    with the doctree), ``alt`` (the description) and ``uid`` (the prefix of its SVG ids). A
    ``caption`` child makes it a figure Sphinx numbers (``numfig``), its ``ids`` the target."""


def caption_of(node: nodes.Element) -> nodes.caption | None:
    return next((c for c in node.children if isinstance(c, nodes.caption)), None)


def caption_title(node: cnncount_diagram) -> str | None:
    """What ``:numref:`{name} <target>``` writes for a diagram: its caption (None: the diagram
    has none, and Sphinx gives it no number)."""
    caption = caption_of(node)
    return caption.astext() if caption is not None else None


UID = "\x00uid\x00"  # where a diagram's own id prefix goes, in an SVG written once for many


@functools.lru_cache(maxsize=128)
def _svg(picture: Drawing) -> str:
    """The SVG of a drawing, its ids prefixed with ``UID``: written once per drawing and
    description, however many pages show it."""
    return to_svg(picture, UID)


def svg_of(node: cnncount_diagram) -> str:
    return _svg(node["drawing"]).replace(UID, node["uid"])


def html_figure(self: HTML5Translator, node: cnncount_diagram, picture: str) -> None:
    """A ``<figure>``: the picture in its scroll box, and the caption with its number."""
    self.body.append(self.starttag(node, "figure", "", CLASS="cnncount-diagram-figure"))
    self.body.append(f'<div class="cnncount-figure">{picture}</div>\n')
    caption = caption_of(node)
    if caption is not None:
        self.body.append("<figcaption>\n<p>")
        self.add_fignumber(node)
        self.body.append('<span class="caption-text">')
        for child in caption.children:
            child.walkabout(self)
        self.body.append("</span>")
        self.add_permalink_ref(node, _(PERMALINK))
        self.body.append("</p>\n</figcaption>\n")
    self.body.append("</figure>\n")
    raise nodes.SkipNode


def visit_diagram_html(self: HTML5Translator, node: cnncount_diagram) -> None:
    html_figure(self, node, svg_of(node))


def visit_diagram_epub(self: HTML5Translator, node: cnncount_diagram) -> None:
    """EPUB: the SVG as an image file, as sphinx.ext.graphviz writes one (a page with inline
    SVG must say so in the book's manifest, which Sphinx's EPUB builder does not write)."""
    svg = svg_of(node)
    name = f"cnncount-{hashlib.sha256(svg.encode()).hexdigest()[:16]}.svg"
    folder = os.path.join(self.builder.outdir, self.builder.imagedir)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
        f.write(svg)
    picture = node["drawing"]
    html_figure(self, node, f'<img src="{posixpath.join(self.builder.imgpath, name)}" '
                f'alt="{html.escape(node["alt"])}" width="{math.ceil(picture.width)}" '
                'style="max-width:100%;height:auto" />')


def visit_diagram_latex(self: LaTeXTranslator, node: cnncount_diagram) -> None:
    """A TikZ picture (with pdfLaTeX, characters beyond Latin-1 drawn as ``?``), and the
    caption with its number and the labels :numref: points to."""
    unicode = self.config.latex_engine != "pdflatex"
    picture = node["drawing"]
    caption = caption_of(node)
    # The caption on the picture's page: one box for both, unless the picture takes pages.
    together = caption is not None and len(bands(picture)) == 1
    if together:
        self.body.append("\n\\par\\noindent\\begin{minipage}{\\linewidth}")
    self.body.append(f"\n{to_latex(picture, unicode)}\n")
    if caption is not None:
        self.in_caption += 1
        self.body.append(r"\begin{center}\captionof{figure}{")
        for child in caption.children:
            child.walkabout(self)
        self.body.append("}" + self.hypertarget_to(node) + "\\end{center}\n")
        self.in_caption -= 1
    elif node["ids"]:
        self.body.append(self.hypertarget_to(node) + "\n")
    if together:
        self.body.append("\\end{minipage}\\par\n")
    raise nodes.SkipNode


class PlainCells(SphinxPostTransform):
    """The text, man and texinfo writers lay a cell's text out by its paragraphs."""

    default_priority = TableRows.default_priority + 1
    formats = PLAIN_FORMATS

    def run(self, **kwargs: Any) -> None:
        for table in self.document.findall(nodes.table):
            if "cnncount-table" in table["classes"]:
                for entry in table.findall(nodes.entry):
                    entry[:] = [nodes.paragraph("", "", *entry.children)]


class PlainDiagrams(SphinxPostTransform):
    """Where a picture cannot be shown (text, man, texinfo, XML), a line with its description
    takes its place, and its caption follows as a paragraph."""

    default_priority = 200
    formats = PLAIN_FORMATS

    def run(self, **kwargs: Any) -> None:
        for node in list(self.document.findall(cnncount_diagram)):
            text = _(PLACEHOLDER).format(alt=node["alt"])
            shown: list[nodes.Node] = [nodes.paragraph(text, text, classes=["cnncount-alt"])]
            caption = caption_of(node)
            if caption is not None:
                shown.append(nodes.paragraph(caption.rawsource, "", *caption.children,
                                             ids=node["ids"]))
            node.replace_self(shown)


def diagram_id(env: BuildEnvironment) -> str:
    """The prefix of a diagram's SVG ids, unique in any output that puts pages together
    (singlehtml, EPUB) and the same in every build, serial or parallel: the document's name,
    hashed (it may hold any character), and the diagram's number in the document."""
    doc = hashlib.sha256(env.docname.encode()).hexdigest()[:8]
    return f"cnncount-{doc}-{env.new_serialno('cnncount')}"


def describe(summary: Summary, edges: Edges) -> str:
    """The diagram in words, for those who cannot see it (its alt text and SVG label): the
    model, how many layers, its input and output, and for a model that is no chain where the
    data branches and where branches merge."""
    n = len(summary.layers)
    fill = {"model": printable(summary.model), "count": n, "inputs": _tensors(summary.inputs),
            "outputs": _tensors(summary.outputs)}
    if is_chain(n, edges):
        return ngettext(*CHAIN, n).format(**fill)
    text = ngettext(*GRAPH, n).format(**fill)
    links = {(u, v) for u, v in edges if u != v}
    splits = sum(1 for n_out in Counter(u for u, _ in links).values() if n_out > 1)
    joins = sum(1 for n_in in Counter(v for _, v in links).values() if n_in > 1)
    for phrase, count in ((SPLITS, splits), (JOINS, joins)):
        if count:
            text += " " + ngettext(*phrase, count).format(count=count)
    return text


def _tensors(tensors: Sequence[TensorInfo]) -> str:
    """One tensor by its shape as the table writes it (``1@32x32``); several by name too."""
    if len(tensors) == 1:
        return fmt_shape(tensors[0].shape)
    return ", ".join(f"{printable(t.name)} {fmt_shape(t.shape)}" for t in tensors) or "-"


# ---------------------------------------------------------------------------------------------
# The directive


def _error(message: str) -> nodes.error:
    """The visible side of a failure: an error admonition in the page, for every builder."""
    return nodes.error("", nodes.paragraph("", f"cnncount: {message}"))


class CnncountDirective(SphinxDirective):
    """``.. cnncount:: model.onnx``: the model's table and diagram; content declares numbers."""

    required_arguments = 1
    final_argument_whitespace = True
    has_content = True
    # Values are checked in run(), so that a bad one is a cnncount warning like any other.
    option_spec = {
        "depth": directives.unchanged_required,
        "input-shape": directives.unchanged_required,
        "input-value": directives.unchanged_required,
        "dim": directives.unchanged_required,
        "columns": directives.unchanged_required,
        "units": directives.unchanged,
        "diagram": directives.unchanged_required,
        "kind": directives.unchanged_required,  # the same option, as the CLI's --kind names it
        "table": directives.unchanged,  # no: the diagram alone (a gallery's figure)
        "caption": directives.unchanged_required,
        "name": directives.unchanged,
        "alt": directives.unchanged_required,
        "figure-caption": directives.unchanged_required,
        "figure-name": directives.unchanged_required,
        "class": directives.class_option,
        "convention": directives.unchanged_required,  # a tool's figure, or all of them
        "symbolic": directives.flag,  # the formulas in the free symbols
    }

    def run(self) -> list[nodes.Node]:
        rel, path = _model_path(self.env, self.arguments[0])
        try:
            options = self._options()
            columns = parse_columns(self.options.get("columns", self.config.cnncount_columns))
            kind = parse_diagram(self._kind())
            units = parse_units(self.options["units"]) if "units" in self.options \
                else bool(self.config.cnncount_units)
            with_table = parse_table(self.options.get("table", "yes"), "caption" in self.options)
        except ValueError as exc:
            return self._fail(f"{rel}: {exc}")
        key = analysis_key(path, options, _cache_dir(self.env))
        try:
            result = _analyze(*key)
        except Exception as exc:  # a broken model must not stop the build: report it
            return self._fail(_failure(rel, exc))
        summary = result.summary
        self._check(rel, summary)

        container = nodes.container(classes=["cnncount", *self.options.get("class", [])])
        self.set_source_info(container)
        messages: list[nodes.Node] = []
        try:
            picture = _drawing(key, kind, self.config.language)
        except Exception as exc:  # a drawing bug must not stop the build; the table still shows
            logger.warning(escape.message(f"{rel}: the diagram could not be drawn "
                                          f"({type(exc).__name__}: {exc})"),
                           location=self.get_location(), type="cnncount", subtype="error")
            picture = None
        if picture is not None:
            figure, messages = self._figure(picture, describe(summary, result.edges))
            container += figure
        if not with_table:
            return [container, *messages]
        if len(summary.conventions) == 1 and "columns" not in self.options \
                and Column.CONVENTION not in columns:
            columns = (*columns, Column.CONVENTION)
        cells = _table_cells(key, columns, units, self.config.language)
        table = table_node(summary, columns, units, cells)
        self.set_source_info(table)
        if "caption" in self.options:
            title, said = self._caption(self.options["caption"], nodes.title)
            table.insert(0, title)
            messages += said
        self.add_name(table)
        container += table_box(table, columns)
        if summary.folding is not None:  # what the exporter removed, to reconcile the params
            text = folding_line(summary.folding, _, ngettext)
            container += nodes.paragraph(text, text, classes=["cnncount-folding"])
        container += extras(summary)
        return [container, *messages]

    def _caption(self, text: str, cls: type[nodes.TextElement]
                 ) -> tuple[nodes.TextElement, list[nodes.Node]]:
        inline, messages = self.state.inline_text(text, self.lineno)
        caption = cls(text, "", *inline)
        self.set_source_info(caption)
        return caption, messages

    def _figure(self, picture: Drawing, description: str
                ) -> tuple[cnncount_diagram, list[nodes.Node]]:
        """The diagram node: described by ``:alt:`` or the model, numbered with a
        ``:figure-caption:``, a target with ``:figure-name:``."""
        alt = self.options.get("alt", description)
        node = cnncount_diagram("", drawing=dataclasses.replace(picture, label=alt), alt=alt,
                                uid=diagram_id(self.env))
        self.set_source_info(node)
        messages: list[nodes.Node] = []
        if "figure-caption" in self.options:
            caption, messages = self._caption(self.options["figure-caption"], nodes.caption)
            node += caption
        if "figure-name" in self.options:
            name = nodes.fully_normalize_name(self.options["figure-name"])
            node["names"].append(name)
            self.state.document.note_explicit_target(node, node)
        elif "figure-caption" in self.options:  # numbered: Sphinx numbers what has an id
            node["ids"].append(node["uid"])
        return node, messages

    def _kind(self) -> str:
        """``:kind:`` or ``:diagram:`` (two names of one option), else conf.py's default."""
        if "kind" in self.options and "diagram" in self.options:
            raise ValueError(":kind: and :diagram: are one option: give one of them")
        return self.options.get("kind", self.options.get("diagram",
                                                          self.config.cnncount_diagram))

    def _options(self) -> Options:
        return directive_options(self.options, self.config)

    def _check(self, rel: str, summary: Summary) -> None:
        """Warn for each declared number the model contradicts and each counting diagnostic."""
        for diagnostic in summary.diagnostics:
            logger.warning(escape.message(f"{rel}: {diagnostic.message}"),
                           location=self.get_location(),
                           type="cnncount", subtype="diagnostic")
        if summary.status != "complete":  # the figures shown as ? (or estimated), and why
            logger.warning(escape.message(f"{rel}: the count is partial: "
                                          + "; ".join(summary.incomplete)),
                           location=self.get_location(), type="cnncount", subtype="partial")
        for note in summary.notes:
            logger.verbose(escape.message(f"{rel}: {note}"), location=self.get_location())
        for i, line in enumerate(self.content):  # a bad line hides none of the others
            where = self._content_line(i)
            try:
                mismatches = check(summary, parse_lines([line]))
            except DeclarationError as exc:
                logger.warning(escape.message(f"{rel}: {str(exc).removeprefix('line 1: ')}"),
                               location=where,
                               type="cnncount", subtype="error")
                continue
            for m in mismatches:
                message = m.message
                if m.actual is None:
                    message += f" (layers: {', '.join(layer.name for layer in summary.layers)})"
                logger.warning(escape.message(message), location=where, type="cnncount",
                               subtype="mismatch")

    def _content_line(self, i: int) -> str:
        """``source:line`` of content line ``i``. reST numbers content lines in the document
        (an included file's in that file); MyST numbers them from the content's first line and
        gives ``content_offset`` as the lines between the directive's own and the content."""
        source, offset = self.content.info(i)
        if isinstance(self.state_machine, StateMachine):
            return f"{source}:{offset + 1}"
        return f"{source}:{self.lineno + self.content_offset + 1 + i}"

    def _fail(self, message: str) -> list[nodes.Node]:
        message = escape.message(message)
        logger.warning(message, location=self.get_location(), type="cnncount", subtype="error")
        node = _error(message)
        self.set_source_info(node)
        return [node]


# ---------------------------------------------------------------------------------------------
# The role


class CnncountRole(SphinxRole):
    """``:cnncount:`model.onnx:C3.params``` -> ``1,516``; ``total.<key>``; ``<layer>.output``.

    The layer is looked up at ``cnncount_depth``; ``MODEL@DEPTH:LAYER.KEY`` names the depth,
    and a dotted module path (``layer2.0.downsample``) not found there is looked up at the depth
    it names (one level per part)."""

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        try:
            ref = parse_reference(self.text)
        except DeclarationError as exc:
            return self._fail(str(exc), "reference")
        rel, path = _model_path(self.env, ref.model)
        config = self.config
        try:
            dims = _config_dims(config.cnncount_dims)
            depths = reference_depths(ref, parse_depth(
                config.cnncount_depth if ref.depth is None else ref.depth))
            summary, depth = self._summary(path, depths[0], dims), depths[0]
            for deeper in depths[1:]:  # a dotted module path not found is looked up deeper
                if has_layer(summary, ref.target):
                    break
                candidate = self._summary(path, deeper, dims)
                if has_layer(candidate, ref.target):
                    summary, depth = candidate, deeper
        except Exception as exc:  # a broken model must not stop the build: report it
            return self._fail(_failure(rel, exc), "error")
        try:
            value = quote(summary, ref.target, ref.key)
        except KeyError:
            names = ", ".join(layer.name for layer in summary.layers)
            return self._fail(f"{rel}: no layer {ref.target!r} at depth {depth} (layers: "
                              f"{names}); another depth: {rel}@DEPTH:{ref.target}.{ref.key}",
                              "reference")
        except DeclarationError as exc:
            return self._fail(f"{rel}: {exc}", "reference")
        return [nodes.inline(self.rawtext, value, classes=["cnncount"])], []

    def _summary(self, path: str, depth: int, dims: dict[str, int]) -> Summary:
        options = Options(depth=depth, dims=tuple(sorted(dims.items())),
                          defaults=tuple(sorted(dims)))
        return analysis(path, options, _cache_dir(self.env)).summary

    def _fail(self, message: str, subtype: str
              ) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        logger.warning(escape.message(message), location=self.get_location(), type="cnncount", subtype=subtype)
        return [nodes.problematic(self.rawtext, self.rawtext)], []


# ---------------------------------------------------------------------------------------------

CSS_FILE = "cnncount.css"  # numbers right-aligned, boxes that scroll, the diagrams' colours
STATIC = os.path.join(os.path.dirname(__file__), "static")


def add_static_path(app: Sphinx, config: Config) -> None:
    """Let Sphinx copy the stylesheet ``setup`` links into the output's ``_static``: at
    config-inited, as sphinx.ext.graphviz does, so that the configuration Sphinx compares with
    the last build's already holds the folder (added later, every rebuild would say
    "The configuration has changed")."""
    if STATIC not in config.html_static_path:
        config.html_static_path.append(STATIC)


def setup(app: Sphinx) -> ExtensionMetadata:
    app.add_config_value("cnncount_depth", 1, "env", types=frozenset({int}))
    app.add_config_value("cnncount_columns", ", ".join(c.value for c in DEFAULT_COLUMNS), "env",
                         types=frozenset({str, list, tuple}))
    app.add_config_value("cnncount_units", False, "env", types=frozenset({bool}))
    app.add_config_value("cnncount_diagram", Diagram.AUTO.value, "env",
                         types=ENUM(*(d.value for d in Diagram)))
    app.add_config_value("cnncount_dims", {}, "env", types=frozenset({dict, list, tuple, str}))
    app.add_directive("cnncount", CnncountDirective)
    app.add_role("cnncount", CnncountRole())
    # A figure Sphinx numbers with the others; text, man, texinfo and the rest get its
    # description instead (PlainDiagrams), EPUB an image file. Visitors given for "epub" are
    # the only ones its builder takes: the row header's too.
    app.add_enumerable_node(cnncount_diagram, "figure", caption_title,
                            html=(visit_diagram_html, None), epub=(visit_diagram_epub, None),
                            latex=(visit_diagram_latex, None))
    app.add_node(cnncount_row_header, html=(visit_row_header_html, depart_row_header_html),
                 epub=(visit_row_header_html, depart_row_header_html))
    app.add_node(cnncount_rows, html=(visit_rows_html, None), epub=(visit_rows_html, None))
    app.add_post_transform(TableRows)
    app.add_post_transform(OwnScrollBox)
    app.add_post_transform(PlainDiagrams)
    app.add_post_transform(PlainCells)
    app.add_message_catalog(CATALOG, os.fspath(LOCALE_DIR))
    app.add_css_file(CSS_FILE)
    app.add_latex_package("tikz")  # the diagrams, drawn as TikZ pictures
    app.connect("config-inited", add_static_path)
    app.connect("builder-inited", start_cache)
    app.connect("env-get-outdated", outdated_by_content)
    app.connect("env-before-read-docs", analyze_before_fork)
    app.connect("env-purge-doc", purge_doc)
    app.connect("env-merge-info", merge_info)
    app.connect("build-finished", prune_cache)
    return {
        "version": __version__,
        "env_version": 4,  # 4: tables keep their cells as data; diagrams carry alt
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
