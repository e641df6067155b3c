"""The supply table built down each market's search tree (issue 19): every deposit's legs are
its next node's legs with one leg put in front, and every row is still what `corridor route`
and its statistics say, to the bit.

A generated layer of 2,000 deposits on the real network; 200 of them, drawn at random, are
routed one by one with find_route (a search from the deposit, not from the market) under each
constraint set the table uses, and compared with their rows and legs."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from helpers import assert_row_matches_route

from geo.analysis.network import Network
from geo.analysis.routing import Leg, find_route, legs_between, make_constraints
from geo.analysis.stats import round_days
from geo.analysis.supply import (
    FREE_OF,
    NUMBERS,
    export_legs,
    exports,
    rounded,
    rounded_days,
    summarise_supply_route,
)
from geo.api import network as user_network
from geo.data.layers import load_layer
from geo.errors import RouteError

sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
from run import SEED, write_deposit_layer

MARKET = "yokohama_port"
SAMPLE = 200


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Network:
    path = tmp_path_factory.mktemp("tree") / "deposits_tree.geojson"
    write_deposit_layer(path, 2000, SEED + 7000)
    return user_network([load_layer(path)])


@pytest.fixture(scope="module")
def frame(generated: Network) -> pd.DataFrame:
    return exports(markets=[MARKET], avoid=["RUS"], network=generated)


@pytest.fixture(scope="module")
def sample(frame: pd.DataFrame) -> pd.DataFrame:
    # the layer's minerals (the bundled oil and gas fields go by their own pipelines, which
    # `corridor route` takes only with --commodity: tests/test_exports.py checks those)
    generated = frame[frame["deposit"].str.startswith("syn")]
    rng = np.random.default_rng(19)
    picked = rng.choice(len(generated), size=SAMPLE, replace=False)
    return generated.iloc[np.sort(picked)]


def same_leg(a: Leg, b: Leg) -> bool:
    """Every field equal, the geometry coordinate for coordinate."""
    fields = ("segment_id", "from_id", "to_id", "from_name", "to_name", "mode", "status",
              "corridor", "precision", "gauge_mm", "length_km", "passages", "access", "line",
              "fuel")  # fmt: skip
    return (
        all(getattr(a, f) == getattr(b, f) for f in fields)
        and list(a.km_by_country.items()) == list(b.km_by_country.items())
        and bool(shapely.equals_exact(a.geometry, b.geometry, tolerance=0.0))
    )


def test_sample_rows_equal_find_route_and_route_stats(generated: Network, sample) -> None:
    # the row's numbers, countries and transits as route_stats gives them, and its path and
    # main corridor those of the route find_route finds from the deposit
    c = make_constraints(["RUS"])
    reached = 0
    for row in sample.itertuples():
        r = assert_row_matches_route(row, generated, c)
        if r is None:
            continue
        reached += 1
        want = summarise_supply_route(r.legs)
        assert (row.path, row.main_corridor, row.transits_china) == (
            want.path, want.main_corridor, want.transits_china)  # fmt: skip
    assert reached >= SAMPLE * 0.9


@pytest.mark.parametrize("key", ["shortest", *FREE_OF])
def test_sample_numbers_under_every_constraint_set(generated: Network, sample, key: str) -> None:
    # the unconstrained route and the Russia-free (and Russia-and-China-free) ones, each
    # found from the deposit and summarised whole, equal the row's columns to the bit
    avoid = {"shortest": [], **{k: ["RUS", *codes] for k, codes in FREE_OF.items()}}[key]
    c = make_constraints(avoid)
    prefix = "shortest_" if key == "shortest" else f"{key}_free_"
    blocked = 0
    for row in sample.itertuples():
        got = [getattr(row, f"{prefix}{k}") for k in NUMBERS]
        try:
            r = find_route(generated, row.deposit, MARKET, constraints=c)
        except RouteError as e:
            blocked += 1
            assert all(v is None or v != v for v in got)
            if key != "shortest":
                assert getattr(row, f"{key}_free_blocked") == str(e)
            continue
        want = summarise_supply_route(r.legs)
        assert got == [getattr(want, k) for k in NUMBERS], row.deposit
    assert blocked < SAMPLE


@pytest.mark.parametrize("avoid", [[], ["RUS"], ["RUS", "CHN"]])
def test_legs_built_down_the_tree_are_those_routing_joins(
    generated: Network, sample, avoid: list[str]
) -> None:
    # each deposit's network legs, built from its next node's by putting one leg in front,
    # equal the legs routing finds from the deposit's node and joins (coalesce) itself
    c = make_constraints(avoid)
    legs = export_legs(markets=[MARKET], avoid={"set": avoid}, network=generated)
    joined = 0
    for dep in sample["deposit"]:
        found = legs[(dep, MARKET)]["set"]
        if isinstance(found, str):
            continue
        access, network_legs = found[0], found[1:]
        want = legs_between(generated, [access.to_id, MARKET], c)
        assert len(network_legs) == len(want), dep
        assert all(same_leg(a, b) for a, b in zip(network_legs, want, strict=True)), dep
        joined += sum(".." in leg.segment_id for leg in network_legs)
    assert joined > 0  # junction legs were joined, so the first-run rebuild was exercised


def test_vectorised_rounding_is_pythons_to_the_bit() -> None:
    rng = np.random.default_rng(3)
    halves = (np.arange(-20000, 20000) + 0.5) / 10
    values = np.concatenate([
        rng.uniform(-1e5, 1e5, 20000), rng.uniform(0, 2, 20000), halves,
        np.nextafter(halves, np.inf), np.nextafter(halves, -np.inf), np.arange(-50, 50) + 0.5,
        [0.0, -0.0, 0.04, -0.04, 0.05, 2.675, 1e17, -1e300, np.inf, -np.inf, np.nan],
    ])  # fmt: skip

    def bits(a: np.ndarray) -> np.ndarray:
        return np.where(np.isnan(a), -1, a.view(np.int64))

    for nd in (0, 1, 2):
        want = np.array([round(v, nd) for v in values.tolist()])
        assert (bits(rounded(values, nd)) == bits(want)).all(), nd
    want = np.array([round_days(v) for v in values.tolist()])
    assert (bits(rounded_days(values)) == bits(want)).all()
