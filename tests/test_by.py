"""`--by km|days|cost|co2`: what a route minimises (issue 17)."""

from __future__ import annotations

import pytest

import geo
from geo.analysis.routing import make_constraints
from geo.errors import RouteError


def typical(legs: object, key: str) -> float:
    return float(legs.attrs["stats"][key]["typical"])  # type: ignore[attr-defined]


def test_a_seaport_to_japan_goes_by_sea_by_days_and_by_cost_not_overland() -> None:
    km = geo.route("Bandar Abbas", "Yokohama")
    days = geo.route("Bandar Abbas", "Yokohama", by="days")
    cost = geo.route("Bandar Abbas", "Yokohama", by="cost")
    assert "rail" in set(km["mode"])  # the shortest in km crosses Central Asia and China
    assert set(days["mode"]) == {"sea"} and set(cost["mode"]) == {"sea"}
    assert typical(days, "transit_days") < typical(km, "transit_days")
    assert typical(cost, "cost_usd_per_teu") < typical(km, "cost_usd_per_teu")
    assert days.attrs["stats"]["length_km"] > km.attrs["stats"]["length_km"]
    assert "fastest by typical days" in days.attrs["query"]["constraints"]


def test_each_weight_minimises_its_own_figure_against_the_km_route() -> None:
    for a, b in (("Almaty", "Istanbul"), ("Tashkent", "Rotterdam")):
        km = geo.route(a, b, avoid="RUS")
        for by, key in (("days", "transit_days"), ("cost", "cost_usd_per_teu"),
                        ("co2", "co2e_kg_per_teu")):  # fmt: skip
            other = geo.route(a, b, avoid="RUS", by=by)
            # the search charges transfers approximately: allow a small margin either way
            assert typical(other, key) <= typical(km, key) * 1.02, (a, b, by)
            assert other.attrs["stats"]["length_km"] >= km.attrs["stats"]["length_km"] - 0.1


def test_an_unknown_weight_is_refused_with_a_suggestion() -> None:
    with pytest.raises(RouteError, match="--by: 'dayz' is not one of km, days, cost, co2; did "
                                         "you mean days"):  # fmt: skip
        make_constraints(by="dayz")


def test_bypass_and_exports_take_by_and_show_extra_money_and_carbon() -> None:
    frame = geo.bypass(to="Istanbul", origins=["Almaty", "Tashkent"], by="days")
    assert frame.attrs["by"] == "days"
    assert {"extra_cost_usd_per_teu", "extra_co2e_kg_per_teu"} <= set(frame.columns)
    row = frame.set_index("origin").loc["almaty"] if "almaty" in set(frame["origin"]) else (
        frame.iloc[0])  # fmt: skip
    assert row["extra_cost_usd_per_teu"] is not None
    km = geo.exports(markets=["Yokohama"], commodities=["uranium"]).set_index("deposit")
    days = geo.exports(markets=["Yokohama"], commodities=["uranium"], by="days")
    for r in days.itertuples():
        if r.km is not None and km.loc[r.deposit, "km"] is not None:
            assert r.km >= km.loc[r.deposit, "km"] - 0.1  # the fastest is never shorter
