"""The embedded backend: ArcadeDB in-process through ``arcadedb-embedded``."""

from __future__ import annotations

import gc
import json
import logging
import math
import os
import random
import re
import shlex
import threading
import time
import weakref
from contextlib import contextmanager, ExitStack
from importlib import resources
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from graphmem.errors import ConfigurationError, StorageError, StoreUnavailableError
from graphmem.store.base import (COMMIT_RACES, GUARD, TALLY, GraphStore, Statement, WriteConflict, map_vectors, refused_by, time_limit_error,
                                 unenforceable_rule, user_cypher_error)

__all__ = ["EmbeddedStore"]

logger = logging.getLogger(__name__)

_JVM_LOCK = threading.Lock()
_OPEN_LOCK = threading.Lock()
# path -> [database, refcount, process lock, visibility lock, owner pid]: ArcadeDB opens a directory
# once per process, so several Memory objects on the same directory share one database
# handle, and the lock that makes each commit appear to their readers all at once.
_OPEN: dict[str, list[Any]] = {}
_INHERITED: list[list[Any]] = []  # handles a fork's child found in _OPEN (see EmbeddedStore.open)
_RESOURCE_STACK = ExitStack()

LOCK_FILE = "graphmem.lock"
"""File in the store directory that the owning process holds an exclusive ``flock`` on."""

#: A transaction that lost a race against another thread's commit (the same MERGE, or
#: the same index page) is retried this many times in all: graphmem's writes are
#: idempotent MERGEs, so running them again gives the result of running them once.
CONFLICT_ATTEMPTS = 6


_JAVA: dict[str, Any] = {}


def _java(name: str) -> Any:
    """``float[]`` or ArcadeDB's JSON array class, resolved once the JVM is up."""
    if name not in _JAVA:
        import jpype

        _JAVA["float[]"] = jpype.JArray(jpype.JFloat)
        _JAVA["JSONArray"] = jpype.JClass("com.arcadedb.serializer.json.JSONArray")
    return _JAVA[name]


#: The name ArcadeDB gives a command stopped at its deadline (``arcadedb.command.timeout``), in the
#: text of the error JPype hands over (not ``LockTimeoutException``, a lock wait).
_STOPPED_AT_DEADLINE = re.compile(r"\bcom\.arcadedb\.exception\.TimeoutException\b")


_NO_DEADLINE_WARNED: list[bool] = []


@contextmanager
def _command_deadline(seconds: float) -> Iterator[None]:
    """Every command this thread starts inside runs under ArcadeDB's own deadline of ``seconds``
    (``0``: none): the engine checks it as the query reads and stops the query with its
    ``TimeoutException``, so the work ends there (it is not left running in the JVM).

    The deadline is ArcadeDB's per-thread override of ``arcadedb.command.timeout``
    (``CommandTimeoutOverride``, what its Postgres wire layer sets for ``statement_timeout``);
    graphmem's own queries on this thread, before and after, run without one. Measured (3,000 nodes,
    0.5 s): a filtered three-way cartesian product, an ORDER BY, a DISTINCT, a collect and an
    aggregate over matches each stopped at 0.5-0.7 s, and the process used no CPU after. A query
    whose whole work is arithmetic on literal lists (``UNWIND range(...)`` with a ``reduce`` per
    row) reads nothing, is never checked, and runs to its end."""
    if not seconds:
        yield
        return
    import jpype

    try:
        override = jpype.JClass("com.arcadedb.query.sql.executor.CommandTimeoutOverride")
    except Exception:  # an ArcadeDB without it (before 26.10): the query runs unbounded, said once
        if not _NO_DEADLINE_WARNED:
            _NO_DEADLINE_WARNED.append(True)
            logger.warning("this ArcadeDB has no per-query deadline (CommandTimeoutOverride): user Cypher runs without "
                           "its time limit; upgrade arcadedb-embedded")
        yield
        return
    override.set(max(1, math.ceil(seconds * 1000)))
    try:
        yield
    finally:
        override.clear()


def _float_array(array: np.ndarray) -> Any:
    return _java("float[]")(np.ascontiguousarray(array, dtype=np.float32).ravel())


