"""The store's copy of a layer, written column by column, equals the copy written row by row."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.data.bundled import bundled_layers
from geo.data.layers import load_bundled, load_layer
from geo.data.store import stored_features, stored_features_by_row
from geo.errors import ValidationError

DATA = Path(__file__).parent / "data"


def _both(gdf: gpd.GeoDataFrame, kind: str) -> tuple[str, str]:
    """Each way's text, or its problem lines (prefixed) when it refuses the frame."""
    out = []
    for f in (stored_features, stored_features_by_row):
        try:
            out.append(f(gdf, kind, "src.geojson"))
        except ValidationError as e:
            out.append("refused:\n" + "\n".join(e.lines()))
    return out[0], out[1]


@pytest.mark.parametrize("name", sorted(bundled_layers()))
def test_every_bundled_layer_is_stored_as_row_by_row(name: str) -> None:
    gdf = load_bundled(name)
    fast, slow = _both(gdf, str(gdf.attrs["kind"]))
    assert fast == slow
    assert not fast.startswith("refused")


FIXTURES = ["hostile_antimeridian", "hostile_deposits", "hostile_template_deposits",
            "hostile_template_nodes", "hostile_template_segments", "hostile_template_text",
            "legacy_crs_3857", "map_pipelines", "map_user_deposits", "net_nodes", "net_segments",
            "pipeline_user", "store_reserved_id", "store_tiny_line", "store_tiny_polygon",
            "valid_nodes"]  # fmt: skip


@pytest.mark.parametrize("name", FIXTURES)
def test_fixtures_are_stored_as_row_by_row(name: str) -> None:
    gdf = load_layer(DATA / f"{name}.geojson")
    fast, slow = _both(gdf, str(gdf.attrs["kind"]))
    assert fast == slow


def _frame(values: list[Any], geoms: list[shapely.Geometry] | None = None) -> gpd.GeoDataFrame:
    n = len(values)
    geoms = geoms or [shapely.Point(70 + i * 1e-7, 45.123456789) for i in range(n)]
    return gpd.GeoDataFrame({"id": [f"d{i}" for i in range(n)],
                             "odd": pd.Series(values, dtype=object)},
                            geometry=geoms, crs=4326)  # fmt: skip


ODD: list[Any] = [
    None, math.nan, 1.5, math.inf, -math.inf, 3, True, "plain", "é ü 漢", "lone \ud800",
    ["a", "b"], ["a", "\udfff"], ["a", 1], [["deep"]], {"k": 1.0}, {"\ud800": 1},
    np.int64(7), np.float64("nan"), Decimal("2.50"), Decimal("3"), dt.date(2026, 1, 2),
    dt.datetime(2026, 1, 2, 3, 4, 5), b"\x00\x01", (1, 2), np.array([1.0, 2.0]), [],
    object(), pd.NaT,
]  # fmt: skip


@pytest.mark.parametrize("value", ODD, ids=[type(v).__name__ + str(i) for i, v in enumerate(ODD)])
def test_each_odd_value_gets_the_same_copy_or_line(value: Any) -> None:
    gdf = _frame(["fine", value, None])
    fast, slow = _both(gdf, "deposit")
    assert fast == slow


def test_a_column_name_json_cannot_hold_gets_every_rows_line() -> None:
    gdf = _frame(["a", math.inf]).rename(columns={"odd": "bad \ud800"})
    fast, slow = _both(gdf, "deposit")
    assert fast == slow and fast.count("\n") == 2


def test_geometries_that_round_away_or_turn_get_the_same_copy_or_line() -> None:
    cw = shapely.Polygon([(70, 45), (70, 46), (71, 46), (71, 45)])  # clockwise: turned
    tiny = shapely.Polygon([(70, 45), (70, 45 + 1e-8), (70 + 1e-8, 45)])  # rounds to nothing
    line0 = shapely.LineString([(70, 45), (70 + 1e-8, 45)])  # rounds to zero length
    multi = shapely.MultiPolygon([cw, shapely.Polygon([(72, 45), (73, 45), (73, 46)])])
    for kind, geoms in (("area", [cw, multi]), ("area", [tiny, cw]), ("segment", [line0]),
                        ("node", [shapely.Point(70, 45, 3)])):  # fmt: skip
        gdf = gpd.GeoDataFrame({"id": [f"g{i}" for i in range(len(geoms))]}, geometry=geoms,
                               crs=4326)  # fmt: skip
        fast, slow = _both(gdf, kind)
        assert fast == slow, kind


cells = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True),
    st.text(max_size=6), st.lists(st.text(max_size=3), max_size=3),
    st.lists(st.one_of(st.integers(), st.none(), st.text(max_size=2)), max_size=3),
)  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(st.lists(cells, min_size=1, max_size=8))
def test_any_mix_of_values_is_stored_as_row_by_row(values: list[Any]) -> None:
    fast, slow = _both(_frame(values), "deposit")
    assert fast == slow
