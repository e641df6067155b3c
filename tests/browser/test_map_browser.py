"""The rendered maps in a real browser: offline, interactive, safe, and not blank."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyproj import Geod

from .conftest import MapPage

pytestmark = pytest.mark.browser

COUNT_OVERLAYS = (
    "document.querySelectorAll('.leaflet-control-layers-overlays input[type=checkbox]').length"
)


def test_map_loads_without_errors(map_page: MapPage, any_map: Path) -> None:
    map_page.open(any_map)
    assert map_page.drawn() > 10
    assert (
        map_page.js("document.querySelectorAll('.leaflet-control-layers-base input').length") >= 1
    )
    assert map_page.js("CorridorMap.map.getZoom()") >= 2
    assert map_page.js("CorridorMap.map.getMaxZoom()") <= 18  # markercluster needs a max zoom
    assert map_page.js("document.querySelector('.leaflet-control-scale') !== null")
    assert map_page.js("document.querySelector('.cm-fs a') !== null")
    map_page.check_clean()


def test_every_overlay_toggles(map_page: MapPage, any_map: Path) -> None:
    map_page.open(any_map)
    map_page.js("() => { CorridorMap.map._cm.control.expand(); }")  # returns nothing to serialise
    n = map_page.js(COUNT_OVERLAYS)
    assert n >= 1
    labels = map_page.js(
        "Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
        ".map(l => l.textContent.trim())"
    )
    for i in range(n):
        box = map_page.page.locator(".leaflet-control-layers-overlays input[type=checkbox]").nth(i)
        assert map_page.toggles(box), f"overlay {labels[i]!r} did not change the map"
    map_page.check_clean()


def test_a_click_entering_the_layer_control_keeps_boxes_and_map_in_step(
    map_page: MapPage, fixture_map: Path
) -> None:
    # A tap on a phone: the pointer enters the control and clicks in the same task. Leaflet
    # cancels that click's change of the box, so the layer must not change either. Dispatched in
    # one task here, so the test does not depend on how fast Playwright moves the mouse.
    map_page.open(fixture_map)
    map_page.js("() => { CorridorMap.map._cm.control.expand(); }")
    before = map_page.js(
        """() => {
          const c = CorridorMap.map._cm.control;
          const box = document.querySelector('.leaflet-control-layers-overlays input[type=checkbox]');
          const was = box.checked;
          // Leaflet listens for mouseenter as a mouseover from outside the control.
          c.getContainer().dispatchEvent(
            new MouseEvent('mouseover', {bubbles: true, relatedTarget: document.body}));
          box.click();
          return was;
        }"""
    )
    assert map_page.boxes_agree()
    box = map_page.page.locator(".leaflet-control-layers-overlays input[type=checkbox]").first
    assert box.is_checked() == before  # the entering click changed nothing
    # A click once the pointer is inside works as usual.
    map_page.page.evaluate("() => new Promise(r => setTimeout(r))")
    map_page.js(
        "() => { document.querySelector('.leaflet-control-layers-overlays input').click(); }"
    )
    assert box.is_checked() != before
    assert map_page.boxes_agree()
    map_page.check_clean()


def test_route_popup_shows_statistics(map_page: MapPage, any_map: Path) -> None:
    map_page.open(any_map)
    rows = map_page.page.locator("#cm-stats tr[data-cm-route]")
    assert rows.count() >= 1
    rows.first.click()
    popup = map_page.page.locator(".leaflet-popup-content")
    popup.wait_for(state="visible", timeout=3000)
    text = popup.inner_text()
    for label in ("Length (km)", "Countries", "Border crossings", "Gauge breaks"):
        assert label in text
    map_page.check_clean()


def test_fixture_route_popup_numbers(map_page: MapPage, fixture_map: Path) -> None:
    map_page.open(fixture_map)
    map_page.page.locator('#cm-stats tr[data-cm-route="1"]').click()  # the northern route
    text = map_page.page.locator(".leaflet-popup-content").inner_text()
    assert "Northern: Dostyk – Duisburg via Moscow" in text
    assert "3,350" in text and "14–18" in text and "KAZ RUS BLR POL DEU" in text
    map_page.check_clean()


def _cluster_counts(mp: MapPage) -> tuple[int, int]:
    return (
        mp.js("document.querySelectorAll('.marker-cluster').length"),
        mp.js("document.querySelectorAll('.cm-dep').length"),
    )


def test_deposit_clusters_split_on_zoom(map_page: MapPage, any_map: Path) -> None:
    map_page.open(any_map)
    clusters, single = _cluster_counts(map_page)
    if clusters == 0:
        pytest.skip("no deposit clusters at the initial zoom on this map")
    # Zoom in on the biggest cluster: it must break into smaller clusters or single deposits.
    target = map_page.js(
        """(() => {
          let best = null;
          CorridorMap.map.eachLayer(l => {
            if (l.getChildCount && l._icon && (!best || l.getChildCount() > best.getChildCount()))
              best = l;
          });
          const c = best.getLatLng();
          return [c.lat, c.lng, best.getChildCount()];
        })()"""
    )
    map_page.js(
        "([lat, lng]) => { CorridorMap.map.setView([lat, lng], CorridorMap.map.getZoom() + 3,"
        " {animate: false}); }",
        target,
    )
    map_page.settle()
    clusters2, single2 = _cluster_counts(map_page)
    biggest2 = map_page.js(
        """(() => { let n = 0; CorridorMap.map.eachLayer(l => {
             if (l.getChildCount && l._icon) n = Math.max(n, l.getChildCount()); });
           return n; })()"""
    )
    assert (clusters2, single2) != (clusters, single)
    assert biggest2 < target[2] or single2 > single
    map_page.check_clean()


def test_deposit_popup_is_built_on_click(map_page: MapPage, fixture_map: Path) -> None:
    map_page.open(fixture_map)
    # Let the cluster group zoom to its first deposit ("Inkai"), then click that marker.
    map_page.page.evaluate(
        """() => new Promise(done => {
          const entry = CorridorMap.map._cm.layers.find(o => o.layer.zoomToShowLayer);
          const first = entry.layer.getLayers().find(m => m.options.cmIndex === 0);
          entry.layer.zoomToShowLayer(first, () => {
            first._icon.id = 'cm-first-deposit';
            done();
          });
        })"""
    )
    map_page.settle()
    map_page.page.locator("#cm-first-deposit").click()
    popup = map_page.page.locator(".leaflet-popup-content")
    popup.wait_for(state="visible", timeout=3000)
    text = popup.inner_text()
    assert "Inkai" in text and "Commodities" in text and "uranium" in text
    # the source is a link named by its site; the URL is its target, never its text
    assert "https://example.org/deposits/0" not in text and "example.org" in text
    link = map_page.page.locator(".leaflet-popup-content a").first
    assert link.get_attribute("href") == "https://example.org/deposits/0"
    assert link.get_attribute("rel") == "noopener noreferrer"
    assert link.get_attribute("target") == "_blank"
    map_page.check_clean()


def test_legend_and_stats_are_visible(map_page: MapPage, any_map: Path) -> None:
    map_page.open(any_map)
    # The page opens the panels that fit its budget (see test_layout.py); the legend opens on
    # a click on its head when it did not fit.
    if map_page.page.locator("#cm-legend .cm-head").get_attribute("aria-expanded") == "false":
        map_page.page.locator("#cm-legend .cm-head").click()
    for sel in ("#cm-legend", "#cm-stats"):
        loc = map_page.page.locator(sel)
        assert loc.is_visible(), sel
        box = loc.bounding_box()
        assert box is not None and box["width"] > 150 and box["height"] > 60
        assert box["x"] >= 0 and box["y"] >= 0
        assert box["x"] + box["width"] <= 1400 and box["y"] + box["height"] <= 850
    legend = map_page.page.locator("#cm-legend").inner_text()
    assert "TITR" in legend
    # The panels leave the Caspian free: the map's centre is not under either of them.
    for sel in ("#cm-legend", "#cm-stats"):
        b = map_page.page.locator(sel).bounding_box()
        assert b is not None
        assert not (b["x"] < 700 < b["x"] + b["width"] and b["y"] < 425 < b["y"] + b["height"])
    map_page.page.locator("#cm-legend .cm-head").click()
    assert not map_page.page.locator("#cm-legend .cm-body").is_visible()  # collapses
    map_page.check_clean()


def test_hostile_layer_runs_nothing(map_page: MapPage, fixture_map: Path) -> None:
    map_page.open(fixture_map)
    control = map_page.js(
        "() => { CorridorMap.map._cm.control.expand(); "
        "return document.querySelector('.leaflet-control-layers-overlays').textContent; }"
    )
    assert "<b>Hostile</b> layer" in control  # the name shows literally
    # Open the popups and tooltips of the hostile features.
    texts = map_page.js(
        """(() => {
          const entry = CorridorMap.map._cm.layers.find(o => o.label.indexOf('Hostile') >= 0);
          const out = [];
          entry.layer.eachLayer(mk => {
            mk.openPopup();
            out.push(mk.getPopup().getElement().textContent);  // the old one may still fade
            mk.openTooltip();
            out.push(mk.getTooltip().getElement().textContent);
          });
          return out;
        })()"""
    )
    joined = "\n".join(texts)
    assert "<script>alert(1)</script>" in joined
    assert "<img src=x onerror=alert(1)>" in joined
    assert "javascript:alert(1)" in joined
    assert "</script><script>alert(4)</script>" in joined
    hrefs = map_page.js(
        "Array.from(document.querySelectorAll('.leaflet-popup-content a')).map(a => a.href)"
    )
    assert all(h.startswith(("http://", "https://")) for h in hrefs), hrefs
    injected = map_page.js(
        "document.querySelectorAll('.leaflet-popup-content *:not(div):not(table):not(tr)"
        ":not(th):not(td):not(a):not(tbody):not(details):not(summary),"
        " .leaflet-tooltip *:not(span)').length"
    )
    assert injected == 0
    map_page.settle()
    assert map_page.js("window.__fired") == []
    map_page.check_clean()


def test_measure_tool_is_geodesic(map_page: MapPage, fixture_map: Path) -> None:
    map_page.open(fixture_map)
    a, b = (43.60, 51.17), (39.95, 49.42)  # Aktau, Alat
    map_page.page.locator(".cm-measure a").click()
    for lat, lon in (a, b):
        map_page.js(
            "([lat, lon]) => { CorridorMap.map.fire('click', {latlng: L.latLng(lat, lon)}); }",
            [lat, lon],
        )
    shown = map_page.page.locator(".cm-measure-out").inner_text()
    km = float(shown.split(" km")[0].replace(",", ""))
    expected = Geod(ellps="WGS84").inv(a[1], a[0], b[1], b[0])[2] / 1000
    assert km == pytest.approx(expected, rel=0.005)  # the sphere vs the ellipsoid
    map_page.page.keyboard.press("Escape")
    assert not map_page.page.locator(".cm-measure-out").is_visible()
    map_page.page.locator(".cm-fs a").click()
    map_page.page.wait_for_function("CorridorMap.map.getSize().x >= 1000")
    size = map_page.js("[CorridorMap.map.getSize().x, CorridorMap.map.getSize().y]")
    assert size[0] >= 1000 and size[1] >= 600
    map_page.check_clean()


def test_screenshot_is_not_blank(map_page: MapPage, any_map: Path, tmp_path: Path) -> None:
    map_page.open(any_map)
    shot = tmp_path / f"{any_map.stem}.png"
    png = map_page.page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000
    map_page.check_clean()
    colours = map_page.colours(png)
    assert colours > 200, f"{shot} looks blank ({colours} colours)"


def test_many_deposits_stay_usable(
    map_page: MapPage, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from geo.render.corridor_map import build_map
    from geo.render.page import save_html
    from geo.render.spec import MapSpec

    from .conftest import _fixtures_module

    fx = _fixtures_module()
    spec = MapSpec(title="30,000 deposits", center=(44.0, 67.0), zoom=4, layers=())
    page = save_html(
        build_map(
            spec,
            countries=None,
            segments=None,
            nodes=None,
            deposits=fx.deposits(30_000),
            routes=None,
        ),
        tmp_path_factory.mktemp("big") / "map_many.html",
    )
    map_page.open(page)
    map_page.page.wait_for_function(
        "document.querySelectorAll('.marker-cluster').length > 0", timeout=20_000
    )
    total = map_page.js(
        """(() => { let n = 0; CorridorMap.map.eachLayer(l => {
             if (l.getChildCount && l._icon) n += l.getChildCount(); }); return n; })()"""
    )
    assert total > 25_000  # nearly all points are in the clusters on screen at zoom 4
    map_page.page.locator(".marker-cluster").first.click()  # zooms in, splits
    map_page.page.wait_for_function("CorridorMap.map.getZoom() > 4")
    map_page.settle()
    map_page.check_clean()


def test_front_coded_columns_decode_in_the_page(map_page: MapPage, fixture_map: Path) -> None:
    # The fixture's 1,500 deposits carry links numbered in order: sent front-coded, the page
    # must rebuild every value exactly as Python's reference decoder does.
    from helpers import column_values

    map_page.open(fixture_map)
    data = map_page.js(
        "() => CorridorMap.map._cm.layers.find(o => o.layer.zoomToShowLayer).layer._cmSpec.data"
    )
    coded = [(i, c) for i, c in enumerate(data) if "f" in c or "g" in c]
    assert coded, "no column of the fixture deposits is front-coded"
    chars = [(i, c) for i, c in enumerate(data) if "c" in c]  # dictionary codes as characters
    assert chars, "no dictionary column of the fixture deposits has its codes as characters"
    for i, col in coded + chars:
        shown = map_page.js(
            "(i) => { const spec = CorridorMap.map._cm.layers.find(o => o.layer.zoomToShowLayer)"
            ".layer._cmSpec; const n = spec.p.length;"
            " return Array.from({length: n}, (_, j) => CorridorMap.column(spec.data[i], j)); }",
            i,
        )
        assert shown == column_values(col)
    map_page.check_clean()
