"""Forgetting (issue 8): Memory.forget and `graphmem forget` remove the chosen turns and
everything derived only from them, in one transaction, keep what is shared, leave no orphan,
and a forgotten fact never comes back from search, whatever the strategy or unit."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from conftest import new_namespace, settings_for
from hypothesis import HealthCheck, given, settings, strategies as st
from samples import GARDEN, write_native
from typer.testing import CliRunner

from graphmem import InputError, Memory, StorageError
from graphmem.cli import app
from graphmem.hits import UNITS
from graphmem.memory import STRATEGIES

SESSION_2_WORDS = ("slug", "copper", "clara", "lyon", "ovation")
SESSION_2_QUERIES = ("What ate Alice's basil seedlings?", "copper tape around the beds keeps slugs away",
                     "Who is visiting from Lyon next month?", "standing ovation at the recital")


def texts_in_namespace(memory: Memory) -> str:
    """Every text-bearing property of every node of the namespace, lower-cased, in one string."""
    rows = memory.cypher("MATCH (n) WHERE n.namespace = $namespace RETURN n.text AS text, n.preview AS preview, "
                         "n.name AS name, n.key AS key, n.label AS label, n.terms AS terms")
    return json.dumps(rows, ensure_ascii=False).lower()


def assert_never_found(memory: Memory, queries, words) -> None:
    """No strategy, at no unit, returns a hit whose text holds a forgotten word."""
    for strategy in STRATEGIES:
        for unit in UNITS:
            for query in queries:
                for hit in memory.search(query, k=10, unit=unit, strategy=strategy):
                    assert not any(w in hit.text.lower() for w in words), (strategy, unit, query, hit.text)
                    assert not (hit.source_id or "").startswith("G2:"), (strategy, unit, hit.source_id)


def entity_keys(memory: Memory) -> set[str]:
    return {r["key"] for r in memory.cypher("MATCH (n:Entity) WHERE n.namespace = $namespace RETURN n.key AS key")}


def test_forget_a_session_removes_what_it_alone_gave_and_keeps_what_is_shared(memory_factory, tmp_path):
    memory = memory_factory()
    source = write_native(tmp_path)
    memory.ingest(source)
    before = memory.stats()
    assert_found = [h.source_id for h in memory.search("copper tape keeps slugs away", k=3)]
    assert "G2:3" in assert_found

    counts = memory.forget(conversation="garden-chat", session="2")
    assert {k: counts[k] for k in ("turns", "sessions", "conversations")} == {"turns": 4, "sessions": 1, "conversations": 0}
    assert counts["events"] >= 4 and counts["entities"] >= 2
    after = memory.stats()
    assert after["nodes"]["Turn"] == 6 and after["nodes"]["Session"] == 1 and after["nodes"]["Conversation"] == 1
    assert after["nodes"]["Entity"] == before["nodes"]["Entity"] - counts["entities"]
    keys = entity_keys(memory)
    # entities are named things (key phrases such as "copper tape" are not): Partita and Chaconne
    # are still referenced by session 1, Clara and Lyon only by session 2, the speakers by both
    assert {"alice", "ben", "partita", "chaconne"} <= keys
    assert not {"clara", "lyon"} & keys
    report = memory.check()
    assert report.ok, report.to_dict()
    assert not any(w in texts_in_namespace(memory) for w in SESSION_2_WORDS)
    assert_never_found(memory, SESSION_2_QUERIES[1:3], SESSION_2_WORDS)
    assert counts["topics_refitted"] > 0  # 4 of 10 turns went: refitted, and the new topics' hierarchy linked
    within = memory.cypher("MATCH (a:Topic)-[:WITHIN]->(b:Topic) WHERE a.namespace = $namespace "
                           "RETURN DISTINCT a.granularity AS child, b.granularity AS parent")
    assert {(r["child"], r["parent"]) for r in within} == {("event", "turn"), ("turn", "episode"), ("episode", "session")}

    # forgetting is not a tombstone: the same input can be ingested again
    assert memory.ingest(source).turns_added == 4
    assert memory.stats()["nodes"]["Turn"] == 10 and memory.check().ok


TIMED = {"id": "diary", "speakers": ["Ann", "Bo"], "sessions": [{"id": "1", "started_at": "2024-02-01T09:00:00", "turns": [
    {"id": "D:1", "speaker": "Ann", "text": "My bank PIN is hidden in the jam jar on the top shelf.", "timestamp": "2024-02-01T09:00:00"},
    {"id": "D:2", "speaker": "Bo", "text": "The jam jar is a clever hiding place for a PIN.", "timestamp": "2024-02-01T09:01:00"},
    {"id": "D:3", "speaker": "Ann", "text": "Anyway, the tulips in the garden are blooming early.", "timestamp": "2024-02-01T09:30:00"},
    {"id": "D:4", "speaker": "Bo", "text": "Tulips this early means a warm spring in the garden.", "timestamp": "2024-02-01T09:31:00"},
]}]}


def test_a_user_forgotten_or_corrected_away_leaves_no_name_behind(memory_factory):
    """Forgetting every message of one user (by metadata), or correcting a speaker's only message to
    another speaker, left their entity behind (entities() listed it with no event, entity() answered a
    profile) and the conversation still listed them: a forgotten user's name stayed in the memory."""
    memory = memory_factory()
    added = memory.add([{"speaker": "Alice", "text": "I bought a red kayak at the harbour shop yesterday.", "metadata": {"user": "u1"}},
                        {"speaker": "Bob", "text": "Nice, I sail my old boat on the lake every summer.", "metadata": {"user": "u2"}},
                        {"speaker": "Carol", "text": "I only swim in the public pool near my office.", "metadata": {"user": "u3"}},
                        {"speaker": "Dan", "text": "Dan here: I row on the river at dawn.", "metadata": {"user": "u4"}},
                        {"speaker": "Dan", "text": "And I fish on Sundays.", "metadata": {"user": "u4"}}], conversation="c")
    assert {e["name"] for e in memory.entities()} >= {"Alice", "Bob", "Carol", "Dan"}
    assert memory.forget(metadata={"user": "u2"})["entities"] >= 1
    memory.correct(added.turn_ids[2], speaker="Alice")          # Carol's only message was Alice's
    memory.correct(added.turn_ids[3], speaker="Alice")          # one of Dan's two: Dan still speaks
    names = {e["name"] for e in memory.entities()}
    assert "Bob" not in names and "Carol" not in names and "Dan" in names, names
    assert memory.entity("Bob") is None and memory.entity("Carol") is None
    assert memory.cypher("MATCH (c:Conversation) WHERE c.namespace = $namespace RETURN c.speakers AS s")[0]["s"] == ["Alice", "Dan"]
    assert memory.check().ok


