"""The exports map: every deposit coloured by the corridor of its best way to market.

The best route is the one to a market that avoids Russia (or what the spec says); a click draws
it beside the unconstrained one.

The numbers come from :mod:`geo.analysis.supply` (the same searches and statistics as
``corridor exports``); this module only turns them into one JSON payload for the page runtime
(``geo/render/static/exports.js``) and escaped HTML panels. Routes share their segments: each
segment's line is sent once and a route is a list of references to them, so seven markets cost
little.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely
from markupsafe import Markup

from ..analysis.network import Network
from ..analysis.routing import Leg
from ..analysis.supply import (
    export_legs,
    resolve_markets,
    select_deposits,
    summarise_supply_route,
)
from .elements import Script, static_text
from .page import base_layers, finish, new_map
from .panels import Symbol, heading, line_symbol, one_column_legend, render, row
from .payloads import display_rows, latlngs, property_columns
from .spec import ExportsSpec, MapSpec
from .style import (
    CORRIDORS,
    OTHER_COLORS,
    RUSSIA_COLOR,
    fmt,
    fmt_km,
    line_style,
    swatch_line,
)

ROUTE_DECIMALS = 4  # ~10 m: the drawn routes are followed at country scale
NONE_COLOR = "#ffffff"  # deposits with no route under the constraint: hollow, crossed
SHORTEST_COLOR = "#37474f"
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

    def ref(self, leg: Leg) -> int:
        line = _line(leg)
        i = self._index.get(leg.segment_id)
        if i is None:
            i = self._index[leg.segment_id] = len(self.lines)
            self.lines.append(line)
            return i
        return i if self.lines[i][0] == line[0] else ~i


def _route(legs: list[Leg] | str, edges: _Edges) -> dict[str, Any] | None:
    if isinstance(legs, str):
        return None
    access = [leg for leg in legs if leg.access]
    return {
        "a": _line(access[0]) if access else [],
        "e": [edges.ref(leg) for leg in legs if not leg.access],
    }


def _days(lo: float | None, hi: float | None) -> str:
    return "—" if lo is None or hi is None else f"{lo:.0f}–{hi:.0f} days"


def _yes_no(v: bool | None) -> str:
    return "—" if v is None else ("yes" if v else "no")


def _column(legs: list[Leg] | str, shortest_km: float | None) -> list[str]:
    """One column of the comparison: the route's numbers, or why there is none."""
    if isinstance(legs, str):
        return [f"no route: {legs}", "", "", "", "", "", ""]
    b = summarise_supply_route(legs)
    extra = "" if b.km is None or shortest_km is None else f"+{fmt_km(b.km - shortest_km)} km"
    label = CORRIDORS.get(b.main_corridor or "", (b.main_corridor or "", ""))[0]
    return [
        f"{fmt_km(b.km)} km",
        _days(b.days_low, b.days_high),
        " → ".join(b.countries),
        label,
        _yes_no(b.transits_russia),
        _yes_no(b.transits_china),
        extra or "—",
    ]


COMPARISON_ROWS = (
    "distance",
    "transit",
    "countries",
    "mainly via",
    "through Russia",
    "through China",
    "extra distance",
)


