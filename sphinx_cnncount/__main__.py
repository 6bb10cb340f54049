"""``python -m sphinx_cnncount`` is the ``cnncount`` command."""

from .cli import entry

entry()
