"""The per-namespace change marker: how caches in every process follow the database.

Every write transaction (ingest, add, forget, recluster, import) bumps a ``(:ChangeMarker)``
node of its namespace in the same transaction (:func:`bump`), and appends to the marker's
short log what it changed: the writer (one cache owner, :class:`graphmem.caches.NamespaceCaches`),
the ids of the units whose embeddings it added, replaced or deleted, and ``full`` when it
cannot say (an import, user Cypher, a writer without caches). A live add or a forget whose
writes stay within the sessions it wrote to also logs those sessions (and the granularities
whose topics it fitted), so other processes re-read only them for their retrieval
projection (:meth:`graphmem.retrieve.loader.ProjectionRows.refreshed`). A process keeps the version its caches
reflect plus the bumps of its own commits; a search reads the version (one small query,
:func:`read_version`), and a version it cannot account for means another writer committed:
the caches read the log (:func:`read_log`) and catch up with exactly what changed, or rebuild
when the log cannot say (a ``full`` entry, or more transactions than the log keeps).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Iterable

from graphmem.ids import node_id
from graphmem.retrieve.loader import GRANULARITIES, WriteScope
from graphmem.store import GraphStore, Statement

if TYPE_CHECKING:
    from graphmem.caches import NamespaceCaches

__all__ = ["LOG_LENGTH", "MAX_LOGGED_IDS", "LogEntry", "bump", "bump_if_present", "guard", "marker_id", "read_log", "read_marker",
           "read_version", "writer_bump"]

LOG_LENGTH = 32
"""Write transactions the marker's log keeps (``write/bump_change_marker`` keeps the last 32):
a process that falls further behind rebuilds its caches instead of catching up."""

MAX_LOGGED_IDS = 2000
"""Most unit ids one log entry lists; a transaction that changed more (a large batch ingest)
is logged as ``full``, since catching up on that many is no cheaper than a rebuild."""


@dataclass(frozen=True)
class LogEntry:
    """One write transaction of the marker's log."""

    version: int
    writer: str | None
    changed: tuple[str, ...]
    full: bool
    #: the sessions the transaction's writes stay within (``None``: it did not say)
    sessions: tuple[str, ...] | None = None
    #: the granularities whose topics it fitted (every membership of their units rewritten)
    regrouped: tuple[str, ...] = ()

    @property
    def scope(self) -> WriteScope | None:
        """What the transaction can have changed in the projection (``None``: anything)."""
        return None if self.sessions is None else WriteScope(frozenset(self.sessions), frozenset(self.regrouped))


def marker_id(namespace: str) -> str:
    """The id of ``namespace``'s change marker."""
    return node_id(namespace, "change_marker")


def bump(namespace: str, *, writer: str | None = None, changed: Iterable[str] | None = None,
         scope: WriteScope | None = None, placing_unknown: bool = False) -> Statement:
    """The statement that bumps ``namespace``'s marker; put it in every write transaction.

    Args:
        namespace: the tenant written.
        writer: the cache owner committing (its own commits are already in its caches).
        changed: ids of the units whose embeddings the transaction added or replaced;
            ``None`` when the writer cannot say (other processes rebuild their caches).
        scope: the sessions every write of the transaction stays within, and the granularities
            whose topics it fitted (:func:`graphmem.retrieve.loader.session_scope`); ``None``:
            not so. A scope with topic fits is logged under a key of its own (``r``), so a
            reader that knows only session scopes (``s``) reads everything.
        placing_unknown: the transaction may write units without counting their sessions in
            the topic-placement ledger (an import): the next batch ingest looks through every
            unit of the namespace for ones without a topic (see
            :meth:`graphmem.ingest.clustering.ClusteringStage.place`).
    """
    ids = None if changed is None else list(dict.fromkeys(changed))
    full = ids is None or len(ids) > MAX_LOGGED_IDS
    data: dict[str, object] = {"w": writer, "ids": [] if full else ids, "full": full}
    if scope is not None and not full:
        if scope.regrouped:
            data["r"] = {"s": sorted(scope.sessions), "g": sorted(scope.regrouped)}
        else:
            data["s"] = sorted(scope.sessions)
    entry = json.dumps(data, separators=(",", ":"))
    return ("write/bump_change_marker", {"namespace": namespace, "rows": [{
        "id": marker_id(namespace), "at": datetime.now(timezone.utc).replace(tzinfo=None).isoformat(), "entry": entry,
        "epoch": uuid.uuid4().hex, "unknown": placing_unknown}]})


