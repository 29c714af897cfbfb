"""One store, many namespaces: the object a server process serves from."""

from __future__ import annotations

import logging
import os
import threading
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping, Sequence

from graphmem.check import namespaces as stored_namespaces
from graphmem.errors import ClosedError, InputError
from graphmem.memory import Memory, validate_namespace
from graphmem.records import ConversationRecord, SessionRecord, TurnRecord
from graphmem.settings import Settings
from graphmem.store import GraphStore, open_store

__all__ = ["MemoryHub", "MAX_MESSAGES"]

logger = logging.getLogger(__name__)

MAX_MESSAGES = 1000
"""Most messages one ``add`` call takes (a bigger batch is an ingest: upload a file)."""


class MemoryHub:
    """One open graph store and one :class:`Memory` per namespace, opened on first use.

    Every Memory shares the store object (the embedded store belongs to one process; a Bolt
    store shares one driver). Memory objects of one namespace already take turns through
    the namespace lock of :mod:`graphmem.memory`; the HTTP layer adds its own per-namespace
    queue so that waiting writers do not each hold a worker thread.

    Args:
        store: an open store; the hub closes it in :meth:`close`.
        settings: settings for every Memory.
    """

    def __init__(self, store: GraphStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._memories: dict[str, Memory] = {}
        self._writers: dict[str, threading.RLock] = {}
        self._guard = threading.Lock()
        self._closed = False

    @classmethod
    def open(cls, location: str | os.PathLike[str], settings: Settings | None = None, *,
             auth: tuple[str, str] | None = None, database: str | None = None) -> "MemoryHub":
        """Open the store at ``location`` (a directory or a Bolt URI) and return a hub over it.

        Raises:
            ConfigurationError: a bad location.
            StorageError: the store cannot be opened (e.g. an embedded store another process holds).
        """
        settings = settings or Settings.from_env()
        return cls(open_store(location, settings, auth=auth, database=database), settings)

    def describe(self) -> str:
        """Where the store is, e.g. ``embedded:/srv/memory``."""
        return self.store.describe()

    def memory(self, namespace: str) -> Memory:
        """The Memory of ``namespace`` (opened on first use, kept until :meth:`close`).

        Raises:
            ConfigurationError: a bad namespace.
            ClosedError: the hub is closed.
        """
        validate_namespace(namespace)
        with self._guard:
            if self._closed:
                raise ClosedError("the server is shutting down")
            memory = self._memories.get(namespace)
            if memory is None:
                memory = self._memories[namespace] = Memory.attach(self.store, namespace, self.settings)
            return memory

    def write_lock(self, namespace: str) -> threading.RLock:
        """The lock writes to ``namespace`` take, whichever front end (HTTP, MCP) they come from."""
        with self._guard:
            return self._writers.setdefault(namespace, threading.RLock())

    def warm_up(self) -> None:
        """Load the embedding model now, so the first request does not wait for it."""
        from graphmem.embed import Embedder

        Embedder(self.settings.embedding_model, self.settings.embedding_batch_size, self.settings.embedding_device).encode(["warm up"])

    def exists(self, namespace: str) -> bool:
        """Whether ``namespace`` holds any conversation (one indexed lookup)."""
        validate_namespace(namespace)
        return bool(self.store.read("server/namespace_exists", {"namespace": namespace}))

    def namespaces(self) -> list[str]:
        """Every namespace holding a node (a scan of the store)."""
        return sorted(stored_namespaces(self.store))

    def add(self, namespace: str, messages: Sequence[Mapping[str, Any]], *, conversation: str,
            session: str | None = None, session_started_at: str | None = None) -> dict[str, Any]:
        """Add ``messages`` to ``conversation`` in ``namespace``; returns the report as a dict.

        Raises:
            InputError: bad messages (the message names which and why); nothing is stored.
        """
        memory = self.memory(namespace)
        if not isinstance(messages, (list, tuple)) or not messages:
            raise InputError("messages: expected a non-empty list of messages")
        if len(messages) > MAX_MESSAGES:
            raise InputError(f"messages: {len(messages)} messages in one call; at most {MAX_MESSAGES} (upload a file to ingest more)")
        with self.write_lock(namespace):  # an add plans from what its session holds: one at a time
            if hasattr(memory, "add"):
                report = memory.add(list(messages), conversation=conversation, session=session,  # type: ignore[attr-defined]
                                    session_started_at=session_started_at)
                return report.to_dict()
            return _add_by_ingest(memory, messages, conversation, session, session_started_at)

    def close(self) -> None:
        """Close every Memory, then the store. Idempotent."""
        with self._guard:
            if self._closed:
                return
            self._closed = True
            memories, self._memories = list(self._memories.values()), {}
        for memory in memories:
            memory.close()
        self.store.close()
        logger.info("closed %s", self.store.describe())


# --------------------------------------------------------------------------------------
# TEMPORARY: until Memory.add lands (it is being written in parallel), POST messages and the
# MCP add_memory tool append messages by rebuilding their session from the stored turns plus
# the new messages and ingesting that record (stored turns keep their ids and are skipped).
# MemoryHub.add uses this only when Memory has no ``add``; delete it once it has.
# --------------------------------------------------------------------------------------
def _text_field(message: Mapping[str, Any], names: tuple[str, ...], where: str, required: bool = True) -> str | None:
    for name in names:
        value = message.get(name)
        if value is not None:
            if not isinstance(value, str) or (required and not value.strip()):
                raise InputError(f"{where}.{name}: expected a non-empty string")
            return value
    if required:
        raise InputError(f"{where}: missing {' or '.join(repr(n) for n in names)}")
    return None


def _when(value: Any, where: str) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InputError(f"{where}: expected an ISO 8601 date or time")
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise InputError(f"{where}: {value!r} is not an ISO 8601 date or time") from exc


def _add_by_ingest(memory: Memory, messages: Sequence[Mapping[str, Any]], conversation: str, session: str | None,
                   session_started_at: str | None) -> dict[str, Any]:
    if not isinstance(conversation, str) or not conversation.strip():
        raise InputError("conversation: expected a non-empty string")
    session_key = session if session is not None else "1"
    if not isinstance(session_key, str) or not session_key.strip():
        raise InputError("session: expected a non-empty string")
    started = _when(session_started_at, "session_started_at")
    new_turns = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, Mapping):
            raise InputError(f"{where}: expected an object with 'speaker' (or 'role') and 'text' (or 'content')")
        speaker = _text_field(message, ("speaker", "role"), where)
        text = _text_field(message, ("text", "content"), where)
        source_id = _text_field(message, ("id",), where, required=False)
        new_turns.append(TurnRecord(speaker=speaker, text=text, source_id=source_id,  # type: ignore[arg-type]
                                    timestamp=_when(message.get("timestamp"), f"{where}.timestamp")))
    store, params = memory.store, {"namespace": memory.namespace, "conversation": conversation}
    sessions = {r["key"]: r for r in store.read("server/conversation_sessions", params)}
    stored = store.read("server/session_turns", dict(params, session=session_key))
    old_turns = [TurnRecord(speaker=r["speaker"], text=r["text"], source_id=r.get("source_id"), caption=r.get("caption"),
                            timestamp=_when(r.get("timestamp"), "stored turn")) for r in stored]
    if session_key in sessions:
        number = int(sessions[session_key]["number"])
        started = _when(sessions[session_key].get("started_at"), "stored session") or started
    elif session_key.isdigit() and int(session_key) not in {int(s["number"]) for s in sessions.values()}:
        number = int(session_key)
    else:
        number = max((int(s["number"]) for s in sessions.values()), default=0) + 1
    turns = tuple(old_turns + new_turns)
    record = ConversationRecord(key=conversation, sessions=(SessionRecord(key=session_key, number=number, started_at=started, turns=turns),),
                                speakers=tuple(dict.fromkeys(t.speaker for t in turns)), source="server")
    report = memory.ingest(record)
    return {"conversation": conversation, "session": session_key, "messages": len(new_turns),
            "turns_added": report.turns_added, "seconds": round(report.seconds, 4), "via": "ingest"}
