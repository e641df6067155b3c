"""The one palette (geo/render/style.py): colours and line styles that cannot be confused."""

from __future__ import annotations

import itertools

import geopandas as gpd
import pytest
import shapely

from geo.render.panels import legend_html, stats_html
from geo.render.payloads import route_layers, segment_layers, user_layer
from geo.render.style import (
    COMMODITY_GROUPS,
    CORRIDORS,
    MODE_LINES,
    OTHER_COLORS,
    OTHER_COMMODITY,
    PIPELINE_FUELS,
    RUSSIA_COLOR,
    STATUS_DASH,
    USER_COLORS,
    color_distance,
    mode_style,
    node_symbol,
    route_color,
    short_names,
)

COMMODITY = [c for _, c, _ in COMMODITY_GROUPS] + [OTHER_COMMODITY[1]]
LINES = [
    *(c for _, c in CORRIDORS.values()),
    RUSSIA_COLOR,
    *(c for _, c in PIPELINE_FUELS.values()),
]


def test_no_commodity_colour_is_a_line_colour() -> None:
    lowered = {c.lower() for c in [*LINES, *OTHER_COLORS]}
    assert not {c.lower() for c in COMMODITY} & lowered
    for c in COMMODITY:
        near = min(LINES, key=lambda o: color_distance(c, o))
        # far enough apart to tell on a map (CIE76 >= 20): lithium is not the TITR's pink
        assert color_distance(c, near) >= 20, (c, near)
        assert min(color_distance(c, o) for o in OTHER_COLORS) >= 12, c
    assert min(color_distance(a, b) for a, b in itertools.combinations(COMMODITY, 2)) >= 12


def test_corridor_colours_are_apart() -> None:
    named = [c for _, c in CORRIDORS.values()] + [RUSSIA_COLOR]
    assert min(color_distance(a, b) for a, b in itertools.combinations(named, 2)) >= 10
    assert min(color_distance(a, b) for a in OTHER_COLORS for b in named) >= 10


def test_every_mode_is_drawn_apart() -> None:
    drawn = {m: mode_style("#333", 3.2, m, "operational") for m in MODE_LINES}
    looks = {(s["weight"], s.get("dashArray")) for s in drawn.values()}
    assert len(looks) == len(MODE_LINES)  # ferry, rail, road, sea and pipeline all differ
    own = {s.get("dashArray") for s in drawn.values()} - {None}
    assert not own & set(STATUS_DASH.values())  # a mode's pattern never reads as a status
    assert drawn["ferry"]["dashArray"] != drawn["rail"].get("dashArray")
    # a planned ferry keeps its pattern, faint; a planned rail line is dotted
    assert mode_style("#333", 3.2, "ferry", "planned")["opacity"] < 0.6
    assert mode_style("#333", 3.2, "rail", "planned")["dashArray"] == STATUS_DASH["planned"]


def _segments() -> gpd.GeoDataFrame:
    line = shapely.LineString([(50, 40), (51, 41)])
    return gpd.GeoDataFrame(
        {"id": ["a", "b"], "name": ["Rail", "Ferry"], "corridor": ["TITR", "TITR"],
         "mode": ["rail", "ferry"], "status": ["operational", "operational"],
         "source": ["x", "y"]},
        geometry=[line, line], crs=4326,
    )  # fmt: skip


def test_lines_and_legend_read_the_same_palette() -> None:
    layer = segment_layers(_segments(), "TITR")[0]
    dashes = {layer["styles"][f["s"]].get("dashArray") for f in layer["f"]}
    assert dashes == {None, MODE_LINES["ferry"][2]}
    html = legend_html(_segments(), None, None, "TITR", [], False)
    assert MODE_LINES["ferry"][2] in html and "ferry" in html
    assert CORRIDORS["TITR"][1] in html


def test_route_colours_are_their_corridors_in_map_and_panel() -> None:
    names = ["TITR main: A - B", "Northern Corridor: A - B", "Sea route A - B via Suez",
             "Sea route A - B via the Cape"]  # fmt: skip
    routes = gpd.GeoDataFrame(
        {"id": ["t", "n", "s1", "s2"], "name": names, "length_km": [1.0, 2.0, 3.0, 4.0]},
        geometry=[shapely.LineString([(0, 0), (1, 1)])] * 4, crs=4326,
    )  # fmt: skip
    layers, ids = route_layers(routes, set())
    assert [lay["style"]["color"] for lay in layers] == [route_color(n, i) for i, n in
                                                         enumerate(names)]  # fmt: skip
    assert layers[1]["style"]["color"] == CORRIDORS["Northern"][1]
    panel = stats_html(routes, ids)
    assert CORRIDORS["Northern"][1] in panel and CORRIDORS["TITR"][1] in panel
    labels = [lay["label"].rsplit(">", 1)[-1] for lay in layers]
    assert len(set(labels)) == len(labels)  # overlay names unique ...
    assert all(not lab.endswith("…") or len(lab) > 20 for lab in labels)  # ... and readable


@pytest.mark.parametrize(
    "names",
    [
        ["Sea route Shanghai - Rotterdam via Malacca and Suez",
         "Sea route Shanghai - Rotterdam via the Cape of Good Hope"],
        ["A very long route name that goes on and on, first",
         "A very long route name that goes on and on, second", "Short"],
        ["Same", "Same"],
    ],
)  # fmt: skip
def test_short_names_never_collide(names: list[str]) -> None:
    out = short_names(names)
    assert len(set(out)) == len(set(names))
    assert all(len(o) <= 40 for o in out)


def test_user_layers_look_apart_from_bundled_ones() -> None:
    nodes = gpd.GeoDataFrame(
        {"id": ["p"], "name": ["My port"], "kind": ["port"], "country": ["KAZ"],
         "gauge_change": [False], "source": ["x"]},
        geometry=[shapely.Point(51, 43)], crs=4326,
    )  # fmt: skip
    nodes.attrs.update(kind="node", name="mine")
    layer = user_layer("mine", nodes, 0)
    assert layer["kind"] == "nodes"
    assert layer["icons"][0] != node_symbol("port")
    assert f'stroke="{USER_COLORS[0]}"' in layer["icons"][0]  # hollow, outlined
    html = legend_html(None, None, None, "TITR", [], False, [("mine", nodes)])
    assert "<h3>Your layers</h3>" in html and USER_COLORS[0] in html
