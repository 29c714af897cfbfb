"""Live memory: Memory.add one message at a time, corrections, removing one message, order checks,
AsyncMemory and concurrent writers, on the real stores with the real embedding model."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import subprocess
import sys
import threading
from pathlib import Path
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from graphmem import AsyncMemory, InputError, Memory
from graphmem.hits import Hit
from graphmem.errors import ClosedError, StorageError
from graphmem.records import TurnRecord
from graphmem.schema import compare_with_store
from conftest import Backend, memories, new_namespace, settings_for
from samples import TRAVEL, write_native

EXACT = ("Conversation", "Session", "Turn", "Event")
EXACT_RELATIONSHIPS = ("FROM", "IN", "OF")


def _stream(memory: Memory, doc: dict) -> list[str]:
    """Send ``doc`` through add one message per call, with its session keys and dates."""
    ids = []
    for session in doc["sessions"]:
        for turn in session["turns"]:
            report = memory.add({"speaker": turn["speaker"], "text": turn["text"], "id": turn["id"]},
                                conversation=doc["id"], session=session["id"], session_started_at=session["started_at"])
            assert report.added == 1 and len(report.turn_ids) == 1
            ids.extend(report.turn_ids)
    return ids


def _order(memory: Memory) -> list[tuple]:
    return [(r["session"], r["index"], r["text"]) for r in memory.cypher(
        "MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.session_key AS session, t.index AS index, "
        "t.text AS text ORDER BY t.seq")]


def _chain(memory: Memory) -> list[str]:
    """The texts along the NEXT chain from its first turn."""
    rows = memory.cypher("MATCH (a:Turn)-[:NEXT]->(b:Turn) WHERE a.namespace = $namespace RETURN a.id AS a, b.id AS b")
    nxt = {r["a"]: r["b"] for r in rows}
    assert len(nxt) == len(rows), "a turn has two NEXT edges"
    texts = {r["id"]: r["text"] for r in memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.id AS id, t.text AS text")}
    starts = set(texts) - set(nxt.values())
    assert len(starts) == 1, f"the chain has {len(starts)} starts"
    node, out = starts.pop(), []
    while node is not None:
        out.append(texts[node])
        node = nxt.get(node)
    return out


def _within(a: int, b: int, fraction: float) -> bool:
    return abs(a - b) <= fraction * max(a, b)


def test_streaming_equals_batch(memory_factory, tmp_path):
    streamed, batch = memory_factory(), memory_factory()
    ids = _stream(streamed, TRAVEL)
    batch.ingest(write_native(tmp_path, TRAVEL))
    s, b = streamed.stats(), batch.stats()
    for label in EXACT:
        assert s["nodes"][label] == b["nodes"][label], label
    for rel in EXACT_RELATIONSHIPS:
        assert s["relationships"][rel] == b["relationships"][rel], rel
    assert _within(s["nodes"]["Entity"], b["nodes"]["Entity"], 0.02)
    assert _within(s["relationships"]["INVOLVES"], b["relationships"]["INVOLVES"], 0.02)
    assert _order(streamed) == _order(batch)
    # an undated message of a dated session is stored at its session's start, as the file stores it
    # (the add stored no time: hits, context and MCP lines said "date unknown")
    times = "MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.seq AS seq, t.timestamp AS time ORDER BY t.seq"
    assert streamed.cypher(times) == batch.cypher(times) and all(r["time"] for r in batch.cypher(times))
    assert {h.timestamp for h in streamed.search("beagle", k=3)} == {h.timestamp for h in batch.search("beagle", k=3)}
    assert _chain(streamed) == [t["text"] for session in TRAVEL["sessions"] for t in session["turns"]]
    # the ids a batch ingest gives, so ingesting the file into the streamed namespace adds nothing
    assert len(set(ids)) == len(ids)
    again = streamed.ingest(write_native(tmp_path, TRAVEL))
    assert (again.turns_added, again.turns_corrected) == (0, 0)
    # episodes from online segmentation, topics and associations placed incrementally
    assert s["nodes"]["Episode"] >= 3 and s["relationships"]["PART_OF"] == s["nodes"]["Turn"]
    assert s["relationships"].get("IN_TOPIC", 0) > 0 and s["relationships"].get("ASSOCIATED", 0) > 0
    report = streamed.check()
    assert report.ok, report.summary()
    hits = streamed.search("Which dog breed did Sam adopt?", k=3)
    assert any("beagle" in h.text for h in hits)


def test_a_jsonl_file_stores_what_adding_its_messages_stores(memory_factory, tmp_path):
    """The same messages, ingested as a JSONL file or added one by one: the same turns, with
    their captions and metadata (a file used to drop both without a word)."""
    messages = [{"role": "user", "content": "Here is my new bike.", "caption": "a red road bike", "id": "m1",
                 "metadata": {"channel": "sms", "rating": 5}},
                {"role": "assistant", "content": "It looks fast!", "id": "m2", "metadata": {"channel": "app"}}]
    path = tmp_path / "bikes.jsonl"
    path.write_text("".join(json.dumps(m) + "\n" for m in messages), encoding="utf-8")
    added, ingested = memory_factory(), memory_factory()
    for message in messages:
        added.add(message, conversation="bikes", session="1")
    ingested.ingest(path)
    query = ("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.seq AS seq, t.text AS text, t.speaker AS speaker, "
             "t.caption AS caption, t.source_id AS source_id, t.meta_channel AS channel, t.meta_rating AS rating "
             "ORDER BY seq")
    rows = ingested.cypher(query)
    assert [(r["caption"], r["channel"], r["rating"]) for r in rows] == [("a red road bike", "sms", 5), (None, "app", None)]
    assert rows == added.cypher(query)
    hits = ingested.search("road bike", k=1)
    assert hits[0].text == "Here is my new bike."  # found by its caption
    assert (hits[0].caption, hits[0].metadata) == ("a red road bike", {"channel": "sms", "rating": 5})
    events = added.search("It looks fast", k=10, unit="event")  # an event hit: its message's metadata
    expected = {"user": ({"channel": "sms", "rating": 5}, "a red road bike"), "assistant": ({"channel": "app"}, None)}
    assert events and all((e.metadata, e.caption) == expected[e.speaker] for e in events)  # "shared an image: ..."
    assert Hit.from_dict(hits[0].to_dict(explain=True)) == hits[0]
    assert added.search("road bike", k=1, unit="session")[0].metadata == {}


def test_add_appends_to_the_latest_session_and_opens_one_after_a_gap(memory_factory):
    memory = memory_factory()
    start = datetime(2024, 5, 1, 9, 0)
    first = memory.add([{"role": "user", "content": "I started a pottery class today.", "timestamp": start},
                        {"role": "assistant", "content": "That sounds fun! What will you make first?",
                         "timestamp": (start + timedelta(minutes=1)).isoformat()}], conversation="c")
    assert first.sessions_opened == ["1"] and first.added == 2
    later = memory.add({"role": "user", "content": "A small bowl, it came out lopsided.",
                        "timestamp": start + timedelta(hours=3)}, conversation="c")
    assert later.sessions_opened == []
    gap = memory.add({"role": "user", "content": "Back again: the bowl survived the kiln.",
                      "timestamp": start + timedelta(hours=3 + 5)}, conversation="c")
    assert gap.sessions_opened == ["2"]
    rows = memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.session_key AS s, t.index AS i ORDER BY t.seq")
    assert [(r["s"], r["i"]) for r in rows] == [("1", 0), ("1", 1), ("1", 2), ("2", 0)]
    started = memory.cypher("MATCH (s:Session) WHERE s.namespace = $namespace RETURN s.key AS k, s.started_at AS at ORDER BY s.number")
    assert started[1]["at"].startswith("2024-05-01T17:00")
    # a named session is kept apart, and starts at session_started_at
    named = memory.add({"speaker": "user", "text": "New topic: I am learning Portuguese."}, conversation="c",
                       session="lessons", session_started_at="2024-06-01T08:00:00")
    assert named.sessions_opened == ["lessons"]
    assert memory.check().ok


@pytest.mark.parametrize("one_call", [False, True])
def test_a_late_message_does_not_open_a_session_for_the_next_one(memory_factory, one_call):
    """A message that comes late (written offline at 05:00, synced after the 10:30 one) is stored last;
    the next message, ten minutes after 10:30, stays in the session. Before, the gap was counted from
    the late message's 05:00, and 10:40 opened a second session."""
    memory = memory_factory()
    said = [("m1", "Morning, I am planning the garden today.", "10:00"), ("m2", "I bought tomato seedlings.", "10:30"),
            ("m0", "Woke up early to water the roses.", "05:00"), ("m3", "Now planting the seedlings.", "10:40")]
    messages = [{"role": "user", "content": text, "id": mid, "timestamp": f"2024-03-16T{at}:00"} for mid, text, at in said]
    opened = []
    for batch in ([messages] if one_call else [[m] for m in messages]):
        opened += memory.add(batch, conversation="c").sessions_opened
    assert opened == ["1"]
    assert [(m["session"], m["source_id"]) for m in memory.messages("c")] == [("1", "m1"), ("1", "m2"), ("1", "m0"), ("1", "m3")]
    later = memory.add({"role": "user", "content": "Back in the evening: the seedlings are in.", "timestamp": "2024-03-16T15:00:00"},
                       conversation="c")
    assert later.sessions_opened == ["2"]  # more than four hours after 10:40, the session's latest time


def test_an_episode_holding_a_late_message_spans_its_time(memory_factory, tmp_path):
    """An episode's span is its turns' earliest to latest time, not its first to its last turn's: with
    a late message (05:00, stored after 10:30) it ended before it began, and a time range around 05:00
    (or around 10:00) missed it, while the turn and the session were found. Live add, batch ingest,
    a correction and a forget write it so."""
    said = [("m1", "Morning, I am planning the garden today.", "10:00"), ("m2", "I bought tomato seedlings for the garden.", "10:30"),
            ("m0", "Woke up early to water the roses in the garden.", "05:00")]
    messages = [{"speaker": "user", "text": text, "id": mid, "timestamp": f"2024-03-16T{at}:00"} for mid, text, at in said]
    path = tmp_path / "garden.jsonl"
    path.write_text("".join(json.dumps(m) + "\n" for m in messages), encoding="utf-8")
    live, batch = memory_factory(), memory_factory()
    for message in messages:
        live.add(message, conversation="garden")
    batch.ingest(path, conversation_id="garden")
    for memory in (live, batch):
        spans = memory.cypher("MATCH (e:Episode) WHERE e.namespace = $namespace RETURN e.started_at AS s, e.ended_at AS e")
        assert [(r["s"], r["e"]) for r in spans] == [("2024-03-16T05:00:00", "2024-03-16T10:30:00")]
        for window in (("2024-03-16T04:00:00", "2024-03-16T06:00:00"), ("2024-03-16T09:50:00", "2024-03-16T10:10:00")):
            assert memory.search("roses", k=3, unit="episode", time_range=window), window
    live.add({"speaker": "user", "text": "Woke up early to water the tulips in the garden.", "id": "m0",
              "timestamp": "2024-03-16T04:00:00"}, conversation="garden")  # a correction with its own time
    live.forget(turn=live.messages("garden")[0]["turn_id"])  # the 10:00 message
    spans = live.cypher("MATCH (e:Episode) WHERE e.namespace = $namespace RETURN e.started_at AS s, e.ended_at AS e")
    assert [(r["s"], r["e"]) for r in spans] == [("2024-03-16T04:00:00", "2024-03-16T10:30:00")]
    assert live.check().ok


def test_a_late_message_of_an_earlier_sitting_goes_to_that_session(memory_factory):
    """A message said yesterday evening that reaches the memory after this morning's session opened
    goes to the tail of yesterday's session, not into this morning's (where a session search for it
    found this morning's sitting, and its episode ran from today back to yesterday)."""
    memory = memory_factory()
    for mid, text, at in [("a1", "Planning a trip to Rome with Sam.", "2024-03-15T18:00:00"),
                          ("a2", "We booked the flights to Rome.", "2024-03-15T18:05:00"),
                          ("b1", "Today I packed my bag.", "2024-03-16T09:00:00")]:
        memory.add({"role": "user", "content": text, "id": mid, "timestamp": at}, conversation="c")
    late = memory.add({"role": "user", "content": "Also booked a hotel near the Pantheon.", "id": "a3",
                       "timestamp": "2024-03-16T00:10:00+01:00"}, conversation="c")  # 2024-03-15T23:10 UTC
    assert late.sessions_opened == []
    assert [(m["session"], m["index"], m["source_id"]) for m in memory.messages("c")] == [
        ("1", 0, "a1"), ("1", 1, "a2"), ("1", 2, "a3"), ("2", 0, "b1")]
    assert _chain(memory) == ["Planning a trip to Rome with Sam.", "We booked the flights to Rome.",
                              "Also booked a hotel near the Pantheon.", "Today I packed my bag."]
    assert memory.search("hotel near the Pantheon", k=1, unit="session")[0].session_key == "1"
    today = memory.add({"role": "user", "content": "The taxi comes at noon.", "timestamp": "2024-03-16T09:30:00"}, conversation="c")
    assert [(m["session"], m["source_id"]) for m in memory.messages("c", session="2")] == [("2", "b1"), ("2", None)]
    assert today.sessions_opened == [] and memory.check().ok, memory.check().problems


