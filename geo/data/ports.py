"""Seaports of the world and the sea legs between them, generated on demand with searoute.

Three sources, read here as plain records (:func:`port_records`):

- the project's curated port nodes (``layers/nodes.geojson``, kind ``port``): authoritative,
  matched to the others by name and distance;
- ``layers/world_ports.csv``: names, alternate names, UN/LOCODE, country, position and harbour
  size of the NGA World Port Index, derived by ``python -m geo.data.ports WPI_CSV``;
- searoute's own port list (``searoute/data/ports.geojson`` of the installed package).

:func:`port_leg` gives the sea leg between two ports. searoute is always called with explicit
``restrictions`` (through :func:`geo.data.sea.sea_leg`); a Caspian port only reaches Caspian
ports (searoute's network joins the Caspian to the Black Sea through the Volga-Don canal, which
sea-going ships cannot use); a port too far from searoute's network for a straight approach is
refused. Legs are kept in memory per process and, when a cache folder is given, on disk as
JSON (never pickle) keyed by both ports, the restrictions and searoute's version.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import sys
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from ..errors import GeoError, RouteError
from .bundled import bundled_dir
from .countries import SEA, alpha2_to_alpha3, countries_at, km_by_country, nearest_country
from .files import atomic_write_text
from .geodesy import GEOD
from .schema import PASSAGES
from .sea import canonical_passage, restrictions, sea_leg
from .text import terminal_text

WORLD_PORTS = "world_ports.csv"
COLUMNS = ("name", "alternate_names", "locode", "country", "lon", "lat", "harbour_size")
HARBOUR_SIZES = ("large", "medium", "small", "very_small", "")
# The World Port Index's columns that the build step reads.
WPI_COLUMNS = ("Main Port Name", "Alternate Port Name", "UN/LOCODE", "Country Code",
               "Harbor Size", "Latitude", "Longitude")  # fmt: skip
# The Caspian Sea with the Volga delta (Astrakhan): lon, lat box. Nothing else sea-going lies
# inside it (the Black Sea ends at 41.8 E, the Persian Gulf at 30.5 N, the Aral Sea at 58 E).
CASPIAN_BOX = (46.0, 36.0, 55.5, 47.5)
# searoute joins a point to its network's nearest node by a straight line. A port whose line
# crosses more land than this is refused (Lake Van's piers would cross 300 km of Turkey);
# layers/README.md allows sea legs 25 km of port approach.
MAX_APPROACH_LAND_KM = 25.0
CACHE_FORMAT = 1
MAX_CACHE_BYTES = 8 << 20


@dataclass(frozen=True)
class Port:
    """A seaport: its name, other names, UN/LOCODE (may be ""), country, position, size.

    ``node_id`` is the curated node (``layers/nodes.geojson``) the port is, if any;
    ``approach`` an offshore point (lon, lat) through which its sea legs join searoute's
    network (from ``layers/sea_legs.toml``), if it needs one.
    """

    name: str
    names: tuple[str, ...]
    locode: str
    country: str
    lon: float
    lat: float
    harbour_size: str = ""
    node_id: str | None = None
    approach: tuple[float, float] | None = None

    @property
    def basin(self) -> str:
        """``caspian`` for a port on the Caspian Sea (or the Volga delta), else ``ocean``."""
        x0, y0, x1, y1 = CASPIAN_BOX
        return "caspian" if x0 <= self.lon <= x1 and y0 <= self.lat <= y1 else "ocean"

    @property
    def key(self) -> str:
        """A short stable id: the node id, else the UN/LOCODE, else the name and position."""
        return self.node_id or self.locode or f"{self.name}@{self.lon:.3f},{self.lat:.3f}"

    def label(self) -> str:
        """The port as messages name it, e.g. ``'Piraeus' (GRPIR, GRC)``."""
        code = self.node_id or self.locode
        inside = f"{code}, {self.country}" if code else self.country
        return terminal_text(f"'{self.name[:80]}' ({inside[:100]})")


# --- the build step: World Port Index -> layers/world_ports.csv ----------------------------


def _locode(text: str) -> str:
    """``GR PIR`` -> ``GRPIR``; anything that is not a five-letter UN/LOCODE -> ""."""
    s = "".join(text.split()).upper()
    ok = len(s) == 5 and s[:2].isalpha() and s.isascii() and s.isalnum()
    return s if ok else ""


def _clean(text: str) -> str:
    return " ".join(terminal_text(text).split())


def _harbour(text: str) -> str:
    s = text.strip().lower().replace(" ", "_")
    return s if s in HARBOUR_SIZES else ""


def assign_countries(lon: np.ndarray, lat: np.ndarray, locodes: list[str]) -> list[str]:
    """Alpha-3 country of each port: the polygon it lies in, else its UN/LOCODE's, else nearest.

    The polygon comes first because a few LOCODEs carry a wrong country prefix (searoute's
    ``TKMRW`` for Turkmenbashi); a port at sea (most lie just off the 1:50m coast) takes its
    LOCODE's country, and one without a LOCODE the nearest country.
    """
    inside = countries_at(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    a2 = alpha2_to_alpha3()
    out = []
    for x, y, code, here in zip(lon, lat, locodes, inside, strict=True):
        if here is not None:
            out.append(str(here))
        elif code[:2] in a2:
            out.append(a2[code[:2]])
        else:
            out.append(nearest_country(float(x), float(y)))
    return out


def build_world_ports(wpi_csv: str | Path) -> str:
    """The text of ``layers/world_ports.csv`` from the World Port Index CSV (deterministic).

    Parameters
    ----------
    wpi_csv
        The NGA World Port Index (Pub. 150) as CSV, with the columns of :data:`WPI_COLUMNS`.

    Returns
    -------
    str
        CSV with the columns of :data:`COLUMNS`, one port a row, sorted by country, name and
        LOCODE; alternate names joined by ``;``; positions rounded to 1e-5 degrees.

    Raises
    ------
    GeoError
        The file lacks a column the build needs.
    """
    path = Path(wpi_csv)
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in WPI_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            msg = f"{path}: no column '{missing[0]}'; give the World Port Index (Pub. 150) CSV"
            raise GeoError(msg)
        rows: list[list[Any]] = []
        for row in reader:
            try:
                lat, lon = float(row["Latitude"]), float(row["Longitude"])
            except ValueError:
                continue
            name = _clean(row["Main Port Name"])
            if not name or not (math.isfinite(lat) and math.isfinite(lon)):
                continue
            alts = [_clean(a) for a in row["Alternate Port Name"].split(";")]
            alts = list(dict.fromkeys(a for a in alts if a and a != name))
            rows.append([name, ";".join(alts), _locode(row["UN/LOCODE"]), "",
                         round(lon, 5), round(lat, 5), _harbour(row["Harbor Size"])])  # fmt: skip
    lons = np.array([r[4] for r in rows], dtype=float)
    lats = np.array([r[5] for r in rows], dtype=float)
    for r, code in zip(rows, assign_countries(lons, lats, [str(r[2]) for r in rows]), strict=True):
        r[3] = code
    rows.sort(key=lambda r: (r[3], r[0], r[2], r[4], r[5]))
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(COLUMNS)
    w.writerows(rows)
    return out.getvalue()


# --- the runtime records --------------------------------------------------------------------


@lru_cache(maxsize=1)
def world_ports() -> tuple[Port, ...]:
    """The ports of ``layers/world_ports.csv`` (World Port Index), in file order."""
    path = bundled_dir("layers") / WORLD_PORTS
    with path.open(encoding="utf-8", newline="") as f:
        return tuple(_wpi_port(r) for r in csv.DictReader(f))


def _wpi_port(r: dict[str, str]) -> Port:
    names = (r["name"], *[a for a in r["alternate_names"].split(";") if a])
    lon, lat = float(r["lon"]), float(r["lat"])
    return Port(r["name"], names, r["locode"], r["country"], lon, lat, r["harbour_size"])


def searoute_version() -> str:
    """The installed searoute's version (part of every cache key)."""
    return metadata.version("searoute")


