"""Routing and statistics on a hand-built network whose answers are known by hand.

The fixture (tests/data/net_*.geojson): Alpha (KAZ) - Whiskey (KAZ), then either through
Russia (Romeo, Mike) or by a Caspian ferry (Port East -> Port West, AZE) to Tango (GEO, where
1520 mm meets 1435 mm), Hotel (GEO) and Kilo (TUR). The Russian path is shorter.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from helpers import seg_km
from pyproj import Geod

from geo.analysis.network import build_network
from geo.analysis.routing import find_route, make_constraints, normalise
from geo.analysis.stats import deposits_near, route_stats
from geo.data.layers import load_layer
from geo.errors import RouteError

DATA = Path(__file__).parent / "data"
GEOD = Geod(ellps="WGS84")
PARAMS = tomllib.loads((Path(__file__).parents[1] / "layers" / "transit.toml").read_text())[
    "parameter"
]


@pytest.fixture(scope="module")
def net():
    return build_network(
        load_layer(DATA / "net_nodes.geojson"), load_layer(DATA / "net_segments.geojson")
    )


def test_unconstrained_route_goes_through_russia(net) -> None:
    r = find_route(net, "Alpha", "Kilo")
    s = route_stats(r, network=net)
    assert r.path == ["Alpha", "Whiskey", "Romeo", "Mike", "Port West", "Tango", "Hotel", "Kilo"]
    assert s["length_km"] == pytest.approx(
        seg_km("aw", "wr", "rm", "mq", "qt", "th", "hk"), abs=0.1
    )
    assert s["countries"] == ["KAZ", "RUS", "AZE", "GEO", "TUR"]
    assert s["transits_russia"] is True and s["russia_km"] > 200
    assert s["border_crossings"]["count"] == 4
    assert s["gauge_breaks"] == {"count": 1, "at": ["Tango"]}
    assert s["transshipments"]["count"] == 0


def test_avoiding_russia_takes_the_ferry(net) -> None:
    r = find_route(net, "Alpha", "Kilo", constraints=make_constraints(["RUS"]))
    s = route_stats(r, network=net)
    assert r.path == ["Alpha", "Whiskey", "Port East", "Port West", "Tango", "Hotel", "Kilo"]
    assert s["length_km"] == pytest.approx(seg_km("aw", "wp", "pq", "qt", "th", "hk"), abs=0.1)
    assert s["countries"] == ["KAZ", "AZE", "GEO", "TUR"]
    assert [(b["from"], b["to"]) for b in s["border_crossings"]["list"]] == [
        ("KAZ", "AZE"),
        ("AZE", "GEO"),
        ("GEO", "TUR"),
    ]
    assert s["transits_russia"] is False and s["russia_km"] == 0
    assert s["transshipments"] == {"count": 2, "at": ["Port East", "Port West"]}
    assert s["length_km_by_mode"]["ferry"] == pytest.approx(seg_km("pq"), abs=0.1)
    assert s["sea_km"] > 600  # the ferry's open-water part


def test_transit_days_follow_the_parameter_table(net) -> None:
    r = find_route(net, "Alpha", "Kilo", constraints=make_constraints(["RUS"]))
    s = route_stats(r, network=net)
    rail1520 = seg_km("aw", "wp", "qt")
    rail1435 = seg_km("th", "hk")
    ferry = seg_km("pq")

    def days(which: str) -> float:
        p = {k: v[which] for k, v in PARAMS.items()}
        return (rail1520 / p["rail_1520_km_per_day"] + rail1435 / p["rail_1435_km_per_day"]
                + ferry / p["ferry_km_per_day"] + p["ferry_wait_days"]
                + (3 * p["border_hours"] + 1 * p["gauge_change_hours"]) / 24)  # fmt: skip

    assert s["transit_days"]["low"] == pytest.approx(days("fast"), abs=0.06)
    assert s["transit_days"]["high"] == pytest.approx(days("slow"), abs=0.06)


def test_blocked_route_names_the_constraint(net) -> None:
    with pytest.raises(
        RouteError,
        match="no route from Alpha to Kilo avoiding RUS with modes rail.*the Caspian needs mode ferry",
    ):
        find_route(net, "Alpha", "Kilo", constraints=make_constraints(["RUS"], ["rail"]))


def test_destination_in_an_avoided_country(net) -> None:
    with pytest.raises(RouteError, match="Mike lies in RUS"):
        find_route(net, "Alpha", "Mike", constraints=make_constraints(["RUS"]))


def test_planned_links_only_with_status_all(net) -> None:
    r = find_route(net, "Alpha", "Port East")
    assert [leg.segment_id for leg in r.legs] == ["aw", "wp"]
    r = find_route(net, "Alpha", "Port East", constraints=make_constraints(status=["all"]))
    assert [leg.segment_id for leg in r.legs] == ["ap"]


def test_disconnected_place_is_an_error_not_an_empty_route(net) -> None:
    with pytest.raises(RouteError, match="not connected"):
        find_route(net, "Alpha", "Zulu Island")


def test_names_are_case_and_accent_insensitive(net) -> None:
    assert normalise("Constanța") == normalise("constanta")
    assert find_route(net, "ÁLPHA", "kilo").path[0] == "Alpha"
    with pytest.raises(RouteError, match="did you mean 'Alpha'"):
        find_route(net, "Alpah", "Kilo")


def test_bad_options_are_errors() -> None:
    with pytest.raises(RouteError, match="--modes: 'plane'"):
        make_constraints(modes=["rail,plane"])
    with pytest.raises(RouteError, match="--avoid: 'Mordor'"):
        make_constraints(["Mordor"])
    c = make_constraints(["rus,ormuz", "cape"])
    assert c.avoid_countries == {"RUS"} and c.avoid_passages == {"hormuz", "cape"}


def test_reversed_route_same_length(net) -> None:
    a = route_stats(find_route(net, "Alpha", "Kilo"), network=net)
    b = route_stats(find_route(net, "Kilo", "Alpha"), network=net)
    assert a["length_km"] == pytest.approx(b["length_km"], abs=0.1)
    assert b["countries"] == list(reversed(a["countries"]))


def test_endpoints_snapped_or_reported_dangling() -> None:
    nodes = load_layer(DATA / "net_nodes.geojson")
    segs = load_layer(DATA / "net_segments.geojson")
    extra = gpd.GeoDataFrame(
        [{"id": "near", "name": "near", "corridor": "X", "mode": "rail", "status": "operational",
          "gauge_mm": 1520, "from": None, "to": "k", "precision": "straight", "source": "x",
          "geometry": shapely.LineString([(66.02, 47.01), (43.1, 40.6)])},
         {"id": "far", "name": "far", "corridor": "X", "mode": "rail", "status": "operational",
          "gauge_mm": 1520, "from": "nowhere", "to": "k", "precision": "straight", "source": "x",
          "geometry": shapely.LineString([(70.0, 50.0), (43.1, 40.6)])}],
        crs=4326,
    )  # fmt: skip
    net = build_network(
        nodes,
        gpd.GeoDataFrame(__import__("pandas").concat([segs, extra], ignore_index=True), crs=4326),
    )
    assert any("segment near: from end joined to node a" in s for s in net.snapped)
    assert any(d.startswith("segment far: from names unknown node 'nowhere'") for d in net.dangling)
    assert net.graph.has_edge("a", "k") and not any(
        e.get("id") == "far" for *_, e in net.graph.edges(data=True)
    )


def test_deposit_origin_gets_an_access_leg(net) -> None:
    dep = gpd.GeoDataFrame([{"id": "mine1", "name": "Test Mine", "commodities": ["uranium"],
                             "country": "KAZ", "geometry": shapely.Point(66.5, 47.2)}], crs=4326)  # fmt: skip
    net2 = build_network(
        net.nodes.reset_index(drop=True),
        net.segments[
            [
                c
                for c in net.segments.columns
                if c
                not in (
                    "from_node",
                    "to_node",
                    "length_km",
                    "km_by_country",
                    "countries",
                    "russia_km",
                )
            ]
        ],
        dep,
    )
    r = find_route(net2, "Test Mine", "Kilo", constraints=make_constraints(["RUS"]))
    assert r.legs[0].access and r.legs[0].to_id == "a"
    # the straight line times the road detour factor of layers/transit.toml
    assert r.legs[0].length_km == pytest.approx(
        GEOD.inv(66.5, 47.2, 66.0, 47.0)[2] / 1000 * PARAMS["road_detour_factor"]["fast"], abs=0.01
    )
    s = route_stats(r, network=net2)
    assert s["deposits_nearby"] == {
        "count": 1, "by_commodity": {"uranium": 1}, "ids": ["mine1"], "buffer_km": 100.0,
        "list": [{"id": "mine1", "name": "Test Mine", "km": 0.0, "commodities": ["uranium"]}],
    }  # fmt: skip


def test_deposits_near_is_geodesic_not_degrees() -> None:
    # A meridian at 60 N: one degree of longitude is ~55.8 km there, one of latitude ~111.4 km.
    line = shapely.LineString([(30.0, 59.0), (30.0, 61.0)])
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(31.7, 60.0), shapely.Point(31.9, 60.0),
                                     shapely.Point(30.0, 61.85), shapely.Point(30.0, 61.95)],
                           crs=4326)  # fmt: skip
    # 1.7 deg east ~ 94.4 km (in), 1.9 deg ~ 105.5 km (out); 0.85 deg north ~ 94.7 km (in), 0.95 ~ 105.8 (out)
    assert deposits_near(line, pts, 100.0).tolist() == [True, False, True, False]
