"""The rail network builder (geo.data.rail) on tiny hand-made sources, and the committed layer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely

from geo.data.bundled import bundled_dir
from geo.data.countries import distance_km
from geo.data.geodesy import GEOD
from geo.data.layers import load_layer
from geo.data.rail import (
    BuildOptions,
    RailReport,
    Region,
    Source,
    build_rail,
    main,
    write_rail,
)
from geo.errors import GeoError

DATA = Path(__file__).parent / "data" / "rail"
NE = Source("ne", "ne.gpkg", "ne_10m_railroads", frozenset({"KAZ", "CHN"}), "test source",
            "public domain", raw_ways=False)  # fmt: skip
# Two made-up countries meeting at lon 70 (codes matter only for the gauge).
COUNTRIES = gpd.GeoDataFrame(
    {"id": ["KAZ", "CHN"], "name": ["Kazakhstan", "China"]},
    geometry=[shapely.box(60, 40, 70, 50), shapely.box(70, 40, 80, 50)], crs=4326,
)  # fmt: skip


def build(tmp_path: Path, lines: list[list[tuple[float, float]]], *, nodes: list[Any] = (),
          gauges: str = "", traces: str = "", **opts: Any) -> tuple[dict[str, Any], RailReport]:  # fmt: skip
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    gpd.GeoDataFrame(
        {"featurecla": ["Railroad"] * len(lines), "scalerank": [4] * len(lines)},
        geometry=[shapely.LineString(c) for c in lines], crs=4326,
    ).to_file(src / "ne.gpkg", layer="ne_10m_railroads", engine="pyogrio")  # fmt: skip
    feats = [{"type": "Feature", "properties": {"id": i, "name": i, "kind": "border_crossing",
              "country": cc}, "geometry": {"type": "Point", "coordinates": xy}}
             for i, cc, xy in nodes]  # fmt: skip
    (tmp_path / "nodes.geojson").write_text(json.dumps({"type": "FeatureCollection",
                                                         "features": feats}))  # fmt: skip
    (tmp_path / "gauges.toml").write_text(gauges)
    (tmp_path / "traces.toml").write_text(traces)
    return build_rail(src, nodes_path=tmp_path / "nodes.geojson",
                      gauges_path=tmp_path / "gauges.toml", traces_path=tmp_path / "traces.toml",
                      countries=COUNTRIES, sources=[NE], options=BuildOptions(**opts))  # fmt: skip


def ends(fc: dict[str, Any]) -> list[tuple[float, float]]:
    return [tuple(c) for f in fc["features"]
            for c in (f["geometry"]["coordinates"][0], f["geometry"]["coordinates"][-1])]  # fmt: skip


def degree(fc: dict[str, Any], xy: tuple[float, float]) -> int:
    return ends(fc).count(xy)


def test_a_cross_gives_a_junction(tmp_path: Path) -> None:
    fc, _ = build(tmp_path, [[(64, 45), (66, 45)], [(65, 44), (65, 46)]])
    assert len(fc["features"]) == 4
    assert degree(fc, (65.0, 45.0)) == 4


def test_an_end_300_m_short_is_snapped_one_5_km_off_is_not(tmp_path: Path) -> None:
    short = 0.0027  # degrees of latitude: 300 m
    fc, rep = build(tmp_path, [[(64, 45), (66, 45)], [(65, 46), (65, 45 + short)]])
    assert rep.snaps == 1 and degree(fc, (65.0, 45.0)) == 3
    assert len(fc["features"]) == 3
    fc, rep = build(tmp_path, [[(64, 45), (66, 45)], [(65, 46), (65, 45.045)]])
    assert rep.snaps == 0 and len(fc["features"]) == 2
    assert degree(fc, (65.0, 45.045)) == 1


def test_degree_2_chains_merge(tmp_path: Path) -> None:
    fc, rep = build(tmp_path, [[(64, 45), (64.5, 45.1)], [(65, 45), (64.5, 45.1)],
                               [(65, 45), (65.5, 45.2)]])  # fmt: skip
    assert len(fc["features"]) == 1
    assert fc["features"][0]["geometry"]["coordinates"][0] in ([64.0, 45.0], [65.5, 45.2])
    assert rep.components_km["KAZ"] == [pytest.approx(fc["features"][0]["properties"]
                                                      ["length_km"], abs=0.1)]  # fmt: skip


def test_a_line_across_the_border_is_cut_and_joined_at_a_crossing_node(tmp_path: Path) -> None:
    fc, rep = build(tmp_path, [[(68, 45), (72, 45)]], nodes=[("post", "KAZ", (69.95, 45.0))])
    by = {f["properties"]["country"]: f for f in fc["features"]}
    assert set(by) == {"KAZ", "CHN"}
    assert by["KAZ"]["geometry"]["coordinates"][-1] == by["CHN"]["geometry"]["coordinates"][0]
    assert by["KAZ"]["geometry"]["coordinates"][-1] == [70.0, 45.0]
    assert rep.border_joins == [("post", "CHN", "KAZ", 0.0)]
    assert rep.unlisted_border_connections == []
    # Without a crossing node the cut still joins them, and the report lists it.
    _, rep = build(tmp_path, [[(68, 45), (72, 45)]])
    assert rep.unlisted_border_connections == [("CHN-KAZ", "ne", (70.0, 45.0))]


def test_separate_national_lines_are_joined_only_at_a_crossing_node(tmp_path: Path) -> None:
    lines = [[(68, 45), (69.98, 45)], [(70.03, 45.01), (72, 45)]]
    fc, rep = build(tmp_path, lines)
    assert len(fc["features"]) == 2 and rep.border_joins == []
    assert sorted(len(v) for v in rep.components_km.values()) == [1, 1]
    fc, rep = build(tmp_path, lines, nodes=[("post", "KAZ", (69.99, 45.0))])
    connectors = [f for f in fc["features"] if f["properties"]["precision"] == "straight"]
    assert {f["properties"]["country"] for f in connectors} == {"KAZ", "CHN"}
    assert all("not track" in f["properties"]["name"] for f in connectors)
    assert degree(fc, (69.98, 45.0)) == 2 and degree(fc, (70.03, 45.01)) == 2
    assert [j[0] for j in rep.border_joins] == ["post"] and rep.border_joins[0][3] > 0
    # A node too far from the track joins nothing and says so.
    _, rep = build(tmp_path, lines, nodes=[("far", "KAZ", (69.99, 47.0))])
    assert rep.border_joins == [] and rep.crossings_not_joined[0][0] == "far"


def test_a_short_dip_into_a_neighbour_near_the_border_stays_in_its_country(tmp_path: Path) -> None:
    # KAZ track that the 1:50m border puts 2 km into CHN for about 16 km (as the Turksib near
    # Taraz lay in KGZ): one KAZ line, no crossing, no border cut.
    dip = [(68, 45), (69.9, 45), (70.03, 45.02), (70.03, 45.12), (69.9, 45.14), (68, 45.14)]
    fc, rep = build(tmp_path, [dip])
    assert {f["properties"]["country"] for f in fc["features"]} == {"KAZ"}
    assert len(fc["features"]) == 1 and rep.unlisted_border_connections == []
    assert [(b, a) for b, a, _, _ in rep.slivers] == [("CHN", "KAZ")]
    assert rep.slivers[0][2] == pytest.approx(16.5, abs=1.0)
    assert "border slivers" in rep.text() and "CHN -> KAZ" in rep.text()
    # 30 km into CHN is a real stretch of Chinese track, not a sliver ...
    deep = [(68, 45), (69.9, 45), (70.4, 45.02), (69.9, 45.1), (68, 45.1)]
    fc, rep = build(tmp_path, [deep])
    assert rep.slivers == [] and {f["properties"]["country"] for f in fc["features"]} == {
        "KAZ", "CHN"}  # fmt: skip
    # ... and so is a short one entered from CHN that leaves to KAZ (a crossing, not a dip).
    fc, rep = build(tmp_path, [[(69, 45), (70.05, 45), (70.1, 45)], [(70.1, 45), (72, 45)]])
    assert rep.slivers == []


def write_pieces(tmp_path: Path, ways: list[tuple[str, list[tuple[float, float]]]]) -> None:
    """A western-China-like extract: named ways that stop short of each other."""
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    gpd.GeoDataFrame(
        {"name": [n for n, _ in ways], "name:en": [n.upper() for n, _ in ways]},
        geometry=[shapely.LineString(c) for _, c in ways], crs=4326,
    ).to_file(src / "osm_china_west.gpkg", layer="railways", engine="pyogrio")  # fmt: skip


TRACE = """
[[trace]]
id = "east"
name = "Eastern line"
source = "osm_chn"
ways = ["EAST"]
waypoints = [[74.0, 45.0], [78.0, 45.0]]
"""


def test_a_line_in_pieces_is_traced_and_joins_the_network(tmp_path: Path) -> None:
    h = 0.00635  # degrees of longitude at 45 N: 0.5 km; the pieces stop 1 km short of each other
    pieces = [("east", [(74.0 + k + h, 45.0), (74.5 + k, 45.02), (75.0 + k - h, 45.0)])
              for k in range(4)]  # fmt: skip
    decoy = ("west", [(74.0, 45.0), (78.0, 45.0)])  # a straight line of another name
    write_pieces(tmp_path, [*pieces, decoy])
    fc, rep = build(tmp_path, [[(72, 45), (74, 45)]], traces=TRACE)
    traced = [f for f in fc["features"] if "traced into one line" in f["properties"]["source"]]
    assert len(traced) == 1
    props = traced[0]["properties"]
    assert props["name"] == "Eastern line" and props["licence"] == "ODbL-1.0"
    assert props["country"] == "CHN" and props["precision"] == "traced"
    assert degree(fc, (74.0, 45.0)) == 2  # noded with the Natural Earth line it continues
    ((tid, km, bridged),) = rep.traces
    assert tid == "east" and km == pytest.approx(props["length_km"], abs=0.5)
    # three 1 km gaps between the pieces and 0.5 km to each waypoint
    assert bridged == pytest.approx(4.0, abs=0.05)
    assert km == pytest.approx(8 * 38.9 + 4.0, abs=1.0)  # eight 38.9 km half-pieces, bridged
    assert "lines traced along pieces of a source: 1" in rep.text()


def test_a_trace_that_cannot_be_followed_says_where(tmp_path: Path) -> None:
    write_pieces(tmp_path, [("east", [(74.0, 45.0), (75.0, 45.0)]),
                            ("east", [(75.1, 45.0), (78.0, 45.0)])])  # fmt: skip
    with pytest.raises(
        GeoError, match=r"trace east: no path along the ways .* \(gaps over 3.5 km\)"
    ):
        build(tmp_path, [[(72, 45), (74, 45)]], traces=TRACE)
    with pytest.raises(GeoError, match=r"trace east: waypoint 2 \(78.0, 46.0\) lies 11\d\.\d km"):
        build(tmp_path, [[(72, 45), (74, 45)]], traces=TRACE.replace("[78.0, 45.0]", "[78.0, 46.0]"),
              trace_gap_km=10)  # fmt: skip
    with pytest.raises(GeoError, match="unknown source 'osm_xyz'"):
        build(tmp_path, [[(72, 45), (74, 45)]], traces=TRACE.replace('"osm_chn"', '"osm_xyz"'))


def test_gauge_by_country_and_sourced_exception(tmp_path: Path) -> None:
    lines = [[(64, 45), (66, 45)], [(74, 45), (76, 45)], [(74, 47), (76, 47)]]
    gauges = """
