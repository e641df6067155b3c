"""Any seaport by name or UN/LOCODE, and routes that begin or end at one off the network.

The port index joins the project's curated port nodes (authoritative: their id, name, position
and country win), searoute's port list and the World Port Index (:mod:`geo.data.ports`). Names
are matched like :func:`geo.analysis.routing.normalise` (case, accents and punctuation aside),
with local spellings and the words "Port of", "Port", "Ko", "Harbour" dropped, so ``Piraievs``,
``Piraeus``, ``Tokyo Ko`` and ``tokyo`` all find their port.

:func:`find_route_with_ports` is :func:`geo.analysis.routing.find_route` for places that may be
seaports off the network: between two seaports the route is the sea leg; between a seaport and
a place on the network it is the best of the sea legs to the network's ports on the same sea
plus the network route from there.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx

from ..data.geodesy import GEOD
from ..data.layers import load_bundled
from ..data.ports import Port, PortLeg, approach_points, port_leg, port_records
from ..data.text import terminal_text
from ..errors import RouteError
from .network import Network, segment_countries
from .routing import (
    Constraints,
    Leg,
    Route,
    allowed_subgraph,
    build_access_legs,
    check_alternatives,
    find_alternatives,
    find_route,
    normalise,
    resolve,
)

MATCH_KM = 50.0  # two records of one port (same LOCODE or same name) lie within this
SEA_CORRIDOR = "Maritime"
EXAMPLE_PORT = "Piraeus"
UNKNOWN_PLACE = "unknown place"  # how routing.resolve begins the message of a name it lacks
_PAREN = re.compile(r"\([^)]*\)")
# Words around a port's own name: "Port of Aktau", "Tokyo Ko", "Gdansk Harbour".
_PREFIXES = ("port of ", "porto de ", "porto di ", "puerto de ", "port ")
_SUFFIXES = (" port", " ko", " harbour", " harbor", " seaport", " sea port", " terminal")


def name_keys(name: str) -> set[str]:
    """The normalised keys a port name answers to.

    >>> sorted(name_keys("Port of Shanghai (Yangshan Deep-Water Port)"))
    ['portofshanghai', 'portofshanghaiyangshandeepwaterport', 'shanghai']
    >>> sorted(name_keys("Tokyo Ko"))
    ['tokyo', 'tokyoko']
    """
    out = {normalise(name)}
    bare = " ".join(_PAREN.sub(" ", name).lower().split())
    out.add(normalise(bare))
    for p in _PREFIXES:
        if bare.startswith(p):
            bare = bare[len(p) :]
    for s in _SUFFIXES:
        if bare.endswith(s):
            bare = bare[: -len(s)]
    out.add(normalise(bare))
    out.discard("")
    return out


@dataclass(frozen=True)
class PortIndex:
    """Every known seaport and the keys (names, LOCODEs) that find it."""

    ports: tuple[Port, ...]
    keys: dict[str, tuple[int, ...]]

    def match(self, text: str) -> list[Port]:
        """The ports ``text`` names: an exact key, else those whose key starts with it.

        Parameters
        ----------
        text
            A port name (any case, accents, local spelling) or a UN/LOCODE (``GRPIR``,
            ``GR PIR``).

        Returns
        -------
        list of Port
            None, one, or several (ambiguous), by harbour size then name.
        """
        key = normalise(text)
        if not key:
            return []
        hits = self.keys.get(key)
        if hits is None and len(key) >= 4:
            found = sorted({i for k, v in self.keys.items() if k.startswith(key) for i in v})
            hits = tuple(found)
        return sorted((self.ports[i] for i in hits or ()), key=_rank)

    def find(self, text: str, *, what: str = "port") -> Port:
        """The one port ``text`` names.

        Raises
        ------
        RouteError
            No port or several ports answer to ``text`` (the message lists them).
        """
        hits = self.match(text)
        if len(hits) == 1:
            return hits[0]
        if hits:
            raise ambiguous_port(text, hits)
        shown = terminal_text(text, limit=80)
        if not normalise(text):
            msg = f"{what}: '{shown}' is not a port name; give a name or UN/LOCODE, e.g. Piraeus"
            raise RouteError(msg)
        close = difflib.get_close_matches(normalise(text), list(self.keys), n=3, cutoff=0.8)
        names = sorted({self.ports[i].label() for c in close for i in self.keys[c]})
        hint = f"did you mean {', '.join(names)}?" if names else (
            f"give a port name or UN/LOCODE, e.g. {EXAMPLE_PORT} or GRPIR")  # fmt: skip
        msg = f"unknown port '{shown}'; {hint}"
        raise RouteError(msg)


_SIZE_ORDER = {"large": 0, "medium": 1, "small": 2, "very_small": 3, "": 4}


def _rank(p: Port) -> tuple[int, int, str, str]:
    return (p.node_id is None, _SIZE_ORDER.get(p.harbour_size, 4), p.name, p.locode)


def ambiguous_port(text: str, hits: Sequence[Port]) -> RouteError:
    """The one line for a name that several ports answer to (as routing words it)."""
    listed = ", ".join(p.label() for p in list(hits)[:6])
    more = f" and {len(hits) - 6} more" if len(hits) > 6 else ""
    return RouteError(
        f"'{terminal_text(text, limit=80)}' is ambiguous: {listed}{more}; "
        "give the UN/LOCODE or the full name"
    )


def _km(a: Port, b: Port) -> float:
    return float(GEOD.inv(a.lon, a.lat, b.lon, b.lat)[2]) / 1000.0


def _merge(into: Port, other: Port) -> Port:
    """``into`` with the names of ``other`` (and its LOCODE, when it differs, as one more)."""
    extra = (other.locode,) if into.locode and other.locode not in ("", into.locode) else ()
    names = tuple(dict.fromkeys((*into.names, *other.names, *extra)))
    size = into.harbour_size or other.harbour_size
    return replace(into, names=names, locode=into.locode or other.locode, harbour_size=size)


def curated_ports(nodes: gpd.GeoDataFrame) -> list[Port]:
    """The port nodes of a node frame as ports (id, name, aliases, country, position)."""
    approach = approach_points()
    out = []
    for nid, name, kind, country, aliases, geom in zip(
        nodes["id"], nodes["name"], nodes["kind"], nodes["country"],
        nodes["aliases"] if "aliases" in nodes else [None] * len(nodes), nodes.geometry,
        strict=True,
    ):  # fmt: skip
        if kind != "port":
            continue
        more = [str(a) for a in aliases] if isinstance(aliases, list) else []
        out.append(Port(str(name), (str(name), *more), "", str(country), float(geom.x),
                        float(geom.y), node_id=str(nid),
                        approach=approach.get(str(nid))))  # fmt: skip
    return out


def _keys(p: Port) -> set[str]:
    return set().union(*(name_keys(n) for n in p.names))


def build_port_index(curated: Sequence[Port], wpi: Sequence[Port],
                     searoute: Sequence[Port]) -> PortIndex:  # fmt: skip
    """Join the three sources into one index (deterministic).

    searoute's ports come first (their positions lie by searoute's own network; their names
    are the usual English ones). A World Port Index port with the same LOCODE, or the same
    name, within :data:`MATCH_KM` adds its names, LOCODE and harbour size; else it is a port of
    its own. A curated node takes over every port within :data:`MATCH_KM` that shares one of
    its names, and of several ports a name finds, a curated node is the one meant.
    """
    final = _with_curated(curated, _join_records([*searoute, *wpi]))
    keys: dict[str, list[int]] = {}
    for i, p in enumerate(final):
        for k in sorted(_keys(p) | {normalise(p.locode), normalise(p.node_id or "")} - {""}):
            keys.setdefault(k, []).append(i)
    for k, v in keys.items():
        own = [i for i in v if final[i].node_id is not None]
        if len(own) == 1 and len(v) > 1:
            keys[k] = own
    return PortIndex(tuple(final), {k: tuple(v) for k, v in keys.items()})


def _join_records(records: Sequence[Port]) -> list[Port]:
    """One port per LOCODE or name within :data:`MATCH_KM`, the first record's position kept."""
    ports: list[Port] = []
    by_code: dict[str, list[int]] = {}
    by_name: dict[str, list[int]] = {}
    for p in records:
        name = normalise(p.name)
        same = (by_code.get(p.locode, []) if p.locode else []) + by_name.get(name, [])
        near = [i for i in same if _km(ports[i], p) <= MATCH_KM]
        at = near[0] if near else len(ports)
        if near:
            ports[at] = _merge(ports[at], p)
        else:
            ports.append(p)
            by_name.setdefault(name, []).append(at)
        if p.locode:
            by_code.setdefault(p.locode, []).append(at)
    return ports