def test_a_late_message_goes_to_the_sitting_that_started_last_before_it_not_the_highest_numbered(memory_factory):
    """Sessions added under their own keys need not be numbered in time order: "dentist" (number 2) began
    on March 1, "rome" (number 1) on March 10. A message said at 10:30 on March 10 that comes after
    "packing" opened went to "dentist", the highest-numbered session started by then, not to "rome",
    the sitting it was said in."""
    memory = memory_factory()
    for mid, text, at, key in [("a1", "Planning a trip to Rome with Sam.", "2024-03-10T10:00:00", "rome"),
                               ("z1", "An old note about the dentist.", "2024-03-01T10:00:00", "dentist"),
                               ("b1", "Today I packed my bag.", "2024-03-16T09:00:00", "packing")]:
        memory.add({"role": "user", "content": text, "id": mid, "timestamp": at}, conversation="c", session=key)
    late = memory.add({"role": "user", "content": "Also booked a hotel near the Pantheon.", "id": "a2",
                       "timestamp": "2024-03-10T10:30:00"}, conversation="c")
    assert late.sessions_opened == []
    assert [(m["session"], m["index"], m["source_id"]) for m in memory.messages("c")] == [
        ("rome", 0, "a1"), ("rome", 1, "a2"), ("dentist", 0, "z1"), ("packing", 0, "b1")]
    assert memory.check().ok, memory.check().problems


def test_one_add_opening_several_sessions_chains_their_episodes_in_order(memory_factory):
    """One call whose messages fell into three new sessions linked the stored episode to the first
    episode of each (check: forked_episode_chain, broken_episode_chain); one message per call did not."""
    memory = memory_factory()
    memory.add({"role": "user", "content": "I adopted a beagle called Pepper.", "id": "a", "timestamp": "2024-05-01T10:00:00"},
               conversation="c")
    report = memory.add([{"role": "user", "content": f"Pepper the beagle chewed the slipper again, day {k}.", "id": f"z{k}",
                          "timestamp": f"2024-06-0{k + 1}T10:00:00"} for k in range(3)], conversation="c")
    assert report.sessions_opened == ["2", "3", "4"]
    assert memory.check().ok, memory.check().problems
    chain = memory.cypher("MATCH (a:Episode)-[:NEXT]->(b:Episode) WHERE a.namespace = $namespace "
                          "RETURN a.session_key AS src, b.session_key AS dst, a.start_seq AS seq ORDER BY seq")
    assert [(r["src"], r["dst"]) for r in chain] == [("1", "2"), ("2", "3"), ("3", "4")]


def test_a_message_without_a_timestamp_was_said_now(memory_factory):
    """An agent that sends no time gets the time of the add: its hits are dated, "yesterday" in
    it resolves to yesterday, the session gap applies. Filling in a dated session stores its
    messages at the session's start; a correction keeps its message's time."""
    memory = memory_factory()
    earlier = datetime.now(timezone.utc).replace(tzinfo=None).replace(microsecond=0) - timedelta(hours=6)
    memory.add({"role": "user", "content": "Good morning, planning my week.", "timestamp": earlier}, conversation="c")
    before = datetime.now(timezone.utc).replace(tzinfo=None)
    report = memory.add({"role": "user", "content": "I went to the dentist yesterday.", "id": "d1"}, conversation="c")
    after = datetime.now(timezone.utc).replace(tzinfo=None)
    assert report.sessions_opened == ["2"]  # six hours after the last turn: the gap opened a session
    (row,) = memory.cypher("MATCH (t:Turn {source_id: 'd1'}) WHERE t.namespace = $namespace RETURN t.timestamp AS at")
    assert before - timedelta(seconds=1) <= datetime.fromisoformat(row["at"]) <= after
    (hit,) = memory.search("dentist", k=1)
    assert hit.timestamp == row["at"]
    assert hit.time_start[:10] == (datetime.fromisoformat(row["at"]) - timedelta(days=1)).date().isoformat()
    memory.add({"role": "user", "content": "I went to the orthodontist yesterday.", "id": "d1"}, conversation="c")
    (fixed,) = memory.cypher("MATCH (t:Turn {source_id: 'd1'}) WHERE t.namespace = $namespace RETURN t.timestamp AS at")
    assert fixed["at"] == row["at"]  # a correction keeps when its message was said
    memory.add({"speaker": "Ann", "text": "We met at the museum."}, conversation="old", session="1",
               session_started_at="2023-05-08T13:56:00")
    (dated,) = memory.cypher("MATCH (t:Turn {conversation_id: 'old'}) WHERE t.namespace = $namespace "
                             "MATCH (t)-[:IN]->(s:Session) RETURN t.timestamp AS at, s.started_at AS started")
    # stored at its session's start, as a batch ingest stores it (it was stored without a time)
    assert dated["at"].startswith("2023-05-08T13:56") and dated["started"].startswith("2023-05-08T13:56")


@pytest.mark.parametrize("nearest", [4, 0])
def test_a_new_sessions_first_message_follows_the_last_stored_turn_and_episode(tmp_path, monkeypatch, nearest):
    """The turn and episode a new session follows are the last ones of the sessions before it,
    read through those sessions (``nearest`` 4), or by position among the conversation's all
    (``nearest`` 0: what a session without turns falls back to): the same chain either way."""
    monkeypatch.setattr("graphmem.ingest.live.NEAREST_SESSIONS", nearest)
    with Memory.open(tmp_path / "store", "sessions", settings=settings_for(tmp_path)) as memory:
        for number in (1, 2):
            memory.add([{"speaker": "Ann", "text": f"Session {number} starts with the weather."},
                        {"speaker": "Bo", "text": f"Session {number} ends with the garden."}], conversation="c", session=str(number))
        reads: list[str] = []
        read = memory.store.read
        monkeypatch.setattr(memory.store, "read", lambda name, params=None: reads.append(name) or read(name, params))
        report = memory.add({"speaker": "Ann", "text": "Session 3 is about the new bicycle."}, conversation="c", session="3")
        assert report.sessions_opened == ["3"]
        scans = {"read/previous_turn", "read/previous_episode"} & set(reads)
        assert scans == (set() if nearest else {"read/previous_turn", "read/previous_episode"}), reads
        assert _chain(memory) == ["Session 1 starts with the weather.", "Session 1 ends with the garden.",
                                  "Session 2 starts with the weather.", "Session 2 ends with the garden.",
                                  "Session 3 is about the new bicycle."]
        episodes = memory.cypher("MATCH (a:Episode)-[:NEXT]->(b:Episode) WHERE a.namespace = $namespace "
                                 "RETURN a.session_key AS a, b.session_key AS b")
        assert sorted((r["a"], r["b"]) for r in episodes) == [("1", "2"), ("2", "3")]
        assert memory.check().ok


@pytest.mark.parametrize("messages, where", [
    ([{"speaker": "a", "text": "fine"}, {"speaker": "b"}], "messages[1]"),
    ([{"speaker": "a", "text": "fine"}, {"speaker": "", "text": "x"}], "messages[1].speaker"),
    ([{"role": "a", "content": 5}], "messages[0].content"),
    ([{"speaker": "a", "text": "x", "timestamp": "yesterday-ish"}], "messages[0].timestamp"),
    ([{"speaker": "a", "text": "x", "metadata": {"k": [1, 2]}}], "messages[0].metadata.k"),
    ([{"speaker": "a", "text": "x", "metadata": {"k": float("nan")}}], "messages[0].metadata.k: nan is not a finite number"),
    ([{"speaker": "a", "text": "x", "metadata": {"k": 2 ** 64}}], "messages[0].metadata.k: 18446744073709551616 is beyond"),
    # subnormal: the embedded store gave 5e-324 back as a Decimal (check: malformed metadata; export refused)
    ([{"speaker": "a", "text": "x", "metadata": {"k": 5e-324}}], "messages[0].metadata.k: 5e-324 is closer to 0 than"),
    # a TurnRecord's metadata is checked as a mapping's (it was stored unchecked: check named it malformed)
    ([TurnRecord("a", "x", metadata=(("k", 5e-324),))], "messages[0].metadata.k: 5e-324 is closer to 0 than"),
    ([TurnRecord("a", "x", metadata=(("k", float("nan")),))], "messages[0].metadata.k: nan is not a finite number"),
    # a key is a property name the database keeps for good (70,000 characters: HTTP 500 with a Java error)
    ([{"speaker": "a", "text": "x", "metadata": {"k" * 70000: 1}}], "messages[0].metadata: a key of 70000 characters"),
    ([{"speaker": "a", "text": "x", "colour": "red"}], "messages[0]"),
    ([{"speaker": "a", "text": "x", "id": "m"}, {"speaker": "a", "text": "y", "id": "m"}], "messages[1].id"),
    (["just text"], "messages[0]"),
    ([], "messages"),
    ([{"role": "user", "content": "fine"}, {"role": "user", "content": [{"type": "text", "text": None}]}],
     "messages[1].content[0].text"),
    ([{"role": "user", "content": [{"type": "text", "text": "ok"}, 7]}], "messages[0].content[1]"),
    ([{"role": "user", "content": {"type": "text", "text": "a part, not a list"}}], "messages[0].content"),
    ([{"role": "assistant", "content": "   "}], "messages[0].content"),  # no tool call: blank text is an error
])
def test_bad_messages_name_position_and_field_and_store_nothing(memory_factory, messages, where):
    memory = memory_factory()
    with pytest.raises(InputError) as caught:
        memory.add(messages, conversation="c")
    assert str(caught.value).startswith(where)
    assert memory.stats()["nodes"] == {}


def test_messages_as_chat_apis_give_them(memory_factory):
    """An agent passes its model API's messages as they are: content parts (OpenAI's and
    Anthropic's), a user's name, tool calls and tool results. Text parts are the text; a
    message with no text to remember is skipped and counted, not an error."""
    memory = memory_factory()
    report = memory.add([
        {"role": "user", "name": "maya", "content": [{"type": "text", "text": "Book me a table in Porto for Friday."},
                                                     {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}}]},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function",
                                                               "function": {"name": "book", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "booked: Casa Lusa, 20:00"},
        {"role": "assistant", "content": [{"type": "output_text", "text": "Done: Casa Lusa at 20:00."},
                                          {"type": "text", "text": "Enjoy Porto!"}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}]},
    ], conversation="chat")
    assert (report.added, report.skipped) == (3, 2) and len(report.turn_ids) == 3
    assert report.to_dict()["skipped"] == 2
    rows = memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.speaker AS speaker, t.text AS text "
                         "ORDER BY t.seq")
    assert [(r["speaker"], r["text"]) for r in rows] == [
        ("maya", "Book me a table in Porto for Friday."), ("tool", "booked: Casa Lusa, 20:00"),
        ("assistant", "Done: Casa Lusa at 20:00.\n\nEnjoy Porto!")]
    found = memory.search("Where did Maya want a table?", k=1)[0]
    assert found.speaker == "maya"
    # no message had an id: explanations name turns by their place ("#1.1": session 1, first turn)
    assert found.explanation["episode"]["label"] == "episode #1.1–#1.3"
    assert "turn #1.1" in memory.explain(memory.search("Where did Maya want a table?", k=1, strategy="dense")[0])
    # the SDKs' own message objects (pydantic models), as a model API returned them
    from samples import AnthropicMessage, OpenAIMessage
    sdk = memory.add([OpenAIMessage(content="Casa Lusa is on Rua das Flores.", annotations=[]),
                      AnthropicMessage(id="msg_01", content=[{"type": "text", "text": "They open at 19:00."},
                                                             {"type": "tool_use", "id": "t", "name": "x", "input": {}}]),
                      OpenAIMessage(tool_calls=[{"id": "call_9"}])], conversation="chat")
    assert (sdk.added, sdk.skipped) == (2, 1)
    stored = memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace AND t.source_id = 'msg_01' RETURN t.text AS text")
    assert [r["text"] for r in stored] == ["They open at 19:00."]  # an Anthropic message's id is its message id
    assert memory.add(OpenAIMessage(content="One object alone."), conversation="chat").added == 1
    # a call holding only tool plumbing stores nothing and says so
    before = memory.stats()["nodes"]
    only_tools = memory.add({"role": "assistant", "content": "", "tool_calls": [{"id": "call_2"}]}, conversation="chat")
    assert (only_tools.added, only_tools.skipped, only_tools.turn_ids) == (0, 1, [])
    assert memory.stats()["nodes"] == before
    assert memory.check().ok


def test_langchain_messages_as_an_agent_framework_gives_them(memory_factory, tmp_path):
    """LangChain's own message objects (langchain_core, the real package), their ``model_dump()``
    and ``messages_to_dict`` forms: the type says the role (human: user, ai: assistant), the
    framework's bookkeeping fields are passed over, a tool call without text is skipped, an id is
    the message id. A JSONL log of them ingests the same."""
    from langchain_core.messages import AIMessage, HumanMessage, ToolMessage, messages_to_dict

    messages = [HumanMessage("My sister Ana moved to Lisbon.", id="lc1"), AIMessage("Lisbon is lovely in spring."),
                AIMessage("", tool_calls=[{"name": "weather", "args": {"city": "Lisbon"}, "id": "c1"}]),
                ToolMessage("18 C and sunny", tool_call_id="c1")]
    memory = memory_factory()
    report = memory.add(messages, conversation="lc-objects")
    assert (report.added, report.skipped) == (3, 1)
    expected = [("user", "My sister Ana moved to Lisbon.", "lc1"), ("assistant", "Lisbon is lovely in spring.", None),
                ("tool", "18 C and sunny", None)]
    read = [(m["speaker"], m["text"], m["source_id"]) for m in memory.messages("lc-objects")]
    assert read == expected
    memory.add([m.model_dump() for m in messages], conversation="lc-dumps")
    assert [(m["speaker"], m["text"], m["source_id"]) for m in memory.messages("lc-dumps")] == expected
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(json.dumps(d) for d in messages_to_dict(messages)), encoding="utf-8")
    assert memory.ingest(path).turns_added == 3
    assert [(m["speaker"], m["text"], m["source_id"]) for m in memory.messages("history")] == expected
    assert memory.search("Where does Ana live?", k=1, conversation="history")[0].speaker == "user"
    with pytest.raises(InputError, match="unknown field 'extra'"):  # only the framework's own fields pass
        memory.add({**messages[0].model_dump(), "extra": 1}, conversation="lc-dumps")


