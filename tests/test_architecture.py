"""The shape of the code: data flows one way (read -> infer -> graph -> count -> render and
lint, the front ends on top, the shape vocabulary at the bottom), with no import cycle, lazy
imports inside functions included (a lazy import hides a cycle; it does not remove it), and no
function longer than a screen."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sphinx_cnncount"
LONGEST = 80  # lines


def _modules() -> dict[str, Path]:
    mods = {}
    for p in PACKAGE.rglob("*.py"):
        parts = p.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = p
    return mods


def _typing_only(tree: ast.AST) -> set[int]:
    """The nodes under ``if TYPE_CHECKING:``: imports for annotations, never run."""
    return {id(n) for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for stmt in node.body for n in ast.walk(stmt)}


@functools.lru_cache(maxsize=1)
def import_graph() -> nx.DiGraph:
    """Module -> module it imports, anywhere in the file (top level or inside a function)."""
    mods, g = _modules(), nx.DiGraph()
    g.add_nodes_from(mods)
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _typing_only(tree)
        base = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.ImportFrom):
                parts = base.split(".")
                mod = (".".join(parts[:len(parts) - node.level + 1] + [node.module or ""])
                       .rstrip(".") if node.level else node.module or "")
                subs = [f"{mod}.{a.name}" for a in node.names if f"{mod}.{a.name}" in mods]
                targets = subs + ([mod] if len(subs) < len(node.names) else [])
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            g.add_edges_from((name, t) for t in targets if t in mods and t != name)
    return g


def test_no_import_cycle_lazy_imports_included():
    g = import_graph()
    assert len(g) > 40  # every module was read
    assert sorted(map(sorted, nx.simple_cycles(g))) == []


@pytest.mark.parametrize("core", ["sphinx_cnncount.shapes", "sphinx_cnncount.summary",
                                  "sphinx_cnncount.read", "sphinx_cnncount.infer",
                                  "sphinx_cnncount.graph", "sphinx_cnncount.count",
                                  "sphinx_cnncount.ops"])
def test_the_core_reaches_no_front_end(core):
    """Counting never imports a renderer, the linter, the CLI or Sphinx's extension, however
    indirectly: they adapt the summary's records, not the other way round."""
    reach = nx.descendants(import_graph(), core)
    front = {m for m in reach if m.startswith(("sphinx_cnncount.render", "sphinx_cnncount.lint"))
             or m in ("sphinx_cnncount.cli", "sphinx_cnncount.sphinx_ext", "sphinx_cnncount.api")}
    assert front == set()


def test_the_shape_vocabulary_is_at_the_bottom():
    g = import_graph()
    assert set(g.successors("sphinx_cnncount.shapes")) <= {"sphinx_cnncount.limits"}


def test_no_function_longer_than_a_screen():
    long = [f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name} "
            f"({node.end_lineno - node.lineno + 1} lines)"
            for path in sorted(PACKAGE.rglob("*.py"))
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > LONGEST]
    assert long == []
