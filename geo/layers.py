"""Reading layers: files -> raw records -> validated GeoDataFrames; and where bundled data lives.

GeoJSON is parsed here with :mod:`json` so that every problem (NaN coordinates, a legacy ``crs``
member, a null geometry) can be reported with its feature; every other format goes through
pyogrio and is reprojected to WGS84 when it declares a CRS.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape

from .errors import GeoError, Problem, UnreadableError, ValidationError
from .schema import SCHEMA

TEXT_SUFFIXES = {".geojson", ".json", ".csv"}
LON_NAMES = ("lon", "lng", "long", "longitude", "x")
LAT_NAMES = ("lat", "latitude", "y")
WGS84_NAMES = {
    "urn:ogc:def:crs:ogc:1.3:crs84",
    "urn:ogc:def:crs:epsg::4326",
    "epsg:4326",
    "crs84",
}


def bundled_dir(name: str) -> Path:
    """Folder of bundled data (``layers`` or ``maps``), in a wheel or in a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_bundled" / name, here.parent / name):
        if candidate.is_dir():
            return candidate
    msg = f"bundled folder '{name}' not found next to {here}; reinstall corridor-map"
    raise GeoError(msg)


@dataclass
class RawLayer:
    """A file as read, before validation: one property dict and geometry per feature."""

    path: str
    props: list[dict[str, Any]] = field(default_factory=list)
    geoms: list[Any] = field(default_factory=list)  # shapely geometry or None
    problems: list[Problem] = field(default_factory=list)  # found while reading


def _fid(props: dict[str, Any]) -> str | None:
    v = props.get("id")
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def _check_bytes(path: Path) -> bytes:
    if not path.exists():
        msg = f"{path}: file not found; check the path"
        raise UnreadableError(msg)
    if path.is_dir():
        msg = f"{path}: is a folder, not a layer file; name a .geojson, .gpkg, .shp, .fgb or .csv"
        raise UnreadableError(msg)
    data = path.read_bytes()
    if not data.strip():
        msg = f"{path}: file is empty; export the layer again"
        raise UnreadableError(msg)
    return data


def _decode_text(path: Path, data: bytes) -> str:
    if b"\x00" in data[:8192]:
        msg = f"{path}: binary data in a {path.suffix} file; expected UTF-8 text (wrong file?)"
        raise UnreadableError(msg)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        msg = (
            f"{path}: not UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start}); "
            "re-save the file as UTF-8"
        )
        raise UnreadableError(msg) from None


def _coords_problem(coords: Any) -> str | None:
    """First problem in a raw coordinate array: non-numbers, NaN/inf, out of range."""
    flat: list[float] = []

    def walk(c: Any) -> None:
        if isinstance(c, list | tuple) and c and not isinstance(c[0], list | tuple):
            flat.extend(c[:2])
        elif isinstance(c, list | tuple):
            for x in c:
                walk(x)

    walk(coords)
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in flat):
        return "non-numeric coordinate; coordinates must be numbers"
    if any(not math.isfinite(v) for v in flat):
        return "NaN or infinite coordinate; remove or fix the vertex"
    return _range_problem(flat[0::2], flat[1::2])


def _range_problem(xs: Any, ys: Any) -> str | None:
    xs = np.asarray(xs, dtype=float)
    ys = np.asarray(ys, dtype=float)
    if xs.size == 0:
        return None
    if (np.abs(xs) > 180).any() or (np.abs(ys) > 90).any():
        x, y = float(xs[np.argmax(np.abs(xs))]), float(ys[np.argmax(np.abs(ys))])
        if max(abs(x), abs(y)) > 1000:
            return (
                f"coordinates like ({x:.0f}, {y:.0f}) look like projected metres "
                "(e.g. Web Mercator EPSG:3857); reproject the layer to WGS84 (EPSG:4326)"
            )
        return (
            f"longitude/latitude out of range ({x}, {y}); longitude must lie in -180..180 "
            "and latitude in -90..90"
        )
    return None


