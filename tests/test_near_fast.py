"""Deposits near a route, the fast way (issue 19) against a brute-force reference.

The fast path finds candidates in a k-d tree of the points (kept per point set), settles
most of them against thinned samples of the line, and measures exactly only where it must;
the reference here measures every point against every piece of the line, on the sphere, with
its own formula (atan2, accurate at small angles). The cases are the hostile ones: points
exactly on the buffer's edge, lines over the antimeridian and the pole, empty frames and
geometries, duplicate points, lines of one vertex, frames changed in place.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.analysis.stats import (
    EARTH_RADIUS_KM,
    deposits_near,
    distance_to_line_km,
    nearby_deposits,
    reference_routes,
    round_tenths,
)
from geo.render.style import route_value

TOLERANCE_KM = (
    1e-3  # the code's arccos near 1 is good to about 1e-4 km; the reference's atan2 better
)


def unit(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lo, la = np.radians(lon), np.radians(lat)
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


def angle(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.arctan2(np.linalg.norm(np.cross(u, v), axis=-1), np.sum(u * v, axis=-1))


def brute_km(line: shapely.Geometry, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Km from each point to the line: every point against every piece."""
    parts = list(line.geoms) if hasattr(line, "geoms") else [line]
    coords = [np.asarray(part.coords) for part in parts]
    a = unit(*np.concatenate([c[:-1] for c in coords]).T)[None]  # (1, pieces, 3)
    b = unit(*np.concatenate([c[1:] for c in coords]).T)[None]
    p = unit(lon, lat)[:, None]  # (points, 1, 3)
    n = np.cross(a, b)
    norm = np.linalg.norm(n, axis=-1, keepdims=True)
    n = np.divide(n, norm, out=np.zeros_like(n), where=norm > 1e-12)
    ends = np.minimum(angle(p, a), angle(p, b))
    # the foot of the perpendicular lies on the arc: between A and B in the arc's plane
    on = (np.sum(p * np.cross(n, a), -1) >= 0) & (np.sum(p * np.cross(b, n), -1) >= 0)
    on &= norm[..., 0] > 1e-12
    foot = p - np.sum(p * n, -1, keepdims=True) * n
    # a point at the plane's pole is a quarter circle from every point of it
    perp = np.where(np.linalg.norm(foot, axis=-1) < 1e-12, math.pi / 2, angle(p, foot))
    return np.asarray(np.where(on, np.minimum(perp, ends), ends).min(axis=1) * EARTH_RADIUS_KM)


def frame(lon: np.ndarray, lat: np.ndarray, ids: list[str] | None = None) -> gpd.GeoDataFrame:
    ids = ids or [f"d{i:04d}" for i in range(len(lon))]
    comms = [["copper", "gold"] if i % 3 else ["uranium"] for i in range(len(lon))]
    return gpd.GeoDataFrame({"id": ids, "name": [f"Deposit {i}" for i in ids], "commodities": comms},
                            geometry=gpd.points_from_xy(lon, lat), crs=4326)  # fmt: skip


def check_against_brute_force(line: shapely.Geometry, lon: np.ndarray, lat: np.ndarray,
                              buffer_km: float) -> None:  # fmt: skip
    """Nearness, distances and the nearby list agree with the reference (edges aside)."""
    pts = frame(lon, lat)
    truth = brute_km(line, lon, lat)
    clear = np.abs(truth - buffer_km) > TOLERANCE_KM  # points on the edge may go either way
    near = deposits_near(line, pts, buffer_km)
    assert (near[clear] == (truth[clear] <= buffer_km)).all()
    km = distance_to_line_km(line, lon, lat)
    assert km == pytest.approx(truth, abs=TOLERANCE_KM)
    stats = nearby_deposits(line, pts, buffer_km)
    assert stats["count"] == int(near.sum())
    assert stats["ids"] == sorted(pts["id"][near])
    listed = stats["list"]
    assert [d["km"] for d in listed] == sorted(d["km"] for d in listed)
    by_id = dict(zip(pts["id"], km, strict=True))
    assert all(d["km"] == round(float(by_id[d["id"]]), 1) for d in listed)
    # the list cut short is the whole list's beginning, the counts still whole
    for limit in (0, 3, len(listed) + 1):
        short = nearby_deposits(line, pts, buffer_km, limit=limit)
        assert short == {**stats, "list": listed[:limit], "list_limit": limit}


