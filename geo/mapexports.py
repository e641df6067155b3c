"""The exports map: every deposit coloured by the corridor of its best route to a market that
avoids Russia (or what the spec says), with the route drawn on click beside the unconstrained one.

The numbers come from :mod:`geo.exports` (the same searches and statistics as
``corridor exports``); this module only turns them into one JSON payload for the page runtime
(:data:`EXPORTS_JS`) and escaped HTML panels. Routes share their segments: each segment's line is
sent once and a route is a list of references to them, so seven markets cost little.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely

from .exports import MARKETS, _deposits, _market_ids, _summarise, export_legs
from .maplayers import display_rows, latlngs, property_columns
from .mappanels import one_column_legend
from .mapstyle import (
    CORRIDORS,
    OTHER_COLORS,
    RUSSIA_COLOR,
    esc,
    fmt,
    fmt_km,
    line_style,
    swatch_line,
)
from .network import Network
from .page import Script
from .routing import Leg

ROUTE_DECIMALS = 4  # ~10 m: the drawn routes are followed at country scale
NONE_COLOR = "#ffffff"  # deposits with no route under the constraint: hollow, crossed
SHORTEST_COLOR = "#37474f"
COUNTRY_NAMES = {"RUS": "Russia", "CHN": "China", "BLR": "Belarus", "IRN": "Iran"}


@dataclass(frozen=True)
class ExportsSpec:
    """The ``[exports]`` table of a map spec.

    Attributes
    ----------
    markets : tuple of str
        Market node ids or names offered in the page's selector; default :data:`MARKETS`.
    market : str
        The market selected when the page opens (Japan: ``yokohama_port``).
    avoid : tuple of str
        What the coloured route avoids (countries, passages); default Russia.
    commodities : tuple of str
        Deposits producing any of these; empty for all.
    status : str
        Segment statuses allowed: ``operational`` (default) or ``all``.
    """

    markets: tuple[str, ...] = MARKETS
    market: str = "yokohama_port"
    avoid: tuple[str, ...] = ("RUS",)
    commodities: tuple[str, ...] = ()
    status: str = "operational"


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
    b = _summarise(legs)
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
    market_ids = _market_ids(net, list(spec.markets))
    initial = _market_ids(net, [spec.market])[0]
    if initial not in market_ids:
        market_ids.insert(0, initial)
    legs = export_legs(markets=market_ids, commodities=commodities, status=status, network=net,
                       avoid={"one": avoid, "both": both})  # fmt: skip
    deps = _deposits(net, commodities)
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
            short_km = None if isinstance(short, str) else _summarise(short).km
            k = -1
            if not isinstance(best, str):
                s = _summarise(best)
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
    """One class per corridor colour (constants of :mod:`geo.mapstyle`, never data)."""
    rules = [f".cm-xk{i}{{background:{c}}}" for i, c in enumerate(palette[:n])]
    return "\n".join(rules) + "\n" + EXPORTS_CSS


EXPORTS_CSS = """
.cm-xd{border-radius:50%;border:1.5px solid #fff;box-shadow:0 0 0 1px rgba(0,0,0,.5)}
.cm-xnone{background:#fff;border:2px solid #222;box-shadow:none;
background-image:linear-gradient(45deg,transparent 42%,#222 42%,#222 58%,transparent 58%),
linear-gradient(-45deg,transparent 42%,#222 42%,#222 58%,transparent 58%)}
.cm-xsel{box-shadow:0 0 0 3px #ffd54f,0 0 0 4px #333}
.cm-market{background:none;border:0}
.cm-exports{max-width:560px}
.cm-exports select{font:inherit;margin:0 0 4px;max-width:100%}
.cm-exports .cm-sum{margin:2px 0 6px;white-space:normal}
.cm-exports table{width:100%}
.cm-exports td{white-space:normal;text-align:left;vertical-align:top}
.cm-exports th{text-align:left}
.cm-exports .cm-dep-title{font-weight:600;margin:4px 0 2px}
.cm-more{font:inherit;font-size:11px;margin-top:5px;cursor:pointer}
"""

MARKET_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="22" height="22" viewBox="0 0 22 22">'
    '<path d="M11 1.5l2.8 6.1 6.7.7-5 4.5 1.4 6.6L11 16l-5.9 3.4 1.4-6.6-5-4.5 6.7-.7Z" '
    'fill="#ffb300" stroke="#4e342e" stroke-width="1.3"/></svg>'
)


def exports_legend_html(
    corridors: Sequence[str], palette: Sequence[str], avoid: str, shade: Sequence[str]
) -> str:
    """The exports legend: deposit colours by corridor, the no-route mark, the two route lines."""
    rows: list[str] = []

    def row(symbol: str, text: str) -> None:
        rows.append(f'<div class="cm-row">{symbol}<span>{esc(text)}</span></div>')

    rows.append(f"<h3>{esc(f'Deposits: best route avoiding {avoid}, mainly via')}</h3>")
    for i, label in enumerate(corridors):
        row(f'<span class="cm-dot cm-xd cm-xk{i}"></span>', label)
    row('<span class="cm-dot cm-xd cm-xnone"></span>', f"no route avoiding {avoid}")
    rows.append("<h3>Route of the clicked deposit</h3>")
    row(swatch_line("#d81b60", 5), f"best avoiding {avoid} (colour of its corridor)")
    row(swatch_line(SHORTEST_COLOR, 3, 1, "8 6"), "best without constraint")
    rows.append("<h3>Places</h3>")
    row(f'<span class="cm-sym">{MARKET_SVG}</span>', "market port")
    row(swatch_line("#9e9e9e", 2), "network (all corridors)")
    return one_column_legend(rows, shade)


def exports_panel_html(title: str) -> str:
    """The panel the runtime fills: market selector, summary, the clicked deposit's comparison."""
    return (
        '<div id="cm-stats" class="cm-panel cm-stats cm-exports" role="region" '
        'aria-label="Supply routes">'
        f'<button type="button" class="cm-head" aria-expanded="true">{esc(title)}</button>'
        '<div class="cm-body"><label>Market <select id="cm-market"></select></label>'
        '<p class="cm-sum" id="cm-sum"></p><div id="cm-cmp"></div>'
        '<p class="cm-note">Click a deposit to draw its routes and compare them. Distances and '
        "days from the route statistics (corridor exports).</p></div></div>"
    )


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
    spec: Any,
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
        The network's segments (:func:`geo.network.segments_frame`), drawn as thin context.
    network : Network
        The network the routes are searched on (bundled and user layers).
    """
    from .maps import _base_layers, _finish, _new_map

    payload = exports_payload(spec.exports, network)
    css = exports_css(len(payload["palette"]), payload["palette"])
    m = _new_map(spec, markercluster=False, extra_css=css, extra_js=EXPORTS_JS)
    layers = _base_layers(countries, spec.shade)
    if segments is not None and len(segments):
        layers.append(network_layer(segments))
    legend = exports_legend_html(
        payload["corridors"], payload["palette"], payload["avoid"], spec.shade
    )
    panel = exports_panel_html("Supply routes to market")
    script = Script("exports", payload, "CorridorExports")
    return _finish(m, spec.title, layers, legend, panel, extra=[script])


EXPORTS_JS = r"""
(function () {
  "use strict";
  var CM = window.CorridorMap, el = CM.el;
  function joined(d, r) {
    var out = r.a.slice();
    r.e.forEach(function (ref) {
      var line = ref >= 0 ? d.edges[ref] : d.edges[~ref].slice().reverse();
      out = out.concat(out.length ? line.slice(1) : line);
    });
    return out;
  }
  CM.exports = function (map, d) {
    var current = d.initial, selected = -1;
    var drawn = L.featureGroup().addTo(map);
    var icons = {};
    function icon(k) {
      var key = String(k);
      if (!icons[key]) {
        icons[key] = L.divIcon({className: "cm-xd " + (k < 0 ? "cm-xnone" : "cm-xk" + k),
          iconSize: [13, 13], html: ""});
      }
      return icons[key];
    }
    var group = L.featureGroup();
    var markers = d.c.map(function (c, i) {
      var mk = L.marker(c, {icon: icon(d.r[i][current][0]), keyboard: false, riseOnHover: true});
      mk.bindTooltip(function () { return el("span", null, d.rows[i][0]); }, {direction: "top",
        offset: [0, -6]});
      mk.on("click", function () { select(i); });
      group.addLayer(mk);
      return mk;
    });
    group.cmGroup = "Deposits";
    map._cm.layers.push({layer: group, label: "Deposits, by corridor of their best route"});
    group.addTo(map);
    var star = L.divIcon({className: "cm-market", iconSize: [22, 22], html: d.star});
    var market = L.marker(d.markets[current].c, {icon: star, zIndexOffset: 2000, keyboard: false});
    market.bindTooltip(function () { return el("span", null, d.markets[current].name); },
      {direction: "right", permanent: true, className: "cm-market-label"});
    market.addTo(map);

    var sel = document.getElementById("cm-market");
    var sum = document.getElementById("cm-sum");
    var cmp = document.getElementById("cm-cmp");
    d.markets.forEach(function (m, i) {
      var o = el("option", null, m.name);
      o.value = String(i);
      sel.appendChild(o);
    });
    sel.value = String(current);
    L.DomEvent.on(sel, "change", function () { setMarket(parseInt(sel.value, 10)); });

    function setMarket(i) {
      current = i;
      markers.forEach(function (mk, j) { mk.setIcon(icon(d.r[j][current][0])); });
      market.setLatLng(d.markets[current].c);
      market.setTooltipContent(el("span", null, d.markets[current].name));
      sum.textContent = d.markets[current].summary;
      if (selected >= 0) { select(selected); } else { cmp.textContent = ""; }
    }

    function select(i) {
      selected = i;
      var r = d.r[i][current];
      drawn.clearLayers();
      markers.forEach(function (mk) {
        var e = mk.getElement();
        if (e) { e.classList.remove("cm-xsel"); }
      });
      var e = markers[i].getElement();
      if (e) { e.classList.add("cm-xsel"); }
      if (r[2]) {
        drawn.addLayer(L.polyline(joined(d, r[2]), {pane: "cmRoutes", color: d.shortColor,
          weight: 3, opacity: 0.9, dashArray: "8 6", interactive: false}));
      }
      if (r[1]) {
        var latlngs = joined(d, r[1]);
        drawn.addLayer(L.polyline(latlngs, {pane: "cmRoutes", color: "#fff", weight: 8,
          opacity: 0.85, interactive: false}));
        drawn.addLayer(L.polyline(latlngs, {pane: "cmRoutes", color: d.palette[r[0]], weight: 5,
          opacity: 0.95, interactive: false, className: "cm-xroute"}));
      }
      cmp.textContent = "";
      cmp.appendChild(el("div", "cm-dep-title", d.rows[i][0] + " \u2192 " +
        d.markets[current].name));
      var t = el("table"), head = el("tr");
      head.appendChild(el("th"));
      d.heads.forEach(function (h) { head.appendChild(el("th", null, h)); });
      t.appendChild(head);
      d.cmp.forEach(function (label, k) {
        var tr = el("tr");
        tr.appendChild(el("th", null, label));
        r[3][k].forEach(function (v) { tr.appendChild(el("td", null, d.s[v])); });
        t.appendChild(tr);
      });
      cmp.appendChild(t);
      var more = el("button", "cm-more", "Details of the deposit");
      more.type = "button";
      L.DomEvent.on(more, "click", function () { details(i); });
      cmp.appendChild(more);
      var b = drawn.getBounds();
      if (b.isValid()) { map.fitBounds(b, {padding: [40, 40], maxZoom: 7}); }
    }
    function details(i) {
      L.popup({maxWidth: 380, offset: [0, -4]}).setLatLng(markers[i].getLatLng())
        .setContent(CM.table(d.rows[i][0], d.cols, d.rows[i])).openOn(map);
    }
    CM.depositDetails = details;
    CM.exportMarkers = markers;
    CM.selectDeposit = select;
    CM.setMarket = setMarket;
    sum.textContent = d.markets[current].summary;
  };
})();
"""
