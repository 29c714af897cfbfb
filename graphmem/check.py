"""Integrity check of one namespace: orphans in the graph, and derived caches that disagree with it.

The graph is the source of truth, so the check reads it and never changes it: a problem in
the graph (an orphan, a duplicate, an edge into another namespace) is reported, not
"repaired" by deleting data. The derived caches are another matter: every ANN index entry
is compared with the stored nodes and embeddings, and a cache that disagrees (an entry
with no node, a node without an entry, a vector that is not the stored one, or missing and
unreadable files) is rebuilt from the store.

What counts as an orphan:

- an Event without ``FROM`` provenance, a Turn in no Session or in no Episode, a Session in
  no Conversation or with no Turn, a Conversation with no Session, an Episode with no Turn;
- a Topic with no member;
- an Entity that no Event involves, that takes part in no ``ALIAS_OF`` edge, and that is
  not a speaker (a speaker whose turns yielded no event is still an entity);
- a relationship to a node of another namespace, an id carried by two nodes, and a
  relationship written twice (two of one type, and one ``INVOLVES`` role, between the same
  two nodes: the writes create an association, a topic membership or an involvement only
  where it is missing).

What counts as order damage: a NEXT chain that forks (a turn with two NEXT out or in), a
chain that breaks off (a turn before its conversation's last with no NEXT out, or one after
its first with no NEXT in), two turns of a conversation at one position, and a NEXT edge that
goes back in the sequence (or into another conversation); the same of the episodes' NEXT chain
(by where each starts).

What counts as derived damage: a session or an episode whose stored embedding is not the
normalised mean of its turns' (what ingest, live adds, corrections and forgets all write),
by more than :data:`MEAN_TOLERANCE` in cosine: search would rank it for text it no longer
holds.

What counts as embedding damage: a turn, event, episode or session with no embedding, and
an embedding that is no vector of the namespace's dimension (the length most of its
embeddings have: another length, a value that is no number or not finite, or all zeros).
Such a unit is left out of the ANN indexes the check rebuilds (see
:func:`graphmem.index.split_embeddings`); it is reported, not repaired.

What counts as model damage (:func:`graphmem.model_identity.identity_problems`): a namespace
holding vectors whose stored embedding model identity is not the configured model's
(``embeddings_of_another_model``, naming both: every search and write of it is refused), and
an identity that cannot be read.

What counts as property damage (:func:`property_problems`): a stored property of another type than
:mod:`graphmem.schema` gives it (a string where a number belongs, a time that does not parse), or a
property the schema says is always written that a node or relationship lacks.
"""

from __future__ import annotations

import json
import logging
import math
import re
import shutil
from collections.abc import Callable
from datetime import datetime
from functools import partial
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from graphmem import schema
from graphmem.changes import marker_id, read_version
from graphmem.errors import StorageError
from graphmem.embed import Embedder
from graphmem.model_identity import identity_problems
from graphmem.namespace_settings import settings_problems
from graphmem.extract.resolve import ALIAS_REASONS, normalise_name
from graphmem.ids import namespace_slug
from graphmem.index import VectorIndex, embedding_vector, majority_dimension, split_embeddings
from graphmem.ingest.clustering import LIVE_FIRST_FIT, TOPIC_UNITS, terms_no_member_gives
from graphmem.settings import Settings
from graphmem.store import GraphStore, chunked

__all__ = ["GRAPH_CHECKS", "STRUCTURE_CHECKS", "structure_problems", "property_problems", "INDEX_QUERIES", "MEAN_CHECKS", "IndexCheck", "IntegrityReport", "check_integrity", "namespaces", "namespace_counts",
           "namespace_exists"]

logger = logging.getLogger(__name__)

#: how :attr:`IntegrityReport.caches_rebuilt` names a BM25 index rebuilt for its vocabulary
#: ("turn BM25 vocabulary": it listed words no stored text has)
VOCABULARY = " vocabulary"

