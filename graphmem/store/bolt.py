"""The Bolt backend: Neo4j 5.x / 2025.x, Aura, Neo4j clusters, and Bolt-compatible
servers (ArcadeDB's Bolt plugin) through the official ``neo4j`` driver."""

from __future__ import annotations

import hashlib
import logging
import os
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import neo4j
from neo4j import exceptions as neo4j_errors
from neo4j import graph as neo4j_graph
from neo4j import spatial as neo4j_spatial
from neo4j import time as neo4j_time

from graphmem.errors import ConfigurationError, InputError, StorageError, StoreUnavailableError
from graphmem.settings import Settings
from graphmem.store.base import (COMMIT_RACES, GUARD, TALLY, WRITE_REFUSED, GraphStore, Statement, WriteConflict, map_vectors, refused_by,
                                 seconds_text, time_limit_error, unenforceable_rule, user_cypher_error)

__all__ = ["MIN_NEO4J_MAJOR", "BoltStore", "check_server_version", "to_json"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

MIN_NEO4J_MAJOR = 5
"""Oldest Neo4j major version graphmem's Cypher is written for (``REQUIRE ... IS UNIQUE``,
``COUNT {}``/``COLLECT {}`` subqueries, ``elementId``)."""

#: Attempts of a write that lost a MERGE race on a unique constraint (see :meth:`BoltStore.write`).
CONSTRAINT_RACE_ATTEMPTS = 5
#: Attempts of a read that met a record deleted while it ran (see :meth:`BoltStore.read`; with a
#: second process correcting messages for 40 s, 46 of 3,422 reads met one and none met one twice).
READ_ATTEMPTS = 5
_ENTITY_NOT_FOUND = "Neo.ClientError.Statement.EntityNotFound"
#: The neo4j driver's default ``connection_acquisition_timeout``: the most a new connection's handshake
#: waits; a ``bolt_read_timeout`` below it bounds the handshake too (see :meth:`BoltStore.open`).
DRIVER_ACQUISITION_TIMEOUT = 60.0
#: Seconds past user Cypher's time limit that graphmem waits before it stops waiting itself: a server
#: that honours the transaction timeout (Neo4j) stops the query at the limit and says so within it,
#: keeping the connection; one that ignores it (ArcadeDB's Bolt plugin) is given up on then.
SERVER_STOP_GRACE = 1.0

_AGENT_VERSION = re.compile(r"^Neo4j/(\d+)\.(\d+)", re.IGNORECASE)
_DATABASE_NOT_FOUND = ("Neo.ClientError.Database.DatabaseNotFound",)
_SCHEMA_ALREADY_EXISTS = (
    "Neo.ClientError.Schema.EquivalentSchemaRuleAlreadyExists",
    "Neo.ClientError.Schema.ConstraintAlreadyExists",
    "Neo.ClientError.Schema.IndexAlreadyExists",
)
_PRIMITIVES = (str, int, float, bool, type(None))


def check_server_version(agent: str | None, protocol_version: tuple[int, ...] | None = None) -> None:
    """Refuse servers older than Neo4j 5.

    Args:
        agent: the server agent string, e.g. ``"Neo4j/5.26.0"`` or
            ``"Neo4j/5.26.0 compatible (ArcadeDB 26.10.2)"``.
        protocol_version: the negotiated Bolt version, used when the agent has no
            parsable version (Neo4j 5 speaks Bolt 5).

    Raises:
        ConfigurationError: the server is older than Neo4j 5 ("unsupported server version").
    """
    match = _AGENT_VERSION.match(agent or "")
    if match:
        major = int(match.group(1))
        if major < MIN_NEO4J_MAJOR:
            raise ConfigurationError(
                f"unsupported server version {agent}: graphmem needs Neo4j {MIN_NEO4J_MAJOR} or later"
            )
        return
    if protocol_version and protocol_version[0] < MIN_NEO4J_MAJOR:
        raise ConfigurationError(
            f"unsupported server version {agent or 'unknown'} (Bolt {'.'.join(map(str, protocol_version))}):"
            f" graphmem needs Neo4j {MIN_NEO4J_MAJOR} or later"
        )
    logger.warning("cannot tell the version of Bolt server %r; assuming it is compatible with Neo4j %d", agent, MIN_NEO4J_MAJOR)


def _strip_zero_fraction(text: str) -> str:
    return re.sub(r"\.0+(?=$|[+\-Z\[])", "", text)


def to_json(value: Any) -> Any:
    """Convert a driver value to JSON-ready Python, like the embedded store's output.

    Nodes and relationships become their property dicts, paths
    ``{"_type": "path", "nodes", "relationships", "length"}``, temporal values
    ISO 8601 strings, points ``{"srid", "x", "y"[, "z"]}``, bytes hex strings.
    """
    if isinstance(value, _PRIMITIVES):
        return value
    if isinstance(value, list):
        if all(isinstance(item, _PRIMITIVES) for item in value):
            return value
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, (neo4j_graph.Node, neo4j_graph.Relationship)):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, neo4j_graph.Path):
        return {
            "_type": "path",
            "nodes": [to_json(node) for node in value.nodes],
            "relationships": [to_json(rel) for rel in value.relationships],
            "length": len(value),
        }
    if isinstance(value, (neo4j_time.DateTime, neo4j_time.Date, neo4j_time.Time)):
        return _strip_zero_fraction(value.iso_format())
    if isinstance(value, neo4j_time.Duration):
        return value.iso_format()
    if isinstance(value, neo4j_spatial.Point):
        point = {"srid": value.srid, "x": value[0], "y": value[1]}
        if len(value) > 2:
            point["z"] = value[2]
        return point
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, tuple):
        return [to_json(item) for item in value]
    if hasattr(value, "isoformat"):  # native datetime/date/time
        return value.isoformat()
    return str(value)


