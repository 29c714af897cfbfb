"""The Memory facade on the real embedded database with the real embedding model."""

from __future__ import annotations

import json
import shutil

import pytest

from samples import GARDEN, write_native

from graphmem import ClosedError, InputError, Memory
from graphmem.errors import ConfigurationError


def turn_next(memory) -> int:
    rows = memory.cypher("MATCH (a:Turn)-[r:NEXT]->(b:Turn) WHERE a.namespace = $namespace RETURN count(r) AS n")
    return rows[0]["n"] if rows else 0


@pytest.fixture()
def store_dir(tmp_path):
    return tmp_path / "store"


def test_ingest_search_stats_round_trip(tmp_path, store_dir):
    source = write_native(tmp_path)
    with Memory.open(store_dir, namespace="t-roundtrip") as memory:
        report = memory.ingest(source)
        assert (report.conversations, report.sessions, report.turns_read, report.turns_added) == (1, 2, 10, 10)
        assert report.units_embedded["turn"] == 10
        assert report.seconds > 0
        stats = memory.stats()
        assert stats["nodes"]["Conversation"] == 1
        assert stats["nodes"]["Session"] == 2
        assert stats["nodes"]["Turn"] == 10
        assert stats["relationships"]["IN"] == 10
        assert stats["relationships"]["OF"] == 2
        assert turn_next(memory) == 9

        hits = memory.search("Which piece did Ben play at his violin recital?", k=3, strategy="dense")
        assert hits[0].source_id in {"G1:6", "G1:4"}
        top = hits[0]
        assert top.unit == "turn" and top.strategy == "dense"
        assert top.speaker == "Ben" and top.conversation_id == "garden-chat"
        assert top.session_number == 1 and top.session_key == "1"
        assert top.timestamp == "2024-04-06T09:30:00"
        assert top.node_id.startswith("turn:")
        assert 0 < top.score <= 1
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)

        sessions = memory.search("slugs eating basil seedlings", k=2, unit="session")
        assert sessions[0].unit == "session" and sessions[0].session_number == 2


def test_reingest_changes_nothing(tmp_path, store_dir):
    source = write_native(tmp_path)
    with Memory.open(store_dir, namespace="t-idem") as memory:
        memory.ingest(source)
        before = memory.stats()
        again = memory.ingest(source)
        assert again.turns_added == 0 and again.units_embedded == {}
        assert memory.stats() == before


def test_appending_a_session_links_to_stored_turns(tmp_path, store_dir):
    first = dict(GARDEN, sessions=GARDEN["sessions"][:1])
    with Memory.open(store_dir, namespace="t-append") as memory:
        memory.ingest(write_native(tmp_path, first, "a.json"))
        assert turn_next(memory) == 5
        report = memory.ingest(write_native(tmp_path, GARDEN, "b.json"))
        assert report.turns_added == 4
        assert turn_next(memory) == 9
        rows = memory.cypher(
            "MATCH (a:Turn)-[:NEXT]->(b:Turn) WHERE a.namespace = $namespace AND a.source_id = $src RETURN b.source_id AS next",
            {"src": "G1:6"})
        assert rows == [{"next": "G2:1"}]


def test_namespaces_are_isolated(tmp_path, store_dir):
    source = write_native(tmp_path)
    with Memory.open(store_dir, namespace="tenant-a") as a:
        a.ingest(source)
    with Memory.open(store_dir, namespace="tenant-b") as b:
        assert b.stats()["nodes"] == {}
        assert b.search("violin recital") == []
    with Memory.open(store_dir, namespace="tenant-a") as a:
        assert a.stats()["nodes"]["Turn"] == 10


def test_index_rebuilt_when_cache_deleted(tmp_path, store_dir):
    source = write_native(tmp_path)
    with Memory.open(store_dir, namespace="t-rebuild") as memory:
        memory.ingest(source)
        expected = [h.node_id for h in memory.search("copper tape keeps slugs away", k=3)]
    shutil.rmtree(store_dir / "cache")
    with Memory.open(store_dir, namespace="t-rebuild") as memory:
        assert [h.node_id for h in memory.search("copper tape keeps slugs away", k=3)] == expected
    # a corrupt manifest is treated as stale too
    manifest = next((store_dir / "cache").rglob("turn.json"))
    manifest.write_text("{not json", encoding="utf-8")
    with Memory.open(store_dir, namespace="t-rebuild") as memory:
        assert [h.node_id for h in memory.search("copper tape keeps slugs away", k=3)] == expected
    assert json.loads(manifest.read_text(encoding="utf-8"))["ids"]


def test_bad_file_stores_nothing(tmp_path, store_dir):
    bad = tmp_path / "bad.json"
    doc = json.loads(json.dumps(GARDEN))
    doc["sessions"][1]["turns"][2]["speaker"] = None
    bad.write_text(json.dumps(doc), encoding="utf-8")
    with Memory.open(store_dir, namespace="t-bad") as memory:
        with pytest.raises(InputError, match=r"bad\.json: \.sessions\[1\]\.turns\[2\]\.speaker"):
            memory.ingest(bad)
        assert memory.stats()["nodes"] == {}


