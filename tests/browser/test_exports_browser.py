"""The exports map (maps/exports.html) in a real browser: colours, a click draws the routes and
the comparison, the market selector, overlays, and a hostile deposit that runs nothing."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import column_values, exports_numbers
from playwright.sync_api import expect

import geo
from geo.build import build_from_spec

from .conftest import ROOT, MapPage

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
from run import SEED, deposit_name, write_deposit_layer

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


def names(data: dict[str, Any]) -> list[str]:
    c = data["data"][data["cols"].index("Name")]
    return column_values(c)


def marker(mp: MapPage, data: dict[str, Any], name: str) -> Any:
    """The marker element of the deposit called ``name`` (to click or hover like a reader)."""
    i = names(data).index(name)
    return mp.page.evaluate_handle(f"CorridorMap.exportMarkers[{i}].getElement()").as_element()


def test_deposits_are_coloured_by_corridor(map_page: MapPage) -> None:
    data = payload(EXPORTS)
    map_page.open(EXPORTS)
    icons = map_page.page.locator(".leaflet-marker-pane .cm-xd")
    assert icons.count() == len(data["g"])
    classes = map_page.js(
        "Array.from(document.querySelectorAll('.leaflet-marker-pane .cm-xd')).map(e => e.className)"
    )
    ks = data["markets"][data["initial"]]["k"]
    want = [f"cm-xk{ks[g]}" if ks[g] >= 0 else "cm-xnone" for g in data["g"]]
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
    i = names(data).index("Inkai")
    map_page.open(EXPORTS)
    marker(map_page, data, "Inkai").dispatch_event("click")
    map_page.page.wait_for_function("document.querySelectorAll('path.cm-xroute').length > 0")
    map_page.settle()
    assert map_page.page.locator("path.cm-xroute").count() == 1
    rows = map_page.page.locator("#cm-cmp table tr")
    assert rows.count() == 1 + len(data["rows"]) + len(data["more"]) == 1 + 8
    heads = map_page.page.locator("#cm-cmp table tr").first.inner_text()
    assert "avoiding Russia" in heads and "unconstrained" in heads
    # What the click shows is exports()'s row for Inkai and Yokohama, every cell: each figure
    # of the three routes, and below it what the two constrained ones add.
    row = geo.exports(markets=["yokohama_port"], avoid=["RUS"]).set_index("name").loc["Inkai"]
    table = map_page.js(
        "Array.from(document.querySelectorAll('#cm-cmp table tr')).slice(1).map(tr => "
        "[tr.querySelector('th').textContent, ...Array.from(tr.querySelectorAll('td')).map(td => "
        "[td.firstChild ? td.firstChild.textContent : '', "
        "td.querySelector('.cm-xx') ? td.querySelector('.cm-xx').textContent : null])])"
    )
    want = [exports_numbers(row, "", "extra_"),
            exports_numbers(row, "rus_chn_free_", "rus_chn_free_extra_"),
            exports_numbers(row, "shortest_", None)]  # fmt: skip
    labels = ["distance", "days (typical)", "cost per TEU", "CO2e per TEU"]
    for r, label in enumerate(labels):
        assert table[r] == [label, *([w[r], w[4 + r]] for w in want[:2]), [want[2][r], None]]
    assert table[0][1] == [f"{row.km:,.0f} km", f"+{row.extra_km:,.0f} km"]
    assert table[2][2][0] == f"{row.rus_chn_free_cost_usd_per_teu_typical:,.0f} USD"
    assert table[3][2][1] == f"+{row.rus_chn_free_extra_co2e_kg_per_teu_typical:,.0f} kg"
    texts = [[c if isinstance(c, str) else c[0] for c in r] for r in table[4:]]
    assert texts[0][:2] == ["countries", " → ".join(row.countries)]
    assert texts[2][:2] == ["through Russia", "no"] and texts[3][:2] == ["through China", "yes"]
    assert map_page.page.locator("#cm-cmp .cm-dep-title").inner_text() == (
        "Inkai \u2192 Port of Yokohama"
    )
    # The drawn route spans deposit and market.
    bounds = map_page.js(
        "(() => { const b = L.latLngBounds([]); CorridorMap.map.eachLayer(l => { "
        "if (l.options && l.options.className === 'cm-xroute') b.extend(l.getBounds()); }); "
        "return [b.getWest(), b.getEast()]; })()"
    )
    assert bounds[0] <= data["lon"][i] and bounds[1] >= 139.6
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
    text = popup.text_content() or ""  # the "data notes" fold too, closed or not
    assert "<img src=x onerror=alert(2)>" in text and "</script><script>alert(4)</script>" in text
    injected = map_page.js(
        "document.querySelectorAll('.leaflet-popup-content *:not(div):not(table):not(tr)"
        ":not(th):not(td):not(a):not(tbody):not(details):not(summary), #cm-cmp img, #cm-cmp script, "
        "#cm-cmp svg:not(.cm-sw), #cm-cmp svg *:not(line), #cm-cmp td svg, "
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


def test_thousands_is_pythons_format(map_page: MapPage) -> None:
    """The page's one number helper writes whole numbers as Python's f"{v:,.0f}" does."""
    map_page.open(EXPORTS)
    values = [0, 7, -7, 999, 1000, -1000, 12345, 999999, 1000000, -1234567, 9007199254740991]
    got = map_page.js(f"{values}.map(CorridorMap.thousands)")
    assert got == [f"{float(v):,.0f}" if abs(v) < 2**53 - 1 else f"{v:,}" for v in values]


def test_big_layer_is_clustered_and_every_deposit_clickable(
    map_page: MapPage, tmp_path: Path
) -> None:
    """1,200 generated deposits (over the 1,000 that get clustered): clustered, drawn, and a click on a deposit inside a cluster
    shows its routes and the comparison the payload holds for it."""
    layer = tmp_path / "deposits.geojson"
    write_deposit_layer(layer, 1200, SEED + 3000)
    out = tmp_path / "exports.html"
    build_from_spec(ROOT / "maps" / "exports.toml", out=out, extra_layers=[layer])
    data = payload(out)
    n = len(data["g"])
    assert data["cluster"] is True and n > 1200
    map_page.open(out)
    map_page.page.wait_for_function(
        f"CorridorMap.exportGroup._topClusterLevel && "
        f"CorridorMap.exportGroup._topClusterLevel.getChildCount() === {n}"
    )
    assert map_page.page.locator(".cm-cluster").count() > 0
    i = names(data).index(deposit_name(1111))
    map_page.js(
        f"""() => new Promise(done => {{
          const mk = CorridorMap.exportMarkers[{i}];
          CorridorMap.exportGroup.zoomToShowLayer(mk, () => done(true));
        }})"""
    )
    map_page.page.wait_for_function(f"!!CorridorMap.exportMarkers[{i}].getElement()")
    marker(map_page, data, deposit_name(1111)).dispatch_event("click")
    expect(map_page.page.locator("#cm-cmp .cm-dep-title")).to_contain_text(deposit_name(1111))
    rows = map_page.page.locator("#cm-cmp table tr")
    m = data["markets"][data["initial"]]
    assert rows.nth(1).locator("td").nth(2).inner_text() == f"{m['km'][2][i]:,} km"
    assert rows.nth(2).locator("td").nth(2).inner_text() == f"{m['days'][2][i]:.1f} days"
    if m["k"][data["g"][i]] >= 0:
        assert map_page.page.locator("path.cm-xroute").count() == 1
    map_page.check_clean()


def test_a_click_draws_the_three_routes_of_the_comparison(map_page: MapPage) -> None:
    # Unconstrained, avoiding Russia, avoiding Russia and China: each column of the table has
    # its line on the map, in its own style, and the heading shows that style.
    data = payload(EXPORTS)
    map_page.open(EXPORTS)
    name = "Inkai"
    marker(map_page, data, name).dispatch_event("click")
    map_page.page.wait_for_function("document.querySelectorAll('path.cm-xroute').length > 0")
    map_page.settle()
    drawn = map_page.js(
        """() => ['cm-xroute', 'cm-xroute1', 'cm-xroute2'].map(c => {
          const p = document.querySelector('path.' + c);
          return p ? [p.getAttribute('stroke'), p.getAttribute('stroke-dasharray'),
                      p.getAttribute('stroke-width')] : null;
        })"""
    )
    cells = map_page.js(
        "Array.from(document.querySelectorAll('#cm-cmp table tr')[1].querySelectorAll('td'))"
        ".map(td => td.textContent)"
    )
    for column, line in enumerate(drawn):
        assert (line is None) == cells[column].startswith("no route"), (column, cells)
    assert all(line is not None for line in drawn)  # Inkai reaches Yokohama all three ways
    assert len({tuple(line) for line in drawn}) == 3  # three styles apart
    assert [line[1] for line in drawn] == [None, *(s.get("dashArray") for s in data["lines"][1:])]
    heads = map_page.js(
        "Array.from(document.querySelectorAll('#cm-cmp table tr')[0].querySelectorAll('th line'))"
        ".map(l => [l.getAttribute('stroke'), l.getAttribute('stroke-dasharray')])"
    )
    assert [h[1] for h in heads] == [line[1] for line in drawn]
    assert [h[0] for h in heads] == [line[0] for line in drawn]
    # The routes avoiding China run apart from the unconstrained one (which crosses China).
    lengths = map_page.js(
        """() => ['cm-xroute', 'cm-xroute1', 'cm-xroute2'].map(c => {
          let best = 0;
          CorridorMap.map.eachLayer(l => { if (l.options && l.options.className === c) {
            const ll = l.getLatLngs(); let d = 0;
            for (let i = 1; i < ll.length; i++) { d += ll[i - 1].distanceTo(ll[i]); }
            best = Math.max(best, d / 1000); } });
          return best;
        })"""
    )
    km = [float(c.replace(",", "").split()[0]) for c in cells[:3]]
    for drawn_km, table_km in zip(lengths, km, strict=True):
        assert abs(drawn_km - table_km) / table_km < 0.35, (lengths, km)  # roads drawn straight
    assert lengths[1] >= lengths[0] >= lengths[2] * 0.99
    map_page.check_clean()
