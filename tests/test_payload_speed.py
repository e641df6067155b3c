"""The page payloads' column-at-a-time paths give exactly what the one-at-a-time ones give.

Issue 19 (a 100k-point layer on the main map): coordinates, URL sources, data notes and
statuses are worked out for a whole layer at once; these tests hold them to the plain
functions they replace.
"""

from __future__ import annotations

import geopandas as gpd
import shapely
from hypothesis import example, given, settings
from hypothesis import strategies as st

from geo.render.cards import card, url_key, url_keys
from geo.render.payloads import (
    display_geometries,
    display_geometry,
    drawn,
    drawn_all,
    encode_rings,
    encode_rings_of,
    latlngs,
    latlngs_of,
)
from geo.render.style import status_group, status_groups

# Sources built from the characters that decide whether a text is one URL alone: the scheme's,
# those that end a host, those a path cannot hold, white space of every kind, a NUL, the
# punctuation that ends a sentence, and letters beyond ASCII.
_URL_PIECES = st.lists(
    st.sampled_from(["http://", "https://", "HTTPS://", "hTtP:", "//", "/", "x", "a.org", ".",
                     ",", ")", "]", "?", "#", ":", "@", ";", "<", ">", '"', "'", " ", "\t",
                     "\x1c", "\x00", "é", "ß", "\u2028", "\xa0", "wiki/Aktau"]),
    max_size=10,
).map("".join)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_URL_PIECES, st.text(max_size=12)), max_size=40))
@example(["https://mrdata.usgs.gov/mrds/show-mrds.php?dep_id=10000001", "https://a<b.org/x"])
@example(["https://a.org/" + "x" * 300, "https://a.b/\x00", "", "http://x.org."])
def test_url_keys_are_the_regular_expressions_keys(texts: list[str]) -> None:
    assert url_keys(texts) == [url_key(t) for t in texts]


def test_a_big_layers_sources_are_named_by_publisher_and_its_ids_noted() -> None:
    n = 5000
    sources = [f"https://mrdata.usgs.gov/mrds/show-mrds.php?dep_id={10_000_000 + i}"
               for i in range(n - 3)] + ["Atlas (2023)", "", "https://x.org/a ; see https://y.org/b"]  # fmt: skip
    g = gpd.GeoDataFrame(
        {"id": [f"d{i}" for i in range(n)], "name": ["A"] * n, "source": sources},
        geometry=[shapely.Point(0, 0)] * n,
    )
    c = card(g, "deposit")
    links, notes = c.columns[c.links], c.columns[c.notes]
    assert links[0] == f"USGS\t{sources[0]}"
    assert links[n - 3 :] == ["Atlas (2023)", "", "x.org\thttps://x.org/a\ny.org\thttps://y.org/b"]
    assert notes[0] == "Feature id: d0"
    assert notes[-1] == "Feature id: d4999"


_COORD = st.floats(-180, 180, allow_nan=False).map(lambda v: round(v, 7))
_LINE = st.lists(st.tuples(_COORD, _COORD), min_size=2, max_size=8).map(shapely.LineString)
_GEOMS = st.one_of(
    _LINE,
    st.lists(_LINE, max_size=3).map(shapely.MultiLineString),
    st.tuples(_COORD, _COORD).map(lambda xy: shapely.Point(*xy)),
    st.just(shapely.LineString()),
    st.just(None),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_GEOMS, max_size=12), st.sampled_from([3, 5]))
def test_latlngs_of_a_column_are_each_geometrys_latlngs(geoms: list[object], decimals: int) -> None:
    assert latlngs_of(geoms, decimals) == [latlngs(g, decimals) for g in geoms]
    assert [shapely.equals_exact(a, b, 0) if a is not None else b is None
            for a, b in zip(drawn_all(geoms), [drawn(g) for g in geoms], strict=True)] == [True] * len(geoms)  # fmt: skip


def test_status_groups_are_each_status_group() -> None:
    values = ["proposed", "operational", None, float("nan"), "suspended", "proposed", ""]
    assert status_groups(values) == [status_group(v) for v in values]
    assert status_groups(values)[:3] == ["planned", "operational", "operational"]


_RING = st.lists(st.tuples(_COORD, _COORD), min_size=3, max_size=7).map(
    lambda xy: shapely.Polygon(xy).buffer(0)
)
_AREAS = st.one_of(
    _RING,
    st.lists(_RING, max_size=3).map(lambda ps: shapely.MultiPolygon(
        [p for p in ps if p.geom_type == "Polygon" and not p.is_empty])),
    st.just(shapely.box(0, 0, 1, 1).difference(shapely.box(0.2, 0.2, 0.4, 0.4))),
    st.just(shapely.Polygon()),
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(_AREAS, max_size=8), st.sampled_from([0, 1, 3, 5]))
def test_encode_rings_of_a_column_are_each_areas_rings(geoms: list[object], decimals: int) -> None:
    areas = [g for g in geoms if g.geom_type in ("Polygon", "MultiPolygon")]  # type: ignore[attr-defined]
    assert encode_rings_of(areas, decimals) == [
        encode_rings(g, decimals) if not g.is_empty else []
        for g in areas  # type: ignore[attr-defined]
    ]
    shown = display_geometries(areas, 0.04, 0.02)
    assert [shapely.equals_exact(a, display_geometry(g, 0.04, 0.02), 0) for a, g in
            zip(shown, areas, strict=True)] == [True] * len(areas)  # fmt: skip
