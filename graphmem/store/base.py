"""The store contract: run a named query with parameters, run a batch in one
transaction, apply the schema, close. Everything else is built on it."""

from __future__ import annotations

import logging
import os
import re
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from graphmem.errors import ClosedError, GraphmemError, InputError, QueryTimeoutError, StorageError, StoreUnavailableError
from graphmem.resources import query_names, query_text

__all__ = ["COMMIT_RACES", "GUARD", "TALLY", "GraphStore", "PreparedStatements", "Statement", "WriteConflict", "chunked", "map_vectors",
           "user_cypher_error", "WRITE_REFUSED", "time_limit_error", "seconds_text"]

logger = logging.getLogger(__name__)

Statement = tuple[str, Mapping[str, Any]]
"""A named query and its parameters, e.g. ``("write/merge_turns", {"rows": [...]})``.

A parameter value anywhere in the structure may be a 1-D numpy array (an embedding):
each backend hands it to its database in the cheapest exact form (see :func:`map_vectors`)
and it reads back as a list of floats."""


COMMIT_RACES = ("DuplicatedKeyException", "ConcurrentModificationException", "NeedRetryException")
"""ArcadeDB's names for a write that lost a race to a concurrent writer (the same MERGE, the same
record or index page): run again, graphmem's idempotent MERGEs give the result of running them once.
Over Bolt its plugin reports them as an ``UnknownError`` where Neo4j raises a ``ConstraintError``."""

GUARD = "guard/"
"""The prefix of a statement a write runs as its guard: one that returns no row refuses the whole
transaction with :class:`WriteConflict` (see ``guard/change_marker_at``)."""


TALLY = "tally/"
"""The prefix of a statement whose rows a write returns (see :meth:`GraphStore.write`): run inside
the transaction, after its writes, it tells what that transaction itself wrote (the turns it created,
not those a concurrent writer of the same file committed first and its ``MERGE`` then matched)."""


class WriteConflict(StorageError):
    """A guarded write found the store changed since it was planned (another process committed
    meanwhile); nothing of it was written. The writer plans again from what is stored now."""


def refused_by(name: str, rows: Any) -> WriteConflict | None:
    """The conflict the guard statement ``name`` (of the :data:`GUARD` family) answering ``rows``
    raises; ``None`` when it held."""
    if rows:
        return None
    return WriteConflict(f"the store changed while the write was planned ({name} failed): planning again")


