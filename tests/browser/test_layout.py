"""The panels' layout on a phone (390 x 844) and a desktop (1280 x 860), on every kind of page.

The legend, the statistics panel, the title, every Leaflet control and the supply map's market
selector never overlap, at opening and while panels are opened and closed; at opening the
panels leave the map visible (at most 15 % of it on a phone, 25 % on a desktop); the market
selector takes a real click on a phone; tap targets are 40 px or more on a phone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT, MapPage

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}
SIZES = {"phone": PHONE, "desktop": DESKTOP}
BUDGET = {"phone": 0.15, "desktop": 0.25}  # the share of the map open panels may cover
EXPORTS = ROOT / "maps" / "exports.html"
PANELS = ("cm-stats", "cm-legend")

# Every box that must stand clear of the others: the panels, the title, each Leaflet control
# (the layer list as its button), the market selector. Boxes nested in one another are one
# thing (the selector is inside its panel). Returns the boxes and the pairs that meet.
BOXES = """() => {
  const seen = [];
  const add = (name, e) => {
    if (!e || seen.some(s => s.e === e) || !e.offsetWidth || !e.offsetHeight) return;
    const r = e.getBoundingClientRect();
    seen.push({name, e, x: r.x, y: r.y, w: r.width, h: r.height});
  };
  add('legend', document.getElementById('cm-legend'));
  add('stats', document.getElementById('cm-stats'));
  add('title', document.querySelector('.cm-title'));
  add('market selector', document.getElementById('cm-market'));
  document.querySelectorAll('.leaflet-control').forEach(e => add(e.className, e));
  const meets = [];
  for (let i = 0; i < seen.length; i++) {
    for (let j = i + 1; j < seen.length; j++) {
      const a = seen[i], b = seen[j];
      if (a.e.contains(b.e) || b.e.contains(a.e)) continue;
      const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
      const h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
      if (w > 0.5 && h > 0.5) meets.push([a.name, b.name, Math.round(w), Math.round(h)]);
    }
  }
  return {meets, boxes: seen.map(s => [s.name, s.x, s.y, s.w, s.h])};
}"""
# The share of the map under the panels, counted on a 2 px grid (their union, not their sum).
COVERED = """() => {
  const m = CorridorMap.map.getContainer().getBoundingClientRect();
  const p = ['cm-legend', 'cm-stats'].map(id => document.getElementById(id))
    .filter(e => e).map(e => e.getBoundingClientRect());
  let hit = 0, all = 0;
  for (let x = m.left + 1; x < m.right; x += 2) {
    for (let y = m.top + 1; y < m.bottom; y += 2) {
      all++;
      if (p.some(r => x >= r.left && x < r.right && y >= r.top && y < r.bottom)) hit++;
    }
  }
  return hit / all;
}"""


@pytest.fixture(scope="module")
def route_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A route map as `corridor route --map` writes it (the session's store is empty)."""
    import geo
    from geo.render.corridor_map import route_map
    from geo.render.page import save_html

    legs = geo.route("Xi'an", "Duisburg", avoid=["RUS"])
    return save_html(route_map(legs), tmp_path_factory.mktemp("layout") / "route.html")


@pytest.fixture(params=["corridor", "exports", "route", "fixture"])
def page_path(request: pytest.FixtureRequest) -> Path:
    """Each page with panels: the committed maps, a route map, the fixture map (user layers)."""
    if request.param == "route":
        return Path(request.getfixturevalue("route_page"))
    if request.param == "fixture":
        return Path(request.getfixturevalue("fixture_map"))
    return ROOT / "maps" / f"{request.param}.html"


def open_at(mp: MapPage, path: Path, size: str) -> None:
    mp.page.set_viewport_size(SIZES[size])
    mp.open(path)


