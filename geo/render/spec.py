"""Map specs: the TOML file that says what a map shows, read into a frozen :class:`MapSpec`.

Every key is checked where it is read: unknown keys, wrong types, values out of range, country
codes and route ids that name nothing. A mistake is one :class:`~geo.errors.SpecError` line
naming the file, the key and the fix.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..analysis.stats import reference_specs
from ..analysis.supply import MARKETS
from ..data.countries import codes as country_codes
from ..errors import SpecError

__all__ = ["KNOWN_TILES", "MAX_SPEC_BYTES", "ExportsSpec", "MapSpec", "load_spec", "spec_error"]


@dataclass(frozen=True)
class ExportsSpec:
    """The ``[exports]`` table of a map spec.

    Attributes
    ----------
    markets : tuple of str
        Market node ids or names offered in the page's selector; default :data:`MARKETS`.
    market : str
        The market selected when the page opens (Japan: ``yokohama_port``).
    avoid : tuple of str
        What the coloured route avoids (countries, passages); default Russia.
    commodities : tuple of str
        Deposits producing any of these; empty for all.
    status : str
        Segment statuses allowed: ``operational`` (default) or ``all``.
    """

    markets: tuple[str, ...] = MARKETS
    market: str = "yokohama_port"
    avoid: tuple[str, ...] = ("RUS",)
    commodities: tuple[str, ...] = ()
    status: str = "operational"


KNOWN_TILES: dict[str, tuple[str, str, str]] = {
    # name -> (URL template, attribution HTML, subdomains); only loaded when the user picks it.
    "OpenStreetMap": (
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
        "",
    ),
    "CartoDB Positron": (
        "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
        ' &copy; <a href="https://carto.com/attributions">CARTO</a>',
        "abcd",
    ),
}


@dataclass(frozen=True)
class MapSpec:
    """What a map shows, as read from a TOML map spec.

    Attributes
    ----------
    title : str
        Shown at the top of the map and as the page title.
    center : tuple of float
        ``(latitude, longitude)`` of the initial view.
    zoom, min_zoom, max_zoom : int
        Initial, smallest and largest zoom level.
    layers : tuple of str
        Bundled layers by file stem (``countries``, ``nodes``, ``trans_caspian``, ...).
    highlight : str
        Corridor drawn thick on top of the others (``TITR``).
    stats_routes : tuple of str or None
        Reference route ids in the statistics panel; None for all.
    show_routes : tuple of str
        Route ids drawn when the page opens; empty: the first route of the highlighted corridor.
    shade : tuple of str
        Alpha-3 codes of countries shaded on the base (Russia and Belarus).
    tiles : tuple of str
        Optional online base layers offered as alternatives (names in ``KNOWN_TILES``).
    exports : ExportsSpec or None
        The ``[exports]`` table: the map shows every deposit's supply route to a market
        (:mod:`geo.render.supply_map`) instead of the corridors and reference routes.
    path : Path or None
        The spec file, for messages and default output path.
    """

    title: str
    center: tuple[float, float]
    zoom: int
    layers: tuple[str, ...]
    min_zoom: int = 2
    max_zoom: int = 12
    highlight: str = "TITR"
    stats_routes: tuple[str, ...] | None = None
    show_routes: tuple[str, ...] = ()
    shade: tuple[str, ...] = ("RUS", "BLR")
    tiles: tuple[str, ...] = ("OpenStreetMap", "CartoDB Positron")
    exports: ExportsSpec | None = None
    path: Path | None = None


_TOP_KEYS = {
    "title", "center", "zoom", "min_zoom", "max_zoom", "layers", "highlight", "shade", "tiles",
    "stats", "exports",
}  # fmt: skip
_STATS_KEYS = {"routes", "show"}
_EXPORTS_KEYS = {"markets", "market", "avoid", "commodities", "status"}


def spec_error(path: Path, key: str, what: str) -> SpecError:
    return SpecError(f"{path}: {key}: {what}")


def _str_list(path: Path, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        msg = f"expected a list of strings, got {value!r}"
        raise spec_error(path, key, msg)
    return tuple(value)


def _int(path: Path, key: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        msg = f"expected an integer from {lo} to {hi}, got {value!r}"
        raise spec_error(path, key, msg)
    return value


def load_spec(path: str | Path) -> MapSpec:
    """Read a TOML map spec.

    Parameters
    ----------
    path : str or Path
        A ``.toml`` file; see ``maps/corridor.toml`` for every key.

    Returns
    -------
    MapSpec

    Raises
    ------
    SpecError
        Naming the file and the key: missing, unknown, or of the wrong type.

    Examples
    --------
    >>> from geo.data.bundled import bundled_dir
    >>> load_spec(bundled_dir("maps") / "corridor.toml").highlight
    'TITR'
    """
    p = Path(path)
    doc = _read_toml(p)
    unknown = sorted(set(doc) - _TOP_KEYS)
    if unknown:
        msg = f"unknown key; known keys are {', '.join(sorted(_TOP_KEYS))}"
        raise spec_error(p, unknown[0], msg)
    for key in ("title", "center", "zoom", "layers"):
        if key not in doc:
            raise spec_error(p, key, "missing; add it to the spec")
    title = doc["title"]
    if not isinstance(title, str) or not title.strip():
        raise spec_error(p, "title", f"expected non-empty text, got {title!r}")
    center = doc["center"]
    if (
        not isinstance(center, list)
        or len(center) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in center)
        or not (-90 <= center[0] <= 90 and -180 <= center[1] <= 180)
    ):
        msg = f"expected [latitude, longitude] in degrees, got {center!r}"
        raise spec_error(p, "center", msg)
    kwargs: dict[str, Any] = {
        "title": title.strip(),
        "center": (float(center[0]), float(center[1])),
        "zoom": _int(p, "zoom", doc["zoom"], 0, 18),
        "layers": _str_list(p, "layers", doc["layers"]),
        "path": p,
    }
    if "min_zoom" in doc:
        kwargs["min_zoom"] = _int(p, "min_zoom", doc["min_zoom"], 0, 18)
    if "max_zoom" in doc:
        kwargs["max_zoom"] = _int(p, "max_zoom", doc["max_zoom"], 1, 20)
    lo, hi = kwargs.get("min_zoom", 2), kwargs.get("max_zoom", 12)
    if not lo <= kwargs["zoom"] <= hi:
        msg = f"{kwargs['zoom']} lies outside min_zoom..max_zoom ({lo}..{hi})"
        raise spec_error(p, "zoom", msg)
    if "highlight" in doc:
        if not isinstance(doc["highlight"], str) or not doc["highlight"]:
            raise spec_error(p, "highlight", f"expected a corridor name, got {doc['highlight']!r}")
        kwargs["highlight"] = doc["highlight"]
    if "shade" in doc:
        kwargs["shade"] = _str_list(p, "shade", doc["shade"])
        _known(p, "shade", kwargs["shade"], _country_codes(), "country code",
               "use ISO 3166-1 alpha-3 codes such as RUS, BLR")  # fmt: skip
    if "tiles" in doc:
        tiles = _str_list(p, "tiles", doc["tiles"])
        bad = [t for t in tiles if t not in KNOWN_TILES]
        if bad:
            msg = f"unknown tile layer {bad[0]!r}; use one of {', '.join(KNOWN_TILES)}"
            raise spec_error(p, "tiles", msg)
        kwargs["tiles"] = tiles
    stats = _table(p, "stats", doc.get("stats", {}), _STATS_KEYS)
    routes = stats.get("routes", "all")
    if routes != "all":
        kwargs["stats_routes"] = _str_list(p, "stats.routes", routes)
        _known(p, "stats.routes", kwargs["stats_routes"], _route_ids(), "reference route",
               "`corridor stats` lists the route ids")  # fmt: skip
    if "show" in stats:
        kwargs["show_routes"] = _str_list(p, "stats.show", stats["show"])
        listed = kwargs.get("stats_routes") or _route_ids()
        _known(p, "stats.show", kwargs["show_routes"], listed, "route",
               "list route ids from stats.routes (`corridor stats` lists them)")  # fmt: skip
    if "exports" in doc:
        kwargs["exports"] = _exports_spec(p, doc["exports"])
    return MapSpec(**kwargs)


MAX_SPEC_BYTES = 1_000_000  # a map spec is a few hundred bytes; anything larger is a mistake


def _read_toml(p: Path) -> dict[str, Any]:
    """The spec's TOML document, or one SpecError line naming the file and the fix."""
    try:
        if not p.exists():
            msg = f"{p}: map spec not found; check the path"
            raise SpecError(msg)
        if not p.is_file():
            msg = f"{p}: not a regular file; give the path of a .toml map spec"
            raise SpecError(msg)
        with p.open("rb") as f:
            data = f.read(MAX_SPEC_BYTES + 1)
        if len(data) > MAX_SPEC_BYTES:
            msg = f"{p}: larger than {MAX_SPEC_BYTES:,} bytes; a map spec is a short TOML file"
            raise SpecError(msg)
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        msg = f"{p}: not UTF-8 text; save the spec as UTF-8"
        raise SpecError(msg) from None
    except tomllib.TOMLDecodeError as e:
        msg = f"{p}: malformed TOML ({e}); fix the syntax"
        raise SpecError(msg) from None
    except RecursionError:
        msg = f"{p}: nested too deeply to read; a map spec needs at most two levels of tables"
        raise SpecError(msg) from None
    except OSError as e:
        msg = f"{p}: cannot be read ({e.strerror or e}); check the path and its permissions"
        raise SpecError(msg) from None


