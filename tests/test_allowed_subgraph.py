"""The allowed subgraph from the network's edge table is the one a pass over every edge gives.

:func:`geo.analysis.routing.allowed_subgraph` works out which edges a set of constraints
allows with array masks kept per network (:func:`~geo.analysis.routing.edge_table`) and each
edge's search weight once per network. The reference here is the way it was done before: one
pass over the network's edges, :func:`~geo.analysis.routing.edge_allowed` and
:func:`~geo.analysis.routing.search_weight` per edge, the cheapest (first of equals) kept per
pair. Both must give the same graph: the same nodes in the same order, every node's
neighbours in the same order (which decides between equally short paths), and each pair the
same edge with the same weight.
"""

from __future__ import annotations

import itertools
import math
import random
from typing import Any

import geopandas as gpd
import networkx as nx
import pytest
import scipy.sparse
import shapely

from geo.analysis.network import Network, load_network
from geo.analysis.routing import (
    BY,
    Constraints,
    allowed_mask,
    allowed_subgraph,
    edge_allowed,
    edge_table,
    find_route,
    legs_between,
    search_weight,
)
from geo.analysis.stats import reference_specs
from geo.data.schema import FREIGHT_MODES, FUELS, MODES, PASSAGES, SEGMENT_STATUSES, WATERS


def reference_subgraph(net: Network, c: Constraints) -> nx.Graph:
    """The allowed subgraph as one pass over the edges built it (the code this replaced)."""
    g = nx.Graph()
    nodes = net.graph.nodes
    for u, v, e in net.graph.edges(data=True):
        if not edge_allowed(e, c):
            continue
        w = search_weight(e, c.by, (nodes[u], nodes[v]))
        if not math.isfinite(w):
            continue
        if not g.has_edge(u, v) or g[u][v]["weight"] > w:
            g.add_edge(u, v, length_km=e["length_km"], weight=w, edge=e)
    return g


def assert_same_graph(a: nx.Graph, b: nx.Graph) -> None:
    assert list(a.nodes) == list(b.nodes)
    for n, nbrs in a.adj.items():
        assert list(nbrs) == list(b.adj[n]), n
        for m, d in nbrs.items():
            other = b.adj[n][m]
            assert list(d) == list(other)
            assert d["edge"] is other["edge"], (n, m)
            assert type(d["weight"]) is type(other["weight"])
            assert d["weight"] == other["weight"]
            assert d["length_km"] == other["length_km"]


def constraint_sets(n: int, seed: int = 19) -> list[Constraints]:
    """Every reference route's constraints, the edge cases, and ``n`` drawn at random."""
    rnd = random.Random(seed)
    countries = ["RUS", "IRN", "KAZ", "TUR", "GEO", "AZE", "CHN", "UKR", "BLR", "ARM", "XXX"]
    out = [s.constraints for s in reference_specs()]
    out += [Constraints(), Constraints(modes=frozenset()), Constraints(statuses=frozenset()),
            Constraints(avoid_passages=frozenset(WATERS)),
            Constraints(statuses=frozenset(SEGMENT_STATUSES), modes=frozenset(MODES),
                        fuel="oil", by="cost")]  # fmt: skip
    out += [Constraints(by=by) for by in BY]
    for _ in range(n):
        modes = frozenset(m for m in MODES if rnd.random() < 0.7)
        out.append(Constraints(
            avoid_countries=frozenset(rnd.sample(countries, rnd.randint(0, 3))),
            avoid_passages=frozenset(rnd.sample([*PASSAGES, *WATERS], rnd.randint(0, 3))),
            modes=modes,
            statuses=frozenset(s for s in SEGMENT_STATUSES if rnd.random() < 0.5),
            fuel=rnd.choice([None, *FUELS]) if "pipeline" in modes else rnd.choice([None, None, "oil"]),
            by=rnd.choice(BY),
        ))  # fmt: skip
    return out


