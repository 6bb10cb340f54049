"""The theme matrix in a real browser: each theme x light/dark x 1280/390 px.

tests/roots/test-themes (LeNet-5, ResNet-18 at depth 2 with a wide table, a residual block's
graph, ResNet-18 at depth 3 as a long table and as 3D blocks) is built with alabaster, furo,
sphinx-rtd-theme, pydata-sphinx-theme and sphinx-book-theme, and opened in headless Chromium (selenium, with the system's chromedriver).
For each combination:

* every table's header and row cells are in column order, inside the table's box, numbers
  right-aligned (the text's right edge at the cell's padding edge); the page itself never
  scrolls sideways (a wide table scrolls in its own box); between a table or a diagram and its
  block, one box scrolls when it is wider than the block, and none when it fits (each box's
  scrollWidth against its clientWidth: headless Chromium hides scrollbars);
* every diagram label's colour has a contrast of at least 4.5:1 with the page background behind
  the figure and with the planes' fill, and is rendered at least 9 px tall.

Screenshots of each cnncount block go to ``$CNNCOUNT_SCREENSHOTS`` (default
``build/screenshots``), one file per theme, mode, width and block. Skipped where Chromium,
chromedriver or selenium is missing; ``.ci/run`` installs them.

    python -m pytest tests/test_themes.py          # or, for the screenshots alone:
    python tests/test_themes.py [OUT_DIR]
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SRC = Path(__file__).resolve().parent / "roots" / "test-themes"
THEMES = ("alabaster", "furo", "sphinx_rtd_theme", "pydata_sphinx_theme", "sphinx_book_theme")
MODES = ("light", "dark")
WIDTHS = {1280: (1280, 900, False), 390: (390, 844, True)}  # width: (w, h, mobile)
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
DRIVERS = ("chromedriver", "/usr/lib/chromium/chromedriver")
TOLERANCE = 1.5  # px

# What the page reports, measured by the browser itself.
MEASURE = r"""
const px = (r) => ({left: r.left, right: r.right, top: r.top, bottom: r.bottom,
                    width: r.width, height: r.height});
const opaque = (c) => c && c !== "transparent" && !/rgba\(.*,\s*0\)$/.test(c);
function background(el) {
  for (let e = el; e; e = e.parentElement) {
    const c = getComputedStyle(e).backgroundColor;
    if (opaque(c)) return c;
  }
  return "rgb(255, 255, 255)";  // the canvas
}
const tables = [...document.querySelectorAll("table.cnncount-table")].map((t) => ({
  box: px(t.getBoundingClientRect()),
  rows: [...t.querySelectorAll("tr")].map((tr) => [...tr.children].map((c) => {
    const range = document.createRange();
    range.selectNodeContents(c);
    const s = getComputedStyle(c);
    return {text: c.textContent.trim(), numeric: c.classList.contains("cnncount-num"),
            cell: px(c.getBoundingClientRect()), ink: px(range.getBoundingClientRect()),
            pad_left: parseFloat(s.paddingLeft), pad_right: parseFloat(s.paddingRight),
            align: s.textAlign, float: s.cssFloat};
  })),
}));
const svgs = [...document.querySelectorAll("svg.cnncount-diagram")].map((svg) => {
  const shown = svg.getBoundingClientRect();
  const scale = shown.width / svg.viewBox.baseVal.width;
  const plane = svg.querySelector(".cnncount-plane, .cnncount-box");
  return {
    width: shown.width, natural: svg.viewBox.baseVal.width, background: background(svg),
    plane: plane ? getComputedStyle(plane).fill : null,
    texts: [...svg.querySelectorAll("text")].map((t) => ({
      text: t.textContent, fill: getComputedStyle(t).fill,
      px: parseFloat(getComputedStyle(t).fontSize) * scale})),
  };
});
const blocks = [...document.querySelectorAll("div.cnncount")].map(
  (b) => b.getBoundingClientRect().right);
// Every box between a table (or a diagram) and its cnncount block that scrolls sideways, or
// shows a scrollbar: overflow-x auto or scroll and wider content than itself, or scroll.
const scrolling = (el) => {
  const s = getComputedStyle(el).overflowX;
  return s === "scroll" || (s === "auto" && el.scrollWidth > el.clientWidth + 1);
};
const scrollers = [...document.querySelectorAll("table.cnncount-table, svg.cnncount-diagram")]
  .map((el) => {
    const block = el.closest("div.cnncount");
    const boxes = [];
    for (let e = el.parentElement; e && block.contains(e); e = e.parentElement) {
      if (scrolling(e)) boxes.push({tag: e.tagName.toLowerCase(), classes: e.className,
                                    scroll_width: e.scrollWidth, client_width: e.clientWidth});
    }
    return {what: el.tagName.toLowerCase(), width: el.getBoundingClientRect().width,
            room: block.clientWidth, boxes};
  });
