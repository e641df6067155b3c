"""Map specs: the TOML file that says what a map shows, read into a frozen :class:`MapSpec`.

Every key is checked where it is read: unknown keys, wrong types, values out of range, country
codes and route ids that name nothing. A mistake is one :class:`~geo.errors.SpecError` line
naming the file, the key and the fix.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..analysis.stats import reference_specs
from ..analysis.supply import MARKETS
from ..data.countries import codes as country_codes
from ..errors import SpecError

__all__ = [
    "KNOWN_TILES",
    "MAX_SPEC_BYTES",
    "SPEC_KEYS",
    "Choices",
    "ExportsSpec",
    "Key",
    "MapSpec",
    "load_spec",
    "spec_error",
]


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


def spec_error(path: Path, key: str, what: str) -> SpecError:
    """The one-line error of a spec: ``<file>: <key>: <what is wrong and the fix>``."""
    return SpecError(f"{path}: {key}: {what}")


# ---------------------------------------------------------------------------------------------
# The key table: every key a spec may hold, read in this order.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choices:
    """The values a key (or each item of a list key) may take.

    ``known(values so far)`` lists them; a value outside gets ``message`` (formatted with the
    value as ``v``), or "unknown <what> <v>; did you mean ...?" with ``fix`` when nothing is close.
    """

    known: Callable[[dict[str, Any]], Iterable[str]]
    what: str = ""
    fix: str = ""
    message: str = ""


@dataclass(frozen=True)
class Key:
    """One key of a map spec.

    Attributes
    ----------
    key : str
        As written in the TOML file; ``table.key`` for keys of ``[stats]`` and ``[exports]``.
    type : str
        ``title`` (non-empty text, stripped), ``text`` (non-empty text), ``int``, ``latlon``
        (``[latitude, longitude]``), ``names`` (a list of non-empty strings), ``names|all``
        (``names`` or the string ``"all"``, read as None), or ``table``.
    field : str
        The :class:`MapSpec` field it fills (:class:`ExportsSpec` for ``exports.*``); "" for
        tables.
    doc : str
        What the key does, for people reading the table or ``corridor`` help.
    required : bool
        A spec without it is refused.
    default : Any
        The field's value when the key is absent (as the dataclass declares it).
    expect : str
        How the message describes a valid value (``text`` keys).
    lo, hi : int
        The range of an ``int`` key.
    choices : Choices or None
        The values it may take.
    """

    key: str
    type: str
    field: str
    doc: str
    required: bool = False
    default: Any = None
    expect: str = "text"
    lo: int = 0
    hi: int = 0
    choices: Choices | None = None


def _route_choices(values: dict[str, Any]) -> Iterable[str]:
    return values.get("stats_routes") or _route_ids()


SPEC_KEYS: tuple[Key, ...] = (
    Key("title", "title", "title", "Shown at the top of the map and as the page title.",
        required=True, expect="non-empty text"),
    Key("center", "latlon", "center", "[latitude, longitude] of the initial view, degrees.",
        required=True),
    Key("zoom", "int", "zoom", "Initial zoom level, within min_zoom..max_zoom.",
        required=True, lo=0, hi=18),
    Key("layers", "names", "layers",
        "Bundled layers by file stem (countries, nodes, trans_caspian, ...).", required=True),
    Key("min_zoom", "int", "min_zoom", "Smallest zoom level.", default=2, lo=0, hi=18),
    Key("max_zoom", "int", "max_zoom", "Largest zoom level.", default=12, lo=1, hi=20),
    Key("highlight", "text", "highlight", "Corridor drawn thick on top of the others.",
        default="TITR", expect="a corridor name"),
    Key("shade", "names", "shade", "Alpha-3 codes of countries shaded on the base.",
        default=("RUS", "BLR"),
        choices=Choices(lambda _: _country_codes(), "country code",
                        "use ISO 3166-1 alpha-3 codes such as RUS, BLR")),
    Key("tiles", "names", "tiles", "Optional online base layers offered as alternatives.",
        default=("OpenStreetMap", "CartoDB Positron"),
        choices=Choices(lambda _: KNOWN_TILES,
                        message="unknown tile layer {v!r}; use one of " + ", ".join(KNOWN_TILES))),
    Key("stats", "table", "", "The reference routes' statistics panel."),
    Key("stats.routes", "names|all", "stats_routes",
        'Reference route ids in the statistics panel, or "all".', default=None,
        choices=Choices(lambda _: _route_ids(), "reference route",
                        "`corridor stats` lists the route ids")),
    Key("stats.show", "names", "show_routes",
        "Route ids drawn when the page opens; none: the highlighted corridor's first route.",
        default=(),
        choices=Choices(_route_choices, "route",
                        "list route ids from stats.routes (`corridor stats` lists them)")),
    Key("exports", "table", "exports",
        "Makes the map an exports map: every deposit's supply route to a market.", default=None),
    Key("exports.markets", "names", "markets", "Market node ids or names in the page's selector.",
        default=MARKETS),
    Key("exports.avoid", "names", "avoid", "What the coloured route avoids (countries, passages).",
        default=("RUS",)),
    Key("exports.commodities", "names", "commodities",
        "Deposits producing any of these; none for all.", default=()),
    Key("exports.market", "text", "market", "The market selected when the page opens.",
        default="yokohama_port"),
    Key("exports.status", "text", "status", "Segment statuses allowed: operational or all.",
        default="operational",
        choices=Choices(lambda _: ("operational", "all"),
                        message="expected 'operational' or 'all'")),
)  # fmt: skip
"""Every key of a map spec: :func:`load_spec` reads and checks a spec from this table alone."""


def _expected(p: Path, k: Key, v: Any) -> SpecError:
    what = {
        "int": f"an integer from {k.lo} to {k.hi}",
        "latlon": "[latitude, longitude] in degrees",
        "names": "a list of strings",
        "names|all": "a list of strings",
    }.get(k.type, k.expect)
    return spec_error(p, k.key, f"expected {what}, got {v!r}")


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _convert(p: Path, k: Key, v: Any) -> Any:
    """The value of key ``k`` as its field holds it; a SpecError when it has the wrong type."""
    if k.type == "names|all" and v == "all":
        return None
    if k.type in ("names", "names|all"):
        ok = isinstance(v, list) and all(isinstance(s, str) and s for s in v)
    elif k.type == "title":
        ok = isinstance(v, str) and bool(v.strip())
        v = v.strip() if ok else v
    elif k.type == "text":
        ok = isinstance(v, str) and bool(v)
    elif k.type == "int":
        ok = _is_number(v) and isinstance(v, int) and k.lo <= v <= k.hi
    else:  # latlon
        ok = isinstance(v, list) and len(v) == 2 and all(_is_number(x) for x in v)
        ok = ok and -90 <= v[0] <= 90 and -180 <= v[1] <= 180
        v = (float(v[0]), float(v[1])) if ok else v
    if not ok:
        raise _expected(p, k, v)
    return tuple(v) if isinstance(v, list) else v


def _check_choices(p: Path, k: Key, value: Any, values: dict[str, Any]) -> None:
    if k.choices is None or value is None:
        return
    c = k.choices
    items = [value] if isinstance(value, str) else list(value)
    known = list(c.known(values))
    if c.message:
        bad = [v for v in items if v not in known]
        if bad:
            raise spec_error(p, k.key, c.message.format(v=bad[0]))
    else:
        _known(p, k.key, items, known, c.what, c.fix)


def _table(p: Path, name: str, table: Any) -> dict[str, Any]:
    """A ``[name]`` table of the spec (or the document, name ""), its keys all in the table."""
    if not isinstance(table, dict):
        raise spec_error(p, name, f"expected a table ([{name}])")
    prefix = f"{name}." if name else ""
    known = sorted(k.key[len(prefix) :] for k in SPEC_KEYS
                   if k.key.startswith(prefix) and "." not in k.key[len(prefix) :])  # fmt: skip
    unknown = sorted(set(table) - set(known))
    if unknown:
        msg = f"unknown key; known keys are {', '.join(known)}"
        raise spec_error(p, prefix + unknown[0], msg)
    return table


def _read_keys(p: Path, doc: dict[str, Any], name: str) -> dict[str, Any]:
    """The fields of the keys of table ``name`` ("" for the top level), checked in table order."""
    table = _table(p, name, doc)
    prefix = f"{name}." if name else ""
    values: dict[str, Any] = {}
    keys = [k for k in SPEC_KEYS if k.key.startswith(prefix) and "." not in k.key[len(prefix) :]]
    for k in keys:
        short = k.key[len(prefix) :]
        if k.required and short not in table:
            raise spec_error(p, k.key, "missing; add it to the spec")
    for k in keys:
        short = k.key[len(prefix) :]
        if k.type == "table":
            sub = _read_keys(p, table.get(short, {}), k.key)
            if k.field:  # a table that fills one field ([exports])
                values[k.field] = ExportsSpec(**sub) if short in table else k.default
            else:  # a table whose keys fill fields of their own ([stats])
                values.update(sub)
            continue
        value = _convert(p, k, table[short]) if short in table else k.default
        _check_choices(p, k, value if short in table else None, values)
        values[k.field] = value
        if k.key == "max_zoom":
            _zoom_in_range(p, values)
    return values


def _zoom_in_range(p: Path, values: dict[str, Any]) -> None:
    lo, hi, zoom = values["min_zoom"], values["max_zoom"], values["zoom"]
    if not lo <= zoom <= hi:
        raise spec_error(p, "zoom", f"{zoom} lies outside min_zoom..max_zoom ({lo}..{hi})")


def load_spec(path: str | Path) -> MapSpec:
    """Read a TOML map spec.

    Every key is read and checked as :data:`SPEC_KEYS` says.

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
    return MapSpec(**_read_keys(p, _read_toml(p), ""), path=p)


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
