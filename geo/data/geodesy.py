"""The one ellipsoid: every length and distance in the package is measured with :data:`GEOD`.

>>> round(GEOD.inv(76.95, 43.24, 71.45, 51.17)[2] / 1000)  # Almaty to Astana, km
974
"""

from __future__ import annotations

from pyproj import Geod

GEOD = Geod(ellps="WGS84")
