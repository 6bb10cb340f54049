"""The Python API: ``analyze`` and what a Summary gives back (repr, table, Jupyter's rich
display, records, a DataFrame), checked against the LeNet-5 paper's figures."""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

import sphinx_cnncount
from sphinx_cnncount import Summary, analyze

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
LENET = EXAMPLES / "lenet5.onnx"

# LeNet-5, Table I and section II.B of the paper: (layer, params, connections).
PAPER = [("C1", 156, 122_304), ("S2", 12, 5_880), ("C3", 1_516, 151_600), ("S4", 32, 2_000),
         ("C5", 48_120, 48_120), ("F6", 10_164, 10_164)]


@pytest.fixture(scope="module")
def lenet() -> Summary:
    return analyze(LENET)


def test_import_is_cheap():
    # Importing the package must not import onnx, networkx or Sphinx (a docs build pays only
    # for what it uses, a CLI run for what it counts).
    code = ("import sys, sphinx_cnncount; "
            "print(sorted(m for m in ('onnx', 'networkx', 'sphinx', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_names_resolve():
    for name in sphinx_cnncount.__all__:
        assert getattr(sphinx_cnncount, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        sphinx_cnncount.nope  # noqa: B018


def test_figures_are_python_ints(lenet):
    assert lenet.totals.params == 60_840
    assert lenet.totals.connections == 340_908
    assert lenet.totals.param_bytes == 60_840 * 4  # float32
    for name, params, connections in PAPER:
        layer = lenet.layer(name)
        assert (layer.params, layer.connections) == (params, connections)
        assert type(layer.connections) is int


def test_repr_and_str(lenet):
    assert repr(lenet) == ("<Summary of 'lenet5.onnx': 7 layers, params=60,840, macs=325,680, "
                           "complete>")
    text = str(lenet)
    assert text.startswith('Model: "lenet5.onnx"')
    assert "Total params: 60,840 (237.66 KB)" in text  # Keras's KB: 1024 bytes


def test_records(lenet):
    records = lenet.records()
    assert [r["name"] for r in records] == ["C1", "S2", "C3", "S4", "C5", "F6", "OUTPUT"]
    assert [(r["name"], r["params"], r["connections"]) for r in records[:6]] == PAPER
    c3 = records[2]
    assert c3["output_shape"] == [1, 16, 10, 10]
    assert c3["type"] == "Conv"
    assert c3["receptive_field"] == {"size": [14, 14], "stride": [2, 2]}


def test_dataframe(lenet):
    df = lenet.to_dataframe()
    assert list(df.index) == ["C1", "S2", "C3", "S4", "C5", "F6", "OUTPUT"]
    assert int(df["params"].sum()) == 60_840
    assert int(df.loc["C3", "connections"]) == 151_600


def test_dataframe_without_pandas(lenet, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas raises ImportError
    with pytest.raises(ImportError, match="needs pandas: pip install pandas"):
        lenet.to_dataframe()


class _Cells(HTMLParser):
    """The table's cells, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_html(lenet):
    parser = _Cells()
    parser.feed(lenet._repr_html_())
    header, *body, total = parser.rows
    assert header == ["Layer", "Type", "Output", "Params", "Connections", "MACs"]
    assert [(r[0], int(r[3].replace(",", "")), int(r[4].replace(",", ""))) for r in body[:6]] \
        == PAPER
    assert total[0] == "Total" and total[3:5] == ["60,840", "340,908"]


def test_markdown(lenet):
    assert lenet._repr_markdown_() == lenet.to_markdown()
    assert "| C3 | Conv | 16@10x10 | 1.52 K | 151.60 K | 150.00 K |" in lenet.to_markdown(units=True)
    lines = lenet.to_markdown().splitlines()
    assert lines[0] == "| Layer | Type | Output | Params | Connections | MACs |"
    assert "| C3 | Conv | 16@10x10 | 1,516 | 151,600 | 150,000 |" in lines


def test_notebook_runs_and_shows_the_table(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(EXAMPLES / "lenet5.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(EXAMPLES)}}).execute()
    shown, figures, frame = (c.outputs[0]["data"] for c in nb.cells if c.cell_type == "code")
    assert "<td>C3</td>" in shown["text/html"]
    assert "| C3 | Conv | 16@10x10 | 1,516 | 151,600 | 150,000 |" in shown["text/markdown"]
    assert figures["text/plain"] == "(60840, 340908, 151600)"
    assert "151600" in frame["text/html"]
