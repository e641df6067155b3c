"""The deposits' cluster group (corridor.js's ``CM.clusterGroup``) clusters exactly as
Leaflet.markercluster 1.4 does: the same clusters at every zoom level, with the same centres,
children in the same order, and the same objects at the same points in each level's grids,
after adding markers and after removing some (the in-page filters do both)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from .conftest import MapPage

pytestmark = pytest.mark.browser

# Everything a cluster group decides, as text: the cluster tree from the top (each cluster's
# zoom, centre, count, markers and child clusters in order, weighted centre, bounds, position
# and options; clusters named in walking order,
# markers by their row), and each zoom level's two grids (clusters, lone markers) as their
# non-empty cells in (row, column) order, each with its objects and their points in order.
SHAPE = """
window.__shape = function (g) {
  const ids = new Map();
  const id = o => {
    if (!(o instanceof L.MarkerCluster)) { return "m" + o.options.cmIndex; }
    if (!ids.has(o)) { ids.set(o, "c" + ids.size); }
    return ids.get(o);
  };
  const tree = [];
  (function walk(c) {
    const b = c._bounds.isValid() ? c._bounds.toBBoxString() : null;
    tree.push([id(c), c._zoom, c._cLatLng ? [c._cLatLng.lat, c._cLatLng.lng] : null,
      c._childCount, c._markers.map(id), c._childClusters.map(id),
      c._wLatLng ? [c._wLatLng.lat, c._wLatLng.lng] : null, b, c._latlng.lat, c._latlng.lng,
      c.options.icon === c, c.options.pane, c instanceof L.MarkerCluster]);
    c._childClusters.forEach(walk);
  })(g._topClusterLevel);
  const cellsOf = gr => {
    const cells = [];
    if (gr._grid) {  // the plugin's L.DistanceGrid
      for (const y in gr._grid) {
        for (const x in gr._grid[y]) {
          const c = gr._grid[y][x];
          if (c.length) {
            cells.push([+y, +x, c.map(o => {
              const p = gr._objectPoint[L.Util.stamp(o)];
              return [id(o), p.x, p.y];
            })]);
          }
        }
      }
    } else {  // ours: one kind of a CM.Level
      gr._level.cells().forEach(([y, x, list]) => {
        const l = list.filter(e => e[0] === gr._kind).map(e => [id(e[1]), e[2], e[3]]);
        if (l.length) { cells.push([y, x, l]); }
      });
    }
    return cells.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  };
  const grids = Object.keys(g._gridClusters).map(
    z => [z, cellsOf(g._gridClusters[z]), cellsOf(g._gridUnclustered[z])]);
  return JSON.stringify({tree: tree, grids: grids});
};
"""

# Both groups from the same points, each step applied to both: added, some removed one by one,
# then cleared and refilled with a subset (as the legend's filters do).
COMPARE = """([pts, removed, kept]) => {
  const map = CorridorMap.map;
  const opts = {chunkedLoading: false, maxClusterRadius: 45, showCoverageOnHover: false,
    spiderfyOnMaxZoom: true, iconCreateFunction: CorridorMap.clusterIcon};
  const make = () => pts.map((p, i) => L.marker(p, {keyboard: false, cmIndex: i}));
  const ours = CorridorMap.clusterGroup(opts), theirs = L.markerClusterGroup(opts);
  const mo = make(), mt = make();
  ours.addTo(map).addLayers(mo);
  theirs.addTo(map).addLayers(mt);
  const out = [];
  const step = () => {
    const a = __shape(ours), b = __shape(theirs);
    out.push({same: a === b, size: a.length,
      clusters: (a.match(/"c\\d+",\\d+,/g) || []).length, count: ours._topClusterLevel._childCount});
  };
  step();
  ours.removeLayers(removed.map(i => mo[i]));
  theirs.removeLayers(removed.map(i => mt[i]));
  step();
  ours.clearLayers().addLayers(kept.map(i => mo[i]));
  theirs.clearLayers().addLayers(kept.map(i => mt[i]));
  step();
  map.removeLayer(ours);
  map.removeLayer(theirs);
  return out;
}"""


def _points(n: int, seed: int) -> list[list[float]]:
    """Deposits as they come: dense districts, scattered sites, the same site twice, and points
    off the usual map (beyond the projection's latitude limit, past the 180th meridian)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform([37.0, 50.0], [52.0, 85.0], size=(12, 2))
    dense = centres[rng.integers(0, 12, n // 2)] + rng.normal(0, 0.05, size=(n // 2, 2))
    scattered = rng.uniform([35.0, 45.0], [55.0, 90.0], size=(n - n // 2, 2))
    pts = np.round(np.vstack([dense, scattered]), 5)
    repeats = pts[rng.integers(0, n, n // 20)]
    odd = np.array([[89.5, 60.0], [-89.5, 60.0], [86.0, 61.0], [45.0, 190.0], [45.0, -190.0],
                    [0.0, 0.0], [0.0, 180.0], [0.0, -180.0]])  # fmt: skip
    return np.vstack([pts, repeats, odd, repeats[:10]]).tolist()


def test_clusters_as_markercluster_does(map_page: MapPage, fixture_map: Path) -> None:
    map_page.open(fixture_map)
    map_page.js(f"() => {{ {SHAPE} }}")
    pts = _points(6000, 19)
    rng = np.random.default_rng(7)
    removed = sorted(rng.choice(len(pts), 700, replace=False).tolist())
    kept = sorted(rng.choice(len(pts), len(pts) // 2, replace=False).tolist())
    steps = map_page.js(COMPARE, [pts, removed, kept])
    assert [s["same"] for s in steps] == [True, True, True], steps
    counts = [s["count"] for s in steps]
    assert counts == [len(pts), len(pts) - len(removed), len(kept)]
    # the comparison is of something: thousands of clusters over the zoom levels
    assert all(s["clusters"] > 1000 for s in steps), steps
    map_page.check_clean()


def test_page_deposits_clustered_as_markercluster_does(
    map_page: MapPage, fixture_map: Path
) -> None:
    """The page's own deposit groups, built with chunked loading, against the plugin's."""
    map_page.open(fixture_map)
    map_page.js(f"() => {{ {SHAPE} }}")
    res = map_page.js("""() => {
      const map = CorridorMap.map;
      return map._cm.layers.filter(o => o.layer._cmKind === 'deposits' && map.hasLayer(o.layer))
        .map(o => {
          const g = o.layer, spec = g._cmSpec;
          const theirs = L.markerClusterGroup({chunkedLoading: false, maxClusterRadius: 45,
            iconCreateFunction: CorridorMap.clusterIcon});
          theirs.addTo(map).addLayers(spec.p.map((p, i) =>
            L.marker([p[0], p[1]], {keyboard: false, cmIndex: i})));
          const same = __shape(g) === __shape(theirs);
          map.removeLayer(theirs);
          return {same: same, n: spec.p.length, count: g._topClusterLevel._childCount};
        });
    }""")
    assert res, "no deposit layer on the fixture map"
    assert all(r["same"] and r["count"] == r["n"] for r in res), res
    assert max(r["n"] for r in res) >= 1500
    map_page.check_clean()


# The grids alone, on whole-number points (so equal distances, and the plugin's tie rule, come
# up all the time): the same objects added to an L.DistanceGrid and to both kinds of a
# CM.Level, some removed, and the nearest asked for at every point of a lattice.
GRIDS = """([pts, removed]) => {
  const size = 10, theirs = [new L.DistanceGrid(size), new L.DistanceGrid(size)];
  const level = new CorridorMap.Level(size), ours = [level.clusters, level.markers];
  const objs = pts.map((p, i) => ({id: i}));
  pts.forEach((p, i) => {
    const kind = i % 2;
    theirs[kind].addObject(objs[i], L.point(p[0], p[1]));
    ours[kind].addObject(objs[i], L.point(p[0], p[1]));
  });
  let removedBoth = 0;
  removed.forEach(i => {
    const p = L.point(pts[i][0], pts[i][1]), kind = i % 2;
    const a = theirs[kind].removeObject(objs[i], p), b = ours[kind].removeObject(objs[i], p);
    if (a && b) { removedBoth++; }
  });
  const id = o => (o ? o.id : null);
  let asked = 0, differ = 0, found = 0;
  for (let x = -15; x <= 115; x += 0.5) {
    for (let y = -15; y <= 115; y += 0.5) {
      const p = L.point(x, y);
      const c = level.near2(x, y), m = level.marker;
      const want = [id(theirs[0].getNearObject(p)), id(theirs[1].getNearObject(p))];
      const got = [[id(c), id(m)], [id(ours[0].getNearObject(p)), id(ours[1].getNearObject(p))]];
      got.forEach(g => { if (g[0] !== want[0] || g[1] !== want[1]) { differ++; } });
      asked++;
      if (want[0] !== null) { found++; }
    }
  }
  return {asked: asked, differ: differ, found: found, removed: removedBoth};
}"""


def test_level_answers_as_distance_grid(map_page: MapPage, fixture_map: Path) -> None:
    map_page.open(fixture_map)
    rng = np.random.default_rng(3)
    pts = rng.integers(0, 100, size=(600, 2)).tolist()
    removed = sorted(rng.choice(len(pts), 150, replace=False).tolist())
    res = map_page.js(GRIDS, [pts, removed])
    assert res["differ"] == 0, res
    assert res["removed"] == len(removed)
    assert res["found"] > res["asked"] // 2  # most questions have an answer to compare
    map_page.check_clean()
