"""What a dump may hold: the allow-list of node labels and relationship types.

Labels and relationship types cannot be Cypher parameters, so every one the dump knows has
its own shipped statements under ``cypher/transfer/`` (named from this table), and a label
or type that is not listed here is refused on export and on import, never spliced into a
query. A new label or relationship type in the data model needs a line here and its
statements (``tests/test_dump.py`` checks that every name below resolves to a file).
"""

from __future__ import annotations

__all__ = ["NODE_LABELS", "RELATIONSHIPS", "EMBEDDED_LABELS", "ID_KINDS", "node_query", "relationship_query", "rel_key_property"]

#: Node labels in the order a dump lists them (endpoints before what points at them).
#: ``TurnVersion`` holds the earlier text of a corrected turn: ``(TurnVersion)-[:VERSION_OF]->(Turn)``.
#: Bookkeeping that is namespace-scoped rides on these nodes (the fitted topic model is the
#: ``model_state`` property of a granularity's first Topic), so it travels with them; what a user
#: set for a namespace (its time zone) is a ``NamespaceSettings`` node of its own.
NODE_LABELS: tuple[str, ...] = ("Conversation", "Session", "Turn", "TurnVersion", "Episode", "Event", "Entity", "Topic",
                                 "NamespaceSettings")

#: label -> the kind its ids start with (``kind:<32 hex digits>``, see :func:`graphmem.ids.node_id`). Export
#: reads a label in id windows split on the hex digits after ``kind:``; an id of another shape still
#: falls in one of the windows (they cover every string), only less evenly.
ID_KINDS: dict[str, str] = {"Conversation": "conversation", "Session": "session", "Turn": "turn",
                            "TurnVersion": "turnversion", "Episode": "episode", "Event": "event", "Entity": "entity",
                            "Topic": "topic", "NamespaceSettings": "namespacesettings"}

_ASSOCIATED = ("Turn", "Episode", "Session")

#: relationship type -> the (start label, end label) pairs it may join
RELATIONSHIPS: dict[str, tuple[tuple[str, str], ...]] = {
    "OF": (("Session", "Conversation"),),
    "IN": (("Turn", "Session"),),
    "NEXT": (("Turn", "Turn"), ("Episode", "Episode")),
    "PART_OF": (("Turn", "Episode"),),
    "FROM": (("Event", "Turn"),),
    "INVOLVES": (("Event", "Entity"),),
    "IN_TOPIC": (("Turn", "Topic"), ("Event", "Topic"), ("Episode", "Topic"), ("Session", "Topic")),
    "WITHIN": (("Topic", "Topic"),),
    "ASSOCIATED": tuple((a, b) for a in _ASSOCIATED for b in _ASSOCIATED),
    "ALIAS_OF": (("Entity", "Entity"),),
    "VERSION_OF": (("TurnVersion", "Turn"),),
}

#: labels whose ``embedding`` property is a text unit's vector (re-embedded with ``--reembed``;
#: Episode and Session vectors are means of their turns and are recomputed from them)
EMBEDDED_LABELS: tuple[str, ...] = ("Turn", "Event", "Episode", "Session")

#: relationship types of which several may join the same two nodes, told apart by this property
_KEYED: dict[str, str] = {"INVOLVES": "role"}


def rel_key_property(rel_type: str) -> str | None:
    """The property that tells apart several ``rel_type`` relationships between one pair of nodes."""
    return _KEYED.get(rel_type)


def node_query(action: str, label: str) -> str:
    """The shipped statement ``transfer/<action>_<label>`` (``read_nodes``, ``read_out``, ``merge_node``, ``count_all``).

    Raises:
        KeyError: ``label`` is not in :data:`NODE_LABELS`.
    """
    if label not in NODE_LABELS:
        raise KeyError(label)
    return f"transfer/{action}_{label.lower()}"


def relationship_query(rel_type: str, start: str, end: str) -> str:
    """The shipped statement that merges ``(start)-[:rel_type]->(end)`` relationships.

    Raises:
        KeyError: the type, or that pair of labels for it, is not allowed.
    """
    if (start, end) not in RELATIONSHIPS[rel_type]:
        raise KeyError((rel_type, start, end))
    return f"transfer/merge_rel_{rel_type.lower()}_{start.lower()}_{end.lower()}"
