"""`corridor places` / geo.places: list and search what a route can start or end at (issue 17)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import geo
from geo.cli import app
from geo.errors import RouteError


def test_a_name_finds_its_node_and_ids_are_what_route_accepts() -> None:
    t = geo.places("Beyneu")
    assert t.iloc[0]["id"] == "beyneu" and t.iloc[0]["match"] in ("id", "name")
    assert geo.places("Бейнеу").iloc[0]["id"] == "beyneu"  # an alias in its own script
    dep = geo.places("Inkai", kind="deposit")
    assert dep.iloc[0]["id"] == "deposit:inkai" and set(dep["kind"]) == {"deposit"}
    legs = geo.route(dep.iloc[0]["id"], "Aktau")
    assert len(legs)


def test_seaports_are_searched_not_listed() -> None:
    assert "seaport" not in set(geo.places()["kind"])
    pir = geo.places("Piraeus")
    assert (pir["kind"] == "seaport").any() and "GRPIR" in pir["id"].tolist()


def test_a_misspelt_name_gets_suggestions() -> None:
    t = geo.places("Tokio")
    assert (t["match"] == "suggestion").all() and "Tokyo" in t["name"].tolist()


def test_filters_and_a_refused_query() -> None:
    kaz_ports = geo.places(kind="port", country="kaz")
    assert {"aktau_port", "kuryk_port"} <= set(kaz_ports["id"])
    assert set(kaz_ports["country"]) == {"KAZ"}
    with pytest.raises(RouteError, match="no letter or digit"):
        geo.places("--")
    r = CliRunner().invoke(app, ["places", "Tokio", "--limit", "3"])
    assert r.exit_code == 0 and "did you mean" in r.stdout


def test_a_search_without_matches_says_so_escaped() -> None:
    r = CliRunner().invoke(app, ["places", "[red]zz\x1b[31mqq"])
    assert r.exit_code == 1
    assert "no place matches '[red]zz\\x1b[31mqq'" in r.stderr and "\x1b" not in r.stderr
