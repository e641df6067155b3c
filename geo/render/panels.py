"""Map panels: the legend and the statistics boxes, as HTML with every value escaped.

The panels show what :mod:`geo.analysis.stats` computed, formatted by
:func:`geo.render.style.route_value`; they never recompute a statistic. The page runtime moves them
into the map as controls.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd

from .style import (
    COMMODITY_GROUPS,
    CORRIDORS,
    MODE_COLORS,
    NODE_SHAPES,
    OTHER_COMMODITY,
    ROUTE_COLORS,
    RUSSIA_COLOR,
    SHADE_COLOR,
    STAT_LABELS,
    STATUS_DASH,
    STATUS_LABEL,
    USER_COLORS,
    corridor_color,
    esc,
    fmt,
    headline,
    is_missing,
    main_group,
    node_symbol,
    route_value,
    short_name,
    swatch_line,
    through_russia,
    value_colors,
    value_symbol,
)


def legend_html(
    segments: gpd.GeoDataFrame | None,
    nodes: gpd.GeoDataFrame | None,
    deposits: gpd.GeoDataFrame | None,
    highlight: str,
    shade: Sequence[str],
    has_routes: bool,
    user_layers: Sequence[tuple[str, gpd.GeoDataFrame]] = (),
) -> str:
    """The legend: only what the map draws, in three columns.

    Lines; places, countries and the user's layers; deposits. A user layer coloured by a
    property lists each of its values with its colour.
    """
    cols: list[list[str]] = [[], [], []]

    def head(col: int, title: str) -> None:
        cols[col].append(f"<h3>{esc(title)}</h3>")

    def row(col: int, symbol: str, text: str) -> None:
        cols[col].append(f'<div class="cm-row">{symbol}<span>{esc(text)}</span></div>')

    if segments is not None and len(segments):
        head(0, "Corridors")
        corridors = sorted(
            {str(c) for c in segments["corridor"]}, key=lambda c: (c != highlight, c)
        )
        others = sorted(c for c in corridors if c not in CORRIDORS)
        rus = segments["russia_km"].map(through_russia) if "russia_km" in segments else None
        for c in corridors:
            own = (segments["corridor"].astype(str) == c).to_numpy()
            if rus is not None and bool(rus[own].all()):
                continue  # drawn entirely in the Russia colour
            weight = 5.5 if c == highlight else 3.2
            row(0, swatch_line(corridor_color(c, others), weight), CORRIDORS.get(c, (c, ""))[0])
        if rus is not None and bool(rus.any()):
            row(0, swatch_line(RUSSIA_COLOR, 3.2), "Through Russia / Belarus")
        if has_routes:
            row(0, swatch_line(ROUTE_COLORS[0], 9, 0.35), "Reference route")
        head(0, "Line status")
        statuses = {str(s) for s in segments["status"]} if "status" in segments else set()
        for status, label in STATUS_LABEL.items():
            if status in statuses or (status == "planned" and "proposed" in statuses):
                weight_op = 0.6 if status == "suspended" else 1
                row(0, swatch_line("#444", 3, weight_op, STATUS_DASH[status]), label)
    if nodes is not None and len(nodes):
        head(1, "Places")
        kinds = {str(k) for k in nodes["kind"]} if "kind" in nodes else set()
        for kind, (_, label) in NODE_SHAPES.items():
            if kind in kinds:
                row(1, f'<span class="cm-sym">{node_symbol(kind, size=14)}</span>', label)
        if "gauge_change" in nodes and bool(nodes["gauge_change"].fillna(False).astype(bool).any()):
            ring = node_symbol("city", gauge_change=True, size=14)
            row(1, f'<span class="cm-sym">{ring}</span>', "gauge change 1435/1520")
    if shade:
        head(1, "Countries")
        row(
            1,
            f'<span class="cm-box-sw" style="background:{SHADE_COLOR}"></span>',
            f"{' & '.join(shade)} (shaded)",
        )
    if user_layers:
        head(1, "Your layers")
        for n, (name, gdf) in enumerate(user_layers):
            cols[1].append(user_legend(name, gdf, n))
    by_commodity = [g for _, g in user_layers if g.attrs.get("kind") == "deposit"
                    and not g.attrs.get("color_by")]  # fmt: skip
    if deposits is not None and len(deposits):
        by_commodity.insert(0, deposits)
    if by_commodity:
        head(2, "Deposits, main commodity")
        present = {main_group(v) for g in by_commodity for v in g.get("commodities", [])}
        groups = [*((n, c) for n, c, _ in COMMODITY_GROUPS), OTHER_COMMODITY]
        for i, (label, _) in enumerate(groups):
            if i in present:
                row(2, f'<span class="cm-dot cm-c{i}"></span>', label)
        row(2, '<span class="cm-clu">12</span>', "cluster (click to split)")
    body = "".join(f"<section>{''.join(c)}</section>" for c in cols if c)
    return (
        '<div id="cm-legend" class="cm-panel cm-legend" role="region" aria-label="Legend">'
        '<button type="button" class="cm-head" aria-expanded="true">Legend</button>'
        f'<div class="cm-body">{body}</div></div>'
    )


def user_legend(name: str, gdf: gpd.GeoDataFrame, n: int) -> str:
    """One user layer's legend entry: its symbol, or one row per value it is coloured by."""
    kind = str(gdf.attrs.get("kind"))
    prop = gdf.attrs.get("color_by")

    def symbol(color: str) -> str:
        if kind == "segment":
            return swatch_line(color, 3.5)
        if kind == "area":
            return (
                f'<span class="cm-box-sw" style="background:{color};border-color:{color}"></span>'
            )
        if kind == "node":
            return f'<span class="cm-sym">{value_symbol(color, size=14)}</span>'
        return f'<span class="cm-dot" style="background:{color}"></span>'

    def row(sym: str, text: str, cls: str = "cm-row") -> str:
        return f'<div class="{cls}">{sym}<span>{esc(text)}</span></div>'

    if not prop:
        if kind == "node":
            sym = f'<span class="cm-sym">{node_symbol("port", size=14)}</span>'
        elif kind == "deposit":
            sym = '<span class="cm-clu">3</span>'
        else:
            sym = symbol(USER_COLORS[n % len(USER_COLORS)])
        return row(sym, name)
    _, entries = value_colors(gdf, str(prop))
    rows = "".join(row(symbol(color), value) for value, color in entries)
    return (
        f'<div class="cm-colorby" data-cm-layer="{esc(name)}">'
        f'<div class="cm-sub">{esc(name)}, by {esc(prop)}</div>{rows}</div>'
    )


