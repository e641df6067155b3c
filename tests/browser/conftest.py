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

CHROMIUM = os.environ.get("CORRIDOR_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
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
        """Whether clicking an overlay's checkbox changes what is drawn; it is clicked back.

        Waits for the change, and for the map to settle after the second click, by polling in
        the browser, never by sleeping.
        """
        before = self.drawn()
        box.click()
        try:
            self.page.wait_for_function(f"({DRAWN}) !== {before}", timeout=3000)
        except Exception:  # playwright's TimeoutError: nothing changed, the caller says what
            return False
        box.click()  # back as it was, so the next overlay is measured alone
        self.settle()  # the count need not return to `before` (Leaflet may merge paths)
        return True

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


@pytest.fixture
def map_page(browser: Any) -> Iterator[MapPage]:
    context = browser.new_context(viewport=VIEWPORT, java_script_enabled=True)
    page = context.new_page()
    mp = MapPage(page)
    page.add_init_script(HOOKS)

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(("file:", "data:", "blob:", "about:")):
            r.continue_()
        else:
            mp.blocked.append(url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: mp.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: mp.errors.append(f"pageerror: {e}"))
    page.on("dialog", lambda d: (mp.dialogs.append(d.message), d.dismiss()))
    yield mp
    context.close()


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