def _with_curated(curated: Sequence[Port], ports: list[Port]) -> list[Port]:
    """Curated ports first, each with the names of the records it takes over; then the rest."""
    keyed: dict[str, list[int]] = {}
    for i, p in enumerate(ports):
        for k in _keys(p):
            keyed.setdefault(k, []).append(i)
    taken: set[int] = set()
    final: list[Port] = []
    for c in curated:
        merged = c
        for i in sorted({i for k in _keys(c) for i in keyed.get(k, [])}):
            if i not in taken and _km(c, ports[i]) <= MATCH_KM:
                merged = _merge(merged, ports[i])
                taken.add(i)
        final.append(merged)
    final.extend(p for i, p in enumerate(ports) if i not in taken)
    return final


@lru_cache(maxsize=1)
def port_index() -> PortIndex:
    """The index of the bundled port nodes, the World Port Index and searoute's ports."""
    wpi, sr = port_records()
    return build_port_index(curated_ports(load_bundled("nodes")), wpi, sr)


def find_port(text: str) -> Port:
    """The seaport a name or UN/LOCODE names (see :meth:`PortIndex.find`).

    >>> find_port("Piraievs").locode, find_port("chah bahar").name, find_port("Tokyo Ko").name
    ('GRPIR', 'Chabahar', 'Tokyo')
    """
    return port_index().find(text)


