"""Pipelines on the map: palette, legend, popups (payloads) and the committed main map.

Real data: the bundled pipelines layer (Global Energy Monitor). Hostile data:
``tests/data/map_pipelines.geojson`` (markup in a name, template syntax in an owner, a
maintainers' note, a percent-encoded source URL, two pieces of one line, a parallel line).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from geo.data.layers import load_bundled, load_layer
from geo.render.corridor_map import build_map
from geo.render.page import render_html
from geo.render.panels import legend_html, pipeline_entries
from geo.render.pipelines import PIPE_COLUMNS, pipeline_layers
from geo.render.spec import MapSpec
from geo.render.style import (
    COMMODITY_GROUPS,
    CORRIDORS,
    MODE_COLORS,
    OTHER_COLORS,
    OTHER_COMMODITY,
    PIPELINE_ATTRIBUTION,
    PIPELINE_FUELS,
    PIPELINE_STATUS,
    ROUTE_COLORS,
    RUSSIA_COLOR,
    lab,
    source_links,
)

DATA = Path(__file__).parent / "data"
MAPS = Path(__file__).parents[1] / "maps"
COL = {c: i for i, c in enumerate(PIPE_COLUMNS)}


def _lab(color: str) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of a #rrggbb colour: the palette's own conversion."""
    return lab(color)


def _distance(a: str, b: str) -> float:
    return float(sum((p - q) ** 2 for p, q in zip(_lab(a), _lab(b), strict=True)) ** 0.5)


def test_fuel_colours_differ_from_every_corridor_and_commodity_colour() -> None:
    others = {
        *(c for _, c in CORRIDORS.values()), *OTHER_COLORS, RUSSIA_COLOR, *ROUTE_COLORS,
        *MODE_COLORS.values(), *(c for _, c, _ in COMMODITY_GROUPS), OTHER_COMMODITY[1],
    }  # fmt: skip
    fuels = [c for _, c in PIPELINE_FUELS.values()]
    assert len(set(fuels)) == len(fuels)
    for fuel in fuels:
        assert fuel.lower() not in {o.lower() for o in others}
        # not merely another hex code: far enough apart to tell on a map (CIE76 >= 20)
        near = min(others, key=lambda o: _distance(fuel, o))
        assert _distance(fuel, near) >= 20, (fuel, near)
    assert min(_distance(a, b) for a in fuels for b in fuels if a != b) >= 20


def test_the_legend_has_a_pipelines_section_for_the_real_layer() -> None:
    pipes = load_bundled("pipelines")
    html = legend_html(None, None, None, "TITR", [], False, pipelines=pipes,
                       terminals=load_bundled("terminals"))  # fmt: skip
    assert "<h3>Pipelines</h3>" in html
    for fuel in ("oil", "gas"):
        label, color = PIPELINE_FUELS[fuel]
        assert f'stroke="{color}"' in html and label in html
    assert PIPELINE_FUELS["ngl"][0] not in html  # only the fuels the layer has
    for status in ("operational", "under_construction", "proposed", "suspended"):
        text, dash, _ = PIPELINE_STATUS[status]
        assert text in html
        if dash:
            assert f'stroke-dasharray="{dash}"' in html
    assert "oil or gas terminal" in html
    assert pipeline_entries(None) == []


def test_each_gem_line_is_one_feature_with_a_readers_popup() -> None:
    pipes = load_bundled("pipelines")
    layers = pipeline_layers(pipes, countries={"KAZ": "Kazakhstan", "RUS": "Russia"})
    assert [lyr["label"].rsplit(">", 1)[1] for lyr in layers] == [
        "Gas pipelines (93)", "Oil pipelines (54)"]  # fmt: skip
    feats = [f for lyr in layers for f in lyr["f"]]
    projects = {str(i).rpartition("-")[0] for i in pipes["id"]}
    assert len(feats) == len(projects) == 147
    cpc = [f for f in feats if f["v"][0] == "Caspian Pipeline"]
    assert len(cpc) == 1
    v = cpc[0]["v"]
    pieces = pipes[pipes["name"] == "Caspian Pipeline"]
    assert v[COL["Length"]] == f"{pieces['length_km'].sum():,.0f} km"
    assert v[COL["Countries"]] == "Kazakhstan, Russia"
    assert v[COL["Capacity"]] == "1,340 thousand barrels/day"
    assert v[COL["Status"]] == "operating (GEM, as of 2024-01)"
    assert cpc[0]["l"] == [["Global Energy Monitor (GEM wiki)",
                            "https://www.gem.wiki/Caspian_Pipeline"]]  # fmt: skip
    notes = set(pipes["notes"].dropna().astype(str))
    for f in feats:
        for text in f["v"]:
            assert text not in notes
            assert not re.search(r"https?://|%[0-9A-Fa-f]{2}", text), text
        assert all(name.startswith("Global Energy Monitor") or name == "News Central Asia"
                   for name, _ in f.get("l", []))  # fmt: skip


