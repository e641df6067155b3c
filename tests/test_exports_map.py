"""The exports map (maps/exports.toml): its spec, its payload against `corridor exports`, safety."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import shapely
from helpers import column_values, exports_numbers, figure, numbers
from pyproj import Geod

import geo
from geo.analysis.costs import CASES, extra_span
from geo.analysis.network import STATION_KM, load_network
from geo.analysis.parameters import road_detour_factor
from geo.analysis.routing import fuel_commodity
from geo.analysis.supply import export_legs, resolve_markets, summarise_supply_route
from geo.build import build_from_spec
from geo.data.layers import load_layer
from geo.errors import SpecError
from geo.render.spec import ExportsSpec, load_spec
from geo.render.style import CORRIDORS
from geo.render.supply_map import NO_TEU, exports_payload

sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
from run import SEED, write_deposit_layer

ROOT = Path(__file__).parents[1]
N_GENERATED = 1200  # deposits of the generated layer: over CLUSTER_ABOVE, so clustered
SPEC = ROOT / "maps" / "exports.toml"
DATA = ROOT / "tests" / "data"
GEOD = Geod(ellps="WGS84")


@pytest.fixture(autouse=True)
def no_user_layers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORRIDOR_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def payload() -> dict:
    return exports_payload(load_spec(SPEC).exports, load_network())


def joined(p: dict, m: dict, i: int, which: int) -> list[list[float]] | None:
    """Deposit ``i``'s route to market ``m`` as the page joins it (geo/render/static/exports.js):
    its access leg, then the shared edge lines (``which``: 0 best, 1 unconstrained)."""
    node = p["groupNode"][p["g"][i]]
    refs = m["routes"][node][which]
    if refs is None:
        return None
    out = [[p["lat"][i], p["lon"][i]], p["nodes"][node]]
    for ref in refs:
        line = p["edges"][ref] if ref >= 0 else p["edges"][~ref][::-1]
        out += line[1:]
    return out


def drawn_km(legs: list, gaps: list[float]) -> float:
    """The km of a route's line as the page draws it: the access leg straight (its length is
    the straight line's times the road detour factor), the network legs, the gaps."""
    access, *network = legs
    assert access.access
    detour = road_detour_factor() if access.mode == "road" else 1.0  # a field's leg: straight
    return access.length_km / detour + sum(leg.length_km for leg in network) + sum(gaps)


def gaps_km(legs: list, end: list[float]) -> list[float]:
    """The straight pieces the page draws where a route's lines do not meet, in km.

    A named place is a station of the traced rail network up to STATION_KM off its track: its
    node (where the access leg and a hand-drawn segment end, where the market's marker stands)
    is the place, while the traced lines end on the track. The page joins the two.
    """
    ends = [np.round(shapely.get_coordinates(leg.geometry)[[0, -1]], 4) for leg in legs]
    out, at = [], ends[0][1]  # the access leg ends at its node
    stops = [(first, last) for first, last in ends[1:]] + [(np.array(end[::-1]), None)]
    for first, last in stops:
        if (first != at).any():
            out.append(GEOD.inv(at[0], at[1], first[0], first[1])[2] / 1000)
        at = last
    return out


def thousands(n: int) -> str:
    """exports.js's thousands() (its browser test checks the two agree)."""
    return f"{n:,}"


def shown(p: dict, m: dict, i: int) -> list[list[str]]:
    """The comparison table the page shows for deposit ``i`` at market ``m`` (rows x columns),
    decoded as exports.js's cell() does."""
    nums = {r[0]: r for r in p["nums"]}
    out = []
    for k in range(len(p["cmp"])):
        row = []
        for s in range(3):
            fixed = m["cells"][p["g"][i]][s][k]
            if fixed >= 0:
                row.append(p["s"][fixed])
            else:
                _, key, unit, decimals, extra = nums[k]
                row.append(figure(m[key][s][i], unit, decimals, extra == 1))
        out.append(row)
    return out


def names(p: dict) -> list[str]:
    c = p["data"][p["cols"].index("Name")]
    return column_values(c)


def ids(p: dict) -> list[str]:
    c = p["data"][p["cols"].index("id")]
    return column_values(c)


