"""The Sphinx extension's message catalog: what it translates, and how the catalog is made.

A project whose ``language`` has a catalog here (``locale/<lang>/LC_MESSAGES/sphinx_cnncount.mo``,
shipped with the package) gets the table's headers, its "Total", the diagram's words, the
diagram's description (its alt text and SVG label) and the placeholder the text builders write
in that language. Layer names, op names, numbers and shapes are the model's and stay as they are.
Warnings stay in English, like the counting core's messages they quote (Sphinx prints its own
console messages in the console's locale, not in the project's ``language``).

To add a phrase or a language, then rebuild the catalog (Babel comes with Sphinx)::

    python -m sphinx_cnncount.messages              # .pot written, every .po updated, .mo compiled
    python -m sphinx_cnncount.messages --init fr    # a new language's .po, to translate

and fill in the new ``msgstr`` entries of ``locale/<lang>/LC_MESSAGES/sphinx_cnncount.po``.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

from sphinx.locale import get_translation, get_translator

from .version import __version__
from .render import Column
from .render import vocabulary
from .render.text import FOLDED, FOLDED_BIASES, FOLDED_NO_BIAS

CATALOG = "sphinx_cnncount"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_ = get_translation(CATALOG)  # translated when called, in the language the project set


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or the plural phrase for ``n``, translated (the language's plural rule)."""
    return get_translator(CATALOG).ngettext(singular, plural, n)


# The phrases the extension writes itself, besides the column titles and the vocabulary.
TOTAL = "Total"  # the totals row's first cell
PLACEHOLDER = "[diagram: {alt}]"  # text, man and texinfo, where the diagram would be
PERMALINK = "Link to this diagram"
# The diagram's description (its alt text): {model} is the file, {inputs} and {outputs} shapes.
CHAIN = ("Diagram of {model}: {count} layer in a chain, from input {inputs} to output {outputs}.",
         "Diagram of {model}: {count} layers in a chain, from input {inputs} to output "
         "{outputs}.")
GRAPH = ("Layer graph of {model}: {count} layer, from input {inputs} to output {outputs}.",
         "Layer graph of {model}: {count} layers, from input {inputs} to output {outputs}.")
SPLITS = ("The data branches at {count} layer.", "The data branches at {count} layers.")
JOINS = ("Branches merge at {count} layer.", "Branches merge at {count} layers.")

PLURALS = (CHAIN, GRAPH, SPLITS, JOINS, FOLDED)
# Below the table: the counting tools' figures (:convention:) and the formulas (:symbolic:).
BEYOND = ("Label", "Figure", "Printed", "x MACs", "Formulas (for {where}):", "every binding")


def phrases() -> list[str]:
    """Every singular phrase the catalog must translate (the plural ones: ``PLURALS``): the
    table's, the extension's own, and every word the diagrams can draw (the vocabulary's)."""
    words = [c.title for c in Column] + [TOTAL, PLACEHOLDER, PERMALINK, FOLDED_BIASES,
                                         FOLDED_NO_BIAS, *BEYOND]
    return list(dict.fromkeys([*words, *vocabulary.phrases()]))


# ---------------------------------------------------------------------------------------------
# Making the catalog files (Babel, a dependency of Sphinx)


# Fixed, so that the files change only when the phrases or their translations do.
_DATE = datetime(2025, 1, 1, tzinfo=timezone.utc)


def _catalog(locale: str | None = None):  # -> babel.messages.Catalog
    from babel.messages.catalog import Catalog

    return Catalog(locale=locale, domain=CATALOG, project="sphinx-cnncount",
                   version=__version__, copyright_holder="the sphinx-cnncount authors",
                   msgid_bugs_address="", creation_date=_DATE, revision_date=_DATE,
                   last_translator="the sphinx-cnncount authors", charset="utf-8",
                   header_comment="# The sphinx-cnncount Sphinx extension's messages.\n"
                                  "# Made by python -m sphinx_cnncount.messages; see there.",
                   fuzzy=False)


def template():  # -> babel.messages.Catalog
    pot = _catalog()
    for text in phrases():
        pot.add(text)
    for singular, plural in PLURALS:
        pot.add((singular, plural))
    return pot


def _po(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{CATALOG}.po"


def update(init: str | None = None) -> list[str]:
    """Write the .pot, start ``init``'s .po, merge the .pot into every .po and compile each
    .mo; what each language still lacks."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po, write_po

    pot = template()
    LOCALE_DIR.mkdir(exist_ok=True)
    with open(LOCALE_DIR / f"{CATALOG}.pot", "wb") as f:
        write_po(f, pot, omit_header=False, width=100)
    if init:
        _po(init).parent.mkdir(parents=True, exist_ok=True)
        if not _po(init).exists():
            with open(_po(init), "wb") as f:
                write_po(f, _catalog(init), omit_header=False)
    missing = []
    for po in sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{CATALOG}.po")):
        with open(po, "rb") as f:
            catalog = read_po(f)
        catalog.update(pot, no_fuzzy_matching=True, update_header_comment=True)
        catalog.obsolete.clear()
        catalog.fuzzy = False
        catalog.revision_date = catalog.creation_date = _DATE
        with open(po, "wb") as f:
            write_po(f, catalog, width=100, omit_header=False, ignore_obsolete=True)
        with open(po.with_suffix(".mo"), "wb") as f:
            write_mo(f, catalog)
        lang = po.parent.parent.name
        missing += [f"{lang}: {m.id!r}" for m in catalog if m.id and not _translated(m)]
    return missing


def _translated(message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(strings) and not message.fuzzy


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Update the extension's message catalogs.")
    ap.add_argument("--init", metavar="LANG", help="start a catalog for LANG (e.g. fr, zh_CN)")
    args = ap.parse_args(argv)
    missing = update(args.init)
    for line in missing:
        print(f"untranslated: {line}")
    print(f"catalogs in {LOCALE_DIR.name}/ updated; {len(missing)} phrases untranslated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