def _known(
    p: Path, key: str, values: Sequence[str], known: Iterable[str], what: str, fix: str
) -> None:
    """Refuse a value that names nothing (a typo would otherwise be ignored silently)."""
    choices = sorted(set(known))
    for v in values:
        if v not in choices:
            close = difflib.get_close_matches(v, choices, n=3)
            hint = f"did you mean {', '.join(close)}?" if close else fix
            raise spec_error(p, key, f"unknown {what} {v!r}; {hint}")


def _country_codes() -> set[str]:
    return country_codes()


def _route_ids() -> list[str]:
    return [s.id for s in reference_specs()]


def _table(p: Path, name: str, table: Any, known: set[str]) -> dict[str, Any]:
    """A ``[name]`` table of the spec whose keys are all ``known``."""
    if not isinstance(table, dict):
        raise spec_error(p, name, f"expected a table ([{name}])")
    unknown = sorted(set(table) - known)
    if unknown:
        msg = f"unknown key; known keys are {', '.join(sorted(known))}"
        raise spec_error(p, f"{name}.{unknown[0]}", msg)
    return table


def _exports_spec(p: Path, table: Any) -> ExportsSpec:
    table = _table(p, "exports", table, _EXPORTS_KEYS)
    kw: dict[str, Any] = {}
    for key in ("markets", "avoid", "commodities"):
        if key in table:
            kw[key] = _str_list(p, f"exports.{key}", table[key])
    for key in ("market", "status"):
        if key in table:
            if not isinstance(table[key], str) or not table[key]:
                raise spec_error(p, f"exports.{key}", f"expected text, got {table[key]!r}")
            kw[key] = table[key]
    if kw.get("status", "operational") not in ("operational", "all"):
        raise spec_error(p, "exports.status", "expected 'operational' or 'all'")
    return ExportsSpec(**kw)
