"""Spreading activation (truncated personalised PageRank) over a typed sparse projection,
checked against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from graphmem.retrieve import activation
from graphmem.retrieve.activation import (
    Edge,
    build_projection,
    explain_node,
    spread_activation,
)


def personalized_pagerank(proj, seeds, damping=0.5):
    """Spreading activation run to convergence (no pruning) is personalised PageRank."""
    return spread_activation(proj, seeds, damping=damping, steps=200, prune=0.0)


def test_two_nodes_closed_form():
    # s_a = .5 + .5 s_b, s_b = .5 s_a  ->  s = (2/3, 1/3)
    proj = build_projection(["a", "b"], ["turn", "turn"], [Edge("a", "b", "NEXT")])
    s = personalized_pagerank(proj, {0: 1.0}, damping=0.5)
    np.testing.assert_allclose(s, [2 / 3, 1 / 3], atol=1e-9)


def test_path_fan_out_normalisation_closed_form():
    # a - b - c; b splits its mass between a and c.
    # s_a = .5 + .25 s_b, s_b = .5 (s_a + s_c), s_c = .25 s_b  ->  (7/12, 4/12, 1/12)
    proj = build_projection(
        ["a", "b", "c"], ["entity", "event", "turn"], [Edge("b", "a", "INVOLVES"), Edge("b", "c", "FROM")]
    )
    s = personalized_pagerank(proj, {0: 5.0}, damping=0.5)
    np.testing.assert_allclose(s, [7 / 12, 4 / 12, 1 / 12], atol=1e-9)
    assert s.sum() == pytest.approx(1.0)


def test_type_weights_shape_the_transition():
    proj = build_projection(
        ["a", "b", "c", "d"],
        ["turn", "event", "session", "conversation"],
        [Edge("a", "b", "FROM"), Edge("a", "c", "IN"), Edge("c", "d", "OF")],
    )
    P = proj.transition().toarray()
    np.testing.assert_allclose(P[0], [0.0, 2 / 3, 1 / 3, 0.0])  # FROM 1.0 vs IN 0.5
    assert P[2, 3] == 0.0  # OF weighs 0 by default: dropped
    custom = build_projection(["a", "b"], ["x", "y"], [Edge("a", "b", "ASSOCIATED", weight=0.3)], {"ASSOCIATED": 2.0})
    assert custom.matrix()[0, 1] == pytest.approx(0.6)


def test_isolated_seed_keeps_only_its_restart_share():
    proj = build_projection(["a", "b", "c"], ["t", "t", "t"], [Edge("b", "c", "NEXT")])
    s = personalized_pagerank(proj, {0: 1.0})
    np.testing.assert_allclose(s, [0.5, 0.0, 0.0], atol=1e-9)  # nothing flows; no edge to pass it on


def test_truncation_and_pruning_bound_the_spread():
    # a chain a - b - c - d - e: after 2 hops nothing has reached d or e
    names = ["a", "b", "c", "d", "e"]
    proj = build_projection(names, ["t"] * 5, [Edge(x, y, "NEXT") for x, y in zip(names, names[1:])])
    two = spread_activation(proj, {0: 1.0}, damping=0.5, steps=2, prune=0.0)
    assert two[3] == 0.0 and two[4] == 0.0 and two[2] > 0
    # a prune share above what any edge carries stops the spread after the first wave
    pruned = spread_activation(proj, {0: 1.0}, damping=0.5, steps=10, prune=0.9)
    assert pruned[2] == 0.0 and pruned[1] > 0


def _dense_waves(proj, seeds, damping, steps, prune):
    """The waves over every node at each hop (the implementation before the sparse one)."""
    p = np.zeros(len(proj))
    for node, weight in seeds.items():
        p[node] += weight
    p /= p.sum()
    P = proj.transition()
    degree = np.maximum(np.diff(P.indptr), 1)
    scores, active, values = (1 - damping) * p, np.flatnonzero(p), p[np.flatnonzero(p)]
    for _ in range(steps):
        if not len(active):
            break
        wave = damping * (P[active].T @ values)
        scores += (1 - damping) * wave
        if wave.sum() <= 0:
            break
        active = np.flatnonzero(wave >= prune * wave.sum() * degree)
        values = wave[active]
    return scores


@pytest.mark.parametrize("seed", range(6))
def test_the_sparse_waves_equal_waves_over_every_node(seed):
    """Each wave touches only the edges of the nodes it reached: the scores are those of waves
    over every node, on random weighted graphs with hubs, dangling nodes and pruning."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 300))
    names = [f"n{i}" for i in range(n)]
    hubs = rng.choice(n, size=max(1, n // 40), replace=False)
    edges = []
    for _ in range(int(rng.integers(0, 4 * n))):
        a = int(rng.choice(hubs)) if rng.random() < 0.3 else int(rng.integers(n))
        b = int(rng.integers(n))
        if a != b:
            edges.append(Edge(names[a], names[b], str(rng.choice(["NEXT", "INVOLVES", "ASSOCIATED", "IN_TOPIC"])),
                              weight=float(rng.uniform(0.05, 1.0))))
    proj = build_projection(names, [str(rng.choice(["turn", "event", "entity"])) for _ in names], edges)
    for _ in range(5):
        seeds = {int(node): float(rng.uniform(0.1, 2.0)) for node in rng.choice(n, size=int(rng.integers(1, 5)))}
        for prune in (0.0, 1e-4, 1e-2, 0.3):
            steps = int(rng.integers(0, 8))
            got = spread_activation(proj, seeds, damping=0.5, steps=steps, prune=prune)
            np.testing.assert_allclose(got, _dense_waves(proj, seeds, 0.5, steps, prune), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("index_after", [0, 7, 10_000], ids=["indexed", "both", "scanned"])
@pytest.mark.parametrize("undirected", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_edges_between_lists_the_types_a_loop_over_the_edges_finds(seed, undirected, index_after, monkeypatch):
    """Every pair's types (duplicates, several types on one pair, self-loops, edges added after
    the index was first read) against a loop over the stored edges: found node by node, from
    one sorted index of every pair, and the first then the other."""
    monkeypatch.setattr(activation, "INCIDENT_NODES", index_after)
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 40))
    names = [f"n{i}" for i in range(n)]
    types = ["NEXT", "INVOLVES", "ASSOCIATED", "FROM"]

    def random_edges(count):
        return [Edge(names[int(rng.integers(n))], names[int(rng.integers(n))], str(rng.choice(types)))
                for _ in range(count)]

    edges = random_edges(int(rng.integers(0, 3 * n)))
    proj = build_projection(names, ["turn"] * n, edges, undirected=undirected)

    def expected(u, v):
        found = {e.type for e in edges if (e.src, e.dst) == (names[u], names[v])
                 or (undirected and (e.src, e.dst) == (names[v], names[u]))}
        return sorted(found)

    for round_ in range(2):
        for u in range(n):
            for v in range(n):
                assert proj.edges_between(u, v) == expected(u, v), (round_, u, v)
        more = random_edges(int(rng.integers(1, n + 1)))
        proj.add(edges=more)
        edges += more


def test_incremental_add_equals_building_at_once():
    edges = [Edge("a", "b", "NEXT"), Edge("b", "c", "NEXT"), Edge("c", "e", "INVOLVES")]
    full = build_projection(["a", "b", "c", "e"], ["t", "t", "t", "entity"], edges)
    inc = build_projection(["a", "b"], ["t", "t"], edges[:1])
    before = personalized_pagerank(inc, {0: 1.0})
    inc.add(["c", "e"], ["t", "entity"], edges[1:])
    assert len(inc) == 4 and inc.n_edges == 3
    after = personalized_pagerank(inc, {0: 1.0})
    np.testing.assert_allclose(after, personalized_pagerank(full, {0: 1.0}))
    assert not np.allclose(before, after[:2])


def test_explain_node_reports_edges_and_path_to_seed():
    proj = build_projection(
        ["ent", "ev", "turn", "other"],
        ["entity", "event", "turn", "turn"],
        [Edge("ev", "ent", "INVOLVES"), Edge("ev", "turn", "FROM"), Edge("turn", "other", "NEXT")],
    )
    seeds = {0: 1.0}
    s = personalized_pagerank(proj, seeds)
    why = explain_node(proj, s, seeds, proj.index["other"], damping=0.5, top=3, max_path=6)
    assert why.path == ("ent", "ev", "turn", "other")
    assert why.seed_share == 0.0
    assert why.top_edges[0].source == "turn" and why.top_edges[0].types == ("NEXT",)
    # contribution = d * s[turn] * P[turn, other]; turn has FROM (1.0) and NEXT (0.5)
    assert why.top_edges[0].amount == pytest.approx(0.5 * s[2] * (0.5 / 1.5))
    seed_why = explain_node(proj, s, seeds, 0, damping=0.5, top=3, max_path=6)
    assert seed_why.path == ("ent",) and seed_why.seed_share == pytest.approx(0.5)


def test_bad_input_is_rejected():
    with pytest.raises(ValueError):
        build_projection(["a", "a"], ["t", "t"], [])
    with pytest.raises(ValueError):
        build_projection(["a"], ["t"], [Edge("a", "zz", "NEXT")])
    with pytest.raises(ValueError):
        build_projection(["a", "b"], ["t", "t"], [Edge("a", "b", "LIKES")])
    proj = build_projection(["a", "b"], ["t", "t"], [Edge("a", "b", "NEXT")])
    with pytest.raises(ValueError):
        personalized_pagerank(proj, {0: 1.0}, damping=1.0)
    with pytest.raises(ValueError):
        personalized_pagerank(proj, {})
    with pytest.raises(ValueError):
        personalized_pagerank(proj, {5: 1.0})


def test_a_memory_projections_graph_links_what_its_rows_say():
    """The activation graph of a memory projection: ``NEXT`` between consecutive turns and
    consecutive episodes of one conversation only (an episode without turns has no neighbour),
    ``PART_OF``, ``IN``, ``FROM`` and ``INVOLVES`` as the rows say; its transition is
    row-stochastic over the symmetrised weights."""
    from graphmem.retrieve.projection import MemoryProjection

    sessions = [{"id": f"session:{c}", "conversation_id": c, "key": "1", "number": 1, "started_at": None} for c in ("a", "b")]
    turns = [{"id": f"turn:{c}{i}", "session_id": f"session:{c}", "conversation_id": c, "seq": 1000 + i, "speaker": "Ann",
              "text": f"text {c}{i}", "caption": None, "source_id": f"{c}{i}", "timestamp": None}
             for c, n in (("a", 3), ("b", 2)) for i in range(n)]
    episodes = [{"id": f"episode:{e}", "conversation_id": c, "session_number": 1, "started_at": None, "ended_at": None}
                for e, c in (("1", "a"), ("2", "a"), ("3", "b"), ("4", "b"))]
    part_of = [{"turn_id": t, "episode_id": e} for t, e in (("turn:a0", "episode:1"), ("turn:a1", "episode:1"),
                                                           ("turn:a2", "episode:2"), ("turn:b0", "episode:3"), ("turn:b1", "episode:3"))]
    events = [{"id": "event:x", "turn_id": "turn:a1", "speaker": "Ann", "text": "x", "timestamp": None, "time_start": None, "time_end": None}]
    entities = [{"id": "entity:lisbon", "key": "lisbon", "name": "Lisbon", "label": "GPE"}]
    involves = [{"event_id": "event:x", "entity_id": "entity:lisbon", "role": "mention"}]
    p = MemoryProjection.from_rows(turns, sessions, episodes, part_of, events, involves, entities)
    g = p.graph()
    edges: dict[str, set[tuple[str, str]]] = {}
    g.join_edges()
    for src, dst, code in zip(g._src.tolist(), g._dst.tolist(), g._code.tolist()):
        edges.setdefault(g._type_names[code], set()).add((g.node_ids[src], g.node_ids[dst]))
    assert edges["NEXT"] == {("turn:a0", "turn:a1"), ("turn:a1", "turn:a2"), ("turn:b0", "turn:b1"),
                             ("episode:1", "episode:2")}, edges["NEXT"]
    assert edges["PART_OF"] == {(r["turn_id"], r["episode_id"]) for r in part_of}
    assert edges["IN"] == {(t["id"], t["session_id"]) for t in turns}
    assert edges["FROM"] == {("event:x", "turn:a1")} and edges["INVOLVES"] == {("event:x", "entity:lisbon")}
    P = g.transition()
    sums = np.asarray(P.sum(axis=1)).ravel()
    np.testing.assert_allclose(sums[sums > 0], 1.0)
    W = g.matrix().toarray()
    np.testing.assert_allclose(P.toarray(), W / np.where(W.sum(axis=1, keepdims=True) > 0, W.sum(axis=1, keepdims=True), 1.0))
