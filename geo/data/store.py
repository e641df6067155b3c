"""The user layer store: add, list and remove the user's own layers.

Layers live in ``$CORRIDOR_HOME/layers`` when ``CORRIDOR_HOME`` is set, else in platformdirs'
user data directory. Each layer is ONE file, ``NAME.geojson`` (normalised: WGS84, RFC 7946
winding, coordinates rounded to 1e-6 degrees), whose top-level ``corridor_layer`` member carries
its metadata (name, kind, colour-by property, original file, feature count), so a layer and its
metadata are written by one atomic rename and can never disagree. Stores written before this
format kept the metadata in ``NAME.meta.json``; those are still read.

The metadata also records the validated frame's columns and dtypes and ``sha256``, a checksum
of the rest of the metadata and of the features' bytes. A layer whose checksum matches is read
without validating it again (the features are parsed once and put into columns of the recorded
dtypes); one whose checksum does not match (edited, truncated, tampered, or written before
checksums) is read and validated in full as before, which names what is wrong. ``corridor
layers`` takes name, kind and count from checksummed metadata without building any frame.

A checksummed layer also has ``NAME.columns`` beside it, its validated frame in columns
(:mod:`geo.data.columns`), read first and column by column; it is a cache keyed on the
GeoJSON's size, modification time and metadata, and any copy that is not the GeoJSON's, or
not as written, is passed over for the reads above (see "The columnar copy" below and
ARCHITECTURE.md for why it sits beside the GeoJSON rather than replacing it).

Writers (add, remove) hold an exclusive ``flock`` on ``.lock`` in the store; readers hold a
shared one where they can. A writer's temporary file exists only while it holds the lock, so any
temporary file seen by the next lock holder was left by a killed writer and is removed.
Input files are only read.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import itertools
import json
import math
import os
import re
import time
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping
from shapely.geometry.polygon import orient
from shapely.validation import explain_validity

from ..errors import GeoError, LayerStoreError, Problem, ValidationError
from .bundled import bundled_layers
from .collector import collector_paused
from .columns import (
    ColumnsError,
    decode_frame,
    encode_frame,
    open_copy,
    read_header,
    same_frame,
)
from .files import atomic_write_bytes, atomic_write_text
from .layers import load_bundled, load_layer
from .schema import SCHEMA
from .text import terminal_text
from .values import is_missing

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no flock; renames stay atomic
    fcntl = None  # type: ignore[assignment]

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
PRECISION_DEG = 1e-6  # about 0.1 m: what the store keeps of each coordinate
META_KEY = "corridor_layer"
STORE_FORMAT = 3  # 3: columns and a checksum in the metadata (format 2 still reads)
HEAD = b'{"type":"FeatureCollection","%s":' % META_KEY.encode()
FEATURES_AT = b',"features":'
MAX_META_BYTES = 1 << 16  # metadata beyond this is read the slow, validating way
COLUMNS_SUFFIX = ".columns"  # the columnar copy beside NAME.geojson
LOCK_NAME = ".lock"
LOCK_TIMEOUT_S = 30.0  # a writer waits this long for another before saying the store is busy
SHOWN_LIMIT = 80  # characters of a name or id quoted in a message
MAX_DEPTH = 32  # nesting of a stored property value (lists and objects)


class StoreProblemsError(LayerStoreError):
    """Stored layers that cannot be used; one line per layer."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        """One line of text per unusable stored layer, for a terminal or a log."""
        return [str(p) for p in self.problems]


def user_dir() -> Path:
    """Where user layers are stored (not created until a layer is added)."""
    home = os.environ.get("CORRIDOR_HOME")
    if home:
        return Path(home).expanduser() / "layers"
    import platformdirs

    return Path(platformdirs.user_data_dir("corridor-map", appauthor=False)) / "layers"


def _shown(text: object) -> str:
    """A name or id from a user or a file, as a message quotes it (escaped, cut short)."""
    return terminal_text(text, limit=SHOWN_LIMIT)


# --- the store folder and its lock -------------------------------------------------------


def _check_folders(d: Path) -> None:
    """Refuse a file standing where the store's folders should be."""
    for p in (d.parent, d):
        if p.exists() and not p.is_dir():
            what = "CORRIDOR_HOME" if p == d.parent and os.environ.get("CORRIDOR_HOME") else "path"
            msg = (
                f"{p}: the layer store needs a folder here but {what} is a file; "
                "move the file away or set CORRIDOR_HOME to a folder"
            )
            raise LayerStoreError(msg)


def _make_store(d: Path) -> None:
    _check_folders(d)
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        msg = (
            f"{d}: cannot create the layer store ({e.strerror}); "
            "check permissions or set CORRIDOR_HOME to a writable folder"
        )
        raise LayerStoreError(msg) from None


def _is_temp(p: Path) -> bool:
    return p.name.startswith(".") and (p.name.endswith(".tmp") or ".tmp." in p.name)


def _sweep_temp(d: Path) -> None:
    """Remove temporary files of writers that died (only ever called while holding the lock)."""
    with contextlib.suppress(OSError):
        for p in d.iterdir():
            if _is_temp(p) and not p.is_dir():
                with contextlib.suppress(OSError):
                    p.unlink()


