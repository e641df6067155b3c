"""Transit days, money and carbon of a route, per loaded TEU, each as ``{low, typical, high}``.

The numbers live in two sourced tables, edited there and never in code: ``layers/transit.toml``
(speeds and dwell times, :mod:`geo.analysis.parameters`) and ``layers/costs.toml`` (tariffs,
charges, emission intensities and the payload of a TEU, :func:`cost_table`). Published
door-to-door times to check the typical days against are in ``layers/observed.toml``
(:func:`observed_times`).

The model, per leg (a :class:`~geo.analysis.routing.Leg`, or a network edge's attributes):

- days: km at the mode's speed, plus a ferry's wait and a ship's port call;
- money: rail km at the tariff of the country it runs in (``rail_country``), else of its
  gauge; road and sea km at their rate; a ferry crossing at its charge per TEU;
- carbon: km times the mode's intensity, per TEU-km at sea, per tonne-km on land and on
  ferries (times ``payload_t_per_teu``);

plus fixed amounts at each transfer: a border crossing (dwell and fees), a gauge change
(transshipment time and fee) and a change of mode (terminal handling). A pipeline carries no
container: a route with a pipeline leg has no money or carbon figure per TEU (None).

Every figure is a :class:`Span`: the low case adds up every parameter's low end, the high case
every high end, the typical case every typical value, so ``low <= typical <= high`` holds for
any route (each parameter's three values are ordered and every operation is a sum or a product
of non-negative values). A parameter's typical value is sourced where the table gives one, else
the geometric mean of its ends (:func:`geo.analysis.parameters.typical_of`).

Routing by days, money or carbon (``--by days|cost|co2``) uses the same numbers as edge
weights: :func:`edge_days`, :func:`edge_cost_usd` and :func:`edge_co2e_kg` take a network
edge's attributes (``mode``, ``length_km``, ``km_by_country``, ``gauge_mm``) and count the
border crossings inside the edge (a land edge running through several countries); what
happens between two edges (a crossing at a border node, a gauge change, a change of mode) is
:func:`transfer_weight`, for the router to add where consecutive edges differ.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..data.bundled import bundled_dir
from ..data.countries import SEA
from ..errors import Problem, UnreadableError, ValidationError
from .parameters import transit_parameters, typical_of

if TYPE_CHECKING:  # routing searches by these weights: no import of routing at run time
    from .routing import Leg

__all__ = [
    "CASES",
    "CONDITIONS",
    "TRANSFERS",
    "WEIGHTS",
    "CostTable",
    "Observed",
    "ObservedCost",
    "RouteQuery",
    "Span",
    "cost_table",
    "crossing_days",
    "edge_co2e_kg",
    "edge_cost_usd",
    "edge_days",
    "edge_weight",
    "extra_span",
    "fits_observed",
    "leg_co2e_kg",
    "leg_cost_usd",
    "leg_days",
    "observed_costs",
    "observed_times",
    "ordered",
    "read_cost_table",
    "read_observed",
    "read_observed_costs",
    "route_co2e_kg",
    "route_cost_usd",
    "route_days",
    "transfer_weight",
]  # fmt: skip

Case = Literal["low", "typical", "high"]
CASES: tuple[Case, ...] = ("low", "typical", "high")
TRANSFERS = ("border", "gauge_break", "transshipment")

# What the model reads from layers/costs.toml; a table without one of them is refused.
REQUIRED = (
    "rail_1520_usd_per_teu_km", "rail_1435_usd_per_teu_km", "road_usd_per_teu_km",
    "sea_usd_per_teu_km", "ferry_usd_per_teu", "port_handling_usd_per_teu", "border_usd_per_teu",
    "gauge_change_usd_per_teu", "payload_t_per_teu", "co2e_sea_kg_per_teu_km",
    "co2e_ferry_kg_per_tkm", "co2e_rail_kg_per_tkm", "co2e_road_kg_per_tkm",
)  # fmt: skip
_ENTRY_KEYS = {"low", "typical", "high", "unit", "what", "source", "note", "same_as"}
_OBSERVED_KEYS = {"id", "what", "route", "from", "to", "via", "avoid", "modes", "status",
                  "period", "source", "note"}  # fmt: skip


@dataclass(frozen=True)
class Span:
    """Three ordered values of one quantity: the low case, the typical case, the high case.

    Sums and products of non-negative spans stay ordered, which is what makes every route's
    figures ordered.

    >>> (Span(1, 2, 4) + Span(0, 1, 1)).as_dict(), Span(1, 2, 3).times(2).high
    ({'low': 1, 'typical': 3, 'high': 5}, 6)
    """

    low: float
    typical: float
    high: float

    def __add__(self, other: Span) -> Span:
        return Span(self.low + other.low, self.typical + other.typical, self.high + other.high)

    def times(self, k: float) -> Span:
        """The span scaled by ``k`` (a non-negative number, e.g. km)."""
        return Span(self.low * k, self.typical * k, self.high * k)

    def product(self, other: Span) -> Span:
        """Case by case product with another non-negative span (a rate times a payload)."""
        return Span(self.low * other.low, self.typical * other.typical, self.high * other.high)

    def pick(self, case: Case) -> float:
        """One case's value."""
        return float(getattr(self, case))

    def as_dict(self, ndigits: int | None = None) -> dict[str, float]:
        """``{"low", "typical", "high"}``, rounded to ``ndigits`` where given (None: as is)."""
        vals = (self.low, self.typical, self.high)
        if ndigits is not None:
            vals = tuple(round(v, ndigits) for v in vals)  # type: ignore[assignment]
        return dict(zip(CASES, vals, strict=True))

    @classmethod
    def of(cls, low: float, high: float, typical: float | None = None) -> Span:
        """A span of ``low`` .. ``high`` whose typical value is given or the geometric mean."""
        return cls(low, typical_of(low, high) if typical is None else typical, high)


