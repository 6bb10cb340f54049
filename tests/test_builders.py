"""Every builder, with ``-W``, on every Sphinx version ``pyproject.toml`` allows.

These tests use nothing of ``sphinx.testing`` (whose API moved between 7.2 and 9.0): each is
one ``sphinx-build`` run through :func:`sphinx.cmd.build.build_main`. ``.ci/run`` runs this
module a second time in a virtual environment with the oldest Sphinx and docutils the package
allows; the rest of the suite runs with the newest.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sphinx.cmd.build import build_main

from sphinx_cnncount import sphinx_ext

ROOT = Path(__file__).resolve().parent.parent
ROOTS = Path(__file__).resolve().parent / "roots"
MODELS = (ROOT / "examples" / "lenet5.onnx", ROOT / "examples" / "keras_cnn.onnx",
          ROOTS / "test-graph" / "residual.onnx")

# builder -> the file that must hold the LeNet table's total of params, 60,840
BUILDERS = {
    "html": "index.html", "dirhtml": "index.html", "singlehtml": "index.html",
    "epub": "index.xhtml", "latex": "builders.tex", "text": "index.txt", "man": "builders.1",
    "texinfo": "builders.texi", "xml": "index.xml", "gettext": None,
}


def project(where: Path, root: str = "test-builders") -> Path:
    """A copy of ``tests/roots/<root>`` with the models its pages name in ``models/``."""
    src = where / "src"
    shutil.copytree(ROOTS / root, src)
    (src / "models").mkdir(exist_ok=True)
    for model in MODELS:
        shutil.copyfile(model, src / "models" / model.name)
    return src


def sphinx_build(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """``sphinx-build -q ARGS`` in this process: (exit status, what it wrote to stderr)."""
    capsys.readouterr()
    rc = build_main(["-q", *args])
    return rc, re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().err)


@pytest.mark.parametrize("builder", BUILDERS)
def test_every_builder_builds_with_W(builder: str, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    src = project(tmp_path)
    out = tmp_path / "out"
    rc, err = sphinx_build(capsys, "-W", "-b", builder, "-d", str(tmp_path / "doctrees"),
                           str(src), str(out))
    assert (rc, err) == (0, "")
    if BUILDERS[builder]:
        text = (out / BUILDERS[builder]).read_text(encoding="utf8")
        assert f"{(5 * 5 * 1 + 1) * 6:,}" in text  # C1's params, the table is there
        assert "60,840" in text.replace(r"\sphinxhyphen{}", "")
    else:
        assert "LeNet-5, layer by layer" in (out / "index.pot").read_text(encoding="utf8")


def test_parallel_html_builds_with_W(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = project(tmp_path)
    rc, err = sphinx_build(capsys, "-W", "-j", "2", "-b", "html", str(src), str(tmp_path / "out"))
    assert (rc, err) == (0, "")


def test_a_fresh_environment_empties_the_analysis_cache(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    """``-E`` starts afresh: the stored analyses go, and the build stores its own anew."""
    src = project(tmp_path)
    doctrees = tmp_path / "doctrees"
    args = ["-b", "html", "-d", str(doctrees), str(src), str(tmp_path / "out")]
    assert sphinx_build(capsys, *args) == (0, "")
    cache = doctrees / "cnncount"
    kept = sorted(cache.glob("*.pickle"))
    stale = cache / f"{kept[0].name.partition('-')[0]}-stale.pickle"  # a model still in use
    stale.write_bytes(b"")
    assert sphinx_build(capsys, *args) == (0, "")
    assert stale.exists()  # nothing read: the cache is left as it is
    sphinx_ext._analyze.cache_clear()  # as in a new sphinx-build process
    assert sphinx_build(capsys, "-E", *args) == (0, "")
    assert not stale.exists()
    # one analysis per model and options: lenet5 twice (the directive's :input-shape:, the
    # role's conf defaults), residual and keras_cnn once each
    assert sorted(cache.glob("*.pickle")) == kept and len(kept) == 4


def test_a_rebuild_that_changes_nothing_says_nothing_changed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No "The configuration has changed (1 option: 'html_static_path')" (Sphinx 7.3 and
    later print it when an extension edits the configuration after Sphinx compared it)."""
    src = project(tmp_path)
    args = ["-b", "html", str(src), str(tmp_path / "out")]
    assert build_main(args) == 0
    capsys.readouterr()
    assert build_main(args) == 0
    said = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)
    assert "configuration has changed" not in said
    assert "0 added, 0 changed, 0 removed" in said