@lru_cache(maxsize=1)
def searoute_ports() -> tuple[Port, ...]:
    """The ports searoute ships (``searoute/data/ports.geojson``), with alpha-3 countries."""
    text = resources.files("searoute").joinpath("data/ports.geojson").read_text(encoding="utf-8")
    feats = json.loads(text)["features"]
    names = [_clean(str(f["properties"].get("name") or "")) for f in feats]
    codes = [_locode(str(f["properties"].get("port") or "")) for f in feats]
    lon = np.array([float(f["geometry"]["coordinates"][0]) for f in feats])
    lat = np.array([float(f["geometry"]["coordinates"][1]) for f in feats])
    where = assign_countries(lon, lat, codes)
    return tuple(
        Port(n, (n,), c, w, round(float(x), 5), round(float(y), 5))
        for n, c, w, x, y in zip(names, codes, where, lon, lat, strict=True)
        if n
    )


@lru_cache(maxsize=1)
def approach_points() -> dict[str, tuple[float, float]]:
    """Offshore approach points of curated ports (``approach_from``/``approach_to`` of legs)."""
    spec = tomllib.loads((bundled_dir("layers") / "sea_legs.toml").read_text(encoding="utf-8"))
    out: dict[str, tuple[float, float]] = {}
    for leg in spec.get("leg", []):
        for end, key in (("from", "approach_from"), ("to", "approach_to")):
            if key in leg:
                x, y = leg[key]
                out.setdefault(str(leg[end]), (float(x), float(y)))
    return out


