"""Countries: the bundled Natural Earth polygons, point-in-country checks, km by country.

Everything here measures geodesically on WGS84; polygons are only used for containment.
"""

from __future__ import annotations

import contextlib
import hashlib
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops

from .bundled import bundled_dir, cache_dir
from .columns import ColumnsError, decode_frame, encode_frame, open_copy, read_header, same_frame
from .files import atomic_write_bytes
from .geodesy import GEOD

COAST_TOLERANCE_KM = 10.0
SEA = "SEA"  # the pseudo-country of km outside every country polygon
READ_CACHE_FORMAT = 1


@lru_cache(maxsize=1)
def countries() -> gpd.GeoDataFrame:
    """The bundled country polygons (``layers/countries.geojson``), indexed by alpha-3 code."""
    gdf = read_countries(bundled_dir("layers") / "countries.geojson")
    gdf = gdf.set_index("id", drop=False)
    shapely.prepare(gdf.geometry.values)
    return gdf


def _read_key(path: Path) -> dict[str, Any]:
    """What reading ``path`` depends on: the file, this module's code, the readers' versions."""
    # pyogrio's version from its metadata: importing it is what the copy saves
    versions = [f"{m.__name__} {m.__version__}" for m in (gpd, pd, shapely)]
    versions.append(f"pyogrio {version('pyogrio')}")
    return {"format": READ_CACHE_FORMAT, "file": path.name,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "code": hashlib.sha256(Path(__file__).read_bytes()).hexdigest(),
            "versions": versions}  # fmt: skip


def read_countries(path: Path) -> gpd.GeoDataFrame:
    """``geopandas.read_file(path, engine="pyogrio")``, kept as a columnar copy once read.

    Reading the polygons with GDAL (and importing pyogrio) costs a tenth of a second in every
    command that validates a layer or draws a map; the copy in the cache folder
    (:func:`~geo.data.bundled.cache_dir`) is keyed on the file's sha256, this module's code
    and the versions of geopandas, pandas, shapely and pyogrio, and written only when it reads
    back as the very frame the read gave (:func:`~geo.data.columns.same_frame`).
    """
    key = _read_key(path)
    copy = cache_dir() / "read" / f"{path.stem}.columns"
    with contextlib.suppress(OSError, ColumnsError):
        with open_copy(copy) as f:  # a regular file only: a FIFO would wait for ever
            header, _ = read_header(f)
        if header.get("key") == key:
            return decode_frame(copy, header=header)
    gdf = gpd.read_file(path, engine="pyogrio")

    def reads_back(tmp: Path) -> None:
        if not same_frame(gdf, decode_frame(tmp)):
            msg = "the copy differs from the frame read"
            raise ColumnsError(msg)

    with contextlib.suppress(OSError, ColumnsError):
        atomic_write_bytes(copy, encode_frame(gdf, key), check=reads_back)
    return gdf


@lru_cache(maxsize=1)
def _tree() -> shapely.STRtree:
    return shapely.STRtree(countries().geometry.values)


def codes() -> set[str]:
    """Every alpha-3 code known to the bundled countries."""
    return set(countries().index)


def alpha2_to_alpha3() -> dict[str, str]:
    """ISO alpha-2 to alpha-3 codes of the bundled countries (those that state an alpha-2).

    >>> alpha2_to_alpha3()["KZ"]
    'KAZ'
    """
    c = countries()
    return {a2: a3 for a3, a2 in zip(c.index, c["iso_a2"], strict=True) if isinstance(a2, str)}


def country_at(x: float, y: float) -> str | None:
    """Alpha-3 code of the country containing lon ``x``, lat ``y``; None at sea."""
    hits = _tree().query(shapely.Point(x, y), predicate="intersects")
    if len(hits) == 0:
        return None
    return str(countries().index[int(hits.min())])