def exports_payload(spec: ExportsSpec, net: Network) -> dict[str, Any]:
    """Everything the page needs: markets, deposits, routes per market, comparisons, colours."""
    avoid = list(spec.avoid)
    both = [*avoid, *(["CHN"] if "CHN" not in {a.upper() for a in avoid} else [])]
    status = None if spec.status == "operational" else spec.status
    commodities = list(spec.commodities) or None
    market_ids = resolve_markets(net, list(spec.markets))
    initial = resolve_markets(net, [spec.market])[0]
    if initial not in market_ids:
        market_ids.insert(0, initial)
    legs = export_legs(markets=market_ids, commodities=commodities, status=status, network=net,
                       avoid={"one": avoid, "both": both})  # fmt: skip
    deps = select_deposits(net, commodities)
    g = net.graph
    edges = _Edges()
    corridors: list[str] = []
    per_dep: list[list[Any]] = []
    strings: dict[str, int] = {}  # comparison cells repeat (countries, days): sent once
    ok = dict.fromkeys(market_ids, 0)  # deposits with a route avoiding ``avoid``
    ok2 = dict.fromkeys(market_ids, 0)  # ... avoiding China too
    extra: dict[str, list[float]] = {m: [] for m in market_ids}  # what avoiding costs, km
    for dep_id in deps["id"].astype(str):
        row = []
        for m in market_ids:
            found = legs[(dep_id, m)]
            short, best, best2 = found["shortest"], found["one"], found["both"]
            short_km = None if isinstance(short, str) else summarise_supply_route(short).km
            k = -1
            if not isinstance(best, str):
                s = summarise_supply_route(best)
                corridor = s.main_corridor or "access"
                if corridor not in corridors:
                    corridors.append(corridor)
                k = corridors.index(corridor)
                ok[m] += 1
                if short_km is not None and s.km is not None:
                    extra[m].append(s.km - short_km)
            if not isinstance(best2, str):
                ok2[m] += 1
            cmp = [_column(best, short_km), _column(best2, short_km), _column(short, short_km)]
            cells = [
                [strings.setdefault(v, len(strings)) for v in r] for r in zip(*cmp, strict=True)
            ]
            row.append([k, _route(best, edges), _route(short, edges), cells])
        per_dep.append(row)
    n = len(deps)
    summaries = []
    for m in market_ids:
        name = fmt(g.nodes[m]["name"])
        text = (
            f"{ok[m]} of {n} deposits reach {name} avoiding {_avoid_text(avoid)}, "
            f"{ok2[m]} avoiding {_avoid_text(both)}."
        )
        if extra[m]:
            med = float(np.median(np.array(extra[m])))
            text += f" Median extra distance for avoiding {_avoid_text(avoid)}: +{fmt_km(med)} km."
        summaries.append(text)
    cols = property_columns(deps, "deposit", first=("name", "id", "commodities", "kind", "status"))
    pts = deps.geometry.where(
        deps.geometry.geom_type == "Point", deps.geometry.representative_point()
    )
    others = sorted(c for c in corridors if c not in CORRIDORS)
    palette = [
        CORRIDORS[c][1] if c in CORRIDORS else OTHER_COLORS[others.index(c) % len(OTHER_COLORS)]
        for c in corridors
    ]
    return {
        "markets": [
            {
                "name": fmt(g.nodes[m]["name"]),
                "c": [
                    round(g.nodes[m]["y"], ROUTE_DECIMALS),
                    round(g.nodes[m]["x"], ROUTE_DECIMALS),
                ],
                "summary": summaries[i],
            }
            for i, m in enumerate(market_ids)
        ],
        "initial": market_ids.index(initial),
        "avoid": _avoid_text(avoid),
        "avoid2": _avoid_text(both),
        "corridors": [CORRIDORS.get(c, (c, ""))[0] for c in corridors],
        "edges": edges.lines,
        "cols": cols,
        "rows": display_rows(deps, cols),
        "c": [latlngs(p, ROUTE_DECIMALS) for p in pts],
        "r": per_dep,
        "cmp": list(COMPARISON_ROWS),
        "s": list(strings),
        "heads": [
            f"avoiding {_avoid_text(avoid)}",
            f"avoiding {_avoid_text(both)}",
            "unconstrained",
        ],
        "palette": palette,
        "shortColor": SHORTEST_COLOR,
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
    corridors: Sequence[str], palette: Sequence[str], avoid: str, shade: Sequence[str]
) -> str:
    """The exports legend: deposit colours by corridor, the no-route mark, the two route lines."""
    entries = [
        heading(f"Deposits: best route avoiding {avoid}, mainly via"),
        *(row(Symbol("dot", cls=f"cm-xd cm-xk{i}"), label) for i, label in enumerate(corridors)),
        row(Symbol("dot", cls="cm-xd cm-xnone"), f"no route avoiding {avoid}"),
        heading("Route of the clicked deposit"),
        row(line_symbol("#d81b60", 5), f"best avoiding {avoid} (colour of its corridor)"),
        row(line_symbol(SHORTEST_COLOR, 3, 1, "8 6"), "best without constraint"),
        heading("Places"),
        row(Symbol("sym", svg=Markup(MARKET_SVG)), "market port"),
        row(line_symbol("#9e9e9e", 2), "network (all corridors)"),
    ]
    return one_column_legend(entries, shade)


def exports_panel_html(title: str) -> str:
    """The panel the runtime fills: market selector, summary, the clicked deposit's comparison."""
    return render("exports_panel.html", title=title)


def network_layer(segments: gpd.GeoDataFrame) -> dict[str, Any]:
    """The whole network as thin grey context lines (popups keep every property)."""
    cols = property_columns(segments, "segment", first=("name", "id", "corridor", "mode", "status"))
    rows = display_rows(segments, cols)
    styles: list[dict[str, Any]] = []
    feats = []
    for i in range(len(segments)):
        row = segments.iloc[i]
        russia = float(row.get("russia_km") or 0) > 0
        style = line_style(RUSSIA_COLOR if russia else "#8d8d8d", 1.6, None, 0.55)
        if style not in styles:
            styles.append(style)
        feats.append(
            {
                "c": latlngs(row.geometry),
                "s": styles.index(style),
                "t": f"{fmt(row.get('name'))} ({fmt(row.get('corridor'))}, {fmt(row.get('mode'))})",
                "v": rows[i],
            }
        )
    return {
        "kind": "lines",
        "group": "Network",
        "label": swatch_line("#8d8d8d", 2) + "Network",
        "show": True,
        "pane": "cmLines",
        "cols": cols,
        "styles": styles,
        "f": feats,
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
    payload = exports_payload(spec.exports, network)
    css = exports_css(len(payload["palette"]), payload["palette"])
    m = new_map(spec, markercluster=False, extra_css=css, extra_js=EXPORTS_JS)
    layers = base_layers(countries, spec.shade)
    if segments is not None and len(segments):
        layers.append(network_layer(segments))
    legend = exports_legend_html(
        payload["corridors"], payload["palette"], payload["avoid"], spec.shade
    )
    panel = exports_panel_html("Supply routes to market")
    script = Script("exports", payload, "CorridorExports")
    return finish(m, spec.title, layers, legend, panel, extra=[script])


EXPORTS_JS = static_text("exports.js")