ZERO = Span(0.0, 0.0, 0.0)


# --- the cost table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostTable:
    """The validated ``layers/costs.toml``: every parameter as a :class:`Span`, with its source."""

    path: str
    spans: dict[str, Span]
    units: dict[str, str]
    sources: dict[str, str]
    rail_by_country: dict[str, Span]
    not_found: tuple[str, ...]
    typical_sourced: frozenset[str] = frozenset()

    def get(self, key: str) -> Span:
        """The span of parameter ``key`` (KeyError for a key the table lacks)."""
        return self.spans[key]

    def typical_basis(self, key: str) -> str:
        """Where parameter ``key``'s typical value comes from: ``"source"`` or ``"geometric mean"``.

        A single figure (low = high) is its own typical value: ``"source"``.
        """
        span = self.get(key)
        sourced = key in self.typical_sourced or span.low == span.high
        return "source" if sourced else "geometric mean"


def _problem(path: str, where: str, message: str, fix: str) -> Problem:
    return Problem(path, message, field=where, fix=fix)


def _number(v: Any) -> float | None:
    """A finite number from TOML (int or float, never a bool), else None."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v) if math.isfinite(v) else None


def _unknown_keys(
    path: str, where: str, entry: Mapping[str, Any]
) -> tuple[list[Problem], set[str]]:
    """Problems for keys an entry should not have, and the known keys they seem misspelt for.

    A typo (``hihg``) is reported once, with the key it stands for, not again as a missing key.
    """
    problems: list[Problem] = []
    misspelt: set[str] = set()
    for k in entry:
        if k in _ENTRY_KEYS:
            continue
        near = difflib.get_close_matches(k, sorted(_ENTRY_KEYS - set(entry)), n=1)
        fix = f"did you mean '{near[0]}'?" if near else f"use only {', '.join(sorted(_ENTRY_KEYS))}"
        misspelt.update(near)
        problems.append(_problem(path, f"{where}.{k}", "unknown key", fix))
    return problems, misspelt


def _entry_span(
    path: str, where: str, entry: Mapping[str, Any]
) -> tuple[Span | None, list[Problem]]:
    """One entry's span, or the problems that keep it from being one (in field order)."""
    problems, misspelt = _unknown_keys(path, where, entry)
    for k in ("unit", "what"):
        if not isinstance(entry.get(k), str) or not entry[k].strip():
            problems.append(_problem(path, f"{where}.{k}", "missing or empty",
                                     f"say in {k} what the number is"))  # fmt: skip
    src = entry.get("source")
    if not isinstance(src, str) or not src.startswith(("http://", "https://")):
        problems.append(_problem(path, f"{where}.source", f"not a URL: {src!r}",
                                 "give the publisher's page as an http(s) URL"))  # fmt: skip
    if "same_as" in entry:
        if not isinstance(entry.get("note"), str) or not entry["note"].strip():
            fix = "say in note why another parameter's numbers stand in"
            problems.append(_problem(path, f"{where}.note", "missing for a same_as entry", fix))
        return None, problems
    values: dict[str, float] = {}
    for k in ("low", "typical", "high"):
        if k not in entry:
            if k != "typical" and k not in misspelt:
                fix = f"give {k} as a number (or same_as another parameter)"
                problems.append(_problem(path, f"{where}.{k}", "missing", fix))
            continue
        v = _number(entry[k])
        if v is None or v < 0:
            problems.append(_problem(path, f"{where}.{k}", f"not a number >= 0: {entry[k]!r}",
                                     f"give {k} as a finite number >= 0"))  # fmt: skip
        else:
            values[k] = v
    if problems or "low" not in values or "high" not in values:
        return None, problems
    low, high, typ = values["low"], values["high"], values.get("typical")
    if low > high:
        problems.append(_problem(path, f"{where}.low", f"low {low:g} is above high {high:g}",
                                 "swap them: low is the smaller figure"))  # fmt: skip
    elif typ is not None and not low <= typ <= high:
        msg = f"typical {typ:g} lies outside low {low:g} .. high {high:g}"
        fix = "give a typical value between low and high, or leave it out"
        problems.append(_problem(path, f"{where}.typical", msg, fix))
    return (None if problems else Span.of(low, high, typ)), problems


