"""Capitals and regional centres: the Natural Earth build on tiny fixtures, and the committed
``layers/places.geojson`` held to the layer standards and to ``layers/nodes.geojson``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pyproj import Geod

from geo.data.countries import check_point
from geo.data.layers import load_layer
from geo.data.places import NE_FILE, SOURCE, build_places, main, name_key, write_places
from geo.errors import ValidationError

DATA = Path(__file__).parent / "data" / "places"
LAYERS = Path(__file__).parents[1] / "layers"
GEOD = Geod(ellps="WGS84")
HOSTILE = "<script>alert(1)</script>{{ config }}\u202e\x1b[2J"


@pytest.fixture(scope="module")
def nodes():
    return load_layer(DATA / "nodes.geojson", kind="node")


@pytest.fixture(scope="module")
def built(nodes):
    return build_places(DATA / "ne_places.geojson", nodes)


def by_id(features: list[dict]) -> dict[str, dict]:
    return {f["properties"]["id"]: f for f in features}


def test_keeps_capitals_and_large_cities_of_corridor_countries_only(built) -> None:
    features, _ = built
    assert sorted(by_id(features)) == [
        "city_chn_88p12_47p87",  # a name with no Latin letter: the id is its position
        "city_dushanbe_tjk",  # a node already holds "city_dushanbe"
        "city_evil_town",
        "city_olgiy_kaz",  # two places share the name: each gets its country
        "city_olgiy_mng",
        "city_qaraghandy",  # a "Populated place" over the population threshold
    ]
    # Left out: a small town, a country off the corridors (Paris), Russia east of 117.7 E
    # (Vladivostok), a scientific station, and Tashkent (a node already).
    names = {f["properties"]["name"] for f in features}
    assert not names & {"Smalltown", "Paris", "Vladivostok", "Station", "Tashkent"}


def test_place_properties(built) -> None:
    f = by_id(built[0])["city_qaraghandy"]
    assert f["properties"] == {
        "id": "city_qaraghandy", "name": "Qaraghandy", "kind": "city", "country": "KAZ",
        "gauge_change": False, "aliases": ["Karaganda", "Qaragandy"], "role": "city",
        "population": 451800, "source": SOURCE,
    }  # fmt: skip
    assert f["geometry"] == {"type": "Point", "coordinates": [73.11501, 49.88498]}
    assert by_id(built[0])["city_dushanbe_tjk"]["properties"]["role"] == "national capital"


def test_a_city_that_is_already_a_node_is_left_out(built) -> None:
    _, left_out = built
    assert left_out == ["Tashkent (UZB): node 'tashkent'"]


def test_a_node_of_the_same_name_far_away_is_another_place(nodes, tmp_path: Path) -> None:
    doc = json.loads((DATA / "ne_places.geojson").read_text(encoding="utf-8"))
    for f in doc["features"]:
        if f["properties"]["name"] == "Tashkent":
            f["geometry"]["coordinates"] = [69.7, 41.3]  # 36 km east of the node
    src = tmp_path / "ne.geojson"
    src.write_text(json.dumps(doc), encoding="utf-8")
    features, left_out = build_places(src, nodes)
    assert left_out == []
    assert "city_tashkent" in by_id(features)


def test_hostile_name_is_kept_as_text_and_the_id_is_plain(built, tmp_path: Path) -> None:
    f = by_id(built[0])["city_evil_town"]
    assert f["properties"]["name"] == HOSTILE
    assert f["properties"]["aliases"] == ["Evil Town", "Evil", "<b>Town</b>"]
    assert f["properties"]["population"] is None  # "lots" is no number
    out = write_places(built[0], tmp_path / "places.geojson")
    gdf = load_layer(out, kind="node")
    assert HOSTILE in set(gdf["name"])
    assert all(i.isascii() and i.replace("_", "").isalnum() for i in gdf["id"])


def test_build_is_deterministic_whatever_the_input_order(nodes, tmp_path: Path) -> None:
    doc = json.loads((DATA / "ne_places.geojson").read_text(encoding="utf-8"))
    doc["features"].reverse()
    shuffled = tmp_path / "reversed.geojson"
    shuffled.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    a = write_places(build_places(DATA / "ne_places.geojson", nodes)[0], tmp_path / "a.geojson")
    b = write_places(build_places(DATA / "ne_places.geojson", nodes)[0], tmp_path / "b.geojson")
    c = write_places(build_places(shuffled, nodes)[0], tmp_path / "c.geojson")
    assert a.read_bytes() == b.read_bytes() == c.read_bytes()


def test_places_outside_their_country_are_one_line_each(nodes) -> None:
    with pytest.raises(ValidationError) as e:
        build_places(DATA / "bad_country.geojson", nodes)
    lines = e.value.lines()
    assert len(lines) == 2
    assert "bad_country.geojson: feature Dushanbe (#0): geometry:" in lines[0]
    assert "swapped" in lines[0]
    assert "feature Nowhere (#1): geometry:" in lines[1]
    assert "from its declared country KAZ" in lines[1]


def test_broken_unicode_is_refused(nodes) -> None:
    with pytest.raises(ValidationError, match="lone surrogate"):
        build_places(DATA / "bad_surrogate.geojson", nodes)


def test_main_writes_the_layer_and_leaves_its_inputs(tmp_path: Path, capsys) -> None:
    ne = tmp_path / "ne"
    ne.mkdir()
    shutil.copy(DATA / "ne_places.geojson", ne / NE_FILE)
    before = (ne / NE_FILE).read_bytes(), (DATA / "nodes.geojson").read_bytes()
    out = tmp_path / "places.geojson"
    code = main([str(ne), "--nodes", str(DATA / "nodes.geojson"), "--out", str(out)])
    assert code == 0
    assert len(load_layer(out, kind="node")) == 6
    assert capsys.readouterr().out.splitlines()[-1] == "places.geojson: 6 places"
    assert ((ne / NE_FILE).read_bytes(), (DATA / "nodes.geojson").read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ne", "places.geojson"]


def test_main_without_natural_earth_is_one_line(tmp_path: Path, capsys) -> None:
    out = tmp_path / "places.geojson"
    code = main([str(tmp_path), "--nodes", str(DATA / "nodes.geojson"), "--out", str(out)])
    err = capsys.readouterr().err.splitlines()
    assert code == 2
    assert len(err) == 1 and NE_FILE in err[0]
    assert not out.exists()


def test_bad_input_leaves_an_existing_layer_alone(tmp_path: Path, capsys) -> None:
    shutil.copy(DATA / "bad_country.geojson", tmp_path / NE_FILE)
    out = tmp_path / "places.geojson"
    out.write_text("old", encoding="utf-8")
    code = main([str(tmp_path), "--nodes", str(DATA / "nodes.geojson"), "--out", str(out)])
    assert code == 1
    assert len(capsys.readouterr().err.splitlines()) == 2
    assert out.read_text(encoding="utf-8") == "old"


# --- the committed layer ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def places() -> list[dict]:
    return json.loads((LAYERS / "places.geojson").read_text(encoding="utf-8"))["features"]


@pytest.fixture(scope="module")
def bundled_nodes() -> list[dict]:
    return json.loads((LAYERS / "nodes.geojson").read_text(encoding="utf-8"))["features"]


def test_committed_places_validate_as_cities_from_natural_earth() -> None:
    gdf = load_layer(LAYERS / "places.geojson")
    assert gdf.attrs["kind"] == "node"
    assert set(gdf["kind"]) == {"city"}
    assert set(gdf["source"]) == {SOURCE}
    assert not gdf["gauge_change"].any()
    assert gdf["id"].str.match(r"^city_[a-z0-9_]+$").all()


def test_committed_places_have_no_id_of_a_node(places, bundled_nodes) -> None:
    ids = [f["properties"]["id"] for f in places]
    assert len(ids) == len(set(ids))
    assert not set(ids) & {f["properties"]["id"] for f in bundled_nodes}


def test_committed_places_lie_in_their_country(places) -> None:
    for f in places:
        x, y = f["geometry"]["coordinates"]
        assert check_point(x, y, f["properties"]["country"]) is None, f["properties"]["id"]


def test_no_committed_place_is_a_node_twice(places, bundled_nodes) -> None:
    keys = {}
    for n in bundled_nodes:
        p = n["properties"]
        for name in [p["name"], p["name"].split(" (")[0], *(p.get("aliases") or [])]:
            keys.setdefault(name_key(name), []).append(n["geometry"]["coordinates"])
    for f in places:
        p = f["properties"]
        x, y = f["geometry"]["coordinates"]
        for name in [p["name"], *p["aliases"]]:
            for nx, ny in keys.get(name_key(name), []):
                km = GEOD.inv(x, y, nx, ny)[2] / 1000
                assert km >= 25, (p["id"], name, round(km))


def test_committed_places_cover_the_capitals_users_name(places, bundled_nodes) -> None:
    names = set()
    for f in [*places, *bundled_nodes]:
        p = f["properties"]
        names |= {name_key(n) for n in [p["name"], *(p.get("aliases") or [])]}
    asked = ["Dushanbe", "Samarkand", "Kabul", "Bukhara", "Nukus", "Termez", "Osh", "Karaganda",
             "Aktobe", "Oral", "Atyrau", "Kostanay", "Pavlodar", "Semey", "Ust-Kamenogorsk",
             "Kyzylorda", "Turkistan", "Shymkent", "Taraz", "Mary", "Turkmenabat", "Dashoguz",
             "Ganja", "Yerevan", "Gyumri", "Tbilisi"]  # fmt: skip
    assert [a for a in asked if name_key(a) not in names] == []


def test_rail_border_crossings_of_the_region_are_nodes(bundled_nodes) -> None:
    kinds = {f["properties"]["id"]: f["properties"]["kind"] for f in bundled_nodes}
    # Both sides where both were located; one side where the other could not be sourced.
    wanted = ["iletsk_1", "zhaisan", "shyngyrlau", "ozinki", "aksaraiskaya_2", "lokot",
              "shemonaikha", "kulunda", "sharbakty", "mamlyutka", "petukhovo", "bulayevo",
              "isilkul", "tobol", "magynai", "saryagash", "keles", "oazis", "karakalpakstan",
              "kaindy", "khanabad", "kyzyl_kiya", "shamaldy_say", "bekabad", "kudukli",
              "amuzang", "khoshadi", "galaba", "hairatan", "farap", "khodjadavlet", "serhetabat",
              "ymamnazar", "aqina", "sadakhlo", "ayrum", "gardabani", "beyuk_kesik", "yalama",
              "samur", "frankfurt_oder"]  # fmt: skip
    assert {i: kinds.get(i) for i in wanted} == dict.fromkeys(wanted, "border_crossing")


def test_a_hostile_name_in_an_error_reaches_the_terminal_escaped(tmp_path: Path, capsys) -> None:
    bad = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {
        "featurecla": "Admin-1 capital", "name": HOSTILE, "nameascii": "Evil", "adm0_a3": "KAZ",
        "pop_max": 1}, "geometry": {"type": "Point", "coordinates": [2.33, 48.86]}}]}  # fmt: skip
    (tmp_path / NE_FILE).write_text(json.dumps(bad), encoding="utf-8")
    out = tmp_path / "places.geojson"
    code = main([str(tmp_path), "--nodes", str(DATA / "nodes.geojson"), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1
    assert "\x1b" not in err and "\u202e" not in err
    assert "\\x1b[2J" in err and "from its declared country KAZ" in err
