"""The search service: answers queries of one namespace over its derived caches.

The caches (ANN indexes, the retrieval projection, BM25) belong to one
:class:`~graphmem.caches.NamespaceCaches`, which ingestion and live adds write through too.
A search first has the caches follow the store (one small read of the change marker; another
writer's commits are caught up with before answering), then ranks on the caches and touches
the store only to hydrate the final hits.
"""

from __future__ import annotations

import logging
from datetime import tzinfo
from typing import Sequence, cast

from graphmem.caches import INDEXED_UNITS, SETTINGS_TZ, NamespaceCaches
from graphmem.embed import Embedder, single_threaded
from graphmem.hits import Hit
from graphmem.records import metadata_of
from graphmem.retrieve.config import RetrievalConfig
from graphmem.retrieve.types import Query, RankedUnit
from graphmem.settings import Settings
from graphmem.store import GraphStore
from graphmem.timezones import shown

__all__ = ["SearchService", "INDEXED_UNITS", "HYDRATE_QUERIES", "single_threaded"]

logger = logging.getLogger(__name__)

HYDRATE_QUERIES = {
    "turn": "read/hydrate_turn_nodes",
    "event": "read/hydrate_events",
    "episode": "read/hydrate_episodes",
    "session": "read/hydrate_sessions",
}

#: the resolved time of the events of turn, episode and session hits (events carry their own)
HIT_TIME_QUERIES = {
    "turn": "read/hit_times_turn",
    "episode": "read/hit_times_episode",
    "session": "read/hit_times_session",
}


class SearchService:
    """Retrieval over the units of one namespace.

    Args:
        store: the open store.
        embedder: used for the query text.
        settings: index parameters and model.
        namespace: the tenant searched.
        config: the retrieval constants (default: ``settings.retrieval``).
        caches: the namespace's cache owner, shared with its writers (default: a new one).
    """

    def __init__(self, store: GraphStore, embedder: Embedder, settings: Settings, namespace: str,
                 config: RetrievalConfig | None = None, caches: NamespaceCaches | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.namespace = namespace
        self.tz = settings.tz  # the zone of a search given none (the namespace's is Memory's to read)
        self.caches = caches or NamespaceCaches(store, embedder, settings, namespace, config)

    def _zone(self, tz: tzinfo | None | object) -> tzinfo | None:
        return self.tz if tz is SETTINGS_TZ else cast("tzinfo | None", tz)

    # ------------------------------------------------------------------ queries
    def search(self, query: Query, tz: tzinfo | None | object = SETTINGS_TZ) -> list[Hit]:
        """Run a validated query (see :func:`graphmem.retrieve.types.validate_query`, which
        :meth:`graphmem.memory.Memory.search` calls) and return up to ``query.k`` hydrated
        hits of ``query.unit`` (only those ``query.filter`` keeps, when given). The change
        marker is read first, so another writer's commits are seen. Nothing here is user
        input any more: an exception is a bug and surfaces as itself.

        ``tz`` is the calendar of the namespace's user (``None``: UTC; default: the settings'):
        the days turns were said on are read there, and hits show their times in it."""
        zone = self._zone(tz)
        self.caches.follow()
        engine = self.caches.engine(zone)
        with single_threaded():
            vector = self.embedder.encode([query.text])[0]
            ranked = engine.search(query, vector)
        return self.hydrate(ranked, zone)

    def hydrate(self, ranked: Sequence[RankedUnit], tz: tzinfo | None | object = SETTINGS_TZ) -> list[Hit]:
        """Fetch the details of ranked units from the store and build hits in the same order
        (their times shown in ``tz``, default the settings' zone)."""
        zone = self._zone(tz)
        if not ranked:
            return []
        unit = ranked[0].unit
        params = {"ids": [r.node_id for r in ranked], "namespace": self.namespace}
        rows = {r["id"]: r for r in self.store.read(HYDRATE_QUERIES[unit], params)}
        times = ({r["id"]: r for r in self.store.read(HIT_TIME_QUERIES[unit], params)} if unit in HIT_TIME_QUERIES
                 else rows)  # an event carries its own time
        hits = []
        for item in ranked:
            row = rows.get(item.node_id)
            if row is None:  # deleted since the caches were built; never return ghosts
                logger.warning("cached %s %s has no node in the store; skipped", unit, item.node_id)
                continue
            where = {**{k: v for k, v in row.items() if v is not None}, **{k: v for k, v in item.provenance.items() if v is not None}}
            hits.append(Hit(
                node_id=item.node_id, unit=unit, text=row.get("text") or "", score=float(item.score), strategy=item.strategy,
                source_id=where.get("source_id"), conversation_id=where.get("conversation_id"),
                session_id=where.get("session_id", item.node_id if unit == "session" else None),
                session_key=where.get("session_key"), session_number=where.get("session_number"),
                speaker=row.get("speaker"), timestamp=shown(row.get("timestamp"), zone), explanation=dict(item.explanation),
                time_start=(times.get(item.node_id) or {}).get("time_start"), time_end=(times.get(item.node_id) or {}).get("time_end"),
                caption=row.get("caption"),
                metadata=metadata_of(row.get("meta")),
            ))
        return hits