def _parse(path: Path) -> dict[str, Any]:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        msg = f"{name}: cannot read ({e.__class__.__name__}); give a UTF-8 TOML file"
        raise UnreadableError(msg) from e
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ValidationError([_problem(name, "", f"not valid TOML ({e})",
                                        "fix the syntax at the line named")]) from e  # fmt: skip


def _rail_countries(name: str, table: Any, problems: list[Problem]) -> dict[str, Span]:
    """The ``[rail_country.ISO3]`` tariffs; their problems are added to ``problems``."""
    out: dict[str, Span] = {}
    for code, entry in table.items() if isinstance(table, dict) else []:
        where = f"rail_country.{code}"
        if not (len(code) == 3 and code.isupper() and code.isalpha()):
            problems.append(_problem(name, where, "not an ISO 3166-1 alpha-3 code",
                                     "name the country by its three capital letters"))  # fmt: skip
            continue
        if not isinstance(entry, dict):
            problems.append(_problem(name, where, "not a table", f"write it as [{where}]"))
            continue
        span, found = _entry_span(name, where, entry)
        problems += found
        if span is not None:
            out[code] = span
    return out


def read_cost_table(path: str | Path) -> CostTable:
    """Read and validate a cost table (the bundled one is ``layers/costs.toml``).

    Parameters
    ----------
    path
        The TOML file: ``[parameter.NAME]`` entries with ``low``, ``high`` (and an optional
        ``typical``), ``unit``, ``what``, ``source`` and ``note``, or ``same_as`` another
        parameter; ``[rail_country.ISO3]`` rail tariffs of one country; ``[[not_found]]``.

    Returns
    -------
    CostTable
        Every parameter as a :class:`Span`.

    Raises
    ------
    ValidationError
        Every problem found, one line each naming the file, the key and the fix.
    UnreadableError
        The file cannot be read.
    """
    path = Path(path)
    name = str(path)
    data = _parse(path)
    problems: list[Problem] = []
    spans: dict[str, Span] = {}
    units: dict[str, str] = {}
    sources: dict[str, str] = {}
    aliases: dict[str, str] = {}
    sourced: set[str] = set()
    params = data.get("parameter", {})
    for key, entry in params.items() if isinstance(params, dict) else []:
        where = f"parameter.{key}"
        if not isinstance(entry, dict):
            problems.append(_problem(name, where, "not a table", f"write it as [{where}]"))
            continue
        span, found = _entry_span(name, where, entry)
        problems += found
        if span is not None:
            spans[key] = span
            if "typical" in entry:
                sourced.add(key)
        elif "same_as" in entry and not found:
            aliases[key] = str(entry["same_as"])
        units[key], sources[key] = str(entry.get("unit", "")), str(entry.get("source", ""))
    for key, target in aliases.items():
        if target not in spans:
            problems.append(_problem(name, f"parameter.{key}.same_as",
                                     f"names no parameter with numbers: {target!r}",
                                     "name a parameter that has low and high"))  # fmt: skip
        else:
            spans[key] = spans[target]
            if target in sourced:
                sourced.add(key)
    for key in REQUIRED:
        if key not in params:
            problems.append(_problem(name, f"parameter.{key}", "missing",
                                     "add it with low, high, unit, what and source"))  # fmt: skip
    by_country = _rail_countries(name, data.get("rail_country", {}), problems)
    listed = data.get("not_found", [])
    not_found = tuple(str(e.get("what", "")) for e in listed if isinstance(e, dict))
    if problems:
        raise ValidationError(problems)
    return CostTable(name, spans, units, sources, by_country, not_found, frozenset(sourced))


