"""The compact columnar copy of a validated layer: one file, read column by column.

The layout is a magic line, the header's length (8 bytes, little-endian) and its sha256 (32
bytes), the header (JSON), then the column blocks. The header names every column with its dtype,
encoding and block (offset, length and sha256 of the bytes). Numbers are raw little-endian numpy
buffers (``np.frombuffer`` of a numeric dtype; nothing is unpickled), text and object columns
are JSON arrays read by orjson (a float NaN in an object column is kept as the list of its
rows, since JSON has no NaN), a text column of few distinct values and an object column of
lists of texts repeated often (commodities) are their distinct values with an int32 code per
row, points are one float64 x, y buffer and other geometries WKB with
offsets. Nothing in the file is executed.

:func:`encode_frame` refuses (:class:`ColumnsError`) what it cannot give back exactly: a dtype
other than numpy numbers, ``str`` and ``object``, a value JSON cannot hold, a missing
geometry, an index other than 0..n-1. :func:`decode_frame` raises :class:`ColumnsError` for
anything that is not as written (short, corrupt, tampered or hostile files); the caller then
reads the layer the careful way.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import shapely

from .collector import collector_paused

MAGIC = b"CORRIDOR-COLUMNS 1\n"
MAX_HEADER_BYTES = 1 << 20  # a header holds names, dtypes and block addresses: small
CRS = "EPSG:4326"
NUMERIC_KINDS = "biuf"  # numpy bool, signed and unsigned integers, floats
ORJSON_OPTS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS
POINT = 0  # shapely's type id of a Point
FEW_VALUES = 4  # a text column with at most a quarter as many distinct values as rows: codes


class ColumnsError(ValueError):
    """The columnar copy cannot be written, or cannot be read as written."""


def _block(out: list[bytes], at: list[int], data: bytes) -> list[Any]:
    out.append(data)
    here = at[0]
    at[0] += len(data)
    return [here, len(data), hashlib.sha256(data).hexdigest()]


def _json_block(values: list[Any]) -> bytes:
    try:
        return orjson.dumps(values, option=ORJSON_OPTS)
    except (TypeError, orjson.JSONEncodeError) as e:
        msg = f"a value JSON cannot hold exactly ({e})"
        raise ColumnsError(msg) from None


def _encode_column(s: pd.Series, out: list[bytes], at: list[int]) -> dict[str, Any]:
    dtype = str(s.dtype)
    entry: dict[str, Any] = {"name": str(s.name), "dtype": dtype}
    if isinstance(s.dtype, np.dtype) and s.dtype.kind in NUMERIC_KINDS:
        arr = s.to_numpy().astype(s.dtype.newbyteorder("<"), copy=False)
        entry.update(enc="numbers", data=_block(out, at, arr.tobytes()))
    elif dtype == "str":
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        if len(uniques) <= len(s) // FEW_VALUES:  # status, country: a few values repeated
            words = [str(u) for u in uniques]
            entry.update(enc="words", words=_block(out, at, _json_block(words)),
                         data=_block(out, at, codes.astype("<i4").tobytes()))  # fmt: skip
        else:
            values = s.to_numpy(dtype=object, na_value=None).tolist()
            entry.update(enc="text", data=_block(out, at, _json_block(values)))
    elif dtype == "object" and (lists := _word_lists(s.to_numpy(dtype=object))) is not None:
        table, codes = lists
        entry.update(enc="lists", lists=_block(out, at, _json_block(table)),
                     data=_block(out, at, codes.astype("<i4").tobytes()))  # fmt: skip
    elif dtype == "object":
        values = s.to_numpy(dtype=object).tolist()
        nan = [i for i, v in enumerate(values) if isinstance(v, float) and math.isnan(v)]
        for i in nan:
            values[i] = None
        entry.update(enc="objects", data=_block(out, at, _json_block(values)),
                     nan=_block(out, at, np.asarray(nan, dtype="<i8").tobytes()))  # fmt: skip
    else:
        msg = f"column '{s.name}' has dtype {dtype}, which the columnar copy does not hold"
        raise ColumnsError(msg)
    return entry


def _word_lists(values: np.ndarray) -> tuple[list[list[str]], np.ndarray] | None:
    """An object column of often repeated lists of texts (commodities) as codes, else None.

    The distinct lists and a code per row (-1 None, -2 NaN); None if the column holds anything
    else, or its lists repeat too little to gain.
    """
    if not len(values):
        return None
    keys: dict[tuple[str, ...], int] = {}
    codes = np.empty(len(values), dtype=np.int64)
    for i, v in enumerate(values.tolist()):
        if type(v) is list and all(type(w) is str for w in v):
            codes[i] = keys.setdefault(tuple(v), len(keys))
        elif v is None:
            codes[i] = -1
        elif type(v) is float and math.isnan(v):
            codes[i] = -2
        else:
            return None
        if len(keys) > len(values) // FEW_VALUES + 1:
            return None
    if len(keys) > len(values) // FEW_VALUES:
        return None
    return [list(k) for k in keys], codes


def _encode_geometry(geoms: np.ndarray, out: list[bytes], at: list[int]) -> dict[str, Any]:
    if shapely.is_missing(geoms).any():
        msg = "a feature has no geometry"
        raise ColumnsError(msg)
    if bool((shapely.get_type_id(geoms) == POINT).all()) and not shapely.has_z(geoms).any():
        xy = shapely.get_coordinates(geoms)
        if len(xy) != len(geoms):  # an empty point has no coordinates
            msg = "an empty point"
            raise ColumnsError(msg)
        return {"enc": "xy", "data": _block(out, at, xy.astype("<f8").tobytes())}
    wkb = shapely.to_wkb(geoms, output_dimension=3)
    ends = np.cumsum([len(b) for b in wkb], dtype="<i8")
    return {"enc": "wkb", "data": _block(out, at, b"".join(wkb)),
            "ends": _block(out, at, ends.tobytes())}  # fmt: skip


def encode_frame(gdf: gpd.GeoDataFrame, key: dict[str, Any]) -> bytes:
    """The columnar copy of ``gdf``, carrying ``key`` (what it is a copy of) in its header.

    Raises
    ------
    ColumnsError
        A column, value, geometry or index the copy cannot give back exactly.

    Examples
    --------
    >>> g = gpd.GeoDataFrame({"id": ["a", None], "n": [1, 2]},
    ...                      geometry=shapely.points([[0, 1], [2, 3]]), crs=CRS)
    >>> back = decode_frame(encode_frame(g, {"v": 1}))
    >>> back["id"].tolist(), back["n"].tolist(), back.geometry.x.tolist()
    (['a', nan], [1, 2], [0.0, 2.0])
    """
    if not isinstance(gdf.index, pd.RangeIndex) or not gdf.index.equals(pd.RangeIndex(len(gdf))):
        msg = "the frame's index is not 0..n-1"
        raise ColumnsError(msg)
    if gdf.crs is None or gdf.crs != CRS:
        msg = f"the frame's CRS is {gdf.crs}, not {CRS}"
        raise ColumnsError(msg)
    out: list[bytes] = []
    at = [0]
    geo_name = gdf.geometry.name
    columns = [_encode_column(gdf[c], out, at) for c in gdf.columns if c != geo_name]
    geometry = {"name": str(geo_name), **_encode_geometry(gdf.geometry.to_numpy(), out, at)}
    header = json.dumps(
        {"key": key, "count": len(gdf), "columns": columns, "geometry": geometry},
        ensure_ascii=False, allow_nan=False, separators=(",", ":"),
    ).encode("utf-8")  # fmt: skip
    lead = MAGIC + len(header).to_bytes(8, "little") + hashlib.sha256(header).digest()
    return lead + header + b"".join(out)


def same_frame(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> bool:
    """Whether two frames hold the same columns, dtypes, values and exact geometries.

    Values of object columns are compared by ``repr``, so 1, 1.0 and True, None and NaN, and
    the order of a dict's keys all count.
    """
    if list(a.columns) != list(b.columns) or len(a) != len(b) or a.crs != b.crs:
        return False
    ga, gb = a.geometry.name, b.geometry.name
    if ga != gb or not bool((shapely.to_wkb(a[ga].values) == shapely.to_wkb(b[gb].values)).all()):
        return False
    try:
        pd.testing.assert_frame_equal(
            pd.DataFrame(a.drop(columns=ga)), pd.DataFrame(b.drop(columns=gb)), check_exact=True
        )
    except AssertionError:
        return False
    return all(
        list(map(repr, a[c].to_numpy())) == list(map(repr, b[c].to_numpy()))
        for c in a.columns
        if c != ga and a[c].dtype == object
    )


# --- reading -----------------------------------------------------------------------------------


def _refuse_constant(name: str) -> None:
    msg = f"non-standard JSON constant {name}"
    raise ColumnsError(msg)


def open_copy(path: Path) -> BinaryIO:
    """``path`` opened for reading if it is a regular file (a FIFO would wait for ever).

    Raises
    ------
    ColumnsError
        Not a regular file.
    OSError
        It cannot be opened.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        msg = "not a regular file"
        raise ColumnsError(msg)
    return os.fdopen(fd, "rb")


