"""The Sphinx extension, built for real from the test roots under tests/roots/.

Expected figures are written as the LeNet-5 paper derives them (Table I, section II.B).
"""

from __future__ import annotations

import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from sphinx_cnncount import __version__, sphinx_ext

if TYPE_CHECKING:
    from collections.abc import Callable

    from sphinx.testing.util import SphinxTestApp

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ROOTS = Path(__file__).resolve().parent / "roots"

# LeNet-5, from the paper: (k*k*C_in + 1) * C_out params, times H_out*W_out connections.
C1_PARAMS = (5 * 5 * 1 + 1) * 6
C1_CONNECTIONS = (5 * 5 * 1 + 1) * 6 * 28 * 28
C3_PARAMS = 6 * (3 * 25 + 1) + 6 * (4 * 25 + 1) + 3 * (4 * 25 + 1) + (6 * 25 + 1)
C3_CONNECTIONS = C3_PARAMS * 10 * 10
F6_PARAMS = (120 + 1) * 84
LENET_PARAMS = (C1_PARAMS + 6 * 2 + C3_PARAMS + 16 * 2 + (16 * 5 * 5 + 1) * 120 + F6_PARAMS
                + 84 * 10)
LENET_CONNECTIONS = (C1_CONNECTIONS + (2 * 2 + 1) * 6 * 14 * 14 + C3_CONNECTIONS
                     + (2 * 2 + 1) * 16 * 5 * 5 + (16 * 5 * 5 + 1) * 120 + F6_PARAMS + 84 * 10)
LENET_MACS = (5 * 5 * 6 * 28 * 28 + (C3_PARAMS - 16) * 10 * 10  # bias excluded
              + 16 * 25 * 120 + 120 * 84)
# The seed's Keras CNN: (3*3*C_in + 1) * C_out, (in + 1) * units.
KERAS_PARAMS = ((3 * 3 * 1 + 1) * 32 + (3 * 3 * 32 + 1) * 64 + (3 * 3 * 64 + 1) * 128
                + (128 + 1) * 64 + (64 + 1) * 10)


def with_models(app: SphinxTestApp) -> SphinxTestApp:
    """Copy the example models into the root's ``models/`` (the srcdir is a temporary copy)."""
    models = Path(app.srcdir) / "models"
    models.mkdir(exist_ok=True)
    for model in EXAMPLES.glob("*.onnx"):
        shutil.copyfile(model, models / model.name)
    return app