def test_forget_before_a_time_recomputes_what_keeps_some_turns(tmp_path):
    settings = settings_for(tmp_path)
    with Memory.open(tmp_path / "store", "timed", settings=settings) as memory:
        memory.ingest(write_native(tmp_path, TIMED, "diary.json"))
        (tmp_path / "undated.txt").write_text("Ann: The jam jar recipe uses rhubarb.\nBo: Rhubarb jam is tart.\n", encoding="utf-8")
        memory.ingest(tmp_path / "undated.txt")  # no dates at all: never "before" anything
        counts = memory.forget(before="2024-02-01T09:10:00")
        assert counts["turns"] == 2 and counts["sessions"] == 0 and counts["sessions_updated"] == 1
        assert memory.stats()["nodes"]["Turn"] == 4

        remaining = memory.cypher("MATCH (t:Turn)-[:IN]->(s:Session) WHERE t.namespace = $namespace AND t.conversation_id = 'diary' "
                                  "RETURN t.source_id AS id, t.embedding AS v, s.embedding AS session, s.preview AS preview ORDER BY t.seq")
        assert [r["id"] for r in remaining] == ["D:3", "D:4"]
        mean = np.mean([r["v"] for r in remaining], axis=0)
        assert np.allclose(remaining[0]["session"], mean / np.linalg.norm(mean), atol=1e-5)
        assert "pin" not in remaining[0]["preview"].lower()
        episodes = memory.cypher("MATCH (t:Turn)-[:PART_OF]->(e:Episode) WHERE t.namespace = $namespace AND t.conversation_id = 'diary' "
                                 "RETURN DISTINCT e.text AS text, e.turn_count AS n, e.start_seq AS start")
        assert episodes and all("pin" not in e["text"].lower() for e in episodes)
        assert sum(e["n"] for e in episodes) == 2
        order = memory.cypher("MATCH (a:Turn)-[:NEXT]->(b:Turn) WHERE a.namespace = $namespace AND a.conversation_id = 'diary' "
                              "RETURN a.source_id AS a, b.source_id AS b")
        assert order == [{"a": "D:3", "b": "D:4"}]
        assert memory.stats()["nodes"]["Conversation"] == 2  # the undated transcript is untouched
        assert memory.check().ok
        assert not any(w in texts_in_namespace(memory) for w in ("pin", "hiding"))
        assert_never_found(memory, ("Where is the bank PIN hidden?",), ("pin", "hiding"))


CHAT = {"id": "club-chat", "speakers": ["Melanie", "Caroline"], "sessions": [
    {"id": "1", "started_at": "2023-05-08T13:56:00", "turns": [
        {"speaker": "Caroline", "text": "Hey Mel! I went to a pottery class yesterday and made a bowl."},
        {"speaker": "Melanie", "text": "I painted a sunrise over the lake last Saturday."}]},
    {"id": "2", "started_at": "2023-06-20T10:00:00", "turns": [
        {"speaker": "Melanie", "text": "Caroline, did you finish another bowl at the pottery studio?"},
        {"speaker": "Caroline", "text": "Yes, I glazed two pottery bowls in blue yesterday."}]},
]}


def test_aliases_go_with_the_last_mention_that_used_them(tmp_path):
    settings = settings_for(tmp_path)
    source = write_native(tmp_path, CHAT, "chat.json")
    with Memory.open(tmp_path / "store", "alias-1", settings=settings) as first, \
            Memory.open(tmp_path / "store", "alias-2", settings=settings) as second:
        for memory in (first, second):
            memory.ingest(source)
            assert {"mel", "melanie"} <= entity_keys(memory)
        first.forget(conversation="club-chat", session="1")  # "Hey Mel!" was said there
        assert "melanie" in entity_keys(first) and "mel" not in entity_keys(first)
        second.forget(conversation="club-chat", session="2")
        assert {"mel", "melanie"} <= entity_keys(second)
        aliases = second.cypher("MATCH (a:Entity)-[:ALIAS_OF]->(c:Entity) WHERE a.namespace = $namespace RETURN a.key AS a, c.key AS c")
        assert {"a": "mel", "c": "melanie"} in aliases
        assert first.check().ok and second.check().ok


def test_forget_is_one_transaction(tmp_path, monkeypatch):
    """A failure part-way through forgets nothing."""
    settings = settings_for(tmp_path)
    with Memory.open(tmp_path / "store", "atomic", settings=settings) as memory:
        memory.ingest(write_native(tmp_path))
        before = memory.stats()
        database = type(memory.store._db)
        original = database.command
        calls = [0]

        def failing(self, language, text, *args, **kwargs):
            if "DETACH DELETE" in text:
                calls[0] += 1
                if calls[0] == 3:  # events and turns are already deleted inside the transaction
                    raise RuntimeError("disk on fire")
            return original(self, language, text, *args, **kwargs)

        monkeypatch.setattr(database, "command", failing)
        with pytest.raises(StorageError):
            memory.forget(conversation="garden-chat")
        monkeypatch.setattr(database, "command", original)
        assert memory.stats() == before
        assert memory.check().ok
        assert memory.search("copper tape", k=1)[0].source_id == "G2:3"


