"""A time limit on user Cypher: a slow query is stopped (not left running), with an error naming the
limit and how to raise it, and the store answers the next query at once. Real parts: the embedded
store, the server over a real socket, the CLI."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading

import httpx
import pytest
from typer.testing import CliRunner

from conftest import settings_for
from graphmem import Client, Memory, QueryTimeoutError
from graphmem.cli import app
from graphmem.errors import InputError, StorageError, StoreUnavailableError
from graphmem.server import MemoryHub
from graphmem.settings import Settings
from graphmem.store.bolt import BoltStore
from serving import running

#: Ten billion rows, each filtered out: minutes of work that reads nothing of the store, so it runs the
#: same on an empty memory. ArcadeDB checks its deadline at every row the filter pulls.
SLOW = "UNWIND range(1, 100000) AS x UNWIND range(1, 100000) AS y WITH x, y WHERE x + y < 0 RETURN x"


@pytest.fixture
def memory(tmp_path):
    with Memory.open(tmp_path / "store", namespace="slow", settings=settings_for(tmp_path)) as opened:
        yield opened


def test_a_slow_query_is_stopped_at_its_time_limit_and_the_next_query_runs(memory):
    with pytest.raises(QueryTimeoutError) as stopped:
        memory.cypher(SLOW, timeout=0.5)
    message = str(stopped.value)
    assert "time limit of 0.5 s" in message and "GRAPHMEM_CYPHER_TIMEOUT" in message and "--timeout" in message
    assert stopped.value.limit == 0.5
    assert isinstance(stopped.value, StorageError) and isinstance(stopped.value, TimeoutError)
    assert memory.cypher("RETURN 1 AS one") == [{"one": 1}]


def test_the_setting_is_the_default_limit_and_zero_is_none(tmp_path):
    settings = settings_for(tmp_path).with_(cypher_timeout=0.5)
    with Memory.open(tmp_path / "store", namespace="slow", settings=settings) as memory:
        with pytest.raises(QueryTimeoutError, match="0.5 s"):
            memory.cypher(SLOW)
        # a short query under a limit, and one with no limit at all, answer as before
        assert memory.cypher("UNWIND range(1, 3) AS x RETURN sum(x) AS s", timeout=0) == [{"s": 6}]
        assert memory.cypher("RETURN 2 AS two") == [{"two": 2}]


def test_a_write_stopped_at_its_limit_keeps_nothing(memory):
    with pytest.raises(QueryTimeoutError):
        memory.cypher("CREATE (:Scratch {namespace: $namespace}) WITH 1 AS one " + SLOW, write=True, timeout=0.5)
    assert memory.cypher("MATCH (s:Scratch) RETURN count(s) AS n") == [{"n": 0}]
    # graphmem's own statements of the same transaction (the change marker's bump) are not limited
    memory.cypher("CREATE (:Scratch {namespace: $namespace})", write=True, timeout=0.5)
    assert memory.cypher("MATCH (s:Scratch) RETURN count(s) AS n") == [{"n": 1}]


@pytest.mark.parametrize("timeout", [-1, float("nan"), float("inf"), "30", True])
def test_a_bad_timeout_is_refused_by_name(memory, timeout):
    with pytest.raises(InputError, match="timeout: expected a number of seconds"):
        memory.cypher("RETURN 1 AS one", timeout=timeout)


def test_cli_exits_1_with_one_line_naming_the_limit(tmp_path):
    Memory.open(tmp_path / "store", settings=settings_for(tmp_path)).close()
    runner = CliRunner()
    store = ["--store", str(tmp_path / "store")]
    result = runner.invoke(app, ["cypher", SLOW, "--timeout", "0.5", *store])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "time limit of 0.5 s" in lines[0] and "--timeout" in lines[0]
    # the environment sets the default
    result = runner.invoke(app, ["cypher", SLOW, *store], env={"GRAPHMEM_CYPHER_TIMEOUT": "0.5"})
    assert result.exit_code == 1 and "time limit of 0.5 s" in result.output
    bad = runner.invoke(app, ["cypher", "RETURN 1 AS one", *store], env={"GRAPHMEM_CYPHER_TIMEOUT": "soon"})
    assert bad.exit_code == 2 and "GRAPHMEM_CYPHER_TIMEOUT" in bad.output
    assert runner.invoke(app, ["cypher", "RETURN 1 AS one", "--json", *store]).exit_code == 0


def test_server_answers_504_stays_responsive_and_client_raises(tmp_path, embedder):
    hub = MemoryHub.open(str(tmp_path / "store"), settings_for(tmp_path).with_(cypher_timeout=0.5))
    try:
        with running(hub) as url:
            with Client(url, namespace="served") as client:
                client.add([{"speaker": "Leo", "text": "A slow query must not hold the server."}], conversation="c")
                answer = httpx.post(f"{url}/v1/namespaces/served/cypher", json={"query": SLOW}, timeout=60)
                assert answer.status_code == 504
                assert "server's time limit of 0.5 s" in answer.json()["error"]
                assert "GRAPHMEM_CYPHER_TIMEOUT" in answer.json()["error"]
                with pytest.raises(QueryTimeoutError, match="0.5 s"):
                    client.cypher(SLOW)
                # the store is free at once: a read and a write of the same server answer
                assert client.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN count(t) AS n") == [{"n": 1}]
                client.add([{"speaker": "Maya", "text": "And it did not."}], conversation="c")
                assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
                assert client.stats()["nodes"]["Turn"] == 2
    finally:
        hub.close()


# ---------------------------------------------------------------------------- Bolt
#: A Bolt server of its own process (ArcadeDB's plugin), so that it can be frozen with SIGSTOP and
#: so that a query it goes on running after graphmem gave up on it ends with the process.
BOLT_SERVER = """
import sys, time
from graphmem.testing import start_bolt_server
server = start_bolt_server(sys.argv[1], database="frozen", jvm_heap="512m")
print(server.uri, *server.auth, server.database, flush=True)
while True:
    time.sleep(1)
