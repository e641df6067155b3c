"""Map rendering: map specs (TOML) and validated layers -> one self-contained folium HTML page.

The page works offline (libraries inlined by :mod:`geo.assets`, base layer drawn from the
bundled Natural Earth polygons), is byte-identical for identical inputs (stable element ids,
rounded coordinates, fixed ordering) and treats every property value as text: values are
HTML-escaped in Python, embedded as JSON with ``<`` escaped, and put into popups with
``textContent`` in the browser. Only ``http(s)`` URLs become links.

The map shows what :mod:`geo.stats` computed; it never recomputes a statistic.

This module reads specs and assembles pages; the parts live beside it:
:mod:`geo.mapstyle` (colours, symbols, values as text), :mod:`geo.maplayers` (frames ->
layer payloads), :mod:`geo.mappanels` (legend and statistics HTML), :mod:`geo.page` (page
elements that never compile data as a template) and ``geo/static/`` (the page's CSS and
JavaScript runtime).
"""

from __future__ import annotations

import difflib
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
import pandas as pd
from branca.element import Element

from .assets import strip_cdn_links, use_offline_assets
from .errors import GeoError, SpecError
from .mapexports import ExportsSpec, build_exports_map
from .maplayers import (
    COORD_DECIMALS,
    COUNTRY_DECIMALS,
    COUNTRY_MIN_AREA,
    COUNTRY_SIMPLIFY_DEG,
    deposit_layer,
    is_empty,
    leg_layers,
    node_layer,
    path_node_layer,
    polygon_layer,
    route_layers,
    segment_layers,
    user_layer,
)
from .mappanels import (
    STATS_COLUMNS,
    legend_html,
    route_legend_html,
    route_stats_html,
    stats_html,
)
from .mapstyle import (
    COMMODITY_GROUPS,
    CORRIDORS,
    GAUGE_RING,
    MODE_COLORS,
    NODE_SHAPES,
    OTHER_COLORS,
    OTHER_COMMODITY,
    OTHER_VALUE_COLOR,
    ROUTE_COLORS,
    ROUTE_FIELDS,
    RUSSIA_COLOR,
    SHADE_COLOR,
    STAT_LABELS,
    STATUS_DASH,
    STATUS_LABEL,
    USER_COLORS,
    VALUE_PALETTE,
    esc,
    fmt,
    node_symbol,
    palette_css,
    value_colors,
)
from .page import Head, Html, PageElement, Script, static_text

# The page runtime (geo/static/): constants, never formatted with data.
CSS = static_text("corridor.css")
RUNTIME_JS = static_text("corridor.js")

# The public names of the map modules, importable from here as before the split.
__all__ = [
    "COMMODITY_GROUPS",
    "COORD_DECIMALS",
    "CORRIDORS",
    "COUNTRY_DECIMALS",
    "COUNTRY_MIN_AREA",
    "COUNTRY_SIMPLIFY_DEG",
    "CSS",
    "GAUGE_RING",
    "KNOWN_TILES",
    "MODE_COLORS",
    "NODE_SHAPES",
    "OTHER_COLORS",
    "OTHER_COMMODITY",
    "OTHER_VALUE_COLOR",
    "ROUTE_COLORS",
    "ROUTE_FIELDS",
    "RUNTIME_JS",
    "RUSSIA_COLOR",
    "SHADE_COLOR",
    "STATS_COLUMNS",
    "STATUS_DASH",
    "STATUS_LABEL",
    "STAT_LABELS",
    "USER_COLORS",
    "VALUE_PALETTE",
    "MapSpec",
    "build_from_spec",
    "build_map",
    "fmt",
    "load_spec",
    "node_symbol",
    "render_html",
    "route_map",
    "save_html",
    "stable_ids",
    "value_colors",
]

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
    exports : ExportsSpec or None
        The ``[exports]`` table: the map shows every deposit's supply route to a market
        (:mod:`geo.mapexports`) instead of the corridors and reference routes.
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
    exports: ExportsSpec | None = None
    path: Path | None = None