def clear(mp: MapPage, when: str) -> None:
    """Nothing meets anything, and every box lies inside the window."""
    found: dict[str, Any] = mp.js(BOXES)
    assert not found["meets"], f"{when}: boxes meet (a, b, overlap w, h): {found['meets']}"
    view = mp.page.viewport_size
    for name, x, y, w, h in found["boxes"]:
        assert x >= 0 and y >= 0, f"{when}: {name} starts off the window ({x:.0f}, {y:.0f})"
        assert x + w <= view["width"] + 0.5 and y + h <= view["height"] + 0.5, (
            f"{when}: {name} runs off the window"
        )


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_panels_open_clear_of_each_other_and_leave_the_map_visible(
    map_page: MapPage, page_path: Path, size: str
) -> None:
    open_at(map_page, page_path, size)
    clear(map_page, "at opening")
    share = map_page.js(COVERED)
    assert share <= BUDGET[size], f"the panels cover {share:.0%} of the map at opening"
    assert map_page.page.locator(".cm-panel .cm-head").count() == len(PANELS)
    # At least one panel shows more than its button on a desktop: the page is not all closed.
    if size == "desktop":
        assert map_page.page.locator(".cm-head[aria-expanded=true]").count() >= 1
    else:  # on a phone the panels open as buttons (the supply map keeps its selector)
        assert map_page.page.locator(".cm-head[aria-expanded=true]").count() == 0
    map_page.check_clean()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_panels_open_and_close_on_tap_and_never_overlap(
    map_page: MapPage, page_path: Path, size: str
) -> None:
    open_at(map_page, page_path, size)
    for pid in PANELS:
        head = map_page.page.locator(f"#{pid} .cm-head")
        body = map_page.page.locator(f"#{pid} .cm-body")
        if head.get_attribute("aria-expanded") == "true":  # start closed
            head.click()
        assert head.get_attribute("aria-expanded") == "false"
        assert not body.is_visible()
        head.click()  # a tap opens it
        assert head.get_attribute("aria-expanded") == "true"
        assert body.is_visible()
        box = body.bounding_box()
        assert box is not None and box["height"] > 20
        clear(map_page, f"{pid} opened")
        for other in PANELS:  # every panel says what it shows
            shown = map_page.page.locator(f"#{other} .cm-body").is_visible()
            expanded = map_page.page.locator(f"#{other} .cm-head").get_attribute("aria-expanded")
            assert expanded == ("true" if shown else "false"), other
        head.click()  # and closes it again
        assert head.get_attribute("aria-expanded") == "false"
        assert not body.is_visible()
        clear(map_page, f"{pid} closed")
    map_page.check_clean()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_market_selector_takes_a_real_click(map_page: MapPage, size: str) -> None:
    open_at(map_page, EXPORTS, size)
    sel = map_page.page.locator("#cm-market")
    for step in ("at opening", "with the legend open"):
        before = sel.input_value()
        summary = map_page.page.locator("#cm-sum").text_content()
        sel.click(timeout=3000)  # no force: fails if anything covers the selector
        map_page.page.keyboard.press("ArrowDown")
        map_page.page.keyboard.press("Enter")
        assert sel.input_value() != before, step
        assert map_page.page.locator("#cm-sum").text_content() != summary, step
        clear(map_page, step)
        legend = map_page.page.locator("#cm-legend .cm-head")
        if legend.get_attribute("aria-expanded") == "false":
            legend.click()
    map_page.check_clean()


def test_tap_targets_on_a_phone(map_page: MapPage, page_path: Path) -> None:
    open_at(map_page, page_path, "phone")
    sizes = map_page.js(
        """() => Array.from(document.querySelectorAll(
            '.cm-head, .leaflet-bar a, .leaflet-control-layers-toggle, #cm-market'))
          .filter(e => e.offsetWidth).map(e => [e.className || e.id, e.offsetWidth, e.offsetHeight])"""
    )
    assert len(sizes) >= 6
    small = [s for s in sizes if min(s[1], s[2]) < 40]
    assert not small, f"tap targets under 40 px: {small}"
    map_page.check_clean()