# --- routes ---------------------------------------------------------------------------------


def sea_route_leg(leg: PortLeg, net: Network) -> Leg:
    """A :class:`~geo.analysis.routing.Leg` of mode sea for a generated sea leg."""
    a, b = leg.origin, leg.destination
    ids = [p.node_id if p.node_id is not None and p.node_id in net.graph else f"port:{p.key}"
           for p in (a, b)]  # fmt: skip
    return Leg(f"sea:{a.key}:{b.key}", ids[0], ids[1], a.name, b.name, "sea", "operational",
               SEA_CORRIDOR, "schematic", None, leg.length_km, segment_countries(leg.line),
               leg.passages, leg.line)  # fmt: skip


@dataclass(frozen=True)
class _Stop:
    text: str  # as given, for the network router
    port: Port | None  # the seaport, if the place is one
    on_network: bool
    node: str | None = None  # a network port node, whose port is looked up when needed


def _stop(net: Network, text: str, *, what: str, allow_deposit: bool) -> _Stop:
    try:
        kind, ident = resolve(net, text, allow_deposit=allow_deposit, what=what)
    except RouteError as e:
        # Only a place the network does not know may be a seaport: an ambiguous name or a
        # deposit named as a destination keeps the network's own message.
        if not str(e).startswith(UNKNOWN_PLACE):
            raise
        hits = port_index().match(text)
        if len(hits) > 1:
            raise ambiguous_port(text, hits) from None
        if not hits:
            msg = f"{e}; nor is it a seaport (give a port name or UN/LOCODE, e.g. {EXAMPLE_PORT})"
            raise RouteError(msg) from None
        p = hits[0]
        if p.node_id is not None and p.node_id in net.graph:
            return _Stop(f"node:{p.node_id}", p, True)
        return _Stop(text, p, False)
    if kind == "node" and net.graph.degree(ident) == 0:
        # a place no line reaches (a city abroad, e.g. Tokyo) that names a seaport: the port
        hits = port_index().match(text)
        if len(hits) == 1:
            p = hits[0]
            if p.node_id is not None and p.node_id in net.graph and net.graph.degree(p.node_id):
                return _Stop(f"node:{p.node_id}", p, True)
            return _Stop(text, p, False)
    if kind != "node" or net.graph.nodes[ident].get("kind") != "port":
        return _Stop(text, None, True)
    return _Stop(text, None, True, ident)


