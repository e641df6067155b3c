"""The corridor map and the route map: corridors, places, deposits, reference routes, user layers.

Every property value is text: values are HTML-escaped in Python, embedded as JSON with ``<``
escaped, and put into popups with ``textContent`` in the browser; only ``http(s)`` URLs become
links. The map shows what :mod:`geo.analysis.stats` computed; it never recomputes a statistic.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import folium
import geopandas as gpd
import numpy as np

from ..data.collector import collector_paused
from ..data.countries import countries as bundled_countries
from ..data.layers import load_bundled
from ..errors import GeoError
from .elements import Script
from .labels import labels_payload
from .page import base_layers, finish, new_map
from .panels import legend_html, route_legend_html, route_stats_html, stats_html
from .payloads import (
    COORD_DECIMALS,
    deposit_layer,
    is_empty,
    leg_layers,
    network_layer,
    node_layer,
    path_node_layer,
    route_layers,
    segment_layers,
    user_layer,
)
from .pipelines import pipeline_layers, terminal_layer
from .spec import MapSpec
from .style import fmt, main_groups

__all__ = ["build_map", "route_map"]


def build_map(
    spec: MapSpec,
    *,
    countries: gpd.GeoDataFrame | None,
    segments: gpd.GeoDataFrame | None,
    nodes: gpd.GeoDataFrame | None,
    deposits: gpd.GeoDataFrame | None,
    routes: gpd.GeoDataFrame | None,
    user_layers: Iterable[tuple[str, gpd.GeoDataFrame]] = (),
    network: gpd.GeoDataFrame | None = None,
    pipelines: gpd.GeoDataFrame | None = None,
    terminals: gpd.GeoDataFrame | None = None,
    places: gpd.GeoDataFrame | None = None,
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
        One row per reference route with its statistics (from :mod:`geo.analysis.stats`).
    user_layers : iterable of (name, GeoDataFrame)
        Extra layers styled by ``attrs["kind"]``.
    network : GeoDataFrame, optional
        The traced rail network, drawn as thin grey context under the corridors.
    pipelines, terminals : GeoDataFrame, optional
        The pipelines layer (mode ``pipeline``) and its terminals (kind ``terminal``), drawn
        in their own group beneath the corridors, by fuel and status.
    places : GeoDataFrame, optional
        Populated places whose capitals are labelled where no node names them; default: the
        bundled ``places`` layer (Natural Earth). An empty frame labels none.

    Any frame may be None or empty; no input is modified.

    Returns
    -------
    folium.Map
        Render it with :func:`render_html` or :func:`save_html` (stable ids, offline).
    """
    with collector_paused():  # a 100k-point layer's payloads are a million lists, none in a cycle
        user_layers = [(name, gdf) for name, gdf in user_layers if not is_empty(gdf)]
        m = new_map(spec, markercluster=True)
        layers = base_layers(countries, spec.shade)
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
        names = _country_names(countries)
        if network is not None and len(network):
            layers.append(network_layer(network, countries=names))
        if segments is not None and len(segments):
            layers += segment_layers(segments, spec.highlight, countries=names)
        if pipelines is not None and len(pipelines):
            layers += pipeline_layers(pipelines, countries=names)
        if terminals is not None and len(terminals):
            layers.append(terminal_layer(terminals, countries=names))
        if nodes is not None and len(nodes):
            layers.append(node_layer(nodes, label="Ports, border crossings, hubs", group="Places",
                                     countries=names))  # fmt: skip
        # the deposits drawn by main commodity: their groups and statuses found once, for the
        # payloads and the legend (a million points took seconds a pass)
        by_commodity = [g for _, g in user_layers if g.attrs.get("kind") == "deposit"
                        and not g.attrs.get("color_by")]  # fmt: skip
        if deposits is not None and len(deposits):
            by_commodity.insert(0, deposits)
        main = {id(g): main_groups(g["commodities"]) for g in by_commodity if "commodities" in g}
        statuses: set[str] = set()
        if deposits is not None and len(deposits):
            drawn = deposit_layer(deposits, label="Deposits", group="Deposits", countries=names,
                                  main=main.get(id(deposits)))  # fmt: skip
            layers.append(drawn)
            statuses |= set(drawn.get("sts", [])) if "status" in deposits else set()
        for n, (name, gdf) in enumerate(user_layers):
            user = user_layer(name, gdf, n, countries=names, main=main.get(id(gdf)))
            layers.append(user)
            if user["kind"] == "deposits" and any(g is gdf for g in by_commodity) and (
                    "status" in gdf):  # fmt: skip
                statuses |= set(user.get("sts", []))
        groups = {int(i) for m in main.values() for i in np.unique(m).tolist()}
        legend = legend_html(
            segments, nodes, deposits, spec.highlight, spec.shade, bool(route_ids), user_layers,
            pipelines=pipelines, terminals=terminals, commodity_groups=groups, statuses=statuses,
        )  # fmt: skip
        stats = stats_html(routes, route_ids) if route_ids and routes is not None else None
        if places is None:
            places = load_bundled("places")
        paths = routes["path"].tolist() if routes is not None and "path" in routes else []
        labels = labels_payload(nodes, countries, places=places, route_paths=paths)
        extra = [Script("labels", labels, "CorridorLabels")]
        return finish(m, spec.title, layers, legend, stats, extra=extra)


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
    m = new_map(spec, markercluster=False)
    gauge_at = [fmt(x) for x in (stats.get("gauge_breaks") or {}).get("at", [])]
    layers = [
        *base_layers(countries, spec.shade),
        *leg_layers(legs),
        path_node_layer(legs, gauge_at),
    ]
    drawn_shade = [c for c in spec.shade if "id" in countries and c in set(countries["id"])]
    legend = route_legend_html(legs, drawn_shade, gauge_breaks=bool(gauge_at))
    box = route_stats_html(stats, query)
    names = Script("labels", labels_payload(None, countries), "CorridorLabels")
    return finish(m, title, layers, legend, box, bounds=[[south, west], [north, east]],
                  extra=[names])  # fmt: skip


def _country_names(countries: gpd.GeoDataFrame | None) -> dict[str, str]:
    """Country names by alpha-3 code, from the base layer (popups name countries)."""
    if countries is None or "id" not in countries or "name" not in countries:
        return {}
    return {str(c): fmt(n) for c, n in zip(countries["id"], countries["name"], strict=True)}


def _default_shown(routes: gpd.GeoDataFrame, highlight: str) -> set[str]:
    """The first route whose id or name names the highlighted corridor (the TITR main route)."""
    key = highlight.lower()
    for rid, name in zip(routes["id"].astype(str), routes.get("name", routes["id"]).astype(str),
                         strict=True):  # fmt: skip
        if key in rid.lower() or key in name.lower():
            return {rid}
    return set()
