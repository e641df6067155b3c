"""Routes of equal length: a search from either end takes the same one.

Traced lengths are rounded to metres, so double track makes ties; ``corridor route`` searches
from the origin and ``corridor exports`` from the market, and the two must show one route.
A tiny rail layer: West and East joined by two tracks of exactly 100.000 km each, one by way
of a north junction, one by way of a south one. The lines are listed so that West's first
neighbour is the north junction and East's the south one: a search that keeps the first of
equals (networkx's Dijkstra does) goes north from West and south from East.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from geo.analysis.corridors import Section
from geo.analysis.network import build_network
from geo.analysis.routing import find_route, search_weight
from geo.analysis.supply import export_legs

NORTH, SOUTH = (61.0, 45.5), (61.0, 44.5)
WEST, EAST = (60.0, 45.0), (62.0, 45.0)


def rail_frame() -> gpd.GeoDataFrame:
    lines = [("rail-KAZ-0001", [WEST, NORTH]), ("rail-KAZ-0002", [EAST, SOUTH]),
             ("rail-KAZ-0003", [WEST, SOUTH]), ("rail-KAZ-0004", [EAST, NORTH])]  # fmt: skip
    rows = [{"id": k, "name": f"line {k[-1]}", "mode": "rail", "status": "operational",
             "gauge_mm": 1520, "precision": "traced", "country": "KAZ", "source": "fixture",
             "length_km": 50.0, "geometry": shapely.LineString(v)}
            for k, v in lines]  # fmt: skip
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)


def nodes_frame() -> gpd.GeoDataFrame:
    rows = [{"id": k, "name": k.title(), "kind": "city", "country": "KAZ",
             "gauge_change": False, "source": "fixture", "geometry": shapely.Point(v)}
            for k, v in (("west", WEST), ("east", EAST))]  # fmt: skip
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)


def empty_segments() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": [], "name": [], "mode": [], "status": [], "corridor": [],
                             "precision": []}, geometry=[], crs=4326)  # fmt: skip


def deposits() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        [{"id": "mine", "name": "Mine", "commodities": ["uranium"], "country": "KAZ",
          "output_value": None, "output_unit": None, "geometry": shapely.Point(59.9, 45.0)}],
        crs=4326,
    )  # fmt: skip


def tracks(legs: list) -> list[str]:
    """The rail lines a route runs over, in travel order (a shown leg joins several)."""
    return [i for leg in legs for i in leg.segment_id.split("..")]


@pytest.mark.parametrize("with_section", [False, True])
def test_both_ends_take_the_same_track(with_section: bool) -> None:
    section = Section("s", "West - East", ("TITR",), ("west", "east"), "operational", "src")
    net = build_network(nodes_frame(), empty_segments(), deposits(), rail=rail_frame(),
                        sections=(section,) if with_section else ())  # fmt: skip
    ahead = find_route(net, "west", "east")
    back = find_route(net, "east", "west")
    # a tie (to the last bits: the lines are cut at access points, which share each line's
    # stated 50 km in proportion)
    assert sum(leg.length_km for leg in ahead.legs) == pytest.approx(100.0, abs=1e-9)
    assert sum(leg.length_km for leg in back.legs) == pytest.approx(100.0, abs=1e-9)
    assert tracks(ahead.legs) == tracks(back.legs)[::-1]
    # the supply routes search from the market: the same track as find_route from the mine
    legs = export_legs(markets=["east"], network=net)[("mine", "east")]["avoid"]
    assert not isinstance(legs, str)
    assert tracks(legs) == tracks(find_route(net, "mine", "east").legs)
    assert tracks(legs)[1:] == tracks(ahead.legs)
    if with_section:  # where there is a choice, the track the corridor section was traced on
        # (by line: access points cut each line into pieces ``rail-KAZ-0001:1``, ``:2``...)
        traced = {e["id"].split(":")[0] for _, _, e in net.graph.edges(data=True)
                  if e["corridor"] == "TITR"}  # fmt: skip
        assert {t.split(":")[0] for t in tracks(ahead.legs)} == traced and len(traced) == 2


def test_the_tie_breaker_is_far_below_a_metre() -> None:
    e = {"id": "rail-KAZ-0001", "length_km": 100.0, "corridor": ""}
    assert 100.0 < search_weight(e) <= 100.0 + 4e-9
    assert search_weight({**e, "corridor": "TITR"}) < search_weight(e)
