"""Route statistics: the same numbers for ad-hoc and reference routes.

Every number comes from the legs of a :class:`~geo.analysis.routing.Route`; transit days come from
the sourced parameter table ``layers/transit.toml``; deposits nearby are measured on the sphere
(great-circle cross-track distance), never in degrees.
"""

from __future__ import annotations

import itertools
import math
import os
import tomllib
import weakref
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from ..data.bundled import bundled_dir
from ..data.collector import collector_paused
from ..data.countries import SEA
from ..data.values import is_missing
from ..errors import SpecError
from .costs import RouteQuery, route_co2e_kg, route_cost_usd, route_days
from .costs import crossing_days as crossing_days_span
from .costs import leg_days as leg_days_span
from .network import SLIVER_KM, Network, load_network
from .parameters import road_detour_factor
from .parameters import transit_parameters as transit_parameters  # re-exported for callers
from .routing import Constraints, Leg, Route, find_route, make_constraints

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius
DEFAULT_BUFFER_KM = 100.0
PARALLEL_MIN_POINTS = 100_000  # below this, threads cost more than they save
STAT_KEYS = (
    "length_km", "length_km_by_mode", "length_km_by_country", "countries", "transits_russia",
    "russia_km", "border_crossings", "gauge_breaks", "transshipments", "sea_km", "chokepoints",
    "transit_days", "cost_usd_per_teu", "co2e_kg_per_teu", "deposits_nearby", "precision_share",
    "access", "lines",
)  # fmt: skip
# Money and carbon per loaded TEU ({low, typical, high}, geo.analysis.costs; None where a leg
# carries no container, a pipeline's)
COST_KEYS = ("cost_usd_per_teu", "co2e_kg_per_teu")
FAR_FROM_RAIL_KM = 150.0  # a deposit's road to the rail network longer than this is flagged