def test_add_stores_any_text_verbatim_as_ingest_does(memory_factory):
    """Streaming equals batch for messy text too: NUL, bidi controls, Cypher-looking text,
    code and U+2028 are stored as sent (batch ingest stores them: test_bad_input.py)."""
    memory = memory_factory()
    texts = ["a\x00b", "\u202eevil\u202c", "'}) DETACH DELETE n //", "```py\nprint('hi')\n```", "one\u2028two\u0085three"]
    report = memory.add([{"speaker": "Ann\x00", "text": text, "id": f"m{i}"} for i, text in enumerate(texts)], conversation="messy")
    assert report.added == len(texts)
    rows = memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.speaker AS speaker, t.text AS text ORDER BY t.seq")
    assert [r["text"] for r in rows] == texts and {r["speaker"] for r in rows} == {"Ann\x00"}
    assert memory.search("evil", k=1)[0].text == "\u202eevil\u202c"
    assert memory.check().ok


def test_a_message_sent_again_in_another_unicode_form_is_unchanged(memory_factory):
    """A message sent again with its accents typed apart (NFD, as macOS input gives them) was a
    correction: a second version holding text that looks the same."""
    import unicodedata

    memory = memory_factory()
    text = "Zoë moved to Zürich with her café's espresso machine."
    memory.add({"speaker": "Zoë", "text": text, "id": "m1"}, conversation="c")
    again = memory.add({"speaker": unicodedata.normalize("NFD", "Zoë"), "text": unicodedata.normalize("NFD", text), "id": "m1"},
                       conversation="c")
    assert (again.added, again.corrected, again.unchanged) == (0, 0, 1)
    assert [m["text"] for m in memory.messages("c")] == [text]


def test_correction_replaces_the_message_and_keeps_a_version(memory_factory):
    memory = memory_factory()
    memory.add([{"speaker": "Ana", "text": "My sister lives in Porto.", "id": "m1"},
                {"speaker": "Ben", "text": "Have you visited her this year?", "id": "m2"},
                {"speaker": "Ana", "text": "Yes, I went to Porto in March for her birthday.", "id": "m3"}],
               conversation="c", session="1", session_started_at="2024-04-01T10:00:00")
    before = {r["id"]: r for r in memory.cypher(
        "MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.id AS id, t.seq AS seq, t.source_id AS source")}
    old_events = {r["id"] for r in memory.cypher(
        "MATCH (e:Event)-[:FROM]->(t:Turn {source_id: 'm3'}) WHERE e.namespace = $namespace RETURN e.id AS id")}
    assert memory.search("Porto birthday", k=1, unit="event")  # the ANN indexes are loaded before the correction
    events_index = memory._service().caches.index("event")  # noqa: SLF001
    assert old_events and all(events_index.contains(e) for e in old_events)
    fixed = memory.add({"speaker": "Ana", "text": "Yes, I went to Madrid in March for her wedding.", "id": "m3"}, conversation="c")
    assert (fixed.added, fixed.corrected) == (0, 1)
    assert not any(events_index.contains(e) for e in old_events)  # the replaced events leave the index at once
    turn = fixed.turn_ids[0]
    after = {r["id"]: r for r in memory.cypher(
        "MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.id AS id, t.seq AS seq, t.source_id AS source")}
    assert after == before  # same ids, same positions
    history = memory.history(turn)
    assert [h["text"] for h in history] == ["Yes, I went to Porto in March for her birthday.",
                                            "Yes, I went to Madrid in March for her wedding."]
    assert [h["current"] for h in history] == [False, True] and history[0]["replaced_at"]
    new_events = {r["id"]: r["text"] for r in memory.cypher(
        "MATCH (e:Event)-[:FROM]->(t:Turn {id: $id}) RETURN e.id AS id, e.text AS text", {"id": turn})}
    assert new_events and not (set(new_events) & old_events)
    assert any("Madrid" in text for text in new_events.values())
    entities = {r["name"] for r in memory.cypher(
        "MATCH (e:Event)-[:INVOLVES]->(n:Entity) WHERE e.namespace = $namespace RETURN DISTINCT n.name AS name")}
    assert "Madrid" in entities
    for hit in memory.search("birthday in Porto in March", k=5):
        assert "birthday" not in hit.text
    assert any(h.node_id == turn for h in memory.search("wedding in Madrid", k=3))
    again = memory.add({"speaker": "Ana", "text": "Yes, I went to Madrid in March for her wedding.", "id": "m3"}, conversation="c")
    assert (again.added, again.corrected, again.unchanged) == (0, 0, 1)
    assert len(memory.history(turn)) == 2
    report = memory.check()
    assert report.ok and report.rebuilt == [], report.summary()  # the caches agree with the store: nothing rebuilt


def test_a_correction_replaces_the_metadata_and_its_version_keeps_the_old(memory_factory, tmp_path):
    """A corrected message's metadata is the new message's (a key it lacks is gone); the kept
    version has the old, and history shows both. A batch re-ingest of an edited JSONL file
    does the same."""
    memory = memory_factory()
    first = memory.add({"speaker": "Ana", "text": "The meeting is on Monday.", "id": "m1",
                        "metadata": {"channel": "sms", "rating": 4}}, conversation="c")
    turn = first.turn_ids[0]
    fixed = memory.add({"speaker": "Ana", "text": "The meeting is on Tuesday.", "id": "m1",
                        "metadata": {"channel": "app"}}, conversation="c")
    assert fixed.corrected == 1
    row, = memory.cypher("MATCH (t:Turn {id: $id}) RETURN t.meta_channel AS channel, t.meta_rating AS rating", {"id": turn})
    assert (row["channel"], row["rating"]) == ("app", None)
    version, = memory.cypher("MATCH (v:TurnVersion)-[:VERSION_OF]->(t:Turn {id: $id}) "
                             "RETURN v.meta_channel AS channel, v.meta_rating AS rating", {"id": turn})
    assert (version["channel"], version["rating"]) == ("sms", 4)
    assert [(h["text"], h["metadata"]) for h in memory.history(turn)] == [
        ("The meeting is on Monday.", {"channel": "sms", "rating": 4}), ("The meeting is on Tuesday.", {"channel": "app"})]
    # the same text with other metadata (a message starred later) updates it; the same again changes nothing
    starred = memory.add({"speaker": "Ana", "text": "The meeting is on Tuesday.", "id": "m1",
                          "metadata": {"channel": "app", "starred": True}}, conversation="c")
    assert (starred.corrected, starred.unchanged, starred.turn_ids) == (1, 0, [turn])
    assert memory.search("When is the meeting?", k=1)[0].metadata == {"channel": "app", "starred": True}
    assert [h["metadata"] for h in memory.history(turn)][-2:] == [{"channel": "app"}, {"channel": "app", "starred": True}]
    again = memory.add({"speaker": "Ana", "text": "The meeting is on Tuesday.", "id": "m1",
                        "metadata": {"starred": True, "channel": "app"}}, conversation="c")
    assert (again.corrected, again.unchanged) == (0, 1)

    path = tmp_path / "notes.jsonl"
    path.write_text(json.dumps({"role": "user", "content": "Call the plumber.", "id": "n1", "metadata": {"tag": "home"}}) + "\n",
                    encoding="utf-8")
    memory.ingest(path)
    path.write_text(json.dumps({"role": "user", "content": "Call the electrician.", "id": "n1"}) + "\n", encoding="utf-8")
    assert memory.ingest(path).turns_corrected == 1
    turn, = memory.cypher("MATCH (t:Turn {source_id: 'n1'}) WHERE t.namespace = $namespace RETURN t.id AS id")
    assert [(h["text"], h["metadata"]) for h in memory.history(turn["id"])] == [
        ("Call the plumber.", {"tag": "home"}), ("Call the electrician.", {})]
    assert memory.check().ok
    comparison = compare_with_store(memory.store, memory.namespace)
    assert comparison.documented, comparison.to_dict()  # the versions' meta_* properties are in the schema


def test_a_live_topic_refit_sees_corrected_turns_and_grown_sessions_as_stored(memory_factory):
    """The live writer keeps the vectors and texts its topic refits read (moving embeddings out
    of the store is their slow part). A turn corrected and a session grown since keep their
    ids: the next refit must see them as they are stored now, not as they were kept."""
    import numpy as np

    memory = memory_factory()
    places = ["Porto", "Lisbon", "Madeira", "Braga", "Faro"]
    memory.add([{"speaker": "Ana" if i % 2 else "Ben", "text": f"Day {i}: we walked around {places[i % 5]} and ate well.", "id": f"m{i}"}
                for i in range(40)], conversation="c", session="1", session_started_at="2024-04-01T10:00:00")
    stage = memory._writer._clustering  # noqa: SLF001 - the live writer's topic stage
    dimension = memory._embedder.dimension  # noqa: SLF001
    assert stage._known.get("turn")  # noqa: SLF001 - the first turn fit (40 >= 32 units) kept them

    def stored(label: str) -> dict[str, tuple[str | None, np.ndarray]]:
        return {r["id"]: (r["text"], np.asarray(r["embedding"], dtype=np.float32)) for r in memory.cypher(
            f"MATCH (u:{label}) WHERE u.namespace = $namespace RETURN u.id AS id, u.text AS text, u.embedding AS embedding")}

    stage._stored_units("session", dimension)  # noqa: SLF001 - keeps the open session as it is now
    fixed = memory.add({"speaker": "Ana", "text": "Day 5: correction, we sailed to the Azores instead.", "id": "m5"}, conversation="c")
    assert fixed.corrected == 1
    memory.add({"speaker": "Ben", "text": "Day 40: back home, the cat was fine.", "id": "m40"}, conversation="c", session="1")
    assert memory._writer._clustering is stage  # noqa: SLF001 - the same live writer all along

    ids, vectors, texts = stage._stored_units("turn", dimension)  # noqa: SLF001
    turns = stored("Turn")
    assert set(ids) == set(turns) and len(ids) == 41
    for node, vector, text in zip(ids, vectors, texts):
        assert text == turns[node][0]
        np.testing.assert_allclose(vector, turns[node][1], atol=1e-6)
    assert "sailed to the Azores" in texts[ids.index(fixed.turn_ids[0])]
    ids, vectors, _ = stage._stored_units("session", dimension)  # noqa: SLF001
    sessions = stored("Session")
    assert len(ids) == 1
    np.testing.assert_allclose(vectors[0], sessions[ids[0]][1], atol=1e-6)


def test_writers_taking_turns_still_reach_the_first_topic_fit(memory_factory):
    """Two cache owners adding in turn: each one's live writer starts afresh after the other's
    commit, and it counts the turns already waiting in the store, so the first topic fit comes
    once 32 are waiting (it used to count only its own, and never got there)."""
    memory = memory_factory()
    other = memory_factory(memory.namespace)
    places = ["Porto", "Lisbon", "Madeira", "Braga", "Faro"]
    for i in range(40):
        writer = other if i % 2 else memory
        writer.add({"speaker": "Ana" if i % 2 else "Ben", "text": f"Day {i}: we walked around {places[i % 5]} and ate well."},
                   conversation="c")
    placed = memory.cypher("MATCH (t:Turn)-[:IN_TOPIC]->(c:Topic) WHERE t.namespace = $namespace RETURN count(DISTINCT t) AS n")
    assert placed[0]["n"] >= 32, placed
    assert memory.check().ok


def test_corrections_do_not_count_toward_the_first_topic_fit(memory_factory):
    """The live writer counted a corrected message (and its new events) as one more unit waiting
    for the first topic fit each time: 27 corrections of one of 5 messages fitted topics on those 5,
    where a writer in another process (counting from the store) did not."""
    memory = memory_factory()
    report = memory.add([{"speaker": "Ana", "text": f"I planted {w} in the garden today.", "id": f"m{i}"}
                         for i, w in enumerate(["tomatoes", "basil", "roses", "tulips", "carrots"])], conversation="c")
    for i in range(40):
        memory.correct(report.turn_ids[0], f"I planted tomatoes in the garden today, version {i}.")
    topics = memory.cypher("MATCH (t:Topic) WHERE t.namespace = $namespace RETURN count(t) AS n")
    assert topics[0]["n"] == 0, topics
    assert memory.check().ok


