"""Writes planned from reads that another writer's commit changes before they are written (two
processes over Bolt: a forget beside an add or a correction). A guarded write is refused whole
and planned again, so the later writer works from what is stored then. The interleavings are
made deterministic here: the other writer commits between a plan's reads and its write."""

from __future__ import annotations

import pytest

from graphmem.changes import bump, guard, read_version
from graphmem.ingest.live import LiveWriter
from graphmem.store.base import WriteConflict


def test_a_guarded_write_is_refused_whole_once_another_commit_landed(memory_factory):
    memory = memory_factory()
    namespace, store = memory.namespace, memory.store
    assert read_version(store, namespace) == 0
    store.write([guard(namespace, 0), bump(namespace)])  # no marker yet: version 0 holds
    memory.add({"speaker": "Ann", "text": "I keep my bike in the shed."}, conversation="c")
    planned_at = read_version(store, namespace)
    memory.add({"speaker": "Ann", "text": "The shed door sticks in winter."}, conversation="c")  # lands first
    now = read_version(store, namespace)
    with pytest.raises(WriteConflict, match="planning again"):
        store.write([guard(namespace, planned_at), bump(namespace)])
    assert read_version(store, namespace) == now  # nothing of it was written
    store.write([guard(namespace, now), bump(namespace)])
    assert read_version(store, namespace) == now + 1


def test_a_forget_planned_before_another_writers_add_plans_again(memory_factory, monkeypatch):
    """Forgetting a conversation's only message while another writer appended to it: the forget's
    plan deleted the session (and the conversation) the new message went to, which was left without
    a session: not in messages(), not found, check naming turns without session."""
    import graphmem.memory as memory_module

    first, other = memory_factory(), None
    other = memory_factory(first.namespace)
    m0 = first.add({"speaker": "Ann", "text": "My locker code is 1042.", "id": "m0"}, conversation="chat", session="1").turn_ids[0]
    real = memory_module.plan_forget
    calls = []

    def plan_then_add(*args, **kwargs):
        plan = real(*args, **kwargs)
        if not calls:  # the other writer commits between the forget's reads and its write
            other.add({"speaker": "Ben", "text": "I parked on level 3 of the garage.", "id": "m1"}, conversation="chat", session="1")
        calls.append(plan)
        return plan

    monkeypatch.setattr(memory_module, "plan_forget", plan_then_add)
    counts = first.forget(turn=m0)
    assert len(calls) == 2 and counts["turns"] == 1 and counts["sessions"] == 0 and counts["conversations"] == 0
    assert [m["source_id"] for m in first.messages("chat")] == ["m1"]
    assert [h.source_id for h in first.search("parked on level 3 of the garage", k=1)] == ["m1"]
    assert first.check().ok


def test_an_add_planned_before_another_writers_forget_plans_again(memory_factory, monkeypatch):
    """The add planned to append after a message another writer then forgot, with its session: the
    new message was stored without a session (or linked after a turn no longer there)."""
    first = memory_factory()
    other = memory_factory(first.namespace)
    m0 = first.add({"speaker": "Ann", "text": "My locker code is 1042.", "id": "m0"}, conversation="chat", session="1").turn_ids[0]
    real = LiveWriter._plan
    calls = []

    def plan_then_forget(self, *args, **kwargs):
        plan = real(self, *args, **kwargs)
        if not calls:
            other.forget(turn=m0)
        calls.append(plan)
        return plan

    monkeypatch.setattr(LiveWriter, "_plan", plan_then_forget)
    report = first.add({"speaker": "Ben", "text": "I parked on level 3 of the garage.", "id": "m1"}, conversation="chat", session="1")
    assert len(calls) == 2 and report.added == 1
    assert [m["source_id"] for m in first.messages("chat")] == ["m1"]
    assert first.check().ok


def test_a_correction_planned_before_another_writers_correction_reads_the_turn_again(memory_factory, monkeypatch):
    """Two servers correcting one message at once: the second planned from the turn as it read it
    before the first committed, so every retry made the version the first had made (a constraint
    violation, five times, then HTTP 500); it reads the turn again now and adds its own version."""
    first = memory_factory()
    other = memory_factory(first.namespace)
    turn = first.add({"speaker": "Ann", "text": "The ferry leaves at noon.", "id": "m0"}, conversation="chat").turn_ids[0]
    real = LiveWriter._plan
    calls = []

    def plan_then_correct(self, *args, **kwargs):
        plan = real(self, *args, **kwargs)
        calls.append(self)
        if len(calls) == 1:  # (the other writer's own plan comes through here too: the second call)
            other.correct(turn, "The ferry leaves at one.")
        return plan

    monkeypatch.setattr(LiveWriter, "_plan", plan_then_correct)
    report = first.correct(turn, "The ferry leaves at two.")
    assert len(calls) == 3 and report.corrected == 1 and report.attempts == 2
    assert [v["text"] for v in first.history(turn)] == ["The ferry leaves at noon.", "The ferry leaves at one.",
                                                        "The ferry leaves at two."]
    assert first.check().ok


