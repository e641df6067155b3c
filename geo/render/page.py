"""Page assembly: an empty offline map with our runtime, the base layers, the panels, the file.

:func:`new_map` starts a page, :func:`base_layers` draws the offline country base,
:func:`finish` adds the layers and panels and fixes the element ids, and :func:`save_html`
writes the page atomically. The corridor map (:mod:`geo.render.corridor_map`), the route map
and the supply map (:mod:`geo.render.supply_map`) are all built this way.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
from branca.element import Element

from ..data.files import atomic_write_text
from ..errors import GeoError
from .assets import strip_cdn_links, use_offline_assets
from .elements import Head, Html, PageElement, Script, static_text
from .payloads import LayerPayload, polygon_layer
from .spec import KNOWN_TILES, MapSpec
from .style import SHADE_COLOR, esc, palette_css

__all__ = [
    "CSS",
    "RUNTIME_JS",
    "base_layers",
    "finish",
    "new_map",
    "render_html",
    "save_html",
    "stable_ids",
]

# The page runtime (geo/render/static/): constants, never formatted with data.
CSS = static_text("corridor.css")
RUNTIME_JS = static_text("corridor.js") + static_text("labels.js")


def new_map(
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


def base_layers(countries: gpd.GeoDataFrame | None, shade: Sequence[str]) -> list[LayerPayload]:
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


def finish(
    m: folium.Map,
    title: str,
    layers: Sequence[LayerPayload],
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
    # Trailing whitespace of templates varies with nothing but makes diffs noisy. Line by line:
    # the regular expression r"[ \t]+\n" took a tenth of a second on a 100k-point page.
    lines = text.split("\n")
    return "\n".join([*(line.rstrip(" \t") for line in lines[:-1]), lines[-1]])


def save_html(m: folium.Map, path: str | Path) -> Path:
    """Write the page atomically (:func:`~geo.data.files.atomic_write_text`), readable by all."""
    p = Path(path)
    text = render_html(m)
    try:
        if p.is_dir() or not p.name:
            msg = f"{p}: cannot write the map there (a folder); give an .html file path"
            raise GeoError(msg)
        atomic_write_text(p, text, mode=0o644)
    except OSError as e:
        msg = f"{p}: cannot write the map ({e.strerror or e}); choose a writable file path"
        raise GeoError(msg) from e
    return p