def test_closed_memory_refuses_use(tmp_path, store_dir):
    memory = Memory.open(store_dir, namespace="t-closed")
    memory.close()
    memory.close()  # idempotent
    for call in (lambda: memory.search("x"), memory.stats, lambda: memory.ingest(tmp_path / "x.json"), lambda: memory.cypher("RETURN 1")):
        with pytest.raises(ClosedError):
            call()
    unopened = Memory(None, "x")  # type: ignore[arg-type]  # constructing does no I/O
    with pytest.raises(ClosedError, match="unopened"):
        unopened.stats()
    unopened.close()  # nothing to close (it raised AttributeError on None)


def test_closing_while_other_threads_read_raises_closed_error_never_the_databases(store_dir):
    """A framework shutting down closes its Memory while worker threads still read: their calls raised
    StorageError ("'NoneType' object has no attribute 'query'", DatabaseIsClosedException) from the store
    closed under them. close() now waits for the calls in flight, and the calls after it raise ClosedError."""
    import threading
    import time

    with Memory.open(store_dir, namespace="t-close-reading") as memory:
        memory.add([{"speaker": "Ana" if i % 2 else "Bruno", "text": f"Line {i}: Ana met Bruno in Porto about the boat.",
                     "id": str(i)} for i in range(30)], conversation="chat")
    for trial in range(3):
        memory = Memory.open(store_dir, namespace="t-close-reading")
        turn = memory.messages("chat", last=1)[0]["turn_id"]
        calls = {"messages": lambda: memory.messages("chat"), "entities": memory.entities,
                 "history": lambda: memory.history(turn), "stats": memory.stats, "timezone": memory.timezone, "entity": lambda: memory.entity("Ana"),
                 "cypher": lambda: memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.text AS x"),
                 "search": lambda: memory.search("boat in Porto"), "recall": lambda: memory.recall("chat", "boat")}
        ended: dict[str, BaseException] = {}
        answered = {name: 0 for name in calls}

        def read(name, call):
            while True:
                try:
                    call()
                    answered[name] += 1
                except BaseException as exc:  # (kept for the assertion below)
                    ended[name] = exc
                    return

        readers = [threading.Thread(target=read, args=item) for item in calls.items()]
        for reader in readers:
            reader.start()
        deadline = time.monotonic() + 60
        while not all(answered.values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.1 * trial)
        memory.close()
        for reader in readers:
            reader.join(60)
        assert all(answered.values()), answered
        assert {name: type(exc).__name__ for name, exc in ended.items()} == dict.fromkeys(calls, "ClosedError"), ended


def test_close_waits_for_a_call_in_flight_and_refuses_calls_meanwhile(tmp_path, store_dir):
    """close() from another thread during an ingest: the ingest ends whole and reports its turns, calls
    made while close waits raise ClosedError ("closing"), and a second close returns once it is closed."""
    import threading

    source = write_native(tmp_path)
    memory = Memory.open(store_dir, namespace="t-close-waits")
    inside, go_on = threading.Event(), threading.Event()

    def progress(stage, done, total):
        inside.set()
        assert go_on.wait(60)

    outcome: list = []
    ingest = threading.Thread(target=lambda: outcome.append(memory.ingest(source, progress=progress)))
    ingest.start()
    assert inside.wait(120)
    closers = [threading.Thread(target=memory.close) for _ in range(2)]
    for closer in closers:
        closer.start()
    closers[0].join(1.0)
    assert closers[0].is_alive() and closers[1].is_alive()  # waiting for the ingest
    with pytest.raises(ClosedError, match="closing"):
        memory.stats()
    go_on.set()
    ingest.join(120)
    for closer in closers:
        closer.join(60)
        assert not closer.is_alive()
    assert len(outcome) == 1 and outcome[0].turns_added == 10
    with pytest.raises(ClosedError, match="closed"):
        memory.stats()
    with Memory.open(store_dir, namespace="t-close-waits") as again:
        assert again.stats()["nodes"]["Turn"] == 10


