"""``cnncount lint --docs``: the .. cnncount:: directives of a Sphinx tree, read without Sphinx."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sphinx_cnncount.lint.cli import main
from sphinx_cnncount.lint.docs import parse_rst, resolve_model, sphinx_defaults

from .conftest import EXAMPLES

PAGE = """\
Title
=====

.. cnncount:: models/lenet5.onnx
   :depth: 1
   :input-shape: image=1x1x32x32
   :columns: layer, params

   C1 params=156 output=6@28x28
   # a comment line
   C3 params=1,500 connections=151,600

An example of the syntax, not a declaration::

   .. cnncount:: models/lenet5.onnx

      C3 params=1

.. code-block:: rst

   .. cnncount:: models/missing.onnx

      C9 params=1

.. note::

   .. cnncount:: /models/keras_cnn.onnx
      :dim: unk__32=1

      total params=101,578
"""


def test_parse_rst_reads_options_content_and_lines():
    d1, d2 = parse_rst(PAGE, "index.rst")  # the two in literal blocks are skipped
    assert (d1.line, d1.model, d1.content_line) == (4, "models/lenet5.onnx", 9)
    assert d1.options == {"depth": "1", "input-shape": "image=1x1x32x32",
                          "columns": "layer, params"}
    assert d1.depth() == 1 and d1.input_shapes() == ["image=1x1x32x32"]
    assert [(d.target, d.key, d.value, d.line) for d in d1.declarations()] == [
        ("C1", "params", "156", 9), ("C1", "output", "6@28x28", 9),
        ("C3", "params", "1,500", 11), ("C3", "connections", "151,600", 11)]
    assert (d2.line, d2.model, d2.dims(), d2.depth()) == (27, "/models/keras_cnn.onnx",
                                                          ["unk__32=1"], None)
    assert [(d.target, d.line) for d in d2.declarations()] == [("total", 30)]


def test_resolve_model_like_sphinx(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (d,) = parse_rst(".. cnncount:: ../models/a.onnx\n", "docs/sub/page.rst")
    assert resolve_model(d, tmp_path / "docs") == "docs/models/a.onnx"
    (d,) = parse_rst(".. cnncount:: /models/a.onnx\n", "docs/sub/page.rst")
    assert resolve_model(d, tmp_path / "docs") == "docs/models/a.onnx"


def test_sphinx_defaults_are_read_not_executed(tmp_path):
    (tmp_path / "conf.py").write_text(
        "import sys\nextensions = ['sphinx_cnncount']\ncnncount_depth = 2\n"
        "cnncount_dims = {'batch': 1}\nraise SystemExit('never run')\n")
    assert sphinx_defaults(tmp_path) == (2, {"batch": 1})


@pytest.fixture
def docs(tmp_path, monkeypatch):
    """A Sphinx source tree with the example models under docs/models/."""
    src = tmp_path / "docs"
    (src / "models").mkdir(parents=True)
    for name in ("lenet5.onnx", "keras_cnn.onnx"):
        shutil.copy(EXAMPLES / name, src / "models" / name)
    (src / "conf.py").write_text("extensions = ['sphinx_cnncount']\n")
    (src / "index.rst").write_text(PAGE)
    (src / "_build").mkdir()
    (src / "_build" / "stale.rst").write_text(".. cnncount:: nowhere.onnx\n\n   C1 params=1\n")
    monkeypatch.chdir(tmp_path)
    return src


def test_docs_findings_point_at_the_rst_line(docs, capsys):
    assert main(["lint", "--docs", "docs", "--isolated"]) == 1
    out = capsys.readouterr().out
    assert out == ("docs/index.rst:11: CNC001 [error] lenet5.onnx: C3: params declared 1,500, model has "
                   "1,516\nFound 1 finding (1 error).\n")


def test_docs_clean_tree_exits_0(docs, capsys):
    page = docs / "index.rst"
    page.write_text(page.read_text().replace("params=1,500", "params=1,516"))
    assert main(["lint", "--docs", "docs", "--isolated"]) == 0
    assert capsys.readouterr().out == "All checks passed.\n"


def test_docs_bad_declarations_are_findings(docs, capsys):
    (docs / "bad.rst").write_text(
        ".. cnncount:: models/lenet5.onnx\n\n   C1 parms=156\n   C3 params=lots\n"
        "   C5 params=48,120\n\n.. cnncount:: models/lenet5.onnx\n   :depth: zero\n\n"
        "   C1 params=156\n")
    assert main(["lint", "--docs", "docs", "--isolated", "--format", "json"]) == 1
    import json

    got = [(f["code"], f["file"], f["line"]) for f in json.loads(capsys.readouterr().out)]
    assert got == [("CNC003", "docs/bad.rst", 3), ("CNC003", "docs/bad.rst", 4),
                   ("CNC003", "docs/bad.rst", 7), ("CNC001", "docs/index.rst", 11)]


def test_docs_unreadable_model_is_exit_2_with_location(docs, capsys):
    (docs / "broken.rst").write_text(".. cnncount:: models/gone.onnx\n\n   C1 params=1\n")
    assert main(["lint", "--docs", "docs", "--isolated"]) == 2
    captured = capsys.readouterr()
    assert captured.err == ""  # said once, in the report
    assert ("docs/broken.rst:1: CNC000 [error] docs/models/gone.onnx: no such file\n"
            in captured.out)
    assert "docs/index.rst:11: CNC001" in captured.out  # the rest is still checked


def test_docs_missing_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["lint", "--docs", "nowhere", "--isolated"]) == 2
    assert capsys.readouterr().err == "cnncount: error: --docs nowhere: no such directory\n"


def test_docs_page_of_this_project_has_no_live_directives():
    page = Path(__file__).resolve().parent.parent / "docs" / "lint.rst"
    assert parse_rst(page.read_text(), str(page)) == []


def test_a_bad_line_hides_none_of_the_others(tmp_path, capsys):
    import shutil

    from sphinx_cnncount.cli import main

    from .conftest import EXAMPLES

    shutil.copyfile(EXAMPLES / "lenet5.onnx", tmp_path / "lenet5.onnx")
    (tmp_path / "index.rst").write_text(
        "P\n=\n\n.. cnncount:: lenet5.onnx\n\n   C1 size=3\n   C3 params=1,500\n"
        '   C5 "unclosed\n', encoding="utf-8")
    assert main(["lint", "--isolated", "--docs", str(tmp_path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    rst = tmp_path / "index.rst"
    assert sorted(line.split(": ", 1)[0] + ": " + line.split(": ", 1)[1].split()[0]
                  for line in lines[:-1]) == [f"{rst}:6: CNC003", f"{rst}:7: CNC001",
                                             f"{rst}:8: CNC003"]


def test_directives_without_declarations_are_still_checked(tmp_path, capsys):
    """What fails the Sphinx build fails lint --docs: a missing model, a bad option."""
    from sphinx_cnncount.cli import main

    (tmp_path / "index.rst").write_text(
        "P\n=\n\n.. cnncount:: missing.onnx\n\n.. cnncount:: missing.onnx\n"
        "   :diagram: pie\n", encoding="utf-8")
    assert main(["lint", "--isolated", "--docs", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    rst = tmp_path / "index.rst"
    assert f"{rst}:6: CNC003 [error] cnncount directive: unknown diagram 'pie'" in out
    assert err == "" and out.startswith(f"{rst}:4: CNC000 [error] ")
    assert out.splitlines()[0].endswith("missing.onnx: no such file")


MYST_PAGE = """\
# Title

