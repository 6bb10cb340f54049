"""``cnncount lint --docs DIR``: check the numbers declared in ``cnncount`` directives.

A light reading of the sources, no Sphinx build: the ``.. cnncount::`` directives of .rst pages
and the ``{cnncount}`` fences of MyST Markdown (.md) pages. Of each, its argument (the model
path, resolved as Sphinx does: ``/x.onnx`` from the source root, ``x.onnx`` from the page's
folder), its ``:depth:``, ``:dim:`` and ``:input-shape:`` options (MyST: ``:key: value`` lines or
a ``---`` YAML block), and its content lines, which are the declarations
:func:`declare.parse_lines` reads. Directives shown inside literal blocks (``::`` paragraphs,
``code-block``, other fences) are examples, not declarations, and are skipped.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..declare import Declaration, DeclarationError, parse_lines
from ..files import read_text
from ..layers import parse_depth
from ..choices import parse_dims

# Linear-time patterns: the captured text is stripped in code, never by a lazy group before
# ``\s*$`` (which backtracks quadratically on a line of spaces).
_DIRECTIVE = re.compile(r"^([ \t]*)\.\.[ \t]+cnncount::(.*)$")
_ANY_DIRECTIVE = re.compile(r"^([ \t]*)\.\.[ \t]+([\w:.-]+?)::(.*)$")
_OPTION = re.compile(r"^:([\w-]+):(.*)$")
LITERAL_DIRECTIVES = frozenset({"code-block", "code", "sourcecode", "parsed-literal", "doctest",
                                "testcode", "testoutput", "ipython", "highlight", "math"})
# MyST: a fence of three or more backticks, tildes (or colons, with colon_fence) and its info.
_FENCE = re.compile(r"^([ \t]{0,3})(`{3,}|~{3,}|:{3,})(.*)$")
_MYST_DIRECTIVE = re.compile(r"^\{cnncount\}(.*)$")
_MYST_NAME = re.compile(r"^\{([\w:.-]+)\}")
MYST_LITERAL = LITERAL_DIRECTIVES | {"eval-rst", "code-cell", "raw"}
MAX_NESTING = 16  # directive fences read inside each other; deeper ones are taken as literal
_YAML_OPTION = re.compile(r"^([\w-]+):(.*)$")
# ``a=1x3x224x224 b=1x10`` or ``a=1x3, b=1x10``: a comma separates two specs only before NAME=.
_SPEC_SPLIT = re.compile(r"[\s;]+|,(?=\s*[^,=\s]+=)")


@dataclass(frozen=True)
class Directive:
    """One ``.. cnncount::`` block as written in an .rst file."""

    file: str
    line: int  # 1-based line of the ``.. cnncount::`` marker
    model: str  # the argument, as written
    options: dict[str, str] = field(default_factory=dict)
    content: tuple[str, ...] = ()
    content_line: int = 0  # 1-based line of the first content line

    def declarations(self) -> list[Declaration]:
        """The content's readable declarations, each with its 1-based line in the .rst file
        (:meth:`unreadable` says which lines are not)."""
        out = []
        for offset, line in enumerate(self.content):
            try:
                out.extend(Declaration(d.target, d.key, d.value, self.content_line + offset)
                           for d in parse_lines([line]))
            except DeclarationError:
                continue
        return out

    def unreadable(self) -> list[tuple[int, str]]:
        """(1-based line, what is wrong) for each content line that cannot be read."""
        out = []
        for offset, line in enumerate(self.content):
            try:
                parse_lines([line])
            except DeclarationError as exc:
                out.append((self.content_line + offset, str(exc).removeprefix("line 1: ")))
        return out

    def dims(self) -> list[str]:
        return [s for s in _SPEC_SPLIT.split(self.options.get("dim", "")) if s]

    def input_shapes(self) -> list[str]:
        """Several inputs are separated by spaces or semicolons, as the Sphinx directive reads
        them (a comma may separate dims)."""
        return self.options.get("input-shape", "").replace(";", " ").split()

    def depth(self) -> int | None:
        text = self.options.get("depth", "").strip()
        if not text:
            return None
        try:
            return parse_depth(text)
        except ValueError as exc:
            raise DeclarationError(f":depth: {exc}") from None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def parse_rst(text: str, file: str = "<string>") -> list[Directive]:
    """Every ``.. cnncount::`` directive of an .rst text that is not inside a literal block."""
    lines = text.splitlines()
    out: list[Directive] = []
    literal_indent: int | None = None  # lines indented deeper than this are literal
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() and literal_indent is not None:
            if _indent(line) > literal_indent:
                i += 1
                continue
            literal_indent = None
        if m := _DIRECTIVE.match(line):
            directive, i = _read_block(lines, i, m, file)
            out.append(directive)
            continue
        if m := _ANY_DIRECTIVE.match(line):
            if m.group(2).lower() in LITERAL_DIRECTIVES:
                literal_indent = _indent(line)
        elif line.rstrip().endswith("::") and not line.lstrip().startswith(".."):
            literal_indent = _indent(line)
        i += 1
    return out


def _read_block(lines: list[str], i: int, m: re.Match[str], file: str) -> tuple[Directive, int]:
    """Read the directive starting at ``lines[i]``; return it and the index after its block."""
    base = len(m.group(1))
    model = m.group(2).strip()
    j = i + 1
    block: list[tuple[int, str]] = []  # (index, line) of the indented body
    while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) > base):
        block.append((j, lines[j]))
        j += 1
    while block and not block[-1][1].strip():
        block.pop()
    body_indent = min((_indent(t) for _, t in block if t.strip()), default=base + 3)
    options: dict[str, str] = {}
    k = 0
    # Options come first, with no blank line before them.
    while k < len(block) and block[k][1].strip() and (om := _OPTION.match(block[k][1].strip())):
        name = om.group(1).lower()
        value = om.group(2).strip()
        options[name] = (options[name] + " " + value) if name in options else value
        k += 1
    while k < len(block) and not block[k][1].strip():
        k += 1
    content = tuple(t[body_indent:] if t.strip() else "" for _, t in block[k:])
    content_line = block[k][0] + 1 if k < len(block) else 0
    return Directive(file, i + 1, model, options, content, content_line), j


def parse_md(text: str, file: str = "<string>") -> list[Directive]:
    """Every ``{cnncount}`` fence of a MyST Markdown text, including those inside other
    directives' fences (a ``{note}``), but not inside code or other literal fences."""
    lines = text.splitlines()
    out: list[Directive] = []
    inside: list[int] = []  # closing lines of the directive fences being read inside
    i = 0
    while i < len(lines):
        if inside and i >= inside[-1]:  # the end of a directive fence read inside
            i += i == inside.pop()  # its closing line (an unclosed one shares its parent's)
            continue
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info = m.group(2), m.group(3).strip()
        end = _fence_end(lines, i + 1, fence, inside[-1] if inside else len(lines))
        if d := _MYST_DIRECTIVE.match(info):
            out.append(_read_fence(lines, i, end, d.group(1).strip(), file))
        elif ((name := _MYST_NAME.match(info)) and name.group(1).lower() not in MYST_LITERAL
              and len(inside) < MAX_NESTING):
            inside.append(end)  # its body is MyST again: read on inside it
            i += 1
            continue
        i = end + 1  # a code fence's body is literal: examples, not declarations
    return out


