"""geo.reference_stats() carries flat, sortable columns (issue 17): km per mode, Russia and
Belarus apart, days, counts."""

from __future__ import annotations

import pytest

import geo


def test_reference_stats_sort_by_flat_columns() -> None:
    t = geo.reference_stats(["northern_corridor", "titr_main", "sea_suez"]).set_index("id")
    nc = t.loc["northern_corridor"]
    assert nc["russia_km"] == nc["length_km_by_country"]["RUS"]
    assert nc["belarus_km"] == pytest.approx(nc["length_km_by_country"]["BLR"], abs=0.05)
    assert nc["belarus_km"] > 0 and t.loc["titr_main", "belarus_km"] == 0
    assert t.loc["sea_suez", "km_sea"] > 19_000 and t.loc["sea_suez", "km_rail"] == 0
    assert list(t.sort_values("russia_km").index)[-1] == "northern_corridor"
    for col in ("transit_days_low", "transit_days_high", "border_crossings_count",
                "traced_share"):  # fmt: skip
        assert t[col].dtype.kind in "if", col
    assert (t["transit_days_low"] <= t["transit_days_high"]).all()


def test_the_comparison_labels_match_the_codes_they_sum() -> None:
    from geo.render.panels import STATS_COLUMNS, stats_html
    from geo.render.style import ROUTE_FIELDS

    t = geo.reference_stats(["northern_corridor", "titr_main"])
    nc = t.iloc[0]
    by = nc["length_km_by_country"]
    assert nc["russia_belarus_km"] == pytest.approx(by["RUS"] + by["BLR"], abs=0.1)
    header = {k: h for k, h, _ in STATS_COLUMNS}
    assert header["russia_belarus_km"] == "RU+BY km" and "russia_km" not in header
    assert dict(ROUTE_FIELDS)["russia_km"] == "Russia (km)"  # RUS only, as computed
    html = stats_html(t, [0, 1])
    assert f"{nc['russia_belarus_km']:,.0f}" in html and "RU+BY km" in html
