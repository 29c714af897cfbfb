"""graphmem serve over a real socket: the HTTP API, auth, limits, errors, and graphmem.Client."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

import httpx
import pytest
from typer.testing import CliRunner

from conftest import CONTRACT_CONVERSATION, settings_for, write_conversation
from graphmem import AsyncClient, Client, Hit
from graphmem.cli import app
from graphmem.errors import ClosedError, ConfigurationError, GraphmemError, InputError, StoreUnavailableError
from graphmem.server import MemoryHub
from graphmem.server.run import is_loopback, require_safe_bind
from serving import running

TOKEN = "test-token-123"


@pytest.fixture(scope="module")
def hub(tmp_path_factory, embedder):
    directory = tmp_path_factory.mktemp("served")
    hub = MemoryHub.open(str(directory / "store"), settings_for(directory))
    yield hub
    hub.close()


@pytest.fixture(scope="module")
def url(hub):
    with running(hub, token=TOKEN) as base:
        yield base


def client(url: str, namespace: str) -> Client:
    return Client(url, TOKEN, namespace=namespace)


def test_healthz_is_open_and_everything_else_needs_the_token(url):
    assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
    for method, path in (("GET", "/v1/namespaces"), ("GET", "/openapi.json"), ("POST", "/v1/namespaces/a/search"),
                         ("POST", "/mcp")):
        answer = httpx.request(method, url + path, json={"query": "x"})
        assert answer.status_code == 401, path
        assert "bearer token" in answer.json()["error"]
        wrong = httpx.request(method, url + path, json={"query": "x"}, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401, path
    schema = httpx.get(f"{url}/openapi.json", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert {"/v1/namespaces/{ns}/messages", "/v1/namespaces/{ns}/search", "/v1/namespaces/{ns}/cypher",
            "/v1/namespaces/{ns}/ingest", "/v1/namespaces/{ns}/forget", "/v1/namespaces/{ns}/stats",
            "/v1/namespaces/{ns}/check", "/v1/namespaces", "/healthz"} <= set(schema["paths"])
    with pytest.raises(ConfigurationError, match="bearer token"):
        Client(url, "wrong", namespace="a").namespaces()


def test_add_search_explain_and_namespace_isolation(url):
    with client(url, "alice") as alice, client(url, "bob") as bob:
        report = alice.add([{"speaker": "Maya", "text": "My new cat is a ginger tabby called Biscuit.",
                             "timestamp": "2024-05-04T10:01:00"},
                            {"role": "Leo", "content": "Biscuit hides under the sofa when the doorbell rings."}],
                           conversation="pets", session="1", session_started_at="2024-05-04T10:00:00")
        assert report["added"] == 2 and len(report["turn_ids"]) == 2
        bob.add([{"speaker": "Omar", "text": "I fixed the kitchen sink with a new copper pipe."}], conversation="house")
        hits = alice.search("What is the name of the cat?", k=3)
        assert hits and all(isinstance(h, Hit) for h in hits)
        assert "Biscuit" in hits[0].text and hits[0].conversation_id == "pets" and hits[0].session_key == "1"
        assert hits[0].timestamp.startswith("2024-05-04")
        assert "score" in alice.explain(hits[0])
        assert all("copper" not in h.text for h in alice.search("kitchen sink copper pipe", k=10))
        assert "copper" in bob.search("kitchen sink copper pipe", k=1)[0].text
        assert alice.stats()["nodes"]["Turn"] == 2 and bob.stats()["nodes"]["Turn"] == 1
        assert {"alice", "bob"} <= set(alice.namespaces())


def test_messages_append_to_their_session_in_order(url):
    with client(url, "order") as memory:
        for i in range(3):
            memory.add([{"speaker": "Ana", "text": f"Step {i}: water the basil and the tomatoes."}], conversation="garden", session="s1")
        memory.add([{"speaker": "Ana", "text": "A new day: the tomatoes are ripe."}], conversation="garden", session="s2")
        rows = memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.text AS text, t.session_key AS s, t.seq AS seq "
                             "ORDER BY seq")
        assert [r["text"][:6] for r in rows] == ["Step 0", "Step 1", "Step 2", "A new "]
        assert [r["s"] for r in rows] == ["s1", "s1", "s1", "s2"]
        assert memory.check()["ok"] is True


def test_upload_ingest_is_idempotent_and_bad_files_store_nothing(url, tmp_path):
    path = write_conversation(tmp_path)
    with client(url, "upload") as memory:
        first = memory.ingest(path)
        assert first["turns_added"] == 10 and first["sources"] == ["contract.json"]
        assert memory.ingest(path)["turns_added"] == 0
        bad = tmp_path / "broken.jsonl"
        bad.write_text('{"speaker": "A", "text": "fine"}\n{"speaker": "B"\n', encoding="utf-8")
        with client(url, "upload-bad") as other:
            with pytest.raises(InputError, match=r"^broken\.jsonl:2:"):
                other.ingest(bad)
            assert "upload-bad" not in other.namespaces()
        assert "ginger tabby" in memory.search("What kind of cat did Maya adopt?", k=1)[0].text


def test_forget_removes_turns_from_search(url, tmp_path):
    with client(url, "forgetful") as memory:
        memory.ingest(write_conversation(tmp_path))
        assert any("marble" in h.text for h in memory.search("marble countertop", k=3))
        counts = memory.forget(conversation=CONTRACT_CONVERSATION["id"], session="2")
        assert counts["turns"] == 5
        assert all("marble" not in h.text for h in memory.search("marble countertop", k=10))
        assert memory.stats()["nodes"]["Turn"] == 5


def test_cypher_is_read_only(url):
    with client(url, "cypher-ro") as memory:
        memory.add([{"speaker": "Leo", "text": "Read only, please."}], conversation="c")
        with pytest.raises(InputError, match="read-only"):
            memory.cypher("CREATE (n:Turn {id: 'evil', namespace: $namespace}) RETURN n.id AS id")
        rows = memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN count(t) AS n")
        assert rows == [{"n": 1}]
        # $namespace is always the path's namespace: no reading another tenant through params
        other = memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN count(t) AS n", {"namespace": "alice"})
        assert other == [{"n": 1}]
        # LOAD CSV reads no file of the server (it gave /proc/self/environ, the token with it) and no web address
        for source in ("file:///proc/self/environ", "https://example.com/a.csv"):
            with pytest.raises(GraphmemError, match="disabled"):
                memory.cypher("LOAD CSV FROM $source AS line RETURN line", {"source": source})


def test_errors_are_one_line_json(url):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    cases = [
        ("POST", "/v1/namespaces/x/search", {"content": b"{not json", "headers": {**headers, "content-type": "application/json"}}, 400),
        ("POST", "/v1/namespaces/x/search", {"json": {"query": "a", "k": 0}, "headers": headers}, 400),
        ("POST", "/v1/namespaces/x/search", {"json": {"query": "a", "strategy": "magic"}, "headers": headers}, 400),
        ("POST", "/v1/namespaces/x/search", {"json": {"query": "a", "time_range": ["yesterday", None]}, "headers": headers}, 400),
        ("POST", "/v1/namespaces/x/messages", {"json": {"conversation": "c", "messages": [{"speaker": "A"}]}, "headers": headers}, 400),
        ("POST", "/v1/namespaces/x/forget", {"json": {}, "headers": headers}, 400),
        # JSON's escape of a lone surrogate: valid JSON, no text (before: a tokenizer TypeError, 500)
        ("POST", "/v1/namespaces/x/search", {"content": b'{"query": "tea \\ud800"}',
                                              "headers": {**headers, "content-type": "application/json"}}, 400),
        ("POST", "/v1/namespaces/x/messages", {"content": b'{"conversation": "c\\ud800", "messages": [{"speaker": "A", "text": "ok"}]}',
                                                "headers": {**headers, "content-type": "application/json"}}, 400),
        ("GET", "/v1/namespaces/nobody-here/stats", {"headers": headers}, 404),
        ("GET", "/v1/namespaces/nobody-here/check", {"headers": headers}, 404),
        ("GET", "/v1/namespaces/" + "n" * 300 + "/stats", {"headers": headers}, 400),
        ("GET", "/v1/nothing", {"headers": headers}, 404),
    ]
    for method, path, kwargs, status in cases:
        answer = httpx.request(method, url + path, **kwargs)
        assert answer.status_code == status, (path, answer.text)
        body = answer.json()
        assert set(body) == {"error"} and "\n" not in body["error"] and "Traceback" not in body["error"], body
    answer = httpx.post(url + "/v1/namespaces/x/messages", headers=headers,
                        json={"conversation": "c", "messages": [{"speaker": "A", "text": "ok"}, {"speaker": "B"}]})
    assert "messages[1]" in answer.json()["error"]
    assert httpx.get(url + "/v1/namespaces/x/stats", headers=headers).status_code == 404  # the bad add stored nothing
    assert Client(url, TOKEN, namespace="never-written").search("anything at all") == []


def test_schema_errors_are_named_in_graphmems_words(url):
    """Arguments failing the body's schema were answered in pydantic's words, one part per form a
    time may take ("time_range.0.int: Input should be a valid integer; time_range.0.float: ...")."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    cases = [
        ("search", {"query": "a", "k": 0}, "k must be a positive integer, got 0"),
        ("search", {"query": "a", "k": "five"}, "k: expected a whole number, got 'five'"),
        ("search", {"query": "", "k": 2000}, "query: expected a non-empty text; k must be at most 1000, got 2000"),
        ("search", {"query": "a", "time_range": [True, None]},
         "time_range[0]: expected a time (ISO 8601 text or a Unix time in seconds), got True"),
        ("search", {"query": "a", "bogus": 1}, "bogus: unknown argument"),
        ("search", {"k": 3}, "query: missing (it is required)"),
        ("messages", {"conversation": "c", "messages": [{"speaker": "A", "text": "x"}], "session_started_at": True},
         "session_started_at: expected a time (ISO 8601 text or a Unix time in seconds), got True"),
        ("messages", {"conversation": "c", "messages": [{"speaker": "A", "text": "x"}] * 1001}, "messages: at most 1000 items, got 1001"),
        ("forget", {"turn": "turn:x"}, "turn: expected a list, got 'turn:x'"),
        # the documented limits of what a message names (a 5,000-character speaker and id were stored) and
        # of metadata pairs (150 were taken by an add, a correction and a forget; a search said "got None")
        ("messages", {"conversation": "c", "messages": [{"speaker": "A" * 5000, "text": "x"}]},
         "messages[0].speaker: at most 1024 characters, got 5000"),
        ("messages", {"conversation": "c", "messages": [{"speaker": "A", "text": "x"}, {"role": "user", "content": "y", "id": "i" * 2000}]},
         "messages[1].id: at most 1024 characters, got 2000"),
        ("messages", {"conversation": "c", "messages": [{"speaker": "A", "text": "x", "id": int("9" * 1100)}]},
         "messages[0].id: at most 1024 characters, got 1100"),
        ("messages", {"conversation": "c", "messages": [{"speaker": "A", "text": "x", "metadata": {f"k{i}": i for i in range(150)}}]},
         "messages[0].metadata: at most 100 items, got 150"),
        ("forget", {"metadata": {f"k{i}": i for i in range(150)}}, "metadata: at most 100 items, got 150"),
        ("search", {"query": "a", "metadata": {f"k{i}": i for i in range(101)}}, "metadata: at most 100 items, got 101"),
        # as_of and before take text alone: the message offered a Unix time and refused it
        ("search", {"query": "a", "as_of": 1709251200}, "as_of: expected a time (ISO 8601 text), got 1709251200"),
        ("forget", {"before": 946684800}, "before: expected a time (ISO 8601 text), got 946684800"),
    ]
    for endpoint, body, said in cases:
        answer = httpx.post(f"{url}/v1/namespaces/x/{endpoint}", json=body, headers=headers)
        assert (answer.status_code, answer.json()) == (400, {"error": said}), (body, answer.text)


