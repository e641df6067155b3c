"""What each commodity can travel by, and where it is sold (``layers/commodities.toml``).

Declared as data, never in code: the transport modes a commodity may use (crude oil by pipe,
rail tank car or tanker; natural gas by pipe only; ores and metals by rail, road, ferry and sea),
the pipeline fuel it travels in, its markets, and the tanker links between oil terminals with
their capacities and sources.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..data.bundled import bundled_dir
from ..data.schema import COMMODITIES
from ..errors import SpecError
from .capacity import FUEL_UNITS, TankerLink

__all__ = [
    "CommodityRule",
    "CommodityTable",
    "FieldLink",
    "commodity_table",
    "read_commodity_table",
]


@dataclass(frozen=True)
class CommodityRule:
    """How one group of commodities travels."""

    commodities: tuple[str, ...]
    modes: tuple[str, ...]
    prefer: tuple[str, ...]  # modes tried first (oil: pipe and tanker); the rest only if needed
    fuel: str | None  # the pipelines it may use (oil, gas, ngl); None: no pipeline
    markets: tuple[str, ...]  # node ids
    note: str
    source: str


@dataclass(frozen=True)
class FieldLink:
    """How a field the pipelines layer does not reach joins it: the lines its oil enters."""

    deposit: str  # deposit id
    joins: tuple[str, ...]  # GEM line ids (``P0646``): its gathering leg ends on one of them
    reach_km: float  # at most this far from the field
    source: str
    why: str


@dataclass(frozen=True)
class CommodityTable:
    """The rules by commodity, the default rule, the tanker links and the field links."""

    rules: tuple[CommodityRule, ...]
    default: CommodityRule
    links: tuple[TankerLink, ...]
    fields: tuple[FieldLink, ...] = ()

    def field(self, deposit: str) -> FieldLink | None:
        """The declared link of field ``deposit``, if any."""
        return next((f for f in self.fields if f.deposit == deposit), None)

    def rule(self, commodity: str) -> CommodityRule:
        """The rule of ``commodity`` (the default for one no rule names)."""
        for r in self.rules:
            if commodity in r.commodities:
                return r
        return self.default


def _strs(entry: dict[str, object], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        msg = f"{where}: '{key}' must be a list of strings"
        raise SpecError(msg)
    return tuple(value)


def _rule(entry: dict[str, object], where: str) -> CommodityRule:
    names = _strs(entry, "commodities", where)
    unknown = [n for n in names if n not in COMMODITIES]
    if unknown:
        msg = f"{where}: unknown commodities {unknown}; use names of the deposit schema"
        raise SpecError(msg)
    fuel = entry.get("fuel")
    if fuel is not None and fuel not in FUEL_UNITS:
        msg = f"{where}: fuel {fuel!r} is not one of {', '.join(FUEL_UNITS)}"
        raise SpecError(msg)
    modes = _strs(entry, "modes", where)
    if ("pipeline" in modes) != (fuel is not None):
        msg = f"{where}: a rule with mode 'pipeline' names its fuel, and only then"
        raise SpecError(msg)
    prefer = _strs(entry, "prefer", where)
    if not set(prefer) <= set(modes):
        extra = sorted(set(prefer) - set(modes))
        msg = f"{where}: 'prefer' lists modes that 'modes' does not: {extra}; add them to 'modes'"
        raise SpecError(msg)
    return CommodityRule(names, modes, prefer, None if fuel is None else str(fuel),
                         _strs(entry, "markets", where), str(entry.get("note", "")),
                         str(entry.get("source", "")))  # fmt: skip


def _link(entry: dict[str, object], where: str) -> TankerLink:
    try:
        cap = entry.get("capacity")
        return TankerLink(
            str(entry["id"]), str(entry["name"]), _strs(entry, "fuel", where),
            str(entry["from"]), str(entry["to"]), _strs(entry, "countries", where),
            None if cap is None else float(cap),  # type: ignore[arg-type]
            str(entry.get("status", "operational")), str(entry["source"]),
        )  # fmt: skip
    except (KeyError, TypeError, ValueError) as e:
        msg = f"{where}: a tanker link needs id, name, fuel, from, to, countries and source ({e})"
        raise SpecError(msg) from e


def _field(entry: dict[str, object], where: str) -> FieldLink:
    try:
        reach = float(entry["reach_km"])  # type: ignore[arg-type]
        out = FieldLink(str(entry["deposit"]), _strs(entry, "joins", where), reach,
                        str(entry["source"]), str(entry["why"]))  # fmt: skip
    except (KeyError, TypeError, ValueError) as e:
        msg = (f"{where}: a field link needs deposit, joins, reach_km (a number), source and "
               f"why ({e})")  # fmt: skip
        raise SpecError(msg) from e
    if not out.joins or reach <= 0:
        msg = f"{where}: 'joins' lists at least one GEM line id and 'reach_km' is above 0"
        raise SpecError(msg)
    return out


def read_commodity_table(path: str | Path) -> CommodityTable:
    """Read a commodity table; a malformed entry raises SpecError naming file and entry."""
    path = Path(path)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    rules = tuple(_rule(e, f"{path.name}: commodity {i + 1}")
                  for i, e in enumerate(data.get("commodity", [])))  # fmt: skip
    default = data.get("default")
    if not isinstance(default, dict):
        msg = f"{path.name}: needs a [default] table (modes of every other commodity)"
        raise SpecError(msg)
    links = tuple(_link(e, f"{path.name}: tanker_link {e.get('id', i + 1)}")
                  for i, e in enumerate(data.get("tanker_link", [])))  # fmt: skip
    fields = tuple(_field(e, f"{path.name}: field {e.get('deposit', i + 1)}")
                   for i, e in enumerate(data.get("field", [])))  # fmt: skip
    return CommodityTable(rules, _rule({**default, "commodities": []}, f"{path.name}: default"),
                          links, fields)  # fmt: skip


@lru_cache(maxsize=1)
def commodity_table() -> CommodityTable:
    """The bundled table (``layers/commodities.toml``)."""
    return read_commodity_table(bundled_dir("layers") / "commodities.toml")
