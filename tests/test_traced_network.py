"""The traced rail network in the graph: stations, junctions, corridor sections, shown legs.

A tiny hand-made rail layer in Kazakhstan (lines meeting at shared ends, as the rail builder
writes them): West (60E) - Junction (62E) - East (66E) along 45N, and a branch from the
junction north to 47N. Named places lie near it; the answers are known by hand.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from geo.analysis.corridors import Section, parse_sections
from geo.analysis.network import build_network
from geo.analysis.routing import find_route
from geo.analysis.stats import route_stats
from geo.data.geodesy import GEOD
from geo.errors import SpecError


def _km(*xy: tuple[float, float]) -> float:
    return GEOD.geometry_length(shapely.LineString(xy)) / 1000.0


def rail_frame() -> gpd.GeoDataFrame:
    lines = {
        "rail-KAZ-0001": [(60.0, 45.0), (61.0, 45.0), (62.0, 45.0)],
        "rail-KAZ-0002": [(62.0, 45.0), (64.0, 45.0), (66.0, 45.0)],
        "rail-KAZ-0003": [(62.0, 45.0), (62.0, 46.0), (62.0, 47.0)],
        "rail-KAZ-0004": [(66.0, 45.0), (67.0, 45.0)],  # a new line: under construction
    }
    rows = [{"id": k, "name": f"line {k[-1]}", "mode": "rail",
             "status": "under_construction" if k.endswith("4") else "operational",
             "gauge_mm": 1520, "precision": "traced", "country": "KAZ", "source": "fixture",
             "geometry": shapely.LineString(v)} for k, v in lines.items()]  # fmt: skip
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)


def nodes_frame() -> gpd.GeoDataFrame:
    places = {
        "west": (60.0, 45.0),  # on a line end: takes the vertex
        "mid": (64.0, 45.03),  # 3.3 km off the middle of a line: splits it
        "junction_town": (62.01, 45.01),  # 1.4 km from the junction: takes it
        "north": (62.0, 47.0),
        "far": (64.0, 46.5),  # 117 km from any line: not a station
        "east": (66.0, 45.0),
    }
    rows = [{"id": k, "name": k.replace("_", " ").title(), "kind": "city", "country": "KAZ",
             "gauge_change": False, "source": "fixture", "geometry": shapely.Point(v)}
            for k, v in places.items()]  # fmt: skip
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)


def empty_segments() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": [], "name": [], "mode": [], "status": [], "corridor": [],
                             "precision": []}, geometry=[], crs=4326)  # fmt: skip


SECTIONS = (
    Section("s-we", "West - East", ("TITR",), ("west", "east"), "operational", "src"),
    Section("s-jn", "Junction - North", ("Northern",), ("junction_town", "north"), "operational",
            "src"),
    Section("s-gone", "West - Nowhere", ("TITR",), ("west", "nowhere"), "operational", "src"),
)  # fmt: skip


@pytest.fixture(scope="module")
def net():
    return build_network(nodes_frame(), empty_segments(), rail=rail_frame(), sections=SECTIONS)


def test_places_become_stations(net) -> None:
    g = net.graph
    assert "west" in g and g.degree("west") == 1  # took the line end
    assert g.degree("junction_town") == 3  # took the junction within 3 km
    assert g.degree("mid") == 2  # split line 2 in two
    assert g.degree("far") == 0  # 117 km away: not on the network
    # every line end but the new line's far end took a place
    free = [(d["x"], d["y"]) for _, d in g.nodes(data=True) if d.get("kind") == "junction"]
    assert free == [(67.0, 45.0)]
    pieces = sorted(k for _, _, k in g.edges(keys=True) if k.startswith("rail-KAZ-0002"))
    assert pieces == ["rail-KAZ-0002:1", "rail-KAZ-0002:2"]
    assert any(line.startswith("far") for line in net.stations) is False


def test_route_over_the_traced_network_keeps_lengths(net) -> None:
    r = find_route(net, "West", "East")
    want = _km((60, 45), (61, 45), (62, 45)) + _km((62, 45), (64, 45), (66, 45))
    s = route_stats(r, network=net)
    assert s["length_km"] == pytest.approx(want, abs=0.2)
    assert s["precision_share"]["traced"] == 1.0
    # one shown leg per stretch between named places: West - Junction Town - Mid - East
    assert r.path == ["West", "Junction Town", "Mid", "East"]


def test_legs_take_their_corridor_from_the_sections(net) -> None:
    r = find_route(net, "West", "North")
    assert [leg.corridor for leg in r.legs] == ["TITR", "Northern"]
    assert net.untraced == ["section s-gone: station 'nowhere' is not in the network"]
    assert [t.section.id for t in net.sections] == ["s-we", "s-jn"]
    assert net.sections[0].length_km == pytest.approx(
        _km((60, 45), (61, 45), (62, 45)) + _km((62, 45), (64, 45), (66, 45)), abs=0.2
    )


def test_operational_sections_do_not_run_over_new_track() -> None:
    sec = (Section("s-new", "East - beyond", ("TITR",), ("east", "beyond"), "operational", "x"),)
    nodes = nodes_frame()
    nodes.loc[len(nodes)] = ["beyond", "Beyond", "city", "KAZ", False, "fixture",
                             shapely.Point(67.0, 45.0)]  # fmt: skip
    net = build_network(nodes, empty_segments(), rail=rail_frame(), sections=sec)
    assert net.untraced and "no rail path" in net.untraced[0]
    built = (Section("s-new", "East - beyond", ("TITR",), ("east", "beyond"),
                     "under_construction", "x"),)  # fmt: skip
    assert build_network(nodes, empty_segments(), rail=rail_frame(), sections=built).sections


def test_a_section_without_its_keys_is_one_line() -> None:
    with pytest.raises(SpecError, match=r"section #0 \(x\): missing .*source"):
        parse_sections({"section": [{"id": "x", "name": "n", "corridor": "TITR", "from": "a",
                                     "to": "b", "status": "operational"}]}, "c.toml")  # fmt: skip
