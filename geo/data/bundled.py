"""Where the bundled data lives.

``layers/`` and ``maps/`` at the root of a checkout, ``geo/_bundled/`` in an installed wheel.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import GeoError

__all__ = ["bundled_dir", "bundled_layers", "cache_dir"]


def bundled_dir(name: str) -> Path:
    """Folder of bundled data (``layers`` or ``maps``), in a wheel or in a source checkout."""
    here = Path(__file__).resolve().parents[1]  # the geo package
    for candidate in (here / "_bundled" / name, here.parent / name):
        if candidate.is_dir():
            return candidate
    msg = f"bundled folder '{name}' not found next to {here}; reinstall corridor-map"
    raise GeoError(msg)


def bundled_layers() -> dict[str, Path]:
    """Bundled layer files by stem, sorted."""
    return {p.stem: p for p in sorted(bundled_dir("layers").glob("*.geojson"))}


def cache_dir() -> Path:
    """Where derived copies are cached: ``$CORRIDOR_HOME/cache``, else platformdirs' cache folder.

    Never inside the package: an installed package may be read-only and shared. Everything in
    it can be deleted at any time; it is rebuilt when needed.
    """
    home = os.environ.get("CORRIDOR_HOME")
    if home:
        return Path(home).expanduser() / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir("corridor-map", appauthor=False))