```{cnncount} models/lenet5.onnx
:depth: 1
:input-shape: image=1x1x32x32

C1 params=156 output=6@28x28
C3 params=1,500
```

:::{cnncount} /models/keras_cnn.onnx
---
dim: unk__32=1
columns: layer, params
---
total params=101,578
:::

::::{note}
~~~{cnncount} models/lenet5.onnx
C5 params=48,120
~~~
::::

````markdown
```{cnncount} models/missing.onnx
C9 params=1
```
````

```python
# ```{cnncount} models/missing.onnx
```
"""


def test_parse_md_reads_fences_options_and_lines():
    from sphinx_cnncount.lint.docs import parse_md, parse_page

    d1, d2, d3 = parse_md(MYST_PAGE, "index.md")  # the two in code fences are skipped
    assert (d1.line, d1.model, d1.options, d1.content_line) == (
        3, "models/lenet5.onnx", {"depth": "1", "input-shape": "image=1x1x32x32"}, 7)
    assert d1.content == ("C1 params=156 output=6@28x28", "C3 params=1,500")
    assert [(d.line, d.target, d.key) for d in d1.declarations()] == [
        (7, "C1", "params"), (7, "C1", "output"), (8, "C3", "params")]
    assert (d2.line, d2.model, d2.options, d2.content_line) == (
        11, "/models/keras_cnn.onnx", {"dim": "unk__32=1", "columns": "layer, params"}, 16)
    assert (d3.line, d3.model, d3.content) == (20, "models/lenet5.onnx", ("C5 params=48,120",))
    assert parse_page(MYST_PAGE, "page.md") == parse_md(MYST_PAGE, "page.md")
    assert parse_page(PAGE, "page.rst") == parse_rst(PAGE, "page.rst")


def test_docs_reads_markdown_pages(docs, capsys):
    (docs / "myst.md").write_text(MYST_PAGE)
    assert main(["lint", "--docs", "docs", "--isolated", "--format", "json"]) == 1
    import json

    got = [(f["code"], f["file"], f["line"]) for f in json.loads(capsys.readouterr().out)]
    assert got == [("CNC001", "docs/index.rst", 11), ("CNC001", "docs/myst.md", 8)]


def test_an_unclosed_fence_runs_to_the_end():
    from sphinx_cnncount.lint.docs import parse_md

    assert parse_md("```{cnncount} a.onnx\nC1 params=1\n", "x.md")[0].content == (
        "C1 params=1",)
    assert parse_md("```\n```{cnncount} a.onnx\nC1 params=1\n", "x.md") == []
    deep = "".join(f"{':' * (40 - k)}{{note}}\n" for k in range(30)) + "```{cnncount} a\n```\n"
    assert parse_md(deep, "x.md") == []  # nested past MAX_NESTING: taken as literal


