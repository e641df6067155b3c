"""Map layers: validated GeoDataFrames -> the JSON payloads the page runtime draws.

Coordinates are rounded (:data:`COORD_DECIMALS`), features keep a fixed order, and every
property value goes out as display text (:func:`geo.render.style.fmt`), never as markup. Each
payload is one ``CorridorMap.add`` call (see ``geo/render/static/corridor.js``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, NotRequired, TypedDict, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..data.drawn import simplified
from ..data.schema import SCHEMA
from ..errors import GeoError
from .cards import Coded, card
from .style import (
    COMMODITY_GROUPS,
    CORRIDORS,
    MODE_COLORS,
    MODE_LINES,
    NODE_SHAPES,
    OTHER_VALUE_COLOR,
    ROUTE_FIELDS,
    RUSSIA_COLOR,
    STATUS_DASH,
    STATUS_LABEL,
    USER_COLORS,
    VALUE_PALETTE,
    corridor_color,
    esc,
    fmt,
    fmt_column,
    is_missing,
    line_style,
    main_groups,
    mode_style,
    node_symbol,
    route_color,
    route_value,
    short_names,
    status_group,
    status_groups,
    swatch_line,
    through_russia,
    user_symbol,
    value_colors,
    value_symbol,
)

COORD_DECIMALS = 5
COUNTRY_DECIMALS = 3  # the country base is only a backdrop
COUNTRY_SIMPLIFY_DEG = 0.04  # display-only simplification, ~4 km
COUNTRY_MIN_AREA = 0.02  # deg²: smaller islands are left out of the base (largest part kept)
USER_GROUP = "Your layers"


# ---------------------------------------------------------------------------------------------
# What geo/render/static/corridor.js reads (CorridorMap.add): one TypedDict per layer kind
# ---------------------------------------------------------------------------------------------


class LineFeature(TypedDict):
    """A line: latlngs ``c``, index ``s`` into the styles, tooltip ``t``, popup row ``v``.

    ``l``: source links as ``[name, url]`` (a card popup shows the names as links); ``st``: the
    status group the in-page filter reads (:func:`geo.render.style.status_group`).
    """

    c: Any
    s: int
    t: str
    v: list[str]
    l: NotRequired[list[list[str]]]  # noqa: E741
    st: NotRequired[str]


class NodeFeature(TypedDict):
    """A place: latlng ``c``, index ``i`` into the layer's icons, tooltip ``t``, popup row ``v``.

    ``l``: source links as ``[name, url]``, as for a line.
    """

    c: Any
    i: int
    t: str
    v: list[str]
    l: NotRequired[list[list[str]]]  # noqa: E741


class PolygonFeature(TypedDict):
    """A polygon: feature index ``k``, rings ``c`` (:func:`encode_rings`), ``t`` and ``v``.

    With colour-by it also carries its style index ``s``.
    """

    k: int
    c: list[list[list[int]]]
    t: str
    v: list[str]
    s: NotRequired[int]


class RouteFeature(TypedDict):
    """A reference route's line: latlngs ``c``, tooltip ``t``, popup row ``v``."""

    c: Any
    t: str
    v: list[str]


class Column(TypedDict, total=False):
    """A column of display text: plain, dictionary-coded or front-coded.

    Values ``v``; or a dictionary ``d`` and codes ``i`` (``c`` where every code is below 64,
    one character each: :func:`small_numbers`); or front coding: ``f`` characters shared with
    the value before (``g`` in characters, as ``c``) and the rest ``s``.
    """

    d: list[str]
    i: list[int]
    c: str
    v: list[str]
    f: list[int]
    g: str
    s: list[str]


class LinesLayer(TypedDict):
    """``kind: "lines"``: segments, legs, user lines.

    ``label`` is trusted HTML (a constant symbol and escaped text) for the layer control.
    ``card``: popups for readers (the first value is the title, empty values are left out,
    the features' links close them); ``attr``: the layer's attribution (text) while shown.
    """

    kind: Literal["lines"]
    group: str
    label: str
    show: bool
    pane: str
    cols: list[str]
    styles: list[dict[str, Any]]
    f: list[LineFeature]
    card: NotRequired[bool]
    attr: NotRequired[str]
    links: NotRequired[int]
    notes: NotRequired[int]


class NodesLayer(TypedDict):
    """``kind: "nodes"``: places drawn with ``icons`` (constant SVG); ``card`` as for lines."""

    kind: Literal["nodes"]
    group: str
    label: str
    show: bool
    cols: list[str]
    icons: list[str]
    f: list[NodeFeature]
    card: NotRequired[bool]
    links: NotRequired[int]
    notes: NotRequired[int]


class DepositsLayer(TypedDict):
    """``kind: "deposits"``: clustered points ``p`` (``[lat, lon, colour code, status code]``).

    Their properties travel as columns ``data``; ``cls`` is the marker class prefix for
    colour-by; ``sts`` names the status codes (the in-page filter reads them).
    """

    kind: Literal["deposits"]
    group: str
    label: str
    show: bool
    cols: list[str]
    data: list[Column]
    p: list[list[float]]
    cls: NotRequired[str]
    sts: NotRequired[list[str]]
    user: NotRequired[bool]
    card: NotRequired[bool]
    links: NotRequired[int]
    notes: NotRequired[int]


