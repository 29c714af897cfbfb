"""Reading the retrieval projection of a namespace from a store, with an on-disk cache.

Only named read queries with parameters (``read/projection_*``, scoped by
``$namespace``) are used, so loading works unchanged on every backend.

The projection is a derived cache: it is saved under the namespace's cache directory with a
manifest of the namespace's node and relationship counts and change-marker version, and
rebuilt from the store when they differ (the store changed since), the files are missing or
unreadable.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from graphmem.retrieve.projection import MemoryProjection
from graphmem.store import GraphStore

__all__ = ["PROJECTION_QUERIES", "READ_THREADS", "load_projection", "namespace_counts", "read_projection", "save_projection"]

logger = logging.getLogger(__name__)

#: argument of :meth:`MemoryProjection.from_rows` -> the read query that supplies it
PROJECTION_QUERIES: dict[str, str] = {
    "turns": "read/projection_turns",
    "sessions": "read/projection_sessions",
    "episodes": "read/projection_episodes",
    "part_of": "read/projection_turn_episodes",
    "events": "read/projection_events",
    "involves": "read/projection_involves",
    "entities": "read/projection_entities",
    "aliases": "read/projection_aliases",
    "associations": "read/projection_associations",
    "topics": "read/projection_topics",
    "topic_members": "read/projection_topic_members",
    "topic_links": "read/projection_topic_links",
}


_LONGEST = ("turns", "topic_members", "part_of")  # one row per turn or membership: most of the time


def namespace_counts(store: GraphStore, namespace: str) -> dict[str, int]:
    """Node counts per label and relationship counts per type (``"rel:TYPE"``) of a namespace."""
    params = {"namespace": namespace}
    counts = {str(r["label"]): int(r["count"]) for r in store.read("read/projection_node_counts", params)}
    counts.update({f"rel:{r['type']}": int(r["count"]) for r in store.read("read/projection_relationship_counts", params)})
    return dict(sorted(counts.items()))


READ_THREADS = 2
"""Projection queries run at once: the database answers two on two cores. On the 10k- and
100k-turn ``bench add`` memories the twelve reads took 0.35 and 4.1 s this way against 0.52 and
6.0 s one after another (the first search after a write waits for them)."""


def read_projection(store: GraphStore, namespace: str) -> MemoryProjection:
    """Build the projection of ``namespace`` from the store (one read per query, on
    :data:`READ_THREADS` threads; the longest first)."""
    params = {"namespace": namespace}
    pool = ThreadPoolExecutor(max_workers=READ_THREADS, thread_name_prefix="graphmem-projection")
    try:
        futures = {argument: pool.submit(store.read, PROJECTION_QUERIES[argument], params)
                   for argument in sorted(PROJECTION_QUERIES, key=lambda a: a not in _LONGEST)}
        rows: dict[str, Any] = {argument: future.result() for argument, future in futures.items()}
    finally:  # on an error (or a stop) the reads not started yet are dropped, the running ones end
        pool.shutdown(wait=True, cancel_futures=True)
    return MemoryProjection.from_rows(**rows)


def load_projection(store: GraphStore, namespace: str, directory: Path | None,
                    version: int | None = None) -> tuple[MemoryProjection, str]:
    """The projection of ``namespace``: from the cache in ``directory`` when it matches the
    store's counts and ``version``, else read from the store (and saved there).

    Args:
        store: the open store.
        namespace: the tenant.
        directory: the namespace's cache directory (``None``: no caching, and the counts are
            not read: a caller that knows the saved projection is older saves the new one
            later with :func:`save_projection`).
        version: the namespace's change-marker version (a correction or a refit can leave
            every count as it was; the version cannot).

    Returns:
        ``(projection, state)`` with state ``"loaded"`` or ``"rebuilt"``.
    """
    started = time.perf_counter()
    if directory is not None:
        manifest = _manifest(store, namespace, version)
        if (directory / "projection.json").exists():
            try:
                projection, saved = MemoryProjection.load(directory)
                if saved == manifest:
                    logger.debug("projection of %r loaded from cache in %.2f s", namespace, time.perf_counter() - started)
                    return projection, "loaded"
                logger.info("projection cache of %r is stale; rebuilding from the store", namespace)
            except (OSError, ValueError, KeyError):  # any unreadable cache is rebuilt from the source of truth
                logger.warning("projection cache in %s unreadable; rebuilding", directory, exc_info=True)
    projection = read_projection(store, namespace)
    if directory is not None:
        try:
            projection.save(directory, manifest)
        except OSError:
            logger.warning("could not save the projection cache in %s", directory, exc_info=True)
    logger.info("projection of %r read from the store in %.2f s (%d turns, %d events, %d entities)", namespace,
                time.perf_counter() - started, projection.n_turns, len(projection.event_ids), len(projection.entity_ids))
    return projection, "rebuilt"


def save_projection(store: GraphStore, namespace: str, directory: Path, projection: MemoryProjection,
                    version: int) -> None:
    """Save ``projection``, read at change-marker ``version``, as the cache
    :func:`load_projection` reuses; the caller makes sure nothing was written since (the
    manifest's counts are read now)."""
    projection.save(directory, _manifest(store, namespace, version))


def _manifest(store: GraphStore, namespace: str, version: int | None) -> dict[str, Any]:
    """What a saved projection is valid for: the namespace's counts now, and the marker version."""
    return {"counts": namespace_counts(store, namespace), "version": version}
