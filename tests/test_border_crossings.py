"""What counts as a border (issue 17): a change of country on land or at a ferry's ports, never
a sea leg."""

from __future__ import annotations

import geo


def crossings(*args: str, **kw: object) -> list[tuple[str, str]]:
    legs = geo.route(*args, **kw)  # type: ignore[arg-type]
    return [(c["from"], c["to"]) for c in legs.attrs["stats"]["border_crossings"]["list"]]


def test_a_sea_route_crosses_no_border() -> None:
    # Poti - Yokohama by sea passes Turkish, Egyptian and other waters and the Suez Canal
    assert crossings("Poti", "Yokohama", modes="sea") == []
    legs = geo.route("Poti", "Yokohama", modes="sea")
    assert "EGY" in legs.attrs["stats"]["countries"]  # the canal is still passed


def test_the_caspian_rail_ferry_lands_at_a_border_post() -> None:
    legs = geo.route("Beyneu", "Baku")
    assert "ferry" in set(legs["mode"])
    assert crossings("Beyneu", "Baku") == [("KAZ", "AZE")]


def test_arriving_by_sea_is_a_port_call_not_a_crossing() -> None:
    # Inkai to Yokohama avoiding Russia and China: by rail to Iran's coast, then by sea
    pairs = crossings("deposit:inkai", "Yokohama", avoid="RUS,CHN")
    assert pairs and all(b != "JPN" for _, b in pairs)
    assert all(a != "EGY" and b != "EGY" for a, b in pairs)


def test_a_border_sliver_is_not_a_visit() -> None:
    # At Petukhovo the traced track leaves Kazakhstan for 0.15 km of Russia and 0.09 km of
    # Kazakhstan before it enters Russia: one crossing (SLIVER_KM), not three
    from geo.analysis.stats import reference_routes

    row = reference_routes(["northern_corridor"]).iloc[0]
    pairs = [(b["from"], b["to"]) for b in row["border_crossings"]["list"]]
    assert pairs[:2] == [("CHN", "KAZ"), ("KAZ", "RUS")]
    assert pairs.count(("KAZ", "RUS")) == 1 and ("RUS", "KAZ") not in pairs