def test_other_memories_of_the_namespace_never_return_forgotten_turns(tmp_path):
    settings = settings_for(tmp_path)
    with Memory.open(tmp_path / "store", "two-handles", settings=settings) as writer, \
            Memory.open(tmp_path / "store", "two-handles", settings=settings) as reader:
        writer.ingest(write_native(tmp_path))
        assert any(h.source_id == "G2:3" for h in reader.search("copper tape keeps slugs away", k=3))  # caches loaded
        writer.forget(conversation="garden-chat", session="2")
        assert_never_found(reader, SESSION_2_QUERIES[:2], SESSION_2_WORDS)


def test_forget_refuses_unclear_requests_and_matches_nothing_quietly(tmp_path):
    with Memory.open(tmp_path / "store", "refuse", settings=settings_for(tmp_path)) as memory:
        memory.ingest(write_native(tmp_path))
        before = memory.stats()
        for kwargs in ({}, {"session": "2"}, {"before": "last tuesday"}, {"before": 20240101}, {"conversation": ""},
                       {"conversation": 7}):
            with pytest.raises(InputError):
                memory.forget(**kwargs)
        assert memory.forget(conversation="no-such-chat")["turns"] == 0
        assert memory.forget(conversation="garden-chat", session="9")["turns"] == 0
        assert memory.forget(before="1999-01-01")["turns"] == 0
        assert memory.stats() == before


def test_cli_forget_asks_first_and_check_reports_clean(tmp_path):
    runner = CliRunner()
    store = str(tmp_path / "store")
    assert runner.invoke(app, ["ingest", str(write_native(tmp_path)), "--store", store, "-n", "cli"]).exit_code == 0
    declined = runner.invoke(app, ["forget", "--store", store, "-n", "cli", "--conversation", "garden-chat", "--session", "2"], input="n\n")
    assert declined.exit_code == 1 and "nothing forgotten" in declined.output
    done = runner.invoke(app, ["forget", "--store", store, "-n", "cli", "--conversation", "garden-chat", "--session", "2", "--yes", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["turns"] == 4
    check = runner.invoke(app, ["check", "--store", store, "-n", "cli", "--json"])
    assert check.exit_code == 0, check.output
    (report,) = json.loads(check.stdout)
    assert report["ok"] and report["problems"] == {} and report["counts"]["Turn"] == 6
    for asked in ([], ["--yes"]):  # says so, with or without the question
        unknown = runner.invoke(app, ["forget", "--store", store, "-n", "cli", "--turn", "turn:nope", *asked])
        assert unknown.exit_code == 0 and "nothing matches; nothing forgotten" in unknown.output, unknown.output
    bad = runner.invoke(app, ["forget", "--store", store, "-n", "cli", "--session", "2", "--yes"])
    assert bad.exit_code == 2 and "needs its conversation" in " ".join(bad.output.split())


def _filler_chat() -> dict:
    """56 turns on four subjects, each of nonsense words said once, but for two bakery turns
    that share "zeppelin": a word of the labels that only they give (a word said in one text
    only is no label term)."""
    rng = random.Random(3)

    def word() -> str:
        return "".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(3))

    subjects = ("my garden", "the bakery", "our band", "the harbour")
    turns = [{"id": f"F:{i}", "speaker": ("Ann", "Bo")[i % 2],
              "text": f"About {subjects[i % 4]}: {word()} {word()} {word()} {word()}."} for i in range(56)]
    for i in (5, 9):  # like the other bakery turns (no topic of their own), and one word in common
        turns[i]["text"] = "About the bakery: zeppelin " + turns[i]["text"].split(": ", 1)[1].split(" ", 1)[1]
    return {"id": "filler", "speakers": ["Ann", "Bo"], "sessions": [
        {"id": str(k + 1), "started_at": f"2024-03-0{k + 1}T10:00:00", "turns": turns[14 * k:14 * (k + 1)]} for k in range(4)]}


def _topics(memory: Memory) -> dict[str, dict]:
    return {r["id"]: r for r in memory.cypher("MATCH (t:Topic) WHERE t.namespace = $namespace "
                                              "RETURN t.id AS id, t.granularity AS g, t.terms AS terms, t.size AS size")}


def test_forgetting_a_few_messages_relabels_the_topics_in_place(memory_factory, tmp_path):
    """Two of 56 turns gave a label word: the topics are relabelled from what they hold, keep
    their ids and model (a later add from another Memory is assigned to them, nothing
    refitted), and the process's caches follow without a rebuild; on each backend."""
    memory = memory_factory()
    memory.ingest(write_native(tmp_path, _filler_chat(), "filler.json"))
    before = _topics(memory)
    assert any("zeppelin" in term for t in before.values() for term in t["terms"])
    assert memory.search("zeppelin", k=1, strategy="lexical")[0].source_id in ("F:5", "F:9")
    turn_ids = [r["id"] for r in memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace AND t.source_id IN ['F:5', 'F:9'] "
                                               "RETURN t.id AS id")]
    counts = memory.forget(turn=turn_ids)
    assert counts["turns"] == 2 and counts["topics_refitted"] == 0 and counts["topics_relabelled"] > 0, counts
    after = _topics(memory)
    assert set(after) == set(before)  # the same topics, relabelled
    assert sum(t["size"] for t in after.values() if t["g"] == "turn") == 54
    assert "zeppelin" not in texts_in_namespace(memory)
    states = memory.cypher("MATCH (t:Topic) WHERE t.namespace = $namespace AND t.model_state IS NOT NULL RETURN t.model_state AS s")
    assert len(states) == len({t["g"] for t in after.values()}) and not any("zeppelin" in r["s"] for r in states)
    assert_never_found(memory, ("zeppelin", "About the bakery: zeppelin"), ("zeppelin",))
    caches = memory._service().caches  # noqa: SLF001
    assert caches.last_refresh["projection"] == "patched" and len(caches.index("turn")) == 54
    assert memory.check().ok and memory.check().rebuilt == []

    writer = memory_factory(memory.namespace)  # another Memory: its live writer reads the relabelled model
    report = writer.add({"speaker": "Ann", "text": "About the bakery: the rye loaf was still warm."}, conversation="filler")
    placed = writer.cypher("MATCH (t:Turn {id: $id})-[:IN_TOPIC]->(c:Topic) RETURN c.id AS id", {"id": report.turn_ids[0]})
    assert placed and {r["id"] for r in placed} <= set(after)
    assert set(_topics(writer)) == set(after)  # assigned to the relabelled model's topics: no refit