def test_spec_has_an_exports_table() -> None:
    spec = load_spec(SPEC)
    assert spec.exports == ExportsSpec(
        markets=(
            "yokohama_port",
            "busan_port",
            "lianyungang",
            "mumbai_port",
            "constanta_port",
            "rotterdam_port",
        ),
        market="yokohama_port",
        avoid=("RUS",),
        commodities=(),
        status="operational",
    )


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ('[exports]\nmarkte = "x"', "exports.markte"),
        ('[exports]\nstatus = "planned"', "exports.status"),
        ('[exports]\navoid = "RUS"', "exports.avoid"),
        ('exports = "yes"', "exports"),
    ],
)
def test_bad_exports_table_names_file_and_key(tmp_path: Path, table: str, key: str) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(f'title = "t"\ncenter = [40, 60]\nzoom = 3\nlayers = []\n{table}\n')
    with pytest.raises(SpecError) as e:
        load_spec(p)
    assert str(e.value).startswith(f"{p}: {key}:")
    assert "\n" not in str(e.value)


def test_opens_on_japan_and_every_deposit_has_a_row_per_market(payload: dict) -> None:
    markets = [m["name"] for m in payload["markets"]]
    assert markets[payload["initial"]] == "Port of Yokohama"
    n = len(payload["g"])
    assert len(payload["lat"]) == len(payload["lon"]) == len(names(payload)) == n >= 80
    for m in payload["markets"]:
        assert len(m["k"]) == len(m["cells"]) == len(payload["groupNode"])
        assert len(m["routes"]) == len(payload["nodes"])
        keys = [r[1] for r in payload["nums"]]
        assert keys == ["km", "days", "usd", "co2", "xkm", "xdays", "xusd", "xco2"]
        assert all(len(m[k]) == (2 if k.startswith("x") else 3) for k in keys)
        assert all(len(col) == n for k in keys for col in m[k])
    assert payload["cluster"] is False  # 90 deposits are drawn one by one, as before


def test_numbers_and_lines_are_those_of_corridor_exports(payload: dict) -> None:
    frame = geo.exports(markets=["yokohama_port"], commodities=["uranium"], avoid=["RUS"])
    legs = export_legs(markets=["yokohama_port"], commodities=["uranium"], network=load_network())
    where = ids(payload)
    yokohama = payload["markets"][payload["initial"]]
    checked = 0
    for row in frame.itertuples():
        i = where.index(row.deposit)
        text = shown(payload, yokohama, i)
        cols = [list(c) for c in zip(*text, strict=True)]
        # avoiding Russia, avoiding Russia and China, unconstrained: every number is the row's
        assert numbers(cols[0]) == exports_numbers(row, "", "extra_")
        assert numbers(cols[1]) == exports_numbers(row, "rus_chn_free_", "rus_chn_free_extra_")
        assert numbers(cols[2]) == exports_numbers(row, "shortest_", None)
        assert text[0][0] == f"{row.km:,.0f} km"  # distance avoiding Russia
        assert text[1][0] == f"{row.transit_days_typical:.1f} days"
        assert text[2][0] == f"{row.cost_usd_per_teu_typical:,.0f} USD"
        assert text[3][0] == f"{row.co2e_kg_per_teu_typical:,.0f} kg"
        assert text[4][0] == " → ".join(row.countries)
        assert text[6][0] == "no"  # through Russia
        k = yokohama["k"][payload["g"][i]]
        # via Kazakhstan and China to Lianyungang, no Caspian crossing: the Land Bridge (issue 17)
        assert payload["corridors"][k] == "New Eurasian Land Bridge (via China)"
        line = joined(payload, yokohama, i, 0)
        assert line is not None
        # The line starts at the deposit, ends at Yokohama and is as long as the route, with
        # the joins between a station's place and its track (see gaps_km).
        assert line[0] == [payload["lat"][i], payload["lon"][i]]
        assert line[-1] == yokohama["c"]
        km = GEOD.line_length([p[1] for p in line], [p[0] for p in line]) / 1000
        found = legs[(row.deposit, "yokohama_port")]["avoid"]
        assert sum(leg.length_km for leg in found) == pytest.approx(row.km, abs=0.05)
        gaps = gaps_km(found, yokohama["c"])
        assert all(0 < gap <= STATION_KM for gap in gaps)
        assert km == pytest.approx(drawn_km(found, gaps), rel=0.002)
        checked += 1
    assert checked >= 10  # Kazakh uranium


