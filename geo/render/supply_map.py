"""The exports map: every deposit coloured by the corridor of its best way to market.

The best route is the one to a market that avoids Russia (or what the spec says); a click draws
it beside the unconstrained one.

The numbers come from :mod:`geo.analysis.supply` (the same searches and statistics as
``corridor exports``); this module only turns them into one JSON payload for the page runtime
(``geo/render/static/exports.js``) and escaped HTML panels. Routes share their segments: each
segment's line is sent once and a route is a list of references to them, so seven markets cost
little. Deposits that reach the network at the same access node share its routes and comparison
texts, sent once per node and market; per deposit the page gets its point, its group and whole
numbers rounded here (distance, days, extra distance), so 100,000 deposits make a page of tens
of MB rather than hundreds, and more than ``CLUSTER_ABOVE`` of them are clustered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from markupsafe import Markup

from ..analysis.network import Network
from ..analysis.routing import AccessTable, Leg
from ..analysis.supply import (
    NUMBERS,
    NetworkPart,
    extra_numbers,
    resolve_markets,
    route_texts,
    route_totals,
    supply_parts,
)
from .cards import card
from .elements import Script, static_text
from .labels import labels_payload
from .page import base_layers, finish, new_map
from .panels import Symbol, heading, line_symbol, one_column_legend, render, row
from .payloads import (
    NETWORK_SIMPLIFY_DEG,
    LineFeature,
    LinesLayer,
    columnar,
    latlngs,
    latlngs_of,
)
from .spec import ExportsSpec, MapSpec
from .style import (
    CORRIDORS,
    OTHER_COLORS,
    RUSSIA_COLOR,
    SUPPLY_LINES,
    fmt,
    fmt_column,
    line_style,
    swatch_line,
)

ROUTE_DECIMALS = 4  # ~10 m: the drawn routes are followed at country scale
NONE_COLOR = "#ffffff"  # deposits with no route under the constraint: hollow, crossed
SHORTEST_COLOR = SUPPLY_LINES["shortest"]["color"]
COUNTRY_NAMES = {"RUS": "Russia", "CHN": "China", "BLR": "Belarus", "IRN": "Iran"}


def _avoid_text(avoid: Sequence[str]) -> str:
    names = [COUNTRY_NAMES.get(a.upper(), a) for a in avoid]
    return " and ".join(names) if names else "nothing"


def _line(leg: Leg) -> list[list[float]]:
    """One leg's line as a single latlng list in travel order (parts of a multi-line joined)."""
    geom = leg.geometry
    if geom.geom_type == "MultiLineString":
        coords = np.concatenate([shapely.get_coordinates(g) for g in geom.geoms])
        geom = shapely.LineString(coords)
    out: list[list[float]] = latlngs(geom, ROUTE_DECIMALS)
    return out


class _Edges:
    """Each segment's line once; a route refers to it as ``i`` (as stored) or ``~i`` (reversed)."""

    def __init__(self) -> None:
        self.lines: list[list[list[float]]] = []
        self._index: dict[str, int] = {}
        self._refs: dict[tuple[str, str, str], int] = {}

    def ref(self, leg: Leg) -> int:
        """The ref of a leg's line: routes to a market share their legs, so each is made once."""
        key = (leg.segment_id, leg.from_id, leg.to_id)
        ref = self._refs.get(key)
        if ref is None:
            ref = self._refs[key] = self._ref(leg)
        return ref

    def _ref(self, leg: Leg) -> int:
        i = self._index.get(leg.segment_id)
        if i is None:
            i = self._index[leg.segment_id] = len(self.lines)
            self.lines.append(_line(leg))
            return i
        # the direction from the leg's first point alone (drawing the line again is slow)
        x, y = shapely.get_coordinates(leg.geometry)[0]
        first = np.round([y, x], ROUTE_DECIMALS).tolist()
        return i if self.lines[i][0] == first else ~i

    def gap(self, a: list[float], b: list[float]) -> int:
        """A straight line from ``a`` to ``b`` where a route's lines do not meet (see _refs)."""
        key = "gap " + " ".join(map(str, sorted([a, b])))
        i = self._index.get(key)
        if i is None:
            i = self._index[key] = len(self.lines)
            self.lines.append([a, b])
            return i
        return i if self.lines[i][0] == a else ~i

    def ends(self, ref: int) -> tuple[list[float], list[float]]:
        """The first and last point of a ref's line, in the direction the ref runs."""
        line = self.lines[ref if ref >= 0 else ~ref]
        return (line[0], line[-1]) if ref >= 0 else (line[-1], line[0])


