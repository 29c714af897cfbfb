"""Rows of the statements that create an edge only where it is missing must name each edge once:
such a statement does not see its own creates (graphmem.ingest.clustering)."""

from __future__ import annotations

from graphmem.ingest.clustering import _group_links, _membership_statements


def _link(src: str, dst: str, w: float, src_unit: str = "turn", dst_unit: str = "turn") -> dict:
    return {"src": src, "dst": dst, "w": w, "granularity": "turn", "method": "gmm", "src_unit": src_unit, "dst_unit": dst_unit}


def test_links_name_each_pair_once_the_first_kept():
    links = [_link("a", "b", 0.9), _link("a", "c", 0.8), _link("a", "b", 0.1), _link("s", "b", 0.5, "session"),
             _link("a", "c", 0.2)]
    grouped = _group_links(links)
    assert grouped[("turn", "turn")] == [
        {"src": "a", "dst": "b", "w": 0.9, "granularity": "turn", "method": "gmm"},
        {"src": "a", "dst": "c", "w": 0.8, "granularity": "turn", "method": "gmm"}]
    assert [(r["src"], r["dst"]) for r in grouped[("session", "turn")]] == [("s", "b")]


def test_memberships_name_each_unit_and_topic_once_in_order_across_chunks():
    rows = [("u1", "t1", 0.6), ("u1", "t2", 0.4), ("u2", "t1", 1.0), ("u1", "t1", 0.3), ("u3", "t2", 0.7)]
    statements = _membership_statements("turn", rows, batch_size=2)
    assert [name for name, _ in statements] == ["write/merge_in_topic_turn"] * 2
    sent = [row for _, params in statements for row in params["rows"]]
    assert sent == [{"unit_id": "u1", "topic_id": "t1", "p": 0.6}, {"unit_id": "u1", "topic_id": "t2", "p": 0.4},
                    {"unit_id": "u2", "topic_id": "t1", "p": 1.0}, {"unit_id": "u3", "topic_id": "t2", "p": 0.7}]