def test_a_route_ends_at_its_market_not_where_the_track_ends(payload: dict) -> None:
    # Port of Lianyungang stands at 34.75 N, 119.45 E (layers/nodes.geojson); the traced line
    # into it ends on the track at 34.7261 N, 119.4581 E: 0.0239 deg of latitude (2.65 km) and
    # 0.0081 deg of longitude at 34.7 N (0.74 km), 2.75 km apart. The page joins the two, so the
    # drawn route ends at the port's marker rather than 2.75 km short of it.
    m = next(m for m in payload["markets"] if m["name"] == "Port of Lianyungang")
    assert m["c"] == [34.75, 119.45]
    line = joined(payload, m, names(payload).index("Inkai"), 0)  # uranium: rail to the port
    assert line is not None and line[-2:] == [[34.7261, 119.4581], [34.75, 119.45]]
    km = GEOD.inv(119.4581, 34.7261, 119.45, 34.75)[2] / 1000
    assert km == pytest.approx(2.75, abs=0.01)


def test_inkai_to_yokohama_is_the_exports_row(payload: dict) -> None:
    row = geo.exports(markets=["yokohama_port"], avoid=["RUS"]).set_index("name").loc["Inkai"]
    i = names(payload).index("Inkai")
    text = shown(payload, payload["markets"][payload["initial"]], i)
    cols = [list(c) for c in zip(*text, strict=True)]
    assert numbers(cols[0]) == exports_numbers(row, "", "extra_")
    assert numbers(cols[1]) == exports_numbers(row, "rus_chn_free_", "rus_chn_free_extra_")
    assert numbers(cols[2]) == exports_numbers(row, "shortest_", None)
    assert text[4:8] == [
        [" → ".join(row.countries), text[4][1], text[4][2]],
        # through China to Lianyungang: the Land Bridge, not the Trans-Caspian route (issue 17)
        ["New Eurasian Land Bridge (via China)", text[5][1], text[5][2]],
        ["no", "no", text[6][2]],
        ["yes", "no", text[7][2]],
    ]
    # avoiding China too goes the long way, by sea from the Black Sea: more km, days, USD, CO2e
    assert [c.startswith("+") and c[1] != "0" for c in cols[1][8:]] == [True] * 4
    assert text[8][2] == "+0 km" and text[9][2] == "+0.0 days"


def legs_column(legs: list | str, short: list | str) -> list[str]:
    """One comparison column summarised from the route's whole leg list (the former page's
    way), its extras through costs.extra_span against the unconstrained route's legs."""
    if isinstance(legs, str):
        return [f"no route: {legs}", *[""] * 11]
    b = summarise_supply_route(legs)
    s = None if isinstance(short, str) else summarise_supply_route(short)
    label = CORRIDORS.get(b.main_corridor or "", (b.main_corridor or "", ""))[0]
    yes = {True: "yes", False: "no", None: "—"}
    figures = [
        ("km", "km", 0, 1),
        ("transit_days", "days", 1, 1),
        ("cost_usd_per_teu", "USD", 0, 0),
        ("co2e_kg_per_teu", "kg", 0, 0),
    ]
    values, extras = [], []
    for f, unit, d, digits in figures:
        if f == "km":
            mine = {"typical": b.km}
            ref = None if s is None else {"typical": s.km}
        else:
            mine = {c: getattr(b, f"{f}_{c}") for c in CASES}
            ref = None if s is None else {c: getattr(s, f"{f}_{c}") for c in CASES}
        if mine["typical"] is None:
            values.append(NO_TEU)
            extras.append("—")
            continue
        values.append(figure(mine["typical"], unit, d, False))
        if ref is None or ref["typical"] is None:
            extras.append("—")
        elif f == "km":
            extras.append(figure(round(b.km - s.km, 1), unit, d, True))
        else:
            extras.append(figure(extra_span(mine, ref, digits)["typical"], unit, d, True))
    return [
        *values,
        " → ".join(b.countries),
        label,
        yes[b.transits_russia],
        yes[b.transits_china],
        *extras,
    ]


