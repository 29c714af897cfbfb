"""Live add latency: one message added to a warm memory of 1k or 100k turns.

Each size's memory is generated once (:mod:`graphmem.bench.synthetic`: conversations,
sessions, episodes and turns with embeddings of the real model's geometry) and written to
an embedded store with its ANN indexes and fitted topics, cached under
``~/.cache/graphmem/bench``. Every run copies that store, opens a :class:`~graphmem.Memory`
on the copy, warms it up with a few adds (models loaded, entity resolver and topic models
read), then times ``adds`` calls of ``Memory.add`` with ONE message each, embedding
included, appended to the synthetic conversations in turn. The copy is deleted afterwards,
so runs do not grow the cached memory.

Then it times what an agent that alternates writing and reading waits for: ``searches``
rounds of one more add followed by one search (``search_after_add``: the first search after
a write rebuilds the namespace's retrieval projection and BM25 indexes from the store), and
the same search once more with nothing written in between (``search_warm``).

Then ``forgets`` rounds of forgetting one of the messages added by those rounds
(``Memory.forget(turn=...)``: the transaction, the caches' update and the topics' relabel or
refit where needed) followed by one search (``search_after_forget``).

Last, ``ingests`` batch ingests of a small file each (``ingest``): a new conversation of
:data:`INGEST_MESSAGES` messages on a subject the synthetic memory never mentions (software
builds), so each asks whether the topics still fit, and a refit would read and fit the whole
memory again (see :data:`graphmem.ingest.clustering.REFIT_FRACTION`).
"""

from __future__ import annotations

import json
import logging
import shutil
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from graphmem.bench.query import CLAUSES
from graphmem.bench.synthetic import bench_cache_dir, clause_pool, clause_texts, generate_memory, query_texts
from graphmem.changes import bump, marker_id, read_marker
from graphmem.embed import Embedder
from graphmem.ids import namespace_slug
from graphmem.index import VectorIndex
from graphmem.ingest.common import MAX_EPISODE_TEXT, chain_links, indexed_text
from graphmem.ingest.types import turn_slot
from graphmem.model_identity import identity_from, identity_of, record_identity_statement
from graphmem.settings import Settings
from graphmem.store import chunked, open_store

__all__ = ["bench_add"]

logger = logging.getLogger(__name__)

NAMESPACE = "bench-add"
BUILD_VERSION = 4  # 2: turns and episodes linked by NEXT; 3: a change marker, the ANN indexes saved as of it, a settled ledger;
# 4: episode texts with their speakers, as every writer joins them (check: episodes_not_the_text_of_their_turns)
WARMUP = 10
INGEST_MESSAGES = 20
"""Messages of each small file ``bench add --ingests`` ingests into the memory."""
_BUILD_PARTS = ("parser", "scheduler", "cache layer", "login service", "test runner")
_BUILD_TOOLS = ("compiler", "linker", "package manager", "container image")
Say = Callable[[str], None]


