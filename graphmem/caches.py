"""One owner for the derived caches of a namespace, used by ingestion and search alike.

The caches, all derived from the store and rebuilt from it when missing or stale:

* one hnswlib :class:`~graphmem.index.VectorIndex` per unit kind (turn, event, episode,
  session): association candidates for writers, dense candidates for search;
* the :class:`~graphmem.retrieve.projection.MemoryProjection` (the graph and texts every
  strategy works on) and the BM25 indexes over turns and episodes, held by the
  :class:`~graphmem.retrieve.engine.RetrievalEngine` built from them.

Every cache reflects one version of the namespace's change marker (:mod:`graphmem.changes`).
A writer holding these caches puts :meth:`NamespaceCaches.bump` in its transaction (which logs
this owner as the writer and the ids it changed) and reports its commit with
:meth:`NamespaceCaches.committed`: the new vectors go into the ANN indexes at once and the
engine is rebuilt at the next search. :meth:`NamespaceCaches.follow` (first thing of every
search and every live add) reads the marker version; a version its own commits do not account
for means another writer committed, and it catches up from the marker's log: the vectors of
the units that writer added or replaced are read by id and put in the ANN indexes, and the
engine is rebuilt. When the log cannot say what changed (an import, user Cypher, a forget
by a process without these caches, more transactions than it keeps), the in-memory caches
are dropped and rebuilt from the store.

Saved caches carry the version they reflect; one saved at another version is rebuilt.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
import uuid
from collections import defaultdict
from datetime import tzinfo
from pathlib import Path
from typing import Any, Iterable, Mapping, cast

import numpy as np

from graphmem.changes import bump as bump_statement
from graphmem.changes import read_log, read_marker
from graphmem.embed import Embedder
from graphmem.errors import ClosedError, ConfigurationError, StorageError
from graphmem.ids import namespace_slug
from graphmem.index import VectorIndex, split_embeddings
from graphmem.retrieve.config import RetrievalConfig
from graphmem.retrieve.engine import DenseScorer, RetrievalEngine, build_lexical, lexical_texts
from graphmem.retrieve.lexical import LexicalIndex, Tokenizer
from graphmem.retrieve.loader import AppendWrites, ProjectionRows, SavedRows, WriteScope, load_projection, save_projection
from graphmem.retrieve.patch import carried_units
from graphmem.retrieve.projection import MemoryProjection
from graphmem.runtime import freeze_loaded_objects
from graphmem.settings import Settings
from graphmem.signals import reraise_stop
from graphmem.store import GraphStore, Statement, chunked

__all__ = ["INDEXED_UNITS", "PERSISTED_LEXICAL", "SETTINGS_TZ", "NamespaceCaches", "Vectors"]

logger = logging.getLogger(__name__)

SETTINGS_TZ: Any = object()
"""The default of a ``tz`` argument: ``Settings.tz`` (``None`` is a zone itself: UTC)."""

Vectors = Mapping[str, tuple[list[str], np.ndarray]]
"""``{unit: (ids, vectors)}`` of new units, ``{"replace:<unit>": ...}`` of units whose
embedding changed (a growing episode or session, a corrected turn)."""

# unit -> (query that reads its embeddings, query that counts them)
INDEXED_UNITS: dict[str, tuple[str, str]] = {
    "turn": ("read/turn_embeddings", "read/count_turns"),
    "session": ("read/session_embeddings", "read/count_sessions"),
    "event": ("read/event_embeddings", "read/count_events"),
    "episode": ("read/episode_embeddings", "read/count_episodes"),
}

#: BM25 indexes kept on disk (the event index is built on first use only).
PERSISTED_LEXICAL = ("turn", "episode")

_LEXICAL_VERSION_FILE = "graphmem_version.json"


def save_lexical(directory: Path, unit: str, index: LexicalIndex, version: int | None, epoch: str | None) -> None:
    """Save ``unit``'s BM25 index in ``directory``/lexical/``unit`` with the change marker's version and
    epoch it reflects (a later process takes it at that version and epoch alone). A save that fails is
    logged: the index is built again when next needed."""
    saved = directory / "lexical" / unit
    try:
        index.save(saved)
        (saved / _LEXICAL_VERSION_FILE).write_text(json.dumps({"version": version, "epoch": epoch}), encoding="utf-8")
    except OSError:
        logger.warning("could not save the %s BM25 index in %s", unit, saved, exc_info=True)


def _by_unit(ids: Iterable[str]) -> dict[str, list[str]]:
    """``ids`` (each once, in order) grouped by their unit kind."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for node in dict.fromkeys(ids):
        grouped[_unit_of(node)].append(node)
    return grouped