def test_an_uploaded_file_is_keyed_by_its_own_name_and_any_key_reads_back(url, tmp_path):
    """An upload was keyed by its temporary copy's name, reduced to safe characters: "Team chat" became
    "Team_chat", so another chat's file "Team_chat.jsonl" corrected it by position. A conversation key
    holding a line break was stored by an add, but its messages and recall answered a bare 404."""
    memory = client(url, "keys")
    for name, text in (("Family chat.jsonl", "Grandma's birthday is on 12 May."), ("Family_chat.jsonl", "The plumber comes on Tuesday."),
                       ("café.jsonl", "The espresso machine is fixed.")):
        path = tmp_path / name
        path.write_text(json.dumps({"speaker": "Ana", "text": text}) + "\n", encoding="utf-8")
        assert memory.ingest(path)["turns_added"] == 1
    for key, text in (("Family chat", "Grandma's birthday is on 12 May."), ("Family_chat", "The plumber comes on Tuesday."),
                      ("café", "The espresso machine is fixed.")):
        assert [m["text"] for m in memory.messages(key)] == [text], key
    ticket = "support ticket 42\n"
    memory.add({"speaker": "Ada", "text": "My order from Lisbon never arrived."}, conversation=ticket)
    assert [m["text"] for m in memory.messages(ticket)] == ["My order from Lisbon never arrived."]
    assert "My order from Lisbon never arrived." in memory.recall(ticket, "Lisbon order", recent=1)


