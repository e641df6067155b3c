"""Pipelines on the committed main map (maps/corridor.html) in a real browser.

The pipelines layer is Global Energy Monitor's (layers/pipelines.geojson): these tests read the
layer for what the page must show, and the palette module for the colours it must use.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from geo.render.style import PIPELINE_ATTRIBUTION, PIPELINE_FUELS, PIPELINE_STATUS

from .conftest import ROOT, MapPage

pytestmark = pytest.mark.browser

CORRIDOR = ROOT / "maps" / "corridor.html"
LAYER = ROOT / "layers" / "pipelines.geojson"

# Every drawn pipeline: [feature's popup title, status text, stroke, dash, pane, popup values]
DRAWN_PIPES = """() => {
  const out = [];
  CorridorMap.map.eachLayer(g => {
    const spec = g._cmSpec;
    if (!spec || spec.group !== 'Pipelines' || spec.kind !== 'lines') return;
    g.eachLayer(line => {
      const f = spec.f[line.options.cmIndex];
      out.push([f.v[0], f.v[2], line._path.getAttribute('stroke'),
                line._path.getAttribute('stroke-dasharray'), line.options.pane, f.v]);
    });
  });
  return out;
}"""

OPEN_POPUP = """(name) => {
  let done = false;
  CorridorMap.map.eachLayer(g => {
    const spec = g._cmSpec;
    if (done || !spec || spec.group !== 'Pipelines' || spec.kind !== 'lines') return;
    g.eachLayer(line => {
      if (!done && spec.f[line.options.cmIndex].v[0] === name) {
        line.openPopup(line.getCenter());
        done = true;
      }
    });
  });
  return done;
}"""


def _features(name: str) -> list[dict[str, Any]]:
    layer = json.loads(LAYER.read_text(encoding="utf-8"))
    return [f["properties"] for f in layer["features"] if f["properties"]["name"] == name]


@pytest.fixture
def corridor(map_page: MapPage) -> MapPage:
    if not CORRIDOR.is_file():
        pytest.skip("maps/corridor.html not built (run `corridor map maps/corridor.toml`)")
    map_page.open(CORRIDOR)
    return map_page


def test_the_pipelines_group_is_there_and_each_overlay_toggles(corridor: MapPage) -> None:
    corridor.js("() => { CorridorMap.map._cm.control.expand(); }")
    heads = corridor.js(
        "Array.from(document.querySelectorAll('.cm-lc-group')).map(e => e.textContent)"
    )
    assert "Pipelines" in heads
    labels = corridor.page.locator(".leaflet-control-layers-overlays label")
    texts = [t.strip() for t in labels.all_inner_texts()]
    wanted = [i for i, t in enumerate(texts) if re.match(r"(Oil|Gas) pipelines|Terminals", t)]
    assert len(wanted) == 3, texts
    attribution = corridor.page.locator(".leaflet-control-attribution")
    assert PIPELINE_ATTRIBUTION in attribution.inner_text()
    for i in wanted:
        box = labels.nth(i).locator("input")
        assert corridor.toggles(box), f"overlay {texts[i]!r} did not change the map"
    # With both pipeline overlays off, their attribution goes with them.
    for i in wanted[:2]:
        labels.nth(i).locator("input").click()
    assert PIPELINE_ATTRIBUTION not in attribution.inner_text()
    assert corridor.boxes_agree()
    corridor.check_clean()


def test_cpc_is_drawn_in_the_oil_colour_and_proposed_lines_dotted(corridor: MapPage) -> None:
    pipes = corridor.js(DRAWN_PIPES)
    cpc = [p for p in pipes if p[0] == "Caspian Pipeline"]
    assert cpc, "the Caspian Pipeline (CPC) is not drawn"
    assert {p[2] for p in cpc} == {PIPELINE_FUELS["oil"][1]}
    assert {p[4] for p in cpc} == {"cmPipes"}
    proposed = [p for p in pipes if p[1].startswith("proposed")]
    assert proposed, "no proposed pipeline drawn"
    assert {p[3] for p in proposed} == {PIPELINE_STATUS["proposed"][1]}
    assert "Trans-Caspian Gas Pipeline" in {p[0] for p in proposed}
    operating = [p for p in pipes if p[1].startswith("operating")]
    assert operating and {p[3] for p in operating} == {None}  # solid
    # beneath the corridors: the pipelines' pane is under the corridor lines'
    z = corridor.js(
        "['cmPipes', 'cmLines'].map(p => +getComputedStyle(CorridorMap.map.getPane(p)).zIndex)"
    )
    assert z[0] < z[1]
    corridor.check_clean()


def test_a_pipeline_popup_is_written_for_readers(corridor: MapPage) -> None:
    assert corridor.js(OPEN_POPUP, "Caspian Pipeline")
    popup = corridor.page.locator(".leaflet-popup-content")
    popup.wait_for(state="visible", timeout=3000)
    text = popup.inner_text()
    assert "Caspian Pipeline" in text
    assert "1,340 thousand barrels/day" in text  # GEM: 1,340,000 bpd
    assert "Kazakhstan, Russia" in text
    link = popup.locator("a")
    assert link.count() == 1
    assert link.inner_text() == "Global Energy Monitor (GEM wiki)"
    assert link.get_attribute("href") == "https://www.gem.wiki/Caspian_Pipeline"
    assert link.get_attribute("rel") == "noopener noreferrer"
    notes = {str(p["notes"]) for p in _features("Caspian Pipeline")}
    assert notes and all(n not in text for n in notes)  # the maintainers' note stays out
    assert "GEM project" not in text and "http" not in text
    assert not re.search(r"%[0-9A-Fa-f]{2}", text)  # no percent-encoded URL as text
    # A gas line: its capacity in bcm a year, and a source whose URL is percent-encoded.
    corridor.js("() => { CorridorMap.map.closePopup(); }")
    corridor.page.wait_for_function("!document.querySelector('.leaflet-popup')")
    assert corridor.js(OPEN_POPUP, "Central Asia–China Gas Pipeline (Line A)")
    text = popup.inner_text()
    assert "15 bcm/year" in text
    assert "Central Asia–China Gas Pipeline (Line B)" in text  # drawn on the same route
    assert popup.locator("a").inner_text() == "Global Energy Monitor (GEM wiki)"
    assert "%E2%80%93" in str(popup.locator("a").get_attribute("href"))
    assert not re.search(r"%[0-9A-Fa-f]{2}", text)
    corridor.check_clean()


def test_the_legend_shows_the_pipelines(corridor: MapPage) -> None:
    corridor.js("() => { CorridorMap.openPanel(CorridorMap.map, 'cm-legend', true); }")
    legend = corridor.page.locator("#cm-legend")
    text = legend.inner_text().lower()  # headings are upper case by CSS
    for words in ("pipelines", "oil pipeline", "gas pipeline", "proposed", "under construction"):
        assert words in text
    strokes = corridor.js(
        "Array.from(document.querySelectorAll('#cm-legend line')).map(l => l.getAttribute('stroke'))"
    )
    assert PIPELINE_FUELS["oil"][1] in strokes and PIPELINE_FUELS["gas"][1] in strokes
    corridor.check_clean()
