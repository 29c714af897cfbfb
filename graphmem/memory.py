"""The front door: :class:`Memory`."""

from __future__ import annotations

import enum
import functools
import logging
import os
import shutil
import threading
import time
from datetime import tzinfo
from typing import Any, Callable, Iterable, Mapping

from graphmem.changes import MAX_LOGGED_IDS, bump, bump_if_present, guard, read_version, writer_bump
from graphmem.check import IntegrityReport, check_integrity, property_problems, structure_problems
from graphmem.cluster.topics import text_terms
from graphmem.embed import Embedder
from graphmem.errors import (ClosedError, ConfigurationError, GraphmemError, InputError, StorageError, StoreUnavailableError,
                             reject_lone_surrogates)
from graphmem.forget import ForgetPlan, ForgetSelection, plan_forget
from graphmem.hits import CONTEXT_CHARS, RECENT_MESSAGES, Hit, context_text, explain_text, recall_parts, recall_text
from graphmem.retrieve.types import STRATEGIES, validate_query
from graphmem.ids import namespace_slug, node_id, validate_namespace
from graphmem.ingest import IngestPipeline, IngestReport, Progress
from graphmem.ingest.live import MAX_CONFLICTS, AddReport, LiveWriter, corrected_record, parse_messages, parse_timestamp, same_message
from graphmem.loaders import FORMATS, load
from graphmem.loaders.chat import validate_correction, validate_messages_query, validate_turn_id
from graphmem.records import ConversationRecord, metadata_of, stored_times, validate_records
from graphmem.model_identity import (holds_embeddings, identity_of, record_identity_statements, refuse_other_model,
                                     stored_identity)
from graphmem.retrieve.loader import AppendWrites, WriteScope, session_scope
from graphmem.runtime import allow_gc_freeze
from graphmem.search import SearchService
from graphmem.settings import Settings, default_store_location
from graphmem.namespace_settings import namespace_zone, set_timezone_statements, stored_timezone, timezone_in_force
from graphmem.timezones import shown, zone_name
from graphmem.store import GraphStore, Statement, open_store
from graphmem.store.base import WriteConflict

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the dump package is imported when a memory is moved, not on import
    from graphmem.caches import NamespaceCaches
    from graphmem.dump import DumpSummary

__all__ = ["Memory", "AsyncMemory", "STRATEGIES", "validate_namespace"]

logger = logging.getLogger(__name__)

DROP_BATCH = 5000
"""Nodes :meth:`Memory.drop_namespace` deletes per transaction."""

_DAMAGE_ERRORS = (TypeError, ValueError, AttributeError, KeyError, IndexError)
"""What reading a stored value of the wrong type raises (a string where a number belongs, a
missing property), unless graphmem's own errors (some subclass ValueError)."""


