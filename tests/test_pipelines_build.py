"""The pipelines builder (geo.data.pipelines) on a tiny hand-made GEM file, and the committed layer.

``tests/data/pipelines/gem_tiny.geojson`` is written into a GeoPackage layer named as GEM's
(``pipelines_full_geometry``) so that the build reads what it reads in production.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest

from geo.data.bundled import bundled_dir
from geo.data.layers import load_layer
from geo.data.pipelines import build_pipelines, main, read_selection
from geo.data.polylines import dist_km
from geo.errors import GeoError

DATA = Path(__file__).parent / "data" / "pipelines"
LAYER = bundled_dir("layers") / "pipelines.geojson"
TERMINALS = bundled_dir("layers") / "terminals.geojson"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    gdf = gpd.read_file(DATA / "gem_tiny.geojson", engine="pyogrio")
    gdf.to_file(src / "gem_pipelines.gpkg", layer="pipelines_full_geometry", engine="pyogrio")
    return src


def build(source: Path) -> tuple[dict[str, Any], Any]:
    return build_pipelines(source, select_path=DATA / "select.toml",
                           terminals_path=DATA / "terminals.geojson")  # fmt: skip


def by_project(fc: dict[str, Any], pid: str) -> list[dict[str, Any]]:
    return [f for f in fc["features"] if f["id"].startswith(f"pipe-{pid}-")]


def ends(f: dict[str, Any]) -> tuple[tuple[float, float], tuple[float, float]]:
    cs = f["geometry"]["coordinates"]
    return tuple(cs[0]), tuple(cs[-1])  # type: ignore[return-value]


def test_a_line_across_a_border_is_cut_there_into_one_piece_per_country(source: Path) -> None:
    fc, _ = build(source)
    pieces = by_project(fc, "T001")
    countries = [f["properties"]["country"] for f in pieces]
    assert countries[0] == "KAZ" and countries[-1] == "RUS"
    rus = next(f for f in pieces if f["properties"]["country"] == "RUS")
    kaz_ends = {c for f in pieces if f["properties"]["country"] == "KAZ" for c in ends(f)}
    assert ends(rus)[0] in kaz_ends  # the cut point is the shared end
    total = sum(f["properties"]["length_km"] for f in pieces)
    assert total == pytest.approx(222.4, abs=1.0)  # two degrees of latitude


def test_an_end_near_another_line_of_its_fuel_joins_it_and_splits_it(source: Path) -> None:
    fc, report = build(source)
    branch = by_project(fc, "T002")
    assert len(branch) == 1
    joint = ends(branch[0])[1]
    assert joint[0] == pytest.approx(51.0) and joint[1] == pytest.approx(50.8)
    trunk_ends = [c for f in by_project(fc, "T001") for c in ends(f)]
    assert trunk_ends.count(joint) == 2  # the trunk is split where the branch meets it
    assert report.interior_joins >= 1


def test_a_dead_end_within_reach_km_joins_the_line_and_cuts_it(source: Path) -> None:
    fc, report = build(source)
    (branch,) = by_project(fc, "T015")  # ends 4.0 km north of the trunk
    joint = ends(branch)[1]
    assert joint == (72.3, 48.0)
    trunk = by_project(fc, "T014")
    assert ends(trunk[0])[1] == joint  # the trunk is cut at the joint
    assert ("dead end within reach_km", "Reaching Oil Pipeline", "Trunk Oil Pipeline") in [
        j[:3] for j in report.joins
    ]
    assert "Reaching Oil Pipeline -> Trunk Oil Pipeline (4.0 km)" in report.text()


def test_a_line_that_crosses_or_ends_beyond_reach_km_is_not_joined(source: Path) -> None:
    fc, report = build(source)
    assert len(by_project(fc, "T014")) == 2  # cut once (T015), not where T016 crosses it
    (crossing,) = by_project(fc, "T016")
    assert ends(crossing) == ((72.6, 47.6), (72.6, 48.4))
    (short,) = by_project(fc, "T017")  # ends 10 km from the trunk: beyond reach_km (7)
    assert ends(short)[1] == (72.85, 48.09)
    assert (short["id"], (72.85, 48.09)) in report.unjoined_ends


def test_an_end_shared_by_parallel_lines_joins_the_line_it_lies_on(source: Path) -> None:
    fc, _ = build(source)
    trunk = by_project(fc, "T018")  # Parallel lines A and C end on it at (61, 48)
    assert [ends(f) for f in trunk] == [((61.0, 47.5), (61.0, 48.0)), ((61.0, 48.0), (61.0, 48.5))]


def write_junction(tmp_path: Path, within_km: float) -> Path:
    sel = tmp_path / "select.toml"
    sel.write_text(
        (DATA / "select.toml").read_text()
        + f"""