def _refs(
    legs: list[Leg] | str, edges: _Edges, start: list[float], end: list[float]
) -> list[int] | None:
    """A network route from ``start`` to ``end`` as refs into the shared lines; None: no route.

    A named place is a station of the traced rail network up to
    :data:`~geo.analysis.network.STATION_KM` from its track: its node (the access leg's end, the
    market's marker, the end of a hand-drawn segment) is where the place is, the rail lines end
    on the track. Where two consecutive lines do not meet, a straight gap line joins them, so
    the drawn route runs unbroken from the access node to the market.
    """
    if isinstance(legs, str):
        return None
    out: list[int] = []
    at = start
    for leg in legs:
        ref = edges.ref(leg)
        first, last = edges.ends(ref)
        if first != at:
            out.append(edges.gap(at, first))
        out.append(ref)
        at = last
    if at != end:
        out.append(edges.gap(at, end))
    return out


def _yes_no(v: bool | None) -> str:
    return "—" if v is None else ("yes" if v else "no")


COMPARISON_ROWS = (
    "distance",
    "days (typical)",
    "cost per TEU",
    "CO2e per TEU",
    "countries",
    "mainly via",
    "through Russia",
    "through China",
    "extra distance",
    "extra days",
    "extra cost",
    "extra CO2e",
)
# The rows the page writes from the deposit's numbers: (row, payload key, unit, decimals).
# Each figure is the typical one of `corridor exports` (the ranges are in its CSV and JSON);
# the extras are what a constrained route adds to the unconstrained one.
NUMBER_ROWS = (
    (0, "km", "km", 0), (1, "days", "days", 1), (2, "usd", "USD", 0), (3, "co2", "kg", 0),
)  # fmt: skip
EXTRA_ROWS = (
    (8, "xkm", "km", 0), (9, "xdays", "days", 1), (10, "xusd", "USD", 0), (11, "xco2", "kg", 0),
)  # fmt: skip
# Where each of them is in geo.analysis.supply.NUMBERS: km, typical days, USD, kg CO2e.
NUMBER_INDEX = {key: NUMBERS.index(n) for key, n in zip(
    ("km", "days", "usd", "co2"),
    ("km", "transit_days_typical", "cost_usd_per_teu_typical", "co2e_kg_per_teu_typical"),
    strict=True)}  # fmt: skip
SETS = ("one", "both", "shortest")  # the comparison's columns: avoid, avoid + CHN, none
ROUTE_SETS = ("one", "shortest", "both")  # the drawn routes, per node ("both" came last)
FROM_NUMBERS = -1  # a cell the page writes from the deposit's numbers (distance, days, extra)
CLUSTER_ABOVE = 1000  # more deposits than this are clustered (the committed map has 90)
NO_TEU = "— (pipeline: no cost per TEU)"
COMPARISON_KEY = (
    "Typical values per loaded TEU; below, in grey: what the route adds to the unconstrained "
    "one. Ranges: corridor exports --format csv."
)  # a route with a pipeline leg: see layers/costs.toml


def signed(v: float, unit: str, decimals: int) -> str:
    """An extra as the page shows it: its sign always, thousands separated, its unit.

    >>> signed(1234.0, "km", 0), signed(-2.5, "days", 1), signed(0.0, "USD", 0)
    ('+1,234 km', '−2.5 days', '+0 USD')
    """
    sign = "−" if v < 0 else "+"
    return f"{sign}{abs(v):,.{decimals}f} {unit}"