class PolygonsLayer(TypedDict):
    """``kind: "polygons"``: rings scaled by ``scale``; ``ref`` reuses the base's features."""

    kind: Literal["polygons"]
    group: str
    label: str
    show: bool
    base: bool
    pane: str
    interactive: bool
    style: dict[str, Any]
    scale: int
    cols: list[str]
    f: list[PolygonFeature]
    ref: NotRequired[list[int]]
    styles: NotRequired[list[dict[str, Any]]]
    card: NotRequired[bool]
    links: NotRequired[int]
    notes: NotRequired[int]


class RouteLayer(TypedDict):
    """``kind: "route"``: reference route number ``route``, one feature."""

    kind: Literal["route"]
    group: str
    label: str
    show: bool
    route: int
    cols: list[str]
    style: dict[str, Any]
    f: list[RouteFeature]


LayerPayload = LinesLayer | NodesLayer | DepositsLayer | PolygonsLayer | RouteLayer
"""Any one argument of ``CorridorMap.add``."""


DRAW_SIMPLIFY_DEG = 0.002  # corridors, routes and legs as drawn: about 200 m, never seen on a map


def drawn(geom: Any) -> Any:
    """A line as the page draws it, simplified by :data:`DRAW_SIMPLIFY_DEG`.

    The statistics use the full geometry; traced lines carry a vertex every few hundred metres.
    """
    if geom is None or geom.is_empty or geom.geom_type not in ("LineString", "MultiLineString"):
        return geom
    return shapely.simplify(geom, DRAW_SIMPLIFY_DEG, preserve_topology=False)


def latlngs(geom: Any, decimals: int = COORD_DECIMALS) -> Any:
    """Leaflet latlngs of a geometry, rounded; nested the way L.polyline/L.polygon expect."""
    if geom is None or geom.is_empty:
        return []
    kind = geom.geom_type
    if kind == "Point":
        return [round(geom.y, decimals), round(geom.x, decimals)]
    if kind in ("LineString", "LinearRing"):
        xy = np.round(shapely.get_coordinates(geom), decimals)
        keep = np.ones(len(xy), dtype=bool)
        keep[1:] = np.any(xy[1:] != xy[:-1], axis=1)  # rounding may merge vertices
        return xy[keep][:, ::-1].tolist()
    if kind == "Polygon":
        return [latlngs(geom.exterior, decimals)] + [latlngs(r, decimals) for r in geom.interiors]
    if kind in ("MultiLineString", "MultiPolygon", "GeometryCollection", "MultiPoint"):
        return [latlngs(g, decimals) for g in geom.geoms if not g.is_empty]
    msg = f"latlngs: cannot draw a {kind}; validated layers hold no such geometry"
    raise TypeError(msg)


def drawn_all(geoms: Any) -> np.ndarray:
    """:func:`drawn` of every geometry of an array, simplified in one call."""
    arr = np.asarray(geoms, dtype=object)
    out = arr.copy()
    kind = shapely.get_type_id(arr)
    lines = np.isin(kind, [shapely.GeometryType.LINESTRING, shapely.GeometryType.MULTILINESTRING])
    lines &= ~shapely.is_empty(arr)
    out[lines] = shapely.simplify(arr[lines], DRAW_SIMPLIFY_DEG, preserve_topology=False)
    return out


def latlngs_of(geoms: Any, decimals: int = COORD_DECIMALS) -> list[Any]:
    """:func:`latlngs` of every geometry of an array, the lines' coordinates in one pass.

    Lines and linear rings are rounded, freed of repeated vertices and turned into lists all at
    once; a multi-line is its parts' latlngs; any other geometry goes through :func:`latlngs`.
    The result is exactly ``[latlngs(g, decimals) for g in geoms]``.

    >>> latlngs_of([shapely.LineString([(1, 2), (1.000001, 2), (3, 4)]), None, shapely.Point(5, 6)])
    [[[2.0, 1.0], [4.0, 3.0]], [], [6.0, 5.0]]
    """
    arr = np.asarray(geoms, dtype=object).ravel()
    out: list[Any] = [[] for _ in range(len(arr))]
    kind = shapely.get_type_id(arr)
    line = (kind == shapely.GeometryType.LINESTRING) | (kind == shapely.GeometryType.LINEARRING)
    at = np.flatnonzero(line)
    if len(at):
        xy, owner = shapely.get_coordinates(arr[at], return_index=True)
        xy = np.round(xy, decimals)
        keep = np.ones(len(xy), dtype=bool)
        keep[1:] = np.any(xy[1:] != xy[:-1], axis=1) | (owner[1:] != owner[:-1])
        flat = xy[keep][:, ::-1].tolist()
        ends = np.cumsum(np.bincount(owner[keep], minlength=len(at))).tolist()
        for j, end, start in zip(at.tolist(), ends, [0, *ends[:-1]], strict=True):
            out[j] = flat[start:end]
    multi = np.flatnonzero(kind == shapely.GeometryType.MULTILINESTRING)
    if len(multi):
        parts, owner = shapely.get_parts(arr[multi], return_index=True)
        full = ~shapely.is_empty(parts)
        drawn_parts = latlngs_of(parts[full], decimals)
        for k, part in zip(multi[owner[full]].tolist(), drawn_parts, strict=True):
            out[k].append(part)
    for j in np.flatnonzero(~line & (kind != shapely.GeometryType.MULTILINESTRING)).tolist():
        out[j] = latlngs(arr[j], decimals)
    return out


def property_columns(
    gdf: gpd.GeoDataFrame, kind: str | None, first: Sequence[str] = ()
) -> list[str]:
    """Every property column: the kind's schema order, then the others sorted by name."""
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    order = list(first) + ([f.name for f in SCHEMA[kind].fields] if kind in SCHEMA else [])
    known = [c for c in dict.fromkeys(order) if c in cols]
    return known + sorted((c for c in cols if c not in known), key=str)