_TOP_KEYS = {
    "title", "center", "zoom", "min_zoom", "max_zoom", "layers", "highlight", "shade", "tiles",
    "stats", "exports",
}  # fmt: skip
_STATS_KEYS = {"routes", "show"}
_EXPORTS_KEYS = {"markets", "market", "avoid", "commodities", "status"}


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
    doc = _read_toml(p)
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
        _known(p, "shade", kwargs["shade"], _country_codes(), "country code",
               "use ISO 3166-1 alpha-3 codes such as RUS, BLR")  # fmt: skip
    if "tiles" in doc:
        tiles = _str_list(p, "tiles", doc["tiles"])
        bad = [t for t in tiles if t not in KNOWN_TILES]
        if bad:
            msg = f"unknown tile layer {bad[0]!r}; use one of {', '.join(KNOWN_TILES)}"
            raise _spec_error(p, "tiles", msg)
        kwargs["tiles"] = tiles
    stats = _table(p, "stats", doc.get("stats", {}), _STATS_KEYS)
    routes = stats.get("routes", "all")
    if routes != "all":
        kwargs["stats_routes"] = _str_list(p, "stats.routes", routes)
        _known(p, "stats.routes", kwargs["stats_routes"], _route_ids(), "reference route",
               "`corridor stats` lists the route ids")  # fmt: skip
    if "show" in stats:
        kwargs["show_routes"] = _str_list(p, "stats.show", stats["show"])
        listed = kwargs.get("stats_routes") or _route_ids()
        _known(p, "stats.show", kwargs["show_routes"], listed, "route",
               "list route ids from stats.routes (`corridor stats` lists them)")  # fmt: skip
    if "exports" in doc:
        kwargs["exports"] = _exports_spec(p, doc["exports"])
    return MapSpec(**kwargs)


MAX_SPEC_BYTES = 1_000_000  # a map spec is a few hundred bytes; anything larger is a mistake


def _read_toml(p: Path) -> dict[str, Any]:
    """The spec's TOML document, or one SpecError line naming the file and the fix."""
    try:
        if not p.exists():
            msg = f"{p}: map spec not found; check the path"
            raise SpecError(msg)
        if not p.is_file():
            msg = f"{p}: not a regular file; give the path of a .toml map spec"
            raise SpecError(msg)
        with p.open("rb") as f:
            data = f.read(MAX_SPEC_BYTES + 1)
        if len(data) > MAX_SPEC_BYTES:
            msg = f"{p}: larger than {MAX_SPEC_BYTES:,} bytes; a map spec is a short TOML file"
            raise SpecError(msg)
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        msg = f"{p}: not UTF-8 text; save the spec as UTF-8"
        raise SpecError(msg) from None
    except tomllib.TOMLDecodeError as e:
        msg = f"{p}: malformed TOML ({e}); fix the syntax"
        raise SpecError(msg) from None
    except RecursionError:
        msg = f"{p}: nested too deeply to read; a map spec needs at most two levels of tables"
        raise SpecError(msg) from None
    except OSError as e:
        msg = f"{p}: cannot be read ({e.strerror or e}); check the path and its permissions"
        raise SpecError(msg) from None


def _known(
    p: Path, key: str, values: Sequence[str], known: Iterable[str], what: str, fix: str
) -> None:
    """Refuse a value that names nothing (a typo would otherwise be ignored silently)."""
    choices = sorted(set(known))
    for v in values:
        if v not in choices:
            close = difflib.get_close_matches(v, choices, n=3)
            hint = f"did you mean {', '.join(close)}?" if close else fix
            raise _spec_error(p, key, f"unknown {what} {v!r}; {hint}")


def _country_codes() -> set[str]:
    from .countries import codes

    return codes()


def _route_ids() -> list[str]:
    from .stats import reference_specs

    return [s.id for s in reference_specs()]


