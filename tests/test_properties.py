"""Property tests (hypothesis) over the real bundled network and random queries."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.analysis.network import load_network
from geo.analysis.routing import find_route, make_constraints
from geo.analysis.stats import route_stats
from geo.data.schema import MODES
from geo.errors import RouteError

NET = load_network()
NODES = sorted(n for n in NET.graph.nodes if NET.graph.degree(n) > 0)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

pairs = st.tuples(st.sampled_from(NODES), st.sampled_from(NODES)).filter(lambda p: p[0] != p[1])
avoids = st.lists(st.sampled_from(["RUS", "CHN", "IRN", "KAZ", "suez", "bosporus", "hormuz"]),
                  max_size=2, unique=True)  # fmt: skip
modes = st.sets(st.sampled_from(MODES), min_size=1).map(sorted)
statuses = st.sampled_from([None, ["all"]])


def attempt(a: str, b: str, avoid: list[str], mode: list[str] | None, status: list[str] | None):
    try:
        r = find_route(NET, a, b, constraints=make_constraints(avoid, mode, status))
    except RouteError as e:
        msg = str(e)
        assert msg and "\n" not in msg
        return None
    return r


@SETTINGS
@given(pairs, avoids, modes, statuses)
def test_route_invariants(pair, avoid, mode, status) -> None:
    r = attempt(*pair, avoid, mode, status)
    if r is None:
        return
    s = route_stats(r, network=NET)
    assert r.legs and s["length_km"] > 0  # never an empty or 0 km route
    assert s["length_km"] == pytest.approx(sum(leg.length_km for leg in r.legs), abs=0.2)
    assert sum(s["length_km_by_country"].values()) + s["sea_km"] == pytest.approx(
        s["length_km"], abs=0.5
    )
    assert sum(s["length_km_by_mode"].values()) == pytest.approx(s["length_km"], abs=0.5)
    assert set(s["length_km_by_mode"]) <= set(mode)
    for leg_a, leg_b in zip(r.legs, r.legs[1:], strict=False):
        assert leg_a.to_id == leg_b.from_id  # legs chain
    if "RUS" in avoid:
        assert s["russia_km"] == 0 and not s["transits_russia"]
    for code in avoid:
        if code.isupper():
            assert code not in s["countries"]
        else:
            assert code not in s["chokepoints"]
    low, high = s["transit_days"]["low"], s["transit_days"]["high"]
    assert 0 < low <= high
    assert sum(s["precision_share"].values()) == pytest.approx(1.0, abs=0.01)


@SETTINGS
@given(pairs)
def test_reversed_route_has_the_same_length(pair) -> None:
    a, b = pair
    fwd = attempt(a, b, [], None, ["all"])
    if fwd is None:
        return
    back = attempt(b, a, [], None, ["all"])
    assert back is not None
    assert sum(x.length_km for x in back.legs) == pytest.approx(
        sum(x.length_km for x in fwd.legs), abs=0.1
    )


@SETTINGS
@given(st.sampled_from(NODES))
def test_impossible_constraint_is_a_clear_error(node) -> None:
    country = NET.graph.nodes[node]["country"]
    other = next(n for n in NODES if NET.graph.nodes[n]["country"] != country)
    with pytest.raises(RouteError, match=f"lies in {country}|no route from"):
        find_route(NET, other, node, constraints=make_constraints([country]))