STATS_COLUMNS: tuple[tuple[str, str, str], ...] = (
    # key, header, tooltip of the header
    ("length_km", "km", "length of the route (km)"),
    ("transit_days", "days", "transit time, low–high (days)"),
    ("russia_km", "RU/BY km", "km through Russia and Belarus"),
    ("countries", "countries", "number of countries crossed"),
    ("border_crossings", "borders", "border crossings"),
    ("gauge_breaks", "gauge", "gauge breaks (1435/1520 mm)"),
    ("sea_km", "sea km", "km at sea, ferries included"),
    ("deposits_nearby", "deposits", "deposits near the route"),
)


def stats_html(routes: gpd.GeoDataFrame, ids: Sequence[int]) -> str:
    """The comparison table: one row per route, headline numbers, details in the row's title."""
    head = "".join(
        f'<th title="{esc(tip)}">{esc(h)}</th>' for k, h, tip in STATS_COLUMNS if k in routes
    )
    body = []
    for i in ids:
        row = routes.iloc[i]
        cells = []
        for key, _, _ in STATS_COLUMNS:
            if key not in routes:
                continue
            v = row[key]
            detail = route_value(key, v)
            if key == "transit_days" and isinstance(v, dict):
                lo, hi = v.get("low"), v.get("high")
                text = (
                    "—" if lo is None or hi is None or is_missing(lo) or is_missing(hi)
                    else f"{float(lo):.0f}–{float(hi):.0f}"
                )  # fmt: skip
            elif key.endswith("_km"):
                text = detail
            else:
                text = headline(v)
            cls = ' class="cm-ru"' if key == "russia_km" and through_russia(v) else ""
            cells.append(f'<td{cls} title="{esc(detail)}">{esc(text)}</td>')
        color = ROUTE_COLORS[i % len(ROUTE_COLORS)]
        name = fmt(row.get("name")) or fmt(row.get("id"))
        body.append(
            f'<tr data-cm-route="{int(i)}">'
            f'<td class="cm-rn" title="{esc(name)} (click to show on the map)">'
            f'<span class="cm-rsw" style="background:{color}"></span>{esc(short_name(name))}</td>'
            f"{''.join(cells)}</tr>"
        )
    return (
        '<div id="cm-stats" class="cm-panel cm-stats" role="region" aria-label="Route comparison">'
        '<button type="button" class="cm-head" aria-expanded="true">Reference routes compared'
        "</button>"
        f'<div class="cm-body"><table><thead><tr><th>route</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
        '<p class="cm-note">From the route statistics. Click a row to show the route; '
        "hover a number for details.</p>"
        "</div></div>"
    )


