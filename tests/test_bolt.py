"""The Bolt backend against a real Bolt server (ArcadeDB's Bolt plugin, started by the
``bolt_server`` fixture): error translation, routing URIs, value conversion,
concurrent writers, and the CLI giving the same answers as on the embedded store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import traceback
import uuid

import jpype
import neo4j
import pytest
from conftest import (
    CONTRACT_CONVERSATION,
    TEST_JVM_HEAP,
    drop_namespace,
    new_namespace,
    settings_for,
    write_conversation,
)
from typer.testing import CliRunner

from graphmem.cli import app
from graphmem.errors import (
    ClosedError,
    ConfigurationError,
    InputError,
    StoreUnavailableError,
)
from graphmem.memory import Memory
from graphmem.store import open_store
from graphmem.store.bolt import BoltStore, check_server_version
from graphmem.testing import free_port, start_bolt_server

pytestmark = pytest.mark.bolt


@pytest.fixture
def store(bolt_server, test_settings):
    """An open BoltStore on the test server."""
    opened = BoltStore(bolt_server.uri, auth=bolt_server.auth, database=bolt_server.database, settings=test_settings).open()
    try:
        yield opened
    finally:
        opened.close()


def _conversation_row(namespace: str, key: str) -> dict:
    return {"id": f"conversation:{uuid.uuid4().hex}", "props": {"namespace": namespace, "key": key}}


# ---------------------------------------------------------------------------- errors
def test_unreachable_server_is_store_unavailable(bolt_server):
    port = free_port()
    with pytest.raises(StoreUnavailableError) as caught:
        BoltStore(f"bolt://127.0.0.1:{port}", auth=bolt_server.auth, database="graphmem").open()
    message = str(caught.value)
    assert message.startswith(f"cannot reach bolt://127.0.0.1:{port}: ")
    assert "refused" in message.lower() and "\n" not in message
    assert isinstance(caught.value.__cause__, neo4j.exceptions.ServiceUnavailable)


def test_wrong_password_is_store_unavailable(bolt_server):
    with pytest.raises(StoreUnavailableError) as caught:
        BoltStore(bolt_server.uri, auth=("root", "not-the-password"), database=bolt_server.database).open()
    assert str(caught.value) == f"authentication failed for user 'root' at {bolt_server.uri}"
    assert isinstance(caught.value.__cause__, neo4j.exceptions.AuthError)


def test_missing_database_is_a_configuration_error(bolt_server, test_settings):
    with pytest.raises(ConfigurationError) as caught:
        Memory.open(bolt_server.uri, "x", settings=test_settings, auth=bolt_server.auth, database="no_such_db")
    assert str(caught.value) == f"database 'no_such_db' does not exist at {bolt_server.uri}"
    assert caught.value.__cause__.code == "Neo.ClientError.Database.DatabaseNotFound"


def test_malformed_uri_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="invalid Bolt URI"):
        BoltStore("bolt://127.0.0.1:notaport", auth=("neo4j", "x")).open()


@pytest.mark.parametrize(
    ("agent", "protocol", "supported"),
    [
        ("Neo4j/5.26.0 compatible (ArcadeDB 26.10.2)", (5, 4), True),
        ("Neo4j/5.13.0", (5, 2), True),
        ("Neo4j/2025.01.0", (5, 7), True),
        ("Neo4j/5.27-aura", (5, 6), True),
        ("Neo4j/4.4.12", (4, 4), False),
        ("Neo4j/3.5.35", (3, 0), False),
        ("SomethingElse/1.0", (4, 4), False),
        ("SomethingElse/1.0", (5, 0), True),
    ],
)
def test_server_version_check(agent, protocol, supported):
    if supported:
        check_server_version(agent, protocol)
    else:
        with pytest.raises(ConfigurationError, match="unsupported server version"):
            check_server_version(agent, protocol)


def test_old_server_refused_on_open(bolt_server, monkeypatch):
    monkeypatch.setattr(neo4j.api.ServerInfo, "agent", property(lambda self: "Neo4j/4.4.12"))
    store = BoltStore(bolt_server.uri, auth=bolt_server.auth, database=bolt_server.database)
    with pytest.raises(ConfigurationError) as caught:
        store.open()
    assert str(caught.value) == "unsupported server version Neo4j/4.4.12: graphmem needs Neo4j 5 or later"
    assert store._driver is None  # the connection pool was released


def test_cli_unreachable_server_exits_nonzero_with_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHMEM_INDEX_DIR", str(tmp_path / "index"))
    port = free_port()
    result = CliRunner().invoke(app, ["stats", "--store", f"bolt://127.0.0.1:{port}", "--user", "root", "--password", "pw", "--json"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: cannot reach bolt://127.0.0.1:{port}: "), result.stderr
    assert "Traceback" not in result.output and result.stdout == ""
    assert isinstance(result.exception, SystemExit)


# ---------------------------------------------------------------------------- behaviour
def test_routing_uri_reads_what_a_direct_uri_wrote(bolt_server, store, test_settings):
    namespace = new_namespace()
    routed = open_store(bolt_server.routing_uri, test_settings, auth=bolt_server.auth, database=bolt_server.database)
    try:
        assert routed.describe() == f"{bolt_server.routing_uri} (database {bolt_server.database!r})"
        store.write([("write/merge_conversations", {"rows": [_conversation_row(namespace, "direct")]})])
        routed.write([("write/merge_conversations", {"rows": [_conversation_row(namespace, "routed")]})])
        keys = lambda s: sorted(r["key"] for r in s.run_cypher(
            "MATCH (c:Conversation) WHERE c.namespace = $namespace RETURN c.key AS key", {"namespace": namespace}))
        assert keys(routed) == keys(store) == ["direct", "routed"]
        # bolt:// and neo4j:// to one server share their derived caches
        assert routed.cache_dir("slug") == store.cache_dir("slug")
    finally:
        store.run_cypher("MATCH (n) WHERE n.namespace = $namespace DETACH DELETE n", {"namespace": namespace}, write=True)
        routed.close()


def test_read_only_cypher_refuses_writes_and_rolls_back(store):
    namespace = new_namespace()
    with pytest.raises(InputError, match=r"add --write .*write=True"):
        store.run_cypher("CREATE (c:Conversation {id: $id, namespace: $namespace}) RETURN c",
                         {"id": f"conversation:{uuid.uuid4().hex}", "namespace": namespace})
    count = "MATCH (c:Conversation) WHERE c.namespace = $namespace RETURN count(c) AS n"
    assert store.run_cypher(count, {"namespace": namespace}) == [{"n": 0}]
    store.run_cypher("CREATE (c:Conversation {id: $id, namespace: $namespace})",
                     {"id": f"conversation:{uuid.uuid4().hex}", "namespace": namespace}, write=True)
    assert store.run_cypher(count, {"namespace": namespace}) == [{"n": 1}]
    store.run_cypher("MATCH (n) WHERE n.namespace = $namespace DETACH DELETE n", {"namespace": namespace}, write=True)


def test_user_cypher_errors_are_one_line_errors(store):
    with pytest.raises(InputError, match=r"^cypher: ") as caught:  # the query's fault (see the store contract)
        store.run_cypher("RETURN no_such_function(1) AS x")
    assert "\n" not in str(caught.value)
    with pytest.raises(InputError, match=r"^missing parameter \$missing$"):
        store.run_cypher("MATCH (n) WHERE n.namespace = $missing RETURN n")


def test_driver_values_come_back_json_ready(store):
    namespace = new_namespace()
    store.run_cypher(
        "CREATE (a:Turn {id: $a, namespace: $namespace, text: 'hi', embedding: [0.5, 0.25]})"
        "-[:NEXT]->(b:Turn {id: $b, namespace: $namespace, text: 'ho'})",
        {"a": f"turn:{uuid.uuid4().hex}", "b": f"turn:{uuid.uuid4().hex}", "namespace": namespace}, write=True)
    rows = store.run_cypher(
        "MATCH p = (a:Turn)-[r:NEXT]->(b:Turn) WHERE a.namespace = $namespace "
        "RETURN a, r, p, [a, b] AS pair, {n: a} AS wrapped, datetime('2024-05-04T10:00:00Z') AS at, "
        "date('2024-05-04') AS day, localdatetime('2024-05-04T10:00:00') AS local, duration('P1DT2H') AS span",
        {"namespace": namespace})
    store.run_cypher("MATCH (n) WHERE n.namespace = $namespace DETACH DELETE n", {"namespace": namespace}, write=True)
    assert len(rows) == 1
    row = rows[0]
    json.dumps(row)  # everything is JSON-ready
    a = row["a"]
    assert (a["text"], a["embedding"], a["namespace"]) == ("hi", [0.5, 0.25], namespace)
    assert row["r"] == {}
    assert row["p"]["_type"] == "path" and row["p"]["length"] == 1
    assert [n["text"] for n in row["p"]["nodes"]] == ["hi", "ho"] and row["p"]["relationships"] == [{}]
    assert [n["text"] for n in row["pair"]] == ["hi", "ho"] and row["wrapped"]["n"]["text"] == "hi"
    assert row["at"] in ("2024-05-04T10:00:00Z", "2024-05-04T10:00:00+00:00")
    assert (row["day"], row["local"], row["span"]) == ("2024-05-04", "2024-05-04T10:00:00", "P1DT2H")


def test_close_is_idempotent_and_a_closed_store_refuses_use(bolt_server):
    store = BoltStore(bolt_server.uri, auth=bolt_server.auth, database=bolt_server.database).open()
    store.close()
    store.close()
    assert store.closed
    with pytest.raises(ClosedError):
        store.read("read/count_nodes", {"namespace": "x"})


def test_cache_dir_is_per_server_and_database(tmp_path, monkeypatch, test_settings):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    default = BoltStore("bolt://DB.example.com:7687", database="memory")
    assert default.cache_dir("slug").name == "slug"
    assert default.cache_dir("slug").parent.parent == tmp_path / "home" / ".cache" / "graphmem" / "bolt"
    configured = BoltStore("neo4j://db.example.com", database="memory", settings=test_settings)
    assert configured.cache_dir("slug").parent.parent == tmp_path / "index"
    assert configured.cache_dir("slug").parent.name == default.cache_dir("slug").parent.name  # same server and database
    other = BoltStore("bolt://db.example.com:7687", database="other", settings=test_settings)
    assert other.cache_dir("slug").parent != configured.cache_dir("slug").parent


def test_credentials_in_the_uri_are_never_echoed():
    store = BoltStore("bolt://user:s3cret@127.0.0.1:7687", database="memory")
    assert "s3cret" not in store.describe() and store.describe() == "bolt://127.0.0.1:7687 (database 'memory')"


# ---------------------------------------------------------------------------- concurrency
def _story(key: str, place: str, food: str) -> dict:
    """A small conversation; every story mentions Omar and Lisbon, so their entities are shared."""
    return {
        "id": key,
        "speakers": ["Maya", "Leo"],
        "sessions": [
            {"id": "1", "started_at": "2024-06-01T10:00:00", "turns": [
                {"id": f"{key}:1", "speaker": "Maya", "text": f"Omar and I went to {place} last weekend."},
                {"id": f"{key}:2", "speaker": "Leo", "text": f"Did you try the {food} there?"},
                {"id": f"{key}:3", "speaker": "Maya", "text": f"Yes, the {food} in {place} was the best we had since Lisbon."},
            ]},
            {"id": "2", "started_at": "2024-06-08T18:00:00", "turns": [
                {"id": f"{key}:4", "speaker": "Leo", "text": f"Are you going back to {place} with Omar?"},
                {"id": f"{key}:5", "speaker": "Maya", "text": "Maybe in autumn, after our trip to Lisbon."},
            ]},
        ],
    }


def test_concurrent_ingest_into_one_namespace(bolt_server, tmp_path, test_settings, embedder):
    """Four writers (think: four machines sharing one Neo4j) ingest at once into one namespace."""
    namespace = new_namespace("concurrent")
    stories = [("porto", "Porto", "bacalhau"), ("naples", "Naples", "pizza"), ("kyoto", "Kyoto", "ramen"), ("oaxaca", "Oaxaca", "mole")]
    files = [write_conversation(tmp_path, _story(*s), f"{s[0]}.json") for s in stories]
    start = threading.Barrier(len(files))
    errors: list[BaseException] = []
    reports = []

    def worker(path):
        try:
            with Memory.open(bolt_server.uri, namespace, settings=settings_for(tmp_path / path.stem), auth=bolt_server.auth,
                             database=bolt_server.database) as memory:
                start.wait(timeout=60)
                reports.append(memory.ingest(path))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(path,)) for path in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not any(t.is_alive() for t in threads)
    try:
        assert errors == [], "".join(traceback.format_exception(errors[0]))
        assert sorted(r.turns_added for r in reports) == [5, 5, 5, 5]
        with Memory.open(bolt_server.uri, namespace, settings=test_settings, auth=bolt_server.auth,
                         database=bolt_server.database) as memory:
            per_label = memory.cypher("MATCH (n) WHERE n.namespace = $namespace "
                                      "RETURN labels(n)[0] AS label, count(n) AS n, count(DISTINCT n.id) AS ids")
            assert {r["label"]: r["n"] for r in per_label}["Turn"] == 20
            assert {r["label"]: r["n"] for r in per_label}["Conversation"] == 4
            duplicated = {r["label"]: (r["n"], r["ids"]) for r in per_label if r["n"] != r["ids"]}
            assert duplicated == {}
            for key, place, food in stories:
                assert memory.search(f"the {food} in {place}", k=1)[0].source_id == f"{key}:3"
    finally:
        with Memory.open(bolt_server.uri, namespace, settings=test_settings, auth=bolt_server.auth,
                         database=bolt_server.database) as cleaner:
            drop_namespace(cleaner)


# ---------------------------------------------------------------------------- CLI
def _cli(*args: str):
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_cli_on_bolt_gives_the_same_answers_as_embedded(bolt_server, tmp_path, monkeypatch, embedder):
    monkeypatch.setenv("GRAPHMEM_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("GRAPHMEM_JVM_HEAP", TEST_JVM_HEAP)
    source = write_conversation(tmp_path)
    namespace = new_namespace("cli")
    user, password = bolt_server.auth
    stores = {
        "embedded": ["--store", str(tmp_path / "embedded")],
        "bolt": ["--store", bolt_server.uri, "--user", user, "--password", password, "--database", bolt_server.database],
    }
    answers = {}
    try:
        for name, store in stores.items():
            (report,) = _cli("ingest", str(source), *store, "--namespace", namespace, "--json")
            hits = _cli("search", "What is the name of Maya's cat?", *store, "--namespace", namespace, "-k", "5", "--json")
            sessions = _cli("search", "kitchen renovation", *store, "--namespace", namespace, "-k", "2", "--unit", "session", "--json")
            stats = _cli("stats", *store, "--namespace", namespace, "--json")
            answers[name] = (report, hits, sessions, stats)
    finally:
        with Memory.open(bolt_server.uri, namespace, auth=bolt_server.auth, database=bolt_server.database) as cleaner:
            drop_namespace(cleaner)

    (report_e, hits_e, sessions_e, stats_e), (report_b, hits_b, sessions_b, stats_b) = answers["embedded"], answers["bolt"]
    assert report_e["turns_added"] == report_b["turns_added"] == len([t for s in CONTRACT_CONVERSATION["sessions"] for t in s["turns"]])
    assert hits_b[0]["source_id"] == "D1:2" and len(hits_b) == 5
    for found_e, found_b in ((hits_e, hits_b), (sessions_e, sessions_b)):
        same_fields = lambda hits: [(h["node_id"], h["source_id"], h["text"], h["session_key"], h["speaker"], h["strategy"]) for h in hits]
        assert same_fields(found_b) == same_fields(found_e)
        assert [h["score"] for h in found_b] == pytest.approx([h["score"] for h in found_e], abs=1e-5)
    assert (stats_b["nodes"], stats_b["relationships"]) == (stats_e["nodes"], stats_e["relationships"])


def test_cli_warnings_are_one_line_each_without_a_traceback(bolt_server, tmp_path, embedder):
    """A warning the library logs with its exception ("turn index unreadable ...; rebuilding") printed
    the whole traceback in the CLI, twice, above a search that then answered: it looked like a crash. So
    did the neo4j driver's retries (two lines each) and "its write failed too" when the server went away
    in an ingest. The CLI prints each warning on one line, with the cause's type and words."""
    index_dir = tmp_path / "index"
    namespace = new_namespace("cli-log")
    user, password = bolt_server.auth
    settings = settings_for(tmp_path)
    try:
        with Memory.open(bolt_server.uri, namespace, auth=bolt_server.auth, database=bolt_server.database, settings=settings) as memory:
            memory.ingest(write_conversation(tmp_path))
            assert memory.search("Maya's cat", k=1)
        manifests = list(index_dir.rglob("turn.json"))
        assert manifests, sorted(index_dir.rglob("*"))
        for manifest in manifests:  # a cache file another program (or a full disk) broke
            manifest.write_text('{"broken', encoding="utf-8")
        done = subprocess.run([sys.executable, "-m", "graphmem", "search", "What is the name of Maya's cat?", "-k", "1", "--json",
                               "--store", bolt_server.uri, "--user", user, "--password", password, "--database", bolt_server.database,
                               "--namespace", namespace],
                              env={**os.environ, "GRAPHMEM_INDEX_DIR": str(index_dir)}, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)[0]["source_id"] == "D1:2"
        lines = done.stderr.strip().splitlines()
        assert lines and "Traceback" not in done.stderr, done.stderr
        assert all(line.startswith("WARNING graphmem.") and "unreadable" in line and "(JSONDecodeError: " in line for line in lines), lines
    finally:
        with Memory.open(bolt_server.uri, namespace, auth=bolt_server.auth, database=bolt_server.database, settings=settings) as cleaner:
            drop_namespace(cleaner)


