"""The front door: :class:`Memory`."""

from __future__ import annotations

import enum
import logging
import os
import threading
from pathlib import Path
from typing import Any, Iterable, Mapping

from graphmem.embed import Embedder
from graphmem.errors import ClosedError, ConfigurationError, InputError
from graphmem.hits import UNITS, Hit
from graphmem.ids import namespace_slug
from graphmem.ingest import IngestPipeline, IngestReport, Progress
from graphmem.loaders import FORMATS, load
from graphmem.records import ConversationRecord
from graphmem.search import SearchService
from graphmem.settings import Settings, default_store_location
from graphmem.store import GraphStore, open_store

__all__ = ["Memory", "STRATEGIES", "validate_namespace"]

logger = logging.getLogger(__name__)

STRATEGIES = ("auto", "dense")
MAX_NAMESPACE = 256


class _State(enum.Enum):
    UNOPENED = "unopened"
    OPEN = "open"
    CLOSED = "closed"


def validate_namespace(namespace: object) -> str:
    """A namespace is any non-blank string of at most 256 characters, stored verbatim."""
    if not isinstance(namespace, str) or not namespace.strip():
        raise ConfigurationError("namespace must be a non-empty string")
    if len(namespace) > MAX_NAMESPACE:
        raise ConfigurationError(f"namespace longer than {MAX_NAMESPACE} characters")
    if "\x00" in namespace:
        raise ConfigurationError("namespace must not contain NUL characters")
    return namespace


