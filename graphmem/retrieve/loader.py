"""Reading the retrieval projection of a namespace from a store, with an on-disk cache.

Only named read queries with parameters (``read/projection_*``, scoped by
``$namespace``) are used, so loading works unchanged on every backend.

The projection is a derived cache: it is saved under the namespace's cache directory with a
manifest of the namespace's node and relationship counts and change-marker version, and
rebuilt from the store when they differ (the store changed since), the files are missing or
unreadable.

After a live add, only what it can have changed is read again (:meth:`ProjectionRows.refreshed`):
the rows of the sessions it wrote to and of their units, and the small namespace-wide rows
(entities, aliases, topics); after an add that only appends, of those only the turns it
segmented again and the entities and topic links it wrote (:class:`AppendWrites`); after an add
that fitted a granularity's topics, also every membership of that granularity (:class:`WriteScope`).
The rest of the rows read last time are kept, and the projection
is patched from the one before with the rows read again (:mod:`graphmem.retrieve.patch`; built
from the merged rows where a patch does not fit), so it equals one read whole
(``tests/test_projection_delta.py`` checks that after every add of a random sequence). The rows are saved beside the projection
(``projection_rows.json``, with the same manifest), so a process that loaded the projection
from the cache reads them from there at its first write instead of the whole namespace again.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from operator import methodcaller
from pathlib import Path
from typing import Any

import numpy as np

from graphmem.retrieve.patch import RowsChange, patched
from graphmem.retrieve.projection import MemoryProjection, ProjectionVersionError
from graphmem.signals import reraise_stop
from graphmem.store import GraphStore

__all__ = ["APPEND_WRITES", "GRANULARITIES", "PROJECTION_QUERIES", "READ_THREADS", "SESSION_SCOPED_WRITES", "appends_only", "AppendWrites", "ProjectionRows",
           "SavedRows", "TOPIC_FIT_WRITES", "WriteScope", "load_projection", "namespace_counts", "append_writes", "read_projection",
           "read_projection_rows", "save_projection", "session_scope"]

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


def read_projection_rows(store: GraphStore, namespace: str) -> ProjectionRows:
    """Every row of the projection of ``namespace`` (one read per query, on
    :data:`READ_THREADS` threads; the longest first)."""
    return ProjectionRows(read_all(store, {argument: (PROJECTION_QUERIES[argument], {"namespace": namespace})
                                            for argument in sorted(PROJECTION_QUERIES, key=lambda a: a not in _LONGEST)}))


def read_projection(store: GraphStore, namespace: str) -> MemoryProjection:
    """Build the projection of ``namespace`` from the store."""
    return read_projection_rows(store, namespace).projection()


_POOL: tuple[int, ThreadPoolExecutor] | None = None
_POOL_LOCK = threading.Lock()


def _read_pool() -> ThreadPoolExecutor:
    """The process's pool of :data:`READ_THREADS` projection readers, made at first use (again
    in a forked child, where the parent's threads do not run).

    One pool for the process's life, not one per read: every thread that reads the embedded
    store attaches to its JVM (a pool per read left four Java threads behind at each search
    right after an add, 810 after 200 adds, before threads detached as they ended; 14
    throughout with this pool), and these threads attach once."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL[0] != os.getpid():
            _POOL = (os.getpid(), ThreadPoolExecutor(max_workers=READ_THREADS, thread_name_prefix="graphmem-projection"))
        return _POOL[1]


