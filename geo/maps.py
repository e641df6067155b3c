"""Map rendering: map specs (TOML) and validated layers -> one self-contained folium HTML page.

The page works offline (libraries inlined by :mod:`geo.assets`, base layer drawn from the
bundled Natural Earth polygons), is byte-identical for identical inputs (stable element ids,
rounded coordinates, fixed ordering) and treats every property value as text: values are
HTML-escaped in Python, embedded as JSON with ``<`` escaped, and put into popups with
``textContent`` in the browser. Only ``http(s)`` URLs become links.

The map shows what :mod:`geo.stats` computed; it never recomputes a statistic.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import os
import re
import tempfile
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from .assets import strip_cdn_links, use_offline_assets
from .errors import GeoError, SpecError
from .schema import SCHEMA

COORD_DECIMALS = 5
COUNTRY_DECIMALS = 3  # the country base is only a backdrop
COUNTRY_SIMPLIFY_DEG = 0.04  # display-only simplification, ~4 km
COUNTRY_MIN_AREA = 0.02  # deg²: smaller islands are left out of the base (largest part kept)

# ---------------------------------------------------------------------------------------------
# Map spec
# ---------------------------------------------------------------------------------------------

KNOWN_TILES: dict[str, tuple[str, str, str]] = {
    # name -> (URL template, attribution HTML, subdomains); only loaded when the user picks it.
    "OpenStreetMap": (
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
        "",
    ),
    "CartoDB Positron": (
        "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
        ' &copy; <a href="https://carto.com/attributions">CARTO</a>',
        "abcd",
    ),
}


@dataclass(frozen=True)
class MapSpec:
    """What a map shows, as read from a TOML map spec.

    Attributes
    ----------
    title : str
        Shown at the top of the map and as the page title.
    center : tuple of float
        ``(latitude, longitude)`` of the initial view.
    zoom, min_zoom, max_zoom : int
        Initial, smallest and largest zoom level.
    layers : tuple of str
        Bundled layers by file stem (``countries``, ``nodes``, ``trans_caspian``, ...).
    highlight : str
        Corridor drawn thick on top of the others (``TITR``).
    stats_routes : tuple of str or None
        Reference route ids in the statistics panel; None for all.
    show_routes : tuple of str
        Route ids drawn when the page opens; empty: the first route of the highlighted corridor.
    shade : tuple of str
        Alpha-3 codes of countries shaded on the base (Russia and Belarus).
    tiles : tuple of str
        Optional online base layers offered as alternatives (names in ``KNOWN_TILES``).
    path : Path or None
        The spec file, for messages and default output path.
    """

    title: str
    center: tuple[float, float]
    zoom: int
    layers: tuple[str, ...]
    min_zoom: int = 2
    max_zoom: int = 12
    highlight: str = "TITR"
    stats_routes: tuple[str, ...] | None = None
    show_routes: tuple[str, ...] = ()
    shade: tuple[str, ...] = ("RUS", "BLR")
    tiles: tuple[str, ...] = ("OpenStreetMap", "CartoDB Positron")
    path: Path | None = None


_TOP_KEYS = {
    "title", "center", "zoom", "min_zoom", "max_zoom", "layers", "highlight", "shade", "tiles",
    "stats",
}  # fmt: skip
_STATS_KEYS = {"routes", "show"}


def _spec_error(path: Path, key: str, what: str) -> SpecError:
    return SpecError(f"{path}: {key}: {what}")


def _str_list(path: Path, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        msg = f"expected a list of strings, got {value!r}"
        raise _spec_error(path, key, msg)
    return tuple(value)


def _int(path: Path, key: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        msg = f"expected an integer from {lo} to {hi}, got {value!r}"
        raise _spec_error(path, key, msg)
    return value


def load_spec(path: str | Path) -> MapSpec:
    """Read a TOML map spec.

    Parameters
    ----------
    path : str or Path
        A ``.toml`` file; see ``maps/corridor.toml`` for every key.

    Returns
    -------
    MapSpec

    Raises
    ------
    SpecError
        Naming the file and the key: missing, unknown, or of the wrong type.

    Examples
    --------
    >>> from geo.layers import bundled_dir
    >>> load_spec(bundled_dir("maps") / "corridor.toml").highlight
    'TITR'
    """
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"{p}: map spec not found; check the path"
        raise SpecError(msg) from None
    except UnicodeDecodeError:
        msg = f"{p}: not UTF-8 text; save the spec as UTF-8"
        raise SpecError(msg) from None
    except tomllib.TOMLDecodeError as e:
        msg = f"{p}: malformed TOML ({e}); fix the syntax"
        raise SpecError(msg) from None
    unknown = sorted(set(doc) - _TOP_KEYS)
    if unknown:
        msg = f"unknown key; known keys are {', '.join(sorted(_TOP_KEYS))}"
        raise _spec_error(p, unknown[0], msg)
    for key in ("title", "center", "zoom", "layers"):
        if key not in doc:
            raise _spec_error(p, key, "missing; add it to the spec")
    title = doc["title"]
    if not isinstance(title, str) or not title.strip():
        raise _spec_error(p, "title", f"expected non-empty text, got {title!r}")
    center = doc["center"]
    if (
        not isinstance(center, list)
        or len(center) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in center)
        or not (-90 <= center[0] <= 90 and -180 <= center[1] <= 180)
    ):
        msg = f"expected [latitude, longitude] in degrees, got {center!r}"
        raise _spec_error(p, "center", msg)
    kwargs: dict[str, Any] = {
        "title": title.strip(),
        "center": (float(center[0]), float(center[1])),
        "zoom": _int(p, "zoom", doc["zoom"], 0, 18),
        "layers": _str_list(p, "layers", doc["layers"]),
        "path": p,
    }
    if "min_zoom" in doc:
        kwargs["min_zoom"] = _int(p, "min_zoom", doc["min_zoom"], 0, 18)
    if "max_zoom" in doc:
        kwargs["max_zoom"] = _int(p, "max_zoom", doc["max_zoom"], 1, 20)
    lo, hi = kwargs.get("min_zoom", 2), kwargs.get("max_zoom", 12)
    if not lo <= kwargs["zoom"] <= hi:
        msg = f"{kwargs['zoom']} lies outside min_zoom..max_zoom ({lo}..{hi})"
        raise _spec_error(p, "zoom", msg)
    if "highlight" in doc:
        if not isinstance(doc["highlight"], str) or not doc["highlight"]:
            raise _spec_error(p, "highlight", f"expected a corridor name, got {doc['highlight']!r}")
        kwargs["highlight"] = doc["highlight"]
    if "shade" in doc:
        kwargs["shade"] = _str_list(p, "shade", doc["shade"])
    if "tiles" in doc:
        tiles = _str_list(p, "tiles", doc["tiles"])
        bad = [t for t in tiles if t not in KNOWN_TILES]
        if bad:
            msg = f"unknown tile layer {bad[0]!r}; use one of {', '.join(KNOWN_TILES)}"
            raise _spec_error(p, "tiles", msg)
        kwargs["tiles"] = tiles
    stats = doc.get("stats", {})
    if not isinstance(stats, dict):
        raise _spec_error(p, "stats", "expected a table ([stats])")
    unknown = sorted(set(stats) - _STATS_KEYS)
    if unknown:
        msg = f"unknown key; known keys are {', '.join(sorted(_STATS_KEYS))}"
        raise _spec_error(p, f"stats.{unknown[0]}", msg)
    routes = stats.get("routes", "all")
    if routes != "all":
        kwargs["stats_routes"] = _str_list(p, "stats.routes", routes)
    if "show" in stats:
        kwargs["show_routes"] = _str_list(p, "stats.show", stats["show"])
    return MapSpec(**kwargs)


# ---------------------------------------------------------------------------------------------
# Styles: one table each, read by the layers and by the legend
# ---------------------------------------------------------------------------------------------

CORRIDORS: dict[str, tuple[str, str]] = {
    # corridor -> (label, colour of its Russia-avoiding segments)
    "TITR": ("TITR / Middle Corridor", "#d81b60"),
    "CKU": ("China–Kyrgyzstan–Uzbekistan", "#1e73be"),
    "INSTC": ("INSTC (North–South)", "#2e9d4a"),
    "Southern": ("Southern Corridor (Iran–Türkiye)", "#e08214"),
    "Maritime": ("Sea route (Suez / Cape)", "#3f51b5"),
    "Northern": ("Northern Corridor", "#8d6e63"),
    "TransSiberian": ("Trans-Siberian", "#7e57c2"),
}
OTHER_COLORS = ("#00838f", "#9e9d24", "#6d4c41", "#c2185b", "#455a64", "#ad1457")
RUSSIA_COLOR = "#7a1212"  # every segment with russia_km > 0, whatever its corridor
SHADE_COLOR = "#e9b8b0"
ROUTE_COLORS = ("#d81b60", "#1e73be", "#2e9d4a", "#e08214", "#7e57c2", "#00838f", "#8d6e63")
USER_COLORS = ("#6a1b9a", "#00695c", "#bf360c", "#283593", "#4e342e")

STATUS_DASH: dict[str, str | None] = {
    "operational": None,
    "under_construction": "9 7",
    "planned": "1 7",
    "proposed": "1 7",
    "suspended": "3 9",
}
STATUS_LABEL = {
    "operational": "operational",
    "under_construction": "under construction",
    "planned": "planned / proposed",
    "suspended": "suspended",
}

# Node symbols (16 px SVG, constants only: no data ever goes into them).
_S = '<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{w}" viewBox="{v}">{b}</svg>'
NODE_SHAPES: dict[str, tuple[str, str]] = {
    "port": ('<rect x="2.5" y="2.5" width="11" height="11" rx="2" fill="#0b4f8a"/>', "port"),
    "dry_port": ('<path d="M8 1.5 14.5 8 8 14.5 1.5 8Z" fill="#00897b"/>', "dry port"),
    "border_crossing": ('<path d="M8 1.8 14.6 14H1.4Z" fill="#37474f"/>', "border crossing"),
    "hub": ('<circle cx="8" cy="8" r="5" fill="#263238"/>', "hub (station, junction)"),
    "terminal": ('<rect x="4" y="4" width="8" height="8" fill="#5d4037"/>', "terminal"),
    "city": (
        '<circle cx="8" cy="8" r="4.3" fill="#fff" stroke="#222" stroke-width="2"/>',
        "city",
    ),
}
_NODE_OUTLINE = ' stroke="#fff" stroke-width="1.4"'
GAUGE_RING = '<circle cx="8" cy="8" r="7.2" fill="none" stroke="#ff8f00" stroke-width="2.2"/>'

# Deposits: coloured by the family of their first (main) commodity.
COMMODITY_GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Uranium", "#8bc34a", ("uranium",)),
    ("Rare earths, rare metals", "#8e24aa", ("rare_earths", "rare_metals")),
    ("Battery metals (Li, Ni, Co)", "#ec407a", ("lithium", "nickel", "cobalt")),
    ("Copper", "#e65100", ("copper",)),
    ("Gold & silver", "#fbc02d", ("gold", "silver")),
    (
        "Base & minor metals",
        "#607d8b",
        ("zinc", "lead", "tin", "antimony", "aluminium"),
    ),
    (
        "Iron & ferro-alloys",
        "#8d5524",
        ("iron", "chromium", "manganese", "tungsten", "molybdenum", "vanadium", "titanium"),
    ),
    ("Industrial minerals", "#26a69a", ("fluorspar", "phosphate", "potash")),
    ("Coal", "#424242", ("coal",)),
    ("Oil", "#111111", ("oil",)),
    ("Gas & condensate", "#29b6f6", ("gas", "gas_condensate")),
)
OTHER_COMMODITY = ("Other", "#bdbdbd")
_GROUP_OF = {c: i for i, (_, _, cs) in enumerate(COMMODITY_GROUPS) for c in cs}


def node_symbol(kind: str, *, gauge_change: bool = False, size: int = 16) -> str:
    """SVG markup of a node symbol; a gauge change adds an orange ring."""
    shape = NODE_SHAPES.get(kind, NODE_SHAPES["terminal"])[0]
    shape = shape.replace("/>", _NODE_OUTLINE + "/>", 1) if kind != "city" else shape
    body = shape + (GAUGE_RING if gauge_change else "")
    w = size + 6 if gauge_change else size
    view = "-3 -3 22 22" if gauge_change else "0 0 16 16"
    return _S.format(w=w, v=view, b=body)


# ---------------------------------------------------------------------------------------------
# Values -> display text, geometries -> rounded [lat, lon] arrays
# ---------------------------------------------------------------------------------------------


def _missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float | np.floating):
        return math.isnan(float(v))
    return v is pd.NaT


def fmt(value: Any) -> str:
    """A property value as the text the map shows ("" for missing).

    >>> fmt([1435, 1520]), fmt({"low": 12, "high": 18.5}), fmt(1234.5678), fmt(True)
    ('1435, 1520', 'low: 12; high: 18.5', '1,234.57', 'yes')
    """
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list | tuple):
        return ", ".join(fmt(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {fmt(v)}" for k, v in value.items())
    if _missing(value):
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if v.is_integer() and abs(v) < 1e15:
            return f"{int(v):,}" if abs(v) >= 10000 else str(int(v))
        return f"{v:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, pd.Timestamp | dt.date):
        return value.isoformat()[:10]
    return str(value)


def _km(v: Any) -> str:
    return "—" if _missing(v) else f"{float(v):,.0f}"


def _latlngs(geom: Any, decimals: int = COORD_DECIMALS) -> Any:
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
        return [_latlngs(geom.exterior, decimals)] + [_latlngs(r, decimals) for r in geom.interiors]
    if kind in ("MultiLineString", "MultiPolygon", "GeometryCollection", "MultiPoint"):
        return [_latlngs(g, decimals) for g in geom.geoms if not g.is_empty]
    msg = f"cannot draw a {kind}"
    raise GeoError(msg)


def _columns(gdf: gpd.GeoDataFrame, kind: str | None, first: Sequence[str] = ()) -> list[str]:
    """Every property column: the kind's schema order, then the others sorted by name."""
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    order = list(first) + ([f.name for f in SCHEMA[kind].fields] if kind in SCHEMA else [])
    known = [c for c in dict.fromkeys(order) if c in cols]
    return known + sorted((c for c in cols if c not in known), key=str)


