"""The transit parameters (``layers/transit.toml``): speeds, dwell times, the road detour factor.

Every number carries its source in the file; edit it there, never in code. Each parameter has a
fast case (``fast``), a slow case (``slow``) and a typical value: the entry's ``typical`` where a
source gives one, else the geometric mean of the two cases (:func:`typical_of`).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache

from ..data.bundled import bundled_dir
from ..errors import SpecError

__all__ = ["TransitParameters", "road_detour_factor", "transit_parameters", "typical_of"]


def typical_of(a: float, b: float) -> float:
    """The typical value of a range without a sourced one: the geometric mean of its ends.

    The geometric mean suits rates and times spread over a factor (47 minutes to 72 hours at a
    gauge change): it lies between the ends, and a speed's typical value gives the typical
    time (the time at the geometric mean of two speeds is the geometric mean of the times).

    >>> typical_of(4.0, 9.0), typical_of(5.0, 5.0)
    (6.0, 5.0)
    """
    return math.sqrt(a * b)


@dataclass(frozen=True)
class TransitParameters:
    """Speeds and dwell times (low = fast case, high = slow case), each with a source."""

    values: dict[str, tuple[float, float]]
    sources: dict[str, str]
    typicals: dict[str, float] = field(default_factory=dict)

    def get(self, key: str) -> tuple[float, float]:
        """The (fast, slow) pair of parameter ``key``, in the key's own unit.

        E.g. ``ship_knots`` in knots, ``road_km_per_day`` in km per day, ``ferry_wait_days`` in
        days. A key the table lacks raises KeyError.
        """
        return self.values[key]

    def triple(self, key: str) -> tuple[float, float, float]:
        """The (fast, typical, slow) values of parameter ``key``, in the key's own unit.

        The typical value is the table's ``typical`` where given, else :func:`typical_of` the
        two cases. A key the table lacks raises KeyError.
        """
        fast, slow = self.values[key]
        return fast, self.typicals.get(key, typical_of(fast, slow)), slow

    def typical_basis(self, key: str) -> str:
        """Where ``key``'s typical value comes from: ``"source"`` or ``"geometric mean"``."""
        fast, slow = self.values[key]
        return "source" if key in self.typicals or fast == slow else "geometric mean"


@lru_cache(maxsize=1)
def transit_parameters() -> TransitParameters:
    """The bundled parameter table (``layers/transit.toml``)."""
    path = bundled_dir("layers") / "transit.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    values, sources, typicals = {}, {}, {}
    for key, entry in data.get("parameter", {}).items():
        try:
            fast, slow = float(entry["fast"]), float(entry["slow"])
            sources[key] = str(entry["source"])
            if "typical" in entry:
                typicals[key] = float(entry["typical"])
        except (KeyError, TypeError, ValueError) as e:
            msg = f"{path}: parameter.{key}: needs numbers 'fast' and 'slow' and a 'source'"
            raise SpecError(msg) from e
        t = typicals.get(key)
        if t is not None and not min(fast, slow) <= t <= max(fast, slow):
            msg = (f"{path}: parameter.{key}: typical {t} lies outside fast {fast} .. slow "
                   f"{slow}; give a typical value between the two cases")  # fmt: skip
            raise SpecError(msg)
        values[key] = (fast, slow)
    return TransitParameters(values, sources, typicals)


def road_detour_factor() -> float:
    """Road km per straight km, for a deposit's access leg (``road_detour_factor`` in the table)."""
    return transit_parameters().get("road_detour_factor")[0]