def test_a_clicked_deposit_opens_its_comparison_on_a_phone(map_page: MapPage) -> None:
    open_at(map_page, EXPORTS, "phone")
    map_page.js("() => { CorridorMap.selectDeposit(0); }")
    assert map_page.page.locator("#cm-stats .cm-head").get_attribute("aria-expanded") == "true"
    table = map_page.page.locator("#cm-cmp table")
    assert table.is_visible()
    map_page.settle()
    clear(map_page, "comparison open")
    map_page.check_clean()


# The comparison open on a phone may cover at most this share of the map: the figures (km,
# days, USD and kg CO2e per TEU and their extras) stay, the route texts fold. It covered 61 %
# of a 390 x 844 map before they folded (Inkai to Yokohama), 44 % after.
PHONE_COMPARISON = 0.5


def test_the_comparison_on_a_phone_leaves_half_the_map(map_page: MapPage) -> None:
    open_at(map_page, EXPORTS, "phone")
    name = "Inkai"
    map_page.js(f"""() => {{
      for (let i = 0; i < CorridorMap.exportMarkers.length; i++) {{
        if (CorridorMap.depositName(i) === {name!r}) {{ CorridorMap.selectDeposit(i); return; }}
      }}
    }}""")
    map_page.settle()
    figures = map_page.page.locator("#cm-cmp tbody").first.locator("tr")
    texts = map_page.page.locator("#cm-cmp tbody.cm-xtexts")
    assert figures.count() == 4 and figures.first.is_visible()
    assert figures.nth(3).locator("th").inner_text() == "CO2e per TEU"
    assert not texts.is_visible() and not map_page.page.locator("#cm-sum").is_visible()
    covered = map_page.js(COVERED)
    assert covered <= PHONE_COMPARISON, f"the comparison covers {covered:.0%} of the map"
    clear(map_page, "comparison open")
    fold = map_page.page.locator("#cm-cmp .cm-xfold")
    assert fold.get_attribute("aria-expanded") == "false"
    fold.click()
    assert texts.is_visible() and fold.get_attribute("aria-expanded") == "true"
    assert "KAZ" in texts.locator("tr").first.inner_text()
    map_page.settle()
    clear(map_page, "route texts unfolded")
    map_page.check_clean()


def test_turning_a_desktop_window_into_a_phone_rearranges(map_page: MapPage) -> None:
    open_at(map_page, ROOT / "maps" / "corridor.html", "desktop")
    map_page.page.locator("#cm-legend .cm-head").click()  # both panels open, if they fit
    map_page.page.set_viewport_size(PHONE)
    map_page.page.wait_for_function(
        "document.querySelector('.leaflet-container').classList.contains('cm-narrow')"
    )
    map_page.settle()
    clear(map_page, "after the resize")
    assert map_page.page.locator(".cm-head[aria-expanded=true]").count() <= 1
    map_page.check_clean()


def test_a_route_row_tapped_on_a_phone_shows_the_route_clear_of_the_table(
    map_page: MapPage,
) -> None:
    open_at(map_page, ROOT / "maps" / "corridor.html", "phone")
    map_page.page.locator("#cm-stats .cm-head").click()
    row = map_page.page.locator("#cm-stats tr[data-cm-route]").nth(1)
    i = int(row.get_attribute("data-cm-route") or -1)
    row.click()
    # The table closes and no popup opens, so the route can be seen: the view holds it above
    # the panels' buttons.
    assert map_page.page.locator("#cm-stats .cm-head").get_attribute("aria-expanded") == "false"
    map_page.settle()
    shown = map_page.js(
        """(i) => {
          const m = CorridorMap.map, line = m._cm.routes[i], box = m.getContainer();
          const panels = Array.from(document.querySelectorAll('.cm-panel'))
            .map(e => e.getBoundingClientRect().top);
          const b = line.getBounds(), r = box.getBoundingClientRect();
          const sw = m.latLngToContainerPoint(b.getSouthWest());
          const ne = m.latLngToContainerPoint(b.getNorthEast());
          return m.hasLayer(line) && !m._popup
            && ne.y + r.top >= 0 && sw.y + r.top <= Math.min(...panels);
        }""",
        i,
    )
    assert shown
    clear(map_page, "route shown")
    map_page.check_clean()
