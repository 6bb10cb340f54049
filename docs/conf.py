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
exclude_patterns = ["_build", "_generated"]
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


def _lint_rules_table() -> None:
    """docs/_generated/lint_rules.rst: the lint rules' table, from the rules themselves (what
    the CLI's help and SARIF say), written only when it changed (no rebuild otherwise)."""
    from pathlib import Path

    from sphinx_cnncount.lint.codes import Rule

    lines = [".. list-table::", "   :header-rows: 1", "   :widths: 10 25 11 10 44", "",
             "   * - Code", "     - Name", "     - Severity", "     - Default", "     - Finds"]
    for r in Rule:
        lines += [f"   * - {r.code}", f"     - {r.kebab}", f"     - {r.severity.label}",
                  f"     - {'on' if r.default else 'off'}", f"     - {r.summary}"]
    out = Path(__file__).with_name("_generated") / "lint_rules.rst"
    text = "\n".join(lines) + "\n"
    if not out.exists() or out.read_text(encoding="utf-8") != text:
        out.parent.mkdir(exist_ok=True)
        out.write_text(text, encoding="utf-8")


_lint_rules_table()
