"""Corridor Map: maps and route statistics for Central Asia's Russia-bypassing corridors.

>>> import geo
>>> legs = geo.route("Xi'an", "Duisburg", avoid=["RUS"])        # doctest: +SKIP
"""

from .analysis.supply import exports, exports_summary
from .api import alternatives, bypass, capacity, network, places, reference_stats, route
from .data.layers import load_bundled, load_layer
from .errors import GeoError, RouteError, SpecError, UnreadableError, ValidationError

__all__ = [
    "GeoError",
    "RouteError",
    "SpecError",
    "UnreadableError",
    "ValidationError",
    "alternatives",
    "bypass",
    "capacity",
    "exports",
    "exports_summary",
    "load_bundled",
    "load_layer",
    "network",
    "places",
    "reference_stats",
    "route",
]
__version__ = "0.1.0"