def _lead_length() -> int:
    return len(MAGIC) + 8 + 32


def read_header(f: BinaryIO) -> tuple[dict[str, Any], int]:
    """The header of an open columnar copy and where its blocks start.

    Raises
    ------
    ColumnsError
        Not a columnar copy, or a header that is short, too long or not as written.
    """
    lead = f.read(_lead_length())
    if len(lead) != _lead_length() or not lead.startswith(MAGIC):
        msg = "not a columnar copy"
        raise ColumnsError(msg)
    size = int.from_bytes(lead[len(MAGIC) : len(MAGIC) + 8], "little")
    if size > MAX_HEADER_BYTES:
        msg = "header too long"
        raise ColumnsError(msg)
    header = f.read(size)
    if len(header) != size or hashlib.sha256(header).digest() != lead[-32:]:
        msg = "header short or changed"
        raise ColumnsError(msg)
    try:
        doc = json.loads(header.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        msg = "header is not JSON"
        raise ColumnsError(msg) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("count"), int) or doc["count"] < 0:
        msg = "header is malformed"
        raise ColumnsError(msg)
    return doc, _lead_length() + size


class _Blocks:
    """Reads checked blocks of an open copy whose blocks start at ``start``."""

    def __init__(self, f: BinaryIO, start: int, size: int) -> None:
        self.f, self.start, self.size = f, start, size

    def read(self, block: Any) -> bytes:
        if (
            not isinstance(block, list)
            or len(block) != 3
            or not all(isinstance(v, int) and v >= 0 for v in block[:2])
            or not isinstance(block[2], str)
            or self.start + block[0] + block[1] > self.size
        ):
            msg = "a block address is malformed"
            raise ColumnsError(msg)
        self.f.seek(self.start + block[0])
        data = self.f.read(block[1])
        if len(data) != block[1] or hashlib.sha256(data).hexdigest() != block[2]:
            msg = "a block is short or changed"
            raise ColumnsError(msg)
        return data