def _rows(gdf: gpd.GeoDataFrame, cols: list[str]) -> list[list[str]]:
    data = [[fmt(v) for v in gdf[c].tolist()] for c in cols]
    return [list(r) for r in zip(*data, strict=True)] if data else [[] for _ in range(len(gdf))]


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _json(obj: Any) -> str:
    """JSON safe inside <script>: no '</', '<!--', '-->' or line separators can survive."""
    s = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for a, b in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        s = s.replace(a, b)
    return s.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _empty(gdf: gpd.GeoDataFrame | None) -> bool:
    return gdf is None or len(gdf) == 0


# ---------------------------------------------------------------------------------------------
# Page elements
# ---------------------------------------------------------------------------------------------


class _Script(MacroElement):
    """A call into the page runtime with a JSON payload, rendered in the page's script."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "CorridorMap.{{ this.call }}({{ this._parent.get_name() }}, {{ this.payload }});\n"
        "{% endmacro %}"
    )

    def __init__(self, call: str, payload: Any, name: str = "CorridorLayer") -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = name
        self.call = call
        self.payload = _json(payload)


class _Html(MacroElement):
    """Static HTML (already escaped) placed in the body; the runtime moves it into the map."""

    _template = Template("{% macro html(this, kwargs) %}{{ this.markup }}\n{% endmacro %}")

    def __init__(self, markup: str, name: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = name
        self.markup = markup


class _Head(MacroElement):
    """Inline CSS and the page runtime in <head>."""

    _template = Template(
        "{% macro header(this, kwargs) %}<title>{{ this.title }}</title>\n"
        "<style>{{ this.css }}</style>\n<script>{{ this.js }}</script>\n{% endmacro %}"
    )

    def __init__(self, title: str, css: str, js: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "CorridorHead"
        self.title = _e(title)
        self.css = css
        self.js = js


def _group_css() -> str:
    groups = [*((n, c) for n, c, _ in COMMODITY_GROUPS), OTHER_COMMODITY]
    return "".join(f".cm-c{i}{{background:{c}}}" for i, (_, c) in enumerate(groups))


# ---------------------------------------------------------------------------------------------
# Layer payloads
# ---------------------------------------------------------------------------------------------


def _style(color: str, weight: float, dash: str | None, opacity: float = 0.95) -> dict[str, Any]:
    s: dict[str, Any] = {"color": color, "weight": weight, "opacity": opacity}
    if dash:
        s["dashArray"] = dash
        s["lineCap"] = "round"
    return s


def _corridor_color(corridor: str, others: list[str]) -> str:
    if corridor in CORRIDORS:
        return CORRIDORS[corridor][1]
    if corridor in others:
        return OTHER_COLORS[others.index(corridor) % len(OTHER_COLORS)]
    return "#555"


def _through_russia(v: Any) -> bool:
    return not _missing(v) and float(v) > 0


def _segment_layers(segments: gpd.GeoDataFrame, highlight: str) -> list[dict[str, Any]]:
    cols = _columns(segments, "segment", first=("name", "id", "corridor", "mode", "status"))
    rows = _rows(segments, cols)
    corridors = sorted({str(c) for c in segments["corridor"]}, key=lambda c: (c != highlight, c))
    others = sorted(c for c in corridors if c not in CORRIDORS)
    layers = []
    for corridor in corridors:
        styles: list[dict[str, Any]] = []
        feats = []
        for i in np.flatnonzero(segments["corridor"].astype(str).to_numpy() == corridor):
            row = segments.iloc[int(i)]
            status = str(row.get("status", "operational"))
            mode = str(row.get("mode", "rail"))
            russia = _through_russia(row.get("russia_km"))
            top = corridor == highlight
            weight = (5.5 if top else 3.2) * (0.7 if mode in ("sea", "ferry") else 1.0)
            color = RUSSIA_COLOR if russia else _corridor_color(corridor, others)
            style = _style(
                color,
                round(weight, 1),
                STATUS_DASH.get(status),
                0.5 if status == "suspended" else 0.95,
            )
            if top:
                style["casing"] = round(weight + 3.5, 1)
            if style not in styles:
                styles.append(style)
            status_label = STATUS_LABEL.get(status, status).replace(" / proposed", "")
            if status == "proposed":
                status_label = "proposed"
            via = " · through Russia/Belarus" if russia else ""
            feats.append(
                {
                    "c": _latlngs(row.geometry),
                    "s": styles.index(style),
                    "t": f"{fmt(row.get('name'))} ({mode}, {status_label}{via})",
                    "v": rows[int(i)],
                }
            )
        label = CORRIDORS.get(corridor, (corridor, ""))[0]
        color = CORRIDORS.get(corridor, ("", _corridor_color(corridor, others)))[1]
        layers.append(
            {
                "kind": "lines",
                "group": "Corridors",
                "label": _swatch_line(color, 5 if corridor == highlight else 3) + _e(label),
                "show": True,
                "pane": "cmTitr" if corridor == highlight else "cmLines",
                "cols": cols,
                "styles": styles,
                "f": feats,
            }
        )
    return layers


def _node_layer(nodes: gpd.GeoDataFrame, *, label: str, group: str) -> dict[str, Any]:
    cols = _columns(nodes, "node", first=("name", "id", "kind", "country", "gauge_change"))
    rows = _rows(nodes, cols)
    icons: list[str] = []
    feats = []
    kinds = nodes["kind"].astype(str).tolist() if "kind" in nodes else ["terminal"] * len(nodes)
    gauges = nodes["gauge_change"].tolist() if "gauge_change" in nodes else [False] * len(nodes)
    names = [fmt(v) for v in nodes["name"]] if "name" in nodes else [""] * len(nodes)
    for i, (kind, g) in enumerate(zip(kinds, gauges, strict=True)):
        gauge = not _missing(g) and bool(g)
        icon = node_symbol(kind, gauge_change=gauge)
        if icon not in icons:
            icons.append(icon)
        geom = nodes.geometry.iat[i]
        point = geom if geom.geom_type == "Point" else geom.representative_point()
        kind_text = NODE_SHAPES.get(kind, ("", kind))[1]
        tip = f"{names[i]} ({kind_text}"
        tip += ", gauge change)" if gauge else ")"
        feats.append({"c": _latlngs(point), "i": icons.index(icon), "t": tip, "v": rows[i]})
    return {
        "kind": "nodes",
        "group": group,
        "label": node_symbol("port", size=12) + _e(label),
        "show": True,
        "cols": cols,
        "icons": icons,
        "f": feats,
    }


def _columnar(values: list[str]) -> dict[str, Any]:
    """A column as plain values, or as a dictionary and codes when values repeat."""
    uniq = sorted(set(values))
    if len(uniq) * 2 <= len(values):
        index = {v: i for i, v in enumerate(uniq)}
        return {"d": uniq, "i": [index[v] for v in values]}
    return {"v": values}


def _deposit_layer(deposits: gpd.GeoDataFrame, *, label: str, group: str) -> dict[str, Any]:
    cols = _columns(deposits, "deposit", first=("name", "id", "commodities", "kind", "status"))
    geoms = deposits.geometry
    pts = geoms.where(geoms.geom_type == "Point", geoms.representative_point())
    lat = np.round(shapely.get_y(pts.to_numpy()), COORD_DECIMALS)
    lon = np.round(shapely.get_x(pts.to_numpy()), COORD_DECIMALS)
    main = [_main_group(v) for v in deposits.get("commodities", [])]
    if not main:
        main = [len(COMMODITY_GROUPS)] * len(deposits)
    data = [_columnar([fmt(v) for v in deposits[c].tolist()]) for c in cols]
    return {
        "kind": "deposits",
        "group": group,
        "label": _e(f"{label} ({len(deposits):,})"),
        "show": True,
        "cols": cols,
        "data": data,
        "p": [[float(a), float(b), g] for a, b, g in zip(lat, lon, main, strict=True)],
    }


def _main_group(commodities: Any) -> int:
    if isinstance(commodities, np.ndarray):
        commodities = commodities.tolist()
    if isinstance(commodities, str):
        commodities = [commodities]
    if not isinstance(commodities, list | tuple) or not commodities:
        return len(COMMODITY_GROUPS)
    return _GROUP_OF.get(str(commodities[0]), len(COMMODITY_GROUPS))


def _encode_rings(geom: Any, decimals: int) -> list[list[list[int]]]:
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


def _display_geometry(geom: Any, tolerance: float, min_area: float) -> Any:
    """A country outline for display: simplified, islands below ``min_area`` (deg²) dropped."""
    if geom is None or geom.is_empty:
        return geom
    if geom.geom_type == "MultiPolygon" and min_area > 0:
        parts = sorted(geom.geoms, key=lambda p: -p.area)
        geom = shapely.MultiPolygon([parts[0], *(p for p in parts[1:] if p.area >= min_area)])
    return geom.simplify(tolerance, preserve_topology=True) if tolerance > 0 else geom


def _polygon_layer(
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
) -> dict[str, Any]:
    """Polygons; ``simplify`` for the country base; ``ref``: reuse those base features."""
    layer: dict[str, Any] = {
        "kind": "polygons",
        "group": group,
        "label": _e(label),
        "show": True,
        "base": base,
        "pane": pane,
        "interactive": interactive,
        "style": style,
    }
    if ref is not None:
        return {**layer, "ref": ref, "scale": 0, "cols": [], "f": []}
    decimals = COUNTRY_DECIMALS if simplify else COORD_DECIMALS
    cols = _columns(gdf, "area", first=("name", "id")) if interactive else []
    rows = _rows(gdf, cols) if interactive else [[] for _ in range(len(gdf))]
    names = [fmt(v) for v in gdf["name"]] if "name" in gdf else [""] * len(gdf)
    feats = []
    for i, g in enumerate(gdf.geometry):
        if simplify:
            g = _display_geometry(g, COUNTRY_SIMPLIFY_DEG, COUNTRY_MIN_AREA)
        if g is None or g.is_empty or g.geom_type not in ("Polygon", "MultiPolygon"):
            continue
        feats.append({"k": i, "c": _encode_rings(g, decimals), "t": names[i], "v": rows[i]})
    return {**layer, "scale": 10**decimals, "cols": cols, "f": feats}


ROUTE_FIELDS: tuple[tuple[str, str], ...] = (
    ("length_km", "Length (km)"),
    ("transit_days", "Transit time (days)"),
    ("countries", "Countries"),
    ("transits_russia", "Transits Russia/Belarus"),
    ("russia_km", "Russia/Belarus (km)"),
    ("border_crossings", "Border crossings"),
    ("gauge_breaks", "Gauge breaks"),
    ("transshipments", "Transshipments"),
    ("sea_km", "Sea (km)"),
    ("chokepoints", "Chokepoints"),
    ("length_km_by_mode", "km by mode"),
    ("length_km_by_country", "km by country"),
    ("deposits_nearby", "Deposits nearby"),
    ("precision_share", "Geometry precision"),
    ("path", "Path"),
)


def _item(v: Any) -> str:
    """One item of a statistic's list: a border crossing {from, to, at} reads 'CHN→KAZ at X'."""
    if isinstance(v, dict) and ("from" in v or "to" in v):
        at = f" at {fmt(v['at'])}" if not _missing(v.get("at")) else ""
        return f"{fmt(v.get('from'))}→{fmt(v.get('to'))}{at}"
    return fmt(v)


