"""Route maps (`corridor route --map`) and user layers (`corridor map --layer`) in a browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from .conftest import DATA, ROOT, MapPage

pytestmark = pytest.mark.browser

OVERLAYS = ".leaflet-control-layers-overlays input[type=checkbox]"
LABELS = (
    "Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
    ".map(l => l.textContent.trim())"
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user layer store, so the user's own layers never change what is tested."""
    monkeypatch.setenv("CORRIDOR_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _toggles(mp: MapPage, i: int) -> bool:
    """Whether switching overlay ``i`` off changes what is drawn (it is switched back on)."""
    return mp.toggles(mp.page.locator(OVERLAYS).nth(i))


def test_route_map_loads_and_shows_statistics(
    map_page: MapPage, home: Path, tmp_path: Path
) -> None:
    import geo
    from geo.render.corridor_map import route_map
    from geo.render.page import save_html
    from geo.render.style import STAT_LABELS, route_value

    legs = geo.route("Xi'an", "Duisburg", avoid=["RUS"])
    page = save_html(route_map(legs), tmp_path / "map_route.html")
    map_page.open(page)
    stats = map_page.page.locator("#cm-stats")
    assert stats.is_visible() and map_page.page.locator("#cm-legend").is_visible()
    text = stats.inner_text()
    for _, label in STAT_LABELS:
        assert label in text, label
    s = legs.attrs["stats"]
    for key in ("length_km", "transit_days", "countries", "sea_km"):
        assert route_value(key, s[key]) in text, key
    # The view is fitted to the route: every leg lies inside the map's bounds.
    west, south, east, north = legs.total_bounds
    inside = map_page.js(
        "([s, w, n, e]) => CorridorMap.map.getBounds().pad(0.02).contains([[s, w], [n, e]])",
        [south, west, north, east],
    )
    assert inside
    assert map_page.js("CorridorMap.map.getZoom()") >= 3
    map_page.js("() => { CorridorMap.map._cm.control.expand(); }")
    labels = map_page.js(LABELS)
    assert any("rail legs" in label for label in labels)
    assert any("places on the path" in label for label in labels)
    for i, label in enumerate(labels):
        assert _toggles(map_page, i), f"overlay {label!r} did not change the map"
    # A leg's popup shows its properties as text.
    map_page.js(
        "() => { const o = CorridorMap.map._cm.layers.find(o => o.label.includes('rail legs'));"
        " const line = o.layer.getLayers().find(l => l.getPopup());"
        " line.openPopup(line.getCenter()); }"
    )
    popup = map_page.page.locator(".leaflet-popup-content")
    popup.wait_for(state="visible", timeout=3000)
    assert "length_km" in popup.inner_text()
    map_page.check_clean()


def test_layer_option_adds_a_toggling_overlay(
    map_page: MapPage, home: Path, tmp_path: Path
) -> None:
    from geo.cli import app
    from geo.data.store import add_layer

    add_layer(DATA / "map_user_deposits.geojson", name="prospects", color_by="grade")
    out = tmp_path / "map_with_layer.html"
    args = ["map", str(ROOT / "maps" / "corridor.toml"), "--out", str(out),
            "--layer", str(DATA / "map_user_deposits.geojson")]  # fmt: skip
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    map_page.open(out)
    map_page.js("() => { CorridorMap.map._cm.control.expand(); }")
    groups = map_page.js(
        "Array.from(document.querySelectorAll('.cm-lc-group')).map(g => g.textContent)"
    )
    assert "Your layers" in groups
    labels = map_page.js(LABELS)
    for name in ("map_user_deposits (5)", "prospects (5)"):
        i = next((k for k, label in enumerate(labels) if label == name), None)
        assert i is not None, f"{name!r} not among the overlays {labels}"
        assert map_page.page.locator(OVERLAYS).nth(i).is_checked()
        assert _toggles(map_page, i), f"overlay {name!r} did not change the map"
    # The stored layer is coloured by grade: its legend lists every value, as text.
    entry = map_page.page.locator('#cm-legend [data-cm-layer="prospects"]')
    head = map_page.page.locator("#cm-legend .cm-head")
    if head.get_attribute("aria-expanded") == "false":  # it did not fit at opening
        head.click()
    assert entry.is_visible()
    text = entry.inner_text()
    for value in ("<b>unrated</b>", "high", "low", "medium"):
        assert value in text
    assert map_page.js("document.querySelectorAll('#cm-legend b').length") == 0
    map_page.check_clean()
