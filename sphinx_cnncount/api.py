"""The Python API: :func:`analyze` a model, and a :class:`Summary` that shows itself.

``count.py`` makes the records (``summary.py``); this module adds what a Python user expects of
them, by adapting the renderers: ``str()`` is the table ``cnncount summary`` prints, Jupyter
shows markdown or HTML, and there are ``records()``, ``to_dataframe()``, ``to_markdown()``,
``to_html()`` and ``diagram()``.
"""

from __future__ import annotations

import os
from dataclasses import fields
from typing import Any

from . import summary as records
from .choices import Diagram, Format
from .conventions import Convention, apply, parse_convention
from .count import count
from .formula import symbolic as symbolic_summary
from .load import load
from .render import layer_type
from .render.diagram import render_diagram
from .render.text import html, markdown, table

__all__ = ["Summary", "analyze"]


class Summary(records.Summary):
    """A model's layers and totals, as ``cnncount summary`` shows them. ``str()`` is that table;
    Jupyter and IPython show it as an HTML table."""

    @classmethod
    def of(cls, record: records.Summary) -> Summary:
        """The API's view of a count's record."""
        if isinstance(record, cls):
            return record
        return cls(**{f.name: getattr(record, f.name) for f in fields(record)})

    def __str__(self) -> str:
        return table(self)

    def to_markdown(self, units: bool = False) -> str:
        """The table as GitHub-flavoured markdown (``--format markdown``)."""
        return markdown(self, units=units)

    def to_html(self, units: bool = False) -> str:
        """The table as an HTML fragment (``--format html``)."""
        return html(self, units=units)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        return self.to_html()

    def diagram(self, kind: str = "auto", format: str = "svg", *,
                width: float | None | str = "auto", zoom: float = 2.0,
                natural: bool = False) -> bytes:
        """The LeNet-style figure (``kind`` ``lenet``), the layer graph (``graph``), 3D blocks
        (``blocks``) or whichever fits (``auto``: lenet for a chain, else graph) as the bytes of
        a ``format`` file: ``svg``, ``tex`` (TikZ), or ``pdf`` and ``png`` (converted by
        ``rsvg-convert``, which must be installed). The figure stays legible in a column of
        ``width`` px (``auto``: 680, and a LaTeX article's column for ``tex``): a chain too
        wide folds repeated blocks and wraps; None keeps one row. A ``tex`` figure scales down
        to ``\\linewidth`` when wider, unless ``natural``."""
        return render_diagram(self, self.edges, Diagram(kind), Format(format), max_width=width,
                              zoom=zoom, natural=natural)

    def records(self) -> list[dict[str, Any]]:
        """One plain dict per layer: the JSON interface's layer records, and ``type`` as the
        table shows it."""
        return [{**record, "type": layer_type(layer)}
                for record, layer in zip(self.to_json(tensor_lists=False)["layers"], self.layers,
                                         strict=True)]

    def to_dataframe(self) -> Any:
        """The layers as a pandas DataFrame, one row each (pandas is not a dependency)."""
        try:
            import pandas
        except ImportError:
            raise ImportError("Summary.to_dataframe() needs pandas: pip install pandas") from None
        return pandas.DataFrame.from_records(self.records()).set_index("name")


def analyze(
    path: str | os.PathLike[str],
    depth: int = 1,
    dims: dict[str, int] | None = None,
    input_shapes: dict[str, tuple[int, ...]] | None = None,
    input_values: dict[str, tuple[int | float, ...]] | None = None,
    *,
    convention: str | Convention | None = None,
    symbolic: bool = False,
) -> Summary:
    """Read the ONNX model at ``path`` and count it, layer by layer.

    ``depth``: the module depth a layer is (1: ``layer1``, 2: ``layer1.0``). ``dims`` binds
    symbolic dims (``{"batch": 8}``), ``input_shapes`` gives inputs their whole shape
    (``{"x": (1, 3, 224, 224)}``) and ``input_values`` the value of a small input that is a
    setting (``{"sr": (16000,)}``), as ``--dim``, ``--input-shape`` and ``--input-value`` do.
    A leading symbolic dim left unbound is 1 (said in ``Summary.notes``).

    ``convention``: a counting tool's name (``"fvcore"``, ``"ptflops"``, ... or ``"all"``): its
    figure for the model, in ``Summary.conventions``, as ``--convention`` prints it.
    ``symbolic``: params, MACs, FLOPs and activation bytes as exact polynomials in the free
    symbols (the input symbols ``dims`` leaves unbound): ``Summary.formula("macs")``; the
    figures are then those at the first binding the formulas were derived at (said in
    ``Summary.notes``).

    Raises :class:`~sphinx_cnncount.ModelError` for a file that cannot be counted (its message
    says what is wrong and what to do); ops with no rule are ``Summary.diagnostics`` and leave
    the figures they touch None.
    """
    chosen = parse_convention(convention.value if isinstance(convention, Convention)
                              else convention) if convention is not None else ()

    def finish(loaded, summary):  # type: ignore[no-untyped-def]
        return apply(loaded, summary, chosen) if chosen else summary

    if symbolic:
        return Summary.of(symbolic_summary(path, dims, depth, finish=finish,
                                           input_shapes=input_shapes, input_values=input_values))
    loaded = load(path, dims, input_shapes, input_values=input_values)
    return Summary.of(finish(loaded, count(loaded, depth)))