def _route_value(key: str, v: Any) -> str:
    """One statistic as text, as the statistics module computed it (only rounded for display)."""
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if key.endswith("_km") and not isinstance(v, dict | list):
        return _km(v)
    if isinstance(v, dict):
        if "low" in v or "high" in v:
            lo, hi = v.get("low"), v.get("high")
            if _missing(lo) and _missing(hi):
                return "—"
            return fmt(lo) if lo == hi else f"{fmt(lo)}–{fmt(hi)}"
        if "count" in v:
            items = v.get("list", v.get("at", []))
            by = v.get("by_commodity") or {}
            parts = [_item(x) for x in items] if isinstance(items, list | tuple) else []
            parts += [f"{k} {fmt(by[k])}" for k in sorted(by)]
            return f"{fmt(v['count'])}" + (f" ({'; '.join(parts)})" if parts else "")
        if key == "precision_share":
            return ", ".join(f"{k} {float(x) * 100:.0f}%" for k, x in v.items())
        return "; ".join(
            f"{k} {_km(x) if key.startswith('length_km') else fmt(x)}" for k, x in v.items()
        )
    if key == "path" and isinstance(v, list | tuple):
        return " → ".join(fmt(x) for x in v)
    if isinstance(v, list | tuple):
        return (" " if key == "countries" else ", ").join(_item(x) for x in v) or "—"
    return fmt(v) or "—"


