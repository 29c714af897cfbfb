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
