"""`corridor route --near KM` (issue 17): the deposits near a route, by name, with distances."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from typer.testing import CliRunner

import geo
from geo.analysis.stats import EARTH_RADIUS_KM, deposits_near, distance_to_line_km
from geo.cli import app


def test_distance_to_a_line_on_the_sphere() -> None:
    line = shapely.LineString([(0, 0), (10, 0)])
    one_degree = np.pi / 180 * EARTH_RADIUS_KM
    d = distance_to_line_km(line, np.array([5.0, -1.0, 10.0]), np.array([1.0, 0.0, 0.0]))
    # abeam of the middle, beyond an end, on the line
    assert d == pytest.approx([one_degree, one_degree, 0.0], abs=0.01)


def test_nearness_agrees_with_the_distance_across_the_antimeridian() -> None:
    """A long traced line, points by a piece that crosses 180 degrees and near the buffer's edge.

    Every point within the buffer is near, every other is not; the nearness test (samples of the
    line in a k-d tree, the pieces only near the edge) and the distance are measured apart.
    """
    rng = np.random.default_rng(7)
    wiggle = np.c_[np.linspace(60.0, 80.0, 2000), 45 + np.cumsum(rng.normal(0, 0.02, 2000))]
    line = shapely.MultiLineString([wiggle, [(170, 60), (-170, 62), (-160, 10)]])
    lon = np.r_[rng.uniform(55, 85, 3000), rng.uniform(165, 195, 3000)]
    lon = np.where(lon > 180, lon - 360, lon)
    lat = np.r_[rng.uniform(40, 50, 3000), rng.uniform(5, 70, 3000)]
    km = distance_to_line_km(line, lon, lat)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
    for buffer_km in (5.0, 100.0):
        near = deposits_near(line, pts, buffer_km)
        assert 20 < near.sum() < len(lon) - 20
        assert (near == (km <= buffer_km)).all()
    # the piece over 180 degrees: 0.9 km and 20.5 km away, not most of the way round
    assert distance_to_line_km(line, np.array([179.9, -179.9]), np.array([61.4, 61.6])) == (
        pytest.approx([0.9, 20.5], abs=0.1)
    )


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
