"""The user layer directory: add, list and remove the user's own layers.

Layers live in ``$CORRIDOR_HOME`` when set, else in platformdirs' user data directory, as
``NAME.geojson`` (normalised: WGS84, RFC 7946 winding) plus ``NAME.meta.json`` (kind,
colour-by property, original file). Every write is atomic; input files are only read.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry import mapping
from shapely.geometry.polygon import orient

from .errors import LayerStoreError
from .schema import SCHEMA

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def user_dir() -> Path:
    """Where user layers are stored (not created until a layer is added)."""
    home = os.environ.get("CORRIDOR_HOME")
    if home:
        return Path(home).expanduser() / "layers"
    import platformdirs

    return Path(platformdirs.user_data_dir("corridor-map", appauthor=False)) / "layers"


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _jsonable(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, float) and v != v:  # NaN
        return None
    if hasattr(v, "item") and not isinstance(v, list | dict | str):
        return v.item()
    if hasattr(v, "tolist"):
        return v.tolist()
    return v


def _orient(g: shapely.Geometry) -> shapely.Geometry:
    if isinstance(g, shapely.Polygon):
        return orient(g, 1.0)
    if isinstance(g, shapely.MultiPolygon):
        return shapely.MultiPolygon([orient(p, 1.0) for p in g.geoms])
    return g


def to_geojson(gdf: gpd.GeoDataFrame) -> str:
    """A FeatureCollection (RFC 7946: WGS84, counter-clockwise outer rings), stable text."""
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    feats = []
    for _, row in gdf.iterrows():
        props = {c: _jsonable(row[c]) for c in cols}
        geom = mapping(_orient(shapely.set_precision(row.geometry, 1e-6)))
        feats.append({"type": "Feature", "properties": props, "geometry": geom})
    return json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False,
                      indent=None, separators=(",", ":")) + "\n"  # fmt: skip


def _check_name(name: str) -> str:
    if not NAME_RE.match(name):
        msg = (
            f"layer name '{name}' must start with a letter or digit and hold only letters, "
            "digits, '.', '_' or '-' (at most 64); pass --name"
        )
        raise LayerStoreError(msg)
    return name


def add_layer(
    path: str | Path,
    *,
    name: str | None = None,
    kind: str | None = None,
    color_by: str | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Validate a file and store a normalised copy as a user layer; return its listing entry."""
    from .layers import load_layer

    src = Path(path)
    name = _check_name(name or src.name.split(".")[0])
    target = user_dir() / f"{name}.geojson"
    if target.exists() and not force:
        msg = f"a user layer named '{name}' exists already; pass --force to replace it"
        raise LayerStoreError(msg)
    gdf = load_layer(src, kind=kind)
    if color_by is not None and color_by not in gdf.columns:
        msg = (
            f"{src}: --color-by: no property '{color_by}' in the layer; "
            f"use one of {', '.join(c for c in gdf.columns if c != 'geometry')}"
        )
        raise LayerStoreError(msg)
    meta = {"name": name, "kind": gdf.attrs["kind"], "color_by": color_by,
            "source_file": src.name, "count": len(gdf)}  # fmt: skip
    atomic_write_text(target, to_geojson(gdf))
    atomic_write_text(user_dir() / f"{name}.meta.json", json.dumps(meta, indent=2) + "\n")
    return {**meta, "path": str(target), "bundled": False}


def remove_layer(name: str) -> None:
    """Remove a user layer by name."""
    target = user_dir() / f"{_check_name(name)}.geojson"
    if not target.exists():
        known = ", ".join(sorted(p.stem for p in user_dir().glob("*.geojson"))) or "none"
        msg = f"no user layer named '{name}' (user layers: {known})"
        raise LayerStoreError(msg)
    target.unlink()
    (user_dir() / f"{name}.meta.json").unlink(missing_ok=True)


def _meta(p: Path) -> dict[str, Any]:
    m = p.with_name(p.stem + ".meta.json")
    try:
        data = json.loads(m.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def user_layers() -> list[gpd.GeoDataFrame]:
    """Every stored user layer, validated, with ``attrs`` name, kind, color_by and path."""
    from .layers import load_layer

    d = user_dir()
    if not d.is_dir():
        return []
    out = []
    for p in sorted(d.glob("*.geojson")):
        meta = _meta(p)
        kind = meta.get("kind") if meta.get("kind") in SCHEMA else None
        gdf = load_layer(p, kind=kind, check_countries=False)
        gdf.attrs.update(name=p.stem, color_by=meta.get("color_by"), bundled=False)
        out.append(gdf)
    return out


def list_layers() -> list[dict[str, Any]]:
    """Bundled and user layers: name, kind, feature count, where stored."""
    from .layers import bundled_layers, load_bundled

    rows = []
    for stem, p in bundled_layers().items():
        g = load_bundled(stem)
        rows.append({"name": stem, "kind": g.attrs["kind"], "count": len(g), "path": str(p),
                     "bundled": True})  # fmt: skip
    for g in user_layers():
        rows.append({"name": g.attrs["name"], "kind": g.attrs["kind"], "count": len(g),
                     "path": g.attrs["path"], "bundled": False})  # fmt: skip
    return rows
