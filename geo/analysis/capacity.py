"""Export capacity: the maximum flow from a country's fields to its markets by pipe and tanker.

The pipelines layer (``layers/pipelines.geojson``) is noded by coordinates: lines of one fuel
meet at shared ends, and terminals sit on line ends. :func:`pipeline_graph` turns it, with the
tanker links of ``layers/tanker_links.toml``, into a capacity graph; :func:`export_capacity`
computes the maximum flow (networkx) from the country's fields of a fuel to that fuel's markets,
with and without the avoided countries, and names the bottleneck (the lines of the minimum cut).

Where a line's capacity is unknown the answer is a range: the flow with unknown lines closed
(a lower bound, only what the known capacities prove) and with them unlimited (an upper bound).
Capacities are nameplate figures from the source; spare capacity is not modelled.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from ..data.geodesy import GEOD
from ..data.values import is_missing
from ..errors import RouteError

__all__ = [
    "FUEL_UNITS",
    "CapacityResult",
    "TankerLink",
    "export_capacity",
    "pipeline_graph",
]

# The capacity column and unit of each fuel (layers/README.md, pipelines schema).
FUEL_UNITS = {"oil": ("capacity_kbd", "thousand barrels/day"),
              "ngl": ("capacity_kbd", "thousand barrels/day"),
              "gas": ("capacity_bcm_y", "billion m3/year")}  # fmt: skip
FIELD_KM = 50.0  # a field feeds the pipelines of its fuel that start or pass this near it
COORD_DECIMALS = 5
SOURCE, SINK = "__fields__", "__markets__"
UNLIMITED = 1e12  # an unknown capacity in the upper bound; a flow this large is unbounded
DEFAULT_STATUSES = ("operational",)


@dataclass(frozen=True)
class TankerLink:
    """A tanker (or ferry) crossing between two terminals, with its capacity if known."""

    id: str
    name: str
    fuel: tuple[str, ...]
    start: str  # node id
    end: str  # node id
    countries: tuple[str, ...]  # whose ports and waters it uses
    capacity: float | None  # in the fuel's unit, None if unknown
    status: str
    source: str


@dataclass
class CapacityResult:
    """The maximum export flow of one fuel from one country, as a range when unknowns remain."""

    fuel: str
    origin: str
    avoid: tuple[str, ...]
    statuses: tuple[str, ...]
    unit: str
    low: float  # unknown capacities closed: what the known figures prove
    high: float  # unknown capacities unlimited (math.inf if an unknown line is the only limit)
    bottleneck: list[str]  # lines (by name) of the minimum cut of the upper-bound flow
    unknown: list[str]  # lines of unknown capacity that carry flow in the upper bound
    fields: list[str]  # the fields that feed the network
    unreached: list[str]  # fields of the fuel with no line within FIELD_KM
    flows: pd.DataFrame = field(repr=False)  # per line: flow in the upper-bound solution
    by_market: dict[str, float] = field(default_factory=dict)

    @property
    def exact(self) -> bool:
        """True where the known capacities decide the answer alone."""
        return self.low == self.high

    def text(self) -> str:
        """The answer in one line, with its unit and constraints."""
        rng = f"{self.low:,.0f}" if self.exact else f"{self.low:,.0f}-{_fmt(self.high)}"
        avoid = f" avoiding {', '.join(self.avoid)}" if self.avoid else ""
        return f"{self.origin} {self.fuel} export capacity{avoid}: {rng} {self.unit}"


def _fmt(v: float) -> str:
    return "unbounded" if math.isinf(v) else f"{v:,.0f}"


def _key(x: float, y: float) -> tuple[float, float]:
    return (round(float(x), COORD_DECIMALS), round(float(y), COORD_DECIMALS))


def pipeline_graph(
    pipes: gpd.GeoDataFrame,
    terminals: gpd.GeoDataFrame,
    links: Sequence[TankerLink] = (),
    *,
    fuel: str,
    avoid: Iterable[str] = (),
    statuses: Iterable[str] = DEFAULT_STATUSES,
    points: Mapping[str, tuple[float, float]] | None = None,
) -> nx.Graph:
    """The capacity graph of one fuel: pipeline vertices and terminals, capacities summed.

    ``points`` names further line vertices (label -> lon, lat), e.g. a line's end where the
    source draws its delivery point but no terminal has a sourced position.

    Parallel lines between the same two vertices add up (Central Asia-China A, B and C share a
    route). An edge's ``capacity`` is None where any of its lines' capacity is unknown; ``lines``
    lists the lines (id, name, capacity) it stands for. Lines in an avoided country, of another
    fuel or of a status not allowed are left out, and so are tanker links touching an avoided
    country.
    """
    if fuel not in FUEL_UNITS:
        msg = f"unknown fuel {fuel!r}; use one of {', '.join(FUEL_UNITS)}"
        raise RouteError(msg)
    column = FUEL_UNITS[fuel][0]
    avoid, statuses = set(avoid), set(statuses)
    at = {_key(p.x, p.y): str(i) for i, p in zip(terminals["id"], terminals.geometry, strict=True)}
    at.update({_key(*xy): label for label, xy in (points or {}).items()})
    g = nx.Graph()
    for t, p in zip(terminals["id"], terminals.geometry, strict=True):
        g.add_node(str(t), x=float(p.x), y=float(p.y), terminal=True)
    fuels = pipes["fuel"].to_numpy() if "fuel" in pipes else np.full(len(pipes), None)
    for i in np.flatnonzero(fuels == fuel):
        row = pipes.iloc[int(i)]
        if str(row["status"]) not in statuses or str(row.get("country")) in avoid:
            continue
        geom = row.geometry
        parts = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
        a, b = parts[0].coords[0], parts[-1].coords[-1]
        u, v = (at.get(_key(*a[:2]), f"pipe:{_key(*a[:2])}"),
                at.get(_key(*b[:2]), f"pipe:{_key(*b[:2])}"))  # fmt: skip
        for n, c in ((u, a), (v, b)):
            if n not in g:
                g.add_node(n, x=float(c[0]), y=float(c[1]), terminal=n in at.values())
        cap = row.get(column)
        cap = None if is_missing(cap) else float(cap)
        line = (str(row["id"]), str(row["name"]), cap, str(row.get("country")))
        if u == v:
            continue
        if g.has_edge(u, v):
            e = g.edges[u, v]
            e["lines"].append(line)
            e["capacity"] = None if e["capacity"] is None or cap is None else e["capacity"] + cap
        else:
            g.add_edge(u, v, lines=[line], capacity=cap, kind="pipeline")
    for lk in links:
        if fuel not in lk.fuel or lk.status not in statuses or avoid & set(lk.countries):
            continue
        if lk.start not in g or lk.end not in g:
            continue
        line = (lk.id, lk.name, lk.capacity, "/".join(lk.countries))
        g.add_edge(lk.start, lk.end, lines=[line], capacity=lk.capacity, kind="tanker")
    return g


def _feed(g: nx.Graph, fields: gpd.GeoDataFrame) -> tuple[list[str], list[str], list[str]]:
    """Join each field to the nearest graph vertex within FIELD_KM: fed ids, vertices, unreached."""
    ids = [n for n in g.nodes if n not in (SOURCE, SINK)]
    if not ids:
        return [], [], [str(i) for i in fields["id"]]
    xs = np.array([g.nodes[n]["x"] for n in ids])
    ys = np.array([g.nodes[n]["y"] for n in ids])
    fed, at, unreached = [], [], []
    for fid, p in zip(fields["id"], fields.geometry, strict=True):
        km = GEOD.inv(np.full(len(xs), p.x), np.full(len(xs), p.y), xs, ys)[2] / 1000.0
        k = int(np.argmin(km))
        if km[k] <= FIELD_KM:
            fed.append(str(fid))
            at.append(ids[k])
        else:
            unreached.append(str(fid))
    return fed, at, unreached


def _max_flow(
    g: nx.Graph, sources: Sequence[str], markets: Sequence[str], unknown: float
) -> tuple[float, dict[str, dict[str, float]], tuple[set[str], set[str]] | None]:
    """Max flow with unknown capacities set to ``unknown``; the flow dict and the min cut."""
    d = nx.DiGraph()
    for u, v, e in g.edges(data=True):
        cap = unknown if e["capacity"] is None else e["capacity"]
        for a, b in ((u, v), (v, u)):
            d.add_edge(a, b, capacity=cap)
    for s in sources:
        d.add_edge(SOURCE, s)  # no capacity attribute: unlimited
    for m in markets:
        if m in g:
            d.add_edge(m, SINK)
    if SOURCE not in d or SINK not in d:
        return 0.0, {}, None
    value, flow = nx.maximum_flow(d, SOURCE, SINK)
    _, cut = nx.minimum_cut(d, SOURCE, SINK)
    return (math.inf if value >= UNLIMITED else float(value)), flow, cut


def export_capacity(
    pipes: gpd.GeoDataFrame,
    terminals: gpd.GeoDataFrame,
    fields: gpd.GeoDataFrame,
    markets: Sequence[str],
    *,
    fuel: str,
    origin: str,
    links: Sequence[TankerLink] = (),
    avoid: Iterable[str] = (),
    statuses: Iterable[str] = DEFAULT_STATUSES,
    points: Mapping[str, tuple[float, float]] | None = None,
) -> CapacityResult:
    """The maximum flow of ``fuel`` from ``origin``'s fields to ``markets``.

    Parameters
    ----------
    pipes
        The pipelines layer (kind segment, mode pipeline; see layers/README.md).
    terminals
        Node frame whose points sit on pipeline ends (oil terminals, gas delivery points).
    fields
        Deposit frame: the fields of the fuel in ``origin`` (the caller selects them).
    markets
        Node ids where the flow is sold or handed on (terminals or pipeline ends).
    fuel
        ``oil``, ``ngl`` or ``gas``.
    origin
        The exporting country (alpha-3), for the result's label.
    links
        Tanker links between terminals (Caspian crossings).
    avoid
        Countries whose lines and links are left out.
    statuses
        Line statuses allowed (default operational only).
    points
        Further named line vertices (see :func:`pipeline_graph`), usable as markets.

    Returns
    -------
    CapacityResult
        Lower and upper bounds, bottleneck, per-line flows.
    """
    avoid_t, status_t = tuple(sorted(set(avoid))), tuple(sorted(set(statuses)))
    g = pipeline_graph(pipes, terminals, links, fuel=fuel, avoid=avoid_t, statuses=status_t,
                       points=points)  # fmt: skip
    fed, at, unreached = _feed(g, fields)
    low, _, _ = _max_flow(g, sorted(set(at)), markets, 0.0)
    high, flow, cut = _max_flow(g, sorted(set(at)), markets, UNLIMITED)
    rows, unknown = [], set()
    for u, v, e in g.edges(data=True):
        f = max(flow.get(u, {}).get(v, 0.0), flow.get(v, {}).get(u, 0.0)) if flow else 0.0
        for lid, name, cap, country in e["lines"]:
            rows.append({"id": lid, "name": name, "country": country, "kind": e["kind"],
                         "capacity": cap, "edge_capacity": e["capacity"], "flow": f})  # fmt: skip
            if f > 0 and cap is None:
                unknown.add(name)
    bottleneck: list[str] = []
    if cut is not None and not math.isinf(high):
        side, _ = cut
        names: dict[str, Any] = {}
        for u, v, e in g.edges(data=True):
            if (u in side) != (v in side):
                for _, name, _, _ in e["lines"]:
                    names.setdefault(name, None)
        bottleneck = list(names)
    by_market = {m: float(flow.get(m, {}).get(SINK, 0.0)) for m in markets if flow and m in g}
    frame = pd.DataFrame(rows, columns=["id", "name", "country", "kind", "capacity",
                                        "edge_capacity", "flow"])  # fmt: skip
    return CapacityResult(fuel, origin, avoid_t, status_t, FUEL_UNITS[fuel][1], low, high,
                          bottleneck, sorted(unknown), fed, unreached,
                          frame.sort_values(["flow", "id"], ascending=[False, True])
                          .reset_index(drop=True), by_market)  # fmt: skip