@pytest.fixture(scope="module")
def net() -> Network:
    return load_network()


def test_same_subgraph_as_a_pass_over_every_edge(net: Network) -> None:
    sets = constraint_sets(40)
    assert len(set(sets)) > 40
    sizes = set()
    for c in sets:
        want = reference_subgraph(net, c)
        got = allowed_subgraph(net, c)
        assert_same_graph(want, got)
        sizes.add(got.number_of_edges())
    # the sets reach very different graphs (nothing allowed, a few modes, everything)
    assert 0 in sizes and len(sizes) > 20


def test_mask_is_the_per_edge_rule(net: Network) -> None:
    edges = edge_table(net).edges
    assert edges == list(net.graph.edges(data=True))
    for c in constraint_sets(15, seed=7):
        mask = allowed_mask(net, c)
        assert mask.tolist() == [edge_allowed(e, c) for _, _, e in edges]


def test_kept_subgraph_is_reused_and_frozen(net: Network) -> None:
    c = Constraints(avoid_countries=frozenset({"RUS"}))
    g = allowed_subgraph(net, c)
    assert allowed_subgraph(net, c) is g
    assert nx.is_frozen(g)


def test_same_routes_on_a_fresh_network_as_on_the_reference() -> None:
    """Routes found through the edge table are the reference subgraph's shortest paths."""
    net = load_network()
    fresh = Network(net.graph, net.nodes, net.segments, net.deposits)
    for spec in reference_specs():
        route = find_route(fresh, spec.origin, spec.destination, via=spec.via,
                           constraints=spec.constraints)  # fmt: skip
        g = reference_subgraph(fresh, spec.constraints)
        hops = [(leg.from_id, leg.to_id) for leg in route.legs if not leg.access]
        first, last = hops[0][0], hops[-1][1]
        if not spec.via:
            path = nx.dijkstra_path(g, first, last, weight="weight")
            ends = [p for leg in route.legs for p in leg.segment_id.split("..")]
            want = [str(g[u][v]["edge"]["id"]) for u, v in itertools.pairwise(path)]
            assert ends == want, spec.id


# --- a hand-made graph: parallel edges, ties, turned pairs, loops, unreachable weights ---------


def _edge(sid: str, km: float, **more: Any) -> dict[str, Any]:
    e = {
        "id": sid,
        "length_km": km,
        "mode": "rail",
        "status": "operational",
        "passages": (),
        "km_by_country": {"KAZ": km},
        "corridor": "",
        "geometry": shapely.LineString([(60, 45), (61, 45)]),
    }
    e.update(more)
    return e


def tiny_network() -> Network:
    g = nx.MultiGraph()
    for n in "abcde":
        g.add_node(n, kind="city", name=n, country="KAZ", x=60.0, y=45.0)
    g.add_edge("a", "b", key="1", **_edge("1", 10.0))
    g.add_edge("b", "a", key="2", **_edge("1", 10.0, name="second"))  # a tie: the first stays
    g.add_edge("b", "c", key="3", **_edge("3", 5.0))
    g.add_edge("c", "b", key="4", **_edge("4", 4.0))  # cheaper, the other way round
    g.add_edge("c", "c", key="5", **_edge("5", 1.0))  # a loop
    g.add_edge("d", "e", key="6", **_edge("6", 2.0, mode="pipeline", fuel="oil"))
    g.add_edge("a", "e", key="7", **_edge("7", 3.0, km_by_country={"RUS": 3.0}))
    g.add_edge("e", "d", key="8", **_edge("8", 3.0, km_by_country={"RUS": 0.0}))
    g.add_edge("b", "d", key="9", **_edge("9", 1.0, passages=("suez",)))
    for u, v, d in g.edges(data=True):  # drawn from u to v, as the network's edges are
        d.update(u=u, v=v, precision="traced", gauge_mm=1520)
    empty = gpd.GeoDataFrame(geometry=[], crs=4326)
    return Network(nx.freeze(g), empty, empty, empty)


