"""The Python API: functions that mirror the CLI and return (Geo)DataFrames.

>>> import geo
>>> legs = geo.route("Xi'an", "Duisburg", avoid=["RUS"])        # doctest: +SKIP
>>> legs.attrs["stats"]["transits_russia"]                       # doctest: +SKIP
False
"""

from __future__ import annotations

import difflib
import gc
import math
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from .analysis.capacity import CapacityResult, export_capacity
from .analysis.commodities import commodity_table
from .analysis.costs import CASES, extra_span
from .analysis.network import DEPOSIT_COLUMNS, Network, load_network
from .analysis.ports import find_alternatives_with_ports, find_route_with_ports, port_index
from .analysis.routing import (
    Constraints,
    Route,
    commodity_tries,
    find_route,
    fuel_commodity,
    make_constraints,
    normalise,
    option_values,
    resolve,
)
from .analysis.stats import DEFAULT_BUFFER_KM, legs_frame, reference_routes, route_stats
from .data.bundled import bundled_layers
from .data.layers import load_bundled
from .data.ports import sea_cache_dir
from .data.schema import COMMODITIES
from .data.store import id_clashes, user_dir, user_layers
from .errors import RouteError, ValidationError

FREEZE_ROWS = 100_000  # a store this large is kept out of the cyclic garbage collector's walks

# Origins of `corridor bypass`: Central Asian capitals and hubs present in the network.
BYPASS_ORIGINS = ("astana", "almaty", "tashkent", "ashgabat", "dostyk", "khorgos", "aktogay",
                  "andijan", "turkmenabat")  # fmt: skip


def check_buffer_km(buffer_km: object) -> float:
    """``buffer_km`` as a float, or a RouteError for NaN, infinity, a negative or a non-number.

    >>> check_buffer_km(25)
    25.0
    """
    try:
        km = float(buffer_km)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        km = math.nan
    if not math.isfinite(km) or km < 0:
        msg = (
            f"--buffer-km: '{buffer_km}' is not a distance; give a number of km, 0 or more "
            f"(e.g. {DEFAULT_BUFFER_KM:g})"
        )
        raise RouteError(msg)
    return km