def _numbers(data: bytes, dtype: str, count: int | None) -> np.ndarray:
    """``count`` numbers of ``dtype`` (any count when None) from little-endian bytes."""
    try:
        dt = np.dtype(dtype)
    except (TypeError, ValueError, SyntaxError):
        msg = f"dtype '{dtype[:40]}' is not a number type"
        raise ColumnsError(msg) from None
    if dt.kind not in NUMERIC_KINDS or dt.hasobject:
        msg = f"dtype '{dtype[:40]}' is not a number type"
        raise ColumnsError(msg)
    le = dt.newbyteorder("<")
    if len(data) % le.itemsize or (count is not None and len(data) != count * le.itemsize):
        msg = "a number block has the wrong length"
        raise ColumnsError(msg)
    return np.frombuffer(data, dtype=le).astype(dt)


def _json_list(data: bytes, count: int | None) -> list[Any]:
    try:
        values = orjson.loads(data)
    except orjson.JSONDecodeError:
        msg = "a text block is not JSON"
        raise ColumnsError(msg) from None
    if not isinstance(values, list) or (count is not None and len(values) != count):
        msg = "a text block has the wrong length"
        raise ColumnsError(msg)
    return values


def _decode_column(entry: Any, blocks: _Blocks, count: int) -> pd.Series:
    if not isinstance(entry, dict):
        msg = "a column entry is malformed"
        raise ColumnsError(msg)
    enc, dtype = entry.get("enc"), entry.get("dtype")
    if enc == "numbers" and isinstance(dtype, str):
        return pd.Series(_numbers(blocks.read(entry.get("data")), dtype, count))
    if enc == "text" and dtype == "str":
        # pandas makes text of any other value, as the validating read would
        return pd.Series(_json_list(blocks.read(entry.get("data")), count), dtype="str")
    if enc == "words" and dtype == "str":
        words = _json_list(blocks.read(entry.get("words")), None)
        codes = _numbers(blocks.read(entry.get("data")), "int32", count)
        if (
            not all(type(w) is str for w in words)
            or (codes >= len(words)).any()
            or (codes < -1).any()
        ):
            msg = "a text column's codes are out of place"
            raise ColumnsError(msg)
        table = np.array([*words, None], dtype=object)  # code -1: missing
        return pd.Series(table[codes], dtype="str")
    if enc == "lists" and dtype == "object":
        return pd.Series(_decode_lists(entry, blocks, count), dtype=object)
    if enc == "objects" and dtype == "object":
        values = _json_list(blocks.read(entry.get("data")), count)
        for i in _numbers(blocks.read(entry.get("nan")), "int64", None).tolist():
            if not 0 <= i < count or values[i] is not None:
                msg = "a NaN row is out of place"
                raise ColumnsError(msg)
            values[i] = math.nan
        arr = np.empty(count, dtype=object)
        arr[:] = values
        return pd.Series(arr, dtype=object)
    msg = f"column encoding '{str(enc)[:40]}' of dtype '{str(dtype)[:40]}' is unknown"
    raise ColumnsError(msg)