# ---------------------------------------------------------------------------- the test server itself
def test_server_stop_releases_connections_clients_left_open(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    server = start_bolt_server(tmp_path / "server", database="scratch", jvm_heap=TEST_JVM_HEAP)
    driver = neo4j.GraphDatabase.driver(server.uri, auth=server.auth)
    try:
        with driver.session(database="scratch") as session:
            assert session.run("RETURN 1 AS x").single()["x"] == 1
        server.stop()  # the driver still holds a pooled connection
        server.stop()
        assert not server.running
        assert _live_connection_threads(server.bolt_port) == []  # else the process could not exit
    finally:
        server.stop()
        driver.close()
    assert not (tmp_path / "log").exists()  # nothing written to the working directory


def _live_connection_threads(port: int) -> list[str]:
    executor = jpype.JClass("com.arcadedb.bolt.BoltNetworkExecutor")
    field = executor.class_.getDeclaredField("socket")
    field.setAccessible(True)
    live = []
    for thread in list(jpype.JClass("java.lang.Thread").getAllStackTraces().keySet()):
        if isinstance(thread, executor) and thread.isAlive():
            sock = field.get(thread)
            if sock is not None and sock.getLocalPort() == port:
                live.append(str(thread.getName()))
    return live


def test_reads_beside_a_writer_that_deletes_never_fail(bolt_server, tmp_path, test_settings, embedder):
    """A second writer corrects messages (which deletes their events) while this one reads every edge
    of the namespace: ArcadeDB fails a read that meets a record deleted while it ran
    ('EntityNotFound'), 46 of 3,422 such reads in 40 s before; the store now reads again."""
    namespace = new_namespace("race")
    reader = Memory.open(bolt_server.uri, namespace, settings=test_settings, auth=bolt_server.auth, database=bolt_server.database)
    writer = Memory.open(bolt_server.uri, namespace, settings=settings_for(tmp_path / "writer"), auth=bolt_server.auth,
                         database=bolt_server.database)
    try:
        reader.add([{"speaker": "Ann", "text": f"Lisa moved to Berlin in year {i}.", "id": f"m{i}"} for i in range(20)],
                   conversation="c")
        done, failures = threading.Event(), []

        def correct() -> None:
            try:
                for i in range(60):
                    writer.add([{"speaker": "Ann", "text": f"Omar sold bike number {i} in Paris.", "id": f"m{i % 20}"}],
                               conversation="c")
            except Exception:  # noqa: BLE001 - reported below
                failures.append(traceback.format_exc())
            finally:
                done.set()

        thread = threading.Thread(target=correct)
        thread.start()
        reads = 0
        while not done.is_set():
            reader._store.read("check/cross_namespace_edges", {"namespace": namespace})  # noqa: SLF001 - every edge
            reads += 1
        thread.join()
        assert not failures, failures[0]
        assert reads > 0 and reader.check().ok
    finally:
        drop_namespace(reader)
        writer.close()
        reader.close()


def test_a_write_that_lost_a_race_on_arcadedb_is_run_again():
    """ArcadeDB's Bolt plugin reports a MERGE that lost a race (two ingests of one file in two
    processes) as an UnknownError naming DuplicatedKeyException, where Neo4j raises a ConstraintError:
    the write failed instead of being run again."""
    from neo4j import exceptions as neo4j_errors

    from graphmem.store.bolt import _lost_a_race

    said = "Error executing Cypher command: com.arcadedb.exception.DuplicatedKeyException: Duplicated key ['x'] found on index"
    assert _lost_a_race(neo4j_errors.Neo4jError(said))
    assert _lost_a_race(neo4j_errors.Neo4jError("com.arcadedb.exception.ConcurrentModificationException: record changed"))
    assert not _lost_a_race(neo4j_errors.Neo4jError("Invalid input 'MATC'")) and not _lost_a_race(None)



def test_a_uri_with_credentials_or_malformed_is_refused_without_echoing_them():
    """The driver's refusal of a URI holding a user and password quoted it whole ("Given URI:
    'neo4j://neo4j:Sup3rSecret@...'") into the terminal and logs; "bolt://[::1" raised a raw ValueError."""
    from graphmem.errors import ConfigurationError, StoreUnavailableError
    from graphmem.store.bolt import BoltStore

    for uri in ("neo4j://neo4j:Sup3rSecret@127.0.0.1:1", "bolt://neo4j:Sup3rSecret@db.example:7687"):
        with pytest.raises((ConfigurationError, StoreUnavailableError)) as caught:
            BoltStore(uri).open()
        assert "Sup3rSecret" not in str(caught.value) and "@" not in str(caught.value), str(caught.value)
    with pytest.raises(ConfigurationError, match="invalid Bolt URI 'bolt://\\[::1'"):
        BoltStore("bolt://[::1")
