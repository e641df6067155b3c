"""The route network: nodes and segments (bundled and user-added) as a networkx graph.

Each edge is one segment and carries its geodesic length, mode, status, gauge, corridor,
precision, passages and km by country (in from -> to order). The network is built once per
process for a given set of layers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import geopandas as gpd
import networkx as nx
import pandas as pd
import shapely

from ..data.bundled import bundled_layers
from ..data.countries import SEA, km_by_country
from ..data.geodesy import GEOD
from ..data.layers import load_bundled

SNAP_KM = 5.0  # a line end this close to a node is joined to it
SLIVER_KM = 3.0  # country pieces shorter than this are generalisation noise of the 1:50m borders
RUSSIA = ("RUS",)
SEGMENT_LAYERS = ("trans_caspian", "bri_alternatives")
# The deposit properties the analysis reads (names and ids of places, statistics near a route,
# access legs, bypass origins, exports): a network built with ``deposit_columns`` set to these
# gives the same routes and statistics, and its builder need not read a deposit layer's other
# columns at all. Pages show every column (popups), so their network keeps them.
DEPOSIT_COLUMNS = ("id", "name", "commodities", "country", "status", "output_value",
                   "output_unit")  # fmt: skip


@dataclass(eq=False)
class Network:
    """A built network: the graph plus the frames it came from and what building reported.

    The graph is frozen (:func:`networkx.freeze`): a network is never changed after it is built,
    so what is derived from it can be kept beside it. Those caches are the declared fields
    ``names`` (place-name indexes, filled by :mod:`geo.analysis.routing` on first use) and
    ``subgraphs`` (the cheapest allowed edges per set of constraints).
    """

    graph: nx.MultiGraph
    nodes: gpd.GeoDataFrame  # indexed by id
    segments: gpd.GeoDataFrame  # with length_km, km_by_country, countries, russia_km
    deposits: gpd.GeoDataFrame
    snapped: list[str] = field(default_factory=list)
    dangling: list[str] = field(default_factory=list)
    names: dict[str, dict[str, list[str]]] = field(default_factory=dict, repr=False)
    subgraphs: dict[Any, nx.Graph] = field(default_factory=dict, repr=False)


def _merge_slivers(pieces: dict[str, float], order: list[str]) -> dict[str, float]:
    """Give pieces shorter than SLIVER_KM to their neighbour so the total stays the same."""
    if len(order) <= 1:
        return pieces
    out = dict(pieces)
    for code in list(order):
        km = out.get(code, 0.0)
        if code == SEA or km >= SLIVER_KM or len(out) <= 1:
            continue
        i = order.index(code)
        neighbours = [c for c in order[i - 1 : i] + order[i + 1 : i + 2] if c in out and c != code]
        if not neighbours:
            continue
        target = max(neighbours, key=lambda c: out[c])
        out[target] += out.pop(code)
        order.remove(code)
    return {c: out[c] for c in order if c in out}


def segment_countries(line: shapely.Geometry) -> dict[str, float]:
    """Km by country along a line, slivers merged, in the order the line enters them."""
    raw = km_by_country(line)
    return _merge_slivers(raw, list(raw))


def _endpoint_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2] / 1000.0)


def _nearest_node(nodes: gpd.GeoDataFrame, x: float, y: float) -> tuple[str, float]:
    d = [(_endpoint_km((x, y), (p.x, p.y)), str(i)) for i, p in nodes.geometry.items()]
    km, nid = min(d)
    return nid, km


def _ends(geom: shapely.Geometry) -> tuple[tuple[float, float], tuple[float, float]]:
    parts = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
    (x0, y0), (x1, y1) = parts[0].coords[0][:2], parts[-1].coords[-1][:2]
    return (x0, y0), (x1, y1)


def build_network(
    nodes: gpd.GeoDataFrame,
    segments: gpd.GeoDataFrame,
    deposits: gpd.GeoDataFrame | None = None,
    *,
    snap_km: float = SNAP_KM,
) -> Network:
    """Build the network from validated node and segment frames (inputs are not changed).

    A segment's ``from``/``to`` that names no node is joined to the nearest node within
    ``snap_km`` of the line's end (reported in ``snapped``); otherwise it is left out and
    reported in ``dangling``.
    """
    nodes = nodes.drop_duplicates("id", keep="last").set_index("id", drop=False)
    segs = segments.drop_duplicates("id", keep="last").reset_index(drop=True).copy()
    g: nx.MultiGraph = nx.MultiGraph()
    for nid, row in nodes.iterrows():
        g.add_node(str(nid), name=row["name"], kind=row["kind"], country=row["country"],
                   x=row.geometry.x, y=row.geometry.y)  # fmt: skip
    snapped: list[str] = []
    dangling: list[str] = []
    rows: list[dict[str, Any]] = []
    for _, s in segs.iterrows():
        start, end = _ends(s.geometry)
        ends: list[str | None] = []
        for key, pt in (("from", start), ("to", end)):
            nid = s.get(key)
            nid = nid if isinstance(nid, str) and nid else None  # NaN from a frame without it
            if nid is not None and nid in nodes.index:
                ends.append(nid)
                continue
            near, km = _nearest_node(nodes, *pt)
            if km <= snap_km:
                snapped.append(f"segment {s['id']}: {key} end joined to node {near} ({km:.1f} km)")
                ends.append(near)
            else:
                why = f"names unknown node '{nid}'" if nid else "has no node"
                dangling.append(
                    f"segment {s['id']}: {key} {why}; nearest node {near} is {km:.0f} km away"
                )
                ends.append(None)
        if None in ends:
            continue
        u, v = str(ends[0]), str(ends[1])
        geom = s.geometry
        length = GEOD.geometry_length(geom) / 1000.0
        by_country = segment_countries(geom)
        passages = s.get("passages")
        passages = tuple(passages) if isinstance(passages, list | tuple) else ()
        gauge = s.get("gauge_mm")
        gauge = None if gauge is None or pd.isna(gauge) else int(gauge)
        attrs = {
            "id": str(s["id"]), "name": s["name"], "mode": s["mode"], "status": s["status"],
            "corridor": s["corridor"], "precision": s["precision"], "gauge_mm": gauge,
            "length_km": length, "km_by_country": by_country, "passages": passages,
            "u": u, "v": v, "geometry": geom, "source": s.get("source"),
        }  # fmt: skip
        g.add_edge(u, v, key=str(s["id"]), **attrs)
        rows.append({"id": str(s["id"]), "from_node": u, "to_node": v, "length_km": length,
                     "km_by_country": by_country,
                     "countries": [c for c in by_country if c != SEA],
                     "russia_km": sum(by_country.get(c, 0.0) for c in RUSSIA)})  # fmt: skip
    extra = pd.DataFrame(rows, columns=["id", "from_node", "to_node", "length_km",
                                        "km_by_country", "countries", "russia_km"])  # fmt: skip
    segs = segs.merge(extra, on="id", how="left")
    segs = gpd.GeoDataFrame(segs, geometry="geometry", crs=4326)
    if deposits is None:
        deposits = gpd.GeoDataFrame({"id": [], "name": [], "commodities": []}, geometry=[],
                                    crs=4326)  # fmt: skip
    return Network(nx.freeze(g), nodes, segs, deposits, snapped, dangling)


def _concat(frames: Sequence[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return gpd.GeoDataFrame(geometry=[], crs=4326)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=4326)


def load_network(
    layers: Sequence[gpd.GeoDataFrame] = (), *, deposit_columns: Sequence[str] | None = None
) -> Network:
    """The network of the bundled layers plus ``layers`` (node, segment and deposit frames).

    With ``deposit_columns`` (e.g. :data:`DEPOSIT_COLUMNS`), the network's deposits keep only
    those properties, of the bundled deposits and of ``layers`` alike.

    Nothing else is read: the user's stored layers join only when the caller passes them (the
    application does, see :func:`geo.api.network`). With no ``layers`` the bundled network is
    built once per process and shared; its graph is frozen, so no caller can change another's
    answers.
    """
    if not layers and deposit_columns is None:
        return _bundled_network()
    return _build_with(layers, None if deposit_columns is None else tuple(deposit_columns))


@lru_cache(maxsize=1)
def _bundled_network() -> Network:
    return _build_with([])


def _build_with(
    layers: Sequence[gpd.GeoDataFrame], deposit_columns: tuple[str, ...] | None = None
) -> Network:

    have = bundled_layers()
    nodes = [load_bundled("nodes")]
    segs = [load_bundled(n) for n in SEGMENT_LAYERS if n in have]
    deps = [load_bundled("deposits")] if "deposits" in have else []
    for lyr in layers:
        kind = lyr.attrs.get("kind")
        {"node": nodes, "segment": segs, "deposit": deps}.get(str(kind), []).append(lyr)
    if deposit_columns is not None:
        deps = [d[[c for c in d.columns if c in deposit_columns or c == d.geometry.name]]
                for d in deps]  # fmt: skip
    return build_network(_concat(nodes), _concat(segs), _concat(deps))


def segments_frame(network: Network | None = None) -> gpd.GeoDataFrame:
    """All segments with ``length_km``, ``km_by_country``, ``countries`` and ``russia_km``."""
    net = network or load_network()
    return net.segments.copy()
