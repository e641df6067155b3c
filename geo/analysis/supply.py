"""Supply routes for critical minerals: every deposit's way to market.

Each deposit is routed to each market with and without Russia, and with and without China.

One Dijkstra per market and constraint set (the graph is undirected, so a search from the market
reaches every deposit's access node at once) replaces one :func:`~geo.analysis.routing.find_route`
per deposit and market. Each row's statistics are those :func:`~geo.analysis.stats.route_stats`
gives for the same route: they are computed from the same legs with the same helpers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import cached_property
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from ..data.countries import SEA
from ..data.schema import COMMODITIES
from ..data.values import is_missing
from ..errors import RouteError
from .corridors import name_rules
from .costs import CASES, Span, cost_table, crossing_days, leg_co2e_kg, leg_cost_usd, leg_days
from .network import Network, load_network
from .parameters import transit_parameters
from .routing import (
    FIELD_TRIES,
    AccessTable,
    Constraints,
    Leg,
    access_table,
    allowed_subgraph,
    build_access_legs,
    commodity_tries,
    deposit_row,
    field_access_legs,
    fuel_commodity,
    join_legs,
    joinable,
    legs_between,
    make_constraints,
    make_leg,
    on_water,
    option_values,
    resolve,
)
from .stats import summarise_legs

# Ports where Central Asian minerals are sold or shipped on (node ids of layers/nodes.geojson).
# No North American port is named by any source for Central Asian uranium (Kazatomprom's 2022
# trans-Caspian cargo "arrived at a Canadian port"), so none is offered: see layers/README.md.
MARKETS = ("yokohama_port", "busan_port", "rotterdam_port", "constanta_port", "mumbai_port",
           "lianyungang")  # fmt: skip
# The comparisons every row carries, in addition to the route under the caller's ``avoid``.
FREE_OF = {"rus": ("RUS",), "rus_chn": ("RUS", "CHN")}
# The numbers of one route: its length and, each as low, typical and high, its transit days,
# its USD per TEU and its kg CO2e per TEU (None where the route has no such figure: a pipeline
# carries no container, see layers/costs.toml's [[not_found]]).
FIGURES = ("transit_days", "cost_usd_per_teu", "co2e_kg_per_teu")
NUMBERS = ("km", *(f"{f}_{c}" for f in FIGURES for c in CASES))
ROUTE_TEXTS = ("countries", "transits_russia", "transits_china", "main_corridor", "path",
               "blocked")  # fmt: skip
COLUMNS = (
    "deposit", "name", "commodities", "country", "output_value", "output_unit",
    "market", "market_name",
    *NUMBERS, *ROUTE_TEXTS,
    *(f"shortest_{k}" for k in NUMBERS), *(f"extra_{k}" for k in NUMBERS),
    *(c for key in FREE_OF for c in (*(f"{key}_free_{k}" for k in NUMBERS), f"{key}_free_blocked",
                                     *(f"{key}_free_extra_{k}" for k in NUMBERS))),
)  # fmt: skip
# How many decimals each figure keeps (the rounding of route_stats): km and days 0.1, USD and kg 1.
DECIMALS = {"km": 1, "transit_days": 1, "cost_usd_per_teu": 0, "co2e_kg_per_teu": 0}


@dataclass(frozen=True)
class SupplyRoute:
    """The best route of one deposit to one market under one constraint set, or why none.

    The numbers are those :func:`~geo.analysis.stats.route_stats` gives for the same legs
    (``transit_days``, ``cost_usd_per_teu``, ``co2e_kg_per_teu`` as flat fields).
    """

    km: float | None
    transit_days_low: float | None
    transit_days_typical: float | None
    transit_days_high: float | None
    cost_usd_per_teu_low: float | None
    cost_usd_per_teu_typical: float | None
    cost_usd_per_teu_high: float | None
    co2e_kg_per_teu_low: float | None
    co2e_kg_per_teu_typical: float | None
    co2e_kg_per_teu_high: float | None
    countries: list[str]
    transits_russia: bool | None
    transits_china: bool | None
    main_corridor: str | None
    path: list[str]
    blocked: str | None


def summarise_supply_route(legs: Sequence[Leg]) -> SupplyRoute:
    """A supply route's row numbers, from its legs (through :func:`.stats.summarise_legs`).

    Parameters
    ----------
    legs
        The route's legs in travel order, the deposit's access leg first.

    Returns
    -------
    SupplyRoute
        Length, days, countries and transits exactly as :func:`~geo.analysis.stats.route_stats`
        gives them for the same legs, and the main corridor: the one with most km, access legs
        left out.
    """
    s = summarise_legs(legs)
    main = main_corridor(legs)
    spans = {"transit_days": s.transit_days, "cost_usd_per_teu": s.cost_usd_per_teu,
             "co2e_kg_per_teu": s.co2e_kg_per_teu}  # fmt: skip
    numbers = {f"{f}_{c}": (None if spans[f] is None else spans[f][c])  # type: ignore[index]
               for f in FIGURES for c in CASES}  # fmt: skip
    return SupplyRoute(
        km=round(s.length_km, 1), **numbers,
        countries=s.countries,
        transits_russia=s.transits("RUS"), transits_china=s.transits("CHN"),
        main_corridor=main, path=[legs[0].from_name, *[leg.to_name for leg in legs]], blocked=None,
    )  # fmt: skip


def main_corridor(legs: Sequence[Leg]) -> str:
    """The name of a route: the corridor (or, by pipe, the pipeline) it runs most km on.

    Access legs are left out, and so are tanker legs (an oil route is named by its main
    pipeline). A corridor with a name rule (``[[name_rule]]`` in layers/corridors.toml) names
    only routes that cross its water: China - Kazakhstan track used to reach the Pacific is
    the TITR's itinerary but not the Trans-Caspian route, so without a Caspian crossing those
    km count under the rule's other name. Track that no itinerary names counts only when
    nothing named is left; "access" when nothing else is.

    >>> main_corridor([])
    'access'
    """
    rules = {r.corridor: r for r in name_rules()}
    crossed = {
        w
        for w in {r.water for r in rules.values()}
        if any(leg.mode in ("ferry", "sea") and on_water(leg.geometry, w) for leg in legs)
    }
    by_corridor: dict[str, float] = {}
    for leg in legs:
        if leg.access or (leg.fuel and leg.mode != "pipeline"):
            continue
        key = leg.line if leg.fuel else leg.corridor
        if not leg.fuel and key:
            parts = [rules[c].otherwise if c in rules and rules[c].water not in crossed else c
                     for c in key.split("/")]  # fmt: skip
            key = "/".join(sorted(set(parts)))
        by_corridor[key] = by_corridor.get(key, 0.0) + leg.length_km
    named = {k: v for k, v in by_corridor.items() if k} or by_corridor  # track no itinerary names
    return max(named, key=lambda k: named[k]) if named else "access"


def _blocked(why: str) -> SupplyRoute:
    none: dict[str, Any] = dict.fromkeys(NUMBERS)
    return SupplyRoute(**none, countries=[], transits_russia=None, transits_china=None,
                       main_corridor=None, path=[], blocked=why)  # fmt: skip


@dataclass(frozen=True)
class NetworkPart:
    """What the network legs from one access node to one market add to every route through it.

    Summarised once per constraint set, access node and market; :func:`combine_access` joins
    it with each deposit's access leg into exactly what :func:`summarise_supply_route` gives
    for the whole leg list (the access leg is a straight road in one country, first).
    """

    node_name: str
    lengths: tuple[float, ...]
    days: tuple[Span, ...]  # each leg's days (geo.analysis.costs.leg_days)
    costs: tuple[Span, ...] | None  # each leg's USD per TEU; None: a leg carries no TEU (pipe)
    co2: tuple[Span, ...] | None  # each leg's kg CO2e per TEU; None as for costs
    runs: tuple[str, ...]
    crossings: int  # border crossings of the network legs alone
    first_land: str | None  # the country the first leg starts in, None if it sails
    first_mode: str | None  # the first leg's mode (None: no leg, the node is the market)
    mode_changes: int  # changes of mode between the network legs (terminal handling)
    gauge_breaks: int
    russia: bool
    china: bool
    main_corridor: str
    stops: tuple[str, ...]
    waits: int = -1  # crossings where freight waits (not a pipeline's); -1: all of them
    whole: bool = False  # the legs start at the deposit (an oil or gas field's own route)

    # each leg's row of leg_numbers when every leg has money and carbon (else made from the
    # spans): the rows of legs that many parts share, made once (see LegFigures)
    rows: tuple[np.ndarray, ...] = dataclass_field(default=(), repr=False, compare=False)

    @cached_property
    def leg_numbers(self) -> list[np.ndarray]:
        """Per leg, what it adds to each of :data:`NUMBERS` (NaN: no money or carbon)."""
        if self.rows:
            return list(self.rows)
        return [
            _number_row(length, self.days[i], None if self.costs is None else self.costs[i],
                        None if self.co2 is None else self.co2[i])
            for i, length in enumerate(self.lengths)
        ]  # fmt: skip

    @classmethod
    def of(
        cls,
        node_name: str,
        legs: Sequence[Leg],
        *,
        whole: bool = False,
        figures: Callable[[Leg], LegFigures] | None = None,
    ) -> NetworkPart:
        """The part of the network legs ``legs`` (in travel order) from node ``node_name``.

        ``whole``: ``legs`` are a field's whole route, its gathering leg first; the deposits
        of its group then add no access leg of their own (their table km is 0). ``figures``
        gives a leg's figures (default :meth:`LegFigures.of`; the supply routes pass one that
        keeps them per leg, since routes to a market share most of their legs).
        """
        s = summarise_legs(legs)
        figs = [(figures or LegFigures.of)(leg) for leg in legs]
        costs = [f.cost for f in figs]
        co2 = [f.co2 for f in figs]
        priced = None not in costs and None not in co2
        return cls(
            node_name, tuple(f.length for f in figs), tuple(f.days for f in figs),
            None if None in costs else tuple(c for c in costs if c is not None),
            None if None in co2 else tuple(c for c in co2 if c is not None),
            tuple(c for c, _ in s.runs), len(s.crossings), _first_land(legs),
            legs[0].mode if legs else None, len(s.mode_changes),
            len(s.gauge_breaks), s.transits("RUS"),
            s.transits("CHN"), main_corridor(legs), tuple(leg.to_name for leg in legs),
            s.waits, whole, tuple(f.row for f in figs) if priced else (),
        )  # fmt: skip


@dataclass(frozen=True)
class LegFigures:
    """One leg's figures as the supply table adds them: km, days, USD and kg CO2e per TEU."""

    length: float
    days: Span  # geo.analysis.costs.leg_days
    cost: Span | None  # geo.analysis.costs.leg_cost_usd (None: no TEU, a pipe)
    co2: Span | None  # geo.analysis.costs.leg_co2e_kg (None as for cost)
    row: np.ndarray  # what the leg adds to each of NUMBERS (NaN: no money or carbon)

    @classmethod
    def of(cls, leg: Leg) -> LegFigures:
        """The figures of ``leg``."""
        days, cost, co2 = leg_days(leg), leg_cost_usd(leg), leg_co2e_kg(leg)
        return cls(leg.length_km, days, cost, co2, _number_row(leg.length_km, days, cost, co2))


