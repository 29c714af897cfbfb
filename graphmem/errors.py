"""Exception hierarchy: one root, subclasses by failure domain."""

from __future__ import annotations

__all__ = [
    "GraphmemError",
    "InputError",
    "StorageError",
    "StoreUnavailableError",
    "ConfigurationError",
    "ClosedError",
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


class ClosedError(GraphmemError, RuntimeError):
    """A closed Memory (or store) was used."""