def guard(namespace: str, version: int) -> Statement:
    """The statement a planned write runs first: it refuses the transaction (a
    :class:`graphmem.store.base.WriteConflict`) unless ``namespace``'s marker is still at
    ``version``, the one read before the plan's reads (another process committed meanwhile:
    plan again)."""
    return ("guard/change_marker_at", {"namespace": namespace, "id": marker_id(namespace), "version": int(version)})


def writer_bump(namespace: str, caches: "NamespaceCaches | None", changed: Iterable[str],
                scope: WriteScope | None = None) -> Statement:
    """The bump of a writer's transaction that adds or replaces the embeddings of ``changed``
    (and whose writes stay within ``scope``, when given): logged as the commit of ``caches``
    when the writer has them (they apply it themselves and do not catch up with it again), else
    as an anonymous writer's."""
    if caches is not None:
        return caches.bump(changed, scope=scope)
    return bump(namespace, changed=changed, scope=scope)


def bump_if_present(namespace: str) -> Statement:
    """The bump for a write that cannot say what it changed (user Cypher): like :func:`bump`
    with ``changed=None``, but a namespace without a marker (or whose marker the write
    deleted) gets none."""
    _, params = bump(namespace)
    return ("write/bump_change_marker_if_present", params)


def read_version(store: GraphStore, namespace: str) -> int:
    """How many write transactions ``namespace`` has seen (0 when none, or after it was dropped)."""
    return read_marker(store, namespace)[0]


def read_marker(store: GraphStore, namespace: str) -> tuple[int, str | None]:
    """``(version, epoch)`` of ``namespace``'s marker: the version as :func:`read_version`, and
    the random epoch the marker took at its first write (``None`` without a marker, or for one
    not written since epochs came). A marker created again (the namespace dropped and written
    again, the database recreated) counts its versions from 1 again under a new epoch, so a
    saved cache is the store's when both its version and its epoch are."""
    rows = store.read("read/change_marker", {"namespace": namespace, "id": marker_id(namespace)})
    if not rows:
        return 0, None
    return _version(rows[0]["version"], namespace), rows[0].get("epoch") or None


def _version(value: object, namespace: str) -> int:
    """A marker's stored version; one that is no whole number is damage, named as such."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        from graphmem.errors import StorageError

        raise StorageError(f"namespace {namespace!r}: its change marker's version is {value!r}, not a whole number: "
                           "graphmem check names such damage")
    return int(value)


def read_log(store: GraphStore, namespace: str) -> tuple[int, list[LogEntry]]:
    """The marker's version and its log, oldest entry first (entries that cannot be read are
    returned as ``full``, so a reader rebuilds rather than trusts them)."""
    rows = store.read("read/change_log", {"namespace": namespace, "id": marker_id(namespace)})
    if not rows:
        return 0, []
    version = _version(rows[0]["version"], namespace)
    log = list(rows[0].get("log") or [])
    entries = []
    for i, text in enumerate(log):
        number = version - len(log) + 1 + i
        try:
            data = json.loads(text)
            regrouped = data.get("r")
            sessions = regrouped.get("s") if isinstance(regrouped, dict) else data.get("s")
            granularities = regrouped.get("g") if isinstance(regrouped, dict) else []
            if not isinstance(granularities, list) or not set(map(str, granularities)) <= set(GRANULARITIES):
                sessions = None  # unreadable: readers read everything
            entries.append(LogEntry(number, data.get("w"), tuple(str(x) for x in data.get("ids") or ()), bool(data.get("full")),
                                    tuple(str(x) for x in sessions) if isinstance(sessions, list) else None,
                                    tuple(str(x) for x in granularities or ())))
        except (TypeError, ValueError, AttributeError):
            entries.append(LogEntry(number, None, (), True))
    return version, entries