def _number_row(length: float, days: Span, cost: Span | None, co2: Span | None) -> np.ndarray:
    """What a leg adds to each of :data:`NUMBERS` (NaN: no money or carbon)."""
    row = [length, days.low, days.typical, days.high]
    for sp in (cost, co2):
        row += [np.nan] * 3 if sp is None else [sp.low, sp.typical, sp.high]
    return np.array(row)


def _first_land(legs: Sequence[Leg]) -> str | None:
    """The country a road arriving at the first leg meets (None if that leg is at sea)."""
    if not legs or legs[0].mode == "sea":
        return None
    return next((c for c in legs[0].km_by_country if c != SEA), None)


def rounded(values: np.ndarray, ndigits: int) -> np.ndarray:
    """Each value rounded exactly as Python's ``round(value, ndigits)`` rounds it, at once.

    Python rounds the value's exact decimal expansion, half to even, and gives the float
    nearest the result. ``np.rint(x * 10**n) / 10**n`` gives the same float wherever the
    product, rounded to a float, lies on the same side of a half as the exact product does:
    the division is correctly rounded, and so is the product, off by at most half a unit in
    the last place. Values whose product lies within two units of a half (a tie, or a value
    that may cross one), and huge or infinite ones, are rounded by Python itself; ``ndigits``
    0 needs no product (``np.rint`` rounds half to even as ``round`` does).

    Parameters
    ----------
    values
        Floats (NaN stays NaN).
    ndigits
        Decimals to keep, 0 or more.

    Returns
    -------
    ndarray
        The rounded values, equal to the bit (the sign of zero too) to ``round``'s.

    Examples
    --------
    >>> rounded(np.array([0.05, 0.15, 0.25, 2.675, -0.04, np.nan]), 1).tolist()
    [0.1, 0.1, 0.2, 2.7, -0.0, nan]
    >>> [round(v, 1) for v in (0.05, 0.15, 0.25, 2.675, -0.04)]
    [0.1, 0.1, 0.2, 2.7, -0.0]
    """
    x = np.asarray(values, dtype=float)
    if ndigits == 0:
        whole: np.ndarray = np.rint(x)
        return whole
    scale = 10.0**ndigits
    with np.errstate(invalid="ignore", over="ignore"):
        y = x * scale
        out = np.rint(y) / scale
        off_half = np.abs(y - np.floor(y) - 0.5)
        sure = ((off_half > 2 * np.spacing(np.abs(y))) & (np.abs(y) < 2.0**51)) | np.isnan(x)
    flat, xs = out.reshape(-1), x.reshape(-1)  # any shape: the values one after another
    for i in np.flatnonzero(~sure).tolist():  # ties, near-ties and huge values: Python decides
        flat[i] = round(float(xs[i]), ndigits)
    return out


