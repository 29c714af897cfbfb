"""``graphmem bench transfer``: export and import throughput (nodes/s) between the stores.

The memory measured is either a real one (a file ingested into a temporary embedded store)
or a synthetic one of N turns (:mod:`graphmem.bench.synthetic`: turns, events, entities,
episodes and sessions with embeddings, and their ``IN``, ``OF``, ``NEXT``, ``PART_OF``,
``FROM``, ``INVOLVES`` and ``ASSOCIATED`` relationships), written into a temporary embedded
store through the importer itself (no file). Then, each timed on its own:

1. export from the embedded store to a dump file;
2. import of that file into a fresh embedded store;
3. import into a Bolt store (ArcadeDB's Bolt plugin from ``arcadedb-embedded``, started in a
   temporary directory, unless ``bolt=False``);
4. export from the Bolt store.

Throughput counts nodes; relationships are moved in the same time and reported beside them.
An import's time includes its checking pass over the whole file.
"""

from __future__ import annotations

import logging
import resource
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from graphmem.dump import export_dump, import_dump
from graphmem.dump.format import encode_props
from graphmem.dump.writing import RecordWriter
from graphmem.settings import Settings
from graphmem.store import open_store

__all__ = ["bench_transfer", "synthetic_records"]

logger = logging.getLogger(__name__)

NAMESPACE = "bench-transfer"
CLAUSES = 4000

Say = Callable[[str], None]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def synthetic_records(size: int, settings: Settings, say: Say) -> Iterator[dict[str, Any]]:
    """Dump records (nodes first) of a synthetic memory of ``size`` turns in namespace ``bench-transfer``."""
    from graphmem.bench.synthetic import clause_pool, generate_memory
    from graphmem.embed import Embedder

    embedder = Embedder.from_settings(settings)
    texts, slots, vectors = clause_pool(CLAUSES, embedder.encode, settings.embedding_model)
    memory = generate_memory(size, texts, slots, vectors, namespace=NAMESPACE)
    rows, ns = memory.rows, NAMESPACE
    say(f"synthetic memory: {size:,} turns, {len(rows['events']):,} events, {len(rows['entities']):,} entities, "
        f"{len(rows['episodes']):,} episodes, {len(rows['sessions']):,} sessions")
    vec = {unit: dict(zip(ids, matrix)) for unit, (ids, matrix) in memory.vectors.items()}

    def node(label: str, node_id: str, props: dict[str, Any]) -> dict[str, Any]:
        return {"record": "node", "label": label, "id": node_id, "props": encode_props(dict(props, namespace=ns))}

    def rel(rel_type: str, start_label: str, start: str, end_label: str, end: str, **props: Any) -> dict[str, Any]:
        return {"record": "relationship", "type": rel_type, "start_label": start_label, "start": start, "end_label": end_label,
                "end": end, "props": encode_props(props)}

    conversation_id = {c["key"]: c["id"] for c in memory.conversations}
    for c in memory.conversations:
        yield node("Conversation", c["id"], {"key": c["key"], "speakers": [], "source": "synthetic"})
    for s in rows["sessions"]:
        yield node("Session", s["id"], {**{k: v for k, v in s.items() if k != "id"}, "embedding": vec["session"][s["id"]]})
    for t in rows["turns"]:
        yield node("Turn", t["id"], {**{k: v for k, v in t.items() if k not in ("id", "session_id")}, "embedding": vec["turn"][t["id"]]})
    for e in rows["episodes"]:
        yield node("Episode", e["id"], {**{k: v for k, v in e.items() if k != "id"}, "embedding": vec["episode"][e["id"]]})
    for e in rows["events"]:
        yield node("Event", e["id"], {**{k: v for k, v in e.items() if k != "id"}, "embedding": vec["event"][e["id"]]})
    for e in rows["entities"]:
        yield node("Entity", e["id"], {k: v for k, v in e.items() if k != "id"})
    for s in rows["sessions"]:
        yield rel("OF", "Session", s["id"], "Conversation", conversation_id[s["conversation_id"]])
    previous: dict[str, str] = {}
    for t in rows["turns"]:
        yield rel("IN", "Turn", t["id"], "Session", t["session_id"])
        if t["conversation_id"] in previous:
            yield rel("NEXT", "Turn", previous[t["conversation_id"]], "Turn", t["id"])
        previous[t["conversation_id"]] = t["id"]
    for p in rows["part_of"]:
        yield rel("PART_OF", "Turn", p["turn_id"], "Episode", p["episode_id"])
    for e in rows["events"]:
        yield rel("FROM", "Event", e["id"], "Turn", e["turn_id"])
    for i in dict.fromkeys((i["event_id"], i["entity_id"], i["role"]) for i in rows["involves"]):
        yield rel("INVOLVES", "Event", i[0], "Entity", i[1], role=i[2])
    for a in rows["associations"]:
        yield rel("ASSOCIATED", "Turn", a["src"], "Turn", a["dst"], w=float(a["w"]), granularity=a["granularity"], method="synthetic")


