"""Reading layers: files -> raw records -> validated GeoDataFrames; and where bundled data lives.

GeoJSON is parsed here, not by GDAL, so that every problem (NaN coordinates, a legacy ``crs``
member, a null geometry) can be reported with its feature: with orjson and checks per column
when it can be, else with :mod:`json` feature by feature (the careful reader, which explains
whatever the fast one hands over, with the same lines). Every other format goes through
pyogrio and is reprojected to WGS84 when it declares a CRS.
"""

from __future__ import annotations

import bisect
import csv
import io
import itertools
import json
import math
import operator
import os
import re
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import shapely
from shapely.geometry import shape

from ..errors import Problem, UnreadableError
from .collector import collector_paused
from .schema import SCHEMA

TEXT_SUFFIXES = {".geojson", ".json", ".csv"}
GIS_SUFFIXES = (".geojson", ".json", ".csv", ".gpkg", ".shp", ".zip", ".fgb")

# Caps on what one layer file may hold or declare. They keep a hostile or broken file from
# exhausting memory or the interpreter's stack; every real layer of the project is far below.
MAX_FILE_BYTES = 512 * 1024 * 1024  # bytes read from one layer file
MAX_COLUMNS = 500  # distinct property names in one layer
MAX_TEXT_CHARS = 10_000  # characters in one text value
MAX_NAME_CHARS = 256  # characters in one property name
MAX_VALUE_DEPTH = 20  # nesting of lists/objects inside one property value
MAX_JSON_DEPTH = 64  # nesting of a whole GeoJSON document (property values included)
MAX_INT_DIGITS = 300  # digits of a JSON integer (a float stops at about 1e308)
LON_NAMES = ("lon", "lng", "long", "longitude", "x")
LAT_NAMES = ("lat", "latitude", "y")
WGS84_NAMES = {
    "urn:ogc:def:crs:ogc:1.3:crs84",
    "urn:ogc:def:crs:epsg::4326",
    "epsg:4326",
    "crs84",
}


class Missing:
    """The type of :data:`MISSING`: the cell of a property that a feature does not have."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = Missing()


@dataclass
class RawLayer:
    """A file as read, before validation: one property dict and geometry per feature.

    ``columns``, when a reader gathered them, holds the same properties by name (an object
    array per name, :data:`MISSING` where a feature lacks the name; see
    :func:`property_columns`), so validation need not gather them again. The fast GeoJSON
    reader keeps only the columns: its ``props`` are :class:`ColumnRows`, each dict built when
    it is asked for. Whoever changes ``props`` after reading sets ``columns`` to None.
    """

    path: str
    props: Sequence[dict[str, Any]] = field(default_factory=list)
    geoms: list[Any] = field(default_factory=list)  # shapely geometry or None
    problems: list[Problem] = field(default_factory=list)  # found while reading
    columns: dict[str, np.ndarray] | None = None


class ColumnRows(Sequence[dict[str, Any]]):
    """Property columns seen as one dict per feature, each built only when it is asked for.

    A million features read as columns would take a gigabyte more as dicts; validation and
    the frame work on the columns, and a dict is made for the rare row a message or a caller
    looks at. A cell holding :data:`MISSING` is a name the feature does not have.

    >>> rows = ColumnRows({"a": object_array([1, MISSING]), "b": object_array([None, 2])}, 2)
    >>> rows[1], len(rows), rows == [{"a": 1, "b": None}, {"b": 2}]
    ({'b': 2}, 2, True)
    """

    def __init__(self, columns: dict[str, np.ndarray], n: int) -> None:
        self.columns = columns
        self.n = n

    def __len__(self) -> int:
        return self.n

    @overload
    def __getitem__(self, i: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, i: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, i: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self.n))]
        if not -self.n <= i < self.n:
            msg = f"row {i} of {self.n}"
            raise IndexError(msg)
        cells = ((name, col[i]) for name, col in self.columns.items())
        return {name: v for name, v in cells if v is not MISSING}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        names = list(self.columns)
        for cells in zip(*self.columns.values(), strict=True) if names else ():
            yield {k: v for k, v in zip(names, cells, strict=True) if v is not MISSING}
        if not names:
            for _ in range(self.n):
                yield {}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # mutable columns: no hash, like a list

    def __repr__(self) -> str:
        return f"ColumnRows({self.n} rows, columns {list(self.columns)})"


def object_array(items: Any) -> np.ndarray:
    """An object array of the items as they are (lists stay cells, never a second axis)."""
    items = items if isinstance(items, list | tuple) else list(items)
    # fromiter never looks into the items; slice assignment checks each for a sequence
    return np.fromiter(items, dtype=object, count=len(items))


def property_names(props: Sequence[dict[str, Any]]) -> list[str]:
    """Every property name of the features, in order of first appearance."""
    # Features of one layer mostly share their list of names: look at each distinct list once.
    shapes = dict.fromkeys(map(tuple, props))
    return list(dict.fromkeys(itertools.chain.from_iterable(shapes)))


def property_columns(
    props: Sequence[dict[str, Any]], names: list[str] | None = None
) -> dict[str, np.ndarray]:
    """The properties by name: an object array per name, :data:`MISSING` where a feature lacks it.

    >>> property_columns([{"a": 1}, {"a": None, "b": [2]}])["b"].tolist()
    [MISSING, [2]]
    """
    if isinstance(props, ColumnRows) and names is None:
        return dict(props.columns)
    names = property_names(props) if names is None else names
    get, n = dict.get, len(props)
    if len(names) > 1 and n:
        try:  # every feature has every name (most large layers): one C call per feature
            rows = list(map(operator.itemgetter(*names), props))
        except KeyError:
            pass
        else:
            cols = zip(*rows, strict=True)  # each row a tuple of len(names) values
            return {name: object_array(col) for name, col in zip(names, cols, strict=True)}
    return {
        name: object_array(
            list(map(get, props, itertools.repeat(name, n), itertools.repeat(MISSING, n)))
        )
        for name in names
    }


def feature_id(props: dict[str, Any]) -> str | None:
    """The feature's ``id`` as text for messages, or None when it has none."""
    v = props.get("id")
    if v is None or isinstance(v, HugeInt) or (isinstance(v, float) and math.isnan(v)):
        return None
    return str(v)


_FILE_TYPES = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def _not_regular(path: Path, mode: int) -> UnreadableError:
    what = _FILE_TYPES.get(stat.S_IFMT(mode), "not a regular file")
    msg = (
        f"{path}: is {what}, not a layer file; "
        "name a regular .geojson, .gpkg, .shp, .zip, .fgb or .csv file"
    )
    return UnreadableError(msg)


def _too_big(path: Path, size: str) -> UnreadableError:
    msg = (
        f"{path}: file is {size}, over the {MAX_FILE_BYTES // 2**20} MB a layer may have; "
        "split it into smaller layers"
    )
    return UnreadableError(msg)


def _check_regular(path: Path) -> os.stat_result:
    """Stat a layer file without opening it; refuse what is not a regular file of sane size."""
    try:
        st = path.stat()
    except FileNotFoundError:
        msg = f"{path}: file not found; check the path"
        raise UnreadableError(msg) from None
    except OSError as e:
        msg = f"{path}: cannot be read ({e.strerror}); check the path and its permissions"
        raise UnreadableError(msg) from None
    if not stat.S_ISREG(st.st_mode):
        raise _not_regular(path, st.st_mode)
    if st.st_size > MAX_FILE_BYTES:
        raise _too_big(path, f"{st.st_size // 2**20} MB")
    return st


