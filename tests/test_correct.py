"""Memory.correct: a stored message corrected by its turn id (messages stored without an id of
the caller's, and tools that hold only what search returned), on the real stores; AsyncMemory's
and the CLI's."""

from __future__ import annotations

import asyncio
import json

import pytest
from typer.testing import CliRunner

from graphmem import AsyncMemory, InputError
from graphmem.cli import app


def test_a_message_without_an_id_is_corrected_by_its_turn_id(memory_factory):
    memory = memory_factory()
    added = memory.add([{"speaker": "Ada", "text": "I adopted a beagle named Pepper."},
                        {"speaker": "Bo", "text": "Lovely, how old is she?"}], conversation="chat", session="1",
                       session_started_at="2024-03-16T19:30:00")
    turn = added.turn_ids[0]
    report = memory.correct(turn, "I adopted a corgi named Pepper.")
    assert (report.corrected, report.added, report.turn_ids, report.conversation) == (1, 0, [turn], "chat")
    hits = memory.search("Which breed of dog did Ada adopt?", k=1)
    assert hits[0].node_id == turn and hits[0].text == "I adopted a corgi named Pepper."
    assert all("beagle" not in h.text for h in memory.search("beagle", k=5))
    assert [v["text"] for v in memory.history(turn)] == ["I adopted a beagle named Pepper.", "I adopted a corgi named Pepper."]
    first = memory.messages("chat")[0]
    assert (first["turn_id"], first["version"], first["timestamp"]) == (turn, 1, "2024-03-16T19:30:00")  # its time stays

    # the same text again changes nothing; metadata, caption and speaker alone are corrections too
    again = memory.correct(turn, "I adopted a corgi named Pepper.")
    assert (again.corrected, again.unchanged, again.turn_ids) == (0, 1, [turn]) and len(memory.history(turn)) == 2
    memory.correct(turn, metadata={"user_id": "u1"}, caption="a corgi puppy")
    assert memory.messages("chat")[0]["metadata"] == {"user_id": "u1"}
    assert [h.node_id for h in memory.search("Pepper", k=3, metadata={"user_id": "u1"})] == [turn]
    memory.correct(turn, caption="", metadata={})
    assert (memory.messages("chat")[0]["caption"], memory.messages("chat")[0]["metadata"]) == (None, {})
    memory.correct(added.turn_ids[1], speaker="Cy")
    assert memory.messages("chat")[1]["speaker"] == "Cy"
    assert "Cy" in memory.cypher("MATCH (c:Conversation) WHERE c.namespace = $namespace RETURN c.speakers AS s")[0]["s"]
    assert memory.check().ok


def test_a_correction_that_still_says_an_alias_keeps_it(memory_factory):
    """The correction's old events were the alias's only uses as the plan read them, and the guard of
    the delete looked at direct mentions alone: "Mel", still said by the new text, was deleted (entity
    and ALIAS_OF edge), so entity("Mel") answered None though an event still named Melanie by it."""
    memory = memory_factory()
    added = memory.add([{"speaker": "Caroline", "text": "I went to Denver with Mel and Bill.", "id": "x1"},
                        {"speaker": "Melanie", "text": "Denver was great.", "id": "x2"}], conversation="c1", session="1")
    assert memory.entity("Mel")["name"] == "Melanie"
    memory.correct(added.turn_ids[0], "I went to Denver with Mel and Jonathan.")
    assert memory.entity("Mel")["name"] == "Melanie"
    assert {"a": "mel", "c": "melanie"} in memory.cypher(
        "MATCH (a:Entity)-[:ALIAS_OF]->(c:Entity) WHERE a.namespace = $namespace RETURN a.key AS a, c.key AS c")
    assert memory.check().ok
    memory.correct(added.turn_ids[0], "I went to Denver with Jonathan.")  # now no text says it: it goes
    assert memory.cypher("MATCH (a:Entity {key: 'mel'}) WHERE a.namespace = $namespace RETURN a.id AS id") == []
    assert memory.entity("Mel")["aliases"] == [] and memory.check().ok  # (looked up as a short form still)


def test_a_correction_that_gives_another_time_moves_its_episode_and_session(memory_factory):
    """The turn and its event moved to the new time, but its episode kept the old span and its
    session the old start: a time filter on episodes or sessions found nothing on the new day."""
    memory = memory_factory()
    memory.add({"speaker": "Ana", "text": "We planted the apple trees in the orchard.", "id": "m1",
                "timestamp": "2024-03-16T10:00:00"}, conversation="farm", session="s1")
    memory.add({"speaker": "Ana", "text": "We planted the apple trees in the orchard behind the barn.", "id": "m1",
                "timestamp": "2024-04-15T18:00:00"}, conversation="farm", session="s1")
    day = ("2024-04-15", "2024-04-15")
    for unit in ("turn", "event", "episode", "session"):
        hits = memory.search("apple trees", k=1, unit=unit, time_range=day)
        assert hits and "behind the barn" in hits[0].text, unit
        assert not memory.search("apple trees", k=1, unit=unit, time_range=("2024-03-16", "2024-03-16")), unit
    episode = memory.cypher("MATCH (e:Episode) WHERE e.namespace = $namespace RETURN e.started_at AS s, e.ended_at AS e")
    assert episode == [{"s": "2024-04-15T18:00:00", "e": "2024-04-15T18:00:00"}]
    assert memory.check().ok


