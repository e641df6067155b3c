"""Capitals and regional centres of the corridor countries, derived from Natural Earth.

``python -m geo.data.places NE_DIR`` reads Natural Earth's 1:50m populated places
(``NE_DIR/ne_50m_populated_places_simple.geojson``, public domain) and writes
``layers/places.geojson``: one ``city`` node for each national capital, first-order
administrative capital and large city (:data:`MIN_POPULATION`) of the countries in
:data:`COUNTRIES`. A place that ``layers/nodes.geojson`` already holds (same name or alias,
less than :data:`SAME_PLACE_KM` away) is left out: the hand-sourced nodes are authoritative.

The build is deterministic (same input, same bytes) and never runs at import or at run time:
users of the package do not have Natural Earth's folder, only the layer it wrote.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely

from ..errors import GeoError, Problem, ValidationError
from .bundled import bundled_dir
from .countries import check_point
from .files import atomic_write_text
from .geodesy import GEOD
from .layers import load_layer
from .readers import read_raw, text_problem
from .sea import dump_features
from .text import terminal_text

__all__ = [
    "COUNTRIES",
    "MIN_POPULATION",
    "NE_FILE",
    "SAME_PLACE_KM",
    "SOURCE",
    "build_places",
    "name_key",
    "write_places",
]

NE_FILE = "ne_50m_populated_places_simple.geojson"
SOURCE = "Natural Earth 1:50m populated places (naturalearthdata.com), public domain"
# The corridor countries, with the longitude east of which a country's places are left out
# (Russia's and China's Pacific sides lie beyond every corridor).
COUNTRIES: dict[str, float | None] = {
    "KAZ": None, "KGZ": None, "TJK": None, "TKM": None, "UZB": None, "AFG": None, "AZE": None,
    "GEO": None, "ARM": None, "IRN": None, "TUR": None, "RUS": 117.7, "MNG": None, "CHN": 119.5,
    "BLR": None, "POL": None, "DEU": None, "NLD": None, "BGR": None, "ROU": None, "SRB": None,
    "HUN": None, "GRC": None, "PAK": None, "JPN": None, "KOR": None,
}  # fmt: skip
# Natural Earth's feature classes kept whatever the population: capitals of a country, of a
# first-order region, and the alternative or regional seats it marks as such.
CAPITAL_CLASSES = {
    "Admin-0 capital": "national capital",
    "Admin-0 capital alt": "second capital",
    "Admin-0 region capital": "regional capital",
    "Admin-1 capital": "regional capital",
    "Admin-1 region capital": "regional capital",
}
# Other populated places are kept from this population (Natural Earth's ``pop_max``) up:
# Karaganda, Natural Earth's "Qaraghandy", is a regional centre it files as a populated place.
MIN_POPULATION = 100_000
SAME_PLACE_KM = 25.0
# Well-known spellings Natural Earth lacks, by (country, Natural Earth's ASCII name): the Russian
# forms still on timetables and maps, and the English forms users type.
HAND_ALIASES: dict[tuple[str, str], tuple[str, ...]] = {
    ("KAZ", "Aqtobe"): ("Aktobe", "Aktyubinsk"),
    ("KAZ", "Oral"): ("Uralsk",),
    ("KAZ", "Oskemen"): ("Ust-Kamenogorsk", "Öskemen"),
    ("KAZ", "Semey"): ("Semipalatinsk",),
    ("KAZ", "Qostanay"): ("Kostanay", "Kustanai"),
    ("KAZ", "Qaraghandy"): ("Karaganda", "Qaragandy"),
    ("KAZ", "Qyzylorda"): ("Kyzylorda",),
    ("KAZ", "Taraz"): ("Zhambyl",),
    ("KAZ", "Shymkent"): ("Chimkent",),
    ("KAZ", "Pavlodar"): ("Павлодар",),
    ("KAZ", "Atyrau"): ("Guryev",),
    ("KAZ", "Ekibastuz"): ("Ekibastuz",),
    ("UZB", "Samarqand"): ("Samarkand",),
    ("UZB", "Andijon"): ("Andijan",),
    ("UZB", "Bukhara"): ("Buxoro",),
    ("TKM", "Turkmenabat"): ("Chardzhou", "Türkmenabat"),
    ("TKM", "Turkmenbasy"): ("Turkmenbashi", "Krasnovodsk"),
    ("TKM", "Mary"): ("Merv",),
    ("KGZ", "Bishkek"): ("Frunze",),
    ("AFG", "Mazar-e Sharif"): ("Mazar-i-Sharif", "Mazari Sharif"),
    ("GEO", "Tbilisi"): ("Tiflis",),
    ("AZE", "Baku"): ("Baki", "Bakı"),
}
# Natural Earth alternatives that name another town (Klintsy is not Bryansk; Dongguan, a city
# of its own, is not Guangzhou): dropped, by (country, Natural Earth's ASCII name).
WRONG_ALIASES: dict[tuple[str, str], tuple[str, ...]] = {
    ("RUS", "Bryansk"): ("Klintsy",),
    ("CHN", "Guangzhou"): ("Dongguan, Guangdong",),
}
# A node's name that starts with a place's name is that place ("Almaty-1", "Sofia Central",
# "Istanbul Halkalı") when the place's name is at least this long and the two are near.
MIN_PREFIX_CHARS = 4
_NOT_WORD = re.compile(r"[^0-9a-z]+")


@dataclass(frozen=True)
class Place:
    """One populated place as kept: its node properties and its point (lon, lat)."""

    props: dict[str, Any]
    lon: float
    lat: float
    ascii_name: str  # Natural Earth's ASCII name (else its name): what the id is made of


def name_key(text: str) -> str:
    """A name reduced for matching: accents dropped, case folded, only letters and digits.

    Examples
    --------
    >>> name_key("Türkmenbaşy"), name_key("Ust'-Kamenogorsk"), name_key("Almaty")
    ('turkmenbasy', 'ustkamenogorsk', 'almaty')
    """
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NOT_WORD.sub("", folded.casefold())


def _slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NOT_WORD.sub("_", folded.casefold()).strip("_")


def _texts(value: Any) -> list[str]:
    """Natural Earth's name fields: text, ``|``-separated alternatives, or missing."""
    if not isinstance(value, str):
        return []
    return [t.strip() for t in value.split("|") if t.strip()]


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _kept(props: Mapping[str, Any], lon: float) -> tuple[str, str] | None:
    """(country, role) of a place the layer keeps, None for one it leaves out."""
    code = props.get("adm0_a3")
    if not isinstance(code, str) or code not in COUNTRIES:
        return None
    east = COUNTRIES[code]
    if east is not None and lon > east:
        return None
    cla = props.get("featurecla")
    if isinstance(cla, str) and cla in CAPITAL_CLASSES:
        return code, CAPITAL_CLASSES[cla]
    pop = _number(props.get("pop_max"))
    if cla == "Populated place" and pop is not None and pop >= MIN_POPULATION:
        return code, "city"
    return None


