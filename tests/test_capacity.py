"""Export capacity by maximum flow (geo.analysis.capacity) on a hand-built pipeline network.

tests/data/capacity/network.geojson: a field line (100 kb/d) from the field to junction J;
from J a sea line through RUS (60) to the sea terminal, two parallel border lines (20 + 10)
to the border station, a proposed line (500) to a Caspian quay and a line of unknown capacity
to a southern end; a gas line (40 bcm/y) from the field to the border.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geo.analysis.capacity import TankerLink, export_capacity, pipeline_graph
from geo.analysis.commodities import commodity_table
from geo.data.layers import load_bundled
from geo.errors import RouteError

DATA = Path(__file__).parent / "data" / "capacity"
PIPES = gpd.read_file(DATA / "network.geojson")
TERMINALS = gpd.read_file(DATA / "terminals.geojson")
FIELD = gpd.GeoDataFrame({"id": ["field"]}, geometry=[shapely.Point(50.1, 45.1)], crs=4326)


def cap(markets: list[str], **kw: object) -> object:
    kw.setdefault("fuel", "oil")
    return export_capacity(PIPES, TERMINALS, FIELD, markets, origin="KAZ", **kw)  # type: ignore[arg-type]


def test_max_flow_sums_parallel_lines_and_names_the_cut() -> None:
    r = cap(["port", "border"])
    assert (r.low, r.high) == (90, 90) and r.exact
    assert r.by_market == {"port": 60, "border": 30}
    assert sorted(r.bottleneck) == ["Border line 1", "Border line 2", "Sea line"]
    assert r.unit == "thousand barrels/day" and r.fields == ["field"]
    assert r.text() == "KAZ oil export capacity: 90 thousand barrels/day"
    g = pipeline_graph(PIPES, TERMINALS, fuel="oil")
    assert g.edges["border", "pipe:(52.0, 45.0)"]["capacity"] == 30  # c1 + c2, one route


def test_avoiding_a_country_drops_its_lines() -> None:
    r = cap(["port", "border"], avoid=["RUS"])
    assert (r.low, r.high) == (30, 30)
    assert sorted(r.bottleneck) == ["Border line 1", "Border line 2"]
    assert "avoiding RUS" in r.text()


def test_proposed_lines_only_with_their_status() -> None:
    r = cap(["port", "border", "quay"], statuses=["operational", "proposed"])
    assert r.high == 100 and r.bottleneck == ["Field line"]
    assert cap(["port", "border", "quay"]).high == 90


def test_an_unknown_capacity_gives_a_range() -> None:
    r = cap(["border", "south"])
    assert (r.low, r.high) == (30, 100) and not r.exact
    assert r.unknown == ["Unknown line"] and r.bottleneck == ["Field line"]
    assert r.text() == "KAZ oil export capacity: 30-100 thousand barrels/day"
    only_unknown = cap(["south"])
    assert only_unknown.low == 0 and only_unknown.high == 100


def test_tanker_links_join_terminals_and_respect_avoid() -> None:
    link = TankerLink("t", "Caspian tanker", ("oil",), "quay", "port", ("AZE", "RUS"), 5.0,
                      "operational", "test")  # fmt: skip
    both = ["operational", "proposed"]
    assert cap(["port"], statuses=both, links=[link]).high == 65
    assert cap(["port"], statuses=both, links=[link], avoid=["RUS"]).high == 0


def test_gas_uses_gas_lines_and_its_unit() -> None:
    r = cap(["border"], fuel="gas")
    assert (r.low, r.high) == (40, 40) and r.unit == "billion m3/year"
    assert r.bottleneck == ["Gas line"]


def test_a_field_far_from_every_line_is_named() -> None:
    far = gpd.GeoDataFrame({"id": ["far"]}, geometry=[shapely.Point(60, 45)], crs=4326)
    r = export_capacity(PIPES, TERMINALS, far, ["port"], fuel="oil", origin="KAZ")
    assert r.unreached == ["far"] and r.high == 0 and not math.isinf(r.high)


def test_unknown_fuel_is_refused() -> None:
    with pytest.raises(RouteError, match="unknown fuel 'coal'"):
        cap(["port"], fuel="coal")


def test_kazakh_oil_export_capacity_on_the_bundled_layers() -> None:
    import geo

    t = geo.capacity("oil", "KAZ", avoid="RUS").set_index("scenario")
    assert list(t.index) == ["all routes", "avoiding RUS"]
    pipes = load_bundled("pipelines")
    kbd = pipes.groupby("name")["capacity_kbd"].max()
    cpc, kcp = kbd["Caspian Pipeline"], kbd["Kazakhstan–China Oil Pipeline (Atasu-Alashankou)"]
    aktau = next(lk.capacity for lk in commodity_table().links if lk.id == "aktau_baku_oil")
    # The joined Kazakh network (Tengiz - Atyrau - Kenkiyak - Kumkol - Karakoin - Atasu, and
    # the Aktau lines) fills CPC (1,340 kb/d in GEM), Atasu-Alashankou (245.8) and Aktau's oil
    # berths (150.4, the tankers to BTC at Ceyhan); without Russia only the last two. Lines of
    # unknown capacity (Kumkol-Karakoin III) leave the lower bound below.
    assert t.loc["all routes", "high"] == pytest.approx(cpc + kcp + aktau, abs=0.1)
    assert "Caspian Pipeline" in t.loc["all routes", "bottleneck"]
    assert t.loc["avoiding RUS", "high"] == pytest.approx(kcp + aktau, abs=0.1)
    assert t.loc["avoiding RUS", "low"] < t.loc["avoiding RUS", "high"]
    assert "Kumkol-Karakoin" in t.loc["avoiding RUS", "unknown_capacity"]
    by = t.loc["avoiding RUS", "by_market"]
    assert "terminal_alashankou 246" in by and "terminal_ceyhan 150" in by
    assert t.loc["all routes", "note"].startswith("GEM nameplate capacities")
    with pytest.raises(RouteError, match="copper does not travel by pipeline"):
        geo.capacity("copper", "KAZ")