def test_ids_are_unique_in_a_single_page_of_every_document(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """singlehtml puts every document in one page: each diagram's ids are its own there, and
    every ``url(#id)`` of a diagram points into that diagram."""
    src = project(tmp_path)
    assert sphinx_build(capsys, "-b", "singlehtml", str(src), str(tmp_path / "out")) == (0, "")
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf8")
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
    svgs = re.findall(r"<svg .*?</svg>", page, re.S)
    assert len(svgs) == 4  # two pages, two diagrams each
    for svg in svgs:
        own = set(re.findall(r'\bid="([^"]+)"', svg))
        assert set(re.findall(r"url\(#([^)]+)\)", svg)) <= own
    # LeNet-5's and both layer graphs' arrow heads, each with its own id
    arrows = [i for i in ids if i.endswith("-arrow")]
    assert len(arrows) == len(set(arrows)) == 3


# One sphinx-build in a fresh process; says which of the heavy modules it imported.
DRIVER = """\
import os, sys, time
from sphinx.cmd.build import build_main
src = sys.argv[1]
if sys.argv[2] == "touch":  # every page read again; the models unchanged
    later = time.time() + 1
    for page in os.listdir(src):
        if page.endswith(".rst"):
            os.utime(os.path.join(src, page), (later, later))
rc = build_main(["-q", "-b", "html", src, os.path.join(src, "_build")])
print(rc, sorted(m for m in ("onnx", "numpy", "networkx") if m in sys.modules))
"""


def test_a_rebuild_from_cached_analyses_imports_no_onnx(tmp_path: Path) -> None:
    """The analyses are kept beside the doctrees, keyed by the models' content: a build that
    reads pages whose models did not change takes them from there, and never imports onnx."""
    import subprocess
    import sys

    src = project(tmp_path)

    def build(how: str) -> str:
        done = subprocess.run([sys.executable, "-c", DRIVER, str(src), how], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300, check=True)
        assert "WARNING" not in done.stderr, done.stderr
        return done.stdout.strip()

    assert build("first") == "0 ['networkx', 'numpy', 'onnx']"  # analysed: a graph is drawn
    assert build("again") == "0 []"  # nothing to read
    assert build("touch") == "0 ['networkx']"  # every page read: the residual graph is drawn


def epubcheck() -> list[str] | None:
    """The command that runs epubcheck (Debian's is a jar that binfmt may not run), or None."""
    found = shutil.which("epubcheck")
    if found is None or shutil.which("java") is None:
        return None
    with open(found, "rb") as f:
        jar = f.read(2) == b"PK"
    return ["java", "-jar", found] if jar else [found]


@pytest.mark.skipif(epubcheck() is None, reason="epubcheck (and java) not installed; .ci/run "
                                                "installs it")
def test_epub_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """epubcheck finds nothing wrong in a book whose pages hold diagrams (inline SVG would
    need a property Sphinx's EPUB builder does not declare: OPF-014)."""
    import subprocess
    import zipfile

    src = project(tmp_path)
    out = tmp_path / "epub"
    assert sphinx_build(capsys, "-W", "-b", "epub", "-d", str(tmp_path / "doctrees"), str(src),
                        str(out)) == (0, "")
    book = out / "builders.epub"
    with zipfile.ZipFile(book) as z:
        images = [n for n in z.namelist() if n.endswith(".svg")]
        pages = {n: z.read(n).decode() for n in z.namelist() if n.endswith(".xhtml")}
    assert len(images) == 4  # four diagrams, each its own file
    assert sum(page.count('<img src="_images/cnncount-') for page in pages.values()) == 4
    assert not any("<svg" in page for page in pages.values())
    done = subprocess.run([*epubcheck(), str(book)], capture_output=True, text=True,
                          timeout=600)
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    assert "Messages: 0 fatals / 0 errors / 0 warnings" in report, report