return JSON.stringify({tables, svgs, blocks, scrollers, scroll_width: document.documentElement.scrollWidth,
                       client_width: document.documentElement.clientWidth,
                       inner_width: window.innerWidth,
                       ids: [...document.querySelectorAll("[id]")].map((e) => e.id)});
"""


def _luminance(colour: str) -> float:
    """Of ``rgb(r, g, b)`` (0-255) or ``color(srgb r g b)`` (0-1, as color-mix() computes)."""
    values = [float(v) for v in re.findall(r"[\d.]+", colour)[:3]]
    if colour.startswith("color("):
        values = [v * 255 for v in values]

    def channel(v: float) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = values

    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two CSS rgb() colours."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def problems(report: dict, where: str, headers: list[list[str]], width: int) -> list[str]:
    """What is wrong in one page's measurements (empty: all checks pass)."""
    out = []
    # On a phone the layout viewport widens to whatever overflows it: it must stay the device's.
    if report["inner_width"] > width or report["scroll_width"] > report["client_width"] + 1:
        out.append(f"{where}: the page scrolls sideways ({report['scroll_width']} px in "
                   f"{report['client_width']}, viewport {report['inner_width']})")
    for k, right in enumerate(report["blocks"]):
        if right > report["client_width"] + TOLERANCE:
            out.append(f"{where}: block {k} ends at {right:.0f} px, past the page's "
                       f"{report['client_width']}")
    for k, box in enumerate(report["scrollers"]):
        # One box scrolls a table or a diagram wider than the page, and none one that fits.
        fits = box["width"] <= box["room"] + TOLERANCE
        if len(box["boxes"]) > (0 if fits else 1):
            shown = ", ".join(f"{b['tag']}.{b['classes'].replace(' ', '.')} ({b['scroll_width']} "
                              f"px in {b['client_width']})" for b in box["boxes"])
            out.append(f"{where}: {box['what']} {k} ({box['width']:.0f} px, room for "
                       f"{box['room']}) {'fits' if fits else 'is wider'}, and scrolls in "
                       f"{len(box['boxes'])} boxes: {shown}")
    dupes = {i for i in report["ids"] if report["ids"].count(i) > 1}
    if dupes:
        out.append(f"{where}: ids written twice: {sorted(dupes)}")
    if len(report["tables"]) != len(headers):
        out.append(f"{where}: {len(report['tables'])} tables, expected {len(headers)}")
    for k, (table, header) in enumerate(zip(report["tables"], headers)):
        box = table["box"]
        if [c["text"] for c in table["rows"][0]] != header:
            out.append(f"{where}: table {k} header {[c['text'] for c in table['rows'][0]]}")
        for r, row in enumerate(table["rows"]):
            lefts = [c["cell"]["left"] for c in row]
            if lefts != sorted(lefts) or len(set(lefts)) != len(lefts):
                out.append(f"{where}: table {k} row {r} cells out of column order")
            for c in row:
                cell = c["cell"]
                if not (box["left"] - TOLERANCE <= cell["left"] and
                        cell["right"] <= box["right"] + TOLERANCE and
                        box["top"] - TOLERANCE <= cell["top"] and
                        cell["bottom"] <= box["bottom"] + TOLERANCE):
                    out.append(f"{where}: table {k} row {r} cell {c['text']!r} outside the "
                               "table's box")
                if c["numeric"] and c["text"]:
                    edge = cell["right"] - c["pad_right"]
                    if c["align"] != "right" or abs(edge - c["ink"]["right"]) > TOLERANCE:
                        out.append(f"{where}: table {k} row {r} number {c['text']!r} not "
                                   f"right-aligned ({c['align']}, ends at "
                                   f"{c['ink']['right']:.1f}, cell edge {edge:.1f})")
    if not report["svgs"]:
        out.append(f"{where}: no diagrams")
    for k, svg in enumerate(report["svgs"]):
        for t in svg["texts"]:
            ratio = contrast(t["fill"], svg["background"])
            if ratio < 4.5:
                out.append(f"{where}: diagram {k} label {t['text']!r} contrast {ratio:.2f} "
                           f"({t['fill']} on {svg['background']})")
                break
            if svg["plane"] and contrast(t["fill"], svg["plane"]) < 4.5:
                out.append(f"{where}: diagram {k} planes {svg['plane']} against the text "
                           f"{t['fill']}")
                break
        smallest = min(t["px"] for t in svg["texts"])
        if smallest < 9 - 0.05:
            out.append(f"{where}: diagram {k} labels rendered at {smallest:.1f} px")
    return out


