"""Simplified lines kept in the cache folder, so that a page does not simplify them every time.

Simplifying the traced rail network for drawing (4,399 lines, 152,095 vertices) takes about a
tenth of a second each time a map is built, and its result depends only on the lines, the
tolerance and GEOS. So the result is kept as WKB under a key of exactly those: the sha256 of
the lines' WKB, the tolerance, whether topology is preserved, and the shapely and GEOS versions.
A copy is used only when its key and the sha256 of its content match and it holds one line per
input; otherwise the lines are simplified again and the copy replaced. It is written only when
it reads back as the very geometries simplify gave. WKB is parsed as geometry by GEOS; nothing
in the file is executed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from .columns import ColumnsError, open_copy
from .files import atomic_write_bytes
from .layers import cache_dir

MAGIC = b"CORRIDOR-SIMPLIFIED 1\n"
MAX_HEADER_BYTES = 1 << 24


class DrawnCopyError(ValueError):
    """A copy that is not exactly as written (short, changed, another key)."""


def _key(wkb: list[bytes], tolerance: float, preserve_topology: bool) -> dict[str, Any]:
    h = hashlib.sha256()
    h.update(np.array([len(b) for b in wkb], dtype="<u8").tobytes())
    h.update(b"".join(wkb))
    return {"sha256": h.hexdigest(), "tolerance": repr(float(tolerance)),
            "preserve_topology": bool(preserve_topology), "shapely": shapely.__version__,
            "geos": shapely.geos_version_string}  # fmt: skip


def encode(geoms: np.ndarray, key: dict[str, Any]) -> bytes:
    """A copy's bytes: magic, header length, header (key, lengths, sha256), the WKB blobs."""
    blobs = [bytes(b) for b in shapely.to_wkb(geoms)]
    body = b"".join(blobs)
    head = json.dumps({"key": key, "lengths": [len(b) for b in blobs],
                       "sha256": hashlib.sha256(body).hexdigest()},
                      separators=(",", ":")).encode()  # fmt: skip
    return MAGIC + len(head).to_bytes(8, "little") + head + body


def decode(data: bytes, key: dict[str, Any], count: int) -> np.ndarray:
    """The geometries of a copy made under ``key`` holding ``count`` of them.

    Raises
    ------
    DrawnCopyError
        The copy is not one made under ``key``, or not as it was written.
    """
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 8:
        msg = "not a copy of simplified lines"
        raise DrawnCopyError(msg)
    size = int.from_bytes(data[len(MAGIC) : len(MAGIC) + 8], "little")
    start = len(MAGIC) + 8
    if size > MAX_HEADER_BYTES or len(data) < start + size:
        msg = "the header is short"
        raise DrawnCopyError(msg)
    try:
        head = json.loads(data[start : start + size].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        msg = "the header is not JSON"
        raise DrawnCopyError(msg) from None
    if not isinstance(head, dict) or head.get("key") != key:
        msg = "a copy of other lines"
        raise DrawnCopyError(msg)
    lengths = head.get("lengths")
    body = data[start + size :]
    if (not isinstance(lengths, list) or len(lengths) != count
            or not all(type(n) is int and n > 0 for n in lengths) or sum(lengths) != len(body)
            or hashlib.sha256(body).hexdigest() != head.get("sha256")):  # fmt: skip
        msg = "the content is short or changed"
        raise DrawnCopyError(msg)
    ends = np.cumsum(lengths).tolist()
    blobs = [body[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True)]
    try:
        out = shapely.from_wkb(np.array(blobs, dtype=object))
    except shapely.errors.GEOSException:
        msg = "the content is not WKB"
        raise DrawnCopyError(msg) from None
    return np.asarray(out, dtype=object)


def simplified(
    geoms: Any, tolerance: float, *, preserve_topology: bool = True, name: str
) -> np.ndarray:
    """``shapely.simplify(geoms, tolerance, preserve_topology=...)``, read back when kept.

    ``name`` names the copy in the cache folder (one file per name: a new input replaces it).
    An input with a missing geometry is simplified and not kept.
    """
    arr = np.asarray(geoms, dtype=object)
    wkb = shapely.to_wkb(arr)
    if len(arr) == 0 or any(b is None for b in wkb):
        return np.asarray(shapely.simplify(arr, tolerance, preserve_topology=preserve_topology))
    key = _key([bytes(b) for b in wkb], tolerance, preserve_topology)
    path = cache_dir() / "drawn" / f"{name}.wkb"
    # a regular file only (open_copy): a FIFO would wait for ever
    with contextlib.suppress(OSError, ColumnsError, DrawnCopyError), open_copy(path) as f:
        return decode(f.read(), key, len(arr))
    out = np.asarray(shapely.simplify(arr, tolerance, preserve_topology=preserve_topology))
    _keep(path, out, key)
    return out


def _keep(path: Path, out: np.ndarray, key: dict[str, Any]) -> None:
    want = [bytes(b) for b in shapely.to_wkb(out)]

    def reads_back(tmp: Path) -> None:
        back = decode(tmp.read_bytes(), key, len(out))
        if [bytes(b) for b in shapely.to_wkb(back)] != want:
            msg = "the copy does not read back as written"
            raise DrawnCopyError(msg)

    with contextlib.suppress(OSError, DrawnCopyError):
        atomic_write_bytes(path, encode(out, key), check=reads_back)