def _as_port(net: Network, stop: _Stop) -> _Stop:
    """A network port node's stop with its port (from the index where it knows the node)."""
    ident = stop.node
    if ident is None or stop.port is not None:
        return stop
    idx = port_index()
    known = [idx.ports[i] for i in idx.keys.get(normalise(ident), ()) if
             idx.ports[i].node_id == ident]  # fmt: skip
    if known:
        return replace(stop, port=known[0])
    n = net.graph.nodes[ident]
    port = Port(str(n["name"]), (str(n["name"]),), "", str(n["country"]), float(n["x"]),
                float(n["y"]), node_id=ident)  # fmt: skip
    return replace(stop, port=port)


def _check_sea(p: Port, c: Constraints) -> None:
    if "sea" not in c.modes:
        msg = f"{p.label()} is a seaport off the network: the route needs mode sea"
        raise RouteError(msg)
    if p.country in c.avoid_countries:
        msg = f"{p.label()} lies in {p.country}, which the route must avoid"
        raise RouteError(msg)


def _sea(net: Network, a: Port, b: Port, c: Constraints, cache_dir: Path | None) -> Leg:
    leg = port_leg(a, b, avoid=sorted(c.avoid_passages), cache_dir=cache_dir)
    out = sea_route_leg(leg, net)
    crossed = sorted(k for k, km in out.km_by_country.items() if k in c.avoid_countries and km)
    if crossed:
        msg = (f"no sea path from {a.label()} to {b.label()} avoiding {', '.join(crossed)}: "
               f"the sea leg crosses {', '.join(crossed)} ({', '.join(leg.passages) or 'coast'}); "
               "avoid that passage instead")  # fmt: skip
        raise RouteError(msg)
    return out


def _network_ports(net: Network, basin: str) -> list[Port]:
    """The network's port nodes on one sea, as ports of the index where it knows them."""
    idx = port_index()
    by_node = {p.node_id: p for p in idx.ports if p.node_id}
    out = []
    for nid, data in net.graph.nodes(data=True):
        if data.get("kind") != "port" or net.graph.degree(nid) == 0:
            continue
        p = by_node.get(nid) or Port(str(data["name"]), (str(data["name"]),), "",
                                     str(data["country"]), float(data["x"]), float(data["y"]),
                                     node_id=str(nid))  # fmt: skip
        if p.basin == basin:
            out.append(p)
    return out


def _start_node(net: Network, kind: str, ident: str) -> str | None:
    """The node a place's network route begins at: itself, or a deposit's access-leg end."""
    if kind == "node":
        return ident
    deps = net.deposits[net.deposits["id"].astype(str) == ident].tail(1)
    access = build_access_legs(net, deps).get(ident)
    return access.to_id if access else None