class _Strings:
    """Comparison cells repeat (countries, corridors): each text is sent once."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        return self.index.setdefault(text, len(self.index))


def _static_cells(
    part: NetworkPart | str,
    name: str,
    km: np.ndarray,
    code: str,
    strings: _Strings,
    *,
    shortest: bool,
) -> list[int]:
    """One column of the comparison for the deposits of a group, FROM_NUMBERS where they differ.

    A group's deposits share the access node, the access leg's country and whether that leg
    has a length; the texts are those of :func:`~geo.analysis.supply.route_texts` (as
    :func:`~geo.analysis.supply.combine_access` gives them) for its first deposit. Money
    and carbon are the same for the whole group in one respect: a route with a pipeline leg
    has neither (:data:`NO_TEU`).
    """
    if isinstance(part, str):
        return [strings(f"no route: {part}"), *[strings("")] * (len(COMPARISON_ROWS) - 1)]
    row = route_texts(part, [name], km, [code])
    label = CORRIDORS.get(row["main_corridor"][0], (row["main_corridor"][0], ""))[0]
    no_teu = strings(NO_TEU) if part.costs is None else FROM_NUMBERS
    no_kg = strings(NO_TEU) if part.co2 is None else FROM_NUMBERS
    out = [
        FROM_NUMBERS,
        FROM_NUMBERS,
        no_teu,
        no_kg,
        strings(" → ".join(row["countries"][0])),
        strings(label),
        strings(_yes_no(row["transits_russia"][0])),
        strings(_yes_no(row["transits_china"][0])),
        FROM_NUMBERS,
        FROM_NUMBERS,
        FROM_NUMBERS if part.costs is not None else strings("—"),
        FROM_NUMBERS if part.co2 is not None else strings("—"),
    ]
    if shortest:  # the unconstrained route is its own reference: it adds nothing to itself
        for k, _key, unit, decimals in EXTRA_ROWS:
            if out[k] == FROM_NUMBERS:
                out[k] = strings(signed(0.0, unit, decimals))
    return out


def _whole(values: np.ndarray) -> list[int | None]:
    """Numbers as the text shows them (``f"{v:,.0f}"``: nearest, ties to even); None: no route.

    ``np.rint`` rounds the exact binary value to nearest, ties to even, as Python's format does.
    """
    out: list[int | None] = np.rint(np.nan_to_num(values)).astype(np.int64).tolist()
    for i in np.flatnonzero(np.isnan(values)).tolist():
        out[i] = None
    return out


def _tenths(values: np.ndarray) -> list[float | None]:
    """Days as the rows hold them (already rounded to 0.1); None: no route."""
    return [None if v != v else v for v in values.tolist()]


def _shown(values: np.ndarray, key: str) -> list[Any]:
    return _tenths(values) if key in ("days", "xdays") else _whole(values)


def _median_text(totals: Mapping[str, np.ndarray], avoided: str) -> str:
    """The median of what avoiding adds, over the deposits with both routes (and the figure).

    >>> t = {"one": np.array([[12.0], [3.0], [4.0], [5.0], [9], [10], [11], [1], [2], [3]]),
    ...      "shortest": np.array([[10.0], [2.0], [3.0], [4.0], [8], [8], [8], [1], [1], [1]])}
    >>> _median_text(t, "Russia")
    ' Median extra for avoiding Russia: +2 km, +1.0 days, +2 USD and +1 kg CO2e per TEU.'
    """
    extra = extra_numbers(totals["one"], totals["shortest"])
    med = []
    for key in ("km", "days", "usd", "co2"):
        row = extra[NUMBER_INDEX[key]]
        row = row[~np.isnan(row)]
        med.append(float(np.median(row)) if len(row) else None)
    if med[0] is None:
        return ""
    text = f" Median extra for avoiding {avoided}: {signed(med[0], 'km', 0)}"
    text += f", {signed(med[1], 'days', 1)}" if med[1] is not None else ""
    if med[2] is None or med[3] is None:  # pipelines only: no cost per TEU
        return text + "."
    return text + f", {signed(med[2], 'USD', 0)} and {signed(med[3], 'kg', 0)} CO2e per TEU."


def _extras(totals: Mapping[str, np.ndarray]) -> dict[str, list[list[Any]]]:
    """What the two constrained columns add to the unconstrained one, per deposit.

    :func:`~geo.analysis.supply.extra_numbers`, as ``corridor exports`` gives its ``extra_*``
    columns: km to 0.1 (then whole, as shown), typical days to 0.1, whole USD and kg.
    """
    extra = {s: extra_numbers(totals[s], totals["shortest"]) for s in ("one", "both")}
    return {
        key: [_shown(extra[s][NUMBER_INDEX[key[1:]]], key) for s in ("one", "both")]
        for _k, key, _u, _d in EXTRA_ROWS
    }


def _groups(t: AccessTable | None, n: int) -> tuple[np.ndarray, list[tuple[str, str, bool]]]:
    """Each deposit's group: its access node, the access leg's country and whether it is > 0 km.

    Every cell but distance, days and extra distance is the same for a group's deposits.
    """
    if t is None or not n:
        return np.zeros(n, dtype=np.int64), []
    keys = pd.Series(list(zip(t.node.tolist(), t.code.tolist(), (t.km > 0).tolist(), strict=True)))
    codes, uniq = pd.factorize(keys, sort=False)
    return np.asarray(codes, dtype=np.int64), [(str(a), str(b), bool(c)) for a, b, c in uniq]


def _latlng(
    net: Network, node: str, points: Mapping[str, tuple[float, float]] | None = None
) -> list[float]:
    """A node's place as the page draws it: [lat, lon], rounded as the route lines are.

    ``points`` places the keys that are no network node (an oil or gas field's own group).
    """
    if node in net.graph:
        at = net.graph.nodes[node]
        x, y = float(at["x"]), float(at["y"])
    else:
        x, y = (points or {})[node]
    out: list[float] = np.round([y, x], ROUTE_DECIMALS).tolist()
    return out


def exports_payload(
    spec: ExportsSpec, net: Network, countries: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Everything the page needs, shared per access node (railhead or port) and market.

    Each (access node, market) route is sent once as refs into shared edge lines, and each
    group of deposits (same node and access country) has its comparison texts once; per
    deposit the page gets its point, its group and, per market and column, the distance, days
    and extra distance as whole numbers rounded here (``exports.js`` only adds separators).
    A deposit's details are a reader's card (:func:`geo.render.cards.card`; ``countries``:
    names by alpha-3 code), its id a last column the page does not show.
    """
    avoid = list(spec.avoid)
    both = [*avoid, *(["CHN"] if "CHN" not in {a.upper() for a in avoid} else [])]
    status = None if spec.status == "operational" else spec.status
    commodities = list(spec.commodities) or None
    market_ids = resolve_markets(net, list(spec.markets))
    initial = resolve_markets(net, [spec.market])[0]
    if initial not in market_ids:
        market_ids.insert(0, initial)
    sp = supply_parts(markets=market_ids, commodities=commodities, status=status, network=net,
                      avoid={"one": avoid, "both": both})  # fmt: skip
    deps, t = sp.deposits, sp.table
    n = len(deps)
    g = net.graph
    group, keys = _groups(t, n)
    node_ids = list(dict.fromkeys(k[0] for k in keys))
    rows = pd.Series(range(n)).groupby(group, sort=True).indices if n else {}
    edges, strings = _Edges(), _Strings()
    first_name = {gi: str(deps["name"].iloc[int(r[0])]) for gi, r in rows.items()}
    per_market = []
    main = np.full((n, len(market_ids)), "", dtype=object)  # corridor of the best route
    for mi, m in enumerate(market_ids):
        totals = {s: np.full((len(NUMBERS), n), np.nan) for s in SETS}
        cells, corridor = [], []
        for gi, (node, code, _positive) in enumerate(keys):
            r = rows[gi]
            km, codes = t.km[r] if t is not None else np.zeros(0), [code] * len(r)
            column = []
            for s in SETS:
                part = sp.parts[(s, node, m)]
                column.append(
                    _static_cells(
                        part, first_name[gi], km[:1], code, strings, shortest=s == "shortest"
                    )
                )
                if not isinstance(part, str):
                    totals[s][:, r] = route_totals(part, km, codes)
            cells.append(column)
            best = sp.parts[("one", node, m)]
            corridor.append(None if isinstance(best, str) else best.main_corridor)
            main[r, mi] = corridor[-1] or ""
        per_market.append((totals, cells, corridor))
    # corridors in the order deposits first meet them (deposit by deposit, market by market)
    seen = [c for c in main.ravel().tolist() if c]
    corridors = list(dict.fromkeys(seen))
    cidx = {c: i for i, c in enumerate(corridors)}
    summaries, markets_out = [], []
    for mi, m in enumerate(market_ids):
        totals, cells, corridor = per_market[mi]
        one, two = totals["one"][0], totals["both"][0]
        name = fmt(g.nodes[m]["name"])
        text = (
            f"{int((~np.isnan(one)).sum())} of {n} deposits reach {name} avoiding "
            f"{_avoid_text(avoid)}, {int((~np.isnan(two)).sum())} avoiding {_avoid_text(both)}."
        )
        text += _median_text(totals, _avoid_text(avoid))
        summaries.append(text)
        markets_out.append({
            "name": name,
            "c": _latlng(net, m),
            "summary": text,
            # per group: the best route's corridor (-1: none) and the comparison's fixed cells
            "k": [-1 if c is None else cidx[c] for c in corridor],
            "cells": cells,
            # per access node: the best route, the unconstrained one and the best avoiding
            # China too, as edge refs (the page draws all three)
            "routes": [[_refs(sp.legs[(s, node, m)], edges, _latlng(net, node, sp.points),
                              _latlng(net, m)) for s in ROUTE_SETS] for node in node_ids],
            # per deposit, per column: distance, typical days, USD and kg CO2e per TEU as
            # shown (whole numbers, days to 0.1); per constrained column the extras, as the
            # extra_* columns of corridor exports
            **{key: [_shown(totals[s][NUMBER_INDEX[key]], key) for s in SETS]
               for _k, key, _u, _d in NUMBER_ROWS},
            **_extras(totals),
        })  # fmt: skip
    popups = card(deps, "deposit", countries=countries)
    pts = deps.geometry.where(
        deps.geometry.geom_type == "Point", deps.geometry.representative_point()
    )
    others = sorted(c for c in corridors if c not in CORRIDORS)
    palette = [
        CORRIDORS[c][1] if c in CORRIDORS else OTHER_COLORS[others.index(c) % len(OTHER_COLORS)]
        for c in corridors
    ]
    node_index = {v: i for i, v in enumerate(node_ids)}
    return {
        "markets": markets_out,
        "initial": market_ids.index(initial),
        "avoid": _avoid_text(avoid),
        "avoid2": _avoid_text(both),
        "corridors": [CORRIDORS.get(c, (c, ""))[0] for c in corridors],
        "edges": edges.lines,
        "nodes": [_latlng(net, v, sp.points) for v in node_ids],
        "groupNode": [node_index[k[0]] for k in keys],
        "cols": [*popups.labels, "id"],
        "data": [
            *(columnar(np.asarray(c, dtype=object)) for c in popups.columns),
            columnar(fmt_column(deps["id"]) if "id" in deps else [""] * n),
        ],
        "links": popups.links,
        "notes": popups.notes,
        "lat": np.round(shapely.get_y(pts.to_numpy()), ROUTE_DECIMALS).tolist(),
        "lon": np.round(shapely.get_x(pts.to_numpy()), ROUTE_DECIMALS).tolist(),
        "g": group.tolist(),
        "cluster": n > CLUSTER_ABOVE,
        "cmp": list(COMPARISON_ROWS),
        # the rows drawn: each figure with its extra below it, then the route texts (folded
        # on a phone)
        "rows": [[k, x] for (k, *_), (x, *_) in zip(NUMBER_ROWS, EXTRA_ROWS, strict=True)],
        "more": [
            k
            for k in range(len(COMPARISON_ROWS))
            if k not in {r[0] for r in (*NUMBER_ROWS, *EXTRA_ROWS)}
        ],
        "key": COMPARISON_KEY,
        "moreLabel": "Countries and corridors",
        # how the page writes a number row: [row, payload key, unit, decimals, is an extra]
        "nums": [[k, key, unit, d, 0] for k, key, unit, d in NUMBER_ROWS]
        + [[k, key, unit, d, 1] for k, key, unit, d in EXTRA_ROWS],
        "s": list(strings.index),
        "heads": [
            f"avoiding {_avoid_text(avoid)}",
            f"avoiding {_avoid_text(both)}",
            "unconstrained",
        ],
        "palette": palette,
        "shortColor": SHORTEST_COLOR,
        # per comparison column: its line's style and where its route is in "routes"
        "lines": [SUPPLY_LINES[s] for s in SETS],
        "routeOf": [ROUTE_SETS.index(s) for s in SETS],
        "star": MARKET_SVG,
    }


def exports_css(n: int, palette: Sequence[str]) -> str:
    """One class per corridor colour (constants of :mod:`geo.render.style`, never data)."""
    rules = [f".cm-xk{i}{{background:{c}}}" for i, c in enumerate(palette[:n])]
    return "\n".join(rules) + "\n" + EXPORTS_CSS


EXPORTS_CSS = static_text("exports.css")

MARKET_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="22" height="22" viewBox="0 0 22 22">'
    '<path d="M11 1.5l2.8 6.1 6.7.7-5 4.5 1.4 6.6L11 16l-5.9 3.4 1.4-6.6-5-4.5 6.7-.7Z" '
    'fill="#ffb300" stroke="#4e342e" stroke-width="1.3"/></svg>'
)


