"""The pipelines layer (``layers/pipelines.geojson``), derived from Global Energy Monitor's data.

``python -m geo.data.pipelines SOURCE_DIR [--out layers/pipelines.geojson]`` reads
``gem_pipelines.gpkg`` in ``SOURCE_DIR`` (Global Energy Monitor's Global Oil and Gas
Infrastructure Trackers, CC BY 4.0: see ``layers/README.md``), keeps the lines that
``layers/pipelines_select.toml`` declares, snaps line ends to the terminals of
``layers/terminals.geojson``, joins lines of one fuel where one ends on or near another, cuts
them at country borders and writes one deterministic FeatureCollection of ``segment`` features
with ``mode`` "pipeline". The build prints a report (:class:`PipelineReport`).

The network is noded by coordinates, like the rail layer: features meet only at their ends, and
connected features share the exact end coordinate (rounded to 1e-5 degrees). Parallel lines
(GEM gives several lines one geometry) stay distinct features with the same coordinates.
"""

from __future__ import annotations

import argparse
import math
import sys
import tomllib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import shapely

from ..errors import GeoError
from .bundled import bundled_dir
from .countries import countries, country_at, nearest_country
from .geodesy import GEOD
from .polylines import (
    Coord,
    dist_km,
    line_coords,
    line_km,
    round_deg,
    run_build,
    split_at,
    write_features,
)
from .values import is_missing

__all__ = [
    "BuildOptions",
    "Junction",
    "PipelineReport",
    "Selection",
    "build_pipelines",
    "main",
    "read_selection",
    "write_pipelines",
]

SOURCE_FILE = "gem_pipelines.gpkg"
# The whole routes: the clipped layer cuts lines at lon 25 (TAP west of it, Soyuz, ...).
SOURCE_LAYER = "pipelines_full_geometry"
LICENCE = "CC-BY-4.0"
ROUTES = "https://github.com/GlobalEnergyMonitor/GOIT-GGIT-pipeline-routes"
STATUSES = {
    "operating": "operational",
    "construction": "under_construction",
    "proposed": "proposed",
    "shelved": "suspended",
    "idle": "suspended",
    "mothballed": "suspended",
}
DROPPED_STATUSES = ("cancelled", "retired")
# GEM's "Oil/NGL" lines (names from its 2024-03 list, no capacity) carry crude or condensate.
FUELS = {"Oil": "oil", "Oil/NGL": "oil", "Gas": "gas", "NGL": "ngl"}


@dataclass(frozen=True)
class BuildOptions:
    """Tolerances of the build (km, geodesic)."""

    join_km: float = 2.0  # a line end this close to a line of its fuel is joined to it
    reach_km: float = 7.0  # a dead end this close to a line of its fuel is joined to it
    terminal_km: float = 10.0  # a line end this close to a terminal node ends at the node
    schematic_gap_km: float = 50.0  # a stretch this long between vertices: the route is schematic


@dataclass(frozen=True)
class Selection:
    """Which GEM lines the layer keeps: every line entering ``countries``, plus ``extra``."""

    countries: tuple[str, ...]
    extra: dict[str, str]  # GEM project id -> why it is kept
    junctions: tuple[Junction, ...] = ()


@dataclass(frozen=True)
class Junction:
    """A declared place where GEM lines of one fuel meet (a pump station, terminal or hub).

    ``at`` says where the point is, never a coordinate typed in: ``start:<GEM id>`` or
    ``end:<GEM id>`` (the first or last vertex of that line as GEM draws it), or a terminal id
    of ``terminals.geojson``.
    """

    name: str
    at: str
    lines: tuple[str, ...]  # GEM project ids that meet there
    within_km: float  # each listed line must pass this close to the point
    source: str
    why: str


