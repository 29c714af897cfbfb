"""graphmem: long-term memory for conversational agents.

Conversations go in; a knowledge hypergraph comes out in a graph database
(embedded ArcadeDB by default, or Neo4j over Bolt); questions get evidence with
provenance and an explanation.

Example:
    >>> from graphmem import Memory
    >>> with Memory.open("/tmp/graphmem-demo") as memory:    # doctest: +SKIP
    ...     memory.ingest("conversation.json")
    ...     hits = memory.search("When did Caroline go to the support group?")

The public names load on first use (PEP 562): ``import graphmem.errors`` or the ``graphmem``
command's start does not import the engine, the model or the database driver first.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # (the "X as X" form re-exports them to a strict type checker)
    from graphmem.client import AsyncClient as AsyncClient, Client as Client
    from graphmem.errors import (
        ClosedError as ClosedError,
        ConfigurationError as ConfigurationError,
        GraphmemError as GraphmemError,
        InputError as InputError,
        QueryTimeoutError as QueryTimeoutError,
        StorageError as StorageError,
        StoreUnavailableError as StoreUnavailableError,
    )
    from graphmem.hits import Hit as Hit
    from graphmem.ingest import IngestReport as IngestReport
    from graphmem.ingest.live import AddReport as AddReport
    from graphmem.memory import AsyncMemory as AsyncMemory, Memory as Memory
    from graphmem.records import ConversationRecord as ConversationRecord, SessionRecord as SessionRecord, TurnRecord as TurnRecord
    from graphmem.settings import Settings as Settings

__version__ = "0.1.0"

_HOMES = {
    "AddReport": "graphmem.ingest.live",
    "AsyncClient": "graphmem.client",
    "AsyncMemory": "graphmem.memory",
    "Client": "graphmem.client",
    "ClosedError": "graphmem.errors",
    "ConfigurationError": "graphmem.errors",
    "ConversationRecord": "graphmem.records",
    "GraphmemError": "graphmem.errors",
    "Hit": "graphmem.hits",
    "IngestReport": "graphmem.ingest",
    "InputError": "graphmem.errors",
    "Memory": "graphmem.memory",
    "QueryTimeoutError": "graphmem.errors",
    "SessionRecord": "graphmem.records",
    "Settings": "graphmem.settings",
    "StorageError": "graphmem.errors",
    "StoreUnavailableError": "graphmem.errors",
    "TurnRecord": "graphmem.records",
}

__all__ = [
    "AddReport", "AsyncClient", "AsyncMemory", "Client", "ClosedError", "ConfigurationError", "ConversationRecord",
    "GraphmemError", "Hit", "IngestReport", "InputError", "Memory", "QueryTimeoutError", "SessionRecord", "Settings", "StorageError",
    "StoreUnavailableError", "TurnRecord", "__version__",
]


def __getattr__(name: str) -> Any:
    """A public name, imported from its module at first use; a submodule (``graphmem.errors`` after
    ``import graphmem``), imported as the eager package had imported it."""
    home = _HOMES.get(name)
    if home is not None:
        value = getattr(importlib.import_module(home), name)
    elif not name.startswith("_") and importlib.util.find_spec(f"graphmem.{name}") is not None:
        value = importlib.import_module(f"graphmem.{name}")
    else:
        raise AttributeError(f"module 'graphmem' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
