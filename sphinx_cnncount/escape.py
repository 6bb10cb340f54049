"""Names from a model file made safe for the place they are shown in.

A model's layer names, op types, domains and tensor names are whatever its author wrote: a
newline followed by ``::error file=...::`` starts a GitHub workflow command in a CI log, ESC and
OSC sequences reach the terminal, ``<script>`` reaches a rendered markdown page and ``=cmd|...``
a spreadsheet. Every human-readable output passes names (and the messages that quote them)
through one of these functions; JSON, SARIF, HTML and SVG have escaping of their own.
"""

from __future__ import annotations

import html as _html

ELLIPSIS = "\u2026"


def printable(text: str) -> str:
    """``text`` with every character that is not printable (control characters, newlines, tabs,
    DEL, C1 controls, bidirectional overrides, line separators) written as its Python escape:
    a newline reads ``\\n``, ESC ``\\x1b``, U+202E ``\\u202e``."""
    if text.isprintable():  # the common case, in C
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in text)


def elide(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters around an ellipsis (its head and tail kept): a 1 MB
    name does not pad every row of a table to 1 MB."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    return text[:head] + ELLIPSIS + text[len(text) - (limit - 1 - head):]


# A line of a message (a warning, an error) longer than this is cut: it quotes a name that is.
MESSAGE_LIMIT = 2000
NAME_LIMIT = 64  # characters of a name in a table cell or a diagram label


def message(text: str) -> str:
    """One line of a human-readable message: printable, and of a bounded length."""
    return elide(printable(text), MESSAGE_LIMIT)


def name(text: str) -> str:
    """A name as a table cell or a label shows it: printable, elided past NAME_LIMIT."""
    return elide(printable(text), NAME_LIMIT)


# Underscores stay: GitHub's markdown reads one inside a word (conv2d_1) as text.
_MARKDOWN_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*[]|"})


def markdown(text: str) -> str:
    """A markdown table cell: HTML escaped (``<script>`` is text), the characters markdown
    gives a meaning to backslash-escaped, ``|`` included."""
    return _html.escape(text, quote=False).translate(_MARKDOWN_SPECIAL)


def html(text: str) -> str:
    """Text inside HTML: ``<script>`` is shown, not run."""
    return _html.escape(text)


def spreadsheet(value: object) -> object:
    """A CSV cell: printable (a newline or a bare carriage return in a name would start a new
    row, and a line of its own in a CI log), and not run by a spreadsheet as a formula: a text
    starting with ``= + - @`` gets a leading ``'`` (the usual convention); numbers stay
    numbers."""
    if not isinstance(value, str):
        return value
    value = printable(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
