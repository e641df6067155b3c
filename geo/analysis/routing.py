"""Routing over the network: resolve places, apply constraints, find the shortest route.

A query that cannot be answered raises :class:`RouteError` naming the constraint that blocked
it; a route is never empty and never 0 km.
"""

from __future__ import annotations

import difflib
import functools
import itertools
import math
import re
import unicodedata
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse
import scipy.sparse.csgraph
import shapely

from ..data.countries import codes, countries_at
from ..data.geodesy import GEOD
from ..data.schema import FREIGHT_MODES, FUELS, MODES, PASSAGES, SEGMENT_STATUSES, WATERS
from ..data.sea import canonical_passage
from ..errors import RouteError
from .capacity import FIELD_KM
from .commodities import commodity_table
from .costs import edge_weight, transfer_weight
from .network import ENERGY, Network
from .parameters import road_detour_factor

DEFAULT_STATUSES = ("operational",)


# Latin letters that Unicode does not decompose into a base letter and a mark.
_LATIN_FOLD = str.maketrans({"ı": "i", "ł": "l", "ø": "o", "đ": "d", "ð": "d", "ħ": "h",
                             "ŧ": "t", "ə": "a", "æ": "ae", "œ": "oe", "þ": "th"})  # fmt: skip


_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


@functools.lru_cache(maxsize=4096)
def _is_latin(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith("LATIN ")


def normalise(text: str) -> str:
    """Case-, accent- and punctuation-insensitive key: ``Constanța`` and ``constanta`` match.

    Letters and digits of every script are kept (``Алматы`` keeps its Cyrillic letters, ``北京``
    its characters); accents are dropped from Latin letters only, since in other scripts a mark
    can make a different letter (Cyrillic ``й`` is not ``и``). A text without a letter or a
    digit gives "".

    >>> normalise("Xi'an") == normalise("xian") == "xian"
    True
    >>> normalise("Ələt"), normalise("Бейнеу"), normalise("连云港港"), normalise(" - ")
    ('alat', 'бейнеу', '连云港港', '')
    """
    text = str(text)
    if text.isascii():  # the common case, 100,000 deposit names long: no per-letter work
        return _NOT_ALNUM.sub("", text.lower())
    out: list[str] = []
    base_latin = False
    for ch in unicodedata.normalize("NFKD", text).casefold():
        cat = unicodedata.category(ch)
        if cat[0] in "LN":
            base_latin = _is_latin(ch)
            out.append(ch.translate(_LATIN_FOLD) if base_latin else ch)
        elif cat[0] == "M" and out and not base_latin:
            out.append(ch)  # a mark on a non-Latin letter is part of the letter
    return unicodedata.normalize("NFC", "".join(out))


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
    line: str = ""  # the pipeline's or tanker leg's name (a line of its own, unlike track)
    fuel: str | None = None  # what a pipeline or tanker leg carries (None: freight)


@dataclass(frozen=True)
class Constraints:
    """What a route may use. ``avoid`` holds alpha-3 codes and passage names."""

    avoid_countries: frozenset[str] = frozenset()
    avoid_passages: frozenset[str] = frozenset()
    modes: frozenset[str] = frozenset(FREIGHT_MODES)
    statuses: frozenset[str] = frozenset(DEFAULT_STATUSES)
    fuel: str | None = None  # the pipelines a route may use (with mode "pipeline")
    by: str = "km"  # what the search minimises: km, days, cost (USD per TEU) or co2 (kg per TEU)

    def describe(self) -> str:
        """The constraints in words, for a route heading.

        Statuses are named unless every status is allowed, so the default (operational links
        only) is stated rather than left implicit.

        >>> Constraints(avoid_countries=frozenset({"RUS"})).describe()
        'avoiding RUS using operational links'
        """
        parts = []
        if self.avoid_countries or self.avoid_passages:
            parts.append(
                "avoiding " + ", ".join(sorted(self.avoid_countries | self.avoid_passages))
            )
        if self.modes != frozenset(FREIGHT_MODES):
            parts.append("with modes " + ",".join(m for m in MODES if m in self.modes))
        if self.fuel is not None and "pipeline" in self.modes:
            parts.append(f"({self.fuel} pipelines)")
        if self.statuses != frozenset(SEGMENT_STATUSES):
            parts.append(
                "using " + ",".join(s for s in SEGMENT_STATUSES if s in self.statuses) + " links"
            )
        if self.by != "km":
            parts.append(f"fastest by typical {BY_WORDS[self.by]}")
        return " ".join(parts)


def fuel_commodity(commodities: object) -> str | None:
    """A deposit's first commodity that travels by pipeline (layers/commodities.toml), or None.

    >>> fuel_commodity(["gas", "oil"]), fuel_commodity(["uranium"]), fuel_commodity(None)
    ('gas', None, None)
    """
    table = commodity_table()
    for comm in commodities if isinstance(commodities, list | tuple) else []:
        if table.rule(str(comm)).fuel is not None:
            return str(comm)
    return None


def commodity_tries(c: Constraints, commodity: str) -> list[Constraints]:
    """The constraints a route of ``commodity`` tries in order, from the freight ones ``c``.

    Its rule's preferred modes first (oil: pipe and tanker), then all its modes, each with its
    pipeline fuel; ``c``'s avoided countries and passages and its statuses are kept.
    """
    rule = commodity_table().rule(commodity)
    full = replace(c, modes=frozenset(rule.modes), fuel=rule.fuel)
    if not rule.prefer or set(rule.prefer) == set(rule.modes):
        return [full]
    return [replace(full, modes=frozenset(rule.prefer)), full]


def option_values(values: str | Iterable[str] | None, option: str) -> list[str]:
    """The items of a repeatable, comma-separated option, stripped, in order, without repeats.

    A string is one value (itself a comma list), not a sequence of letters; anything else but
    an iterable of strings is a programming error (TypeError). A value with nothing in it (an
    empty ``--market ''``) is refused rather than read as "no restriction".

    >>> option_values("RUS, CHN", "--avoid"), option_values(["a", "b,a"], "--x")
    (['RUS', 'CHN'], ['a', 'b'])
    """
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    elif not isinstance(values, Iterable):
        msg = f"{option}: expected a string or a sequence of strings, got {type(values).__name__}"
        raise TypeError(msg)
    items: list[str] = []
    for v in values:
        if not isinstance(v, str):
            msg = f"{option}: expected strings, got {type(v).__name__} {v!r}"
            raise TypeError(msg)
        parts = [x.strip() for x in v.split(",")]
        if not any(parts):
            msg = f"{option}: empty value; leave the option out or give a value"
            raise RouteError(msg)
        items.extend(x for x in parts if x)
    return list(dict.fromkeys(items))


BY = ("km", "days", "cost", "co2")
BY_WORDS = {"km": "km", "days": "days", "cost": "USD per TEU", "co2": "kg CO2e per TEU"}


def make_constraints(
    avoid: str | Iterable[str] = (),
    modes: str | Iterable[str] | None = None,
    status: str | Iterable[str] | None = None,
    fuel: str | None = None,
    by: str = "km",
) -> Constraints:
    """The :class:`Constraints` that CLI-style option values ask for.

    Parameters
    ----------
    avoid : str or iterable of str
        ISO3 country codes and passage names to keep off the route; comma lists allowed, a
        string is one value.
    modes : str or iterable of str, optional
        Transport modes the route may use; None allows every freight mode (all but pipeline).
    fuel : str, optional
        The pipelines the route may use (``oil``, ``gas``, ``ngl``); needed for mode pipeline.
    status : str or iterable of str, optional
        Segment statuses the route may use ("all" for every one); None allows operational
        links only.
    by : str
        What the search minimises: ``km`` (default), ``days``, ``cost`` or ``co2`` (typical
        values of layers/transit.toml and layers/costs.toml; :func:`search_weight`).

    Returns
    -------
    Constraints
        The parsed, de-duplicated constraints.

    Raises
    ------
    RouteError
        A value names no known country, passage, mode or status, or is empty.
    TypeError
        A value is neither a string nor an iterable of strings.
    """
    countries, passages = set(), set()
    known = codes()
    for a in option_values(avoid, "--avoid"):
        if a.upper() in known:
            countries.add(a.upper())
        elif a.lower() in WATERS:
            passages.add(a.lower())
        elif a.lower() in PASSAGES or a.lower() in ("ormuz", "south_africa"):
            passages.add(canonical_passage(a))
        else:
            close = difflib.get_close_matches(a.upper(), sorted(known), n=3, cutoff=0.6)
            close += difflib.get_close_matches(a.lower(), PASSAGES + WATERS, n=2, cutoff=0.6)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            msg = (
                f"--avoid: '{a}' is neither an ISO alpha-3 country code (e.g. RUS, CHN, IRN) nor "
                f"a sea passage ({', '.join(PASSAGES)}) or sea ({', '.join(WATERS)}){hint}"
            )
            raise RouteError(msg)
    mode_list = option_values(modes, "--modes")
    mode_set = set(mode_list) if mode_list else set(FREIGHT_MODES)
    bad = mode_set - set(MODES)
    if bad:
        msg = f"--modes: '{sorted(bad)[0]}' is not one of {', '.join(MODES)}"
        raise RouteError(msg)
    if fuel is not None and fuel not in FUELS:
        msg = f"fuel '{fuel}' is not one of {', '.join(FUELS)}"
        raise RouteError(msg)
    if "pipeline" in mode_set and fuel is None:
        msg = "--modes pipeline: a pipeline carries one fuel; name the commodity (--commodity oil)"
        raise RouteError(msg)
    st = option_values(status, "--status") or list(DEFAULT_STATUSES)
    st_set = set(SEGMENT_STATUSES) if "all" in st else set(st)
    bad = st_set - set(SEGMENT_STATUSES)
    if bad:
        msg = f"--status: '{sorted(bad)[0]}' is not one of all, {', '.join(SEGMENT_STATUSES)}"
        raise RouteError(msg)
    if by not in BY:
        close = difflib.get_close_matches(str(by), BY, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        msg = f"--by: '{by}' is not one of {', '.join(BY)}{hint}"
        raise RouteError(msg)
    return Constraints(
        frozenset(countries),
        frozenset(passages),
        frozenset(mode_set),
        frozenset(st_set),
        fuel,
        by,
    )


def edge_allowed(e: dict[str, Any], c: Constraints) -> bool:
    """Whether ``c`` allows the network edge ``e`` (:func:`allowed_mask` tests them all at once)."""
    if e["mode"] not in c.modes or e["status"] not in c.statuses:
        return False
    fuel = e.get("fuel")
    if (fuel or e["mode"] == "pipeline") and fuel != c.fuel:
        return False  # a pipeline or a tanker leg carries its fuel and nothing else
    if c.avoid_passages.intersection(e["passages"]):
        return False
    waters = c.avoid_passages & WATERS_SET
    if waters and e["mode"] in ("ferry", "sea") and any(on_water(e["geometry"], w) for w in waters):
        return False
    return not any(e["km_by_country"].get(code, 0.0) > 0 for code in c.avoid_countries)


def _add_key(index: dict[str, list[str]], text: object, hit: str) -> None:
    key = normalise(str(text))
    if key and hit not in index.setdefault(key, []):
        index[key].append(hit)


def _node_index(net: Network) -> dict[str, list[str]]:
    """Normalised node ids, names and aliases -> every ``node:<id>`` that answers to the key.

    Built once per network. A key shared by two nodes keeps both, so that :func:`resolve`
    reports the clash instead of picking whichever node came first.
    """
    cache = net.names.setdefault("nodes", {})
    if cache:
        return cache
    nodes = net.nodes
    aliases = nodes["aliases"] if "aliases" in nodes else [None] * len(nodes)
    for nid, name, more in zip(nodes.index, nodes["name"], aliases, strict=True):
        for k in [nid, name, *(more if isinstance(more, list) else [])]:
            _add_key(cache, k, f"node:{nid}")
    return cache


def _index(net: Network) -> dict[str, list[str]]:
    """Every name a place can be given: a node's keys win over a deposit's (built on demand)."""
    cache = net.names.setdefault("all", {})
    if cache:
        return cache
    nodes = _node_index(net)
    deposits: dict[str, list[str]] = {}
    # columns, not iterrows: a user's deposit layer can hold 100,000 rows
    for did, name in zip(net.deposits["id"], net.deposits["name"], strict=True):
        for k in (did, name):
            _add_key(deposits, k, f"deposit:{did}")
    cache.update({k: v for k, v in deposits.items() if k not in nodes})
    cache.update(nodes)
    return cache


def name_clashes(net: Network) -> dict[str, list[str]]:
    """Keys that more than one place answers to (nodes among nodes, deposits among deposits).

    >>> from geo.analysis.network import load_network
    >>> name_clashes(load_network())  # doctest: +SKIP
    {}
    """
    return {k: list(v) for k, v in _index(net).items() if len(v) > 1}


def _ambiguous(net: Network, place: str, hits: Sequence[str]) -> RouteError:
    listed = ", ".join(_display(net, v) for v in list(hits)[:6])
    return RouteError(f"'{place}' is ambiguous: {listed}; give the id or the full name")


EXAMPLE_PLACE = "Almaty"


def resolve(
    net: Network, place: str, *, allow_deposit: bool = False, what: str = "place"
) -> tuple[str, str]:
    """('node'|'deposit', id) for a node or deposit id, name or alias, any case or accents.

    A node id given exactly wins; then an exact (normalised) match; else a unique node whose
    name contains the text (``Duisburg`` finds
    "Duisburg (duisport)"); deposits are matched after nodes. ``what`` names the argument in
    messages (``origin``, ``--via``). A place with no letter or digit is refused, as is a key
    that two places share.
    """
    text = str(place)
    kind_prefix, sep, rest = text.partition(":")
    if sep and kind_prefix in ("node", "deposit"):
        return _resolve_id(net, text, kind_prefix, rest.strip(), allow_deposit=allow_deposit,
                           what=what)  # fmt: skip
    key = normalise(text)
    if not key:
        found = "the place name is empty" if not text.strip() else f"'{text}' is not a place name"
        msg = f"{what}: {found}; give a node id or name, e.g. {EXAMPLE_PLACE}"
        raise RouteError(msg)
    # An exact id is unambiguous, whatever names other places carry.
    exact = text.strip()
    if exact in net.nodes.index:
        return "node", exact
    # nodes win over deposits in the full index, so a node hit needs no deposit names
    hits = _node_index(net).get(key)
    index = _index(net) if not hits else {}
    if not hits:
        hits = index.get(key)
    if hits and len(hits) > 1:
        raise _ambiguous(net, text, hits)
    hit = hits[0] if hits else None
    if hit is None:
        for prefix in ("node:", "deposit:"):
            found_hits = sorted(
                {v for k, vs in index.items() if key in k for v in vs if v.startswith(prefix)}
            )
            starts = [v for v in found_hits if normalise(v.split(":", 1)[1]).startswith(key)]
            if len(found_hits) == 1 or len(starts) == 1:
                hit = found_hits[0] if len(found_hits) == 1 else starts[0]
                break
            if len(found_hits) > 1:
                raise _ambiguous(net, text, found_hits)
    if hit is None:
        close = difflib.get_close_matches(key, list(index), n=3, cutoff=0.7)
        names = sorted({_display(net, v) for c in close for v in index[c]})
        hint = (
            f"did you mean {', '.join(names)}?"
            if names
            else f"give a node id, name or alias (e.g. {EXAMPLE_PLACE}) or deposit:ID"
        )
        msg = f"unknown place '{text}'; {hint}"
        raise RouteError(msg)
    kind, ident = hit.split(":", 1)
    if kind == "deposit" and not allow_deposit:
        msg = f"'{place}' is a deposit; a deposit can only be a route's origin"
        raise RouteError(msg)
    return kind, ident


def _resolve_id(
    net: Network, text: str, kind: str, ident: str, *, allow_deposit: bool, what: str
) -> tuple[str, str]:
    """An explicit ``node:ID`` or ``deposit:ID``: the id must exist as given."""
    ids = net.nodes.index.astype(str) if kind == "node" else net.deposits["id"].astype(str)
    example = f"{kind}:{ids[0]}" if len(ids) else f"{kind}:ID"
    if not ident:
        msg = f"{what}: '{text}' names no {kind}; give its id after the colon, e.g. {example}"
        raise RouteError(msg)
    if not (ids == ident).any():
        close = difflib.get_close_matches(ident, list(ids), n=3, cutoff=0.7)
        hint = ("did you mean " + ", ".join(f"{kind}:{c}" for c in close) + "?") if close else (
            f"give the {kind}'s id, e.g. {example}")  # fmt: skip
        msg = f"unknown {kind} id '{ident}'; {hint}"
        raise RouteError(msg)
    if kind == "deposit" and not allow_deposit:
        msg = f"'{text}' is a deposit; a deposit can only be a route's origin"
        raise RouteError(msg)
    return kind, ident


def _display(net: Network, hit: str) -> str:
    kind, ident = hit.split(":", 1)
    if kind == "node":
        return f"'{net.nodes.loc[ident, 'name']}' ({ident})"
    return f"'{ident}' (deposit)"


def access_candidates(net: Network, country: str) -> list[str]:
    """The nodes a deposit's access leg may end at, best-connected first choice.

    Those in the deposit's country on an operational link, else any in its country on a
    link, else every linked node.

    A road across a border to the nearest railhead is no way to export (it would send the
    Caspian fields through Astrakhan), nor is a railhead whose only lines are being built.
    """
    key = ("access_candidates", country)  # kept: a supply table asks once per country and set
    hit = net.subgraphs.get(key)
    if hit is not None:
        return list(hit)
    g = net.graph
    linked = [n for n in g.nodes if g.degree(n) > 0 and not _fuel_only(g, n)]
    # a small network (a user's own, a test's) may be all small pieces: then every piece counts
    linked = [n for n in linked if _in_network(net, n)] or linked
    own = [n for n in linked if g.nodes[n].get("country") == country]
    running = [
        n for n in own if any(e.get("status") == "operational" for _, _, e in g.edges(n, data=True))
    ]
    found = running or own or linked
    net.subgraphs[key] = tuple(found)
    return found


def _fuel_only(g: nx.MultiGraph, node: str) -> bool:
    """Whether every link of ``node`` carries a fuel (pipes, tanker legs): no road ends there."""
    return all(e.get("fuel") for _, _, e in g.edges(node, data=True))


MIN_COMPONENT_VERTICES = 20  # a piece of track with fewer vertices leads nowhere (a siding, a
# fragment of an OpenStreetMap extract): no deposit's road ends on it


def _in_network(net: Network, node: str) -> bool:
    """Whether ``node`` lies in a connected piece of the network big enough to lead anywhere."""
    key = ("components", MIN_COMPONENT_VERTICES)
    big = net.subgraphs.get(key)
    if big is None:
        big = frozenset(n for c in nx.connected_components(net.graph)
                        if len(c) >= MIN_COMPONENT_VERTICES for n in c)  # fmt: skip
        net.subgraphs[key] = big
    return node in big


@dataclass(frozen=True)
class AccessTable:
    """Every deposit's access leg as columns: where it ends, how long, in which country.

    Row ``i`` is the ``i``-th deposit given to :func:`access_table`; ``node`` is the network
    vertex (a named place or a rail junction) the road ends at, ``km`` the road's estimated
    length (the straight line's geodesic length times the sourced road detour factor,
    :func:`geo.analysis.parameters.road_detour_factor`) and ``code`` the country it runs in
    (where the deposit lies, else its declared country).
    """

    x: np.ndarray
    y: np.ndarray
    node: np.ndarray
    km: np.ndarray
    code: np.ndarray


def access_table(net: Network, deposits: pd.DataFrame) -> AccessTable | None:
    """Every deposit's access leg, as columns, measured for all deposits of a country at once.

    Parameters
    ----------
    net
        The network whose nodes the legs end at.
    deposits
        Rows with ``country`` and a point ``geometry`` (lon/lat).

    Returns
    -------
    AccessTable or None
        None when there is no deposit or the network has no linked node.
    """
    g = net.graph
    if not len(deposits) or not any(g.degree(n) > 0 for n in g.nodes):
        return None
    geoms = np.asarray(deposits.geometry.values)
    px, py = shapely.get_x(geoms).astype(float), shapely.get_y(geoms).astype(float)
    declared = deposits["country"].to_numpy(dtype=object)
    here = countries_at(px, py)
    code = np.where(pd.isna(here), declared, here).astype(object)
    node = np.empty(len(px), dtype=object)
    km = np.empty(len(px), dtype=float)
    detour = road_detour_factor()
    for country, rows in pd.Series(range(len(px))).groupby(declared, sort=False).indices.items():
        ns = access_candidates(net, str(country))
        cx = np.array([g.nodes[n]["x"] for n in ns], dtype=float)
        cy = np.array([g.nodes[n]["y"] for n in ns], dtype=float)
        best, metres = _nearest_geodesic(px[rows], py[rows], cx, cy)
        node[rows] = np.asarray(ns, dtype=object)[best]
        # the geodesic length of the straight line from the deposit to the node (pyproj's
        # line length of two points is this same inverse distance) times the road detour
        km[rows] = metres / 1000.0 * detour
    return AccessTable(px, py, node, km, code)


def _nearest_geodesic(
    px: np.ndarray, py: np.ndarray, cx: np.ndarray, cy: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per point, the geodesically nearest candidate (the first of equals) and its metres.

    Not every pair is measured: the planar nearest candidate's geodesic distance bounds the
    answer, and only candidates in a lon/lat box that surely holds every point that near
    (padded for the meridian's shortest degree and the box's highest latitude) are measured.
    """
    tree = shapely.STRtree(shapely.points(cx, cy))
    planar = tree.nearest(shapely.points(px, py))
    bound = GEOD.inv(px, py, cx[planar], cy[planar])[2]
    lat_pad = bound / 110_574.0 * 1.01 + 1e-9
    top = np.minimum(np.abs(py) + lat_pad, 89.9)
    lon_pad = np.minimum(bound / (111_320.0 * np.cos(np.radians(top))) * 1.01 + 1e-9, 360.0)
    boxes = shapely.box(px - lon_pad, py - lat_pad, px + lon_pad, py + lat_pad)
    pi, ci = tree.query(boxes)
    d = GEOD.inv(px[pi], py[pi], cx[ci], cy[ci])[2]
    order = np.lexsort((ci, d, pi))  # by point, then distance, then candidate order
    pi, ci, d = pi[order], ci[order], d[order]
    first = np.flatnonzero(np.r_[True, pi[1:] != pi[:-1]])
    best = np.empty(len(px), dtype=np.int64)
    metres = np.empty(len(px), dtype=float)
    best[pi[first]] = ci[first]
    metres[pi[first]] = d[first]
    return best, metres


def build_access_legs(net: Network, deposits: pd.DataFrame) -> dict[str, Leg]:
    """Every deposit's access leg: a straight road to the nearest of its access candidates.

    The one builder of access legs, for a single route's origin and for every deposit of the
    supply routes alike (through :func:`access_table`). The nearest node is measured on the
    ellipsoid; of nodes at the same distance the first of :func:`access_candidates` wins.

    Parameters
    ----------
    net
        The network whose nodes the legs end at.
    deposits
        Rows with ``id``, ``name``, ``country`` and a point ``geometry`` (lon/lat).

    Returns
    -------
    dict
        ``{deposit id: Leg}``; empty when the network has no linked node.
    """
    t = access_table(net, deposits)
    if t is None:
        return {}
    g = net.graph
    lines = shapely.linestrings(
        np.stack([t.x, [g.nodes[n]["x"] for n in t.node]], axis=1),
        np.stack([t.y, [g.nodes[n]["y"] for n in t.node]], axis=1),
    )
    out: dict[str, Leg] = {}
    for i, (dep_id, name) in enumerate(zip(deposits["id"], deposits["name"], strict=True)):
        best, km, code = str(t.node[i]), float(t.km[i]), str(t.code[i])
        out[str(dep_id)] = Leg(f"access:{dep_id}", str(dep_id), best, str(name),
                               str(g.nodes[best]["name"]), "road", "operational", "access",
                               "straight", None, km, {code: km}, (), lines[i],
                               access=True)  # fmt: skip
    return out


def deposit_row(net: Network, dep_id: str) -> pd.DataFrame:
    """The deposit with id ``dep_id`` as a one-row frame; empty if there is none.

    Of a repeated id the last row (a user's copy of an id replaces ours). Where each id's row
    lies is kept in the network's ``subgraphs`` cache: a supply table asks for dozens of fields
    among 100,000 deposits.
    """
    key = ("deposit_rows",)
    rows = net.subgraphs.get(key)
    if rows is None:
        rows = {d: i for i, d in enumerate(net.deposits["id"].astype(str).tolist())}
        net.subgraphs[key] = rows
    i = rows.get(dep_id)
    return net.deposits.iloc[[] if i is None else [i]]


def _deposit_access_leg(net: Network, dep_id: str) -> Leg:
    """The access leg of one deposit (a user's copy of an id replaces ours, as in supply)."""
    deps = deposit_row(net, dep_id)
    legs = build_access_legs(net, deps)
    if dep_id not in legs:
        msg = f"deposit '{dep_id}' has no way out: the network has no linked node"
        raise RouteError(msg)
    return legs[dep_id]


FIELD_TRIES = 8  # a field's route is tried from this many nearby lines (nearest first)


def _freight_modes(c: Constraints) -> bool:
    """Whether the constraints allow a mode a road from a deposit can lead to."""
    return bool(c.modes - {"pipeline"})


def _field_route(
    net: Network, origin: str, dep_id: str, rest: Sequence[str], c: Constraints
) -> list[Leg]:
    """A field's shortest route by its pipelines (from each nearby line, the best); [] if none.

    Where the constraints allow nothing but pipelines, no route is an error naming the field.
    """
    legs: list[Leg] = []
    fields = field_access_legs(net, dep_id, c)[:FIELD_TRIES]
    error: tuple[Leg, RouteError] | None = None
    for access in fields:
        try:
            found = [access, *legs_between(net, [access.to_id, *rest], c)]
        except RouteError as problem:  # a line that leads nowhere under the constraints
            error = error or (access, problem)
            continue
        if not legs or sum(x.length_km for x in found) < sum(x.length_km for x in legs):
            legs = found
    if legs or _freight_modes(c):
        return legs
    if error is not None:  # name the field, not the pipeline vertex its search started from
        first, why = error
        msg = str(why).replace(f"no route from {first.to_name}",
                               f"no route from {origin} (by its {c.fuel} lines)", 1)  # fmt: skip
        raise RouteError(msg) from why
    msg = (f"no route from {origin} {c.describe()}: no {c.fuel} pipeline of the allowed "
           f"statuses passes within {FIELD_KM:.0f} km of the field")  # fmt: skip
    raise RouteError(msg)


TERMINAL_SAME_PLACE_KM = 2.0  # an energy terminal this near a place stands for it in fuel routes


def fuel_stop(net: Network, node: str, c: Constraints) -> str:
    """The stop an oil or gas route means by ``node``: the place itself, or its energy terminal.

    "Horgos" names the town's railway node; gas arrives at the Horgos delivery point on the
    same spot. Where the constraints carry a fuel and ``node`` has no link they allow, an
    energy terminal (``terminals.geojson``) within :data:`TERMINAL_SAME_PLACE_KM` takes its
    place; otherwise ``node`` is kept (and the search says why it is not reached).
    """
    if c.fuel is None or ENERGY not in net.nodes:
        return node
    g = allowed_subgraph(net, c)
    if node in g:
        return node
    at = net.graph.nodes[node]
    energy = net.nodes[net.nodes[ENERGY].fillna(False).astype(bool).to_numpy()]
    best: tuple[float, str] | None = None
    for tid, p in zip(energy.index.astype(str), energy.geometry, strict=True):
        km = float(GEOD.inv(at["x"], at["y"], p.x, p.y)[2]) / 1000.0
        if tid in g and km <= TERMINAL_SAME_PLACE_KM and (best is None or (km, tid) < best):
            best = (km, tid)
    return node if best is None else best[1]


def _pipeline_vertices(
    net: Network, c: Constraints
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each allowed pipeline's vertices as columns: line (``pipe-P0646``), node id, x, y.

    Kept in the network's ``subgraphs`` cache per constraints: every field of a supply table
    measures against the same columns.
    """
    key = ("pipeline_vertices", c)
    hit = net.subgraphs.get(key)
    if hit is None:
        g = allowed_subgraph(net, c)
        pairs = sorted({(str(d["edge"]["id"]).rsplit("-", 1)[0], str(n))
                        for n in g.nodes for d in g[n].values()
                        if d["edge"]["mode"] == "pipeline"})  # fmt: skip
        nodes = net.graph.nodes
        hit = (np.array([a for a, _ in pairs], dtype=object),
               np.array([b for _, b in pairs], dtype=object),
               np.array([nodes[b]["x"] for _, b in pairs], dtype=float),
               np.array([nodes[b]["y"] for _, b in pairs], dtype=float))  # fmt: skip
        net.subgraphs[key] = hit
    return hit


def field_access_legs(net: Network, dep_id: str, c: Constraints) -> list[Leg]:
    """A field's ways into the pipelines of the constraints' fuel, nearest first.

    Each is a straight gathering line (mode ``pipeline``, precision ``straight``, its length
    the geodesic distance: field flowlines are not in the layer) to the nearest vertex of each
    allowed pipeline of ``c.fuel`` within :data:`~geo.analysis.capacity.FIELD_KM`, the reach
    the capacity answer uses too. A field with a declared link (``[[field]]`` in
    layers/commodities.toml) reaches the lines it names instead, as far as the link says.
    Empty when the constraints allow no pipeline or none is that near.
    """
    if c.fuel is None or "pipeline" not in c.modes:
        return []
    deps = deposit_row(net, dep_id)
    if deps.empty:
        return []
    p = deps.geometry.iloc[0]
    link = commodity_table().field(dep_id)
    reach = link.reach_km if link else FIELD_KM
    line_of, ids, xs, ys = _pipeline_vertices(net, c)
    if link:
        keep = np.isin(line_of, [f"pipe-{j}" for j in link.joins])
        line_of, ids, xs, ys = line_of[keep], ids[keep], xs[keep], ys[keep]
    best: dict[str, float] = {}
    if len(ids):
        km = GEOD.inv(np.full(len(xs), p.x), np.full(len(xs), p.y), xs, ys)[2] / 1000.0
        order = np.lexsort((ids, km, line_of))  # per line, nearest first (then by id)
        first = np.r_[True, line_of[order][1:] != line_of[order][:-1]]
        for i in order[first]:
            if km[i] <= reach:
                best[str(ids[i])] = float(km[i])
    code = countries_at(np.array([p.x]), np.array([p.y]))[0]
    code = str(deps["country"].iloc[0]) if pd.isna(code) else str(code)
    name = str(deps["name"].iloc[0]) if "name" in deps else dep_id
    what = (f"field link to GEM {', '.join(link.joins)} (straight; layers/commodities.toml)"
            if link else "field gathering line (straight; not in the pipelines layer)")  # fmt: skip
    out = []
    for n, km_n in sorted(best.items(), key=lambda kv: (kv[1], kv[0])):
        x, y = net.graph.nodes[n]["x"], net.graph.nodes[n]["y"]
        out.append(Leg(f"access:{dep_id}", dep_id, n, name, str(net.graph.nodes[n]["name"]),
                       "pipeline", "operational", "access", "straight", None, km_n,
                       {code: km_n}, (), shapely.LineString([(p.x, p.y), (x, y)]),
                       access=True, line=what, fuel=c.fuel))  # fmt: skip
    return out


def make_leg(net: Network, u: str, v: str, e: dict[str, Any]) -> Leg:
    """The leg that traverses edge ``e`` from node ``u`` to node ``v``.

    Parameters
    ----------
    net
        The network the edge belongs to (for the nodes' names).
    u, v
        The node ids, in travel direction.
    e
        The edge's attributes, as the network's graph holds them.

    Returns
    -------
    Leg
        Geometry and km per country turned round when the edge was drawn from ``v`` to ``u``.
    """
    geom = e["geometry"]
    kbc = e["km_by_country"]
    if e["u"] != u:  # traversed against the drawing direction
        geom = shapely.reverse(geom)
        kbc = dict(reversed(list(kbc.items())))
    names = net.graph.nodes
    fuel = e.get("fuel") or None
    line = str(e.get("name") or "") if fuel else ""
    return Leg(e["id"], u, v, str(names[u]["name"]), str(names[v]["name"]), e["mode"], e["status"],
               e["corridor"], e["precision"], e["gauge_mm"], e["length_km"], kbc, e["passages"],
               geom, line=line, fuel=fuel)  # fmt: skip


def joinable(a: Leg, b: Leg, net: Network) -> bool:
    """Whether leg ``b`` continues leg ``a`` as one stretch (:func:`coalesce` joins them).

    They meet at a rail junction and are alike in all a reader sees.
    """
    if net.graph.nodes[a.to_id].get("kind") != "junction":
        return False
    same = (a.mode, a.status, a.corridor, a.precision, a.gauge_mm, a.passages, a.line)
    return same == (
        b.mode,
        b.status,
        b.corridor,
        b.precision,
        b.gauge_mm,
        b.passages,
        b.line,
    ) and list(a.km_by_country) == list(b.km_by_country)


def join_legs(run: Sequence[Leg]) -> Leg:
    """One leg for a run of consecutive legs that :func:`joinable` joins (a single leg: itself).

    Lengths and km by country are added in travel order, the geometry is the legs' parts in
    order, merged: the one way :func:`coalesce` and the supply routes join legs.
    """
    if len(run) == 1:
        return run[0]
    first, last = run[0], run[-1]
    kbc: dict[str, float] = {}
    for leg in run:
        for k, km in leg.km_by_country.items():
            kbc[k] = kbc.get(k, 0.0) + km
    parts = [p for leg in run for p in _line_parts(leg.geometry)]
    geom = shapely.line_merge(shapely.MultiLineString(parts))
    return Leg(f"{first.segment_id}..{last.segment_id}", first.from_id, last.to_id,
               first.from_name, last.to_name, first.mode, first.status, first.corridor,
               first.precision, first.gauge_mm, sum(leg.length_km for leg in run), kbc,
               first.passages, geom, first.access, first.line, first.fuel)  # fmt: skip


def coalesce(net: Network, legs: Sequence[Leg]) -> list[Leg]:
    """Consecutive legs joined where they meet at a junction and agree on everything shown.

    The traced network is cut at every junction; a reader wants the stretch from one named
    place (or change of line, status, gauge or country) to the next. Lengths, km by country
    and geometry are kept exactly (the geometry as the legs' parts in order).
    """
    out: list[Leg] = []
    run: list[Leg] = []
    for leg in legs:
        if run and not joinable(run[-1], leg, net):
            out.append(join_legs(run))
            run = []
        run.append(leg)
    if run:
        out.append(join_legs(run))
    return out


def _line_parts(g: shapely.Geometry) -> list[shapely.LineString]:
    return [p for p in getattr(g, "geoms", [g]) if not p.is_empty]


SUBGRAPH_CACHE_SIZE = 32
# Traced lengths are rounded to metres, so double track gives routes of equal length. Each
# edge's search weight adds at most 4e-9 km (1e-9 km times 1 + its id's CRC as a fraction,
# doubled on an edge no corridor runs over) so that no two routes tie: a search from either
# end (find_route's from the origin, the supply routes' from the market) finds the same
# route, on the track a corridor was traced on where there is a choice.
TIE_KM = 1e-9


def search_weight(e: dict[str, Any], by: str = "km", ends: Sequence[dict[str, Any]] = ()) -> float:
    """An edge's weight in route searches: its km, days, USD or kg CO2e, plus a tie-breaker.

    The tie-breaker lies far below a metre (a second, a cent, a gram). With ``by`` other
    than km the weight is :func:`geo.analysis.costs.edge_weight`'s, and the fixed costs of
    transfers are charged on the edges that lead to them, as node attributes ``ends`` (the
    edge's two nodes) tell: half a border at each side of a border-crossing node, half a
    gauge change at each side of a gauge-change station, and getting on and off each ferry
    or sea leg (a transshipment at each end). The route's statistics then count its
    transfers exactly; the search's charge is this approximation of them.
    """
    crc = zlib.crc32(str(e["id"]).encode("utf-8")) / 2**32
    tie = TIE_KM * (1.0 + crc) * (1.0 if e.get("corridor") else 2.0)
    if by == "km":
        return float(e["length_km"]) + tie
    w = edge_weight(by)(e)
    if e["mode"] in ("ferry", "sea"):
        w += 2 * transfer_weight(by, "transshipment")
    for n in ends:
        if n.get("kind") == "border_crossing":
            w += transfer_weight(by, "border") / 2
        if n.get("gauge_change") and e["mode"] == "rail":
            w += transfer_weight(by, "gauge_break") / 2
    return w + tie


@dataclass(frozen=True)
class EdgeTable:
    """What :func:`allowed_subgraph` needs of a network's edges, worked out once per network.

    Nothing here depends on the constraints: which edges each mode, status, passage, sea and
    country rules out and each edge's search weight (per ``by``) are kept as arrays, so a new
    set of constraints costs a few array operations instead of a pass of Python over every
    edge. Each array is :func:`edge_allowed`'s or :func:`search_weight`'s own answer, edge by edge,
    so the subgraph is the one the per-edge test gives.
    """

    edges: list[tuple[str, str, dict[str, Any]]]  # the graph's edges in its order
    by_mode: dict[Any, np.ndarray]  # each mode value: which edges have it
    by_status: dict[Any, np.ndarray]
    by_passage: dict[Any, np.ndarray]  # each passage: which edges pass it
    by_country: dict[Any, np.ndarray]  # each country: which edges run some km in it
    fuel_ok: dict[str | None, np.ndarray] = field(default_factory=dict)  # per constraint fuel
    on_water: dict[str, np.ndarray] = field(default_factory=dict)  # ferry/sea edges per water
    weights: dict[str, list[Any]] = field(default_factory=dict)  # search_weight per ``by``

    def none(self) -> np.ndarray:
        """No edge: the mask to start an OR from."""
        return np.zeros(len(self.edges), dtype=bool)

    def any_of(self, table: dict[Any, np.ndarray], keys: frozenset[Any]) -> np.ndarray:
        """The edges whose value (in ``table``) is one of ``keys``."""
        out = self.none()
        for k, mask in table.items():
            if k in keys:
                out |= mask
        return out


def _groups(values: Iterable[Iterable[Any]], n: int) -> dict[Any, np.ndarray]:
    """Each value that occurs -> a mask of the rows (of ``n``) whose iterable holds it."""
    out: dict[Any, np.ndarray] = {}
    for i, row in enumerate(values):
        for x in row:
            mask = out.get(x)
            if mask is None:
                mask = out[x] = np.zeros(n, dtype=bool)
            mask[i] = True
    return out


def edge_table(net: Network) -> EdgeTable:
    """The network's :class:`EdgeTable`, kept in its ``subgraphs`` cache (built on first use)."""
    key = ("edge_table",)
    hit = net.subgraphs.get(key)
    if isinstance(hit, EdgeTable):
        return hit
    edges = list(net.graph.edges(data=True))
    n = len(edges)
    table = EdgeTable(
        edges,
        by_mode=_groups(([e["mode"]] for _, _, e in edges), n),
        by_status=_groups(([e["status"]] for _, _, e in edges), n),
        by_passage=_groups((e["passages"] for _, _, e in edges), n),
        by_country=_groups((_countries_run(e) for _, _, e in edges), n),
    )
    net.subgraphs[key] = table
    return table


def _countries_run(e: dict[str, Any]) -> list[str]:
    return [k for k, km in e["km_by_country"].items() if km > 0]


def _fuel_ok(t: EdgeTable, fuel: str | None) -> np.ndarray:
    hit = t.fuel_ok.get(fuel)
    if hit is None:
        # edge_allowed's rule: a pipeline or a tanker leg carries its fuel and nothing else
        hit = t.fuel_ok[fuel] = np.array(
            [not ((e.get("fuel") or e["mode"] == "pipeline") and e.get("fuel") != fuel)
             for _, _, e in t.edges], dtype=bool)  # fmt: skip
    return hit


def _on_water(t: EdgeTable, water: str) -> np.ndarray:
    hit = t.on_water.get(water)
    if hit is None:
        hit = t.on_water[water] = np.array(
            [e["mode"] in ("ferry", "sea") and on_water(e["geometry"], water)
             for _, _, e in t.edges], dtype=bool)  # fmt: skip
    return hit


def _weights(net: Network, t: EdgeTable, by: str, rows: list[int]) -> list[Any]:
    """:func:`search_weight` by ``by`` of the edges ``rows``, each worked out once per network.

    Only asked edges are weighed (as the per-edge pass weighed only allowed ones); the values
    are kept as :func:`search_weight` returned them.
    """
    ws = t.weights.get(by)
    if ws is None:
        ws = t.weights[by] = [None] * len(t.edges)
    nodes = net.graph.nodes
    for i in rows:
        if ws[i] is None:
            u, v, e = t.edges[i]
            ws[i] = search_weight(e, by, (nodes[u], nodes[v]))
    return ws


def allowed_mask(net: Network, c: Constraints) -> np.ndarray:
    """Which of the network's edges ``c`` allows, all at once: :func:`edge_allowed` of each.

    Parameters
    ----------
    net
        The network.
    c
        What the routes may use.

    Returns
    -------
    numpy.ndarray
        One bool per edge, in :func:`edge_table`'s order (the graph's ``edges(data=True)``).
    """
    t = edge_table(net)
    ok: np.ndarray = t.any_of(t.by_mode, c.modes) & t.any_of(t.by_status, c.statuses)
    ok &= _fuel_ok(t, c.fuel)
    ok &= ~t.any_of(t.by_passage, c.avoid_passages)
    for water in sorted(c.avoid_passages & WATERS_SET):
        ok &= ~_on_water(t, water)
    ok &= ~t.any_of(t.by_country, c.avoid_countries)
    return ok


def allowed_subgraph(net: Network, c: Constraints) -> nx.Graph:
    """The cheapest allowed edge between each pair of nodes, as a simple graph (read only).

    Kept in the network's declared ``subgraphs`` cache per constraints (the network's graph is
    frozen, so a kept subgraph cannot go stale), so repeated queries do not rebuild it; past
    :data:`SUBGRAPH_CACHE_SIZE` sets the least recently used one is dropped. Which edges are
    allowed and their weights come from the network's :func:`edge_table`; the graph is built
    from them in the network's edge order, so its nodes and every node's neighbours come in
    the order a pass over the edges gives (which decides between equally short paths).

    Parameters
    ----------
    net
        The network.
    c
        What the routes may use.

    Returns
    -------
    networkx.Graph
        Edges carry ``length_km``, ``weight`` (:func:`search_weight`, what searches minimise)
        and ``edge`` (the network edge's attributes).
    """
    cache = net.subgraphs
    hit = cache.get(c)
    if hit is not None:
        cache[c] = cache.pop(c)  # the most recently used is evicted last
        return hit
    t = edge_table(net)
    rows = np.flatnonzero(allowed_mask(net, c)).tolist()
    weights = _weights(net, t, c.by, rows)
    # Each pair's first allowed edge fixes where the pair comes (and so the order of the nodes
    # and of every node's neighbours); its cheapest one, the first of equals, is kept.
    best: dict[tuple[str, str], tuple[Any, dict[str, Any]]] = {}
    for i in rows:
        u, v, e = t.edges[i]
        w = weights[i]
        if not math.isfinite(w):
            continue  # no container moves there (a pipeline by cost or carbon)
        pair = (v, u) if (v, u) in best else (u, v)
        had = best.get(pair)
        if had is None or had[0] > w:
            best[pair] = (w, e)
    g = nx.Graph()
    g.add_edges_from((u, v, {"length_km": e["length_km"], "weight": w, "edge": e})
                     for (u, v), (w, e) in best.items())  # fmt: skip
    kept = [k for k in cache if isinstance(k, Constraints)]
    if len(kept) >= SUBGRAPH_CACHE_SIZE:  # the least recently used goes, with what was made of it
        for k in (kept[0], ("matrix", kept[0]), ("pipeline_vertices", kept[0]),
                  ("pairs", kept[0])):  # fmt: skip
            cache.pop(k, None)
    cache[c] = nx.freeze(g)
    cache[("pairs", c)] = (list(best), [w for w, _ in best.values()])  # for _matrix
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
        """The place names the route passes, from the start through each leg's end; [] if none."""
        if not self.legs:
            return []
        return [self.legs[0].from_name, *[leg.to_name for leg in self.legs]]


def _shortest(net: Network, c: Constraints, a: str, b: str) -> list[str] | None:
    """The node ids of the shortest path from ``a`` to ``b`` on the allowed subgraph, or None.

    Dijkstra in C (scipy's csgraph) over the subgraph as a sparse matrix, kept with it in the
    network's ``subgraphs`` cache: on the traced network (about 5,000 vertices) a search takes
    about a millisecond where networkx's takes twenty.
    """
    g = allowed_subgraph(net, c)
    if a not in g or b not in g:
        return None
    names, index, m = _matrix(net, c, g)
    i, j = index[a], index[b]
    dist, pred = scipy.sparse.csgraph.dijkstra(m, indices=i, return_predecessors=True)
    if not np.isfinite(dist[j]):
        return None
    path = [j]
    while path[-1] != i:
        path.append(int(pred[path[-1]]))
    return [names[k] for k in reversed(path)]


def _matrix(
    net: Network, c: Constraints, g: nx.Graph
) -> tuple[list[str], dict[str, int], scipy.sparse.csr_matrix]:
    key = ("matrix", c)
    hit = net.subgraphs.get(key)
    if hit is None:
        names = list(g.nodes)
        index = {n: k for k, n in enumerate(names)}
        # The graph's edges as allowed_subgraph made them (search_weight: length plus a
        # tie-breaker), not walked through networkx's edge view (a third of a cold query's
        # time). Their order does not matter: the CSR matrix keeps each row's columns sorted.
        pairs, weights = net.subgraphs[("pairs", c)]
        ends = np.array([(index[u], index[v]) for u, v in pairs], dtype=np.int64).reshape(-1, 2)
        # csgraph drops explicit zeros: a 0 km link becomes a tiny positive weight
        km = np.maximum(np.asarray(weights, dtype=float), 1e-9)
        # each edge both ways, one after the other: (u, v) then (v, u)
        rows, cols = ends.ravel(), ends[:, ::-1].ravel()
        m = scipy.sparse.csr_matrix(
            (np.repeat(km, 2), (rows, cols)), shape=(len(names), len(names))
        )
        hit = (names, index, m)
        net.subgraphs[key] = hit
    return hit


def _blocker(net: Network, stops: Sequence[str], c: Constraints) -> str:
    """Name the constraint that blocks a route: relax each and see what the route then needs."""
    trials = [
        ("modes", replace(c, modes=c.modes | frozenset(FREIGHT_MODES))),
        ("status", replace(c, statuses=frozenset(SEGMENT_STATUSES))),
        ("avoid", replace(c, avoid_countries=frozenset(), avoid_passages=frozenset())),
    ]
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


# Boxes that hold each sea and no other water a route sails (lon, lat): the Caspian; the
# Black Sea with the Sea of Azov, north of the Bosporus's northern mouth (41.2 N), so that the
# Sea of Marmara and Istanbul's Marmara ports stay outside.
WATER_BOXES = {"caspian": (46.0, 36.5, 55.5, 47.3), "black_sea": (27.3, 41.25, 41.9, 47.3)}
WATERS_SET = frozenset(WATERS)


def on_water(geom: shapely.Geometry, water: str) -> bool:
    """Whether a ferry or sea leg's line has a vertex on ``water`` (``caspian``, ``black_sea``)."""
    x0, y0, x1, y1 = WATER_BOXES[water]
    xy = shapely.get_coordinates(geom)
    inside = (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
    return bool(inside.any())


def _path_edges(net: Network, stops: Sequence[str], c: Constraints) -> list[dict[str, Any]] | None:
    g = allowed_subgraph(net, c)
    edges: list[dict[str, Any]] = []
    for a, b in itertools.pairwise(stops):
        p = _shortest(net, c, a, b)
        if p is None:
            return None
        edges.extend(g[u][v]["edge"] for u, v in itertools.pairwise(p))
    return edges


def legs_between(net: Network, stops: Sequence[str], c: Constraints) -> list[Leg]:
    """The network legs of the shortest route through the node ids ``stops``, as shown.

    What :func:`find_route` does once the places are resolved: the legs between each pair of
    stops, consecutive junction legs joined (:func:`coalesce`). Node ids may be junctions,
    which no place name resolves to (the supply routes start at them).

    Parameters
    ----------
    net
        The network.
    stops
        Graph node ids in travel order.
    c
        What the route may use.

    Returns
    -------
    list of Leg
        In travel order; empty when every stop is the same node.

    Raises
    ------
    RouteError
        A stop in a country to avoid, or no route: the message names what blocks it.
    """
    for code in c.avoid_countries:
        for s in stops:
            if net.graph.nodes[s]["country"] == code:
                msg = f"{net.graph.nodes[s]['name']} lies in {code}, which the route must avoid"
                raise RouteError(msg)
    g = allowed_subgraph(net, c)
    legs: list[Leg] = []
    for a, b in itertools.pairwise(stops):
        if a == b:
            continue
        p = _shortest(net, c, a, b)
        if p is None:
            an, bn = net.graph.nodes[a]["name"], net.graph.nodes[b]["name"]
            desc = c.describe()
            why = _blocker(net, [a, b], c)
            msg = f"no route from {an} to {bn}{' ' + desc if desc else ''}: {why}"
            raise RouteError(msg)
        legs.extend(coalesce(net, [make_leg(net, u, v, g[u][v]["edge"])
                                   for u, v in itertools.pairwise(p)]))  # fmt: skip
    return legs


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
    kind, first = resolve(net, origin, allow_deposit=True, what="origin")
    vias = [via] if isinstance(via, str) else list(via)
    via_ids = [resolve(net, v, what="--via")[1] for v in vias]
    rest = [*via_ids, resolve(net, destination, what="destination")[1]]
    rest = [fuel_stop(net, n, c) for n in rest]
    legs = _field_route(net, origin, first, rest, c) if kind == "deposit" else []
    if not legs:
        access = _deposit_access_leg(net, first) if kind == "deposit" else None
        start = access.to_id if access else first
        legs = [access] if access else []
        legs.extend(legs_between(net, [start, *rest], c))
    if not legs:
        msg = f"origin and destination are the same place ({origin}); name two different places"
        raise RouteError(msg)
    return Route(origin, destination, tuple(vias), c, legs)


# --- alternatives -------------------------------------------------------------------------------

MAX_SHARED = 0.7  # an alternative shares at most this share of its km with each route before it
PENALTY = 1.6  # each time a search uses an edge, the next searches see it this much longer


def network_pairs_km(legs: Sequence[Leg], net: Network) -> dict[frozenset[str], float]:
    """The node pairs a route's network edges join, with their km (parallel edges count alike)."""
    out: dict[frozenset[str], float] = {}
    for leg in legs:
        if leg.access:
            continue
        for part in leg.segment_id.split(".."):
            e = _edge_by_id(net).get(part)
            if e is not None:
                out[frozenset((e["u"], e["v"]))] = float(e["length_km"])
    return out


def _edge_by_id(net: Network) -> dict[str, dict[str, Any]]:
    key = ("edges_by_id",)
    hit = net.subgraphs.get(key)
    if hit is None:
        hit = {str(e["id"]): e for _, _, e in net.graph.edges(data=True)}
        net.subgraphs[key] = hit
    return hit


def shared_share(a: dict[frozenset[str], float], b: dict[frozenset[str], float]) -> float:
    """The share of route ``a``'s network km that route ``b`` also runs (0..1)."""
    total = sum(a.values())
    return sum(km for p, km in a.items() if p in b) / total if total else 1.0


def check_alternatives(n: int) -> None:
    """Refuse a number of alternatives below 1 (:class:`RouteError`, one line)."""
    if n < 1:
        msg = f"--alternatives: {n} is not a number of routes; give 1 or more"
        raise RouteError(msg)


def find_alternatives(
    net: Network,
    origin: str,
    destination: str,
    *,
    via: Sequence[str] = (),
    constraints: Constraints | None = None,
    n: int = 3,
) -> list[Route]:
    """Up to ``n`` routes that differ materially, the shortest first.

    The penalty method: after each search the edges it used count :data:`PENALTY` times longer,
    and the next search finds the best way around them; a route is kept when at most
    :data:`MAX_SHARED` of its network km are shared with each route kept before it (a route
    that swaps one parallel track for another shares everything and is not kept). Every kept
    route's km are its real ones; after the best, they come in the order of the constraints'
    weight (``by``: km, days, cost or CO2e, unpenalised). Fewer than ``n`` come back when the
    network offers fewer.

    Raises
    ------
    RouteError
        As :func:`find_route` for the first route; ``n`` below 1.
    """
    check_alternatives(n)
    c = constraints or Constraints()
    best = find_route(net, origin, destination, via=via, constraints=c)
    routes = [best]
    if n == 1:
        return routes
    access = [leg for leg in best.legs if leg.access]
    network_legs = [leg for leg in best.legs if not leg.access]
    start = network_legs[0].from_id if network_legs else best.legs[0].to_id
    vias = [via] if isinstance(via, str) else list(via)
    stops = [start, *(resolve(net, v, what="--via")[1] for v in vias), best.legs[-1].to_id]
    g = allowed_subgraph(net, c)
    kept = [network_pairs_km(best.legs, net)]
    factor: dict[frozenset[str], float] = {}
    scores: list[float] = []
    last = kept[0]
    for _ in range(6 * n):
        for p in last:
            factor[p] = factor.get(p, 1.0) * PENALTY
        path = _penalised_path(g, stops, factor)
        if path is None:
            break
        legs = coalesce(net, [make_leg(net, u, v, g[u][v]["edge"]) for u, v in path])
        last = {frozenset(uv): float(g[uv[0]][uv[1]]["length_km"]) for uv in path}
        if all(shared_share(last, k) <= MAX_SHARED for k in kept):
            kept.append(last)
            # ranked by what the search minimises (km, days, cost or CO2e: c.by)
            score = sum(float(g[u][v]["weight"]) for u, v in path)
            routes.append(Route(origin, destination, tuple(vias), c, [*access, *legs]))
            scores.append(score)
            if len(routes) == n:
                break
    order = sorted(range(1, len(routes)), key=lambda i: scores[i - 1])
    return [routes[0], *(routes[i] for i in order)]


def _penalised_path(
    g: nx.Graph, stops: Sequence[str], factor: dict[frozenset[str], float]
) -> list[tuple[str, str]] | None:
    """The edges (u, v) of the best path through ``stops`` with penalised weights, or None."""

    def weight(u: str, v: str, d: dict[str, Any]) -> float:
        return float(d["weight"]) * factor.get(frozenset((u, v)), 1.0)

    out: list[tuple[str, str]] = []
    for a, b in itertools.pairwise(stops):
        if a == b:
            continue
        try:
            nodes = nx.dijkstra_path(g, a, b, weight=weight)
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            return None
        out.extend(itertools.pairwise(nodes))
    return out