def _fence_end(lines: list[str], j: int, fence: str, limit: int) -> int:
    """The index of the line closing ``fence`` (the same character, at least as many, alone)
    before ``limit``, else ``limit`` (an unclosed fence runs to the end of what holds it)."""
    char, n = fence[0], len(fence)
    while j < limit:
        body = lines[j].strip()
        if len(body) >= n and body == char * len(body):
            return j
        j += 1
    return limit


def _read_fence(lines: list[str], i: int, end: int, model: str, file: str) -> Directive:
    """The directive whose fence opens at ``lines[i]`` and closes at ``lines[end]``."""
    body = list(range(i + 1, end))
    options: dict[str, str] = {}
    k = 0
    if body and lines[body[0]].strip() == "---":  # a YAML block of options
        k = 1
        while k < len(body) and lines[body[k]].strip() != "---":
            if om := _YAML_OPTION.match(lines[body[k]].strip()):
                options[om.group(1).lower()] = om.group(2).strip().strip("'\"")
            k += 1
        k += 1
    else:
        while k < len(body) and (om := _OPTION.match(lines[body[k]].strip())):
            name = om.group(1).lower()
            value = om.group(2).strip()
            options[name] = (options[name] + " " + value) if name in options else value
            k += 1
    while k < len(body) and not lines[body[k]].strip():
        k += 1
    rest = body[k:]
    while rest and not lines[rest[-1]].strip():
        rest.pop()
    content = tuple(lines[j].strip() for j in rest)
    return Directive(file, i + 1, model, options, content, rest[0] + 1 if rest else 0)


