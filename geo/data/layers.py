"""Loading a layer: a file read, validated and returned as a normalised GeoDataFrame.

Reading is :mod:`geo.data.readers`, validation :mod:`geo.data.validate`; the bundled layers are
loaded the same way, once per process, and kept validated in the user's cache folder
(:func:`cache_dir`) as a columnar copy (:mod:`geo.data.columns`) keyed on the file's sha256 and
on the code that validates it, so later commands read them without validating again.
"""

from __future__ import annotations

import contextlib
import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import Problem, ValidationError
from .bundled import bundled_dir, cache_dir
from .columns import ColumnsError, decode_frame, encode_frame, open_copy, read_header, same_frame
from .files import atomic_write_bytes
from .readers import MISSING, RawLayer, feature_id, object_array, read_raw
from .validate import properties_frame, validate_columns

__all__ = ["cache_dir", "load_bundled", "load_layer"]

BUNDLED_CACHE_FORMAT = 1


def load_layer(
    path: str | Path,
    *,
    kind: str | None = None,
    check_countries: bool = True,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read, validate and normalise one layer file.

    Parameters
    ----------
    path : str or Path
        GeoJSON, GeoPackage, Shapefile (also zipped), FlatGeobuf or CSV with lon/lat columns.
    kind : str, optional
        One of ``segment``, ``node``, ``deposit``, ``area``; detected when omitted.
    check_countries : bool
        Check that points lie in their declared country.
    layer : str, optional
        The layer to read from a GeoPackage or zip holding several; such a file is refused
        without it.

    Returns
    -------
    GeoDataFrame
        In EPSG:4326, one row per feature, ``attrs`` holding ``kind`` and ``path``.

    Raises
    ------
    ValidationError
        With every problem found, one per line.

    Examples
    --------
    >>> from geo.data.bundled import bundled_dir
    >>> nodes = load_layer(bundled_dir("layers") / "nodes.geojson")
    >>> nodes.attrs["kind"]
    'node'
    """
    raw = read_raw(path, layer=layer)
    kind, problems, columns = validate_columns(raw, kind=kind, check_countries=check_countries)
    problems += [
        Problem(str(path), "a property named 'geometry' would be lost behind the feature's "
                "geometry", feature_id(raw.props[i]), i, "geometry", "rename the property")
        for i in _with_geometry_property(raw)
    ]  # fmt: skip
    if problems or columns is None:
        raise ValidationError(problems)
    # an object array of geometries is taken as it is; a list is looked into, item by item
    geoms = object_array(raw.geoms)
    gdf = gpd.GeoDataFrame(properties_frame(columns, len(geoms)), geometry=geoms, crs=4326)
    gdf.attrs["kind"] = kind
    gdf.attrs["path"] = str(path)
    return gdf


def _with_geometry_property(raw: RawLayer) -> list[int]:
    """The features holding a property named ``geometry``."""
    if raw.columns is None:
        return [i for i, p in enumerate(raw.props) if "geometry" in p]
    col = raw.columns.get("geometry")
    if col is None:
        return []
    return np.flatnonzero([v is not MISSING for v in col]).tolist()


@lru_cache(maxsize=1)
def _code_sha256() -> str:
    """A checksum of the code that reads and validates layers (every module of ``geo.data``).

    A cached frame made by other code (an edited schema, a new check) is never used.
    """
    h = hashlib.sha256(f"{pd.__version__} {gpd.__version__} {shapely.__version__}".encode())
    for p in sorted(Path(__file__).parent.glob("*.py")):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _bundled_key(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    return {"format": BUNDLED_CACHE_FORMAT, "file": path.name,
            "sha256": hashlib.sha256(data).hexdigest(), "code": _code_sha256()}  # fmt: skip


def _cached_bundled(copy: Path, key: dict[str, Any]) -> gpd.GeoDataFrame | None:
    """The validated frame from the cache when its copy is of this very file and code."""
    try:
        with open_copy(copy) as f:
            header, _ = read_header(f)
        stored = header.get("key")
        if not isinstance(stored, dict) or {k: stored.get(k) for k in key} != key:
            return None
        gdf = decode_frame(copy, header=header)
    except (OSError, ColumnsError):
        return None
    gdf.attrs["kind"] = stored.get("kind")
    return gdf


def _cache_bundled(copy: Path, key: dict[str, Any], gdf: gpd.GeoDataFrame) -> None:
    """Write the validated frame's copy; one that would not read back exactly is not written."""

    def reads_back(tmp: Path) -> None:
        if not same_frame(gdf, decode_frame(tmp)):
            msg = "the cached copy differs from the validated frame"
            raise ColumnsError(msg)

    with contextlib.suppress(OSError, ColumnsError):
        data = encode_frame(gdf, {**key, "kind": gdf.attrs["kind"]})
        atomic_write_bytes(copy, data, check=reads_back)


@lru_cache(maxsize=32)
def _load_bundled_cached(name: str) -> gpd.GeoDataFrame:
    path = bundled_dir("layers") / f"{name}.geojson"
    key = _bundled_key(path)
    copy = cache_dir() / "bundled" / f"{name}.columns"
    gdf = _cached_bundled(copy, key)
    if gdf is None:
        gdf = load_layer(path, check_countries=False)
        _cache_bundled(copy, key, gdf)
    gdf.attrs["path"] = str(path)
    return gdf


def load_bundled(name: str) -> gpd.GeoDataFrame:
    """A bundled layer by file stem (``nodes``, ``deposits``, ...), validated once per process.

    A copy is returned so callers may change it freely.
    """
    gdf = _load_bundled_cached(name).copy()
    gdf.attrs = dict(_load_bundled_cached(name).attrs)
    return gdf
