"""Loading a layer: a file read, validated and returned as a normalised GeoDataFrame.

Reading is :mod:`geo.data.readers`, validation :mod:`geo.data.validate`; the bundled layers are
loaded the same way, once per process.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import geopandas as gpd

from ..errors import Problem, ValidationError
from .bundled import bundled_dir
from .readers import feature_id, read_raw
from .validate import validate_raw

__all__ = ["load_bundled", "load_layer"]


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
    kind, problems, props = validate_raw(raw, kind=kind, check_countries=check_countries)
    problems += [
        Problem(str(path), "a property named 'geometry' would be lost behind the feature's "
                "geometry", feature_id(p), i, "geometry", "rename the property")
        for i, p in enumerate(raw.props) if "geometry" in p
    ]  # fmt: skip
    if problems:
        raise ValidationError(problems)
    gdf = gpd.GeoDataFrame(props, geometry=raw.geoms, crs=4326)
    gdf.attrs["kind"] = kind
    gdf.attrs["path"] = str(path)
    return gdf


@lru_cache(maxsize=32)
def _load_bundled_cached(name: str) -> gpd.GeoDataFrame:
    return load_layer(bundled_dir("layers") / f"{name}.geojson", check_countries=False)


def load_bundled(name: str) -> gpd.GeoDataFrame:
    """A bundled layer by file stem (``nodes``, ``deposits``, ...), validated once per process.

    A copy is returned so callers may change it freely.
    """
    gdf = _load_bundled_cached(name).copy()
    gdf.attrs = dict(_load_bundled_cached(name).attrs)
    return gdf
