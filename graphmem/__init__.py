"""graphmem: long-term memory for conversational agents.

Conversations go in; a knowledge hypergraph comes out in a graph database
(embedded ArcadeDB by default, or Neo4j over Bolt); questions get evidence with
provenance and an explanation.

Example:
    >>> from graphmem import Memory
    >>> with Memory.open("/tmp/graphmem-demo") as memory:    # doctest: +SKIP
    ...     memory.ingest("conversation.json")
    ...     hits = memory.search("When did Caroline go to the support group?")
"""

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

__all__ = [
    "AddReport",
    "AsyncClient",
    "AsyncMemory",
    "Client",
    "ClosedError",
    "ConfigurationError",
    "ConversationRecord",
    "GraphmemError",
    "Hit",
    "IngestReport",
    "InputError",
    "Memory",
    "SessionRecord",
    "Settings",
    "StorageError",
    "StoreUnavailableError",
    "TurnRecord",
    "__version__",
]
