"""Memory.recall: a conversation's recent messages and the memories recalled for its latest one (or
a query), none of them in the recent window, in one prompt-ready text; AsyncMemory's and the CLI's."""

from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner

from graphmem import AsyncMemory, InputError
from graphmem.cli import app


def _remember(memory) -> None:
    memory.add([{"speaker": "Ada", "text": "I adopted a corgi called Pepper last spring."},
                {"speaker": "Bo", "text": "Pepper is a lovely name for a corgi."}], conversation="pets",
               session_started_at="2024-03-16T19:30:00")
    memory.add([{"speaker": "Ada", "text": "We should plan the weekend in Lisbon.", "metadata": {"topic": "travel"}},
                {"speaker": "Bo", "text": "Book the tram tour first."},
                {"speaker": "Ada", "text": "Can Pepper the corgi come along to Lisbon?"}], conversation="trip",
               session_started_at="2024-05-02T08:00:00")


def test_recall_gives_the_window_then_memories_outside_it(memory_factory):
    memory = memory_factory()
    _remember(memory)
    text = memory.recall("trip", recent=2, k=2)
    window, recalled = text.split("\n\n")
    assert window.splitlines() == ["Recent messages of conversation trip (the last 2, oldest first):",
                                   "[2024-05-02 08:00 · Bo] Book the tram tour first.",
                                   "[2024-05-02 08:00 · Ada] Can Pepper the corgi come along to Lisbon?"]
    # the latest message is the query; what the window shows is never recalled again
    assert recalled.splitlines()[0] == "Memories relevant to: Can Pepper the corgi come along to Lisbon?"
    assert "I adopted a corgi called Pepper last spring." in recalled
    assert "Book the tram tour" not in recalled and "come along to Lisbon" not in recalled.split("\n", 1)[1]
    assert recalled == memory.context("Can Pepper the corgi come along to Lisbon?", k=2,
                                      exclude=[m["turn_id"] for m in memory.messages("trip", last=2)])
    # a query of one's own, no window, and search's arguments passed on
    only = memory.recall("trip", "weekend plans", recent=0, k=3, metadata={"topic": "travel"})
    assert only.startswith("Memories relevant to: weekend plans") and "We should plan the weekend in Lisbon." in only
    assert "(1 memory," in only
    assert memory.recall("nowhere", "corgi", k=1).startswith("Recent messages of conversation nowhere: none yet\n\n")
    # no window and no query: the latest message is the query, and is not recalled itself (it failed,
    # saying the conversation had no message)
    latest = memory.recall("trip", recent=0, k=3)
    assert latest.splitlines()[0] == "Memories relevant to: Can Pepper the corgi come along to Lisbon?"
    assert "I adopted a corgi called Pepper last spring." in latest and "come along to Lisbon" not in latest.split("\n", 1)[1]


def test_bad_recalls_are_refused_naming_the_argument(memory_factory):
    memory = memory_factory()
    _remember(memory)
    for call, expected in ((lambda: memory.recall(""), "conversation"), (lambda: memory.recall("trip", recent=-1), "recent"),
                           (lambda: memory.recall("trip", recent=True), "recent"), (lambda: memory.recall("trip", "  "), "query"),
                           (lambda: memory.recall("nowhere"), "no message to take it from"),
                           (lambda: memory.recall("trip", k=0), "k must be"),
                           (lambda: memory.recall("trip", max_chars=0), "max_chars")):
        with pytest.raises(InputError, match=expected):
            call()


def test_async_memory_and_the_cli_recall_the_same(tmp_path, test_settings):
    store = str(tmp_path / "store")

    async def main() -> str:
        memory = await AsyncMemory.open(store, "cli-recall", settings=test_settings)
        try:
            _remember_async = [memory.add([{"speaker": "Ada", "text": "I adopted a corgi called Pepper last spring."}],
                                          conversation="pets", session_started_at="2024-03-16T19:30:00")]
            await asyncio.gather(*_remember_async)
            await memory.add({"speaker": "Ada", "text": "Can Pepper come to Lisbon?"}, conversation="trip",
                             session_started_at="2024-05-02T08:00:00")
            return await memory.recall("trip", k=1)
        finally:
            await memory.close()

    text = asyncio.run(main())
    assert "I adopted a corgi called Pepper last spring." in text
    shown = CliRunner().invoke(app, ["recall", "-c", "trip", "-k", "1", "--store", store, "-n", "cli-recall"])
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.strip() == text
    bad = CliRunner().invoke(app, ["recall", "-c", "nowhere", "--store", store, "-n", "cli-recall"])
    assert bad.exit_code == 2 and "no message to take it from" in bad.output
