"""`--alternatives N`: routes that differ materially, each with its statistics (issue 17)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

import geo
from geo.analysis.network import load_network
from geo.analysis.routing import (
    MAX_SHARED,
    find_alternatives,
    make_constraints,
    network_pairs_km,
    shared_share,
)
from geo.analysis.stats import summarise_legs
from geo.cli import app
from geo.errors import RouteError


def cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, list(args))
    assert "Traceback" not in r.stdout + r.stderr
    return r.exit_code, r.stdout, r.stderr


def test_alternatives_differ_materially_and_keep_their_real_km() -> None:
    net = load_network()
    routes = find_alternatives(net, "Tashkent", "Rotterdam", n=3,
                               constraints=make_constraints(["RUS", "IRN"]))  # fmt: skip
    assert len(routes) == 3
    kms = [sum(leg.length_km for leg in r.legs) for r in routes]
    assert kms[0] == min(kms) and kms == sorted(kms)  # the shortest first, then by km
    best = geo.route("Tashkent", "Rotterdam", avoid="RUS,IRN").attrs["stats"]["length_km"]
    assert round(kms[0], 1) == best
    shares = [network_pairs_km(r.legs, net) for r in routes]
    for i, a in enumerate(shares):
        for b in shares[:i]:
            assert shared_share(a, b) <= MAX_SHARED
    # different ways, not one path with a parallel track swapped: the countries differ too
    assert len({tuple(r.path) for r in routes}) == 3


def test_alternatives_api_cli_json_and_csv() -> None:
    frames = geo.alternatives("Almaty", "Istanbul", 3, avoid="RUS")
    assert [f.attrs["stats"]["transits_russia"] for f in frames] == [False] * 3
    assert "IRN" in {c for f in frames for c in f.attrs["stats"]["countries"]}
    code, out, _ = cli("route", "Almaty", "Istanbul", "--avoid", "RUS", "--alternatives", "3",
                       "--format", "json")  # fmt: skip
    data = json.loads(out)
    assert code == 0 and isinstance(data, list) and len(data) == 3
    assert [d["length_km"] for d in data] == [f.attrs["stats"]["length_km"] for f in frames]
    code, out, _ = cli("route", "Almaty", "Istanbul", "--avoid", "RUS", "--alternatives", "3",
                       "--format", "csv")  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["route"] for r in rows] == ["1", "2", "3"]
    assert all(r["constraints"].startswith("avoiding RUS") for r in rows)


def test_alternatives_refuse_zero_and_one_is_the_route() -> None:
    code, _, err = cli("route", "Almaty", "Istanbul", "--alternatives", "0")
    assert code != 0 and "--alternatives" in err
    with pytest.raises(RouteError, match="give 1 or more"):
        find_alternatives(load_network(), "Almaty", "Istanbul", n=0)
    one = geo.alternatives("Almaty", "Istanbul", 1)
    assert len(one) == 1
    assert one[0].attrs["stats"] == geo.route("Almaty", "Istanbul").attrs["stats"]


def test_alternatives_to_a_seaport_off_the_network_keep_its_sea_leg() -> None:
    # Piraeus is no node: every route sails its last leg from a network port to port:GRPIR
    frames = geo.alternatives("Almaty", "Piraeus", 3, avoid="RUS")
    assert len(frames) >= 2
    best = geo.route("Almaty", "Piraeus", avoid="RUS").attrs["stats"]
    assert frames[0].attrs["stats"]["length_km"] == best["length_km"]
    for f in frames:
        assert f.iloc[-1]["to"] == "Piraeus" and f.iloc[-1]["mode"] == "sea"
        assert not f.attrs["stats"]["transits_russia"]
    paths = [tuple(f.attrs["path"]) for f in frames]
    assert len(set(paths)) == len(paths)
    # port to port by sea: one route, not an error
    assert len(geo.alternatives("Piraeus", "Port of Poti", 3)) == 1


def test_alternatives_after_the_best_come_in_the_order_of_by() -> None:
    net = load_network()
    c = make_constraints(["RUS"], by="days")
    routes = find_alternatives(net, "Almaty", "Istanbul", n=3, constraints=c)
    days = [summarise_legs(r.legs).transit_days["typical"] for r in routes]
    assert len(routes) == 3 and days == sorted(days)
