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


def test_btc_runs_from_sangachal_through_georgia_to_the_coast_at_ceyhan() -> None:
    btc = committed("P0644")
    assert {f["properties"]["country"] for f in btc} == {"AZE", "GEO", "TUR"}
    assert ends(btc[0])[0] == (49.48127, 40.20126)  # the Sangachal terminal node
    # No sourced position of the Ceyhan marine terminal: GEM's end, on the Gulf of Iskenderun,
    # lies 19 km south of Ceyhan town (Wikipedia: 37.033 N, 35.817 E).
    assert dist_km(ends(btc[-1])[1], (35.817, 37.033)) < 25
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