def display_rows(gdf: gpd.GeoDataFrame, cols: list[str]) -> list[list[str]]:
    """The values of ``cols`` as display text (:func:`fmt`), one list per feature, in row order."""
    if not cols:
        return [[] for _ in range(len(gdf))]
    rows: list[list[str]] = np.column_stack([fmt_column(gdf[c]) for c in cols]).tolist()
    return rows


def text_column(gdf: pd.DataFrame, col: str, default: str) -> list[str]:
    """``str`` of each value of ``col``, or ``default`` for each row when there is no ``col``.

    >>> frame = pd.DataFrame({"mode": ["rail", "sea"]})
    >>> text_column(frame, "mode", "rail"), text_column(frame, "status", "operational")
    (['rail', 'sea'], ['operational', 'operational'])
    """
    if col not in gdf:
        return [default] * len(gdf)
    return [str(v) for v in gdf[col].tolist()]


def is_empty(gdf: gpd.GeoDataFrame | None) -> bool:
    """Whether there is no layer or a layer without features (nothing to draw)."""
    return gdf is None or len(gdf) == 0


# ---------------------------------------------------------------------------------------------
# Layer payloads
# ---------------------------------------------------------------------------------------------


def segment_layers(
    segments: gpd.GeoDataFrame, highlight: str, *, countries: Mapping[str, str] | None = None
) -> list[LinesLayer]:
    """One "lines" layer per corridor of ``segments``, the ``highlight`` corridor first.

    Segments through Russia or Belarus are drawn in the Russia colour, the others in their
    corridor's; the mode sets the width and pattern and the status the dash or the opacity
    (:func:`geo.render.style.mode_style`), and the highlighted corridor is wider and cased on
    its own pane.

    Parameters
    ----------
    segments
        The segment layer (``corridor``, ``mode``, ``status``, ``russia_km`` ...).
    highlight
        The corridor id drawn on top, e.g. ``"TITR"``.
    countries
        Country names by alpha-3 code, for the popups (:func:`geo.render.cards.card`).

    Returns
    -------
    list of dict
        :class:`LinesLayer` payloads for the page runtime.
    """
    popups = card(segments, "segment", countries=countries)
    rows = popups.rows()
    corridors = sorted({str(c) for c in segments["corridor"]}, key=lambda c: (c != highlight, c))
    others = sorted(c for c in corridors if c not in CORRIDORS)
    corridor_of = segments["corridor"].astype(str).to_numpy()
    statuses = text_column(segments, "status", "operational")
    modes = text_column(segments, "mode", "rail")
    russia = [through_russia(v) for v in segments["russia_km"].tolist()] if (
        "russia_km" in segments) else [False] * len(segments)  # fmt: skip
    names = fmt_column(segments["name"]).tolist() if "name" in segments else [""] * len(segments)
    coords = latlngs_of(drawn_all(segments.geometry.values))
    layers: list[LinesLayer] = []
    for corridor in corridors:
        styles: list[dict[str, Any]] = []
        feats: list[LineFeature] = []
        top = corridor == highlight
        for i in np.flatnonzero(corridor_of == corridor).tolist():
            status, mode = statuses[i], modes[i]
            color = RUSSIA_COLOR if russia[i] else corridor_color(corridor, others)
            style = mode_style(color, 5.5 if top else 3.2, mode, status)
            if top:
                style["casing"] = round(style["weight"] + 3.5, 1)
            if style not in styles:
                styles.append(style)
            status_label = STATUS_LABEL.get(status, status).replace(" / proposed", "")
            if status == "proposed":
                status_label = "proposed"
            via = " · through Russia" if russia[i] else ""
            feats.append(
                {
                    "c": coords[i],
                    "s": styles.index(style),
                    "t": f"{names[i]} ({mode}, {status_label}{via})",
                    "v": rows[i],
                    "st": status_group(status),
                }
            )
        label = CORRIDORS.get(corridor, (corridor, ""))[0]
        color = CORRIDORS.get(corridor, ("", corridor_color(corridor, others)))[1]
        layers.append(
            {
                "kind": "lines",
                "group": "Corridors",
                "label": swatch_line(color, 5 if corridor == highlight else 3) + esc(label),
                "show": True,
                "pane": "cmTitr" if corridor == highlight else "cmLines",
                "cols": popups.labels,
                "styles": styles,
                "f": feats,
                "card": True,
                "links": popups.links,
                "notes": popups.notes,
            }
        )
    return layers


NETWORK_SIMPLIFY_DEG = (
    0.01  # drawing only: about 1 km, below what the map shows at the zoom it opens
)
NETWORK_COLOR = "#8a8f98"