def _java_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """``params`` in the form that crosses into the JVM fastest, values unchanged.

    Each numpy vector becomes a Java ``float[]``: one buffer copy (a list of Python floats
    crosses as a boxed ``Double`` per element, four times slower to write), stored as
    ARRAY_OF_FLOATS and read back as a list of floats. A list of row maps (the ``$rows``
    of every batched write) crosses as one JSON text parsed by the engine, instead of one
    JVM call per key and value; rows JSON cannot carry exactly (NaN, numpy scalars, dates)
    take the per-value path.
    """
    out: dict[str, Any] = {}
    for key, value in (params or {}).items():
        rows = _rows_as_json(value) if isinstance(value, list) and value and all(type(r) is dict for r in value) else None
        out[key] = rows if rows is not None else map_vectors(value, _float_array)
    return out


_JSON_SCALARS = (str, int, float, bool, type(None))


def _rows_as_json(rows: list[dict[str, Any]]) -> Any:
    vectors: list[tuple[tuple[Any, ...], np.ndarray]] = []

    def strip(value: Any, path: tuple[Any, ...]) -> Any:
        if isinstance(value, np.ndarray):
            vectors.append((path, value))
            return None
        if type(value) is dict:
            return flat(value, path)
        if type(value) in (list, tuple):
            return [strip(v, (*path, i)) for i, v in enumerate(value)]
        return value

    def flat(row: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
        """``strip`` for a map, without a call per scalar (copied only where it holds a vector
        or something nested): 0.15 of the 0.23 s these conversions took per LoCoMo ingest was
        a call per scalar of every row."""
        clean = row
        for key, value in row.items():
            kind = type(value)
            if kind is np.ndarray:
                vectors.append(((*path, key), value))
                value = None
            elif kind is dict:
                value = flat(value, (*path, key))
            elif (kind is list or kind is tuple) and not all(type(v) in _JSON_SCALARS for v in value):
                value = strip(value, (*path, key))
            else:
                continue
            if clean is row:
                clean = dict(row)
            clean[key] = value
        return clean

    try:
        text = json.dumps([flat(row, (index,)) for index, row in enumerate(rows)], allow_nan=False)
    except (TypeError, ValueError):
        return None
    java_rows = _java("JSONArray")(text).toList()
    for path, array in vectors:  # put the vectors back where they were, as float[]
        container = java_rows
        for step in path[:-1]:
            container = container.get(step)
        if isinstance(path[-1], int):
            container.set(path[-1], _float_array(array))
        else:
            container.put(path[-1], _float_array(array))
    return java_rows


class _VisibilityLock:
    """Readers share it, a commit holds it alone: a reader sees a transaction whole or not at all.

    ArcadeDB keeps a transaction's changes private to its thread until commit, but the
    commit then replaces the changed pages one by one, and a query running in another
    thread at that moment can read some new pages and some old ones (a conversation's
    sessions without its turns), and one query is not a snapshot either: it can see a
    commit land half way through. Holding this lock exclusively only for ``commit()``
    (the statements themselves run unlocked) and shared for a whole query closes both
    windows, at the cost of making readers wait while a commit runs (0.2-0.5 s for a
    LoCoMo conversation) and a commit wait for the queries already running. Waiting writers go first so a
    stream of queries cannot starve ingestion.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writer or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


class _ProcessLock:
    """An exclusive, non-blocking ``flock`` on ``<store>/graphmem.lock`` holding the owner's PID.

    The embedded database belongs to one process at a time. ArcadeDB refuses a second
    process too, but with a bare "locked by another process"; this lock names the
    process, and it covers the cache directory beside the database as well. The kernel
    drops the lock when the owner dies, even by SIGKILL, so a crash never leaves a
    store locked.

    A ``flock`` belongs to the open file, which a fork's child shares through its copy of the
    descriptor: the lock stayed held while any child forked after the open lived on (a
    multiprocessing worker), after the owner closed the store or died, and the owner could not
    open its own store again. So a fork's child closes its copies at once
    (:func:`_drop_locks_in_child`); closing a copy does not release the parent's lock.
    """

    def __init__(self, directory: Path) -> None:
        self.path = directory / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: rely on ArcadeDB's own lock
            return
        with _LOCKS_GUARD:  # (a fork waits for the descriptor to be known, so its child closes it)
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:  # a store on a read-only mount, or not this user's
                raise StorageError(f"cannot open store {self.path.parent}: {exc.strerror or exc} ({self.path.name}): the "
                                   "embedded store needs to write where it lies, even to read it") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                owner, _, note = os.pread(fd, 1024, 0).decode("utf-8", "replace").partition("\n")
                os.close(fd)
                owner, note = owner.strip() or "unknown", " ".join(note.split())
                if note:  # the owner serves it ("graphmem serve at http://...": see note())
                    raise StoreUnavailableError(
                        f"store {self.path.parent} is in use by process {owner}, {note}: the embedded store belongs "
                        "to one process at a time; reach this memory through that server (graphmem.Client, its HTTP "
                        "API or its MCP tools at /mcp), or stop it first") from None
                raise StoreUnavailableError(
                    f"store {self.path.parent} is in use by process {owner}: the embedded store belongs to one process "
                    "at a time (threads of that process may share it); close it there, or serve it over Bolt "
                    "for several processes") from None
            self._fd = fd
            _LOCKS.add(self)
        self.note("")

    def note(self, text: str) -> None:
        """Write the owner's PID and ``text`` (what it does with the store, one line) into the lock
        file, for the refusal another process gets to name."""
        with _LOCKS_GUARD:
            fd = self._fd
            if fd is None:
                return
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n{' '.join(text.split())}".rstrip().encode("utf-8") + b"\n", 0)

    def release(self) -> None:
        with _LOCKS_GUARD:  # (closed under the guard: a fork between the two would give the child the lock)
            fd, self._fd = self._fd, None
            _LOCKS.discard(self)
            if fd is not None:
                os.close(fd)  # closing the descriptor drops the flock; the file stays (deleting it would race)


_LOCKS: "weakref.WeakSet[_ProcessLock]" = weakref.WeakSet()  # the locks this process holds
_LOCKS_GUARD = threading.Lock()


def _drop_locks_in_child() -> None:
    """In a fork's child: close the copies of the parent's lock descriptors (see :class:`_ProcessLock`).
    The parent keeps its locks; the child holds none, and opens a store as any other process would."""
    global _LOCKS_GUARD
    _LOCKS_GUARD = threading.Lock()  # (held by the forking thread in the parent: see the before-fork hook)
    for lock in list(_LOCKS):
        fd, lock._fd = lock._fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:  # already closed by the child's own code: nothing held
                pass
    _LOCKS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=lambda: _LOCKS_GUARD.acquire(), after_in_parent=lambda: _LOCKS_GUARD.release(),
                        after_in_child=_drop_locks_in_child)


def _is_conflict(exc: BaseException) -> bool:
    text = str(exc)
    return any(name in text for name in COMMIT_RACES)


def _import_arcadedb():
    try:
        import arcadedb_embedded
    except ImportError as exc:  # pragma: no cover - it is a hard dependency
        raise ConfigurationError("the embedded store needs the 'arcadedb-embedded' package: pip install arcadedb-embedded") from exc
    return arcadedb_embedded


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence the JVM's start-up banner (written straight to fd 2 by the JVM)."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


#: ArcadeDB's openCypher LOAD CSV may read the server's files and public web addresses by default.
_NO_LOAD_CSV = ("-Darcadedb.opencypher.loadCsv.allowFileUrls=false", "-Darcadedb.opencypher.loadCsv.allowRemoteUrls=false")


def _ensure_jvm(heap: str, options: str = "") -> None:
    """Start the process's JVM once (the first store opened decides its heap and options)."""
    adb = _import_arcadedb()
    import jpype

    with _JVM_LOCK:
        if jpype.isJVMStarted():
            return
        config = Path(_RESOURCE_STACK.enter_context(resources.as_file(resources.files("graphmem").joinpath("data", "arcadedb-logging.properties"))))
        os.environ.setdefault("ARCADEDB_JVM_ERROR_FILE", str(Path(os.environ.get("TMPDIR", "/tmp")) / "graphmem-jvm-error-%p.log"))
        try:
            extra = shlex.split(options)
        except ValueError as exc:
            raise ConfigurationError(f"jvm_options (GRAPHMEM_JVM_OPTIONS) {options!r}: {exc}") from None
        try:
            with _quiet_stderr():
                # -Xrs: the JVM installs no handler for SIGTERM, SIGINT, SIGHUP or SIGQUIT. They stay the
                # process's (Python's default, or what the CLI/server install: graphmem.signals);
                # the JVM's own SIGTERM shutdown ran under a live Python caller and hung or crashed.
                # LOAD CSV reads no file and no web address: a query (the server's read-only cypher endpoint)
                # read /proc/self/environ, the token with it (GRAPHMEM_JVM_OPTIONS, after these, may allow it)
                adb.jvm.start_jvm(heap_size=heap, jvm_args=["-Xrs", f"-Djava.util.logging.config.file={config}", *_NO_LOAD_CSV,
                                                            *extra])
        except Exception as exc:  # the JVM's own words went to the standard error kept quiet above
            if jpype.isJVMStarted():
                raise
            raise ConfigurationError(f"the JVM did not start with jvm_heap (GRAPHMEM_JVM_HEAP) {heap!r} and jvm_options "
                                     f"(GRAPHMEM_JVM_OPTIONS) {options!r}: {exc}") from None
        _unlink_jpype_collector()
        if threading.current_thread() is not threading.main_thread():
            # The thread that creates the JVM stays attached to it as a non-daemon Java thread,
            # even after it ends, and the JVM's shutdown at exit waits for it forever (a Memory
            # first opened by AsyncMemory's worker or a web framework's thread hung the process).
            # Detached now, it attaches again on its next Java call as any other thread does.
            jpype.java.lang.Thread.detach()
        logger.debug("started the JVM for ArcadeDB (heap %s, options %r)", heap, options)



def _detach_current_thread() -> None:
    """Detach the calling thread from the JVM when it is attached (asked without attaching it:
    ``java.lang.Thread.isAttached()`` attaches first)."""
    import _jpype
    import jpype

    if jpype.isJVMStarted() and _jpype.isThreadAttachedToJVM():
        jpype.java.lang.Thread.detach()


class _DetachAtThreadEnd:
    """Kept in a thread-local (:data:`_THREAD_END`) by every thread but the main one that uses
    an embedded store. CPython clears a thread's locals in that thread as it ends, so this
    detaches it from the JVM then: a thread that ends attached is never detached, and its Java
    thread object stays with the database's per-thread state (100 threads each making one query
    left 100 Java threads behind: an application serving each request on a new thread grew
    without end)."""

    __slots__ = ("pid",)

    def __init__(self) -> None:
        self.pid = os.getpid()

    def __del__(self) -> None:
        if os.getpid() != self.pid:  # a fork's copy: the JVM did not survive the fork (a call would hang)
            return
        try:
            _detach_current_thread()
        except BaseException:  # noqa: BLE001 - the JVM is going with the process: nothing to release
            pass


_THREAD_END = threading.local()


def _detach_at_thread_end() -> None:
    """Make sure the calling thread detaches from the JVM when it ends (see :class:`_DetachAtThreadEnd`)."""
    if getattr(_THREAD_END, "guard", None) is None:
        # the main thread stays attached: it ends with the interpreter, after the JVM's own shutdown hooks
        _THREAD_END.guard = True if threading.current_thread() is threading.main_thread() else _DetachAtThreadEnd()


def _unlink_jpype_collector() -> None:
    """Take JPype's callback out of Python's cyclic garbage collector (``gc.callbacks``).

    JPype registers it (twice, here) when the JVM starts: at every collection, even of the
    youngest generation, it reads the process's size and, when that grew, calls Java's
    ``System.gc()``, a full stop-the-world collection of ArcadeDB's heap under the Python
    caller. Its aim is memory that Java holds for Python (proxies of Python objects), which
    graphmem never hands to Java; the Java objects Python holds are released as their Python
    wrappers die, and Java's collector runs when its own heap needs it. Measured: ingesting
    the LoCoMo dev file made 12 such full collections (238 ms) and took 8.59-8.61 s against
    8.25-8.37 s without them, peak RSS unchanged (1,273-1,300 MB); 30 searches each right after
    an add on a dev12-size memory made 15 (355 ms) and 16 more full Python collections.
    """
    import _jpype

    collect = getattr(_jpype, "_collect", None)
    if collect is not None:
        gc.callbacks[:] = [callback for callback in gc.callbacks if callback is not collect]


class EmbeddedStore(GraphStore):
    """ArcadeDB running inside this process, data in ``directory``.

    Layout: ``directory/db`` holds the database, ``directory/cache`` the derived
    ANN/lexical caches, ``directory/graphmem.lock`` the PID of the process that has
    it open. Nothing is written outside ``directory`` except the engine's warning
    log in the temp directory.

    One process at a time: a second process that opens the directory gets
    :class:`StoreUnavailableError` naming the owner's PID (threads of the owning
    process share one database handle). Use a Bolt server for several processes.
    """

    fork_advice = ("the database engine does not survive a fork (a write here would be lost). The embedded store "
                   "belongs to one process: use it there, open it in a worker only while no other process holds it, or "
                   "serve it to several processes (graphmem serve, or a Bolt server)")

    kind = "embedded"

    def __init__(self, directory: str | os.PathLike[str], *, jvm_heap: str = "2g", jvm_options: str = "",
                 create: bool = True) -> None:
        super().__init__()
        self._create = create
        self.directory = Path(directory).expanduser().resolve()
        self._jvm_heap = jvm_heap
        self._jvm_options = jvm_options
        self._db: Any = None
        self._visibility: _VisibilityLock | None = None
        self._key = str(self.directory / "db")

    def describe(self) -> str:
        return f"embedded:{self.directory}"

    def cache_dir(self, namespace_slug: str) -> Path:
        return self.directory / "cache" / namespace_slug

    def thread_done(self) -> None:
        """Detach the calling thread from the JVM now (not the main thread, which stays
        attached). A thread that used the store detaches by itself when it ends
        (:class:`_DetachAtThreadEnd`), an ingest's writer and :class:`~graphmem.AsyncMemory`'s
        worker included; this releases the database's per-thread state of a thread that lives
        on idle (those of a server's thread pool)."""
        if threading.current_thread() is not threading.main_thread():
            _detach_current_thread()

    def _check_open(self) -> None:
        super()._check_open()
        _detach_at_thread_end()

    def open(self) -> "EmbeddedStore":
        """Open (creating if needed, unless made with ``create=False``) the database directory and apply the schema."""
        if self.directory.exists() and not self.directory.is_dir():
            raise ConfigurationError(f"store location {self.directory} exists and is not a directory")
        if not self._create and not Path(self._key).is_dir():
            raise ConfigurationError(f"no memory at {self.directory}")
        adb = _import_arcadedb()
        _ensure_jvm(self._jvm_heap, self._jvm_options)
        _detach_at_thread_end()
        with _OPEN_LOCK:
            entry = _OPEN.get(self._key)
            if entry is not None and entry[4] != os.getpid():
                # inherited through a fork: the parent's handle, useless here (see _check_open);
                # this process opens the store as any other would (refused while the parent holds
                # it). The handle is kept, never freed: its finaliser would call into the JVM,
                # which does not survive a fork (the call hangs)
                _INHERITED.append(_OPEN.pop(self._key))
                entry = None
            if entry is None:
                try:
                    self.directory.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StorageError(f"cannot create store directory {self.directory}: {exc.strerror or exc}") from exc
                process_lock = _ProcessLock(self.directory)
                process_lock.acquire()
                try:
                    if adb.database_exists(self._key):
                        db = adb.open_database(self._key)
                    else:
                        db = adb.create_database(self._key)
                except Exception as exc:
                    process_lock.release()
                    message = str(exc)
                    if "lock" in message.lower():
                        raise StoreUnavailableError(
                            f"store {self.directory} is in use by another process (the embedded store allows one process at a time)"
                        ) from exc
                    raise StorageError(f"cannot open store {self.directory}: {message}") from exc
                entry = _OPEN[self._key] = [db, 0, process_lock, _VisibilityLock(), os.getpid()]
            entry[1] += 1
            self._db = entry[0]
            self._visibility = entry[3]
            self._pid = os.getpid()
        self.apply_schema()
        return self

    def apply_schema(self) -> None:
        self._check_open()
        for name in self.schema_statements():
            try:
                self._command_tx([(name, {})])
            except StorageError:
                if not unenforceable_rule(name, self.describe()):
                    raise

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One ArcadeDB transaction whose commit readers of this store see all at once."""
        assert self._visibility is not None
        self._db.begin()
        try:
            yield
            with self._visibility.exclusive():
                self._db.commit()
        except BaseException:
            if self._db.is_transaction_active():
                try:
                    self._db.rollback()
                except Exception:  # the original error is the one worth reporting
                    logger.warning("rollback failed in %s", self.describe(), exc_info=True)
            raise

    def _query(self, text: str, params: Mapping[str, Any] | None, *, as_json: bool = False) -> list[dict[str, Any]]:
        """A read, whole, under the shared side of the visibility lock (results are lazy)."""
        assert self._visibility is not None
        with self._visibility.shared():
            result = self._db.query("opencypher", text, dict(params or {}))
            return result.to_json_list() if as_json else result.to_list()

    def _command_tx(self, statements: Sequence[Statement]) -> list[dict[str, Any]]:
        """Run ``statements`` in one transaction; retry it when it lost a commit race. Returns the
        rows of its :data:`TALLY` statements from the run that committed."""
        prepared = self._runnable(statements)
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            tallied: list[dict[str, Any]] = []
            try:
                with self._transaction():
                    for (name, _), (text, params) in zip(statements, prepared):
                        result = self._db.command("opencypher", text, params)
                        refused = refused_by(name, result.to_list()) if name.startswith(GUARD) else None
                        if refused is not None:
                            raise refused  # (rolled back)
                        if name.startswith(TALLY):
                            tallied.extend(result.to_list())
                return tallied
            except WriteConflict:
                raise
            except Exception as exc:
                if _is_conflict(exc) and attempt < CONFLICT_ATTEMPTS:
                    logger.debug("write in %s lost a commit race (attempt %d); retrying", self.describe(), attempt)
                    time.sleep(random.uniform(0.005, 0.03) * attempt)
                    continue
                raise StorageError(f"write failed in {self.describe()} ({', '.join(sorted({n for n, _ in statements}))}): {exc}") from exc
        raise StorageError(f"write failed in {self.describe()}: it lost {CONFLICT_ATTEMPTS} commit races")  # (the last attempt raises first)

    def _runnable_params(self, params: Mapping[str, Any] | None) -> Any:
        return _java_params(params)

    def read(self, name: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        self._check_open()
        try:
            return self._query(self.statement_text(name), _java_params(params))
        except Exception as exc:
            raise StorageError(f"query {name} failed in {self.describe()}: {exc}") from exc

    def write(self, statements: Sequence[Statement]) -> list[dict[str, Any]]:
        self._check_open()
        return self._command_tx(statements) if statements else []

    def write_returning(self, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        self._check_open()
        try:
            with self._transaction():
                return self._db.command("opencypher", self.statement_text(name), _java_params(params)).to_list()
        except Exception as exc:
            raise StorageError(f"write {name} failed in {self.describe()}: {exc}") from exc

    def run_cypher(self, text: str, params: Mapping[str, Any] | None = None, *, write: bool = False,
                   then: Sequence[Statement] = (), timeout: float = 0) -> list[dict[str, Any]]:
        self._check_open()
        try:
            if write:
                following = self._runnable(then)
                with self._transaction():
                    with _command_deadline(timeout):
                        rows = self._db.command("opencypher", text, dict(params or {})).to_json_list()
                    for statement, values in following:
                        self._db.command("opencypher", statement, values)
                    return rows
            with _command_deadline(timeout):
                return self._query(text, params, as_json=True)
        except Exception as exc:
            if timeout and _STOPPED_AT_DEADLINE.search(str(exc)):
                raise time_limit_error(timeout) from exc
            raise user_cypher_error(str(exc)) from exc

    def announce(self, text: str) -> None:
        with _OPEN_LOCK:
            entry = _OPEN.get(self._key)
        if entry is not None and entry[4] == os.getpid() and not self._closed:
            entry[2].note(text)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._db is None:
            return
        if self._inherited:  # a fork's child closing what it inherited: the database and its lock are the parent's
            self._db = None
            self._visibility = None
            return
        with _OPEN_LOCK:
            entry = _OPEN.get(self._key)
            if entry is not None:
                entry[1] -= 1
                if entry[1] <= 0:
                    del _OPEN[self._key]
                    try:
                        entry[0].close()
                    except Exception:  # closing must not mask the caller's error
                        logger.warning("error closing %s", self.describe(), exc_info=True)
                    finally:
                        entry[2].release()
        self._db = None
        self._visibility = None
