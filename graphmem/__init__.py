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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graphmem.client import AsyncClient, Client
    from graphmem.errors import (
        ClosedError,
        ConfigurationError,
        GraphmemError,
        InputError,
        StorageError,
        StoreUnavailableError,
    )
    from graphmem.hits import Hit
    from graphmem.ingest import IngestReport
    from graphmem.ingest.live import AddReport
    from graphmem.memory import AsyncMemory, Memory
    from graphmem.records import ConversationRecord, SessionRecord, TurnRecord
    from graphmem.settings import Settings

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
    "SessionRecord": "graphmem.records",
    "Settings": "graphmem.settings",
    "StorageError": "graphmem.errors",
    "StoreUnavailableError": "graphmem.errors",
    "TurnRecord": "graphmem.records",
}

__all__ = sorted([*_HOMES, "__version__"])


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'graphmem' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)
