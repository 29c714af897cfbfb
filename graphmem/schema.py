"""The graph schema: every node label and relationship type graphmem writes, with its properties.

This table is the one source: ``graphmem schema`` prints it, the README's "Graph schema" section
is generated from it (:func:`schema_markdown`; a test keeps the two equal), and a test ingests a
sample and compares a real store with it both ways (:func:`compare_with_store`): everything the
store holds is documented, and everything documented appears, except what is marked optional
(present only for some data, e.g. ``Turn.caption`` for turns with an image).

Every node also carries ``namespace`` (the tenant) and ``id`` (a namespaced content hash); both
are listed for each label, so that a misspelt property can be told from a real one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - types only
    from graphmem.store import GraphStore

__all__ = ["Property", "NodeLabel", "RelationshipType", "NODES", "RELATIONSHIPS", "SchemaComparison",
           "compare_with_store", "schema_dict", "schema_markdown", "node_label", "relationship_type", "endpoints_text"]

STRING, INT, FLOAT, BOOL = "string", "integer", "float", "boolean"
TIME = "string (ISO 8601)"
STRINGS, VECTOR = "list of strings", "list of floats"


@dataclass(frozen=True)
class Property:
    """One property of a node label or relationship type.

    Attributes:
        name: the property key; a name ending in ``*`` is a prefix (``meta_*``: one property
            per metadata field of the source).
        type: its value type (``string``, ``integer``, ``float``, ``boolean``, ``list of
            strings``, ``list of floats``, ``string (ISO 8601)``).
        description: what it holds.
        optional: True when only some nodes or relationships carry it (it is absent, not
            null, on the others).
    """

    name: str
    type: str
    description: str
    optional: bool = False

    def matches(self, key: str) -> bool:
        """Whether the stored property ``key`` is this one (prefix properties match by prefix)."""
        return key.startswith(self.name[:-1]) if self.name.endswith("*") else key == self.name


@dataclass(frozen=True)
class NodeLabel:
    """A node label: what its nodes are and their properties."""

    name: str
    description: str
    properties: tuple[Property, ...]
    optional: bool = False
    """True when only some stores have such nodes (e.g. ``TurnVersion``, after a correction)."""


@dataclass(frozen=True)
class RelationshipType:
    """A relationship type: the labels it joins (``(source, target)`` pairs) and its properties."""

    name: str
    description: str
    endpoints: tuple[tuple[str, str], ...]
    properties: tuple[Property, ...] = ()
    optional: bool = False
    """True when only some stores have such relationships (e.g. ``ALIAS_OF``, after an entity merge)."""


def _base(kind: str) -> tuple[Property, Property]:
    return (Property("id", STRING, f"unique {kind} id: a namespaced content hash (re-ingesting gives the same id)"),
            Property("namespace", STRING, "the tenant the node belongs to"))


_UNITS = ("Turn", "Episode", "Session")

NODES: tuple[NodeLabel, ...] = (
    NodeLabel("Conversation", "one dialogue between speakers, over one or more sessions", (
        *_base("conversation"),
        Property("key", STRING, "the conversation's key in the source (LoCoMo sample_id, file name, --conversation-id)"),
        Property("speakers", STRINGS, "the speakers, in order of appearance (one whose messages were all forgotten or "
                                      "corrected to another speaker is taken off)"),
        Property("source", STRING, "where it was ingested from (file path, or \"add\" for live messages)"),
        Property("meta_*", "string, number or boolean", "one property per metadata field of the source", optional=True),
    )),
    NodeLabel("Session", "one sitting of a conversation, with its start time", (
        *_base("session"),
        Property("conversation_id", STRING, "key of its conversation"),
        Property("key", STRING, "the session's key in the source"),
        Property("number", INT, "its position in the conversation (1, 2, ...)"),
        Property("started_at", TIME, "when the session started", optional=True),
        Property("date_text", STRING, "the session date as the source wrote it", optional=True),
        Property("preview", STRING, "the first turns of the session, for display", optional=True),
        Property("embedding", VECTOR, "mean of its turns' embeddings (unit length)"),
        Property("embedding_scale", FLOAT, "length of the mean before normalising (live adds keep it to update the mean)",
                 optional=True),
        Property("turn_count", INT, "number of turns (live adds)", optional=True),
        Property("placing", INT, "topic-placement ledger: writes of its units since a batch ingest last placed them in "
                 "topics (0: none; absent: written before the ledger); a batch ingest looks for units without a topic "
                 "only in sessions whose count is not 0", optional=True),
    )),
    NodeLabel("Turn", "one utterance: who said what, when", (
        *_base("turn"),
        Property("conversation_id", STRING, "key of its conversation"),
        Property("session_key", STRING, "key of its session"),
        Property("session_number", INT, "number of its session"),
        Property("index", INT, "position within its session (0, 1, ...)"),
        Property("seq", INT, "position within its conversation (session number x 1,000,000 + index): orders turns"),
        Property("speaker", STRING, "who said it, verbatim"),
        Property("text", STRING, "what was said, verbatim"),
        Property("caption", STRING, "description of an attached image (LoCoMo blip_caption)", optional=True),
        Property("source_id", STRING, "the id the source gave the turn (LoCoMo dia_id)", optional=True),
        Property("timestamp", TIME, "when it was said (the turn's own time, else its session's start)", optional=True),
        Property("embedding", VECTOR, "sentence embedding of speaker, text and caption (unit length)"),
        Property("extraction_error", STRING, "why deriving its events failed (stored verbatim without events)",
                 optional=True),
        Property("slot", STRING, "its position, unique in the store (guards concurrent live adds)", optional=True),
        Property("version", INT, "how many times it was corrected (its earlier texts; the first text is version 0)", optional=True),
        Property("updated_at", TIME, "when it was last corrected", optional=True),
        Property("meta_*", "string, number or boolean", "one property per metadata field of its message (a live add or a JSONL line)", optional=True),
    )),
    NodeLabel("TurnVersion", "an earlier text of a corrected turn", (
        *_base("turn version"),
        Property("turn_id", STRING, "id of the turn it is a version of"),
        Property("version", INT, "the version number it had"),
        Property("speaker", STRING, "who said it"),
        Property("text", STRING, "the text before the correction"),
        Property("caption", STRING, "the image description it had", optional=True),
        Property("timestamp", TIME, "when it was said", optional=True),
        Property("replaced_at", TIME, "when the correction replaced it"),
        Property("meta_*", "string, number or boolean", "the message's metadata before the correction", optional=True),
    ), optional=True),
    NodeLabel("ChangeMarker", "bookkeeping: counts the namespace's write transactions, so every process's caches follow the store", (
        *_base("change marker"),
        Property("version", INT, "write transactions committed in the namespace (every one bumps it)"),
        Property("changed_at", TIME, "when the last one committed"),
        Property("log", STRINGS, "the last 32 transactions, oldest first: JSON with the writer, the ids whose "
                 "embeddings it added, replaced or deleted, the sessions its writes stayed within, and `full` "
                 "when it could not say", optional=True),
        Property("epoch", STRING, "random, set at the marker's first write: a marker created again (its versions "
                 "counting from 1 again) has another, so caches saved under the old one are not taken",
                 optional=True),
        Property("placing_unknown", BOOL, "an import or a user's Cypher write (which keep no topic-placement ledger) "
                 "touched the namespace since a batch ingest last looked through all its units for ones without a topic",
                 optional=True),
    )),
    NodeLabel("NamespaceSettings", "what is stored with the namespace for every process and server worker: what its "
              "user set (Memory.set_timezone) and the embedding model its vectors come from", (
        Property("id", STRING, "its id, one per namespace: a hash of the namespace"),
        Property("namespace", STRING, "the tenant the node belongs to"),
        Property("timezone", STRING, "the namespace's time zone, an IANA name: times without an offset are read in it, "
                 "relative times resolve and hits show times there (absent: Settings.timezone applies)", optional=True),
        Property("embedding_model", STRING, "the embedding model setting that embedded the namespace "
                 "(graphmem.model_identity; absent in a namespace from before, recorded at its next write)", optional=True),
        Property("embedding_probe", VECTOR, "that model's unit vector of a fixed probe sentence: another model (even "
                 "of the same name or length) is refused where the two disagree", optional=True),
        Property("updated_at", TIME, "when it was last set"),
    ), optional=True),
    NodeLabel("Episode", "a run of consecutive turns about one thing, found by event segmentation", (
        *_base("episode"),
        Property("conversation_id", STRING, "key of its conversation"),
        Property("session_key", STRING, "key of its session"),
        Property("session_number", INT, "number of its session"),
        Property("start_seq", INT, "seq of its first turn"),
        Property("end_seq", INT, "seq of its last turn"),
        Property("turn_count", INT, "number of turns"),
        Property("text", STRING, "its turns' text, one per line (cut at 20,000 characters)"),
        Property("started_at", TIME, "the earliest time its turns were said", optional=True),
        Property("ended_at", TIME, "the latest time its turns were said", optional=True),
        Property("embedding", VECTOR, "mean of its turns' embeddings (unit length)"),
    )),
    NodeLabel("Event", "one self-contained proposition of a turn; the hyperedge joining its participants", (
        *_base("event"),
        Property("conversation_id", STRING, "key of its conversation"),
        Property("turn_id", STRING, "id of the turn it comes from"),
        Property("session_number", INT, "number of its session"),
        Property("seq", INT, "seq of its turn"),
        Property("index", INT, "position within its turn (0, 1, ...)"),
        Property("speaker", STRING, "who said it"),
        Property("text", STRING, "the proposition's text"),
        Property("timestamp", TIME, "when its turn was said", optional=True),
        Property("time_start", TIME, "start of the time it happened, resolved from a time expression", optional=True),
        Property("time_end", TIME, "end of that time", optional=True),
        Property("time_expression", STRING, "the time expression as said (\"last Saturday\")", optional=True),
        Property("embedding", VECTOR, "sentence embedding of \"speaker: text\" (unit length)"),
    )),
    NodeLabel("Entity", "a person, place, organisation, object or concept, resolved within the namespace", (
        *_base("entity"),
        Property("key", STRING, "normalised name (lower case, no punctuation): one entity per key"),
        Property("name", STRING, "the name as first seen"),
        Property("label", STRING, "kind: PERSON, GPE, LOC, FAC, ORG, NORP, EVENT, WORK_OF_ART, PRODUCT, LANGUAGE, MISC or CONCEPT"),
    )),
    NodeLabel("Topic", "a GMM cluster of units at one granularity", (
        *_base("topic"),
        Property("granularity", STRING, "the units it clusters: turn, event, episode or session"),
        Property("index", INT, "its component in the granularity's model"),
        Property("label", STRING, "its most distinctive words (class-based TF-IDF)"),
        Property("terms", STRINGS, "its distinctive terms, best first"),
        Property("size", INT, "units whose most probable topic it was when the topics were last fitted or relabelled "
                              "(units placed since join by their IN_TOPIC edges: count those for its members now)"),
        Property("model_state", STRING, "the fitted model as JSON (on topic 0 of each granularity)", optional=True),
        Property("assigned", INT, "units batch ingests assigned to the model since its fit (on topic 0; "
                 "a refit is considered once they are a tenth of the fitted units)", optional=True),
    )),
)

RELATIONSHIPS: tuple[RelationshipType, ...] = (
    RelationshipType("OF", "a session belongs to its conversation", (("Session", "Conversation"),)),
    RelationshipType("IN", "a turn belongs to its session", (("Turn", "Session"),)),
    RelationshipType("NEXT", "conversation order: the next turn, the next episode",
                     (("Turn", "Turn"), ("Episode", "Episode"))),
    RelationshipType("PART_OF", "a turn belongs to its episode", (("Turn", "Episode"),)),
    RelationshipType("FROM", "provenance: the turn an event was derived from", (("Event", "Turn"),)),
    RelationshipType("INVOLVES", "hyperedge membership: an entity takes part in an event", (("Event", "Entity"),), (
        Property("role", STRING, "speaker, mention or addressee"),
        Property("surface", STRING, "the words that named the entity in the event"),
        Property("surface_key", STRING, "those words normalised"),
    )),
    RelationshipType("IN_TOPIC", "soft membership of a unit in a topic",
                     (("Turn", "Topic"), ("Event", "Topic"), ("Episode", "Topic"), ("Session", "Topic")), (
        Property("p", FLOAT, "posterior probability of the topic for the unit"),
    )),
    RelationshipType("WITHIN", "topic hierarchy: a finer topic within a coarser one", (("Topic", "Topic"),), (
        Property("w", FLOAT, "link strength: how much the finer topic's members belong to the coarser topic"),
    )),
    RelationshipType("ASSOCIATED", "a GMM-accepted association between units of different sessions",
                     tuple((a, b) for a in _UNITS for b in _UNITS), (
        Property("w", FLOAT, "edge weight: GMM posterior that the pair is related (the cosine when a fallback decided)"),
        Property("granularity", STRING, "unit kind of the target: turn, episode or session"),
        Property("method", STRING, "how it was decided: gmm, or the name of the fallback used"),
    )),
    RelationshipType("ALIAS_OF", "reversible entity merge: an alias points to its canonical entity", (("Entity", "Entity"),), (
        Property("reason", STRING, "why they were merged (nickname, plural, embedding similarity, ...)"),
        Property("score", FLOAT, "the similarity that decided it"),
    ), optional=True),
    RelationshipType("VERSION_OF", "an earlier text of a corrected turn", (("TurnVersion", "Turn"),), optional=True),
)


def node_label(name: str) -> NodeLabel:
    """The documented node label ``name``. Raises ``KeyError`` for an undocumented one."""
    for label in NODES:
        if label.name == name:
            return label
    raise KeyError(name)


def relationship_type(name: str) -> RelationshipType:
    """The documented relationship type ``name``. Raises ``KeyError`` for an undocumented one."""
    for rel in RELATIONSHIPS:
        if rel.name == name:
            return rel
    raise KeyError(name)


def _property_dict(prop: Property) -> dict[str, Any]:
    return {"name": prop.name, "type": prop.type, "optional": prop.optional, "description": prop.description}


def schema_dict() -> dict[str, Any]:
    """The schema as JSON-ready data: ``{"nodes": [...], "relationships": [...]}``."""
    return {
        "nodes": [{"label": n.name, "description": n.description, "optional": n.optional,
                   "properties": [_property_dict(p) for p in n.properties]} for n in NODES],
        "relationships": [{"type": r.name, "description": r.description, "optional": r.optional,
                           "endpoints": [list(pair) for pair in r.endpoints],
                           "properties": [_property_dict(p) for p in r.properties]} for r in RELATIONSHIPS],
    }


def endpoints_text(rel: RelationshipType) -> str:
    """The labels ``rel`` joins, as short pattern text: ``(Turn)->(Session)``."""
    if rel.name == "ASSOCIATED":
        return "(Turn|Episode|Session)->(Turn|Episode|Session)"
    if len({b for _, b in rel.endpoints}) == 1 and len(rel.endpoints) > 1:
        return "(" + "|".join(a for a, _ in rel.endpoints) + f")->({rel.endpoints[0][1]})"
    return ", ".join(f"({a})->({b})" for a, b in rel.endpoints)


def schema_markdown() -> str:
    """The schema as the Markdown the README shows (between its ``schema`` markers)."""
    lines = ["| label | property | type | description |", "|---|---|---|---|"]
    for node in NODES:
        first = f"`{node.name}`" + (" (optional)" if node.optional else "")
        lines.append(f"| {first} | | | {node.description} |")
        for prop in node.properties:
            optional = " (optional)" if prop.optional else ""
            lines.append(f"| | `{prop.name}`{optional} | {prop.type} | {prop.description} |")
    lines += ["", "| relationship | joins | property | type | description |", "|---|---|---|---|---|"]
    for rel in RELATIONSHIPS:
        first = f"`{rel.name}`" + (" (optional)" if rel.optional else "")
        lines.append(f"| {first} | {endpoints_text(rel)} | | | {rel.description} |")
        for prop in rel.properties:
            optional = " (optional)" if prop.optional else ""
            lines.append(f"| | | `{prop.name}`{optional} | {prop.type} | {prop.description} |")
    return "\n".join(lines)


@dataclass
class SchemaComparison:
    """How a namespace of a real store compares with the documented schema.

    ``undocumented_*``: found in the store, not in the schema (a defect of the schema or of
    the writer). ``missing_*``: documented as always present, not found in the store.
    """

    undocumented_labels: list[str] = field(default_factory=list)
    undocumented_properties: list[str] = field(default_factory=list)
    undocumented_relationships: list[str] = field(default_factory=list)
    missing_labels: list[str] = field(default_factory=list)
    missing_properties: list[str] = field(default_factory=list)
    missing_relationships: list[str] = field(default_factory=list)

    @property
    def documented(self) -> bool:
        """True when everything in the store is documented."""
        return not (self.undocumented_labels or self.undocumented_properties or self.undocumented_relationships)

    @property
    def complete(self) -> bool:
        """True when everything documented as always present was found too."""
        return not (self.missing_labels or self.missing_properties or self.missing_relationships)

    def to_dict(self) -> dict[str, list[str]]:
        """JSON-ready view."""
        return {name: list(getattr(self, name)) for name in (
            "undocumented_labels", "undocumented_properties", "undocumented_relationships",
            "missing_labels", "missing_properties", "missing_relationships")}


def compare_with_store(store: "GraphStore", namespace: str) -> SchemaComparison:
    """Compare what ``namespace`` of ``store`` holds with the documented schema, both ways.

    Reads every node and relationship of the namespace (a full scan of it: for checks and
    tests, not the hot path). A property is found when at least one node of the label carries
    it; a relationship when one joins the documented labels. Properties are compared per
    label (``Turn.caption``) and per relationship type (``INVOLVES.role``).
    """
    params = {"namespace": namespace}
    documented = {n.name: n for n in NODES}
    result = SchemaComparison()
    found_labels = {str(r["label"]) for r in store.read("read/schema_node_labels", params)}
    found_keys: dict[str, set[str]] = {}
    for row in store.read("read/schema_node_keys", params):
        found_keys.setdefault(str(row["label"]), set()).add(str(row["key"]))
    for label in sorted(found_labels):
        if label not in documented:
            result.undocumented_labels.append(label)
            continue
        props = documented[label].properties
        for key in sorted(found_keys.get(label, ())):
            if not any(p.matches(key) for p in props):
                result.undocumented_properties.append(f"{label}.{key}")
    for node in NODES:
        if node.name not in found_labels:
            if not node.optional:
                result.missing_labels.append(node.name)
            continue
        for prop in node.properties:
            if not prop.optional and not any(prop.matches(k) for k in found_keys.get(node.name, ())):
                result.missing_properties.append(f"{node.name}.{prop.name}")

    types = {r.name: r for r in RELATIONSHIPS}
    found_types: dict[str, set[str]] = {}
    for row in store.read("read/schema_relationship_keys", params):
        name, pair = str(row["type"]), (str(row["source"]), str(row["target"]))
        shown = f"({pair[0]})-[:{name}]->({pair[1]})"
        if name not in types or pair not in types[name].endpoints:
            if shown not in result.undocumented_relationships:
                result.undocumented_relationships.append(shown)
            continue
        keys = {str(k) for k in row["keys"] or ()}
        found_types.setdefault(name, set()).update(keys)
        for key in sorted(keys):
            entry = f"{name}.{key}"
            if not any(p.matches(key) for p in types[name].properties) and entry not in result.undocumented_properties:
                result.undocumented_properties.append(entry)
    for rel in RELATIONSHIPS:
        if rel.name not in found_types:
            if not rel.optional:
                result.missing_relationships.append(rel.name)
            continue
        for prop in rel.properties:
            if not prop.optional and prop.name not in found_types[rel.name]:
                result.missing_properties.append(f"{rel.name}.{prop.name}")
    result.undocumented_relationships.sort()
    return result