def _open_lock(d: Path, *, exclusive: bool) -> int | None:
    path = d / LOCK_NAME
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as e:
        if exclusive:
            msg = (
                f"{path}: cannot open the layer store's lock file ({e.strerror}); "
                f"check permissions of {d}"
            )
            raise LayerStoreError(msg) from None
    try:  # a read-only store: a shared lock needs only read access
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None  # nothing can write here, so reading needs no lock


@contextlib.contextmanager
def _locked(d: Path, *, exclusive: bool) -> Iterator[None]:
    fd = _open_lock(d, exclusive=exclusive) if fcntl is not None else None
    try:
        if fd is not None:
            op = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
            deadline = time.monotonic() + LOCK_TIMEOUT_S
            while True:
                try:
                    fcntl.flock(fd, op | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        msg = (
                            f"{d / LOCK_NAME}: the layer store is busy (another corridor "
                            "command is changing it); try again when it has finished"
                        )
                        raise LayerStoreError(msg) from None
                    time.sleep(0.05)
            _sweep_temp(d)
        yield
    finally:
        if fd is not None:
            os.close(fd)


def _layer_files(d: Path) -> list[Path]:
    try:
        names = sorted(p.name for p in d.iterdir())
    except OSError as e:
        msg = f"{d}: cannot list the layer store ({e.strerror}); check its permissions"
        raise LayerStoreError(msg) from None
    return [d / n for n in names if n.endswith(".geojson") and not n.startswith(".")]


# --- what is stored: names, properties, geometry ------------------------------------------


def _check_name(name: str) -> str:
    if not NAME_RE.fullmatch(name):
        msg = (
            f"--name: layer name '{_shown(name)}' is not allowed; use 1 to 64 letters, "
            "digits, '.', '_' or '-', starting with a letter or digit (pass --name)"
        )
        raise LayerStoreError(msg)
    return name


class _UnstorableError(ValueError):
    """A property value the store cannot keep as standard JSON."""


def _json_value(v: Any, depth: int = 0) -> Any:
    """A property value as standard JSON; NaN and NaT become null (missing), as pandas reads them.

    Datetimes keep their time (ISO 8601), binary values become base64 text; infinite numbers,
    lone surrogates and values nested deeper than MAX_DEPTH are refused.
    """
    if depth > MAX_DEPTH:
        msg = f"nested deeper than {MAX_DEPTH} levels; flatten the value"
        raise _UnstorableError(msg)
    if v is None or v is pd.NaT or isinstance(v, bool):
        return v if v is not pd.NaT else None
    if isinstance(v, np.generic):
        return _json_value(v.item(), depth)
    if isinstance(v, str):
        try:
            v.encode("utf-8")
        except UnicodeEncodeError:
            msg = "text holds a lone surrogate (not valid Unicode); re-save the file as UTF-8"
            raise _UnstorableError(msg) from None
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float | Decimal):
        f = float(v)
        if math.isnan(f):
            return None
        if math.isinf(f):
            msg = f"value {v} is infinite, which JSON cannot hold; write a number or leave it empty"
            raise _UnstorableError(msg)
        return int(v) if isinstance(v, Decimal) and v == v.to_integral_value() else f
    if isinstance(v, dt.datetime | dt.date | dt.time):
        return v.isoformat()  # pd.Timestamp is a datetime: the time of day is kept
    if isinstance(v, bytes | bytearray | memoryview):
        return "base64:" + base64.b64encode(bytes(v)).decode("ascii")
    if isinstance(v, np.ndarray | list | tuple):
        return [_json_value(x, depth + 1) for x in v]
    if isinstance(v, dict):
        return {_json_key(k): _json_value(x, depth + 1) for k, x in v.items()}
    msg = f"a {type(v).__name__} value cannot be stored; convert it to text or a number"
    raise _UnstorableError(msg)


def _json_key(k: Any) -> str:
    key = _json_value(str(k))
    assert isinstance(key, str)
    return key


def _stored_geometry(kind: str, g: shapely.Geometry) -> tuple[Any, str | None]:
    """The geometry as stored (rounded, RFC 7946 winding) and a problem ('what; fix') or None."""
    r = shapely.set_precision(g, PRECISION_DEG)
    if isinstance(r, shapely.Polygon):
        r = orient(r, 1.0)
    elif isinstance(r, shapely.MultiPolygon):
        r = shapely.MultiPolygon([orient(p, 1.0) for p in r.geoms])
    at = f"at the store's precision of {PRECISION_DEG:g} degrees (about 0.1 m)"
    fix = "draw it larger, or as a point"
    if r.is_empty:
        return r, f"the {g.geom_type} becomes empty {at}; {fix}"
    if r.geom_type not in SCHEMA[kind].geometries:
        return r, f"the {g.geom_type} becomes a {r.geom_type} {at}; {fix}"
    if not r.is_valid:
        return r, f"the {g.geom_type} becomes invalid {at} ({explain_validity(r)}); {fix}"
    if r.geom_type in ("LineString", "MultiLineString") and shapely.length(r) == 0:
        return r, f"the line becomes zero length {at}; {fix}"
    return r, None


