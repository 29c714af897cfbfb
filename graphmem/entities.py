"""What the memory knows about an entity: :meth:`Memory.entity` and :meth:`Memory.entities`.

An agent asked "what do you know about Caroline?" wants the person as the memory resolved her
(her name, kind and aliases: "Caro" is her), how often and when she came up, who and what she
comes up with, and the latest messages that name her, each with its turn id for ``history`` or
``forget``. Everything is read from the store at the call (no cache to go stale), by the
entity's node id: the name given is normalised as ingestion normalises names
(:func:`graphmem.extract.resolve.normalise_name`), so any casing, a possessive or a leading
"the" finds it, and an alias finds its canonical entity.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from graphmem.errors import InputError, reject_lone_surrogates
from graphmem.hits import captioned, excerpt
from graphmem.ids import node_id
from graphmem.retrieve.loader import read_all
from graphmem.store.base import GraphStore
from graphmem.timezones import shown

#: The most entities, mentions or related entities one call returns.
MAX_ENTITIES = 1000
#: How an entity takes part in an event (``INVOLVES.role``), in the order a profile lists them.
ROLES = ("mention", "speaker", "addressee")
#: The role of an entity named in a turn's text.
MENTION = "mention"


def _count(value: Any, name: str, *, low: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= MAX_ENTITIES:
        raise InputError(f"{name}: expected a whole number from {low} to {MAX_ENTITIES}, got {value!r}")
    return value


def validate_entity_query(name: Any, mentions: Any = 10, related: Any = 10) -> str:
    """Check :meth:`Memory.entity`'s arguments; returns the key ``name`` is stored under.

    Raises:
        InputError: naming the argument (a name with no letters or digits has no key).
    """
    from graphmem.extract.resolve import normalise_name

    if not isinstance(name, str) or not name.strip():
        raise InputError(f"name: expected an entity's name or alias, got {name!r}")
    reject_lone_surrogates(name, "name")
    _count(mentions, "mentions", low=0)
    _count(related, "related", low=0)
    key = normalise_name(name)
    if not key:
        raise InputError(f"name: {name!r} has no letters or digits to look an entity up by")
    return key


def validate_entities_query(label: Any = None, limit: Any = 50) -> str | None:
    """Check :meth:`Memory.entities`'s arguments; returns the label in upper case (or None).

    Raises:
        InputError: naming the argument.
    """
    from graphmem.extract.nlp import ENTITY_LABELS

    _count(limit, "limit", low=1)
    if label is None:
        return None
    if not isinstance(label, str) or label.strip().upper() not in ENTITY_LABELS:
        raise InputError(f"label: expected one of {', '.join(sorted(ENTITY_LABELS))} or None, got {label!r}")
    return label.strip().upper()


def entity_profile(store: GraphStore, namespace: str, name: str, *, mentions: int = 10, related: int = 10,
                   tz: tzinfo | None = None) -> dict[str, Any] | None:
    """The profile :meth:`Memory.entity` returns, or None when no entity has ``name``'s key."""
    key = validate_entity_query(name, mentions, related)
    rows = store.read("read/entity_lookup", {"namespace": namespace, "id": node_id(namespace, "entity", key)})
    if not rows:  # a spelling ingestion would file under a stored entity ("Sao Paulo", "Mel" before it was said)
        filed = _filed_under(store, namespace, key, person=name.strip()[:1].isupper())
        if filed is None:
            return None
        rows = store.read("read/entity_lookup", {"namespace": namespace, "id": node_id(namespace, "entity", filed)})
        if not rows:
            return None
    entity = rows[0]
    params = {"namespace": namespace, "id": entity["id"]}
    reads = {"roles": ("read/entity_roles", params)}  # side by side: an entity in thousands of events
    if mentions:                                       # takes 50-100 ms each (tens of thousands of turns)
        reads["mentions"] = ("read/entity_mentions", {**params, "role": MENTION, "limit": mentions})
    if related:
        reads["related"] = ("read/entity_related", {**params, "role": MENTION, "limit": related})
    found = read_all(store, reads)
    roles = {row["role"]: row for row in found["roles"] if row.get("role")}
    firsts = [row["first"] for row in roles.values() if row.get("first")]
    lasts = [row["last"] for row in roles.values() if row.get("last")]
    if any(row["dated"] < row["events"] for row in roles.values()):  # said at their session's start
        for row in store.read("read/entity_undated_times", params):
            firsts += [row["first"]] if row.get("first") else []
            lasts += [row["last"]] if row.get("last") else []
    return {
        "name": entity["name"],
        "label": entity["label"],
        "key": entity["key"],
        "aliases": [{"name": row["alias"], "reason": row["reason"]} for row in rows if row.get("alias") is not None],
        "events": {role: roles[role]["events"] for role in ROLES if role in roles},
        "turns": {role: roles[role]["turns"] for role in ROLES if role in roles},
        "conversations": sorted({conv for row in roles.values() for conv in row.get("conversations") or []}),
        "first_seen": shown(min(firsts), tz) if firsts else None,
        "last_seen": shown(max(lasts), tz) if lasts else None,
        "related": found.get("related", []),
        "mentions": [{**row, "timestamp": shown(row.get("timestamp"), tz)} for row in reversed(found.get("mentions", []))],
    }