@lru_cache(maxsize=1)
def cost_table() -> CostTable:
    """The bundled cost table (``layers/costs.toml``), read once."""
    return read_cost_table(bundled_dir("layers") / "costs.toml")


# --- published transit times -----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RouteQuery:
    """A published figure's route: a reference route id, or places and constraints."""

    id: str
    what: str
    source: str
    route: str | None = None
    origin: str | None = None
    destination: str | None = None
    via: tuple[str, ...] = ()
    avoid: tuple[str, ...] = ()
    modes: tuple[str, ...] | None = None
    status: tuple[str, ...] | None = None
    period: str = ""
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class Observed(RouteQuery):
    """A published door-to-door transit time (``[[observed]]``).

    ``conditions`` says what the figure measured (:data:`CONDITIONS`): the regular service the
    typical days stand for, a period of queues, or a timetable with booked slots.
    """

    low_days: float
    high_days: float
    conditions: str = "regular"


# what a published time measured -> how the computed days must relate to it
CONDITIONS = {
    "regular": "the typical days fall inside the published range",
    "congested": "queues the typical leaves out: the published range lies above the typical days",
    "scheduled": "a timetable or express service with booked ferry slots: the published range "
    "lies between the low and the typical days",
}


def fits_observed(o: Observed, days: Mapping[str, float]) -> bool:
    """Whether computed ``days`` ({low, typical, high}) agree with a published time.

    As :data:`CONDITIONS` says for the figure's conditions.

    >>> o = Observed(id="x", what="x", source="https://x", low_days=10, high_days=12)
    >>> fits_observed(o, {"low": 8, "typical": 11, "high": 20})
    True
    >>> late = Observed(id="x", what="x", source="https://x", low_days=10, high_days=12,
    ...                 conditions="congested")
    >>> fits_observed(late, {"low": 8, "typical": 11, "high": 20})
    False
    """
    if o.conditions == "congested":
        return days["typical"] < o.low_days
    if o.conditions == "scheduled":
        return days["low"] <= o.low_days and o.high_days <= days["typical"]
    return o.low_days <= days["typical"] <= o.high_days


@dataclass(frozen=True, kw_only=True)
class ObservedCost(RouteQuery):
    """A published through rate per TEU (``[[observed_cost]]``)."""

    low_usd_per_teu: float
    high_usd_per_teu: float


# table name -> (its low and high keys)
_OBSERVED_TABLES = {"observed": ("low_days", "high_days"),
                    "observed_cost": ("low_usd_per_teu", "high_usd_per_teu")}  # fmt: skip


def _strings(v: Any) -> tuple[str, ...] | None:
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return tuple(v)
    return None


