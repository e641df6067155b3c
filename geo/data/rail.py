"""The rail network layer (``layers/rail.geojson``), derived from track sources.

``python -m geo.data.rail SOURCE_DIR [--out layers/rail.geojson]`` reads the track sources in
``SOURCE_DIR`` (Natural Earth 1:10m railroads and OpenStreetMap extracts: see
``layers/README.md``), cuts them at country borders, nodes them at junctions, snaps short line
ends, prunes sidings of the raw OpenStreetMap ways, joins national networks at the border
crossings of ``layers/nodes.geojson``, merges degree-2 chains, simplifies within 0.5 % of each
feature's length and writes one deterministic FeatureCollection. The build prints a report
(:class:`RailReport`) of what it kept, joined and could not join.

The network is noded by coordinates: features meet only at their ends, and connected features
share the exact end coordinate (rounded to 1e-5 degrees).
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import orjson
import shapely
import shapely.ops
from scipy.spatial import cKDTree

from ..errors import GeoError
from .bundled import bundled_dir
from .geodesy import GEOD
from .polylines import Coord, run_build, write_features
from .polylines import dist_km as _dist_km
from .polylines import line_coords as _coords
from .polylines import line_km as _km
from .polylines import round_deg as _r
from .polylines import split_at as _split

__all__ = [
    "BuildOptions",
    "RailReport",
    "Region",
    "Source",
    "Trace",
    "build_rail",
    "main",
    "read_traces",
    "trace_line",
    "write_rail",
]

NE_MAX_SCALERANK = 8  # Natural Earth lines shown at 1:10m and smaller scales: the trunk network
# Every Natural Earth line of these countries is kept (their networks in full).
FULL_NETWORK = frozenset({"KAZ", "KGZ", "TJK", "TKM", "UZB", "AFG"})
# Russia west of Zabaykalsk, China west of Lianyungang.
LON_LIMITS = {"RUS": 117.7, "CHN": 119.5}
# 1520 mm: the former Soviet states, Mongolia, Finland; and Afghanistan, whose lines in the
# sources are Hairatan - Mazar-i-Sharif (built by Uzbekistan's railways, 2010) and the two from
# Turkmenistan, all 1520 mm (Railway Gazette, 2024-10: https://www.railwaygazette.com/
# infrastructure/gauge-selected-for-trans-afghanistan-railway/69806.article). Its 1435 mm
# Khaf - Herat line from Iran is in no source; traced, it needs an entry in rail_gauges.toml.
BROAD_GAUGE = frozenset(
    {"RUS", "KAZ", "KGZ", "TJK", "TKM", "UZB", "AZE", "GEO", "ARM", "BLR", "MNG", "FIN", "AFG"}
)
OSM_LICENCE = "ODbL-1.0"
NE_LICENCE = "public domain"
CONNECTOR_LICENCE = "public domain"


@dataclass(frozen=True)
class Source:
    """One track source: its file, which features it gives and which countries it serves."""

    key: str
    file: str
    layer: str
    countries: frozenset[str]
    citation: str
    licence: str
    raw_ways: bool  # raw OpenStreetMap ways: sidings and yards to prune


SOURCES = (
    Source(
        "ne",
        "ne_10m_railroads_eurasia.gpkg",
        "ne_10m_railroads",
        frozenset(
            {
                "CHN",
                "MNG",
                "KAZ",
                "KGZ",
                "TJK",
                "IRN",
                "GEO",
                "ARM",
                "TUR",
                "BLR",
                "POL",
                "DEU",
                "NLD",
                "BGR",
                "ROU",
                "SRB",
                "HUN",
                "GRC",
                "MKD",
                "SVK",
                "AUT",
                "CZE",
            }
        ),
        "Natural Earth 1:10m Railroads (Made with Natural Earth): "
        "https://www.naturalearthdata.com/downloads/10m-cultural-vectors/railroads/",
        NE_LICENCE,
        raw_ways=False,
    ),
    Source(
        "osm_rus",
        "osm_russia_lines.gpkg",
        "rzd_lines",
        frozenset({"RUS"}),
        "OpenStreetMap routes (© OpenStreetMap contributors) traced by "
        "https://github.com/trolleway/russian-railways-simplegeodata "
        "(commit f1e9782ef205e0bbf931563055bfef14945083e7)",
        OSM_LICENCE,
        raw_ways=False,
    ),
    Source(
        "osm_aze_tkm",
        "osm_azerbaijan_turkmenistan.gpkg",
        "railways",
        frozenset({"AZE", "TKM", "AFG"}),
        "OpenStreetMap ways (© OpenStreetMap contributors), Overpass extract of 2026-04-01 in "
        "https://github.com/njfinney/Asia_Railway_Calculator "
        "(commit d44c7e5656aa80d987bd6f5cf7a7f3ad80af4f4d)",
        OSM_LICENCE,
        raw_ways=True,
    ),
    Source(
        "osm_uzb",
        "osm_uzbekistan.gpkg",
        "railways",
        frozenset({"UZB", "AFG"}),
        "OpenStreetMap ways (© OpenStreetMap contributors), Geofabrik extract cleaned by "
        "https://github.com/Temurbek-stack/Railway_Project_Uzbekistan "
        "(commit 213bb77f826fa514ac0553e272ff968088ca639a)",
        OSM_LICENCE,
        raw_ways=True,
    ),
)


# Lines that the sources above lack, traced along a file that has them only in pieces
# (layers/rail_traces.toml says which lines and where they start and end).
TRACE_SOURCES = {
    "osm_chn": Source(
        "osm_chn",
        "osm_china_west.gpkg",
        "railways",
        frozenset({"CHN"}),
        "OpenStreetMap ways (© OpenStreetMap contributors) of western China in "
        "https://github.com/kingtmc314/east-asia-railway-map (public/data/clean, 2026-07), "
        "traced into one line (geo.data.rail, layers/rail_traces.toml)",
        OSM_LICENCE,
        raw_ways=False,
    ),
}


@dataclass(frozen=True)
class Trace:
    """A line traced along a source's ways between waypoints (``layers/rail_traces.toml``)."""

    id: str
    name: str
    source: str  # a key of TRACE_SOURCES
    ways: tuple[str, ...]  # the ways' ``name`` or ``name:en`` in the source
    waypoints: tuple[Coord, ...]  # start, stations to pass, end
    status: str = "operational"


@dataclass(frozen=True)
class Region:
    """Track a source holds in a country it does not serve, taken where no other source has it.

    The pieces of ``source`` in ``country`` whose midpoint lies in ``bbox`` (lon/lat) are
    kept; a dangling end of them within ``join_km`` of the country's other track is joined to
    its nearest vertex by a straight connector (an extract that stops at its bounding box).
    """

    source: str
    country: str
    bbox: tuple[float, float, float, float]
    what: str
    join_km: float = 0.0


# Lines the country's own source lacks that a neighbour's OpenStreetMap extract holds.
REGIONS = (
    Region(
        "osm_aze_tkm",
        "KAZ",
        (52.8, 42.25, 53.75, 43.33),
        "Uzen - Bolashak, the Kazakh part of the Kazakhstan - Turkmenistan - Iran railway "
        "(opened 2013; not in Natural Earth)",
        # the extract stops at Uzen station (its box ends at 43.32 N), 7 km from the end of
        # Natural Earth's Mangyshlak - Uzen line
        join_km=8.0,
    ),
    Region(
        "osm_aze_tkm",
        "IRN",
        (54.21, 36.887, 54.75, 37.46),
        "Incheh Borun - Gorgan, the Iranian part of the Kazakhstan - Turkmenistan - Iran railway "
        "(opened 2013; not in Natural Earth), to its junction at Sabz Dasht",
        # the branch leaves the Gorgan line at Sabz Dasht, where Natural Earth's line runs
        # 0.3 km from OpenStreetMap's
        join_km=1.0,
    ),
)


