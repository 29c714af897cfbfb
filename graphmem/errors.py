"""Exception hierarchy: one root, subclasses by failure domain."""

from __future__ import annotations

__all__ = [
    "GraphmemError",
    "InputError",
    "StorageError",
    "StoreUnavailableError",
    "QueryTimeoutError",
    "ConfigurationError",
    "ClosedError",
    "reject_lone_surrogates",
    "unencodable_at",
]


class GraphmemError(Exception):
    """Root of every error graphmem raises on purpose."""


class InputError(GraphmemError, ValueError):
    """Input that cannot be ingested: malformed file, wrong type, missing field.

    The message names the file and the place (line/column, JSON path or field).
    Nothing from the offending source has been written when this is raised.
    """


class ConfigurationError(GraphmemError, ValueError):
    """A setting, URI, namespace or optional dependency is wrong or missing."""


class StorageError(GraphmemError, RuntimeError):
    """The graph store failed to run a statement or to open."""


class StoreUnavailableError(StorageError, ConnectionError):
    """The store cannot be reached, the credentials are wrong, or it is locked by another process."""


class QueryTimeoutError(StorageError, TimeoutError):
    """User Cypher ran past its time limit and was stopped; nothing it wrote is kept.

    ``limit`` is the limit in seconds (``None`` where it is not known: a server's answer). The message names it and how to raise it
    (``Settings.cypher_timeout``, ``GRAPHMEM_CYPHER_TIMEOUT``, ``Memory.cypher(timeout=...)``,
    ``graphmem cypher --timeout``)."""

    def __init__(self, message: str, limit: float | None = None) -> None:
        super().__init__(message)
        self.limit = limit


class ClosedError(GraphmemError, RuntimeError):
    """A closed Memory (or store) was used."""


def unencodable_at(value: object, where: str = "") -> str | None:
    """Path (``where``, then ``.key`` / ``[i]``) of the first string in ``value`` (nested in
    dicts, lists and tuples, keys included) that is not valid Unicode, else ``None``.

    Python strings and JSON (the escape ``"\\ud800"``) can hold a lone surrogate, which is no
    character: no tokenizer, database or file takes it, so it is refused where it comes in."""
    stack: list[tuple[object, str]] = [(value, where)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return at
        elif isinstance(item, dict):  # pushed in reverse so the first offender is found first
            for key, child in reversed(list(item.items())):
                stack.append((child, f"{at}.{key}" if at else str(key)))
                stack.append((key, f"{at} (a key)"))
        elif isinstance(item, (list, tuple)):
            stack.extend((child, f"{at}[{i}]") for i, child in reversed(list(enumerate(item))))
    return None


def reject_lone_surrogates(value: object, where: str) -> None:
    """Raise :class:`InputError` naming ``where`` (and the place inside ``value``) when a string
    in ``value`` holds a lone surrogate (see :func:`unencodable_at`)."""
    at = unencodable_at(value, where)
    if at is not None:
        raise InputError(f"{at}: not valid Unicode text (a lone surrogate such as \\ud800)")