def read_all(store: GraphStore, reads: dict[str, tuple[str, dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """``{key: rows}`` of the named reads ``{key: (query, params)}``, on :data:`READ_THREADS` threads."""
    pool = _read_pool()
    futures = {key: pool.submit(store.read, query, params) for key, (query, params) in reads.items()}
    try:
        return {key: future.result() for key, future in futures.items()}
    finally:  # on an error (or a stop) the reads not started yet are dropped, the running ones end
        running = [future for future in futures.values() if not future.cancel()]
        wait(running)


#: the writes of a live add or a forget whose effect on the projection's rows stays within the
#: sessions it names to :meth:`ProjectionRows.refreshed` (their turns, episodes, events, the
#: hyperedges, associations and topic memberships of those units) or within the namespace-wide
#: rows read whole again (entities, aliases, topics and their links: a forget deletes topics
#: left without members and relabels others); a topic fit (:data:`TOPIC_FIT_WRITES`) also makes
#: the refresh read every membership of the granularity fitted, and a transaction that runs any
#: other write rebuilds the projection from a read of everything. A forget's ``NEXT`` links and
#: conversation deletes are not in the projection.
SESSION_SCOPED_WRITES = frozenset({
    "write/merge_conversations", "write/update_conversation_speakers", "write/merge_sessions", "write/update_sessions",
    "write/mark_sessions_placing",
    "write/merge_turns", "write/replace_turns", "write/unlink_next_turns", "write/merge_next_turns",
    "write/merge_episodes", "write/update_episodes", "write/delete_part_of", "write/merge_part_of",
    "write/unlink_next_episodes", "write/merge_next_episodes", "write/clear_turn_associations", "write/clear_turn_topics",
    "write/merge_events", "write/merge_entities", "write/merge_involves", "write/merge_aliases",
    "write/flag_extraction_errors", "forget/delete_entities", "forget/delete_events", "write/merge_within",
    "forget/delete_turn_versions", "forget/delete_turns", "forget/delete_episodes", "forget/update_episodes",
    "forget/delete_sessions", "forget/update_sessions", "forget/delete_conversations", "forget/link_turns",
    "forget/link_episodes", "forget/delete_topics", "write/relabel_topics",
    *(f"write/create_associated_{a}_{b}" for a in ("turn", "episode", "session") for b in ("turn", "episode", "session")),
    *(f"write/merge_in_topic_{unit}" for unit in ("turn", "episode", "session", "event")),
})


#: the writes of an add that only appends (no correction, no forget): within a session they create
#: the new turns and their events, and rewrite only the open episode, the turns it gave to new
#: episodes (``PART_OF``) and the session's own row; every association or topic membership they make
#: has a new unit, an episode or a session of the add at one end. So the refresh reads the links of
#: those units only, not of every unit of the session (:meth:`ProjectionRows.refreshed`).
APPEND_WRITES = SESSION_SCOPED_WRITES - frozenset({
    "write/replace_turns", "write/clear_turn_associations", "write/clear_turn_topics",
    *(name for name in SESSION_SCOPED_WRITES if name.startswith("forget/")),
})


def appends_only(statements: Iterable[tuple[str, Any]]) -> bool:
    """Whether every one of ``statements`` (a transaction's) is one of :data:`APPEND_WRITES`."""
    return all(name in APPEND_WRITES for name, _ in statements)


#: the append writes that change the topic rows (``read/projection_topics``); the others leave
#: them as they were
_TOPIC_WRITES = frozenset({"write/relabel_topics"})
#: the append writes that change the rows of entities, their aliases or topic links, and the keys
#: of their rows naming them: entities merged or at either end of a new alias, topics a new link
#: starts from (links are only made: ``ON CREATE``)
_NAMED_WRITES = {"write/merge_entities": ("entities", ("id",)), "write/merge_aliases": ("entities", ("alias_id", "canonical_id")),
                 "write/merge_within": ("topic_links", ("child",))}


@dataclass(frozen=True)
class AppendWrites:
    """What one or more transactions of :data:`APPEND_WRITES` wrote beyond their sessions' new
    rows: the entities they merged (created, or given a label) or put at either end of a new
    alias, the topics they linked to a parent, whether they relabelled topics, and per session
    the turns whose rows they can have changed (``turns``: the new turns and those of the open
    episode they segmented again; ``None``: any). A refresh reads those entities and their
    aliases instead of every entity of the namespace (47 ms for 4,956 entities on every search
    after an add), those topics' links, the topic rows only when relabelled, and of each
    session those turns by id rather than all its turns (a session not named is read whole)."""

    entities: frozenset[str] = frozenset()
    topic_links: frozenset[str] = frozenset()
    topics: bool = False
    turns: Mapping[str, frozenset[str] | None] = field(default_factory=dict)

    def __or__(self, other: AppendWrites) -> AppendWrites:
        turns = dict(self.turns)
        for session, ids in other.turns.items():
            mine = turns.get(session, frozenset())
            turns[session] = None if ids is None or mine is None else mine | ids
        return AppendWrites(self.entities | other.entities, self.topic_links | other.topic_links, self.topics or other.topics, turns)

    def turns_of(self, session: str) -> frozenset[str] | None:
        """The turns of ``session`` whose rows were written (``None``: any of them)."""
        return self.turns.get(session)


def append_writes(statements: Iterable[tuple[str, Any]]) -> AppendWrites | None:
    """What ``statements`` (a transaction's) wrote to the namespace-wide rows (entities,
    aliases, topic links, relabels; the writer adds the turns it segmented), or ``None`` when
    they are not all :data:`APPEND_WRITES` (a reader reads those rows, and the sessions
    written, whole)."""
    statements = list(statements)
    if not appends_only(statements):
        return None
    named: dict[str, set[str]] = {"entities": set(), "topic_links": set()}
    for name, params in statements:
        if name in _NAMED_WRITES:
            field_, keys = _NAMED_WRITES[name]
            named[field_].update(str(row[key]) for row in (params or {}).get("rows", ()) for key in keys)
    return AppendWrites(frozenset(named["entities"]), frozenset(named["topic_links"]),
                           any(name in _TOPIC_WRITES for name, _ in statements))


#: the writes of a topic fit of one granularity (a live add's first fit or a refit, a forget's
#: refit): they replace its topics and rewrite the membership of every unit of it, wherever its
#: session, and count assignments on the topic carrying the model (not a projection row)
TOPIC_FIT_WRITES = frozenset({"write/merge_topics", "write/delete_topics", "write/count_topic_assignments"})

#: the granularities of topics (a unit's id starts with its granularity and a colon)
GRANULARITIES = ("turn", "episode", "session", "event")


@dataclass(frozen=True)
class WriteScope:
    """What a transaction's writes can have changed in the projection's rows
    (:func:`session_scope`): the rows of ``sessions`` (and of their units), the namespace-wide
    rows, and, for the granularities in ``regrouped`` (whose topics it fitted), every topic
    membership of their units."""

    sessions: frozenset[str]
    regrouped: frozenset[str] = frozenset()


def session_scope(statements: Iterable[tuple[str, Any]], sessions: Iterable[str]) -> WriteScope | None:
    """The scope of ``statements`` (a transaction's) when every one is one of
    :data:`SESSION_SCOPED_WRITES` or :data:`TOPIC_FIT_WRITES`, with the granularities it fitted
    (those of the topics it merges), else ``None`` (a reader must read everything).

    A refresh after a topic fit reads every membership of the granularity fitted, the topics and
    their links, not the whole projection: at 100,000 turns the whole read took 5.9-8.8 s at the
    first search after an add that fitted the event topics."""
    regrouped: set[str] = set()
    deletes = False
    for name, params in statements:
        if name == "write/merge_topics":
            for row in (params or {}).get("rows", ()):
                granularity = (row.get("props") or {}).get("granularity")
                if granularity not in GRANULARITIES:
                    return None
                regrouped.add(granularity)
        elif name == "write/delete_topics":
            deletes = True  # a refit's: the old topics of the granularity it merges topics of
        elif name not in SESSION_SCOPED_WRITES and name not in TOPIC_FIT_WRITES:
            return None
    if deletes and not regrouped:
        return None  # topics deleted without a fit naming their granularity: read everything
    return WriteScope(frozenset(sessions), frozenset(regrouped))


#: rows re-read whole by a refresh: small (one per entity or topic), and written by any add
_NAMESPACE_WIDE = ("entities", "aliases", "topics", "topic_links")


ROWS_FILE = "projection_rows.json"
ROWS_FORMAT = "graphmem.projection_rows/1"


class ProjectionRows:
    """The rows a projection is built from (:data:`PROJECTION_QUERIES`' results), kept so that
    the projection after a live add reads only what the add can have changed."""

    def __init__(self, rows: dict[str, list[dict[str, Any]]], change: RowsChange | None = None,
                 keyed: _KeyedRows | None = None) -> None:
        self.rows = rows
        self.change = change  # what a refresh read again (None: rows read whole)
        self._keys = keyed  # the key hashes a refresh finds rows by (made at the first refresh)

    def projection(self) -> MemoryProjection:
        return MemoryProjection.from_rows(**self.rows)

    def patch(self, before: MemoryProjection) -> MemoryProjection | None:
        """The projection of these rows made from ``before``, the projection of the rows they
        were refreshed from (:func:`~graphmem.retrieve.patch.patched`); ``None`` when they were
        not refreshed, or do not fit a patch (the caller builds :meth:`projection`)."""
        if self.change is None:
            return None
        try:
            made = patched(before, self.rows, self.change)
        except Exception as exc:  # a derived cache: built from the rows instead, and the defect logged
            reraise_stop(exc)
            logger.warning("patching the projection failed; building it from its rows", exc_info=True)
            return None
        if made is None:
            logger.info("projection built from its rows: they do not fit a patch of the one before")
        return made

    def save(self, directory: Path, manifest: dict[str, Any]) -> None:
        """Write the rows to ``directory`` beside the projection they built, with its
        ``manifest`` (a temporary file, then renamed)."""
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f"{ROWS_FILE}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"format": ROWS_FORMAT, "manifest": manifest, "rows": self.rows}, ensure_ascii=False),
                       encoding="utf-8")
        os.replace(tmp, directory / ROWS_FILE)

    def refreshed(self, store: GraphStore, namespace: str, sessions: Collection[str],
                  whole: Collection[str] | None = None, written: AppendWrites | None = None,
                  regrouped: Collection[str] = ()) -> ProjectionRows:
        """These rows after writes confined to ``sessions`` (ids; see :data:`SESSION_SCOPED_WRITES`):
        the rows of those sessions, of their turns, episodes and events, and the associations
        and topic memberships touching any of them are read again; the namespace-wide rows
        are read whole; the other rows are kept.

        Of the sessions not in ``whole`` (``None``: all are; the others were written only by
        :data:`APPEND_WRITES`), the links (associations, topic memberships) are read again only
        for the units whose rows changed (new turns, turns whose episode changed, their events),
        the session's episodes and the session: the links of a session's other units did not
        change, and reading them for every unit made a search right after an add grow with the
        session (232 ms after an add to a session of 300 messages, 66 ms to a new one).

        With ``written`` (every write since was an append), the entities it names and the aliases
        from them are read instead of all, the topic rows are kept unless it wrote topics, and
        of each session only the turns it names are read with their ``PART_OF``, events and
        hyperedges, by id (an append rewrites no turn before its open episode: 60 ms for a
        session of 1,000 messages read whole).

        For the granularities in ``regrouped`` (whose topics a write fitted), every topic
        membership of their units is read again and none of the old ones is kept; a fit is no
        append (:data:`TOPIC_FIT_WRITES` are not :data:`APPEND_WRITES`), so ``written`` is
        ignored then and the topics and their links are read whole with the other
        namespace-wide rows."""
        old = self.rows
        regrouped = sorted(set(regrouped))
        if regrouped:
            written = None
        prefixes = tuple(f"{granularity}:" for granularity in regrouped)
        chosen = sorted(set(sessions))
        whole_sessions = set(chosen if whole is None else whole)
        # of each session, the turns whose rows are read again (None: all of them)
        named = {sid: None if written is None or sid in whole_sessions else written.turns_of(sid) for sid in chosen}
        by_session = {"namespace": namespace, "sessions": chosen}
        by_turn = {"namespace": namespace, "sessions": [sid for sid in chosen if named[sid] is None],
                   "turns": sorted(t for ids in named.values() if ids is not None for t in ids)}
        fresh = read_all(store, {
            "sessions": ("read/projection_delta_sessions", by_session),
            "turns": ("read/projection_delta_turns", by_turn),
            "part_of": ("read/projection_delta_turn_episodes", by_turn),
            "events": ("read/projection_delta_events", by_turn),
            "involves": ("read/projection_delta_involves", by_turn),
            **_namespace_reads(namespace, written),
            **({"regrouped": ("read/projection_topic_members_of_granularities", {"namespace": namespace, "granularities": regrouped})}
               if regrouped else {}),
        })
        if written is not None:
            _merge_namespace_rows(old, fresh, written)
        scope = set(chosen)
        keyed = self._keyed()
        # a session's episodes by their own properties (an episode left without turns included)
        keys = {(r.get("conversation_id"), r.get("number")) for r in (*old["sessions"], *fresh["sessions"]) if r["id"] in scope}
        fresh["episodes"] = store.read("read/projection_delta_episodes", {"namespace": namespace, "sessions": [
            {"conversation_id": c, "number": n} for c, n in sorted(keys, key=str)]})
        scoped = keyed.rows_among("turns", "session_id", scope)  # the kept turns of the sessions written
        turns = {r["id"] for r in scoped if _named(r, named[r["session_id"]])} | _ids(fresh["turns"])
        events = {r["id"] for r in keyed.rows_among("events", "turn_id", turns)} | _ids(fresh["events"])
        old_episodes = keyed.among("episodes", _EPISODE_KEY, keys)
        episodes = {old["episodes"][i]["id"] for i in np.flatnonzero(old_episodes).tolist()}
        units = sorted(scope | turns | events | episodes | _ids(fresh["episodes"]))
        appended = scope - whole_sessions
        if appended:
            same = _unchanged_units([r for r in scoped if r["session_id"] in appended], keyed, fresh, appended)
            units = [u for u in units if u not in same]
        by_unit = {"namespace": namespace, "units": units,
                   **{f"{kind}s": [u for u in units if u.startswith(f"{kind}:")] for kind in ("turn", "event", "episode", "session")}}
        fresh.update(read_all(store, {"associations": ("read/projection_delta_associations", by_unit),
                                       "topic_members": ("read/projection_delta_topic_members", by_unit)}))
        if regrouped:  # every membership of those granularities: the read of all of them stands for the units' own
            fresh["topic_members"] = [*(r for r in fresh["topic_members"] if not str(r["member"]).startswith(prefixes)),
                                      *fresh.pop("regrouped")]
        touched = set(units)
        dropped = {
            "sessions": keyed.among("sessions", "id", scope),
            "turns": keyed.among("turns", "id", turns),
            "episodes": old_episodes,
            "part_of": keyed.among("part_of", "turn_id", turns),
            "events": keyed.among("events", "turn_id", turns),
            "involves": keyed.among("involves", "event_id", events),
            "associations": keyed.among("associations", "src", touched) | keyed.among("associations", "dst", touched),
            "topic_members": keyed.among("topic_members", "member", touched),
        }
        if prefixes:
            dropped["topic_members"] |= np.fromiter((str(r["member"]).startswith(prefixes) for r in old["topic_members"]),
                                                    dtype=bool, count=len(old["topic_members"]))
        rows = {argument: _without(old[argument], dropped[argument]) if argument in dropped else [] for argument in PROJECTION_QUERIES}
        change = RowsChange(frozenset(scope), frozenset(turns), frozenset(events), frozenset(episodes), frozenset(touched),
                            {argument: len(rows[argument]) for argument in dropped}, frozenset(regrouped))
        for argument, table in rows.items():
            table.extend(fresh[argument])
        return ProjectionRows(rows, change, keyed.carried(rows, dropped))

    def _keyed(self) -> _KeyedRows:
        if self._keys is None:
            self._keys = _KeyedRows(self.rows)
        return self._keys


#: an episode row's session, as a session row names it by its properties
_EPISODE_KEY = ("conversation_id", "session_number")


def _key_of(key: str | tuple[str, ...]) -> Callable[[Mapping[str, Any]], Any]:
    if isinstance(key, str):
        return methodcaller("get", key)
    return lambda row: tuple(row.get(k) for k in key)


class _KeyedRows:
    """The hashes of the fields a refresh looks rows up by (a session's turns, a turn's events,
    the links of a unit), one array per table and field, made at first use and carried to the
    refreshed rows: finding the few rows a write touched among every kept row is then a few
    array operations instead of a pass of Python over every row, and the rows kept are copied
    as slices between those dropped (the passes and copies took 50-60 ms of the 80-90 ms refresh
    at every search after an add to the 100,000-turn ``bench add`` memory). A hash found is
    confirmed on its row, so two values sharing a hash cannot be taken for each other."""

    def __init__(self, rows: Mapping[str, Sequence[Mapping[str, Any]]],
                 columns: dict[tuple[str, str | tuple[str, ...]], np.ndarray] | None = None) -> None:
        self.rows, self.columns = rows, columns if columns is not None else {}

    def column(self, table: str, key: str | tuple[str, ...]) -> np.ndarray:
        rows = self.rows[table]
        found = self.columns.get((table, key))
        if found is None or len(found) != len(rows):
            found = self.columns[(table, key)] = _hashes(map(_key_of(key), rows), len(rows))
        return found

    def among(self, table: str, key: str | tuple[str, ...], values: Collection[Any]) -> np.ndarray:
        """Which rows of ``table`` have their ``key`` among ``values`` (a boolean per row)."""
        column = self.column(table, key)
        if not values or not len(column):
            return np.zeros(len(column), dtype=bool)
        wanted = np.unique(_hashes(iter(values), len(values)))
        if len(wanted) <= _COMPARED:
            hit = column == wanted[0]
            for value in wanted[1:]:
                hit |= column == value
        else:  # a table of the hashes' low bits picks the candidates; their whole hashes decide
            bits = (1 << min(24, max(16, len(wanted).bit_length() + 10))) - 1
            low = np.zeros(bits + 1, dtype=bool)
            low[wanted & bits] = True
            hit = low[column & bits]
            candidates = np.flatnonzero(hit)
            hit[candidates] = np.isin(column[candidates], wanted)
        value_of, rows = _key_of(key), self.rows[table]
        for i in np.flatnonzero(hit).tolist():
            if value_of(rows[i]) not in values:
                hit[i] = False
        return hit

    def rows_among(self, table: str, key: str | tuple[str, ...], values: Collection[Any]) -> list[Mapping[str, Any]]:
        rows = self.rows[table]
        return [rows[i] for i in np.flatnonzero(self.among(table, key, values)).tolist()]

    def carried(self, rows: Mapping[str, Sequence[Mapping[str, Any]]], dropped: Mapping[str, np.ndarray]) -> _KeyedRows:
        """These columns for ``rows``: each table's kept rows (``dropped`` false) followed by
        the rows read again; a table not in ``dropped`` is made again at its first use."""
        columns = {}
        for (table, key), column in self.columns.items():
            if table in dropped:
                kept = column[~dropped[table]]
                added = rows[table][len(kept):]
                columns[(table, key)] = np.concatenate([kept, _hashes(map(_key_of(key), added), len(added))])
        return _KeyedRows(rows, columns)


#: up to this many values are looked for by comparing each with every row's hash (a few
#: compare faster than a binary search of every row's hash among them)
_COMPARED = 8


def _without(rows: Sequence[Any], dropped: np.ndarray) -> list[Any]:
    """``rows`` but those ``dropped`` marks, in order (the runs between them copied as slices)."""
    out: list[Any] = []
    start = 0
    for i in np.flatnonzero(dropped).tolist():
        out.extend(rows[start:i])
        start = i + 1
    out.extend(rows[start:])
    return out


def _hashes(values: Iterable[Any], count: int) -> np.ndarray:
    return np.fromiter(map(hash, values), dtype=np.int64, count=count)


def _namespace_reads(namespace: str, written: AppendWrites | None) -> dict[str, tuple[str, dict[str, Any]]]:
    """The reads of the namespace-wide rows a refresh after ``written`` needs (all when ``None``)."""
    params: dict[str, Any] = {"namespace": namespace}
    if written is None:
        return {argument: (PROJECTION_QUERIES[argument], params) for argument in _NAMESPACE_WIDE}
    reads: dict[str, tuple[str, dict[str, Any]]] = {}
    if written.entities:
        by_id = {**params, "entities": sorted(written.entities)}
        reads["entities"] = ("read/projection_delta_entities", by_id)
        reads["aliases"] = ("read/projection_delta_aliases", by_id)
    if written.topic_links:
        reads["topic_links"] = ("read/projection_delta_topic_links", {**params, "topics": sorted(written.topic_links)})
    if written.topics:
        reads["topics"] = (PROJECTION_QUERIES["topics"], params)
    return reads


def _merge_namespace_rows(old: dict[str, list[dict[str, Any]]], fresh: dict[str, list[dict[str, Any]]],
                          written: AppendWrites) -> None:
    """Complete ``fresh`` with the namespace-wide rows ``written`` left as they were: appends
    delete no entity, alias, topic or link, so the entities read replace their old rows, the
    aliases and links read join the old ones, and the topic rows not read are the old ones."""
    fresh["entities"] = [*(r for r in old["entities"] if r["id"] not in written.entities), *fresh.get("entities", ())]
    for argument, key in (("aliases", ("alias_id", "entity_id")), ("topic_links", ("src", "dst"))):
        known = {(r[key[0]], r[key[1]]) for r in old[argument]}
        fresh[argument] = [*old[argument], *(r for r in fresh.get(argument, ()) if (r[key[0]], r[key[1]]) not in known)]
    fresh.setdefault("topics", old["topics"])


def _named(row: Mapping[str, Any], ids: frozenset[str] | None) -> bool:
    """Whether a turn row is among ``ids`` (``None``: all)."""
    return ids is None or row["id"] in ids


def _ids(rows: Iterable[dict[str, Any]]) -> set[str]:
    return {r["id"] for r in rows}


def _unchanged_units(scoped: list[Mapping[str, Any]], keyed: _KeyedRows, fresh: dict[str, list[dict[str, Any]]],
                     sessions: set[str]) -> set[str]:
    """The turns of ``sessions`` whose row and episode are the same in the old rows (``keyed``)
    and ``fresh`` rows, and their events whose rows are the same; ``scoped``: the old turn rows
    of ``sessions`` (the caller has them)."""
    old_turns = {r["id"]: r for r in scoped}
    new_turns = {r["id"]: r for r in fresh["turns"] if r.get("session_id") in sessions}
    known = old_turns.keys() | new_turns.keys()

    def episodes_of(rows: Iterable[Mapping[str, Any]]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for r in rows:
            if r["turn_id"] in known:
                out.setdefault(r["turn_id"], set()).add(r["episode_id"])
        return out

    old_parts, new_parts = episodes_of(keyed.rows_among("part_of", "turn_id", known)), episodes_of(fresh["part_of"])
    same_turns = {t for t in old_turns.keys() & new_turns.keys()
                  if old_turns[t] == new_turns[t] and old_parts.get(t) == new_parts.get(t)}
    old_events = {r["id"]: r for r in keyed.rows_among("events", "turn_id", known)}
    new_events = {r["id"]: r for r in fresh["events"] if r.get("turn_id") in known}
    same_events = {e for e in old_events.keys() & new_events.keys()
                   if old_events[e] == new_events[e] and old_events[e].get("turn_id") in same_turns}
    return same_turns | same_events


class SavedRows:
    """The rows saved beside a projection loaded from the cache, read only when needed (the
    first write after the load): :meth:`load` gives them when they were saved with the same
    manifest as that projection, else ``None`` (the caller reads the store)."""

    def __init__(self, directory: Path, manifest: dict[str, Any]) -> None:
        self.directory, self.manifest = directory, manifest

    def load(self) -> ProjectionRows | None:
        started = time.perf_counter()
        try:
            saved = json.loads((self.directory / ROWS_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):  # a derived cache: an unreadable one is read from the store instead
            logger.warning("projection rows in %s unreadable; reading the store", self.directory, exc_info=True)
            return None
        rows = saved.get("rows") if isinstance(saved, dict) else None
        if (saved.get("format") != ROWS_FORMAT or saved.get("manifest") != self.manifest or not isinstance(rows, dict)
                or set(rows) != set(PROJECTION_QUERIES)):
            logger.info("projection rows in %s are not the loaded projection's; reading the store", self.directory)
            return None
        logger.debug("projection rows loaded from %s in %.2f s", self.directory, time.perf_counter() - started)
        return ProjectionRows(rows)


def load_projection(store: GraphStore, namespace: str, directory: Path | None,
                    version: int | None = None, *, epoch: str | None = None) -> tuple[MemoryProjection, str, ProjectionRows | SavedRows]:
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
        epoch: the marker's epoch at ``version``: with it the cache is valid when saved at
            that version of that marker, and the counts (seconds at 100,000 turns) are not
            read; without it (a marker from before epochs) the counts are compared too.

    Returns:
        ``(projection, state, rows)``: state ``"loaded"`` with the :class:`SavedRows` beside it,
        or ``"rebuilt"`` with the rows read (saved beside the projection too).
    """
    started = time.perf_counter()
    if directory is not None:
        manifest = _manifest(store, namespace, version, epoch)
        if (directory / "projection.json").exists():
            try:
                projection, saved = MemoryProjection.load(directory)
                if saved == manifest:
                    logger.debug("projection of %r loaded from cache in %.2f s", namespace, time.perf_counter() - started)
                    return projection, "loaded", SavedRows(directory, manifest)
                logger.info("projection cache of %r is stale; rebuilding from the store", namespace)
            except ProjectionVersionError as exc:  # saved by an earlier (or later) graphmem: no damage to warn of
                logger.info("projection cache of %r was saved by another graphmem version (%s); rebuilding from the store",
                            namespace, exc)
            except Exception as exc:  # any unreadable cache (empty, cut short: EOFError, BadZipFile) is rebuilt from the source of truth
                reraise_stop(exc)
                logger.warning("projection cache in %s unreadable; rebuilding", directory, exc_info=True)
    rows = read_projection_rows(store, namespace)
    projection = rows.projection()
    if directory is not None:
        try:
            projection.save(directory, manifest)
            rows.save(directory, manifest)
        except OSError:
            logger.warning("could not save the projection cache in %s", directory, exc_info=True)
    logger.info("projection of %r read from the store in %.2f s (%d turns, %d events, %d entities)", namespace,
                time.perf_counter() - started, projection.n_turns, len(projection.event_ids), len(projection.entity_ids))
    return projection, "rebuilt", rows


def save_projection(store: GraphStore, namespace: str, directory: Path, projection: MemoryProjection,
                    version: int, rows: ProjectionRows | None = None, *, epoch: str | None = None) -> None:
    """Save ``projection``, read at change-marker ``version``, as the cache
    :func:`load_projection` reuses, and the ``rows`` it was built from beside it; the caller
    makes sure nothing was written since (the manifest's counts are read now)."""
    manifest = _manifest(store, namespace, version, epoch)
    projection.save(directory, manifest)
    if rows is not None:
        rows.save(directory, manifest)
    else:  # rows saved with an earlier projection must not pass for this one's
        (directory / ROWS_FILE).unlink(missing_ok=True)


def _manifest(store: GraphStore, namespace: str, version: int | None, epoch: str | None = None) -> dict[str, Any]:
    """What a saved projection is valid for: the marker's version and epoch (every write bumps
    the marker); without an epoch, the namespace's counts now and the version."""
    if epoch is not None and version is not None:
        return {"epoch": epoch, "version": version}
    return {"counts": namespace_counts(store, namespace), "version": version}