def test_a_path_byte_that_is_no_text_and_namespaces_holding_no_conversation(url):
    """`%FF` in a path reached the routes as U+FFFD and stored a message in a namespace named "\ufffd";
    a namespace whose conversations were all forgotten, or only given a zone, was listed by
    /v1/namespaces while every other endpoint answered 404 for it."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    message = {"conversation": "c", "messages": [{"speaker": "A", "text": "I sail on Sundays."}]}
    for path in ("/v1/namespaces/%FF/messages", "/v1/namespaces/ok/conversations/%FFx/recall"):
        answer = httpx.post(url + path, json=message if path.endswith("messages") else {}, headers=headers)
        assert answer.status_code == 400 and "no UTF-8 text" in answer.json()["error"], answer.text
    assert httpx.post(url + "/v1/namespaces/%C3%A9t%C3%A9/messages", json=message, headers=headers).status_code == 200
    with client(url, "listed-then-gone") as gone, client(url, "zone-only") as zoned:
        gone.add({"speaker": "A", "text": "Soon forgotten."}, conversation="c")
        assert "listed-then-gone" in gone.namespaces()
        gone.forget(conversation="c")
        zoned.set_timezone("Europe/Berlin")
        listed = gone.namespaces()
        assert "été" in listed and "\ufffd" not in listed
        assert "listed-then-gone" not in listed and "zone-only" not in listed, listed
        for memory in (gone, zoned):
            with pytest.raises(InputError, match="not found"):
                memory.stats()


def test_body_limit(hub):
    with running(hub, max_body=2048) as url:
        big = {"conversation": "c", "messages": [{"speaker": "A", "text": "x" * 4096}]}
        answer = httpx.post(f"{url}/v1/namespaces/limits/messages", json=big)
        assert answer.status_code == 413 and "2048" in answer.json()["error"]
        chunks = (b"x" * 1024 for _ in range(4))  # no Content-Length: counted as it streams
        streamed = httpx.post(f"{url}/v1/namespaces/limits/messages", content=chunks, headers={"content-type": "application/json"})
        assert streamed.status_code == 413
        assert httpx.get(f"{url}/v1/namespaces", timeout=30).status_code == 200  # no token on this one


def test_non_loopback_needs_a_token(tmp_path):
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
    require_safe_bind("0.0.0.0", "secret")
    with pytest.raises(ConfigurationError, match="without a token"):
        require_safe_bind("0.0.0.0", None)
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--store", str(tmp_path / "s")], env={"GRAPHMEM_TOKEN": ""})
    assert result.exit_code == 2
    assert "refusing to serve 0.0.0.0 without a token" in result.output
    assert not (tmp_path / "s").exists()  # refused before the store was opened


def test_client_refuses_bad_urls_and_reports_unreachable_servers():
    from graphmem.bench.serve import free_port
    from graphmem.errors import StoreUnavailableError

    with pytest.raises(ConfigurationError):
        Client("ftp://example.org")
    with Client(f"http://127.0.0.1:{free_port()}", timeout=2) as dead:
        assert dead.health() is False
        with pytest.raises(StoreUnavailableError, match="cannot reach"):
            dead.stats()
    closed = Client("http://127.0.0.1:1")
    closed.close()
    with pytest.raises(Exception, match="closed"):
        closed.stats()


def test_async_client_answers_as_the_client_does_and_never_blocks_the_loop(url):
    """AsyncClient over the real socket: every method answers what Client answers; searches from
    many tasks run together while a ticking coroutine keeps running; errors are graphmem's."""
    with client(url, "async-http") as sync:
        added = sync.add([{"speaker": "Ada", "text": "I bought a red canoe.", "id": "c1"},
                          {"speaker": "Bo", "text": "We painted the shed green.", "id": "c2"},
                          {"speaker": "Ada", "text": "The canoe leaks a little.", "id": "c3"}], conversation="lake")
        queries = ["What colour is the canoe?", "What did we paint?", "Does the canoe leak?"]
        expected = [[h.node_id for h in sync.search(q, k=2)] for q in queries]
        expected_messages = sync.messages("lake", last=2)

    async def main() -> None:
        ticks, stop = [0], asyncio.Event()

        async def ticker() -> None:
            while not stop.is_set():
                ticks[0] += 1
                await asyncio.sleep(0.001)

        async with AsyncClient(url, TOKEN, namespace="async-http") as memory:
            beat = asyncio.create_task(ticker())
            found = await asyncio.gather(*(memory.search(q, k=2) for q in queries * 3))
            stop.set()
            await beat
            assert [[h.node_id for h in hits] for hits in found] == expected * 3
            assert ticks[0] >= 5  # the loop kept ticking while the searches were out
            assert isinstance(found[0][0], Hit) and "canoe" in await memory.explain(found[0][0])
            assert await memory.messages("lake", last=2) == expected_messages
            assert "red canoe" in await memory.context("What colour is the canoe?", k=1)
            fixed = await memory.add({"speaker": "Ada", "text": "I bought a blue canoe.", "id": "c1"}, conversation="lake")
            assert fixed["corrected"] == 1
            assert [v["text"] for v in await memory.history(added["turn_ids"][0])] == ["I bought a red canoe.", "I bought a blue canoe."]
            assert (await memory.stats())["nodes"]["Turn"] == 3 and "async-http" in await memory.namespaces()
            assert (await memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN count(t) AS n"))[0]["n"] == 3
            assert (await memory.check())["ok"] is True and await memory.health() is True
            assert (await memory.forget(turn=added["turn_ids"][1]))["turns"] == 1
            with pytest.raises(InputError, match="unknown unit"):
                await memory.search("canoe", unit="paragraph")
            with pytest.raises(InputError, match="last"):
                await memory.messages("lake", last=0)
        with pytest.raises(ClosedError):
            await memory.stats()
        from graphmem.bench.serve import free_port

        async with AsyncClient(f"http://127.0.0.1:{free_port()}", timeout=2) as dead:
            assert await dead.health() is False
            with pytest.raises(StoreUnavailableError, match="cannot reach"):
                await dead.stats()

    asyncio.run(main())


def test_one_async_client_serves_one_event_loop_after_another(url):
    """A notebook or a sync wrapper calls asyncio.run() for each request: the second raised
    RuntimeError ("Event loop is closed") from the first loop's pooled connection."""
    memory = AsyncClient(url, TOKEN, namespace="loops")
    asyncio.run(memory.add({"speaker": "Ada", "text": "The ferry leaves at noon."}, conversation="c"))
    assert [m["text"] for m in asyncio.run(memory.messages("c"))] == ["The ferry leaves at noon."]
    for _ in range(5):
        assert asyncio.run(memory.health()) is True
    assert len(memory._pools) == 1  # a finished loop's pool is let go (one was kept for every asyncio.run())
    asyncio.run(memory.close())
    with pytest.raises(ClosedError):
        asyncio.run(memory.stats())


def test_hit_round_trips_through_json():
    hit = Hit("turn:1", "turn", "hello", 0.5, "dense", source_id="D1:1", session_number=2, explanation={"dense": {"cosine": 0.5}})
    assert Hit.from_dict(json.loads(json.dumps(hit.to_dict(explain=True)))) == hit
    assert Hit.from_dict(json.loads(json.dumps(hit.to_dict()))).explanation == {}  # compact by default


@pytest.mark.bolt
def test_serving_a_bolt_store(bolt_server, tmp_path, embedder):
    from conftest import drop_namespace, new_namespace

    hub = MemoryHub.open(bolt_server.uri, settings_for(tmp_path), auth=bolt_server.auth, database=bolt_server.database)
    namespace = new_namespace("served")
    try:
        with running(hub) as url, Client(url, namespace=namespace) as memory:
            assert memory.add([{"speaker": "Leo", "text": "My cousin Omar is a plumber in Porto."}], conversation="family")["added"] == 1
            memory.add([{"speaker": "Maya", "text": "Omar fixed our sink last spring."}], conversation="family")
            assert "plumber" in memory.search("What does Omar do for a living?", k=1)[0].text
            assert memory.stats()["nodes"]["Turn"] == 2
            with pytest.raises(InputError, match="read-only"):
                memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace SET t.text = 'x' RETURN t.id AS id")
            assert {r["text"] for r in memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.text AS text")} == {
                "My cousin Omar is a plumber in Porto.", "Omar fixed our sink last spring."}
            assert memory.check()["ok"] is True
    finally:
        drop_namespace(hub.memory(namespace))
        hub.close()


def test_attached_memories_share_the_store_and_leave_it_open(hub):
    from graphmem import ClosedError, Memory

    memory = Memory.attach(hub.store, "attach-test", hub.settings)
    assert memory.stats()["nodes"] == {}
    memory.close()
    assert not hub.store.closed
    with pytest.raises(ClosedError):
        memory.stats()
    assert hub.memory("attach-test").stats()["namespace"] == "attach-test"


def test_a_taken_port_is_one_clear_error(hub):
    import socket

    from graphmem.server.run import listen_socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(ConfigurationError, match=f"cannot listen on 127.0.0.1:{port}"):
            listen_socket("127.0.0.1", port)


def test_serve_on_a_taken_port_fails_before_it_opens_the_store(tmp_path):
    """`graphmem serve --port P` with P taken failed only after it had opened (here: created) the
    store and loaded the models, and left the new store directory behind. The port is now bound
    first: one clear error, and no store made."""
    import os
    import socket
    import subprocess
    import sys

    from pathlib import Path

    repo = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")])), "GRAPHMEM_TOKEN": ""}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "graphmem.cli", "serve", "--store", str(tmp_path / "s"), "--port", str(port)],
                                capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "s").exists()  # refused before the store was opened