def _count(v: Any) -> str:
    """The headline number of a statistic for the comparison table."""
    if isinstance(v, dict) and "count" in v:
        return fmt(v["count"]) or "—"
    if isinstance(v, np.ndarray | list | tuple):
        return str(len(v))
    return fmt(v) or "—"


def _short(name: str, limit: int = 30) -> str:
    """A route's short name: the part before ':' (``TITR main: Xi'an - ...`` -> ``TITR main``)."""
    head = name.split(":", 1)[0].strip()
    return head if len(head) <= limit else head[: limit - 1].rstrip() + "…"


def _route_layers(
    routes: gpd.GeoDataFrame, shown: set[str]
) -> tuple[list[dict[str, Any]], list[int]]:
    layers = []
    keys = [label for key, label in ROUTE_FIELDS if key in routes]
    extra = sorted(
        (c for c in routes.columns if c not in {k for k, _ in ROUTE_FIELDS} | {"id", "name"}
         and c != routes.geometry.name),
        key=str,
    )  # fmt: skip
    for i in range(len(routes)):
        row = routes.iloc[i]
        rid = fmt(row.get("id"))
        color = ROUTE_COLORS[i % len(ROUTE_COLORS)]
        values = [_route_value(k, row[k]) for k, _ in ROUTE_FIELDS if k in routes]
        values += [fmt(row[c]) for c in extra]
        layers.append(
            {
                "kind": "route",
                "group": "Reference routes",
                "label": _swatch_line(color, 7, 0.45) + _e(_short(fmt(row.get("name")) or rid)),
                "show": rid in shown,
                "route": i,
                "cols": [*keys, *extra, "Route id"],
                "style": {"color": color, "weight": 11, "opacity": 0.35, "lineCap": "round"},
                "f": [
                    {
                        "c": _latlngs(row.geometry),
                        "t": fmt(row.get("name")) or rid,
                        "v": [*values, rid],
                    }
                ],
            }
        )
    return layers, list(range(len(routes)))


def _user_layer(name: str, gdf: gpd.GeoDataFrame, n: int) -> dict[str, Any]:
    kind = gdf.attrs.get("kind")
    label = f"{name} ({len(gdf):,})"
    if kind == "node":
        return _node_layer(gdf, label=label, group="Your layers")
    if kind == "deposit":
        return _deposit_layer(gdf, label=name, group="Your layers")
    color = USER_COLORS[n % len(USER_COLORS)]
    if kind == "area":
        style = {"color": color, "weight": 1.5, "fillColor": color, "fillOpacity": 0.2}
        return _polygon_layer(
            gdf, label=label, group="Your layers", style=style, pane="cmShade", interactive=True
        )
    if kind == "segment":
        cols = _columns(gdf, "segment", first=("name", "id"))
        rows = _rows(gdf, cols)
        styles: list[dict[str, Any]] = []
        feats = []
        for i in range(len(gdf)):
            status = str(gdf["status"].iat[i]) if "status" in gdf else "operational"
            style = _style(color, 3.5, STATUS_DASH.get(status))
            if style not in styles:
                styles.append(style)
            tip = fmt(gdf["name"].iat[i]) if "name" in gdf else ""
            feats.append(
                {
                    "c": _latlngs(gdf.geometry.iat[i]),
                    "s": styles.index(style),
                    "t": tip,
                    "v": rows[i],
                }
            )
        return {
            "kind": "lines",
            "group": "Your layers",
            "label": _swatch_line(color, 3) + _e(label),
            "show": True,
            "pane": "cmLines",
            "cols": cols,
            "styles": styles,
            "f": feats,
        }
    msg = f"user layer '{name}': unknown kind {kind!r}; load it with geo.layers.load_layer"
    raise GeoError(msg)


# ---------------------------------------------------------------------------------------------
# Legend and statistics panel (HTML built here, every value escaped)
# ---------------------------------------------------------------------------------------------


def _swatch_line(color: str, weight: float, opacity: float = 1.0, dash: str | None = None) -> str:
    d = f' stroke-dasharray="{dash}" stroke-linecap="round"' if dash else ""
    return (
        '<svg class="cm-sw" width="28" height="12" viewBox="0 0 28 12" aria-hidden="true">'
        f'<line x1="2" y1="6" x2="26" y2="6" stroke="{color}" stroke-width="{weight}"'
        f' stroke-opacity="{opacity}"{d}/></svg>'
    )


def _legend_html(
    segments: gpd.GeoDataFrame | None,
    nodes: gpd.GeoDataFrame | None,
    deposits: gpd.GeoDataFrame | None,
    highlight: str,
    shade: Sequence[str],
    has_routes: bool,
) -> str:
    """The legend: only what the map draws; three columns (lines, places, deposits)."""
    cols: list[list[str]] = [[], [], []]

    def head(col: int, title: str) -> None:
        cols[col].append(f"<h3>{_e(title)}</h3>")

    def row(col: int, symbol: str, text: str) -> None:
        cols[col].append(f'<div class="cm-row">{symbol}<span>{_e(text)}</span></div>')

    if segments is not None and len(segments):
        head(0, "Corridors")
        corridors = sorted(
            {str(c) for c in segments["corridor"]}, key=lambda c: (c != highlight, c)
        )
        others = sorted(c for c in corridors if c not in CORRIDORS)
        rus = segments["russia_km"].map(_through_russia) if "russia_km" in segments else None
        for c in corridors:
            own = (segments["corridor"].astype(str) == c).to_numpy()
            if rus is not None and bool(rus[own].all()):
                continue  # drawn entirely in the Russia colour
            weight = 5.5 if c == highlight else 3.2
            row(0, _swatch_line(_corridor_color(c, others), weight), CORRIDORS.get(c, (c, ""))[0])
        if rus is not None and bool(rus.any()):
            row(0, _swatch_line(RUSSIA_COLOR, 3.2), "Through Russia / Belarus")
        if has_routes:
            row(0, _swatch_line(ROUTE_COLORS[0], 9, 0.35), "Reference route")
        head(0, "Line status")
        statuses = {str(s) for s in segments["status"]} if "status" in segments else set()
        for status, label in STATUS_LABEL.items():
            if status in statuses or (status == "planned" and "proposed" in statuses):
                weight_op = 0.6 if status == "suspended" else 1
                row(0, _swatch_line("#444", 3, weight_op, STATUS_DASH[status]), label)
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
    if deposits is not None and len(deposits):
        head(2, "Deposits, main commodity")
        present = {_main_group(v) for v in deposits.get("commodities", [])}
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


