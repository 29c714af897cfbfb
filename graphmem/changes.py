"""The per-namespace change marker: how caches in every process follow the database.

Every write transaction (ingest, add, forget, recluster) bumps a ``(:ChangeMarker)`` node of
its namespace in the same transaction (:func:`bump`). A process keeps the version its
caches reflect plus the bumps of its own commits; a search reads the marker (one small
query, :func:`read_version`), and a version it cannot account for means another process
(or another Memory) wrote: its derived caches are refreshed from the store before it answers.
"""

from __future__ import annotations

from datetime import datetime, timezone

from graphmem.ids import node_id
from graphmem.store import GraphStore, Statement

__all__ = ["bump", "marker_id", "read_version"]


def marker_id(namespace: str) -> str:
    """The id of ``namespace``'s change marker."""
    return node_id(namespace, "change_marker")


def bump(namespace: str) -> Statement:
    """The statement that bumps ``namespace``'s marker; put it in every write transaction."""
    return ("write/bump_change_marker", {"namespace": namespace, "rows": [{
        "id": marker_id(namespace), "at": datetime.now(timezone.utc).replace(tzinfo=None).isoformat()}]})


def read_version(store: GraphStore, namespace: str) -> int:
    """How many write transactions ``namespace`` has seen (0 when none, or after it was dropped)."""
    rows = store.read("read/change_marker", {"namespace": namespace, "id": marker_id(namespace)})
    return int(rows[0]["version"] or 0) if rows else 0