def _observed_problems(name: str, where: str, e: Mapping[str, Any], table: str) -> list[Problem]:
    lo_key, hi_key = _OBSERVED_TABLES[table]
    allowed = _OBSERVED_KEYS | {lo_key, hi_key} | ({"conditions"} if table == "observed" else set())
    known = ", ".join(sorted(allowed))
    out = [_problem(name, f"{where}.{k}", "unknown key", f"use only {known}")
           for k in e if k not in allowed]  # fmt: skip
    for k in ("id", "what"):
        if not isinstance(e.get(k), str) or not e[k].strip():
            out.append(_problem(name, f"{where}.{k}", "missing or empty", f"give {k} as text"))
    src = e.get("source")
    if not isinstance(src, str) or not src.startswith(("http://", "https://")):
        out.append(_problem(name, f"{where}.source", f"not a URL: {src!r}",
                            "give the publisher's page as an http(s) URL"))  # fmt: skip
    lo, hi = _number(e.get(lo_key)), _number(e.get(hi_key))
    if lo is None or hi is None or lo <= 0 or hi <= 0:
        out.append(_problem(name, f"{where}.{lo_key}", f"{lo_key} and {hi_key} must be numbers > 0",
                            "give the published range (a single figure as both)"))  # fmt: skip
    elif lo > hi:
        out.append(_problem(name, f"{where}.{lo_key}", f"{lo_key} {lo:g} is above {hi_key} {hi:g}",
                            "swap them"))  # fmt: skip
    if "conditions" in e and e["conditions"] not in CONDITIONS:
        out.append(_problem(name, f"{where}.conditions", f"unknown conditions {e['conditions']!r}",
                            f"use one of {', '.join(CONDITIONS)}"))  # fmt: skip
    has_ends = isinstance(e.get("from"), str) and isinstance(e.get("to"), str)
    if isinstance(e.get("route"), str) == has_ends:
        fix = "give a routes.toml id as route, or node ids as from and to"
        out.append(_problem(name, where, "needs either route or both from and to", fix))
    for k in ("via", "avoid", "modes", "status"):
        if k in e and _strings(e[k]) is None:
            out.append(_problem(name, f"{where}.{k}", "not a list of texts",
                                f'write {k} = ["...", "..."]'))  # fmt: skip
    return out


def _query_fields(e: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": e["id"], "what": e["what"], "source": e["source"], "route": e.get("route"),
        "origin": e.get("from"), "destination": e.get("to"),
        "via": _strings(e.get("via", [])) or (), "avoid": _strings(e.get("avoid", [])) or (),
        "modes": _strings(e["modes"]) if "modes" in e else None,
        "status": _strings(e["status"]) if "status" in e else None,
        "period": str(e.get("period", "")), "note": str(e.get("note", "")),
    }  # fmt: skip


def _read_observed_table(path: str | Path, table: str) -> list[dict[str, Any]]:
    """The valid entries of one table of published figures, as keyword arguments."""
    path = Path(path)
    name = str(path)
    entries = _parse(path).get(table, [])
    lo_key, hi_key = _OBSERVED_TABLES[table]
    problems: list[Problem] = []
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, e in enumerate(entries if isinstance(entries, list) else []):
        ident = e.get("id") if isinstance(e, dict) else None
        where = f"{table} #{i + 1}" + (f" ({ident})" if isinstance(ident, str) else "")
        if not isinstance(e, dict):
            problems.append(_problem(name, where, "not a table", f"write it as [[{table}]]"))
            continue
        found = _observed_problems(name, where, e, table)
        if e.get("id") in seen:
            found.append(_problem(name, f"{where}.id", "repeated", "give each entry its own id"))
        seen.add(str(e.get("id")))
        problems += found
        if not found:
            extra = {"conditions": e["conditions"]} if "conditions" in e else {}
            out.append({**_query_fields(e), lo_key: float(e[lo_key]), hi_key: float(e[hi_key]),
                        **extra})  # fmt: skip
    if problems:
        raise ValidationError(problems)
    return out


def read_observed(path: str | Path) -> tuple[Observed, ...]:
    """Read and validate the published transit times (``[[observed]]`` of ``layers/observed.toml``).

    Raises
    ------
    ValidationError
        Every problem found, one line each naming the file, the entry and the fix.
    """
    return tuple(Observed(**kw) for kw in _read_observed_table(path, "observed"))


def read_observed_costs(path: str | Path) -> tuple[ObservedCost, ...]:
    """Read and validate the published through rates per TEU (``[[observed_cost]]``).

    Raises
    ------
    ValidationError
        Every problem found, one line each naming the file, the entry and the fix.
    """
    return tuple(ObservedCost(**kw) for kw in _read_observed_table(path, "observed_cost"))


