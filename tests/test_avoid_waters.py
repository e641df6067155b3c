"""Avoiding a sea (issue 17): --avoid caspian / black_sea blocks every ferry and sea leg on it
and nothing else."""

from __future__ import annotations

import pytest
import shapely

import geo
from geo.analysis.network import load_network
from geo.analysis.routing import allowed_subgraph, make_constraints, on_water
from geo.errors import RouteError


def test_almaty_istanbul_avoiding_russia_and_the_caspian_goes_through_iran() -> None:
    legs = geo.route("Almaty", "Istanbul", avoid="RUS,caspian")
    stats = legs.attrs["stats"]
    assert "IRN" in stats["countries"] and "RUS" not in stats["countries"]
    assert not any(on_water(g, "caspian") for g, m in zip(legs.geometry, legs["mode"],
                                                          strict=True) if m != "rail")  # fmt: skip
    assert "caspian" in legs.attrs["query"]["constraints"]


def test_avoiding_the_caspian_blocks_its_ferries_only() -> None:
    net = load_network()
    c = make_constraints("caspian")

    def edges(c: object) -> dict[str, dict]:
        return {e["edge"]["id"]: e["edge"] for _, _, e in allowed_subgraph(net, c).edges(data=True)}

    every, kept = edges(make_constraints()), edges(c)
    gone = {i for i in every if i not in kept}
    caspian = {i for i, e in every.items()
               if e["mode"] in ("ferry", "sea") and on_water(e["geometry"], "caspian")}  # fmt: skip
    assert caspian and gone == caspian
    # the Black Sea and Lake Van ferries stay
    ferries = {e["edge"]["name"] for _, _, e in allowed_subgraph(net, c).edges(data=True)
               if e["edge"]["mode"] == "ferry"}  # fmt: skip
    assert any("Van" in n for n in ferries) and any("Constan" in n for n in ferries)


def test_on_water_boxes() -> None:
    assert on_water(shapely.LineString([(51.2, 43.6), (49.4, 40.0)]), "caspian")  # Aktau-Alat
    assert on_water(shapely.LineString([(41.6, 42.1), (28.6, 44.2)]), "black_sea")  # Poti-Constanța
    # Piraeus - Istanbul (Haydarpaşa, on the Marmara) never enters the Black Sea
    assert not on_water(shapely.LineString([(23.6, 37.9), (26.4, 40.2), (29.0, 41.0)]), "black_sea")


def test_an_unknown_sea_is_refused_with_a_suggestion() -> None:
    with pytest.raises(RouteError, match=r"or sea \(caspian, black_sea\); did you mean .*caspian"):
        make_constraints("caspain")