def test_whether_a_label_word_is_still_said_is_probed_on_a_few_members(tmp_path, monkeypatch):
    """After a forget a label term is looked for in a few members holding its words; the topic's
    texts are read whole only when those few hold the words inside longer ones ("ban" in "band")."""
    from graphmem.ingest.clustering import PROBE_TEXTS, ClusteringStage
    from graphmem.ids import namespace_slug

    with Memory.open(tmp_path / "store", "probe", settings=settings_for(tmp_path)) as memory:
        memory.ingest(write_native(tmp_path, _filler_chat(), "filler.json"))
        store = memory.store
        stage = ClusteringStage(store, lambda unit: None, store.cache_dir(namespace_slug("probe")), "probe", batch_size=100,
                                preload=False)
        model, topic_ids, _ = stage._read_model("turn", store.read("read/topic_model", {"namespace": "probe", "granularity": "turn"}))  # noqa: SLF001
        band = next(t for t, terms in enumerate(model.topic_terms_) if "band" in terms)
        members = store.read("read/topic_member_texts_of_turn", {"namespace": "probe", "topics": [topic_ids[band]]})
        assert sum("our band" in r["text"] for r in members) > PROBE_TEXTS
        model.topic_terms_[band] = [*model.topic_terms_[band], "ban", "qzx"]
        reads: list[str] = []
        read = store.read
        monkeypatch.setattr(store, "read", lambda name, params=None: reads.append(name) or read(name, params))

        def lost(forgotten: set[str]) -> bool:
            reads.clear()
            return stage._labels_lost_words("turn", model, topic_ids, forgotten)  # noqa: SLF001

        assert not lost({"band", "unrelated"}) and reads == ["read/topic_member_probe_of_turn"]
        assert lost({"qzx"}) and reads == ["read/topic_member_probe_of_turn"]  # no member holds the word
        assert lost({"ban"}) and reads == ["read/topic_member_probe_of_turn", "read/topic_member_texts_of_turn"]
        assert not lost({"unrelated"}) and reads == []  # no label has the word