def network_layer(
    rail: gpd.GeoDataFrame,
    *,
    label: str = "Rail network (traced)",
    countries: Mapping[str, str] | None = None,
) -> LinesLayer:
    """The traced rail network as thin grey context lines, one popup row per line.

    Lines are simplified for drawing only (the statistics use the full geometry); a line's
    popup names it, its country, gauge, source and licence.
    """
    keep = [c for c in ("name", "id", "country", "gauge_mm", "length_km", "source", "licence")
            if c in rail]  # fmt: skip
    popups = card(rail[keep], "segment", countries=countries)
    rows = popups.rows()
    styles: list[dict[str, Any]] = [line_style(NETWORK_COLOR, 1.4, None, 0.85),
                                    line_style(NETWORK_COLOR, 1.4, STATUS_DASH.get("planned"),
                                               0.85)]  # fmt: skip
    # the same lines every build: simplified once, then read back (geo.data.drawn)
    geoms = simplified(np.asarray(rail.geometry.values), NETWORK_SIMPLIFY_DEG, name="network")
    coords = latlngs_of(geoms, 3)
    status = rail["status"].astype(str).to_numpy() if "status" in rail else None
    dashed = [0] * len(rail) if status is None else (status != "operational").astype(int).tolist()
    groups = status_groups(status) if status is not None else ["operational"] * len(rail)
    tips = [f"{name} (rail, {country})" for name, country
            in zip(fmt_column(rail["name"]).tolist(), fmt_column(rail["country"]).tolist(),
                   strict=True)]  # fmt: skip
    feats: list[LineFeature] = [
        {"c": c, "s": s, "t": t, "v": v, "st": st}
        for c, s, t, v, st in zip(coords, dashed, tips, rows, groups, strict=True)
    ]
    return {
        "kind": "lines", "group": "Corridors",
        "label": swatch_line(NETWORK_COLOR, 2) + esc(label), "show": True, "pane": "cmLines",
        "cols": popups.labels, "styles": styles, "f": feats,
        "card": True, "links": popups.links, "notes": popups.notes,
    }  # fmt: skip


def node_layer(
    nodes: gpd.GeoDataFrame,
    *,
    label: str,
    group: str,
    color_by: tuple[str, list[int]] | None = None,
    countries: Mapping[str, str] | None = None,
    outline: str | None = None,
) -> NodesLayer:
    """Nodes drawn by kind, or (``color_by``: property and palette codes) by value.

    ``countries``: country names by alpha-3 code, for the popups. ``outline``: a user layer's
    colour (:data:`~geo.render.style.USER_COLORS`): its places are hollow, outlined in it.
    """
    popups = card(nodes, "node", countries=countries)
    rows = popups.rows()
    icons: list[str] = []
    feats: list[NodeFeature] = []
    kinds = nodes["kind"].astype(str).tolist() if "kind" in nodes else ["terminal"] * len(nodes)
    gauges = nodes["gauge_change"].tolist() if "gauge_change" in nodes else [False] * len(nodes)
    names = fmt_column(nodes["name"]).tolist() if "name" in nodes else [""] * len(nodes)
    values = fmt_column(nodes[color_by[0]]).tolist() if color_by else []
    for i, (kind, g) in enumerate(zip(kinds, gauges, strict=True)):
        gauge = not is_missing(g) and bool(g)
        kind_text = NODE_SHAPES.get(kind, ("", kind))[1]
        tip = f"{names[i]} ({kind_text}"
        tip += ", gauge change)" if gauge else ")"
        if color_by:
            icon = value_symbol(_palette(color_by[1][i]))
            tip = f"{names[i]} ({color_by[0]}: {values[i] or '—'})"
        elif outline:
            icon = user_symbol(kind, outline)
        else:
            icon = node_symbol(kind, gauge_change=gauge)
        if icon not in icons:
            icons.append(icon)
        geom = nodes.geometry.iat[i]
        point = geom if geom.geom_type == "Point" else geom.representative_point()
        feats.append({"c": latlngs(point), "i": icons.index(icon), "t": tip, "v": rows[i]})
    return {
        "kind": "nodes",
        "group": group,
        "label": (user_symbol("port", outline, 12) if outline else node_symbol("port", size=12))
        + esc(label),
        "show": True,
        "cols": popups.labels,
        "icons": icons,
        "f": feats,
        "card": True,
        "links": popups.links,
        "notes": popups.notes,
    }


def _palette(code: int) -> str:
    return VALUE_PALETTE[code] if code < len(VALUE_PALETTE) else OTHER_VALUE_COLOR


SMALL_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"
"""Numbers below 64 as one character each (corridor.js reads them back): safe in JSON and HTML."""


def small_numbers(values: Sequence[int] | np.ndarray) -> str | None:
    """Numbers 0-63 as one character each of :data:`SMALL_DIGITS`; None if one is bigger.

    A list of small numbers costs two or three bytes each in JSON (digits and a comma); a
    100,000-point layer's five status and country columns and three front codes were a megabyte.

    >>> small_numbers([0, 9, 10, 63])
    '09A_'
    >>> small_numbers([64]) is None
    True
    """
    arr = np.asarray(values, dtype=np.int64)
    if len(arr) and (arr.min() < 0 or arr.max() >= len(SMALL_DIGITS)):
        return None
    return np.frombuffer(SMALL_DIGITS.encode("ascii"), dtype=np.uint8)[arr].tobytes().decode()


