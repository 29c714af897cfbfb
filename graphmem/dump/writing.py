"""Import side: dump records written into a store in batches, each batch one transaction.

Nodes are merged on their id and relationships on their two ends (and, for ``INVOLVES``,
its role), every property set from the record, so writing the same records twice changes
nothing. A renamed namespace gets new ids (ids are namespaced hashes, and the same id cannot
live in two namespaces of one store): the ids ingestion would give in the new namespace where
a node's properties reproduce its old id, else a hash of the old id (:class:`_Renaming`);
graphmem's own references to nodes in properties (:data:`REFERENCES`: an event's and a turn
version's ``turn_id``) follow. Other properties are user data and keep their values, however
id-like (a conversation key, a message's ``source_id``, metadata). With re-embedding, turn and event vectors are computed again
with the current model while they are written, and episode and session vectors (means of
their turns) are recomputed afterwards (:func:`recompute_means`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from graphmem.dump.format import decode_props
from graphmem.dump.graph import node_query, relationship_query, rel_key_property
from graphmem.changes import bump
from graphmem.ingest.types import turn_slot
from graphmem.dump.reading import iter_node_pages, namespace_counts
from graphmem.ids import node_id
from graphmem.ingest.common import SEQ_STRIDE, indexed_text, mean_vector
from graphmem.model_identity import IDENTITY_PROPERTIES
from graphmem.store import GraphStore, Statement

__all__ = ["REFERENCES", "RecordWriter", "renamer", "recompute_means"]

logger = logging.getLogger(__name__)

_ID = re.compile(r"^([a-z_]+):[0-9a-f]{32}$")

Embed = Callable[[list[str]], np.ndarray]

#: label -> its properties that hold the id of another node of the namespace (renamed with it).
#: Every other property is kept as written: ``conversation_id`` is the conversation's key, and
#: ``source_id`` and ``meta_*`` are the user's, whatever they look like.
REFERENCES: dict[str, tuple[str, ...]] = {"Event": ("turn_id",), "TurnVersion": ("turn_id",)}


def renamer(new_namespace: str) -> Callable[[str], str]:
    """``rename(old_id) -> id`` in ``new_namespace`` for a node whose id recipe is unknown: the same
    kind prefix, a hash of the new namespace and the old id (deterministic, so importing twice
    still changes nothing)."""

    def rename(old: str) -> str:
        match = _ID.match(old)
        kind = match.group(1) if match else "node"
        return node_id(new_namespace, kind, "renamed-from", old)

    return rename


def _recipe(label: str, props: dict[str, Any]) -> tuple[Any, ...] | None:
    """The parts ingestion hashes into the id of a ``label`` node (:func:`graphmem.ids.node_id`), from its
    properties; the caller checks them against the old id before trusting them."""
    get = props.get
    if label == "Conversation":
        return ("conversation", get("key"))
    if label == "Session":
        return ("session", get("conversation_id"), get("key"))
    if label == "Turn":
        return ("turn", get("conversation_id"), get("session_key"), get("index"), get("speaker"), get("text"), get("caption"))
    start = get("start_seq")
    if label == "Episode" and isinstance(start, int):
        return ("episode", get("conversation_id"), get("session_key"), start % SEQ_STRIDE)
    if label == "Entity":
        return ("entity", get("key"))
    if label == "Event":
        return ("event", get("turn_id"), get("index"))
    if label == "TurnVersion":
        return ("turn_version", get("turn_id"), get("version"))
    if label == "NamespaceSettings":
        return ("namespacesettings",)
    return None


class _Renaming:
    """Ids of a namespace renamed on import.

    A node whose id is its ingestion recipe in the old namespace (checked by hashing its
    properties again) gets the id ingestion would give it in the new one, so the renamed
    namespace is the one ingesting the same input there would have made: re-ingesting
    the sources adds nothing, new mentions of a known entity find its node. Those ids are
    remembered for the relationships and :data:`REFERENCES` that follow (about 150 bytes
    per node); any other node (a topic) gets :func:`renamer`'s hash. A corrected turn's id is
    the recipe of its first text: ``first_texts`` (old turn id -> speaker, text and caption of its
    version-0 ``TurnVersion``, see :meth:`note_version`) must hold it before the turn is renamed
    (a dump lists turns before their versions), so that renaming a namespace and back gives the
    corrected turn, its versions and its events (whose ids name the turn's version) the ids they had.
    """

    def __init__(self, namespace: str, first_texts: dict[str, tuple[Any, Any, Any]] | None = None) -> None:
        self.namespace = namespace
        self._fallback = renamer(namespace)
        self._known: dict[str, str] = {}
        self.first_texts = first_texts if first_texts is not None else {}
        self._versions: dict[str, Any] = {}  # old id of a corrected turn -> its version (its events' ids hold it)

    def __call__(self, old: str) -> str:
        return self._known.get(old) or self._fallback(old)

    def knows(self, old: str) -> bool:
        """Whether ``old`` was renamed by its recipe (not by :func:`renamer`'s hash)."""
        return old in self._known

    def note_version(self, props: dict[str, Any]) -> None:
        """Note a ``TurnVersion``'s properties: version 0 holds its turn's first text (the recipe of its id)."""
        if props.get("version") == 0 and isinstance(props.get("turn_id"), str):
            self.first_texts[props["turn_id"]] = (props.get("speaker"), props.get("text"), props.get("caption"))

    def node(self, label: str, old_id: str, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The new id and properties of a node of the old namespace."""
        parts = _recipe(label, props)
        if label == "Turn" and old_id in self.first_texts and parts is not None:
            first = ("turn", *parts[1:4], *self.first_texts[old_id])  # corrected since: the recipe of its first text
            if node_id(props["namespace"], *first) == old_id:
                parts = first
                self._versions[old_id] = props.get("version")
        elif label == "Event" and parts is not None and self._versions.get(parts[1]):
            # an event of a corrected turn: the version of the text it was derived from is in its id
            versioned = ("event", parts[1], f"v{self._versions[parts[1]]}", parts[2])
            if node_id(props["namespace"], *versioned) == old_id:
                parts = versioned
        new_id = None
        if parts is not None and node_id(props["namespace"], *parts) == old_id:
            if label in ("Event", "TurnVersion"):
                parts = (parts[0], self(parts[1]), *parts[2:])
            new_id = node_id(self.namespace, *parts)
            self._known[old_id] = new_id
        out = dict(props, namespace=self.namespace)
        for key in REFERENCES.get(label, ()):
            value = props.get(key)
            if isinstance(value, str):
                out[key] = self(value)
        if label == "Turn" and props.get("slot") is not None and props.get("seq") is not None:
            # a turn's position is unique in the store: the renamed namespace has its own
            out["slot"] = turn_slot(self.namespace, str(props.get("conversation_id")), int(props["seq"]))
        return new_id or self._fallback(old_id), out


class RecordWriter:
    """Buffers records and writes them in batches of ``batch_size`` rows, one transaction each.

    Args:
        store: the target store.
        batch_size: rows per transaction.
        namespace: rename every record into this namespace (None: keep the dump's).
        first_texts: for a rename, the first texts of the dump's corrected turns (:class:`_Renaming`).
        embed: re-embed turn and event texts with this function (None: keep the dump's vectors).
        progress: ``progress("import", records done, total)``.
        total: records in all (for progress).
    """

    def __init__(self, store: GraphStore, batch_size: int, *, namespace: str | None = None, embed: Embed | None = None,
                 progress: Callable[[str, int, int], None] | None = None, total: int = 0,
                 first_texts: dict[str, tuple[Any, Any, Any]] | None = None) -> None:
        self.store = store
        self.batch_size = batch_size
        self.namespace = namespace
        self._rename = _Renaming(namespace, first_texts) if namespace is not None else None
        self.embed = embed
        self.progress = progress
        self.total = total
        self.done = 0
        self.nodes = 0
        self.relationships = 0
        self.counts: dict[str, int] = {}
        self.namespaces: set[str] = set()
        self._pending: dict[str, list[dict[str, Any]]] = {}
        self._rows = 0
        self._namespaces: set[str] = set()

    def add(self, record: dict[str, Any]) -> None:
        """Queue one record (from :class:`~graphmem.dump.format.DumpReader` or the export side)."""
        if record["record"] == "node":
            label = record["label"]
            props = decode_props(record["props"])
            row_id = record["id"]
            if self._rename is not None:
                row_id, props = self._rename.node(label, row_id, props)
            self.namespaces.add(props["namespace"])
            if self.embed is not None and "embedding" in props:
                props.pop("embedding")  # of another model: turns and events are embedded below, means recomputed later
            if self.embed is not None and label == "NamespaceSettings":
                for name in IDENTITY_PROPERTIES:  # that model's: the importing memory records its own after the import
                    props.pop(name, None)
            self._queue(node_query("merge_node", label), {"id": row_id, "props": props, "_label": label})
            self.nodes += 1
            key = label
        else:
            rel_type = record["type"]
            start, end = record["start"], record["end"]
            if self._rename is not None:
                start, end = self._rename(start), self._rename(end)
            props = decode_props(record["props"])
            row: dict[str, Any] = {"start": start, "end": end, "props": props}
            key_property = rel_key_property(rel_type)
            if key_property is not None:
                row["key"] = props[key_property]
            self._queue(relationship_query(rel_type, record["start_label"], record["end_label"]), row)
            self.relationships += 1
            key = f"rel:{rel_type}"
        self.counts[key] = self.counts.get(key, 0) + 1

    def add_all(self, records: Iterable[dict[str, Any]]) -> None:
        """Queue every record, then :meth:`flush`."""
        for record in records:
            self.add(record)
        self.flush()

    def _queue(self, name: str, row: dict[str, Any]) -> None:
        namespace = (row.get("props") or {}).get("namespace")
        if isinstance(namespace, str):
            self._namespaces.add(namespace)
        self._pending.setdefault(name, []).append(row)
        self._rows += 1
        if self._rows >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Write everything queued in one transaction."""
        if not self._rows:
            return
        statements: list[Statement] = []
        for name, rows in self._pending.items():
            if self.embed is not None and rows and rows[0].get("_label") in ("Turn", "Event"):
                self._embed_rows(rows)
            for row in rows:
                row.pop("_label", None)
            statements.append((name, {"rows": rows}))
        # every process's caches follow the store: each import transaction bumps its namespaces' markers
        statements.extend(bump(namespace, placing_unknown=True) for namespace in sorted(self._namespaces))
        self.store.write(statements)
        self.done += self._rows
        self._pending, self._rows = {}, 0
        if self.progress:
            self.progress("import", self.done, max(self.total, self.done))

    def _embed_rows(self, rows: list[dict[str, Any]]) -> None:
        texts = []
        for row in rows:
            props = row["props"]
            if row["_label"] == "Turn":
                texts.append(indexed_text(props.get("speaker"), props.get("text"), props.get("caption")))
            else:
                texts.append(f"{props.get('speaker')}: {props.get('text') or ''}")
        vectors = self.embed(texts)  # type: ignore[misc]
        for row, vector in zip(rows, vectors):
            row["props"]["embedding"] = np.asarray(vector, dtype=np.float32)


def recompute_means(store: GraphStore, namespace: str, batch_size: int) -> int:
    """Set every episode's and session's embedding to the normalised mean of its turns'
    (after re-embedding the turns), and a session's ``turn_count`` and ``embedding_scale`` (the
    length of the mean before normalising, from which live adds update it) with it; returns how
    many were set."""
    updated = 0
    for label, members, setter in (("Episode", "transfer/episode_turn_embeddings", "transfer/set_embeddings_episode"),
                                   ("Session", "transfer/session_turn_embeddings", "transfer/set_embeddings_session")):
        count = namespace_counts(store, namespace).get(label, 0)
        for page in iter_node_pages(store, namespace, label, count, batch_size):
            ids = [row["id"] for row in page]
            vectors: dict[str, list[Any]] = {}
            for row in store.read(members, {"namespace": namespace, "ids": ids}):
                vectors.setdefault(row["owner"], []).append(row["embedding"])
            rows: list[dict[str, Any]] = [{"id": owner, "embedding": mean_vector(vs)} for owner, vs in vectors.items()]
            if label == "Session":  # live adds keep a session's running mean from its count and the mean's length
                for row in rows:
                    own = vectors[row["id"]]
                    raw = np.asarray(own, dtype=np.float32).mean(axis=0)
                    row.update(turn_count=len(own), embedding_scale=float(np.linalg.norm(raw)) or 1.0)
            if rows:
                store.write([(setter, {"rows": rows}), bump(namespace)])
            updated += len(rows)
    logger.info("recomputed %d episode and session embeddings in namespace %r", updated, namespace)
    return updated