@dataclass(frozen=True)
class BuildOptions:
    """The tolerances of a build (defaults are those of the committed layer)."""

    snap_km: float = 1.0  # a dangling end this close to another line is joined to it
    raw_snap_km: float = 0.2  # the same for raw OpenStreetMap ways (noded in the source)
    yard_km: float = 5.0  # raw-way chains up to this long go where a parallel path is as short
    yard_slack_km: float = 0.2  # ... no longer than the chain plus this
    spur_km: float = 2.0  # dangling chains of raw OpenStreetMap ways shorter than this go
    crossing_km: float = 15.0  # a border crossing joins line vertices this close to it
    crossing_search_km: float = 40.0  # a border station this far from the border still joins
    simplify_deg: float = 0.0005  # Douglas-Peucker tolerance, lowered per feature if needed
    max_length_change: float = 0.005  # simplification may change a feature's length this much
    small_component_km: float = 50.0  # components shorter than this are listed in the report
    # A run of track in one country that enters from and returns to a single neighbour, no
    # longer than sliver_km and never further than sliver_border_km from that neighbour, is
    # the 1:50m border's generalisation, not a border crossing: it takes the neighbour's code.
    sliver_km: float = 25.0
    sliver_border_km: float = 5.0
    trace_gap_km: float = 3.5  # a traced line bridges gaps this long between the source's ways
    trace_waypoint_km: float = 5.0  # a waypoint lies at most this far from the traced ways


@dataclass
class RailReport:
    """What a build kept, joined and could not join (printed by :func:`main`)."""

    features: int = 0
    size_bytes: int = 0
    seconds: float = 0.0
    km_by_country_source: dict[tuple[str, str], float] = field(default_factory=dict)
    features_by_country_source: dict[tuple[str, str], int] = field(default_factory=dict)
    source_km_by_country: dict[str, float] = field(default_factory=dict)
    components_km: dict[str, list[float]] = field(default_factory=dict)
    small_components: list[tuple[str, float, Coord]] = field(default_factory=list)
    dangling_ends: int = 0
    snaps: int = 0
    spurs_pruned: int = 0
    yard_chains_removed: int = 0
    border_joins: list[tuple[str, str, str, float]] = field(default_factory=list)
    crossings_not_joined: list[tuple[str, str]] = field(default_factory=list)
    unlisted_border_connections: list[tuple[str, str, Coord]] = field(default_factory=list)
    simplify_lowered: int = 0
    slivers: list[tuple[str, str, float, Coord]] = field(default_factory=list)
    traces: list[tuple[str, float, float]] = field(default_factory=list)  # id, km, bridged km
    region_joins: list[tuple[str, str, float]] = field(default_factory=list)

    def text(self) -> str:
        """The report as the build prints it."""
        out = [
            f"rail network: {self.features} features, {self.size_bytes / 1e6:.1f} MB"
            f"{f', built in {self.seconds:.0f} s' if self.seconds else ''}"
        ]
        out.append("km by country and source (km of the clipped source in brackets):")
        for (cc, src), km in sorted(self.km_by_country_source.items()):
            n = self.features_by_country_source[cc, src]
            raw = self.source_km_by_country.get(cc, 0.0)
            out.append(f"  {cc} {src:12s} {n:5d} features {km:10,.0f} km  ({raw:,.0f})")
        out.append("connected components per country (km, largest first):")
        for cc, sizes in sorted(self.components_km.items()):
            shown = ", ".join(f"{s:,.0f}" for s in sizes[:8])
            more = f" and {len(sizes) - 8} more" if len(sizes) > 8 else ""
            out.append(f"  {cc}: {len(sizes)} ({shown}{more})")
        out.append(f"small isolated pieces (< 50 km): {len(self.small_components)}")
        out.extend(
            f"  {cc} {km:.1f} km at {xy[0]:.5f}, {xy[1]:.5f}"
            for cc, km, xy in self.small_components
        )
        out.append(
            f"dangling ends: {self.dangling_ends}; snaps made: {self.snaps}; "
            f"spurs pruned: {self.spurs_pruned}; "
            f"yard and parallel chains removed: {self.yard_chains_removed}; "
            f"features simplified with a lowered tolerance: {self.simplify_lowered}"
        )
        out.append(f"lines traced along pieces of a source: {len(self.traces)}")
        out.extend(
            f"  {tid}: {km:,.1f} km, of which {gap:.1f} km bridge gaps between its ways"
            for tid, km, gap in self.traces
        )
        out.append(
            "border slivers (track the 1:50m borders put briefly in a neighbour, given back): "
            f"{len(self.slivers)}"
        )
        out.extend(
            f"  {b} -> {a} {km:.1f} km at {xy[0]:.5f}, {xy[1]:.5f}" for b, a, km, xy in self.slivers
        )
        out.append(f"border joins made at crossing nodes: {len(self.border_joins)}")
        out.extend(
            f"  {node} {a}-{b}: {how}" if isinstance(how, str) else ""
            for node, a, b, how in [(j[0], j[1], j[2], _join_text(j[3])) for j in self.border_joins]
        )
        out.append(f"region track joined to the country's other track: {len(self.region_joins)}")
        out.extend(f"  {cc} {km:.1f} km: {what}" for cc, what, km in self.region_joins)
        out.append(f"crossing nodes not joined: {len(self.crossings_not_joined)}")
        out.extend(f"  {node}: {why}" for node, why in self.crossings_not_joined)
        out.append(
            "cross-border connections of the track away from every crossing node "
            f"(add them to nodes.geojson if real): {len(self.unlisted_border_connections)}"
        )
        out.extend(
            f"  {pair} at {xy[0]:.5f}, {xy[1]:.5f} ({src})"
            for pair, src, xy in self.unlisted_border_connections
        )
        return "\n".join(out)


def _join_text(km: float) -> str:
    return "joined by the track" if km == 0 else f"straight connectors {km:.2f} km"


# --- geometry helpers ------------------------------------------------------------------------


def _deg(km: float, lat: float) -> float:
    """Degrees (of longitude, the wider) spanning ``km`` at latitude ``lat``."""
    return km / (111.32 * max(math.cos(math.radians(lat)), 0.1))


def _points_of(g: shapely.Geometry) -> list[Coord]:
    """Rounded points of an intersection: points, and the ends of overlapping stretches."""
    out: list[Coord] = []
    for part in shapely.get_parts(g):
        if isinstance(part, shapely.Point):
            out.append((_r(part.x), _r(part.y)))
        elif isinstance(part, shapely.LineString) and not part.is_empty:
            cs = shapely.get_coordinates(part)
            out += [(_r(cs[0][0]), _r(cs[0][1])), (_r(cs[-1][0]), _r(cs[-1][1]))]
    return out


# --- pieces ----------------------------------------------------------------------------------


@dataclass
class Piece:
    """A polyline with the attributes that decide merging."""

    coords: list[Coord]
    country: str
    source: str
    status: str = "operational"
    name: str = ""
    crossing_only: bool = False  # a bridge or tunnel: crosses lines without a junction
    precision: str = "traced"
    gauge: int | None = None
    node: str = ""  # the crossing node of a connector
    gauge_note: str = ""  # the gauge exception that set the gauge

    def line(self) -> shapely.LineString:
        """The shapely line."""
        return shapely.LineString(self.coords)

    def key(self) -> tuple[str, str, str, int | None, str]:
        """What must agree for two pieces to merge."""
        return (self.country, self.source, self.status, self.gauge, self.precision)