def _build(directory: Path, size: int, settings: Settings, embedder: Embedder, say: Say) -> dict[str, float]:
    """Write the synthetic memory of ``size`` turns, its ANN indexes and its topics into ``directory``."""
    from graphmem.ingest.clustering import ClusteringStage

    timings: dict[str, float] = {}
    texts, slots, vectors = clause_pool(CLAUSES, embedder.encode, settings.embedding_model)
    t0 = time.perf_counter()
    memory = generate_memory(size, texts, slots, vectors, namespace=NAMESPACE)
    shutil.rmtree(directory, ignore_errors=True)
    store = open_store(directory / "store", settings)
    ns = NAMESPACE
    try:
        vec = {unit: dict(zip(ids, matrix)) for unit, (ids, matrix) in memory.vectors.items()}
        store.write([("write/merge_conversations", {"rows": [
            {"id": c["id"], "props": {"namespace": ns, "key": c["key"], "speakers": [], "source": "synthetic"}}
            for c in memory.conversations]})])
        conv_id = {c["key"]: c["id"] for c in memory.conversations}
        for rows in chunked(memory.rows["sessions"], settings.write_batch_size):
            store.write([("write/merge_sessions", {"rows": [
                {"id": r["id"], "conversation_id": conv_id[r["conversation_id"]],
                 "props": {"namespace": ns, "conversation_id": r["conversation_id"], "key": r["key"], "number": r["number"],
                           "started_at": r["started_at"], "embedding": vec["session"][r["id"]], "placing": 0}} for r in rows]})])
        for rows in chunked(memory.rows["turns"], settings.write_batch_size):
            store.write([("write/merge_turns", {"rows": [
                {"id": r["id"], "session_id": r["session_id"],
                 "props": {"namespace": ns, "conversation_id": r["conversation_id"], "seq": r["seq"],
                           "slot": turn_slot(ns, r["conversation_id"], r["seq"]), "speaker": r["speaker"],
                           "text": r["text"], "source_id": r["source_id"], "timestamp": r["timestamp"],
                           "session_key": str(r["seq"] // 1_000_000), "session_number": r["seq"] // 1_000_000,
                           "index": r["seq"] % 1_000_000, "embedding": vec["turn"][r["id"]]}} for r in rows]})])
        turn_by_id = {r["id"]: r for r in memory.rows["turns"]}
        members: dict[str, list[dict[str, Any]]] = {}
        for row in memory.rows["part_of"]:
            members.setdefault(row["episode_id"], []).append(turn_by_id[row["turn_id"]])
        for rows in chunked(memory.rows["episodes"], settings.write_batch_size):
            store.write([("write/merge_episodes", {"rows": [
                {"id": e["id"], "props": {"namespace": ns, "conversation_id": e["conversation_id"],
                                          "session_key": str(e["start_seq"] // 1_000_000),
                                          "session_number": e["start_seq"] // 1_000_000,
                                          "start_seq": members[e["id"]][0]["seq"], "end_seq": members[e["id"]][-1]["seq"],
                                          "turn_count": len(members[e["id"]]),
                                          "text": "\n".join(indexed_text(t["speaker"], t["text"])
                                                            for t in members[e["id"]])[:MAX_EPISODE_TEXT],
                                          "started_at": e["started_at"], "ended_at": e["ended_at"],
                                          "embedding": vec["episode"][e["id"]]}} for e in rows]})])
        for rows in chunked(memory.rows["part_of"], settings.write_batch_size):
            store.write([("write/merge_part_of", {"rows": list(rows)})])
        # each conversation's turns and episodes in order, as every writer links them (forget joins the chain)
        for kind, rows, position in (("turns", memory.rows["turns"], "seq"),
                                     ("episodes", memory.rows["episodes"], "start_seq")):
            chains: dict[str, list[dict[str, Any]]] = {}
            for row in rows:
                chains.setdefault(row["conversation_id"], []).append(row)
            links = [link for chain in chains.values()
                     for link in chain_links([r["id"] for r in sorted(chain, key=lambda r: r[position])])]
            for batch in chunked(links, settings.write_batch_size):
                store.write([(f"write/merge_next_{kind}", {"rows": list(batch)})])
        timings["write_s"] = time.perf_counter() - t0
        say(f"{size:,} turns: store written in {timings['write_s']:.1f} s; fitting topics and building ANN indexes ...")
        cache = store.cache_dir(namespace_slug(ns))
        t0 = time.perf_counter()
        stage = ClusteringStage(store, lambda unit: None, cache, ns, batch_size=settings.write_batch_size)
        output = stage.recluster(embedder.dimension)
        # the change marker, as every writer leaves it: the indexes below are saved as of its
        # version, so the memory's first add loads them instead of rebuilding them from the store
        # (44-48 s at 100,000 turns); and the topic-placement ledger as a placing transaction
        # leaves it (every unit has its topics, no session waits), so the first ingest into the
        # memory does not look through all of it (4.9 s at 100,000 turns)
        # its vectors are the model's (clause vectors, means and noise): recorded as a write records them
        store.write([*output.statements, record_identity_statement(ns, identity_of(embedder)), bump(ns)])
        version, _ = read_marker(store, ns)
        store.write([("write/settle_placing_unknown", {"namespace": ns, "rows": [{"id": marker_id(ns), "version": version}]}),
                     bump(ns)])
        timings["topics_s"] = time.perf_counter() - t0
        version, epoch = read_marker(store, ns)
        t0 = time.perf_counter()
        for unit in ("turn", "episode", "session", "event"):
            ids, matrix = memory.vectors[unit] if unit != "event" else ([], np.zeros((0, embedder.dimension), np.float32))
            index = VectorIndex(cache, unit, embedder.dimension, m=settings.hnsw_m, ef_construction=settings.hnsw_ef_construction,
                                ef=settings.hnsw_ef)
            index.model, index.version, index.epoch = settings.embedding_model, version, epoch
            if len(ids):
                index.add(ids, matrix)
            index.save()
        timings["ann_s"] = time.perf_counter() - t0
    finally:
        store.close()
    (directory / "complete.json").write_text(json.dumps({"turns": size, "version": BUILD_VERSION, "timings": timings,
                                                         **identity_of(embedder).properties()}),
                                             encoding="utf-8")
    return timings


def _of_the_model(directory: Path, embedder: Embedder) -> bool:
    """Whether the memory built in ``directory`` holds ``embedder``'s model's vectors (one built
    before identities were recorded is taken: its first add records the model in force)."""
    built = identity_from(json.loads((directory / "complete.json").read_text(encoding="utf-8")))
    return built is None or built.same_model(identity_of(embedder))


def _percentiles(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50_ms": round(1000 * statistics.median(ordered), 1),
            "p95_ms": round(1000 * ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))], 1),
            "max_ms": round(1000 * ordered[-1], 1)}