def map_vectors(value: Any, convert: Callable[[np.ndarray], Any]) -> Any:
    """``value`` with every numpy array in it (in dicts, lists and tuples) replaced by ``convert(array)``."""
    if isinstance(value, np.ndarray):
        return convert(value)
    if isinstance(value, dict):
        return {key: map_vectors(item, convert) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [map_vectors(item, convert) for item in value]
    return value


class PreparedStatements(list):
    """Statements (still a list of them) with each one's Cypher text and parameters already in
    the form its store runs: what :meth:`GraphStore.prepare` returns and that store's
    :meth:`GraphStore.write` takes as it would the statements."""

    def __init__(self, statements: Sequence[Statement], runnable: list[tuple[str, Any]], store: "GraphStore") -> None:
        super().__init__(statements)
        self.runnable = runnable
        self.store = store


WRITE_REFUSED = "the query writes; add --write to run it (write=True in Python)"
"""What a read-only run of user Cypher that writes says, on every backend."""

_MISSING_PARAMETERS = re.compile(r"Expected parameter\(s\):\s*([A-Za-z_][\w]*(?:\s*,\s*[A-Za-z_][\w]*)*)")
_JAVA_NAME = re.compile(r"(?:Query failed:\s*)?\b(?:[a-z_]\w*\.)+[A-Z]\w*(?:Exception|Error)\b:?\s*")


_NO_CAUSE = re.compile(r"\s*\(caused by\s*\)")
_SYNTAX = re.compile(r"syntax error|invalid input|mismatched input|unexpected input|no viable alternative|cannot be empty"
                     r"|unknown function|UndefinedVariable|ColumnNameConflict", re.IGNORECASE)


def user_cypher_error(message: str, *, syntax: bool = False) -> GraphmemError:
    """The graphmem error for a database's complaint about user Cypher, in the user's words.

    A missing parameter becomes ``InputError("missing parameter $x")``; Java class names
    (``com.arcadedb.exception.CommandParsingException``) are cut, so that what reaches a user
    says what was wrong and not which class noticed it; the rest is one line. A syntax error (an
    unknown function, an undefined variable, a column named twice) is the query's fault: an
    ``InputError``, as the HTTP API answers it (400); ``syntax``: the database said so (a Bolt
    server's ``Neo.ClientError.Statement.SyntaxError``), whatever its words.
    """
    missing = _MISSING_PARAMETERS.search(message)
    if missing:
        names = [name.strip() for name in missing.group(1).split(",")]
        return InputError("missing parameter " + ", ".join(f"${name}" for name in names))
    if "not idempotent" in message or "QueryNotIdempotent" in message:
        return InputError(WRITE_REFUSED)
    text = _JAVA_NAME.sub("", message.strip().splitlines()[0] if message.strip() else message)
    text = _NO_CAUSE.sub("", text).strip()  # ArcadeDB's "(caused by )" with nothing after it
    if syntax or _SYNTAX.search(text):  # the query's own fault, not the store's (the server answered it 400 already)
        return InputError(f"cypher: {text}")
    return StorageError(f"cypher failed: {text or 'the database refused the query'}")


def seconds_text(seconds: float) -> str:
    """``seconds`` as a person writes it: ``30 s``, ``0.5 s``."""
    return f"{seconds:g} s"


def time_limit_error(limit: float) -> QueryTimeoutError:
    """The error for user Cypher stopped at its time limit of ``limit`` seconds, saying how to raise it."""
    return QueryTimeoutError(f"cypher: the query ran past its time limit of {seconds_text(limit)} and was stopped; give it more "
                             "time with timeout= (graphmem cypher --timeout SECONDS) or GRAPHMEM_CYPHER_TIMEOUT "
                             "(Settings.cypher_timeout; 0 for no limit)", limit)


def chunked(rows: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    """Split ``rows`` into consecutive slices of at most ``size`` items."""
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def unenforceable_rule(name: str, where: str) -> bool:
    """Whether the schema statement ``name`` that failed may be passed over, with a warning: a
    uniqueness rule the stored data breaks already (a rule added in a later version, over a store
    damaged before it: duplicate ids that ``graphmem check`` names). Opening the store anyway lets
    ``check`` name the damage and ``forget`` or Cypher repair it; the next open creates the rule."""
    if not name.startswith("schema/constraint_"):
        return False
    logger.warning("%s: the uniqueness rule %s cannot be created (the stored data breaks it: run graphmem check); "
                   "the store opens without it", where, name.removeprefix("schema/"))
    return True


class GraphStore(ABC):
    """A graph database that runs graphmem's named Cypher statements.

    Subclasses implement the four primitives; queries are always loaded from the
    shipped ``cypher/`` files by name, and every value is passed as a parameter.
    """

    kind: str = "abstract"
    #: query names this backend overrides with a dialect-specific file under ``cypher/<kind>/``
    dialect_overrides: frozenset[str] = frozenset()

    #: why a fork's child cannot use what its parent opened, and what to do instead
    fork_advice: str = "open the store again in this process"

    def __init__(self) -> None:
        self._closed = False
        self._pid: int | None = None  # the process that opened it (a fork's child must not use it)

    # ---- helpers shared by every backend
    @property
    def _inherited(self) -> bool:
        """True in a fork's child of the process that opened this store."""
        return self._pid is not None and os.getpid() != self._pid

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError(f"{self.describe()} is closed")
        if self._inherited:
            raise StoreUnavailableError(f"store {self.describe()} was opened by process {self._pid}, and this process "
                                        f"({os.getpid()}) is a fork of it: {self.fork_advice}")

    def statement_text(self, name: str) -> str:
        """The Cypher text this backend runs for query ``name``."""
        if name in self.dialect_overrides:
            return query_text(f"{self.kind}/{name}")
        return query_text(name)

    def schema_statements(self) -> list[str]:
        """Names of the schema statements, in the order they are applied."""
        return [n for n in query_names() if n.startswith("schema/")]

    def prepare(self, statements: Sequence[Statement]) -> PreparedStatements:
        """``statements`` with their text and parameters converted now, in this thread, for a
        :meth:`write` that runs later, maybe in another thread.

        The conversion is Python work (rows to one JSON text and vectors to Java arrays for
        the embedded database, vectors to lists for Bolt). Done in a writer thread, it waits for
        the interpreter lock while the ingest's main thread analyses the next conversation:
        LoCoMo dev, 0.55 s there against 0.17 s here."""
        return PreparedStatements(statements, self._runnable(statements), self)

    def _runnable(self, statements: Sequence[Statement]) -> list[tuple[str, Any]]:
        """Each statement's text and parameters as this backend runs them."""
        if isinstance(statements, PreparedStatements) and statements.store is self:
            return statements.runnable
        return [(self.statement_text(name), self._runnable_params(params)) for name, params in statements]

    def _runnable_params(self, params: Mapping[str, Any] | None) -> Any:
        """Parameters in the form this backend's driver takes."""
        return dict(params or {})

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._closed

    def thread_done(self) -> None:
        """The calling thread may wait idle before it uses this store again (each task of a
        server's thread pool): what the store keeps for it is let go. Nothing here; the embedded
        store detaches the thread from its JVM (a thread that ends does so by itself)."""

    def announce(self, text: str) -> None:
        """Say what this process does with the store (``"graphmem serve at http://..."``), for another
        process it refuses to name. Nothing here: a Bolt store is shared; the embedded store
        writes it beside its owner's PID."""

    # ---- the contract
    @abstractmethod
    def describe(self) -> str:
        """A human-readable location, e.g. ``embedded:/path`` or ``bolt://host:7687``."""

    @abstractmethod
    def cache_dir(self, namespace_slug: str) -> Path:
        """Directory for the derived caches (ANN, lexical) of one namespace."""

    @abstractmethod
    def apply_schema(self) -> None:
        """Create constraints and indexes idempotently."""

    @abstractmethod
    def read(self, name: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run the read query ``name`` and return its rows as dicts."""

    @abstractmethod
    def write(self, statements: Sequence[Statement]) -> list[dict[str, Any]]:
        """Run ``statements`` in order, in ONE transaction: all or nothing.

        Returns:
            The rows of its :data:`TALLY` statements, in order, from the run that committed (a
            transaction run again after losing a commit race counts again).
        """

    @abstractmethod
    def write_returning(self, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Run one write statement in its own transaction and return its rows."""

    @abstractmethod
    def run_cypher(self, text: str, params: Mapping[str, Any] | None = None, *, write: bool = False,
                   then: Sequence[Statement] = (), timeout: float = 0) -> list[dict[str, Any]]:
        """Run user-supplied Cypher (read-only unless ``write``), rows as JSON-ready dicts; with
        ``write``, the named statements ``then`` run after it in the same transaction.

        A ``timeout`` (seconds; ``0``: none) stops the query when it runs longer, with
        :class:`QueryTimeoutError` (see :func:`time_limit_error`); nothing it wrote is kept. It
        bounds the user's statement only, never the ``then`` statements."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection or database; idempotent."""
