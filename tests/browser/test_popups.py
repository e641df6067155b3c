"""Popups written for readers: sources as named links, maintainers' notes only in a fold."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import MapPage

pytestmark = pytest.mark.browser

# Every card of every layer, built as a click builds it; what a reader sees (outside the
# "data notes" fold) and the notes each feature carries.
CARDS = """() => {
  const out = [];
  CorridorMap.map._cm.layers.forEach(o => {
    const spec = o.layer._cmSpec;
    if (!spec || !spec.card) { return; }
    const rows = spec.kind === 'deposits'
      ? spec.p.map((_, i) => spec.data.map(c => CorridorMap.column(c, i)))
      : spec.f.map(f => f.v);
    rows.forEach((v, i) => {
      const box = CorridorMap.card(spec, v, spec.f && spec.f[i] ? spec.f[i].l : undefined);
      const fold = box.querySelector('details');
      if (fold) { fold.remove(); }
      out.push({layer: spec.group, title: v[0], seen: box.textContent,
                links: Array.from(box.querySelectorAll('a')).map(a => [a.textContent, a.href]),
                notes: spec.notes === undefined ? '' : v[spec.notes],
                folded: !!fold});
    });
  });
  return out;
}"""


def test_popups_name_their_sources_and_fold_the_notes(map_page: MapPage, any_map: Path) -> None:
    map_page.open(any_map)
    cards = map_page.js(CARDS)
    assert len(cards) > 50
    groups = {c["layer"] for c in cards}
    assert {"Corridors", "Places", "Deposits"} <= groups
    for c in cards:
        where = f"{c['layer']}: {c['title']}"
        assert not re.search(r"%[0-9A-Fa-f]{2}", c["seen"]), f"{where}: percent-encoded text"
        assert "http://" not in c["seen"] and "https://" not in c["seen"], where
        for text, href in c["links"]:
            assert href.startswith(("http://", "https://")), where
            assert "%" not in text and "/" not in text, f"{where}: link text {text!r}"
        for line in c["notes"].splitlines():
            if len(line) > 12:  # a maintainers' note shows only under "data notes"
                assert line not in c["seen"], f"{where}: note outside the fold: {line[:60]}"
        if c["notes"]:
            assert c["folded"], where
    assert sum(bool(c["links"]) for c in cards) > len(cards) / 2
    map_page.check_clean()


def test_a_clicked_line_shows_a_reader_popup_without_a_focus_ring(
    map_page: MapPage, any_map: Path
) -> None:
    map_page.open(any_map)
    box = map_page.js(
        """() => {
          const m = CorridorMap.map; let line = null;
          m.eachLayer(l => { if (!line && l instanceof L.Polyline && l.getPopup()
                                 && l.options.pane === 'cmTitr') { line = l; } });
          line.openPopup(line.getCenter());
          const path = line.getElement(); path.focus();
          const fold = document.querySelector('.leaflet-popup-content details');
          return {outline: getComputedStyle(path).outlineStyle,
                  folded: fold ? !fold.open : true,
                  text: document.querySelector('.leaflet-popup-content').innerText};
        }"""
    )
    assert box["outline"] == "none"
    assert box["folded"]  # the notes stay closed until the reader opens them
    assert "Status" in box["text"] and "Source" in box["text"]
    map_page.check_clean()


def test_the_exports_map_details_are_reader_cards(map_page: MapPage) -> None:
    from .conftest import ROOT

    exports = ROOT / "maps" / "exports.html"
    if not exports.is_file():
        pytest.skip("maps/exports.html not built (run `corridor map maps/exports.toml`)")
    map_page.open(exports)
    seen = map_page.js(
        """() => CorridorMap.exportMarkers.map((m, i) => {
          CorridorMap.depositDetails(i);
          const box = document.querySelector('.leaflet-popup-content').cloneNode(true);
          const fold = box.querySelector('details');
          const notes = fold ? fold.textContent : '';
          if (fold) { fold.remove(); }
          return {text: box.textContent, notes: notes,
                  links: Array.from(box.querySelectorAll('a')).map(a => a.textContent)};
        })"""
    )
    assert len(seen) >= 80
    for card in seen:
        assert not re.search(r"%[0-9A-Fa-f]{2}|https?://", card["text"]), card["text"][:80]
        assert "Commodities" in card["text"] and "Status" in card["text"]
        assert all("/" not in link for link in card["links"])
    assert sum(bool(c["notes"]) for c in seen) > 0  # the maintainers' notes are kept, folded
    map_page.check_clean()
