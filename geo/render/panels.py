"""Map panels: the legend and the statistics boxes, rendered from ``templates/*.html``.

The panels show what :mod:`geo.analysis.stats` computed, formatted by
:func:`geo.render.style.route_value`; they never recompute a statistic. The page runtime moves them
into the map as controls.

Data reaches the HTML only as template variables of :data:`TEMPLATES`, which escapes every
``{{ value }}``; the only markup passed in is the constant SVG of :mod:`geo.render.style`, as
:class:`Symbol` ``svg``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import jinja2
import jinja2.ext
import pandas as pd
from markupsafe import Markup

from .style import (
    COMMODITY_GROUPS,
    CORRIDORS,
    MODE_COLORS,
    MODE_LINES,
    NODE_SHAPES,
    NOT_OPERATING_OPACITY,
    OTHER_COMMODITY,
    PIPELINE_FUELS,
    PIPELINE_STATUS,
    PIPELINE_WEIGHT,
    RUSSIA_COLOR,
    SHADE_COLOR,
    STAT_LABELS,
    STATUS_DASH,
    STATUS_LABEL,
    USER_COLORS,
    corridor_color,
    fmt,
    fmt_column,
    headline,
    is_missing,
    main_groups,
    node_symbol,
    route_color,
    route_value,
    short_names,
    status_group,
    swatch_line,
    through_russia,
    user_symbol,
    value_colors,
    value_symbol,
)

__all__ = [
    "STATS_COLUMNS",
    "TEMPLATES",
    "Entry",
    "Symbol",
    "heading",
    "legend_html",
    "line_symbol",
    "mode_symbol",
    "one_column_legend",
    "pipeline_entries",
    "render",
    "route_legend_html",
    "route_stats_html",
    "row",
    "stats_html",
    "toggle",
    "user_entry",
    "user_legend",
]


class _JoinLines(jinja2.ext.Extension):
    """Joins each template file's lines before it is compiled.

    Template files are indented HTML for people; the panels are one line with no whitespace
    between tags (as the pages always had). A line break and the indentation after it are
    layout only: they are removed from the template source before it is compiled.
    """

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return re.sub(r"\n[ \t]*", "", source)


def _escape(value: Any) -> Any:
    """Escape like :func:`html.escape` (``'`` as ``&#x27;``), so the pages keep their bytes.

    Called on every ``{{ value }}`` before autoescape; markup (the constant symbols, macro
    output) passes as it is, anything else becomes escaped text.
    """
    if hasattr(value, "__html__"):
        return value
    return Markup(html.escape(str(value), quote=True))


TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("geo.render", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=False,
    finalize=_escape,
    extensions=[_JoinLines],
)
"""The one template environment of the render room: autoescaped, strict about missing names."""


def render(name: str, **values: Any) -> str:
    """Render ``templates/<name>`` with ``values`` as its variables (never as its source)."""
    return TEMPLATES.get_template(name).render(**values)


_NO_SVG = Markup("")


@dataclass(frozen=True)
class Symbol:
    """A legend symbol; ``templates/_macros.html`` turns it into markup.

    ``kind`` is one of ``svg`` (``svg`` as it is), ``sym`` (``svg`` in a 14 px box), ``dot``
    (a marker dot of CSS class ``cls``), ``color-dot``, ``box``, ``box-border`` (of ``color``),
    ``cluster`` (a cluster badge showing ``text``). ``svg`` must come from constants only.
    """

    kind: str
    svg: Markup = _NO_SVG
    cls: str = ""
    color: str = ""
    text: str = ""


@dataclass(frozen=True)
class Entry:
    """A legend entry: ``head`` (a heading), ``row`` (symbol and text), or ``colorby``.

    A ``colorby`` entry is a user layer named ``text`` coloured by property ``prop``, with one
    row per value in ``rows``. A row with a ``filter`` is also a checkbox of the in-page filter
    (``line``, ``pipe``, ``commodity`` or ``deposit``) for the things of that ``value``.
    """

    kind: str
    text: str
    symbol: Symbol | None = None
    prop: str = ""
    rows: tuple[Entry, ...] = ()
    filter: str = ""
    value: str = ""


def heading(text: str) -> Entry:
    """A legend heading."""
    return Entry("head", text)


def row(symbol: Symbol, text: str) -> Entry:
    """A legend row: a symbol and its text."""
    return Entry("row", text, symbol)


def toggle(symbol: Symbol, text: str, filter_name: str, value: object) -> Entry:
    """A legend row that is also a checkbox: unticked, the map hides what it stands for."""
    return Entry("row", text, symbol, filter=filter_name, value=str(value))


def line_symbol(color: str, weight: float, opacity: float = 1.0, dash: str | None = None) -> Symbol:
    """A line swatch (:func:`geo.render.style.swatch_line`) of a constant colour."""
    return Symbol("svg", svg=Markup(swatch_line(color, weight, opacity, dash)))


def _node(kind: str, *, gauge_change: bool = False) -> Symbol:
    return Symbol("sym", svg=Markup(node_symbol(kind, gauge_change=gauge_change, size=14)))


def _shade_row(shade: Sequence[str]) -> Entry:
    return row(Symbol("box", color=SHADE_COLOR), f"{' & '.join(shade)} (shaded)")


def legend_html(
    segments: gpd.GeoDataFrame | None,
    nodes: gpd.GeoDataFrame | None,
    deposits: gpd.GeoDataFrame | None,
    highlight: str,
    shade: Sequence[str],
    has_routes: bool,
    user_layers: Sequence[tuple[str, gpd.GeoDataFrame]] = (),
    *,
    pipelines: gpd.GeoDataFrame | None = None,
    terminals: gpd.GeoDataFrame | None = None,
    commodity_groups: Collection[int] | None = None,
    statuses: Collection[str] | None = None,
) -> str:
    """The legend: only what the map draws, in three columns.

    Lines; pipelines, places, countries and the user's layers; deposits. A user layer
    coloured by a property lists each of its values with its colour.

    ``commodity_groups`` and ``statuses``, when the caller has them (the deposit payloads do): the
    main commodity groups (:func:`~geo.render.style.main_groups`) of the deposits drawn by
    commodity that have ``commodities``, and the statuses (missing: ``"unknown"``) of those that
    have ``status``; else they are read off the layers here.
    """
    cols: list[list[Entry]] = [[], [], []]
    if segments is not None and len(segments):
        cols[0] += _line_entries(segments, highlight, has_routes)
    places = {str(k) for k in nodes["kind"]} if nodes is not None and "kind" in nodes else set()
    # the places' terminal symbol is the terminals' own: listed once
    cols[1] += pipeline_entries(pipelines, None if "terminal" in places else terminals)
    if nodes is not None and len(nodes):
        cols[1].append(heading("Places"))
        kinds = {str(k) for k in nodes["kind"]} if "kind" in nodes else set()
        cols[1] += [row(_node(kind), label) for kind, (_, label) in NODE_SHAPES.items()
                    if kind in kinds]  # fmt: skip
        if "gauge_change" in nodes and bool(nodes["gauge_change"].fillna(False).astype(bool).any()):
            cols[1].append(row(_node("city", gauge_change=True), "gauge change 1435/1520"))
    if shade:
        cols[1] += [heading("Countries"), _shade_row(shade)]
    if user_layers:
        cols[1].append(heading("Your layers"))
        cols[1] += [user_entry(name, gdf, n) for n, (name, gdf) in enumerate(user_layers)]
    by_commodity = [g for _, g in user_layers if g.attrs.get("kind") == "deposit"
                    and not g.attrs.get("color_by")]  # fmt: skip
    if deposits is not None and len(deposits):
        by_commodity.insert(0, deposits)
    if by_commodity:
        cols[2].append(heading("Deposits, main commodity"))
        present = set(commodity_groups) if commodity_groups is not None else {
            int(i) for g in by_commodity if "commodities" in g
            for i in set(main_groups(g["commodities"]).tolist())}  # fmt: skip
        groups = [*((n, c) for n, c, _ in COMMODITY_GROUPS), OTHER_COMMODITY]
        cols[2] += [toggle(Symbol("dot", cls=f"cm-c{i}"), label, "commodity", i)
                    for i, (label, _) in enumerate(groups) if i in present]  # fmt: skip
        cols[2] += _deposit_status_entries(by_commodity, statuses)
        cols[2].append(row(Symbol("cluster", text="12"), "cluster (click to split)"))
    return render("legend.html", columns=[c for c in cols if c])


DEPOSIT_STATUS_ORDER = ("producing", "development", "exploration", "closed", "unknown")


def _deposit_status_entries(
    layers: Sequence[gpd.GeoDataFrame], statuses: Collection[str] | None = None
) -> list[Entry]:
    """The deposit statuses present, each a checkbox of the in-page filter."""
    present = set(statuses) if statuses is not None else {
        t or "unknown" for g in layers if "status" in g
        for t in pd.unique(fmt_column(g["status"])).tolist()}  # fmt: skip
    if len(present) < 2:
        return []
    order = [*(s for s in DEPOSIT_STATUS_ORDER if s in present), *sorted(present
             - set(DEPOSIT_STATUS_ORDER))]  # fmt: skip
    return [heading("Deposit status"),
            *(toggle(Symbol("dot", cls="cm-c-any"), status, "deposit", status)
              for status in order)]  # fmt: skip


def pipeline_entries(
    pipelines: gpd.GeoDataFrame | None, terminals: gpd.GeoDataFrame | None = None
) -> list[Entry]:
    """The legend's "Pipelines" section: the fuel colours and the status line styles drawn.

    Empty when there are no pipelines and no terminals.
    """
    out: list[Entry] = []
    if pipelines is not None and len(pipelines):
        fuels = {str(f) for f in pipelines["fuel"]} if "fuel" in pipelines else set()
        statuses = {str(s) for s in pipelines["status"]} if "status" in pipelines else set()
        out += [row(line_symbol(color, PIPELINE_WEIGHT + 0.8), label)
                for fuel, (label, color) in PIPELINE_FUELS.items() if fuel in fuels]  # fmt: skip
        seen: set[str] = set()
        for status, (text, dash, opacity) in PIPELINE_STATUS.items():
            if status in statuses and text not in seen:
                seen.add(text)
                out.append(toggle(line_symbol("#555", PIPELINE_WEIGHT, opacity, dash), text,
                                  "pipe", status_group(status)))  # fmt: skip
    if terminals is not None and len(terminals):
        out.append(row(_node("terminal"), "oil or gas terminal"))
    return [heading("Pipelines"), *out] if out else []


def _line_entries(segments: gpd.GeoDataFrame, highlight: str, has_routes: bool) -> list[Entry]:
    """The legend's first column: corridors as drawn, then the line statuses present."""
    out = [heading("Corridors")]
    corridors = sorted({str(c) for c in segments["corridor"]}, key=lambda c: (c != highlight, c))
    others = sorted(c for c in corridors if c not in CORRIDORS)
    rus = segments["russia_km"].map(through_russia) if "russia_km" in segments else None
    modes = {str(m) for m in segments["mode"]} if "mode" in segments else {"rail"}
    for c in corridors:
        own = (segments["corridor"].astype(str) == c).to_numpy()
        if rus is not None and bool(rus[own].all()):
            continue  # drawn entirely in the Russia colour
        weight = 5.5 if c == highlight else 3.2
        out.append(
            row(line_symbol(corridor_color(c, others), weight), CORRIDORS.get(c, (c, ""))[0])
        )
    if rus is not None and bool(rus.any()):
        out.append(row(line_symbol(RUSSIA_COLOR, 3.2), "Through Russia"))
    if has_routes:
        out.append(row(line_symbol("#888", 9, 0.35), "Reference route (its corridor's colour)"))
    if len(modes) > 1:
        out.append(heading("Mode"))
        out += [row(mode_symbol(mode, "#444", 3.2), text)
                for mode, (text, _, _) in MODE_LINES.items() if mode in modes]  # fmt: skip
    out.append(heading("Line status"))
    statuses = {str(s) for s in segments["status"]} if "status" in segments else set()
    for status, label in STATUS_LABEL.items():
        if status in statuses or (status == "planned" and "proposed" in statuses):
            weight_op = 0.6 if status == "suspended" else 1
            out.append(toggle(line_symbol("#444", 3, weight_op, STATUS_DASH[status]), label,
                              "line", status_group(status)))  # fmt: skip
    if modes & {m for m, (_, _, dash) in MODE_LINES.items() if dash}:
        out.append(row(line_symbol("#444", 3, NOT_OPERATING_OPACITY, "14 4 3 4"),
                       "ferry or road not yet operating (faint)"))  # fmt: skip
    return out


def mode_symbol(mode: str, color: str, weight: float) -> Symbol:
    """A line swatch of ``mode`` as drawn (:data:`~geo.render.style.MODE_LINES`)."""
    _, share, dash = MODE_LINES.get(mode, MODE_LINES["rail"])
    return line_symbol(color, round(weight * share, 1), 1.0, dash)


def user_entry(name: str, gdf: gpd.GeoDataFrame, n: int) -> Entry:
    """One user layer's legend entry: its symbol, or one row per value it is coloured by."""
    kind = str(gdf.attrs.get("kind"))
    prop = gdf.attrs.get("color_by")

    def symbol(color: str) -> Symbol:
        if kind == "segment":
            return line_symbol(color, 3.5)
        if kind == "area":
            return Symbol("box-border", color=color)
        if kind == "node":
            return Symbol("sym", svg=Markup(value_symbol(color, size=14)))
        return Symbol("color-dot", color=color)

    if not prop:
        if kind == "node":
            sym = Symbol("sym", svg=Markup(user_symbol("port", USER_COLORS[n % len(USER_COLORS)],
                                                       size=14)))  # fmt: skip
        elif kind == "deposit":
            sym = Symbol("dot", cls="cm-user cm-c0")
        else:
            sym = symbol(USER_COLORS[n % len(USER_COLORS)])
        return row(sym, name)
    _, entries = value_colors(gdf, str(prop))
    rows = tuple(row(symbol(color), value) for value, color in entries)
    return Entry("colorby", name, prop=str(prop), rows=rows)


def user_legend(name: str, gdf: gpd.GeoDataFrame, n: int) -> str:
    """One user layer's legend entry as HTML (see :func:`user_entry`)."""
    return render("entry.html", entry=user_entry(name, gdf, n))


STATS_COLUMNS: tuple[tuple[str, str, str], ...] = (
    # key, header, tooltip of the header
    ("length_km", "km", "length of the route (km)"),
    ("transit_days", "days", "transit time, low–high (days)"),
    ("russia_belarus_km", "RU+BY km", "km through Russia and Belarus together (RUS + BLR)"),
    ("countries", "countries", "number of countries crossed"),
    ("border_crossings", "borders", "border crossings"),
    ("gauge_breaks", "gauge", "gauge breaks (1435/1520 mm)"),
    ("sea_km", "sea km", "km at sea, ferries included"),
    ("deposits_nearby", "deposits", "deposits near the route"),
)


def _cell(key: str, v: Any) -> dict[str, Any]:
    """One cell of the comparison: the headline number, its detail, the Russia flag."""
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
    russia = key in ("russia_km", "russia_belarus_km") and through_russia(v)
    return {"text": text, "detail": detail, "russia": russia}


def stats_html(routes: gpd.GeoDataFrame, ids: Sequence[int]) -> str:
    """The comparison table: one row per route, headline numbers, details in the row's title."""
    keys = [k for k, _, _ in STATS_COLUMNS if k in routes]
    columns = [{"header": h, "tip": tip} for k, h, tip in STATS_COLUMNS if k in routes]
    rows = []
    names = [fmt(routes.iloc[i].get("name")) or fmt(routes.iloc[i].get("id")) for i in ids]
    shorts = short_names(names)
    for k, i in enumerate(ids):
        row = routes.iloc[i]
        name = names[k]
        rows.append({
            "index": int(i),
            "name": name,
            "short": shorts[k],
            "color": route_color(name, i),
            "cells": [_cell(key, row[key]) for key in keys],
        })  # fmt: skip
    return render("stats.html", columns=columns, rows=rows)


# ---------------------------------------------------------------------------------------------
# Route maps
# ---------------------------------------------------------------------------------------------


def route_stats_html(stats: dict[str, Any], query: dict[str, Any] | None = None) -> str:
    """Every statistic of one route, one row each, in the order of :data:`STAT_LABELS`."""
    rows = [
        {"key": key, "label": label, "value": route_value(key, stats[key]),
         "russia": key == "russia_km" and through_russia(stats[key])}
        for key, label in STAT_LABELS
        if key in stats
    ]  # fmt: skip
    constraints = fmt((query or {}).get("constraints"))
    return render("route_stats.html", rows=rows, constraints=constraints)


def route_legend_html(legs: gpd.GeoDataFrame, shade: Sequence[str], *, gauge_breaks: bool) -> str:
    """The route map's legend: modes and line statuses drawn, places on the path, shading."""
    modes = {str(m) for m in legs["mode"]} if "mode" in legs else set()
    entries = [heading("Legs, by mode")]
    for mode in [*(m for m in MODE_COLORS if m in modes), *sorted(modes - set(MODE_COLORS))]:
        entries.append(row(mode_symbol(mode, MODE_COLORS.get(mode, "#555"), 5), mode))
    statuses = {str(s) for s in legs["status"]} if "status" in legs else set()
    if statuses - {"operational"}:
        entries.append(heading("Line status"))
        for status, label in STATUS_LABEL.items():
            if status in statuses or (status == "planned" and "proposed" in statuses):
                entries.append(row(line_symbol("#444", 3, 1, STATUS_DASH[status]), label))
    entries += [
        heading("Places"),
        row(_node("city"), "origin / destination"),
        row(_node("hub"), "stop on the path"),
    ]
    if gauge_breaks:
        entries.append(row(_node("city", gauge_change=True), "gauge break"))
    return one_column_legend(entries, shade)


def one_column_legend(entries: Sequence[Entry], shade: Sequence[str]) -> str:
    """A one-column legend box of ``entries``, closed by the shaded countries' swatch."""
    if shade:
        entries = [*entries, _shade_row(shade)]
    return render("one_column_legend.html", entries=entries)
