"""Subgraphs of a memory as networkx graphs, for notebooks and pictures.

Nodes carry ``kind`` (entity, event, turn, episode, session), ``label`` (a short
readable text) and their store id; edges carry ``type`` (INVOLVES, FROM, PART_OF,
ASSOCIATED, ...). Building reads a bounded neighbourhood with named queries only.
"""

from __future__ import annotations

import logging
from typing import Any, Mapping

import networkx as nx

from graphmem.errors import InputError
from graphmem.hits import grapheme_boundary
from graphmem.store import GraphStore

__all__ = ["columns_layout", "conversation_graph", "entity_graph", "episode_graph", "explanation_graph", "short"]

logger = logging.getLogger(__name__)


def short(text: str | None, width: int = 40) -> str:
    """``text`` cut to ``width`` characters with an ellipsis, never inside a character cluster (a
    flag, a family emoji, a letter and its marks: half a flag was drawn)."""
    text = (text or "").replace("\n", " ")
    if len(text) <= width:
        return text
    cut = grapheme_boundary(text, width - 1, forward=False)
    return text[: cut or width - 1] + "…"  # (a first cluster longer than the label, as zalgo text's: cut where it fell)


def entity_graph(store: GraphStore, namespace: str, name: str, limit: int = 50) -> nx.MultiDiGraph:
    """The entity named ``name`` (or an alias of it), the (at most ``limit``) events involving it, their
    turns and co-participants."""
    rows = store.read("read/subgraph_entity", {"namespace": namespace, "name": name, "limit": limit})
    if not rows:
        raise InputError(f"no entity named {name!r} in namespace {namespace!r}")
    graph = nx.MultiDiGraph(kind="entity", root=rows[0]["entity_id"])
    root = rows[0]
    graph.add_node(root["entity_id"], kind="entity", label=root["entity_name"], entity_label=root["entity_label"])
    for row in rows:
        graph.add_node(row["event_id"], kind="event", label=short(row["event_text"]), text=row["event_text"], speaker=row["speaker"])
        graph.add_node(row["turn_id"], kind="turn", label=row["source_id"] or short(row["turn_id"], 12), session=row["session"])
        for role in sorted(row["roles"] or [None], key=str):  # a speaker who names themself: two roles, two edges
            graph.add_edge(row["event_id"], row["entity_id"], type="INVOLVES", role=role)
        graph.add_edge(row["event_id"], row["turn_id"], type="FROM")
        for other in row["others"] or []:
            if not other or not other.get("id") or other["id"] == row["entity_id"]:
                continue
            graph.add_node(other["id"], kind="entity", label=other["name"], entity_label=other.get("label"))
            graph.add_edge(row["event_id"], other["id"], type="INVOLVES", role=other.get("role"))
    return graph


def episode_graph(store: GraphStore, namespace: str, episode_id: str) -> nx.MultiDiGraph:
    """An episode, its turns (in order), their events and the entities involved."""
    rows = store.read("read/subgraph_episode", {"namespace": namespace, "episode_id": episode_id})
    if not rows:
        raise InputError(f"no episode {episode_id!r} in namespace {namespace!r}")
    graph = nx.MultiDiGraph(kind="episode", root=episode_id)
    graph.add_node(episode_id, kind="episode", label=f"episode (session {rows[0]['session']})")
    previous = None
    for row in rows:
        turn = row["turn_id"]
        if turn not in graph:
            graph.add_node(turn, kind="turn", label=row["source_id"] or short(row["turn_text"], 16), text=row["turn_text"], speaker=row["speaker"])
            graph.add_edge(turn, episode_id, type="PART_OF")
            if previous is not None:
                graph.add_edge(previous, turn, type="NEXT")
            previous = turn
        if row["event_id"]:
            if row["event_id"] not in graph:  # one row per entity the event involves: its FROM edge once
                graph.add_node(row["event_id"], kind="event", label=short(row["event_text"]), text=row["event_text"])
                graph.add_edge(row["event_id"], turn, type="FROM")
            if row["entity_id"]:
                graph.add_node(row["entity_id"], kind="entity", label=row["entity_name"], entity_label=row["entity_label"])
                graph.add_edge(row["event_id"], row["entity_id"], type="INVOLVES", role=row["role"])
    return graph


def conversation_graph(store: GraphStore, namespace: str, conversation: str, limit: int = 500) -> nx.MultiDiGraph:
    """A conversation (by key), its sessions and their episodes in order.

    Edges: ``OF`` (session to conversation) and ``NEXT`` (episode to episode) as stored, and
    ``IN`` from an episode to the session its turns are in (stored as ``(Turn)-[:IN]->(Session)``
    on each turn; drawn once per episode, with the episode's turn count). At most ``limit``
    episodes are read.
    """
    rows = store.read("read/subgraph_conversation", {"namespace": namespace, "conversation": conversation, "limit": limit})
    if not rows:
        raise InputError(f"no conversation {conversation!r} in namespace {namespace!r}")
    root = rows[0]["conversation_id"]
    graph = nx.MultiDiGraph(kind="conversation", root=root)
    graph.add_node(root, kind="conversation", label=f"conversation {rows[0]['conversation_key']}")
    episodes: set[str] = set()
    for row in rows:
        session = row["session_id"]
        if session not in graph:
            graph.add_node(session, kind="session", label=f"session {row['session']}", started_at=row["started_at"])
            graph.add_edge(session, root, type="OF")
        episode = row["episode_id"]
        if episode and episode not in episodes:
            episodes.add(episode)
            graph.add_node(episode, kind="episode", label=short(row["episode_text"], 32), text=row["episode_text"],
                           turns=row["turns"])
            graph.add_edge(episode, session, type="IN", turns=row["turns"])
    for row in rows:
        if row["episode_id"] in episodes and row["next_episode"] in episodes:
            graph.add_edge(row["episode_id"], row["next_episode"], type="NEXT")
    return graph


