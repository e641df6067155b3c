"""Routing over the network: resolve places, apply constraints, find the shortest route.

A query that cannot be answered raises :class:`RouteError` naming the constraint that blocked
it; a route is never empty and never 0 km.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import shapely
from pyproj import Geod

from .countries import SEA, codes
from .errors import RouteError
from .network import Network
from .schema import MODES, PASSAGES, SEGMENT_STATUSES
from .sea import canonical_passage

GEOD = Geod(ellps="WGS84")
DEFAULT_STATUSES = ("operational",)


def normalise(text: str) -> str:
    """Case-, accent- and punctuation-insensitive key: ``Constanța`` and ``constanta`` match.

    >>> normalise("Xi'an") == normalise("xian") == "xian"
    True
    """
    t = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "", t)


@dataclass(frozen=True)
class Leg:
    """One traversed segment (or a deposit's access leg), oriented in travel direction."""

    segment_id: str
    from_id: str
    to_id: str
    from_name: str
    to_name: str
    mode: str
    status: str
    corridor: str
    precision: str
    gauge_mm: int | None
    length_km: float
    km_by_country: dict[str, float]
    passages: tuple[str, ...]
    geometry: shapely.Geometry
    access: bool = False


@dataclass(frozen=True)
class Constraints:
    """What a route may use. ``avoid`` holds alpha-3 codes and passage names."""

    avoid_countries: frozenset[str] = frozenset()
    avoid_passages: frozenset[str] = frozenset()
    modes: frozenset[str] = frozenset(MODES)
    statuses: frozenset[str] = frozenset(DEFAULT_STATUSES)

    def describe(self) -> str:
        parts = []
        if self.avoid_countries or self.avoid_passages:
            parts.append(
                "avoiding " + ", ".join(sorted(self.avoid_countries | self.avoid_passages))
            )
        if self.modes != frozenset(MODES):
            parts.append("with modes " + ",".join(m for m in MODES if m in self.modes))
        if self.statuses != frozenset(SEGMENT_STATUSES):
            parts.append(
                "using " + ",".join(s for s in SEGMENT_STATUSES if s in self.statuses) + " links"
            )
        return " ".join(parts)


def make_constraints(
    avoid: Iterable[str] = (),
    modes: Iterable[str] | None = None,
    status: Iterable[str] | None = None,
) -> Constraints:
    """Parse CLI-style values (comma lists allowed) into :class:`Constraints`."""

    def split(values: Iterable[str]) -> list[str]:
        return [x.strip() for v in values for x in str(v).split(",") if x.strip()]

    countries, passages = set(), set()
    known = codes()
    for a in split(avoid):
        if a.upper() in known:
            countries.add(a.upper())
        elif a.lower() in PASSAGES or a.lower() in ("ormuz", "south_africa"):
            passages.add(canonical_passage(a))
        else:
            msg = (
                f"--avoid: '{a}' is neither an ISO alpha-3 country code (e.g. RUS) nor a sea "
                f"passage ({', '.join(PASSAGES)})"
            )
            raise RouteError(msg)
    mode_set = set(split(modes)) if modes else set(MODES)
    bad = mode_set - set(MODES)
    if bad:
        msg = f"--modes: '{sorted(bad)[0]}' is not one of {', '.join(MODES)}"
        raise RouteError(msg)
    st = split(status) if status else list(DEFAULT_STATUSES)
    st_set = set(SEGMENT_STATUSES) if "all" in st else set(st)
    bad = st_set - set(SEGMENT_STATUSES)
    if bad:
        msg = f"--status: '{sorted(bad)[0]}' is not one of all, {', '.join(SEGMENT_STATUSES)}"
        raise RouteError(msg)
    return Constraints(
        frozenset(countries), frozenset(passages), frozenset(mode_set), frozenset(st_set)
    )


def _allowed(e: dict[str, Any], c: Constraints) -> bool:
    if e["mode"] not in c.modes or e["status"] not in c.statuses:
        return False
    if c.avoid_passages.intersection(e["passages"]):
        return False
    return not any(e["km_by_country"].get(code, 0.0) > 0 for code in c.avoid_countries)


def _node_index(net: Network) -> dict[str, str]:
    """Normalised node ids, names and aliases -> ``node:<id>`` (built once per network)."""
    cache: dict[str, str] = net.__dict__.setdefault("_node_name_index", {})
    if cache:
        return cache
    nodes = net.nodes
    aliases = nodes["aliases"] if "aliases" in nodes else [None] * len(nodes)
    for nid, name, more in zip(nodes.index, nodes["name"], aliases, strict=True):
        keys = [nid, name, *(more if isinstance(more, list) else [])]
        for k in keys:
            cache.setdefault(normalise(str(k)), f"node:{nid}")
    return cache


def _index(net: Network) -> dict[str, str]:
    """Every name a place can be given: nodes first, then deposits (built once, on demand)."""
    cache: dict[str, str] = net.__dict__.setdefault("_name_index", {})
    if cache:
        return cache
    cache.update(_node_index(net))
    # columns, not iterrows: a user's deposit layer can hold 100,000 rows
    for did, name in zip(net.deposits["id"], net.deposits["name"], strict=True):
        for k in (did, name):
            cache.setdefault(normalise(str(k)), f"deposit:{did}")
    return cache


def resolve(net: Network, place: str, *, allow_deposit: bool = False) -> tuple[str, str]:
    """('node'|'deposit', id) for a node or deposit id, name or alias, any case or accents.

    An exact match wins; else a unique node whose name contains the text (``Duisburg`` finds
    "Duisburg (duisport)"); deposits are matched after nodes.
    """
    kind_prefix, _, rest = str(place).partition(":")
    # the id lists are only read for an explicit 'node:' or 'deposit:' (they can be 100k long)
    ids = net.nodes.index if kind_prefix == "node" else net.deposits["id"]
    if rest and kind_prefix in ("node", "deposit") and (ids.astype(str) == rest).any():
        hit: str | None = f"{kind_prefix}:{rest}"  # explicit 'deposit:aktogay' beats the node
        key = ""
    else:
        key = normalise(place)
        # nodes win over deposits in the full index, so a node hit needs no deposit names
        hit = _node_index(net).get(key)
    index = _index(net) if hit is None else {}
    if hit is None:
        hit = index.get(key)
    if hit is None and key:
        for prefix in ("node:", "deposit:"):
            found = sorted({v for k, v in index.items() if key in k and v.startswith(prefix)})
            starts = [v for v in found if normalise(v.split(":", 1)[1]).startswith(key)]
            if len(found) == 1 or len(starts) == 1:
                hit = found[0] if len(found) == 1 else starts[0]
                break
            if len(found) > 1:
                listed = ", ".join(_display(net, v) for v in found[:6])
                msg = f"'{place}' is ambiguous: {listed}; give the id or the full name"
                raise RouteError(msg)
    if hit is None:
        import difflib

        close = difflib.get_close_matches(key, list(index), n=3, cutoff=0.7)
        names = sorted({_display(net, index[c]) for c in close})
        hint = (
            f"; did you mean {', '.join(names)}?"
            if names
            else "; `corridor layers` lists the layers"
        )
        msg = f"unknown place '{place}'{hint}"
        raise RouteError(msg)
    kind, ident = hit.split(":", 1)
    if kind == "deposit" and not allow_deposit:
        msg = f"'{place}' is a deposit; a deposit can only be a route's origin"
        raise RouteError(msg)
    return kind, ident


def _display(net: Network, hit: str) -> str:
    kind, ident = hit.split(":", 1)
    if kind == "node":
        return f"'{net.nodes.loc[ident, 'name']}' ({ident})"
    return f"'{ident}' (deposit)"


def access_candidates(net: Network, country: str) -> list[str]:
    """The nodes a deposit's access leg may end at: those in the deposit's country on an
    operational link, else any in its country on a link, else every linked node.

    A road across a border to the nearest railhead is no way to export (it would send the
    Caspian fields through Astrakhan), nor is a railhead whose only lines are being built.
    """
    g = net.graph
    linked = [n for n in g.nodes if g.degree(n) > 0]
    own = [n for n in linked if g.nodes[n].get("country") == country]
    running = [
        n for n in own if any(e.get("status") == "operational" for _, _, e in g.edges(n, data=True))
    ]
    return running or own or linked


def _access_leg(net: Network, dep_id: str) -> Leg:
    from .countries import country_at

    dep = net.deposits.set_index("id").loc[dep_id]
    p = dep.geometry
    graph_nodes = access_candidates(net, str(dep["country"]))
    best = min(graph_nodes, key=lambda n: GEOD.inv(p.x, p.y, net.graph.nodes[n]["x"],
                                                     net.graph.nodes[n]["y"])[2])  # fmt: skip
    nd = net.graph.nodes[best]
    line = shapely.LineString([(p.x, p.y), (nd["x"], nd["y"])])
    km = GEOD.geometry_length(line) / 1000.0
    code = country_at(p.x, p.y) or dep["country"]
    return Leg(f"access:{dep_id}", dep_id, best, str(dep["name"]), str(nd["name"]), "road",
               "operational", "access", "straight", None, km, {code: km}, (), line,
               access=True)  # fmt: skip


def _leg(net: Network, u: str, v: str, e: dict[str, Any]) -> Leg:
    geom = e["geometry"]
    kbc = e["km_by_country"]
    if e["u"] != u:  # traversed against the drawing direction
        geom = shapely.reverse(geom)
        kbc = dict(reversed(list(kbc.items())))
    names = net.graph.nodes
    return Leg(e["id"], u, v, str(names[u]["name"]), str(names[v]["name"]), e["mode"], e["status"],
               e["corridor"], e["precision"], e["gauge_mm"], e["length_km"], kbc, e["passages"],
               geom)  # fmt: skip


SUBGRAPH_CACHE_SIZE = 32


def _subgraph(net: Network, c: Constraints) -> nx.Graph:
    """The cheapest allowed edge between each pair of nodes, as a simple graph (read only).

    Kept on the network per constraints (a network is built once and not changed after), so
    repeated queries do not rebuild it. The entry remembers the graph object and its node count,
    so a graph replaced or grown by hand still gets a fresh subgraph (counting a MultiGraph's
    edges would cost as much as a query).
    """
    cache: dict[Constraints, tuple[nx.MultiGraph, int, nx.Graph]] = net.__dict__.setdefault(
        "_subgraphs", {}
    )
    hit = cache.get(c)
    if hit is not None and hit[0] is net.graph and hit[1] == len(net.graph):
        return hit[2]
    g = nx.Graph()
    for u, v, e in net.graph.edges(data=True):
        if not _allowed(e, c):
            continue
        if not g.has_edge(u, v) or g[u][v]["length_km"] > e["length_km"]:
            g.add_edge(u, v, length_km=e["length_km"], edge=e)
    if len(cache) >= SUBGRAPH_CACHE_SIZE and c not in cache:
        cache.pop(next(iter(cache)))
    cache[c] = (net.graph, len(net.graph), g)
    return g


@dataclass
class Route:
    """A found route: the query, its legs in order and the network it was found on."""

    origin: str
    destination: str
    via: tuple[str, ...]
    constraints: Constraints
    legs: list[Leg] = field(default_factory=list)
    route_id: str | None = None
    name: str | None = None

    @property
    def path(self) -> list[str]:
        if not self.legs:
            return []
        return [self.legs[0].from_name, *[leg.to_name for leg in self.legs]]


def _shortest(g: nx.Graph, a: str, b: str) -> list[str] | None:
    if a not in g or b not in g:
        return None
    try:
        return list(nx.shortest_path(g, a, b, weight="length_km"))
    except nx.NetworkXNoPath:
        return None


def _blocker(net: Network, stops: Sequence[str], c: Constraints) -> str:
    """Name the constraint that blocks a route: relax each and see what the route then needs."""
    trials = [
        ("modes", Constraints(c.avoid_countries, c.avoid_passages, frozenset(MODES), c.statuses)),
        ("status", Constraints(c.avoid_countries, c.avoid_passages, c.modes,
                               frozenset(SEGMENT_STATUSES))),
        ("avoid", Constraints(frozenset(), frozenset(), c.modes, c.statuses)),
    ]  # fmt: skip
    for what, relaxed in trials:
        edges = _path_edges(net, stops, relaxed)
        if edges is None:
            continue
        if what == "modes":
            need = sorted({e["mode"] for e in edges} - c.modes)
            where = next(e for e in edges if e["mode"] in need)
            place = "the Caspian" if _in_caspian(where) else f"{where['name']}"
            return f"{place} needs mode {', '.join(need)}"
        if what == "status":
            need_e = [e for e in edges if e["status"] not in c.statuses]
            return (
                f"the only way uses {need_e[0]['status'].replace('_', ' ')} links "
                f"({need_e[0]['name']}); pass --status all to include them"
            )
        crossed = sorted(
            {k for e in edges for k in e["km_by_country"] if k in c.avoid_countries}
            | {p for e in edges for p in e["passages"] if p in c.avoid_passages}
        )
        return f"every route crosses {', '.join(crossed)}"
    return "the places are not connected in the network under any constraint"


def _in_caspian(e: dict[str, Any]) -> bool:
    b = e["geometry"].bounds
    return bool(b[0] > 46 and b[2] < 55.5 and b[1] > 36 and b[3] < 47.5)


def _path_edges(net: Network, stops: Sequence[str], c: Constraints) -> list[dict[str, Any]] | None:
    g = _subgraph(net, c)
    edges: list[dict[str, Any]] = []
    for a, b in itertools.pairwise(stops):
        p = _shortest(g, a, b)
        if p is None:
            return None
        edges.extend(g[u][v]["edge"] for u, v in itertools.pairwise(p))
    return edges


def find_route(
    net: Network,
    origin: str,
    destination: str,
    *,
    via: Sequence[str] = (),
    constraints: Constraints | None = None,
) -> Route:
    """Shortest route from ``origin`` to ``destination`` through ``via`` under ``constraints``.

    Raises
    ------
    RouteError
        Unknown place, or no route: the message names the constraint that blocked it.
    """
    c = constraints or Constraints()
    kind, first = resolve(net, origin, allow_deposit=True)
    access = _access_leg(net, first) if kind == "deposit" else None
    start = access.to_id if access else first
    stops = [start, *(resolve(net, v)[1] for v in via), resolve(net, destination)[1]]
    for code in c.avoid_countries:
        for s in stops:
            if net.graph.nodes[s]["country"] == code:
                msg = f"{net.graph.nodes[s]['name']} lies in {code}, which the route must avoid"
                raise RouteError(msg)
    g = _subgraph(net, c)
    legs: list[Leg] = [access] if access else []
    for a, b in itertools.pairwise(stops):
        if a == b:
            continue
        p = _shortest(g, a, b)
        if p is None:
            an, bn = net.graph.nodes[a]["name"], net.graph.nodes[b]["name"]
            desc = c.describe()
            why = _blocker(net, [a, b], c)
            msg = f"no route from {an} to {bn}{' ' + desc if desc else ''}: {why}"
            raise RouteError(msg)
        legs.extend(_leg(net, u, v, g[u][v]["edge"]) for u, v in itertools.pairwise(p))
    if not legs:
        msg = f"origin and destination are the same place ({origin}); name two different places"
        raise RouteError(msg)
    return Route(origin, destination, tuple(via), c, legs)


def sea_km(km_by_country: dict[str, float]) -> float:
    return km_by_country.get(SEA, 0.0)