def test_markdown_is_read_in_linear_time():
    import time

    from sphinx_cnncount.lint.docs import parse_md

    start = time.monotonic()
    for text in ("```{cnncount} m.onnx" + " " * 100_000 + "x",
                 "```{cnncount} m.onnx\n:depth:" + " " * 100_000 + "x\n```",
                 "```{note}\n" * 20_000, ":::{note}\n```\n" * 10_000, "`" * 100_000,
                 "```{cnncount} m\n---\n" + "a: b\n" * 50_000):
        parse_md(text)
    assert time.monotonic() - start < 2


# ---------------------------------------------------------------------------------------------
# Roles: checked as the Sphinx build resolves them, at their lines

ROLE_PAGE = """\
Roles
=====

C3 has :cnncount:`models/lenet5.onnx:C3.params` parameters; C9 has
:cnncount:`models/lenet5.onnx:C9.params`, C3 has a :cnncount:`models/lenet5.onnx:C3.size`.
A bad one :cnncount:`models/lenet5.onnx C3 params`, a missing model
:cnncount:`models/gone.onnx:C1.params`, the total's shape
:cnncount:`models/lenet5.onnx:total.output`; at depth 2 :cnncount:`models/lenet5.onnx@2:C3.maps.0.params`
and :cnncount:`models/lenet5.onnx@2:C5.maps.0.params`; a dotted path at its own depth
:cnncount:`models/lenet5.onnx:C3.maps.15.params`; a role that wraps :cnncount:`models/lenet5.onnx:C1.output`.

Shown, not used: ``:cnncount:`models/lenet5.onnx:C9.params```.

.. code-block:: rst

   :cnncount:`models/lenet5.onnx:C9.params`

.. note::

   Inside a note: :cnncount:`models/lenet5.onnx:F7.params`.

.. a comment :cnncount:`models/lenet5.onnx:C9.params`
"""

ROLE_MD = """\
# Roles in MyST

C3 has {cnncount}`models/lenet5.onnx:C3.params` and C9 {cnncount}`models/lenet5.onnx:C9.params`;
code: ``{cnncount}`models/lenet5.onnx:C9.params` ``.

```text
{cnncount}`models/lenet5.onnx:C9.params`
```

:::{note}
Total {cnncount}`models/lenet5.onnx:total.params`, bad {cnncount}`models/lenet5.onnx:total.size`.
:::
"""


@pytest.fixture
def role_docs(tmp_path, monkeypatch):
    src = tmp_path / "src"
    (src / "models").mkdir(parents=True)
    shutil.copy(EXAMPLES / "lenet5.onnx", src / "models")
    (src / "conf.py").write_text('extensions = ["sphinx_cnncount", "myst_parser"]\n')
    (src / "index.rst").write_text("Index\n=====\n\n.. toctree::\n\n   roles\n   myst\n")
    (src / "roles.rst").write_text(ROLE_PAGE)
    (src / "myst.md").write_text(ROLE_MD)
    monkeypatch.chdir(src)
    return src


def _sphinx_warnings(src: Path, tmp_path: Path) -> list[tuple[str, str, str]]:
    """(page, subtype, message) of each cnncount warning the Sphinx build gives."""
    import re

    from .helpers import sphinx_build

    text = re.sub(r"\x1b\[[0-9;]*m", "", sphinx_build(src, tmp_path / "out"))  # colours
    return sorted((m.group(1), m.group(3), m.group(2)) for line in text.splitlines()
                  if (m := re.search(r"(\w+\.(?:rst|md)):\d+: WARNING: (.*) \[cnncount\.(\w+)\]$",
                                     line)))