def exports_legend_html(
    corridors: Sequence[str],
    palette: Sequence[str],
    avoid: str,
    shade: Sequence[str],
    avoid2: str = "Russia and China",
) -> str:
    """The exports legend: deposit colours by corridor, the no-route mark, the three routes."""
    both = SUPPLY_LINES["both"]
    entries = [
        heading(f"Deposits: best route avoiding {avoid}, mainly via"),
        *(row(Symbol("dot", cls=f"cm-xd cm-xk{i}"), label) for i, label in enumerate(corridors)),
        row(Symbol("dot", cls="cm-xd cm-xnone"), f"no route avoiding {avoid}"),
        heading("Routes of the clicked deposit"),
        row(line_symbol("#d81b60", 5), f"best avoiding {avoid} (colour of its corridor)"),
        row(
            line_symbol(both["color"], both["weight"], 1, both["dashArray"]),
            f"best avoiding {avoid2}",
        ),
        row(line_symbol(SHORTEST_COLOR, 3, 1, "8 6"), "best without constraint"),
        heading("Places"),
        row(Symbol("sym", svg=Markup(MARKET_SVG)), "market port"),
        row(line_symbol("#9e9e9e", 2), "network (all corridors)"),
    ]
    return one_column_legend(entries, shade)


def exports_panel_html(title: str) -> str:
    """The panel the runtime fills: market selector, summary, the clicked deposit's comparison."""
    return render("exports_panel.html", title=title)


