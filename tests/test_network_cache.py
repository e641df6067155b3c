"""The built network's copy in the cache folder: exact, used only when it is of this code and data."""

from __future__ import annotations

import os
from pathlib import Path

import networkx as nx
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.analysis import netcache, network
from geo.analysis.routing import find_route
from geo.data.layers import cache_dir


@pytest.fixture(scope="module")
def built() -> network.Network:
    return network._build_with([])


def _copy_path() -> Path:
    return cache_dir() / "network" / "bundled.network"


def test_the_bundled_network_reads_back_exactly(built: network.Network) -> None:
    parts = network._to_parts(built)
    back = network._from_parts(netcache.decode(netcache.encode(parts, {"k": 1})))
    assert netcache.same_parts(parts, network._to_parts(back))
    assert back.graph.number_of_edges() == built.graph.number_of_edges() > 6000
    assert back.sections == built.sections and back.stations == built.stations
    assert nx.is_frozen(back.graph)
    # every node's neighbours in the same order: ties between equal paths break the same way
    n = next(iter(built.graph.nodes))
    assert list(back.graph.adj[n]) == list(built.graph.adj[n])
    for a, b in (("almaty", "tashkent"), ("khorgos", "baku"), ("aktau", "poti")):
        r1, r2 = find_route(built, a, b), find_route(back, a, b)
        assert [leg.segment_id for leg in r1.legs] == [leg.segment_id for leg in r2.legs]
        assert [leg.length_km for leg in r1.legs] == [leg.length_km for leg in r2.legs]


def test_the_first_build_writes_the_copy_and_the_next_process_reads_it(
    built: network.Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not _copy_path().exists()
    monkeypatch.setattr(network, "_build_with", lambda *_: built)
    first = network._bundled_network.__wrapped__()  # type: ignore[attr-defined]
    assert _copy_path().is_file()
    assert (_copy_path().stat().st_mode & 0o777) == 0o600

    def no_build(*_: object) -> network.Network:
        raise AssertionError("built again although the copy is good")

    monkeypatch.setattr(network, "_build_with", no_build)
    again = network._bundled_network.__wrapped__()  # type: ignore[attr-defined]
    assert netcache.same_parts(network._to_parts(first), network._to_parts(again))


@pytest.fixture(scope="module")
def good_copy(built: network.Network) -> bytes:
    key = {"format": network.NETWORK_CACHE_FORMAT, "sha256": network._inputs_sha256()}
    return netcache.encode(network._to_parts(built), key)


@pytest.mark.parametrize("damage", ["flip", "truncate", "magic", "empty", "other key", "fifo"])
def test_a_damaged_or_foreign_copy_is_not_used(
    damage: str, built: network.Network, good_copy: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _copy_path()
    path.parent.mkdir(parents=True)
    data = good_copy
    if damage == "flip":  # a byte of the last part (the facts)
        at = len(data) - 10
        data = data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]
    elif damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "magic":
        data = b"X" + data[1:]
    elif damage == "empty":
        data = b""
    if damage == "other key":
        monkeypatch.setattr(network, "_inputs_sha256", lambda: "0" * 64)
    if damage == "fifo":
        os.mkfifo(path)
    else:
        path.write_bytes(data)
    calls: list[int] = []

    def counted(*_: object) -> network.Network:
        calls.append(1)
        return built

    monkeypatch.setattr(network, "_build_with", counted)
    net = network._bundled_network.__wrapped__()  # type: ignore[attr-defined]
    assert calls == [1]  # built, not read
    assert net is built
    assert path.is_file()  # written again (a FIFO replaced by the atomic write)
    assert netcache.read_key(path.read_bytes()) == {
        "format": network.NETWORK_CACHE_FORMAT,
        "sha256": network._inputs_sha256(),
    }


def test_a_good_copy_is_read(good_copy: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    _copy_path().parent.mkdir(parents=True)
    _copy_path().write_bytes(good_copy)

    def no_build(*_: object) -> network.Network:
        raise AssertionError("built again although the copy is good")

    monkeypatch.setattr(network, "_build_with", no_build)
    net = network._bundled_network.__wrapped__()  # type: ignore[attr-defined]
    assert net.graph.number_of_edges() > 6000


def _graph_of(ops: list[tuple[int, int, int, bool]]) -> nx.MultiGraph:
    g: nx.MultiGraph = nx.MultiGraph()
    for u, v, k, add in ops:
        key = f"e{k}"
        if add:
            line = shapely.LineString([(u, v), (v + 0.5, u - 0.25)])
            g.add_edge(f"n{u}", f"n{v}", key=key, geometry=line, km=float(u + v) / 3,
                       passages=("x",) if k % 2 else ())  # fmt: skip
        elif g.has_edge(f"n{u}", f"n{v}", key=key):
            g.remove_edge(f"n{u}", f"n{v}", key=key)
    return g


ops = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 3), st.booleans()),
               max_size=40)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(ops)
def test_any_graph_reads_back_with_every_neighbour_order(
    steps: list[tuple[int, int, int, bool]],
) -> None:
    g = _graph_of(steps)
    nodes, edges = netcache._graph_frames(g)
    back = netcache._graph(nodes, edges, {})
    assert netcache.same_graph(g, back)
    for n in g.nodes:
        assert list(back.adj[n]) == list(g.adj[n])


def test_same_graph_sees_a_changed_neighbour_order() -> None:
    line = shapely.LineString([(0, 0), (1, 1)])
    a: nx.MultiGraph = nx.MultiGraph()
    b: nx.MultiGraph = nx.MultiGraph()
    a.add_nodes_from("xyz")
    b.add_nodes_from("xyz")
    a.add_edge("x", "y", key="1", geometry=line)
    a.add_edge("x", "z", key="2", geometry=line)
    b.add_edge("x", "z", key="2", geometry=line)
    b.add_edge("x", "y", key="1", geometry=line)
    assert not netcache.same_graph(a, b)
    c = a.copy()
    c.edges["x", "y", "1"]["passages"] = ()
    assert not netcache.same_graph(a, c)
    assert netcache.same_graph(a, a.copy())