def _unit_of(node_id: str) -> str:
    return node_id.split(":", 1)[0]


class NamespaceCaches:
    """Every derived cache of one namespace, following the store's change marker.

    Args:
        store: the open store.
        embedder: gives the vector dimension (and the model the indexes are of).
        settings: index parameters and model.
        namespace: the tenant.
        config: the retrieval constants (default: ``settings.retrieval``).
    """

    def __init__(self, store: GraphStore, embedder: Embedder, settings: Settings, namespace: str,
                 config: RetrievalConfig | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.namespace = namespace
        self.config = config or settings.retrieval
        self.directory = store.cache_dir(namespace_slug(namespace))
        #: this owner's name in the marker's log (its own commits are not caught up with again)
        self.writer = uuid.uuid4().hex[:16]
        self._indexes: dict[str, VectorIndex] = {}
        self._engine: RetrievalEngine | None = None
        self._stale = True
        self._unsaved: set[str] = set()
        # a projection rebuilt after this owner's writes, and the marker version it reflects:
        # saved on flush (when nothing was written since) instead of at every search after an add
        self._unsaved_projection: tuple[MemoryProjection, int, ProjectionRows] | None = None
        # likewise the BM25 indexes built then: unit -> (index, marker version)
        self._unsaved_lexical: dict[str, tuple[LexicalIndex, int]] = {}
        # the rows the current projection was read from (or, for one loaded from the cache, the
        # rows saved beside it, read when first needed), and the sessions written through this
        # owner since (None: something else changed, the next build reads everything)
        self._rows: ProjectionRows | SavedRows | None = None
        self._written: set[str] | None = None
        # of those, the sessions a commit wrote beyond appends (a correction, a forget, another
        # process's write): their units' links are all read again (see ProjectionRows.refreshed)
        self._whole: set[str] = set()
        # what appends wrote since beyond their sessions' new rows: entities, topic links, the
        # turns they segmented (None: a write that was not an append; the next build reads the
        # namespace-wide rows and the sessions written whole)
        self._appended: AppendWrites | None = AppendWrites()
        # the granularities whose topics a commit since fitted: every membership of their units is read again
        self._regrouped: set[str] = set()
        self._lock = threading.RLock()
        # the marker version the caches reflect (None until the first follow), and commits
        # through this owner since
        self._version: int | None = None
        self._own = 0
        # the marker's epoch as of ``_version`` (None: a marker from before epochs, or none)
        self._epoch: str | None = None
        #: how many times another writer's commits were caught up with or rebuilt for
        self.foreign_changes = 0
        #: what the last catch-up did: ``mode`` (incremental / rebuild), ``transactions``,
        #: ``vectors`` re-read, ``seconds``
        self.last_follow: dict[str, Any] = {}
        #: timings of the last engine build
        self.last_refresh: dict[str, Any] = {}
        #: how each ANN index was last opened: ``loaded`` (saved at this version), ``rebuilt`` or ``empty``
        self.index_states: dict[str, str] = {}

    # ------------------------------------------------------------------ writers
    def bump(self, changed: Iterable[str] | None = (), *, scope: WriteScope | None = None) -> Statement:
        """The marker bump for a transaction committed through these caches, logging this
        owner, the ids of the units whose embeddings it adds or replaces (``None``: it
        cannot say, and other processes rebuild) and the scope its writes stay within."""
        return bump_statement(self.namespace, writer=self.writer, changed=changed, scope=scope)

    def committed(self, vectors: Vectors | None = None, *, save: bool = True, scope: WriteScope | None = None,
                  removed: Iterable[str] = (), appended: AppendWrites | None = None) -> None:
        """A transaction carrying :meth:`bump` committed: add its new or changed vectors to the
        ANN indexes at once, and take out the units it deleted (``removed``: a correction's
        old events); the projection and BM25 are rebuilt at the next search.

        With ``save`` (batch ingest) the indexes are written at once, as of the marker
        version; live adds save them on :meth:`flush`, since writing a large index per
        message would cost more than the message.

        A live add whose writes stay within the sessions its ``scope`` names
        (:func:`graphmem.retrieve.loader.session_scope`) lets the next build re-read only
        those sessions' rows, and the memberships of the granularities whose topics it fitted
        (:meth:`ProjectionRows.refreshed`); without ``scope`` it reads everything. With ``appended`` (its writes are all
        :data:`graphmem.retrieve.loader.APPEND_WRITES`: what they wrote to the namespace-wide
        rows, :func:`graphmem.retrieve.loader.append_writes`) only the links of the units it
        changed are read again, not those of every unit of its sessions, only the turns it
        segmented, and only the entities it wrote, not every entity."""
        with self._lock:
            self._own += 1
            self._stale = True
            self._note_written(scope, appended)
            try:
                touched = self._apply(vectors or {}) | self._remove(removed)
            except BaseException:
                # an index left without part of the commit would answer without it until the
                # process ends: drop them all, the next use reads them back from the store
                self._drop_memory()
                raise
            if save and touched:
                self.follow()  # the exact version the saved indexes reflect
                self._unsaved |= touched
                self.flush(follow=False)
            else:
                self._unsaved |= touched

    def _note_written(self, scope: WriteScope | None, appended: AppendWrites | None = None) -> None:
        """Sessions a commit's writes stayed within (and granularities whose topics it fitted)
        join those the next build re-reads; a commit that cannot name them makes it read
        everything; one that did more than append (no ``appended``) makes it read every link of
        its sessions' units and every namespace-wide row."""
        if appended is None or self._appended is None:
            self._appended = None
        else:
            self._appended |= appended
        if scope is None or self._written is None:
            self._written = None
        else:
            self._written.update(scope.sessions)
            self._regrouped.update(scope.regrouped)
            if appended is None:
                self._whole.update(scope.sessions)

    def _remove(self, ids: Iterable[str]) -> set[str]:
        """Take deleted units out of the loaded ANN indexes; returns the units touched."""
        return {unit for unit, nodes in _by_unit(ids).items() if unit in self._indexes and self._indexes[unit].remove(nodes)}

    def _apply(self, vectors: Vectors) -> set[str]:
        touched: set[str] = set()
        for key, (ids, matrix) in vectors.items():
            unit = key.removeprefix("replace:")
            if unit not in INDEXED_UNITS or not len(ids):
                continue
            self.index(unit).add(ids, matrix, replace=(unit == "session" or key.startswith("replace:")))
            touched.add(unit)
        return touched

    # ------------------------------------------------------------------ following the store
    @property
    def accounted_version(self) -> int | None:
        """The marker version these caches account for (their last follow's, with their own
        commits since); ``None`` before the first follow."""
        return None if self._version is None else self._version + self._own

    def follow(self) -> bool:
        """Read the change marker (one small query); when another writer committed since the
        caches were built, catch up before answering. Returns True when that happened."""
        version, epoch = read_marker(self.store, self.namespace)
        with self._lock:
            # a marker created again (namespace dropped and rewritten, database recreated) counts anew
            recreated = self._epoch is not None and epoch is not None and epoch != self._epoch
            self._epoch = epoch
            if not recreated and (self._version is None or version == self._version + self._own):
                self._version, self._own = version, 0
                return False
            started = time.perf_counter()
            latest, entries = read_log(self.store, self.namespace)
            pending = [e for e in entries if e.version > self._version]
            foreign = [e for e in pending if e.writer != self.writer]
            if len(pending) - len(foreign) > self._own:
                # a commit of this writer whose vectors never reached its indexes (an interrupt between
                # its commit and committed()): every entry is caught up with, as another writer's
                foreign = pending
            covered = bool(pending) and pending[0].version == self._version + 1 and latest >= version
            changed = [i for e in foreign for i in e.changed]
            self.foreign_changes += 1
            if recreated or not covered or any(e.full for e in foreign):
                mode = "rebuild"
                self._drop_memory()
            else:
                mode = "incremental"
                self._catch_up(changed)
                self._stale = True
                for entry in foreign:  # live adds elsewhere name their sessions; anything else reads all
                    self._note_written(entry.scope)
            self._version, self._own = max(version, latest), 0
            self.last_follow = {"mode": mode, "transactions": len(foreign), "vectors": len(changed) if mode == "incremental" else None,
                                "seconds": round(time.perf_counter() - started, 4)}
            logger.info("namespace %r changed in the store (now at change %d): %s", self.namespace, self._version, self.last_follow)
            return True

    def _catch_up(self, changed: list[str]) -> None:
        """Read the embeddings of ``changed`` units and put them in the loaded ANN indexes (an
        index not loaded yet is read whole when first used); a changed unit no longer stored
        was deleted (a correction's old events) and is taken out."""
        for unit, ids in _by_unit(changed).items():
            if unit not in self._indexes:
                continue
            rows: list[dict[str, Any]] = []
            for batch in chunked(ids, self.settings.write_batch_size):
                rows.extend(self.store.read(f"read/{unit}_embeddings_by_ids", {"namespace": self.namespace, "ids": list(batch)}))
            if rows:
                matrix = np.asarray([r["embedding"] for r in rows], dtype=np.float32).reshape(len(rows), self.embedder.dimension)
                self._indexes[unit].add([r["id"] for r in rows], matrix, replace=True)
                self._unsaved.add(unit)
            gone = set(ids) - {r["id"] for r in rows}  # logged as changed but no longer stored: deleted by that writer
            if gone and self._indexes[unit].remove(sorted(gone)):
                self._unsaved.add(unit)

    def _drop_memory(self) -> None:
        self._indexes.clear()
        self._unsaved.clear()
        self._unsaved_projection = None
        self._unsaved_lexical = {}
        self._engine = None
        self._stale = True
        self._rows, self._written = None, None

    # ------------------------------------------------------------------ the caches
    def index(self, unit: str) -> VectorIndex:
        """The ANN index of ``unit``, loaded (when saved at the current version) or rebuilt
        from the store on first use."""
        if unit not in INDEXED_UNITS:
            raise ConfigurationError(f"unit {unit!r} has no vector index; expected one of {', '.join(INDEXED_UNITS)}")
        with self._lock:
            if unit not in self._indexes:
                if self._version is None:
                    self.follow()
                read_query, count_query = INDEXED_UNITS[unit]
                params = {"namespace": self.namespace}
                # (up to exact_limit units search scores every vector exactly: no hnswlib index there)
                index = VectorIndex(self.directory, unit, self.embedder.dimension, m=self.settings.hnsw_m,
                                    ef_construction=self.settings.hnsw_ef_construction, ef=self.settings.hnsw_ef,
                                    exact_limit=self.config.exact_limit)

                def fetch() -> tuple[list[str], np.ndarray]:
                    ids, vectors, bad = split_embeddings(self.store.read(read_query, params), self.embedder.dimension)
                    if bad:  # damage made outside graphmem: search goes on without those units' vectors
                        logger.warning("namespace %r: %d %s(s) have a malformed embedding (not %d finite numbers), "
                                       "left out of the %s index: %s; graphmem check names them", self.namespace,
                                       len(bad), unit, self.embedder.dimension, unit, ", ".join(bad[:5]))
                    return ids, vectors

                # own commits not yet numbered: a saved copy cannot be trusted, read the store
                version = self._version if not self._own else -1
                if version != -1 and self._epoch is not None and index.load_saved(self.settings.embedding_model, version, self._epoch):
                    state = "loaded"  # saved at this version of this marker: the store's count is not read
                else:
                    count = int(self.store.read(count_query, params)[0]["count"])
                    state = index.load_or_rebuild(count, self.settings.embedding_model, fetch, version=version,
                                                  epoch=self._epoch if version != -1 else None)
                index.version = self._version if not self._own else None
                index.epoch = self._epoch if not self._own else None
                self.index_states[unit] = state
                logger.debug("%s index for namespace %r: %s (%d vectors)", unit, self.namespace, state, len(index))
                self._indexes[unit] = index
            return self._indexes[unit]

    def engine(self, tz: tzinfo | None | object = SETTINGS_TZ) -> RetrievalEngine:
        """The retrieval engine over the current caches (rebuilt when stale), reading the days
        turns were said on in ``tz`` (the namespace's zone; default ``Settings.tz``)."""
        zone = self.settings.tz if tz is SETTINGS_TZ else cast("tzinfo | None", tz)
        with self._lock:
            if self._engine is None or self._stale:
                self._engine = self._build_engine(zone)
                self._stale = False
            elif self._engine.tz != zone:  # the namespace's zone was set since: the same caches, another calendar
                self._engine = self._engine.in_zone(zone)
            return self._engine

    def use_engine(self, engine: RetrievalEngine) -> None:
        """Serve queries from ``engine`` (built elsewhere, e.g. by a benchmark from generated
        arrays) until the next commit marks the caches stale."""
        freeze_loaded_objects("retrieval start-up")
        with self._lock:
            self._engine = engine
            self._stale = False
            self._rows, self._written = None, None

    def invalidate(self) -> None:
        """Mark the engine (projection and BM25) stale; the next search rebuilds it (from a read
        of everything)."""
        with self._lock:
            self._stale = True
            self._written = None

    def delete_saved(self) -> None:
        """Delete this namespace's saved caches (before a forget's transaction: a crash after
        its commit leaves none that lists a forgotten unit); the in-memory ones stay, and
        :meth:`flush` saves every loaded index again."""
        with self._lock:
            if isinstance(self._rows, SavedRows):  # read before the file goes: the next build refreshes them
                self._rows = self._rows.load()
                if self._rows is None:
                    self._written = None
            shutil.rmtree(self.directory, ignore_errors=True)
            self._unsaved |= set(self._indexes)
            self._unsaved_projection = None
            self._unsaved_lexical = {}

    def drop(self) -> None:
        """Forget every in-memory cache and delete this namespace's cache directory."""
        with self._lock:
            self._drop_memory()
            shutil.rmtree(self.directory, ignore_errors=True)

    def flush(self, *, follow: bool = True) -> None:
        """Save the ANN indexes changed since they were last saved, as of the marker version
        (on close; a crash before it only costs a rebuild)."""
        with self._lock:
            if not self._unsaved and self._unsaved_projection is None and not self._unsaved_lexical:
                return
            if follow:
                try:
                    self.follow()
                except (StorageError, ClosedError):  # the version they reflect is unknown: a stale manifest would be worse
                    logger.warning("could not read the change marker of %r; the ANN indexes are not saved (rebuilt on next use)",
                                   self.namespace, exc_info=True)
                    return
            for unit in sorted(self._unsaved):
                if unit in self._indexes:
                    self._indexes[unit].version, self._indexes[unit].epoch = self._version, self._epoch
                    self._indexes[unit].save()
            self._unsaved.clear()
            self._save_deferred()

    def _save_deferred(self) -> None:
        """Save the projection and BM25 indexes rebuilt after this owner's writes, when they are
        still the store's (no commit since they were built); otherwise the next process rebuilds them."""
        pending, self._unsaved_projection = self._unsaved_projection, None
        lexical, self._unsaved_lexical = self._unsaved_lexical, {}
        current = [(unit, index) for unit, (index, version) in sorted(lexical.items()) if version == self._version and not self._own]
        if len(current) < len(lexical):
            logger.debug("BM25 indexes of %r not saved: written since they were built", self.namespace)
        for unit, index in current:
            self._save_lexical(unit, index, self._version)
        if pending is None:
            return
        projection, version, rows = pending
        if version != self._version or self._own:
            logger.debug("projection of %r not saved: written since it was read", self.namespace)
            return
        try:
            save_projection(self.store, self.namespace, self.directory, projection, version, rows, epoch=self._epoch)
        except (OSError, StorageError, ClosedError):  # a derived cache: the next process rebuilds it
            logger.warning("could not save the projection cache of %r", self.namespace, exc_info=True)

    def _build_engine(self, tz: tzinfo | None) -> RetrievalEngine:
        self.embedder.dimension  # loads the model, so that its objects are frozen with the rest
        freeze_loaded_objects("retrieval start-up")
        started = time.perf_counter()
        version = self._version if not self._own else None
        # after this owner's writes the saved projection is older than the store: neither read
        # the counts that validate it nor save the new one at every search after an add (the
        # counts alone took 0.3 s at 10k turns, 3.8 s at 100k); flush saves it
        after_write = self._engine is not None
        kept = None
        if after_write and self._rows is not None and self._written is not None:
            kept = self._rows.load() if isinstance(self._rows, SavedRows) else self._rows
        rows: ProjectionRows | SavedRows
        if kept is not None:
            rows = kept.refreshed(self.store, self.namespace, self._written or (), whole=self._whole, written=self._appended,
                                  regrouped=self._regrouped)
            made = rows.patch(self._engine.projection) if self._engine is not None else None
            projection, state = (made, "patched") if made is not None else (rows.projection(), "refreshed")
            logger.debug("projection of %r refreshed for %d session(s) written", self.namespace, len(self._written or ()))
        else:
            projection, state, rows = load_projection(self.store, self.namespace, None if after_write else self.directory, version,
                                                      epoch=self._epoch if version is not None else None)
        self._rows, self._written, self._whole, self._appended, self._regrouped = rows, set(), set(), AppendWrites(), set()
        self._unsaved_projection = None
        if after_write and version is not None and isinstance(rows, ProjectionRows):
            self._unsaved_projection = (projection, version, rows)
        t_projection = time.perf_counter() - started
        lexical = {unit: self._lexical(projection, unit, version, after_write=after_write) for unit in PERSISTED_LEXICAL}
        t_lexical = time.perf_counter() - started - t_projection
        depth = {"turn": self.config.candidates, "event": self.config.candidates,
                 "episode": self.config.coarse_candidates, "session": self.config.coarse_candidates}
        # the projection's id -> position map where a kind is scored through its ANN index
        dense = {unit: DenseScorer(unit, projection.ids(unit), self.index(unit), self.config.exact_limit, depth[unit],
                                   projection.position[unit] if projection.count(unit) > self.config.exact_limit else None)
                 for unit in INDEXED_UNITS}
        engine = RetrievalEngine(projection, dense, lexical, self.config, tz=tz)
        if self._engine is not None:
            engine.inherit(self._engine)
        self.last_refresh = {"projection": state, "projection_s": round(t_projection, 3), "lexical_s": round(t_lexical, 3),
                             "total_s": round(time.perf_counter() - started, 3)}
        logger.info("retrieval caches of %r ready: %s", self.namespace, self.last_refresh)
        return engine

    def _lexical(self, projection: MemoryProjection, unit: str, version: int | None, *, after_write: bool = False) -> LexicalIndex:
        """The BM25 index of ``unit``: the saved one when it was built at ``version`` over the
        projection's ids (a corrected turn keeps its id, not its words), else rebuilt.

        After this owner's writes the saved one is older than the store: it is neither read
        nor replaced at every search after an add; :meth:`flush` saves the new one."""
        directory = self.directory / "lexical" / unit
        ids = projection.ids(unit)
        # the index a write made stale: its texts are mostly the new projection's (an add appends);
        # one loaded from disk is given its texts, to take their saved tokens
        stale = self._engine.built_lexical(unit) if self._engine is not None else None
        carried = carried_units(projection, self._engine.projection, unit) if stale is not None and self._engine is not None else None
        if stale is not None and self._engine is not None and carried is None:
            stale.remember_texts(lexical_texts(self._engine.projection, unit))
        if after_write:
            index = build_lexical(projection, unit, reuse=stale, carried=carried)
            if version is not None:
                self._unsaved_lexical[unit] = (index, version)
            return index
        try:
            saved = json.loads((directory / _LEXICAL_VERSION_FILE).read_text(encoding="utf-8"))
            index = LexicalIndex.load(directory)
            # the same ids under a marker created again can hold other texts (a message id kept, its words not)
            # (an index saved by an older graphmem read words otherwise: built again, as a write would)
            if (index.ids == ids and version is not None and saved.get("version") == version and saved.get("epoch") == self._epoch
                    and index.tokenizer == Tokenizer()):
                return index
            logger.info("%s BM25 index stale in %s; rebuilding", unit, directory)
        except FileNotFoundError:
            pass
        except Exception as exc:  # any unreadable cache is rebuilt from the projection
            reraise_stop(exc)
            logger.warning("%s BM25 index unreadable in %s; rebuilding", unit, directory, exc_info=True)
        index = build_lexical(projection, unit, reuse=stale, carried=carried)
        self._save_lexical(unit, index, version)
        return index

    def _save_lexical(self, unit: str, index: LexicalIndex, version: int | None) -> None:
        save_lexical(self.directory, unit, index, version, self._epoch)