@dataclass
class PipelineReport:
    """What the build kept, joined and dropped."""

    features: int = 0
    size_bytes: int = 0
    seconds: float = 0.0
    lines_by_fuel_status: Counter[tuple[str, str]] = field(default_factory=Counter)
    km_by_country: dict[str, float] = field(default_factory=dict)
    components: dict[str, list[float]] = field(default_factory=dict)  # fuel -> km, largest first
    unjoined_ends: list[tuple[str, Coord]] = field(default_factory=list)  # feature id, end
    terminal_snaps: dict[str, int] = field(default_factory=dict)  # terminal id -> line ends
    end_joins: int = 0
    interior_joins: int = 0
    joins: list[tuple[str, str, str, float]] = field(default_factory=list)  # rule, line, to, km
    junctions: list[tuple[str, str, float]] = field(default_factory=list)  # junction, line, km
    parallel_groups: list[list[str]] = field(default_factory=list)  # GEM names per group
    dropped: Counter[str] = field(default_factory=Counter)  # reason -> GEM lines
    schematic: list[str] = field(default_factory=list)  # GEM names with a schematic stretch
    lengths: list[tuple[str, float, float]] = field(default_factory=list)  # name, km, GEM km

    def text(self) -> str:
        """The report as the build prints it."""
        out = [
            f"pipelines: {self.features} features, {self.size_bytes / 1e6:.2f} MB"
            f"{f', built in {self.seconds:.0f} s' if self.seconds else ''}",
            "GEM lines kept by fuel and status:",
        ]
        out += [
            f"  {f:4s} {s:20s} {n:4d}" for (f, s), n in sorted(self.lines_by_fuel_status.items())
        ]
        out.append("km by country:")
        out += [f"  {cc} {km:10,.0f}" for cc, km in sorted(self.km_by_country.items())]
        out.append("connected components per fuel (km, largest first):")
        for fuel, sizes in sorted(self.components.items()):
            shown = ", ".join(f"{s:,.0f}" for s in sizes[:10])
            more = f" and {len(sizes) - 10} more" if len(sizes) > 10 else ""
            out.append(f"  {fuel}: {len(sizes)} ({shown}{more})")
        out.append(
            f"joins: {self.end_joins} line ends joined to other ends, {self.interior_joins} to "
            f"another line's interior (split there); terminal snaps: "
            + (", ".join(f"{t} {n}" for t, n in sorted(self.terminal_snaps.items())) or "none")
        )
        out.append(f"declared junctions: {len(self.junctions)} line ends or vertices moved")
        out += [f"  {j}: {n} ({km:.1f} km)" for j, n, km in self.junctions]
        out.append(f"line ends joined to another line beyond 0 km: {len(self.joins)}")
        out += [f"  {r}: {n} -> {o} ({km:.1f} km)" for r, n, o, km in self.joins]
        out.append(f"ends not joined to any line or terminal: {len(self.unjoined_ends)}")
        out += [f"  {fid} at {xy[0]:.5f}, {xy[1]:.5f}" for fid, xy in self.unjoined_ends]
        out.append(
            f"parallel groups (one geometry, several GEM lines): {len(self.parallel_groups)}"
        )
        out += [f"  {' | '.join(g)}" for g in self.parallel_groups]
        out.append(f"lines with a schematic stretch: {len(self.schematic)}")
        out += [f"  {n}" for n in self.schematic]
        out.append("length against GEM's length_km_gem (lines of 500 km or more):")
        out += [
            f"  {n}: {km:,.0f} km (GEM {gem:,.0f}, {100 * (km - gem) / gem:+.1f} %)"
            for n, km, gem in self.lengths
        ]
        out.append("GEM lines dropped:")
        out += [f"  {why}: {n}" for why, n in sorted(self.dropped.items())]
        return "\n".join(out)


@dataclass
class _Line:
    """One part of one GEM line, with the attributes every piece of it carries."""

    pid: str
    fuel: str
    coords: list[Coord]
    props: dict[str, Any]
    pieces: list[list[Coord]] = field(default_factory=list)
    cuts: set[Coord] = field(default_factory=set)  # where other lines join its interior
    schematic: bool = False  # GEM's route has a stretch of more than schematic_gap_km


def _has_gap(coords: list[Coord], km: float) -> bool:
    """Whether some stretch between consecutive vertices is longer than ``km``."""
    a = np.asarray(coords)
    return bool((GEOD.inv(a[:-1, 0], a[:-1, 1], a[1:, 0], a[1:, 1])[2] / 1000.0 > km).any())


