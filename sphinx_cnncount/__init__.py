"""sphinx_cnncount: what each layer of an ONNX model does to the data's dimensions, and its cost.

The Python API::

    from sphinx_cnncount import analyze

    summary = analyze("lenet5.onnx")          # depth=, dims=, input_shapes=, input_values=
    print(summary)                            # the table ``cnncount summary`` prints
    summary.totals.params                     # 60840
    summary.layer("C3").connections           # 151600
    summary.records()                         # one plain dict per layer
    summary.to_dataframe()                    # with pandas installed

In Jupyter and IPython a summary shows as the table. Importing the package is cheap: onnx is
imported on first use of :func:`analyze` (or of a name below), Sphinx only by :func:`setup`,
which Sphinx calls when ``"sphinx_cnncount"`` is in a project's ``extensions``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .version import __version__

if TYPE_CHECKING:
    from sphinx.application import Sphinx

    from .api import Summary, analyze
    from .summary import ControlFlow, ConventionFigure, Folding, Formula, Layer, TensorInfo, Term, Totals
    from .shapes import ModelError, SizeRecord
    from .choices import Convention
    from .load import BindingError, Unbound
    from .render import Column
    from .shapes import Diagnostic

# The public names, and the module each lives in (imported when first asked for).
_API = {
    "analyze": "api", "Summary": "api", "Layer": "summary", "Totals": "summary",
    "TensorInfo": "summary", "ControlFlow": "summary", "Diagnostic": "shapes",
    "ModelError": "shapes", "BindingError": "load", "Unbound": "load", "Column": "render",
    "ConventionFigure": "summary", "Folding": "summary", "Formula": "summary", "Term": "summary",
    "SizeRecord": "shapes", "Convention": "choices",
}
__all__ = ["__version__", "setup", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        from importlib import import_module

        value = getattr(import_module(f".{_API[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def setup(app: Sphinx) -> dict[str, Any]:
    from .sphinx_ext import setup as _setup

    return _setup(app)