class _Roots:
    """Union-find over line ends: lines joined end to end share a root (the least end)."""

    def __init__(self) -> None:
        self.parent: dict[Coord, Coord] = {}

    def find(self, c: Coord) -> Coord:
        """The root of ``c``'s component."""
        parent = self.parent
        while parent.setdefault(c, c) != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    def union(self, a: Coord, b: Coord) -> None:
        """Join the components of ``a`` and ``b``."""
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _read_source(src: Source, source_dir: Path) -> gpd.GeoDataFrame:
    path = source_dir / src.file
    if not path.is_file():
        msg = f"{path}: source file missing; give the folder that holds {src.file}"
        raise GeoError(msg)
    gdf = gpd.read_file(path, layer=src.layer, engine="pyogrio")
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    status = np.full(len(gdf), "operational", dtype=object)
    crossing = np.zeros(len(gdf), bool)
    names = np.full(len(gdf), "", dtype=object)
    if src.key == "ne":
        keep = (gdf["featurecla"] == "Railroad").to_numpy()
    elif src.key == "osm_aze_tkm":
        rw = gdf["railway"].to_numpy()
        keep = np.isin(rw, ["rail", "construction"])
        status[rw == "construction"] = "under_construction"
    elif src.key == "osm_uzb":
        keep = (gdf["fclass"] == "rail").to_numpy()
        crossing = ((gdf["bridge"] == "T") | (gdf["tunnel"] == "T")).to_numpy()
        names = gdf["name"].fillna("").to_numpy(dtype=object)
    else:
        keep = np.ones(len(gdf), bool)
        names = gdf["name"].fillna("").to_numpy(dtype=object)
    out = gpd.GeoDataFrame(
        {
            "status": status,
            "crossing_only": crossing,
            "name": names,
            "scalerank": gdf.get("scalerank", 0),
        },
        geometry=gdf.geometry.values,
        crs=4326,
    )[keep]
    return out.explode(index_parts=False).reset_index(drop=True)