def test_batch_reingest_of_an_edited_file_corrects_in_place(memory_factory, tmp_path):
    memory = memory_factory()
    memory.ingest(write_native(tmp_path, TRAVEL))
    counts = memory.stats()["nodes"]
    edited = copy.deepcopy(TRAVEL)
    edited["sessions"][1]["turns"][0]["text"] = "I adopted a kitten yesterday, a tabby called Pepper."
    report = memory.ingest(write_native(tmp_path, edited, "edited.json"))
    assert report.turns_added == 0 and report.turns_corrected == 1
    assert memory.stats()["nodes"]["Turn"] == counts["Turn"]
    assert _chain(memory)[len(TRAVEL["sessions"][0]["turns"])] == "I adopted a kitten yesterday, a tabby called Pepper."
    turn = memory.cypher("MATCH (t:Turn {source_id: 'T2:1'}) WHERE t.namespace = $namespace RETURN t.id AS id")[0]["id"]
    assert [h["text"] for h in memory.history(turn)][0].startswith("I adopted a puppy")
    # without source ids, a message is known by its position
    plain = copy.deepcopy(TRAVEL)
    for session in plain["sessions"]:
        for t in session["turns"]:
            del t["id"]
    other = memory_factory()
    other.ingest(write_native(tmp_path, plain, "plain.json"))
    plain["sessions"][2]["turns"][1]["text"] = "That is amazing, well done!"
    assert other.ingest(write_native(tmp_path, plain, "plain2.json")).turns_corrected == 1
    assert other.stats()["nodes"]["Turn"] == counts["Turn"]
    assert memory.check().ok and other.check().ok



def test_a_file_that_corrected_a_message_changes_nothing_ingested_again_here_or_renamed(tmp_path):
    """The edited file ingested again made another version of the same text each time (version 2, 3,
    ... of "I moved to Porto."); and in a namespace renamed on import, the original file reverted the
    correction (the corrected turn took another id there), which it does not where it was made."""
    def write(text: str) -> Path:
        path = tmp_path / "chat.jsonl"
        path.write_text(json.dumps({"speaker": "Ana", "text": text, "id": "a1", "timestamp": "2024-01-01T10:00:00"}) + "\n"
                        + json.dumps({"speaker": "Bo", "text": "Nice city.", "id": "a2", "timestamp": "2024-01-01T10:01:00"}) + "\n")
        return path

    def state(memory: Memory) -> list:
        return [(m["text"], m["version"]) for m in memory.messages("chat")]

    settings = settings_for(tmp_path)
    with Memory.open(tmp_path / "store", namespace="here", settings=settings) as memory:
        memory.ingest(write("I moved to Lisbon."))
        assert memory.ingest(write("I moved to Porto.")).turns_corrected == 1
        for text in ("I moved to Porto.", "I moved to Lisbon."):
            report = memory.ingest(write(text))
            assert (report.turns_added, report.turns_corrected) == (0, 0), text
        assert state(memory) == [("I moved to Porto.", 1), ("Nice city.", 0)]
        memory.export(tmp_path / "here.jsonl.gz")
    with Memory.open(tmp_path / "store", namespace="renamed", settings=settings) as memory:
        memory.import_dump(tmp_path / "here.jsonl.gz", namespace="renamed")
        for text in ("I moved to Lisbon.", "I moved to Porto."):
            report = memory.ingest(write(text))
            assert (report.turns_added, report.turns_corrected) == (0, 0), text
        assert state(memory) == [("I moved to Porto.", 1), ("Nice city.", 0)]
        assert memory.ingest(write("I moved to Braga.")).turns_corrected == 1  # a new text still corrects
        assert state(memory)[0] == ("I moved to Braga.", 2) and memory.check().ok
        # the renamed namespace's topic ids are not their recipe there, so its models could not be relabelled:
        # the episode and session labels kept "porto" until an add refitted them; the correction refits them
        labels = memory.cypher("MATCH (t:Topic) WHERE t.namespace = $namespace RETURN t.label AS label, t.terms AS terms")
        assert labels and not any("porto" in row["label"] or "porto" in row["terms"] for row in labels), labels


def test_a_follow_up_file_never_replaces_the_messages_stored_before_it(memory_factory, tmp_path):
    """A transcript's `# Session 3` was keyed by its place in the file (session "1"), and date-stamped
    JSONL exports of one chat got one key (the name up to its first dot), so a follow-up file's
    messages replaced the stored ones at their positions as corrections, silently."""
    memory = memory_factory()
    first = tmp_path / "part-a.txt"
    first.write_text("# Session 1: 8 May 2023\nAlice: I bought a red bike today.\nBob: Nice, where did you ride?\n"
                     "# Session 2: 9 May 2023\nAlice: Down to the lake.\n", encoding="utf-8")
    later = tmp_path / "part-b.txt"
    later.write_text("# Session 3: 20 May 2023\nAlice: My sister Jane visits next week.\n", encoding="utf-8")
    memory.ingest(first, conversation_id="chat")
    report = memory.ingest(later, conversation_id="chat")
    assert (report.turns_added, report.turns_corrected) == (1, 0)
    assert [(m["session"], m["version"]) for m in memory.messages("chat")] == [("1", 0), ("1", 0), ("2", 0), ("3", 0)]
    bad = tmp_path / "bad.txt"
    bad.write_text("# Session 4: someday soon\nAlice: Hi.\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.txt:1: session date 'someday soon' is not a date"):
        memory.ingest(bad, conversation_id="chat")
    # date-stamped exports are conversations of their own
    for day, text in (("2024-05-08", "I bought a red bike today."), ("2024-05-20", "My sister Jane visits next week.")):
        (tmp_path / f"talk.{day}.jsonl").write_text(json.dumps({"role": "user", "content": text, "timestamp": f"{day}T10:00:00Z"})
                                                   + "\n", encoding="utf-8")
    reports = [memory.ingest(tmp_path / f"talk.{day}.jsonl") for day in ("2024-05-08", "2024-05-20")]
    assert [(r.turns_added, r.turns_corrected) for r in reports] == [(1, 0), (1, 0)]
    assert [m["text"] for m in memory.messages("talk.2024-05-08")] == ["I bought a red bike today."]
    # one key given to both: the later file's message, said at another time, is no correction of the stored one
    with pytest.raises(InputError, match="would take position 0, but the stored message added without an id holds it"):
        memory.ingest(tmp_path / "talk.2024-05-20.jsonl", conversation_id="talk.2024-05-08")
    assert [m["version"] for m in memory.messages("talk.2024-05-08")] == [0] and memory.check().ok


def test_reingesting_a_file_with_other_metadata_corrects_as_add_does(memory_factory, tmp_path, caplog):
    """A message the file gives again with other metadata was kept unchanged by a re-ingest (the
    same message sent by `add` is a correction); one given at another time alone keeps its stored
    time, as `add` keeps it, and the ingest logs how many."""
    def write(mood, when):
        path = tmp_path / "chat.jsonl"
        path.write_text(json.dumps({"speaker": "Ana", "text": "I moved to Lisbon.", "id": "a1", "timestamp": when,
                                    "metadata": {"mood": mood}}) + "\n"
                        + json.dumps({"speaker": "Bo", "text": "Nice city.", "id": "a2", "timestamp": when}) + "\n")
        return path

    memory = memory_factory()
    memory.ingest(write("happy", "2024-01-01T10:00:00"))
    report = memory.ingest(write("sad", "2024-01-01T10:00:00"))
    assert (report.turns_added, report.turns_corrected) == (0, 1)
    ana, bo = memory.messages(conversation="chat")
    assert ana["metadata"] == {"mood": "sad"} and ana["version"] == 1 and bo["version"] == 0
    assert [h["metadata"] for h in memory.history(ana["turn_id"])][0] == {"mood": "happy"}
    assert [h.source_id for h in memory.search("Lisbon", k=3, metadata={"mood": "sad"})] == ["a1"]
    with caplog.at_level(logging.WARNING, logger="graphmem.ingest.pipeline"):
        report = memory.ingest(write("sad", "2024-02-01T10:00:00"))
    assert (report.turns_added, report.turns_corrected) == (0, 0)
    assert "2 stored messages are given at another time" in caplog.text
    assert [m["timestamp"] for m in memory.messages(conversation="chat")] == ["2024-01-01T10:00:00"] * 2
    assert memory.ingest(write("sad", "2024-01-01T10:00:00")).turns_corrected == 0
    assert memory.check().ok


def test_a_file_without_a_forgotten_message_reingests_by_its_ids(memory_factory, tmp_path):
    """The user forgot one message; the chat's next export no longer holds it, and every later
    message sits a place earlier in the file. It was refused (as insertions, with the advice to
    forget the whole conversation); now each is known by its id, a changed one is corrected, and the
    new message after them is appended at the session's end."""
    memory = memory_factory()
    memory.ingest(write_native(tmp_path, TRAVEL))
    forgotten = memory.cypher("MATCH (t:Turn {source_id: 'T1:2'}) WHERE t.namespace = $namespace RETURN t.id AS id")[0]["id"]
    memory.forget(turn=[forgotten])
    before = {m["turn_id"]: m["text"] for m in memory.messages("travel-chat")}
    export = copy.deepcopy(TRAVEL)
    turns = export["sessions"][0]["turns"]
    turns.pop(1)
    turns[4]["text"] = "Tram 28 gets very crowded, go early in the morning or late at night."
    turns.append({"id": "T1:new", "speaker": "Nora", "text": "I booked an interval class for Tuesday."})
    report = memory.ingest(write_native(tmp_path, export, "export.json"))
    assert (report.turns_added, report.turns_corrected) == (1, 1)
    after = memory.messages("travel-chat")
    assert len(after) == len(before) + 1 and set(before) <= {m["turn_id"] for m in after}
    session_one = [m for m in after if m["session"] == "1"]
    assert [m["source_id"] for m in session_one] == [t["id"] for t in turns]  # the new one last, in order
    assert "or late at night" in session_one[4]["text"] and session_one[4]["version"] == 1
    assert memory.ingest(write_native(tmp_path, export, "again.json")).turns_added == 0  # the same file again: nothing
    assert memory.search("interval class for Tuesday", k=1)[0].source_id == "T1:new"
    assert memory.check().ok


def test_reingesting_a_file_with_a_message_inserted_or_moved_is_refused_clearly(memory_factory, tmp_path):
    """Corrections and appends are taken; a message inserted between stored ones, or moved, or a file
    message where a live add already put one, would take a stored message's place. Before, the write
    failed on the slot constraint (StorageError, a Java exception's text), and a forgotten message put
    back in its gap forked the NEXT chain; now an InputError names the conversation, session, message and
    position, and nothing changes (found by a hypothesis run)."""
    memory = memory_factory()
    memory.ingest(write_native(tmp_path, TRAVEL))
    before = memory.stats()["nodes"]
    inserted = copy.deepcopy(TRAVEL)
    inserted["sessions"][0]["turns"].insert(1, {"id": "T1:new", "speaker": "Nora", "text": "One more thing about Lisbon."})
    moved = copy.deepcopy(TRAVEL)
    moved["sessions"][0]["turns"].reverse()
    for name, doc in (("inserted.json", inserted), ("moved.json", moved)):
        with pytest.raises(InputError, match=r"conversation 'travel-chat', session '1': message .* would take position"):
            memory.ingest(write_native(tmp_path, doc, name))
        assert memory.stats()["nodes"] == before and memory.check().ok
    # the last message of session 1 moved to the end of session 2: it was stored a second time, with its id
    elsewhere = copy.deepcopy(TRAVEL)
    elsewhere["sessions"][1]["turns"].append(elsewhere["sessions"][0]["turns"].pop())
    last_id = elsewhere["sessions"][1]["turns"][-1]["id"]
    with pytest.raises(InputError, match=f"message '{last_id}' is stored in session '1' and the file puts it in session '2'"):
        memory.ingest(write_native(tmp_path, elsewhere, "elsewhere.json"))
    assert memory.stats()["nodes"] == before and memory.check().ok
    middle = memory.cypher("MATCH (t:Turn {source_id: 'T1:1'}) WHERE t.namespace = $namespace RETURN t.id AS id")[0]["id"]
    memory.forget(turn=[middle])
    assert memory.check().ok
    with pytest.raises(InputError, match="stored messages follow it"):  # back in its gap: the chain would fork
        memory.ingest(write_native(tmp_path, TRAVEL, "again.json"))
    assert memory.check().ok
    memory.add([{"speaker": "Ann", "text": "A live message first."}], conversation="mixed")
    mixed = {"id": "mixed", "speakers": ["Ann"], "sessions": [{"id": "1", "turns": [
        {"id": "x0", "speaker": "Ann", "text": "A file message at the same place."}]}]}
    with pytest.raises(InputError, match="added without an id"):
        memory.ingest(write_native(tmp_path, mixed, "mixed.json"))
    assert memory.check().ok


def test_reingesting_puts_a_forgotten_session_tail_back_between_sessions(memory_factory, tmp_path):
    """The last message of session 1 forgotten, the file ingested again (with a new session at its end):
    the message comes back at session 1's tail, between two stored turns, as a live add to an earlier
    session would. Before, the stored NEXT edge that joined session 1 to session 2 after the forget
    stayed, and the chain forked (found by a random-operation run)."""
    memory = memory_factory()
    memory.ingest(write_native(tmp_path, TRAVEL))
    texts = [t["text"] for s in TRAVEL["sessions"] for t in s["turns"]]
    tail = TRAVEL["sessions"][0]["turns"][-1]
    tail_id = memory.cypher("MATCH (t:Turn {source_id: $s}) WHERE t.namespace = $namespace RETURN t.id AS id",
                            {"s": tail["id"]})[0]["id"]
    memory.forget(turn=[tail_id])
    assert _chain(memory) == [t for t in texts if t != tail["text"]]
    longer = copy.deepcopy(TRAVEL)
    longer["sessions"].append({"id": "9", "started_at": "2024-06-01T10:00:00", "turns": [
        {"id": "T9:0", "speaker": "Nora", "text": "Back from Lisbon, the tarts were worth it."}]})
    report = memory.ingest(write_native(tmp_path, longer, "longer.json"))
    assert report.turns_added == 2
    assert _chain(memory) == texts + ["Back from Lisbon, the tarts were worth it."]
    assert memory.check().ok, memory.check().problems