def test_points_exactly_on_the_edge_of_the_buffer() -> None:
    # along the equator a point's distance is its latitude: these lie on the edge itself, or
    # a float's width either side of it, where the float noise of either measure decides
    line = shapely.LineString([(0.0, 0.0), (10.0, 0.0)])
    for buffer_km in (1.0, 50.0, 100.0, 999.0):
        edge = math.degrees(buffer_km / EARTH_RADIUS_KM)
        lon = np.array([5.0, 5.0, 2.5, 7.5, 0.0, 10.0, 5.0, 5.0])
        lat = np.array([edge, -edge, np.nextafter(edge, 0), -np.nextafter(edge, 90), edge, -edge,
                        edge * 1.001, edge * 0.999])  # fmt: skip
        near = deposits_near(line, frame(lon, lat), buffer_km)
        assert near[7] and not near[6]
        # one answer for the mask and the list, whatever the noise said
        stats = nearby_deposits(line, frame(lon, lat), buffer_km)
        assert stats["ids"] == sorted(f"d{i:04d}" for i in np.flatnonzero(near))
        check_against_brute_force(line, lon, lat, buffer_km)


def test_a_line_over_the_antimeridian() -> None:
    rng = np.random.default_rng(3)
    line = shapely.MultiLineString(
        [[(170.0, 60.0), (180.0, 61.0)], [(-180.0, 61.0), (-170.0, 62.0)]]
    )
    lon = rng.uniform(160, 200, 3000)
    lon = np.where(lon > 180, lon - 360, lon)
    lat = rng.uniform(55, 67, 3000)
    for buffer_km in (5.0, 100.0, 400.0):
        check_against_brute_force(line, lon, lat, buffer_km)


def test_a_line_over_the_pole_and_points_at_the_pole() -> None:
    rng = np.random.default_rng(4)
    line = shapely.LineString([(0.0, 88.0), (180.0, 88.0)])  # the great circle over the pole
    lon = np.r_[rng.uniform(-180, 180, 2000), 0.0, 90.0, -180.0]
    lat = np.r_[rng.uniform(84, 90, 2000), 90.0, 90.0, 90.0]
    for buffer_km in (10.0, 100.0):
        check_against_brute_force(line, lon, lat, buffer_km)
    assert deposits_near(line, frame(lon, lat), 1.0)[-3:].all()  # the pole lies on the line


def test_empty_frames_and_points_without_coordinates() -> None:
    line = shapely.LineString([(60.0, 45.0), (70.0, 46.0)])
    empty = frame(np.zeros(0), np.zeros(0))
    assert deposits_near(line, empty, 100.0).tolist() == []
    none = nearby_deposits(line, empty, 100.0, limit=25)
    assert none == {"count": 0, "by_commodity": {}, "ids": [], "buffer_km": 100.0, "list": [],
                    "list_limit": 25}  # fmt: skip
    pts = frame(np.array([65.0, 65.0, 65.0]), np.array([45.5, 45.5, 45.5]))
    pts.loc[1, "geometry"] = shapely.Point()  # an empty point and a missing one are never near
    pts.loc[2, "geometry"] = None
    assert deposits_near(line, pts, 100.0).tolist() == [True, False, False]
    assert nearby_deposits(line, pts, 100.0)["ids"] == ["d0000"]


def test_duplicate_points_keep_the_frames_order_among_equals() -> None:
    line = shapely.LineString([(60.0, 45.0), (70.0, 46.0)])
    lon, lat = np.array([65.0, 65.0, 65.0, 66.0, 65.0]), np.array([45.7, 45.7, 45.7, 46.2, 45.7])
    pts = frame(lon, lat, ids=["b", "a", "b", "c", "a"])
    stats = nearby_deposits(line, pts, 100.0)
    assert [d["id"] for d in stats["list"][:4]] == ["a", "a", "b", "b"]
    assert stats["count"] == 5 and stats["ids"] == ["a", "a", "b", "b", "c"]
    assert stats["by_commodity"] == {"copper": 3, "gold": 3, "uranium": 2}
    check_against_brute_force(line, lon, lat, 100.0)