def _countries(countries: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    if countries is None:
        countries = gpd.read_file(bundled_dir("layers") / "countries.geojson", engine="pyogrio")
    return countries.set_index("id", drop=False)


def _serves(src: Source, cc: str, mid: shapely.Point, regions: Sequence[Region]) -> bool:
    """Whether ``src`` gives the track of ``cc`` at ``mid``: its own countries, else a region."""
    if cc in src.countries:
        return True
    return any(
        r.source == src.key
        and r.country == cc
        and r.bbox[0] <= mid.x <= r.bbox[2]
        and r.bbox[1] <= mid.y <= r.bbox[3]
        for r in regions
    )


def _cut_at_borders(
    gdf: gpd.GeoDataFrame,
    src: Source,
    countries: gpd.GeoDataFrame,
    targets: frozenset[str],
    opts: BuildOptions | None = None,
    report: RailReport | None = None,
    regions: Sequence[Region] = REGIONS,
) -> tuple[list[Piece], set[Coord]]:
    """The source's lines cut at country borders, each piece in the country of its midpoint.

    Border slivers (see :class:`BuildOptions`) take the code of the country around them.
    Also returns the cut points: line ends there are borders, not the end of a siding.
    """
    polys = countries.geometry.to_numpy()
    codes = countries.index.to_numpy()
    borders = shapely.boundary(polys)
    limits = [(cc, shapely.LineString([(lon, -90), (lon, 90)])) for cc, lon in LON_LIMITS.items()]
    btree = shapely.STRtree(np.concatenate([borders, [g for _, g in limits]]))
    ptree = shapely.STRtree(polys)
    lines = gdf.geometry.to_numpy()
    li, bi = btree.query(lines, predicate="intersects")
    hits = shapely.intersection(lines[li], btree.geometries[bi])
    cuts: dict[int, list[Coord]] = defaultdict(list)
    for i, g in zip(li, hits, strict=True):
        cuts[int(i)].extend(_points_of(g))
    pieces: list[Piece] = []
    for i, g in enumerate(lines):
        coords = _coords(g)
        if len(coords) < 2:
            continue
        for part in _split(coords, cuts.get(i, [])):
            pieces.append(
                Piece(
                    part,
                    "",
                    src.key,
                    str(gdf["status"].iat[i]),
                    str(gdf["name"].iat[i]),
                    bool(gdf["crossing_only"].iat[i]),
                )
            )
    mids = shapely.line_interpolate_point([p.line() for p in pieces], 0.5, normalized=True)
    pi, ci = ptree.query(mids, predicate="intersects")
    where = np.full(len(pieces), None, dtype=object)
    where[pi[::-1]] = codes[ci[::-1]]
    for k in np.flatnonzero(where == None):  # noqa: E711 - an object array
        near = ptree.nearest(mids[k])
        if shapely.distance(polys[near], mids[k]) < 0.1:  # coastal generalisation, ~10 km
            where[k] = codes[near]
    cut_points = {c for cs in cuts.values() for c in cs}
    cut_points -= _absorb_slivers(
        pieces, where, dict(zip(codes, polys, strict=True)), opts or BuildOptions(), report
    )
    keep = []
    for p, cc, m in zip(pieces, where, mids, strict=True):
        if cc is None or cc not in targets or not _serves(src, str(cc), m, regions):
            continue
        if cc in LON_LIMITS and m.x > LON_LIMITS[cc]:
            continue
        p.country = str(cc)
        keep.append(p)
    return keep, cut_points


def _same_country_runs(
    pieces: list[Piece], where: np.ndarray
) -> tuple[dict[Coord, list[int]], list[list[int]]]:
    """Pieces by end coordinate, and the runs of pieces of one country joined end to end."""
    at: dict[Coord, list[int]] = defaultdict(list)
    for k, p in enumerate(pieces):
        at[p.coords[0]].append(k)
        at[p.coords[-1]].append(k)
    g = nx.Graph()
    g.add_nodes_from(k for k in range(len(pieces)) if where[k] is not None)
    for ks in at.values():
        g.add_edges_from(
            (a, b)
            for a, b in itertools.combinations(ks, 2)
            if where[a] is not None and where[a] == where[b]
        )
    return at, [sorted(c) for c in nx.connected_components(g)]


def _sliver_neighbour(
    run: list[int],
    pieces: list[Piece],
    where: np.ndarray,
    at: dict[Coord, list[int]],
    polys: dict[str, shapely.Geometry],
    opts: BuildOptions,
) -> tuple[str, set[Coord]] | None:
    """The one country around a run that is a border sliver, and where they touch; else None."""
    code = where[run[0]]
    touches: dict[Coord, set[str]] = {}
    for k in run:
        for end in (pieces[k].coords[0], pieces[k].coords[-1]):
            other = {str(where[j]) for j in at[end] if where[j] not in (None, code)}
            if other:
                touches[end] = other
    around = set().union(*touches.values()) if touches else set()
    if len(touches) < 2 or len(around) != 1:
        return None
    (a,) = around
    if a not in polys:
        return None
    xy = np.array([c for k in run for c in pieces[k].coords])
    far = float(shapely.distance(polys[a], shapely.points(xy)).max()) * 111.32
    return (a, set(touches)) if far <= opts.sliver_border_km else None


def _absorb_slivers(
    pieces: list[Piece],
    where: np.ndarray,
    polys: dict[str, shapely.Geometry],
    opts: BuildOptions,
    report: RailReport | None,
) -> set[Coord]:
    """Give border slivers the code of the one neighbour around them (``where`` in place).

    A sliver is a run of pieces of one country, connected by shared ends, that touches track of
    exactly one other country at two or more points, is at most ``opts.sliver_km`` long, and
    never lies further than ``opts.sliver_border_km`` from that country (distances in degrees
    of latitude, so never underestimated). Returns the cut points that stop being borders.
    """
    at, runs = _same_country_runs(pieces, where)
    freed: set[Coord] = set()
    for run in runs:
        km = sum(_km(pieces[k].coords) for k in run)
        if km > opts.sliver_km:
            continue
        found = _sliver_neighbour(run, pieces, where, at, polys, opts)
        if found is None:
            continue
        code, (a, touches) = str(where[run[0]]), found
        for k in run:
            where[k] = a
        freed |= touches
        if report is not None:
            report.slivers.append((code, a, round(km, 1), pieces[run[0]].coords[0]))
    return freed


def _ne_keep(gdf: gpd.GeoDataFrame, countries: gpd.GeoDataFrame) -> np.ndarray:
    """Natural Earth trunk lines, and every line of the full-network countries."""
    trunk = gdf["scalerank"].to_numpy() <= NE_MAX_SCALERANK
    full = countries.loc[sorted(FULL_NETWORK & set(countries.index))].geometry.to_numpy()
    tree = shapely.STRtree(full)
    li, _ = tree.query(gdf.geometry.to_numpy(), predicate="intersects")
    trunk[np.unique(li)] = True
    return np.asarray(trunk, dtype=bool)


# --- noding ----------------------------------------------------------------------------------


def _node(pieces: list[Piece]) -> list[Piece]:
    """Pieces split where they cross or touch; a bridge or tunnel only where a line ends on it."""
    lines = [p.line() for p in pieces]
    tree = shapely.STRtree(lines)
    a, b = tree.query(lines, predicate="intersects")
    m = a < b
    a, b = a[m], b[m]
    inter = shapely.intersection(np.asarray(lines)[a], np.asarray(lines)[b])
    cuts: dict[int, set[Coord]] = defaultdict(set)
    for i, j, g in zip(a, b, inter, strict=True):
        pa, pb = pieces[int(i)], pieces[int(j)]
        ends = {pa.coords[0], pa.coords[-1], pb.coords[0], pb.coords[-1]}
        for c in _points_of(g):
            if (pa.crossing_only or pb.crossing_only) and c not in ends:
                continue  # a bridge over or a tunnel under a line: no junction
            cuts[int(i)].add(c)
            cuts[int(j)].add(c)
    out: list[Piece] = []
    for k, p in enumerate(pieces):
        for part in _split(p.coords, cuts.get(k, ())):
            out.append(_with(p, part))
    return _dedupe(out)


def _node_ends(pieces: list[Piece]) -> list[Piece]:
    """Pieces split where another piece (of any country) ends on their interior."""
    lines = [p.line() for p in pieces]
    tree = shapely.STRtree(lines)
    ends = [c for p in pieces for c in (p.coords[0], p.coords[-1])]
    at, hit = tree.query(shapely.points(ends), predicate="intersects")
    cuts: dict[int, set[Coord]] = defaultdict(set)
    for i, j in zip(at, hit, strict=True):
        c, q = ends[int(i)], pieces[int(j)]
        if c not in (q.coords[0], q.coords[-1]):
            cuts[int(j)].add(c)
    return [_with(p, part) for k, p in enumerate(pieces) for part in _split(p.coords, cuts[k])]


def _with(p: Piece, coords: list[Coord]) -> Piece:
    return Piece(
        coords,
        p.country,
        p.source,
        p.status,
        p.name,
        p.crossing_only,
        p.precision,
        p.gauge,
        p.node,
        p.gauge_note,
    )


def _dedupe(pieces: list[Piece]) -> list[Piece]:
    """Drop duplicates: pieces with the same two ends and lengths within 1 %."""
    seen: dict[tuple[Coord, Coord], list[tuple[float, Piece]]] = defaultdict(list)
    out = []
    for p in sorted(pieces, key=lambda p: (p.coords[0] > p.coords[-1], p.coords)):
        ends = (min(p.coords[0], p.coords[-1]), max(p.coords[0], p.coords[-1]))
        km = _km(p.coords)
        if ends[0] == ends[1] and km < 0.001:
            continue
        if any(abs(km - k) <= 0.01 * max(km, k) for k, _ in seen[ends]):
            continue
        seen[ends].append((km, p))
        out.append(p)
    return out


def _degrees(pieces: Iterable[Piece]) -> Counter[Coord]:
    deg: Counter[Coord] = Counter()
    for p in pieces:
        deg[p.coords[0]] += 1
        deg[p.coords[-1]] += 1
    return deg


def _snap(
    pieces: list[Piece], snap_km: float, border: set[Coord] | frozenset[Coord] = frozenset()
) -> tuple[list[Piece], int]:
    """Join dangling ends to the nearest other line within ``snap_km``; (pieces, snaps).

    Ends at a ``border`` point stay: the line runs on into the next country.
    """
    deg = _degrees(pieces)
    lines = np.asarray([p.line() for p in pieces])
    tree = shapely.STRtree(lines)
    cuts: dict[int, set[Coord]] = defaultdict(set)
    extend: dict[tuple[int, int], Coord] = {}
    for k, p in enumerate(pieces):
        for end in (0, -1):
            c = p.coords[end]
            if deg[c] != 1 or (k, end) in extend or c in border:
                continue
            pt = shapely.Point(c)
            cand = [int(j) for j in tree.query(pt.buffer(_deg(snap_km, c[1]))) if int(j) != k]
            if not cand:
                continue
            j = min(cand, key=lambda j: (float(shapely.distance(lines[j], pt)), j))
            q = shapely.line_interpolate_point(lines[j], lines[j].project(pt))
            t = (_r(q.x), _r(q.y))
            if t == c or _dist_km(c, t) > snap_km:
                continue
            extend[k, end] = t
            cuts[j].add(t)
    out = []
    for k, p in enumerate(pieces):
        coords = list(p.coords)
        if (k, 0) in extend:
            coords.insert(0, extend[k, 0])
        if (k, -1) in extend:
            coords.append(extend[k, -1])
        for part in _split(coords, cuts.get(k, ())):
            out.append(_with(p, part))
    return out, len(extend)


# --- chains ----------------------------------------------------------------------------------


def _chains(pieces: list[Piece], same: bool) -> list[list[tuple[Piece, bool]]]:
    """Runs of pieces joined end to end through degree-2 points: [(piece, reversed)].

    With ``same`` a run also stops where the merging attributes change.
    """
    at: dict[Coord, list[int]] = defaultdict(list)
    for k, p in enumerate(pieces):
        at[p.coords[0]].append(k)
        at[p.coords[-1]].append(k)

    def through(c: Coord, k: int) -> int | None:
        here = at[c]
        if len(here) != 2 or here[0] == here[1]:
            return None
        o = here[1] if here[0] == k else here[0]
        if same and pieces[o].key() != pieces[k].key():
            return None
        return o

    used = [False] * len(pieces)
    runs = []
    order = sorted(range(len(pieces)), key=lambda k: pieces[k].coords)
    for start in order:
        if used[start]:
            continue
        # Walk back to the run's first piece, then forward collecting.
        k, c = start, pieces[start].coords[0]
        seen = {k}
        while (o := through(c, k)) is not None and o not in seen:
            seen.add(o)
            c = pieces[o].coords[-1] if pieces[o].coords[0] == c else pieces[o].coords[0]
            k = o
        run: list[tuple[Piece, bool]] = []
        while True:
            used[k] = True
            rev = pieces[k].coords[-1] == c and pieces[k].coords[0] != c
            run.append((pieces[k], rev))
            c = pieces[k].coords[0] if rev else pieces[k].coords[-1]
            o = through(c, k)
            if o is None or used[o]:
                break
            k = o
        runs.append(run)
    return runs


def _run_coords(run: list[tuple[Piece, bool]]) -> list[Coord]:
    out: list[Coord] = []
    for p, rev in run:
        cs = p.coords[::-1] if rev else p.coords
        out.extend(cs if not out else cs[1:])
    return out


def _merge(pieces: list[Piece]) -> list[Piece]:
    """Degree-2 chains merged into one piece where country, status, gauge and source agree."""
    out = []
    for run in _chains(pieces, same=True):
        coords = _run_coords(run)
        if coords[-1] < coords[0] and coords[0] != coords[-1]:
            coords = coords[::-1]
        by_name: Counter[str] = Counter()
        for p, _ in run:
            by_name[p.name] += len(p.coords)
        name = min(by_name, key=lambda n: (-by_name[n], n))
        first = run[0][0]
        merged = _with(first, coords)
        merged.name = name
        merged.crossing_only = False
        out.append(merged)
    return out


def _prune(
    pieces: list[Piece], spur_km: float, border: set[Coord] | frozenset[Coord] = frozenset()
) -> tuple[list[Piece], int]:
    """Drop dangling chains shorter than ``spur_km``, again until none is left; (pieces, n).

    A chain ending at a ``border`` point is a line running on into the next country: kept.
    """
    dropped = 0
    while True:
        deg = _degrees(pieces)
        drop: set[int] = set()
        runs = _chains(pieces, same=False)
        for run in runs:
            coords = _run_coords(run)
            a, b = deg[coords[0]], deg[coords[-1]]
            dangling = (a == 1) != (b == 1)  # an isolated run is kept: it is not a spur
            dangling = dangling and coords[0] not in border and coords[-1] not in border
            if dangling and _km(coords) < spur_km:
                drop.update(id(p) for p, _ in run)
        if not drop:
            return pieces, dropped
        dropped += sum(1 for run in runs if id(run[0][0]) in drop)
        pieces = [p for p in pieces if id(p) not in drop]


def _collapse_yards(
    pieces: list[Piece], opts: BuildOptions, border: set[Coord]
) -> tuple[list[Piece], int]:
    """Drop short chains (yards, parallel tracks) where another path is about as short.

    A chain of at most ``yard_km`` goes when its two ends stay joined by a path no longer
    than the chain plus ``yard_slack_km``: no route gets longer by more than that slack per
    chain dropped, and no two places are disconnected. Spurs left behind are pruned.
    """
    removed = 0
    while True:
        pieces = _merge(pieces)
        g = nx.MultiGraph()
        for k, p in enumerate(pieces):
            g.add_edge(p.coords[0], p.coords[-1], key=k, km=_km(p.coords))
        order = sorted(
            ((d["km"], k, u, v) for u, v, k, d in g.edges(keys=True, data=True)),
            key=lambda t: (t[0], t[1]),
        )
        drop: set[int] = set()
        for km, k, u, v in order:
            if u == v:
                # A loop back to its own junction: a yard ring or turning loop goes; a longer
                # one is a double-track end whose two tracks merged into one chain, and stays.
                if km <= opts.spur_km:
                    g.remove_edge(u, v, key=k)
                    drop.add(k)
                continue
            if km > opts.yard_km:
                continue
            g.remove_edge(u, v, key=k)
            try:
                alt = nx.shortest_path_length(g, u, v, weight="km")
            except nx.NetworkXNoPath:
                alt = math.inf
            if alt <= km + opts.yard_slack_km:
                drop.add(k)
            else:
                g.add_edge(u, v, key=k, km=km)
        if not drop:
            return pieces, removed
        removed += len(drop)
        pieces, _ = _prune([p for k, p in enumerate(pieces) if k not in drop], opts.spur_km, border)


# --- border crossings ------------------------------------------------------------------------


def _drop_region_fragments(
    pieces: list[Piece], regions: Sequence[Region], spur_km: float, border: set[Coord]
) -> tuple[list[Piece], int]:
    """Drop pieces of a region's track that form a run shorter than ``spur_km`` on their own.

    Such a fragment (the end of a parallel track cut at the border) would otherwise take the
    border station as its stop, off the line the trains run. The neighbour's track it ran on
    from is moved to the nearest other border point within 0.1 km (the other track's).
    """
    roots = _Roots()
    find = roots.find
    keys = {(r.country, r.source) for r in regions}
    members = [k for k, p in enumerate(pieces) if (p.country, p.source) in keys]
    for k in members:
        roots.union(pieces[k].coords[0], pieces[k].coords[-1])
    km: dict[Coord, float] = defaultdict(float)
    for k in members:
        km[find(pieces[k].coords[0])] += _km(pieces[k].coords)
    drop = {k for k in members if km[find(pieces[k].coords[0])] < spur_km}
    cut = {c for k in drop for c in (pieces[k].coords[0], pieces[k].coords[-1]) if c in border}
    kept = [p for k, p in enumerate(pieces) if k not in drop]
    ends = sorted({c for p in kept for c in (p.coords[0], p.coords[-1])} & border - cut)
    out = []
    for p in kept:
        coords = list(p.coords)
        for i in (0, -1):
            near = [e for e in ends if _dist_km(coords[i], e) <= 0.1] if coords[i] in cut else []
            if near:
                coords[i] = min(near, key=lambda e: (_dist_km(coords[i], e), e))
        out.append(_with(p, coords) if coords != p.coords else p)
    return out, len(drop)


def _join_regions(
    pieces: list[Piece], border: set[Coord], regions: Sequence[Region], report: RailReport
) -> list[Piece]:
    """Join each region's track (:data:`REGIONS`) to the rest of its country's network.

    A dangling end of the region's track gets a straight connector to the nearest vertex of
    the country's other track within the region's ``join_km``.
    """
    deg = _degrees(pieces)
    new: list[Piece] = []
    cuts: dict[int, set[Coord]] = defaultdict(set)
    for r in regions:
        if r.join_km <= 0:
            continue
        ends = sorted(
            {c for p in pieces if p.country == r.country and p.source == r.source
             for c in (p.coords[0], p.coords[-1]) if deg[c] == 1 and c not in border}
        )  # fmt: skip
        for end in ends:
            best: tuple[float, Coord, int] | None = None
            for k, p in enumerate(pieces):
                if p.country != r.country or p.source in (r.source, "connector"):
                    continue
                for c in p.coords:
                    d = _dist_km(end, c)
                    if d <= r.join_km and (best is None or (d, k) < (best[0], best[2])):
                        best = (d, c, k)
            if best is None:
                continue
            cuts[best[2]].add(best[1])
            new.append(
                Piece([end, best[1]], r.country, "connector", name=r.what, precision="straight")
            )
            report.region_joins.append((r.country, r.what, best[0]))
    out = [
        _with(p, part) for k, p in enumerate(pieces) for part in _split(p.coords, cuts.get(k, ()))
    ]
    return out + new


def _crossing_nodes(nodes_path: Path) -> list[tuple[str, str, Coord]]:
    data = orjson.loads(nodes_path.read_bytes())
    out = []
    for f in data["features"]:
        p = f["properties"]
        if p.get("kind") == "border_crossing":
            x, y = f["geometry"]["coordinates"][:2]
            out.append((str(p["id"]), str(p["country"]), (float(x), float(y))))
    return sorted(out)


def _border_points(pieces: list[Piece]) -> dict[Coord, set[str]]:
    """Points where pieces of different countries meet: the countries meeting there."""
    at: dict[Coord, set[str]] = defaultdict(set)
    for p in pieces:
        at[p.coords[0]].add(p.country)
        at[p.coords[-1]].add(p.country)
    return {c: s for c, s in at.items() if len(s) > 1}


def _other_country(
    node: Coord, own: str, countries: gpd.GeoDataFrame, have: set[str], km: float
) -> str | None:
    """The neighbour (with rail) nearest a crossing node within ``km``."""
    pt = shapely.Point(node)
    best: tuple[float, str] | None = None
    for cc in sorted(have - {own}):
        g = countries.geometry[cc]
        q = shapely.ops.nearest_points(g, pt)[0] if not g.intersects(pt) else pt
        d = _dist_km(node, (q.x, q.y))
        if d <= km and (best is None or d < best[0]):
            best = (d, cc)
    return None if best is None else best[1]


def _nearest_vertex(pieces: list[Piece], cc: str, node: Coord) -> tuple[float, Coord, int] | None:
    best: tuple[float, Coord, int] | None = None
    box = (node[0] - 1.0, node[1] - 0.5, node[0] + 1.0, node[1] + 0.5)
    for k, p in enumerate(pieces):
        if p.country != cc:
            continue
        for c in p.coords:
            if box[0] <= c[0] <= box[2] and box[1] <= c[1] <= box[3]:
                d = _dist_km(node, c)
                if best is None or (d, k) < (best[0], best[2]):
                    best = (d, c, k)
    return best


def _vertices_near(pieces: list[Piece], cc: str, node: Coord, km: float) -> list[tuple[Coord, int]]:
    box_x = _deg(km, node[1])
    box_y = km / 111.0
    out = []
    for k, p in enumerate(pieces):
        if p.country != cc:
            continue
        for c in p.coords:
            if abs(c[0] - node[0]) <= box_x and abs(c[1] - node[1]) <= box_y:
                out.append((c, k))
    return out


def _closest_pair(
    pieces: list[Piece], own: str, other: str, node: Coord, opts: BuildOptions
) -> tuple[tuple[float, Coord, int], tuple[float, Coord, int]] | None:
    """The closest two vertices of ``own`` and ``other`` near a crossing node.

    Both within ``crossing_search_km`` of the node and under ``crossing_km`` apart: where the
    two sources' track ends at the border, a border station some way back from it.
    """
    a = _vertices_near(pieces, own, node, opts.crossing_search_km)
    b = _vertices_near(pieces, other, node, opts.crossing_search_km)
    if not a or not b:
        return None
    ax = np.array([c for c, _ in a])
    bx = np.array([c for c, _ in b])
    d = GEOD.inv(np.repeat(ax[:, 0], len(bx)), np.repeat(ax[:, 1], len(bx)),
                 np.tile(bx[:, 0], len(ax)), np.tile(bx[:, 1], len(ax)))[2] / 1000.0  # fmt: skip
    i = int(np.argmin(d))
    if d[i] > opts.crossing_km:
        return None
    (ca, ka), (cb, kb) = a[i // len(bx)], b[i % len(bx)]
    return (float(d[i]), ca, ka), (float(d[i]), cb, kb)


def _join_crossings(
    pieces: list[Piece],
    nodes: list[tuple[str, str, Coord]],
    countries: gpd.GeoDataFrame,
    opts: BuildOptions,
    report: RailReport,
) -> list[Piece]:
    """Connectors from each crossing node to the nearest vertex of both its countries."""
    have = {p.country for p in pieces}
    joined: list[tuple[frozenset[str], Coord]] = [
        (frozenset(s), c) for c, s in _border_points(pieces).items() if len(s) == 2
    ]
    new: list[Piece] = []
    cuts: dict[int, set[Coord]] = defaultdict(set)
    for nid, own, xy in nodes:
        node = (_r(xy[0]), _r(xy[1]))
        other = _other_country(node, own, countries, have, opts.crossing_search_km)
        if own not in have:
            report.crossings_not_joined.append((nid, f"no rail of {own} in the network"))
            continue
        if other is None:
            report.crossings_not_joined.append(
                (nid, f"no neighbour with rail within {opts.crossing_search_km:g} km")
            )
            continue
        pair = frozenset({own, other})
        if any(s == pair and _dist_km(node, c) <= opts.crossing_km for s, c in joined):
            report.border_joins.append((nid, *_pair(own, other), 0.0))
            continue
        ends = {cc: _nearest_vertex(pieces, cc, node) for cc in (own, other)}
        far = [cc for cc, v in ends.items() if v is None or v[0] > opts.crossing_km]
        if far:
            # a border station some way back from the border: join the two sides' track
            # where it comes closest, near the node (the ends each source leaves at the border)
            pair_ends = _closest_pair(pieces, own, other, node, opts)
            if pair_ends is None:
                report.crossings_not_joined.append(
                    (nid, f"no {'/'.join(far)} track within {opts.crossing_km:g} km")
                )
                continue
            va, vb = pair_ends
            coords = [va[1], vb[1]] if va[1] != vb[1] else [va[1]]
            if len(coords) < 2:
                report.border_joins.append((nid, *_pair(own, other), 0.0))
                continue
        else:
            na, nb = ends[own], ends[other]
            assert na is not None and nb is not None
            va, vb = na, nb
            line = (va[1], node, vb[1])
            coords = [c for i, c in enumerate(line) if i == 0 or c != line[i - 1]]
        for v in (va, vb):
            cuts[v[2]].add(v[1])
        for piece in _cut_connector(coords, countries, own, other):
            piece.node = nid
            new.append(piece)
        km = _km(coords)
        report.border_joins.append((nid, *_pair(own, other), km))
        joined.append((pair, node))
    out = []
    for k, p in enumerate(pieces):
        for part in _split(p.coords, cuts.get(k, ())):
            out.append(_with(p, part))
    return out + new


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def _cut_connector(
    coords: list[Coord], countries: gpd.GeoDataFrame, own: str, other: str
) -> list[Piece]:
    """A straight connector cut where it leaves ``own`` for ``other``."""
    line = shapely.LineString(coords)
    border = shapely.boundary(countries.geometry[own])
    cut = _points_of(shapely.intersection(line, border))
    parts = _split(coords, cut) if len(coords) >= 2 else []
    out = []
    for part in parts:
        mid = shapely.line_interpolate_point(shapely.LineString(part), 0.5, normalized=True)
        cc = own if countries.geometry[own].intersects(mid) else other
        out.append(Piece(part, cc, "connector", precision="straight"))
    return out


def _cross_border_report(
    pieces: list[Piece],
    nodes: list[tuple[str, str, Coord]],
    opts: BuildOptions,
    report: RailReport,
) -> None:
    crossing = [xy for _, _, xy in nodes]

    def near(c: Coord) -> bool:
        return any(_dist_km(c, xy) <= opts.crossing_km for xy in crossing)

    src_at: dict[Coord, str] = {}
    for p in pieces:
        src_at[p.coords[0]] = p.source
    for c, s in sorted(_border_points(pieces).items()):
        if near(c):
            continue
        report.unlisted_border_connections.append(("-".join(sorted(s)), src_at.get(c, ""), c))


# --- attributes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GaugeException:
    """A sourced stretch whose gauge differs from its country's."""

    id: str
    country: str
    gauge_mm: int
    line: tuple[Coord, ...]
    buffer_km: float
    source: str
    notes: str


def read_gauge_exceptions(path: Path) -> list[GaugeException]:
    """The gauge exceptions of ``rail_gauges.toml``."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    out = []
    for e in data.get("exception", []):
        out.append(
            GaugeException(
                str(e["id"]),
                str(e["country"]),
                int(e["gauge_mm"]),
                tuple((float(x), float(y)) for x, y in e["line"]),
                float(e["buffer_km"]),
                str(e["source"]),
                str(e.get("notes", "")),
            )
        )
    return out


def read_traces(path: Path) -> list[Trace]:
    """The traced lines of ``rail_traces.toml`` (an absent file: none)."""
    if not path.is_file():
        return []
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    out = []
    for t in data.get("trace", []):
        src = str(t["source"])
        if src not in TRACE_SOURCES:
            msg = f"{path.name}: trace {t['id']}: unknown source {src!r}; use one of " + ", ".join(
                sorted(TRACE_SOURCES)
            )
            raise GeoError(msg)
        out.append(
            Trace(
                str(t["id"]),
                str(t["name"]),
                src,
                tuple(str(w) for w in t["ways"]),
                tuple((float(x), float(y)) for x, y in t["waypoints"]),
                str(t.get("status", "operational")),
            )
        )
    return out


class _WayGraph:
    """The ways of a trace as a graph: vertices by rounded coordinate, bridges across gaps."""

    def __init__(self, ways: Sequence[shapely.LineString], gap_km: float) -> None:
        self.index: dict[Coord, int] = {}
        self.xy: list[Coord] = []
        self.g = nx.Graph()
        way_nodes = [[self._node(c) for c in _coords(w)] for w in ways]
        for ids in way_nodes:
            for a, b in itertools.pairwise(ids):
                if a != b:
                    d = _dist_km(self.xy[a], self.xy[b])
                    self.g.add_edge(a, b, weight=d, km=d, gap=False)
        if not self.xy:
            return
        pts = np.array(self.xy)
        self.scale = np.array([111.32 * math.cos(math.radians(float(pts[:, 1].mean()))), 110.57])
        self.tree = cKDTree(pts * self.scale)
        owner = np.empty(len(self.xy), dtype=np.int64)
        for k, ids in enumerate(way_nodes):
            owner[ids] = k
        for k, ids in enumerate(way_nodes):
            for end in (ids[0], ids[-1]):
                self._bridge(end, k, owner, gap_km)

    def _node(self, c: Coord) -> int:
        c = (_r(c[0]), _r(c[1]))
        if c not in self.index:
            self.index[c] = len(self.xy)
            self.xy.append(c)
        return self.index[c]

    def _bridge(self, end: int, way: int, owner: np.ndarray, gap_km: float) -> None:
        """Join a way's end to the nearest vertex of every other way within ``gap_km``."""
        best: dict[int, tuple[float, int]] = {}
        for j in self.tree.query_ball_point(np.array(self.xy[end]) * self.scale, gap_km):
            w = int(owner[j])
            if w == way:
                continue
            d = _dist_km(self.xy[end], self.xy[j])
            if d <= gap_km and d < best.get(w, (math.inf, 0))[0]:
                best[w] = (d, j)
        for d, j in best.values():
            if not self.g.has_edge(end, j):
                # a bridge costs double, so the path keeps to the ways where they run
                self.g.add_edge(end, j, weight=2 * d, km=d, gap=d > 0)

    def nearest(self, c: Coord) -> tuple[float, int]:
        """The km (on the local plane) to the nearest vertex, and the vertex."""
        d, j = self.tree.query(np.array(c) * self.scale)
        return float(d), int(j)


def trace_line(ways: Sequence[shapely.LineString], trace: Trace, opts: BuildOptions) -> tuple[
    list[Coord], float
]:  # fmt: skip
    """One line through a trace's waypoints along ``ways``: its coordinates and bridged km.

    The ways may stop short of each other (the western-China extract breaks lines into pieces
    0.3-3 km apart): an end of a way is joined to the nearest vertex of every other way within
    ``opts.trace_gap_km``, and the line is the shortest path from waypoint to waypoint. The
    first and last waypoints are the line's ends (joined to the ways by a straight piece if
    they lie off them); the others are passed at the ways' nearest vertex.
    """
    wg = _WayGraph(ways, opts.trace_gap_km)
    if not wg.xy:
        msg = f"rail_traces.toml: trace {trace.id}: the source has no way named {list(trace.ways)}"
        raise GeoError(msg)
    stops = []
    for k, w in enumerate(trace.waypoints):
        d, j = wg.nearest(w)
        if d > opts.trace_waypoint_km:
            msg = (
                f"rail_traces.toml: trace {trace.id}: waypoint {k + 1} {w} lies {d:.1f} km from "
                f"the ways named {list(trace.ways)}; move it onto the line"
            )
            raise GeoError(msg)
        stops.append(j)
    path = [stops[0]]
    for a, b in itertools.pairwise(stops):
        try:
            path += nx.shortest_path(wg.g, a, b, weight="weight")[1:]
        except nx.NetworkXNoPath:
            msg = (
                f"rail_traces.toml: trace {trace.id}: no path along the ways from {wg.xy[a]} to "
                f"{wg.xy[b]} (gaps over {opts.trace_gap_km} km); add a waypoint or check the names"
            )
            raise GeoError(msg) from None
    edges = [wg.g.edges[a, b] for a, b in itertools.pairwise(path)]
    gap = sum(e["km"] for e in edges if e["gap"])
    coords = [wg.xy[i] for i in path]
    first = (_r(trace.waypoints[0][0]), _r(trace.waypoints[0][1]))
    last = (_r(trace.waypoints[-1][0]), _r(trace.waypoints[-1][1]))
    if coords[0] != first:
        gap += _dist_km(first, coords[0])
        coords.insert(0, first)
    if coords[-1] != last:
        gap += _dist_km(coords[-1], last)
        coords.append(last)
    return coords, gap


def _traced_lines(
    traces: Sequence[Trace], source_dir: Path, opts: BuildOptions, report: RailReport
) -> dict[str, gpd.GeoDataFrame]:
    """The traced lines of each trace source, as a frame like :func:`_read_source`'s."""
    out: dict[str, gpd.GeoDataFrame] = {}
    for key in sorted({t.source for t in traces}):
        src = TRACE_SOURCES[key]
        path = source_dir / src.file
        if not path.is_file():
            msg = f"{path}: source file missing; give the folder that holds {src.file}"
            raise GeoError(msg)
        gdf = gpd.read_file(path, layer=src.layer, engine="pyogrio")
        names = gdf["name"].fillna("").astype(str)
        en = gdf["name:en"].fillna("").astype(str) if "name:en" in gdf else names
        rows = []
        for t in (t for t in traces if t.source == key):
            sel = gdf[(names.isin(t.ways) | en.isin(t.ways)).to_numpy()]
            ways = [
                shapely.LineString(g)
                for geom in sel.geometry
                for g in shapely.get_parts(geom)
                if isinstance(g, shapely.LineString) and len(g.coords) >= 2
            ]
            coords, gap = trace_line(ways, t, opts)
            report.traces.append((t.id, round(_km(coords), 1), round(gap, 1)))
            rows.append((t.status, t.name, shapely.LineString(coords)))
        out[key] = gpd.GeoDataFrame(
            {
                "status": [r[0] for r in rows],
                "crossing_only": [False] * len(rows),
                "name": [r[1] for r in rows],
                "scalerank": [0] * len(rows),
            },
            geometry=[r[2] for r in rows],
            crs=4326,
        )
    return out


def _local(coords: Sequence[Coord], lat0: float) -> shapely.LineString:
    """Coordinates in km on a local equirectangular plane (for buffers of a few km)."""
    k = math.cos(math.radians(lat0))
    return shapely.LineString([(x * 111.32 * k, y * 110.57) for x, y in coords])


def _gauge(p: Piece, exceptions: Sequence[GaugeException]) -> tuple[int, str]:
    """A piece's gauge and the notes of the exception that set it."""
    for e in exceptions:
        if e.country != p.country:
            continue
        lat0 = e.line[0][1]
        zone = _local(e.line, lat0).buffer(e.buffer_km)
        mine = _local(p.coords, lat0)
        if mine.length > 0 and mine.intersection(zone).length >= 0.5 * mine.length:
            return e.gauge_mm, e.id
    return (1520 if p.country in BROAD_GAUGE else 1435), ""


def _simplify(coords: list[Coord], opts: BuildOptions) -> tuple[list[Coord], bool]:
    """Douglas-Peucker within the length budget; (coords, tolerance lowered)."""
    km = _km(coords)
    tol = opts.simplify_deg
    lowered = False
    while tol >= 1e-5:
        s = _coords(shapely.simplify(shapely.LineString(coords), tol))
        if km == 0 or abs(_km(s) - km) <= opts.max_length_change * km:
            return s, lowered
        tol /= 2
        lowered = True
    return coords, lowered


# --- build -----------------------------------------------------------------------------------


def _country_names(countries: gpd.GeoDataFrame) -> dict[str, str]:
    return {str(k): str(v) for k, v in zip(countries.index, countries["name"], strict=True)}


def build_rail(
    source_dir: str | Path,
    *,
    nodes_path: str | Path | None = None,
    gauges_path: str | Path | None = None,
    traces_path: str | Path | None = None,
    countries: gpd.GeoDataFrame | None = None,
    targets: Iterable[str] | None = None,
    sources: Sequence[Source] = SOURCES,
    options: BuildOptions | None = None,
    regions: Sequence[Region] = REGIONS,
) -> tuple[dict[str, Any], RailReport]:
    """The rail network as a GeoJSON FeatureCollection (a dict), and the build's report.

    Parameters
    ----------
    source_dir
        The folder holding the source files named in :data:`SOURCES`.
    nodes_path
        The node layer whose ``border_crossing`` nodes join national networks (default the
        bundled ``nodes.geojson``).
    gauges_path
        The gauge exceptions (default the bundled ``rail_gauges.toml``).
    traces_path
        The lines to trace along pieces of a source (default the bundled
        ``rail_traces.toml``; tests pass their own or a missing file for none).
    countries
        Country polygons with an ``id`` (alpha-3) and ``name`` (default the bundled ones).
    targets
        The countries to keep (default every country of the sources).
    sources
        The sources to read (tests pass small ones).
    options
        Tolerances.
    regions
        Track a source gives in a country it does not serve (:class:`Region`).

    Returns
    -------
    tuple
        The FeatureCollection and a :class:`RailReport`.
    """
    opts = options or BuildOptions()
    source_dir = Path(source_dir)
    layers = bundled_dir("layers")
    cts = _countries(countries)
    wanted = (
        frozenset(targets)
        if targets is not None
        else frozenset().union(*(s.countries for s in sources))
    )
    report = RailReport()
    nodes = _crossing_nodes(Path(nodes_path) if nodes_path else layers / "nodes.geojson")
    gauges = read_gauge_exceptions(
        Path(gauges_path) if gauges_path else layers / "rail_gauges.toml"
    )
    pieces: list[Piece] = []
    border: set[Coord] = set()
    for src in sources:
        gdf = _read_source(src, source_dir)
        if src.key == "ne":
            gdf = gdf[_ne_keep(gdf, cts)]
        part, cut = _cut_at_borders(gdf, src, cts, wanted, opts, report, regions)
        border |= cut
        for p in part:
            report.source_km_by_country[p.country] = report.source_km_by_country.get(
                p.country, 0.0
            ) + _km(p.coords)
        pieces += part
    traces = read_traces(Path(traces_path) if traces_path else layers / "rail_traces.toml")
    traced = _traced_lines(traces, source_dir, opts, report)
    for key, gdf in traced.items():
        part, cut = _cut_at_borders(gdf, TRACE_SOURCES[key], cts, wanted, opts, report)
        border |= cut
        pieces += part
    sources = [*sources, *(TRACE_SOURCES[k] for k in traced)]
    # raw OpenStreetMap ways and traced lines of one country (a region's) are cleaned apart
    raw = {s.key for s in sources if s.raw_ways}
    by_country: dict[tuple[str, bool], list[Piece]] = defaultdict(list)
    for p in pieces:
        by_country[p.country, p.source in raw].append(p)
    pieces = []
    for cc, is_raw in sorted(by_country):
        part = _node(by_country[cc, is_raw])
        if is_raw:
            part, n = _prune(_merge(part), opts.spur_km, border)
            report.spurs_pruned += n
            part, n = _snap(part, opts.raw_snap_km, border)
            report.snaps += n
            part, n = _collapse_yards(part, opts, border)
            report.yard_chains_removed += n
        else:
            part, n = _snap(part, opts.snap_km, border)
            report.snaps += n
        pieces += part
    pieces, n = _drop_region_fragments(pieces, regions, opts.spur_km, border)
    report.spurs_pruned += n
    pieces = _join_regions(pieces, border, regions, report)
    pieces = _node_ends(_join_crossings(pieces, nodes, cts, opts, report))
    for p in pieces:
        p.gauge, p.gauge_note = _gauge(p, gauges)
    pieces = _merge(pieces)
    _cross_border_report(pieces, nodes, opts, report)
    fc = _features(pieces, sources, gauges, cts, opts, report)
    _components(fc, opts, report)
    return fc, report


def _features(
    pieces: list[Piece],
    sources: Sequence[Source],
    gauges: Sequence[GaugeException],
    countries: gpd.GeoDataFrame,
    opts: BuildOptions,
    report: RailReport,
) -> dict[str, Any]:
    names = _country_names(countries)
    cite = {s.key: s for s in sources}
    deg = _degrees(pieces)
    report.dangling_ends = sum(1 for n in deg.values() if n == 1)
    rows = []
    for p in pieces:
        coords, lowered = _simplify(p.coords, opts)
        report.simplify_lowered += lowered
        rows.append((p, coords))
    rows.sort(key=lambda r: (r[0].country, r[1]))
    counters: Counter[str] = Counter()
    feats = []
    for p, coords in rows:
        counters[p.country] += 1
        fid = f"rail-{p.country}-{counters[p.country]:04d}"
        km = round(_km(coords), 3)
        gauge, exc = p.gauge, p.gauge_note
        props: dict[str, Any] = {"id": fid}
        if p.source == "connector" and not p.node:
            props["name"] = "Connector between two track sources (straight, not track)"
            props["source"] = (
                f"straight line joining the end of the track of a region ({p.name}) to the "
                "country's other track, drawn by geo.data.rail"
            )
            props["licence"] = CONNECTOR_LICENCE
        elif p.source == "connector":
            props["name"] = f"Connector to the border crossing {p.node} (straight, not track)"
            props["source"] = (
                f"straight line from the track to border crossing node '{p.node}' "
                "of layers/nodes.geojson, drawn by geo.data.rail"
            )
            props["licence"] = CONNECTOR_LICENCE
        else:
            props["name"] = p.name or f"{names.get(p.country, p.country)} railway"
            props["source"] = cite[p.source].citation
            props["licence"] = cite[p.source].licence
        props |= {
            "mode": "rail",
            "status": p.status,
            "gauge_mm": gauge,
            "precision": p.precision,
            "country": p.country,
            "length_km": km,
        }
        if exc:
            props["notes"] = next(g.notes for g in gauges if g.id == exc)
        feats.append(
            {
                "type": "Feature",
                "id": fid,
                "properties": props,
                "geometry": {"type": "LineString", "coordinates": [list(c) for c in coords]},
            }
        )
        key = (p.country, p.source)
        report.km_by_country_source[key] = report.km_by_country_source.get(key, 0.0) + km
        report.features_by_country_source[key] = report.features_by_country_source.get(key, 0) + 1
    report.features = len(feats)
    return {"type": "FeatureCollection", "features": feats}


def _components(fc: dict[str, Any], opts: BuildOptions, report: RailReport) -> None:
    """Connected components per country (through its own features only)."""
    by_country: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in fc["features"]:
        by_country[f["properties"]["country"]].append(f)
    for cc, feats in sorted(by_country.items()):
        roots = _Roots()
        for f in feats:
            cs = f["geometry"]["coordinates"]
            roots.union(tuple(cs[0]), tuple(cs[-1]))
        km: dict[Coord, float] = defaultdict(float)
        at: dict[Coord, Coord] = {}
        for f in feats:
            root = roots.find(tuple(f["geometry"]["coordinates"][0]))
            km[root] += f["properties"]["length_km"]
            at.setdefault(root, tuple(f["geometry"]["coordinates"][0]))
        sizes = sorted(((round(v, 1), k) for k, v in km.items()), reverse=True)
        report.components_km[cc] = [s for s, _ in sizes]
        report.small_components += [
            (cc, s, at[k]) for s, k in sizes[1:] if s < opts.small_component_km
        ]


def write_rail(fc: dict[str, Any], out: str | Path) -> int:
    """Write the FeatureCollection atomically; its size in bytes."""
    return write_features(fc, out)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m geo.data.rail SOURCE_DIR [--out FILE]``: build, write, print the report."""
    ap = argparse.ArgumentParser(prog="python -m geo.data.rail", description=__doc__)
    ap.add_argument("source_dir", help="folder of the rail sources (see layers/README.md)")
    ap.add_argument("--out", default=str(bundled_dir("layers") / "rail.geojson"))
    args = ap.parse_args(argv)
    return run_build(lambda: build_rail(args.source_dir), args.out)


if __name__ == "__main__":
    sys.exit(main())
