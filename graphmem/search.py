"""The search service: owns the derived caches of one namespace and answers queries.

Hot-path retrieval never scans the database: it queries the ANN indexes and
touches the store only to hydrate the final hits.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np

from graphmem.embed import Embedder
from graphmem.errors import ConfigurationError
from graphmem.hits import Hit
from graphmem.ids import namespace_slug
from graphmem.index import VectorIndex
from graphmem.settings import Settings
from graphmem.store import GraphStore

__all__ = ["SearchService", "INDEXED_UNITS"]

logger = logging.getLogger(__name__)

# unit -> (query that reads its embeddings, query that counts them)
INDEXED_UNITS: dict[str, tuple[str, str]] = {
    "turn": ("read/turn_embeddings", "read/count_turns"),
    "session": ("read/session_embeddings", "read/count_sessions"),
    "event": ("read/event_embeddings", "read/count_events"),
    "episode": ("read/episode_embeddings", "read/count_episodes"),
}


class SearchService:
    """Dense search over the units of one namespace.

    Args:
        store: the open store.
        embedder: used for the query text.
        settings: index parameters and model.
        namespace: the tenant searched.
    """

    def __init__(self, store: GraphStore, embedder: Embedder, settings: Settings, namespace: str) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.namespace = namespace
        self._indexes: dict[str, VectorIndex] = {}
        self._directory = store.cache_dir(namespace_slug(namespace))

    def index(self, unit: str) -> VectorIndex:
        """The ANN index of ``unit``, loaded or rebuilt from the store on first use."""
        if unit not in INDEXED_UNITS:
            raise ConfigurationError(f"unit {unit!r} has no vector index; expected one of {', '.join(INDEXED_UNITS)}")
        if unit not in self._indexes:
            read_query, count_query = INDEXED_UNITS[unit]
            params = {"namespace": self.namespace}
            count = int(self.store.read(count_query, params)[0]["count"])
            index = VectorIndex(self._directory, unit, self.embedder.dimension,
                                m=self.settings.hnsw_m, ef_construction=self.settings.hnsw_ef_construction, ef=self.settings.hnsw_ef)

            def fetch() -> tuple[list[str], np.ndarray]:
                rows = self.store.read(read_query, params)
                ids = [r["id"] for r in rows]
                vectors = np.asarray([r["embedding"] for r in rows], dtype=np.float32).reshape(len(rows), self.embedder.dimension)
                return ids, vectors

            state = index.load_or_rebuild(count, self.settings.embedding_model, fetch)
            logger.debug("%s index for namespace %r: %s (%d vectors)", unit, self.namespace, state, len(index))
            self._indexes[unit] = index
        return self._indexes[unit]

    def drop_caches(self) -> None:
        """Forget the in-memory indexes and delete this namespace's cache directory."""
        import shutil

        self._indexes.clear()
        shutil.rmtree(self._directory, ignore_errors=True)

    def update(self, new: dict[str, tuple[list[str], np.ndarray]]) -> None:
        """Add freshly committed embeddings to the indexes (and save them)."""
        for unit, (ids, vectors) in new.items():
            if unit not in INDEXED_UNITS or not len(ids):
                continue
            index = self.index(unit)
            index.add(ids, vectors, replace=(unit == "session"))
            index.save()

    def dense(self, query: str, k: int, unit: str) -> list[tuple[str, float]]:
        """Nearest ``unit`` ids to the query embedding, with cosine scores."""
        vector = self.embedder.encode([query])[0]
        return self.index(unit).query(vector, k)

    def search(self, query: str, k: int, unit: str, strategy: str) -> list[Hit]:
        """Run ``strategy`` for ``query`` and return up to ``k`` hydrated hits of ``unit``."""
        if strategy not in ("auto", "dense"):
            raise ConfigurationError(f"unknown strategy {strategy!r}")
        used = "dense"
        ranked = self.dense(query, k, unit)
        return self.hydrate(ranked, unit, used, {node: {"dense": {"cosine": score, "rank": i + 1}} for i, (node, score) in enumerate(ranked)})

    def hydrate(self, ranked: Sequence[tuple[str, float]], unit: str, strategy: str, explanations: dict[str, Any]) -> list[Hit]:
        """Fetch the details of ranked node ids and build hits in the same order."""
        if not ranked:
            return []
        query = {"turn": "read/hydrate_turns", "session": "read/hydrate_sessions"}[unit]
        rows = {r["id"]: r for r in self.store.read(query, {"ids": [n for n, _ in ranked], "namespace": self.namespace})}
        hits = []
        for node, score in ranked:
            row = rows.get(node)
            if row is None:  # deleted since the index was built; never return ghosts
                logger.warning("index entry %s has no node in the store; skipped", node)
                continue
            hits.append(Hit(
                node_id=node, unit=unit, text=row.get("text") or "", score=float(score), strategy=strategy,
                source_id=row.get("source_id"), conversation_id=row.get("conversation_id"),
                session_id=row.get("session_id", node if unit == "session" else None),
                session_key=row.get("session_key"), session_number=row.get("session_number"),
                speaker=row.get("speaker"), timestamp=row.get("timestamp"), explanation=explanations.get(node, {}),
            ))
        return hits