def _hybrid(net: Network, port: Port, place: _Stop, *, port_first: bool, c: Constraints,
            cache_dir: Path | None) -> list[Leg]:  # fmt: skip
    """Best of: the sea leg between ``port`` and a network port, plus the network route.

    Candidates are tried in order of a lower bound (the great-circle km to the network port
    plus the network km from there), so only those that can still win cost a sea leg.
    """
    kind, ident = resolve(net, place.text, allow_deposit=not port_first,
                          what="destination" if port_first else "origin")  # fmt: skip
    _check_sea(port, c)
    g = allowed_subgraph(net, c)
    start = _start_node(net, kind, ident)
    dist: dict[str, float] = {}
    if start is not None:
        dist = dict(nx.single_source_dijkstra_path_length(g, start, weight="length_km")) \
            if start in g else {start: 0.0}  # fmt: skip
    cands = sorted(((_km(port, k) + dist[str(k.node_id)], k.key, k)
                    for k in _network_ports(net, port.basin) if k.node_id in dist),
                   key=lambda t: (t[0], t[1]))  # fmt: skip
    best: tuple[float, Leg, Port] | None = None
    why: RouteError | None = None
    for bound, _, k in cands:
        if best is not None and bound >= best[0]:
            break
        try:
            sea = (
                _sea(net, port, k, c, cache_dir) if port_first else _sea(net, k, port, c, cache_dir)
            )
        except RouteError as e:
            why = why or e
            continue
        total = sea.length_km + dist[str(k.node_id)]
        if best is None or total < best[0]:
            best = (total, sea, k)
    if best is None:
        if why is not None:
            raise why
        msg = (
            f"no route between {port.label()} and '{terminal_text(place.text, limit=80)}'"
            f"{_desc(c)}: no port of the network on the same sea is connected to it"
        )
        raise RouteError(msg)
    _, sea, k = best
    node = f"node:{k.node_id}"
    if kind == "node" and k.node_id == ident:
        return [sea]
    if port_first:
        return [sea, *find_route(net, node, place.text, constraints=c).legs]
    return [*find_route(net, place.text, node, constraints=c).legs, sea]


def _port_to_network_port(
    net: Network, a: Any, b: Any, c: Constraints, cache_dir: Path | None
) -> list[Leg]:
    """Two seaports, one on the network: the shorter of the sea leg and sea plus network.

    The network's own ports are places on it, so ``Aktau`` - ``Mersin`` (no sea path out of
    the Caspian) crosses the Caucasus by rail to a Black Sea port and sails from there.
    """
    options: list[list[Leg]] = []
    why: RouteError | None = None
    try:
        _check_sea(a.port, c)
        _check_sea(b.port, c)
        options.append([_sea(net, a.port, b.port, c, cache_dir)])
    except RouteError as e:
        why = e
    off, on, first = (b, a, False) if a.on_network else (a, b, True)
    try:
        options.append(_hybrid(net, off.port, on, port_first=first, c=c, cache_dir=cache_dir))
    except RouteError as e:
        why = why or e
    if not options:
        assert why is not None
        raise why
    return min(options, key=lambda legs: sum(leg.length_km for leg in legs))


def _desc(c: Constraints) -> str:
    d = c.describe()
    return f" {d}" if d else ""