def test_forget_one_turn_joins_the_chain(memory_factory):
    memory = memory_factory()
    report = memory.add([{"speaker": "a", "text": f"message number {i} about gardening and tomatoes"} for i in range(5)],
                        conversation="c")
    removed = memory.forget(turn=report.turn_ids[2])
    assert removed["turns"] == 1
    assert _chain(memory) == [f"message number {i} about gardening and tomatoes" for i in (0, 1, 3, 4)]
    assert memory.forget(turn=[report.turn_ids[0], report.turn_ids[4]])["turns"] == 2
    assert _chain(memory) == [f"message number {i} about gardening and tomatoes" for i in (1, 3)]
    assert memory.check().ok
    # adding after a forgotten tail appends after the last remaining turn
    memory.add({"speaker": "a", "text": "one more message"}, conversation="c")
    assert _chain(memory)[-1] == "one more message" and memory.check().ok
    with pytest.raises(InputError):
        memory.forget(turn=[])


@pytest.mark.parametrize("damage, problem", [
    ("MATCH (a:Turn {index: 0}), (c:Turn {index: 2}) WHERE a.namespace = $namespace AND c.namespace = $namespace "
     "CREATE (a)-[:NEXT]->(c)", "forked_next_chain"),
    ("MATCH (t:Turn {index: 2}) WHERE t.namespace = $namespace SET t.seq = t.seq - 1", "turns_sharing_a_position"),
    # an event written twice (same turn and index under another id): event search returned the fact twice
    ("MATCH (e:Event)-[:FROM]->(t:Turn) WHERE e.namespace = $namespace WITH e, t LIMIT 1 "
     "CREATE (c:Event)-[:FROM]->(t) SET c = properties(e), c.id = e.id + ':again'", "events_sharing_a_position"),
    # a turn's text or speaker changed in place: its embedding, events and episode text stayed the old ones
    ("MATCH (t:Turn {index: 2}) WHERE t.namespace = $namespace SET t.text = 'I sold my motorbike to buy a boat.'",
     "episodes_not_the_text_of_their_turns"),
    ("MATCH (t:Turn {index: 2}) WHERE t.namespace = $namespace SET t.speaker = 'Omar'", "episodes_not_the_text_of_their_turns"),
    ("MATCH (t:Turn {index: 2}) WHERE t.namespace = $namespace SET t.speaker = 'Omar'", "events_off_their_turn"),
    ("MATCH (a:Turn {index: 1})-[r:NEXT]->(:Turn) WHERE a.namespace = $namespace DELETE r", "broken_next_chain"),
    ("MATCH (a:Turn {index: 3}), (b:Turn {index: 1}) WHERE a.namespace = $namespace AND b.namespace = $namespace "
     "CREATE (a)-[:NEXT]->(b)", "next_against_sequence"),
    ("MATCH (t:Turn {index: 1})-[:PART_OF]->(e:Episode) WHERE t.namespace = $namespace CREATE (t)-[:PART_OF]->(e)",
     "duplicate_relationships"),
    ("MATCH (e:Event)-[r:INVOLVES {role: 'speaker'}]->(n:Entity) WHERE e.namespace = $namespace "
     "WITH e, n LIMIT 1 CREATE (e)-[:INVOLVES {role: 'speaker'}]->(n)", "duplicate_relationships"),
    # derived damage: a vector that is no longer its turns' mean (one turn's instead)
    ("MATCH (s:Session), (t:Turn {index: 4}) WHERE s.namespace = $namespace AND t.namespace = $namespace "
     "SET s.embedding = t.embedding", "sessions_not_the_mean_of_their_turns"),
    ("MATCH (e:Episode), (t:Turn {index: 0}) WHERE e.namespace = $namespace AND t.namespace = $namespace "
     "SET e.embedding = t.embedding", "episodes_not_the_mean_of_their_turns"),
    # embedding damage: none, another length, all zeros (check read them into one array and raised)
    ("MATCH (t:Turn {index: 2}) WHERE t.namespace = $namespace SET t.embedding = null", "turns_without_embedding"),
    ("MATCH (s:Session) WHERE s.namespace = $namespace SET s.embedding = null", "sessions_without_embedding"),
    ("MATCH (t:Turn {index: 2}) WHERE t.namespace = $namespace SET t.embedding = [0.5, 0.25]", "malformed_embeddings"),
    ("MATCH (e:Episode) WHERE e.namespace = $namespace SET e.embedding = [x IN range(1, 384) | 0.0]", "malformed_embeddings"),
    # property damage: a value of another type than the schema's, or a missing one that is always written
    ("MATCH (t:Turn {index: 2}) WHERE t.namespace = $namespace SET t.seq = 'abc'", "turns_with_malformed_seq"),
    ("MATCH (t:Turn {index: 2}) WHERE t.namespace = $namespace SET t.text = null", "turns_with_malformed_text"),
    ("MATCH (s:Session) WHERE s.namespace = $namespace SET s.number = null", "sessions_with_malformed_number"),
    ("MATCH (e:Event) WHERE e.namespace = $namespace SET e.time_start = 'soon'", "events_with_malformed_time_start"),
    # a time with an offset: stored times are naive UTC, compared as text (it sorted and filtered hours off)
    ("MATCH (t:Turn {index: 2}) WHERE t.namespace = $namespace SET t.timestamp = t.timestamp + '+05:00'",
     "turns_with_malformed_timestamp"),
    ("MATCH (s:Session) WHERE s.namespace = $namespace SET s.started_at = s.started_at + 'Z'", "sessions_with_malformed_started_at"),
    ("MATCH (t:Turn {index: 1}) WHERE t.namespace = $namespace SET t.timestamp = '20240317T100000'", "turns_with_malformed_timestamp"),
    ("MATCH (e:Event)-[r:INVOLVES]->() WHERE e.namespace = $namespace SET r.role = 7", "involves_edges_with_malformed_role"),
    ("MATCH (t:Turn {index: 2}) WHERE t.namespace = $namespace SET t.meta_user = [1, 2]", "turns_with_malformed_metadata"),
    ("MATCH (c:Conversation) WHERE c.namespace = $namespace SET c.meta_source = ['a']", "conversations_with_malformed_metadata"),
    # a deleted entity: every event involves its speaker's
    ("MATCH (n:Entity {key: 'a'}) WHERE n.namespace = $namespace DETACH DELETE n", "events_without_speaker"),
    # a vector of true/false or of numeric text: the writes refuse it, and check passed it (its float32
    # conversion took both)
    ("MATCH (t:Turn {index: 2}) WHERE t.namespace = $namespace SET t.embedding = [x IN range(1, 384) | true]",
     "malformed_embeddings"),
    ("MATCH (t:Turn {index: 2}) WHERE t.namespace = $namespace SET t.embedding = [x IN range(1, 384) | '0.05']",
     "malformed_embeddings"),
    # a marker version that is no number: check raised ValueError from int() and reported nothing
    ("MATCH (v:ChangeMarker) WHERE v.namespace = $namespace SET v.version = 'x'", "change_markers_with_malformed_version"),
    ("MATCH (n:Entity {key: 'a'}) WHERE n.namespace = $namespace CREATE (n)-[:ALIAS_OF {reason: 'nickname', score: 1.0}]->(n)",
     "aliases_of_themselves"),
    # values outside what graphmem writes, which check passed
    ("MATCH (s:Session) WHERE s.namespace = $namespace SET s.turn_count = 100", "sessions_with_a_wrong_turn_count"),
    ("MATCH (e:Event)-[r:INVOLVES]->() WHERE e.namespace = $namespace SET r.role = 'villain'", "involves_edges_with_an_unknown_role"),
    ("MATCH (t:Turn {index: 1}) WHERE t.namespace = $namespace CREATE (t)-[:ASSOCIATED {w: 0.5, granularity: 'turn', "
     "method: 'gmm'}]->(t)", "associations_of_themselves"),
    ("MATCH (v:ChangeMarker) WHERE v.namespace = $namespace CREATE (:ChangeMarker {namespace: $namespace, id: 'marker:x', "
     "version: 1})", "change_markers_with_a_wrong_id"),
])
def test_check_sees_order_damage(memory_factory, damage, problem):
    memory = memory_factory()
    memory.add([{"speaker": "a", "text": f"turn {i} on the subject of sailing boats"} for i in range(5)], conversation="c")
    assert memory.check().ok
    memory.cypher(damage, write=True)
    report = memory.check()
    assert not report.ok
    assert report.problems.get(problem), report.summary()


def test_check_sees_damage_to_entities_aliases_and_settings(memory_factory):
    """Damage check passed while search, add or entity answered wrongly or failed: two entities with
    one key, an alias with two canonicals or of itself through another, an alias edge of a reason
    graphmem never writes (every later add raised ValueError from entity resolution), a settings
    node under another id (its zone silently stopped applying)."""
    memory = memory_factory()
    memory.add([{"speaker": "Ana", "text": "I flew from Paris to Tokyo and saw the Louvre first."},
                {"speaker": "Bo", "text": "Tokyo in spring sounds lovely."}], conversation="c")
    memory.set_timezone("Europe/Lisbon")
    assert memory.check().ok
    keys = {r["key"]: r["id"] for r in memory.cypher("MATCH (n:Entity) WHERE n.namespace = $namespace RETURN n.key AS key, n.id AS id")}
    assert {"paris", "tokyo", "louvre"} <= set(keys), keys
    edge = "MATCH (a:Entity {id: $a}), (b:Entity {id: $b}) CREATE (a)-[:ALIAS_OF {reason: $reason, score: $score}]->(b)"

    def damaged(statement: str, params: dict, problem: str) -> None:
        memory.cypher(statement, params, write=True)
        assert memory.check().problems.get(problem), (problem, memory.check().summary())

    damaged(edge, {"a": keys["paris"], "b": keys["louvre"], "reason": "manual", "score": 1.0}, "aliases_with_an_unknown_reason_or_score")
    with pytest.raises(StorageError, match="for the reason 'manual'.*graphmem check names such damage"):
        memory.add({"speaker": "Ana", "text": "Paris again next year."}, conversation="c")
    memory.cypher("MATCH (:Entity)-[r:ALIAS_OF]->() WHERE r.reason = 'manual' DELETE r", write=True)
    damaged(edge, {"a": keys["paris"], "b": keys["louvre"], "reason": "embedding", "score": 55.0}, "aliases_with_an_unknown_reason_or_score")
    damaged(edge, {"a": keys["paris"], "b": keys["tokyo"], "reason": "embedding", "score": 0.9}, "aliases_with_several_canonicals")
    damaged(edge, {"a": keys["louvre"], "b": keys["paris"], "reason": "embedding", "score": 0.9}, "aliases_of_themselves")
    damaged("MATCH (n:Entity {id: $id}) SET n.key = 'tokyo'", {"id": keys["paris"]}, "entities_sharing_a_key")
    damaged("MATCH (s:NamespaceSettings) WHERE s.namespace = $namespace SET s.id = 'settings:elsewhere'", {},
            "namespace_settings_with_a_wrong_id")


def test_an_add_interrupted_after_its_commit_is_found_by_meaning_here_and_in_the_next_process(tmp_path, monkeypatch):
    """Ctrl-C landing between an add's commit and its vectors reaching the caches: the message was
    stored, but this process's caches took the commit for one they had applied (it was their own),
    so dense search never found it, nor did the next process (the indexes saved at close claimed
    to be current), until graphmem check rebuilt them."""
    from graphmem.store.embedded import EmbeddedStore

    store, query = str(tmp_path / "store"), "where do I keep my passport"
    with Memory.open(store, namespace="ctrl-c", settings=settings_for(tmp_path)) as memory:
        for i in range(5):
            memory.add({"speaker": "Ann", "text": f"Filler message {i} about gardening and tomatoes.", "id": f"f{i}"},
                       conversation="c")
        memory.search("gardening", k=1)
        write = EmbeddedStore.write

        def interrupted(self, statements):
            write(self, statements)
            monkeypatch.setattr(EmbeddedStore, "write", write)
            raise KeyboardInterrupt  # after the commit returned

        monkeypatch.setattr(EmbeddedStore, "write", interrupted)
        with pytest.raises(KeyboardInterrupt):
            memory.add({"speaker": "Ann", "text": "I keep my passport in the blue drawer.", "id": "secret"}, conversation="c")
        assert memory.add({"speaker": "Ann", "text": "I keep my passport in the blue drawer.", "id": "secret"},
                          conversation="c").unchanged == 1
        assert memory.search(query, k=1, strategy="dense")[0].source_id == "secret"
        assert memory.search(query, k=1, unit="event", strategy="dense")[0].source_id == "secret"
        memory.add({"speaker": "Ben", "text": "Later message about football.", "id": "after"}, conversation="c")
        assert memory.search(query, k=1, strategy="dense")[0].source_id == "secret"
    with Memory.open(store, namespace="ctrl-c", settings=settings_for(tmp_path)) as memory:
        assert memory.search(query, k=1, strategy="dense")[0].source_id == "secret"
        report = memory.check()
        assert report.ok and not any(index.rebuilt for index in report.indexes.values()), report.summary()