def _legacy_crs(path: Path, doc: dict[str, Any]) -> str | None:
    """The CRS of a legacy GeoJSON ``crs`` member, None for WGS84; refuse what we can't read."""
    crs = doc.get("crs")
    if crs is None:
        return None
    name = crs.get("properties", {}).get("name") if isinstance(crs, dict) else None
    if not isinstance(name, str) or crs.get("type") != "name":
        msg = (
            f"{path}: crs: a legacy GeoJSON 'crs' member of a form that cannot be honoured "
            f"(type {crs.get('type') if isinstance(crs, dict) else type(crs).__name__!r}); "
            "remove it and store coordinates in WGS84 (RFC 7946)"
        )
        raise UnreadableError(msg)
    if name.lower() in WGS84_NAMES:
        return None
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        CRS.from_user_input(name)
    except CRSError:
        msg = (
            f"{path}: crs: unknown legacy GeoJSON crs '{name}' cannot be honoured; "
            "reproject the file to WGS84 (RFC 7946) and drop the 'crs' member"
        )
        raise UnreadableError(msg) from None
    return name


def _read_geojson(path: Path, data: bytes) -> RawLayer:
    text = _decode_text(path, data)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        msg = f"{path}: malformed JSON at line {e.lineno} column {e.colno}: {e.msg}; fix the syntax"
        raise UnreadableError(msg) from None
    if not isinstance(doc, dict) or doc.get("type") not in ("FeatureCollection", "Feature"):
        got = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
        msg = f"{path}: not GeoJSON (top-level type {got!r}); expected a FeatureCollection"
        raise UnreadableError(msg)
    crs_name = _legacy_crs(path, doc)
    feats = [doc] if doc["type"] == "Feature" else doc.get("features")
    if not isinstance(feats, list):
        msg = f"{path}: FeatureCollection without a 'features' list; add one"
        raise UnreadableError(msg)
    raw = RawLayer(str(path))
    for i, feat in enumerate(feats):
        props = feat.get("properties") if isinstance(feat, dict) else None
        props = dict(props) if isinstance(props, dict) else {}
        if "id" not in props and isinstance(feat, dict) and feat.get("id") is not None:
            props["id"] = feat["id"]  # RFC 7946 allows a top-level feature id
        raw.props.append(props)
        geom = feat.get("geometry") if isinstance(feat, dict) else None
        raw.geoms.append(None)
        fid = _fid(props)
        if not isinstance(geom, dict):
            raw.problems.append(
                Problem(str(path), "geometry is null; give the feature a geometry", fid, i,
                        "geometry")
            )  # fmt: skip
            continue
        problem = _coords_problem(geom.get("coordinates", [])) if crs_name is None else None
        if problem:
            raw.problems.append(Problem(str(path), problem, fid, i, "geometry"))
            continue
        try:
            raw.geoms[-1] = shape(geom)
        except Exception as e:  # shapely's messages vary by geometry type
            raw.problems.append(
                Problem(str(path), f"unreadable geometry ({e}); fix its coordinates", fid, i,
                        "geometry")
            )  # fmt: skip
    if crs_name is not None:
        _reproject_raw(raw, crs_name)
    return raw


def _reproject_raw(raw: RawLayer, crs: Any) -> None:
    s = gpd.GeoSeries(raw.geoms, crs=crs).to_crs(4326)
    raw.geoms = [None if g is None or g.is_empty else g for g in s]
    for i, g in enumerate(raw.geoms):
        if g is None:
            continue
        xy = shapely.get_coordinates(g)
        problem = _range_problem(xy[:, 0], xy[:, 1])
        if problem:
            raw.problems.append(Problem(raw.path, problem, _fid(raw.props[i]), i, "geometry"))
            raw.geoms[i] = None


def _clean_value(v: Any) -> Any:
    if v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, pd.Timestamp):  # keep the time of day when there is one (ISO 8601)
        return v.date().isoformat() if v == v.normalize() else v.isoformat()
    return v


def _read_csv(path: Path, data: bytes) -> RawLayer:
    import csv
    import io

    text = _decode_text(path, data)
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows:
        msg = f"{path}: CSV has a header but no rows; add at least one feature"
        raise UnreadableError(msg)
    cols = {c.lower().strip(): c for c in rows[0] if c}
    lon = next((cols[n] for n in LON_NAMES if n in cols), None)
    lat = next((cols[n] for n in LAT_NAMES if n in cols), None)
    if lon is None or lat is None:
        msg = (
            f"{path}: CSV needs longitude and latitude columns (named one of "
            f"{', '.join(LON_NAMES)} and {', '.join(LAT_NAMES)}); found {', '.join(cols)}"
        )
        raise UnreadableError(msg)
    raw = RawLayer(str(path))
    for i, row in enumerate(rows):
        props: dict[str, Any] = {
            k: (v if v != "" else None) for k, v in row.items() if k not in (lon, lat) and k
        }
        raw.props.append(props)
        raw.geoms.append(None)
        try:
            x, y = float(row[lon]), float(row[lat])
        except (TypeError, ValueError):
            raw.problems.append(
                Problem(str(path), f"'{row[lon]}', '{row[lat]}' is not a number pair; "
                        "write decimal degrees", _fid(props), i, f"{lon}/{lat}")
            )  # fmt: skip
            continue
        problem = _coords_problem([x, y])
        if problem:
            raw.problems.append(Problem(str(path), problem, _fid(props), i, "geometry"))
            continue
        raw.geoms[-1] = shapely.Point(x, y)
    return raw


