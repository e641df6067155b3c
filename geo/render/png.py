"""A picture of a map page: the offline page rendered in headless Chromium, saved as PNG.

Playwright drives the Chromium the browser tests use; it is an optional dependency (the
``png`` extra), imported only here and only when a picture is asked for. The page is opened
from its file with every request off the machine refused, put in export mode (the same rules
as the print stylesheet: no zoom or tool buttons, the legend open, title, scale and
attribution kept) and photographed at the size asked for.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..data.files import atomic_write_bytes
from ..errors import GeoError

__all__ = ["CHROMIUM_ARGS", "DEFAULT_SIZE", "parse_size", "save_png"]

DEFAULT_SIZE = (1600, 1000)
MIN_SIDE, MAX_SIDE = 200, 8000
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
)
LOAD_TIMEOUT_MS = 60_000
# Export mode: the legend open, the stats panel closed, the labels placed for the final size.
EXPORT = """() => {
  document.body.classList.add('cm-export');
  const m = CorridorMap.map;
  m.invalidateSize();
  CorridorMap.openPanel(m, 'cm-stats', false);
  CorridorMap.openPanel(m, 'cm-legend', true);
  CorridorMap.arrange(m, document.getElementById('cm-legend'));
  if (m._cm.labels) { m._cm.labels.layout(); }
}"""
# Resolves once the map is quiet: the same number of drawn things for three frames.
QUIET = """() => new Promise(resolve => {
  let last = -1, same = 0;
  const count = () => document.querySelectorAll('.leaflet-pane path, .leaflet-marker-icon,'
    + ' .cm-label').length;
  const tick = () => {
    const n = count();
    same = n === last ? same + 1 : 0;
    last = n;
    if (same >= 3) { resolve(n); } else { requestAnimationFrame(tick); }
  };
  requestAnimationFrame(tick);
})"""


def parse_size(text: str) -> tuple[int, int]:
    """``"1600x1000"`` -> ``(1600, 1000)``; a GeoError naming ``--size`` for anything else.

    >>> parse_size("1280x860"), parse_size(" 390X844 ")
    ((1280, 860), (390, 844))
    """
    m = re.fullmatch(r"\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*", text)
    if not m:
        msg = f"--size: '{text[:40]}' is not WIDTHxHEIGHT in pixels; write e.g. --size 1600x1000"
        raise GeoError(msg)
    w, h = int(m.group(1)), int(m.group(2))
    if not (MIN_SIDE <= w <= MAX_SIDE and MIN_SIDE <= h <= MAX_SIDE):
        msg = f"--size: {w}x{h} is out of range; give each side {MIN_SIDE} to {MAX_SIDE} pixels"
        raise GeoError(msg)
    return w, h


def _playwright() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as e:
        msg = (
            "--png: the PNG export needs Playwright, which is not installed; install it with "
            "pip install 'corridor-map[png]' (and Chromium: apt-get install chromium)"
        )
        raise GeoError(msg) from e
    return sync_playwright


def save_png(html: Path, png: Path, *, size: tuple[int, int] = DEFAULT_SIZE, chromium: str) -> Path:
    """Photograph the map page ``html`` at ``size`` (width, height) and write it to ``png``.

    Parameters
    ----------
    html : Path
        A page written by :func:`geo.render.page.save_html` (self-contained, offline).
    png : Path
        Where the picture goes (written atomically).
    size : tuple of int
        The window in CSS pixels; the picture has exactly this size.
    chromium : str
        The Chromium executable (Debian's ``/usr/bin/chromium``).

    Raises
    ------
    GeoError
        Playwright or Chromium is missing, or the page did not load.
    """
    if not Path(chromium).is_file():
        msg = (
            f"--png: no Chromium at {chromium}; install it (apt-get install chromium) or set "
            "CORRIDOR_CHROMIUM to its path"
        )
        raise GeoError(msg)
    sync_playwright = _playwright()
    width, height = size
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=chromium, args=list(CHROMIUM_ARGS))
        except Exception as e:  # playwright's own errors: a broken binary, missing libraries
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            msg = f"--png: Chromium at {chromium} did not start ({first[:200]})"
            raise GeoError(msg) from e
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.route("**/*", _offline)
            page.goto(html.resolve().as_uri())
            page.wait_for_function(
                "window.CorridorMap && CorridorMap.map && CorridorMap.map._cm"
                " && CorridorMap.map._cm.control",
                timeout=LOAD_TIMEOUT_MS,
            )
            page.evaluate(EXPORT)
            page.evaluate(QUIET)
            picture = page.screenshot(type="png")
        except Exception as e:  # a page that never finished loading
            msg = f"--png: the map page {html.name} did not load in Chromium ({type(e).__name__})"
            raise GeoError(msg) from e
        finally:
            browser.close()
    atomic_write_bytes(png, picture, mode=0o644)
    return png


def _offline(route: Any) -> None:
    """Only the page's own file (and inline data) may load: the page works offline."""
    if route.request.url.startswith(("file:", "data:", "blob:", "about:")):
        route.continue_()
    else:
        route.abort()
