"""In-page filters: the legend's checkboxes hide lines by status and deposits by commodity and
status, without rebuilding the map, and bring them back."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import MapPage

pytestmark = pytest.mark.browser

PATHS = "document.querySelectorAll('.leaflet-pane path').length"
DEPOSITS = """() => {
  const o = CorridorMap.map._cm.layers.find(o => o.layer._cmKind === 'deposits');
  return o.layer.getLayers().length;
}"""
# Per value of a filter, how many features the payloads hold (what the box should hide).
COUNTS = """(kind) => {
  const out = {};
  CorridorMap.map._cm.layers.forEach(o => {
    const spec = o.layer._cmSpec;
    if (!spec) { return; }
    if (kind === 'line' && spec.kind === 'lines' && spec.group !== 'Pipelines') {
      spec.f.forEach(f => { if (f.st) { out[f.st] = (out[f.st] || 0) + 1; } });
    }
    if (spec.kind === 'deposits' && o.label.indexOf('Deposits') === 0) {
      spec.p.forEach(p => {
        const key = kind === 'commodity' ? String(p[2]) : spec.sts[p[3]];
        out[key] = (out[key] || 0) + 1;
      });
    }
  });
  return out;
}"""


def _open_legend(mp: MapPage) -> None:
    mp.js("() => { CorridorMap.openPanel(CorridorMap.map, 'cm-legend', true); }")


def _box(mp: MapPage, kind: str, value: str) -> object:
    return mp.page.locator(f"input[data-cm-filter='{kind}'][value='{value}']")


def test_line_status_filter_hides_and_restores(map_page: MapPage, any_map: Path) -> None:
    map_page.open(any_map)
    _open_legend(map_page)
    counts = map_page.js(COUNTS, "line")
    status = next(s for s in ("planned", "under_construction") if counts.get(s))
    before = map_page.js(f"() => {PATHS}")
    box = _box(map_page, "line", status)
    box.click()  # a real click on the legend's checkbox
    map_page.page.wait_for_function(f"{PATHS} < {before}", timeout=3000)
    assert not box.is_checked()
    hidden = map_page.js(f"() => {PATHS}")
    assert before - hidden >= counts[status]  # each line of that status (and its casing) left
    # what stays is drawn: an operational line still has its path
    assert hidden > 0
    box.click()
    map_page.page.wait_for_function(f"{PATHS} === {before}", timeout=3000)
    map_page.check_clean()


def test_deposit_filters_by_commodity_and_status(map_page: MapPage, any_map: Path) -> None:
    map_page.open(any_map)
    _open_legend(map_page)
    total = map_page.js(DEPOSITS)
    by_group = map_page.js(COUNTS, "commodity")
    group, n = max(by_group.items(), key=lambda kv: kv[1])
    _box(map_page, "commodity", group).click()
    assert map_page.js(DEPOSITS) == total - n
    by_status = map_page.js(COUNTS, "deposit")
    status, m = max(by_status.items(), key=lambda kv: kv[1])
    _box(map_page, "deposit", status).click()
    both = map_page.js(
        """([g, s]) => {
          const spec = CorridorMap.map._cm.layers.find(o => o.layer._cmKind === 'deposits')
            .layer._cmSpec;
          return spec.p.filter(p => String(p[2]) === g || spec.sts[p[3]] === s).length;
        }""",
        [group, status],
    )
    assert map_page.js(DEPOSITS) == total - both
    assert m > 0
    map_page.settle()
    assert map_page.drawn() > 0  # the map still draws the rest
    _box(map_page, "commodity", group).click()
    _box(map_page, "deposit", status).click()
    assert map_page.js(DEPOSITS) == total
    map_page.check_clean()