def test_a_close_from_inside_a_call_waits_for_no_one_and_a_calls_own_error_stays_its_own(tmp_path, store_dir):
    """close() from the thread of an ingest (its progress callback, as a signal handler would) while a
    search of another thread waited for the namespace lock the ingest held: close waited for the
    search, the search for the lock, for ever. And a call's own QueryTimeoutError, raised while close
    waited for it, was relabelled ClosedError though the store was open."""
    import threading

    from graphmem.errors import QueryTimeoutError

    source = write_native(tmp_path)
    memory = Memory.open(store_dir, namespace="t-close-inside")
    memory.add({"speaker": "Ana", "text": "The model is warm now."}, conversation="warm")
    searched: list = []
    closed = threading.Event()
    worker = threading.Thread(target=lambda: searched.append(_outcome(lambda: memory.search("tulips", k=1))), daemon=True)

    def progress(stage, done, total):
        if closed.is_set():
            return
        closed.set()
        worker.start()
        worker.join(1.0)  # it waits for the lock this ingest holds
        memory.close()

    with pytest.raises(ClosedError):
        memory.ingest(source, progress=progress)
    worker.join(60)
    assert closed.is_set() and searched == ["ClosedError"]

    memory = Memory.open(store_dir, namespace="t-close-inside")
    memory.cypher("UNWIND range(1, 400) AS i CREATE (:Slow {namespace: $namespace, i: i})", write=True)
    slow = "MATCH (a:Slow), (b:Slow), (c:Slow) WHERE a.i + b.i + c.i = -1 RETURN count(*) AS n"
    ended: list = []
    call = threading.Thread(target=lambda: ended.append(_outcome(lambda: memory.cypher(slow, timeout=1))))
    call.start()
    while not memory._in_flight:  # (the call has begun)
        threading.Event().wait(0.01)
    memory.close()  # waits for the call, whose time limit stops it
    call.join(60)
    assert ended == [QueryTimeoutError.__name__]


def _outcome(call) -> str:
    try:
        call()
    except Exception as exc:
        return type(exc).__name__
    return "returned"


def test_memory_built_from_a_path_says_to_open_it(tmp_path):
    """`Memory("./dir")` is what a newcomer writes first: it raised AttributeError at close
    ("'str' object has no attribute 'close'"); now a TypeError that names Memory.open."""
    for location in (str(tmp_path / "m"), tmp_path / "m"):
        with pytest.raises(TypeError, match=r"Memory.open\("):
            Memory(location)  # type: ignore[arg-type]
    assert not (tmp_path / "m").exists()


def test_a_store_opens_by_the_name_graphmem_prints_for_it(tmp_path, store_dir):
    """`graphmem stats` and the server name an embedded store `embedded:/path`: that name opens
    the same store, instead of a new one in a directory called `embedded:` below the working one."""
    with Memory.open(store_dir, namespace="t-named") as memory:
        memory.add([{"speaker": "Ana", "text": "I moved to Lisbon."}], conversation="c")
        name = memory.stats()["store"]
    assert name.startswith("embedded:/")
    with Memory.open(name, namespace="t-named", create=False) as memory:
        assert memory.stats()["nodes"]["Turn"] == 1
    for bad in ("embedded:", "embedded:  ", "embedded:bolt://localhost:7687"):
        with pytest.raises(ConfigurationError, match="'embedded:' must be followed by a directory path"):
            Memory.open(bad)


def test_argument_validation(tmp_path, store_dir):
    with pytest.raises(ConfigurationError):
        Memory.open(store_dir, namespace="  ")
    with pytest.raises(ConfigurationError, match="unsupported store URI"):
        Memory.open("http://example.org/db")
    with Memory.open(store_dir, namespace="t-args") as memory:
        for kwargs in ({"query": ""}, {"query": "x", "k": 0}, {"query": "x", "unit": "paragraph"}, {"query": "x", "strategy": "magic"}):
            with pytest.raises(InputError):
                memory.search(**kwargs)


def test_hostile_names_are_stored_verbatim(tmp_path, store_dir):
    hostile = "'}) DETACH DELETE n // `x` {$ns}"
    doc = {"id": hostile, "sessions": [{"turns": [{"speaker": hostile, "text": "Robert'); DROP TABLE turns;-- likes chess"}]}]}
    with Memory.open(store_dir, namespace=hostile) as memory:
        memory.ingest(write_native(tmp_path, doc, "h.json"))
        (hit,) = memory.search("chess", k=1)
        assert hit.speaker == hostile and hit.conversation_id == hostile
        assert hit.text == "Robert'); DROP TABLE turns;-- likes chess"
        assert memory.stats()["nodes"]["Turn"] == 1


def test_forget_and_cypher_name_arguments_of_the_wrong_type(store_dir):
    """`forget(turn=5)` raised TypeError ('int' object is not iterable) and `cypher(q, 5)` a
    TypeError, `cypher(q, ["x", 5])` a ValueError, where the Client raises InputError."""
    with Memory.open(store_dir, namespace="t-types") as memory:
        with pytest.raises(InputError, match="turn: expected a turn id or a non-empty list of them, got 5"):
            memory.forget(turn=5)  # type: ignore[arg-type]
        for params in (5, ["x", 5]):
            with pytest.raises(InputError, match="params: expected a mapping"):
                memory.cypher("RETURN 1 AS x", params)  # type: ignore[arg-type]
        with pytest.raises(InputError, match="query: expected Cypher text"):
            memory.cypher(None)  # type: ignore[arg-type]
        assert memory.forget(turn=(t for t in ["turn:none"]))["turns"] == 0  # any iterable of ids, as before