def _store_key(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """What identifies the store's content: each file's name, modification time and size."""
    try:
        files = sorted(directory.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return ()
    except OSError:
        return (("?", 0, 0),)  # unreadable: let user_layers() say why, once
    out = []
    for f in files:
        try:
            st = f.stat()
        except OSError:
            continue
        out.append((f.name, st.st_mtime_ns, st.st_size))
    return tuple(out)


@lru_cache(maxsize=4)
def _stored(
    directory: str, key: tuple[tuple[str, int, int], ...], *, slim: bool = False
) -> tuple[gpd.GeoDataFrame, ...]:
    """The store's layers, read once per content of the store (``key``).

    ``slim`` reads of a deposit layer only :data:`geo.analysis.network.DEPOSIT_COLUMNS` (and its
    colour-by property): what a network for routes and statistics keeps.
    """
    layers = tuple(user_layers({"deposit": frozenset(DEPOSIT_COLUMNS)} if slim else None))
    if sum(map(len, layers)) >= FREEZE_ROWS:
        # The store's frames stay for the process (this cache): a million lists and texts that
        # the cyclic collector would otherwise walk again and again, and once more at exit
        # (0.6 s of a 1M-point store's `corridor route`). Frozen objects are still freed when
        # no longer referenced; only cycles among them are left to the process's end.
        gc.freeze()
    return layers


@lru_cache(maxsize=8)
def _stored_network(
    directory: str, key: tuple[tuple[str, int, int], ...], *, slim: bool
) -> Network:
    return _checked_network(_stored(directory, key, slim=slim), slim=slim)


def _checked_network(layers: Sequence[gpd.GeoDataFrame], *, slim: bool) -> Network:
    clashes = id_clashes(list(layers))
    if clashes:
        raise ValidationError(clashes)
    if slim and layers:  # with no layer it is the bundled network, built once per process
        return load_network(layers, deposit_columns=DEPOSIT_COLUMNS)
    return load_network(layers)


def stored_layers() -> tuple[gpd.GeoDataFrame, ...]:
    """The user's stored layers (:func:`geo.data.store.user_dir`), read again only if changed.

    Returns shared frames: copy one before changing it.
    """
    d = user_dir()
    return _stored(str(d), _store_key(d), slim=False)


def network(extra_layers: Sequence[gpd.GeoDataFrame] = (), *, slim: bool = False) -> Network:
    """The route network: the bundled layers, the user's stored layers and ``extra_layers``.

    The user's layer store is the one input the application adds; the analysis functions only
    see the network they are given. The store is read and the network built again only when a
    stored file changed (name, modification time, size). The graph is frozen.

    ``slim`` keeps of the deposits only :data:`geo.analysis.network.DEPOSIT_COLUMNS`, what
    routes, statistics, bypass and exports read: their answers are the same, and a stored
    deposit layer's other columns are not read at all (only ids, names, commodities, countries,
    status and output of a million points). Pages, whose popups show every column, take the
    full network.

    Raises
    ------
    ValidationError
        When a user or extra feature reuses the id of a bundled feature (or of another layer's
        feature) of its kind: building would silently replace the other one.
    """
    d = user_dir()
    key = _store_key(d)
    if not extra_layers:
        return _stored_network(str(d), key, slim=slim)
    return _checked_network([*_stored(str(d), key, slim=slim), *extra_layers], slim=slim)


def route(
    origin: str,
    destination: str,
    *,
    via: str | Sequence[str] = (),
    avoid: str | Sequence[str] = (),
    modes: str | Sequence[str] | None = None,
    status: str | Sequence[str] | None = None,
    buffer_km: float = DEFAULT_BUFFER_KM,
    extra_layers: Sequence[gpd.GeoDataFrame] = (),
    commodity: str | None = None,
    by: str = "km",
    nearby_limit: int | None = None,
) -> gpd.GeoDataFrame:
    """The best route under constraints: its legs, with statistics in ``attrs``.

    Parameters
    ----------
    origin, destination
        Places: a node id or name, or ``deposit:ID``.
    via
        One place or a sequence of places the route must pass, in order.
    avoid
        ISO alpha-3 country codes and sea passages to keep off the route.
    modes
        Transport modes the route may use (default every freight mode: rail, road, ferry,
        sea; with ``commodity``, the commodity's modes).
    status
        Segment statuses the route may use (default operational; ``all`` for every one).
    buffer_km
        Deposits within this many km (great-circle) of the route are counted; a finite number
        >= 0.
    extra_layers
        Layers added to the bundled and stored ones for this query only.
    commodity
        What travels (``layers/commodities.toml``): oil and condensate may also take oil
        pipelines, gas only gas pipelines; ``modes`` narrows the commodity's modes further.
    by
        What the route minimises: ``km`` (default), ``days``, ``cost`` (USD per TEU) or
        ``co2`` (kg CO2e per TEU), by the typical values of the parameter tables.
    nearby_limit
        Keep only this many of the nearest deposits in ``deposits_nearby["list"]`` (0: none;
        it then carries ``list_limit``); their count, ids and commodities still cover all.
        None (default) lists every one: a million stored points may put 100,000 near a route.

    ``avoid``, ``modes`` and ``status`` each take a string (one value or a comma list, as on
    the command line) or a sequence of strings.

    Returns
    -------
    GeoDataFrame
        One row per leg in travel order; ``attrs["stats"]`` holds every statistic,
        ``attrs["path"]`` the node names.

    Raises
    ------
    RouteError
        An unknown or ambiguous place or option value, a bad ``buffer_km``, or no path under
        the constraints.
    ValidationError
        An extra or stored feature reuses the id of another feature of its kind.
    """
    buffer_km = check_buffer_km(buffer_km)
    via = [via] if isinstance(via, str) else list(via)
    net = network(extra_layers, slim=True)
    what = commodity or origin_commodity(net, origin)
    tries = _constraint_tries(avoid, modes, status, what, by)
    for i, c in enumerate(tries):
        try:
            # a seaport off the network (any port by name or UN/LOCODE) joins by a sea leg
            r = find_route_with_ports(net, origin, destination, via=via, constraints=c,
                                      cache_dir=sea_cache_dir())  # fmt: skip
            break
        except RouteError:
            if i == len(tries) - 1:
                raise
    return _route_frame(r, net, buffer_km, what, nearby_limit)


def _route_frame(
    r: Route, net: Network, buffer_km: float, commodity: str | None, nearby_limit: int | None
) -> gpd.GeoDataFrame:
    """A found route as the API gives it: legs, with statistics, path and query in ``attrs``."""
    legs = legs_frame(r)
    legs.attrs["stats"] = route_stats(r, network=net, buffer_km=buffer_km,
                                      nearby_limit=nearby_limit)  # fmt: skip
    legs.attrs["path"] = r.path
    legs.attrs["query"] = {"from": r.origin, "to": r.destination, "via": list(r.via),
                           "commodity": commodity,
                           "constraints": r.constraints.describe()}  # fmt: skip
    return legs


def alternatives(
    origin: str,
    destination: str,
    n: int = 3,
    *,
    via: str | Sequence[str] = (),
    avoid: str | Sequence[str] = (),
    modes: str | Sequence[str] | None = None,
    status: str | Sequence[str] | None = None,
    buffer_km: float = DEFAULT_BUFFER_KM,
    extra_layers: Sequence[gpd.GeoDataFrame] = (),
    commodity: str | None = None,
    by: str = "km",
    nearby_limit: int | None = None,
) -> list[gpd.GeoDataFrame]:
    """Up to ``n`` routes that differ materially, the shortest first, each as :func:`route` gives.

    Alternatives are found by the penalty method (:func:`geo.analysis.routing.find_alternatives`):
    each kept route shares at most 70 % of its network km with every route kept before it, so
    one path with a parallel track swapped is not an alternative. An end may be a seaport off
    the network: the alternatives keep its sea leg and vary the part on the network (port to
    port by sea has one route). Arguments as :func:`route`.

    Returns
    -------
    list of GeoDataFrame
        One frame of legs per route, with ``attrs`` ``stats``, ``path`` and ``query``; fewer
        than ``n`` when the network offers fewer.
    """
    buffer_km = check_buffer_km(buffer_km)
    via = [via] if isinstance(via, str) else list(via)
    net = network(extra_layers, slim=True)
    what = commodity or origin_commodity(net, origin)
    tries = _constraint_tries(avoid, modes, status, what, by)
    for i, c in enumerate(tries):
        try:
            found = find_alternatives_with_ports(net, origin, destination, via=via, constraints=c,
                                                 n=n, cache_dir=sea_cache_dir())  # fmt: skip
            break
        except RouteError:
            if i == len(tries) - 1:
                raise
    return [_route_frame(r, net, buffer_km, what, nearby_limit) for r in found]


def origin_commodity(net: Network, origin: str) -> str | None:
    """What a deposit origin sends by default: its first commodity that travels by pipeline.

    None for any other origin, and for a deposit whose commodities all travel as freight
    (their rule's modes are the freight modes anyway).
    """
    try:
        kind, ident = resolve(net, origin, allow_deposit=True, what="origin")
    except RouteError:
        return None  # a seaport off the network, or a mistake the route search reports
    if kind != "deposit":
        return None
    rows = net.deposits[net.deposits["id"].astype(str) == ident].tail(1)
    return fuel_commodity(rows["commodities"].iloc[0]) if "commodities" in rows else None


def _constraint_tries(
    avoid: str | Sequence[str],
    modes: str | Sequence[str] | None,
    status: str | Sequence[str] | None,
    commodity: str | None,
    by: str = "km",
) -> list[Constraints]:
    """The constraints to try in order: a commodity's preferred modes first, then all of its.

    Oil goes by pipe and tanker where they reach the destination, and by rail tank car only
    where they do not (``prefer`` in layers/commodities.toml). Modes the caller names are
    tried as given.
    """
    full = _constraints(avoid, modes, status, commodity, by)
    if commodity is None or option_values(modes, "--modes"):
        return [full]
    return commodity_tries(full, commodity)


def _constraints(
    avoid: str | Sequence[str],
    modes: str | Sequence[str] | None,
    status: str | Sequence[str] | None,
    commodity: str | None,
    by: str = "km",
) -> Constraints:
    """The constraints of a query; a commodity brings its modes and pipeline fuel."""
    if commodity is None:
        return make_constraints(avoid, modes, status, by=by)
    if commodity not in COMMODITIES:
        close = difflib.get_close_matches(commodity, COMMODITIES, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        msg = f"--commodity: unknown commodity '{commodity}'{hint}"
        raise RouteError(msg)
    rule = commodity_table().rule(commodity)
    asked = option_values(modes, "--modes")
    allowed = [m for m in rule.modes if not asked or m in asked]
    if not allowed:
        msg = f"--modes: {commodity} travels only by {', '.join(rule.modes)}"
        raise RouteError(msg)
    return make_constraints(avoid, allowed, status, fuel=rule.fuel, by=by)


def reference_stats(
    route_ids: Sequence[str] | None = None,
    *,
    buffer_km: float = DEFAULT_BUFFER_KM,
    extra_layers: Sequence[gpd.GeoDataFrame] = (),
) -> gpd.GeoDataFrame:
    """Statistics of the reference routes, one row per route (geometry: the whole route).

    Parameters
    ----------
    route_ids
        The ids of ``layers/routes.toml`` to compute, in that order; default all of them.
    buffer_km
        Deposits within this many km (great-circle) of a route are counted.
    extra_layers
        Layers added to the bundled and stored ones for this call only.

    Returns
    -------
    GeoDataFrame
        See :func:`geo.analysis.stats.reference_routes` for the columns.
    """
    buffer_km = check_buffer_km(buffer_km)
    net = network(extra_layers, slim=True)
    return reference_routes(route_ids, network=net, buffer_km=buffer_km)


def _best(
    net: Network, origin: str, to: str, avoid: Sequence[str], status: Any, by: str = "km"
) -> dict[str, Any]:
    # an oil or gas field goes by its own modes (pipe and tanker first), as corridor route does
    tries = _constraint_tries(avoid, None, status, origin_commodity(net, origin), by)
    for i, c in enumerate(tries):
        try:
            r = find_route(net, origin, to, constraints=c)
            break
        except RouteError as e:
            if i == len(tries) - 1:
                return {"error": str(e)}
    s = route_stats(r, network=net)
    days = s["transit_days"]
    cost, co2 = s.get("cost_usd_per_teu") or {}, s.get("co2e_kg_per_teu") or {}
    return {"km": s["length_km"], "days_low": days["low"], "days_typical": days["typical"],
            "days_high": days["high"], "countries": s["countries"],
            "cost": cost.get("typical"), "co2": co2.get("typical")}  # fmt: skip


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b)


def bypass(
    *,
    to: str = "Duisburg",
    avoid: str | Sequence[str] = (),
    status: str | Sequence[str] | None = None,
    origins: str | Sequence[str] | None = None,
    extra_layers: Sequence[gpd.GeoDataFrame] = (),
    progress: Callable[[int, int], None] | None = None,
    by: str = "km",
) -> pd.DataFrame:
    """Per origin: the best route against the best avoiding Russia (and ``avoid``).

    Origins are the Central Asian capitals and hubs of :data:`BYPASS_ORIGINS` and every
    producing deposit (bundled and user), unless ``origins`` is given. An unknown ``to`` or
    ``avoid`` is refused up front (RouteError), not repeated as every row's note.

    Parameters
    ----------
    to
        The destination place.
    avoid
        What to avoid besides Russia: country codes and sea passages.
    status
        Segment statuses both routes may use (default operational).
    origins
        Places to route from instead of the default origins.
    extra_layers
        Layers added to the bundled and stored ones for this call only.
    progress
        Called as ``progress(done, total)`` before each origin is routed.
    by
        What both routes minimise: ``km`` (default), ``days``, ``cost`` or ``co2``.

    Returns
    -------
    DataFrame
        One row per origin: ``origin``, ``kind`` (``node`` or ``deposit``), ``shortest_km``,
        ``bypass_km``, ``extra_km`` and ``extra_days_low``/``_typical``/``_high`` (what avoiding
        costs, in km and days; low <= typical <= high, :func:`geo.analysis.costs.extra_span`),
        ``extra_cost_usd_per_teu`` and ``extra_co2e_kg_per_teu`` (typical values; None where a
        cost is not modelled), and a ``note`` (why a route is missing, or that the shortest
        already avoids). ``attrs`` holds ``to``, the full ``avoid`` list and ``by``.
    """
    st = option_values(status, "--status") or None
    checked = make_constraints(["RUS", *option_values(avoid, "--avoid")], None, st, by=by)
    avoid_all = sorted(checked.avoid_countries | checked.avoid_passages)
    net = network(extra_layers, slim=True)
    resolve(net, to, what="--to")
    if isinstance(origins, str):  # one origin, not its letters
        origins = [origins]
    if origins is None:
        nodes = [n for n in BYPASS_ORIGINS if n in net.graph and net.graph.degree(n)]
        deps = net.deposits
        producing = deps[deps.get("status", pd.Series(dtype=object)) == "producing"]
        origins = [*nodes, *(f"deposit:{d}" for d in producing["id"].astype(str))]
    rows = []
    for i, o in enumerate(origins):
        if progress is not None:
            progress(i, len(origins))
        free = _best(net, o, to, [], st, by)
        constrained = _best(net, o, to, avoid_all, st, by)
        kind, _, ident = o.partition(":") if o.startswith("deposit:") else ("node", "", o)
        row: dict[str, Any] = {"origin": ident, "kind": kind}
        if "error" in free:
            row.update(shortest_km=None, bypass_km=None, extra_km=None, extra_days_low=None,
                       extra_days_typical=None, extra_days_high=None,
                       extra_cost_usd_per_teu=None, extra_co2e_kg_per_teu=None,
                       note=free["error"])  # fmt: skip
        elif "error" in constrained:
            row.update(shortest_km=free["km"], bypass_km=None, extra_km=None,
                       extra_days_low=None, extra_days_typical=None, extra_days_high=None,
                       extra_cost_usd_per_teu=None, extra_co2e_kg_per_teu=None,
                       note=constrained["error"])  # fmt: skip
        else:
            days: list[dict[str, float]] = [
                {c: r[f"days_{c}"] for c in CASES} for r in (constrained, free)
            ]
            extra = extra_span(days[0], days[1])
            row.update(
                shortest_km=free["km"], bypass_km=constrained["km"],
                extra_km=round(constrained["km"] - free["km"], 1),
                extra_days_low=extra["low"], extra_days_typical=extra["typical"],
                extra_days_high=extra["high"],
                extra_cost_usd_per_teu=_minus(constrained["cost"], free["cost"]),
                extra_co2e_kg_per_teu=_minus(constrained["co2"], free["co2"]),
                note="shortest route already avoids " + ", ".join(avoid_all)
                if free["km"] == constrained["km"] else "",
            )  # fmt: skip
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame.attrs.update(to=to, avoid=avoid_all, by=by)
    return frame


# What the figure does not cover yet (issue 16), said in every row.
CAPACITY_CAVEAT = (
    "GEM nameplate capacities; lines join where GEM draws them meeting (within 7 km) or at a "
    "declared junction: a link GEM lacks (e.g. from Galkynysh to Central Asia-China A/B/C) is "
    "missing, and a line of unknown capacity makes the answer a range"
)


def _capacity_row(label: str, r: CapacityResult) -> dict[str, Any]:
    return {
        "scenario": label, "commodity_fuel": r.fuel, "origin": r.origin,
        "avoid": ",".join(r.avoid), "status": ",".join(r.statuses),
        "low": round(r.low, 1), "high": None if math.isinf(r.high) else round(r.high, 1),
        "unit": r.unit,
        "exact": r.exact, "bottleneck": "; ".join(r.bottleneck),
        "unknown_capacity": "; ".join(n for n in r.unknown if n),
        "fields": len(r.fields), "fields_unreached": "; ".join(r.unreached),
        "by_market": "; ".join(f"{m} {v:,.0f}" for m, v in r.by_market.items() if v > 0),
        "note": CAPACITY_CAVEAT,
    }  # fmt: skip


def _line_ends(pipes: gpd.GeoDataFrame, markets: Sequence[str]) -> dict[str, tuple[float, float]]:
    """Markets written ``end:P0646``: the end of that GEM line's last piece (its delivery point)."""
    out = {}
    for m in markets:
        if not m.startswith("end:"):
            continue
        pieces = pipes[pipes["id"].astype(str).str.startswith(f"pipe-{m[4:]}-").to_numpy()]
        if pieces.empty:
            msg = f"commodities.toml: market {m} names no line of the pipelines layer"
            raise RouteError(msg)
        last = max(pieces["id"], key=lambda i: int(str(i).rsplit("-", 1)[1]))
        x, y = pieces.set_index("id").geometry[last].coords[-1][:2]
        out[m] = (float(x), float(y))
    return out


def capacity(
    commodity: str = "oil",
    origin: str = "KAZ",
    *,
    avoid: str | Sequence[str] = (),
    status: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """A country's export capacity by pipeline and tanker, with and without ``avoid``.

    The maximum flow (networkx) from the country's bundled fields of the commodity to its
    markets (``layers/commodities.toml``) over the pipelines layer and the tanker links, with
    each line's capacity from Global Energy Monitor. Where a capacity is unknown the answer is a
    range (``low`` with unknown lines closed, ``high`` with them unlimited).

    Returns
    -------
    DataFrame
        One row per scenario (``all routes`` and, with ``avoid``, ``avoiding ...``): ``low``,
        ``high``, ``unit``, ``exact``, ``bottleneck`` (the lines of the minimum cut),
        ``unknown_capacity``, ``fields`` (how many feed the network), ``fields_unreached``,
        ``by_market``. ``attrs["flows"]`` holds each scenario's per-line flows.
    """
    table = commodity_table()
    rule = table.rule(commodity)
    if rule.fuel is None:
        msg = f"{commodity} does not travel by pipeline; capacity covers oil, condensate and gas"
        raise RouteError(msg)
    checked = make_constraints(option_values(avoid, "--avoid"), None,
                               option_values(status, "--status") or None)  # fmt: skip
    origin = origin.upper()
    have = bundled_layers()
    if "pipelines" not in have:
        msg = "the pipelines layer is not installed"
        raise RouteError(msg)
    pipes = load_bundled("pipelines")
    terminals = load_bundled("terminals") if "terminals" in have else pipes.iloc[:0]
    points = _line_ends(pipes, rule.markets)
    deps = load_bundled("deposits")
    wanted = set(rule.commodities)
    has = deps["commodities"].map(lambda c: bool(wanted & set(c))).to_numpy()
    fields = deps[(deps["country"] == origin).to_numpy() & has]
    if fields.empty:
        msg = f"no bundled {commodity} field in {origin}; `corridor layers` lists the deposits"
        raise RouteError(msg)
    statuses = sorted(checked.statuses)
    runs: list[tuple[str, tuple[str, ...]]] = [("all routes", ())]
    if checked.avoid_countries:
        runs.append((f"avoiding {', '.join(sorted(checked.avoid_countries))}",
                     tuple(sorted(checked.avoid_countries))))  # fmt: skip
    rows, flows = [], {}
    for label, av in runs:
        r = export_capacity(pipes, terminals, fields, rule.markets, fuel=rule.fuel, origin=origin,
                            links=table.links, avoid=av, statuses=statuses,
                            points=points)  # fmt: skip
        rows.append(_capacity_row(label, r))
        flows[label] = r.flows
    out = pd.DataFrame(rows)
    out.attrs["flows"] = flows
    out.attrs["commodity"] = commodity
    return out


PLACE_COLUMNS = ("id", "name", "kind", "country", "lon", "lat", "on_network", "match")


def places(
    query: str | None = None,
    *,
    kind: str | None = None,
    country: str | None = None,
    extra_layers: Sequence[gpd.GeoDataFrame] = (),
    limit: int | None = None,
) -> pd.DataFrame:
    """The places a route can start or end at: nodes, deposits and, when searching, seaports.

    Without ``query`` every node and deposit of the network is listed (seaports, some 4,000,
    only when searched). With ``query`` a place matches when its id, name or an alias contains
    the text (case-, accent- and punctuation-insensitive, any script); if nothing contains it,
    the closest names are offered (``match`` = ``suggestion``).

    Parameters
    ----------
    query
        Text to search for.
    kind
        Keep one kind: a node kind (``port``, ``city``, ``border_crossing``, ...), ``deposit``
        or ``seaport``.
    country
        Keep one country (alpha-3).
    extra_layers
        Layers added to the bundled and stored ones for this call only.
    limit
        At most this many rows (the best matches first).

    Returns
    -------
    DataFrame
        Columns ``id`` (what ``corridor route`` accepts: a node id, ``deposit:ID`` or a
        seaport's UN/LOCODE or name), ``name``, ``kind``, ``country``, ``lon``, ``lat``,
        ``on_network`` (whether routes reach it by the network; a seaport off it is joined by
        a generated sea leg), ``match`` (``id``, ``name``, ``contains`` or ``suggestion``).
    """
    net = network(extra_layers, slim=True)
    rows: list[dict[str, Any]] = []
    g = net.graph
    for nid, r in net.nodes.iterrows():
        aliases = r.get("aliases")
        rows.append({"id": str(nid), "name": str(r["name"]), "kind": str(r["kind"]),
                     "country": str(r["country"]), "lon": round(r.geometry.x, 5),
                     "lat": round(r.geometry.y, 5),
                     "on_network": bool(str(nid) in g and g.degree(str(nid)) > 0),
                     "_keys": [str(nid), str(r["name"]),
                               *(aliases if isinstance(aliases, list) else [])]})  # fmt: skip
    for _, d in net.deposits.iterrows():
        rows.append({"id": f"deposit:{d['id']}", "name": str(d["name"]), "kind": "deposit",
                     "country": str(d["country"]), "lon": round(d.geometry.x, 5),
                     "lat": round(d.geometry.y, 5), "on_network": True,
                     "_keys": [str(d["id"]), str(d["name"])]})  # fmt: skip
    if query is not None:
        for p in port_index().ports:
            if p.node_id:
                continue  # the curated node is listed already
            rows.append({"id": p.locode or p.name, "name": p.name, "kind": "seaport",
                         "country": p.country, "lon": p.lon, "lat": p.lat, "on_network": False,
                         "_keys": [p.name, *p.names, p.locode]})  # fmt: skip
    frame = pd.DataFrame(rows)
    if kind is not None:
        frame = frame[frame["kind"] == kind]
    if country is not None:
        frame = frame[frame["country"] == country.upper()]
    frame = _match_places(frame, query)
    if limit is not None:
        frame = frame.head(limit)
    out = frame[list(PLACE_COLUMNS)].reset_index(drop=True)
    out.attrs["query"] = {"query": query, "kind": kind, "country": country}
    return out


def _match_places(frame: pd.DataFrame, query: str | None) -> pd.DataFrame:
    """Rows whose keys contain ``query`` (exact id or name first), else the closest names."""
    if query is None:
        return frame.assign(match="").sort_values(["kind", "id"], kind="stable")
    key = normalise(query)
    if not key:
        msg = f"places: '{query}' has no letter or digit to search for"
        raise RouteError(msg)
    keys = [[normalise(k) for k in ks if k] for ks in frame["_keys"]]
    rank = []
    for ks, nid in zip(keys, frame["id"], strict=True):
        if normalise(str(nid)) == key:
            rank.append((0, "id"))
        elif key in ks:
            rank.append((1, "name"))
        elif any(key in k for k in ks):
            rank.append((2, "contains"))
        else:
            rank.append((9, ""))
    frame = frame.assign(_rank=[r for r, _ in rank], match=[m for _, m in rank])
    hits = frame[frame["_rank"] < 9]
    if len(hits):
        return hits.sort_values(["_rank", "kind", "name"], kind="stable")
    every = sorted({k for ks in keys for k in ks})
    close = set(difflib.get_close_matches(key, every, n=5, cutoff=0.75))
    near = [bool(close & set(ks)) for ks in keys]
    return frame[near].assign(match="suggestion").sort_values(["kind", "name"], kind="stable")
