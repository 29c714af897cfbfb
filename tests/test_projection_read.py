"""The retrieval projection read on several threads is the one read query by query
(graphmem.retrieve.loader.read_projection)."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
from samples import write_native

from graphmem import Memory
from graphmem.retrieve.loader import PROJECTION_QUERIES, READ_THREADS, read_projection
from graphmem.retrieve.projection import MemoryProjection


def test_the_projection_read_on_threads_equals_the_one_read_query_by_query(tmp_path, test_settings, embedder):
    assert READ_THREADS > 1
    with Memory.open(tmp_path / "store", namespace="projection", settings=test_settings) as memory:
        memory.ingest(write_native(tmp_path))
        params = {"namespace": memory.namespace}
        one_by_one = MemoryProjection.from_rows(**{a: memory.store.read(q, params) for a, q in PROJECTION_QUERIES.items()})
        threaded = read_projection(memory.store, memory.namespace)
    assert threaded.n_turns == 10 and len(threaded.event_ids) > 0 and len(threaded.entity_ids) > 0
    for field in fields(MemoryProjection):
        mine, theirs = getattr(threaded, field.name), getattr(one_by_one, field.name)
        if isinstance(theirs, np.ndarray):
            assert mine.dtype == theirs.dtype, field.name
            assert np.array_equal(mine, theirs, equal_nan=theirs.dtype.kind == "f"), field.name
        else:
            assert mine == theirs, field.name


def test_projection_reads_reuse_the_same_threads_and_leave_no_java_threads_behind(tmp_path, test_settings, embedder):
    """Every thread that reads the embedded store attaches to its JVM and is never detached:
    the reads run on one pool for the process's life, so reading again and again (as every
    search right after an add does) leaves the JVM's thread count as it was; a read that fails
    raises its error, the other reads of its round end, and the pool serves the next round."""
    import threading

    import jpype

    with Memory.open(tmp_path / "store", namespace="projection", settings=test_settings) as memory:
        memory.ingest(write_native(tmp_path))
        read_projection(memory.store, memory.namespace)
        java_threads = jpype.JClass("java.lang.Thread")
        before = int(java_threads.getAllStackTraces().size())
        readers: set[int] = set()
        store = memory.store
        real_read = store.read

        def read(query, params):
            readers.add(threading.get_ident())
            if query == PROJECTION_QUERIES["topics"] and failing:
                raise RuntimeError("this read fails")
            return real_read(query, params)

        store.read = read
        failing = False
        first = read_projection(store, memory.namespace)
        for _ in range(10):
            read_projection(store, memory.namespace)
        failing = True
        try:
            read_projection(store, memory.namespace)
        except RuntimeError as exc:
            assert str(exc) == "this read fails"
        else:
            raise AssertionError("the failing read did not raise")
        failing = False
        again = read_projection(store, memory.namespace)
        after = int(java_threads.getAllStackTraces().size())
    assert len(readers) <= READ_THREADS and threading.get_ident() not in readers
    assert after == before
    assert again.turn_ids == first.turn_ids and again.n_turns == 10
