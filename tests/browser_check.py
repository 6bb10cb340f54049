"""Open the built LeNet-5 docs page in headless Chromium: the diagram and the table must show.

    sphinx-build -W -b html docs docs/_build/html
    python tests/browser_check.py [--html docs/_build/html/lenet5.html] [--png OUT.png]

Checks that a screenshot is written and is not blank, and that the DOM Chromium builds holds the
``cnncount`` SVG with a non-zero width and height and the ``cnncount`` table with LeNet-5's rows.
Run by CI, not by pytest. Exit status: 0 all checks pass, 1 a check failed, 2 it could not run
(no Chromium, no built page).
"""

from __future__ import annotations

import argparse
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars")
WINDOW = (1200, 2000)


def chromium(browser: str, *args: str) -> str:
    """Run headless Chromium with a throwaway profile; its stdout."""
    with tempfile.TemporaryDirectory(prefix="browser-check-") as profile:
        done = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=180, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{browser} exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return done.stdout


def png_problems(path: Path) -> list[str]:
    """What is wrong with the screenshot: missing, not a PNG of the window's size, or blank.

    Blank is judged on the decompressed image data: a page of one colour, whatever PNG filter
    Chromium picks per row, uses a handful of distinct byte values; text and drawings use many.
    """
    if not path.is_file() or path.stat().st_size == 0:
        return [f"no screenshot at {path}"]
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return [f"{path} is not a PNG"]
    pos, idat, header = 8, [], b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = chunk
        elif kind == b"IDAT":
            idat.append(chunk)
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    problems = []
    if (width, height) != WINDOW:
        problems.append(f"screenshot is {width}x{height}, expected {WINDOW[0]}x{WINDOW[1]}")
    pixels = zlib.decompress(b"".join(idat))
    distinct = len(set(pixels))
    if distinct < 16:
        problems.append(f"screenshot looks blank ({distinct} distinct byte values)")
    return problems


class _Page(HTMLParser):
    """The cnncount SVGs (their width and height) and table rows in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.svgs: list[tuple[str, str]] = []
        self.rows: list[list[str]] = []
        self._table = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "svg" and "cnncount-diagram" in classes:
            self.svgs.append((a.get("width") or "", a.get("height") or ""))
        elif tag == "table" and "cnncount-table" in classes:
            self._table = True
        elif self._table and tag == "tr":
            self.rows.append([])
        elif self._table and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def dom_problems(dom: str) -> list[str]:
    page = _Page()
    page.feed(dom)
    problems = []
    if not page.svgs:
        problems.append("no cnncount SVG in the page")
    for width, height in page.svgs:
        if not (width.isdigit() and height.isdigit() and int(width) > 0 and int(height) > 0):
            problems.append(f"SVG has width={width!r} height={height!r}")
    first = {row[0]: row for row in page.rows if row}
    if "C1" not in first or "6@28x28" not in first["C1"]:
        problems.append("no cnncount table with LeNet-5's C1 row (6@28x28)")
    if "Total" not in first:
        problems.append("the cnncount table has no totals row")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html", type=Path, default=ROOT / "docs/_build/html/lenet5.html")
    parser.add_argument("--png", type=Path, default=ROOT / "docs/_build/browser/lenet5.png")
    parser.add_argument("--browser", default=next(filter(shutil.which, BROWSERS), None))
    args = parser.parse_args(argv)
    if not args.browser:
        print(f"browser_check: none of {', '.join(BROWSERS)} is installed", file=sys.stderr)
        return 2
    if not args.html.is_file():
        print(f"browser_check: {args.html} does not exist; build the docs first", file=sys.stderr)
        return 2
    url = args.html.resolve().as_uri()
    args.png.parent.mkdir(parents=True, exist_ok=True)
    args.png.unlink(missing_ok=True)
    try:
        chromium(args.browser, f"--screenshot={args.png.resolve()}",
                 f"--window-size={WINDOW[0]},{WINDOW[1]}", url)
        dom = chromium(args.browser, "--dump-dom", url)
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
        print(f"browser_check: {exc}", file=sys.stderr)
        return 2
    problems = png_problems(args.png) + dom_problems(dom)
    for problem in problems:
        print(f"browser_check: FAIL: {problem}", file=sys.stderr)
    if not problems:
        print(f"browser_check: ok: {url} (screenshot {args.png})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