def _names_damage(method: Any) -> Any:
    """Let ``method`` raise :class:`~graphmem.errors.StorageError` naming the damage when it fails
    on stored values another tool changed (see :func:`graphmem.check.property_problems`): a
    Cypher write that set ``Turn.seq`` to a string made every search raise ``ValueError`` deep
    in the projection, and a number as ``Turn.text`` made a forget's query fail in the database.
    A failure with no such damage in the namespace is raised as it was (an internal error is
    never reported as the store's), and so is an unreachable store."""

    @functools.wraps(method)
    def wrapped(self: "Memory", *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (*_DAMAGE_ERRORS, StorageError) as exc:
            if isinstance(exc, StoreUnavailableError) or (isinstance(exc, GraphmemError) and not _database_error(exc)):
                raise
            damage = self._stored_damage()
            if not damage:
                raise
            found = "; ".join(f"{len(ids)} {name.replace('_', ' ')} ({', '.join(ids[:3])})" for name, ids in damage.items())
            named = StorageError(f"namespace {self.namespace!r} holds values graphmem did not write: {found}; "
                                 f"{method.__name__} failed on them ({type(exc).__name__}: {str(exc)[:120]}). graphmem check "
                                 "names such damage; correct or forget those messages, or set the values right with Cypher")
            setattr(named, "damage", damage)  # an outer operation passes it on as it is (see _database_error)
            raise named from exc

    return wrapped


def _database_error(exc: GraphmemError) -> bool:
    """Whether ``exc`` is a query or write the database itself refused (a ``StorageError`` around the
    driver's or engine's error): a stored value of the wrong type can make a query fail there too
    (``toLower`` of a number)."""
    return (isinstance(exc, StorageError) and not hasattr(exc, "damage") and exc.__cause__ is not None
            and not isinstance(exc.__cause__, GraphmemError))


class _State(enum.Enum):
    UNOPENED = "unopened"
    OPEN = "open"
    CLOSING = "closing"  # close() waits for the calls in flight; new calls are refused
    CLOSED = "closed"


def _in_use(method: Any) -> Any:
    """Run ``method`` as a call in flight: refused with :class:`ClosedError` once :meth:`Memory.close`
    has begun, and counted, so that close waits for it before it closes the store (a thread closing a
    Memory that worker threads were reading made their calls fail with the closed database's
    StorageError). A call that fails because the store was closed under it all the same (from its own
    thread, as a signal handler may) raises ClosedError too."""

    @functools.wraps(method)
    def wrapped(self: "Memory", *args: Any, **kwargs: Any) -> Any:
        self._enter()
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            # only a failure of a store closed under the call is the close's (one close waited for is the call's own)
            closed = self._state is _State.CLOSED or bool(getattr(self._store, "closed", False))
            if not closed or (isinstance(exc, GraphmemError) and not isinstance(exc, StorageError)):
                raise
            raise ClosedError(f"this Memory was closed during {method.__name__} ({type(exc).__name__})") from exc
        finally:
            self._leave()

    return wrapped


def has_search_terms(query: str) -> bool:
    """Whether ``query`` holds anything to search for: a letter or digit in any script.

    A query of punctuation alone (``"?!... ---"``) matches nothing; it gets no hits rather
    than k arbitrary ones with score 0."""
    return any(ch.isalnum() for ch in query)


_NAMESPACE_LOCKS: dict[tuple[str, str], threading.RLock] = {}
_NAMESPACE_LOCKS_GUARD = threading.Lock()


def _namespace_lock(store: GraphStore, namespace: str) -> threading.RLock:
    """The lock every Memory of this process on ``namespace`` of ``store`` shares.

    Ingestion plans its writes from what the namespace holds (stored turns, entities,
    topic models) before it commits; two Memory objects writing one namespace at once
    would plan from the same snapshot. Sharing one lock makes them take turns, so one
    Memory per thread behaves like one shared Memory.
    """
    describe = getattr(store, "describe", None)
    if not callable(describe):  # not a store (an unopened Memory built by hand): nothing to share
        return threading.RLock()
    key = (describe(), namespace)
    with _NAMESPACE_LOCKS_GUARD:
        return _NAMESPACE_LOCKS.setdefault(key, threading.RLock())


class Memory:
    """A long-term memory: one namespace of one graph store.

    Constructing does no I/O; use :meth:`Memory.open` (or ``with Memory.open(...)``).

    Example:
        >>> from graphmem import Memory
        >>> with Memory.open("/tmp/my-memory") as memory:          # doctest: +SKIP
        ...     memory.ingest("chat.jsonl")
        ...     for hit in memory.search("Where did Mel go camping?", k=5):
        ...         print(hit.score, hit.source_id, hit.text)
    """

    def __init__(self, store: GraphStore, namespace: str = "default", settings: Settings | None = None) -> None:
        if isinstance(store, (str, os.PathLike)):
            raise TypeError(f"Memory() takes an open GraphStore, not the location {os.fspath(store)!r}: "
                            f"open a memory there with Memory.open({os.fspath(store)!r})")
        self._store = store
        self._namespace = validate_namespace(namespace)
        self._settings = settings or Settings()
        if self._settings.freeze_gc:  # the caller opted in to a process-wide change (see Settings.freeze_gc)
            allow_gc_freeze()
        self._embedder = Embedder.from_settings(self._settings)
        self._search: SearchService | None = None
        self._state = _State.UNOPENED
        self._lock = _namespace_lock(store, self._namespace)
        self._calls = threading.Condition(threading.Lock())  # guards _state's changes and _in_flight
        self._in_flight: dict[int, int] = {}  # thread id -> depth of the calls (see _in_use) it is in
        self._collect_texts = False
        self._writer: LiveWriter | None = None
        self._writer_foreign = 0  # the cache owner's count of foreign changes when the live writer was made
        self._owns_store = True  # False for a Memory.attach()ed one, which leaves the shared store open
        self._identity_pending = True  # the namespace holds no identity of this model yet (see _check_model)

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def open(
        cls,
        location: str | os.PathLike[str] | None = None,
        namespace: str = "default",
        *,
        settings: Settings | None = None,
        auth: tuple[str, str] | None = None,
        database: str | None = None,
        create: bool = True,
    ) -> "Memory":
        """Open a memory.

        Args:
            location: a directory for the embedded store (created if missing), or a
                ``bolt://``/``neo4j://`` URI. Defaults to ``$GRAPHMEM_STORE`` or
                ``~/.local/share/graphmem/store``.
            namespace: the tenant to read and write.
            settings: tuning; defaults to :meth:`Settings.from_env`.
            auth: ``(user, password)`` for Bolt stores.
            database: Neo4j database name for Bolt stores.
            create: create an embedded store that does not exist yet (the default); with
                ``False`` a missing store raises ``ConfigurationError("no memory at PATH")``
                and nothing is created.

        Returns:
            An open Memory.

        Raises:
            ConfigurationError: bad location, namespace or settings; no store at the
                location when ``create`` is False.
            StorageError: the store cannot be opened.
        """
        validate_namespace(namespace)
        settings = settings or Settings.from_env()
        store = open_store(location if location is not None else default_store_location(), settings, auth=auth, database=database,
                           create=create)
        memory = cls(store, namespace, settings)
        memory._state = _State.OPEN
        logger.info("opened %s, namespace %r", store.describe(), namespace)
        return memory

    @classmethod
    def attach(cls, store: GraphStore, namespace: str = "default", settings: Settings | None = None) -> "Memory":
        """An open Memory on ``store``, a store already open and shared with other Memory objects.

        ``graphmem serve`` uses it: one store, one Memory per namespace. Closing this Memory
        does not close ``store``; its owner closes it. Without ``settings``, the ``GRAPHMEM_*``
        environment's, as :meth:`open` reads them (``GRAPHMEM_TIMEZONE`` was ignored here).

        Raises:
            ConfigurationError: a bad namespace.
            ClosedError: ``store`` is closed.
        """
        if store.closed:
            raise ClosedError(f"{store.describe()} is closed")
        memory = cls(store, namespace, settings or Settings.from_env())
        memory._owns_store = False
        memory._state = _State.OPEN
        return memory

    def __enter__(self) -> "Memory":
        self._check()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the store; the Memory refuses use afterwards. Idempotent.

        Calls in flight on other threads end first (a search, an ingest: close waits for them, as
        long as they take); calls that begin meanwhile raise :class:`ClosedError`. A close from a
        thread inside a call of its own (a signal handler, a progress callback) waits for no one: the
        other calls meet the closed store and raise :class:`ClosedError`. A second close while one is
        under way returns once the Memory is closed."""
        me = threading.get_ident()
        with self._calls:
            if self._state in (_State.CLOSING, _State.CLOSED):
                if me not in self._in_flight:  # (a call of this thread that closes waits for no one)
                    self._calls.wait_for(lambda: self._state is _State.CLOSED)
                return
            self._state = _State.CLOSING
            if me not in self._in_flight:
                self._calls.wait_for(lambda: not self._in_flight)
            # else a call of this thread closes (a signal handler, a progress callback): it may hold the namespace
            # lock another call waits for, so waiting for that call would never end; the calls in flight then
            # meet the closed store and raise ClosedError
        try:
            with self._lock:
                try:
                    if self._search is not None:
                        self._search.caches.flush()
                finally:
                    if self._owns_store and isinstance(self._store, GraphStore):  # not None: an unopened one built by hand
                        self._store.close()
        finally:
            with self._calls:
                self._state = _State.CLOSED
                self._calls.notify_all()

    def _enter(self) -> None:
        """Count a call of this thread in flight (see :func:`_in_use`), or refuse it: the Memory is not
        open (a call of a thread already in one goes on while close waits for it)."""
        me = threading.get_ident()
        with self._calls:
            depth = self._in_flight.get(me, 0)
            if self._state is not _State.OPEN and not (depth and self._state is _State.CLOSING):
                raise ClosedError(f"this Memory is {self._state.value}; use Memory.open(...)")
            self._in_flight[me] = depth + 1

    def _leave(self) -> None:
        me = threading.get_ident()
        with self._calls:
            depth = self._in_flight.pop(me) - 1
            if depth:
                self._in_flight[me] = depth
            else:
                self._calls.notify_all()

    def _check(self) -> None:
        if self._state is _State.OPEN or (self._state is _State.CLOSING and threading.get_ident() in self._in_flight):
            return
        raise ClosedError(f"this Memory is {self._state.value}; use Memory.open(...)")

    def __repr__(self) -> str:
        return f"Memory({self._store.describe()!r}, namespace={self._namespace!r}, {self._state.value})"

    # ------------------------------------------------------------------ properties
    @property
    def namespace(self) -> str:
        """The tenant this Memory reads and writes."""
        return self._namespace

    @property
    def settings(self) -> Settings:
        """The frozen settings in force."""
        return self._settings

    @property
    def store(self) -> GraphStore:
        """The underlying graph store (for advanced use)."""
        self._check()
        return self._store

    def _zone(self) -> tzinfo | None:
        """The zone this namespace's times are read and shown in (see :meth:`timezone`)."""
        return namespace_zone(self._store, self._namespace, self._settings.tz)

    @_in_use
    def timezone(self) -> str:
        """The time zone of this namespace's user: the one :meth:`set_timezone` stored with the
        namespace, else ``Settings.timezone``. A time given without an offset is read in it,
        relative times ("yesterday", a question's "last Saturday") resolve in it, and hits,
        messages and profiles show times with its offset (see :mod:`graphmem.timezones`).

        Raises:
            StorageError: the stored zone is not one this machine knows.
        """
        self._check()
        return timezone_in_force(self._store, self._namespace, self._settings.timezone)[0]

    @_in_use
    def set_timezone(self, name: str | None) -> str:
        """Store ``name`` (an IANA name such as ``"Europe/Berlin"``, ``"local"`` for this
        machine's zone, ``"UTC"``) as this namespace's time zone, for every process and server
        worker that opens it, over ``Settings.timezone``; ``None`` removes it (the settings'
        zone applies again). For a server whose users live in several zones, one namespace
        each.

        Stored times do not change (they are UTC): from the next call on, times given without an
        offset are read in the new zone, and every time is shown in it. A message's relative
        expressions ("yesterday") stay resolved as they were when it was stored.

        Returns:
            The zone in force now (:meth:`timezone`).

        Raises:
            InputError: not a time zone name this machine knows.
        """
        self._check()
        stored = None if name is None else zone_name(name)
        if stored is None and stored_timezone(self._store, self._namespace) is None:
            return self.timezone()  # nothing to remove: no write (it would make the namespace hold nodes)
        with self._lock:
            self._store.write(set_timezone_statements(self._namespace, stored))
        logger.info("namespace %r: time zone %s", self._namespace, stored or f"cleared ({self._settings.timezone} applies)")
        return self.timezone()

    def _service(self) -> SearchService:
        if self._search is None:
            self._check_model()
            self._search = SearchService(self._store, self._embedder, self._settings, self._namespace)
            self._search.caches.follow()  # the marker version its caches start from
        return self._search

    def _check_model(self) -> None:
        """Refuse an embedding model whose vectors are not of the length the namespace stores (a
        search answered by keywords alone, warning of damage ``check`` did not find; an add raised
        ValueError from the topic models), naming both, as an import of such vectors is refused;
        and one that is not the model the namespace's stored identity names (another model of the
        same length, or other weights under the same name: its vectors mixed with the stored ones,
        see :mod:`graphmem.model_identity`). Runs before this Memory's first search or write.

        A namespace without an identity (made before identities, or empty) is not refused: the
        identity is recorded after its next write (:meth:`_record_identity`), as is a new one
        over another model's when the namespace holds no vectors.

        Raises:
            ConfigurationError: the lengths differ, or the stored identity is another model's.
        """
        rows = self._store.read("read/embedding_dimensions", {"namespace": self._namespace, "limit": 64})
        lengths = {int(r["dimension"]): int(r["turns"]) for r in rows if isinstance(r.get("dimension"), int)}
        stored_model = stored_identity(self._store, self._namespace)
        if not lengths:
            self._identity_pending = True
            return
        made = self._embedder.dimension
        if made not in lengths:  # (one vector of another length among the model's is damage: check names it)
            stored = max(lengths, key=lambda length: lengths[length])
            named = f" (the namespace was embedded with {stored_model.model!r})" if stored_model is not None else ""
            raise ConfigurationError(
                f"namespace {self._namespace!r} holds {stored}-dimensional embeddings, but the embedding model "
                f"{self._settings.embedding_model!r} makes {made}-dimensional ones{named}: open it with the model it was "
                "made with (Settings.embedding_model, GRAPHMEM_EMBEDDING_MODEL), or export it and import it with "
                "--reembed (reembed=True) into a memory of this model")
        if stored_model is not None:
            refuse_other_model(self._namespace, stored_model, identity_of(self._embedder))
        self._identity_pending = stored_model is None

    def _refuse_before_write(self) -> bool:
        """Before a write while :meth:`_check_model` found no identity of this model: another Memory or
        process may have written the namespace with its own model since (this Memory first met it
        empty); refuse another model's identity as :meth:`_check_model` does, unless the namespace
        holds no vectors (then this write's model replaces it, :meth:`_record_identity`).

        Returns:
            Whether an identity found after the write may be replaced by this model's (False: one of
            this model was stored before the write, so another found after it came meanwhile).
        """
        if not self._identity_pending:
            return True
        stored = stored_identity(self._store, self._namespace)
        if stored is None or not holds_embeddings(self._store, self._namespace):
            return True
        refuse_other_model(self._namespace, stored, identity_of(self._embedder))
        return False  # (the same model: nothing to replace)

    def _record_identity(self, caches: "NamespaceCaches", replaceable: bool) -> None:
        """After a write through ``caches``: store the model's identity with the namespace when
        :meth:`_check_model` found none (a namespace from before identities is adopted so) and
        the namespace now holds vectors. One transaction, once in a namespace's life; a crash
        before it leaves the namespace as one from before, adopted at the next write. ``replaceable``:
        what :meth:`_refuse_before_write` returned before the write."""
        if not self._identity_pending:
            return
        configured = identity_of(self._embedder)
        stored = stored_identity(self._store, self._namespace)
        if stored is not None and stored.same_model(configured):
            self._identity_pending = False
            return
        if stored is not None and not replaceable:
            # another writer recorded its model between this write's check and its commit: never overwrite
            # it (check names the namespace: embeddings_of_another_model)
            logger.warning("namespace %r: another writer recorded the embedding model %r while this one (%r) wrote; "
                           "graphmem check names the namespace", self._namespace, stored.model, configured.model)
            return
        if not holds_embeddings(self._store, self._namespace):
            return  # (nothing written: no node made for the identity alone)
        scope = WriteScope(frozenset(), frozenset())
        try:
            self._store.write(record_identity_statements(self._namespace, configured, caches.bump((), scope=scope)))
        except StorageError as exc:  # the messages are stored: an add must not fail (and be sent again) for this
            logger.warning("namespace %r: its embedding model could not be recorded (%s); the next write records it",
                           self._namespace, exc)
            return
        caches.committed(save=False, scope=scope, appended=AppendWrites())
        self._identity_pending = False
        logger.info("namespace %r: recorded its embedding model %r", self._namespace, configured.model)

    # ------------------------------------------------------------------ operations
    @_in_use
    @_names_damage
    def ingest(
        self,
        source: str | os.PathLike[str] | ConversationRecord | Iterable[ConversationRecord],
        format: str = "auto",
        *,
        conversation_id: str | None = None,
        progress: Progress | None = None,
    ) -> IngestReport:
        """Ingest conversations from a file (or already-loaded records).

        The whole source is loaded and validated first: a bad file raises
        :class:`InputError` and stores nothing. Ingesting the same input again
        changes nothing.

        Args:
            source: a path (LoCoMo JSON, JSONL, transcript, native JSON; ``.gz`` ok)
                or ConversationRecord(s).
            format: ``auto``, ``locomo``, ``jsonl``, ``transcript`` or ``native``.
            conversation_id: key for sources without one (JSONL, transcripts).
            progress: ``progress(stage, done, total)`` callback; each stage counts turns of
                the whole source, only grows and ends at ``total``: ``"embed"`` (turns
                embedded, every few batches), ``"extract"`` (turns whose events and entities
                are derived, as each turn's events are split and embedded) and ``"ingest"``
                (turns of the conversations committed, once per conversation). The first two
                move inside one long conversation (see :data:`graphmem.ingest.Progress`).

        Returns:
            An :class:`IngestReport` with counts and timings.
        """
        self._check()
        if format not in FORMATS:
            raise InputError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}")
        tz = self._zone()
        if isinstance(source, ConversationRecord):
            validate_records([source], source.source or "<record>")
            records, label = [stored_times(source, tz)], source.source or source.key
        elif isinstance(source, (str, os.PathLike)):
            records, label = load(source, format, conversation_id, tz), str(source)
        else:
            records = list(source)
            if not all(isinstance(r, ConversationRecord) for r in records):
                raise InputError("source must be a path or ConversationRecord objects")
            validate_records(records, "<records>")
            records, label = [stored_times(r, tz) for r in records], "<records>"
        report = IngestReport(sources=[label], collect_texts=self._collect_texts)
        with self._lock:
            caches = self._service().caches
            replaceable = self._refuse_before_write()
            pipeline = IngestPipeline(self._store, self._embedder, self._settings, self._namespace, caches=caches, tz=tz)
            self._writer = None  # an ingest changes the entities and topics a live writer keeps
            try:
                pipeline.run(records, progress=progress, report=report)
            finally:
                caches.invalidate()  # topics are committed after the conversations' own updates
            self._record_identity(caches, replaceable)
            if pipeline.replaced_texts:  # messages corrected in the file: no label may keep a word only their old text gave
                self._relabel_topics(self._namespace, pipeline.replaced_texts, caches, {}, refit=False)
        return report

    @_in_use
    @_names_damage
    def add(
        self,
        messages: Any,
        *,
        conversation: str,
        session: str | None = None,
        session_started_at: Any = None,
    ) -> AddReport:
        """Add messages to a conversation as it happens (one transaction, no LLM).

        Messages are appended in order after the last turn of ``session`` (a new key opens a
        new session, starting at ``session_started_at`` or else at its first message's
        time). Without ``session`` they go to the conversation's latest session; a new one
        opens when a message comes more than ``Settings.session_gap`` (4 hours) after the
        latest time a turn of that session was said (a late message, older than the one
        before it, is appended and does not move that time back; messages all said before
        the latest session started go to the tail of the session they were said in). Turns, episodes (the open episode at a session's tail grows until a
        topic boundary closes it), events, entities, topics and associations are derived
        as batch :meth:`ingest` derives them: streaming a conversation message by message
        stores what ingesting it in one batch stores.

        A message whose ``id`` is already stored in the conversation with other text is a
        correction: the turn keeps its id and position, its text, embedding, events and
        entity links are derived again, and the old text is kept as a version
        (:meth:`history`), never returned by :meth:`search`. The same text again changes
        nothing.

        Args:
            messages: one mapping, a :class:`~graphmem.records.TurnRecord`, or a list of
                them. A mapping has ``speaker`` or ``role``, ``text`` or ``content``, and
                optionally ``timestamp`` (ISO 8601, datetime or Unix seconds), ``id`` (your message id),
                ``caption`` and ``metadata`` (scalar values). A message without a timestamp
                was said now, when it is added, unless the call gives ``session_started_at``
                (a dated session filled in: its start stands, as in a batch ingest); a
                correction keeps its message's time. Messages as chat APIs return
                them are read as they are (:mod:`graphmem.loaders.chat`): ``content`` as a
                list of parts (their text parts are the text), ``name`` (a user's name in a
                group chat is the speaker) and tool plumbing; a message that only calls a
                tool or holds only images is skipped and counted (``AddReport.skipped``).
            conversation: the conversation key (e.g. a chat or thread id).
            session: a session key; ``None`` for the latest session (or a new one after a gap).
            session_started_at: when a new ``session`` started (datetime or ISO 8601).

        Returns:
            An :class:`~graphmem.ingest.live.AddReport`: the node ids of the new or changed
            turns (``turn_ids``), counts and seconds.

        Raises:
            InputError: a bad message, naming its position and field; nothing is stored.
            StorageError: the store failed; nothing of this call is stored.

        Example:
            >>> memory.add({"role": "user", "content": "I adopted a cat named Miso.", "id": "m1"},
            ...            conversation="chat-42")                                    # doctest: +SKIP
            AddReport(conversation='chat-42', turn_ids=['turn:...'], added=1, ...)
        """
        self._check()
        if not isinstance(conversation, str) or not conversation.strip():
            raise InputError(f"conversation: expected a non-empty key, got {conversation!r}")
        if session is not None and (not isinstance(session, str) or not session.strip()):
            raise InputError(f"session: expected a non-empty key or None, got {session!r}")
        reject_lone_surrogates({"conversation": conversation, "session": session}, "")
        tz = self._zone()
        records, skipped = parse_messages(messages, tz)
        started = parse_timestamp(session_started_at, "session_started_at", tz)
        if not records:  # every message was a tool call or an image: nothing to store
            return AddReport(conversation=conversation, skipped=skipped)
        report = self._write_live(lambda writer: writer.add(conversation, records, session=session, session_started_at=started), tz)
        report.skipped = skipped
        return report

    @_in_use
    @_names_damage
    def correct(self, turn_id: str, text: str | None = None, *, speaker: str | None = None, caption: str | None = None,
                metadata: Mapping[str, Any] | None = None) -> AddReport:
        """Correct a stored message by its turn id (``Hit.node_id``, ``AddReport.turn_ids``,
        :meth:`messages`'s ``turn_id``), as :meth:`add` corrects a message sent again with its
        ``id``: for messages stored without an id of yours, and for a tool that holds only what
        search returned. The turn keeps its id, position and time; its text, embedding, events
        and entity links are derived again; the old text is kept as a version (:meth:`history`).

        Args:
            turn_id: the turn to correct.
            text: the new text (``None``: keep it).
            speaker: the new speaker (``None``: keep).
            caption: the new image description (``None``: keep; ``""``: remove).
            metadata: the new metadata, replacing the stored (``None``: keep; ``{}``: remove).

        Returns:
            An :class:`~graphmem.ingest.live.AddReport` (``corrected`` 1, or ``unchanged`` 1 when
            nothing differs), ``turn_ids`` ``[turn_id]``.

        Raises:
            InputError: no such turn in this namespace; nothing to change given; a bad value,
                naming its field.
        """
        self._check()
        validate_correction(turn_id, text, speaker, caption, metadata)
        rows = self._store.read("read/live_turn_by_id", {"namespace": self._namespace, "id": turn_id})
        if not rows:
            raise InputError(f"turn_id: no turn {turn_id!r} in namespace {self._namespace!r}")
        row = rows[0]
        record = corrected_record(row, text, speaker, caption, metadata)
        if same_message(row, record):
            return AddReport(conversation=row["conversation_id"], turn_ids=[row["id"]], unchanged=1)
        return self._write_live(lambda writer: writer.correct(row["conversation_id"], [(row, record)]), self._zone())

    def _write_live(self, write: Callable[[LiveWriter], AddReport], tz: tzinfo | None) -> AddReport:
        """``write(writer)`` with the namespace's live writer, under its lock, after following the
        store; the writer resolves relative times in ``tz`` (the namespace's zone)."""
        with self._lock:
            caches = self._service().caches
            caches.follow()
            if caches.foreign_changes != self._writer_foreign:
                # another writer changed the namespace since the live writer was made (seen here or by
                # a search): what it kept (entities, topic models, session tails) may be stale
                self._writer = None
            replaceable = self._refuse_before_write()
            writer = self._live_writer()
            writer.use_zone(tz)
            report = write(writer)
            self._record_identity(caches, replaceable)
            if writer.replaced_texts:  # a correction: no label may keep a word only the old text gave
                relabelled = self._relabel_topics(self._namespace, writer.replaced_texts, caches, {}, refit=False)
                if relabelled["topics_relabelled"]:
                    self._writer = None  # its kept topic models carry the old labels
            return report

    def _live_writer(self) -> LiveWriter:
        if self._writer is None:
            caches = self._service().caches
            self._writer = LiveWriter(self._store, self._embedder, self._settings, self._namespace, caches=caches)
            self._writer_foreign = caches.foreign_changes
        return self._writer

    @_in_use
    @_names_damage
    def history(self, turn_id: str) -> list[dict[str, Any]]:
        """Every text a turn has had, oldest first; the last entry is the current one.

        Each entry has ``version`` (0 for the first text), ``speaker``, ``text``,
        ``caption``, ``metadata`` (the message's, as it was), ``timestamp``, ``replaced_at``
        (when a correction replaced it; ``None`` for the current text) and ``current``.

        Raises:
            InputError: ``turn_id`` is not a turn of this namespace.
        """
        self._check()
        validate_turn_id(turn_id)
        params = {"namespace": self._namespace, "id": turn_id}
        current = self._store.read("read/turn_current", params)
        if not current:
            raise InputError(f"turn_id: no turn {turn_id!r} in namespace {self._namespace!r}")
        tz = self._zone()
        versions = [{**{k: v for k, v in row.items() if k != "meta"}, "metadata": metadata_of(row.get("meta")), "current": False}
                    for row in self._store.read("read/turn_versions", params)]
        row = current[0]
        versions.append({"version": row["version"], "speaker": row["speaker"], "text": row["text"], "caption": row.get("caption"),
                         "metadata": metadata_of(row.get("meta")), "timestamp": row.get("timestamp"), "replaced_at": None, "current": True})
        for entry in versions:  # shown in the user's time zone, as hits are
            entry["timestamp"], entry["replaced_at"] = shown(entry.get("timestamp"), tz), shown(entry.get("replaced_at"), tz)
        return versions

    @_in_use
    @_names_damage
    def messages(self, conversation: str, *, session: str | None = None, last: int | None = None,
                 before: str | None = None) -> list[dict[str, Any]]:
        """The messages of ``conversation`` as stored, oldest first: what an agent reads back to
        build its prompt's recent window, show a chat, or find the id of a message to correct.

        Args:
            conversation: the conversation key (as added or ingested).
            session: only this session's messages.
            last: only the last ``last`` messages (default: all).
            before: a turn id of the conversation: only the messages said before it (a chat view
                pages back with the first ``turn_id`` it shows).

        Each entry has ``turn_id`` (for :meth:`history` and ``forget(turn=...)``), ``source_id``
        (your message id), ``session`` (its key), ``session_number``, ``index`` (position in its
        session), ``speaker``, ``text`` and ``caption`` (current, after corrections), ``metadata``,
        ``timestamp`` (when it was said: its own time, else its session's start; in
        ``Settings.timezone``, as hits show times) and ``version`` (how many times it was
        corrected). A conversation with no messages (or none in ``session``) gives ``[]``.

        Raises:
            InputError: an empty key, ``last`` not a positive integer, or ``before`` no turn of
                the conversation.
        """
        self._check()
        validate_messages_query(conversation, session, last, before)
        ns = self._namespace
        sessions = self._store.read("read/conversation_sessions", {"namespace": ns, "session": session,
                                                                   "id": node_id(ns, "conversation", conversation)})
        before_seq = None
        if before is not None:
            found = [row for row in self._store.read("read/conversation_turn_seq", {"namespace": ns, "id": before})
                     if row["conversation_id"] == conversation]
            if not found:
                raise InputError(f"before: no turn {before!r} in conversation {conversation!r}")
            before_seq = found[0]["seq"]
            sessions = [row for row in sessions if row["number"] <= found[0]["session_number"]]
        # the latest sessions first, more of them each read, until the last `last` messages are in
        # (the conversation index would sort every message of a long conversation: 0.2 s at 20,000)
        rows: list[dict[str, Any]] = []
        start, batch = 0, 1
        while start < len(sessions) and (last is None or len(rows) < last):
            chunk = sessions[start:] if last is None else sessions[start:start + batch]
            rows.extend(self._store.read("read/session_messages", {"namespace": ns, "ids": [row["id"] for row in chunk],
                                                                   "before_seq": before_seq}))
            start, batch = start + len(chunk), batch * 4
        rows.sort(key=lambda row: row["seq"])
        if last is not None:
            rows = rows[-last:]
        started = {row["id"]: row.get("started_at") for row in sessions}
        tz = self._zone()
        return [{**{k: v for k, v in row.items() if k not in ("meta", "seq", "session_id")},
                 "metadata": metadata_of(row.get("meta")),
                 "timestamp": shown(row.get("timestamp") or started.get(row["session_id"]), tz)} for row in rows]

    @_in_use
    @_names_damage
    def entity(self, name: str, *, mentions: int = 10, related: int = 10) -> dict[str, Any] | None:
        """What the memory knows about an entity: "who is Caroline?", "what about the Grand Canyon?".

        ``name`` may be any spelling ingestion would file under the same key (casing, a
        possessive, a leading "the") or an alias (a nickname resolved at ingestion: "Caro" gives
        Caroline). Read from the store at the call.

        Args:
            name: an entity's name or alias.
            mentions: how many of the latest messages that name it to give (0 to 1,000).
            related: how many of the entities it comes up with most to give (0 to 1,000).

        Returns:
            None when no entity has that name, else a dict: ``name`` (as first seen),
            ``label`` (PERSON, GPE, ORG, WORK_OF_ART, ...), ``key``, ``aliases`` (``name`` and
            the ``reason`` they were merged), ``events`` and ``turns`` (how many it takes part
            in, per role: ``mention`` when named in the text, ``speaker``, ``addressee``),
            ``conversations`` (keys), ``first_seen`` and ``last_seen`` (in
            ``Settings.timezone``), ``related`` (``name``, ``label``, ``events`` shared, most
            first) and ``mentions`` (the latest messages naming it, oldest first: ``turn_id``,
            ``conversation``, ``session``, ``speaker``, ``text``, ``caption``, ``timestamp``,
            ``source_id``).

        Raises:
            InputError: an empty name or one with no letters or digits; ``mentions`` or
                ``related`` out of range.
        """
        self._check()
        from graphmem.entities import entity_profile

        return entity_profile(self._store, self._namespace, name, mentions=mentions, related=related, tz=self._zone())

    @_in_use
    @_names_damage
    def entities(self, *, label: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """The namespace's entities, those taking part in the most events first (an alias is
        listed under its canonical entity).

        Args:
            label: only entities of this kind (``"PERSON"``, ``"GPE"``, ...; any case).
            limit: the most entities given (1 to 1,000).

        Returns:
            Dicts of ``name``, ``label``, ``events`` (every role), ``mentions`` (events naming
            it in the text) and ``aliases`` (names).

        Raises:
            InputError: an unknown label or ``limit`` out of range.
        """
        self._check()
        from graphmem.entities import entity_list

        return entity_list(self._store, self._namespace, label=label, limit=limit)

    @_in_use
    @_names_damage
    def search(self, query: str, k: int = 10, unit: str = "turn", strategy: str = "auto", time_range: Any = None, *,
               speaker: str | None = None, conversation: str | None = None, session: str | None = None,
               as_of: Any = None, exclude: Any = None, metadata: Mapping[str, Any] | None = None) -> list[Hit]:
        """Find the memories most relevant to ``query``.

        Args:
            query: natural-language question or keywords.
            k: number of hits.
            unit: ``"turn"``, ``"event"``, ``"episode"`` or ``"session"``; evidence found at a
                finer unit counts for the unit holding it (an event for its turn, a turn for
                its session).
            strategy: ``"auto"`` (the router fuses lexical, dense, expansion, calendar and,
                when the query names entities, activation evidence over every granularity),
                ``"dense"`` (embedding similarity), ``"lexical"`` (BM25), ``"activation"``
                (spreading activation from the entities the query names and the top dense
                hits) or ``"expansion"`` (neighbours of the best hits, re-scored).
            time_range: ``(start, end)`` datetimes, dates or ISO 8601 strings (``None`` for an
                open end): only units whose time falls in the range are returned.
            speaker: only what this speaker said (case-insensitive); an episode or session
                qualifies when one of its turns is theirs.
            conversation: only this conversation (its key as ingested, ``Hit.conversation_id``).
            session: only sessions with this key (``Hit.session_key``). Filters combine, narrow
                every strategy and unit, and ``k`` hits come back whenever ``k`` units match.
            exclude: a node id or a list of them (``Hit.node_id``, ``AddReport.turn_ids``,
                :meth:`messages`'s ``turn_id``) not to return: the messages a prompt holds already,
                such as the one just added and the recent window. An excluded turn takes its
                events with it; its episode and session still come back through their other turns.
            metadata: only messages whose metadata (``add``'s ``metadata``, a JSONL line's) holds
                every ``key: value`` given (``{"user_id": "u42", "channel": "sms"}``); values are
                compared as stored, so ``"42"`` does not match ``42``, nor ``True`` ``1``.
            as_of: when the question is asked (datetime, date or ISO 8601 string; without an
                offset, a time in ``Settings.timezone``; default now). ``auto`` resolves the
                query's relative time expressions against it ("What did I do last Saturday?",
                "two weeks ago") and prefers the
                memories of those days; pass the time of the conversation when asking about
                a past one.

        Returns:
            Hits, best first, each with provenance, the strategy that produced it and an
            explanation (see :meth:`explain`).

        Raises:
            InputError: empty query, bad ``k``, unknown unit or strategy, bad time range or filter.

        Example:
            >>> hits = memory.search("Where did Mel go camping?", k=5, strategy="auto")   # doctest: +SKIP
            >>> print(memory.explain(hits[0]))                                          # doctest: +SKIP
        """
        self._check()
        tz = self._zone()
        validated = validate_query(query, k, unit, strategy, time_range, speaker=speaker, conversation=conversation,
                                   session=session, as_of=as_of, tz=tz, exclude=exclude, metadata=metadata)
        if not has_search_terms(query):
            logger.info("query %r has no word characters: no hits", query[:80])
            return []
        with self._lock:
            return self._service().search(validated, tz)

    @_in_use
    @_names_damage
    def context(self, query: str, k: int = 5, max_chars: int | None = CONTEXT_CHARS, **search: Any) -> str:
        """A prompt-ready text block of the memories relevant to ``query``, for an LLM.

        One numbered entry per hit, most relevant first: the date it was said, the speaker,
        the session and conversation, the source id (e.g. LoCoMo ``dia_id``) and, where its
        events carry a resolved time, when it happened; then the text on the next line.

        Args:
            query: natural-language question or keywords.
            k: number of memories.
            max_chars: the most characters of each memory's text given (default 1,000): a
                longer text (an assistant's essay, pasted code) is cut to its sentences and
                lines around the query's words, each cut marked ``…`` (see
                :func:`graphmem.hits.excerpt`). ``None`` gives every text whole.
            **search: passed to :meth:`search` (``unit``, ``strategy``, ``time_range``, filters).

        Returns:
            Plain text (no markup), ``"No memories found for: ..."`` when nothing matches.

        Example:
            >>> print(memory.context("When did Caroline go to the support group?", k=3))   # doctest: +SKIP
            Memories relevant to: When did Caroline go to the support group?
            (3 memories, most relevant first)
            [1] 2023-05-08 13:56 · Caroline · session 1 of conv-26 · source D1:3 · happened 2023-05-07
                I went to a LGBTQ support group yesterday and it was so powerful.
        """
        return context_text(query, self.search(query, k=k, **search), max_chars)

    @_in_use
    @_names_damage
    def recall(self, conversation: str, query: str | None = None, *, recent: int = RECENT_MESSAGES, k: int = 5,
               max_chars: int | None = CONTEXT_CHARS, **search: Any) -> str:
        """What an agent puts in its prompt before it answers in ``conversation``, in one call: the
        conversation's last ``recent`` messages, oldest first, then the ``k`` memories most relevant
        to ``query`` from the whole namespace (every conversation), none of them a message of that
        recent window, as :meth:`context` gives them.

        Args:
            conversation: the conversation the agent is in.
            query: what to recall for (default: the text of the conversation's latest message,
                such as the user's message just added).
            recent: how many of the latest messages to show (0: none, recall only).
            k: how many memories to recall.
            max_chars: the most characters of each message's and memory's text (see :meth:`context`).
            **search: passed to :meth:`search` (``strategy``, ``time_range``, ``metadata``,
                ``exclude``, ...).

        Returns:
            Plain text: a "Recent messages" block, a blank line, then :meth:`context`'s block.

        Raises:
            InputError: an empty conversation key, a bad ``recent``, no query and no message to
                take it from, or a bad search argument.

        Example:
            >>> memory.add({"role": "user", "content": text, "id": message_id}, conversation="chat-42")  # doctest: +SKIP
            >>> prompt_memory = memory.recall("chat-42")                                              # doctest: +SKIP
        """
        window, query, hits = recall_parts(self.messages, self.search, conversation, query, recent, k, max_chars, search)
        return recall_text(conversation, window, query, hits, max_chars, recent)

    @_names_damage
    def explain(self, hit: Hit) -> str:
        """Why ``hit`` was returned, as readable lines: the strategy and its score, each
        strategy's contribution, the route taken, seeds, edges and paths.

        Args:
            hit: a hit returned by :meth:`search`.

        Returns:
            Multi-line text.

        Raises:
            InputError: ``hit`` is not a :class:`Hit`.
        """
        if not isinstance(hit, Hit):
            raise InputError("explain() takes a Hit returned by search()")
        return explain_text(hit)

    @_in_use
    @_names_damage
    def stats(self) -> dict[str, Any]:
        """Counts of nodes per label, relationships per type and topics per granularity in this namespace."""
        self._check()
        params = {"namespace": self._namespace}
        nodes = {r["label"]: int(r["count"]) for r in self._store.read("read/count_nodes", params)}
        rels = {r["type"]: int(r["count"]) for r in self._store.read("read/count_relationships", params)}
        topics = {r["granularity"]: int(r["count"]) for r in self._store.read("read/count_topics", params)}
        return {
            "topics": dict(sorted(topics.items())),
            "store": self._store.describe(),
            "namespace": self._namespace,
            "nodes": dict(sorted(nodes.items())),
            "relationships": dict(sorted(rels.items())),
        }

    @_in_use
    @_names_damage
    def recluster(self) -> dict[str, int]:
        """Refit the GMM topics of every granularity on all stored units and replace the
        old Topic nodes atomically (one transaction). Returns topics per granularity."""
        self._check()
        from graphmem.ingest.clustering import ClusteringStage

        with self._lock:
            caches = self._service().caches
            stage = ClusteringStage(self._store, caches.index, caches.directory, self._namespace,
                                    batch_size=self._settings.write_batch_size)
            output = stage.recluster(self._embedder.dimension)
            self._store.write([*output.statements, caches.bump(())])  # topics only: no embedding changes
            stage.commit()
            self._writer = None
            caches.committed()  # topics feed the projection used by activation
        return {k.removeprefix("topics_"): v for k, v in output.counts.items() if k.startswith("topics_")}

    @_in_use
    def drop_namespace(self) -> int:
        """Delete every node of this namespace (and their relationships) and its caches.

        Other namespaces are untouched. Returns the number of nodes deleted.
        """
        self._check()
        from graphmem.changes import bump_if_present, marker_id

        deleted = 0
        with self._lock:
            # batches of 5,000 nodes, each bumping the change marker (other processes drop their caches
            # at their next query, not only once the marker goes); the marker goes last. A drop stopped
            # part way (a kill) leaves a namespace check names damaged; dropping again finishes it
            batch = {"namespace": self._namespace, "marker": marker_id(self._namespace), "limit": DROP_BATCH}
            while True:
                rows = self._store.write([("tally/delete_namespace_batch", batch), bump_if_present(self._namespace)])
                count = sum(int(row["deleted"]) for row in rows)
                deleted += count
                if count == 0:
                    break
            while True:
                rows = self._store.write_returning("forget/delete_namespace_batch", {"namespace": self._namespace, "limit": DROP_BATCH})
                count = int(rows[0]["deleted"]) if rows else 0
                deleted += count
                if count == 0:
                    break
            self._service().caches.drop()
            self._search = None
            self._writer = None
        logger.info("dropped namespace %r (%d nodes)", self._namespace, deleted)
        return deleted

    @_in_use
    @_names_damage
    def to_networkx(self, *, entity: str | None = None, episode: str | None = None, hit: Hit | None = None,
                    limit: int | None = None, conversation: str | None = None):
        """A subgraph as a ``networkx.MultiDiGraph``: around an entity (name or alias), an
        episode (node id), a conversation (its key: sessions and episodes), or the path behind a
        search hit (from its explanation).

        Exactly one of ``entity``, ``episode``, ``hit``, ``conversation`` must be given.
        ``limit`` bounds the events around an entity (default 50) or the episodes of a
        conversation (default 500).
        """
        self._check()
        from graphmem import explore

        if sum(x is not None for x in (entity, episode, hit, conversation)) != 1:
            raise InputError("give exactly one of entity=, episode=, conversation= or hit=")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise InputError(f"limit must be a positive integer, not {limit!r}")
        reject_lone_surrogates({"entity": entity, "episode": episode, "conversation": conversation}, "")
        if entity is not None:
            return explore.entity_graph(self._store, self._namespace, entity, limit or 50)
        if episode is not None:
            return explore.episode_graph(self._store, self._namespace, episode)
        if conversation is not None:
            return explore.conversation_graph(self._store, self._namespace, conversation, limit or 500)
        if not isinstance(hit, Hit):
            raise InputError(f"hit= takes a Hit from search(), not {type(hit).__name__}")
        key = hit.source_id or (hit.session_key if hit.unit == "session" else None)
        return explore.explanation_graph(hit.explanation, hit.node_id, f"{hit.unit} {key}" if key else hit.unit, hit.unit)

    @_in_use
    @_names_damage
    def show(self, *, entity: str | None = None, episode: str | None = None, hit: Hit | None = None,
             conversation: str | None = None, limit: int | None = None, height: int = 560):
        """An interactive view of a subgraph for Jupyter: pan, zoom, click a node for its properties.

        Takes the same selectors as :meth:`to_networkx` (exactly one of ``entity``, ``episode``,
        ``conversation``, ``hit``). Nodes are coloured by kind and edges labelled with their type;
        for a hit, the path that explains it is drawn in red from the seeds to the hit. Everything
        the browser needs ships in the package (no network).

        Args:
            entity: an entity name or alias.
            episode: an episode node id.
            hit: a search hit (its explanation is drawn).
            conversation: a conversation key.
            limit: at most this many events around an entity (default 50) or episodes of a
                conversation (default 500).
            height: the drawing's height in pixels.

        Returns:
            a :class:`graphmem.explore.widget.GraphWidget` (``.node_count``, ``.edge_count``,
            ``.save_html(path)``).

        Raises:
            InputError: no such entity, episode or conversation, or not exactly one selector.
            ConfigurationError: ``anywidget`` is not installed.

        Example:
            >>> memory.show(entity="Biscuit")   # doctest: +SKIP
        """
        if isinstance(height, bool) or not isinstance(height, int) or not 100 <= height <= 5000:
            raise InputError(f"height must be a number of pixels from 100 to 5000, not {height!r}")
        graph = self.to_networkx(entity=entity, episode=episode, hit=hit, limit=limit, conversation=conversation)
        from graphmem.explore import build_spec, hit_caption, view_title
        from graphmem.explore.widget import GraphWidget

        caption = hit_caption(hit) if hit is not None else None
        return GraphWidget(build_spec(self._store, self._namespace, graph, title=view_title(graph), height=height,
                                      caption=caption))

    @_in_use
    @_names_damage
    def forget(
        self,
        conversation: str | None = None,
        session: str | None = None,
        before: Any = None,
        namespace: str | None = None,
        *,
        turn: str | Iterable[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        refit_topics: bool = True,
    ) -> dict[str, int]:
        """Forget turns, and everything derived only from them, in one transaction.

        Every given criterion must hold: ``forget(conversation="c1")`` forgets a whole
        conversation, ``forget(conversation="c1", session="2")`` one of its sessions,
        ``forget(turn=hit.node_id)`` one message (or a list of turn ids),
        ``forget(metadata={"user_id": "u42"})`` every message whose metadata holds those pairs,
        ``forget(before="2024-01-01")`` everything said before that date (a turn's time is
        its timestamp, else its session's start; undated turns are kept), and the two
        combine.

        Removed: the turns; their events; episodes, sessions and conversations left
        empty (those that keep some turns are recomputed from them, so no forgotten word
        lives on in their text or embedding); every relationship of what is removed
        (associations, topic memberships, entity links); topics left without members;
        entities no remaining event involves, unless still a speaker, an alias still used,
        or the target of a remaining alias (which takes its place where no remaining event
        names it by its own name). The conversation order is closed over the
        gap. The namespace's saved caches (ANN, lexical, projection) are deleted first; this
        Memory's caches in memory follow the forget as they follow an add (the forgotten
        units leave the ANN indexes, their vectors overwritten; the next search re-reads the
        forgotten turns' sessions), and those of other processes catch up by the ids the
        forget logs. Then the topics: a granularity that lost a topic or more than a tenth
        of its units is refitted on what remains; one whose labels kept a word no remaining
        member has is relabelled in place (same topics, labels from what they hold); any
        other is left as it is. So a forgotten fact never comes back from :meth:`search`,
        and forgetting one message does not cost a refit.

        Args:
            conversation: conversation key as ingested (e.g. a LoCoMo ``sample_id``).
            session: session key within ``conversation``.
            before: a :class:`~datetime.datetime`, :class:`~datetime.date` or ISO 8601 text.
            namespace: forget in this namespace instead of this Memory's (an explicit,
                administrative choice: every statement is scoped to it and its caches are
                the ones deleted; this Memory's own namespace is untouched).
            turn: a turn id or a list of them (``Hit.node_id``, ``AddReport.turn_ids``).
            metadata: a mapping the messages' metadata must hold, every pair (values compared as
                :meth:`search`'s ``metadata`` filter compares them); not empty.
            refit_topics: update the topics afterwards, as above (a second transaction;
                without it, topic labels may still show words of forgotten turns until
                :meth:`recluster`).

        Returns:
            Counts: ``turns``, ``events``, ``episodes``, ``sessions``, ``conversations``,
            ``entities``, ``topics`` removed; ``episodes_updated``, ``sessions_updated``
            recomputed; ``topics_refitted`` (topics of the granularities refitted, counted
            after the refit) and ``topics_relabelled``.

        Raises:
            InputError: nothing chosen, a session without its conversation, a bad date.
            ConfigurationError: a bad namespace.
            StorageError: the store failed; nothing was forgotten.

        Example:
            >>> memory.forget(conversation="garden-chat", session="2")     # doctest: +SKIP
            {'turns': 4, 'events': 4, 'episodes': 1, 'sessions': 1, ...}
        """
        self._check()
        target = self._namespace if namespace is None else validate_namespace(namespace)
        selection = ForgetSelection.of(conversation, session, before,
                                       turns=list(turn) if isinstance(turn, Iterable) and not isinstance(turn, str) else turn,  # (an int: named)
                                       tz=namespace_zone(self._store, target, self._settings.tz), metadata=metadata)
        with _namespace_lock(self._store, target):
            for attempt in range(1, MAX_CONFLICTS + 1):
                # the plan is written only if nothing was committed since it read the store (another
                # process's add to a session it deletes, a correction of a turn it forgets: over Bolt)
                expected = read_version(self._store, target)
                plan = plan_forget(self._store, target, selection, self._settings.write_batch_size)
                counts = dict(plan.counts, topics_refitted=0, topics_relabelled=0)
                if plan.empty:
                    return counts
                try:
                    caches = self._write_forget(target, plan, guard(target, expected))
                    break
                except WriteConflict as exc:  # (any other failure wrote nothing either, and is raised)
                    if attempt == MAX_CONFLICTS:
                        raise WriteConflict(f"forget in {target!r}: other writers committed first {attempt} times in a row; "
                                            "nothing was forgotten: ask again") from exc
                    logger.info("forget in %r: attempt %d refused (%s); planning again", target, attempt, exc)
                    time.sleep(0.01 * min(attempt, 8))
            if target == self._namespace:
                self._writer = None  # its kept entities and topics may name what was removed
            if refit_topics:
                counts.update(self._topics_after_forget(target, plan, caches))
        logger.info("forgot in namespace %r: %s", target, counts)
        return counts

    def _write_forget(self, target: str, plan: ForgetPlan, guarded: Statement) -> NamespaceCaches | None:
        """Write a forget's plan behind its guard; returns the caches that followed it (``None``:
        the saved caches were dropped instead)."""
        # a large forget (more units than a marker entry lists) rebuilds every cache, here as elsewhere
        small = len(plan.removed) + sum(len(ids) for ids, _ in plan.replaced.values()) <= MAX_LOGGED_IDS
        caches = self._search.caches if target == self._namespace and self._search is not None and small else None
        if caches is None:
            # saved caches go before the transaction too: a crash right after its commit
            # must not leave caches that still list forgotten units
            self._drop_caches(target)
            self._store.write([guarded, *plan.statements, bump(target)])
            self._drop_caches(target)
            return None
        # this process's caches follow the forget as they follow an add: the forgotten units leave
        # the ANN indexes (their vectors overwritten), the recomputed episodes and sessions are
        # replaced, and the next search re-reads the forgotten turns' sessions only; the saved
        # copies are deleted first, as above
        caches.delete_saved()
        scope = session_scope(plan.statements, plan.sessions)
        self._store.write([guarded, *plan.statements, caches.bump([*plan.removed, *(i for ids, _ in plan.replaced.values() for i in ids)],
                                                                  scope=scope)])
        caches.committed(plan.replaced, save=False, scope=scope, removed=plan.removed)
        return caches

    def _stored_damage(self) -> dict[str, list[str]]:
        """The namespace's stored values of another type than the schema's, and turns in two places
        at once (empty when they cannot be read)."""
        try:
            return {**property_problems(self._store, self.namespace), **structure_problems(self._store, self.namespace)}
        except Exception:  # noqa: BLE001 - the operation's own error is the one to raise then
            logger.debug("could not look for damaged values in %r", self.namespace, exc_info=True)
            return {}

    @_in_use
    def check(self, namespace: str | None = None) -> IntegrityReport:
        """Check the integrity of this namespace (or ``namespace``); rebuild stale caches.

        The graph is only read: orphans (events without their turn, turns without a
        session or episode, empty episodes, sessions or conversations, topics without
        members, entities nothing refers to), duplicate ids and relationships into other
        namespaces are reported. Every ANN index entry is compared with the stored nodes
        and embeddings; caches that disagree are deleted and rebuilt from the store.

        Returns:
            An :class:`~graphmem.check.IntegrityReport`; ``report.ok`` is True when the
            graph has no problem.
        """
        self._check()
        target = self._namespace if namespace is None else validate_namespace(namespace)
        with _namespace_lock(self._store, target):
            if self._search is not None:
                self._search.caches.flush()  # live adds save their index entries lazily
            report = check_integrity(self._store, target, self._settings)
            if (report.rebuilt or report.caches_rebuilt) and target == self._namespace:
                self._search = None  # its in-memory copies were read from the old caches
        return report

    def _drop_caches(self, namespace: str) -> None:
        if namespace == self._namespace and self._search is not None:
            self._search.caches.drop()
            self._search = None
        shutil.rmtree(self._store.cache_dir(namespace_slug(namespace)), ignore_errors=True)

    def _topics_after_forget(self, namespace: str, plan: ForgetPlan, caches: NamespaceCaches | None) -> dict[str, int]:
        """Refit or relabel the topics a forget left with forgotten words or without a fit
        (:meth:`ClusteringStage.after_forget`), in a second transaction; returns its counts."""
        removed = {"turn": plan.counts["turns"], "event": plan.counts["events"], "episode": plan.counts["episodes"],
                   "session": plan.counts["sessions"]}
        return self._relabel_topics(namespace, plan.texts, caches, removed)

    def _relabel_topics(self, namespace: str, texts: list[str], caches: NamespaceCaches | None, removed: dict[str, int],
                        *, refit: bool = True) -> dict[str, int]:
        """:meth:`ClusteringStage.after_forget` for the words of ``texts`` (forgotten, or replaced
        by a correction: ``refit`` False, nothing ``removed``), written in a transaction of its own."""
        from graphmem.ingest.clustering import ClusteringStage

        speakers = tuple(sorted({name for r in self._store.read("forget/conversation_speakers", {"namespace": namespace})
                                 for name in r.get("speakers") or () if isinstance(name, str)}))
        # scikit-learn is imported only if a topic is refitted or relabelled (most forgets do neither)
        stage = ClusteringStage(self._store, lambda unit: None, self._store.cache_dir(namespace_slug(namespace)),
                                namespace, batch_size=self._settings.write_batch_size, preload=False)
        output = stage.after_forget(removed, text_terms(texts), speakers, refit=refit)
        if output.statements:
            scope = session_scope(output.statements, ())
            self._store.write([*output.statements, writer_bump(namespace, caches, (), scope)])  # topics only
            stage.commit()
            if caches is not None:
                caches.committed(save=False, scope=scope)
        return {k: output.counts[k] for k in ("topics_refitted", "topics_relabelled")}

    def _refit_topics(self, namespace: str) -> int:
        """Refit every granularity's topics of ``namespace`` on its stored units; returns topics."""
        from graphmem.ingest.clustering import ClusteringStage

        rows = self._store.read("forget/embedding_dimension", {"namespace": namespace})
        if not rows:
            return 0
        stage = ClusteringStage(self._store, lambda unit: None, self._store.cache_dir(namespace_slug(namespace)),
                                namespace, batch_size=self._settings.write_batch_size)
        output = stage.recluster(int(rows[0]["dimension"]))
        self._store.write([*output.statements, bump(namespace, changed=())])  # topics only
        stage.commit()
        return sum(v for k, v in output.counts.items() if k.startswith("topics_"))

    @_in_use
    def cypher(self, query: str, params: Mapping[str, Any] | None = None, *, write: bool = False,
               timeout: float | None = None) -> list[dict[str, Any]]:
        """Run Cypher against the store, with parameters; read-only unless ``write``.

        ``$namespace`` is set to this Memory's namespace unless given. A ``write`` also bumps
        this Memory's namespace's change marker (when it has one) in the same transaction,
        saying it cannot tell what changed: every process, this one included, rebuilds that
        namespace's caches before its next search (a write to other namespaces is not noticed
        there).

        ``timeout`` is the query's time limit in seconds (``None``: ``Settings.cypher_timeout``,
        30 s by default; ``0``: none). A query that runs longer is stopped and raises
        :class:`~graphmem.errors.QueryTimeoutError`; what it wrote is rolled back.

        Raises:
            QueryTimeoutError: the query ran past its time limit (the message names the limit
                and how to raise it).
            InputError: a parameter the query uses is missing (``missing parameter $x``), or
                the query writes and ``write`` is False (nothing is changed).
            InputError: also a syntax error or an unknown function (the query's fault).
            StorageError: the database refused the query otherwise (a one-line message, no Java names).
        """
        self._check()
        if not isinstance(query, str):
            raise InputError(f"query: expected Cypher text, got {type(query).__name__}")
        if params is not None and not isinstance(params, Mapping):
            raise InputError(f"params: expected a mapping of parameter names to values, got {type(params).__name__}")
        if timeout is None:
            timeout = self._settings.cypher_timeout
        elif isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 <= timeout < float("inf"):
            raise InputError(f"timeout: expected a number of seconds (0 for no limit), got {timeout!r}")
        reject_lone_surrogates(query, "query")
        reject_lone_surrogates(dict(params or {}), "params")
        merged = {"namespace": self._namespace, **(params or {})}
        if not write:
            return self._store.run_cypher(query, merged, timeout=timeout)
        with self._lock:
            rows = self._store.run_cypher(query, merged, write=True, then=[bump_if_present(self._namespace)], timeout=timeout)
            self._writer = None  # its kept entities and topic models may no longer be the store's
        return rows

    # ------------------------------------------------------------------ moving a memory
    @_in_use
    @_names_damage
    def export(self, path: str | os.PathLike[str], *, all_namespaces: bool = False, progress: Any = None) -> "DumpSummary":
        """Write this namespace (or every namespace of the store) to a dump file.

        The dump is gzip JSON Lines: a header (format version, graphmem version, embedding
        model and dimension, namespaces), every node and relationship with every property
        (embeddings and earlier versions of corrected turns included), and a trailer with
        counts and a checksum (see ``schemas/dump.schema.json``). It is read from the store
        in pages, so memory use does not grow with the memory; the file appears only when
        complete.

        Args:
            path: the dump file to write (``.jsonl.gz`` by convention).
            all_namespaces: dump every namespace of the store, not only this Memory's.
            progress: ``progress("export", nodes done, total nodes)`` callback.

        Returns:
            A :class:`~graphmem.dump.DumpSummary` (nodes, relationships, counts, seconds).

        Raises:
            StorageError: a namespace holds a node label or relationship type a dump cannot carry.
            InputError: ``path`` cannot be written.

        Example:
            >>> memory.export("alice.jsonl.gz")                                    # doctest: +SKIP
            DumpSummary(namespaces=['alice'], nodes=5103, relationships=20417, ...)
        """
        self._check()
        from graphmem.check import namespaces as stored_namespaces
        from graphmem.dump import export_dump

        targets = stored_namespaces(self._store) if all_namespaces else [self._namespace]
        return export_dump(self._store, path, targets, embedding_model=self._settings.embedding_model,
                           page_size=min(self._settings.write_batch_size, 1000), progress=progress)

    @_in_use
    def import_dump(self, path: str | os.PathLike[str], *, namespace: str | None = None, reembed: bool = False,
                    progress: Any = None) -> "DumpSummary":
        """Write a dump file (from :meth:`export` or ``graphmem export``) into this store.

        The whole file is checked first (every line's crc32, the records against the
        allow-list of labels and relationship types, the trailer's counts and checksum): a
        truncated, edited or damaged file raises :class:`InputError` naming the line and
        stores nothing. Then it is written in batches, each in one transaction, merging on
        ids: importing the same dump twice changes nothing. The namespaces' derived caches
        are deleted, to be rebuilt from the store at the next search; a namespace left with
        two topic models of a granularity (the dump's beside its own) has its topics refitted.

        Args:
            path: the dump file.
            namespace: write the dump (of one namespace) into this namespace instead; ids are
                derived anew for it, so it can live beside the original in one store.
            reembed: embed turn and event texts again with this Memory's model (episode and
                session vectors are recomputed from them, topics refitted); required when
                the dump was made with another model or dimension.
            progress: ``progress(stage, done, total)`` callback (stages ``check``, ``import``).

        Returns:
            A :class:`~graphmem.dump.DumpSummary` of what was written.

        Raises:
            InputError: the file is damaged, truncated, edited or not a graphmem dump.
            ConfigurationError: another embedding model or dimension without ``reembed`` (the
                dump's name for it, or the identity its namespaces carry), or a target namespace
                that holds another model's vectors (nothing written).
            StorageError: the store failed; batches already committed stay (import again to complete).
        """
        self._check()
        from graphmem.dump import import_dump

        if namespace is not None:
            validate_namespace(namespace)
        summary = import_dump(self._store, path, embedding_model=self._settings.embedding_model, embed=self._embedder.encode,
                              namespace=namespace, reembed=reembed, batch_size=self._settings.write_batch_size,
                              progress=progress, identity=identity_of(self._embedder))
        self._after_import(summary.namespaces, reembed)
        return summary

    @_in_use
    @_names_damage
    def copy_to(self, target: "Memory", *, all_namespaces: bool = False, namespace: str | None = None,
                progress: Any = None) -> "DumpSummary":
        """Copy this namespace (or every namespace) into ``target``'s store, with no file in between.

        The same as :meth:`export` followed by ``target.import_dump(...)``: merged on ids,
        so copying twice changes nothing; ``namespace`` renames a single namespace on the way.

        Raises:
            ConfigurationError: ``target`` uses another embedding model (by name, or other weights
                under the same name), or a namespace of either store holds another model's vectors
                than ``target``'s.
            InputError: a turn would take the position of another turn stored in the target
                namespace (another conversation under the same key); nothing is written.
        """
        self._check()
        from graphmem.check import namespaces as stored_namespaces
        from graphmem.dump import copy_namespaces

        target._enter()  # a call in flight of the target's too: its close waits for the copy
        try:
            if target._settings.embedding_model != self._settings.embedding_model:
                raise ConfigurationError(f"the target memory uses {target._settings.embedding_model!r}, this one "
                                         f"{self._settings.embedding_model!r}: export, then import with reembed=True")
            configured = identity_of(target._embedder)
            if not identity_of(self._embedder).same_model(configured):
                raise ConfigurationError(f"the target memory's embedding model {configured.model!r} gives other vectors than "
                                         f"this one's of the same name (other weights): export, then import with reembed=True")
            if namespace is not None:
                validate_namespace(namespace)
            sources = stored_namespaces(self._store) if all_namespaces else [self._namespace]
            summary = copy_namespaces(self._store, target._store, sources, embedding_model=self._settings.embedding_model,
                                      namespace=namespace, page_size=min(self._settings.write_batch_size, 1000),
                                      batch_size=target._settings.write_batch_size, progress=progress, identity=configured)
            target._after_import(summary.namespaces, False)
        finally:
            target._leave()
        return summary

    def _after_import(self, namespaces: Iterable[str], reembed: bool) -> None:
        """Drop the derived caches of imported namespaces (rebuilt at the next search); record
        this Memory's model as the embedding model of re-embedded ones and of ones without an
        identity (the import checked that the dump's vectors are this model's); refit topics of
        re-embedded ones (their models were fitted on the old vectors) and of ones
        the import left with two topic models of a granularity (it merged a dump's topics into a
        namespace that had fitted its own: two topics at one index, two ``model_state``)."""
        configured = identity_of(self._embedder)
        for target in namespaces:
            with _namespace_lock(self._store, target):
                if (reembed or stored_identity(self._store, target) is None) and holds_embeddings(self._store, target):
                    self._store.write(record_identity_statements(target, configured))
                self._drop_caches(target)
                if target == self._namespace:
                    self._writer = None  # the live writer's kept entities and topics predate the import
                if reembed or self._store.read("check/topics_off_their_granularity", {"namespace": target}):
                    self._refit_topics(target)


def warm_up(store: GraphStore, settings: Settings) -> None:
    """Load what the first search or add would otherwise load, now: the embedding model (with
    its first encode), the language pipeline and topic fitting's scikit-learn, and run the
    store's first query (its query engine's classes load and compile: one read of a marker no
    namespace has took the first add from 0.53-0.57 s to 0.36-0.38 s). ``graphmem serve`` and
    :meth:`AsyncMemory.open` call it, so no request or first turn waits for them.

    Raises:
        GraphmemError: the model or the pipeline cannot be loaded, or the store cannot be read.
    """
    from graphmem.ingest.events import load_writer_models

    Embedder.from_settings(settings).encode(["warm up"])
    load_writer_models(settings.spacy_model)
    store.read("read/change_marker", {"namespace": "", "id": ""})


def _open_warm(location: Any, namespace: str, **kwargs: Any) -> Memory:
    """:meth:`Memory.open`, then :func:`warm_up` (AsyncMemory's worker runs it). A warm-up that
    fails is logged and left to the first call that needs what it loads, which raises as before
    (a memory whose model cannot be loaded still lists its messages)."""
    memory = Memory.open(location, namespace, **kwargs)
    try:
        warm_up(memory.store, memory.settings)
    except GraphmemError:
        logger.warning("could not warm up %r: the first call that needs the model will load it", memory, exc_info=True)
    except BaseException:  # (a stop while loading): the store opened is not left locked
        memory.close()
        raise
    return memory


def _close_opened(opening: Any) -> None:
    """The done-callback of an :meth:`AsyncMemory.open` whose awaiting was cancelled: the Memory it
    opened has no owner, so it is closed (its embedded store stayed locked by the process)."""
    if not opening.cancelled() and opening.exception() is None:
        opening.result().close()


class AsyncMemory:
    """:class:`Memory` for asyncio agents: the same methods, awaited.

    Every call runs on one worker thread of its own, so the event loop is not blocked by
    embedding, extraction or the store, and calls run in the order they were awaited. :meth:`open`
    loads the models there too; their imports and the JVM's start hold the GIL, so the loop
    stalls (up to about half a second at a time) during a process's first open, not its first add.

    Example:
        >>> async def main():                                                       # doctest: +SKIP
        ...     memory = await AsyncMemory.open("/tmp/my-memory", namespace="alice")
        ...     await memory.add({"role": "user", "content": "I moved to Lyon."}, conversation="chat")
        ...     hits = await memory.search("Where do I live?")
        ...     await memory.close()
    """

    def __init__(self, memory: Memory) -> None:
        import concurrent.futures

        self._memory = memory
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="graphmem")
        self._closed = False
        self._closing: concurrent.futures.Future[None] | None = None
        self._close_lock = threading.Lock()

    @classmethod
    async def open(cls, location: str | os.PathLike[str] | None = None, namespace: str = "default", **kwargs: Any) -> "AsyncMemory":
        """Open a memory (see :meth:`Memory.open`) and warm it up (:func:`warm_up`: the embedding
        model, language pipeline and the store's first query), both on the worker thread, so the
        first add or search does not load them."""
        wrapper = cls.__new__(cls)
        import concurrent.futures

        import asyncio

        wrapper._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="graphmem")
        wrapper._closed = False
        wrapper._closing = None
        wrapper._close_lock = threading.Lock()
        # the model, language pipeline and store's first query load here, on the worker thread, not
        # in the user's first add or search; imports hold the GIL (see the README's AsyncMemory)
        opening = wrapper._executor.submit(_open_warm, location, namespace, **kwargs)
        try:
            wrapper._memory = await asyncio.shield(asyncio.wrap_future(opening))
        except asyncio.CancelledError:  # (a timeout): a store the open goes on to open is closed, not left locked
            opening.add_done_callback(_close_opened)
            wrapper._executor.shutdown(wait=False)
            raise
        except BaseException:
            wrapper._executor.shutdown(wait=False)
            raise
        return wrapper

    async def _run(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        import asyncio
        import functools

        try:
            future = asyncio.get_running_loop().run_in_executor(self._executor, functools.partial(function, *args, **kwargs))
        except RuntimeError:  # "cannot schedule new futures after shutdown"
            if self._closed:
                raise ClosedError("this AsyncMemory is closed; use AsyncMemory.open(...)") from None
            raise
        return await future

    @property
    def memory(self) -> Memory:
        """The wrapped :class:`Memory` (its calls block)."""
        return self._memory

    @property
    def namespace(self) -> str:
        """The tenant this memory reads and writes."""
        return self._memory.namespace

    async def add(self, messages: Any, **kwargs: Any) -> AddReport:
        """:meth:`Memory.add`."""
        return await self._run(self._memory.add, messages, **kwargs)

    async def ingest(self, source: Any, *args: Any, **kwargs: Any) -> IngestReport:
        """:meth:`Memory.ingest`."""
        return await self._run(self._memory.ingest, source, *args, **kwargs)

    async def search(self, query: str, *args: Any, **kwargs: Any) -> list[Hit]:
        """:meth:`Memory.search`."""
        return await self._run(self._memory.search, query, *args, **kwargs)

    async def explain(self, hit: Hit) -> str:
        """:meth:`Memory.explain`."""
        return await self._run(self._memory.explain, hit)

    async def history(self, turn_id: str) -> list[dict[str, Any]]:
        """:meth:`Memory.history`."""
        return await self._run(self._memory.history, turn_id)

    async def messages(self, conversation: str, **kwargs: Any) -> list[dict[str, Any]]:
        """:meth:`Memory.messages`."""
        return await self._run(self._memory.messages, conversation, **kwargs)

    async def correct(self, turn_id: str, *args: Any, **kwargs: Any) -> AddReport:
        """:meth:`Memory.correct`."""
        return await self._run(self._memory.correct, turn_id, *args, **kwargs)

    async def entity(self, name: str, **kwargs: Any) -> dict[str, Any] | None:
        """:meth:`Memory.entity`."""
        return await self._run(self._memory.entity, name, **kwargs)

    async def entities(self, **kwargs: Any) -> list[dict[str, Any]]:
        """:meth:`Memory.entities`."""
        return await self._run(self._memory.entities, **kwargs)

    async def forget(self, *args: Any, **kwargs: Any) -> dict[str, int]:
        """:meth:`Memory.forget`."""
        return await self._run(self._memory.forget, *args, **kwargs)

    async def stats(self) -> dict[str, Any]:
        """:meth:`Memory.stats`."""
        return await self._run(self._memory.stats)

    async def check(self, *args: Any, **kwargs: Any) -> IntegrityReport:
        """:meth:`Memory.check`."""
        return await self._run(self._memory.check, *args, **kwargs)

    async def recluster(self) -> dict[str, int]:
        """:meth:`Memory.recluster`."""
        return await self._run(self._memory.recluster)

    async def cypher(self, query: str, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        """:meth:`Memory.cypher`."""
        return await self._run(self._memory.cypher, query, *args, **kwargs)

    async def to_networkx(self, **kwargs: Any) -> Any:
        """:meth:`Memory.to_networkx`."""
        return await self._run(self._memory.to_networkx, **kwargs)

    async def export(self, path: str | os.PathLike[str], **kwargs: Any) -> "DumpSummary":
        """:meth:`Memory.export`."""
        return await self._run(self._memory.export, path, **kwargs)

    async def import_dump(self, path: str | os.PathLike[str], **kwargs: Any) -> "DumpSummary":
        """:meth:`Memory.import_dump`."""
        return await self._run(self._memory.import_dump, path, **kwargs)

    async def show(self, **kwargs: Any) -> Any:
        """:meth:`Memory.show`."""
        return await self._run(self._memory.show, **kwargs)

    async def copy_to(self, target: "Memory | AsyncMemory", **kwargs: Any) -> "DumpSummary":
        """:meth:`Memory.copy_to` (``target`` a Memory or an AsyncMemory)."""
        return await self._run(self._memory.copy_to, target.memory if isinstance(target, AsyncMemory) else target, **kwargs)

    async def timezone(self) -> str:
        """:meth:`Memory.timezone`."""
        return await self._run(self._memory.timezone)

    async def set_timezone(self, name: str | None) -> str:
        """:meth:`Memory.set_timezone`."""
        return await self._run(self._memory.set_timezone, name)

    async def context(self, query: str, *args: Any, **kwargs: Any) -> str:
        """:meth:`Memory.context`."""
        return await self._run(self._memory.context, query, *args, **kwargs)

    async def recall(self, conversation: str, *args: Any, **kwargs: Any) -> str:
        """:meth:`Memory.recall`."""
        return await self._run(self._memory.recall, conversation, *args, **kwargs)

    async def drop_namespace(self) -> int:
        """:meth:`Memory.drop_namespace`."""
        return await self._run(self._memory.drop_namespace)

    async def close(self) -> None:
        """Close the memory and its worker thread, after the calls already awaited. Idempotent; every
        caller returns once it is closed. A cancelled close (a timeout) still closes it, and never
        blocks the event loop."""
        import asyncio

        with self._close_lock:  # (closes from two threads at once: one submits, both wait for it)
            if self._closing is None:
                self._closed = True
                self._closing = self._executor.submit(self._memory.close)  # runs even if this await is cancelled
                self._executor.shutdown(wait=False)  # (the worker ends after it; the loop never waits on it)
            closing = self._closing
        await asyncio.shield(asyncio.wrap_future(closing))

    async def __aenter__(self) -> "AsyncMemory":
        if self._closed:
            raise ClosedError("this AsyncMemory is closed; use AsyncMemory.open(...)")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