def _stats_html(routes: gpd.GeoDataFrame, ids: Sequence[int]) -> str:
    """The comparison table: one row per route, headline numbers, details in the row's title."""
    head = "".join(
        f'<th title="{_e(tip)}">{_e(h)}</th>' for k, h, tip in STATS_COLUMNS if k in routes
    )
    body = []
    for i in ids:
        row = routes.iloc[i]
        cells = []
        for key, _, _ in STATS_COLUMNS:
            if key not in routes:
                continue
            v = row[key]
            detail = _route_value(key, v)
            if key == "transit_days" and isinstance(v, dict):
                lo, hi = v.get("low"), v.get("high")
                text = (
                    "—" if lo is None or hi is None or _missing(lo) or _missing(hi)
                    else f"{float(lo):.0f}–{float(hi):.0f}"
                )  # fmt: skip
            elif key.endswith("_km"):
                text = detail
            else:
                text = _count(v)
            cls = ' class="cm-ru"' if key == "russia_km" and _through_russia(v) else ""
            cells.append(f'<td{cls} title="{_e(detail)}">{_e(text)}</td>')
        color = ROUTE_COLORS[i % len(ROUTE_COLORS)]
        name = fmt(row.get("name")) or fmt(row.get("id"))
        body.append(
            f'<tr data-cm-route="{int(i)}">'
            f'<td class="cm-rn" title="{_e(name)} (click to show on the map)">'
            f'<span class="cm-rsw" style="background:{color}"></span>{_e(_short(name))}</td>'
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
# Building the map
# ---------------------------------------------------------------------------------------------


def build_map(
    spec: MapSpec,
    *,
    countries: gpd.GeoDataFrame | None,
    segments: gpd.GeoDataFrame | None,
    nodes: gpd.GeoDataFrame | None,
    deposits: gpd.GeoDataFrame | None,
    routes: gpd.GeoDataFrame | None,
    user_layers: Iterable[tuple[str, gpd.GeoDataFrame]] = (),
) -> folium.Map:
    """Draw the corridors, places, deposits and reference routes on an offline folium map.

    Parameters
    ----------
    spec : MapSpec
        Title, view, highlighted corridor, routes in the statistics panel.
    countries : GeoDataFrame
        ``id`` (alpha-3), ``name``, polygons: the base layer.
    segments : GeoDataFrame
        Segment layer columns plus ``countries`` and ``russia_km`` (from the network).
    nodes, deposits : GeoDataFrame
        Validated node and deposit layers.
    routes : GeoDataFrame
        One row per reference route with its statistics (from :mod:`geo.stats`).
    user_layers : iterable of (name, GeoDataFrame)
        Extra layers styled by ``attrs["kind"]``.

    Any frame may be None or empty; no input is modified.

    Returns
    -------
    folium.Map
        Render it with :func:`render_html` or :func:`save_html` (stable ids, offline).
    """
    m = folium.Map(
        location=list(spec.center),
        zoom_start=spec.zoom,
        tiles=None,
        zoom_control=True,
        maxZoom=spec.max_zoom,
        minZoom=spec.min_zoom,
        worldCopyJump=False,
    )
    use_offline_assets(m, markercluster=True)
    m.add_child(_Head(spec.title, CSS + _group_css(), RUNTIME_JS), name="corridor_head")
    m.add_child(
        _Script("init", {"title": spec.title, "tiles": _tiles(spec.tiles)}, "CorridorInit"),
        name="corridor_init",
    )
    layers: list[dict[str, Any]] = []
    if countries is not None and len(countries):
        base_style = {"color": "#a69f91", "weight": 0.6, "fillColor": "#f3efe6", "fillOpacity": 1}
        base_layer = _polygon_layer(
            countries,
            label="Countries (Natural Earth, offline)",
            group="",
            style=base_style,
            pane="cmBase",
            base=True,
            simplify=True,
        )
        layers.append(base_layer)
        codes = countries["id"].astype(str).tolist() if "id" in countries else []
        drawn = {f["k"] for f in base_layer["f"]}
        ref = [i for i, code in enumerate(codes) if code in spec.shade and i in drawn]
        if ref:
            style = {
                "color": "#b5655a",
                "weight": 0.8,
                "fillColor": SHADE_COLOR,
                "fillOpacity": 0.4,
            }
            layers.append(
                _polygon_layer(
                    countries,
                    label=f"{' & '.join(spec.shade)} shaded",
                    group="Base",
                    style=style,
                    pane="cmShade",
                    ref=ref,
                )
            )
    route_ids: list[int] = []
    if routes is not None and len(routes):
        sel = routes
        if spec.stats_routes is not None:
            keep = routes["id"].astype(str).isin(spec.stats_routes).to_numpy()
            sel = routes[keep]
        shown = set(spec.show_routes) or _default_shown(sel, spec.highlight)
        route_layers, route_ids = _route_layers(sel.reset_index(drop=True), shown)
        layers += route_layers
        routes = sel.reset_index(drop=True)
    if segments is not None and len(segments):
        layers += _segment_layers(segments, spec.highlight)
    if nodes is not None and len(nodes):
        layers.append(_node_layer(nodes, label="Ports, border crossings, hubs", group="Places"))
    if deposits is not None and len(deposits):
        layers.append(_deposit_layer(deposits, label="Deposits", group="Deposits"))
    for n, (name, gdf) in enumerate(user_layers):
        if not _empty(gdf):
            layers.append(_user_layer(name, gdf, n))
    for i, layer in enumerate(layers):
        m.add_child(_Script("add", layer), name=f"corridor_layer_{i}")
    m.add_child(
        _Html(
            _legend_html(segments, nodes, deposits, spec.highlight, spec.shade, bool(route_ids)),
            "CorridorLegend",
        ),
        name="corridor_legend",
    )
    if route_ids and routes is not None:
        m.add_child(_Html(_stats_html(routes, route_ids), "CorridorStats"), name="corridor_stats")
    m.add_child(_Html(f'<div class="cm-title">{_e(spec.title)}</div>', "CorridorTitle"))
    m.add_child(_Script("finish", {"legend": "cm-legend", "stats": "cm-stats"}, "CorridorEnd"))
    stable_ids(m)
    return m


def _default_shown(routes: gpd.GeoDataFrame, highlight: str) -> set[str]:
    """The first route whose id or name names the highlighted corridor (the TITR main route)."""
    key = highlight.lower()
    for rid, name in zip(routes["id"].astype(str), routes.get("name", routes["id"]).astype(str),
                         strict=True):  # fmt: skip
        if key in rid.lower() or key in name.lower():
            return {rid}
    return set()


def _tiles(names: Sequence[str]) -> list[dict[str, Any]]:
    return [
        {"name": f"{n} (online)", "url": KNOWN_TILES[n][0], "attr": KNOWN_TILES[n][1],
         "sub": KNOWN_TILES[n][2]}
        for n in names
    ]  # fmt: skip


def stable_ids(m: Element) -> None:
    """Replace folium's random element ids with counter-based ones, in tree order."""
    root = m.get_root()
    stack: list[Element] = [root]
    n = 0
    while stack:
        el = stack.pop(0)
        el._id = f"cm{n:04d}"
        n += 1
        stack[0:0] = list(el._children.values())


def render_html(m: folium.Map) -> str:
    """The map's complete HTML page: offline, with stable ids."""
    root = m.get_root()
    strip_cdn_links(root)
    stable_ids(m)
    text: str = root.render()
    # Trailing whitespace of templates varies with nothing but makes diffs noisy.
    return re.sub(r"[ \t]+\n", "\n", text)


def save_html(m: folium.Map, path: str | Path) -> Path:
    """Write the page atomically: a temporary file in the same folder, then a rename."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    text = render_html(m)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        Path(tmp).chmod(0o644)
        Path(tmp).replace(p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


def build_from_spec(
    spec_path: str | Path,
    *,
    out: str | Path | None = None,
    extra_layers: Iterable[tuple[str, gpd.GeoDataFrame] | str | Path] = (),
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Load a spec's bundled layers, the network's segments and the route statistics; save the map.

    Parameters
    ----------
    spec_path : str or Path
        TOML map spec, e.g. ``maps/corridor.toml``.
    out : str or Path, optional
        Output HTML; default: the spec's path with ``.html``.
    extra_layers : iterable
        ``(name, GeoDataFrame)`` pairs or layer file paths, drawn in "Your layers".
    progress : callable, optional
        Called with a short message at each step.

    Returns
    -------
    Path
        The written HTML file.
    """
    from .layers import bundled_layers, load_bundled, load_layer

    say = progress or (lambda _msg: None)
    spec = load_spec(spec_path)
    available = bundled_layers()
    missing = [s for s in spec.layers if s not in available]
    if missing:
        msg = (
            f"bundled layer '{missing[0]}' not found (have: {', '.join(available)}); "
            "remove it from the spec or add the layer"
        )
        raise _spec_error(Path(spec_path), "layers", msg)
    by_kind: dict[str, list[gpd.GeoDataFrame]] = {}
    for stem in spec.layers:
        say(f"loading layer {stem}")
        gdf = load_bundled(stem)
        by_kind.setdefault(str(gdf.attrs.get("kind")), []).append(gdf)

    def concat(kind: str) -> gpd.GeoDataFrame | None:
        frames = by_kind.get(kind, [])
        if not frames:
            return None
        return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=4326)

    countries = next((g for g in by_kind.get("area", []) if "id" in g), None)
    segments = None
    if by_kind.get("segment"):
        say("building the network")
        from .network import segments_frame

        wanted = set(pd.concat([g["id"] for g in by_kind["segment"]]).astype(str))
        allseg = segments_frame()
        segments = allseg[allseg["id"].astype(str).isin(wanted).to_numpy()]
    say("computing route statistics")
    from .stats import reference_routes

    routes = reference_routes(None if spec.stats_routes is None else list(spec.stats_routes))
    user: list[tuple[str, gpd.GeoDataFrame]] = []
    for item in extra_layers:
        if isinstance(item, str | Path):
            say(f"loading layer {item}")
            user.append((Path(item).stem, load_layer(item)))
        else:
            user.append(item)
    say("drawing the map")
    m = build_map(
        spec,
        countries=countries,
        segments=segments,
        nodes=concat("node"),
        deposits=concat("deposit"),
        routes=routes,
        user_layers=user,
    )
    target = Path(out) if out is not None else Path(spec_path).with_suffix(".html")
    say(f"writing {target}")
    return save_html(m, target)


