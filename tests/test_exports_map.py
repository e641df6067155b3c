"""The exports map (maps/exports.toml): its spec, its payload against `corridor exports`, safety."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pyproj import Geod

import geo
from geo.analysis.network import load_network
from geo.build import build_from_spec
from geo.errors import SpecError
from geo.render.spec import ExportsSpec, load_spec
from geo.render.supply_map import exports_payload

ROOT = Path(__file__).parents[1]
SPEC = ROOT / "maps" / "exports.toml"
DATA = ROOT / "tests" / "data"
GEOD = Geod(ellps="WGS84")


@pytest.fixture(autouse=True)
def no_user_layers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORRIDOR_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def payload() -> dict:
    return exports_payload(load_spec(SPEC).exports, load_network())


def joined(p: dict, route: dict) -> list[list[float]]:
    """The route's line as the page joins it (geo/static/exports.js)."""
    out = list(route["a"])
    for ref in route["e"]:
        line = p["edges"][ref] if ref >= 0 else p["edges"][~ref][::-1]
        out += line[1:] if out else line
    return out


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
    names = [m["name"] for m in payload["markets"]]
    assert names[payload["initial"]] == "Port of Yokohama"
    assert len(payload["c"]) == len(payload["rows"]) == len(payload["r"]) >= 80
    assert all(len(r) == len(names) for r in payload["r"])


def test_numbers_and_lines_are_those_of_corridor_exports(payload: dict) -> None:
    frame = geo.exports(markets=["yokohama_port"], commodities=["uranium"], avoid=["RUS"])
    ids = [row[payload["cols"].index("id")] for row in payload["rows"]]
    yokohama = payload["initial"]
    checked = 0
    for row in frame.itertuples():
        k, free, _short, cells = payload["r"][ids.index(row.deposit)][yokohama]
        text = [[payload["s"][c] for c in r] for r in cells]
        assert text[0][0] == f"{row.km:,.0f} km"  # distance avoiding Russia
        assert text[0][2] == f"{row.shortest_km:,.0f} km"  # unconstrained
        assert text[4][0] == "no"  # through Russia
        assert payload["corridors"][k] == "TITR / Middle Corridor"  # via China and Kazakhstan
        line = joined(payload, free)
        # The line starts at the deposit, ends at Yokohama and is as long as the route.
        assert line[0] == payload["c"][ids.index(row.deposit)]
        assert line[-1] == payload["markets"][yokohama]["c"]
        km = GEOD.line_length([p[1] for p in line], [p[0] for p in line]) / 1000
        assert km == pytest.approx(row.km, rel=0.002)
        checked += 1
    assert checked >= 10  # Kazakh uranium


def test_deposits_with_no_route_are_marked() -> None:
    # Avoiding China, no route reaches Lianyungang (in China): every deposit is crossed.
    spec = ExportsSpec(
        markets=("lianyungang", "rotterdam_port"),
        market="lianyungang",
        avoid=("RUS", "CHN"),
        commodities=("uranium",),
    )
    p = exports_payload(spec, load_network())
    assert {r[0][0] for r in p["r"]} == {-1}
    assert all(r[0][1] is None for r in p["r"])
    assert all(p["s"][r[0][3][0][0]].startswith("no route: ") for r in p["r"])
    assert {r[1][0] for r in p["r"]} - {-1}  # Rotterdam is reachable
    assert p["markets"][0]["summary"].startswith("0 of ")


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
    names = [r[0] for r in data["rows"]]
    assert "<script>alert(1)</script>" in names  # shown literally by the page (textContent)


def test_committed_exports_map_answers_the_question() -> None:
    page = (ROOT / "maps" / "exports.html").read_text(encoding="utf-8")
    m = re.search(r"CorridorMap\.exports\(\w+, (.*)\);\n", page)
    assert m is not None
    data = json.loads(m.group(1))
    yokohama = data["markets"][data["initial"]]
    reached = int(yokohama["summary"].split(" of ")[0])
    assert reached >= 80 and yokohama["summary"].startswith(f"{reached} of {len(data['rows'])} ")
    assert "Port of Yokohama avoiding Russia" in yokohama["summary"]