def _merge_ordered(items: Sequence[tuple[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in items:
        out[k] = out.get(k, 0.0) + v
    return out


def trace_countries(legs: Sequence[Leg]) -> list[tuple[str, str]]:
    """The countries a route passes through, in order, each with where it is entered.

    Parameters
    ----------
    legs
        The route's legs in travel order.

    Returns
    -------
    list of (str, str)
        ``(alpha-3 code, where it is entered)`` for each run of one country, sea skipped: a
        country left and entered again appears twice, so each pair of neighbours is a border
        crossing.
    """
    runs: list[tuple[str, str]] = []
    for leg in legs:
        for code, at in _entered(leg):
            if not runs or runs[-1][0] != code:
                runs.append((code, at))
    return runs


def _entered(leg: Leg) -> Iterator[tuple[str, str]]:
    """The countries a leg runs in, in order, each with where it is entered (sea skipped)."""
    first = next((c for c in leg.km_by_country if c != SEA), None)
    for code in leg.km_by_country:
        if code != SEA:
            yield code, (leg.from_name if code == first
                         else f"between {leg.from_name} and {leg.to_name}")  # fmt: skip


def border_crossings(legs: Sequence[Leg]) -> list[dict[str, str]]:
    """The border crossings of a route: changes of country on land or at a ferry's ports.

    A sea leg is never a crossing: the countries whose waters or canal it passes are not
    entered, and arriving by sea in another country is a port call, not a border post (issue
    17: Poti - Yokohama by sea crosses no border). A rail or road leg counts each change of
    country; a rail ferry lands at a border post, so the country left before it and the one
    entered after it make a crossing (Kazakhstan to Azerbaijan across the Caspian).

    Parameters
    ----------
    legs
        The route's legs in travel order.

    Returns
    -------
    list of dict
        ``{"from", "to", "at"}`` per crossing, in travel order.
    """
    return [c for c, _ in _crossings(legs)]


def _crossings(legs: Sequence[Leg]) -> list[tuple[dict[str, str], str]]:
    """Each border crossing with the mode of the leg that makes it.

    A run of a country shorter than :data:`~geo.analysis.network.SLIVER_KM` between two runs
    of one other country is the 1:50m border's noise, not a visit: the track at Petukhovo
    leaves Kazakhstan for 0.15 km of Russia and 0.09 km of Kazakhstan before it enters Russia,
    which is one crossing, not three.
    """
    out: list[tuple[dict[str, str], str]] = []
    for part in _land_runs(legs):
        for a, b in itertools.pairwise(part):
            out.append(({"from": a[0], "to": b[0], "at": b[2]}, b[3]))
    return out


def _land_runs(legs: Sequence[Leg]) -> list[list[list[Any]]]:
    """Per stretch between sea legs, the runs [country, km, where entered, mode], slivers merged."""
    parts: list[list[list[Any]]] = [[]]
    for leg in legs:
        if leg.mode == "sea":
            parts.append([])  # the next country is reached by ship
            continue
        entered = dict(_entered(leg))
        for code, km in leg.km_by_country.items():
            if code == SEA:
                continue
            runs = parts[-1]
            if runs and runs[-1][0] == code:
                runs[-1][1] += km
            else:
                runs.append([code, km, entered.get(code, leg.from_name), leg.mode])
    for runs in parts:
        i = 1
        while i < len(runs) - 1:
            if runs[i][1] < SLIVER_KM and runs[i - 1][0] == runs[i + 1][0]:
                runs[i - 1][1] += runs[i][1] + runs[i + 1][1]
                del runs[i : i + 2]
                i = max(i - 1, 1)
            else:
                i += 1
    return [runs for runs in parts if runs]


def find_gauge_breaks(legs: Sequence[Leg]) -> list[str]:
    """Where the track gauge changes between rail legs.

    A sea leg resets the count (containers are transshipped anyway); road and ferry legs do not.

    Parameters
    ----------
    legs
        The route's legs in travel order.

    Returns
    -------
    list of str
        The name of the node at each break, in travel order.
    """
    breaks, last = [], None
    for leg in legs:
        if leg.mode == "sea":
            last = None
        elif leg.mode == "rail" and leg.gauge_mm is not None:
            if last is not None and last[0] != leg.gauge_mm:
                breaks.append(leg.from_name)
            last = (leg.gauge_mm, leg.to_name)
    return breaks


def _unit(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Unit vectors (..., 3) of points on the sphere."""
    lo, la = np.radians(lon), np.radians(lat)
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


def _arc_normals(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = np.cross(a, b)
    nn = np.linalg.norm(n, axis=-1, keepdims=True)
    degenerate = nn[:, 0] < 1e-12
    n = np.where(degenerate[:, None], 0.0, n / np.where(nn == 0, 1, nn))
    return n, degenerate


def _candidate_pairs(x: np.ndarray, y: np.ndarray, lo: np.ndarray,
                     hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(point, piece) index pairs with the point inside the piece's box ``lo``..``hi``.

    A grid of ``cell``-degree cells lists the pieces whose box touches each cell; a point then
    only meets the pieces of its own cell. Plain array arithmetic: no geometry is created per
    point, so a million points cost a few array passes. Pairs come sorted by point.
    """
    origin, top = lo.min(axis=0), hi.max(axis=0)
    cell = max(float(np.median(hi - lo)), 0.25)  # about one piece's box per cell
    c0 = ((lo - origin) / cell).astype(np.int64)
    c1 = ((hi - origin) / cell).astype(np.int64)
    nx_, ny_ = int(c1[:, 0].max()) + 1, int(c1[:, 1].max()) + 1
    # every (cell, piece) pair of each piece's box
    wx, wy = c1[:, 0] - c0[:, 0] + 1, c1[:, 1] - c0[:, 1] + 1
    per = wx * wy
    piece = np.repeat(np.arange(len(lo)), per)
    k = np.arange(per.sum()) - np.repeat(np.cumsum(per) - per, per)
    cid = (c0[piece, 0] + k // wy[piece]) * ny_ + c0[piece, 1] + k % wy[piece]
    piece_by_cell = piece[np.argsort(cid, kind="stable")]
    count = np.bincount(cid, minlength=nx_ * ny_)
    first = np.cumsum(count) - count
    # the points' cells; points outside every box never get a cell
    ip = np.flatnonzero((x >= origin[0]) & (x <= top[0]) & (y >= origin[1]) & (y <= top[1]))
    pc = ((x[ip] - origin[0]) / cell).astype(np.int64) * ny_
    pc += ((y[ip] - origin[1]) / cell).astype(np.int64)
    m = count[pc]
    has = m > 0
    ip, pc, m = ip[has], pc[has], m[has]
    pair_p = np.repeat(ip, m)
    within = np.arange(len(pair_p)) - np.repeat(np.cumsum(m) - m, m)
    pair_e = piece_by_cell[np.repeat(first[pc], m) + within]
    x, y = x[pair_p], y[pair_p]
    inside = (x >= lo[pair_e, 0]) & (x <= hi[pair_e, 0])
    inside &= (y >= lo[pair_e, 1]) & (y <= hi[pair_e, 1])
    return pair_p[inside], pair_e[inside]


def distance_to_line_km(geometry: shapely.Geometry, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Great-circle km from each point (lon ``x``, lat ``y``) to the nearest point of a line.

    Measured on the sphere like :func:`deposits_near`: the perpendicular to a piece's arc where
    its foot falls on the arc, else the nearer end. A point's nearest sample of the line (see
    :class:`_Pieces`) bounds its distance from above, and only the pieces with a sample within
    that bound plus half a step can be nearer: those are measured exactly. A point farther than
    :data:`SAMPLED_MAX_KM` is measured against every piece, a block of points at a time.
    """
    p = _unit(np.asarray(x, dtype=float), np.asarray(y, dtype=float))  # (points, 3)
    return np.asarray(_line_angles(_Pieces(geometry), p) * EARTH_RADIUS_KM, dtype=float)


def _line_angles(line: _Pieces, p: np.ndarray, within: float = math.inf) -> np.ndarray:
    """Angle in radians from each unit vector ``p`` to the nearest point of the line.

    A point's nearest sample bounds its distance from above (``bound``), and only the pieces
    with a sample within ``bound`` plus half a step can be nearer: those are measured exactly.
    A point farther than :data:`SAMPLED_MAX_KM` is measured against every piece, a block of
    points at a time. ``within``, when the caller knows it, is an angle every point lies
    within (the buffer): the tree then looks no farther than that plus a step.
    """
    out = np.full(len(p), np.inf)
    if not len(p):
        return out
    k = min(NEAREST_SAMPLES, len(line.tree.data))
    limit = float(_chord(within + 2 * line.half)) * (1 + 1e-9) if within < math.pi else np.inf
    dist, nearest = line.tree.query(p, k=k, distance_upper_bound=limit, workers=_workers(len(p)))
    dist, nearest = dist.reshape(len(p), k), nearest.reshape(len(p), k)
    bound = _angle(dist[:, 0])
    near = np.flatnonzero(bound * EARTH_RADIUS_KM <= SAMPLED_MAX_KM)
    if len(near):
        out[near] = _near_angles(line, p[near], dist[near], nearest[near])
    far = np.flatnonzero(~np.isfinite(out))
    block = max(1, (1 << 21) // len(line.a))  # points x pieces of one block's arrays
    every = np.arange(len(line.a))
    for i in range(0, len(far), block):
        at = far[i : i + block]
        angles = line.angles(np.repeat(p[at], len(every), axis=0), np.tile(every, len(at)))
        out[at] = angles.reshape(len(at), len(every)).min(axis=1)
    return out


NEAREST_SAMPLES = 32  # samples asked per point at once (see _near_angles)


def _near_angles(line: _Pieces, p: np.ndarray, dist: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Angle from each point to the line, over the pieces with a sample within reach of it.

    ``dist`` and ``at`` are each point's nearest samples (distances ascending, as the k-d tree
    gives them); reach is the nearest one's angle plus half a step. Pairs stay arrays (no
    Python object per pair); the few points with more samples within reach than were asked
    for are asked again for all of them. A piece met through several samples is measured once.
    """
    reach = _chord(_angle(dist[:, 0]) + line.half)
    within = dist <= reach[:, None]
    full = dist.shape[1] < len(line.tree.data)
    more = np.flatnonzero(within[:, -1]) if full else np.zeros(0, np.int64)
    within[more] = False
    pcs = np.where(within, line.piece[np.where(within, at, 0)], -1)
    pcs.sort(axis=1)
    keep = pcs >= 0
    keep[:, 1:] &= pcs[:, 1:] != pcs[:, :-1]
    pts, pcs = np.nonzero(keep)[0], pcs[keep]
    if len(more):  # every sample within reach, as lists
        hits = line.tree.query_ball_point(
            p[more], reach[more], workers=_workers(len(more)), return_sorted=False
        )
        sizes = np.fromiter(map(len, hits), dtype=np.int64, count=len(hits))
        extra = line.piece[np.fromiter(itertools.chain.from_iterable(hits), np.int64, sizes.sum())]
        pts = np.concatenate([pts, np.repeat(more, sizes)])
        pcs = np.concatenate([pcs, extra])
        order = np.argsort(pts, kind="stable")
        pts, pcs = pts[order], pcs[order]
    angles = np.empty(len(pts))
    chunk = 1 << 18
    for i in range(0, len(pts), chunk):
        sl = slice(i, i + chunk)
        angles[sl] = line.angles(p[pts[sl]], pcs[sl])
    # every point has a pair: its nearest sample is within reach
    first = np.flatnonzero(np.r_[True, pts[1:] != pts[:-1]])
    out: np.ndarray = np.minimum.reduceat(angles, first)
    return out


SAMPLE_KM = 1.0  # the line is sampled this often for the k-d tree (see _Pieces)
SAMPLED_MAX_KM = 1000.0  # buffers and distances past this take the exhaustive ways


# scipy's k-d tree starts its threads anew for each query given ``workers=-1``: worth it for
# big queries only. A route's statistics make dozens of small ones, where the threads took
# longer than the search (0.56 s of 1.9 s of the 13 reference routes with 100k points near).
THREADS_MIN = 20_000  # query points (weighted) from which a query uses every core
BALL_WEIGHT = 100  # a ball query's sample counts as this many: each finds many points


def _workers(queries: int) -> int:
    """``workers`` for a k-d tree query of ``queries`` points: all cores for big ones only."""
    return -1 if queries >= THREADS_MIN else 1


def _chord(angle: np.ndarray | float) -> Any:
    """The straight-line distance between unit vectors ``angle`` radians apart."""
    return 2.0 * np.sin(np.minimum(angle, math.pi) / 2.0)


def _angle(chord: np.ndarray) -> np.ndarray:
    """The angle in radians between unit vectors ``chord`` apart (inverse of :func:`_chord`)."""
    out: np.ndarray = 2.0 * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0))
    return out


class _Pieces:
    """A line's pieces as arcs on the unit sphere, and samples of it in a k-d tree.

    Every arc is sampled at both ends and at most :data:`SAMPLE_KM` apart between, so each
    point of the line lies within ``half`` (radians) of a sample: a point's nearest sample is
    at most ``half`` farther than the line itself.
    """

    def __init__(self, geometry: shapely.Geometry) -> None:
        coords = [np.asarray(part.coords) for part in _parts(geometry)]
        starts = np.concatenate([c[:-1, :2] for c in coords])
        ends = np.concatenate([c[1:, :2] for c in coords])
        self.a, self.b = _unit(starts[:, 0], starts[:, 1]), _unit(ends[:, 0], ends[:, 1])
        self.nrm, self.degenerate = _arc_normals(self.a, self.b)
        span = _angle(np.linalg.norm(self.b - self.a, axis=1))
        steps = np.maximum(1, np.ceil(span * EARTH_RADIUS_KM / SAMPLE_KM)).astype(np.int64)
        self.half = float((span / steps).max()) / 2.0 + 1e-12
        self.piece = np.repeat(np.arange(len(steps)), steps + 1)
        k = np.arange(len(self.piece)) - np.repeat(np.cumsum(steps + 1) - steps - 1, steps + 1)
        t = k / steps[self.piece]
        # along the arc: A cos(t w) + U sin(t w), U the unit tangent at A towards B
        w = span[self.piece]
        a = self.a[self.piece]
        tangent = np.cross(self.nrm[self.piece], a)
        pts = a * np.cos(t * w)[:, None] + tangent * np.sin(t * w)[:, None]
        pts[self.degenerate[self.piece]] = a[self.degenerate[self.piece]]
        self.tree = cKDTree(pts)

    def angles(self, p: np.ndarray, piece: np.ndarray) -> np.ndarray:
        """Angle from each point ``p`` to its paired piece, in radians."""
        return _arc_angles(p, self.a[piece], self.b[piece], self.nrm[piece],
                           self.degenerate[piece])  # fmt: skip


class PointIndex:
    """Points as unit vectors in a k-d tree: built once per set of points, asked once per route.

    A route's nearness then costs the points near the route, not every point: the line's
    samples thinned to half a buffer apart find the candidates (:meth:`candidates`), and only
    those are measured. Points without coordinates (empty or missing geometries) are left out, so
    they are never near anything, as before.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, keep: np.ndarray | None = None) -> None:
        if keep is None:
            self.p = _unit(x, y)
        else:  # only the points ``keep`` marks; the others have no coordinates here
            self.p = np.full((len(x), 3), np.nan)
            self.p[keep] = _unit(x[keep], y[keep])
        self.rows = np.flatnonzero(np.isfinite(self.p).all(axis=1))
        held = self.p if len(self.rows) == len(self.p) else self.p[self.rows]
        # no balancing: built in half the time, and queried as fast for points on a map
        self.tree = cKDTree(held, balanced_tree=False, compact_nodes=False)

    def candidates(self, line: _Pieces, chord: float, spacing_km: float,
                   inner: float = 0.0) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """Rows (ascending) of every point with a sample of ``line`` within ``chord``, and more.

        The line's samples are thinned to about ``spacing_km`` apart (:func:`_thinned`); each
        dropped sample lies within ``gap`` of a kept one, so by the triangle inequality a point
        within ``chord`` of any sample lies within ``chord + gap`` of a kept one. Also says,
        per row, whether a kept sample lies within ``inner``: such a point's nearest sample
        is surely that close.
        """
        if not len(self.rows):
            return self.rows, np.zeros(0, dtype=bool)
        kept, gap = _thinned(line, spacing_km)
        found = self.tree.query_ball_point(kept, chord + gap + 1e-9, return_sorted=False,
                                           workers=_workers(len(kept) * BALL_WEIGHT))  # fmt: skip
        sizes = np.fromiter(map(len, found), dtype=np.int64, count=len(found))
        flat = np.fromiter(itertools.chain.from_iterable(found), np.int64, int(sizes.sum()))
        hit = np.zeros(len(self.rows), dtype=bool)
        hit[flat] = True
        close = np.zeros(len(self.rows), dtype=bool)
        if inner > 0 and len(flat):
            # the pairs' own distances (in blocks: a million points make many pairs)
            owner = np.repeat(np.arange(len(kept)), sizes)
            for i in range(0, len(flat), 1 << 20):
                sl = slice(i, i + (1 << 20))
                d = np.linalg.norm(self.tree.data[flat[sl]] - kept[owner[sl]], axis=1)
                close[flat[sl][d <= inner]] = True
        return self.rows[hit], close[hit]


def _thinned(line: _Pieces, spacing_km: float) -> tuple[np.ndarray, float]:
    """About every ``spacing_km``-th sample of the line, and how far any sample is from one kept.

    Samples run along the line piece by piece; where the line jumps (between its parts) both
    sides are kept, so the gap stays about half the spacing.
    """
    samples = line.tree.data
    step = max(1, int(spacing_km / SAMPLE_KM))
    if step == 1 or len(samples) <= 2:
        return samples, 0.0
    keep = np.zeros(len(samples), dtype=bool)
    keep[::step] = True
    keep[-1] = True
    jump = np.linalg.norm(np.diff(samples, axis=0), axis=1) > 1.5 * float(_chord(2 * line.half))
    keep[:-1] |= jump
    keep[1:] |= jump
    kept = np.flatnonzero(keep)
    i = np.arange(len(samples))
    before = kept[np.searchsorted(kept, i, side="right") - 1]
    after = kept[np.searchsorted(kept, i, side="left")]
    gap = np.minimum(np.linalg.norm(samples - samples[before], axis=1),
                     np.linalg.norm(samples - samples[after], axis=1))  # fmt: skip
    return samples[kept], float(gap.max())


# The indexes of the point sets asked about lately, keyed by the id of the geometry array they
# were built from (held by a weak reference, so an index goes with its frame), with the
# geometries it was built from. An index is used only while the array holds those very
# geometry objects (shapely's are immutable, and the ones held cannot be freed and their
# addresses reused): a frame changed in place is indexed again, never answered from old points.
_POINT_INDEXES: dict[int, tuple[weakref.ref[Any], np.ndarray, np.ndarray, PointIndex]] = {}
POINT_INDEXES_KEPT = 4


def point_index(geometries: Any) -> PointIndex:
    """The :class:`PointIndex` of a geometry array (a GeoSeries' ``values``), built once.

    Parameters
    ----------
    geometries
        The points: a GeoDataFrame's ``geometry.values`` (or any array shapely reads).

    Returns
    -------
    PointIndex
        Built now, or kept from an earlier call with the same array holding the same points.
    """
    geoms = np.asarray(geometries)
    if geoms.dtype != object:  # not an array of geometry objects: nothing to recognise it by
        return PointIndex(*_point_xy(geoms))
    kept = _kept_index(geometries, geoms)
    if kept is not None:
        return kept
    address = np.frombuffer(geoms.tobytes(), dtype=np.uintp)
    key = id(geometries)
    index = PointIndex(*_point_xy(geoms))
    try:
        ref = weakref.ref(geometries, lambda _: _POINT_INDEXES.pop(key, None))
    except TypeError:  # a plain list or tuple cannot be referred to weakly: not kept
        return index
    _POINT_INDEXES.pop(key, None)
    while len(_POINT_INDEXES) >= POINT_INDEXES_KEPT:
        _POINT_INDEXES.pop(next(iter(_POINT_INDEXES)))
    _POINT_INDEXES[key] = (ref, geoms.copy(), address, index)
    return index


REGION_MIN_POINTS = 100_000  # a single route asks only about the points in its region
CELL_DEG = 0.5  # the region's grid


def _region_index(geoms: np.ndarray, line: _Pieces, buffer_km: float) -> PointIndex:
    """A :class:`PointIndex` of only the points that may lie within ``buffer_km`` of ``line``.

    What one route asks of a million points: the rest are never near it, so a tree of them
    all (1.2 s) is not needed. The region is the cells of a :data:`CELL_DEG` grid within
    ``buffer_km`` plus half a sample step of the line's samples (every point of the line lies
    within half a step of one), widened in longitude by the most its latitude can need. It holds
    every point within the buffer, so the answers are those of the whole tree.
    """
    x, y = _point_xy(geoms)
    ok = np.isfinite(x) & np.isfinite(y)
    grid = _region_cells(line, buffer_km / EARTH_RADIUS_KM + line.half)
    ncol = grid.shape[1]
    keep = np.zeros(len(x), dtype=bool)
    rows = np.flatnonzero(ok)
    col = np.floor((x[rows] + 180.0) / CELL_DEG).astype(np.int64) % ncol
    row = np.clip(np.floor((y[rows] + 90.0) / CELL_DEG).astype(np.int64), 0, grid.shape[0] - 1)
    keep[rows] = grid[row, col]
    return PointIndex(x, y, keep)


def _region_cells(line: _Pieces, angle: float) -> np.ndarray:
    """The cells (rows by latitude, columns by longitude) within ``angle`` of a sample, and more.

    Each cell holding a sample is widened by ``angle`` (plus a margin) north and south, and
    east and west by the widest a circle of that radius can be at the cell's most poleward
    latitude so widened; a circle that reaches a pole takes the whole band.
    """
    nrow, ncol = round(180 / CELL_DEG), round(360 / CELL_DEG)
    grid = np.zeros((nrow, ncol), dtype=bool)
    s = line.tree.data
    lon = np.degrees(np.arctan2(s[:, 1], s[:, 0]))
    lat = np.degrees(np.arcsin(np.clip(s[:, 2], -1.0, 1.0)))
    cells = np.unique(np.column_stack([
        np.clip(np.floor((lat + 90.0) / CELL_DEG), 0, nrow - 1),
        np.floor((lon + 180.0) / CELL_DEG) % ncol]).astype(np.int64), axis=0)  # fmt: skip
    pad = math.degrees(angle) + 0.01  # degrees; the margin covers float noise many times over
    for r, c in cells.tolist():
        south, north = -90.0 + r * CELL_DEG - pad, -90.0 + (r + 1) * CELL_DEG + pad
        r0, r1 = (
            max(0, math.floor((south + 90.0) / CELL_DEG)),
            min(nrow - 1, math.floor((north + 90.0) / CELL_DEG)),
        )
        poleward = max(abs(south), abs(north))
        ratio = math.sin(min(angle + 1e-6, math.pi / 2)) / max(
            math.cos(math.radians(min(poleward, 90.0))), 1e-12
        )
        if poleward >= 89.9 or ratio >= 1.0:
            grid[r0 : r1 + 1, :] = True
            continue
        wide = math.degrees(math.asin(ratio)) + 0.01
        west = -180.0 + c * CELL_DEG - wide
        east = -180.0 + (c + 1) * CELL_DEG + wide
        c0, c1 = math.floor((west + 180.0) / CELL_DEG), math.floor((east + 180.0) / CELL_DEG)
        if c1 - c0 + 1 >= ncol:
            grid[r0 : r1 + 1, :] = True
        else:
            grid[r0 : r1 + 1, np.arange(c0, c1 + 1) % ncol] = True
    return grid


def _index_for(geometries: Any, line: _Pieces, buffer_km: float) -> PointIndex:
    """The points' kept index if there is one; for many points, else, one of the line's region."""
    geoms = np.asarray(geometries)
    if (len(geoms) < REGION_MIN_POINTS or geoms.dtype != object
            or _kept_index(geometries, geoms) is not None):  # fmt: skip
        return point_index(geometries)
    return _region_index(geoms, line, buffer_km)


def _kept_index(geometries: Any, geoms: np.ndarray) -> PointIndex | None:
    """The index kept for this very array holding these very points, if there is one."""
    kept = _POINT_INDEXES.get(id(geometries))
    if kept is None or kept[0]() is not geometries:
        return None
    # the objects' addresses, 8 bytes each: a million points are compared in milliseconds
    address = np.frombuffer(geoms.tobytes(), dtype=np.uintp)
    return kept[3] if np.array_equal(kept[2], address) else None


def _point_xy(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Longitudes and latitudes of points; NaN where there is none (empty, missing, not a point)."""
    try:
        return shapely.get_x(geoms), shapely.get_y(geoms)
    except shapely.errors.GEOSException:  # GEOS refuses an empty point's coordinates
        ok = ~shapely.is_empty(geoms)
        x, y = np.full(len(geoms), np.nan), np.full(len(geoms), np.nan)
        x[ok], y[ok] = shapely.get_x(geoms[ok]), shapely.get_y(geoms[ok])
        return x, y


def _near_sampled(line: _Pieces, index: PointIndex, buffer_km: float) -> np.ndarray:
    """Rows (ascending) of the points within ``buffer_km`` of the line (see :func:`deposits_near`).

    A point whose nearest sample is within the buffer is near; one within half a sample step
    past it is measured against the pieces themselves; the rest are not near. Only the
    :meth:`PointIndex.candidates` are looked at (every other point has no sample within
    reach), and of those, a point with a thinned sample well within the buffer is near
    without asking for its nearest sample (it is at least as close).
    """
    theta = buffer_km / EARTH_RADIUS_KM
    reach = float(_chord(theta + line.half))
    inner = float(_chord(theta)) * (1 - 1e-9)  # clear of the float noise of the two distances
    rows, close = index.candidates(line, reach, max(buffer_km / 2.0, SAMPLE_KM), inner)
    band = np.flatnonzero(~close)
    p = index.p[rows[band]]
    chord, _ = line.tree.query(p, distance_upper_bound=reach, workers=_workers(len(p)))
    bound = _angle(np.where(np.isfinite(chord), chord, 2.0))
    mask = bound <= theta
    edge = np.flatnonzero(~mask & np.isfinite(chord))  # within half a step of the edge
    mask[edge] = _line_angles(line, p[edge]) <= theta
    close[band] = mask
    near: np.ndarray = rows[close]
    return near


def _arc_angles(p: np.ndarray, a: np.ndarray, b: np.ndarray, nrm: np.ndarray,
                degenerate: np.ndarray) -> np.ndarray:  # fmt: skip
    """Angle from each point ``p`` to its paired arc ``a``-``b`` (normal ``nrm``), in radians."""

    def dot(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.einsum("ij,ij->i", u, v)
        return out

    ends_d = np.minimum(np.arccos(np.clip(dot(p, a), -1.0, 1.0)),
                        np.arccos(np.clip(dot(p, b), -1.0, 1.0)))  # fmt: skip
    on_arc = (dot(p, np.cross(nrm, a)) >= 0) & (dot(p, np.cross(b, nrm)) >= 0) & ~degenerate
    perp = np.arcsin(np.clip(np.abs(dot(p, nrm)), 0.0, 1.0))
    out: np.ndarray = np.where(on_arc, np.minimum(perp, ends_d), ends_d)
    return out


def deposits_near(
    geometry: shapely.Geometry, deposits: gpd.GeoDataFrame, buffer_km: float = DEFAULT_BUFFER_KM
) -> np.ndarray:
    """Boolean mask of ``deposits`` within ``buffer_km`` of ``geometry`` (great-circle km).

    The points' unit vectors sit in a k-d tree (:func:`point_index`, built once per point set
    and kept while the frame holds the same points, so the routes of a map share it). Samples
    of the line a half-buffer apart find the candidates; a candidate within the buffer of one
    of them is near; the others are measured against samples of the line every
    :data:`SAMPLE_KM`, which settles every point but those within half a sample step of the
    buffer's edge, measured against the pieces themselves. (A buffer past
    :data:`SAMPLED_MAX_KM` takes a grid over the line's pieces with a generous window.) The
    distance is measured on the sphere, so the result does not depend on latitude.
    """
    n = len(deposits)
    if n == 0:
        return np.zeros(0, dtype=bool)
    if buffer_km <= SAMPLED_MAX_KM:
        rows = _near_sampled(_Pieces(geometry), point_index(deposits.geometry.values), buffer_km)
        mask = np.zeros(n, dtype=bool)
        mask[rows] = True
        return mask
    coords = [np.asarray(part.coords) for part in _parts(geometry)]
    starts = np.concatenate([c[:-1, :2] for c in coords])
    ends = np.concatenate([c[1:, :2] for c in coords])
    a, b = _unit(starts[:, 0], starts[:, 1]), _unit(ends[:, 0], ends[:, 1])
    nrm, degenerate = _arc_normals(a, b)
    lo, hi = _piece_boxes(starts, ends, a, b, nrm, buffer_km)
    # Per piece: the normal N of the arc's plane, N x A, B x N, A and B. The foot of the
    # perpendicular from P lies on the arc when P.(N x A) >= 0 and P.(B x N) >= 0; then the
    # distance is asin(|P.N|), else the nearer end's acos(P.A) or acos(P.B). Comparing those
    # dot products with the sine and cosine of the buffer angle needs no trigonometry per pair.
    rows = np.concatenate([nrm, np.cross(nrm, a), np.cross(b, nrm), a, b], axis=1)  # (pieces, 15)
    theta = buffer_km / EARTH_RADIUS_KM
    geoms = np.asarray(deposits.geometry.values)
    parts = min(os.cpu_count() or 1, 4, n // PARALLEL_MIN_POINTS)
    if parts <= 1:
        return _near_mask(geoms, lo, hi, rows, degenerate, theta)
    # numpy and shapely release the GIL, so threads over slices of the points use every core
    bounds = np.linspace(0, n, parts + 1).astype(int)
    with ThreadPoolExecutor(parts) as pool:
        masks = pool.map(lambda i: _near_mask(geoms[bounds[i] : bounds[i + 1]], lo, hi, rows,
                                              degenerate, theta), range(parts))  # fmt: skip
        return np.concatenate(list(masks))


def _near_mask(geoms: np.ndarray, lo: np.ndarray, hi: np.ndarray, rows: np.ndarray,
               degenerate: np.ndarray, theta: float) -> np.ndarray:  # fmt: skip
    """Which points lie within ``theta`` radians of any piece (see :func:`deposits_near`)."""
    x, y = shapely.get_x(geoms), shapely.get_y(geoms)
    mask = np.zeros(len(geoms), dtype=bool)
    ip, ie = _candidate_pairs(x, y, lo, hi)
    if not ip.size:
        return mask
    sin_t, cos_t = math.sin(min(theta, math.pi / 2)), math.cos(min(theta, math.pi))
    # pairs are sorted by point: unit vectors once per candidate point, not once per pair
    new = np.empty(len(ip), dtype=bool)
    new[0], new[1:] = True, ip[1:] != ip[:-1]
    pts = ip[new]
    local = np.cumsum(new) - 1
    p = _unit(x[pts], y[pts])
    chunk = 1 << 18  # bounds the temporary arrays of very dense candidate sets
    for i in range(0, len(ip), chunk):
        sl = slice(i, i + chunk)
        e = ie[sl]
        pk, rk = p[local[sl]], rows[e]
        px, py, pz = pk[:, 0], pk[:, 1], pk[:, 2]
        d = [px * rk[:, j] + py * rk[:, j + 1] + pz * rk[:, j + 2] for j in range(0, 15, 3)]
        inside = (d[1] >= 0) & (d[2] >= 0) & ~degenerate[e]
        near = np.where(inside, np.abs(d[0]) <= sin_t, np.maximum(d[3], d[4]) >= cos_t)
        if theta >= math.pi / 2:  # a buffer past a quarter circle takes every perpendicular
            near |= inside
        mask[ip[sl][near]] = True
    return mask


def _piece_boxes(starts: np.ndarray, ends: np.ndarray, a: np.ndarray, b: np.ndarray,
                 nrm: np.ndarray, buffer_km: float) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Lon/lat boxes holding every point within ``buffer_km`` of each arc (generously).

    An arc reaches past its ends' latitudes where its great circle peaks between them; a degree
    of longitude shrinks with the cosine of the highest latitude in the box.
    """
    lat_lo, lat_hi = np.minimum(starts[:, 1], ends[:, 1]), np.maximum(starts[:, 1], ends[:, 1])
    # the great circle's northernmost point is the pole-ward direction projected on its plane
    for sign in (1.0, -1.0):
        z = np.array([0.0, 0.0, sign])
        peak = z - (nrm @ z)[:, None] * nrm
        norm = np.linalg.norm(peak, axis=1)
        ok = norm > 1e-12
        peak[ok] /= norm[ok, None]
        # the peak lies on the arc when it is between A and B (same test as the foot)
        on_arc = ok & (np.einsum("ij,ij->i", peak, np.cross(nrm, a)) >= 0)
        on_arc &= np.einsum("ij,ij->i", peak, np.cross(b, nrm)) >= 0
        peak_lat = np.degrees(np.arcsin(np.clip(peak[:, 2], -1, 1)))
        if sign > 0:
            lat_hi = np.where(on_arc, np.maximum(lat_hi, peak_lat), lat_hi)
        else:
            lat_lo = np.where(on_arc, np.minimum(lat_lo, peak_lat), lat_lo)
    wy = buffer_km / 111.19 * 1.05 + 0.01
    far = np.minimum(89.0, np.maximum(np.abs(lat_lo), np.abs(lat_hi)) + wy)
    wx = buffer_km / (111.19 * np.cos(np.radians(far))) * 1.05 + 0.01
    lo = np.stack([np.minimum(starts[:, 0], ends[:, 0]) - wx, lat_lo - wy], axis=1)
    hi = np.stack([np.maximum(starts[:, 0], ends[:, 0]) + wx, lat_hi + wy], axis=1)
    return lo, hi


def _parts(g: shapely.Geometry) -> list[shapely.LineString]:
    return list(g.geoms) if hasattr(g, "geoms") else [g]


def estimate_transit_days(legs: Sequence[Leg], borders: int, gauge_breaks: int) -> dict[str, float]:
    """Door-to-door days, fast, typical and slow case, from ``layers/transit.toml``.

    Parameters
    ----------
    legs
        The route's legs; each mode moves at its own speed, ferries and ships add their waits.
    borders
        Border crossings on the way (each costs the table's ``border_hours``).
    gauge_breaks
        Gauge changes on the way (each costs ``gauge_change_hours``).

    Returns
    -------
    dict
        ``{"low": days, "typical": days, "high": days}``, each rounded to 0.1 day
        (:func:`round_days`), low <= typical <= high (:func:`geo.analysis.costs.route_days`).
    """
    span = route_days(legs, borders, gauge_breaks)
    return {"low": round_days(span.low), "typical": round_days(span.typical),
            "high": round_days(span.high)}  # fmt: skip


def round_days(days: float) -> float:
    """Days rounded to 0.1, never to 0 for a move that takes time (13 km by rail: 0.1, not 0).

    >>> round_days(0.02), round_days(0.0), round_days(2.34)
    (0.1, 0.0, 2.3)
    """
    return max(round(days, 1), 0.1) if days > 0 else 0.0


def leg_days(leg: Leg) -> tuple[float, float]:
    """The days one leg adds (fast case, slow case), waits of ferries and port calls included.

    :func:`estimate_transit_days` adds these up in travel order; the supply table adds the
    same numbers in the same order for thousands of routes at once. The typical case is
    :func:`geo.analysis.costs.leg_days`'s.

    Parameters
    ----------
    leg
        The leg; its mode picks the speed of ``layers/transit.toml``.

    Returns
    -------
    tuple of float
        ``(low, high)`` days, unrounded.
    """
    span = leg_days_span(leg)
    return span.low, span.high


def crossing_days(borders: Any, gauge_breaks: Any) -> tuple[Any, Any]:
    """The days border crossings and gauge changes add (fast case, slow case), unrounded.

    Parameters
    ----------
    borders, gauge_breaks
        Counts: ints, or integer arrays (one per route) for the supply table.

    Returns
    -------
    tuple
        ``(low, high)`` days, of the type given.
    """
    lo, _, hi = crossing_days_span(borders, gauge_breaks)
    return lo, hi


class LegSummary:
    """What a route's legs add up to, unrounded: the one source of every route statistic.

    :func:`route_stats` reports it for one route, :mod:`geo.analysis.supply` for every
    deposit's route to market, so the two cannot count differently. Each total is worked out
    when first asked for: a supply table needs only a few of them, for thousands of routes.
    """

    def __init__(self, legs: Sequence[Leg]) -> None:
        self.legs = tuple(legs)

    @cached_property
    def length_km(self) -> float:
        """The route's length, added leg by leg in travel order.

        One addition after another, never ``sum()`` (compensated for floats since Python 3.12):
        the supply table adds each deposit's access leg and its shared network legs the same way.
        """
        total = 0.0
        for leg in self.legs:
            total += leg.length_km
        return total

    @cached_property
    def km_by_mode(self) -> dict[str, float]:
        """Km per mode, in order of first use."""
        return _merge_ordered([(leg.mode, leg.length_km) for leg in self.legs])

    @cached_property
    def _km_by_area(self) -> dict[str, float]:
        return _merge_ordered([kv for leg in self.legs for kv in leg.km_by_country.items()])

    @cached_property
    def km_by_country(self) -> dict[str, float]:
        """Km per country, in order of first entry, sea left out."""
        return {k: v for k, v in self._km_by_area.items() if k != SEA}

    @cached_property
    def sea_km(self) -> float:
        """Km at sea (open-water parts of ferries included)."""
        return self._km_by_area.get(SEA, 0.0)

    @cached_property
    def runs(self) -> list[tuple[str, str]]:
        """``(country, where entered)`` in order, see :func:`trace_countries`."""
        return trace_countries(self.legs)

    @cached_property
    def gauge_breaks(self) -> list[str]:
        """Where the gauge changes, see :func:`find_gauge_breaks`."""
        return find_gauge_breaks(self.legs)

    @cached_property
    def mode_changes(self) -> list[str]:
        """The node names where the mode changes (transshipments)."""
        return [b.from_name for a, b in itertools.pairwise(self.legs) if a.mode != b.mode]

    @cached_property
    def chokepoints(self) -> list[str]:
        """The sea passages used, in order, each once."""
        out: list[str] = []
        for leg in self.legs:
            out.extend(p for p in leg.passages if p not in out)
        return out

    @cached_property
    def km_by_precision(self) -> dict[str, float]:
        """Km per geometry precision (traced, schematic, straight)."""
        return _merge_ordered([(leg.precision, leg.length_km) for leg in self.legs])

    @cached_property
    def transit_days(self) -> dict[str, float]:
        """``{"low", "typical", "high"}`` days, see :func:`estimate_transit_days`."""
        return estimate_transit_days(self.legs, self.waits, len(self.gauge_breaks))

    @cached_property
    def waits(self) -> int:
        """Border crossings where freight waits: oil in a pipe crosses without stopping."""
        return sum(1 for _, mode in _crossings(self.legs) if mode != "pipeline")

    @cached_property
    def cost_usd_per_teu(self) -> dict[str, float] | None:
        """``{"low", "typical", "high"}`` USD per TEU, whole dollars (None with a pipeline leg).

        Line haul plus border fees, gauge changes and terminal handling at each change of mode
        (:func:`geo.analysis.costs.route_cost_usd`).
        """
        span = route_cost_usd(self.legs, len(self.crossings), len(self.gauge_breaks),
                              len(self.mode_changes))  # fmt: skip
        return None if span is None else span.as_dict(0)

    @cached_property
    def co2e_kg_per_teu(self) -> dict[str, float] | None:
        """``{"low", "typical", "high"}`` kg CO2e per TEU, whole kg (None with a pipeline leg)."""
        span = route_co2e_kg(self.legs)
        return None if span is None else span.as_dict(0)

    @property
    def countries(self) -> list[str]:
        """The countries passed through, in order of first entry."""
        return list(dict.fromkeys(c for c, _ in self.runs))

    @cached_property
    def crossings(self) -> list[dict[str, str]]:
        """The border crossings: from, to and where, see :func:`border_crossings`."""
        return border_crossings(self.legs)

    def transits(self, code: str) -> bool:
        """Whether the route runs through country ``code`` (any length above 0 km)."""
        return self._km_by_area.get(code, 0.0) > 0


def summarise_legs(legs: Sequence[Leg]) -> LegSummary:
    """Add up a route's legs: lengths by mode and country, borders, gauge breaks, days.

    Parameters
    ----------
    legs
        The route's legs in travel order.

    Returns
    -------
    LegSummary
        Unrounded totals, each worked out when first read.
    """
    return LegSummary(legs)


def route_stats(
    route: Route,
    *,
    network: Network | None = None,
    buffer_km: float = DEFAULT_BUFFER_KM,
    nearby_limit: int | None = None,
    points: PointIndex | None = None,
) -> dict[str, Any]:
    """Every statistic of one route, as a JSON-ready dict (:data:`STAT_KEYS`, :data:`COST_KEYS`).

    Parameters
    ----------
    route
        The route.
    network
        The network it was found on (its deposits are the ones counted); the bundled one
        without it.
    buffer_km
        How far from the route a deposit counts as nearby (great-circle km).
    nearby_limit
        Keep only this many of the nearest deposits in ``deposits_nearby["list"]`` (a map's
        popup shows 25); ``deposits_nearby["list_limit"]`` then says so, and ``count``,
        ``by_commodity`` and ``ids`` still cover every deposit nearby. None (the default)
        keeps the whole list, as ``corridor route`` and ``stats`` give it.
    points
        The :func:`point_index` of the network's deposits, when the caller has it at hand
        (:func:`reference_routes` asks once for all its routes); else asked for here.
    """
    net = network or load_network()
    legs = route.legs
    s = summarise_legs(legs)
    length = s.length_km
    crossings = s.crossings
    geom = shapely.MultiLineString([p for leg in legs for p in _parts(leg.geometry)])
    nearby = nearby_deposits(geom, net.deposits, buffer_km, limit=nearby_limit, points=points)
    return {
        "length_km": round(length, 1),
        "length_km_by_mode": {k: round(v, 1) for k, v in s.km_by_mode.items()},
        "length_km_by_country": {k: round(v, 1) for k, v in s.km_by_country.items()},
        "countries": s.countries,
        "transits_russia": s.transits("RUS"),
        "russia_km": round(s.km_by_country.get("RUS", 0.0), 1),
        "border_crossings": {"count": len(crossings), "list": crossings},
        "gauge_breaks": {"count": len(s.gauge_breaks), "at": s.gauge_breaks},
        "transshipments": {"count": len(s.mode_changes), "at": s.mode_changes},
        "sea_km": round(s.sea_km, 1),
        "chokepoints": s.chokepoints,
        "transit_days": s.transit_days,
        "cost_usd_per_teu": s.cost_usd_per_teu,
        "co2e_kg_per_teu": s.co2e_kg_per_teu,
        "deposits_nearby": nearby,
        "precision_share": {
            k: round(s.km_by_precision.get(k, 0.0) / length, 3) if length else 0.0
            for k in ("traced", "schematic", "straight")
        },
        "access": access_stats(legs),
        "lines": line_stats(legs, net),
    }


def nearby_deposits(geometry: shapely.Geometry, deposits: gpd.GeoDataFrame, buffer_km: float,
                    *, limit: int | None = None,
                    points: PointIndex | None = None) -> dict[str, Any]:  # fmt: skip
    """The deposits within ``buffer_km`` of a line: the ``deposits_nearby`` of :func:`route_stats`.

    Parameters
    ----------
    geometry
        The route's line (a LineString or MultiLineString in lon/lat).
    deposits
        The deposits, points with ``id`` and, where known, ``name`` and ``commodities``.
    buffer_km
        How far from the line a deposit counts (great-circle km, see :func:`deposits_near`).
    limit
        Keep only this many entries of ``list`` (the nearest); None keeps them all.
    points
        ``deposits``' :func:`point_index`, if the caller has it; else asked for here.

    Returns
    -------
    dict
        ``count``, ``by_commodity`` (deposits per commodity, by name), ``ids`` (sorted),
        ``buffer_km`` and ``list``: per deposit ``{"id", "name", "km", "commodities"}``,
        nearest first (km rounded to 0.1, then id). With a ``limit``, also ``list_limit``.
    """
    rows, measured, km = _nearby_km(geometry, deposits, buffer_km, limit, points)
    ids = [str(i) for i in _column(deposits, "id", rows)]
    comms = _column(deposits, "commodities", rows) if "commodities" in deposits else None
    lists = [] if comms is None else [c for c in comms if isinstance(c, list)]
    by_commodity = Counter(itertools.chain.from_iterable(lists))
    km_r = round_tenths(km)
    # by km, then id, then frame order (a stable sort by id, then one by km)
    order = np.argsort(np.asarray(ids, dtype=object)[measured], kind="stable")
    order = order[np.argsort(km_r[order], kind="stable")]
    if limit is not None:
        order = order[: max(limit, 0)]
    shown = measured[order]
    names = (_column(deposits, "name", rows[shown]) if "name" in deposits
             else np.asarray(ids, dtype=object)[shown])  # fmt: skip
    with collector_paused():  # 95k small dicts kept: 1.2 s of CPU with it, 0.2 s without
        listed = [{"id": ids[i], "name": str(n), "km": k,
                   "commodities": list(c) if isinstance(c, list) else []}
                  for i, n, k, c in zip(shown.tolist(), names, km_r[order].tolist(),
                                        [None] * len(shown) if comms is None else comms[shown],
                                        strict=True)]  # fmt: skip
    out: dict[str, Any] = {
        "count": len(rows),
        "by_commodity": dict(sorted(by_commodity.items())),
        "ids": sorted(ids),
        "buffer_km": buffer_km,
        "list": listed,
    }
    if limit is not None:
        out["list_limit"] = limit
    return out


def _nearby_km(geometry: shapely.Geometry, deposits: gpd.GeoDataFrame, buffer_km: float,
               limit: int | None,
               points: PointIndex | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """The rows near the line, which of them were measured, and their km (unrounded).

    Without a ``limit`` every row near is measured. With one, only the rows that could be among
    the ``limit`` nearest: each row's nearest sample bounds its distance from above, and from
    below less half a sample step; a row whose lower bound passes the ``limit``-th smallest
    upper bound by more than the rounding (0.1 km, taken twice to stay clear of float noise) is
    farther, rounded, than ``limit`` others, so it sorts after them.
    """
    if not len(deposits) or buffer_km > SAMPLED_MAX_KM:
        rows = np.flatnonzero(deposits_near(geometry, deposits, buffer_km))
        geoms = np.asarray(deposits.geometry.values)[rows]
        km = distance_to_line_km(geometry, shapely.get_x(geoms), shapely.get_y(geoms))
        return rows, np.arange(len(rows)), km
    line = _Pieces(geometry)
    index = points if points is not None else _index_for(deposits.geometry.values, line, buffer_km)
    rows = _near_sampled(line, index, buffer_km)
    measured = np.arange(len(rows))
    if limit is not None and len(rows) > limit:
        measured = _maybe_nearest(line, index, rows, limit, buffer_km)
    theta = buffer_km / EARTH_RADIUS_KM  # a point near lies within a step past the buffer
    km = _line_angles(line, index.p[rows[measured]], within=theta) * EARTH_RADIUS_KM
    return rows, measured, km


def _maybe_nearest(line: _Pieces, index: PointIndex, rows: np.ndarray, limit: int,
                   buffer_km: float) -> np.ndarray:  # fmt: skip
    """Positions in ``rows`` of every point that may be among the ``limit`` nearest, rounded.

    Looks within ``reach_km`` of the line, doubling it until the ``limit``-th nearest sample
    found (an upper bound of that point's distance) lies more than the rounding (0.1 km,
    twice over for float noise) within it: every point outside is then farther, rounded, than
    ``limit`` others. Of the points inside, those whose lower bound (nearest sample less half
    a step) passes that ``limit``-th upper bound by more than the rounding are left out too.
    """
    if limit <= 0:
        return np.zeros(0, dtype=np.int64)
    where = np.full(len(index.p), -1, dtype=np.int64)
    where[rows] = np.arange(len(rows))
    half_km = line.half * EARTH_RADIUS_KM
    reach_km = max(4.0 * SAMPLE_KM, buffer_km * 4.0 * limit / len(rows))
    while reach_km < buffer_km:
        reach = float(_chord(reach_km / EARTH_RADIUS_KM + line.half))
        found, _ = index.candidates(line, reach, reach_km)
        pos = where[found]
        pos = pos[pos >= 0]
        if len(pos) >= limit:
            chord, _ = line.tree.query(index.p[rows[pos]], workers=_workers(len(pos)))
            upper = _angle(chord) * EARTH_RADIUS_KM
            worst = float(np.partition(upper, limit - 1)[limit - 1])
            if worst + 0.2 <= reach_km:
                return np.sort(pos[upper - half_km <= worst + 0.2])
        reach_km *= 2.0
    return np.arange(len(rows))


def _column(frame: pd.DataFrame, name: str, rows: np.ndarray) -> np.ndarray:
    """The values of column ``name`` at positions ``rows``, as Python objects."""
    return np.asarray(frame[name].iloc[rows].to_numpy(dtype=object), dtype=object)


def round_tenths(values: np.ndarray) -> np.ndarray:
    """Each value rounded to 0.1 exactly as Python's ``round(v, 1)`` rounds it.

    numpy's rounding scales by ten first, which can tip a value lying just under a half-way
    point (0.15 is stored as 0.1499...) to the other side; those few values near a half-way
    point are rounded by Python, the rest agree.

    >>> round_tenths(np.array([0.15, 0.25, 1.04, 2.96])).tolist()
    [0.1, 0.2, 1.0, 3.0]
    """
    v = np.asarray(values, dtype=float)
    out = np.round(v, 1)
    scaled = v * 10.0
    tie = np.flatnonzero(np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6)
    out[tie] = [round(float(x), 1) for x in v[tie]]
    return out


def line_stats(legs: Sequence[Leg], net: Network) -> list[dict[str, Any]]:
    """The pipelines and tanker legs a route uses, each once in travel order, with their facts.

    Per line: ``name``, ``mode``, ``fuel``, ``km`` on this route, ``countries``, ``status``,
    ``capacity`` with its ``unit`` (None where the source gives none), ``owner`` and
    ``source``, read from the network's segment rows. Empty for a freight route.
    """
    seg = net.segments.set_index(net.segments["id"].astype(str)) if len(net.segments) else None
    out: dict[str, dict[str, Any]] = {}
    for leg in legs:
        if not leg.fuel or leg.access:
            continue
        first = leg.segment_id.split("..", 1)[0]
        row = seg.loc[first] if seg is not None and first in seg.index else None
        if isinstance(row, pd.DataFrame):
            row = row.iloc[-1]
        entry = out.setdefault(leg.line, {
            "name": leg.line, "mode": leg.mode, "fuel": leg.fuel, "km": 0.0, "countries": [],
            "status": leg.status, "capacity": None, "unit": None, "owner": None, "source": None,
        })  # fmt: skip
        entry["km"] = round(entry["km"] + leg.length_km, 1)
        entry["countries"] += [c for c in leg.km_by_country
                               if c != SEA and c not in entry["countries"]]  # fmt: skip
        if row is not None:
            cap, unit = _capacity(row, leg.fuel)
            entry["capacity"] = entry["capacity"] if cap is None else cap
            entry["unit"] = entry["unit"] if cap is None else unit
            for key in ("owner", "source"):
                v = row.get(key)
                entry[key] = entry[key] if is_missing(v) else str(v)
    return list(out.values())


def _capacity(row: pd.Series, fuel: str) -> tuple[float | None, str]:
    """A line's capacity in its fuel's unit (thousand barrels/day, billion m3/year)."""
    key, unit = (("capacity_bcm_y", "bcm/year") if fuel == "gas"
                 else ("capacity_kbd", "thousand barrels/day"))  # fmt: skip
    v = row.get(key)
    return (None if is_missing(v) else round(float(v), 2)), unit


def access_stats(legs: Sequence[Leg]) -> dict[str, Any] | None:
    """A deposit's road to the network, apart from the route's other km (None without one).

    ``km`` is the road estimate (straight line times the detour factor), ``straight_km`` the
    geodesic straight line, ``to`` where it meets the network and ``far`` whether it is
    longer than :data:`FAR_FROM_RAIL_KM`.
    """
    leg = next((x for x in legs if x.access), None)
    if leg is None:
        return None
    if leg.mode == "pipeline":  # a field's gathering line: a straight line, no road detour
        return {"km": round(leg.length_km, 1), "straight_km": round(leg.length_km, 1),
                "detour_factor": 1.0, "to": leg.to_name, "far": False, "mode": "pipeline",
                "line": leg.line}  # fmt: skip
    factor = road_detour_factor()
    return {
        "km": round(leg.length_km, 1), "straight_km": round(leg.length_km / factor, 1),
        "detour_factor": factor, "to": leg.to_name,
        "far": bool(leg.length_km > FAR_FROM_RAIL_KM),
    }  # fmt: skip


def legs_frame(route: Route) -> gpd.GeoDataFrame:
    """A route's legs as a GeoDataFrame, in travel order."""
    rows = [
        {"segment_id": leg.segment_id, "from": leg.from_name, "to": leg.to_name,
         "mode": leg.mode, "status": leg.status, "corridor": leg.corridor,
         "gauge_mm": leg.gauge_mm, "precision": leg.precision,
         "length_km": round(leg.length_km, 1),
         "countries": [c for c in leg.km_by_country if c != SEA], "line": leg.line,
         "geometry": leg.geometry}
        for leg in route.legs
    ]  # fmt: skip
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)


# --- reference routes -------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteSpec:
    """A reference route: a query over the network, declared in ``layers/routes.toml``."""

    id: str
    name: str
    origin: str
    destination: str
    via: tuple[str, ...]
    constraints: Constraints
    description: str = ""


@lru_cache(maxsize=1)
def reference_specs() -> tuple[RouteSpec, ...]:
    """The reference routes of ``layers/routes.toml``, in file order."""
    path = bundled_dir("layers") / "routes.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    specs = []
    for i, r in enumerate(data.get("route", [])):
        try:
            specs.append(RouteSpec(
                str(r["id"]), str(r["name"]), str(r["from"]), str(r["to"]),
                tuple(r.get("via", [])),
                make_constraints(r.get("avoid", []), r.get("modes"), r.get("status")),
                str(r.get("description", "")),
            ))  # fmt: skip
        except KeyError as e:
            msg = f"{path}: route #{i}: missing key {e}; give id, name, from and to"
            raise SpecError(msg) from e
    return tuple(specs)


def run_reference(spec: RouteSpec, network: Network | None = None) -> Route:
    """The route a reference spec describes, found on ``network``, labelled with its id and name.

    Without ``network`` the bundled network is used (no user layers).

    Raises
    ------
    RouteError
        A place is unknown or no path meets the spec's constraints.
    """
    net = network or load_network()
    r = find_route(net, spec.origin, spec.destination, via=spec.via, constraints=spec.constraints)
    r.route_id, r.name = spec.id, spec.name
    return r


def run_observed(o: RouteQuery, network: Network | None = None) -> Route:
    """The route a published figure describes (an entry of ``layers/observed.toml``).

    Found on ``network`` (the bundled one without it): the entry's reference route, or its
    places under its constraints.

    Raises
    ------
    SpecError
        The entry names a reference route ``layers/routes.toml`` lacks.
    RouteError
        A place is unknown or no path meets the entry's constraints.
    """
    net = network or load_network()
    if o.route is not None:
        known = {s.id: s for s in reference_specs()}
        if o.route not in known:
            msg = f"observed {o.id}: unknown reference route '{o.route}'; known: {', '.join(known)}"
            raise SpecError(msg)
        return run_reference(known[o.route], net)
    c = make_constraints(o.avoid, o.modes, o.status)
    return find_route(net, str(o.origin), str(o.destination), via=o.via, constraints=c)


FLAT_MODES = ("rail", "road", "ferry", "sea", "pipeline")


def flat_stats(stats: dict[str, Any]) -> dict[str, Any]:
    """The numbers of :func:`route_stats` as flat, sortable columns.

    ``km_<mode>`` per mode (0 where unused), ``km_<ISO3>`` is left to ``length_km_by_country``;
    ``russia_km`` and ``belarus_km`` apart and ``russia_belarus_km`` their sum (never one
    figure under the other's name),
    ``transit_days_low``/``_typical``/``_high``, ``cost_usd_per_teu_low``/``_typical``/``_high``
    and ``co2e_kg_per_teu_low``/``_typical``/``_high`` (None where the route has no figure),
    counts of border crossings, gauge breaks, transshipments and nearby deposits, and the
    traced share.

    >>> flat_stats({"length_km_by_mode": {"rail": 10.0}, "length_km_by_country": {"BLR": 2.0},
    ...             "transit_days": {"low": 1.0, "high": 2.0}, "border_crossings": {"count": 1},
    ...             "gauge_breaks": {"count": 0}, "transshipments": {"count": 0},
    ...             "deposits_nearby": {"count": 3}, "precision_share": {"traced": 0.5},
    ...             "russia_km": 0.0})["belarus_km"]
    2.0
    """
    by_mode = stats["length_km_by_mode"]
    out: dict[str, Any] = {f"km_{m}": by_mode.get(m, 0.0) for m in FLAT_MODES}
    out["russia_km"] = stats["russia_km"]
    out["belarus_km"] = round(stats["length_km_by_country"].get("BLR", 0.0), 1)
    out["russia_belarus_km"] = round(out["russia_km"] + out["belarus_km"], 1)
    days = stats["transit_days"]
    out["transit_days_low"] = days["low"]
    out["transit_days_typical"] = days.get("typical")
    out["transit_days_high"] = days["high"]
    for key in COST_KEYS:
        span = stats.get(key) or {}
        for case in ("low", "typical", "high"):
            out[f"{key}_{case}"] = span.get(case)
    for key in ("border_crossings", "gauge_breaks", "transshipments", "deposits_nearby"):
        out[f"{key}_count"] = stats[key]["count"]
    out["traced_share"] = stats["precision_share"].get("traced", 0.0)
    return out


def reference_routes(
    route_ids: Sequence[str] | None = None,
    *,
    network: Network | None = None,
    buffer_km: float = DEFAULT_BUFFER_KM,
    nearby_limit: int | None = None,
) -> gpd.GeoDataFrame:
    """Statistics of the reference routes: one row per route, geometry the whole route.

    Columns: ``id``, ``name``, every key of :data:`STAT_KEYS` (nested where the statistic
    is), ``path``, and the flat, sortable columns of :func:`flat_stats`. ``nearby_limit``
    shortens each route's list of nearby deposits as :func:`route_stats` does (a map shows
    only the nearest); the counts still cover them all.
    """
    net = network or load_network()
    specs = reference_specs()
    if route_ids:
        known = {s.id: s for s in specs}
        unknown = [r for r in route_ids if r not in known]
        if unknown:
            msg = f"unknown reference route '{unknown[0]}'; known: {', '.join(known)}"
            raise SpecError(msg)
        specs = tuple(known[r] for r in route_ids)
    rows = []
    points = point_index(net.deposits.geometry.values) if len(net.deposits) else None
    for spec in specs:
        route = run_reference(spec, net)
        stats = route_stats(route, network=net, buffer_km=buffer_km, nearby_limit=nearby_limit,
                            points=points)  # fmt: skip
        geom = shapely.MultiLineString([p for leg in route.legs for p in _parts(leg.geometry)])
        rows.append({"id": spec.id, "name": spec.name, **stats, "path": route.path,
                     **flat_stats(stats), "geometry": geom})  # fmt: skip
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
