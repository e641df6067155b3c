"""A built network kept between processes: frames, graph and facts in one checked file.

Building the bundled network (tracing the rail layer, noding the pipelines, labelling the
corridors) takes a second or two, and every command needs it. The result is the same for the
same code, libraries and bundled files, so the first build is written to the user's cache
folder and later processes read it back (a tenth of the time).

The file is a magic line, the index's length (8 bytes, little-endian) and sha256, the index
(JSON: the key and every part's offset, length and sha256), then the parts. Frames are
:mod:`geo.data.columns` copies, the graph two frames (nodes and edges, attributes as JSON, edge
geometries as WKB) and the rest JSON. Nothing is unpickled or executed: a file that is not
exactly as written (short, changed, another version) is not used, and the network is built.

A copy is only written when it reads back equal to the network it was made from
(:func:`same_parts`): the same frames, the same node and edge attributes and the same order of
every node's neighbours, which decides between equally short paths.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import orjson
import pandas as pd
import shapely

from ..data.columns import ColumnsError, decode_frame, encode_frame, same_frame

MAGIC = b"CORRIDOR-NETWORK 1\n"
MAX_INDEX_BYTES = 1 << 16
FRAMES = ("nodes", "segments", "deposits")


@dataclass
class Parts:
    """What a network is made of, in the forms the file holds."""

    graph: nx.MultiGraph
    frames: dict[str, gpd.GeoDataFrame]
    facts: dict[str, Any]  # JSON values only


class NetworkCacheError(ValueError):
    """The copy cannot be written exactly, or cannot be read as written."""


def code_and_data_sha256(package: Path, data: Path, versions: Iterable[str]) -> str:
    """A checksum of every module of ``package``, every file of ``data`` and ``versions``."""
    h = hashlib.sha256(" ".join(versions).encode())
    for folder in (package, data):
        h.update(str(folder).encode())
        for p in sorted(q for q in folder.rglob("*") if q.is_file() and q.suffix != ".pyc"):
            h.update(str(p.relative_to(folder)).encode() + b"\0")
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


# --- writing ----------------------------------------------------------------------------------


def _frame_with_index(gdf: gpd.GeoDataFrame) -> tuple[bytes, dict[str, Any]]:
    index = gdf.index
    values = index.tolist()
    if not all(type(v) in (str, int) for v in values):
        msg = "a frame's index holds values other than text and integers"
        raise NetworkCacheError(msg)
    flat = gpd.GeoDataFrame(gdf.reset_index(drop=True), geometry=gdf.geometry.name, crs=gdf.crs)
    try:
        data = encode_frame(flat, {})
    except ColumnsError as e:
        raise NetworkCacheError(str(e)) from None
    name = index.name if index.name is None or isinstance(index.name, str) else str(index.name)
    facts = {"index": values, "index_name": name, "attrs": dict(gdf.attrs),
             "columns": [str(c) for c in gdf.columns]}  # fmt: skip
    return data, facts


def _pairs_in_insertion_order(g: nx.MultiGraph) -> list[tuple[Any, Any]]:
    """Every pair of joined nodes once, in an order that rebuilds each node's neighbour order.

    Adding a graph's edges pair by pair in this order gives every node its neighbours in the
    order the graph has them (a topological order of the per-node orders, which the order the
    pairs were last added satisfies).
    """
    pair_of: dict[frozenset[Any], int] = {}
    pairs: list[tuple[Any, Any]] = []
    before = nx.DiGraph()
    for u, v in g.edges():
        k = frozenset((u, v))
        if k not in pair_of:
            pair_of[k] = len(pairs)
            pairs.append((u, v))
            before.add_node(pair_of[k])
    for n, nbrs in g.adj.items():
        order = [pair_of[frozenset((n, m))] for m in nbrs]
        before.add_edges_from(itertools.pairwise(order))
    try:
        ordered = list(nx.lexicographical_topological_sort(before))
    except nx.NetworkXUnfeasible:
        msg = "the graph's neighbour orders cannot be rebuilt"
        raise NetworkCacheError(msg) from None
    return [pairs[i] for i in ordered]


def _graph_frames(g: nx.MultiGraph) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    ids = list(g.nodes)
    attrs = [dict(d) for _, d in g.nodes(data=True)]
    xy = np.array([[d.get("x", 0.0), d.get("y", 0.0)] for d in attrs], dtype=float).reshape(-1, 2)
    nodes = gpd.GeoDataFrame({"id": pd.Series(ids, dtype=object),
                              "attrs": pd.Series(attrs, dtype=object)},
                             geometry=shapely.points(xy), crs=4326)  # fmt: skip
    rows: list[tuple[Any, Any, Any, dict[str, Any]]] = []
    for u, v in _pairs_in_insertion_order(g):
        for k, d in g[u][v].items():
            rows.append((u, v, k, d))
    geoms = []
    for _, _, _, d in rows:
        geom = d.get("geometry")
        if not isinstance(geom, shapely.Geometry):
            msg = "an edge without a shapely geometry"
            raise NetworkCacheError(msg)
        geoms.append(geom)
    edges = gpd.GeoDataFrame(
        {"u": pd.Series([r[0] for r in rows], dtype=object),
         "v": pd.Series([r[1] for r in rows], dtype=object),
         "key": pd.Series([r[2] for r in rows], dtype=object),
         "attrs": pd.Series([{a: x for a, x in r[3].items() if a != "geometry"} for r in rows],
                            dtype=object),
         "attr_order": pd.Series([list(r[3]) for r in rows], dtype=object)},
        geometry=gpd.GeoSeries(geoms, crs=4326), crs=4326,
    )  # fmt: skip
    return nodes, edges


def _json(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError) as e:
        msg = f"a value JSON cannot hold ({e})"
        raise NetworkCacheError(msg) from None


def encode(parts: Parts, key: dict[str, Any]) -> bytes:
    """The file's bytes for ``parts``, carrying ``key`` (what it is a copy of).

    Raises
    ------
    NetworkCacheError
        Something the file cannot give back exactly.
    """
    blobs: dict[str, bytes] = {}
    frame_facts: dict[str, Any] = {}
    for name in FRAMES:
        blobs[name], frame_facts[name] = _frame_with_index(parts.frames[name])
    g_nodes, g_edges = _graph_frames(parts.graph)
    for name, frame in (("graph_nodes", g_nodes), ("graph_edges", g_edges)):
        try:
            blobs[name] = encode_frame(frame, {})
        except ColumnsError as e:
            raise NetworkCacheError(str(e)) from None
    blobs["facts"] = _json({"frames": frame_facts, "facts": parts.facts,
                            "graph": dict(parts.graph.graph)})  # fmt: skip
    index: dict[str, Any] = {"key": key, "parts": {}}
    at = 0
    for name, data in blobs.items():
        index["parts"][name] = [at, len(data), hashlib.sha256(data).hexdigest()]
        at += len(data)
    head = json.dumps(index, separators=(",", ":"), allow_nan=False).encode()
    if len(head) > MAX_INDEX_BYTES:
        msg = "the index is too long"
        raise NetworkCacheError(msg)
    lead = MAGIC + len(head).to_bytes(8, "little") + hashlib.sha256(head).digest()
    return lead + head + b"".join(blobs.values())


# --- reading ----------------------------------------------------------------------------------


def _index(data: bytes) -> tuple[dict[str, Any], int]:
    lead = len(MAGIC) + 8 + 32
    if len(data) < lead or not data.startswith(MAGIC):
        msg = "not a network copy"
        raise NetworkCacheError(msg)
    size = int.from_bytes(data[len(MAGIC) : len(MAGIC) + 8], "little")
    head = data[lead : lead + size]
    digest = data[lead - 32 : lead]
    if size > MAX_INDEX_BYTES or len(head) != size or hashlib.sha256(head).digest() != digest:
        msg = "the index is short or changed"
        raise NetworkCacheError(msg)
    try:
        index = json.loads(head.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        msg = "the index is not JSON"
        raise NetworkCacheError(msg) from None
    if not isinstance(index, dict) or not isinstance(index.get("parts"), dict):
        msg = "the index is malformed"
        raise NetworkCacheError(msg)
    return index, lead + size


def read_key(data: bytes) -> Any:
    """The key a copy carries (None when it is not a network copy)."""
    try:
        return _index(data)[0].get("key")
    except NetworkCacheError:
        return None


def _part(data: bytes, start: int, index: dict[str, Any], name: str) -> bytes:
    where = index["parts"].get(name)
    if (
        not isinstance(where, list)
        or len(where) != 3
        or not all(isinstance(v, int) and v >= 0 for v in where[:2])
        or not isinstance(where[2], str)
    ):
        msg = f"part {name} is missing or malformed"
        raise NetworkCacheError(msg)
    blob = data[start + where[0] : start + where[0] + where[1]]
    if len(blob) != where[1] or hashlib.sha256(blob).hexdigest() != where[2]:
        msg = f"part {name} is short or changed"
        raise NetworkCacheError(msg)
    return blob


def _restored(flat: gpd.GeoDataFrame, facts: Any) -> gpd.GeoDataFrame:
    if not isinstance(facts, dict) or not isinstance(facts.get("index"), list):
        msg = "a frame's facts are malformed"
        raise NetworkCacheError(msg)
    values = facts["index"]
    if len(values) != len(flat):
        msg = "a frame's index does not match its rows"
        raise NetworkCacheError(msg)
    columns = facts.get("columns")
    if not isinstance(columns, list) or sorted(map(str, columns)) != sorted(map(str, flat.columns)):
        msg = "a frame's columns do not match"
        raise NetworkCacheError(msg)
    flat = flat[columns]
    flat.index = pd.Index(values, name=facts.get("index_name"), dtype=None if values else object)
    attrs = facts.get("attrs")
    flat.attrs = dict(attrs) if isinstance(attrs, dict) else {}
    return flat


def _graph(nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, graph_attrs: Any) -> nx.MultiGraph:
    g: nx.MultiGraph = nx.MultiGraph()
    if isinstance(graph_attrs, dict):
        g.graph.update(graph_attrs)
    for n, attrs in zip(nodes["id"], nodes["attrs"], strict=True):
        if not isinstance(attrs, dict):
            msg = "a node's attributes are malformed"
            raise NetworkCacheError(msg)
        g.add_node(n, **attrs)
    geoms = edges.geometry.to_numpy()
    for u, v, k, attrs, order, geom in zip(edges["u"], edges["v"], edges["key"], edges["attrs"],
                                           edges["attr_order"], geoms, strict=True):  # fmt: skip
        if not isinstance(attrs, dict) or not isinstance(order, list):
            msg = "an edge's attributes are malformed"
            raise NetworkCacheError(msg)
        full = {**attrs, "geometry": geom}
        if set(order) != set(full):
            msg = "an edge's attribute names are malformed"
            raise NetworkCacheError(msg)
        if isinstance(full.get("passages"), list):
            full["passages"] = tuple(full["passages"])
        g.add_edge(u, v, key=k, **{a: full[a] for a in order})
    return g


def decode(data: bytes) -> Parts:
    """The parts of a copy's bytes.

    Raises
    ------
    NetworkCacheError
        The copy is not as written.
    """
    index, start = _index(data)
    try:
        facts = orjson.loads(_part(data, start, index, "facts"))
        frames = {name: _restored(decode_frame(_part(data, start, index, name)),
                                  facts["frames"][name]) for name in FRAMES}  # fmt: skip
        g_nodes = decode_frame(_part(data, start, index, "graph_nodes"))
        g_edges = decode_frame(_part(data, start, index, "graph_edges"))
    except (ColumnsError, orjson.JSONDecodeError, KeyError, TypeError) as e:
        msg = f"a part cannot be read ({e})"
        raise NetworkCacheError(msg) from None
    if not isinstance(facts, dict) or not isinstance(facts.get("facts"), dict):
        msg = "the facts are malformed"
        raise NetworkCacheError(msg)
    return Parts(_graph(g_nodes, g_edges, facts.get("graph")), frames, facts["facts"])


# --- checking ---------------------------------------------------------------------------------


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, shapely.Geometry) or isinstance(b, shapely.Geometry):
        return (isinstance(a, shapely.Geometry) and isinstance(b, shapely.Geometry)
                and shapely.to_wkb(a) == shapely.to_wkb(b))  # fmt: skip
    return type(a) is type(b) and repr(a) == repr(b)


def _same_attrs(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return list(a) == list(b) and all(_same_value(a[k], b[k]) for k in a)


def same_graph(a: nx.MultiGraph, b: nx.MultiGraph) -> bool:
    """Same nodes and edges with the same attributes, and every neighbour order the same."""
    if list(a.nodes) != list(b.nodes) or a.graph != b.graph:
        return False
    if not all(_same_attrs(a.nodes[n], b.nodes[n]) for n in a.nodes):
        return False
    for n, nbrs in a.adj.items():
        other = b.adj[n]
        if list(nbrs) != list(other):
            return False
        for m, keys in nbrs.items():
            if list(keys) != list(other[m]):
                return False
            if not all(_same_attrs(d, other[m][k]) for k, d in keys.items()):
                return False
    return True


def same_parts(a: Parts, b: Parts) -> bool:
    """Whether two sets of parts hold exactly the same network (see :func:`same_graph`)."""
    for name in FRAMES:
        fa, fb = a.frames[name], b.frames[name]
        if not (same_frame(fa, fb) and fa.index.equals(fb.index)
                and fa.index.dtype == fb.index.dtype and fa.index.name == fb.index.name
                and fa.attrs == fb.attrs):  # fmt: skip
            return False
    return json.dumps(a.facts) == json.dumps(b.facts) and same_graph(a.graph, b.graph)