def _table(p: Path, name: str, table: Any, known: set[str]) -> dict[str, Any]:
    """A ``[name]`` table of the spec whose keys are all ``known``."""
    if not isinstance(table, dict):
        raise _spec_error(p, name, f"expected a table ([{name}])")
    unknown = sorted(set(table) - known)
    if unknown:
        msg = f"unknown key; known keys are {', '.join(sorted(known))}"
        raise _spec_error(p, f"{name}.{unknown[0]}", msg)
    return table


def _exports_spec(p: Path, table: Any) -> ExportsSpec:
    table = _table(p, "exports", table, _EXPORTS_KEYS)
    kw: dict[str, Any] = {}
    for key in ("markets", "avoid", "commodities"):
        if key in table:
            kw[key] = _str_list(p, f"exports.{key}", table[key])
    for key in ("market", "status"):
        if key in table:
            if not isinstance(table[key], str) or not table[key]:
                raise _spec_error(p, f"exports.{key}", f"expected text, got {table[key]!r}")
            kw[key] = table[key]
    if kw.get("status", "operational") not in ("operational", "all"):
        raise _spec_error(p, "exports.status", "expected 'operational' or 'all'")
    return ExportsSpec(**kw)


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
    user_layers = [(name, gdf) for name, gdf in user_layers if not is_empty(gdf)]
    m = _new_map(spec, markercluster=True)
    layers = _base_layers(countries, spec.shade)
    route_ids: list[int] = []
    if routes is not None and len(routes):
        sel = routes
        if spec.stats_routes is not None:
            keep = routes["id"].astype(str).isin(spec.stats_routes).to_numpy()
            sel = routes[keep]
        shown = set(spec.show_routes) or _default_shown(sel, spec.highlight)
        drawn_routes, route_ids = route_layers(sel.reset_index(drop=True), shown)
        layers += drawn_routes
        routes = sel.reset_index(drop=True)
    if segments is not None and len(segments):
        layers += segment_layers(segments, spec.highlight)
    if nodes is not None and len(nodes):
        layers.append(node_layer(nodes, label="Ports, border crossings, hubs", group="Places"))
    if deposits is not None and len(deposits):
        layers.append(deposit_layer(deposits, label="Deposits", group="Deposits"))
    for n, (name, gdf) in enumerate(user_layers):
        layers.append(user_layer(name, gdf, n))
    legend = legend_html(
        segments, nodes, deposits, spec.highlight, spec.shade, bool(route_ids), user_layers
    )
    stats = stats_html(routes, route_ids) if route_ids and routes is not None else None
    return _finish(m, spec.title, layers, legend, stats)


def _new_map(
    spec: MapSpec, *, markercluster: bool, extra_css: str = "", extra_js: str = ""
) -> folium.Map:
    """An empty offline map with the page runtime, its view and optional tile layers."""
    m = folium.Map(
        location=list(spec.center),
        zoom_start=spec.zoom,
        tiles=None,
        zoom_control=True,
        maxZoom=spec.max_zoom,
        minZoom=spec.min_zoom,
        worldCopyJump=False,
    )
    use_offline_assets(m, markercluster=markercluster)
    m.add_child(
        Head(spec.title, CSS + palette_css() + extra_css, RUNTIME_JS + extra_js),
        name="corridor_head",
    )
    m.add_child(
        Script("init", {"title": spec.title, "tiles": _tiles(spec.tiles)}, "CorridorInit"),
        name="corridor_init",
    )
    return m


