"""The bundled data held to its standards: every layer file validates, lines stay on land or
water, points lie in their country, segments meet their nodes, sea legs are searoute's."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import shapely
from pyproj import Geod

from geo.analysis.network import load_network
from geo.analysis.stats import reference_specs, transit_parameters
from geo.data.countries import SEA
from geo.data.layers import load_layer
from geo.data.sea import generate_legs

LAYERS = Path(__file__).parents[1] / "layers"
GEOD = Geod(ellps="WGS84")
GEOJSON = sorted(LAYERS.glob("*.geojson"))
# Natural Earth 1:50m coastlines are generalised: a coastal line may leave them by a few km.
RAIL_ON_WATER_MAX_KM = 8.0  # the Marmaray tunnel under the Bosporus is 1.4 km of this
SEA_ON_LAND_MAX_KM = 25.0  # ports sit on land (Olya up the Volga delta); searoute joins them
# Canals are water that the country polygons cover: Suez 193.3 km (Suez Canal Authority,
# https://www.suezcanal.gov.eg/English/About/SuezCanal/Pages/CanalCharacteristics.aspx),
# Panama 82 km (https://pancanal.com/en/maritime-services/). A ship through the Bosporus
# (about 30 km) to the Mediterranean also passes the Dardanelles (61 km; G. Arnold,
# https://www.taylorfrancis.com/chapters/mono/10.4324/9781315062204-16/dardanelles-black-sea-guy-arnold),
# straits that 1:50m land polygons partly cover: 91 km in all.
CANAL_KM = {"suez": 193.3, "panama": 82.0, "bosporus": 91.0}


def features(name: str) -> list[dict]:
    return json.loads((LAYERS / name).read_text(encoding="utf-8"))["features"]


@pytest.mark.parametrize("path", GEOJSON, ids=[p.name for p in GEOJSON])
def test_every_layer_file_validates(path: Path) -> None:
    gdf = load_layer(path)  # raises with every problem, countries checked for points
    assert len(gdf) > 0
    assert gdf["source"].notna().all()


def test_expected_layers_and_sizes() -> None:
    names = {p.stem for p in GEOJSON}
    assert {"countries", "nodes", "trans_caspian", "bri_alternatives", "deposits"} <= names
    assert len(features("deposits.geojson")) >= 80
    assert len(features("countries.geojson")) == 241


@pytest.mark.parametrize("name", ["routes.toml", "transit.toml", "sea_legs.toml"])
def test_toml_files_parse(name: str) -> None:
    data = tomllib.loads((LAYERS / name).read_text(encoding="utf-8"))
    assert data


def test_transit_parameters_all_sourced() -> None:
    tp = transit_parameters()
    assert {"rail_1520_km_per_day", "rail_1435_km_per_day", "ferry_km_per_day", "ship_knots",
            "border_hours", "gauge_change_hours", "ferry_wait_days"} <= set(tp.values)  # fmt: skip
    for key, (fast, slow) in tp.values.items():
        assert tp.sources[key].startswith("http"), key
        assert fast > 0 and slow > 0


def test_segments_meet_their_nodes_exactly() -> None:
    nodes = {f["properties"]["id"]: f["geometry"]["coordinates"] for f in features("nodes.geojson")}
    for name in ("trans_caspian.geojson", "bri_alternatives.geojson"):
        for f in features(name):
            p, coords = f["properties"], f["geometry"]["coordinates"]
            assert p["from"] in nodes and p["to"] in nodes, p["id"]
            assert coords[0] == nodes[p["from"]], (p["id"], "from")
            assert coords[-1] == nodes[p["to"]], (p["id"], "to")


def test_bundled_network_has_no_dangling_segment() -> None:
    net = load_network()
    assert net.dangling == []
    assert net.snapped == []


def test_rail_and_road_on_land_ferry_and_sea_on_water() -> None:
    segs = load_network().segments
    for r in segs.itertuples():
        sea = r.km_by_country.get(SEA, 0.0)
        if r.mode in ("rail", "road"):
            assert sea <= RAIL_ON_WATER_MAX_KM, f"{r.id}: {sea:.1f} km of a {r.mode} line on water"
        elif r.mode == "sea" or (r.mode == "ferry" and r.corridor != "Southern"):
            land = (
                r.length_km
                - sea
                - sum(
                    CANAL_KM.get(p, 0.0)
                    for p in (r.passages if isinstance(r.passages, list) else [])
                )
            )
            assert land <= SEA_ON_LAND_MAX_KM, f"{r.id}: {land:.1f} km of a {r.mode} leg on land"


# Rail lines with a stretch of more than SPARSE_KM between vertices: no station on it could be
# located yet (layers/README.md, "Where the data falls short"). New lines must not join the
# list; a line that gets its stations must leave it.
SPARSE_KM = 100.0
SPARSE_KNOWN = {
    "aktogay-zhetygen", "altynkol-zhetygen", "bafq__bandar_abbas_port", "harbin__manzhouli",
    "kashgar-torugart", "shalkar-beyneu", "torugart-jalal_abad",
}  # fmt: skip


def test_rail_lines_have_stations_at_most_sparse_km_apart() -> None:
    sparse = set()
    for name in ("trans_caspian.geojson", "bri_alternatives.geojson"):
        for f in features(name):
            if f["properties"]["mode"] != "rail":
                continue
            c = f["geometry"]["coordinates"]
            gaps = [GEOD.inv(*c[i], *c[i + 1])[2] / 1000 for i in range(len(c) - 1)]
            if max(gaps) > SPARSE_KM:
                sparse.add(f["properties"]["id"])
    assert sparse <= SPARSE_KNOWN, f"new sparse lines: {sorted(sparse - SPARSE_KNOWN)}"
    assert sparse >= SPARSE_KNOWN, f"no longer sparse, remove: {sorted(SPARSE_KNOWN - sparse)}"


def test_every_feature_has_a_source_and_honest_precision() -> None:
    for name in ("trans_caspian.geojson", "bri_alternatives.geojson"):
        for f in features(name):
            p = f["properties"]
            assert p["source"], p["id"]
            km = GEOD.geometry_length(shapely.geometry.shape(f["geometry"])) / 1000
            if p["precision"] == "traced" and km > 50:
                assert p.get("via"), f"{p['id']}: a traced line of {km:.0f} km names its stations"
            if p["precision"] == "straight":
                assert len(f["geometry"]["coordinates"]) == 2 or p["mode"] in ("sea", "ferry"), p[
                    "id"
                ]


def test_sources_cite_publications_not_files_on_a_maintainers_machine() -> None:
    # A citation a reader cannot follow: a path on the machine where the data was curated
    # (a URL's own path, such as .../en_az/azerbaijan/home/..., is fine).
    local = re.compile(r"(?:^|[\s\"'(;=])(?:/tmp/|/work/|/home/|/Users/|[A-Z]:\\\\|file:)")
    for path in sorted(LAYERS.iterdir()):
        if path.suffix in (".geojson", ".toml", ".md", ".csv"):
            hit = local.search(path.read_text(encoding="utf-8"))
            assert hit is None, f"{path.name}: cites a local file: {hit and hit.group(0)}"
    assert local.search("notes: read /tmp/gn/cities1000.csv")


def test_sea_legs_are_exactly_what_searoute_gives() -> None:
    nodes = {
        f["properties"]["id"]: tuple(f["geometry"]["coordinates"])
        for name in ("nodes.geojson", "terminals.geojson")  # tanker legs start at terminals
        for f in features(name)
    }
    generated = generate_legs((LAYERS / "sea_legs.toml").read_text(encoding="utf-8"), nodes)
    for layer, feats in generated.items():
        stored = {f["properties"]["id"]: f for f in features(f"{layer}.geojson")}
        for f in feats:
            s = stored[f["properties"]["id"]]
            assert s["geometry"] == f["geometry"], f["properties"]["id"]
            assert s["properties"]["passages"] == f["properties"]["passages"]


def test_no_sea_leg_takes_the_corinth_canal() -> None:
    # searoute's MARNET has the 21 m wide canal; container ships and tankers go round Cape
    # Matapan (`through` in sea_legs.toml). The box is the isthmus, land on both sides.
    isthmus = shapely.box(22.85, 37.85, 23.05, 38.0)
    crossing = [
        f["properties"]["id"]
        for name in ("bri_alternatives.geojson", "tankers.geojson", "trans_caspian.geojson")
        for f in features(name)
        if f["properties"]["mode"] in ("sea", "ferry")
        and shapely.geometry.shape(f["geometry"]).intersects(isthmus)
    ]
    assert crossing == []
    # and the legs that pass between Gibraltar and the Aegean exist, so the check bites
    ids = {f["properties"]["id"] for f in features("bri_alternatives.geojson")}
    assert {"shanghai_port__poti_port__cape", "poti_port__yokohama_port__cape"} <= ids


def test_reference_routes_all_compute_and_are_named_honestly() -> None:
    from geo.analysis.stats import reference_routes

    specs = reference_specs()
    ids = [s.id for s in specs]
    assert any("titr" in s.id for s in specs) and any("northern" in s.id for s in specs)
    frame = reference_routes()
    assert list(frame["id"]) == ids
    assert (frame["length_km"] > 0).all()
    by_id = frame.set_index("id")
    for rid in ids:
        if "titr" in rid:
            assert not by_id.loc[rid, "transits_russia"], rid
    assert by_id.loc["northern_corridor", "transits_russia"]
    assert "suez" in by_id.loc["sea_suez", "chokepoints"]
    assert (
        "cape" in by_id.loc["sea_cape", "chokepoints"]
        and "suez" not in by_id.loc["sea_cape", "chokepoints"]
    )


def test_line_vertices_are_rounded() -> None:
    for name in ("trans_caspian.geojson", "bri_alternatives.geojson", "nodes.geojson"):
        for f in features(name):
            xy = shapely.get_coordinates(shapely.geometry.shape(f["geometry"]))
            assert (abs(xy * 1e5 - (xy * 1e5).round()) < 1e-6).all(), f["properties"]["id"]


def test_layers_readme_shows_the_schema_declared_in_code() -> None:
    from geo.data.schema import KINDS, describe

    readme = (LAYERS / "README.md").read_text(encoding="utf-8")
    for kind in KINDS:
        assert describe(kind) in readme, f"layers/README.md: schema of '{kind}' is stale"


def test_kyrgyz_northern_line_takes_kumtor_to_the_turksib() -> None:
    # Kumtor's railhead is Balykchy; the line runs through Bishkek to the Turksib at Lugovaya.
    from typer.testing import CliRunner

    from geo.cli import app

    r = CliRunner().invoke(app, ["route", "kumtor", "almaty", "--format", "json"])
    assert r.exit_code == 0, r.stderr
    s = json.loads(r.stdout)
    # through the Kaindy border station to the Turksib at Lugovaya (traced track since #15)
    assert s["path"][:4] == ["Kumtor", "Balykchy", "Bishkek", "Kaindy"]
    assert any("Lugovaya" in place for place in s["path"])
    # the mine road: 179 km straight, times the road detour factor (transit.toml)
    assert s["legs"][0]["corridor"] == "access" and s["access"]["straight_km"] < 200
    assert s["access"]["km"] == pytest.approx(s["access"]["straight_km"] * 1.26, abs=0.2)
    assert s["countries"] == ["KGZ", "KAZ"] and not s["transits_russia"]
