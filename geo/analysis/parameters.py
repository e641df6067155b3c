"""The transit parameters (``layers/transit.toml``): speeds, dwell times, the road detour factor.

Every number carries its source in the file; edit it there, never in code.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache

from ..data.bundled import bundled_dir
from ..errors import SpecError

__all__ = ["TransitParameters", "road_detour_factor", "transit_parameters"]


@dataclass(frozen=True)
class TransitParameters:
    """Speeds and dwell times (low = fast case, high = slow case), each with a source."""

    values: dict[str, tuple[float, float]]
    sources: dict[str, str]

    def get(self, key: str) -> tuple[float, float]:
        """The (fast, slow) pair of parameter ``key``, in the key's own unit.

        E.g. ``ship_knots`` in knots, ``road_km_per_day`` in km per day, ``ferry_wait_days`` in
        days. A key the table lacks raises KeyError.
        """
        return self.values[key]


@lru_cache(maxsize=1)
def transit_parameters() -> TransitParameters:
    """The bundled parameter table (``layers/transit.toml``)."""
    path = bundled_dir("layers") / "transit.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    values, sources = {}, {}
    for key, entry in data.get("parameter", {}).items():
        try:
            values[key] = (float(entry["fast"]), float(entry["slow"]))
            sources[key] = str(entry["source"])
        except (KeyError, TypeError, ValueError) as e:
            msg = f"{path}: parameter.{key}: needs numbers 'fast' and 'slow' and a 'source'"
            raise SpecError(msg) from e
    return TransitParameters(values, sources)


def road_detour_factor() -> float:
    """Road km per straight km, for a deposit's access leg (``road_detour_factor`` in the table)."""
    return transit_parameters().get("road_detour_factor")[0]
