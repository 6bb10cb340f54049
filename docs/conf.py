"""Sphinx configuration of sphinx_cnncount's own documentation."""

from sphinx_cnncount import __version__

project = "sphinx-cnncount"
author = "the sphinx-cnncount authors"
copyright = "2025, the sphinx-cnncount authors"
release = version = __version__

extensions = ["sphinx_cnncount", "sphinx.ext.autodoc", "sphinxarg.ext"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"

numfig = True  # numbered tables, for :numref:
# Quotes made typographic, but "--dim" in the CLI reference left as typed (no en dashes).
smartquotes_action = "qe"
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_theme_options = {"page_width": "1100px"}
# The PDF: console output (a diff's 91-column table) set a size smaller so that it keeps its
# columns within the line instead of wrapping them.
latex_elements = {"fvset": r"\fvset{fontsize=\footnotesize}"}

# The defaults of every cnncount directive and role (here: the built-in ones, spelled out).
cnncount_depth = 1
cnncount_columns = "layer, type, output, params, connections, macs"
cnncount_diagram = "auto"
cnncount_dims = {}