def _aliases(code: str, name: str, props: Mapping[str, Any]) -> list[str]:
    ascii_names = _texts(props.get("nameascii"))
    key = (code, ascii_names[0] if ascii_names else name)
    found = ascii_names + _texts(props.get("namealt")) + _texts(props.get("namepar"))
    found += HAND_ALIASES.get(key, ())
    wrong = WRONG_ALIASES.get(key, ())
    out: list[str] = []
    for a in found:
        if a != name and a not in out and a not in wrong:
            out.append(a)
    return out


def _place(path: str, i: int, props: Mapping[str, Any], geom: Any) -> Place | Problem | None:
    """The place of one Natural Earth feature, a problem with it, or None when not kept."""
    if not isinstance(geom, shapely.Point) or geom.is_empty:
        return None
    lon, lat = round(float(geom.x), 5), round(float(geom.y), 5)
    kept = _kept(props, lon)
    if kept is None:
        return None
    code, role = kept
    names = _texts(props.get("name"))
    label = names[0] if names else None
    if label is None:
        return Problem(path, "a kept place has no name", None, i, "name",
                       "give it a name or drop the feature")  # fmt: skip
    aliases = _aliases(code, label, props)
    for text in [label, *aliases]:
        if why := text_problem(text, 200):
            return Problem(path, why, label[:40], i, "name")
    if why := check_point(lon, lat, code):
        return Problem(path, why, label, i, "geometry")
    pop = _number(props.get("pop_max"))
    out = {
        "id": "",  # given once every place is known: see _give_ids
        "name": label,
        "kind": "city",
        "country": code,
        "gauge_change": False,
        "aliases": aliases,
        "role": role,
        "population": int(pop) if pop is not None and pop > 0 else None,
        "source": SOURCE,
    }
    ascii_names = _texts(props.get("nameascii"))
    return Place(out, lon, lat, ascii_names[0] if ascii_names else label)


@dataclass(frozen=True)
class _Node:
    keys: frozenset[str]  # its name, its name before " (", its aliases, as name_key gives them
    name: str  # name_key of its name
    lon: float
    lat: float
    id: str


def _nodes(nodes: gpd.GeoDataFrame) -> list[_Node]:
    aliases = nodes["aliases"] if "aliases" in nodes else [None] * len(nodes)
    out = []
    for nid, name, more, pt in zip(nodes["id"], nodes["name"], aliases, nodes.geometry,
                                   strict=True):  # fmt: skip
        names = [str(name), str(name).split(" (")[0]]
        names += [str(a) for a in more] if isinstance(more, list) else []
        keys = frozenset(k for n in names if (k := name_key(n)))
        out.append(_Node(keys, name_key(str(name)), pt.x, pt.y, str(nid)))
    return out


def _same_name(keys: set[str], node: _Node) -> bool:
    if keys & node.keys:
        return True
    return any(len(k) >= MIN_PREFIX_CHARS and node.name.startswith(k) for k in keys)