def _check_bytes(path: Path) -> bytes:
    """The bytes of a text layer file, at most :data:`MAX_FILE_BYTES` of them.

    The file is opened without blocking and checked again on the open descriptor, so a FIFO or
    device swapped in after the first check can neither hang nor flood the reader.
    """
    _check_regular(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        msg = f"{path}: cannot be read ({e.strerror}); check the path and its permissions"
        raise UnreadableError(msg) from None
    with os.fdopen(fd, "rb") as f:
        mode = os.fstat(f.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise _not_regular(path, mode)
        # read what the file holds (a buffer of the cap, filled and shrunk, would be copied)
        size = min(os.fstat(f.fileno()).st_size, MAX_FILE_BYTES) + 1
        data = f.read(size)
        if len(data) == size and (rest := f.read(MAX_FILE_BYTES + 1 - size)):
            data += rest  # the file grew since it was measured
    if len(data) > MAX_FILE_BYTES:
        raise _too_big(path, f"over {MAX_FILE_BYTES // 2**20} MB")
    if not data or data.isspace():  # as data.strip() would tell, without a copy of the file
        msg = f"{path}: file is empty; export the layer again"
        raise UnreadableError(msg)
    return data


@dataclass(frozen=True)
class HugeInt:
    """A JSON integer with more than :data:`MAX_INT_DIGITS` digits, kept as its length only.

    Python refuses to convert very long digit strings (and they would not fit a float), so the
    reader keeps this marker and validation reports the feature and field that hold it.
    """

    digits: int


def _parse_int(text: str) -> int | HugeInt:
    digits = len(text.lstrip("-"))
    return HugeInt(digits) if digits > MAX_INT_DIGITS else int(text)


_SURROGATE = re.compile("[\ud800-\udfff]")
_CSV_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_CSV_INT = re.compile(r"[+-]?[0-9]+")


def strict_float(text: str) -> float | None:
    """A decimal number written plainly (``-76.94``, ``1e3``), else None.

    Python's ``float`` also takes ``7_6.9_4``, ``nan``, ``inf`` and non-ASCII digits; a layer
    file must not.

    >>> strict_float(" 76.94 "), strict_float("7_6.9_4"), strict_float("nan")
    (76.94, None, None)
    """
    s = text.strip()
    if not _CSV_NUMBER.fullmatch(s):
        return None
    v = float(s)
    return v if math.isfinite(v) else None


def strict_int(text: str) -> int | None:
    """A whole number written plainly (``1520``), else None.

    >>> strict_int("1520"), strict_int("1_520"), strict_int("1.5")
    (1520, None, None)
    """
    s = text.strip()
    if not _CSV_INT.fullmatch(s) or len(s.lstrip("+-")) > MAX_INT_DIGITS:
        return None
    return int(s)


def text_problem(text: str, limit: int = MAX_TEXT_CHARS) -> str | None:
    """Why a text cannot be stored (too long, a lone surrogate), None when it can."""
    if len(text) > limit:
        return f"text of {len(text):,} characters, over the {limit:,} allowed; shorten it"
    if _SURROGATE.search(text):
        return (
            "text holds a lone surrogate (invalid Unicode such as \\ud800); "
            "re-save the file as UTF-8"
        )
    return None


def value_problem(value: Any, depth: int = 0) -> str | None:
    """Why a property value cannot be kept as it is, None when it can.

    Text length, lone surrogates, nesting depth, too-long integers and non-finite numbers
    are checked; the walk stops at :data:`MAX_VALUE_DEPTH`, so it is cheap and bounded.
    """
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, HugeInt):
        return (
            f"integer of {value.digits:,} digits (over {MAX_INT_DIGITS}); "
            "write it as text in quotes or shorten it"
        )
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN or infinite number; write null or a finite number"
    if isinstance(value, list | dict):
        if depth >= MAX_VALUE_DEPTH:
            return (
                f"value nested more than {MAX_VALUE_DEPTH} levels deep; "
                "flatten it or store it as text"
            )
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for k, v in items:
            if isinstance(k, str) and (why := text_problem(k, MAX_NAME_CHARS)):
                return f"key: {why}"
            if why := value_problem(v, depth + 1):
                return why
    return None


class PropertyGuard:
    """Checks each feature's properties while a file is read.

    Too many distinct property names stop the reading at once (that is what exhausts memory);
    other problems become per-feature :class:`Problem` lines.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.names: set[str] = set()

    def check(self, i: int, props: dict[str, Any]) -> list[Problem]:
        """Problems of feature ``i``; raise :class:`UnreadableError` past :data:`MAX_COLUMNS`."""
        fid = feature_id(props) if not isinstance(props.get("id"), HugeInt) else None
        out = []
        for key, v in props.items():
            name = str(key)
            if name not in self.names:
                self.names.add(name)
                if len(self.names) > MAX_COLUMNS:
                    p = Problem(self.path, f"more than {MAX_COLUMNS} distinct property names in "
                                "the layer", fid, i, _short(name),
                                "keep the properties the map needs and drop the rest")  # fmt: skip
                    raise UnreadableError(str(p))
            why = text_problem(name, MAX_NAME_CHARS)
            if why:
                out.append(Problem(self.path, f"property name: {why}", fid, i, _short(name)))
                continue
            why = value_problem(v)
            if why:
                out.append(Problem(self.path, why, fid, i, name))
        return out


def _short(text: str, n: int = 60) -> str:
    """A text cut for a message, with lone surrogates shown escaped."""
    t = text if len(text) <= n else text[:n] + "..."
    return t.encode("utf-8", "backslashreplace").decode("utf-8")


_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


def _json_depth_line(data: bytes) -> int | None:
    """Line where JSON nesting first passes :data:`MAX_JSON_DEPTH`, None when it stays within.

    Strings are blanked first (brackets inside them do not count); JSON strings hold no raw
    newline, so line numbers survive the blanking. Counting runs in chunks with numpy, so a
    large file costs little time and memory, and the decoder never recurses too deep.
    """
    bare = _JSON_STRING.sub(b'""', data)
    arr = np.frombuffer(bare, dtype=np.uint8)
    opening = np.zeros(256, dtype=np.int32)
    opening[[ord("["), ord("{")]] = 1
    opening[[ord("]"), ord("}")]] = -1
    depth = 0
    chunk = 1 << 22
    for start in range(0, arr.size, chunk):
        running = np.cumsum(opening[arr[start : start + chunk]]) + depth
        over = np.flatnonzero(running > MAX_JSON_DEPTH)
        if over.size:
            return bare[: start + int(over[0])].count(b"\n") + 1
        depth = int(running[-1])
    return None


def _check_not_binary(path: Path, data: bytes) -> None:
    """Refuse a file whose first bytes hold a NUL: binary data, not text."""
    if b"\x00" in data[:8192]:
        msg = f"{path}: binary data in a {path.suffix} file; expected UTF-8 text (wrong file?)"
        raise UnreadableError(msg)


def _decode_text(path: Path, data: bytes) -> str:
    _check_not_binary(path, data)
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
    if any(isinstance(v, HugeInt) for v in flat):
        return "coordinate with hundreds of digits; write decimal degrees"
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in flat):
        return "non-numeric coordinate; coordinates must be numbers"
    try:
        floats = [float(v) for v in flat]
    except OverflowError:
        return "coordinate too large for a number; write decimal degrees"
    if any(not math.isfinite(v) for v in floats):
        return "NaN or infinite coordinate; remove or fix the vertex"
    return _range_problem(floats[0::2], floats[1::2])


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
    props = crs.get("properties") if isinstance(crs, dict) else None
    name = props.get("name") if isinstance(props, dict) else None
    if not isinstance(name, str) or crs.get("type") != "name":
        got = crs.get("type") if isinstance(crs, dict) else type(crs).__name__
        msg = (
            f"{path}: crs: a legacy GeoJSON 'crs' member of a form that cannot be honoured "
            f"(type {_short(str(got))!r}); "
            "remove it and store coordinates in WGS84 (RFC 7946)"
        )
        raise UnreadableError(msg)
    if name.lower() in WGS84_NAMES:
        return None
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError, ProjError

    unknown = (
        f"{path}: crs: legacy GeoJSON crs '{_short(name)}' cannot be honoured; "
        "reproject the file to WGS84 (RFC 7946) and drop the 'crs' member"
    )
    if text_problem(name, 2000):
        raise UnreadableError(unknown)
    try:
        crs_obj = CRS.from_user_input(name)
        # Engineering and other local systems have no way to WGS84: find out now.
        if not (crs_obj.is_geographic or crs_obj.is_projected):
            raise UnreadableError(unknown)
        Transformer.from_crs(crs_obj, 4326, always_xy=True)
    except (CRSError, ProjError):
        raise UnreadableError(unknown) from None
    return name


def _read_geojson(path: Path, data: bytes) -> RawLayer:
    """A GeoJSON file read fast when it can be, carefully (with every message) otherwise."""
    with collector_paused():
        fast = _read_geojson_fast(path, data)
    return fast if fast is not None else _read_geojson_careful(path, data)


def _feature_geometry(geom: Any, *, check: bool = True) -> tuple[Any, str | None]:
    """One feature's shapely geometry, or None and the reason it cannot have one."""
    if not isinstance(geom, dict):
        return None, "geometry is null; give the feature a geometry"
    problem = _coords_problem(geom.get("coordinates", [])) if check else None
    if problem:
        return None, problem
    try:
        return shape(geom), None
    except Exception as e:  # shapely's messages vary by geometry type
        return None, f"unreadable geometry ({e}); fix its coordinates"


def _parse_careful(path: Path, data: bytes) -> Any:
    """The document parsed with :mod:`json`: every refusal with its own message."""
    text = _decode_text(path, data)
    line = _json_depth_line(data)
    if line is not None:
        msg = (
            f"{path}: JSON nested more than {MAX_JSON_DEPTH} levels deep at line {line}; "
            f"flatten the values (at most {MAX_VALUE_DEPTH} levels inside a property)"
        )
        raise UnreadableError(msg)
    try:
        return json.loads(text, parse_int=_parse_int)
    except json.JSONDecodeError as e:
        msg = f"{path}: malformed JSON at line {e.lineno} column {e.colno}: {e.msg}; fix the syntax"
        raise UnreadableError(msg) from None
    except RecursionError:  # last resort: the depth scan above should have caught it
        msg = f"{path}: JSON nested too deep to read; flatten the values"
        raise UnreadableError(msg) from None


def _check_type(path: Path, doc: Any) -> None:
    """Refuse a document that is neither a FeatureCollection nor a Feature."""
    if not isinstance(doc, dict) or doc.get("type") not in ("FeatureCollection", "Feature"):
        got = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
        msg = f"{path}: not GeoJSON (top-level type {got!r}); expected a FeatureCollection"
        raise UnreadableError(msg)


def _features(path: Path, doc: dict[str, Any]) -> list[Any]:
    """The features of a FeatureCollection (or the one Feature); refuse a missing list."""
    feats = [doc] if doc["type"] == "Feature" else doc.get("features")
    if not isinstance(feats, list):
        msg = f"{path}: FeatureCollection without a 'features' list; add one"
        raise UnreadableError(msg)
    return feats


def _read_geojson_careful(path: Path, data: bytes) -> RawLayer:
    """GeoJSON read feature by feature: the reference the fast reader must agree with."""
    doc = _parse_careful(path, data)
    _check_type(path, doc)
    crs_name = _legacy_crs(path, doc)
    feats = _features(path, doc)
    rows: list[dict[str, Any]] = []
    raw = RawLayer(str(path), rows)
    guard = PropertyGuard(str(path))
    for i, feat in enumerate(feats):
        props = feat.get("properties") if isinstance(feat, dict) else None
        props = dict(props) if isinstance(props, dict) else {}
        if "id" not in props and isinstance(feat, dict) and feat.get("id") is not None:
            props["id"] = feat["id"]  # RFC 7946 allows a top-level feature id
        rows.append(props)
        raw.problems.extend(guard.check(i, props))
        geom = feat.get("geometry") if isinstance(feat, dict) else None
        g, problem = _feature_geometry(geom, check=crs_name is None)
        raw.geoms.append(g)
        if problem:
            raw.problems.append(Problem(str(path), problem, feature_id(props), i, "geometry"))
    if crs_name is not None:
        _reproject_raw(raw, crs_name)
    return raw


# --- the fast GeoJSON reader ------------------------------------------------------------------
# orjson parses, and the checks of PropertyGuard, value_problem and _coords_problem run per
# column; a Problem is built only for the rows a column test picks out, by the same functions
# the careful reader calls, so the lines are the same. What orjson refuses (NaN and Infinity,
# numbers that overflow a float, lone surrogates, bad UTF-8, a second BOM) and whatever this
# reader does not handle (integers longer than 64 bits, which orjson rounds to floats; nesting
# past MAX_JSON_DEPTH; a single Feature; a legacy crs to reproject; too many property names)
# goes to the careful reader, which explains it.

_BOM = b"\xef\xbb\xbf"
_LONG_DIGITS = 19  # an integer written with this many digits may not fit 64 bits
_SCAN_CHUNK = 1 << 22
_NESTING = np.zeros(256, dtype=np.int8)
_NESTING[[ord("["), ord("{")]] = 1
_NESTING[[ord("]"), ord("}")]] = -1


def _real_quotes(data: Any, arr: np.ndarray, start: int) -> np.ndarray:
    """Where the quotes of ``arr[start:start + chunk]`` open or close a string of valid JSON.

    In valid JSON a backslash occurs only inside strings, and a quote there is escaped by an
    odd run of backslashes; every other quote opens or closes a string.
    """
    part = arr[start : start + _SCAN_CHUNK]
    quote: np.ndarray = part == ord('"')
    before = np.empty_like(part)
    before[0] = arr[start - 1] if start else 0
    before[1:] = part[:-1]
    for k in np.flatnonzero(quote & (before == ord("\\"))).tolist():
        j = start + k - 1
        while j >= 0 and data[j] == ord("\\"):
            j -= 1
        quote[k] = (start + k - 1 - j) % 2 == 0
    return quote


def _long_runs(digits: np.ndarray) -> np.ndarray:
    """Where a run of :data:`_LONG_DIGITS` true values of ``digits`` starts.

    Each step keeps the places where a run of twice (or a few more) the length starts, so
    five boolean ANDs answer without counting.
    """
    run = digits
    for step in (1, 2, 4, 8, _LONG_DIGITS - 16):  # runs of 2, 4, 8, 16, 19
        run = run[:-step] & run[step:]
    return run


def _brackets(part: np.ndarray) -> np.ndarray:
    """Where ``part`` holds ``[``, ``]``, ``{`` or ``}`` (a table lookup per byte is slower).

    Clearing bit 5 maps ``{`` and ``}`` onto ``[`` and ``]``, and no other byte onto them.
    """
    folded = part & 0xDF
    out: np.ndarray = (folded == ord("[")) | (folded == ord("]"))
    return out


@dataclass
class Scan:
    """What one pass over a JSON text finds (see :func:`scan_json`).

    ``deepest`` and ``long_number`` as :func:`scan_json` gives them; ``opens`` and ``closes``
    are where arrays that are members of the top-level object open and close (depth 2), and
    ``starts`` where objects directly inside such an array begin (depth 3).
    """

    deepest: int = 0
    long_number: bool = False
    opens: list[int] = field(default_factory=list)
    closes: list[int] = field(default_factory=list)
    starts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


def scan(data: Any) -> Scan:
    """One pass over a JSON text: nesting, long numbers, and the places :class:`Scan` lists.

    The pass runs in chunks with numpy, so it costs little time and memory: only the brackets
    and the starts of long digit runs are asked whether they lie in a string (an odd count of
    real quotes before them). Text that is not valid JSON gets meaningless answers.
    """
    arr = np.frombuffer(data, dtype=np.uint8)
    out = Scan()
    depth = 0
    before = 0  # real quotes before the chunk, modulo 2
    starts = []
    for start in range(0, arr.size, _SCAN_CHUNK):
        part = arr[start : start + _SCAN_CHUNK]
        quotes = np.flatnonzero(_real_quotes(data, arr, start))
        brackets = np.flatnonzero(_brackets(part))
        outside = brackets[(np.searchsorted(quotes, brackets) + before) % 2 == 0]
        byte = part[outside]
        running = np.cumsum(_NESTING[byte], dtype=np.int64) + depth
        if len(running):
            out.deepest, depth = max(out.deepest, int(running.max())), int(running[-1])
        outside += start
        starts.append(outside[(running == 3) & (byte == ord("{"))])
        out.opens += outside[(running == 2) & (byte == ord("["))].tolist()
        out.closes += outside[(running == 1) & (byte == ord("]"))].tolist()
        if not out.long_number:  # a run may begin in the chunk before: look back far enough
            lead = min(start, _LONG_DIGITS - 1)
            window = arr[start - lead : start + len(part)]
            runs = np.flatnonzero(_long_runs(np.subtract(window, ord("0"), dtype=np.uint8) < 10))
            # a run holds no quote: where it enters this chunk tells whether it is in a string
            at = np.maximum(runs - lead, 0)
            out.long_number = bool(((np.searchsorted(quotes, at) + before) % 2 == 0).any())
        before = (before + len(quotes)) % 2
    if starts:
        out.starts = np.concatenate(starts)
    return out


def scan_json(data: Any) -> tuple[int, bool]:
    """The deepest nesting of a *valid* JSON text, and whether it holds a long number.

    A long number is a run of :data:`_LONG_DIGITS` or more digits outside strings: it may be an
    integer beyond 64 bits, which orjson would turn into a float. Text that is not valid JSON
    gets meaningless answers: scan only what a strict parser accepted.

    >>> scan_json(b'{"a": [[1, "]]]"]], "b": 12345678901234567890}')
    (3, True)
    >>> scan_json(b'{"a": "12345678901234567890"}')
    (1, False)
    """
    found = scan(data)
    return found.deepest, found.long_number


_FEATURES_KEY = re.compile(rb'"features"\s*:\s*$')
_FEATURE_CHUNK = 2_000  # features parsed at once: their dicts live only while one chunk is read
# (a chunk small enough to stay in the CPU caches while its columns are made: 100k points
# read in 0.75 s of CPU at 2,000, 1.17 s at 20,000)


def _feature_array(data: Any, found: Scan) -> tuple[int, int, np.ndarray] | None:
    """Where the top-level ``"features"`` array opens and closes, and where its objects start.

    None unless exactly one such array is found.
    A wrong answer (the scan of text that is not valid JSON) only cuts the text where a strict
    parser then refuses a piece, and the careful reader takes over.
    """
    keyed = [at for at in found.opens
             if _FEATURES_KEY.search(bytes(data[max(0, at - 64) : at]))]  # fmt: skip
    if len(keyed) != 1:
        return None
    opened = keyed[0]
    after = bisect.bisect_right(found.closes, opened)
    if after == len(found.closes):
        return None
    closed = found.closes[after]
    every = found.starts
    return opened, closed, every[(every > opened) & (every < closed)]


def _strict(text: Any) -> Any:
    """JSON text as orjson reads it, None when it is not strict JSON."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def _fast_props(feats: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each feature's properties, with a top-level ``id`` added as the careful reader does."""
    n = len(feats)
    props: list[Any] = list(map(dict.get, feats, itertools.repeat("properties", n)))
    if set(map(type, props)) != {dict}:
        props = [p if type(p) is dict else {} for p in props]
    tops = list(map(dict.get, feats, itertools.repeat("id", n)))
    if tops.count(None) == n:  # the usual chunk: no feature has a top-level id
        return props
    for i in [i for i, v in enumerate(tops) if v is not None]:
        if "id" not in props[i]:
            props[i] = {**props[i], "id": tops[i]}
    return props


_STR, _INT, _FLOAT, _PLAIN, _LIST, _OTHER = range(6)
_KIND_OF_TYPE = {str: _STR, int: _INT, float: _FLOAT, bool: _PLAIN, type(None): _PLAIN,
                 Missing: _PLAIN, list: _LIST}  # fmt: skip


def _kinds(values: np.ndarray) -> np.ndarray:
    """The kind of every cell by its exact type: text, int, float, plain, list or other."""
    types = set(map(type, values))  # a column mostly holds one type: one kind for all
    if len(types) == 1:
        return np.full(len(values), _KIND_OF_TYPE.get(types.pop(), _OTHER), dtype=np.int8)
    kinds = map(_KIND_OF_TYPE.get, map(type, values), itertools.repeat(_OTHER))
    return np.fromiter(kinds, dtype=np.int8, count=len(values))


def _text_candidates(values: np.ndarray) -> np.ndarray:
    """Texts that may break a limit: too long, or holding a lone surrogate."""
    n = len(values)
    out = np.zeros(n, dtype=bool)
    if n and max(map(len, values)) > MAX_TEXT_CHARS:
        out |= np.fromiter(map(len, values), dtype=np.int64, count=n) > MAX_TEXT_CHARS
    # orjson refuses lone surrogates; one search over the joined texts (none at all when they
    # are ASCII, which Python knows without looking) keeps that promise cheaply.
    if not all(map(str.isascii, values)) and _SURROGATE.search("".join(values)):
        out |= np.fromiter(map(bool, map(_SURROGATE.search, values)), dtype=bool, count=n)
    return out


def value_candidates(values: np.ndarray) -> np.ndarray:
    """Cells :func:`value_problem` might refuse; every cell it refuses is among them.

    Column tests pick them (long or broken texts, non-finite numbers, lists holding such an
    item or a nested list or object, objects, unknown types); only these are walked one by one.
    """
    if pd.api.types.infer_dtype(values, skipna=False) == "string":  # one pass in C
        return _text_candidates(values)
    kind = _kinds(values)
    out: np.ndarray = kind == _OTHER
    at = np.flatnonzero(kind == _STR)
    out[at] = _text_candidates(values[at])
    at = np.flatnonzero(kind == _FLOAT)
    out[at] = ~np.isfinite(values[at].astype(float))
    at = np.flatnonzero(kind == _LIST)
    if not len(at):
        return out
    sizes = np.fromiter(map(len, values[at]), dtype=np.int64, count=len(at))
    items = object_array(itertools.chain.from_iterable(values[at]))
    bad = value_candidates(items) | (_kinds(items) == _LIST)
    out[at] = False
    out[at[np.repeat(np.arange(len(at)), sizes)[bad]]] = True
    return out


@dataclass
class _Found:
    """Problems found by column, put back in the careful reader's order when done."""

    path: str
    props: Sequence[dict[str, Any]]
    keyed: list[tuple[int, int, Problem]] = field(default_factory=list)
    offset: int = 0  # the index in the file of props[0] (the reader works a chunk at a time)

    def add(self, i: int, name: str | None, message: str, field_: str) -> None:
        """A problem of feature ``i`` at property ``name`` (None: the geometry, after them)."""
        p = self.props[i]
        at = len(p) if name is None else list(p).index(name)
        k = i + self.offset
        self.keyed.append((k, at, Problem(self.path, message, feature_id(p), k, field_)))

    def problems(self) -> list[Problem]:
        """Every problem, by feature, then as the feature lists its properties, then geometry."""
        return [p for _, _, p in sorted(self.keyed, key=lambda k: (k[0], k[1]))]


def _column_problems(
    found: _Found,
    name: str,
    values: np.ndarray,
    share: Interner | None = None,
    fresh: list[str] | None = None,
) -> None:
    """PropertyGuard's lines for one property name, over every feature at once.

    With ``share``, equal texts of the column become one object first (:class:`Interner`),
    and a column of texts (or of lists of texts) whose new distinct texts are all fine needs
    no look at its cells: each equals a text judged now or in an earlier chunk. ``fresh``:
    those new texts, when ``share`` has shared the column already (:meth:`Interner.texts`).
    """
    if fresh is None:
        if why := text_problem(name, MAX_NAME_CHARS):
            for i in np.flatnonzero(values != MISSING).tolist():
                found.add(i, name, f"property name: {why}", _short(name))
            return
        fresh = None if share is None else share(name, values)
    if fresh is not None and not _text_candidates(object_array(fresh)).any():
        return
    candidates = np.flatnonzero(value_candidates(values))
    if share is not None and len(candidates):
        # A shared text is one no cell was picked out for: later chunks are looked at in full.
        share.stop(name)
    for i in candidates.tolist():
        if why := value_problem(values[i]):
            found.add(i, name, why, name)


INTERN_LIMIT = 1 << 16  # distinct texts one column keeps for sharing


class Interner:
    """Equal texts of a column made one object, for columns that repeat their values.

    orjson makes a new string for every value it reads: a million features whose ``status``
    takes five values hold a million strings of about 60 bytes. Sharing one object per
    distinct text saves that memory, and every later pass over the column (hashing, copying,
    comparing) touches five objects instead of a million. A column is given up (its values
    kept as read) once more than half of its texts so far were distinct, or past
    :data:`INTERN_LIMIT` of them, so a column of names or ids costs only its first chunk.
    Only exact ``str`` cells, and the items of lists holding nothing but texts, are shared
    (a dict would take ``1``, ``1.0`` and ``True`` for one another); such a list is made
    anew with the shared items. The values stay equal, so nothing but memory and speed can
    tell.

    >>> share = Interner()
    >>> a = object_array(["mine", "".join(["mi", "ne"]), None])
    >>> share("kind", a), a.tolist(), a[0] is a[1]
    (None, ['mine', 'mine', None], True)
    >>> share("kind", object_array(["field", "mine"]))
    ['field']
    """

    def __init__(self) -> None:
        self.canon: dict[str, dict[str, str] | None] = {}
        self.lists: dict[str, dict[tuple[str, ...], tuple[str, ...]]] = {}
        self.seen: dict[str, int] = {}

    def stop(self, name: str) -> None:
        """Share no more texts of the column ``name``."""
        self.canon[name] = None
        self.lists.pop(name, None)

    def __call__(self, name: str, values: np.ndarray) -> list[str] | None:
        """Share the equal texts of ``values`` in place.

        Returns the texts met for the first time when every cell is a text, or every cell a
        list of texts, and all were shared; None otherwise.
        """
        canon = self.canon.setdefault(name, {})
        if canon is None:
            return None
        known = len(canon)
        if pd.api.types.infer_dtype(values, skipna=False) == "string":  # one pass in C
            values[:] = object_array(list(map(canon.setdefault, values, values)))
            whole = True
        else:
            kind = _kinds(values)
            at = np.flatnonzero(kind == _STR)
            if len(at):
                cells = values[at]
                values[at] = object_array(list(map(canon.setdefault, cells, cells)))
            lists = np.flatnonzero(kind == _LIST)
            shared = self._share_lists(name, canon, values, lists)
            whole = shared and len(lists) == len(values)
        fresh = self._counted(name, canon, known, len(values))
        return fresh if whole else None

    def texts(self, name: str, cells: Sequence[Any]) -> tuple[np.ndarray, list[str]] | None:
        """The cells as an array, equal texts shared, when every cell is a text; else None.

        Also the texts met for the first time. The same as calling the interner on
        ``object_array(cells)``, without making the array of the cells as read first; None
        (nothing done) when the column is no longer shared or a cell is not a ``str``.
        """
        canon = self.canon.setdefault(name, {})
        if canon is None or set(map(type, cells)) != {str}:
            return None
        known = len(canon)
        values = object_array(list(map(canon.setdefault, cells, cells)))
        return values, self._counted(name, canon, known, len(cells))

    def _counted(self, name: str, canon: dict[str, str], known: int, n: int) -> list[str]:
        """The texts added to ``canon`` since it held ``known`` of them.

        Counts ``n`` more cells of the column and gives it up when they are mostly distinct.
        """
        seen = self.seen[name] = self.seen.get(name, 0) + n
        fresh = list(itertools.islice(canon, known, None))
        distinct = len(canon) + len(self.lists.get(name, ()))
        if distinct > INTERN_LIMIT or 2 * distinct > max(seen, 512):
            self.stop(name)  # mostly distinct: sharing would save little
        return fresh

    def _share_lists(
        self, name: str, canon: dict[str, str], values: np.ndarray, at: np.ndarray
    ) -> bool:
        """Make the lists at ``at`` anew with shared items when every item is a text.

        Each distinct list (as a tuple) is looked at once; False when one holds anything
        but texts (then no list of the chunk is changed).
        """
        if not len(at):
            return False
        made = self.lists.setdefault(name, {})
        tuples = list(map(tuple, values if len(at) == len(values) else values[at]))
        try:
            shared: list[Any] = list(map(made.get, tuples))  # lists met in earlier chunks
        except TypeError:  # a list holding a list or an object
            return False
        if None in shared:
            for t in dict.fromkeys(t for t, s in zip(tuples, shared, strict=True) if s is None):
                if not all(type(x) is str for x in t):
                    return False
                made[t] = tuple(map(canon.setdefault, t, t))
            shared = list(map(made.__getitem__, tuples))
        values[at] = object_array(list(map(list, shared)))
        return True


def _plain_points(geoms: list[Any]) -> np.ndarray | None:
    """The (n, 2) coordinates when every geometry is a Point of two JSON numbers, else None.

    The usual chunk: a few passes in C over all of it instead of a test per feature.
    """
    n = len(geoms)
    if not n or set(map(type, geoms)) != {dict}:
        return None
    coords: list[Any] = list(map(dict.get, geoms, itertools.repeat("coordinates", n)))
    if (
        list(map(dict.get, geoms, itertools.repeat("type", n))).count("Point") != n
        or set(map(type, coords)) != {list}
        or set(map(len, coords)) != {2}
    ):
        return None
    flat = list(itertools.chain.from_iterable(coords))
    if not set(map(type, flat)) <= {float, int}:  # bool, None, text: looked at one by one
        return None
    return np.array(flat, dtype=float).reshape(-1, 2)


def _simple_points(geoms: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Rows holding a Point of two JSON numbers, and those numbers as an (n, 2) float array."""
    xy = _plain_points(geoms)
    if xy is not None:
        return np.arange(len(geoms), dtype=np.int64), xy
    rows = [
        i
        for i, g in enumerate(geoms)
        if type(g) is dict
        and g.get("type") == "Point"
        and type(c := g.get("coordinates")) is list
        and len(c) == 2
    ]
    flat = object_array(itertools.chain.from_iterable(geoms[i]["coordinates"] for i in rows))
    kind = _kinds(flat)
    numeric = ((kind == _FLOAT) | (kind == _INT)).reshape(-1, 2).all(axis=1)
    xy = flat.reshape(-1, 2)[numeric].astype(float)
    return np.asarray(rows, dtype=np.int64)[numeric], xy.reshape(-1, 2)


def _fast_geometries(found: _Found, geoms: list[Any]) -> list[Any]:
    """Shapely geometries: plain points built at once, the others one by one."""
    rows, xy = _simple_points(geoms)
    good = np.isfinite(xy).all(axis=1) & (np.abs(xy[:, 0]) <= 180) & (np.abs(xy[:, 1]) <= 90)
    out = np.full(len(geoms), None, dtype=object)
    out[rows[good]] = shapely.points(xy[good])
    rest = np.ones(len(geoms), dtype=bool)
    rest[rows[good]] = False
    for i in np.flatnonzero(rest).tolist():
        out[i], why = _feature_geometry(geoms[i])
        if why:
            found.add(i, None, why, "geometry")
    return out.tolist()


_JSON_SPACE = b" \t\n\r"  # the white space JSON allows between values (not \v or \f)
_SENTINEL = b'"\\u0000features"'  # stands for the features array while the rest is parsed


def _feature_chunks(path: Path, data: bytes) -> tuple[dict[str, Any], Iterator[Any]] | None:
    """The document without its features, and the features a chunk at a time.

    Each chunk is the list of its features, None where a piece is not strict JSON; the
    whole is None when the careful reader must read the file.
    Parsing a million features at once holds every one of their dicts, and orjson's own tree
    of the document beside them (about 3 GB for 350 MB of GeoJSON); a chunk at a time, only
    the columns stay. Each piece is parsed strictly, and the pieces put back together are the
    file: the whole is valid JSON exactly when every piece is.
    """
    _check_not_binary(path, data)
    body = memoryview(data)[len(_BOM) :] if data.startswith(_BOM) else memoryview(data)
    found = scan(body)
    # meaningless answers for invalid JSON, which goes to the careful reader all the same
    if found.deepest > MAX_JSON_DEPTH or found.long_number:
        return None
    where = _feature_array(body, found)
    if where is None:
        return None
    opened, closed, starts = where
    doc = _strict(bytes(body[:opened]) + _SENTINEL + bytes(body[closed + 1 :]))
    if type(doc) is not dict or doc.get("features") != "\x00features":
        return None
    if bytes(body[opened + 1 : starts[0] if len(starts) else closed]).strip():
        return None  # something other than an object before the first feature

    def pieces() -> Iterator[Any]:
        cuts = [*starts[::_FEATURE_CHUNK].tolist(), closed]
        for a, b in itertools.pairwise(cuts):
            end = b
            while end > a and body[end - 1] in _JSON_SPACE:
                end -= 1
            if b != closed:  # a piece ends with the comma before the next feature
                if end == a or body[end - 1] != ord(","):
                    yield None
                    return
                end -= 1
            yield _strict(b"".join((b"[", body[a:end], b"]")))  # one copy of the piece

    return doc, pieces()


def _chunk_columns(
    props: list[dict[str, Any]], share: Interner
) -> tuple[dict[str, np.ndarray], dict[str, list[str]]]:
    """:func:`property_columns` of a chunk, by :func:`property_names` in their order.

    The usual chunk, where every feature has the first one's names and no other, is told
    by one lookup of those names and one count per feature; its columns of texts are shared
    as they are made (:meth:`Interner.texts`), and the texts each met first are given too.
    """
    first = list(props[0]) if props else []
    if len(first) > 1:
        try:
            rows = list(map(operator.itemgetter(*first), props))
        except KeyError:
            pass
        else:
            if set(map(len, props)) == {len(first)}:  # the same names in every feature
                columns, fresh = {}, {}
                for name, cells in zip(first, zip(*rows, strict=True), strict=True):
                    texts = None if text_problem(name, MAX_NAME_CHARS) else share.texts(name, cells)
                    if texts is None:
                        columns[name] = object_array(cells)
                    else:
                        columns[name], fresh[name] = texts
                return columns, fresh
    return property_columns(props, property_names(props)), {}


def _read_geojson_fast(path: Path, data: bytes) -> RawLayer | None:
    """A FeatureCollection read with orjson and checked per column; None for the careful reader.

    The result equals :func:`_read_geojson_careful`'s: the same properties, geometries and
    problem lines in the same order. Features are parsed a chunk at a time
    (:func:`_feature_chunks`) and kept only as columns (:class:`ColumnRows`).
    """
    parsed = _feature_chunks(path, data)
    if parsed is None:
        return None
    doc, pieces = parsed
    if doc.get("type") != "FeatureCollection":
        return None
    if _legacy_crs(path, doc) is not None:  # reprojected by the careful reader
        return None
    found = _Found(str(path), [])
    names: dict[str, None] = {}
    chunks: list[tuple[int, dict[str, np.ndarray]]] = []
    geoms: list[Any] = []
    share = Interner()
    for feats in pieces:
        if feats is None or set(map(type, feats)) - {dict}:
            return None
        props = _fast_props(feats)
        columns, fresh = _chunk_columns(props, share)
        here = list(columns)
        names |= dict.fromkeys(here)
        if len(names) > MAX_COLUMNS:  # the careful reader names the feature past the cap
            return None
        found.props, found.offset = props, len(geoms)
        for name, values in columns.items():
            _column_problems(found, name, values, share, fresh.get(name))
        chunks.append((len(feats), columns))
        shapes = list(map(dict.get, feats, itertools.repeat("geometry", len(feats))))
        geoms += _fast_geometries(found, shapes)
    columns = {name: _joined(name, chunks) for name in names}
    return RawLayer(str(path), ColumnRows(columns, len(geoms)), geoms, found.problems(), columns)


def _joined(name: str, chunks: list[tuple[int, dict[str, np.ndarray]]]) -> np.ndarray:
    """One property's column over every chunk (:data:`MISSING` in chunks without it)."""
    parts = [cols.get(name, np.full(n, MISSING, dtype=object)) for n, cols in chunks]
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _reproject_raw(raw: RawLayer, crs: Any) -> None:
    from pyproj.exceptions import CRSError, ProjError

    try:
        s = gpd.GeoSeries(raw.geoms, crs=crs).to_crs(4326)
    except (CRSError, ProjError) as e:
        msg = (
            f"{raw.path}: crs: cannot reproject from '{_short(str(crs))}' to WGS84 ({e}); "
            "reproject the file to WGS84 and drop the 'crs' member"
        )
        raise UnreadableError(msg) from None
    raw.geoms = [None if g is None or g.is_empty else g for g in s]
    for i, g in enumerate(raw.geoms):
        if g is None:
            continue
        xy = shapely.get_coordinates(g)
        problem = _range_problem(xy[:, 0], xy[:, 1])
        if problem:
            raw.problems.append(Problem(raw.path, problem, feature_id(raw.props[i]), i, "geometry"))
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

    text = _decode_text(path, data)
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, [])
        rows = list(reader)
    except csv.Error as e:
        msg = f"{path}: CSV line {reader.line_num}: {e}; fix the row or shorten the field"
        raise UnreadableError(msg) from None
    if len(header) > MAX_COLUMNS:
        msg = (
            f"{path}: CSV header has {len(header)} columns, more than the {MAX_COLUMNS} a "
            "layer may have; keep the columns the map needs"
        )
        raise UnreadableError(msg)
    seen: dict[str, str] = {}
    for c in header:
        key = c.lower().strip()
        if key in seen and c:
            msg = (
                f"{path}: {_short(c)}: CSV header names the column '{_short(seen[key])}' twice; "
                "rename or drop one of them"
            )
            raise UnreadableError(msg)
        seen[key] = c
    rows = [r for r in rows if r]  # csv.DictReader skipped blank lines too
    if not rows:
        msg = f"{path}: CSV has a header but no rows; add at least one feature"
        raise UnreadableError(msg)
    cols = {c.lower().strip(): c for c in header if c}
    lon = next((cols[n] for n in LON_NAMES if n in cols), None)
    lat = next((cols[n] for n in LAT_NAMES if n in cols), None)
    if lon is None or lat is None:
        msg = (
            f"{path}: CSV needs longitude and latitude columns (named one of "
            f"{', '.join(LON_NAMES)} and {', '.join(LAT_NAMES)}); "
            f"found {_short(', '.join(cols), 200)}"
        )
        raise UnreadableError(msg)
    ilon, ilat = header.index(lon), header.index(lat)
    records: list[dict[str, Any]] = []
    raw = RawLayer(str(path), records)
    guard = PropertyGuard(str(path))
    for i, cells in enumerate(rows):
        props: dict[str, Any] = {
            k: (v if v != "" else None)
            for j, (k, v) in enumerate(zip(header, cells, strict=False))
            if j not in (ilon, ilat) and k
        }
        records.append(props)
        raw.geoms.append(None)
        raw.problems.extend(guard.check(i, props))
        if len(cells) != len(header):
            raw.problems.append(
                Problem(str(path), f"row has {len(cells)} cells, the header {len(header)}; "
                        "quote values that hold commas", feature_id(props), i, "row")
            )  # fmt: skip
            continue
        x, y = strict_float(cells[ilon]), strict_float(cells[ilat])
        if x is None or y is None:
            raw.problems.append(
                Problem(str(path), f"'{_short(cells[ilon])}', '{_short(cells[ilat])}' is not a "
                        "number pair; write decimal degrees such as 76.94", feature_id(props), i,
                        f"{lon}/{lat}")
            )  # fmt: skip
            continue
        problem = _coords_problem([x, y])
        if problem:
            raw.problems.append(Problem(str(path), problem, feature_id(props), i, "geometry"))
            continue
        raw.geoms[-1] = shapely.Point(x, y)
    return raw


def glob_escape(text: str) -> str:
    """Text matched literally in a glob pattern."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def _ogr_path(path: Path) -> str:
    """The path GDAL should open: zips through /vsizip/ whatever the case of the suffix."""
    if path.suffix.lower() == ".zip":
        return f"/vsizip/{path}"
    return str(path)


def _ogr_unreadable(path: Path, e: BaseException) -> UnreadableError:
    first = str(e).splitlines()[0] if str(e) else type(e).__name__
    msg = (
        f"{path}: cannot read as a GIS file ({_short(first, 200)}); the file may be truncated "
        "or of another format: use GeoJSON, GeoPackage, Shapefile, FlatGeobuf or CSV"
    )
    return UnreadableError(msg)


def _ogr_layer(path: Path, src: str, layer: str | None) -> str | None:
    """The layer to read from a file that may hold several; refuse a silent choice."""
    import pyogrio

    try:
        names = [str(n) for n in pyogrio.list_layers(src)[:, 0]]
    except Exception as e:  # any failure of GDAL on a stranger's file
        raise _ogr_unreadable(path, e) from None
    listed = ", ".join(_short(n) for n in names[:20]) + (" ..." if len(names) > 20 else "")
    if layer is not None:
        if layer not in names:
            msg = f"{path}: no layer named '{_short(layer)}' in the file; use one of {listed}"
            raise UnreadableError(msg)
        return layer
    if len(names) > 1:
        msg = (
            f"{path}: holds {len(names)} layers ({listed}); choose one with "
            "layer=NAME (corridor: --sublayer NAME) or split the file"
        )
        raise UnreadableError(msg)
    return names[0] if names else None


def _read_ogr(path: Path, layer: str | None = None) -> RawLayer:
    import pyogrio

    _check_regular(path)
    if path.suffix.lower() == ".shp":  # GDAL opens the side files too: none may be a FIFO
        for side in path.parent.glob(f"{glob_escape(path.stem)}.*"):
            if side.suffix.lower() in (".dbf", ".shx", ".prj", ".cpg", ".qix", ".sbn"):
                _check_regular(side)
    src = _ogr_path(path)
    chosen = _ogr_layer(path, src, layer)
    try:
        info = pyogrio.read_info(src, layer=chosen)
    except Exception as e:  # any failure of GDAL on a stranger's file
        raise _ogr_unreadable(path, e) from None
    if len(info["fields"]) > MAX_COLUMNS:
        msg = (
            f"{path}: {len(info['fields'])} property columns, more than the {MAX_COLUMNS} a "
            "layer may have; keep the columns the map needs"
        )
        raise UnreadableError(msg)
    try:
        gdf = pyogrio.read_dataframe(src, layer=chosen)
    except Exception as e:  # a truncated file fails in many ways inside GDAL
        raise _ogr_unreadable(path, e) from None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf:
        msg = f"{path}: file has no geometry column; export it with geometries"
        raise UnreadableError(msg)
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        try:
            gdf = gdf.to_crs(4326)
        except Exception as e:  # pyproj raises several types for impossible transforms
            msg = f"{path}: cannot reproject from {_short(gdf.crs.to_string())} to WGS84 ({e})"
            raise UnreadableError(msg) from None
    rows: list[dict[str, Any]] = []
    raw = RawLayer(str(path), rows)
    guard = PropertyGuard(str(path))
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    # Shapefiles cut field names to 10 characters: give the schema's names back.
    full = {f.name[:10]: f.name for k in SCHEMA.values() for f in k.fields if len(f.name) > 10}
    names = {c: full.get(c, c) if c not in full.values() else c for c in cols}
    for i, g in enumerate(gdf.geometry):
        props = {names[c]: _clean_value(gdf[c].iat[i]) for c in cols}
        rows.append(props)
        raw.problems.extend(guard.check(i, props))
        if g is None or g.is_empty:
            raw.geoms.append(g)
            continue
        xy = shapely.get_coordinates(g)
        problem = _coords_problem(xy.tolist()) if len(xy) else None
        if problem:
            raw.problems.append(Problem(str(path), problem, feature_id(props), i, "geometry"))
            raw.geoms.append(None)
        else:
            raw.geoms.append(g)
    return raw


def read_raw(path: str | Path, *, layer: str | None = None) -> RawLayer:
    """Read any supported file into raw records; raise :class:`UnreadableError` if impossible.

    ``layer`` names the layer to read from a GeoPackage or zip that holds several; a file
    with more than one layer is refused without it. Suffixes are matched in any case.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if layer is not None and suffix in TEXT_SUFFIXES:
        msg = f"{p}: layer='{_short(layer)}' given, but a {suffix} file holds one layer; omit it"
        raise UnreadableError(msg)
    if suffix in (".geojson", ".json"):
        raw = _read_geojson(p, _check_bytes(p))
    elif suffix == ".csv":
        raw = _read_csv(p, _check_bytes(p))
    else:
        raw = _read_ogr(p, layer)
    if not raw.props:
        msg = f"{p}: the collection has no features; add at least one"
        raise UnreadableError(msg)
    # Only lines and polygons can cross 180 degrees: points are not visited one by one.
    lines_or_polygons = np.isin(shapely.get_type_id(object_array(raw.geoms)), (1, 3, 5, 6))
    for i in np.flatnonzero(lines_or_polygons).tolist():
        raw.geoms[i] = split_antimeridian(raw.geoms[i])
    return raw


def _split_line(xy: np.ndarray) -> list[list[tuple[float, float]]]:
    """Cut a vertex list wherever one step jumps more than 180 degrees of longitude."""
    parts: list[list[tuple[float, float]]] = []
    current = [(float(xy[0, 0]), float(xy[0, 1]))]
    for (x0, y0), (x1, y1) in zip(xy[:-1, :2].tolist(), xy[1:, :2].tolist(), strict=True):
        if abs(x1 - x0) > 180:
            edge = 180.0 if x1 < x0 else -180.0
            x1u = x1 + 360 if x1 < x0 else x1 - 360
            yc = y0 + (edge - x0) / (x1u - x0) * (y1 - y0)
            current.append((edge, yc))
            parts.append(current)
            current = [(-edge, yc)]
        current.append((x1, y1))
    parts.append(current)
    # A vertex lying on the antimeridian itself leaves a repeated point: drop it and any stub.
    cleaned = [[p for j, p in enumerate(part) if j == 0 or p != part[j - 1]] for part in parts]
    return [part for part in cleaned if len(part) >= 2]


def _unwrap(xy: np.ndarray, near: float) -> np.ndarray:
    """Longitudes made continuous (steps under 180 degrees), the first one within 180 of near."""
    x = np.asarray(xy[:, 0], dtype=float)
    steps = np.diff(x)
    shift = np.concatenate([[0.0], np.cumsum(-360.0 * np.round(steps / 360.0))])
    x = x + shift
    x += 360.0 * np.round((near - x[0]) / 360.0)
    return np.column_stack([x, xy[:, 1]])


def _split_polygon(poly: shapely.Polygon) -> Any:
    """The polygon cut at 180 degrees, None when it does not cross."""
    ext = shapely.get_coordinates(poly.exterior)
    if not (np.abs(np.diff(ext[:, 0])) > 180).any():
        return None
    shell = _unwrap(ext, float(ext[0, 0]))
    if abs(shell[-1, 0] - shell[0, 0]) > 1e-9:
        return None  # the ring circles a pole: leave it for validation to judge
    holes = [_unwrap(shapely.get_coordinates(r), float(shell[0, 0])) for r in poly.interiors]
    whole = shapely.Polygon(shell, holes)
    pieces = []
    for k in (-1, 0, 1):
        window = shapely.box(-180 + 360 * k, -90, 180 + 360 * k, 90)
        part = shapely.intersection(whole, window)
        if not part.is_empty:
            pieces.extend(
                shapely.get_parts(shapely.transform(part, lambda c, k=k: c - [360.0 * k, 0.0]))
            )
    polys = [p for p in pieces if p.geom_type == "Polygon" and not p.is_empty]
    return shapely.MultiPolygon(polys) if len(polys) > 1 else (polys[0] if polys else poly)


def split_antimeridian(g: Any) -> Any:
    """Lines and polygons that cross 180 degrees, cut there into parts on either side.

    A step of more than 180 degrees of longitude between two vertices is read the short way,
    across the antimeridian (as RFC 7946 asks writers to avoid), so lengths, country
    sequences and maps see an 18 km link as 18 km, not as a line around the world.

    >>> split_antimeridian(shapely.LineString([(179.95, 65), (-179.95, 65)])).geom_type
    'MultiLineString'
    """
    if g is None or g.is_empty:
        return g
    if g.geom_type in ("LineString", "MultiLineString"):
        lines = [shapely.get_coordinates(p) for p in shapely.get_parts(g)]
        if not any((np.abs(np.diff(c[:, 0])) > 180).any() for c in lines):
            return g
        parts = [part for c in lines for part in _split_line(c)]
        return shapely.MultiLineString(parts) if parts else g
    if g.geom_type in ("Polygon", "MultiPolygon"):
        originals = list(shapely.get_parts(g))
        cut = [_split_polygon(p) for p in originals]
        if all(c is None for c in cut):
            return g
        flat = [q for p, c in zip(originals, cut, strict=True)
                for q in shapely.get_parts(p if c is None else c)]  # fmt: skip
        return shapely.MultiPolygon(flat)
    return g


_SPLIT = re.compile(r"\s*[;|,]\s*")


def to_list(value: Any) -> Any:
    """A list property as a list: JSON lists stay, 'a;b' or 'a, b' strings (CSV, Shapefile)."""
    if isinstance(value, str):
        s = value.strip()
        if s.startswith("[") and _json_depth_line(s.encode("utf-8", "surrogatepass")) is None:
            try:
                parsed = json.loads(s, parse_int=_parse_int)
            except json.JSONDecodeError:
                parsed = None
            if isinstance(parsed, list):
                return parsed
        return [x for x in _SPLIT.split(s) if x]
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value
