"""Route statistics: the same numbers for ad-hoc and reference routes.

Every number comes from the legs of a :class:`~geo.routing.Route`; transit days come from the
sourced parameter table ``layers/transit.toml``; deposits nearby are measured on the sphere
(great-circle cross-track distance), never in degrees.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .countries import SEA
from .errors import SpecError
from .network import Network, load_network
from .routing import Constraints, Leg, Route, find_route, make_constraints

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius
DEFAULT_BUFFER_KM = 100.0
STAT_KEYS = (
    "length_km", "length_km_by_mode", "length_km_by_country", "countries", "transits_russia",
    "russia_km", "border_crossings", "gauge_breaks", "transshipments", "sea_km", "chokepoints",
    "transit_days", "deposits_nearby", "precision_share",
)  # fmt: skip


@dataclass(frozen=True)
class TransitParameters:
    """Speeds and dwell times (low = fast case, high = slow case), each with a source."""

    values: dict[str, tuple[float, float]]
    sources: dict[str, str]

    def get(self, key: str) -> tuple[float, float]:
        return self.values[key]


@lru_cache(maxsize=1)
def transit_parameters() -> TransitParameters:
    """The bundled parameter table (``layers/transit.toml``)."""
    from .layers import bundled_dir

    path = bundled_dir("layers") / "transit.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    values, sources = {}, {}
    for key, entry in data.get("parameter", {}).items():
        try:
            values[key] = (float(entry["fast"]), float(entry["slow"]))
            sources[key] = str(entry["source"])
        except (KeyError, TypeError, ValueError):
            msg = f"{path}: parameter.{key}: needs numbers 'fast' and 'slow' and a 'source'"
            raise SpecError(msg) from None
    return TransitParameters(values, sources)


def _merge_ordered(items: Sequence[tuple[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in items:
        out[k] = out.get(k, 0.0) + v
    return out


def _country_sequence(legs: Sequence[Leg]) -> list[tuple[str, str]]:
    """(country, node name at which it is entered) runs along the route, sea skipped."""
    runs: list[tuple[str, str]] = []
    for leg in legs:
        first = next((c for c in leg.km_by_country if c != SEA), None)
        for code in leg.km_by_country:
            if code == SEA or (runs and runs[-1][0] == code):
                continue
            at = leg.from_name if code == first else f"between {leg.from_name} and {leg.to_name}"
            runs.append((code, at))
    return runs


def _gauge_breaks(legs: Sequence[Leg]) -> list[str]:
    """Changes of track gauge between rail legs; a sea leg (containers transshipped) resets."""
    breaks, last = [], None
    for leg in legs:
        if leg.mode == "sea":
            last = None
        elif leg.mode == "rail" and leg.gauge_mm is not None:
            if last is not None and last[0] != leg.gauge_mm:
                breaks.append(leg.from_name)
            last = (leg.gauge_mm, leg.to_name)
    return breaks


def _cross_track_km(px: np.ndarray, py: np.ndarray, ax: np.ndarray, ay: np.ndarray,
                    bx: np.ndarray, by: np.ndarray) -> np.ndarray:  # fmt: skip
    """Great-circle distance (km) from points P to arcs AB, clamped to the arc ends."""

    def xyz(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        lo, la = np.radians(lon), np.radians(lat)
        return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)

    p, a, b = xyz(px, py), xyz(ax, ay), xyz(bx, by)
    n = np.cross(a, b)
    nn = np.linalg.norm(n, axis=-1, keepdims=True)
    degenerate = nn[..., 0] < 1e-12
    n = np.where(degenerate[..., None], 0.0, n / np.where(nn == 0, 1, nn))
    s = np.clip(np.sum(p * n, axis=-1), -1, 1)
    cross = np.abs(np.arcsin(s))
    # the foot of the perpendicular must lie between A and B, else the nearer end counts
    foot = p - s[..., None] * n
    inside = (np.sum(np.cross(a, foot) * n, axis=-1) >= 0) & (np.sum(np.cross(foot, b) * n, axis=-1) >= 0)
    da = np.arccos(np.clip(np.sum(p * a, axis=-1), -1, 1))
    db = np.arccos(np.clip(np.sum(p * b, axis=-1), -1, 1))
    ang = np.where(inside & ~degenerate, cross, np.minimum(da, db))
    return np.asarray(ang * EARTH_RADIUS_KM)


def deposits_near(
    geometry: shapely.Geometry, deposits: gpd.GeoDataFrame, buffer_km: float = DEFAULT_BUFFER_KM
) -> np.ndarray:
    """Boolean mask of ``deposits`` within ``buffer_km`` of ``geometry`` (great-circle km).

    A spatial index gives candidates with a generous window; the distance itself is measured
    on the sphere, so the result does not depend on latitude.
    """
    n = len(deposits)
    if n == 0:
        return np.zeros(0, dtype=bool)
    coords = [np.asarray(part.coords) for part in _parts(geometry)]
    starts = np.concatenate([c[:-1, :2] for c in coords])
    ends = np.concatenate([c[1:, :2] for c in coords])
    pieces = shapely.linestrings(np.stack([starts, ends], axis=1))
    tree = shapely.STRtree(pieces)
    max_lat = min(89.0, float(np.abs(np.concatenate([starts[:, 1], ends[:, 1]])).max()) + buffer_km / 100)
    # degrees of longitude shrink with latitude; this window is wider than buffer_km everywhere
    window = buffer_km / (111.0 * math.cos(math.radians(max_lat))) * 1.05 + 0.01
    xy = shapely.get_coordinates(deposits.geometry.values)
    pts = shapely.points(xy)
    ip, ie = tree.query(pts, predicate="dwithin", distance=window)
    mask = np.zeros(n, dtype=bool)
    if ip.size:
        d = _cross_track_km(xy[ip, 0], xy[ip, 1], starts[ie, 0], starts[ie, 1], ends[ie, 0], ends[ie, 1])
        mask[ip[d <= buffer_km]] = True
    return mask


def _parts(g: shapely.Geometry) -> list[shapely.LineString]:
    return list(g.geoms) if hasattr(g, "geoms") else [g]


def _transit_days(legs: Sequence[Leg], borders: int, gauge_breaks: int) -> dict[str, float]:
    tp = transit_parameters()
    low = high = 0.0
    for leg in legs:
        if leg.mode == "rail":
            region = "rail_1435_km_per_day" if leg.gauge_mm == 1435 else "rail_1520_km_per_day"
            fast, slow = tp.get(region)
            low += leg.length_km / fast
            high += leg.length_km / slow
        elif leg.mode == "road":
            fast, slow = tp.get("road_km_per_day")
            low += leg.length_km / fast
            high += leg.length_km / slow
        elif leg.mode == "ferry":
            fast, slow = tp.get("ferry_km_per_day")
            wf, ws = tp.get("ferry_wait_days")
            low += leg.length_km / fast + wf
            high += leg.length_km / slow + ws
        else:  # sea
            fast, slow = tp.get("ship_knots")
            pf, ps = tp.get("port_call_days")
            low += leg.length_km / (fast * 1.852 * 24) + pf
            high += leg.length_km / (slow * 1.852 * 24) + ps
    bf, bs = tp.get("border_hours")
    gf, gs = tp.get("gauge_change_hours")
    low += (borders * bf + gauge_breaks * gf) / 24
    high += (borders * bs + gauge_breaks * gs) / 24
    return {"low": round(low, 1), "high": round(high, 1)}


def route_stats(
    route: Route, *, network: Network | None = None, buffer_km: float = DEFAULT_BUFFER_KM
) -> dict[str, Any]:
    """Every statistic of one route, as a JSON-ready dict (keys: :data:`STAT_KEYS`)."""
    net = network or load_network()
    legs = route.legs
    length = sum(leg.length_km for leg in legs)
    by_mode = _merge_ordered([(leg.mode, leg.length_km) for leg in legs])
    all_km = _merge_ordered([kv for leg in legs for kv in leg.km_by_country.items()])
    sea = all_km.pop(SEA, 0.0)
    runs = _country_sequence(legs)
    crossings = [
        {"from": a[0], "to": b[0], "at": b[1]} for a, b in zip(runs, runs[1:], strict=False)
    ]
    gauge = _gauge_breaks(legs)
    mode_changes = [
        b.from_name for a, b in zip(legs, legs[1:], strict=False) if a.mode != b.mode
    ]
    chokepoints: list[str] = []
    for leg in legs:
        chokepoints.extend(p for p in leg.passages if p not in chokepoints)
    geom = shapely.MultiLineString([p for leg in legs for p in _parts(leg.geometry)])
    near = deposits_near(geom, net.deposits, buffer_km)
    hits = net.deposits[near]
    by_commodity: dict[str, int] = {}
    for comms in hits.get("commodities", pd.Series(dtype=object)):
        for c in comms if isinstance(comms, list) else []:
            by_commodity[c] = by_commodity.get(c, 0) + 1
    precision = _merge_ordered([(leg.precision, leg.length_km) for leg in legs])
    russia = all_km.get("RUS", 0.0)
    return {
        "length_km": round(length, 1),
        "length_km_by_mode": {k: round(v, 1) for k, v in by_mode.items()},
        "length_km_by_country": {k: round(v, 1) for k, v in all_km.items()},
        "countries": list(dict.fromkeys(c for c, _ in runs)),
        "transits_russia": russia > 0,
        "russia_km": round(russia, 1),
        "border_crossings": {"count": len(crossings), "list": crossings},
        "gauge_breaks": {"count": len(gauge), "at": gauge},
        "transshipments": {"count": len(mode_changes), "at": mode_changes},
        "sea_km": round(sea, 1),
        "chokepoints": chokepoints,
        "transit_days": _transit_days(legs, len(crossings), len(gauge)),
        "deposits_nearby": {
            "count": int(near.sum()),
            "by_commodity": dict(sorted(by_commodity.items())),
            "ids": sorted(map(str, hits["id"])) if len(hits) else [],
        },
        "precision_share": {
            k: round(precision.get(k, 0.0) / length, 3) if length else 0.0
            for k in ("traced", "schematic", "straight")
        },
    }


def legs_frame(route: Route) -> gpd.GeoDataFrame:
    """A route's legs as a GeoDataFrame, in travel order."""
    rows = [
        {"segment_id": leg.segment_id, "from": leg.from_name, "to": leg.to_name,
         "mode": leg.mode, "status": leg.status, "corridor": leg.corridor,
         "gauge_mm": leg.gauge_mm, "precision": leg.precision,
         "length_km": round(leg.length_km, 1),
         "countries": [c for c in leg.km_by_country if c != SEA], "geometry": leg.geometry}
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
    from .layers import bundled_dir

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
            raise SpecError(msg) from None
    return tuple(specs)


def run_reference(spec: RouteSpec, network: Network | None = None) -> Route:
    net = network or load_network()
    r = find_route(net, spec.origin, spec.destination, via=spec.via, constraints=spec.constraints)
    r.route_id, r.name = spec.id, spec.name
    return r


def reference_routes(
    route_ids: Sequence[str] | None = None,
    *,
    network: Network | None = None,
    buffer_km: float = DEFAULT_BUFFER_KM,
) -> gpd.GeoDataFrame:
    """Statistics of the reference routes: one row per route, geometry the whole route.

    Columns: ``id``, ``name``, every key of :data:`STAT_KEYS`, ``path``.
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
    for spec in specs:
        route = run_reference(spec, net)
        stats = route_stats(route, network=net, buffer_km=buffer_km)
        geom = shapely.MultiLineString([p for leg in route.legs for p in _parts(leg.geometry)])
        rows.append({"id": spec.id, "name": spec.name, **stats, "path": route.path,
                     "geometry": geom})  # fmt: skip
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