def network_layer(segments: gpd.GeoDataFrame) -> LinesLayer:
    """The whole network as thin grey context lines, with reader popups."""
    popups = card(segments, "segment")
    rows = popups.rows()
    n = len(segments)
    russia = [float(v or 0) > 0 for v in segments["russia_km"].tolist()] if (
        "russia_km" in segments) else [False] * n  # fmt: skip
    name, corridor, mode = (fmt_column(segments[c]).tolist() if c in segments else [""] * n
                            for c in ("name", "corridor", "mode"))  # fmt: skip
    geoms = shapely.simplify(np.asarray(segments.geometry.values, dtype=object),
                             NETWORK_SIMPLIFY_DEG)  # fmt: skip
    coords = latlngs_of(geoms, 3)
    styles: list[dict[str, Any]] = []
    feats: list[LineFeature] = []
    for i in range(n):
        style = line_style(RUSSIA_COLOR if russia[i] else "#8d8d8d", 1.6, None, 0.55)
        if style not in styles:
            styles.append(style)
        feats.append(
            {
                "c": coords[i],
                "s": styles.index(style),
                "t": f"{name[i]} ({corridor[i]}, {mode[i]})",
                "v": rows[i],
            }
        )
    return {
        "kind": "lines",
        "group": "Network",
        "label": swatch_line("#8d8d8d", 2) + "Network",
        "show": True,
        "pane": "cmLines",
        "cols": popups.labels,
        "styles": styles,
        "f": feats,
        "card": True,
        "links": popups.links,
        "notes": popups.notes,
    }