def port_records() -> tuple[tuple[Port, ...], tuple[Port, ...]]:
    """(World Port Index ports, searoute's ports): what the port index is built from."""
    return world_ports(), searoute_ports()


# --- sea legs on demand ---------------------------------------------------------------------


@dataclass(frozen=True)
class PortLeg:
    """The sea leg from ``origin`` to ``destination``.

    ``line`` begins and ends exactly at the two ports; ``length_km`` is geodesic; ``passages``
    are the project's passage names; ``countries_km`` the km by country along the line
    (``SEA`` outside every country polygon) as pairs in order; ``restrictions`` what searoute
    was told to avoid.
    """

    origin: Port
    destination: Port
    line: shapely.LineString
    length_km: float
    passages: tuple[str, ...]
    countries_km: tuple[tuple[str, float], ...]
    restrictions: tuple[str, ...]

    @property
    def km_by_country(self) -> dict[str, float]:
        """Km by country (``SEA`` at sea), in the order the line enters them (a new dict)."""
        return dict(self.countries_km)


def caspian_error(a: Port, b: Port) -> RouteError:
    """The one line for a sea leg between the Caspian and the open sea."""
    inner, outer = (a, b) if a.basin == "caspian" else (b, a)
    msg = (
        f"no sea path from {a.label()} to {b.label()}: {inner.label()} lies on the Caspian Sea, "
        f"which has no sea route to {outer.label()} (its only link, the Volga-Don canal, takes "
        "river vessels only); name a Caspian port, or route overland with --via a place on "
        "the network (e.g. --via Poti)"
    )
    return RouteError(msg)


def port_leg(
    origin: Port,
    destination: Port,
    *,
    avoid: Iterable[str] = (),
    cache_dir: str | Path | None = None,
) -> PortLeg:
    """The sea leg between two ports, generated with searoute (cached).

    Parameters
    ----------
    origin, destination
        The ports (see :class:`Port`).
    avoid
        Sea passages to keep off the leg (CLI names: suez, cape, hormuz, ...); the Arctic
        passage is always closed.
    cache_dir
        A folder to keep legs in as JSON between runs; None keeps them in this process only.

    Returns
    -------
    PortLeg
        The leg, from ``origin`` to ``destination``.

    Raises
    ------
    RouteError
        The two are the same port, one lies on the Caspian and the other not, one lies too far
        from searoute's network, or the passages to avoid close every path.

    Examples
    --------
    >>> aktau = Port("Aktau", ("Aktau",), "KZAAU", "KAZ", 51.21293, 43.68233)
    >>> baku = Port("Baku", ("Baku",), "AZBAK", "AZE", 49.88777, 40.38147)
    >>> leg = port_leg(aktau, baku)
    >>> 400 < leg.length_km < 500, leg.passages
    (True, ())
    """
    if (origin.lon, origin.lat) == (destination.lon, destination.lat):
        msg = f"{origin.label()} and {destination.label()} are the same port; name two ports"
        raise RouteError(msg)
    if origin.basin != destination.basin:
        raise caspian_error(origin, destination)
    names = tuple(sorted({canonical_passage(p) for p in avoid}))
    folder = None if cache_dir is None else str(cache_dir)
    return _port_leg(origin, destination, names, folder)


@lru_cache(maxsize=512)
def _port_leg(a: Port, b: Port, avoid: tuple[str, ...], cache_dir: str | None) -> PortLeg:
    key = cache_key(a, b, tuple(restrictions(avoid)))
    path = cache_path(Path(cache_dir), key) if cache_dir is not None else None
    if path is not None:
        hit = read_cached_leg(path, key, a, b)
        if hit is not None:
            return hit
    leg = _generate(a, b, avoid)
    if path is not None:
        write_cached_leg(path, key, leg)
    return leg


def _generate(a: Port, b: Port, avoid: tuple[str, ...]) -> PortLeg:
    start, end = a.approach or (a.lon, a.lat), b.approach or (b.lon, b.lat)
    try:
        leg = sea_leg(start, end, avoid=avoid)
    except RouteError:
        closed = ", ".join(avoid) if avoid else "only the Arctic passage"
        msg = (f"no sea path from {a.label()} to {b.label()} with {closed} closed; "
               "allow a passage")  # fmt: skip
        raise RouteError(msg) from None
    coords = list(leg.line.coords)
    for port, p0, p1 in ((a, coords[0], coords[1]), (b, coords[-1], coords[-2])):
        connector = shapely.LineString([p0, p1])
        land = sum(km for code, km in km_by_country(connector).items() if code != SEA)
        if land > MAX_APPROACH_LAND_KM:
            msg = (
                f"no sea path to or from {port.label()}: searoute's sea network is reached from "
                f"it only by a straight line across {land:.0f} km of land (an inland lake or "
                "river port); name a seaport"
            )
            raise RouteError(msg)
    pts = ([(a.lon, a.lat)] if a.approach else []) + coords + ([(b.lon, b.lat)] if b.approach
                                                                 else [])  # fmt: skip
    pts[0], pts[-1] = (a.lon, a.lat), (b.lon, b.lat)
    pts = [p for i, p in enumerate(pts) if i == 0 or p != pts[i - 1]]
    line = shapely.LineString(pts)
    kbc = tuple(km_by_country(line).items())
    restr = tuple(restrictions(avoid))
    return PortLeg(a, b, line, GEOD.geometry_length(line) / 1000.0, leg.passages, kbc, restr)


