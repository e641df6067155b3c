"""Polylines as rounded coordinate lists: the helpers the derived line layers share.

The rail and pipeline builds node their networks by coordinates rounded to 1e-5 degrees and
write one feature per line of a FeatureCollection; both use these helpers.
"""

from __future__ import annotations

import itertools
import math
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import orjson
import shapely

from ..errors import GeoError
from .files import atomic_write_bytes
from .geodesy import GEOD

__all__ = [
    "DECIMALS",
    "BuildReport",
    "Coord",
    "dist_km",
    "dumps_features",
    "line_coords",
    "line_km",
    "round_deg",
    "run_build",
    "split_at",
    "write_features",
]

Coord = tuple[float, float]

DECIMALS = 5


def round_deg(v: float) -> float:
    """A coordinate rounded to :data:`DECIMALS` (never ``-0.0``).

    >>> round_deg(-0.000001)
    0.0
    """
    return round(float(v), DECIMALS) + 0.0


def line_coords(line: shapely.LineString) -> list[Coord]:
    """The line's coordinates, rounded, without repeats.

    >>> line_coords(shapely.LineString([(1.000001, 2), (1.000002, 2), (3, 4)]))
    [(1.0, 2.0), (3.0, 4.0)]
    """
    out: list[Coord] = []
    for x, y in shapely.get_coordinates(line):
        c = (round_deg(x), round_deg(y))
        if not out or out[-1] != c:
            out.append(c)
    return out


def line_km(coords: Sequence[Coord]) -> float:
    """Geodesic length (WGS84) of a polyline, km.

    >>> round(line_km([(0.0, 0.0), (1.0, 0.0)]), 2)
    111.32
    """
    if len(coords) < 2:
        return 0.0
    a = np.asarray(coords)
    return float(GEOD.line_length(a[:, 0], a[:, 1]) / 1000.0)


def dist_km(a: Coord, b: Coord) -> float:
    """Geodesic distance (WGS84) between two points, km."""
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2] / 1000.0)


def split_at(coords: list[Coord], cuts: Iterable[Coord]) -> list[list[Coord]]:
    """Split a polyline at points lying on it (each inserted as a vertex).

    Points farther than 1e-4 degrees from the line are ignored: a caller's mistake never makes
    a jump.

    >>> split_at([(0.0, 0.0), (2.0, 0.0)], [(1.0, 0.0)])
    [[(0.0, 0.0), (1.0, 0.0)], [(1.0, 0.0), (2.0, 0.0)]]
    """
    cut = set(cuts) - {coords[0], coords[-1]}
    if not cut:
        return [coords]
    line = shapely.LineString(coords)
    # Where each cut lies: (distance along, segment index), to insert it between vertices.
    seg_starts = [0.0]
    for a, b in itertools.pairwise(coords):
        seg_starts.append(seg_starts[-1] + math.dist(a, b))
    inserts: dict[int, list[tuple[float, Coord]]] = defaultdict(list)
    at_vertex: set[int] = set()
    index = {c: i for i, c in enumerate(coords)}
    for c in cut:
        if c in index:
            at_vertex.add(index[c])
            continue
        pt = shapely.Point(c)
        if line.distance(pt) > 1e-4:
            continue
        d = float(line.project(pt))
        i = max(0, min(int(np.searchsorted(seg_starts, d, side="right")) - 1, len(coords) - 2))
        inserts[i].append((d, c))
    pieces: list[list[Coord]] = []
    cur: list[Coord] = [coords[0]]
    for i in range(len(coords) - 1):
        for _, c in sorted(inserts.get(i, [])):
            if c != cur[-1]:
                cur.append(c)
            pieces.append(cur)
            cur = [c]
        nxt = coords[i + 1]
        if nxt != cur[-1]:
            cur.append(nxt)
        if i + 1 in at_vertex and i + 1 < len(coords) - 1:
            pieces.append(cur)
            cur = [nxt]
    pieces.append(cur)
    return [p for p in pieces if len(p) >= 2]


def dumps_features(fc: dict[str, Any]) -> bytes:
    r"""A FeatureCollection as bytes: one feature per line, sorted keys.

    Diffs stay readable and the same collection always gives the same bytes.

    >>> dumps_features({"features": [{"b": 1, "a": 2}]})
    b'{"type":"FeatureCollection","features":[\n{"a":2,"b":1}\n]}\n'
    """
    head = b'{"type":"FeatureCollection","features":[\n'
    lines = [orjson.dumps(f, option=orjson.OPT_SORT_KEYS) for f in fc["features"]]
    return head + b",\n".join(lines) + b"\n]}\n"


def write_features(fc: dict[str, Any], out: str | Path) -> int:
    """Write a FeatureCollection (as :func:`dumps_features`) atomically; its size in bytes."""
    data = dumps_features(fc)
    atomic_write_bytes(out, data, mode=0o644)
    return len(data)


class BuildReport(Protocol):
    """What a build step reports: its size and time, and the text it prints."""

    size_bytes: int
    seconds: float

    def text(self) -> str:
        """The report as the build prints it."""
        ...


def run_build(build: Callable[[], tuple[dict[str, Any], BuildReport]], out: str | Path) -> int:
    """A build step's command: build, write ``out`` atomically, print the report; exit code.

    A missing or unreadable source is one line on stderr and exit code 1, never a traceback.
    """
    t0 = time.perf_counter()
    try:
        fc, report = build()
        report.size_bytes = write_features(fc, out)
    except (GeoError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    report.seconds = time.perf_counter() - t0
    print(report.text())
    return 0