def explanation_graph(explanation: Mapping[str, Any], hit_id: str, hit_label: str = "hit",
                      unit: str | None = None) -> nx.MultiDiGraph:
    """The path(s) behind a hit, from its explanation: seeds, edges and the contributing strategies.

    Understands explanation entries shaped like ``{"seeds": [{"id", "kind", "label", "weight"}],
    "edges": [{"source", "target", "type", "source_kind", "source_label", "amount" | "weight",
    ...}], "via": {"node_id", "unit", "label"}, "<strategy>": {...}}`` at any depth; unknown
    entries are ignored.

    Nodes carry ``kind`` (their own: entity, event, turn, episode, session; ``"hit"`` for the
    hit), ``label`` (short), ``text`` (the full label), and ``seed=True`` with ``seed_weight``
    when the retrieval seeded from them (the hit itself may be a seed); the hit carries ``unit``
    (turn, event, episode, session) when given. Edges carry ``type``
    and, when the explanation gives one, a numeric ``weight`` (the activation it carried).
    """
    graph = nx.MultiDiGraph(kind="explanation", root=hit_id)
    graph.add_node(hit_id, kind="hit", label=hit_label, text=hit_label, seed=False)
    if unit:
        graph.nodes[hit_id]["unit"] = unit
    named: list[bool] = []

    def add_node(node: str, kind: str | None, label: str | None) -> None:
        if node not in graph:
            text = label or node
            graph.add_node(node, kind=kind or node.split(":", 1)[0] or "node", label=short(text, 40), text=text, seed=False)
        elif node == hit_id and label and not named:  # the explanation's label ("turn S3:6") reads better
            graph.nodes[node].update(label=short(label, 40), text=label)
            named.append(True)

    def number(value: Any) -> float | None:
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    seen_edges: set[tuple[str, str, str]] = set()

    def add_edge(source: str, target: str, type_: str, weight: float | None) -> None:
        if (source, target, type_) in seen_edges or source == target:
            return
        seen_edges.add((source, target, type_))
        attrs: dict[str, Any] = {"type": type_}
        if weight is not None:  # never None: layouts read "weight" and a None becomes NaN
            attrs["weight"] = weight
        graph.add_edge(source, target, **attrs)

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            via = value.get("via")
            if isinstance(via, Mapping) and via.get("node_id") and via["node_id"] != hit_id:
                add_node(via["node_id"], via.get("unit"), via.get("label"))
                add_edge(via["node_id"], hit_id, "via", None)
            for edge in value.get("edges", []) or []:
                if isinstance(edge, Mapping) and edge.get("source") and edge.get("target"):
                    for end in ("source", "target"):
                        add_node(edge[end], edge.get(f"{end}_kind"), edge.get(f"{end}_label"))
                    weight = number(edge.get("weight"))
                    add_edge(edge["source"], edge["target"], str(edge.get("type") or "edge"),
                             weight if weight is not None else number(edge.get("amount")))
            for seed in value.get("seeds", []) or []:
                seed_id = seed.get("id") if isinstance(seed, Mapping) else seed
                if not seed_id:
                    continue
                if isinstance(seed, Mapping):
                    add_node(seed_id, seed.get("kind"), seed.get("label"))
                    weight = number(seed.get("weight"))
                else:
                    add_node(seed_id, None, None)
                    weight = None
                graph.nodes[seed_id]["seed"] = True
                if weight is not None:
                    graph.nodes[seed_id]["seed_weight"] = weight
            for key, inner in value.items():
                if key != "via" and isinstance(inner, (Mapping, list)):
                    walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(explanation)
    return graph


def columns_layout(graph: nx.MultiDiGraph, root: Any) -> tuple[dict[Any, tuple[float, float]], dict[int, list[Any]]]:
    """Positions by hops to ``root`` (root at x=0, one column per hop to the left; nodes not
    linked to it in the leftmost column), and the columns (x -> nodes, top to bottom)."""
    hops = nx.single_source_shortest_path_length(graph.to_undirected(as_view=True), root) if root in graph else {}
    deepest = max(hops.values(), default=0)
    columns: dict[int, list[Any]] = {}
    for node in graph.nodes:
        columns.setdefault(-hops[node] if node in hops else -(deepest + 1), []).append(node)

    def order(node: Any) -> tuple:
        data = graph.nodes[node]
        return (not data.get("seed"), -float(data.get("seed_weight") or 0.0), data.get("kind", ""), str(data.get("label", node)))

    pos = {}
    for column, members in columns.items():
        members.sort(key=order)
        for i, node in enumerate(members):
            pos[node] = (float(column), (len(members) - 1) / 2 - i)
    return pos, dict(sorted(columns.items()))
