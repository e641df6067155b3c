"""Printing a route never copies its statistics (pandas deep-copies attrs into derived frames)."""

from __future__ import annotations

import io
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
