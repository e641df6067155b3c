"""Printing a route never copies its statistics (pandas deep-copies attrs into derived frames)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from rich.console import Console

from geo import api
from geo.report import attrs_set_aside, print_route, route_json


class _NoCopy:
    """An attrs value that fails the test when pandas deep-copies it."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        raise AssertionError("the route's attrs were deep-copied")


@pytest.mark.parametrize("fmt", ["json", "table", "csv"])
def test_printing_a_route_does_not_copy_its_statistics(fmt: str) -> None:
    legs = api.route("Almaty", "Tashkent")
    guard = _NoCopy()
    legs.attrs["guard"] = guard
    data = route_json(legs)
    assert data["legs"] and data["length_km"] == legs.attrs["stats"]["length_km"]
    print_route(legs, fmt, Console(file=io.StringIO(), width=200))
    assert legs.attrs["guard"] is guard  # put back


def test_attrs_come_back_after_an_error() -> None:
    legs = api.route("Almaty", "Tashkent")
    stats = legs.attrs["stats"]
    with pytest.raises(KeyError), attrs_set_aside(legs):
        assert legs.attrs == {}
        legs.drop(columns="no such column")
    assert legs.attrs["stats"] is stats


@pytest.mark.parametrize("args", [["--format", "table"], ["--format", "csv"],
                                  ["--format", "markdown"], ["--alternatives", "2"],
                                  ["--alternatives", "2", "--format", "csv"]])  # fmt: skip
def test_outputs_that_count_deposits_print_the_same_without_their_list(
    args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from geo.cli import app

    runner = CliRunner()
    cmd = ["route", "Almaty", "Aktau", *args]
    asked: list[Any] = []
    real_route, real_alts = api.route, api.alternatives

    def spy(real: Any) -> Any:
        def f(*a: Any, **kw: Any) -> Any:
            asked.append(kw.get("nearby_limit"))
            return real(*a, **kw)

        return f

    monkeypatch.setattr(api, "route", spy(real_route))
    monkeypatch.setattr(api, "alternatives", spy(real_alts))
    fast = runner.invoke(app, cmd)
    assert asked == [0]  # the CLI asked for no list
    monkeypatch.setattr(
        api, "route", lambda *a, **kw: real_route(*a, **{**kw, "nearby_limit": None})
    )
    monkeypatch.setattr(api, "alternatives",
                        lambda *a, **kw: real_alts(*a, **{**kw, "nearby_limit": None}))  # fmt: skip
    full = runner.invoke(app, cmd)
    assert fast.exit_code == full.exit_code == 0
    assert fast.stdout == full.stdout
    assert "deposits" in fast.stdout


def test_json_and_near_keep_the_whole_list() -> None:
    from typer.testing import CliRunner

    from geo.cli import app

    runner = CliRunner()
    r = runner.invoke(app, ["route", "Almaty", "Aktau", "--format", "json"])
    data = json.loads(r.stdout)
    dn = data["deposits_nearby"]
    assert "list_limit" not in dn and len(dn["list"]) == dn["count"] > 0
    near = runner.invoke(app, ["route", "Almaty", "Aktau", "--near", "100"])
    assert f"Deposits within 100 km of the route ({dn['count']})" in near.stdout
