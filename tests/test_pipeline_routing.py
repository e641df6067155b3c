"""Oil and gas routes over the bundled pipelines, terminals and tanker legs (issue 16)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

import geo
from geo.analysis.network import ENERGY, build_network
from geo.analysis.routing import Constraints, legs_between, make_constraints
from geo.errors import RouteError


def lines(legs: gpd.GeoDataFrame) -> list[str]:
    """The pipelines and tanker legs a route uses, in order, each once."""
    return list(dict.fromkeys(x["name"] for x in legs.attrs["stats"]["lines"]))


@pytest.mark.parametrize("field", ["Tengiz", "Kashagan"])
def test_kazakh_crude_goes_by_cpc_through_russia_then_tanker(field: str) -> None:
    r = geo.route(field, "Rotterdam")
    s = r.attrs["stats"]
    assert r.attrs["query"]["commodity"] == "oil"  # the deposit's own commodity, unasked
    assert set(r["mode"]) == {"pipeline", "sea"}  # no rail tank car where a pipe goes
    assert "Caspian Pipeline" in lines(r)
    assert s["transits_russia"] and s["russia_km"] > 900
    assert s["transshipments"]["at"] == [
        "Novorossiysk oil terminals (Sheskharis; CPC Marine Terminal)"
    ]
    assert lines(r)[-1] == "Oil tankers Novorossiysk - Rotterdam"
    # a pipeline's border is no border wait: CPC's KAZ>RUS adds no border hours to the days
    assert s["border_crossings"]["list"][0]["from"] == "KAZ"


@pytest.mark.parametrize("field", ["Tengiz", "Kashagan"])
def test_avoiding_russia_crosses_the_caspian_by_tanker_into_btc(field: str) -> None:
    r = geo.route(field, "Rotterdam", avoid="RUS")
    s = r.attrs["stats"]
    assert not s["transits_russia"]
    used = lines(r)
    caspian = used.index("Caspian oil tankers Aktau - Sangachal (for BTC)")
    btc = used.index("Baku-Tbilisi-Ceyhan Pipeline")
    assert caspian < btc < used.index("Oil tankers Ceyhan - Rotterdam")
    assert s["countries"][:4] == ["KAZ", "AZE", "GEO", "TUR"]
    by_name = {x["name"]: x for x in s["lines"]}
    assert by_name["Baku-Tbilisi-Ceyhan Pipeline"]["capacity"] == 1200  # the layer's figure
    assert by_name["Caspian oil tankers Aktau - Sangachal (for BTC)"]["capacity"] == 150.4


def test_galkynysh_gas_reaches_china_by_central_asia_china_through_uzb_and_kaz() -> None:
    r = geo.route("Galkynysh", "Horgos")  # the town's name: gas arrives at its delivery point
    s = r.attrs["stats"]
    assert set(r["mode"]) == {"pipeline"}
    assert s["countries"] == ["TKM", "UZB", "KAZ", "CHN"]
    assert r.attrs["path"][-1] == "Horgos (Central Asia-China gas pipeline border point)"
    assert any(name.startswith("Central Asia–China Gas Pipeline") for name in lines(r))
    assert s["access"]["mode"] == "pipeline"  # the declared field link, straight, no road
    assert s["access"]["detour_factor"] == 1.0


def test_galkynysh_gas_west_without_russia_only_by_the_proposed_trans_caspian() -> None:
    # GEM's operating lines do not join Iran's grid from the Turkmen border to Tabriz, so the
    # layer has no operating way west: the answer says which proposed line would make one
    with pytest.raises(RouteError, match=r"no route from Galkynysh \(by its gas lines\).*"
                                         r"Trans-Caspian Gas Pipeline.*--status all"):  # fmt: skip
        geo.route("Galkynysh", "Melendugno", avoid="RUS")
    r = geo.route("Galkynysh", "Melendugno", avoid="RUS", status="all")
    used = lines(r)
    assert "Trans-Caspian Gas Pipeline" in used
    assert {"South Caucasus Gas Pipeline", "Trans-Anatolian Gas Pipeline",
            "Trans-Adriatic Gas Pipeline"} <= set(used)  # fmt: skip
    assert not r.attrs["stats"]["transits_russia"]


def test_freight_never_uses_pipes_or_tankers() -> None:
    # container freight from Aktau to Rotterdam: no tanker leg from the oil terminal
    r = geo.route("Port of Aktau", "Rotterdam")
    assert "pipeline" not in set(r["mode"])
    assert not r.attrs["stats"]["lines"]
    # a uranium mine's road never ends on a pipeline vertex
    u = geo.route("Inkai", "Rotterdam")
    assert not u.attrs["stats"]["access"]["to"].startswith("pipeline junction")
    assert u.attrs["query"]["commodity"] is None


def test_oil_falls_back_to_rail_tank_cars_where_no_pipe_or_tanker_reaches() -> None:
    # no pipeline or tanker leg reaches Duisburg: Tengiz's oil goes by rail tank car there
    r = geo.route("Tengiz", "Duisburg")
    assert "rail" in set(r["mode"])
    assert "with modes rail,ferry,sea,pipeline" in r.attrs["query"]["constraints"]


def test_oil_terminals_are_not_rail_stations_and_kind_terminal_nodes_still_are() -> None:
    net = geo.network()
    g = net.graph
    assert all(e["mode"] in ("pipeline", "sea") for _, _, e in g.edges("terminal_aktau", data=True))
    assert {e["mode"] for _, _, e in g.edges("hamburg", data=True)} == {"rail"}  # kind terminal


# --- a hand-built network: two fields' lines, a terminal, a tanker leg ------------------------


def _nodes() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["port_a", "port_b", "term"], "name": ["A port", "B port", "Oil terminal"],
         "kind": ["port", "port", "terminal"], "country": ["KAZ", "AZE", "KAZ"],
         ENERGY: [False, False, True]},
        geometry=[shapely.Point(50.0, 44.0), shapely.Point(52.0, 44.0),
                  shapely.Point(50.0, 44.0001)],
        crs=4326,
    )  # fmt: skip


def _pipes() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["pipe-P1-1", "pipe-P1-2", "pipe-P2-1"], "name": ["Oil line", "Oil line", "Gas line"],
         "mode": "pipeline", "status": "operational", "precision": "schematic",
         "fuel": ["oil", "oil", "gas"], "country": "KAZ", "capacity_kbd": [100.0, 100.0, None],
         "capacity_bcm_y": [None, None, 5.0], "length_km": [None, None, None]},
        geometry=[shapely.LineString([(48.0, 44.0), (49.0, 44.0)]),
                  shapely.LineString([(49.0, 44.0), (50.0, 44.0001)]),
                  shapely.LineString([(48.0, 44.0), (50.0, 44.0001)])],
        crs=4326,
    )  # fmt: skip


def test_pipeline_noding_on_a_hand_built_network() -> None:
    segs = gpd.GeoDataFrame(
        {"id": ["sea1"], "name": ["A - B by sea"], "mode": ["sea"], "status": ["operational"],
         "precision": ["schematic"], "from": ["term"], "to": ["port_b"], "fuel": ["oil"]},
        geometry=[shapely.LineString([(50.0, 44.0001), (52.0, 44.0)])],
        crs=4326,
    )  # fmt: skip
    net = build_network(_nodes(), segs, pipelines=_pipes())
    g = net.graph
    # the oil line's two pieces meet at a pipeline vertex and end on the terminal
    assert sorted(k for _, _, k in g.edges("term", keys=True)) == ["pipe-P1-2", "pipe-P2-1", "sea1"]
    vertex = next(n for n in g.nodes if str(n).startswith("pipe:") and g.degree(n) == 2)
    assert g.nodes[vertex]["name"].startswith("pipeline junction near")
    oil = make_constraints(modes="pipeline,sea", fuel="oil")
    legs = legs_between(net, ["pipe:j0", "port_b"], oil)
    assert [leg.line for leg in legs] == ["Oil line", "A - B by sea"]  # joined at the vertex
    assert [leg.fuel for leg in legs] == ["oil", "oil"]
    # freight cannot take the tanker leg; gas cannot take the oil line
    with pytest.raises(RouteError):
        legs_between(net, ["term", "port_b"], Constraints())
    gas = make_constraints(modes="pipeline", fuel="gas")
    assert [leg.segment_id for leg in legs_between(net, ["pipe:j0", "term"], gas)] == ["pipe-P2-1"]


def test_exports_send_oil_and_gas_fields_by_their_own_modes() -> None:
    frame = geo.exports(markets=["Rotterdam"], commodities=["oil", "gas"]).set_index("deposit")
    tengiz = frame.loc["tengiz"]
    assert tengiz["main_corridor"] == "Caspian Pipeline" and tengiz["transits_russia"]
    assert tengiz["km"] == geo.route("Tengiz", "Rotterdam").attrs["stats"]["length_km"]
    assert tengiz["rus_free_km"] > tengiz["km"]  # the Caspian tanker and BTC way is longer
    # Zhetybai lies 8 km from Ozen-Zhetybay-Aktau, far from its junctions: by pipe all the same
    assert frame.loc["zhetybai", "main_corridor"] == "Baku-Tbilisi-Ceyhan Pipeline"
    # gas reaches Rotterdam by no pipeline: blocked, with the reason
    assert pd.isna(frame.loc["galkynysh", "km"])
    assert "no route" in str(frame.loc["galkynysh", "blocked"])