@pytest.mark.parametrize(
    "c",
    [Constraints(), Constraints(avoid_countries=frozenset({"RUS"})),
     Constraints(avoid_passages=frozenset({"suez"})),
     Constraints(modes=frozenset({"rail", "pipeline"}), fuel="oil"),
     Constraints(modes=frozenset({"pipeline"}), fuel="gas"),
     Constraints(modes=frozenset(FREIGHT_MODES), statuses=frozenset({"planned"}))],
)  # fmt: skip
def test_tiny_graph_as_the_reference(c: Constraints) -> None:
    net = tiny_network()
    want = reference_subgraph(net, c)
    got = allowed_subgraph(net, c)
    assert_same_graph(want, got)


def test_tiny_graph_keeps_the_first_of_equals_and_the_cheaper_turned_edge() -> None:
    g = allowed_subgraph(tiny_network(), Constraints())
    assert "name" not in g["a"]["b"]["edge"]
    assert g["b"]["c"]["edge"]["id"] == "4"
    # the pairs in the order the multigraph lists its edges: a-b, a-e, b-c, b-d, c-c, d-e
    assert list(g.nodes) == ["a", "b", "e", "c", "d"]
    assert list(g.adj["d"]) == ["b", "e"]
    assert list(g.adj["c"]) == ["b", "c"]


def reference_matrix(g: nx.Graph) -> scipy.sparse.csr_matrix:
    """The search matrix as a loop over the subgraph's edges built it (the code this replaced)."""
    names = list(g.nodes)
    index = {n: k for k, n in enumerate(names)}
    rows, cols, w = [], [], []
    for u, v, km in g.edges(data="weight"):
        for x, y in ((u, v), (v, u)):
            rows.append(index[x])
            cols.append(index[y])
            w.append(max(float(km), 1e-9))
    return scipy.sparse.csr_matrix((w, (rows, cols)), shape=(len(names), len(names)))


def test_search_matrix_is_the_loop_built_one(net: Network) -> None:
    for spec in reference_specs():
        c = spec.constraints
        find_route(net, spec.origin, spec.destination, via=spec.via, constraints=c)
        assert_same_matrix(net, c)


def assert_same_matrix(net: Network, c: Constraints) -> None:
    names, index, m = net.subgraphs[("matrix", c)]
    g = allowed_subgraph(net, c)
    want = reference_matrix(g)
    assert names == list(g.nodes) and index == {n: k for k, n in enumerate(names)}
    for attr in ("indptr", "indices", "data"):
        a, b = getattr(m, attr), getattr(want, attr)
        assert a.dtype == b.dtype and a.tolist() == b.tolist(), attr
    assert m.shape == want.shape and m.has_sorted_indices == want.has_sorted_indices


def test_search_matrix_is_the_loop_built_one_under_any_constraints(net: Network) -> None:
    """The matrix comes from the pairs allowed_subgraph kept, not from the graph's edge view."""
    fresh = Network(net.graph, net.nodes, net.segments, net.deposits)
    built = 0
    for c in constraint_sets(25, seed=3):
        g = allowed_subgraph(fresh, c)
        if not g.number_of_edges():
            continue
        a, b = next(iter(g.edges))
        legs_between(fresh, [a, b], c)  # one search builds the matrix
        assert_same_matrix(fresh, c)
        built += 1
    assert built > 15


def test_tiny_graph_search_matrix_with_a_loop() -> None:
    net = tiny_network()
    c = Constraints()
    legs = legs_between(net, ["a", "c"], c)
    assert [leg.segment_id for leg in legs] == ["7", "8", "9", "4"]  # 11 km, not a-b-c (14)
    assert_same_matrix(net, c)
    _, index, m = net.subgraphs[("matrix", c)]
    assert m[index["c"], index["c"]] > 2.0  # the loop (1 km plus a tie-breaker), once each way
