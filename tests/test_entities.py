"""What the memory knows about an entity: Memory.entity and Memory.entities (and AsyncMemory's,
and the CLI's), read from the real stores at the call."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import settings_for
from graphmem import AsyncMemory, InputError, Memory
from graphmem.cli import app

CHAT = [{"speaker": "Caroline", "text": "Hey Mel! I went hiking at the Grand Canyon with Oscar last weekend.", "id": "c1"},
        {"speaker": "Melanie", "text": "Wow Caroline, how was it?", "id": "c2"},
        {"speaker": "Caroline", "text": "Oscar loved it. We read Becoming Nicole on the trail.", "id": "c3"}]


def _remember(memory) -> None:
    memory.add(CHAT, conversation="chat", session="1", session_started_at="2024-03-16T19:30:00")
    memory.add({"speaker": "Melanie", "text": "Did Oscar go back to the Grand Canyon?", "id": "c4"}, conversation="chat",
               session="2", session_started_at="2024-04-02T10:00:00")
    memory.add({"speaker": "Jon", "text": "I opened a dance studio in Paris.", "timestamp": "2024-05-01T09:15:00"},
               conversation="other")


def test_an_entitys_profile_follows_corrections_and_forgets(memory_factory):
    memory = memory_factory()
    _remember(memory)

    oscar = memory.entity("Oscar")
    assert (oscar["name"], oscar["label"], oscar["key"], oscar["aliases"]) == ("Oscar", "PERSON", "oscar", [])
    assert oscar["turns"] == {"mention": 3} and oscar["conversations"] == ["chat"]
    # a message without a time of its own was said at its session's start
    assert (oscar["first_seen"], oscar["last_seen"]) == ("2024-03-16T19:30:00", "2024-04-02T10:00:00")
    assert [m["text"] for m in oscar["mentions"]] == [CHAT[0]["text"], CHAT[2]["text"], "Did Oscar go back to the Grand Canyon?"]
    assert [m["source_id"] for m in oscar["mentions"]] == ["c1", "c3", "c4"]
    assert {"name": "Grand Canyon", "label": "LOC", "events": 2} in oscar["related"]
    # the latest mentions, oldest first; a bound on the related entities
    latest = memory.entity("oscar", mentions=1, related=1)
    assert [m["source_id"] for m in latest["mentions"]] == ["c4"] and len(latest["related"]) == 1
    assert memory.entity("Oscar", mentions=0, related=0)["mentions"] == []

    # any spelling filed under the same key, and an alias, find the canonical entity
    assert memory.entity("the grand canyon")["name"] == "Grand Canyon"
    melanie = memory.entity("Mel")
    assert melanie["name"] == "Melanie" and melanie["aliases"] == [{"name": "Mel", "reason": "nickname"}]
    assert memory.entity("Melanie's")["key"] == "melanie"
    assert set(melanie["turns"]) == {"speaker", "addressee"}
    assert memory.entity("Paris")["mentions"][0]["timestamp"] == "2024-05-01T09:15:00"
    assert memory.entity("Zanzibar") is None

    listed = memory.entities()
    assert [row["name"] for row in listed][:1] == ["Oscar"]  # the most events first
    assert {"name": "Melanie", "label": "PERSON", "events": 2, "mentions": 0, "aliases": ["Mel"]} in listed
    assert "Mel" not in [row["name"] for row in listed]  # an alias is listed under its canonical entity
    assert [row["name"] for row in memory.entities(label="gpe")] == ["Paris"]
    assert len(memory.entities(limit=2)) == 2

    # a correction that no longer names Oscar and the Grand Canyon takes its mentions away at once
    memory.add({"speaker": "Melanie", "text": "Did you go back there?", "id": "c4"}, conversation="chat", session="2")
    assert [m["source_id"] for m in memory.entity("Oscar")["mentions"]] == ["c1", "c3"]
    assert memory.entity("Grand Canyon")["turns"] == {"mention": 1}
    memory.forget(conversation="other")
    assert memory.entity("Paris") is None and memory.entities(label="GPE") == []


def test_a_name_is_looked_up_as_ingestion_would_file_it(memory_factory):
    """entity("Sao Paulo") and entity("Mel") answered None though a message saying either is filed
    under São Paulo and Melanie; a lower-case word is no short form ("car" is not Caroline)."""
    memory = memory_factory()
    memory.add([{"speaker": "Melanie", "text": "I flew to São Paulo last spring with Caroline."},
                {"speaker": "Caroline", "text": "The food there was wonderful."}], conversation="c")
    assert memory.entity("Sao Paulo")["name"] == "São Paulo"
    assert memory.entity("Mel")["name"] == "Melanie" and memory.entity("Caro")["name"] == "Caroline"
    assert memory.entity("car") is None and memory.entity("Nobody") is None
    assert memory.cypher("MATCH (n:Entity) WHERE n.namespace = $namespace AND n.key IN ['mel', 'caro', 'sao paulo'] "
                         "RETURN count(n) AS n") == [{"n": 0}]  # a lookup writes nothing


def test_bad_arguments_name_themselves(memory_factory):
    memory = memory_factory()
    for call, expected in ((lambda: memory.entity(""), "name: expected"), (lambda: memory.entity("..."), "no letters or digits"),
                           (lambda: memory.entity(7), "name: expected"), (lambda: memory.entity("Oscar", mentions=-1), "mentions"),
                           (lambda: memory.entity("Oscar", related=1001), "related"),
                           (lambda: memory.entity("Oscar", mentions=True), "mentions"),
                           (lambda: memory.entities(label="city"), "label"), (lambda: memory.entities(limit=0), "limit")):
        with pytest.raises(InputError, match=expected):
            call()
    assert memory.entities() == [] and memory.entity("Oscar") is None  # a memory with nothing in it


def test_async_memory_and_the_cli_read_the_same(tmp_path, test_settings):
    store = str(tmp_path / "store")

    async def main() -> tuple[dict, list]:
        memory = await AsyncMemory.open(store, "cli-entities", settings=test_settings)
        try:
            await memory.add(CHAT, conversation="chat", session="1", session_started_at="2024-03-16T19:30:00")
            return await memory.entity("Oscar"), await memory.entities()
        finally:
            await memory.close()

    profile, listed = asyncio.run(main())
    runner = CliRunner()
    where = ["--store", store, "-n", "cli-entities"]
    shown = runner.invoke(app, ["entity", "oscar", "--json", *where])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout) == profile
    text = runner.invoke(app, ["entity", "Mel", "--mentions", "1", *where])
    assert text.exit_code == 0 and text.stdout.startswith("Melanie (PERSON)") and "Mel (nickname)" in text.stdout
    table = runner.invoke(app, ["entities", *where])
    assert table.exit_code == 0 and all(row["name"] in table.stdout for row in listed)
    assert json.loads(runner.invoke(app, ["entities", "--json", "--label", "PERSON", *where]).stdout) == [
        row for row in listed if row["label"] == "PERSON"]
    missing = runner.invoke(app, ["entity", "Zanzibar", *where])
    assert missing.exit_code == 1 and "no entity named 'Zanzibar'" in missing.output
    bad = runner.invoke(app, ["entities", "--label", "city", *where])
    assert bad.exit_code == 2 and "label" in bad.output


def test_times_are_shown_in_the_users_time_zone(tmp_path, test_settings):
    from dataclasses import replace

    with Memory.open(str(tmp_path / "store"), "tz-entities", settings=replace(test_settings, timezone="America/New_York")) as memory:
        memory.add({"speaker": "Jon", "text": "I opened a dance studio in Paris.", "timestamp": "2024-05-01T21:30:00"},
                   conversation="other")  # no offset: read in New York (01:30 the next day in UTC)
        paris = memory.entity("Paris")
        assert paris["first_seen"] == paris["last_seen"] == paris["mentions"][0]["timestamp"] == "2024-05-01T21:30:00-04:00"
        stored = memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.timestamp AS at")
        assert stored == [{"at": "2024-05-02T01:30:00"}]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, embedder):
    directory = tmp_path_factory.mktemp("entities-fuzz")
    with Memory.open(str(directory / "store"), "fuzz", settings=settings_for(directory)) as memory:
        memory.add(CHAT, conversation="chat", session="1", session_started_at="2024-03-16T19:30:00")
        yield memory


SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(name=st.text(max_size=40), mentions=st.integers(-2, 1002), key=st.text(max_size=10), value=SCALARS)
def test_any_name_count_or_filter_gives_an_answer_or_an_input_error(seeded, name, mentions, key, value):
    """No text makes entity(), recall() or a metadata filter fail otherwise: a profile or None, a
    text, hits; or an InputError naming what is wrong."""
    for call in (lambda: seeded.entity(name, mentions=mentions), lambda: seeded.entities(label=name or None),
                 lambda: seeded.recall("chat", name or None, recent=2, k=2),
                 lambda: seeded.search("Oscar", k=2, metadata={key: value}),
                 lambda: seeded.correct("turn:" + name, name or None, metadata={key: value})):
        try:
            answer = call()
        except InputError:
            continue
        assert answer is None or isinstance(answer, (dict, list, str)) or hasattr(answer, "corrected")


def test_a_store_keyed_by_an_earlier_graphmem_keeps_one_entity_per_name(tmp_path, embedder):
    """Before a combining mark stayed in its word (ae1b03c), "İlker Yılmaz" was keyed "i lker yılmaz"
    and "İstanbul" "i stanbul". On such a store the next message of İlker made a second PERSON
    "İlker Yılmaz" (the speaker keyed anew) holding his new events, and "İstanbul" an alias of itself."""
    from graphmem.ids import node_id

    location = tmp_path / "store"
    with Memory.open(location, "turkish", settings=settings_for(tmp_path)) as memory:
        memory.add({"speaker": "İlker Yılmaz", "text": "I live in İstanbul near the Bosphorus.", "id": "t1",
                    "timestamp": "2024-05-01T10:00:00"}, conversation="chat")
        for now, before in (("ilker yılmaz", "i lker yılmaz"), ("istanbul", "i stanbul")):  # as the earlier one keyed them
            assert memory.cypher("MATCH (e:Entity {id: $id}) SET e.id = $old_id, e.key = $old_key RETURN e.id AS id",
                                 {"id": node_id("turkish", "entity", now), "old_id": node_id("turkish", "entity", before),
                                  "old_key": before}, write=True)
    with Memory.open(location, "turkish", settings=settings_for(tmp_path)) as memory:
        memory.add({"speaker": "İlker Yılmaz", "text": "The ferry across İstanbul was late again.", "id": "t2",
                    "timestamp": "2024-05-02T10:00:00"}, conversation="chat")
        named = {(e["name"], e["label"]): e for e in memory.entities(limit=50)}
        assert len([e for e in memory.entities(limit=50) if e["name"] == "İlker Yılmaz"]) == 1, named
        assert named[("İlker Yılmaz", "PERSON")]["events"] == 2 and named[("İstanbul", "GPE")]["aliases"] == []
        profile = memory.entity("İlker Yılmaz")
        assert profile["key"] == "i lker yılmaz" and profile["turns"] == {"speaker": 2}
        assert memory.entity("İstanbul")["turns"] == {"mention": 2}
        assert memory.check().ok