def test_check_sees_topics_and_memberships_off_their_granularity(memory_factory):
    """A unit in a topic of another granularity, a membership probability over 1, a topic of an
    unknown granularity and two topics at one index passed check."""
    memory = memory_factory()
    memory.add([{"speaker": "ab", "text": f"Day {i}: we sailed to {place} and fished for {fish}."}
                for i, (place, fish) in enumerate([("Porto", "sardines"), ("Faro", "tuna"), ("Braga", "trout"),
                                                   ("Lagos", "bass"), ("Sines", "cod")] * 8)], conversation="c")
    assert memory.check().ok and memory.cypher("MATCH (t:Topic) WHERE t.namespace = $namespace RETURN count(t) AS n")[0]["n"]
    one = "MATCH (t:Topic {granularity: $g}) WHERE t.namespace = $namespace WITH t ORDER BY t.index LIMIT 1 "
    assert len(memory.cypher("MATCH (t:Topic {granularity: 'turn'}) WHERE t.namespace = $namespace RETURN t.id")) > 1
    for damage, params, problem in (
            ("MATCH (u:Turn)-[r:IN_TOPIC]->() WHERE u.namespace = $namespace WITH u, r LIMIT 1 SET r.p = 7.5 RETURN u.id AS id", {},
             "memberships_off_their_topic"),
            (one + "SET t.index = t.index + 1 RETURN t.id AS id", {"g": "turn"}, "topics_off_their_granularity"),
            (one + "SET t.granularity = 'paragraph' RETURN t.id AS id", {"g": "event"}, "topics_off_their_granularity")):
        damaged = memory.cypher(damage, params, write=True)[0]["id"]
        assert damaged in memory.check().problems.get(problem, []), (damage, memory.check().summary())


def test_an_add_to_a_conversation_whose_node_was_deleted_names_the_damage(memory_factory):
    """Its sessions and turns stored, its Conversation node deleted: the add planned a new conversation
    and failed in the database on a duplicated key (a Java exception's text)."""
    memory = memory_factory()
    memory.add([{"speaker": "Ana", "text": "Our boat is called Gull."}], conversation="c")
    memory.cypher("MATCH (c:Conversation {key: 'c'}) WHERE c.namespace = $namespace DETACH DELETE c", write=True)
    assert memory.check().problems.get("sessions_without_conversation")
    with pytest.raises(StorageError, match="conversation 'c': its turns are stored but its Conversation node is missing"):
        memory.add({"speaker": "Ana", "text": "Gull needs paint."}, conversation="c")
    assert memory.stats()["nodes"]["Turn"] == 1


def test_check_names_each_relationship_written_twice_once_and_not_two_roles(memory_factory):
    """Two edges of one type between the same nodes are named once, with the INVOLVES role; an
    INVOLVES of another role beside one is no duplicate."""
    memory = memory_factory()
    memory.add([{"speaker": "a", "text": f"message number {i} about gardening and tomatoes"} for i in range(3)], conversation="c")
    pair = memory.cypher("MATCH (e:Event)-[:INVOLVES {role: 'speaker'}]->(n:Entity) WHERE e.namespace = $namespace "
                         "RETURN e.id AS event, n.id AS entity ORDER BY e.id LIMIT 1")[0]
    memory.cypher("MATCH (e:Event {id: $event}), (n:Entity {id: $entity}) CREATE (e)-[:INVOLVES {role: 'object'}]->(n)",
                  pair, write=True)
    assert "duplicate_relationships" not in memory.check().problems
    for _ in range(2):  # three copies: one problem
        memory.cypher("MATCH (e:Event {id: $event}), (n:Entity {id: $entity}) CREATE (e)-[:INVOLVES {role: 'speaker'}]->(n)",
                      pair, write=True)
    assert memory.check().problems["duplicate_relationships"] == [f"{pair['event']} -[INVOLVES speaker]-> {pair['entity']}"]