def _ingest_file(directory: Path, number: int) -> Path:
    """The ``number``-th small file of ``bench add --ingests``: one new conversation of
    :data:`INGEST_MESSAGES` messages about software builds, as JSON lines."""
    path = directory / f"ingest-{number}.jsonl"
    lines = [{"conversation": f"bench-ingest-{number}", "speaker": "Sam" if i % 2 else "Alex",
              "text": f"The {_BUILD_PARTS[i % len(_BUILD_PARTS)]} build failed again after the "
                      f"{_BUILD_TOOLS[(i + number) % len(_BUILD_TOOLS)]} upgrade, step {i + 1} of run {number}."}
             for i in range(INGEST_MESSAGES)]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def _chat_clock(memory: Any) -> Callable[[str], datetime]:
    """``said(conversation)``: a minute after the conversation's last message, as a live chat goes
    on (read once, untimed). An undated add is said now, which, after the memory's dated turns,
    would open a new session at every conversation's first add instead of continuing its latest."""
    last = {r["conversation"]: datetime.fromisoformat(r["last"]) for r in memory.cypher(
        "MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.conversation_id AS conversation, max(t.timestamp) AS last",
        timeout=0)  # (the bench's own read: user Cypher's time limit is not for it)
        if r["last"]}

    def said(conversation: str) -> datetime:
        last[conversation] = last.get(conversation, datetime(2024, 1, 1)) + timedelta(minutes=1)
        return last[conversation]

    return said