def _base_layers(countries: gpd.GeoDataFrame | None, shade: Sequence[str]) -> list[dict[str, Any]]:
    """The offline country base and, on top, the shaded countries (reusing its features)."""
    if countries is None or not len(countries):
        return []
    base_style = {"color": "#a69f91", "weight": 0.6, "fillColor": "#f3efe6", "fillOpacity": 1}
    base = polygon_layer(
        countries,
        label="Countries (Natural Earth, offline)",
        group="",
        style=base_style,
        pane="cmBase",
        base=True,
        simplify=True,
    )
    codes = countries["id"].astype(str).tolist() if "id" in countries else []
    drawn = {f["k"] for f in base["f"]}
    ref = [i for i, code in enumerate(codes) if code in shade and i in drawn]
    if not ref:
        return [base]
    style = {"color": "#b5655a", "weight": 0.8, "fillColor": SHADE_COLOR, "fillOpacity": 0.4}
    shaded = polygon_layer(
        countries,
        label=f"{' & '.join(shade)} shaded",
        group="Base",
        style=style,
        pane="cmShade",
        ref=ref,
    )
    return [base, shaded]


def _finish(
    m: folium.Map,
    title: str,
    layers: Sequence[dict[str, Any]],
    legend: str,
    stats: str | None,
    bounds: list[list[float]] | None = None,
    extra: Sequence[PageElement] = (),
) -> folium.Map:
    """Add the layers, the panels, the title and the closing runtime call; fix the ids."""
    for i, layer in enumerate(layers):
        m.add_child(Script("add", layer), name=f"corridor_layer_{i}")
    for i, element in enumerate(extra):
        m.add_child(element, name=f"corridor_extra_{i}")
    m.add_child(Html(legend, "CorridorLegend"), name="corridor_legend")
    if stats is not None:
        m.add_child(Html(stats, "CorridorStats"), name="corridor_stats")
    m.add_child(Html(f'<div class="cm-title">{esc(title)}</div>', "CorridorTitle"))
    if bounds is not None:
        m.add_child(Script("fit", bounds, "CorridorFit"), name="corridor_fit")
    m.add_child(Script("finish", {"legend": "cm-legend", "stats": "cm-stats"}, "CorridorEnd"))
    stable_ids(m)
    return m


