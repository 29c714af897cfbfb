"""Shared fixtures: the Bolt test server, the real embedder, and one Memory factory
parametrised over every store backend.

Backends:
    embedded  ArcadeDB in-process, a fresh directory per test.
    bolt      ArcadeDB's Bolt plugin, one server per test session (graphmem.testing).
    neo4j     your own Neo4j, when ``GRAPHMEM_TEST_NEO4J_URI`` is set (with
              ``GRAPHMEM_TEST_NEO4J_USER``, ``GRAPHMEM_TEST_NEO4J_PASSWORD`` and
              optionally ``GRAPHMEM_TEST_NEO4J_DATABASE``); skipped otherwise.

Every test writes into its own namespace (a uuid) and, on Bolt backends, deletes
that namespace's nodes afterwards; caches go to the test's temporary directory.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from graphmem.embed import Embedder
from graphmem.memory import Memory
from graphmem.settings import DEFAULT_MODEL, Settings

# One JVM per process hosts both the embedded store and the Bolt test server; keep it small.
TEST_JVM_HEAP = "768m"
BACKENDS = ("embedded", "bolt", "neo4j")

CONTRACT_CONVERSATION = {
    "format": "graphmem.conversation/1",
    "id": "contract-maya-leo",
    "speakers": ["Maya", "Leo"],
    "sessions": [
        {"id": "1", "started_at": "2024-05-04T10:00:00", "turns": [
            {"id": "D1:1", "speaker": "Leo", "text": "Did you finally adopt a pet from the shelter?"},
            {"id": "D1:2", "speaker": "Maya", "text": "Yes! My new cat is a ginger tabby called Biscuit."},
            {"id": "D1:3", "speaker": "Leo", "text": "Biscuit is a great name. Is he shy around strangers?"},
            {"id": "D1:4", "speaker": "Maya", "text": "He hides under the sofa whenever the doorbell rings."},
            {"id": "D1:5", "speaker": "Leo", "text": "Give him a week and he will own the whole flat."},
        ]},
        {"id": "2", "started_at": "2024-05-18T19:30:00", "turns": [
            {"id": "D2:1", "speaker": "Maya", "text": "We started renovating the kitchen this weekend."},
            {"id": "D2:2", "speaker": "Leo", "text": "Are you replacing the old oak cabinets?"},
            {"id": "D2:3", "speaker": "Maya", "text": "We are putting in white cabinets and a marble countertop."},
            {"id": "D2:4", "speaker": "Leo", "text": "My cousin Omar is a plumber if you need the sink moved."},
            {"id": "D2:5", "speaker": "Maya", "text": "Thanks, the new sink goes under the window next to the stove."},
        ]},
    ],
}


# ---------------------------------------------------------------------------- servers
@pytest.fixture(scope="session")
def bolt_server(tmp_path_factory):
    """An ArcadeDB server with the Bolt plugin, started once per test session."""
    from graphmem.testing import start_bolt_server

    server = start_bolt_server(tmp_path_factory.mktemp("bolt-server"), database="graphmem_test", jvm_heap=TEST_JVM_HEAP)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def bolt_uri(bolt_server) -> str:
    """``bolt://127.0.0.1:<port>`` of the test server."""
    return bolt_server.uri


@pytest.fixture
def bolt_auth(bolt_server) -> tuple[str, str]:
    """``(user, password)`` of the test server."""
    return bolt_server.auth


@pytest.fixture
def bolt_database(bolt_server) -> str:
    """The test server's database."""
    return bolt_server.database


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real embedding model, loaded once (Memory objects share the loaded model)."""
    model = Embedder(DEFAULT_MODEL, 64, "cpu")
    model.encode(["warm up"])
    return model


# ---------------------------------------------------------------------------- backends
@dataclass(frozen=True)
class Backend:
    """Where a test's Memory lives, and how to reach it."""

    name: str
    location: str
    auth: tuple[str, str] | None = None
    database: str | None = None

    @property
    def is_bolt(self) -> bool:
        return self.name != "embedded"


def neo4j_from_env() -> Backend | None:
    """The user's Neo4j from ``GRAPHMEM_TEST_NEO4J_*``, or None."""
    uri = os.environ.get("GRAPHMEM_TEST_NEO4J_URI")
    if not uri:
        return None
    auth = (os.environ.get("GRAPHMEM_TEST_NEO4J_USER", "neo4j"), os.environ.get("GRAPHMEM_TEST_NEO4J_PASSWORD", ""))
    return Backend("neo4j", uri, auth, os.environ.get("GRAPHMEM_TEST_NEO4J_DATABASE") or None)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request, tmp_path_factory) -> Backend:
    """Each store backend in turn; ``neo4j`` is skipped unless configured.

    One store per backend for the whole session (the embedded one in a temporary
    directory); tests keep apart by namespace.
    """
    if request.param == "embedded":
        return Backend("embedded", str(tmp_path_factory.mktemp("embedded") / "store"))
    if request.param == "bolt":
        server = request.getfixturevalue("bolt_server")
        return Backend("bolt", server.uri, server.auth, server.database)
    configured = neo4j_from_env()
    if configured is None:
        pytest.skip("GRAPHMEM_TEST_NEO4J_URI not set")
    return configured


def settings_for(directory: Path) -> Settings:
    """Settings for tests: caches under ``directory``, a small JVM heap."""
    return Settings(index_dir=str(Path(directory) / "index"), jvm_heap=TEST_JVM_HEAP)


@pytest.fixture
def test_settings(tmp_path) -> Settings:
    """:func:`settings_for` the test's temporary directory."""
    return settings_for(tmp_path)


def new_namespace(prefix: str = "test") -> str:
    """A namespace no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex}"


def drop_namespace(memory: Memory) -> None:
    """Delete every node of ``memory``'s namespace (Bolt servers outlive the test)."""
    memory.cypher("MATCH (n) WHERE n.namespace = $namespace DETACH DELETE n", write=True)


@contextmanager
def memories(backend: Backend, settings: Settings) -> Iterator[Callable[..., Memory]]:
    """Yield ``factory(namespace=None) -> Memory`` on ``backend``; clean up on exit.

    Each call without a namespace gets a fresh one. Everything opened is closed
    at the end, and on Bolt backends the namespaces used are deleted.
    """
    opened: list[Memory] = []

    def factory(namespace: str | None = None) -> Memory:
        memory = Memory.open(backend.location, namespace or new_namespace(), settings=settings,
                             auth=backend.auth, database=backend.database)
        opened.append(memory)
        return memory

    try:
        yield factory
    finally:
        if backend.is_bolt:
            for namespace in dict.fromkeys(m.namespace for m in opened):
                with Memory.open(backend.location, namespace, settings=settings, auth=backend.auth,
                                 database=backend.database) as cleaner:
                    drop_namespace(cleaner)
        for memory in opened:
            memory.close()


@pytest.fixture
def memory_factory(backend, test_settings, embedder) -> Iterator[Callable[..., Memory]]:
    """``factory(namespace=None) -> Memory`` on the current backend (see :func:`memories`)."""
    with memories(backend, test_settings) as factory:
        yield factory


def write_conversation(directory: Path, doc: dict | None = None, name: str = "contract.json") -> Path:
    """Write ``doc`` (default: the contract conversation) as native JSON; return the path."""
    path = Path(directory) / name
    path.write_text(json.dumps(doc or CONTRACT_CONVERSATION, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def conversation_file(tmp_path) -> Path:
    """The contract conversation (2 sessions, 10 turns) as a native JSON file."""
    return write_conversation(tmp_path)