def read_selection(path: str | Path) -> Selection:
    """The region and the listed lines of a selection file (``pipelines_select.toml``).

    Raises
    ------
    GeoError
        The file is missing, is not TOML, or lacks ``[region] countries`` or a line's ``id``.
    """
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        msg = f"{p}: cannot read the pipeline selection ({e})"
        raise GeoError(msg) from e
    countries = data.get("region", {}).get("countries")
    if not isinstance(countries, list) or not all(isinstance(c, str) for c in countries):
        msg = f"{p}: [region] countries must be a list of alpha-3 codes"
        raise GeoError(msg)
    extra: dict[str, str] = {}
    for i, line in enumerate(data.get("line", [])):
        pid, why = line.get("id"), line.get("why")
        if not isinstance(pid, str) or not isinstance(why, str):
            msg = f"{p}: [[line]] number {i + 1} needs an 'id' (GEM project id) and a 'why'"
            raise GeoError(msg)
        extra[pid] = why
    return Selection(tuple(countries), extra, _read_junctions(p, data.get("junction", [])))


def _read_junctions(p: Path, entries: list[Any]) -> tuple[Junction, ...]:
    out = []
    for i, e in enumerate(entries):
        name = e.get("name") if isinstance(e, dict) else None
        label = f"[[junction]] '{name}'" if isinstance(name, str) else f"[[junction]] {i + 1}"
        e = e if isinstance(e, dict) else {}
        texts = {k: e.get(k) for k in ("name", "at", "source", "why")}
        bad = [k for k, v in texts.items() if not isinstance(v, str) or not v.strip()]
        lines, within = e.get("lines"), e.get("within_km")
        if not isinstance(lines, list) or not lines or not all(isinstance(x, str) for x in lines):
            bad.append("lines")
        if not isinstance(within, int | float) or isinstance(within, bool) or not 0 < within <= 50:
            bad.append("within_km")
        if bad:
            msg = (f"{p}: {label}: field '{bad[0]}' is missing or wrong; a junction needs name, "
                   "at, lines (GEM ids), within_km (0-50), source and why")  # fmt: skip
            raise GeoError(msg)
        out.append(Junction(str(texts["name"]), str(texts["at"]), tuple(lines),  # type: ignore[arg-type]
                            float(within), str(texts["source"]), str(texts["why"])))  # type: ignore[arg-type]  # fmt: skip
    return tuple(out)


def _read_terminals(path: Path) -> list[tuple[str, Coord, str | None]]:
    """Terminal nodes: id, point, and the one fuel whose lines snap there (None: any)."""
    if not path.is_file():
        return []
    data = orjson.loads(path.read_bytes())
    out = []
    for f in data.get("features", []):
        p = f.get("properties") or {}
        if p.get("kind") == "terminal" and (f.get("geometry") or {}).get("type") == "Point":
            x, y = f["geometry"]["coordinates"][:2]
            fuel = p.get("fuel") if isinstance(p.get("fuel"), str) else None
            out.append((str(p["id"]), (round_deg(x), round_deg(y)), fuel))
    return sorted(out)


def _read_source(source_dir: Path) -> gpd.GeoDataFrame:
    path = source_dir / SOURCE_FILE
    if not path.is_file():
        msg = f"{path}: source file missing; give the folder that holds {SOURCE_FILE}"
        raise GeoError(msg)
    gdf = gpd.read_file(path, layer=SOURCE_LAYER, engine="pyogrio")
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    return gdf.sort_values("project_id", kind="stable").reset_index(drop=True)


def _selected(
    gdf: gpd.GeoDataFrame, sel: Selection, countries: gpd.GeoDataFrame, report: PipelineReport
) -> gpd.GeoDataFrame:
    """The rows the selection keeps and that carry what a feature needs; the rest counted."""
    region = countries[countries["id"].isin(sel.countries)]
    names = [str(n) for n in region["name"]]
    inside = gdf.geometry.intersects(region.geometry.union_all()).to_numpy()
    named = gdf["countries"].fillna("").map(lambda s: any(n in s for n in names)).to_numpy()
    listed = gdf["project_id"].isin(list(sel.extra)).to_numpy()
    missing = sorted(set(sel.extra) - set(gdf["project_id"]))
    if missing:
        msg = f"pipelines_select.toml: GEM project '{missing[0]}' is not in the source; fix its id"
        raise GeoError(msg)
    rows = gdf[inside | named | listed]
    status = rows["status"]
    fuel = rows["fuel"]
    no_attr = status.isna() | rows["name"].isna()
    dropped = status.isin(DROPPED_STATUSES) & ~no_attr
    other_fuel = ~fuel.isin(list(FUELS)) & ~no_attr & ~dropped
    report.dropped["no name or status in GEM (route id with geometry only)"] = int(no_attr.sum())
    for s in DROPPED_STATUSES:
        report.dropped[s] = int((dropped & (status == s)).sum())
    for f in sorted(set(fuel[other_fuel])):
        report.dropped[f"fuel {f}"] = int((other_fuel & (fuel == f)).sum())
    return rows[~(no_attr | dropped | other_fuel)]