def _decode_lists(entry: dict[str, Any], blocks: _Blocks, count: int) -> np.ndarray:
    """The rows of a ``lists`` column: each row its own new list (no row shares one)."""
    table = _json_list(blocks.read(entry.get("lists")), None)
    codes = _numbers(blocks.read(entry.get("data")), "int32", count)
    if (
        not all(type(t) is list and all(type(w) is str for w in t) for t in table)
        or (codes >= len(table)).any()
        or (codes < -2).any()
    ):
        msg = "a list column's codes are out of place"
        raise ColumnsError(msg)
    held = np.empty(len(table) + 2, dtype=object)
    for k, t in enumerate(table):
        held[k] = t
    held[-2], held[-1] = math.nan, None  # codes -2 and -1
    rows = held[np.where(codes >= 0, codes, codes + len(held))]
    has = np.flatnonzero(codes >= 0)
    rows[has] = np.fromiter(map(list.copy, rows[has]), dtype=object, count=len(has))
    return rows


def _decode_geometry(entry: Any, blocks: _Blocks, count: int) -> np.ndarray:
    if not isinstance(entry, dict):
        msg = "the geometry entry is malformed"
        raise ColumnsError(msg)
    if entry.get("enc") == "xy":
        xy = _numbers(blocks.read(entry.get("data")), "float64", 2 * count)
        return np.asarray(shapely.points(xy.reshape(-1, 2)))
    if entry.get("enc") == "wkb":
        data = blocks.read(entry.get("data"))
        ends = _numbers(blocks.read(entry.get("ends")), "int64", count)
        starts = np.concatenate([[0], ends[:-1]]) if count else ends
        if count and (ends[-1] != len(data) or (ends < starts).any() or starts[0] != 0):
            msg = "the geometry offsets are out of place"
            raise ColumnsError(msg)
        wkb = np.array([data[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)],
                       dtype=object)  # fmt: skip
        try:
            geoms = shapely.from_wkb(wkb)
        except shapely.errors.ShapelyError as e:
            msg = f"a geometry is not WKB ({type(e).__name__})"
            raise ColumnsError(msg) from None
        if shapely.is_missing(geoms).any():
            msg = "a geometry is missing"
            raise ColumnsError(msg)
        return np.asarray(geoms)
    msg = "the geometry encoding is unknown"
    raise ColumnsError(msg)


def decode_frame(
    data: bytes | Path,
    columns: Sequence[str] | None = None,
    *,
    header: dict[str, Any] | None = None,
) -> gpd.GeoDataFrame:
    """The frame of a columnar copy (``data``, or the file it is), with only ``columns`` if given.

    Only the blocks of the columns asked for are read and checked. ``header``, when given, is the
    file's header as :func:`read_header` returned it (not read again).

    Raises
    ------
    ColumnsError
        The copy is not as written: short, corrupt, changed, or not what this module writes.
    """
    with open_copy(data) if isinstance(data, Path) else io.BytesIO(data) as f, collector_paused():
        try:
            size = f.seek(0, 2)
            f.seek(0)
            doc, start = read_header(f)
            if header is not None and header != doc:
                msg = "the copy changed while it was read"
                raise ColumnsError(msg)
            return _frame(doc, _Blocks(f, start, size), columns)
        except (MemoryError, OverflowError, RecursionError) as e:
            msg = f"the copy cannot be held ({type(e).__name__})"
            raise ColumnsError(msg) from None


def _frame(doc: dict[str, Any], blocks: _Blocks, columns: Sequence[str] | None) -> gpd.GeoDataFrame:
    count = doc["count"]
    entries, geometry = doc.get("columns"), doc.get("geometry")
    if not isinstance(entries, list) or not isinstance(geometry, dict):
        msg = "header is malformed"
        raise ColumnsError(msg)
    names = [e.get("name") if isinstance(e, dict) else None for e in entries]
    if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        msg = "column names are malformed"
        raise ColumnsError(msg)
    geo_name = geometry.get("name")
    if not isinstance(geo_name, str) or geo_name in names:
        msg = "the geometry name is malformed"
        raise ColumnsError(msg)
    wanted = set(names if columns is None else columns)
    data = {n: _decode_column(e, blocks, count) for n, e in zip(names, entries, strict=True)
            if n in wanted}  # fmt: skip
    geoms = gpd.GeoSeries(_decode_geometry(geometry, blocks, count), crs=CRS, name=geo_name)
    gdf = gpd.GeoDataFrame(data, geometry=geoms) if data else gpd.GeoDataFrame(geometry=geoms)
    if gdf.geometry.name != geo_name:
        gdf = gdf.rename_geometry(geo_name)
    return gdf