def _known(place: Place, nodes: list[_Node]) -> str | None:
    """The id of the node that already is this place, or None."""
    keys = {name_key(n) for n in [place.props["name"], *place.props["aliases"]]} - {""}
    for node in nodes:
        if _same_name(keys, node):
            lon, lat, nid = node.lon, node.lat, node.id
            km = GEOD.inv(place.lon, place.lat, lon, lat)[2] / 1000.0
            if km < SAME_PLACE_KM:
                return nid
    return None


def _give_ids(places: list[Place], taken: set[str]) -> None:
    """``city_<name>``; a name two places share (or a node's id) gets the country too."""
    base = []
    for pl in places:
        slug = _slug(pl.ascii_name)
        if not slug:  # a name with no Latin letter or digit: the place's position instead
            slug = f"{pl.props['country'].lower()}_{pl.lon:.2f}_{pl.lat:.2f}".replace(".", "p")
        base.append(f"city_{slug}"[:60])
    counts: dict[str, int] = {}
    for b in base:
        counts[b] = counts.get(b, 0) + 1
    used = set(taken)
    for pl, b in zip(places, base, strict=True):
        pid = b if counts[b] == 1 and b not in taken else f"{b}_{pl.props['country'].lower()}"
        n = 2
        while pid in used:
            pid = f"{b}_{pl.props['country'].lower()}_{n}"
            n += 1
        used.add(pid)
        pl.props["id"] = pid


def build_places(
    ne_file: str | Path, nodes: gpd.GeoDataFrame
) -> tuple[list[dict[str, Any]], list[str]]:
    """The places layer's features from Natural Earth populated places, and the places left out.

    Parameters
    ----------
    ne_file
        Natural Earth's populated places (GeoJSON with ``name``, ``nameascii``, ``namealt``,
        ``featurecla``, ``adm0_a3``, ``pop_max``, as in ``ne_50m_populated_places_simple``).
    nodes
        The hand-sourced nodes (a validated node layer): a place one of them already is (same
        name or alias, under :data:`SAME_PLACE_KM`) is left out, and no id is one of theirs.

    Returns
    -------
    features, left_out
        Point features of kind ``city`` sorted by country and name, ids unique and stable;
        and one line for each place left out because a node already holds it.

    Raises
    ------
    ValidationError
        A kept place without a name, with a name that cannot be stored, or outside its country:
        one problem per place, naming the file, the place, the field and the fix.
    """
    raw = read_raw(ne_file)
    if raw.problems:
        raise ValidationError(raw.problems)
    found = [_place(raw.path, i, p, g) for i, (p, g) in enumerate(zip(raw.props, raw.geoms,
                                                                     strict=True))]  # fmt: skip
    problems = [x for x in found if isinstance(x, Problem)]
    if problems:
        raise ValidationError(problems)
    places = [x for x in found if isinstance(x, Place)]
    places.sort(key=lambda pl: (pl.props["country"], name_key(pl.props["name"]), pl.lon, pl.lat))
    node_keys = _nodes(nodes)
    kept, left_out = [], []
    for pl in places:
        if (nid := _known(pl, node_keys)) is not None:
            left_out.append(f"{pl.props['name']} ({pl.props['country']}): node '{nid}'")
        else:
            kept.append(pl)
    _give_ids(kept, {str(i) for i in nodes["id"]})
    features = [
        {"type": "Feature", "properties": pl.props,
         "geometry": {"type": "Point", "coordinates": [pl.lon, pl.lat]}}
        for pl in kept
    ]  # fmt: skip
    return features, left_out


def write_places(features: list[dict[str, Any]], out: str | Path) -> Path:
    """Write the features as a node layer, atomically, only if the written file validates."""
    doc = {"type": "FeatureCollection", "features": features}
    return atomic_write_text(out, dump_features(doc), check=lambda p: _validates(p))


def _validates(path: Path) -> None:
    load_layer(path, kind="node")


def main(argv: list[str] | None = None) -> int:
    """``python -m geo.data.places NE_DIR [--nodes FILE] [--out FILE]``; returns the exit code."""
    layers = bundled_dir("layers")
    ap = argparse.ArgumentParser(prog="python -m geo.data.places", description=__doc__)
    ap.add_argument("ne_dir", type=Path, help="folder holding " + NE_FILE)
    ap.add_argument("--nodes", type=Path, default=layers / "nodes.geojson")
    ap.add_argument("--out", type=Path, default=layers / "places.geojson")
    args = ap.parse_args(argv)
    try:
        nodes = load_layer(args.nodes, kind="node")
        features, left_out = build_places(args.ne_dir / NE_FILE, nodes)
        write_places(features, args.out)
    except GeoError as e:
        for line in e.lines():
            print(f"error: {terminal_text(line)}", file=sys.stderr)
        return e.exit_code
    except OSError as e:
        print(f"error: {terminal_text(e)}", file=sys.stderr)
        return 2
    for line in left_out:
        print(f"left out, already a node: {terminal_text(line)}")
    print(f"{args.out.name}: {len(features)} places")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