def columnar(values: Sequence[str] | np.ndarray, coded: Coded | None = None) -> Column:
    """A column as plain values, as a dictionary and codes when values repeat, or front-coded.

    ``coded``: the same column as codes into its distinct texts (:data:`~geo.render.cards.Coded`,
    every text used), when the caller has it: the values are then not counted again.

    The dictionary is sorted (code-point order), so the same column always encodes the same.
    Distinct ASCII values that share beginnings with the value before them (ids, links, names
    numbered in order) are front-coded (:func:`front_code`) when that saves a third or more.
    Codes and shared lengths below 64 are sent as characters (``c`` and ``g``, see
    :func:`small_numbers`), others as lists of numbers (``i`` and ``f``).

    >>> columnar(["b", "a", "b", "b"])
    {'d': ['a', 'b'], 'c': '1011'}
    >>> columnar(["b", "a"])
    {'v': ['b', 'a']}
    >>> columnar(["https://x.org/1", "https://x.org/2", "https://x.org/10"])
    {'g': '0EE', 's': ['https://x.org/1', '2', '10']}
    """
    plain = values if isinstance(values, list) else np.asarray(values, dtype=object).tolist()
    if coded is not None and len(coded[1]) * 2 > len(plain):
        coded = None  # mostly distinct: front-coded or plain
    # Counting distinct values in a set costs a third of factorizing them: factorize only the
    # columns that will be sent as a dictionary (ids, names and links are mostly distinct).
    elif coded is None and len(set(plain)) * 2 <= len(plain):
        codes, found = pd.factorize(np.asarray(plain, dtype=object), use_na_sentinel=False)
        coded = (codes, np.asarray(found, dtype=object))
    if coded is not None:
        codes, uniq = coded
        order = np.argsort(uniq, kind="stable")  # Python's str order, as sorted() gives
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        chars = small_numbers(rank[codes])
        if chars is not None:
            return {"d": uniq[order].tolist(), "c": chars}
        return {"d": uniq[order].tolist(), "i": rank[codes].tolist()}
    front = front_code(plain)
    if front is not None:
        shared, rest = front
        size = sum(map(len, rest)) + 4 * len(rest)  # each cell: quotes, comma and about 2 digits
        if size * 3 <= (sum(map(len, plain)) + 3 * len(plain)) * 2:
            chars = small_numbers(shared)
            return {"g": chars, "s": rest} if chars is not None else {"f": shared, "s": rest}
    return {"v": plain}


FRONT_CODE_MAX_CHARS = 256  # longer values are sent plainly (the comparison is width x rows)
FRONT_CODE_BLOCK = 1 << 16  # rows compared at once (their grids: rows x width bytes, twice)


def front_code(texts: list[str]) -> tuple[list[int], list[str]] | None:
    """Each text as (characters it shares with the text before it, the rest), or None.

    Only for ASCII texts of at most :data:`FRONT_CODE_MAX_CHARS` characters, so that Python and
    JavaScript count characters alike (JavaScript counts UTF-16 units) and the comparison stays
    small. The runtime rebuilds text ``j`` as ``text[j-1][:shared[j]] + rest[j]``.

    >>> front_code(["syn001", "syn002", "other"])
    ([0, 5, 0], ['syn001', '2', 'other'])
    >>> front_code(["Almaty", "Алматы"]) is None
    True
    """
    if not texts:
        return None
    try:
        if not "".join(texts).isascii():  # one pass in C; joining refuses what is not text
            return None
    except TypeError:
        return None
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    if lengths.max() > FRONT_CODE_MAX_CHARS:
        return None
    width = max(int(lengths.max()), 1)
    same = np.empty(len(texts) - 1, dtype=np.int64)
    for a in range(0, len(texts) - 1, FRONT_CODE_BLOCK):  # blocks: a million rows' grids are big
        b = min(a + FRONT_CODE_BLOCK, len(texts) - 1)
        # each text padded with NUL bytes to the width, in one buffer (numpy encodes ASCII in C)
        grid = np.array(texts[a : b + 1], dtype=f"S{width}").view(np.uint8).reshape(-1, width)
        differ = grid[1:] != grid[:-1]  # the first differing byte: the shared prefix's length
        same[a:b] = np.where(differ.any(axis=1), differ.argmax(axis=1), width)
    shared = np.concatenate([[0], np.minimum(same, np.minimum(lengths[1:], lengths[:-1]))])
    rest = [t[k:] for t, k in zip(texts, shared.tolist(), strict=True)]
    return shared.tolist(), rest


def deposit_layer(
    deposits: gpd.GeoDataFrame,
    *,
    label: str,
    group: str,
    codes: list[int] | None = None,
    countries: Mapping[str, str] | None = None,
    main: np.ndarray | None = None,
) -> DepositsLayer:
    """Clustered deposits coloured by main commodity, or by palette ``codes`` (colour-by).

    ``countries``: country names by alpha-3 code, for the popups. ``main``: the deposits'
    :func:`~geo.render.style.main_groups`, when the caller has them (the legend reads them too).
    """
    popups = card(deposits, "deposit", countries=countries)
    pts = deposits.geometry.to_numpy().copy()
    other = shapely.get_type_id(pts) != shapely.GeometryType.POINT
    pts[other] = shapely.point_on_surface(pts[other])
    lat = np.round(shapely.get_y(pts), COORD_DECIMALS).tolist()
    lon = np.round(shapely.get_x(pts), COORD_DECIMALS).tolist()
    if codes is not None:
        marks = list(codes)
    elif main is not None:
        marks = main.tolist()
    elif "commodities" in deposits:
        marks = main_groups(deposits["commodities"]).tolist()
    else:
        marks = [len(COMMODITY_GROUPS)] * len(deposits)
    data = [columnar(c, how) for c, how in zip(popups.columns, popups.coded, strict=True)]
    status_text = fmt_column(deposits["status"]) if "status" in deposits else np.full(
        len(deposits), "unknown", dtype=object)  # fmt: skip
    found, statuses_index = pd.factorize(pd.Series(status_text, dtype=object), sort=True)
    codes_of_status = found.tolist()
    statuses = [str(x) or "unknown" for x in statuses_index]
    layer: DepositsLayer = {
        "kind": "deposits",
        "group": group,
        "label": esc(f"{label} ({len(deposits):,})"),
        "show": True,
        "cols": popups.labels,
        "data": data,
        # a list display per point: list(map(list, zip(...))) took ten times as long at 100k
        "p": [[y, x, c, s] for y, x, c, s in zip(lat, lon, marks, codes_of_status, strict=True)],
        "sts": statuses,
        "card": True,
        "links": popups.links,
        "notes": popups.notes,
    }
    if codes is not None:
        layer["cls"] = "cm-k"  # palette classes instead of commodity classes (cm-c)
    return layer


