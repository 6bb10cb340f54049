"""sphinx_cnncount: what each layer of an ONNX model does to the data's dimensions, and its cost.

Importing the package is cheap: Sphinx is imported only by :func:`setup`, which Sphinx calls
when ``"sphinx_cnncount"`` is in a project's ``extensions``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from sphinx.application import Sphinx


def setup(app: Sphinx) -> dict[str, Any]:
    from .sphinx_ext import setup as _setup

    return _setup(app)
