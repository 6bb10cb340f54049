"""The extension's own words in the project's language: its message catalog
(sphinx_cnncount/locale, made by ``python -m sphinx_cnncount.messages``), a Simplified Chinese
project built for real, and a catalog that holds every phrase the extension can write.
"""

from __future__ import annotations

import gettext
import io
import re
from html import unescape
from pathlib import Path

import pytest
from sphinx import locale
from sphinx.cmd.build import build_main

from sphinx_cnncount import messages
from sphinx_cnncount.api import analyze
from sphinx_cnncount.render import Column
from sphinx_cnncount.render import vocabulary
from sphinx_cnncount.render.diagram import Diagram, drawing
from sphinx_cnncount.render.vocabulary import Kind

from .test_builders import ROOT, ROOTS, project
from .test_sphinx import html_tables

ZH = messages.LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / f"{messages.CATALOG}.po"


@pytest.fixture
def fresh_translators():
    """Sphinx keeps one translator per catalog for the process (a sphinx-build is one): a
    build in another language starts from none, and leaves none behind."""
    locale.translators.clear()
    yield
    locale.translators.clear()


def test_a_chinese_project_gets_chinese_words(tmp_path: Path, fresh_translators: None) -> None:
    src = project(tmp_path, "test-zh")
    for builder in ("html", "text"):
        assert build_main(["-q", "-W", "-b", builder, str(src), str(tmp_path / builder)]) == 0
    page = tmp_path / "html" / "index.html"
    lenet, residual = html_tables(page)
    assert lenet[0] == ["层", "类型", "输出", "参数", "连接数", "乘加次数"]
    assert lenet[1][:3] == ["C1", "Conv", "6@28x28"]  # the model's own words stay
    assert lenet[-1][0] == "合计" and lenet[-1][3] == "60,840"
    assert residual[0] == ["层", "输出", "参数"]
    html = page.read_text(encoding="utf8")
    chain, graph = re.findall(r"<svg .*?</svg>", html, re.S)
    texts = re.findall(r"<text [^>]*>([^<]*)</text>", chain)
    # The paper's words, as the seed article writes them: feature maps, convolutions,
    # subsampling, full connection, Gaussian connections; and the input.
    for word in ("输入", "C1: 特征图", "C5: 层", "卷积", "下采样", "全连接", "高斯连接"):
        assert word in texts
    assert not {"feature maps", "convolutions", "subsampling", "INPUT"} & set(texts)
    assert (unescape(re.search(r'aria-label="([^"]*)"', chain).group(1))
            == "lenet5.onnx 的示意图：7 层依次相连，输入 1@32x32，输出 10。")
    assert (unescape(re.search(r"<title>(.*?)</title>", graph).group(1))
            == "residual.onnx 的层图：8 层，输入 3@16x16，输出 10。 数据在 1 层处分出分支。 "
               "分支在 1 层处合并。")
    boxes = re.findall(r"<text [^>]*>([^<]*)</text>", graph)
    for line in ("卷积 8@16x16", "激活 8@16x16", "全局池化 8@1x1",
                 "展平 8", "全连接 10"):
        assert line in boxes
    text = (tmp_path / "text" / "index.txt").read_text(encoding="utf8")
    assert "[示意图：lenet5.onnx 的示意图：7 层依次相连" in text
    assert "| 合计" in text.replace("**", "")


def test_english_is_the_default(tmp_path: Path, fresh_translators: None) -> None:
    src = project(tmp_path, "test-zh")
    conf = src / "conf.py"
    conf.write_text(conf.read_text().replace('language = "zh_CN"', 'language = "en"'))
    assert build_main(["-q", "-W", "-b", "html", str(src), str(tmp_path / "html")]) == 0
    assert html_tables(tmp_path / "html" / "index.html")[0][0][0] == "Layer"


# ---------------------------------------------------------------------------------------------
# The catalog holds every phrase


def catalog(path: Path) -> dict[str | tuple[str, str], str | tuple[str, ...]]:
    from babel.messages.pofile import read_po

    with open(path, "rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id and not m.fuzzy}


def drawn_words(summary, edges) -> set[str]:
    """Every phrase a drawing of the summary asks to translate, either kind."""
    asked: set[str] = set()

    def record(text: str) -> str:
        asked.add(text)
        return text

    for kind in (Diagram.LENET, Diagram.GRAPH, Diagram.BLOCKS):
        drawing(kind, summary, edges, translate=record)
    return asked


def test_every_phrase_the_drawings_ask_for_is_in_the_catalog() -> None:
    """A word the diagrams learn (a new layer kind, a new label) without a catalog entry, or
    an entry without a Chinese translation, fails here: run python -m sphinx_cnncount.messages
    and translate what it lists."""
    zh = catalog(ZH)
    wanted = set(messages.phrases())
    assert {c.title for c in Column} <= wanted
    assert set(vocabulary.phrases()) <= wanted  # every phrase the vocabulary can produce
    for kind in Kind:
        assert {kind.caption, kind.noun} <= wanted
    models = [ROOT / "examples" / "lenet5.onnx", ROOT / "examples" / "keras_cnn.onnx",
              ROOTS / "test-graph" / "residual.onnx",
              ROOT / "tests" / "data" / "torchvision" / "resnet18.torchscript.onnx"]
    asked: set[str] = set()
    for model in models:
        summary = analyze(model, depth=2)
        asked |= drawn_words(summary, summary.edges)
    assert asked and asked <= wanted, sorted(asked - wanted)
    untranslated = [p for p in wanted if not zh.get(p)]
    untranslated += [p for p in messages.PLURALS if not all(zh.get(p, ()))]
    assert untranslated == []


def test_the_files_are_made_from_the_phrases() -> None:
    """The .pot lists every phrase, and each .mo is its .po compiled."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po, write_po

    pot = io.BytesIO()
    write_po(pot, messages.template(), omit_header=False, width=100)
    assert pot.getvalue() == (messages.LOCALE_DIR / f"{messages.CATALOG}.pot").read_bytes()
    for po in messages.LOCALE_DIR.glob("*/LC_MESSAGES/*.po"):
        with open(po, "rb") as f:
            compiled = io.BytesIO()
            write_mo(compiled, read_po(f))
        assert compiled.getvalue() == po.with_suffix(".mo").read_bytes(), po
    zh = gettext.GNUTranslations(open(ZH.with_suffix(".mo"), "rb"))
    assert zh.gettext("Total") == "合计"
    assert zh.ngettext(*messages.SPLITS, 3) == "数据在 {count} 层处分出分支。"
