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
from ..layers import parse_depth
from ..spelling import parse_dims
from ..textfiles import read_text

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


@dataclass(frozen=True)
class RoleUse:
    """One ``:cnncount:`...``` role (MyST: ``{cnncount}`...```) as written in a page."""

    file: str
    line: int  # 1-based line where the role starts
    text: str  # what is between the backticks


# reST inline markup a role may sit among: an inline literal (``...``, whose end is not
# followed by another backtick), the cnncount role, other interpreted text (`...`).
_RST_INLINE = re.compile(r"``.+?``(?!`)|:cnncount:`((?:[^`\\]|\\.)+)`|`(?:[^`\\]|\\.)*`",
                         re.DOTALL)
_COMMENT = re.compile(r"^[ \t]*\.\.(?:[ \t]|$)(?![ \t]*(?:_|\[|\|))")


def _rst_prose(lines: list[str]) -> Iterator[tuple[int, str]]:
    """The lines of an .rst text where a role would be read: not in literal blocks, literal
    directives, comments, or a ``cnncount`` directive's body (declarations)."""
    skip: int | None = None  # lines indented deeper than this are skipped
    for i, line in enumerate(lines):
        if line.strip() and skip is not None:
            if _indent(line) > skip:
                continue
            skip = None
        if m := _ANY_DIRECTIVE.match(line):
            if m.group(2).lower() in LITERAL_DIRECTIVES or m.group(2).lower() == "cnncount":
                skip = _indent(line)
                continue
        elif _COMMENT.match(line):
            skip = _indent(line)
            continue
        elif line.rstrip().endswith("::"):
            skip = _indent(line)
        yield i, line


def _md_prose(lines: list[str]) -> Iterator[tuple[int, str]]:
    """The lines of a MyST text where a role would be read: outside code and literal fences
    and ``{cnncount}`` fences; inside the fences of other directives (a ``{note}``)."""
    ends: list[int] = []  # closing lines of the directive fences read inside
    i = 0
    while i < len(lines):
        if ends and i >= ends[-1]:
            i += i == ends.pop()
            continue
        m = _FENCE.match(lines[i])
        if not m:
            yield i, lines[i]
            i += 1
            continue
        info = m.group(3).strip()
        end = _fence_end(lines, i + 1, m.group(2), ends[-1] if ends else len(lines))
        name = _MYST_NAME.match(info)
        if (name and name.group(1).lower() not in MYST_LITERAL | {"cnncount"}
                and len(ends) < MAX_NESTING):
            ends.append(end)  # MyST again inside: its options are no prose, but harmless
            i += 1
            continue
        i = end + 1


def _paragraphs(prose: Iterator[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """Runs of consecutive prose lines (a role may wrap onto the next line): (index of the
    first line, the lines joined)."""
    start, run, last = 0, [], -2
    for i, line in prose:
        if run and (i != last + 1 or not line.strip()):
            yield start, "\n".join(run)
            run = []
        if line.strip():
            if not run:
                start = i
            run.append(line)
        last = i
    if run:
        yield start, "\n".join(run)


def _md_roles(text: str) -> Iterator[tuple[int, str]]:
    """(offset, content) of each ``{cnncount}`...``` of a MyST paragraph, skipping code spans:
    a run of N backticks ends at the next run of exactly N."""
    pos = 0
    while m := re.compile(r"(\{cnncount\})?(`+)").search(text, pos):
        run = m.group(2)
        close = re.compile(rf"(?<!`){run}(?!`)").search(text, m.end())
        if close is None:
            pos = m.end()
            continue
        if m.group(1):
            yield m.start(), text[m.end():close.start()]
        pos = close.end()


def parse_roles(text: str, file: str) -> list[RoleUse]:
    """Every cnncount role of a page, MyST or reST by the file's suffix, at its line."""
    lines = text.splitlines()
    md = file.lower().endswith(".md")
    out = []
    for first, para in _paragraphs(_md_prose(lines) if md else _rst_prose(lines)):
        found = (_md_roles(para) if md else
                 ((m.start(), m.group(1)) for m in _RST_INLINE.finditer(para) if m.group(1)))
        for offset, content in found:
            out.append(RoleUse(file, first + para.count("\n", 0, offset) + 1,
                               " ".join(content.split())))
    return out


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


def source_root(docs: str | os.PathLike[str]) -> Path:
    """The Sphinx source directory: the nearest folder at or above ``docs`` with a conf.py."""
    p = Path(docs).resolve()
    start = p if p.is_dir() else p.parent
    for d in (start, *start.parents):
        if (d / "conf.py").is_file():
            return d
    return start


def resolve_model(directive: Directive | RoleUse, srcdir: Path, model: str | None = None
                  ) -> str:
    """The model path (the directive's, or ``model`` as a role names it) as Sphinx's
    ``env.relfn2path`` resolves it, relative to cwd when inside."""
    model = directive.model if model is None else model  # type: ignore[union-attr]
    if model.startswith("/"):
        path = srcdir / model.lstrip("/")
    else:
        path = Path(directive.file).resolve().parent / model
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