@pytest.mark.parametrize("layer", [None, "generated"])
def test_every_cell_and_line_equals_the_whole_route(
    payload: dict, layer: str | None, tmp_path: Path
) -> None:
    """Every deposit, market and column: the cells the page shows equal those summarised from
    the route's whole leg list, and the drawn lines are the routes' lines. On the bundled
    deposits and on a generated layer of 1,200 more (clustered: over CLUSTER_ABOVE)."""
    net = load_network()
    p = payload
    spec = load_spec(SPEC).exports
    if layer:
        path = tmp_path / "deposits.geojson"
        write_deposit_layer(path, N_GENERATED, SEED + 3000)
        net = geo.network([load_layer(path)])
        p = exports_payload(spec, net)
        assert p["cluster"] is True and len(p["g"]) == N_GENERATED + len(payload["g"])
    markets = resolve_markets(net, list(spec.markets))
    every = ids(p)
    step = 1 if layer is None else 15  # a sample of the generated deposits: whole legs are slow
    sample = set(every[::step])
    # the oracle routes each deposit alone: only the sampled ones
    alone = replace(net, deposits=net.deposits[net.deposits["id"].astype(str).isin(sample)],
                    names={}, subgraphs={})  # fmt: skip
    legs = export_legs(markets=markets, avoid={"one": ["RUS"], "both": ["RUS", "CHN"]},
                       network=alone)  # fmt: skip
    for i in range(0, len(every), step):
        for mi, m in enumerate(markets):
            found = legs[(every[i], m)]
            want = [legs_column(found[s], found["shortest"]) for s in ("one", "both", "shortest")]
            assert shown(p, p["markets"][mi], i) == [list(r) for r in zip(*want, strict=True)]
            for which, s in enumerate(("one", "shortest")):
                line = joined(p, p["markets"][mi], i, which)
                if isinstance(found[s], str):
                    assert line is None
                    continue
                assert line is not None
                end = p["markets"][mi]["c"]
                assert line[0] == [p["lat"][i], p["lon"][i]] and line[-1] == end
                km = GEOD.line_length([q[1] for q in line], [q[0] for q in line]) / 1000
                gaps = gaps_km(found[s], end)
                assert all(0 < gap <= STATION_KM for gap in gaps)
                assert km == pytest.approx(drawn_km(found[s], gaps), rel=0.002)


def test_deposits_with_no_route_are_marked() -> None:
    # Avoiding China, no route reaches Lianyungang (in China): every deposit is crossed.
    spec = ExportsSpec(
        markets=("lianyungang", "rotterdam_port"),
        market="lianyungang",
        avoid=("RUS", "CHN"),
        commodities=("uranium",),
    )
    p = exports_payload(spec, load_network())
    lian, rotterdam = p["markets"]
    assert set(lian["k"]) == {-1}
    assert all(r[0] is None for r in lian["routes"])
    assert all(v is None for v in lian["km"][0])
    assert all(shown(p, lian, i)[0][0].startswith("no route: ") for i in range(len(p["g"])))
    assert set(rotterdam["k"]) - {-1}  # Rotterdam is reachable
    assert lian["summary"].startswith("0 of ")


def test_hostile_deposit_is_escaped_and_reproducible(tmp_path: Path) -> None:
    hostile = DATA / "hostile_deposits.geojson"
    before = hostile.read_bytes()
    a = build_from_spec(SPEC, out=tmp_path / "a.html", extra_layers=[hostile])
    b = build_from_spec(SPEC, out=tmp_path / "b.html", extra_layers=[hostile])
    assert a.read_bytes() == b.read_bytes()
    assert hostile.read_bytes() == before
    page = a.read_text(encoding="utf-8")
    assert "<script>alert" not in page
    assert "</script><script>" not in page
    assert "onerror=alert(2)>" not in page  # '<' and '>' of values are escaped in the JSON
    m = re.search(r"CorridorMap\.exports\(\w+, (.*)\);\n", page)
    assert m is not None
    data = json.loads(m.group(1))
    assert "<script>alert(1)</script>" in names(data)  # shown literally by the page (textContent)


def test_committed_exports_map_answers_the_question() -> None:
    page = (ROOT / "maps" / "exports.html").read_text(encoding="utf-8")
    m = re.search(r"CorridorMap\.exports\(\w+, (.*)\);\n", page)
    assert m is not None
    data = json.loads(m.group(1))
    yokohama = data["markets"][data["initial"]]
    reached = int(yokohama["summary"].split(" of ")[0])
    # gas travels by pipeline only and no gas line reaches Japan (issue 16): the 9 gas fields
    # are blocked; of the other 81 deposits all but the Oskemen mine (its every way out
    # crosses Russia) reach Yokohama avoiding Russia
    deps = geo.load_bundled("deposits")
    gas = sum(fuel_commodity(c) == "gas" for c in deps["commodities"])
    assert gas == 9 and reached >= len(deps) - gas - 2
    assert yokohama["summary"].startswith(f"{reached} of {len(data['g'])} ")
    assert "Port of Yokohama avoiding Russia" in yokohama["summary"]