def _read_ogr(path: Path) -> RawLayer:
    import pyogrio
    from pyogrio.errors import DataSourceError

    try:
        gdf = pyogrio.read_dataframe(path)
    except (DataSourceError, pyogrio.errors.DataLayerError, ValueError, OSError) as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        msg = (
            f"{path}: cannot read as a GIS file ({first}); "
            "use GeoJSON, GeoPackage, Shapefile, FlatGeobuf or CSV"
        )
        raise UnreadableError(msg) from None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf:
        msg = f"{path}: file has no geometry column; export it with geometries"
        raise UnreadableError(msg)
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        try:
            gdf = gdf.to_crs(4326)
        except Exception as e:  # pyproj raises several types for impossible transforms
            msg = f"{path}: cannot reproject from {gdf.crs.to_string()} to WGS84 ({e})"
            raise UnreadableError(msg) from None
    raw = RawLayer(str(path))
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    # Shapefiles cut field names to 10 characters: give the schema's names back.
    full = {f.name[:10]: f.name for k in SCHEMA.values() for f in k.fields if len(f.name) > 10}
    names = {c: full.get(c, c) if c not in full.values() else c for c in cols}
    for i, g in enumerate(gdf.geometry):
        props = {names[c]: _clean_value(gdf[c].iat[i]) for c in cols}
        raw.props.append(props)
        if g is None or g.is_empty:
            raw.geoms.append(g)
            continue
        xy = shapely.get_coordinates(g)
        problem = _coords_problem(xy.tolist()) if len(xy) else None
        if problem:
            raw.problems.append(Problem(str(path), problem, _fid(props), i, "geometry"))
            raw.geoms.append(None)
        else:
            raw.geoms.append(g)
    return raw


def read_raw(path: str | Path) -> RawLayer:
    """Read any supported file into raw records; raise :class:`UnreadableError` if impossible."""
    p = Path(path)
    data = _check_bytes(p)
    suffix = p.suffix.lower()
    if suffix in (".geojson", ".json"):
        raw = _read_geojson(p, data)
    elif suffix == ".csv":
        raw = _read_csv(p, data)
    else:
        raw = _read_ogr(p)
    if not raw.props:
        msg = f"{p}: the collection has no features; add at least one"
        raise UnreadableError(msg)
    return raw


_SPLIT = re.compile(r"\s*[;|,]\s*")


def to_list(value: Any) -> Any:
    """A list property as a list: JSON lists stay, 'a;b' or 'a, b' strings (CSV, Shapefile)."""
    if isinstance(value, str):
        s = value.strip()
        if s.startswith("["):
            try:
                parsed = json.loads(s)
            except json.JSONDecodeError:
                parsed = None
            if isinstance(parsed, list):
                return parsed
        return [x for x in _SPLIT.split(s) if x]
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def load_layer(
    path: str | Path, *, kind: str | None = None, check_countries: bool = True
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
    >>> from geo.layers import load_layer, bundled_dir
    >>> nodes = load_layer(bundled_dir("layers") / "nodes.geojson")
    >>> nodes.attrs["kind"]
    'node'
    """
    from .validate import validate_raw

    raw = read_raw(path)
    kind, problems, props = validate_raw(raw, kind=kind, check_countries=check_countries)
    problems += [
        Problem(str(path), "a property named 'geometry' would be lost behind the feature's "
                "geometry", _fid(p), i, "geometry", "rename the property")
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


def bundled_layers() -> dict[str, Path]:
    """Bundled layer files by stem, sorted."""
    return {p.stem: p for p in sorted(bundled_dir("layers").glob("*.geojson"))}
