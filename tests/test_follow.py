"""Caches follow the database: a long-lived process sees another process's writes and
forgets at its next search (real Bolt server, two processes)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import Backend, memories, new_namespace, settings_for
from graphmem.retrieve.loader import read_projection

OTHER = r"""
import sys
from graphmem import Memory, Settings
uri, user, password, database, namespace, index_dir, action = sys.argv[1:8]
turn = sys.argv[8] if len(sys.argv) > 8 else None
with Memory.open(uri, namespace, settings=Settings(index_dir=index_dir, jvm_heap="512m"), auth=(user, password),
                 database=database) as memory:
    if action == "add":
        report = memory.add({"speaker": "Bea", "text": "The lighthouse keeper painted the shutters turquoise.",
                             "metadata": {"user_id": "bea"}}, conversation="other")
        print(report.turn_ids[0])
    elif action == "correct":
        print(memory.correct(turn, "The lighthouse keeper painted the shutters crimson.").corrected)
    elif action == "zone":
        print(memory.set_timezone(turn))
    else:
        print(memory.forget(conversation="other")["turns"])
"""


def _other(server, namespace: str, tmp_path, action: str, *more: str) -> str:
    done = subprocess.run([sys.executable, "-c", OTHER, server.uri, *server.auth, server.database, namespace,
                           str(tmp_path / "other-index"), action, *more], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.bolt
def test_a_process_sees_another_process_write_and_forget_at_its_next_search(bolt_server, tmp_path, embedder):
    namespace = new_namespace("follow")
    backend = Backend("bolt", bolt_server.uri, bolt_server.auth, bolt_server.database)
    with memories(backend, settings_for(tmp_path)) as factory:
        a = factory(namespace)
        a.add([{"speaker": "Al", "text": "I repaired the fishing boat engine this morning."},
               {"speaker": "Al", "text": "Then we sailed out past the harbour wall."}], conversation="mine")
        assert all("lighthouse" not in h.text for h in a.search("lighthouse shutters turquoise", k=3))
        assert a.search("lighthouse", k=3, metadata={"user_id": "bea"}) == []  # (the filter's codes made before)
        turn = _other(bolt_server, namespace, tmp_path, "add")
        hits = a.search("lighthouse shutters turquoise", k=3)
        assert hits and hits[0].node_id == turn
        assert [h.node_id for h in a.search("lighthouse", k=3, metadata={"user_id": "bea"})] == [turn]
        caches = a._service().caches  # noqa: SLF001 - how it caught up
        assert caches.last_follow["mode"] == "incremental" and caches.index("turn").contains(turn)
        # the other process's add logged its session: only that was read again, and the result is a whole read's
        assert caches.last_refresh["projection"] == "patched", caches.last_refresh
        whole = read_projection(a.store, a.namespace)
        assert caches.engine().projection.turn_ids == whole.turn_ids and whole.n_turns == 3
        assert any(h.node_id == turn for h in a.search("lighthouse", k=3, strategy="lexical"))
        # the other process corrects its message by turn id: the next search finds the new text, never the old
        assert _other(bolt_server, namespace, tmp_path, "correct", turn) == "1"
        fixed = a.search("lighthouse shutters crimson", k=3)
        assert fixed[0].node_id == turn and fixed[0].text.endswith("crimson.") and fixed[0].metadata == {"user_id": "bea"}
        assert all("turquoise" not in h.text for h in a.search("turquoise", k=5, strategy="lexical"))
        # the other process sets the namespace's time zone: this one shows times in it from its next call
        stored = fixed[0].timestamp
        assert a.timezone() == "UTC" and "+" not in stored
        assert _other(bolt_server, namespace, tmp_path, "zone", "Asia/Tokyo") == "Asia/Tokyo"
        assert a.timezone() == "Asia/Tokyo"
        assert a.search("lighthouse shutters crimson", k=1)[0].timestamp.endswith("+09:00")
        assert [m["timestamp"] for m in a.messages("other")] == [a.search("lighthouse shutters crimson", k=1)[0].timestamp]
        assert _other(bolt_server, namespace, tmp_path, "forget") == "1"
        for strategy in ("auto", "dense", "lexical"):
            assert all(h.node_id != turn for h in a.search("lighthouse shutters turquoise", k=5, strategy=strategy))
        assert caches.last_follow["mode"] == "rebuild"  # a forget is logged as "full"
        assert a.stats()["nodes"]["Turn"] == 2


RACER = r"""
import os, sys, time
from graphmem import Memory, Settings
uri, user, password, database, namespace, index_dir, name, gate = sys.argv[1:9]
with Memory.open(uri, namespace, settings=Settings(index_dir=index_dir, jvm_heap="512m"), auth=(user, password),
                 database=database) as memory:
    memory.search("cat", k=1)  # everything loaded before the race
    open(os.path.join(gate, name), "w").close()
    while len(os.listdir(gate)) < 2:
        time.sleep(0.005)
    for i in range(5):
        memory.add({"role": "user", "content": f"Message {i}: my cat is called {name}-{i}.", "id": f"m{i}"}, conversation="c")
print("done")
"""


@pytest.mark.bolt
def test_two_processes_correcting_one_message_at_once_take_turns(bolt_server, tmp_path, embedder):
    """Two processes correcting the same messages at the same moment both kept the old text as the same
    version (two TurnVersions of one id), left a turn whose version counted one of them, and a turn
    whose text was one writer's while its event was the other's (search found the text corrected away)."""
    namespace = new_namespace("race")
    backend = Backend("bolt", bolt_server.uri, bolt_server.auth, bolt_server.database)
    with memories(backend, settings_for(tmp_path)) as factory:
        memory = factory(namespace)
        memory.add([{"role": "user", "content": f"Message {i}: my cat is called Biscuit.", "id": f"m{i}"} for i in range(5)],
                   conversation="c")
        gate = tmp_path / "gate"
        gate.mkdir()
        racers = [subprocess.Popen([sys.executable, "-c", RACER, bolt_server.uri, *bolt_server.auth, bolt_server.database,
                                    namespace, str(tmp_path / f"index-{name}"), name, str(gate)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in ("A", "B")]
        for racer in racers:
            out, err = racer.communicate(timeout=600)
            assert racer.returncode == 0 and out.strip().endswith("done"), err[-2000:]
        report = memory.check()
        assert report.ok, report.summary()
        for message in memory.messages("c"):
            history = memory.history(message["turn_id"])
            assert [v["version"] for v in history] == list(range(len(history))), history
            assert {v["text"].rsplit(" ", 1)[-1] for v in history[1:]} <= {f"A-{message['source_id'][1:]}.", f"B-{message['source_id'][1:]}."}
            events = memory.cypher("MATCH (e:Event)-[:FROM]->(t:Turn {id: $id}) RETURN e.text AS text", {"id": message["turn_id"]})
            assert all(message["text"].rsplit(" ", 1)[-1] in e["text"] for e in events), (message, events)
