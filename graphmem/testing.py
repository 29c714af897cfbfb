"""A throwaway Bolt server for tests and experiments: ArcadeDB with its Bolt plugin,
from the ``arcadedb-embedded`` package graphmem already depends on.

It runs inside this process (in the JVM the embedded store uses), listens on free
loopback ports, and speaks enough of Neo4j 5 for graphmem's Bolt backend::

    from graphmem import Memory
    from graphmem.testing import start_bolt_server

    with start_bolt_server("/tmp/graphmem-bolt") as server:
        with Memory.open(server.uri, auth=server.auth, database=server.database) as memory:
            memory.ingest("chat.jsonl")

It is not a production server: no TLS, a random root password, data under
``root_dir``. Stop it (the context manager does, and so does an ``atexit`` hook):
a process hosting a running server cannot exit.
"""

from __future__ import annotations

import atexit
import logging
import secrets
import socket
import threading
from pathlib import Path
from typing import Any, Self

from graphmem.errors import ConfigurationError, StorageError

__all__ = ["BoltServer", "free_port", "start_bolt_server"]

logger = logging.getLogger(__name__)

BOLT_PLUGIN = "Bolt:com.arcadedb.bolt.BoltProtocolPlugin"
_START_ATTEMPTS = 3


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class BoltServer:
    """A running ArcadeDB server with the Bolt plugin; stop it with :meth:`stop`.

    Attributes:
        uri: ``bolt://127.0.0.1:<port>``; ``routing_uri`` is the ``neo4j://`` form.
        auth: ``("root", <random password>)``.
        database: the database created at start.
        root_dir: where the server keeps its databases, users and logs.
        bolt_port, http_port: the ports it listens on (loopback only).
    """

    def __init__(self, server: Any, *, host: str, bolt_port: int, http_port: int, password: str, database: str, root_dir: Path) -> None:
        self._server = server
        self._lock = threading.Lock()
        self.host = host
        self.bolt_port = bolt_port
        self.http_port = http_port
        self.auth = ("root", password)
        self.database = database
        self.root_dir = root_dir

    @property
    def uri(self) -> str:
        """``bolt://host:port`` (direct connection)."""
        return f"bolt://{self.host}:{self.bolt_port}"

    @property
    def routing_uri(self) -> str:
        """``neo4j://host:port`` (the routing scheme clusters and Aura use)."""
        return f"neo4j://{self.host}:{self.bolt_port}"

    @property
    def running(self) -> bool:
        """True until :meth:`stop` ran."""
        return self._server is not None

    def create_database(self, name: str) -> None:
        """Create database ``name`` (no-op if it exists)."""
        with self._lock:
            if self._server is None:
                raise StorageError("the Bolt server is stopped")
            self._server.create_database(name)

    def stop(self) -> None:
        """Stop the server and drop connections left open by clients; idempotent."""
        with self._lock:
            server, self._server = self._server, None
        if server is None:
            return
        atexit.unregister(self.stop)
        try:
            server.stop()
        except Exception:  # stopping is best effort; what matters is the process can exit
            logger.warning("error stopping the Bolt server on port %d", self.bolt_port, exc_info=True)
        _close_orphan_connections(server)
        logger.debug("stopped the Bolt server on port %d", self.bolt_port)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"BoltServer({self.uri!r}, database={self.database!r}, {'running' if self.running else 'stopped'})"


def start_bolt_server(
    root_dir: str | Path,
    *,
    database: str = "graphmem",
    password: str | None = None,
    host: str = "127.0.0.1",
    jvm_heap: str = "512m",
) -> BoltServer:
    """Start an ArcadeDB server with the Bolt plugin on free loopback ports.

    The JVM is started (if this process has none yet) the way the embedded store
    starts it: same logging configuration, nothing written to the working
    directory. A JVM is configured once per process, so ``jvm_heap`` applies only
    when this call starts it.

    Args:
        root_dir: directory for the server's databases, users and event log. It
            can be reused across runs: databases are kept, the server's users
            are reset (root gets ``password``).
        database: database to create.
        password: root password; random when not given.
        host: interface to listen on (loopback by default).
        jvm_heap: max heap of the JVM, if this call starts it.

    Returns:
        The running :class:`BoltServer`; use it as a context manager, or call
        :meth:`BoltServer.stop`. An ``atexit`` hook stops it too.

    Raises:
        ConfigurationError: ``root_dir`` is not a directory.
        StorageError: the server did not start.
    """
    from graphmem.settings import Settings
    from graphmem.store.embedded import _ensure_jvm, _import_arcadedb

    root = Path(root_dir).expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise ConfigurationError(f"{root} exists and is not a directory")
    root.mkdir(parents=True, exist_ok=True)
    adb = _import_arcadedb()
    _ensure_jvm(jvm_heap, Settings().jvm_options)  # the JVM is shared with embedded stores of this process
    password = password or secrets.token_urlsafe(18)
    # ArcadeDB applies root_password only when it creates its users file; a root_dir
    # reused from an earlier run would keep that run's password.
    (root / "config" / "server-users.jsonl").unlink(missing_ok=True)
    last_error: Exception | None = None
    for _ in range(_START_ATTEMPTS):  # a free port can be taken between probing and binding
        bolt_port, http_port = free_port(host), free_port(host)
        server = adb.create_server(
            root_path=str(root),
            root_password=password,
            config={"server_plugins": BOLT_PLUGIN, "bolt_port": bolt_port, "http_port": http_port, "host": host},
        )
        try:
            server.start()
        except adb.ArcadeDBError as exc:  # the package stops a server whose start failed
            last_error = exc
            logger.debug("Bolt server did not start on ports %d/%d: %s", bolt_port, http_port, exc)
            continue
        handle = BoltServer(server, host=host, bolt_port=bolt_port, http_port=http_port, password=password, database=database, root_dir=root)
        atexit.register(handle.stop)
        try:
            handle.create_database(database)
        except BaseException:
            handle.stop()
            raise
        logger.debug("started %r in %s", handle, root)
        return handle
    raise StorageError(f"the Bolt server did not start in {root}: {last_error}") from last_error


def _close_orphan_connections(server: Any) -> None:
    """Close the sockets of Bolt connections the stopped server left running.

    ArcadeDB's ``stop()`` closes the listener but not the per-connection threads;
    each one is a non-daemon thread blocked reading its socket, so a client that
    never closed its driver would keep the JVM, and this process, from exiting.
    """
    try:
        import jpype

        executor_class = jpype.JClass("com.arcadedb.bolt.BoltNetworkExecutor")
        socket_field = executor_class.class_.getDeclaredField("socket")
        socket_field.setAccessible(True)
        server_field = executor_class.class_.getDeclaredField("server")
        server_field.setAccessible(True)
        java_server = getattr(server, "_java_server", None)
        threads = jpype.JClass("java.lang.Thread").getAllStackTraces().keySet()
        for thread in list(threads):
            if not isinstance(thread, executor_class):
                continue
            if java_server is not None and not server_field.get(thread).equals(java_server):
                continue
            connection = socket_field.get(thread)
            if connection is not None:
                connection.close()
            thread.join(2000)
            if thread.isAlive():
                logger.warning("Bolt connection thread %s did not end", thread.getName())
    except Exception:  # best effort: an engine with other internals just keeps its threads
        logger.debug("could not close orphan Bolt connections", exc_info=True)