def test_add_correct_and_forget_one_message_over_http(url):
    with client(url, "live-http") as memory:
        sent = [{"speaker": "Ada", "text": "My bike is green.", "id": "b1", "metadata": {"channel": "sms"}},
                {"speaker": "Ada", "text": "I ride it to work.", "id": "b2"}]
        first = memory.add(sent, conversation="c")
        again = memory.add(sent, conversation="c")  # a retry after a lost answer: nothing stored twice
        assert (again["added"], again["unchanged"], again["turn_ids"]) == (0, 2, first["turn_ids"])
        fixed = memory.add([{"speaker": "Ada", "text": "My bike is blue.", "id": "b1", "caption": "a blue bike",
                             "metadata": {"channel": "app"}}], conversation="c")
        assert (fixed["added"], fixed["corrected"]) == (0, 1) and fixed["turn_ids"] == first["turn_ids"][:1]
        hit = memory.search("bike colour", k=1)[0]
        assert "blue" in hit.text and (hit.caption, hit.metadata) == ("a blue bike", {"channel": "app"})
        assert hit.timestamp  # said when it was added (no time was sent)
        assert [v["metadata"] for v in memory.history(hit.node_id)] == [{"channel": "sms"}, {"channel": "app"}]
        assert memory.forget(turn=first["turn_ids"][1])["turns"] == 1
        assert memory.stats()["nodes"]["Turn"] == 1
        from langchain_core.messages import HumanMessage  # an agent framework's message object, sent as JSON

        framework = memory.add(HumanMessage("I lock the bike at the station.", id="lc1"), conversation="c")
        assert framework["added"] == 1
        assert [(m["speaker"], m["source_id"]) for m in memory.messages("c", last=1)] == [("user", "lc1")]


