"""The search service: owns the derived caches of one namespace and answers queries.

Derived caches, all rebuilt from the store when missing or stale:

* one hnswlib :class:`~graphmem.index.VectorIndex` per unit kind (turn, event, episode,
  session), checked against the store's embedding counts;
* the :class:`~graphmem.retrieve.projection.MemoryProjection` (the graph and texts every
  strategy works on), checked against the namespace's node and relationship counts;
* BM25 indexes over turns and episodes (and events, built on first use), checked against
  the projection's ids.

They are loaded once per service and refreshed lazily after an ingest
(:meth:`SearchService.update` adds the new vectors to the ANN indexes at once and marks the
rest stale; the next search reloads the projection and the BM25 indexes). Hot-path
retrieval never scans the database: it works on these caches and touches the store only to
hydrate the final hits.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from typing import Any, Sequence

import numpy as np

from graphmem.changes import read_version
from graphmem.embed import Embedder, single_threaded
from graphmem.errors import ConfigurationError
from graphmem.hits import Hit
from graphmem.ids import namespace_slug
from graphmem.index import VectorIndex
from graphmem.retrieve.config import RetrievalConfig
from graphmem.retrieve.engine import DenseScorer, RetrievalEngine, build_lexical
from graphmem.retrieve.types import Query, RankedUnit
from graphmem.retrieve.lexical import LexicalIndex
from graphmem.retrieve.loader import load_projection
from graphmem.retrieve.projection import MemoryProjection
from graphmem.runtime import freeze_loaded_objects
from graphmem.settings import Settings
from graphmem.store import GraphStore

__all__ = ["SearchService", "INDEXED_UNITS", "HYDRATE_QUERIES", "single_threaded"]

logger = logging.getLogger(__name__)

# unit -> (query that reads its embeddings, query that counts them)
INDEXED_UNITS: dict[str, tuple[str, str]] = {
    "turn": ("read/turn_embeddings", "read/count_turns"),
    "session": ("read/session_embeddings", "read/count_sessions"),
    "event": ("read/event_embeddings", "read/count_events"),
    "episode": ("read/episode_embeddings", "read/count_episodes"),
}

HYDRATE_QUERIES = {
    "turn": "read/hydrate_turn_nodes",
    "event": "read/hydrate_events",
    "episode": "read/hydrate_episodes",
    "session": "read/hydrate_sessions",
}

#: the resolved time of the events of turn, episode and session hits (events carry their own)
HIT_TIME_QUERIES = {
    "turn": "read/hit_times_turn",
    "episode": "read/hit_times_episode",
    "session": "read/hit_times_session",
}

#: BM25 indexes kept on disk (the event index is built on first use only).
PERSISTED_LEXICAL = ("turn", "episode")

class SearchService:
    """Retrieval over the units of one namespace.

    Args:
        store: the open store.
        embedder: used for the query text.
        settings: index parameters and model.
        namespace: the tenant searched.
        config: the retrieval constants (default: ``settings.retrieval``).
    """

    def __init__(self, store: GraphStore, embedder: Embedder, settings: Settings, namespace: str,
                 config: RetrievalConfig | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.namespace = namespace
        self.config = config or settings.retrieval
        self._indexes: dict[str, VectorIndex] = {}
        self._directory = store.cache_dir(namespace_slug(namespace))
        self._engine: RetrievalEngine | None = None
        self._stale = True
        self._lock = threading.RLock()
        self.last_refresh: dict[str, Any] = {}
        self._unsaved: set[str] = set()
        # the change marker version the caches reflect, and commits of this service's own
        # writers since (see follow_store)
        self._seen_version: int | None = None
        self._own_writes = 0
        self.foreign_changes = 0

    # ------------------------------------------------------------------ caches
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
        """Forget every in-memory cache and delete this namespace's cache directory."""
        with self._lock:
            self._indexes.clear()
            self._engine = None
            self._stale = True
            shutil.rmtree(self._directory, ignore_errors=True)

    def update(self, new: dict[str, tuple[list[str], np.ndarray]], *, save: bool = True) -> None:
        """Add freshly committed embeddings to the ANN indexes; the projection and BM25
        indexes are refreshed on the next search.

        Keys are units (new vectors) or ``"replace:<unit>"`` (vectors of units whose
        embedding changed: a growing episode or session, a corrected turn). With ``save``
        the indexes are written at once; live adds save them later (:meth:`flush`), since
        writing a large index per message would cost more than the message."""
        with self._lock:
            for key, (ids, vectors) in new.items():
                unit = key.removeprefix("replace:")
                if unit not in INDEXED_UNITS or not len(ids):
                    continue
                index = self.index(unit)
                index.add(ids, vectors, replace=(unit == "session" or key.startswith("replace:")))
                if save:
                    index.save()
                else:
                    self._unsaved.add(unit)
            self._stale = True
            self._own_writes += 1

    def note_own_write(self) -> None:
        """A writer using these caches committed one transaction (and bumped the change marker)."""
        with self._lock:
            self._own_writes += 1

    def follow_store(self) -> bool:
        """Read the namespace's change marker (one small query) and refresh the caches when
        someone else wrote since they were built; returns True when that happened.

        The caches account for the marker version they were built at plus one bump per own
        commit; any other version means another process (or another Memory) wrote, and every
        derived cache of the namespace is rebuilt from the store before the next answer."""
        version = read_version(self.store, self.namespace)
        with self._lock:
            if self._seen_version is None or version == self._seen_version + self._own_writes:
                self._seen_version, self._own_writes = version, 0
                return False
            logger.info("namespace %r changed in the store (marker %d, caches at %d + %d own writes); refreshing caches",
                        self.namespace, version, self._seen_version, self._own_writes)
            self.drop_caches()
            self._unsaved.clear()
            self._seen_version, self._own_writes = version, 0
            self.foreign_changes += 1
            return True

    def flush(self) -> None:
        """Save the indexes live adds changed (on close; a crash before it only costs a rebuild)."""
        with self._lock:
            for unit in sorted(self._unsaved):
                if unit in self._indexes:
                    self._indexes[unit].save()
            self._unsaved.clear()

    def invalidate(self) -> None:
        """Mark the projection and BM25 indexes stale (the store changed outside an ingest,
        e.g. topics were refitted); the next search reloads them."""
        with self._lock:
            self._stale = True

    def engine(self) -> RetrievalEngine:
        """The retrieval engine over the current caches (refreshed when stale)."""
        with self._lock:
            if self._engine is None or self._stale:
                self._engine = self._build_engine()
                self._stale = False
            return self._engine

    def use_engine(self, engine: RetrievalEngine) -> None:
        """Serve queries from ``engine`` (built elsewhere, e.g. by a benchmark from generated
        arrays) until the next :meth:`update` marks the caches stale."""
        freeze_loaded_objects("retrieval start-up")
        with self._lock:
            self._engine = engine
            self._stale = False

    def _build_engine(self) -> RetrievalEngine:
        self.embedder.dimension  # loads the model, so that its objects are frozen with the rest
        freeze_loaded_objects("retrieval start-up")
        started = time.perf_counter()
        projection, state = load_projection(self.store, self.namespace, self._directory)
        t_projection = time.perf_counter() - started
        lexical = {unit: self._lexical(projection, unit) for unit in PERSISTED_LEXICAL}
        t_lexical = time.perf_counter() - started - t_projection
        depth = {"turn": self.config.candidates, "event": self.config.candidates,
                 "episode": self.config.coarse_candidates, "session": self.config.coarse_candidates}
        dense = {unit: DenseScorer(unit, projection.ids(unit), self.index(unit), self.config.exact_limit, depth[unit])
                 for unit in INDEXED_UNITS}
        engine = RetrievalEngine(projection, dense, lexical, self.config)
        self.last_refresh = {"projection": state, "projection_s": round(t_projection, 3), "lexical_s": round(t_lexical, 3),
                             "total_s": round(time.perf_counter() - started, 3)}
        logger.info("retrieval caches of %r ready: %s", self.namespace, self.last_refresh)
        return engine

    def _lexical(self, projection: MemoryProjection, unit: str) -> LexicalIndex:
        directory = self._directory / "lexical" / unit
        ids = projection.ids(unit)
        try:
            index = LexicalIndex.load(directory)
            if index.ids == ids:
                return index
            logger.info("%s BM25 index stale in %s; rebuilding", unit, directory)
        except FileNotFoundError:
            pass
        except Exception:  # any unreadable cache is rebuilt from the projection
            logger.warning("%s BM25 index unreadable in %s; rebuilding", unit, directory, exc_info=True)
        index = build_lexical(projection, unit)
        try:
            index.save(directory)
        except OSError:
            logger.warning("could not save the %s BM25 index in %s", unit, directory, exc_info=True)
        return index

    # ------------------------------------------------------------------ queries
    def search(self, query: Query) -> list[Hit]:
        """Run a validated query (see :func:`graphmem.retrieve.types.validate_query`, which
        :meth:`graphmem.memory.Memory.search` calls) and return up to ``query.k`` hydrated
        hits of ``query.unit`` (only those ``query.filter`` keeps, when given). The change
        marker is read first, so another writer's commits are seen. Nothing here is user
        input any more: an exception is a bug and surfaces as itself."""
        self.follow_store()
        engine = self.engine()
        with single_threaded():
            vector = self.embedder.encode([query.text])[0]
            ranked = engine.search(query, vector)
        return self.hydrate(ranked)

    def hydrate(self, ranked: Sequence[RankedUnit]) -> list[Hit]:
        """Fetch the details of ranked units from the store and build hits in the same order."""
        if not ranked:
            return []
        unit = ranked[0].unit
        params = {"ids": [r.node_id for r in ranked], "namespace": self.namespace}
        rows = {r["id"]: r for r in self.store.read(HYDRATE_QUERIES[unit], params)}
        times = ({r["id"]: r for r in self.store.read(HIT_TIME_QUERIES[unit], params)} if unit in HIT_TIME_QUERIES
                 else rows)  # an event carries its own time
        hits = []
        for item in ranked:
            row = rows.get(item.node_id)
            if row is None:  # deleted since the caches were built; never return ghosts
                logger.warning("cached %s %s has no node in the store; skipped", unit, item.node_id)
                continue
            where = {**{k: v for k, v in row.items() if v is not None}, **{k: v for k, v in item.provenance.items() if v is not None}}
            hits.append(Hit(
                node_id=item.node_id, unit=unit, text=row.get("text") or "", score=float(item.score), strategy=item.strategy,
                source_id=where.get("source_id"), conversation_id=where.get("conversation_id"),
                session_id=where.get("session_id", item.node_id if unit == "session" else None),
                session_key=where.get("session_key"), session_number=where.get("session_number"),
                speaker=row.get("speaker"), timestamp=row.get("timestamp"), explanation=dict(item.explanation),
                time_start=(times.get(item.node_id) or {}).get("time_start"), time_end=(times.get(item.node_id) or {}).get("time_end"),
            ))
        return hits