def _one_line(text: str) -> str:
    """``text`` on one line, without the credentials a URI in it may carry (the driver's errors quote the
    URI given: "neo4j://neo4j:Sup3rSecret@host" went to the terminal, CI logs and the server's log)."""
    return _CREDENTIALS.sub(r"\1", " ".join(str(text).split()))


#: The user and password part of a URI ("scheme://user:password@").
_CREDENTIALS = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]*@")


def _lost_a_race(cause: BaseException | None) -> bool:
    """Whether a write failed only because a concurrent writer got there first (run it again)."""
    if isinstance(cause, neo4j_errors.ConstraintError):
        return True
    return isinstance(cause, neo4j_errors.Neo4jError) and any(name in str(cause) for name in COMMIT_RACES)  # (ArcadeDB's words)


def _retried(call: Callable[[], T], retry: Callable[[BaseException | None], bool], attempts: int,
             low: float, high: float, what: str) -> T:
    """``call()``, run again (up to ``attempts`` times in all, after a pause of ``uniform(low,
    high) * attempt`` seconds) while it raises a :class:`StorageError` whose cause ``retry``
    accepts; the last attempt's error is raised."""
    for attempt in range(1, attempts):
        try:
            return call()
        except StorageError as exc:
            if not retry(exc.__cause__):
                raise
            logger.debug("%s (attempt %d); trying again", what, attempt)
            time.sleep(random.uniform(low, high) * attempt)
    return call()