def test_reading_a_conversations_messages_back_over_http(url):
    """Client.messages reads what Memory.messages reads, through the HTTP API: in order, the
    last N, one session, the text a correction left; a bad count is a 400 naming it."""
    with client(url, "messages-http") as memory:
        added = memory.add([{"speaker": "Ada", "text": f"Message {i}.", "id": f"m{i}"} for i in range(4)],
                           conversation="chat/42", session="a")  # a key with a slash: quoted in the path
        memory.add({"speaker": "Bo", "text": "A new sitting.", "caption": "a sunset"}, conversation="chat/42", session="b")
        memory.add({"speaker": "Ada", "text": "Message one, fixed.", "id": "m1"}, conversation="chat/42", session="a")
        every = memory.messages("chat/42")
        assert [(m["session"], m["text"], m["version"]) for m in every] == [
            ("a", "Message 0.", 0), ("a", "Message one, fixed.", 1), ("a", "Message 2.", 0), ("a", "Message 3.", 0),
            ("b", "A new sitting.", 0)]
        assert [m["turn_id"] for m in every[:4]] == added["turn_ids"]
        assert [m["text"] for m in memory.messages("chat/42", last=2)] == ["Message 3.", "A new sitting."]
        assert [m["caption"] for m in memory.messages("chat/42", session="b")] == ["a sunset"]
        assert [m["text"] for m in memory.messages("chat/42", last=1, before=every[2]["turn_id"])] == ["Message one, fixed."]
        with pytest.raises(InputError, match="before: no turn"):
            memory.messages("chat/42", before="turn:nope")
        assert memory.messages("nowhere") == []
        # a prompt holding the recent window asks for the rest: the window's turns never come back
        window = [m["turn_id"] for m in memory.messages("chat/42", last=3)]
        recalled = memory.search("message", k=5, conversation="chat/42", exclude=window)
        assert sorted(h.source_id for h in recalled) == ["m0", "m1"]  # all that is left of the conversation
        with pytest.raises(InputError, match=r"exclude\[0\]"):
            memory.search("message", exclude=[""])
        with pytest.raises(InputError, match="last: expected a positive number"):
            memory.messages("chat/42", last=0)
    with client(url, "never-written") as memory:
        assert memory.messages("chat/42") == []
    answer = httpx.get(f"{url}/v1/namespaces/messages-http/conversations/chat/messages", params={"last": -3},
                       headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 400 and "last" in answer.json()["error"]


def test_search_filters_and_a_turns_history_over_http(url):
    """Client.search takes Memory.search's filters and Client.history reads a corrected
    turn's versions, through the HTTP API."""
    with client(url, "filters-http") as memory:
        first = memory.add([{"speaker": "Ada", "text": "My kayak is yellow.", "id": "k1"},
                            {"speaker": "Bo", "text": "My kayak is red and very fast.", "id": "k2"}], conversation="lake")
        memory.add([{"speaker": "Ada", "text": "The river kayak trip was cancelled.", "id": "r1"}], conversation="river")
        assert {h.conversation_id for h in memory.search("kayak", k=5)} == {"lake", "river"}
        lake = memory.search("kayak", k=5, conversation="lake")
        assert len(lake) == 2 and {h.conversation_id for h in lake} == {"lake"}
        bo = memory.search("kayak", k=5, speaker="bo")  # case-insensitive, as Memory.search
        assert [h.source_id for h in bo] == ["k2"]
        block = memory.context("Whose kayak is fast?", k=2, conversation="lake")
        assert block.startswith("Memories relevant to: Whose kayak is fast?") and "red and very fast" in block
        assert "river" not in block
        assert memory.search("kayak", k=5, conversation="lake", session="9") == []
        with pytest.raises(InputError, match="speaker"):
            memory.search("kayak", speaker="  ")
        # the same words on two Saturdays: "last Saturday" is the one before the time asked
        for key, day in (("p1", "2024-06-01T10:00:00"), ("p2", "2024-07-06T10:00:00")):
            memory.add([{"speaker": "Ada", "text": "I paddled to the island.", "id": key, "timestamp": day}], conversation="paddle")
        paddle = "Where did I paddle last Saturday?"
        assert memory.search(paddle, k=2, conversation="paddle", as_of="2024-06-04")[0].source_id == "p1"
        assert memory.search(paddle, k=2, conversation="paddle", as_of=datetime(2024, 7, 9, 8))[0].source_id == "p2"
        with pytest.raises(InputError, match="as_of"):
            memory.search(paddle, as_of="soon")
        turn = first["turn_ids"][0]
        assert [v["text"] for v in memory.history(turn)] == ["My kayak is yellow."]
        one = memory.add({"role": "user", "content": [{"type": "text", "text": "A paddle too."}]}, conversation="lake")
        assert one["added"] == 1  # one message, not a list, as Memory.add takes it
        from samples import AnthropicMessage
        sdk = memory.add(AnthropicMessage(id="msg_7", content=[{"type": "text", "text": "Life jackets are in the shed."}]),
                         conversation="lake")  # an SDK object goes as its message fields (not model, usage, ...)
        assert sdk["added"] == 1 and memory.search("life jackets", k=1, conversation="lake")[0].source_id == "msg_7"
        with pytest.raises(InputError, match=r"messages\[0\]: expected a mapping"):
            memory.add(["just text"], conversation="lake")
        memory.add([{"speaker": "Ada", "text": "My kayak is green.", "id": "k1"}], conversation="lake")
        versions = memory.history(turn)
        assert [(v["text"], v["current"]) for v in versions] == [("My kayak is yellow.", False), ("My kayak is green.", True)]
        assert versions[0]["replaced_at"] is not None and versions[1]["replaced_at"] is None
        with pytest.raises(InputError, match="no turn"):
            memory.history("turn:0000")
    answer = httpx.get(f"{url}/v1/namespaces/filters-http/turns/turn%3A0000/history",
                       headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 404 and "no turn" in answer.json()["error"]


def test_connections_accepted_on_the_listening_socket_send_without_delay():
    """The listening socket is named TCP, so asyncio (as uvicorn serves on it) sets TCP_NODELAY on
    every connection it accepts: without it each response after a connection's first had its body
    held back by Nagle's algorithm until the client's delayed ACK (~40 ms a request)."""
    import asyncio
    import socket

    from graphmem.server.run import listen_socket

    sock = listen_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    seen: list[int] = []

    class Recorder(asyncio.Protocol):
        def connection_made(self, transport):
            seen.append(transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    async def accept_one() -> None:
        server = await asyncio.get_running_loop().create_server(Recorder, sock=sock)
        async with server:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            await reader.read()  # closed by the server once it has looked at the connection
            writer.close()

    assert sock.proto == socket.IPPROTO_TCP
    asyncio.run(asyncio.wait_for(accept_one(), 30))
    assert seen == [1]


def test_warm_up_loads_what_the_first_add_and_search_need(hub, monkeypatch):
    """The embedding model, the language pipeline of the store's settings and topic fitting's
    scikit-learn are loaded, and the database has answered a query, before the first request (the
    first add used to do the last two itself: 1.05 s against 40-70 ms for the next adds)."""
    import graphmem.ingest.events as events

    monkeypatch.setattr(events, "_PIPELINES", {})
    reads: list[str] = []
    read = hub.store.read
    monkeypatch.setattr(hub.store, "read", lambda name, params=None: reads.append(name) or read(name, params))
    hub.warm_up()
    assert list(events._PIPELINES) == [hub.settings.spacy_model]
    assert reads == ["read/change_marker"]  # the database's first, slow query is not a request's
    loaded = events._PIPELINES[hub.settings.spacy_model]
    assert loaded is events.language_pipeline(hub.settings.spacy_model)  # the one a live writer takes
    assert loaded.analyse(["Ann met Bo in Lisbon."], speakers=("Ann", "Bo"))[0].mentions


def test_worker_threads_the_server_ends_leave_no_java_threads_behind(hub, monkeypatch):
    """The server's thread pool grows for a burst of requests and ends the threads idle for 10 s
    (here 0.05 s) at the next request; each that had used the embedded store stayed attached to
    its JVM, its Java thread left behind with the database's per-thread state: a few more after
    every burst. Requests now run through MemoryHub.run, which detaches the thread after the call."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    import jpype
    from anyio._backends import _asyncio as anyio_asyncio

    monkeypatch.setattr(anyio_asyncio.WorkerThread, "MAX_IDLE_TIME", 0.05)
    java_threads = jpype.JClass("java.lang.Thread")

    def burst(base: str) -> None:
        def one(i: int) -> None:
            with client(base, "bursty") as bursty:
                assert bursty.stats()["nodes"]["Turn"] >= 1
                bursty.search(f"shed coat {i}", k=1)

        with ThreadPoolExecutor(max_workers=6) as pool:
            list(pool.map(one, range(12)))
        time.sleep(0.3)
        with client(base, "bursty") as bursty:  # the next request ends the idle threads
            bursty.search("shed", k=1)
        time.sleep(0.3)

    with running(hub, token=TOKEN) as base:
        with client(base, "bursty") as bursty:
            bursty.add([{"speaker": "Ivy", "text": "I repainted the garden shed dark green."}], conversation="shed")
        burst(base)
        before = int(java_threads.getAllStackTraces().size())
        for _ in range(3):
            burst(base)
        after = int(java_threads.getAllStackTraces().size())
    assert after <= before, (before, after)


def test_what_the_memory_knows_about_an_entity_over_http(url, hub):
    """Client.entity and Client.entities read what Memory.entity and Memory.entities read, through
    the HTTP API; AsyncClient the same; a name with a slash is quoted in the path; a bad count is
    a 400 naming it; a namespace never written knows no entity."""
    with client(url, "entities-http") as memory:
        memory.add([{"speaker": "Priya", "text": "We hiked to the glacier lake near Chamonix with Oscar.", "id": "m1"},
                    {"speaker": "Tom", "text": "Oscar wants to go back to Chamonix.", "id": "m2"}],
                   conversation="trip", session_started_at="2024-06-01T09:00:00")
        profile = memory.entity("chamonix", mentions=1)
        assert profile == hub.memory("entities-http").entity("chamonix", mentions=1)
        assert profile["name"] == "Chamonix" and [m["source_id"] for m in profile["mentions"]] == ["m2"]
        assert memory.entities() == hub.memory("entities-http").entities()
        assert memory.entity("AC/DC") is None
        with pytest.raises(InputError, match="label"):
            memory.entities(label="city")

        async def read() -> tuple:
            async with AsyncClient(url, TOKEN, namespace="entities-http") as served:
                return await served.entity("chamonix", mentions=1), await served.entities(limit=1)

        assert asyncio.run(read()) == (profile, memory.entities(limit=1))
    with client(url, "never-written-entities") as memory:
        assert memory.entity("Chamonix") is None and memory.entities() == []
    answer = httpx.get(f"{url}/v1/namespaces/entities-http/entities/Oscar", params={"mentions": -1},
                       headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 400 and "mentions" in answer.json()["error"]


def test_a_metadata_filter_over_http(url):
    """Client.search(metadata=) and AsyncClient's narrow as Memory.search does, Client.forget(metadata=)
    forgets one user's messages; a bad filter is a 400 naming its key."""
    with client(url, "metadata-http") as memory:
        memory.add([{"speaker": "user", "text": "I booked the Lisbon flight for May.", "id": "x1", "metadata": {"user_id": "u1"}},
                    {"speaker": "user", "text": "I booked the Lisbon hotel for May.", "id": "x2", "metadata": {"user_id": "u2"}}],
                   conversation="trips")
        assert [h.source_id for h in memory.search("Lisbon booking", k=5, metadata={"user_id": "u2"})] == ["x2"]
        assert memory.search("Lisbon booking", k=5, metadata={"user_id": 2}) == []
        with pytest.raises(InputError, match=r"metadata\.user_id"):
            memory.search("Lisbon booking", metadata={"user_id": ["u1"]})

        async def read() -> list:
            async with AsyncClient(url, TOKEN, namespace="metadata-http") as served:
                return await served.search("Lisbon booking", k=5, metadata={"user_id": "u1"})

        assert [h.source_id for h in asyncio.run(read())] == ["x1"]
        assert memory.forget(metadata={"user_id": "u1"})["turns"] == 1
        assert [m["source_id"] for m in memory.messages("trips")] == ["x2"]
        with pytest.raises(InputError, match="at least one key"):
            memory.forget(metadata={})


def test_correcting_a_message_by_its_turn_id_over_http(url):
    """Client.correct and AsyncClient.correct correct as Memory.correct does; an unknown turn is a
    404, a bad value a 400 naming its field."""
    with client(url, "correct-http") as memory:
        added = memory.add({"speaker": "Ada", "text": "Dinner is at eight at Luigi's."}, conversation="plans")
        turn = added["turn_ids"][0]
        report = memory.correct(turn, "Dinner is at nine at Luigi's.", metadata={"edited": True})
        assert (report["corrected"], report["turn_ids"]) == (1, [turn])
        assert [v["text"] for v in memory.history(turn)] == ["Dinner is at eight at Luigi's.", "Dinner is at nine at Luigi's."]
        assert memory.messages("plans")[0]["metadata"] == {"edited": True}
        with pytest.raises(InputError, match="no turn"):
            memory.correct("turn:nope", "x")
        with pytest.raises(InputError, match=r"metadata\.tags"):
            memory.correct(turn, metadata={"tags": ["a"]})
        with pytest.raises(InputError, match="nothing to change"):
            memory.correct(turn)

        async def fix() -> dict:
            async with AsyncClient(url, TOKEN, namespace="correct-http") as served:
                return await served.correct(turn, "Dinner is at half past nine at Luigi's.")

        assert asyncio.run(fix())["corrected"] == 1
        assert memory.messages("plans")[0]["text"] == "Dinner is at half past nine at Luigi's."
    headers = {"Authorization": f"Bearer {TOKEN}"}
    missing = httpx.patch(f"{url}/v1/namespaces/correct-http/turns/turn:nope", json={"text": "x"}, headers=headers)
    assert missing.status_code == 404 and "no turn" in missing.json()["error"]
    bad = httpx.patch(f"{url}/v1/namespaces/correct-http/turns/{turn}", json={"text": ""}, headers=headers)
    assert bad.status_code == 400 and "text" in bad.json()["error"]


def test_recall_over_http(url, hub):
    """Client.recall and AsyncClient.recall give what Memory.recall gives, in one request that answers
    the text and its parts; a namespace never written recalls nothing, and bad arguments are 400s."""
    with client(url, "recall-http") as memory:
        memory.add({"speaker": "Ada", "text": "I adopted a corgi called Pepper."}, conversation="pets",
                   session_started_at="2024-03-16T19:30:00")
        memory.add([{"speaker": "Bo", "text": "Book the tram tour first."},
                    {"speaker": "Ada", "text": "Can Pepper the corgi come along?"}], conversation="trip",
                   session_started_at="2024-05-02T08:00:00")
        text = memory.recall("trip", recent=2, k=2)
        assert text == hub.memory("recall-http").recall("trip", recent=2, k=2)
        assert "I adopted a corgi called Pepper." in text

        async def read() -> str:
            async with AsyncClient(url, TOKEN, namespace="recall-http") as served:
                return await served.recall("trip", recent=2, k=2)

        assert asyncio.run(read()) == text
        with pytest.raises(InputError, match="no message to take it from"):
            memory.recall("nowhere")
        # one request gives the parts too, for clients that format their own prompt
        answer = httpx.post(f"{url}/v1/namespaces/recall-http/conversations/trip/recall", json={"recent": 1, "k": 1},
                            headers={"Authorization": f"Bearer {TOKEN}"}).json()
        assert answer["query"] == "Can Pepper the corgi come along?"
        assert [m["text"] for m in answer["messages"]] == ["Can Pepper the corgi come along?"]
        assert [h["text"] for h in answer["hits"]] == ["I adopted a corgi called Pepper."]
        assert answer["text"] == memory.recall("trip", recent=1, k=1)
    with client(url, "never-written-recall") as memory:
        assert memory.recall("trip", "corgi").endswith("No memories found for: corgi")
        with pytest.raises(InputError, match="unknown strategy"):
            memory.recall("trip", "corgi", strategy="psychic")


def test_a_namespace_time_zone_over_http(url):
    """GET / PUT /v1/namespaces/{ns}/timezone (Client.timezone, set_timezone; AsyncClient's): a
    namespace never set answers the server's zone; a zone set is used by every later call (a naive
    time read there, hits shown there); a bad name is a 400 naming it; null clears it."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(f"{url}/v1/namespaces/tz-never/timezone", headers=headers).json() == {"timezone": "UTC", "stored": None}
    cleared = httpx.put(f"{url}/v1/namespaces/tz-never/timezone", json={"timezone": None}, headers=headers)
    assert cleared.json() == {"timezone": "UTC", "stored": None}
    assert "tz-never" not in httpx.get(f"{url}/v1/namespaces", headers=headers).json()["namespaces"]  # nothing written
    with client(url, "tz-http") as memory:
        assert memory.set_timezone("America/New_York") == "America/New_York"
        memory.add({"role": "user", "content": "We cooked chili.", "timestamp": "2024-03-16T21:30:00"}, conversation="home")
        assert memory.search("chili", k=1)[0].timestamp == "2024-03-16T21:30:00-04:00"
        answer = httpx.put(f"{url}/v1/namespaces/tz-http/timezone", json={"timezone": "Mars/Base"}, headers=headers)
        assert answer.status_code == 400 and "'Mars/Base' is not a time zone" in answer.json()["error"]
        with pytest.raises(InputError, match="'Mars/Base' is not a time zone"):
            memory.set_timezone("Mars/Base")  # refused before it is sent
        from graphmem.timezones import zone_name

        assert memory.set_timezone("local") == zone_name("local")  # the caller's machine's zone, sent by its name
        assert memory.set_timezone("America/New_York") == "America/New_York"

        async def in_utc() -> tuple[str, str]:
            async with AsyncClient(url, TOKEN, namespace="tz-http") as served:
                return await served.set_timezone(None), (await served.search("chili", k=1))[0].timestamp

        assert asyncio.run(in_utc()) == ("UTC", "2024-03-17T01:30:00")
        assert memory.timezone() == "UTC"
    assert httpx.get(f"{url}/v1/namespaces/tz-http/timezone", headers=headers).json() == {"timezone": "UTC", "stored": None}


def test_the_client_sends_times_as_memory_takes_them(url):
    """Datetimes and dates in a message's timestamp, session_started_at, time_range, as_of and before
    (a TypeError: not JSON serializable), and Unix times in a time_range (an AttributeError in the
    client, a 400 from the server), as Memory takes them; a Unix as_of is refused, as Memory refuses it."""
    from datetime import date

    with client(url, "client-times") as memory:
        memory.add({"speaker": "Ann", "text": "We planted the apricot tree.", "timestamp": datetime(2024, 3, 16, 19, 30)},
                   conversation="garden")
        memory.add({"speaker": "Ann", "text": "The apricot tree flowered."}, conversation="garden", session="2",
                   session_started_at=date(2024, 4, 2))
        assert [m["timestamp"] for m in memory.messages("garden")] == ["2024-03-16T19:30:00", "2024-04-02T00:00:00"]
        march = memory.search("apricot tree", time_range=(datetime(2024, 3, 1), date(2024, 3, 31)))
        assert [h.text for h in march] == ["We planted the apricot tree."]
        unix = memory.search("apricot tree", time_range=(1711929600, None))  # from 2024-04-01 UTC
        assert [h.text for h in unix] == ["The apricot tree flowered."]
        assert memory.search("apricot", as_of=datetime(2024, 4, 3))
        with pytest.raises(InputError):
            memory.search("apricot", as_of=1711929600)
        assert memory.forget(before=date(2024, 3, 20))["turns"] == 1


def test_keys_that_are_only_dots_and_a_namespace_with_a_slash(url):
    """A namespace or conversation named "." or ".." was dropped from the request's path by the HTTP
    client (the message was stored, then messages answered 405); they are escaped now. A namespace with
    a "/" cannot be one segment of the API's paths: the client refuses it by name instead of answering
    "Not Found" to every call."""
    for namespace in ("..", "."):
        with client(url, namespace) as memory:
            memory.add({"speaker": "Ann", "text": "Dots are fine here."}, conversation="..")
            assert [m["text"] for m in memory.messages("..")] == ["Dots are fine here."]
            assert memory.recall("..", recent=1).startswith("Recent messages of conversation ..")
            assert memory.stats()["nodes"]["Turn"] == 1
    with pytest.raises(ConfigurationError, match="'a/b': the HTTP API cannot name a namespace holding '/'"):
        client(url, "a/b")


def test_the_client_names_what_json_cannot_carry_as_memory_does(url):
    """What JSON cannot carry raised the HTTP library's encoder errors (UnicodeEncodeError for a lone
    surrogate, ValueError for nan, TypeError for a date in metadata or an int exclude) where Memory
    raises InputError naming the argument; a TurnRecord, which Memory.add takes, was refused."""
    from datetime import date

    from graphmem.records import TurnRecord

    with client(url, "client-json") as memory:
        cases = [
            (lambda: memory.add({"speaker": "Ann", "text": "caf\ud800"}, conversation="c"), r"messages\[0\]\.text: not valid Unicode"),
            (lambda: memory.search("caf\ud800"), "query: not valid Unicode"),
            (lambda: memory.add({"speaker": "Ann", "text": "x", "timestamp": float("nan")}, conversation="c"),
             r"messages\[0\]\.timestamp: nan is not a number"),
            (lambda: memory.add({"speaker": "Ann", "text": "x", "metadata": {"d": date(2024, 1, 2)}}, conversation="c"),
             r"messages\[0\]\.metadata\.d: a date cannot be sent"),
            (lambda: memory.search("x", exclude=5), "exclude must be a node id or a list of them, got int"),
            (lambda: memory.cypher("RETURN $d AS d", {"d": date(2024, 1, 2)}), r"params\.d: a date cannot be sent"),
            (lambda: memory.cypher("RETURN 1 AS x", 5), "params: expected a mapping"),  # type: ignore[arg-type]
        ]
        for call, message in cases:
            with pytest.raises(InputError, match=message):
                call()
        report = memory.add(TurnRecord(speaker="Ann", text="I keep bees on the roof.", source_id="b1",
                                       timestamp=datetime(2024, 5, 1, 8), metadata=(("hive", 2),)), conversation="c")
        assert report["added"] == 1
        memory.add([TurnRecord(speaker="Bo", text="How many hives?")], conversation="c")
        stored = memory.messages("c")
        assert [(m["speaker"], m["source_id"], m["metadata"]) for m in stored] == [("Ann", "b1", {"hive": 2}), ("Bo", None, {})]
        assert stored[0]["timestamp"] == "2024-05-01T08:00:00"
        assert memory.stats()["nodes"]["Turn"] == 2  # nothing of the refused calls was stored


def test_a_server_without_a_token_answers_this_machine_only(hub):
    """A server without a token (loopback only) answered a request for another host name (a web page's
    DNS rebinding read every namespace through cypher) and a cross-site page's form upload (it stored,
    and corrected, messages). The MCP endpoint refused the first already."""
    with running(hub) as url:
        assert httpx.get(f"{url}/v1/namespaces").status_code == 200
        rebound = httpx.get(f"{url}/v1/namespaces", headers={"Host": "attacker.example"})
        assert rebound.status_code == 421 and "another machine" in rebound.json()["error"]
        upload = {"file": ("chat.jsonl", b'{"role": "user", "content": "my new bank is evil-bank.example"}\n')}
        posted = httpx.post(f"{url}/v1/namespaces/web/ingest", files=upload, headers={"Origin": "https://evil.example"})
        assert posted.status_code == 403 and "--token" in posted.json()["error"]
        assert hub.memory("web").stats()["nodes"] == {}  # nothing stored
        local = httpx.get(f"{url}/v1/namespaces", headers={"Origin": "http://localhost:3000", "Host": "localhost"})
        assert local.status_code == 200  # a page of this machine (a local tool's UI) may call it
    with running(hub, token=TOKEN) as url:  # with a token, the token decides
        answered = httpx.get(f"{url}/v1/namespaces", headers={"Host": "memory.example", "Authorization": f"Bearer {TOKEN}"})
        assert answered.status_code == 200


def test_a_gzipped_upload_inflates_within_a_bound(hub):
    """A gzipped upload was inflated whole in memory: 298 KB became 605 MB of the server's memory, and
    the body limit let through one of 16 GB. It is inflated as a stream, at most 16 times the body limit."""
    import gzip as gz

    line = b'{"role": "user", "content": "I water the garden every morning before work."}\n'
    with running(hub, token=TOKEN, max_body=64 * 1024) as url:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        fine = gz.compress(b"".join(b'{"role": "user", "content": "Day %d: I watered the garden before work."}\n' % i
                                    for i in range(20)))
        answered = httpx.post(f"{url}/v1/namespaces/inflate/ingest", files={"file": ("garden.jsonl.gz", fine)}, headers=headers, timeout=120)
        assert answered.status_code == 200 and answered.json()["turns_added"] == 20, answered.text
        bomb = gz.compress(line * (2 * 1024 * 1024 // len(line)))  # 2 MiB of text in a few KB: past 16 x 64 KiB
        assert len(bomb) < 64 * 1024
        refused = httpx.post(f"{url}/v1/namespaces/inflate/ingest", files={"file": ("bomb.jsonl.gz", bomb)}, headers=headers)
        assert refused.status_code == 400 and "inflates past" in refused.json()["error"], refused.text
        twice = httpx.post(f"{url}/v1/namespaces/inflate/ingest", files={"file": ("twice.jsonl.gz", gz.compress(fine))},
                           headers=headers)
        assert twice.status_code == 400 and "inside a gzip file" in twice.json()["error"], twice.text
        long_key = httpx.post(f"{url}/v1/namespaces/inflate/ingest", files={"file": ("garden.jsonl.gz", fine)},
                              data={"conversation_id": "k" * 2000}, headers=headers)
        assert long_key.status_code == 400 and "at most 1024 characters" in long_key.json()["error"], long_key.text
    assert hub.memory("inflate").stats()["nodes"]["Turn"] == 20


class _StandIn:
    """A real HTTP server on a free loopback port that is not graphmem: it answers every request with
    ``answer`` (status, content type, body), as a reverse proxy's error page or another program would,
    or holds each request until ``release`` is set (an answer still on its way)."""

    def __init__(self) -> None:
        import http.server
        import threading

        from graphmem.bench.serve import free_port

        stand_in = self
        self.answer: tuple[int, str, bytes] = (200, "application/json", b"{}")
        self.received, self.release = threading.Event(), threading.Event()
        self.release.set()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                stand_in.received.set()
                stand_in.release.wait(30)
                status, kind, body = stand_in.answer
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_PUT = do_PATCH = do_GET

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "_StandIn":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def _nginx(status: int) -> tuple[int, str, bytes]:
    page = f"<html><head><title>{status}</title></head><body><h1>{status}</h1><hr>nginx</body></html>"
    return status, "text/html", page.encode()


def test_a_proxys_gateway_errors_are_sent_again_and_health_answers_false():
    """Behind a reverse proxy, a restarting server's 502 and a late answer's 504 (the answer lost, which the
    README says to send again) raised StorageError('HTTP 502'), which no one retries; health() raised
    StorageError there, and AttributeError when the port answered 200 with a page that is no JSON."""
    message = {"speaker": "Ann", "text": "I moved to Lisbon.", "id": "m1"}
    with _StandIn() as proxy, Client(proxy.url, namespace="ns") as memory:
        for answer in (_nginx(502), _nginx(503), _nginx(504), _nginx(500), (500, "text/plain", b"")):
            proxy.answer = answer
            with pytest.raises(StoreUnavailableError, match=f"HTTP {answer[0]} without graphmem's answer.*send it again"):
                memory.add(message, conversation="chat")
            assert memory.health() is False

            async def in_a_loop() -> None:
                async with AsyncClient(proxy.url, namespace="ns") as memory:
                    with pytest.raises(StoreUnavailableError, match=f"HTTP {answer[0]}"):
                        await memory.search("Lisbon")
                    assert await memory.health() is False

            asyncio.run(in_a_loop())
        proxy.answer = (500, "application/json", b'{"error": "query x failed: boom"}')  # graphmem's own failure
        with pytest.raises(GraphmemError, match="boom") as failed:
            memory.stats()
        assert not isinstance(failed.value, StoreUnavailableError)
        for answer in ((200, "text/html", b"<html>hello</html>"), (200, "application/json", b'{"status": "down"}'),
                       (200, "application/json", b'["ok"]'), _nginx(404)):
            proxy.answer = answer
            assert memory.health() is False, answer
        proxy.answer = (200, "text/html", b"<html>hello</html>")  # another program at that port
        with pytest.raises(ConfigurationError, match="without graphmem's JSON .*text/html.*graphmem server"):
            memory.stats()
        proxy.answer = (200, "application/json", b'{"status": "ok"}')
        assert memory.health() is True


def test_a_client_closed_with_calls_in_flight_raises_closed_error():
    """A thread (or task) closing a shared Client at shutdown while others wait for answers: those got
    StoreUnavailableError ("cannot reach the server ([Errno 9] Bad file descriptor)"), which a framework
    retrying it (as the README advises) retried during its own shutdown."""
    import threading

    with _StandIn() as slow:
        slow.release.clear()  # every answer waits
        memory = Client(slow.url, namespace="ns")
        raised: list[BaseException] = []

        def call() -> None:
            try:
                memory.stats()
            except BaseException as exc:  # (kept for the assertion below)
                raised.append(exc)

        caller = threading.Thread(target=call)
        caller.start()
        assert slow.received.wait(10)
        memory.close()
        slow.release.set()  # the answer comes to a connection the close shut
        caller.join(10)
        assert len(raised) == 1 and isinstance(raised[0], ClosedError), raised
        assert "closed before the server answered" in str(raised[0])

        slow.received.clear()
        slow.release.clear()

        async def in_a_loop() -> None:
            memory = AsyncClient(slow.url, namespace="ns")
            calls = [asyncio.create_task(memory.search("Lisbon")), asyncio.create_task(memory.stats())]
            while not slow.received.is_set():
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)
            await memory.close()
            slow.release.set()
            for outcome in await asyncio.gather(*calls, return_exceptions=True):
                assert isinstance(outcome, ClosedError), outcome

        asyncio.run(asyncio.wait_for(in_a_loop(), 30))


def test_a_client_token_is_sent_as_the_server_reads_it(url, tmp_path):
    """A token read from a file kept its newline: the Client raised StoreUnavailableError (retryable) naming
    the header with the secret in it; a token outside ASCII started the server, and every Client raised
    UnicodeEncodeError. The Client strips its token as the server does; both refuse one no header carries,
    without showing it."""
    from graphmem.settings import server_token

    with Client(url, f"  {TOKEN}\n", namespace="tokens") as memory:
        assert isinstance(memory.namespaces(), list)

    async def in_a_loop() -> None:
        async with AsyncClient(url, f"{TOKEN}\r\n", namespace="tokens") as memory:
            assert isinstance(await memory.namespaces(), list)

    asyncio.run(in_a_loop())
    for secret in ("pässwörd-ü", "s3cret\r\nX-Evil: 1", "tab\tinside"):
        for make in (Client, AsyncClient):
            with pytest.raises(ConfigurationError, match="token: a .* at position .*printable ASCII") as refused:
                make(url, secret, namespace="tokens")
            assert secret.strip() not in str(refused.value) and "ss3cret" not in str(refused.value)
        with pytest.raises(ConfigurationError, match="--token: ") as refused:
            server_token(secret)
        assert secret not in str(refused.value)
        with pytest.raises(ConfigurationError, match="GRAPHMEM_TOKEN: "):
            server_token(None, {"GRAPHMEM_TOKEN": secret})
    assert server_token(" s3cret\n") == "s3cret" and server_token("\n", {"GRAPHMEM_TOKEN": "env\n"}) == "env"
    assert server_token(None, {}) is None and Client(url, "  ", namespace="tokens")._http.headers.get("Authorization") is None
    result = CliRunner().invoke(app, ["serve", "--store", str(tmp_path / "s"), "--token", "pässwörd-ü"])
    assert result.exit_code == 2 and "--token: a character outside ASCII" in result.output
    assert "pässwörd" not in result.output and not (tmp_path / "s").exists()


def test_a_client_refuses_the_namespaces_memory_refuses_and_an_empty_conversation_id(url, tmp_path):
    """Memory.open refuses a blank, long, NUL-holding or non-text namespace; the Client took anything and
    failed at its first call (InputError "Not Found", TypeError, UnicodeEncodeError). Client.ingest dropped
    conversation_id="" and stored the file under its own name, where Memory.ingest refuses a blank key."""
    for namespace in ("", "   ", "x" * 300, "a\x00b", "\ud800", None, 42):
        for make in (Client, AsyncClient):
            with pytest.raises(ConfigurationError, match="namespace"):
                make(url, TOKEN, namespace=namespace)
    chat = tmp_path / "chat log.jsonl"
    chat.write_text('{"role": "user", "content": "I booked a flight to Accra."}\n')
    with client(url, "blank-key") as memory:
        for key in ("", "   "):
            with pytest.raises(InputError, match="key is blank"):
                memory.ingest(chat, conversation_id=key)
        assert "blank-key" not in memory.namespaces()  # nothing stored

        async def in_a_loop() -> None:
            async with AsyncClient(url, TOKEN, namespace="blank-key") as memory:
                with pytest.raises(InputError, match="key is blank"):
                    await memory.ingest(chat, conversation_id="")

        asyncio.run(in_a_loop())
        assert memory.ingest(chat)["turns_added"] == 1
        assert [m["text"] for m in memory.messages("chat log")] == ["I booked a flight to Accra."]


def test_a_hub_keeps_at_most_max_open_namespaces_open_and_reopens_them_whole(tmp_path, embedder):
    """A server kept every namespace it had served open, with its search caches (about 10 MB each:
    2.9 GB after 200 users). Over a real socket, 8 users with max_open=3: at most 3 stay open, and a
    namespace closed as idle answers its next requests with everything it holds."""
    hub = MemoryHub.open(str(tmp_path / "store"), settings_for(tmp_path), max_open=3)
    users = [f"user{i}" for i in range(8)]
    try:
        with running(hub) as url:
            for i, user in enumerate(users):
                with Client(url, namespace=user) as memory:
                    memory.add([{"speaker": "me", "text": f"My dog is called Rex{i}.", "id": "1"},
                                {"speaker": "me", "text": f"I live on street number {i} in Lisbon.", "id": "2"}],
                               conversation="chat")
                    assert f"Rex{i}" in memory.search("what is my dog called?", k=1)[0].text
                assert len(hub.open_namespaces()) <= 3
            assert hub.open_namespaces() == users[-3:]
            for i, user in enumerate(users):  # every one again, the first five reopened
                with Client(url, namespace=user) as memory:
                    assert f"Rex{i}" in memory.search("what is my dog called?", k=1)[0].text
                    assert [m["text"] for m in memory.messages("chat")] == [f"My dog is called Rex{i}.",
                                                                           f"I live on street number {i} in Lisbon."]
                    assert memory.stats()["nodes"]["Turn"] == 2 and memory.check()["ok"] is True
                    memory.add([{"speaker": "me", "text": f"Rex{i} loves the beach.", "id": "3"}], conversation="chat")
                    assert [h.text for h in memory.search("beach", k=3)][0] == f"Rex{i} loves the beach."
                assert len(hub.open_namespaces()) <= 3
    finally:
        hub.close()


def test_a_namespace_in_use_is_never_closed_as_idle(tmp_path, embedder):
    hub = MemoryHub.open(str(tmp_path / "store"), settings_for(tmp_path), max_open=2)
    try:
        hub.add("busy", [{"speaker": "me", "text": "The boat is blue."}], conversation="c")
        with hub.using("busy") as busy:  # a request using it, while others come and go
            for name in ("a", "b", "c", "d"):
                with hub.using(name) as memory:
                    memory.stats()
            assert "busy" in hub.open_namespaces() and len(hub.open_namespaces()) <= 3
            assert "boat" in busy.search("boat", k=1)[0].text  # still open
        assert hub.open_namespaces() == ["busy", "d"]  # a, b and c were closed while busy was held
        evicted = hub.memory("d")
        for name in ("e", "f"):
            hub.memory(name)
        assert hub.open_namespaces() == ["e", "f"]
        with hub.using("d") as again:  # waits for the old one's close, then opens a new one
            assert again is not evicted and again.stats()["namespace"] == "d"
        with pytest.raises(ClosedError):
            evicted.stats()
        with hub.using("busy") as memory:
            assert "boat" in memory.search("boat", k=1)[0].text
        with pytest.raises(ConfigurationError, match="max_open"):
            MemoryHub(hub.store, hub.settings, max_open=0)
    finally:
        hub.close()
    with pytest.raises(ClosedError):
        hub.memory("busy")


@pytest.mark.slow
def test_a_process_refused_a_served_store_is_told_where_the_server_is(tmp_path):
    """A notebook or CLI opening an embedded store that `graphmem serve` holds was told to "close it
    there, or serve it over Bolt": the store was served already, at an address the refusal never gave.
    The server writes its address beside its PID in the lock file; the refusal names it."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from graphmem.bench.serve import free_port

    repo = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")])),
           "GRAPHMEM_TOKEN": "", "GRAPHMEM_JVM_HEAP": "256m"}
    store, port = tmp_path / "s", free_port()
    server = subprocess.Popen([sys.executable, "-m", "graphmem.cli", "serve", "--store", str(store), "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        lock, deadline = store / "graphmem.lock", time.monotonic() + 240
        while not (lock.exists() and f":{port}" in lock.read_text(errors="replace")):  # written once it listens
            assert server.poll() is None, server.communicate()[1]
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=30).status_code == 200
        refused = subprocess.run([sys.executable, "-m", "graphmem.cli", "stats", "--store", str(store)],
                                 capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
        message = " ".join(refused.stderr.split())
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert f"in use by process {server.pid}, graphmem serve at http://127.0.0.1:{port}" in message, message
        assert "serve it over Bolt" not in message
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)