def test_an_add_outrun_by_a_steady_writer_many_times_still_lands(memory_factory, monkeypatch):
    """Each attempt of an add lost to another writer's commit: after five it raised, though nothing
    was wrong (two servers adding to one conversation lost 1-2 adds in 40)."""
    first = memory_factory()
    other = memory_factory(first.namespace)
    first.add({"speaker": "Ann", "text": "Opening message."}, conversation="chat")
    real = LiveWriter._plan
    calls = []

    def plan_then_lose(self, *args, **kwargs):
        plan = real(self, *args, **kwargs)
        if self is first._writer and len(calls) < 7:  # another writer commits between each of seven plans and its write
            calls.append(plan)
            other.add({"speaker": "Ben", "text": f"Interjection {len(calls)}."}, conversation="elsewhere")
        return plan

    monkeypatch.setattr(LiveWriter, "_plan", plan_then_lose)
    report = first.add({"speaker": "Ann", "text": "Finally said."}, conversation="chat")
    assert report.added == 1 and report.attempts == 8
    assert [m["text"] for m in first.messages("chat")] == ["Opening message.", "Finally said."]
    assert len(other.messages("elsewhere")) == 7 and first.check().ok


#: `graphmem ingest` (the CLI, in this process) whose conversation transaction waits until every
#: racer has planned its own: each has read the file's turns as new before either writes them
RACING_INGEST = """
import os, sys, time
from graphmem.store.bolt import BoltStore

barrier, me, racers = sys.argv[1], sys.argv[2], int(sys.argv[3])
write = BoltStore.write

def write_after_the_others_planned(self, statements):
    if any(name == "write/merge_turns" for name, _ in statements) and not os.path.exists(os.path.join(barrier, me)):
        open(os.path.join(barrier, me), "w").close()
        deadline = time.monotonic() + 300
        while len(os.listdir(barrier)) < racers and time.monotonic() < deadline:
            time.sleep(0.02)
    return write(self, statements)

BoltStore.write = write_after_the_others_planned
import graphmem.cli
sys.argv = ["graphmem", *sys.argv[4:]]
graphmem.cli.main()
"""


@pytest.mark.slow
def test_two_processes_ingesting_one_file_report_the_turns_each_stored(tmp_path, bolt_server, test_settings):
    """Two `graphmem ingest` of one file into one namespace over Bolt, at once: both read its turns as
    new, both wrote them (the second transaction's MERGEs matched what the first committed), and both
    reported every turn as added, although only one stored them. The count now comes from inside the
    transaction: the turns it created."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from conftest import drop_namespace, new_namespace, write_conversation
    from graphmem import Memory

    turns = [{"id": f"D1:{i}", "speaker": ("Maya", "Leo")[i % 2], "text": f"On day {i} we walked to the lake with Omar."}
             for i in range(1, 41)]
    source = write_conversation(tmp_path, {"format": "graphmem.conversation/1", "id": "race", "speakers": ["Maya", "Leo"],
                                           "sessions": [{"id": "1", "started_at": "2024-05-04T10:00:00", "turns": turns}]})
    namespace = new_namespace("race")
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    repo = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")])),
           "GRAPHMEM_NEO4J_USER": bolt_server.auth[0], "GRAPHMEM_NEO4J_PASSWORD": bolt_server.auth[1], "GRAPHMEM_JVM_HEAP": "512m"}
    racers = [subprocess.Popen([sys.executable, "-c", RACING_INGEST, str(barrier), str(i), "2", "ingest", str(source),
                                "--store", bolt_server.uri, "--database", bolt_server.database, "--namespace", namespace, "--json"],
                               env={**env, "GRAPHMEM_INDEX_DIR": str(tmp_path / f"index{i}")}, cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    outputs = [racer.communicate(timeout=600) for racer in racers]
    try:
        assert [racer.returncode for racer in racers] == [0, 0], [err[-2000:] for _, err in outputs]
        assert sorted(os.listdir(barrier)) == ["0", "1"]  # both planned before either wrote
        added = sorted(json.loads(out)[0]["turns_added"] for out, _ in outputs)
        assert added == [0, 40], added  # (before: [40, 40])
        with Memory.open(bolt_server.uri, namespace, settings=test_settings, auth=bolt_server.auth,
                         database=bolt_server.database) as memory:
            assert memory.stats()["nodes"]["Turn"] == 40
            assert memory.check().ok
            assert not memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace AND t.tally_mark IS NOT NULL RETURN t.id AS id")
    finally:
        with Memory.open(bolt_server.uri, namespace, settings=test_settings, auth=bolt_server.auth,
                         database=bolt_server.database) as cleaner:
            drop_namespace(cleaner)