class Memory:
    """A long-term memory: one namespace of one graph store.

    Constructing does no I/O; use :meth:`Memory.open` (or ``with Memory.open(...)``).

    Example:
        >>> from graphmem import Memory
        >>> with Memory.open("/tmp/my-memory") as memory:          # doctest: +SKIP
        ...     memory.ingest("chat.jsonl")
        ...     for hit in memory.search("Where did Mel go camping?", k=5):
        ...         print(hit.score, hit.source_id, hit.text)
    """

    def __init__(self, store: GraphStore, namespace: str = "default", settings: Settings | None = None) -> None:
        self._store = store
        self._namespace = validate_namespace(namespace)
        self._settings = settings or Settings()
        self._embedder = Embedder(self._settings.embedding_model, self._settings.embedding_batch_size, self._settings.embedding_device)
        self._search: SearchService | None = None
        self._state = _State.UNOPENED
        self._lock = threading.RLock()
        self._collect_texts = False

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def open(
        cls,
        location: str | os.PathLike[str] | None = None,
        namespace: str = "default",
        *,
        settings: Settings | None = None,
        auth: tuple[str, str] | None = None,
        database: str | None = None,
    ) -> "Memory":
        """Open a memory.

        Args:
            location: a directory for the embedded store (created if missing), or a
                ``bolt://``/``neo4j://`` URI. Defaults to ``$GRAPHMEM_STORE`` or
                ``~/.local/share/graphmem/store``.
            namespace: the tenant to read and write.
            settings: tuning; defaults to :meth:`Settings.from_env`.
            auth: ``(user, password)`` for Bolt stores.
            database: Neo4j database name for Bolt stores.

        Returns:
            An open Memory.

        Raises:
            ConfigurationError: bad location, namespace or settings.
            StorageError: the store cannot be opened.
        """
        validate_namespace(namespace)
        settings = settings or Settings.from_env()
        store = open_store(location if location is not None else default_store_location(), settings, auth=auth, database=database)
        memory = cls(store, namespace, settings)
        memory._state = _State.OPEN
        logger.info("opened %s, namespace %r", store.describe(), namespace)
        return memory

    def __enter__(self) -> "Memory":
        self._check()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the store; the Memory refuses use afterwards. Idempotent."""
        with self._lock:
            if self._state is _State.CLOSED:
                return
            self._state = _State.CLOSED
            self._store.close()

    def _check(self) -> None:
        if self._state is not _State.OPEN:
            raise ClosedError(f"this Memory is {self._state.value}; use Memory.open(...)")

    def __repr__(self) -> str:
        return f"Memory({self._store.describe()!r}, namespace={self._namespace!r}, {self._state.value})"

    # ------------------------------------------------------------------ properties
    @property
    def namespace(self) -> str:
        """The tenant this Memory reads and writes."""
        return self._namespace

    @property
    def settings(self) -> Settings:
        """The frozen settings in force."""
        return self._settings

    @property
    def store(self) -> GraphStore:
        """The underlying graph store (for advanced use)."""
        self._check()
        return self._store

    def _service(self) -> SearchService:
        if self._search is None:
            self._search = SearchService(self._store, self._embedder, self._settings, self._namespace)
        return self._search

    # ------------------------------------------------------------------ operations
    def ingest(
        self,
        source: str | os.PathLike[str] | ConversationRecord | Iterable[ConversationRecord],
        format: str = "auto",
        *,
        conversation_id: str | None = None,
        progress: Progress | None = None,
    ) -> IngestReport:
        """Ingest conversations from a file (or already-loaded records).

        The whole source is loaded and validated first: a bad file raises
        :class:`InputError` and stores nothing. Ingesting the same input again
        changes nothing.

        Args:
            source: a path (LoCoMo JSON, JSONL, transcript, native JSON; ``.gz`` ok)
                or ConversationRecord(s).
            format: ``auto``, ``locomo``, ``jsonl``, ``transcript`` or ``native``.
            conversation_id: key for sources without one (JSONL, transcripts).
            progress: ``progress(stage, done, total)`` callback.

        Returns:
            An :class:`IngestReport` with counts and timings.
        """
        self._check()
        if format not in FORMATS:
            raise InputError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}")
        if isinstance(source, ConversationRecord):
            records, label = [source], source.source or source.key
        elif isinstance(source, (str, os.PathLike)):
            records, label = load(source, format, conversation_id), str(source)
        else:
            records = list(source)
            if not all(isinstance(r, ConversationRecord) for r in records):
                raise InputError("source must be a path or ConversationRecord objects")
            label = "<records>"
        report = IngestReport(sources=[label], collect_texts=self._collect_texts)
        with self._lock:
            service = self._service()
            pipeline = IngestPipeline(self._store, self._embedder, self._settings, self._namespace, on_committed=service.update,
                                      index_for=service.index, cache_dir=self._store.cache_dir(namespace_slug(self._namespace)))
            pipeline.run(records, progress=progress, report=report)
        return report

    def search(self, query: str, k: int = 10, unit: str = "turn", strategy: str = "auto", time_range: Any = None) -> list[Hit]:
        """Find the memories most relevant to ``query``.

        Args:
            query: natural-language question or keywords.
            k: number of hits.
            unit: ``"turn"`` or ``"session"``.
            strategy: ``"auto"`` or ``"dense"``.
            time_range: reserved for time filtering.

        Returns:
            Hits, best first, each with provenance and the strategy that produced it.
        """
        self._check()
        if not isinstance(query, str) or not query.strip():
            raise InputError("query must be a non-empty string")
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise InputError("k must be a positive integer")
        if unit not in UNITS:
            raise InputError(f"unknown unit {unit!r}; expected one of {', '.join(UNITS)}")
        if strategy not in STRATEGIES:
            raise InputError(f"unknown strategy {strategy!r}; expected one of {', '.join(STRATEGIES)}")
        with self._lock:
            return self._service().search(query, k, unit, strategy)

    def stats(self) -> dict[str, Any]:
        """Counts of nodes per label, relationships per type and topics per granularity in this namespace."""
        self._check()
        params = {"namespace": self._namespace}
        nodes = {r["label"]: int(r["count"]) for r in self._store.read("read/count_nodes", params)}
        rels = {r["type"]: int(r["count"]) for r in self._store.read("read/count_relationships", params)}
        topics = {r["granularity"]: int(r["count"]) for r in self._store.read("read/count_topics", params)}
        return {
            "topics": dict(sorted(topics.items())),
            "store": self._store.describe(),
            "namespace": self._namespace,
            "nodes": dict(sorted(nodes.items())),
            "relationships": dict(sorted(rels.items())),
        }

    def recluster(self) -> dict[str, int]:
        """Refit the GMM topics of every granularity on all stored units and replace the
        old Topic nodes atomically (one transaction). Returns topics per granularity."""
        self._check()
        from graphmem.stages.clustering import ClusteringStage

        with self._lock:
            service = self._service()
            stage = ClusteringStage(self._store, service.index, self._store.cache_dir(namespace_slug(self._namespace)),
                                    self._namespace, batch_size=self._settings.write_batch_size)
            output = stage.recluster(self._embedder.dimension)
            self._store.write(output.statements)
            stage.commit()
        return {k.removeprefix("topics_"): v for k, v in output.counts.items() if k.startswith("topics_")}

    def drop_namespace(self) -> int:
        """Delete every node of this namespace (and their relationships) and its caches.

        Other namespaces are untouched. Returns the number of nodes deleted.
        """
        self._check()
        deleted = 0
        with self._lock:
            while True:
                rows = self._store.write_returning("forget/delete_namespace_batch", {"namespace": self._namespace, "limit": 5000})
                count = int(rows[0]["deleted"]) if rows else 0
                deleted += count
                if count == 0:
                    break
            service = self._service()
            service.drop_caches()
            self._search = None
        logger.info("dropped namespace %r (%d nodes)", self._namespace, deleted)
        return deleted

    def to_networkx(self, *, entity: str | None = None, episode: str | None = None, hit: Hit | None = None, limit: int = 50):
        """A subgraph as a ``networkx.MultiDiGraph``: around an entity (name or alias), an
        episode (node id), or the path behind a search hit (from its explanation).

        Exactly one of ``entity``, ``episode``, ``hit`` must be given.
        """
        self._check()
        from graphmem import explore

        if sum(x is not None for x in (entity, episode, hit)) != 1:
            raise InputError("give exactly one of entity=, episode= or hit=")
        if entity is not None:
            return explore.entity_graph(self._store, self._namespace, entity, limit)
        if episode is not None:
            return explore.episode_graph(self._store, self._namespace, episode)
        return explore.explanation_graph(hit.explanation, hit.node_id, hit.source_id or hit.unit)  # type: ignore[union-attr]

    def cypher(self, query: str, params: Mapping[str, Any] | None = None, *, write: bool = False) -> list[dict[str, Any]]:
        """Run Cypher against the store, with parameters; read-only unless ``write``.

        ``$namespace`` is set to this Memory's namespace unless given.
        """
        self._check()
        merged = {"namespace": self._namespace, **(params or {})}
        return self._store.run_cypher(query, merged, write=write)