def encode_rings(geom: Any, decimals: int) -> list[list[list[int]]]:
    """Polygons as [[ring, hole, ...], ...], each ring a flat list of integer deltas.

    ``[lat0, lon0, dlat1, dlon1, ...]`` in units of ``10**-decimals`` degree: about half the
    size of plain coordinates; the runtime adds the deltas back up.
    """
    polys = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
    scale = 10**decimals
    out = []
    for poly in polys:
        if poly.is_empty:
            continue
        rings = []
        for ring in (poly.exterior, *poly.interiors):
            xy = np.rint(shapely.get_coordinates(ring) * scale).astype(np.int64)[:, ::-1]
            keep = np.ones(len(xy), dtype=bool)
            keep[1:] = np.any(xy[1:] != xy[:-1], axis=1)
            xy = xy[keep]
            if len(xy) < 4:
                continue
            d = np.vstack([xy[:1], np.diff(xy, axis=0)])
            rings.append(d.ravel().tolist())
        if rings:
            out.append(rings)
    return out


def encode_rings_of(geoms: Any, decimals: int) -> list[list[list[list[int]]]]:
    """:func:`encode_rings` of every (multi)polygon of an array, the coordinates in one pass.

    >>> encode_rings_of([shapely.box(0, 0, 1, 1), shapely.Polygon()], 1)
    [[[[0, 10, 10, 0, 0, -10, -10, 0, 0, 10]]], []]
    """
    arr = np.asarray(geoms, dtype=object).ravel()
    out: list[list[list[list[int]]]] = [[] for _ in range(len(arr))]
    parts, owner = shapely.get_parts(arr, return_index=True)
    full = ~shapely.is_empty(parts)
    parts, owner = parts[full], owner[full]
    rings, part_of = shapely.get_rings(parts, return_index=True)
    xy, ring_of = shapely.get_coordinates(rings, return_index=True)
    q = np.rint(xy * 10**decimals).astype(np.int64)[:, ::-1]
    keep = np.ones(len(q), dtype=bool)
    keep[1:] = np.any(q[1:] != q[:-1], axis=1) | (ring_of[1:] != ring_of[:-1])
    q, ring_of = q[keep], ring_of[keep]
    start = np.ones(len(q), dtype=bool)
    start[1:] = ring_of[1:] != ring_of[:-1]
    d = q.copy()
    d[1:] -= q[:-1]
    d[start] = q[start]  # each ring starts from its first vertex, then steps
    flat = d.ravel().tolist()
    ends = (2 * np.cumsum(np.bincount(ring_of, minlength=len(rings)))).tolist()
    last = -1
    for r, (a, b) in enumerate(zip([0, *ends], ends, strict=False)):  # each ring: [a, b)
        if b - a < 8:  # fewer than 4 vertices left: not drawn
            continue
        p = int(part_of[r])
        if p != last:
            out[int(owner[p])].append([])
            last = p
        out[int(owner[p])][-1].append(flat[a:b])
    return out


def display_geometries(geoms: Any, tolerance: float, min_area: float) -> np.ndarray:
    """:func:`display_geometry` of every geometry of an array, simplified in one call."""
    arr = np.asarray(geoms, dtype=object).copy()
    live = ~shapely.is_missing(arr) & ~shapely.is_empty(arr)
    if min_area > 0:
        for i in np.flatnonzero(
            live & (shapely.get_type_id(arr) == shapely.GeometryType.MULTIPOLYGON)
        ):
            arr[i] = display_geometry(arr[i], 0, min_area)
    if tolerance > 0:
        # the same outlines every build: simplified once, then read back (geo.data.drawn)
        arr[live] = simplified(arr[live], tolerance, preserve_topology=True, name="outlines")
    return arr


def display_geometry(geom: Any, tolerance: float, min_area: float) -> Any:
    """A country outline for display: simplified, islands below ``min_area`` (deg²) dropped."""
    if geom is None or geom.is_empty:
        return geom
    if geom.geom_type == "MultiPolygon" and min_area > 0:
        parts = sorted(geom.geoms, key=lambda p: -p.area)
        geom = shapely.MultiPolygon([parts[0], *(p for p in parts[1:] if p.area >= min_area)])
    return geom.simplify(tolerance, preserve_topology=True) if tolerance > 0 else geom