def _stored_geometries(kind: str, geoms: np.ndarray) -> tuple[np.ndarray, dict[int, str]]:
    """Every geometry as :func:`_stored_geometry` stores it, and its problems by row.

    Rounded all at once; polygons are oriented and geometries that fail a check of the rounded
    shape are explained one by one (the same lines as :func:`_stored_geometry`).
    """
    rounded = shapely.set_precision(geoms, PRECISION_DEG)
    type_id = shapely.get_type_id(rounded)
    polygonal = np.flatnonzero(np.isin(type_id, (3, 6)))  # Polygon, MultiPolygon
    for i in polygonal.tolist():
        rounded[i], _ = _stored_geometry(kind, geoms[i])
    allowed = np.isin(shapely.get_type_id(rounded),
                      [TYPE_IDS[t] for t in SCHEMA[kind].geometries])  # fmt: skip
    suspect = shapely.is_empty(rounded) | ~allowed | ~shapely.is_valid(rounded)
    lines = np.isin(type_id, (1, 5))  # LineString, MultiLineString
    suspect[lines] |= shapely.length(rounded[lines]) == 0
    problems = {}
    for i in np.flatnonzero(suspect).tolist():
        rounded[i], why = _stored_geometry(kind, geoms[i])
        if why:
            problems[i] = why
    return rounded, problems


TYPE_IDS = {"Point": 0, "LineString": 1, "Polygon": 3, "MultiPoint": 4, "MultiLineString": 5,
            "MultiPolygon": 6, "GeometryCollection": 7}  # fmt: skip


def _plain_texts(values: np.ndarray) -> bool:
    """Whether every value is a str that UTF-8 can encode (no lone surrogate)."""
    try:
        "".join(values).encode("utf-8")
    except (TypeError, UnicodeEncodeError):
        return False
    return True


def _json_column(values: np.ndarray) -> tuple[list[Any], dict[int, str]]:
    """A column's values as :func:`_json_value` gives them, and the refusals by row.

    Plain columns (text, finite numbers, booleans, nulls, lists of text) are converted at once;
    any other value goes through :func:`_json_value` itself.
    """
    n = len(values)
    kinds = np.fromiter(map(_PLAIN_KIND.get, map(type, values), itertools.repeat(0, n)),
                        dtype=np.int8, count=n)  # fmt: skip
    out = values.tolist()
    at_float = np.flatnonzero(kinds == 2)
    if len(at_float):
        floats = values[at_float].astype(float)
        for i in at_float[np.isnan(floats)].tolist():
            out[i] = None
        kinds[at_float[np.isinf(floats)]] = 0  # refused below, with _json_value's line
    at_text = np.flatnonzero(kinds == 3)
    if len(at_text) and not _plain_texts(values[at_text]):
        kinds[at_text] = 0
    at_list = np.flatnonzero(kinds == 4)
    if len(at_list):
        items = list(itertools.chain.from_iterable(values[at_list]))
        if not (all(type(v) is str for v in items) and _plain_texts(np.asarray(items, object))):
            kinds[at_list] = 0
    problems = {}
    for i in np.flatnonzero(kinds == 0).tolist():
        try:
            out[i] = _json_value(values[i])
        except _UnstorableError as e:
            problems[i] = str(e)
    return out, problems


_PLAIN_KIND = {type(None): 1, bool: 1, int: 1, float: 2, str: 3, list: 4}


def stored_features(gdf: gpd.GeoDataFrame, kind: str, src: str) -> str:
    """The store's copy of a validated layer's features: a JSON array, one Feature per row.

    Column by column; the values and the text are those of :func:`stored_features_by_row`.

    Raises
    ------
    ValidationError
        One problem per feature whose geometry or properties cannot be stored faithfully.
    """
    with collector_paused():  # a dict per feature and per geometry: no cycles among them
        return _stored_features(gdf, kind, src)