"""


@pytest.fixture(scope="module")
def bolt_process(tmp_path_factory):
    root = tmp_path_factory.mktemp("frozen-bolt")
    process = subprocess.Popen([sys.executable, "-c", BOLT_SERVER, str(root)], stdout=subprocess.PIPE, text=True)
    try:
        uri, user, password, database = process.stdout.readline().split()
        yield process, uri, (user, password), database
    finally:
        process.send_signal(signal.SIGCONT)
        process.kill()  # (it may be running a query graphmem gave up on: ArcadeDB's Bolt plugin ignores the time limit)
        process.wait(60)


def bolt_store(bolt_process, **settings) -> BoltStore:
    _, uri, auth, database = bolt_process
    return BoltStore(uri, auth=auth, database=database, settings=Settings(**settings)).open()


def test_bolt_user_cypher_past_its_limit_raises_and_the_next_query_runs(bolt_process):
    store = bolt_store(bolt_process)
    try:
        memory = Memory.attach(store, "slow", Settings())
        with pytest.raises(QueryTimeoutError, match="time limit of 0.5 s"):
            memory.cypher(SLOW, timeout=0.5)
        assert memory.cypher("RETURN 1 AS one") == [{"one": 1}]
    finally:
        store.close()


def test_a_frozen_bolt_server_fails_a_read_naming_it_and_serves_again_once_thawed(bolt_process):
    """A server stopped with SIGSTOP: its kernel keeps the connection open and says nothing, which
    held a read forever. The read waits bolt_read_timeout for the old connection's answer and the
    driver's connection_acquisition_timeout for a new one's (small here), then names the server."""
    process, uri = bolt_process[0], bolt_process[1]
    _, _, auth, database = bolt_process
    store = BoltStore(uri, auth=auth, database=database, settings=Settings(bolt_read_timeout=1),
                      driver_config={"connection_acquisition_timeout": 2, "max_transaction_retry_time": 1}).open()
    try:
        assert store.read("read/change_marker", {"namespace": "frozen", "id": "none"}) == []
        process.send_signal(signal.SIGSTOP)
        try:
            outcome: list[BaseException | list] = []

            def read() -> None:
                try:
                    outcome.append(store.read("read/change_marker", {"namespace": "frozen", "id": "none"}))
                except BaseException as exc:  # noqa: BLE001 - the test looks at it
                    outcome.append(exc)

            reader = threading.Thread(target=read, daemon=True)
            reader.start()
            reader.join(60)
            assert not reader.is_alive(), "the read of a frozen server did not end"
        finally:
            process.send_signal(signal.SIGCONT)
        assert isinstance(outcome[0], StoreUnavailableError), outcome
        assert uri in str(outcome[0]) and "no answer" in str(outcome[0])
        assert store.read("read/change_marker", {"namespace": "frozen", "id": "none"}) == []
    finally:
        store.close()


def test_a_socket_that_never_answers_the_handshake_is_refused_naming_it(tmp_path):
    """The driver bounds a new connection's handshake (connection_acquisition_timeout, 60 s by
    default); the error says the server did not answer, as for a frozen one."""
    with socket.socket() as listener:  # accepts connections (the kernel does) and never says a word
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        uri = f"bolt://127.0.0.1:{listener.getsockname()[1]}"
        store = BoltStore(uri, auth=("neo4j", "x"), settings=Settings(), driver_config={"connection_acquisition_timeout": 1})
        with pytest.raises(StoreUnavailableError) as mute:
            store.open()
        assert f"no answer from {uri} (connect)" in str(mute.value)


def test_a_socket_that_never_answers_is_given_up_on_within_bolt_read_timeout(tmp_path):
    """``bolt_read_timeout`` is how long a Bolt store waits for an answer, yet opening a store on a
    server that accepts and says nothing waited the driver's connection_acquisition_timeout (60 s)
    whatever it was set to (and a frozen server's next transaction waited that on top of it)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        uri = f"bolt://127.0.0.1:{listener.getsockname()[1]}"
        outcome: list[BaseException | None] = []

        def open_it() -> None:
            try:
                BoltStore(uri, auth=("neo4j", "x"), settings=Settings(bolt_read_timeout=1)).open()
                outcome.append(None)
            except BaseException as exc:  # noqa: BLE001 - the test looks at it
                outcome.append(exc)

        opener = threading.Thread(target=open_it, daemon=True)
        opener.start()
        opener.join(30)  # (it took 60 s)
        assert not opener.is_alive(), "opening on a mute server waited past bolt_read_timeout"
    assert isinstance(outcome[0], StoreUnavailableError) and f"no answer from {uri} (connect)" in str(outcome[0]), outcome
