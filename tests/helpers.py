"""Helpers shared by the tests (imported as a plain module from tests/)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from pyproj import Geod

from geo.errors import RouteError
from geo.routing import Constraints, find_route
from geo.stats import route_stats

DATA = Path(__file__).parent / "data"
GEOD = Geod(ellps="WGS84")


def seg_km(*ids: str) -> float:
    """Geodesic km of the hand-built fixture segments, summed from their coordinates."""
    feats = {
        f["properties"]["id"]: f
        for f in json.loads((DATA / "net_segments.geojson").read_text())["features"]
    }
    total = 0.0
    for i in ids:
        coords = feats[i]["geometry"]["coordinates"]
        total += sum(GEOD.inv(*a, *b)[2] for a, b in itertools.pairwise(coords)) / 1000
    return total


def assert_row_matches_route(row: Any, net: Any, constraints: Constraints) -> Any:
    """An exports row says what find_route and route_stats say; returns the route (or None)."""
    try:
        r = find_route(net, row.deposit, row.market, constraints=constraints)
    except RouteError as e:
        assert row.blocked == str(e)
        return None
    s = route_stats(r, network=net)
    assert (row.km, row.countries, row.transits_russia) == (
        s["length_km"],
        s["countries"],
        s["transits_russia"],
    )
    assert (row.days_low, row.days_high) == (s["transit_days"]["low"], s["transit_days"]["high"])
    return r