# --- the disk cache -------------------------------------------------------------------------


def sea_cache_dir() -> Path:
    """Where sea legs are kept between runs.

    ``$CORRIDOR_HOME/cache/sea_legs`` when ``CORRIDOR_HOME`` is set (as for the layer store),
    else ``sea_legs`` in platformdirs' user cache folder of ``corridor-map``.
    """
    home = os.environ.get("CORRIDOR_HOME")
    if home:
        return Path(home).expanduser() / "cache" / "sea_legs"
    import platformdirs

    return Path(platformdirs.user_cache_dir("corridor-map", appauthor=False)) / "sea_legs"


def _port_key(p: Port) -> list[Any]:
    return [p.key, p.lon, p.lat, list(p.approach) if p.approach else None]


def cache_key(a: Port, b: Port, restr: tuple[str, ...]) -> dict[str, Any]:
    """What a cached leg answers: both ports, the restrictions, searoute's version, format."""
    return {"format": CACHE_FORMAT, "searoute": searoute_version(), "from": _port_key(a),
            "to": _port_key(b), "restrictions": list(restr)}  # fmt: skip


def cache_path(folder: Path, key: dict[str, Any]) -> Path:
    """The file of one cached leg: the sha256 of its key (the key is stored inside too)."""
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
    return folder / f"{digest[:40]}.json"


def read_cached_leg(path: Path, key: dict[str, Any], a: Port, b: Port) -> PortLeg | None:
    """The leg stored at ``path`` if it is whole and answers ``key``; None otherwise.

    A missing, unreadable, oversized, corrupt or foreign entry is passed over (the caller
    generates the leg again and rewrites the file); nothing in it is ever executed.
    """
    try:
        if not path.is_file() or path.stat().st_size > MAX_CACHE_BYTES:
            return None
        doc = json.loads(path.read_bytes())
        if not isinstance(doc, dict) or doc.get("key") != key:
            return None
        coords = [(float(x), float(y)) for x, y in doc["coords"]]
        km = float(doc["length_km"])
        passages = tuple(str(p) for p in doc["passages"])
        kbc = tuple((str(c), float(v)) for c, v in doc["km_by_country"])
    except (OSError, ValueError, TypeError, KeyError, RecursionError):
        return None
    finite = all(math.isfinite(v) for xy in coords for v in xy) and math.isfinite(km)
    if len(coords) < 2 or not finite or km <= 0 or not set(passages) <= set(PASSAGES):
        return None
    if coords[0] != (a.lon, a.lat) or coords[-1] != (b.lon, b.lat):
        return None
    line = shapely.LineString(coords)
    return PortLeg(a, b, line, km, passages, kbc, tuple(key["restrictions"]))


def write_cached_leg(path: Path, key: dict[str, Any], leg: PortLeg) -> None:
    """Keep ``leg`` at ``path`` (atomic); a folder that cannot be written is no error."""
    doc = {"key": key, "coords": [list(c) for c in leg.line.coords], "length_km": leg.length_km,
           "passages": list(leg.passages),
           "km_by_country": [list(kv) for kv in leg.countries_km]}  # fmt: skip
    try:
        atomic_write_text(path, json.dumps(doc, separators=(",", ":")))
    except OSError:
        return


def clear_memory_cache() -> None:
    """Forget the legs kept in this process (the disk cache stays)."""
    _port_leg.cache_clear()


def _main(argv: list[str]) -> int:  # pragma: no cover - maintainer tool
    if len(argv) not in (1, 2):
        print("usage: python -m geo.data.ports WPI_CSV [OUT_CSV]", file=sys.stderr)
        return 2
    out = Path(argv[1]) if len(argv) == 2 else bundled_dir("layers") / WORLD_PORTS
    try:
        text = build_world_ports(argv[0])
    except (GeoError, OSError) as e:
        print(terminal_text(e), file=sys.stderr)
        return 1
    atomic_write_text(out, text)
    print(f"{out.name}: {text.count(chr(10)) - 1} ports")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_main(sys.argv[1:]))
