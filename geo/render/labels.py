"""Place and country labels for the offline map: what to label, from which zoom, in what order.

Python decides each label's text, its point, the zoom from which it may show and its rank
(larger, busier places first); the page (``static/labels.js``) places them at each zoom so
that none overlaps another, trying eight positions around the point. Labels are text: they
reach the page as escaped JSON and are set with ``textContent``.

Which places: every port, border crossing, hub and city of the node layer, and the capitals of
the populated places layer (Natural Earth) that no node already names. From zoom 4 the ports,
hubs and cities on the reference routes and the national capitals; from zoom 5 every port and
the crossings on those routes; from zoom 6 every border crossing, hub and city; the two sides of
a border crossing share one label. Country names come from the country base.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, TypedDict

import geopandas as gpd
import numpy as np
import shapely

from .payloads import COORD_DECIMALS
from .style import fmt, fmt_column

__all__ = ["LabelsPayload", "label_text", "labels_payload"]

LABEL_DECIMALS = 3  # about 100 m: a label is placed in pixels
# (kind, first zoom, rank bonus): the first zoom of a place that no reference route passes
KIND_ZOOM: dict[str, tuple[int, int]] = {
    "port": (5, 30),
    "border_crossing": (6, 28),
    "hub": (6, 25),
    "dry_port": (6, 10),
    "city": (6, 25),
    "terminal": (8, 0),
}
# A place a reference route passes through: a main hub from zoom 4, a crossing from zoom 5.
ON_ROUTE_ZOOM = {"port": 4, "hub": 4, "city": 4, "dry_port": 5, "border_crossing": 5}
# (ranks: at zoom 6 every port and crossing comes before the hubs and cities off the routes)
CAPITAL_ZOOM = 4
ROLE_ZOOM = {"national capital": 4, "second capital": 5, "regional capital": 7, "city": 8}
NEAR_DEG = 0.3  # a populated place this close to a labelled node of the same name is that node


class LabelsPayload(TypedDict):
    """``CorridorMap.labels``: places as ``[lat, lon, text, first zoom, rank, class]``.

    Countries as ``[lat, lon, name, first zoom]``; higher ranks are placed first.
    """

    places: list[list[Any]]
    countries: list[list[Any]]


_PREFIX = re.compile(r"^(Port of|Port|Shahid)\s+", re.IGNORECASE)
_SUFFIX = re.compile(
    r"\s+(Central|railway station|International Seaport|International Sea Trade Port|"
    r"Deep Sea Port|İskele)$",
    re.IGNORECASE,
)


def label_text(name: str) -> str:
    """A place's name as a map label: no qualifier in brackets, no "Port of", no "Central".

    >>> label_text("Port of Aktau"), label_text("Tbilisi Central (junction)")
    ('Aktau', 'Tbilisi')
    >>> label_text("Baku International Sea Trade Port (Alat)"), label_text("Almaty-1")
    ('Baku (Alat)', 'Almaty')
    >>> label_text("Istanbul Halkalı (logistics centre)")
    'Istanbul Halkalı'
    """
    text, _, bracket = name.partition(" (")
    text = _PREFIX.sub("", text.strip())
    short = _SUFFIX.sub("", text)
    where = bracket.rstrip(")")
    if short != text and "Port" in text and where and " " not in where:  # "Baku (Alat)"
        short = f"{short} ({where})"
    return re.sub(r"-\d+$", "", short).strip() or name


def _on_routes(paths: Iterable[Any]) -> set[str]:
    names: set[str] = set()
    for path in paths:
        if isinstance(path, list | tuple | np.ndarray):
            names.update(fmt(p) for p in path)
    return names


def _node_labels(nodes: gpd.GeoDataFrame, on_route: set[str]) -> list[list[Any]]:
    names = fmt_column(nodes["name"]).tolist()
    kinds = nodes["kind"].astype(str).tolist() if "kind" in nodes else ["hub"] * len(nodes)
    gauge = nodes["gauge_change"].fillna(False).astype(bool).tolist() \
        if "gauge_change" in nodes else [False] * len(nodes)  # fmt: skip
    pts = shapely.point_on_surface(nodes.geometry.to_numpy())
    out = []
    for i, name in enumerate(names):
        if not name:
            continue
        zoom, rank = KIND_ZOOM.get(kinds[i], (7, 0))
        if name in on_route and kinds[i] in ON_ROUTE_ZOOM:
            zoom, rank = ON_ROUTE_ZOOM[kinds[i]], rank + 40
        rank += 5 if gauge[i] else 0
        out.append([round(float(shapely.get_y(pts[i])), LABEL_DECIMALS),
                    round(float(shapely.get_x(pts[i])), LABEL_DECIMALS),
                    label_text(name), zoom, rank, kinds[i]])  # fmt: skip
    return out


PAIR_DEG = 0.12  # two border crossings this close face each other across one border


def _pair_crossings(labels: list[list[Any]]) -> list[list[Any]]:
    """The two sides of one crossing (Böyük Kəsik and Gardabani) as one label, "A – B"."""
    out: list[list[Any]] = []
    for lab in labels:
        if lab[5] == "border_crossing":
            other = next((o for o in out if o[5] == "border_crossing" and " – " not in o[2]
                          and abs(o[0] - lab[0]) < PAIR_DEG and abs(o[1] - lab[1]) < PAIR_DEG
                          and o[2] != lab[2]), None)  # fmt: skip
            if other is not None:
                other[2] = f"{other[2]} – {lab[2]}"
                other[3], other[4] = min(other[3], lab[3]), max(other[4], lab[4])
                continue
        out.append(lab)
    return out


def _place_labels(places: gpd.GeoDataFrame, taken: list[list[Any]]) -> list[list[Any]]:
    """Populated places no node names (a node of that name, or the same spot, is the place)."""
    names = fmt_column(places["name"]).tolist()
    roles = fmt_column(places["role"]).tolist() if "role" in places else ["city"] * len(places)
    pops = places["population"].fillna(0).astype(float).tolist() \
        if "population" in places else [0.0] * len(places)  # fmt: skip
    pts = shapely.point_on_surface(places.geometry.to_numpy())
    seen = {t[2].split()[0].lower() for t in taken}
    at = np.array([[t[0], t[1]] for t in taken]) if taken else np.zeros((0, 2))
    out = []
    for i, name in enumerate(names):
        lat, lon = float(shapely.get_y(pts[i])), float(shapely.get_x(pts[i]))
        near = len(at) and bool((np.abs(at - [lat, lon]).max(axis=1) < NEAR_DEG).any())
        if not name or name.lower() in seen or near:
            continue
        zoom = ROLE_ZOOM.get(roles[i], 8)
        if pops[i] >= 1_000_000:
            zoom = min(zoom, 5)
        rank = (25 if zoom <= 4 else 0) + int(np.log10(max(pops[i], 1.0)))
        cls = "capital" if "capital" in roles[i] and roles[i] != "regional capital" else "city"
        out.append([round(lat, LABEL_DECIMALS), round(lon, LABEL_DECIMALS), name, zoom, rank, cls])
    return out


def _country_labels(countries: gpd.GeoDataFrame) -> list[list[Any]]:
    """Country names at a point inside each country, from a zoom that suits its size."""
    out = []
    names = fmt_column(countries["name"]).tolist() if "name" in countries else []
    for name, geom in zip(names, countries.geometry, strict=False):
        if not name or geom is None or geom.is_empty:
            continue
        parts = getattr(geom, "geoms", [geom])
        main = max(parts, key=lambda g: g.area)  # the mainland, not an island
        point = shapely.point_on_surface(main)
        area = main.area  # deg²: only to choose a zoom
        zoom = 3 if area > 150 else 4 if area > 40 else 5 if area > 8 else 6
        out.append([round(point.y, COORD_DECIMALS - 2), round(point.x, COORD_DECIMALS - 2),
                    name, zoom])  # fmt: skip
    return out


def labels_payload(
    nodes: gpd.GeoDataFrame | None,
    countries: gpd.GeoDataFrame | None,
    *,
    places: gpd.GeoDataFrame | None = None,
    route_paths: Iterable[Any] = (),
) -> LabelsPayload:
    """The labels of a map: its places (nodes, capitals) and its countries.

    Parameters
    ----------
    nodes : GeoDataFrame or None
        The node layer (``name``, ``kind``, ``gauge_change``).
    countries : GeoDataFrame or None
        The country base (``name``).
    places : GeoDataFrame, optional
        Populated places (``name``, ``role``, ``population``): capitals no node names.
    route_paths : iterable of lists of str
        The reference routes' paths: the places they pass through are labelled from zoom 4.

    Returns
    -------
    LabelsPayload
        Places highest rank first, then in the order given.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> n = gpd.GeoDataFrame({"name": ["Port of Aktau", "Beyneu"], "kind": ["port", "hub"]},
    ...                      geometry=[shapely.Point(51.2, 43.6), shapely.Point(55.2, 45.3)])
    >>> labels_payload(n, None, route_paths=[["Port of Aktau"]])["places"][0][2:5]
    ['Aktau', 4, 70]
    """
    out: list[list[Any]] = []
    if nodes is not None and len(nodes) and "name" in nodes:
        out = _pair_crossings(_node_labels(nodes, _on_routes(route_paths)))
    if places is not None and len(places) and "name" in places:
        out += _place_labels(places, out)
    order = sorted(range(len(out)), key=lambda i: (out[i][3], -out[i][4], i))
    has_names = countries is not None and len(countries) > 0 and "name" in countries
    return {
        "places": [out[i] for i in order],
        "countries": _country_labels(countries) if has_names else [],
    }