def polygon_layer(
    gdf: gpd.GeoDataFrame,
    *,
    label: str,
    group: str,
    style: dict[str, Any],
    pane: str,
    base: bool = False,
    interactive: bool = False,
    simplify: bool = False,
    ref: list[int] | None = None,
    codes: list[int] | None = None,
) -> PolygonsLayer:
    """Polygons; ``simplify`` for the country base; ``ref``: reuse those base features.

    ``codes``: per feature a palette index (colour-by); each feature then gets its own style.
    """
    layer: dict[str, Any] = {
        "kind": "polygons",
        "group": group,
        "label": esc(label),
        "show": True,
        "base": base,
        "pane": pane,
        "interactive": interactive,
        "style": style,
    }
    if ref is not None:
        return cast(PolygonsLayer, {**layer, "ref": ref, "scale": 0, "cols": [], "f": []})
    decimals = COUNTRY_DECIMALS if simplify else COORD_DECIMALS
    popups = card(gdf, "area") if interactive else None
    cols = popups.labels if popups else []
    rows = popups.rows() if popups else [[] for _ in range(len(gdf))]
    if popups:
        layer.update({"card": True, "links": popups.links, "notes": popups.notes})
    names = fmt_column(gdf["name"]).tolist() if "name" in gdf else [""] * len(gdf)
    feats: list[PolygonFeature] = []
    styles: list[dict[str, Any]] = []
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    if simplify:
        geoms = display_geometries(geoms, COUNTRY_SIMPLIFY_DEG, COUNTRY_MIN_AREA)
    kind = shapely.get_type_id(geoms)
    drawn_at = np.isin(kind, [shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON])
    drawn_at &= ~shapely.is_empty(geoms)
    rings = encode_rings_of(geoms[drawn_at], decimals)
    for i, c in zip(np.flatnonzero(drawn_at).tolist(), rings, strict=True):
        feat: PolygonFeature = {"k": i, "c": c, "t": names[i], "v": rows[i]}
        if codes is not None:
            color = _palette(codes[i])
            own = {**style, "color": color, "fillColor": color}
            if own not in styles:
                styles.append(own)
            feat["s"] = styles.index(own)
        feats.append(feat)
    if codes is not None:
        layer["styles"] = styles
    # Keys in the order the page has always had them (the committed maps stay byte-identical).
    return cast(PolygonsLayer, {**layer, "scale": 10**decimals, "cols": cols, "f": feats})


def route_layers(routes: gpd.GeoDataFrame, shown: set[str]) -> tuple[list[RouteLayer], list[int]]:
    """One "route" layer per row of ``routes``, with its statistics as the popup's columns.

    Parameters
    ----------
    routes
        Route statistics, one row per route (:func:`geo.analysis.stats.reference_routes`).
    shown
        The route ids visible when the page opens; the others start hidden.

    Returns
    -------
    tuple of (list of dict, list of int)
        The layer payloads, and the index of each route's layer in that list.
    """
    layers: list[RouteLayer] = []
    keys = [label for key, label in ROUTE_FIELDS if key in routes]
    extra = sorted(
        (c for c in routes.columns if c not in {k for k, _ in ROUTE_FIELDS} | {"id", "name"}
         and c != routes.geometry.name),
        key=str,
    )  # fmt: skip
    names = [fmt(routes["name"].iat[i]) if "name" in routes else "" for i in range(len(routes))]
    names = [n or fmt(routes["id"].iat[i]) for i, n in enumerate(names)]
    labels = short_names(names)
    coords = latlngs_of(drawn_all(routes.geometry.values))
    for i in range(len(routes)):
        row = routes.iloc[i]
        rid = fmt(row.get("id"))
        color = route_color(names[i], i)
        values = [route_value(k, row[k]) for k, _ in ROUTE_FIELDS if k in routes]
        values += [fmt(row[c]) for c in extra]
        layers.append(
            {
                "kind": "route",
                "group": "Reference routes",
                "label": swatch_line(color, 7, 0.45) + esc(labels[i]),
                "show": rid in shown,
                "route": i,
                "cols": [*keys, *extra, "Route id"],
                "style": {"color": color, "weight": 11, "opacity": 0.35, "lineCap": "round"},
                "f": [
                    {
                        "c": coords[i],
                        "t": fmt(row.get("name")) or rid,
                        "v": [*values, rid],
                    }
                ],
            }
        )
    return layers, list(range(len(routes)))


def user_layer(
    name: str,
    gdf: gpd.GeoDataFrame,
    n: int,
    *,
    countries: Mapping[str, str] | None = None,
    main: np.ndarray | None = None,
) -> LinesLayer | NodesLayer | DepositsLayer | PolygonsLayer:
    """A user layer in "Your layers", styled by ``attrs["kind"]`` and ``attrs["color_by"]``.

    ``n`` numbers the user layers: it picks the layer's colour when not coloured by value.
    ``countries``: country names by alpha-3 code, for the popups. ``main``: a deposit layer's
    :func:`~geo.render.style.main_groups`, when the caller has them.
    """
    kind = gdf.attrs.get("kind")
    label = f"{name} ({len(gdf):,})"
    prop = gdf.attrs.get("color_by")
    codes = value_colors(gdf, str(prop))[0] if prop else None
    by = (str(prop), codes) if kind == "node" and prop and codes is not None else None
    color = USER_COLORS[n % len(USER_COLORS)]
    if kind == "node":
        return node_layer(gdf, label=label, group=USER_GROUP, color_by=by, countries=countries,
                          outline=color)  # fmt: skip
    if kind == "deposit":
        layer = deposit_layer(gdf, label=name, group=USER_GROUP, codes=codes, countries=countries,
                              main=main)  # fmt: skip
        layer["user"] = True  # square markers, outlined: apart from the bundled deposits
        return layer
    if kind == "area":
        style = {"color": color, "weight": 1.5, "fillColor": color, "fillOpacity": 0.2}
        return polygon_layer(
            gdf,
            label=label,
            group=USER_GROUP,
            style=style,
            pane="cmShade",
            interactive=True,
            codes=codes,
        )
    if kind == "segment":
        popups = card(gdf, "segment", countries=countries)
        rows = popups.rows()
        styles: list[dict[str, Any]] = []
        statuses = text_column(gdf, "status", "operational")
        modes = text_column(gdf, "mode", "rail")
        tips = fmt_column(gdf["name"]).tolist() if "name" in gdf else [""] * len(gdf)
        coords = latlngs_of(gdf.geometry.values)
        feats: list[LineFeature] = []
        for i in range(len(gdf)):
            own = _palette(codes[i]) if codes is not None else color
            drawn_as = mode_style(own, 3.5, modes[i], statuses[i])
            drawn_as["casing"] = drawn_as["weight"] + 3  # a white halo: apart from bundled lines
            if drawn_as not in styles:
                styles.append(drawn_as)
            feats.append({"c": coords[i], "s": styles.index(drawn_as), "t": tips[i], "v": rows[i]})
        return {
            "kind": "lines",
            "group": USER_GROUP,
            "label": swatch_line(color if codes is None else "#555", 3) + esc(label),
            "show": True,
            "pane": "cmLines",
            "cols": popups.labels,
            "styles": styles,
            "f": feats,
            "card": True,
            "links": popups.links,
            "notes": popups.notes,
        }
    msg = f"user layer '{name}': unknown kind {kind!r}; load it with geo.load_layer"
    raise GeoError(msg)


