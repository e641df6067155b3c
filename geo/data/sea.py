"""Sea and ferry legs from searoute (Eurostat MARNET), never drawn by hand.

searoute is always called with explicit ``restrictions``; its "no path" warning is turned into
a :class:`RouteError` so that a blocked passage can never come back as a 0 km or straight leg.
"""

from __future__ import annotations

import itertools
import json
import tomllib
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import shapely

from ..errors import RouteError
from .bundled import bundled_dir
from .files import atomic_write_text
from .geodesy import GEOD
from .schema import PASSAGES, SEAROUTE_PASSAGE

# Closed to ordinary container shipping; kept closed on every call.
ALWAYS_RESTRICTED = ("northwest",)
_FROM_SEAROUTE = {v: k for k, v in SEAROUTE_PASSAGE.items()}


def canonical_passage(name: str) -> str:
    """The CLI's name for a passage: ``ormuz`` -> ``hormuz``, ``south_africa`` -> ``cape``."""
    n = name.strip().lower()
    n = _FROM_SEAROUTE.get(n, n)
    if n not in PASSAGES:
        msg = f"unknown sea passage '{name}'; use one of {', '.join(PASSAGES)}"
        raise RouteError(msg)
    return n


def restrictions(avoid: Iterable[str] = ()) -> list[str]:
    """The ``restrictions`` argument for searoute: passages to avoid, plus those always closed.

    ``avoid`` holds CLI passage names; they are translated to searoute's own names, sorted.
    """
    names = {SEAROUTE_PASSAGE.get(canonical_passage(a), canonical_passage(a)) for a in avoid}
    return sorted(set(ALWAYS_RESTRICTED) | names)


@dataclass(frozen=True)
class SeaLeg:
    """A sea route between two points: its line, geodesic length and passages traversed."""

    line: shapely.LineString
    length_km: float
    passages: tuple[str, ...]


def sea_leg(
    origin: tuple[float, float], destination: tuple[float, float], *, avoid: Iterable[str] = ()
) -> SeaLeg:
    """Shortest sea route from ``origin`` to ``destination`` (lon, lat) avoiding passages.

    Examples
    --------
    >>> leg = sea_leg((51.14, 43.60), (49.40, 39.90))  # Aktau to Alat across the Caspian
    >>> 400 < leg.length_km < 550
    True
    """
    import searoute

    restr = restrictions(avoid)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            feat = searoute.searoute(
                list(origin),
                list(destination),
                units="km",
                append_orig_dest=True,
                restrictions=restr,
                return_passages=True,
            )
        except Warning as w:
            msg = (
                f"no sea path from {origin} to {destination} with passages {', '.join(restr)} "
                f"closed ({w}); allow a passage"
            )
            raise RouteError(msg) from None
    coords = [(round(x, 5), round(y, 5)) for x, y in feat.geometry.coordinates]
    dedup = [c for i, c in enumerate(coords) if i == 0 or c != coords[i - 1]]
    if len(dedup) < 2:
        msg = f"no sea path from {origin} to {destination}: searoute returned an empty line"
        raise RouteError(msg)
    line = shapely.LineString(dedup)
    passages = tuple(
        sorted(
            _FROM_SEAROUTE.get(p, p)
            for p in feat.properties.get("traversed_passages", [])
            if _FROM_SEAROUTE.get(p, p) in PASSAGES
        )
    )
    return SeaLeg(line, GEOD.geometry_length(line) / 1000.0, passages)


