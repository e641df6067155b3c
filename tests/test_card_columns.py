"""Popup columns worked out per distinct value give exactly what cell-by-cell formatting gives.

Issue 19 (a million-point layer on the main map): a card's columns are formatted once per
distinct value and handed to the payload already coded, and the legend takes the commodity
groups and statuses the payloads found. These tests hold each to the plain way it replaces.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from helpers import column_values as rebuild
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.render.cards import FIELDS, card
from geo.render.panels import legend_html
from geo.render.payloads import columnar, deposit_layer
from geo.render.style import fmt, fmt_codes, main_group, main_groups

NAMES = {"KAZ": "Kazakhstan", "UZB": "Uzbekistan", "XXX": "Kazakhstan"}  # two codes, one name

_TEXT = st.one_of(st.none(), st.just(""), st.sampled_from(["a", "b", "x_y", "1435", "proposed"]),
                  st.text(max_size=4))  # fmt: skip
_VALUE = st.one_of(_TEXT, st.integers(-3, 3), st.floats(allow_nan=True, width=32), st.booleans())
_COLUMNS: dict[str, Any] = {
    "name": _TEXT,
    "kind": st.one_of(_TEXT, st.sampled_from(["mine", "deposit", "occurrence"])),
    "status": st.one_of(_TEXT, st.sampled_from(["producing", "closed", "unknown"])),
    "country": st.one_of(_TEXT, st.sampled_from(["KAZ", "UZB", "XXX", "TJK"])),
    "commodities": st.one_of(st.none(), st.lists(st.sampled_from(["gold", "rare_earths", "copper",
                             "unobtainium"]), max_size=3), st.sampled_from(["gold", "coal"])),
    "location_precision": st.one_of(_TEXT, st.sampled_from(["exact", "approximate"])),
    "as_of": _VALUE,
    "operator": _VALUE,
    "grade": _VALUE,
    "id": _VALUE,
    "notes": _TEXT,
}  # fmt: skip


@st.composite
def layers(draw: st.DrawFn) -> gpd.GeoDataFrame:
    n = draw(st.integers(0, 30))
    cols = draw(st.lists(st.sampled_from(sorted(_COLUMNS)), unique=True))
    data = {c: pd.Series(draw(st.lists(_COLUMNS[c], min_size=n, max_size=n)), dtype=object)
            for c in cols}  # fmt: skip
    if data and draw(st.booleans()):  # text columns as the readers give them
        first = next(iter(data))
        if all(v is None or isinstance(v, str) for v in data[first]):
            data[first] = data[first].astype("str")
    return gpd.GeoDataFrame(data, geometry=[shapely.Point(i, 0) for i in range(n)])


def _plain_column(values: Any, text: Any) -> list[str]:
    """The cell-by-cell way: each value formatted, then its text."""
    return [(text or str)(fmt(v)) for v in values]


@settings(max_examples=300, deadline=None)
@given(layers())
def test_a_cards_columns_are_each_values_text(gdf: gpd.GeoDataFrame) -> None:
    c = card(gdf, "deposit", countries=NAMES)
    assert len(c.coded) == len(c.columns) == len(c.labels)
    by_label = dict(zip(c.labels, c.columns, strict=True))
    for col, label, text in FIELDS["deposit"]:
        if col not in gdf or col == "output_value":
            continue
        if col == "country":
            text = lambda t: NAMES.get(t, t)  # noqa: E731
        want = _plain_column(gdf[col], text)
        assert by_label.get(label, [""] * len(gdf)) == want
    notes = [
        "\n".join(x for x in (fmt(gdf["notes"].iat[i]) if "notes" in gdf else "",
                              "Feature id: " + fmt(gdf["id"].iat[i]) if "id" in gdf
                              and fmt(gdf["id"].iat[i]) else "") if x)
        for i in range(len(gdf))
    ]  # fmt: skip
    assert c.columns[c.notes] == notes
    for values, how in zip(c.columns, c.coded, strict=True):
        if how is None:
            continue
        codes, texts = how
        assert texts[codes].tolist() == values
        assert len(set(texts.tolist())) == len(texts)  # distinct
        assert sorted(set(codes.tolist())) == list(range(len(texts)))  # each used


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["b", "a", "", "https://x.org/1", "https://x.org/12", "é"]),
                max_size=40))  # fmt: skip
def test_a_coded_column_encodes_as_the_plain_one(values: list[str]) -> None:
    codes, texts = fmt_codes(values)
    assert texts[codes].tolist() == values
    assert columnar(values, (codes, texts)) == columnar(values)
    assert rebuild(columnar(values, (codes, texts))) == values


@settings(max_examples=200, deadline=None)
@given(layers(), layers())
def test_the_legend_from_the_payloads_is_the_legend_from_the_layers(
    bundled: gpd.GeoDataFrame, user: gpd.GeoDataFrame
) -> None:
    user.attrs["kind"] = "deposit"
    frames = [g for g in (bundled, user) if len(g)]
    main = {id(g): main_groups(g["commodities"]) for g in frames if "commodities" in g}
    statuses: set[str] = set()
    for g in frames:
        layer = deposit_layer(g, label="d", group="g", main=main.get(id(g)))
        if "status" in g:
            statuses |= set(layer.get("sts", []))
        want = deposit_layer(g, label="d", group="g")
        assert layer == want
    groups = {int(i) for m in main.values() for i in np.unique(m).tolist()}
    users = [("mine", user)]
    assert legend_html(None, None, bundled, "TITR", [], False, users, commodity_groups=groups,
                       statuses=statuses) == legend_html(None, None, bundled, "TITR", [], False,
                                                         users)  # fmt: skip


_FIRST = st.one_of(st.sampled_from(["copper", "gold", "coal", "unobtainium", ""]), st.none(),
                   st.integers(0, 3), st.floats(allow_nan=True, width=16))  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.lists(_FIRST, max_size=3), st.lists(_FIRST, max_size=2).map(tuple),
                          _FIRST), max_size=30))  # fmt: skip
def test_main_groups_of_lists_texts_and_gaps_are_each_main_group(values: list[object]) -> None:
    assert main_groups(values).tolist() == [main_group(v) for v in values]
    assert main_groups(pd.Series(values, dtype=object)).tolist() == [main_group(v) for v in values]