[[exception]]
id = "test"
country = "CHN"
gauge_mm = 1520
buffer_km = 2.0
line = [[73.9, 47.0], [76.1, 47.0]]
source = "https://example.org/gauge"
notes = "broad gauge here"
"""
    fc, _ = build(tmp_path, lines, gauges=gauges)
    got = {(f["properties"]["country"], f["geometry"]["coordinates"][0][1]):
           (f["properties"]["gauge_mm"], f["properties"].get("notes")) for f in fc["features"]}  # fmt: skip
    assert got == {("KAZ", 45.0): (1520, None), ("CHN", 45.0): (1435, None),
                   ("CHN", 47.0): (1520, "broad gauge here")}  # fmt: skip


def test_simplification_keeps_each_length_within_half_a_percent(tmp_path: Path) -> None:
    wiggle = [(64 + i * 0.001, 45 + 0.0004 * (i % 2)) for i in range(2001)]
    true_km = GEOD.geometry_length(shapely.LineString(wiggle)) / 1000
    fc, rep = build(tmp_path, [wiggle], simplify_deg=0.01)
    (f,) = fc["features"]
    assert f["properties"]["length_km"] == pytest.approx(true_km, rel=0.005)
    assert rep.simplify_lowered == 1  # 0.01 degrees would have cut the zigzag: lowered
    assert len(f["geometry"]["coordinates"]) < len(wiggle)


def test_same_sources_same_bytes(tmp_path: Path) -> None:
    lines = [[(64, 45), (66, 45)], [(65, 44), (65, 46)], [(68, 45), (72, 45)]]
    a, _ = build(tmp_path, lines, nodes=[("post", "KAZ", (69.95, 45.0))])
    b, _ = build(tmp_path, list(reversed(lines)), nodes=[("post", "KAZ", (69.95, 45.0))])
    write_rail(a, tmp_path / "a.geojson")
    write_rail(b, tmp_path / "b.geojson")
    assert (tmp_path / "a.geojson").read_bytes() == (tmp_path / "b.geojson").read_bytes()


OSM = Source("osm", "osm.gpkg", "railways", frozenset({"CHN"}), "test extract", "ODbL-1.0",
             raw_ways=True)  # fmt: skip


def build_with_region(tmp_path: Path, join_km: float) -> tuple[dict[str, Any], RailReport]:
    """Natural Earth's KAZ line stops 5.5 km short of a line only the (CHN) extract has."""
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    gpd.GeoDataFrame({"featurecla": ["Railroad"], "scalerank": [4]},
                     geometry=[shapely.LineString([(62, 45), (63.93, 45)])], crs=4326,
                     ).to_file(src / "ne.gpkg", layer="ne_10m_railroads", engine="pyogrio")  # fmt: skip
    # the region's line, and a line of the extract in KAZ outside the region
    gpd.GeoDataFrame({"name": ["", ""]},
                     geometry=[shapely.LineString([(64, 45), (65, 45.5)]),
                               shapely.LineString([(61, 42), (62, 42)])], crs=4326,
                     ).to_file(src / "osm.gpkg", layer="railways", engine="pyogrio")  # fmt: skip
    (tmp_path / "nodes.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    (tmp_path / "gauges.toml").write_text("")
    region = Region("osm", "KAZ", (63.5, 44.5, 65.5, 46.0), "test line", join_km=join_km)
    return build_rail(src, nodes_path=tmp_path / "nodes.geojson",
                      gauges_path=tmp_path / "gauges.toml", traces_path=tmp_path / "none.toml",
                      countries=COUNTRIES, sources=[NE, OSM], regions=[region])  # fmt: skip


def test_a_region_takes_track_the_own_source_lacks_and_joins_it(tmp_path: Path) -> None:
    fc, rep = build_with_region(tmp_path, join_km=8.0)
    by_source = {f["properties"]["source"]: f for f in fc["features"]}
    region = by_source["test extract"]["properties"]
    assert region["country"] == "KAZ" and region["licence"] == "ODbL-1.0"
    assert region["length_km"] == pytest.approx(GEOD.inv(64, 45, 65, 45.5)[2] / 1000, rel=0.01)
    # the extract's other KAZ line lies outside the region: left out
    assert not any(c[1] == 42.0 for f in fc["features"] for c in f["geometry"]["coordinates"])
    (connector,) = [f for f in fc["features"] if f["properties"]["precision"] == "straight"]
    assert connector["properties"]["name"].startswith("Connector between two track sources")
    assert connector["properties"]["length_km"] == pytest.approx(5.5, abs=0.1)
    assert [(cc, what) for cc, what, _ in rep.region_joins] == [("KAZ", "test line")]
    assert degree(fc, (63.93, 45.0)) == 2 and degree(fc, (64.0, 45.0)) == 2
    assert len(rep.components_km["KAZ"]) == 1
    # a region end further than join_km from other track stays unjoined
    fc, rep = build_with_region(tmp_path, join_km=3.0)
    assert rep.region_joins == [] and len(rep.components_km["KAZ"]) == 2
    assert not any(f["properties"]["precision"] == "straight" for f in fc["features"])


def test_missing_source_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path), "--out", str(tmp_path / "rail.geojson")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "source file missing" in err
    assert not (tmp_path / "rail.geojson").exists()


