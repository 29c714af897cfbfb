"""``graphmem bench query``: query latency per strategy on synthetic memories of 10k and 100k turns.

For each size, a synthetic memory (:mod:`graphmem.bench.synthetic`) is built once and kept
under ``~/.cache/graphmem/bench/memory-<size>-<key>/``:

* the embedded store receives the Conversation, Session and Turn nodes (text, speaker,
  times, ``IN`` edges) through the ordinary write queries, in batches of 2,000 rows per
  transaction -- everything hydration reads;
* the derived caches are built directly from the generated arrays, exactly as the search
  service would build them from the store: the hnswlib indexes of turns, events, episodes
  and sessions (same parameters as :class:`~graphmem.settings.Settings`), the
  :class:`~graphmem.retrieve.projection.MemoryProjection` (events, entities, ``INVOLVES``,
  episodes, ``ASSOCIATED``) and the BM25 indexes. Events, entities and episodes are not
  written to the store: writing ~400k more rows would take minutes and no query reads them
  from the store on the hot path.

Each query is timed end to end through :meth:`graphmem.search.SearchService.search`:
query embedding (the real model), retrieval, and hydration of the 10 hits from the store.
Queries are distinct template questions (the same set for every strategy; nothing caches
query embeddings); 20 other warm-up queries per strategy are not timed (the store's JVM
and the CPU caches warm up over the first queries).

Every search first reads the namespace's change marker (:mod:`graphmem.changes`); what that
adds per query is timed on its own, on the embedded store and (``bolt=True``) over Bolt
against a local ArcadeDB server started for the run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from graphmem.bench.synthetic import GENERATOR_VERSION, bench_cache_dir, clause_pool, generate_memory, query_texts
from graphmem.embed import Embedder
from graphmem.ids import namespace_slug
from graphmem.index import VectorIndex
from graphmem.retrieve.config import RetrievalConfig
from graphmem.retrieve.engine import STRATEGIES, DenseScorer, RetrievalEngine, build_lexical
from graphmem.retrieve.types import validate_query
from graphmem.retrieve.lexical import LexicalIndex
from graphmem.retrieve.projection import PROJECTION_VERSION, MemoryProjection
from graphmem.embed import single_threaded
from graphmem.caches import INDEXED_UNITS, PERSISTED_LEXICAL, NamespaceCaches
from graphmem.changes import bump
from graphmem.search import SearchService
from graphmem.settings import Settings
from graphmem.store import GraphStore, chunked, open_store

__all__ = ["bench_query", "DEFAULT_SIZES"]

logger = logging.getLogger(__name__)

DEFAULT_SIZES = (10_000, 100_000)
NAMESPACE = "bench-query"
CLAUSES = 4000
WARMUP = 20
BUILD_VERSION = 1

Say = Callable[[str], None]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _build(directory: Path, size: int, settings: Settings, embedder: Embedder, say: Say) -> dict[str, float]:
    """Generate the memory of ``size`` turns and write its store and caches into ``directory``.

    The store holds no vectors (the synthetic ones go to the ANN caches only, and the directory is
    keyed by the model's name), so it records no embedding model identity
    (:mod:`graphmem.model_identity`): it is searched through :class:`SearchService`, not a Memory."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    texts, slots, vectors = clause_pool(CLAUSES, embedder.encode, settings.embedding_model)
    timings["clause_embeddings_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    memory = generate_memory(size, texts, slots, vectors, namespace=NAMESPACE)
    timings["generate_s"] = time.perf_counter() - t0
    say(f"{size:,} turns: generated {len(memory.rows['events']):,} events, {len(memory.rows['entities']):,} entities, "
        f"{len(memory.rows['episodes']):,} episodes in {timings['generate_s']:.1f} s; writing turns to the store ...")
    shutil.rmtree(directory, ignore_errors=True)
    store = open_store(directory / "store", settings)
    try:
        t0 = time.perf_counter()
        ns = NAMESPACE
        store.write([("write/merge_conversations", {"rows": [
            {"id": c["id"], "props": {"namespace": ns, "key": c["key"], "speakers": [], "source": "synthetic"}} for c in memory.conversations]})])
        conv_id = {c["key"]: c["id"] for c in memory.conversations}
        for rows in chunked(memory.rows["sessions"], settings.write_batch_size):
            store.write([("write/merge_sessions", {"rows": [
                {"id": r["id"], "conversation_id": conv_id[r["conversation_id"]],
                 "props": {"namespace": ns, "conversation_id": r["conversation_id"], "key": r["key"], "number": r["number"],
                           "started_at": r["started_at"]}} for r in rows]})])
        for rows in chunked(memory.rows["turns"], settings.write_batch_size):
            store.write([("write/merge_turns", {"rows": [
                {"id": r["id"], "session_id": r["session_id"],
                 "props": {"namespace": ns, "conversation_id": r["conversation_id"], "seq": r["seq"], "speaker": r["speaker"],
                           "text": r["text"], "source_id": r["source_id"], "timestamp": r["timestamp"],
                           "session_number": r["seq"] // 1_000_000, "index": r["seq"] % 1_000_000}} for r in rows]})])
        timings["write_s"] = time.perf_counter() - t0
        say(f"{size:,} turns: store written in {timings['write_s']:.1f} s ({size / timings['write_s']:,.0f} turns/s); "
            "building ANN, projection and BM25 caches ...")
        cache = store.cache_dir(namespace_slug(ns))
    finally:
        store.close()
    t0 = time.perf_counter()
    for unit in INDEXED_UNITS:
        ids, matrix = memory.vectors[unit]
        index = VectorIndex(cache, unit, matrix.shape[1], m=settings.hnsw_m, ef_construction=settings.hnsw_ef_construction,
                            ef=settings.hnsw_ef)
        index.model = settings.embedding_model
        index.add(ids, matrix)
        index.save()
    timings["ann_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    projection = MemoryProjection.from_rows(**memory.rows)
    projection.save(cache, {"bench": BUILD_VERSION})
    timings["projection_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for unit in PERSISTED_LEXICAL:
        build_lexical(projection, unit).save(cache / "lexical" / unit)
    timings["lexical_s"] = time.perf_counter() - t0
    (directory / "complete.json").write_text(json.dumps({"turns": size, "timings": timings}), encoding="utf-8")
    return timings


def _load_engine(cache: Path, settings: Settings, dimension: int, config: RetrievalConfig) -> tuple[RetrievalEngine, dict[str, float]]:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    projection, _ = MemoryProjection.load(cache)
    timings["projection_load_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    lexical = {unit: LexicalIndex.load(cache / "lexical" / unit) for unit in PERSISTED_LEXICAL}
    timings["lexical_load_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    depth = {"turn": config.candidates, "event": config.candidates, "episode": config.coarse_candidates, "session": config.coarse_candidates}
    dense = {}
    for unit in INDEXED_UNITS:
        index = VectorIndex(cache, unit, dimension, m=settings.hnsw_m, ef_construction=settings.hnsw_ef_construction, ef=settings.hnsw_ef)

        def refuse() -> tuple[list[str], np.ndarray]:
            raise RuntimeError("benchmark caches are incomplete; run with --rebuild")

        index.load_or_rebuild(projection.count(unit), settings.embedding_model, refuse)
        dense[unit] = DenseScorer(unit, projection.ids(unit), index, config.exact_limit, depth[unit])
    timings["ann_load_s"] = time.perf_counter() - t0
    return RetrievalEngine(projection, dense, lexical, config, tz=settings.tz), timings


def _percentiles(values: Sequence[float]) -> dict[str, float]:
    arr = np.asarray(values) * 1000.0
    return {"p50_ms": round(float(np.percentile(arr, 50)), 2), "p95_ms": round(float(np.percentile(arr, 95)), 2),
            "mean_ms": round(float(arr.mean()), 2), "max_ms": round(float(arr.max()), 2)}


def change_marker_cost(store: GraphStore, namespace: str, reads: int) -> dict[str, float]:
    """Latency of the no-change path every search takes first: one read of the change marker
    (:meth:`NamespaceCaches.follow` finding nothing new), ``reads`` times after 10 untimed."""
    store.write([bump(namespace, changed=[])])  # a marker to read, as every written namespace has
    caches = NamespaceCaches(store, _NoEmbedder(), Settings(), namespace)
    timings = []
    for i in range(reads + 10):
        started = time.perf_counter()
        changed = caches.follow()
        if i >= 10:
            timings.append(time.perf_counter() - started)
        assert not changed
    return _percentiles(timings)


class _NoEmbedder:
    """Following the marker embeds nothing."""

    dimension = 0


def _bolt_marker_cost(settings: Settings, reads: int, say: Say) -> dict[str, float]:
    from graphmem.testing import start_bolt_server

    with tempfile.TemporaryDirectory(prefix="graphmem-bench-bolt-") as tmp:
        say("timing the change-marker read over Bolt (a local ArcadeDB server) ...")
        with start_bolt_server(Path(tmp) / "server") as server:
            store = open_store(server.uri, settings, auth=server.auth, database=server.database)
            try:
                return change_marker_cost(store, NAMESPACE, reads)
            finally:
                store.close()


def bench_query(
    settings: Settings,
    sizes: Sequence[int] = DEFAULT_SIZES,
    queries: int = 100,
    strategies: Sequence[str] = STRATEGIES,
    unit: str = "turn",
    k: int = 10,
    rebuild: bool = False,
    cache: Path | None = None,
    say: Say = lambda message: None,
    bolt: bool = False,
) -> dict[str, Any]:
    """Build (or reuse) synthetic memories and time queries per strategy.

    Args:
        settings: model, index parameters, batch sizes.
        sizes: memory sizes in turns.
        queries: timed queries per strategy and size.
        strategies: strategies to time.
        unit: the unit searched.
        k: hits per query.
        rebuild: regenerate the memories even when cached.
        cache: where memories are kept (default ``~/.cache/graphmem/bench``).
        say: progress messages.
        bolt: also time the change-marker read over Bolt (``change_marker_bolt``).

    Returns:
        Per size: build/load timings, and per strategy p50/p95/mean/max latency in ms
        (query embedding, retrieval and hydration included); the query embedding alone
        and the change-marker read (``change_marker``, included in each query) for
        comparison; peak memory. With ``bolt``, ``change_marker_bolt`` over Bolt.
    """
    root = cache or bench_cache_dir()
    embedder = Embedder.from_settings(settings)
    embedder.encode(["warm-up"])
    config = settings.retrieval
    texts = query_texts(WARMUP + queries)
    warmup, timed = texts[:WARMUP], texts[WARMUP:]
    results: dict[str, Any] = {"unit": unit, "k": k, "queries_per_strategy": queries, "sizes": {}}
    for size in sizes:
        key = hashlib.sha256(json.dumps([GENERATOR_VERSION, BUILD_VERSION, PROJECTION_VERSION, size, CLAUSES, settings.embedding_model,
                                         settings.hnsw_m, settings.hnsw_ef_construction]).encode()).hexdigest()[:12]
        directory = root / f"memory-{size}-{key}"
        built: dict[str, float] = {}
        if rebuild or not (directory / "complete.json").exists():
            say(f"building a synthetic memory of {size:,} turns in {directory} (once; later runs reuse it) ...")
            built = _build(directory, size, settings, embedder, say)
        store = open_store(directory / "store", settings)
        try:
            cache_dir = store.cache_dir(namespace_slug(NAMESPACE))
            engine, loaded = _load_engine(cache_dir, settings, embedder.dimension, config)
            service = SearchService(store, embedder, settings, NAMESPACE, config)
            service.caches.use_engine(engine)
            say(f"{size:,} turns: caches loaded in {sum(loaded.values()):.1f} s; timing {len(strategies)} strategies "
                f"x {queries} queries ...")
            row: dict[str, Any] = {"turns": size, "events": len(engine.projection.event_ids),
                                   "entities": len(engine.projection.entity_ids), "episodes": len(engine.projection.episode_ids),
                                   "build_s": {k_: round(v, 1) for k_, v in built.items()},
                                   "load_s": {k_: round(v, 2) for k_, v in loaded.items()}, "strategies": {}}
            for strategy in strategies:
                for text in warmup:
                    service.search(validate_query(text, k, unit, strategy))
                timings = []
                for text in timed:
                    started = time.perf_counter()
                    service.search(validate_query(text, k, unit, strategy))
                    timings.append(time.perf_counter() - started)
                row["strategies"][strategy] = _percentiles(timings)
            embed_only = []
            for text in timed:
                with single_threaded():
                    started = time.perf_counter()
                    embedder.encode([text])
                    embed_only.append(time.perf_counter() - started)
            row["query_embedding_only"] = _percentiles(embed_only)
            row["change_marker"] = change_marker_cost(store, NAMESPACE, queries)
            row["peak_rss_mb"] = round(_peak_rss_mb(), 1)
            results["sizes"][str(size)] = row
        finally:
            store.close()
    if bolt:
        results["change_marker_bolt"] = _bolt_marker_cost(settings, queries, say)
    return results
