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
from graphmem.store import GraphStore

__all__ = ["entity_graph", "episode_graph", "explanation_graph", "short"]

logger = logging.getLogger(__name__)


def short(text: str | None, width: int = 40) -> str:
    """``text`` cut to ``width`` characters with an ellipsis."""
    text = (text or "").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def entity_graph(store: GraphStore, namespace: str, name: str, limit: int = 50) -> nx.MultiDiGraph:
    """The entity named ``name`` (or an alias of it), the events involving it, their turns and co-participants."""
    rows = store.read("read/subgraph_entity", {"namespace": namespace, "name": name, "limit": limit})
    if not rows:
        raise InputError(f"no entity named {name!r} in namespace {namespace!r}")
    graph = nx.MultiDiGraph(kind="entity", root=rows[0]["entity_id"])
    root = rows[0]
    graph.add_node(root["entity_id"], kind="entity", label=root["entity_name"], entity_label=root["entity_label"])
    for row in rows:
        graph.add_node(row["event_id"], kind="event", label=short(row["event_text"]), text=row["event_text"], speaker=row["speaker"])
        graph.add_node(row["turn_id"], kind="turn", label=row["source_id"] or short(row["turn_id"], 12), session=row["session"])
        graph.add_edge(row["event_id"], row["entity_id"], type="INVOLVES", role=row["role"])
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
            graph.add_node(row["event_id"], kind="event", label=short(row["event_text"]), text=row["event_text"])
            graph.add_edge(row["event_id"], turn, type="FROM")
            if row["entity_id"]:
                graph.add_node(row["entity_id"], kind="entity", label=row["entity_name"], entity_label=row["entity_label"])
                graph.add_edge(row["event_id"], row["entity_id"], type="INVOLVES", role=row["role"])
    return graph


def explanation_graph(explanation: Mapping[str, Any], hit_id: str, hit_label: str = "hit") -> nx.MultiDiGraph:
    """The path(s) behind a hit, from its explanation: seeds, edges and the contributing strategies.

    Understands explanation entries shaped like ``{"seeds": [...], "edges": [{"source", "target",
    "type", ...}], "<strategy>": {...}}``; unknown entries are ignored.
    """
    graph = nx.MultiDiGraph(kind="explanation", root=hit_id)
    graph.add_node(hit_id, kind="hit", label=hit_label)

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            for edge in value.get("edges", []) or []:
                if isinstance(edge, Mapping) and edge.get("source") and edge.get("target"):
                    for end in ("source", "target"):
                        node = edge[end]
                        if node not in graph:
                            graph.add_node(node, kind=edge.get(f"{end}_kind", "node"), label=short(edge.get(f"{end}_label") or node, 24))
                    graph.add_edge(edge["source"], edge["target"], type=edge.get("type", "edge"), weight=edge.get("weight"))
            for seed in value.get("seeds", []) or []:
                seed_id = seed.get("id") if isinstance(seed, Mapping) else seed
                if seed_id and seed_id not in graph:
                    graph.add_node(seed_id, kind="seed", label=short((seed.get("label") if isinstance(seed, Mapping) else None) or seed_id, 24))
            for inner in value.values():
                if isinstance(inner, (Mapping, list)):
                    walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(explanation)
    return graph
