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