#: problem name -> query returning the offending ids (``id`` column)
GRAPH_CHECKS: dict[str, str] = {
    "events_without_turn": "check/events_without_turn",
    "turns_without_session": "check/turns_without_session",
    "turns_without_episode": "check/turns_without_episode",
    "sessions_without_conversation": "check/sessions_without_conversation",
    "sessions_without_turns": "check/sessions_without_turns",
    "conversations_without_sessions": "check/conversations_without_sessions",
    "episodes_without_turns": "check/episodes_without_turns",
    "topics_without_members": "check/topics_without_members",
    "cross_namespace_edges": "check/cross_namespace_edges",
    "duplicate_ids": "check/duplicate_ids",
    "duplicate_relationships": "check/duplicate_relationships",
    "forked_next_chain": "check/forked_next_chain",
    "broken_next_chain": "check/broken_next_chain",
    "turns_sharing_a_position": "check/turns_sharing_a_position",
    "next_against_sequence": "check/next_against_sequence",
    "forked_episode_chain": "check/forked_episode_chain",
    "broken_episode_chain": "check/broken_episode_chain",
    "episode_next_against_sequence": "check/episode_next_against_sequence",
    "turns_without_embedding": "check/turns_without_embedding",
    "events_without_embedding": "check/events_without_embedding",
    "episodes_without_embedding": "check/episodes_without_embedding",
    "sessions_without_embedding": "check/sessions_without_embedding",
    **{name: f"check/{name}" for name in (
        "turns_in_several_sessions", "turns_in_several_episodes", "turns_off_their_session", "turns_off_their_position",
        "turns_off_their_episode", "events_off_their_turn", "events_sharing_a_position", "episodes_with_a_wrong_turn_count",
        "versions_without_their_turn", "turns_with_a_wrong_version", "turns_missing_their_version",
        "versions_sharing_a_number", "entities_sharing_a_key", "aliases_of_themselves", "aliases_with_several_canonicals",
        "sessions_with_a_wrong_turn_count", "memberships_off_their_topic", "topics_off_their_granularity",
        "involves_edges_with_an_unknown_role", "associations_of_themselves")},
}

#: the graph checks that name damage an operation fails on (a turn in two sessions made a search's
#: BM25 index raise "ids must be unique"): run with the property checks when one fails
STRUCTURE_CHECKS: tuple[str, ...] = ("turns_in_several_sessions", "turns_in_several_episodes", "turns_sharing_a_position",
                                     "turns_off_their_position")

#: unit -> query returning the stored ``id`` and ``embedding`` of every unit with one
INDEX_QUERIES: dict[str, str] = {
    "turn": "read/turn_embeddings",
    "event": "read/event_embeddings",
    "episode": "read/episode_embeddings",
    "session": "read/session_embeddings",
}

VECTOR_TOLERANCE = 1e-4
"""Largest difference allowed between an indexed vector and the normalised stored embedding."""

#: unit -> (query of each turn's unit, query of flagged units with their turns, problem name) for the derived-vector check
MEAN_CHECKS: dict[str, tuple[str, str, str]] = {
    "session": ("check/turn_sessions", "check/session_turn_embeddings", "sessions_not_the_mean_of_their_turns"),
    "episode": ("check/turn_episodes", "check/episode_turn_embeddings", "episodes_not_the_mean_of_their_turns"),
}

MEAN_TOLERANCE = 1e-3
"""Largest ``1 - cosine`` allowed between a session's or episode's embedding and the mean of its
turns' (a live session's running sum is kept in float32: far below this after thousands of adds)."""


class _CacheStale(Exception):
    """The saved index does not even match the stored count: it must be rebuilt."""


@dataclass
class IndexCheck:
    """How one ANN index compared with the store.

    Attributes:
        unit: ``turn``, ``event``, ``episode`` or ``session``.
        stored: units with an embedding in the store.
        state: ``ok`` (the saved index matched entry for entry), ``missing`` (never
            built, or deleted on purpose), ``stale`` (unreadable, of another model or
            size) or ``inconsistent`` (same size, other entries or vectors).
        dangling: indexed ids with no stored node (when it could be read).
        missing: stored ids the index lacked.
        wrong_vectors: entries whose vector is not the stored embedding.
        rebuilt: whether the index was rebuilt from the store.
    """

    unit: str
    stored: int
    state: str = "ok"
    dangling: int = 0
    missing: int = 0
    wrong_vectors: int = 0
    rebuilt: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return dict(self.__dict__)