def _clean(v: Any) -> Any:
    if is_missing(v):
        return None
    if isinstance(v, str):
        v = " ".join(v.split())
        return v or None
    return v


def _number(v: Any) -> float | None:
    v = _clean(v)
    if v is None:
        return None
    x = float(v)
    return x if math.isfinite(x) and x > 0 else None


def _props(row: pd.Series) -> dict[str, Any]:
    """The attributes every piece of a GEM line carries (schema order; None left out)."""
    fuel = FUELS[row["fuel"]]
    name = _clean(row["name"])
    segment = _clean(row["segment"])
    if segment and segment.lower() not in name.lower():
        name = f"{name} ({segment})"
    wiki = _clean(row["wiki"])
    pid = str(row["project_id"])
    source = wiki or f"Global Energy Monitor, project {pid}: {ROUTES}"
    capacity = _number(row["capacity"])
    boe = _number(row["capacity_boe_d"])
    year = _number(row["start_year"])
    status = str(row["status"])
    notes = [f"GEM project {pid}; GEM status '{status}'"]
    if _clean(row["status_as_of"]):
        notes[0] += f" as of {row['status_as_of']}"
    if row["fuel"] == "Oil/NGL":
        notes.append("GEM fuel 'Oil/NGL'")
    gem_km = _number(row["length_km_gem"])
    if gem_km:
        notes.append(f"whole line {gem_km:,.0f} km by GEM")
    props: dict[str, Any] = {
        "name": name,
        "source": source,
        "notes": "; ".join(notes),
        "mode": "pipeline",
        "status": STATUSES[status],
        "gauge_mm": None,
        "licence": LICENCE,
        "fuel": fuel,
        "capacity": capacity,
        "capacity_units": _clean(row["capacity_units"]) if capacity else None,
        "capacity_bcm_y": _number(row["capacity_bcm_y"]) if fuel == "gas" else None,
        "capacity_kbd": round(boe / 1000.0, 3) if boe and fuel != "gas" else None,
        "owner": _clean(row["owner"]),
        "start_year": int(year) if year else None,
    }
    return {k: v for k, v in props.items() if v is not None or k == "gauge_mm"}


def _lines(rows: gpd.GeoDataFrame, opts: BuildOptions) -> list[_Line]:
    out = []
    for _, row in rows.iterrows():
        props = _props(row)
        for part in shapely.get_parts(row.geometry):
            coords = line_coords(part)
            if len(coords) >= 2:
                schematic = _has_gap(coords, opts.schematic_gap_km)
                out.append(_Line(str(row["project_id"]), props["fuel"], coords, props,
                                 schematic=schematic))  # fmt: skip
    return out


def _tidy(lines: list[_Line]) -> None:
    """Repeated vertices gone; a line that shrank to a point (both ends joined) dropped."""
    for ln in lines:
        ln.coords = [c for j, c in enumerate(ln.coords) if j == 0 or c != ln.coords[j - 1]]
    lines[:] = [ln for ln in lines if len(ln.coords) >= 2]


def _snap_terminals(
    lines: list[_Line], terminals: Sequence[tuple[str, Coord, str | None]], opts: BuildOptions,
    report: PipelineReport,
) -> set[Coord]:  # fmt: skip
    """Move each line end within ``terminal_km`` of a terminal of its fuel onto the nearest."""
    at: set[Coord] = set()
    for ln in lines:
        ok = [(t, c) for t, c, fuel in terminals if fuel in (None, ln.fuel)]
        if not ok:
            continue
        tx = np.array([c[0] for _, c in ok])
        ty = np.array([c[1] for _, c in ok])
        for i in (0, -1):
            x, y = ln.coords[i]
            d = GEOD.inv(np.full(len(tx), x), np.full(len(tx), y), tx, ty)[2] / 1000.0
            k = int(np.argmin(d))
            if d[k] <= opts.terminal_km:
                tid, c = ok[k]
                ln.coords[i] = c
                at.add(c)
                report.terminal_snaps[tid] = report.terminal_snaps.get(tid, 0) + 1
    _tidy(lines)
    return at


