"""The exports map (maps/exports.html) in a real browser: colours, a click draws the routes and
the comparison, the market selector, overlays, and a hostile deposit that runs nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import ROOT, MapPage

pytestmark = pytest.mark.browser

EXPORTS = ROOT / "maps" / "exports.html"


def payload(path: Path) -> dict[str, Any]:
    m = re.search(r"CorridorMap\.exports\(\w+, (.*)\);\n", path.read_text(encoding="utf-8"))
    assert m is not None
    data: dict[str, Any] = json.loads(m.group(1))
    return data


@pytest.fixture(scope="module")
def hostile_map(hostile_build: Any) -> Path:
    """The exports map built with the script-payload deposits stored (once per session)."""
    return Path(hostile_build.pages["exports"])


def marker(mp: MapPage, data: dict[str, Any], name: str) -> Any:
    """The marker element of the deposit called ``name`` (to click or hover like a reader)."""
    i = [r[0] for r in data["rows"]].index(name)
    return mp.page.evaluate_handle(f"CorridorMap.exportMarkers[{i}].getElement()").as_element()


def test_deposits_are_coloured_by_corridor(map_page: MapPage) -> None:
    data = payload(EXPORTS)
    map_page.open(EXPORTS)
    icons = map_page.page.locator(".leaflet-marker-pane .cm-xd")
    assert icons.count() == len(data["rows"])
    classes = map_page.js(
        "Array.from(document.querySelectorAll('.leaflet-marker-pane .cm-xd')).map(e => e.className)"
    )
    want = [
        f"cm-xk{r[data['initial']][0]}" if r[data["initial"]][0] >= 0 else "cm-xnone"
        for r in data["r"]
    ]
    assert [
        next(c for c in cls.split() if c.startswith(("cm-xk", "cm-xnone"))) for cls in classes
    ] == want
    # Each colour is the corridor's legend colour.
    bg = map_page.js("getComputedStyle(document.querySelector('.cm-xk0')).backgroundColor")
    hexcol = data["palette"][0].lstrip("#")
    assert bg == "rgb({}, {}, {})".format(*(int(hexcol[i : i + 2], 16) for i in (0, 2, 4)))
    assert "Port of Yokohama" in map_page.page.locator("#cm-sum").inner_text()
    map_page.check_clean()


def test_click_draws_both_routes_and_the_comparison(map_page: MapPage) -> None:
    data = payload(EXPORTS)
    names = [r[0] for r in data["rows"]]
    i = names.index("Inkai")
    map_page.open(EXPORTS)
    marker(map_page, data, "Inkai").dispatch_event("click")
    map_page.page.wait_for_function("document.querySelectorAll('path.cm-xroute').length > 0")
    map_page.settle()
    assert map_page.page.locator("path.cm-xroute").count() == 1
    rows = map_page.page.locator("#cm-cmp table tr")
    assert rows.count() == 1 + len(data["cmp"])
    heads = map_page.page.locator("#cm-cmp table tr").first.inner_text()
    assert "avoiding Russia" in heads and "unconstrained" in heads
    cells = data["r"][i][data["initial"]][3]
    distance = rows.nth(1).locator("td")
    assert [distance.nth(k).inner_text() for k in range(3)] == [data["s"][c] for c in cells[0]]
    assert map_page.page.locator("#cm-cmp .cm-dep-title").inner_text() == (
        "Inkai \u2192 Port of Yokohama"
    )
    # The drawn route spans deposit and market.
    bounds = map_page.js(
        "(() => { const b = L.latLngBounds([]); CorridorMap.map.eachLayer(l => { "
        "if (l.options && l.options.className === 'cm-xroute') b.extend(l.getBounds()); }); "
        "return [b.getWest(), b.getEast()]; })()"
    )
    assert bounds[0] <= data["c"][i][1] and bounds[1] >= 139.6
    map_page.page.locator("#cm-cmp .cm-more").click()
    popup = map_page.page.locator(".leaflet-popup-content")
    popup.wait_for(state="visible", timeout=3000)
    assert "Inkai" in popup.inner_text()
    map_page.check_clean()


def test_market_selector_recolours_and_compares(map_page: MapPage) -> None:
    data = payload(EXPORTS)
    k = [m["name"] for m in data["markets"]].index("Port of Lianyungang")
    map_page.open(EXPORTS)
    map_page.page.select_option("#cm-market", label="Port of Lianyungang")
    expect(map_page.page.locator("#cm-sum")).to_have_text(data["markets"][k]["summary"])
    marker(map_page, data, "Inkai").dispatch_event("click")
    expect(map_page.page.locator("#cm-cmp table tr").nth(1)).to_be_visible()
    map_page.settle()
    # Lianyungang lies in China: avoiding Russia and China, there is no route.
    second = map_page.page.locator("#cm-cmp table tr").nth(1).locator("td").nth(1).inner_text()
    assert second.startswith("no route: ")
    map_page.check_clean()


def test_every_overlay_toggles(map_page: MapPage) -> None:
    map_page.open(EXPORTS)
    map_page.js("() => { CorridorMap.map._cm.control.expand(); }")
    boxes = map_page.page.locator(".leaflet-control-layers-overlays input[type=checkbox]")
    assert boxes.count() >= 3  # shading, network, deposits
    for i in range(boxes.count()):
        assert map_page.toggles(boxes.nth(i)), f"overlay {i} did not change the map"
    map_page.check_clean()


def test_hostile_deposit_runs_nothing(map_page: MapPage, hostile_map: Path) -> None:
    map_page.open(hostile_map)
    name = "<script>alert(1)</script>"
    m = marker(map_page, payload(hostile_map), name)
    m.dispatch_event("mouseover")
    assert name in map_page.page.locator(".leaflet-tooltip").last.inner_text()
    m.dispatch_event("click")
    expect(map_page.page.locator("#cm-cmp .cm-dep-title")).to_contain_text(name)
    assert map_page.page.locator("#cm-cmp .cm-dep-title").inner_text().startswith(name)
    map_page.page.locator("#cm-cmp .cm-more").click()
    popup = map_page.page.locator(".leaflet-popup-content")
    popup.wait_for(state="visible", timeout=3000)
    text = popup.inner_text()
    assert "<img src=x onerror=alert(2)>" in text and "</script><script>alert(4)</script>" in text
    injected = map_page.js(
        "document.querySelectorAll('.leaflet-popup-content *:not(div):not(table):not(tr)"
        ":not(th):not(td):not(a):not(tbody), #cm-cmp img, #cm-cmp script, #cm-cmp svg, "
        ".leaflet-tooltip *:not(span)').length"
    )
    assert injected == 0
    hrefs = map_page.js(
        "Array.from(document.querySelectorAll('.leaflet-popup-content a')).map(a => a.href)"
    )
    assert all(h.startswith(("http://", "https://")) for h in hrefs), hrefs
    map_page.settle()
    assert map_page.js("window.__fired") == []
    map_page.check_clean()


def test_screenshot_is_not_blank(map_page: MapPage, tmp_path: Path) -> None:
    map_page.open(EXPORTS)
    png = map_page.page.screenshot(path=str(tmp_path / "exports.png"))
    map_page.check_clean()
    colours = map_page.colours(png)
    assert colours > 200, f"the exports map looks blank ({colours} colours)"
