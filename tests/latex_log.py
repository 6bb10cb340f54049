"""The Overfull boxes of a LaTeX run that come from cnncount's output.

TeX says where a box overflowed in three ways, and each is traced back to our output:

* ``Overfull \\hbox (...) in paragraph at lines A--B`` (or ``in alignment at lines``, or
  ``detected at line N``): lines of the ``.tex``; ours are those between ``%% cnncount: begin``
  and ``%% cnncount: end`` (a diagram) and inside a ``sphinxuseclass`` environment of class
  ``cnncount`` (the directive's container: the diagram and the table);
* ``Overfull \\vbox (...) has occurred while \\output is active``: a page whose content was
  taller than the page; ours when that page, shipped out next (``[N ... ]``), holds a diagram:
  every diagram writes ``cnncount: figure`` to the log when its page is shipped out.

    python -m tests.latex_log BUILD.log BUILD.tex    # prints ours, exit 1 if there are any
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

MARK = "cnncount: figure"  # what render.tikz writes to the log as a diagram's page ships out
BEGIN, END = "%% cnncount: begin", "%% cnncount: end"
_LINES = re.compile(r"^(Overfull \\[hv]box \([\d.]+pt too \w+\)) "
                    r"(?:in (?:paragraph|alignment) at lines (\d+)--(\d+)|detected at line (\d+))")
_OUTPUT = re.compile(r"^(Overfull \\vbox \([\d.]+pt too high\)) has occurred while \\output is "
                     r"active")


def our_lines(tex: str, tables: bool = True) -> list[tuple[int, int]]:
    """The line ranges (1-based, inclusive) of our output in a ``.tex`` file: the diagrams,
    and with ``tables`` the directive's whole container."""
    spans: list[tuple[int, int]] = []
    stack: list[tuple[int, bool]] = []  # open sphinxuseclass environments: line, ours
    start = None
    for n, line in enumerate(tex.splitlines(), start=1):
        if line.startswith(BEGIN):
            start = n
        elif line.startswith(END) and start is not None:
            spans.append((start, n))
            start = None
        for m in re.finditer(r"\\(begin|end)\{sphinxuseclass\}(?:\{([^}]*)\})?", line):
            if m.group(1) == "begin":
                stack.append((n, m.group(2) == "cnncount"))
            elif stack:
                opened, ours = stack.pop()
                if ours and tables:
                    spans.append((opened, n))
    return spans


def overfull(log: str, tex: str, tables: bool = True) -> list[str]:
    """The Overfull box messages of ``log`` that our output caused, as TeX wrote them (with
    ``tables`` False, our diagrams')."""
    spans = our_lines(tex, tables)
    lines = log.splitlines()
    found = []
    for k, line in enumerate(lines):
        if m := _LINES.match(line):
            a, b = (int(m.group(2)), int(m.group(3))) if m.group(2) else (int(m.group(4)),) * 2
            if any(a <= hi and lo <= b for lo, hi in spans):
                found.append(line)
        elif _OUTPUT.match(line) and _next_page_is_ours(lines[k + 1:]):
            found.append(line)
    return found


def _next_page_is_ours(rest: list[str]) -> bool:
    """Whether the page shipped out next (``[N`` to its ``]``) holds one of our diagrams."""
    text = "\n".join(rest)
    start = re.search(r"\[\d+", text)
    if start is None:
        return False
    depth, end = 0, len(text)
    for i in range(start.start(), len(text)):
        if text[i] == "[":
            depth += 1
        elif text[i] == "]":
            depth -= 1
            if depth == 0:
                end = i
                break
    return MARK in text[start.start():end]


def main(argv: list[str]) -> int:
    log, tex = (Path(p).read_text(encoding="utf-8", errors="replace") for p in argv)
    found = overfull(log, tex)
    for line in found:
        print(f"{argv[0]}: {line}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
