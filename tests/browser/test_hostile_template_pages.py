"""Issue 13 in a real browser: every page built from hostile template text runs nothing.

The pages come from the same CLI calls as tests/test_template_injection.py (stored layers, a
--layer file with a hostile name, a hostile spec, the exports map, a route map between two
hostile places). Chromium opens each, with the network blocked and alert/confirm/prompt
recorded; the text must show literally in the title, legend, layer control and popups.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import MapPage

pytestmark = pytest.mark.browser

# Elements our runtime may create inside popups, tooltips, the legend and the layer control.
INJECTED = (
    "document.querySelectorAll('.leaflet-popup-content img, .leaflet-popup-content script, "
    ".leaflet-popup-content svg, .leaflet-popup-content iframe, .leaflet-tooltip img, "
    ".leaflet-tooltip script, .cm-title *, .leaflet-control-layers img, "
    ".leaflet-control-layers script, #cm-legend img, #cm-legend script, "
    "#cm-stats img, #cm-stats script, b').length"
)

# Opens the popup and tooltip of every feature of the user's layers and returns their text.
OPEN_ALL = """(() => {
  const out = [];
  const last = sel => { const all = document.querySelectorAll(sel); return all[all.length - 1].textContent; };
  const leaves = (layer, acc) => {
    if (layer.getLayers) { layer.getLayers().forEach(l => leaves(l, acc)); } else { acc.push(layer); }
    return acc;
  };
  CorridorMap.map._cm.layers.filter(o => o.layer.cmGroup === 'Your layers').forEach(o => {
    if (!CorridorMap.map.hasLayer(o.layer)) { o.layer.addTo(CorridorMap.map); }
    leaves(o.layer, []).forEach(l => {
      if (l.options.cmIndex !== undefined && o.layer.zoomToShowLayer) {
        // Deposits: the cluster group builds the popup and tooltip from its table on demand.
        o.layer.fire('mouseover', {layer: l, latlng: l.getLatLng()});
        out.push(last('.leaflet-tooltip'));  // an older one may still fade out
        o.layer.fire('click', {layer: l, latlng: l.getLatLng()});
        out.push(last('.leaflet-popup-content'));
        return;
      }
      if (l.getPopup && l.getPopup()) {
        let c = l.getPopup().getContent();
        if (typeof c === 'function') { c = c(l); }
        const box = document.createElement('div');
        box.className = 'leaflet-popup-content';
        box.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
        document.body.appendChild(box);
        out.push(box.textContent);
      }
      if (l.getTooltip && l.getTooltip()) {
        let c = l.getTooltip().getContent();
        if (typeof c === 'function') { c = c(l); }
        out.push(typeof c === 'string' ? c : c.textContent);
      }
    });
  });
  return out;
})()"""


@pytest.fixture(scope="module")
def hostile_pages(hostile_build: Any) -> dict[str, Path]:
    """The pages tests/test_template_injection.py checks as text (built once per session)."""
    return dict(hostile_build.pages)


def _settled(mp: MapPage) -> None:
    mp.page.wait_for_function("document.readyState === 'complete'")
    assert mp.js("window.__fired") == []
    assert mp.js(INJECTED) == 0
    mp.check_clean()


@pytest.mark.parametrize("name", ["corridor", "spec", "exports", "route"])
def test_hostile_page_runs_nothing(map_page: MapPage, hostile_pages: dict[str, Path],
                                   name: str) -> None:  # fmt: skip
    map_page.open(hostile_pages[name])
    texts = map_page.js(OPEN_ALL)
    joined = "\n".join(texts)
    if name in ("corridor", "spec"):
        assert "Tariff {{ rate }} per TEU, {{ 7*7 }} and {{ 6*7 }}" in joined
        assert "Price {#1} and {#2#} end" in joined
        assert "</script><script>alert('close')</script><!--" in joined
        assert "{{ lipsum.__globals__['os'].popen(" in joined
    control = map_page.js(
        "() => { CorridorMap.map._cm.control.expand(); "
        "return document.querySelector('.leaflet-control-layers').textContent; }"
    )
    legend = map_page.page.locator("#cm-legend").text_content() or ""
    title = map_page.page.locator(".cm-title").text_content() or ""
    if name == "corridor":
        assert "{{ 7*7 }}<img src=x onerror=alert(9)> (3)" in control
        assert "{{ 7*7 }}<img src=x onerror=alert(9)>" in legend
        assert "<script>alert('tpl')</script>" in legend  # a --color-by value, as text
    if name == "spec":
        assert title.startswith("Spec {{ 7*7 }} {{ lipsum.__globals__")
        assert title.endswith("</title><script>alert('title')</script>")
        assert map_page.page.title() == title
    if name == "route":
        stats = map_page.page.locator("#cm-stats").text_content() or ""
        assert "Tplville {{ 7*7 }} <b>A</b>" in stats + title
        assert "Tplburg {% if x %} </script><script>alert('nb')</script>" in stats + title
    _settled(map_page)
