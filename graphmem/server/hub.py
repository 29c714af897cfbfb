"""One store, many namespaces: the object a server process serves from."""

from __future__ import annotations

import concurrent.futures
import logging
import os
import threading
from collections import OrderedDict
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Mapping, Sequence, TypeVar

from graphmem.errors import ClosedError, ConfigurationError, InputError
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
MAX_OPEN = 64
"""The most namespaces a hub keeps a Memory open for (``graphmem serve --max-open``): each holds
its search caches (the projection, BM25 and vector indexes of its units: 2-12 MB for a small
namespace), which a server that had served 200 namespaces kept for all of them (2.9 GB)."""


class _Open:
    """A namespace's Memory in a hub and the requests using it now."""

    __slots__ = ("memory", "in_flight")

    def __init__(self, memory: Memory) -> None:
        self.memory = memory
        self.in_flight = 0


class MemoryHub:
    """One open graph store and one :class:`Memory` per namespace, opened on first use.

    Every Memory shares the store object (the embedded store belongs to one process; a Bolt
    store shares one driver). Memory objects of one namespace already take turns through
    the namespace lock of :mod:`graphmem.memory`; the HTTP layer adds its own per-namespace
    queue so that waiting writers do not each hold a worker thread.

    At most ``max_open`` Memory objects are kept open: when a request ends with more, the least
    recently used ones that no request is using are closed (their caches saved, on a thread of the
    hub's own), and the next request for such a namespace opens it again, from the saved caches.

    Args:
        store: an open store; the hub closes it in :meth:`close`.
        settings: settings for every Memory.
        max_open: the most namespaces kept open (:data:`MAX_OPEN`; at least 1).

    Raises:
        ConfigurationError: ``max_open`` below 1.
    """

    def __init__(self, store: GraphStore, settings: Settings, *, max_open: int = MAX_OPEN) -> None:
        if isinstance(max_open, bool) or not isinstance(max_open, int) or max_open < 1:
            raise ConfigurationError(f"max_open must be a whole number of at least 1, got {max_open!r}")
        self.store = store
        self.settings = settings
        self.max_open = max_open
        self._memories: OrderedDict[str, _Open] = OrderedDict()  # least recently used first
        self._closing: dict[str, threading.Event] = {}  # namespaces whose evicted Memory is being closed
        self._closer: concurrent.futures.ThreadPoolExecutor | None = None
        self._writers: dict[str, threading.RLock] = {}
        self._guard = threading.Lock()
        self._closed = False

    @classmethod
    def open(cls, location: str | os.PathLike[str], settings: Settings | None = None, *,
             auth: tuple[str, str] | None = None, database: str | None = None, max_open: int = MAX_OPEN) -> "MemoryHub":
        """Open the store at ``location`` (a directory or a Bolt URI) and return a hub over it.

        Raises:
            ConfigurationError: a bad location, or ``max_open`` below 1.
            StorageError: the store cannot be opened (e.g. an embedded store another process holds).
        """
        settings = settings or Settings.from_env()
        if isinstance(max_open, bool) or not isinstance(max_open, int) or max_open < 1:  # (before the store opens)
            raise ConfigurationError(f"max_open must be a whole number of at least 1, got {max_open!r}")
        return cls(open_store(location, settings, auth=auth, database=database), settings, max_open=max_open)

    def describe(self) -> str:
        """Where the store is, e.g. ``embedded:/srv/memory``."""
        return self.store.describe()

    def memory(self, namespace: str) -> Memory:
        """The Memory of ``namespace`` (opened on first use), for a quick look: it is not held
        open, and may be closed once more than ``max_open`` namespaces were used since; a request
        uses :meth:`using`.

        Raises:
            ConfigurationError: a bad namespace.
            ClosedError: the hub is closed.
        """
        with self.using(namespace) as memory:
            return memory

    @contextmanager
    def using(self, namespace: str) -> Iterator[Memory]:
        """The Memory of ``namespace``, held open until the block ends (:meth:`acquire`, then
        :meth:`release`).

        Raises:
            ConfigurationError: a bad namespace.
            ClosedError: the hub is closed.
        """
        memory = self.acquire(namespace)
        try:
            yield memory
        finally:
            self.release(namespace)

    def acquire(self, namespace: str) -> Memory:
        """The Memory of ``namespace``, held open until :meth:`release` (opened on first use, or
        again after it was closed as idle: while an idle Memory of ``namespace`` is being closed,
        waits for it).

        Raises:
            ConfigurationError: a bad namespace.
            ClosedError: the hub is closed.
        """
        memory = self._acquire(namespace, wait=True)
        if memory is None:  # (never: waiting, it returns one)
            raise ClosedError("the server is shutting down")
        return memory

    def try_acquire(self, namespace: str) -> Memory | None:
        """:meth:`acquire` without waiting: ``None`` while an idle Memory of ``namespace`` is being
        closed (an event loop then waits on a worker thread).

        Raises:
            ConfigurationError: a bad namespace.
            ClosedError: the hub is closed.
        """
        return self._acquire(namespace, wait=False)

    def _acquire(self, namespace: str, *, wait: bool) -> Memory | None:
        validate_namespace(namespace)
        while True:
            with self._guard:
                if self._closed:
                    raise ClosedError("the server is shutting down")
                closing = self._closing.get(namespace)
                if closing is None:
                    entry = self._memories.get(namespace)
                    if entry is None:
                        entry = self._memories[namespace] = _Open(Memory.attach(self.store, namespace, self.settings))
                    else:
                        self._memories.move_to_end(namespace)
                    entry.in_flight += 1
                    return entry.memory
            if not wait:
                return None
            closing.wait()  # its caches are being saved: opened again once they are

    def release(self, namespace: str) -> None:
        """Let go of what :meth:`acquire` held; beyond ``max_open`` open namespaces, the least
        recently used ones no request holds are closed (on the hub's closing thread)."""
        with self._guard:
            entry = self._memories.get(namespace)
            if entry is not None and entry.in_flight:
                entry.in_flight -= 1
            idle = self._evict()
        for name, memory in idle:
            self._close_idle(name, memory)

    def open_namespaces(self) -> list[str]:
        """The namespaces whose Memory is open now, least recently used first."""
        with self._guard:
            return list(self._memories)

    def _evict(self) -> list[tuple[str, Memory]]:
        """Take the least recently used idle Memory objects beyond ``max_open`` out (the caller
        holds the guard); each is marked closing until :meth:`_close_idle` has closed it."""
        idle: list[tuple[str, Memory]] = []
        over = len(self._memories) - self.max_open
        if over <= 0 or self._closed:
            return idle
        for name, entry in list(self._memories.items()):
            if over <= 0:
                break
            if entry.in_flight:
                continue  # (a request is using it; a later one closes it when idle)
            del self._memories[name]
            self._closing[name] = threading.Event()
            idle.append((name, entry.memory))
            over -= 1
        return idle

    def _close_idle(self, namespace: str, memory: Memory) -> None:
        """Close ``memory`` on the hub's closing thread (saving its caches takes a while, and the
        request that ended may be on the event loop); requests for ``namespace`` wait until then."""
        def close() -> None:
            try:
                memory.close()
                logger.debug("closed the idle memory of namespace %r", namespace)
            except Exception as exc:  # its caches are derived: the next open rebuilds what was not saved
                logger.warning("closing the idle memory of namespace %r failed: %s", namespace, exc, exc_info=True)
            finally:
                self.store.thread_done()
                with self._guard:
                    done = self._closing.pop(namespace, None)
                if done is not None:
                    done.set()

        with self._guard:
            if self._closer is None and not self._closed:
                self._closer = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="graphmem-hub-close")
            closer = self._closer
        try:
            if closer is not None:
                closer.submit(close)
                return
        except RuntimeError:  # the hub closed meanwhile ("cannot schedule new futures after shutdown")
            pass
        close()

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
        with self.using(namespace) as memory:
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
        with self.using(namespace) as memory:
            memory.set_timezone(name)
        return self.timezone(namespace)

    def close(self) -> None:
        """Close every Memory (after those being closed as idle), then the store. Idempotent."""
        with self._guard:
            if self._closed:
                return
            self._closed = True
            memories, self._memories = [entry.memory for entry in self._memories.values()], OrderedDict()
            closer, self._closer = self._closer, None
        if closer is not None:
            closer.shutdown(wait=True)
        for memory in memories:
            memory.close()
        self.store.close()
        logger.info("closed %s", self.store.describe())