@lru_cache(maxsize=1)
def observed_times() -> tuple[Observed, ...]:
    """The bundled published transit times (``layers/observed.toml``), read once."""
    return read_observed(bundled_dir("layers") / "observed.toml")


@lru_cache(maxsize=1)
def observed_costs() -> tuple[ObservedCost, ...]:
    """The bundled published through rates per TEU (``layers/observed.toml``), read once."""
    return read_observed_costs(bundled_dir("layers") / "observed.toml")


# --- days --------------------------------------------------------------------------------------


def _speed_days(km: float, key: str) -> Span:
    fast, typ, slow = transit_parameters().triple(key)
    return Span(km / fast, km / typ, km / slow)


def mode_days(mode: str, length_km: float, gauge_mm: int | None, fuel: str | None = None) -> Span:
    """The days a leg of ``mode`` adds, waits of ferries and port calls included (unrounded).

    Rail runs at its gauge's speed (1435 mm, else the 1520 mm network's); oil in a pipeline at
    the oil's own speed, gas legs are not timed (no sourced gas velocity: 0 days); a tanker
    leg (``fuel`` at sea) at a laden tanker's speed; any other mode at a container ship's
    speed, with one port call.
    """
    tp = transit_parameters()
    if mode == "pipeline":
        return _speed_days(length_km, "pipeline_oil_km_per_day") if fuel in ("oil", "ngl") else ZERO
    if mode == "rail":
        return _speed_days(length_km, "rail_1435_km_per_day" if gauge_mm == 1435
                           else "rail_1520_km_per_day")  # fmt: skip
    if mode == "road":
        return _speed_days(length_km, "road_km_per_day")
    if mode == "ferry":
        return _speed_days(length_km, "ferry_km_per_day") + Span(*tp.triple("ferry_wait_days"))
    fast, typ, slow = tp.triple("tanker_knots" if fuel else "ship_knots")
    pf, pt, ps = tp.triple("port_call_days")
    # knots * 1.852 * 24, multiplied in this order, as the days were always computed
    return Span(length_km / (fast * 1.852 * 24) + pf, length_km / (typ * 1.852 * 24) + pt,
                length_km / (slow * 1.852 * 24) + ps)  # fmt: skip


def leg_days(leg: Leg) -> Span:
    """The days one leg adds (:func:`mode_days` of its mode, km and gauge)."""
    return mode_days(leg.mode, leg.length_km, leg.gauge_mm, leg.fuel)


def crossing_days(borders: Any, gauge_breaks: Any) -> tuple[Any, Any, Any]:
    """The days border crossings and gauge changes add: (low, typical, high), unrounded.

    Parameters
    ----------
    borders, gauge_breaks
        Counts: ints, or integer arrays (one per route) for the supply table.
    """
    tp = transit_parameters()
    b = tp.triple("border_hours")
    g = tp.triple("gauge_change_hours")
    lo, typ, hi = ((borders * bh + gauge_breaks * gh) / 24 for bh, gh in zip(b, g, strict=True))
    return lo, typ, hi


def route_days(legs: Sequence[Leg], borders: int, gauge_breaks: int) -> Span:
    """Door-to-door days of a route: its legs in travel order, then its crossings (unrounded)."""
    total = ZERO
    for leg in legs:
        total = total + leg_days(leg)
    return total + Span(*crossing_days(borders, gauge_breaks))


# --- money and carbon per leg ------------------------------------------------------------------


def _rail_cost(length_km: float, km_by_country: Mapping[str, float], gauge_mm: int | None,
               t: CostTable) -> Span:  # fmt: skip
    """Rail km at each country's tariff where the table has one, else at the gauge's."""
    default = t.get("rail_1435_usd_per_teu_km" if gauge_mm == 1435 else "rail_1520_usd_per_teu_km")
    total, counted = ZERO, 0.0
    for code, km in km_by_country.items():
        if code == SEA:
            continue
        total = total + t.rail_by_country.get(code, default).times(km)
        counted += km
    return total + default.times(max(length_km - counted, 0.0))