# ---------------------------------------------------------------------------------------------
# Page CSS and runtime (constants: no data is ever formatted into them)
# ---------------------------------------------------------------------------------------------

CSS = """
.leaflet-container{background:#cfe2ee;font:12px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,sans-serif}
.cm-title{position:absolute;top:10px;left:50%;transform:translateX(-50%);z-index:800;
background:rgba(255,255,255,.93);padding:6px 16px;border-radius:6px;
box-shadow:0 1px 5px rgba(0,0,0,.3);font-weight:600;font-size:15px;color:#1d1d1d;
pointer-events:none;max-width:55%;text-align:center}
.cm-panel{background:rgba(255,255,255,.95);border-radius:6px;box-shadow:0 1px 5px rgba(0,0,0,.35);
color:#222;max-height:46vh;overflow:auto}
.cm-head{display:block;width:100%;text-align:left;border:0;background:none;cursor:pointer;
font:600 13px/1.3 inherit;font-family:inherit;padding:6px 9px;color:#1d1d1d}
.cm-head::after{content:"\\25BE";float:right;margin-left:10px;color:#777}
.cm-collapsed .cm-head::after{content:"\\25B8"}
.cm-body{padding:0 9px 8px}
.cm-legend .cm-body{display:flex;gap:16px;font-size:11.5px}
.cm-legend h3:first-child{margin-top:0}
.cm-legend h3{font-size:10px;text-transform:uppercase;letter-spacing:.05em;color:#666;
margin:6px 0 1px;font-weight:600}
.cm-row{display:flex;align-items:center;gap:6px;white-space:nowrap;line-height:16px}
.cm-row svg,.cm-sym,.cm-dot,.cm-box-sw,.cm-clu{flex:none}
.cm-sym{width:28px;display:inline-flex;justify-content:center}
.cm-dot{display:inline-block;width:10px;height:10px;border-radius:50%;border:1.5px solid #fff;
box-shadow:0 0 0 1px rgba(0,0,0,.35);margin:0 8px}
.cm-box-sw{display:inline-block;width:24px;height:12px;margin:0 2px;border:1px solid #b5655a;
opacity:.8}
.cm-clu{display:inline-flex;width:18px;height:18px;border-radius:50%;background:rgba(93,64,55,.88);
color:#fff;font-size:9px;align-items:center;justify-content:center;margin:0 5px;
box-shadow:0 0 0 3px rgba(109,76,65,.28)}
.cm-stats table{border-collapse:collapse;font-size:11px;line-height:1.25}
.cm-stats th{font-weight:600;color:#555;text-align:right;padding:1px 4px;
border-bottom:1px solid #ccc;white-space:nowrap}
.cm-stats td{text-align:right;padding:1px 4px;border-bottom:1px solid #eee;white-space:nowrap}
.cm-stats th:first-child,.cm-stats td:first-child{text-align:left}
.cm-stats{max-width:660px;max-height:42vh}
.cm-stats tr[data-cm-route]{cursor:pointer}
.cm-stats tbody tr:hover{background:#f4efe6}
.cm-ru{color:#7a1212;font-weight:600}
.cm-rsw{display:inline-block;width:9px;height:9px;border-radius:2px;margin-right:5px;opacity:.7}
.cm-note{margin:5px 0 0;color:#777;font-size:10.5px}
.cm-sw{vertical-align:middle;margin-right:3px}
.cm-lc-group{font-weight:600;font-size:10.5px;text-transform:uppercase;letter-spacing:.05em;
color:#666;margin:6px 0 1px}
.leaflet-control-layers-overlays svg{vertical-align:middle;margin-right:3px}
.leaflet-control-layers-expanded{max-height:70vh;overflow:auto}
.leaflet-top.leaflet-right{z-index:1001}
.cm-popup-title{font-weight:600;font-size:13px;margin-bottom:4px}
.cm-props{border-collapse:collapse}
.cm-props th{text-align:left;color:#666;font-weight:500;padding:1px 8px 1px 0;vertical-align:top;
white-space:nowrap}
.cm-props td{padding:1px 0;word-break:break-word}
.leaflet-popup-content{max-height:340px;overflow:auto;min-width:220px}
.cm-node,.cm-dep{background:none;border:0}
.cm-dep{border-radius:50%;border:1.5px solid #fff;box-shadow:0 0 0 1px rgba(0,0,0,.45)}
.cm-cluster{background:rgba(109,76,65,.28);border-radius:50%}
.cm-cluster div{margin:4px;border-radius:50%;background:rgba(93,64,55,.88);color:#fff;
display:flex;align-items:center;justify-content:center;font-size:10.5px;font-weight:600}
.cm-btn{display:flex!important;align-items:center;justify-content:center}
.cm-measuring,.cm-measuring .leaflet-interactive{cursor:crosshair!important}
.cm-measure-out{display:none;background:#fff;padding:3px 7px;border-radius:4px;margin-top:4px;
box-shadow:0 1px 4px rgba(0,0,0,.3);white-space:nowrap;font-weight:600}
.cm-measure-on .cm-measure-out{display:block}
.cm-measure-on a.cm-btn{background:#ffe7a8}
.cm-panel.cm-collapsed .cm-body{display:none}
.cm-fullscreen{position:fixed!important;top:0;left:0;width:100%!important;height:100%!important;
z-index:10000}
"""