[[junction]]
name = "Test hub"
at = "end:T017"
lines = ["T014"]
within_km = {within_km}
source = "test fixture"
why = "the short line's end is the hub; the trunk passes 10 km away"
"""
    )
    return sel


def test_a_declared_junction_joins_its_lines_at_its_point(source: Path, tmp_path: Path) -> None:
    fc, report = build_pipelines(source, select_path=write_junction(tmp_path, 12),
                                 terminals_path=DATA / "terminals.geojson")  # fmt: skip
    hub = (72.85, 48.09)
    (short,) = by_project(fc, "T017")
    assert ends(short)[1] == hub
    trunk_ends = [c for f in by_project(fc, "T014") for c in ends(f)]
    assert trunk_ends.count(hub) == 2  # the trunk bends through the hub and is cut there
    assert report.junctions == [("Test hub", "Trunk Oil Pipeline", pytest.approx(10.0, abs=0.1))]
    assert (short["id"], hub) not in report.unjoined_ends


def test_a_junction_farther_than_within_km_is_one_line(source: Path, tmp_path: Path) -> None:
    with pytest.raises(GeoError, match=r"junction 'Test hub': line 'T014' passes 10\.0 km"):
        build_pipelines(source, select_path=write_junction(tmp_path, 5),
                        terminals_path=DATA / "terminals.geojson")  # fmt: skip
    bad = tmp_path / "bad.toml"
    bad.write_text('[region]\ncountries = ["KAZ"]\n[[junction]]\nname = "x"\nat = "end:T017"\n')
    with pytest.raises(GeoError, match="field 'source'"):
        read_selection(bad)


def test_a_line_end_within_10_km_of_a_terminal_ends_at_the_terminal(source: Path) -> None:
    fc, report = build(source)
    (line,) = by_project(fc, "T005")
    assert ends(line)[1] == (70.0, 50.0)
    assert report.terminal_snaps == {"terminal_test": 1}
    assert (line["id"], (70.0, 50.0)) not in report.unjoined_ends
    assert line["properties"]["capacity_kbd"] == 200.0


def test_parallel_lines_with_different_capacities_stay_distinct(source: Path) -> None:
    fc, report = build(source)
    a, c = by_project(fc, "T003"), by_project(fc, "T004")
    assert len(a) == len(c) == 1
    assert a[0]["geometry"] == c[0]["geometry"]
    assert (a[0]["properties"]["capacity_bcm_y"], c[0]["properties"]["capacity_bcm_y"]) == (15, 25)
    assert a[0]["properties"]["name"] == "Parallel Gas Pipeline (Line A)"
    assert ["Parallel Gas Pipeline (Line A)", "Parallel Gas Pipeline (Line C)"] in [
        sorted(g) for g in report.parallel_groups
    ]


def test_statuses_are_mapped_and_cancelled_hydrogen_and_bare_routes_dropped(source: Path) -> None:
    fc, report = build(source)
    status = {f["id"].split("-")[1]: f["properties"]["status"] for f in fc["features"]}
    assert status["T007"] == "suspended" and status["T010"] == "suspended"
    assert status["T008"] == "under_construction" and status["T009"] == "proposed"
    assert status["T001"] == "operational"
    assert not {"T006", "T011", "T012"} & set(status)
    assert report.dropped["cancelled"] == 1
    assert report.dropped["fuel Hydrogen"] == 1
    assert report.dropped["no name or status in GEM (route id with geometry only)"] == 1
    assert "cancelled: 1" in report.text()


def test_listed_lines_outside_the_region_are_kept_and_the_rest_left_out(source: Path) -> None:
    fc, _ = build(source)
    assert by_project(fc, "T013")[0]["properties"]["country"] == "DEU"
    sel = read_selection(DATA / "select.toml")
    assert sel.countries == ("KAZ",) and set(sel.extra) == {"T013"}


def test_a_line_without_a_wiki_page_cites_gem_and_its_routes(source: Path) -> None:
    fc, _ = build(source)
    (listed,) = by_project(fc, "T010")
    assert listed["properties"]["fuel"] == "oil"
    assert "T010" in listed["properties"]["source"]
    assert listed["properties"]["source"].endswith("GOIT-GGIT-pipeline-routes")
    assert by_project(fc, "T001")[0]["properties"]["source"] == "https://www.gem.wiki/Test_Border"


def test_the_build_is_deterministic_and_its_output_validates(source: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    outs = [tmp_path / "a.geojson", tmp_path / "b.geojson"]
    for out in outs:
        assert main([str(source), "--out", str(out), "--select", str(DATA / "select.toml"),
                     "--terminals", str(DATA / "terminals.geojson")]) == 0  # fmt: skip
    assert outs[0].read_bytes() == outs[1].read_bytes()
    assert "GEM lines dropped" in capsys.readouterr().out
    gdf = load_layer(outs[0])
    assert set(gdf["mode"]) == {"pipeline"}


def test_a_missing_source_or_an_unknown_listed_id_is_one_line(tmp_path: Path, source: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    assert main([str(tmp_path / "nowhere"), "--out", str(tmp_path / "x.geojson")]) == 1
    assert "gem_pipelines.gpkg" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text('[region]\ncountries = ["KAZ"]\n[[line]]\nid = "P9999"\nwhy = "x"\n')
    with pytest.raises(GeoError, match="P9999"):
        build_pipelines(source, select_path=bad, terminals_path=DATA / "terminals.geojson")


# --- the committed layer --------------------------------------------------------------------


@pytest.fixture(scope="module")
def layer() -> gpd.GeoDataFrame:
    return load_layer(LAYER)


def committed(pid: str) -> list[dict[str, Any]]:
    import orjson

    fc = orjson.loads(LAYER.read_bytes())
    return by_project(fc, pid)


def test_the_committed_layer_validates_and_is_small(layer: gpd.GeoDataFrame) -> None:
    assert len(layer) > 300
    assert set(layer["mode"]) == {"pipeline"}
    assert set(layer["fuel"]) == {"oil", "gas"}
    assert LAYER.stat().st_size < 3_000_000
    assert layer["id"].is_unique
    assert load_layer(TERMINALS)["kind"].eq("terminal").all()


def test_capacities_are_positive_where_present(layer: gpd.GeoDataFrame) -> None:
    for col in ("capacity", "capacity_bcm_y", "capacity_kbd"):
        v = layer[col].dropna()
        assert len(v) > 30 and (v > 0).all()
    gas = layer[layer["fuel"] == "gas"]
    assert gas["capacity_kbd"].isna().all()


def test_btc_runs_from_sangachal_through_georgia_to_the_ceyhan_terminal() -> None:
    btc = committed("P0644")
    assert {f["properties"]["country"] for f in btc} == {"AZE", "GEO", "TUR"}
    assert ends(btc[0])[0] == (49.48127, 40.20126)  # the Sangachal terminal node
    assert ends(btc[-1])[1] == (35.93333, 36.88333)  # terminal_ceyhan: World Port Index "Botas"
    km = sum(f["properties"]["length_km"] for f in btc)
    assert 0.9 * 1768 < km < 1768  # GEM: 1,768 km


def test_cpc_lies_in_kazakhstan_and_russia_and_ends_near_novorossiysk() -> None:
    cpc = committed("P0646")
    assert {f["properties"]["country"] for f in cpc} == {"KAZ", "RUS"}
    assert all(f["properties"]["precision"] == "schematic" for f in cpc)
    end = ends(cpc[-1])[1]
    assert dist_km(end, (37.783, 44.733)) < 35  # GEM's schematic end, north of the port
    km = sum(f["properties"]["length_km"] for f in cpc)
    assert 0.85 * 1511 < km < 1511  # CPC: 1,511 km; GEM's 12 vertices cut corners


def test_central_asia_china_lines_a_b_c_are_parallel_features() -> None:
    abc = [committed(pid) for pid in ("P2299", "P2300", "P1124")]
    geoms = [[f["geometry"]["coordinates"] for f in line] for line in abc]
    assert geoms[0] == geoms[1] == geoms[2]
    caps = [line[0]["properties"]["capacity_bcm_y"] for line in abc]
    assert caps == [15, 15, 25]
    assert {f["properties"]["country"] for f in abc[0]} >= {"TKM", "UZB", "KAZ", "CHN"}


def test_every_feature_is_in_one_country_and_lengths_are_geodesic(layer: gpd.GeoDataFrame) -> None:
    assert layer["country"].notna().all()
    assert (layer["length_km"] > 0).all()
    assert not any(math.isnan(v) for v in layer["length_km"])


def oil_component(pid: str, without: tuple[str, ...] = ()) -> set[str]:
    """GEM ids of the oil lines joined (by shared ends) to line ``pid`` in the committed layer."""
    import networkx as nx
    import orjson

    g = nx.Graph()
    for f in orjson.loads(LAYER.read_bytes())["features"]:
        if f["properties"]["fuel"] == "oil" and f["id"].split("-")[1] not in without:
            a, b = ends(f)
            g.add_edge(a, b)
            g.add_edge(a, f["id"].split("-")[1])
    start = ends(committed(pid)[0])[0]
    return {n for n in nx.node_connected_component(g, start) if isinstance(n, str)}


def test_kazakh_oil_lines_form_one_network_from_tengiz_to_alashankou() -> None:
    # Atasu-Alashankou meets Pavlodar-Shymkent at Atasu, which meets Kumkol-Karakoin at Karakoin,
    # Kenkiyak-Kumkol at Kumkol, Kenkiyak-Atyrau at Kenkiyak, and the Atyrau junction joins UAS,
    # Karachaganak-Atyrau and CPC.
    net = oil_component("P0648")
    assert {"P5138", "P5201", "P5197", "P5198", "P0649", "P5202", "P0646"} <= net
    assert {"P5193", "P5194"} <= net  # the Aktau lines, through UAS
    # BTC is reached across the Caspian by tanker, and through the one point of Novorossiysk's
    # two crude terminals (neither located: CPC and Baku-Novorossiysk both end at the port's
    # point, layers/README.md), but by no other line
    assert "P0645" in net  # Baku-Novorossiysk, at that shared point
    assert "P0644" not in oil_component("P0648", without=("P0645",))


def test_cpc_and_the_ca_china_gas_lines_end_on_their_declared_terminals() -> None:
    novorossiysk, horgos = (37.783, 44.733), (80.40972, 44.2125)
    assert ends(committed("P0646")[-1])[1] == novorossiysk
    for pid in ("P2299", "P2300", "P1124"):
        assert horgos in {c for f in committed(pid) for c in ends(f)}, pid


def test_aktau_lines_end_at_the_aktau_oil_terminal_and_gas_lines_do_not() -> None:
    aktau = (51.15, 43.65)
    for pid in ("P5193", "P5194"):
        assert aktau in {c for f in committed(pid) for c in ends(f)}
    assert aktau not in {c for f in committed("P3948") for c in ends(f)}  # Zhanaozen-Aktau gas


def test_cpc_meets_the_atyrau_lines_at_the_declared_junction() -> None:
    atyrau = ends(committed("P5198")[0])[0]  # where GEM draws Kenkiyak-Atyrau's Atyrau end
    for pid in ("P0646", "P0649", "P5202"):
        assert atyrau in {c for f in committed(pid) for c in ends(f)}, pid