def _stage(name: str, summary: Any, size_mb: float | None = None) -> dict[str, Any]:
    row = {"stage": name, "nodes": summary.nodes, "relationships": summary.relationships, "seconds": round(summary.seconds, 2),
           "nodes_per_s": round(summary.nodes_per_second, 1),
           "records_per_s": round((summary.nodes + summary.relationships) / summary.seconds, 1) if summary.seconds else 0.0}
    if size_mb is not None:
        row["file_mb"] = round(size_mb, 1)
    return row


def bench_transfer(settings: Settings, *, path: Path | None = None, synthetic: int | None = None, bolt: bool = True,
                   say: Say = lambda message: None) -> dict[str, Any]:
    """Measure export and import throughput on one memory (see the module docstring).

    Args:
        settings: settings of every store opened.
        path: a conversation file to ingest as the memory (any supported format), or
        synthetic: the number of turns of a synthetic memory.
        bolt: also import into and export from a Bolt store.
        say: progress messages.

    Returns:
        ``{"memory", "stages": [{stage, nodes, relationships, seconds, nodes_per_s, records_per_s, file_mb?}],
        "peak_rss_mb"}``.
    """
    from graphmem.memory import Memory

    stages: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="graphmem-bench-transfer-") as tmp:
        root = Path(tmp)
        settings = settings.with_(index_dir=str(root / "index"))
        source_dir = root / "source"
        if path is not None:
            namespace, label = "bench", str(path)
            with Memory.open(source_dir, namespace, settings=settings) as memory:
                say(f"ingesting {path} ...")
                memory.ingest(path)
        else:
            namespace, label = NAMESPACE, f"synthetic {synthetic:,} turns"
            store = open_store(source_dir, settings)
            try:
                started = time.perf_counter()
                writer = RecordWriter(store, settings.write_batch_size)
                writer.add_all(synthetic_records(int(synthetic or 0), settings, say))
                say(f"source written: {writer.nodes:,} nodes, {writer.relationships:,} relationships in "
                    f"{time.perf_counter() - started:.0f} s")
            finally:
                store.close()
        dump = root / "memory.jsonl.gz"
        store = open_store(source_dir, settings)
        try:
            summary = export_dump(store, dump, [namespace], embedding_model=settings.embedding_model)
        finally:
            store.close()
        stages.append(_stage("export embedded -> file", summary, dump.stat().st_size / 2**20))
        say(str(stages[-1]))
        store = open_store(root / "target", settings)
        try:
            summary = import_dump(store, dump, embedding_model=settings.embedding_model, batch_size=settings.write_batch_size)
        finally:
            store.close()
        stages.append(_stage("import file -> embedded", summary))
        say(str(stages[-1]))
        if bolt:
            from graphmem.testing import start_bolt_server

            with start_bolt_server(root / "bolt", database="bench", jvm_heap=settings.jvm_heap) as server:
                store = open_store(server.uri, settings, auth=server.auth, database=server.database)
                try:
                    summary = import_dump(store, dump, embedding_model=settings.embedding_model, batch_size=settings.write_batch_size)
                    stages.append(_stage("import file -> Bolt", summary))
                    say(str(stages[-1]))
                    summary = export_dump(store, root / "bolt.jsonl.gz", [namespace], embedding_model=settings.embedding_model)
                    stages.append(_stage("export Bolt -> file", summary, (root / "bolt.jsonl.gz").stat().st_size / 2**20))
                    say(str(stages[-1]))
                finally:
                    store.close()
    return {"memory": label, "stages": stages, "peak_rss_mb": round(_peak_rss_mb(), 0)}