def test_the_chain_is_joined_around_each_forgotten_run_from_its_neighbours():
    from graphmem.forget import _chain_gaps

    def rows(chain: list[str], deleted: set[str]) -> list[dict]:
        at = {item: 10 * i for i, item in enumerate(chain)}
        near = lambda item: [{"id": item, "seq": at[item]}] if item is not None else []  # noqa: E731
        return [{"id": d, "seq": at[d], "before": near(chain[at[d] // 10 - 1] if at[d] else None),
                 "after": near(chain[at[d] // 10 + 1] if at[d] // 10 + 1 < len(chain) else None)} for d in sorted(deleted)]

    chain = list("abcdefgh")
    assert _chain_gaps(rows(chain, {"b", "c", "f"}), {"b", "c", "f"}) == [{"src": "a", "dst": "d"}, {"src": "e", "dst": "g"}]
    assert _chain_gaps(rows(chain, {"a", "b", "h"}), {"a", "b", "h"}) == []  # at the ends nothing is joined
    assert _chain_gaps(rows(chain, set(chain)), set(chain)) == []
    assert _chain_gaps([], set()) == []
    forked = rows(chain, {"c"})
    forked[0]["before"].append({"id": "a", "seq": 0})
    assert _chain_gaps(forked, {"c"}) is None  # two turns before it: damage, joined by sequence instead
    backwards = rows(chain, {"c"})
    backwards[0]["after"] = [{"id": "a", "seq": 0}]
    assert _chain_gaps(backwards, {"c"}) is None
    assert _chain_gaps(rows(chain, {"c"}), {"c", "zz"}) is None  # a forgotten item the rows do not give
    unordered = rows(chain, {"c"})
    unordered[0]["before"][0]["seq"] = None
    assert _chain_gaps(unordered, {"c"}) is None


def test_a_forget_joins_the_chain_around_each_run_and_by_sequence_where_the_chain_forks(tmp_path, caplog):
    """Two runs forgotten at once are each joined from their neighbours; where the chain around a
    forgotten turn forks (damage), the order comes from the turns' positions, as check expects."""
    lines = [("Ann" if i % 2 else "Bo", f"Message number {i} about the allotment and the weather.") for i in range(1, 9)]
    doc = {"id": "chain", "speakers": ["Ann", "Bo"], "sessions": [
        {"id": "1", "started_at": "2024-03-01T10:00:00",
         "turns": [{"id": f"C:{i}", "speaker": sp, "text": text} for i, (sp, text) in enumerate(lines, 1)]}]}

    def order(memory: Memory) -> list[tuple[str, str]]:
        return sorted((r["a"], r["b"]) for r in memory.cypher(
            "MATCH (a:Turn)-[:NEXT]->(b:Turn) WHERE a.namespace = $namespace RETURN a.source_id AS a, b.source_id AS b"))

    def ids(memory: Memory, *sources: str) -> list[str]:
        return [r["id"] for r in memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace AND t.source_id IN $s RETURN t.id AS id",
                                               {"s": list(sources)})]

    with Memory.open(tmp_path / "store", "chain", settings=settings_for(tmp_path)) as memory:
        memory.ingest(write_native(tmp_path, doc, "chain.json"))
        assert memory.forget(turn=ids(memory, "C:2", "C:3", "C:6"))["turns"] == 3
        assert order(memory) == [("C:1", "C:4"), ("C:4", "C:5"), ("C:5", "C:7"), ("C:7", "C:8")]
        assert memory.check().ok
        memory.cypher("MATCH (a:Turn {source_id: 'C:1'}), (b:Turn {source_id: 'C:5'}) WHERE a.namespace = $namespace "
                      "AND b.namespace = $namespace CREATE (a)-[:NEXT]->(b)", write=True)
        assert not memory.check().ok  # the fork is damage check names
        with caplog.at_level("WARNING", logger="graphmem.forget"):
            assert memory.forget(turn=ids(memory, "C:5"))["turns"] == 1
        assert "joining it by sequence" in caplog.text
        assert ("C:4", "C:7") in order(memory) and ("C:5", "C:7") not in {(a, b) for a, b in order(memory)}


def test_a_forgotten_turns_speaker_stays_one_while_a_turn_of_theirs_remains(tmp_path):
    """The speaker test behind deleting an unused entity: by the conversations' speaker lists,
    then by a few turns of the forgotten turns' speakers, then by every speaker's turn count."""
    from graphmem.forget import _Planner

    with Memory.open(tmp_path / "store", "speakers", settings=settings_for(tmp_path)) as memory:
        memory.ingest(write_native(tmp_path, TIMED, "diary.json"))
        memory.cypher("MATCH (c:Conversation) WHERE c.namespace = $namespace SET c.speakers = []", write=True)
        turns = memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.id AS id, t.speaker AS speaker, "
                              "t.source_id AS source ORDER BY t.seq")
        ann = [t for t in turns if t["speaker"] == "Ann"]
        planner = _Planner(memory.store, "speakers", 100)
        keys = {"ann", "bo", "zed"}
        assert planner._still_speakers(keys, ann[:1], set()) == {"ann", "bo"}  # noqa: SLF001
        assert planner._still_speakers(keys, ann, set()) == {"bo"}  # noqa: SLF001
        assert planner._still_speakers(keys, turns, set()) == set()  # noqa: SLF001
        memory.cypher("MATCH (c:Conversation) WHERE c.namespace = $namespace SET c.speakers = ['Ann']", write=True)
        assert planner._still_speakers(keys, turns, set()) == {"ann"}  # noqa: SLF001
        conversation = memory.cypher("MATCH (c:Conversation) WHERE c.namespace = $namespace RETURN c.id AS id")[0]["id"]
        assert planner._still_speakers(keys, turns, {conversation}) == set()  # noqa: SLF001


@pytest.mark.parametrize("limit", [5, 2000])
def test_a_forget_beyond_what_a_marker_entry_lists_rebuilds_the_caches(tmp_path, monkeypatch, limit):
    """Session 2 of the garden chat is 10 units (turns, events, its episode and session): past a
    limit of 5 the forgetting Memory drops its caches (as every other process does), below the
    real limit it updates them; either way nothing forgotten is found and check is clean."""
    monkeypatch.setattr("graphmem.memory.MAX_LOGGED_IDS", limit)
    with Memory.open(tmp_path / "store", "large", settings=settings_for(tmp_path)) as memory:
        memory.ingest(write_native(tmp_path))
        assert any(h.source_id == "G2:3" for h in memory.search("copper tape keeps slugs away", k=3))
        kept = memory._search  # noqa: SLF001
        assert memory.forget(conversation="garden-chat", session="2")["turns"] == 4
        assert (memory._search is kept) == (limit == 2000)  # noqa: SLF001
        assert_never_found(memory, SESSION_2_QUERIES[1:3], SESSION_2_WORDS)
        assert memory.check().ok and memory.check().rebuilt == []


def test_forgetting_a_conversation_forgets_a_speaker_a_correction_replaced(tmp_path):
    """A correction may change who said a message; the old speaker stays listed by the conversation
    (and so stays an entity) until the conversation goes. Before, forgetting it left that speaker's
    entity behind, and check reported it unreferenced (found by a hypothesis run over add, correct and
    forget)."""
    with Memory.open(tmp_path / "store", "speakers", settings=settings_for(tmp_path)) as memory:
        memory.add([{"speaker": "Zed", "text": "We planted tulips.", "id": "m1"}], conversation="garden")
        memory.add([{"speaker": "Yan", "text": "We planted tulips.", "id": "m1"}], conversation="garden")  # who said it, corrected
        memory.add([{"speaker": "Ann", "text": "I fixed the bike."}], conversation="bikes")
        assert memory.check().ok
        # a second correction: "Yan", whom only a correction brought, no longer says anything; the
        # conversation still lists Yan, so Yan's entity is no orphan (before: the list lacked Yan)
        memory.add([{"speaker": "Xia", "text": "We planted tulips.", "id": "m1"}], conversation="garden")
        assert memory.check().ok, memory.check().problems
        counts = memory.forget(conversation="garden")
        assert counts["conversations"] == 1 and memory.check().ok, memory.check().problems
        names = {r["key"] for r in memory.cypher("MATCH (e:Entity) WHERE e.namespace = $namespace RETURN e.key AS key")}
        assert not names & {"zed", "yan", "xia"} and "ann" in names


_SPEAKERS = st.sampled_from(["Ann", "Bo", "Cy", "Dee"])
_TEXTS = st.sampled_from(["We met Lisa in Paris.", "The tulips bloomed.", "I sold my bike to Omar.", "ok", "Tea?"])
_STEPS = st.lists(st.one_of(
    st.tuples(st.just("add"), st.sampled_from(["c1", "c2"]), _SPEAKERS, _TEXTS, st.sampled_from([None, "m1", "m1", "m2"])),
    # a correction and a new message in one call, maybe into another session
    st.tuples(st.just("add two"), st.sampled_from(["c1", "c2"]), _TEXTS, _TEXTS, st.sampled_from([None, "s2"])),
    st.tuples(st.just("forget conversation"), st.sampled_from(["c1", "c2"])),
    st.tuples(st.just("forget a turn"), st.integers(0, 5))), min_size=1, max_size=10)


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory):
    directory = tmp_path_factory.mktemp("forget-steps")
    return directory / "store", settings_for(directory)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True)
@given(steps=_STEPS)
def test_check_stays_clean_through_any_adds_corrections_and_forgets(shared_store, steps):
    """Random adds (some correcting m1/m2, who said it included, some correcting and appending in one
    call), forgets of a conversation and of single turns: after every step check is clean (no orphan
    entity, episode, session or link, no unit vector that is not its turns' mean).
    Derandomized, so the same sequences run every time; they fail on the code before a648021 (a
    speaker only a correction brought, then corrected away, left an unreferenced entity)."""
    location, config = shared_store
    with Memory.open(location, new_namespace("steps"), settings=config) as memory:
        for step in steps:
            if step[0] == "add":
                _, conversation, speaker, text, message_id = step
                message = {"speaker": speaker, "text": text, **({"id": message_id} if message_id else {})}
                memory.add([message], conversation=conversation)
            elif step[0] == "add two":
                _, conversation, corrected, new, session = step
                memory.add([{"speaker": "Ann", "text": corrected, "id": "m1"}, {"speaker": "Bo", "text": new}],
                           conversation=conversation, **({"session": session} if session else {}))
            elif step[0] == "forget conversation":
                memory.forget(conversation=step[1])
            else:
                turns = [r["id"] for r in memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace "
                                                        "RETURN t.id AS id ORDER BY id")]
                if turns:
                    memory.forget(turn=[turns[step[1] % len(turns)]])
            report = memory.check()
            assert report.ok, (step, report.problems)


def _beatrice(memory: Memory, conversation: str, text: str, stamp: str) -> list[str]:
    """Add a short made-up chat naming Beatrice in ``text``; returns its turn ids."""
    return memory.add([{"speaker": "Nina", "text": text, "timestamp": f"{stamp}T09:00:00"},
                       {"speaker": "Omar", "text": "The garden beds need more compost this spring.", "timestamp": f"{stamp}T09:01:00"},
                       {"speaker": "Nina", "text": "My sister Beatrice called about the reunion.", "timestamp": f"{stamp}T09:02:00"}],
                      conversation=conversation).turn_ids


def _assert_beatrice_without_surname(memory: Memory) -> None:
    for name in ("Beatrice", "beatrice"):
        profile = memory.entity(name)
        assert profile is not None and profile["name"] == "Beatrice" and profile["key"] == "beatrice", profile
        assert profile["aliases"] == [] and profile["turns"] == {"mention": 1}, profile
    assert memory.entity("Beatrice Hargreave") is None
    assert "Beatrice" in {e["name"] for e in memory.entities()}
    assert not any("hargreave" in key for key in entity_keys(memory))  # (a correction keeps the old text as a version)
    assert "hargreave" not in json.dumps(memory.cypher("MATCH (:Event)-[r:INVOLVES]->(n:Entity) WHERE n.namespace = $namespace "
                                                       "RETURN r.surface AS s, r.surface_key AS k, n.name AS n")).lower()
    report = memory.check()
    assert report.ok, report.to_dict()


def test_a_forgotten_surname_does_not_stay_the_name_of_an_entity_an_alias_keeps(tmp_path):
    """chat-a named "Beatrice Hargreave", chat-b only "Beatrice" (resolved as her alias): after
    forgetting chat-a, entity("Beatrice") still answered with the name 'Beatrice Hargreave' and the
    key 'beatrice hargreave', a surname only forgotten messages said. The alias is promoted: it
    becomes the canonical entity, with the remaining mentions, and the old one goes."""
    settings = settings_for(tmp_path)
    with Memory.open(tmp_path / "store", "surname", settings=settings) as memory:
        _beatrice(memory, "chat-a", "Beatrice Hargreave said she would visit the lake.", "2024-03-01")
        _beatrice(memory, "chat-b", "We planted tulips along the fence.", "2024-03-05")
        assert memory.entity("Beatrice")["name"] == "Beatrice Hargreave"
        memory.forget(conversation="chat-a")
        _assert_beatrice_without_surname(memory)
        assert "hargreave" not in texts_in_namespace(memory)
        memory.add({"speaker": "Nina", "text": "Beatrice brought a cake to the party.", "timestamp": "2024-03-06T10:00:00"},
                   conversation="chat-b")  # the promoted entity takes new mentions
        assert memory.entity("Beatrice")["turns"] == {"mention": 2}
        assert memory.check().ok
    with Memory.open(tmp_path / "store", "surname", settings=settings) as memory:  # a new process finds her too
        assert memory.entity("Beatrice")["turns"] == {"mention": 2}


def test_a_surname_corrected_away_does_not_stay_the_name_of_an_entity(tmp_path):
    """The same after a correction removing the only message with the surname."""
    settings = settings_for(tmp_path)
    with Memory.open(tmp_path / "store", "surname-fix", settings=settings) as memory:
        turns = _beatrice(memory, "chat-a", "Beatrice Hargreave said she would visit the lake.", "2024-03-01")
        assert memory.entity("Beatrice")["name"] == "Beatrice Hargreave"
        memory.correct(turns[0], text="She said she would visit the lake.")
        _assert_beatrice_without_surname(memory)


def _zeppelin_turns(memory: Memory) -> list[str]:
    return [r["id"] for r in memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace AND t.source_id IN ['F:5', 'F:9'] "
                                           "RETURN t.id AS id ORDER BY t.seq")]