class BoltStore(GraphStore):
    """A Neo4j (or Bolt-compatible) database reached over Bolt.

    Constructing does no I/O; :meth:`open` connects, checks the server version
    and applies the schema.

    Args:
        uri: ``bolt://host:7687`` (one server) or ``neo4j://host:7687`` (routing:
            clusters, Aura); ``+s``/``+ssc`` variants for TLS.
        auth: ``(user, password)``.
        database: database name; ``None`` uses the user's home database.
        settings: ``index_dir`` decides where the derived caches live.
        driver_config: extra keyword arguments for ``neo4j.GraphDatabase.driver``
            (timeouts, TLS trust, pool size).

    Example:
        >>> store = BoltStore("bolt://localhost:7687", auth=("neo4j", "secret"), database="neo4j").open()  # doctest: +SKIP
        >>> store.read("read/count_nodes", {"namespace": "default"})  # doctest: +SKIP
    """

    fork_advice = ("the driver's connections are the parent's sockets, and a fork must not use them. Open a new "
                   "Memory in this process (Memory.open with the same URI): a Bolt server serves any number of processes")

    kind = "bolt"

    def __init__(
        self,
        uri: str,
        *,
        auth: tuple[str, str] | None = None,
        database: str | None = None,
        settings: Settings | None = None,
        driver_config: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.uri = str(uri).strip()
        self.database = database or None
        self.user = auth[0] if auth else None
        self._auth = auth
        self._settings = settings or Settings()
        self._driver_config = dict(driver_config or {})
        self._driver: Any = None
        self._bookmarks: Any = None
        self.server_agent: str | None = None
        try:
            parts = urlsplit(self.uri)
            hostname = parts.hostname
        except ValueError as exc:  # "bolt://[::1"
            raise ConfigurationError(f"invalid Bolt URI {_one_line(self.uri)!r}: {exc}") from None
        # never echo credentials a user put in the URI
        self._location = f"{parts.scheme}://{hostname or ''}{f':{parts.port}' if _safe_port(parts) else ''}"

    # ------------------------------------------------------------------ contract
    def describe(self) -> str:
        where = self._location
        return f"{where} (database {self.database!r})" if self.database else where

    def cache_dir(self, namespace_slug: str) -> Path:
        """``<index_dir or ~/.cache/graphmem/bolt>/<hash of server+database>/<slug>``.

        The hash ignores the scheme, so ``bolt://`` and ``neo4j://`` to the same
        server share their caches.
        """
        parts = urlsplit(self.uri)
        key = f"{(parts.hostname or '').lower()}:{_safe_port(parts) or 7687}/{self.database or ''}"
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]
        base = Path(self._settings.index_dir).expanduser() if self._settings.index_dir else Path.home() / ".cache" / "graphmem" / "bolt"
        return base / digest / namespace_slug

    def open(self) -> BoltStore:
        """Connect, check the server version and apply the schema.

        Raises:
            StoreUnavailableError: the server cannot be reached or refuses the credentials.
            ConfigurationError: bad URI, missing database, or a server older than Neo4j 5.
        """
        self._check_open()
        if self._driver is not None:
            return self
        config = dict(self._driver_config)
        patience = self._settings.bolt_read_timeout
        if patience and "connection_acquisition_timeout" not in config:
            # a new connection's handshake waits this long for a server that accepts and says nothing
            # (the driver's default, 60 s, whatever bolt_read_timeout says): no longer than a read waits
            config["connection_acquisition_timeout"] = min(patience, DRIVER_ACQUISITION_TIMEOUT)
        try:
            self._driver = neo4j.GraphDatabase.driver(self.uri, auth=self._auth, **config)
            self._pid = os.getpid()
        except (ValueError, TypeError, neo4j_errors.ConfigurationError) as exc:
            raise ConfigurationError(f"invalid Bolt URI or driver setting {self._location or _one_line(self.uri)!r}: {_one_line(exc)}") from exc
        self._bookmarks = neo4j.GraphDatabase.bookmark_manager()
        try:
            try:
                self._driver.verify_connectivity()
                info = self._driver.get_server_info()
            except Exception as exc:
                raise self._translate(exc, "connect") from exc
            self.server_agent = info.agent
            check_server_version(info.agent, tuple(info.protocol_version) if info.protocol_version else None)
            logger.debug("connected to %s: %s, Bolt %s", self.describe(), info.agent, info.protocol_version)
            self.apply_schema()
        except BaseException:
            self._close_driver()
            raise
        return self

    def apply_schema(self) -> None:
        """Create every constraint and index (``IF NOT EXISTS``), one transaction each.

        Neo4j does not allow schema and data changes in one transaction, and a
        rule created concurrently by another client counts as already there.
        """
        self._ready()
        for name in self.schema_statements():
            text = self.statement_text(name)

            def work(tx: Any, text: str = text) -> None:
                tx.run(text).consume()

            try:
                self._session_call("execute_write", work)
            except StorageError as exc:
                code = getattr(exc.__cause__, "code", None)
                if code in _SCHEMA_ALREADY_EXISTS:
                    logger.debug("schema rule %s created concurrently by another client", name)
                    continue
                if unenforceable_rule(name, self.describe()):
                    continue
                raise

    def read(self, name: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run a named read. A read that meets a record another transaction deleted while it
        ran (ArcadeDB's ``EntityNotFound``: a live add correcting a message deletes its events)
        is run again, up to :data:`READ_ATTEMPTS` times: reads change nothing."""
        self._ready()
        text = self.statement_text(name)
        values = _plain_vectors(params)
        return _retried(lambda: self._session_call("execute_read", lambda tx: _rows(tx.run(text, values)), action=f"query {name}"),
                        lambda cause: isinstance(cause, neo4j_errors.Neo4jError) and cause.code == _ENTITY_NOT_FOUND,
                        READ_ATTEMPTS, 0.005, 0.02, f"query {name} met a record deleted while it ran")

    def _runnable_params(self, params: Mapping[str, Any] | None) -> Any:
        return _plain_vectors(params)

    def write(self, statements: Sequence[Statement]) -> list[dict[str, Any]]:
        """Run ``statements`` in ONE managed write transaction: all or nothing; returns the rows
        of its :data:`~graphmem.store.base.TALLY` statements from the run that committed.

        The driver retries transient errors (deadlocks, leader switches). A
        unique-constraint violation is retried here too: graphmem's writes are
        idempotent ``MERGE``s, so one that lost a race against a concurrent writer
        of the same node succeeds when run again (it then matches the node).
        """
        self._ready()
        if not statements:
            return []
        prepared = self._runnable(statements)
        names = ", ".join(sorted({name for name, _ in statements}))

        def work(tx: Any) -> list[dict[str, Any]]:
            tallied: list[dict[str, Any]] = []  # (a run again counts again)
            for (name, _), (text, params) in zip(statements, prepared):
                if name.startswith(GUARD):
                    refused = refused_by(name, list(tx.run(text, params)))
                    if refused is not None:
                        raise refused  # (rolled back)
                elif name.startswith(TALLY):
                    tallied.extend(_rows(tx.run(text, params)))
                else:
                    tx.run(text, params).consume()
            return tallied

        return _retried(lambda: self._session_call("execute_write", work, action=f"write ({names})"),
                        _lost_a_race,
                        CONSTRAINT_RACE_ATTEMPTS, 0.01, 0.05, f"write ({names}) lost a MERGE race")

    def write_returning(self, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        self._ready()
        text = self.statement_text(name)
        values = _plain_vectors(params)
        return self._session_call("execute_write", lambda tx: _rows(tx.run(text, values)), action=f"write {name}")

    def run_cypher(self, text: str, params: Mapping[str, Any] | None = None, *, write: bool = False,
                   then: Sequence[Statement] = (), timeout: float = 0) -> list[dict[str, Any]]:
        """Run user Cypher; without ``write`` a statement that writes is refused and rolled back;
        with it, the named statements ``then`` run after it in the same transaction.

        ``timeout`` goes to the server as the transaction's timeout (Neo4j stops the query), and
        graphmem stops waiting for the answer at it too (closing the connection; ArcadeDB's Bolt
        plugin ignores the transaction timeout and runs the query to its end)."""
        self._ready()
        values = dict(params or {})
        following = self._runnable(then) if write else []

        deadline = time.monotonic() + timeout if timeout else None

        def work(tx: Any) -> list[dict[str, Any]]:
            result = tx.run(text, values)
            rows = []
            for record in result:  # (a server that ignores the transaction timeout may stream past it)
                if deadline is not None and time.monotonic() > deadline:
                    raise _PastTimeLimit()
                rows.append({key: to_json(value) for key, value in record.items()})
            summary = result.consume()
            if not write and (summary.query_type in ("w", "rw", "s") or summary.counters.contains_updates
                              or summary.counters.contains_system_updates):
                # raising inside the transaction function rolls the transaction back
                raise _ReadOnlyViolation()
            for statement, more in following:
                tx.run(statement, more).consume()
            return rows

        try:
            return self._session_call("execute_write" if write else "execute_read", work, action="cypher", limit=timeout)
        except _ReadOnlyViolation as exc:
            raise InputError(WRITE_REFUSED) from exc
        except StorageError as exc:
            cause = exc.__cause__
            code = getattr(cause, "code", None) or ""
            if isinstance(cause, neo4j_errors.Neo4jError) and code.startswith("Neo.ClientError.Statement."):
                # the query's fault, in the embedded store's words and classes (a syntax error: InputError, CLI exit 2, HTTP 400)
                raise user_cypher_error(cause.message or str(cause), syntax=code.endswith(".SyntaxError")) from cause
            raise

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._inherited:  # a fork's child: closing the driver would end the parent's connections
            self._driver = None
            return
        self._close_driver()

    # ------------------------------------------------------------------ internals
    def _ready(self) -> None:
        self._check_open()
        if self._driver is None:
            raise StorageError(f"{self.describe()} is not open; call open() first")

    def _close_driver(self) -> None:
        driver, self._driver = self._driver, None
        if driver is not None:
            try:
                driver.close()
            except Exception:  # closing must not mask the caller's error
                logger.warning("error closing the driver of %s", self.describe(), exc_info=True)

    def _session_call(self, method: str, work: Callable[[Any], T], *, action: str = "schema", limit: float = 0) -> T:
        """Run ``work`` in a managed transaction of a fresh session (sessions are not thread-safe).

        Every read of the connection waits at most ``Settings.bolt_read_timeout`` for bytes (a
        server stopped or frozen sends none, and the driver has no setting for it: see
        :func:`_bound_reads`); a ``limit`` (user Cypher's time limit) is sent as the transaction's
        timeout and bounds the waits to it (plus :data:`SERVER_STOP_GRACE`)."""
        patience = self._settings.bolt_read_timeout
        bound = patience
        if limit:
            bound = min(patience, limit + SERVER_STOP_GRACE) if patience else limit + SERVER_STOP_GRACE

        def bounded(tx: Any) -> T:
            _bound_reads(tx, bound)
            try:
                return work(tx)
            except (_ReadOnlyViolation, WriteConflict, _PastTimeLimit):
                raise
            except Exception as exc:
                if bound and _no_answer(exc):
                    raise _NoAnswer() from exc  # (not the driver's: it is not retried on another connection)
                raise

        try:
            with self._driver.session(database=self.database, bookmark_manager=self._bookmarks) as session:
                return getattr(session, method)(neo4j.unit_of_work(timeout=limit or None)(bounded))
        except (_ReadOnlyViolation, WriteConflict):
            raise
        except (_NoAnswer, _PastTimeLimit) as exc:
            if limit and (isinstance(exc, _PastTimeLimit) or bound < patience or not patience):
                raise time_limit_error(limit) from exc
            raise StoreUnavailableError(f"no answer from {self._location} within {seconds_text(bound)} ({action}): the server "
                                        "is stopped, frozen or overloaded (bolt_read_timeout, GRAPHMEM_BOLT_READ_TIMEOUT, "
                                        "sets how long to wait)") from exc
        except Exception as exc:
            if limit and isinstance(exc, neo4j_errors.Neo4jError) and "TransactionTimedOut" in (exc.code or ""):
                raise time_limit_error(limit) from exc  # (the server stopped it: Neo4j)
            raise self._translate(exc, action) from exc

    def _translate(self, exc: BaseException, action: str) -> Exception:
        """A graphmem error with a one-line message for a driver exception."""
        errors = neo4j_errors
        where = self._location
        if isinstance(exc, errors.AuthError):
            return StoreUnavailableError(f"authentication failed for user {self.user!r} at {where}")
        if isinstance(exc, (ValueError, errors.ConfigurationError)) and action == "connect":
            return ConfigurationError(f"invalid Bolt URI {self._location!r}: {_one_line(exc)}")
        if isinstance(exc, errors.Neo4jError) and exc.code in _DATABASE_NOT_FOUND:
            return ConfigurationError(f"database {self.database!r} does not exist at {where}")
        if isinstance(exc, errors.UnsupportedServerProduct):
            return ConfigurationError(f"unsupported server at {where}: {_one_line(exc)} (graphmem needs Neo4j {MIN_NEO4J_MAJOR} or later)")
        if isinstance(exc, (errors.ServiceUnavailable, errors.SessionExpired)) and _no_answer(exc):
            return StoreUnavailableError(f"no answer from {where} ({action}): the server is stopped, frozen or overloaded "
                                         f"({_unreachable_reason(exc)})")
        if isinstance(exc, (errors.ServiceUnavailable, errors.SessionExpired, errors.ConnectionAcquisitionTimeoutError)):
            return StoreUnavailableError(f"cannot reach {where}: {_unreachable_reason(exc)}")
        if isinstance(exc, errors.Neo4jError):
            message = exc.message or str(exc)
            return StorageError(f"{action} failed in {self.describe()}: {exc.code}: {_one_line(message)}")
        if isinstance(exc, errors.DriverError):
            return StorageError(f"{action} failed in {self.describe()}: {_one_line(exc) or type(exc).__name__}")
        if isinstance(exc, OSError):
            return StoreUnavailableError(f"cannot reach {where}: {_one_line(exc)}")
        return StorageError(f"{action} failed in {self.describe()}: {type(exc).__name__}: {_one_line(exc)}")


def _plain_vectors(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """``params`` with each numpy vector as a list of floats (what Bolt carries)."""
    return map_vectors(dict(params or {}), lambda array: array.astype(float).ravel().tolist())


class _ReadOnlyViolation(Exception):
    """Raised inside a read transaction function to roll back a query that wrote."""


class _NoAnswer(Exception):
    """Raised inside a transaction function when a read of the connection waited past its bound."""


class _PastTimeLimit(Exception):
    """Raised inside a transaction function when user Cypher's records still come past its time limit."""


def _no_answer(exc: BaseException) -> bool:
    """Whether ``exc`` (a driver error) came of a read of the connection that waited past its bound
    (``socket.timeout``), or of a new connection's handshake that waited past the driver's deadline."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, TimeoutError) and not isinstance(cause, neo4j_errors.DriverError):
            return True
        if type(cause).__name__ == "SocketDeadlineExceededError":  # (the driver's private class)
            return True
        cause = cause.__cause__ or cause.__context__
    return False


_UNBOUNDED_WARNED: list[bool] = []


def _bound_reads(tx: Any, seconds: float) -> None:
    """Make every read of ``tx``'s connection wait at most ``seconds`` (``0``: no bound) for bytes.

    The driver has no setting for it: it applies a server's hint (Neo4j 5 sends
    ``connection.recv_timeout_seconds`` with its keep-alive, ArcadeDB none) through the
    connection's socket, and so does this, through the driver's private ``_connection``
    (neo4j 5 and 6). The bound stays with the connection, so the next transaction's BEGIN on it
    is bounded too. A driver without that path leaves reads unbounded, with a warning once."""
    socket_ = getattr(getattr(tx, "_connection", None), "socket", None)
    setter = getattr(socket_, "set_read_timeout", None)
    if setter is None:
        if not _UNBOUNDED_WARNED:
            _UNBOUNDED_WARNED.append(True)
            logger.warning("this neo4j driver (%s) gives no way to bound a read: a frozen Bolt server holds a query until "
                           "it answers", getattr(neo4j, "__version__", "?"))
        return
    setter(seconds or None)


def _rows(result: Any) -> list[dict[str, Any]]:
    return [{key: to_json(value) for key, value in record.items()} for record in result]


def _safe_port(parts: Any) -> int | None:
    try:
        return parts.port
    except ValueError:  # a malformed port: the driver reports it on open()
        return None


def _unreachable_reason(exc: BaseException) -> str:
    text = _one_line(exc)
    match = re.search(r"\(reason (.+)\)\s*$", text)
    if match:
        return match.group(1)
    return text or type(exc).__name__