def rounded_days(days: np.ndarray) -> np.ndarray:
    """:func:`~geo.analysis.stats.round_days` of each value, at once (equal to the bit).

    >>> rounded_days(np.array([0.02, 0.0, 2.34, -1.0])).tolist()
    [0.1, 0.0, 2.3, 0.0]
    """
    d = np.asarray(days, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(d > 0, np.maximum(rounded(d, 1), 0.1), 0.0)


def route_totals(part: NetworkPart, km: np.ndarray, codes: Sequence[str]) -> np.ndarray:
    """The numbers of the routes through one network part, rounded as the rows are.

    :func:`unrounded_totals`, then :func:`round_totals`.

    Parameters
    ----------
    part
        The shared network legs, summarised.
    km, codes
        Per deposit: its access leg's km and the country the leg runs in.

    Returns
    -------
    ndarray
        One row per name of :data:`NUMBERS` (km, then days, USD and kg CO2e per TEU, each
        low, typical and high), one column per deposit; NaN where the route has no such figure.
    """
    return round_totals(unrounded_totals(part, km, codes))


def round_totals(total: np.ndarray) -> np.ndarray:
    """Route numbers (rows as :data:`NUMBERS`) rounded as route_stats rounds them, at once.

    Km to 0.1, days by :func:`~geo.analysis.stats.round_days`, USD and kg CO2e to whole
    units (:func:`rounded`: equal to the bit to Python's ``round``); NaN stays NaN (no
    route, or no such figure).
    """
    out = np.empty_like(total)
    out[0] = rounded(total[0], 1)
    out[1:4] = rounded_days(total[1:4])
    out[1:4][np.isnan(total[1:4])] = np.nan  # no route: no days (round_days would say 0)
    out[4:] = rounded(total[4:], 0)
    return out


def unrounded_totals(part: NetworkPart, km: np.ndarray, codes: Sequence[str]) -> np.ndarray:
    """The numbers of the routes through one network part, before rounding.

    Every number is added in the order :func:`summarise_supply_route` adds it (the access leg,
    then each network leg, then the transfers), so that, rounded by :func:`round_totals`, the
    results are equal to the last bit to those of the whole leg lists, not merely close. The
    supply table rounds the routes of every part at once.

    Parameters
    ----------
    part
        The shared network legs, summarised.
    km, codes
        Per deposit: its access leg's km and the country the leg runs in.

    Returns
    -------
    ndarray
        One row per name of :data:`NUMBERS` (km, then days, USD and kg CO2e per TEU, each
        low, typical and high), one column per deposit; NaN where the route has no such figure.
    """
    n = len(km)
    code_arr = np.asarray(codes, dtype=object)
    # the access road, in its own country, crosses a border where the first leg starts abroad
    entered = (code_arr != part.first_land) if part.first_land else np.zeros(n, dtype=bool)
    crossings = part.crossings + entered.astype(int)
    waits = (part.crossings if part.waits < 0 else part.waits) + entered.astype(int)
    # the access road meets the first leg: a change of mode unless that is a road too
    changes = part.mode_changes + int(not part.whole and part.first_mode not in (None, "road"))
    road = _road_rates()
    # one row per number: the access road first, then each network leg added in travel order
    # (one array operation per leg for all ten numbers; each element is summed in the same
    # order as summarise_supply_route sums it, so the results are the same to the bit)
    total = 0.0 + np.vstack([km, km / road[1:4, None], road[4:, None] * km])
    if part.costs is None:
        total[4:7] = np.nan
    if part.co2 is None:
        total[7:] = np.nan
    for leg in part.leg_numbers:
        total += leg[:, None]
    waited = crossing_days(waits, part.gauge_breaks)
    for i in range(3):
        total[1 + i] = total[1 + i] + waited[i]
    usd = _transfer_rates()  # route_cost_usd's order after the legs: borders, gauges, handling
    total[4:7] = total[4:7] + usd[0][:, None] * crossings
    total[4:7] = total[4:7] + usd[1][:, None] * part.gauge_breaks
    total[4:7] = total[4:7] + usd[2][:, None] * changes
    return total


def _road_rates() -> np.ndarray:
    """What one km of the access road adds, one value per row of :data:`NUMBERS`.

    1 km; the road speed's three cases (km per day, to divide by); its USD and kg CO2e per
    TEU-km (low, typical, high).
    """
    t = cost_table()
    kg = t.get("co2e_road_kg_per_tkm").product(t.get("payload_t_per_teu"))
    usd = t.get("road_usd_per_teu_km")
    speeds = transit_parameters().triple("road_km_per_day")
    return np.array([1.0, *speeds, usd.low, usd.typical, usd.high, kg.low, kg.typical, kg.high])


def _transfer_rates() -> list[np.ndarray]:
    """USD per TEU of a border crossing, a gauge change and a change of mode (low, typ, high)."""
    t = cost_table()
    keys = ("border_usd_per_teu", "gauge_change_usd_per_teu", "port_handling_usd_per_teu")
    return [np.array([t.get(k).low, t.get(k).typical, t.get(k).high]) for k in keys]


def _values(row: np.ndarray) -> list[float | None]:
    """A row of numbers as values: None where NaN (no route, or no such figure)."""
    return [None if v != v else v for v in row.tolist()]


def combine_access(
    part: NetworkPart, names: Sequence[str], km: np.ndarray, codes: Sequence[str]
) -> dict[str, list[Any]]:
    """The supply-route columns of deposits whose routes share one network part.

    The numbers come from :func:`route_totals` (equal to the last bit to
    :func:`summarise_supply_route` of the whole leg lists).

    Parameters
    ----------
    part
        The shared network legs, summarised.
    names, km, codes
        Per deposit: its name, its access leg's km and the country the leg runs in.

    Returns
    -------
    dict
        The columns of :data:`ROUTE_FIELDS` (:data:`NUMBERS`, then ``countries``,
        ``transits_russia``, ``transits_china``, ``main_corridor``, ``path``, ``blocked``);
        one value per deposit.
    """
    totals = route_totals(part, km, codes)
    return {
        **{k: _values(totals[i]) for i, k in enumerate(NUMBERS)},
        **route_texts(part, names, km, codes),
    }


def route_texts(
    part: NetworkPart, names: Sequence[str], km: np.ndarray, codes: Sequence[str]
) -> dict[str, list[Any]]:
    """The columns of :data:`ROUTE_TEXTS` of :func:`combine_access`, without its numbers."""
    n = len(km)
    code_arr = np.asarray(codes, dtype=object)
    positive = km > 0
    countries: dict[str, list[str]] = {}
    for c in dict.fromkeys(codes):
        countries[c] = list(dict.fromkeys([c, *part.runs]))
    stops = list(part.stops) if part.whole else [part.node_name, *part.stops]
    return {
        # one list per country of access, shared by its rows: 100k copies cost seconds of GC
        "countries": [countries[c] for c in codes],
        "transits_russia": (part.russia | ((code_arr == "RUS") & positive)).tolist(),
        "transits_china": (part.china | ((code_arr == "CHN") & positive)).tolist(),
        "main_corridor": [part.main_corridor] * n,
        "path": [[name, *stops] for name in names],
        "blocked": [None] * n,
    }


# One node's way to a market along the search tree: (its legs, the raw legs of the first run)
_Chain = tuple[list[Leg], list[Leg]]


class _Solver:
    """Best routes from every deposit to one market under one constraint set.

    One search per constraint set and market gives a shortest-path tree: the way from a node
    is its edge to the next node toward the market, then that node's way. So every node's legs
    are built from its next node's, never from scratch: the edges as one more leg before the
    next node's, and the legs as find_route shows them (junction legs joined, as
    :func:`~geo.analysis.routing.coalesce` joins them) as the next node's legs with only the
    first one rebuilt when the new edge joins it, the rest shared.
    """

    def __init__(self, net: Network, access: dict[str, Leg] | None = None) -> None:
        self.net, self.access = net, access or {}
        self._graphs: dict[Constraints, nx.Graph] = {}
        self._trees: dict[tuple[Constraints, str], dict[str, str]] = {}
        self._raw: dict[tuple[Constraints, str], dict[str, list[Leg]]] = {}
        self._chains: dict[tuple[Constraints, str], dict[str, _Chain]] = {}
        self._why: dict[tuple[Constraints, str, str], str | None] = {}
        self._parts: dict[tuple[Constraints, str, str], NetworkPart | str] = {}
        self._made: dict[tuple[str, str, str], Leg] = {}
        # by the identities of the legs joined, and of a node's legs: parts of routes that
        # several constraint sets share (legs are kept by the solver, so no id is reused)
        self._joined: dict[tuple[int, ...], Leg] = {}
        self._same: dict[tuple[str, tuple[int, ...]], NetworkPart] = {}
        # by the leg's identity (a Leg holds a dict: it has no hash); the leg is kept with its
        # figures, so its id is not reused while the solver lives
        self._figures: dict[int, tuple[Leg, LegFigures]] = {}
        self._fields: dict[tuple[Constraints, str], list[Leg]] = {}

    def figures(self, leg: Leg) -> LegFigures:
        """The leg's figures, worked out once per leg: parts share most of their legs."""
        hit = self._figures.get(id(leg))
        if hit is None:
            hit = self._figures[id(leg)] = (leg, LegFigures.of(leg))
        return hit[1]

    def _leg(self, u: str, v: str, e: dict[str, Any]) -> Leg:
        """An edge's leg from ``u`` to ``v``, made once: routes to a market share their ends."""
        key = (u, v, str(e["id"]))
        leg = self._made.get(key)
        if leg is None:
            leg = self._made[key] = make_leg(self.net, u, v, e)
        return leg

    def _tree(self, c: Constraints, market: str) -> dict[str, str]:
        """Each node the search from ``market`` reaches (but the market): its next node there."""
        key = (c, market)
        if key not in self._trees:
            if c not in self._graphs:
                self._graphs[c] = allowed_subgraph(self.net, c)
            g = self._graphs[c]
            paths: dict[str, list[str]] = {}
            if market in g and not any(
                self.net.graph.nodes[market]["country"] == k for k in c.avoid_countries
            ):
                _, paths = nx.single_source_dijkstra(g, market, weight="weight")
            # a path is its next node's path and one more node (networkx extends the path of
            # a settled node), so the next nodes are the whole tree
            self._trees[key] = {n: p[-2] for n, p in paths.items() if len(p) > 1}
        return self._trees[key]

    def _along(
        self, c: Constraints, market: str, start: str, done: dict[str, Any], step: Any
    ) -> Any:
        """``done[start]``, made from the next node's value by ``step(leg, value)`` as needed.

        ``done`` holds the market's value and every value made so far; ``start`` is reached.
        """
        nxt, g = self._tree(c, market), self._graphs[c]
        todo = []
        n = start
        while n not in done:
            todo.append(n)
            n = nxt[n]
        for n in reversed(todo):  # from the nearest to the market out
            p = nxt[n]
            done[n] = step(self._leg(n, p, g[n][p]["edge"]), done[p])
        return done[start]

    def _blocked_why(self, c: Constraints, start: str, market: str) -> str | None:
        """find_route's RouteError text when ``start`` has no way to ``market``, else None."""
        key = (c, start, market)
        if key not in self._why:
            nxt = self._tree(c, market)
            why: str | None = None
            if self.net.graph.nodes[start]["country"] in c.avoid_countries or (
                start != market and start not in nxt
            ):
                try:  # no path: routing names what blocks it (from node ids: a junction has
                    # no name)
                    legs_between(self.net, [start, market], c)
                    why = "no route"  # pragma: no cover - the search and routing agree
                except RouteError as e:
                    why = str(e)
            self._why[key] = why
        return self._why[key]

    def edges(self, c: Constraints, start: str, market: str) -> list[Leg] | str:
        """One leg per network edge from ``start`` to ``market``, or find_route's RouteError text.

        ``start`` is a node id, a named place or a rail junction (an access leg may end at
        either); the legs are those of the network's edges, for drawing them shared.
        """
        why = self._blocked_why(c, start, market)
        if why is not None:
            return why
        done = self._raw.setdefault((c, market), {market: []})
        out: list[Leg] = self._along(c, market, start, done, lambda leg, rest: [leg, *rest])
        return out

    def network_legs(self, c: Constraints, start: str, market: str) -> list[Leg] | str:
        """The legs from ``start`` to ``market`` as find_route gives them, or why there are none.

        Consecutive junction legs are joined as :func:`~geo.analysis.routing.coalesce` joins
        them, so the path and every sum are those of :func:`~geo.analysis.routing.find_route`
        and :func:`~geo.analysis.stats.route_stats`, added in the same order.
        """
        why = self._blocked_why(c, start, market)
        if why is not None:
            return why
        done = self._chains.setdefault((c, market), {market: ([], [])})
        chain: _Chain = self._along(c, market, start, done, self._prepend)
        return chain[0]

    def _prepend(self, leg: Leg, rest: _Chain) -> _Chain:
        """The chain of a node whose edge to the next node is ``leg``; ``rest`` is that node's.

        Coalescing reads legs front to back and joins a leg to the run before it when the two
        are :func:`~geo.analysis.routing.joinable`, so a leg put in front changes only the
        first run: it joins it (the first leg is rebuilt from the longer run, by the same
        :func:`~geo.analysis.routing.join_legs`) or starts a run of its own.
        """
        legs, run = rest
        if run and joinable(leg, run[0], self.net):
            longer = [leg, *run]
            key = tuple(id(x) for x in longer)  # made legs live as long as the solver
            joined = self._joined.get(key)
            if joined is None:  # the same run under another constraint set: the same leg
                joined = self._joined[key] = join_legs(longer)
            return [joined, *legs[1:]], longer
        return [leg, *legs], [leg]

    def legs(self, c: Constraints, dep_id: str, market: str) -> list[Leg] | str:
        """The deposit's access leg and the network legs to ``market``, or why there are none."""
        access = self.access[dep_id]
        legs = self.network_legs(c, access.to_id, market)
        return legs if isinstance(legs, str) else [access, *legs]

    def fuel_legs(
        self, c: Constraints, dep_id: str, commodity: str, market: str
    ) -> list[Leg] | str:
        """An oil or gas field's route as ``corridor route`` finds it, or why there is none.

        The commodity's preferred modes first (pipe and tanker), from the field's gathering leg
        to each nearby line (the shortest of them), then its other modes (rail tank cars) from
        the field's road; ``c``'s avoided countries and passages and statuses are kept.
        """
        why: str | None = None
        for t in commodity_tries(c, commodity):
            key = (t, dep_id)
            if key not in self._fields:
                self._fields[key] = field_access_legs(self.net, dep_id, t)[:FIELD_TRIES]
            best: tuple[float, list[Leg]] | None = None
            for access in self._fields[key]:
                legs = self.network_legs(t, access.to_id, market)
                if isinstance(legs, str):  # named by the field, as corridor route names it
                    why = why or legs.replace(f"no route from {access.to_name}",
                                              f"no route from {access.from_name} (by its "
                                              f"{t.fuel} lines)", 1)  # fmt: skip
                    continue
                total = access.length_km + sum(leg.length_km for leg in legs)
                if best is None or total < best[0]:
                    best = (total, [access, *legs])
            if best is not None:
                return best[1]
            if t.modes - {"pipeline"}:  # freight modes too: from the field's road, as any deposit
                road = self.road_access(dep_id)
                found = self.network_legs(t, road.to_id, market)
                if not isinstance(found, str):
                    return [road, *found]
                why = found
        return why or f"no {commodity} route from this field"

    def road_access(self, dep_id: str) -> Leg:
        """The deposit's road to the network (made once)."""
        if dep_id not in self.access:
            deps = deposit_row(self.net, dep_id)
            self.access.update(build_access_legs(self.net, deps))
        return self.access[dep_id]

    def best(self, c: Constraints, dep_id: str, market: str) -> SupplyRoute:
        legs = self.legs(c, dep_id, market)
        if isinstance(legs, str):
            return _blocked(legs)
        return summarise_supply_route(legs)

    def part(self, c: Constraints, start: str, market: str) -> NetworkPart | str:
        """The network legs from ``start`` to ``market`` summarised, or why there are none."""
        key = (c, start, market)
        if key not in self._parts:
            legs = self.network_legs(c, start, market)
            if isinstance(legs, str):
                self._parts[key] = legs
            else:  # a route that several constraint sets share is summarised once
                name = str(self.net.graph.nodes[start]["name"])
                same = (name, tuple(id(leg) for leg in legs))
                if same not in self._same:
                    self._same[same] = NetworkPart.of(name, legs, figures=self.figures)
                self._parts[key] = self._same[same]
        return self._parts[key]


def _output(v: Any, u: Any) -> tuple[float | None, str | None]:
    """A deposit's output value and unit, or (None, None) where either is missing."""
    if is_missing(v) or not isinstance(u, str) or not u:
        return None, None
    return float(v), u


def exports(
    *,
    markets: Sequence[str] | None = None,
    commodities: Sequence[str] | None = None,
    avoid: Sequence[str] = (),
    status: str | Sequence[str] | None = None,
    by: str = "km",
    network: Network | None = None,
) -> pd.DataFrame:
    """Every deposit's best route to every market, under ``avoid`` and without it.

    Parameters
    ----------
    markets
        Node ids or names of the market ports; default :data:`MARKETS` (those in the network).
    commodities
        Keep deposits producing any of these (names of the deposit schema); default all.
    avoid
        Countries (alpha-3) and sea passages the route must avoid, as ``corridor route --avoid``.
    status
        Segment statuses allowed (``all`` for every one); default operational.
    by
        What each route minimises: ``km`` (default), ``days``, ``cost`` or ``co2`` (as
        ``corridor route --by``).
    network
        The network; default the bundled and user layers (deposits included).

    Returns
    -------
    DataFrame
        One row per deposit and market (columns :data:`COLUMNS`): the best route under the
        constraints (``km``; ``transit_days_low``/``_typical``/``_high``;
        ``cost_usd_per_teu_*`` and ``co2e_kg_per_teu_*``, low, typical and high, as
        :func:`~geo.analysis.stats.route_stats` gives them, None for a route with a pipeline
        leg: no tariff or intensity per TEU is modelled for a pipe; ``countries`` in order,
        ``transits_russia``, ``transits_china``, ``main_corridor``: the corridor with most km,
        ``path``) or ``blocked``: the constraint that blocks it; the unconstrained best
        (``shortest_*``) and what the best adds to it (``extra_*``); and the best avoiding
        Russia (``rus_free_*``) and Russia and China (``rus_chn_free_*``), each also avoiding
        ``avoid``, with what each adds to the unconstrained best (``rus_free_extra_*``,
        ``rus_chn_free_extra_*``). Every extra is an ordered range (:func:`extra_numbers`).

    Examples
    --------
    >>> frame = exports(markets=["rotterdam_port"], commodities=["uranium"],
    ...                 avoid=["RUS"])  # doctest: +SKIP
    >>> frame[["deposit", "km", "extra_km"]].head()  # doctest: +SKIP
    """
    net = network or load_network()
    st = option_values(status, "--status") or None
    av = option_values(avoid, "--avoid")
    constrained = make_constraints(av, None, st, by=by)
    base = make_constraints([], None, st, by=by)
    free = {k: make_constraints([*av, *codes], None, st, by=by) for k, codes in FREE_OF.items()}
    market_ids = resolve_markets(net, markets)
    deps = select_deposits(net, commodities)
    sets = {"best": constrained, "short": base, **free}
    solver, table = _Solver(net), access_table(net, deps)
    per_market = [_market_columns(net, deps, sets, m, solver, table) for m in market_ids]
    n_m = len(market_ids)
    # rows run deposit by deposit, each deposit's markets in the order given
    cols: dict[str, list[Any] | np.ndarray] = {
        k: vs if n_m == 1 else [v for v in vs for _ in range(n_m)]
        for k, vs in _deposit_columns(deps).items()
    }
    for key in per_market[0] if per_market else ():
        cols[key] = _interleave([pm[key] for pm in per_market])
    frame = pd.DataFrame({k: cols.get(k, []) for k in COLUMNS}, columns=list(COLUMNS))
    frame.attrs.update(
        markets=market_ids,
        avoid=sorted(constrained.avoid_countries | constrained.avoid_passages),
        status=sorted(constrained.statuses),
    )
    return frame


def _interleave(per_market: list[list[Any] | np.ndarray]) -> list[Any] | np.ndarray:
    """One column of the frame from one per market: deposit by deposit, markets in order.

    A number column stays a float array (pandas reads a list of floats and None the same way,
    as float64 with NaN), but one with no number at all is a list of None, an object column,
    as it was when every column was a list.
    """
    if not isinstance(per_market[0], np.ndarray):
        if len(per_market) == 1:
            return per_market[0]
        return [v for vs in zip(*per_market, strict=True) for v in vs]
    arr = per_market[0] if len(per_market) == 1 else np.stack(per_market, axis=1).ravel()
    return [None] * len(arr) if np.isnan(arr).all() else arr


def _deposit_columns(deps: pd.DataFrame) -> dict[str, list[Any]]:
    """The columns that describe the deposit itself, one value per deposit."""
    n = len(deps)
    values = deps["output_value"].tolist() if "output_value" in deps else [None] * n
    units = deps["output_unit"].tolist() if "output_unit" in deps else [None] * n
    outputs = [_output(v, u) for v, u in zip(values, units, strict=True)]
    return {
        "deposit": [str(v) for v in deps["id"]],
        "name": deps["name"].tolist(),
        "commodities": [list(c) for c in deps["commodities"]],
        "country": deps["country"].tolist(),
        "output_value": [o[0] for o in outputs],
        "output_unit": [o[1] for o in outputs],
    }


def _route_columns(
    solver: _Solver,
    c: Constraints,
    market: str,
    deps: pd.DataFrame,
    t: AccessTable | None,
    *,
    texts: bool = True,
) -> tuple[np.ndarray, dict[str, list[Any]]]:
    """Each deposit's best route to ``market`` under ``c``: one network part per access node.

    Returns the numbers (one row per name of :data:`NUMBERS`, one column per deposit, NaN:
    no route or no such figure) and the columns of :data:`ROUTE_TEXTS` (without ``texts``,
    only ``blocked``: the table shows the others of one constraint set alone).
    """
    n = len(deps)
    numbers = np.full((len(NUMBERS), n), np.nan)
    keys = ROUTE_TEXTS if texts else ("blocked",)
    if t is None:  # pragma: no cover - a network with deposits has linked nodes
        return numbers, {k: [None] * n for k in keys}
    names = [str(v) for v in deps["name"]]
    got: dict[str, list[Any]] = {k: [] for k in keys}
    order = []
    for node, rows in pd.Series(range(n)).groupby(t.node, sort=False).indices.items():
        part = solver.part(c, str(node), market)
        m = len(rows)
        found: dict[str, list[Any]]
        if isinstance(part, str):
            found = {"blocked": [part] * m}
            if texts:
                found.update({
                    "countries": [[] for _ in rows], "transits_russia": [None] * m,
                    "transits_china": [None] * m, "main_corridor": [None] * m,
                    "path": [[] for _ in rows],
                })  # fmt: skip
        else:
            km, codes = t.km[rows], list(t.code[rows])
            numbers[:, rows] = unrounded_totals(part, km, codes)
            found = (route_texts(part, [names[i] for i in rows], km, codes) if texts
                     else {"blocked": [None] * m})  # fmt: skip
        for k in keys:
            got[k] += found[k]
        order.append(rows)
    # back to the deposits' order: where each deposit's values lie in the lists (past the end:
    # a deposit no group holds, left None)
    held = np.concatenate(order) if order else np.empty(0, dtype=np.intp)
    at = np.full(n, len(held), dtype=np.intp)
    at[held] = np.arange(len(held))
    where = at.tolist()
    return round_totals(numbers), {k: _gather(vs, where) for k, vs in got.items()}


def _gather(values: list[Any], where: list[int]) -> list[Any]:
    """``values[j]`` for each ``j`` of ``where`` (``len(values)``: None)."""
    padded = [*values, None]
    return [padded[j] for j in where]


ROUTE_FIELDS = (*NUMBERS, *ROUTE_TEXTS)  # the fields of SupplyRoute, the columns of a route


def extra_numbers(route: np.ndarray, base: np.ndarray) -> np.ndarray:
    """What routes add to other routes: km, days, USD and kg CO2e, each as an ordered range.

    The typical extra is the typical figures' difference; low and high are the least and the
    most of the three cases' differences, as :func:`geo.analysis.costs.extra_span` gives them
    (avoiding a country can cost more in the fast case than in the slow one), so low <=
    typical <= high on every row. Rounded as the figures are (:data:`DECIMALS`).

    Parameters
    ----------
    route, base
        One row per name of :data:`NUMBERS`, one column per route (NaN: no figure).

    Returns
    -------
    ndarray
        ``route - base`` in the same shape; NaN where either lacks the figure.

    Examples
    --------
    >>> a = np.array([[10.0], [2.0], [3.0], [4.0], [900], [1000], [1100], [50], [60], [70]])
    >>> b = np.array([[7.5], [1.0], [2.5], [3.5], [800], [800], [800], [50], [50], [50]])
    >>> extra_numbers(a, b)[:, 0].tolist()
    [2.5, 0.5, 0.5, 1.0, 100.0, 200.0, 300.0, 0.0, 10.0, 20.0]
    """
    out = np.full(route.shape, np.nan)
    d = route - base
    out[0] = rounded(d[0], DECIMALS["km"])
    for j, f in enumerate(FIGURES):
        rows = d[1 + 3 * j : 4 + 3 * j]
        with np.errstate(invalid="ignore"):
            ends = (rows.min(axis=0), rows[1], rows.max(axis=0))
        for i, v in enumerate(ends):
            out[1 + 3 * j + i] = rounded(v, DECIMALS[f])
    return out


def _market_columns(
    net: Network,
    deps: pd.DataFrame,
    sets: Mapping[str, Constraints],
    market: str,
    solver: _Solver,
    t: AccessTable | None,
) -> dict[str, list[Any] | np.ndarray]:
    """The route columns of :data:`COLUMNS` for every deposit and one market.

    Numbers come as float arrays (NaN: none), the other columns as lists.
    """
    n = len(deps)
    found: dict[Constraints, tuple[np.ndarray, dict[str, list[Any]]]] = {}
    fuels = _fuel_rows(deps)
    for c in dict.fromkeys(sets.values()):
        numbers, texts = found[c] = _route_columns(solver, c, market, deps, t,
                                                   texts=c == sets["best"])  # fmt: skip
        for i, (dep_id, commodity) in fuels.items():  # oil and gas by their own modes
            legs = solver.fuel_legs(c, dep_id, commodity, market)
            r = _blocked(legs) if isinstance(legs, str) else summarise_supply_route(legs)
            numbers[:, i] = [np.nan if v is None else v for v in (getattr(r, k) for k in NUMBERS)]
            for k, column in texts.items():
                column[i] = getattr(r, k)
    (best, best_texts), (short, _) = found[sets["best"]], found[sets["short"]]
    cols: dict[str, list[Any] | np.ndarray] = {
        "market": [market] * n, "market_name": [net.graph.nodes[market]["name"]] * n,
        **dict(zip(NUMBERS, best, strict=True)), **best_texts,
        **{f"shortest_{k}": v for k, v in zip(NUMBERS, short, strict=True)},
        **{f"extra_{k}": v for k, v in zip(NUMBERS, extra_numbers(best, short), strict=True)},
    }  # fmt: skip
    for key in FREE_OF:
        free, free_texts = found[sets[key]]
        cols.update({f"{key}_free_{k}": v for k, v in zip(NUMBERS, free, strict=True)})
        cols[f"{key}_free_blocked"] = free_texts["blocked"]
        extra = extra_numbers(free, short)
        cols.update({f"{key}_free_extra_{k}": v for k, v in zip(NUMBERS, extra, strict=True)})
    return cols


def _fuel_rows(deps: pd.DataFrame) -> dict[int, tuple[str, str]]:
    """Row -> (deposit id, commodity) of the deposits that travel by pipeline (oil, gas)."""
    if "commodities" not in deps:
        return {}
    out = {}
    for i, (dep_id, comms) in enumerate(zip(deps["id"], deps["commodities"], strict=True)):
        commodity = fuel_commodity(comms)
        if commodity is not None:
            out[i] = (str(dep_id), commodity)
    return out


def resolve_markets(net: Network, markets: Sequence[str] | str | None) -> list[str]:
    """Market node ids in the order given, each once (``Yokohama`` and ``yokohama_port`` too).

    Parameters
    ----------
    net
        The network the markets are nodes of.
    markets
        Node ids or names (comma lists allowed); None for :data:`MARKETS` in the network.

    Returns
    -------
    list of str
        Node ids.

    Raises
    ------
    RouteError
        A market that is not a place of the network.
    """
    if markets is None:
        return [m for m in MARKETS if m in net.graph]
    ids = [resolve(net, m, what="--market")[1] for m in option_values(markets, "--market")]
    return list(dict.fromkeys(ids))


def select_deposits(net: Network, commodities: Sequence[str] | str | None) -> pd.DataFrame:
    """The network's deposits (a user's copy of an id replaces ours), filtered by commodity.

    Parameters
    ----------
    net
        The network whose deposits are read (it is not changed).
    commodities
        Keep deposits producing any of these (comma lists allowed); None keeps every deposit.

    Returns
    -------
    DataFrame
        The deposits kept, one row per id.

    Raises
    ------
    RouteError
        A commodity the deposit schema does not know.
    """
    deps = net.deposits.drop_duplicates("id", keep="last")
    if commodities is not None:
        wanted = set(option_values(commodities, "--commodity"))
        unknown = sorted(wanted - set(COMMODITIES))
        if unknown:
            msg = f"commodities: '{unknown[0]}' is not one of {', '.join(COMMODITIES)}"
            raise RouteError(msg)
        keep = deps["commodities"].apply(lambda cs: isinstance(cs, list) and bool(wanted & set(cs)))
        deps = deps[keep]
    return deps


def export_legs(
    *,
    markets: Sequence[str] | None = None,
    commodities: Sequence[str] | None = None,
    avoid: Mapping[str, Sequence[str]] | None = None,
    status: str | Sequence[str] | None = None,
    by: str = "km",
    network: Network | None = None,
) -> dict[tuple[str, str], dict[str, list[Leg] | str]]:
    """The legs of every deposit's best route to every market, under named constraint sets.

    The routes behind the rows of :func:`exports` (same network, same searches), for drawing
    them. ``avoid`` names what each set avoids (default ``{"avoid": ["RUS"]}``); the
    unconstrained route comes as ``"shortest"``. Returns ``{(deposit id, market id): {name:
    legs or why there are none}}``, each list of legs in travel order starting with the
    deposit's access leg; one search per set and market serves every deposit.
    """
    net = network or load_network()
    named = _named_sets(avoid, status, by)
    deps = select_deposits(net, commodities)
    market_ids = resolve_markets(net, markets)
    solver = _Solver(net, build_access_legs(net, deps))
    fuels = dict(_fuel_rows(deps).values())
    out: dict[tuple[str, str], dict[str, list[Leg] | str]] = {}
    for dep_id in deps["id"].astype(str):
        for m in market_ids:
            out[(dep_id, m)] = {
                k: (solver.fuel_legs(c, dep_id, fuels[dep_id], m) if dep_id in fuels
                    else solver.legs(c, dep_id, m))
                for k, c in named.items()
            }  # fmt: skip
    return out


@dataclass(frozen=True)
class SupplyParts:
    """Every deposit's routes to every market, as shared network parts per access node.

    ``table`` holds each deposit's access leg (row ``i`` is the ``i``-th row of ``deposits``);
    ``legs`` and ``parts`` are keyed by (constraint set name, access node id, market id): the
    network legs from that node to that market, one per edge so that routes share their lines
    (or why there are none), and the same route summarised for :func:`route_totals` and
    :func:`combine_access` (its junction legs joined, as find_route shows them).
    """

    deposits: pd.DataFrame
    markets: list[str]
    table: AccessTable | None
    legs: dict[tuple[str, str, str], list[Leg] | str]
    parts: dict[tuple[str, str, str], NetworkPart | str]
    # oil and gas fields go by their own modes: each is a group of its own, keyed
    # "field:<deposit id>" in ``table.node`` (km 0: its part holds its whole route, gathering
    # leg first), and this gives the key's point (lon, lat), where its route starts
    points: dict[str, tuple[float, float]] = dataclass_field(default_factory=dict)


FIELD_NODE = "field:"  # the key of an oil or gas field's own group in SupplyParts


def _named_sets(
    avoid: Mapping[str, Sequence[str]] | None, status: str | Sequence[str] | None, by: str = "km"
) -> dict[str, Constraints]:
    st = option_values(status, "--status") or None
    sets = {"avoid": ("RUS",)} if avoid is None else avoid
    named = {k: make_constraints(v, None, st, by=by) for k, v in sets.items()}
    named["shortest"] = make_constraints([], None, st, by=by)
    return named


def supply_parts(
    *,
    markets: Sequence[str] | None = None,
    commodities: Sequence[str] | None = None,
    avoid: Mapping[str, Sequence[str]] | None = None,
    status: str | Sequence[str] | None = None,
    by: str = "km",
    network: Network | None = None,
) -> SupplyParts:
    """The routes of :func:`export_legs`, kept as one network part per access node.

    Deposits that reach the network at the same node share its legs to each market, so a map
    of 100,000 deposits needs the legs of a few hundred nodes, not of every deposit. Arguments
    as :func:`export_legs` (``"shortest"`` is added to the named sets).

    Returns
    -------
    SupplyParts
        The deposits, markets, access table and the parts of every access node.
    """
    net = network or load_network()
    named = _named_sets(avoid, status, by)
    deps = select_deposits(net, commodities)
    market_ids = resolve_markets(net, markets)
    solver, table = _Solver(net), access_table(net, deps)
    nodes = [] if table is None else list(dict.fromkeys(str(v) for v in table.node.tolist()))
    legs: dict[tuple[str, str, str], list[Leg] | str] = {}
    parts: dict[tuple[str, str, str], NetworkPart | str] = {}
    fuels = _fuel_rows(deps)
    for name, c in named.items():
        for node in nodes:
            for m in market_ids:
                legs[(name, node, m)] = solver.edges(c, node, m)
                parts[(name, node, m)] = solver.part(c, node, m)
    points: dict[str, tuple[float, float]] = {}
    if table is not None and fuels:
        node_col, km = table.node.copy(), table.km.copy()
        for i, (dep_id, commodity) in fuels.items():
            key = f"{FIELD_NODE}{dep_id}"
            node_col[i], km[i] = key, 0.0
            points[key] = (float(table.x[i]), float(table.y[i]))
            for name, c in named.items():
                for m in market_ids:
                    found = solver.fuel_legs(c, dep_id, commodity, m)
                    legs[(name, key, m)] = found
                    parts[(name, key, m)] = found if isinstance(found, str) else (
                        NetworkPart.of(found[0].from_name, found, whole=True))  # fmt: skip
        table = AccessTable(table.x, table.y, node_col, km, table.code)
        kept = set(node_col.tolist())
        for k in [k for k in legs if k[1] not in kept]:  # railheads only fields' roads reached
            legs.pop(k)
            parts.pop(k)
    return SupplyParts(deps, market_ids, table, legs, parts, points)


def exports_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """How many deposits can avoid Russia (and China), per commodity, country and market.

    Each row also says what those deposits produce and what avoiding costs.

    Parameters
    ----------
    frame
        The result of :func:`exports`.

    Returns
    -------
    DataFrame
        Columns ``by`` ("commodity" or "country"), ``group``, ``market``, ``deposits``,
        ``routes`` (deposits with a route under the frame's constraints), ``rus_free`` and
        ``rus_chn_free`` (deposits with a route avoiding Russia, and Russia and China),
        ``output`` ({unit: summed output_value} over the group's deposits that state one),
        then ``median_extra_<number>_rus`` for each of :data:`NUMBERS` (km, transit days, USD
        and kg CO2e per TEU, each low, typical and high) and the same for ``rus_chn``: the
        median of the frame's ``rus_free_extra_*`` columns (what the free route costs more than
        the unconstrained one) over the deposits that have the figure (both routes, and for
        money and carbon no pipeline on either: None where none has it).
    """
    extras = [f"median_extra_{w}_{k}" for k in FREE_OF for w in NUMBERS]
    out_cols = ["by", "group", "market", "deposits", "routes", "rus_free", "rus_chn_free", "output",
                *extras]  # fmt: skip
    if frame.empty:
        return pd.DataFrame(columns=out_cols)
    triples = zip(frame["deposit"], frame["output_value"], frame["output_unit"], strict=True)
    output = {d: (float(v), u) for d, v, u in triples if isinstance(u, str)}
    long = frame.assign(commodity=frame["commodities"]).explode("commodity")
    rows = []
    for by, source in (("commodity", long), ("country", frame)):
        for (group, market), part in source.groupby([by, "market"], sort=True):
            sums: dict[str, float] = {}
            for dep_id in part["deposit"].unique():
                o = output.get(dep_id)
                if o is not None:
                    sums[o[1]] = sums.get(o[1], 0.0) + o[0]
            row: dict[str, Any] = {
                "by": by, "group": group, "market": market, "deposits": part["deposit"].nunique(),
                "routes": int(part["km"].notna().sum()),
                "rus_free": int(part["rus_free_km"].notna().sum()),
                "rus_chn_free": int(part["rus_chn_free_km"].notna().sum()),
                "output": {k: round(v, 3) for k, v in sorted(sums.items())},
            }  # fmt: skip
            for key in FREE_OF:
                for w in NUMBERS:
                    extra = pd.to_numeric(part[f"{key}_free_extra_{w}"]).dropna()
                    digits = DECIMALS[next((f for f in FIGURES if w.startswith(f)), "km")]
                    row[f"median_extra_{w}_{key}"] = (
                        round(float(extra.median()), digits) if len(extra) else None
                    )
            rows.append(row)
    return pd.DataFrame(rows, columns=out_cols)