def mode_cost_usd(mode: str, length_km: float, km_by_country: Mapping[str, float],
                  gauge_mm: int | None, table: CostTable | None = None) -> Span | None:  # fmt: skip
    """USD per TEU for a leg's line haul (None for a pipeline or an unknown mode)."""
    t = table or cost_table()
    if mode == "rail":
        return _rail_cost(length_km, km_by_country, gauge_mm, t)
    if mode == "road":
        return t.get("road_usd_per_teu_km").times(length_km)
    if mode == "sea":
        return t.get("sea_usd_per_teu_km").times(length_km)
    if mode == "ferry":
        return t.get("ferry_usd_per_teu")
    return None


def mode_co2e_kg(mode: str, length_km: float, table: CostTable | None = None) -> Span | None:
    """The kg CO2e per TEU of a leg's line haul (None for a pipeline or an unknown mode)."""
    t = table or cost_table()
    if mode == "sea":
        return t.get("co2e_sea_kg_per_teu_km").times(length_km)
    key = {"rail": "co2e_rail_kg_per_tkm", "road": "co2e_road_kg_per_tkm",
           "ferry": "co2e_ferry_kg_per_tkm"}.get(mode)  # fmt: skip
    if key is None:
        return None
    return t.get(key).product(t.get("payload_t_per_teu")).times(length_km)


def leg_cost_usd(leg: Leg, table: CostTable | None = None) -> Span | None:
    """USD per TEU for one leg's line haul (:func:`mode_cost_usd`)."""
    return mode_cost_usd(leg.mode, leg.length_km, leg.km_by_country, leg.gauge_mm, table)


def leg_co2e_kg(leg: Leg, table: CostTable | None = None) -> Span | None:
    """The kg CO2e per TEU of one leg's line haul (:func:`mode_co2e_kg`)."""
    return mode_co2e_kg(leg.mode, leg.length_km, table)


# --- transfers ---------------------------------------------------------------------------------

_TRANSFER_USD = {"border": "border_usd_per_teu", "gauge_break": "gauge_change_usd_per_teu",
                 "transshipment": "port_handling_usd_per_teu"}  # fmt: skip


def _transfer_span(by: str, kind: str, table: CostTable | None = None) -> Span:
    if kind not in TRANSFERS:
        msg = f"unknown transfer {kind!r}; one of {', '.join(TRANSFERS)}"
        raise ValueError(msg)
    if by == "days":
        if kind == "transshipment":  # a ferry's wait and a ship's port call are in their legs
            return ZERO
        lo, typ, hi = crossing_days(1 if kind == "border" else 0, 1 if kind == "gauge_break" else 0)
        return Span(lo, typ, hi)
    if by == "cost":
        return (table or cost_table()).get(_TRANSFER_USD[kind])
    if by == "co2":
        return ZERO  # hub emissions: not found (layers/costs.toml, [[not_found]])
    msg = f"unknown weight {by!r}; one of {', '.join(WEIGHTS)}"
    raise ValueError(msg)


def transfer_weight(by: str, kind: str, case: Case = "typical") -> float:
    """What one transfer adds to a route: days, USD per TEU or kg CO2e per TEU.

    Parameters
    ----------
    by
        ``"days"``, ``"cost"`` or ``"co2"``.
    kind
        ``"border"`` (a change of country on land or at a ferry's ports), ``"gauge_break"``
        (1435/1520 mm) or ``"transshipment"`` (a change of mode).
    case
        ``"low"``, ``"typical"`` or ``"high"``.

    >>> transfer_weight("co2", "border")
    0.0
    """
    return _transfer_span(by, kind).pick(case)


def route_cost_usd(legs: Sequence[Leg], borders: int, gauge_breaks: int,
                   transshipments: int, table: CostTable | None = None) -> Span | None:  # fmt: skip
    """USD per TEU of a route: its legs' line haul plus its transfers (None with a pipeline)."""
    total = ZERO
    for leg in legs:
        part = leg_cost_usd(leg, table)
        if part is None:
            return None
        total = total + part
    for kind, n in (("border", borders), ("gauge_break", gauge_breaks),
                    ("transshipment", transshipments)):  # fmt: skip
        total = total + _transfer_span("cost", kind, table).times(n)
    return total


def route_co2e_kg(legs: Sequence[Leg], table: CostTable | None = None) -> Span | None:
    """The kg CO2e per TEU of a route: its legs' line haul (None with a pipeline leg)."""
    total = ZERO
    for leg in legs:
        part = leg_co2e_kg(leg, table)
        if part is None:
            return None
        total = total + part
    return total