def chained_leg(points: Sequence[tuple[float, float]], avoid: Iterable[str]) -> SeaLeg:
    """The sea route through ``points`` in order: one searoute path per pair, joined.

    ``through`` points of ``sea_legs.toml`` keep a leg off a shortcut searoute's network has and
    ships do not take (e.g. the Corinth Canal, 21 m wide, between the Ionian and Aegean seas).

    >>> a = chained_leg([(51.14, 43.60), (50.5, 41.5), (49.40, 39.90)], [])
    >>> b = sea_leg((51.14, 43.60), (49.40, 39.90))
    >>> a.length_km >= b.length_km
    True
    """
    avoid = list(avoid)
    parts = [sea_leg(p, q, avoid=avoid) for p, q in itertools.pairwise(points)]
    if len(parts) == 1:
        return parts[0]
    coords = list(parts[0].line.coords)
    for part in parts[1:]:
        coords += list(part.line.coords)[1:]
    passages = tuple(sorted({p for part in parts for p in part.passages}))
    return SeaLeg(shapely.LineString(coords), sum(p.length_km for p in parts), passages)


def generate_legs(
    legs_toml: str, nodes: dict[str, tuple[float, float]]
) -> dict[str, list[dict[str, Any]]]:
    """GeoJSON features of the sea and ferry legs declared in ``legs_toml``, by target layer.

    Maintainers run ``python -m geo.data.sea`` after editing ``layers/sea_legs.toml``; tests check
    that the stored lines are exactly what searoute gives today.
    """
    spec = tomllib.loads(legs_toml)
    out: dict[str, list[dict[str, Any]]] = {}
    for entry in spec.get("leg", []):
        a, b = nodes[entry["from"]], nodes[entry["to"]]
        # A port far from searoute's network joins it through an offshore approach point,
        # so that searoute's straight connector does not cut across land.
        sa = tuple(entry.get("approach_from", a))
        sb = tuple(entry.get("approach_to", b))
        leg = chained_leg([sa, *map(tuple, entry.get("through", [])), sb], entry.get("avoid", []))
        props = {
            "id": entry["id"], "name": entry["name"], "corridor": entry["corridor"],
            "mode": entry["mode"], "status": entry["status"], "gauge_mm": None,
            "from": entry["from"], "to": entry["to"], "precision": "schematic",
            "passages": list(leg.passages), "source": entry["source"],
            "as_of": entry.get("as_of"),
            **{k: entry[k] for k in ("fuel", "capacity_kbd") if entry.get(k) is not None},
            "notes": (entry.get("notes", "") + " Line generated with searoute (Eurostat MARNET), "
                      f"restrictions {restrictions(entry.get('avoid', []))}.").strip(),
        }  # fmt: skip
        coords = [list(c) for c in leg.line.coords]
        coords = ([list(a)] if sa != a else []) + coords + ([list(b)] if sb != b else [])
        coords[0], coords[-1] = list(a), list(b)
        feat = {"type": "Feature", "properties": props,
                "geometry": {"type": "LineString", "coordinates": coords}}  # fmt: skip
        out.setdefault(entry["layer"], []).append(feat)
    return out


def _main() -> None:  # pragma: no cover - maintainer tool

    d = bundled_dir("layers")
    nodes = {  # tanker legs start at the oil terminals
        f["properties"]["id"]: tuple(f["geometry"]["coordinates"])
        for name in ("nodes.geojson", "terminals.geojson")
        for f in json.loads((d / name).read_text(encoding="utf-8"))["features"]
    }
    generated = generate_legs((d / "sea_legs.toml").read_text(encoding="utf-8"), nodes)

    for layer, feats in generated.items():
        path = d / f"{layer}.geojson"
        doc = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"features": []}
        ids = {f["properties"]["id"] for f in feats}
        keep = [f for f in doc["features"] if f["properties"]["id"] not in ids]
        doc = {"type": "FeatureCollection", "features": keep + feats}
        atomic_write_text(path, dump_features(doc))
        print(f"{path.name}: {len(feats)} sea/ferry legs regenerated")


def dump_features(doc: dict[str, Any]) -> str:
    """One feature per line: diffs of a layer file stay readable."""
    feats = doc["features"]
    assert isinstance(feats, list)
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in feats]
    return '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"


if __name__ == "__main__":  # pragma: no cover
    _main()
