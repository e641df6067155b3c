"""Pipelines on the map: the oil and gas lines by fuel and status, and their terminals.

The pipelines layer (``layers/pipelines.geojson``, Global Energy Monitor) holds each GEM line
as pieces cut at borders and junctions (ids ``pipe-<project>-<n>``, numbered along the line),
and parallel lines as pieces of the same geometry. A popup speaks of the whole line: its
length and countries summed over its pieces, the other lines drawn on the same route, and its
source as a link named by its publisher. Maintainers' notes stay in the data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from .payloads import (
    LineFeature,
    LinesLayer,
    NodeFeature,
    NodesLayer,
    drawn_all,
    latlngs,
    latlngs_of,
)
from .style import (
    PIPELINE_ATTRIBUTION,
    PIPELINE_FUELS,
    PIPELINE_OTHER_COLOR,
    PIPELINE_STATUS,
    PIPELINE_WEIGHT,
    capacity_text,
    esc,
    fmt,
    fmt_km,
    is_missing,
    node_symbol,
    pipeline_style,
    source_links,
    status_group,
    swatch_line,
)

__all__ = ["PIPE_DECIMALS", "PIPE_GROUP", "pipeline_layers", "terminal_layer"]

PIPE_GROUP = "Pipelines"
PIPE_DECIMALS = 4  # about 10 m: the lines are drawn simplified by 200 m anyway
PIPE_COLUMNS = [
    "Name", "Fuel", "Status", "Capacity", "Length", "Countries", "Start year", "Owner",
    "Route on the map", "Shares its route with",
]  # fmt: skip
# Status order on the map: what is operating is drawn last, on top of a proposed line sharing
# its route.
CAPACITY_COLUMNS = ("capacity_kbd", "capacity_bcm_y", "capacity", "capacity_units")
_DRAW_ORDER = {"suspended": 0, "proposed": 1, "planned": 1, "under_construction": 2}
_GEM_STATUS = re.compile(r"GEM status '([^']+)' as of (\d{4}(?:-\d{2})?)")
_SHARE = re.compile(r"\s*\[(\d+(?:\.\d+)?|unknown) ?%\]")
_PRECISION = {
    "traced": "traced from GEM's route",
    "schematic": "schematic: GEM draws this line approximately",
}


def _column(gdf: gpd.GeoDataFrame, name: str) -> list[Any]:
    return gdf[name].tolist() if name in gdf else [None] * len(gdf)


def _project(fid: str) -> str:
    """The GEM line of a piece: ``pipe-P0646-3`` -> ``pipe-P0646``."""
    head, _, tail = fid.rpartition("-")
    return head if head and tail.isdigit() else fid


def _share(m: re.Match[str]) -> str:
    return "" if m.group(1) == "unknown" else f" ({float(m.group(1)):g}%)"


OWNERS_SHOWN = 4  # a consortium's further owners are counted, and listed at the source


def _owner(text: Any) -> str:
    """GEM's owners with their shares as a reader writes them, the first few of a long list.

    >>> _owner("Transneft [24.00%]; KazMunayGas JSC [19.00%]")
    'Transneft (24%); KazMunayGas JSC (19%)'
    >>> _owner("PipeChina [unknown %]; QazaqGaz [unknown %]")
    'PipeChina; QazaqGaz'
    >>> _owner("A [40%]; B [20%]; C [20%]; D [10%]; E [5%]; F [5%]")
    'A (40%); B (20%); C (20%); D (10%); and 2 more'
    """
    owners = [o.strip() for o in _SHARE.sub(_share, fmt(text)).split(";") if o.strip()]
    if len(owners) > OWNERS_SHOWN + 1:
        rest = len(owners) - OWNERS_SHOWN
        owners = [*owners[:OWNERS_SHOWN], f"and {rest} more"]
    return "; ".join(owners)


def _status(status: str, notes: Any) -> str:
    """The status as text, with GEM's word and date when the build's notes carry them.

    >>> _status("suspended", "GEM project P1; GEM status 'shelved' as of 2024-03; whole line")
    'suspended (GEM: shelved, as of 2024-03)'
    >>> _status("operational", "GEM status 'operating' as of 2024-01"), _status("proposed", None)
    ('operating (GEM, as of 2024-01)', 'proposed')
    """
    text = PIPELINE_STATUS.get(status, (status.replace("_", " "), None, 0))[0]
    m = _GEM_STATUS.search(fmt(notes))
    if not m:
        return text
    word = "" if m.group(1) in (text, "operating", "construction") else f": {m.group(1)}"
    return f"{text} (GEM{word}, as of {m.group(2)})"


def _lines(pipes: gpd.GeoDataFrame) -> list[list[int]]:
    """The rows of each GEM line, in order along it; lines in the order of their first row."""
    groups: dict[str, list[int]] = {}
    ids = [str(fid) for fid in _column(pipes, "id")]
    for i, fid in enumerate(ids):
        groups.setdefault(_project(fid), []).append(i)
    return [sorted(rows, key=lambda i: _piece_number(ids[i])) if "id" in pipes
            else rows for rows in groups.values()]  # fmt: skip


def _piece_number(fid: str) -> int:
    tail = fid.rpartition("-")[2]
    return int(tail) if tail.isdigit() else 0


def _line_geometries(pipes: gpd.GeoDataFrame, lines: list[list[int]]) -> np.ndarray:
    """Each line's pieces joined where they meet, simplified for drawing (:func:`drawn_all`)."""
    geoms = np.asarray(pipes.geometry.values, dtype=object)
    joined = np.empty(len(lines), dtype=object)
    for n, rows in enumerate(lines):
        parts = [g for g in geoms[rows] if g is not None and not g.is_empty]
        pieces = [p for g in parts for p in getattr(g, "geoms", [g])]
        joined[n] = shapely.MultiLineString(pieces) if pieces else None
    return drawn_all(shapely.line_merge(joined))