def _join_ends(lines: list[_Line], fixed: set[Coord], opts: BuildOptions) -> int:
    """Ends of one fuel within ``join_km`` of each other meet at one of them."""
    ends = [(k, i, ln.coords[i]) for k, ln in enumerate(lines) for i in (0, -1)]
    parent = list(range(len(ends)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    xy = np.array([c for _, _, c in ends])
    for a, (ka, _, ca) in enumerate(ends):
        d = GEOD.inv(np.full(len(xy), ca[0]), np.full(len(xy), ca[1]), xy[:, 0], xy[:, 1])[2]
        for b in map(int, np.flatnonzero(d <= opts.join_km * 1000.0)):
            kb = ends[b][0]
            if b > a and kb != ka and lines[ka].fuel == lines[kb].fuel:
                parent[find(b)] = find(a)
    groups: dict[int, list[int]] = defaultdict(list)
    for a in range(len(ends)):
        groups[find(a)].append(a)
    moved = 0
    for members in groups.values():
        coords = Counter(ends[a][2] for a in members)
        if len(coords) < 2:
            continue
        # A terminal wins; else the point most lines already share; ties by coordinate.
        target = min(coords, key=lambda c: (c not in fixed, -coords[c], c))
        for a in members:
            k, i, c = ends[a]
            if c != target:
                lines[k].coords[i] = target
                moved += 1
    _tidy(lines)
    return moved


def _local_km(a: Coord, b: shapely.LineString) -> tuple[Coord, float]:
    """The point of ``b`` nearest ``a`` (found in degrees, rounded) and its geodesic km."""
    p = b.interpolate(b.project(shapely.Point(a)))
    c = (round_deg(p.x), round_deg(p.y))
    return c, dist_km(a, c)


def _deg(km: float, lat: float) -> float:
    """A search radius in degrees that holds ``km`` at latitude ``lat``."""
    return km / (111.32 * max(math.cos(math.radians(lat)), 0.1))


class _Ends:
    """Which lines end at each coordinate, kept true as ends move."""

    def __init__(self, lines: list[_Line]) -> None:
        self.at: dict[Coord, list[tuple[int, int]]] = defaultdict(list)
        for k, ln in enumerate(lines):
            for i in (0, -1):
                self.at[ln.coords[i]].append((k, i))

    def move(self, lines: list[_Line], c: Coord, p: Coord) -> list[int]:
        """Every end at ``c`` moves to ``p``; the lines moved."""
        moved = self.at.pop(c, [])
        for k, i in moved:
            lines[k].coords[i] = p
        self.at[p].extend(moved)
        return sorted({k for k, _ in moved})

    def inner(self, lines: list[_Line], c: Coord) -> bool:
        """Whether ``c`` only joins parts of GEM lines that go on (one part ends, one starts)."""
        pids: dict[str, list[int]] = defaultdict(list)
        for k, i in self.at.get(c, []):
            pids[lines[k].pid].append(i)
        return all(sorted(v) == [-1, 0] for v in pids.values())

    def dead(self, lines: list[_Line], c: Coord) -> bool:
        """Whether only one geometry (a line and its parallel twins) ends at ``c``."""
        return len({tuple(lines[k].coords) for k, _ in self.at.get(c, [])}) == 1


def _nearest_line(
    lines: list[_Line], geoms: list[shapely.LineString], tree: shapely.STRtree, k: int, c: Coord,
    km: float,
) -> tuple[float, Coord, int] | None:  # fmt: skip
    """The nearest line of line ``k``'s fuel to ``c`` within ``km`` (not ending at ``c``)."""
    ln = lines[k]
    best: tuple[float, Coord, int] | None = None
    # Twice the radius: lines moved by earlier joins keep their old boxes in the tree.
    for j in sorted(int(j) for j in tree.query(shapely.Point(c).buffer(2 * _deg(km, c[1])))):
        o = lines[j]
        if o.fuel != ln.fuel or c in (o.coords[0], o.coords[-1]) or o.coords == ln.coords:
            continue
        p, d = _local_km(c, geoms[j])
        if d <= km and (best is None or (d, p) < best[:2]):
            best = (d, p, j)
    return best


def _join_interiors(
    lines: list[_Line], fixed: set[Coord], opts: BuildOptions, report: PipelineReport
) -> int:
    """Line ends near another line of their fuel move onto it, and that line is cut there.

    Two passes: every end (a free end, or a junction of several lines) within ``join_km``; then
    every dead end (one line, or parallel twins, and nothing else) within ``reach_km``. A
    terminal or declared junction never moves: it joins a line only where it lies on it. A line
    that merely passes by another is never joined: only ends move.
    """
    joins = 0
    for km, rule, dead_only in ((opts.join_km, "within join_km", False),
                                (opts.reach_km, "dead end within reach_km", True)):  # fmt: skip
        geoms = [shapely.LineString(ln.coords) for ln in lines]
        tree = shapely.STRtree(geoms)
        ends = _Ends(lines)
        for k, ln in enumerate(lines):
            for i in (0, -1):
                c = ln.coords[i]
                skip = dead_only and (c in fixed or not ends.dead(lines, c))
                if skip or ends.inner(lines, c):
                    continue
                best = _nearest_line(lines, geoms, tree, k, c, km)
                if best is None or (c in fixed and best[1] != c):
                    continue
                d, p, j = best
                for m in ends.move(lines, c, p):
                    geoms[m] = shapely.LineString(lines[m].coords)
                for m, g in enumerate(geoms):  # the line and those drawn on the same geometry
                    if lines[m].fuel == ln.fuel and g.distance(shapely.Point(p)) < 1e-5:
                        lines[m].cuts.add(p)
                joins += 1
                if d > 0:
                    report.joins.append((rule, ln.props["name"], lines[j].props["name"], d))
    _tidy(lines)
    return joins


def _junction_point(j: Junction, lines: list[_Line], terminals: dict[str, Coord]) -> Coord:
    kind, _, pid = j.at.partition(":")
    if kind in ("start", "end") and pid:
        own = [ln for ln in lines if ln.pid == pid]
        if own:
            return own[0].coords[0] if kind == "start" else own[-1].coords[-1]
    elif j.at in terminals:
        return terminals[j.at]
    msg = (f"pipelines_select.toml: junction '{j.name}': 'at' = '{j.at}' names no kept GEM line "
           "end or terminal; use start:<GEM id>, end:<GEM id> or a terminal id")  # fmt: skip
    raise GeoError(msg)


def _insert(coords: list[Coord], p: Coord) -> None:
    """``p`` becomes a vertex of the polyline, between the vertices of its nearest segment."""
    line = shapely.LineString(coords)
    d = line.project(shapely.Point(p))
    along = 0.0
    for i in range(len(coords) - 1):
        along += math.dist(coords[i], coords[i + 1])
        if along >= d:
            coords.insert(i + 1, p)
            return
    coords.insert(len(coords) - 1, p)


def _apply_junctions(
    lines: list[_Line], junctions: Sequence[Junction], terminals: dict[str, Coord],
    opts: BuildOptions, report: PipelineReport,
) -> set[Coord]:  # fmt: skip
    """Each declared junction's lines meet at its point.

    A listed line's end within ``within_km`` moves there, else the point becomes a vertex where
    the line passes (and the line is cut there). Parallel twins (same fuel, same coordinates)
    move with the listed line.
    """
    at: set[Coord] = set()
    for j in junctions:
        p = _junction_point(j, lines, terminals)
        at.add(p)
        for pid in j.lines:
            own = [ln for ln in lines if ln.pid == pid]
            if not own:
                msg = (f"pipelines_select.toml: junction '{j.name}': line '{pid}' is not kept "
                       "by the selection; fix its GEM id")  # fmt: skip
                raise GeoError(msg)
            ln = min(own, key=lambda o: _local_km(p, shapely.LineString(o.coords))[1])
            _, km = _local_km(p, shapely.LineString(ln.coords))
            if km > j.within_km:
                msg = (f"pipelines_select.toml: junction '{j.name}': line '{pid}' passes "
                       f"{km:.1f} km from the point, farther than within_km = {j.within_km}; "
                       "fix the line list or within_km")  # fmt: skip
                raise GeoError(msg)
            twins = [o for o in lines if o.fuel == ln.fuel and o.coords == ln.coords]
            end_km = [dist_km(p, ln.coords[0]), dist_km(p, ln.coords[-1])]
            i = int(np.argmin(end_km))
            moved = min(end_km) if min(end_km) <= j.within_km else km
            for o in twins:
                if min(end_km) <= j.within_km:
                    o.coords[(0, -1)[i]] = p
                elif p not in o.coords:
                    _insert(o.coords, p)
                    o.cuts.add(p)
                else:
                    o.cuts.add(p)
            report.junctions.append((j.name, ln.props["name"], moved))
    _tidy(lines)
    return at


def _cut_points(coords: list[Coord], borders: shapely.STRtree, lines: np.ndarray) -> list[Coord]:
    g = shapely.LineString(coords)
    out: list[Coord] = []
    for j in borders.query(g, predicate="intersects"):
        for part in shapely.get_parts(g.intersection(lines[int(j)])):
            for x, y in shapely.get_coordinates(part)[
                :: max(1, len(shapely.get_coordinates(part)) - 1)
            ]:
                out.append((round_deg(x), round_deg(y)))
    return out


def _country_of(coords: list[Coord]) -> str:
    """The country holding the piece's midpoint; at sea (the Caspian, the Adriatic), the nearest."""
    mid = shapely.LineString(coords).interpolate(0.5, normalized=True)
    return country_at(mid.x, mid.y) or nearest_country(mid.x, mid.y)


def _cut_at_borders(lines: list[_Line]) -> None:
    """Each line split at its joins and cut at every border of the bundled countries."""
    cts = countries()
    borders = shapely.boundary(cts.geometry.to_numpy())
    tree = shapely.STRtree(borders)
    for ln in lines:
        ln.pieces = split_at(ln.coords, ln.cuts | set(_cut_points(ln.coords, tree, borders)))


def build_pipelines(
    source_dir: str | Path,
    *,
    select_path: str | Path | None = None,
    terminals_path: str | Path | None = None,
    options: BuildOptions | None = None,
) -> tuple[dict[str, Any], PipelineReport]:
    """The pipelines layer as a GeoJSON FeatureCollection (a dict), and the build's report.

    Parameters
    ----------
    source_dir
        The folder holding ``gem_pipelines.gpkg``.
    select_path
        The selection (default the bundled ``pipelines_select.toml``).
    terminals_path
        The terminal nodes line ends snap to (default the bundled ``terminals.geojson``; a
        missing file means none).
    options
        Tolerances.

    Returns
    -------
    tuple
        The FeatureCollection and a :class:`PipelineReport`.
    """
    opts = options or BuildOptions()
    layers = bundled_dir("layers")
    sel = read_selection(Path(select_path) if select_path else layers / "pipelines_select.toml")
    terminals = _read_terminals(
        Path(terminals_path) if terminals_path else layers / "terminals.geojson"
    )
    report = PipelineReport()
    rows = _selected(_read_source(Path(source_dir)), sel, countries(), report)
    for fuel, status in zip(rows["fuel"], rows["status"], strict=True):
        report.lines_by_fuel_status[FUELS[fuel], STATUSES[status]] += 1
    lines = _lines(rows, opts)
    fixed = _snap_terminals(lines, terminals, opts, report)
    points = {t: c for t, c, _ in terminals}
    fixed |= _apply_junctions(lines, sel.junctions, points, opts, report)
    report.end_joins = _join_ends(lines, fixed, opts)
    report.interior_joins = _join_interiors(lines, fixed, opts, report)
    _cut_at_borders(lines)
    fc = _features(lines, opts, report)
    _summarise(fc, rows, fixed, report)
    return fc, report


def _features(lines: list[_Line], opts: BuildOptions, report: PipelineReport) -> dict[str, Any]:
    feats = []
    counters: Counter[str] = Counter()
    schematic: set[str] = set()
    for ln in lines:
        for coords in ln.pieces:
            counters[ln.pid] += 1
            fid = f"pipe-{ln.pid}-{counters[ln.pid]}"
            precision = "schematic" if ln.schematic else "traced"
            if precision == "schematic":
                schematic.add(ln.props["name"])
            country = _country_of(coords)
            km = round(line_km(coords), 3)
            props = {"id": fid, **ln.props, "precision": precision, "country": country,
                     "length_km": km}  # fmt: skip
            feats.append(
                {
                    "type": "Feature",
                    "id": fid,
                    "properties": props,
                    "geometry": {"type": "LineString", "coordinates": [list(c) for c in coords]},
                }
            )
            report.km_by_country[country] = report.km_by_country.get(country, 0.0) + km
    report.features = len(feats)
    report.schematic = sorted(schematic)
    return {"type": "FeatureCollection", "features": feats}


def _summarise(fc: dict[str, Any], rows: gpd.GeoDataFrame, at_terminal: set[Coord],
               report: PipelineReport) -> None:  # fmt: skip
    """Components per fuel, ends joined to nothing, parallel groups, lengths against GEM's."""
    feats = fc["features"]
    _components(feats, report)
    _unjoined(feats, at_terminal, report)
    _parallel(feats, report)
    _lengths(feats, rows, report)


def _unjoined(feats: list[dict[str, Any]], at_terminal: set[Coord], report: PipelineReport) -> None:
    ends: Counter[tuple[str, Coord]] = Counter()
    for f in feats:
        cs = f["geometry"]["coordinates"]
        for c in (cs[0], cs[-1]):
            ends[f["properties"]["fuel"], (c[0], c[1])] += 1
    for f in feats:
        fuel, cs = f["properties"]["fuel"], f["geometry"]["coordinates"]
        for c in (tuple(cs[0]), tuple(cs[-1])):
            if ends[fuel, c] == 1 and c not in at_terminal:
                report.unjoined_ends.append((f["id"], c))


def _components(feats: list[dict[str, Any]], report: PipelineReport) -> None:
    parent: dict[tuple[str, Coord], tuple[str, Coord]] = {}

    def find(a: tuple[str, Coord]) -> tuple[str, Coord]:
        while parent.setdefault(a, a) != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for f in feats:
        fuel, cs = f["properties"]["fuel"], f["geometry"]["coordinates"]
        a, b = find((fuel, tuple(cs[0]))), find((fuel, tuple(cs[-1])))
        if a != b:
            parent[max(a, b)] = min(a, b)
    km: dict[tuple[str, Coord], float] = defaultdict(float)
    for f in feats:
        fuel, cs = f["properties"]["fuel"], f["geometry"]["coordinates"]
        km[find((fuel, tuple(cs[0])))] += f["properties"]["length_km"]
    by_fuel: dict[str, list[float]] = defaultdict(list)
    for (fuel, _), v in km.items():
        by_fuel[fuel].append(round(v, 1))
    report.components = {k: sorted(v, reverse=True) for k, v in sorted(by_fuel.items())}


def _parallel(feats: list[dict[str, Any]], report: PipelineReport) -> None:
    same: dict[tuple[Coord, ...], list[str]] = defaultdict(list)
    for f in feats:
        cs = tuple(tuple(c) for c in f["geometry"]["coordinates"])
        key = min(cs, cs[::-1])
        if f["properties"]["name"] not in same[key]:
            same[key].append(f["properties"]["name"])
    groups = {tuple(v) for v in same.values() if len(v) > 1}
    report.parallel_groups = [list(g) for g in sorted(groups)]


def _lengths(feats: list[dict[str, Any]], rows: gpd.GeoDataFrame, report: PipelineReport) -> None:
    total: dict[str, float] = defaultdict(float)
    for f in feats:
        total[f["id"].rsplit("-", 1)[0]] += f["properties"]["length_km"]
    for _, row in rows.iterrows():
        gem = _number(row["length_km_gem"])
        if gem and gem >= 500:
            report.lengths.append(
                (str(_props(row)["name"]), total.get(f"pipe-{row['project_id']}", 0.0), gem)
            )
    report.lengths.sort()


def write_pipelines(fc: dict[str, Any], out: str | Path) -> int:
    """Write the FeatureCollection atomically (one feature per line); its size in bytes."""
    return write_features(fc, out)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m geo.data.pipelines SOURCE_DIR [--out FILE]``: build, write, print the report."""
    ap = argparse.ArgumentParser(prog="python -m geo.data.pipelines", description=__doc__)
    ap.add_argument("source_dir", help="folder holding gem_pipelines.gpkg (see layers/README.md)")
    ap.add_argument("--out", default=str(bundled_dir("layers") / "pipelines.geojson"))
    ap.add_argument("--select", default=None, help="selection file (default the bundled one)")
    ap.add_argument("--terminals", default=None, help="terminal nodes (default the bundled ones)")
    args = ap.parse_args(argv)
    return run_build(
        lambda: build_pipelines(
            args.source_dir, select_path=args.select, terminals_path=args.terminals
        ),
        args.out,
    )


if __name__ == "__main__":
    sys.exit(main())