def bench_add(settings: Settings, sizes: Sequence[int], adds: int = 100, *, searches: int = 5, forgets: int = 3,
              ingests: int = 0, corrections: int = 0, rebuild: bool = False, say: Say = lambda message: None) -> dict[str, Any]:
    """Time ``adds`` single-message adds into warm memories of each size, then ``searches``
    searches right after an add and as many with nothing written before them, each followed by
    a recall of the conversation (:meth:`Memory.recall`: its last 20 messages and 5 memories),
    then ``forgets`` forgets of one message each, with a search after each, then
    ``corrections`` corrections by turn id (:meth:`Memory.correct`) of messages the searches'
    adds stored, then ``ingests`` batch ingests of a small file each.

    Returns:
        Per size: ``p50_ms``, ``p95_ms``, ``max_ms`` of one add, the median seconds per stage,
        ``search_after_add``, ``search_warm`` and ``recall`` (each ``p50_ms``, ``p95_ms``, ``max_ms``; absent
        with ``searches`` 0), ``correct`` (absent with ``corrections`` 0), ``forget`` and ``search_after_forget`` (absent with ``forgets``
        0; at most ``searches`` forgets), ``ingest`` (absent with ``ingests`` 0), and the
        build timings when the memory was (re)built.
    """
    if adds < 1 or searches < 0 or forgets < 0 or ingests < 0 or corrections < 0:
        raise ValueError("adds must be at least 1, searches, forgets, ingests and corrections at least 0")
    forgets = min(forgets, searches)
    corrections = min(corrections, searches - forgets)
    from graphmem.memory import Memory

    embedder = Embedder.from_settings(settings)
    result: dict[str, Any] = {"adds": adds, "sizes": {}}
    messages, _ = clause_texts(adds + WARMUP + searches, seed=23)
    questions = query_texts(max(searches, 1), seed=29)
    for size in sizes:
        directory = bench_cache_dir() / f"add-{size}-v{BUILD_VERSION}"
        built: dict[str, float] | None = None
        if rebuild or not (directory / "complete.json").exists() or not _of_the_model(directory, embedder):
            say(f"{size:,} turns: building the memory (once; cached in {directory}) ...")
            built = _build(directory, size, settings, embedder, say)
        with tempfile.TemporaryDirectory(prefix="graphmem-bench-add-") as tmp:
            copy = Path(tmp) / "store"
            shutil.copytree(directory / "store", copy)
            conversations = [f"synthetic-{i:04d}" for i in range(max(1, min(8, size // 1000)))]
            seconds: list[float] = []
            stages: dict[str, list[float]] = {}
            after: list[float] = []
            warm: list[float] = []
            forgotten: list[float] = []
            after_forget: list[float] = []
            ingested: list[float] = []
            recalled: list[float] = []
            corrected: list[float] = []
            searched: list[str] = []
            with Memory.open(str(copy), NAMESPACE, settings=settings) as memory:
                said = _chat_clock(memory)
                for i, text in enumerate(messages[:adds + WARMUP]):
                    speaker = "Alex" if i % 2 else "Sam"
                    conversation = conversations[i % len(conversations)]
                    started = time.perf_counter()
                    report = memory.add({"speaker": speaker, "text": text, "timestamp": said(conversation)},
                                        conversation=conversation)
                    elapsed = time.perf_counter() - started
                    if i >= WARMUP:
                        seconds.append(elapsed)
                        for stage, value in report.stage_seconds.items():
                            stages.setdefault(stage, []).append(value)
                if searches:
                    memory.search(questions[0], k=10)  # the retrieval caches' first build is not timed
                for i, text in enumerate(messages[adds + WARMUP:]):
                    conversation = conversations[i % len(conversations)]
                    report = memory.add({"speaker": "Sam", "text": text, "timestamp": said(conversation)}, conversation=conversation)
                    searched.extend(report.turn_ids)
                    for times in (after, warm):  # the first search sees the add; the second nothing new
                        started = time.perf_counter()
                        memory.search(questions[i], k=10)
                        times.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    memory.recall(conversation)
                    recalled.append(time.perf_counter() - started)
                for i, turn_id in enumerate(searched[:forgets]):
                    started = time.perf_counter()
                    memory.forget(turn=turn_id)
                    forgotten.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    memory.search(questions[i], k=10)
                    after_forget.append(time.perf_counter() - started)
                for i, turn_id in enumerate(searched[forgets:forgets + corrections]):
                    started = time.perf_counter()
                    memory.correct(turn_id, f"{messages[adds + WARMUP + forgets + i]} (corrected)")
                    corrected.append(time.perf_counter() - started)
                for number in range(1, ingests + 1):
                    path = _ingest_file(Path(tmp), number)
                    started = time.perf_counter()
                    memory.ingest(path)
                    ingested.append(time.perf_counter() - started)
            entry: dict[str, Any] = {**_percentiles(seconds),
                                     "stage_median_ms": {k: round(1000 * statistics.median(v), 1) for k, v in stages.items()}}
            if searches:
                entry["search_after_add"] = _percentiles(after)
                entry["search_warm"] = _percentiles(warm)
                entry["recall"] = _percentiles(recalled)
            if corrected:
                entry["correct"] = _percentiles(corrected)
            if forgotten:
                entry["forget"] = _percentiles(forgotten)
                entry["search_after_forget"] = _percentiles(after_forget)
            if ingested:
                entry["ingest"] = _percentiles(ingested)
            if built is not None:
                entry["build"] = {k: round(v, 1) for k, v in built.items()}
            result["sizes"][str(size)] = entry
            say(f"{size:,} turns: one add p50 {entry['p50_ms']} ms, p95 {entry['p95_ms']} ms"
                + (f"; a search right after an add p50 {entry['search_after_add']['p50_ms']} ms, with nothing written "
                   f"before it p50 {entry['search_warm']['p50_ms']} ms" if searches else "")
                + (f"; a recall p50 {entry['recall']['p50_ms']} ms" if searches else "")
                + (f"; a correction p50 {entry['correct']['p50_ms']} ms" if corrected else "")
                + (f"; forgetting one message p50 {entry['forget']['p50_ms']} ms, a search after it p50 "
                   f"{entry['search_after_forget']['p50_ms']} ms" if forgotten else "")
                + (f"; ingesting a file of {INGEST_MESSAGES} messages p50 {entry['ingest']['p50_ms']} ms" if ingested else ""))
    return result