def _label_words(memory: Memory) -> str:
    return json.dumps(memory.cypher("MATCH (t:Topic) WHERE t.namespace = $namespace "
                                    "RETURN t.label AS label, t.terms AS terms, t.model_state AS state")).lower()


def test_a_correction_relabels_the_topics_that_kept_a_word_only_the_old_texts_gave(tmp_path):
    """Correcting away the two texts that gave a label its word left "zeppelin" in the labels:
    only a forget ran the labels' check. A correction now runs it with the old texts' words."""
    with Memory.open(tmp_path / "store", "relabel-fix", settings=settings_for(tmp_path)) as memory:
        memory.ingest(write_native(tmp_path, _filler_chat(), "filler.json"))
        assert "zeppelin" in _label_words(memory)
        before = set(_topics(memory))
        for turn in _zeppelin_turns(memory):
            assert memory.correct(turn, text="About the bakery: the rye loaf was still warm.").corrected == 1
        assert "zeppelin" not in _label_words(memory)
        assert set(_topics(memory)) == before  # relabelled in place: nothing refitted
        assert memory.check().ok
        report = memory.add({"speaker": "Ann", "text": "About the bakery: the oven runs hot today."}, conversation="filler")
        assert report.added == 1 and "zeppelin" not in _label_words(memory)  # the live writer's models were read again


