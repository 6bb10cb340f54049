"""Reading the text files a user points cnncount at (.rst sources, expectation files,
pyproject.toml, conf.py): regular files only, of a bounded size; and where a TOML file writes
each of its keys, so that what is wrong with one is reported at its line.

A committed symlink to ``/dev/zero``, a FIFO or a device never reaches a read: ``stat`` (which
follows links) must say regular file first, and the read stops at the limit.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib

TEXT_LIMIT = 16 * 2**20  # bytes: far above any document or expectation file


class FileProblem(ValueError):
    """A text file that cannot be read; str() is ``path: what is wrong``."""


def read_text(path: str | os.PathLike[str], limit: int = TEXT_LIMIT) -> str:
    """The UTF-8 text of a regular file, or FileProblem saying why not."""
    shown = os.fspath(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FileProblem(f"{shown}: no such file") from None
    except OSError as exc:
        raise FileProblem(f"{shown}: cannot read: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise FileProblem(f"{shown}: is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise FileProblem(f"{shown}: is not a regular file")
    if st.st_size > limit:
        raise FileProblem(f"{shown}: is {st.st_size:,} bytes, over the {limit:,}-byte limit "
                          "for a text file")
    try:
        # O_NONBLOCK: should the path have been swapped for a FIFO since the stat, open does
        # not wait for a writer; the read is bounded either way.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise FileProblem(f"{shown}: is not a regular file")
            data = f.read(limit + 1)
    except OSError as exc:
        raise FileProblem(f"{shown}: cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise FileProblem(f"{shown}: is over the {limit:,}-byte limit for a text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileProblem(f"{shown}: is not UTF-8 text (byte {exc.start})") from None


# A bare or quoted TOML key, and a dotted sequence of them.
_KEY = r"""(?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)"""
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_HEADER = re.compile(rf"^\s*\[\s*({_DOTTED})\s*\]\s*(?:#.*)?$")
_ASSIGN = re.compile(rf"^\s*({_DOTTED})\s*=")


def split_key(text: str) -> tuple[str, ...]:
    parts = []
    for m in re.finditer(_KEY, text):
        k = m.group(0)
        if k[0] in "\"'":
            k = tomllib.loads(f"k = {k}")["k"] if k[0] == '"' else k[1:-1]
        parts.append(k)
    return tuple(parts)


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Where each table and key is written: (table path + dotted key) -> 1-based line."""
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for n, line in enumerate(text.splitlines(), 1):
        if m := _HEADER.match(line):
            table = split_key(m.group(1))
            lines.setdefault(table, n)
        elif m := _ASSIGN.match(line):
            lines.setdefault(table + split_key(m.group(1)), n)
    return lines


def line_of(lines: dict[tuple[str, ...], int], path: tuple[str, ...]) -> int:
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return 0