def _filed_under(store: GraphStore, namespace: str, key: str, *, person: bool) -> str | None:
    """The stored entity's key a mention of ``key`` would be resolved to (a nickname or short
    form of one known person, when ``person``: the name was given capitalised, as a mention is
    taken for a name; the same name bar accents, spaces and hyphens), read from the namespace's
    entities and aliases; nothing is written."""
    from graphmem.extract.resolve import AliasRecord, EntityRecord, EntityResolver

    params = {"namespace": namespace}
    rows = [r for r in store.read("read/entities", params) if isinstance(r.get("key"), str) and isinstance(r.get("name"), str)]
    if not rows:
        return None
    resolver = EntityResolver()
    resolver.add_existing([EntityRecord(r["key"], r["name"], r["label"]) for r in rows],
                          [AliasRecord(r["alias_key"], r["canonical_key"], r["reason"], float(r.get("score") or 1.0))
                           for r in store.read("read/entity_aliases", params)])
    return resolver.lookup(key, person=person)


def entity_list(store: GraphStore, namespace: str, *, label: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The list :meth:`Memory.entities` returns."""
    label = validate_entities_query(label, limit)
    rows = store.read("read/entity_list", {"namespace": namespace, "label": label, "limit": limit})
    rows.sort(key=lambda row: (-(row["events"] or 0), str(row["name"] or "")))  # (a name set to null by Cypher sorts first)
    return [{**row, "aliases": sorted(a for a in row.get("aliases") or [] if a is not None)} for row in rows]


def profile_text(profile: dict[str, Any], max_chars: int = 400) -> str:
    """A profile as readable lines (the CLI's and MCP's): who, aliases, how often and when, related, mentions."""
    lines = [f"{profile['name']} ({profile['label']})"]
    if profile["aliases"]:
        lines.append("also: " + ", ".join(f"{a['name']} ({a['reason']})" for a in profile["aliases"]))
    counts = ", ".join(f"{role} in {n} turn{'s' * (n != 1)}" for role, n in profile["turns"].items())
    lines.append(f"takes part as {counts}" if counts else "takes part in no event")
    if profile["first_seen"] or profile["last_seen"]:
        first, last = (str(profile[k] or "?")[:16].replace("T", " ") for k in ("first_seen", "last_seen"))
        lines.append(f"first seen {first}, last seen {last}")
    if profile["conversations"]:
        lines.append("conversations: " + ", ".join(profile["conversations"]))
    if profile["related"]:
        lines.append("comes up with: " + ", ".join(f"{r['name']} ({r['label']}, {r['events']})" for r in profile["related"]))
    if profile["mentions"]:
        lines.append("latest mentions, oldest first:")
        for m in profile["mentions"]:
            text = captioned(" ".join(excerpt(m["text"] or "", "", max_chars).split()), m.get("caption"))
            when = (m.get("timestamp") or "?")[:16].replace("T", " ")
            lines.append(f"- [{when} · {m['speaker']} · {m['conversation']} · {m['turn_id']}] {text}")
    return "\n".join(lines)