def _stored_features(gdf: gpd.GeoDataFrame, kind: str, src: str) -> str:
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    n = len(gdf)
    fids = [None if is_missing(v) else _shown(str(v)) for v in
            (gdf["id"].to_numpy(dtype=object) if "id" in cols else [None] * n)]  # fmt: skip
    geoms, geom_problems = _stored_geometries(kind, gdf.geometry.to_numpy())
    found: list[tuple[int, int, Problem]] = []
    for i, why in geom_problems.items():
        what, fix = why.rsplit("; ", 1)
        found.append((i, -1, Problem(src, what, fids[i], i, "geometry", fix)))
    keys: list[str] = []
    columns: list[list[Any]] = []
    for j, c in enumerate(cols):
        values, problems = _json_column(gdf[c].to_numpy(dtype=object))
        try:
            key = _json_key(c)
        except _UnstorableError as e:  # every row: its value's problem first, as by row
            problems = {i: problems.get(i, str(e)) for i in range(n)}
            key = ""
        for i, why in problems.items():
            what, _, fix = why.partition("; ")
            found.append((i, j, Problem(src, what, fids[i], i, _shown(str(c)), fix or None)))
        keys.append(key)
        columns.append(values)
    if found:
        raise ValidationError([p for _, _, p in sorted(found, key=lambda t: (t[0], t[1]))])
    if len(geoms) and bool((shapely.get_type_id(geoms) == 0).all() & ~shapely.has_z(geoms).any()):
        xy = shapely.get_coordinates(geoms).tolist()
        shapes: list[Any] = [{"type": "Point", "coordinates": c} for c in xy]
    else:
        shapes = [mapping(g) for g in geoms]
    feats = [{"type": "Feature", "properties": dict(zip(keys, row, strict=True)), "geometry": g}
             for row, g in zip(zip(*columns, strict=True) if columns else [()] * n, shapes,
                               strict=True)]  # fmt: skip
    return json.dumps(feats, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def stored_features_by_row(gdf: gpd.GeoDataFrame, kind: str, src: str) -> str:
    """:func:`stored_features` one feature and value at a time: the reference it must equal."""
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    feats: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for i, (row, g) in enumerate(zip(gdf[cols].itertuples(index=False), gdf.geometry, strict=True)):
        values = dict(zip(cols, row, strict=True))
        fid = values.get("id")
        fid = None if is_missing(fid) else str(fid)
        fid = None if fid is None else _shown(fid)
        geom, why = _stored_geometry(kind, g)
        if why:
            what, fix = why.rsplit("; ", 1)
            problems.append(Problem(src, what, fid, i, "geometry", fix))
        props: dict[str, Any] = {}
        for c, v in values.items():
            try:
                props[_json_key(c)] = _json_value(v)
            except _UnstorableError as e:
                what, _, fix = str(e).partition("; ")
                problems.append(Problem(src, what, fid, i, _shown(str(c)), fix or None))
        feats.append({"type": "Feature", "properties": props, "geometry": mapping(geom)})
    if problems:
        raise ValidationError(problems)
    return json.dumps(feats, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _dumps(value: Any, *, sort_keys: bool = False) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"),
                      sort_keys=sort_keys)  # fmt: skip


def content_sha256(meta: dict[str, Any], features: bytes | memoryview) -> str:
    """The checksum of a stored layer: its metadata (but ``sha256``) and its features' bytes."""
    h = hashlib.sha256(
        _dumps({k: v for k, v in meta.items() if k != "sha256"}, sort_keys=True).encode()
    )
    h.update(b"\n")
    h.update(features)
    return h.hexdigest()


def stored_document(meta: dict[str, Any], features: str, *, checksum: bool = False) -> str:
    """One FeatureCollection carrying ``meta`` (and, with ``checksum``, its ``sha256``)."""
    if checksum:
        meta = {**meta, "sha256": content_sha256(meta, features.encode("utf-8"))}
    return (HEAD + _dumps(meta).encode("utf-8") + FEATURES_AT).decode("utf-8") + features + "}\n"


def stored_text(gdf: gpd.GeoDataFrame, meta: dict[str, Any], src: str) -> str:
    """The store's copy of a validated layer: one FeatureCollection carrying its metadata.

    Raises
    ------
    ValidationError
        One problem per feature whose geometry or properties cannot be stored faithfully.
    """
    return stored_document(meta, stored_features(gdf, str(meta["kind"]), src))


# --- the checksummed fast read ---------------------------------------------------------------


class _NotFastError(ValueError):
    """The stored copy cannot be taken as checked: read and validate it in full."""


def _refuse_constant(name: str) -> None:
    msg = f"non-standard JSON constant {name}"
    raise _NotFastError(msg)


def _head_meta(raw: bytes) -> tuple[dict[str, Any], int] | None:
    """The checksummed metadata at the start of a stored layer and where it ends, else None."""
    if not raw.startswith(HEAD):
        return None
    head = raw[len(HEAD) : len(HEAD) + MAX_META_BYTES].decode("utf-8", errors="ignore")
    try:
        meta, end = json.JSONDecoder(parse_constant=_refuse_constant).raw_decode(head)
    except (ValueError, RecursionError):
        return None
    at = len(HEAD) + len(head[:end].encode("utf-8"))
    if (
        not isinstance(meta, dict)
        or not isinstance(meta.get("sha256"), str)
        or not isinstance(meta.get("columns"), list)
        or raw[at : at + len(FEATURES_AT)] != FEATURES_AT
    ):
        return None
    return meta, at


def checked_meta(raw: bytes) -> tuple[dict[str, Any], memoryview] | None:
    """The metadata and the features' bytes of a stored layer whose checksum matches, else None.

    Only the metadata is parsed; the features are hashed, not read.
    """
    parsed = _head_meta(raw)
    if parsed is None or not raw.endswith(b"}\n"):
        return None
    meta, at = parsed
    features = memoryview(raw)[at + len(FEATURES_AT) : len(raw) - 2]
    if content_sha256(meta, features) != meta["sha256"]:
        return None
    return meta, features


def _column(values: list[Any], dtype: str) -> pd.Series:
    if dtype == "object":
        return pd.Series(values, dtype=object)
    return pd.Series(values, dtype=dtype)


def checked_frame(meta: dict[str, Any], features: memoryview) -> gpd.GeoDataFrame:
    """The frame of a checksummed stored layer, built without validating it again."""
    try:
        feats = json.loads(bytes(features), parse_constant=_refuse_constant)
        props = [f["properties"] for f in feats]
        geoms = [f["geometry"] for f in feats]
        data = {}
        for name, dtype in meta["columns"]:
            data[str(name)] = _column([q.get(name) for q in props], str(dtype))
        if all(g["type"] == "Point" for g in geoms):
            xy = np.array([g["coordinates"] for g in geoms], dtype=float).reshape(-1, 2)
            geometry = shapely.points(xy)
        else:
            geometry = np.array([shapely.geometry.shape(g) for g in geoms], dtype=object)
        gdf = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geometry, crs="EPSG:4326"))
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as e:
        msg = f"not as checked: {type(e).__name__}"
        raise _NotFastError(msg) from None
    except shapely.errors.ShapelyError as e:
        msg = f"not as checked: {type(e).__name__}"
        raise _NotFastError(msg) from None
    gdf.attrs["kind"] = meta.get("kind")
    return gdf


