"""Any seaport by name, sea legs generated on demand, and routes to and from seaports.

searoute runs offline; each of its calls costs 25-300 ms, so every test makes few (the Caspian
pair Aktau - Baku is the cheapest) and the process cache is cleared where a test counts calls.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from geo.analysis.network import load_network
from geo.analysis.ports import PortIndex, build_port_index, find_port, find_route_with_ports
from geo.analysis.routing import find_route, make_constraints
from geo.analysis.stats import route_stats
from geo.cli import app
from geo.data import ports as data_ports
from geo.data.bundled import bundled_dir
from geo.data.countries import SEA, codes
from geo.data.ports import (
    COLUMNS,
    HARBOUR_SIZES,
    Port,
    build_world_ports,
    cache_key,
    cache_path,
    port_leg,
)
from geo.data.schema import PASSAGES
from geo.errors import GeoError, RouteError

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _fresh_legs() -> None:
    data_ports.clear_memory_cache()


def one_line(e: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(e.value)
    assert "\n" not in text and "\x1b" not in text
    return text


# --- the index file -------------------------------------------------------------------------


def test_build_step_keeps_only_what_lookup_needs_and_escapes_hostile_names() -> None:
    text = build_world_ports(DATA / "wpi_tiny.csv")
    assert text == build_world_ports(DATA / "wpi_tiny.csv")  # deterministic
    rows = list(csv.DictReader(text.splitlines()))
    assert tuple(rows[0]) == COLUMNS
    by_name = {r["name"]: r for r in rows}
    # no position, or a position that is not a number: left out
    assert set(by_name) == {"Piraievs", "Chah Bahar", "Offshore Buoy", "Evil\\x1b[2J\\nPort"}
    pir = by_name["Piraievs"]
    assert (pir["locode"], pir["country"], pir["harbour_size"]) == ("GRPIR", "GRC", "large")
    assert (pir["lon"], pir["lat"], pir["alternate_names"]) == ("23.65", "37.93333",
                                                                 "Athens;Dhrapetsdna")  # fmt: skip
    evil = by_name["Evil\\x1b[2J\\nPort"]
    assert evil["locode"] == "" and evil["harbour_size"] == ""  # "XX1", "Huge" are not values
    assert "\x1b" not in text and evil["country"] in codes()
    assert by_name["Offshore Buoy"]["country"] == "GRC"  # at sea, no LOCODE: nearest country


def test_build_step_refuses_a_file_without_the_columns_it_needs(tmp_path: Path) -> None:
    bad = tmp_path / "ports.csv"
    bad.write_text("name,lat,lon\nA,1,2\n", encoding="utf-8")
    with pytest.raises(GeoError, match="no column 'Main Port Name'") as e:
        build_world_ports(bad)
    one_line(e)


def test_committed_index_is_compact_and_valid() -> None:
    path = bundled_dir("layers") / "world_ports.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) > 3500
    assert tuple(rows[0]) == COLUMNS
    known = codes()
    for r in rows:
        assert r["country"] in known, r
        assert -180 <= float(r["lon"]) <= 180 and -90 <= float(r["lat"]) <= 90, r
        assert r["locode"] == "" or (len(r["locode"]) == 5 and r["locode"].isalnum()), r
        assert r["harbour_size"] in HARBOUR_SIZES, r
    keys = [(r["country"], r["name"], r["locode"]) for r in rows]
    assert keys == sorted(keys)


# --- lookup ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spelling", "locode"),
    [("Piraeus", "GRPIR"), ("Piraievs", "GRPIR"), ("PIRAÉUS", "GRPIR"), ("GR PIR", "GRPIR"),
     ("grpir", "GRPIR"), ("Chah Bahar", "IRZBR"), ("chabahar", "IRZBR"), ("Tokyo Ko", "JPTYO"),
     ("Tokyo", "JPTYO"), ("Gdańsk", "PLGDN"), ("Danzig", "PLGDN"), ("Mersin", "TRMER")],
)  # fmt: skip
def test_any_spelling_finds_the_port(spelling: str, locode: str) -> None:
    p = find_port(spelling)
    assert p.locode == locode
    assert len(p.country) == 3 and p.country in codes()


def test_curated_nodes_are_authoritative() -> None:
    ba = find_port("Bandar Abbas")
    assert ba.node_id == "bandar_abbas_port" and ba.locode == "IRBND"  # joined by name+distance
    assert (ba.lon, ba.lat) == (56.06, 27.11)  # the node's own position
    assert find_port("Bandar-e Shahid Bahonar") == ba  # a World Port Index alternate name
    # the ferries left the old port of Baku for Alat: the node's alias wins over AZBAK
    assert find_port("Baku").node_id == "alat_port"
    assert find_port("AZBAK").name == "Baku"
    assert find_port("Kuryk").approach == (51.0, 42.4)  # from layers/sea_legs.toml


def test_ambiguous_name_lists_the_ports_like_routing() -> None:
    with pytest.raises(
        RouteError, match=r"'Portland' is ambiguous: .*\(AUPTJ, AUS\).*UN/LOCODE"
    ) as e:
        find_port("Portland")
    assert one_line(e).count("Portland") >= 3


@pytest.mark.parametrize("name", ["\x1b[2J\u202eevil\nport<script>", "Atlantis-on-Sea"])
def test_unknown_and_hostile_names_end_in_one_clean_line(name: str) -> None:
    with pytest.raises(RouteError, match="unknown port") as e:
        find_port(name)
    assert "\u202e" not in one_line(e)


def test_a_name_without_letters_is_refused() -> None:
    with pytest.raises(RouteError, match="not a port name") as e:
        find_port(" - ")
    one_line(e)


def test_index_from_hand_made_records() -> None:
    sr = [Port("Piraeus", ("Piraeus",), "GRPIR", "GRC", 23.638, 37.950)]
    wpi = [Port("Piraievs", ("Piraievs", "Athens"), "GRPIR", "GRC", 23.65, 37.933, "large"),
           Port("Piraeus", ("Piraeus",), "", "GRC", 23.6, 37.9),  # same name, 6 km: joined
           Port("Portland", ("Portland",), "USPDX", "USA", -122.7, 45.6),
           Port("Portland", ("Portland",), "AUPTJ", "AUS", 141.6, -38.3)]  # fmt: skip
    node = Port("Port of Piraeus (PCT)", ("Port of Piraeus (PCT)",), "", "GRC", 23.6, 37.94,
                node_id="piraeus_port")  # fmt: skip
    idx = build_port_index([node], wpi, sr)
    assert isinstance(idx, PortIndex)
    hits = idx.match("piraievs")
    assert [h.node_id for h in hits] == ["piraeus_port"]
    assert hits[0].locode == "GRPIR" and hits[0].harbour_size == "large"
    assert len(idx.match("Portland")) == 2
    assert idx.match("AUPTJ")[0].country == "AUS"


# --- sea legs -------------------------------------------------------------------------------


def test_caspian_leg_measures_like_the_published_ferry() -> None:
    leg = port_leg(find_port("Port of Aktau"), find_port("AZBAK"))
    assert 470 * 0.9 < leg.length_km < 470 * 1.1  # Aktau - Baku (old port): 470 km published
    assert leg.passages == () and leg.restrictions == ("northwest",)
    assert leg.line.coords[0] == (51.15, 43.65)  # exactly at the curated node
    assert leg.km_by_country.get(SEA, 0) > 400


def test_caspian_ports_only_reach_caspian_ports() -> None:
    # searoute itself would sail up the Volga and through the Volga-Don canal
    with pytest.raises(RouteError, match="no sea path .*Caspian Sea") as e:
        port_leg(find_port("Tokyo"), find_port("Aktau"))
    one_line(e)


def test_blocked_passages_are_no_path_not_a_straight_line() -> None:
    with pytest.raises(RouteError, match="no sea path") as e:
        port_leg(find_port("Constanta"), find_port("Piraeus"), avoid=["bosporus"])
    one_line(e)


def test_a_lake_port_is_refused_rather_than_joined_across_land() -> None:
    with pytest.raises(RouteError, match="km of land") as e:
        port_leg(find_port("Tatvan"), find_port("Piraeus"))
    one_line(e)


def test_legs_are_cached_in_memory_and_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = find_port("Aktau"), find_port("AZBAK")
    first = port_leg(a, b, cache_dir=tmp_path)
    assert port_leg(a, b, cache_dir=tmp_path) is first  # the process's own cache
    files = list(tmp_path.glob("*.json"))
    assert len(files) == 1
    doc = json.loads(files[0].read_text(encoding="utf-8"))
    assert doc["key"]["restrictions"] == ["northwest"] and doc["key"]["searoute"]

    def no_searoute(*args: object, **kwargs: object) -> None:
        raise AssertionError("searoute called although the leg is cached")

    monkeypatch.setattr(data_ports, "sea_leg", no_searoute)
    data_ports.clear_memory_cache()
    again = port_leg(a, b, cache_dir=tmp_path)
    assert again.length_km == first.length_km and again.line.equals(first.line)
    assert again.passages == first.passages and again.countries_km == first.countries_km


@pytest.mark.parametrize("junk", ['{"key": 1', "[]", '{"key": null}', "\x00\xff"])
def test_a_corrupt_cache_entry_is_ignored_and_rewritten(tmp_path: Path, junk: str) -> None:
    a, b = find_port("Aktau"), find_port("AZBAK")
    path = cache_path(tmp_path, cache_key(a, b, ("northwest",)))
    path.write_text(junk, encoding="utf-8", errors="surrogateescape")
    leg = port_leg(a, b, cache_dir=tmp_path)
    assert 400 < leg.length_km < 550
    assert json.loads(path.read_text(encoding="utf-8"))["length_km"] == leg.length_km


def test_cache_key_names_both_ports_the_restrictions_and_searoute(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = find_port("Aktau"), find_port("AZBAK")
    base = cache_path(Path(), cache_key(a, b, ("northwest",)))
    assert cache_path(Path(), cache_key(b, a, ("northwest",))) != base
    assert cache_path(Path(), cache_key(a, b, ("northwest", "suez"))) != base
    monkeypatch.setattr(data_ports, "searoute_version", lambda: "0.0.0")
    assert cache_path(Path(), cache_key(a, b, ("northwest",))) != base


# --- routes ---------------------------------------------------------------------------------


def test_port_to_port_is_one_sea_leg_the_statistics_accept() -> None:
    net = load_network()
    by_sea = make_constraints(modes=["sea"])
    r = find_route_with_ports(net, "Shanghai", "Piraeus", constraints=by_sea)
    assert [leg.mode for leg in r.legs] == ["sea"]
    leg = r.legs[0]
    assert leg.precision == "schematic" and leg.from_id == "shanghai_port"
    assert {"suez", "malacca"} <= set(leg.passages) <= set(PASSAGES)
    s = route_stats(r, network=net)
    assert 13_000 < s["length_km"] < 16_000
    assert s["sea_km"] > 0.95 * s["length_km"] and "suez" in s["chokepoints"]
    assert s["precision_share"]["schematic"] == 1.0
    around = find_route_with_ports(net, "Shanghai", "Piraeus",
                                   constraints=make_constraints(["suez"], ["sea"]))  # fmt: skip
    assert "suez" not in around.legs[0].passages and "cape" in around.legs[0].passages
    assert around.legs[0].length_km > leg.length_km + 3000


def test_port_to_network_place_takes_the_best_network_port() -> None:
    net = load_network()
    r = find_route_with_ports(net, "Piraeus", "Almaty")
    assert r.legs[0].mode == "sea" and r.legs[0].to_id in net.graph
    assert net.graph.nodes[r.legs[0].to_id]["kind"] == "port"
    assert all(leg.mode != "sea" or leg is r.legs[0] for leg in r.legs)
    assert r.legs[-1].to_name.startswith("Almaty")
    s = route_stats(r, network=net)
    assert "KAZ" in s["countries"] and s["length_km_by_mode"]["sea"] > 0


def test_mode_and_country_constraints_reach_the_sea_legs() -> None:
    net = load_network()
    with pytest.raises(RouteError, match="needs mode sea") as e:
        find_route_with_ports(net, "Gwadar", "Almaty", constraints=make_constraints(modes="rail"))
    one_line(e)
    with pytest.raises(RouteError, match="lies in PAK"):
        find_route_with_ports(net, "Gwadar", "Karachi", constraints=make_constraints("PAK"))


def test_network_places_route_exactly_as_before() -> None:
    net = load_network()
    ours = find_route_with_ports(net, "Almaty", "Poti")
    theirs = find_route(net, "Almaty", "Poti")
    assert [leg.segment_id for leg in ours.legs] == [leg.segment_id for leg in theirs.legs]


def cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, list(args))
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in r.stdout + r.stderr
    return r.exit_code, r.stdout, r.stderr


def test_cli_routes_between_ports_and_says_no_sea_path_into_the_caspian() -> None:
    code, out, err = cli("route", "Bandar Abbas", "Gwadar", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["length_km_by_mode"] == {"sea": data["length_km"]}
    assert 500 < data["length_km"] < 1000 and "hormuz" in data["chokepoints"]
    # Aktau is a port of the network, so a route from the ocean sails to another of its ports
    code, out, err = cli("route", "Aktau", "Mersin", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["length_km_by_mode"]["rail"] > 0 and data["length_km_by_mode"]["sea"] > 0
    assert data["path"][0] == "Port of Aktau" and data["path"][-1] == "Mersin"
    # with sea legs only there is no way out of the Caspian: one line
    code, out, err = cli("route", "Tokyo", "Aktau", "--modes", "sea")
    assert code == 1 and out == ""
    assert err.count("\n") == 1


def test_an_ambiguous_network_name_stays_the_networks_question() -> None:
    net = load_network()
    with pytest.raises(RouteError) as theirs:
        find_route(net, "Port", "Almaty")
    with pytest.raises(RouteError) as ours:
        find_route_with_ports(net, "Port", "Almaty")
    assert str(ours.value) == str(theirs.value)
