"""Browser fixtures: Debian's chromium through Playwright, offline, failing on any page error.

If the browser cannot start, the tests skip locally and fail in CI (``CI=true``), so a broken
browser setup never passes silently where it matters.
"""

from __future__ import annotations

import base64
import importlib.util
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from geo.render.png import CHROMIUM_ARGS

CHROMIUM = os.environ.get("CORRIDOR_CHROMIUM", "/usr/bin/chromium")
ARGS = list(CHROMIUM_ARGS)  # the flags the --png export launches Chromium with
VIEWPORT = {"width": 1400, "height": 850}
ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


def _unavailable(why: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser unavailable in CI: {why}")
    pytest.skip(f"browser unavailable: {why}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as e:
        _unavailable(f"playwright is not installed ({e})")
    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
    except Exception as e:  # any launch failure: missing binary, sandbox, libraries
        pw.stop()
        _unavailable(f"{CHROMIUM} did not start ({str(e).splitlines()[0]})")
    yield b
    b.close()
    pw.stop()


@dataclass
class MapPage:
    """A page with the network blocked and every console error, page error or request kept."""

    page: Any
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def open(self, path: Path) -> None:
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_function("window.CorridorMap && CorridorMap.map && CorridorMap.map._cm"
                                    " && CorridorMap.map._cm.control")  # fmt: skip
        self.settle()  # chunked marker loading, first animation frames

    def settle(self) -> int:
        """Wait until no zoom or pan runs and what is drawn stays the same for three frames."""
        return int(self.page.evaluate(SETTLE))

    def toggles(self, box: Any) -> bool:
        """Whether clicking an overlay's checkbox changes what is drawn, and clicking it again
        changes it back (the count need not return exactly: Leaflet may merge paths).

        Waits for each change by polling in the browser, never by sleeping.
        """
        box.hover()  # a reader points at the control before clicking: see boxes_agree
        self.page.evaluate("() => new Promise(r => setTimeout(r))")  # Leaflet's guard lifts
        before = self.drawn()
        box.click()
        try:
            self.page.wait_for_function(f"({DRAWN}) !== {before}", timeout=3000)
            hidden = self.drawn()
            box.click()  # back as it was, so the next overlay is measured alone
            self.page.wait_for_function(f"({DRAWN}) !== {hidden}", timeout=3000)
        except Exception:  # playwright's TimeoutError: nothing changed, the caller says what
            return False
        return True

    def boxes_agree(self) -> bool:
        """Whether every overlay's checkbox says what the map shows."""
        return bool(self.js(BOXES_AGREE))

    def js(self, expr: str, arg: Any = None) -> Any:
        return self.page.evaluate(expr, arg)

    def drawn(self) -> int:
        """Vector paths plus marker icons currently on the map."""
        return int(self.js(DRAWN))

    def colours(self, png: bytes) -> int:
        """Distinct colours of a screenshot, counted in the browser (no image library needed).

        Replaces the page's content: call it last.
        """
        self.page.set_content("<canvas id=c></canvas>")
        return int(
            self.page.evaluate(
                """async (uri) => {
              const img = new Image(); img.src = uri; await img.decode();
              const c = document.getElementById('c'); c.width = img.width; c.height = img.height;
              const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
              const d = ctx.getImageData(0, 0, img.width, img.height).data; const seen = new Set();
              for (let i = 0; i < d.length; i += 4) seen.add((d[i] << 16) | (d[i+1] << 8) | d[i+2]);
              return seen.size;
            }""",
                "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
            )
        )

    def check_clean(self) -> None:
        assert not self.blocked, f"the page tried to load {self.blocked[:3]}"
        assert not self.errors, f"console or page errors: {self.errors[:3]}"
        assert not self.dialogs, f"the page opened dialogs: {self.dialogs}"


DRAWN = (
    "document.querySelectorAll('.leaflet-pane path').length + "
    "document.querySelectorAll('.leaflet-marker-icon').length"
)
BOXES_AGREE = """() => {
  const c = CorridorMap.map._cm.control;
  return c._layerControlInputs.every(
    i => i.checked === CorridorMap.map.hasLayer(c._getLayer(i.layerId).layer));
}"""
# Resolves once the map is quiet: no zoom or pan animation, and the same number of drawn items
# for three animation frames in a row (chunked marker loading has finished). Fails after 15 s.
SETTLE = f"""() => new Promise((resolve, reject) => {{
  const m = window.CorridorMap && CorridorMap.map;
  const t0 = performance.now();
  let last = -1, same = 0;
  const tick = () => {{
    const n = {DRAWN};
    const busy = m && (m._animatingZoom || (m._panAnim && m._panAnim._inProgress)
      || m._container.classList.contains('leaflet-zoom-anim'));
    same = (!busy && n === last) ? same + 1 : 0;
    last = n;
    if (same >= 3) {{ resolve(n); return; }}
    if (performance.now() - t0 > 15000) {{ reject(new Error('the map did not settle')); return; }}
    requestAnimationFrame(tick);
  }};
  requestAnimationFrame(tick);
}})"""

HOOKS = """
window.__fired = [];
['alert', 'confirm', 'prompt'].forEach(function (n) {
  window[n] = function (m) { window.__fired.push(n + ':' + String(m)); };
});
"""


class _Tab:
    """One browser tab for the whole session, handed to each test as a fresh ``MapPage``.

    A new page costs a new renderer process (about 0.2 s) and loses V8's cache of the compiled
    Leaflet and runtime scripts, so a map opens in about 0.3 s in a reused tab against 0.7-0.9 s
    in a new one. Each test still starts from a blank document with the default viewport, its
    own lists of errors, requests and dialogs, and the hooks installed; a tab that crashed or
    was closed is replaced.
    """

    def __init__(self, browser: Any) -> None:
        self.browser = browser
        self.current = MapPage(page=None)  # events between tests land here and are dropped
        self.context: Any = None
        self.page: Any = None

    def _start(self) -> None:
        if self.context is not None:
            self.context.close()
        self.context = self.browser.new_context(viewport=VIEWPORT, java_script_enabled=True)
        page = self.context.new_page()
        page.add_init_script(HOOKS)

        def route(r: Any) -> None:
            url = r.request.url
            if url.startswith(("file:", "data:", "blob:", "about:")):
                r.continue_()
            else:
                self.current.blocked.append(url)
                r.abort()

        page.route("**/*", route)
        page.on(
            "console", lambda m: self.current.errors.append(m.text) if m.type == "error" else None
        )
        page.on("pageerror", lambda e: self.current.errors.append(f"pageerror: {e}"))
        page.on("dialog", lambda d: (self.current.dialogs.append(d.message), d.dismiss()))
        self.page = page

    def fresh(self) -> MapPage:
        self.current = MapPage(page=None)
        try:
            if self.page is None or self.page.is_closed():
                raise RuntimeError("no tab")
            self.page.goto("about:blank")
            self.page.set_viewport_size(VIEWPORT)
        except Exception:  # the tab crashed or a test closed it: start again
            self._start()
        self.current = MapPage(self.page)
        return self.current

    def close(self) -> None:
        if self.context is not None:
            self.context.close()


@pytest.fixture(scope="session")
def _tab(browser: Any) -> Iterator[_Tab]:
    tab = _Tab(browser)
    yield tab
    tab.close()


@pytest.fixture
def map_page(_tab: _Tab) -> Iterator[MapPage]:
    mp = _tab.fresh()
    yield mp
    _tab.current = MapPage(page=None)


def _fixtures_module() -> Any:
    spec = importlib.util.spec_from_file_location("map_fixtures", DATA / "map_fixtures.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="session")
def fixture_map(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture map (hand-made frames plus the hostile layer), written once per session."""
    from geo.render.corridor_map import build_map
    from geo.render.page import save_html

    fx = _fixtures_module()
    out = tmp_path_factory.mktemp("maps") / "map_fixture.html"
    return save_html(build_map(fx.SPEC, **fx.frames(n_deposits=1500)), out)


@pytest.fixture(params=["fixture", "corridor"])
def any_map(request: pytest.FixtureRequest) -> Path:
    """Each map to check: the fixture map, and maps/corridor.html when it has been built."""
    if request.param == "fixture":
        return Path(request.getfixturevalue("fixture_map"))
    p = ROOT / "maps" / "corridor.html"
    if not p.is_file():
        why = "maps/corridor.html not built (run `corridor map maps/corridor.toml`)"
        if os.environ.get("CI") == "true":
            pytest.fail(why)  # CI builds the map before the browser tests
        pytest.skip(why)
    return p
