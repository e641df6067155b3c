"""`corridor route --near KM` (issue 17): the deposits near a route, by name, with distances."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from typer.testing import CliRunner

import geo
from geo.analysis.stats import EARTH_RADIUS_KM, distance_to_line_km
from geo.cli import app


def test_distance_to_a_line_on_the_sphere() -> None:
    line = shapely.LineString([(0, 0), (10, 0)])
    one_degree = np.pi / 180 * EARTH_RADIUS_KM
    d = distance_to_line_km(line, np.array([5.0, -1.0, 10.0]), np.array([1.0, 0.0, 0.0]))
    # abeam of the middle, beyond an end, on the line
    assert d == pytest.approx([one_degree, one_degree, 0.0], abs=0.01)


def test_nearby_deposits_are_named_with_distances_within_the_buffer() -> None:
    legs = geo.route("Almaty", "Aktau", buffer_km=20)
    near = legs.attrs["stats"]["deposits_nearby"]
    assert near["count"] == len(near["list"]) and near["buffer_km"] == 20
    kms = [d["km"] for d in near["list"]]
    assert kms == sorted(kms) and all(0 <= k <= 20 for k in kms)
    assert {"irkol", "karamurun"} <= {d["id"] for d in near["list"]}
    assert all(d["name"] and d["commodities"] for d in near["list"])


def test_the_cli_prints_the_list() -> None:
    r = CliRunner().invoke(app, ["route", "Almaty", "Aktau", "--near", "20"])
    assert r.exit_code == 0
    assert "Deposits within 20 km of the route" in r.stdout and "Irkol" in r.stdout