def test_a_file_ingested_again_with_corrected_texts_relabels_the_topics(tmp_path):
    """The same through a batch re-ingest of the file with the two texts changed."""
    chat = _filler_chat()
    with Memory.open(tmp_path / "store", "relabel-file", settings=settings_for(tmp_path)) as memory:
        memory.ingest(write_native(tmp_path, chat, "filler.json"))
        assert "zeppelin" in _label_words(memory)
        for turn in chat["sessions"][0]["turns"]:
            if turn["id"] in ("F:5", "F:9"):
                turn["text"] = "About the bakery: the rye loaf was still warm."
        assert memory.ingest(write_native(tmp_path, chat, "filler.json")).turns_corrected == 2
        assert "zeppelin" not in _label_words(memory)
        assert memory.check().ok


def test_a_forget_counts_the_corrected_away_texts_among_the_forgotten(tmp_path):
    """A forget deletes the turns' earlier versions; their words were not among the forgotten
    (ForgetPlan.texts), so a label kept from an old text was never checked."""
    from graphmem.forget import ForgetSelection, plan_forget

    with Memory.open(tmp_path / "store", "versions", settings=settings_for(tmp_path)) as memory:
        memory.ingest(write_native(tmp_path, _filler_chat(), "filler.json"))
        turns = _zeppelin_turns(memory)
        for turn in turns:
            memory.correct(turn, text="About the bakery: the rye loaf was still warm.")
        plan = plan_forget(memory.store, "versions", ForgetSelection(turns=tuple(turns)))
        assert sum("zeppelin" in text for text in plan.texts) == 2, plan.texts
        counts = memory.forget(turn=turns)
        assert counts["turns"] == 2 and "zeppelin" not in _label_words(memory)
        assert memory.check().ok


def _saved_vocabularies(store) -> dict[str, set[str]]:
    from pathlib import Path

    return {str(path.parent.parent.name): set(json.loads(path.read_text(encoding="utf-8")))
            for path in Path(store).glob("cache/*/lexical/*/bm25s/vocab.index.json")}


SECRET = ["My passport number is ZQ-77731.", "I live at 12 Quillfeather Lane near Zorbington."]
SECRET_TERMS = {"zq", "77731", "quillfeath", "zorbington"}


def _secret_chat(memory: Memory) -> list[str]:
    turns = memory.add([{"speaker": "Ann", "text": text} for text in
                        ["We should plan the garden beds for spring.", SECRET[0], "The tomatoes need more sunlight this year.",
                         SECRET[1], "I bought new seeds at the market on Saturday.", "Our dog chased the cat again."]],
                       conversation="c").turn_ids
    return [turns[1], turns[3]]


def test_a_long_running_process_saves_no_forgotten_word_in_its_bm25_vocabulary(tmp_path):
    """A search after the forget updates the BM25 index in place; on close it was saved with every
    forgotten word in its vocabulary (bm25s's vocab.index.json)."""
    store = tmp_path / "store"
    with Memory.open(store, "vocab", settings=settings_for(tmp_path)) as memory:
        secret = _secret_chat(memory)
        memory.search("garden", k=1, strategy="lexical")
        memory.forget(turn=secret)
        after = [h.node_id for h in memory.search("garden tomatoes seeds", k=5, strategy="lexical")]
        assert after and not set(after) & set(secret)
    vocabularies = _saved_vocabularies(store)
    assert set(vocabularies) == {"turn", "episode"}
    assert all(not SECRET_TERMS & words for words in vocabularies.values()), vocabularies
    with Memory.open(store, "vocab", settings=settings_for(tmp_path)) as memory:
        assert memory.check().caches_rebuilt == []
        assert [h.node_id for h in memory.search("garden tomatoes seeds", k=5, strategy="lexical")] == after