def _shared(pipes: gpd.GeoDataFrame, lines: list[list[int]], names: list[str]) -> list[str]:
    """Per line, the other lines drawn on one or more of its pieces (by name, once each)."""
    wkb = shapely.to_wkb(shapely.set_precision(np.asarray(pipes.geometry.values, dtype=object),
                                               10**-PIPE_DECIMALS))  # fmt: skip
    keys = [b"" if k is None else k for k in wkb.tolist()]
    by_key: dict[bytes, set[int]] = {}
    for n, rows in enumerate(lines):
        for i in rows:
            by_key.setdefault(keys[i], set()).add(n)
    out = []
    for n, rows in enumerate(lines):
        others = sorted({m for i in rows for m in by_key[keys[i]]} - {n})
        out.append("; ".join(sorted({names[m] for m in others if names[m] != names[n]})))
    return out


def pipeline_layers(
    pipes: gpd.GeoDataFrame, *, countries: Mapping[str, str] | None = None
) -> list[LinesLayer]:
    """One "lines" layer per fuel of the pipelines layer, gas first (oil is drawn on top).

    Each GEM line is one feature: its pieces (cut at borders and junctions in the layer) are
    joined again, so a popup speaks of the whole line.

    Parameters
    ----------
    pipes : GeoDataFrame
        The pipelines layer (kind segment, mode pipeline: ``fuel``, ``status``, ``capacity_kbd``,
        ``capacity_bcm_y``, ``owner``, ``start_year``, ``country``, ``length_km``, ``source``).
    countries : mapping, optional
        Country names by alpha-3 code, for the popups; a code without a name is shown as it is.

    Returns
    -------
    list of dict
        :class:`~geo.render.payloads.LinesLayer` payloads in the "Pipelines" group, on the pane
        beneath the corridors, with reader popups (``card``) and GEM's attribution.
    """
    if not len(pipes):
        return []
    lines = _lines(pipes)
    first = [rows[0] for rows in lines]
    names = [fmt(pipes["name"].iat[i]) if "name" in pipes else "" for i in first]
    fuels = [fmt(pipes["fuel"].iat[i]) if "fuel" in pipes else "" for i in first]
    statuses = [(fmt(pipes["status"].iat[i]) if "status" in pipes else "") or "operational"
                for i in first]  # fmt: skip
    values = _rows(pipes, lines, statuses, countries or {})
    shared = _shared(pipes, lines, names)
    sources = _column(pipes, "source")
    coords = latlngs_of(_line_geometries(pipes, lines), PIPE_DECIMALS)
    known = [f for f in ("gas", "oil", "ngl") if f in fuels]
    layers: list[LinesLayer] = []
    for fuel in [*known, *sorted(set(fuels) - set(known))]:
        own = [n for n, f in enumerate(fuels) if f == fuel]
        own.sort(key=lambda n: (_DRAW_ORDER.get(statuses[n], 3), n))
        styles: list[dict[str, Any]] = []
        feats: list[LineFeature] = []
        for n in own:
            style = pipeline_style(fuel, statuses[n])
            if style not in styles:
                styles.append(style)
            feat: LineFeature = {
                "c": coords[n],
                "s": styles.index(style),
                "t": f"{names[n]} ({fuel or 'pipeline'}, {_status(statuses[n], None)})",
                "v": [*values[n], shared[n]],
                "st": status_group(statuses[n]),
            }
            links = source_links(sources[first[n]])
            if links:
                feat["l"] = links
            feats.append(feat)
        label, color = PIPELINE_FUELS.get(fuel, (f"{fuel} pipeline", PIPELINE_OTHER_COLOR))
        layers.append({
            "kind": "lines", "group": PIPE_GROUP,
            "label": swatch_line(color, PIPELINE_WEIGHT + 0.8) + esc(f"{label}s ({len(own):,})"),
            "show": True, "pane": "cmPipes", "cols": PIPE_COLUMNS, "styles": styles, "f": feats,
            "card": True, "attr": PIPELINE_ATTRIBUTION,
        })  # fmt: skip
    return layers