def test_a_line_of_one_vertex_is_a_point() -> None:
    rng = np.random.default_rng(5)
    line = shapely.LineString([(66.0, 47.0), (66.0, 47.0)])
    lon, lat = rng.uniform(64, 68, 500), rng.uniform(46, 48, 500)
    check_against_brute_force(line, lon, lat, 100.0)
    two = shapely.MultiLineString([[(66.0, 47.0), (66.0, 47.0)], [(60.0, 40.0), (60.0, 40.0)]])
    check_against_brute_force(two, np.r_[lon, rng.uniform(58, 62, 500)],
                              np.r_[lat, rng.uniform(39, 41, 500)], 100.0)  # fmt: skip


def test_a_frame_changed_in_place_is_measured_again() -> None:
    line = shapely.LineString([(60.0, 45.0), (70.0, 46.0)])
    pts = frame(np.array([65.0, 65.0]), np.array([45.5, 30.0]))
    assert deposits_near(line, pts, 100.0).tolist() == [True, False]
    values = pts.geometry.values
    pts.loc[0, "geometry"] = shapely.Point(65.0, 30.0)  # the same array, new coordinates
    pts.loc[1, "geometry"] = shapely.Point(65.0, 45.5)
    assert deposits_near(line, pts, 100.0).tolist() == [False, True]
    assert nearby_deposits(line, pts, 100.0)["ids"] == ["d0001"]
    del values


lons = st.floats(-180, 180, allow_nan=False)
lats = st.floats(-89.9, 89.9, allow_nan=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    vertices=st.lists(st.tuples(lons, lats), min_size=2, max_size=6),
    centre=st.tuples(lons, lats),
    spread=st.floats(0.5, 20.0),
    buffer_km=st.sampled_from([0.5, 10.0, 100.0, 600.0]),
    seed=st.integers(0, 2**16),
)
def test_fast_nearness_matches_brute_force(vertices: list[tuple[float, float]],
                                           centre: tuple[float, float], spread: float,
                                           buffer_km: float, seed: int) -> None:  # fmt: skip
    """Random lines (any length, over the antimeridian or a pole) and points around them."""
    rng = np.random.default_rng(seed)
    line = shapely.LineString(vertices)
    # half the points about the line's vertices (many near the edge), half about a centre
    at = rng.integers(0, len(vertices), 150)
    vx, vy = np.asarray(vertices).T
    lon = np.r_[vx[at] + rng.normal(0, spread, 150), centre[0] + rng.normal(0, spread, 150)]
    lat = np.r_[vy[at] + rng.normal(0, spread / 4, 150), centre[1] + rng.normal(0, spread, 150)]
    lon, lat = (lon + 180) % 360 - 180, np.clip(lat, -90, 90)
    check_against_brute_force(line, lon, lat, buffer_km)


def test_tenths_are_rounded_as_python_rounds_them() -> None:
    rng = np.random.default_rng(6)
    values = np.r_[rng.uniform(0, 2000, 20000), np.arange(0, 200) / 20 + 0.0,
                   np.arange(0, 200) * 0.05, [0.15, 0.25, 0.35, 1e-9, 0.05, 2.675]]  # fmt: skip
    assert round_tenths(values).tolist() == [round(float(v), 1) for v in values]


def test_a_popup_counts_a_list_cut_short() -> None:
    items = [{"id": f"d{i}", "name": f"Deposit {i}", "km": float(i), "commodities": []}
             for i in range(25)]  # fmt: skip
    text = route_value("deposits_nearby", {"count": 100, "list": items, "list_limit": 25})
    assert text.startswith("100 (") and "and 75 more (all in the JSON output)" in text
    short = route_value("deposits_nearby", {"count": 100, "list": items[:5], "list_limit": 5})
    assert "and 95 more" in short and "Deposit 4" in short


def test_reference_routes_with_a_short_list_say_so_and_keep_their_counts() -> None:
    whole = reference_routes(["titr_main", "northern_corridor"])
    short = reference_routes(["titr_main", "northern_corridor"], nearby_limit=2)
    for a, b in zip(whole["deposits_nearby"], short["deposits_nearby"], strict=True):
        assert a["count"] > 2 and "list_limit" not in a
        assert b == {**a, "list": a["list"][:2], "list_limit": 2}
    assert (whole["deposits_nearby_count"] == short["deposits_nearby_count"]).all()