def test_a_batch_ingested_turn_is_corrected_and_bad_calls_store_nothing(memory_factory, conversation_file):
    memory = memory_factory()
    memory.ingest(conversation_file)
    biscuit = memory.search("What kind of cat did Maya adopt?", k=1)[0]
    memory.correct(biscuit.node_id, "Yes! My new cat is a grey British shorthair called Biscuit.")
    assert "British shorthair" in memory.search("What kind of cat did Maya adopt?", k=1)[0].text
    assert memory.check().ok

    other = memory_factory()  # another namespace's turn is no turn of this one
    for call, expected in ((lambda: other.correct(biscuit.node_id, "x"), "no turn"),
                           (lambda: memory.correct("turn:unknown", "x"), "no turn"),
                           (lambda: memory.correct(biscuit.node_id), "nothing to change"),
                           (lambda: memory.correct(biscuit.node_id, "  "), "text: empty"),
                           (lambda: memory.correct(biscuit.node_id, speaker=""), "speaker"),
                           (lambda: memory.correct(biscuit.node_id, metadata={"tags": [1]}), r"metadata\.tags"),
                           (lambda: memory.correct("", "x"), "turn_id")):
        with pytest.raises(InputError, match=expected):
            call()
    assert len(memory.history(biscuit.node_id)) == 2


def test_async_memory_and_the_cli_correct(tmp_path, test_settings):
    store = str(tmp_path / "store")

    async def main() -> str:
        memory = await AsyncMemory.open(store, "cli-correct", settings=test_settings)
        try:
            added = await memory.add({"speaker": "Ada", "text": "The meeting is on Monday."}, conversation="c")
            report = await memory.correct(added.turn_ids[0], "The meeting is on Tuesday.")
            assert report.corrected == 1
            return added.turn_ids[0]
        finally:
            await memory.close()

    turn = asyncio.run(main())
    runner = CliRunner()
    where = ["--store", store, "-n", "cli-correct"]
    fixed = runner.invoke(app, ["correct", turn, "The meeting is on Wednesday.", "--meta", "by=ada", "--json", *where])
    assert fixed.exit_code == 0, fixed.output
    assert json.loads(fixed.stdout)["corrected"] == 1
    shown = runner.invoke(app, ["history", turn, "--json", *where])
    assert shown.exit_code == 0, shown.output
    versions = json.loads(shown.stdout)
    assert [v["text"] for v in versions] == ["The meeting is on Monday.", "The meeting is on Tuesday.", "The meeting is on Wednesday."]
    assert versions[-1]["metadata"] == {"by": "ada"} and versions[-1]["current"]
    table = runner.invoke(app, ["history", turn, *where])
    assert table.exit_code == 0 and "Wednesday" in table.stdout and "(current)" in table.stdout
    missing = runner.invoke(app, ["correct", "turn:nope", "x", *where])
    assert missing.exit_code == 2 and "no turn 'turn:nope'" in missing.output


def test_metadata_compares_by_kind_and_a_null_value_is_no_value(memory_factory):
    """A correction from 1 to True (or True to 1) is one (it was dropped as unchanged, though a
    metadata filter tells them apart), 2 to 2.0 is not (the stores hold them as one value), and a
    message sent again with a None value, which is not stored, is unchanged (every retry made a
    version)."""
    memory = memory_factory()
    turn = memory.add({"role": "user", "content": "Hello there Bob.", "id": "m1", "metadata": {"k": 1}},
                      conversation="c").turn_ids[0]
    report = memory.correct(turn, metadata={"k": True})
    assert (report.corrected, report.unchanged) == (1, 0)
    assert memory.messages("c")[0]["metadata"] == {"k": True}
    assert [h.node_id for h in memory.search("hello Bob", metadata={"k": True})] == [turn]
    assert memory.correct(turn, metadata={"k": 1}).corrected == 1
    assert memory.correct(turn, metadata={"k": 1.0}).unchanged == 1
    for _ in range(2):
        again = memory.add({"role": "user", "content": "Hello there Bob.", "id": "m1", "metadata": {"k": 1, "z": None}},
                           conversation="c")
        assert (again.corrected, again.unchanged) == (0, 1)
    assert [v["metadata"] for v in memory.history(turn)] == [{"k": 1}, {"k": True}, {"k": 1}]


@pytest.mark.parametrize("damage, problem", [
    ("MATCH (v:TurnVersion)-[r:VERSION_OF]->() WHERE v.namespace = $namespace DELETE r", "versions_without_their_turn"),
    ("MATCH (v:TurnVersion) WHERE v.namespace = $namespace SET v.turn_id = 'turn:0'", "versions_without_their_turn"),
    ("MATCH (t:Turn) WHERE t.namespace = $namespace AND t.version IS NOT NULL SET t.version = 7", "turns_with_a_wrong_version"),
    # a corrected turn without its version number: the next correction wrote a second version 0
    ("MATCH (t:Turn) WHERE t.namespace = $namespace AND t.version IS NOT NULL REMOVE t.version", "turns_missing_their_version"),
    ("MATCH (v:TurnVersion {version: 1}) WHERE v.namespace = $namespace SET v.version = 0", "versions_sharing_a_number"),
])
def test_check_sees_a_history_that_lost_its_turn(memory_factory, damage, problem):
    """An earlier text not joined to its turn (history leaves it out) or a version number that is not
    the count of earlier texts: check names them."""
    memory = memory_factory()
    turn = memory.add({"role": "user", "content": "Ten weeks old.", "id": "m1"}, conversation="c").turn_ids[0]
    memory.correct(turn, "Eleven weeks old.")
    memory.correct(turn, "Twelve weeks old.")
    assert memory.check().ok and memory.history(turn)[-1]["version"] == 2
    memory.cypher(damage, write=True)
    assert memory.check().problems.get(problem), memory.check().summary()
