"""The route network: nodes and segments (bundled and user-added) as a networkx graph.

Each edge is one segment and carries its geodesic length, mode, status, gauge, corridor,
precision, passages and km by country (in from -> to order). The network is built once per
process for a given set of layers.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
import shapely.ops

from ..data.bundled import bundled_dir, bundled_layers
from ..data.columns import ColumnsError, open_copy
from ..data.countries import SEA, km_by_country
from ..data.files import atomic_write_bytes
from ..data.geodesy import GEOD
from ..data.layers import cache_dir, load_bundled
from . import netcache
from .capacity import FIELD_KM
from .commodities import commodity_table
from .corridors import Section, TracedSection, load_sections, trace_sections
from .netcache import NetworkCacheError

SNAP_KM = 5.0  # a line end this close to a node is joined to it
SLIVER_KM = 3.0  # country pieces shorter than this are generalisation noise of the 1:50m borders
RUSSIA = ("RUS",)
SEGMENT_LAYERS = ("trans_caspian", "bri_alternatives", "tankers")
# The deposit properties the analysis reads (names and ids of places, statistics near a route,
# access legs, bypass origins, exports): a network built with ``deposit_columns`` set to these
# gives the same routes and statistics, and its builder need not read a deposit layer's other
# columns at all. Pages show every column (popups), so their network keeps them.
DEPOSIT_COLUMNS = ("id", "name", "commodities", "country", "status", "output_value",
                   "output_unit")  # fmt: skip


@dataclass(eq=False)
class Network:
    """A built network: the graph plus the frames it came from and what building reported.

    The graph is frozen (:func:`networkx.freeze`): a network is never changed after it is built,
    so what is derived from it can be kept beside it. Those caches are the declared fields
    ``names`` (place-name indexes, filled by :mod:`geo.analysis.routing` on first use) and
    ``subgraphs`` (the cheapest allowed edges per set of constraints, their search matrices,
    and the constraint-free edge table :func:`geo.analysis.routing.edge_table` makes them from).
    """

    graph: nx.MultiGraph
    nodes: gpd.GeoDataFrame  # indexed by id
    segments: gpd.GeoDataFrame  # with length_km, km_by_country, countries, russia_km
    deposits: gpd.GeoDataFrame
    snapped: list[str] = field(default_factory=list)
    dangling: list[str] = field(default_factory=list)
    stations: list[str] = field(default_factory=list)
    sections: list[TracedSection] = field(default_factory=list)
    untraced: list[str] = field(default_factory=list)
    names: dict[str, dict[str, list[str]]] = field(default_factory=dict, repr=False)
    subgraphs: dict[Any, nx.Graph] = field(default_factory=dict, repr=False)


def _merge_slivers(pieces: dict[str, float], order: list[str]) -> dict[str, float]:
    """Give pieces shorter than SLIVER_KM to their neighbour so the total stays the same."""
    if len(order) <= 1:
        return pieces
    out = dict(pieces)
    for code in list(order):
        km = out.get(code, 0.0)
        if code == SEA or km >= SLIVER_KM or len(out) <= 1:
            continue
        i = order.index(code)
        neighbours = [c for c in order[i - 1 : i] + order[i + 1 : i + 2] if c in out and c != code]
        if not neighbours:
            continue
        target = max(neighbours, key=lambda c: out[c])
        out[target] += out.pop(code)
        order.remove(code)
    return {c: out[c] for c in order if c in out}


def segment_countries(line: shapely.Geometry) -> dict[str, float]:
    """Km by country along a line, slivers merged, in the order the line enters them."""
    raw = km_by_country(line)
    return _merge_slivers(raw, list(raw))


def _endpoint_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2] / 1000.0)


def _nearest_node(nodes: gpd.GeoDataFrame, x: float, y: float) -> tuple[str, float]:
    d = [(_endpoint_km((x, y), (p.x, p.y)), str(i)) for i, p in nodes.geometry.items()]
    km, nid = min(d)
    return nid, km


def _ends(geom: shapely.Geometry) -> tuple[tuple[float, float], tuple[float, float]]:
    parts = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
    (x0, y0), (x1, y1) = parts[0].coords[0][:2], parts[-1].coords[-1][:2]
    return (x0, y0), (x1, y1)


# --- the traced rail network: topology by shared end coordinates --------------------------------

RAIL_LAYERS = ("rail",)  # derived network layers: noded by coordinates, no from/to
PIPELINE_LAYERS = ("pipelines",)  # the same for pipelines: lines meet at shared ends
NODE_LAYERS = ("nodes", "places")
TERMINAL_LAYERS = ("terminals",)  # oil terminals and gas delivery points (pipelines meet tankers)
ENERGY = "energy_terminal"  # the nodes column marking them: never rail stations
STATION_KM = 10.0  # a named place this close to a rail line is a station on it
JUNCTION_KM = 3.0  # ... and takes a line end or junction this close rather than splitting a line
COORD_ROUND = 5  # decimals of the rail layer's coordinates (1e-5 degrees, about 1 m)
CROSSING_JOIN_KM = 45.0  # national networks join at a border only this near a crossing node
# ... where a border has controlled crossings: the corridor region's. Between two other
# countries (the EU, the Balkans) track that meets at the border is joined there.
CONTROLLED_BORDERS = frozenset({"AFG", "ARM", "AZE", "BLR", "CHN", "GEO", "IRN", "KAZ", "KGZ",
                                "MNG", "RUS", "TJK", "TKM", "TUR", "UZB"})  # fmt: skip


def _vertex_keys(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """One key per rounded coordinate pair (the rail layer's shared ends are exact)."""
    return np.round(x, COORD_ROUND) + 1j * np.round(y, COORD_ROUND)


@dataclass(frozen=True)
class RailEdges:
    """The rail layer as edges between vertices, before places are attached."""

    u: list[str]
    v: list[str]
    geoms: list[shapely.Geometry]
    rows: list[int]  # row of the rail frame each edge comes from
    vertex_xy: dict[str, tuple[float, float]]
    vertex_country: dict[str, str]


def rail_edges(rail: gpd.GeoDataFrame, crossings: np.ndarray | None = None) -> RailEdges:
    """Vertices at the rail layer's line ends, numbered in coordinate order (deterministic).

    Where lines of two countries meet at a border of the corridor region
    (:data:`CONTROLLED_BORDERS`), they join only if a border crossing (``crossings``: lon/lat
    rows) lies within :data:`CROSSING_JOIN_KM`; elsewhere the meeting is the track crossing a
    generalised 1:50m border, or a border that is closed (Kars - Gyumri), and each country
    keeps its own vertex there.
    """
    geoms = np.asarray(rail.geometry.values)
    n = len(geoms)
    first = shapely.get_point(geoms, 0)
    last = shapely.get_point(geoms, -1)
    xs = np.concatenate([shapely.get_x(first), shapely.get_x(last)])
    ys = np.concatenate([shapely.get_y(first), shapely.get_y(last)])
    keys = _vertex_keys(xs, ys)
    countries = rail["country"].astype(str).to_numpy() if "country" in rail else np.full(n, "")
    ends_country = np.concatenate([countries, countries]).astype(str)
    uniq, inverse = np.unique(keys, return_inverse=True)
    mixed = np.zeros(len(uniq), dtype=bool)
    seen: dict[int, str] = {}
    for i, u in enumerate(inverse):
        c = seen.setdefault(int(u), ends_country[i])
        if c != ends_country[i] and {c, ends_country[i]} & CONTROLLED_BORDERS:
            mixed[u] = True
    near = np.zeros(len(uniq), dtype=bool)
    if crossings is not None and len(crossings) and mixed.any():
        at = np.flatnonzero(mixed)
        for j in at:
            d = GEOD.inv(np.full(len(crossings), uniq[j].real), np.full(len(crossings),
                         uniq[j].imag), crossings[:, 0], crossings[:, 1])[2]  # fmt: skip
            near[j] = bool((d <= CROSSING_JOIN_KM * 1000.0).any())
    split = mixed & ~near
    labels = [(float(uniq[u].real), float(uniq[u].imag), ends_country[i] if split[u] else "")
              for i, u in enumerate(inverse)]  # fmt: skip
    order = {lab: k for k, lab in enumerate(sorted(set(labels)))}
    vid = [f"j{order[lab]}" for lab in labels]
    vertex_country: dict[str, str] = {}
    vertex_xy: dict[str, tuple[float, float]] = {}
    for i, v in enumerate(vid):
        vertex_country.setdefault(v, str(ends_country[i]))
        vertex_xy.setdefault(v, labels[i][:2])
    vertex_xy = dict(sorted(vertex_xy.items(), key=lambda kv: int(kv[0][1:])))
    return RailEdges(vid[:n], vid[n:], list(geoms), list(range(n)), vertex_xy,
                     vertex_country)  # fmt: skip


@dataclass(frozen=True)
class Station:
    """Where a named place joins the rail network."""

    node: str
    vertex: str | None  # an existing vertex it takes, or None when it splits ``edge``
    edge: int  # index into RailEdges when splitting
    at: float  # position along the edge's line (0..1, planar) when splitting
    km: float  # from the place to the network


def find_stations(
    nodes: gpd.GeoDataFrame,
    re: RailEdges,
    rail: gpd.GeoDataFrame,
    *,
    station_km: float = STATION_KM,
) -> list[Station]:
    """Where each named place meets the rail network.

    A line end or junction within :data:`JUNCTION_KM` (one of the place's own country first),
    else the nearest point of a line within ``station_km`` (a line of its own country first).
    """
    if not len(re.geoms) or not len(nodes):
        return []
    tree = shapely.STRtree(re.geoms)
    vids = list(re.vertex_xy)
    vxy = np.array([re.vertex_xy[v] for v in vids])
    vtree = shapely.STRtree(shapely.points(vxy))
    pts = np.asarray(nodes.geometry.values)
    lat = np.abs(shapely.get_y(pts))
    deg = station_km / (111.32 * np.cos(np.radians(np.minimum(lat, 80.0)))) * 1.05
    out: list[Station] = []
    line_country = rail["country"].astype(str).to_numpy() if "country" in rail else None
    for i, (nid, p) in enumerate(zip(nodes.index.astype(str), pts, strict=True)):
        country = str(nodes["country"].iat[i]) if "country" in nodes else ""
        near_v = vtree.query(p, predicate="dwithin", distance=JUNCTION_KM / 111.32 / max(
            np.cos(np.radians(min(lat[i], 80.0))), 0.1) * 1.05)  # fmt: skip
        best_v: tuple[bool, float, str] | None = None
        for j in near_v:
            x, y = vxy[int(j)]
            km = _endpoint_km((p.x, p.y), (x, y))
            cand = (re.vertex_country.get(vids[int(j)]) != country, km, vids[int(j)])
            if km <= JUNCTION_KM and (best_v is None or cand < best_v):
                best_v = cand
        if best_v is not None and not best_v[0]:
            out.append(Station(nid, best_v[2], -1, 0.0, best_v[1]))
            continue
        best_e: tuple[bool, float, int, float] | None = None
        for j in tree.query(p, predicate="dwithin", distance=float(deg[i])):
            line = re.geoms[int(j)]
            at = float(shapely.line_locate_point(line, p, normalized=True))
            q = shapely.line_interpolate_point(line, at, normalized=True)
            km = _endpoint_km((p.x, p.y), (q.x, q.y))
            other = line_country is not None and line_country[re.rows[int(j)]] != country
            cand_e = (other, km, int(j), at)
            if km <= station_km and (best_e is None or cand_e < best_e):
                best_e = cand_e
        if best_v is not None and (best_e is None or best_v[:2] <= best_e[:2]):
            out.append(Station(nid, best_v[2], -1, 0.0, best_v[1]))
        elif best_e is not None:
            out.append(Station(nid, None, best_e[2], best_e[3], best_e[1]))
    return out


def _junction_names(
    named: gpd.GeoDataFrame,
    vertices: dict[str, tuple[float, float]],
    prefix: str = "junction near",
) -> dict[str, str]:
    """A junction's name for legs and messages: "junction near Shu (12 km)"."""
    if not len(named) or not vertices:
        return {v: f"rail junction {y:.3f}, {x:.3f}" for v, (x, y) in vertices.items()}
    pts = np.asarray(named.geometry.values)
    tree = shapely.STRtree(pts)
    ids = list(vertices)
    q = shapely.points(np.array([vertices[v] for v in ids]))
    nearest = tree.nearest(q)
    nx_, ny_ = shapely.get_x(pts[nearest]), shapely.get_y(pts[nearest])
    qx, qy = shapely.get_x(q), shapely.get_y(q)
    km = GEOD.inv(qx, qy, nx_, ny_)[2] / 1000.0
    names = named["name"].astype(str).to_numpy()[nearest]
    return {v: f"{prefix} {names[i]} ({km[i]:.0f} km)" for i, v in enumerate(ids)}


def _rail_attrs(row: int, cols: dict[str, np.ndarray]) -> dict[str, Any]:
    gauge = cols["gauge_mm"][row]
    return {
        "name": str(cols["name"][row]), "mode": "rail", "status": str(cols["status"][row]),
        "corridor": "", "precision": str(cols["precision"][row]),
        "gauge_mm": None if gauge is None or pd.isna(gauge) else int(gauge),
        "passages": (), "source": cols["source"][row], "country": str(cols["country"][row]),
    }  # fmt: skip


ACCESS_SPACING_KM = 25.0  # lines of deposit countries get a vertex at least this often
ACCESS_COUNTRIES = frozenset({"KAZ", "KGZ", "TJK", "TKM", "UZB", "AZE", "AFG", "MNG"})


def _access_points(
    row: int,
    line: shapely.LineString,
    cols: dict[str, np.ndarray],
    points: dict[str, tuple[float, float, str]],
) -> list[tuple[float, str]]:
    """Points every :data:`ACCESS_SPACING_KM` along a long line of a deposit country.

    A deposit's road ends at the nearest vertex of the network; on a line that runs hundreds
    of km between junctions (the steppe), that vertex may lie far from where the road meets
    the track. These points put the end of such a road within half the spacing of the
    nearest point of the line. They are vertices of the graph (kind ``junction``, named "track
    near ..."), not stations; routes show the legs through them as one.
    """
    country = str(cols["country"][row])
    known = cols["length_km"][row]
    if country not in ACCESS_COUNTRIES or known is None or pd.isna(known):
        return []
    n = int(float(known) // ACCESS_SPACING_KM)
    out = []
    for i in range(1, n + 1):
        at = i / (n + 1)
        pid = f"{cols['id'][row]}@{i}"
        p = shapely.line_interpolate_point(line, at, normalized=True)
        points[pid] = (round(p.x, COORD_ROUND), round(p.y, COORD_ROUND), country)
        out.append((at, pid))
    return out


def _split_line(line: shapely.LineString, ats: Sequence[float]) -> list[shapely.LineString]:
    """``line`` cut at the (sorted, 0..1, planar) positions ``ats``; vertices kept exactly."""
    xy = shapely.get_coordinates(line)
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
    total = cum[-1]

    def at(d: float) -> np.ndarray:
        return np.array([np.interp(d, cum, xy[:, 0]), np.interp(d, cum, xy[:, 1])])

    out = []
    for a, b in itertools.pairwise([0.0, *ats, 1.0]):
        da, db = a * total, b * total
        inner = xy[(cum > da) & (cum < db)]
        pts = np.vstack([at(da), inner, at(db)])
        if len(pts) < 2:  # two places at one spot: a 0 km piece
            pts = np.vstack([pts, pts])
        out.append(shapely.LineString(pts))
    return out


def add_rail(
    g: nx.MultiGraph, nodes: gpd.GeoDataFrame, rail: gpd.GeoDataFrame
) -> tuple[list[dict[str, Any]], list[str]]:
    """Add the traced rail network to ``g`` with the named places attached as its stations.

    A place takes a line end or junction within :data:`JUNCTION_KM`, else splits the nearest
    line within :data:`STATION_KM` (a line of its own country first). Returns the segment rows
    (for the network's frame) and one line per attached place.
    """
    rail = rail.reset_index(drop=True)
    if ENERGY in nodes:  # oil terminals and gas delivery points are no rail stations
        nodes = nodes[~nodes[ENERGY].fillna(False).astype(bool).to_numpy()]
    cross = nodes[nodes["kind"].astype(str) == "border_crossing"] if "kind" in nodes else nodes[:0]
    xy = np.column_stack(
        [shapely.get_x(cross.geometry.values), shapely.get_y(cross.geometry.values)]
    )
    re = rail_edges(rail, xy)
    stations = find_stations(nodes, re, rail)
    alias: dict[str, str] = {}
    links: list[tuple[str, str]] = []
    splits: dict[int, list[tuple[float, str]]] = {}
    report: list[str] = []
    for s in stations:
        report.append(f"{s.node}: {s.km:.1f} km from the rail network")
        if s.vertex is not None:
            if s.vertex in alias:
                links.append((s.node, alias[s.vertex]))
            else:
                alias[s.vertex] = s.node
        else:
            splits.setdefault(s.edge, []).append((s.at, s.node))
    free = {v: xy for v, xy in re.vertex_xy.items() if v not in alias}
    names = _junction_names(nodes, free)
    for v, (x, y) in free.items():
        g.add_node(v, name=names[v], kind="junction", country=re.vertex_country[v], x=x, y=y)
    cols = {c: rail[c].to_numpy(dtype=object) if c in rail else np.full(len(rail), None)
            for c in ("id", "name", "status", "precision", "gauge_mm", "source", "country",
                      "length_km")}  # fmt: skip
    rows: list[dict[str, Any]] = []
    points: dict[str, tuple[float, float, str]] = {}  # access points: id -> (x, y, country)
    for k, line in enumerate(re.geoms):
        r = re.rows[k]
        attrs = _rail_attrs(r, cols)
        ends = [alias.get(re.u[k], re.u[k]), alias.get(re.v[k], re.v[k])]
        cut = sorted(splits.get(k, []) + _access_points(r, line, cols, points))
        if cut:
            pieces = _split_line(line, [a for a, _ in cut])
            stops = [ends[0], *[n for _, n in cut], ends[1]]
        else:
            pieces, stops = [line], ends
        known = cols["length_km"][r]
        if len(pieces) == 1:
            kms = [GEOD.geometry_length(line) / 1000.0 if known is None or pd.isna(known)
                   else float(known)]  # fmt: skip
        else:
            # the pieces share the line's stated length in proportion to their geodesic ones
            kms = [GEOD.geometry_length(piece) / 1000.0 for piece in pieces]
            if known is not None and not pd.isna(known) and sum(kms) > 0:
                kms = [k * float(known) / sum(kms) for k in kms]
        for i, piece in enumerate(pieces):
            u, v = stops[i], stops[i + 1]
            km = kms[i]
            sid = str(cols["id"][r]) if len(pieces) == 1 else f"{cols['id'][r]}:{i + 1}"
            by_country = {attrs["country"]: km}
            g.add_edge(u, v, key=sid, id=sid, length_km=km, km_by_country=by_country, u=u, v=v,
                       geometry=piece, **attrs)  # fmt: skip
            rows.append(_segment_row(sid, u, v, km, by_country, piece, attrs))
    if points:
        names = _junction_names(nodes, {p: (x, y) for p, (x, y, _) in points.items()},
                                prefix="track near")  # fmt: skip
        for pid, (x, y, country) in points.items():
            g.add_node(pid, name=names[pid], kind="junction", country=country, x=x, y=y)
    for a, b in links:
        sid = f"link:{a}:{b}"
        attrs = {"name": "same station", "mode": "rail", "status": "operational",
                 "corridor": "", "precision": "straight", "gauge_mm": None, "passages": (),
                 "source": None, "country": g.nodes[a]["country"]}  # fmt: skip
        geom = shapely.LineString([(g.nodes[a]["x"], g.nodes[a]["y"]),
                                   (g.nodes[b]["x"], g.nodes[b]["y"])])  # fmt: skip
        by_country = {str(attrs["country"]): 0.0}
        g.add_edge(a, b, key=sid, id=sid, length_km=0.0, km_by_country=by_country, u=a, v=b,
                   geometry=geom, **attrs)  # fmt: skip
        rows.append(_segment_row(sid, a, b, 0.0, by_country, geom, attrs))
    return rows, report


def _segment_row(sid: str, u: str, v: str, km: float, by_country: dict[str, float],
                 geom: shapely.Geometry, attrs: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    return {"id": sid, "from_node": u, "to_node": v, "length_km": km,
            "km_by_country": by_country, "countries": [c for c in by_country if c != SEA],
            "russia_km": sum(by_country.get(c, 0.0) for c in RUSSIA), "geometry": geom,
            "name": attrs["name"], "mode": attrs["mode"], "status": attrs["status"],
            "precision": attrs["precision"], "gauge_mm": attrs["gauge_mm"],
            "source": attrs["source"], "corridor": attrs["corridor"],
            "fuel": attrs.get("fuel"), "owner": attrs.get("owner"),
            "capacity_kbd": attrs.get("capacity_kbd"),
            "capacity_bcm_y": attrs.get("capacity_bcm_y")}  # fmt: skip


def add_pipelines(
    g: nx.MultiGraph,
    nodes: gpd.GeoDataFrame,
    pipes: gpd.GeoDataFrame,
    fields: gpd.GeoDataFrame | None = None,
) -> list[dict[str, Any]]:
    """Add the pipelines layer to ``g``: each line an edge between its two ends.

    The layer is noded by coordinates (lines of one fuel meet at shared ends, see
    ``geo/data/pipelines.py``). An end on the point of an energy terminal (a node of
    :data:`TERMINAL_LAYERS`, marked in column :data:`ENERGY`) is that terminal, where oil
    passes to and from tankers; any other end is a pipeline vertex
    (``pipe:j<n>``, kind ``junction``, named "pipeline junction near ..."), numbered in
    coordinate order. Pipeline vertices are never rail vertices: freight changes between pipe
    and anything else only at a terminal. Edges carry the line's ``fuel``, capacity and owner.
    ``fields`` (``name``, ``fuel``, point geometry) puts a vertex on a line where an oil or gas
    field lies beside it (:func:`_field_points`). Returns the segment rows for the network's
    frame.
    """
    pipes = pipes.reset_index(drop=True)
    if not len(pipes):
        return []
    energy = (nodes[ENERGY].fillna(False).astype(bool).to_numpy() if ENERGY in nodes
              else np.zeros(len(nodes), dtype=bool))  # fmt: skip
    terminals = nodes[energy]
    at = {(round(float(p.x), COORD_ROUND), round(float(p.y), COORD_ROUND)): str(i)
          for i, p in zip(terminals.index, terminals.geometry, strict=True)}  # fmt: skip
    ends = [_ends(geom) for geom in pipes.geometry]
    keys = [tuple((round(x, COORD_ROUND), round(y, COORD_ROUND)) for x, y in pair)
            for pair in ends]  # fmt: skip
    free = sorted({k for pair in keys for k in pair if k not in at})
    vid = {k: f"pipe:j{n}" for n, k in enumerate(free)}
    vid.update(at)
    named = nodes[~energy]
    names = _junction_names(named, {vid[k]: k for k in free}, prefix="pipeline junction near")
    countries = pipes["country"].astype(str).to_numpy() if "country" in pipes else None
    for k in free:
        g.add_node(vid[k], name=names[vid[k]], kind="junction", country="", x=k[0], y=k[1])
    rows: list[dict[str, Any]] = []
    for i, (row, pair) in enumerate(zip(pipes.itertuples(index=False), keys, strict=True)):
        u, v = vid[pair[0]], vid[pair[1]]
        country = str(countries[i]) if countries is not None else ""
        for n in (u, v):
            if not g.nodes[n].get("country"):
                g.nodes[n]["country"] = country
        p = row._asdict()
        known = p.get("length_km")
        km = (GEOD.geometry_length(row.geometry) / 1000.0 if known is None or pd.isna(known)
              else float(known))  # fmt: skip
        by_country = {country: km} if country else segment_countries(row.geometry)
        attrs = {
            "name": str(p.get("name")), "mode": "pipeline", "status": str(p.get("status")),
            "corridor": "", "precision": str(p.get("precision") or "schematic"),
            "gauge_mm": None, "passages": (), "source": p.get("source"), "country": country,
            "fuel": str(p.get("fuel")), "owner": _text(p.get("owner")),
            "capacity_kbd": _number(p.get("capacity_kbd")),
            "capacity_bcm_y": _number(p.get("capacity_bcm_y")),
        }  # fmt: skip
        sid = str(p["id"])
        cut = _field_points(row.geometry, str(p.get("fuel")), fields)
        if not cut:
            g.add_edge(u, v, key=sid, id=sid, length_km=km, km_by_country=by_country, u=u, v=v,
                       geometry=row.geometry, **attrs)  # fmt: skip
            rows.append(_segment_row(sid, u, v, km, by_country, row.geometry, attrs))
            continue
        pieces = _split_line(row.geometry, [a for a, _ in cut])
        stops = [u, *(f"{sid}@{name}" for _, name in cut), v]
        for (pos, name), stop in zip(cut, stops[1:-1], strict=True):
            q = shapely.line_interpolate_point(row.geometry, pos, normalized=True)
            x, y = round(q.x, COORD_ROUND), round(q.y, COORD_ROUND)
            g.add_node(stop, name=f"{attrs['name']} near {name}", kind="junction",
                       country=country, x=x, y=y)  # fmt: skip
        kms = [GEOD.geometry_length(piece) / 1000.0 for piece in pieces]
        kms = [k * km / sum(kms) for k in kms] if sum(kms) > 0 else kms
        for j, piece in enumerate(pieces):
            a, b, pid, pkm = stops[j], stops[j + 1], f"{sid}:{j + 1}", kms[j]
            g.add_edge(a, b, key=pid, id=pid, length_km=pkm, km_by_country={country: pkm}, u=a,
                       v=b, geometry=piece, **attrs)  # fmt: skip
            rows.append(_segment_row(pid, a, b, pkm, {country: pkm}, piece, attrs))
    return rows


def _field_points(
    line: shapely.Geometry, fuel: str, fields: gpd.GeoDataFrame | None
) -> list[tuple[float, str]]:
    """Where fields of ``fuel`` lie within FIELD_KM of ``line``'s interior: (position, name).

    A field beside a line that runs on for hundreds of km to its next junction gets a vertex
    on it, where its gathering leg meets the line (positions 0..1, planar, sorted). Points
    within a km of an end are left to that end.
    """
    if fields is None or not len(fields) or line.geom_type != "LineString":
        return []
    mine = fields.attrs.get("by_fuel", {}).get(fuel)
    if mine is None:
        mine = fields[fields["fuel"].to_numpy() == fuel]
    pts = mine.geometry.to_numpy()
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    # only fields in the line's box grown by FIELD_KM can be that near (a degree of latitude
    # is over 110 km; one of longitude 111.3 km times the cosine of the box's highest latitude)
    x0, y0, x1, y1 = line.bounds
    dy = FIELD_KM / 110.0
    top = min(89.0, max(abs(y0), abs(y1)) + dy)
    dx = FIELD_KM / (111.3 * float(np.cos(np.radians(top))))
    near = (x >= x0 - dx) & (x <= x1 + dx) & (y >= y0 - dy) & (y <= y1 + dy)
    if not near.any():
        return []
    at = shapely.line_locate_point(line, pts[near], normalized=True)
    q = shapely.line_interpolate_point(line, at, normalized=True)
    km = GEOD.inv(x[near], y[near], shapely.get_x(q), shapely.get_y(q))[2] / 1000.0
    total = GEOD.geometry_length(line) / 1000.0
    keep = (km <= FIELD_KM) & (at * total > 1.0) & (at * total < total - 1.0)
    names = mine["name"].to_numpy()[near][keep]
    return sorted((float(a), str(n)) for a, n in zip(at[keep], names, strict=True))


def _fields(deposits: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """The deposits that travel by pipeline, with the fuel they travel in."""
    if deposits is None or not len(deposits) or "commodities" not in deposits:
        return None
    table = commodity_table()
    fuel = [next((table.rule(str(c)).fuel for c in (cs if isinstance(cs, list) else [])
                  if table.rule(str(c)).fuel), None) for cs in deposits["commodities"]]  # fmt: skip
    keep = np.array([f is not None for f in fuel], dtype=bool)
    names = deposits["name"] if "name" in deposits else deposits["id"]
    data = {"name": names.to_numpy()[keep], "fuel": np.array(fuel, dtype=object)[keep]}
    out = gpd.GeoDataFrame(data, geometry=deposits.geometry.to_numpy()[keep], crs=4326)
    # each fuel's fields, split once for the hundreds of lines that look them up
    out.attrs["by_fuel"] = {f: out[out["fuel"].to_numpy() == f] for f in set(data["fuel"])}
    return out


def _text(v: object) -> str | None:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)


def _number(v: object) -> float | None:
    if v is None or isinstance(v, str):
        return None
    f = float(v)  # type: ignore[arg-type]
    return None if np.isnan(f) else f


def build_network(
    nodes: gpd.GeoDataFrame,
    segments: gpd.GeoDataFrame,
    deposits: gpd.GeoDataFrame | None = None,
    *,
    rail: gpd.GeoDataFrame | None = None,
    pipelines: gpd.GeoDataFrame | None = None,
    sections: Sequence[Section] = (),
    snap_km: float = SNAP_KM,
) -> Network:
    """Build the network from validated node and segment frames (inputs are not changed).

    ``rail`` is the traced rail network (noded by shared line ends, no ``from``/``to``): the
    named places become its stations (see :func:`add_rail`). A segment's ``from``/``to`` that
    names no node is joined to the nearest node within ``snap_km`` of the line's end (reported
    in ``snapped``); otherwise it is left out and reported in ``dangling``. ``pipelines`` is
    the pipelines layer, noded the same way (see :func:`add_pipelines`).
    """
    nodes = nodes.drop_duplicates("id", keep="last").set_index("id", drop=False)
    segs = segments.drop_duplicates("id", keep="last").reset_index(drop=True).copy()
    g: nx.MultiGraph = nx.MultiGraph()
    for nid, row in nodes.iterrows():
        g.add_node(str(nid), name=row["name"], kind=row["kind"], country=row["country"],
                   x=row.geometry.x, y=row.geometry.y,
                   gauge_change=row.get("gauge_change") is True)  # fmt: skip
    snapped: list[str] = []
    dangling: list[str] = []
    rows: list[dict[str, Any]] = []
    stations: list[str] = []
    if rail is not None and len(rail):
        rail_rows, stations = add_rail(g, nodes, rail)
    else:
        rail_rows = []
    if pipelines is not None and len(pipelines):
        rail_rows = rail_rows + add_pipelines(g, nodes, pipelines, _fields(deposits))
    for _, s in segs.iterrows():
        start, end = _ends(s.geometry)
        ends: list[str | None] = []
        for key, pt in (("from", start), ("to", end)):
            nid = s.get(key)
            nid = nid if isinstance(nid, str) and nid else None  # NaN from a frame without it
            if nid is not None and nid in nodes.index:
                ends.append(nid)
                continue
            near, km = _nearest_node(nodes, *pt)
            if km <= snap_km:
                snapped.append(f"segment {s['id']}: {key} end joined to node {near} ({km:.1f} km)")
                ends.append(near)
            else:
                why = f"names unknown node '{nid}'" if nid else "has no node"
                dangling.append(
                    f"segment {s['id']}: {key} {why}; nearest node {near} is {km:.0f} km away"
                )
                ends.append(None)
        if None in ends:
            continue
        u, v = str(ends[0]), str(ends[1])
        geom = s.geometry
        length = GEOD.geometry_length(geom) / 1000.0
        by_country = segment_countries(geom)
        passages = s.get("passages")
        passages = tuple(passages) if isinstance(passages, list | tuple) else ()
        gauge = s.get("gauge_mm")
        gauge = None if gauge is None or pd.isna(gauge) else int(gauge)
        corridor = s.get("corridor")
        attrs = {
            "id": str(s["id"]), "name": s["name"], "mode": s["mode"], "status": s["status"],
            "corridor": corridor if isinstance(corridor, str) else "",
            "precision": s["precision"], "gauge_mm": gauge,
            "length_km": length, "km_by_country": by_country, "passages": passages,
            "u": u, "v": v, "geometry": geom, "source": s.get("source"),
            "fuel": s.get("fuel") if isinstance(s.get("fuel"), str) else None,
        }  # fmt: skip
        g.add_edge(u, v, key=str(s["id"]), **attrs)
        rows.append({"id": str(s["id"]), "from_node": u, "to_node": v, "length_km": length,
                     "km_by_country": by_country,
                     "countries": [c for c in by_country if c != SEA],
                     "russia_km": sum(by_country.get(c, 0.0) for c in RUSSIA)})  # fmt: skip
    extra = pd.DataFrame(rows, columns=["id", "from_node", "to_node", "length_km",
                                        "km_by_country", "countries", "russia_km"])  # fmt: skip
    segs["id"] = segs["id"].astype(object)  # an empty frame reads ids as floats
    segs = segs.merge(extra.astype({"id": object}), on="id", how="left")
    segs = gpd.GeoDataFrame(segs, geometry="geometry", crs=4326)
    if rail_rows:
        traced = gpd.GeoDataFrame(rail_rows, geometry="geometry", crs=4326)
        segs = gpd.GeoDataFrame(pd.concat([segs, traced], ignore_index=True),
                                geometry="geometry", crs=4326)  # fmt: skip
    if deposits is None:
        deposits = gpd.GeoDataFrame({"id": [], "name": [], "commodities": []}, geometry=[],
                                    crs=4326)  # fmt: skip
    dropped = _drop_ferries_drawn_as_track(g)
    if dropped:
        segs = segs[~segs["id"].astype(str).isin(dropped).to_numpy()]
    traced, untraced = _label_corridors(g, sections)
    if traced:
        by_key = {k: str(e["corridor"]) for _, _, k, e in g.edges(keys=True, data=True)}
        segs["corridor"] = [by_key.get(str(i), c) for i, c in zip(segs["id"], segs["corridor"],
                                                                   strict=True)]  # fmt: skip
    return Network(nx.freeze(g), nodes, segs, deposits, snapped, dangling, stations=stations,
                   sections=traced, untraced=untraced)  # fmt: skip


def _drop_ferries_drawn_as_track(g: nx.MultiGraph) -> set[str]:
    """Traced rail edges that run where a curated ferry sails: the ferry drawn as track.

    Natural Earth draws some train ferries (Lake Van: Tatvan - Van) as railroad. Where a traced
    rail edge joins the same two places as a ferry and is about as long, it is that ferry, not
    track: it is left out so that no rail-only route crosses the water.
    """
    out: set[str] = set()
    for u, v, e in list(g.edges(data=True)):
        if e.get("mode") != "ferry":
            continue
        for k, f in list(g.get_edge_data(u, v, default={}).items()):
            near = 0.7 * e["length_km"] <= f["length_km"] <= 1.3 * e["length_km"]
            if f.get("mode") == "rail" and f.get("precision") == "traced" and near:
                g.remove_edge(u, v, key=k)
                out.add(str(k))
    return out


def _label_corridors(
    g: nx.MultiGraph, sections: Sequence[Section]
) -> tuple[list[TracedSection], list[str]]:
    """Trace the corridor sections and give each edge the corridors whose itineraries use it."""
    traced: list[TracedSection] = []
    untraced: list[str] = []
    labels: dict[tuple[str, str, str], set[str]] = {}
    for t in trace_sections(g, sections):
        if isinstance(t, str):
            untraced.append(t)
            continue
        traced.append(t)
        for u, v, k in t.edges:
            labels.setdefault((u, v, k), set()).update(t.section.corridors)
    for (u, v, k), names in labels.items():
        e = g.edges[u, v, k]
        own = {c for c in str(e.get("corridor") or "").split("/") if c}
        e["corridor"] = "/".join(sorted(own | names))
    return traced, untraced


def _concat(frames: Sequence[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return gpd.GeoDataFrame(geometry=[], crs=4326)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=4326)


def load_network(
    layers: Sequence[gpd.GeoDataFrame] = (), *, deposit_columns: Sequence[str] | None = None
) -> Network:
    """The network of the bundled layers plus ``layers`` (node, segment and deposit frames).

    With ``deposit_columns`` (e.g. :data:`DEPOSIT_COLUMNS`), the network's deposits keep only
    those properties, of the bundled deposits and of ``layers`` alike.

    Nothing else is read: the user's stored layers join only when the caller passes them (the
    application does, see :func:`geo.api.network`). With no ``layers`` the bundled network is
    built once per process and shared; its graph is frozen, so no caller can change another's
    answers.
    """
    if not layers and deposit_columns is None:
        return _bundled_network()
    return _build_with(layers, None if deposit_columns is None else tuple(deposit_columns))


@lru_cache(maxsize=1)
def _bundled_network() -> Network:
    """The bundled network, read from the cache folder when built before (see netcache)."""
    path = cache_dir() / "network" / "bundled.network"
    key = {"format": NETWORK_CACHE_FORMAT, "sha256": _inputs_sha256()}
    with contextlib.suppress(OSError, ColumnsError, NetworkCacheError):
        with open_copy(path) as f:  # a regular file only: a FIFO would wait for ever
            data = f.read()
        if netcache.read_key(data) == key:
            return _from_parts(netcache.decode(data))
    net = _build_with([])
    _cache_network(path, key, net)
    return net


NETWORK_CACHE_FORMAT = 1


def _inputs_sha256() -> str:
    """A checksum of what the bundled network is built from: the code and the bundled files."""
    versions = [f"{m.__name__} {m.__version__}" for m in (nx, pd, gpd, shapely, np)]
    package = Path(__file__).resolve().parents[1]
    return netcache.code_and_data_sha256(package, bundled_dir("layers"), versions)


def _to_parts(net: Network) -> netcache.Parts:
    sections = [{"section": asdict(t.section), "edges": [list(e) for e in t.edges],
                 "length_km": t.length_km} for t in net.sections]  # fmt: skip
    facts = {"snapped": net.snapped, "dangling": net.dangling, "stations": net.stations,
             "untraced": net.untraced, "sections": sections}  # fmt: skip
    frames = {"nodes": net.nodes, "segments": net.segments, "deposits": net.deposits}
    return netcache.Parts(net.graph, frames, facts)


def _from_parts(parts: netcache.Parts) -> Network:
    f = parts.facts
    try:
        sections = [
            TracedSection(
                Section(**{str(k): tuple(v) if isinstance(v, list) else v
                           for k, v in dict(t["section"]).items()}),  # type: ignore[arg-type]
                tuple((str(u), str(v), str(k)) for u, v, k in t["edges"]),
                float(t["length_km"]),
            )
            for t in f["sections"]
        ]  # fmt: skip
        lists = {k: [str(x) for x in f[k]] for k in ("snapped", "dangling", "stations", "untraced")}
    except (KeyError, TypeError, ValueError) as e:
        msg = f"the network's facts are malformed ({e})"
        raise NetworkCacheError(msg) from None
    fr = parts.frames
    return Network(nx.freeze(parts.graph), fr["nodes"], fr["segments"], fr["deposits"],
                   lists["snapped"], lists["dangling"], stations=lists["stations"],
                   sections=sections, untraced=lists["untraced"])  # fmt: skip


def _cache_network(path: Path, key: dict[str, Any], net: Network) -> None:
    """Write the network's copy; one that would not read back exactly is not written."""
    parts = _to_parts(net)

    def reads_back(tmp: Path) -> None:
        back = _from_parts(netcache.decode(tmp.read_bytes()))
        if not netcache.same_parts(parts, _to_parts(back)):
            msg = "the cached network differs from the built one"
            raise NetworkCacheError(msg)

    with contextlib.suppress(OSError, NetworkCacheError):
        atomic_write_bytes(path, netcache.encode(parts, key), check=reads_back)


def _build_with(
    layers: Sequence[gpd.GeoDataFrame], deposit_columns: tuple[str, ...] | None = None
) -> Network:

    have = bundled_layers()
    nodes = [load_bundled(n) for n in NODE_LAYERS if n in have]
    for n in TERMINAL_LAYERS:
        if n in have:
            nodes.append(load_bundled(n).assign(**{ENERGY: True}))
    segs = [load_bundled(n) for n in SEGMENT_LAYERS if n in have]
    rail = [load_bundled(n) for n in RAIL_LAYERS if n in have]
    pipes = [load_bundled(n) for n in PIPELINE_LAYERS if n in have]
    deps = [load_bundled("deposits")] if "deposits" in have else []
    for lyr in layers:
        kind = lyr.attrs.get("kind")
        {"node": nodes, "segment": segs, "deposit": deps}.get(str(kind), []).append(lyr)
    if deposit_columns is not None:
        deps = [d[[c for c in d.columns if c in deposit_columns or c == d.geometry.name]]
                for d in deps]  # fmt: skip
    only_deposits = all(str(lyr.attrs.get("kind")) not in ("node", "segment") for lyr in layers)
    if only_deposits and (layers or deposit_columns is not None):
        # deposits never change the graph: share the bundled one (frozen), with these deposits
        base = _bundled_network()
        return replace(base, deposits=_concat(deps), names={}, subgraphs={})
    return build_network(_concat(nodes), _concat(segs), _concat(deps),
                         rail=_concat(rail) if rail else None,
                         pipelines=_concat(pipes) if pipes else None,
                         sections=load_sections())  # fmt: skip


def sections_frame(network: Network, layers: Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """The traced corridor sections as drawable segment rows (with ``layers``: only theirs).

    Each row carries the section's sourced facts (name, corridor, status, source, notes) and
    the network's geometry between its stations, precision ``traced`` where every edge is.
    """
    g = network.graph
    rows = []
    for t in network.sections:
        s = t.section
        if layers is not None and s.layer not in layers:
            continue
        edges = [g.edges[u, v, k] for u, v, k in t.edges]
        if not edges:
            continue
        kbc: dict[str, float] = {}
        for e in edges:
            for c, km in e["km_by_country"].items():
                kbc[c] = kbc.get(c, 0.0) + km
        parts = [p for e in edges for p in getattr(e["geometry"], "geoms", [e["geometry"]])]
        geom = shapely.line_merge(shapely.MultiLineString([p for p in parts if p.length > 0]))
        precisions = {e["precision"] for e in edges}
        gauges = [e["gauge_mm"] for e in edges if e["gauge_mm"] is not None]
        rows.append({
            "id": s.id, "name": s.name, "corridor": "/".join(s.corridors), "mode": "rail",
            "status": s.status, "gauge_mm": gauges[0] if gauges else None,
            "from": s.stops[0], "to": s.stops[-1],
            "precision": "traced" if precisions == {"traced"} else "schematic",
            "source": s.source, "as_of": s.as_of or None, "notes": s.notes or None,
            "length_km": t.length_km, "km_by_country": kbc,
            "countries": [c for c in kbc if c != SEA],
            "russia_km": sum(kbc.get(c, 0.0) for c in RUSSIA), "geometry": geom,
        })  # fmt: skip
    cols = [
        "id",
        "name",
        "corridor",
        "mode",
        "status",
        "gauge_mm",
        "from",
        "to",
        "precision",
        "source",
        "as_of",
        "notes",
        "length_km",
        "km_by_country",
        "countries",
        "russia_km",
    ]
    return gpd.GeoDataFrame(rows, columns=[*cols, "geometry"], geometry="geometry", crs=4326)


def segments_frame(network: Network | None = None) -> gpd.GeoDataFrame:
    """All segments with ``length_km``, ``km_by_country``, ``countries`` and ``russia_km``."""
    net = network or load_network()
    return net.segments.copy()