def route_map(
    legs: gpd.GeoDataFrame,
    *,
    countries: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    shade: Sequence[str] = ("RUS", "BLR"),
) -> folium.Map:
    """A map of one route: its legs by mode, the places on its path, and its statistics.

    Parameters
    ----------
    legs : GeoDataFrame
        As :func:`geo.route` returns it: one row per leg in travel order (``from``, ``to``,
        ``mode``, ``status``, ``length_km``, ...), ``attrs["stats"]`` with every statistic and
        optionally ``attrs["query"]`` (``from``, ``to``, ``constraints``).
    countries : GeoDataFrame, optional
        The base layer; default: the bundled Natural Earth countries. An empty frame draws none.
    title : str, optional
        Default: ``"Route: <first place> → <last place>"``.
    shade : sequence of str
        Alpha-3 codes shaded on the base.

    Returns
    -------
    folium.Map
        Render it with :func:`render_html` or :func:`save_html` (stable ids, offline).

    Raises
    ------
    GeoError
        When ``legs`` is empty or carries no ``attrs["stats"]``.

    Examples
    --------
    >>> import geo
    >>> legs = geo.route("Xi'an", "Duisburg", avoid=["RUS"])          # doctest: +SKIP
    >>> save_html(route_map(legs), "route.html")                      # doctest: +SKIP
    """
    stats = legs.attrs.get("stats")
    if not len(legs) or not isinstance(stats, dict):
        msg = "route_map: 'legs' should be the legs of a route with attrs['stats'] (geo.route)"
        raise GeoError(msg)
    if countries is None:
        from .countries import countries as bundled_countries

        countries = bundled_countries().reset_index(drop=True)
    query = legs.attrs.get("query") or {}
    first, last = fmt(legs["from"].iat[0]), fmt(legs["to"].iat[-1])
    title = title or f"Route: {first} → {last}"
    west, south, east, north = (round(float(v), COORD_DECIMALS) for v in legs.total_bounds)
    spec = MapSpec(
        title=title,
        center=(
            round((south + north) / 2, COORD_DECIMALS),
            round((west + east) / 2, COORD_DECIMALS),
        ),
        zoom=4,
        layers=(),
        shade=tuple(shade),
    )
    m = _new_map(spec, markercluster=False)
    gauge_at = [fmt(x) for x in (stats.get("gauge_breaks") or {}).get("at", [])]
    layers = [
        *_base_layers(countries, spec.shade),
        *leg_layers(legs),
        path_node_layer(legs, gauge_at),
    ]
    drawn_shade = [c for c in spec.shade if "id" in countries and c in set(countries["id"])]
    legend = route_legend_html(legs, drawn_shade, gauge_breaks=bool(gauge_at))
    box = route_stats_html(stats, query)
    return _finish(m, title, layers, legend, box, bounds=[[south, west], [north, east]])


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
    text = render_html(m)
    try:
        if p.is_dir() or not p.name:
            msg = f"{p}: cannot write the map there (a folder); give an .html file path"
            raise GeoError(msg)
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".cm-", suffix=".html.tmp", dir=p.parent)
    except OSError as e:
        msg = f"{p}: cannot write the map ({e.strerror or e}); choose a writable file path"
        raise GeoError(msg) from e
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        Path(tmp).chmod(0o644)
        Path(tmp).replace(p)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        msg = f"{p}: cannot write the map ({e.strerror or e}); choose a writable file path"
        raise GeoError(msg) from e
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
    """Load a spec's layers and the user's, build the network once, compute the statistics, save.

    Parameters
    ----------
    spec_path : str or Path
        TOML map spec, e.g. ``maps/corridor.toml``.
    out : str or Path, optional
        Output HTML; default: the spec's path with ``.html``.
    extra_layers : iterable
        ``(name, GeoDataFrame)`` pairs or layer file paths (``corridor map --layer FILE``).
        They and the stored user layers (:func:`geo.store.user_layers`) are drawn in
        "Your layers" and join the network the statistics are computed on.
    progress : callable, optional
        Called with a short message at each step.

    Returns
    -------
    Path
        The written HTML file.
    """
    from .layers import bundled_layers, load_bundled, load_layer
    from .network import load_network, segments_frame
    from .stats import reference_routes
    from .store import user_layers

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
    user = [(str(g.attrs["name"]), g) for g in user_layers()]
    extra: list[tuple[str, gpd.GeoDataFrame]] = []
    for item in extra_layers:
        if isinstance(item, str | Path):
            say(f"loading layer {item}")
            extra.append((Path(item).stem, load_layer(item)))
        else:
            extra.append(item)
    # One network for the drawn segments and the statistics: the stored user layers (which
    # load_network adds by itself) and the extra ones join it, so user segments extend routes
    # and user deposits count as nearby.
    say("building the network")
    net = load_network([g for _, g in extra])
    segments = None
    if by_kind.get("segment"):
        wanted = set(pd.concat([g["id"] for g in by_kind["segment"]]).astype(str))
        allseg = segments_frame(net)
        segments = allseg[allseg["id"].astype(str).isin(wanted).to_numpy()]
    if spec.exports is not None:
        say("finding every deposit's supply routes")
        m = build_exports_map(spec, countries=countries, segments=segments_frame(net),
                              network=net)  # fmt: skip
        target = Path(out) if out is not None else Path(spec_path).with_suffix(".html")
        say(f"writing {target}")
        return save_html(m, target)
    say("computing route statistics")
    ids = None if spec.stats_routes is None else list(spec.stats_routes)
    routes = reference_routes(ids, network=net)
    say("drawing the map")
    m = build_map(
        spec,
        countries=countries,
        segments=segments,
        nodes=concat("node"),
        deposits=concat("deposit"),
        routes=routes,
        user_layers=[*user, *extra],
    )
    target = Path(out) if out is not None else Path(spec_path).with_suffix(".html")
    say(f"writing {target}")
    return save_html(m, target)