@dataclass
class IntegrityReport:
    """The result of :func:`check_integrity`.

    Attributes:
        namespace: the tenant checked.
        store: the store's description.
        problems: problem name -> offending ids (empty when the graph is sound).
        indexes: unit -> :class:`IndexCheck`.
        counts: node counts per label of the namespace.
        unplaced: per granularity, units in no topic yet: not a problem, the state live
            adds leave until a granularity has :data:`~graphmem.ingest.clustering.LIVE_FIRST_FIT`
            units for its first fit, or an ingest interrupted between its conversations' commits
            and its topics commit; later adds, the next ingest (or ``recluster``) place them.
        extraction_errors: ids of turns stored verbatim without events because deriving
            them raised (information, not a problem: the graph is sound; the recipe
            ``failed_turns`` lists them with their errors).
        caches_rebuilt: the saved caches besides the ANN indexes (``"projection"``, the
            retrieval projection; ``"turn BM25"``, ``"episode BM25"``) that could not be read
            (empty, cut short), and those whose BM25 vocabulary listed words no stored text has
            (``"turn BM25 vocabulary"``: forgotten words, saved by an earlier version), rebuilt
            from the store (repaired: not problems).
    """

    namespace: str
    store: str
    problems: dict[str, list[str]] = field(default_factory=dict)
    indexes: dict[str, IndexCheck] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    unplaced: dict[str, int] = field(default_factory=dict)
    extraction_errors: list[str] = field(default_factory=list)
    caches_rebuilt: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the graph has no problem (rebuilt caches are not problems: they were repaired)."""
        return not self.problems

    @property
    def rebuilt(self) -> list[str]:
        """Units whose ANN index was rebuilt."""
        return [unit for unit, state in self.indexes.items() if state.rebuilt]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "namespace": self.namespace,
            "store": self.store,
            "ok": self.ok,
            "problems": {name: {"count": len(ids), "sample": ids[:10]} for name, ids in self.problems.items()},
            "indexes": {unit: state.to_dict() for unit, state in self.indexes.items()},
            "counts": dict(self.counts),
            "unplaced": dict(self.unplaced),
            "extraction_errors": {"count": len(self.extraction_errors), "sample": self.extraction_errors[:10]},
            "caches_rebuilt": list(self.caches_rebuilt),
        }

    def summary(self) -> str:
        """One line: clean or what is wrong."""
        rebuilt = f"; rebuilt the {', '.join(self.rebuilt)} index(es)" if self.rebuilt else ""
        if self.caches_rebuilt:
            unreadable = [name for name in self.caches_rebuilt if not name.endswith(VOCABULARY)]
            outdated = [name for name in self.caches_rebuilt if name.endswith(VOCABULARY)]
            if unreadable:
                rebuilt += f"; rebuilt the unreadable {', '.join(unreadable)} cache(s)"
            if outdated:
                rebuilt += f"; rebuilt the {', '.join(outdated)} (listing words no stored text has, forgotten ones)"
        outside = len(self.problems.get("unplaced_outside_the_ledger", ()))
        if self.unplaced and outside < sum(self.unplaced.values()):
            rebuilt += (f"; {sum(self.unplaced.values()) - outside} units in no topic yet (live adds let a granularity's "
                        f"first {LIVE_FIRST_FIT} units wait for its first topic fit, or an ingest was interrupted; "
                        "later adds, the next ingest or recluster place them)")
        if outside:
            rebuilt += (f"; the {outside} unplaced outside the ledger sit in sessions no write counted (a write "
                        "outside graphmem's): graphmem recluster places them")
        if self.extraction_errors:
            rebuilt += (f"; {len(self.extraction_errors)} turns stored without events because deriving them failed "
                        "(recipe failed_turns lists them)")
        if self.ok:
            return f"namespace {self.namespace!r}: clean{rebuilt}"
        found = ", ".join(f"{len(ids)} {name.replace('_', ' ')}" for name, ids in self.problems.items())
        return f"namespace {self.namespace!r}: {found}{rebuilt}"


def namespaces(store: GraphStore) -> list[str]:
    """Every namespace holding a node (a full scan)."""
    return [r["namespace"] for r in store.read("check/namespaces", {})]


def namespace_counts(store: GraphStore) -> dict[str, dict[str, int]]:
    """Every namespace holding a node, with its node count per label (a full scan), sorted by name."""
    counts: dict[str, dict[str, int]] = {}
    for row in store.read("check/namespace_counts", {}):
        counts.setdefault(str(row["namespace"]), {})[str(row["label"])] = int(row["count"])
    return dict(sorted(counts.items()))


def namespace_exists(store: GraphStore, namespace: str) -> bool:
    """Whether ``namespace`` holds a conversation (an indexed lookup)."""
    return bool(store.read("read/namespace_exists", {"namespace": namespace}))


def _episodes_not_the_text_of_their_turns(store: GraphStore, namespace: str, batch_size: int) -> list[str]:
    """The episodes whose stored text is not their turns' texts joined as every writer joins them
    (:func:`~graphmem.ingest.common.indexed_text` of each turn in order, one a line, cut at
    :data:`~graphmem.ingest.common.MAX_EPISODE_TEXT`): a turn's text, speaker or caption changed in
    place (``graphmem cypher --write``), which left its embedding, events and episode as they were.
    Read in batches of episodes, each with its turns in one statement. An episode with a turn whose
    position, speaker, text or caption is of the wrong type is left out: the property checks name it."""
    from graphmem.ingest.common import MAX_EPISODE_TEXT, indexed_text

    ids = [str(r["id"]) for r in store.read("check/episode_ids", {"namespace": namespace})]
    off: list[str] = []
    for batch in chunked(ids, batch_size):
        for r in store.read("check/episode_turn_texts", {"namespace": namespace, "ids": list(batch)}):
            turns = [t for t in r.get("turns") or () if isinstance(t, dict)]
            if not turns or not all(isinstance(t.get("seq"), int) and not isinstance(t.get("seq"), bool)
                                    and isinstance(t.get("text"), str) and isinstance(t.get("speaker"), (str, type(None)))
                                    and isinstance(t.get("caption"), (str, type(None))) for t in turns):
                continue
            turns.sort(key=lambda t: t["seq"])
            joined = "\n".join(indexed_text(t["speaker"], t["text"], t["caption"]) for t in turns)[:MAX_EPISODE_TEXT]
            if r.get("text") != joined:
                off.append(str(r["id"]))
    return sorted(off)


def _topics_with_words_no_member_gives(store: GraphStore, namespace: str, batch_size: int) -> list[str]:
    """The topics whose terms (their labels' words) hold one that none of their members' texts gives: a
    forget or a correction commits first and relabels the topics it took words from in a
    transaction of its own, so a crash between the two leaves the forgotten (or replaced) words
    in the labels (``graphmem recluster`` labels them again from what they hold). The ids only:
    the report does not repeat the words."""
    lost: list[str] = []
    for unit in TOPIC_UNITS:
        suspects: dict[str, set[str]] = {}
        for r in store.read("check/topic_terms", {"namespace": namespace, "granularity": unit}):
            # the terms alone: a label is its first terms joined, or "topic N" for a topic without
            # any (no member says "topic"), so its words are the terms' or none a member gives
            stored = r.get("terms")
            suspects[str(r["id"])] = {t for t in stored if isinstance(t, str) and t} if isinstance(stored, list) else set()
        try:
            lost += terms_no_member_gives(store, namespace, unit, suspects, batch_size, confirm=True)
        except StorageError as exc:  # a member text of another type than a string: the property checks name it
            logger.warning("namespace %r: could not compare the %s topics' labels with their members' texts: %s",
                           namespace, unit, exc)
    return sorted(lost)


def _speaker_keys(store: GraphStore, params: dict[str, Any]) -> set[str]:
    names = [r["speaker"] for r in store.read("check/turn_speakers", params)]
    names += [r["speaker"] for r in store.read("check/conversation_speakers", params)]
    return {normalise_name(n) for n in names if isinstance(n, str)}


def _graph_problems(store: GraphStore, namespace: str) -> dict[str, list[str]]:
    params = {"namespace": namespace}
    problems: dict[str, list[str]] = {}
    for name, query in GRAPH_CHECKS.items():
        ids = sorted(str(r["id"]) for r in store.read(query, params))
        if ids:
            problems[name] = ids
    # an event always involves its speaker's entity (ingest and live adds resolve the speaker's
    # name as a mention of role speaker): one without is damage, a deleted person entity
    speakerless = sorted(str(r["id"]) for r in store.read("check/events_without_speaker", params)
                         if not isinstance(r.get("speaker"), str) or normalise_name(r["speaker"]))
    if speakerless:
        problems["events_without_speaker"] = speakerless
    markers = sorted(str(r["id"]) for r in store.read("check/change_marker_ids", params) if r["id"] != marker_id(namespace))
    if markers:  # a second marker, or one moved from another namespace: the one read is the namespace's id
        problems["change_markers_with_a_wrong_id"] = markers
    odd_aliases = sorted(f"{r['alias']} -[ALIAS_OF]-> {r['canonical']}" for r in store.read("check/alias_edges", params)
                         if r.get("reason") not in ALIAS_REASONS or not _is_score(r.get("score")))
    if odd_aliases:  # entity resolution reads every alias edge: one it cannot read stops every ingest
        problems["aliases_with_an_unknown_reason_or_score"] = odd_aliases
    unreferenced = store.read("check/unreferenced_entities", params)
    if unreferenced:
        speakers = _speaker_keys(store, params)
        orphans = sorted(r["id"] for r in unreferenced if r.get("key") not in speakers)
        if orphans:
            problems["unreferenced_entities"] = orphans
    return problems


def _is_score(value: Any) -> bool:
    """A similarity as resolution writes one: a number within [0, 1] (absent reads as 1)."""
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 <= value <= 1.0)


def _plural(label: str) -> str:
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", label).lower()
    if words.endswith("s"):  # NamespaceSettings
        return words
    return words[:-1] + "ies" if words.endswith("y") else words + "s"


#: A time as graphmem writes one (``isoformat()`` of a naive UTC time, or of a day): stored times are
#: compared as text, so another form of the same instant ("+05:00", "Z", the basic "20240317T100000")
#: sorts and filters hours or days off.
_STORED_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d{6})?)?")


def _is_time(value: Any) -> bool:
    if not _STORED_TIME.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:  # a month 13, a 30 February
        return False
    return True


#: schema type -> whether a stored value (not None) is one
_OF_TYPE: dict[str, Callable[[Any], bool]] = {
    schema.STRING: lambda v: isinstance(v, str),
    schema.INT: lambda v: isinstance(v, int) and not isinstance(v, bool),
    schema.FLOAT: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v),
    schema.BOOL: lambda v: isinstance(v, bool),
    schema.TIME: lambda v: isinstance(v, str) and _is_time(v),
    schema.STRINGS: lambda v: isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v),
}


def structure_problems(store: GraphStore, namespace: str) -> dict[str, list[str]]:
    """The :data:`STRUCTURE_CHECKS` findings of ``namespace``: name -> ids."""
    found = {name: sorted(str(r["id"]) for r in store.read(GRAPH_CHECKS[name], {"namespace": namespace}))
             for name in STRUCTURE_CHECKS}
    return {name: ids for name, ids in found.items() if ids}


def property_problems(store: GraphStore, namespace: str) -> dict[str, list[str]]:
    """Stored properties that are not what :mod:`graphmem.schema` documents: per label (or
    relationship type) and property, ``<labels>_with_malformed_<property>`` -> the ids (of a
    relationship: its two ends) whose value has another type (a string where a number belongs, a
    time that does not parse or is not in the naive form graphmem writes) or is missing though always written. Embeddings are checked apart."""
    params = {"namespace": namespace}
    problems: dict[str, list[str]] = {}
    kinds = [(node.name.lower(), _plural(node.name), node.properties) for node in schema.NODES]
    kinds += [(rel.name.lower(), f"{rel.name.lower()}_edges", rel.properties) for rel in schema.RELATIONSHIPS]
    for name, plural, properties in kinds:
        checked = [p for p in properties if p.type in _OF_TYPE and not p.name.endswith("*") and p.name not in ("id", "namespace")]
        if not checked:
            continue
        for row in store.read(f"check/properties_{name}", params):
            for prop in checked:
                value = row.get(prop.name)
                if (value is None and not prop.optional) or (value is not None and not _OF_TYPE[prop.type](value)):
                    problems.setdefault(f"{plural}_with_malformed_{prop.name}", []).append(str(row["id"]))
    for label in ("Turn", "TurnVersion", "Conversation"):  # meta_*: one property per metadata key, scalars only
        for row in store.read(f"check/metadata_{label.lower()}", params):
            if not all(_is_metadata_value(value) for _key, value in row.get("meta") or ()):
                problems.setdefault(f"{_plural(label)}_with_malformed_metadata", []).append(str(row["id"]))
    return {name: sorted(ids) for name, ids in problems.items()}


def _is_metadata_value(value: Any) -> bool:
    """What a message's metadata may hold (:func:`graphmem.loaders.chat.metadata_pairs`): text, a
    boolean, a whole number or a finite float."""
    return isinstance(value, (str, bool, int)) or (isinstance(value, float) and math.isfinite(value))


def _not_the_mean(store: GraphStore, query: str, namespace: str, turns: tuple[list[str], np.ndarray],
                  units: tuple[list[str], np.ndarray]) -> list[str]:
    """Units (sessions or episodes) whose embedding is not the normalised mean of their turns'."""
    unit_ids, unit_vectors = units
    turn_ids, turn_vectors = turns
    if not unit_ids or not turn_ids:
        return []
    turn_row = {node: i for i, node in enumerate(turn_ids)}
    unit_row = {node: i for i, node in enumerate(unit_ids)}
    sums = np.zeros((len(unit_ids), turn_vectors.shape[1]), dtype=np.float64)
    counted = np.zeros(len(unit_ids), dtype=bool)
    for r in store.read(query, {"namespace": namespace}):
        t, u = turn_row.get(r["turn_id"]), unit_row.get(r["unit_id"])
        if t is not None and u is not None:
            sums[u] += turn_vectors[t]
            counted[u] = True
    return sorted(unit_ids[i] for i in np.flatnonzero(counted & _off_the_mean(sums, unit_vectors)))


def _still_not_the_mean(store: GraphStore, query: str, namespace: str, ids: list[str], dimension: int) -> list[str]:
    """Of ``ids``, the units whose embedding is not their turns' mean when read with their turns in
    one query (another writer may have committed between the reads that flagged them). A unit
    with a turn whose embedding is missing or malformed is left out: that turn is the damage
    reported."""
    sums: dict[str, np.ndarray] = {}
    units: dict[str, np.ndarray] = {}
    unjudged: set[str] = set()
    for r in store.read(query, {"namespace": namespace, "ids": ids}):
        vector, unit = embedding_vector(r.get("turn_embedding"), dimension), embedding_vector(r.get("unit_embedding"), dimension)
        if vector is None or unit is None:
            unjudged.add(r["unit_id"])
            continue
        sums[r["unit_id"]] = sums.get(r["unit_id"], 0.0) + vector.astype(np.float64)
        units[r["unit_id"]] = unit.astype(np.float64)
    read = [unit for unit in ids if unit in units and unit not in unjudged]
    if not read:
        return []
    off = _off_the_mean(np.stack([sums[unit] for unit in read]), np.stack([units[unit] for unit in read]))
    return sorted(unit for unit, flagged in zip(read, off) if flagged)


def _off_the_mean(sums: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Per row, whether ``vectors`` is further than :data:`MEAN_TOLERANCE` in cosine from the
    direction of ``sums`` (its turns' summed embeddings)."""
    cosine = np.sum(_normalised(sums.astype(np.float64)) * _normalised(vectors.astype(np.float64)), axis=1)
    return cosine < 1.0 - MEAN_TOLERANCE


def _normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


def _compare(index: VectorIndex, ids: list[str], vectors: np.ndarray) -> tuple[int, int, int]:
    """(dangling, missing, wrong vectors) of a loaded index against the stored units."""
    mask, matrix = index.matrix(ids)
    present = np.flatnonzero(mask)
    missing = len(ids) - len(present)
    dangling = len(index) - len(present)
    wrong = 0
    if len(present):
        indexed = _normalised(matrix[present])
        stored = _normalised(vectors[present])
        wrong = int((np.abs(indexed - stored).max(axis=1) > VECTOR_TOLERANCE).sum())
    return dangling, missing, wrong


def _open_index(directory: Path, unit: str, dimension: int, settings: Settings) -> VectorIndex:
    return VectorIndex(directory, unit, dimension, m=settings.hnsw_m, ef_construction=settings.hnsw_ef_construction, ef=settings.hnsw_ef,
                       exact_limit=settings.retrieval.exact_limit)


def _check_index(directory: Path, unit: str, ids: list[str], vectors: np.ndarray, settings: Settings) -> IndexCheck:
    """Compare the saved index of ``unit`` with the stored units (no rebuild here)."""
    result = IndexCheck(unit=unit, stored=len(ids))
    if not ids:  # nothing stored: the saved index (its manifest, see VectorIndex) must list nothing
        manifest = directory / f"{unit}.json"
        try:
            empty = not manifest.exists() or not any(json.loads(manifest.read_text(encoding="utf-8")).get("ids") or ())
        except (OSError, ValueError, AttributeError):
            empty = False
        if not empty:
            result.state = "stale"
        return result
    if not (directory / f"{unit}.json").exists():
        result.state = "missing"  # never built, or deleted on purpose (forget): built on first use
        return result
    index = _open_index(directory, unit, vectors.shape[1], settings)

    def refuse() -> tuple[list[str], np.ndarray]:
        raise _CacheStale()

    try:
        index.load_or_rebuild(len(ids), settings.embedding_model, refuse)
    except _CacheStale:
        result.state = "stale"
        return result
    result.dangling, result.missing, result.wrong_vectors = _compare(index, ids, vectors)
    if result.dangling or result.missing or result.wrong_vectors:
        result.state = "inconsistent"
    return result


def _rebuild_unreadable_caches(store: GraphStore, namespace: str, directory: Path) -> list[str]:
    """Read the saved retrieval projection and BM25 indexes of ``namespace`` in ``directory`` as a
    search would; rebuild from the store those that cannot be read (an empty or cut-short file:
    ``np.load`` raises ``EOFError`` or ``BadZipFile``), and the BM25 indexes whose vocabulary lists
    words no indexed text has (:meth:`LexicalIndex.absent_terms`: saved before forgets pruned it, it
    keeps forgotten words). Returns the names of those rebuilt.

    A missing cache is not built here (the next search builds it); a stale one is left to the
    next search too, which compares it with the change marker."""
    from graphmem.caches import PERSISTED_LEXICAL, save_lexical
    from graphmem.changes import read_marker
    from graphmem.retrieve.engine import build_lexical
    from graphmem.retrieve.lexical import LexicalIndex
    from graphmem.retrieve.loader import ROWS_FILE, load_projection
    from graphmem.retrieve.projection import MemoryProjection, ProjectionVersionError
    from graphmem.signals import reraise_stop

    def unreadable(what: str, load: Callable[[], Any]) -> bool:
        try:
            loaded = load()
        except FileNotFoundError:
            return False  # not saved: built on first use
        except ProjectionVersionError as exc:  # saved by another graphmem version: stale, not damaged
            logger.info("namespace %r: the saved %s cache in %s was saved by another graphmem version (%s); the next "
                        "search builds it again", namespace, what, directory, exc)
            return False
        except Exception as exc:  # any failure to read a derived cache is an unreadable one
            reraise_stop(exc)
            logger.warning("namespace %r: the saved %s cache in %s cannot be read (%s: %s); rebuilding it", namespace,
                           what, directory, type(exc).__name__, exc)
            return True
        absent = loaded.absent_terms() if isinstance(loaded, LexicalIndex) else []
        if absent:  # saved by an earlier version after a forget or a correction: it lists words no text has
            logger.warning("namespace %r: the saved %s cache in %s lists %d word(s) no stored text has (forgotten or "
                           "corrected away); rebuilding it", namespace, what, directory, len(absent))
            outdated.add(what)
            return True
        return False

    outdated: set[str] = set()

    projection_saved = (directory / "projection.json").exists() or (directory / "projection.npz").exists()
    bad_projection = projection_saved and unreadable("projection", lambda: MemoryProjection.load(directory))
    bad_lexical = [unit for unit in PERSISTED_LEXICAL
                   if (directory / "lexical" / unit).exists()
                   and unreadable(f"{unit} BM25", partial(LexicalIndex.load, directory / "lexical" / unit))]
    if not bad_projection and not bad_lexical:
        return []
    if bad_projection:
        for name in ("projection.json", "projection.npz", ROWS_FILE):
            (directory / name).unlink(missing_ok=True)
    for unit in bad_lexical:
        shutil.rmtree(directory / "lexical" / unit, ignore_errors=True)
    version, epoch = read_marker(store, namespace)  # read before the projection, as a search reads them
    projection, _, _ = load_projection(store, namespace, directory, version, epoch=epoch)
    for unit in bad_lexical:
        save_lexical(directory, unit, build_lexical(projection, unit), version, epoch)
    return (["projection"] if bad_projection else []) + [f"{unit} BM25{VOCABULARY if f'{unit} BM25' in outdated else ''}"
                                                         for unit in bad_lexical]


def check_integrity(store: GraphStore, namespace: str, settings: Settings) -> IntegrityReport:
    """Check ``namespace`` of ``store``; rebuild its ANN caches where they disagree with the store.

    When any index is stale or inconsistent, the namespace's whole cache directory is
    deleted (the lexical index and the retrieval projection go too and are rebuilt on
    next use) and every ANN index is rebuilt from the stored embeddings and verified.
    Missing indexes (never built, or deleted by ``forget``) are built. Callers holding
    in-memory copies of the caches drop them when ``report.rebuilt`` is not empty.

    Args:
        store: an open store.
        namespace: the tenant to check.
        settings: the index parameters and embedding model in force.

    Returns:
        An :class:`IntegrityReport`.
    """
    report = IntegrityReport(namespace=namespace, store=store.describe())
    params = {"namespace": namespace}
    report.counts = {str(r["label"]): int(r["count"]) for r in store.read("read/count_nodes", params)}
    report.problems = _graph_problems(store, namespace)
    report.problems.update(property_problems(store, namespace))
    report.problems.update(settings_problems(store, namespace))
    report.problems.update(identity_problems(store, namespace, Embedder.from_settings(settings)))
    untrue = _episodes_not_the_text_of_their_turns(store, namespace, settings.write_batch_size)
    if untrue:
        report.problems["episodes_not_the_text_of_their_turns"] = untrue
    unsaid = _topics_with_words_no_member_gives(store, namespace, settings.write_batch_size)
    if unsaid:
        report.problems["topics_with_words_no_member_gives"] = unsaid
    outside: set[str] = set()
    for unit in INDEX_QUERIES:
        waiting = [r["id"] for r in store.read(f"read/unplaced_{unit}", params)]
        if waiting:
            report.unplaced[unit] = len(waiting)
            outside.update(str(r["id"]) for batch in chunked(waiting, settings.write_batch_size)
                           for r in store.read(f"check/unplaced_outside_ledger_{unit}", {**params, "ids": list(batch)}))
    if outside:  # no batch ingest would place them (see graphmem.ingest.clustering._Ledger)
        report.problems["unplaced_outside_the_ledger"] = sorted(outside)
    report.extraction_errors = [r["id"] for r in store.read("read/extraction_errors", params)]

    directory = store.cache_dir(namespace_slug(namespace))
    try:
        version = read_version(store, namespace)  # read before the embeddings: the rebuilt indexes reflect at least it
    except StorageError:  # a version that is no number: property_problems names it; indexes rebuilt are of version 0
        version = 0
        report.problems.setdefault("change_markers_with_malformed_version", [marker_id(namespace)])
    rows = {unit: store.read(query, params) for unit, query in INDEX_QUERIES.items()}
    dimension = majority_dimension([r for unit_rows in rows.values() for r in unit_rows])
    stored: dict[str, tuple[list[str], np.ndarray]] = {}
    malformed: list[str] = []
    for unit, unit_rows in rows.items():
        ids, vectors, bad = split_embeddings(unit_rows, dimension)
        stored[unit] = (ids, vectors)
        malformed += bad
    if malformed:
        report.problems["malformed_embeddings"] = sorted(malformed)
    for unit, (query, confirm, name) in MEAN_CHECKS.items():
        off = _not_the_mean(store, query, namespace, stored["turn"], stored[unit])
        if off:  # the three reads above are not one state: a commit between them is no damage
            off = _still_not_the_mean(store, confirm, namespace, off, dimension)
        if off:
            report.problems[name] = off
    for unit, (ids, vectors) in stored.items():
        report.indexes[unit] = _check_index(directory, unit, ids, vectors, settings)
    broken = any(state.state in ("stale", "inconsistent") for state in report.indexes.values())
    if broken:
        logger.warning("namespace %r: derived caches disagree with the store (%s); rebuilding them", namespace,
                       ", ".join(f"{u}: {s.state}" for u, s in report.indexes.items() if s.state != "ok"))
        shutil.rmtree(directory, ignore_errors=True)
    for unit, (ids, vectors) in stored.items():
        if not ids or not (broken or report.indexes[unit].state == "missing"):
            continue
        index = _open_index(directory, unit, vectors.shape[1], settings)
        index.load_or_rebuild(len(ids), settings.embedding_model, lambda ids=ids, vectors=vectors: (ids, vectors),
                              version=version)
        report.indexes[unit].rebuilt = True
        after = _check_index(directory, unit, ids, vectors, settings)
        if after.state != "ok":
            report.problems.setdefault("index_unrepairable", []).append(unit)
    report.caches_rebuilt = _rebuild_unreadable_caches(store, namespace, directory)
    logger.info("%s", report.summary())
    return report