def test_hostile_pipeline_values_stay_text(tmp_path: Path) -> None:
    pipes = load_layer(DATA / "map_pipelines.geojson")
    layers = pipeline_layers(pipes, countries={"KAZ": "Kazakhstan"})
    oil = next(lyr for lyr in layers if "Oil" in lyr["label"])
    (line,) = oil["f"]
    v = line["v"]
    assert v[0] == "</script><img src=x onerror=alert(1)> Line"  # text, shown with textContent
    assert v[COL["Countries"]] == "Kazakhstan, RUS"  # a code without a name stays a code
    assert v[COL["Length"]] == "181 km"  # 100.5 + 80.25, both pieces
    assert v[COL["Capacity"]] == "602.7 thousand barrels/day (GEM: 30 million tonnes/year)"
    assert v[COL["Owner"]] == "{{ 7*7 }} Oil (60%); Other"
    assert v[COL["Route on the map"]].startswith("partly schematic")
    assert v[COL["Shares its route with"]] == "Parallel Gas"
    assert "MAINTAINERS" not in json.dumps(v)
    assert line["l"] == [["Global Energy Monitor (GEM wiki)", "https://www.gem.wiki/X%E2%80%93Y"]]
    gas = next(lyr for lyr in layers if "Gas" in lyr["label"])
    assert gas["styles"][0]["dashArray"] == PIPELINE_STATUS["proposed"][1]
    assert gas["f"][0]["l"][0][0] == "Global Energy Monitor (GitHub)"
    spec = MapSpec(title="t", center=(45.0, 51.0), zoom=5, layers=())
    page = render_html(build_map(spec, countries=None, segments=None, nodes=None, deposits=None,
                                 routes=None, pipelines=pipes))  # fmt: skip
    assert "<img src=x" not in page and "49 Oil" not in page
    assert "{{ 7*7 }} Oil (60%)" in page  # the owner reached the page as text, not a template
    assert PIPELINE_ATTRIBUTION in page


@pytest.mark.parametrize(
    ("text", "links"),
    [
        ("javascript:alert(1)", []),
        (
            "see javascript:alert(1) https://www.gem.wiki/A_B.",
            [["Global Energy Monitor (GEM wiki)", "https://www.gem.wiki/A_B"]],
        ),
        (
            "https://en.wikipedia.org/wiki/X ; https://en.wikipedia.org/wiki/X",
            [["Wikipedia", "https://en.wikipedia.org/wiki/X"]],
        ),
        ('https://evil.example/"onmouseover=x', []),
        (None, []),
    ],
)
def test_source_links_name_publishers_and_refuse_other_schemes(
    text: str | None, links: list[list[str]]
) -> None:
    assert source_links(text) == links


def test_the_committed_main_map_draws_pipelines_apart_from_the_corridors() -> None:
    page = (MAPS / "corridor.html").read_text(encoding="utf-8")
    payloads = [json.loads(m) for m in re.findall(r"CorridorMap\.add\(map_\w+, (.*)\);\n", page)]
    pipes = [p for p in payloads if p["group"] == "Pipelines"]
    assert {p["kind"] for p in pipes} == {"lines", "nodes"}
    assert all(p["pane"] == "cmPipes" for p in pipes if p["kind"] == "lines")
    corridors = [p for p in payloads if p["group"] == "Corridors"]
    assert corridors
    assert all(not f["v"][1].startswith("pipe-") for p in corridors for f in p["f"])