def _precision(values: list[Any]) -> str:
    """How a line is drawn: traced, schematic, or partly schematic (some of its pieces)."""
    kinds = {fmt(v) for v in values} - {""}
    if len(kinds) > 1 and "schematic" in kinds:
        return "partly schematic: GEM draws parts of this line approximately"
    return _PRECISION.get(next(iter(kinds), ""), ", ".join(sorted(kinds)))


def _rows(
    pipes: gpd.GeoDataFrame,
    lines: list[list[int]],
    statuses: list[str],
    countries: Mapping[str, str],
) -> list[list[str]]:
    """Each line's popup values, in the order of :data:`PIPE_COLUMNS` but the last."""
    cols = {c: _column(pipes, c) for c in ("name", "fuel", "notes", "owner", "start_year",
                                           "length_km", "country", "precision",
                                           *CAPACITY_COLUMNS)}  # fmt: skip
    out = []
    for n, rows in enumerate(lines):
        i = rows[0]
        km = sum(float(cols["length_km"][j]) for j in rows if not is_missing(cols["length_km"][j]))
        where = dict.fromkeys(countries.get(str(cols["country"][j]), fmt(cols["country"][j]))
                              for j in rows)  # fmt: skip
        fuel = fmt(cols["fuel"][i])
        out.append([
            fmt(cols["name"][i]),
            {"ngl": "natural gas liquids"}.get(fuel, fuel),
            _status(statuses[n], cols["notes"][i]),
            capacity_text(*(cols[c][i] for c in CAPACITY_COLUMNS)) or "not published by GEM",
            f"{fmt_km(km)} km" if "length_km" in pipes else "",
            ", ".join(w for w in where if w),
            fmt(cols["start_year"][i]),
            _owner(cols["owner"][i]),
            _precision([cols["precision"][j] for j in rows]),
        ])  # fmt: skip
    return out


def terminal_layer(
    terminals: gpd.GeoDataFrame, *, countries: Mapping[str, str] | None = None
) -> NodesLayer:
    """Oil terminals and gas delivery points as small symbols in the "Pipelines" group."""
    names = [fmt(n) for n in _column(terminals, "name")]
    where = [(countries or {}).get(str(c), fmt(c)) for c in _column(terminals, "country")]
    icon = node_symbol("terminal")
    feats: list[NodeFeature] = []
    for i, geom in enumerate(terminals.geometry):
        point = geom if geom.geom_type == "Point" else shapely.point_on_surface(geom)
        feat: NodeFeature = {
            "c": latlngs(point),
            "i": 0,
            "t": f"{names[i]} (oil or gas terminal)",
            "v": [names[i], "oil or gas terminal", where[i]],
        }
        links = source_links(terminals["source"].iat[i]) if "source" in terminals else []
        if links:
            feat["l"] = links
        feats.append(feat)
    return {
        "kind": "nodes", "group": PIPE_GROUP,
        "label": node_symbol("terminal", size=12) + esc(f"Terminals ({len(terminals):,})"),
        "show": True, "cols": ["Name", "Place", "Country"], "icons": [icon], "f": feats,
        "card": True,
    }  # fmt: skip