# --- the columnar copy -------------------------------------------------------------------------
# Each checksummed NAME.geojson may have NAME.columns beside it (geo.data.columns): the same
# validated frame in columns, read in a fraction of the time and column by column. It is a cache
# keyed on the GeoJSON (its size, modification time and checksummed metadata), not a
# replacement: the GeoJSON stays the one copy a user can read, edit or send; a copy whose key
# does not match, or that is short, corrupt or changed, is passed over and the layer read the
# careful way (checksum, else validation), and stores written before the copy existed read as
# they did. The copy is written after the GeoJSON, under the same lock, only if it reads back as
# the very frame validating the GeoJSON gives (same_frame).


def _columns_path(p: Path, name: str) -> Path:
    return p.with_name(f"{name}{COLUMNS_SUFFIX}")


def _columns_key(p: Path, meta: dict[str, Any]) -> dict[str, Any]:
    st = p.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "meta": meta}


def _geojson_meta(p: Path) -> dict[str, Any] | None:
    """The checksummed metadata at the head of a stored layer (the features are not read)."""
    with open_copy(p) as f:  # a regular file only: a FIFO would make the reader wait
        parsed = _head_meta(f.read(len(HEAD) + MAX_META_BYTES + len(FEATURES_AT)))
    return None if parsed is None else parsed[0]


def _write_columns(p: Path, name: str, gdf: gpd.GeoDataFrame) -> None:
    """Write the columnar copy of the stored layer ``p``, whose validated frame is ``gdf``.

    A frame the copy cannot hold exactly gets none: the layer is then read as before.
    """
    target = _columns_path(p, name)
    target.unlink(missing_ok=True)

    def reads_back(tmp: Path) -> None:
        if not same_frame(gdf, decode_frame(tmp)):
            msg = "the columnar copy differs from the validated frame"
            raise ColumnsError(msg)

    with contextlib.suppress(ColumnsError):
        meta = _geojson_meta(p)
        if meta is not None:
            data = encode_frame(gdf, _columns_key(p, meta))
            atomic_write_bytes(target, data, check=reads_back)


