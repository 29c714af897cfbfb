"""Import side: dump records written into a store in batches, each batch one transaction.

Nodes are merged on their id and relationships on their two ends (and, for ``INVOLVES``,
its role), every property set from the record, so writing the same records twice changes
nothing. A renamed namespace gets new ids derived from the old ones (ids are namespaced
hashes, and the same id cannot live in two namespaces of one store); references to ids in
``*_id`` properties follow. With re-embedding, turn and event vectors are computed again
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
from graphmem.dump.reading import iter_node_pages, namespace_counts
from graphmem.ids import node_id
from graphmem.ingest.common import indexed_text, mean_vector
from graphmem.store import GraphStore, Statement

__all__ = ["RecordWriter", "renamer", "recompute_means"]

logger = logging.getLogger(__name__)

_ID = re.compile(r"^([a-z_]+):[0-9a-f]{32}$")

Embed = Callable[[list[str]], np.ndarray]


def renamer(new_namespace: str) -> Callable[[str], str]:
    """``rename(old_id) -> id`` in ``new_namespace``: the same kind prefix, a hash of the new
    namespace and the old id (deterministic, so importing twice still changes nothing)."""

    def rename(old: str) -> str:
        match = _ID.match(old)
        kind = match.group(1) if match else "node"
        return node_id(new_namespace, kind, "renamed-from", old)

    return rename


def _renamed_props(props: dict[str, Any], namespace: str, rename: Callable[[str], str]) -> dict[str, Any]:
    out = dict(props, namespace=namespace)
    for key, value in props.items():
        if key.endswith("_id") and isinstance(value, str) and _ID.match(value):
            out[key] = rename(value)
    return out


class RecordWriter:
    """Buffers records and writes them in batches of ``batch_size`` rows, one transaction each.

    Args:
        store: the target store.
        batch_size: rows per transaction.
        namespace: rename every record into this namespace (None: keep the dump's).
        embed: re-embed turn and event texts with this function (None: keep the dump's vectors).
        progress: ``progress("import", records done, total)``.
        total: records in all (for progress).
    """

    def __init__(self, store: GraphStore, batch_size: int, *, namespace: str | None = None, embed: Embed | None = None,
                 progress: Callable[[str, int, int], None] | None = None, total: int = 0) -> None:
        self.store = store
        self.batch_size = batch_size
        self.namespace = namespace
        self._rename = renamer(namespace) if namespace is not None else None
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

    def add(self, record: dict[str, Any]) -> None:
        """Queue one record (from :class:`~graphmem.dump.format.DumpReader` or the export side)."""
        if record["record"] == "node":
            label = record["label"]
            props = decode_props(record["props"])
            row_id = record["id"]
            if self._rename is not None:
                props = _renamed_props(props, self.namespace, self._rename)  # type: ignore[arg-type]
                row_id = self._rename(row_id)
            self.namespaces.add(props["namespace"])
            if self.embed is not None and "embedding" in props:
                props.pop("embedding")  # of another model: turns and events are embedded below, means recomputed later
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
    (after re-embedding the turns); returns how many were set."""
    updated = 0
    for label, members, setter in (("Episode", "transfer/episode_turn_embeddings", "transfer/set_embeddings_episode"),
                                   ("Session", "transfer/session_turn_embeddings", "transfer/set_embeddings_session")):
        count = namespace_counts(store, namespace).get(label, 0)
        for page in iter_node_pages(store, namespace, label, count, batch_size):
            ids = [row["id"] for row in page]
            vectors: dict[str, list[Any]] = {}
            for row in store.read(members, {"namespace": namespace, "ids": ids}):
                vectors.setdefault(row["owner"], []).append(row["embedding"])
            rows = [{"id": owner, "embedding": mean_vector(vs)} for owner, vs in vectors.items()]
            if rows:
                store.write([(setter, {"rows": rows})])
            updated += len(rows)
    logger.info("recomputed %d episode and session embeddings in namespace %r", updated, namespace)
    return updated
