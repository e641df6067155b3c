"""Corridor Map: maps and route statistics for Central Asia's Russia-bypassing corridors."""

from .errors import GeoError, RouteError, UnreadableError, ValidationError
from .layers import load_bundled, load_layer

__all__ = [
    "GeoError",
    "RouteError",
    "UnreadableError",
    "ValidationError",
    "load_bundled",
    "load_layer",
]
__version__ = "0.1.0"