# --- edge weights ------------------------------------------------------------------------------


def inner_borders(e: Mapping[str, Any]) -> int:
    """Border crossings inside one land edge: its countries (sea left out) less one.

    A sea edge crosses no border (its countries' waters are not entered); a ferry's
    crossing lies at its ports, between edges.
    """
    if e["mode"] in ("sea", "ferry"):
        return 0
    return max(sum(1 for c in e["km_by_country"] if c != SEA) - 1, 0)


def edge_days(e: Mapping[str, Any], case: Case = "typical") -> float:
    """Days to traverse a network edge, the border dwell inside it included."""
    span = mode_days(e["mode"], float(e["length_km"]), e.get("gauge_mm"), e.get("fuel"))
    return (span + _transfer_span("days", "border").times(inner_borders(e))).pick(case)


def edge_cost_usd(e: Mapping[str, Any], case: Case = "typical") -> float:
    """USD per TEU to traverse a network edge, border fees inside it included (inf: no TEU)."""
    span = mode_cost_usd(e["mode"], float(e["length_km"]), e["km_by_country"], e.get("gauge_mm"))
    if span is None:
        return math.inf
    return (span + _transfer_span("cost", "border").times(inner_borders(e))).pick(case)


def edge_co2e_kg(e: Mapping[str, Any], case: Case = "typical") -> float:
    """The kg CO2e per TEU to traverse a network edge (inf where no container moves)."""
    span = mode_co2e_kg(e["mode"], float(e["length_km"]))
    return math.inf if span is None else span.pick(case)


WEIGHTS: dict[str, Callable[[Mapping[str, Any], Case], float]] = {
    "days": edge_days, "cost": edge_cost_usd, "co2": edge_co2e_kg,
}  # fmt: skip


def edge_weight(by: str, case: Case = "typical") -> Callable[[Mapping[str, Any]], float]:
    """The edge weight a router minimises for ``--by days|cost|co2``, in the given case.

    >>> w = edge_weight("cost")
    >>> w({"mode": "pipeline", "length_km": 10.0, "km_by_country": {}, "gauge_mm": None})
    inf
    """
    if by not in WEIGHTS:
        msg = f"unknown weight {by!r}; one of {', '.join(WEIGHTS)}"
        raise ValueError(msg)
    if case not in CASES:
        msg = f"unknown case {case!r}; one of {', '.join(CASES)}"
        raise ValueError(msg)
    f = WEIGHTS[by]
    return lambda e: f(e, case)


# --- differences and orderings ---------------------------------------------------------------


def ordered(lo: float | None, hi: float | None) -> tuple[float | None, float | None]:
    """Two ends of a range, smaller first (a missing end leaves both as given).

    >>> ordered(8.1, 2.8), ordered(None, 2.0)
    ((2.8, 8.1), (None, 2.0))
    """
    if lo is None or hi is None or lo != lo or hi != hi or lo <= hi:
        return lo, hi
    return hi, lo


def extra_span(constrained: Mapping[str, float], free: Mapping[str, float],
               ndigits: int = 1) -> dict[str, float]:  # fmt: skip
    """What a constrained route adds to a free one, case by case, as an ordered range.

    The typical extra is the typical figures' difference; ``low`` and ``high`` are the least
    and the most of the three cases' differences (avoiding a country can cost more in the fast
    case than in the slow one: the case differences are not ordered themselves), so
    ``low <= typical <= high`` always.

    >>> extra_span({"low": 10, "typical": 12, "high": 14}, {"low": 2, "typical": 5, "high": 11})
    {'low': 3, 'typical': 7, 'high': 8}
    """
    diffs = {c: constrained[c] - free[c] for c in CASES if c in constrained and c in free}
    if "typical" not in diffs:
        lo, hi = ordered(diffs.get("low"), diffs.get("high"))
        return {k: round(v, ndigits) for k, v in (("low", lo), ("high", hi)) if v is not None}
    vals = list(diffs.values())
    out = {"low": min(vals), "typical": diffs["typical"], "high": max(vals)}
    return {k: round(v, ndigits) for k, v in out.items()}
