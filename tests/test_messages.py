"""Reading a conversation back: Memory.messages (and AsyncMemory's, and the CLI's), on the real stores."""

from __future__ import annotations

import asyncio
import json

import pytest
from typer.testing import CliRunner

from graphmem import AsyncMemory, InputError
from graphmem.cli import app


def test_messages_in_order_after_corrections_and_forgets(memory_factory):
    memory = memory_factory()
    first = memory.add([{"speaker": "Ada", "text": "I adopted a beagle.", "id": "m1", "metadata": {"channel": "sms"}},
                        {"speaker": "Bo", "text": "What is the beagle called?", "id": "m2"},
                        {"speaker": "Ada", "text": "Pepper.", "id": "m3", "timestamp": "2024-03-16T19:31:00"}],
                       conversation="chat", session="1", session_started_at="2024-03-16T19:30:00")
    memory.add({"speaker": "Ada", "text": "Pepper ate my slipper.", "caption": "a chewed slipper"}, conversation="chat",
               session="2", session_started_at="2024-03-20T08:00:00")
    memory.add({"speaker": "Ada", "text": "I adopted a beagle puppy.", "id": "m1"}, conversation="chat", session="1")
    memory.add({"speaker": "Cy", "text": "Another chat altogether."}, conversation="other")

    every = memory.messages("chat")
    assert [(m["session"], m["index"], m["speaker"], m["text"], m["version"]) for m in every] == [
        ("1", 0, "Ada", "I adopted a beagle puppy.", 1), ("1", 1, "Bo", "What is the beagle called?", 0),
        ("1", 2, "Ada", "Pepper.", 0), ("2", 0, "Ada", "Pepper ate my slipper.", 0)]
    assert [m["turn_id"] for m in every[:3]] == first.turn_ids
    assert [m["source_id"] for m in every] == ["m1", "m2", "m3", None]
    # a message without a time of its own was said at its session's start
    assert [m["timestamp"] for m in every] == ["2024-03-16T19:30:00", "2024-03-16T19:30:00", "2024-03-16T19:31:00",
                                               "2024-03-20T08:00:00"]
    assert every[0]["metadata"] == {} and every[3]["caption"] == "a chewed slipper"  # the correction sent none
    assert [v["text"] for v in memory.history(every[0]["turn_id"])] == ["I adopted a beagle.", "I adopted a beagle puppy."]

    assert [m["text"] for m in memory.messages("chat", last=2)] == ["Pepper.", "Pepper ate my slipper."]
    assert [m["text"] for m in memory.messages("chat", session="1", last=1)] == ["Pepper."]
    assert memory.messages("chat", session="9") == [] and memory.messages("nowhere") == []
    # a chat view pages back from the first message it shows
    assert [m["text"] for m in memory.messages("chat", last=2, before=every[3]["turn_id"])] == [
        "What is the beagle called?", "Pepper."]
    assert memory.messages("chat", before=every[0]["turn_id"]) == []
    other = memory.messages("other")[0]["turn_id"]
    for before in ("turn:unknown", other):
        with pytest.raises(InputError, match=r"before: no turn .* in conversation 'chat'"):
            memory.messages("chat", before=before)
    for bad, expected in (({"conversation": " "}, "conversation"), ({"conversation": "chat", "last": 0}, "last"),
                          ({"conversation": "chat", "last": True}, "last"), ({"conversation": "chat", "session": ""}, "session")):
        with pytest.raises(InputError, match=expected):
            memory.messages(**bad)

    memory.forget(turn=every[1]["turn_id"])
    assert [m["text"] for m in memory.messages("chat", session="1")] == ["I adopted a beagle puppy.", "Pepper."]


def test_async_memory_and_the_cli_read_the_same(tmp_path, test_settings):
    store = str(tmp_path / "store")

    async def main() -> list[dict]:
        memory = await AsyncMemory.open(store, "cli-messages", settings=test_settings)
        try:
            await memory.add([{"speaker": "Ada", "text": f"Line {i}.", "id": f"l{i}"} for i in range(3)], conversation="c")
            return await memory.messages("c", last=2)
        finally:
            await memory.close()

    read = asyncio.run(main())
    assert [m["text"] for m in read] == ["Line 1.", "Line 2."]
    runner = CliRunner()
    shown = runner.invoke(app, ["messages", "-c", "c", "--last", "2", "--store", store, "-n", "cli-messages", "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout) == read
    older = runner.invoke(app, ["messages", "-c", "c", "--before", read[0]["turn_id"], "--store", store, "-n", "cli-messages",
                                "--json"])
    assert older.exit_code == 0 and [m["text"] for m in json.loads(older.stdout)] == ["Line 0."]
    table = runner.invoke(app, ["messages", "-c", "c", "--store", store, "-n", "cli-messages"])
    assert table.exit_code == 0 and "Line 0." in table.stdout and read[0]["turn_id"][:12] in table.stdout
    none = runner.invoke(app, ["messages", "-c", "nowhere", "--store", store, "-n", "cli-messages"])
    assert none.exit_code == 0 and "no messages in conversation 'nowhere'" in none.output


def test_a_call_that_says_when_its_session_started_dates_its_messages_without_a_session_key(memory_factory):
    """add(session_started_at=...) without a session key: the session it opens starts then and its
    undated messages were said then (before, the session had no start and the messages no time);
    a call whose start is more than the session gap after the last message opens another."""
    memory = memory_factory()
    memory.add({"speaker": "Ada", "text": "We should plan the weekend in Lisbon."}, conversation="trip",
               session_started_at="2024-05-02T08:00:00")
    memory.add({"speaker": "Bo", "text": "Book the tram tour first."}, conversation="trip", session_started_at="2024-05-02T09:00:00")
    memory.add({"speaker": "Ada", "text": "A week later: we are back."}, conversation="trip",
               session_started_at="2024-05-09T09:00:00")
    assert [(m["session"], m["timestamp"]) for m in memory.messages("trip")] == [
        ("1", "2024-05-02T08:00:00"), ("1", "2024-05-02T08:00:00"), ("2", "2024-05-09T09:00:00")]
    assert memory.search("tram tour", k=1, time_range=("2024-05-02", "2024-05-03"))[0].text == "Book the tram tour first."