def test_a_malformed_stored_embedding_is_named_and_stops_only_the_writes_that_compute_from_it(memory_factory):
    """A turn whose stored embedding another tool broke: searches go on without its vector, a
    recluster leaves it out, a write that would average it into its episode or session fails
    naming it and writes nothing, and forgetting it repairs the memory."""
    memory = memory_factory()
    memory.add([{"speaker": "a", "text": f"turn {i} on the subject of sailing boats"} for i in range(6)], conversation="c")
    memory.add({"speaker": "b", "text": "kites over the dunes"}, conversation="other")
    ids = [r["id"] for r in memory.cypher("MATCH (t:Turn {conversation_id: 'c'}) WHERE t.namespace = $namespace "
                                          "RETURN t.id AS id ORDER BY t.index")]
    memory.cypher("MATCH (t:Turn {index: 2, conversation_id: 'c'}) WHERE t.namespace = $namespace "
                  "SET t.embedding = [0.5, 0.25]", write=True)
    report = memory.check()
    assert report.problems == {"malformed_embeddings": [ids[2]]}, report.summary()
    for strategy in ("auto", "dense"):  # the turn index is rebuilt without that vector
        assert len(memory.search("sailing boats", k=3, strategy=strategy)) == 3
    memory.recluster()
    turns = len(memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.id AS id"))
    for write in (lambda: memory.add({"speaker": "a", "text": "and canoes"}, conversation="c"),
                  lambda: memory.forget(turn=ids[4])):
        with pytest.raises(StorageError, match=ids[2]):
            write()
        assert len(memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.id AS id")) == turns
    memory.add({"speaker": "b", "text": "and the wind held"}, conversation="other")  # another session: unaffected
    assert memory.forget(turn=ids[2])["turns"] == 1
    memory.add({"speaker": "a", "text": "and canoes"}, conversation="c")
    assert memory.check().ok, memory.check().summary()


def test_a_writer_restoring_a_session_sums_its_turns_again_when_its_stored_mean_is_damaged(memory_factory):
    """Another process adding to a stored session restores its running mean: from the stored one,
    or, when that is malformed (damage ``check`` names), from the session's turns, so that the add
    repairs it; a turn without an embedding stops the add, naming it, as every other write that
    averages stored vectors does (it was skipped, and the mean written without it)."""
    memory = memory_factory()
    memory.add([{"speaker": "a", "text": f"turn {i} on the subject of sailing boats"} for i in range(6)], conversation="c")
    memory.add([{"speaker": "a", "text": "kites over the dunes"}, {"speaker": "b", "text": "and sand"}], conversation="short")
    memory.cypher("MATCH (s:Session {conversation_id: 'c'}) WHERE s.namespace = $namespace SET s.embedding = [0.5, 0.25]",
                  write=True)
    [short] = memory.cypher("MATCH (t:Turn {conversation_id: 'short', index: 1}) WHERE t.namespace = $namespace "
                            "RETURN t.id AS id")
    memory.cypher("MATCH (t:Turn {conversation_id: 'short', index: 1}) WHERE t.namespace = $namespace SET t.embedding = null",
                  write=True)
    report = memory.check()
    assert set(report.problems) == {"malformed_embeddings", "turns_without_embedding"}, report.summary()
    other = memory_factory(memory.namespace)  # another writer: restores both sessions from the store
    other.add({"speaker": "b", "text": "and canoes"}, conversation="c")
    turns = len(other.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.id AS id"))
    with pytest.raises(StorageError, match=short["id"]):
        other.add({"speaker": "b", "text": "and shells"}, conversation="short")
    assert len(other.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.id AS id")) == turns
    assert set(other.check().problems) == {"turns_without_embedding"}, other.check().summary()


def test_an_operation_failing_on_a_damaged_value_names_it_and_one_failing_otherwise_is_left_alone(memory_factory, monkeypatch):
    """A Turn.seq set to a string made every search raise ValueError deep in the projection; now the
    failure is a StorageError naming the damaged turns, and so is a query the database refuses while
    such damage is there. On a sound store an internal error, or the database's, stays what it was:
    it is not blamed on the store."""
    memory = memory_factory()
    memory.add([{"speaker": "a", "text": f"turn {i} on the subject of sailing boats"} for i in range(5)], conversation="c")
    assert memory.search("sailing", k=2)
    from graphmem.search import SearchService

    def internal(self, validated, *zone):
        raise ValueError("an internal bug")

    def refused(self, validated, *zone):
        try:
            raise RuntimeError("the database refused the query")
        except RuntimeError as exc:
            raise StorageError("query read/x failed") from exc

    for broken, error, message in ((internal, ValueError, "an internal bug"), (refused, StorageError, "^query read/x failed$")):
        with monkeypatch.context() as patched:
            patched.setattr(SearchService, "search", broken)
            with pytest.raises(error, match=message):  # a sound store: raised as it was
                memory.search("sailing", k=2)
    turn = memory.cypher("MATCH (t:Turn {index: 3}) WHERE t.namespace = $namespace RETURN t.id AS id")[0]["id"]
    memory.cypher("MATCH (t:Turn {index: 3}) WHERE t.namespace = $namespace SET t.seq = 'abc'", write=True)
    named = f"1 turns with malformed seq \\({turn}\\)"
    for operation in (lambda: memory.search("sailing", k=2),
                      lambda: memory.add({"speaker": "b", "text": "and canoes"}, conversation="c")):
        with pytest.raises(StorageError, match=named):
            operation()
    with pytest.raises(StorageError, match=named) as raised:  # context runs search: the damage is named once
        memory.context("sailing", k=2)
    assert str(raised.value).count("holds values graphmem did not write") == 1
    with monkeypatch.context() as patched:
        patched.setattr(SearchService, "search", refused)
        with pytest.raises(StorageError, match=named):
            memory.search("sailing", k=2)
    assert memory.check().problems["turns_with_malformed_seq"] == [turn]


def test_an_entity_name_set_to_null_is_named_before_any_turn_is_analysed(memory_factory, caplog):
    """The known names an add analyses its turns against come from the store: a null name made
    every turn's language analysis fail (a traceback logged per turn, each turn flagged) before
    the add failed on it elsewhere. Now reading them raises at once: the add names the damage,
    logs no analysis failure and writes nothing."""
    memory = memory_factory()
    memory.add({"speaker": "Ann", "text": "I visited Paris with Bob last May."}, conversation="c")
    entity = memory.cypher("MATCH (e:Entity {name: 'Bob'}) WHERE e.namespace = $namespace RETURN e.id AS id")[0]["id"]
    memory.cypher("MATCH (e:Entity {name: 'Bob'}) WHERE e.namespace = $namespace SET e.name = null", write=True)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        with pytest.raises(StorageError, match=f"1 entities with malformed name \\({entity}\\)"):
            memory.add({"speaker": "Ann", "text": "Bob and I went to Rome in June."}, conversation="c")
    assert not [r for r in caplog.records if "analysis failed" in r.getMessage()]
    assert len(memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.id AS id")) == 1
    assert memory.check().problems["entities_with_malformed_name"] == [entity]


@pytest.mark.parametrize("damage, problem", [
    ("MATCH (a:Episode {session_key: '1'}), (c:Episode {session_key: '3'}) WHERE a.namespace = $namespace "
     "AND c.namespace = $namespace CREATE (a)-[:NEXT]->(c)", "forked_episode_chain"),
    ("MATCH (a:Episode {session_key: '2'})-[r:NEXT]->(b:Episode {session_key: '3'}), (c:Episode {session_key: '1'}) "
     "WHERE a.namespace = $namespace AND c.namespace = $namespace DELETE r CREATE (b)-[:NEXT]->(c)",
     "episode_next_against_sequence"),
    ("MATCH (a:Episode {session_key: '2'})-[r:NEXT]->(:Episode) WHERE a.namespace = $namespace DELETE r",
     "broken_episode_chain"),
    # a turn in two places at once, or whose own copies of its place disagree with it (a search raised
    # "ids must be unique" on the first, and check saw neither)
    ("MATCH (t:Turn {session_key: '1', index: 0}), (s:Session {key: '2'}) WHERE t.namespace = $namespace "
     "AND s.namespace = $namespace CREATE (t)-[:IN]->(s)", "turns_in_several_sessions"),
    ("MATCH (t:Turn {session_key: '1', index: 0}), (e:Episode {session_key: '2'}) WHERE t.namespace = $namespace "
     "AND e.namespace = $namespace CREATE (t)-[:PART_OF]->(e)", "turns_in_several_episodes"),
    ("MATCH (t:Turn {session_key: '1', index: 0}), (e:Episode {session_key: '2'}) WHERE t.namespace = $namespace "
     "AND e.namespace = $namespace CREATE (t)-[:PART_OF]->(e)", "turns_off_their_episode"),
    ("MATCH (t:Turn {session_key: '2', index: 1}) WHERE t.namespace = $namespace SET t.session_key = '3'",
     "turns_off_their_session"),
    ("MATCH (t:Turn {session_key: '2', index: 1}) WHERE t.namespace = $namespace SET t.index = 0", "turns_off_their_position"),
    ("MATCH (t:Turn {session_key: '2', index: 1}) WHERE t.namespace = $namespace SET t.index = -1", "turns_off_their_position"),
    ("MATCH (e:Event) WHERE e.namespace = $namespace WITH e LIMIT 1 SET e.turn_id = 'turn:0'", "events_off_their_turn"),
    ("MATCH (e:Episode {session_key: '2'}) WHERE e.namespace = $namespace SET e.turn_count = 7",
     "episodes_with_a_wrong_turn_count"),
])
def test_check_sees_damage_to_the_episode_order(tmp_path, damage, problem):
    """The episodes' NEXT chain is checked as the turns' is: a fork, a break, or an edge back in the order;
    and each turn is in one session and one episode, agreeing with its own copies of where it is."""
    with Memory.open(tmp_path / "store", "episodes", settings=settings_for(tmp_path)) as memory:
        for number in (1, 2, 3):
            memory.add([{"speaker": "a", "text": f"session {number} on the subject of sailing boats"},
                        {"speaker": "b", "text": f"session {number} on the subject of kites"}], conversation="c", session=str(number))
        order = memory.cypher("MATCH (a:Episode)-[:NEXT]->(b:Episode) WHERE a.namespace = $namespace "
                              "RETURN a.session_key AS a, b.session_key AS b")
        assert sorted((r["a"], r["b"]) for r in order) == [("1", "2"), ("2", "3")]
        assert memory.check().ok
        memory.cypher(damage, write=True)
        report = memory.check()
        assert not report.ok and report.problems.get(problem), report.summary()


OFF_MAIN = r"""
import asyncio, sys, threading
from graphmem import AsyncMemory, Memory
from graphmem.settings import Settings

settings = Settings(index_dir=sys.argv[2] + "/index", jvm_heap="512m")
if sys.argv[1] == "thread":  # a web framework's worker thread opens the memory first
    def work():
        with Memory.open(sys.argv[2] + "/store", "t", settings=settings) as memory:
            memory.add({"role": "user", "content": "Hello from a worker thread."}, conversation="c")
            print(len(memory.search("worker thread", k=1)))
    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
else:  # AsyncMemory opens the store on its own worker thread
    async def main():
        memory = await AsyncMemory.open(sys.argv[2] + "/store", "a", settings=settings)
        try:
            await memory.add({"role": "user", "content": "Hello from asyncio."}, conversation="c")
            print(len(await memory.search("asyncio", k=1)))
        finally:
            await memory.close()
    asyncio.run(main())
print("done")
"""


@pytest.mark.parametrize("opener", ["thread", "asyncio"])
def test_a_process_whose_memory_was_opened_off_the_main_thread_exits(tmp_path, opener):
    """The thread that starts the embedded store's JVM stayed attached to it after it ended,
    and the JVM's shutdown at exit waited for it forever: a script using AsyncMemory, or a
    web app opening its Memory in a request thread, never exited."""
    process = subprocess.Popen([sys.executable, "-c", OFF_MAIN, opener, str(tmp_path)], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = process.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        pytest.fail(f"the process did not exit after its work (stdout {stdout!r})")
    assert process.returncode == 0, stderr[-2000:]
    assert stdout.split() == ["1", "done"]


def test_async_memory_never_blocks_the_event_loop(tmp_path, embedder):
    async def main() -> tuple[int, list]:
        memory = await AsyncMemory.open(str(tmp_path / "store"), new_namespace(), settings=settings_for(tmp_path))
        ticks = 0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0.005)

        task = asyncio.create_task(ticker())
        try:
            before = ticks
            await memory.add([{"speaker": "Lea", "text": "I planted three apple trees in the orchard."},
                              {"speaker": "Max", "text": "Which variety, Granny Smith?"}], conversation="c")
            hits = await memory.search("apple trees", k=2)
            during = ticks - before
            stats = await memory.stats()
        finally:
            done.set()
            await task
            await memory.close()
        assert stats["nodes"]["Turn"] == 2
        # closed, it refuses as a closed Memory does (it raised RuntimeError from the executor)
        for call in (memory.stats(), memory.search("apple"), memory.add({"speaker": "Lea", "text": "x"}, conversation="c")):
            with pytest.raises(ClosedError, match="closed"):
                await call
        await memory.close()  # idempotent
        return during, hits

    during, hits = asyncio.run(main())
    assert during >= 5  # the loop kept ticking while add and search ran
    assert hits and "apple" in hits[0].text


WARM_OPEN = r"""
import asyncio, json, sys
from graphmem import AsyncMemory
from graphmem.settings import Settings

async def main():
    memory = await AsyncMemory.open(sys.argv[1] + "/store", "a", settings=Settings(jvm_heap="512m"))
    try:
        from graphmem import embed
        from graphmem.extract import vocabulary
        from graphmem.ingest import events
        print(json.dumps({"model": sorted(name for name, _ in embed._MODELS), "pipelines": sorted(map(str, events._PIPELINES)),
                          "words": vocabulary._WORDS is not None, "sklearn": "sklearn.cluster" in sys.modules}))
    finally:
        await memory.close()
asyncio.run(main())
"""


def test_async_memory_open_loads_the_model_and_pipelines_on_its_worker(tmp_path):
    """The first add of an AsyncMemory loaded the embedding model, the language pipeline and
    scikit-learn, holding the GIL while importing: the event loop stalled 337-714 ms in the
    user's first turn. Open (awaited) loads them now, on the worker thread (a fresh process:
    one that loaded them before proves nothing)."""
    done = subprocess.run([sys.executable, "-c", WARM_OPEN, str(tmp_path)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state == {"model": ["all-MiniLM-L6-v2"], "pipelines": ["en_core_web_sm"], "words": True, "sklearn": True}


def test_a_cancelled_open_or_close_of_an_async_memory_still_closes_its_store(tmp_path, embedder):
    """A close cancelled by a timeout (an add still running) cancelled the queued close, blocked the
    loop until the add ended, and left the store open and locked (a second close did nothing; another
    close returned at once); an open cancelled by a timeout left the store it went on to open locked;
    `async with` on a closed AsyncMemory raised nothing."""
    from graphmem.store import embedded

    location, settings = str(tmp_path / "store"), settings_for(tmp_path)

    def held() -> bool:  # the process still holds the store open (and its lock: no other process could open it)
        return any(key.startswith(location) for key in embedded._OPEN)

    messages = [{"speaker": "Lea", "text": f"Note {i} about the apple trees in the orchard."} for i in range(60)]

    async def main() -> None:
        memory = await AsyncMemory.open(location, "a", settings=settings)
        adding = asyncio.create_task(memory.add(messages, conversation="c"))
        await asyncio.sleep(0.05)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(memory.close(), 0.01)
        await asyncio.gather(adding, memory.close(), memory.close())  # every close returns once it is closed
        assert "closed" in repr(memory.memory) and not held()
        with pytest.raises(ClosedError, match="closed"):
            async with memory:
                pass
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(AsyncMemory.open(location, "a", settings=settings), 0.0001)
        for _ in range(200):  # the open goes on on its worker, and its memory is closed when it is done
            if not held():
                break
            await asyncio.sleep(0.05)
        assert not held()

    asyncio.run(main())
    with Memory.open(location, "a", settings=settings) as memory:
        assert len(memory.messages("c", last=100)) == 60 and memory.check().ok

    def close_from_two_threads() -> list[BaseException]:  # (a second close raised RuntimeError: "after shutdown")
        memory = asyncio.run(AsyncMemory.open(location, "a", settings=settings))
        errors: list[BaseException] = []

        def close() -> None:
            try:
                asyncio.run(memory.close())
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)

        threads = [threading.Thread(target=close) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return errors

    for _ in range(8):
        assert close_from_two_threads() == [] and not held()


def test_two_threads_adding_to_one_conversation(memory_factory):
    memory = memory_factory()
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            for i in range(6):
                memory.add({"speaker": name, "text": f"{name} says message {i} about the weather"}, conversation="shared")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("Ann", "Bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    _assert_one_clean_chain(memory, 12)


def _assert_one_clean_chain(memory: Memory, expected: int) -> None:
    rows = memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.seq AS seq, t.text AS text")
    assert len(rows) == expected
    assert len({r["seq"] for r in rows}) == expected, "two turns at one position"
    assert len({r["text"] for r in rows}) == expected, "a message lost or duplicated"
    assert len(_chain(memory)) == expected
    report = memory.check()
    assert report.ok, report.summary()


WRITER = r"""
import sys
from graphmem import Memory, Settings
uri, user, password, database, namespace, name, index_dir = sys.argv[1:8]
settings = Settings(index_dir=index_dir, jvm_heap="512m")
with Memory.open(uri, namespace, settings=settings, auth=(user, password), database=database) as memory:
    for i in range(5):
        memory.add({"speaker": name, "text": f"{name} reports step {i} of the harbour project"}, conversation="shared")
print("ok")
"""


@pytest.mark.bolt
def test_two_processes_adding_over_bolt(bolt_server, tmp_path, embedder):
    namespace = new_namespace("procs")
    processes = [subprocess.Popen([sys.executable, "-c", WRITER, bolt_server.uri, *bolt_server.auth, bolt_server.database,
                                   namespace, name, str(tmp_path / name)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
                 for name in ("Ada", "Kim")]
    outputs = [p.communicate(timeout=600) for p in processes]
    for process, (stdout, stderr) in zip(processes, outputs):
        assert process.returncode == 0, stderr[-2000:]
        assert stdout.strip().endswith("ok")

    with memories(Backend("bolt", bolt_server.uri, bolt_server.auth, bolt_server.database), settings_for(tmp_path)) as factory:
        _assert_one_clean_chain(factory(namespace), 10)


def test_cli_add_one_message_and_jsonl_from_stdin(tmp_path, embedder):
    store = tmp_path / "store"
    env_args = [sys.executable, "-m", "graphmem.cli", "add", "--store", str(store), "-n", "cli", "--conversation", "c"]
    one = subprocess.run([*env_args, "--speaker", "Zoe", "--id", "z1", "--json", "I bought a red bicycle today."],
                         capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr
    assert json.loads(one.stdout)["added"] == 1
    lines = "\n".join(json.dumps(m) for m in [{"role": "user", "content": "It has a basket for groceries.", "id": "z2"},
                                              {"role": "user", "content": "I bought a blue bicycle today.", "id": "z1"}])
    many = subprocess.run([*env_args, "--json", "-"], input=lines, capture_output=True, text=True, timeout=300)
    assert many.returncode == 0, many.stderr
    assert (json.loads(many.stdout)["added"], json.loads(many.stdout)["corrected"]) == (1, 1)
    bad = subprocess.run([*env_args, "-"], input='{"role": "user"}\n', capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "<stdin>:1: missing field" in bad.stderr, bad.stderr
    # read as a file is: a byte-order mark passed over (it was malformed JSON), a byte that is no UTF-8
    # named by its line (it was blamed on a lone surrogate in messages[1].content)
    marked = subprocess.run([*env_args, "--json", "-"], input=b"\xef\xbb\xbf" + json.dumps({"role": "user", "content": "It has a bell."}).encode(),
                            capture_output=True, timeout=300)
    assert marked.returncode == 0 and json.loads(marked.stdout)["added"] == 1, marked.stderr
    latin = subprocess.run([*env_args, "-"], input=b'{"role": "user", "content": "ok"}\n{"role": "user", "content": "caf\xe9"}\n',
                           capture_output=True, timeout=300)
    assert latin.returncode == 2 and b"<stdin>:2: a byte that is no UTF-8 text" in latin.stderr, latin.stderr
    with Memory.open(str(store), "cli", settings=settings_for(tmp_path)) as memory:
        assert [t for t in _chain(memory)] == ["I bought a blue bicycle today.", "It has a basket for groceries.", "It has a bell."]


def test_a_live_memory_with_corrections_moves_whole(tmp_path, embedder):
    """Export a memory built by live adds (with a correction), import it into a fresh store:
    the same turns, the same history, the same hits."""
    settings = settings_for(tmp_path)
    with Memory.open(str(tmp_path / "a"), "live", settings=settings) as source:
        report = source.add([{"speaker": "Ivy", "text": "I keep my kayak at the boathouse on Mill Pond.", "id": "k1"},
                             {"speaker": "Jon", "text": "Do you paddle there on weekends?", "id": "k2"}], conversation="c")
        source.add({"speaker": "Ivy", "text": "I keep my kayak at the boathouse on Otter Lake.", "id": "k1"}, conversation="c")
        dump = tmp_path / "live.jsonl.gz"
        source.export(dump)
        before = [(h.node_id, h.text) for h in source.search("where is the kayak kept", k=2)]
        history = source.history(report.turn_ids[0])
    with Memory.open(str(tmp_path / "b"), "live", settings=settings) as target:
        target.import_dump(dump)
        assert target.history(report.turn_ids[0]) == history
        assert [(h.node_id, h.text) for h in target.search("where is the kayak kept", k=2)] == before
        assert target.check().ok
        # the moved memory takes live adds where the source left off
        more = target.add({"speaker": "Jon", "text": "Otter Lake is calmer in the morning."}, conversation="c")
        assert _chain(target)[-1] == "Otter Lake is calmer in the morning." and more.added == 1


def test_one_add_in_a_new_process_imports_no_topic_fitting(tmp_path, embedder):
    """A process that adds one message (``graphmem add``) assigns it to the kept mixtures with numpy:
    scikit-learn (1 s to import) and sentence-transformers stay unimported, and the message is found."""
    store = tmp_path / "store"
    with Memory.open(str(store), "one", settings=settings_for(tmp_path)) as memory:
        memory.ingest(write_native(tmp_path, TRAVEL))
        assert memory.stats()["topics"], "the ingest fitted topics for the add to be assigned to"
    code = (
        "import sys\n"
        "from graphmem import Memory, Settings\n"
        f"settings = Settings(index_dir={str(tmp_path / 'index')!r}, jvm_heap={settings_for(tmp_path).jvm_heap!r})\n"
        f"with Memory.open({str(store)!r}, 'one', settings=settings) as memory:\n"
        "    added = memory.add([{'speaker': 'Zoe', 'text': 'My new kayak is bright orange.'}], conversation='kayaks')\n"
        "    hits = memory.search('what colour is the kayak', k=1)\n"
        "    print(added.added, hits[0].text, 'sklearn' in sys.modules, 'sentence_transformers' in sys.modules, sep='|')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "1|My new kayak is bright orange.|False|False"


def test_a_correction_that_empties_a_topic_deletes_it(memory_factory):
    """The only member of an event topic was the corrected message's event; the new text has none.
    Before, the Topic stayed without members and check reported it (found by a hypothesis run)."""
    memory = memory_factory()
    memory.add([{"speaker": "Ann", "text": "Lisa moved to Berlin two weekends ago.", "id": "m1"}], conversation="c1")
    memory.recluster()
    assert memory.cypher("MATCH (t:Topic) WHERE t.namespace = $namespace AND t.granularity = 'event' RETURN t.id AS id")
    memory.add([{"speaker": "Ann", "text": "Tea?", "id": "m1"}], conversation="c1")
    report = memory.check()
    assert report.ok, report.problems
    assert not memory.cypher("MATCH (t:Topic) WHERE t.namespace = $namespace AND t.granularity = 'event' RETURN t.id AS id")
    memory.add([{"speaker": "Bo", "text": "Omar sold his bike in Paris."}], conversation="c1")  # the models are read again
    assert memory.check().ok and [h.text for h in memory.search("Omar bike", k=1)] == ["Omar sold his bike in Paris."]


def _unit_vectors_agree_with_their_turns(memory) -> None:
    """Every session's and episode's stored embedding is the (normalised) mean of its turns', and an
    episode's text holds its turns' current texts (grouped here: a collect() grouped by a list-valued
    embedding is not one row per unit on ArcadeDB)."""
    turns = {r["id"]: r for r in memory.cypher(
        "MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.id AS id, t.embedding AS embedding, t.text AS text")}
    for label, link in (("Session", "(t:Turn)-[:IN]->(u:Session)"), ("Episode", "(t:Turn)-[:PART_OF]->(u:Episode)")):
        units = {r["id"]: r for r in memory.cypher(
            f"MATCH (u:{label}) WHERE u.namespace = $namespace RETURN u.id AS id, u.embedding AS embedding, u.text AS text")}
        members: dict[str, list[str]] = {unit: [] for unit in units}
        for r in memory.cypher(f"MATCH {link} WHERE u.namespace = $namespace RETURN u.id AS unit, t.id AS turn"):
            members[r["unit"]].append(r["turn"])
        for unit, row in units.items():
            mean = np.mean([turns[t]["embedding"] for t in members[unit]], axis=0)
            np.testing.assert_allclose(row["embedding"], mean / np.linalg.norm(mean), atol=1e-5, err_msg=unit)
            if label == "Episode":
                assert all(turns[t]["text"] in row["text"] for t in members[unit]), row["text"]


@pytest.mark.parametrize("new_session", [False, True])
def test_one_add_that_corrects_and_appends_derives_both(memory_factory, new_session):
    """An agent sends its recent messages again with one edited and one new: the correction and the
    append land in one transaction. Before, the session (and episode) of the corrected message kept
    the vector computed without the correction, or without the new message, and in another session the
    ANN index kept the old one (check found it inconsistent; found by a random-operation run)."""
    memory = memory_factory()
    memory.add([{"speaker": "Ann", "text": "I adopted a greyhound named Pixel.", "id": "m1"},
                {"speaker": "Bo", "text": "What colour is Pixel?", "id": "m2"}], conversation="c", session="1")
    assert memory.search("greyhound", k=1)  # the caches are loaded before the add
    kwargs = {"session": "2"} if new_session else {}
    report = memory.add([{"speaker": "Ann", "text": "I adopted a tabby cat named Pixel.", "id": "m1"},
                         {"speaker": "Ann", "text": "Next Friday I fly to Tokyo with Sam.", "id": "m3"}], conversation="c", **kwargs)
    assert (report.added, report.corrected) == (1, 1)
    check = memory.check()
    assert check.ok and check.rebuilt == [], check.summary()
    _unit_vectors_agree_with_their_turns(memory)
    assert [h.source_id for h in memory.search("tabby cat Pixel", k=1, unit="turn")] == ["m1"]


def test_a_correction_that_empties_a_turn_topic_deletes_it(memory_factory):
    """Corrected turns are placed in topics again; when every member of a turn topic was corrected
    elsewhere, the topic goes (before, it stayed without members; found by a random-operation run)."""
    memory = memory_factory()
    places = ["Louvre", "Eiffel Tower", "Notre Dame", "Pantheon", "Marais", "Opera", "Montmartre", "Sorbonne",
              "Tuileries", "Orsay", "Bastille", "Arc de Triomphe"]
    doings = ["ran fast", "chased a ball", "barked twice", "slept", "dug a hole", "met a poodle", "drank water",
              "rolled over", "fetched sticks", "jumped high", "wagged happily", "howled"]
    messages = []
    for i, (place, doing) in enumerate(zip(places, doings)):
        messages.append({"speaker": "Ann", "text": f"We walked along the Seine in Paris and saw the {place}.", "id": f"p{i}"})
        messages.append({"speaker": "Bo", "text": f"My greyhound Pixel {doing} at the dog park.", "id": f"d{i}"})
    memory.add(messages, conversation="c1")
    memory.recluster()
    topics = "MATCH (u:Turn)-[:IN_TOPIC]->(t:Topic) WHERE t.namespace = $namespace RETURN DISTINCT t.id AS id"
    dog_topics = {r["id"] for r in memory.cypher("MATCH (u:Turn)-[:IN_TOPIC]->(t:Topic) WHERE t.namespace = $namespace "
                                                 "AND u.source_id STARTS WITH 'd' RETURN DISTINCT t.id AS id")}
    assert len({r["id"] for r in memory.cypher(topics)}) == 2 and len(dog_topics) == 1  # Paris, and the dog
    memory.add([{"speaker": "Bo", "text": f"We took the metro to the {place} in Paris.", "id": f"d{i}"}
                for i, place in enumerate(places)], conversation="c1")  # every dog message, corrected to Paris
    report = memory.check()
    assert report.ok, report.problems
    assert not dog_topics & {r["id"] for r in memory.cypher("MATCH (t:Topic) WHERE t.namespace = $namespace RETURN t.id AS id")}


def test_ingests_and_async_memories_leave_no_java_threads_behind(tmp_path, embedder):
    """A thread that ends while attached to the embedded store's JVM is never detached: its Java
    thread object stays, with the database's per-thread state. An ingest's writer thread and an
    AsyncMemory's worker detach as they end, so ingesting again and again, or opening and
    closing AsyncMemory again and again, leaves the JVM's thread count as it was; closing twice
    is a no-op."""
    import time

    import jpype

    def settled_count() -> int:
        """The JVM's thread count once it holds still (a closed store's threads end a moment
        after it closes; a thread left attached never ends)."""
        count = int(java_threads.getAllStackTraces().size())
        for _ in range(50):
            time.sleep(0.1)
            again = int(java_threads.getAllStackTraces().size())
            if again == count:
                break
            count = again
        return count

    settings = settings_for(tmp_path)
    transcript = tmp_path / "talk.txt"
    with Memory.open(tmp_path / "store", "n", settings=settings) as memory:
        transcript.write_text("Ann: I planted apple trees.\nBob: Which variety?\n", encoding="utf-8")
        memory.ingest(transcript)
        java_threads = jpype.JClass("java.lang.Thread")
        before = settled_count()
        for i in range(4):  # each a conversation of its own, written by the ingest's writer thread
            other = tmp_path / f"talk-{i}.txt"
            other.write_text(f"Ann: round {i}, I planted pear trees.\nBob: How many this time?\n", encoding="utf-8")
            memory.ingest(other)
        after_ingests = settled_count()
    before_async = settled_count()  # the store's own threads ended with it

    async def cycles() -> None:
        for i in range(3):
            memory = await AsyncMemory.open(str(tmp_path / "async-store"), f"a{i}", settings=settings)
            await memory.add({"role": "user", "content": f"Hello number {i}."}, conversation="c")
            await memory.close()
            await memory.close()  # idempotent

    asyncio.run(cycles())
    after_async = settled_count()
    assert after_ingests == before and after_async == before_async, (before, after_ingests, before_async, after_async)


def test_threads_that_end_after_using_the_memory_leave_no_java_threads_behind(tmp_path, embedder):
    """An application that serves each request on a thread of its own (a threading HTTP server)
    uses the memory from threads that then end. Each attached itself to the embedded store's
    JVM, and one that ends attached is never detached: 100 such threads left 100 Java threads
    behind. A thread that used the store now detaches as it ends."""
    import jpype

    with Memory.open(tmp_path / "store", "n", settings=settings_for(tmp_path)) as memory:
        memory.add({"speaker": "Ann", "text": "I planted apple trees in the garden."}, conversation="c")
        assert memory.search("apple trees", k=1)
        java_threads = jpype.JClass("java.lang.Thread")
        errors: list[BaseException] = []

        def request(i: int) -> None:
            try:
                if i % 3 == 0:
                    memory.add({"speaker": "Ann", "text": f"Request {i}: the pear tree has blossoms."}, conversation="c")
                assert memory.search("Which trees did Ann plant?", k=2)
                memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN count(t) AS n")
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        def burst(count: int, start: int) -> None:
            for i in range(start, start + count):
                thread = threading.Thread(target=request, args=(i,))
                thread.start()
                thread.join()

        burst(3, 0)  # the first searches start the read pool (threads that stay)
        before = int(java_threads.getAllStackTraces().size())
        burst(30, 3)
        after = int(java_threads.getAllStackTraces().size())
        assert not errors, errors
        assert memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN count(t) AS n")[0]["n"] == 1 + 11
    assert after == before, (before, after)


def test_one_add_that_opens_sessions_links_their_episodes_in_order(memory_factory):
    """One call whose messages open a new session (a gap in time) chains the episodes of every session it
    writes, as messages sent one call each do: the first session's new last episode leads to the next
    session's first, and nothing forks (check found the chain broken, or forked, when the earlier
    session's episode was only planned in the same call)."""
    day = "2024-03-{:02d}T19:30:00"
    first = [{"role": "user", "content": "I adopted a beagle called Pepper.", "timestamp": day.format(16)},
             {"role": "user", "content": "How old is Pepper now?", "timestamp": day.format(20)},
             {"role": "user", "content": "We repainted the kitchen a pale green.", "timestamp": day.format(25)}]
    later = [{"role": "user", "content": f"Note {i}: the tomato seedlings need water.", "timestamp": f"2024-03-25T20:{i:02d}:00"}
             for i in range(4)] + [{"role": "user", "content": "Booked the ferry to the island.", "timestamp": day.format(29)}]
    batched, streamed = memory_factory(), memory_factory()
    for memory, calls in ((batched, [first, later]), (streamed, [[m] for m in first + later])):
        for call in calls:
            memory.add(call, conversation="c")
        assert memory.check().problems == {}
        chain = memory.cypher("MATCH (e:Episode) WHERE e.namespace = $namespace OPTIONAL MATCH (e)-[:NEXT]->(n:Episode) "
                              "RETURN e.start_seq AS start, n.start_seq AS next ORDER BY start")
        starts = [row["start"] for row in chain]
        assert [row["next"] for row in chain] == [*starts[1:], None]  # one chain, in order
    assert len({row["session"] for row in batched.messages("c")}) == 4


def test_a_file_whose_later_conversation_conflicts_with_the_store_stores_nothing(memory_factory, tmp_path, monkeypatch):
    """A re-ingested file's second conversation moves a stored message: refused. Where the two were
    planned in different waves (a file of more than WAVE_TURNS turns), the first conversation (new)
    was committed before the refusal; now nothing is."""
    from graphmem.ingest import pipeline

    monkeypatch.setattr(pipeline, "WAVE_TURNS", 1)  # each conversation a wave of its own
    memory = memory_factory()
    memory.ingest(write_native(tmp_path, TRAVEL))
    before = memory.stats()["nodes"]
    moved = copy.deepcopy(TRAVEL)
    moved["sessions"][0]["turns"].reverse()
    first = {"id": "fresh-chat", "speakers": ["Ann"], "sessions": [{"id": "1", "turns": [
        {"id": "f1", "speaker": "Ann", "text": "A brand new conversation about quinces."}]}]}
    path = tmp_path / "both.json"
    path.write_text(json.dumps([first, moved]), encoding="utf-8")
    with pytest.raises(InputError, match="conversation 'travel-chat', session '1': message .* would take position"):
        memory.ingest(path)
    assert memory.stats()["nodes"] == before and memory.messages("fresh-chat") == [] and memory.check().ok