def countries_at(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Vectorised :func:`country_at`: an object array of codes (None at sea)."""
    pts = shapely.points(xs, ys)
    out = np.full(len(pts), None, dtype=object)
    # Boxes first, then each candidate polygon (prepared) tests its points: the tree's own
    # predicate prepares the points instead and was 25x slower for 100,000 deposits.
    ip, ic = _tree().query(pts)
    polys = countries().geometry.to_numpy()
    hit = shapely.intersects(polys[ic], pts[ip])
    ip, ic = ip[hit], ic[hit]
    order = np.lexsort((ic, ip))
    ip, ic = ip[order], ic[order]
    idx = countries().index.to_numpy()
    # Reverse so that the lowest polygon index wins for points on a shared border.
    out[ip[::-1]] = idx[ic[::-1]]
    return out


def distance_km(x: float, y: float, code: str) -> float:
    """Geodesic km from a point to the nearest point of a country (0 inside)."""
    geom = countries().geometry[code]
    p = shapely.Point(x, y)
    if geom.intersects(p):
        return 0.0
    q = shapely.ops.nearest_points(geom, p)[0]
    return float(GEOD.inv(x, y, q.x, q.y)[2] / 1000.0)


def nearest_country(x: float, y: float) -> str:
    """The country nearest a point at sea (geodesic)."""
    p = shapely.Point(x, y)
    cand = _tree().query(p.buffer(8.0))  # a coarse window; distances are geodesic below
    idx = countries().index
    best = min(cand, key=lambda i: distance_km(x, y, str(idx[int(i)])), default=None)
    if best is None:
        return str(idx[int(_tree().nearest(p))])
    return str(idx[int(best)])


def check_point(x: float, y: float, code: str) -> str | None:
    """Why a point does not fit its declared country, or None if it does.

    A point fits when it lies in the country or within 10 km of it (a coast, a border
    station), or lies at sea with the declared country the nearest (offshore fields).
    """
    if code not in countries().index:
        return None  # the field check reports unknown codes
    found = country_at(x, y)
    if found == code:
        return None
    if distance_km(x, y, code) <= COAST_TOLERANCE_KM:
        return None
    if found is None and nearest_country(x, y) == code:
        return None
    if country_at(y, x) == code:
        return (
            f"point ({x}, {y}) lies outside {code} but inside it with longitude and latitude "
            "swapped; write coordinates as [longitude, latitude]"
        )
    where = f"in {found}" if found else "at sea"
    km = distance_km(x, y, code)
    return (
        f"point ({x}, {y}) lies {where}, {km:.0f} km from its declared country {code}; "
        "fix the coordinates or the country"
    )


def km_by_country(line: shapely.LineString | shapely.MultiLineString) -> dict[str, float]:
    """Geodesic km of a line in each country, in the order the line enters them.

    Parts outside every country polygon count as ``SEA``.
    """
    c = countries()
    result: dict[str, float] = {}
    parts = list(line.geoms) if isinstance(line, shapely.MultiLineString) else [line]
    for part in parts:
        hits = _tree().query(part, predicate="intersects")
        pieces: list[tuple[float, str, float]] = []  # (position along line, code, km)
        covered = shapely.Polygon()
        for i in hits:
            code = str(c.index[int(i)])
            inside = shapely.intersection(part, c.geometry.iat[int(i)])
            for seg in _lines(inside):
                km = GEOD.geometry_length(seg) / 1000.0
                if km > 0:
                    pieces.append((part.project(shapely.Point(seg.coords[0])), code, km))
            covered = shapely.union(covered, c.geometry.iat[int(i)])
        sea = shapely.difference(part, covered) if hits.size else part
        for seg in _lines(sea):
            km = GEOD.geometry_length(seg) / 1000.0
            if km > 0:
                pieces.append((part.project(shapely.Point(seg.coords[0])), SEA, km))
        for _, code, km in sorted(pieces):
            result[code] = result.get(code, 0.0) + km
    return result


def _lines(g: shapely.Geometry) -> list[shapely.LineString]:
    if g.is_empty:
        return []
    if isinstance(g, shapely.LineString):
        return [g]
    if hasattr(g, "geoms"):
        return [x for part in g.geoms for x in _lines(part)]
    return []