def find_route_with_ports(
    net: Network,
    origin: str,
    destination: str,
    *,
    via: Sequence[str] = (),
    constraints: Constraints | None = None,
    cache_dir: Path | None = None,
) -> Route:
    """:func:`~geo.analysis.routing.find_route`, where any place may be a seaport off the network.

    A place the network knows is the network's (nodes and deposits win); any other place is
    looked up in the port index. Between two seaports (on the network or not, at least one
    off it) the route is the sea leg; between a seaport off the network and a place on it, the
    best of the sea legs to the network's ports on the same sea plus the network route. With
    every place on the network this is :func:`~geo.analysis.routing.find_route` itself.

    Parameters
    ----------
    net
        The network.
    origin, destination
        Places: node or deposit (origin only) ids or names, or seaports (name or UN/LOCODE).
    via
        Places to pass, in order.
    constraints
        What the route may use; passages to avoid are closed to the sea legs too.
    cache_dir
        Folder for sea legs kept between runs (:func:`geo.data.ports.sea_cache_dir`); None
        keeps them in this process only.

    Returns
    -------
    Route
        Its sea legs have mode ``sea``, precision ``schematic``, their passages and km by
        country (``SEA`` at sea).

    Raises
    ------
    RouteError
        An unknown or ambiguous place, or no route (no sea path, e.g. into the Caspian).
    """
    c = constraints or Constraints()
    vias = [via] if isinstance(via, str) else list(via)
    texts = [origin, *vias, destination]
    whats = ["origin", *["--via"] * len(vias), "destination"]
    stops = [_stop(net, t, what=w, allow_deposit=i == 0)
             for i, (t, w) in enumerate(zip(texts, whats, strict=True))]  # fmt: skip
    if all(s.on_network for s in stops):
        r = find_route(net, stops[0].text, stops[-1].text, via=[s.text for s in stops[1:-1]],
                       constraints=c)  # fmt: skip
        return Route(origin, destination, tuple(vias), c, r.legs)
    stops = [_as_port(net, s) for s in stops]
    legs: list[Leg] = []
    for a, b in itertools.pairwise(stops):
        if a.on_network and b.on_network:
            if a.text != b.text:
                legs.extend(find_route(net, a.text, b.text, constraints=c).legs)
        elif a.port is not None and b.port is not None and not (a.on_network or b.on_network):
            _check_sea(a.port, c)
            _check_sea(b.port, c)
            legs.append(_sea(net, a.port, b.port, c, cache_dir))
        elif a.port is not None and b.port is not None:
            legs.extend(_port_to_network_port(net, a, b, c, cache_dir))
        elif a.port is not None and not a.on_network:
            legs.extend(_hybrid(net, a.port, b, port_first=True, c=c, cache_dir=cache_dir))
        elif b.port is not None:
            legs.extend(_hybrid(net, b.port, a, port_first=False, c=c, cache_dir=cache_dir))
    return Route(origin, destination, tuple(vias), c, legs)


def find_alternatives_with_ports(
    net: Network,
    origin: str,
    destination: str,
    *,
    via: Sequence[str] = (),
    constraints: Constraints | None = None,
    n: int = 3,
    cache_dir: Path | None = None,
) -> list[Route]:
    """:func:`~geo.analysis.routing.find_alternatives`; an end may be a seaport off the network.

    The best route is :func:`find_route_with_ports`'s; the alternatives keep its sea legs to and
    from the ports off the network and vary the part on the network between the same two
    network places. A route that never touches the network (port to port by sea), or whose
    network part is broken by a ``via`` off it, has no alternatives: one route comes back.

    Raises
    ------
    RouteError
        As :func:`find_route_with_ports`; ``n`` below 1.
    """
    check_alternatives(n)
    c = constraints or Constraints()
    vias = [via] if isinstance(via, str) else list(via)
    texts = [origin, *vias, destination]
    if all(_stop(net, t, what="place", allow_deposit=i == 0).on_network
           for i, t in enumerate(texts)):  # fmt: skip
        return find_alternatives(net, origin, destination, via=vias, constraints=c, n=n)
    best = find_route_with_ports(net, origin, destination, via=vias, constraints=c,
                                 cache_dir=cache_dir)  # fmt: skip
    nodes = net.graph
    inside = [i for i, leg in enumerate(best.legs) if leg.from_id in nodes and leg.to_id in nodes]
    if n == 1 or not inside:
        return [best]
    first, last = inside[0], inside[-1]
    if last - first + 1 != len(inside):  # a via off the network splits it
        return [best]
    head, tail = best.legs[:first], best.legs[last + 1 :]
    start, end = best.legs[first].from_id, best.legs[last].to_id
    on_net = [v for v in vias if _stop(net, v, what="--via", allow_deposit=False).on_network]
    if len(on_net) != len(vias) or start == end:
        return [best]
    found = find_alternatives(net, start, end, via=on_net, constraints=c, n=n)
    return [best, *(Route(origin, destination, tuple(vias), c, [*head, *r.legs, *tail])
                    for r in found[1:])]  # fmt: skip