def build(theme: str, outdir: Path) -> str:
    """Build the matrix's project with ``theme``; the warnings (none expected)."""
    from tests.helpers import sphinx_build

    return sphinx_build(SRC, outdir, "html", html_theme=theme)


def _driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = next(filter(None, map(shutil.which, BROWSERS)))
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--force-device-scale-factor=1"):
        options.add_argument(flag)
    driver = next(filter(None, map(shutil.which, DRIVERS)))
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


def expected_headers() -> list[list[str]]:
    from sphinx_cnncount.render import DEFAULT_COLUMNS, parse_columns

    wide = parse_columns("layer, type, output, params, connections, macs, flops, "
                         "receptive_field")
    return [[c.title for c in cols]
            for cols in (DEFAULT_COLUMNS, wide, DEFAULT_COLUMNS, DEFAULT_COLUMNS)]


def run_matrix(out: Path, shots: Path | None) -> list[str]:
    """Build every theme, open every combination, return the problems found."""
    found: list[str] = []
    headers = expected_headers()
    driver = _driver()
    try:
        for theme in THEMES:
            html = out / theme
            warnings = build(theme, html)
            if "WARNING" in warnings or "ERROR" in warnings:
                found.append(f"{theme}: the build warned: {warnings.strip()}")
            url = (html / "index.html").as_uri()
            for mode in MODES:
                for width, (w, h, mobile) in WIDTHS.items():
                    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                        "width": w, "height": h, "deviceScaleFactor": 1, "mobile": mobile})
                    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
                        "features": [{"name": "prefers-color-scheme", "value": mode}]})
                    driver.get(url)
                    driver.execute_script("return document.fonts.ready")
                    where = f"{theme}/{mode}/{width}"
                    report = json.loads(driver.execute_script(MEASURE))
                    found += problems(report, where, headers, w)
                    if shots is not None:
                        _screenshots(driver, shots, f"{theme}-{mode}-{width}")
    finally:
        driver.quit()
    return found


def _screenshots(driver, folder: Path, stem: str) -> None:
    """One PNG per cnncount block, the page's full width around it."""
    folder.mkdir(parents=True, exist_ok=True)
    blocks = driver.execute_script("""
        return [...document.querySelectorAll("div.cnncount")].map((b) => {
          const r = b.getBoundingClientRect();
          return [r.top + window.scrollY, r.height];
        });""")
    width = driver.execute_script("return window.innerWidth")
    full = driver.execute_script("return document.documentElement.scrollHeight")
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssLayoutViewport"]
    mobile = width < 1000
    # A viewport as tall as the page, so that a phone's screenshot paints below the fold too.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": min(full, 16000), "deviceScaleFactor": 1, "mobile": mobile})
    for k, (top, height) in enumerate(blocks):
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": max(0, top - 40), "width": width, "height": height + 80,
                     "scale": 1}})
        (folder / f"{stem}-{k}.png").write_bytes(base64.b64decode(shot["data"]))
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": metrics["clientHeight"], "deviceScaleFactor": 1,
        "mobile": mobile})


def _available() -> str | None:
    """Why the matrix cannot run here, or None."""
    if not any(map(shutil.which, BROWSERS)):
        return "no Chromium"
    if not any(map(shutil.which, DRIVERS)):
        return "no chromedriver"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "no selenium"
    return None


def screenshot_dir() -> Path:
    return Path(os.environ.get("CNNCOUNT_SCREENSHOTS", ROOT / "build" / "screenshots"))


@pytest.mark.skipif(_available() is not None, reason=f"theme matrix: {_available()}")
def test_theme_matrix(tmp_path: Path) -> None:
    found = run_matrix(tmp_path, screenshot_dir())
    assert not found, "\n".join(found)


def test_contrast_is_wcag() -> None:
    assert contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)") == pytest.approx(21)
    assert contrast("rgb(119, 119, 119)", "rgb(255, 255, 255)") == pytest.approx(4.48, abs=0.01)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))  # for tests.helpers
    reason = _available()
    if reason:
        sys.exit(f"test_themes: {reason}")
    import tempfile

    shots = Path(sys.argv[1]) if len(sys.argv) > 1 else screenshot_dir()
    with tempfile.TemporaryDirectory() as tmp:
        found = run_matrix(Path(tmp), shots)
    print("\n".join(found) or f"theme matrix: all checks pass; screenshots in {shots}")
    sys.exit(1 if found else 0)