def test_roles_are_checked_as_the_build_checks_them(role_docs, tmp_path, capsys):
    """Each role lint --docs finds wrong, the build warns of, with the same words; lint gives
    the role's own line (docutils locates a role at its paragraph)."""
    pytest.importorskip("myst_parser")
    assert main(["lint", "--isolated", "--docs", "."]) == 2  # a missing model: exit 2
    lines = capsys.readouterr().out.splitlines()
    layers = "C1, S2, C3, S4, C5, F6, OUTPUT"
    keys = ("params, trainable_params, non_trainable_params, connections, macs, flops, "
            "backward_macs, activation_bytes, training_macs, peak_activation_bytes, output, "
            "output_shape, receptive_field")
    deep = ", ".join(["C1", "S2", *(f"C3.maps.{i}" for i in range(16)), "S4", "C5", "F6",
                      "OUTPUT"])
    assert lines == [
        f"myst.md:3: CNC002 [error] cnncount role: models/lenet5.onnx: no layer 'C9' at depth 1 "
        f"(layers: {layers}); another depth: models/lenet5.onnx@DEPTH:C9.params",
        f"myst.md:11: CNC003 [error] cnncount role: unknown key 'size' in "
        f"'models/lenet5.onnx:total.size' (known: {keys})",
        f"roles.rst:5: CNC002 [error] cnncount role: models/lenet5.onnx: no layer 'C9' at depth 1 "
        f"(layers: {layers}); another depth: models/lenet5.onnx@DEPTH:C9.params",
        f"roles.rst:5: CNC003 [error] cnncount role: unknown key 'size' in "
        f"'models/lenet5.onnx:C3.size' (known: {keys})",
        "roles.rst:6: CNC003 [error] cnncount role: expected MODEL:LAYER.KEY or "
        "MODEL@DEPTH:LAYER.KEY (e.g. lenet5.onnx:C3.params), got 'models/lenet5.onnx C3 params'",
        "roles.rst:7: CNC000 [error] models/gone.onnx: no such file",
        "roles.rst:8: CNC003 [error] cnncount role: models/lenet5.onnx: total has no output "
        "shape; quote a layer's",
        f"roles.rst:9: CNC002 [error] cnncount role: models/lenet5.onnx: no layer 'C5.maps.0' at "
        f"depth 2 (layers: {deep}); another depth: models/lenet5.onnx@DEPTH:C5.maps.0.params",
        f"roles.rst:20: CNC002 [error] cnncount role: models/lenet5.onnx: no layer 'F7' at depth "
        f"1 (layers: {layers}); another depth: models/lenet5.onnx@DEPTH:F7.params",
        "Found 9 findings (9 errors).",
    ]
    kinds = {"CNC000": "error", "CNC002": "reference", "CNC003": "reference"}
    linted = sorted((line.split(":")[0], kinds[line.split()[1]],
                     line.split("] ", 1)[1].removeprefix("cnncount role: "))
                    for line in lines[:-1])
    assert _sphinx_warnings(role_docs, tmp_path) == linted


def test_a_symbolic_directive_is_checked_at_the_binding_its_table_shows(tmp_path, capsys):
    """``:symbolic:`` leaves the input's symbols free (the page shows formulas in them and the
    table at the first size they were derived at, sequence=1 for BERT-Tiny): lint checks the
    declared numbers against that table, as the Sphinx build shows it, instead of failing on
    the unbound symbol; a mistyped ``:convention:`` is the directive's error."""
    import shutil

    from sphinx_cnncount.cli import main

    from .conftest import ROOT

    shutil.copyfile(ROOT / "tests/data/symbolic/bert_tiny.dynamo.onnx", tmp_path / "bert.onnx")
    # at sequence=1: 512 + 393,216 + 16,384 MACs (the formula docs/formulas.rst gives)
    (tmp_path / "index.rst").write_text(
        "P\n=\n\n.. cnncount:: bert.onnx\n   :symbolic:\n\n   total macs=410,128\n\n"
        ".. cnncount:: bert.onnx\n   :symbolic:\n\n   total macs=410,112\n\n"
        ".. cnncount:: bert.onnx\n   :convention: fvcroe\n", encoding="utf-8")
    assert main(["lint", "--isolated", "--docs", str(tmp_path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    rst = tmp_path / "index.rst"
    assert [line.split(": ", 1)[0] + ": " + line.split(": ", 1)[1].split()[0]
            for line in lines[:-1]] == [f"{rst}:7: CNC001", f"{rst}:14: CNC003"]
    assert "410,112" in lines[0] and "fvcroe" in lines[1]
