"""search(..., metadata=): only messages whose metadata holds every pair given, in every strategy
and unit, following adds and corrections at once, and in a process that opens the memory anew;
forget(metadata=): one user's messages forgotten from a shared namespace."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from graphmem import InputError, Memory
from graphmem.cli import app

STRATEGIES = ("auto", "dense", "lexical", "activation", "expansion")
UNITS = ("turn", "event", "episode", "session")
QUERY = "What did I say about my trip to Lisbon and the tram?"


def _remember(memory: Memory) -> None:
    memory.add([{"speaker": "user", "text": "My trip to Lisbon was lovely, the old tram 28 was packed.", "id": "a1",
                 "metadata": {"user_id": "u1", "channel": "web", "priority": 2}},
                {"speaker": "assistant", "text": "Tram 28 is famous; did you visit Belem too?", "id": "a2",
                 "metadata": {"user_id": "u1", "channel": "web"}}], conversation="u1-chat")
    memory.add([{"speaker": "user", "text": "I loved Lisbon too, but the tram was too slow for me.", "id": "b1",
                 "metadata": {"user_id": "u2", "channel": "sms", "vip": True}},
                {"speaker": "user", "text": "Lisbon trams and pastel de nata, my favourite trip.", "id": "b2"}],
               conversation="u2-chat")


def _sources(hits) -> set[str]:
    return {h.source_id for h in hits}


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_and_unit_keeps_only_matching_messages(memory_factory, strategy):
    memory = memory_factory()
    _remember(memory)
    assert _sources(memory.search(QUERY, k=10, strategy=strategy, metadata={"user_id": "u1"})) <= {"a1", "a2"}
    hits = memory.search(QUERY, k=10, strategy=strategy, metadata={"user_id": "u1", "priority": 2})
    assert _sources(hits) == {"a1"} and all(h.metadata["user_id"] == "u1" for h in hits)
    assert hits[0].explanation["filter"] == {"metadata": "priority=2, user_id='u1'"}
    for unit in UNITS[1:]:
        found = memory.search(QUERY, k=10, unit=unit, strategy=strategy, metadata={"channel": "sms"})
        assert found and {h.conversation_id for h in found} == {"u2-chat"}, unit


def test_values_match_as_stored_and_follow_corrections(memory_factory):
    memory = memory_factory()
    _remember(memory)
    # a value matches one of its own kind: "2" is not 2, 1 is not True; 2.0 is 2
    assert memory.search(QUERY, k=5, metadata={"priority": "2"}) == []
    assert memory.search(QUERY, k=5, metadata={"vip": 1}) == []
    assert _sources(memory.search(QUERY, k=5, metadata={"vip": True})) == {"b1"}
    assert _sources(memory.search(QUERY, k=5, metadata={"priority": 2.0})) == {"a1"}
    assert memory.search(QUERY, k=5, metadata={"user_id": "u3"}) == []
    assert _sources(memory.search(QUERY, k=5, metadata={})) == {"a1", "a2", "b1", "b2"}  # an empty filter keeps all
    # combined with the other filters, and with exclude
    assert _sources(memory.search(QUERY, k=5, metadata={"user_id": "u1"}, speaker="assistant")) == {"a2"}
    first = memory.search(QUERY, k=5, metadata={"user_id": "u1"})
    assert _sources(memory.search(QUERY, k=5, metadata={"user_id": "u1"}, exclude=first[0].node_id)) == (
        {"a1", "a2"} - {first[0].source_id})

    # a correction that moves a message to another user, and a new message: the next search sees both
    memory.add({"speaker": "user", "text": "Lisbon trams and pastel de nata, my favourite trip.", "id": "b2",
                "metadata": {"user_id": "u1"}}, conversation="u2-chat")
    memory.add({"speaker": "user", "text": "Next time Lisbon by night tram.", "id": "b3", "metadata": {"user_id": "u1"}},
               conversation="u2-chat")
    assert _sources(memory.search(QUERY, k=10, metadata={"user_id": "u1"})) == {"a1", "a2", "b2", "b3"}
    memory.forget(turn=first[0].node_id)
    assert first[0].source_id not in _sources(memory.search(QUERY, k=10, metadata={"user_id": "u1"}))


def test_bad_filters_are_refused_naming_the_key(memory_factory):
    memory = memory_factory()
    _remember(memory)
    for bad, expected in (([("user_id", "u1")], "metadata: expected a mapping"), ({"user_id": None}, r"metadata\.user_id"),
                          ({"tags": ["a"]}, r"metadata\.tags"), ({"score": float("nan")}, r"metadata\.score"),
                          ({"user_id": "\ud800"}, "metadata")):
        with pytest.raises(InputError, match=expected):
            memory.search(QUERY, metadata=bad)


def test_forgetting_one_users_messages(memory_factory):
    memory = memory_factory()
    _remember(memory)
    assert memory.forget(metadata={"user_id": "u3"})["turns"] == 0
    assert memory.forget(metadata={"priority": "2"})["turns"] == 0  # compared as stored: "2" is not 2
    counts = memory.forget(metadata={"user_id": "u1"})
    assert counts["turns"] == 2 and counts["conversations"] == 1  # u1-chat held only u1's messages
    assert _sources(memory.search(QUERY, k=10)) == {"b1", "b2"}
    # criteria combine: u2's messages of another conversation only
    assert memory.forget(conversation="elsewhere", metadata={"user_id": "u2"})["turns"] == 0
    assert memory.forget(conversation="u2-chat", metadata={"vip": True})["turns"] == 1
    assert [m["source_id"] for m in memory.messages("u2-chat")] == ["b2"]
    for bad, expected in (({}, "at least one key"), ({"user_id": None}, r"metadata\.user_id"), (["u1"], "expected a mapping")):
        with pytest.raises(InputError, match=expected):
            memory.forget(metadata=bad)
    assert memory.check().ok


def test_a_memory_opened_anew_filters_from_its_saved_projection_and_the_cli(tmp_path, test_settings):
    store = str(tmp_path / "store")
    with Memory.open(store, "meta", settings=test_settings) as memory:
        _remember(memory)
        before = [h.node_id for h in memory.search(QUERY, k=5, metadata={"channel": "web"})]
    with Memory.open(store, "meta", settings=test_settings) as memory:  # the projection comes from its cache now
        assert [h.node_id for h in memory.search(QUERY, k=5, metadata={"channel": "web"})] == before
    runner = CliRunner()
    shown = runner.invoke(app, ["search", QUERY, "--store", store, "-n", "meta", "--meta", "channel=web", "--meta", "priority=2",
                                "--json"])
    assert shown.exit_code == 0, shown.output
    assert [h["source_id"] for h in json.loads(shown.stdout)] == ["a1"]
    bad = runner.invoke(app, ["search", QUERY, "--store", store, "-n", "meta", "--meta", "tags=[1, 2]"])
    assert bad.exit_code == 2 and "metadata.tags" in bad.output
    forgotten = runner.invoke(app, ["forget", "--meta", "channel=web", "--yes", "--json", "--store", store, "-n", "meta"])
    assert forgotten.exit_code == 0, forgotten.output
    assert json.loads(forgotten.stdout)["turns"] == 2
    empty = runner.invoke(app, ["search", QUERY, "--store", store, "-n", "meta", "--meta", "channel=web", "--json"])
    assert empty.exit_code == 0 and json.loads(empty.stdout) == []
