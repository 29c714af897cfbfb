"""One store, many namespaces: the object a server process serves from."""

from __future__ import annotations

import logging
import os
import threading
from typing import Any, Callable, Mapping, Sequence, TypeVar

from graphmem.errors import ClosedError, InputError
from graphmem.memory import Memory, validate_namespace, warm_up
from graphmem.namespace_settings import stored_timezone, timezone_in_force
from graphmem.timezones import zone_name
from graphmem.settings import Settings
from graphmem.store import GraphStore, open_store

_T = TypeVar("_T")

__all__ = ["MemoryHub", "MAX_MESSAGES"]

logger = logging.getLogger(__name__)

MAX_MESSAGES = 1000
"""Most messages one ``add`` call takes (a bigger batch is an ingest: upload a file)."""
MAX_KEY = 1024
"""The longest key, speaker or message id a request may give."""
MAX_METADATA = 100
"""The most metadata pairs a request may give."""
MAX_FORGET_TURNS = 1000
"""The most turn ids one forget request names."""


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

    def run(self, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """``fn(*args, **kwargs)`` in a worker thread of the server, which then lets go of what
        the store keeps for the thread (:meth:`GraphStore.thread_done`) while it waits idle: the
        server's thread pool keeps idle threads for 10 s (a thread that ends detaches by itself;
        attaching again at the thread's next call takes 0.06 ms)."""
        try:
            return fn(*args, **kwargs)
        finally:
            self.store.thread_done()

    def warm_up(self) -> None:
        """Load the embedding model, the language pipeline and topic fitting's scikit-learn, and
        run a first query, now, so no request waits for them (a one-shot process imports
        scikit-learn only when it fits or relabels a topic). Without the language pipeline and the
        query the first add to a served memory took 1.05 s against 40-70 ms for the next ones
        (see :func:`graphmem.memory.warm_up`)."""
        warm_up(self.store, self.settings)

    def exists(self, namespace: str) -> bool:
        """Whether ``namespace`` holds any conversation (one indexed lookup)."""
        validate_namespace(namespace)
        return bool(self.store.read("server/namespace_exists", {"namespace": namespace}))

    def namespaces(self) -> list[str]:
        """Every namespace holding a conversation: those :meth:`exists` knows (a namespace whose
        conversations were all forgotten keeps its change marker, and one given only a time zone
        its settings; neither is listed, as neither is served as existing)."""
        return [str(r["namespace"]) for r in self.store.read("server/namespaces", {})]

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
        for name, key in (("conversation", conversation), ("session", session)):  # (MCP's add_memory comes here directly)
            if isinstance(key, str) and len(key) > MAX_KEY:
                raise InputError(f"{name}: at most {MAX_KEY} characters, got {len(key)}")
        for position, message in enumerate(messages):  # the server's limits on what a message names
            if not isinstance(message, Mapping):
                continue  # (named by Memory.add)
            for name in ("speaker", "role", "name", "id"):
                value = message.get(name)
                if isinstance(value, (str, int)) and not isinstance(value, bool) and len(str(value)) > MAX_KEY:
                    raise InputError(f"messages[{position}].{name}: at most {MAX_KEY} characters, got {len(str(value))}")
            self.check_metadata(message.get("metadata"), f"messages[{position}].metadata")
        with self.write_lock(namespace):  # an add plans from what its session holds: one at a time
            report = memory.add(list(messages), conversation=conversation, session=session,
                                session_started_at=session_started_at)
            return report.to_dict()

    @staticmethod
    def check_metadata(metadata: Any, where: str = "metadata") -> None:
        """The server's limit on the metadata pairs one request gives (its MCP tools' too).

        Raises:
            InputError: more than :data:`MAX_METADATA` pairs.
        """
        if isinstance(metadata, Mapping) and len(metadata) > MAX_METADATA:
            raise InputError(f"{where}: at most {MAX_METADATA} items, got {len(metadata)}")

    def timezone(self, namespace: str) -> dict[str, Any]:
        """``{timezone, stored}``: the zone in force in ``namespace`` and the one stored with it
        (``None``: the server's settings apply). No Memory is kept for a namespace never set up."""
        validate_namespace(namespace)
        in_force, stored = timezone_in_force(self.store, namespace, self.settings.timezone)
        return {"timezone": in_force, "stored": stored}

    def set_timezone(self, namespace: str, name: str | None) -> dict[str, Any]:
        """Store ``name`` as ``namespace``'s zone (``None``: remove it); answers :meth:`timezone`.

        Raises:
            InputError: not a time zone name.
        """
        validate_namespace(namespace)
        if name is not None:
            zone_name(name)  # a bad name is refused before a Memory is kept for the namespace
        elif stored_timezone(self.store, namespace) is None:
            return self.timezone(namespace)  # nothing to remove
        self.memory(namespace).set_timezone(name)
        return self.timezone(namespace)

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