def one_conv(c_out: int, extra_op: str | None = None) -> onnx.ModelProto:
    """x[1,1,8,8] -> conv 3x3 with ``c_out`` maps (``/conv/Conv``), then ``extra_op`` if given
    (an op of a domain no one knows, to provoke a diagnostic)."""
    w = numpy_helper.from_array(np.zeros((c_out, 1, 3, 3), np.float32), "conv.weight")
    b = numpy_helper.from_array(np.zeros((c_out,), np.float32), "conv.bias")
    nodes = [helper.make_node("Conv", ["x", "conv.weight", "conv.bias"], ["y"],
                              name="/conv/Conv", kernel_shape=[3, 3])]
    out = "y"
    opsets = [helper.make_opsetid("", 17)]
    if extra_op:
        nodes.append(helper.make_node(extra_op, ["y"], ["z"], name="/mystery/Op",
                                      domain="com.example"))
        opsets.append(helper.make_opsetid("com.example", 1))
        out = "z"
    graph = helper.make_graph(
        nodes, "one_conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 8, 8])],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)], [w, b])
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    return model


def warnings(app: SphinxTestApp) -> list[str]:
    """The warning lines of a build, without the terminal's colour codes."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", app.warning.getvalue())
    return [line for line in text.splitlines() if "WARNING" in line]


class _Tables(HTMLParser):
    """Cell texts of every ``cnncount-table`` in a page: tables -> rows -> cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._in = 0
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "table" and "cnncount-table" in classes:
            self._in = 1
            self.tables.append([])
        elif self._in and tag == "tr":
            self.tables[-1].append([])
        elif self._in and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if self._in and tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._in = 0

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def html_tables(path: Path) -> list[list[list[str]]]:
    parser = _Tables()
    parser.feed(path.read_text(encoding="utf8"))
    return parser.tables


LENET_TABLE = [
    ["Layer", "Type", "Output", "Params", "Connections", "MACs"],
    ["C1", "Conv", "6@28x28", f"{C1_PARAMS:,}", f"{C1_CONNECTIONS:,}", f"{5 * 5 * 6 * 28 * 28:,}"],
    ["S2", "AveragePool", "6@14x14", f"{6 * 2:,}", f"{(2 * 2 + 1) * 6 * 14 * 14:,}", "0"],
    ["C3", "Conv", "16@10x10", f"{C3_PARAMS:,}", f"{C3_CONNECTIONS:,}",
     f"{(C3_PARAMS - 16) * 10 * 10:,}"],
    ["S4", "AveragePool", "16@5x5", f"{16 * 2:,}", f"{(2 * 2 + 1) * 16 * 5 * 5:,}", "0"],
    ["C5", "Conv", "120@1x1", f"{(16 * 25 + 1) * 120:,}", f"{(16 * 25 + 1) * 120:,}",
     f"{16 * 25 * 120:,}"],
    ["F6", "Gemm", "84", f"{F6_PARAMS:,}", f"{F6_PARAMS:,}", f"{120 * 84:,}"],
    ["OUTPUT", "Sub+Mul+ReduceSum", "10", f"{84 * 10:,}", f"{84 * 10:,}", "0"],
]


# ---------------------------------------------------------------------------------------------
# Builders


@pytest.mark.sphinx("html", testroot="basic", freshenv=True)
def test_html_table_diagram_role_and_numref(app: SphinxTestApp) -> None:
    with_models(app).build()
    assert warnings(app) == []
    page = Path(app.outdir, "index.html").read_text(encoding="utf8")
    lenet, keras = html_tables(Path(app.outdir, "index.html"))
    assert lenet[:-1] == LENET_TABLE
    assert lenet[-1] == ["Total", "", "", f"{LENET_PARAMS:,}", f"{LENET_CONNECTIONS:,}",
                         f"{LENET_MACS:,}"]
    assert keras[-1] == ["Total", "", f"{KERAS_PARAMS:,}"]
    # the numbered caption and the target of :name:
    assert re.search(r'<table class="cnncount-table[^"]*" id="lenet-table">\s*<caption>'
                     r'<span class="caption-number">Table 1 </span>'
                     r'<span class="caption-text">LeNet-5, layer by layer</span>', page)
    assert '<span class="std std-numref">Table 1</span>' in page
    assert '<span class="std std-ref">LeNet-5, layer by layer</span>' in page
    # the role
    assert f'C3 has <span class="cnncount">{C3_PARAMS:,}</span> parameters' in page
    assert 'C1 outputs\n<span class="cnncount">6&#64;28x28</span>' in page
    assert f'<span class="cnncount">{LENET_CONNECTIONS:,}</span> connections' in page
    # the LeNet diagram (the Keras one is :diagram: none)
    assert page.count("<svg") == 1
    svg = re.search(r"<svg .*?</svg>", page, re.S).group(0)
    assert re.search(r'width="[1-9]\d*" height="[1-9]\d*"', svg)
    # each label as the figure draws it, a line per text (a long one on a line per part)
    lines = re.findall(r"<text [^>]*>([^<]*)</text>", svg)
    for label in (["INPUT", "32x32"], ["C1:", "feature maps", "6@28x28"],
                  ["C3:", "feature maps", "16@10x10"], ["C5: layer", "120"], ["F6: layer", "84"],
                  ["OUTPUT:", "layer", "10"]):
        k = lines.index(label[0])
        assert lines[k:k + len(label)] == label
    second = Path(app.outdir, "second.html").read_text(encoding="utf8")
    assert f'F6 has <span class="cnncount">{F6_PARAMS:,}</span> parameters' in second
    assert "<svg" not in second


@pytest.mark.sphinx("latex", testroot="basic", freshenv=True)
def test_latex_gets_the_table_without_the_svg(app: SphinxTestApp) -> None:
    with_models(app).build()
    assert warnings(app) == []
    tex = next(Path(app.outdir).glob("*.tex")).read_text(encoding="utf8")
    assert r"\sphinxcaption{LeNet\sphinxhyphen{}5, layer by layer}" in tex
    assert r"\label{\detokenize{index:lenet-table}}" in tex
    for cell in (f"{C1_CONNECTIONS:,}", f"{C3_PARAMS:,}", f"{LENET_CONNECTIONS:,}",
                 f"{KERAS_PARAMS:,}", "6@28x28"):
        assert cell in tex
    assert "<svg" not in tex


@pytest.mark.sphinx("text", testroot="basic", freshenv=True)
def test_text(app: SphinxTestApp) -> None:
    with_models(app).build()
    assert warnings(app) == []
    text = Path(app.outdir, "index.txt").read_text(encoding="utf8")
    rows = [[c.strip() for c in line.strip("|").split("|")]
            for line in text.splitlines() if line.startswith("| ")]
    assert rows[:len(LENET_TABLE)] == LENET_TABLE
    assert rows[len(LENET_TABLE)][3:5] == [f"**{LENET_PARAMS:,}**", f"**{LENET_CONNECTIONS:,}**"]
    assert f"C3 has {C3_PARAMS:,} parameters, C1 outputs 6@28x28" in text
    assert "<svg" not in text


@pytest.mark.sphinx("man", testroot="basic", freshenv=True)
def test_man(app: SphinxTestApp) -> None:
    with_models(app).build()
    assert warnings(app) == []
    man = next(Path(app.outdir).glob("*.1")).read_text(encoding="utf8")
    assert f"{LENET_PARAMS:,}" in man and f"{C1_CONNECTIONS:,}" in man
    assert "<svg" not in man


def test_parallel_build_matches_serial(make_app: Callable[..., SphinxTestApp],
                                       tmp_path: Path) -> None:
    pages = {}
    for name, parallel in (("serial", 0), ("parallel", 2)):
        srcdir = tmp_path / name
        shutil.copytree(ROOTS / "test-parallel", srcdir)
        app = with_models(make_app("html", srcdir=srcdir, parallel=parallel))
        app.build()
        assert warnings(app) == []
        pages[name] = {p.name: p.read_text(encoding="utf8")
                       for p in sorted(Path(app.outdir).glob("*.html"))}
        app.cleanup()  # unregister its nodes, directives and roles before the next app
    assert pages["serial"] == pages["parallel"]
    assert len(pages["serial"]) >= 7
    assert f'<span class="cnncount">{C1_PARAMS:,}</span>' in pages["serial"]["page1.html"]
    assert '<span class="cnncount">320</span>' in pages["serial"]["page2.html"]  # (3*3*1+1)*32
    assert "Table 6" in pages["serial"]["page6.html"]


def test_setup_metadata() -> None:
    calls: list[str] = []

    class Recorder:
        def __getattr__(self, name: str) -> Callable[..., None]:
            return lambda *args, **kwargs: calls.append(name)

    meta = sphinx_ext.setup(Recorder())  # type: ignore[arg-type]
    assert meta == {"version": __version__, "env_version": 4,
                    "parallel_read_safe": True, "parallel_write_safe": True}
    assert calls.count("add_config_value") == 5


# ---------------------------------------------------------------------------------------------
# Declared numbers


MISMATCHES = [
    (8, f"C3: params declared 1,500, model has {C3_PARAMS:,}"),
    (9, "C9: declared layer does not exist in the model (layers: C1, S2, C3, S4, C5, F6, OUTPUT)"),
    (10, "S2: output declared 6@28x28, model has 6@14x14"),
]


@pytest.mark.sphinx("html", testroot="mismatch", freshenv=True)
def test_mismatch_warnings_name_the_content_line(app: SphinxTestApp) -> None:
    with_models(app).build()
    source = Path(app.srcdir, "index.rst")
    assert warnings(app) == [f"{source}:{line}: WARNING: {message} [cnncount.mismatch]"
                             for line, message in MISMATCHES]
    lines = source.read_text(encoding="utf8").splitlines()
    assert lines[8 - 1].split() == ["C3", "params=1,500", "connections=151,600"]


@pytest.mark.sphinx("html", testroot="mismatch", freshenv=True,
                    confoverrides={"suppress_warnings": ["cnncount.mismatch"]})
def test_mismatch_warnings_can_be_suppressed(app: SphinxTestApp) -> None:
    with_models(app).build()
    assert warnings(app) == []


@pytest.mark.sphinx("html", testroot="mismatch", freshenv=True, warningiserror=True)
def test_mismatch_fails_a_W_build(app: SphinxTestApp) -> None:
    with_models(app).build()
    assert app.statuscode == 1


# ---------------------------------------------------------------------------------------------
# Failures are located warnings and visible admonitions, never a crash


@pytest.mark.sphinx("html", testroot="errors", freshenv=True)
def test_errors_are_warnings_and_admonitions(app: SphinxTestApp) -> None:
    with_models(app).build()
    source = Path(app.srcdir, "index.rst")
    keys = ("params, trainable_params, non_trainable_params, connections, macs, flops, "
            "backward_macs, activation_bytes, training_macs, peak_activation_bytes, output, "
            "output_shape, receptive_field")
    expected = [
        (4, "models/missing.onnx: no such file", "error"),
        (6, "broken.onnx: is a text file, not an ONNX model", "error"),
        (8, "models/lenet5.onnx: unknown diagram 'fancy' (choose from auto, lenet, graph, blocks, none)",
         "error"),
        (11, "models/lenet5.onnx: depth must be a whole number, got 'zero'", "error"),
        (20, f"models/lenet5.onnx: unknown key 'size' for C1 (known: {keys})", "error"),
        (22, "models/lenet5.onnx: no layer 'C9' at depth 1 (layers: C1, S2, C3, S4, C5, F6, "
             "OUTPUT); another depth: models/lenet5.onnx@DEPTH:C9.params",
         "reference"),
        (22, f"unknown key 'weight' in 'models/lenet5.onnx:C1.weight' (known: {keys})",
         "reference"),
        (22, "expected MODEL:LAYER.KEY or MODEL@DEPTH:LAYER.KEY (e.g. lenet5.onnx:C3.params), "
             "got 'no-colon'",
         "reference"),
        (22, "models/missing.onnx: no such file", "error"),
        (22, "models/lenet5.onnx: total has no output shape; quote a layer's", "reference"),
    ]
    got = warnings(app)
    column = [w for w in got if "unknown column 'colour'" in w]
    assert len(column) == 1 and column[0].startswith(f"{source}:14: WARNING: models/lenet5.onnx")
    assert column[0].endswith("[cnncount.error]")
    assert [w for w in got if w not in column] == [
        f"{source}:{line}: WARNING: {message} [cnncount.{subtype}]"
        for line, message, subtype in expected]
    page = Path(app.outdir, "index.html").read_text(encoding="utf8")
    assert page.count('<div class="admonition error">') == 5  # the directive's five failures
    assert "cnncount: models/missing.onnx: no such file" in page
    assert page.count('<span class="problematic">') == 5
    assert "After the errors the page goes on." in page
    # the declaration error still shows the table
    assert len(html_tables(Path(app.outdir, "index.html"))) == 1


@pytest.mark.sphinx("html", testroot="rebuild", srcdir="diagnostic", freshenv=True)
def test_unsupported_op_is_a_diagnostic_warning(app: SphinxTestApp) -> None:
    onnx.save(one_conv(4, extra_op="Mystery"), Path(app.srcdir, "net.onnx"))
    app.build()
    diagnostics = [w for w in warnings(app) if w.endswith("[cnncount.diagnostic]")]
    assert diagnostics
    assert all(w.startswith(f"{Path(app.srcdir, 'index.rst')}:4: WARNING: net.onnx: ")
               for w in diagnostics)
    assert any("no rule for op Mystery (domain com.example)" in w for w in diagnostics)
    assert f'<span class="cnncount">{(3 * 3 * 1 + 1) * 4}</span>' in Path(
        app.outdir, "index.html").read_text(encoding="utf8")


# ---------------------------------------------------------------------------------------------
# Environment citizenship


@pytest.mark.sphinx("html", testroot="rebuild", srcdir="rebuild")
def test_editing_the_model_rereads_the_page(app: SphinxTestApp) -> None:
    model = Path(app.srcdir, "net.onnx")
    onnx.save(one_conv(4), model)
    app.build()
    page = Path(app.outdir, "index.html")
    assert f'<span class="cnncount">{(3 * 3 * 1 + 1) * 4}</span>' in page.read_text("utf8")

    def rebuild() -> str:
        app.status.seek(0)
        app.status.truncate()
        app.build()
        return app.status.getvalue()

    assert "0 added, 0 changed, 0 removed" in rebuild()  # nothing changed: nothing is read

    onnx.save(one_conv(8), model)
    later = model.stat().st_mtime + 10  # the file system's clock may be coarse
    os.utime(model, (later, later))
    assert "0 added, 1 changed, 0 removed" in rebuild()
    html = page.read_text("utf8")
    assert f'<span class="cnncount">{(3 * 3 * 1 + 1) * 8}</span>' in html
    assert "8@6x6" in html  # (8 - 3)/1 + 1 = 6


def sized_conv(side: int) -> onnx.ModelProto:
    """one_conv(4) on a side x side input: 8 and 9 give files of the same size."""
    m = one_conv(4)
    m.graph.input[0].type.tensor_type.shape.dim[2].dim_value = side
    m.graph.input[0].type.tensor_type.shape.dim[3].dim_value = side
    return m


@pytest.mark.parametrize("fresh", [False, True])
def test_a_model_replaced_with_an_old_mtime_is_read_again(make_app, tmp_path: Path,
                                                          fresh: bool) -> None:
    """cp -p, rsync -a and tar keep the old file's size and mtime: the content decides."""
    srcdir = tmp_path / "src"
    shutil.copytree(ROOTS / "test-rebuild", srcdir)
    (srcdir / "index.rst").write_text("Page\n====\n\n.. cnncount:: net.onnx\n   :columns: "
                                      "layer, output, macs\n", encoding="utf8")
    model = srcdir / "net.onnx"
    onnx.save(sized_conv(8), model)
    stamp = model.stat()
    make_app("html", srcdir=srcdir).build()
    page = srcdir / "_build" / "html" / "index.html"
    assert "4@6x6" in page.read_text("utf8")
    onnx.save(sized_conv(9), model)
    assert model.stat().st_size == stamp.st_size
    os.utime(model, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    sphinx_ext._analyze.cache_clear()  # a new sphinx-build process
    make_app("html", srcdir=srcdir, freshenv=fresh).build()
    html = page.read_text("utf8")
    assert "4@7x7" in html and f"{3 * 3 * 4 * 7 * 7:,}" in html
    cached = sorted((srcdir / "_build" / "doctrees" / "cnncount").glob("*.pickle"))
    assert len(cached) == 1  # the first version's analysis is pruned


@pytest.mark.sphinx("html", testroot="basic", freshenv=True)
def test_one_analysis_per_model_and_options(app: SphinxTestApp) -> None:
    sphinx_ext._analyze.cache_clear()
    with_models(app).build()
    info = sphinx_ext._analyze.cache_info()
    # lenet5 with :input-shape: (two directives), lenet5 with the conf defaults (four roles),
    # keras_cnn (one directive): three analyses, the other four uses are cache hits.
    assert (info.misses, info.hits) == (3, 4)


def test_parallel_build_analyses_each_model_once(make_app: Callable[..., SphinxTestApp],
                                                 tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Sphinx forks its readers before any page is read; the processes share one analysis per
    model and options through the doctree directory instead of each making its own."""
    calls = tmp_path / "calls.txt"
    compute = sphinx_ext._compute

    def counted(path: str, options: sphinx_ext.Options) -> sphinx_ext.Analysis:
        with open(calls, "a") as f:  # a file: the readers are other processes
            f.write(f"{os.getpid()} {Path(path).name} {options}\n")
        return compute(path, options)

    monkeypatch.setattr(sphinx_ext, "_compute", counted)
    sphinx_ext._analyze.cache_clear()
    srcdir = tmp_path / "src"
    shutil.copytree(ROOTS / "test-parallel", srcdir)
    app = with_models(make_app("html", srcdir=srcdir, parallel=2))
    app.build()
    assert warnings(app) == []
    lines = calls.read_text().splitlines()
    assert len(lines) == len(set(lines)) >= 2  # each (model, options) analysed exactly once
    # ... and before Sphinx forks its readers: in this process, which they inherit.
    assert {line.split()[0] for line in lines} == {str(os.getpid())}


def test_a_bad_declaration_line_hides_none_of_the_others(make_app: Callable[..., SphinxTestApp],
                                                         tmp_path: Path) -> None:
    srcdir = tmp_path / "src"
    shutil.copytree(ROOTS / "test-mismatch", srcdir)
    (srcdir / "index.rst").write_text(
        "Page\n====\n\n"
        ".. cnncount:: models/lenet5.onnx\n\n"
        "   C1 size=3\n"
        "   C3 params=1,500\n",
        encoding="utf8")
    app = with_models(make_app("html", srcdir=srcdir))
    app.build()
    source = srcdir / "index.rst"
    found = warnings(app)
    assert len(found) == 2
    assert found[0].startswith(f"{source}:6: WARNING: models/lenet5.onnx: unknown key 'size' ")
    assert found[1] == (f"{source}:7: WARNING: C3: params declared 1,500, model has 1,516 "
                        "[cnncount.mismatch]")


def test_units_option_and_conf_value(make_app: Callable[..., SphinxTestApp],
                                     tmp_path: Path) -> None:
    srcdir = tmp_path / "src"
    shutil.copytree(ROOTS / "test-mismatch", srcdir)
    (srcdir / "index.rst").write_text(
        "Page\n====\n\n"
        ".. cnncount:: models/lenet5.onnx\n   :units:\n   :diagram: none\n\n"
        ".. cnncount:: models/lenet5.onnx\n   :diagram: none\n\n"
        ".. cnncount:: models/lenet5.onnx\n   :units: maybe\n",
        encoding="utf8")
    app = with_models(make_app("html", srcdir=srcdir))
    app.build()
    with_units, exact = html_tables(Path(app.outdir, "index.html"))
    # C3: 1,516 params, 151,600 connections, 150,000 MACs; the totals 60,840 / 340,908 / 325,680
    assert with_units[3] == ["C3", "Conv", "16@10x10", "1.52 K", "151.60 K", "150.00 K"]
    assert with_units[-1] == ["Total", "", "", "60.84 K", "340.91 K", "325.68 K"]
    assert exact[3][3:] == ["1,516", "151,600", "150,000"]
    (found,) = warnings(app)
    assert found.endswith(":11: WARNING: models/lenet5.onnx: :units: expects nothing, yes or no, "
                          "got 'maybe' [cnncount.error]")

    conf = srcdir / "conf.py"
    conf.write_text(conf.read_text() + "\ncnncount_units = True\n", encoding="utf8")
    (srcdir / "index.rst").write_text(
        "Page\n====\n\n"
        ".. cnncount:: models/lenet5.onnx\n   :diagram: none\n\n"
        ".. cnncount:: models/lenet5.onnx\n   :units: no\n   :diagram: none\n",
        encoding="utf8")
    app = with_models(make_app("html", srcdir=srcdir, freshenv=True))
    app.build()
    by_conf, opted_out = html_tables(Path(app.outdir, "index.html"))
    assert by_conf[-1][3] == "60.84 K" and opted_out[-1][3] == "60,840"