# ---------------------------------------------------------------------------------------------
# Route maps: one route's legs and the places on its path
# ---------------------------------------------------------------------------------------------

LEG_FIRST = ("from", "to", "mode", "status", "length_km", "countries", "corridor", "segment_id")


def leg_layers(legs: gpd.GeoDataFrame) -> list[LinesLayer]:
    """The legs, one layer per mode (coloured by mode; dashed where not operational)."""
    cols = property_columns(legs, None, first=LEG_FIRST)
    rows = display_rows(legs, cols)
    modes = [str(m) for m in legs["mode"]] if "mode" in legs else ["rail"] * len(legs)
    coords = latlngs_of(drawn_all(legs.geometry.values))
    layers: list[LinesLayer] = []
    order = {m: k for k, m in enumerate(MODE_COLORS)}
    for mode in sorted(set(modes), key=lambda m: (order.get(m, len(order)), m)):
        color = MODE_COLORS.get(mode, "#555")
        styles: list[dict[str, Any]] = []
        feats: list[LineFeature] = []
        for i in (i for i, m in enumerate(modes) if m == mode):
            status = str(legs["status"].iat[i]) if "status" in legs else "operational"
            style = mode_style(color, 5, mode, status)
            style["casing"] = float(style["weight"]) + 3
            if style not in styles:
                styles.append(style)
            name = (
                f"{fmt(legs['from'].iat[i])} → {fmt(legs['to'].iat[i])}" if "from" in legs else ""
            )
            status_text = STATUS_LABEL.get(status, status).replace(" / proposed", "")
            km = f", {fmt(legs['length_km'].iat[i])} km" if "length_km" in legs else ""
            feats.append(
                {
                    "c": coords[i],
                    "s": styles.index(style),
                    "t": f"{name} ({mode}, {status_text}{km})",
                    "v": rows[i],
                }
            )
        layers.append(
            {
                "kind": "lines",
                "group": "Route",
                "label": swatch_line(
                    color,
                    5 * MODE_LINES.get(mode, MODE_LINES["rail"])[1],
                    1,
                    MODE_LINES.get(mode, MODE_LINES["rail"])[2],
                )
                + esc(f"{mode} legs"),
                "show": True,
                "pane": "cmTitr",
                "cols": cols,
                "styles": styles,
                "f": feats,
            }
        )
    return layers


def path_node_layer(legs: gpd.GeoDataFrame, gauge_breaks: Sequence[str]) -> NodesLayer:
    """The places on the path: where each leg starts, and where the last one ends."""
    n = len(legs)
    names = [fmt(legs["from"].iat[0]) if "from" in legs else ""] + [
        fmt(legs["to"].iat[i]) if "to" in legs else "" for i in range(n)
    ]
    modes = [fmt(m) for m in legs["mode"]] if "mode" in legs else [""] * n
    points = [_end(legs.geometry.iat[0], 0)] + [_end(legs.geometry.iat[i], -1) for i in range(n)]
    breaks = set(gauge_breaks)
    icons: list[str] = []
    feats: list[NodeFeature] = []
    for i, (name, point) in enumerate(zip(names, points, strict=True)):
        role = "origin" if i == 0 else "destination" if i == n else f"stop {i} of {n - 1}"
        end = i in (0, n)
        icon = node_symbol("city" if end else "hub", gauge_change=name in breaks)
        if icon not in icons:
            icons.append(icon)
        values = [name, role, modes[i - 1] if i else "", modes[i] if i < n else ""]
        values.append("yes" if name in breaks else "")
        feats.append(
            {"c": latlngs(point), "i": icons.index(icon), "t": f"{name} ({role})", "v": values}
        )
    return {
        "kind": "nodes",
        "group": "Route",
        "label": node_symbol("hub", size=12) + esc(f"places on the path ({n + 1})"),
        "show": True,
        "cols": ["name", "on the route", "arrives by", "leaves by", "gauge break"],
        "icons": icons,
        "f": feats,
    }


def _end(geom: Any, which: int) -> shapely.Point:
    """The first (0) or last (-1) vertex of a leg; legs are oriented in travel direction."""
    xy = shapely.get_coordinates(geom)
    return shapely.Point(xy[which]) if len(xy) else shapely.Point()
