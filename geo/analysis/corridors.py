"""Corridors as itineraries: named sections traced on the network, not drawn by hand.

``layers/corridors.toml`` lists each corridor's sections (from, to, optional via, status,
source, notes): the sourced facts a hand-drawn line used to carry. A section's geometry is the
shortest path on the network between its stations, so a leg belongs to a corridor because the
corridor's itinerary runs over it, not because of a tag on a drawn line.
"""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse
import scipy.sparse.csgraph

from ..data.bundled import bundled_dir
from ..errors import SpecError

__all__ = ["Section", "TracedSection", "load_sections", "trace_sections"]

# Statuses a section may run over: an operational section only over operational track; a
# section being built or planned over anything (its new part is a curated line of that status).
_STATUSES = {
    "operational": frozenset({"operational"}),
    "under_construction": frozenset({"operational", "under_construction"}),
}
_ANY = frozenset({"operational", "under_construction", "planned", "proposed", "suspended"})
SECTION_KEYS = ("id", "name", "corridor", "from", "to", "status", "source")


@dataclass(frozen=True)
class Section:
    """One sourced section of a corridor's itinerary (``layers/corridors.toml``)."""

    id: str
    name: str
    corridors: tuple[str, ...]
    stops: tuple[str, ...]  # from, via..., to (node ids)
    status: str
    source: str
    as_of: str = ""
    notes: str = ""
    layer: str = ""  # the curated layer the section is drawn with


@dataclass(frozen=True)
class TracedSection:
    """A section's path on the network: the edge keys it runs over, in order, and its km."""

    section: Section
    edges: tuple[tuple[str, str, str], ...]  # (u, v, key) in travel order
    length_km: float


def parse_sections(data: dict[str, Any], where: str) -> tuple[Section, ...]:
    """Sections from the parsed TOML; a missing key is one line naming the section."""
    out = []
    for i, s in enumerate(data.get("section", [])):
        missing = [k for k in SECTION_KEYS if k not in s]
        if missing:
            msg = f"{where}: section #{i} ({s.get('id', '?')}): missing {', '.join(missing)}"
            raise SpecError(msg)
        corr = s["corridor"]
        corridors = tuple(corr) if isinstance(corr, list) else (str(corr),)
        stops = (str(s["from"]), *map(str, s.get("via", [])), str(s["to"]))
        out.append(Section(str(s["id"]), str(s["name"]), corridors, stops, str(s["status"]),
                           str(s["source"]), str(s.get("as_of", "")),
                           str(s.get("notes", "")), str(s.get("layer", ""))))  # fmt: skip
    return tuple(out)


@lru_cache(maxsize=1)
def load_sections(path: Path | None = None) -> tuple[Section, ...]:
    """The bundled corridor sections (``layers/corridors.toml``), in file order."""
    path = path or bundled_dir("layers") / "corridors.toml"
    if not path.is_file():
        return ()
    return parse_sections(tomllib.loads(path.read_text(encoding="utf-8")), str(path))


@dataclass(frozen=True)
class NameRule:
    """When a route may carry a corridor's name: only where it crosses the corridor's water."""

    corridor: str  # e.g. TITR
    water: str  # e.g. caspian: the route must have a ferry or sea leg on it
    otherwise: str  # the name its legs of that corridor get on a route that does not
    source: str
    why: str


@lru_cache(maxsize=1)
def name_rules(path: Path | None = None) -> tuple[NameRule, ...]:
    """The ``[[name_rule]]`` entries of ``layers/corridors.toml`` (a malformed one: SpecError)."""
    path = path or bundled_dir("layers") / "corridors.toml"
    if not path.is_file():
        return ()
    out = []
    for i, e in enumerate(tomllib.loads(path.read_text(encoding="utf-8")).get("name_rule", [])):
        try:
            out.append(NameRule(str(e["corridor"]), str(e["water"]), str(e["otherwise"]),
                                str(e["source"]), str(e["why"])))  # fmt: skip
        except KeyError as err:
            msg = (f"{path.name}: name_rule {i + 1} lacks {err}; give corridor, water, "
                   "otherwise, source and why")  # fmt: skip
            raise SpecError(msg) from err
    return tuple(out)


def _allowed(e: dict[str, Any], statuses: frozenset[str]) -> bool:
    return e.get("mode") == "rail" and e.get("status") in statuses


def trace_sections(g: nx.MultiGraph, sections: Iterable[Section]) -> list[TracedSection | str]:
    """Each section's shortest path over rail edges, or a line saying why it does not trace.

    All sections of one status set are traced with one multi-source Dijkstra (scipy's csgraph)
    over the cheapest rail edge between each pair of vertices.
    """
    sections = list(sections)
    out: list[TracedSection | str] = [""] * len(sections)
    groups: dict[frozenset[str], list[int]] = {}
    for i, s in enumerate(sections):
        groups.setdefault(_STATUSES.get(s.status, _ANY), []).append(i)
    index = {n: i for i, n in enumerate(g.nodes)}
    names = list(g.nodes)
    for statuses, members in groups.items():
        best: dict[tuple[int, int], tuple[float, str, str, str]] = {}
        for u, v, k, e in g.edges(keys=True, data=True):
            if not _allowed(e, statuses):
                continue
            a, b = index[u], index[v]
            pair = (min(a, b), max(a, b))
            if pair not in best or best[pair][0] > e["length_km"]:
                best[pair] = (float(e["length_km"]), u, v, k)
        pairs = list(best)
        rows = np.array([p[0] for p in pairs] + [p[1] for p in pairs], dtype=np.int64)
        cols = np.array([p[1] for p in pairs] + [p[0] for p in pairs], dtype=np.int64)
        # csgraph drops explicit zeros: a 0 km link becomes a tiny positive weight
        w = np.array([max(best[p][0], 1e-9) for p in pairs] * 2)
        m = scipy.sparse.csr_matrix((w, (rows, cols)), shape=(len(names), len(names)))
        sources = sorted({index[s] for i in members for s in sections[i].stops[:-1]
                          if s in index})  # fmt: skip
        if not sources:
            for i in members:
                out[i] = f"section {sections[i].id}: its stations are not on the network"
            continue
        dist, pred = scipy.sparse.csgraph.dijkstra(m, indices=sources, return_predecessors=True)
        row_of = {s: r for r, s in enumerate(sources)}
        for i in members:
            out[i] = _trace_one(sections[i], index, names, dist, pred, row_of, best)
    return out


def _trace_one(
    s: Section,
    index: dict[str, int],
    names: Sequence[str],
    dist: np.ndarray,
    pred: np.ndarray,
    row_of: dict[int, int],
    best: dict[tuple[int, int], tuple[float, str, str, str]],
) -> TracedSection | str:
    edges: list[tuple[str, str, str]] = []
    km = 0.0
    for a, b in itertools.pairwise(s.stops):
        if a not in index or b not in index:
            gone = a if a not in index else b
            return f"section {s.id}: station '{gone}' is not in the network"
        r, target = row_of[index[a]], index[b]
        if not np.isfinite(dist[r, target]):
            return f"section {s.id}: no rail path from {a} to {b} (statuses for {s.status})"
        km += float(dist[r, target])
        hop: list[tuple[str, str, str]] = []
        at = target
        while at != index[a]:
            prev = int(pred[r, at])
            k = best[(min(prev, at), max(prev, at))][3]
            hop.append((names[prev], names[at], k))
            at = prev
        edges.extend(reversed(hop))
    return TracedSection(s, tuple(edges), km)