def test_check_rebuilds_a_saved_bm25_index_whose_vocabulary_lists_forgotten_words(tmp_path, monkeypatch):
    """An index saved before the vocabulary was pruned (as this one, pruning undone) lists forgotten
    words: check names it among the caches rebuilt and rebuilds it from the stored texts."""
    from graphmem.retrieve.lexical import _Postings

    store = tmp_path / "store"
    with monkeypatch.context() as patched:
        patched.setattr(_Postings, "pruned", _Postings.flat)  # the saves of an earlier version
        with Memory.open(store, "old-vocab", settings=settings_for(tmp_path)) as memory:
            secret = _secret_chat(memory)
            memory.search("garden", k=1, strategy="lexical")
            memory.forget(turn=secret)
            after = [h.node_id for h in memory.search("garden tomatoes seeds", k=5, strategy="lexical")]
    assert all(SECRET_TERMS <= words for words in _saved_vocabularies(store).values())
    with Memory.open(store, "old-vocab", settings=settings_for(tmp_path)) as memory:
        report = memory.check()
        assert report.ok and sorted(report.caches_rebuilt) == ["episode BM25 vocabulary", "turn BM25 vocabulary"], report.to_dict()
        assert "rebuilt the turn BM25 vocabulary, episode BM25 vocabulary (listing words no stored text has" in report.summary()
        assert all(not SECRET_TERMS & words for words in _saved_vocabularies(store).values())
        assert [h.node_id for h in memory.search("garden tomatoes seeds", k=5, strategy="lexical")] == after
        assert memory.check().caches_rebuilt == []


def test_a_session_started_by_a_forgotten_first_message_starts_at_the_first_kept_one(tmp_path):
    """forget(before=) took a session's first messages but the session kept their time as its start
    (the conversations recipe, a session's hit time and a session time_range search showed it); a
    session given its own start keeps it."""
    messages = [{"speaker": "Ann", "text": f"Message number {i} about the garden beds.", "timestamp": f"2024-03-01T{7 + i:02d}:00:00"}
                for i in range(6)]
    messages[0]["text"] = "At 7am I went to the clinic for my blood test."
    with Memory.open(tmp_path / "store", "start", settings=settings_for(tmp_path)) as memory:
        memory.add(messages, conversation="c", session="s1")  # started by its first message
        memory.add([dict(m, timestamp=m["timestamp"].replace("03-01", "03-02")) for m in messages], conversation="d",
                   session="s1", session_started_at="2024-03-02T06:30:00")  # given its start
        assert memory.forget(conversation="c", before="2024-03-01T10:00:00")["turns"] == 3
        assert memory.forget(conversation="d", before="2024-03-02T10:00:00")["turns"] == 3
        sessions = {r["c"]: r for r in memory.cypher("MATCH (s:Session) WHERE s.namespace = $namespace "
                                                     "RETURN s.conversation_id AS c, s.started_at AS started, s.date_text AS text")}
        assert sessions["c"]["started"] == "2024-03-01T10:00:00" and sessions["c"]["text"] == "2024-03-01T10:00:00", sessions
        assert sessions["d"]["started"] == "2024-03-02T06:30:00", sessions
        assert not memory.search("garden beds", k=5, unit="session", time_range=("2024-03-01T06:00", "2024-03-01T09:59"))
        assert memory.check().ok


# A child that opens the store, makes the step after the forget's (or correction's) commit kill
# the process with SIGKILL, and forgets (or corrects) the two turns that gave "zeppelin".
_DIE_BEFORE_THE_TOPICS = """
import os, signal, sys
from graphmem import Memory, Settings
store, index_dir, what = sys.argv[1:4]
memory = Memory.open(store, "killed", settings=Settings(jvm_heap="512m", index_dir=index_dir))
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
Memory._relabel_topics = die  # the topics' own transaction, after the forget or correction committed
turns = [r["id"] for r in memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace AND t.source_id IN ['F:5', 'F:9'] "
                                        "RETURN t.id AS id ORDER BY t.seq")]
if what == "forget":
    memory.forget(turn=turns)
else:  # both in one add (one transaction): the messages sent again with new texts
    memory.add([{"id": m["source_id"], "speaker": m["speaker"], "text": "About the bakery: the rye loaf was still warm."}
                for m in memory.messages("filler") if m["source_id"] in ("F:5", "F:9")], conversation="filler")
"""


@pytest.mark.parametrize("what", ["forget", "correct"])
def test_check_names_the_label_words_a_kill_before_the_topics_transaction_left(tmp_path, what):
    """SIGKILL between a forget's (or a correction's) commit and the transaction that relabels
    the topics left "zeppelin", said by no stored text, in the topics' labels, and check said
    clean. Check now names those topics (by id, not the words); recluster labels them again."""
    import subprocess
    import sys

    settings = settings_for(tmp_path)
    store = tmp_path / "store"
    with Memory.open(store, "killed", settings=settings) as memory:
        memory.ingest(write_native(tmp_path, _filler_chat(), "filler.json"))
        assert "zeppelin" in _label_words(memory) and memory.check().ok
    child = subprocess.run([sys.executable, "-c", _DIE_BEFORE_THE_TOPICS, str(store), str(settings.index_dir), what],
                           capture_output=True, text=True, timeout=300)
    assert child.returncode == -9, child.stderr[-2000:]
    with Memory.open(store, "killed", settings=settings) as memory:
        assert not any("zeppelin" in m["text"] for m in memory.messages("filler"))  # committed
        assert "zeppelin" in _label_words(memory)  # what the kill left
        report = memory.check()
        assert not report.ok and report.problems.keys() == {"topics_with_words_no_member_gives"}, report.to_dict()
        named = report.problems["topics_with_words_no_member_gives"]
        holding = {r["id"] for r in memory.cypher("MATCH (t:Topic) WHERE t.namespace = $namespace RETURN t.id AS id, "
                                                  "t.label AS label, t.terms AS terms") if "zeppelin" in json.dumps(r)}
        assert set(named) == holding and "zeppelin" not in json.dumps(report.to_dict())
        memory.recluster()
        assert "zeppelin" not in _label_words(memory)
        assert memory.check().ok