RUNTIME_JS = r"""
(function () {
  "use strict";
  var CM = window.CorridorMap = {};
  var URL_RE = /^https?:\/\/[^\s<>"']+$/i;
  var ICON_FS = '<svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true"><path ' +
    'd="M2 6V2h4M10 2h4v4M14 10v4h-4M6 14H2v-4" fill="none" stroke="#333" stroke-width="2"/></svg>';
  var ICON_RULER = '<svg width="18" height="18" viewBox="0 0 18 18" aria-hidden="true"><path ' +
    'd="M2 12 12 2l4 4L6 16Z" fill="none" stroke="#333" stroke-width="1.6"/><path d="M5 9l2 2M8 ' +
    '6l2 2M11 3l2 2" stroke="#333" stroke-width="1.4"/></svg>';

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  CM.el = el;

  // Text whose http(s) URLs become links; nothing is ever parsed as HTML.
  function linkify(parent, text) {
    String(text).split(/(\s+)/).forEach(function (part) {
      var m = /^(.*?)([.,;:)\]]*)$/.exec(part);
      if (m && URL_RE.test(m[1])) {
        var a = el("a", null, m[1]);
        a.href = m[1];
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        parent.appendChild(a);
        if (m[2]) { parent.appendChild(document.createTextNode(m[2])); }
      } else if (part) {
        parent.appendChild(document.createTextNode(part));
      }
    });
  }
  CM.linkify = linkify;

  function table(title, cols, values) {
    var box = el("div", "cm-popup");
    box.appendChild(el("div", "cm-popup-title", title));
    var t = el("table", "cm-props");
    for (var i = 0; i < cols.length; i++) {
      var tr = el("tr");
      tr.appendChild(el("th", null, cols[i]));
      var td = el("td");
      linkify(td, values[i] === "" || values[i] === undefined ? "\u2014" : values[i]);
      tr.appendChild(td);
      t.appendChild(tr);
    }
    box.appendChild(t);
    return box;
  }
  CM.table = table;

  function tip(text) { return el("span", null, text); }

  CM.init = function (map, opts) {
    map._cm = {layers: [], routes: {}, base: []};
    CM.map = map;
    [["cmBase", 250], ["cmShade", 300], ["cmRoutes", 380], ["cmLines", 420], ["cmTitr", 440]]
      .forEach(function (p) { map.createPane(p[0]).style.zIndex = p[1]; });
    map.attributionControl.addAttribution("Base: Natural Earth");
    // Keep popups clear of the title box when the map pans to show them.
    L.Popup.mergeOptions({autoPanPaddingTopLeft: L.point(50, 64)});
    opts.tiles.forEach(function (t) {
      var layer = L.tileLayer(t.url, {
        attribution: t.attr, subdomains: t.sub || "abc", maxZoom: 19,
        errorTileUrl: "data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw=="
      });
      map._cm.base.push({layer: layer, label: CM.text(t.name), online: true});
    });
  };

  CM.text = function (s) { var d = el("div", null, s); return d.innerHTML; };

  function register(map, spec, layer) {
    layer.cmGroup = spec.group;
    if (spec.base) { map._cm.base.unshift({layer: layer, label: spec.label}); }
    else { map._cm.layers.push({layer: layer, label: spec.label}); }
    if (spec.show) { layer.addTo(map); }
    return layer;
  }

  function lines(map, spec) {
    var g = L.featureGroup();
    spec.f.forEach(function (f) {
      var s = spec.styles[f.s];
      var opts = L.extend({pane: spec.pane}, s);
      delete opts.casing;
      if (s.casing) {
        g.addLayer(L.polyline(f.c, {pane: spec.pane, color: "#fff", weight: s.casing,
          opacity: 0.9, interactive: false, lineCap: "round"}));
      }
      var line = L.polyline(f.c, opts);
      line.bindTooltip(function () { return tip(f.t); }, {sticky: true});
      line.bindPopup(function () { return table(f.v[0] || f.t, spec.cols, f.v); },
        {maxWidth: 380});
      g.addLayer(line);
    });
    return g;
  }

  // Rings arrive as flat integer deltas (see geo.maps._encode_rings).
  function decode(polys, scale) {
    return polys.map(function (rings) {
      return rings.map(function (d) {
        var out = new Array(d.length / 2), la = 0, lo = 0;
        for (var i = 0; i < d.length; i += 2) {
          la += d[i];
          lo += d[i + 1];
          out[i / 2] = [la / scale, lo / scale];
        }
        return out;
      });
    });
  }

  function polygons(map, spec) {
    var opts = L.extend({pane: spec.pane, interactive: !!spec.interactive}, spec.style);
    var g = L.featureGroup();
    var feats = spec.ref ? spec.ref.map(function (k) { return map._cm.polys[k]; }) :
      spec.f.map(function (f) { return {k: f.k, c: decode(f.c, spec.scale), t: f.t, v: f.v}; });
    if (spec.base) {
      map._cm.polys = {};
      feats.forEach(function (f) { map._cm.polys[f.k] = f; });
    }
    feats.forEach(function (f) {
      var p = L.polygon(f.c, opts);
      if (spec.interactive) {
        p.bindTooltip(function () { return tip(f.t); }, {sticky: true});
        p.bindPopup(function () { return table(f.v[0] || f.t, spec.cols, f.v); }, {maxWidth: 380});
      }
      g.addLayer(p);
    });
    return g;
  }

  function nodes(map, spec) {
    var icons = spec.icons.map(function (svg) {
      var big = svg.indexOf('width="22"') > 0 || svg.indexOf('width="20"') > 0;
      var n = big ? 22 : 16;
      return L.divIcon({html: svg, className: "cm-node", iconSize: [n, n],
        iconAnchor: [n / 2, n / 2], tooltipAnchor: [n / 2, 0], popupAnchor: [0, -n / 2]});
    });
    var g = L.featureGroup();
    spec.f.forEach(function (f) {
      var mk = L.marker(f.c, {icon: icons[f.i], zIndexOffset: 1000, keyboard: false,
        alt: f.t});
      mk.bindTooltip(function () { return tip(f.t); }, {direction: "right"});
      mk.bindPopup(function () { return table(f.v[0] || f.t, spec.cols, f.v); }, {maxWidth: 380});
      g.addLayer(mk);
    });
    return g;
  }

  function column(c, i) { return c.d ? c.d[c.i[i]] : c.v[i]; }

  // Deposits: markers built from compact [lat, lon, group] arrays; popups and tooltips are made
  // on demand from the column table, so 100,000 points stay usable.
  function deposits(map, spec) {
    var icons = {};
    function icon(g) {
      if (!icons[g]) {
        icons[g] = L.divIcon({className: "cm-dep cm-c" + g, iconSize: [11, 11], html: ""});
      }
      return icons[g];
    }
    var group = L.markerClusterGroup({
      chunkedLoading: true, maxClusterRadius: 45, showCoverageOnHover: false,
      spiderfyOnMaxZoom: true,
      iconCreateFunction: function (cluster) {
        var n = cluster.getChildCount();
        var d = n < 100 ? 28 : n < 1000 ? 34 : 40;
        var inner = el("div", null, n);
        inner.style.width = inner.style.height = (d - 8) + "px";
        var outer = el("div");
        outer.appendChild(inner);
        return L.divIcon({html: outer.innerHTML, className: "marker-cluster cm-cluster",
          iconSize: [d, d]});
      }
    });
    var markers = new Array(spec.p.length);
    for (var i = 0; i < spec.p.length; i++) {
      var p = spec.p[i];
      markers[i] = L.marker([p[0], p[1]], {icon: icon(p[2]), keyboard: false, cmIndex: i});
    }
    // Leaflet.markercluster 1.4 checks each marker against its pending list while the group is
    // off the map (quadratic: minutes for 100,000 points). A fresh group's pending list is
    // empty, so hand it the whole array; onAdd then clusters it in chunks.
    if (!group._map && Array.isArray(group._needsClustering) && !group._needsClustering.length) {
      group._needsClustering = markers;
    } else {
      group.addLayers(markers);
    }
    function values(i) { return spec.data.map(function (c) { return column(c, i); }); }
    var hover = L.tooltip({direction: "top", offset: [0, -6]});
    group.on("mouseover", function (e) {
      var i = e.layer.options.cmIndex;
      if (i === undefined) { return; }
      hover.setLatLng(e.layer.getLatLng()).setContent(tip(column(spec.data[0], i)));
      map.openTooltip(hover);
    });
    group.on("mouseout", function () { map.closeTooltip(hover); });
    group.on("click", function (e) {
      var i = e.layer.options.cmIndex;
      if (i === undefined) { return; }
      var v = values(i);
      L.popup({maxWidth: 380, offset: [0, -4]}).setLatLng(e.layer.getLatLng())
        .setContent(table(v[0], spec.cols, v)).openOn(map);
    });
    return group;
  }

  function route(map, spec) {
    var f = spec.f[0];
    var line = L.polyline(f.c, L.extend({pane: "cmRoutes"}, spec.style));
    line.bindTooltip(function () { return tip(f.t); }, {sticky: true});
    line.bindPopup(function () { return table(f.t, spec.cols, f.v); }, {maxWidth: 420});
    map._cm.routes[spec.route] = line;
    return line;
  }

  var BUILDERS = {lines: lines, polygons: polygons, nodes: nodes, deposits: deposits,
    route: route};

  CM.add = function (map, spec) {
    var layer = BUILDERS[spec.kind](map, spec);
    layer._cmKind = spec.kind;
    return register(map, spec, layer);
  };

  CM.showRoute = function (map, i) {
    var line = map._cm.routes[i];
    if (!line) { return; }
    if (!map.hasLayer(line)) { line.addTo(map); }
    map.fitBounds(line.getBounds(), {padding: [30, 30]});
    line.openPopup(line.getCenter());
  };

  // Layer control with group headings (one per layer's cmGroup).
  var Grouped = L.Control.Layers.extend({
    _update: function () {
      this._cmLast = null;
      return L.Control.Layers.prototype._update.call(this);
    },
    _addItem: function (obj) {
      if (obj.overlay) {
        var g = obj.layer.cmGroup || "";
        if (g !== this._cmLast) {
          this._overlaysList.appendChild(el("div", "cm-lc-group", g));
          this._cmLast = g;
        }
      }
      return L.Control.Layers.prototype._addItem.call(this, obj);
    }
  });

  var Fullscreen = L.Control.extend({
    options: {position: "topleft"},
    onAdd: function (map) {
      var bar = el("div", "leaflet-bar leaflet-control cm-fs");
      var a = el("a", "cm-btn");
      a.href = "#";
      a.title = "Full screen";
      a.setAttribute("role", "button");
      a.innerHTML = ICON_FS;
      bar.appendChild(a);
      var c = map.getContainer();
      function fallback() { c.classList.toggle("cm-fullscreen"); map.invalidateSize(); }
      L.DomEvent.on(a, "click", function (e) {
        L.DomEvent.stop(e);
        if (document.fullscreenElement) { document.exitFullscreen(); return; }
        if (c.classList.contains("cm-fullscreen") || !c.requestFullscreen) { fallback(); return; }
        c.requestFullscreen().catch(fallback);
      });
      document.addEventListener("fullscreenchange", function () { map.invalidateSize(); });
      return bar;
    }
  });

  // Geodesic distance: the sum of L.LatLng.distanceTo over the clicked legs.
  var Measure = L.Control.extend({
    options: {position: "topleft"},
    onAdd: function (map) {
      this._map = map;
      this._pts = [];
      this._on = false;
      var bar = el("div", "leaflet-control cm-measure");
      var inner = el("div", "leaflet-bar");
      var a = el("a", "cm-btn");
      a.href = "#";
      a.title = "Measure distance: click points on the map; click here or press Esc to end";
      a.setAttribute("role", "button");
      a.innerHTML = ICON_RULER;
      inner.appendChild(a);
      bar.appendChild(inner);
      this._out = el("div", "cm-measure-out");
      bar.appendChild(this._out);
      this._bar = bar;
      this._line = L.polyline([], {color: "#111", weight: 2.5, dashArray: "6 5",
        interactive: false});
      this._marks = L.layerGroup();
      var self = this;
      L.DomEvent.on(a, "click", function (e) { L.DomEvent.stop(e); self.toggle(); });
      L.DomEvent.disableClickPropagation(bar);
      return bar;
    },
    toggle: function () { if (this._on) { this.stop(); } else { this.start(); } },
    start: function () {
      var map = this._map;
      this._on = true;
      this._pts = [];
      this._line.setLatLngs([]).addTo(map);
      this._marks.clearLayers().addTo(map);
      map.on("click", this._add, this);
      map.doubleClickZoom.disable();
      L.DomEvent.on(document, "keydown", this._key, this);
      map.getContainer().classList.add("cm-measuring");
      this._bar.classList.add("cm-measure-on");
      this._out.textContent = "Click on the map to measure";
    },
    stop: function () {
      var map = this._map;
      this._on = false;
      map.off("click", this._add, this);
      map.doubleClickZoom.enable();
      L.DomEvent.off(document, "keydown", this._key, this);
      map.removeLayer(this._line);
      map.removeLayer(this._marks);
      map.getContainer().classList.remove("cm-measuring");
      this._bar.classList.remove("cm-measure-on");
    },
    _key: function (e) { if (e.key === "Escape") { this.stop(); } },
    _add: function (e) { this.addPoint(e.latlng); },
    addPoint: function (latlng) {
      this._pts.push(L.latLng(latlng));
      this._line.addLatLng(latlng);
      L.circleMarker(latlng, {radius: 3.5, color: "#111", weight: 1.5, fillColor: "#fff",
        fillOpacity: 1, interactive: false}).addTo(this._marks);
      var km = this.meters() / 1000;
      var legs = this._pts.length - 1;
      this._out.textContent = km.toLocaleString("en", {maximumFractionDigits: km < 100 ? 1 : 0}) +
        " km" + (legs > 1 ? " (" + legs + " legs)" : "");
    },
    meters: function () {
      var d = 0;
      for (var i = 1; i < this._pts.length; i++) { d += this._pts[i - 1].distanceTo(this._pts[i]); }
      return d;
    }
  });

  function panel(map, id, position) {
    var node = document.getElementById(id);
    if (!node) { return; }
    var c = L.control({position: position});
    c.onAdd = function () {
      L.DomEvent.disableClickPropagation(node);
      L.DomEvent.disableScrollPropagation(node);
      node.classList.add("leaflet-control");
      return node;
    };
    c.addTo(map);
    var head = node.querySelector(".cm-head");
    if (head) {
      L.DomEvent.on(head, "click", function () {
        var closed = node.classList.toggle("cm-collapsed");
        head.setAttribute("aria-expanded", closed ? "false" : "true");
      });
    }
    Array.prototype.forEach.call(node.querySelectorAll("[data-cm-route]"), function (tr) {
      L.DomEvent.on(tr, "click", function () {
        CM.showRoute(map, parseInt(tr.getAttribute("data-cm-route"), 10));
      });
    });
  }

  CM.finish = function (map, opts) {
    // Added one by one: an object keyed by label would merge equal labels and reorder them.
    var control = new Grouped({}, {}, {collapsed: true, position: "topright"});
    map._cm.base.forEach(function (b, i) {
      control.addBaseLayer(b.layer, b.label);
      // Only an offline base is shown by default: tiles load only when the reader picks them.
      if (i === 0 && !b.online && !map.hasLayer(b.layer)) { b.layer.addTo(map); }
    });
    map._cm.layers.forEach(function (o) { control.addOverlay(o.layer, o.label); });
    map._cm.control = control.addTo(map);
    L.control.scale({imperial: false, position: "bottomleft", maxWidth: 160}).addTo(map);
    panel(map, opts.stats, "bottomleft");
    panel(map, opts.legend, "bottomright");
    new Fullscreen().addTo(map);
    map._cm.measure = new Measure().addTo(map);
    var title = document.querySelector(".cm-title");
    if (title) { map.getContainer().appendChild(title); }
  };
})();
"""