# --- the committed layer ---------------------------------------------------------------------

RAIL = bundled_dir("layers") / "rail.geojson"


@pytest.fixture(scope="module")
def rail() -> gpd.GeoDataFrame:
    return load_layer(RAIL, kind="segment", check_countries=False)


def test_committed_layer_is_valid_and_each_feature_lies_in_its_country(
    rail: gpd.GeoDataFrame,
) -> None:
    assert len(rail) > 1000 and set(rail["mode"]) == {"rail"}
    assert rail["id"].is_unique and "corridor" not in rail and "from" not in rail
    mids = shapely.line_interpolate_point(rail.geometry.to_numpy(), 0.5, normalized=True)
    far = [
        (fid, cc)
        for fid, cc, m in zip(rail["id"], rail["country"], mids, strict=True)
        if distance_km(m.x, m.y, cc) > 10
    ]  # 1:50m borders: 10 km, as for nodes
    assert far == []


def test_committed_lengths_match_length_km(rail: gpd.GeoDataFrame) -> None:
    km = [GEOD.geometry_length(g) / 1000 for g in rail.geometry]
    assert max(abs(a - b) for a, b in zip(km, rail["length_km"], strict=True)) < 0.001


def test_committed_layer_is_noded_at_ends_only(rail: gpd.GeoDataFrame) -> None:
    text = RAIL.read_text(encoding="utf-8")
    raw = json.loads(text)["features"]
    assert all(len(c) == 2 and all(round(v, 5) == v for v in c)
               for f in raw for c in f["geometry"]["coordinates"])  # fmt: skip
    assert {f["properties"]["licence"] for f in raw} <= {"public domain", "ODbL-1.0"}
    # Ends of one feature touch no other feature's interior: junctions are shared ends.
    lines = rail.geometry.to_numpy()
    tree = shapely.STRtree(lines)
    starts = shapely.points([g.coords[0] for g in lines])
    hit, line = tree.query(starts, predicate="intersects")
    interior = [(int(h), int(li)) for h, li in zip(hit, line, strict=True) if h != li
                and tuple(shapely.get_coordinates(starts[h])[0])
                not in (lines[li].coords[0], lines[li].coords[-1])]  # fmt: skip
    assert interior == []