def build_exports_map(
    spec: MapSpec,
    *,
    countries: gpd.GeoDataFrame | None,
    segments: gpd.GeoDataFrame | None,
    network: Network,
) -> folium.Map:
    """The exports map of a spec with an ``[exports]`` table (see ``maps/exports.toml``).

    Parameters
    ----------
    spec : MapSpec
        Title, view, shading and ``spec.exports`` (:class:`ExportsSpec`).
    countries : GeoDataFrame
        The base layer.
    segments : GeoDataFrame
        The network's segments (:func:`geo.analysis.network.segments_frame`), drawn as thin context.
    network : Network
        The network the routes are searched on (bundled and user layers).
    """
    if spec.exports is None:
        msg = "build_exports_map: the spec has no [exports] table (spec.exports is None)"
        raise TypeError(msg)
    country_names: dict[str, str] = {}
    if countries is not None and "id" in countries and "name" in countries:
        country_names = {str(c): fmt(n) for c, n in zip(countries["id"], countries["name"],
                                                        strict=True)}  # fmt: skip
    payload = exports_payload(spec.exports, network, country_names)
    css = exports_css(len(payload["palette"]), payload["palette"])
    m = new_map(spec, markercluster=payload["cluster"], extra_css=css, extra_js=EXPORTS_JS)
    layers = base_layers(countries, spec.shade)
    if segments is not None and len(segments):
        layers.append(network_layer(segments))
    legend = exports_legend_html(
        payload["corridors"], payload["palette"], payload["avoid"], spec.shade, payload["avoid2"]
    )
    panel = exports_panel_html("Supply routes to market")
    script = Script("exports", payload, "CorridorExports")
    names = Script("labels", labels_payload(None, countries), "CorridorLabels")
    return finish(m, spec.title, layers, legend, panel, extra=[names, script])


EXPORTS_JS = static_text("exports.js")