def _columns_meta(p: Path, name: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The layer's metadata and its columnar copy's header when the copy is the layer's."""
    try:
        with open_copy(_columns_path(p, name)) as f:
            header, _ = read_header(f)
        meta = _geojson_meta(p)
        if meta is None or header.get("key") != _columns_key(p, meta):
            return None
    except (OSError, ColumnsError):
        return None
    return (meta, header) if _meta_problem(p, name, meta) is None else None


def _columns_frame(
    p: Path, name: str, by_kind: Mapping[str, frozenset[str]] | None
) -> tuple[dict[str, Any], gpd.GeoDataFrame] | None:
    """The layer from its columnar copy, else None.

    If ``by_kind`` names the layer's kind, only the columns it names (and the colour-by
    property) are read.
    """
    found = _columns_meta(p, name)
    if found is None:
        return None
    meta, header = found
    columns = (by_kind or {}).get(str(meta.get("kind")))
    wanted = None if columns is None else sorted(columns | {str(meta.get("color_by"))})
    try:
        gdf = decode_frame(_columns_path(p, name), wanted, header=header)
    except (OSError, ColumnsError):
        return None
    gdf.attrs["kind"] = meta.get("kind")
    return meta, gdf


# --- reserved ids ---------------------------------------------------------------------------


def bundled_ids() -> dict[str, dict[str, str]]:
    """Ids of the bundled layers by kind: ``{kind: {id: bundled layer name}}``."""
    out: dict[str, dict[str, str]] = {}
    for stem in bundled_layers():
        g = load_bundled(stem)
        if "id" in g:
            ids = out.setdefault(str(g.attrs.get("kind")), {})
            for i in g["id"].dropna():
                ids.setdefault(str(i), stem)
    return out


def id_clashes(layers: list[gpd.GeoDataFrame]) -> list[Problem]:
    """Features of (non-bundled) layers whose id a bundled layer or an earlier layer uses.

    A clash would silently replace the other feature when the network or map is built. The
    same feature given twice (same id and geometry, e.g. a stored layer also passed as
    ``--layer``) is one feature, not a clash. Ids are compared per column (hash lookups in
    pandas); only the rows whose id is taken are looked at one by one.
    """
    if not any("id" in lyr and not lyr.attrs.get("bundled") for lyr in layers):
        return []  # nothing to check: the bundled layers are not even read
    reserved = bundled_ids()
    # kind -> the earlier layers: path, ids, geometries (indexed when a later layer asks)
    seen: dict[str, list[_Known]] = {}
    problems: list[Problem] = []
    for lyr in layers:
        if "id" not in lyr or lyr.attrs.get("bundled"):
            continue
        kind = str(lyr.attrs.get("kind"))
        path = str(lyr.attrs.get("path", "layer"))
        ids = lyr["id"]
        rows = np.flatnonzero(~ids.isna().to_numpy())  # is_missing, per column
        fids = pd.Series(ids.to_numpy()[rows], dtype=object).astype(str)
        geoms = lyr.geometry.to_numpy()[rows]
        kind_reserved = reserved.get(kind, {})
        earlier = seen.setdefault(kind, [])
        owner = np.full(len(fids), -1)  # which earlier layer has the id first, and at what row
        at = np.full(len(fids), -1)
        for k, known in enumerate(earlier):
            pos = known.first_rows(fids)
            hit = (pos >= 0) & (owner < 0)
            owner[hit], at[hit] = k, pos[hit]
        taken = fids.isin(kind_reserved.keys()).to_numpy() | (owner >= 0)
        for j in np.flatnonzero(taken):
            fid, i, g = str(fids.iloc[j]), int(rows[j]), geoms[j]
            if fid in kind_reserved:
                problems.append(Problem(
                    path, f"'{_shown(fid)}' is the id of a bundled {kind} in "
                    f"'{kind_reserved[fid]}'", _shown(fid), i, "id",
                    "rename it; bundled ids are reserved"))  # fmt: skip
            else:
                first_path, first_geoms = earlier[owner[j]].path, earlier[owner[j]].geoms
                if first_path != path and not _same_geometry(first_geoms[at[j]], g):
                    problems.append(Problem(
                        path, f"'{_shown(fid)}' is also the id of another {kind} in {first_path}",
                        _shown(fid), i, "id", "rename one of them"))  # fmt: skip
        earlier.append(_Known(path, fids, geoms))
    return problems


class _Known:
    """The ids of an earlier layer; indexed only when a later layer of its kind is checked."""

    def __init__(self, path: str, fids: pd.Series, geoms: np.ndarray) -> None:
        self.path, self.fids, self.geoms = path, fids, geoms
        self._first: pd.Series | None = None

    def first_rows(self, fids: pd.Series) -> np.ndarray:
        """For each of ``fids``, the row of its first use in this layer, or -1."""
        if self._first is None:
            first = ~self.fids.duplicated().to_numpy()
            self._first = pd.Series(np.flatnonzero(first), index=self.fids.to_numpy()[first])
        pos = pd.Index(self._first.index).get_indexer(fids)
        return np.where(pos >= 0, self._first.to_numpy()[pos], -1)


def _same_geometry(a: shapely.Geometry | None, b: shapely.Geometry | None) -> bool:
    if a is None or b is None:
        return a is b
    return bool(shapely.equals_exact(a, b, tolerance=PRECISION_DEG))


# --- add, remove, read ----------------------------------------------------------------------


def _exists_msg(name: str) -> str:
    return (
        f"a user layer named '{name}' exists already; "
        "pass --force to replace it or choose another --name"
    )


def add_layer(
    path: str | Path,
    *,
    name: str | None = None,
    kind: str | None = None,
    color_by: str | None = None,
    force: bool = False,
    sublayer: str | None = None,
) -> dict[str, Any]:
    """Validate a file and store a normalised copy as a user layer; return its listing entry.

    ``sublayer`` picks one layer of a GeoPackage or zip that holds several.

    The copy is checked after rounding and read back before it replaces anything, under the
    store's lock: two adds of one name never both succeed, and a killed add leaves no layer
    half-written.
    """
    src = Path(path)
    name = _check_name(name if name is not None else src.name.split(".")[0])
    d = user_dir()
    _check_folders(d)
    target = d / f"{name}.geojson"
    if not force and (target.exists() or target.is_symlink()):
        raise LayerStoreError(_exists_msg(name))
    gdf = load_layer(src, kind=kind, layer=sublayer)
    if color_by is not None and (color_by not in gdf.columns or color_by == gdf.geometry.name):
        msg = (
            f"{src}: --color-by: no property '{_shown(color_by)}' in the layer; "
            f"use one of {', '.join(_shown(str(c)) for c in gdf.columns if c != 'geometry')}"
        )
        raise LayerStoreError(msg)
    kind = str(gdf.attrs["kind"])
    gdf.attrs.update(path=str(src), bundled=False)
    clashes = id_clashes([gdf])
    if clashes:
        raise ValidationError(clashes)
    columns = [[str(c), str(gdf[c].dtype)] for c in gdf.columns if c != gdf.geometry.name]
    meta = {"format": STORE_FORMAT, "name": name, "kind": kind, "color_by": color_by,
            "source_file": src.name, "count": len(gdf), "columns": columns}  # fmt: skip
    features = stored_features(gdf, kind, str(src))
    count = len(gdf)
    del gdf  # the copy is read back and validated again: not both frames at once
    _make_store(d)
    with _locked(d, exclusive=True):
        if not force and (target.exists() or target.is_symlink()):
            raise LayerStoreError(_exists_msg(name))
        _write_checked(d, name, meta, features, count)
        (d / f"{name}.meta.json").unlink(missing_ok=True)  # an older store's metadata file
    return {**meta, "path": str(target), "bundled": False}


def _write_checked(d: Path, name: str, meta: dict[str, Any], features: str, count: int) -> None:
    """Write the layer to a temporary file, read it back as the store will, then rename.

    The copy gets a checksum only if its fast read gives exactly the frame that validating it
    gives; otherwise it is written without one and always read the validating way. A
    checksummed copy then gets its columnar copy, made of that validated frame.
    """
    kind = str(meta["kind"])
    validated: list[gpd.GeoDataFrame] = []

    def reads_back(tmp: Path, *, fast: bool) -> None:
        try:
            back = load_layer(tmp, kind=kind, check_countries=False)
        except GeoError as e:  # a bug: the checks above should have caught it
            msg = f"the stored copy of '{name}' does not read back: {e}"
            raise AssertionError(msg) from e
        assert len(back) == count, (len(back), count)
        if fast:
            parts = checked_meta(tmp.read_bytes())
            if parts is None or not same_frame(back, checked_frame(*parts)):
                msg = "the fast read differs from the validated one"
                raise _NotFastError(msg)
            validated.append(back)

    target = d / f"{name}.geojson"
    try:
        _columns_path(target, name).unlink(missing_ok=True)  # a copy of what is replaced
        try:
            text = stored_document(meta, features, checksum=True)
            atomic_write_text(target, text, check=lambda t: reads_back(t, fast=True))
        except _NotFastError:
            text = stored_document(meta, features)
            atomic_write_text(target, text, check=lambda t: reads_back(t, fast=False))
    except OSError as e:
        msg = f"{d}: cannot write the layer ({e.strerror}); check permissions and free space"
        raise LayerStoreError(msg) from e
    if validated:
        with contextlib.suppress(OSError):  # without its copy the layer reads the careful way
            _write_columns(target, name, validated[0])


def remove_layer(name: str) -> None:
    """Remove a user layer by name (also one that is broken or has a name no longer allowed)."""
    d = user_dir()
    _check_folders(d)
    files = _layer_files(d) if d.is_dir() else []
    stems = {p.name[: -len(".geojson")] for p in files}
    others = set()  # an older store's metadata files, columnar copies left without their layer
    if d.is_dir():
        others = {p.name[: -len(sfx)] for p in d.iterdir() for sfx in (".meta.json", COLUMNS_SUFFIX)
                  if p.name.endswith(sfx) and not p.name.startswith(".")}  # fmt: skip
    if name not in stems | others:
        _check_name(name)
        known = ", ".join(_shown(s) for s in sorted(stems)) or "none"
        msg = f"no user layer named '{_shown(name)}' (user layers: {known})"
        raise LayerStoreError(msg)
    with _locked(d, exclusive=True):
        for p in (d / f"{name}{COLUMNS_SUFFIX}", d / f"{name}.geojson", d / f"{name}.meta.json"):
            try:
                p.unlink(missing_ok=True)
            except OSError as e:
                msg = f"{p}: cannot remove it ({e.strerror}); check permissions of {d}"
                raise LayerStoreError(msg) from None


def _broken(p: Path, name: str, what: str) -> Problem:
    fix = f"run `corridor layers remove {_shown(name)}` and add the layer again"
    return Problem(str(p), f"stored user layer {what}", fix=fix)


def _read_meta(
    p: Path, name: str, raw: bytes | None = None
) -> tuple[dict[str, Any] | None, Problem | None]:
    """The layer's metadata (embedded, else an older store's NAME.meta.json)."""
    try:
        doc = json.loads((p.read_bytes() if raw is None else raw).decode("utf-8"))
    except OSError as e:
        fix = f"check its permissions or run `corridor layers remove {_shown(name)}`"
        return None, Problem(str(p), f"stored user layer cannot be read ({e.strerror})", fix=fix)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        why = e.msg if isinstance(e, json.JSONDecodeError) else type(e).__name__
        return None, _broken(p, name, f"is corrupted (not JSON: {why})")
    if not isinstance(doc, dict):
        return None, _broken(p, name, "is corrupted (not a GeoJSON FeatureCollection)")
    meta = doc.get(META_KEY)
    if meta is None:  # written before the metadata moved into the layer file
        side = p.with_name(f"{name}.meta.json")
        try:
            meta = json.loads(side.read_text(encoding="utf-8")) if side.exists() else {}
        except (OSError, ValueError):
            return None, _broken(p, name, f"has an unreadable metadata file {side.name}")
        meta = {"name": name, **meta} if isinstance(meta, dict) else None
    if not isinstance(meta, dict):
        return None, _broken(p, name, "has malformed metadata")
    problem = _meta_problem(p, name, meta)
    return (None, problem) if problem else (meta, None)


def _meta_problem(p: Path, name: str, meta: dict[str, Any]) -> Problem | None:
    if meta.get("name", name) != name:
        return _broken(p, name, f"metadata names another layer ('{_shown(str(meta.get('name')))}')")
    if meta.get("kind") is not None and meta.get("kind") not in SCHEMA:
        return _broken(p, name, f"metadata has unknown kind '{_shown(str(meta.get('kind')))}'")
    return None


def _fast_read(p: Path, name: str) -> tuple[bytes | None, tuple[dict[str, Any], memoryview] | None]:
    """The file's bytes, and its metadata and features when its checksum matches (else None)."""
    try:
        raw = p.read_bytes()
    except OSError:
        return None, None  # the validating read says why
    parts = checked_meta(raw)
    if parts is None or _meta_problem(p, name, parts[0]) is not None:
        return raw, None
    return raw, parts


def _read_one(
    p: Path, by_kind: Mapping[str, frozenset[str]] | None = None
) -> tuple[gpd.GeoDataFrame | None, Problem | None]:
    """One stored layer, or why it cannot be used.

    ``by_kind`` names, for some kinds, the only columns wanted of a layer of that kind (its
    colour-by property is kept too), whichever way the layer is read.
    """
    name = p.name[: -len(".geojson")]
    from_columns = _columns_frame(p, name, by_kind)
    if from_columns is not None:
        meta, gdf = from_columns
        return _checked_against_meta(p, name, meta, gdf, by_kind)
    raw, parts = _fast_read(p, name)
    if parts is not None:
        with contextlib.suppress(_NotFastError):
            return _checked_against_meta(p, name, parts[0], checked_frame(*parts), by_kind)
    read, problem = _read_meta(p, name, raw)
    if read is None:
        return None, problem
    kind = read.get("kind")
    try:
        gdf = load_layer(p, kind=kind, check_countries=False)
    except GeoError as e:
        first = e.lines()[0] if e.lines() else str(e)
        first = first[len(str(p)) + 2 :] if first.startswith(f"{p}: ") else first
        return None, _broken(p, name, f"does not read back ({first})")
    except OSError as e:
        return None, _broken(p, name, f"cannot be read ({e.strerror})")
    return _checked_against_meta(p, name, read, gdf, by_kind)


def _checked_against_meta(
    p: Path,
    name: str,
    meta: dict[str, Any],
    gdf: gpd.GeoDataFrame,
    by_kind: Mapping[str, frozenset[str]] | None = None,
) -> tuple[gpd.GeoDataFrame | None, Problem | None]:
    columns = (by_kind or {}).get(str(gdf.attrs.get("kind")))
    count = meta.get("count")
    if isinstance(count, int) and count != len(gdf):
        return None, _broken(p, name, f"holds {len(gdf)} features but its metadata says {count}")
    color_by = meta.get("color_by")
    listed = [c for c in meta.get("columns") or [] if isinstance(c, list) and c]
    have = set(gdf.columns) if columns is None or not listed else {str(c[0]) for c in listed}
    if color_by is not None and color_by not in have:
        return None, _broken(
            p,
            name,
            f"is coloured by '{_shown(str(color_by))}', which it lacks",
        )
    if columns is not None:
        keep = columns | {color_by, gdf.geometry.name}
        attrs = dict(gdf.attrs)
        gdf = gdf[[c for c in gdf.columns if c in keep]]
        gdf.attrs = attrs
    gdf.attrs.update(name=name, color_by=color_by, bundled=False, path=str(p))
    return gdf, None


def scan_store(
    by_kind: Mapping[str, frozenset[str]] | None = None,
) -> tuple[list[gpd.GeoDataFrame], list[Problem]]:
    """Every stored user layer that reads back, and one problem per layer that does not.

    ``by_kind`` names, for some kinds, the only columns wanted of a layer of that kind (its
    colour-by property is kept too); a layer with a columnar copy reads only those.
    """
    d = user_dir()
    _check_folders(d)
    if not d.is_dir():
        return [], []
    layers: list[gpd.GeoDataFrame] = []
    problems: list[Problem] = []
    with _locked(d, exclusive=False):
        for p in _layer_files(d):
            gdf, problem = _read_one(p, by_kind)
            if gdf is not None:
                layers.append(gdf)
            elif problem is not None:
                problems.append(problem)
    return layers, problems


def _scan_listing() -> tuple[list[dict[str, Any]], list[Problem]]:
    """Listing rows of the stored layers: from checksummed metadata, else by reading in full."""
    d = user_dir()
    _check_folders(d)
    if not d.is_dir():
        return [], []
    rows: list[dict[str, Any]] = []
    problems: list[Problem] = []
    with _locked(d, exclusive=False):
        for p in _layer_files(d):
            name = p.name[: -len(".geojson")]
            found = _columns_meta(p, name)
            parts = _fast_read(p, name)[1] if found is None else None
            meta = found[0] if found is not None else parts[0] if parts is not None else {}
            if isinstance(meta.get("count"), int):
                rows.append({"name": name, "kind": meta.get("kind"), "count": meta["count"],
                             "path": str(p), "bundled": False, "problem": None})  # fmt: skip
                continue
            gdf, problem = _read_one(p)
            if gdf is not None:
                rows.append({"name": name, "kind": gdf.attrs["kind"], "count": len(gdf),
                             "path": str(p), "bundled": False, "problem": None})  # fmt: skip
            elif problem is not None:
                problems.append(problem)
    return rows, problems


def user_layers(by_kind: Mapping[str, frozenset[str]] | None = None) -> list[gpd.GeoDataFrame]:
    """Every stored user layer, validated, with ``attrs`` name, kind, color_by and path.

    ``by_kind`` names, for some kinds, the only columns wanted of a layer of that kind (its
    colour-by property is kept too); the other columns of those layers are not read.

    Raises
    ------
    LayerStoreError
        When a stored layer cannot be used (one line per layer, naming its file and the fix):
        answers computed without it would silently differ.
    """
    layers, problems = scan_store(by_kind)
    if problems:
        raise StoreProblemsError(problems)
    return layers


def list_layers() -> list[dict[str, Any]]:
    """Bundled and user layers: name, kind, feature count, where stored (and what is broken)."""
    rows = []
    for stem, p in bundled_layers().items():
        g = load_bundled(stem)
        rows.append({"name": stem, "kind": g.attrs["kind"], "count": len(g), "path": str(p),
                     "bundled": True, "problem": None})  # fmt: skip
    listed, problems = _scan_listing()
    rows.extend(listed)
    for pr in problems:
        stem = Path(pr.file).name[: -len(".geojson")]
        rows.append({"name": _shown(stem), "kind": "?", "count": "?", "path": pr.file,
                     "bundled": False, "problem": pr})  # fmt: skip
    return rows