def parse_page(text: str, file: str) -> list[Directive]:
    """The directives of a page: MyST Markdown for a .md file, else reStructuredText."""
    return parse_md(text, file) if file.lower().endswith(".md") else parse_rst(text, file)


PAGE_SUFFIXES = (".rst", ".md")


def doc_files(root: str | os.PathLike[str]) -> Iterator[Path]:
    """The .rst and .md pages under ``root`` (or ``root`` itself), sorted, skipping build
    output and hidden folders."""
    p = Path(root)
    if p.is_file():
        yield p
        return
    for f in sorted(f for f in p.rglob("*") if f.suffix.lower() in PAGE_SUFFIXES):
        rel = f.relative_to(p).parts
        if any(part.startswith((".", "_build")) for part in rel[:-1]):
            continue
        yield f


def rst_files(root: str | os.PathLike[str]) -> Iterator[Path]:
    """The .rst files under ``root`` (or ``root`` itself), sorted, skipping build output."""
    return (f for f in doc_files(root) if Path(root).is_file() or f.suffix.lower() == ".rst")


def source_root(docs: str | os.PathLike[str]) -> Path:
    """The Sphinx source directory: the nearest folder at or above ``docs`` with a conf.py."""
    p = Path(docs).resolve()
    start = p if p.is_dir() else p.parent
    for d in (start, *start.parents):
        if (d / "conf.py").is_file():
            return d
    return start


def resolve_model(directive: Directive, srcdir: Path) -> str:
    """The model path as Sphinx's ``env.relfn2path`` resolves it, relative to cwd when inside."""
    if directive.model.startswith("/"):
        path = srcdir / directive.model.lstrip("/")
    else:
        path = Path(directive.file).resolve().parent / directive.model
    path = Path(os.path.normpath(path))
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def sphinx_defaults(srcdir: Path) -> tuple[int | None, dict[str, int]]:
    """``cnncount_depth`` and ``cnncount_dims`` from conf.py, read as literals, never executed."""
    conf = srcdir / "conf.py"
    depth: int | None = None
    dims: dict[str, int] = {}
    try:
        tree = ast.parse(read_text(conf))
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # FileProblem is a ValueError
        return depth, dims
    for stmt in tree.body:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)):
            continue
        try:
            value = ast.literal_eval(stmt.value)
        except ValueError:
            continue
        name = stmt.targets[0].id
        if name == "cnncount_depth" and isinstance(value, int) and value >= 1:
            depth = value
        elif name == "cnncount_dims":
            try:
                if isinstance(value, dict):
                    dims = parse_dims([f"{k}={v}" for k, v in value.items()])
                elif isinstance(value, (str, list, tuple)):
                    dims = parse_dims([value] if isinstance(value, str) else list(value))
            except (ValueError, TypeError):
                continue
    return depth, dims