# ---------------------------------------------------------------------------------------------
# Route maps
# ---------------------------------------------------------------------------------------------


def route_stats_html(stats: dict[str, Any], query: dict[str, Any] | None = None) -> str:
    """Every statistic of one route, one row each, in the order of :data:`STAT_LABELS`."""
    rows = []
    for key, label in STAT_LABELS:
        if key not in stats:
            continue
        cls = ' class="cm-ru"' if key == "russia_km" and through_russia(stats[key]) else ""
        rows.append(
            f'<tr data-cm-stat="{esc(key)}"><th>{esc(label)}</th>'
            f"<td{cls}>{esc(route_value(key, stats[key]))}</td></tr>"
        )
    constraints = fmt((query or {}).get("constraints"))
    note = f"Route {constraints}. " if constraints else ""
    return (
        '<div id="cm-stats" class="cm-panel cm-stats cm-route-stats" role="region" '
        'aria-label="Route statistics">'
        '<button type="button" class="cm-head" aria-expanded="true">Route statistics</button>'
        f'<div class="cm-body"><table><tbody>{"".join(rows)}</tbody></table>'
        f'<p class="cm-note">{esc(note)}From the route statistics; click a leg or a place '
        "for details.</p></div></div>"
    )


def route_legend_html(legs: gpd.GeoDataFrame, shade: Sequence[str], *, gauge_breaks: bool) -> str:
    """The route map's legend: modes and line statuses drawn, places on the path, shading."""
    rows: list[str] = []

    def row(symbol: str, text: str) -> None:
        rows.append(f'<div class="cm-row">{symbol}<span>{esc(text)}</span></div>')

    modes = {str(m) for m in legs["mode"]} if "mode" in legs else set()
    rows.append("<h3>Legs, by mode</h3>")
    for mode in [*(m for m in MODE_COLORS if m in modes), *sorted(modes - set(MODE_COLORS))]:
        row(swatch_line(MODE_COLORS.get(mode, "#555"), 5), mode)
    statuses = {str(s) for s in legs["status"]} if "status" in legs else set()
    if statuses - {"operational"}:
        rows.append("<h3>Line status</h3>")
        for status, label in STATUS_LABEL.items():
            if status in statuses or (status == "planned" and "proposed" in statuses):
                row(swatch_line("#444", 3, 1, STATUS_DASH[status]), label)
    rows.append("<h3>Places</h3>")
    row(f'<span class="cm-sym">{node_symbol("city", size=14)}</span>', "origin / destination")
    row(f'<span class="cm-sym">{node_symbol("hub", size=14)}</span>', "stop on the path")
    if gauge_breaks:
        ring = node_symbol("city", gauge_change=True, size=14)
        row(f'<span class="cm-sym">{ring}</span>', "gauge break")
    return one_column_legend(rows, shade)


def one_column_legend(rows: list[str], shade: Sequence[str]) -> str:
    """A one-column legend box from escaped rows, closed by the shaded countries' swatch."""
    if shade:
        swatch = f'<span class="cm-box-sw" style="background:{SHADE_COLOR}"></span>'
        rows = [*rows, f'<div class="cm-row">{swatch}<span>{esc(" & ".join(shade))} (shaded)'
                "</span></div>"]  # fmt: skip
    return (
        '<div id="cm-legend" class="cm-panel cm-legend" role="region" aria-label="Legend">'
        '<button type="button" class="cm-head" aria-expanded="true">Legend</button>'
        f'<div class="cm-body"><section>{"".join(rows)}</section></div></div>'
    )
